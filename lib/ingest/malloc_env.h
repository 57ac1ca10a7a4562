/*
 * malloc_env.h - the glibc malloc settings the receiver runs with
 * (GLIBC_TUNABLES, set by `lacre ingest` before it execs lacre-ingest):
 * memory in 2 MiB transparent huge pages, so that the receiver's buffers
 * are not faulted in 4 KiB at a time.  Why, and what it costs: see
 * malloc_env.c.
 */
#ifndef LACRE_INGEST_MALLOC_ENV_H
#define LACRE_INGEST_MALLOC_ENV_H

#include <stddef.h>

/* The receiver's settings, added to what GLIBC_TUNABLES already holds. */
#define INGEST_MALLOC_TUNABLES "glibc.malloc.hugetlb=1:glibc.malloc.top_pad=67108864"

/* The GLIBC_TUNABLES value for the receiver, given the current one (NULL
 * or empty: none): `cur` with INGEST_MALLOC_TUNABLES after it, unless
 * `cur` already names glibc.malloc.hugetlb or glibc.malloc.top_pad (the
 * operator's choice is kept: then `cur` as it is).  Returns 0, or -1 when
 * out does not hold the result (out_len bytes, NUL included). */
int ingest_malloc_tunables(const char *cur, char *out, size_t out_len);

#endif

/*
 * copy_pool.h - memory for the PDUs the accounting keeps for hash checks
 * (accounting.c, integrity_retain): each thread copies into its own 2 MiB
 * chunk, any thread frees, and a chunk whose copies are all freed is
 * reused by the next thread that needs one.  Why not malloc, and the
 * bound on its memory: see copy_pool.c.
 */
#ifndef LACRE_INGEST_COPY_POOL_H
#define LACRE_INGEST_COPY_POOL_H

#include <stddef.h>
#include <stdint.h>

#define COPY_POOL_CHUNK ((size_t)2 << 20)        /* one huge page */
#define COPY_POOL_MAX   (COPY_POOL_CHUNK / 8)    /* larger copies: the caller mallocs */

/* n bytes (n <= COPY_POOL_MAX), 16-byte aligned, from this thread's chunk;
 * NULL when n is larger or no memory is left. */
void *copy_pool_alloc(size_t n);
/* Give back what copy_pool_alloc returned, from any thread. */
void copy_pool_free(void *p);

struct copy_pool_stats {
	uint64_t chunks_mapped;     /* chunks ever mapped (never unmapped) */
	uint64_t chunks_reused;     /* chunks taken again after all their copies were freed */
	uint64_t chunks_free;       /* chunks all of whose copies are freed, waiting */
};
void copy_pool_stats_get(struct copy_pool_stats *st);

#endif

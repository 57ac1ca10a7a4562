/*
 * malloc_env.c - the receiver's malloc settings (malloc_env.h).
 *
 * Why (issue 15): on a virtual machine a page fault costs ~10 us, and the
 * receiver's buffers grow and are first written while it ingests: each
 * segment's commitment array, each stream's duplicate window, the
 * closer's leaf bundles.  With glibc's default 4 KiB pages, 300 MB of
 * cc-mixed took 22,000 faults beyond the copy pool's (copy_pool.c), and
 * with two workers faulting at once each fault cost more: two workers
 * spent 15 % more CPU per PDU than one.  glibc.malloc.hugetlb=1 asks the
 * kernel for transparent huge pages (madvise MADV_HUGEPAGE) on what malloc
 * maps; glibc advises only a new heap's first extent, so top_pad = 64 MiB
 * makes that extent a thread arena's whole heap (HEAP_MAX_SIZE, 64 MiB on
 * 64-bit), and the main arena grows 64 MiB at a time.  Measured on the
 * 2-vCPU machine (cc-mixed, 8 connections, 300 MB; docs/performance.md
 * "Stop 25"): faults 22,000 -> 2,600, and two workers spend no more CPU
 * per PDU than one.
 *
 * The cost: memory is reserved 64 MiB at a time (address space, not
 * memory), a touched 2 MiB range may be resident whole (some 25 MB more
 * at the high-water mark in that run), and up to 64 MiB freed at the top
 * of a heap is kept rather than given back.  When the kernel has
 * transparent huge pages off ("never"), the advice does nothing.  These
 * are settings, not code: an operator who names glibc.malloc.hugetlb or
 * glibc.malloc.top_pad in GLIBC_TUNABLES keeps theirs.
 */
#include <stdio.h>
#include <string.h>

#include "ingest/malloc_env.h"

/* Does the tunables list cur set `name` (a whole name before '=')? */
static int names(const char *cur, const char *name)
{
	size_t n = strlen(name);
	const char *p = cur;

	while (p && *p) {
		if (strncmp(p, name, n) == 0 && p[n] == '=')
			return 1;
		p = strchr(p, ':');
		if (p)
			p++;
	}
	return 0;
}

/* See malloc_env.h. */
int ingest_malloc_tunables(const char *cur, char *out, size_t out_len)
{
	int n;

	if (!cur)
		cur = "";
	if (names(cur, "glibc.malloc.hugetlb") || names(cur, "glibc.malloc.top_pad"))
		n = snprintf(out, out_len, "%s", cur);
	else
		n = snprintf(out, out_len, "%s%s%s", cur, *cur ? ":" : "", INGEST_MALLOC_TUNABLES);
	return n < 0 || (size_t)n >= out_len ? -1 : 0;
}

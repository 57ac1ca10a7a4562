/*
 * copy_pool.c - memory for the PDUs kept for hash checks (copy_pool.h).
 *
 * Why not malloc (issue 15): the accounting keeps up to integrity_retain
 * (64 MiB by default) of copies, made by every worker and evicted oldest
 * first by whichever worker holds the accounting lock.  From malloc, that
 * memory came in 4 KiB pages, each first touched by a page fault: of the
 * receiver's 36,000-40,000 faults for 300 MB of cc-mixed, about 80 % were
 * the copies', and a fault costs ~10 us on a virtual machine (a sixth of
 * the receiver's CPU for all of them); and a copy freed by another worker
 * waited for its maker's arena lock.  Here each thread copies into
 * its own 2 MiB chunk, asked of the kernel as one huge page
 * (MADV_HUGEPAGE), and chunks are kept: a chunk whose copies are all
 * freed goes on the pool's free stack and is written again by whichever
 * thread needs one next, never faulted again.  A free is one atomic
 * decrement of the chunk's count; the free stack's lock is taken once a
 * chunk (some 2,000 cc-mixed copies).
 *
 * Memory stays bounded by what the accounting keeps: copies are evicted
 * oldest first, and a thread fills its chunks in time order, so a chunk
 * holding none of the newest integrity_retain bytes of copies is free.
 * Held at once: at most those bytes in chunks, plus two partly used
 * chunks per thread (the one being filled, and its oldest still holding a
 * retained copy); a chunk is mapped only when none is free, and none is
 * ever unmapped.
 *
 * A chunk's count starts at BIAS when a maker takes it; each free takes
 * one off; when the maker moves on (the chunk is full) it takes off BIAS
 * minus the copies it made.  The count reaches 0 once, after the last of
 * both: whoever brings it there puts the chunk on the free stack.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "ingest/copy_pool.h"

#define BIAS ((int64_t)1 << 40)  /* > any chunk's copies */
#define HEAD 64                  /* the chunk's header, one cache line */

struct chunk {
	struct chunk *next;      /* on the free stack */
	int64_t refs;            /* BIAS - copies freed, until its maker moves on */
};

static pthread_mutex_t free_mu = PTHREAD_MUTEX_INITIALIZER;
static struct chunk *free_head;  /* chunks all of whose copies are freed */
static uint64_t n_mapped, n_reused, n_free;   /* n_free: under free_mu */

/* One thread's place in the pool. */
struct maker {
	struct chunk *cur;       /* being filled, or NULL */
	size_t used;             /* bytes of cur given out, header included */
	int64_t given;           /* copies made in cur */
	int started;
};

static _Thread_local struct maker me;
static pthread_key_t exit_key;
static pthread_once_t exit_once = PTHREAD_ONCE_INIT;

/* Take n off c's count; the one who brings it to 0 frees the chunk. */
static void chunk_put(struct chunk *c, int64_t n)
{
	if (__atomic_sub_fetch(&c->refs, n, __ATOMIC_ACQ_REL) != 0)
		return;
	pthread_mutex_lock(&free_mu);
	c->next = free_head;
	free_head = c;
	n_free++;
	pthread_mutex_unlock(&free_mu);
}

/* The maker is done with cur: its count no longer waits for more copies. */
static void retire(struct maker *m)
{
	if (m->cur)
		chunk_put(m->cur, BIAS - m->given);
	m->cur = NULL;
}

/* A thread that ends is done with its chunk. */
static void on_exit_thread(void *v)
{
	retire(v);
}

static void exit_key_make(void)
{
	(void)pthread_key_create(&exit_key, on_exit_thread);
}

/* A fresh chunk, 2 MiB-aligned so that a copy finds its header and the
 * kernel can back it with one huge page. */
static struct chunk *chunk_map(void)
{
	uint8_t *p, *a;
	size_t head;

	p = mmap(NULL, 2 * COPY_POOL_CHUNK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		 -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	a = (uint8_t *)(((uintptr_t)p + COPY_POOL_CHUNK - 1) & ~(uintptr_t)(COPY_POOL_CHUNK - 1));
	head = (size_t)(a - p);
	if (head)
		munmap(p, head);
	munmap(a + COPY_POOL_CHUNK, COPY_POOL_CHUNK - head);
	(void)madvise(a, COPY_POOL_CHUNK, MADV_HUGEPAGE);   /* advice: 4 KiB pages still work */
	__atomic_add_fetch(&n_mapped, 1, __ATOMIC_RELAXED);
	return (struct chunk *)a;
}

/* Move the maker on to a free chunk, or a new one. */
static int next_chunk(struct maker *m)
{
	struct chunk *c;

	retire(m);
	pthread_mutex_lock(&free_mu);
	if ((c = free_head) != NULL) {
		free_head = c->next;
		n_free--;
	}
	pthread_mutex_unlock(&free_mu);
	if (c)
		__atomic_add_fetch(&n_reused, 1, __ATOMIC_RELAXED);
	else if (!(c = chunk_map()))
		return -1;
	c->next = NULL;
	__atomic_store_n(&c->refs, BIAS, __ATOMIC_RELAXED);
	m->cur = c;
	m->used = HEAD;
	m->given = 0;
	return 0;
}

/* See copy_pool.h. */
void *copy_pool_alloc(size_t n)
{
	struct maker *m = &me;
	void *p;

	if (n == 0 || n > COPY_POOL_MAX)
		return NULL;
	n = (n + 15) & ~(size_t)15;
	if (!m->started) {
		pthread_once(&exit_once, exit_key_make);
		m->started = 1;
		(void)pthread_setspecific(exit_key, m);
	}
	if ((!m->cur || m->used + n > COPY_POOL_CHUNK) && next_chunk(m) != 0)
		return NULL;
	p = (uint8_t *)m->cur + m->used;
	m->used += n;
	m->given++;
	return p;
}

/* See copy_pool.h. */
void copy_pool_free(void *p)
{
	if (p)
		chunk_put((struct chunk *)((uintptr_t)p & ~(uintptr_t)(COPY_POOL_CHUNK - 1)), 1);
}

/* See copy_pool.h. */
void copy_pool_stats_get(struct copy_pool_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->chunks_mapped = __atomic_load_n(&n_mapped, __ATOMIC_RELAXED);
	st->chunks_reused = __atomic_load_n(&n_reused, __ATOMIC_RELAXED);
	pthread_mutex_lock(&free_mu);
	st->chunks_free = n_free;
	pthread_mutex_unlock(&free_mu);
}

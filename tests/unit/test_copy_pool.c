/*
 * test_copy_pool.c - the memory for PDUs kept for hash checks
 * (lib/ingest/copy_pool.c; issue 15): copies are 16-byte aligned and keep
 * their bytes; chunks whose copies another thread freed are reused rather
 * than new ones mapped; a FIFO of copies made and evicted by two threads
 * in turn, 40 times the size it keeps, maps no more chunks than the
 * FIFO's size needs plus three per thread (the bound copy_pool.c
 * promises, with one chunk per thread whose last copy is being freed,
 * whichever thread runs when); sizes out of range are refused (the caller
 * then mallocs); a thread that ends leaves its copies valid for whoever
 * frees them, and its chunk goes on the free stack once they are freed.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "ingest/copy_pool.h"

#define COPY 1000

static void fill(uint8_t *p, size_t n, unsigned tag)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(tag * 31 + i);
}

static int intact(const uint8_t *p, size_t n, unsigned tag)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != (uint8_t)(tag * 31 + i))
			return 0;
	return 1;
}

/* A maker thread: `rounds` times, makes `n` copies into `out` and (with
 * `bar`) waits while the main thread checks and frees them. */
struct maker_job {
	void **out;
	size_t n;
	pthread_barrier_t *bar;     /* NULL: make once and end */
	int rounds;
	uint64_t mapped_delta[2];   /* chunks mapped while making, per round */
	int bad;
};

static void make_copies(struct maker_job *j)
{
	for (size_t i = 0; i < j->n; i++) {
		uint8_t *p = copy_pool_alloc(COPY);
		if (!p || ((uintptr_t)p & 15)) {
			j->bad = 1;
			j->out[i] = NULL;
			continue;
		}
		fill(p, COPY, (unsigned)i);
		j->out[i] = p;
	}
}

static void *maker(void *v)
{
	struct maker_job *j = v;
	struct copy_pool_stats a, b;

	for (int r = 0; r < j->rounds; r++) {
		copy_pool_stats_get(&a);
		make_copies(j);
		copy_pool_stats_get(&b);
		j->mapped_delta[r] = b.chunks_mapped - a.chunks_mapped;
		if (j->bar) {
			pthread_barrier_wait(j->bar);   /* main checks and frees them */
			pthread_barrier_wait(j->bar);
		}
	}
	return NULL;
}

/* Another thread makes three chunks' worth of copies; this one checks and
 * frees them all; the maker's second three chunks' worth reuse the two it
 * moved on from (its third is still its current one). */
static void test_reuse_after_foreign_free(void)
{
	size_t per_chunk = COPY_POOL_CHUNK / (COPY + 16);
	struct maker_job j;
	pthread_barrier_t bar;
	struct copy_pool_stats s0, s1;
	pthread_t th;
	int ok = 1;

	memset(&j, 0, sizeof(j));
	j.n = 3 * per_chunk - per_chunk / 2;     /* fills 2 chunks and half a third */
	j.out = calloc(j.n, sizeof(*j.out));
	CHECK(j.out != NULL);
	j.rounds = 2;
	j.bar = &bar;
	pthread_barrier_init(&bar, NULL, 2);
	copy_pool_stats_get(&s0);
	CHECK(pthread_create(&th, NULL, maker, &j) == 0);
	for (int r = 0; r < 2; r++) {
		pthread_barrier_wait(&bar);
		for (size_t i = 0; i < j.n; i++) {
			ok &= j.out[i] && intact(j.out[i], COPY, (unsigned)i);
			copy_pool_free(j.out[i]);
		}
		pthread_barrier_wait(&bar);
	}
	pthread_join(th, NULL);
	copy_pool_stats_get(&s1);
	pthread_barrier_destroy(&bar);
	free(j.out);
	CHECK(ok);
	CHECK_EQ_INT(j.bad, 0);
	CHECK_EQ_INT(j.mapped_delta[0], 3);
	/* round 2: the current chunk's rest, then the two freed ones: nothing new */
	CHECK_EQ_INT(j.mapped_delta[1], 0);
	CHECK(s1.chunks_reused - s0.chunks_reused >= 2);
}

/* Two threads copy in turn into one FIFO of CAP bytes and evict its oldest
 * (the accounting's way); 40 times CAP pass through it. */
#define CAP    ((size_t)8 << 20)
#define SLOTS  (CAP / COPY)
struct fifo {
	pthread_mutex_t mu;
	void *q[SLOTS];
	unsigned tag[SLOTS];
	size_t head, n;
	unsigned next_tag;
	int bad;
};

static void *fifo_worker(void *v)
{
	struct fifo *f = v;

	for (size_t i = 0; i < 20 * SLOTS; i++) {
		uint8_t *p = copy_pool_alloc(COPY);
		void *old = NULL;
		unsigned tag, old_tag = 0;

		pthread_mutex_lock(&f->mu);
		tag = f->next_tag++;
		pthread_mutex_unlock(&f->mu);
		if (!p) {
			f->bad = 1;
			break;
		}
		fill(p, COPY, tag);
		pthread_mutex_lock(&f->mu);
		if (f->n == SLOTS) {
			old = f->q[f->head];
			old_tag = f->tag[f->head];
			f->head = (f->head + 1) % SLOTS;
			f->n--;
		}
		f->q[(f->head + f->n) % SLOTS] = p;
		f->tag[(f->head + f->n) % SLOTS] = tag;
		f->n++;
		pthread_mutex_unlock(&f->mu);
		if (old) {
			if (!intact(old, COPY, old_tag))
				f->bad = 1;
			copy_pool_free(old);
		}
	}
	return NULL;
}

static void test_fifo_bounded(void)
{
	struct fifo *f = calloc(1, sizeof(*f));
	struct copy_pool_stats s0, s1;
	pthread_t t1, t2;

	CHECK(f != NULL);
	pthread_mutex_init(&f->mu, NULL);
	copy_pool_stats_get(&s0);
	CHECK(pthread_create(&t1, NULL, fifo_worker, f) == 0);
	CHECK(pthread_create(&t2, NULL, fifo_worker, f) == 0);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	copy_pool_stats_get(&s1);
	for (size_t i = 0; i < f->n; i++)
		copy_pool_free(f->q[(f->head + i) % SLOTS]);
	pthread_mutex_destroy(&f->mu);
	CHECK_EQ_INT(f->bad, 0);
	/* CAP in chunks and one for its rest, plus per thread: one being
	 * filled, one partly freed, and one whose last copy was evicted and is
	 * about to be freed */
	CHECK(s1.chunks_mapped - s0.chunks_mapped <= CAP / COPY_POOL_CHUNK + 1 + 3 * 2);
	CHECK(s1.chunks_reused - s0.chunks_reused >= 30);
	free(f);
}

/* Out of range: 0 bytes and more than a pool copy are refused. */
static void test_sizes(void)
{
	uint8_t *p;

	CHECK(copy_pool_alloc(0) == NULL);
	CHECK(copy_pool_alloc(COPY_POOL_MAX + 1) == NULL);
	p = copy_pool_alloc(COPY_POOL_MAX);
	CHECK(p != NULL);
	fill(p, COPY_POOL_MAX, 7);
	CHECK(intact(p, COPY_POOL_MAX, 7));
	copy_pool_free(p);
	copy_pool_free(NULL);
}

/* A thread that made copies and ended: they stay readable, and once they
 * are freed its chunk is free for others (the thread's end let go of it). */
static void test_maker_gone(void)
{
	struct maker_job j;
	pthread_t th;
	void *out[64];
	struct copy_pool_stats s0, s1;
	int ok = 1;

	memset(&j, 0, sizeof(j));
	j.out = out;
	j.n = 64;
	j.rounds = 1;
	CHECK(pthread_create(&th, NULL, maker, &j) == 0);
	pthread_join(th, NULL);
	copy_pool_stats_get(&s0);
	for (size_t i = 0; i < j.n; i++) {
		ok &= out[i] && intact(out[i], COPY, (unsigned)i);
		copy_pool_free(out[i]);
	}
	copy_pool_stats_get(&s1);
	CHECK_EQ_INT(j.bad, 0);
	CHECK(ok);
	CHECK_EQ_INT(s1.chunks_free, s0.chunks_free + 1);
}

int main(void)
{
	RUN(test_reuse_after_foreign_free);
	RUN(test_fifo_bounded);
	RUN(test_sizes);
	RUN(test_maker_gone);
	return t_done();
}

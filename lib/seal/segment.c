/*
 * segment.c - sealed segment writer and reader (include/lacre/segment.h,
 * docs/FORMATS.md §3).
 *
 * Writer hot path per record: encode the frame head (everything but the
 * PDU) into a fixed buffer, hash head and PDU for the commitment, hand
 * head and PDU to the age writer (which copies into its chunk buffer and
 * seals each full 64 KiB chunk with a reused cipher context), and write the
 * staged ciphertext to the spool file once a few chunks have gathered (with
 * O_DIRECT when configured and the file system allows it: no page-cache
 * copy, and the write runs in the background from one of two buffers
 * through POSIX AIO while sealing continues in the other).  Salts come from a pool of CSPRNG bytes refilled 256 salts at a
 * time and wiped as used.  The commitment array grows by doubling within
 * a segment; it, the staging buffer and the age writer exist only while a
 * segment is open (an idle writer holds about 7 KiB).
 *
 * Reader: decrypts one 64 KiB chunk at a time into a secret plaintext
 * buffer and parses frames from it; a frame that spans chunks is completed
 * by moving the partial tail to the front once per chunk, not per record.
 */
/* The per-record commitment uses SHA256_Init/Update/Final: deprecated in
 * OpenSSL 3.0 but the same SHA-NI code without the EVP layer's per-call
 * context allocation (measured: +11 % records/s for 300-byte records,
 * +2..8 % for CC-sized ones).  Everything else uses EVP. */
#define OPENSSL_SUPPRESS_DEPRECATED

#include <aio.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "lacre/age.h"
#include "lacre/buf.h"
#include "lacre/err.h"
#include "lacre/frame.h"
#include "lacre/fsync.h"
#include "lacre/segment.h"
#include "lacre/simd.h"
#include "lacre/modes.h"

#define SEG_ALIGN 4096
#define SEG_ENC_CHUNK ((size_t)AGE_CHUNK_SIZE + 16)
/* Buffered writes: write() when this much ciphertext waits. */
#define SEG_FLUSH_AT ((size_t)2 * SEG_ENC_CHUNK)
/* O_DIRECT writes: much larger requests.  Each request to a virtual disk
 * costs tens of microseconds of CPU whatever its size (measured here:
 * 128 KiB requests 2.2 GB/s per CPU-second, 1 MiB 9.5 GB/s, 4 MiB 15 GB/s),
 * so small direct writes cost as much CPU as the page-cache copy they
 * avoid.  28 chunks (1.75 MiB) is as much as a staging buffer of one
 * 2 MiB huge page holds (SEG_HUGE). */
#define SEG_DIRECT_FLUSH_AT ((size_t)28 * SEG_ENC_CHUNK)   /* ~1.75 MiB */
/* A segment starts buffered, with the small staging buffer, and moves to
 * O_DIRECT with the two large ones once this much of it is written: a
 * trickle of IRI never holds 4 MiB of buffers (ingest keeps one open
 * segment per warrant), a busy writer pays the page-cache copy only for
 * the start of its first segment (the large buffers are kept while the
 * writer closes segments by size). */
#define SEG_PROMOTE_AT ((uint64_t)4 << 20)
/* The staging buffer never grows: between two drains at most one sealed
 * chunk past the flush mark and the age header (64 stanzas) can gather,
 * because the writer hands the age writer at most 64 KiB at a time. */
#define SEG_STAGE_SIZE(flush) (((flush) + 2 * SEG_ENC_CHUNK + 16384 + SEG_ALIGN - 1) & \
			       ~(size_t)(SEG_ALIGN - 1))
#define SEG_SALT_POOL 4096
#define SEG_BIG SEG_STAGE_SIZE(SEG_DIRECT_FLUSH_AT)   /* an O_DIRECT staging buffer */
/* An O_DIRECT staging buffer is one transparent huge page (2 MiB, aligned,
 * madvise(MADV_HUGEPAGE) where the kernel allows it): the kernel pins one
 * page per direct write instead of ~450, and sealing into it misses the
 * TLB less.  Measured on cc-bulk: the AIO threads' CPU time for the spool
 * writes fell by half or more and the one-core figure rose 7-14 %. */
#define SEG_HUGE ((size_t)2 << 20)
_Static_assert(SEG_BIG <= SEG_HUGE, "a staging buffer fits one huge page");
/* Buffers of closed segments kept for the next ones (struct seg_cache):
 * the O_DIRECT staging buffers, the buffered writers' smaller ones and the
 * commitment arrays, so that a busy spool does not map, fault in and
 * unmap fresh pages per segment (the ingest sink opens a new writer for
 * every segment).  Enough for every writer busy at once: an O_DIRECT
 * writer has two staging buffers (three once a write was slow, see
 * SEG_INFLIGHT), and with two ingest workers two warrants already keep
 * eight to twelve busy (four were kept before: with two
 * workers 3 % of their CPU went to zeroing the huge pages of new
 * buffers); many low-rate warrants each close a small segment by age
 * and open the next.  Bounded while busy: SEG_CACHE_BIG * SEG_HUGE +
 * SEG_CACHE_SMALL * SEG_SMALL + SEG_CACHE_COMMITS * SEG_CACHE_COMMITS_MAX
 * bytes (about 97 MiB); what has not been used for SEGMENT_CACHE_IDLE_MS
 * is freed by segment_cache_trim (ingest's ticker calls it), so an idle
 * receiver keeps none of it. */
#define SEG_CACHE_BIG 24
#define SEG_CACHE_SMALL 64
#define SEG_CACHE_COMMITS 8
#define SEG_CACHE_COMMITS_MAX ((size_t)4 << 20)
#define SEG_SMALL SEG_STAGE_SIZE(SEG_FLUSH_AT)        /* a buffered writer's staging buffer */
/* O_DIRECT writes in flight per writer, at most.  One is enough while the
 * disk keeps up (a 1.75 MiB write takes 1-3 ms here, sealing 1.75 MiB of a
 * busy warrant about 12 ms), but a write now and then takes 10-15 ms (the
 * extent conversion at its end waits for the journal, or a discard): with
 * one in flight the worker then waited for it, 7-8 times per worker in a
 * 0.9 s two-worker run, 6-11 % of the workers' time (issue 15).  A second
 * write may wait in the AIO queue behind the first (glibc runs one file's
 * requests in order) while the worker seals into a third buffer, taken
 * only when a write is found still in flight. */
#define SEG_INFLIGHT 2

struct segment_writer {
	/* configuration */
	char *dir;
	uint8_t (*recipients)[32];
	size_t n_recipients;
	uint64_t max_plain;
	int64_t max_age_us;
	int no_sync;
	int direct_io;                     /* config: try O_DIRECT */
	int (*on_close)(void *arg, const struct segment_closed *c);
	int (*on_sealed)(void *arg, const struct segment_closed *c);
	void *arg;
	/* reused across records and segments */
	SHA256_CTX sha;                    /* commitment hash, per record */
	struct lacre_dbuf stage;           /* ciphertext waiting for write() */
	uint8_t (*commits)[32];
	size_t commits_cap;
	uint8_t salts[SEG_SALT_POOL];
	size_t salts_used;                 /* bytes of salts consumed */
	uint8_t head[FRAME_HEAD_MAX];
	/* the open segment */
	int open;
	int broken;
	int fd;
	int direct;                        /* fd is open with O_DIRECT */
	size_t flush_at;                   /* drain the stage at this size */
	size_t stage_size;                 /* allocation of stage and spare, 0: none */
	int keep_buffers;                  /* seg_release keeps stage, spare, commits */
	int promotable;                    /* buffered now, O_DIRECT once busy */
	int direct_refused;                /* the spool refused O_DIRECT: stop asking */
	int direct_at_once;                /* config: the next segment starts O_DIRECT */
	uint8_t *spare[SEG_INFLIGHT];      /* O_DIRECT: idle staging buffers */
	unsigned n_spare;                  /* of them in spare[] */
	unsigned n_bufs;                   /* O_DIRECT buffers besides stage: idle and in flight */
	struct aiocb aio[SEG_INFLIGHT];    /* O_DIRECT: the writes in flight, a ring */
	unsigned aio_head, aio_n;          /* the oldest of them, how many */
	struct age_writer *aw;
	uint8_t id[16];
	char name[SEGMENT_NAME_LEN + 1];
	char *tmp_path;
	char *final_path;
	int64_t created_us;
	uint64_t plain;
	uint64_t size;                     /* bytes written to fd */
	uint64_t n_records;
};

/* The process's caches of buffers (see SEG_CACHE_BIG); writers of any
 * thread share them under one lock.  Staging buffers hold ciphertext and
 * commitment arrays published commitments: nothing secret is kept. */
static pthread_mutex_t seg_cache_mu = PTHREAD_MUTEX_INITIALIZER;
struct seg_kept {
	void *p;
	size_t cap;                    /* commitment arrays: entries */
	int64_t at_ms;                 /* when it was given back (monotonic) */
};
struct seg_cache {                 /* a stack: the last given back goes first */
	struct seg_kept *e;
	size_t n, max;
};
static struct seg_kept seg_kept_big[SEG_CACHE_BIG], seg_kept_small[SEG_CACHE_SMALL],
	seg_kept_commits[SEG_CACHE_COMMITS];
static struct seg_cache seg_cache_big = { seg_kept_big, 0, SEG_CACHE_BIG },
	seg_cache_small = { seg_kept_small, 0, SEG_CACHE_SMALL },
	seg_cache_commits = { seg_kept_commits, 0, SEG_CACHE_COMMITS };

/* Monotonic milliseconds (when a buffer went back to the cache). */
static int64_t seg_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The buffer given back last to c (its cap in *cap), NULL when c is empty. */
static void *seg_cache_take(struct seg_cache *c, size_t *cap)
{
	void *p = NULL;

	pthread_mutex_lock(&seg_cache_mu);
	if (c->n > 0) {
		c->n--;
		p = c->e[c->n].p;
		if (cap)
			*cap = c->e[c->n].cap;
	}
	pthread_mutex_unlock(&seg_cache_mu);
	return p;
}

/* Keep p in c if it has room, else free it. */
static void seg_cache_give(struct seg_cache *c, void *p, size_t cap)
{
	if (!p)
		return;
	pthread_mutex_lock(&seg_cache_mu);
	if (c->n < c->max) {
		c->e[c->n].p = p;
		c->e[c->n].cap = cap;
		c->e[c->n].at_ms = seg_mono_ms();
		c->n++;
		p = NULL;
	}
	pthread_mutex_unlock(&seg_cache_mu);
	free(p);
}

/* Under seg_cache_mu: move c's buffers given back before `before` (the
 * bottom of the stack) to drop; returns how many. */
static size_t seg_cache_old(struct seg_cache *c, int64_t before, void **drop)
{
	size_t k;

	for (k = 0; k < c->n && c->e[k].at_ms <= before; k++)
		drop[k] = c->e[k].p;
	memmove(c->e, c->e + k, (c->n - k) * sizeof(c->e[0]));
	c->n -= k;
	return k;
}

/* An aligned O_DIRECT staging buffer of at least SEG_BIG bytes (one huge
 * page): a kept one, else a new one; NULL when out of memory. */
static uint8_t *seg_big_get(void)
{
	uint8_t *p = seg_cache_take(&seg_cache_big, NULL);

	if (!p) {
		if (posix_memalign((void **)&p, SEG_HUGE, SEG_HUGE) != 0)
			p = NULL;
		else
			(void)madvise(p, SEG_HUGE, MADV_HUGEPAGE);
	}
	return p;
}

/* A buffered writer's aligned staging buffer of SEG_SMALL bytes: a kept
 * one, else a new one; NULL when out of memory. */
static uint8_t *seg_small_get(void)
{
	uint8_t *p = seg_cache_take(&seg_cache_small, NULL);

	if (!p && posix_memalign((void **)&p, SEG_ALIGN, SEG_SMALL) != 0)
		p = NULL;
	return p;
}

/* Free w's staging buffer and its spares (to the caches); no write may be
 * in flight. */
static void seg_stage_free(struct segment_writer *w)
{
	seg_cache_give(w->stage_size == SEG_BIG ? &seg_cache_big : &seg_cache_small, w->stage.p, 0);
	while (w->n_spare > 0)                 /* only O_DIRECT has spares */
		seg_cache_give(&seg_cache_big, w->spare[--w->n_spare], 0);
	w->n_bufs = 0;
	w->stage.p = NULL;
	w->stage.len = w->stage.alloc = 0;
	w->stage_size = 0;
}

/* Give w one more O_DIRECT buffer besides its stage (seg_promote,
 * seg_open, seg_drain_async); LACRE_E_NOMEM when none can be had. */
static int seg_spare_add(struct segment_writer *w)
{
	uint8_t *b;

	if (w->n_bufs >= SEG_INFLIGHT || !(b = seg_big_get()))
		return LACRE_E_NOMEM;
	w->spare[w->n_spare++] = b;
	w->n_bufs++;
	return LACRE_OK;
}

/* Give w a kept commitment array, if there is one and it has none. */
static void seg_commits_get(struct segment_writer *w)
{
	size_t cap = 0;

	if (w->commits)
		return;
	if ((w->commits = seg_cache_take(&seg_cache_commits, &cap)) != NULL)
		w->commits_cap = cap;
}

/* Free w's commitment array (kept if not too large and there is room). */
static void seg_commits_put(struct segment_writer *w)
{
	uint8_t (*p)[32] = w->commits;

	w->commits = NULL;
	if (p && w->commits_cap * 32 <= SEG_CACHE_COMMITS_MAX)
		seg_cache_give(&seg_cache_commits, p, w->commits_cap);
	else
		free(p);
	w->commits_cap = 0;
}

/* Free the kept buffers given back idle_ms or longer ago.  See segment.h. */
size_t segment_cache_trim(int64_t idle_ms)
{
	int64_t before = seg_mono_ms() - idle_ms;
	size_t i, n = 0;
	void *drop[SEG_CACHE_BIG + SEG_CACHE_SMALL + SEG_CACHE_COMMITS];

	pthread_mutex_lock(&seg_cache_mu);
	n += seg_cache_old(&seg_cache_big, before, drop + n);
	n += seg_cache_old(&seg_cache_small, before, drop + n);
	n += seg_cache_old(&seg_cache_commits, before, drop + n);
	pthread_mutex_unlock(&seg_cache_mu);
	for (i = 0; i < n; i++)
		free(drop[i]);
	return n;
}

/* How many buffers the caches hold.  See segment.h. */
size_t segment_cache_held(void)
{
	size_t n;

	pthread_mutex_lock(&seg_cache_mu);
	n = seg_cache_big.n + seg_cache_small.n + seg_cache_commits.n;
	pthread_mutex_unlock(&seg_cache_mu);
	return n;
}

/* Write all of p[0..n) to fd at offset off, retrying short writes and
 * EINTR (pwrite: background AIO writes do not move the file offset). */
static int seg_write_all(int fd, const uint8_t *p, size_t n, uint64_t off)
{
	while (n > 0) {
		ssize_t k = pwrite(fd, p, n, (off_t)off);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return LACRE_E_IO;
		}
		p += k;
		n -= (size_t)k;
		off += (uint64_t)k;
	}
	return LACRE_OK;
}

/* Leave O_DIRECT mode (for the unaligned tail, or if the staging buffer
 * were ever not aligned). */
static int seg_direct_off(struct segment_writer *w)
{
	int fl;
	if (!w->direct)
		return LACRE_OK;
	fl = fcntl(w->fd, F_GETFL);
	if (fl < 0 || fcntl(w->fd, F_SETFL, fl & ~O_DIRECT) != 0)
		return LACRE_E_IO;
	w->direct = 0;
	return LACRE_OK;
}

/* Wait for the oldest O_DIRECT write in flight (there is one) and take
 * its buffer back as a spare; LACRE_E_IO if it failed or was short. */
static int seg_aio_done(struct segment_writer *w)
{
	struct aiocb *a = &w->aio[w->aio_head];
	const struct aiocb *list[1] = { a };
	ssize_t k;
	int e;

	while ((e = aio_error(a)) == EINPROGRESS)
		aio_suspend(list, 1, NULL);
	k = aio_return(a);
	w->aio_head = (w->aio_head + 1) % SEG_INFLIGHT;
	w->aio_n--;
	w->spare[w->n_spare++] = (uint8_t *)a->aio_buf;
	if (e == 0 && k == (ssize_t)a->aio_nbytes)
		return LACRE_OK;
	/* a file system that accepted O_DIRECT at open may still refuse the
	 * request (EINVAL: an alignment it does not support) or write part of
	 * it: finish the same bytes with ordinary writes (at their offset: a
	 * later write in flight is not disturbed), and stay buffered */
	if (e == EINVAL || (e == 0 && k >= 0)) {
		size_t done = e == 0 ? (size_t)k : 0;
		if (seg_direct_off(w) != LACRE_OK)
			return LACRE_E_IO;
		return seg_write_all(w->fd, (const uint8_t *)a->aio_buf + done,
				     a->aio_nbytes - done, (uint64_t)a->aio_offset + done);
	}
	return LACRE_E_IO;
}

/* Wait for every O_DIRECT write in flight, oldest first; the first
 * failure, after all of them ended (their buffers must outlive them). */
static int seg_aio_wait(struct segment_writer *w)
{
	int r = LACRE_OK, e;

	while (w->aio_n > 0)
		if ((e = seg_aio_done(w)) != LACRE_OK && r == LACRE_OK)
			r = e;
	return r;
}

/* Take back the buffers of the writes already finished, oldest first,
 * without waiting for any. */
static int seg_aio_reap(struct segment_writer *w)
{
	int r;

	while (w->aio_n > 0 && aio_error(&w->aio[w->aio_head]) != EINPROGRESS)
		if ((r = seg_aio_done(w)) != LACRE_OK)
			return r;
	return LACRE_OK;
}

/* O_DIRECT: start writing the whole 4 KiB blocks of the staging buffer in
 * the background and continue in a spare buffer, so that sealing and the
 * device work at the same time.  A spare is one whose write has ended; when
 * none has, a third buffer is taken (SEG_INFLIGHT) before the oldest write
 * is waited for. */
static int seg_drain_async(struct segment_writer *w)
{
	size_t n = w->stage.len & ~(size_t)(SEG_ALIGN - 1), rest = w->stage.len - n;
	uint8_t *full = w->stage.p, *next;
	struct aiocb *a;
	int r;

	if (n == 0)
		return LACRE_OK;
	if ((r = seg_aio_reap(w)) != LACRE_OK)
		return r;
	if (w->n_spare == 0 && seg_spare_add(w) != LACRE_OK && (r = seg_aio_done(w)) != LACRE_OK)
		return r;
	next = w->spare[--w->n_spare];
	if (rest)
		memcpy(next, full + n, rest);
	a = &w->aio[(w->aio_head + w->aio_n) % SEG_INFLIGHT];
	memset(a, 0, sizeof(*a));
	a->aio_fildes = w->fd;
	a->aio_buf = full;
	a->aio_nbytes = n;
	a->aio_offset = (off_t)w->size;
	a->aio_sigevent.sigev_notify = SIGEV_NONE;
	if (aio_write(a) != 0) {
		w->n_spare++;                      /* next stays a spare */
		return LACRE_E_IO;
	}
	w->aio_n++;
	w->size += n;
	w->stage.p = next;
	w->stage.len = rest;
	return LACRE_OK;
}

/* Write the staged ciphertext to the open file: all of it, or with O_DIRECT
 * the whole 4 KiB blocks (in the background unless final; the rest moves to
 * the front of the buffer); final writes everything in either mode and
 * waits for the background write. */
static int seg_drain(struct segment_writer *w, int final)
{
	size_t n = w->stage.len;
	int r;

	if (w->direct && !final && w->n_bufs)
		return seg_drain_async(w);
	if ((r = seg_aio_wait(w)) != LACRE_OK)
		return r;
	if (w->direct && ((uintptr_t)w->stage.p % SEG_ALIGN) != 0 &&
	    (r = seg_direct_off(w)) != LACRE_OK)
		return r;
	if (w->direct || w->promotable)
		n &= ~(size_t)(SEG_ALIGN - 1);   /* the file size stays aligned */
	if (n && (r = seg_write_all(w->fd, w->stage.p, n, w->size)) != LACRE_OK)
		return r;
	w->size += n;
	lacre_dbuf_consume(&w->stage, n);
	if (final && w->stage.len) {
		if ((r = seg_direct_off(w)) != LACRE_OK ||
		    (r = seg_write_all(w->fd, w->stage.p, w->stage.len, w->size)) != LACRE_OK)
			return r;
		w->size += w->stage.len;
		lacre_dbuf_reset(&w->stage);
	}
	return LACRE_OK;
}

/* Move a busy buffered segment to O_DIRECT (see SEG_PROMOTE_AT): the
 * large staging buffer and its spare, O_DIRECT on the open file (the file
 * size is a multiple of 4 KiB: promotable drains keep it so).  Any
 * refusal leaves the segment buffered, which is only slower. */
static void seg_promote(struct segment_writer *w)
{
	size_t big = SEG_BIG;
	uint8_t *a = NULL, *b = NULL;
	int fl;

	w->promotable = 0;
	if (w->size % SEG_ALIGN != 0 || w->stage.len > big)
		return;
	if (!(a = seg_big_get()) || !(b = seg_big_get())) {
		seg_cache_give(&seg_cache_big, a, 0);
		return;
	}
	fl = fcntl(w->fd, F_GETFL);
	if (fl < 0 || fcntl(w->fd, F_SETFL, fl | O_DIRECT) != 0) {
		w->direct_refused = 1;
		seg_cache_give(&seg_cache_big, a, 0);
		seg_cache_give(&seg_cache_big, b, 0);
		return;
	}
	memcpy(a, w->stage.p, w->stage.len);
	seg_cache_give(&seg_cache_small, w->stage.p, 0);
	w->stage.p = a;
	w->stage.alloc = w->stage.max = big;
	w->spare[0] = b;
	w->n_spare = w->n_bufs = 1;
	w->stage_size = big;
	w->flush_at = SEG_DIRECT_FLUSH_AT;
	w->direct = 1;
}

/* Hand p[0..n) to the age writer at most 64 KiB at a time, draining the
 * staging buffer as it fills (keeps it within its fixed size). */
static int seg_feed(struct segment_writer *w, const uint8_t *p, size_t n)
{
	int r;
	while (n > 0) {
		size_t k = n < AGE_CHUNK_SIZE ? n : AGE_CHUNK_SIZE;
		if ((r = age_writer_write(w->aw, p, k)) != LACRE_OK)
			return r;
		p += k;
		n -= k;
		if (w->stage.len >= w->flush_at) {
			if ((r = seg_drain(w, 0)) != LACRE_OK)
				return r;
			if (w->promotable && w->size >= SEG_PROMOTE_AT)
				seg_promote(w);
		}
	}
	return LACRE_OK;
}

/* Release what only an open segment needs (staging buffer, commitments,
 * age writer, paths), so that an idle writer costs little memory: ingest
 * keeps one writer per warrant. */
static void seg_release(struct segment_writer *w)
{
	age_writer_free(w->aw);
	w->aw = NULL;
	if (w->keep_buffers && !w->broken) {
		/* closed by size: the next segment opens at once, keep the
		 * buffers (no page faults, no realloc copies per segment) */
		lacre_dbuf_reset(&w->stage);
	} else {
		seg_stage_free(w);
		seg_commits_put(w);
	}
	free(w->tmp_path);
	free(w->final_path);
	w->tmp_path = w->final_path = NULL;
	w->open = 0;
}

/* Abandon the open segment: close and remove its temporary file. */
static void seg_abandon(struct segment_writer *w)
{
	if (!w->open)
		return;
	if (w->aio_n) {
		/* the buffers must outlive the writes: cancel or wait */
		aio_cancel(w->fd, NULL);
		seg_aio_wait(w);
	}
	if (w->fd >= 0)
		close(w->fd);
	if (w->tmp_path)
		unlink(w->tmp_path);
	w->fd = -1;
	seg_release(w);
}

/* Open a new segment at now_us: random id, temporary file, age header,
 * segment header frame. */
static int seg_open(struct segment_writer *w, int64_t now_us)
{
	struct frame_segment_header *h = NULL;
	struct lacre_dbuf hb;
	size_t dl = strlen(w->dir), pl, stage_size;
	int r;

	lacre_dbuf_init(&hb, 4096);
	if (RAND_bytes(w->id, 16) != 1)
		return LACRE_E_CRYPTO;
	for (int i = 0; i < 16; i++)
		snprintf(w->name + 2 * i, 3, "%02x", w->id[i]);
	pl = dl + 1 + sizeof(SEGMENT_TMP_PREFIX) + SEGMENT_NAME_LEN + 1;
	w->tmp_path = malloc(pl);
	w->final_path = malloc(pl);
	h = calloc(1, sizeof(*h));
	w->open = 1; /* from here seg_abandon cleans up */
	w->fd = -1;
	if (!w->tmp_path || !w->final_path || !h) {
		r = LACRE_E_NOMEM;
		goto fail;
	}
	snprintf(w->final_path, pl, "%s/%s", w->dir, w->name);
	snprintf(w->tmp_path, pl, "%s/%s%s", w->dir, SEGMENT_TMP_PREFIX, w->name);
	w->direct = 0;
	if (w->direct_io && !w->direct_refused &&
	    (w->direct_at_once || w->stage_size == SEG_STAGE_SIZE(SEG_DIRECT_FLUSH_AT))) {
		/* the writer (or, direct_at_once, the caller's previous one)
		 * was busy: O_DIRECT at once; file systems without O_DIRECT
		 * (tmpfs) refuse it: fall back */
		w->fd = open(w->tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_DIRECT, LACRE_MODE_GROUP_FILE);
		w->direct = w->fd >= 0;
		w->direct_refused = w->fd < 0;
	}
	w->direct_at_once = 0;
	if (w->fd < 0)
		w->fd = open(w->tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, LACRE_MODE_GROUP_FILE);
	w->promotable = w->direct_io && !w->direct && !w->direct_refused;
	if (w->fd < 0) {
		r = LACRE_E_IO;
		goto fail;
	}
	/* aligned staging buffers of fixed size (O_DIRECT needs alignment) */
	w->flush_at = w->direct ? SEG_DIRECT_FLUSH_AT : SEG_FLUSH_AT;
	stage_size = SEG_STAGE_SIZE(w->flush_at);
	if (w->stage.p && (w->stage_size != stage_size || (w->direct && !w->n_bufs))) {
		/* kept from the last segment but of the other kind */
		seg_stage_free(w);
	}
	if (!w->stage.p) {
		lacre_dbuf_init(&w->stage, stage_size);
		w->stage.p = stage_size == SEG_BIG ? seg_big_get() : seg_small_get();
		if (!w->stage.p) {
			r = LACRE_E_NOMEM;
			goto fail;
		}
		w->stage.alloc = stage_size;
		w->stage_size = stage_size;
	}
	if (w->direct && !w->n_bufs && (r = seg_spare_add(w)) != LACRE_OK)
		goto fail;
	if ((r = age_writer_new((const uint8_t (*)[32])w->recipients, w->n_recipients,
				&w->stage, &w->aw)) != LACRE_OK)
		goto fail;
	/* strictly increasing per writer: readers order a warrant's segments
	 * by creation time, and the coarse clock steps by milliseconds */
	if (w->created_us && now_us <= w->created_us)
		now_us = w->created_us + 1;
	memcpy(h->id, w->id, 16);
	h->created_us = now_us;
	h->n_recipients = w->n_recipients;
	memcpy(h->recipients, w->recipients, 32 * w->n_recipients);
	w->created_us = now_us;
	w->size = 0;
	w->n_records = 0;
	if ((r = frame_segment_header_encode(h, &hb)) != LACRE_OK ||
	    (r = seg_feed(w, hb.p, hb.len)) != LACRE_OK)
		goto fail;
	w->plain = hb.len;
	free(h);
	lacre_dbuf_free(&hb);
	return LACRE_OK;
fail:
	free(h);
	lacre_dbuf_free(&hb);
	seg_abandon(w);
	return r;
}

/* Close the open segment: final chunk, fsync, rename, fsync the folder,
 * then on_close.  An I/O failure marks the writer broken (w->broken); a
 * failure of on_close alone does not (the segment is closed either way). */
static int seg_close(struct segment_writer *w, int64_t now_us)
{
	struct segment_closed c;
	int r, io = LACRE_OK, complete = 0;

	if (!w->open)
		return LACRE_OK;
	memset(&c, 0, sizeof(c));
	if ((r = age_writer_finish(w->aw, c.fingerprint)) != LACRE_OK ||
	    (r = seg_drain(w, 1)) != LACRE_OK)
		goto fail;
	if (!w->no_sync && fsync(w->fd) != 0) {
		r = LACRE_E_IO;
		goto fail;
	}
	/* the temporary file now holds a complete segment: on a failure from
	 * here it stays (as TMP.<name>) for an operator to recover */
	complete = 1;
	if (close(w->fd) != 0) {
		w->fd = -1;
		r = LACRE_E_IO;
		goto fail;
	}
	w->fd = -1;
	memcpy(c.name, w->name, sizeof(c.name));
	memcpy(c.id, w->id, 16);
	c.created_us = w->created_us;
	c.closed_us = now_us;
	c.size = w->size;
	c.plain_size = w->plain;
	c.n_records = w->n_records;
	c.commitments = (const uint8_t (*)[32])w->commits;
	if (w->on_sealed) {
		c.path = w->tmp_path;
		if ((r = w->on_sealed(w->arg, &c)) != LACRE_OK)
			goto fail;
	}
	if (rename(w->tmp_path, w->final_path) != 0) {
		r = LACRE_E_IO;
		goto fail;
	}
	/* the file is complete under its final name: from here the ledger
	 * must hear of it even if the folder sync fails */
	if (!w->no_sync && (io = lacre_fsync_dir(w->dir)) != LACRE_OK)
		w->broken = 1;
	c.path = w->final_path;
	r = w->on_close ? w->on_close(w->arg, &c) : LACRE_OK;
	if (io != LACRE_OK)
		r = io;
	seg_release(w);
	return r;
fail:
	w->broken = 1;
	if (complete) {
		free(w->tmp_path);
		w->tmp_path = NULL; /* seg_abandon must not unlink it */
	}
	seg_abandon(w);
	return r;
}

int segment_writer_new(const struct segment_config *cfg, struct segment_writer **wp)
{
	struct segment_writer *w;

	if (!cfg || !wp || !cfg->spool_dir || !cfg->recipients || cfg->n_recipients < 1 ||
	    cfg->n_recipients > FRAME_RECIPIENTS_MAX || cfg->max_age_us < 0)
		return LACRE_E_INVALID;
	if (!(w = calloc(1, sizeof(*w))))
		return LACRE_E_NOMEM;
	w->fd = -1;
	w->dir = strdup(cfg->spool_dir);
	w->recipients = malloc(32 * cfg->n_recipients);
	if (!w->dir || !w->recipients) {
		segment_writer_free(w);
		return LACRE_E_NOMEM;
	}
	memcpy(w->recipients, cfg->recipients, 32 * cfg->n_recipients);
	w->n_recipients = cfg->n_recipients;
	w->max_plain = cfg->max_plain ? cfg->max_plain : SEGMENT_MAX_PLAIN_DEFAULT;
	w->max_age_us = cfg->max_age_us ? cfg->max_age_us : SEGMENT_MAX_AGE_US_DEFAULT;
	w->no_sync = cfg->no_sync;
	w->on_close = cfg->on_close;
	w->on_sealed = cfg->on_sealed;
	w->arg = cfg->arg;
	w->direct_io = cfg->direct_io;
	w->direct_at_once = cfg->direct_at_once;
	w->salts_used = SEG_SALT_POOL;
	*wp = w;
	return LACRE_OK;
}

/* Take the next 16 salt bytes from the pool, refilling it when empty. */
static int seg_salt(struct segment_writer *w, uint8_t salt[FRAME_SALT_SIZE])
{
	if (w->salts_used == SEG_SALT_POOL) {
		if (RAND_priv_bytes(w->salts, SEG_SALT_POOL) != 1)
			return LACRE_E_CRYPTO;
		w->salts_used = 0;
	}
	memcpy(salt, w->salts + w->salts_used, FRAME_SALT_SIZE);
	OPENSSL_cleanse(w->salts + w->salts_used, FRAME_SALT_SIZE);
	w->salts_used += FRAME_SALT_SIZE;
	return LACRE_OK;
}

/* Make room for one more commitment. */
static int seg_commit_slot(struct segment_writer *w)
{
	size_t nc;
	void *p;
	seg_commits_get(w);
	if (w->n_records < w->commits_cap)
		return LACRE_OK;
	nc = w->commits_cap ? w->commits_cap * 2 : 4096;
	if (!(p = realloc(w->commits, nc * 32)))
		return LACRE_E_NOMEM;
	w->commits = p;
	w->commits_cap = nc;
	return LACRE_OK;
}

int segment_writer_add(struct segment_writer *w, const struct frame_record *rec,
		       int64_t now_us, uint8_t commitment[32])
{
	uint8_t tail[FRAME_TAIL_SIZE];
	size_t hl = 0, tl = 0;
	uint64_t fsize;
	uint8_t *c;
	int r, cb_err = LACRE_OK;

	if (!w || !rec)
		return LACRE_E_INVALID;
	if (w->broken)
		return LACRE_E_STATE;
	/* the head with rec's salt, then this record's fresh salt in its
	 * place: drawn straight into the head, the one copy there is (no
	 * copy of rec to hold it) */
	if ((r = frame_record_head(rec, w->head, sizeof(w->head), &hl)) != LACRE_OK)
		goto out;
	if ((r = seg_salt(w, w->head + FRAME_HDR_SIZE)) != LACRE_OK)
		goto out;
	frame_record_tail(rec, tail, &tl);
	fsize = hl + rec->pdu.len + tl + rec->pre.len;
	if (w->open && (now_us - w->created_us >= w->max_age_us ||
			(w->n_records > 0 && w->plain + fsize > w->max_plain))) {
		w->keep_buffers = w->plain + fsize > w->max_plain;
		r = seg_close(w, now_us);
		w->keep_buffers = 0;
		if (r != LACRE_OK && w->broken)
			goto out;
		cb_err = r; /* on_close failed: still seal this record */
	}
	if (!w->open && (r = seg_open(w, now_us)) != LACRE_OK)
		goto out;
	if ((r = seg_commit_slot(w)) != LACRE_OK)
		goto out;
	c = w->commits[w->n_records];
	r = LACRE_E_CRYPTO;
	/* whatever ran before (the receiver's TLS, a handover payload's
	 * decryption, the last chunk's cipher) may have left AVX-512 state
	 * that slows SHA-256 (lacre/simd.h): cleared here, where every
	 * record's commitment is taken */
	lacre_simd_settle();
	if (SHA256_Init(&w->sha) != 1 ||
	    SHA256_Update(&w->sha, w->head + FRAME_HDR_SIZE, hl - FRAME_HDR_SIZE) != 1 ||
	    SHA256_Update(&w->sha, rec->pdu.p, rec->pdu.len) != 1 ||
	    SHA256_Update(&w->sha, tail, tl) != 1 ||
	    (rec->pre.len && SHA256_Update(&w->sha, rec->pre.p, rec->pre.len) != 1) ||
	    SHA256_Final(c, &w->sha) != 1)
		goto broken;
	if ((r = seg_feed(w, w->head, hl)) != LACRE_OK ||
	    (r = seg_feed(w, rec->pdu.p, rec->pdu.len)) != LACRE_OK ||
	    (tl && (r = seg_feed(w, tail, tl)) != LACRE_OK) ||
	    (rec->pre.len && (r = seg_feed(w, rec->pre.p, rec->pre.len)) != LACRE_OK))
		goto broken;
	w->n_records++;
	w->plain += fsize;
	if (commitment)
		memcpy(commitment, c, 32);
	/* a segment that reached max_plain closes at the next add or tick, never
	 * in the call that sealed its last record: the caller's commitment for
	 * this record then always precedes its segment's on_close */
	r = cb_err;
	goto out;
broken:
	w->broken = 1;
	seg_abandon(w);
out:
	/* the salt is what keeps a commitment from being brute-forced: it
	 * leaves no copy behind (the rest of the head is in the PDU anyway) */
	if (hl >= FRAME_HDR_SIZE + FRAME_SALT_SIZE)
		OPENSSL_cleanse(w->head + FRAME_HDR_SIZE, FRAME_SALT_SIZE);
	else
		OPENSSL_cleanse(w->head, sizeof(w->head));
	return r;
}

int segment_writer_tick(struct segment_writer *w, int64_t now_us)
{
	if (!w)
		return LACRE_E_INVALID;
	if (w->broken)
		return LACRE_E_STATE;
	if (w->open && now_us - w->created_us >= w->max_age_us)
		return seg_close(w, now_us);
	return LACRE_OK;
}

int segment_writer_flush(struct segment_writer *w, int64_t now_us)
{
	if (!w)
		return LACRE_E_INVALID;
	if (w->broken)
		return LACRE_E_STATE;
	return seg_close(w, now_us);
}

int segment_writer_direct(const struct segment_writer *w)
{
	return w && w->open && w->direct;
}

const char *segment_writer_open_name(const struct segment_writer *w)
{
	return w->open ? w->name : NULL;
}

uint64_t segment_writer_unwritten(const struct segment_writer *w)
{
	uint64_t n = (uint64_t)w->stage.len + SEG_ENC_CHUNK + SEG_ALIGN;
	unsigned i;

	if (!w->open)
		return 0;
	for (i = 0; i < w->aio_n; i++)
		n += w->aio[(w->aio_head + i) % SEG_INFLIGHT].aio_nbytes;
	return n;
}

uint64_t segment_writer_pending(const struct segment_writer *w)
{
	return w && w->open ? w->n_records : 0;
}

void segment_writer_free(struct segment_writer *w)
{
	if (!w)
		return;
	seg_abandon(w);
	seg_stage_free(w);
	seg_commits_put(w);
	free(w->recipients);
	free(w->dir);
	OPENSSL_cleanse(w, sizeof(*w));
	free(w);
}

/* ---------------------------------------------------------------------- */

struct segment_reader {
	struct age_reader *ar;
	struct lacre_dbuf plain;           /* secret: decrypted, unparsed bytes */
	size_t pos;                        /* parsed up to here */
	int age_done;
	int state;                         /* 0 reading, 1 done, -1 failed */
	struct frame_segment_header hdr;
};

/* Map an age_reader_next error to the segment reader's contract. */
static int seg_map_chunk_err(int r)
{
	switch (r) {
	case LACRE_E_TRAILING:
	case LACRE_E_MALFORMED:
		return LACRE_E_CORRUPT;
	default:
		return r;
	}
}

/* Split the next frame off the plaintext, decrypting chunks as needed.
 * *have = 0 at the clean end of the plaintext. */
static int seg_next_frame(struct segment_reader *sr, uint8_t *type,
			  struct lacre_rbuf *body, int *have)
{
	struct lacre_rbuf b;
	int r, final = 0;

	for (;;) {
		lacre_rbuf_init(&b, sr->plain.p ? sr->plain.p + sr->pos : NULL,
				sr->plain.len - sr->pos);
		r = frame_next(&b, type, body);
		if (r == LACRE_OK) {
			sr->pos += b.off;
			*have = 1;
			return LACRE_OK;
		}
		if (r == LACRE_E_UNSUPPORTED)
			return r;
		if (r != LACRE_E_INCOMPLETE)
			return LACRE_E_CORRUPT;
		if (sr->age_done) {
			if (sr->pos == sr->plain.len) {
				*have = 0;
				return LACRE_OK;
			}
			return LACRE_E_CORRUPT; /* ends inside a frame */
		}
		/* keep only the partial frame, then add one chunk (a full reset
		 * would wipe the whole allocation each time) */
		if (sr->pos == sr->plain.len) {
			OPENSSL_cleanse(sr->plain.p, sr->plain.len);
			sr->plain.len = 0;
		} else {
			lacre_dbuf_consume(&sr->plain, sr->pos);
		}
		sr->pos = 0;
		if ((r = age_reader_next(sr->ar, &sr->plain, &final)) != LACRE_OK)
			return seg_map_chunk_err(r);
		sr->age_done = final;
	}
}

int segment_reader_new(const uint8_t *obj, size_t n, const struct age_x25519_identity *id,
		       const char *expected_name, struct segment_reader **rp)
{
	struct segment_reader *sr;
	struct lacre_rbuf body;
	uint8_t type;
	char name[SEGMENT_NAME_LEN + 1];
	int r, have = 0, listed = 0;

	if (!obj || !id || !rp)
		return LACRE_E_INVALID;
	if (!(sr = calloc(1, sizeof(*sr))))
		return LACRE_E_NOMEM;
	lacre_dbuf_init(&sr->plain, FRAME_HDR_SIZE + FRAME_BODY_MAX + 2 * AGE_CHUNK_SIZE);
	lacre_dbuf_set_secret(&sr->plain);
	if ((r = age_reader_new(obj, n, id, &sr->ar)) != LACRE_OK)
		goto fail;
	if ((r = seg_next_frame(sr, &type, &body, &have)) != LACRE_OK)
		goto fail;
	if (!have || type != FRAME_SEGMENT_HEADER) {
		r = LACRE_E_CORRUPT;
		goto fail;
	}
	r = frame_segment_header_decode_body(body, &sr->hdr);
	if (r != LACRE_OK) {
		r = r == LACRE_E_UNSUPPORTED ? r : LACRE_E_CORRUPT;
		goto fail;
	}
	for (size_t i = 0; i < sr->hdr.n_recipients; i++)
		if (CRYPTO_memcmp(sr->hdr.recipients[i], id->public_key, 32) == 0)
			listed = 1;
	if (!listed) {
		r = LACRE_E_VERIFY;
		goto fail;
	}
	if (expected_name) {
		for (int i = 0; i < 16; i++)
			snprintf(name + 2 * i, 3, "%02x", sr->hdr.id[i]);
		if (strcmp(name, expected_name) != 0) {
			r = LACRE_E_VERIFY;
			goto fail;
		}
	}
	*rp = sr;
	return LACRE_OK;
fail:
	segment_reader_free(sr);
	return r;
}

const struct frame_segment_header *segment_reader_header(const struct segment_reader *r)
{
	return r ? &r->hdr : NULL;
}

int segment_reader_next(struct segment_reader *sr, struct frame_record *rec, int *done)
{
	struct lacre_rbuf body;
	uint8_t type;
	int r, have = 0;

	if (!sr || !rec || !done)
		return LACRE_E_INVALID;
	if (sr->state == 1) {
		*done = 1;
		return LACRE_OK;
	}
	if (sr->state != 0)
		return LACRE_E_STATE;
	if ((r = seg_next_frame(sr, &type, &body, &have)) != LACRE_OK)
		goto fail;
	if (!have) {
		sr->state = 1;
		*done = 1;
		return LACRE_OK;
	}
	if (type != FRAME_RECORD) {
		r = LACRE_E_CORRUPT;
		goto fail;
	}
	if ((r = frame_record_decode_body(body, rec)) != LACRE_OK) {
		r = r == LACRE_E_UNSUPPORTED ? r : LACRE_E_CORRUPT;
		goto fail;
	}
	*done = 0;
	return LACRE_OK;
fail:
	sr->state = -1;
	return r;
}

int segment_reader_fingerprint(const struct segment_reader *sr, uint8_t fp[32])
{
	if (!sr || !fp)
		return LACRE_E_INVALID;
	if (sr->state != 1)
		return LACRE_E_STATE;
	return age_reader_fingerprint(sr->ar, fp);
}

void segment_reader_free(struct segment_reader *sr)
{
	if (!sr)
		return;
	age_reader_free(sr->ar);
	lacre_dbuf_free(&sr->plain);
	OPENSSL_cleanse(sr, sizeof(*sr));
	free(sr);
}

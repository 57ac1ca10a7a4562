/*
 * test_segment_inflight.c - an O_DIRECT segment writer whose background
 * write is slow goes on sealing into a third buffer instead of waiting
 * (segment.c SEG_INFLIGHT), waits only when two writes are in flight, and
 * every record still reads back in order.  A failed first write (EINVAL:
 * the fallback to ordinary writes) with a second one in flight loses
 * nothing either.
 *
 * How a slow disk is made: this test program defines aio_error,
 * aio_suspend, aio_return and aio_write, which the library's calls bind to
 * (the program's own definitions come first); they pass every call on to
 * glibc's, the real writes happen, but while `stalled` is set aio_error
 * reports a finished write as still in progress, as a disk that takes
 * its time would.  The first aio_suspend (the writer waiting) ends the
 * stall.  Runs in a disk folder (/var/tmp): tmpfs has no O_DIRECT, and
 * a folder without it is a failure, not a skip.
 */
#include <aio.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "lacre/age.h"
#include "lacre/buf.h"
#include "lacre/err.h"
#include "lacre/frame.h"
#include "lacre/segment.h"
#include "lacre/site.h"

static int stalled;              /* finished writes look in progress */
static int suspends;             /* aio_suspend calls (the writer waited) */
static int writes;               /* aio_write calls */
static int fail_write = -1;      /* this write (0-based) reports EINVAL */
static const struct aiocb *failing;

int aio_write(struct aiocb *a)
{
	static int (*real)(struct aiocb *);

	if (!real)
		*(void **)&real = dlsym(RTLD_NEXT, "aio_write");
	if (writes++ == fail_write)
		failing = a;
	return real(a);
}

int aio_error(const struct aiocb *a)
{
	static int (*real)(const struct aiocb *);
	int e;

	if (!real)
		*(void **)&real = dlsym(RTLD_NEXT, "aio_error");
	e = real(a);
	if (e == EINPROGRESS)
		return e;
	if (stalled)
		return EINPROGRESS;
	return a == failing ? EINVAL : e;
}

ssize_t aio_return(struct aiocb *a)
{
	static ssize_t (*real)(struct aiocb *);
	ssize_t k;

	if (!real)
		*(void **)&real = dlsym(RTLD_NEXT, "aio_return");
	k = real(a);
	if (a == failing) {
		failing = NULL;
		return -1;
	}
	return k;
}

int aio_suspend(const struct aiocb *const list[], int n, const struct timespec *t)
{
	static int (*real)(const struct aiocb *const[], int, const struct timespec *);

	if (!real)
		*(void **)&real = dlsym(RTLD_NEXT, "aio_suspend");
	suspends++;
	stalled = 0;
	return real(list, n, t);
}

struct seen {
	int n;
	char path[8][512];
	char name[8][SEGMENT_NAME_LEN + 1];
	uint64_t n_records[8];
};

static int on_close(void *arg, const struct segment_closed *c)
{
	struct seen *s = arg;

	if (s->n >= 8)
		return LACRE_E_INTERNAL;
	snprintf(s->path[s->n], sizeof(s->path[0]), "%s", c->path);
	memcpy(s->name[s->n], c->name, sizeof(s->name[0]));
	s->n_records[s->n] = c->n_records;
	s->n++;
	return LACRE_OK;
}

static uint8_t pdu[4000];

/* Record i: a 4000-byte PDU whose bytes depend on i. */
static void make_record(struct frame_record *r, int i)
{
	memset(r, 0, sizeof(*r));
	for (size_t k = 0; k < sizeof(pdu); k++)
		pdu[k] = (uint8_t)(i * 31 + k);
	r->recv_us = 1000000 + i;
	r->listener = 3;
	r->liid = frame_cstr("LIID-1");
	r->seq = (uint64_t)i;
	r->kind = 2;
	r->direction = FRAME_DIRECTION_NONE;
	r->route = FRAME_ROUTE_WARRANT;
	r->warrant = frame_cstr("W-1");
	r->pdu.p = pdu;
	r->pdu.len = sizeof(pdu);
}

/* Read back every closed segment of s: records 0..total-1 in order, each
 * PDU as make_record made it.  Returns the number read. */
static long read_back(const struct seen *s, const struct age_x25519_identity *id)
{
	struct frame_record rec, want;
	long k = 0;

	for (int j = 0; j < s->n; j++) {
		struct segment_reader *sr = NULL;
		struct lacre_dbuf obj;
		int done = 0;

		if (site_read_file(s->path[j], 256u << 20, &obj) != LACRE_OK)
			return -1;
		if (segment_reader_new(obj.p, obj.len, id, s->name[j], &sr) != LACRE_OK) {
			lacre_dbuf_free(&obj);
			return -1;
		}
		while (segment_reader_next(sr, &rec, &done) == LACRE_OK && !done) {
			make_record(&want, (int)k);
			if (rec.seq != (uint64_t)k || rec.pdu.len != sizeof(pdu) ||
			    memcmp(rec.pdu.p, pdu, sizeof(pdu)) != 0)
				break;
			k++;
		}
		segment_reader_free(sr);
		lacre_dbuf_free(&obj);
		if (!done)
			return -1;
	}
	return k;
}

/* Empty and remove folder dir. */
static void rm_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	while (d && (e = readdir(d)))
		if (e->d_name[0] != '.')
			unlinkat(dirfd(d), e->d_name, 0);
	if (d)
		closedir(d);
	rmdir(dir);
}

/* Write records until the writer has started `upto` background writes
 * (the first record index not yet written in *i). */
static void write_until(struct segment_writer *w, int *i, int upto)
{
	struct frame_record rec;

	while (writes < upto && *i < 100000) {
		make_record(&rec, *i);
		CHECK_OK(segment_writer_add(w, &rec, 5000 + *i, NULL));
		(*i)++;
	}
	CHECK_EQ_INT(writes, upto);
}

/* Seal into a fresh disk folder, O_DIRECT from the first byte, while
 * every background write looks slow; fail: the write (0-based) that
 * reports EINVAL, -1 none.  Checks when the writer waits, then that every
 * record reads back in order, and removes the folder. */
static void run(int fail)
{
	static struct seen s;
	struct age_x25519_identity id;
	struct segment_config cfg;
	struct segment_writer *w = NULL;
	char dir[] = "/var/tmp/lacre-test-inflight-XXXXXX";
	int i = 0;

	CHECK(mkdtemp(dir) != NULL);
	CHECK_OK(age_x25519_generate(&id));
	memset(&s, 0, sizeof(s));
	memset(&cfg, 0, sizeof(cfg));
	cfg.spool_dir = dir;
	cfg.recipients = (const uint8_t (*)[32])id.public_key;
	cfg.n_recipients = 1;
	cfg.max_plain = 64u << 20;
	cfg.max_age_us = 1000000000;
	cfg.on_close = on_close;
	cfg.arg = &s;
	cfg.no_sync = 1;
	cfg.direct_io = 1;
	cfg.direct_at_once = 1;
	writes = suspends = 0;
	fail_write = fail;
	failing = NULL;
	stalled = 1;
	CHECK_OK(segment_writer_new(&cfg, &w));
	write_until(w, &i, 1);
	CHECK_EQ_INT(segment_writer_direct(w), 1);
	/* the first write looks unfinished: the second goes out beside it,
	 * from a third buffer, and the writer has not waited */
	write_until(w, &i, 2);
	CHECK_EQ_INT(suspends, 0);
	/* what backpressure counts as still to be written: both writes */
	CHECK(segment_writer_unwritten(w) > (3u << 20));
	/* two in flight: for the third the writer waits for the oldest */
	write_until(w, &i, 3);
	CHECK_EQ_INT(suspends, 1);
	CHECK_EQ_INT(stalled, 0);
	/* a refused write turns O_DIRECT off for the rest of the segment */
	CHECK_EQ_INT(segment_writer_direct(w), fail == 0 ? 0 : 1);
	write_until(w, &i, fail >= 0 ? 3 : 6);
	CHECK_OK(segment_writer_flush(w, 99999999));
	segment_writer_free(w);
	CHECK(i > (fail >= 0 ? 1200 : 2500));
	CHECK_EQ_INT(s.n, 1);
	CHECK_EQ_INT(s.n_records[0], i);
	CHECK_EQ_INT(read_back(&s, &id), i);
	rm_dir(dir);
}

/* A slow write: the writer goes on into a third buffer, waits only with
 * two in flight, and every record reads back. */
static void test_third_buffer_instead_of_waiting(void)
{
	run(-1);
}

/* The first of two writes in flight fails with EINVAL (a file system that
 * took O_DIRECT at open but refuses the request): its bytes are written
 * again with ordinary writes at their offset, the second write is left as
 * it is, the segment goes on buffered, and every record reads back. */
static void test_failed_write_beside_another(void)
{
	run(0);
}

int main(void)
{
	RUN(test_third_buffer_instead_of_waiting);
	RUN(test_failed_write_beside_another);
	return t_done();
}

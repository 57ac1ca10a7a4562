/*
 * test_upload.c - the spool uploader: drains an outbox into a backend in
 * name order within a budget; keeps every file while the backend is down
 * and drains once it is back; recognises a file already sent (a crash
 * between put and delete); keeps a file whose name is taken by other bytes,
 * or whose put was acknowledged but not stored; moves files to "sent";
 * runs in a background thread; sends through several connections at once,
 * each file exactly once, and loses none when one of them is down.  Also
 * against S3 when S3_ENDPOINT is set.
 */
#include <arpa/inet.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "lacre/err.h"
#include "lacre/store.h"
#include "lacre/upload.h"

struct env {
	char outbox[PATH_MAX], objects[PATH_MAX], sent[PATH_MAX];
	struct lacre_store *spool;   /* dir: over outbox, for writing */
	struct lacre_store *backend; /* faulty: over dir: objects */
	struct lacre_store *objs;    /* dir: objects, to look behind faulty */
};

/* Fresh outbox, backend folder and stores. */
/* Monotonic milliseconds, to wait on conditions with a deadline. */
static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Generous deadline of every wait below: it bounds a hang, it paces nothing. */
#define WAIT_MS 30000

static int env_open(struct env *e)
{
	char spec[PATH_MAX + 16];
	const char *t = t_tmpdir();
	struct lacre_store *inner = NULL;
	int r;

	snprintf(e->outbox, sizeof(e->outbox), "%s/outbox", t);
	snprintf(e->objects, sizeof(e->objects), "%s/objects", t);
	snprintf(e->sent, sizeof(e->sent), "%s/sent", t);
	snprintf(spec, sizeof(spec), "dir:%s", e->outbox);
	if ((r = lacre_store_open(spec, &e->spool)) != LACRE_OK)
		return r;
	snprintf(spec, sizeof(spec), "dir:%s", e->objects);
	if ((r = lacre_store_open(spec, &inner)) != LACRE_OK)
		return r;
	if ((r = lacre_store_faulty_wrap(inner, 1, &e->backend)) != LACRE_OK)
		return r;
	return lacre_store_open(spec, &e->objs);
}

static void env_close(struct env *e)
{
	lacre_store_close(e->spool);
	lacre_store_close(e->backend);
	lacre_store_close(e->objs);
}

/* Count the objects of s. */
static int count_cb(void *arg, const char *name, uint64_t size)
{
	(void)name;
	(void)size;
	(*(size_t *)arg)++;
	return 0;
}

static size_t count(struct lacre_store *s)
{
	size_t n = 0;

	if (lacre_store_list(s, "", count_cb, &n) != LACRE_OK)
		return (size_t)-1;
	return n;
}

/* Whether object name on s holds exactly data. */
static int holds(struct lacre_store *s, const char *name, const char *data)
{
	struct lacre_dbuf b;
	int ok;

	lacre_dbuf_init(&b, 1 << 20);
	ok = lacre_store_get(s, name, 0, SIZE_MAX, &b) == LACRE_OK &&
	     b.len == strlen(data) && (b.len == 0 || memcmp(b.p, data, b.len) == 0);
	lacre_dbuf_free(&b);
	return ok;
}

static const char *files[][2] = {
	{ "seg/aa/0001", "first segment" },
	{ "seg/aa/0002", "second segment, a bit longer" },
	{ "seg/bb/0001", "" },
	{ "tile/0/000", "tile bytes" },
	{ "z", "last" },
};
#define NFILES (sizeof(files) / sizeof(files[0]))

/* Put every test file into the outbox. */
static int fill(struct env *e)
{
	for (size_t i = 0; i < NFILES; i++) {
		int r = lacre_store_put_if_absent(e->spool, files[i][0], files[i][1],
						  strlen(files[i][1]));
		if (r != LACRE_OK)
			return r;
	}
	return LACRE_OK;
}

static void test_drain_budget(void)
{
	struct env e = { 0 };
	struct upload_config cfg = { 0 };
	struct upload *u = NULL;
	struct upload_stats st;
	size_t moved = 99;

	CHECK_OK(env_open(&e));
	CHECK_OK(fill(&e));
	cfg.outbox = e.outbox;
	CHECK_OK(upload_open(&cfg, e.backend, &u));
	CHECK_OK(upload_drain(u, 2, &moved));
	CHECK_EQ_INT(moved, 2);
	CHECK_EQ_INT(count(e.spool), NFILES - 2);
	CHECK_EQ_INT(count(e.objs), 2);
	CHECK(holds(e.objs, "seg/aa/0001", files[0][1])); /* name order */
	CHECK(holds(e.objs, "seg/aa/0002", files[1][1]));
	upload_stats_get(u, &st);
	CHECK_EQ_INT(st.pending_files, NFILES - 2);
	CHECK_OK(upload_drain(u, 0, &moved));
	CHECK_EQ_INT(moved, NFILES - 2);
	CHECK_EQ_INT(count(e.spool), 0);
	for (size_t i = 0; i < NFILES; i++)
		CHECK(holds(e.objs, files[i][0], files[i][1]));
	upload_stats_get(u, &st);
	CHECK_EQ_INT(st.sent_files, NFILES);
	CHECK_EQ_INT(st.pending_files, 0);
	CHECK_EQ_INT(st.conflicts, 0);
	CHECK_OK(upload_drain(u, 0, &moved)); /* nothing to do */
	CHECK_EQ_INT(moved, 0);
	upload_close(u);
	env_close(&e);
}

/* A backlog past the scan's first arrays (64 names): one pass with a
 * budget of 100 sends the first 100 in name order and counts all 300 as
 * pending first; a pass with no budget sends the rest. */
static void test_drain_backlog(void)
{
	struct env e = { 0 };
	struct upload_config cfg = { 0 };
	struct upload *u = NULL;
	struct upload_stats st;
	char name[32], body[32];
	size_t moved = 0;

	CHECK_OK(env_open(&e));
	for (int i = 0; i < 300; i++) {
		snprintf(name, sizeof(name), "seg/%02d/%04d", i % 7, i);
		snprintf(body, sizeof(body), "segment %d", i);
		CHECK_OK(lacre_store_put_if_absent(e.spool, name, body, strlen(body)));
	}
	cfg.outbox = e.outbox;
	CHECK_OK(upload_open(&cfg, e.backend, &u));
	CHECK_OK(upload_drain(u, 100, &moved));
	CHECK_EQ_INT(moved, 100);
	upload_stats_get(u, &st);
	CHECK_EQ_INT(st.pending_files, 200);
	CHECK_EQ_INT(count(e.spool), 200);
	/* name order: seg/00/... first (every 7th file, 43 of them), then seg/01/... */
	CHECK(holds(e.objs, "seg/00/0294", "segment 294"));
	CHECK(holds(e.objs, "seg/01/0001", "segment 1"));
	CHECK(!holds(e.objs, "seg/06/0006", "segment 6"));
	CHECK_OK(upload_drain(u, 0, &moved));
	CHECK_EQ_INT(moved, 200);
	CHECK_EQ_INT(count(e.spool), 0);
	CHECK_EQ_INT(count(e.objs), 300);
	CHECK(holds(e.objs, "seg/06/0006", "segment 6"));
	upload_close(u);
	env_close(&e);
}

static void test_backend_down(void)
{
	struct env e = { 0 };
	struct upload_config cfg = { 0 };
	struct upload *u = NULL;
	struct upload_stats st;
	size_t moved = 99;
	int64_t t0, t1;
	int r;

	CHECK_OK(env_open(&e));
	CHECK_OK(fill(&e));
	cfg.outbox = e.outbox;
	cfg.retry_min_ms = 1000;
	CHECK_OK(upload_open(&cfg, e.backend, &u));
	CHECK_OK(lacre_store_faulty_set(e.backend, LACRE_STORE_FAULT_DOWN, NULL, 0));
	t0 = mono_ms(); /* the backoff starts after this, inside the drain */
	CHECK_EQ_INT(upload_drain(u, 0, &moved), LACRE_E_UNAVAILABLE);
	CHECK_EQ_INT(moved, 0);
	CHECK_EQ_INT(count(e.spool), NFILES); /* nothing lost */
	CHECK_EQ_INT(count(e.objs), 0);
	upload_stats_get(u, &st);
	CHECK(st.backend_down);
	CHECK_EQ_INT(st.unavailable, 1);
	/* back up, but still inside the backoff: no attempt yet (a drain that
	 * returns before t0 + retry_min_ms was surely inside it) */
	CHECK_OK(lacre_store_faulty_clear(e.backend, LACRE_STORE_FAULT_DOWN, NULL));
	r = upload_drain(u, 0, &moved);
	t1 = mono_ms();
	if (t1 - t0 >= 1000) {
		upload_close(u);
		env_close(&e);
		SKIP("the machine stalled %lld ms between two calls: the backoff window cannot be observed",
		     (long long)(t1 - t0));
	}
	CHECK_EQ_INT(r, LACRE_E_UNAVAILABLE);
	CHECK_EQ_INT(count(e.objs), 0);
	/* then the first drain that tries again moves everything: wait for it,
	 * and it came no earlier than the backoff allowed */
	while ((r = upload_drain(u, 0, &moved)) == LACRE_E_UNAVAILABLE && mono_ms() - t0 < WAIT_MS)
		usleep(10 * 1000);
	CHECK_OK(r);
	CHECK(mono_ms() - t0 >= 1000);
	CHECK_EQ_INT(moved, NFILES);
	CHECK_EQ_INT(count(e.spool), 0);
	for (size_t i = 0; i < NFILES; i++)
		CHECK(holds(e.objs, files[i][0], files[i][1]));
	upload_stats_get(u, &st);
	CHECK(!st.backend_down);
	upload_close(u);
	env_close(&e);
}

static void test_crash_between_put_and_delete(void)
{
	struct env e = { 0 };
	struct upload_config cfg = { 0 };
	struct upload *u = NULL;
	struct upload_stats st;
	size_t moved = 0;

	CHECK_OK(env_open(&e));
	CHECK_OK(fill(&e));
	/* an earlier run sent two files and died before deleting them */
	CHECK_OK(lacre_store_put_if_absent(e.objs, files[1][0], files[1][1],
					   strlen(files[1][1])));
	CHECK_OK(lacre_store_put_if_absent(e.objs, files[2][0], files[2][1],
					   strlen(files[2][1])));
	/* and someone else's bytes sit under a third name */
	CHECK_OK(lacre_store_put_if_absent(e.objs, files[3][0], "TAMPERED!!", 10));
	cfg.outbox = e.outbox;
	CHECK_OK(upload_open(&cfg, e.backend, &u));
	CHECK_OK(upload_drain(u, 0, &moved));
	CHECK_EQ_INT(moved, NFILES - 1);
	upload_stats_get(u, &st);
	CHECK_EQ_INT(st.already_there, 2);
	CHECK_EQ_INT(st.sent_files, NFILES - 3);
	CHECK_EQ_INT(st.conflicts, 1);
	CHECK_EQ_INT(st.last_err, LACRE_E_EXISTS);
	CHECK_STR(st.last_name, files[3][0]);
	/* the conflicting file is kept, the backend's object untouched */
	CHECK_EQ_INT(count(e.spool), 1);
	CHECK(holds(e.spool, files[3][0], files[3][1]));
	CHECK(holds(e.objs, files[3][0], "TAMPERED!!"));
	upload_close(u);
	env_close(&e);
}

static void test_lying_backend_keeps_files(void)
{
	struct env e = { 0 };
	struct upload_config cfg = { 0 };
	struct upload *u = NULL;
	struct upload_stats st;
	size_t moved = 0;

	CHECK_OK(env_open(&e));
	CHECK_OK(fill(&e));
	cfg.outbox = e.outbox;
	CHECK_OK(upload_open(&cfg, e.backend, &u));
	/* puts acknowledged but not stored: stat finds nothing */
	CHECK_OK(lacre_store_faulty_set(e.backend, LACRE_STORE_FAULT_LOSE_PUT,
					"seg/aa/0002", 0));
	/* a backend that reports a wrong size */
	CHECK_OK(lacre_store_faulty_set(e.backend, LACRE_STORE_FAULT_TRUNCATE,
					"z", 2));
	CHECK_OK(upload_drain(u, 0, &moved));
	CHECK_EQ_INT(moved, NFILES - 2);
	upload_stats_get(u, &st);
	CHECK_EQ_INT(st.verify_failures, 2);
	CHECK(holds(e.spool, "seg/aa/0002", files[1][1]));
	CHECK(holds(e.spool, "z", files[4][1]));
	/* honest again: the next pass finishes the job */
	CHECK_OK(lacre_store_faulty_clear(e.backend, 0, NULL));
	CHECK_OK(upload_drain(u, 0, &moved));
	CHECK_EQ_INT(moved, 2);
	CHECK_EQ_INT(count(e.spool), 0);
	for (size_t i = 0; i < NFILES; i++)
		CHECK(holds(e.objs, files[i][0], files[i][1]));
	upload_close(u);
	env_close(&e);
}

static void test_sent_folder_and_prefix(void)
{
	struct env e = { 0 };
	struct upload_config cfg = { 0 };
	struct upload *u = NULL;
	size_t moved = 0;
	char path[PATH_MAX + 64];
	struct stat sb;

	CHECK_OK(env_open(&e));
	CHECK_OK(fill(&e));
	cfg.outbox = e.outbox;
	cfg.sent = e.sent;
	cfg.name_prefix = "node1/";
	CHECK_OK(upload_open(&cfg, e.backend, &u));
	CHECK_OK(upload_drain(u, 0, &moved));
	CHECK_EQ_INT(moved, NFILES);
	CHECK_EQ_INT(count(e.spool), 0);
	CHECK(holds(e.objs, "node1/seg/aa/0001", files[0][1]));
	CHECK(holds(e.objs, "node1/z", files[4][1]));
	snprintf(path, sizeof(path), "%s/seg/aa/0002", e.sent);
	CHECK(stat(path, &sb) == 0);
	CHECK_EQ_INT(sb.st_size, strlen(files[1][1]));
	upload_close(u);
	cfg.name_prefix = "../x/";
	CHECK_EQ_INT(upload_open(&cfg, e.backend, &u), LACRE_E_CONFIG);
	cfg.name_prefix = NULL;
	cfg.outbox = "";
	CHECK_EQ_INT(upload_open(&cfg, e.backend, &u), LACRE_E_CONFIG);
	env_close(&e);
}

static void test_thread(void)
{
	struct env e = { 0 };
	struct upload_config cfg = { 0 };
	struct upload *u = NULL;
	struct upload_stats st;
	int64_t t0;

	CHECK_OK(env_open(&e));
	cfg.outbox = e.outbox;
	cfg.retry_min_ms = 20;
	CHECK_OK(upload_open(&cfg, e.backend, &u));
	CHECK_OK(upload_start(u, 10));
	CHECK_EQ_INT(upload_start(u, 10), LACRE_E_STATE);
	CHECK_OK(lacre_store_faulty_set(e.backend, LACRE_STORE_FAULT_DOWN, NULL, 0));
	CHECK_OK(fill(&e));
	/* wait until the background uploader has tried and found the backend
	 * down: then nothing may have left the spool */
	t0 = mono_ms();
	do {
		upload_stats_get(u, &st);
		if (st.unavailable >= 1)
			break;
		usleep(10 * 1000);
	} while (mono_ms() - t0 < WAIT_MS);
	CHECK(st.unavailable >= 1);
	CHECK_EQ_INT(count(e.spool), NFILES);
	CHECK_OK(lacre_store_faulty_clear(e.backend, LACRE_STORE_FAULT_DOWN, NULL));
	t0 = mono_ms();
	while (count(e.spool) != 0 && mono_ms() - t0 < WAIT_MS)
		usleep(10 * 1000);
	CHECK_EQ_INT(count(e.spool), 0);
	upload_stop(u);
	upload_stats_get(u, &st);
	CHECK_EQ_INT(st.sent_files, NFILES);
	CHECK(st.unavailable >= 1);
	for (size_t i = 0; i < NFILES; i++)
		CHECK(holds(e.objs, files[i][0], files[i][1]));
	upload_close(u);
	env_close(&e);
}

/* Parallel sends (upload_config.more): three more connections, each a dir:
 * store over a folder of its own, so where an object lands says which
 * connection sent it.  Every file goes exactly once; a connection that is
 * down stops the pass with every file either still in the outbox or sent
 * whole, never lost; the next passes finish. */
#define PAR_N 3
#define PAR_FILES 48

static void par_name(char *out, size_t n, int round, int i)
{
	snprintf(out, n, "seg/%02d/%d-%04d", i % 7, round, i);
}

static void par_data(char *out, size_t n, int round, int i)
{
	snprintf(out, n, "segment %d of round %d, %.*s", i, round, i % 40,
		 "0123456789abcdefghijklmnopqrstuvwxyzABCD");
}

/* Which of the stores (the main objects store first, then more[]) hold
 * name with exactly its data: 0 none, else 1 + index; -1 for two or a
 * wrong content. */
static int par_where(struct lacre_store *main_objs, struct lacre_store **raw, const char *name,
		     const char *data)
{
	struct lacre_dbuf b;
	int where = 0;

	lacre_dbuf_init(&b, 1 << 16);
	for (int k = 0; k <= PAR_N; k++) {
		struct lacre_store *s = k == 0 ? main_objs : raw[k - 1];
		lacre_dbuf_reset(&b);
		if (lacre_store_get(s, name, 0, SIZE_MAX, &b) != LACRE_OK)
			continue;
		if (where || b.len != strlen(data) || memcmp(b.p, data, b.len) != 0) {
			where = -1;
			break;
		}
		where = 1 + k;
	}
	lacre_dbuf_free(&b);
	return where;
}

static void test_parallel_connections(void)
{
	struct env e = { 0 };
	struct upload_config cfg = { 0 };
	struct upload *u = NULL;
	struct upload_stats st;
	struct lacre_store *more[PAR_N] = { NULL }, *raw[PAR_N] = { NULL };
	char spec[PATH_MAX + 32], name[64], data[128];
	size_t moved = 0, used[PAR_N + 1] = { 0 }, in_outbox = 0, sent = 0;
	int64_t t0;
	int r;

	CHECK_OK(env_open(&e));
	for (int k = 0; k < PAR_N; k++) {
		struct lacre_store *inner = NULL;
		snprintf(spec, sizeof(spec), "dir:%s/more%d", t_tmpdir(), k);
		CHECK_OK(lacre_store_open(spec, &inner));
		CHECK_OK(lacre_store_faulty_wrap(inner, 1, &more[k]));
		CHECK_OK(lacre_store_open(spec, &raw[k]));
	}
	cfg.outbox = e.outbox;
	cfg.retry_min_ms = 20;
	cfg.more = more;
	cfg.n_more = PAR_N;
	CHECK_OK(upload_open(&cfg, e.backend, &u));
	/* round 1: all up */
	for (int i = 0; i < PAR_FILES; i++) {
		par_name(name, sizeof(name), 1, i);
		par_data(data, sizeof(data), 1, i);
		CHECK_OK(lacre_store_put_if_absent(e.spool, name, data, strlen(data)));
	}
	CHECK_OK(upload_drain(u, 0, &moved));
	CHECK_EQ_INT(moved, PAR_FILES);
	CHECK_EQ_INT(count(e.spool), 0);
	for (int i = 0; i < PAR_FILES; i++) {
		int w;
		par_name(name, sizeof(name), 1, i);
		par_data(data, sizeof(data), 1, i);
		w = par_where(e.objs, raw, name, data);
		CHECK(w >= 1);   /* exactly once, whole */
		used[w - 1]++;
	}
	{
		int busy = 0;
		for (int k = 0; k <= PAR_N; k++)
			busy += used[k] > 0;
		CHECK(busy >= 2);   /* the pass did use more than one connection */
	}
	upload_stats_get(u, &st);
	CHECK_EQ_INT(st.sent_files, PAR_FILES);
	CHECK_EQ_INT(st.pending_files, 0);
	/* round 2: one connection down: the pass stops, nothing is lost */
	for (int i = 0; i < PAR_FILES; i++) {
		par_name(name, sizeof(name), 2, i);
		par_data(data, sizeof(data), 2, i);
		CHECK_OK(lacre_store_put_if_absent(e.spool, name, data, strlen(data)));
	}
	CHECK_OK(lacre_store_faulty_set(more[1], LACRE_STORE_FAULT_DOWN, NULL, 0));
	r = upload_drain(u, 0, &moved);
	CHECK(r == LACRE_E_UNAVAILABLE || r == LACRE_OK);   /* OK: connection 1 got no file */
	for (int i = 0; i < PAR_FILES; i++) {
		int w;
		par_name(name, sizeof(name), 2, i);
		par_data(data, sizeof(data), 2, i);
		w = par_where(e.objs, raw, name, data);
		CHECK(w >= 0);
		if (w == 0) {
			CHECK(holds(e.spool, name, data));   /* kept */
			in_outbox++;
		} else {
			CHECK(!holds(e.spool, name, data));  /* sent, then removed */
			sent++;
		}
	}
	CHECK_EQ_INT(sent, moved);
	CHECK_EQ_INT(in_outbox + sent, PAR_FILES);
	CHECK_EQ_INT(count(e.spool), in_outbox);
	/* back up: the next passes (after the backoff) send the rest */
	CHECK_OK(lacre_store_faulty_clear(more[1], LACRE_STORE_FAULT_DOWN, NULL));
	t0 = mono_ms();
	while (count(e.spool) != 0 && mono_ms() - t0 < WAIT_MS) {
		(void)upload_drain(u, 0, &moved);
		usleep(5 * 1000);
	}
	CHECK_EQ_INT(count(e.spool), 0);
	for (int i = 0; i < PAR_FILES; i++) {
		par_name(name, sizeof(name), 2, i);
		par_data(data, sizeof(data), 2, i);
		CHECK(par_where(e.objs, raw, name, data) >= 1);
	}
	upload_stats_get(u, &st);
	CHECK_EQ_INT(st.sent_files, 2 * PAR_FILES);
	upload_close(u);
	for (int k = 0; k < PAR_N; k++) {
		lacre_store_close(more[k]);
		lacre_store_close(raw[k]);
	}
	/* more than UPLOAD_MORE_MAX, or a count without the array: refused */
	cfg.more = NULL;
	cfg.n_more = 1;
	CHECK_EQ_INT(upload_open(&cfg, e.backend, &u), LACRE_E_CONFIG);
	cfg.more = more;
	cfg.n_more = UPLOAD_MORE_MAX + 1;
	CHECK_EQ_INT(upload_open(&cfg, e.backend, &u), LACRE_E_CONFIG);
	env_close(&e);
}

static void test_s3_down_keeps_files(void)
{
	struct env e = { 0 };
	struct upload_config cfg = { 0 };
	struct lacre_s3_config sc = { 0 };
	struct lacre_store *s3 = NULL;
	struct upload *u = NULL;
	struct upload_stats st;
	size_t moved = 9;
	char ep[64];
	int fd, port;
	struct sockaddr_in a;
	socklen_t l = sizeof(a);

	/* an S3 endpoint on a loopback port nothing listens on */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK(fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
	CHECK(getsockname(fd, (struct sockaddr *)&a, &l) == 0);
	port = ntohs(a.sin_port);
	close(fd);
	snprintf(ep, sizeof(ep), "http://127.0.0.1:%d", port);
	CHECK_OK(env_open(&e));
	CHECK_OK(fill(&e));
	sc.endpoint = ep;
	sc.bucket = "nowhere";
	sc.access_key = "AK";
	sc.secret_key = "SK";
	sc.retries = 1;
	sc.retry_base_ms = 5;
	CHECK_OK(lacre_store_open_s3(&sc, &s3));
	cfg.outbox = e.outbox;
	CHECK_OK(upload_open(&cfg, s3, &u));
	CHECK_EQ_INT(upload_drain(u, 0, &moved), LACRE_E_UNAVAILABLE);
	CHECK_EQ_INT(moved, 0);
	CHECK_EQ_INT(count(e.spool), NFILES);
	for (size_t i = 0; i < NFILES; i++)
		CHECK(holds(e.spool, files[i][0], files[i][1]));
	upload_stats_get(u, &st);
	CHECK(st.backend_down);
	CHECK_EQ_INT(st.pending_files, NFILES);
	upload_close(u);
	lacre_store_close(s3);
	env_close(&e);
}

static void test_s3_backend(void)
{
	struct env e = { 0 };
	struct upload_config cfg = { 0 };
	struct lacre_s3_config sc = { 0 };
	struct lacre_store *s3 = NULL;
	struct upload *u = NULL;
	char bucket[64], prefix[64];
	size_t moved = 0;
	const char *req = getenv("LACRE_TEST_S3");

	if (!getenv("S3_ENDPOINT") && !(req && *req))
		SKIP("S3_ENDPOINT not set (start ../shared/services/s3-up)");
	CHECK_OK(env_open(&e));
	CHECK_OK(fill(&e));
	snprintf(bucket, sizeof(bucket), "lacre-upload-test");
	snprintf(prefix, sizeof(prefix), "run-%ld-%ld", (long)getpid(),
		 (long)time(NULL));
	sc.bucket = bucket;
	sc.prefix = prefix;
	CHECK_OK(lacre_store_open_s3(&sc, &s3));
	cfg.outbox = e.outbox;
	CHECK_OK(upload_open(&cfg, s3, &u));
	CHECK_OK(upload_drain(u, 0, &moved));
	CHECK_EQ_INT(moved, NFILES);
	CHECK_EQ_INT(count(e.spool), 0);
	CHECK_EQ_INT(count(s3), NFILES);
	for (size_t i = 0; i < NFILES; i++)
		CHECK(holds(s3, files[i][0], files[i][1]));
	upload_close(u);
	lacre_store_close(s3);
	env_close(&e);
}

int main(void)
{
	RUN(test_drain_budget);
	RUN(test_drain_backlog);
	RUN(test_backend_down);
	RUN(test_crash_between_put_and_delete);
	RUN(test_lying_backend_keeps_files);
	RUN(test_sent_folder_and_prefix);
	RUN(test_thread);
	RUN(test_parallel_connections);
	RUN(test_s3_down_keeps_files);
	RUN(test_s3_backend);
	return t_done();
}

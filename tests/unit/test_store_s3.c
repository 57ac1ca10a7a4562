/*
 * test_store_s3.c - the s3:// backend against a real S3 server (Ceph RGW
 * from ../shared/services/s3-up): every operation, If-None-Match 412,
 * range GETs, multipart (40 MiB), list pagination (> 1000 keys with a
 * small max-keys), racing creates, and retries ending in
 * LACRE_E_UNAVAILABLE on a closed port.
 *
 * Runs when S3_ENDPOINT is set; fails (never skips) when LACRE_TEST_S3 is
 * set and the server is unusable; skips (0 tests) when neither is set.
 * Each run uses its own bucket, so runs do not see each other's objects.
 */
#include <arpa/inet.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "lacre/err.h"
#include "lacre/store.h"

static char bucket[64];

/* Open a store on this run's bucket under prefix, with options. */
static int open_s3(const char *prefix, int max_keys, struct lacre_store **out)
{
	struct lacre_s3_config cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.bucket = bucket;
	cfg.prefix = prefix;
	cfg.list_max_keys = max_keys;
	cfg.retries = 2;
	cfg.retry_base_ms = 50;
	return lacre_store_open_s3(&cfg, out);
}

/* Deterministic test bytes. */
static uint8_t *pattern(size_t n, unsigned seed)
{
	uint8_t *p = malloc(n ? n : 1);
	uint32_t x = seed * 2654435761u + 1;

	if (!p)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (uint8_t)x;
	}
	return p;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The server must be usable: the bucket can be created. */
static void test_s3_server_usable(void)
{
	struct lacre_store *s = NULL;

	CHECK(getenv("S3_ENDPOINT") != NULL);
	CHECK_OK(open_s3("", 0, &s));
	CHECK_OK(lacre_store_s3_ensure_bucket(s));
	CHECK_OK(lacre_store_s3_ensure_bucket(s)); /* again: already ours */
	lacre_store_close(s);
}

static void test_s3_config(void)
{
	struct lacre_s3_config cfg;
	struct lacre_store *s = NULL;
	char spec[128];

	memset(&cfg, 0, sizeof(cfg));
	cfg.bucket = bucket;
	cfg.endpoint = "http://10.1.2.3:7480";
	CHECK_EQ_INT(lacre_store_open_s3(&cfg, &s), LACRE_E_CONFIG);
	cfg.endpoint = "http://s3.example.com";
	CHECK_EQ_INT(lacre_store_open_s3(&cfg, &s), LACRE_E_CONFIG);
	cfg.endpoint = "http://127.0.0.1.example.com:80";
	CHECK_EQ_INT(lacre_store_open_s3(&cfg, &s), LACRE_E_CONFIG);
	cfg.endpoint = "http://user@127.0.0.1:80";
	CHECK_EQ_INT(lacre_store_open_s3(&cfg, &s), LACRE_E_CONFIG);
	cfg.endpoint = "ftp://127.0.0.1";
	CHECK_EQ_INT(lacre_store_open_s3(&cfg, &s), LACRE_E_CONFIG);
	CHECK(s == NULL);
	cfg.endpoint = "http://s3.example.com";
	cfg.allow_remote = 1; /* allowed, and open does no I/O */
	CHECK_OK(lacre_store_open_s3(&cfg, &s));
	lacre_store_close(s);
	s = NULL;
	cfg.endpoint = NULL;
	cfg.allow_remote = 0;
	cfg.bucket = "UPPER";
	CHECK_EQ_INT(lacre_store_open_s3(&cfg, &s), LACRE_E_CONFIG);
	cfg.bucket = "ab";
	CHECK_EQ_INT(lacre_store_open_s3(&cfg, &s), LACRE_E_CONFIG);
	cfg.bucket = bucket;
	cfg.prefix = "../x";
	CHECK_EQ_INT(lacre_store_open_s3(&cfg, &s), LACRE_E_CONFIG);
	cfg.prefix = NULL;
	cfg.secret_key = NULL;
	cfg.access_key = "bad key!";
	CHECK_EQ_INT(lacre_store_open_s3(&cfg, &s), LACRE_E_CONFIG);
	CHECK(s == NULL);
	/* from a spec, with the environment */
	snprintf(spec, sizeof(spec), "s3://%s/spec-prefix", bucket);
	CHECK_OK(lacre_store_open(spec, &s));
	CHECK(strstr(lacre_store_describe(s), "s3://") != NULL);
	CHECK(strstr(lacre_store_describe(s), getenv("S3_SECRET_KEY")) == NULL);
	CHECK_OK(lacre_store_put_if_absent(s, "x", "y", 1));
	lacre_store_close(s);
}

static void test_s3_objects(void)
{
	struct lacre_store *s = NULL, *other = NULL;
	struct lacre_dbuf b;
	uint64_t size = 7;
	uint8_t *data = pattern(10000, 1);

	CHECK(data != NULL);
	CHECK_OK(open_s3("objects", 0, &s));
	CHECK_OK(open_s3("other", 0, &other));
	lacre_dbuf_init(&b, 1 << 20);
	CHECK_OK(lacre_store_put_if_absent(s, "seg/ab/0001", data, 10000));
	CHECK_EQ_INT(lacre_store_put_if_absent(s, "seg/ab/0001", "zz", 2),
		     LACRE_E_EXISTS);
	CHECK_OK(lacre_store_get(s, "seg/ab/0001", 0, SIZE_MAX, &b));
	CHECK_EQ_INT(b.len, 10000);
	CHECK(memcmp(b.p, data, 10000) == 0);
	/* the prefix isolates stores */
	CHECK_EQ_INT(lacre_store_stat(other, "seg/ab/0001", &size),
		     LACRE_E_NOT_FOUND);
	CHECK_EQ_INT(size, 7);
	CHECK_OK(lacre_store_stat(s, "seg/ab/0001", &size));
	CHECK_EQ_INT(size, 10000);
	CHECK_EQ_INT(lacre_store_stat(s, "seg/ab/none", &size), LACRE_E_NOT_FOUND);

	/* ranges */
	lacre_dbuf_reset(&b);
	CHECK_OK(lacre_dbuf_add(&b, "pre", 3));
	CHECK_OK(lacre_store_get(s, "seg/ab/0001", 100, 50, &b));
	CHECK_EQ_INT(b.len, 53);
	CHECK(memcmp(b.p + 3, data + 100, 50) == 0);
	lacre_dbuf_reset(&b);
	CHECK_OK(lacre_store_get(s, "seg/ab/0001", 9990, 100, &b));
	CHECK_EQ_INT(b.len, 10);
	CHECK(memcmp(b.p, data + 9990, 10) == 0);
	lacre_dbuf_reset(&b);
	CHECK_OK(lacre_store_get(s, "seg/ab/0001", 5000, SIZE_MAX, &b));
	CHECK_EQ_INT(b.len, 5000);
	CHECK(memcmp(b.p, data + 5000, 5000) == 0);
	lacre_dbuf_reset(&b);
	CHECK_OK(lacre_store_get(s, "seg/ab/0001", 10000, SIZE_MAX, &b));
	CHECK_EQ_INT(b.len, 0);
	CHECK_EQ_INT(lacre_store_get(s, "seg/ab/0001", 10001, 5, &b), LACRE_E_RANGE);
	CHECK_OK(lacre_store_get(s, "seg/ab/0001", 10, 0, &b));
	CHECK_EQ_INT(b.len, 0);
	CHECK_EQ_INT(lacre_store_get(s, "seg/ab/none", 0, SIZE_MAX, &b),
		     LACRE_E_NOT_FOUND);
	lacre_dbuf_free(&b);
	lacre_dbuf_init(&b, 1001);
	CHECK_EQ_INT(lacre_store_get(s, "seg/ab/0001", 0, SIZE_MAX, &b),
		     LACRE_E_TOO_LARGE);
	CHECK_EQ_INT(b.len, 0);
	CHECK_OK(lacre_store_get(s, "seg/ab/0001", 0, 1000, &b));
	CHECK_EQ_INT(b.len, 1000);
	lacre_dbuf_free(&b);
	lacre_dbuf_init(&b, 1 << 20);

	/* replace, empty objects, delete */
	CHECK_OK(lacre_store_put_replace(s, "seg/ab/0001", "new", 3));
	CHECK_OK(lacre_store_get(s, "seg/ab/0001", 0, SIZE_MAX, &b));
	CHECK_EQ_INT(b.len, 3);
	CHECK_MEM(b.p, "new", 3);
	CHECK_OK(lacre_store_put_if_absent(s, "empty", "", 0));
	CHECK_OK(lacre_store_stat(s, "empty", &size));
	CHECK_EQ_INT(size, 0);
	lacre_dbuf_reset(&b);
	CHECK_OK(lacre_store_get(s, "empty", 0, SIZE_MAX, &b));
	CHECK_EQ_INT(b.len, 0);
	CHECK_OK(lacre_store_del(s, "seg/ab/0001"));
	CHECK_EQ_INT(lacre_store_del(s, "seg/ab/0001"), LACRE_E_NOT_FOUND);
	CHECK_EQ_INT(lacre_store_get(s, "seg/ab/0001", 0, SIZE_MAX, &b),
		     LACRE_E_NOT_FOUND);
	CHECK_OK(lacre_store_put_if_absent(s, "seg/ab/0001", "again", 5));
	CHECK_EQ_INT(lacre_store_put_if_absent(s, "Bad", "x", 1), LACRE_E_INVALID);
	lacre_dbuf_free(&b);
	free(data);
	lacre_store_close(s);
	lacre_store_close(other);
}

struct seen {
	size_t n;
	char first[64], last[64];
	int ordered;
	uint64_t total;
	size_t stop_at;
};

/* list callback: count, check order, remember first and last. */
static int seen_cb(void *arg, const char *name, uint64_t size)
{
	struct seen *c = arg;

	if (c->n == 0)
		snprintf(c->first, sizeof(c->first), "%s", name);
	else if (strcmp(c->last, name) >= 0)
		c->ordered = 0;
	snprintf(c->last, sizeof(c->last), "%s", name);
	c->n++;
	c->total += size;
	return c->stop_at && c->n == c->stop_at ? 7 : 0;
}

struct fill {
	int from, to;
	int err;
};

/* Thread: create keys k/NNNNN for NNNNN in [from, to). */
static void *fill_thread(void *arg)
{
	struct fill *f = arg;
	struct lacre_store *s = NULL;
	char name[32];

	f->err = open_s3("list", 0, &s);
	for (int i = f->from; i < f->to && f->err == LACRE_OK; i++) {
		snprintf(name, sizeof(name), "k/%05d", i);
		f->err = lacre_store_put_if_absent(s, name, name, 7);
	}
	lacre_store_close(s);
	return NULL;
}

static void test_s3_list_pagination(void)
{
	enum { N = 1100, T = 4 };
	struct lacre_store *s = NULL;
	struct seen c;
	pthread_t th[T];
	struct fill f[T];

	for (int t = 0; t < T; t++) {
		f[t].from = t * N / T;
		f[t].to = (t + 1) * N / T;
		CHECK(pthread_create(&th[t], NULL, fill_thread, &f[t]) == 0);
	}
	for (int t = 0; t < T; t++)
		pthread_join(th[t], NULL);
	for (int t = 0; t < T; t++)
		CHECK_OK(f[t].err);
	CHECK_OK(open_s3("list", 97, &s)); /* 12 pages */
	CHECK_OK(lacre_store_put_if_absent(s, "j", "j", 1));
	CHECK_OK(lacre_store_put_if_absent(s, "l/x", "lx", 2));
	memset(&c, 0, sizeof(c));
	c.ordered = 1;
	CHECK_OK(lacre_store_list(s, "", seen_cb, &c));
	CHECK_EQ_INT(c.n, N + 2);
	CHECK(c.ordered);
	CHECK_STR(c.first, "j");
	CHECK_STR(c.last, "l/x");
	CHECK_EQ_INT(c.total, 7 * N + 3);
	memset(&c, 0, sizeof(c));
	c.ordered = 1;
	CHECK_OK(lacre_store_list(s, "k/000", seen_cb, &c));
	CHECK_EQ_INT(c.n, 100);
	CHECK_STR(c.first, "k/00000");
	CHECK_STR(c.last, "k/00099");
	memset(&c, 0, sizeof(c));
	c.ordered = 1;
	c.stop_at = 150;
	CHECK_EQ_INT(lacre_store_list(s, "k/", seen_cb, &c), 7);
	CHECK_EQ_INT(c.n, 150);
	CHECK_STR(c.last, "k/00149");
	memset(&c, 0, sizeof(c));
	CHECK_OK(lacre_store_list(s, "nothing/", seen_cb, &c));
	CHECK_EQ_INT(c.n, 0);
	lacre_store_close(s);
}

static void test_s3_multipart(void)
{
	const size_t n = (size_t)40 << 20;
	struct lacre_store *s = NULL;
	struct lacre_dbuf b;
	uint8_t *data = pattern(n, 2), *other = pattern(n, 3);
	uint64_t size = 0;
	const size_t part = (size_t)8 << 20;
	char path[PATH_MAX];
	FILE *f;

	CHECK(data && other);
	CHECK_OK(open_s3("mp", 0, &s));
	CHECK_OK(lacre_store_put_if_absent(s, "big", data, n));
	CHECK_OK(lacre_store_stat(s, "big", &size));
	CHECK_EQ_INT(size, n);
	/* the existence check before CompleteMultipartUpload */
	CHECK_EQ_INT(lacre_store_put_if_absent(s, "big", other, n), LACRE_E_EXISTS);
	lacre_dbuf_init(&b, n + 1);
	CHECK_OK(lacre_store_get(s, "big", 0, SIZE_MAX, &b));
	CHECK_EQ_INT(b.len, n);
	CHECK(memcmp(b.p, data, n) == 0);
	lacre_dbuf_reset(&b);
	CHECK_OK(lacre_store_get(s, "big", part - 10, 20, &b)); /* across parts */
	CHECK_EQ_INT(b.len, 20);
	CHECK(memcmp(b.p, data + part - 10, 20) == 0);
	/* replace with another large object */
	CHECK_OK(lacre_store_put_replace(s, "big", other, n - 12345));
	lacre_dbuf_reset(&b);
	CHECK_OK(lacre_store_get(s, "big", 0, SIZE_MAX, &b));
	CHECK_EQ_INT(b.len, n - 12345);
	CHECK(memcmp(b.p, other, n - 12345) == 0);
	/* a large file, streamed in parts */
	snprintf(path, sizeof(path), "%s/big.bin", t_tmpdir());
	f = fopen(path, "wb");
	CHECK(f != NULL);
	CHECK(fwrite(data, 1, 20 << 20, f) == (size_t)20 << 20);
	fclose(f);
	CHECK_OK(lacre_store_put_file_if_absent(s, "bigfile", path));
	CHECK_EQ_INT(lacre_store_put_file_if_absent(s, "bigfile", path),
		     LACRE_E_EXISTS);
	lacre_dbuf_reset(&b);
	CHECK_OK(lacre_store_get(s, "bigfile", 0, SIZE_MAX, &b));
	CHECK_EQ_INT(b.len, 20 << 20);
	CHECK(memcmp(b.p, data, 20 << 20) == 0);
	CHECK_OK(lacre_store_del(s, "big"));
	CHECK_OK(lacre_store_del(s, "bigfile"));
	lacre_dbuf_free(&b);
	free(data);
	free(other);
	lacre_store_close(s);
}

struct racer {
	int id;
	int result;
};

/* Thread: its own handle, try to create "race/obj". */
static void *race_thread(void *arg)
{
	struct racer *r = arg;
	struct lacre_store *s = NULL;
	char data[32];

	memset(data, 'a' + r->id, sizeof(data));
	r->result = open_s3("race", 0, &s);
	if (r->result == LACRE_OK)
		r->result = lacre_store_put_if_absent(s, "race/obj", data,
						      sizeof(data));
	lacre_store_close(s);
	return NULL;
}

static void test_s3_race(void)
{
	enum { N = 8 };
	pthread_t th[N];
	struct racer r[N];
	int ok = 0, exists = 0, winner = -1;
	struct lacre_store *s = NULL;
	struct lacre_dbuf b;

	for (int i = 0; i < N; i++) {
		r[i].id = i;
		CHECK(pthread_create(&th[i], NULL, race_thread, &r[i]) == 0);
	}
	for (int i = 0; i < N; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < N; i++) {
		if (r[i].result == LACRE_OK) {
			ok++;
			winner = i;
		} else if (r[i].result == LACRE_E_EXISTS) {
			exists++;
		}
	}
	CHECK_EQ_INT(ok, 1);
	CHECK_EQ_INT(exists, N - 1);
	CHECK_OK(open_s3("race", 0, &s));
	lacre_dbuf_init(&b, 100);
	CHECK_OK(lacre_store_get(s, "race/obj", 0, SIZE_MAX, &b));
	CHECK_EQ_INT(b.len, 32);
	CHECK_EQ_INT(b.p[0], 'a' + winner);
	lacre_dbuf_free(&b);
	lacre_store_close(s);
}

/* A TCP port on 127.0.0.1 that nothing listens on (just closed). */
static int closed_port(void)
{
	struct sockaddr_in a;
	socklen_t l = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &l) != 0)
		return -1;
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

static void test_s3_unavailable(void)
{
	struct lacre_s3_config cfg;
	struct lacre_store *s = NULL;
	struct lacre_dbuf b;
	char ep[64];
	uint64_t size;
	double t0, dt;
	int port = closed_port();

	CHECK(port > 0);
	snprintf(ep, sizeof(ep), "http://127.0.0.1:%d", port);
	memset(&cfg, 0, sizeof(cfg));
	cfg.endpoint = ep;
	cfg.bucket = bucket;
	cfg.retries = 3;
	cfg.retry_base_ms = 40; /* waits >= 20 + 40 + 80 ms */
	CHECK_OK(lacre_store_open_s3(&cfg, &s));
	t0 = now_s();
	CHECK_EQ_INT(lacre_store_put_if_absent(s, "x", "y", 1), LACRE_E_UNAVAILABLE);
	dt = now_s() - t0;
	CHECK(dt >= 0.13); /* backoff floor: 20 + 40 + 80 ms */
	CHECK(dt < 5.0);
	CHECK_EQ_INT(lacre_store_stat(s, "x", &size), LACRE_E_UNAVAILABLE);
	lacre_dbuf_init(&b, 100);
	CHECK_EQ_INT(lacre_store_get(s, "x", 0, SIZE_MAX, &b), LACRE_E_UNAVAILABLE);
	lacre_dbuf_free(&b);
	CHECK_EQ_INT(lacre_store_s3_ensure_bucket(s), LACRE_E_UNAVAILABLE);
	lacre_store_close(s);
}

static void test_s3_wrong_secret(void)
{
	struct lacre_s3_config cfg;
	struct lacre_store *s = NULL;
	uint64_t size;

	memset(&cfg, 0, sizeof(cfg));
	cfg.bucket = bucket;
	cfg.secret_key = "not-the-secret";
	CHECK_OK(lacre_store_open_s3(&cfg, &s));
	CHECK_EQ_INT(lacre_store_stat(s, "x", &size), LACRE_E_DENIED);
	lacre_store_close(s);
}

static void test_s3_faulty(void)
{
	struct lacre_store *in = NULL, *s = NULL;
	struct lacre_dbuf b;

	CHECK_OK(open_s3("faulty", 0, &in));
	CHECK_OK(lacre_store_faulty_wrap(in, 1, &s));
	CHECK_OK(lacre_store_put_if_absent(s, "obj", "abcdef", 6));
	CHECK_OK(lacre_store_faulty_set(s, LACRE_STORE_FAULT_FLIP, "obj", 2));
	lacre_dbuf_init(&b, 100);
	CHECK_OK(lacre_store_get(s, "obj", 0, SIZE_MAX, &b));
	CHECK_EQ_INT(b.len, 6);
	CHECK_MEM(b.p, "abbdef", 6);
	CHECK_OK(lacre_store_faulty_set(s, LACRE_STORE_FAULT_DOWN, NULL, 0));
	CHECK_EQ_INT(lacre_store_put_if_absent(s, "o2", "x", 1), LACRE_E_UNAVAILABLE);
	lacre_dbuf_free(&b);
	lacre_store_close(s);
}

int main(void)
{
	const char *ep = getenv("S3_ENDPOINT"), *req = getenv("LACRE_TEST_S3");
	unsigned rnd;
	FILE *f;

	if (!ep && !(req && *req)) {
		t_skip_all("S3_ENDPOINT not set (start ../shared/services/s3-up)");
		return t_done();
	}
	f = fopen("/dev/urandom", "rb");
	if (!f || fread(&rnd, sizeof(rnd), 1, f) != 1)
		rnd = (unsigned)getpid();
	if (f)
		fclose(f);
	snprintf(bucket, sizeof(bucket), "lacre-test-%08x", rnd);
	RUN(test_s3_server_usable);
	RUN(test_s3_config);
	RUN(test_s3_objects);
	RUN(test_s3_list_pagination);
	RUN(test_s3_multipart);
	RUN(test_s3_race);
	RUN(test_s3_unavailable);
	RUN(test_s3_wrong_secret);
	RUN(test_s3_faulty);
	return t_done();
}

/*
 * bench_store.c - PUT and GET throughput (MiB/s) and rate (ops/s) of the
 * storage backends: dir: in a temporary folder always, and s3:// when
 * S3_ENDPOINT is set (loopback only; bucket "lacre-bench", a fresh prefix
 * per run).  Small objects (4 KiB) measure per-request cost, 1 MiB objects
 * throughput, and 32 MiB objects the multipart path on S3.  Figures are
 * printed, never asserted.
 *
 * Usage: bench_store [dir|s3]   (default: both where available)
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lacre/err.h"
#include "lacre/store.h"

/* Monotonic seconds. */
static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* PUT then GET n objects of size bytes under run/<tag>/, print figures. */
static int bench_one(struct lacre_store *s, const char *label, const char *tag,
		     size_t size, int n)
{
	uint8_t *data = malloc(size);
	struct lacre_dbuf b;
	char name[128];
	double t0, tput, tget;
	int r = LACRE_OK;

	if (!data)
		return LACRE_E_NOMEM;
	for (size_t i = 0; i < size; i++)
		data[i] = (uint8_t)(i * 131 + 7);
	lacre_dbuf_init(&b, size + 1);
	t0 = now_s();
	for (int i = 0; i < n && r == LACRE_OK; i++) {
		snprintf(name, sizeof(name), "run/%s/%06d", tag, i);
		data[0] = (uint8_t)i;
		r = lacre_store_put_if_absent(s, name, data, size);
	}
	tput = now_s() - t0;
	t0 = now_s();
	for (int i = 0; i < n && r == LACRE_OK; i++) {
		snprintf(name, sizeof(name), "run/%s/%06d", tag, i);
		lacre_dbuf_reset(&b);
		r = lacre_store_get(s, name, 0, SIZE_MAX, &b);
		if (r == LACRE_OK && b.len != size)
			r = LACRE_E_TRUNCATED;
	}
	tget = now_s() - t0;
	if (r == LACRE_OK) {
		double mib = (double)size * n / (1024.0 * 1024.0);
		printf("%-4s %8zu B x %4d  PUT %8.1f MiB/s %8.0f ops/s   "
		       "GET %8.1f MiB/s %8.0f ops/s\n", label, size, n,
		       mib / tput, n / tput, mib / tget, n / tget);
	} else {
		printf("%-4s %8zu B: failed: %s\n", label, size, lacre_strerror(r));
	}
	for (int i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "run/%s/%06d", tag, i);
		(void)lacre_store_del(s, name);
	}
	lacre_dbuf_free(&b);
	free(data);
	return r;
}

/* The three sizes on one store. */
static void bench_store(struct lacre_store *s, const char *label, int big_n)
{
	bench_one(s, label, "small", 4096, 500);
	bench_one(s, label, "mib", (size_t)1 << 20, 64);
	bench_one(s, label, "big", (size_t)32 << 20, big_n);
}

int main(int argc, char **argv)
{
	const char *which = argc > 1 ? argv[1] : "";
	struct lacre_store *s = NULL;
	char spec[PATH_MAX];
	int r;

	if (!*which || !strcmp(which, "dir")) {
		char tmpl[] = "/tmp/lacre-bench-store-XXXXXX";
		char *d = mkdtemp(tmpl);

		if (d) {
			snprintf(spec, sizeof(spec), "dir:%s/objects", d);
			r = lacre_store_open(spec, &s);
			if (r == LACRE_OK) {
				printf("dir: %s (fsync per put)\n", d);
				bench_store(s, "dir", 4);
				lacre_store_close(s);
			}
			snprintf(spec, sizeof(spec), "rm -rf '%s'", d);
			if (system(spec) != 0)
				fprintf(stderr, "bench_store: could not remove %s\n", d);
		}
	}
	if ((!*which || !strcmp(which, "s3")) && getenv("S3_ENDPOINT")) {
		struct lacre_s3_config cfg;
		char prefix[64];

		memset(&cfg, 0, sizeof(cfg));
		snprintf(prefix, sizeof(prefix), "bench-%ld-%ld", (long)getpid(),
			 (long)time(NULL));
		cfg.bucket = "lacre-bench";
		cfg.prefix = prefix;
		r = lacre_store_open_s3(&cfg, &s);
		if (r == LACRE_OK)
			r = lacre_store_s3_ensure_bucket(s);
		if (r == LACRE_OK) {
			printf("s3: %s\n", lacre_store_describe(s));
			bench_store(s, "s3", 4);
		} else {
			printf("s3: unusable: %s\n", lacre_strerror(r));
		}
		lacre_store_close(s);
	} else if (!strcmp(which, "s3")) {
		printf("s3: S3_ENDPOINT not set, skipped\n");
	}
	return 0;
}

/*
 * bench_ledger.c - the ledger's figures on one core (printed, never
 * asserted):
 *   - hashing: leaf and node hashes per second;
 *   - tlog_append alone (a copy under a lock), 32-byte commitments;
 *   - one thread appending and checkpointing every second (hashing, tile
 *     collection, journal fdatasync, state file fsync + rename, tiles and
 *     bundles put on a dir: store, checkpoint object): leaves/s per CPU
 *     second and wall, with each checkpoint's latency, on $TMPDIR (or /tmp)
 *     and on /dev/shm when present;
 *   - an appender thread with a checkpointer thread (the ingest layout);
 *   - inclusion and consistency proofs from tiles on the store, and their
 *     verification;
 *   - checkpoint signing and note verification (Ed25519).
 * Target (issue "Ledger"): >= 1 M leaves/s on one core.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lacre/err.h"
#include "lacre/merkle.h"
#include "lacre/note.h"
#include "lacre/store.h"
#include "lacre/tlog.h"

#define ORIGIN "bench.lacre/ledger"

/* Seconds on a clock. */
static double now(clockid_t c)
{
	struct timespec t;

	clock_gettime(c, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Entry i: a pseudo 32-byte commitment (cheap, not SHA-256, so that the
 * figure is the ledger's cost alone). */
static void entry(uint64_t i, uint8_t e[32])
{
	for (int k = 0; k < 4; k++) {
		uint64_t x = (i + (uint64_t)k) * 0x9e3779b97f4a7c15ULL;
		memcpy(e + 8 * k, &x, 8);
	}
}

static void bench_hash(void)
{
	uint8_t h[32] = { 0 }, e[32] = { 1 };
	double t0 = now(CLOCK_PROCESS_CPUTIME_ID), t;
	long n = 0;

	do {
		for (int i = 0; i < 10000; i++)
			merkle_leaf_hash(e, 32, h), e[0] = h[0];
		n += 10000;
		t = now(CLOCK_PROCESS_CPUTIME_ID) - t0;
	} while (t < 0.5);
	printf("leaf hash (33 bytes)            %10.2f M/s\n", (double)n / t / 1e6);
	t0 = now(CLOCK_PROCESS_CPUTIME_ID);
	n = 0;
	do {
		for (int i = 0; i < 10000; i++)
			merkle_node_hash(h, e, h);
		n += 10000;
		t = now(CLOCK_PROCESS_CPUTIME_ID) - t0;
	} while (t < 0.5);
	printf("node hash (65 bytes)            %10.2f M/s\n", (double)n / t / 1e6);
}

/* Make a fresh folder under base. */
static int mkfresh(const char *base, const char *tag, char *out, size_t cap)
{
	static int seq;

	(void)tag;
	snprintf(out, cap, "%s/lacre-bench-ledger-%d-%d", base, (int)getpid(), ++seq);
	return mkdir(out, 0700);
}

/* Remove a folder tree (bench scratch only). */
static void rmtree(const char *p)
{
	char cmd[1200];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", p);
	if (system(cmd) != 0)
		fprintf(stderr, "bench: could not remove %s\n", p);
}

/* Append for `secs` wall seconds with tlog_tick every 4096 appends and a
 * 1 s interval; report leaves/s and checkpoint latencies.  interval_ms 0:
 * no checkpoints at all (in-memory rate). */
static void bench_append(const char *base, const char *tag, double secs, uint64_t interval_ms,
			 struct note_signer *key, char *keep_dir, size_t kcap)
{
	char dir[1024], spec[1100], state[1100];
	struct lacre_store *st = NULL;
	struct tlog *log = NULL;
	uint8_t e[32];
	uint64_t i = 0;
	double t0, t, lat_max = 0, lat_sum = 0, cpu0;
	int ncp = 0, did;

	if (mkfresh(base, tag, dir, sizeof(dir)) != 0) {
		printf("%-32s (cannot create a folder in %s)\n", tag, base);
		return;
	}
	snprintf(spec, sizeof(spec), "dir:%s/store", dir);
	snprintf(state, sizeof(state), "%s/state", dir);
	if (lacre_store_open(spec, &st) != LACRE_OK ||
	    tlog_open(st, state, ORIGIN, key, &log) != LACRE_OK) {
		printf("%-32s (cannot open a log)\n", tag);
		goto out;
	}
	if (interval_ms)
		tlog_set_interval(log, interval_ms);
	t0 = now(CLOCK_MONOTONIC);
	cpu0 = now(CLOCK_PROCESS_CPUTIME_ID);
	for (;;) {
		for (int k = 0; k < 4096; k++, i++) {
			entry(i, e);
			if (tlog_append(log, e, 32, NULL) != LACRE_OK) {
				printf("append failed\n");
				goto out;
			}
		}
		t = now(CLOCK_MONOTONIC);
		if (interval_ms) {
			double c0 = t;
			if (tlog_tick(log, (uint64_t)((t - t0) * 1000) + 1, &did) != LACRE_OK) {
				printf("checkpoint failed\n");
				goto out;
			}
			if (did) {
				double l = now(CLOCK_MONOTONIC) - c0;
				ncp++;
				lat_sum += l;
				if (l > lat_max)
					lat_max = l;
			}
		}
		if (t - t0 >= secs)
			break;
	}
	if (interval_ms) {
		double c0 = now(CLOCK_MONOTONIC), l;
		if (tlog_checkpoint(log, NULL) != LACRE_OK)
			printf("final checkpoint failed\n");
		l = now(CLOCK_MONOTONIC) - c0;
		ncp++;
		lat_sum += l;
		if (l > lat_max)
			lat_max = l;
	}
	t = now(CLOCK_MONOTONIC) - t0;
	printf("%-32s %10.2f M leaves/s wall (%.2f M/s per CPU s), %llu leaves",
	       tag, (double)i / t / 1e6, (double)i / (now(CLOCK_PROCESS_CPUTIME_ID) - cpu0) / 1e6,
	       (unsigned long long)i);
	if (interval_ms)
		printf(", %d checkpoints, latency mean %.1f ms max %.1f ms", ncp,
		       lat_sum / ncp * 1e3, lat_max * 1e3);
	printf("\n");
	if (keep_dir && interval_ms) {
		snprintf(keep_dir, kcap, "%s", dir);
		dir[0] = '\0';
	}
out:
	tlog_close(log);
	lacre_store_close(st);
	if (dir[0])
		rmtree(dir);
}

struct ticker {
	struct tlog *log;
	volatile int stop;
	int ncp, fail;
	double lat_sum, lat_max, t0;
};

/* Checkpointer thread: tick every 5 ms. */
static void *tick_thread(void *arg)
{
	struct ticker *k = arg;
	struct timespec ts = { 0, 5000000 };
	int did;

	while (!k->stop) {
		double c0 = now(CLOCK_MONOTONIC);
		if (tlog_tick(k->log, (uint64_t)((c0 - k->t0) * 1000) + 1, &did) != LACRE_OK)
			k->fail++;
		if (did) {
			double l = now(CLOCK_MONOTONIC) - c0;
			k->ncp++;
			k->lat_sum += l;
			if (l > k->lat_max)
				k->lat_max = l;
		}
		nanosleep(&ts, NULL);
	}
	return NULL;
}

/* An appender (this thread) and a checkpointer thread. */
static void bench_threaded(const char *base, const char *tag, double secs, struct note_signer *key)
{
	char dir[1024], spec[1100], state[1100];
	struct lacre_store *st = NULL;
	struct tlog *log = NULL;
	struct ticker k;
	pthread_t th;
	uint8_t e[32];
	uint64_t i = 0;
	double t0, t, c0;

	memset(&k, 0, sizeof(k));
	if (mkfresh(base, tag, dir, sizeof(dir)) != 0)
		return;
	snprintf(spec, sizeof(spec), "dir:%s/store", dir);
	snprintf(state, sizeof(state), "%s/state", dir);
	if (lacre_store_open(spec, &st) != LACRE_OK ||
	    tlog_open(st, state, ORIGIN, key, &log) != LACRE_OK) {
		printf("%-32s (cannot open a log)\n", tag);
		goto out;
	}
	k.log = log;
	k.t0 = t0 = now(CLOCK_MONOTONIC);
	if (pthread_create(&th, NULL, tick_thread, &k) != 0)
		goto out;
	do {
		for (int j = 0; j < 4096; j++, i++) {
			entry(i, e);
			while (tlog_append(log, e, 32, NULL) != LACRE_OK)
				nanosleep(&(struct timespec){ 0, 1000000 }, NULL); /* backpressure */
		}
		t = now(CLOCK_MONOTONIC) - t0;
	} while (t < secs);
	k.stop = 1;
	pthread_join(th, NULL);
	c0 = now(CLOCK_MONOTONIC);
	tlog_checkpoint(log, NULL);
	printf("%-32s %10.2f M leaves/s appended, %llu leaves, %d checkpoints (mean %.1f ms, max %.1f ms), last one %.1f ms%s\n",
	       tag, (double)i / t / 1e6, (unsigned long long)i, k.ncp,
	       k.ncp ? k.lat_sum / k.ncp * 1e3 : 0.0, k.lat_max * 1e3,
	       (now(CLOCK_MONOTONIC) - c0) * 1e3, k.fail ? " (with failures)" : "");
out:
	tlog_close(log);
	lacre_store_close(st);
	rmtree(dir);
}

/* Proofs from the tiles of the log left by the durable run. */
static void bench_proofs(const char *dir, struct note_signer *key)
{
	char spec[1100], prefix[TLOG_PREFIX_MAX], name[1200];
	struct lacre_store *st = NULL;
	struct lacre_dbuf cp;
	struct checkpoint c;
	struct note_verifier v;
	struct tiles_reader *r = NULL;
	struct merkle_proof p;
	uint8_t e[32], leaf[32];
	double t0, t;
	long n = 0, bad = 0;

	note_signer_public(key, &v);
	lacre_dbuf_init(&cp, NOTE_MAX_SIZE);
	snprintf(spec, sizeof(spec), "dir:%s/store", dir);
	tlog_prefix(ORIGIN, prefix, sizeof(prefix));
	snprintf(name, sizeof(name), "%scheckpoint", prefix);
	if (lacre_store_open(spec, &st) != LACRE_OK ||
	    lacre_store_get(st, name, 0, SIZE_MAX, &cp) != LACRE_OK ||
	    checkpoint_open(cp.p, cp.len, &v, NULL, 0, &c, NULL) != LACRE_OK || c.size < 2) {
		printf("proofs: no log to read\n");
		goto out;
	}
	/* cold reader each time: tiles fetched from the store */
	t0 = now(CLOCK_MONOTONIC);
	do {
		uint64_t idx = ((uint64_t)n * 2654435761u) % c.size;
		tiles_reader_new(st, prefix, c.size, &r);
		if (merkle_prove_inclusion(idx, c.size, tiles_reader_node, r, &p) != LACRE_OK)
			bad++;
		tiles_reader_free(r);
		n++;
		t = now(CLOCK_MONOTONIC) - t0;
	} while (t < 1.0);
	printf("inclusion proof from tiles      %10.0f /s (cold, %zu hashes, tree %llu)%s\n",
	       (double)n / t, p.n, (unsigned long long)c.size, bad ? " FAILURES" : "");
	/* verification */
	entry(c.size - 1, e);
	merkle_leaf_hash(e, 32, leaf);
	tiles_reader_new(st, prefix, c.size, &r);
	merkle_prove_inclusion(c.size - 1, c.size, tiles_reader_node, r, &p);
	n = 0;
	t0 = now(CLOCK_PROCESS_CPUTIME_ID);
	do {
		for (int k = 0; k < 1000; k++)
			bad += merkle_verify_inclusion(c.size - 1, c.size, leaf, &p, c.root) != LACRE_OK;
		n += 1000;
		t = now(CLOCK_PROCESS_CPUTIME_ID) - t0;
	} while (t < 0.5);
	printf("inclusion proof verification    %10.0f /s%s\n", (double)n / t, bad ? " FAILURES" : "");
	/* consistency */
	{
		uint64_t old = c.size / 3 + 1;
		uint8_t oroot[32];
		merkle_root(old, tiles_reader_node, r, oroot);
		n = 0;
		t0 = now(CLOCK_MONOTONIC);
		do {
			if (merkle_prove_consistency(old, c.size, tiles_reader_node, r, &p) != LACRE_OK)
				bad++;
			n++;
			t = now(CLOCK_MONOTONIC) - t0;
		} while (t < 0.5);
		printf("consistency proof from tiles    %10.0f /s (warm reader, %zu hashes)\n", (double)n / t, p.n);
		n = 0;
		t0 = now(CLOCK_PROCESS_CPUTIME_ID);
		do {
			for (int k = 0; k < 1000; k++)
				bad += merkle_verify_consistency(old, c.size, oroot, c.root, &p) != LACRE_OK;
			n += 1000;
			t = now(CLOCK_PROCESS_CPUTIME_ID) - t0;
		} while (t < 0.5);
		printf("consistency proof verification  %10.0f /s%s\n", (double)n / t, bad ? " FAILURES" : "");
	}
	/* signatures */
	{
		struct lacre_dbuf body, note;
		struct note *pn = NULL;
		uint64_t ok;
		lacre_dbuf_init(&body, 1024);
		lacre_dbuf_init(&note, NOTE_MAX_SIZE);
		checkpoint_format(ORIGIN, c.size, c.root, &body);
		n = 0;
		t0 = now(CLOCK_PROCESS_CPUTIME_ID);
		do {
			lacre_dbuf_reset(&note);
			note_sign(key, body.p, body.len, &note);
			n++;
			t = now(CLOCK_PROCESS_CPUTIME_ID) - t0;
		} while (t < 0.5);
		printf("checkpoint signing (Ed25519)    %10.0f /s\n", (double)n / t);
		note_parse(note.p, note.len, &pn);
		n = 0;
		t0 = now(CLOCK_PROCESS_CPUTIME_ID);
		do {
			bad += note_verify(pn, &v, 1, &ok, NULL) != LACRE_OK;
			n++;
			t = now(CLOCK_PROCESS_CPUTIME_ID) - t0;
		} while (t < 0.5);
		printf("checkpoint verification         %10.0f /s%s\n", (double)n / t, bad ? " FAILURES" : "");
		note_free(pn);
		lacre_dbuf_free(&body);
		lacre_dbuf_free(&note);
	}
	tiles_reader_free(r);
out:
	lacre_store_close(st);
	lacre_dbuf_free(&cp);
}

int main(void)
{
	struct note_signer *key = NULL;
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	char kept[1024] = "";
	struct stat sb;

	if (note_signer_generate(ORIGIN, NOTE_TYPE_ED25519, &key) != LACRE_OK)
		return 1;
	bench_hash();
	bench_append(tmp, "tlog_append alone (copy)", 1.0, 0, key, NULL, 0);
	bench_append(tmp, "1 thread, checkpoint/s (disk)", 4.0, 1000, key, kept, sizeof(kept));
	if (stat("/dev/shm", &sb) == 0 && S_ISDIR(sb.st_mode))
		bench_append("/dev/shm", "1 thread, checkpoint/s (tmpfs)", 4.0, 1000, key, NULL, 0);
	bench_threaded(tmp, "2 threads, checkpoint/s (disk)", 2.0, key);
	if (stat("/dev/shm", &sb) == 0 && S_ISDIR(sb.st_mode))
		bench_threaded("/dev/shm", "2 threads, checkpoint/s (tmpfs)", 2.0, key);
	if (kept[0]) {
		bench_proofs(kept, key);
		rmtree(kept);
	}
	note_signer_free(key);
	return 0;
}

/*
 * bench_pipeline.c - full ingest of recorded handover traffic on one core,
 * without the network: every PDU of a stream file goes through the vault
 * pipeline exactly as the receiver hands it over (decode, route by
 * warrant, frame with a fresh salt, commit, seal with age, write to the
 * site's dir: spool, ledger append), then the sink is closed (segments
 * sealed, checkpoint signed, spool uploaded to the dir: backend).
 *
 * usage: bench_pipeline SITE STREAM [REPEAT]
 * Prints MB/s of PDU bytes and records/s per CPU-second of the receiving
 * thread plus the spool writes it starts (POSIX AIO threads, which do the
 * O_DIRECT writes), and the latency from a record's arrival to its
 * coverage by a signed checkpoint.  Never asserts.  The 64 KiB copies
 * that stand for the kernel's receive copy are timed apart, in a loop of
 * their own before the run, and taken off the receiving thread's time
 * (timing each one inside the run cost two clock system calls a read).
 * bench/pipeline.sh makes the site and the streams, and prints the
 * machine's crypto limits beside these figures.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>

#include "lacre/err.h"
#include "lacre/etsi.h"
#include "lacre/record.h"
#include "lacre/seal_sink.h"
#include "lacre/site.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The receiver's stamp: wall clock, Unix microseconds (server.c). */
static int64_t wall_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static double cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double thread_cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU seconds (user + system) of the other threads of this process that
 * are named like the main thread: glibc's POSIX AIO workers (the segment
 * writer's O_DIRECT writes); the ledger and uploader threads are named
 * lacre-*.  A worker idles about a second before it exits, so during a
 * busy run none is missed.  tids[]/cpu[] remember the values at start. */
#define MAX_TASKS 256
#define READ_CHUNK (64u << 10)      /* the receiver's read size (server.c) */
#define RBUF_SPARE (64 << 10)       /* room for an incomplete PDU */
struct tasks {
	int n;
	long tid[MAX_TASKS];
	double cpu[MAX_TASKS];
};

static void aio_tasks(struct tasks *t)
{
	char path[64], buf[512], comm[32] = "", self[32] = "";
	FILE *f;
	DIR *d;
	struct dirent *e;
	long me = (long)getpid(), tk = sysconf(_SC_CLK_TCK);

	t->n = 0;
	snprintf(path, sizeof(path), "/proc/self/task/%ld/comm", me);
	if ((f = fopen(path, "r"))) {
		if (!fgets(self, sizeof(self), f))
			self[0] = 0;
		fclose(f);
	}
	if (!(d = opendir("/proc/self/task")))
		return;
	while ((e = readdir(d)) && t->n < MAX_TASKS) {
		long tid = atol(e->d_name);
		unsigned long ut = 0, st = 0;
		char *p;

		if (tid <= 0 || tid == me)
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%ld/comm", tid);
		if (!(f = fopen(path, "r")))
			continue;
		if (!fgets(comm, sizeof(comm), f))
			comm[0] = 0;
		fclose(f);
		if (strcmp(comm, self) != 0)
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%ld/stat", tid);
		if (!(f = fopen(path, "r")))
			continue;
		p = fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
		fclose(f);
		/* after "comm)": state ppid pgrp session tty tpgid flags minflt
		 * cminflt majflt cmajflt utime stime */
		if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
				 &ut, &st) != 2)
			continue;
		t->tid[t->n] = tid;
		t->cpu[t->n] = (double)(ut + st) / (double)tk;
		t->n++;
	}
	closedir(d);
}

/* CPU seconds the AIO workers used between snapshots a and b. */
static double aio_cpu_between(const struct tasks *a, const struct tasks *b)
{
	double sum = 0;

	for (int i = 0; i < b->n; i++) {
		double before = 0;
		for (int j = 0; j < a->n; j++)
			if (a->tid[j] == b->tid[i])
				before = a->cpu[j];
		sum += b->cpu[i] - before;
	}
	return sum;
}

static uint8_t *read_file(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	uint8_t *p = NULL;
	long sz;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (sz = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (p = malloc((size_t)sz)) && fread(p, 1, (size_t)sz, f) == (size_t)sz)
		*n = (size_t)sz;
	else {
		free(p);
		p = NULL;
	}
	fclose(f);
	return p;
}

/* Records the sink refused for now (LACRE_E_NOSPACE: spool full, or its
 * closer behind) and took at a later try, as the receiver holds them. */
static size_t g_held;

/* Feed the whole stream data[0..n) to the sink as the receiver does:
 * read() 64 KiB at a time into its buffer (the copy stands for the
 * kernel's), frame the complete PDUs in place, keep the incomplete tail
 * for the next read.  Adds to *pdus and *bytes; 0, or -1 (said on
 * stderr). */
static int feed_stream(struct lacre_sink *sink, struct lacre_record *rec, const uint8_t *data,
		       size_t n, uint8_t *rbuf, size_t *pdus, size_t *bytes)
{
	struct etsi_pdu pdu;
	size_t have = 0, in = 0, at, len;
	int64_t recv_us;
	int r;

	while (in < n || have > 0) {
		size_t take = n - in < READ_CHUNK ? n - in : READ_CHUNK;
		memcpy(rbuf + have, data + in, take);
		in += take;
		have += take;
		/* the PDUs this read completes were received when it returned */
		recv_us = wall_us();
		for (at = 0; at < have; at += len) {
			r = etsi_pdu_size(rbuf + at, have - at, ETSI_MAX_PDU_DEFAULT, &len);
			if (r == LACRE_E_INCOMPLETE && in < n)
				break;
			if (r != LACRE_OK) {
				fprintf(stderr, "bench_pipeline: bad stream\n");
				return -1;
			}
			/* the receiver decodes every PDU once (keep-alives,
			 * accounting) and hands the result to the sink */
			rec->decoded = etsi_decode(rbuf + at, len, &pdu) == LACRE_OK ? &pdu : NULL;
			rec->pdu = rbuf + at;
			rec->pdu_len = len;
			rec->recv_us = recv_us;
			/* refused for now: held and tried again, as the receiver
			 * does (backpressure.c), after a millisecond's sleep */
			while ((r = sink->record(sink->ctx, rec)) == LACRE_E_NOSPACE) {
				struct timespec ms = { 0, 1000000 };
				g_held++;
				nanosleep(&ms, NULL);
			}
			if (r != LACRE_OK) {
				fprintf(stderr, "bench_pipeline: sink: %s\n", lacre_strerror(r));
				return -1;
			}
			(*pdus)++;
			*bytes += len;
		}
		/* as the receiver after each read (record.h) */
		if (sink->read_done)
			sink->read_done(sink->ctx);
		memmove(rbuf, rbuf + at, have - at);
		have -= at;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct site s;
	struct lacre_sink sink;
	struct seal_sink_stats st;
	struct lacre_record rec;
	struct tasks ta, tb;
	char msg[512];
	const char *warm_env = getenv("BENCH_WARMUP");
	size_t warm_pdus = 0, warm_bytes = 0;
	uint8_t *data;
	size_t n = 0, off, len, pdus = 0, bytes = 0;
	uint8_t *rbuf = NULL;
	int repeat = argc > 3 ? atoi(argv[3]) : 1, r;
	double t0, c0, t1, c1, tc0, tc1, lat_t0, aio, copy_s = 0, stage_s;
	uint64_t target;

	if (argc < 3) {
		fprintf(stderr, "usage: bench_pipeline SITE STREAM [REPEAT]\n");
		return 2;
	}
	if ((r = site_open(argv[1], &s, msg, sizeof(msg))) != LACRE_OK) {
		fprintf(stderr, "bench_pipeline: %s\n", msg);
		return 1;
	}
	if (!(data = read_file(argv[2], &n))) {
		fprintf(stderr, "bench_pipeline: cannot read %s\n", argv[2]);
		return 1;
	}
	if ((r = seal_sink_open(&s, &sink, msg, sizeof(msg))) != LACRE_OK) {
		fprintf(stderr, "bench_pipeline: %s\n", msg);
		return 1;
	}
	/* check the stream before the clock starts */
	for (off = 0; off < n; off += len) {
		if (etsi_pdu_size(data + off, n - off, ETSI_MAX_PDU_DEFAULT, &len) != LACRE_OK) {
			fprintf(stderr, "bench_pipeline: bad stream at offset %zu\n", off);
			return 1;
		}
		if (len > RBUF_SPARE) {
			fprintf(stderr, "bench_pipeline: PDU of %zu bytes: this bench takes "
				"up to %d\n", len, RBUF_SPARE);
			return 1;
		}
	}
	if (!(rbuf = malloc(READ_CHUNK + RBUF_SPARE))) {
		fprintf(stderr, "bench_pipeline: out of memory\n");
		return 1;
	}
	memset(&rec, 0, sizeof(rec));
	rec.listener = strstr(argv[2], "hi2") ? LACRE_HI2 : LACRE_HI3;
	rec.conn_id = 1;
	snprintf(rec.peer, sizeof(rec.peer), "127.0.0.1:40000");
	/* the receive copy's cost, measured apart: the same 64 KiB copies
	 * into the same buffer (the loop below would otherwise read the
	 * thread clock, a system call, twice a read: instrumentation that
	 * is neither the copy nor the pipeline) */
	for (int k = 0; k < repeat; k++) {
		double cc0 = thread_cpu_s();
		for (size_t in = 0; in < n; in += READ_CHUNK) {
			size_t take = n - in < READ_CHUNK ? n - in : READ_CHUNK;
			memcpy(rbuf + (in / READ_CHUNK) % 1024, data + in, take);
			__asm__ __volatile__("" : : "r"(rbuf) : "memory");
		}
		copy_s += thread_cpu_s() - cc0;
	}
	/* one untimed pass first (BENCH_WARMUP=0: none): a receiver runs
	 * for months, and its first pass faults in its staging buffers, the
	 * writers' caches and the ledger's tiles; on a fresh VM a page's
	 * first touch also costs the host's fault (measured here: 3.8 ms per
	 * 2 MiB huge page, 0.12 ms once touched).  The figures below are the
	 * steady state that follows. */
	if ((!warm_env || strcmp(warm_env, "0") != 0) &&
	    feed_stream(&sink, &rec, data, n, rbuf, &warm_pdus, &warm_bytes) != 0)
		return 1;
	aio_tasks(&ta);
	t0 = now_s();
	c0 = cpu_s();
	tc0 = thread_cpu_s();
	for (int k = 0; k < repeat; k++)
		if (feed_stream(&sink, &rec, data, n, rbuf, &pdus, &bytes) != 0)
			return 1;
	t1 = now_s();
	c1 = cpu_s();
	tc1 = thread_cpu_s();
	aio_tasks(&tb);
	aio = aio_cpu_between(&ta, &tb);
	/* checkpoint latency: the time until the last record is under a signed checkpoint */
	seal_sink_stats_get(&sink, &st);
	target = st.log_size;
	lat_t0 = now_s();
	for (;;) {
		seal_sink_stats_get(&sink, &st);
		if (st.signed_size >= target || now_s() - lat_t0 > 10)
			break;
		usleep(1000);
	}
	printf("pipeline %s: %zu PDUs, %.1f MB of PDU bytes (avg %zu B)\n", argv[2], pdus,
	       (double)bytes / 1e6, pdus ? bytes / pdus : 0);
	printf("  wall %.3f s, cpu %.3f s (all threads)\n", t1 - t0, c1 - c0);
	printf("  throughput: %.1f MB/s, %.0f records/s (per wall second on the receiving thread)\n",
	       (double)bytes / 1e6 / (t1 - t0), (double)pdus / (t1 - t0));
	printf("  receiving thread (decode, route, frame, commit, seal, write to the spool): "
	       "%.3f s CPU = %.1f MB/s, %.0f records/s per core\n", tc1 - tc0,
	       (double)bytes / 1e6 / (tc1 - tc0), (double)pdus / (tc1 - tc0));
	printf("  spool writes (AIO threads, O_DIRECT): %.3f s CPU\n", aio);
	printf("  receive copy (64 KiB memcpy standing for the kernel's recv copy, not a "
	       "stage): %.3f s CPU\n", copy_s);
	stage_s = tc1 - tc0 - copy_s + aio;
	printf("  one core's ingest (decode, route, frame, commit, seal, write; receiving "
	       "thread without the receive copy + its spool writes): %.3f s CPU = %.1f MB/s, "
	       "%.0f records/s\n", stage_s, (double)bytes / 1e6 / stage_s, (double)pdus / stage_s);
	printf("  the same with the receive copy: %.1f MB/s, %.0f records/s\n",
	       (double)bytes / 1e6 / (stage_s + copy_s), (double)pdus / (stage_s + copy_s));
	printf("  whole process (with the ledger's tiles and the uploader on other threads): "
	       "%.1f MB/s, %.0f records/s per CPU second\n",
	       (double)bytes / 1e6 / (c1 - c0), (double)pdus / (c1 - c0));
	printf("  last record under a signed checkpoint after %.0f ms\n", (now_s() - lat_t0) * 1e3);
	if (g_held)
		printf("  records held and tried again (spool full or its closer behind): %zu times\n", g_held);
	sink.close(sink.ctx);
	free(rbuf);
	free(data);
	return 0;
}

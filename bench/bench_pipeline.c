/*
 * bench_pipeline.c - full ingest of recorded handover traffic on one core,
 * without the network: every PDU of a stream file goes through the vault
 * pipeline exactly as the receiver hands it over (decode, route by
 * warrant, frame with a fresh salt, commit, seal with age, write to the
 * site's dir: spool, ledger append), then the sink is closed (segments
 * sealed, checkpoint signed, spool uploaded to the dir: backend).
 *
 * usage: bench_pipeline SITE STREAM [REPEAT]
 * Prints MB/s of PDU bytes and records/s, and the latency from a record's
 * arrival to its coverage by a signed checkpoint.  Never asserts.
 * bench/pipeline.sh makes the site and the streams, and prints the
 * machine's crypto limits beside these figures.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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

int main(int argc, char **argv)
{
	struct site s;
	struct lacre_sink sink;
	struct seal_sink_stats st;
	struct lacre_record rec;
	char msg[512];
	uint8_t *data;
	size_t n = 0, off, len, pdus = 0, bytes = 0;
	int repeat = argc > 3 ? atoi(argv[3]) : 1, r;
	double t0, c0, t1, c1, tc0, tc1, lat_t0;
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
	memset(&rec, 0, sizeof(rec));
	rec.listener = strstr(argv[2], "hi2") ? LACRE_HI2 : LACRE_HI3;
	rec.conn_id = 1;
	snprintf(rec.peer, sizeof(rec.peer), "127.0.0.1:40000");
	t0 = now_s();
	c0 = cpu_s();
	tc0 = thread_cpu_s();
	for (int k = 0; k < repeat; k++) {
		for (off = 0; off < n; off += len) {
			if (etsi_pdu_size(data + off, n - off, ETSI_MAX_PDU_DEFAULT, &len) != LACRE_OK) {
				fprintf(stderr, "bench_pipeline: bad stream at offset %zu\n", off);
				return 1;
			}
			rec.pdu = data + off;
			rec.pdu_len = len;
			rec.recv_us = (int64_t)(now_s() * 1e6);
			if ((r = sink.record(sink.ctx, &rec)) != LACRE_OK) {
				fprintf(stderr, "bench_pipeline: sink: %s\n", lacre_strerror(r));
				return 1;
			}
			pdus++;
			bytes += len;
		}
	}
	t1 = now_s();
	c1 = cpu_s();
	tc1 = thread_cpu_s();
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
	printf("  whole process (with the ledger's tiles and the uploader on other threads): "
	       "%.1f MB/s, %.0f records/s per CPU second\n",
	       (double)bytes / 1e6 / (c1 - c0), (double)pdus / (c1 - c0));
	printf("  last record under a signed checkpoint after %.0f ms\n", (now_s() - lat_t0) * 1e3);
	sink.close(sink.ctx);
	free(data);
	return 0;
}

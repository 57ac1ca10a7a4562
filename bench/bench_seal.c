/*
 * bench_seal.c - sealing throughput of one core: frame + seal (age STREAM,
 * ChaCha20-Poly1305) + SHA-256 commitment per record + write to a spool
 * file, through the real segment writer.  Figures are printed, never
 * asserted.
 *
 *   bench_seal                      CC-sized (200..1500 B) and IRI-sized
 *                                   (300 B) workloads, plus the two
 *                                   primitives alone for comparison
 *   bench_seal --file F [--rec N]   seal the bytes of file F as records of
 *                                   N bytes (default 1400): used by
 *                                   bench/seal.sh to compare with age + dgst
 *   --spool DIR   where segment files go (default: a fresh folder in
 *                 /dev/shm, else /tmp; files are deleted as soon as they
 *                 close).  tmpfs counts the kernel's page-cache copy but
 *                 not a disk's writeback throttling.
 *   --mib M       CC workload size (default 1024 MiB)
 *   --sync        fsync each segment (default: page cache only, so the
 *                 figure is the CPU cost, not the disk's)
 *   --direct      O_DIRECT writes (segment_config.direct_io) where the
 *                 spool's file system allows it
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "lacre/age.h"
#include "lacre/buf.h"
#include "lacre/err.h"
#include "lacre/frame.h"
#include "lacre/segment.h"

struct totals {
	uint64_t segments;
	uint64_t cipher_bytes;
	uint64_t plain_bytes;              /* frames: PDUs + frame heads */
};

/* Wall-clock and process CPU seconds. */
static double now_wall(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double now_cpu(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* on_close: count and delete the file (the bench only measures). */
static int bench_on_close(void *arg, const struct segment_closed *c)
{
	struct totals *t = arg;
	t->segments++;
	t->cipher_bytes += c->size;
	t->plain_bytes += c->plain_size;
	unlink(c->path);
	return LACRE_OK;
}

/* Fill rec's fixed fields (an IP CC or IRI record under a warrant). */
static void fill(struct frame_record *rec, uint64_t i, int cc)
{
	rec->recv_us = 1764300000000000LL + (int64_t)i;
	rec->listener = cc ? 3 : 2;
	rec->conn_id = 1;
	rec->peer = frame_cstr("192.0.2.10:41000");
	rec->liid = frame_cstr("LIID-BENCH-01");
	rec->has_cin = 1;
	rec->cin = 7;
	rec->seq = i;
	rec->kind = cc ? 2 : 1;
	rec->time_kind = 2;
	rec->time_us = rec->recv_us - 1000;
	rec->iri_type = cc ? 0 : 4;
	rec->direction = cc ? 1 : FRAME_DIRECTION_NONE;
	rec->content = frame_cstr(cc ? "ipcc" : "ipmmiri");
	rec->route = FRAME_ROUTE_WARRANT;
	rec->warrant = frame_cstr("W-2026-000123");
}

/* Seal n records with PDU sizes from sizes[i % ns] taken from pool; print
 * one line for people and one "result TAG key=value..." line for
 * bench/seal.sh.  Returns 0 on success. */
static int g_direct;

static int run(const char *label, const char *tag, const char *spool, int sync, const uint8_t *pool,
	       size_t pool_len, const uint32_t *sizes, size_t ns, uint64_t n, int cc)
{
	struct age_x25519_identity id;
	struct segment_config cfg;
	struct segment_writer *w = NULL;
	struct frame_record rec;
	struct totals t = { 0, 0, 0 };
	uint64_t bytes = 0, off = 0;
	double w0, c0, wall, cpu;
	int r;

	if ((r = age_x25519_generate(&id)) != LACRE_OK)
		return r;
	memset(&cfg, 0, sizeof(cfg));
	cfg.spool_dir = spool;
	cfg.recipients = (const uint8_t (*)[32])&id.public_key;
	cfg.n_recipients = 1;
	cfg.no_sync = !sync;
	cfg.direct_io = g_direct;
	cfg.on_close = bench_on_close;
	cfg.arg = &t;
	if ((r = segment_writer_new(&cfg, &w)) != LACRE_OK)
		return r;
	memset(&rec, 0, sizeof(rec));
	w0 = now_wall();
	c0 = now_cpu();
	for (uint64_t i = 0; i < n; i++) {
		size_t len = sizes[i % ns];
		if (off + len > pool_len)
			off = 0;
		fill(&rec, i, cc);
		rec.pdu.p = pool + off;
		rec.pdu.len = len;
		off += len;
		if ((r = segment_writer_add(w, &rec, (int64_t)(i >> 20), NULL)) != LACRE_OK)
			goto out;
		bytes += len;
	}
	r = segment_writer_flush(w, INT64_MAX / 2);
	wall = now_wall() - w0;
	cpu = now_cpu() - c0;
	printf("%-28s %10.1f MB/s  %10.0f records/s  (%llu records, %.1f MiB of PDUs, "
	       "%llu segments, %.2f s wall, %.2f s cpu, %.1f MB/s per cpu-second)\n",
	       label, (double)bytes / wall / 1e6, (double)n / wall,
	       (unsigned long long)n, (double)bytes / 1048576.0,
	       (unsigned long long)t.segments, wall, cpu, (double)bytes / cpu / 1e6);
	printf("%-28s %10.1f MB/s of sealed plaintext (PDUs + frame heads) per cpu-second\n",
	       "", (double)t.plain_bytes / cpu / 1e6);
	printf("result %s wall_mbps=%.1f cpu_mbps=%.1f records_per_s=%.0f cpu_records_per_s=%.0f "
	       "plain_cpu_mbps=%.1f\n",
	       tag, (double)bytes / wall / 1e6, (double)bytes / cpu / 1e6, (double)n / wall,
	       (double)n / cpu, (double)t.plain_bytes / cpu / 1e6);
out:
	segment_writer_free(w);
	age_identity_wipe(&id);
	if (r != LACRE_OK)
		fprintf(stderr, "bench_seal: %s: %s\n", label, lacre_strerror(r));
	return r;
}

/* The primitives alone over the same volume: age STREAM and SHA-256. */
static void primitives(const uint8_t *pool, size_t pool_len, uint64_t total)
{
	struct age_x25519_identity id;
	struct age_writer *aw = NULL;
	struct lacre_dbuf out;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	uint8_t h[32];
	unsigned int hl = 0;
	double t0, c0, dt, dc;
	uint64_t done = 0;
	const size_t step = 65536;

	age_x25519_generate(&id);
	lacre_dbuf_init(&out, 8u << 20);
	age_writer_new((const uint8_t (*)[32])&id.public_key, 1, &out, &aw);
	t0 = now_wall();
	c0 = now_cpu();
	for (done = 0; done < total; done += step) {
		age_writer_write(aw, pool + (done % (pool_len - step)), step);
		lacre_dbuf_reset(&out);
	}
	age_writer_finish(aw, h);
	dt = now_wall() - t0;
	dc = now_cpu() - c0;
	printf("%-28s %10.1f MB/s  (age_writer_write, 64 KiB writes, output discarded; "
	       "%.1f MB/s per cpu-second)\n",
	       "primitive: age STREAM", (double)done / dt / 1e6, (double)done / dc / 1e6);
	printf("result age_stream wall_mbps=%.1f cpu_mbps=%.1f\n",
	       (double)done / dt / 1e6, (double)done / dc / 1e6);
	age_writer_free(aw);
	lacre_dbuf_free(&out);
	t0 = now_wall();
	c0 = now_cpu();
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	for (done = 0; done < total; done += step)
		EVP_DigestUpdate(md, pool + (done % (pool_len - step)), step);
	EVP_DigestFinal_ex(md, h, &hl);
	dt = now_wall() - t0;
	dc = now_cpu() - c0;
	printf("%-28s %10.1f MB/s  (EVP SHA-256, 64 KiB updates; %.1f MB/s per cpu-second)\n",
	       "primitive: SHA-256", (double)done / dt / 1e6, (double)done / dc / 1e6);
	printf("result sha256 wall_mbps=%.1f cpu_mbps=%.1f\n",
	       (double)done / dt / 1e6, (double)done / dc / 1e6);
	EVP_MD_CTX_free(md);
}

/* Seal the bytes of file path as records of rec_size bytes (the last one
 * shorter), reading it through one reused 4 MiB buffer as age does. */
static int run_file(const char *path, size_t rec_size, const char *spool, int sync)
{
	struct age_x25519_identity id;
	struct segment_config cfg;
	struct segment_writer *w = NULL;
	struct frame_record rec;
	struct totals t = { 0, 0, 0 };
	size_t cap = (256u << 10) / rec_size * rec_size, have = 0;
	uint8_t *buf = malloc(cap ? cap : rec_size);
	uint64_t bytes = 0, n = 0;
	double w0, c0, wall, cpu;
	int fd = open(path, O_RDONLY), r = LACRE_E_IO, eof = 0;

	if (cap == 0)
		cap = rec_size;
	if (fd < 0 || !buf || age_x25519_generate(&id) != LACRE_OK)
		goto out;
	memset(&cfg, 0, sizeof(cfg));
	cfg.spool_dir = spool;
	cfg.recipients = (const uint8_t (*)[32])&id.public_key;
	cfg.n_recipients = 1;
	cfg.no_sync = !sync;
	cfg.direct_io = g_direct;
	cfg.on_close = bench_on_close;
	cfg.arg = &t;
	if ((r = segment_writer_new(&cfg, &w)) != LACRE_OK)
		goto out;
	memset(&rec, 0, sizeof(rec));
	w0 = now_wall();
	c0 = now_cpu();
	while (!eof) {
		while (have < cap) {
			ssize_t k = read(fd, buf + have, cap - have);
			if (k < 0) {
				r = LACRE_E_IO;
				goto out;
			}
			if (k == 0) {
				eof = 1;
				break;
			}
			have += (size_t)k;
		}
		for (size_t off = 0; off < have; off += rec_size) {
			fill(&rec, n, 1);
			rec.pdu.p = buf + off;
			rec.pdu.len = have - off < rec_size ? have - off : rec_size;
			if ((r = segment_writer_add(w, &rec, 0, NULL)) != LACRE_OK)
				goto out;
			bytes += rec.pdu.len;
			n++;
		}
		have = 0;
	}
	r = segment_writer_flush(w, 1);
	wall = now_wall() - w0;
	cpu = now_cpu() - c0;
	printf("%-28s %10.1f MB/s  %10.0f records/s  (%llu records, %.1f MiB, %llu segments, "
	       "%.2f s wall, %.2f s cpu, %.1f MB/s per cpu-second)\n",
	       "seal file", (double)bytes / wall / 1e6, (double)n / wall,
	       (unsigned long long)n, (double)bytes / 1048576.0,
	       (unsigned long long)t.segments, wall, cpu, (double)bytes / cpu / 1e6);
	printf("result file wall_mbps=%.1f cpu_mbps=%.1f records_per_s=%.0f cpu_records_per_s=%.0f\n",
	       (double)bytes / wall / 1e6, (double)bytes / cpu / 1e6, (double)n / wall,
	       (double)n / cpu);
out:
	if (r != LACRE_OK)
		fprintf(stderr, "bench_seal: %s: %s\n", path, lacre_strerror(r));
	segment_writer_free(w);
	age_identity_wipe(&id);
	if (fd >= 0)
		close(fd);
	free(buf);
	return r;
}

int main(int argc, char **argv)
{
	const char *file = NULL, *spool = NULL;
	char tmpl[] = "/dev/shm/lacre-bench-seal-XXXXXX";
	size_t rec_size = 1400, pool_len = 64u << 20;
	uint64_t mib = 1024;
	int sync = 0, rc = 0;
	uint8_t *pool;
	uint32_t *sizes;
	const size_t ns = 1 << 16;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--file") && i + 1 < argc)
			file = argv[++i];
		else if (!strcmp(argv[i], "--rec") && i + 1 < argc)
			rec_size = (size_t)strtoul(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--spool") && i + 1 < argc)
			spool = argv[++i];
		else if (!strcmp(argv[i], "--mib") && i + 1 < argc)
			mib = strtoull(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--sync"))
			sync = 1;
		else if (!strcmp(argv[i], "--direct"))
			g_direct = 1;
		else {
			fprintf(stderr, "usage: bench_seal [--file F [--rec N]] [--spool DIR] [--mib M] [--sync] [--direct]\n");
			return 2;
		}
	}
	if (!spool) {
		/* tmpfs: the page-cache copy is counted, the disk's writeback
		 * throttling is not; --spool DIR measures a real disk */
		if (!mkdtemp(tmpl)) {
			memcpy(tmpl, "/tmp/lacre", 10);
			memmove(tmpl + 10, tmpl + 14, sizeof(tmpl) - 14);
			if (!mkdtemp(tmpl)) {
				perror("mkdtemp");
				return 1;
			}
		}
		spool = tmpl;
	}
	if (rec_size < 1 || rec_size > FRAME_PDU_MAX) {
		fprintf(stderr, "bench_seal: --rec out of range\n");
		return 2;
	}
	sizes = malloc(ns * sizeof(*sizes));
	if (!sizes)
		return 1;

	if (file) {
		rc = run_file(file, rec_size, spool, sync) != 0;
		goto out;
	}

	pool = malloc(pool_len);
	if (!pool || RAND_bytes(pool, (int)pool_len) != 1)
		return 1;
	printf("one core; segment files in %s (%s%s), deleted on close\n", spool,
	       sync ? "fsync on close" : "no fsync", g_direct ? ", O_DIRECT if possible" : "");
	primitives(pool, pool_len, mib << 20);
	/* CC: sizes uniform in 200..1500 */
	for (size_t i = 0; i < ns; i++) {
		uint32_t v;
		RAND_bytes((unsigned char *)&v, sizeof(v));
		sizes[i] = 200 + v % 1301;
	}
	rc |= run("CC records 200..1500 B", "cc_mixed", spool, sync, pool, pool_len, sizes, ns,
		  (mib << 20) / 850, 1) != 0;
	for (size_t i = 0; i < ns; i++)
		sizes[i] = 1500;
	rc |= run("CC records 1500 B", "cc_1500", spool, sync, pool, pool_len, sizes, ns,
		  (mib << 20) / 1500, 1) != 0;
	for (size_t i = 0; i < ns; i++)
		sizes[i] = 300;
	rc |= run("IRI records 300 B", "iri_300", spool, sync, pool, pool_len, sizes, ns,
		  3000000, 0) != 0;
	free(pool);
out:
	free(sizes);
	if (spool == tmpl)
		rmdir(tmpl);
	return rc;
}

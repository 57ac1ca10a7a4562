/*
 * test_seal_spool.c - the ingest spool's crash-consistent layout
 * (lib/ingest/seal_spool.c): recovery after a crash at each point of a
 * segment's life, the open-segment manifests and the ledger batch files.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "lacre/err.h"
#include "lacre/etsi.h"
#include "lacre/note.h"
#include "lacre/store.h"
#include "lacre/tlog.h"
#include "ingest/seal_spool.h"

#define ORIGIN "lacre.test/spool"

/* What the recovery callbacks saw. */
struct seen {
	char relogged[8][40];
	uint64_t relog_n[8];
	uint8_t batch[8][1024];          /* what was queued (first 1024 bytes) */
	size_t batch_len[8];
	size_t n_relog;
	char events[16][1024];
	size_t n_events;
};

static int cb_relog(void *arg, const char *name, const uint8_t *batch, size_t len, uint64_t n)
{
	struct seen *s = arg;
	if (s->n_relog < 8) {
		s->batch_len[s->n_relog] = len;
		memcpy(s->batch[s->n_relog], batch, len < 1024 ? len : 1024);
		snprintf(s->relogged[s->n_relog], sizeof(s->relogged[0]), "%s", name);
		s->relog_n[s->n_relog++] = n;
	}
	return LACRE_OK;
}

static int cb_event(void *arg, const char *json)
{
	struct seen *s = arg;
	if (s->n_events < 16)
		snprintf(s->events[s->n_events++], sizeof(s->events[0]), "%s", json);
	return LACRE_OK;
}

/* A fresh log on a dir: store in the test's folder. */
static int open_log(const char *dir, struct lacre_store **st, struct note_signer **key,
		    struct tlog **log)
{
	char spec[600], state[600];
	uint8_t seed[32];
	int r;

	memset(seed, 7, sizeof(seed));
	snprintf(spec, sizeof(spec), "dir:%s/objects", dir);
	snprintf(state, sizeof(state), "%s/state", dir);
	if ((r = note_signer_from_seed(ORIGIN, NOTE_TYPE_ED25519, seed, key)) != LACRE_OK ||
	    (r = lacre_store_open(spec, st)) != LACRE_OK)
		return r;
	return tlog_open(*st, state, ORIGIN, *key, log);
}

/* Write n bytes of filler to path. */
static int put_file(const char *path, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	uint8_t b[256];
	memset(b, 0xab, sizeof(b));
	if (fd < 0)
		return -1;
	while (n > 0) {
		size_t k = n < sizeof(b) ? n : sizeof(b);
		if (write(fd, b, k) != (ssize_t)k) {
			close(fd);
			return -1;
		}
		n -= k;
	}
	return close(fd);
}

static int exists(const char *dir, const char *sub, const char *name)
{
	char p[700];
	struct stat sb;
	snprintf(p, sizeof(p), "%s/%s%s%s", dir, sub, sub[0] ? "/" : "", name);
	return stat(p, &sb) == 0;
}

/* The v2 segment entry for name with size bytes and the n commitments
 * commits into out. */
static int seg_entry(const char *name, uint64_t size, const uint8_t (*commits)[32], uint64_t n,
		     struct lacre_dbuf *out)
{
	struct tlog_segment seg;
	int r;

	memset(&seg, 0, sizeof(seg));
	snprintf(seg.name, sizeof(seg.name), "%s%s", SEAL_SEGMENT_PREFIX, name);
	seg.size = size;
	seg.fp_len = 32;
	memset(seg.fp, 0x5a, 32);
	seg.records = n;
	if ((r = tlog_segment_records_root(commits, n, seg.records_root)) != LACRE_OK)
		return r;
	return tlog_segment_encode(&seg, out);
}

/* A v1 entry (what an older receiver wrote after one leaf per record). */
static int seg_entry_v1(const char *name, uint64_t size, struct lacre_dbuf *out)
{
	char full[64];
	int r;

	snprintf(full, sizeof(full), "%s%s", SEAL_SEGMENT_PREFIX, name);
	if ((r = lacre_dbuf_add(out, TLOG_SEGMENT_MAGIC, 16)) != LACRE_OK ||
	    (r = lacre_dbuf_add_u8(out, (uint8_t)strlen(full))) != LACRE_OK ||
	    (r = lacre_dbuf_add(out, full, strlen(full))) != LACRE_OK ||
	    (r = lacre_dbuf_add_u64be(out, size)) != LACRE_OK ||
	    (r = lacre_dbuf_add_u8(out, 32)) != LACRE_OK)
		return r;
	for (int i = 0; i < 32; i++)
		if ((r = lacre_dbuf_add_u8(out, 0x5a)) != LACRE_OK)
			return r;
	return LACRE_OK;
}

#define N_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"   /* closed, batch unsigned */
#define N_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"   /* closed, batch signed */
#define N_C "cccccccccccccccccccccccccccccccc"   /* open at the crash */
#define N_D "dddddddddddddddddddddddddddddddd"   /* batch written, rename not done */
#define N_E "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"   /* damaged batch file */
#define N_F "ffffffffffffffffffffffffffffffff"   /* older layout: no batch file */
#define N_G "11111111111111111111111111111111"   /* v1 batch file of an older receiver */
#define N_H "22222222222222222222222222222222"   /* v2 entry whose root is not its commitments' */

static void test_recover_every_crash_point(void)
{
	const char *dir = t_tmpdir();
	char spool[600], p[700];
	struct lacre_store *st = NULL;
	struct note_signer *key = NULL;
	struct tlog *log = NULL;
	struct lacre_dbuf e;
	struct seen seen;
	struct seal_recovery rec;
	struct seal_recovery_ops ops = { cb_relog, cb_event, &seen, NULL };
	struct seal_streams t;
	uint8_t commits[3][32];
	char msg[256];
	uint8_t liid[] = "LIID0001";

	memset(&seen, 0, sizeof(seen));
	memset(&t, 0, sizeof(t));
	for (int i = 0; i < 3; i++)
		memset(commits[i], 1 + i, 32);
	snprintf(spool, sizeof(spool), "%s/spool", dir);
	CHECK(mkdir(spool, 0700) == 0);
	CHECK_OK(open_log(dir, &st, &key, &log));
	lacre_dbuf_init(&e, 4096);

	/* A: closed, batch on disk, not in the log */
	snprintf(p, sizeof(p), "%s/%s", spool, N_A);
	CHECK(put_file(p, 1000) == 0);
	CHECK_OK(seg_entry(N_A, 1000, (const uint8_t (*)[32])commits, 3, &e));
	CHECK_OK(seal_leaves_write(spool, N_A, (const uint8_t (*)[32])commits, 3, e.p, e.len));
	/* B: closed, batch signed before the crash */
	snprintf(p, sizeof(p), "%s/%s", spool, N_B);
	CHECK(put_file(p, 2000) == 0);
	lacre_dbuf_reset(&e);
	CHECK_OK(seg_entry(N_B, 2000, (const uint8_t (*)[32])commits, 2, &e));
	CHECK_OK(seal_leaves_write(spool, N_B, (const uint8_t (*)[32])commits, 2, e.p, e.len));
	CHECK_OK(tlog_append(log, e.p, e.len, NULL));
	CHECK_OK(tlog_checkpoint(log, NULL));
	/* C: open at the crash, with a manifest of two streams */
	snprintf(p, sizeof(p), "%s/TMP.%s", spool, N_C);
	CHECK(put_file(p, 500) == 0);
	seal_streams_reset(&t, N_C);
	for (uint64_t q = 10; q <= 14; q++)
		seal_streams_note(&t, ETSI_KIND_CC, liid, 8, 1, 77, q);
	seal_streams_note(&t, ETSI_KIND_IRI, liid, 8, 1, 77, 3);
	CHECK_OK(seal_streams_write(spool, &t));
	CHECK(exists(spool, "", N_C ".streams"));
	/* D: batch durable, the rename to the final name not done */
	snprintf(p, sizeof(p), "%s/TMP.%s", spool, N_D);
	CHECK(put_file(p, 3000) == 0);
	lacre_dbuf_reset(&e);
	CHECK_OK(seg_entry(N_D, 3000, (const uint8_t (*)[32])commits, 1, &e));
	CHECK_OK(seal_leaves_write(spool, N_D, (const uint8_t (*)[32])commits, 1, e.p, e.len));
	/* E: a damaged batch file */
	snprintf(p, sizeof(p), "%s/%s", spool, N_E);
	CHECK(put_file(p, 100) == 0);
	lacre_dbuf_reset(&e);
	CHECK_OK(seg_entry(N_E, 100, (const uint8_t (*)[32])commits, 1, &e));
	CHECK_OK(seal_leaves_write(spool, N_E, (const uint8_t (*)[32])commits, 1, e.p, e.len));
	{
		snprintf(p, sizeof(p), "%s/%s.leaves", spool, N_E);
		int fd = open(p, O_RDWR);
		uint8_t x;
		CHECK(fd >= 0);
		CHECK(pread(fd, &x, 1, 30) == 1);
		x ^= 1;
		CHECK(pwrite(fd, &x, 1, 30) == 1);
		close(fd);
	}
	/* F: a closed segment of the older layout */
	snprintf(p, sizeof(p), "%s/%s", spool, N_F);
	CHECK(put_file(p, 10) == 0);
	/* G: a v1 batch an older receiver left (commitments, then a v1 entry) */
	snprintf(p, sizeof(p), "%s/%s", spool, N_G);
	CHECK(put_file(p, 700) == 0);
	lacre_dbuf_reset(&e);
	CHECK_OK(seg_entry_v1(N_G, 700, &e));
	CHECK_OK(seal_leaves_write(spool, N_G, (const uint8_t (*)[32])commits, 2, e.p, e.len));
	/* H: a well-formed file whose v2 entry's root is not its commitments'
	 * (the entry made over commitments 0-1, the file holds 1-2) */
	snprintf(p, sizeof(p), "%s/%s", spool, N_H);
	CHECK(put_file(p, 800) == 0);
	lacre_dbuf_reset(&e);
	CHECK_OK(seg_entry(N_H, 800, (const uint8_t (*)[32])commits, 2, &e));
	CHECK_OK(seal_leaves_write(spool, N_H, (const uint8_t (*)[32])commits + 1, 2, e.p, e.len));

	CHECK_OK(seal_spool_recover(spool, log, &ops, &rec, msg, sizeof(msg)));
	/* A and D re-logged with their one entry (v2), G with all its
	 * entries as written (v1); they wait in the spool */
	CHECK_EQ_INT(rec.relogged_segments, 3);
	CHECK_EQ_INT(rec.relogged_records, 3 + 1 + 2);
	CHECK_EQ_INT(seen.n_relog, 3);
	for (size_t i = 0; i < 3; i++) {
		if (!strcmp(seen.relogged[i], N_G)) {
			CHECK_EQ_INT(seen.relog_n[i], 3);
			CHECK_EQ_INT(seen.batch_len[i], 2 * 34 + 2 + 16 + 1 + 36 + 8 + 1 + 32);
			continue;
		}
		CHECK_EQ_INT(seen.relog_n[i], 1);
		/* u16be length || the v2 entry, and nothing else */
		lacre_dbuf_reset(&e);
		if (!strcmp(seen.relogged[i], N_A)) {
			CHECK_OK(seg_entry(N_A, 1000, (const uint8_t (*)[32])commits, 3, &e));
		} else {
			CHECK_STR(seen.relogged[i], N_D);
			CHECK_OK(seg_entry(N_D, 3000, (const uint8_t (*)[32])commits, 1, &e));
		}
		CHECK_EQ_INT(seen.batch_len[i], 2 + e.len);
		CHECK_EQ_INT(seen.batch[i][0] << 8 | seen.batch[i][1], e.len);
		CHECK_MEM(seen.batch[i] + 2, e.p, e.len);
	}
	CHECK(exists(spool, "", N_A));
	CHECK(exists(spool, "", N_A ".leaves"));
	CHECK(exists(spool, "", N_D));
	CHECK(!exists(spool, "", "TMP." N_D));
	/* B signed: promoted, its batch file gone */
	CHECK_EQ_INT(rec.covered_segments, 1);
	CHECK(exists(spool, "ready", N_B));
	CHECK(!exists(spool, "", N_B));
	CHECK(!exists(spool, "", N_B ".leaves"));
	/* C lost: both streams named with their ranges, files kept in lost/ */
	CHECK_EQ_INT(rec.lost_segments, 1);
	CHECK_EQ_INT(rec.lost_records, 6);
	CHECK_EQ_INT(seen.n_events, 2);
	CHECK(strstr(seen.events[0], "\"event\":\"lost-open-segment\"") != NULL);
	CHECK(strstr(seen.events[0], "\"liid\":\"LIID0001\",\"cin\":77,\"stream\":\"cc\","
			 "\"first\":10,\"last\":14,\"count\":5") != NULL);
	CHECK(strstr(seen.events[1], "\"stream\":\"iri\",\"first\":3,\"last\":3,\"count\":1") != NULL);
	CHECK(exists(spool, "lost", "TMP." N_C));
	CHECK(exists(spool, "lost", N_C ".streams"));
	CHECK(!exists(spool, "", "TMP." N_C));
	/* E damaged, H's entry not its commitments': set aside, never uploaded */
	CHECK_EQ_INT(rec.damaged, 2);
	CHECK(exists(spool, "lost", N_E));
	CHECK(!exists(spool, "ready", N_E));
	CHECK(exists(spool, "lost", N_H));
	CHECK(exists(spool, "lost", N_H ".leaves"));
	CHECK(!exists(spool, "ready", N_H));
	CHECK(!exists(spool, "", N_H));
	/* F older layout: goes up as before */
	CHECK_EQ_INT(rec.legacy_segments, 1);
	CHECK(exists(spool, "ready", N_F));

	seal_streams_free(&t);
	lacre_dbuf_free(&e);
	tlog_close(log);
	lacre_store_close(st);
	note_signer_free(key);
}

/* An open segment lost before its first manifest still gets a report. */
static void test_lost_without_manifest(void)
{
	const char *dir = t_tmpdir();
	char spool[600], p[700], msg[256];
	struct lacre_store *st = NULL;
	struct note_signer *key = NULL;
	struct tlog *log = NULL;
	struct seen seen;
	struct seal_recovery rec;
	struct seal_recovery_ops ops = { cb_relog, cb_event, &seen, NULL };

	memset(&seen, 0, sizeof(seen));
	snprintf(spool, sizeof(spool), "%s/spool", dir);
	CHECK(mkdir(spool, 0700) == 0);
	CHECK_OK(open_log(dir, &st, &key, &log));
	snprintf(p, sizeof(p), "%s/TMP.%s", spool, N_C);
	CHECK(put_file(p, 50) == 0);
	CHECK_OK(seal_spool_recover(spool, log, &ops, &rec, msg, sizeof(msg)));
	CHECK_EQ_INT(rec.lost_segments, 1);
	CHECK_EQ_INT(seen.n_events, 1);
	CHECK(strstr(seen.events[0], "before this open segment's first manifest") != NULL);
	tlog_close(log);
	lacre_store_close(st);
	note_signer_free(key);
}

/* The manifest table: many streams, the capacity, the fast path. */
static void test_streams_table(void)
{
	struct seal_streams t;
	uint8_t liid[4] = { 'L', 0, 0, 0 };

	memset(&t, 0, sizeof(t));
	seal_streams_reset(&t, N_A);
	for (uint32_t i = 0; i < SEAL_STREAMS_MAX + 10; i++) {
		memcpy(liid + 1, &i, 3);
		seal_streams_note(&t, ETSI_KIND_CC, liid, 4, 0, 0, i);
		seal_streams_note(&t, ETSI_KIND_CC, liid, 4, 0, 0, i + 5);
	}
	CHECK_EQ_INT(t.n, SEAL_STREAMS_MAX);
	CHECK_EQ_INT(t.other, 20);
	CHECK_EQ_INT(t.s[3].count, 2);
	CHECK_EQ_INT(t.s[3].first, 3);
	CHECK_EQ_INT(t.s[3].last, 8);
	/* CIN present and absent are different streams */
	seal_streams_reset(&t, N_B);
	seal_streams_note(&t, ETSI_KIND_IRI, liid, 4, 1, 0, 1);
	seal_streams_note(&t, ETSI_KIND_IRI, liid, 4, 0, 0, 2);
	CHECK_EQ_INT(t.n, 2);
	seal_streams_free(&t);
}

/* The manifest as a journal (issue 15): the first write is the whole
 * table, later ones append the changed streams' lines (a stream's last line
 * carries its whole range), a line cut by the crash is not read, the file
 * is compacted past SEAL_JOURNAL_COMPACT, and recovery names each stream
 * once with the widest range its lines give. */
static void test_streams_journal(void)
{
	const char *dir = t_tmpdir();
	char spool[600], p[700], msg[256];
	struct lacre_store *st = NULL;
	struct note_signer *key = NULL;
	struct tlog *log = NULL;
	struct seen seen;
	struct seal_recovery rec;
	struct seal_recovery_ops ops = { cb_relog, cb_event, &seen, NULL };
	struct seal_streams t;
	uint8_t liid[8] = { 'L', 'I', 'I', 'D', '0', '0', '0', '9' };
	struct stat sb;
	off_t before;
	int fd;

	memset(&seen, 0, sizeof(seen));
	memset(&t, 0, sizeof(t));
	snprintf(spool, sizeof(spool), "%s/spool", dir);
	CHECK(mkdir(spool, 0700) == 0);
	snprintf(p, sizeof(p), "%s/%s.streams", spool, N_C);
	seal_streams_reset(&t, N_C);
	seal_streams_note(&t, ETSI_KIND_CC, liid, 8, 1, 5, 1);
	seal_streams_note(&t, ETSI_KIND_IRI, liid, 8, 1, 5, 1);
	CHECK_OK(seal_streams_write(spool, &t));
	CHECK(stat(p, &sb) == 0);
	before = sb.st_size;
	/* nothing changed: nothing written */
	CHECK_OK(seal_streams_write(spool, &t));
	CHECK(stat(p, &sb) == 0 && sb.st_size == before);
	/* one stream changed: one line appended */
	for (uint64_t q = 2; q <= 40; q++)
		seal_streams_note(&t, ETSI_KIND_CC, liid, 8, 1, 5, q);
	CHECK_OK(seal_streams_write(spool, &t));
	CHECK(stat(p, &sb) == 0 && sb.st_size > before);
	CHECK(sb.st_size - before == (off_t)strlen("2 4c49494430303039 5 1 40 40\n"));
	/* compaction: the journal never grows much past its limit */
	for (uint64_t q = 41; q < 41 + 20000; q++) {
		seal_streams_note(&t, ETSI_KIND_CC, liid, 8, 1, 5, q);
		CHECK_OK(seal_streams_write(spool, &t));
	}
	CHECK(stat(p, &sb) == 0 && (uint64_t)sb.st_size < SEAL_JOURNAL_COMPACT + 256);
	seal_streams_note(&t, ETSI_KIND_CC, liid, 8, 1, 5, 20041);
	CHECK_OK(seal_streams_write(spool, &t));
	/* a line cut by the kill: not read (it would claim 99999) */
	fd = open(p, O_WRONLY | O_APPEND);
	CHECK(fd >= 0 && write(fd, "2 4c49494430303039 5 1 99999 9", 30) == 30);
	close(fd);
	snprintf(p, sizeof(p), "%s/TMP.%s", spool, N_C);
	CHECK(put_file(p, 50) == 0);
	CHECK_OK(open_log(dir, &st, &key, &log));
	CHECK_OK(seal_spool_recover(spool, log, &ops, &rec, msg, sizeof(msg)));
	CHECK_EQ_INT(rec.lost_segments, 1);
	CHECK_EQ_INT(rec.lost_records, 20041 + 1);
	CHECK_EQ_INT(seen.n_events, 2);
	{
		int cc = 0, iri = 0;
		for (size_t i = 0; i < seen.n_events; i++) {
			CHECK(strstr(seen.events[i], "\"lost-open-segment\"") != NULL);
			if (strstr(seen.events[i], "\"first\":1,\"last\":20041,\"count\":20041"))
				cc++;
			if (strstr(seen.events[i], "\"first\":1,\"last\":1,\"count\":1"))
				iri++;
			CHECK(strstr(seen.events[i], "99999") == NULL);
		}
		CHECK_EQ_INT(cc, 1);
		CHECK_EQ_INT(iri, 1);
	}
	if (seen.n_events)
		printf("  %s\n", seen.events[0]);
	seal_streams_free(&t);
	tlog_close(log);
	lacre_store_close(st);
	note_signer_free(key);
}

int main(void)
{
	RUN(test_recover_every_crash_point);
	RUN(test_lost_without_manifest);
	RUN(test_streams_table);
	RUN(test_streams_journal);
	return t_done();
}

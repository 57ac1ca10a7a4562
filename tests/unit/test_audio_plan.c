/*
 * test_audio_plan.c - the audio plan kept in the index (lib/access/
 * audio_plan.c, its use in lib/access/audio.c; docs/cmd-audio.md "The
 * stored plan").  The first audio_write of a call plans from every packet
 * row and stores the plan; the next one reads only the stored plan and
 * each segment's rows a chunk at a time.  Both must give the same file,
 * byte for byte, and the same report, whatever the chunk size (1, 2, 5
 * and the default), for a call with a packet late in a later segment, a
 * gap on each side, a duplicate and a second SSRC, and for a call whose
 * 16-bit sequence numbers wrap (65535 -> 0) across two segments with a
 * late packet from before the wrap.  A plan is not used when it is stale:
 * the call gains a segment (a missing packet arrives: the file changes
 * and the plan is made again), its blob does not parse; it is still used
 * when the warrant gains a segment of another call.  A plan that parses
 * but does not match the rows fails the write (LACRE_E_DB, no file);
 * index_reset forgets every plan; a schema-3 index opens as schema 4 with
 * its rows kept.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "harness.h"
#include "sink_kit.h"
#include "lacre/audio.h"
#include "lacre/audio_plan.h"
#include "lacre/calls.h"
#include "lacre/err.h"
#include "lacre/index.h"

#define W_V "W-000001"      /* LIVOIP: calls on CIN 4242 (SIP) and 4343 (RTP only) */

static struct lacre_store *p_st;
static struct index *p_ix;
static struct age_x25519_identity p_id;
static struct audio_report p_full, p_kept;   /* large: not on the stack */
static int p_n;                               /* output file counter */
static int p_ok;                              /* p_both got to its end */
static char p_path[700];                      /* the index file */

/* Push one RTP packet of cin (kit_rtp) with its SSRC's last octet set to
 * ssrc (kit_rtp writes 1 from the target, 2 to it, just before the 160
 * payload bytes and the PDU's closing 6 octets). */
static int p_push(struct lacre_sink *k, uint32_t cin, uint64_t cs, int64_t t, int from,
		  uint16_t rseq, uint8_t fill, uint8_t ssrc)
{
	struct lacre_dbuf b;
	size_t at;
	int r;

	lacre_dbuf_init(&b, 1 << 16);
	r = kit_rtp(&b, "LIVOIP", cin, cs, t, from, rseq, fill, 0);
	if (r == LACRE_OK && b.len < 6 + 160 + 12)
		r = LACRE_E_INTERNAL;
	if (r == LACRE_OK) {
		at = b.len - 6 - 160 - 1;
		if (b.p[at] != (from ? 1 : 2) || b.p[at + 1] != fill)
			r = LACRE_E_INTERNAL;
		else
			b.p[at] = ssrc;
	}
	if (r == LACRE_OK)
		r = kit_push(k, b.p, b.len, t, LACRE_HI3);
	lacre_dbuf_free(&b);
	return r;
}

/* CIN 4343's packets from the target: sequence numbers 65530 + i (mod
 * 65536) 20 ms apart from t, for i in [from, to), skipping i == skip. */
static int p_wrap(struct lacre_sink *k, int64_t t, int from, int to, int skip)
{
	int r = LACRE_OK;

	for (int i = from; r == LACRE_OK && i < to; i++)
		if (i != skip)
			r = p_push(k, 4343, 1000 + (uint64_t)i, t + (int64_t)i * 20000, 1,
				   (uint16_t)(65530 + i), (uint8_t)(0x80 + i), 1);
	return r;
}

/* Seal one segment with fn's packets and index it. */
static int p_segment(int (*fn)(struct lacre_sink *k, int64_t t0), int64_t t0)
{
	struct lacre_sink k;
	struct index_report ir;
	int r;

	if ((r = seal_sink_open(&kit_site, &k, kit_msg, sizeof(kit_msg))) != LACRE_OK)
		return r;
	r = fn(&k, t0);
	k.close(k.ctx);
	if (r == LACRE_OK)
		r = index_update(p_ix, p_st, &p_id, W_V, NULL, NULL, &ir);
	return r;
}

/* Segment 1: the call on 4242 (10 packets each way from 1000, from the
 * target 1003 and to it 1006 not sent), two packets of SSRC 9 from the
 * target, and 4343's packets 0..7 (65530 .. 1) without 3 (65533). */
static int p_seg1(struct lacre_sink *k, int64_t t0)
{
	int r = kit_call(k, "LIVOIP", 4242, t0, 10, 3, 6, 0);

	if (r == LACRE_OK)
		r = p_push(k, 4242, 100, t0 + 610000, 1, 5000, 0xd5, 9);
	if (r == LACRE_OK)
		r = p_push(k, 4242, 101, t0 + 630000, 1, 5001, 0xd5, 9);
	if (r == LACRE_OK)
		r = p_wrap(k, t0 + 700000, 0, 8, 3);
	return r;
}

/* Segment 2: 4242 from the target 1012, then 1003 late (its PDU time of
 * its place), a second 1002 to the target; 4343's 8..11 (2 .. 5) and its
 * late 65533. */
static int p_seg2(struct lacre_sink *k, int64_t t0)
{
	int r = p_push(k, 4242, 200, t0 + 600000 + 12 * 20000, 1, 1012, 0xd5, 1);

	if (r == LACRE_OK)
		r = p_push(k, 4242, 201, t0 + 600000 + 3 * 20000, 1, 1003, 0xd5, 1);
	if (r == LACRE_OK)
		r = p_push(k, 4242, 202, t0 + 600000 + 2 * 20000 + 5000, 0, 1002, 0x55, 2);
	if (r == LACRE_OK)
		r = p_wrap(k, t0 + 700000, 8, 12, -1);
	if (r == LACRE_OK)
		r = p_wrap(k, t0 + 700000, 3, 4, -1);
	return r;
}

/* Segment 3: 4242's missing 1006 to the target arrives. */
static int p_seg3(struct lacre_sink *k, int64_t t0)
{
	return p_push(k, 4242, 300, t0 + 600000 + 6 * 20000 + 5000, 0, 1006, 0x55, 2);
}

/* Segment 4: another call's packet (CIN 5555) of the same warrant. */
static int p_seg4(struct lacre_sink *k, int64_t t0)
{
	return p_push(k, 5555, 400, t0 + 600000, 1, 7, 0xd5, 1);
}

/* The site, the index and segments 1 and 2. */
static int p_site(int64_t t0)
{
	struct warrant w;
	char wid[WARRANT_ID_MAX], spec[SITE_PATH_MAX + 16];
	int r;

	if ((r = kit_make_site(NULL, 0, 0, 0)) != LACRE_OK)
		return r;
	kit_spec(&w, "LIVOIP", "2026-01-10", "2026-01-10", "2026-04-10");
	if ((r = warrant_add(&kit_site, kit_ks, &w, wid, kit_msg, sizeof(kit_msg))) != LACRE_OK)
		return r;
	if (snprintf(spec, sizeof(spec), "dir:%s/objects", kit_site.dir) >= (int)sizeof(spec))
		return LACRE_E_TOO_LARGE;
	snprintf(p_path, sizeof(p_path), "%s/index.sqlite", t_tmpdir());
	if ((r = lacre_store_open(spec, &p_st)) != LACRE_OK ||
	    (r = index_open_path(p_path, &p_ix)) != LACRE_OK ||
	    (r = keystore_get(kit_ks, W_V, &p_id, NULL)) != LACRE_OK ||
	    (r = p_segment(p_seg1, t0)) != LACRE_OK)
		return r;
	return p_segment(p_seg2, t0);
}

/* One integer of SQL (or -1). */
static long long p_int(const char *sql)
{
	sqlite3_stmt *st = NULL;
	long long v = -1;

	if (sqlite3_prepare_v2(index_db(p_ix), sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* Write call id's audio to a new file into *wav (its bytes) with report
 * rep; the audio_write result. */
static int p_render(const char *id, struct lacre_dbuf *wav, struct audio_report *rep)
{
	struct calls_entry c;
	char path[700];
	int r;

	if ((r = calls_find(p_ix, W_V, id, &c)) != LACRE_OK)
		return r;
	snprintf(path, sizeof(path), "%s/plan-%d.wav", t_tmpdir(), p_n++);
	if ((r = audio_write(p_ix, p_st, &p_id, &c, path, NULL, NULL, rep)) != LACRE_OK)
		return r;
	lacre_dbuf_free(wav);   /* site_read_file starts it afresh */
	return site_read_file(path, 1 << 24, wav);
}

/* Whether two reports agree on everything but the times and the plan's
 * source. */
static int p_same(const struct audio_report *a, const struct audio_report *b)
{
	if (a->frames != b->frames || a->duplicates != b->duplicates ||
	    a->other_ssrc != b->other_ssrc || a->unknown_side != b->unknown_side ||
	    a->not_g711 != b->not_g711 || a->n_gaps != b->n_gaps || a->gaps_total != b->gaps_total)
		return 0;
	for (int s = 0; s < 2; s++)
		if (a->packets[s] != b->packets[s] || a->missing[s] != b->missing[s] ||
		    a->excluded[s] != b->excluded[s] || a->pt[s] != b->pt[s])
			return 0;
	for (size_t i = 0; i < a->n_gaps; i++)
		if (a->gaps[i].side != b->gaps[i].side || a->gaps[i].at_sample != b->gaps[i].at_sample ||
		    a->gaps[i].packets != b->gaps[i].packets || a->gaps[i].samples != b->gaps[i].samples)
			return 0;
	return 1;
}

/* Forget every stored plan. */
static int p_forget(void)
{
	return sqlite3_exec(index_db(p_ix), "DELETE FROM audio_plans; DELETE FROM audio_plan_segments",
			    NULL, NULL, NULL) == SQLITE_OK ? LACRE_OK : LACRE_E_DB;
}

/* Render id in full (no plan: it is stored), then from the stored plan:
 * the same bytes and report.  *out receives the file. */
static void p_both(const char *id, uint32_t chunk, struct lacre_dbuf *out)
{
	struct lacre_dbuf kept;

	p_ok = 0;
	lacre_dbuf_init(&kept, 1 << 24);
	audio_plan_set_chunk(chunk);
	CHECK_OK(p_forget());
	CHECK_OK(p_render(id, out, &p_full));
	CHECK_EQ_INT(p_full.plan_stored, 0);
	CHECK_EQ_INT(p_int("SELECT count(*) FROM audio_plans"), 1);
	CHECK_OK(p_render(id, &kept, &p_kept));
	CHECK_EQ_INT(p_kept.plan_stored, 1);
	CHECK_EQ_INT(kept.len, out->len);
	CHECK_MEM(kept.p, out->p, out->len);
	CHECK(p_same(&p_full, &p_kept));
	lacre_dbuf_free(&kept);
	p_ok = 1;
}

/* The stored plan gives the full plan's file and report; staleness. */
static void test_audio_plan(void)
{
	static const uint32_t chunks[] = { 1, 2, 5, 0 };
	int64_t t0 = T("2026-02-01T10:00:00Z");
	struct lacre_dbuf a, b;
	struct calls_entry c;
	sqlite3_stmt *st = NULL;
	uint8_t blob[25 * 64];
	int len = 0;
	char path[700], obj[sizeof(kit_site.dir) + 64];
	struct stat sb;

	lacre_dbuf_init(&a, 1 << 24);
	lacre_dbuf_init(&b, 1 << 24);
	CHECK_OK(p_site(t0));
	for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
		p_both(W_V "-4242", chunks[i], &a);
		CHECK(p_ok);
		/* the case test_audio_order checks against its own render */
		CHECK_EQ_INT(p_full.packets[CALLS_FROM_TARGET], 11);
		CHECK_EQ_INT(p_full.packets[CALLS_TO_TARGET], 10);
		CHECK_EQ_INT(p_full.duplicates, 1);
		CHECK_EQ_INT(p_full.other_ssrc, 2);
		CHECK_EQ_INT(p_full.gaps_total, 2);
		CHECK_EQ_INT(a.len, AUDIO_WAV_HEADER + (12 * 160 + 160) * 4);
		p_both(W_V "-4343", chunks[i], &b);
		CHECK(p_ok);
		/* 65530 .. 5 unwrapped: 12 packets, none missing, the late
		 * 65533 at its place */
		CHECK_EQ_INT(p_full.packets[CALLS_FROM_TARGET], 12);
		CHECK_EQ_INT(p_full.missing[CALLS_FROM_TARGET], 0);
		CHECK_EQ_INT(p_full.frames, 12 * 160);
		CHECK(b.len == AUDIO_WAV_HEADER + 12 * 160 * 4);
		if (b.len == AUDIO_WAV_HEADER + 12 * 160 * 4)
			CHECK(b.p[AUDIO_WAV_HEADER + 3 * 160 * 4] != 0 ||
			      b.p[AUDIO_WAV_HEADER + 3 * 160 * 4 + 1] != 0);
	}

	/* chunks of 2 from here */
	audio_plan_set_chunk(2);
	CHECK_OK(p_forget());
	CHECK_OK(p_render(W_V "-4242", &a, &p_full));
	CHECK_EQ_INT(p_full.plan_stored, 0);
	/* another call of the warrant gains a segment: the plan still holds */
	CHECK_OK(p_segment(p_seg4, t0));
	CHECK_OK(p_render(W_V "-4242", &b, &p_kept));
	CHECK_EQ_INT(p_kept.plan_stored, 1);
	CHECK_EQ_INT(b.len, a.len);
	CHECK_MEM(b.p, a.p, a.len);

	/* the call gains a segment (its missing 1006): stale, planned again,
	 * the gap gone; then the new plan is used */
	CHECK_OK(p_segment(p_seg3, t0));
	CHECK_OK(p_render(W_V "-4242", &b, &p_full));
	CHECK_EQ_INT(p_full.plan_stored, 0);
	CHECK_EQ_INT(p_full.missing[CALLS_TO_TARGET], 0);
	CHECK_EQ_INT(p_full.gaps_total, 1);
	CHECK_EQ_INT(b.len, a.len);
	CHECK(memcmp(b.p, a.p, a.len) != 0);
	CHECK_OK(p_render(W_V "-4242", &a, &p_kept));
	CHECK_EQ_INT(p_kept.plan_stored, 1);
	CHECK_EQ_INT(a.len, b.len);
	CHECK_MEM(a.p, b.p, b.len);
	CHECK(p_same(&p_full, &p_kept));
	CHECK_EQ_INT(p_int("SELECT segments FROM audio_plans WHERE call = '" W_V "-4242'"), 3);

	/* a plan blob that does not parse is no plan: made again */
	CHECK(sqlite3_exec(index_db(p_ix), "UPDATE audio_plans SET plan = x'00'", NULL, NULL, NULL) ==
	      SQLITE_OK);
	CHECK_OK(p_render(W_V "-4242", &a, &p_kept));
	CHECK_EQ_INT(p_kept.plan_stored, 0);
	CHECK_MEM(a.p, b.p, b.len);

	/* a plan that parses but places a packet elsewhere than its rows say
	 * (the first chunk's first anchor one higher) fails the write, and
	 * no file is left */
	CHECK(sqlite3_prepare_v2(index_db(p_ix), "SELECT chunks FROM audio_plan_segments WHERE call = '"
				 W_V "-4242' AND n = 0", -1, &st, NULL) == SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW && (len = sqlite3_column_bytes(st, 0)) <= (int)sizeof(blob))
		memcpy(blob, sqlite3_column_blob(st, 0), (size_t)len);
	sqlite3_finalize(st);
	st = NULL;
	CHECK(len >= 25);
	blob[15]++;   /* anchor[0]'s low octet (after the 8-octet minpos) */
	CHECK(sqlite3_prepare_v2(index_db(p_ix), "UPDATE audio_plan_segments SET chunks = ?1 WHERE call = '"
				 W_V "-4242' AND n = 0", -1, &st, NULL) == SQLITE_OK);
	sqlite3_bind_blob(st, 1, blob, len, SQLITE_TRANSIENT);
	CHECK(sqlite3_step(st) == SQLITE_DONE);
	sqlite3_finalize(st);
	CHECK_OK(calls_find(p_ix, W_V, W_V "-4242", &c));
	snprintf(path, sizeof(path), "%s/plan-bad.wav", t_tmpdir());
	CHECK_EQ_INT(audio_write(p_ix, p_st, &p_id, &c, path, NULL, NULL, &p_kept), LACRE_E_DB);
	CHECK(lstat(path, &sb) != 0);
	snprintf(path, sizeof(path), "%s/plan-bad.wav.part", t_tmpdir());
	CHECK(lstat(path, &sb) != 0);

	/* a stored report that the rows do not give (one duplicate more, at
	 * offset 112 of the plan blob: after version, chunk, frames and the
	 * two sides' 48 octets) fails the write at its end, and no file is
	 * left; the export's path (audio_write_skip) neither uses nor stores
	 * a plan */
	CHECK_OK(p_forget());
	CHECK_OK(p_render(W_V "-4242", &a, &p_full));
	CHECK_EQ_INT(p_full.plan_stored, 0);
	CHECK_EQ_INT(p_full.duplicates, 1);
	len = 0;
	CHECK(sqlite3_prepare_v2(index_db(p_ix), "SELECT plan FROM audio_plans WHERE call = '"
				 W_V "-4242'", -1, &st, NULL) == SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW && (len = sqlite3_column_bytes(st, 0)) <= (int)sizeof(blob))
		memcpy(blob, sqlite3_column_blob(st, 0), (size_t)len);
	sqlite3_finalize(st);
	st = NULL;
	CHECK(len >= 120);
	CHECK_EQ_INT(blob[119], 1);   /* the low octet of duplicates */
	blob[119] = 2;
	CHECK(sqlite3_prepare_v2(index_db(p_ix), "UPDATE audio_plans SET plan = ?1 WHERE call = '"
				 W_V "-4242'", -1, &st, NULL) == SQLITE_OK);
	sqlite3_bind_blob(st, 1, blob, len, SQLITE_TRANSIENT);
	CHECK(sqlite3_step(st) == SQLITE_DONE);
	sqlite3_finalize(st);
	snprintf(path, sizeof(path), "%s/plan-dup.wav", t_tmpdir());
	CHECK_EQ_INT(audio_write(p_ix, p_st, &p_id, &c, path, NULL, NULL, &p_kept), LACRE_E_DB);
	CHECK(lstat(path, &sb) != 0);
	snprintf(path, sizeof(path), "%s/plan-dup.wav.part", t_tmpdir());
	CHECK(lstat(path, &sb) != 0);
	snprintf(path, sizeof(path), "%s/plan-skip.wav", t_tmpdir());
	CHECK_OK(audio_write_skip(p_ix, p_st, &p_id, &c, path, NULL, NULL, NULL, &p_kept));
	CHECK_EQ_INT(p_kept.plan_stored, 0);
	CHECK_EQ_INT(p_kept.duplicates, 1);
	CHECK_EQ_INT(p_int("SELECT count(*) FROM audio_plans WHERE call = '" W_V "-4242' AND "
			   "substr(plan, 120, 1) = x'02'"), 1);   /* left as it was */

	/* a segment of a stored plan gone from the backend is missing
	 * evidence (LACRE_E_MISSING, as without a plan), not an index error */
	CHECK_OK(p_forget());
	CHECK_OK(p_render(W_V "-4242", &a, &p_full));
	CHECK_EQ_INT(p_full.plan_stored, 0);
	CHECK_OK(p_render(W_V "-4242", &a, &p_kept));
	CHECK_EQ_INT(p_kept.plan_stored, 1);
	CHECK(sqlite3_prepare_v2(index_db(p_ix), "SELECT segment FROM audio_plan_segments WHERE call = '"
				 W_V "-4242' AND n = 1", -1, &st, NULL) == SQLITE_OK);
	obj[0] = 0;
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0) != NULL)
		snprintf(obj, sizeof(obj), "%s/objects/%s", kit_site.dir,
			 (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	st = NULL;
	CHECK(obj[0] != 0 && unlink(obj) == 0);
	snprintf(path, sizeof(path), "%s/plan-missing.wav", t_tmpdir());
	CHECK_EQ_INT(audio_write(p_ix, p_st, &p_id, &c, path, NULL, NULL, &p_kept), LACRE_E_MISSING);
	CHECK(lstat(path, &sb) != 0);

	/* index_reset forgets every plan */
	CHECK(p_int("SELECT count(*) FROM audio_plans") > 0);
	CHECK_OK(index_reset(p_ix, W_V));
	CHECK_EQ_INT(p_int("SELECT count(*) FROM audio_plans"), 0);
	CHECK_EQ_INT(p_int("SELECT count(*) FROM audio_plan_segments"), 0);
	{
		struct index_report ir;
		CHECK_OK(index_update(p_ix, p_st, &p_id, W_V, NULL, NULL, &ir));
	}
	audio_plan_set_chunk(0);
	CHECK_EQ_INT(audio_plan_chunk(), AUDIO_PLAN_CHUNK);
	lacre_dbuf_free(&a);
	lacre_dbuf_free(&b);
}

/* A schema-3 index (no audio plan tables) opens as schema 4 with its rows
 * kept (nothing to rebuild). */
static void test_schema3(void)
{
	struct index *ix = NULL;
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	long long rows = -1, before;

	before = p_int("SELECT count(*) FROM records");
	CHECK(before > 0);
	index_close(p_ix);
	p_ix = NULL;
	CHECK(sqlite3_open(p_path, &db) == SQLITE_OK);
	CHECK(sqlite3_exec(db, "DROP TABLE audio_plans; DROP TABLE audio_plan_segments; "
			   "UPDATE meta SET value = '3' WHERE key = 'schema'", NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(db);
	CHECK_OK(index_open_path(p_path, &ix));
	CHECK(sqlite3_prepare_v2(index_db(ix), "SELECT (SELECT count(*) FROM records), "
				 "(SELECT value FROM meta WHERE key = 'schema'), "
				 "(SELECT count(*) FROM audio_plans)", -1, &st, NULL) == SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW) {
		rows = sqlite3_column_int64(st, 0);
		CHECK_EQ_INT(sqlite3_column_int(st, 1), 4);
		CHECK_EQ_INT(sqlite3_column_int(st, 2), 0);
	}
	sqlite3_finalize(st);
	CHECK_EQ_INT(rows, before);
	p_ix = ix;
}

int main(void)
{
	RUN(test_audio_plan);
	RUN(test_schema3);
	index_close(p_ix);
	lacre_store_close(p_st);
	age_identity_wipe(&p_id);
	keystore_close(kit_ks);
	return t_done();
}

/*
 * audio_plan.c - a call's audio plan kept in the access index
 * (include/lacre/audio_plan.h; tables audio_plans and audio_plan_segments,
 * docs/FORMATS.md §10).  This module only stores, loads and checks plans;
 * lib/access/audio.c makes them (from a whole-call plan) and uses them.
 *
 * Freshness: a plan is keyed by (warrant, call id) and holds a SHA-256 of
 * every parameter of the call that the plan depends on (its CINs and span,
 * which pick the rows, and the SDP addresses and ports, which pick each
 * row's side), its segments with their creation times, the segments
 * table's highest rowid when it was made (segments_gen) and the count of
 * the CC rows of the call's CINs in its span then (cc_rows).  Sealed
 * segments never change, the index adds a segment's records in the
 * transaction that adds its segments row (a new, higher rowid: INSERT OR
 * REPLACE), and only index_reset (which deletes every plan) or the schema
 * migration (before any plan) deletes rows.  So a plan is fresh when its
 * parameters hash the same, every segment it names is still indexed with
 * the same creation time, and either no opened segment of the warrant has
 * a rowid above segments_gen (the fast test) or the call's CC rows still
 * number cc_rows (rows were added elsewhere in the warrant, none of this
 * call's).  A plan that fails any check is not used: the caller plans in
 * full and replaces it.  Blobs are big-endian and parsed through
 * lacre_rbuf; a blob that does not parse is a stale plan, not an error.
 */
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "lacre/audio_plan.h"
#include "lacre/buf.h"
#include "lacre/err.h"
#include "lacre/merkle.h"

#define AUDIO_PLAN_VERSION 1
#define AUDIO_PLAN_CHUNK_BYTES 25     /* minpos, anchor[2], has bits */
#define AUDIO_PLAN_SLACK_US 60000000  /* media a minute before the INVITE or after the end */

static uint32_t audio_plan_rows = AUDIO_PLAN_CHUNK;

void audio_plan_set_chunk(uint32_t rows)
{
	audio_plan_rows = rows && rows <= AUDIO_PLAN_MAX_CHUNK ? rows : AUDIO_PLAN_CHUNK;
}

uint32_t audio_plan_chunk(void)
{
	return audio_plan_rows;
}

void audio_plan_bind(sqlite3_stmt *st, const struct calls_entry *c)
{
	sqlite3_bind_text(st, 1, c->warrant, -1, SQLITE_TRANSIENT);
	for (int k = 0; k < CALLS_MAX_CINS; k++)
		sqlite3_bind_int64(st, 2 + k, c->cins[(size_t)k < c->n_cins ? (size_t)k : 0]);
	/* a CIN may carry several calls: keep to this one's span, with a
	 * minute of slack for media before the INVITE's time or after the end */
	sqlite3_bind_int64(st, 10, c->start_us - AUDIO_PLAN_SLACK_US);
	sqlite3_bind_int64(st, 11, c->end_us ? c->end_us + AUDIO_PLAN_SLACK_US : INT64_MAX);
}

/* SHA-256 of what the plan depends on besides the rows: the format
 * version, the row filter's bound values and the side rule's inputs
 * (calls_side). */
static int audio_plan_params(const struct calls_entry *c, uint8_t out[32])
{
	struct lacre_dbuf b;
	int r = LACRE_OK;

	lacre_dbuf_init(&b, 4096);
	r |= lacre_dbuf_add_str(&b, "lacre audio plan");
	r |= lacre_dbuf_add_u32be(&b, AUDIO_PLAN_VERSION);
	r |= lacre_dbuf_add(&b, c->warrant, strlen(c->warrant) + 1);
	for (int k = 0; k < CALLS_MAX_CINS; k++)
		r |= lacre_dbuf_add_u32be(&b, c->cins[(size_t)k < c->n_cins ? (size_t)k : 0]);
	r |= lacre_dbuf_add_u64be(&b, (uint64_t)c->start_us);
	r |= lacre_dbuf_add_u64be(&b, (uint64_t)c->end_us);
	r |= lacre_dbuf_add(&b, c->target_media, strnlen(c->target_media, sizeof(c->target_media)));
	r |= lacre_dbuf_add_u8(&b, 0);
	r |= lacre_dbuf_add(&b, c->peer_media, strnlen(c->peer_media, sizeof(c->peer_media)));
	r |= lacre_dbuf_add_u8(&b, 0);
	r |= lacre_dbuf_add_u32be(&b, c->target_port);
	r |= lacre_dbuf_add_u32be(&b, c->peer_port);
	if (r == LACRE_OK)
		merkle_sha256(b.p, b.len, out);
	lacre_dbuf_free(&b);
	return r == LACRE_OK ? LACRE_OK : LACRE_E_NOMEM;
}

int audio_plan_gen(struct index *ix, int64_t *gen)
{
	sqlite3_stmt *st = NULL;
	int r = LACRE_E_DB;

	if (sqlite3_prepare_v2(index_db(ix), "SELECT coalesce(max(rowid), 0) FROM segments", -1, &st,
			       NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
		*gen = sqlite3_column_int64(st, 0);
		r = LACRE_OK;
	}
	sqlite3_finalize(st);
	return r;
}

int audio_plan_count(struct index *ix, const struct calls_entry *c, int64_t *rows)
{
	/* the records_cin index (warrant, cin, kind, time_us) covers it: no
	 * table row is read */
	static const char q[] =
		"SELECT count(*) FROM records r WHERE r.warrant = ?1 AND r.cin IN (?2, ?3, ?4, ?5, ?6, "
		"?7, ?8, ?9) AND r.kind = 'cc' AND r.time_us >= ?10 AND r.time_us <= ?11";
	sqlite3_stmt *st = NULL;
	int r = LACRE_E_DB;

	if (sqlite3_prepare_v2(index_db(ix), q, -1, &st, NULL) == SQLITE_OK) {
		audio_plan_bind(st, c);
		if (sqlite3_step(st) == SQLITE_ROW) {
			*rows = sqlite3_column_int64(st, 0);
			r = LACRE_OK;
		}
	}
	sqlite3_finalize(st);
	return r;
}

void audio_plan_free(struct audio_stored *sp)
{
	for (size_t i = 0; i < sp->n_seg; i++) {
		free(sp->seg[i].name);
		free(sp->seg[i].ch);
	}
	free(sp->seg);
	memset(sp, 0, sizeof(*sp));
}

/* The per-call blob: version, chunk, frames, the sides' values, the
 * report's counts, then the gaps listed. */
static int audio_plan_blob(const struct audio_stored *sp, const struct audio_report *rep,
			   struct lacre_dbuf *b)
{
	int r = LACRE_OK;

	r |= lacre_dbuf_add_u32be(b, AUDIO_PLAN_VERSION);
	r |= lacre_dbuf_add_u32be(b, sp->chunk);
	r |= lacre_dbuf_add_u64be(b, rep->frames);
	for (int s = 0; s < 2; s++) {
		r |= lacre_dbuf_add_u32be(b, sp->main_ssrc[s]);
		r |= lacre_dbuf_add_u64be(b, (uint64_t)sp->base[s]);
		r |= lacre_dbuf_add_u64be(b, sp->off[s]);
		r |= lacre_dbuf_add_u64be(b, sp->frame[s]);
		r |= lacre_dbuf_add_u64be(b, rep->packets[s]);
		r |= lacre_dbuf_add_u64be(b, rep->missing[s]);
		r |= lacre_dbuf_add_u32be(b, (uint32_t)rep->pt[s]);
	}
	r |= lacre_dbuf_add_u64be(b, rep->duplicates);
	r |= lacre_dbuf_add_u64be(b, rep->other_ssrc);
	r |= lacre_dbuf_add_u64be(b, rep->unknown_side);
	r |= lacre_dbuf_add_u64be(b, rep->not_g711);
	r |= lacre_dbuf_add_u64be(b, rep->gaps_total);
	r |= lacre_dbuf_add_u32be(b, (uint32_t)rep->n_gaps);
	for (size_t i = 0; i < rep->n_gaps; i++) {
		r |= lacre_dbuf_add_u8(b, (uint8_t)rep->gaps[i].side);
		r |= lacre_dbuf_add_u64be(b, rep->gaps[i].at_sample);
		r |= lacre_dbuf_add_u64be(b, rep->gaps[i].packets);
		r |= lacre_dbuf_add_u64be(b, rep->gaps[i].samples);
	}
	return r == LACRE_OK ? LACRE_OK : LACRE_E_NOMEM;
}

/* Parse the per-call blob into sp and rep; LACRE_E_NOT_FOUND when it is
 * not one this code writes. */
static int audio_plan_unblob(const void *p, size_t len, struct audio_stored *sp,
			     struct audio_report *rep)
{
	struct lacre_rbuf b;
	uint32_t v, n, u;
	uint64_t x;
	uint8_t side;
	int r = LACRE_OK;

	lacre_rbuf_init(&b, p, len);
	r |= lacre_rbuf_u32be(&b, &v);
	r |= lacre_rbuf_u32be(&b, &sp->chunk);
	r |= lacre_rbuf_u64be(&b, &rep->frames);
	for (int s = 0; s < 2; s++) {
		r |= lacre_rbuf_u32be(&b, &sp->main_ssrc[s]);
		r |= lacre_rbuf_u64be(&b, &x);
		sp->base[s] = (int64_t)x;
		r |= lacre_rbuf_u64be(&b, &sp->off[s]);
		r |= lacre_rbuf_u64be(&b, &sp->frame[s]);
		r |= lacre_rbuf_u64be(&b, &rep->packets[s]);
		r |= lacre_rbuf_u64be(&b, &rep->missing[s]);
		r |= lacre_rbuf_u32be(&b, &u);
		rep->pt[s] = (int32_t)u;
	}
	r |= lacre_rbuf_u64be(&b, &rep->duplicates);
	r |= lacre_rbuf_u64be(&b, &rep->other_ssrc);
	r |= lacre_rbuf_u64be(&b, &rep->unknown_side);
	r |= lacre_rbuf_u64be(&b, &rep->not_g711);
	r |= lacre_rbuf_u64be(&b, &rep->gaps_total);
	r |= lacre_rbuf_u32be(&b, &n);
	if (r != LACRE_OK || v != AUDIO_PLAN_VERSION || n > AUDIO_MAX_GAPS || sp->chunk == 0 ||
	    sp->chunk > AUDIO_PLAN_MAX_CHUNK || sp->frame[0] == 0 || sp->frame[1] == 0)
		return LACRE_E_NOT_FOUND;
	for (uint32_t i = 0; i < n; i++) {
		r |= lacre_rbuf_u8(&b, &side);
		r |= lacre_rbuf_u64be(&b, &rep->gaps[i].at_sample);
		r |= lacre_rbuf_u64be(&b, &rep->gaps[i].packets);
		r |= lacre_rbuf_u64be(&b, &rep->gaps[i].samples);
		rep->gaps[i].side = side;
		if (side > 1)
			r = LACRE_E_MALFORMED;
	}
	rep->n_gaps = n;
	if (r != LACRE_OK || lacre_rbuf_expect_end(&b) != LACRE_OK)
		return LACRE_E_NOT_FOUND;
	return LACRE_OK;
}

/* A segment's chunk blob. */
static int audio_plan_chunks_blob(const struct audio_plan_seg *g, struct lacre_dbuf *b)
{
	int r = LACRE_OK;

	for (size_t j = 0; j < g->n_ch; j++) {
		r |= lacre_dbuf_add_u64be(b, g->ch[j].minpos);
		r |= lacre_dbuf_add_u64be(b, (uint64_t)g->ch[j].anchor[0]);
		r |= lacre_dbuf_add_u64be(b, (uint64_t)g->ch[j].anchor[1]);
		r |= lacre_dbuf_add_u8(b, (uint8_t)(g->ch[j].has[0] | g->ch[j].has[1] << 1));
	}
	return r == LACRE_OK ? LACRE_OK : LACRE_E_NOMEM;
}

/* Parse a segment's chunk blob (n_ch chunks exactly). */
static int audio_plan_chunks_unblob(const void *p, size_t len, struct audio_plan_seg *g)
{
	struct lacre_rbuf b;
	uint64_t a0, a1;
	uint8_t has;
	int r = LACRE_OK;

	if (len != g->n_ch * AUDIO_PLAN_CHUNK_BYTES)
		return LACRE_E_NOT_FOUND;
	if ((g->ch = calloc(g->n_ch ? g->n_ch : 1, sizeof(*g->ch))) == NULL)
		return LACRE_E_NOMEM;
	lacre_rbuf_init(&b, p, len);
	for (size_t j = 0; j < g->n_ch; j++) {
		r |= lacre_rbuf_u64be(&b, &g->ch[j].minpos);
		r |= lacre_rbuf_u64be(&b, &a0);
		r |= lacre_rbuf_u64be(&b, &a1);
		r |= lacre_rbuf_u8(&b, &has);
		g->ch[j].anchor[0] = (int64_t)a0;
		g->ch[j].anchor[1] = (int64_t)a1;
		g->ch[j].has[0] = has & 1;
		g->ch[j].has[1] = (has >> 1) & 1;
		if (has > 3)
			r = LACRE_E_MALFORMED;
	}
	return r == LACRE_OK ? LACRE_OK : LACRE_E_NOT_FOUND;
}

/* Whether the index still holds exactly the rows of c the plan was made
 * from (1), not (0), or an error: no opened segment of the warrant was
 * indexed after gen, or the call's CC rows still number cc_rows. */
static int audio_plan_same_rows(struct index *ix, const struct calls_entry *c, int64_t gen,
				int64_t cc_rows)
{
	static const char q[] =
		"SELECT 1 FROM segments WHERE rowid > ?1 AND warrant = ?2 AND opened = 1 LIMIT 1";
	sqlite3_stmt *st = NULL;
	int64_t now = 0;
	int rc;

	if (sqlite3_prepare_v2(index_db(ix), q, -1, &st, NULL) != SQLITE_OK)
		return LACRE_E_DB;
	sqlite3_bind_int64(st, 1, gen);
	sqlite3_bind_text(st, 2, c->warrant, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		return 1;
	if (rc != SQLITE_ROW)
		return LACRE_E_DB;
	if ((rc = audio_plan_count(ix, c, &now)) != LACRE_OK)
		return rc;
	return now == cc_rows;
}

int audio_plan_load(struct index *ix, const struct calls_entry *c, struct audio_stored *sp,
		    struct audio_report *rep)
{
	static const char qc[] =
		"SELECT params, segments_gen, segments, packets, plan, cc_rows FROM audio_plans "
		"WHERE warrant = ?1 AND call = ?2";
	static const char qs[] =
		"SELECT p.segment, p.created_us, p.packets, p.chunks, s.created_us, s.opened "
		"FROM audio_plan_segments p LEFT JOIN segments s ON s.warrant = p.warrant AND "
		"s.segment = p.segment WHERE p.warrant = ?1 AND p.call = ?2 ORDER BY p.n";
	sqlite3_stmt *st = NULL;
	uint8_t want[32];
	int64_t gen = 0, n_seg = 0, packets = 0, cc_rows = 0;
	uint64_t total = 0;
	int rc, r;

	memset(sp, 0, sizeof(*sp));
	if ((r = audio_plan_params(c, want)) != LACRE_OK)
		return r;
	r = LACRE_E_DB;
	if (sqlite3_prepare_v2(index_db(ix), qc, -1, &st, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_text(st, 1, c->warrant, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, c->id, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		r = LACRE_E_NOT_FOUND;
		goto out;
	}
	if (rc != SQLITE_ROW)
		goto out;
	r = LACRE_E_NOT_FOUND;
	if (sqlite3_column_bytes(st, 0) != 32 || memcmp(sqlite3_column_blob(st, 0), want, 32) != 0)
		goto out;   /* the call's CINs, span or SDP changed: its rows or sides may */
	gen = sqlite3_column_int64(st, 1);
	n_seg = sqlite3_column_int64(st, 2);
	packets = sqlite3_column_int64(st, 3);
	cc_rows = sqlite3_column_int64(st, 5);
	if (n_seg <= 0 || packets <= 0 || n_seg > packets ||
	    audio_plan_unblob(sqlite3_column_blob(st, 4), (size_t)sqlite3_column_bytes(st, 4), sp,
			      rep) != LACRE_OK)
		goto out;
	sqlite3_finalize(st);
	st = NULL;
	sp->packets = (uint64_t)packets;
	if ((sp->seg = calloc((size_t)n_seg, sizeof(*sp->seg))) == NULL) {
		r = LACRE_E_NOMEM;
		goto out;
	}
	r = LACRE_E_DB;
	if (sqlite3_prepare_v2(index_db(ix), qs, -1, &st, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_text(st, 1, c->warrant, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, c->id, -1, SQLITE_TRANSIENT);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct audio_plan_seg *g;
		const char *name = (const char *)sqlite3_column_text(st, 0);
		int64_t k = sqlite3_column_int64(st, 2);

		r = LACRE_E_NOT_FOUND;
		/* every segment still indexed, opened, created when it was */
		if ((int64_t)sp->n_seg == n_seg || name == NULL || k <= 0 || k > packets ||
		    sqlite3_column_type(st, 4) == SQLITE_NULL || sqlite3_column_int(st, 5) != 1 ||
		    sqlite3_column_int64(st, 4) != sqlite3_column_int64(st, 1))
			goto out;
		g = &sp->seg[sp->n_seg++];
		g->created = sqlite3_column_int64(st, 1);
		g->packets = (uint64_t)k;
		g->n_ch = (size_t)((g->packets + sp->chunk - 1) / sp->chunk);
		total += g->packets;
		if ((g->name = strdup(name)) == NULL) {
			r = LACRE_E_NOMEM;
			goto out;
		}
		if ((r = audio_plan_chunks_unblob(sqlite3_column_blob(st, 3),
						  (size_t)sqlite3_column_bytes(st, 3), g)) != LACRE_OK)
			goto out;
	}
	r = LACRE_E_DB;
	if (rc != SQLITE_DONE)
		goto out;
	r = LACRE_E_NOT_FOUND;
	if ((int64_t)sp->n_seg != n_seg || total != (uint64_t)packets)
		goto out;
	sqlite3_finalize(st);
	st = NULL;
	/* a segment indexed since holds more of the call: stale */
	if ((rc = audio_plan_same_rows(ix, c, gen, cc_rows)) != 1) {
		r = rc < 0 ? rc : LACRE_E_NOT_FOUND;
		goto out;
	}
	sp->gen = gen;
	sp->cc_rows = cc_rows;
	r = LACRE_OK;
out:
	sqlite3_finalize(st);
	if (r != LACRE_OK) {
		audio_plan_free(sp);
		memset(rep->gaps, 0, sizeof(rep->gaps[0]) * rep->n_gaps);
		rep->n_gaps = 0;
	}
	return r;
}

/* Run one statement without rows; LACRE_E_DB when it fails. */
static int audio_plan_exec(struct index *ix, const char *sql)
{
	return sqlite3_exec(index_db(ix), sql, NULL, NULL, NULL) == SQLITE_OK ? LACRE_OK : LACRE_E_DB;
}

int audio_plan_store(struct index *ix, const struct calls_entry *c,
		     const struct audio_stored *sp, const struct audio_report *rep)
{
	static const char qd[] = "DELETE FROM audio_plan_segments WHERE warrant = ?1 AND call = ?2";
	static const char qc[] =
		"INSERT OR REPLACE INTO audio_plans (warrant, call, params, segments_gen, segments, "
		"packets, plan, cc_rows) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
	static const char qs[] =
		"INSERT INTO audio_plan_segments (warrant, call, n, segment, created_us, packets, "
		"chunks) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
	sqlite3_stmt *st = NULL;
	struct lacre_dbuf b;
	uint8_t params[32];
	int r;

	lacre_dbuf_init(&b, (size_t)1 << 30);
	if ((r = audio_plan_params(c, params)) != LACRE_OK ||
	    (r = audio_plan_blob(sp, rep, &b)) != LACRE_OK)
		goto out;
	if ((r = audio_plan_exec(ix, "BEGIN IMMEDIATE")) != LACRE_OK)
		goto out;
	r = LACRE_E_DB;
	if (sqlite3_prepare_v2(index_db(ix), qd, -1, &st, NULL) != SQLITE_OK)
		goto rollback;
	sqlite3_bind_text(st, 1, c->warrant, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, c->id, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) != SQLITE_DONE)
		goto rollback;
	sqlite3_finalize(st);
	if (sqlite3_prepare_v2(index_db(ix), qc, -1, &st, NULL) != SQLITE_OK)
		goto rollback;
	sqlite3_bind_text(st, 1, c->warrant, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, c->id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_blob(st, 3, params, 32, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 4, sp->gen);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)sp->n_seg);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)sp->packets);
	sqlite3_bind_blob(st, 7, b.p, (int)b.len, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 8, sp->cc_rows);
	if (sqlite3_step(st) != SQLITE_DONE)
		goto rollback;
	sqlite3_finalize(st);
	if (sqlite3_prepare_v2(index_db(ix), qs, -1, &st, NULL) != SQLITE_OK)
		goto rollback;
	for (size_t i = 0; i < sp->n_seg; i++) {
		lacre_dbuf_reset(&b);
		if ((r = audio_plan_chunks_blob(&sp->seg[i], &b)) != LACRE_OK)
			goto rollback;
		r = LACRE_E_DB;
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, c->warrant, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, c->id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 3, (sqlite3_int64)i);
		sqlite3_bind_text(st, 4, sp->seg[i].name, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 5, sp->seg[i].created);
		sqlite3_bind_int64(st, 6, (sqlite3_int64)sp->seg[i].packets);
		sqlite3_bind_blob(st, 7, b.len ? b.p : (const void *)"", (int)b.len, SQLITE_TRANSIENT);
		if (sqlite3_step(st) != SQLITE_DONE)
			goto rollback;
	}
	sqlite3_finalize(st);
	st = NULL;
	r = audio_plan_exec(ix, "COMMIT");
	if (r == LACRE_OK)
		goto out;
rollback:
	sqlite3_finalize(st);
	st = NULL;
	(void)audio_plan_exec(ix, "ROLLBACK");
out:
	sqlite3_finalize(st);
	lacre_dbuf_free(&b);
	return r;
}

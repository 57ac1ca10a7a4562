/*
 * test_index_locations.c - the index's locations table (lib/access/index.c,
 * schema 3) and its listing (lib/access/locations.c).
 *
 * IPIRI records built with etsi_enc (the encoder lacre-mediator uses for
 * --cell): one with a TAI + ECGI ULI in location [24] and a targetLocation
 * text, one with a truncated ULI (the TAI that fits is kept, with the
 * problem), one without any location (no row), on two CINs; then the
 * listing in time order, the --cin filter, the JSON and place words, a
 * record indexed again (its rows replaced, not doubled), index_reset, and
 * the migration of a schema-2 index (emptied, schema 4: 3 added the
 * locations, 4 the audio plans) next to a schema-1 one (refused).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "harness.h"
#include "lacre/buf.h"
#include "lacre/err.h"
#include "lacre/etsi.h"
#include "lacre/etsi_enc.h"
#include "lacre/index.h"
#include "lacre/json.h"
#include "lacre/locations.h"

#define W "W-000031"
#define LIID "LIL-1"
#define T0 INT64_C(1764324000000000)   /* 2025-11-28T10:00:00Z */

static const uint8_t uli[] = { 0x18, 0x02, 0xf4, 0x80, 0x1c, 0x2d, 0x02, 0xf4, 0x80, 0x00, 0xa1,
			       0xb2, 0xc3 };

/* One IPIRI (accessEvent 1) of cin/seq at t with uli[0..uli_len) and text;
 * indexed as record idx of W. */
static int add_ipiri(struct index *ix, uint64_t idx, uint32_t cin, uint64_t seq, int64_t t,
		     size_t uli_len, const char *text)
{
	struct etsi_enc_header h;
	struct etsi_enc_ipiri ev;
	struct frame_record rec;
	struct lacre_dbuf b;
	int r;

	memset(&h, 0, sizeof(h));
	h.liid = (const uint8_t *)LIID;
	h.liid_len = strlen(LIID);
	h.operator_id = "opL";
	h.has_cin = 1;
	h.cin = cin;
	h.seq = seq;
	h.time_style = ETSI_ENC_TIME_MICROSECOND;
	h.time_us = t;
	h.ts_qualifier = -1;
	memset(&ev, 0, sizeof(ev));
	ev.access_event = 1;
	ev.username = "u1";
	ev.access_type = 4;
	ev.ip_version = 1;
	ev.pop_port = ev.start_us = ev.end_us = ev.end_reason = -1;
	ev.octets_received = ev.octets_transmitted = -1;
	ev.target_location = text;
	ev.uli = uli_len ? uli : NULL;
	ev.uli_len = uli_len;
	lacre_dbuf_init(&b, 4096);
	if ((r = etsi_enc_ipiri(&b, &h, 1, &ev)) != LACRE_OK) {
		lacre_dbuf_free(&b);
		return r;
	}
	memset(&rec, 0, sizeof(rec));
	memset(rec.salt, 7, sizeof(rec.salt));
	rec.recv_us = t + 5;
	rec.listener = 2;
	rec.liid = frame_cstr(LIID);
	rec.has_cin = 1;
	rec.cin = cin;
	rec.seq = seq;
	rec.kind = ETSI_KIND_IRI;
	rec.time_kind = 2;
	rec.time_us = t;
	rec.iri_type = 1;
	rec.direction = FRAME_DIRECTION_NONE;
	rec.content = frame_cstr("ipiri");
	rec.route = FRAME_ROUTE_WARRANT;
	rec.warrant = frame_cstr(W);
	rec.pdu.p = b.p;
	rec.pdu.len = b.len;
	rec.canon = rec.pdu;
	r = index_add_record(ix, W, "seg/00112233445566778899aabbccddeeff", idx, &rec);
	lacre_dbuf_free(&b);
	return r;
}

/* JSON of row r into out (a NUL-terminated copy). */
static void row_json(const struct locations_row *r, char *out, size_t n)
{
	struct lacre_dbuf d;
	struct json_w w;

	lacre_dbuf_init(&d, 1 << 16);
	json_init(&w, &d);
	locations_json(&w, r);
	if (json_finish(&w) == LACRE_OK)
		snprintf(out, n, "%.*s", (int)d.len, (const char *)d.p);
	else
		snprintf(out, n, "(json failed)");
	lacre_dbuf_free(&d);
}

/* Rows of three records on two CINs: order, kinds, values, problems, the
 * filter, JSON, re-indexing and index_reset. */
static void test_rows(void)
{
	char path[512], j[1024], p[ETSI_LOC_TEXT_MAX];
	struct index *ix = NULL;
	struct locations_row *v = NULL;
	size_t n = 0;

	snprintf(path, sizeof(path), "%s/index-loc.sqlite", t_tmpdir());
	remove(path);
	CHECK_OK(index_open_path(path, &ix));
	/* out of time order on purpose: the listing sorts */
	CHECK_OK(add_ipiri(ix, 0, 11, 1, T0 + 2000000, 9, NULL));        /* truncated ULI */
	CHECK_OK(add_ipiri(ix, 1, 11, 0, T0, sizeof(uli), "bldg 7, floor 2"));
	CHECK_OK(add_ipiri(ix, 2, 22, 0, T0 + 1000000, 0, NULL));        /* none */
	CHECK_OK(locations_list(ix, W, 0, 0, &v, &n));
	CHECK_EQ_INT(n, 4);
	/* T0: the text first (targetLocation [7]), then the ULI's TAI and ECGI */
	CHECK_STR(v[0].kind, "text");
	CHECK_STR(v[0].text, "bldg 7, floor 2");
	CHECK_STR(v[1].kind, "tai");
	CHECK(v[1].has_area && v[1].area == 0x1c2d && !v[1].has_cell);
	CHECK_STR(v[1].mcc, "204");
	CHECK_STR(v[1].mnc, "08");
	CHECK_STR(v[2].kind, "ecgi");
	CHECK(v[2].has_cell && v[2].cell == 0x0a1b2c3);
	CHECK_EQ_INT(v[2].time_us, T0);
	CHECK_EQ_INT(v[2].cin, 11);
	CHECK_EQ_INT(v[2].seq, 0);
	CHECK_STR(v[2].problem, "");
	/* T0+2 s: the truncated ULI kept its TAI, with the problem */
	CHECK_STR(v[3].kind, "tai");
	CHECK_EQ_INT(v[3].time_us, T0 + 2000000);
	CHECK_STR(v[3].problem, lacre_strerror(LACRE_E_INCOMPLETE));
	locations_place(&v[2], p, sizeof(p));
	CHECK_STR(p, "204-08-0a1b2c3");
	locations_place(&v[1], p, sizeof(p));
	CHECK_STR(p, "204-08-1c2d");
	row_json(&v[2], j, sizeof(j));
	CHECK_STR(j, "{\"time\":\"2025-11-28T10:00:00.000000Z\",\"warrant\":\"W-000031\",\"liid\":\"LIL-1\","
		  "\"cin\":11,\"seq\":0,\"iri_type\":\"begin\",\"kind\":\"ecgi\",\"place\":\"204-08-0a1b2c3\","
		  "\"mcc\":\"204\",\"mnc\":\"08\",\"eci\":10597059}");
	row_json(&v[3], j, sizeof(j));
	CHECK(strstr(j, "\"tac\":7213,\"problem\":\"") != NULL);
	free(v);
	/* one CIN; another warrant: nothing */
	CHECK_OK(locations_list(ix, W, 1, 22, &v, &n));
	CHECK_EQ_INT(n, 0);
	free(v);
	CHECK_OK(locations_list(ix, W, 1, 11, &v, &n));
	CHECK_EQ_INT(n, 4);
	free(v);
	CHECK_OK(locations_list(ix, "W-000099", 0, 0, &v, &n));
	CHECK_EQ_INT(n, 0);
	free(v);
	/* the same record indexed again: replaced, not doubled */
	CHECK_OK(add_ipiri(ix, 1, 11, 0, T0, sizeof(uli), NULL));
	CHECK_OK(locations_list(ix, W, 0, 0, &v, &n));
	CHECK_EQ_INT(n, 3);
	free(v);
	CHECK_OK(index_reset(ix, W));
	CHECK_OK(locations_list(ix, W, 0, 0, &v, &n));
	CHECK_EQ_INT(n, 0);
	free(v);
	index_close(ix);
}

/* The schema version in path's meta table, or -1. */
static int schema_of(const char *path)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int v = -1;

	if (sqlite3_open(path, &db) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = 'schema'", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

/* A schema-2 index (no locations or audio plan tables, a record and a
 * segment row) opens as schema 4 with every row gone, for index_update to
 * rebuild. */
static void test_migrate(void)
{
	char path[512];
	struct index *ix = NULL;
	struct locations_row *v = NULL;
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	size_t n = 0;
	int rows = -1;

	snprintf(path, sizeof(path), "%s/index-v2.sqlite", t_tmpdir());
	remove(path);
	CHECK_OK(index_open_path(path, &ix));
	CHECK_OK(add_ipiri(ix, 0, 11, 0, T0, sizeof(uli), NULL));
	index_close(ix);
	ix = NULL;
	CHECK(sqlite3_open(path, &db) == SQLITE_OK);
	CHECK(sqlite3_exec(db, "DROP TABLE locations; DROP TABLE audio_plans; DROP TABLE audio_plan_segments;"
			   "UPDATE meta SET value = '2' WHERE key = 'schema';"
			   "INSERT INTO segments VALUES ('" W "', 'seg/x', 1, 0, 1, 0);", NULL, NULL,
			   NULL) == SQLITE_OK);
	sqlite3_close(db);
	CHECK_EQ_INT(schema_of(path), 2);
	CHECK_OK(index_open_path(path, &ix));
	CHECK_EQ_INT(schema_of(path), 4);
	CHECK(sqlite3_prepare_v2(index_db(ix), "SELECT (SELECT count(*) FROM records) + "
				 "(SELECT count(*) FROM segments) + (SELECT count(*) FROM calls)",
				 -1, &st, NULL) == SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		rows = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	CHECK_EQ_INT(rows, 0);
	CHECK_OK(locations_list(ix, W, 0, 0, &v, &n));
	CHECK_EQ_INT(n, 0);
	free(v);
	/* rebuilt rows come back with their locations */
	CHECK_OK(add_ipiri(ix, 0, 11, 0, T0, sizeof(uli), NULL));
	CHECK_OK(locations_list(ix, W, 0, 0, &v, &n));
	CHECK_EQ_INT(n, 2);
	free(v);
	index_close(ix);
	ix = NULL;
	/* opened again: already 4, nothing emptied */
	CHECK_OK(index_open_path(path, &ix));
	CHECK_OK(locations_list(ix, W, 0, 0, &v, &n));
	CHECK_EQ_INT(n, 2);
	free(v);
	index_close(ix);
	ix = NULL;
	/* schema 1 is still refused */
	CHECK(sqlite3_open(path, &db) == SQLITE_OK);
	CHECK(sqlite3_exec(db, "UPDATE meta SET value = '1' WHERE key = 'schema'", NULL, NULL, NULL) ==
	      SQLITE_OK);
	sqlite3_close(db);
	CHECK_EQ_INT(index_open_path(path, &ix), LACRE_E_DB);
	CHECK(ix == NULL);
}

int main(void)
{
	RUN(test_rows);
	RUN(test_migrate);
	return t_done();
}

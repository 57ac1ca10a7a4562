/*
 * locations.c - a warrant's location events from the index (include/lacre/locations.h).
 *
 * The rows were written by index.c from the decoded IRIs
 * (lib/wire/etsi_location.c); this file only reads them back, with one
 * prepared, bound statement, and formats them.  The index is the keeper's
 * own file, but a column is still read as what SQLite says it is: text is
 * copied bounded, numbers range-checked into their fields.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "lacre/err.h"
#include "lacre/etsi.h"
#include "lacre/locations.h"
#include "lacre/record_json.h"

/* Column i as text, "" when NULL. */
static const char *loc_col(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t ? (const char *)t : "";
}

/* Bounded copy (truncating). */
static void loc_copy(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src);
}

/* Column i into *v when it is a number in 0..UINT32_MAX: 1, else 0. */
static int loc_u32(sqlite3_stmt *st, int i, uint32_t *v)
{
	sqlite3_int64 x;

	if (sqlite3_column_type(st, i) != SQLITE_INTEGER)
		return 0;
	x = sqlite3_column_int64(st, i);
	if (x < 0 || x > (sqlite3_int64)UINT32_MAX)
		return 0;
	*v = (uint32_t)x;
	return 1;
}

int locations_list(struct index *ix, const char *warrant, int has_cin, uint32_t cin,
		   struct locations_row **out, size_t *n)
{
	static const char q[] =
		"SELECT liid, cin, seq, time_us, iri_type, kind, mcc, mnc, area, rac, cell, "
		"lat_udeg, lon_udeg, text, problem FROM locations WHERE warrant = ?1 "
		"AND (?2 IS NULL OR cin = ?2) ORDER BY time_us, liid, cin, seq, segment, idx, n";
	sqlite3_stmt *st = NULL;
	struct locations_row *v = NULL, *nv, *r;
	size_t cnt = 0, cap = 0;
	int rc, res = LACRE_OK;

	if (sqlite3_prepare_v2(index_db(ix), q, -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_bind_text(st, 1, warrant, -1, SQLITE_TRANSIENT) != SQLITE_OK ||
	    (has_cin ? sqlite3_bind_int64(st, 2, cin) : sqlite3_bind_null(st, 2)) != SQLITE_OK) {
		sqlite3_finalize(st);
		return LACRE_E_DB;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (cnt == LOCATIONS_MAX) {
			res = LACRE_E_TOO_LARGE;
			break;
		}
		if (cnt == cap) {
			size_t nc = cap ? cap * 2 : 64;
			if (nc > LOCATIONS_MAX)
				nc = LOCATIONS_MAX;
			if ((nv = realloc(v, nc * sizeof(*v))) == NULL) {
				res = LACRE_E_NOMEM;
				break;
			}
			v = nv;
			cap = nc;
		}
		r = &v[cnt++];
		memset(r, 0, sizeof(*r));
		loc_copy(r->warrant, sizeof(r->warrant), warrant);
		loc_copy(r->liid, sizeof(r->liid), loc_col(st, 0));
		r->has_cin = loc_u32(st, 1, &r->cin);
		r->seq = (uint64_t)sqlite3_column_int64(st, 2);
		r->time_us = sqlite3_column_int64(st, 3);
		r->iri_type = sqlite3_column_int(st, 4);
		loc_copy(r->kind, sizeof(r->kind), loc_col(st, 5));
		loc_copy(r->mcc, sizeof(r->mcc), loc_col(st, 6));
		loc_copy(r->mnc, sizeof(r->mnc), loc_col(st, 7));
		r->has_area = loc_u32(st, 8, &r->area);
		r->has_rac = loc_u32(st, 9, &r->rac);
		r->has_cell = loc_u32(st, 10, &r->cell);
		if (sqlite3_column_type(st, 11) == SQLITE_INTEGER &&
		    sqlite3_column_type(st, 12) == SQLITE_INTEGER) {
			sqlite3_int64 la = sqlite3_column_int64(st, 11), lo = sqlite3_column_int64(st, 12);
			if (la >= -90000000 && la <= 90000000 && lo >= -180000000 && lo <= 180000000) {
				r->has_point = 1;
				r->lat_udeg = (int32_t)la;
				r->lon_udeg = (int32_t)lo;
			}
		}
		loc_copy(r->text, sizeof(r->text), loc_col(st, 13));
		loc_copy(r->problem, sizeof(r->problem), loc_col(st, 14));
	}
	if (res == LACRE_OK && rc != SQLITE_DONE)
		res = LACRE_E_DB;
	sqlite3_finalize(st);
	if (res != LACRE_OK) {
		free(v);
		return res;
	}
	*out = v;
	*n = cnt;
	return LACRE_OK;
}

void locations_place(const struct locations_row *r, char *out, size_t outlen)
{
	char la[16], lo[16];
	const char *mcc = r->mcc[0] ? r->mcc : "?", *mnc = r->mnc[0] ? r->mnc : "?";

	if (!strcmp(r->kind, "tai") && r->has_area)
		snprintf(out, outlen, "%s-%s-%04x", mcc, mnc, (unsigned)r->area);
	else if (!strcmp(r->kind, "ecgi") && r->has_cell)
		snprintf(out, outlen, "%s-%s-%07x", mcc, mnc, (unsigned)r->cell);
	else if (!strcmp(r->kind, "lai") && r->has_area)
		snprintf(out, outlen, "%s-%s-%04x", mcc, mnc, (unsigned)r->area);
	else if (!strcmp(r->kind, "rai") && r->has_area && r->has_rac)
		snprintf(out, outlen, "%s-%s-%04x-%04x", mcc, mnc, (unsigned)r->area, (unsigned)r->rac);
	else if ((!strcmp(r->kind, "cgi") || !strcmp(r->kind, "sai")) && r->has_area && r->has_cell)
		snprintf(out, outlen, "%s-%s-%04x-%04x", mcc, mnc, (unsigned)r->area, (unsigned)r->cell);
	else if (!strcmp(r->kind, "point") && r->has_point) {
		etsi_loc_degrees(r->lat_udeg, la);
		etsi_loc_degrees(r->lon_udeg, lo);
		snprintf(out, outlen, "%s,%s", la, lo);
	} else if (!strcmp(r->kind, "text"))
		snprintf(out, outlen, "%s", r->text);
	else
		snprintf(out, outlen, "undecoded");
}

void locations_json(struct json_w *w, const struct locations_row *r)
{
	/* the names of area and cell by kind: TS 23.003 */
	const char *area = !strcmp(r->kind, "tai") ? "tac" : "lac";
	const char *cell = !strcmp(r->kind, "ecgi") ? "eci" : !strcmp(r->kind, "sai") ? "sac" : "ci";
	char t[32], p[ETSI_LOC_TEXT_MAX];

	json_obj_begin(w);
	access_time_format(r->time_us, t);
	json_kv_str(w, "time", t);
	json_kv_str(w, "warrant", r->warrant);
	json_kv_str(w, "liid", r->liid);
	if (r->has_cin)
		json_kv_uint(w, "cin", r->cin);
	else
		json_kv_null(w, "cin");
	json_kv_uint(w, "seq", r->seq);
	json_kv_str(w, "iri_type", etsi_iri_type_name(r->iri_type));
	json_kv_str(w, "kind", r->kind);
	locations_place(r, p, sizeof(p));
	json_kv_str(w, "place", p);
	if (r->mcc[0])
		json_kv_str(w, "mcc", r->mcc);
	if (r->mnc[0])
		json_kv_str(w, "mnc", r->mnc);
	if (r->has_area)
		json_kv_uint(w, area, r->area);
	if (r->has_rac)
		json_kv_uint(w, "rac", r->rac);
	if (r->has_cell)
		json_kv_uint(w, cell, r->cell);
	if (r->has_point) {
		char d[16];
		etsi_loc_degrees(r->lat_udeg, d);
		json_kv_str(w, "latitude", d);
		etsi_loc_degrees(r->lon_udeg, d);
		json_kv_str(w, "longitude", d);
	}
	if (!strcmp(r->kind, "text"))
		json_kv_str(w, "text", r->text);
	if (r->problem[0])
		json_kv_str(w, "problem", r->problem);
	json_obj_end(w);
}

/*
 * test_calls_mobile.c - mobile sessions in the index and the calls view
 * (lib/access/index.c mobile columns, lib/access/calls.c calls_mobile):
 * synthetic EPS IRIs in the shape OpenLI emits from GTPv2 (IRI-Parameters
 * under ePSIRI [0]; tests/unit/test_etsi_eps.c builds the same) and EPS CC
 * (CC-PDU: uLIC-header [1], payload [2]).
 *
 * Bearer 1: activation (IRI-Begin, cell A), modification with a cell change
 * (cell B), a modification in the same cell (no new location), CC each way,
 * deactivation (IRI-End).  Bearer 2: activation only, one IRI sequence
 * number missing: "open", incomplete.  A 33.128 PDU session (SUPI, PEI,
 * DNN, UE address, establishment to release).  Also: an index of the
 * previous schema version is refused (to be rebuilt).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "harness.h"
#include "lacre/ber_enc.h"
#include "lacre/buf.h"
#include "lacre/calls.h"
#include "lacre/err.h"
#include "lacre/etsi.h"
#include "lacre/etsi_enc.h"
#include "lacre/index.h"
#include "lacre/json.h"

#define W "W-000012"
#define LIID "LIM-EPS-1"
#define T0 INT64_C(1764324000000000)   /* 2025-11-28T10:00:00Z */
#define CIN1 268476417u
#define CIN2 268476418u

static struct index *ix;
static uint64_t next_idx;

static const uint8_t imsi_tbcd[] = { 0x02, 0x04, 0x18, 0x32, 0x54, 0x76, 0x98, 0xf0 };
static const uint8_t imei_tbcd[] = { 0x53, 0x02, 0x99, 0x00, 0x71, 0x16, 0x84, 0x10 };
static const uint8_t msisdn_tbcd[] = { 0x13, 0x16, 0x32, 0x54, 0x76, 0xf8 };
static const uint8_t apn[] = { 8, 'i', 'n', 't', 'e', 'r', 'n', 'e', 't', 1, 'c' };

/* Put one encoded PDU into the index as a record of W. */
static int add(const struct lacre_dbuf *pdu, uint32_t cin, uint64_t seq, int kind, int iri_type,
	       int dir, const char *content, int64_t t)
{
	struct frame_record rec;

	memset(&rec, 0, sizeof(rec));
	memset(rec.salt, 9, sizeof(rec.salt));
	rec.recv_us = t;
	rec.listener = kind == ETSI_KIND_CC ? 3 : 2;
	rec.liid = frame_cstr(LIID);
	rec.has_cin = 1;
	rec.cin = cin;
	rec.seq = seq;
	rec.kind = (uint8_t)kind;
	rec.time_kind = 2;
	rec.time_us = t;
	rec.iri_type = (uint8_t)iri_type;
	rec.direction = dir;
	rec.content = frame_cstr(content);
	rec.route = FRAME_ROUTE_WARRANT;
	rec.warrant = frame_cstr(W);
	rec.pdu.p = pdu->p;
	rec.pdu.len = pdu->len;
	rec.canon = rec.pdu;
	return index_add_record(ix, W, "seg/0123456789abcdef0123456789abcdef", next_idx++, &rec);
}

/* PSHeader for cin/seq/time (microSecondTimeStamp). */
static void header(struct ber_enc *e, uint32_t cin, uint64_t seq, int64_t t)
{
	ber_enc_open(e, BER_CONTEXT, 1);
	ber_enc_oid_text(e, BER_CONTEXT, 0, ETSI_ENC_DOMAIN_OPENLI, 0);
	ber_enc_str(e, BER_CONTEXT, 1, LIID);
	ber_enc_open(e, BER_CONTEXT, 3);
	ber_enc_open(e, BER_CONTEXT, 0);
	ber_enc_str(e, BER_CONTEXT, 0, "opM");
	ber_enc_close(e);
	ber_enc_uint(e, BER_CONTEXT, 1, cin);
	ber_enc_close(e);
	ber_enc_uint(e, BER_CONTEXT, 4, seq);
	ber_enc_open(e, BER_CONTEXT, 7);
	ber_enc_uint(e, BER_CONTEXT, 0, (uint64_t)(t / 1000000));
	ber_enc_uint(e, BER_CONTEXT, 1, (uint64_t)(t % 1000000));
	ber_enc_close(e);
	ber_enc_close(e);
}

/* A GTPv2 ULI with TAI 204-08-1c2d and ECGI 204-08-<eci> (13 octets). */
static void uli_value(uint8_t out[13], uint32_t eci)
{
	static const uint8_t head[] = { 0x18, 0x02, 0xf4, 0x80, 0x1c, 0x2d, 0x02, 0xf4, 0x80 };

	memcpy(out, head, sizeof(head));
	out[9] = (uint8_t)(eci >> 24 & 15u);
	out[10] = (uint8_t)(eci >> 16);
	out[11] = (uint8_t)(eci >> 8);
	out[12] = (uint8_t)eci;
}

/* One EPS IRI: event ev, IRI type it, the cell eci (0: no location), RAT
 * EUTRAN when rat; identities, PDN address (PAA) and APN. */
static int eps_iri(uint32_t cin, uint64_t seq, int64_t t, int it, int ev, uint32_t eci, int rat)
{
	struct lacre_dbuf d;
	struct ber_enc e;
	uint8_t uli[13];
	int r;

	lacre_dbuf_init(&d, 8192);
	ber_enc_init(&e, &d, BER_ENC_LEN_MINIMAL);
	ber_enc_seq(&e);
	header(&e, cin, seq, t);
	ber_enc_open(&e, BER_CONTEXT, 2);
	ber_enc_open(&e, BER_CONTEXT, 0);                /* iRIPayloadSequence */
	ber_enc_seq(&e);
	ber_enc_uint(&e, BER_CONTEXT, 0, (uint64_t)it);
	ber_enc_open(&e, BER_CONTEXT, 2);                /* iRIContents */
	ber_enc_open(&e, BER_CONTEXT, 15);               /* ePSIRI */
	ber_enc_open(&e, BER_CONTEXT, 0);                /* IRI-Parameters */
	ber_enc_oid_text(&e, BER_CONTEXT, 0, "0.4.0.2.2.4.8.17.0", 0);
	ber_enc_str(&e, BER_CONTEXT, 1, LIID);
	ber_enc_uint(&e, BER_CONTEXT, 4, 1);
	ber_enc_open(&e, BER_CONTEXT, 9);                /* partyInformation */
	ber_enc_uint(&e, BER_CONTEXT, 0, 3);
	ber_enc_open(&e, BER_CONTEXT, 1);
	ber_enc_prim(&e, BER_CONTEXT, 1, imei_tbcd, sizeof(imei_tbcd));
	ber_enc_prim(&e, BER_CONTEXT, 3, imsi_tbcd, sizeof(imsi_tbcd));
	ber_enc_prim(&e, BER_CONTEXT, 6, msisdn_tbcd, sizeof(msisdn_tbcd));
	ber_enc_close(&e);
	ber_enc_open(&e, BER_CONTEXT, 4);
	ber_enc_open(&e, BER_CONTEXT, 1);
	ber_enc_prim(&e, BER_CONTEXT, 2, apn, sizeof(apn));
	ber_enc_close(&e);
	ber_enc_close(&e);
	ber_enc_close(&e);
	ber_enc_uint(&e, BER_CONTEXT, 20, (uint64_t)ev);   /* ePSevent */
	ber_enc_open(&e, BER_CONTEXT, 36);               /* ePS-GTPV2-specificParameters */
	ber_enc_prim(&e, BER_CONTEXT, 1, "\x01\x0a\x2d\x07\x4d", 5);   /* PAA 10.45.7.77 */
	if (rat)
		ber_enc_prim(&e, BER_CONTEXT, 7, "\x06", 1);
	if (eci) {
		uli_value(uli, eci);
		ber_enc_open(&e, BER_CONTEXT, 23);
		ber_enc_prim(&e, BER_CONTEXT, 1, uli, sizeof(uli));
		ber_enc_close(&e);
	}
	ber_enc_close(&e);
	for (int k = 0; k < 7; k++)
		ber_enc_close(&e);
	r = ber_enc_finish(&e);
	if (r == LACRE_OK)
		r = add(&d, cin, seq, ETSI_KIND_IRI, it, -1, "epsiri", t);
	lacre_dbuf_free(&d);
	return r;
}

/* One 3GPP TS 33.128 xIRI (threeGPP33128DefinedIRI [19], the XIRIPayload
 * in the shape tests/unit/test_etsi_eps.c builds): event tag ev, 6
 * pDUSessionEstablishment (SUPI, PEI, PDU session id, UE endpoint, a
 * location, DNN) or 8 pDUSessionRelease (SUPI, PDU session id). */
static int x_iri(uint32_t cin, uint64_t seq, int64_t t, int it, uint32_t ev)
{
	static const uint8_t ue[] = { 10, 45, 7, 88 };
	struct lacre_dbuf x, d;
	struct ber_enc e;
	int r;

	lacre_dbuf_init(&x, 4096);
	lacre_dbuf_init(&d, 8192);
	ber_enc_init(&e, &x, BER_ENC_LEN_MINIMAL);
	ber_enc_seq(&e);
	ber_enc_oid_text(&e, BER_CONTEXT, 1, "4.19.17.3", 1);
	ber_enc_open(&e, BER_CONTEXT, 2);                /* event */
	ber_enc_open(&e, BER_CONTEXT, ev);
	ber_enc_open(&e, BER_CONTEXT, 1);                /* sUPI CHOICE */
	ber_enc_str(&e, BER_CONTEXT, 1, "001010000000001");
	ber_enc_close(&e);
	if (ev == 6) {
		ber_enc_open(&e, BER_CONTEXT, 3);        /* pEI CHOICE */
		ber_enc_str(&e, BER_CONTEXT, 1, "356938035643809");
		ber_enc_close(&e);
		ber_enc_uint(&e, BER_CONTEXT, 5, 5);     /* pDUSessionID */
		ber_enc_open(&e, BER_CONTEXT, 9);        /* uEEndpoint */
		ber_enc_prim(&e, BER_CONTEXT, 1, ue, 4);
		ber_enc_close(&e);
		ber_enc_open(&e, BER_CONTEXT, 11);       /* location */
		ber_enc_open(&e, BER_CONTEXT, 1);
		ber_enc_prim(&e, BER_CONTEXT, 1, "cell", 4);
		ber_enc_close(&e);
		ber_enc_close(&e);
		ber_enc_str(&e, BER_CONTEXT, 12, "internet");   /* dNN */
	} else {
		ber_enc_uint(&e, BER_CONTEXT, 4, 5);     /* pDUSessionID */
	}
	ber_enc_close(&e);
	ber_enc_close(&e);
	ber_enc_close(&e);
	if ((r = ber_enc_finish(&e)) != LACRE_OK)
		goto out;
	ber_enc_init(&e, &d, BER_ENC_LEN_MINIMAL);
	ber_enc_seq(&e);
	header(&e, cin, seq, t);
	ber_enc_open(&e, BER_CONTEXT, 2);
	ber_enc_open(&e, BER_CONTEXT, 0);                /* iRIPayloadSequence */
	ber_enc_seq(&e);
	ber_enc_uint(&e, BER_CONTEXT, 0, (uint64_t)it);
	ber_enc_open(&e, BER_CONTEXT, 2);                /* iRIContents */
	ber_enc_prim(&e, BER_CONTEXT, 19, x.p, x.len);   /* threeGPP33128DefinedIRI */
	for (int k = 0; k < 5; k++)
		ber_enc_close(&e);
	if ((r = ber_enc_finish(&e)) == LACRE_OK)
		r = add(&d, cin, seq, ETSI_KIND_IRI, it, -1, "threegpp33128definediri", t);
out:
	lacre_dbuf_free(&x);
	lacre_dbuf_free(&d);
	return r;
}

/* One EPS CC: a CC-PDU with a uLIC-header and an IP packet of len octets. */
static int eps_cc(uint32_t cin, uint64_t seq, int64_t t, int dir, size_t len)
{
	uint8_t pkt[200];
	struct lacre_dbuf d;
	struct ber_enc e;
	int r;

	memset(pkt, 0, sizeof(pkt));
	pkt[0] = 0x45;
	pkt[3] = (uint8_t)len;
	lacre_dbuf_init(&d, 4096);
	ber_enc_init(&e, &d, BER_ENC_LEN_MINIMAL);
	ber_enc_seq(&e);
	header(&e, cin, seq, t);
	ber_enc_open(&e, BER_CONTEXT, 2);
	ber_enc_open(&e, BER_CONTEXT, 1);                /* cCPayloadSequence */
	ber_enc_seq(&e);
	ber_enc_uint(&e, BER_CONTEXT, 0, (uint64_t)dir);
	ber_enc_open(&e, BER_CONTEXT, 2);                /* cCContents */
	ber_enc_open(&e, BER_CONTEXT, 17);               /* ePSCC CC-PDU */
	ber_enc_open(&e, BER_CONTEXT, 1);                /* uLIC-header */
	ber_enc_uint(&e, BER_CONTEXT, 0, 1);
	ber_enc_close(&e);
	ber_enc_prim(&e, BER_CONTEXT, 2, pkt, len);      /* payload */
	for (int k = 0; k < 6; k++)
		ber_enc_close(&e);
	r = ber_enc_finish(&e);
	if (r == LACRE_OK)
		r = add(&d, cin, seq, ETSI_KIND_CC, 0, dir, "epscc-cc-pdu", t);
	lacre_dbuf_free(&d);
	return r;
}

/* The session of v[0..n) with cin, or NULL. */
static const struct calls_entry *find(const struct calls_entry *v, size_t n, uint32_t cin)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].cin == cin)
			return &v[i];
	return NULL;
}

/* Activation, a cell change, deactivation; an open bearer beside it. */
static void test_mobile_sessions(void)
{
	char path[512];
	struct calls_entry *v = NULL;
	const struct calls_entry *a, *b;
	struct lacre_dbuf d;
	struct json_w w;
	sqlite3_stmt *st = NULL;
	size_t n = 0;

	snprintf(path, sizeof(path), "%s/index-mobile.sqlite", t_tmpdir());
	CHECK_OK(index_open_path(path, &ix));
	/* bearer 1 */
	CHECK_OK(eps_iri(CIN1, 0, T0, ETSI_IRI_BEGIN, 18, 0x0a1b2c3, 1));
	CHECK_OK(eps_cc(CIN1, 0, T0 + 100000, ETSI_DIR_FROM_TARGET, 60));
	CHECK_OK(eps_cc(CIN1, 1, T0 + 200000, ETSI_DIR_TO_TARGET, 120));
	CHECK_OK(eps_iri(CIN1, 1, T0 + 2000000, ETSI_IRI_CONTINUE, 20, 0x0a1b2c7, 1));
	CHECK_OK(eps_cc(CIN1, 2, T0 + 2100000, ETSI_DIR_TO_TARGET, 100));
	CHECK_OK(eps_iri(CIN1, 2, T0 + 3000000, ETSI_IRI_CONTINUE, 20, 0x0a1b2c7, 1));
	CHECK_OK(eps_iri(CIN1, 3, T0 + 4000000, ETSI_IRI_END, 21, 0x0a1b2c7, 0));
	/* bearer 2: activation, IRI seq 1 lost, a modification without location */
	CHECK_OK(eps_iri(CIN2, 0, T0 + 500000, ETSI_IRI_BEGIN, 18, 0x0000001, 1));
	CHECK_OK(eps_iri(CIN2, 2, T0 + 600000, ETSI_IRI_CONTINUE, 20, 0, 1));

	CHECK_OK(calls_list(ix, W, &v, &n));
	CHECK_EQ_INT(n, 2);
	a = find(v, n, CIN1);
	b = find(v, n, CIN2);
	CHECK(a != NULL && b != NULL);
	CHECK(a == &v[0]);                                /* sorted by start */
	CHECK_EQ_INT(a->type, CALLS_MOBILE);
	CHECK_EQ_INT(a->family, 1);
	CHECK_STR(a->liid, LIID);
	CHECK_STR(a->imsi, "204081234567890");
	CHECK_STR(a->msisdn, "31612345678");
	CHECK_STR(a->imei, "3520990017614801");
	CHECK_STR(a->target_ip, "10.45.7.77");
	CHECK_STR(a->apn, "internet.c");
	CHECK_EQ_INT(a->start_us, T0);
	CHECK_EQ_INT(a->start_event, 18);
	CHECK_EQ_INT(a->end_us, T0 + 4000000);
	CHECK_EQ_INT(a->end_event, 21);
	CHECK_EQ_INT(a->iri_records, 4);
	CHECK_EQ_INT(a->cc_records, 3);
	CHECK_EQ_INT(a->packets[CALLS_FROM_TARGET], 1);
	CHECK_EQ_INT(a->packets[CALLS_TO_TARGET], 2);
	CHECK_EQ_INT(a->bytes[0] + a->bytes[1] + a->bytes[2], 60 + 120 + 100);  /* IP packets, no ULIC */
	CHECK_EQ_INT(a->n_events, 4);
	CHECK_STR(a->events[0].location, "tai=204-08-1c2d ecgi=204-08-0a1b2c3");
	CHECK_STR(a->events[1].location, "tai=204-08-1c2d ecgi=204-08-0a1b2c7");
	CHECK_EQ_INT(a->events[1].event, 20);
	CHECK_EQ_INT(a->events[1].time_us, T0 + 2000000);
	CHECK_EQ_INT(a->events[3].rat, -1);
	CHECK_EQ_INT(a->events[0].rat, 6);
	CHECK_EQ_INT(a->complete, 1);
	CHECK_STR(a->problems, "");

	CHECK_EQ_INT(b->type, CALLS_MOBILE);
	CHECK_EQ_INT(b->end_us, 0);                       /* open */
	CHECK_EQ_INT(b->iri_gaps, 1);
	CHECK_EQ_INT(b->cc_records, 0);
	CHECK_EQ_INT(b->complete, 0);
	CHECK(strstr(b->problems, "no deactivation (session open or end lost)") != NULL);
	CHECK(strstr(b->problems, "IRI sequence gaps: 1 missing") != NULL);

	/* JSON: two location entries (the third modification is in the same cell) */
	lacre_dbuf_init(&d, 1 << 16);
	json_init(&w, &d);
	calls_json(&w, a);
	CHECK_OK(json_finish(&w));
	CHECK_OK(lacre_dbuf_add(&d, "", 1));
	CHECK(strstr((const char *)d.p, "\"type\":\"mobile\"") != NULL);
	CHECK(strstr((const char *)d.p, "\"state\":\"closed\"") != NULL);
	CHECK(strstr((const char *)d.p, "\"start\":\"2025-11-28T10:00:00.000000Z\"") != NULL);
	CHECK(strstr((const char *)d.p, "\"start_event\":\"bearer-activation\"") != NULL);
	CHECK(strstr((const char *)d.p, "\"end_event\":\"bearer-deactivation\"") != NULL);
	CHECK(strstr((const char *)d.p, "\"pdn_address\":\"10.45.7.77\"") != NULL);
	CHECK(strstr((const char *)d.p,
		     "\"locations\":[{\"time\":\"2025-11-28T10:00:00.000000Z\",\"event\":\"bearer-activation\","
		     "\"location\":{\"tai\":\"204-08-1c2d\",\"ecgi\":\"204-08-0a1b2c3\"}},"
		     "{\"time\":\"2025-11-28T10:00:02.000000Z\",\"event\":\"bearer-modification\","
		     "\"location\":{\"tai\":\"204-08-1c2d\",\"ecgi\":\"204-08-0a1b2c7\"}}]") != NULL);
	CHECK(strstr((const char *)d.p, "\"packets\":3,\"bytes\":280") != NULL);
	lacre_dbuf_reset(&d);
	json_init(&w, &d);
	calls_json(&w, b);
	CHECK_OK(json_finish(&w));
	CHECK_OK(lacre_dbuf_add(&d, "", 1));
	CHECK(strstr((const char *)d.p, "\"state\":\"open\"") != NULL);
	CHECK(strstr((const char *)d.p, "\"end\":null") != NULL);
	lacre_dbuf_free(&d);

	/* the calls table (FORMATS §10) */
	CHECK(sqlite3_prepare_v2(index_db(ix), "SELECT type, target_ip, imsi, locations FROM calls "
				 "WHERE warrant = ?1 AND cin = ?2", -1, &st, NULL) == SQLITE_OK);
	sqlite3_bind_text(st, 1, W, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, CIN1);
	CHECK(sqlite3_step(st) == SQLITE_ROW);
	CHECK_STR((const char *)sqlite3_column_text(st, 0), "mobile");
	CHECK_STR((const char *)sqlite3_column_text(st, 1), "10.45.7.77");
	CHECK_STR((const char *)sqlite3_column_text(st, 2), "204081234567890");
	CHECK_STR((const char *)sqlite3_column_text(st, 3),
		  "2025-11-28T10:00:00.000000Z tai=204-08-1c2d ecgi=204-08-0a1b2c3; "
		  "2025-11-28T10:00:02.000000Z tai=204-08-1c2d ecgi=204-08-0a1b2c7");
	sqlite3_finalize(st);
	free(v);
	index_close(ix);
	ix = NULL;
}

/* A 5G PDU session (33.128 xIRI): SUPI / PEI / DNN / UE address in the
 * identity columns, a location the decoder does not break out ("present"),
 * establishment to release. */
static void test_33128_session(void)
{
	char path[512];
	struct calls_entry *v = NULL;
	size_t n = 0;

	snprintf(path, sizeof(path), "%s/index-5g.sqlite", t_tmpdir());
	CHECK_OK(index_open_path(path, &ix));
	CHECK_OK(x_iri(777, 0, T0, ETSI_IRI_BEGIN, 6));
	CHECK_OK(x_iri(777, 1, T0 + 9000000, ETSI_IRI_END, 8));
	CHECK_OK(calls_list(ix, W, &v, &n));
	CHECK_EQ_INT(n, 1);
	CHECK_EQ_INT(v[0].type, CALLS_MOBILE);
	CHECK_EQ_INT(v[0].family, 3);
	CHECK_STR(v[0].imsi, "001010000000001");
	CHECK_STR(v[0].imei, "356938035643809");
	CHECK_STR(v[0].target_ip, "10.45.7.88");
	CHECK_STR(v[0].apn, "internet");
	CHECK_EQ_INT(v[0].start_event, 6);
	CHECK_EQ_INT(v[0].end_event, 8);
	CHECK_EQ_INT(v[0].end_us, T0 + 9000000);
	CHECK_EQ_INT(v[0].n_events, 2);
	CHECK_STR(v[0].events[0].location, "present");
	CHECK_STR(v[0].events[1].location, "");
	CHECK_STR(calls_mobile_event_name(3, v[0].start_event), "pdu-session-establishment");
	CHECK_STR(calls_mobile_event_name(3, v[0].end_event), "pdu-session-release");
	CHECK_EQ_INT(v[0].complete, 1);
	free(v);
	index_close(ix);
	ix = NULL;
}

/* An index of schema version 1 (before the mobile columns) is refused. */
static void test_old_schema(void)
{
	char path[512];
	sqlite3 *db = NULL;

	snprintf(path, sizeof(path), "%s/index-v1.sqlite", t_tmpdir());
	CHECK(sqlite3_open(path, &db) == SQLITE_OK);
	CHECK(sqlite3_exec(db, "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
			   "INSERT INTO meta VALUES ('schema', '1');", NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(db);
	index_close(ix);
	ix = NULL;
	CHECK_EQ_INT(index_open_path(path, &ix), LACRE_E_DB);
	CHECK(ix == NULL);
}

int main(void)
{
	RUN(test_mobile_sessions);
	RUN(test_33128_session);
	RUN(test_old_schema);
	return t_done();
}

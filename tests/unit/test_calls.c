/*
 * test_calls.c - the access index and call correlation (lib/access/index.c,
 * lib/access/calls.c): records built with the PS-PDU encoder go into an
 * index; one call (the target is called, the operator's direction labels
 * swapped as OpenLI does, RTP sequence numbers wrapping with one packet
 * lost each way, one CC sequence number missing), one session; the
 * correlation must name the parties, the target's side from the SDP, the
 * packets and the gaps.  Which call a record joins when calls share a
 * CIN, a message has no Call-ID or a Call-ID comes back later, and many
 * calls at once (the Call-ID and CIN lookups).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "harness.h"
#include "lacre/calls.h"
#include "lacre/err.h"
#include "lacre/etsi.h"
#include "lacre/etsi_enc.h"
#include "lacre/index.h"

#define W "W-000007"
#define T0 INT64_C(1764324000000000)   /* 2025-11-28T10:00:00Z */

static struct index *ix;
static uint64_t next_idx;

/* Put one encoded PDU into the index as a record of W. */
static int add(const struct lacre_dbuf *pdu, uint32_t cin, uint64_t seq, int kind, int iri_type,
	       int dir, const char *content, int64_t t)
{
	struct frame_record rec;

	memset(&rec, 0, sizeof(rec));
	memset(rec.salt, 7, sizeof(rec.salt));
	rec.recv_us = t;
	rec.listener = kind == ETSI_KIND_CC ? 3 : 2;
	rec.liid = frame_cstr("LIVOIP0001");
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
	return index_add_record(ix, W, "seg/00112233445566778899aabbccddeeff", next_idx++, &rec);
}

/* A header for cin/seq/time. */
static void hdr(struct etsi_enc_header *h, uint32_t cin, uint64_t seq, int64_t t)
{
	etsi_enc_header_defaults(h);
	h->liid = (const uint8_t *)"LIVOIP0001";
	h->liid_len = 10;
	h->operator_id = "op";
	h->has_cin = 1;
	h->cin = cin;
	h->seq = seq;
	h->time_us = t;
}

/* One SIP IRI between the proxy and the target UA. */
static int sip(uint32_t cin, uint64_t seq, int64_t t, int iri_type, int to_target, const char *text)
{
	struct etsi_enc_header h;
	struct etsi_enc_ipaddr proxy = { 0, { 192, 168, 110, 100 }, 3, 32 };
	struct etsi_enc_ipaddr ua = { 0, { 10, 20, 0, 1 }, 3, 32 };
	struct lacre_dbuf d;
	int r;

	lacre_dbuf_init(&d, 1 << 16);
	hdr(&h, cin, seq, t);
	r = etsi_enc_ipmmiri(&d, &h, iri_type, to_target ? &proxy : &ua, to_target ? &ua : &proxy,
			     (const uint8_t *)text, strlen(text));
	if (r == LACRE_OK)
		r = add(&d, cin, seq, ETSI_KIND_IRI, iri_type, -1, "ipmmiri", t);
	lacre_dbuf_free(&d);
	return r;
}

/* One RTP CC: from_target says who really sent it; the label is swapped. */
static int rtp(uint32_t cin, uint64_t seq, int64_t t, int from_target, uint16_t rseq)
{
	uint8_t f[20 + 8 + 12 + 160];
	struct etsi_enc_header h;
	struct lacre_dbuf d;
	int r, label = from_target ? ETSI_DIR_TO_TARGET : ETSI_DIR_FROM_TARGET;

	memset(f, 0xd5, sizeof(f));
	f[0] = 0x45; f[1] = 0; f[2] = 0; f[3] = sizeof(f); f[6] = f[7] = 0; f[9] = 17;
	if (from_target) {
		memcpy(f + 12, (uint8_t[4]){ 10, 20, 0, 1 }, 4);
		memcpy(f + 16, (uint8_t[4]){ 203, 0, 113, 5 }, 4);
		f[20] = 0x9c; f[21] = 0x40; f[22] = 0x75; f[23] = 0x30;
	} else {
		memcpy(f + 12, (uint8_t[4]){ 203, 0, 113, 5 }, 4);
		memcpy(f + 16, (uint8_t[4]){ 10, 20, 0, 1 }, 4);
		f[20] = 0x75; f[21] = 0x30; f[22] = 0x9c; f[23] = 0x40;
	}
	f[24] = 0; f[25] = 8 + 12 + 160;
	f[28] = 0x80; f[29] = 8;
	f[30] = (uint8_t)(rseq >> 8); f[31] = (uint8_t)rseq;
	f[39] = from_target ? 1 : 2;   /* SSRC */
	lacre_dbuf_init(&d, 1 << 16);
	hdr(&h, cin, seq, t);
	r = etsi_enc_ipmmcc(&d, &h, label, f, sizeof(f));
	if (r == LACRE_OK)
		r = add(&d, cin, seq, ETSI_KIND_CC, 0, label, "ipmmcc", t);
	lacre_dbuf_free(&d);
	return r;
}

/* A call and a session through index and correlation. */
static void test_correlate(void)
{
	char path[512], wid[WARRANT_ID_MAX];
	struct calls_entry *v = NULL;
	struct stat sb;
	size_t n = 0;
	uint32_t cin = 4242, cin2;
	uint64_t cs = 0;

	snprintf(path, sizeof(path), "%s/index.sqlite", t_tmpdir());
	CHECK_OK(index_open_path(path, &ix));
	CHECK(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0600);
	CHECK_OK(sip(cin, 0, T0, ETSI_IRI_BEGIN, 1,
		     "INVITE sip:t@ims SIP/2.0\r\nFrom: <sip:peer@example.org>;tag=a\r\n"
		     "To: <sip:target@ims>\r\nCall-ID: c1@x\r\nCSeq: 1 INVITE\r\n\r\n"
		     "c=IN IP4 203.0.113.5\r\nm=audio 30000 RTP/AVP 8\r\n"));
	CHECK_OK(sip(cin, 1, T0 + 500000, ETSI_IRI_CONTINUE, 0,
		     "SIP/2.0 200 OK\r\nFrom: <sip:peer@example.org>;tag=a\r\nTo: <sip:target@ims>\r\n"
		     "Call-ID: c1@x\r\nCSeq: 1 INVITE\r\n\r\nc=IN IP4 10.20.0.1\r\nm=audio 40000 RTP/AVP 8\r\n"));
	/* RTP: sequence numbers 65533..65535, 0..3 each way; 65535 lost from
	 * the target, 2 lost to it; CC sequence number 5 never sent */
	for (int i = 0; i < 7; i++) {
		uint16_t rs = (uint16_t)(65533 + i);
		int64_t t = T0 + 600000 + i * 20000;
		if (rs != 65535)
			CHECK_OK(rtp(cin, cs++, t, 1, rs));
		else
			cs++;
		if (rs != 2)
			CHECK_OK(rtp(cin, cs++, t + 5000, 0, rs));
		else
			cs++;
	}
	CHECK_OK(sip(cin, 2, T0 + 3000000, ETSI_IRI_CONTINUE, 1,
		     "BYE sip:t@ims SIP/2.0\r\nCall-ID: c1@x\r\nCSeq: 2 BYE\r\n\r\n"));
	CHECK_OK(sip(cin, 3, T0 + 3010000, ETSI_IRI_END, 0,
		     "SIP/2.0 200 OK\r\nCall-ID: c1@x\r\nCSeq: 2 BYE\r\n\r\n"));
	CHECK_OK(calls_list(ix, W, &v, &n));
	CHECK_EQ_INT(n, 1);
	CHECK_STR(v[0].id, W "-4242");
	CHECK_STR(v[0].call_id, "c1@x");
	CHECK_STR(v[0].from, "sip:peer@example.org");
	CHECK_STR(v[0].to, "sip:target@ims");
	CHECK_EQ_INT(v[0].target_caller, 0);                 /* the target answered */
	CHECK_STR(v[0].target_media, "10.20.0.1");
	CHECK_EQ_INT(v[0].target_port, 40000);
	CHECK_EQ_INT(v[0].labels_swapped, 1);
	CHECK_EQ_INT(v[0].packets[CALLS_FROM_TARGET], 6);
	CHECK_EQ_INT(v[0].packets[CALLS_TO_TARGET], 6);
	CHECK_EQ_INT(v[0].rtp_gaps, 2);                      /* across the 16-bit wrap */
	CHECK_EQ_INT(v[0].cc_gaps, 2);
	CHECK_EQ_INT(v[0].iri_gaps, 0);
	CHECK_EQ_INT(v[0].codec_pt, 8);
	CHECK_EQ_INT(v[0].start_us, T0);
	CHECK_EQ_INT(v[0].answer_us, T0 + 500000);
	CHECK_EQ_INT(v[0].end_us, T0 + 3010000);
	CHECK_EQ_INT(v[0].has_bye, 1);
	CHECK_EQ_INT(v[0].complete, 0);
	CHECK(strstr(v[0].problems, "RTP sequence gaps: 2") != NULL);
	free(v);
	v = NULL;
	/* the lookup audio uses: the same call from the SIP IRIs alone */
	{
		struct calls_entry one;
		CHECK_OK(calls_find(ix, W, W "-4242", &one));
		CHECK_STR(one.from, "sip:peer@example.org");
		CHECK_STR(one.target_media, "10.20.0.1");
		CHECK_STR(one.peer_media, "203.0.113.5");
		CHECK_EQ_INT(one.n_cins, 1);
		CHECK_EQ_INT(calls_find(ix, W, W "-4243", &one), LACRE_E_NOT_FOUND);
		CHECK_EQ_INT(calls_find(ix, W, "W-000008-4242", &one), LACRE_E_INVALID);
	}
	/* call ids */
	CHECK_OK(calls_parse_id(W "-4242", wid, &cin2));
	CHECK_STR(wid, W);
	CHECK_EQ_INT(cin2, 4242);
	CHECK_EQ_INT(calls_parse_id("W4242", wid, &cin2), LACRE_E_INVALID);
	CHECK_EQ_INT(calls_parse_id(W "-99999999999", wid, &cin2), LACRE_E_INVALID);
	CHECK_EQ_INT(calls_parse_id(W "-", wid, &cin2), LACRE_E_INVALID);
	/* a reset forgets the warrant */
	CHECK_OK(index_reset(ix, W));
	CHECK_OK(calls_list(ix, W, &v, &n));
	CHECK_EQ_INT(n, 0);
	free(v);
	index_close(ix);
	ix = NULL;
}

/* Hostile SIP text in a record is only summarised, never trusted. */
static void test_hostile_sip(void)
{
	char path[512];
	struct calls_entry *v = NULL;
	size_t n = 0;
	char big[3000];

	snprintf(path, sizeof(path), "%s/index2.sqlite", t_tmpdir());
	CHECK_OK(index_open_path(path, &ix));
	memset(big, 'A', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "INVITE x SIP/2.0\nCall-ID: ", 26);
	CHECK_OK(sip(9, 0, T0, ETSI_IRI_BEGIN, 1, big));
	CHECK_OK(sip(9, 1, T0 + 1, ETSI_IRI_CONTINUE, 1, "\x01\x02 garbage"));
	CHECK_OK(calls_list(ix, W, &v, &n));
	CHECK_EQ_INT(n, 1);
	CHECK_EQ_INT(strlen(v[0].call_id), SIP_TEXT_MAX - 1);
	CHECK_EQ_INT(v[0].iri_records, 2);                   /* no Call-ID: joins the call of its CIN */
	free(v);
	index_close(ix);
	ix = NULL;
}

/* Which call a record joins (lib/access/calls_lookup.c behind it): two
 * calls share a CIN; an IRI without Call-ID joins the latest call on its
 * own CIN (not the latest call of all); a Call-ID seen again later, on
 * another CIN, joins its first call; RTP on a shared CIN goes to the
 * call whose span holds its time, even when another started later. */
static void test_shared_cin(void)
{
	char path[512];
	struct calls_entry *v = NULL, *a, *b, *c;
	size_t n = 0;

	snprintf(path, sizeof(path), "%s/index3.sqlite", t_tmpdir());
	CHECK_OK(index_open_path(path, &ix));
	CHECK_OK(sip(100, 0, T0, ETSI_IRI_BEGIN, 1,
		     "INVITE sip:t@ims SIP/2.0\r\nFrom: <sip:a@example.org>\r\nTo: <sip:target@ims>\r\n"
		     "Call-ID: call-a\r\nCSeq: 1 INVITE\r\n\r\n"));
	CHECK_OK(sip(100, 1, T0 + 500000, ETSI_IRI_CONTINUE, 0,
		     "SIP/2.0 200 OK\r\nCall-ID: call-a\r\nCSeq: 1 INVITE\r\n\r\n"));
	CHECK_OK(sip(100, 2, T0 + 2000000, ETSI_IRI_CONTINUE, 1,
		     "BYE sip:t@ims SIP/2.0\r\nCall-ID: call-a\r\nCSeq: 2 BYE\r\n\r\n"));
	CHECK_OK(sip(100, 3, T0 + 3000000, ETSI_IRI_BEGIN, 1,
		     "INVITE sip:t@ims SIP/2.0\r\nFrom: <sip:b@example.org>\r\nTo: <sip:target@ims>\r\n"
		     "Call-ID: call-b\r\nCSeq: 1 INVITE\r\n\r\n"));
	CHECK_OK(sip(100, 4, T0 + 3500000, ETSI_IRI_CONTINUE, 1, "\x01\x02 no sip"));
	CHECK_OK(sip(200, 0, T0 + 4000000, ETSI_IRI_BEGIN, 1,
		     "INVITE sip:t@ims SIP/2.0\r\nFrom: <sip:c@example.org>\r\nTo: <sip:target@ims>\r\n"
		     "Call-ID: call-c\r\nCSeq: 1 INVITE\r\n\r\n"));
	CHECK_OK(sip(300, 0, T0 + 5000000, ETSI_IRI_CONTINUE, 1,
		     "INFO sip:t@ims SIP/2.0\r\nCall-ID: call-a\r\nCSeq: 3 INFO\r\n\r\n"));
	CHECK_OK(sip(300, 1, T0 + 5500000, ETSI_IRI_CONTINUE, 1, "\x01\x02 no sip"));
	/* on CIN 500, call-x (10-11 s) and call-y (10.5-10.8 s) overlap: RTP
	 * at 10.9 s is in call-x's span only, though call-y started later */
	CHECK_OK(sip(500, 0, T0 + 10000000, ETSI_IRI_BEGIN, 1,
		     "INVITE sip:t@ims SIP/2.0\r\nCall-ID: call-x\r\nCSeq: 1 INVITE\r\n\r\n"));
	CHECK_OK(sip(500, 1, T0 + 10500000, ETSI_IRI_BEGIN, 1,
		     "INVITE sip:t@ims SIP/2.0\r\nCall-ID: call-y\r\nCSeq: 1 INVITE\r\n\r\n"));
	CHECK_OK(sip(500, 2, T0 + 10800000, ETSI_IRI_CONTINUE, 1,
		     "BYE sip:t@ims SIP/2.0\r\nCall-ID: call-y\r\nCSeq: 2 BYE\r\n\r\n"));
	CHECK_OK(sip(500, 3, T0 + 11000000, ETSI_IRI_CONTINUE, 1,
		     "BYE sip:t@ims SIP/2.0\r\nCall-ID: call-x\r\nCSeq: 2 BYE\r\n\r\n"));
	CHECK_OK(rtp(500, 0, T0 + 10900000, 1, 1));
	CHECK_OK(rtp(100, 0, T0 + 600000, 1, 1));
	CHECK_OK(rtp(100, 1, T0 + 3600000, 1, 1));
	CHECK_OK(rtp(100, 2, T0 + 3620000, 1, 2));
	CHECK_OK(calls_list(ix, W, &v, &n));
	CHECK_EQ_INT(n, 5);
	/* sorted by start: call-a, call-b, call-c, call-x, call-y */
	CHECK_STR(v[3].call_id, "call-x");
	CHECK_STR(v[4].call_id, "call-y");
	CHECK_EQ_INT(v[3].cc_records, 1);
	CHECK_EQ_INT(v[4].cc_records, 0);
	a = &v[0];
	b = &v[1];
	c = &v[2];
	CHECK_STR(a->call_id, "call-a");
	CHECK_STR(b->call_id, "call-b");
	CHECK_STR(c->call_id, "call-c");
	CHECK_STR(a->id, W "-100");
	CHECK_STR(b->id, W "-100");
	CHECK_STR(c->id, W "-200");
	CHECK_EQ_INT(a->iri_records, 5);   /* INVITE, 200, BYE, INFO on 300, the one without Call-ID on 300 */
	CHECK_EQ_INT(a->n_cins, 2);
	CHECK_EQ_INT(a->cins[0], 100);
	CHECK_EQ_INT(a->cins[1], 300);
	CHECK_EQ_INT(b->iri_records, 2);   /* INVITE, the one without Call-ID on 100 */
	CHECK_EQ_INT(b->n_cins, 1);
	CHECK_EQ_INT(c->iri_records, 1);
	CHECK_EQ_INT(a->cc_records, 1);    /* RTP at 0.6 s: in call-a's span */
	CHECK_EQ_INT(b->cc_records, 2);    /* RTP at 3.6 s: call-a ended at 2 s */
	CHECK_EQ_INT(c->cc_records, 0);
	CHECK_EQ_INT(a->has_bye, 1);
	CHECK_EQ_INT(b->has_bye, 0);
	free(v);
	index_close(ix);
	ix = NULL;
}

/* Many calls, each on its own CIN with two Call-IDs interleaved with the
 * others' messages: every message finds its own call (the lookups grow
 * their tables many times on the way). */
static void test_many_calls(void)
{
	enum { NCALLS = 300 };
	char path[512], text[256];
	struct calls_entry *v = NULL;
	size_t n = 0;

	snprintf(path, sizeof(path), "%s/index4.sqlite", t_tmpdir());
	CHECK_OK(index_open_path(path, &ix));
	for (int pass = 0; pass < 3; pass++)
		for (uint32_t k = 0; k < NCALLS; k++) {
			int64_t t = T0 + (int64_t)pass * 1000000000 + (int64_t)k * 1000;
			if (pass == 0)
				snprintf(text, sizeof(text), "INVITE sip:t@ims SIP/2.0\r\nFrom: <sip:%u@example.org>\r\n"
					 "To: <sip:target@ims>\r\nCall-ID: many-%u\r\nCSeq: 1 INVITE\r\n\r\n", k, k);
			else if (pass == 1)
				snprintf(text, sizeof(text), "SIP/2.0 200 OK\r\nCall-ID: many-%u\r\nCSeq: 1 INVITE\r\n\r\n", k);
			else
				snprintf(text, sizeof(text), "\x01 no sip");
			CHECK_OK(sip(1000 + k, (uint64_t)pass, t, pass ? ETSI_IRI_CONTINUE : ETSI_IRI_BEGIN, 1, text));
		}
	CHECK_OK(calls_list(ix, W, &v, &n));
	CHECK_EQ_INT(n, NCALLS);
	for (size_t i = 0; i < n; i++) {
		char want[32];
		snprintf(want, sizeof(want), "many-%zu", i);
		CHECK_STR(v[i].call_id, want);
		CHECK_EQ_INT(v[i].cin, 1000 + i);
		CHECK_EQ_INT(v[i].iri_records, 3);
		CHECK_EQ_INT(v[i].answer_us, T0 + 1000000000 + (int64_t)i * 1000);
		CHECK_EQ_INT(v[i].iri_gaps, 0);
	}
	free(v);
	index_close(ix);
	ix = NULL;
}

int main(void)
{
	RUN(test_correlate);
	RUN(test_hostile_sip);
	RUN(test_shared_cin);
	RUN(test_many_calls);
	return t_done();
}

/*
 * test_etsi.c - the PS-PDU decoder (lib/wire/etsi.c, etsi_payload.c) and
 * its JSON rendering (etsi_json.c), on hand-made BER: the keep-alive of the
 * spec's worked example (§6.4) byte for byte, both timestamp styles,
 * indefinite and non-minimal lengths, 5-octet sequence numbers, unknown and
 * high-number tags, truncation at every byte, trailing bytes, a wrong outer
 * tag, inner damage (partial PDUs), deep nesting, every TRI alternative we
 * index (integrity hash/signature incl. the legacy nesting, cINReset,
 * operator messages), HI1 notifications, encryption containers, IPIRI,
 * IPMMIRI, IPMMCC, IPCC, 3GPP containers, aggregated payloads; and, when
 * ../shared is present, a few fields of the OpenLI vectors.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "lacre/buf.h"
#include "lacre/err.h"
#include "lacre/etsi.h"
#include "lacre/etsi_json.h"
#include "lacre/json.h"

/* ---- a tiny BER builder (test-only) ---- */

enum { MIN = 0, NONMIN = 1, INDEF = 2 };

struct bb {
	uint8_t b[8192];
	size_t n;
	size_t at[64];      /* start of each open element's contents */
	int mode[64];
	int sp;
};

/* Open a constructed element; close with bc(). */
static void bo(struct bb *b, uint8_t tag, int mode)
{
	b->b[b->n++] = tag;
	if (mode == INDEF) {
		b->b[b->n++] = 0x80;
	} else {
		b->n += 3;      /* room for 82 xx xx, shrunk at close for MIN */
	}
	b->mode[b->sp] = mode;
	b->at[b->sp++] = b->n;
}

/* Close the innermost open element, writing its length. */
static void bc(struct bb *b)
{
	size_t start = b->at[--b->sp], len = b->n - start;
	int mode = b->mode[b->sp];
	uint8_t *h = b->b + start - 3;

	if (mode == INDEF) {
		b->b[b->n++] = 0;
		b->b[b->n++] = 0;
		return;
	}
	if (mode == NONMIN || len > 255) {
		h[0] = 0x82;
		h[1] = (uint8_t)(len >> 8);
		h[2] = (uint8_t)len;
		return;
	}
	if (len < 128) {
		h[0] = (uint8_t)len;
		memmove(h + 1, h + 3, len);
		b->n -= 2;
	} else {
		h[0] = 0x81;
		h[1] = (uint8_t)len;
		memmove(h + 2, h + 3, len);
		b->n -= 1;
	}
}

/* A primitive element with minimal length. */
static void bp(struct bb *b, uint8_t tag, const void *v, size_t n)
{
	b->b[b->n++] = tag;
	if (n < 128) {
		b->b[b->n++] = (uint8_t)n;
	} else {
		b->b[b->n++] = 0x82;
		b->b[b->n++] = (uint8_t)(n >> 8);
		b->b[b->n++] = (uint8_t)n;
	}
	memcpy(b->b + b->n, v, n);
	b->n += n;
}

/* A primitive string element. */
static void bs(struct bb *b, uint8_t tag, const char *s)
{
	bp(b, tag, s, strlen(s));
}

/* A non-negative INTEGER/ENUMERATED in minimal two's complement. */
static void bu(struct bb *b, uint8_t tag, uint64_t v)
{
	uint8_t t[9];
	size_t n = 0;
	int i;

	for (i = 7; i > 0 && !((v >> (8 * i)) & 0xff); i--)
		;
	if ((v >> (8 * i)) & 0x80)
		t[n++] = 0;
	for (; i >= 0; i--)
		t[n++] = (uint8_t)(v >> (8 * i));
	bp(b, tag, t, n);
}

/* A PSHeader with the given LIID, CIN and sequence number; mode applies to
 * its constructed elements; usec != 0 selects microSecondTimeStamp. */
static void header(struct bb *b, const char *liid, uint64_t cin, uint64_t seq, int mode, int usec)
{
	static const uint8_t dom[] = { 0x04, 0x00, 0x02, 0x02, 0x05, 0x01, 0x11 };

	bo(b, 0xa1, mode);
	bp(b, 0x80, dom, sizeof(dom));
	bs(b, 0x81, liid);
	bs(b, 0x82, "ES");
	bo(b, 0xa3, mode);
	bo(b, 0xa0, mode);
	bs(b, 0x80, "ACME");
	bs(b, 0x81, "med-1");
	bc(b);
	bu(b, 0x81, cin);
	bs(b, 0x82, "ES");
	bc(b);
	bu(b, 0x84, seq);
	if (usec) {
		bo(b, 0xa7, mode);
		bu(b, 0x80, 1767225600);
		bu(b, 0x81, 250000);
		bc(b);
	} else {
		bs(b, 0x85, "20260101000000.250Z");
	}
	bu(b, 0x88, 1);
	bc(b);
}

/* Decode b's bytes, failing the test on a non-OK return. */
#define DECODE(bb_, pdu_) CHECK_OK(etsi_decode((bb_)->b, (bb_)->n, (pdu_)))

/* ---- the spec's worked keep-alive (§6.4) ---- */

static const uint8_t ka[] = {
	0x30, 0x4F, 0xA1, 0x47, 0x80, 0x07, 0x04, 0x00, 0x02, 0x02, 0x05, 0x01, 0x11, 0x81, 0x0D,
	0x6F, 0x70, 0x65, 0x6E, 0x6C, 0x69, 0x2D, 0x31, 0x2E, 0x31, 0x2E, 0x32, 0x30, 0x82, 0x02,
	0x45, 0x53, 0xA3, 0x16, 0xA0, 0x0D, 0x80, 0x04, 0x41, 0x43, 0x4D, 0x45, 0x81, 0x05, 0x6D,
	0x65, 0x64, 0x2D, 0x31, 0x81, 0x01, 0x00, 0x82, 0x02, 0x45, 0x53, 0x84, 0x01, 0x07, 0xA7,
	0x0B, 0x80, 0x04, 0x69, 0x55, 0xB9, 0x00, 0x81, 0x03, 0x03, 0xD0, 0x90, 0x88, 0x01, 0x01,
	0xA2, 0x04, 0xA2, 0x02, 0x83, 0x00 };

static void test_spec_keepalive(void)
{
	struct etsi_pdu p;
	uint8_t resp[sizeof(ka)];
	size_t len;

	CHECK_EQ_INT(sizeof(ka), 81);
	CHECK_OK(etsi_pdu_size(ka, sizeof(ka), ETSI_MAX_PDU_DEFAULT, &len));
	CHECK_EQ_INT(len, 81);
	CHECK_OK(etsi_decode(ka, sizeof(ka), &p));
	CHECK_EQ_INT(p.partial, 0);
	CHECK_EQ_INT(p.unknown_tags, 0);
	CHECK_EQ_INT(p.kind, ETSI_KIND_KEEPALIVE);
	CHECK_EQ_INT(p.payload, ETSI_PAYLOAD_TRI);
	CHECK_EQ_INT(p.tri, ETSI_TRI_KEEPALIVE);
	CHECK_EQ_INT(p.domain_version, 17);
	CHECK_EQ_INT(p.liid.len, 13);
	CHECK_MEM(p.liid.p, "openli-1.1.20", 13);
	CHECK_STR(p.auth_country, "ES");
	CHECK_STR(p.delivery_country, "ES");
	CHECK_EQ_INT(p.operator_id.len, 4);
	CHECK_MEM(p.operator_id.p, "ACME", 4);
	CHECK_MEM(p.network_element_id.p, "med-1", 5);
	CHECK_EQ_INT(p.has_cin, 1);
	CHECK_EQ_INT(p.cin, 0);
	CHECK_EQ_INT(p.has_seq, 1);
	CHECK_EQ_INT(p.seq, 7);
	CHECK_EQ_INT(p.has_time, 2);
	CHECK_EQ_INT(p.time_us, 1767225600250000ll);
	CHECK_EQ_INT(p.ts_qualifier, 1);
	CHECK(p.header_tlv.p == ka + 2);
	CHECK_EQ_INT(p.header_tlv.len, 2 + 0x47);
	CHECK(p.content == NULL);
	CHECK_EQ_INT(p.iri_type, ETSI_IRI_NONE);
	CHECK_EQ_INT(p.direction, ETSI_DIR_NONE);

	/* the response of §6.4: one octet differs */
	memcpy(resp, ka, sizeof(ka));
	resp[sizeof(resp) - 2] = 0x84;
	CHECK_OK(etsi_decode(resp, sizeof(resp), &p));
	CHECK_EQ_INT(p.kind, ETSI_KIND_KEEPALIVE_RESPONSE);
	CHECK_EQ_INT(p.tri, ETSI_TRI_KEEPALIVE_RESPONSE);
	CHECK_EQ_INT(p.seq, 7);
}

static void test_truncated_every_byte(void)
{
	struct etsi_pdu p;
	size_t len;

	for (size_t k = 0; k < sizeof(ka); k++) {
		CHECK_EQ_INT(etsi_pdu_size(ka, k, ETSI_MAX_PDU_DEFAULT, &len), LACRE_E_INCOMPLETE);
		CHECK(etsi_decode(ka, k, &p) != LACRE_OK);
	}
}

static void test_outer_errors(void)
{
	uint8_t d[sizeof(ka) + 1];
	struct etsi_pdu p;
	size_t len;

	memcpy(d, ka, sizeof(ka));
	d[sizeof(ka)] = 0x30;
	/* trailing bytes: framing takes the PDU, decoding refuses the extra */
	CHECK_OK(etsi_pdu_size(d, sizeof(d), ETSI_MAX_PDU_DEFAULT, &len));
	CHECK_EQ_INT(len, sizeof(ka));
	CHECK_EQ_INT(etsi_decode(d, sizeof(d), &p), LACRE_E_TRAILING);
	/* wrong outer tag: a SET, a context tag, a primitive 10 */
	d[0] = 0x31;
	CHECK_EQ_INT(etsi_pdu_size(d, sizeof(d), ETSI_MAX_PDU_DEFAULT, &len), LACRE_E_MALFORMED);
	CHECK_EQ_INT(etsi_decode(d, sizeof(ka), &p), LACRE_E_MALFORMED);
	d[0] = 0xa0;
	CHECK_EQ_INT(etsi_decode(d, sizeof(ka), &p), LACRE_E_MALFORMED);
	d[0] = 0x10;
	CHECK_EQ_INT(etsi_decode(d, sizeof(ka), &p), LACRE_E_MALFORMED);
	/* too large for the cap */
	CHECK_EQ_INT(etsi_pdu_size(ka, 4, 64, &len), LACRE_E_TOO_LARGE);
	/* reserved length octet */
	d[0] = 0x30;
	d[1] = 0xff;
	CHECK_EQ_INT(etsi_pdu_size(d, sizeof(d), ETSI_MAX_PDU_DEFAULT, &len), LACRE_E_MALFORMED);
	CHECK_EQ_INT(etsi_pdu_size(d, 0, ETSI_MAX_PDU_DEFAULT, &len), LACRE_E_INCOMPLETE);
}

static void test_generalized_and_indefinite(void)
{
	static struct bb b;
	struct etsi_pdu p;
	size_t len;

	for (int mode = MIN; mode <= INDEF; mode++) {
		memset(&b, 0, sizeof(b));
		bo(&b, 0x30, mode);
		header(&b, "LIID-1", 164085088, 4294967295u, mode, 0);
		bo(&b, 0xa2, mode);
		bo(&b, 0xa2, mode);
		bp(&b, 0x83, "", 0);
		bc(&b);
		bc(&b);
		bc(&b);
		CHECK_OK(etsi_pdu_size(b.b, b.n, ETSI_MAX_PDU_DEFAULT, &len));
		CHECK_EQ_INT(len, b.n);
		DECODE(&b, &p);
		CHECK_EQ_INT(p.partial, 0);
		CHECK_EQ_INT(p.kind, ETSI_KIND_KEEPALIVE);
		CHECK_EQ_INT(p.cin, 164085088);
		CHECK_EQ_INT(p.seq, 4294967295ll);      /* 5 octets: 00 FF FF FF FF */
		CHECK_EQ_INT(p.has_time, 1);
		CHECK_EQ_INT(p.time_us, 1767225600250000ll);
		CHECK_MEM(p.liid.p, "LIID-1", 6);
		CHECK_MEM(p.operator_id.p, "ACME", 4);
		CHECK_EQ_INT(p.header_tlv.p[0], 0xa1);
		if (mode == INDEF)
			CHECK_EQ_INT(p.header_tlv.p[1], 0x80);
		/* truncated indefinite PDUs are incomplete at every byte */
		for (size_t k = 0; mode == INDEF && k < b.n; k++)
			CHECK_EQ_INT(etsi_pdu_size(b.b, k, ETSI_MAX_PDU_DEFAULT, &len), LACRE_E_INCOMPLETE);
	}
}

static void test_unknown_and_high_tags(void)
{
	static struct bb b;
	static const uint8_t high[] = { 0x9f, 0x81, 0x00, 0x02, 0xaa, 0xbb };  /* [128] */
	struct etsi_pdu p;

	memset(&b, 0, sizeof(b));
	bo(&b, 0x30, MIN);
	bo(&b, 0xa1, MIN);
	bp(&b, 0x80, "\x04\x00\x02\x02\x05\x01\x2b", 7);
	memcpy(b.b + b.n, high, sizeof(high));           /* unknown high tag */
	b.n += sizeof(high);
	bs(&b, 0x81, "L1");
	bo(&b, 0xa3, MIN);
	bo(&b, 0xa0, MIN);
	bs(&b, 0x80, "OP");
	bc(&b);
	bu(&b, 0x81, 1);
	bo(&b, 0xa3, MIN);                               /* cINExtension: known */
	bc(&b);
	bs(&b, 0x8f, "future");                          /* unknown [15] */
	bc(&b);
	bu(&b, 0x84, 3);
	bs(&b, 0x89, "ext-ipid");
	bs(&b, 0x8a, "nf-id");
	bo(&b, 0xbe, MIN);                               /* unknown constructed [30] */
	bc(&b);
	bc(&b);
	bo(&b, 0xa2, MIN);
	bo(&b, 0xa2, MIN);
	bp(&b, 0x87, "", 0);                             /* cINReset */
	bc(&b);
	bc(&b);
	bp(&b, 0x05, "", 0);                             /* unknown NULL after payload */
	bc(&b);
	DECODE(&b, &p);
	CHECK_EQ_INT(p.partial, 0);
	CHECK_EQ_INT(p.unknown_tags, 4);
	CHECK_EQ_INT(p.domain_version, 43);
	CHECK_EQ_INT(p.tri, ETSI_TRI_CIN_RESET);
	CHECK_EQ_INT(p.kind, ETSI_KIND_OTHER);
	CHECK_EQ_INT(p.auth_country[0], 0);
	CHECK_MEM(p.ext_interception_point_id.p, "ext-ipid", 8);
	CHECK_MEM(p.network_function_id.p, "nf-id", 5);
	CHECK_EQ_INT(p.has_time, 0);
	CHECK_EQ_INT(p.ts_qualifier, -1);
}

static void test_partial(void)
{
	static struct bb b;
	struct etsi_pdu p;
	size_t bad;

	/* an LIID whose length runs past its container: header partial,
	 * payload still decoded (NONMIN: offsets do not move at close) */
	memset(&b, 0, sizeof(b));
	bo(&b, 0x30, NONMIN);
	bo(&b, 0xa1, NONMIN);
	bu(&b, 0x84, 9);
	bad = b.n;
	bs(&b, 0x81, "LIID");
	b.b[bad + 1] = 0x20;
	bc(&b);
	bo(&b, 0xa2, MIN);
	bo(&b, 0xa2, MIN);
	bp(&b, 0x83, "", 0);
	bc(&b);
	bc(&b);
	bc(&b);
	DECODE(&b, &p);
	CHECK_EQ_INT(p.partial, 1);
	CHECK_EQ_INT(p.err, LACRE_E_MALFORMED);
	CHECK_EQ_INT(p.err_off, bad);
	CHECK_EQ_INT(p.seq, 9);
	CHECK_EQ_INT(p.kind, ETSI_KIND_KEEPALIVE);

	/* out-of-range and negative values: partial, field absent */
	memset(&b, 0, sizeof(b));
	bo(&b, 0x30, MIN);
	bo(&b, 0xa1, MIN);
	bs(&b, 0x81, "L");
	bo(&b, 0xa3, MIN);
	bp(&b, 0x81, "\xff", 1);                        /* CIN -1 */
	bc(&b);
	bp(&b, 0x84, "\x01\x00\x00\x00\x00", 5);        /* 2^32 */
	bs(&b, 0x82, "ESP");                            /* 3-letter country */
	bc(&b);
	bo(&b, 0xa2, MIN);
	bo(&b, 0xa2, MIN);
	bp(&b, 0x83, "", 0);
	bc(&b);
	bc(&b);
	bc(&b);
	DECODE(&b, &p);
	CHECK_EQ_INT(p.partial, 1);
	CHECK_EQ_INT(p.err, LACRE_E_RANGE);
	CHECK_EQ_INT(p.has_cin, 0);
	CHECK_EQ_INT(p.has_seq, 0);
	CHECK_EQ_INT(p.auth_country[0], 0);

	/* missing payload and header */
	memset(&b, 0, sizeof(b));
	bo(&b, 0x30, MIN);
	bc(&b);
	DECODE(&b, &p);
	CHECK_EQ_INT(p.partial, 1);
	CHECK_EQ_INT(p.kind, ETSI_KIND_OTHER);
}

static void test_deep_nesting(void)
{
	static struct bb b;
	struct etsi_pdu p;

	/* 40 nested indefinite unknown elements inside the header */
	memset(&b, 0, sizeof(b));
	bo(&b, 0x30, MIN);
	bo(&b, 0xa1, MIN);
	bs(&b, 0x81, "L");
	bu(&b, 0x84, 1);
	for (int i = 0; i < 40; i++)
		bo(&b, 0xbe, INDEF);
	for (int i = 0; i < 40; i++)
		bc(&b);
	bc(&b);
	bo(&b, 0xa2, MIN);
	bo(&b, 0xa2, MIN);
	bp(&b, 0x83, "", 0);
	bc(&b);
	bc(&b);
	bc(&b);
	DECODE(&b, &p);
	CHECK_EQ_INT(p.partial, 1);
	CHECK_EQ_INT(p.err, LACRE_E_DEPTH);
	CHECK_EQ_INT(p.kind, ETSI_KIND_KEEPALIVE);
	CHECK_EQ_INT(p.seq, 1);
}

/* Open PS-PDU + header + payload [2] + tRIPayload [2]; close with 3 bc(). */
static void tri_start(struct bb *b)
{
	memset(b, 0, sizeof(*b));
	bo(b, 0x30, MIN);
	header(b, "LI-HASH", 42, 1, MIN, 1);
	bo(b, 0xa2, MIN);
	bo(b, 0xa2, MIN);
}

static void test_integrity(void)
{
	static struct bb b;
	uint8_t digest[32];
	struct etsi_pdu p;
	struct lacre_rbuf it;
	uint64_t s, want = 0;
	int r;

	for (int i = 0; i < 32; i++)
		digest[i] = (uint8_t)(0xa0 + i);
	tri_start(&b);
	bo(&b, 0xa0, MIN);
	bo(&b, 0xa0, MIN);
	for (uint64_t i = 0; i < 3; i++)
		bu(&b, 0x02, i);
	bu(&b, 0x02, 4294967295u);
	bc(&b);
	bu(&b, 0x81, 1);
	bu(&b, 0x82, 2);
	bp(&b, 0x83, digest, sizeof(digest));
	bu(&b, 0x84, 2);
	bc(&b);
	bc(&b);
	bc(&b);
	bc(&b);
	DECODE(&b, &p);
	CHECK_EQ_INT(p.partial, 0);
	CHECK_EQ_INT(p.kind, ETSI_KIND_INTEGRITY_CHECK);
	CHECK_STR(p.content, "hash");
	CHECK_EQ_INT(p.integrity.check_type, 1);
	CHECK_EQ_INT(p.integrity.data_type, 2);
	CHECK_EQ_INT(p.integrity.hash_alg, 2);
	CHECK_EQ_INT(p.integrity.sig_alg, -1);
	CHECK_EQ_INT(p.integrity.n_seqs, 4);
	CHECK_EQ_INT(p.integrity.legacy_nested, 0);
	CHECK_EQ_INT(p.integrity.check_value.len, 32);
	CHECK_MEM(p.integrity.check_value.p, digest, 32);
	CHECK_EQ_INT(p.integrity.tlv.p[0], 0xa0);
	CHECK(p.integrity.tlv.p + p.integrity.tlv.len <= b.b + b.n);
	etsi_seq_iter(&p.integrity, &it);
	while ((r = etsi_seq_next(&it, &s)) == 1) {
		CHECK_EQ_INT(s, want < 3 ? want : 4294967295u);
		want++;
	}
	CHECK_EQ_INT(r, 0);
	CHECK_EQ_INT(want, 4);

	/* signature, with the legacy extra SEQUENCE around the numbers */
	tri_start(&b);
	bo(&b, 0xa0, MIN);
	bo(&b, 0xa0, MIN);
	bo(&b, 0x30, MIN);
	bu(&b, 0x02, 1);
	bu(&b, 0x02, 2);
	bc(&b);
	bc(&b);
	bu(&b, 0x81, 2);
	bu(&b, 0x82, 1);
	bp(&b, 0x83, "\x30\x06\x02\x01\x01\x02\x01\x02", 8);
	bu(&b, 0x85, 2);
	bc(&b);
	bc(&b);
	bc(&b);
	bc(&b);
	DECODE(&b, &p);
	CHECK_EQ_INT(p.partial, 0);
	CHECK_STR(p.content, "signature");
	CHECK_EQ_INT(p.integrity.legacy_nested, 1);
	CHECK_EQ_INT(p.integrity.n_seqs, 2);
	CHECK_EQ_INT(p.integrity.sig_alg, 2);
	CHECK_EQ_INT(p.integrity.hash_alg, -1);
	etsi_seq_iter(&p.integrity, &it);
	CHECK_EQ_INT(etsi_seq_next(&it, &s), 1);
	CHECK_EQ_INT(s, 1);

	/* a bad element in the list: partial, the rest still counted */
	tri_start(&b);
	bo(&b, 0xa0, MIN);
	bo(&b, 0xa0, MIN);
	bu(&b, 0x02, 1);
	bp(&b, 0x02, "\xff", 1);
	bu(&b, 0x02, 3);
	bc(&b);
	bu(&b, 0x81, 1);
	bp(&b, 0x83, "", 0);
	bc(&b);
	bc(&b);
	bc(&b);
	bc(&b);
	DECODE(&b, &p);
	CHECK_EQ_INT(p.partial, 1);
	CHECK_EQ_INT(p.integrity.n_seqs, 2);
	etsi_seq_iter(&p.integrity, &it);
	CHECK_EQ_INT(etsi_seq_next(&it, &s), 1);
	CHECK_EQ_INT(etsi_seq_next(&it, &s), LACRE_E_RANGE);
}

static void test_other_tri(void)
{
	static struct bb b;
	struct etsi_pdu p;

	tri_start(&b);
	bo(&b, 0xa8, MIN);
	bu(&b, 0x80, 1);
	bs(&b, 0x81, "quality affected");
	bc(&b);
	bc(&b);
	bc(&b);
	bc(&b);
	DECODE(&b, &p);
	CHECK_EQ_INT(p.tri, ETSI_TRI_OPERATOR_MESSAGE);
	CHECK_EQ_INT(p.kind, ETSI_KIND_OTHER);
	CHECK_EQ_INT(p.opmsg.priority, 1);
	CHECK_MEM(p.opmsg.message.p, "quality affected", 16);

	for (uint8_t t = 0x81; t <= 0x8d; t++) {
		if (t == 0x88 || t == 0x89 || t == 0x8a)
			continue;
		tri_start(&b);
		bp(&b, t, "", 0);
		bc(&b);
		bc(&b);
		bc(&b);
		DECODE(&b, &p);
		CHECK_EQ_INT(p.tri, t & 0x1f);
		CHECK_EQ_INT(p.partial, 0);
	}
}

static void test_hi1_and_encryption(void)
{
	static struct bb b;
	static const uint8_t hi1dom[] = { 0x04, 0x00, 0x02, 0x02, 0x00, 0x01, 0x06 };
	struct etsi_pdu p;

	memset(&b, 0, sizeof(b));
	bo(&b, 0x30, MIN);
	header(&b, "LIID1", 0, 5, MIN, 0);
	bo(&b, 0xa2, MIN);
	bo(&b, 0xa3, MIN);
	bo(&b, 0xa2, MIN);                 /* liDeactivated */
	bp(&b, 0x80, hi1dom, sizeof(hi1dom));
	bs(&b, 0x81, "LIVOIP0001");
	bo(&b, 0xa2, MIN);
	bs(&b, 0x80, "\x01\x02");
	bo(&b, 0xa1, MIN);
	bs(&b, 0x80, "OLT01");
	bc(&b);
	bc(&b);
	bo(&b, 0xa3, MIN);
	bs(&b, 0x81, "260101120000Z");
	bc(&b);
	bs(&b, 0x86, "target");
	bc(&b);
	bc(&b);
	bc(&b);
	bc(&b);
	DECODE(&b, &p);
	CHECK_EQ_INT(p.partial, 0);
	CHECK_EQ_INT(p.kind, ETSI_KIND_HI1);
	CHECK_EQ_INT(p.hi1.op, 2);
	CHECK_MEM(p.hi1.liid.p, "LIVOIP0001", 10);
	CHECK_EQ_INT(p.hi1.cin.len, 2);
	CHECK_MEM(p.hi1.operator_id.p, "OLT01", 5);
	CHECK_EQ_INT(p.hi1.has_time, 1);
	CHECK_EQ_INT(p.hi1.time_us, 1767268800000000ll);
	CHECK_MEM(p.hi1.target_info.p, "target", 6);
	CHECK_EQ_INT(p.hi1.domain_id.len, sizeof(hi1dom));

	memset(&b, 0, sizeof(b));
	bo(&b, 0x30, MIN);
	header(&b, "LIID1", 9, 5, MIN, 0);
	bo(&b, 0xa2, MIN);
	bo(&b, 0xa4, MIN);
	bu(&b, 0x80, 3);
	bp(&b, 0x81, "0123456789abcdef0123456789abcdef", 32);
	bu(&b, 0x82, 8);
	bc(&b);
	bc(&b);
	bc(&b);
	DECODE(&b, &p);
	CHECK_EQ_INT(p.partial, 0);
	CHECK_EQ_INT(p.kind, ETSI_KIND_OTHER);
	CHECK_EQ_INT(p.payload, ETSI_PAYLOAD_ENCRYPTED);
	CHECK_EQ_INT(p.enc.type, 3);
	CHECK_EQ_INT(p.enc.payload.len, 32);
	CHECK_EQ_INT(p.enc.payload_type, 8);
	CHECK_EQ_INT(p.cin, 9);

	/* threeGPP-HI1-Operation [5]: an HI1 notification kept opaque */
	memset(&b, 0, sizeof(b));
	bo(&b, 0x30, MIN);
	header(&b, "LIID1", 0, 6, MIN, 0);
	bo(&b, 0xa2, MIN);
	bo(&b, 0xa5, MIN);
	bo(&b, 0xa1, MIN);
	bs(&b, 0x81, "LIID1");
	bc(&b);
	bc(&b);
	bc(&b);
	bc(&b);
	DECODE(&b, &p);
	CHECK_EQ_INT(p.partial, 0);
	CHECK_EQ_INT(p.kind, ETSI_KIND_HI1);
	CHECK_EQ_INT(p.payload, ETSI_PAYLOAD_3GPP_HI1);
	CHECK_EQ_INT(p.hi1.op, -1);
	CHECK_EQ_INT(p.content_bytes.len, 9);
}

/* Open PS-PDU + header + payload [2] + sequence [tag]; close with 3 bc(). */
static void seq_start(struct bb *b, uint8_t tag)
{
	memset(b, 0, sizeof(*b));
	bo(b, 0x30, MIN);
	header(b, "LIVOIP0001", 77, 3, MIN, 0);
	bo(b, 0xa2, MIN);
	bo(b, tag, MIN);
}

/* An IPAddress with a binary IPv4 address, as the contents of tag. */
static void ipaddr(struct bb *b, uint8_t tag, const char *addr4)
{
	bo(b, tag, MIN);
	bu(b, 0x81, 0);
	bo(b, 0xa2, MIN);
	bp(b, 0x81, addr4, 4);
	bc(b);
	bu(b, 0x83, 3);
	bc(b);
}

static void test_ipmmiri_and_ipiri(void)
{
	static struct bb b;
	static const char sip[] = "INVITE sip:alice@example.net SIP/2.0\r\nCall-ID: abc@h\r\n\r\n";
	struct etsi_pdu p;

	seq_start(&b, 0xa0);
	bo(&b, 0x30, MIN);
	bu(&b, 0x80, 1);
	bo(&b, 0xa2, MIN);
	bo(&b, 0xab, MIN);
	bp(&b, 0x80, "\x05\x05\x06\x01", 4);
	bo(&b, 0xa1, MIN);
	bo(&b, 0xa1, MIN);
	ipaddr(&b, 0xa0, "\x0a\x01\x01\x0a");
	ipaddr(&b, 0xa1, "\xc0\xa8\x6e\x64");
	bs(&b, 0x82, sip);
	bc(&b);
	bc(&b);
	bc(&b);
	bc(&b);
	bu(&b, 0x85, 1);
	bc(&b);
	bc(&b);
	bc(&b);
	bc(&b);
	DECODE(&b, &p);
	CHECK_EQ_INT(p.partial, 0);
	CHECK_EQ_INT(p.kind, ETSI_KIND_IRI);
	CHECK_EQ_INT(p.iri_type, ETSI_IRI_BEGIN);
	CHECK_STR(p.content, "ipmmiri");
	CHECK_EQ_INT(p.content_tag, 11);
	CHECK_EQ_INT(p.session_direction, 1);
	CHECK_EQ_INT(p.ipmmiri.alt, 1);
	CHECK_EQ_INT(p.ipmmiri.sip.len, strlen(sip));
	CHECK(p.content_bytes.p == p.ipmmiri.sip.p);
	CHECK_EQ_INT(p.ipmmiri.src.type, 0);
	CHECK_EQ_INT(p.ipmmiri.src.assignment, 3);
	CHECK_MEM(p.ipmmiri.src.bin.p, "\x0a\x01\x01\x0a", 4);
	CHECK_MEM(p.ipmmiri.dst.bin.p, "\xc0\xa8\x6e\x64", 4);
	CHECK_EQ_INT(p.content_oid.len, 4);
	CHECK_EQ_INT(p.n_payloads, 1);

	seq_start(&b, 0xa0);
	bo(&b, 0x30, MIN);
	bu(&b, 0x80, 4);
	bo(&b, 0xa2, MIN);
	bo(&b, 0xa2, MIN);
	bp(&b, 0x80, "\x05\x03\x0a\x01", 4);
	bo(&b, 0xa1, MIN);
	bu(&b, 0x80, 8);
	bs(&b, 0x81, "ipuser01");
	bu(&b, 0x82, 4);
	bu(&b, 0x83, 1);
	ipaddr(&b, 0xa4, "\x0a\x02\x02\x32");
	bs(&b, 0x8b, "20260101000000Z");
	bu(&b, 0x8d, UINT64_MAX);
	bu(&b, 0x8e, 12345);
	bo(&b, 0xb8, MIN);                 /* location [24] */
	bc(&b);
	bc(&b);
	bc(&b);
	bc(&b);
	bc(&b);
	bc(&b);
	bc(&b);
	bc(&b);
	DECODE(&b, &p);
	CHECK_EQ_INT(p.partial, 0);
	CHECK_STR(p.content, "ipiri");
	CHECK_EQ_INT(p.iri_type, ETSI_IRI_REPORT);
	CHECK_EQ_INT(p.ipiri.access_event, 8);
	CHECK_MEM(p.ipiri.username.p, "ipuser01", 8);
	CHECK_EQ_INT(p.ipiri.access_type, 4);
	CHECK_EQ_INT(p.ipiri.ip_version, 1);
	CHECK_MEM(p.ipiri.target_ip.bin.p, "\x0a\x02\x02\x32", 4);
	CHECK_EQ_INT(p.ipiri.has_end, 1);
	CHECK_EQ_INT(p.ipiri.end_us, 1767225600000000ll);
	CHECK(p.ipiri.octets_rx == UINT64_MAX);   /* a 9-octet INTEGER */
	CHECK_EQ_INT(p.ipiri.octets_tx, 12345);
	CHECK_EQ_INT(p.ipiri.has_location, 1);
}

static void test_cc_contents(void)
{
	static struct bb b;
	/* IPv4 + UDP + RTP (PT 0, seq 7000, ssrc 0x01020304) + 4 bytes audio */
	static const uint8_t pkt[] = {
		0x45, 0, 0, 48, 0, 1, 0, 0, 64, 17, 0, 0, 10, 1, 1, 10, 10, 1, 1, 20,
		0x9c, 0x40, 0xc3, 0x50, 0, 28, 0, 0,
		0x80, 0x00, 0x1b, 0x58, 0, 0, 0, 160, 1, 2, 3, 4, 0xff, 0xff, 0xff, 0xff };
	struct etsi_pdu p;
	struct lacre_dbuf d;
	struct json_w w;
	const char *s;

	/* two aggregated IPMMCC payloads: the first is summarised */
	seq_start(&b, 0xa1);
	for (int i = 0; i < 2; i++) {
		bo(&b, 0x30, MIN);
		bu(&b, 0x80, (uint64_t)i);
		bo(&b, 0xa2, MIN);
		bo(&b, 0xac, MIN);
		bp(&b, 0x80, "\x05\x05\x06\x02", 4);
		bp(&b, 0x81, pkt, sizeof(pkt));
		bu(&b, 0x82, 0);
		bs(&b, 0x83, "s1");
		bu(&b, 0x84, 0);
		bc(&b);
		bc(&b);
		bc(&b);
	}
	bc(&b);
	bc(&b);
	bc(&b);
	DECODE(&b, &p);
	CHECK_EQ_INT(p.partial, 0);
	CHECK_EQ_INT(p.kind, ETSI_KIND_CC);
	CHECK_STR(p.content, "ipmmcc");
	CHECK_EQ_INT(p.n_payloads, 2);
	CHECK_EQ_INT(p.direction, ETSI_DIR_FROM_TARGET);
	CHECK_EQ_INT(p.ipmmcc.frame_type, 0);
	CHECK_EQ_INT(p.ipmmcc.protocol, 0);
	CHECK_MEM(p.ipmmcc.stream_id.p, "s1", 2);
	CHECK_EQ_INT(p.content_bytes.len, sizeof(pkt));
	CHECK_MEM(p.content_bytes.p, pkt, sizeof(pkt));

	/* JSON: the common keys and the RTP/IP look-inside */
	lacre_dbuf_init(&d, 1 << 16);
	json_init(&w, &d);
	etsi_json_pdu(&w, &p, b.b, b.n, 1000, 0);
	CHECK_OK(json_finish(&w));
	CHECK_OK(lacre_dbuf_cstr(&d, &s));
	CHECK(strstr(s, "{\"offset\":1000,") == s);
	CHECK(strstr(s, "\"liid\":\"LIVOIP0001\",\"cin\":77,\"seq\":3,\"kind\":\"cc\","
			"\"time\":\"2026-01-01T00:00:00.250000Z\",\"iri_type\":null,\"content\":\"ipmmcc\"") != NULL);
	CHECK(strstr(s, "\"direction\":\"from-target\"") != NULL);
	CHECK(strstr(s, "\"n_payloads\":2") != NULL);
	CHECK(strstr(s, "\"ip\":{\"version\":4,\"src\":\"10.1.1.10\",\"dst\":\"10.1.1.20\",\"proto\":17,"
			"\"sport\":40000,\"dport\":50000}") != NULL);
	CHECK(strstr(s, "\"rtp\":{\"pt\":0,\"marker\":false,\"seq\":7000,\"ts\":160,\"ssrc\":16909060,"
			"\"payload_len\":4}") != NULL);
	lacre_dbuf_free(&d);

	/* IPCC with iPTruncatedPacket */
	seq_start(&b, 0xa1);
	bo(&b, 0x30, MIN);
	bu(&b, 0x80, 1);
	bo(&b, 0xa2, MIN);
	bo(&b, 0xa2, MIN);
	bp(&b, 0x80, "\x05\x03\x0a\x02", 4);
	bo(&b, 0xa1, MIN);
	bo(&b, 0xa1, MIN);
	bp(&b, 0x80, pkt, 20);
	bu(&b, 0x81, 1500);
	bc(&b);
	bc(&b);
	bc(&b);
	bc(&b);
	bc(&b);
	bc(&b);
	bc(&b);
	bc(&b);
	DECODE(&b, &p);
	CHECK_EQ_INT(p.partial, 0);
	CHECK_STR(p.content, "ipcc");
	CHECK_EQ_INT(p.direction, ETSI_DIR_TO_TARGET);
	CHECK_EQ_INT(p.ipcc.truncated, 1);
	CHECK_EQ_INT(p.ipcc.original_length, 1500);
	CHECK_EQ_INT(p.content_bytes.len, 20);

	/* 3GPP TS 33.128 CC container: opaque, with its payload OID */
	seq_start(&b, 0xa1);
	bo(&b, 0x30, MIN);
	bo(&b, 0xa2, MIN);
	bp(&b, 0x97, "\x30\x0b\x81\x05\x04\x13\x13\x03\x04\xa2\x02\x81\x00", 13);
	bc(&b);
	bc(&b);
	bc(&b);
	bc(&b);
	bc(&b);
	DECODE(&b, &p);
	CHECK_EQ_INT(p.partial, 0);
	CHECK_STR(p.content, "threegpp33128definedcc");
	CHECK_EQ_INT(p.content_bytes.len, 13);
	CHECK_EQ_INT(p.content_oid.len, 5);
	CHECK_MEM(p.content_oid.p, "\x04\x13\x13\x03\x04", 5);

	/* a content alternative lacre does not decode further: named, raw */
	seq_start(&b, 0xa1);
	bo(&b, 0x30, MIN);
	bo(&b, 0xa2, MIN);
	bp(&b, 0x8f, "\x01\x02\x03", 3);   /* ePSCC [15] OCTET STRING */
	bc(&b);
	bc(&b);
	bc(&b);
	bc(&b);
	bc(&b);
	DECODE(&b, &p);
	CHECK_EQ_INT(p.partial, 0);
	CHECK_STR(p.content, "epscc");
	CHECK_EQ_INT(p.content_bytes.len, 3);

	/* an empty payload sequence and a non-SEQUENCE element: partial */
	seq_start(&b, 0xa1);
	bc(&b);
	bc(&b);
	bc(&b);
	DECODE(&b, &p);
	CHECK_EQ_INT(p.partial, 1);
	CHECK_EQ_INT(p.kind, ETSI_KIND_CC);
}

static void test_openli_vectors(void)
{
	uint8_t *d;
	size_t n = 0, off = 0, len;
	struct etsi_pdu p;
	unsigned count = 0, sip = 0;

	d = t_vector("openli-a/raw/hi2.bin", &n);
	if (!d)
		return; /* t_vector failed the test, naming the missing vectors */
	while (off < n && etsi_pdu_size(d + off, n - off, ETSI_MAX_PDU_DEFAULT, &len) == LACRE_OK) {
		if (etsi_decode(d + off, len, &p) != LACRE_OK || p.partial || p.unknown_tags)
			break;
		if (off == 0) {
			/* LIIPSTA001: iPIRI startOfInterceptionWithSessionActive, 10.3.3.30 */
			if (p.ipiri.access_event != 7 || p.ipiri.target_ip.assignment != 1 ||
			    p.ipiri.target_ip.v4_mask.len != 4 || p.interception_point_id.len != 5)
				break;
		}
		if (p.content_tag == ETSI_IRI_IPMMIRI && p.ipmmiri.sip.len > 7 &&
		    p.ipmmiri.src.bin.len == 4 && p.ipmmiri.dst.bin.len == 4)
			sip++;
		count++;
		off += len;
	}
	free(d);
	CHECK_EQ_INT(off, n);
	CHECK_EQ_INT(count, 24);
	CHECK_EQ_INT(sip, 14);
}

static void test_json_forms(void)
{
	static struct bb b;
	struct etsi_pdu p;
	struct lacre_dbuf d;
	struct json_w w;
	const char *s;

	/* binary LIID, no CIN, no time, a field error */
	memset(&b, 0, sizeof(b));
	bo(&b, 0x30, NONMIN);
	bo(&b, 0xa1, NONMIN);
	bp(&b, 0x81, "\x01\xfe\x41", 3);
	bu(&b, 0x84, 12);
	bp(&b, 0x88, "\xff", 1);           /* negative timeStampQualifier */
	bc(&b);
	bo(&b, 0xa2, NONMIN);
	bo(&b, 0xa2, NONMIN);
	bp(&b, 0x84, "", 0);
	bc(&b);
	bc(&b);
	bc(&b);
	DECODE(&b, &p);
	CHECK_EQ_INT(p.partial, 1);
	lacre_dbuf_init(&d, 1 << 16);
	json_init(&w, &d);
	etsi_json_pdu(&w, &p, b.b, b.n, 500, ETSI_JSON_RAW);
	CHECK_OK(json_finish(&w));
	CHECK_OK(lacre_dbuf_cstr(&d, &s));
	CHECK(strstr(s, "\"liid\":\"0x01fe41\",\"cin\":null,\"seq\":12,\"kind\":\"keepalive-response\","
			"\"time\":null,\"iri_type\":null,\"content\":null,\"partial\":true,") != NULL);
	CHECK(strstr(s, "\"error_offset\":518") != NULL);   /* 500 + 4 + 4 + 5 + 3 + 2: the value octet */
	CHECK(strstr(s, "\"raw\":\"3082") != NULL);
	lacre_dbuf_free(&d);
}

int main(void)
{
	RUN(test_spec_keepalive);
	RUN(test_truncated_every_byte);
	RUN(test_outer_errors);
	RUN(test_generalized_and_indefinite);
	RUN(test_unknown_and_high_tags);
	RUN(test_partial);
	RUN(test_deep_nesting);
	RUN(test_integrity);
	RUN(test_other_tri);
	RUN(test_hi1_and_encryption);
	RUN(test_ipmmiri_and_ipiri);
	RUN(test_cc_contents);
	RUN(test_json_forms);
	RUN(test_openli_vectors);
	return t_done();
}

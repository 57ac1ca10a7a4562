/*
 * test_frame.c - record frames: a pinned known-answer encoding, round trips,
 * the commitment definition, and the strict decoder's rejections (each one
 * a single-byte change from a valid frame).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "harness.h"
#include "lacre/buf.h"
#include "lacre/err.h"
#include "lacre/frame.h"

static const uint8_t pdu[] = { 0x30, 0x06, 0xa1, 0x04, 0x80, 0x02, 0x41, 0x42 };

/* A fixed sample record. */
static void sample(struct frame_record *r)
{
	memset(r, 0, sizeof(*r));
	memset(r->salt, 0x5a, sizeof(r->salt));
	r->recv_us = 1764300000123456LL;
	r->listener = 3;
	r->conn_id = 7;
	r->peer = frame_cstr("192.0.2.1:40000");
	r->liid = frame_cstr("LIID-1");
	r->has_cin = 1;
	r->cin = 42;
	r->seq = 1000;
	r->kind = 2;
	r->time_kind = 2;
	r->time_us = 1764300000000001LL;
	r->iri_type = 0;
	r->direction = 1;
	r->content = frame_cstr("ipcc");
	r->route = FRAME_ROUTE_WARRANT;
	r->warrant = frame_cstr("W-2026-0001");
	r->pdu.p = pdu;
	r->pdu.len = sizeof(pdu);
	r->version = FRAME_RECORD_VERSION_1; /* sample_hex is a version 1 record */
}

static const char sample_hex[] =
	"4c435246" "01" "02" "00000072"                       /* frame header */
	"5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a"                     /* salt */
	"01" "03" "0006449f1ac8da40" "0000000000000007"        /* ver, listener, recv, conn */
	"00000000000003e8" "0000002a" "0006449f1ac6f801"       /* seq, cin, time */
	"05" "02" "00" "01" "01"                               /* flags, kind, iri, dir, route */
	"0f3139322e302e322e313a3430303030"                     /* peer */
	"00064c4949442d31"                                     /* liid */
	"046970636" "3"                                        /* content */
	"0b572d323032362d30303031"                             /* warrant */
	"0000"                                                 /* reason */
	"00000008" "3006a10480024142";                         /* pdu */

static void test_known_answer(void)
{
	struct frame_record r, d;
	struct lacre_dbuf out;
	uint8_t c[32], c2[32], exp[512], body_hash[32];
	size_t n = strlen(sample_hex) / 2;
	unsigned hl = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned v;
		sscanf(sample_hex + 2 * i, "%2x", &v);
		exp[i] = (uint8_t)v;
	}
	sample(&r);
	lacre_dbuf_init(&out, 1 << 20);
	CHECK_OK(frame_record_encode(&r, &out, c));
	CHECK_EQ_INT(out.len, n);
	CHECK_MEM(out.p, exp, n);
	/* commitment = SHA-256 of the whole body = SHA-256(salt || canon) */
	EVP_Digest(out.p + FRAME_HDR_SIZE, out.len - FRAME_HDR_SIZE, body_hash, &hl, EVP_sha256(), NULL);
	CHECK_MEM(c, body_hash, 32);
	CHECK_OK(frame_record_decode(out.p, out.len, &d));
	CHECK_EQ_INT(d.canon.len, out.len - FRAME_HDR_SIZE - FRAME_SALT_SIZE);
	CHECK(d.canon.p == out.p + FRAME_HDR_SIZE + FRAME_SALT_SIZE);
	CHECK_OK(frame_commitment(d.salt, d.canon.p, d.canon.len, c2));
	CHECK_MEM(c, c2, 32);
	CHECK_EQ_INT(d.recv_us, r.recv_us);
	CHECK_EQ_INT(d.listener, 3);
	CHECK_EQ_INT(d.conn_id, 7);
	CHECK_EQ_INT(d.has_cin, 1);
	CHECK_EQ_INT(d.cin, 42);
	CHECK_EQ_INT(d.seq, 1000);
	CHECK_EQ_INT(d.kind, 2);
	CHECK_EQ_INT(d.time_kind, 2);
	CHECK_EQ_INT(d.time_us, r.time_us);
	CHECK_EQ_INT(d.direction, 1);
	CHECK_EQ_INT(d.route, FRAME_ROUTE_WARRANT);
	CHECK(d.peer.len == 15 && !memcmp(d.peer.p, "192.0.2.1:40000", 15));
	CHECK(d.liid.len == 6 && !memcmp(d.liid.p, "LIID-1", 6));
	CHECK(d.content.len == 4 && !memcmp(d.content.p, "ipcc", 4));
	CHECK(d.warrant.len == 11 && !memcmp(d.warrant.p, "W-2026-0001", 11));
	CHECK_EQ_INT(d.reason.len, 0);
	CHECK(d.pdu.len == sizeof(pdu) && !memcmp(d.pdu.p, pdu, sizeof(pdu)));
	lacre_dbuf_free(&out);
}

/* decode(encode(r)) re-encodes to the same bytes. */
static void test_roundtrip_variants(void)
{
	struct frame_record r, d;
	struct lacre_dbuf a, b;
	static uint8_t big[70000];
	uint8_t liid_bin[FRAME_LIID_MAX];
	char reason[FRAME_REASON_MAX + 1];

	for (size_t i = 0; i < sizeof(liid_bin); i++)
		liid_bin[i] = (uint8_t)i;
	memset(reason, 'r', FRAME_REASON_MAX);
	reason[FRAME_REASON_MAX] = 0;
	for (int v = 0; v < 6; v++) {
		sample(&r);
		switch (v) {
		case 1: /* absent optional fields */
			r.has_cin = 0; r.cin = 0; r.time_kind = 0; r.time_us = 0;
			r.direction = FRAME_DIRECTION_NONE; r.content = frame_cstr(NULL);
			r.peer = frame_cstr(""); r.liid = frame_cstr(NULL);
			break;
		case 2: /* quarantine with and without a warrant id */
			r.route = FRAME_ROUTE_QUARANTINE; r.reason = frame_cstr("unknown LIID");
			r.warrant = frame_cstr(NULL);
			break;
		case 3:
			r.route = FRAME_ROUTE_QUARANTINE; r.reason = frame_cstr(reason);
			break;
		case 4: /* binary LIID at the limit, big PDU, negative times */
			r.liid.p = liid_bin; r.liid.len = sizeof(liid_bin);
			r.pdu.p = big; r.pdu.len = sizeof(big);
			r.recv_us = -1; r.time_us = INT64_MIN; r.time_kind = 1;
			break;
		case 5: /* extreme integers */
			r.conn_id = UINT64_MAX; r.seq = UINT64_MAX; r.cin = UINT32_MAX;
			r.direction = 254; r.kind = 255; r.iri_type = 255; r.listener = 0;
			break;
		}
		lacre_dbuf_init(&a, 1 << 20);
		lacre_dbuf_init(&b, 1 << 20);
		CHECK_OK(frame_record_encode(&r, &a, NULL));
		CHECK_OK(frame_record_decode(a.p, a.len, &d));
		CHECK_OK(frame_record_encode(&d, &b, NULL));
		CHECK_EQ_INT(a.len, b.len);
		CHECK_MEM(a.p, b.p, a.len);
		lacre_dbuf_free(&a);
		lacre_dbuf_free(&b);
	}
}

/* frame_record_size is the encoded frame's length, version 1 and 2, with
 * and without the pre-encryption form, for strings of every length class. */
static void test_record_size(void)
{
	static const uint8_t pre8[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	struct frame_record r;
	struct lacre_dbuf out;
	char big[FRAME_PEER_MAX + 1];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	lacre_dbuf_init(&out, 1 << 20);
	for (int v = 0; v < 8; v++) {
		sample(&r);
		if (v & 1) {
			r.version = 0;
			r.operator_name = frame_cstr("op-A1");
			if (v & 4) {
				r.pre.p = pre8;
				r.pre.len = sizeof(pre8);
			}
		}
		if (v & 2) {
			r.peer = frame_cstr(big);
			r.route = FRAME_ROUTE_QUARANTINE;
			r.warrant = frame_cstr("");
			r.reason = frame_cstr("unknown-liid");
		}
		lacre_dbuf_reset(&out);
		CHECK_OK(frame_record_encode(&r, &out, NULL));
		CHECK_EQ_INT(frame_record_size(&r), out.len);
	}
	lacre_dbuf_free(&out);
}

static void test_encoder_refuses(void)
{
	struct frame_record r;
	struct lacre_dbuf out;
	uint8_t head[FRAME_HEAD_MAX];
	size_t hl;
	char big[300];

	lacre_dbuf_init(&out, 1 << 20);
#define REFUSE(mutation, err) do { sample(&r); mutation; \
	CHECK_EQ_INT(frame_record_encode(&r, &out, NULL), err); CHECK_EQ_INT(out.len, 0); } while (0)
	REFUSE(r.route = 0, LACRE_E_INVALID);
	REFUSE(r.route = 3, LACRE_E_INVALID);
	REFUSE(r.warrant = frame_cstr(""), LACRE_E_INVALID);
	REFUSE(r.reason = frame_cstr("why"), LACRE_E_INVALID);
	REFUSE((r.route = FRAME_ROUTE_QUARANTINE, r.reason = frame_cstr("")), LACRE_E_INVALID);
	REFUSE((r.has_cin = 0), LACRE_E_INVALID);
	REFUSE((r.has_cin = 2), LACRE_E_INVALID);
	REFUSE((r.time_kind = 0), LACRE_E_INVALID);
	REFUSE((r.time_kind = 3), LACRE_E_INVALID);
	REFUSE((r.direction = 255), LACRE_E_INVALID);
	REFUSE((r.direction = -2), LACRE_E_INVALID);
	REFUSE((r.pdu.len = 0), LACRE_E_INVALID);
	REFUSE((r.peer = frame_cstr("a\nb")), LACRE_E_INVALID);
	REFUSE((r.reason = frame_cstr("x\x7f")), LACRE_E_INVALID);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	REFUSE((r.peer = frame_cstr(big)), LACRE_E_TOO_LARGE);
	REFUSE((r.warrant = frame_cstr(big)), LACRE_E_TOO_LARGE);
	REFUSE((r.liid.len = FRAME_LIID_MAX + 1, r.liid.p = (const uint8_t *)big), LACRE_E_TOO_LARGE);
	REFUSE((r.pdu.len = FRAME_PDU_MAX + 1), LACRE_E_TOO_LARGE);
#undef REFUSE
	sample(&r);
	CHECK_EQ_INT(frame_record_head(&r, head, 20, &hl), LACRE_E_TOO_LARGE);
	lacre_dbuf_free(&out);
	lacre_dbuf_init(&out, 30); /* too small for the frame: out unchanged */
	CHECK_EQ_INT(frame_record_encode(&r, &out, NULL), LACRE_E_TOO_LARGE);
	CHECK_EQ_INT(out.len, 0);
	lacre_dbuf_free(&out);
}

/* Decode a copy of the sample frame with byte off set to v. */
static int decode_mutated(size_t off, uint8_t v)
{
	struct frame_record r, d;
	struct lacre_dbuf out;
	int ret;

	sample(&r);
	lacre_dbuf_init(&out, 1 << 20);
	frame_record_encode(&r, &out, NULL);
	out.p[off] = v;
	ret = frame_record_decode(out.p, out.len, &d);
	lacre_dbuf_free(&out);
	return ret;
}

/* Version 2 (what the encoder writes by default): the v1 fields, then the
 * operator and the notes before the PDU, then the pre-encryption form
 * after it (FORMATS §3.2).  Known answer, round trip, and its rules. */
static const char sample2_hex[] =
	"4c435246" "01" "02" "00000085"                       /* frame header */
	"5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a"                     /* salt */
	"02" "03" "0006449f1ac8da40" "0000000000000007"        /* ver 2, listener, recv, conn */
	"00000000000003e8" "0000002a" "0006449f1ac6f801"       /* seq, cin, time */
	"05" "02" "00" "01" "01"                               /* flags, kind, iri, dir, route */
	"0f3139322e302e322e313a3430303030"                     /* peer */
	"00064c4949442d31"                                     /* liid */
	"046970636" "3"                                        /* content */
	"0b572d323032362d30303031"                             /* warrant */
	"0000"                                                 /* reason */
	"056f702d4131" "03"                                    /* operator "op-A1", notes */
	"00000008" "3006a10480024142"                          /* pdu */
	"00000008" "3006a10480024241";                         /* pre-encryption form */

static void test_version2(void)
{
	static const uint8_t pre[8] = { 0x30, 0x06, 0xa1, 0x04, 0x80, 0x02, 0x42, 0x41 };
	struct frame_record r, d;
	struct lacre_dbuf out, again;
	uint8_t c[32], body_hash[32], exp[512];
	size_t n = strlen(sample2_hex) / 2;
	unsigned hl = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned v;
		sscanf(sample2_hex + 2 * i, "%2x", &v);
		exp[i] = (uint8_t)v;
	}
	sample(&r);
	r.version = 0; /* the current version */
	r.operator_name = frame_cstr("op-A1");
	r.notes = FRAME_NOTE_USEC_CARRY | FRAME_NOTE_KEY_OUTSIDE_WINDOW;
	r.pre.p = pre;
	r.pre.len = sizeof(pre);
	lacre_dbuf_init(&out, 1 << 20);
	lacre_dbuf_init(&again, 1 << 20);
	CHECK_OK(frame_record_encode(&r, &out, c));
	CHECK_EQ_INT(out.len, n);
	CHECK_MEM(out.p, exp, n);
	CHECK_EQ_INT(frame_record_size(&r), n); /* the planning size is the frame's */
	EVP_Digest(out.p + FRAME_HDR_SIZE, out.len - FRAME_HDR_SIZE, body_hash, &hl, EVP_sha256(), NULL);
	CHECK_MEM(c, body_hash, 32); /* the commitment covers operator, notes and pre */
	CHECK_OK(frame_record_decode(out.p, out.len, &d));
	CHECK_EQ_INT(d.version, 2);
	CHECK_EQ_INT(d.operator_name.len, 5);
	CHECK_MEM(d.operator_name.p, "op-A1", 5);
	CHECK_EQ_INT(d.notes, 3);
	CHECK_EQ_INT(d.pre.len, sizeof(pre));
	CHECK_MEM(d.pre.p, pre, sizeof(pre));
	CHECK_OK(frame_record_encode(&d, &again, NULL));
	CHECK_EQ_INT(again.len, out.len);
	CHECK_MEM(again.p, out.p, out.len);
	/* rules: pre as long as the PDU or empty; known notes only; text operator;
	 * version 1 carries none of them */
	r.pre.len = 7;
	CHECK_EQ_INT(frame_record_encode(&r, &again, NULL), LACRE_E_INVALID);
	r.pre.len = sizeof(pre);
	r.notes = 0x04;
	CHECK_EQ_INT(frame_record_encode(&r, &again, NULL), LACRE_E_INVALID);
	r.notes = 0;
	r.operator_name = frame_cstr("op\nA");
	CHECK_EQ_INT(frame_record_encode(&r, &again, NULL), LACRE_E_INVALID);
	r.operator_name = frame_cstr("0123456789012345678901234567890123456789012345678901234567890123456789");
	CHECK_EQ_INT(frame_record_encode(&r, &again, NULL), LACRE_E_TOO_LARGE);
	r.operator_name = frame_cstr("op-A1");
	r.version = FRAME_RECORD_VERSION_1;
	CHECK_EQ_INT(frame_record_encode(&r, &again, NULL), LACRE_E_INVALID);
	r.version = 3;
	CHECK_EQ_INT(frame_record_encode(&r, &again, NULL), LACRE_E_UNSUPPORTED);
	/* decoder: a pre-encryption form of another length, unknown notes,
	 * and trailing bytes are refused */
	out.p[n - 9] = 7; /* pre length 8 -> 7, one byte left over */
	CHECK(frame_record_decode(out.p, out.len, &d) != LACRE_OK);
	out.p[n - 9] = 8;
	out.p[n - 25] = 0x07; /* notes: reserved bit */
	CHECK_EQ_INT(frame_record_decode(out.p, out.len, &d), LACRE_E_MALFORMED);
	lacre_dbuf_free(&out);
	lacre_dbuf_free(&again);
}

static void test_decoder_rejects(void)
{
	struct frame_record r, d;
	struct lacre_dbuf out;
	struct lacre_rbuf b, body;
	uint8_t type;
	/* offsets in the sample frame */
	const size_t canon = FRAME_HDR_SIZE + FRAME_SALT_SIZE, flags = canon + 1 + 1 + 8 + 8 + 8 + 4 + 8;

	CHECK_EQ_INT(decode_mutated(0, 'X'), LACRE_E_MALFORMED);            /* magic */
	CHECK_EQ_INT(decode_mutated(4, 2), LACRE_E_UNSUPPORTED);            /* frame version */
	CHECK_EQ_INT(decode_mutated(5, FRAME_SEGMENT_HEADER), LACRE_E_UNEXPECTED);
	CHECK_EQ_INT(decode_mutated(canon, 3), LACRE_E_UNSUPPORTED);        /* record version */
	CHECK_EQ_INT(decode_mutated(canon, 0), LACRE_E_UNSUPPORTED);
	CHECK_EQ_INT(decode_mutated(flags, 0x05 | 0x10), LACRE_E_MALFORMED); /* reserved bit */
	CHECK_EQ_INT(decode_mutated(flags, 0x07), LACRE_E_MALFORMED);       /* time kind 3 */
	CHECK_EQ_INT(decode_mutated(flags, 0x04), LACRE_E_MALFORMED);       /* cin 42 without flag */
	CHECK_EQ_INT(decode_mutated(flags + 4, 3), LACRE_E_MALFORMED);      /* route 3 */
	CHECK_EQ_INT(decode_mutated(flags + 4, 2), LACRE_E_MALFORMED);      /* quarantine, no reason */
	CHECK_EQ_INT(decode_mutated(flags + 6, '\n'), LACRE_E_MALFORMED);   /* control char in peer */
	CHECK_EQ_INT(decode_mutated(flags + 5, 64), LACRE_E_TOO_LARGE);     /* peer length */
	CHECK_EQ_INT(decode_mutated(9, 0x72 + 1), LACRE_E_INCOMPLETE);      /* body longer than input */
	CHECK_EQ_INT(decode_mutated(9, 0x72 - 1), LACRE_E_TRAILING);        /* body shorter than frame */

	/* bytes after the frame, and every truncation */
	sample(&r);
	lacre_dbuf_init(&out, 1 << 20);
	CHECK_OK(frame_record_encode(&r, &out, NULL));
	CHECK_OK(lacre_dbuf_add_u8(&out, 0));
	CHECK_EQ_INT(frame_record_decode(out.p, out.len, &d), LACRE_E_TRAILING);
	for (size_t n = 0; n + 1 < out.len; n++) {
		lacre_rbuf_init(&b, out.p, n);
		CHECK_EQ_INT(frame_next(&b, &type, &body), LACRE_E_INCOMPLETE);
		CHECK_EQ_INT(b.off, 0);
	}
	/* a body cut short inside (with a matching frame length) */
	for (size_t n = 0; n + 1 < out.len - FRAME_HDR_SIZE; n++) {
		lacre_rbuf_init(&body, out.p + FRAME_HDR_SIZE, n);
		CHECK(frame_record_decode_body(body, &d) != LACRE_OK);
	}
	/* frame length over the cap */
	out.p[6] = 0x7f;
	lacre_rbuf_init(&b, out.p, out.len);
	CHECK_EQ_INT(frame_next(&b, &type, &body), LACRE_E_TOO_LARGE);
	lacre_dbuf_free(&out);
}

static void test_segment_header(void)
{
	struct frame_segment_header h, d;
	struct lacre_dbuf out;
	struct lacre_rbuf b, body;
	uint8_t type;

	memset(&h, 0, sizeof(h));
	memset(h.id, 0xab, 16);
	h.created_us = 1764300000000000LL;
	h.n_recipients = 2;
	memset(h.recipients[0], 1, 32);
	memset(h.recipients[1], 2, 32);
	lacre_dbuf_init(&out, 4096);
	CHECK_OK(frame_segment_header_encode(&h, &out));
	CHECK_EQ_INT(out.len, FRAME_HDR_SIZE + 26 + 64);
	lacre_rbuf_init(&b, out.p, out.len);
	CHECK_OK(frame_next(&b, &type, &body));
	CHECK_EQ_INT(type, FRAME_SEGMENT_HEADER);
	CHECK_OK(frame_segment_header_decode_body(body, &d));
	CHECK_MEM(d.id, h.id, 16);
	CHECK_EQ_INT(d.created_us, h.created_us);
	CHECK_EQ_INT(d.n_recipients, 2);
	CHECK_MEM(d.recipients, h.recipients, 64);
	/* zero recipients, version, trailing */
	out.p[FRAME_HDR_SIZE + 25] = 0;
	lacre_rbuf_init(&b, out.p, out.len);
	CHECK_OK(frame_next(&b, &type, &body));
	CHECK_EQ_INT(frame_segment_header_decode_body(body, &d), LACRE_E_MALFORMED);
	out.p[FRAME_HDR_SIZE + 25] = 1;
	lacre_rbuf_init(&b, out.p, out.len);
	CHECK_OK(frame_next(&b, &type, &body));
	CHECK_EQ_INT(frame_segment_header_decode_body(body, &d), LACRE_E_TRAILING);
	out.p[FRAME_HDR_SIZE] = 9;
	lacre_rbuf_init(&b, out.p, out.len);
	CHECK_OK(frame_next(&b, &type, &body));
	CHECK_EQ_INT(frame_segment_header_decode_body(body, &d), LACRE_E_UNSUPPORTED);
	h.n_recipients = 0;
	CHECK_EQ_INT(frame_segment_header_encode(&h, &out), LACRE_E_INVALID);
	lacre_dbuf_free(&out);
}

/* The late-delivery flag (L3/L4): bit 3 of the flags byte (offset 10 +
 * 16 + 1 + 1 + 8 + 8 + 8 + 4 + 8 = 64 of the frame), warrant route only. */
static void test_late_delivery(void)
{
	struct frame_record r, d;
	struct lacre_dbuf out, plain;
	uint8_t c[32];

	sample(&r);
	lacre_dbuf_init(&out, 1 << 20);
	lacre_dbuf_init(&plain, 1 << 20);
	CHECK_OK(frame_record_encode(&r, &plain, NULL));
	CHECK_EQ_INT(plain.p[64], 0x05);
	r.late_delivery = 1;
	CHECK_OK(frame_record_encode(&r, &out, c));
	CHECK_EQ_INT(out.len, plain.len);
	CHECK_EQ_INT(out.p[64], 0x0d);
	CHECK_OK(frame_record_decode(out.p, out.len, &d));
	CHECK_EQ_INT(d.late_delivery, 1);
	CHECK_OK(frame_record_decode(plain.p, plain.len, &d));
	CHECK_EQ_INT(d.late_delivery, 0);
	/* bit 4 and up stay reserved */
	out.p[64] = 0x15;
	CHECK_EQ_INT(frame_record_decode(out.p, out.len, &d), LACRE_E_MALFORMED);
	/* a quarantined record is never flagged, in either direction */
	lacre_dbuf_reset(&out);
	r.route = FRAME_ROUTE_QUARANTINE;
	r.warrant = frame_cstr(NULL);
	r.reason = frame_cstr("after-end");
	CHECK_EQ_INT(frame_record_encode(&r, &out, NULL), LACRE_E_INVALID);
	r.late_delivery = 0;
	CHECK_OK(frame_record_encode(&r, &out, NULL));
	out.p[64] |= 0x08;
	CHECK_EQ_INT(frame_record_decode(out.p, out.len, &d), LACRE_E_MALFORMED);
	r.late_delivery = 2;
	r.route = FRAME_ROUTE_WARRANT;
	r.warrant = frame_cstr("W-1");
	r.reason = frame_cstr(NULL);
	CHECK_EQ_INT(frame_record_encode(&r, &out, NULL), LACRE_E_INVALID);
	lacre_dbuf_free(&out);
	lacre_dbuf_free(&plain);
}

/* The encoder's control-character check (eight bytes at a time) against
 * the byte rule, for every length to 40, every position and every byte
 * value of interest. */
static void test_text_check(void)
{
	static const uint8_t probe[] = { 0x00, 0x01, 0x09, 0x0a, 0x1f, 0x20, 0x21, 0x7e, 0x7f, 0x80,
					 0x9f, 0xa0, 0xff };
	struct frame_record r;
	struct lacre_dbuf out;
	char s[41];

	lacre_dbuf_init(&out, 1 << 20);
	for (size_t len = 1; len <= 40; len++)
		for (size_t at = 0; at < len; at++)
			for (size_t k = 0; k < sizeof(probe); k++) {
				int bad = probe[k] < 0x20 || probe[k] == 0x7f, r1;
				memset(s, 'w', len);
				s[len] = 0;
				s[at] = (char)probe[k];
				sample(&r);
				r.warrant.p = (const uint8_t *)s;
				r.warrant.len = len;
				lacre_dbuf_reset(&out);
				r1 = frame_record_encode(&r, &out, NULL);
				if (r1 != (bad ? LACRE_E_INVALID : LACRE_OK)) {
					t_fail(__FILE__, __LINE__, "len %zu, byte %02x at %zu: %d",
					       len, probe[k], at, r1);
					lacre_dbuf_free(&out);
					return;
				}
			}
	lacre_dbuf_free(&out);
}

int main(void)
{
	RUN(test_known_answer);
	RUN(test_version2);
	RUN(test_roundtrip_variants);
	RUN(test_record_size);
	RUN(test_encoder_refuses);
	RUN(test_text_check);
	RUN(test_decoder_rejects);
	RUN(test_segment_header);
	RUN(test_late_delivery);
	return t_done();
}

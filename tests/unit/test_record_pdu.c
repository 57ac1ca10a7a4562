/*
 * test_record_pdu.c - record_pdu_decode, the one helper every reader
 * decodes a sealed record with (include/lacre/record_pdu.h):
 *   - a version 1 frame (no pre-encryption form) decodes its PDU;
 *   - version 2 frames of the real OpenLI set-C capture (every payload
 *     AES-192-CBC encrypted), each with the pre-encryption form of
 *     decoded/hiN.preencryption.bin, decode the plaintext with no key: every
 *     PDU of both handovers, the container described as received, the
 *     byteCounter and the receiver's notes kept;
 *   - a pre-encryption form that is not the PDU's (a byte changed outside
 *     the ciphertext, the type octet left encrypted, a plaintext that is
 *     not an EncryptedPayload, a form beside a clear PDU) is refused with
 *     LACRE_E_VERIFY and a reason, never decoded as content;
 *   - pcap_cc_packet gives every EPS CC's IP packet (TS 33.108 CC-PDU
 *     payload) from the decrypted view.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "lacre/buf.h"
#include "lacre/err.h"
#include "lacre/etsi.h"
#include "lacre/frame.h"
#include "lacre/pcap.h"
#include "lacre/record_pdu.h"

/* Encode a record frame for pdu (and pre, when given) at the given record
 * version, then decode it back, as a reader gets it from a segment. */
static int mkframe(uint8_t version, const uint8_t *pdu, size_t n, const uint8_t *pre,
		   uint8_t notes, struct lacre_dbuf *buf, struct frame_record *out)
{
	struct frame_record r;
	struct etsi_pdu d;
	struct lacre_rbuf b, body;
	uint8_t type;
	int rr;

	memset(&r, 0, sizeof(r));
	memset(r.salt, 0x11, sizeof(r.salt));
	r.version = version;
	r.recv_us = 1796592900000000LL;
	r.listener = 2;
	r.conn_id = 1;
	r.peer = frame_cstr("127.0.0.1:40000");
	if ((rr = etsi_decode(pdu, n, &d)) != LACRE_OK)
		return rr;
	r.liid.p = d.liid.p;
	r.liid.len = d.liid.len;
	r.has_cin = d.has_cin;
	r.cin = d.cin;
	r.seq = d.seq;
	r.kind = (uint8_t)d.kind;
	r.direction = FRAME_DIRECTION_NONE;
	r.route = FRAME_ROUTE_QUARANTINE;
	r.reason = frame_cstr("unknown-liid");
	r.notes = notes;
	r.pdu.p = pdu;
	r.pdu.len = n;
	if (pre) {
		r.pre.p = pre;
		r.pre.len = n;
	}
	lacre_dbuf_reset(buf);
	if ((rr = frame_record_encode(&r, buf, NULL)) != LACRE_OK)
		return rr;
	lacre_rbuf_init(&b, buf->p, buf->len);
	if ((rr = frame_next(&b, &type, &body)) != LACRE_OK)
		return rr;
	return frame_record_decode_body(body, out);
}

/* A version 1 record and a clear version 2 record: the PDU itself. */
static void test_clear_records(void)
{
	/* a minimal clear PS-PDU: pSHeader with an LIID and a keep-alive */
	static const uint8_t ka[] = {
		0x30, 0x47, 0xa1, 0x3f, 0x80, 0x07, 0x04, 0x00, 0x02, 0x02, 0x05, 0x01, 0x11,
		0x81, 0x01, 0x2d, 0x82, 0x02, 0x4e, 0x4c, 0xa3, 0x1a, 0xa0, 0x11, 0x80, 0x09,
		0x6f, 0x70, 0x43, 0x2d, 0x74, 0x65, 0x6c, 0x63, 0x6f, 0x81, 0x04, 0x37, 0x30,
		0x30, 0x33, 0x81, 0x01, 0x00, 0x82, 0x02, 0x4e, 0x4c, 0x84, 0x01, 0x01, 0xa7,
		0x0b, 0x80, 0x04, 0x6b, 0x15, 0xd4, 0xa0, 0x81, 0x03, 0x07, 0x5c, 0x8e, 0x88,
		0x01, 0x01, 0xa2, 0x04, 0xa2, 0x02, 0x83, 0x00
	};
	struct lacre_dbuf buf;
	struct frame_record fr;
	struct record_pdu v;

	lacre_dbuf_init(&buf, 1 << 16);
	record_pdu_init(&v);
	for (uint8_t ver = 1; ver <= 2; ver++) {
		CHECK_OK(mkframe(ver, ka, sizeof(ka), NULL, 0, &buf, &fr));
		CHECK_EQ_INT(fr.version, ver);
		CHECK_OK(record_pdu_decode(&fr, &v));
		CHECK_EQ_INT(v.decrypted, 0);
		CHECK_EQ_INT(v.pdu.kind, ETSI_KIND_KEEPALIVE);
		CHECK_EQ_INT(v.pdu.encrypted, 0);
		CHECK(v.pdu.liid.len == 1 && v.pdu.liid.p[0] == '-');
		/* the view points into the record's own PDU */
		CHECK(v.pdu.header_tlv.p >= fr.pdu.p && v.pdu.header_tlv.p < fr.pdu.p + fr.pdu.len);
	}
	record_pdu_free(&v);
	lacre_dbuf_free(&buf);
}

/* Every PDU of one set-C handover, as version 2 records with their
 * pre-encryption forms: the plaintext decodes without a key.  Counts what
 * it saw; for HI3, every EPS CC's IP packet is checked. */
static void run_stream(const char *hi, size_t *n_enc, size_t *n_eps, size_t *n_iri)
{
	char p1[64], p2[64];
	uint8_t *raw, *pre;
	size_t n, n2, off = 0, len;
	struct lacre_dbuf buf;
	struct frame_record fr;
	struct record_pdu v;

	snprintf(p1, sizeof(p1), "openli-c/raw/%s.bin", hi);
	snprintf(p2, sizeof(p2), "openli-c/decoded/%s.preencryption.bin", hi);
	raw = t_vector(p1, &n);
	if (!raw)
		return;
	pre = t_vector(p2, &n2);
	if (!pre) {
		free(raw);
		return;
	}
	CHECK_EQ_INT(n, n2);
	lacre_dbuf_init(&buf, 1 << 20);
	record_pdu_init(&v);
	while (off < n) {
		struct etsi_pdu d;
		int enc;

		CHECK_OK(etsi_pdu_size(raw + off, n - off, ETSI_MAX_PDU_DEFAULT, &len));
		CHECK_OK(etsi_decode(raw + off, len, &d));
		enc = d.encrypted;
		/* the form differs from the PDU exactly when it was encrypted */
		CHECK_EQ_INT(memcmp(raw + off, pre + off, len) != 0, enc);
		CHECK_OK(mkframe(2, raw + off, len, enc ? pre + off : NULL,
				 enc ? FRAME_NOTE_KEY_OUTSIDE_WINDOW : 0, &buf, &fr));
		CHECK_OK(record_pdu_decode(&fr, &v));
		CHECK_EQ_INT(v.decrypted, enc);
		if (enc) {
			const uint8_t *ip = NULL;
			size_t ipn = 0, orig = 0;

			(*n_enc)++;
			CHECK(v.pdu.decrypted && v.pdu.has_byte_counter && !v.pdu.partial);
			/* the container as received: AES-192-CBC, its ciphertext */
			CHECK_EQ_INT(v.pdu.enc.type, 3);
			CHECK(v.pdu.enc.payload.p >= fr.pdu.p &&
			      v.pdu.enc.payload.p < fr.pdu.p + fr.pdu.len);
			CHECK(v.pdu.kind == ETSI_KIND_IRI || v.pdu.kind == ETSI_KIND_CC ||
			      v.pdu.kind == ETSI_KIND_INTEGRITY_CHECK);
			CHECK(v.pdu.flags & ETSI_FLAG_KEY_OUTSIDE_WINDOW);
			if (v.pdu.kind == ETSI_KIND_IRI)
				(*n_iri)++;
			if (v.pdu.kind == ETSI_KIND_CC && v.pdu.content_tag == ETSI_CC_EPSCC) {
				(*n_eps)++;
				CHECK_OK(pcap_cc_packet(&v.pdu, &ip, &ipn, &orig));
				/* an IPv4 packet of the UE 10.45.7.77, its total length */
				CHECK(ipn >= 20 && (ip[0] >> 4) == 4);
				CHECK_EQ_INT((size_t)ip[2] << 8 | ip[3], ipn);
				CHECK(!memcmp(ip + 12, "\x0a\x2d\x07\x4d", 4) ||
				      !memcmp(ip + 16, "\x0a\x2d\x07\x4d", 4));
			}
		}
		off += len;
	}
	record_pdu_free(&v);
	lacre_dbuf_free(&buf);
	free(raw);
	free(pre);
}

static void test_openli_c_plaintext(void)
{
	size_t enc2 = 0, enc3 = 0, eps = 0, iri = 0, eps2 = 0, iri3 = 0;

	run_stream("hi2", &enc2, &eps2, &iri);
	if (t_failed_now)
		return;
	run_stream("hi3", &enc3, &eps, &iri3);
	if (t_failed_now)
		return;
	/* set C: 372 encrypted PDUs (README "Encryption"), 21 EPS CCs */
	CHECK_EQ_INT(enc2 + enc3, 372);
	CHECK_EQ_INT(eps, 21);
	CHECK_EQ_INT(eps2, 0);
	CHECK(iri > 0 && iri3 == 0);
}

/* Pre-encryption forms that are not the PDU's are refused, with a reason. */
static void test_inconsistent_forms(void)
{
	const size_t off = 73, len = 1040;   /* hi2.bin: LIC-VOIP-GRACE seq 0 */
	uint8_t *raw, *pre, *bad;
	size_t n, n2, ty = 0, ct = 0;
	struct lacre_dbuf buf;
	struct frame_record fr;
	struct record_pdu v;
	struct etsi_pdu d;

	raw = t_vector("openli-c/raw/hi2.bin", &n);
	if (!raw)
		return;
	pre = t_vector("openli-c/decoded/hi2.preencryption.bin", &n2);
	if (!pre) {
		free(raw);
		return;
	}
	CHECK(n >= off + len && n2 == n);
	bad = malloc(len);
	CHECK(bad != NULL);
	lacre_dbuf_init(&buf, 1 << 16);
	record_pdu_init(&v);
	CHECK_OK(etsi_decode(raw + off, len, &d));
	CHECK(d.encrypted && d.enc.type_value.len == 1);
	ty = (size_t)(d.enc.type_value.p - (raw + off));
	ct = (size_t)(d.enc.payload.p - (raw + off));
	/* the right form decodes */
	CHECK_OK(mkframe(2, raw + off, len, pre + off, 0, &buf, &fr));
	CHECK_OK(record_pdu_decode(&fr, &v));
	CHECK(v.decrypted && v.pdu.kind == ETSI_KIND_IRI && v.pdu.content_tag == ETSI_IRI_IPMMIRI);
	CHECK(v.pdu.has_byte_counter && v.pdu.byte_counter >> 32 == 1796592808u);
	/* a byte of the PSHeader changed in the form only (the sequence number
	 * region: before the container) */
	memcpy(bad, pre + off, len);
	bad[10] ^= 1;
	CHECK_OK(mkframe(2, raw + off, len, bad, 0, &buf, &fr));
	CHECK_EQ_INT(record_pdu_decode(&fr, &v), LACRE_E_VERIFY);
	CHECK(v.why != NULL && v.decrypted == 0);
	/* a byte after the ciphertext (encryptedPayloadType) changed */
	memcpy(bad, pre + off, len);
	bad[len - 1] ^= 1;
	CHECK_OK(mkframe(2, raw + off, len, bad, 0, &buf, &fr));
	CHECK_EQ_INT(record_pdu_decode(&fr, &v), LACRE_E_VERIFY);
	CHECK_STR(v.why, "the pre-encryption form differs from the PDU outside the encrypted payload");
	/* the type octet left at aES-192-CBC: not a pre-encryption form */
	memcpy(bad, pre + off, len);
	bad[ty] = 3;
	CHECK_OK(mkframe(2, raw + off, len, bad, 0, &buf, &fr));
	CHECK_EQ_INT(record_pdu_decode(&fr, &v), LACRE_E_VERIFY);
	CHECK_STR(v.why, "the pre-encryption form is not an EncryptionContainer of type none");
	/* the ciphertext itself in place of the plaintext */
	memcpy(bad, raw + off, len);
	bad[ty] = 1;
	CHECK_OK(mkframe(2, raw + off, len, bad, 0, &buf, &fr));
	CHECK_EQ_INT(record_pdu_decode(&fr, &v), LACRE_E_VERIFY);
	CHECK_STR(v.why, "the pre-encryption form's payload is not a well-formed EncryptedPayload");
	CHECK(ct > ty && ct < len);
	/* a form beside a PDU that is not encrypted: the form of a clear
	 * keep-alive (hi2.bin offset 0) is refused */
	CHECK_OK(mkframe(2, raw, 73, raw, 0, &buf, &fr));
	CHECK_EQ_INT(record_pdu_decode(&fr, &v), LACRE_E_VERIFY);
	CHECK_STR(v.why, "the record has a pre-encryption form but its PDU is not encrypted");
	record_pdu_free(&v);
	lacre_dbuf_free(&buf);
	free(bad);
	free(raw);
	free(pre);
}

int main(void)
{
	RUN(test_clear_records);
	RUN(test_openli_c_plaintext);
	RUN(test_inconsistent_forms);
	return t_done();
}

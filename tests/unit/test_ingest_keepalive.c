/*
 * test_ingest_keepalive.c - the keep-alive response bytes (spec §6.3, §6.4):
 * the worked example byte for byte, every keep-alive of the OpenLI vectors,
 * and keep-alives with long-form lengths, indefinite lengths and a
 * 5-octet sequenceNumber.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "lacre/ber_enc.h"
#include "lacre/err.h"
#include "lacre/etsi.h"
#include "lacre/etsi_enc.h"
#include "lacre/ingest.h"

static const uint8_t spec_ka[] = {
	0x30, 0x4F, 0xA1, 0x47, 0x80, 0x07, 0x04, 0x00, 0x02, 0x02, 0x05, 0x01, 0x11, 0x81, 0x0D,
	0x6F, 0x70, 0x65, 0x6E, 0x6C, 0x69, 0x2D, 0x31, 0x2E, 0x31, 0x2E, 0x32, 0x30, 0x82, 0x02,
	0x45, 0x53, 0xA3, 0x16, 0xA0, 0x0D, 0x80, 0x04, 0x41, 0x43, 0x4D, 0x45, 0x81, 0x05, 0x6D,
	0x65, 0x64, 0x2D, 0x31, 0x81, 0x01, 0x00, 0x82, 0x02, 0x45, 0x53, 0x84, 0x01, 0x07, 0xA7,
	0x0B, 0x80, 0x04, 0x69, 0x55, 0xB9, 0x00, 0x81, 0x03, 0x03, 0xD0, 0x90, 0x88, 0x01, 0x01,
	0xA2, 0x04, 0xA2, 0x02, 0x83, 0x00
};

/* Spec §6.4: the response differs in one octet, 83 -> 84. */
static void test_spec_worked_example(void)
{
	struct etsi_pdu d;
	struct lacre_dbuf out;
	uint8_t want[sizeof(spec_ka)];

	memcpy(want, spec_ka, sizeof(want));
	want[sizeof(want) - 2] = 0x84;
	CHECK_OK(etsi_decode(spec_ka, sizeof(spec_ka), &d));
	CHECK_EQ_INT(d.kind, ETSI_KIND_KEEPALIVE);
	CHECK_EQ_INT(d.seq, 7);
	lacre_dbuf_init(&out, 4096);
	CHECK_OK(ingest_keepalive_response(&d, &out));
	CHECK_EQ_INT(out.len, sizeof(want));
	CHECK_MEM(out.p, want, sizeof(want));
	lacre_dbuf_free(&out);
}

/* A non-keep-alive is refused and the buffer left as it was. */
static void test_refuses_other_pdus(void)
{
	struct etsi_pdu d;
	struct lacre_dbuf out;
	uint8_t resp[sizeof(spec_ka)];

	memcpy(resp, spec_ka, sizeof(resp));
	resp[sizeof(resp) - 2] = 0x84;
	CHECK_OK(etsi_decode(resp, sizeof(resp), &d));
	CHECK_EQ_INT(d.kind, ETSI_KIND_KEEPALIVE_RESPONSE);
	lacre_dbuf_init(&out, 4096);
	lacre_dbuf_add(&out, "x", 1);
	CHECK_EQ_INT(ingest_keepalive_response(&d, &out), LACRE_E_INVALID);
	CHECK_EQ_INT(out.len, 1);
	lacre_dbuf_free(&out);
}

/* Check resp answers ka: decodes as a keep-alive response, same seq, the
 * header TLV identical, payload A2 04 A2 02 84 00. */
static int answers(const uint8_t *ka, size_t kn, const uint8_t *resp, size_t rn)
{
	struct etsi_pdu a, b;

	if (etsi_decode(ka, kn, &a) != LACRE_OK || etsi_decode(resp, rn, &b) != LACRE_OK)
		return 0;
	if (b.kind != ETSI_KIND_KEEPALIVE_RESPONSE || a.seq != b.seq)
		return 0;
	if (a.header_tlv.len != b.header_tlv.len ||
	    memcmp(a.header_tlv.p, b.header_tlv.p, a.header_tlv.len) != 0)
		return 0;
	return rn >= 6 && memcmp(resp + rn - 6, "\xa2\x04\xa2\x02\x84\x00", 6) == 0;
}

/* Every keep-alive in the OpenLI vectors gets a matching response. */
static void test_openli_vectors(void)
{
	char path[4096];
	static const char *files[] = { "hi2.bin", "hi3.bin" };
	int seen = 0;

	for (int fi = 0; fi < 2; fi++) {
		uint8_t *p;
		size_t n, off = 0, sz;
		snprintf(path, sizeof(path), "openli-a/raw/%s", files[fi]);
		p = t_vector(path, &n);
		if (!p)
			return; /* failed by t_vector, naming the missing vectors */
		while (off < (size_t)n) {
			struct etsi_pdu d;
			CHECK_OK(etsi_pdu_size(p + off, (size_t)n - off, 1u << 24, &sz));
			CHECK_OK(etsi_decode(p + off, sz, &d));
			if (d.kind == ETSI_KIND_KEEPALIVE) {
				struct lacre_dbuf out;
				lacre_dbuf_init(&out, 4096);
				CHECK_OK(ingest_keepalive_response(&d, &out));
				CHECK(answers(p + off, sz, out.p, out.len));
				/* same length as the keep-alive: only 83 -> 84 changes
				 * when the outer length form is minimal (OpenLI's is) */
				CHECK_EQ_INT(out.len, sz);
				CHECK_MEM(out.p, p + off, sz - 2);
				CHECK_EQ_INT(out.p[sz - 2], 0x84);
				lacre_dbuf_free(&out);
				seen++;
			}
			off += sz;
		}
		free(p);
	}
	CHECK_EQ_INT(seen, 10);
}

/* Long-form, indefinite and OpenLI lengths; sequence numbers up to
 * 2^32 - 1 (5 octets); the result equals the encoder's own echo. */
static void test_length_forms_and_big_seq(void)
{
	static const int styles[] = { BER_ENC_LEN_MINIMAL, BER_ENC_LEN_OPENLI, BER_ENC_LEN_LONG, BER_ENC_LEN_INDEFINITE };
	static const uint64_t seqs[] = { 0, 127, 128, 256, 0x7fffffffu, 0x80000000u, 0xffffffffu };
	for (size_t si = 0; si < 4; si++)
		for (size_t qi = 0; qi < sizeof(seqs) / sizeof(seqs[0]); qi++) {
			struct etsi_enc_header h;
			struct lacre_dbuf ka, out, ref;
			struct etsi_pdu d;
			etsi_enc_header_defaults(&h);
			h.len_style = styles[si];
			h.liid = (const uint8_t *)"openli-1.1.20";
			h.liid_len = 13;
			h.operator_id = "ACME";
			h.network_element_id = "med-1";
			h.has_cin = 1;
			h.cin = 0;
			h.seq = seqs[qi];
			lacre_dbuf_init(&ka, 4096);
			lacre_dbuf_init(&out, 4096);
			lacre_dbuf_init(&ref, 4096);
			CHECK_OK(etsi_enc_keepalive(&ka, &h));
			CHECK_OK(etsi_decode(ka.p, ka.len, &d));
			CHECK_EQ_INT(d.kind, ETSI_KIND_KEEPALIVE);
			CHECK_EQ_INT(d.seq, seqs[qi]);
			CHECK_OK(ingest_keepalive_response(&d, &out));
			CHECK(answers(ka.p, ka.len, out.p, out.len));
			CHECK_OK(etsi_enc_keepalive_response_echo(&ref, BER_ENC_LEN_MINIMAL, d.header_tlv.p, d.header_tlv.len));
			CHECK_EQ_INT(out.len, ref.len);
			CHECK_MEM(out.p, ref.p, ref.len);
			lacre_dbuf_free(&ka);
			lacre_dbuf_free(&out);
			lacre_dbuf_free(&ref);
		}
}

int main(void)
{
	RUN(test_spec_worked_example);
	RUN(test_refuses_other_pdus);
	RUN(test_openli_vectors);
	RUN(test_length_forms_and_big_seq);
	return t_done();
}

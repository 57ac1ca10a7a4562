/*
 * test_etsi_enc.c - PS-PDU builders: the keep-alive of spec §6.4 byte for
 * byte, re-encodings of real OpenLI 1.1.20 PDUs from
 * ../shared/vectors/openli-a/raw (keep-alive, iPIRI, iPMMIRI, iPMMCC,
 * iPCC), integrity-check layout of spec §8.1, and round trips through
 * etsi_decode().
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "lacre/ber_enc.h"
#include "lacre/err.h"
#include "lacre/etsi.h"
#include "lacre/etsi_enc.h"


static const uint8_t ka_spec[] = {
	0x30, 0x4F, 0xA1, 0x47, 0x80, 0x07, 0x04, 0x00, 0x02, 0x02, 0x05, 0x01, 0x11, 0x81, 0x0D, 0x6F,
	0x70, 0x65, 0x6E, 0x6C, 0x69, 0x2D, 0x31, 0x2E, 0x31, 0x2E, 0x32, 0x30, 0x82, 0x02, 0x45, 0x53,
	0xA3, 0x16, 0xA0, 0x0D, 0x80, 0x04, 0x41, 0x43, 0x4D, 0x45, 0x81, 0x05, 0x6D, 0x65, 0x64, 0x2D,
	0x31, 0x81, 0x01, 0x00, 0x82, 0x02, 0x45, 0x53, 0x84, 0x01, 0x07, 0xA7, 0x0B, 0x80, 0x04, 0x69,
	0x55, 0xB9, 0x00, 0x81, 0x03, 0x03, 0xD0, 0x90, 0x88, 0x01, 0x01, 0xA2, 0x04, 0xA2, 0x02, 0x83,
	0x00
};

/* The header of the §6.4 example. */
static void spec_header(struct etsi_enc_header *h)
{
	etsi_enc_header_defaults(h);
	h->liid = (const uint8_t *)"openli-1.1.20";
	h->liid_len = 13;
	h->auth_country = "ES";
	h->delivery_country = "ES";
	h->operator_id = "ACME";
	h->network_element_id = "med-1";
	h->has_cin = 1;
	h->cin = 0;
	h->seq = 7;
	h->time_us = 1767225600250000LL;
}

/* Read a whole file of the shared vectors into a malloc'd buffer; NULL (the
 * test already failed, naming the missing file) when ../shared is absent. */
static uint8_t *slurp(const char *rel, size_t *n)
{
	char path[256];

	snprintf(path, sizeof(path), "openli-a/%s", rel);
	return t_vector(path, n);
}

/* Spec §6.4: keep-alive number 7, and the response differing in one octet. */
static void test_keepalive_spec(void)
{
	struct etsi_enc_header h;
	struct lacre_dbuf b;
	uint8_t resp[sizeof(ka_spec)];

	spec_header(&h);
	lacre_dbuf_init(&b, 4096);
	CHECK_OK(etsi_enc_keepalive(&b, &h));
	CHECK_EQ_INT(b.len, sizeof(ka_spec));
	CHECK_MEM(b.p, ka_spec, sizeof(ka_spec));
	lacre_dbuf_reset(&b);
	memcpy(resp, ka_spec, sizeof(resp));
	resp[sizeof(resp) - 2] = 0x84;
	CHECK_OK(etsi_enc_keepalive_response(&b, &h));
	CHECK_EQ_INT(b.len, sizeof(resp));
	CHECK_MEM(b.p, resp, sizeof(resp));
	lacre_dbuf_reset(&b);
	/* echo form: header TLV = bytes 2..2+0x49 */
	CHECK_OK(etsi_enc_keepalive_response_echo(&b, BER_ENC_LEN_MINIMAL, ka_spec + 2, 0x49));
	CHECK_EQ_INT(b.len, sizeof(resp));
	CHECK_MEM(b.p, resp, sizeof(resp));
	lacre_dbuf_free(&b);
}

/* The generalized-time variant: A7 0B ... replaced by 85 13 <19 chars>. */
static void test_keepalive_generalized(void)
{
	struct etsi_enc_header h;
	struct lacre_dbuf b;
	static const char ts[] = "\x85\x13" "20260101000000.250Z";

	spec_header(&h);
	h.time_style = ETSI_ENC_TIME_GENERALIZED;
	lacre_dbuf_init(&b, 4096);
	CHECK_OK(etsi_enc_keepalive(&b, &h));
	CHECK_EQ_INT(b.len, sizeof(ka_spec) + 8);
	CHECK_EQ_INT(b.p[1], 0x4f + 8);
	CHECK_MEM(b.p + 59, ts, 21);
	lacre_dbuf_free(&b);
}

/* OpenLI's own keep-alive 1 on HI2 (hi2.bin offset 8874, 100 bytes). */
static void test_openli_keepalive(void)
{
	struct etsi_enc_header h;
	struct lacre_dbuf b;
	size_t n;
	uint8_t *raw = slurp("raw/hi2.bin", &n);

	if (!raw)
		return; /* failed by t_vector, naming the missing vectors */
	etsi_enc_header_defaults(&h);
	h.liid = (const uint8_t *)"openli-1.1.20";
	h.liid_len = 13;
	h.auth_country = h.delivery_country = "NZ";
	h.operator_id = "openlitestop";
	h.network_element_id = "med-6001";
	h.has_cin = 1;
	h.seq = 1;
	h.time_style = ETSI_ENC_TIME_GENERALIZED;
	h.time_us = 1795836731196000LL;   /* 2026-11-28T03:32:11.196Z */
	lacre_dbuf_init(&b, 4096);
	CHECK_OK(etsi_enc_keepalive(&b, &h));
	CHECK_EQ_INT(b.len, 100);
	CHECK(n >= 8874 + 100);
	CHECK_MEM(b.p, raw + 8874, 100);
	lacre_dbuf_free(&b);
	free(raw);
}

/* A data header as OpenLI's collector writes it for the vectors. */
static void vec_header(struct etsi_enc_header *h, const char *liid, uint32_t cin, uint64_t seq, int64_t t)
{
	etsi_enc_header_defaults(h);
	h->liid = (const uint8_t *)liid;
	h->liid_len = strlen(liid);
	h->auth_country = h->delivery_country = "NZ";
	h->operator_id = "openlitestop";
	h->network_element_id = "testcollector";
	h->has_cin = 1;
	h->cin = cin;
	h->seq = seq;
	h->time_style = ETSI_ENC_TIME_GENERALIZED;
	h->time_us = t;
	h->interception_point_id = "col01";
}

/* hi2.bin offset 0: the static-IP iPIRI IRI-Begin (169 bytes). */
static void test_openli_ipiri(void)
{
	struct etsi_enc_header h;
	struct etsi_enc_ipaddr ip = { 0, { 10, 3, 3, 30 }, 1, 32 };
	struct etsi_enc_ipiri ev;
	struct lacre_dbuf b;
	size_t n;
	uint8_t *raw = slurp("raw/hi2.bin", &n);

	if (!raw)
		return; /* failed by t_vector, naming the missing vectors */
	vec_header(&h, "LIIPSTA001", 7, 0, 1795836679104000LL);
	memset(&ev, 0, sizeof(ev));
	ev.access_event = 7;
	ev.username = "staticuser";
	ev.access_type = 4;
	ev.ip_version = 1;
	ev.target_ip = &ip;
	ev.pop_port = ev.start_us = ev.end_us = ev.end_reason = -1;
	ev.octets_received = ev.octets_transmitted = -1;
	lacre_dbuf_init(&b, 4096);
	CHECK_OK(etsi_enc_ipiri(&b, &h, 1, &ev));
	CHECK_EQ_INT(b.len, 169);
	CHECK_MEM(b.p, raw, 169);
	lacre_dbuf_free(&b);
	free(raw);
}

/* hi2.bin offset 169: the INVITE of call 1 as iPMMIRI (794 bytes), and
 * offset 4625: accessEnd with times, counters, POP identifier. */
static void test_openli_ipmmiri_and_end(void)
{
	struct etsi_enc_header h;
	struct etsi_enc_ipaddr src = { 0, { 192, 168, 110, 100 }, 3, 32 };
	struct etsi_enc_ipaddr dst = { 0, { 10, 1, 1, 10 }, 3, 32 };
	struct etsi_enc_ipaddr ip = { 0, { 10, 2, 2, 50 }, 2, 32 };
	struct etsi_enc_ipaddr pop = { 0, { 10, 199, 0, 1 }, 3, 32 };
	struct etsi_enc_ipiri ev;
	struct lacre_dbuf b;
	size_t n;
	uint8_t *raw = slurp("raw/hi2.bin", &n);

	if (!raw)
		return; /* failed by t_vector, naming the missing vectors */
	vec_header(&h, "LIVOIP0001", 164085088, 0, 1736942400000000LL);
	lacre_dbuf_init(&b, 4096);
	/* sIPContent is at offset 169 + 0x1a6 - 0xa9 ... found by its tag: 82 82 02 59 */
	CHECK_OK(etsi_enc_ipmmiri(&b, &h, 1, &src, &dst, raw + 0x16a, 0x259));
	CHECK_EQ_INT(b.len, 794);
	CHECK_MEM(b.p, raw + 169, 794);
	lacre_dbuf_reset(&b);
	vec_header(&h, "LIIPRAD001", 1622142037, 3, 1795836696767000LL);
	memset(&ev, 0, sizeof(ev));
	ev.access_event = 8;
	ev.username = "ipuser01";
	ev.access_type = 4;
	ev.ip_version = 1;
	ev.target_ip = &ip;
	ev.network_id = "00-11-22-33-44-55";
	ev.pop_port = 7;
	ev.start_us = 1736942410009000LL;
	ev.end_us = 1736942413000000LL;
	ev.end_reason = 1;
	ev.octets_received = 1234;
	ev.octets_transmitted = 567;
	ev.pop_identifier = "bng01";
	ev.pop_ip = &pop;
	CHECK_OK(etsi_enc_ipiri(&b, &h, 2, &ev));
	CHECK_EQ_INT(b.len, 288);
	CHECK_MEM(b.p, raw + 4625, 288);
	lacre_dbuf_free(&b);
	free(raw);
}

/* hi3.bin offsets 0 and 913 (iPCC, 189 and 265 bytes) and 4285 (iPMMCC,
 * 347 bytes). */
static void test_openli_cc(void)
{
	struct etsi_enc_header h;
	struct lacre_dbuf b;
	size_t n;
	uint8_t *raw = slurp("raw/hi3.bin", &n);

	if (!raw)
		return; /* failed by t_vector, naming the missing vectors */
	vec_header(&h, "LIIPSTA001", 7, 0, 1736942420000000LL);
	lacre_dbuf_init(&b, 4096);
	CHECK_OK(etsi_enc_ipcc(&b, &h, 0, raw + 0x80, 0x3d));
	CHECK_EQ_INT(b.len, 189);
	CHECK_MEM(b.p, raw, 189);
	lacre_dbuf_reset(&b);
	/* offset 913: an iPCC whose iPCCContents is 128 bytes long, which
	 * libwandder writes 81 80 (265 bytes) */
	vec_header(&h, "LIIPSTA001", 7, 5, 1736942420082000LL);
	lacre_dbuf_reset(&b);
	CHECK_OK(etsi_enc_ipcc(&b, &h, 0, raw + 0x41c, 0x7e));
	CHECK_EQ_INT(b.len, 265);
	CHECK_MEM(b.p, raw + 913, 265);
	lacre_dbuf_reset(&b);
	vec_header(&h, "LIVOIP0001", 164085088, 0, 1736942401040000LL);
	CHECK_OK(etsi_enc_ipmmcc(&b, &h, 1, raw + 4285 + 0x8d, 0xc8));
	CHECK_EQ_INT(b.len, 347);
	CHECK_MEM(b.p, raw + 4285, 347);
	lacre_dbuf_free(&b);
	free(raw);
}

/* Every CC and keep-alive of both OpenLI streams, re-encoded from its
 * decoded fields, equals the bytes OpenLI sent (345 + 10 PDUs). */
static void test_openli_streams_reencode(void)
{
	static const char *files[] = { "raw/hi2.bin", "raw/hi3.bin" };
	struct lacre_dbuf b;
	size_t f, same = 0;

	lacre_dbuf_init(&b, 1 << 16);
	for (f = 0; f < 2; f++) {
		size_t n, off = 0, len;
		uint8_t *raw = slurp(files[f], &n);
		if (!raw) {
			lacre_dbuf_free(&b);
			return;
		}
		while (off < n) {
			struct etsi_pdu p;
			struct etsi_enc_header h;
			char liid[32];

			CHECK_OK(etsi_pdu_size(raw + off, n - off, 1 << 20, &len));
			CHECK_OK(etsi_decode(raw + off, len, &p));
			CHECK(p.liid.len < sizeof(liid));
			memcpy(liid, p.liid.p, p.liid.len);
			liid[p.liid.len] = '\0';
			lacre_dbuf_reset(&b);
			if (p.kind == ETSI_KIND_KEEPALIVE) {
				vec_header(&h, liid, 0, p.seq, p.time_us);
				h.network_element_id = "med-6001";
				h.interception_point_id = NULL;
				CHECK_OK(etsi_enc_keepalive(&b, &h));
			} else if (p.kind == ETSI_KIND_CC) {
				vec_header(&h, liid, p.cin, p.seq, p.time_us);
				if (!strcmp(p.content, "ipcc"))
					CHECK_OK(etsi_enc_ipcc(&b, &h, p.direction, p.content_bytes.p, p.content_bytes.len));
				else
					CHECK_OK(etsi_enc_ipmmcc(&b, &h, p.direction, p.content_bytes.p, p.content_bytes.len));
			} else {
				off += len;
				continue;
			}
			CHECK_EQ_INT(b.len, len);
			CHECK_MEM(b.p, raw + off, len);
			same++;
			off += len;
		}
		free(raw);
	}
	CHECK_EQ_INT(same, 340 + 10);
	lacre_dbuf_free(&b);
}

/* Spec §8.1: hash PDU payload over PDUs 0, 1, 2 of a CC chain, SHA-256;
 * and the signature input element of §8.3 with an empty checkValue. */
static void test_integrity_layout(void)
{
	static const uint8_t head[] = { 0xa2, 0x3a, 0xa2, 0x38, 0xa0, 0x36,
	    0xa0, 0x09, 0x02, 0x01, 0x00, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02,
	    0x81, 0x01, 0x01, 0x82, 0x01, 0x02, 0x83, 0x20 };
	static const uint8_t sig_in[] = { 0xa0, 0x13, 0xa0, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02,
	    0x81, 0x01, 0x02, 0x82, 0x01, 0x01, 0x83, 0x00, 0x85, 0x01, 0x02 };
	uint32_t seqs[3] = { 0, 1, 2 };
	uint8_t digest[32];
	struct etsi_enc_integrity ic = { seqs, 3, 1, 2, digest, 32, 2, 0 };
	struct etsi_enc_header h;
	struct lacre_dbuf b;

	memset(digest, 0xab, sizeof(digest));
	spec_header(&h);
	lacre_dbuf_init(&b, 4096);
	CHECK_OK(etsi_enc_integrity(&b, &h, &ic));
	CHECK(b.len > 0x3c);
	CHECK_MEM(b.p + b.len - 0x3c, head, sizeof(head));
	CHECK_MEM(b.p + b.len - 0x3c + sizeof(head), digest, 32);
	CHECK_EQ_INT(b.p[b.len - 3], 0x84);
	lacre_dbuf_reset(&b);
	ic.seqs = seqs + 1;
	ic.n_seqs = 2;
	ic.check_type = 2;
	ic.data_type = 1;
	ic.value = NULL;
	ic.value_len = 0;
	ic.hash_alg = 0;
	ic.sig_alg = 2;
	CHECK_OK(etsi_enc_integrity_element(&b, BER_ENC_LEN_MINIMAL, &ic));
	CHECK_EQ_INT(b.len, sizeof(sig_in));
	CHECK_MEM(b.p, sig_in, sizeof(sig_in));
	lacre_dbuf_free(&b);
}

/* Every PSHeader field, both time styles: the optional [6], [9] and [10]
 * elements appear in tag order, and the decoder still reads the PDU. */
static void test_all_header_fields(void)
{
	static const uint8_t ext[] = { 0x01, 0x02, 0x03 };
	static const uint8_t nf[] = "nf-1";
	struct etsi_enc_header h;
	struct lacre_dbuf b;
	struct etsi_pdu p;
	int ts;

	lacre_dbuf_init(&b, 4096);
	for (ts = 0; ts <= 2; ts++) {
		spec_header(&h);
		h.time_style = ts;
		h.interception_point_id = "ip-1";
		h.ext_interception_point_id = ext;
		h.ext_interception_point_id_len = sizeof(ext);
		h.network_function_id = nf;
		h.network_function_id_len = 4;
		lacre_dbuf_reset(&b);
		CHECK_OK(etsi_enc_keepalive(&b, &h));
		CHECK_OK(etsi_decode(b.p, b.len, &p));
		CHECK_EQ_INT(p.kind, ETSI_KIND_KEEPALIVE);
		CHECK_EQ_INT(p.has_time, ts);
		CHECK_EQ_INT(p.seq, 7);
		CHECK_EQ_INT(p.interception_point_id.len, 4);
		/* ... 86 04 ip-1 [A7 ...] 88 01 01 89 03 01 02 03 8A 04 nf-1 A2 04 A2 02 83 00 */
		CHECK(b.len > 20);
		CHECK_MEM(b.p + b.len - 20, "\x88\x01\x01\x89\x03\x01\x02\x03\x8a\x04nf-1", 14);
	}
	h.network_function_id_len = 0;
	CHECK_EQ_INT(etsi_enc_keepalive(&b, &h), LACRE_E_INVALID);
	lacre_dbuf_free(&b);
}

/* Invalid input leaves the buffer as it was. */
static void test_failure_leaves_buffer(void)
{
	struct etsi_enc_header h;
	struct lacre_dbuf b;
	uint8_t pkt[600];

	spec_header(&h);
	memset(pkt, 0, sizeof(pkt));
	lacre_dbuf_init(&b, 300);
	CHECK_OK(lacre_dbuf_add(&b, "xy", 2));
	CHECK_EQ_INT(etsi_enc_ipcc(&b, &h, 0, pkt, sizeof(pkt)), LACRE_E_TOO_LARGE);
	CHECK_EQ_INT(b.len, 2);
	h.seq = 1ull << 32;
	CHECK_EQ_INT(etsi_enc_keepalive(&b, &h), LACRE_E_INVALID);
	h.seq = 0;
	h.liid_len = 26;
	CHECK_EQ_INT(etsi_enc_keepalive(&b, &h), LACRE_E_INVALID);
	CHECK_EQ_INT(b.len, 2);
	lacre_dbuf_free(&b);
}

/* Encode -> etsi_decode -> the same fields, in every length style and
 * both time styles, for each PDU kind. */
static void test_round_trip(void)
{
	static const int styles[] = { BER_ENC_LEN_MINIMAL, BER_ENC_LEN_OPENLI, BER_ENC_LEN_LONG,
	    BER_ENC_LEN_INDEFINITE };
	static const uint8_t sip[] = "BYE sip:bob@example.net SIP/2.0\r\nCall-ID: x@y\r\n\r\n";
	struct etsi_enc_ipaddr a = { 0, { 10, 0, 0, 1 }, 3, 32 };
	uint8_t rtp[200];
	struct etsi_enc_header h;
	struct lacre_dbuf b;
	struct etsi_pdu p;
	size_t s;
	int ts;

	memset(rtp, 0x55, sizeof(rtp));
	lacre_dbuf_init(&b, 1 << 16);
	for (s = 0; s < 4; s++) {
		for (ts = 1; ts <= 2; ts++) {
			spec_header(&h);
			h.len_style = styles[s];
			h.time_style = ts;
			h.liid = (const uint8_t *)"LIID42";
			h.liid_len = 6;
			h.has_cin = 1;
			h.cin = 4000000000u;
			h.seq = 4294967295u;
			h.time_us = 1767225600250000LL;
			lacre_dbuf_reset(&b);
			CHECK_OK(etsi_enc_ipmmiri(&b, &h, 2, &a, &a, sip, sizeof(sip) - 1));
			CHECK_OK(etsi_decode(b.p, b.len, &p));
			CHECK_EQ_INT(p.kind, ETSI_KIND_IRI);
			CHECK_EQ_INT(p.iri_type, ETSI_IRI_END);
			CHECK_STR(p.content, "ipmmiri");
			CHECK_EQ_INT(p.seq, 4294967295u);
			CHECK_EQ_INT(p.cin, 4000000000u);
			CHECK_EQ_INT(p.has_time, ts);
			CHECK_EQ_INT(p.time_us, 1767225600250000LL);
			CHECK_EQ_INT(p.liid.len, 6);
			CHECK_MEM(p.liid.p, "LIID42", 6);
			CHECK_EQ_INT(p.content_bytes.len, sizeof(sip) - 1);
			lacre_dbuf_reset(&b);
			CHECK_OK(etsi_enc_ipmmcc(&b, &h, 1, rtp, sizeof(rtp)));
			CHECK_OK(etsi_decode(b.p, b.len, &p));
			CHECK_EQ_INT(p.kind, ETSI_KIND_CC);
			CHECK_EQ_INT(p.direction, 1);
			CHECK_STR(p.content, "ipmmcc");
			CHECK_EQ_INT(p.content_bytes.len, sizeof(rtp));
			lacre_dbuf_reset(&b);
			CHECK_OK(etsi_enc_ipcc(&b, &h, 0, rtp, 60));
			CHECK_OK(etsi_decode(b.p, b.len, &p));
			CHECK_EQ_INT(p.kind, ETSI_KIND_CC);
			CHECK_STR(p.content, "ipcc");
			lacre_dbuf_reset(&b);
			CHECK_OK(etsi_enc_keepalive(&b, &h));
			CHECK_OK(etsi_decode(b.p, b.len, &p));
			CHECK_EQ_INT(p.kind, ETSI_KIND_KEEPALIVE);
			lacre_dbuf_reset(&b);
			CHECK_OK(etsi_enc_keepalive_response(&b, &h));
			CHECK_OK(etsi_decode(b.p, b.len, &p));
			CHECK_EQ_INT(p.kind, ETSI_KIND_KEEPALIVE_RESPONSE);
			lacre_dbuf_reset(&b);
			CHECK_OK(etsi_enc_cin_reset(&b, &h));
			CHECK_OK(etsi_decode(b.p, b.len, &p));
			CHECK_EQ_INT(p.tri, ETSI_TRI_CIN_RESET);
		}
	}
	lacre_dbuf_free(&b);
}

int main(void)
{
	RUN(test_keepalive_spec);
	RUN(test_keepalive_generalized);
	RUN(test_openli_keepalive);
	RUN(test_openli_ipiri);
	RUN(test_openli_ipmmiri_and_end);
	RUN(test_openli_cc);
	RUN(test_openli_streams_reencode);
	RUN(test_integrity_layout);
	RUN(test_all_header_fields);
	RUN(test_failure_leaves_buffer);
	RUN(test_round_trip);
	return t_done();
}

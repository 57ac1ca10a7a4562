/*
 * test_ber_enc.c - known-answer tests of the BER writer: integers (spec
 * §3.4), OIDs and RELATIVE-OIDs, high tag numbers, the four length styles,
 * times, sticky errors and the size cap.
 */
#include <stdint.h>
#include <string.h>

#include "harness.h"
#include "lacre/ber_enc.h"
#include "lacre/err.h"

/* Encode into a fresh buffer with fn and compare with exp[0..n). */
#define EXPECT(buf, exp) do { CHECK_EQ_INT((buf).len, sizeof(exp)); CHECK_MEM((buf).p, exp, sizeof(exp)); } while (0)

/* sequenceNumber [4] encodings of spec §3.4. */
static void test_seq_numbers(void)
{
	static const struct { uint64_t v; uint8_t exp[8]; size_t n; } kat[] = {
		{ 0, { 0x84, 0x01, 0x00 }, 3 },
		{ 127, { 0x84, 0x01, 0x7f }, 3 },
		{ 128, { 0x84, 0x02, 0x00, 0x80 }, 4 },
		{ 256, { 0x84, 0x02, 0x01, 0x00 }, 4 },
		{ 2147483647u, { 0x84, 0x04, 0x7f, 0xff, 0xff, 0xff }, 6 },
		{ 2147483648u, { 0x84, 0x05, 0x00, 0x80, 0x00, 0x00, 0x00 }, 7 },
		{ 4294967295u, { 0x84, 0x05, 0x00, 0xff, 0xff, 0xff, 0xff }, 7 },
	};
	size_t i;

	for (i = 0; i < sizeof(kat) / sizeof(kat[0]); i++) {
		struct lacre_dbuf b;
		struct ber_enc e;
		lacre_dbuf_init(&b, 64);
		ber_enc_init(&e, &b, BER_ENC_LEN_MINIMAL);
		ber_enc_uint(&e, BER_CONTEXT, 4, kat[i].v);
		CHECK_OK(ber_enc_finish(&e));
		CHECK_EQ_INT(b.len, kat[i].n);
		CHECK_MEM(b.p, kat[i].exp, kat[i].n);
		lacre_dbuf_free(&b);
	}
}

/* 2^64-1 needs 9 octets; signed integers are minimal. */
static void test_wide_and_signed(void)
{
	static const uint8_t u64[] = { 0x02, 0x09, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t neg[] = { 0x02, 0x01, 0xff, 0x02, 0x02, 0xff, 0x7f, 0x02, 0x01, 0x7f, 0x02, 0x02, 0x00, 0x80 };
	struct lacre_dbuf b;
	struct ber_enc e;

	lacre_dbuf_init(&b, 64);
	ber_enc_init(&e, &b, BER_ENC_LEN_MINIMAL);
	ber_enc_uint(&e, BER_UNIVERSAL, BER_TAG_INTEGER, UINT64_MAX);
	CHECK_OK(ber_enc_finish(&e));
	EXPECT(b, u64);
	lacre_dbuf_reset(&b);
	ber_enc_init(&e, &b, BER_ENC_LEN_MINIMAL);
	ber_enc_int(&e, BER_UNIVERSAL, BER_TAG_INTEGER, -1);
	ber_enc_int(&e, BER_UNIVERSAL, BER_TAG_INTEGER, -129);
	ber_enc_int(&e, BER_UNIVERSAL, BER_TAG_INTEGER, 127);
	ber_enc_int(&e, BER_UNIVERSAL, BER_TAG_INTEGER, 128);
	CHECK_OK(ber_enc_finish(&e));
	EXPECT(b, neg);
	lacre_dbuf_free(&b);
}

/* OIDs of spec §3.4 and §12. */
static void test_oids(void)
{
	static const uint8_t v43[] = { 0x80, 0x07, 0x04, 0x00, 0x02, 0x02, 0x05, 0x01, 0x2b };
	static const uint8_t v17[] = { 0x80, 0x07, 0x04, 0x00, 0x02, 0x02, 0x05, 0x01, 0x11 };
	static const uint8_t rel[] = { 0x80, 0x04, 0x05, 0x03, 0x0a, 0x02 };
	static const uint8_t big[] = { 0x06, 0x03, 0x88, 0x37, 0x03 };  /* 2.999.3 */
	static const uint32_t arcs[] = { 2, 999, 3 };
	struct lacre_dbuf b;
	struct ber_enc e;

	lacre_dbuf_init(&b, 64);
	ber_enc_init(&e, &b, BER_ENC_LEN_MINIMAL);
	ber_enc_oid_text(&e, BER_CONTEXT, 0, "0.4.0.2.2.5.1.43", 0);
	CHECK_OK(ber_enc_finish(&e));
	EXPECT(b, v43);
	lacre_dbuf_reset(&b);
	ber_enc_init(&e, &b, BER_ENC_LEN_MINIMAL);
	ber_enc_oid_text(&e, BER_CONTEXT, 0, "0.4.0.2.2.5.1.17", 0);
	CHECK_OK(ber_enc_finish(&e));
	EXPECT(b, v17);
	lacre_dbuf_reset(&b);
	ber_enc_init(&e, &b, BER_ENC_LEN_MINIMAL);
	ber_enc_oid_text(&e, BER_CONTEXT, 0, "5.3.10.2", 1);
	CHECK_OK(ber_enc_finish(&e));
	EXPECT(b, rel);
	lacre_dbuf_reset(&b);
	ber_enc_init(&e, &b, BER_ENC_LEN_MINIMAL);
	ber_enc_oid(&e, BER_UNIVERSAL, BER_TAG_OID, arcs, 3);
	CHECK_OK(ber_enc_finish(&e));
	EXPECT(b, big);
	lacre_dbuf_reset(&b);
	ber_enc_init(&e, &b, BER_ENC_LEN_MINIMAL);
	ber_enc_oid_text(&e, BER_CONTEXT, 0, "0.40", 0);
	CHECK_EQ_INT(ber_enc_finish(&e), LACRE_E_INVALID);
	ber_enc_init(&e, &b, BER_ENC_LEN_MINIMAL);
	ber_enc_oid_text(&e, BER_CONTEXT, 0, "1..2", 0);
	CHECK_EQ_INT(ber_enc_finish(&e), LACRE_E_INVALID);
	lacre_dbuf_free(&b);
}

/* Tag numbers 30, 31, 127, 128 and 16383 in both forms. */
static void test_high_tags(void)
{
	static const uint8_t exp[] = {
		0x9e, 0x00,                   /* [30] primitive */
		0x9f, 0x1f, 0x00,             /* [31] */
		0xbf, 0x7f, 0x00,             /* [127] constructed */
		0x9f, 0x81, 0x00, 0x00,       /* [128] */
		0x5f, 0xff, 0x7f, 0x00,       /* APPLICATION 16383 */
	};
	struct lacre_dbuf b;
	struct ber_enc e;

	lacre_dbuf_init(&b, 64);
	ber_enc_init(&e, &b, BER_ENC_LEN_MINIMAL);
	ber_enc_null(&e, BER_CONTEXT, 30);
	ber_enc_null(&e, BER_CONTEXT, 31);
	ber_enc_open(&e, BER_CONTEXT, 127);
	ber_enc_close(&e);
	ber_enc_null(&e, BER_CONTEXT, 128);
	ber_enc_null(&e, BER_APPLICATION, 16383);
	CHECK_OK(ber_enc_finish(&e));
	EXPECT(b, exp);
	lacre_dbuf_free(&b);
}

/* Build SEQUENCE { [0] <n bytes> } in a style; return the header octets. */
static int build_nested(int style, size_t n, struct lacre_dbuf *b)
{
	uint8_t data[70000];
	struct ber_enc e;

	memset(data, 0x5a, sizeof(data));
	ber_enc_init(&e, b, style);
	ber_enc_seq(&e);
	ber_enc_open(&e, BER_CONTEXT, 1);
	ber_enc_prim(&e, BER_CONTEXT, 0, data, n);
	ber_enc_close(&e);
	ber_enc_close(&e);
	return ber_enc_finish(&e);
}

/* Length forms of the four styles around the 127/128/255/256/65535 edges. */
static void test_length_styles(void)
{
	struct lacre_dbuf b;

	lacre_dbuf_init(&b, 1 << 20);
	/* minimal, 125 bytes: 30 81 81 A1 7F 80 7D */
	CHECK_OK(build_nested(BER_ENC_LEN_MINIMAL, 125, &b));
	{ static const uint8_t h[] = { 0x30, 0x81, 0x81, 0xa1, 0x7f, 0x80, 0x7d };
	  CHECK_EQ_INT(b.len, 7 + 125); CHECK_MEM(b.p, h, sizeof(h)); }
	lacre_dbuf_reset(&b);
	/* OpenLI, same: 30 82 00 82 A1 7F 80 7D */
	CHECK_OK(build_nested(BER_ENC_LEN_OPENLI, 125, &b));
	{ static const uint8_t h[] = { 0x30, 0x82, 0x00, 0x81, 0xa1, 0x7f, 0x80, 0x7d };
	  CHECK_EQ_INT(b.len, 8 + 125); CHECK_MEM(b.p, h, sizeof(h)); }
	lacre_dbuf_reset(&b);
	/* OpenLI (libwandder) edges: 128 -> 81 80, 32768 -> 82 80 00,
	 * 32769 -> 83 00 80 01, 65536 -> 83 01 00 00 */
	{
		static const struct { size_t len; uint8_t h[5]; size_t n; } kat[] = {
			{ 127, { 0x7f }, 1 }, { 128, { 0x81, 0x80 }, 2 }, { 129, { 0x82, 0x00, 0x81 }, 3 },
			{ 255, { 0x82, 0x00, 0xff }, 3 }, { 256, { 0x82, 0x01, 0x00 }, 3 },
			{ 32768, { 0x82, 0x80, 0x00 }, 3 }, { 32769, { 0x83, 0x00, 0x80, 0x01 }, 4 },
			{ 65535, { 0x83, 0x00, 0xff, 0xff }, 4 }, { 65536, { 0x83, 0x01, 0x00, 0x00 }, 4 },
		};
		size_t i;
		for (i = 0; i < sizeof(kat) / sizeof(kat[0]); i++) {
			struct ber_enc e;
			lacre_dbuf_reset(&b);
			ber_enc_init(&e, &b, BER_ENC_LEN_OPENLI);
			CHECK_OK(ber_enc_len(&e, kat[i].len));
			CHECK_EQ_INT(b.len, kat[i].n);
			CHECK_MEM(b.p, kat[i].h, kat[i].n);
		}
	}
	lacre_dbuf_reset(&b);
	/* long: every length 84 xx xx xx xx */
	CHECK_OK(build_nested(BER_ENC_LEN_LONG, 3, &b));
	{ static const uint8_t h[] = { 0x30, 0x84, 0, 0, 0, 0x0f, 0xa1, 0x84, 0, 0, 0, 0x09,
	      0x80, 0x84, 0, 0, 0, 0x03, 0x5a, 0x5a, 0x5a };
	  CHECK_EQ_INT(b.len, sizeof(h)); CHECK_MEM(b.p, h, sizeof(h)); }
	lacre_dbuf_reset(&b);
	/* indefinite: 30 80 A1 80 80 03 ... 00 00 00 00 */
	CHECK_OK(build_nested(BER_ENC_LEN_INDEFINITE, 3, &b));
	{ static const uint8_t h[] = { 0x30, 0x80, 0xa1, 0x80, 0x80, 0x03, 0x5a, 0x5a, 0x5a, 0, 0, 0, 0 };
	  CHECK_EQ_INT(b.len, sizeof(h)); CHECK_MEM(b.p, h, sizeof(h)); }
	lacre_dbuf_reset(&b);
	/* minimal, 65535 bytes inside: 80 82 FF FF; A1 83 01 00 03; 30 83 01 00 08 */
	CHECK_OK(build_nested(BER_ENC_LEN_MINIMAL, 65535, &b));
	{ static const uint8_t h[] = { 0x30, 0x83, 0x01, 0x00, 0x08, 0xa1, 0x83, 0x01, 0x00, 0x03, 0x80, 0x82, 0xff, 0xff };
	  CHECK_EQ_INT(b.len, sizeof(h) + 65535); CHECK_MEM(b.p, h, sizeof(h)); }
	lacre_dbuf_free(&b);
}

/* GeneralizedTime and UTCTime texts. */
static void test_times(void)
{
	static const uint8_t g[] = { 0x85, 0x13, '2', '0', '2', '6', '0', '1', '0', '1', '0', '0', '0', '0',
	    '0', '0', '.', '2', '5', '0', 'Z' };
	static const uint8_t u[] = { 0x81, 0x0d, '2', '6', '0', '1', '0', '1', '0', '0', '0', '0', '0', '0', 'Z' };
	char t[32];
	struct lacre_dbuf b;
	struct ber_enc e;

	lacre_dbuf_init(&b, 64);
	ber_enc_init(&e, &b, BER_ENC_LEN_MINIMAL);
	ber_enc_gentime(&e, BER_CONTEXT, 5, 1767225600250000LL, 3);
	CHECK_OK(ber_enc_finish(&e));
	EXPECT(b, g);
	lacre_dbuf_reset(&b);
	ber_enc_init(&e, &b, BER_ENC_LEN_MINIMAL);
	ber_enc_utctime(&e, BER_CONTEXT, 1, 1767225600250000LL);
	CHECK_OK(ber_enc_finish(&e));
	EXPECT(b, u);
	CHECK_EQ_INT(ber_enc_gentime_text(1767225600123456LL, 6, t, sizeof(t)), 22);
	CHECK_STR(t, "20260101000000.123456Z");
	CHECK_EQ_INT(ber_enc_gentime_text(0, 0, t, sizeof(t)), 15);
	CHECK_STR(t, "19700101000000Z");
	CHECK_EQ_INT(ber_enc_gentime_text(-1, 3, t, sizeof(t)), LACRE_E_INVALID);
	lacre_dbuf_free(&b);
}

/* Errors are sticky; the cap is honoured; unbalanced close is refused. */
static void test_errors(void)
{
	uint8_t big[100];
	struct lacre_dbuf b;
	struct ber_enc e;
	int i;

	memset(big, 1, sizeof(big));
	lacre_dbuf_init(&b, 50);
	ber_enc_init(&e, &b, BER_ENC_LEN_MINIMAL);
	ber_enc_seq(&e);
	CHECK_EQ_INT(ber_enc_prim(&e, BER_CONTEXT, 0, big, sizeof(big)), LACRE_E_TOO_LARGE);
	CHECK_EQ_INT(ber_enc_null(&e, BER_CONTEXT, 1), LACRE_E_TOO_LARGE);
	CHECK_EQ_INT(ber_enc_close(&e), LACRE_E_TOO_LARGE);
	CHECK_EQ_INT(ber_enc_finish(&e), LACRE_E_TOO_LARGE);
	lacre_dbuf_reset(&b);
	ber_enc_init(&e, &b, BER_ENC_LEN_MINIMAL);
	CHECK_EQ_INT(ber_enc_close(&e), LACRE_E_STATE);
	ber_enc_init(&e, &b, BER_ENC_LEN_MINIMAL);
	ber_enc_seq(&e);
	CHECK_EQ_INT(ber_enc_finish(&e), LACRE_E_STATE);
	lacre_dbuf_reset(&b);
	lacre_dbuf_free(&b);
	lacre_dbuf_init(&b, 4096);
	ber_enc_init(&e, &b, BER_ENC_LEN_MINIMAL);
	for (i = 0; i < BER_ENC_MAX_DEPTH; i++)
		CHECK_OK(ber_enc_seq(&e));
	CHECK_EQ_INT(ber_enc_seq(&e), LACRE_E_DEPTH);
	lacre_dbuf_free(&b);
}

int main(void)
{
	RUN(test_seq_numbers);
	RUN(test_wide_and_signed);
	RUN(test_oids);
	RUN(test_high_tags);
	RUN(test_length_styles);
	RUN(test_times);
	RUN(test_errors);
	return t_done();
}

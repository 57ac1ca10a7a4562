/*
 * test_ber.c - the BER reader (lib/wire/ber.c) on hand-made encodings:
 * every length form (short, long 1..4 octets, non-minimal, indefinite,
 * reserved FF, too many octets), high tag numbers and the tag cap, nesting
 * depth, truncation at every byte, trailing bytes, end-of-contents rules,
 * and the primitive decoders (9-octet and negative integers, times, OIDs).
 */
#include <stdint.h>
#include <string.h>

#include "harness.h"
#include "lacre/ber.h"
#include "lacre/buf.h"
#include "lacre/err.h"

/* Read one TLV from d[0..n) with the default depth. */
static int next1(const uint8_t *d, size_t n, struct ber_tlv *t, size_t *used)
{
	struct lacre_rbuf b;
	int r;

	lacre_rbuf_init(&b, d, n);
	r = ber_next(&b, t, BER_MAX_DEPTH);
	*used = b.off;
	return r;
}

static void test_short_and_long_lengths(void)
{
	static const uint8_t s[] = { 0x04, 0x03, 'a', 'b', 'c' };
	static const uint8_t l1[] = { 0x04, 0x81, 0x03, 'a', 'b', 'c' };
	static const uint8_t l2[] = { 0x04, 0x82, 0x00, 0x03, 'a', 'b', 'c' };      /* non-minimal */
	static const uint8_t l4[] = { 0x04, 0x84, 0x00, 0x00, 0x00, 0x03, 'a', 'b', 'c' };
	static const uint8_t l5[] = { 0x04, 0x85, 0x00, 0x00, 0x00, 0x00, 0x03, 'a', 'b', 'c' };
	static const uint8_t ff[] = { 0x04, 0xff, 'a' };
	struct ber_tlv t;
	size_t used;

	CHECK_OK(next1(s, sizeof(s), &t, &used));
	CHECK_EQ_INT(t.len, 3);
	CHECK_EQ_INT(t.hdr_len, 2);
	CHECK_EQ_INT(t.total, 5);
	CHECK_EQ_INT(t.tag, 4);
	CHECK_EQ_INT(t.cls, BER_UNIVERSAL);
	CHECK_EQ_INT(t.constructed, 0);
	CHECK_MEM(t.value, "abc", 3);
	CHECK_OK(next1(l1, sizeof(l1), &t, &used));
	CHECK_EQ_INT(t.len, 3);
	CHECK_EQ_INT(t.hdr_len, 3);
	CHECK_OK(next1(l2, sizeof(l2), &t, &used));
	CHECK_EQ_INT(t.len, 3);
	CHECK_EQ_INT(t.hdr_len, 4);
	CHECK_EQ_INT(used, sizeof(l2));
	CHECK_OK(next1(l4, sizeof(l4), &t, &used));
	CHECK_EQ_INT(t.len, 3);
	CHECK_EQ_INT(t.total, sizeof(l4));
	CHECK_EQ_INT(next1(l5, sizeof(l5), &t, &used), LACRE_E_TOO_LARGE);
	CHECK_EQ_INT(used, 0);
	CHECK_EQ_INT(next1(ff, sizeof(ff), &t, &used), LACRE_E_MALFORMED);
}

static void test_length_past_end(void)
{
	static const uint8_t d[] = { 0x04, 0x84, 0xff, 0xff, 0xff, 0xff, 'a' };
	static const uint8_t e[] = { 0x30, 0x05, 0x04, 0x01, 'a' };
	struct ber_tlv t;
	size_t used, sz;

	CHECK_EQ_INT(next1(d, sizeof(d), &t, &used), LACRE_E_INCOMPLETE);
	CHECK_EQ_INT(used, 0);
	CHECK_EQ_INT(next1(e, sizeof(e), &t, &used), LACRE_E_INCOMPLETE);
	/* framing knows the size from the header alone, and caps it */
	CHECK_OK(ber_element_size(d, sizeof(d), SIZE_MAX, &sz));
	CHECK_EQ_INT(sz, 6 + 0xffffffffull);
	CHECK_EQ_INT(ber_element_size(d, sizeof(d), 1u << 20, &sz), LACRE_E_TOO_LARGE);
	CHECK_EQ_INT(ber_element_size(d, 1, SIZE_MAX, &sz), LACRE_E_INCOMPLETE);
	CHECK_EQ_INT(ber_element_size(d, 0, SIZE_MAX, &sz), LACRE_E_INCOMPLETE);
}

static void test_indefinite(void)
{
	/* 30 80 { 02 01 05, A0 80 { 04 01 'x' } 00 00 } 00 00 */
	static const uint8_t d[] = { 0x30, 0x80, 0x02, 0x01, 0x05, 0xa0, 0x80, 0x04, 0x01, 'x',
				     0x00, 0x00, 0x00, 0x00, 0xee };
	static const uint8_t prim[] = { 0x04, 0x80, 'a', 0x00, 0x00 };
	static const uint8_t noeoc[] = { 0x30, 0x80, 0x02, 0x01, 0x05 };
	static const uint8_t badeoc[] = { 0x30, 0x80, 0x02, 0x01, 0x05, 0x00, 0x81, 0x00 };
	static const uint8_t eoc1[] = { 0x30, 0x80, 0x02, 0x01, 0x05, 0x00, 0x01, 0x00 };
	struct lacre_rbuf b, c;
	struct ber_tlv t, u;
	size_t used, sz;

	CHECK_OK(next1(d, sizeof(d), &t, &used));
	CHECK_EQ_INT(t.indefinite, 1);
	CHECK_EQ_INT(t.len, 10);          /* contents without the 00 00 */
	CHECK_EQ_INT(t.total, 14);
	CHECK_EQ_INT(used, 14);
	CHECK_EQ_INT(t.hdr_len, 2);
	CHECK_OK(ber_element_size(d, sizeof(d), SIZE_MAX, &sz));
	CHECK_EQ_INT(sz, 14);
	/* the children parse inside value/len */
	lacre_rbuf_init(&c, t.value, t.len);
	CHECK_OK(ber_next(&c, &u, BER_MAX_DEPTH));
	CHECK_EQ_INT(u.tag, 2);
	CHECK_OK(ber_next(&c, &u, BER_MAX_DEPTH));
	CHECK_EQ_INT(u.tag, 0);
	CHECK_EQ_INT(u.cls, BER_CONTEXT);
	CHECK_EQ_INT(u.indefinite, 1);
	CHECK_EQ_INT(u.len, 3);
	CHECK_EQ_INT(lacre_rbuf_left(&c), 0);

	CHECK_EQ_INT(next1(prim, sizeof(prim), &t, &used), LACRE_E_MALFORMED);
	CHECK_EQ_INT(next1(noeoc, sizeof(noeoc), &t, &used), LACRE_E_INCOMPLETE);
	CHECK_EQ_INT(ber_element_size(noeoc, sizeof(noeoc), SIZE_MAX, &sz), LACRE_E_INCOMPLETE);
	CHECK_EQ_INT(ber_element_size(noeoc, sizeof(noeoc), 5, &sz), LACRE_E_TOO_LARGE);
	CHECK_EQ_INT(next1(badeoc, sizeof(badeoc), &t, &used), LACRE_E_MALFORMED);
	CHECK_EQ_INT(next1(eoc1, sizeof(eoc1), &t, &used), LACRE_E_MALFORMED);

	/* indefinite length and a depth budget of 0 */
	lacre_rbuf_init(&b, d, sizeof(d));
	CHECK_EQ_INT(ber_next(&b, &t, 0), LACRE_E_DEPTH);
	CHECK_EQ_INT(b.off, 0);
}

static void test_depth_cap(void)
{
	uint8_t d[200];
	size_t n = 0, used;
	struct ber_tlv t;
	int levels;

	/* 40 nested indefinite SEQUENCEs */
	for (levels = 0; levels < 40; levels++) {
		d[n++] = 0x30;
		d[n++] = 0x80;
	}
	for (levels = 0; levels < 40; levels++) {
		d[n++] = 0x00;
		d[n++] = 0x00;
	}
	CHECK_EQ_INT(next1(d, n, &t, &used), LACRE_E_DEPTH);
	/* 32 levels fit the default cap (the outer one plus 31 inside) */
	n = 0;
	for (levels = 0; levels < BER_MAX_DEPTH; levels++) {
		d[n++] = 0x30;
		d[n++] = 0x80;
	}
	for (levels = 0; levels < BER_MAX_DEPTH; levels++) {
		d[n++] = 0x00;
		d[n++] = 0x00;
	}
	CHECK_OK(next1(d, n, &t, &used));
	CHECK_EQ_INT(used, n);
	/* definite nesting is not scanned: any depth is fine for ber_next */
	n = 0;
	for (levels = 0; levels < 60; levels++) {
		d[n++] = 0x30;
		d[n++] = (uint8_t)(2 * (59 - levels));
	}
	CHECK_OK(next1(d, n, &t, &used));
}

static void test_high_tags(void)
{
	static const uint8_t t31[] = { 0x9f, 0x1f, 0x01, 0xaa };              /* [31] */
	static const uint8_t t128[] = { 0xbf, 0x81, 0x00, 0x00 };            /* [128] constructed */
	static const uint8_t t4[] = { 0x9f, 0x81, 0x81, 0x01, 0x00 };        /* 4 octets */
	static const uint8_t t5[] = { 0x9f, 0x81, 0x81, 0x81, 0x01, 0x00 };  /* 5: too long */
	static const uint8_t lead80[] = { 0x9f, 0x80, 0x01, 0x00 };
	static const uint8_t cut[] = { 0x9f, 0x81 };
	static const uint8_t app[] = { 0x61, 0x00 };
	static const uint8_t priv[] = { 0xc2, 0x00 };
	struct ber_tlv t;
	size_t used;

	CHECK_OK(next1(t31, sizeof(t31), &t, &used));
	CHECK_EQ_INT(t.tag, 31);
	CHECK_EQ_INT(t.cls, BER_CONTEXT);
	CHECK_EQ_INT(t.hdr_len, 3);
	CHECK_OK(next1(t128, sizeof(t128), &t, &used));
	CHECK_EQ_INT(t.tag, 128);
	CHECK_EQ_INT(t.constructed, 1);
	CHECK_OK(next1(t4, sizeof(t4), &t, &used));
	CHECK_EQ_INT(t.tag, (1u << 14) | (1u << 7) | 1u);
	CHECK_EQ_INT(next1(t5, sizeof(t5), &t, &used), LACRE_E_TAG_TOO_LONG);
	CHECK_EQ_INT(next1(lead80, sizeof(lead80), &t, &used), LACRE_E_MALFORMED);
	CHECK_EQ_INT(next1(cut, sizeof(cut), &t, &used), LACRE_E_INCOMPLETE);
	CHECK_OK(next1(app, sizeof(app), &t, &used));
	CHECK_EQ_INT(t.cls, BER_APPLICATION);
	CHECK_EQ_INT(t.tag, 1);
	CHECK_OK(next1(priv, sizeof(priv), &t, &used));
	CHECK_EQ_INT(t.cls, BER_PRIVATE);
}

static void test_truncated_every_byte(void)
{
	/* a keep-alive PS-PDU with one indefinite element inside */
	static const uint8_t d[] = {
		0x30, 0x80, 0xa1, 0x0c, 0x81, 0x02, 'L', 'I', 0x84, 0x01, 0x07,
		0xa3, 0x03, 0x81, 0x01, 0x00, 0xa2, 0x04, 0xa2, 0x02, 0x83, 0x00,
		0x00, 0x00 };
	struct ber_tlv t;
	size_t used, sz;

	CHECK_OK(next1(d, sizeof(d), &t, &used));
	CHECK_EQ_INT(used, sizeof(d));
	for (size_t k = 0; k < sizeof(d); k++) {
		int r = next1(d, k, &t, &used);
		if (r != LACRE_E_INCOMPLETE)
			t_fail(__FILE__, __LINE__, "prefix %zu: %d", k, r);
		CHECK_EQ_INT(r, LACRE_E_INCOMPLETE);
		CHECK_EQ_INT(used, 0);
		CHECK_EQ_INT(ber_element_size(d, k, SIZE_MAX, &sz), LACRE_E_INCOMPLETE);
	}
}

static void test_trailing(void)
{
	static const uint8_t d[] = { 0x02, 0x01, 0x05, 0x02, 0x01, 0x06, 0xff };
	struct lacre_rbuf b;
	struct ber_tlv t;
	uint64_t v;

	lacre_rbuf_init(&b, d, sizeof(d));
	CHECK_OK(ber_next(&b, &t, BER_MAX_DEPTH));
	CHECK_OK(ber_get_uint(&t, &v));
	CHECK_EQ_INT(v, 5);
	CHECK_EQ_INT(lacre_rbuf_left(&b), 4);
	CHECK_OK(ber_next(&b, &t, BER_MAX_DEPTH));
	CHECK_EQ_INT(lacre_rbuf_expect_end(&b), LACRE_E_TRAILING);
	CHECK_EQ_INT(ber_next(&b, &t, BER_MAX_DEPTH), LACRE_E_INCOMPLETE);
	CHECK_EQ_INT(lacre_rbuf_left(&b), 1);
}

/* A primitive TLV over v[0..n) for the value decoders. */
static struct ber_tlv prim(const void *v, size_t n)
{
	struct ber_tlv t;

	memset(&t, 0, sizeof(t));
	t.value = v;
	t.len = n;
	return t;
}

static void test_integers(void)
{
	static const uint8_t nine[] = { 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t nine1[] = { 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00 };
	static const uint8_t s5[] = { 0x00, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t nonmin[] = { 0x00, 0x00, 0x05 };
	static const uint8_t m1[] = { 0xff };
	static const uint8_t m128[] = { 0x80 };
	static const uint8_t m129[] = { 0xff, 0x7f };
	static const uint8_t redundant[] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe };
	static const uint8_t min64[] = { 0x80, 0, 0, 0, 0, 0, 0, 0 };
	static const uint8_t big[] = { 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	struct ber_tlv t;
	uint64_t u;
	int64_t i;

	t = prim(nine, sizeof(nine));
	CHECK_OK(ber_get_uint(&t, &u));
	CHECK(u == UINT64_MAX);
	CHECK_EQ_INT(ber_get_int(&t, &i), LACRE_E_RANGE);
	t = prim(nine1, sizeof(nine1));
	CHECK_EQ_INT(ber_get_uint(&t, &u), LACRE_E_RANGE);
	t = prim(s5, sizeof(s5));
	CHECK_OK(ber_get_uint(&t, &u));
	CHECK_EQ_INT(u, 4294967295ll);
	t = prim(nonmin, sizeof(nonmin));
	CHECK_OK(ber_get_uint(&t, &u));
	CHECK_EQ_INT(u, 5);
	t = prim(m1, 1);
	CHECK_EQ_INT(ber_get_uint(&t, &u), LACRE_E_RANGE);   /* negative */
	CHECK_OK(ber_get_int(&t, &i));
	CHECK_EQ_INT(i, -1);
	t = prim(m128, 1);
	CHECK_OK(ber_get_int(&t, &i));
	CHECK_EQ_INT(i, -128);
	t = prim(m129, 2);
	CHECK_OK(ber_get_int(&t, &i));
	CHECK_EQ_INT(i, -129);
	t = prim(redundant, sizeof(redundant));
	CHECK_OK(ber_get_int(&t, &i));
	CHECK_EQ_INT(i, -2);
	t = prim(min64, sizeof(min64));
	CHECK_OK(ber_get_int(&t, &i));
	CHECK(i == INT64_MIN);
	t = prim(big, sizeof(big));
	CHECK_EQ_INT(ber_get_int(&t, &i), LACRE_E_RANGE);
	CHECK_EQ_INT(ber_get_uint(&t, &u), LACRE_E_RANGE);
	t = prim(NULL, 0);
	CHECK_EQ_INT(ber_get_uint(&t, &u), LACRE_E_MALFORMED);
	CHECK_EQ_INT(ber_get_int(&t, &i), LACRE_E_MALFORMED);
	t = prim(s5, sizeof(s5));
	t.constructed = 1;
	CHECK_EQ_INT(ber_get_uint(&t, &u), LACRE_E_MALFORMED);
}

/* GeneralizedTime of a string; *us set on success. */
static int gt(const char *s, int64_t *us)
{
	struct ber_tlv t = prim(s, strlen(s));
	return ber_get_gentime(&t, us);
}

static void test_times(void)
{
	int64_t us = 0;
	struct ber_tlv t;

	CHECK_OK(gt("20250115120001.123Z", &us));
	CHECK_EQ_INT(us, 1736942401123000ll);
	CHECK_OK(gt("20250115120001Z", &us));
	CHECK_EQ_INT(us, 1736942401000000ll);
	CHECK_OK(gt("20250115120001.1234567Z", &us));   /* truncated to us */
	CHECK_EQ_INT(us, 1736942401123456ll);
	CHECK_OK(gt("20250115120001,5Z", &us));
	CHECK_EQ_INT(us, 1736942401500000ll);
	CHECK_OK(gt("20250115130001.123+0100", &us));
	CHECK_EQ_INT(us, 1736942401123000ll);
	CHECK_OK(gt("20250115120001", &us));            /* no zone: UTC */
	CHECK_EQ_INT(us, 1736942401000000ll);
	CHECK_OK(gt("2025011512Z", &us));               /* hour only */
	CHECK_EQ_INT(us, 1736942400000000ll);
	CHECK_OK(gt("19700101000000Z", &us));
	CHECK_EQ_INT(us, 0);
	CHECK_OK(gt("19691231235959.5Z", &us));
	CHECK_EQ_INT(us, -500000);
	CHECK_OK(gt("20240229000000Z", &us));
	CHECK_EQ_INT(gt("20250229000000Z", &us), LACRE_E_MALFORMED);
	CHECK_EQ_INT(gt("20251315120000Z", &us), LACRE_E_MALFORMED);
	CHECK_EQ_INT(gt("20250115250000Z", &us), LACRE_E_MALFORMED);
	CHECK_EQ_INT(gt("20250115120000.Z", &us), LACRE_E_MALFORMED);
	CHECK_EQ_INT(gt("20250115120000Zx", &us), LACRE_E_MALFORMED);
	CHECK_EQ_INT(gt("2025011512000", &us), LACRE_E_MALFORMED);
	CHECK_EQ_INT(gt("", &us), LACRE_E_MALFORMED);
	CHECK_EQ_INT(gt("2025-01-15T12:00:00Z", &us), LACRE_E_MALFORMED);

	t = prim("260101120000Z", 13);
	CHECK_OK(ber_get_utctime(&t, &us));
	CHECK_EQ_INT(us, 1767268800000000ll);
	t = prim("9912312359Z", 11);
	CHECK_OK(ber_get_utctime(&t, &us));
	CHECK_EQ_INT(us, 946684740000000ll);
	t = prim("991231235959.5Z", 15);                /* no fraction in UTCTime */
	CHECK_EQ_INT(ber_get_utctime(&t, &us), LACRE_E_MALFORMED);
}

static void test_oids(void)
{
	static const uint8_t dom[] = { 0x04, 0x00, 0x02, 0x02, 0x05, 0x01, 0x2b };
	static const uint8_t dom0[] = { 0x04, 0x00, 0x02, 0x02, 0x05, 0x01, 0x11, 0x00 };
	static const uint8_t rel[] = { 0x05, 0x03, 0x0a, 0x02 };
	static const uint8_t bigarc[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d };  /* 1.2.840.113549 */
	static const uint8_t cut[] = { 0x2a, 0x86 };
	static const uint8_t lead[] = { 0x2a, 0x80, 0x01 };
	static const uint8_t huge[] = { 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x01 };
	struct ber_tlv t;
	char s[48];
	unsigned n;
	uint64_t last;

	t = prim(dom, sizeof(dom));
	CHECK_OK(ber_get_oid(&t, 0, s, sizeof(s), &n, &last));
	CHECK_STR(s, "0.4.0.2.2.5.1.43");
	CHECK_EQ_INT(n, 8);
	CHECK_EQ_INT(last, 43);
	t = prim(dom0, sizeof(dom0));
	CHECK_OK(ber_get_oid(&t, 0, s, sizeof(s), NULL, &last));
	CHECK_STR(s, "0.4.0.2.2.5.1.17.0");
	CHECK_EQ_INT(last, 0);
	t = prim(rel, sizeof(rel));
	CHECK_OK(ber_get_oid(&t, 1, s, sizeof(s), &n, NULL));
	CHECK_STR(s, "5.3.10.2");
	CHECK_EQ_INT(n, 4);
	t = prim(bigarc, sizeof(bigarc));
	CHECK_OK(ber_get_oid(&t, 0, s, sizeof(s), NULL, NULL));
	CHECK_STR(s, "1.2.840.113549");
	t = prim(cut, sizeof(cut));
	CHECK_EQ_INT(ber_get_oid(&t, 0, s, sizeof(s), NULL, NULL), LACRE_E_MALFORMED);
	CHECK_STR(s, "");
	t = prim(lead, sizeof(lead));
	CHECK_EQ_INT(ber_get_oid(&t, 0, s, sizeof(s), NULL, NULL), LACRE_E_MALFORMED);
	t = prim(huge, sizeof(huge));
	CHECK_EQ_INT(ber_get_oid(&t, 1, s, sizeof(s), NULL, NULL), LACRE_E_RANGE);
	t = prim(dom, sizeof(dom));
	CHECK_EQ_INT(ber_get_oid(&t, 0, s, 8, NULL, NULL), LACRE_E_TOO_LARGE);
	CHECK_STR(s, "");
	t = prim(NULL, 0);
	CHECK_EQ_INT(ber_get_oid(&t, 0, s, sizeof(s), NULL, NULL), LACRE_E_MALFORMED);
}

/* ber_next_fast (the decoder's inlined path) gives exactly ber_next's
 * result, cursor and fields on every input: short, one- and two-octet
 * lengths, high tags, indefinite forms, truncations and random bytes. */
static void test_next_fast_matches(void)
{
	uint8_t buf[300];
	uint32_t x = 12345;

	for (int iter = 0; iter < 200000; iter++) {
		size_t n = (size_t)(iter % 40) + (iter % 7 == 0 ? 260 : 0);
		struct lacre_rbuf a, b;
		struct ber_tlv ta, tb;
		int ra, rb;

		for (size_t i = 0; i < n; i++) {
			x = x * 1103515245u + 12345u;
			buf[i] = (uint8_t)(x >> 16);
		}
		/* bias the length octet towards the forms of the fast path */
		if (n > 1 && iter % 3 == 0)
			buf[1] = (uint8_t)(iter % 5 == 0 ? 0x81 : iter % 5 == 1 ? 0x82 : buf[1] & 0x1f);
		if (n > 3 && buf[1] == 0x82 && iter % 2)
			buf[2] = 0;
		lacre_rbuf_init(&a, buf, n);
		lacre_rbuf_init(&b, buf, n);
		memset(&ta, 0xa5, sizeof(ta));
		memset(&tb, 0xa5, sizeof(tb));
		ra = ber_next(&a, &ta, 8);
		rb = ber_next_fast(&b, &tb, 8);
		CHECK_EQ_INT(ra, rb);
		CHECK_EQ_INT(a.off, b.off);
		if (ra == LACRE_OK) {
			CHECK_EQ_INT(ta.cls, tb.cls);
			CHECK_EQ_INT(ta.constructed, tb.constructed);
			CHECK_EQ_INT(ta.indefinite, tb.indefinite);
			CHECK_EQ_INT(ta.tag, tb.tag);
			CHECK(ta.value == tb.value);
			CHECK_EQ_INT(ta.len, tb.len);
			CHECK_EQ_INT(ta.hdr_len, tb.hdr_len);
			CHECK_EQ_INT(ta.total, tb.total);
		}
	}
}

/* ber_get_uint_fast and ber_get_oid_last against ber_get_uint and
 * ber_get_oid: every contents of 0..2 octets and, up to 10 octets, every
 * length with a first octet of 00, 01, 7F, 80 or FF followed by 00, 5A
 * or FF; primitive and constructed. */
static void test_uint_oid_fast_match(void)
{
	static const uint8_t first[] = { 0x00, 0x01, 0x7f, 0x80, 0xff }, rest[] = { 0x00, 0x5a, 0xff };
	uint8_t v[16];
	struct ber_tlv t;
	size_t cases = 65536 + 256 + 1 + 8 * sizeof(first) * sizeof(rest);

	for (size_t c = 0; c < 2 * cases; c++) {
		size_t x = c % cases;
		uint64_t ua = 7, ub = 7;
		int ra, rb;

		memset(&t, 0, sizeof(t));
		t.constructed = c >= cases;
		t.value = v;
		if (x < 65536 + 256 + 1) {
			t.len = x == 0 ? 0 : x <= 256 ? 1 : 2;
			v[0] = (uint8_t)(x <= 256 ? x - 1 : (x - 257) >> 8);
			v[1] = (uint8_t)(x - 257);
		} else {
			x -= 65536 + 256 + 1;
			t.len = 3 + x / (sizeof(first) * sizeof(rest));
			v[0] = first[x / sizeof(rest) % sizeof(first)];
			memset(v + 1, rest[x % sizeof(rest)], t.len - 1);
		}
		ra = ber_get_uint(&t, &ua);
		rb = ber_get_uint_fast(&t, &ub);
		CHECK_EQ_INT(ra, rb);
		CHECK(ua == ub);
		ua = ub = 7;
		ra = ber_get_oid(&t, 0, NULL, 0, NULL, &ua);
		rb = ber_get_oid_last(&t, &ub);
		CHECK_EQ_INT(ra, rb);
		CHECK(ua == ub);
	}
}

int main(void)
{
	RUN(test_short_and_long_lengths);
	RUN(test_length_past_end);
	RUN(test_indefinite);
	RUN(test_depth_cap);
	RUN(test_high_tags);
	RUN(test_truncated_every_byte);
	RUN(test_trailing);
	RUN(test_integers);
	RUN(test_times);
	RUN(test_oids);
	RUN(test_next_fast_matches);
	RUN(test_uint_oid_fast_match);
	return t_done();
}

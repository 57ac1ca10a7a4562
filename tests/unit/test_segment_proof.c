/*
 * test_segment_proof.c - one ledger leaf per segment (issue #15): the v2
 * "segment closed" entry (lib/ledger/segment_entry.c) read and written
 * next to v1, its records root against an independent RFC 6962 tree, and
 * the lacre-segment-proof/v1 record proof (lib/ledger/segment_proof.c):
 * format, strict parse, verification, every single-bit flip refused, and
 * trees of 1, 2, 5 and 1000 records.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "lacre/buf.h"
#include "lacre/err.h"
#include "lacre/merkle.h"
#include "lacre/segment_proof.h"
#include "lacre/tlog.h"

/* Commitment i of a test segment: SHA-256 of its index (any 32 bytes). */
static void commit_of(uint64_t i, uint8_t out[32])
{
	uint8_t b[8];
	for (int k = 0; k < 8; k++)
		b[k] = (uint8_t)(i >> (56 - 8 * k));
	merkle_sha256(b, 8, out);
}

/* An independent RFC 6962 MTH over commitments [lo, hi): the recursive
 * definition, nothing shared with merkle.c but the two hash functions. */
static void mth(const uint8_t (*c)[32], uint64_t lo, uint64_t hi, uint8_t out[32])
{
	uint64_t n = hi - lo, k = 1;
	uint8_t l[32], r[32];

	if (n == 0) {
		merkle_sha256("", 0, out);
		return;
	}
	if (n == 1) {
		merkle_leaf_hash(c[lo], 32, out);
		return;
	}
	while (k * 2 < n)
		k *= 2;
	mth(c, lo, lo + k, l);
	mth(c, lo + k, hi, r);
	merkle_node_hash(l, r, out);
}

/* A v2 segment entry over n commitments into e; c gets them. */
static int make_entry(uint64_t n, uint8_t (**c)[32], struct lacre_dbuf *e, struct tlog_segment *s)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "seg/%032llx", (unsigned long long)n);
	s->size = 1000 + n;
	s->fp_len = 32;
	memset(s->fp, 0x5a, 32);
	s->records = n;
	*c = calloc(n ? n : 1, 32);
	if (!*c)
		return LACRE_E_NOMEM;
	for (uint64_t i = 0; i < n; i++)
		commit_of(i, (*c)[i]);
	mth((const uint8_t (*)[32]) * c, 0, n, s->records_root);
	return tlog_segment_encode(s, e);
}

/* v1 and v2 entries: round trip, lengths, magic, trailing bytes. */
static void test_entry_v1_v2(void)
{
	struct tlog_segment s, t;
	struct lacre_dbuf d;
	uint8_t (*c)[32] = NULL;
	uint8_t root[32];

	lacre_dbuf_init(&d, 4096);
	CHECK_OK(make_entry(5, &c, &d, &s));
	CHECK_EQ_INT(d.len, 16 + 1 + 36 + 8 + 1 + 32 + 8 + 32);
	CHECK_MEM(d.p, "lacre-segment/v2", 16);
	CHECK_OK(tlog_segment_decode(d.p, d.len, &t));
	CHECK_EQ_INT(t.version, 2);
	CHECK_STR(t.name, s.name);
	CHECK_EQ_INT(t.size, s.size);
	CHECK_EQ_INT(t.records, 5);
	CHECK_MEM(t.records_root, s.records_root, 32);
	CHECK_OK(tlog_segment_records_root((const uint8_t (*)[32])c, 5, root));
	CHECK_MEM(root, s.records_root, 32);
	/* every cut is malformed, a trailing byte too */
	for (size_t k = 16; k < d.len; k++)
		CHECK_EQ_INT(tlog_segment_decode(d.p, k, &t), LACRE_E_MALFORMED);
	CHECK_OK(lacre_dbuf_add_u8(&d, 0));
	CHECK_EQ_INT(tlog_segment_decode(d.p, d.len, &t), LACRE_E_MALFORMED);
	d.len--;
	/* a record count over the cap */
	{
		uint8_t x[512];
		size_t off = 16 + 1 + 36 + 8 + 1 + 32;
		memcpy(x, d.p, d.len);
		x[off] = 0x01;  /* 2^56 records */
		CHECK_EQ_INT(tlog_segment_decode(x, d.len, &t), LACRE_E_MALFORMED);
		/* name length 0, fp length 0, fp length 65 */
		memcpy(x, d.p, d.len);
		x[16] = 0;
		CHECK_EQ_INT(tlog_segment_decode(x, d.len, &t), LACRE_E_MALFORMED);
		memcpy(x, d.p, d.len);
		x[16 + 1 + 36 + 8] = 0;
		CHECK_EQ_INT(tlog_segment_decode(x, d.len, &t), LACRE_E_MALFORMED);
		x[16 + 1 + 36 + 8] = 65;
		CHECK_EQ_INT(tlog_segment_decode(x, d.len, &t), LACRE_E_MALFORMED);
		/* another magic */
		memcpy(x, d.p, d.len);
		x[15] = '3';
		CHECK_EQ_INT(tlog_segment_decode(x, d.len, &t), LACRE_E_UNEXPECTED);
		CHECK_EQ_INT(tlog_segment_decode(x, 10, &t), LACRE_E_UNEXPECTED);
		/* a v1 entry: the same fields without count and root */
		memcpy(x, d.p, d.len);
		x[15] = '1';
		CHECK_EQ_INT(tlog_segment_decode(x, d.len, &t), LACRE_E_MALFORMED);
		CHECK_OK(tlog_segment_decode(x, d.len - 40, &t));
		CHECK_EQ_INT(t.version, 1);
		CHECK_STR(t.name, s.name);
		CHECK_EQ_INT(t.records, 0);
	}
	/* what encode refuses */
	s.records = TLOG_SEGMENT_RECORDS_MAX + 1;
	CHECK_EQ_INT(tlog_segment_encode(&s, &d), LACRE_E_INVALID);
	s.records = 1;
	s.fp_len = 0;
	CHECK_EQ_INT(tlog_segment_encode(&s, &d), LACRE_E_INVALID);
	/* n = 0: SHA-256 of the empty string */
	{
		uint8_t empty[32];
		merkle_sha256("", 0, empty);
		CHECK_OK(tlog_segment_records_root(NULL, 0, root));
		CHECK_MEM(root, empty, 32);
	}
	free(c);
	lacre_dbuf_free(&d);
}

/* The roots of 1..40 commitments agree with the recursive definition, and
 * merkle_levels gives the same root. */
static void test_records_root(void)
{
	uint8_t c[40][32], a[32], b[32];
	struct merkle_levels t;

	for (uint64_t i = 0; i < 40; i++)
		commit_of(i, c[i]);
	for (uint64_t n = 1; n <= 40; n++) {
		CHECK_OK(tlog_segment_records_root((const uint8_t (*)[32])c, n, a));
		mth((const uint8_t (*)[32])c, 0, n, b);
		CHECK_MEM(a, b, 32);
		CHECK_OK(merkle_levels_build(&t, (const uint8_t (*)[32])c, n));
		CHECK_OK(merkle_root(n, merkle_levels_node, &t, a));
		merkle_levels_free(&t);
		CHECK_MEM(a, b, 32);
	}
	/* n = 1: the leaf hash of the one commitment */
	merkle_leaf_hash(c[0], 32, b);
	CHECK_OK(tlog_segment_records_root((const uint8_t (*)[32])c, 1, a));
	CHECK_MEM(a, b, 32);
}

/* Whether a (possibly altered) proof text still passes as record i's
 * proof for commitment c inside the entry whose leaf hash is lh. */
static int passes(const uint8_t *p, size_t n, const uint8_t c[32], uint64_t i, const uint8_t lh[32])
{
	static struct segment_proof sp;
	uint8_t h[32];

	if (segment_proof_parse(p, n, &sp) != LACRE_OK)
		return 0;
	merkle_leaf_hash(sp.entry, sp.entry_len, h);
	return sp.index == i && memcmp(h, lh, 32) == 0 && segment_proof_verify(&sp, c) == LACRE_OK;
}

/* Make, parse and verify the proof of record i of n; with flips, check
 * that every single-bit flip of the text is refused. */
static void one_tree(uint64_t n, const uint64_t *which, size_t nwhich, int flips)
{
	static struct segment_proof sp;
	struct tlog_segment s;
	struct merkle_levels t;
	struct lacre_dbuf e, d, d2;
	uint8_t (*c)[32] = NULL, lh[32], other[32];

	lacre_dbuf_init(&e, 4096);
	lacre_dbuf_init(&d, SEGMENT_PROOF_TEXT_MAX);
	lacre_dbuf_init(&d2, SEGMENT_PROOF_TEXT_MAX);
	CHECK_OK(make_entry(n, &c, &e, &s));
	merkle_leaf_hash(e.p, e.len, lh);
	CHECK_OK(merkle_levels_build(&t, (const uint8_t (*)[32])c, n));
	for (size_t w = 0; w < nwhich; w++) {
		uint64_t i = which[w];
		lacre_dbuf_reset(&d);
		CHECK_OK(segment_proof_make(&t, e.p, e.len, i, &d));
		CHECK_OK(segment_proof_parse(d.p, d.len, &sp));
		CHECK_EQ_INT(sp.index, i);
		CHECK_EQ_INT(sp.n, n);
		CHECK_EQ_INT(sp.path.n, segment_proof_path_len(i, n));
		CHECK(n > 1 || sp.path.n == 0);
		CHECK_EQ_INT(sp.entry_len, e.len);
		CHECK_MEM(sp.entry, e.p, e.len);
		CHECK_OK(segment_proof_verify(&sp, c[i]));
		CHECK(passes(d.p, d.len, c[i], i, lh));
		/* another record's commitment does not pass as this one */
		memcpy(other, c[(i + 1) % n], 32);
		if (n > 1)
			CHECK_EQ_INT(segment_proof_verify(&sp, other), LACRE_E_VERIFY);
		other[31] ^= 0x80;
		CHECK_EQ_INT(segment_proof_verify(&sp, other), LACRE_E_VERIFY);
		/* written back it is the same text: one form */
		lacre_dbuf_reset(&d2);
		CHECK_OK(segment_proof_format(sp.entry, sp.entry_len, sp.index, sp.n, &sp.path, &d2));
		CHECK_EQ_INT(d2.len, d.len);
		CHECK_MEM(d2.p, d.p, d.len);
		if (flips)
			for (size_t k = 0; k < d.len; k++)
				for (int bit = 0; bit < 8; bit++) {
					d.p[k] ^= (uint8_t)(1 << bit);
					if (passes(d.p, d.len, c[i], i, lh)) {
						t_fail(__FILE__, __LINE__, "n=%llu i=%llu: bit %d of byte %zu "
						       "flipped still passes", (unsigned long long)n,
						       (unsigned long long)i, bit, k);
						d.p[k] ^= (uint8_t)(1 << bit);
						goto out;
					}
					d.p[k] ^= (uint8_t)(1 << bit);
				}
		/* a cut anywhere, or a byte more, is refused */
		for (size_t k = 0; k < d.len; k++)
			CHECK_EQ_INT(segment_proof_parse(d.p, k, &sp), LACRE_E_MALFORMED);
		CHECK_OK(lacre_dbuf_add_u8(&d, '\n'));
		CHECK_EQ_INT(segment_proof_parse(d.p, d.len, &sp), LACRE_E_MALFORMED);
	}
	/* what make refuses: i out of range, a tree that is not the entry's */
	lacre_dbuf_reset(&d);
	CHECK_EQ_INT(segment_proof_make(&t, e.p, e.len, n, &d), LACRE_E_INVALID);
	if (n > 1) {
		struct merkle_levels t2;
		memset(c[0], 0xee, 32);
		CHECK_OK(merkle_levels_build(&t2, (const uint8_t (*)[32])c, n));
		CHECK_EQ_INT(segment_proof_make(&t2, e.p, e.len, 0, &d), LACRE_E_VERIFY);
		merkle_levels_free(&t2);
	}
out:
	merkle_levels_free(&t);
	free(c);
	lacre_dbuf_free(&e);
	lacre_dbuf_free(&d);
	lacre_dbuf_free(&d2);
}

/* n = 1, 2, 5: every record, every single-bit flip. */
static void test_small_trees(void)
{
	static const uint64_t all[] = { 0, 1, 2, 3, 4 };

	one_tree(1, all, 1, 1);
	one_tree(2, all, 2, 1);
	one_tree(5, all, 5, 1);
}

/* n = 1000: random records (and the first and last). */
static void test_1000(void)
{
	uint64_t which[22];
	uint64_t x = 0x9e3779b97f4a7c15ULL;

	which[0] = 0;
	which[1] = 999;
	for (size_t k = 2; k < 22; k++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		which[k] = x % 1000;
	}
	one_tree(1000, which, 22, 0);
	one_tree(1000, which + 2, 1, 1);
}

/* Texts of the right shape that are not the one form are refused. */
static void test_parse_strict(void)
{
	static struct segment_proof sp;
	struct tlog_segment s;
	struct merkle_levels t;
	struct lacre_dbuf e, d;
	uint8_t (*c)[32] = NULL;
	char buf[SEGMENT_PROOF_TEXT_MAX + 64];
	const char *rec, *nl;
	size_t head;

	lacre_dbuf_init(&e, 4096);
	lacre_dbuf_init(&d, SEGMENT_PROOF_TEXT_MAX);
	CHECK_OK(make_entry(5, &c, &e, &s));
	CHECK_OK(merkle_levels_build(&t, (const uint8_t (*)[32])c, 5));
	CHECK_OK(segment_proof_make(&t, e.p, e.len, 3, &d));
	CHECK(d.len < sizeof(buf) - 64);
	memcpy(buf, d.p, d.len);
	buf[d.len] = 0;
	rec = strstr(buf, "\nrecord 3 5\n");
	CHECK(rec != NULL);
	head = (size_t)(rec - buf) + 1;
	nl = buf + head + strlen("record 3 5\n");
	/* leading zero, wrong n, i = n, extra space, CRLF */
	{
		static const char *const bad[] = { "record 03 5\n", "record 3 6\n", "record 5 5\n",
						   "record 3  5\n", "record 3 5\r\n", "record 3\n",
						   "record -3 5\n", "record 3 5 \n" };
		for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
			char x[sizeof(buf)];
			int m = snprintf(x, sizeof(x), "%.*s%s%s", (int)head, buf, bad[k], nl);
			CHECK(m > 0 && (size_t)m < sizeof(x));
			CHECK_EQ_INT(segment_proof_parse(x, (size_t)m, &sp), LACRE_E_MALFORMED);
		}
	}
	/* one hash too few (and the text still ends in LF) */
	{
		size_t cut = d.len - 45;
		CHECK_EQ_INT(segment_proof_parse(d.p, cut, &sp), LACRE_E_MALFORMED);
	}
	/* a v1 entry inside is refused: only v2 entries carry a root */
	{
		struct lacre_dbuf x;
		uint8_t v1[512];
		memcpy(v1, e.p, e.len);
		v1[15] = '1';
		lacre_dbuf_init(&x, SEGMENT_PROOF_TEXT_MAX);
		CHECK_OK(segment_proof_format(v1, e.len - 40, 3, 5, &(struct merkle_proof){ 0 }, &x));
		CHECK_EQ_INT(segment_proof_parse(x.p, x.len, &sp), LACRE_E_MALFORMED);
		lacre_dbuf_free(&x);
	}
	/* over the size cap */
	{
		uint8_t *big = calloc(1, SEGMENT_PROOF_TEXT_MAX + 1);
		CHECK(big != NULL);
		memcpy(big, d.p, d.len);
		CHECK_EQ_INT(segment_proof_parse(big, SEGMENT_PROOF_TEXT_MAX + 1, &sp), LACRE_E_MALFORMED);
		free(big);
	}
	merkle_levels_free(&t);
	free(c);
	lacre_dbuf_free(&e);
	lacre_dbuf_free(&d);
}

/* PATH(i, n) lengths against merkle.c's proofs for every i of n <= 70. */
static void test_path_len(void)
{
	uint8_t c[70][32];
	struct merkle_levels t;
	struct merkle_proof p;

	for (uint64_t i = 0; i < 70; i++)
		commit_of(i, c[i]);
	for (uint64_t n = 1; n <= 70; n++) {
		CHECK_OK(merkle_levels_build(&t, (const uint8_t (*)[32])c, n));
		for (uint64_t i = 0; i < n; i++) {
			CHECK_OK(merkle_prove_inclusion(i, n, merkle_levels_node, &t, &p));
			CHECK_EQ_INT(p.n, segment_proof_path_len(i, n));
		}
		merkle_levels_free(&t);
	}
}

int main(void)
{
	RUN(test_entry_v1_v2);
	RUN(test_records_root);
	RUN(test_small_trees);
	RUN(test_1000);
	RUN(test_parse_strict);
	RUN(test_path_len);
	return t_done();
}

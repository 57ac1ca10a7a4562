/*
 * test_receipt_parse.c - record receipts (c2sp.org/tlog-proof@v1,
 * lib/ledger/receipt.c) are untrusted input to the court's verifier: a
 * receipt made by receipt_format parses back and verifies; an "extra" line
 * is skipped; every deviation of the text (header, index line: empty,
 * leading zero, letters, 20 digits, no newline; proof lines: length,
 * base64, too many; no blank line) is LACRE_E_MALFORMED; verification
 * fails for another leaf, another log key and an unmet witness quorum,
 * also under a tlog-policy (and a policy file: missing, a bad line named,
 * a good one); receipt_format honours its buffer's cap; note_read_file
 * keeps nothing of a file over its cap.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "lacre/err.h"
#include "lacre/merkle.h"
#include "lacre/note.h"

#define ORIGIN "lacre.test/receipts"

static uint8_t leaves[10][32];
static struct note_signer *logkey, *other, *wit;
static struct note_verifier logv, otherv, witv;
static struct lacre_dbuf good;           /* a receipt for leaf 5 of 10 */

static int setup(void)
{
	struct merkle_leaves lv = { leaves, 10 };
	struct merkle_proof p;
	struct lacre_dbuf body, cp;
	uint8_t seed[32], root[32];
	int r;

	for (uint64_t i = 0; i < 10; i++)
		merkle_leaf_hash(&i, sizeof(i), leaves[i]);
	memset(seed, 0x61, 32);
	if ((r = note_signer_from_seed(ORIGIN, NOTE_TYPE_ED25519, seed, &logkey)) != LACRE_OK)
		return r;
	memset(seed, 0x62, 32);
	if ((r = note_signer_from_seed(ORIGIN, NOTE_TYPE_ED25519, seed, &other)) != LACRE_OK)
		return r;
	memset(seed, 0x63, 32);
	if ((r = note_signer_from_seed("witness.example/r", NOTE_TYPE_COSIG, seed, &wit)) != LACRE_OK)
		return r;
	note_signer_public(logkey, &logv);
	note_signer_public(other, &otherv);
	note_signer_public(wit, &witv);
	if ((r = merkle_root(10, merkle_leaves_node, &lv, root)) != LACRE_OK ||
	    (r = merkle_prove_inclusion(5, 10, merkle_leaves_node, &lv, &p)) != LACRE_OK)
		return r;
	lacre_dbuf_init(&body, 1024);
	lacre_dbuf_init(&cp, 4096);
	lacre_dbuf_init(&good, 1 << 16);
	r = checkpoint_format(ORIGIN, 10, root, &body);
	if (r == LACRE_OK)
		r = note_sign(logkey, body.p, body.len, &cp);
	if (r == LACRE_OK)
		r = receipt_format(5, &p, cp.p, cp.len, &good);
	lacre_dbuf_free(&body);
	lacre_dbuf_free(&cp);
	return r;
}

/* good with the first "from" replaced by "to", parsed. */
static int parse_changed(const char *from, const char *to)
{
	struct lacre_dbuf d;
	struct receipt rc;
	const uint8_t *at = memmem(good.p, good.len, from, strlen(from));
	int r;

	if (!at)
		return 12345;
	lacre_dbuf_init(&d, 1 << 17);
	lacre_dbuf_add(&d, good.p, (size_t)(at - good.p));
	lacre_dbuf_add_str(&d, to);
	lacre_dbuf_add(&d, at + strlen(from), good.len - (size_t)(at - good.p) - strlen(from));
	r = receipt_parse(d.p, d.len, &rc);
	lacre_dbuf_free(&d);
	return r;
}

static void test_round_trip(void)
{
	struct receipt rc;
	struct checkpoint cp;
	struct lacre_dbuf d;

	CHECK_OK(setup());
	CHECK(strncmp((const char *)good.p, "c2sp.org/tlog-proof@v1\nindex 5\n", 31) == 0);
	CHECK_OK(receipt_parse(good.p, good.len, &rc));
	CHECK_EQ_INT(rc.index, 5);
	CHECK(rc.proof.n > 0);
	CHECK_OK(receipt_verify(&rc, leaves[5], &logv, NULL, 0, 0, &cp));
	CHECK_EQ_INT(cp.size, 10);
	CHECK_STR(cp.origin, ORIGIN);
	/* another leaf, another key, a quorum no witness met */
	CHECK(receipt_verify(&rc, leaves[4], &logv, NULL, 0, 0, NULL) != LACRE_OK);
	CHECK(receipt_verify(&rc, leaves[5], &otherv, NULL, 0, 0, NULL) != LACRE_OK);
	CHECK_EQ_INT(receipt_verify(&rc, leaves[5], &logv, &witv, 1, 1, NULL), LACRE_E_AUTH);
	/* an "extra" line is skipped */
	lacre_dbuf_init(&d, 1 << 17);
	CHECK_OK(lacre_dbuf_add_str(&d, "c2sp.org/tlog-proof@v1\nextra anything at all\n"));
	CHECK_OK(lacre_dbuf_add(&d, good.p + 23, good.len - 23));
	CHECK_OK(receipt_parse(d.p, d.len, &rc));
	CHECK_EQ_INT(rc.index, 5);
	CHECK_OK(receipt_verify(&rc, leaves[5], &logv, NULL, 0, 0, NULL));
	lacre_dbuf_free(&d);
}

static void test_hostile(void)
{
	struct receipt rc;

	CHECK(good.len > 0);                       /* test_round_trip ran setup */
	CHECK_EQ_INT(parse_changed("c2sp.org/tlog-proof@v1", "c2sp.org/tlog-proof@v2"), LACRE_E_MALFORMED);
	CHECK_EQ_INT(parse_changed("index 5\n", "index \n"), LACRE_E_MALFORMED);
	CHECK_EQ_INT(parse_changed("index 5\n", "index 05\n"), LACRE_E_MALFORMED);
	CHECK_EQ_INT(parse_changed("index 5\n", "index 5a\n"), LACRE_E_MALFORMED);
	CHECK_EQ_INT(parse_changed("index 5\n", "index 12345678901234567890\n"), LACRE_E_MALFORMED);
	CHECK_EQ_INT(parse_changed("index 5\n", "indx 5\n"), LACRE_E_MALFORMED);
	/* a proof line one character short, and one with a character outside base64 */
	{
		const uint8_t *l = good.p + 31;
		char line[64], cut[64], bad[64];
		snprintf(line, sizeof(line), "%.44s\n", (const char *)l);
		snprintf(cut, sizeof(cut), "%.43s\n", (const char *)l);
		snprintf(bad, sizeof(bad), "!%.43s\n", (const char *)l + 1);
		CHECK_EQ_INT(parse_changed(line, cut), LACRE_E_MALFORMED);
		CHECK_EQ_INT(parse_changed(line, bad), LACRE_E_MALFORMED);
	}
	/* no blank line before the checkpoint: its lines are taken as proof */
	CHECK_EQ_INT(parse_changed("\n\n" ORIGIN, "\n" ORIGIN), LACRE_E_MALFORMED);
	/* cut inside the header or the index line */
	CHECK_EQ_INT(receipt_parse(good.p, 10, &rc), LACRE_E_MALFORMED);
	CHECK_EQ_INT(receipt_parse(good.p, 28, &rc), LACRE_E_MALFORMED);
	CHECK_EQ_INT(receipt_parse(good.p, 0, &rc), LACRE_E_MALFORMED);
	/* more proof lines than a proof can hold */
	{
		struct lacre_dbuf d;
		lacre_dbuf_init(&d, 1 << 17);
		CHECK_OK(lacre_dbuf_add_str(&d, "c2sp.org/tlog-proof@v1\nindex 5\n"));
		for (int i = 0; i < MERKLE_PROOF_MAX + 1; i++)
			CHECK_OK(lacre_dbuf_add_str(&d, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"));
		CHECK_OK(lacre_dbuf_add_str(&d, "\n"));
		CHECK_EQ_INT(receipt_parse(d.p, d.len, &rc), LACRE_E_MALFORMED);
		lacre_dbuf_free(&d);
	}
}

/* Verification under a tlog-policy; formatting into a buffer with a cap;
 * small files and policy files read whole. */
static void test_policy_format_files(void)
{
	struct policy *pol = calloc(1, sizeof(*pol)), *loaded = NULL;
	struct receipt rc;
	struct checkpoint cp;
	struct merkle_leaves lv = { leaves, 10 };
	struct merkle_proof pr;
	struct lacre_dbuf pt, d;
	char path[600];
	size_t bad = 99;
	FILE *f;

	CHECK(pol != NULL);
	CHECK(good.len > 0);
	CHECK_OK(receipt_parse(good.p, good.len, &rc));
	for (int k = 0; k < 2; k++) {
		lacre_dbuf_init(&pt, 4096);
		CHECK_OK(lacre_dbuf_add_str(&pt, "log "));
		CHECK_OK(note_verifier_format(k == 0 ? &logv : &otherv, &pt));
		CHECK_OK(lacre_dbuf_add_str(&pt, "\nquorum none\n"));
		CHECK_OK(policy_parse(pt.p, pt.len, pol, NULL));
		lacre_dbuf_free(&pt);
		if (k == 0) {
			CHECK_OK(receipt_verify_policy(&rc, leaves[5], pol, &cp));
			CHECK_EQ_INT(cp.size, 10);
			CHECK(receipt_verify_policy(&rc, leaves[6], pol, NULL) != LACRE_OK);
		} else {
			CHECK(receipt_verify_policy(&rc, leaves[5], pol, NULL) != LACRE_OK);
		}
	}
	free(pol);
	/* receipt_format stops at the buffer's cap wherever it falls */
	CHECK_OK(merkle_prove_inclusion(5, 10, merkle_leaves_node, &lv, &pr));
	{
		static const size_t caps[] = { 10, 40, 60, 200 };
		for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
			lacre_dbuf_init(&d, caps[i]);
			CHECK_EQ_INT(receipt_format(5, &pr, rc.cp, rc.cp_len, &d), LACRE_E_TOO_LARGE);
			lacre_dbuf_free(&d);
		}
	}
	/* note_read_file: missing, over the cap (nothing kept), appended */
	snprintf(path, sizeof(path), "%s/small", t_tmpdir());
	lacre_dbuf_init(&d, 1 << 16);
	CHECK_EQ_INT(note_read_file(path, 100, &d), LACRE_E_NOT_FOUND);
	CHECK((f = fopen(path, "w")) != NULL);
	fputs("0123456789", f);
	fclose(f);
	CHECK_OK(lacre_dbuf_add_str(&d, "x"));
	CHECK_EQ_INT(note_read_file(path, 5, &d), LACRE_E_TOO_LARGE);
	CHECK_EQ_INT(d.len, 1);
	CHECK_OK(note_read_file(path, 100, &d));
	CHECK_EQ_INT(d.len, 11);
	CHECK_MEM(d.p, "x0123456789", 11);
	lacre_dbuf_free(&d);
	/* policy files: missing, a bad line named, a good one */
	snprintf(path, sizeof(path), "%s/policy", t_tmpdir());
	CHECK_EQ_INT(policy_load_file(path, &loaded, &bad), LACRE_E_NOT_FOUND);
	CHECK((f = fopen(path, "w")) != NULL);
	fputs("log not-a-vkey\nquorum none\n", f);
	fclose(f);
	CHECK_EQ_INT(policy_load_file(path, &loaded, &bad), LACRE_E_CONFIG);
	CHECK_EQ_INT(bad, 1);
	CHECK(loaded == NULL);
	lacre_dbuf_init(&pt, 4096);
	CHECK_OK(lacre_dbuf_add_str(&pt, "log "));
	CHECK_OK(note_verifier_format(&logv, &pt));
	CHECK_OK(lacre_dbuf_add_str(&pt, "\nquorum none\n"));
	CHECK((f = fopen(path, "w")) != NULL);
	CHECK(fwrite(pt.p, 1, pt.len, f) == pt.len);
	fclose(f);
	lacre_dbuf_free(&pt);
	CHECK_OK(policy_load_file(path, &loaded, &bad));
	CHECK(loaded != NULL);
	CHECK_OK(receipt_verify_policy(&rc, leaves[5], loaded, NULL));
	free(loaded);
}

int main(void)
{
	RUN(test_round_trip);
	RUN(test_hostile);
	RUN(test_policy_format_files);
	lacre_dbuf_free(&good);
	note_signer_free(logkey);
	note_signer_free(other);
	note_signer_free(wit);
	return t_done();
}

/*
 * test_verify.c - the evidence package container (lib/verify/package.c),
 * the completeness report (lib/verify/completeness.c) and the verifier core
 * (lib/verify/verify.c) on packages built here: a write/read round trip
 * through age, every truncation and the malformed forms the reader must
 * refuse, exact completeness reports for gaps, duplicates and resets, and a
 * minimal signed package that verifies, then fails with the right member
 * named after each kind of change.
 */
#include <stdint.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>

#include <openssl/evp.h>

#include "harness.h"
#include "lacre/age.h"
#include "lacre/err.h"
#include "lacre/json.h"
#include "lacre/merkle.h"
#include "lacre/note.h"
#include "lacre/package.h"
#include "lacre/verify.h"

/* Build a plaintext from (name, data) pairs. */
static void add_member(struct lacre_dbuf *d, const char *name, const void *p, size_t n)
{
	lacre_dbuf_add_u8(d, (uint8_t)strlen(name));
	lacre_dbuf_add_str(d, name);
	lacre_dbuf_add_u64be(d, n);
	lacre_dbuf_add(d, p, n);
}

/* Read a whole file. */
static uint8_t *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	uint8_t *p;
	long l;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	l = ftell(f);
	fseek(f, 0, SEEK_SET);
	p = malloc((size_t)l + 1);
	if (p && fread(p, 1, (size_t)l, f) != (size_t)l) {
		free(p);
		p = NULL;
	}
	fclose(f);
	*n = (size_t)l;
	return p;
}

static void test_writer_reader_roundtrip(void)
{
	struct age_x25519_identity id;
	struct package_writer *w = NULL;
	struct package *pk = NULL;
	const struct package_member *m;
	char path[512], msg[256];
	uint8_t *big = calloc(1, 200000), *file, sha[32], want[32];
	size_t n;

	CHECK(big != NULL);
	for (size_t i = 0; i < 200000; i++)
		big[i] = (uint8_t)(i * 7);
	CHECK_OK(age_x25519_generate(&id));
	snprintf(path, sizeof(path), "%s/p.age", t_tmpdir());
	CHECK_OK(package_writer_open(path, id.public_key, &w));
	CHECK_OK(package_writer_add(w, "records/00000001.pdu", big, 200000, sha));
	EVP_Digest(big, 200000, want, NULL, EVP_sha256(), NULL);
	CHECK_MEM(sha, want, 32);
	CHECK_EQ_INT(package_writer_add(w, "Bad Name", "x", 1, NULL), LACRE_E_INVALID);
	CHECK_EQ_INT(package_writer_add(w, "records/00000001.pdu", "x", 1, NULL), LACRE_E_INVALID);
	CHECK_OK(package_writer_add(w, "empty", "", 0, NULL));
	CHECK_OK(package_writer_add(w, PACKAGE_MANIFEST, "m\n", 2, NULL));
	CHECK_OK(package_writer_add(w, PACKAGE_SIGNATURE, "s\n", 2, NULL));
	CHECK_OK(package_writer_finish(w));
	package_writer_free(w);
	CHECK_EQ_INT(package_writer_open(path, id.public_key, &w), LACRE_E_EXISTS);
	file = slurp(path, &n);
	CHECK(file != NULL);
	CHECK_OK(package_open(file, n, &id, &pk, msg, sizeof(msg)));
	CHECK_EQ_INT(pk->n, 4);
	m = package_find(pk, "records/00000001.pdu");
	CHECK(m && m->len == 200000 && !memcmp(m->p, big, 200000));
	m = package_find(pk, "empty");
	CHECK(m && m->len == 0);
	CHECK(package_find(pk, "nope") == NULL);
	package_free(pk);
	/* another identity: not sealed to it */
	{
		struct age_x25519_identity other;
		CHECK_OK(age_x25519_generate(&other));
		CHECK_EQ_INT(package_open(file, n, &other, &pk, msg, sizeof(msg)), LACRE_E_AUTH);
	}
	/* a flipped ciphertext byte: a chunk tag fails, reported with its chunk */
	file[n - 100] ^= 1;
	CHECK_EQ_INT(package_open(file, n, &id, &pk, msg, sizeof(msg)), LACRE_E_CORRUPT);
	CHECK(strstr(msg, "age chunk 3") != NULL);
	free(file);
	free(big);
}

static void test_parse_rejects(void)
{
	struct lacre_dbuf d;
	struct package *pk = NULL;
	char msg[256];

	lacre_dbuf_init(&d, 1 << 20);
	lacre_dbuf_add_str(&d, PACKAGE_MAGIC);
	add_member(&d, "a", "xyz", 3);
	add_member(&d, PACKAGE_MANIFEST, "m", 1);
	add_member(&d, PACKAGE_SIGNATURE, "s", 1);
	CHECK_OK(package_parse(d.p, d.len, &pk, msg, sizeof(msg)));
	package_free(pk);
	/* every proper prefix is refused, never read past */
	for (size_t k = 0; k < d.len; k++) {
		pk = NULL;
		CHECK(package_parse(d.p, k, &pk, msg, sizeof(msg)) != LACRE_OK);
		CHECK(pk == NULL);
	}
	/* trailing garbage is an incomplete member */
	lacre_dbuf_add_u8(&d, 5);
	CHECK(package_parse(d.p, d.len, &pk, msg, sizeof(msg)) != LACRE_OK);
	/* bad magic */
	lacre_dbuf_reset(&d);
	lacre_dbuf_add_str(&d, "lacre-evidence/v2\n");
	add_member(&d, PACKAGE_MANIFEST, "m", 1);
	add_member(&d, PACKAGE_SIGNATURE, "s", 1);
	CHECK_EQ_INT(package_parse(d.p, d.len, &pk, msg, sizeof(msg)), LACRE_E_MALFORMED);
	/* a repeated name */
	lacre_dbuf_reset(&d);
	lacre_dbuf_add_str(&d, PACKAGE_MAGIC);
	add_member(&d, "a", "1", 1);
	add_member(&d, "a", "2", 1);
	add_member(&d, PACKAGE_MANIFEST, "m", 1);
	add_member(&d, PACKAGE_SIGNATURE, "s", 1);
	CHECK_EQ_INT(package_parse(d.p, d.len, &pk, msg, sizeof(msg)), LACRE_E_MALFORMED);
	CHECK(strstr(msg, "appears twice") != NULL);
	/* names outside [a-z0-9._/-] and "//" */
	lacre_dbuf_reset(&d);
	lacre_dbuf_add_str(&d, PACKAGE_MAGIC);
	add_member(&d, "a//b", "1", 1);
	add_member(&d, PACKAGE_MANIFEST, "m", 1);
	add_member(&d, PACKAGE_SIGNATURE, "s", 1);
	CHECK_EQ_INT(package_parse(d.p, d.len, &pk, msg, sizeof(msg)), LACRE_E_MALFORMED);
	/* the signature is not last */
	lacre_dbuf_reset(&d);
	lacre_dbuf_add_str(&d, PACKAGE_MAGIC);
	add_member(&d, PACKAGE_SIGNATURE, "s", 1);
	add_member(&d, PACKAGE_MANIFEST, "m", 1);
	CHECK_EQ_INT(package_parse(d.p, d.len, &pk, msg, sizeof(msg)), LACRE_E_MALFORMED);
	/* a declared length far beyond the input is refused without allocating it */
	lacre_dbuf_reset(&d);
	lacre_dbuf_add_str(&d, PACKAGE_MAGIC);
	lacre_dbuf_add_u8(&d, 1);
	lacre_dbuf_add_u8(&d, 'a');
	lacre_dbuf_add_u64be(&d, UINT64_MAX);
	CHECK_EQ_INT(package_parse(d.p, d.len, &pk, msg, sizeof(msg)), LACRE_E_INCOMPLETE);
	lacre_dbuf_free(&d);
}

static void test_completeness_report(void)
{
	/* stream LI/1/iri: 1,2,2(dup),5 (gap 3-4), then 1,2 (reset); LI/1/cc: 7;
	 * one "other" (kind 5); one excluded IRI */
	static const uint64_t seqs[] = { 1, 2, 2, 5, 1, 2, 7, 0, 3 };
	static const uint8_t kinds[] = { 1, 1, 1, 1, 1, 1, 2, 5, 1 };
	/* the duplicate is a resend (same time); the second 1 restarts (new time) */
	static const int64_t times[] = { 10, 20, 20, 50, 60, 70, 80, 90, 100 };
	struct completeness_item it[9];
	struct lacre_dbuf d;
	const char *s;

	memset(it, 0, sizeof(it));
	for (int i = 0; i < 9; i++) {
		it[i].liid = (const uint8_t *)"LI";
		it[i].liid_len = 2;
		it[i].has_cin = 1;
		it[i].cin = 1;
		it[i].kind = kinds[i];
		it[i].seq = seqs[i];
		it[i].time_us = times[i];
	}
	it[8].excluded = 1;
	lacre_dbuf_init(&d, 1 << 20);
	CHECK_OK(package_completeness(it, 9, &d));
	CHECK_OK(lacre_dbuf_cstr(&d, &s));
	CHECK_STR(s, "{\"format\":\"lacre-completeness/v1\",\"records\":9,\"other\":1,\"streams\":["
		  "{\"liid\":\"LI\",\"cin\":1,\"class\":\"iri\",\"records\":7,\"excluded\":1,\"duplicates\":1,"
		  "\"resets\":1,\"epochs\":[{\"first\":1,\"last\":5,\"count\":3,\"missing\":2,\"gaps\":[[3,4]]},"
		  "{\"first\":1,\"last\":3,\"count\":3,\"missing\":0,\"gaps\":[]}],\"missing\":2},"
		  "{\"liid\":\"LI\",\"cin\":1,\"class\":\"cc\",\"records\":1,\"excluded\":0,\"duplicates\":0,"
		  "\"resets\":0,\"epochs\":[{\"first\":7,\"last\":7,\"count\":1,\"missing\":0,\"gaps\":[]}],"
		  "\"missing\":0}]}\n");
	/* deterministic: the same input gives the same bytes */
	{
		struct lacre_dbuf e;
		lacre_dbuf_init(&e, 1 << 20);
		CHECK_OK(package_completeness(it, 9, &e));
		CHECK(e.len == d.len && !memcmp(e.p, d.p, d.len));
		lacre_dbuf_free(&e);
	}
	lacre_dbuf_free(&d);
}

/* A minimal, correctly signed package with no records: the checkpoint of a
 * one-entry log, both keys, an empty report, a manifest and its signature. */
static void build_empty(struct lacre_dbuf *plain, struct note_verifier *logv, struct note_verifier *expv,
			const char *manifest_extra)
{
	static const uint8_t seed_l[32] = { 1 }, seed_e[32] = { 2 };
	struct note_signer *ls = NULL, *es = NULL;
	struct lacre_dbuf cp, text, rep, vk, ek, man, stmt, sig;
	uint8_t root[32], h[32];
	struct { const char *name; struct lacre_dbuf *d; } mem[6];
	char hex[65];

	note_signer_from_seed("lacre/t/ingest", NOTE_TYPE_ED25519, seed_l, &ls);
	note_signer_from_seed("lacre/t/export", NOTE_TYPE_ED25519, seed_e, &es);
	note_signer_public(ls, logv);
	note_signer_public(es, expv);
	lacre_dbuf_init(&cp, 1 << 16);
	lacre_dbuf_init(&text, 1 << 16);
	lacre_dbuf_init(&rep, 1 << 16);
	lacre_dbuf_init(&vk, 1 << 16);
	lacre_dbuf_init(&ek, 1 << 16);
	lacre_dbuf_init(&man, 1 << 16);
	lacre_dbuf_init(&stmt, 1 << 16);
	lacre_dbuf_init(&sig, 1 << 16);
	merkle_leaf_hash("x", 1, root);
	checkpoint_format("lacre/t/ingest", 1, root, &text);
	note_sign(ls, text.p, text.len, &cp);
	package_completeness(NULL, 0, &rep);
	note_verifier_format(logv, &vk);
	lacre_dbuf_add_u8(&vk, '\n');
	note_verifier_format(expv, &ek);
	lacre_dbuf_add_u8(&ek, '\n');
	struct lacre_dbuf empty, excl, acc;
	lacre_dbuf_init(&empty, 16);
	lacre_dbuf_init(&excl, 64);
	lacre_dbuf_init(&acc, 64);
	lacre_dbuf_add_str(&excl, "lacre-exclusions/v1\n");
	lacre_dbuf_add_str(&acc, "access log not available\n");
	mem[0].name = "records.jsonl"; mem[0].d = &empty;
	mem[1].name = "completeness.json"; mem[1].d = &rep;
	mem[2].name = "exclusions.txt"; mem[2].d = &excl;
	mem[3].name = "checkpoint"; mem[3].d = &cp;
	mem[4].name = "ingest.vkey"; mem[4].d = &vk;
	mem[5].name = "export.vkey"; mem[5].d = &ek;
	lacre_dbuf_printf(&man, "%spackage 00112233445566778899aabbccddeeff\nlog lacre/t/ingest\nlog-size 1\n"
			  "warrant W-000001\nfrom open\nto open\nrecords 0\nincluded 0\nexcluded 0\n%s",
			  PACKAGE_MAGIC, manifest_extra);
	lacre_dbuf_add_str(plain, PACKAGE_MAGIC);
	for (int i = 0; i < 6; i++) {
		EVP_Digest(mem[i].d->p ? mem[i].d->p : (const uint8_t *)"", mem[i].d->len, h, NULL, EVP_sha256(), NULL);
		for (int k = 0; k < 32; k++)
			snprintf(hex + 2 * k, 3, "%02x", h[k]);
		lacre_dbuf_printf(&man, "member %s %zu %s\n", hex, mem[i].d->len, mem[i].name);
		add_member(plain, mem[i].name, mem[i].d->p ? mem[i].d->p : (const uint8_t *)"", mem[i].d->len);
	}
	add_member(plain, "access-report.txt", acc.p, acc.len);
	EVP_Digest(acc.p, acc.len, h, NULL, EVP_sha256(), NULL);
	for (int k = 0; k < 32; k++)
		snprintf(hex + 2 * k, 3, "%02x", h[k]);
	lacre_dbuf_printf(&man, "member %s %zu access-report.txt\n", hex, acc.len);
	add_member(plain, PACKAGE_MANIFEST, man.p, man.len);
	EVP_Digest(man.p, man.len, h, NULL, EVP_sha256(), NULL);
	for (int k = 0; k < 32; k++)
		snprintf(hex + 2 * k, 3, "%02x", h[k]);
	lacre_dbuf_printf(&stmt, "%spackage 00112233445566778899aabbccddeeff\nmanifest %s\n", PACKAGE_MAGIC, hex);
	note_sign(es, stmt.p, stmt.len, &sig);
	add_member(plain, PACKAGE_SIGNATURE, sig.p, sig.len);
	note_signer_free(ls);
	note_signer_free(es);
	lacre_dbuf_free(&cp); lacre_dbuf_free(&text); lacre_dbuf_free(&rep); lacre_dbuf_free(&vk);
	lacre_dbuf_free(&ek); lacre_dbuf_free(&man); lacre_dbuf_free(&stmt); lacre_dbuf_free(&sig);
	lacre_dbuf_free(&empty); lacre_dbuf_free(&excl); lacre_dbuf_free(&acc);
}

/* Verify plaintext p with the given trusted keys; returns the problems. */
static uint64_t run_verify(const struct lacre_dbuf *p, const struct note_verifier *logv,
			   const struct note_verifier *expv, char *first, size_t cap)
{
	struct package *pk = NULL;
	struct verify_opts o;
	struct verify_result res;
	char msg[256];
	uint64_t n;

	memset(&o, 0, sizeof(o));
	memset(&res, 0, sizeof(res));
	o.log_key = logv;
	o.export_key = expv;
	if (package_parse(p->p, p->len, &pk, msg, sizeof(msg)) != LACRE_OK) {
		snprintf(first, cap, "parse: %s", msg);
		return 1000;
	}
	verify_package(pk, &o, &res);
	n = res.problems;
	snprintf(first, cap, "%s: %s", res.nproblem ? res.problem[0].member : "",
		 res.nproblem ? res.problem[0].what : "");
	verify_result_free(&res);
	package_free(pk);
	return n;
}

/* Verify p; *verified, and whether a problem of member names the text
 * needle.  Returns the problem count. */
static uint64_t verify_find(const struct lacre_dbuf *p, const struct note_verifier *logv,
			    const struct note_verifier *expv, const char *member, const char *needle,
			    int *found, int *verified)
{
	struct package *pk = NULL;
	struct verify_opts o;
	struct verify_result res;
	char msg[256];
	uint64_t n;

	memset(&o, 0, sizeof(o));
	memset(&res, 0, sizeof(res));
	o.log_key = logv;
	o.export_key = expv;
	*found = 0;
	*verified = 1;
	if (package_parse(p->p, p->len, &pk, msg, sizeof(msg)) != LACRE_OK)
		return 1000;
	if (verify_package(pk, &o, &res) != LACRE_OK) {
		package_free(pk);
		return 1001;
	}
	for (size_t i = 0; i < res.nproblem; i++)
		if (!strcmp(res.problem[i].member, member) && strstr(res.problem[i].what, needle))
			*found = 1;
	*verified = res.verified;
	/* the result says whose key the checkpoint was checked with */
	n = res.log_key_trusted == (logv != NULL) ? res.problems : 1002;
	verify_result_free(&res);
	package_free(pk);
	return n;
}

/* Fail closed: a sound package is not VERIFIED without a log key (or a
 * policy) the caller supplies; the one problem says so; its other problems
 * are still found with the package's own key. */
static void test_verify_no_trusted_key(void)
{
	struct lacre_dbuf p;
	struct note_verifier logv, expv;
	int found, verified;
	size_t off;

	lacre_dbuf_init(&p, 1 << 20);
	build_empty(&p, &logv, &expv, "");
	CHECK_EQ_INT(verify_find(&p, &logv, &expv, "checkpoint", "no trusted log key", &found, &verified), 0);
	CHECK(verified && !found);
	CHECK_EQ_INT(verify_find(&p, NULL, &expv, "checkpoint", VERIFY_NO_TRUSTED_KEY, &found, &verified), 1);
	CHECK(!verified && found);
	CHECK_EQ_INT(verify_find(&p, NULL, NULL, "checkpoint", VERIFY_NO_TRUSTED_KEY, &found, &verified), 1);
	CHECK(!verified && found);
	CHECK(strncmp(VERIFY_NO_TRUSTED_KEY, "not verified: no trusted log key (give --log-vkey", 49) == 0);
	/* a tlog-policy the caller pins is trust too: its log key, its quorum */
	{
		struct lacre_dbuf pt;
		struct policy *pol = calloc(1, sizeof(*pol));
		struct package *pk = NULL;
		struct verify_opts o;
		struct verify_result res;
		char msg[256];
		struct note_verifier other;
		struct note_signer *os = NULL;
		static const uint8_t seed_o[32] = { 9 };

		CHECK(pol != NULL);
		/* a forger's key under the same origin name */
		CHECK_OK(note_signer_from_seed("lacre/t/ingest", NOTE_TYPE_ED25519, seed_o, &os));
		note_signer_public(os, &other);
		note_signer_free(os);
		for (int k = 0; k < 2 && pol; k++) {
			lacre_dbuf_init(&pt, 4096);
			lacre_dbuf_add_str(&pt, "log ");
			note_verifier_format(k == 0 ? &logv : &other, &pt);
			lacre_dbuf_add_str(&pt, "\nquorum none\n");
			CHECK_OK(policy_parse(pt.p, pt.len, pol, NULL));
			lacre_dbuf_free(&pt);
			memset(&o, 0, sizeof(o));
			memset(&res, 0, sizeof(res));
			o.policy = pol;
			CHECK_OK(package_parse(p.p, p.len, &pk, msg, sizeof(msg)));
			CHECK_OK(verify_package(pk, &o, &res));
			CHECK(res.log_key_trusted);
			if (k == 0) {
				CHECK(res.verified && res.problems == 0);
			} else {
				CHECK(!res.verified && res.nproblem >= 1);
				CHECK(res.nproblem && !strcmp(res.problem[0].member, "checkpoint") &&
				      strstr(res.problem[0].what, "does not verify under --policy"));
			}
			verify_result_free(&res);
			package_free(pk);
		}
		free(pol);
	}
	/* still checked for consistency: an altered report is reported too
	 * (its member hash, its recomputation, and the missing trust) */
	off = (size_t)((uint8_t *)memmem(p.p, p.len, "lacre-completeness/v1", 21) - p.p);
	p.p[off] ^= 1;
	CHECK_EQ_INT(verify_find(&p, NULL, &expv, "completeness.json", "altered", &found, &verified), 3);
	CHECK(!verified && found);
	lacre_dbuf_free(&p);
}

static void test_verify_minimal_package(void)
{
	struct lacre_dbuf p;
	struct note_verifier logv, expv, other;
	char first[512];
	size_t off;

	lacre_dbuf_init(&p, 1 << 20);
	build_empty(&p, &logv, &expv, "");
	CHECK_EQ_INT(run_verify(&p, &logv, &expv, first, sizeof(first)), 0);
	/* another export key: the signature fails */
	other = expv;
	other.pub[0] ^= 1;
	CHECK(run_verify(&p, &logv, &other, first, sizeof(first)) > 0);
	CHECK(strstr(first, "manifest.sig: the signature does not verify") != NULL);
	/* another log key: the checkpoint fails */
	other = logv;
	other.pub[0] ^= 1;
	CHECK(run_verify(&p, &other, &expv, first, sizeof(first)) > 0);
	CHECK(strstr(first, "checkpoint: the log signature does not verify") != NULL);
	/* a flipped byte in the manifest's text: not the signed hash */
	off = (size_t)((uint8_t *)memmem(p.p, p.len, "warrant W-000001", 16) - p.p);
	p.p[off + 8] = 'X';
	CHECK(run_verify(&p, &logv, &expv, first, sizeof(first)) > 0);
	CHECK(strstr(first, "manifest.txt: altered") != NULL);
	p.p[off + 8] = 'W';
	/* a flipped byte in the completeness report: its member hash */
	off = (size_t)((uint8_t *)memmem(p.p, p.len, "lacre-completeness/v1", 21) - p.p);
	p.p[off] ^= 1;
	CHECK(run_verify(&p, &logv, &expv, first, sizeof(first)) > 0);
	CHECK(strstr(first, "completeness.json: altered") != NULL);
	lacre_dbuf_free(&p);
	/* a manifest that claims a record the package does not hold */
	lacre_dbuf_init(&p, 1 << 20);
	build_empty(&p, &logv, &expv, "");
	lacre_dbuf_free(&p);
	lacre_dbuf_init(&p, 1 << 20);
	build_empty(&p, &logv, &expv,
		    "record 1 seg/00000000000000000000000000000000 0 0 "
		    "0000000000000000000000000000000000000000000000000000000000000000\n");
	CHECK(run_verify(&p, &logv, &expv, first, sizeof(first)) > 0);
	CHECK(strstr(first, "record 1 is outside the export sequence") != NULL);
	lacre_dbuf_free(&p);
}

/* The fuzz seeds (real packages from `lacre export`, one of them spanning
 * two ingest logs) verify when the package's own ingest keys are given as
 * the trusted ones, and are NOT VERIFIED without them (one problem per
 * log, each naming its checkpoint member); with a key for every log but
 * the last, NOT VERIFIED naming that log; every truncation of them is
 * refused or fails. */
static void test_fuzz_seeds_verify(void)
{
	char dir[1024], path[1400], msg[256];
	struct dirent *de;
	DIR *d;
	int seen = 0, seen_multi = 0;

	snprintf(dir, sizeof(dir), "%s/fuzz/corpus/package", t_topdir());
	d = opendir(dir);
	CHECK(d != NULL);
	while ((de = readdir(d)) != NULL) {
		struct package *pk = NULL;
		struct verify_opts o;
		struct verify_result res;
		struct note_verifier logv[VERIFY_MAX_LOGS];
		const struct package_member *vk;
		uint8_t *p;
		size_t n, nk = 0;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		p = slurp(path, &n);
		CHECK(p != NULL);
		CHECK_OK(package_parse(p, n, &pk, msg, sizeof(msg)));
		memset(&o, 0, sizeof(o));
		memset(&res, 0, sizeof(res));
		/* the package's own keys: one ingest.vkey line per log */
		vk = package_find(pk, "ingest.vkey");
		CHECK(vk != NULL);
		for (size_t a = 0; vk && a < vk->len && nk < VERIFY_MAX_LOGS;) {
			const uint8_t *nl = memchr(vk->p + a, '\n', vk->len - a);
			size_t b = nl ? (size_t)(nl - vk->p) : vk->len;
			CHECK_OK(note_verifier_parse((const char *)vk->p + a, b - a, &logv[nk]));
			nk++;
			a = b + 1;
		}
		CHECK(nk >= 1);
		CHECK_OK(verify_package(pk, &o, &res));
		CHECK(!res.verified && res.problems == nk && res.nproblem == nk && res.nlogs == nk);
		CHECK(!strcmp(res.problem[0].member, "checkpoint"));
		if (nk == 1)
			CHECK(!strcmp(res.problem[0].what, VERIFY_NO_TRUSTED_KEY));
		for (size_t k = 1; k < nk && k < res.nproblem; k++) {
			char m[48];
			snprintf(m, sizeof(m), "logs/%zu.checkpoint", k + 1);
			CHECK_STR(res.problem[k].member, m);
			CHECK(strstr(res.problem[k].what, "no trusted log key for") &&
			      strstr(res.problem[k].what, logv[k].name));
		}
		CHECK(!res.log_key_trusted && !res.export_key_trusted);
		verify_result_free(&res);
		if (nk > 1) {
			/* every log's key but the last: that log is named */
			o.log_keys = logv;
			o.nlog_keys = nk - 1;
			memset(&res, 0, sizeof(res));
			CHECK_OK(verify_package(pk, &o, &res));
			CHECK(!res.verified && res.problems == 1 && res.nproblem == 1 &&
			      strstr(res.problem[0].what, logv[nk - 1].name) != NULL);
			verify_result_free(&res);
		}
		o.log_keys = logv;
		o.nlog_keys = nk;
		memset(&res, 0, sizeof(res));
		CHECK_OK(verify_package(pk, &o, &res));
		if (!res.verified)
			fprintf(stderr, "%s: %s: %s\n", de->d_name, res.nproblem ? res.problem[0].member : "",
				res.nproblem ? res.problem[0].what : "");
		CHECK(res.verified && res.log_key_trusted && !res.export_key_trusted && res.nlogs == nk);
		verify_result_free(&res);
		package_free(pk);
		if (nk > 1)
			seen_multi++;
		/* a cut anywhere in the last member is refused by the reader */
		CHECK(package_parse(p, n - 1, &pk, msg, sizeof(msg)) != LACRE_OK);
		free(p);
		seen++;
	}
	closedir(d);
	CHECK(seen >= 3);
	CHECK(seen_multi >= 1);
}

int main(void)
{
	RUN(test_writer_reader_roundtrip);
	RUN(test_parse_rejects);
	RUN(test_completeness_report);
	RUN(test_verify_minimal_package);
	RUN(test_verify_no_trusted_key);
	RUN(test_fuzz_seeds_verify);
	return t_done();
}

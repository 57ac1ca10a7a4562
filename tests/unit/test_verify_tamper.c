/*
 * test_verify_tamper.c - the offline verifier (lib/verify/verify.c) against
 * evidence packages altered after export.  A real package is made from a
 * site the sealing sink wrote (lib/access/export.c, one record excluded),
 * then rebuilt member by member, sealed again to the court, with one
 * change each:
 *   - by someone without the export key (the manifest and its signature
 *     kept): a member changed, removed, added or moved, the manifest
 *     changed, another export key trusted;
 *   - by someone holding the export key (the manifest's member lines
 *     recomputed and signed again: only the log's receipts and
 *     commitments can catch it): a PDU, a frame, a receipt, a records.jsonl
 *     line, an exclusion line, the completeness report, the checkpoint
 *     changed, and the access report removed.
 * Each result is not verified and names the member and reason expected;
 * the unchanged rebuild verifies (the rebuild itself changes nothing).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "sink_kit.h"
#include "lacre/export.h"
#include "lacre/hex.h"
#include "lacre/json.h"
#include "lacre/note.h"
#include "lacre/package.h"
#include "lacre/segment_proof.h"
#include "lacre/verify.h"

#define N_REC 12

static char wid[WARRANT_ID_MAX];
static struct age_x25519_identity court;
static char court_text[AGE_RECIPIENT_MAX];
static struct package *base;             /* the package as exported */
static struct note_signer *signer;       /* the site's export key */
static struct note_verifier log_key, export_key;
static int n_case;

/* The site, one warrant with N_REC IPCC records, the package exported
 * with record 3 excluded, opened into base. */
static int setup(void)
{
	struct warrant w;
	struct lacre_sink k;
	struct lacre_dbuf b;
	struct kit_recs *rs;
	struct lacre_store *st = NULL;
	struct export_opts o;
	struct acl_session *ss = NULL;
	struct export_result res;
	struct export_exclusion ex;
	const struct kit_rec *r3;
	char path[SITE_PATH_MAX + 32], spec[LACRE_STORE_NAME_MAX + 32];
	int64_t t0 = T("2026-02-01T10:00:00Z");
	size_t n;
	int r;

	if ((r = kit_make_site(NULL, 0, 0, 0)) != LACRE_OK)
		return r;
	kit_spec(&w, "LI-V", "2026-01-10", "2026-01-10", "2026-04-10");
	if ((r = warrant_add(&kit_site, kit_ks, &w, wid, kit_msg, sizeof(kit_msg))) != LACRE_OK ||
	    (r = seal_sink_open(&kit_site, &k, kit_msg, sizeof(kit_msg))) != LACRE_OK)
		return r;
	lacre_dbuf_init(&b, 1 << 20);
	for (int i = 0; i < N_REC && r == LACRE_OK; i++) {
		lacre_dbuf_reset(&b);
		r = kit_ipcc(&b, "LI-V", (uint64_t)i, t0 + (int64_t)i * 1000000, 70);
		if (r == LACRE_OK)
			r = kit_push(&k, b.p, b.len, t0 + (int64_t)i * 1000000, LACRE_HI3);
	}
	k.close(k.ctx);
	if (r != LACRE_OK)
		goto out;
	if ((rs = calloc(1, sizeof(*rs))) == NULL) {
		r = LACRE_E_NOMEM;
		goto out;
	}
	if ((r = lacre_store_open(kit_site.cfg.backend, &st)) == LACRE_OK)
		r = kit_read(st, wid, 0, rs, NULL);
	lacre_store_close(st);
	if (r == LACRE_OK && (r3 = kit_find(rs, 3)) != NULL) {
		snprintf(spec, sizeof(spec), "%s:%llu", r3->segment, (unsigned long long)r3->index);
		r = export_exclusion_parse_record(spec, &ex);
	} else if (r == LACRE_OK)
		r = LACRE_E_NOT_FOUND;
	free(rs);
	if (r != LACRE_OK ||
	    (r = age_x25519_generate(&court)) != LACRE_OK ||
	    (r = age_recipient_encode(court.public_key, court_text)) != LACRE_OK)
		goto out;
	memset(&o, 0, sizeof(o));
	snprintf(path, sizeof(path), "%s/base.age", t_tmpdir());
	o.warrant = wid;
	o.from_us = INT64_MIN;
	o.to_us = INT64_MAX;
	memcpy(o.court, court.public_key, 32);
	o.court_recipient = court_text;
	o.path = path;
	o.excl = &ex;
	o.n_excl = 1;
	o.no_media = 1;
	o.access_report = "lacre-access-report/v1\nentries 0\n";
	/* the keys through the gate's session, as `lacre export` reads them */
	if ((r = kit_session(wid, 0, &ss)) != LACRE_OK)
		goto out;
	o.session = ss;
	if ((r = export_run(&kit_site, &o, &res, kit_msg, sizeof(kit_msg))) != LACRE_OK)
		goto out;
	lacre_dbuf_free(&b);                       /* site_read_file makes b anew */
	if ((r = site_read_file(path, (size_t)1 << 28, &b)) != LACRE_OK ||
	    (r = package_open(b.p, b.len, &court, &base, kit_msg, sizeof(kit_msg))) != LACRE_OK ||
	    (r = export_signer(&kit_site, ss, &signer)) != LACRE_OK)
		goto out;
	note_signer_public(signer, &export_key);
	snprintf(path, sizeof(path), "%s/ledger/ingest/vkey", kit_site.dir);
	lacre_dbuf_free(&b);
	if ((r = site_read_file(path, 1 << 16, &b)) != LACRE_OK)
		goto out;
	for (n = b.len; n && (b.p[n - 1] == '\n' || b.p[n - 1] == 0); n--)
		;
	r = note_verifier_parse((const char *)b.p, n, &log_key);
out:
	acl_session_close(ss);
	lacre_dbuf_free(&b);
	return r;
}

/* One change to the package. */
struct change {
	const char *member;       /* the member changed (NULL: none) */
	const char *from, *to;    /* replace the first "from" by "to" in it;
				   * from NULL: flip the last byte's low bit */
	int drop;                 /* remove the member */
	int resign;               /* recompute the manifest's member lines and sign again */
	const char *add;          /* add a member of this name (before the manifest) */
	int swap;                 /* exchange the first two members */
	const char *manifest_from, *manifest_to; /* a change of the manifest text */
	int sp_hash;              /* member is a segment proof: flip a bit of its first
				   * path hash and write it back in its one form */
};

/* A segment proof with one bit of its first path hash flipped, in its one
 * form (so only the hash is wrong) into out. */
static int flip_sp_hash(const uint8_t *p, size_t n, struct lacre_dbuf *out)
{
	static struct segment_proof sp;
	int r;

	if ((r = segment_proof_parse(p, n, &sp)) != LACRE_OK)
		return r;
	if (sp.path.n == 0)
		return LACRE_E_INVALID;
	sp.path.h[0][5] ^= 0x10;
	lacre_dbuf_reset(out);
	return segment_proof_format(sp.entry, sp.entry_len, sp.index, sp.n, &sp.path, out);
}

/* Apply from/to (or a bit flip) to p[0..n) into out. */
static int edit(const uint8_t *p, size_t n, const char *from, const char *to, struct lacre_dbuf *out)
{
	const uint8_t *at;

	lacre_dbuf_reset(out);
	if (!from) {
		int r = lacre_dbuf_add(out, p, n);
		if (r == LACRE_OK && out->len)
			out->p[out->len - 1] ^= 1;
		return r;
	}
	if ((at = memmem(p, n, from, strlen(from))) == NULL)
		return LACRE_E_NOT_FOUND;
	if (lacre_dbuf_add(out, p, (size_t)(at - p)) != LACRE_OK ||
	    lacre_dbuf_add_str(out, to) != LACRE_OK ||
	    lacre_dbuf_add(out, at + strlen(from), n - (size_t)(at - p) - strlen(from)) != LACRE_OK)
		return LACRE_E_NOMEM;
	return LACRE_OK;
}

/* Rebuild base with change c, sealed to the court, and open it into *out. */
static int rebuild(const struct change *c, struct package **out)
{
	struct package_writer *w = NULL;
	struct lacre_dbuf d, man, lines, stmt, sig, file;
	const struct package_member *mf = package_find(base, PACKAGE_MANIFEST);
	const struct package_member *ms = package_find(base, PACKAGE_SIGNATURE);
	size_t nd = base->n - 2, order[4096];
	char path[SITE_PATH_MAX + 32], hex[65], id[33] = "";
	uint8_t sha[32];
	const uint8_t *pl;
	int r;

	if (!mf || !ms || nd > sizeof(order) / sizeof(order[0]))
		return LACRE_E_INTERNAL;
	for (size_t i = 0; i < nd; i++)
		order[i] = i;
	if (c->swap && nd >= 2) {
		order[0] = 1;
		order[1] = 0;
	}
	snprintf(path, sizeof(path), "%s/case%d.age", t_tmpdir(), ++n_case);
	lacre_dbuf_init(&d, (size_t)1 << 26);
	lacre_dbuf_init(&man, (size_t)1 << 24);
	lacre_dbuf_init(&lines, (size_t)1 << 24);
	lacre_dbuf_init(&stmt, 4096);
	lacre_dbuf_init(&sig, 4096);
	lacre_dbuf_init(&file, (size_t)1 << 28);
	if ((r = package_writer_open(path, court.public_key, &w)) != LACRE_OK)
		goto out;
	for (size_t k = 0; k < nd && r == LACRE_OK; k++) {
		const struct package_member *m = &base->m[order[k]];
		const uint8_t *p = m->p;
		size_t n = m->len;
		if (c->member && !strcmp(c->member, m->name)) {
			if (c->drop)
				continue;
			if ((r = c->sp_hash ? flip_sp_hash(m->p, m->len, &d)
					    : edit(m->p, m->len, c->from, c->to, &d)) != LACRE_OK)
				break;
			p = d.p;
			n = d.len;
		}
		if ((r = package_writer_add(w, m->name, p, n, sha)) != LACRE_OK)
			break;
		lacre_hex(sha, 32, hex);
		r = lacre_dbuf_printf(&lines, "member %s %zu %s\n", hex, n, m->name);
	}
	if (r == LACRE_OK && c->add) {
		if ((r = package_writer_add(w, c->add, "extra\n", 6, sha)) == LACRE_OK) {
			lacre_hex(sha, 32, hex);
			r = lacre_dbuf_printf(&lines, "member %s 6 %s\n", hex, c->add);
		}
	}
	if (r != LACRE_OK)
		goto out;
	/* the manifest: as exported, or edited and with the new member lines */
	if (c->manifest_from)
		r = edit(mf->p, mf->len, c->manifest_from, c->manifest_to, &man);
	else
		r = lacre_dbuf_add(&man, mf->p, mf->len);
	if (r == LACRE_OK && c->resign) {
		const uint8_t *first = memmem(man.p, man.len, "\nmember ", 8);
		if (first)
			man.len = (size_t)(first - man.p) + 1;
		r = lacre_dbuf_add(&man, lines.p, lines.len);
	}
	if (r != LACRE_OK || (r = package_writer_add(w, PACKAGE_MANIFEST, man.p, man.len, sha)) != LACRE_OK)
		goto out;
	if (c->resign) {
		if ((pl = memmem(man.p, man.len, "\npackage ", 9)) != NULL)
			snprintf(id, sizeof(id), "%.32s", (const char *)pl + 9);
		lacre_hex(sha, 32, hex);
		if ((r = lacre_dbuf_printf(&stmt, "%spackage %s\nmanifest %s\n", PACKAGE_MAGIC, id, hex)) != LACRE_OK ||
		    (r = note_sign(signer, stmt.p, stmt.len, &sig)) != LACRE_OK ||
		    (r = package_writer_add(w, PACKAGE_SIGNATURE, sig.p, sig.len, NULL)) != LACRE_OK)
			goto out;
	} else if ((r = package_writer_add(w, PACKAGE_SIGNATURE, ms->p, ms->len, NULL)) != LACRE_OK)
		goto out;
	if ((r = package_writer_finish(w)) != LACRE_OK ||
	    (r = site_read_file(path, (size_t)1 << 28, &file)) != LACRE_OK)
		goto out;
	r = package_open(file.p, file.len, &court, out, kit_msg, sizeof(kit_msg));
out:
	package_writer_free(w);
	lacre_dbuf_free(&d);
	lacre_dbuf_free(&man);
	lacre_dbuf_free(&lines);
	lacre_dbuf_free(&stmt);
	lacre_dbuf_free(&sig);
	lacre_dbuf_free(&file);
	return r;
}

/* Verify pk with the trusted keys (lk / ek may be NULL); 1 when verified.
 * *hit is 1 when a problem of member mem contains text. */
static int check(const struct package *pk, const struct note_verifier *lk,
		 const struct note_verifier *ek, const char *mem, const char *text, int *hit)
{
	struct verify_opts vo;
	struct verify_result res;
	int ok;

	memset(&vo, 0, sizeof(vo));
	memset(&res, 0, sizeof(res));
	vo.log_key = lk;
	vo.export_key = ek;
	*hit = 0;
	if (verify_package(pk, &vo, &res) != LACRE_OK)
		return -1;
	ok = res.verified;
	for (size_t i = 0; i < res.nproblem; i++)
		if ((!mem || !strcmp(res.problem[i].member, mem)) && strstr(res.problem[i].what, text))
			*hit = 1;
	if (!*hit && mem)
		for (size_t i = 0; i < res.nproblem; i++)
			fprintf(stderr, "  got %s: %s\n", res.problem[i].member, res.problem[i].what);
	verify_result_free(&res);
	return ok;
}

/* Rebuild with c and expect "not verified" with problem (mem, text). */
static int refused(const struct change *c, const char *mem, const char *text)
{
	struct package *pk = NULL;
	int hit = 0, ok;

	if (rebuild(c, &pk) != LACRE_OK)
		return 0;
	ok = check(pk, &log_key, &export_key, mem, text, &hit);
	package_free(pk);
	return ok == 0 && hit;
}

/* The package as exported, and rebuilt unchanged (re-signed too), verify. */
static void test_unchanged(void)
{
	struct change none = { 0 }, resigned = { 0 };
	struct package *pk = NULL;
	int hit;

	CHECK_OK(setup());
	CHECK_EQ_INT(check(base, &log_key, &export_key, NULL, "", &hit), 1);
	CHECK_OK(rebuild(&none, &pk));
	CHECK_EQ_INT(check(pk, &log_key, &export_key, NULL, "", &hit), 1);
	package_free(pk);
	resigned.resign = 1;
	CHECK_OK(rebuild(&resigned, &pk));
	CHECK_EQ_INT(check(pk, &log_key, &export_key, NULL, "", &hit), 1);
	/* no trusted log key: never verified (fail closed) */
	CHECK_EQ_INT(check(pk, NULL, &export_key, "checkpoint", "no trusted log key", &hit), 0);
	CHECK_EQ_INT(hit, 1);
	/* another export key trusted */
	{
		struct note_signer *other = NULL;
		struct note_verifier ov;
		CHECK_OK(note_signer_generate("lacre/other/export", 1, &other));
		note_signer_public(other, &ov);
		note_signer_free(other);
		CHECK_EQ_INT(check(pk, &log_key, &ov, PACKAGE_SIGNATURE,
				   "the signature does not verify with export key", &hit), 0);
		CHECK_EQ_INT(hit, 1);
	}
	package_free(pk);
}

/* Without the export key: any change shows in the manifest's hashes or
 * its signature. */
static void test_without_export_key(void)
{
	struct change c;

	memset(&c, 0, sizeof(c));
	c.member = "records.jsonl";
	CHECK(refused(&c, "records.jsonl", "altered: its SHA-256 differs from the manifest's"));
	memset(&c, 0, sizeof(c));
	c.member = "records/00000001.pdu";
	c.drop = 1;
	CHECK(refused(&c, "records/00000001.pdu", "missing from the package (removed)"));
	memset(&c, 0, sizeof(c));
	c.add = "zz-extra.txt";
	CHECK(refused(&c, "zz-extra.txt", "in the package but not in the manifest (added)"));
	memset(&c, 0, sizeof(c));
	c.swap = 1;
	CHECK(refused(&c, NULL, "not at the place the manifest gives (members reordered)"));
	memset(&c, 0, sizeof(c));
	c.manifest_from = "justification ";
	c.manifest_to = "justification X";
	CHECK(refused(&c, PACKAGE_MANIFEST, "altered: its SHA-256 is not the one signed in manifest.sig"));
	memset(&c, 0, sizeof(c));
	c.member = "completeness.json";
	c.from = "\"";
	c.to = "\"\"";
	CHECK(refused(&c, "completeness.json", "bytes, the manifest says"));
}

/* With the export key: the manifest agrees, the log's proofs do not. */
static void test_with_export_key(void)
{
	struct change c;

	memset(&c, 0, sizeof(c));
	c.resign = 1;
	c.member = "records/00000001.pdu";
	CHECK(refused(&c, "records/00000001.pdu", "differs from the PDU sealed in its frame"));
	memset(&c, 0, sizeof(c));
	c.resign = 1;
	c.member = "records/00000002.frame";
	CHECK(refused(&c, "records/00000002.frame", "its SHA-256 is not the record's commitment"));
	memset(&c, 0, sizeof(c));
	c.resign = 1;
	c.member = "records/00000001.tlog-proof";
	c.drop = 1;
	CHECK(refused(&c, "records/00000001.tlog-proof", "missing"));
	memset(&c, 0, sizeof(c));
	c.resign = 1;
	c.member = "records/00000002.tlog-proof";
	c.from = "index ";
	c.to = "index 9";
	/* one leaf per segment: the record is proven through its segment's
	 * entry, leaf 0 here */
	CHECK(refused(&c, "records/00000002.tlog-proof", "proves leaf 90, the manifest says 0"));
	/* the segment proof: one path hash changed, the index changed, the
	 * file dropped (the commitment then has no leaf of its own) */
	memset(&c, 0, sizeof(c));
	c.resign = 1;
	c.member = "records/00000002.segment-proof";
	c.sp_hash = 1;
	CHECK(refused(&c, "records/00000002.segment-proof", "the path does not take commitment "));
	CHECK(refused(&c, "records/00000002.segment-proof", "to the records root of seg/"));
	memset(&c, 0, sizeof(c));
	c.resign = 1;
	c.member = "records/00000002.segment-proof";
	c.from = "\nrecord ";
	c.to = "\nrecord 9";
	CHECK(refused(&c, "records/00000002.segment-proof", "not a lacre-segment-proof/v1 file (altered)"));
	memset(&c, 0, sizeof(c));
	c.resign = 1;
	c.member = "records/00000002.segment-proof";
	c.drop = 1;
	CHECK(refused(&c, "records/00000002.tlog-proof", "the inclusion proof does not take commitment"));
	memset(&c, 0, sizeof(c));
	c.resign = 1;
	c.member = "completeness.json";
	c.from = "\"";
	c.to = " \"";
	CHECK(refused(&c, "completeness.json", "differs from the report recomputed"));
	memset(&c, 0, sizeof(c));
	c.resign = 1;
	c.member = "access-report.txt";
	c.drop = 1;
	CHECK(refused(&c, "access-report.txt", "missing"));
	memset(&c, 0, sizeof(c));
	c.resign = 1;
	c.member = "exclusions.txt";
	c.from = "lacre-exclusions/v1";
	c.to = "lacre-exclusions/v2";
	CHECK(refused(&c, "exclusions.txt", "does not start with lacre-exclusions/v1 (altered)"));
	memset(&c, 0, sizeof(c));
	c.resign = 1;
	c.member = "exclusions.txt";
	c.from = "excluded n=";
	c.to = "excluded x=";
	CHECK(refused(&c, "exclusions.txt", "is malformed (altered)"));
	memset(&c, 0, sizeof(c));
	c.resign = 1;
	c.member = "records.jsonl";
	c.from = "\n";
	c.to = "\n{}\n";
	CHECK(refused(&c, "records.jsonl", "line 2 (record 2) is not the record's decoded form"));
	CHECK(refused(&c, "records.jsonl", "has lines after the last record (lines added)"));
	memset(&c, 0, sizeof(c));
	c.resign = 1;
	c.member = "checkpoint";
	CHECK(refused(&c, "checkpoint", "the log signature does not verify with lacre/site/ingest+"));
	memset(&c, 0, sizeof(c));
	c.resign = 1;
	c.manifest_from = "\nrecords ";
	c.manifest_to = "\nrecords 9";
	CHECK(refused(&c, PACKAGE_MANIFEST, "claims 912 records"));
	/* the excluded record's line moved out of the sequence, or onto an
	 * included record */
	memset(&c, 0, sizeof(c));
	c.resign = 1;
	c.member = "exclusions.txt";
	c.from = "excluded n=4 ";
	c.to = "excluded n=99 ";
	CHECK(refused(&c, "exclusions.txt", "line 2: n=99 is outside 1..12"));
	c.to = "excluded n=1 ";
	CHECK(refused(&c, "exclusions.txt", "line 2: record 1 is both included and excluded"));
}

/* The result as JSON (lacre-verify --json), verified and not; a quorum
 * of trusted witnesses the package's checkpoint does not meet. */
static void test_json_and_quorum(void)
{
	struct verify_opts vo;
	struct verify_result res;
	struct lacre_dbuf d;
	struct json_w w;
	struct change c;
	struct package *pk = NULL;
	struct note_signer *wit = NULL;
	struct note_verifier wv;

	CHECK(base != NULL);                      /* test_unchanged ran setup */
	lacre_dbuf_init(&d, 1 << 20);
	memset(&vo, 0, sizeof(vo));
	memset(&res, 0, sizeof(res));
	vo.log_key = &log_key;
	vo.export_key = &export_key;
	CHECK_OK(verify_package(base, &vo, &res));
	CHECK_EQ_INT(res.verified, 1);
	json_init(&w, &d);
	verify_result_json(&w, &res);
	CHECK_OK(json_finish(&w));
	CHECK_OK(lacre_dbuf_add_u8(&d, 0));
	CHECK(strstr((char *)d.p, "\"verified\":true") != NULL);
	CHECK(strstr((char *)d.p, "\"key_trusted\":true") != NULL);
	CHECK(strstr((char *)d.p, "\"export_key_trusted\":true") != NULL);
	CHECK(strstr((char *)d.p, "\"excluded\":1") != NULL);
	CHECK(strstr((char *)d.p, "\"problems\":0") != NULL);
	CHECK(strstr((char *)d.p, "\"exclusions\":[") != NULL);
	verify_result_free(&res);
	/* one trusted witness, quorum 1: the site's log has none */
	CHECK_OK(note_signer_generate("witness.example/q", NOTE_TYPE_COSIG, &wit));
	note_signer_public(wit, &wv);
	note_signer_free(wit);
	vo.witnesses = &wv;
	vo.nw = 1;
	vo.quorum = 1;
	memset(&res, 0, sizeof(res));
	CHECK_OK(verify_package(base, &vo, &res));
	CHECK_EQ_INT(res.verified, 0);
	CHECK_EQ_INT(res.cosignatures, 0);
	{
		int hit = 0;
		for (size_t i = 0; i < res.nproblem; i++)
			if (!strcmp(res.problem[i].member, "checkpoint") &&
			    strstr(res.problem[i].what, "cosigned by 0 of the trusted witnesses, the quorum is 1"))
				hit = 1;
		CHECK(hit);
	}
	lacre_dbuf_reset(&d);
	json_init(&w, &d);
	verify_result_json(&w, &res);
	CHECK_OK(json_finish(&w));
	CHECK_OK(lacre_dbuf_add_u8(&d, 0));
	CHECK(strstr((char *)d.p, "\"verified\":false") != NULL);
	CHECK(strstr((char *)d.p, "\"problem_list\":[{\"member\":\"checkpoint\"") != NULL);
	verify_result_free(&res);
	/* a tampered package's problems are listed in the JSON */
	memset(&c, 0, sizeof(c));
	c.member = "records.jsonl";
	CHECK_OK(rebuild(&c, &pk));
	memset(&vo, 0, sizeof(vo));
	vo.log_key = &log_key;
	memset(&res, 0, sizeof(res));
	CHECK_OK(verify_package(pk, &vo, &res));
	lacre_dbuf_reset(&d);
	json_init(&w, &d);
	verify_result_json(&w, &res);
	CHECK_OK(json_finish(&w));
	CHECK_OK(lacre_dbuf_add_u8(&d, 0));
	CHECK(strstr((char *)d.p, "\"member\":\"records.jsonl\"") != NULL);
	CHECK(strstr((char *)d.p, "\"export_key_trusted\":false") != NULL);
	CHECK(strstr((char *)d.p, "\"notes\":[") != NULL);
	verify_result_free(&res);
	package_free(pk);
	lacre_dbuf_free(&d);
}

/* Manifest lines changed by the holder of the export key. */
static void test_manifest_lines(void)
{
	struct change c;

	memset(&c, 0, sizeof(c));
	c.resign = 1;
	c.manifest_from = "\nwarrant ";
	c.manifest_to = "\nwarrant-x ";
	CHECK(refused(&c, PACKAGE_MANIFEST, "no warrant or log line"));
	CHECK(refused(&c, "records/00000001.pdu", "the record was not sealed to warrant"));
	memset(&c, 0, sizeof(c));
	c.resign = 1;
	c.manifest_from = "\nlog-size ";
	c.manifest_to = "\nlog-size x";
	CHECK(refused(&c, PACKAGE_MANIFEST, "is malformed (altered)"));
	memset(&c, 0, sizeof(c));
	c.resign = 1;
	c.manifest_from = "\nrecord 2 ";
	c.manifest_to = "\nrecord 1 ";
	CHECK(refused(&c, PACKAGE_MANIFEST, "record 1 is listed twice"));
	memset(&c, 0, sizeof(c));
	c.resign = 1;
	c.manifest_from = "\nrecord 2 ";
	c.manifest_to = "\nrecord 40 ";
	CHECK(refused(&c, PACKAGE_MANIFEST, "record 40 is outside the export sequence 1..12"));
	memset(&c, 0, sizeof(c));
	c.resign = 1;
	c.manifest_from = "\nexclude-record ";
	c.manifest_to = "\nexclude-record x";
	CHECK(refused(&c, "exclusions.txt", "is not one the manifest states"));
}

int main(void)
{
	RUN(test_unchanged);
	RUN(test_without_export_key);
	RUN(test_with_export_key);
	RUN(test_json_and_quorum);
	RUN(test_manifest_lines);
	package_free(base);
	note_signer_free(signer);
	keystore_close(kit_ks);
	return t_done();
}

/*
 * test_logs_index.c - the logs index (lib/access/receipts.c) over a site
 * with two receivers, "a" and "b", each with its own ingest log written by
 * the real sealing sink (issue 15, "Many machines"): every record of one
 * warrant is found in the log of the receiver that sealed it, its receipt
 * carries that log's checkpoint and verifies against that log's tree, and
 * its segment proof reaches its entry's records root.  Refused or said,
 * each with its own error and the origin named: a log whose checkpoint
 * does not verify with its key (LACRE_E_AUTH), a segment named by both
 * logs (LACRE_E_VERIFY, naming the segment and both origins).  A log with
 * no checkpoint yet is left out: its records are in no signed log.
 * An export of the warrant spans both logs (docs/FORMATS.md §9: two log
 * lines, logs/2.checkpoint, two ingest.vkey lines, a log number on every
 * record line) and verifies with both logs' keys only; an export of a's
 * records alone is a single-log package.  The deep audit of both logs
 * decrypts every segment with no problem; of a's log alone, b's segments
 * are on the backend named by no log it audited (unlogged).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "sink_kit.h"
#include "lacre/deep_audit.h"
#include "lacre/export.h"
#include "lacre/ingest_logs.h"
#include "lacre/merkle.h"
#include "lacre/note.h"
#include "lacre/package.h"
#include "lacre/segment_proof.h"
#include "lacre/verify.h"

#define N_A 5                     /* records receiver a seals (seq 0..4) */
#define N_B 7                     /* records receiver b seals (seq 100..106) */

static struct lacre_store *st;
static struct kit_recs *recs;     /* the warrant's records, read back */
static char wid[WARRANT_ID_MAX];
static char origin_a[NOTE_NAME_MAX + 1], origin_b[NOTE_NAME_MAX + 1];

/* Seal n records of LIID LI-M (seq from seq0) as receiver name. */
static int seal_as(const char *name, uint64_t seq0, int n)
{
	struct lacre_sink k;
	struct lacre_dbuf b;
	int64_t t0 = T("2026-02-01T10:00:00Z");
	int r;

	if ((r = site_receiver_select(&kit_site, name, kit_msg, sizeof(kit_msg))) != LACRE_OK ||
	    (r = seal_sink_open(&kit_site, &k, kit_msg, sizeof(kit_msg))) != LACRE_OK)
		return r;
	lacre_dbuf_init(&b, 1 << 20);
	for (int i = 0; i < n && r == LACRE_OK; i++) {
		lacre_dbuf_reset(&b);
		r = kit_ipcc(&b, "LI-M", seq0 + (uint64_t)i, t0 + (int64_t)seq0 + i, 60);
		if (r == LACRE_OK)
			r = kit_push(&k, b.p, b.len, t0 + (int64_t)seq0 + i, LACRE_HI3);
	}
	k.close(k.ctx);
	lacre_dbuf_free(&b);
	return r;
}

/* A site (one warrant) whose receivers a and b each sealed a part of its
 * records, every record closing its segment (one leaf per segment). */
static int make_site(void)
{
	struct warrant w;
	char spec[SITE_PATH_MAX + 16];
	int r;

	if ((r = kit_make_site(NULL, 0, 1, 0)) != LACRE_OK)
		return r;
	kit_spec(&w, "LI-M", "2026-01-10", "2026-01-10", "2026-04-10");
	if ((r = warrant_add(&kit_site, kit_ks, &w, wid, kit_msg, sizeof(kit_msg))) != LACRE_OK ||
	    (r = seal_as("a", 0, N_A)) != LACRE_OK || (r = seal_as("b", 100, N_B)) != LACRE_OK ||
	    (r = site_ingest_origin(&kit_site, "a", origin_a, sizeof(origin_a))) != LACRE_OK ||
	    (r = site_ingest_origin(&kit_site, "b", origin_b, sizeof(origin_b))) != LACRE_OK)
		return r;
	if (snprintf(spec, sizeof(spec), "dir:%s/objects", kit_site.dir) >= (int)sizeof(spec))
		return LACRE_E_TOO_LARGE;
	if ((r = lacre_store_open(spec, &st)) != LACRE_OK)
		return r;
	if (!(recs = calloc(1, sizeof(*recs))))
		return LACRE_E_NOMEM;
	return kit_read(st, wid, 0, recs, NULL);
}

/* The vkey of receiver name's log, parsed into v. */
static int log_vkey(const char *name, struct note_verifier *v)
{
	struct lacre_dbuf f;
	char path[SITE_PATH_MAX + 64];
	size_t n;
	int r;

	snprintf(path, sizeof(path), "%s/ledger/ingest-%s/vkey", kit_site.dir, name);
	lacre_dbuf_init(&f, 1 << 16);
	if ((r = site_read_file(path, 1 << 16, &f)) == LACRE_OK) {
		for (n = f.len; n && f.p[n - 1] == '\n'; n--)
			;
		r = note_verifier_parse((const char *)f.p, n, v);
	}
	lacre_dbuf_free(&f);
	return r;
}

/* Verify pk with the log keys lk[0..nlk) and export key ev: *ok, and the
 * first problem's member and text (or ""). */
static int verify_with(const struct package *pk, const struct note_verifier *lk, size_t nlk,
		       const struct note_verifier *ev, int *ok, char *member, char *what)
{
	struct verify_opts vo;
	struct verify_result res;
	int r;

	memset(&vo, 0, sizeof(vo));
	memset(&res, 0, sizeof(res));
	vo.log_keys = lk;
	vo.nlog_keys = nlk;
	vo.export_key = ev;
	if ((r = verify_package(pk, &vo, &res)) != LACRE_OK)
		return r;
	*ok = res.verified;
	member[0] = what[0] = 0;
	if (res.nproblem) {
		snprintf(member, 64, "%s", res.problem[0].member);
		snprintf(what, 320, "%s", res.problem[0].what);
	}
	verify_result_free(&res);
	return LACRE_OK;
}

/* Export the warrant's records of [from, to) to t_tmpdir()/name, open it. */
static int export_to(const char *name, int64_t from, int64_t to, struct export_result *res,
		     struct package **pk, struct age_x25519_identity *court)
{
	struct export_opts o;
	struct lacre_dbuf f;
	struct acl_session *ss = NULL;
	char path[SITE_PATH_MAX], rtext[AGE_RECIPIENT_MAX], msg[512];
	int r;

	if ((r = age_x25519_generate(court)) != LACRE_OK ||
	    (r = age_recipient_encode(court->public_key, rtext)) != LACRE_OK)
		return r;
	memset(&o, 0, sizeof(o));
	snprintf(path, sizeof(path), "%s/%s", t_tmpdir(), name);
	o.warrant = wid;
	o.from_us = from;
	o.to_us = to;
	memcpy(o.court, court->public_key, 32);
	o.court_recipient = rtext;
	o.path = path;
	o.no_media = 1;
	/* the keys through the gate's session, as `lacre export` reads them */
	if ((r = kit_session(wid, 0, &ss)) != LACRE_OK)
		return r;
	o.session = ss;
	r = export_run(&kit_site, &o, res, msg, sizeof(msg));
	acl_session_close(ss);
	if (r != LACRE_OK) {
		fprintf(stderr, "  export: %s\n", msg);
		return r;
	}
	lacre_dbuf_init(&f, (size_t)1 << 28);
	if ((r = site_read_file(path, (size_t)1 << 28, &f)) == LACRE_OK)
		r = package_open(f.p, f.len, court, pk, msg, sizeof(msg));
	lacre_dbuf_free(&f);
	return r;
}

/* Lines of member name of pk that start with prefix and (when suffix)
 * end with suffix. */
static size_t member_lines(const struct package *pk, const char *name, const char *prefix,
			   const char *suffix)
{
	const struct package_member *m = package_find(pk, name);
	size_t n = 0, pl = strlen(prefix), sl = suffix ? strlen(suffix) : 0;

	if (!m)
		return 0;
	for (size_t a = 0; a < m->len;) {
		const uint8_t *nl = memchr(m->p + a, '\n', m->len - a);
		size_t b = nl ? (size_t)(nl - m->p) : m->len;
		if (b - a >= pl + sl && !memcmp(m->p + a, prefix, pl) &&
		    (!suffix || !memcmp(m->p + b - sl, suffix, sl)))
			n++;
		a = b + 1;
	}
	return n;
}

/* An export of the warrant spans both logs and verifies with both keys
 * only; an export of a's records alone is a single-log package. */
static void test_export(void)
{
	struct export_result res;
	struct package *pk = NULL;
	struct age_x25519_identity court;
	struct note_verifier k[2], ev, wrong;
	struct note_signer *sig = NULL;
	char member[64], what[320], line[NOTE_NAME_MAX + 16];
	int64_t t0 = T("2026-02-01T10:00:00Z");
	int ok = 0;

	CHECK(st != NULL);
	CHECK_OK(log_vkey("a", &k[0]));
	CHECK_OK(log_vkey("b", &k[1]));
	CHECK_OK(export_to("both.age", INT64_MIN, INT64_MAX, &res, &pk, &court));
	CHECK_EQ_INT(res.logs, 2);
	CHECK_EQ_INT(res.included, N_A + N_B);
	CHECK(res.self_verified);
	CHECK_OK(note_verifier_parse(res.export_vkey, strlen(res.export_vkey), &ev));
	/* its logs: a first (the site's order), then b */
	snprintf(line, sizeof(line), "log %s", origin_a);
	CHECK_EQ_INT(member_lines(pk, PACKAGE_MANIFEST, line, NULL), 1);
	snprintf(line, sizeof(line), "log %s", origin_b);
	CHECK_EQ_INT(member_lines(pk, PACKAGE_MANIFEST, line, NULL), 1);
	CHECK_EQ_INT(member_lines(pk, PACKAGE_MANIFEST, "log-size ", NULL), 2);
	CHECK_EQ_INT(member_lines(pk, PACKAGE_MANIFEST, "record ", " 1"), N_A);
	CHECK_EQ_INT(member_lines(pk, PACKAGE_MANIFEST, "record ", " 2"), N_B);
	CHECK(package_find(pk, "checkpoint") != NULL && package_find(pk, "logs/2.checkpoint") != NULL);
	CHECK_EQ_INT(member_lines(pk, "ingest.vkey", origin_a, NULL), 1);
	CHECK_EQ_INT(member_lines(pk, "ingest.vkey", origin_b, NULL), 1);
	/* both keys: verified */
	CHECK_OK(verify_with(pk, k, 2, &ev, &ok, member, what));
	CHECK(ok);
	/* a's only: not verified, b named */
	CHECK_OK(verify_with(pk, k, 1, &ev, &ok, member, what));
	CHECK(!ok);
	CHECK_STR(member, "logs/2.checkpoint");
	CHECK(strstr(what, "no trusted log key for") && strstr(what, origin_b));
	/* another key of b's name: its signature does not verify */
	CHECK_OK(note_signer_generate(origin_b, NOTE_TYPE_ED25519, &sig));
	note_signer_public(sig, &wrong);
	note_signer_free(sig);
	k[1] = wrong;
	CHECK_OK(verify_with(pk, k, 2, &ev, &ok, member, what));
	CHECK(!ok);
	CHECK_STR(member, "logs/2.checkpoint");
	CHECK(strstr(what, "the log signature does not verify") != NULL);
	package_free(pk);
	pk = NULL;
	age_identity_wipe(&court);
	/* a's records alone (seq 0..4 at t0 + seq us): the single-log form */
	CHECK_OK(export_to("a.age", t0, t0 + 50, &res, &pk, &court));
	CHECK_EQ_INT(res.logs, 1);
	CHECK_EQ_INT(res.included, N_A);
	CHECK(package_find(pk, "logs/2.checkpoint") == NULL);
	CHECK_EQ_INT(member_lines(pk, PACKAGE_MANIFEST, "log ", NULL), 1);
	CHECK_EQ_INT(member_lines(pk, PACKAGE_MANIFEST, "record ", " 1"), 0);
	CHECK_OK(verify_with(pk, k, 1, &ev, &ok, member, what));
	CHECK(ok);
	package_free(pk);
	age_identity_wipe(&court);
}

/* No report is expected: count them. */
static void on_deep(void *arg, const char *segment, const char *what)
{
	(void)segment;
	(void)what;
	(*(int *)arg)++;
}

/* The deep audit over both logs, then over a's alone. */
static void test_deep(void)
{
	struct receipts_index *ix = NULL;
	struct age_x25519_identity wkey, okey;
	struct deep_identity ids[2];
	struct deep_log logs[2];
	struct deep_audit_result res;
	int reports = 0;

	CHECK(st != NULL);
	CHECK_OK(keystore_get(kit_ks, wid, &wkey, NULL));
	CHECK_OK(keystore_get(kit_ks, SITE_OVERSIGHT_KEY, &okey, NULL));
	ids[0].name = wid;
	ids[0].id = &wkey;
	ids[1].name = SITE_OVERSIGHT_KEY;
	ids[1].id = &okey;
	CHECK_OK(receipts_index_open(&kit_site, st, &ix, kit_msg, sizeof(kit_msg)));
	for (size_t i = 0; i < 2; i++) {
		logs[i].origin = receipts_index_origin(ix, i);
		logs[i].size = receipts_index_tree(ix, i)->size;
		logs[i].running = 0;
	}
	CHECK_OK(deep_audit_run_logs(&kit_site, st, logs, 2, ids, 2, on_deep, &reports, &res));
	CHECK_EQ_INT(reports, 0);
	CHECK_EQ_INT(res.problems, 0);
	CHECK_EQ_INT(res.segments, N_A + N_B);     /* one record, one segment, one leaf */
	CHECK(res.records >= N_A + N_B);
	CHECK_EQ_INT(res.unlogged_segments, 0);
	/* a's log alone: b's segments are named by no log audited */
	CHECK_EQ_INT(deep_audit_run_logs(&kit_site, st, logs, 1, ids, 2, on_deep, &reports, &res),
		     LACRE_E_VERIFY);
	CHECK_EQ_INT(res.segments, N_A);
	CHECK_EQ_INT(res.unlogged_segments, N_B);
	CHECK_EQ_INT(res.problems, N_B);
	receipts_index_free(ix);
	age_identity_wipe(&wkey);
	age_identity_wipe(&okey);
}

/* DIR/ledger/ingest-NAME/checkpoint. */
static void cp_path(const char *name, char *out, size_t cap)
{
	snprintf(out, cap, "%s/ledger/ingest-%s/checkpoint", kit_site.dir, name);
}

/* Every record is in the log of the receiver that sealed it. */
static void test_two_logs(void)
{
	struct receipts_index *ix = NULL;
	struct receipts_seg *rs = NULL;
	struct age_x25519_identity id;
	struct lacre_dbuf d, spd;
	size_t per[2] = { 0, 0 };
	char want[NOTE_NAME_MAX + 8];

	CHECK_OK(make_site());
	CHECK_EQ_INT(recs->n, N_A + N_B);
	CHECK_OK(receipts_index_open(&kit_site, st, &ix, kit_msg, sizeof(kit_msg)));
	CHECK_EQ_INT(receipts_index_logs(ix), 2);
	CHECK_STR(receipts_index_origin(ix, 0), origin_a);
	CHECK_STR(receipts_index_origin(ix, 1), origin_b);
	CHECK_EQ_INT(receipts_index_tree(ix, 0)->size, N_A);
	CHECK_EQ_INT(receipts_index_tree(ix, 1)->size, N_B);
	CHECK_OK(keystore_get(kit_ks, wid, &id, NULL));
	CHECK_OK(receipts_seg_new(ix, st, &rs));
	lacre_dbuf_init(&d, 1 << 16);
	lacre_dbuf_init(&spd, 1 << 16);
	for (size_t i = 0; i < recs->n; i++) {
		const struct kit_rec *r = &recs->v[i];
		struct receipts_where w;
		struct receipt rc;
		struct segment_proof sp;
		struct merkle_proof pf;
		const struct tlog_segment *seg;
		size_t lg = 9, expect = r->seq >= 100;
		uint8_t lh[MERKLE_HASH_LEN];

		CHECK_OK(receipts_seg_locate(rs, &id, r->segment, r->index, r->commitment, &w));
		CHECK_EQ_INT(w.log, expect);
		CHECK(w.v2);
		per[w.log]++;
		CHECK_OK(receipts_index_segment(ix, r->segment, &lg, NULL, &seg));
		CHECK_EQ_INT(lg, expect);
		/* the receipt carries its own log's checkpoint */
		lacre_dbuf_reset(&d);
		CHECK_OK(receipts_index_receipt(ix, w.log, w.leaf, &d));
		CHECK_OK(receipt_parse(d.p, d.len, &rc));
		snprintf(want, sizeof(want), "%s\n", receipts_index_origin(ix, w.log));
		CHECK(rc.cp_len > strlen(want) && !memcmp(rc.cp, want, strlen(want)));
		/* the segment proof reaches the entry, the entry the log's root */
		lacre_dbuf_reset(&spd);
		CHECK_OK(receipts_seg_proof(rs, &w, &spd));
		CHECK_OK(segment_proof_parse(spd.p, spd.len, &sp));
		CHECK_OK(segment_proof_verify(&sp, r->commitment));
		merkle_leaf_hash(sp.entry, sp.entry_len, lh);
		CHECK_OK(receipts_index_proof(ix, w.log, w.leaf, &pf));
		CHECK_OK(merkle_verify_inclusion(w.leaf, receipts_index_tree(ix, w.log)->size, lh, &pf,
						 receipts_index_tree(ix, w.log)->root));
		/* and not the other log's root */
		if (receipts_index_tree(ix, !w.log)->size > w.leaf)
			CHECK(merkle_verify_inclusion(w.leaf, receipts_index_tree(ix, !w.log)->size, lh, &pf,
						      receipts_index_tree(ix, !w.log)->root) != LACRE_OK);
	}
	CHECK_EQ_INT(per[0], N_A);
	CHECK_EQ_INT(per[1], N_B);
	/* a proof past a log's tree, a log that is not there */
	lacre_dbuf_reset(&d);
	CHECK_EQ_INT(receipts_index_receipt(ix, 0, N_A, &d), LACRE_E_RANGE);
	CHECK_EQ_INT(receipts_index_receipt(ix, 2, 0, &d), LACRE_E_RANGE);
	age_identity_wipe(&id);
	receipts_seg_free(rs);
	receipts_index_free(ix);
	lacre_dbuf_free(&d);
	lacre_dbuf_free(&spd);
}

/* A log whose checkpoint does not verify refuses the index, naming it; a
 * log with no checkpoint yet is left out. */
static void test_bad_checkpoint(void)
{
	struct receipts_index *ix = NULL;
	struct receipts_seg *rs = NULL;
	struct age_x25519_identity id;
	struct lacre_dbuf cp, alt;
	char path[SITE_PATH_MAX + 64];
	char *nl;
	size_t nb = 0;

	CHECK(st != NULL);
	cp_path("b", path, sizeof(path));
	lacre_dbuf_init(&cp, 1 << 16);
	lacre_dbuf_init(&alt, 1 << 16);
	CHECK_OK(site_read_file(path, 1 << 16, &cp));
	/* b's size line changed: its signature fails */
	CHECK_OK(lacre_dbuf_add(&alt, cp.p, cp.len));
	nl = memchr(alt.p, '\n', alt.len);
	CHECK(nl != NULL && nl[1] >= '1' && nl[1] <= '8');
	nl[1] = (char)(nl[1] + 1);
	CHECK_OK(site_write_file(path, alt.p, alt.len, 0600));
	CHECK_EQ_INT(receipts_index_open(&kit_site, st, &ix, kit_msg, sizeof(kit_msg)), LACRE_E_AUTH);
	CHECK(ix == NULL);
	CHECK(strstr(kit_msg, origin_b) == kit_msg);
	CHECK(strstr(kit_msg, "does not verify with the ingest log's key") != NULL);
	/* no checkpoint of b yet: the index holds a alone, b's records are in
	 * no signed log */
	CHECK(unlink(path) == 0);
	CHECK_OK(receipts_index_open(&kit_site, st, &ix, kit_msg, sizeof(kit_msg)));
	CHECK_EQ_INT(receipts_index_logs(ix), 1);
	CHECK_STR(receipts_index_origin(ix, 0), origin_a);
	CHECK_OK(keystore_get(kit_ks, wid, &id, NULL));
	CHECK_OK(receipts_seg_new(ix, st, &rs));
	for (size_t i = 0; i < recs->n; i++) {
		struct receipts_where w;
		int r = receipts_seg_locate(rs, &id, recs->v[i].segment, recs->v[i].index,
					    recs->v[i].commitment, &w);
		if (recs->v[i].seq >= 100) {
			CHECK_EQ_INT(r, LACRE_E_NOT_FOUND);
			nb++;
		} else {
			CHECK_OK(r);
			CHECK_EQ_INT(w.log, 0);
		}
	}
	CHECK_EQ_INT(nb, N_B);
	age_identity_wipe(&id);
	receipts_seg_free(rs);
	receipts_index_free(ix);
	CHECK_OK(site_write_file(path, cp.p, cp.len, 0600));
	CHECK_OK(receipts_index_open(&kit_site, st, &ix, kit_msg, sizeof(kit_msg)));
	CHECK_EQ_INT(receipts_index_logs(ix), 2);
	receipts_index_free(ix);
	lacre_dbuf_free(&cp);
	lacre_dbuf_free(&alt);
}

/* A segment of a's log named by b's log too (an entry b's key signed):
 * the index is refused, naming the segment and both origins. */
static void test_segment_in_both(void)
{
	struct receipts_index *ix = NULL;
	const struct tlog_segment *seg;
	struct tlog_segment copy;
	struct note_signer *key = NULL;
	struct tlog *log = NULL;
	struct lacre_dbuf e;
	char state[SITE_PATH_MAX], name[LACRE_STORE_NAME_MAX + 1];
	const char *aseg = NULL;
	size_t lg = 9;

	CHECK(st != NULL);
	for (size_t i = 0; i < recs->n && !aseg; i++)
		if (recs->v[i].seq < 100)
			aseg = recs->v[i].segment;
	CHECK(aseg != NULL);
	snprintf(name, sizeof(name), "%s", aseg);
	CHECK_OK(receipts_index_open(&kit_site, st, &ix, kit_msg, sizeof(kit_msg)));
	CHECK_OK(receipts_index_segment(ix, name, &lg, NULL, &seg));
	CHECK_EQ_INT(lg, 0);
	copy = *seg;
	receipts_index_free(ix);
	ix = NULL;
	lacre_dbuf_init(&e, 1024);
	CHECK_OK(tlog_segment_encode(&copy, &e));
	CHECK_OK(site_log_key(&kit_site, "ledger/ingest-b.key", origin_b, &key));
	CHECK_OK(site_path(&kit_site, "ledger/ingest-b", state, sizeof(state)));
	CHECK_OK(tlog_open(st, state, origin_b, key, &log));
	CHECK_OK(tlog_append(log, e.p, e.len, NULL));
	CHECK_OK(tlog_checkpoint(log, NULL));
	tlog_close(log);
	note_signer_free(key);
	lacre_dbuf_free(&e);
	CHECK_EQ_INT(receipts_index_open(&kit_site, st, &ix, kit_msg, sizeof(kit_msg)), LACRE_E_VERIFY);
	CHECK(ix == NULL);
	CHECK(strstr(kit_msg, name) != NULL);
	CHECK(strstr(kit_msg, "is named by two ingest logs") != NULL);
	CHECK(strstr(kit_msg, origin_a) != NULL && strstr(kit_msg, origin_b) != NULL);
}

int main(void)
{
	RUN(test_two_logs);
	RUN(test_export);
	RUN(test_deep);
	RUN(test_bad_checkpoint);
	RUN(test_segment_in_both);
	lacre_store_close(st);
	free(recs);
	keystore_close(kit_ks);
	return t_done();
}

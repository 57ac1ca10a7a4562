/*
 * test_accesslog.c - the access log: events sealed to the auditor read back
 * field for field, each proved to be its entry in the signed log and its
 * request signature checked; a substituted or undecryptable event is
 * reported; an event appended while the backend is down is durable (signed
 * locally) and published once the backend is back.  The keyless audit
 * names a rollback and a rewrite, and a witness.policy naming another key
 * for the access log refuses the next append.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "harness.h"
#include "lacre/accesslog.h"
#include "lacre/age.h"
#include "lacre/ed25519.h"
#include "lacre/err.h"
#include "lacre/evlog.h"
#include "keeper/keystore.h"
#include "lacre/note.h"
#include "lacre/site.h"
#include "lacre/store.h"
#include "lacre/tlog.h"
#include "lacre/users.h"
#include "lacre/warrant.h"

static struct site site;
static struct age_x25519_identity auditor;
static struct user_key ana;

/* A site with users root (admin) and ana; auditor = the auditor identity. */
static int make_site(void)
{
	struct site_config c;
	struct keystore *ks = NULL;
	struct user_key root;
	uint8_t master[32], seed[32];
	char dir[600], msg[SITE_MSG_MAX];
	int r;

	snprintf(dir, sizeof(dir), "%s/site", t_tmpdir());
	site_config_defaults(&c, dir);
	c.scrypt_log2n = 10;
	if ((r = site_create(dir, &c, "pw", &site, msg, sizeof(msg))) != LACRE_OK ||
	    (r = site_master_unlock(&site, "pw", master)) != LACRE_OK ||
	    (r = keystore_open(&site, master, &ks)) != LACRE_OK)
		return r;
	OPENSSL_cleanse(master, sizeof(master));
	r = keystore_get_secret(ks, SITE_SIGNER_KEY, seed, NULL);
	keystore_close(ks);
	if (r == LACRE_OK)
		r = age_x25519_generate(&auditor);
	if (r == LACRE_OK)
		r = user_key_generate("root", &root);
	if (r == LACRE_OK)
		r = user_key_generate("ana", &ana);
	if (r == LACRE_OK)
		r = users_bootstrap(&site, seed, auditor.public_key, "root", "", root.pub, msg, sizeof(msg));
	if (r == LACRE_OK)
		r = users_add(&site, &root, "ana", ACL_INVESTIGATOR, "UCO-1", ana.pub, msg, sizeof(msg));
	OPENSSL_cleanse(seed, sizeof(seed));
	user_key_wipe(&root);
	return r;
}

/* Append one event by ana (request signed) about warrant w; allowed. */
static int add_event(const char *w, const char *why, int allowed, uint64_t *idx)
{
	struct accesslog_event ev;
	struct lacre_dbuf rq;
	uint8_t salt[16], sig[64];
	char msg[SITE_MSG_MAX];
	int r;

	memset(&ev, 0, sizeof(ev));
	ev.time = warrant_time_now();
	ev.user = "ana";
	ev.role = "investigator";
	ev.unit = "UCO-1";
	ev.action = "records";
	ev.warrant = w;
	ev.what = "calls of 2026-11-28 (café, 100%)";
	ev.justification = why;
	ev.allowed = allowed;
	ev.reason = allowed ? "allowed" : "no such warrant";
	lacre_dbuf_init(&rq, ACCESSLOG_EVENT_MAX);
	if (RAND_bytes(salt, 16) != 1)
		return LACRE_E_CRYPTO;
	r = accesslog_request(salt, ev.time, ev.user, ev.role, ev.unit, ev.action, ev.warrant,
			      ev.what, ev.justification, &rq);
	if (r == LACRE_OK)
		r = lacre_ed25519_sign(ana.seed, rq.p, rq.len, sig);
	lacre_dbuf_free(&rq);
	ev.request_sig = sig;
	if (r == LACRE_OK)
		r = accesslog_append(&site, auditor.public_key, &ev, salt, idx, msg, sizeof(msg));
	return r;
}

struct seen {
	int n;
	uint64_t problems;
	struct accesslog_record last;
	int all_ok;
};

static int on_rec(void *arg, const struct accesslog_record *r)
{
	struct seen *s = arg;

	s->n++;
	s->last = *r;
	if (!r->published || !r->request_sig_ok)
		s->all_ok = 0;
	return 0;
}

static void on_problem(void *arg, uint64_t index, const char *what)
{
	(void)arg;
	(void)index;
	(void)what;
}

static void test_round_trip(void)
{
	struct seen s;
	struct age_x25519_identity other;
	char msg[SITE_MSG_MAX], a[SITE_PATH_MAX], b[SITE_PATH_MAX];
	struct lacre_dbuf d;
	uint64_t idx = 99;

	CHECK_OK(make_site());
	CHECK_OK(add_event("W-000001", "DP 1/2026: listen to call 7", 1, &idx));
	CHECK_EQ_INT(idx, 0);
	CHECK_OK(add_event("W-000002", "DP 2/2026", 0, &idx));
	CHECK_EQ_INT(idx, 1);
	CHECK_OK(add_event("W-000001", "DP 1/2026: transcription", 1, &idx));
	memset(&s, 0, sizeof(s));
	s.all_ok = 1;
	CHECK_OK(accesslog_read(&site, &auditor, on_rec, on_problem, &s, &s.problems, msg, sizeof(msg)));
	CHECK_EQ_INT(s.n, 3);
	CHECK_EQ_INT(s.problems, 0);
	CHECK(s.all_ok);
	CHECK_EQ_INT(s.last.index, 2);
	CHECK_STR(s.last.user, "ana");
	CHECK_STR(s.last.warrant, "W-000001");
	CHECK_STR(s.last.what, "calls of 2026-11-28 (café, 100%)");
	CHECK_STR(s.last.justification, "DP 1/2026: transcription");
	CHECK(s.last.allowed);
	/* the plaintext never reaches the disk: no justification in the file */
	CHECK_OK(site_path(&site, ACCESSLOG_EVENTS_DIR "/00000000000000000002.age", a, sizeof(a)));
	lacre_dbuf_init(&d, 1 << 20);
	CHECK_OK(site_read_file(a, 1 << 20, &d));
	CHECK(memmem(d.p, d.len, "transcription", 13) == NULL);
	lacre_dbuf_free(&d);
	/* another identity opens nothing */
	CHECK_OK(age_x25519_generate(&other));
	memset(&s, 0, sizeof(s));
	CHECK_OK(accesslog_read(&site, &other, on_rec, on_problem, &s, &s.problems, msg, sizeof(msg)));
	CHECK_EQ_INT(s.n, 0);
	CHECK_EQ_INT(s.problems, 3);
	/* a substituted event (a valid one, at the wrong index) */
	CHECK_OK(site_path(&site, ACCESSLOG_EVENTS_DIR "/00000000000000000000.age", b, sizeof(b)));
	CHECK(rename(a, b) == 0);
	memset(&s, 0, sizeof(s));
	CHECK_OK(accesslog_read(&site, &auditor, on_rec, on_problem, &s, &s.problems, msg, sizeof(msg)));
	CHECK_EQ_INT(s.problems, 2);   /* index 0 substituted, index 2 missing */
	CHECK_EQ_INT(s.n, 1);
	age_identity_wipe(&other);
}

static void test_backend_down(void)
{
	struct seen s;
	char msg[SITE_MSG_MAX], saved[SITE_PATH_MAX];
	uint64_t idx = 0;

	CHECK_OK(make_site());
	CHECK_OK(add_event("W-000001", "before", 1, &idx));
	/* an S3 endpoint where nothing listens: puts fail as unavailable */
	snprintf(saved, sizeof(saved), "%s", site.cfg.backend);
	snprintf(site.cfg.backend, sizeof(site.cfg.backend), "s3://lacre-down/x");
	setenv("S3_ENDPOINT", "http://127.0.0.1:9", 1);
	setenv("S3_ACCESS_KEY", "k", 1);
	setenv("S3_SECRET_KEY", "s", 1);
	CHECK_OK(add_event("W-000001", "while the backend is down", 1, &idx));
	CHECK_EQ_INT(idx, 1);
	memset(&s, 0, sizeof(s));
	s.all_ok = 1;
	/* reading needs the tiles: the unpublished entry is reported */
	snprintf(site.cfg.backend, sizeof(site.cfg.backend), "%s", saved);
	CHECK_OK(accesslog_read(&site, &auditor, on_rec, on_problem, &s, &s.problems, msg, sizeof(msg)));
	/* the read itself published the pending checkpoint first */
	CHECK_EQ_INT(s.n, 2);
	CHECK_EQ_INT(s.problems, 0);
	CHECK(s.all_ok);
	CHECK_STR(s.last.justification, "while the backend is down");
}

/* Read object rel (under the access log's prefix) from the backend. */
static int get_rel(struct lacre_store *st, const char *rel, struct lacre_dbuf *out)
{
	char origin[NOTE_NAME_MAX + 1], prefix[TLOG_PREFIX_MAX], name[LACRE_STORE_NAME_MAX + 1];

	if (accesslog_origin(&site, origin, sizeof(origin)) != LACRE_OK ||
	    tlog_prefix(origin, prefix, sizeof(prefix)) != LACRE_OK)
		return LACRE_E_INTERNAL;
	snprintf(name, sizeof(name), "%s%s", prefix, rel);
	lacre_dbuf_reset(out);
	return lacre_store_get(st, name, 0, SIZE_MAX, out);
}

/* Replace object rel (under the access log's prefix) on the backend. */
static int put_rel(struct lacre_store *st, const char *rel, const struct lacre_dbuf *d)
{
	char origin[NOTE_NAME_MAX + 1], prefix[TLOG_PREFIX_MAX], name[LACRE_STORE_NAME_MAX + 1];

	if (accesslog_origin(&site, origin, sizeof(origin)) != LACRE_OK ||
	    tlog_prefix(origin, prefix, sizeof(prefix)) != LACRE_OK)
		return LACRE_E_INTERNAL;
	snprintf(name, sizeof(name), "%s%s", prefix, rel);
	return lacre_store_put_replace(st, name, d->p, d->len);
}

/* The keyless audit without witnesses: intact; an older checkpoint served
 * again is a rollback; an entry changed in place is a rewrite; no log at
 * all is "no log"; and a witness.policy naming another key for the access
 * log refuses the next append and is a finding of the audit. */
static void test_audit(void)
{
	struct lacre_store *st = NULL;
	struct accesslog_audit_result res;
	struct lacre_dbuf old, cur, bundle, pol;
	struct note_signer *other = NULL;
	struct note_verifier ov;
	char origin[NOTE_NAME_MAX + 1], path[SITE_PATH_MAX];
	uint8_t seed[32] = { 7 };
	uint64_t idx = 0;
	FILE *f;

	lacre_dbuf_init(&old, 1 << 16);
	lacre_dbuf_init(&cur, 1 << 16);
	lacre_dbuf_init(&bundle, 1 << 20);
	lacre_dbuf_init(&pol, 1 << 16);
	CHECK_OK(make_site());
	CHECK_OK(lacre_store_open(site.cfg.backend, &st));
	CHECK_OK(accesslog_audit_run(&site, st, NULL, &res));
	CHECK(res.no_log && res.findings == 0);
	CHECK_OK(add_event("W-000001", "one", 1, &idx));
	CHECK_OK(add_event("W-000001", "two", 1, &idx));
	CHECK_OK(get_rel(st, "checkpoint", &old));
	CHECK_OK(add_event("W-000001", "three", 1, &idx));
	CHECK_OK(accesslog_audit_run(&site, st, NULL, &res));
	CHECK(!res.no_log && res.log_size == 3 && res.entries == 3 && res.findings == 0);
	CHECK_STR(accesslog_audit_verdict(&res), "INTACT");
	/* rollback: the backend serves the checkpoint of size 2 again */
	CHECK_OK(get_rel(st, "checkpoint", &cur));
	CHECK_OK(put_rel(st, "checkpoint", &old));
	CHECK_EQ_INT(accesslog_audit_run(&site, st, NULL, &res), LACRE_E_ROLLBACK);
	CHECK(res.rollback && !res.fork && !res.cut && res.findings == 1);
	CHECK_STR(accesslog_audit_verdict(&res), "ROLLBACK");
	CHECK_OK(put_rel(st, "checkpoint", &cur));
	CHECK_OK(accesslog_audit_run(&site, st, NULL, &res));
	/* a rewrite in place: one byte of entry 1 in the bundle */
	CHECK_OK(get_rel(st, "tile/entries/000.p/3", &bundle));
	CHECK(bundle.len == 3 * 34);
	bundle.p[34 + 2 + 9] ^= 1;
	CHECK_OK(put_rel(st, "tile/entries/000.p/3", &bundle));
	CHECK_EQ_INT(accesslog_audit_run(&site, st, NULL, &res), LACRE_E_VERIFY);
	CHECK(res.rewritten && !res.rollback && !res.fork && res.findings >= 1);
	CHECK_STR(accesslog_audit_verdict(&res), "REWRITTEN");
	bundle.p[34 + 2 + 9] ^= 1;
	CHECK_OK(put_rel(st, "tile/entries/000.p/3", &bundle));
	CHECK_OK(accesslog_audit_run(&site, st, NULL, &res));
	/* a policy that names another key for this log */
	CHECK_OK(accesslog_origin(&site, origin, sizeof(origin)));
	CHECK_OK(note_signer_from_seed(origin, NOTE_TYPE_ED25519, seed, &other));
	note_signer_public(other, &ov);
	CHECK_OK(lacre_dbuf_add_str(&pol, "log "));
	CHECK_OK(note_verifier_format(&ov, &pol));
	CHECK_OK(lacre_dbuf_add_str(&pol, "\nquorum none\n"));
	snprintf(path, sizeof(path), "%s/policy", t_tmpdir());
	f = fopen(path, "w");
	CHECK(f != NULL);
	if (f) {
		fwrite(pol.p, 1, pol.len, f);
		fclose(f);
	}
	snprintf(site.cfg.witness_policy, sizeof(site.cfg.witness_policy), "%s", path);
	CHECK_EQ_INT(add_event("W-000001", "refused", 1, &idx), LACRE_E_CONFIG);
	CHECK_EQ_INT(accesslog_audit_run(&site, st, NULL, &res), LACRE_E_VERIFY);
	CHECK(res.rewritten && res.findings >= 1);
	site.cfg.witness_policy[0] = '\0';
	note_signer_free(other);
	lacre_store_close(st);
	lacre_dbuf_free(&old);
	lacre_dbuf_free(&cur);
	lacre_dbuf_free(&bundle);
	lacre_dbuf_free(&pol);
}

int main(void)
{
	RUN(test_round_trip);
	RUN(test_backend_down);
	RUN(test_audit);
	return t_done();
}

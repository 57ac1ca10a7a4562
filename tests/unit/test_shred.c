/*
 * test_shred.c - the case log: the four-eyes rule on shred approvals (also
 * when someone writes the log by hand: a self-approval signed with the
 * requester's own key refuses the file), court states only by clerks and
 * admins, the retention rule's 5-year boundary, and an approval whose
 * signer lies, refuses or whose execution fails: nothing destroyed, nothing
 * written (shred_approve, evlog_prepare/evlog_commit).
 */
#include <sys/stat.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "harness.h"
#include "lacre/acl.h"
#include "lacre/age.h"
#include "lacre/ed25519.h"
#include "lacre/err.h"
#include "lacre/evlog.h"
#include "keeper/keystore.h"
#include "lacre/shred.h"
#include "lacre/site.h"
#include "lacre/users.h"
#include "lacre/warrant.h"

static struct site site;
static char tdir[512];

/* A site with users root (admin), sara (supervisor UCO-1), luis (clerk);
 * key files in the test folder. */
static int make_site(void)
{
	struct site_config c;
	struct keystore *ks = NULL;
	struct age_x25519_identity a;
	struct user_key root, sara, luis;
	uint8_t master[32], seed[32];
	char dir[600], msg[SITE_MSG_MAX], p[700];
	int r;

	snprintf(tdir, sizeof(tdir), "%s", t_tmpdir());
	snprintf(dir, sizeof(dir), "%s/site", tdir);
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
		r = age_x25519_generate(&a);
	if (r == LACRE_OK)
		r = user_key_generate("root", &root);
	if (r == LACRE_OK)
		r = user_key_generate("sara", &sara);
	if (r == LACRE_OK)
		r = user_key_generate("luis", &luis);
	if (r == LACRE_OK)
		r = users_bootstrap(&site, seed, a.public_key, "root", "", root.pub, msg, sizeof(msg));
	if (r == LACRE_OK)
		r = users_add(&site, &root, "sara", ACL_SUPERVISOR, "UCO-1", sara.pub, msg, sizeof(msg));
	if (r == LACRE_OK)
		r = users_add(&site, &root, "luis", ACL_CLERK, "", luis.pub, msg, sizeof(msg));
	snprintf(p, sizeof(p), "%s/sara.key", tdir);
	if (r == LACRE_OK)
		r = user_key_write(&sara, p);
	snprintf(p, sizeof(p), "%s/luis.key", tdir);
	if (r == LACRE_OK)
		r = user_key_write(&luis, p);
	snprintf(p, sizeof(p), "%s/root.key", tdir);
	if (r == LACRE_OK)
		r = user_key_write(&root, p);
	OPENSSL_cleanse(seed, sizeof(seed));
	user_key_wipe(&root);
	user_key_wipe(&sara);
	user_key_wipe(&luis);
	age_identity_wipe(&a);
	return r;
}

/* A session for user name (key file in the test folder). */
static int session(const char *name, struct acl_session **ss)
{
	char p[700], msg[SITE_MSG_MAX];

	snprintf(p, sizeof(p), "%s/%s.key", tdir, name);
	return acl_session_open(&site, p, ss, msg, sizeof(msg));
}

static void test_four_eyes(void)
{
	struct shred_request rq;
	char msg[SITE_MSG_MAX];

	memset(&rq, 0, sizeof(rq));
	snprintf(rq.id, sizeof(rq.id), "S-000001");
	snprintf(rq.by, sizeof(rq.by), "sara");
	rq.by_role = ACL_SUPERVISOR;
	CHECK_EQ_INT(shred_check_approval(&rq, "sara", ACL_SUPERVISOR, msg, sizeof(msg)), LACRE_E_DENIED);
	CHECK(strstr(msg, "different user") != NULL);
	CHECK_EQ_INT(shred_check_approval(&rq, "root", ACL_ADMIN, msg, sizeof(msg)), LACRE_E_DENIED);
	CHECK(strstr(msg, "court clerk") != NULL);
	CHECK_OK(shred_check_approval(&rq, "luis", ACL_CLERK, msg, sizeof(msg)));
	rq.by_role = ACL_CLERK;
	CHECK_OK(shred_check_approval(&rq, "root", ACL_ADMIN, msg, sizeof(msg)));
	rq.done = 1;
	CHECK_EQ_INT(shred_check_approval(&rq, "root", ACL_ADMIN, msg, sizeof(msg)), LACRE_E_STATE);
}

/* Signer callback of the forgery: each user's registered key. */
static int reg_signer(void *arg, const struct evlog_event *ev, uint8_t pub[32])
{
	const struct user *u = users_find(arg, ev->by);

	if (u == NULL)
		return LACRE_E_MALFORMED;
	memcpy(pub, u->pub, 32);
	return LACRE_OK;
}

/* Apply callback that accepts everything. */
static int any_apply(void *arg, const struct evlog_event *ev)
{
	(void)arg;
	(void)ev;
	return LACRE_OK;
}

static void test_case_log(void)
{
	struct acl_session *sara = NULL, *luis = NULL, *root = NULL;
	struct users_registry *users = NULL;
	struct cases *c = NULL;
	struct evlog *l = NULL;
	struct evlog_event *e;
	char msg[SITE_MSG_MAX], id[SHRED_ID_MAX], path[SITE_PATH_MAX];
	int64_t d;

	CHECK_OK(make_site());
	CHECK_OK(session("sara", &sara));
	CHECK_OK(session("luis", &luis));
	CHECK_OK(session("root", &root));
	/* no such warrant */
	CHECK_EQ_INT(shred_request_add(&site, sara, "W-000001", "Auto 9", 0, "fin", id, msg, sizeof(msg)),
		     LACRE_E_NOT_FOUND);
	CHECK_OK(warrant_time_parse("2026-01-15", &d));
	CHECK_EQ_INT(cases_set_state(&site, luis, "W-000001", COURT_SENTENCE_EXECUTED, d, "E 3", msg,
				     sizeof(msg)), LACRE_E_NOT_FOUND);
	CHECK_OK(cases_load(&site, &c, msg, sizeof(msg)));
	CHECK_EQ_INT(c->n_reqs, 0);
	cases_free(c);
	/* a hand-written request and self-approval, each validly signed by
	 * sara's own key: the log's rules refuse the file */
	CHECK_OK(users_load(&site, &users, msg, sizeof(msg)));
	CHECK_OK(site_path(&site, CASES_LOG, path, sizeof(path)));
	CHECK_OK(evlog_open(path, CASES_MAGIC, 1, reg_signer, any_apply, users, &l, msg, sizeof(msg)));
	e = calloc(1, sizeof(*e));
	CHECK(e != NULL);
	evlog_event_init(e, "shred-request", "sara");
	CHECK_OK(evlog_set(e, "id", "S-000001"));
	CHECK_OK(evlog_set(e, "warrant", "W-000001"));
	CHECK_OK(evlog_set(e, "order", "Auto 9"));
	CHECK_OK(evlog_set_time(e, "order_date", d));
	CHECK_OK(evlog_set(e, "justification", "fin"));
	CHECK_OK(evlog_append(l, e, users_sign_session, sara));
	evlog_close(l);           /* flock: a reader of this process would wait */
	CHECK_OK(cases_load(&site, &c, msg, sizeof(msg)));
	CHECK_EQ_INT(c->n_reqs, 1);
	CHECK_STR(c->reqs[0].by, "sara");
	cases_free(c);
	CHECK_OK(evlog_open(path, CASES_MAGIC, 1, reg_signer, any_apply, users, &l, msg, sizeof(msg)));
	evlog_event_init(e, "shred-approve", "sara");
	CHECK_OK(evlog_set(e, "id", "S-000001"));
	CHECK_OK(evlog_append(l, e, users_sign_session, sara));
	evlog_close(l);
	free(e);
	users_free(users);
	msg[0] = '\0';
	CHECK_EQ_INT(cases_load(&site, &c, msg, sizeof(msg)), LACRE_E_CORRUPT);
	CHECK(strstr(msg, ":2: ") != NULL);
	acl_session_close(sara);
	acl_session_close(luis);
	acl_session_close(root);
}

static void test_retention(void)
{
	struct case_state cs;
	char why[512];
	int64_t t;

	memset(&cs, 0, sizeof(cs));
	cs.state = COURT_SENTENCE_EXECUTED;
	CHECK_OK(warrant_time_parse("2026-01-15", &cs.date));
	CHECK_OK(warrant_time_parse("2031-01-14T23:59:59Z", &t));
	CHECK_EQ_INT(retention_due(&cs, t, why, sizeof(why)), 0);
	CHECK_OK(warrant_time_parse("2031-01-15", &t));
	CHECK_EQ_INT(retention_due(&cs, t, why, sizeof(why)), 1);
	CHECK(strstr(why, "2031-01-15") != NULL);
	cs.state = COURT_KEEP;
	CHECK_EQ_INT(retention_due(&cs, t, why, sizeof(why)), 0);
	cs.state = COURT_ACQUITTED;
	CHECK_EQ_INT(retention_due(&cs, cs.date, why, sizeof(why)), 1);
	CHECK_EQ_INT(retention_due(&cs, cs.date - 1, why, sizeof(why)), 0);
	cs.state = COURT_OPEN;
	CHECK_EQ_INT(retention_due(&cs, t, why, sizeof(why)), 0);
	CHECK_EQ_INT(retention_due(NULL, t, why, sizeof(why)), 0);
}

/* An acl_signer_fn of a client that signs with a key not its own. */
static int lying_sign(void *arg, const void *m, size_t n, uint8_t sig[64])
{
	uint8_t other[32];

	(void)arg;
	memset(other, 0x42, sizeof(other));
	return lacre_ed25519_sign(other, m, n, sig);
}

/* An acl_signer_fn of a client that went away. */
static int gone_sign(void *arg, const void *m, size_t n, uint8_t sig[64])
{
	(void)arg;
	(void)m;
	(void)n;
	memset(sig, 0, 64);
	return LACRE_E_IO;
}

/* A shred_execute_fn that counts its calls; fails when *arg is negative. */
static int count_exec(void *arg, const struct shred_request *req, char *msg, size_t msglen)
{
	int *n = arg;

	if (strcmp(req->id, "S-000001") != 0)
		return LACRE_E_INTERNAL;
	if (*n < 0) {
		snprintf(msg, msglen, "cannot shred the warrant key: test");
		return LACRE_E_IO;
	}
	(*n)++;
	return LACRE_OK;
}

/* Size of the file at path (-1 when absent). */
static long file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

static void test_approve_signed(void)
{
	struct acl_session *sara = NULL, *luis = NULL, *liar = NULL, *gone = NULL;
	struct users_registry *users = NULL;
	struct cases *c = NULL;
	struct evlog *l = NULL;
	struct evlog_event *e;
	char msg[SITE_MSG_MAX], path[SITE_PATH_MAX];
	long size;
	int calls = 0;

	CHECK_OK(make_site());
	CHECK_OK(session("sara", &sara));
	CHECK_OK(session("luis", &luis));
	CHECK_OK(acl_session_open_authenticated(&site, "luis", lying_sign, NULL, &liar, msg,
						sizeof(msg)));
	CHECK_OK(acl_session_open_authenticated(&site, "luis", gone_sign, NULL, &gone, msg,
						sizeof(msg)));
	/* sara's request, written directly */
	CHECK_OK(users_load(&site, &users, msg, sizeof(msg)));
	CHECK_OK(site_path(&site, CASES_LOG, path, sizeof(path)));
	CHECK_OK(evlog_open(path, CASES_MAGIC, 1, reg_signer, any_apply, users, &l, msg, sizeof(msg)));
	e = calloc(1, sizeof(*e));
	CHECK(e != NULL);
	evlog_event_init(e, "shred-request", "sara");
	CHECK_OK(evlog_set(e, "id", "S-000001"));
	CHECK_OK(evlog_set(e, "warrant", "W-000001"));
	CHECK_OK(evlog_set(e, "order", "Auto 9"));
	CHECK_OK(evlog_set_time(e, "order_date", 0));
	CHECK_OK(evlog_set(e, "justification", "fin"));
	CHECK_EQ_INT(evlog_commit(l), LACRE_E_STATE);
	CHECK_OK(evlog_prepare(l, e, users_sign_session, sara));
	CHECK_EQ_INT(evlog_prepare(l, e, users_sign_session, sara), LACRE_E_STATE);
	CHECK_OK(evlog_commit(l));
	/* a prepared line that is never committed is not written */
	evlog_event_init(e, "shred-approve", "luis");
	CHECK_OK(evlog_set(e, "id", "S-000001"));
	CHECK_OK(evlog_prepare(l, e, users_sign_session, luis));
	evlog_close(l);
	free(e);
	users_free(users);
	size = file_size(path);
	CHECK_OK(cases_load(&site, &c, msg, sizeof(msg)));
	CHECK_EQ_INT(c->n_reqs, 1);
	CHECK(!c->reqs[0].done);
	cases_free(c);
	/* the approver's client signs with another key: nothing destroyed */
	msg[0] = '\0';
	CHECK_EQ_INT(shred_approve(&site, liar, "S-000001", count_exec, &calls, msg, sizeof(msg)),
		     LACRE_E_AUTH);
	CHECK(strstr(msg, "nothing was destroyed or written") != NULL);
	CHECK_EQ_INT(calls, 0);
	CHECK_EQ_INT(file_size(path), size);
	/* the approver's client went away before signing */
	CHECK(shred_approve(&site, gone, "S-000001", count_exec, &calls, msg, sizeof(msg)) != LACRE_OK);
	CHECK_EQ_INT(calls, 0);
	CHECK_EQ_INT(file_size(path), size);
	/* the key cannot be destroyed: the approval is not written */
	calls = -1;
	CHECK_EQ_INT(shred_approve(&site, luis, "S-000001", count_exec, &calls, msg, sizeof(msg)),
		     LACRE_E_IO);
	CHECK_EQ_INT(file_size(path), size);
	/* the requester cannot approve, whatever signs */
	calls = 0;
	CHECK_EQ_INT(shred_approve(&site, sara, "S-000001", count_exec, &calls, msg, sizeof(msg)),
		     LACRE_E_DENIED);
	CHECK_EQ_INT(calls, 0);
	/* the clerk approves: executed once, then recorded */
	CHECK_OK(shred_approve(&site, luis, "S-000001", count_exec, &calls, msg, sizeof(msg)));
	CHECK_EQ_INT(calls, 1);
	CHECK(file_size(path) > size);
	CHECK_OK(cases_load(&site, &c, msg, sizeof(msg)));
	CHECK(c->reqs[0].done);
	CHECK_STR(c->reqs[0].approved_by, "luis");
	cases_free(c);
	CHECK_EQ_INT(shred_approve(&site, luis, "S-000001", count_exec, &calls, msg, sizeof(msg)),
		     LACRE_E_STATE);
	CHECK_EQ_INT(calls, 1);
	acl_session_close(sara);
	acl_session_close(luis);
	acl_session_close(liar);
	acl_session_close(gone);
}

int main(void)
{
	RUN(test_four_eyes);
	RUN(test_case_log);
	RUN(test_approve_signed);
	RUN(test_retention);
	return t_done();
}

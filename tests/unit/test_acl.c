/*
 * test_acl.c - the access rules (acl_decide) for every role, the L8 rule
 * (another unit's warrant answered exactly as a missing one), sessions
 * (key possession, a key that is not the registered one, a disabled
 * user), and acl_authorize logging every attempt before it answers.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/crypto.h>

#include "harness.h"
#include "lacre/accesslog.h"
#include "lacre/acl.h"
#include "lacre/age.h"
#include "lacre/err.h"
#include "keeper/access_key.h"
#include "keeper/keystore.h"
#include "keeper/passphrase.h"
#include "lacre/shred.h"
#include "lacre/site.h"
#include "lacre/users.h"
#include "lacre/warrant.h"
#include "keeper/warrant_log.h"

static struct site site;
static char tdir[512];
static struct user_key admin, inv, inv2, sup, clerk, aud;

/* Path in the test folder. */
static const char *tpath(const char *name)
{
	static char p[4][600];
	static int i;

	i = (i + 1) & 3;
	snprintf(p[i], sizeof(p[i]), "%s/%s", tdir, name);
	return p[i];
}

/* Make user k called name with role and unit, key file <name>.key. */
static int mk_user(struct user_key *k, const char *name, enum acl_role role, const char *unit)
{
	char msg[SITE_MSG_MAX];
	char f[64];
	int r;

	snprintf(f, sizeof(f), "%s.key", name);
	if ((r = user_key_generate(name, k)) != LACRE_OK || (r = user_key_write(k, tpath(f))) != LACRE_OK)
		return r;
	return users_add(&site, &admin, name, role, unit, k->pub, msg, sizeof(msg));
}

/* A site with a warrant of unit UCO-1 (W-000001) and one user per role. */
static int make_site(void)
{
	struct site_config c;
	struct keystore *ks = NULL;
	struct age_x25519_identity a;
	struct warrant w;
	uint8_t master[32], seed[32];
	char dir[600], msg[SITE_MSG_MAX], id[WARRANT_ID_MAX];
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
	memset(&w, 0, sizeof(w));
	snprintf(w.case_id, sizeof(w.case_id), "DP 1/2026");
	snprintf(w.unit, sizeof(w.unit), "UCO-1");
	snprintf(w.court, sizeof(w.court), "JI 5 Madrid");
	snprintf(w.periods[0].order_id, sizeof(w.periods[0].order_id), "Auto 1");
	warrant_time_parse("2026-11-01", &w.periods[0].order_date);
	w.periods[0].from = w.periods[0].order_date;
	warrant_time_parse("2027-01-31", &w.periods[0].to);
	w.n_periods = 1;
	w.categories = WARRANT_CAT_IRI;
	snprintf(w.targets[0], sizeof(w.targets[0]), "X");
	w.n_targets = 1;
	snprintf(w.liids[0], sizeof(w.liids[0]), "LIID1");
	w.n_liids = 1;
	if ((r = warrant_add(&site, ks, &w, id, msg, sizeof(msg))) != LACRE_OK ||
	    (r = keystore_get_secret(ks, SITE_SIGNER_KEY, seed, NULL)) != LACRE_OK ||
	    (r = age_x25519_generate(&a)) != LACRE_OK ||
	    (r = keystore_put(ks, USERS_AUDITOR_KEY, &a, 0)) != LACRE_OK ||
	    (r = user_key_generate("root", &admin)) != LACRE_OK ||
	    (r = user_key_write(&admin, tpath("root.key"))) != LACRE_OK ||
	    (r = users_bootstrap(&site, seed, a.public_key, "root", "", admin.pub, msg,
				 sizeof(msg))) != LACRE_OK)
		goto out;
	if ((r = mk_user(&inv, "ana", ACL_INVESTIGATOR, "UCO-1")) != LACRE_OK ||
	    (r = mk_user(&inv2, "eva", ACL_INVESTIGATOR, "UDEF")) != LACRE_OK ||
	    (r = mk_user(&sup, "sara", ACL_SUPERVISOR, "UCO-1")) != LACRE_OK ||
	    (r = mk_user(&clerk, "luis", ACL_CLERK, "")) != LACRE_OK ||
	    (r = mk_user(&aud, "olga", ACL_AUDITOR, "")) != LACRE_OK)
		goto out;
out:
	OPENSSL_cleanse(seed, sizeof(seed));
	age_identity_wipe(&a);
	keystore_close(ks);
	return r;
}

/* acl_decide for role/unit on (action, warrant) with a justification. */
static int decide(const struct warrant_registry *reg, enum acl_role role, const char *unit,
		  const char *action, const char *warrant, char *msg)
{
	struct access_request rq = { action, warrant, "test", "case review" };
	char why[512];

	return acl_decide(role, unit, &rq, reg, why, sizeof(why), msg, SITE_MSG_MAX);
}

static void test_rules(void)
{
	struct warrant_registry *reg = NULL;
	struct access_request rq = { "records", "W-000001", "x", NULL };
	char msg[SITE_MSG_MAX], m2[SITE_MSG_MAX], why[512];
	static const char *const content[] = { "records", "calls", "audio", "pcap", "export" };

	CHECK_OK(make_site());
	CHECK_OK(warrant_registry_load(&site, &reg));
	for (size_t i = 0; i < sizeof(content) / sizeof(content[0]); i++) {
		CHECK_OK(decide(reg, ACL_INVESTIGATOR, "UCO-1", content[i], "W-000001", msg));
		CHECK_OK(decide(reg, ACL_SUPERVISOR, "UCO-1", content[i], "W-000001", msg));
		CHECK_OK(decide(reg, ACL_CLERK, "", content[i], "W-000001", msg));
		CHECK_EQ_INT(decide(reg, ACL_AUDITOR, "", content[i], "W-000001", msg), LACRE_E_DENIED);
		CHECK_EQ_INT(decide(reg, ACL_ADMIN, "", content[i], "W-000001", msg), LACRE_E_DENIED);
		/* L8: another unit's warrant and a missing one answer alike */
		CHECK_EQ_INT(decide(reg, ACL_INVESTIGATOR, "UDEF", content[i], "W-000001", msg),
			     LACRE_E_NOT_FOUND);
		CHECK_EQ_INT(decide(reg, ACL_INVESTIGATOR, "UDEF", content[i], "W-000009", m2),
			     LACRE_E_NOT_FOUND);
		CHECK(strstr(msg, "W-000001") != NULL);
		*strstr(msg, "W-000001") = '\0';
		*strstr(m2, "W-000009") = '\0';
		CHECK_STR(msg, m2);
		CHECK_EQ_INT(decide(reg, ACL_SUPERVISOR, "UDEF", content[i], "W-000001", msg),
			     LACRE_E_NOT_FOUND);
	}
	CHECK_EQ_INT(decide(reg, ACL_CLERK, "", "records", "W-000009", msg), LACRE_E_NOT_FOUND);
	/* the auditor is refused whether the warrant exists or not */
	CHECK_EQ_INT(decide(reg, ACL_AUDITOR, "", "records", "W-000009", msg), LACRE_E_DENIED);
	CHECK_OK(decide(reg, ACL_SUPERVISOR, "UCO-1", "identity", "W-000001", msg));
	CHECK_OK(decide(reg, ACL_CLERK, "", "identity", "W-000001", msg));
	CHECK_EQ_INT(decide(reg, ACL_INVESTIGATOR, "UCO-1", "identity", "W-000001", msg), LACRE_E_DENIED);
	CHECK_OK(decide(reg, ACL_CLERK, "", "quarantine", NULL, msg));
	CHECK_EQ_INT(decide(reg, ACL_SUPERVISOR, "UCO-1", "quarantine", NULL, msg), LACRE_E_DENIED);
	CHECK_EQ_INT(decide(reg, ACL_AUDITOR, "", "quarantine", NULL, msg), LACRE_E_DENIED);
	CHECK_OK(decide(reg, ACL_AUDITOR, "", "access-log", NULL, msg));
	CHECK_EQ_INT(decide(reg, ACL_CLERK, "", "access-log", NULL, msg), LACRE_E_DENIED);
	CHECK_OK(decide(reg, ACL_ADMIN, "", "shred", "W-000001", msg));
	CHECK_EQ_INT(decide(reg, ACL_INVESTIGATOR, "UCO-1", "shred", "W-000001", msg), LACRE_E_DENIED);
	CHECK_OK(decide(reg, ACL_ADMIN, "", "user-admin", NULL, msg));
	CHECK_EQ_INT(decide(reg, ACL_CLERK, "", "user-admin", NULL, msg), LACRE_E_DENIED);
	CHECK_EQ_INT(decide(reg, ACL_ADMIN, "", "no-such-action", NULL, msg), LACRE_E_DENIED);
	CHECK_EQ_INT(decide(reg, ACL_CLERK, "", "records", NULL, msg), LACRE_E_INVALID);
	/* justification: absent or blank */
	CHECK_EQ_INT(acl_decide(ACL_CLERK, "", &rq, reg, why, sizeof(why), msg, sizeof(msg)),
		     LACRE_E_INVALID);
	rq.justification = " \t ";
	CHECK_EQ_INT(acl_decide(ACL_CLERK, "", &rq, reg, why, sizeof(why), msg, sizeof(msg)),
		     LACRE_E_INVALID);
	CHECK_STR(why, "no justification");
	warrant_registry_free(reg);
}

/* Number of sealed access events of the site. */
static int n_events(void)
{
	char p[SITE_PATH_MAX];
	DIR *d;
	struct dirent *e;
	int n = 0;

	if (site_path(&site, ACCESSLOG_EVENTS_DIR, p, sizeof(p)) != LACRE_OK || !(d = opendir(p)))
		return 0;
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static void test_sessions(void)
{
	struct acl_session *ss = NULL;
	struct user_key fake;
	char msg[SITE_MSG_MAX], m2[SITE_MSG_MAX];
	struct access_request rq = { "records", "W-000001", "all", "DP 1/2026: transcription" };
	int before;

	CHECK_OK(make_site());
	unsetenv(USERS_ENV);
	CHECK_EQ_INT(acl_session_open(&site, NULL, &ss, msg, sizeof(msg)), LACRE_E_NOT_FOUND);
	/* same name, another key */
	CHECK_OK(user_key_generate("ana", &fake));
	CHECK_OK(user_key_write(&fake, tpath("fake.key")));
	CHECK_EQ_INT(acl_session_open(&site, tpath("fake.key"), &ss, msg, sizeof(msg)), LACRE_E_DENIED);
	CHECK(strstr(msg, "not the registered key") != NULL);
	/* an unknown user */
	CHECK_OK(user_key_generate("zoe", &fake));
	CHECK_OK(user_key_write(&fake, tpath("zoe.key")));
	CHECK_EQ_INT(acl_session_open(&site, tpath("zoe.key"), &ss, msg, sizeof(msg)), LACRE_E_NOT_FOUND);
	/* through LACRE_USER */
	setenv(USERS_ENV, tpath("ana.key"), 1);
	CHECK_OK(acl_session_open(&site, NULL, &ss, msg, sizeof(msg)));
	unsetenv(USERS_ENV);
	CHECK_STR(acl_session_user(ss), "ana");
	CHECK_EQ_INT(acl_session_role(ss), ACL_INVESTIGATOR);
	CHECK_STR(acl_session_unit(ss), "UCO-1");
	before = n_events();
	CHECK_OK(acl_authorize(ss, &rq, msg, sizeof(msg)));
	CHECK_EQ_INT(n_events(), before + 1);
	rq.justification = "";
	CHECK_EQ_INT(acl_authorize(ss, &rq, msg, sizeof(msg)), LACRE_E_INVALID);
	CHECK_EQ_INT(n_events(), before + 2);
	acl_session_close(ss);
	/* another unit: logged, and answered as a missing warrant */
	CHECK_OK(acl_session_open(&site, tpath("eva.key"), &ss, msg, sizeof(msg)));
	rq.justification = "DP 9/2026";
	CHECK_EQ_INT(acl_authorize(ss, &rq, msg, sizeof(msg)), LACRE_E_NOT_FOUND);
	rq.warrant = "W-000007";
	CHECK_EQ_INT(acl_authorize(ss, &rq, m2, sizeof(m2)), LACRE_E_NOT_FOUND);
	CHECK_EQ_INT(n_events(), before + 4);
	*strstr(msg, "W-000001") = '\0';
	*strstr(m2, "W-000007") = '\0';
	CHECK_STR(msg, m2);
	acl_session_close(ss);
	/* a disabled user cannot open a session */
	CHECK_OK(users_disable(&site, &admin, "eva", msg, sizeof(msg)));
	CHECK_EQ_INT(acl_session_open(&site, tpath("eva.key"), &ss, msg, sizeof(msg)), LACRE_E_DENIED);
	user_key_wipe(&fake);
}

/* access_open, the one gate entry: the stage that refused, nothing open on
 * failure, every authenticated attempt logged before the answer, the
 * session handed out on success. */
static void test_access_open(void)
{
	struct acl_session *ss = NULL;
	struct access_request rq = { "records", "W-000001", "all", "DP 1/2026: transcription" };
	char msg[SITE_MSG_MAX];
	int before, stage = 0;

	CHECK_OK(make_site());
	unsetenv(USERS_ENV);
	before = n_events();
	/* no acting user: refused at authentication, nothing logged */
	CHECK_EQ_INT(access_open(&site, NULL, &rq, &ss, &stage, msg, sizeof(msg)), LACRE_E_NOT_FOUND);
	CHECK_EQ_INT(stage, ACCESS_AUTHENTICATE);
	CHECK(ss == NULL);
	CHECK(strstr(msg, "no acting user") != NULL);
	CHECK_EQ_INT(n_events(), before);
	/* the right unit: allowed, logged first, the session is the caller's */
	CHECK_OK(access_open(&site, tpath("ana.key"), &rq, &ss, &stage, msg, sizeof(msg)));
	CHECK(ss != NULL);
	CHECK_STR(acl_session_user(ss), "ana");
	CHECK_EQ_INT(n_events(), before + 1);
	acl_session_close(ss);
	ss = NULL;
	/* without out: allowed, logged, nothing left open */
	CHECK_OK(access_open(&site, tpath("ana.key"), &rq, NULL, NULL, msg, sizeof(msg)));
	CHECK_EQ_INT(n_events(), before + 2);
	/* another unit: the L8 answer of a missing warrant, at authorisation,
	 * logged, no session */
	CHECK_EQ_INT(access_open(&site, tpath("eva.key"), &rq, &ss, &stage, msg, sizeof(msg)),
		     LACRE_E_NOT_FOUND);
	CHECK_EQ_INT(stage, ACCESS_AUTHORIZE);
	CHECK(ss == NULL);
	CHECK(strstr(msg, "W-000001") != NULL);
	CHECK_EQ_INT(n_events(), before + 3);
	/* no justification: refused (invalid) and logged */
	rq.justification = "";
	CHECK_EQ_INT(access_open(&site, tpath("ana.key"), &rq, &ss, &stage, msg, sizeof(msg)),
		     LACRE_E_INVALID);
	CHECK_EQ_INT(stage, ACCESS_AUTHORIZE);
	CHECK(ss == NULL);
	CHECK_EQ_INT(n_events(), before + 4);
}

/* A second warrant of unit UCO-1 on the test site; its id into id. */
static int mk_warrant(struct keystore *ks, char id[WARRANT_ID_MAX])
{
	struct warrant w;
	char msg[SITE_MSG_MAX];

	memset(&w, 0, sizeof(w));
	snprintf(w.case_id, sizeof(w.case_id), "DP 2/2026");
	snprintf(w.unit, sizeof(w.unit), "UCO-1");
	snprintf(w.court, sizeof(w.court), "JI 5 Madrid");
	snprintf(w.periods[0].order_id, sizeof(w.periods[0].order_id), "Auto 2");
	warrant_time_parse("2026-11-01", &w.periods[0].order_date);
	w.periods[0].from = w.periods[0].order_date;
	warrant_time_parse("2027-01-31", &w.periods[0].to);
	w.n_periods = 1;
	w.categories = WARRANT_CAT_IRI;
	snprintf(w.targets[0], sizeof(w.targets[0]), "Y");
	w.n_targets = 1;
	snprintf(w.liids[0], sizeof(w.liids[0]), "LIID2");
	w.n_liids = 1;
	return warrant_add(&site, ks, &w, id, msg, sizeof(msg));
}

/* access_key: a session hands out only the keys its allowed requests
 * cover.  "records" on W1 gives W1's identity (the keystore's own), not
 * W2's, the oversight or auditor identity or a signer seed (each refused
 * LACRE_E_DENIED, the message naming the key and the action it needs);
 * before any authorisation nothing; a refused request grants nothing. */
static void test_access_key(void)
{
	struct keystore *ks = NULL;
	struct acl_session *ss = NULL;
	struct age_x25519_identity id, direct;
	struct access_request rq = { "records", "W-000001", "all", "DP 1/2026: transcription" };
	uint8_t master[32], seed[32];
	char msg[SITE_MSG_MAX], w2[WARRANT_ID_MAX];

	CHECK_OK(make_site());
	CHECK_OK(site_master_unlock(&site, "pw", master));
	CHECK_OK(keystore_open(&site, master, &ks));
	OPENSSL_cleanse(master, sizeof(master));
	CHECK_OK(mk_warrant(ks, w2));
	CHECK(strcmp(w2, "W-000001") != 0);
	unsetenv(USERS_ENV);

	/* an open session before any authorisation: nothing at all */
	CHECK_OK(acl_session_open(&site, tpath("ana.key"), &ss, msg, sizeof(msg)));
	CHECK_EQ_INT(acl_session_allowed(ss, "records", NULL), 0);
	access_keys_lend(ss, ks);
	CHECK_EQ_INT(access_key(ss, "W-000001", &id, NULL, msg, sizeof(msg)), LACRE_E_DENIED);
	CHECK(strstr(msg, "'W-000001'") != NULL && strstr(msg, "'records'") != NULL);
	/* a refused request (another unit's warrant for ana? no: no
	 * justification) grants nothing either */
	rq.justification = "";
	CHECK_EQ_INT(acl_authorize(ss, &rq, msg, sizeof(msg)), LACRE_E_INVALID);
	CHECK_EQ_INT(access_key(ss, "W-000001", &id, NULL, msg, sizeof(msg)), LACRE_E_DENIED);
	rq.justification = "DP 1/2026: transcription";
	/* allowed "records" on W1: W1's identity, the keystore's very key */
	CHECK_OK(acl_authorize(ss, &rq, msg, sizeof(msg)));
	CHECK_EQ_INT(acl_session_allowed(ss, "records", "W-000001"), 1);
	CHECK_EQ_INT(acl_session_allowed(ss, "records", w2), 0);
	CHECK_OK(access_key(ss, "W-000001", &id, NULL, msg, sizeof(msg)));
	CHECK_STR(msg, "");
	CHECK_OK(keystore_get(ks, "W-000001", &direct, NULL));
	CHECK(memcmp(id.public_key, direct.public_key, sizeof(id.public_key)) == 0);
	age_identity_wipe(&id);
	age_identity_wipe(&direct);
	/* W2 (same unit, never asked for): refused, named */
	CHECK_EQ_INT(access_key(ss, w2, &id, NULL, msg, sizeof(msg)), LACRE_E_DENIED);
	CHECK(strstr(msg, w2) != NULL && strstr(msg, "on that warrant") != NULL);
	/* the oversight identity needs an allowed quarantine */
	CHECK_EQ_INT(access_key(ss, SITE_OVERSIGHT_KEY, &id, NULL, msg, sizeof(msg)),
		     LACRE_E_DENIED);
	CHECK(strstr(msg, "'" SITE_OVERSIGHT_KEY "'") != NULL && strstr(msg, "'quarantine'") != NULL);
	/* nor the auditor identity, nor the signer seeds, nor a new key */
	CHECK_EQ_INT(access_key(ss, USERS_AUDITOR_KEY, &id, NULL, msg, sizeof(msg)),
		     LACRE_E_DENIED);
	CHECK(strstr(msg, "'access-log'") != NULL);
	CHECK_EQ_INT(access_key_secret(ss, SITE_SIGNER_KEY, seed, NULL, msg, sizeof(msg)),
		     LACRE_E_DENIED);
	CHECK(strstr(msg, "'" SITE_SIGNER_KEY "'") != NULL && strstr(msg, "'user-admin'") != NULL);
	CHECK_EQ_INT(access_key_secret(ss, "export-signer", seed, NULL, msg, sizeof(msg)),
		     LACRE_E_DENIED);
	CHECK_EQ_INT(access_key_create(ss, "export-signer", NULL, seed, msg, sizeof(msg)),
		     LACRE_E_DENIED);
	CHECK_EQ_INT(access_key(NULL, "W-000001", &id, NULL, msg, sizeof(msg)), LACRE_E_DENIED);
	acl_session_close(ss);
	ss = NULL;

	/* the clerk allowed quarantine gets the oversight key, still no warrant */
	CHECK_OK(acl_session_open(&site, tpath("luis.key"), &ss, msg, sizeof(msg)));
	access_keys_lend(ss, ks);
	rq.action = "quarantine";
	rq.warrant = NULL;
	CHECK_OK(acl_authorize(ss, &rq, msg, sizeof(msg)));
	CHECK_OK(access_key(ss, SITE_OVERSIGHT_KEY, &id, NULL, msg, sizeof(msg)));
	age_identity_wipe(&id);
	CHECK_EQ_INT(access_key(ss, "W-000001", &id, NULL, msg, sizeof(msg)), LACRE_E_DENIED);
	acl_session_close(ss);
	ss = NULL;

	/* the auditor allowed access-log gets the auditor identity only */
	CHECK_OK(acl_session_open(&site, tpath("olga.key"), &ss, msg, sizeof(msg)));
	access_keys_lend(ss, ks);
	rq.action = "access-log";
	CHECK_OK(acl_authorize(ss, &rq, msg, sizeof(msg)));
	CHECK_OK(access_key(ss, USERS_AUDITOR_KEY, &id, NULL, msg, sizeof(msg)));
	age_identity_wipe(&id);
	CHECK_EQ_INT(access_key(ss, SITE_OVERSIGHT_KEY, &id, NULL, msg, sizeof(msg)),
		     LACRE_E_DENIED);
	acl_session_close(ss);
	keystore_close(ks);
}

/* A signer that never signs (the worker test below signs nothing). */
static int no_sign(void *arg, const void *m, size_t n, uint8_t sig[64])
{
	(void)arg;
	(void)m;
	(void)n;
	memset(sig, 0, 64);
	return LACRE_E_DENIED;
}

/* The keys a session owns: access_keys_unlock (the master passphrase)
 * attaches the keystore, acl_session_close wipes it (ASan sees a leak
 * otherwise); a session without keys hands out nothing (named); the
 * warrant log's writers need an allowed warrant-change; a shred needs an
 * allowed "shred" on that warrant AND the four-eyes rule at the key
 * (the requester cannot approve, a clerk among the two), and only then
 * the key is gone. */
static void test_session_keys(void)
{
	struct keystore *ks = NULL;
	struct acl_session *ss = NULL;
	struct age_x25519_identity id;
	struct access_request rq = { "records", "W-000001", "all", "DP 1/2026: transcription" };
	struct passphrase_src src;
	struct shred_request req;
	struct key_tombstone tomb;
	uint8_t master[32];
	char msg[SITE_MSG_MAX], w2[WARRANT_ID_MAX];
	int stage = 0;

	CHECK_OK(make_site());
	CHECK_OK(site_master_unlock(&site, "pw", master));
	CHECK_OK(keystore_open(&site, master, &ks));
	OPENSSL_cleanse(master, sizeof(master));
	CHECK_OK(mk_warrant(ks, w2));
	unsetenv(USERS_ENV);

	/* allowed, but no keys unlocked yet: refused, named */
	CHECK_OK(acl_session_open(&site, tpath("ana.key"), &ss, msg, sizeof(msg)));
	CHECK_OK(acl_authorize(ss, &rq, msg, sizeof(msg)));
	CHECK_EQ_INT(access_key(ss, "W-000001", &id, NULL, msg, sizeof(msg)), LACRE_E_DENIED);
	CHECK(strstr(msg, "before the session's keys were unlocked") != NULL);
	/* a wrong passphrase: the secret step, nothing attached */
	passphrase_src_init(&src);
	src.no_prompt = 1;
	src.no_cred = 1;
	setenv("LACRE_PASSPHRASE", "not-pw", 1);
	CHECK_EQ_INT(access_keys_unlock(ss, &src, &stage, msg, sizeof(msg)), LACRE_E_PASSPHRASE);
	CHECK_EQ_INT(stage, ACCESS_UNLOCK_SECRET);
	CHECK(strstr(msg, "wrong master passphrase") != NULL);
	CHECK_EQ_INT(access_key(ss, "W-000001", &id, NULL, msg, sizeof(msg)), LACRE_E_DENIED);
	/* the right one: the session owns the keystore and reads W1 */
	setenv("LACRE_PASSPHRASE", "pw", 1);
	CHECK_OK(access_keys_unlock(ss, &src, &stage, msg, sizeof(msg)));
	CHECK_OK(access_key(ss, "W-000001", &id, NULL, msg, sizeof(msg)));
	age_identity_wipe(&id);
	/* a records session writes no warrant event and shreds nothing */
	CHECK_EQ_INT(access_warrant_cease(ss, "W-000001", "Auto 9", 0, 0, msg, sizeof(msg)),
		     LACRE_E_DENIED);
	CHECK(strstr(msg, "'warrant-change'") != NULL);
	memset(&req, 0, sizeof(req));
	snprintf(req.id, sizeof(req.id), "S-000001");
	snprintf(req.warrant, sizeof(req.warrant), "W-000001");
	snprintf(req.order, sizeof(req.order), "Auto 99/2026");
	req.order_date = 1;
	snprintf(req.by, sizeof(req.by), "sara");
	req.by_role = ACL_SUPERVISOR;
	CHECK_EQ_INT(access_key_shred(ss, &req, msg, sizeof(msg)), LACRE_E_DENIED);
	CHECK(strstr(msg, "'shred'") != NULL);
	/* dropped: nothing any more */
	access_keys_drop(ss);
	CHECK_EQ_INT(access_key(ss, "W-000001", &id, NULL, msg, sizeof(msg)), LACRE_E_DENIED);
	acl_session_close(ss);
	ss = NULL;

	/* the clerk allowed "shred" on W1 */
	CHECK_OK(acl_session_open(&site, tpath("luis.key"), &ss, msg, sizeof(msg)));
	access_keys_lend(ss, ks);
	rq.action = "shred";
	rq.what = "approve S-000001";
	CHECK_OK(acl_authorize(ss, &rq, msg, sizeof(msg)));
	/* ... not on W2 */
	snprintf(req.warrant, sizeof(req.warrant), "%s", w2);
	CHECK_EQ_INT(access_key_shred(ss, &req, msg, sizeof(msg)), LACRE_E_DENIED);
	CHECK(strstr(msg, w2) != NULL && strstr(msg, "'shred'") != NULL);
	CHECK_OK(keystore_get(ks, w2, &id, NULL));
	age_identity_wipe(&id);
	/* ... nor a request he made himself (four eyes), nor one executed */
	snprintf(req.warrant, sizeof(req.warrant), "W-000001");
	snprintf(req.by, sizeof(req.by), "luis");
	req.by_role = ACL_CLERK;
	CHECK_EQ_INT(access_key_shred(ss, &req, msg, sizeof(msg)), LACRE_E_DENIED);
	CHECK(strstr(msg, "four eyes") != NULL);
	snprintf(req.by, sizeof(req.by), "sara");
	req.by_role = ACL_SUPERVISOR;
	req.done = 1;
	CHECK_EQ_INT(access_key_shred(ss, &req, msg, sizeof(msg)), LACRE_E_STATE);
	CHECK_OK(keystore_get(ks, "W-000001", &id, NULL));
	age_identity_wipe(&id);
	/* sara's request, luis approves: the key is gone, the order kept */
	req.done = 0;
	CHECK_OK(access_key_shred(ss, &req, msg, sizeof(msg)));
	CHECK_EQ_INT(keystore_get(ks, "W-000001", &id, &tomb), LACRE_E_SHREDDED);
	CHECK_STR(tomb.order_id, "Auto 99/2026");
	CHECK_EQ_INT(access_key_shred(ss, &req, msg, sizeof(msg)), LACRE_E_SHREDDED);
	acl_session_close(ss);
	ss = NULL;

	/* the operator session (no user) never shreds either */
	CHECK_OK(acl_session_open_operator(&site, &ss, msg, sizeof(msg)));
	access_keys_lend(ss, ks);
	snprintf(req.warrant, sizeof(req.warrant), "%s", w2);
	CHECK_EQ_INT(access_key_shred(ss, &req, msg, sizeof(msg)), LACRE_E_DENIED);
	CHECK_OK(keystore_get(ks, w2, &id, NULL));
	age_identity_wipe(&id);
	acl_session_close(ss);
	keystore_close(ks);

	/* the right passphrase but no master.age: the files' step, named */
	{
		char ma[SITE_PATH_MAX + 32], moved[SITE_PATH_MAX + 32];

		snprintf(ma, sizeof(ma), "%s/master.age", site.dir);
		snprintf(moved, sizeof(moved), "%s/master.age.moved", site.dir);
		CHECK_EQ_INT(rename(ma, moved), 0);
		CHECK_OK(acl_session_open(&site, tpath("ana.key"), &ss, msg, sizeof(msg)));
		setenv("LACRE_PASSPHRASE", "pw", 1);
		CHECK(access_keys_unlock(ss, &src, &stage, msg, sizeof(msg)) != LACRE_OK);
		CHECK_EQ_INT(stage, ACCESS_UNLOCK_OPEN);
		CHECK(strstr(msg, "cannot open master.age of site ") != NULL);
		acl_session_close(ss);
		CHECK_EQ_INT(rename(moved, ma), 0);
	}
	unsetenv("LACRE_PASSPHRASE");
}

/* access_key_operator, the master passphrase holder's keys without a user
 * (bootstrap, one-shot deep audit), through the operator session: given
 * outside a keeper worker, refused (named) for a user's session and
 * inside a worker, where every command has a gate session and no operator
 * session opens.  Last: it makes this process a keeper worker for good. */
static void test_access_key_operator(void)
{
	struct keystore *ks = NULL;
	struct acl_session *op = NULL, *ss = NULL;
	struct age_x25519_identity id;
	uint8_t master[32], seed[32];
	char msg[SITE_MSG_MAX];

	CHECK_OK(make_site());
	CHECK_OK(site_master_unlock(&site, "pw", master));
	CHECK_OK(keystore_open(&site, master, &ks));
	OPENSSL_cleanse(master, sizeof(master));
	CHECK_OK(acl_session_open_operator(&site, &op, msg, sizeof(msg)));
	CHECK_EQ_INT(acl_session_operator(op), 1);
	access_keys_lend(op, ks);
	CHECK_OK(access_key_operator(op, "W-000001", &id, NULL, NULL, 0, msg, sizeof(msg)));
	age_identity_wipe(&id);
	CHECK_OK(access_key_operator(op, SITE_SIGNER_KEY, NULL, seed, NULL, 0, msg, sizeof(msg)));
	/* only the auditor identity is ever created here */
	CHECK_EQ_INT(access_key_operator(op, "W-000001", &id, NULL, NULL, 1, msg, sizeof(msg)),
		     LACRE_E_INVALID);
	/* the operator session reads no key through the gate's rule */
	CHECK_EQ_INT(access_key(op, "W-000001", &id, NULL, msg, sizeof(msg)), LACRE_E_DENIED);
	/* nor writes the warrant log once the site has users */
	CHECK_EQ_INT(access_warrant_cease(op, "W-000001", "Auto 9", 1, 1, msg, sizeof(msg)),
		     LACRE_E_DENIED);
	CHECK(strstr(msg, "the cessation by the master passphrase holder on a site that has "
		      "users") != NULL);
	/* a user's session is no operator's */
	unsetenv(USERS_ENV);
	CHECK_OK(acl_session_open(&site, tpath("root.key"), &ss, msg, sizeof(msg)));
	CHECK_EQ_INT(acl_session_operator(ss), 0);
	access_keys_lend(ss, ks);
	CHECK_EQ_INT(access_key_operator(ss, "W-000001", &id, NULL, NULL, 0, msg, sizeof(msg)),
		     LACRE_E_DENIED);
	CHECK(strstr(msg, "key 'W-000001'") != NULL && strstr(msg, "master passphrase") != NULL);
	acl_session_close(ss);
	CHECK_OK(acl_keeper_worker_begin("ana", no_sign, NULL));
	CHECK_EQ_INT(access_key_operator(op, "W-000001", &id, NULL, NULL, 0, msg, sizeof(msg)),
		     LACRE_E_DENIED);
	CHECK(strstr(msg, "key 'W-000001'") != NULL && strstr(msg, "in the keeper") != NULL);
	CHECK_EQ_INT(access_key_operator(op, SITE_SIGNER_KEY, NULL, seed, NULL, 0, msg, sizeof(msg)),
		     LACRE_E_DENIED);
	acl_session_close(op);
	op = NULL;
	CHECK_EQ_INT(acl_session_open_operator(&site, &op, msg, sizeof(msg)), LACRE_E_DENIED);
	CHECK(op == NULL && strstr(msg, "operator session") != NULL);
	OPENSSL_cleanse(seed, sizeof(seed));
	keystore_close(ks);
}

int main(void)
{
	RUN(test_rules);
	RUN(test_sessions);
	RUN(test_access_open);
	RUN(test_access_key);
	RUN(test_session_keys);
	RUN(test_access_key_operator);   /* last: makes the process a worker */
	return t_done();
}

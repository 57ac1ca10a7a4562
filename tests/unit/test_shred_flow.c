/*
 * test_shred_flow.c - the case log through its API (lib/access/shred.c):
 * a shred request by a supervisor, refused while the warrant is active,
 * without an order, twice while pending and after the shred; the
 * four-eyes approval by a clerk (the requester and an unknown request
 * refused); court states recorded by a clerk and read back, each state's
 * name parsed back; and the retention rule of every court state.
 * (test_shred.c covers the log written by hand and the 5-year boundary.)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "harness.h"
#include "lacre/acl.h"
#include "lacre/age.h"
#include "lacre/err.h"
#include "keeper/keystore.h"
#include "lacre/shred.h"
#include "lacre/site.h"
#include "lacre/users.h"
#include "lacre/warrant.h"
#include "keeper/warrant_log.h"

static struct site site;
static char tdir[512];
static char ended[WARRANT_ID_MAX], active[WARRANT_ID_MAX];

/* A warrant of unit UCO-1 for liid from..to. */
static int add_warrant(struct keystore *ks, const char *liid, const char *from, const char *to,
		       char id[WARRANT_ID_MAX], char *msg, size_t msglen)
{
	struct warrant w;

	memset(&w, 0, sizeof(w));
	snprintf(w.case_id, sizeof(w.case_id), "DP 9/2025");
	snprintf(w.unit, sizeof(w.unit), "UCO-1");
	snprintf(w.court, sizeof(w.court), "JI 5 Madrid");
	snprintf(w.periods[0].order_id, sizeof(w.periods[0].order_id), "Auto %s", liid);
	warrant_time_parse(from, &w.periods[0].order_date);
	w.periods[0].from = w.periods[0].order_date;
	warrant_time_parse(to, &w.periods[0].to);
	w.n_periods = 1;
	w.categories = WARRANT_CAT_IRI;
	snprintf(w.targets[0], sizeof(w.targets[0]), "X");
	w.n_targets = 1;
	snprintf(w.liids[0], sizeof(w.liids[0]), "%s", liid);
	w.n_liids = 1;
	return warrant_add(&site, ks, &w, id, msg, msglen);
}

/* A site with an ended warrant (2025) and an active one (until 2030),
 * users root (admin), sara (supervisor UCO-1), luis (clerk), with their
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
	r = add_warrant(ks, "LI-OLD", "2025-01-10", "2025-03-10", ended, msg, sizeof(msg));
	if (r == LACRE_OK)
		r = add_warrant(ks, "LI-NOW", "2026-11-01", "2027-01-31", active, msg, sizeof(msg));
	if (r == LACRE_OK)
		r = keystore_get_secret(ks, SITE_SIGNER_KEY, seed, NULL);
	keystore_close(ks);
	if (r != LACRE_OK) {
		fprintf(stderr, "make_site: %s\n", msg);
		return r;
	}
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

/* Request, refusals, four-eyes approval, and the log read back. */
static void test_request_and_approve(void)
{
	struct acl_session *sara = NULL, *luis = NULL;
	struct cases *c = NULL;
	const struct shred_request *rq;
	char id[SHRED_ID_MAX], id2[SHRED_ID_MAX], msg[SITE_MSG_MAX];
	int64_t od = 0;

	CHECK_OK(make_site());
	CHECK_OK(session("sara", &sara));
	CHECK_OK(session("luis", &luis));
	CHECK_OK(warrant_time_parse("2026-06-01", &od));
	/* no such warrant */
	CHECK_EQ_INT(shred_request_add(&site, sara, "W-000099", "Auto 50/2026", od, "fin", id, msg,
				       sizeof(msg)), LACRE_E_NOT_FOUND);
	CHECK(strstr(msg, "no warrant 'W-000099'") != NULL);
	/* still active */
	CHECK_EQ_INT(shred_request_add(&site, sara, active, "Auto 50/2026", od, "fin", id, msg,
				       sizeof(msg)), LACRE_E_STATE);
	CHECK(strstr(msg, "is still active") != NULL);
	/* no order, no justification */
	CHECK_EQ_INT(shred_request_add(&site, sara, ended, "", od, "fin", id, msg, sizeof(msg)),
		     LACRE_E_INVALID);
	CHECK(strstr(msg, "a shred needs the court order") != NULL);
	CHECK_EQ_INT(shred_request_add(&site, sara, ended, "Auto 50/2026", od, NULL, id, msg,
				       sizeof(msg)), LACRE_E_INVALID);
	/* the request */
	CHECK_OK(shred_request_add(&site, sara, ended, "Auto 50/2026", od, "final ruling", id, msg,
				   sizeof(msg)));
	CHECK_STR(id, "S-000001");
	/* a second one while it is pending */
	CHECK_EQ_INT(shred_request_add(&site, sara, ended, "Auto 51/2026", od, "again", id2, msg,
				       sizeof(msg)), LACRE_E_EXISTS);
	CHECK(strstr(msg, "has a pending shred request S-000001") != NULL);
	/* read back */
	CHECK_OK(cases_load(&site, &c, msg, sizeof(msg)));
	CHECK((rq = cases_request(c, "S-000001")) != NULL);
	CHECK_STR(rq->warrant, ended);
	CHECK_STR(rq->order, "Auto 50/2026");
	CHECK_EQ_INT(rq->order_date, od);
	CHECK_STR(rq->justification, "final ruling");
	CHECK_STR(rq->by, "sara");
	CHECK_EQ_INT(rq->done, 0);
	CHECK(cases_request(c, "S-000002") == NULL);
	CHECK(cases_shredded(c, ended) == NULL);
	cases_free(c);
	c = NULL;
	/* approvals: an unknown request, the requester herself */
	CHECK_EQ_INT(shred_approve_record(&site, luis, "S-000009", msg, sizeof(msg)), LACRE_E_NOT_FOUND);
	CHECK(strstr(msg, "no shred request 'S-000009'") != NULL);
	CHECK_EQ_INT(shred_approve_record(&site, sara, "S-000001", msg, sizeof(msg)), LACRE_E_DENIED);
	/* the clerk approves */
	CHECK_OK(shred_approve_record(&site, luis, "S-000001", msg, sizeof(msg)));
	CHECK_OK(cases_load(&site, &c, msg, sizeof(msg)));
	CHECK((rq = cases_shredded(c, ended)) != NULL);
	CHECK_STR(rq->id, "S-000001");
	CHECK_STR(rq->approved_by, "luis");
	CHECK_EQ_INT(rq->done, 1);
	CHECK(rq->done_at > 0);
	CHECK(cases_shredded(c, active) == NULL);
	cases_free(c);
	/* executed: neither approved again nor requested again */
	CHECK_EQ_INT(shred_approve_record(&site, luis, "S-000001", msg, sizeof(msg)), LACRE_E_STATE);
	CHECK_EQ_INT(shred_request_add(&site, sara, ended, "Auto 52/2026", od, "again", id2, msg,
				       sizeof(msg)), LACRE_E_STATE);
	CHECK(strstr(msg, "was shredded already (by order Auto 50/2026)") != NULL);
	acl_session_close(sara);
	acl_session_close(luis);
}

/* Court states recorded by the clerk and read back (the latest wins). */
static void test_court_states(void)
{
	struct acl_session *luis = NULL;
	struct cases *c = NULL;
	const struct case_state *cs;
	char msg[SITE_MSG_MAX];
	int64_t d1 = 0, d2 = 0;

	CHECK_OK(make_site());
	CHECK_OK(session("luis", &luis));
	CHECK_OK(warrant_time_parse("2026-03-01", &d1));
	CHECK_OK(warrant_time_parse("2026-09-01", &d2));
	CHECK_EQ_INT(cases_set_state(&site, luis, "W-000099", COURT_FINAL_RULING, d1, "STS 1", msg,
				     sizeof(msg)), LACRE_E_NOT_FOUND);
	CHECK_OK(cases_set_state(&site, luis, ended, COURT_OPEN, d1, NULL, msg, sizeof(msg)));
	CHECK_OK(cases_set_state(&site, luis, active, COURT_KEEP, d1, "Auto keep", msg, sizeof(msg)));
	CHECK_OK(cases_set_state(&site, luis, ended, COURT_FINAL_RULING, d2, "STS 77/2026", msg,
				 sizeof(msg)));
	CHECK_OK(cases_load(&site, &c, msg, sizeof(msg)));
	CHECK_EQ_INT(c->n_states, 2);
	CHECK((cs = cases_state(c, ended)) != NULL);
	CHECK_EQ_INT(cs->state, COURT_FINAL_RULING);
	CHECK_EQ_INT(cs->date, d2);
	CHECK_STR(cs->order, "STS 77/2026");
	CHECK_STR(cs->by, "luis");
	CHECK((cs = cases_state(c, active)) != NULL);
	CHECK_EQ_INT(cs->state, COURT_KEEP);
	CHECK(cases_state(c, "W-000099") == NULL);
	CHECK_EQ_INT(c->events, 3);
	cases_free(c);
	acl_session_close(luis);
}

/* Every state's name parses back to it; other words are refused. */
static void test_state_names(void)
{
	enum court_state s;
	static const char *const names[] = { "open", "final-ruling", "sentence-executed",
					     "time-barred", "dismissed", "acquitted", "keep" };

	for (int i = COURT_OPEN; i <= COURT_KEEP; i++) {
		CHECK_STR(court_state_name((enum court_state)i), names[i - COURT_OPEN]);
		CHECK_OK(court_state_parse(names[i - COURT_OPEN], &s));
		CHECK_EQ_INT(s, i);
	}
	CHECK_STR(court_state_name((enum court_state)0), "none");
	CHECK_EQ_INT(court_state_parse("closed", &s), LACRE_E_INVALID);
	CHECK_EQ_INT(court_state_parse("Open", &s), LACRE_E_INVALID);
	CHECK_EQ_INT(court_state_parse(NULL, &s), LACRE_E_INVALID);
}

/* The retention rule of each state, before and after its date. */
static void test_retention_states(void)
{
	struct case_state cs;
	char why[256];
	int64_t d = 0, before, after;

	CHECK_OK(warrant_time_parse("2026-03-01", &d));
	before = d - 1;
	after = d + 1;
	memset(&cs, 0, sizeof(cs));
	cs.date = d;
	CHECK_EQ_INT(retention_due(NULL, after, why, sizeof(why)), 0);
	cs.state = COURT_FINAL_RULING;
	CHECK_EQ_INT(retention_due(&cs, before, why, sizeof(why)), 0);
	CHECK_EQ_INT(retention_due(&cs, after, why, sizeof(why)), 1);
	CHECK(strstr(why, "final ruling of 2026-03-01") != NULL);
	CHECK(strstr(why, "originals must be deleted") != NULL);
	cs.state = COURT_DISMISSED;
	CHECK_EQ_INT(retention_due(&cs, before, why, sizeof(why)), 0);
	CHECK_EQ_INT(retention_due(&cs, after, why, sizeof(why)), 1);
	CHECK(strstr(why, "dismissed on 2026-03-01") != NULL);
	cs.state = COURT_TIME_BARRED;
	CHECK_EQ_INT(retention_due(&cs, after, why, sizeof(why)), 1);
	CHECK(strstr(why, "time-barred on ") != NULL);
	cs.state = COURT_ACQUITTED;
	CHECK_EQ_INT(retention_due(&cs, after, why, sizeof(why)), 1);
	CHECK(strstr(why, "acquitted on ") != NULL);
	cs.state = COURT_SENTENCE_EXECUTED;
	CHECK_EQ_INT(retention_due(&cs, after, why, sizeof(why)), 0);
	CHECK_EQ_INT(retention_due(&cs, warrant_add_months(d, 60), why, sizeof(why)), 1);
	CHECK(strstr(why, "destroyed by 2031-03-01") != NULL);
	cs.state = COURT_KEEP;
	CHECK_EQ_INT(retention_due(&cs, warrant_add_months(d, 600), why, sizeof(why)), 0);
	cs.state = COURT_OPEN;
	CHECK_EQ_INT(retention_due(&cs, warrant_add_months(d, 600), why, sizeof(why)), 0);
}

int main(void)
{
	RUN(test_state_names);
	RUN(test_retention_states);
	RUN(test_request_and_approve);
	RUN(test_court_states);
	return t_done();
}

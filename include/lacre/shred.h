/*
 * shred.h - the case log and crypto-shredding by court order (LECrim 588
 * bis k, legal rule L13; docs/cmd-shred.md, docs/cmd-retention.md,
 * docs/access.md).
 *
 * DIR/cases.log is an evlog (evlog.h, magic "lacre-case-v1") of events
 * about cases that are not warrant events, each signed by the acting
 * user's own key (verified against users.log):
 *
 *   court-state    warrant= state= date= order=      the court state of a case
 *   shred-request  id=S-000001 warrant= order= order_date= justification=
 *   shred-approve  id=                               a second user approved and
 *                                                    the key was destroyed
 *
 * A shred needs two different users, at least one of them a court clerk
 * (the four-eyes rule of DESIGN.md §1): one requests, the other approves,
 * and the approval executes access_key_shred() (the crypto-shredding of
 * lib/keeper, through the gate session) after the attempt is durable
 * in the access log.  The log's rules are enforced when it is replayed too
 * (an approval by the requester, or without a clerk, refuses the file).
 * Owned by lib/access/shred.c.
 */
#ifndef LACRE_SHRED_H
#define LACRE_SHRED_H

#include <stddef.h>
#include <stdint.h>

#include "lacre/acl.h"
#include "lacre/site.h"
#include "lacre/warrant.h"

#define CASES_LOG "cases.log"
#define CASES_MAGIC "lacre-case-v1"
#define SHRED_ID_MAX 16
#define CASES_TEXT_MAX 256

/* Court states of a case (L13). */
enum court_state {
	COURT_OPEN = 1,           /* proceedings running (clears a state) */
	COURT_FINAL_RULING,       /* ended by final ruling: originals to delete */
	COURT_SENTENCE_EXECUTED,  /* LAJ copy destroyed 5 years after this date */
	COURT_TIME_BARRED,        /* offence or penalty time-barred */
	COURT_DISMISSED,          /* sobreseimiento libre */
	COURT_ACQUITTED,          /* final acquittal */
	COURT_KEEP                /* the tribunal orders the data kept */
};

struct case_state {
	char warrant[WARRANT_ID_MAX];
	enum court_state state;
	int64_t date;
	char order[CASES_TEXT_MAX];
	char by[64];
	int64_t at;
};

struct shred_request {
	char id[SHRED_ID_MAX];
	char warrant[WARRANT_ID_MAX];
	char order[CASES_TEXT_MAX];
	int64_t order_date;
	char justification[CASES_TEXT_MAX];
	char by[64];
	enum acl_role by_role;
	int64_t at;
	int done;
	char approved_by[64];
	int64_t done_at;
};

struct cases {
	size_t n_states, n_reqs;
	struct case_state *states;      /* the latest state of each warrant */
	struct shred_request *reqs;
	uint64_t events;
};

/* Names: "open", "final-ruling", "sentence-executed", "time-barred",
 * "dismissed", "acquitted", "keep". */
const char *court_state_name(enum court_state s);
int court_state_parse(const char *s, enum court_state *out);

/* Load and verify DIR/cases.log against users.log.  LACRE_E_CORRUPT. */
int cases_load(const struct site *s, struct cases **out, char *msg, size_t msglen);
void cases_free(struct cases *c);
const struct case_state *cases_state(const struct cases *c, const char *warrant);
const struct shred_request *cases_request(const struct cases *c, const char *id);
/* The executed shred of warrant, or NULL. */
const struct shred_request *cases_shredded(const struct cases *c, const char *warrant);

/* Record the court state of warrant (the caller has authorised the session
 * for "court-state").  LACRE_E_NOT_FOUND (no warrant). */
int cases_set_state(const struct site *s, const struct acl_session *ss, const char *warrant,
		    enum court_state st, int64_t date, const char *order, char *msg, size_t msglen);

/* Record a shred request by the session's user; id receives "S-000001".
 * Refused (LACRE_E_STATE) when the warrant is still active now (cease it
 * first), already shredded, or has a pending request. */
int shred_request_add(const struct site *s, const struct acl_session *ss, const char *warrant,
		      const char *order, int64_t order_date, const char *justification,
		      char id[SHRED_ID_MAX], char *msg, size_t msglen);

/* The four-eyes check of an approval of req by the session's user:
 * LACRE_OK, or LACRE_E_DENIED with msg (same user; no clerk among the
 * two; request already executed: LACRE_E_STATE). */
int shred_check_approval(const struct shred_request *req, const char *approver,
			 enum acl_role approver_role, char *msg, size_t msglen);

/* Executes an approved shred (destroys the warrant's key, forgets its
 * index), called by shred_approve while cases.log is locked and the
 * approver's signed line is in hand.  LACRE_OK, or an error with msg. */
typedef int (*shred_execute_fn)(void *arg, const struct shred_request *req, char *msg,
				size_t msglen);

/* Approve request id as the session's user: under cases.log's lock,
 * re-check the four-eyes rule, have the approver sign the shred-approve
 * line (users_sign_session: the key file, or the approver's client through
 * the keeper) and check that signature, then run exec(arg, ...) when it is
 * not NULL, then write the line.  No signature (an error, LACRE_E_AUTH when
 * it does not verify) stops before exec: nothing is destroyed.  exec
 * failing: its error, nothing written.  The line failing to be written
 * after exec: LACRE_E_IO with msg (the approval can be run again:
 * shredding is idempotent). */
int shred_approve(const struct site *s, const struct acl_session *ss, const char *id,
		  shred_execute_fn exec, void *arg, char *msg, size_t msglen);

/* Record the executed approval of request id by the session's user (after
 * access_key_shred succeeded): shred_approve without exec. */
int shred_approve_record(const struct site *s, const struct acl_session *ss, const char *id,
			 char *msg, size_t msglen);

/* ---- retention (L13; lib/access/shred.c) ---- */

#define RETENTION_YEARS 5

/* Whether the data of a case in state cs has outlived its legal basis at
 * time now: returns 1 and a one-line reason, else 0. */
int retention_due(const struct case_state *cs, int64_t now, char *why, size_t whylen);

#endif

/*
 * shred.c - the case log (DIR/cases.log): court states of cases, shred
 * requests and their four-eyes approvals, and the retention rule of L13
 * (see include/lacre/shred.h).
 *
 * Every event is signed by its user's own key and replayed against
 * users.log; the rules (who may record what, two different users with a
 * clerk among them for a shred) are checked both when an event is written
 * and whenever the log is read, so a hand-edited log is refused.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "lacre/err.h"
#include "lacre/evlog.h"
#include "lacre/shred.h"
#include "lacre/users.h"

static const char *const state_names[] = {
	[COURT_OPEN] = "open",
	[COURT_FINAL_RULING] = "final-ruling",
	[COURT_SENTENCE_EXECUTED] = "sentence-executed",
	[COURT_TIME_BARRED] = "time-barred",
	[COURT_DISMISSED] = "dismissed",
	[COURT_ACQUITTED] = "acquitted",
	[COURT_KEEP] = "keep",
};

const char *court_state_name(enum court_state s)
{
	if (s >= COURT_OPEN && s <= COURT_KEEP)
		return state_names[s];
	return "none";
}

int court_state_parse(const char *s, enum court_state *out)
{
	for (int i = COURT_OPEN; i <= COURT_KEEP; i++)
		if (s != NULL && !strcmp(s, state_names[i])) {
			*out = (enum court_state)i;
			return LACRE_OK;
		}
	return LACRE_E_INVALID;
}

/* What the replay needs: the users (signers, roles) and the state. */
struct cctx {
	const struct users_registry *users;
	struct cases *c;
};

/* The latest court state of warrant w (mutable), or NULL. */
static struct case_state *find_state(struct cases *c, const char *w)
{
	for (size_t i = 0; i < c->n_states; i++)
		if (!strcmp(c->states[i].warrant, w))
			return &c->states[i];
	return NULL;
}

/* The shred request called id (mutable), or NULL. */
static struct shred_request *find_req(struct cases *c, const char *id)
{
	for (size_t i = 0; i < c->n_reqs; i++)
		if (!strcmp(c->reqs[i].id, id))
			return &c->reqs[i];
	return NULL;
}

const struct case_state *cases_state(const struct cases *c, const char *warrant)
{
	return find_state((struct cases *)c, warrant);
}

const struct shred_request *cases_request(const struct cases *c, const char *id)
{
	return find_req((struct cases *)c, id);
}

const struct shred_request *cases_shredded(const struct cases *c, const char *warrant)
{
	for (size_t i = 0; i < c->n_reqs; i++)
		if (c->reqs[i].done && !strcmp(c->reqs[i].warrant, warrant))
			return &c->reqs[i];
	return NULL;
}

/* evlog_signer_fn: every event is signed by its registered user. */
static int c_signer(void *arg, const struct evlog_event *ev, uint8_t pub[32])
{
	struct cctx *x = arg;
	const struct user *u = users_find(x->users, ev->by);

	if (u == NULL)
		return LACRE_E_MALFORMED;
	memcpy(pub, u->pub, 32);
	return LACRE_OK;
}

int shred_check_approval(const struct shred_request *req, const char *approver,
			 enum acl_role approver_role, char *msg, size_t msglen)
{
	if (req->done) {
		snprintf(msg, msglen, "shred request %s was executed already (by order %s)", req->id,
			 req->order);
		return LACRE_E_STATE;
	}
	if (!strcmp(req->by, approver)) {
		snprintf(msg, msglen, "shred request %s was made by %s: a second, different user must "
			 "approve it (four eyes)", req->id, req->by);
		return LACRE_E_DENIED;
	}
	if (req->by_role != ACL_CLERK && approver_role != ACL_CLERK) {
		snprintf(msg, msglen, "shredding needs a court clerk among the two users: %s (%s) "
			 "requested, %s (%s) approves", req->by, acl_role_name(req->by_role), approver,
			 acl_role_name(approver_role));
		return LACRE_E_DENIED;
	}
	return LACRE_OK;
}

/* Grow an array of n elements of size sz by one slot. */
static int grow(void **p, size_t n, size_t sz)
{
	void *q = realloc(*p, (n + 1) * sz);

	if (q == NULL)
		return LACRE_E_NOMEM;
	*p = q;
	return LACRE_OK;
}

/* Copy v into out (cap) or fail. */
static int text(const char *v, char *out, size_t cap, int required)
{
	if (v == NULL || strlen(v) >= cap || (required && !v[0]))
		return LACRE_E_MALFORMED;
	memcpy(out, v, strlen(v) + 1);
	return LACRE_OK;
}

/* evlog_apply_fn: the case log's rules. */
static int c_apply(void *arg, const struct evlog_event *ev)
{
	struct cctx *x = arg;
	struct cases *c = x->c;
	const struct user *u = users_find(x->users, ev->by);
	char msg[256];

	if (u == NULL)
		return LACRE_E_MALFORMED;
	if (!strcmp(ev->type, "court-state")) {
		struct case_state cs, *old;
		memset(&cs, 0, sizeof(cs));
		if (ev->n != 4 || (u->role != ACL_CLERK && u->role != ACL_ADMIN) ||
		    text(evlog_get(ev, "warrant"), cs.warrant, sizeof(cs.warrant), 1) ||
		    court_state_parse(evlog_get(ev, "state"), &cs.state) ||
		    evlog_get_time(ev, "date", &cs.date) ||
		    text(evlog_get(ev, "order"), cs.order, sizeof(cs.order), 0))
			return LACRE_E_MALFORMED;
		snprintf(cs.by, sizeof(cs.by), "%s", ev->by);
		cs.at = ev->at;
		if ((old = find_state(c, cs.warrant)) != NULL) {
			*old = cs;
		} else {
			if (grow((void **)&c->states, c->n_states, sizeof(cs)) != LACRE_OK)
				return LACRE_E_NOMEM;
			c->states[c->n_states++] = cs;
		}
	} else if (!strcmp(ev->type, "shred-request")) {
		struct shred_request rq;
		char want[SHRED_ID_MAX];
		memset(&rq, 0, sizeof(rq));
		snprintf(want, sizeof(want), "S-%06zu", c->n_reqs + 1);
		if (ev->n != 5 ||
		    (u->role != ACL_CLERK && u->role != ACL_ADMIN && u->role != ACL_SUPERVISOR) ||
		    text(evlog_get(ev, "id"), rq.id, sizeof(rq.id), 1) || strcmp(rq.id, want) != 0 ||
		    text(evlog_get(ev, "warrant"), rq.warrant, sizeof(rq.warrant), 1) ||
		    text(evlog_get(ev, "order"), rq.order, sizeof(rq.order), 1) ||
		    evlog_get_time(ev, "order_date", &rq.order_date) ||
		    text(evlog_get(ev, "justification"), rq.justification, sizeof(rq.justification), 1) ||
		    cases_shredded(c, rq.warrant) != NULL)
			return LACRE_E_MALFORMED;
		for (size_t i = 0; i < c->n_reqs; i++)
			if (!c->reqs[i].done && !strcmp(c->reqs[i].warrant, rq.warrant))
				return LACRE_E_MALFORMED;
		snprintf(rq.by, sizeof(rq.by), "%s", ev->by);
		rq.by_role = u->role;
		rq.at = ev->at;
		if (grow((void **)&c->reqs, c->n_reqs, sizeof(rq)) != LACRE_OK)
			return LACRE_E_NOMEM;
		c->reqs[c->n_reqs++] = rq;
	} else if (!strcmp(ev->type, "shred-approve")) {
		struct shred_request *rq = find_req(c, evlog_get(ev, "id") ? evlog_get(ev, "id") : "");
		if (ev->n != 1 || rq == NULL ||
		    (u->role != ACL_CLERK && u->role != ACL_ADMIN && u->role != ACL_SUPERVISOR) ||
		    shred_check_approval(rq, ev->by, u->role, msg, sizeof(msg)) != LACRE_OK)
			return LACRE_E_MALFORMED;
		rq->done = 1;
		snprintf(rq->approved_by, sizeof(rq->approved_by), "%s", ev->by);
		rq->done_at = ev->at;
	} else {
		return LACRE_E_MALFORMED;
	}
	c->events = ev->seq;
	return LACRE_OK;
}

/* Open cases.log of s (reader or writer) with a fresh state and the users
 * registry (which the caller frees after closing the log). */
static int c_open(const struct site *s, int writer, struct users_registry **users,
		  struct cctx *x, struct evlog **log, char *msg, size_t msglen)
{
	char path[SITE_PATH_MAX];
	struct evlog *l = NULL;
	int r;

	memset(x, 0, sizeof(*x));
	*users = NULL;
	if ((r = users_load(s, users, msg, msglen)) != LACRE_OK)
		return r;
	x->users = *users;
	x->c = calloc(1, sizeof(*x->c));
	if (x->c == NULL) {
		users_free(*users);
		*users = NULL;
		return LACRE_E_NOMEM;
	}
	r = site_path(s, CASES_LOG, path, sizeof(path));
	if (r == LACRE_OK)
		r = evlog_open(path, CASES_MAGIC, writer, c_signer, c_apply, x, &l, msg, msglen);
	if (r != LACRE_OK) {
		cases_free(x->c);
		x->c = NULL;
		users_free(*users);
		*users = NULL;
		return r;
	}
	if (log)
		*log = l;
	else
		evlog_close(l);
	return LACRE_OK;
}

int cases_load(const struct site *s, struct cases **out, char *msg, size_t msglen)
{
	struct users_registry *users;
	struct cctx x;
	int r;

	if ((r = c_open(s, 0, &users, &x, NULL, msg, msglen)) != LACRE_OK)
		return r;
	users_free(users);
	*out = x.c;
	return LACRE_OK;
}

void cases_free(struct cases *c)
{
	if (c == NULL)
		return;
	free(c->states);
	free(c->reqs);
	free(c);
}

/* Append ev by the session's user to the open log l, signed by that user
 * (its key file in process; through the keeper, its own client). */
static int append(struct evlog *l, const struct acl_session *ss, struct evlog_event *ev)
{
	return evlog_append(l, ev, users_sign_session, (void *)ss);
}

/* Whether warrant w exists in s's registry; *active (optional) whether it
 * authorises now. */
static int warrant_exists(const struct site *s, const char *w, int *active)
{
	struct warrant_registry *reg = NULL;
	const struct warrant *x;
	int r;

	if ((r = warrant_registry_load(s, &reg)) != LACRE_OK)
		return r;
	x = warrant_registry_find(reg, w);
	if (x && active)
		*active = warrant_active_at(x, warrant_time_now());
	warrant_registry_free(reg);
	return x ? LACRE_OK : LACRE_E_NOT_FOUND;
}

int cases_set_state(const struct site *s, const struct acl_session *ss, const char *warrant,
		    enum court_state st, int64_t date, const char *order, char *msg, size_t msglen)
{
	struct users_registry *users = NULL;
	struct evlog *l = NULL;
	struct evlog_event *e = NULL;
	struct cctx x;
	int r;

	if ((r = warrant_exists(s, warrant, NULL)) != LACRE_OK) {
		snprintf(msg, msglen, "no warrant '%s' (see 'lacre warrant list')", warrant);
		return r;
	}
	if ((r = c_open(s, 1, &users, &x, &l, msg, msglen)) != LACRE_OK)
		return r;
	e = malloc(sizeof(*e));
	if (e == NULL) {
		r = LACRE_E_NOMEM;
		goto out;
	}
	evlog_event_init(e, "court-state", acl_session_user(ss));
	r = evlog_set(e, "warrant", warrant);
	if (r == LACRE_OK)
		r = evlog_set(e, "state", court_state_name(st));
	if (r == LACRE_OK)
		r = evlog_set_time(e, "date", date);
	if (r == LACRE_OK)
		r = evlog_set(e, "order", order ? order : "");
	if (r == LACRE_OK)
		r = append(l, ss, e);
	if (r != LACRE_OK)
		snprintf(msg, msglen, "cannot record the court state: %s", lacre_strerror(r));
out:
	free(e);
	evlog_close(l);
	cases_free(x.c);
	users_free(users);
	return r;
}

int shred_request_add(const struct site *s, const struct acl_session *ss, const char *warrant,
		      const char *order, int64_t order_date, const char *justification,
		      char id[SHRED_ID_MAX], char *msg, size_t msglen)
{
	struct users_registry *users = NULL;
	struct evlog *l = NULL;
	struct evlog_event *e = NULL;
	struct cctx x;
	char nid[SHRED_ID_MAX];
	int r, active = 0;

	if ((r = warrant_exists(s, warrant, &active)) != LACRE_OK) {
		snprintf(msg, msglen, "no warrant '%s' (see 'lacre warrant list')", warrant);
		return r;
	}
	if (active) {
		snprintf(msg, msglen, "warrant %s is still active: the measure must have ended before "
			 "its data is destroyed (L13; 'lacre warrant cease' records a cessation order)",
			 warrant);
		return LACRE_E_STATE;
	}
	if (!order || !order[0] || !justification || !justification[0]) {
		snprintf(msg, msglen, "a shred needs the court order (--order, --order-date) and a "
			 "justification");
		return LACRE_E_INVALID;
	}
	if ((r = c_open(s, 1, &users, &x, &l, msg, msglen)) != LACRE_OK)
		return r;
	if (cases_shredded(x.c, warrant)) {
		snprintf(msg, msglen, "warrant %s was shredded already (by order %s)", warrant,
			 cases_shredded(x.c, warrant)->order);
		r = LACRE_E_STATE;
		goto out;
	}
	for (size_t i = 0; i < x.c->n_reqs; i++)
		if (!x.c->reqs[i].done && !strcmp(x.c->reqs[i].warrant, warrant)) {
			snprintf(msg, msglen, "warrant %s has a pending shred request %s: approve it "
				 "('lacre shred approve %s')", warrant, x.c->reqs[i].id, x.c->reqs[i].id);
			r = LACRE_E_EXISTS;
			goto out;
		}
	snprintf(nid, sizeof(nid), "S-%06zu", x.c->n_reqs + 1);
	e = malloc(sizeof(*e));
	if (e == NULL) {
		r = LACRE_E_NOMEM;
		goto out;
	}
	evlog_event_init(e, "shred-request", acl_session_user(ss));
	r = evlog_set(e, "id", nid);
	if (r == LACRE_OK)
		r = evlog_set(e, "warrant", warrant);
	if (r == LACRE_OK)
		r = evlog_set(e, "order", order);
	if (r == LACRE_OK)
		r = evlog_set_time(e, "order_date", order_date);
	if (r == LACRE_OK)
		r = evlog_set(e, "justification", justification);
	if (r == LACRE_OK)
		r = append(l, ss, e);
	if (r != LACRE_OK) {
		snprintf(msg, msglen, "cannot record the shred request: %s", lacre_strerror(r));
		goto out;
	}
	memcpy(id, nid, sizeof(nid));
out:
	free(e);
	evlog_close(l);
	cases_free(x.c);
	users_free(users);
	return r;
}

int shred_approve(const struct site *s, const struct acl_session *ss, const char *id,
		  shred_execute_fn exec, void *arg, char *msg, size_t msglen)
{
	struct users_registry *users = NULL;
	struct evlog *l = NULL;
	struct evlog_event *e = NULL;
	struct shred_request *rq, copy;
	struct cctx x;
	int r;

	if ((r = c_open(s, 1, &users, &x, &l, msg, msglen)) != LACRE_OK)
		return r;
	rq = find_req(x.c, id);
	if (rq == NULL) {
		snprintf(msg, msglen, "no shred request '%s' (see 'lacre shred list')", id);
		r = LACRE_E_NOT_FOUND;
		goto out;
	}
	if ((r = shred_check_approval(rq, acl_session_user(ss), acl_session_role(ss), msg,
				      msglen)) != LACRE_OK)
		goto out;
	copy = *rq;
	e = malloc(sizeof(*e));
	if (e == NULL) {
		r = LACRE_E_NOMEM;
		goto out;
	}
	evlog_event_init(e, "shred-approve", acl_session_user(ss));
	r = evlog_set(e, "id", id);
	/* the approver's signature first: no signature, no destruction */
	if (r == LACRE_OK)
		r = evlog_prepare(l, e, users_sign_session, (void *)ss);
	if (r != LACRE_OK) {
		snprintf(msg, msglen, r == LACRE_E_AUTH ? "the approval's signature does not verify "
			 "with the key of user '%s'; nothing was destroyed or written" :
			 "cannot sign the approval (%s); nothing was destroyed or written",
			 r == LACRE_E_AUTH ? acl_session_user(ss) : lacre_strerror(r));
		goto out;
	}
	if (exec && (r = exec(arg, &copy, msg, msglen)) != LACRE_OK)
		goto out;                       /* the prepared line is dropped */
	if ((r = evlog_commit(l)) != LACRE_OK)
		snprintf(msg, msglen, "cannot record the approval in %s: %s", CASES_LOG,
			 lacre_strerror(r));
out:
	evlog_close(l);
	free(e);
	cases_free(x.c);
	users_free(users);
	return r;
}

int shred_approve_record(const struct site *s, const struct acl_session *ss, const char *id,
			 char *msg, size_t msglen)
{
	return shred_approve(s, ss, id, NULL, NULL, msg, msglen);
}

int retention_due(const struct case_state *cs, int64_t now, char *why, size_t whylen)
{
	char d[WARRANT_TIME_MAX], u[WARRANT_TIME_MAX];
	int64_t until;

	if (cs == NULL)
		return 0;
	warrant_time_format(cs->date, d);
	switch (cs->state) {
	case COURT_SENTENCE_EXECUTED:
		until = warrant_add_months(cs->date, 12 * RETENTION_YEARS);
		if (now < until)
			return 0;
		warrant_time_format(until, u);
		snprintf(why, whylen, "sentence executed on %s: the LAJ copy had to be destroyed by %s "
			 "(5 years, L13)", d, u);
		return 1;
	case COURT_FINAL_RULING:
		if (now < cs->date)
			return 0;
		snprintf(why, whylen, "final ruling of %s: the originals must be deleted from every "
			 "system (one copy stays with the LAJ, L13)", d);
		return 1;
	case COURT_TIME_BARRED:
	case COURT_DISMISSED:
	case COURT_ACQUITTED:
		if (now < cs->date)
			return 0;
		snprintf(why, whylen, "%s on %s: the data has no legal basis any more (L13)",
			 court_state_name(cs->state), d);
		return 1;
	default:
		return 0;
	}
}

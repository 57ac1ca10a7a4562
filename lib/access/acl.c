/*
 * acl.c - who may do what (docs/access.md) and the audit-first gate of
 * include/lacre/acl.h.
 *
 * acl_session_open proves that the caller holds the private key of a user
 * registered in users.log: the key file's public half must equal the
 * registry's, and a fresh random challenge signed with the file's seed
 * must verify with the registry's key.  This is a check of the local CLI
 * (whoever runs `lacre` on the site host could read files directly).
 *
 * Inside a keeper worker (acl_keeper_worker_begin) the user was already
 * authenticated by the keeper from a signed request (lib/keeper/), and the
 * keeper holds no user's private key: acl_session_open then opens the
 * session of that user whatever key file the arguments name, and every
 * signature the session makes - the user's signature over the request
 * part of each access-log event - is asked of the client through the
 * keeper's connection (the signer callback), so the access log's events
 * verify exactly as those of the in-process path.
 *
 * acl_authorize decides (acl_decide), then appends the attempt - allowed
 * or refused, with the real reason - to the access log and waits until it
 * is durable; only an allowed attempt whose entry is durable returns
 * LACRE_OK.  For a unit-scoped role, a warrant of another unit gets
 * exactly the error and message of a warrant that does not exist (L8);
 * the access log keeps the difference for the auditor.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "lacre/accesslog.h"
#include "lacre/acl.h"
#include "lacre/ed25519.h"
#include "lacre/err.h"
#include "lacre/evlog.h"
#include "lacre/users.h"
#include "lacre/warrant.h"
#include "keeper/session_keys.h"

#define ROLE(x) (1u << (x))
#define ACL_GRANTS_MAX 16   /* allowed requests one session remembers */
#define CONTENT_ROLES (ROLE(ACL_INVESTIGATOR) | ROLE(ACL_SUPERVISOR) | ROLE(ACL_CLERK))

struct acl_session {
	struct site site;
	struct user_key key;          /* seed all zero when remote */
	struct user user;
	uint8_t auditor_pub[32];
	acl_signer_fn remote;         /* non-NULL: the user signs through this */
	void *remote_arg;
	/* what acl_authorize allowed in this session (access_key's grounds) */
	struct acl_grant {
		char action[24];
		char warrant[WARRANT_ID_MAX];   /* "" when the request named none */
	} granted[ACL_GRANTS_MAX];
	size_t ngranted;
	/* the keys this session reads (lib/keeper/access_key.c attaches the
	 * unlocked keystore; opaque here): closed and wiped with the session */
	void *keys;
	void (*keys_close)(void *keys);
	int operator_only;            /* the master passphrase holder, no user */
};

/* Set in a keeper worker process (acl_keeper_worker_begin). */
static char worker_user[USER_NAME_MAX];
static acl_signer_fn worker_sign;
static void *worker_sign_arg;

/* What each action needs.  Anything not listed is refused. */
struct acl_rule {
	const char *action;
	unsigned roles;          /* ROLE() bits allowed */
	int warrant;             /* 1: names a warrant, which must exist */
	int unit_scoped;         /* 1: investigators/supervisors only their unit's */
};

static const struct acl_rule rules[] = {
	{ "records", CONTENT_ROLES, 1, 1 },
	{ "calls", CONTENT_ROLES, 1, 1 },
	{ "audio", CONTENT_ROLES, 1, 1 },
	{ "pcap", CONTENT_ROLES, 1, 1 },
	{ "export", CONTENT_ROLES, 1, 1 },
	{ "identity", ROLE(ACL_SUPERVISOR) | ROLE(ACL_CLERK), 1, 1 },
	{ "quarantine", ROLE(ACL_CLERK), 0, 0 },
	{ "shred", ROLE(ACL_SUPERVISOR) | ROLE(ACL_CLERK) | ROLE(ACL_ADMIN), 1, 1 },
	{ "court-state", ROLE(ACL_CLERK) | ROLE(ACL_ADMIN), 1, 0 },
	{ "retention", ROLE(ACL_CLERK) | ROLE(ACL_ADMIN) | ROLE(ACL_SUPERVISOR), 0, 0 },
	{ "warrant-add", ROLE(ACL_ADMIN) | ROLE(ACL_CLERK), 0, 0 },
	{ "warrant-change", ROLE(ACL_ADMIN) | ROLE(ACL_CLERK), 1, 0 },
	{ "access-log", ROLE(ACL_AUDITOR), 0, 0 },
	{ "user-admin", ROLE(ACL_ADMIN), 0, 0 },
	/* warrant metadata is content too (L8): the same unit rule as reads */
	{ "warrant-list", CONTENT_ROLES | ROLE(ACL_ADMIN), 0, 0 },
	{ "warrant-show", CONTENT_ROLES | ROLE(ACL_ADMIN), 1, 1 },
	/* decrypts every segment to match commitments; prints no content */
	{ "audit-deep", ROLE(ACL_AUDITOR) | ROLE(ACL_ADMIN), 0, 0 },
};

/* Whether s holds something other than blanks. */
static int has_text(const char *s)
{
	for (; s && *s; s++)
		if (*s != ' ' && *s != '\t')
			return 1;
	return 0;
}

int acl_decide(enum acl_role role, const char *unit, const struct access_request *req,
	       const struct warrant_registry *reg, char *why, size_t whylen,
	       char *msg, size_t msglen)
{
	const struct acl_rule *rule = NULL;
	const struct warrant *w;

	snprintf(why, whylen, "allowed");
	if (req == NULL || req->action == NULL) {
		snprintf(why, whylen, "no action");
		snprintf(msg, msglen, "no action given");
		return LACRE_E_INVALID;
	}
	if (!has_text(req->justification)) {
		snprintf(why, whylen, "no justification");
		snprintf(msg, msglen, "a justification is required: --justification TEXT citing the "
			 "warrant and the reason (LED art. 25)");
		return LACRE_E_INVALID;
	}
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		if (!strcmp(rules[i].action, req->action))
			rule = &rules[i];
	if (rule == NULL || !(rule->roles & ROLE(role))) {
		snprintf(why, whylen, "role %s may not %s", acl_role_name(role), req->action);
		snprintf(msg, msglen, "the %s role may not use '%s'", acl_role_name(role), req->action);
		return LACRE_E_DENIED;
	}
	if (!rule->warrant)
		return LACRE_OK;
	if (req->warrant == NULL || !req->warrant[0]) {
		snprintf(why, whylen, "no warrant named");
		snprintf(msg, msglen, "%s needs --warrant W", req->action);
		return LACRE_E_INVALID;
	}
	w = reg ? warrant_registry_find(reg, req->warrant) : NULL;
	if (w == NULL) {
		snprintf(why, whylen, "no such warrant");
		snprintf(msg, msglen, "no warrant '%s' (see 'lacre warrant list')", req->warrant);
		return LACRE_E_NOT_FOUND;
	}
	if (rule->unit_scoped && (role == ACL_INVESTIGATOR || role == ACL_SUPERVISOR) &&
	    (unit == NULL || strcmp(w->unit, unit) != 0)) {
		/* L8: the same answer as for a warrant that does not exist */
		snprintf(why, whylen, "warrant of unit '%s', user of unit '%s' (answered as "
			 "not found, L8)", w->unit, unit ? unit : "");
		snprintf(msg, msglen, "no warrant '%s' (see 'lacre warrant list')", req->warrant);
		return LACRE_E_NOT_FOUND;
	}
	return LACRE_OK;
}

int acl_keeper_worker_begin(const char *user, acl_signer_fn sign, void *arg)
{
	if (user == NULL || !users_name_ok(user) || sign == NULL)
		return LACRE_E_INVALID;
	snprintf(worker_user, sizeof(worker_user), "%s", user);
	worker_sign = sign;
	worker_sign_arg = arg;
	return LACRE_OK;
}

int acl_keeper_worker(void)
{
	return worker_user[0] != '\0';
}

int acl_session_open_authenticated(const struct site *s, const char *name, acl_signer_fn sign,
				   void *arg, struct acl_session **out, char *msg, size_t msglen)
{
	struct acl_session *ss = NULL;
	struct users_registry *reg = NULL;
	const struct user *u;
	int r;

	if (s == NULL || name == NULL || sign == NULL || out == NULL)
		return LACRE_E_INVALID;
	ss = calloc(1, sizeof(*ss));
	if (ss == NULL)
		return LACRE_E_NOMEM;
	ss->site = *s;
	if ((r = users_load(s, &reg, msg, msglen)) != LACRE_OK)
		goto fail;
	if ((u = users_find(reg, name)) == NULL) {
		snprintf(msg, msglen, "no user '%s' on this site (see 'lacre user list')", name);
		r = LACRE_E_NOT_FOUND;
		goto fail;
	}
	if (u->disabled) {
		snprintf(msg, msglen, "user '%s' is disabled", u->name);
		r = LACRE_E_DENIED;
		goto fail;
	}
	snprintf(ss->key.name, sizeof(ss->key.name), "%s", u->name);
	memcpy(ss->key.pub, u->pub, 32);
	ss->user = *u;
	memcpy(ss->auditor_pub, reg->auditor_pub, 32);
	ss->remote = sign;
	ss->remote_arg = arg;
	users_free(reg);
	*out = ss;
	return LACRE_OK;
fail:
	users_free(reg);
	acl_session_close(ss);
	return r;
}

int acl_log_refusal(const struct site *s, const char *user, const char *action, const char *what,
		    const char *why, char *msg, size_t msglen)
{
	struct users_registry *reg = NULL;
	const struct user *u;
	struct accesslog_event ev;
	int r;

	if ((r = users_load(s, &reg, msg, msglen)) != LACRE_OK)
		return r;
	if ((u = users_find(reg, user)) == NULL) {
		users_free(reg);
		snprintf(msg, msglen, "no user '%s'", user);
		return LACRE_E_NOT_FOUND;
	}
	memset(&ev, 0, sizeof(ev));
	ev.time = warrant_time_now();
	ev.user = u->name;
	ev.role = acl_role_name(u->role);
	ev.unit = u->unit;
	ev.action = action;
	ev.what = what;
	ev.justification = "";
	ev.allowed = 0;
	ev.reason = why;
	ev.request_sig = NULL;          /* not the user's: nothing they signed verified */
	msg[0] = '\0';
	r = accesslog_append(s, reg->auditor_pub, &ev, NULL, NULL, msg, msglen);
	users_free(reg);
	return r;
}

int acl_session_open(const struct site *s, const char *user_keyfile,
		     struct acl_session **out, char *msg, size_t msglen)
{
	struct acl_session *ss = NULL;
	struct users_registry *reg = NULL;
	const struct user *u;
	uint8_t chal[64], sig[64];
	int r;

	/* in a keeper worker the user is the one the keeper authenticated */
	if (worker_user[0])
		return acl_session_open_authenticated(s, worker_user, worker_sign, worker_sign_arg,
						      out, msg, msglen);
	if (user_keyfile == NULL || !user_keyfile[0])
		user_keyfile = getenv(USERS_ENV);
	if (user_keyfile == NULL || !user_keyfile[0]) {
		snprintf(msg, msglen, "no acting user: use --user KEYFILE or set %s", USERS_ENV);
		return LACRE_E_NOT_FOUND;
	}
	ss = calloc(1, sizeof(*ss));
	if (ss == NULL)
		return LACRE_E_NOMEM;
	ss->site = *s;
	r = user_key_load(user_keyfile, &ss->key);
	if (r != LACRE_OK) {
		snprintf(msg, msglen, "cannot use the user key %s: %s", user_keyfile,
			 r == LACRE_E_DENIED ? "it is readable by others (chmod 600 it)" :
			 r == LACRE_E_MALFORMED ? "not a lacre user key file" : lacre_strerror(r));
		goto fail;
	}
	if ((r = users_load(s, &reg, msg, msglen)) != LACRE_OK)
		goto fail;
	if (!reg->have_init || reg->n == 0) {
		snprintf(msg, msglen, "the site has no users yet: 'lacre user add NAME --role admin "
			 "-o KEYFILE' with the master passphrase creates the first administrator");
		r = LACRE_E_NOT_FOUND;
		goto fail;
	}
	u = users_find(reg, ss->key.name);
	if (u == NULL) {
		snprintf(msg, msglen, "no user '%s' on this site (see 'lacre user list')", ss->key.name);
		r = LACRE_E_NOT_FOUND;
		goto fail;
	}
	if (CRYPTO_memcmp(u->pub, ss->key.pub, 32) != 0) {
		snprintf(msg, msglen, "the key in %s is not the registered key of user '%s'",
			 user_keyfile, u->name);
		r = LACRE_E_DENIED;
		goto fail;
	}
	if (u->disabled) {
		snprintf(msg, msglen, "user '%s' is disabled", u->name);
		r = LACRE_E_DENIED;
		goto fail;
	}
	/* proof of possession: sign a fresh challenge, verify with the registry */
	memcpy(chal, "lacre-acl-challenge/v1\n", 23);
	if (RAND_bytes(chal + 23, (int)sizeof(chal) - 23) != 1) {
		r = LACRE_E_CRYPTO;
		goto fail;
	}
	if ((r = lacre_ed25519_sign(ss->key.seed, chal, sizeof(chal), sig)) != LACRE_OK ||
	    (r = lacre_ed25519_verify(u->pub, chal, sizeof(chal), sig)) != LACRE_OK) {
		snprintf(msg, msglen, "user '%s' failed the key possession check", u->name);
		r = LACRE_E_DENIED;
		goto fail;
	}
	ss->user = *u;
	memcpy(ss->auditor_pub, reg->auditor_pub, 32);
	users_free(reg);
	*out = ss;
	return LACRE_OK;
fail:
	users_free(reg);
	acl_session_close(ss);
	return r;
}

/* Append the attempt req (allowed or not, with why) to the access log,
 * signed by the session's user.  lmsg explains a failure. */
static int log_attempt(struct acl_session *ss, const struct access_request *req, int allowed,
		       const char *why, char *lmsg, size_t lmsglen)
{
	struct accesslog_event ev;
	struct lacre_dbuf rq;
	uint8_t salt[16], sig[64];
	int r;

	memset(&ev, 0, sizeof(ev));
	ev.time = warrant_time_now();
	ev.user = ss->user.name;
	ev.role = acl_role_name(ss->user.role);
	ev.unit = ss->user.unit;
	ev.action = req->action;
	ev.warrant = req->warrant;
	ev.what = req->what;
	ev.justification = req->justification;
	ev.allowed = allowed;
	ev.reason = why;
	/* the user signs the request; the auditor verifies it later */
	lacre_dbuf_init(&rq, ACCESSLOG_EVENT_MAX);
	lacre_dbuf_set_secret(&rq);      /* the justification is case data */
	r = RAND_bytes(salt, 16) == 1 ? LACRE_OK : LACRE_E_CRYPTO;
	if (r == LACRE_OK)
		r = accesslog_request(salt, ev.time, ev.user, ev.role, ev.unit, ev.action,
				      ev.warrant, ev.what, ev.justification, &rq);
	if (r == LACRE_OK)
		r = acl_session_sign(ss, rq.p, rq.len, sig);
	lacre_dbuf_free(&rq);
	if (r == LACRE_OK) {
		ev.request_sig = sig;
		lmsg[0] = '\0';
		r = accesslog_append(&ss->site, ss->auditor_pub, &ev, salt, NULL, lmsg, lmsglen);
	}
	OPENSSL_cleanse(sig, sizeof(sig));
	return r;
}

int acl_refuse(struct acl_session *ss, const struct access_request *req, const char *msg)
{
	char lmsg[SITE_MSG_MAX];

	(void)log_attempt(ss, req, 0, msg, lmsg, sizeof(lmsg));
	return LACRE_E_DENIED;
}

/* Remember that req was allowed (and durably logged) in ss, for
 * access_key.  A request too long to remember, or one past the table, is
 * not remembered: the key it would cover is then refused (fails closed). */
static void grant(struct acl_session *ss, const struct access_request *req)
{
	struct acl_grant *g;
	const char *w = req->warrant ? req->warrant : "";

	if (acl_session_allowed(ss, req->action, w) || ss->ngranted >= ACL_GRANTS_MAX ||
	    strlen(req->action) >= sizeof(g->action) || strlen(w) >= sizeof(g->warrant))
		return;
	g = &ss->granted[ss->ngranted++];
	snprintf(g->action, sizeof(g->action), "%s", req->action);
	snprintf(g->warrant, sizeof(g->warrant), "%s", w);
}

int acl_authorize(struct acl_session *ss, const struct access_request *req,
		  char *msg, size_t msglen)
{
	struct warrant_registry *reg = NULL;
	char why[512], lmsg[SITE_MSG_MAX];
	int decision, r;

	if (ss == NULL || req == NULL)
		return LACRE_E_INVALID;
	msg[0] = '\0';
	if (req->warrant != NULL && warrant_registry_load(&ss->site, &reg) != LACRE_OK) {
		snprintf(msg, msglen, "cannot load the warrant log: %s", warrant_registry_error());
		return LACRE_E_CORRUPT;
	}
	decision = acl_decide(ss->user.role, ss->user.unit, req, reg, why, sizeof(why), msg, msglen);
	warrant_registry_free(reg);
	lmsg[0] = '\0';
	r = log_attempt(ss, req, decision == LACRE_OK, why, lmsg, sizeof(lmsg));
	if (decision != LACRE_OK)
		return decision;    /* refused (and logged, when the log could) */
	if (r != LACRE_OK) {
		snprintf(msg, msglen, "access not granted: the access log could not record it first "
			 "(%s)", lmsg[0] ? lmsg : lacre_strerror(r));
		return r;
	}
	grant(ss, req);
	return LACRE_OK;
}

int acl_session_allowed(const struct acl_session *ss, const char *action, const char *warrant)
{
	if (ss == NULL || action == NULL)
		return 0;
	for (size_t i = 0; i < ss->ngranted; i++)
		if (!strcmp(ss->granted[i].action, action) &&
		    (warrant == NULL || !strcmp(ss->granted[i].warrant, warrant)))
			return 1;
	return 0;
}

int access_open(const struct site *s, const char *user_keyfile,
		const struct access_request *req, struct acl_session **out, int *stage,
		char *msg, size_t msglen)
{
	struct acl_session *ss = NULL;
	int r;

	if (stage)
		*stage = ACCESS_AUTHENTICATE;
	if (s == NULL || req == NULL || msg == NULL || msglen == 0)
		return LACRE_E_INVALID;
	msg[0] = '\0';
	if ((r = acl_session_open(s, user_keyfile, &ss, msg, msglen)) != LACRE_OK) {
		if (!msg[0])
			snprintf(msg, msglen, "cannot open the user's session: %s", lacre_strerror(r));
		return r;
	}
	if (stage)
		*stage = ACCESS_AUTHORIZE;
	if ((r = acl_authorize(ss, req, msg, msglen)) != LACRE_OK) {
		if (!msg[0])
			snprintf(msg, msglen, "access not granted: %s", lacre_strerror(r));
		acl_session_close(ss);
		return r;
	}
	if (out)
		*out = ss;
	else
		acl_session_close(ss);
	return LACRE_OK;
}

const char *acl_session_user(const struct acl_session *ss)
{
	return ss->user.name;
}

enum acl_role acl_session_role(const struct acl_session *ss)
{
	return ss->user.role;
}

const char *acl_session_unit(const struct acl_session *ss)
{
	return ss->user.unit;
}

const struct user_key *acl_session_key(const struct acl_session *ss)
{
	return ss->remote ? NULL : &ss->key;
}

int acl_session_sign(const struct acl_session *ss, const void *m, size_t n, uint8_t sig[64])
{
	int r;

	if (!ss->remote)
		return lacre_ed25519_sign(ss->key.seed, m, n, sig);
	/* the client signs; what it returns must be the user's signature */
	if ((r = ss->remote(ss->remote_arg, m, n, sig)) != LACRE_OK)
		return r;
	if (lacre_ed25519_verify(ss->user.pub, m, n, sig) != LACRE_OK) {
		OPENSSL_cleanse(sig, 64);
		return LACRE_E_AUTH;
	}
	return LACRE_OK;
}

void acl_session_close(struct acl_session *ss)
{
	if (ss == NULL)
		return;
	if (ss->keys_close && ss->keys)
		ss->keys_close(ss->keys);
	OPENSSL_cleanse(ss, sizeof(*ss));
	free(ss);
}

int acl_session_open_operator(const struct site *s, struct acl_session **out,
			      char *msg, size_t msglen)
{
	struct acl_session *ss;

	if (s == NULL || out == NULL)
		return LACRE_E_INVALID;
	if (worker_user[0]) {
		/* a keeper worker always acts for the user the keeper authenticated */
		if (msg && msglen)
			snprintf(msg, msglen, "internal error: an operator session asked for in the "
				 "keeper (a bug of the command: please report it)");
		return LACRE_E_DENIED;
	}
	if ((ss = calloc(1, sizeof(*ss))) == NULL)
		return LACRE_E_NOMEM;
	ss->site = *s;
	ss->operator_only = 1;
	*out = ss;
	return LACRE_OK;
}

int acl_session_operator(const struct acl_session *ss)
{
	return ss != NULL && ss->operator_only;
}

void acl_session_set_keys(struct acl_session *ss, void *keys, void (*close_fn)(void *keys))
{
	if (ss == NULL)
		return;
	if (ss->keys_close && ss->keys && ss->keys != keys)
		ss->keys_close(ss->keys);
	ss->keys = keys;
	ss->keys_close = close_fn;
}

void *acl_session_keys(const struct acl_session *ss)
{
	return ss ? ss->keys : NULL;
}

const struct site *acl_session_site(const struct acl_session *ss)
{
	return &ss->site;
}

/* The evlog_sign_fn of a session (users.h): the acting user signs a
 * registry line (users.log, cases.log) - with the key file in-process, or
 * through the client in a keeper worker.  Here, beside the gate, because
 * it needs the session (moved from users.c: the users registry is public
 * site data and links no gate). */
int users_sign_session(void *arg, const void *m, size_t n, uint8_t sig[64])
{
	return acl_session_sign((const struct acl_session *)arg, m, n, sig);
}


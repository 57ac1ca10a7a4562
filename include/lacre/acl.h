/*
 * acl.h - who may read what, and the audit-first gate (DESIGN.md §1, §2;
 * spec/legal-rules.md L7, L8 and LED art. 25).  Owned by lib/access/acl.c
 * and its neighbours (users, access log).
 *
 * Every access-domain command that produces plaintext (records, quarantine,
 * calls, audio, pcap, export, warrant identity) opens a session for the
 * acting user (--user KEYFILE or LACRE_USER: the user's Ed25519 key file)
 * and calls acl_authorize() BEFORE it decrypts anything.  acl_authorize()
 * checks the user's role and unit against the request, appends a signed
 * entry to the site's access log (allowed or refused, with the
 * justification), waits until that entry is durable, and only then returns
 * LACRE_OK.  A refusal for a case of another unit is indistinguishable from
 * "no such warrant" (LACRE_E_NOT_FOUND, L8).
 */
#ifndef LACRE_ACL_H
#define LACRE_ACL_H

#include <stddef.h>
#include <stdint.h>

#include "lacre/site.h"

enum acl_role {
	ACL_INVESTIGATOR = 1,  /* reads the cases of one unit */
	ACL_SUPERVISOR,        /* reads the cases of one unit, approves */
	ACL_CLERK,             /* court clerk (LAJ): exports, approves shredding */
	ACL_AUDITOR,           /* reads the access log, never content */
	ACL_ADMIN              /* runs the site: users, warrants; no content alone */
};

struct access_request {
	const char *action;         /* "records", "quarantine", "calls", "audio",
				     * "pcap", "export", "identity", "shred", ... */
	const char *warrant;        /* warrant id, or NULL (quarantine: oversight) */
	const char *what;           /* detail: call id, time range, output path */
	const char *justification;  /* required, non-empty */
};

struct acl_session;

/* Authenticate the acting user from their key file (NULL: $LACRE_USER).
 * LACRE_E_NOT_FOUND (no such user / no key given), LACRE_E_DENIED
 * (disabled user, key does not match the registry).  msg explains. */
int acl_session_open(const struct site *s, const char *user_keyfile,
		     struct acl_session **out, char *msg, size_t msglen);
/* The audit-first gate, see above.  LACRE_OK: proceed.  LACRE_E_NOT_FOUND
 * (no such warrant, or one of another unit), LACRE_E_DENIED (role may not),
 * LACRE_E_INVALID (no justification).  The attempt is logged either way. */
int acl_authorize(struct acl_session *ss, const struct access_request *req,
		  char *msg, size_t msglen);
/* Name and role of the session's user. */
const char *acl_session_user(const struct acl_session *ss);
enum acl_role acl_session_role(const struct acl_session *ss);
void acl_session_close(struct acl_session *ss);

/* ---- additions (lib/access/acl.c; docs/access.md) ---- */

struct user_key;
struct warrant_registry;

/* The session user's unit ("" when none). */
const char *acl_session_unit(const struct acl_session *ss);
/* The session user's key (to sign users.log / cases.log events). */
const struct user_key *acl_session_key(const struct acl_session *ss);
/* Ed25519 signature by the session user's key over m[0..n). */
int acl_session_sign(const struct acl_session *ss, const void *m, size_t n, uint8_t sig[64]);
/* The decision alone, without logging (what acl_authorize applies; unit
 * tests): LACRE_OK, or the refusal with msg for the user and why for the
 * access log.  reg may be NULL for requests without a warrant. */
int acl_decide(enum acl_role role, const char *unit, const struct access_request *req,
	       const struct warrant_registry *reg, char *why, size_t whylen,
	       char *msg, size_t msglen);
/* Log a refusal decided by the caller's own rule (e.g. the four-eyes rule
 * of a shred approval: msg is shown to the user and recorded as the
 * reason) and return LACRE_E_DENIED. */
int acl_refuse(struct acl_session *ss, const struct access_request *req, const char *msg);

/* ---- the one gate entry (issue 10) ---- */

/* Where access_open stopped. */
enum access_stage {
	ACCESS_AUTHENTICATE = 1,   /* no session: no or a bad key, unknown or disabled user */
	ACCESS_AUTHORIZE = 2       /* refused by the gate (logged), or the log failed */
};

/* The gate of every content command, in its one order: authenticate the
 * acting user (the key file user_keyfile, else $LACRE_USER; in a keeper
 * worker the user the keeper authenticated), authorise req (role, unit,
 * L7/L8 indistinguishability, justification) and append the access
 * event durably, allowed or refused, before the caller produces any
 * plaintext.  LACRE_OK: proceed; *out (when out is not NULL) is the open
 * session, which the caller closes (a command that later signs a registry
 * line with it keeps it), else it is closed here.  On failure nothing is
 * open, msg says why in one line for the user, and *stage (may be NULL)
 * says which step refused: the errors of acl_session_open
 * (LACRE_E_NOT_FOUND, LACRE_E_DENIED, ...) or of acl_authorize
 * (LACRE_E_NOT_FOUND for another unit's warrant, LACRE_E_DENIED,
 * LACRE_E_INVALID without a justification, or the log's error). */
int access_open(const struct site *s, const char *user_keyfile,
		const struct access_request *req, struct acl_session **out, int *stage,
		char *msg, size_t msglen);

/* 1 when acl_authorize allowed (and durably logged) action in this session
 * on warrant (NULL: on any warrant or none), else 0.  What access_key
 * (lib/keeper/access_key.h) hands out keys on; nothing else is recorded. */
int acl_session_allowed(const struct acl_session *ss, const char *action, const char *warrant);

/* ---- the keys a session owns (lib/keeper/access_key.h) ---- */

/* The session of the master passphrase holder when no user acts: the
 * first administrator's bootstrap (`user add` on a site without users)
 * and a one-shot `lacre-keeper run -- audit --deep`.  It has no user and
 * no grant; access_key_operator alone reads keys through it.  Refused
 * (LACRE_E_DENIED, msg says why) in a keeper worker. */
int acl_session_open_operator(const struct site *s, struct acl_session **out,
			      char *msg, size_t msglen);
/* 1 for a session of acl_session_open_operator, else 0. */
int acl_session_operator(const struct acl_session *ss);
/* The session's key slot (the unlocked keystore acl_session_close wipes)
 * is lib/keeper/session_keys.h: lib/keeper alone fills and reads it. */
/* The site the session was opened on. */
const struct site *acl_session_site(const struct acl_session *ss);

/* ---- the keeper (docs/keeper.md) ---- */

/* Asks the user (through the keeper's connection to the client) for the
 * Ed25519 signature of m[0..n).  LACRE_OK and sig, or an error (the client
 * refused or went away). */
typedef int (*acl_signer_fn)(void *arg, const void *m, size_t n, uint8_t sig[64]);

/* Open the session of user name, authenticated by the keeper from a signed
 * request; the session holds no private key, and its signatures (the
 * request part of each access-log event, acl_session_sign) come from sign,
 * each checked against the user's registered key.  acl_session_key()
 * returns NULL for such a session.  LACRE_E_NOT_FOUND (no such user),
 * LACRE_E_DENIED (disabled). */
int acl_session_open_authenticated(const struct site *s, const char *name, acl_signer_fn sign,
				   void *arg, struct acl_session **out, char *msg, size_t msglen);
/* Make this process a keeper worker for user: from now on acl_session_open
 * ignores its key file argument and opens the authenticated session
 * instead.  Called once, in the worker, before the command runs. */
int acl_keeper_worker_begin(const char *user, acl_signer_fn sign, void *arg);
/* 1 in a keeper worker, else 0. */
int acl_keeper_worker(void);
/* Log a request the keeper refused before running anything (forged,
 * replayed, stale, disabled user, a command it does not serve) for the
 * registered user it names: action "keeper", no request signature (none
 * verified), reason why.  LACRE_E_NOT_FOUND when user is not registered
 * (nothing is logged). */
int acl_log_refusal(const struct site *s, const char *user, const char *action, const char *what,
		    const char *why, char *msg, size_t msglen);

#endif

/*
 * access_key.h - the one way a command reaches a key: through the gate's
 * session (include/lacre/acl.h), which owns the unlocked keystore.
 * access_keys_unlock attaches the keystore to the session (the keeper's,
 * in a keeper worker; else unlocked with the master passphrase or the
 * site's token) and acl_session_close closes and wipes it with the
 * session.  Every operation below takes the session and checks, before it
 * reads or changes a key, that a request the gate allowed in this session
 * covers it, so a bug in one command (or a confused argument) cannot open
 * another warrant's identity or the oversight key.  No command names the
 * keystore (keystore.h is for lib/keeper alone: `make lint-keystore`).
 * Owned by lib/keeper/access_key.c; docs/keeper.md.
 *
 *   warrant W's identity   an allowed records, calls, audio, pcap, export or
 *                          identity on W, or audit-deep (every warrant)
 *   oversight identity     an allowed quarantine (also export
 *                          --with-quarantine's second request) or audit-deep
 *   access-log auditor     an allowed access-log, export (its access report)
 *                          or user-admin (which creates it)
 *   export signer          an allowed export
 *   site signer            an allowed user-admin
 *   shred W's key          an allowed shred on W (after its four-eyes check)
 *   warrant log writes     an allowed warrant-add, or warrant-change on W
 *                          (on a site without users: the operator session)
 *
 * Anything else is LACRE_E_DENIED with a message naming the key and the
 * action it needs.  No user can cause that refusal (the gate refused
 * first): it is a bug of the calling command.
 */
#ifndef LACRE_ACCESS_KEY_H
#define LACRE_ACCESS_KEY_H

#include <stddef.h>
#include <stdint.h>

#include "keeper/key_tombstone.h"
#include "lacre/acl.h"
#include "lacre/age.h"
#include "lacre/warrant.h"

struct passphrase_src;

/* Where access_keys_unlock stopped. */
enum access_unlock_stage {
	ACCESS_UNLOCK_SECRET = 1,  /* passphrase or PIN unreadable or wrong, token refused */
	ACCESS_UNLOCK_OPEN = 2     /* master.age or the keystore does not open */
};

/* Give session ss its keys: in a keeper worker (keeper_keys_worker) the
 * keeper's unlocked keystore, handed out once per request; else the
 * master passphrase from src unlocks master.age (or the PIN has the
 * site's PKCS#11 token unwrap master.p11) and opens the keystore.  The
 * session owns them from then on.  On failure msg is the line for the
 * user and *stage (may be NULL) says which step failed. */
int access_keys_unlock(struct acl_session *ss, const struct passphrase_src *src, int *stage,
		       char *msg, size_t msglen);

/* Close and wipe the keys of ss now (when the session lives on after its
 * keys were read, as the keeper's audit-deep session). */
void access_keys_drop(struct acl_session *ss);

/* The identity stored under name, when the session covers it (see above):
 * then the keystore's answer (LACRE_E_SHREDDED fills *tomb when not NULL,
 * LACRE_E_NOT_FOUND, ...); else LACRE_E_DENIED and msg names the key and
 * the action it needs.  A session without keys: LACRE_E_DENIED, named.
 * msg (may be NULL) is "" on LACRE_OK. */
int access_key(const struct acl_session *ss, const char *name,
	       struct age_x25519_identity *out, struct key_tombstone *tomb,
	       char *msg, size_t msglen);
/* The same for a 32-byte secret (the signer seeds). */
int access_key_secret(const struct acl_session *ss, const char *name, uint8_t out[32],
		      struct key_tombstone *tomb, char *msg, size_t msglen);
/* Store a new key under name (never replacing) under the same rule: the
 * auditor identity for user-admin, the export signer for export.  secret
 * NULL: store *id, else the seed. */
int access_key_create(const struct acl_session *ss, const char *name,
		      const struct age_x25519_identity *id, const uint8_t *secret,
		      char *msg, size_t msglen);

/* The keys of the master passphrase's holder when no user exists or none
 * acts (ss from acl_session_open_operator): the first administrator's
 * bootstrap (`user add` on a site without users: the auditor identity,
 * created if absent, and the site signer seed) and a one-shot
 * `lacre-keeper run -- audit --deep` (every warrant's and the oversight
 * identity).  Refused (LACRE_E_DENIED, named) for a user's session and in
 * a keeper worker; out is either id or secret (the other NULL); create:
 * store a fresh identity under name when absent (the auditor's only). */
int access_key_operator(const struct acl_session *ss, const char *name,
			struct age_x25519_identity *id, uint8_t *secret,
			struct key_tombstone *tomb, int create, char *msg, size_t msglen);

/* Destroy the key of req's warrant by its court order (the keystore's
 * crypto-shredding: tombstone, overwrite, unlink), as `shred approve`
 * does once the approver's signed cases.log line is in hand (shred.h:
 * shred_approve's exec).  Checked here again, at the key's own door: the
 * gate allowed a "shred" on that warrant in this session, and the
 * session's user may approve req (shred_check_approval: not the
 * requester, a clerk among the two, not yet executed).  LACRE_E_SHREDDED
 * when already destroyed; LACRE_E_DENIED (or LACRE_E_STATE) with msg
 * otherwise, and nothing is destroyed. */
struct shred_request;
int access_key_shred(const struct acl_session *ss, const struct shred_request *req,
		     char *msg, size_t msglen);

/* The warrant log's writers (warrant.h: warrant_add, _extend, _confirm,
 * _cease), which generate a warrant's key and sign with the site's
 * warrant-log key: only on an allowed warrant-add (add), or warrant-change
 * on id (the others), or for the operator session (acl_session_open_operator:
 * a site without users, outside the keeper); else LACRE_E_DENIED, named.  Their own errors and
 * msg otherwise. */
int access_warrant_add(const struct acl_session *ss, const struct warrant *spec,
		       char id[WARRANT_ID_MAX], char *msg, size_t msglen);
int access_warrant_extend(const struct acl_session *ss, const char *id,
			  const struct warrant_period *p, char *msg, size_t msglen);
int access_warrant_confirm(const struct acl_session *ss, const char *id, const char *order_id,
			   int64_t order_date, char *msg, size_t msglen);
int access_warrant_cease(const struct acl_session *ss, const char *id, const char *order_id,
			 int64_t order_date, int64_t at, char *msg, size_t msglen);

#endif

/*
 * access_key.h - the one way a command reaches a key of the keystore: through
 * the gate's session (include/lacre/acl.h).  A key is handed out only when
 * a request the gate allowed in this session covers it, so a bug in one
 * command (or a confused argument) cannot open another warrant's identity
 * or the oversight key.  Owned by lib/keeper/access_key.c; docs/keeper.md.
 *
 *   warrant W's identity   an allowed records, calls, audio, pcap, export or
 *                          identity on W, or audit-deep (every warrant)
 *   oversight identity     an allowed quarantine (also export
 *                          --with-quarantine's second request) or audit-deep
 *   access-log auditor     an allowed access-log, export (its access report)
 *                          or user-admin (which creates it)
 *   export signer          an allowed export
 *   site signer            an allowed user-admin
 *
 * Anything else is LACRE_E_DENIED with a message naming the key and the
 * action it needs.  No user can cause that refusal (the gate refused
 * first): it is a bug of the calling command.
 */
#ifndef LACRE_ACCESS_KEY_H
#define LACRE_ACCESS_KEY_H

#include <stddef.h>
#include <stdint.h>

#include "keeper/keystore.h"
#include "lacre/acl.h"

/* The identity stored under name, when the session covers it (see above):
 * then keystore_get's result (LACRE_E_SHREDDED fills *tomb when not NULL,
 * LACRE_E_NOT_FOUND, ...); else LACRE_E_DENIED and msg names the key and
 * the action it needs.  msg (may be NULL) is "" on LACRE_OK. */
int access_key(const struct acl_session *ss, struct keystore *ks, const char *name,
	       struct age_x25519_identity *out, struct keystore_tombstone *tomb,
	       char *msg, size_t msglen);
/* The same for a 32-byte secret (the signer seeds). */
int access_key_secret(const struct acl_session *ss, struct keystore *ks, const char *name,
		      uint8_t out[32], struct keystore_tombstone *tomb, char *msg, size_t msglen);
/* Store a new key under name (keystore_put / _put_secret, never replacing)
 * under the same rule: the auditor identity for user-admin, the export
 * signer for export.  secret NULL: store *id, else the seed. */
int access_key_create(const struct acl_session *ss, struct keystore *ks, const char *name,
		      const struct age_x25519_identity *id, const uint8_t *secret,
		      char *msg, size_t msglen);

/* The keys of the master passphrase's holder when no user exists or none
 * acts: the first administrator's bootstrap (`user add` on a site without
 * users: the auditor identity, created if absent, and the site signer
 * seed) and a one-shot `lacre-keeper run -- audit --deep` (every warrant's
 * and the oversight identity).  Refused (LACRE_E_DENIED, named) in a
 * keeper worker, where every command has a user and a gate session; out
 * is either id or secret (the other NULL); create: store a fresh identity
 * under name when absent (the auditor's only). */
int access_key_operator(struct keystore *ks, const char *name, struct age_x25519_identity *id,
			uint8_t *secret, struct keystore_tombstone *tomb, int create,
			char *msg, size_t msglen);

#endif

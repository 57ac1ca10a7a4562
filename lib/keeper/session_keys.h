/*
 * session_keys.h - the gate session's key slot: where the unlocked
 * keystore a session owns is kept (opaque to lib/access/acl.c, which
 * defines these and wipes the slot in acl_session_close).  Not in
 * include/lacre/acl.h so that no command can reach, swap or drop a
 * session's keys: only lib/keeper/access_key.c (and acl.c, the session's
 * owner) include this header, and `make lint-keystore` fails on any other
 * file that does.  Owned by lib/access/acl.c; docs/keeper.md.
 */
#ifndef LACRE_SESSION_KEYS_H
#define LACRE_SESSION_KEYS_H

struct acl_session;

/* Attach keys to ss: acl_session_close calls close_fn(keys) (NULL: the
 * session only borrows them), so the keys are wiped with the session.
 * Keys attached before are closed first. */
void acl_session_set_keys(struct acl_session *ss, void *keys, void (*close_fn)(void *keys));
/* What acl_session_set_keys attached, or NULL. */
void *acl_session_keys(const struct acl_session *ss);

#endif

/*
 * users.h - the site's users and their roles (DESIGN.md §1, legal rules L7,
 * L8; docs/access.md).  The registry is DIR/users.log, an append-only,
 * hash-chained event log (evlog.h, magic "lacre-user-v1") that holds every
 * user's Ed25519 public key, role and unit - never a secret.  Each event is
 * signed by the acting administrator's own key; the first two events (the
 * bootstrap) are signed by the site's warrant-log key, i.e. by whoever holds
 * the master passphrase:
 *
 *   init     auditor=<age1...>   the recipient every access-log event is
 *                                sealed to (its identity: keystore
 *                                "access-auditor")
 *   add      name= role= unit= key=<64 hex Ed25519 public key>
 *   disable  name=
 *
 * A user's private key is a file the user keeps (mode 0600), in the
 * signed-note private-key format: "PRIVATE+KEY+<name>+<keyid>+<base64(0x01
 * ‖ seed)>" (note.h), one line.  Owned by lib/site/users.c
 * (users_sign_session: lib/access/acl.c).
 */
#ifndef LACRE_USERS_H
#define LACRE_USERS_H

#include <stddef.h>
#include <stdint.h>

#include "lacre/acl.h"
#include "lacre/age.h"
#include "lacre/evlog.h"
#include "lacre/site.h"

#define USERS_LOG "users.log"
#define USERS_MAGIC "lacre-user-v1"
#define USER_NAME_MAX 64           /* with NUL: [A-Za-z0-9][A-Za-z0-9._-]{0,62} */
#define USER_UNIT_MAX 128
#define USER_KEY_FILE_MAX 4096
#define USERS_AUDITOR_KEY "access-auditor" /* keystore name of the auditor identity */
#define USERS_ENV "LACRE_USER"

/* One registered user (derived state). */
struct user {
	char name[USER_NAME_MAX];
	enum acl_role role;
	char unit[USER_UNIT_MAX];      /* "" for clerk, auditor, admin without one */
	uint8_t pub[32];
	int disabled;
	int64_t added_at;
	char added_by[USER_NAME_MAX];
};

/* The registry replayed from users.log. */
struct users_registry {
	int have_init;
	char auditor_recipient[AGE_RECIPIENT_MAX];
	uint8_t auditor_pub[32];
	size_t n, cap;
	struct user *u;
	uint64_t events;
	uint8_t site_pub[32];          /* warrants.signer */
};

/* A user's private key (secret: wipe with user_key_wipe). */
struct user_key {
	char name[USER_NAME_MAX];
	uint8_t seed[32];
	uint8_t pub[32];
};

/* Role names: "investigator", "supervisor", "clerk", "auditor", "admin". */
const char *acl_role_name(enum acl_role r);
int acl_role_parse(const char *s, enum acl_role *r);
/* Whether name is a valid user name. */
int users_name_ok(const char *name);

/* Fresh key for user name (CSPRNG). */
int user_key_generate(const char *name, struct user_key *k);
/* Write the key file at path (O_EXCL, 0600, fsync).  LACRE_E_EXISTS. */
int user_key_write(const struct user_key *k, const char *path);
/* Read a key file (through the checked buffer).  LACRE_E_NOT_FOUND,
 * LACRE_E_DENIED (readable by group or others), LACRE_E_MALFORMED. */
int user_key_load(const char *path, struct user_key *k);
void user_key_wipe(struct user_key *k);

/* Load and verify DIR/users.log (absent: empty registry).  LACRE_E_CORRUPT
 * with msg naming the line, LACRE_E_CONFIG (no warrants.signer). */
int users_load(const struct site *s, struct users_registry **out, char *msg, size_t msglen);
void users_free(struct users_registry *reg);
/* The user called name, or NULL. */
const struct user *users_find(const struct users_registry *reg, const char *name);

/* Bootstrap an empty registry with the master key's warrant-log signer
 * (signer_seed, from the keystore): an init event with the auditor's
 * recipient, then the first administrator (name, unit may be "", key pub).
 * LACRE_E_EXISTS when the registry already has users. */
int users_bootstrap(const struct site *s, const uint8_t signer_seed[32],
		    const uint8_t auditor_pub[32], const char *name, const char *unit,
		    const uint8_t pub[32], char *msg, size_t msglen);
/* Add a user, signed by admin (an enabled administrator's key).
 * Investigators and supervisors need a unit.  LACRE_E_DENIED (actor not an
 * enabled admin), LACRE_E_EXISTS, LACRE_E_INVALID. */
int users_add(const struct site *s, const struct user_key *admin, const char *name,
	      enum acl_role role, const char *unit, const uint8_t pub[32],
	      char *msg, size_t msglen);
/* Disable a user (never deleted).  The last enabled admin cannot be
 * disabled (LACRE_E_STATE). */
int users_disable(const struct site *s, const struct user_key *admin, const char *name,
		  char *msg, size_t msglen);

/* The same two actions by the enabled administrator called admin, whose
 * signature over the event comes from sign(sarg, ...) - the admin's own
 * client through the keeper (users_sign_session), or a seed in this
 * process (evlog_sign_seed).  The signature is checked against admin's
 * registered key before the line is written: LACRE_E_AUTH when it does
 * not verify (nothing written).  Other errors as users_add/users_disable,
 * which check their key file against the registry and call these. */
int users_add_signed(const struct site *s, const char *admin, evlog_sign_fn sign, void *sarg,
		     const char *name, enum acl_role role, const char *unit,
		     const uint8_t pub[32], char *msg, size_t msglen);
int users_disable_signed(const struct site *s, const char *admin, evlog_sign_fn sign, void *sarg,
			 const char *name, char *msg, size_t msglen);
/* An evlog_sign_fn whose arg is an open `const struct acl_session *`: the
 * session user's signature (acl_session_sign: the key file in process, the
 * client through the keeper's connection in a keeper worker). */
int users_sign_session(void *arg, const void *m, size_t n, uint8_t sig[64]);

#endif

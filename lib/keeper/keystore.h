/*
 * keystore.h - the access domain's private keys: each warrant's X25519 age
 * identity and the site's oversight identity, wrapped by the site master
 * key.  The ingest domain never opens it (it has no master key).
 *
 * One file per key (a 32-byte secret: an X25519 identity, or the Ed25519
 * seed that signs the warrant log), DIR/keystore/<name>.key (mode 0600, in a 0700 folder):
 *   "LACREKS1" | nonce (12) | ChaCha20-Poly1305(secret, 32) | tag (16)
 * with key = HKDF-SHA-256(ikm = master key, salt = "lacre-keystore-v1",
 * info = "wrap"), a fresh random nonce per write and AAD = "LACREKS1" ‖
 * name, so a key file renamed to another warrant does not open.
 *
 * keystore_shred() destroys a key by court order (L13, crypto-shredding):
 * it writes the tombstone DIR/keystore/<name>.shredded first (order id,
 * order date, time of the shred), then overwrites the key file with random
 * bytes, fsyncs, unlinks it and fsyncs the folder.  From then on
 * keystore_get() fails with LACRE_E_SHREDDED and reports the order.
 *
 * Only lib/keeper includes this header (`make lint-keystore` fails on any
 * other file of cmd/, lib/ or include/ that includes it or names a
 * keystore_ function).  Commands reach keys only through the gate's
 * session, which owns the unlocked keystore: lib/keeper/access_key.h
 * (access_keys_unlock, access_key, access_key_secret, access_key_create,
 * access_key_shred, access_warrant_*, and access_key_operator for the
 * master passphrase holder without a user).
 * Format details: docs/FORMATS.md §4.  Owned by lib/keeper/keystore.c.
 */
#ifndef LACRE_KEYSTORE_H
#define LACRE_KEYSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "lacre/age.h"
#include "keeper/key_tombstone.h"
#include "keeper/master.h"
#include "lacre/site.h"

#define KEYSTORE_NAME_MAX 64
#define KEYSTORE_ORDER_MAX KEY_ORDER_MAX

struct keystore;


/* Open the keystore of site s with the unlocked master key (see
 * site_master_unlock(), keeper/master.h); the wrapping key is derived here
 * and master may be wiped by the caller afterwards.  Creates the folder if absent.  Errors:
 * LACRE_E_IO, LACRE_E_CRYPTO, LACRE_E_NOMEM. */
int keystore_open(const struct site *s, const uint8_t master[SITE_MASTER_KEY_LEN],
		  struct keystore **ks);
/* Wipe the derived key and free ks (NULL allowed). */
void keystore_close(struct keystore *ks);

/* Store the identity under name ([A-Za-z0-9._-], 1..63 chars, not starting
 * with '.').  Fails with LACRE_E_EXISTS when a key of that name exists
 * (unless replace), LACRE_E_SHREDDED when it was shredded (never reused). */
int keystore_put(struct keystore *ks, const char *name,
		 const struct age_x25519_identity *id, int replace);

/* Load the identity stored under name into *id (public key derived).
 * Errors: LACRE_E_NOT_FOUND, LACRE_E_SHREDDED (then *tomb, if not NULL, is
 * filled from the tombstone), LACRE_E_AUTH (the file does not open with
 * this master key: tampered, renamed or another site's), LACRE_E_CORRUPT. */
int keystore_get(struct keystore *ks, const char *name, struct age_x25519_identity *id,
		 struct key_tombstone *tomb);

/* The same for a raw 32-byte secret (e.g. the Ed25519 seed of the warrant
 * log signer, name "warrant-signer"). */
int keystore_put_secret(struct keystore *ks, const char *name, const uint8_t secret[32],
			int replace);
int keystore_get_secret(struct keystore *ks, const char *name, uint8_t secret[32],
			struct key_tombstone *tomb);

/* Destroy the key stored under name by court order (order id, order date).
 * Idempotent for an already shredded key (LACRE_E_SHREDDED).  Errors:
 * LACRE_E_NOT_FOUND, LACRE_E_INVALID, LACRE_E_IO. */
int keystore_shred(struct keystore *ks, const char *name, const char *order_id,
		   int64_t order_date);

/* Read the tombstone of a shredded key; LACRE_E_NOT_FOUND if there is none. */
int keystore_tombstone(struct keystore *ks, const char *name, struct key_tombstone *tomb);

/* ---- for lib/keeper (and the unit tests' fixtures) ---- */

struct passphrase_src;
/* The seam where the master key is unwrapped: the passphrase opens
 * master.age (passphrase_get, then site_master_unlock), or, when lacre.conf
 * names master.pkcs11_module, the token decrypts master.p11 with the PIN
 * read from src (p11_keystore_open, lacre/pkcs11.h).  Opens the keystore
 * with it and wipes the master key.  msg explains a failure
 * (LACRE_E_PASSPHRASE: wrong passphrase or PIN). */
int keeper_unlock(const struct site *s, const struct passphrase_src *src,
		  struct keystore **ks, char *msg, size_t msglen);
/* The same, saying in *stage (may be NULL; ACCESS_UNLOCK_*,
 * keeper/access_key.h) which step failed: the secret (unreadable, wrong,
 * or the token refused) or the site's files (master.age, the keystore).
 * The one body of both the keeper's unlock and access_keys_unlock. */
int keeper_unlock_stage(const struct site *s, const struct passphrase_src *src,
			struct keystore **ks, int *stage, char *msg, size_t msglen);
/* Lend ks to the gate session ss (lib/keeper/access_key.c): its keys are
 * then read through ss (access_key.h) and ks stays the caller's (the
 * session's close does not close it).  For lib/keeper and the unit tests,
 * which hold a keystore of their own; commands use access_keys_unlock. */
struct acl_session;
void access_keys_lend(struct acl_session *ss, struct keystore *ks);

#endif

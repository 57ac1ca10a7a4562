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
 * Commands never call keystore_get / keystore_get_secret (nor _put): they
 * reach keys only through the gate's session, lib/keeper/access_key.h
 * (access_key, access_key_secret, access_key_create, and
 * access_key_operator for the master passphrase holder without a user).
 * The callers are lib/keeper and that accessor; keystore_shred stays with
 * `shred approve` (its own four-eyes gate), keystore_open/close where they
 * are.
 * Format details: docs/FORMATS.md §4.  Owned by lib/keeper/keystore.c.
 */
#ifndef LACRE_KEYSTORE_H
#define LACRE_KEYSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "lacre/age.h"
#include "keeper/master.h"
#include "lacre/site.h"

#define KEYSTORE_NAME_MAX 64
#define KEYSTORE_ORDER_MAX 128

struct keystore;

/* What a tombstone says about a shredded key. */
struct keystore_tombstone {
	char order_id[KEYSTORE_ORDER_MAX];
	int64_t order_date;      /* Unix microseconds */
	int64_t shredded_at;     /* Unix microseconds */
};

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
		 struct keystore_tombstone *tomb);

/* The same for a raw 32-byte secret (e.g. the Ed25519 seed of the warrant
 * log signer, name "warrant-signer"). */
int keystore_put_secret(struct keystore *ks, const char *name, const uint8_t secret[32],
			int replace);
int keystore_get_secret(struct keystore *ks, const char *name, uint8_t secret[32],
			struct keystore_tombstone *tomb);

/* Destroy the key stored under name by court order (order id, order date).
 * Idempotent for an already shredded key (LACRE_E_SHREDDED).  Errors:
 * LACRE_E_NOT_FOUND, LACRE_E_INVALID, LACRE_E_IO. */
int keystore_shred(struct keystore *ks, const char *name, const char *order_id,
		   int64_t order_date);

/* Read the tombstone of a shredded key; LACRE_E_NOT_FOUND if there is none. */
int keystore_tombstone(struct keystore *ks, const char *name, struct keystore_tombstone *tomb);

#endif

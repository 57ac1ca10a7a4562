/*
 * master.h - the site master key, private to the keeper domain
 * (lib/keeper/, docs/trust-domains.md): creating a site with a fresh
 * master key, and unlocking master.age with the passphrase.  Nothing
 * outside the keeper (the keeper service, `lacre-keeper init` and its
 * one-shot `run`) may call these; the lacre client binary does not link
 * them (the link check of the Makefile, `make link-check`).  Owned by
 * lib/keeper/master.c.
 */
#ifndef LACRE_KEEPER_MASTER_H
#define LACRE_KEEPER_MASTER_H

#include <stddef.h>
#include <stdint.h>

#include "lacre/site.h"

/* Create a new site in dir (which must not exist or be empty) with the
 * configuration cfg (defaults plus the caller's overrides): folders, a fresh
 * random master key sealed in master.age under passphrase with
 * cfg->scrypt_log2n, an empty warrant log, a fresh Ed25519 key that signs
 * the warrant log (seed in the keystore as "warrant-signer", public key in
 * warrants.signer), and, unless
 * cfg->oversight_recipient is already set, a fresh oversight identity whose
 * private key goes to the keystore (name "oversight") and whose recipient
 * goes to lacre.conf.  On success *s is the open site.  Errors:
 * LACRE_E_EXISTS (dir not empty), LACRE_E_CONFIG, LACRE_E_IO,
 * LACRE_E_CRYPTO. */
int site_create(const char *dir, const struct site_config *cfg, const char *passphrase,
		struct site *s, char *msg, size_t msglen);

/* How site_create_sealed seals the new master key: write the site's sealed
 * copy of key (e.g. master.age, master.p11) into the site s, whose folders
 * exist.  msg receives a one-line explanation on failure. */
typedef int (*site_master_seal_fn)(void *arg, const struct site *s,
				   const uint8_t key[SITE_MASTER_KEY_LEN], char *msg, size_t msglen);

/* site_create with the master key sealed by seal(seal_arg, ...) instead of
 * a passphrase (a PKCS#11 token: lib/keeper/pkcs11.c).  The key is random,
 * made here, and wiped before return. */
int site_create_sealed(const char *dir, const struct site_config *cfg, site_master_seal_fn seal,
		       void *seal_arg, struct site *s, char *msg, size_t msglen);

/* Open master.age with passphrase and copy the 32-byte master key into
 * key (wipe it after use).  Errors: LACRE_E_PASSPHRASE (wrong passphrase),
 * LACRE_E_CORRUPT (not a sealed 32-byte key), LACRE_E_IO, LACRE_E_NOT_FOUND. */
int site_master_unlock(const struct site *s, const char *passphrase,
		       uint8_t key[SITE_MASTER_KEY_LEN]);

#endif

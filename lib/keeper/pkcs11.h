/*
 * pkcs11.h - the site master key in a PKCS#11 token (DESIGN.md §5, issue
 * 11; docs/keeper.md "Master key in a token", docs/FORMATS.md §4.6).
 *
 * A site whose lacre.conf names master.pkcs11_module keeps no master.age:
 * its 32-byte master key is encrypted (CKM_AES_GCM, C_Encrypt) by an
 * AES-256 secret key object that lives in the token and never leaves it
 * (CKA_SENSITIVE true, CKA_EXTRACTABLE false; made there by C_GenerateKey
 * at `lacre init` unless one of that label exists), and the result is
 * DIR/master.p11, a small text file.  To unlock, the token decrypts it
 * (C_Decrypt) after a login with the user PIN; the master key then opens
 * the keystore exactly as on the passphrase path and is wiped.  Without
 * the token (or its PIN) master.p11 and the keystore open nothing.
 *
 * The module is loaded with dlopen() from the absolute path in lacre.conf,
 * initialised, used for one operation and finalised: no session and no
 * module stays loaded in the keeper (its handlers and workers fork later).
 *
 * The PIN comes from the passphrase sources (lacre/passphrase.h): a file
 * or descriptor (src->file, src->fd: --pin-file, --pin-fd or
 * --passphrase-file/-fd), the systemd credential
 * $CREDENTIALS_DIRECTORY/lacre-pin, the variable LACRE_PIN (wiped and
 * removed once read) or a no-echo prompt on the terminal.  Every copy of
 * the PIN and of the master key is wiped after use.  lib/keeper/pkcs11.c.
 */
#ifndef LACRE_PKCS11_H
#define LACRE_PKCS11_H

#include <stddef.h>
#include <stdint.h>

#include "lacre/buf.h"
#include "lacre/site.h"

#define P11_MASTER "master.p11"           /* in the site folder, mode 0600 */
#define P11_PIN_ENV "LACRE_PIN"
#define P11_PIN_CREDENTIAL "lacre-pin"
#define P11_MAGIC "lacre-master-p11-v1"
#define P11_MECH_GCM "CKM_AES_GCM"
#define P11_TOKEN_LABEL_MAX 32
#define P11_KEY_LABEL_MAX 64
#define P11_IV_LEN 12                     /* GCM nonce, fresh at every seal */
#define P11_WRAPPED_LEN (SITE_MASTER_KEY_LEN + 16) /* ciphertext and tag */
#define P11_FILE_MAX 1024                 /* a longer master.p11 is corrupt */
#define P11_DEFAULT_KEY_LABEL "lacre-master"

struct keystore;
struct passphrase_src;

/* master.p11, parsed.  aad_len: the length of the file's header (magic,
 * token, key and mechanism lines), the GCM additional data. */
struct p11_master {
	char token[P11_TOKEN_LABEL_MAX + 1];
	char key[P11_KEY_LABEL_MAX + 1];
	uint8_t iv[P11_IV_LEN];
	uint8_t wrapped[P11_WRAPPED_LEN];
	size_t aad_len;
};

/* Append the text of m (docs/FORMATS.md §4.6) to out and set m->aad_len.
 * LACRE_E_INVALID for a label lacre would not accept. */
int p11_master_encode(struct p11_master *m, struct lacre_dbuf *out);

/* Parse master.p11's bytes p[0..n) (untrusted: the checked buffer) into
 * *m, set only on success.  Exactly the six LF-terminated lines in order,
 * labels percent-encoded and valid, lower-case hex of the right lengths,
 * the mechanism CKM_AES_GCM; anything else - a missing or extra line,
 * trailing bytes, a file over P11_FILE_MAX - is LACRE_E_CORRUPT. */
int p11_master_parse(const uint8_t *p, size_t n, struct p11_master *m);

/* Read the token PIN (see above) into a heap string the caller releases
 * with passphrase_free().  Errors as passphrase_get(). */
int p11_pin_get(const struct passphrase_src *src, char **pin);

/* Create a site whose master key is sealed by the token lacre.conf names
 * (cfg->pkcs11_*): log in with pin, find the key object of label
 * cfg->pkcs11_key (checked: AES, 32 bytes, sensitive, not extractable,
 * may encrypt and decrypt) or generate it, encrypt the fresh master key and
 * write master.p11; then as site_create.  msg says what went wrong. */
int p11_site_create(const char *dir, const struct site_config *cfg, const char *pin,
		    struct site *s, char *msg, size_t msglen);

/* Decrypt master.p11 of site s in its token with pin into key (wipe it
 * after use).  Errors: LACRE_E_PASSPHRASE (wrong PIN), LACRE_E_DENIED (PIN
 * locked), LACRE_E_UNAVAILABLE (module cannot be loaded or initialised),
 * LACRE_E_NOT_FOUND (no such token or key, or no master.p11),
 * LACRE_E_CONFIG (master.p11 names another token or key than lacre.conf,
 * or the key object is weak), LACRE_E_CORRUPT (master.p11 malformed),
 * LACRE_E_AUTH (the token's key does not open it), LACRE_E_CRYPTO. */
int p11_master_unseal(const struct site *s, const char *pin, uint8_t key[SITE_MASTER_KEY_LEN],
		      char *msg, size_t msglen);

/* The token path of keeper_unlock and of the CLI's in-process unlock:
 * read the PIN from src, unseal, open the keystore, wipe the PIN and the
 * master key.  msg says what went wrong and what to do. */
int p11_keystore_open(const struct site *s, const struct passphrase_src *src,
		      struct keystore **ks, char *msg, size_t msglen);

#endif

/*
 * age.h - age v1 (C2SP age) on OpenSSL: X25519 and scrypt recipients,
 * ChaCha20-Poly1305 STREAM with 64 KiB chunks (../shared/spec/tlog-formats.md
 * §9).  Files written here open with Debian's `age -d`, and files from `age`
 * open here.
 *
 * Secrets (identities, file keys, passphrases) are wiped after use.  The
 * decryptor verifies each chunk's tag before releasing that chunk's
 * plaintext, and rejects truncation (a missing final chunk) and trailing
 * bytes.  Owned by lib/vault/age.c.
 */
#ifndef LACRE_AGE_H
#define LACRE_AGE_H

#include <stddef.h>
#include <stdint.h>

#include "lacre/buf.h"

#define AGE_CHUNK_SIZE 65536
#define AGE_RECIPIENT_MAX 96   /* "age1" + bech32, with NUL */
#define AGE_IDENTITY_MAX 96    /* "AGE-SECRET-KEY-1" + bech32, with NUL */

struct age_x25519_identity {
	uint8_t secret[32];
	uint8_t public_key[32];
};

/* Generate a fresh X25519 identity. */
int age_x25519_generate(struct age_x25519_identity *id);
/* Derive public_key from secret (after loading secret). */
int age_x25519_derive_public(struct age_x25519_identity *id);
/* Wipe an identity. */
void age_identity_wipe(struct age_x25519_identity *id);
/* "AGE-SECRET-KEY-1..." (upper case, as age-keygen prints). */
int age_identity_encode(const struct age_x25519_identity *id, char out[AGE_IDENTITY_MAX]);
int age_identity_parse(const char *s, struct age_x25519_identity *id);
/* "age1..." */
int age_recipient_encode(const uint8_t pub[32], char out[AGE_RECIPIENT_MAX]);
int age_recipient_parse(const char *s, uint8_t pub[32]);

/* Streaming encryption.  The header is appended to out by age_writer_new;
 * each age_writer_write appends the ciphertext of every chunk it completes;
 * age_writer_finish appends the final chunk.  The caller may drain and reset
 * out between calls (e.g. write it to a file).  fingerprint (may be NULL) is
 * SHA-256 over the header bytes followed by every chunk's 16-byte tag in
 * order: a keyless identity of the file (DESIGN.md §4). */
struct age_writer;
int age_writer_new(const uint8_t (*recipients)[32], size_t n_recipients,
		   struct lacre_dbuf *out, struct age_writer **w);
/* One scrypt recipient (it must be the only one); work factor log2 N. */
int age_writer_new_scrypt(const char *passphrase, int log2_n,
			  struct lacre_dbuf *out, struct age_writer **w);
int age_writer_write(struct age_writer *w, const void *p, size_t n);
int age_writer_finish(struct age_writer *w, uint8_t fingerprint[32]);
void age_writer_free(struct age_writer *w);

/* Whole-file decryption into out (capped by out->max).  Errors:
 * LACRE_E_AUTH (no stanza opens with this identity, header MAC or a chunk
 * tag fails), LACRE_E_TRUNCATED (the final chunk is missing),
 * LACRE_E_MALFORMED (not an age file), LACRE_E_TRAILING. */
int age_decrypt(const uint8_t *in, size_t n, const struct age_x25519_identity *id,
		struct lacre_dbuf *out);
int age_decrypt_scrypt(const uint8_t *in, size_t n, const char *passphrase,
		       int max_log2_n, struct lacre_dbuf *out);

/* Keyless fingerprint of an age file (same definition as the writer's),
 * computed from the header and the chunk tags without any key.  Fails with
 * LACRE_E_MALFORMED / LACRE_E_TRUNCATED on a damaged layout. */
int age_fingerprint(const uint8_t *in, size_t n, uint8_t fingerprint[32]);

#endif

/*
 * age.h - age v1 (C2SP age) on OpenSSL: X25519 and scrypt recipients,
 * ChaCha20-Poly1305 STREAM with 64 KiB chunks (../shared/spec/tlog-formats.md
 * §9).  Files written here open with Debian's `age -d`, and files from `age`
 * open here.
 *
 * Secrets (identities, file keys, passphrases) are wiped after use.  The
 * decryptor verifies each chunk's tag before releasing that chunk's
 * plaintext, and rejects truncation (a missing final chunk) and trailing
 * bytes.  Owned by lib/seal/age.c.
 */
#ifndef LACRE_AGE_H
#define LACRE_AGE_H

#include <stddef.h>
#include <stdint.h>

#include "lacre/buf.h"

#define AGE_CHUNK_SIZE 65536
#define AGE_RECIPIENT_MAX 96   /* "age1" + bech32, with NUL */
#define AGE_IDENTITY_MAX 96    /* "AGE-SECRET-KEY-1" + bech32, with NUL */
#define AGE_HEADER_MAX 65536   /* reader cap on the header size */
#define AGE_STANZAS_MAX 64     /* reader cap on stanzas; writer cap on recipients */
#define AGE_SCRYPT_LOG2N_MAX 22 /* default cap on the scrypt work factor */
/* Size of an age file with k X25519 recipients and p plaintext bytes. */
#define AGE_X25519_FILE_SIZE(k, p) (22u + 98u * (k) + 48u + 16u + (p) + \
	16u * ((p) == 0 ? 1u : ((p) + AGE_CHUNK_SIZE - 1u) / AGE_CHUNK_SIZE))

struct age_x25519_identity {
	uint8_t secret[32];
	uint8_t public_key[32];
};

/* Identities and recipients.  All return a lacre_err and set their output
 * only on success: LACRE_E_INVALID for NULL arguments, LACRE_E_MALFORMED
 * for a string that is not a valid Bech32 identity/recipient (wrong HRP,
 * checksum, case mix, length other than 32 bytes), LACRE_E_CRYPTO when
 * OpenSSL fails.  Parsing accepts all-upper or all-lower case.
 * Generate a fresh X25519 identity (secret from RAND_priv_bytes). */
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

/* Streaming encryption (all functions return a lacre_err).  The header is
 * appended to out by age_writer_new; each age_writer_write appends the
 * ciphertext of every chunk it completes (a full chunk is sealed only once
 * more plaintext follows it, so up to 64 KiB stay in the writer's wiped
 * buffer); age_writer_finish appends the final chunk.  The caller may drain and reset
 * out between calls (e.g. write it to a file).  fingerprint (may be NULL) is
 * SHA-256 over the header bytes followed by every chunk's 16-byte tag in
 * order: a keyless identity of the file (DESIGN.md §4).  "Header bytes"
 * are every byte from "age-encryption.org/v1" through the line feed that
 * ends the MAC line (the payload nonce is not included).
 * Errors: LACRE_E_INVALID (no or more than AGE_STANZAS_MAX recipients, a
 * low-order recipient key, an empty passphrase), LACRE_E_TOO_LARGE (out is
 * full: the writer is then unusable), LACRE_E_CRYPTO, LACRE_E_STATE (use
 * after finish or after an error).  The writer never releases plaintext:
 * its 64 KiB chunk buffer is wiped on free. */
struct age_writer;
int age_writer_new(const uint8_t (*recipients)[32], size_t n_recipients,
		   struct lacre_dbuf *out, struct age_writer **w);
/* One scrypt recipient (it must be the only one); work factor log2 N. */
int age_writer_new_scrypt(const char *passphrase, int log2_n,
			  struct lacre_dbuf *out, struct age_writer **w);
int age_writer_write(struct age_writer *w, const void *p, size_t n);
int age_writer_finish(struct age_writer *w, uint8_t fingerprint[32]);
void age_writer_free(struct age_writer *w);
/* Known-answer tests only: as age_writer_new with fixed ephemeral secrets
 * (one per recipient), file key and payload nonce.  Real files must use
 * age_writer_new (fresh randomness). */
int age_writer_new_fixed(const uint8_t (*recipients)[32], size_t n_recipients,
			 const uint8_t (*eph_secrets)[32], const uint8_t file_key[16],
			 const uint8_t nonce[16], struct lacre_dbuf *out,
			 struct age_writer **w);

/* Whole-file decryption into out (capped by out->max).  Errors:
 * LACRE_E_AUTH (no stanza opens with this identity, header MAC or a chunk
 * tag fails), LACRE_E_TRUNCATED (the final chunk is missing),
 * LACRE_E_MALFORMED (not an age file, or an empty final chunk after a full
 * one), LACRE_E_TRAILING, LACRE_E_TOO_LARGE (out->max reached, or header
 * caps).  age_decrypt_scrypt: LACRE_E_PASSPHRASE when the passphrase is
 * wrong, LACRE_E_TOO_LARGE when the work factor exceeds max_log2_n
 * (<= 0 means AGE_SCRYPT_LOG2N_MAX); the scrypt stanza must be the only one.
 * On failure out is left as it was (bytes appended so far are wiped). */
int age_decrypt(const uint8_t *in, size_t n, const struct age_x25519_identity *id,
		struct lacre_dbuf *out);
int age_decrypt_scrypt(const uint8_t *in, size_t n, const char *passphrase,
		       int max_log2_n, struct lacre_dbuf *out);

/* Chunk-by-chunk decryption over a whole file in memory in[0..n), which
 * must stay valid while the reader lives.  age_reader_new parses the header
 * (caps AGE_HEADER_MAX, AGE_STANZAS_MAX), unwraps the file key, and checks
 * the header MAC before anything else.  Errors, finer than age_decrypt's:
 *   LACRE_E_MALFORMED  not an age v1 file (bad version line or header
 *                      grammar, non-canonical base64, a bad X25519 or
 *                      scrypt stanza, scrypt mixed with other stanzas)
 *   LACRE_E_TRUNCATED  input ends inside the header or before the nonce
 *   LACRE_E_AUTH       no stanza opens with this identity (wrong key)
 *   LACRE_E_PASSPHRASE wrong passphrase (scrypt)
 *   LACRE_E_CORRUPT    the header MAC fails (the header was altered)
 * age_reader_next appends the plaintext of the next chunk to out, only after
 * its tag verified, and sets *final when that was the final chunk (further
 * calls then return LACRE_OK with *final = 1 and append nothing).  Errors:
 *   LACRE_E_CORRUPT    a chunk tag fails (the bytes were altered)
 *   LACRE_E_TRUNCATED  the input ends without a valid final chunk
 *   LACRE_E_TRAILING   bytes follow the final chunk
 *   LACRE_E_MALFORMED  an empty final chunk follows a full chunk
 *   LACRE_E_TOO_LARGE  out->max reached (retry after draining out)
 * age_reader_fingerprint gives the keyless fingerprint once the final chunk
 * has been read (LACRE_E_STATE before). */
struct age_reader;
int age_reader_new(const uint8_t *in, size_t n, const struct age_x25519_identity *id,
		   struct age_reader **r);
int age_reader_new_scrypt(const uint8_t *in, size_t n, const char *passphrase,
			  int max_log2_n, struct age_reader **r);
int age_reader_next(struct age_reader *r, struct lacre_dbuf *out, int *final);
int age_reader_fingerprint(const struct age_reader *r, uint8_t fingerprint[32]);
/* Length of the header (through the MAC line's line feed). */
size_t age_reader_header_len(const struct age_reader *r);
void age_reader_free(struct age_reader *r);

/* Keyless fingerprint of an age file (same definition as the writer's),
 * computed from the header and the chunk tags without any key.  Fails with
 * LACRE_E_MALFORMED / LACRE_E_TRUNCATED on a damaged layout. */
int age_fingerprint(const uint8_t *in, size_t n, uint8_t fingerprint[32]);

#endif

/*
 * etsi_crypt.h - decryption of the TS 102 232-1 EncryptionContainer (Annex
 * G) and the byteCounter completeness check, as real mediators implement
 * them (OpenLI 1.1.20; spec/etsi-handover.md §9).
 *
 * The evidence is always the PDU exactly as received: etsi_decrypt() only
 * produces a decoded VIEW of it.  After etsi_decode() has described a PDU
 * whose payload is an EncryptionContainer (pdu->encrypted), etsi_decrypt()
 * decrypts the container into a caller-owned buffer and decodes the inner
 * Payload in place of the container, so that every consumer of struct
 * etsi_pdu (routing by category, L2, integrity, calls, JSON) sees the
 * decrypted payload, with pdu->decrypted and pdu->byte_counter set.
 *
 * The rule (measured on a real capture, see vectors/openli-c/README.md):
 *   - cipher by encryptionType: aES-192-CBC(3), aES-256-CBC(4),
 *     blowfish-192-CBC(5), blowfish-256-CBC(6), threedes-cbc(7) with
 *     OpenSSL's EVP (Blowfish from OpenSSL 3's legacy provider, loaded on
 *     first need into a private library context; LACRE_E_UNSUPPORTED when
 *     it cannot be); none(1) is the EncryptedPayload in clear;
 *   - no cipher padding; IV = the PSHeader sequenceNumber as a 32-bit
 *     big-endian integer repeated to fill one block (16 octets for AES, 8
 *     for Blowfish and 3DES: OpenLI's rule, extended by analogy);
 *   - plaintext = EncryptedPayload SEQUENCE { byteCounter [0], payload [1]
 *     Payload } followed by zero octets up to the block size.
 * CBC has no integrity tag: a wrong key is recognised because its
 * plaintext is not a well-formed EncryptedPayload.  That check is
 * structural, not cryptographic; the PDU's integrity is the business of
 * the operator's hash/signature PDUs and of TLS.
 */
#ifndef LACRE_ETSI_CRYPT_H
#define LACRE_ETSI_CRYPT_H

#include <stddef.h>
#include <stdint.h>

#include "lacre/buf.h"
#include "lacre/etsi.h"

#define ETSI_HKEY_MAX 32          /* longest key (AES-256) */
#define ETSI_KEYRING_MAX 64       /* keys one ring may hold */

/* One handover key: raw octets and a validity window (Unix microseconds,
 * inclusive from, exclusive to; INT64_MIN / INT64_MAX when open). */
struct etsi_hkey {
	uint8_t key[ETSI_HKEY_MAX];
	size_t len;               /* 24 or 32 */
	int64_t valid_from_us, valid_to_us;
};

/* The keys of one operator (or of one `lacre decode` run), tried in order. */
struct etsi_keyring {
	struct etsi_hkey keys[ETSI_KEYRING_MAX];
	size_t n;
};

/* Empty ring. */
void etsi_keyring_init(struct etsi_keyring *kr);
/* Add a key (len 24 or 32) valid in [from_us, to_us).  LACRE_E_INVALID
 * for another length or an empty window, LACRE_E_TOO_LARGE when full. */
int etsi_keyring_add(struct etsi_keyring *kr, const uint8_t *key, size_t len,
		     int64_t from_us, int64_t to_us);
/* Wipe every key. */
void etsi_keyring_wipe(struct etsi_keyring *kr);
/* Parse a key file's text: hex digits (optionally "0x"-prefixed), any
 * surrounding white space, 24 or 32 octets.  LACRE_E_MALFORMED otherwise. */
int etsi_key_from_hex(const char *text, size_t n, uint8_t key[ETSI_HKEY_MAX], size_t *len);

/* Key length of encryptionType type, or 0 when OpenSSL cannot decrypt it
 * here (national option, unknown, Blowfish without the legacy provider);
 * -1 for type 1 (none). */
int etsi_cipher_key_len(int type);

/*
 * Decrypt pdu's container (pdu from etsi_decode over bytes that must stay
 * valid) and decode the inner Payload into pdu.  at_us is the time used to
 * pick keys (the receive time; INT64_MIN: ignore windows): keys whose
 * window holds it are tried first, then the others (a success with one of
 * those sets ETSI_FLAG_KEY_OUTSIDE_WINDOW).  The plaintext goes into
 * *plain (reset first; marked secret), which must outlive the use of pdu.
 * Returns LACRE_OK, or with pdu's payload fields unchanged and
 * pdu->decrypt_err set:
 *   LACRE_E_INVALID      pdu is not an encrypted PDU
 *   LACRE_E_NOT_FOUND    no key of the right length in kr (missing key)
 *   LACRE_E_UNSUPPORTED  an encryptionType lacre cannot decrypt
 *   LACRE_E_MALFORMED    ciphertext empty or not whole blocks, no sequence
 *                        number, or the padding is not zero octets shorter
 *                        than one block
 *   LACRE_E_AUTH         no key gives a well-formed EncryptedPayload (wrong key)
 *   LACRE_E_CRYPTO, LACRE_E_NOMEM, LACRE_E_TOO_LARGE
 */
int etsi_decrypt(const struct etsi_keyring *kr, int64_t at_us, struct etsi_pdu *pdu,
		 struct lacre_dbuf *plain);

/*
 * The pre-encryption form of an encrypted PDU: the bytes OpenLI's
 * integrity hashes cover (vectors/openli-c/README.md "Integrity PDUs"):
 * raw[0..n) exactly as received, but with encryptionType set to none(1)
 * and the ciphertext replaced by the plaintext, zero padding included
 * (same length, same offsets), written to out[0..n).  pdu must be the
 * result of a successful etsi_decrypt() over raw (its pointers into raw)
 * and plain its plaintext.  LACRE_E_INVALID when it is not (or the
 * pointers are not inside raw), LACRE_E_UNSUPPORTED when encryptionType
 * is not one octet (the form would change length).
 */
int etsi_preencryption_form(const uint8_t *raw, size_t n, const struct etsi_pdu *pdu,
			    const struct lacre_dbuf *plain, uint8_t *out);

/* ---- byteCounter: a second completeness check ----
 *
 * byteCounter = (Unix time the sender's encoder state started) << 32 |
 * (total length of the earlier PDUs of the same LIID on the same
 * handover, data and integrity PDUs, every CIN, from 0).  A tracker
 * follows one handover stream (one HI2 or HI3 connection or capture).
 * Mediators reorder PDUs before delivery, so the counts are checked as a
 * chain of intervals [count, count + length), not in arrival order. */

enum etsi_bctr_verdict {
	ETSI_BCTR_OK = 0,         /* consistent so far (or no counter on this PDU) */
	ETSI_BCTR_FIRST = 1,      /* first counter of this LIID */
	ETSI_BCTR_BREAK = 2,      /* bytes counted twice, or a gap declared early
	                           * (too many PDUs held ahead of it) */
	ETSI_BCTR_RESTART = 3,    /* the sender's state restarted (new start time) */
	ETSI_BCTR_UNTRACKED = 4   /* too many LIIDs: this one is not tracked */
};

struct etsi_bctr_ent;
struct etsi_bctr {
	struct etsi_bctr_ent *e;
	size_t n, cap, max;
	uint64_t gen;             /* bumped by every change (the state file saves on change) */
};

/* A tracker following at most max_liids LIIDs (about 2 KiB each). */
void etsi_bctr_init(struct etsi_bctr *b, size_t max_liids);
void etsi_bctr_free(struct etsi_bctr *b);
/*
 * Account one PDU of pdu_len bytes (decrypted, so that its byteCounter
 * is known).  Returns an enum etsi_bctr_verdict; on BREAK *expected is
 * the count up to which the chain was complete and *got the count the
 * PDU (or the next held PDU) carries; on RESTART, the old chain's
 * frontier and the new count.  LACRE_E_NOMEM on allocation failure.
 */
int etsi_bctr_account(struct etsi_bctr *b, const struct etsi_pdu *pdu, size_t pdu_len,
		      uint64_t *expected, uint64_t *got);
/* At the end of the stream: call fn for every gap left (bytes from..to
 * of that LIID's chain never received) and return how many there were. */
typedef void (*etsi_bctr_gap_fn)(void *arg, const uint8_t *liid, size_t liid_len,
				 uint64_t from, uint64_t to);
size_t etsi_bctr_finish(struct etsi_bctr *b, etsi_bctr_gap_fn fn, void *arg);
/* Intervals a mediator is expected to hold back at most (OpenLI sends a
 * hash PDU before the last 1-6 data PDUs it covers). */
#define ETSI_BCTR_REORDER_MAX 8
/* At a clean stop whose chains are saved and continue at the next start
 * (instead of etsi_bctr_finish): call fn for the gaps that reordering
 * cannot explain (and close them): those open since the previous run (the
 * missing bytes did not arrive during a whole run) and those behind more
 * than ETSI_BCTR_REORDER_MAX intervals; call open_fn for every other gap
 * (bytes that may still arrive after the restart), which stays open.
 * Returns how many gaps fn got. */
size_t etsi_bctr_stop(struct etsi_bctr *b, etsi_bctr_gap_fn fn, etsi_bctr_gap_fn open_fn, void *arg);

/* ---- byteCounter persistence (docs/FORMATS.md §12, section BCTR) ----
 * The chains are saved with the stream state so that a restarted receiver
 * continues them: a gap spanning the stop is reported, not hidden behind a
 * new FIRST.  Durability marks as for the sequence state: */
/* Move the marks: what was the frontier at the last mark is now surely
 * sealed (called with ingest_acct_mark, every state_lag_ms). */
void etsi_bctr_mark(struct etsi_bctr *b);
/* Append every chain to out: u32 count, then per LIID the entry of
 * FORMATS §12; kept = the top of the chain (every byte counted) when
 * all_kept (a clean stop), else the frontier surely sealed.  LACRE_E_NOMEM when out is full. */
int etsi_bctr_save(const struct etsi_bctr *b, int all_kept, struct lacre_dbuf *out);
/* Read what etsi_bctr_save wrote into b (initialised, empty), checking
 * every field.  LACRE_E_CORRUPT with the reason in why (b left empty),
 * LACRE_E_NOMEM, LACRE_E_INVALID when b is not empty. */
int etsi_bctr_load(struct etsi_bctr *b, struct lacre_rbuf *in, char *why, size_t wn);
/* After a load: call fn for every chain whose counted bytes reach beyond
 * what was surely sealed (a crash): bytes from..to may be lost.  Then this
 * run's marks start at the loaded frontiers.  Returns how many. */
size_t etsi_bctr_unkept(struct etsi_bctr *b, etsi_bctr_gap_fn fn, void *arg);

#endif

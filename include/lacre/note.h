/*
 * note.h - C2SP signed notes, Ed25519 keys, checkpoints and cosignatures
 * (spec/tlog-formats.md §2-§4).
 *
 * A signed note is text (one or more lines, each ending in a newline), one
 * empty line, then signature lines "— <name> <base64(keyid ‖ sig)>".  Keys are
 * Ed25519; the signature type is 0x01 for a log key and 0x04 for a witness
 * (cosigner) key, whose signature is the 8-byte timestamp followed by an
 * Ed25519 signature over "cosignature/v1\ntime <T>\n" ‖ checkpoint text.
 *
 * Key texts:
 *   vkey     <name>+<8 hex keyid>+<base64(type ‖ 32-byte public key)>
 *   private  PRIVATE+KEY+<name>+<8 hex keyid>+<base64(type ‖ 32-byte seed)>
 *            (the format of golang.org/x/mod/sumdb/note; see docs/ledger.md)
 *
 * Verifier rules (§2.4): a signature is matched to a trusted key by the
 * (name, key ID) pair; unknown signatures are ignored; a matching signature
 * that fails rejects the whole note; a note with no verified signature is
 * rejected.  Caps: 64 signature lines, 64 KiB per note.
 *
 * Every parser here reads untrusted bytes through struct lacre_rbuf or with
 * explicit bounds; nothing depends on the store or the network (lacre-verify
 * links this module).  Private keys are wiped when freed.
 */
#ifndef LACRE_NOTE_H
#define LACRE_NOTE_H

#include <stddef.h>
#include <stdint.h>

#include "lacre/buf.h"
#include "lacre/merkle.h"

#define NOTE_TYPE_ED25519 0x01
#define NOTE_TYPE_COSIG 0x04
#define NOTE_MAX_SIGS 64
#define NOTE_MAX_SIZE 65536
#define NOTE_NAME_MAX 255
/* Longest vkey or private-key text (name, id, base64 of 33 bytes). */
#define NOTE_KEY_TEXT_MAX 320

/* ---- base64, standard alphabet with padding (signed-note flavour) ---- */

/* Append the padded base64 of p[0..len) to out. */
int note_b64_encode(const void *p, size_t len, struct lacre_dbuf *out);
/* Decode padded canonical base64 s[0..len) into out (cap bytes).  Fails
 * with LACRE_E_MALFORMED on any non-alphabet byte, bad padding or
 * non-zero unused bits, LACRE_E_TOO_LARGE when it does not fit. */
int note_b64_decode(const char *s, size_t len, uint8_t *out, size_t cap,
		    size_t *outlen);

/* ---- keys ---- */

/* A trusted public key: what a vkey line says. */
struct note_verifier {
	char name[NOTE_NAME_MAX + 1];
	uint32_t keyid;
	uint8_t type;
	uint8_t pub[32];
};

/* A private key (opaque; wiped on free). */
struct note_signer;

/* Whether name is a valid key name: non-empty UTF-8 of at most 255 bytes,
 * no '+', no Unicode space, no control character. */
int note_name_valid(const char *name);
/* Key ID = first 4 bytes of SHA-256(name ‖ 0x0A ‖ type ‖ pub), big endian. */
uint32_t note_keyid(const char *name, uint8_t type, const uint8_t pub[32]);

/* Make a fresh key (32 bytes from the OpenSSL CSPRNG). */
int note_signer_generate(const char *name, uint8_t type, struct note_signer **out);
/* Make a key from a given 32-byte seed (test vectors). */
int note_signer_from_seed(const char *name, uint8_t type, const uint8_t seed[32],
			  struct note_signer **out);
/* Parse a private-key text (trailing newline allowed). */
int note_signer_parse(const char *text, size_t len, struct note_signer **out);
/* Read a private-key file (must not be readable by group or others). */
int note_signer_load(const char *path, struct note_signer **out);
/* Append the private-key text (no newline) to out; mark out secret first. */
int note_signer_format(const struct note_signer *s, struct lacre_dbuf *out);
/* The public half. */
void note_signer_public(const struct note_signer *s, struct note_verifier *out);
const char *note_signer_name(const struct note_signer *s);
/* Free and wipe. */
void note_signer_free(struct note_signer *s);

/* Parse a vkey (trailing newline and spaces allowed).  Checks that the key
 * ID matches the name and key; types 0x01 and 0x04 only. */
int note_verifier_parse(const char *text, size_t len, struct note_verifier *out);
/* Append the vkey text (no newline). */
int note_verifier_format(const struct note_verifier *v, struct lacre_dbuf *out);

/* ---- notes ---- */

/* One signature line of a parsed note. */
struct note_sig {
	char name[NOTE_NAME_MAX + 1];
	uint32_t keyid;
	size_t len;            /* signature bytes after the key ID */
	uint8_t sig[72];       /* first min(len, 72) of them */
	size_t line_off, line_len; /* the whole line inside the note */
};

/* A parsed (not yet verified) note. */
struct note {
	uint8_t *buf;          /* a copy of the whole note */
	size_t len;
	size_t text_len;       /* buf[0..text_len) is the text, ends in '\n' */
	size_t nsigs;
	struct note_sig sigs[NOTE_MAX_SIGS];
};

/* Parse a note: size cap, UTF-8, no control bytes but '\n', the last empty
 * line separates text and signatures, each signature line well formed. */
int note_parse(const void *p, size_t len, struct note **out);
void note_free(struct note *n);
/* Verify against trusted keys v[0..nv) (nv <= 64).  *verified gets bit i
 * for each v[i] whose signature verified; timestamps[i] (optional array of
 * nv) gets the cosignature time for type 0x04 keys.  LACRE_E_AUTH if a
 * matching signature fails or none verifies. */
int note_verify(const struct note *n, const struct note_verifier *v, size_t nv,
		uint64_t *verified, uint64_t *timestamps);

/* Append one signature line over text[0..len) to out.  For a 0x04 key the
 * signed message is the cosignature/v1 form with the given timestamp. */
int note_sign_line(const struct note_signer *s, const void *text, size_t len,
		   uint64_t timestamp, struct lacre_dbuf *out);
/* Append a whole note: text, empty line, one signature line. */
int note_sign(const struct note_signer *s, const void *text, size_t len,
	      struct lacre_dbuf *out);

/* ---- checkpoints (tlog-checkpoint) ---- */

struct checkpoint {
	char origin[NOTE_NAME_MAX + 1];
	uint64_t size;
	uint8_t root[MERKLE_HASH_LEN];
	size_t next;           /* number of extension lines (ignored) */
};

/* Append "origin\nsize\nbase64(root)\n". */
int checkpoint_format(const char *origin, uint64_t size,
		      const uint8_t root[MERKLE_HASH_LEN], struct lacre_dbuf *out);
/* Parse a checkpoint text (the note text, untrusted): at least three lines,
 * non-empty origin, decimal size without leading zeros <= 2^63 - 1, root
 * base64 of exactly 32 bytes. */
int checkpoint_parse(const void *text, size_t len, struct checkpoint *out);
/* Parse and verify a signed checkpoint: the log key must verify and its name
 * must equal the origin; witness cosignatures of w[0..nw) are checked and
 * reported as bits in *cosigned (optional).  nw <= 63. */
int checkpoint_open(const void *note, size_t len, const struct note_verifier *log,
		    const struct note_verifier *w, size_t nw,
		    struct checkpoint *out, uint64_t *cosigned);

/* ---- cosignatures (tlog-cosignature, type 0x04) ---- */

/* Append one cosignature line by witness key s over a checkpoint text. */
int cosig_sign(const struct note_signer *s, const void *cp_text, size_t len,
	       uint64_t timestamp, struct lacre_dbuf *out);
/* Append to out the note with extra signature lines added (lines must be
 * whole "— ..." lines, e.g. a witness's answer); the result is re-parsed. */
int cosig_attach(const void *note, size_t len, const void *lines, size_t lines_len,
		 struct lacre_dbuf *out);

/* ---- receipts (C2SP tlog-proof, spec §8) ---- */

struct receipt {
	uint64_t index;
	struct merkle_proof proof;
	const uint8_t *cp;     /* the checkpoint note, inside the parsed bytes */
	size_t cp_len;
};

/* "c2sp.org/tlog-proof@v1\nindex <i>\n" proof lines, "\n", checkpoint. */
int receipt_format(uint64_t index, const struct merkle_proof *proof,
		   const void *cp, size_t cp_len, struct lacre_dbuf *out);
/* Parse a receipt; an "extra" line is skipped (it is not authenticated). */
int receipt_parse(const void *p, size_t len, struct receipt *out);
/* Verify: log signature, at least quorum cosignatures of w[0..nw), and the
 * inclusion of leaf at the receipt's index.  cp_out (optional). */
int receipt_verify(const struct receipt *r, const uint8_t leaf[MERKLE_HASH_LEN],
		   const struct note_verifier *log, const struct note_verifier *w,
		   size_t nw, size_t quorum, struct checkpoint *cp_out);

/* ---- witness policy (C2SP tlog-policy draft, spec §5) ---- */

#define POLICY_MAX_LOGS 8
#define POLICY_MAX_WITNESSES 32
#define POLICY_MAX_GROUPS 32
#define POLICY_MAX_MEMBERS 64
#define POLICY_NAME_MAX 64
#define POLICY_URL_MAX 255

struct policy_witness {
	char name[POLICY_NAME_MAX + 1];
	struct note_verifier key;           /* type 0x04 */
	char url[POLICY_URL_MAX + 1];       /* "" when none given */
};

struct policy_group {
	char name[POLICY_NAME_MAX + 1];
	unsigned k;                         /* members needed, 1..n */
	size_t n;
	uint16_t member[POLICY_MAX_MEMBERS]; /* < 32: witness i; else group i - 32 */
};

struct policy {
	struct note_verifier log[POLICY_MAX_LOGS]; /* type 0x01, name = origin */
	char log_url[POLICY_MAX_LOGS][POLICY_URL_MAX + 1];
	size_t nlogs;
	struct policy_witness w[POLICY_MAX_WITNESSES];
	size_t nw;
	struct policy_group g[POLICY_MAX_GROUPS];
	size_t ng;
	int quorum;                          /* -1: none; else a member code */
};

/* Parse a policy text: "log <vkey> [<url>]", "witness <name> <vkey>
 * [<url>]", "group <name> all|any|<k> <member>...", exactly one
 * "quorum <name>|none"; '#' comments, blank lines, spaces and tabs.
 * Names refer only to earlier lines; duplicate keys or names are refused.
 * Errors: LACRE_E_CONFIG (with the line number in *bad_line, optional). */
int policy_parse(const void *text, size_t len, struct policy *out, size_t *bad_line);
/* Whether witnesses whose bits are set in cosigned satisfy the quorum. */
int policy_satisfied(const struct policy *p, uint64_t cosigned);
/* Read and parse a policy file (at most 1 MiB) into a new *out (free()).
 * Errors: those of note_read_file (LACRE_E_IO, LACRE_E_NOT_FOUND,
 * LACRE_E_TOO_LARGE), LACRE_E_CONFIG with the bad line in *bad_line (0:
 * the log or quorum line is missing), LACRE_E_NOMEM. */
int policy_load_file(const char *path, struct policy **out, size_t *bad_line);
/* Open a checkpoint under a policy: signed by a listed log for its origin,
 * cosigned per the quorum.  LACRE_E_AUTH when the quorum is not met. */
int policy_open_checkpoint(const struct policy *p, const void *note, size_t len,
			   struct checkpoint *out, uint64_t *cosigned);

/* Verify a receipt under a policy (log key, witnesses and quorum). */
int receipt_verify_policy(const struct receipt *r, const uint8_t leaf[MERKLE_HASH_LEN],
			  const struct policy *p, struct checkpoint *cp_out);

/* Read a small file whole into out (at most cap bytes). */
int note_read_file(const char *path, size_t cap, struct lacre_dbuf *out);

#endif

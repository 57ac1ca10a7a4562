/*
 * package.h - the evidence package container (docs/FORMATS.md §9): one age
 * v1 file sealed to the court's X25519 recipient whose plaintext is
 *     "lacre-evidence/v1\n"
 *     member*  =  u8 name length (1..255) | name | u64 data length | data
 * with unique names of [a-z0-9._/-] (the object-name rules of
 * lacre_store_name_check), "manifest.txt" the second-to-last member and
 * "manifest.sig" the last.  lacre export writes it (package_writer_*),
 * lacre-verify reads it (package_open / package_parse): the reader treats
 * every byte as untrusted and goes through struct lacre_rbuf.
 *
 * Also here: the stream-completeness report (package_completeness), which
 * the exporter writes and the verifier recomputes from the records, byte
 * for byte.  Owned by lib/verify/package.c and lib/verify/completeness.c;
 * depends on libcrypto, the age module and the JSON writer only.
 */
#ifndef LACRE_PACKAGE_H
#define LACRE_PACKAGE_H

#include <stddef.h>
#include <stdint.h>

#include "lacre/age.h"
#include "lacre/buf.h"

#define PACKAGE_MAGIC "lacre-evidence/v1\n"
#define PACKAGE_MAGIC_LEN 18
#define PACKAGE_NAME_MAX 255
#define PACKAGE_MEMBERS_MAX (1u << 24)     /* reader cap on members */
#define PACKAGE_PLAIN_MAX ((size_t)1 << 36) /* reader cap on the plaintext (64 GiB) */
#define PACKAGE_MANIFEST "manifest.txt"
#define PACKAGE_SIGNATURE "manifest.sig"

/* ---- writing ---- */

struct package_writer;

/* Create PATH.tmp (0600, O_EXCL|O_NOFOLLOW: a new file, never through a
 * symbolic link) and write the age header for the one recipient court[32]
 * and the magic.  LACRE_E_IO, LACRE_E_EXISTS (PATH exists, even as a
 * dangling symbolic link, or PATH.tmp does: a leftover or a planted name),
 * LACRE_E_CRYPTO, LACRE_E_NOMEM. */
int package_writer_open(const char *path, const uint8_t court[32], struct package_writer **out);
/* Append one member; sha256 (may be NULL) receives SHA-256 of its data.
 * LACRE_E_INVALID for a bad or repeated name (names are checked for
 * repeats only against the last one: callers keep them unique), LACRE_E_IO. */
int package_writer_add(struct package_writer *w, const char *name, const void *p, size_t n,
		       uint8_t sha256[32]);
/* From now on also append every plaintext byte (the magic first) to
 * plain, so that lacre export can check the package with the verifier's
 * own code before package_writer_finish makes it visible.  Call it right
 * after package_writer_open; the caller owns, caps and wipes plain.
 * LACRE_E_INVALID after a member was added, LACRE_E_NOMEM / TOO_LARGE from
 * plain (then, from package_writer_add, the export fails). */
int package_writer_keep(struct package_writer *w, struct lacre_dbuf *plain);
/* Plaintext bytes written so far (magic included). */
uint64_t package_writer_plain_size(const struct package_writer *w);
/* Seal the final chunk, fsync, rename PATH.tmp to PATH, fsync the folder. */
int package_writer_finish(struct package_writer *w);
/* Free; an unfinished package's temporary file is removed. */
void package_writer_free(struct package_writer *w);

/* ---- reading ---- */

struct package_member {
	const char *name;        /* NUL-terminated copy */
	const uint8_t *p;        /* data inside the package's plaintext */
	size_t len;
	uint64_t offset;         /* offset of the member's name-length byte */
};

struct package {
	uint8_t *plain;          /* the plaintext (wiped and freed by package_free) */
	size_t plain_len;
	size_t n;                /* members in order */
	struct package_member *m;
	size_t *sorted;          /* member indexes sorted by name */
	char *names;             /* storage of the member names */
};

/* Parse a plaintext p[0..n) (copied).  On failure msg says where:
 * LACRE_E_MALFORMED (bad magic, bad name, repeated name, last members not
 * manifest.txt then manifest.sig), LACRE_E_INCOMPLETE (ends inside a
 * member), LACRE_E_TOO_LARGE (caps). */
int package_parse(const uint8_t *p, size_t n, struct package **out, char *msg, size_t msglen);
/* Decrypt an age file in[0..n) with the court identity and parse it.
 * age errors as age_reader_* (LACRE_E_AUTH: not sealed to this identity;
 * LACRE_E_CORRUPT: altered bytes; LACRE_E_TRUNCATED), then as package_parse. */
int package_open(const uint8_t *in, size_t n, const struct age_x25519_identity *id,
		 struct package **out, char *msg, size_t msglen);
/* The member called name, or NULL. */
const struct package_member *package_find(const struct package *pk, const char *name);
void package_free(struct package *pk);

/* ---- the stream-completeness report ---- */

/* One record of the export sequence, in export order. */
struct completeness_item {
	const uint8_t *liid;
	size_t liid_len;
	int has_cin;
	uint32_t cin;
	uint8_t kind;            /* enum etsi_kind: only IRI (1) and CC (2) form streams */
	uint64_t seq;
	int64_t time_us;         /* interception time, or receive time without one */
	int excluded;            /* left out of a party copy (still present in the log) */
};

/* Append the report as JSON (one object and a newline) to out:
 *   {"format":"lacre-completeness/v1","records":N,"other":N,"streams":[
 *     {"liid":..,"cin":N|null,"class":"iri"|"cc","records":N,"excluded":N,
 *      "duplicates":N,"resets":N,"missing":N,
 *      "epochs":[{"first":N,"last":N,"count":N,"missing":N,"gaps":[[a,b],..]}]}]}
 * Streams are sorted by (liid bytes, cin, class); a stream's records are
 * taken in export order: a sequence number already seen in the current
 * epoch with the same time is a duplicate (a resend); one seen with another
 * time, or lower than the previous one, starts a new epoch (a reset, with
 * or without cINReset); gaps are the numbers missing between an epoch's
 * lowest and highest (at most 64 ranges listed per epoch, all counted).
 * Deterministic: the verifier recomputes it byte for byte. */
int package_completeness(const struct completeness_item *it, size_t n, struct lacre_dbuf *out);

#endif

/*
 * tlog.h - lacre's transparency logs on untrusted storage: C2SP tlog-tiles
 * paths, hash tiles and entry bundles (tiles_), the appendable log with its
 * durable local state (tlog_), the "segment closed" entry (tlog_segment_)
 * and the keyless audit of a backend (audit_).  See docs/ledger.md.
 *
 * Object names on the store, under the log's prefix (tlog_prefix):
 *   checkpoint                     latest published (cosigned) checkpoint
 *   tile/<L>/<N>[.p/<W>]           hash tiles, 256 hashes of 32 bytes
 *   tile/entries/<N>[.p/<W>]       entry bundles, uint16 length ‖ entry
 * Full tiles and bundles are written once (put_if_absent; an existing object
 * with other bytes is a corruption alarm), partial ones with put_replace,
 * the checkpoint with put_replace only after it was signed and the log's
 * (size, root) was committed durably in the state folder.
 *
 * Nothing read back from the store is trusted: readers check every length,
 * and every hash is checked against a signed root before it is believed.
 */
#ifndef LACRE_TLOG_H
#define LACRE_TLOG_H

#include <stddef.h>
#include <stdint.h>

#include "lacre/buf.h"
#include "lacre/merkle.h"
#include "lacre/note.h"
#include "lacre/store.h"

#define TILE_WIDTH 256
#define TILE_BYTES (TILE_WIDTH * MERKLE_HASH_LEN)
/* Level number used for entry bundles in tiles_path. */
#define TILE_LEVEL_ENTRIES (-1)
/* Highest hash-tile level for trees up to 2^63 - 1. */
#define TILE_LEVEL_MAX 7
#define TLOG_ENTRY_MAX 65535
#define TLOG_BUNDLE_MAX ((size_t)TILE_WIDTH * (2 + TLOG_ENTRY_MAX))
/* Longest tlog_prefix() result, with its NUL. */
#define TLOG_PREFIX_MAX 80

/* ---- tiles ---- */

/* The store prefix of a log: "tlog/<lowercase hex SHA-256(origin)>/". */
int tlog_prefix(const char *origin, char *out, size_t cap);
/* prefix ‖ "tile/<L>/<N>[.p/<W>]"; level TILE_LEVEL_ENTRIES gives
 * "tile/entries/..."; width 0 or 256 is a full tile, 1..255 a partial. */
int tiles_path(const char *prefix, int level, uint64_t n, unsigned width,
	       char *out, size_t cap);
/* Parse a name relative to the prefix ("tile/0/x001/234.p/7").  Only the
 * canonical spelling is accepted.  width 0 = full. */
int tiles_parse_path(const char *rel, int *level, uint64_t *n, unsigned *width);
/* Width of tile n at level for a tree size: 256 for a full tile, 1..255 for
 * the partial one, 0 when the tile is not part of the tree. */
unsigned tiles_width(uint64_t size, int level, uint64_t n);

/* Next entry of a bundle (uint16 length ‖ bytes). */
int tiles_bundle_next(struct lacre_rbuf *b, const uint8_t **entry, size_t *len);

/* A reader of hash tiles for one tree size: a merkle_node_fn source, so
 * merkle_prove_* and merkle_root run on a store (spec §6.5).  A missing
 * partial tile falls back to the full tile.  Errors: LACRE_E_MISSING,
 * LACRE_E_TRUNCATED, LACRE_E_CORRUPT (wrong length), store errors. */
struct tiles_reader;
int tiles_reader_new(struct lacre_store *s, const char *prefix, uint64_t size,
		     struct tiles_reader **out);
void tiles_reader_free(struct tiles_reader *r);
int tiles_reader_node(void *reader, unsigned height, uint64_t index,
		      uint8_t out[MERKLE_HASH_LEN]);
/* Read tile n of level for the reader's size into out (width hashes). */
int tiles_reader_tile(struct tiles_reader *r, int level, uint64_t n,
		      const uint8_t **hashes, unsigned *width);

/* ---- the log ---- */

struct tlog;

/* A witness the log asks for cosignatures (tlog-witness). */
struct tlog_witness {
	char url[256];             /* "http://127.0.0.1:PORT[/prefix]" */
	struct note_verifier key;  /* its 0x04 cosigner key */
};

/* Open (or create) the log whose durable state lives in state_dir (made
 * 0700 if missing, locked against a second opener).  origin is the
 * checkpoint origin and must equal the key's name; key is borrowed and
 * must outlive the log.  Recovers after a crash: cuts the local journal
 * back to what was signed, replays its tail from the recovery snapshot,
 * checks it against the last signed (size, root), and republishes tiles
 * and the checkpoint at the next tlog_checkpoint.  LACRE_E_CONFIG if the
 * state belongs to another origin or key, LACRE_E_CORRUPT if the local
 * state is damaged, LACRE_E_STATE if another process holds the log.
 *
 * Threads: tlog_append (and tlog_size) may be called from any number of
 * threads at any time; every other call takes the log's lock, so one
 * thread can checkpoint (tlog_tick / tlog_checkpoint, which hash the
 * appended batch and publish) while others append and ask for receipts
 * (which wait for a running checkpoint).  tlog_close must not race any
 * other call. */
int tlog_open(struct lacre_store *store, const char *state_dir, const char *origin,
	      const struct note_signer *key, struct tlog **out);
/* A checkpoint signer outside the log (OpenSSH monitor style: the ingest
 * log's key lives in lacre-signer, docs/ledger.md "The log signer").  The
 * log hands it the checkpoint to sign together with the consistency proof
 * from the last signed (old_size, old_root); sign appends the whole signed
 * note to note.  The log checks every note it gets with key (origin, size,
 * root and signature) before it commits it.  sign returns LACRE_OK, or an
 * error that the checkpoint call passes on (the entries stay journaled and
 * the next checkpoint asks again). */
struct tlog_sign_request {
	const char *origin;
	uint64_t old_size;                  /* last signed size (0: none yet) */
	uint8_t old_root[MERKLE_HASH_LEN];
	uint64_t size;
	uint8_t root[MERKLE_HASH_LEN];
	const struct merkle_proof *proof;   /* consistency old_size -> size */
	const uint8_t *text;                /* the checkpoint text to sign */
	size_t text_len;
	/* out: a signer that refuses because it already signed a larger tree
	 * than old_size (an answer lost on the way) sets its size here and
	 * returns LACRE_E_STATE; the log then proves from that size and asks
	 * once more (the signer checks that it is the same tree) */
	uint64_t *stale_size;
};
struct tlog_signer {
	struct note_verifier key;           /* the log key's public half */
	int (*sign)(void *arg, const struct tlog_sign_request *rq, struct lacre_dbuf *note);
	void *arg;
};
/* tlog_open with an outside signer (copied; arg must outlive the log).
 * Before each request the log records its intent (state folder file
 * "pending": size, root, journal length; fsync'd), so that after a crash
 * between the signer's answer and the log's own commit the reopened log
 * resumes that exact tree, which the signer accepts again (equal size and
 * root), instead of re-appending in another order (a fork it refuses). */
int tlog_open_signer(struct lacre_store *store, const char *state_dir, const char *origin,
		     const struct tlog_signer *signer, struct tlog **out);
/* Close without checkpointing (appends since the last checkpoint are lost:
 * call tlog_checkpoint first for a clean stop). */
void tlog_close(struct tlog *log);
/* Append an entry (1..65535 bytes; lacre's are 32-byte commitments or small
 * event blobs): a copy into memory, hashed at the next checkpoint.  *index
 * (optional) gets the entry's position.  LACRE_E_TOO_LARGE when 2 GiB are
 * waiting for a checkpoint (backpressure). */
int tlog_append(struct tlog *log, const void *entry, size_t len, uint64_t *index);
/* Integrate pending entries: hash them, journal them durably, sign a
 * checkpoint, commit (size, root, note) to the state folder (tmp, fsync,
 * rename, fsync folder), write tiles and bundles, then - once the witness
 * quorum (if any) cosigned - write the checkpoint object.  note (optional)
 * receives the latest published checkpoint with its cosignatures.  Without
 * new entries it only finishes an unfinished publication.
 * LACRE_E_UNAVAILABLE when the store or too many witnesses failed (the
 * checkpoint stays signed and the next call retries); LACRE_E_FORK when a
 * witness reports a fork. */
int tlog_checkpoint(struct tlog *log, struct lacre_dbuf *note);
/* Drive time: checkpoint when entries are pending (or a publication is
 * unfinished) and at least the interval (default 1000 ms) has passed since
 * the last one.  *did (optional) is set to 1 if it checkpointed. */
int tlog_tick(struct tlog *log, uint64_t now_ms, int *did);
/* Set the checkpoint interval for tlog_tick (ms, >= 1). */
void tlog_set_interval(struct tlog *log, uint64_t ms);
/* Witnesses and the quorum (how many must cosign before the checkpoint is
 * published; 0 publishes without witnesses).  w is copied; n <= 32. */
int tlog_set_witnesses(struct tlog *log, const struct tlog_witness *w, size_t n,
		       size_t quorum);
/* Witnesses, URLs and quorum from a policy (note.h); witnesses without a
 * URL are not asked.  The policy is copied. */
int tlog_set_policy(struct tlog *log, const struct policy *p);
/* Entries appended so far (signed or pending). */
uint64_t tlog_size(struct tlog *log);
/* Size of the latest signed checkpoint and of the latest published one. */
uint64_t tlog_signed_size(struct tlog *log);
uint64_t tlog_published_size(struct tlog *log);
/* Call fn(arg, index, entry, len) for every entry covered by the latest
 * signed checkpoint (or by the one awaiting an outside signer's answer at
 * a crash, which tlog_open resumed), in log order, reading the local journal (recovery
 * uses it to learn which segments' batches a crash left unsigned).  A
 * non-zero return from fn stops the scan and is returned.  Takes the
 * log's lock; LACRE_E_CORRUPT for a damaged journal. */
int tlog_scan_signed(struct tlog *log,
		     int (*fn)(void *arg, uint64_t index, const uint8_t *e, size_t len),
		     void *arg);
/* The log's store prefix. */
const char *tlog_store_prefix(const struct tlog *log);
/* A copy of the latest published checkpoint note (with cosignatures),
 * appended to out; LACRE_E_NOT_FOUND before the first publication. */
int tlog_published_note(struct tlog *log, struct lacre_dbuf *out);
/* A C2SP tlog-proof receipt for entry index against the latest published
 * checkpoint (LACRE_E_RANGE if that checkpoint does not cover it yet). */
int tlog_receipt(struct tlog *log, uint64_t index, struct lacre_dbuf *out);
/* Proofs from the tiles on the store, for sizes up to the published size. */
int tlog_prove_inclusion(struct tlog *log, uint64_t index, uint64_t size,
			 struct merkle_proof *out);
int tlog_prove_consistency(struct tlog *log, uint64_t old, uint64_t size,
			   struct merkle_proof *out);

/* ---- the "segment closed" entry (docs/FORMATS.md §6) ---- */

#define TLOG_SEGMENT_MAGIC "lacre-segment/v1"    /* one leaf per record, then this */
#define TLOG_SEGMENT_MAGIC_V2 "lacre-segment/v2" /* the segment's only leaf */
#define TLOG_SEGMENT_NAME_MAX 255
#define TLOG_SEGMENT_FP_MAX 64
/* Most record frames one v2 entry may name (a 64 MiB segment holds at
 * most a few million; the cap keeps a reader's commitment array bounded). */
#define TLOG_SEGMENT_RECORDS_MAX ((uint64_t)1 << 32)

struct tlog_segment {
	unsigned version;                   /* 1 or 2 (encode writes 2) */
	char name[TLOG_SEGMENT_NAME_MAX + 1];
	uint64_t size;
	size_t fp_len;
	uint8_t fp[TLOG_SEGMENT_FP_MAX];
	uint64_t records;                   /* v2: the segment's record frames */
	uint8_t records_root[32];           /* v2: RFC 6962 root of their commitments */
};

/* v2: "lacre-segment/v2" ‖ u8 name length ‖ name ‖ u64 size ‖ u8 fp length
 * ‖ fp ‖ u64 records ‖ 32-byte records root.  (seg->version is ignored:
 * only v2 is written now.) */
int tlog_segment_encode(const struct tlog_segment *seg, struct lacre_dbuf *out);
/* Read a v1 or v2 entry.  LACRE_E_UNEXPECTED when the entry is not a
 * segment entry at all (no magic), LACRE_E_MALFORMED when it starts like
 * one but is broken (lengths, trailing bytes, records over the cap). */
int tlog_segment_decode(const void *entry, size_t len, struct tlog_segment *out);
/* The records root of n commitments in sealing order: the RFC 6962 tree
 * hash with each 32-byte commitment as a leaf entry (SHA-256 of "" for
 * n = 0).  LACRE_E_NOMEM, LACRE_E_RANGE (n over the cap). */
int tlog_segment_records_root(const uint8_t (*commits)[32], uint64_t n, uint8_t out[32]);

/* ---- keyless audit of a backend ---- */

enum audit_kind {
	AUDIT_MODIFIED = 1,  /* bytes differ from what the signed tree implies */
	AUDIT_MISSING,       /* an object the signed tree needs is absent */
	AUDIT_EXTRA,         /* an object beyond the signed tree */
	AUDIT_TRUNCATED,     /* shorter than the signed tree needs */
	AUDIT_REORDERED,     /* the right hashes in the wrong order */
	AUDIT_ROLLBACK,      /* the store's checkpoint is older than trusted */
	AUDIT_FORK,          /* two checkpoints of one size, different roots */
	AUDIT_BAD_CHECKPOINT,/* the store's checkpoint is unsigned or malformed */
	AUDIT_SEGMENT,       /* a segment entry's object failed its check */
	AUDIT_UNLOGGED,      /* a segment on the backend that no entry names */
	AUDIT_SPOOL          /* a spool leftover (site audit, site_audit.h) */
};
#define AUDIT_KIND_MAX AUDIT_SPOOL

/* One finding, handed to the report callback as it is made. */
struct audit_finding {
	enum audit_kind kind;
	const char *object;   /* store name (relative to the log prefix) or "" */
	const char *message;  /* one lower-case line */
};

/* Checks a "segment closed" entry: re-derive the segment's keyless
 * fingerprint from the store and compare.  Return LACRE_OK, or an error and
 * a one-line reason in msg. */
typedef int (*audit_segment_fn)(void *arg, struct lacre_store *store,
				uint64_t index, const struct tlog_segment *seg,
				char *msg, size_t msgcap);

struct audit_config {
	struct lacre_store *store;
	const char *origin;
	struct note_verifier log_key;
	const struct note_verifier *witnesses; /* cosigners to check (may be 0) */
	size_t nwitnesses;
	size_t quorum;                         /* cosignatures required */
	const struct policy *policy;           /* optional: replaces witnesses
	                                        * and quorum (its log keys are
	                                        * not used: log_key is) */
	const uint8_t *trusted;                /* a trusted checkpoint note, or NULL */
	size_t trusted_len;
	audit_segment_fn segment;              /* optional */
	void *segment_arg;
	void (*report)(void *arg, const struct audit_finding *f); /* optional */
	void *report_arg;
	/* optional: every object listed under this store prefix (e.g. "seg/")
	 * that no "segment closed" entry of the audited tree names is an
	 * AUDIT_UNLOGGED finding (its records are in no signed checkpoint).
	 * With segment_prefix_auto, only when the tree names a segment at all
	 * (so auditing another log of the same backend, one without segment
	 * entries, does not claim every segment). */
	const char *segment_prefix;
	int segment_prefix_auto;
};

struct audit_result {
	uint64_t size;        /* size of the tree audited */
	uint8_t root[MERKLE_HASH_LEN];
	uint64_t entries;     /* entries read and hashed */
	uint64_t objects;     /* objects read */
	uint64_t segments;    /* segment entries checked */
	uint64_t records;     /* records the tree logs: its 32-byte leaves (one per
	                       * record of a v1 segment) plus each v2 entry's count */
	uint64_t findings;    /* problems reported */
	uint64_t unlogged;    /* segments under segment_prefix named by no entry */
	uint64_t by_kind[AUDIT_KIND_MAX + 1];
};

/* Fetch every tile, bundle and the checkpoint of the log, recompute the
 * tree and compare with the latest trusted checkpoint.  LACRE_OK when
 * nothing was found; LACRE_E_VERIFY (or LACRE_E_ROLLBACK / LACRE_E_FORK for
 * those findings) otherwise; other errors when the audit could not run. */
int audit_run(const struct audit_config *cfg, struct audit_result *out);
/* Name of a finding kind ("modified", "missing", ...). */
const char *audit_kind_name(enum audit_kind k);

#endif

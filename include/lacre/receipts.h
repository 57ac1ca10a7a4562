/*
 * receipts.h - per-record receipts from a site's ingest logs (spec
 * tlog-formats.md §8, C2SP tlog-proof).  Owned by lib/access/receipts.c.
 *
 * A site may have several receivers, each with its own ingest log
 * (ingest_logs.h); the index below covers all of them as one site.  For
 * each log receipts_index_open() takes its trusted checkpoint (verified
 * with its vkey), reads every entry bundle of that tree from the backend through the tiles
 * API, recomputes the Merkle tree from the entries and refuses them unless
 * the root equals the checkpoint's (the backend is not trusted), and keeps
 * a commitment -> leaf index map and every complete subtree hash in memory
 * (64 bytes of hashes and 12-24 bytes of map per entry: about 1 GB per
 * 10^7 log entries).  Receipts are then made without another
 * read: the leaf index of a record's commitment, its inclusion proof to
 * the checkpoint, and the checkpoint note verbatim (with its cosignatures).
 *
 * Two shapes of log coexist (docs/ledger.md): a v1 segment has one leaf
 * per record commitment (found by receipts_index_find); a v2 segment has
 * one leaf, its "segment closed" entry carrying the count and Merkle root
 * of its records' commitments (found by object name).  A v2 segment's
 * records are in the log only when ALL the commitments read from the
 * segment hash to that root and number that count; a record is then
 * proven by a lacre-segment-proof (segment_proof.h) plus the tlog-proof
 * of the entry's leaf.  struct receipts_seg does that per record, reading
 * each segment's commitments once.
 */
#ifndef LACRE_RECEIPTS_H
#define LACRE_RECEIPTS_H

#include <stddef.h>
#include <stdint.h>

#include "lacre/age.h"
#include "lacre/buf.h"
#include "lacre/merkle.h"
#include "lacre/note.h"
#include "lacre/site.h"
#include "lacre/store.h"
#include "lacre/tlog.h"

struct receipts_index;

/* Build the "logs index" for site s over store: every ingest log of the
 * site (site_ingest_logs, in its order: unnamed first, then by receiver
 * name), each from its trusted checkpoint (site_ingest_checkpoint: the
 * local copy of a receiver on this machine, the backend's verified one of
 * another machine's) verified with its vkey, its entries read and hashed
 * to that root as above.  A log with no checkpoint yet is left out (it
 * proves nothing yet).  Logs are numbered 0..receipts_index_logs()-1.
 * Errors: LACRE_E_NOT_FOUND (no ingest log, or none with a checkpoint),
 * LACRE_E_CONFIG (a log's vkey, site_ingest_logs), LACRE_E_AUTH (a
 * checkpoint does not verify with its log's vkey), LACRE_E_ROLLBACK /
 * LACRE_E_FORK (site_ingest_checkpoint), LACRE_E_VERIFY (a log's entries
 * on the backend do not hash to its checkpoint's root, or two logs name
 * the same segment: a segment is proven by the one log that names it),
 * LACRE_E_MISSING / LACRE_E_TRUNCATED / LACRE_E_CORRUPT (a bundle is
 * absent or damaged), store errors.  msg says which, naming the origin. */
int receipts_index_open(const struct site *s, struct lacre_store *store,
			struct receipts_index **out, char *msg, size_t msglen);
void receipts_index_free(struct receipts_index *ix);

/* The number of logs in the index (>= 1) and the origin of one. */
size_t receipts_index_logs(const struct receipts_index *ix);
const char *receipts_index_origin(const struct receipts_index *ix, size_t log);

/* Log and leaf index of a record commitment (a v1 leaf; the first log
 * holding it); LACRE_E_NOT_FOUND when no checkpoint covers it (yet). */
int receipts_index_find(const struct receipts_index *ix, const uint8_t commitment[32],
			size_t *log, uint64_t *leaf);
/* Append the tlog-proof receipt for leaf of log to out (its checkpoint
 * note verbatim inside: the receipt names its origin). */
int receipts_index_receipt(const struct receipts_index *ix, size_t log, uint64_t leaf,
			   struct lacre_dbuf *out);
/* The inclusion proof alone.  LACRE_E_RANGE past the log's tree. */
int receipts_index_proof(const struct receipts_index *ix, size_t log, uint64_t leaf,
			 struct merkle_proof *out);

/* The v2 "segment closed" entry that names object (e.g. "seg/<hex>"): its
 * log, leaf and decoded form (valid while ix lives).  The first entry of
 * its log when that log names it twice (two logs never do: open refuses
 * it).  LACRE_E_NOT_FOUND when no v2 entry does (a v1 segment, or one no
 * checkpoint covers).  log, leaf, seg may be NULL. */
int receipts_index_segment(const struct receipts_index *ix, const char *object, size_t *log,
			   uint64_t *leaf, const struct tlog_segment **seg);
/* Check a segment's commitments (ALL its records, as read, in order)
 * against its logged v2 entry: LACRE_OK (count and root match; *log and
 * *leaf are the entry's), LACRE_E_NOT_FOUND (no v2 entry names it),
 * LACRE_E_VERIFY (a v2 entry names it but count or root differ: the
 * segment's records are not the ones logged), LACRE_E_NOMEM. */
int receipts_index_segment_check(const struct receipts_index *ix, const char *object,
				 const uint8_t (*commits)[32], uint64_t n, size_t *log,
				 uint64_t *leaf);

/* Where the signed logs prove one record. */
struct receipts_where {
	size_t log;         /* the log that proves it (receipts_index_origin) */
	uint64_t leaf;      /* the leaf that proves it: its own (v1), its segment entry's (v2) */
	int v2;             /* 1: proven through its segment's records root */
	uint64_t index, n;  /* v2: record index of n under that root */
};

/* Per-record lookups over segments read one record at a time (export,
 * lacre records, lacre proof record): the first record of each segment
 * reads the whole object again (with id) to learn every commitment. */
struct receipts_seg;
int receipts_seg_new(const struct receipts_index *ix, struct lacre_store *st,
		     struct receipts_seg **out);
void receipts_seg_free(struct receipts_seg *c);
/* Locate record index (commitment commit) of object, opened with id.
 * LACRE_OK and *w; LACRE_E_NOT_FOUND when no signed log holds it (v1: no
 * leaf is its commitment; v2: the segment's records do not hash to its
 * logged root, or no entry covers it); store or segment errors. */
int receipts_seg_locate(struct receipts_seg *c, const struct age_x25519_identity *id,
			const char *object, uint64_t index, const uint8_t commit[32],
			struct receipts_where *w);
/* Append the lacre-segment-proof/v1 of a v2 record w just located. */
int receipts_seg_proof(struct receipts_seg *c, const struct receipts_where *w,
		       struct lacre_dbuf *out);

/* Log log's checkpoint note (verbatim), its parsed form, and its vkey
 * text (no newline). */
void receipts_index_checkpoint(const struct receipts_index *ix, size_t log, const uint8_t **note,
			       size_t *len);
const struct checkpoint *receipts_index_tree(const struct receipts_index *ix, size_t log);
const char *receipts_index_vkey(const struct receipts_index *ix, size_t log);

#endif

/*
 * receipts.h - per-record receipts from a site's ingest log (spec
 * tlog-formats.md §8, C2SP tlog-proof).  Owned by lib/access/receipts.c.
 *
 * receipts_index_open() takes the site's trusted local checkpoint
 * (DIR/ledger/ingest/checkpoint, verified with DIR/ledger/ingest/vkey),
 * reads every entry bundle of that tree from the backend through the tiles
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

/* Build the index for site s over store (see above).  Errors:
 * LACRE_E_NOT_FOUND (no ingest log on this site yet), LACRE_E_AUTH (the
 * local checkpoint does not verify with the log's vkey), LACRE_E_VERIFY
 * (the entries on the backend do not hash to the checkpoint's root),
 * LACRE_E_MISSING / LACRE_E_TRUNCATED / LACRE_E_CORRUPT (a bundle is
 * absent or damaged), store errors.  msg says which. */
int receipts_index_open(const struct site *s, struct lacre_store *store,
			struct receipts_index **out, char *msg, size_t msglen);
void receipts_index_free(struct receipts_index *ix);

/* Leaf index of a record commitment; LACRE_E_NOT_FOUND when the checkpoint
 * does not cover it (yet). */
int receipts_index_find(const struct receipts_index *ix, const uint8_t commitment[32],
			uint64_t *leaf);
/* Append the tlog-proof receipt for leaf to out. */
int receipts_index_receipt(const struct receipts_index *ix, uint64_t leaf,
			   struct lacre_dbuf *out);
/* The inclusion proof alone. */
int receipts_index_proof(const struct receipts_index *ix, uint64_t leaf,
			 struct merkle_proof *out);

/* The v2 "segment closed" entry that names object (e.g. "seg/<hex>"): its
 * leaf and decoded form (valid while ix lives).  The first entry when two
 * name it.  LACRE_E_NOT_FOUND when no v2 entry does (a v1 segment, or one
 * the checkpoint does not cover). */
int receipts_index_segment(const struct receipts_index *ix, const char *object, uint64_t *leaf,
			   const struct tlog_segment **seg);
/* Check a segment's commitments (ALL its records, as read, in order)
 * against its logged v2 entry: LACRE_OK (count and root match; *leaf is
 * the entry's leaf), LACRE_E_NOT_FOUND (no v2 entry names it),
 * LACRE_E_VERIFY (a v2 entry names it but count or root differ: the
 * segment's records are not the ones logged), LACRE_E_NOMEM. */
int receipts_index_segment_check(const struct receipts_index *ix, const char *object,
				 const uint8_t (*commits)[32], uint64_t n, uint64_t *leaf);

/* Where the signed log proves one record. */
struct receipts_where {
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
 * LACRE_OK and *w; LACRE_E_NOT_FOUND when the signed log does not hold it
 * (v1: no leaf is its commitment; v2: the segment's records do not hash to
 * its logged root, or no entry covers it); store or segment errors. */
int receipts_seg_locate(struct receipts_seg *c, const struct age_x25519_identity *id,
			const char *object, uint64_t index, const uint8_t commit[32],
			struct receipts_where *w);
/* Append the lacre-segment-proof/v1 of a v2 record w just located. */
int receipts_seg_proof(struct receipts_seg *c, const struct receipts_where *w,
		       struct lacre_dbuf *out);

/* The checkpoint note (verbatim), its parsed form, and the log's vkey text
 * (no newline). */
void receipts_index_checkpoint(const struct receipts_index *ix, const uint8_t **note,
			       size_t *len);
const struct checkpoint *receipts_index_tree(const struct receipts_index *ix);
const char *receipts_index_vkey(const struct receipts_index *ix);

#endif

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
 */
#ifndef LACRE_RECEIPTS_H
#define LACRE_RECEIPTS_H

#include <stddef.h>
#include <stdint.h>

#include "lacre/buf.h"
#include "lacre/merkle.h"
#include "lacre/note.h"
#include "lacre/site.h"
#include "lacre/store.h"

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

/* The checkpoint note (verbatim), its parsed form, and the log's vkey text
 * (no newline). */
void receipts_index_checkpoint(const struct receipts_index *ix, const uint8_t **note,
			       size_t *len);
const struct checkpoint *receipts_index_tree(const struct receipts_index *ix);
const char *receipts_index_vkey(const struct receipts_index *ix);

#endif

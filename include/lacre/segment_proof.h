/*
 * segment_proof.h - the per-record proof of a v2 segment
 * (lacre-segment-proof/v1, docs/FORMATS.md §6.1).  Owned by
 * lib/ledger/segment_proof.c; libcrypto only (lacre-verify links it).
 *
 * Since the ingest log has one leaf per sealed segment (the v2 "segment
 * closed" entry, tlog.h), a record is proven by two files: this one takes
 * the record's commitment to the records root inside the segment entry
 * (an RFC 9162 inclusion path in the tree of the segment's n commitments),
 * and the C2SP tlog-proof takes the entry to a signed checkpoint.  Text:
 *
 *   lacre-segment-proof/v1
 *   entry <padded standard base64 of the v2 segment entry>
 *   record <i> <n>
 *   <base64 hash>          one line per hash of the path, leaf sibling first
 *
 * Exactly one form: decimals without leading zeros, every line ended by
 * LF, nothing after the last, as many hashes as PATH(i, n) has (none when
 * n = 1), n equal to the entry's record count, i < n.
 */
#ifndef LACRE_SEGMENT_PROOF_H
#define LACRE_SEGMENT_PROOF_H

#include <stddef.h>
#include <stdint.h>

#include "lacre/buf.h"
#include "lacre/merkle.h"
#include "lacre/tlog.h"

#define SEGMENT_PROOF_MAGIC "lacre-segment-proof/v1"
/* Longest v2 entry: magic, 1 + 255 name, 8 size, 1 + 64 fp, 8 n, 32 root. */
#define SEGMENT_ENTRY_MAX (16 + 1 + 255 + 8 + 1 + 64 + 8 + 32)
/* Longest proof text (a bound well above the longest valid one). */
#define SEGMENT_PROOF_TEXT_MAX 8192

/* A parsed proof. */
struct segment_proof {
	uint8_t entry[SEGMENT_ENTRY_MAX];  /* the v2 segment entry, verbatim */
	size_t entry_len;
	struct tlog_segment seg;           /* ... decoded (version 2) */
	uint64_t index, n;                 /* the record's place: i of n */
	struct merkle_proof path;          /* leaf sibling first */
};

/* Hashes PATH(i, n) of RFC 6962 has (0 when n = 1); i < n. */
size_t segment_proof_path_len(uint64_t i, uint64_t n);
/* Append the proof text for record i of the tree t of the segment's
 * commitments, whose v2 entry is entry[0..len).  LACRE_E_INVALID when the
 * entry is not v2, names another count, or i >= n; LACRE_E_VERIFY when
 * t's root is not the entry's records root. */
int segment_proof_make(const struct merkle_levels *t, const uint8_t *entry, size_t entry_len,
		       uint64_t i, struct lacre_dbuf *out);
/* Format a proof from its parts (no check beyond the lengths). */
int segment_proof_format(const uint8_t *entry, size_t entry_len, uint64_t i, uint64_t n,
			 const struct merkle_proof *path, struct lacre_dbuf *out);
/* Parse a proof text (untrusted) strictly through the checked buffer.
 * LACRE_E_MALFORMED for anything but the one form above. */
int segment_proof_parse(const void *text, size_t len, struct segment_proof *out);
/* Check that commitment is record p->index under p->seg.records_root.
 * LACRE_OK or LACRE_E_VERIFY. */
int segment_proof_verify(const struct segment_proof *p, const uint8_t commitment[32]);

/* A record proof (docs/FORMATS.md §6.2, what `lacre proof record` writes
 * through the keeper, whose request returns one file): a v2 record's two
 * proofs in one file, the segment proof text followed at once by the
 * tlog-proof of its entry ("c2sp.org/tlog-proof@v1" opens the second).
 * Split text[0..len) (untrusted): *sp_len bytes of segment proof, the
 * receipt from there to the end.  LACRE_E_MALFORMED unless the text opens
 * with the segment proof magic line and holds the receipt's first line
 * at the start of a line; each part is then parsed by its own reader. */
#define RECORD_PROOF_RECEIPT_MAGIC "c2sp.org/tlog-proof@v1\n"
int segment_proof_split(const void *text, size_t len, size_t *sp_len);

#endif

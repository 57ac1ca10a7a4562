/*
 * segment_entry.c - the canonical "segment closed" ledger entry
 * (docs/FORMATS.md §6).  When the receiver closes a sealed segment it
 * appends, as the segment's ONLY leaf in the ingest log,
 *   "lacre-segment/v2" ‖ u8 name length ‖ name ‖ u64 size ‖ u8 fp length ‖ fp
 *   ‖ u64 records ‖ records root (32)
 * where the records root is the RFC 6962 tree hash over the segment's
 * record commitments in sealing order: the keyless audit checks the object
 * (present, same size, same fingerprint) without any key, and a record is
 * proven by its path to the records root plus the entry's own inclusion
 * proof (segment_proof.h).  Version 1 (the same without the last two
 * fields, after one leaf per record) is still read: old sites and old
 * exports hold it.  The magic keeps these entries apart from 32-byte
 * record commitments.
 */
#include <string.h>

#include "lacre/err.h"
#include "lacre/tlog.h"

#define MAGIC_LEN (sizeof(TLOG_SEGMENT_MAGIC) - 1)

/* Encode a v2 segment entry. */
int tlog_segment_encode(const struct tlog_segment *seg, struct lacre_dbuf *out)
{
	size_t nl = strnlen(seg->name, sizeof(seg->name));
	int rc;

	if (nl == 0 || nl > TLOG_SEGMENT_NAME_MAX || seg->fp_len == 0 ||
	    seg->fp_len > TLOG_SEGMENT_FP_MAX || seg->records > TLOG_SEGMENT_RECORDS_MAX)
		return LACRE_E_INVALID;
	if ((rc = lacre_dbuf_add(out, TLOG_SEGMENT_MAGIC_V2, MAGIC_LEN)) != LACRE_OK ||
	    (rc = lacre_dbuf_add_u8(out, (uint8_t)nl)) != LACRE_OK ||
	    (rc = lacre_dbuf_add(out, seg->name, nl)) != LACRE_OK ||
	    (rc = lacre_dbuf_add_u64be(out, seg->size)) != LACRE_OK ||
	    (rc = lacre_dbuf_add_u8(out, (uint8_t)seg->fp_len)) != LACRE_OK ||
	    (rc = lacre_dbuf_add(out, seg->fp, seg->fp_len)) != LACRE_OK ||
	    (rc = lacre_dbuf_add_u64be(out, seg->records)) != LACRE_OK)
		return rc;
	return lacre_dbuf_add(out, seg->records_root, sizeof(seg->records_root));
}

/* Decode a v1 or v2 segment entry (untrusted: read from bundles on the
 * store, from spool files and from evidence packages). */
int tlog_segment_decode(const void *entry, size_t len, struct tlog_segment *out)
{
	struct tlog_segment s;
	struct lacre_rbuf b;
	const uint8_t *p;
	uint8_t nl, fl;
	size_t i;

	if (len < MAGIC_LEN)
		return LACRE_E_UNEXPECTED;
	memset(&s, 0, sizeof(s));
	if (memcmp(entry, TLOG_SEGMENT_MAGIC, MAGIC_LEN) == 0)
		s.version = 1;
	else if (memcmp(entry, TLOG_SEGMENT_MAGIC_V2, MAGIC_LEN) == 0)
		s.version = 2;
	else
		return LACRE_E_UNEXPECTED;
	lacre_rbuf_init(&b, entry, len);
	if (lacre_rbuf_skip(&b, MAGIC_LEN) != LACRE_OK || lacre_rbuf_u8(&b, &nl) != LACRE_OK ||
	    nl == 0 || lacre_rbuf_take(&b, nl, &p) != LACRE_OK)
		return LACRE_E_MALFORMED;
	for (i = 0; i < nl; i++)
		if (p[i] == 0)
			return LACRE_E_MALFORMED;
	memcpy(s.name, p, nl);
	if (lacre_rbuf_u64be(&b, &s.size) != LACRE_OK || lacre_rbuf_u8(&b, &fl) != LACRE_OK ||
	    fl == 0 || fl > TLOG_SEGMENT_FP_MAX || lacre_rbuf_copy(&b, s.fp, fl) != LACRE_OK)
		return LACRE_E_MALFORMED;
	if (s.version == 2 &&
	    (lacre_rbuf_u64be(&b, &s.records) != LACRE_OK || s.records > TLOG_SEGMENT_RECORDS_MAX ||
	     lacre_rbuf_copy(&b, s.records_root, sizeof(s.records_root)) != LACRE_OK))
		return LACRE_E_MALFORMED;
	if (lacre_rbuf_expect_end(&b) != LACRE_OK)
		return LACRE_E_MALFORMED;
	s.fp_len = fl;
	*out = s;
	return LACRE_OK;
}

/* The records root: a compact range over the leaf hashes (O(log n) memory,
 * one pass), the same tree merkle_levels and the proofs use. */
int tlog_segment_records_root(const uint8_t (*commits)[32], uint64_t n, uint8_t out[32])
{
	struct merkle_tree t;
	uint8_t lh[MERKLE_HASH_LEN];
	int r;

	if (n > TLOG_SEGMENT_RECORDS_MAX)
		return LACRE_E_RANGE;
	merkle_tree_init(&t);
	for (uint64_t i = 0; i < n; i++) {
		merkle_leaf_hash(commits[i], 32, lh);
		if ((r = merkle_tree_append(&t, lh, NULL, NULL)) != LACRE_OK)
			return r;
	}
	merkle_tree_root(&t, out);
	return LACRE_OK;
}

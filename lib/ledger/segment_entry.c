/*
 * segment.c - the canonical "segment closed" ledger entry (docs/FORMATS.md
 * §6): when the vault closes a sealed segment it appends
 *   "lacre-segment/v1" ‖ u8 name length ‖ name ‖ u64 size ‖ u8 fp length ‖ fp
 * so that the keyless audit can check every segment object on the store
 * (present, same size, same fingerprint) without any key.  The magic keeps
 * these entries apart from 32-byte record commitments.
 */
#include <string.h>

#include "lacre/err.h"
#include "lacre/tlog.h"

#define MAGIC_LEN (sizeof(TLOG_SEGMENT_MAGIC) - 1)

/* Encode a segment entry. */
int tlog_segment_encode(const struct tlog_segment *seg, struct lacre_dbuf *out)
{
	size_t nl = strnlen(seg->name, sizeof(seg->name));
	int rc;

	if (nl == 0 || nl > TLOG_SEGMENT_NAME_MAX || seg->fp_len == 0 ||
	    seg->fp_len > TLOG_SEGMENT_FP_MAX)
		return LACRE_E_INVALID;
	if ((rc = lacre_dbuf_add(out, TLOG_SEGMENT_MAGIC, MAGIC_LEN)) != LACRE_OK ||
	    (rc = lacre_dbuf_add_u8(out, (uint8_t)nl)) != LACRE_OK ||
	    (rc = lacre_dbuf_add(out, seg->name, nl)) != LACRE_OK ||
	    (rc = lacre_dbuf_add_u64be(out, seg->size)) != LACRE_OK ||
	    (rc = lacre_dbuf_add_u8(out, (uint8_t)seg->fp_len)) != LACRE_OK)
		return rc;
	return lacre_dbuf_add(out, seg->fp, seg->fp_len);
}

/* Decode a segment entry (untrusted: read from bundles on the store). */
int tlog_segment_decode(const void *entry, size_t len, struct tlog_segment *out)
{
	struct tlog_segment s;
	struct lacre_rbuf b;
	const uint8_t *p;
	uint8_t nl, fl;
	size_t i;

	if (len < MAGIC_LEN || memcmp(entry, TLOG_SEGMENT_MAGIC, MAGIC_LEN) != 0)
		return LACRE_E_UNEXPECTED;
	memset(&s, 0, sizeof(s));
	lacre_rbuf_init(&b, entry, len);
	if (lacre_rbuf_skip(&b, MAGIC_LEN) != LACRE_OK || lacre_rbuf_u8(&b, &nl) != LACRE_OK ||
	    nl == 0 || lacre_rbuf_take(&b, nl, &p) != LACRE_OK)
		return LACRE_E_MALFORMED;
	for (i = 0; i < nl; i++)
		if (p[i] == 0)
			return LACRE_E_MALFORMED;
	memcpy(s.name, p, nl);
	if (lacre_rbuf_u64be(&b, &s.size) != LACRE_OK || lacre_rbuf_u8(&b, &fl) != LACRE_OK ||
	    fl == 0 || fl > TLOG_SEGMENT_FP_MAX || lacre_rbuf_copy(&b, s.fp, fl) != LACRE_OK ||
	    lacre_rbuf_expect_end(&b) != LACRE_OK)
		return LACRE_E_MALFORMED;
	s.fp_len = fl;
	*out = s;
	return LACRE_OK;
}

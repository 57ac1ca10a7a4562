/*
 * ber.h - a BER TLV reader for untrusted input (X.690), used by the ETSI
 * PS-PDU decoder.  Reads through struct lacre_rbuf only.
 *
 * Accepts definite lengths (short and long form, up to 4 length octets,
 * non-minimal forms too: real senders write 82 00 xx), indefinite lengths on
 * constructed elements (terminated by 00 00), and multi-byte tags up to
 * BER_MAX_TAG_OCTETS.  Rejects the reserved length octet FF, lengths past the
 * end of the enclosing element, nesting deeper than the caller's limit.
 * Never allocates.
 */
#ifndef LACRE_BER_H
#define LACRE_BER_H

#include <stddef.h>
#include <stdint.h>

#include "lacre/buf.h"
#include "lacre/err.h"

#define BER_MAX_TAG_OCTETS 4  /* identifier octets, first included */
#define BER_MAX_DEPTH 32      /* default nesting cap */

enum ber_class {
	BER_UNIVERSAL = 0,
	BER_APPLICATION = 1,
	BER_CONTEXT = 2,
	BER_PRIVATE = 3
};

/* One decoded TLV.  value points into the input; for an indefinite-length
 * element, value/len cover the contents without the 00 00 terminator, and
 * total covers identifier, length, contents and terminator. */
struct ber_tlv {
	uint8_t cls;          /* enum ber_class */
	uint8_t constructed;  /* 1 when the constructed bit is set */
	uint8_t indefinite;   /* 1 when the length was indefinite */
	uint32_t tag;         /* tag number */
	const uint8_t *value; /* contents */
	size_t len;           /* contents length */
	size_t hdr_len;       /* identifier + length octets */
	size_t total;         /* whole element as it appears in the input */
};

/* Read the next TLV from b and consume it.  depth_left bounds the nesting
 * scanned to find the end of indefinite-length elements.  Returns
 * LACRE_E_INCOMPLETE if b ends before the element does (b is unchanged). */
int ber_next(struct lacre_rbuf *b, struct ber_tlv *t, int depth_left);

/* ber_next() with the commonest forms inlined: a low tag number (< 31)
 * and a definite length in the short form or in one or two length octets
 * (81 xx, 82 xx xx), that fits in b.  Same results as ber_next() for
 * every input; anything else goes to ber_next().  The decoder's hot path:
 * nearly every TLV inside a PS-PDU has one of these forms, the last
 * element of a SEQUENCE often in the last 2 or 3 octets of b (84 01 00).
 * Built with LACRE_WIRE_REFERENCE, it is ber_next() itself (the reference
 * decoder of tests/unit/test_etsi_fast.c). */
static inline int ber_next_fast(struct lacre_rbuf *b, struct ber_tlv *t, int depth_left)
{
#ifdef LACRE_WIRE_REFERENCE
	return ber_next(b, t, depth_left);
#else
	size_t avail = b->len - b->off, hl, len;
	const uint8_t *p = b->p + b->off;

	if (avail < 2 || (p[0] & 0x1f) == 0x1f)
		return ber_next(b, t, depth_left);
	if (p[1] < 0x80) {
		hl = 2;
		len = p[1];
	} else if (p[1] == 0x81 && avail >= 3) {
		hl = 3;
		len = p[2];
	} else if (p[1] == 0x82 && avail >= 4) {
		hl = 4;
		len = (size_t)p[2] << 8 | p[3];
	} else {
		return ber_next(b, t, depth_left);
	}
	if (len > avail - hl)
		return ber_next(b, t, depth_left);
	t->cls = (uint8_t)(p[0] >> 6);
	t->constructed = (uint8_t)((p[0] >> 5) & 1);
	t->indefinite = 0;
	t->tag = p[0] & 0x1fu;
	t->value = p + hl;
	t->len = len;
	t->hdr_len = hl;
	t->total = hl + len;
	b->off += t->total;
	return LACRE_OK;
#endif
}

/* Parse only the identifier and length octets at the start of p[0..n) and
 * report the total element size (for stream framing).  For an indefinite
 * length the whole element must be present to know its size.  Fails with
 * LACRE_E_TOO_LARGE when the total would exceed max. */
int ber_element_size(const uint8_t *p, size_t n, size_t max, size_t *total);

/* Primitive decoders over a TLV's contents. */
int ber_get_uint(const struct ber_tlv *t, uint64_t *v);  /* non-negative INTEGER/ENUMERATED, <= 2^64-1 */
/* ber_get_uint() with the commonest form inlined: a primitive element
 * of 1..8 contents octets, the first below 80.  Same results for every
 * input; anything else goes to ber_get_uint() (ber_get_uint() itself when
 * built with LACRE_WIRE_REFERENCE). */
static inline int ber_get_uint_fast(const struct ber_tlv *t, uint64_t *v)
{
#ifndef LACRE_WIRE_REFERENCE
	if (!t->constructed && t->len - 1 < 8 && !(t->value[0] & 0x80)) {
		uint64_t x = 0;
		for (size_t i = 0; i < t->len; i++)
			x = x << 8 | t->value[i];
		*v = x;
		return LACRE_OK;
	}
#endif
	return ber_get_uint(t, v);
}
int ber_get_int(const struct ber_tlv *t, int64_t *v);
/* GeneralizedTime "YYYYMMDDhhmmss[.fff...][Z|+hhmm]" to Unix microseconds. */
int ber_get_gentime(const struct ber_tlv *t, int64_t *unix_us);
/* UTCTime "YYMMDDhhmm[ss][Z|+hhmm]" to Unix microseconds. */
int ber_get_utctime(const struct ber_tlv *t, int64_t *unix_us);
/* OBJECT IDENTIFIER (relative == 0) or RELATIVE-OID (relative != 0) as
 * dotted decimal into out[0..cap) (NUL-terminated; "" on failure); the arc
 * count and the last arc go to *n_arcs and *last when not NULL.  48 bytes
 * hold any identifier seen on the handover; longer ones fail with
 * LACRE_E_TOO_LARGE.  out may be NULL (cap ignored) to validate only. */
int ber_get_oid(const struct ber_tlv *t, int relative, char *out, size_t cap,
		unsigned *n_arcs, uint64_t *last);

/* Validate an OBJECT IDENTIFIER and give its last arc, as
 * ber_get_oid(t, 0, NULL, 0, NULL, last) does, with the commonest form
 * inlined: two or more contents octets, none with the high bit set (every
 * arc after the first two below 128, as in every li-psDomainId), where
 * the last arc is the last octet.  Anything else goes to ber_get_oid().
 * Built with LACRE_WIRE_REFERENCE, it is ber_get_oid() itself. */
static inline int ber_get_oid_last(const struct ber_tlv *t, uint64_t *last)
{
#ifndef LACRE_WIRE_REFERENCE
	uint8_t hi = 0;

	if (!t->constructed && t->len >= 2) {
		for (size_t i = 0; i < t->len; i++)
			hi |= t->value[i];
		if (!(hi & 0x80)) {
			*last = t->value[t->len - 1];
			return LACRE_OK;
		}
	}
#endif
	return ber_get_oid(t, 0, NULL, 0, NULL, last);
}

#endif

/*
 * etsi_int.h - private helpers shared by lib/wire/etsi.c (PS-PDU envelope,
 * PSHeader, TRI, HI1, encryption container) and lib/wire/etsi_payload.c
 * (IRI and CC payloads and their contents).  Not a public API.
 *
 * Every helper reports a field error through etsi_dec_bad(), which marks
 * the PDU partial and keeps the first error and its offset: a bad field
 * never stops the decoding of its siblings.
 */
#ifndef LACRE_WIRE_ETSI_INT_H
#define LACRE_WIRE_ETSI_INT_H

#include <stdint.h>

#include "lacre/ber.h"
#include "lacre/buf.h"
#include "lacre/err.h"
#include "lacre/etsi.h"

/* Decoding context of one PDU. */
struct etsi_dec {
	const uint8_t *base;     /* first byte of the PDU (for error offsets) */
	struct etsi_pdu *pdu;    /* output being filled */
};

/* Mark the PDU partial; remember the first error and where it happened. */
void etsi_dec_bad(struct etsi_dec *d, const uint8_t *at, int err);
/* Start iterating the children of constructed element t: a checked
 * cursor over t's contents, as lacre_rbuf_init makes it (inline, with the
 * helpers below: the decoder calls them for every TLV, from two files). */
static inline void etsi_dec_children(const struct ber_tlv *t, struct lacre_rbuf *c)
{
	c->p = t->value;
	c->len = t->value ? t->len : 0;
	c->off = 0;
}
/* Report the ber_next() error r met at c's position; returns 0. */
int etsi_dec_next_failed(struct etsi_dec *d, struct lacre_rbuf *c, int r);

/* Next child of c into *x: 1 when there is one, 0 at the end or after an
 * error (reported through etsi_dec_bad).  Inline: called for every TLV. */
static inline int etsi_dec_next(struct etsi_dec *d, struct lacre_rbuf *c, struct ber_tlv *x,
				int depth)
{
	int r;

	if (c->off == c->len)
		return 0;
	if (depth <= 0)
		return etsi_dec_next_failed(d, c, LACRE_E_DEPTH);
	if ((r = ber_next_fast(c, x, depth)) != LACRE_OK)
		return etsi_dec_next_failed(d, c, r);
	return 1;
}
/* 1 when x is context-specific [tag], else 0. */
static inline int etsi_dec_ctx(const struct ber_tlv *x, uint32_t tag)
{
	return x->cls == BER_CONTEXT && x->tag == tag;
}
/* Require a constructed element: 0 if it is, else report and return -1. */
static inline int etsi_dec_need_cons(struct etsi_dec *d, const struct ber_tlv *x)
{
	if (x->constructed)
		return 0;
	etsi_dec_bad(d, x->value, LACRE_E_MALFORMED);
	return -1;
}
/* Count an element the decoder does not know. */
static inline void etsi_dec_unknown(struct etsi_dec *d)
{
	d->pdu->unknown_tags++;
}
/* The general forms of etsi_dec_enum and etsi_dec_bytes below (etsi.c),
 * for what their inlined commonest form does not cover. */
int etsi_dec_enum_any(struct etsi_dec *d, const struct ber_tlv *x, int *v);
int etsi_dec_bytes_cons(struct etsi_dec *d, const struct ber_tlv *x, struct etsi_bytes *b);

/* ENUMERATED / small INTEGER in 0..INT32_MAX into *v (untouched on
 * error).  Inline for a primitive element of 1..4 octets, the first below
 * 80 (a value in 0..INT32_MAX whatever the octets that follow): called
 * for most fields of every PDU.  LACRE_WIRE_REFERENCE: the general form
 * only. */
static inline int etsi_dec_enum(struct etsi_dec *d, const struct ber_tlv *x, int *v)
{
#ifndef LACRE_WIRE_REFERENCE
	if (!x->constructed && x->len - 1 < 4 && !(x->value[0] & 0x80)) {
		uint32_t u = 0;
		for (size_t i = 0; i < x->len; i++)
			u = u << 8 | x->value[i];
		*v = (int)u;
		return LACRE_OK;
	}
#endif
	return etsi_dec_enum_any(d, x, v);
}
/* Non-negative INTEGER into *v (untouched on error), inline. */
static inline int etsi_dec_uint(struct etsi_dec *d, const struct ber_tlv *x, uint64_t *v)
{
	int r;

	if ((r = ber_get_uint_fast(x, v)) != LACRE_OK)
		etsi_dec_bad(d, x->value, r);
	return r;
}
/* OCTET STRING (or any string type) into *b, accepting a constructed
 * string of one segment (counted in pdu->segmented).  Inline for the
 * primitive form every sender uses. */
static inline int etsi_dec_bytes(struct etsi_dec *d, const struct ber_tlv *x, struct etsi_bytes *b)
{
	if (x->constructed)
		return etsi_dec_bytes_cons(d, x, b);
	b->p = x->len ? x->value : NULL;
	b->len = x->len;
	return LACRE_OK;
}
/* GeneralizedTime into *us. */
int etsi_dec_gentime(struct etsi_dec *d, const struct ber_tlv *x, int64_t *us);
/* MicroSecondTimeStamp SEQUENCE { seconds [0], microSeconds [1] } into *us. */
int etsi_dec_usts(struct etsi_dec *d, const struct ber_tlv *x, int depth, int64_t *us);
/* timeStamp (style 1) or microSecondTimeStamp (style 2) into *us, *has
 * (1 or 2; a microsecond time is never replaced by a GeneralizedTime). */
void etsi_dec_time(struct etsi_dec *d, const struct ber_tlv *x, int style, int depth,
		   int64_t *us, int *has);
/* The alternative of an explicit CHOICE x (a constructed element holding
 * exactly one): 1 with *y set when it is context-specific with a tag up to
 * max_tag; else 0, reported (malformed when x is not constructed or empty,
 * an unknown element otherwise).  Elements after the alternative count as
 * unknown.  Inline: two per PDU (its payload and its contents). */
static inline int etsi_dec_choice(struct etsi_dec *d, const struct ber_tlv *x, int depth,
				  uint32_t max_tag, struct ber_tlv *y)
{
	struct lacre_rbuf c;

	if (etsi_dec_need_cons(d, x))
		return 0;
	etsi_dec_children(x, &c);
	if (!etsi_dec_next(d, &c, y, depth)) {
		etsi_dec_bad(d, x->value, LACRE_E_MALFORMED);
		return 0;
	}
	if (y->cls != BER_CONTEXT || y->tag > max_tag) {
		etsi_dec_unknown(d);
		return 0;
	}
	if (c.off < c.len)
		etsi_dec_unknown(d);
	return 1;
}

/* LI-PS-PDU IPAddress into *a. */
void etsi_dec_ipaddr(struct etsi_dec *d, const struct ber_tlv *x, int depth, struct etsi_ipaddr *a);

/* Replace the payload fields of pdu (kind .. mobile; PSHeader and enc
 * kept) with the decoding of the Payload CHOICE element x, which lies in
 * a decrypted EncryptedPayload starting at plain (for error offsets).
 * Used by etsi_crypt.c. */
void etsi_decode_inner_payload(struct etsi_pdu *pdu, const uint8_t *plain,
			       const struct ber_tlv *x);

/* Payload decoders of etsi_payload.c (x is the iRIPayloadSequence [0] or
 * cCPayloadSequence [1] element). */
void etsi_dec_iri_seq(struct etsi_dec *d, const struct ber_tlv *x, int depth);
void etsi_dec_cc_seq(struct etsi_dec *d, const struct ber_tlv *x, int depth);

#endif

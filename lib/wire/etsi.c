/*
 * etsi.c - ETSI TS 102 232-1 PS-PDU decoding: stream framing, the PS-PDU
 * envelope, the PSHeader, the payload dispatch, TRIPayload (keep-alives,
 * integrity checks, cINReset, operator messages, options...), HI1-Operation
 * notifications and the encryption container.  IRI and CC payloads are in
 * etsi_payload.c.  The rules are those of ../shared/spec/etsi-handover.md:
 *
 *   - decode by tag, never reject by version (13..43 and odd OIDs alike);
 *   - the outer SEQUENCE must be sound (tag 30, length = the bytes given):
 *     otherwise etsi_decode() fails and the caller resynchronises;
 *   - inside it, a field that does not decode marks the PDU partial (first
 *     error and its offset kept) and decoding goes on with its siblings;
 *   - unknown tags at any level are skipped and counted;
 *   - nothing is allocated and nothing is copied: struct etsi_pdu points
 *     into the caller's bytes.  The hot path (header + first payload) is a
 *     single pass over the TLVs;
 *   - accept and flag: a value a real mediator sends outside its ASN.1
 *     constraint is decoded to its nearest meaning and flagged (flags),
 *     never dropped (microSeconds = 1,000,000 is the next second).
 * An encryption container is described as such (encrypted, enc); the
 * decryptor (etsi_crypt.c) then decodes the decrypted Payload in its place
 * through etsi_decode_inner_payload().
 */
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lacre/ber.h"
#include "lacre/buf.h"
#include "lacre/err.h"
#include "lacre/etsi.h"
#include "wire/etsi_int.h"

/* ---- helpers shared with etsi_payload.c (see etsi_int.h) ---- */

/* Mark the PDU partial, keeping only the first error and its offset. */
void etsi_dec_bad(struct etsi_dec *d, const uint8_t *at, int err)
{
	struct etsi_pdu *p = d->pdu;

	if (!p->partial) {
		p->partial = 1;
		p->err = err;
		p->err_off = (size_t)(at - d->base);
	}
}

/* A child TLV that ber_next() refused (see etsi_dec_next in etsi_int.h):
 * report it as a field error; inside a complete PDU, running out of
 * bytes is a malformation, not an incomplete input. */
int etsi_dec_next_failed(struct etsi_dec *d, struct lacre_rbuf *c, int r)
{
	etsi_dec_bad(d, lacre_rbuf_ptr(c), r == LACRE_E_INCOMPLETE ? LACRE_E_MALFORMED : r);
	return 0;
}

/* ENUMERATED or small INTEGER in 0..INT32_MAX into *v; negative or
 * larger values are field errors (LACRE_E_RANGE), *v untouched.  Any
 * form (etsi_dec_enum in etsi_int.h inlines the commonest). */
int etsi_dec_enum_any(struct etsi_dec *d, const struct ber_tlv *x, int *v)
{
	int64_t i;
	int r;

	if ((r = ber_get_int(x, &i)) != LACRE_OK) {
		etsi_dec_bad(d, x->value, r);
		return r;
	}
	if (i < 0 || i > INT32_MAX) {
		etsi_dec_bad(d, x->value, LACRE_E_RANGE);
		return LACRE_E_RANGE;
	}
	*v = (int)i;
	return LACRE_OK;
}

/* A constructed OCTET STRING (or other string type) into *b, pointing
 * into the PDU (etsi_dec_bytes in etsi_int.h does the primitive form):
 * accepted when it holds one primitive segment, the only form that can
 * be pointed at without copying. */
int etsi_dec_bytes_cons(struct etsi_dec *d, const struct ber_tlv *x, struct etsi_bytes *b)
{
	struct lacre_rbuf c;
	struct ber_tlv seg;
	int r;

	d->pdu->segmented++;
	lacre_rbuf_init(&c, x->value, x->len);
	if (x->len == 0) {
		b->p = NULL;
		b->len = 0;
		return LACRE_OK;
	}
	if ((r = ber_next(&c, &seg, 1)) != LACRE_OK || seg.constructed ||
	    lacre_rbuf_left(&c) != 0) {
		r = r != LACRE_OK && r != LACRE_E_INCOMPLETE ? r : LACRE_E_UNSUPPORTED;
		etsi_dec_bad(d, x->value, r);
		return r;
	}
	b->p = seg.len ? seg.value : NULL;
	b->len = seg.len;
	return LACRE_OK;
}

/* GeneralizedTime into *us (Unix microseconds), or a field error. */
int etsi_dec_gentime(struct etsi_dec *d, const struct ber_tlv *x, int64_t *us)
{
	int r;

	if ((r = ber_get_gentime(x, us)) != LACRE_OK)
		etsi_dec_bad(d, x->value, r);
	return r;
}

/* MicroSecondTimeStamp { seconds [0], microSeconds [1] } into *us; both
 * fields are required and the sum must fit int64_t microseconds.  A
 * microSeconds of 1,000,000 or more is carried into the seconds and
 * flagged (ETSI_FLAG_USEC_CARRY), never refused. */
int etsi_dec_usts(struct etsi_dec *d, const struct ber_tlv *x, int depth, int64_t *us)
{
	struct lacre_rbuf c;
	struct ber_tlv y;
	uint64_t sec = 0, usec = 0;
	int have_s = 0, have_us = 0;

	if (etsi_dec_need_cons(d, x))
		return LACRE_E_MALFORMED;
	etsi_dec_children(x, &c);
	while (etsi_dec_next(d, &c, &y, depth)) {
		if (etsi_dec_ctx(&y, 0))
			have_s = etsi_dec_uint(d, &y, &sec) == LACRE_OK;
		else if (etsi_dec_ctx(&y, 1))
			have_us = etsi_dec_uint(d, &y, &usec) == LACRE_OK;
		else
			etsi_dec_unknown(d);
	}
	if (!have_s || !have_us) {
		etsi_dec_bad(d, x->value, LACRE_E_MALFORMED);
		return LACRE_E_MALFORMED;
	}
	/* accept and flag: microSeconds is INTEGER (0..999999), but real
	 * mediators round up to 1,000,000; the nearest meaning of any larger
	 * value is the carry into the seconds */
	if (usec > 999999) {
		if (usec / 1000000u > UINT32_MAX) {
			etsi_dec_bad(d, x->value, LACRE_E_RANGE);
			return LACRE_E_RANGE;
		}
		sec += usec / 1000000u;
		usec %= 1000000u;
		d->pdu->flags |= ETSI_FLAG_USEC_CARRY;
	}
	if (sec > (uint64_t)(INT64_MAX - 999999) / 1000000u) {
		etsi_dec_bad(d, x->value, LACRE_E_RANGE);
		return LACRE_E_RANGE;
	}
	*us = (int64_t)sec * 1000000 + (int64_t)usec;
	return LACRE_OK;
}

/* A timeStamp (GeneralizedTime, style 1) or microSecondTimeStamp (style
 * 2) into *us and *has (1 or 2); a microsecond time is never replaced by a
 * GeneralizedTime one.  Used by the PSHeader and the IRI and CC payloads. */
void etsi_dec_time(struct etsi_dec *d, const struct ber_tlv *x, int style, int depth,
		   int64_t *us, int *has)
{
	int64_t t;

	if (style == 1) {
		if (etsi_dec_gentime(d, x, &t) == LACRE_OK && *has != 2) {
			*us = t;
			*has = 1;
		}
	} else if (etsi_dec_usts(d, x, depth, &t) == LACRE_OK) {
		*us = t;
		*has = 2;
	}
}

/* LI-PS-PDU IPAddress { iP-type [1], iP-value [2] CHOICE, iP-assignment
 * [3], iPv6PrefixLength [4], iPv4SubnetMask [5], ... } into *a. */
void etsi_dec_ipaddr(struct etsi_dec *d, const struct ber_tlv *x, int depth, struct etsi_ipaddr *a)
{
	struct lacre_rbuf c, c2;
	struct ber_tlv y, v;
	uint64_t u;

	if (etsi_dec_need_cons(d, x))
		return;
	a->present = 1;
	etsi_dec_children(x, &c);
	while (etsi_dec_next(d, &c, &y, depth)) {
		if (y.cls != BER_CONTEXT) {
			etsi_dec_unknown(d);
			continue;
		}
		switch (y.tag) {
		case 1:
			etsi_dec_enum(d, &y, &a->type);
			break;
		case 2: /* IP-value: explicit CHOICE */
			if (etsi_dec_need_cons(d, &y))
				break;
			etsi_dec_children(&y, &c2);
			while (etsi_dec_next(d, &c2, &v, depth - 1)) {
				if (etsi_dec_ctx(&v, 1))
					etsi_dec_bytes(d, &v, &a->bin);
				else if (etsi_dec_ctx(&v, 2))
					etsi_dec_bytes(d, &v, &a->text);
				else
					etsi_dec_unknown(d);
			}
			break;
		case 3:
			etsi_dec_enum(d, &y, &a->assignment);
			break;
		case 4:
			if (etsi_dec_uint(d, &y, &u) == LACRE_OK) {
				if (u > 128)
					etsi_dec_bad(d, y.value, LACRE_E_RANGE);
				else
					a->prefix_len = (int)u;
			}
			break;
		case 5:
			etsi_dec_bytes(d, &y, &a->v4_mask);
			break;
		default:
			etsi_dec_unknown(d);
		}
	}
}

/* ---- PSHeader ---- */

/*
 * A PrintableString (SIZE(2)) country code into out[3]; anything else is a
 * field error and leaves out empty.  Inline: two in every PSHeader.
 */
static inline void dec_country(struct etsi_dec *d, const struct ber_tlv *x, char out[3])
{
	struct etsi_bytes b = { NULL, 0 };

	if (etsi_dec_bytes(d, x, &b) != LACRE_OK)
		return;
	if (b.len != 2 || b.p[0] < 0x20 || b.p[0] > 0x7e || b.p[1] < 0x20 || b.p[1] > 0x7e) {
		etsi_dec_bad(d, x->value, LACRE_E_MALFORMED);
		return;
	}
	out[0] = (char)b.p[0];
	out[1] = (char)b.p[1];
	out[2] = '\0';
}

/* An INTEGER (0..4294967295) into *v; a field error otherwise. */
static int dec_u32(struct etsi_dec *d, const struct ber_tlv *x, uint32_t *v)
{
	uint64_t u;

	if (etsi_dec_uint(d, x, &u) != LACRE_OK)
		return -1;
	if (u > UINT32_MAX) {
		etsi_dec_bad(d, x->value, LACRE_E_RANGE);
		return -1;
	}
	*v = (uint32_t)u;
	return 0;
}

/* NetworkIdentifier { operatorIdentifier [0], networkElementIdentifier [1], ... }.
 * Inline: in every PSHeader. */
static inline void dec_netid(struct etsi_dec *d, const struct ber_tlv *x, int depth,
			     struct etsi_bytes *op, struct etsi_bytes *ne)
{
	struct lacre_rbuf c;
	struct ber_tlv y;

	if (etsi_dec_need_cons(d, x))
		return;
	etsi_dec_children(x, &c);
	while (etsi_dec_next(d, &c, &y, depth)) {
		if (etsi_dec_ctx(&y, 0))
			etsi_dec_bytes(d, &y, op);
		else if (etsi_dec_ctx(&y, 1))
			etsi_dec_bytes(d, &y, ne);
		else if (!etsi_dec_ctx(&y, 2))   /* eTSI671NEID: known, not indexed */
			etsi_dec_unknown(d);
	}
}

/* CommunicationIdentifier { networkIdentifier [0], CIN [1], deliveryCountryCode [2], ... }. */
static void dec_commid(struct etsi_dec *d, const struct ber_tlv *x, int depth)
{
	struct etsi_pdu *p = d->pdu;
	struct lacre_rbuf c;
	struct ber_tlv y;

	if (etsi_dec_need_cons(d, x))
		return;
	etsi_dec_children(x, &c);
	while (etsi_dec_next(d, &c, &y, depth)) {
		if (etsi_dec_ctx(&y, 0))
			dec_netid(d, &y, depth - 1, &p->operator_id, &p->network_element_id);
		else if (etsi_dec_ctx(&y, 1))
			p->has_cin = dec_u32(d, &y, &p->cin) == 0;
		else if (etsi_dec_ctx(&y, 2))
			dec_country(d, &y, p->delivery_country);
		else if (!etsi_dec_ctx(&y, 3))   /* cINExtension: known, not indexed */
			etsi_dec_unknown(d);
	}
}

/* PSHeader: every field by its tag (spec §4.2). */
static void dec_header(struct etsi_dec *d, const struct ber_tlv *x, int depth)
{
	struct etsi_pdu *p = d->pdu;
	struct lacre_rbuf c;
	struct ber_tlv y;
	int have_liid = 0, have_comm = 0;
	uint64_t u;
	uint64_t last;

	if (etsi_dec_need_cons(d, x))
		return;
	etsi_dec_children(x, &c);
	while (etsi_dec_next(d, &c, &y, depth)) {
		if (y.cls != BER_CONTEXT) {
			etsi_dec_unknown(d);
			continue;
		}
		switch (y.tag) {
		case 0:
			p->domain_id.p = y.value;
			p->domain_id.len = y.len;
			if (ber_get_oid_last(&y, &last) != LACRE_OK)
				etsi_dec_bad(d, y.value, LACRE_E_MALFORMED);
			else
				p->domain_version = last > UINT32_MAX ? 0 : (uint32_t)last;
			break;
		case 1:
			have_liid = etsi_dec_bytes(d, &y, &p->liid) == LACRE_OK;
			break;
		case 2:
			dec_country(d, &y, p->auth_country);
			break;
		case 3:
			have_comm = 1;
			dec_commid(d, &y, depth - 1);
			break;
		case 4:
			if (etsi_dec_uint(d, &y, &u) == LACRE_OK) {
				if (u > UINT32_MAX) {
					etsi_dec_bad(d, y.value, LACRE_E_RANGE);
				} else {
					p->seq = u;
					p->has_seq = 1;
				}
			}
			break;
		case 5:
			etsi_dec_time(d, &y, 1, 0, &p->time_us, &p->has_time);
			break;
		case 6:
			etsi_dec_bytes(d, &y, &p->interception_point_id);
			break;
		case 7:
			etsi_dec_time(d, &y, 2, depth - 1, &p->time_us, &p->has_time);
			break;
		case 8:
			etsi_dec_enum(d, &y, &p->ts_qualifier);
			break;
		case 9:
			etsi_dec_bytes(d, &y, &p->ext_interception_point_id);
			break;
		case 10:
			etsi_dec_bytes(d, &y, &p->network_function_id);
			break;
		default:
			etsi_dec_unknown(d);
		}
	}
	/* mandatory fields */
	if (!have_liid || !have_comm || !p->has_seq)
		etsi_dec_bad(d, x->value, LACRE_E_MALFORMED);
}

/* ---- TRIPayload ---- */

/*
 * Count and validate the INTEGERs of includedSequenceNumbers; unwrap the
 * extra SEQUENCE older OpenLI builds put around them.
 */
static void dec_seq_list(struct etsi_dec *d, const struct ber_tlv *x, int depth,
			 struct etsi_integrity *ic)
{
	struct lacre_rbuf c;
	struct ber_tlv y;
	uint64_t u;
	const struct ber_tlv *list = x;

	if (etsi_dec_need_cons(d, x))
		return;
	etsi_dec_children(x, &c);
	/* legacy form: [0] { SEQUENCE { INTEGER ... } } */
	if (lacre_rbuf_left(&c) > 0) {
		struct lacre_rbuf peek = c;
		if (ber_next(&peek, &y, depth) == LACRE_OK && y.cls == BER_UNIVERSAL &&
		    y.tag == 16 && y.constructed && lacre_rbuf_left(&peek) == 0) {
			ic->legacy_nested = 1;
			list = &y;
			etsi_dec_children(&y, &c);
		}
	}
	ic->seq_list.p = list->len ? list->value : NULL;
	ic->seq_list.len = list->len;
	while (etsi_dec_next(d, &c, &y, depth)) {
		if (y.cls != BER_UNIVERSAL || y.tag != 2) {
			etsi_dec_bad(d, y.value, LACRE_E_UNEXPECTED);
			continue;
		}
		if (etsi_dec_uint(d, &y, &u) != LACRE_OK)
			continue;
		if (u > UINT32_MAX) {
			etsi_dec_bad(d, y.value, LACRE_E_RANGE);
			continue;
		}
		ic->n_seqs++;
	}
}

/* IntegrityCheck (spec §8.1). */
static void dec_integrity(struct etsi_dec *d, const struct ber_tlv *x, int depth)
{
	struct etsi_pdu *p = d->pdu;
	struct etsi_integrity *ic = &p->integrity;
	struct lacre_rbuf c;
	struct ber_tlv y;

	ic->tlv.p = x->value - x->hdr_len;
	ic->tlv.len = x->total;
	if (etsi_dec_need_cons(d, x))
		return;
	etsi_dec_children(x, &c);
	while (etsi_dec_next(d, &c, &y, depth)) {
		if (y.cls != BER_CONTEXT) {
			etsi_dec_unknown(d);
			continue;
		}
		switch (y.tag) {
		case 0: dec_seq_list(d, &y, depth - 1, ic); break;
		case 1: etsi_dec_enum(d, &y, &ic->check_type); break;
		case 2: etsi_dec_enum(d, &y, &ic->data_type); break;
		case 3: etsi_dec_bytes(d, &y, &ic->check_value); break;
		case 4: etsi_dec_enum(d, &y, &ic->hash_alg); break;
		case 5: etsi_dec_enum(d, &y, &ic->sig_alg); break;
		default: etsi_dec_unknown(d);
		}
	}
	if (ic->check_type == 1)
		p->content = "hash";
	else if (ic->check_type == 2)
		p->content = "signature";
	if (!ic->tlv.len || ic->check_type < 0 || !ic->check_value.p)
		etsi_dec_bad(d, x->value, LACRE_E_MALFORMED);
}

/* operatorLeaMessage { messagePriority [0], message [1], ... }. */
static void dec_opmsg(struct etsi_dec *d, const struct ber_tlv *x, int depth)
{
	struct etsi_opmsg *m = &d->pdu->opmsg;
	struct lacre_rbuf c;
	struct ber_tlv y;

	if (etsi_dec_need_cons(d, x))
		return;
	etsi_dec_children(x, &c);
	while (etsi_dec_next(d, &c, &y, depth)) {
		if (etsi_dec_ctx(&y, 0))
			etsi_dec_enum(d, &y, &m->priority);
		else if (etsi_dec_ctx(&y, 1))
			etsi_dec_bytes(d, &y, &m->message);
		else
			etsi_dec_unknown(d);
	}
}

/* TRIPayload: an explicit CHOICE; the alternative's tag is the TRI kind. */
static void dec_tri(struct etsi_dec *d, const struct ber_tlv *x, int depth)
{
	struct etsi_pdu *p = d->pdu;
	struct ber_tlv y;

	if (!etsi_dec_choice(d, x, depth, 13, &y))
		return;
	p->tri = (int)y.tag;
	switch (y.tag) {
	case ETSI_TRI_INTEGRITY:
		p->kind = ETSI_KIND_INTEGRITY_CHECK;
		dec_integrity(d, &y, depth - 1);
		break;
	case ETSI_TRI_KEEPALIVE:
		p->kind = ETSI_KIND_KEEPALIVE;
		break;
	case ETSI_TRI_KEEPALIVE_RESPONSE:
		p->kind = ETSI_KIND_KEEPALIVE_RESPONSE;
		break;
	case ETSI_TRI_PADDING:
		etsi_dec_bytes(d, &y, &p->content_bytes);
		break;
	case ETSI_TRI_OPERATOR_MESSAGE:
		dec_opmsg(d, &y, depth - 1);
		break;
	default:
		break;
	}
}

/* ---- HI1-Operation (spec §11.1) ---- */

/* HI2Operations CommunicationIdentifier inside a Notification. */
static void dec_hi1_commid(struct etsi_dec *d, const struct ber_tlv *x, int depth)
{
	struct etsi_hi1 *h = &d->pdu->hi1;
	struct lacre_rbuf c;
	struct ber_tlv y;

	if (etsi_dec_need_cons(d, x))
		return;
	etsi_dec_children(x, &c);
	while (etsi_dec_next(d, &c, &y, depth)) {
		if (etsi_dec_ctx(&y, 0))
			etsi_dec_bytes(d, &y, &h->cin);
		else if (etsi_dec_ctx(&y, 1))
			dec_netid(d, &y, depth - 1, &h->operator_id, &h->network_element_id);
		else
			etsi_dec_unknown(d);
	}
}

/* HI2Operations TimeStamp CHOICE { localTime [0], utcTime [1] UTCTime }. */
static void dec_hi1_time(struct etsi_dec *d, const struct ber_tlv *x, int depth)
{
	struct etsi_hi1 *h = &d->pdu->hi1;
	struct lacre_rbuf c, c2;
	struct ber_tlv y, z;
	int64_t t;
	int r;

	if (etsi_dec_need_cons(d, x))
		return;
	etsi_dec_children(x, &c);
	while (etsi_dec_next(d, &c, &y, depth)) {
		if (etsi_dec_ctx(&y, 1)) {
			if ((r = ber_get_utctime(&y, &t)) != LACRE_OK) {
				etsi_dec_bad(d, y.value, r);
				continue;
			}
			h->time_us = t;
			h->has_time = 1;
		} else if (etsi_dec_ctx(&y, 0) && y.constructed) {
			/* LocalTimeStamp { generalizedTime [0], winterSummerIndication [1] } */
			etsi_dec_children(&y, &c2);
			while (etsi_dec_next(d, &c2, &z, depth - 1)) {
				if (etsi_dec_ctx(&z, 0) && etsi_dec_gentime(d, &z, &t) == LACRE_OK) {
					h->time_us = t;
					h->has_time = 2;
				}
			}
		} else {
			etsi_dec_unknown(d);
		}
	}
}

/* HI1-Operation: explicit CHOICE of Notification alternatives. */
static void dec_hi1(struct etsi_dec *d, const struct ber_tlv *x, int depth)
{
	struct etsi_hi1 *h = &d->pdu->hi1;
	struct lacre_rbuf c;
	struct ber_tlv n, y;

	d->pdu->kind = ETSI_KIND_HI1;
	if (etsi_dec_need_cons(d, x))
		return;
	etsi_dec_children(x, &c);
	if (!etsi_dec_next(d, &c, &n, depth)) {
		etsi_dec_bad(d, x->value, LACRE_E_MALFORMED);
		return;
	}
	if (n.cls != BER_CONTEXT) {
		etsi_dec_unknown(d);
		return;
	}
	h->op = (int)n.tag;
	if (n.tag < 1 || n.tag > 3 || !n.constructed)
		return;   /* alarms and national parameters: kept raw */
	etsi_dec_children(&n, &c);
	while (etsi_dec_next(d, &c, &y, depth - 1)) {
		if (y.cls != BER_CONTEXT) {
			etsi_dec_unknown(d);
			continue;
		}
		switch (y.tag) {
		case 0:
			h->domain_id.p = y.value;
			h->domain_id.len = y.len;
			break;
		case 1: etsi_dec_bytes(d, &y, &h->liid); break;
		case 2: dec_hi1_commid(d, &y, depth - 2); break;
		case 3: dec_hi1_time(d, &y, depth - 2); break;
		case 5: break;
		case 6: etsi_dec_bytes(d, &y, &h->target_info); break;
		default: etsi_dec_unknown(d);
		}
	}
}

/* ---- EncryptionContainer (spec §9) ---- */

static void dec_encryption(struct etsi_dec *d, const struct ber_tlv *x, int depth)
{
	struct etsi_encryption *e = &d->pdu->enc;
	struct lacre_rbuf c;
	struct ber_tlv y;

	if (etsi_dec_need_cons(d, x))
		return;
	etsi_dec_children(x, &c);
	while (etsi_dec_next(d, &c, &y, depth)) {
		if (etsi_dec_ctx(&y, 0)) {
			if (etsi_dec_enum(d, &y, &e->type) == LACRE_OK) {
				e->type_value.p = y.value;
				e->type_value.len = y.len;
			}
		} else if (etsi_dec_ctx(&y, 1)) {
			etsi_dec_bytes(d, &y, &e->payload);
		} else if (etsi_dec_ctx(&y, 2)) {
			etsi_dec_enum(d, &y, &e->payload_type);
		} else {
			etsi_dec_unknown(d);
		}
	}
	if (e->type < 0 || !e->payload.p)
		etsi_dec_bad(d, x->value, LACRE_E_MALFORMED);
}

/* ---- Payload ---- */

/* Payload: an explicit CHOICE; dispatch on the alternative's tag. */
static void dec_payload(struct etsi_dec *d, const struct ber_tlv *x, int depth)
{
	struct etsi_pdu *p = d->pdu;
	struct ber_tlv y;

	if (!etsi_dec_choice(d, x, depth, 7, &y))
		return;
	p->payload = (int)y.tag;
	switch (y.tag) {
	case ETSI_PAYLOAD_IRI:
		p->kind = ETSI_KIND_IRI;
		etsi_dec_iri_seq(d, &y, depth - 1);
		break;
	case ETSI_PAYLOAD_CC:
		p->kind = ETSI_KIND_CC;
		etsi_dec_cc_seq(d, &y, depth - 1);
		break;
	case ETSI_PAYLOAD_TRI:
		dec_tri(d, &y, depth - 1);
		break;
	case ETSI_PAYLOAD_HI1:
		dec_hi1(d, &y, depth - 1);
		break;
	case ETSI_PAYLOAD_ENCRYPTED:
		p->encrypted = 1;
		dec_encryption(d, &y, depth - 1);
		break;
	case ETSI_PAYLOAD_3GPP_HI1:
		/* the 3GPP variant of HI1-Operation: an HI1 notification,
		 * kept as opaque bytes (its module is not decoded) */
		p->kind = ETSI_KIND_HI1;
		p->content_bytes.p = y.len ? y.value : NULL;
		p->content_bytes.len = y.len;
		break;
	default:
		/* ILHI, HI4: kept as opaque bytes */
		p->content_bytes.p = y.len ? y.value : NULL;
		p->content_bytes.len = y.len;
		break;
	}
}

/* ---- public API ---- */

/*
 * Frame one PS-PDU at the start of a stream buffer (see etsi.h).  Checks
 * the first octet before anything else, so a stream out of sync is
 * reported at once, and the declared size against max as soon as the
 * length octets are in, before the bytes arrive.
 */
int etsi_pdu_size(const uint8_t *p, size_t n, size_t max, size_t *pdu_len)
{
	size_t total;
	int r;

	if (n == 0)
		return LACRE_E_INCOMPLETE;
	if (p[0] != 0x30)
		return LACRE_E_MALFORMED;
	if ((r = ber_element_size(p, n, max, &total)) != LACRE_OK)
		return r;
	/* success only when the whole PDU is there: callers decode p[0..total) */
	if (total > n)
		return LACRE_E_INCOMPLETE;
	*pdu_len = total;
	return LACRE_OK;
}

/* The "absent" values of the payload fields (kind .. mobile) of a zeroed
 * struct etsi_pdu: -1 for enumerations, so that 0 is never mistaken for a
 * decoded value. */
static void payload_defaults(struct etsi_pdu *out)
{
	out->payload = ETSI_PAYLOAD_NONE;
	out->tri = ETSI_TRI_NONE;
	out->direction = ETSI_DIR_NONE;
	out->session_direction = ETSI_DIR_NONE;
	out->content_tag = -1;
	out->ipmmiri.alt = -1;
	out->ipmmiri.src.type = out->ipmmiri.dst.type = -1;
	out->ipmmiri.src.assignment = out->ipmmiri.dst.assignment = -1;
	out->ipmmiri.src.prefix_len = out->ipmmiri.dst.prefix_len = -1;
	out->ipmmcc.frame_type = out->ipmmcc.protocol = -1;
	out->ipiri.access_event = out->ipiri.access_type = -1;
	out->ipiri.ip_version = out->ipiri.end_reason = out->ipiri.auth_type = -1;
	out->ipiri.target_ip.type = out->ipiri.additional_ip.type = out->ipiri.pop_ip.type = -1;
	out->ipiri.target_ip.assignment = out->ipiri.additional_ip.assignment = -1;
	out->ipiri.pop_ip.assignment = -1;
	out->ipiri.target_ip.prefix_len = out->ipiri.additional_ip.prefix_len = -1;
	out->ipiri.pop_ip.prefix_len = -1;
	out->integrity.check_type = out->integrity.data_type = -1;
	out->integrity.hash_alg = out->integrity.sig_alg = -1;
	out->opmsg.priority = -1;
	out->hi1.op = -1;
	out->enc.type = out->enc.payload_type = -1;
	out->mobile.record = out->mobile.event = out->mobile.initiator = -1;
	out->mobile.bearer_type = out->mobile.rat = -1;
	out->mobile.pdp_addr.type = out->mobile.gw_addr.type = -1;
	out->mobile.pdp_addr.assignment = out->mobile.gw_addr.assignment = -1;
	out->mobile.pdp_addr.prefix_len = out->mobile.gw_addr.prefix_len = -1;
}

/*
 * Decode one complete PS-PDU (see etsi.h).  The outer SEQUENCE is checked
 * first and fails the call; from then on the call succeeds and field
 * errors only set out->partial.
 */
int etsi_decode(const uint8_t *p, size_t n, struct etsi_pdu *out)
{
	struct lacre_rbuf b, c;
	struct ber_tlv outer, y;
	struct etsi_dec d;
	int have_hdr = 0, have_payload = 0, r;
	const int depth = BER_MAX_DEPTH;

	lacre_rbuf_init(&b, p, n);
	if ((r = ber_next_fast(&b, &outer, depth)) != LACRE_OK)
		return r;
	if (outer.cls != BER_UNIVERSAL || outer.tag != 16 || !outer.constructed)
		return LACRE_E_MALFORMED;
	if (lacre_rbuf_left(&b) != 0)
		return LACRE_E_TRAILING;

	memset(out, 0, sizeof(*out));
	out->ts_qualifier = -1;
	payload_defaults(out);

	d.base = p;
	d.pdu = out;
	etsi_dec_children(&outer, &c);
	while (etsi_dec_next(&d, &c, &y, depth - 1)) {
		if (etsi_dec_ctx(&y, 1) && !have_hdr) {
			have_hdr = 1;
			out->header_tlv.p = y.value - y.hdr_len;
			out->header_tlv.len = y.total;
			dec_header(&d, &y, depth - 2);
		} else if (etsi_dec_ctx(&y, 2) && !have_payload) {
			have_payload = 1;
			dec_payload(&d, &y, depth - 2);
		} else {
			etsi_dec_unknown(&d);
		}
	}
	if (!have_hdr || !have_payload)
		etsi_dec_bad(&d, outer.value, LACRE_E_MALFORMED);
	return LACRE_OK;
}

/*
 * Decode the Payload CHOICE element x (found in a decrypted
 * EncryptedPayload at plain[0..n)) into pdu, replacing the payload fields
 * (kind .. mobile) and keeping the PSHeader and the container (enc).
 * Field errors count from plain (err_in_plaintext).  See etsi_int.h.
 */
void etsi_decode_inner_payload(struct etsi_pdu *pdu, const uint8_t *plain,
			       const struct ber_tlv *x)
{
	struct etsi_encryption enc = pdu->enc;
	struct etsi_dec d;
	size_t from = offsetof(struct etsi_pdu, kind);
	size_t to = offsetof(struct etsi_pdu, unknown_tags);
	int was_partial = pdu->partial;

	memset((uint8_t *)pdu + from, 0, to - from);
	payload_defaults(pdu);
	pdu->enc = enc;
	d.base = plain;
	d.pdu = pdu;
	dec_payload(&d, x, BER_MAX_DEPTH - 2);
	if (!was_partial && pdu->partial)
		pdu->err_in_plaintext = 1;
}

/* Start iterating an integrity check's sequence numbers (see etsi.h). */
void etsi_seq_iter(const struct etsi_integrity *ic, struct lacre_rbuf *it)
{
	lacre_rbuf_init(it, ic->seq_list.p, ic->seq_list.len);
}

/* Next sequence number: 1 with *seq set, 0 at the end, or an error. */
int etsi_seq_next(struct lacre_rbuf *it, uint64_t *seq)
{
	struct ber_tlv y;
	uint64_t u;
	int r;

	if (lacre_rbuf_left(it) == 0)
		return 0;
	if ((r = ber_next(it, &y, 1)) != LACRE_OK)
		return r == LACRE_E_INCOMPLETE ? LACRE_E_MALFORMED : r;
	if (y.cls != BER_UNIVERSAL || y.tag != 2)
		return LACRE_E_UNEXPECTED;
	if ((r = ber_get_uint(&y, &u)) != LACRE_OK)
		return r;
	if (u > UINT32_MAX)
		return LACRE_E_RANGE;
	*seq = u;
	return 1;
}

/* ---- names ---- */

/* Name of a table entry, or NULL when i is outside it or the slot is empty. */
static const char *name_of(const char *const *tab, size_t n, int i)
{
	if (i < 0 || (size_t)i >= n)
		return NULL;
	return tab[i];
}

#define NAME_OF(tab, i) name_of(tab, sizeof(tab) / sizeof(tab[0]), i)

/* Names of enumeration values for JSON and logs (see etsi.h). */
const char *etsi_kind_name(int kind)
{
	static const char *const t[] = { "other", "iri", "cc", "keepalive",
		"keepalive-response", "integrity-check", "hi1" };
	return NAME_OF(t, kind);
}

const char *etsi_payload_name(int payload)
{
	static const char *const t[] = { "iri", "cc", "tri", "hi1",
		"encryption-container", "3gpp-hi1", "ilhi", "hi4" };
	return NAME_OF(t, payload);
}

const char *etsi_tri_name(int tri)
{
	static const char *const t[] = { "integrity-check", "test", "padding",
		"keepalive", "keepalive-response", "first-segment", "last-segment",
		"cin-reset", "operator-message", "option-request", "option-response",
		"option-complete", "ack-request", "ack-response" };
	return NAME_OF(t, tri);
}

const char *etsi_iri_type_name(int iri_type)
{
	static const char *const t[] = { NULL, "begin", "end", "continue", "report" };
	return NAME_OF(t, iri_type);
}

const char *etsi_direction_name(int dir)
{
	static const char *const t[] = { "from-target", "to-target",
		"indeterminate", "combined", "not-applicable" };
	return NAME_OF(t, dir);
}

const char *etsi_iri_content_name(int tag)
{
	static const char *const t[] = { NULL, "emailiri", "ipiri", "ipirionly",
		"umtsiri", "etsi671iri", "l2iri", "l2irionly",
		"targetactivitymonitor-1", "targetactivitymonitor-2", "pstnisdniri",
		"ipmmiri", NULL, NULL, "messagingiri", "epsiri", "confiri",
		"proseiri", "gcseiri", "threegpp33128definediri", "ipiripacketreport" };
	return NAME_OF(t, tag);
}

/* Name of one ETSI_FLAG_* bit (see etsi.h). */
const char *etsi_flag_name(unsigned flag)
{
	switch (flag) {
	case ETSI_FLAG_USEC_CARRY: return "microseconds-carried";
	case ETSI_FLAG_KEY_OUTSIDE_WINDOW: return "key-outside-validity-window";
	default: return NULL;
	}
}

/* Location presence of an IRI for legal rule L2 (see etsi.h): exact for
 * the contents lacre decodes, -1 ("cannot tell") for the others. */
int etsi_iri_location(const struct etsi_pdu *pdu)
{
	if (pdu->kind != ETSI_KIND_IRI)
		return -1;
	switch (pdu->content_tag) {
	case ETSI_IRI_IPIRI:
		return pdu->ipiri.has_location != 0;
	case ETSI_IRI_IPMMIRI:
		return pdu->ipmmiri.has_location != 0;
	case ETSI_IRI_EPSIRI:
	case ETSI_IRI_UMTSIRI:
		if (!pdu->mobile.family || pdu->mobile.has_location < 0)
			return -1;
		return pdu->mobile.has_location != 0;
	case ETSI_IRI_3GPP33128:
		if (pdu->mobile.family != 3 || pdu->mobile.has_location < 0)
			return -1;
		return pdu->mobile.has_location != 0;
	default:
		return -1;
	}
}

const char *etsi_cc_content_name(int tag)
{
	static const char *const t[] = { NULL, "emailcc", "ipcc", NULL, "umtscc",
		NULL, "l2cc", "ttraffic-1", "cttraffic-1", "ttraffic-2",
		"cttraffic-2", "pstnisdncc", "ipmmcc", NULL, "messagingcc", "epscc",
		"umtscc-cc-pdu", "epscc-cc-pdu", "messagingmmcc", "confcc-cc-pdu",
		"voipcc-cc-pdu", "gcsecc-cc-pdu", "csvoice-cc-pdu",
		"threegpp33128definedcc" };
	return NAME_OF(t, tag);
}

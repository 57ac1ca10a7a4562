/*
 * etsi_payload.c - IRI and CC payloads of a PS-PDU (TS 102 232-1 IRIPayload
 * and CCPayload) and the contents lacre indexes: IPIRI and IPCC (TS 102
 * 232-3), IPMMIRI with its SIP message and IPMMCC with its RTP frame (TS 102
 * 232-5), mobile IRI (EPS and UMTS IRI-Parameters of TS 33.108, as OpenLI
 * emits them from GTPv2), and the 3GPP TS 33.128 containers, kept as
 * opaque octets with their payload OID, an xIRI's event, identities and
 * whether it carries a location (spec/etsi-handover.md §4.4, §4.5, §10).
 *
 * Only the first payload of an aggregated SEQUENCE OF is decoded in depth;
 * the others are framed and counted (n_payloads), which is what ingest
 * needs and keeps the hot path to one pass.  Other content alternatives
 * are recognised by tag, named, and their contents exposed raw in
 * content_bytes.
 */
#include <stdint.h>
#include <string.h>

#include "lacre/ber.h"
#include "lacre/buf.h"
#include "lacre/err.h"
#include "lacre/etsi.h"
#include "wire/etsi_int.h"

/* Point b at a primitive element's contents (or report a bad form). */
static void dec_oid(struct etsi_dec *d, const struct ber_tlv *x, struct etsi_bytes *b)
{
	if (x->constructed || x->len == 0) {
		etsi_dec_bad(d, x->value, LACRE_E_MALFORMED);
		return;
	}
	b->p = x->value;
	b->len = x->len;
}

/* ---- IP access (TS 102 232-3) ---- */

/* IPIRIContents: every field by tag (spec §10.1). */
static void dec_ipiri_contents(struct etsi_dec *d, const struct ber_tlv *x, int depth)
{
	struct etsi_ipiri *ip = &d->pdu->ipiri;
	struct lacre_rbuf c;
	struct ber_tlv y;

	if (etsi_dec_need_cons(d, x))
		return;
	etsi_dec_children(x, &c);
	while (etsi_dec_next(d, &c, &y, depth)) {
		if (y.cls != BER_CONTEXT) {
			etsi_dec_unknown(d);
			continue;
		}
		switch (y.tag) {
		case 0: etsi_dec_enum(d, &y, &ip->access_event); break;
		case 1: etsi_dec_bytes(d, &y, &ip->username); break;
		case 2: etsi_dec_enum(d, &y, &ip->access_type); break;
		case 3: etsi_dec_enum(d, &y, &ip->ip_version); break;
		case 4: etsi_dec_ipaddr(d, &y, depth - 1, &ip->target_ip); break;
		case 5: etsi_dec_bytes(d, &y, &ip->network_id); break;
		case 6: etsi_dec_bytes(d, &y, &ip->cpe_id); break;
		case 7:
			ip->has_location = 1;
			etsi_dec_bytes(d, &y, &ip->location_text);
			break;
		case 8: case 9: case 17: case 18: case 20: case 23: case 25: case 26:
			break;   /* known, not indexed */
		case 10:
			ip->has_start = etsi_dec_gentime(d, &y, &ip->start_us) == LACRE_OK;
			break;
		case 11:
			ip->has_end = etsi_dec_gentime(d, &y, &ip->end_us) == LACRE_OK;
			break;
		case 12: etsi_dec_enum(d, &y, &ip->end_reason); break;
		case 13:
			ip->has_octets_rx = etsi_dec_uint(d, &y, &ip->octets_rx) == LACRE_OK;
			break;
		case 14:
			ip->has_octets_tx = etsi_dec_uint(d, &y, &ip->octets_tx) == LACRE_OK;
			break;
		case 15: etsi_dec_bytes(d, &y, &ip->raw_aaa); break;
		case 16: break;
		case 19: etsi_dec_ipaddr(d, &y, depth - 1, &ip->pop_ip); break;
		case 21: etsi_dec_ipaddr(d, &y, depth - 1, &ip->additional_ip); break;
		case 22: etsi_dec_enum(d, &y, &ip->auth_type); break;
		case 24:
			ip->has_location = 1;
			if (y.constructed) {
				ip->location.p = y.value;
				ip->location.len = y.len;
			}
			break;
		default: etsi_dec_unknown(d);
		}
	}
	if (ip->access_event < 0)
		etsi_dec_bad(d, x->value, LACRE_E_MALFORMED);
}

/* IPIRI { iPIRIObjId [0], iPIRIContents [1] }. */
static void dec_ipiri(struct etsi_dec *d, const struct ber_tlv *x, int depth)
{
	struct lacre_rbuf c;
	struct ber_tlv y;
	int have = 0;

	if (etsi_dec_need_cons(d, x))
		return;
	etsi_dec_children(x, &c);
	while (etsi_dec_next(d, &c, &y, depth)) {
		if (etsi_dec_ctx(&y, 0)) {
			dec_oid(d, &y, &d->pdu->content_oid);
		} else if (etsi_dec_ctx(&y, 1)) {
			have = 1;
			dec_ipiri_contents(d, &y, depth - 1);
		} else {
			etsi_dec_unknown(d);
		}
	}
	if (!have)
		etsi_dec_bad(d, x->value, LACRE_E_MALFORMED);
}

/* IPCC { iPCCObjId [0], iPCCContents [1] CHOICE { iPPackets [0], iPTruncatedPacket [1] } }. */
static void dec_ipcc(struct etsi_dec *d, const struct ber_tlv *x, int depth)
{
	struct etsi_pdu *p = d->pdu;
	struct lacre_rbuf c, c2, c3;
	struct ber_tlv y, z, v;
	int have = 0;

	if (etsi_dec_need_cons(d, x))
		return;
	etsi_dec_children(x, &c);
	while (etsi_dec_next(d, &c, &y, depth)) {
		if (etsi_dec_ctx(&y, 0)) {
			dec_oid(d, &y, &p->content_oid);
			continue;
		}
		if (!etsi_dec_ctx(&y, 1)) {
			etsi_dec_unknown(d);
			continue;
		}
		if (etsi_dec_need_cons(d, &y))
			continue;
		etsi_dec_children(&y, &c2);
		while (etsi_dec_next(d, &c2, &z, depth - 1)) {
			if (etsi_dec_ctx(&z, 0)) {
				have = etsi_dec_bytes(d, &z, &p->content_bytes) == LACRE_OK;
			} else if (etsi_dec_ctx(&z, 1) && z.constructed) {
				p->ipcc.truncated = 1;
				etsi_dec_children(&z, &c3);
				while (etsi_dec_next(d, &c3, &v, depth - 2)) {
					if (etsi_dec_ctx(&v, 0))
						have = etsi_dec_bytes(d, &v, &p->content_bytes) == LACRE_OK;
					else if (etsi_dec_ctx(&v, 1))
						p->ipcc.has_original_length =
							etsi_dec_uint(d, &v, &p->ipcc.original_length) == LACRE_OK;
					else
						etsi_dec_unknown(d);
				}
			} else {
				etsi_dec_unknown(d);
			}
		}
	}
	if (!have)
		etsi_dec_bad(d, x->value, LACRE_E_MALFORMED);
}

/* ---- IP multimedia (TS 102 232-5) ---- */

/* SIPMessage { ipSourceAddress [0], ipDestinationAddress [1], sIPContent [2] }. */
static void dec_sip(struct etsi_dec *d, const struct ber_tlv *x, int depth)
{
	struct etsi_pdu *p = d->pdu;
	struct etsi_ipmmiri *m = &p->ipmmiri;
	struct lacre_rbuf c;
	struct ber_tlv y;

	if (etsi_dec_need_cons(d, x))
		return;
	etsi_dec_children(x, &c);
	while (etsi_dec_next(d, &c, &y, depth)) {
		if (etsi_dec_ctx(&y, 0))
			etsi_dec_ipaddr(d, &y, depth - 1, &m->src);
		else if (etsi_dec_ctx(&y, 1))
			etsi_dec_ipaddr(d, &y, depth - 1, &m->dst);
		else if (etsi_dec_ctx(&y, 2) && etsi_dec_bytes(d, &y, &m->sip) == LACRE_OK)
			p->content_bytes = m->sip;
		else if (!etsi_dec_ctx(&y, 2))
			etsi_dec_unknown(d);
	}
	if (!m->sip.p)
		etsi_dec_bad(d, x->value, LACRE_E_MALFORMED);
}

/* IPMMIRI { iPMMIRIObjId [0], iPMMIRIContents [1] CHOICE, targetLocation [2], ... }. */
static void dec_ipmmiri(struct etsi_dec *d, const struct ber_tlv *x, int depth)
{
	struct etsi_pdu *p = d->pdu;
	struct etsi_ipmmiri *m = &p->ipmmiri;
	struct lacre_rbuf c, c2;
	struct ber_tlv y, z;

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
			dec_oid(d, &y, &p->content_oid);
			break;
		case 1:
			if (etsi_dec_need_cons(d, &y))
				break;
			etsi_dec_children(&y, &c2);
			if (!etsi_dec_next(d, &c2, &z, depth - 1))
				break;
			if (z.cls != BER_CONTEXT) {
				etsi_dec_unknown(d);
				break;
			}
			m->alt = (int)z.tag;
			if (z.tag == 0) {
				if (etsi_dec_bytes(d, &z, &m->original) == LACRE_OK)
					p->content_bytes = m->original;
			} else if (z.tag == 1) {
				dec_sip(d, &z, depth - 2);
			} else {
				p->content_bytes.p = z.len ? z.value : NULL;
				p->content_bytes.len = z.len;
			}
			break;
		case 2:
			m->has_location = 1;
			if (y.constructed) {
				m->location.p = y.value;
				m->location.len = y.len;
			}
			break;
		case 3:
			break;
		default:
			etsi_dec_unknown(d);
		}
	}
	if (m->alt < 0)
		etsi_dec_bad(d, x->value, LACRE_E_MALFORMED);
}

/* IPMMCC { iPMMCCObjId [0], mMCCContents [1], frameType [2], streamIdentifier [3], mMCCprotocol [4] }. */
static void dec_ipmmcc(struct etsi_dec *d, const struct ber_tlv *x, int depth)
{
	struct etsi_pdu *p = d->pdu;
	struct etsi_ipmmcc *m = &p->ipmmcc;
	struct lacre_rbuf c;
	struct ber_tlv y;
	int have = 0;

	if (etsi_dec_need_cons(d, x))
		return;
	etsi_dec_children(x, &c);
	while (etsi_dec_next(d, &c, &y, depth)) {
		if (y.cls != BER_CONTEXT) {
			etsi_dec_unknown(d);
			continue;
		}
		switch (y.tag) {
		case 0: dec_oid(d, &y, &p->content_oid); break;
		case 1: have = etsi_dec_bytes(d, &y, &p->content_bytes) == LACRE_OK; break;
		case 2: etsi_dec_enum(d, &y, &m->frame_type); break;
		case 3: etsi_dec_bytes(d, &y, &m->stream_id); break;
		case 4: etsi_dec_enum(d, &y, &m->protocol); break;
		default: etsi_dec_unknown(d);
		}
	}
	if (!have)
		etsi_dec_bad(d, x->value, LACRE_E_MALFORMED);
}

/* ---- 3GPP TS 33.128 containers ---- */

static void dec_3gpp_iri(struct etsi_dec *d, const struct ber_tlv *s);

/*
 * TS33128Payloads CCPayload { cCPayloadOID [1], pDU [2] CCPDU CHOICE {
 * uPFCCPDU [1] OCTET STRING (an IP packet), extendedUPFCCPDU [2] {
 * payload [1] CHOICE { uPFIPCC [1], uPFEthernetCC [2],
 * uPFUnstructuredCC [3] }, qFI [2] }, ... } }: the user-plane packet.
 */
static void dec_3gpp_cc(struct etsi_dec *d, const struct ber_tlv *s)
{
	struct etsi_pdu *p = d->pdu;
	struct lacre_rbuf c, c2;
	struct ber_tlv y, z, v, w;
	const int depth = BER_MAX_DEPTH / 2;

	etsi_dec_children(s, &c);
	while (etsi_dec_next(d, &c, &y, depth)) {
		if (!etsi_dec_ctx(&y, 2) || !etsi_dec_choice(d, &y, depth, UINT32_MAX, &z))
			continue;
		if (z.tag == 1 && !z.constructed) {
			if (etsi_dec_bytes(d, &z, &p->xcc_packet) == LACRE_OK)
				p->xcc_kind = 1;
		} else if (z.tag == 2 && z.constructed) {
			etsi_dec_children(&z, &c2);
			while (etsi_dec_next(d, &c2, &v, depth - 1)) {
				if (!etsi_dec_ctx(&v, 1) || !etsi_dec_choice(d, &v, depth - 1, 3, &w))
					continue;
				if (w.tag >= 1 && etsi_dec_bytes(d, &w, &p->xcc_packet) == LACRE_OK)
					p->xcc_kind = (int)w.tag;
			}
		}
	}
}

/*
 * OCTET STRING (CONTAINING TS33128Payloads.IRIPayload or CCPayload): keep
 * the octets opaque and take the payload OID ([1] RELATIVE-OID, the first
 * field of both) when the contents parse.  A container that does not parse
 * is flagged partial but kept.
 */
static void dec_3gpp(struct etsi_dec *d, const struct ber_tlv *x, int iri)
{
	struct etsi_pdu *p = d->pdu;
	struct lacre_rbuf b, c;
	struct ber_tlv s, y;

	if (etsi_dec_bytes(d, x, &p->content_bytes) != LACRE_OK)
		return;
	lacre_rbuf_init(&b, p->content_bytes.p, p->content_bytes.len);
	if (ber_next(&b, &s, BER_MAX_DEPTH) != LACRE_OK || !s.constructed ||
	    s.cls != BER_UNIVERSAL || s.tag != 16) {
		etsi_dec_bad(d, x->value, LACRE_E_MALFORMED);
		return;
	}
	etsi_dec_children(&s, &c);
	while (lacre_rbuf_left(&c) > 0 && ber_next(&c, &y, BER_MAX_DEPTH) == LACRE_OK) {
		if (etsi_dec_ctx(&y, 1) && !y.constructed && y.len > 0) {
			p->content_oid.p = y.value;
			p->content_oid.len = y.len;
			break;
		}
	}
	if (iri)
		dec_3gpp_iri(d, &s);
	else
		dec_3gpp_cc(d, &s);
}

/* ---- mobile IRI: EPS and UMTS (TS 33.108), 3GPP TS 33.128 ---- */

/*
 * Location presence is what legal rule L2 needs: any element inside a
 * Location / EPSLocation (but a bare timestamp) counts, and the fields
 * lacre shows are kept.
 */

/* UMTS/EPS Location { e164-Number [1], globalCellID [2], rAI [4],
 * gsmLocation [5], umtsLocation [6], sAI [7], oldRAI [8], civicAddress [9],
 * operatorSpecificInfo [10], uELocationTimestamp [11] }: present when it
 * holds any element. */
static void dec_umts_location(struct etsi_dec *d, const struct ber_tlv *x, int depth)
{
	struct etsi_mobile *m = &d->pdu->mobile;
	struct lacre_rbuf c;
	struct ber_tlv y;

	if (etsi_dec_need_cons(d, x))
		return;
	m->loc_umts.p = x->value;
	m->loc_umts.len = x->len;
	etsi_dec_children(x, &c);
	while (etsi_dec_next(d, &c, &y, depth)) {
		if (y.cls != BER_CONTEXT) {
			etsi_dec_unknown(d);
			continue;
		}
		if (y.tag == 11)
			continue;          /* a timestamp alone is not a location */
		m->has_location = 1;
		if (y.tag == 2)
			etsi_dec_bytes(d, &y, &m->cgi);
		else if (y.tag == 4)
			etsi_dec_bytes(d, &y, &m->rai);
		else if (y.tag == 7)
			etsi_dec_bytes(d, &y, &m->sai);
	}
}

/* EPSLocation { userLocationInfo [1], gsmLocation [2], umtsLocation [3],
 * olduserLocationInfo [4], lastVisitedTAI [5], tAIlist [6], threeGPP2Bsid
 * [7], civicAddress [8], operatorSpecificInfo [9], uELocationTimestamp [10] }. */
static void dec_eps_location(struct etsi_dec *d, const struct ber_tlv *x, int depth)
{
	struct etsi_mobile *m = &d->pdu->mobile;
	struct lacre_rbuf c;
	struct ber_tlv y;

	if (etsi_dec_need_cons(d, x))
		return;
	m->loc_eps.p = x->value;
	m->loc_eps.len = x->len;
	etsi_dec_children(x, &c);
	while (etsi_dec_next(d, &c, &y, depth)) {
		if (y.cls != BER_CONTEXT) {
			etsi_dec_unknown(d);
			continue;
		}
		if (y.tag == 10)
			continue;
		m->has_location = 1;
		if (y.tag == 1)
			etsi_dec_bytes(d, &y, &m->uli);
	}
}

/* GPRS-parameters { pDP-address-allocated-to-the-target [1] DataNodeAddress,
 * aPN [2], pDP-type [3], nSAPI [4], additionalIPaddress [5] }. */
static void dec_gprs_params(struct etsi_dec *d, const struct ber_tlv *x, int depth)
{
	struct etsi_mobile *m = &d->pdu->mobile;
	struct lacre_rbuf c, c2;
	struct ber_tlv y, z;

	if (etsi_dec_need_cons(d, x))
		return;
	etsi_dec_children(x, &c);
	while (etsi_dec_next(d, &c, &y, depth)) {
		if (etsi_dec_ctx(&y, 1)) {
			/* DataNodeAddress CHOICE { ipAddress [1] IPAddress, x25Address [2] } */
			if (etsi_dec_need_cons(d, &y))
				continue;
			etsi_dec_children(&y, &c2);
			while (etsi_dec_next(d, &c2, &z, depth - 1)) {
				if (etsi_dec_ctx(&z, 1))
					etsi_dec_ipaddr(d, &z, depth - 2, &m->pdp_addr);
				else
					etsi_dec_unknown(d);
			}
		} else if (etsi_dec_ctx(&y, 2)) {
			etsi_dec_bytes(d, &y, &m->apn);
		} else if (!y.constructed && y.cls == BER_CONTEXT && y.tag <= 5) {
			continue;   /* pDP-type, nSAPI, additionalIPaddress: known */
		} else {
			etsi_dec_unknown(d);
		}
	}
}

/* PartyInformation { party-Qualifier [0], partyIdentity [1] { imei [1],
 * imsi [3], msISDN [6], sip-uri [8], tel-url [9], nai [10], ... },
 * services-Data-Information [4] { gPRS-parameters [1] } }. */
static void dec_party(struct etsi_dec *d, const struct ber_tlv *x, int depth)
{
	struct etsi_mobile *m = &d->pdu->mobile;
	struct lacre_rbuf c, c2;
	struct ber_tlv y, z;

	if (etsi_dec_need_cons(d, x))
		return;
	etsi_dec_children(x, &c);
	while (etsi_dec_next(d, &c, &y, depth)) {
		if (etsi_dec_ctx(&y, 1)) {
			if (etsi_dec_need_cons(d, &y))
				continue;
			etsi_dec_children(&y, &c2);
			while (etsi_dec_next(d, &c2, &z, depth - 1)) {
				if (z.cls != BER_CONTEXT)
					etsi_dec_unknown(d);
				else if (z.tag == 1)
					etsi_dec_bytes(d, &z, &m->imei);
				else if (z.tag == 3)
					etsi_dec_bytes(d, &z, &m->imsi);
				else if (z.tag == 6)
					etsi_dec_bytes(d, &z, &m->msisdn);
				else if (z.tag == 8)
					etsi_dec_bytes(d, &z, &m->sip_uri);
				else if (z.tag == 9)
					etsi_dec_bytes(d, &z, &m->tel_uri);
				else if (z.tag == 10)
					etsi_dec_bytes(d, &z, &m->nai);
			}
		} else if (etsi_dec_ctx(&y, 2)) {
			m->has_location = 1;    /* partyLocation */
		} else if (etsi_dec_ctx(&y, 4) && y.constructed) {
			etsi_dec_children(&y, &c2);
			while (etsi_dec_next(d, &c2, &z, depth - 1)) {
				if (etsi_dec_ctx(&z, 1))
					dec_gprs_params(d, &z, depth - 2);
			}
		} else if (y.cls != BER_CONTEXT) {
			etsi_dec_unknown(d);
		}
	}
}

/* EPS-GTPV2-SpecificParameters: the PDN address, APN, bearer, RAT type
 * and ePSlocationOfTheTarget [23]. */
static void dec_gtpv2_params(struct etsi_dec *d, const struct ber_tlv *x, int depth)
{
	struct etsi_mobile *m = &d->pdu->mobile;
	struct lacre_rbuf c;
	struct ber_tlv y;
	struct etsi_bytes b;

	if (etsi_dec_need_cons(d, x))
		return;
	etsi_dec_children(x, &c);
	while (etsi_dec_next(d, &c, &y, depth)) {
		if (y.cls != BER_CONTEXT) {
			etsi_dec_unknown(d);
			continue;
		}
		switch (y.tag) {
		case 1: etsi_dec_bytes(d, &y, &m->paa); break;
		case 2:
			if (!m->apn.p)
				etsi_dec_bytes(d, &y, &m->apn);
			break;
		case 5: etsi_dec_bytes(d, &y, &m->bearer_id); break;
		case 7:
			memset(&b, 0, sizeof(b));
			if (etsi_dec_bytes(d, &y, &b) == LACRE_OK && b.len == 1)
				m->rat = b.p[0];
			break;
		case 10: etsi_dec_enum(d, &y, &m->bearer_type); break;
		case 23: dec_eps_location(d, &y, depth - 1); break;
		case 29: case 31:
			m->has_location = 1;   /* UE local IP (non-3GPP access), TWAN identifier */
			break;
		default:
			break;                 /* known or extension: not indexed */
		}
	}
}

/* DataNodeAddress CHOICE { ipAddress [1] IPAddress, x25Address [2] } into a. */
static void dec_data_node(struct etsi_dec *d, const struct ber_tlv *x, int depth,
			  struct etsi_ipaddr *a)
{
	struct lacre_rbuf c;
	struct ber_tlv y;

	if (etsi_dec_need_cons(d, x))
		return;
	etsi_dec_children(x, &c);
	while (etsi_dec_next(d, &c, &y, depth)) {
		if (etsi_dec_ctx(&y, 1))
			etsi_dec_ipaddr(d, &y, depth - 1, a);
	}
}

/*
 * IRI-Parameters of EpsHI2Operations and UmtsHI2Operations (the tags the
 * two share are identical by rule of TS 33.108): identities, event,
 * location, PDN address and gateway.
 */
static void dec_iri_params(struct etsi_dec *d, const struct ber_tlv *x, int depth)
{
	struct etsi_mobile *m = &d->pdu->mobile;
	struct lacre_rbuf c, c2;
	struct ber_tlv y, z;

	if (etsi_dec_need_cons(d, x))
		return;
	etsi_dec_children(x, &c);
	while (etsi_dec_next(d, &c, &y, depth)) {
		if (y.cls != BER_CONTEXT) {
			etsi_dec_unknown(d);
			continue;
		}
		switch (y.tag) {
		case 4: etsi_dec_enum(d, &y, &m->initiator); break;
		case 8: dec_umts_location(d, &y, depth - 1); break;
		case 9:
			/* SET OF PartyInformation; OpenLI sends one
			 * PartyInformation's fields directly under [9] */
			if (etsi_dec_need_cons(d, &y))
				break;
			etsi_dec_children(&y, &c2);
			if (lacre_rbuf_left(&c2) > 0 && c2.p[c2.off] == 0x30) {
				while (etsi_dec_next(d, &c2, &z, depth - 1))
					dec_party(d, &z, depth - 2);
			} else {
				dec_party(d, &y, depth - 1);
			}
			break;
		case 18: etsi_dec_bytes(d, &y, &m->correlation); break;
		case 20: etsi_dec_enum(d, &y, &m->event); break;
		case 24: dec_data_node(d, &y, depth - 1, &m->gw_addr); break;
		case 36: dec_gtpv2_params(d, &y, depth - 1); break;
		case 37: case 38: case 39:
			/* PMIP / DSMIP / MIP parameters: may hold a location
			 * (PMIP [14]); not decoded, so counted as location */
			m->has_location = 1;
			break;
		case 54: case 56: case 80:
			m->has_location = 1;    /* heNBLocation, pANI-Header-Info, additionalCellIDs */
			break;
		default:
			break;
		}
	}
}

/* EpsIRIContent / UMTS IRI: a record CHOICE { iRI-Begin-record [1],
 * iRI-End-record [2], iRI-Continue-record [3], iRI-Report-record [4] }
 * holding IRI-Parameters, or (as in TS 102 232-7 and OpenLI) the
 * IRI-Parameters directly under [0]. */
static void dec_mobile_iri(struct etsi_dec *d, const struct ber_tlv *x, int depth, int family)
{
	struct etsi_mobile *m = &d->pdu->mobile;
	struct lacre_rbuf c;
	struct ber_tlv y;
	int found = 0;

	m->family = family;
	if (etsi_dec_need_cons(d, x))
		return;
	etsi_dec_children(x, &c);
	while (etsi_dec_next(d, &c, &y, depth)) {
		if (y.cls != BER_CONTEXT || !y.constructed || y.tag > 4) {
			etsi_dec_unknown(d);
			continue;
		}
		found = 1;
		if (y.tag >= 1)
			m->record = (int)y.tag;
		dec_iri_params(d, &y, depth - 1);
	}
	/* no IRI-Parameters seen: whether it holds a location is unknown */
	if (!found)
		m->has_location = -1;
}

/* 33.128 SUPI / PEI / GPSI CHOICE: the first alternative's text into b. */
static void dec_3gpp_ident(struct etsi_dec *d, const struct ber_tlv *x, int depth,
			   struct etsi_bytes *b)
{
	struct ber_tlv y;

	if (!x->constructed) {
		etsi_dec_bytes(d, x, b);
		return;
	}
	if (etsi_dec_choice(d, x, depth, 15, &y))
		etsi_dec_bytes(d, &y, b);
}

/* Where a 33.128 event keeps the fields lacre indexes (context tags; 0
 * when the event has no such field). */
struct xiri_layout {
	uint32_t event;
	uint8_t supi, pei, gpsi, location, pdu_session_id, ue_endpoint, dnn;
};

static const struct xiri_layout xiri_layouts[] = {
	{ 1, 4, 6, 7, 9, 0, 0, 0 },      /* registration */
	{ 3, 1, 3, 4, 6, 0, 0, 0 },      /* locationUpdate */
	{ 4, 4, 6, 7, 9, 0, 0, 0 },      /* startOfInterceptionWithRegisteredUE */
	{ 6, 1, 3, 4, 11, 5, 9, 12 },    /* pDUSessionEstablishment */
	{ 8, 1, 2, 3, 9, 4, 0, 0 },      /* pDUSessionRelease */
	{ 9, 1, 3, 4, 11, 5, 9, 12 },    /* startOfInterceptionWithEstablishedPDUSession */
};

/* The first address of uEEndpoint (SEQUENCE OF UEEndpointAddress CHOICE
 * { iPv4Address [1], iPv6Address [2], ... }). */
static void dec_3gpp_endpoint(struct etsi_dec *d, const struct ber_tlv *x, int depth)
{
	struct lacre_rbuf c, c2;
	struct ber_tlv y, z;

	if (etsi_dec_need_cons(d, x))
		return;
	etsi_dec_children(x, &c);
	while (etsi_dec_next(d, &c, &y, depth)) {
		if (!y.constructed) {
			etsi_dec_bytes(d, &y, &d->pdu->mobile.ue_ip);
			return;
		}
		etsi_dec_children(&y, &c2);
		if (etsi_dec_next(d, &c2, &z, depth - 1) && !z.constructed) {
			etsi_dec_bytes(d, &z, &d->pdu->mobile.ue_ip);
			return;
		}
	}
}

/*
 * TS33128Payloads IRIPayload / XIRIPayload { OID [1], event [2] CHOICE,
 * targetIdentifiers [3] }: the event and, for the AMF and SMF events whose
 * layout lacre knows, the identities and the location.  For any other
 * event the location is unknown (has_location -1 through
 * etsi_iri_location: treated as location-bearing).
 */
static void dec_3gpp_iri(struct etsi_dec *d, const struct ber_tlv *s)
{
	struct etsi_mobile *m = &d->pdu->mobile;
	const struct xiri_layout *lay = NULL;
	struct lacre_rbuf c, c2;
	struct ber_tlv y, ev, f;
	const int depth = BER_MAX_DEPTH / 2;

	m->family = 3;
	etsi_dec_children(s, &c);
	while (etsi_dec_next(d, &c, &y, depth)) {
		if (!etsi_dec_ctx(&y, 2))
			continue;
		if (!etsi_dec_choice(d, &y, depth, UINT32_MAX, &ev))
			continue;
		m->event = ev.tag > INT32_MAX ? -1 : (int)ev.tag;
		for (size_t i = 0; i < sizeof(xiri_layouts) / sizeof(xiri_layouts[0]); i++)
			if (xiri_layouts[i].event == ev.tag)
				lay = &xiri_layouts[i];
		if (lay && !ev.constructed)
			lay = NULL;         /* not the SEQUENCE it should be: cannot tell */
		if (!lay)
			continue;
		etsi_dec_children(&ev, &c2);
		while (etsi_dec_next(d, &c2, &f, depth - 1)) {
			if (f.cls != BER_CONTEXT)
				continue;
			if (f.tag == lay->supi)
				dec_3gpp_ident(d, &f, depth - 2, &m->supi);
			else if (f.tag == lay->pei)
				dec_3gpp_ident(d, &f, depth - 2, &m->pei);
			else if (f.tag == lay->gpsi)
				dec_3gpp_ident(d, &f, depth - 2, &m->gpsi);
			else if (f.tag == lay->location)
				m->has_location = 1;
			else if (lay->pdu_session_id && f.tag == lay->pdu_session_id)
				etsi_dec_bytes(d, &f, &m->pdu_session_id);
			else if (lay->ue_endpoint && f.tag == lay->ue_endpoint)
				dec_3gpp_endpoint(d, &f, depth - 2);
			else if (lay->dnn && f.tag == lay->dnn)
				etsi_dec_bytes(d, &f, &m->dnn);
		}
	}
	if (!lay)
		m->has_location = -1;
}

/* ---- IRIPayload / CCPayload ---- */

/* The content alternative of an IRIContents / CCContents CHOICE. */
static void dec_content(struct etsi_dec *d, const struct ber_tlv *x, int depth, int iri)
{
	struct etsi_pdu *p = d->pdu;
	struct ber_tlv y;

	if (!etsi_dec_choice(d, x, depth, UINT32_MAX, &y))
		return;
	p->content_tag = y.tag > INT32_MAX ? -1 : (int)y.tag;
	p->content = iri ? etsi_iri_content_name(p->content_tag)
			 : etsi_cc_content_name(p->content_tag);
	if (iri && y.tag == ETSI_IRI_IPIRI)
		dec_ipiri(d, &y, depth - 1);
	else if (iri && y.tag == ETSI_IRI_IPMMIRI)
		dec_ipmmiri(d, &y, depth - 1);
	else if (iri && y.tag == ETSI_IRI_3GPP33128)
		dec_3gpp(d, &y, 1);
	else if (iri && y.tag == ETSI_IRI_EPSIRI)
		dec_mobile_iri(d, &y, depth - 1, 1);
	else if (iri && y.tag == ETSI_IRI_UMTSIRI)
		dec_mobile_iri(d, &y, depth - 1, 2);
	else if (!iri && y.tag == ETSI_CC_IPCC)
		dec_ipcc(d, &y, depth - 1);
	else if (!iri && y.tag == ETSI_CC_IPMMCC)
		dec_ipmmcc(d, &y, depth - 1);
	else if (!iri && y.tag == ETSI_CC_3GPP33128)
		dec_3gpp(d, &y, 0);
	else if (y.constructed) {
		p->content_bytes.p = y.len ? y.value : NULL;
		p->content_bytes.len = y.len;
	} else {
		etsi_dec_bytes(d, &y, &p->content_bytes);
	}
}

/* A PayloadDirection into *dir.  Values beyond the known ones are kept:
 * the enumeration is extensible. */
static void dec_dir(struct etsi_dec *d, const struct ber_tlv *x, int *dir)
{
	etsi_dec_enum(d, x, dir);
}

/* One IRIPayload SEQUENCE (spec §4.4). */
static void dec_iri(struct etsi_dec *d, const struct ber_tlv *x, int depth)
{
	struct etsi_pdu *p = d->pdu;
	struct lacre_rbuf c;
	struct ber_tlv y;
	int have = 0, v;

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
			if (etsi_dec_enum(d, &y, &v) == LACRE_OK) {
				if (v < 1 || v > 4)
					etsi_dec_bad(d, y.value, LACRE_E_RANGE);
				else
					p->iri_type = v;
			}
			break;
		case 1:
			etsi_dec_time(d, &y, 1, 0, &p->payload_time_us, &p->has_payload_time);
			break;
		case 2:
			have = 1;
			dec_content(d, &y, depth - 1, 1);
			break;
		case 3:
			etsi_dec_time(d, &y, 2, depth - 1, &p->payload_time_us, &p->has_payload_time);
			break;
		case 4:
			break;
		case 5:
			dec_dir(d, &y, &p->session_direction);
			break;
		case 6:
			dec_dir(d, &y, &p->direction);
			break;
		default:
			etsi_dec_unknown(d);
		}
	}
	if (!have)
		etsi_dec_bad(d, x->value, LACRE_E_MALFORMED);
}

/* One CCPayload SEQUENCE (spec §4.5). */
static void dec_cc(struct etsi_dec *d, const struct ber_tlv *x, int depth)
{
	struct etsi_pdu *p = d->pdu;
	struct lacre_rbuf c;
	struct ber_tlv y;
	int have = 0;

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
			dec_dir(d, &y, &p->direction);
			break;
		case 1:
			etsi_dec_time(d, &y, 1, 0, &p->payload_time_us, &p->has_payload_time);
			break;
		case 2:
			have = 1;
			dec_content(d, &y, depth - 1, 0);
			break;
		case 3:
			etsi_dec_time(d, &y, 2, depth - 1, &p->payload_time_us, &p->has_payload_time);
			break;
		case 4:
			break;
		default:
			etsi_dec_unknown(d);
		}
	}
	if (!have)
		etsi_dec_bad(d, x->value, LACRE_E_MALFORMED);
}

/*
 * SEQUENCE OF IRIPayload / CCPayload: decode the first in depth, frame and
 * count the rest.  Elements that are not universal SEQUENCEs are field
 * errors.  An empty sequence is a field error too.
 */
static void dec_seq(struct etsi_dec *d, const struct ber_tlv *x, int depth, int iri)
{
	struct etsi_pdu *p = d->pdu;
	struct lacre_rbuf c;
	struct ber_tlv y;

	if (etsi_dec_need_cons(d, x))
		return;
	etsi_dec_children(x, &c);
	while (etsi_dec_next(d, &c, &y, depth)) {
		if (y.cls != BER_UNIVERSAL || y.tag != 16) {
			etsi_dec_bad(d, y.value, LACRE_E_UNEXPECTED);
			continue;
		}
		if (p->n_payloads++ > 0)
			continue;
		if (iri)
			dec_iri(d, &y, depth - 1);
		else
			dec_cc(d, &y, depth - 1);
	}
	if (p->n_payloads == 0)
		etsi_dec_bad(d, x->value, LACRE_E_MALFORMED);
}

/* Entry points for etsi.c (see etsi_int.h). */
void etsi_dec_iri_seq(struct etsi_dec *d, const struct ber_tlv *x, int depth)
{
	dec_seq(d, x, depth, 1);
}

void etsi_dec_cc_seq(struct etsi_dec *d, const struct ber_tlv *x, int depth)
{
	dec_seq(d, x, depth, 0);
}

/*
 * etsi_enc.c - PS-PDU builders (see include/lacre/etsi_enc.h).
 *
 * Each public builder opens the outer SEQUENCE, writes the PSHeader, opens
 * payload [2] and the payload's own alternative, then closes everything and
 * checks the sticky encoder error once.  On any failure the output buffer is
 * cut back to its length at entry, so a caller never holds half a PDU.  The
 * element order and the optional fields follow OpenLI 1.1.20 (libwandder) as
 * seen in ../shared/vectors/openli-a, so that a lacre receiver is exercised
 * with what real mediation devices send.
 */
#include <string.h>

#include "lacre/ber_enc.h"
#include "lacre/err.h"
#include "lacre/etsi_enc.h"

#define CTX BER_CONTEXT

/* Fill h with OpenLI-like defaults. */
void etsi_enc_header_defaults(struct etsi_enc_header *h)
{
	memset(h, 0, sizeof(*h));
	h->len_style = BER_ENC_LEN_OPENLI;
	h->domain_id = ETSI_ENC_DOMAIN_OPENLI;
	h->time_style = ETSI_ENC_TIME_MICROSECOND;
	h->ts_qualifier = 1;
}

/* Cut out back to len0 after a failure and pass the error on. */
static int undo(struct lacre_dbuf *out, size_t len0, int r)
{
	if (r != 0 && out->len > len0)
		out->len = len0;
	return r;
}

/* Check the header's required fields and ranges. */
static int check_header(const struct etsi_enc_header *h)
{
	if (h == NULL || h->liid == NULL || h->liid_len == 0 || h->liid_len > 25 ||
	    h->operator_id == NULL || h->operator_id[0] == '\0' ||
	    h->seq > 0xffffffffu || h->time_us < 0)
		return LACRE_E_INVALID;
	if (h->time_style != ETSI_ENC_TIME_NONE && h->time_style != ETSI_ENC_TIME_GENERALIZED &&
	    h->time_style != ETSI_ENC_TIME_MICROSECOND)
		return LACRE_E_INVALID;
	if ((h->ext_interception_point_id && (h->ext_interception_point_id_len == 0 ||
	    h->ext_interception_point_id_len > 65535)) ||
	    (h->network_function_id && (h->network_function_id_len == 0 || h->network_function_id_len > 65535)))
		return LACRE_E_INVALID;
	return 0;
}

/* Write pSHeader [1] into e. */
static int put_header(struct ber_enc *e, const struct etsi_enc_header *h)
{
	ber_enc_open(e, CTX, 1);
	ber_enc_oid_text(e, CTX, 0, h->domain_id ? h->domain_id : ETSI_ENC_DOMAIN_OPENLI, 0);
	ber_enc_prim(e, CTX, 1, h->liid, h->liid_len);
	if (h->auth_country)
		ber_enc_str(e, CTX, 2, h->auth_country);
	ber_enc_open(e, CTX, 3);               /* communicationIdentifier */
	ber_enc_open(e, CTX, 0);               /* networkIdentifier */
	ber_enc_str(e, CTX, 0, h->operator_id);
	if (h->network_element_id)
		ber_enc_str(e, CTX, 1, h->network_element_id);
	ber_enc_close(e);
	if (h->has_cin)
		ber_enc_uint(e, CTX, 1, h->cin);
	if (h->delivery_country)
		ber_enc_str(e, CTX, 2, h->delivery_country);
	ber_enc_close(e);
	ber_enc_uint(e, CTX, 4, h->seq);
	if (h->time_style == ETSI_ENC_TIME_GENERALIZED)
		ber_enc_gentime(e, CTX, 5, h->time_us, 3);
	if (h->interception_point_id)
		ber_enc_str(e, CTX, 6, h->interception_point_id);
	if (h->time_style == ETSI_ENC_TIME_MICROSECOND) {
		ber_enc_open(e, CTX, 7);
		ber_enc_uint(e, CTX, 0, (uint64_t)(h->time_us / 1000000));
		ber_enc_uint(e, CTX, 1, (uint64_t)(h->time_us % 1000000));
		ber_enc_close(e);
	}
	if (h->ts_qualifier >= 0)
		ber_enc_uint(e, CTX, 8, (uint64_t)h->ts_qualifier);
	if (h->ext_interception_point_id)
		ber_enc_prim(e, CTX, 9, h->ext_interception_point_id, h->ext_interception_point_id_len);
	if (h->network_function_id)
		ber_enc_prim(e, CTX, 10, h->network_function_id, h->network_function_id_len);
	if (h->unknown_ext)
		ber_enc_str(e, CTX, 29, "lacre-ext");
	return ber_enc_close(e);
}

/* Open PS-PDU, write the header and open payload [2]. */
static int begin_pdu(struct ber_enc *e, const struct etsi_enc_header *h)
{
	ber_enc_seq(e);
	put_header(e, h);
	return ber_enc_open(e, CTX, 2);
}

/* Close payload [2] and the PS-PDU, and report the sticky error. */
static int end_pdu(struct ber_enc *e)
{
	ber_enc_close(e);
	ber_enc_close(e);
	return ber_enc_finish(e);
}

/* Write an IPAddress SEQUENCE body (the caller opened its tag). */
static void put_ipaddr_body(struct ber_enc *e, const struct etsi_enc_ipaddr *a)
{
	uint8_t mask[4];
	uint32_t m;

	ber_enc_uint(e, CTX, 1, a->v6 ? 1 : 0);         /* iP-type */
	ber_enc_open(e, CTX, 2);                        /* iP-value (CHOICE) */
	ber_enc_prim(e, CTX, 1, a->addr, a->v6 ? 16 : 4); /* iPBinaryAddress */
	ber_enc_close(e);
	if (a->assignment > 0)
		ber_enc_uint(e, CTX, 3, (uint64_t)a->assignment);
	if (a->prefix_len >= 0) {
		if (a->v6) {
			ber_enc_uint(e, CTX, 4, (uint64_t)a->prefix_len);
		} else {
			m = a->prefix_len >= 32 ? 0xffffffffu :
			    (a->prefix_len <= 0 ? 0 : ~((1u << (32 - a->prefix_len)) - 1));
			mask[0] = (uint8_t)(m >> 24);
			mask[1] = (uint8_t)(m >> 16);
			mask[2] = (uint8_t)(m >> 8);
			mask[3] = (uint8_t)m;
			ber_enc_prim(e, CTX, 5, mask, 4);
		}
	}
}

/* Write an IPAddress under context tag [tag]. */
static void put_ipaddr(struct ber_enc *e, uint32_t tag, const struct etsi_enc_ipaddr *a)
{
	ber_enc_open(e, CTX, tag);
	put_ipaddr_body(e, a);
	ber_enc_close(e);
}

/* Open iRIPayloadSequence [0] / IRIPayload / iRIContents [2]. */
static void open_iri(struct ber_enc *e, int iri_type)
{
	ber_enc_open(e, CTX, 0);
	ber_enc_seq(e);
	if (iri_type > 0)
		ber_enc_uint(e, CTX, 0, (uint64_t)iri_type);
	ber_enc_open(e, CTX, 2);
}

/* Open cCPayloadSequence [1] / CCPayload / cCContents [2]. */
static void open_cc(struct ber_enc *e, int direction)
{
	ber_enc_open(e, CTX, 1);
	ber_enc_seq(e);
	if (direction >= 0)
		ber_enc_uint(e, CTX, 0, (uint64_t)direction);
	ber_enc_open(e, CTX, 2);
}

/* Close the three levels opened by open_iri/open_cc. */
static void close3(struct ber_enc *e)
{
	ber_enc_close(e);
	ber_enc_close(e);
	ber_enc_close(e);
}

/* IRI with iPMMIRI sIPMessage. */
int etsi_enc_ipmmiri(struct lacre_dbuf *out, const struct etsi_enc_header *h,
    int iri_type, const struct etsi_enc_ipaddr *src, const struct etsi_enc_ipaddr *dst,
    const uint8_t *sip, size_t sip_len)
{
	struct ber_enc e;
	size_t len0 = out->len;
	int r;

	if ((r = check_header(h)) != 0 || src == NULL || dst == NULL || sip == NULL)
		return r ? r : LACRE_E_INVALID;
	ber_enc_init(&e, out, h->len_style);
	begin_pdu(&e, h);
	open_iri(&e, iri_type);
	ber_enc_open(&e, CTX, 11);                          /* iPMMIRI */
	ber_enc_oid_text(&e, CTX, 0, ETSI_ENC_OID_IPMMIRI, 1);
	ber_enc_open(&e, CTX, 1);                           /* iPMMIRIContents */
	ber_enc_open(&e, CTX, 1);                           /* sIPMessage */
	put_ipaddr(&e, 0, src);
	put_ipaddr(&e, 1, dst);
	ber_enc_prim(&e, CTX, 2, sip, sip_len);
	ber_enc_close(&e);
	ber_enc_close(&e);
	ber_enc_close(&e);
	close3(&e);
	return undo(out, len0, end_pdu(&e));
}

/* CC with iPMMCC. */
int etsi_enc_ipmmcc(struct lacre_dbuf *out, const struct etsi_enc_header *h,
    int direction, const uint8_t *frame, size_t frame_len)
{
	struct ber_enc e;
	size_t len0 = out->len;
	int r;

	if ((r = check_header(h)) != 0 || frame == NULL)
		return r ? r : LACRE_E_INVALID;
	ber_enc_init(&e, out, h->len_style);
	begin_pdu(&e, h);
	open_cc(&e, direction);
	ber_enc_open(&e, CTX, 12);                          /* iPMMCC */
	ber_enc_oid_text(&e, CTX, 0, ETSI_ENC_OID_IPMMCC, 1);
	ber_enc_prim(&e, CTX, 1, frame, frame_len);         /* mMCCContents */
	ber_enc_uint(&e, CTX, 2, 0);                        /* frameType ipFrame */
	ber_enc_uint(&e, CTX, 4, 0);                        /* mMCCprotocol rTP */
	ber_enc_close(&e);
	close3(&e);
	return undo(out, len0, end_pdu(&e));
}

/* IRI with iPIRI. */
int etsi_enc_ipiri(struct lacre_dbuf *out, const struct etsi_enc_header *h,
    int iri_type, const struct etsi_enc_ipiri *ev)
{
	struct ber_enc e;
	size_t len0 = out->len;
	int r;

	if ((r = check_header(h)) != 0 || ev == NULL || ev->username == NULL ||
	    ev->access_event < 0 || ev->access_type < 0 || ev->ip_version < 0)
		return r ? r : LACRE_E_INVALID;
	ber_enc_init(&e, out, h->len_style);
	begin_pdu(&e, h);
	open_iri(&e, iri_type);
	ber_enc_open(&e, CTX, 2);                           /* iPIRI */
	ber_enc_oid_text(&e, CTX, 0, ETSI_ENC_OID_IPIRI, 1);
	ber_enc_open(&e, CTX, 1);                           /* iPIRIContents */
	ber_enc_uint(&e, CTX, 0, (uint64_t)ev->access_event);
	ber_enc_str(&e, CTX, 1, ev->username);
	ber_enc_uint(&e, CTX, 2, (uint64_t)ev->access_type);
	ber_enc_uint(&e, CTX, 3, (uint64_t)ev->ip_version);
	if (ev->target_ip)
		put_ipaddr(&e, 4, ev->target_ip);
	if (ev->network_id)
		ber_enc_str(&e, CTX, 5, ev->network_id);
	if (ev->target_location)
		ber_enc_str(&e, CTX, 7, ev->target_location);
	if (ev->pop_port >= 0)
		ber_enc_uint(&e, CTX, 8, (uint64_t)ev->pop_port);
	if (ev->start_us >= 0)
		ber_enc_gentime(&e, CTX, 10, ev->start_us, 3);
	if (ev->end_us >= 0)
		ber_enc_gentime(&e, CTX, 11, ev->end_us, 3);
	if (ev->end_reason >= 0)
		ber_enc_uint(&e, CTX, 12, (uint64_t)ev->end_reason);
	if (ev->octets_received >= 0)
		ber_enc_uint(&e, CTX, 13, (uint64_t)ev->octets_received);
	if (ev->octets_transmitted >= 0)
		ber_enc_uint(&e, CTX, 14, (uint64_t)ev->octets_transmitted);
	if (ev->pop_identifier) {
		ber_enc_open(&e, CTX, 18);
		ber_enc_str(&e, CTX, 0, ev->pop_identifier);
		ber_enc_close(&e);
	}
	if (ev->pop_ip)
		put_ipaddr(&e, 19, ev->pop_ip);
	if (ev->uli && ev->uli_len) {
		ber_enc_open(&e, CTX, 24);                  /* location: LI-PS-PDU Location */
		ber_enc_open(&e, CTX, 1);                   /* epsLocation */
		ber_enc_prim(&e, CTX, 1, ev->uli, ev->uli_len);
		ber_enc_close(&e);
		ber_enc_close(&e);
	}
	ber_enc_close(&e);
	ber_enc_close(&e);
	close3(&e);
	return undo(out, len0, end_pdu(&e));
}

/* CC with iPCC. */
int etsi_enc_ipcc(struct lacre_dbuf *out, const struct etsi_enc_header *h,
    int direction, const uint8_t *pkt, size_t pkt_len)
{
	struct ber_enc e;
	size_t len0 = out->len;
	int r;

	if ((r = check_header(h)) != 0 || pkt == NULL)
		return r ? r : LACRE_E_INVALID;
	ber_enc_init(&e, out, h->len_style);
	begin_pdu(&e, h);
	open_cc(&e, direction);
	ber_enc_open(&e, CTX, 2);                           /* iPCC */
	ber_enc_oid_text(&e, CTX, 0, ETSI_ENC_OID_IPCC, 1);
	ber_enc_open(&e, CTX, 1);                           /* iPCCContents */
	ber_enc_prim(&e, CTX, 0, pkt, pkt_len);             /* iPPackets */
	ber_enc_close(&e);
	ber_enc_close(&e);
	close3(&e);
	return undo(out, len0, end_pdu(&e));
}

/* TRIPayload with a NULL alternative. */
int etsi_enc_tri_null(struct lacre_dbuf *out, const struct etsi_enc_header *h, int tri_tag)
{
	struct ber_enc e;
	size_t len0 = out->len;
	int r;

	if ((r = check_header(h)) != 0)
		return r;
	if (tri_tag < 1 || tri_tag > 13 || tri_tag == 2 || (tri_tag >= 8 && tri_tag <= 10))
		return LACRE_E_INVALID;
	ber_enc_init(&e, out, h->len_style);
	begin_pdu(&e, h);
	ber_enc_open(&e, CTX, 2);                           /* tRIPayload */
	ber_enc_null(&e, CTX, (uint32_t)tri_tag);
	ber_enc_close(&e);
	return undo(out, len0, end_pdu(&e));
}

/* Keep-alive PDU. */
int etsi_enc_keepalive(struct lacre_dbuf *out, const struct etsi_enc_header *h)
{
	return etsi_enc_tri_null(out, h, 3);
}

/* Keep-alive response PDU. */
int etsi_enc_keepalive_response(struct lacre_dbuf *out, const struct etsi_enc_header *h)
{
	return etsi_enc_tri_null(out, h, 4);
}

/* cINReset PDU. */
int etsi_enc_cin_reset(struct lacre_dbuf *out, const struct etsi_enc_header *h)
{
	return etsi_enc_tri_null(out, h, 7);
}

/* Keep-alive response around a copied pSHeader element. */
int etsi_enc_keepalive_response_echo(struct lacre_dbuf *out, int len_style,
    const uint8_t *hdr_tlv, size_t hdr_len)
{
	static const uint8_t payload[] = { 0xa2, 0x04, 0xa2, 0x02, 0x84, 0x00 };
	struct ber_enc e;
	size_t len0 = out->len;

	if (hdr_tlv == NULL || hdr_len < 2 || hdr_tlv[0] != 0xa1)
		return LACRE_E_INVALID;
	ber_enc_init(&e, out, len_style == BER_ENC_LEN_INDEFINITE ? BER_ENC_LEN_MINIMAL : len_style);
	ber_enc_seq(&e);
	ber_enc_raw(&e, hdr_tlv, hdr_len);
	ber_enc_raw(&e, payload, sizeof(payload));
	ber_enc_close(&e);
	return undo(out, len0, ber_enc_finish(&e));
}

/* Write the IntegrityCheck fields (the caller opened the element). */
static void put_integrity_body(struct ber_enc *e, const struct etsi_enc_integrity *ic)
{
	size_t i;

	ber_enc_open(e, CTX, 0);                            /* includedSequenceNumbers */
	for (i = 0; i < ic->n_seqs; i++)
		ber_enc_uint(e, BER_UNIVERSAL, BER_TAG_INTEGER, ic->seqs[i]);
	ber_enc_close(e);
	ber_enc_uint(e, CTX, 1, (uint64_t)ic->check_type);
	if (ic->data_type >= 0)
		ber_enc_uint(e, CTX, 2, (uint64_t)ic->data_type);
	ber_enc_prim(e, CTX, 3, ic->value, ic->value_len);
	if (ic->hash_alg > 0)
		ber_enc_uint(e, CTX, 4, (uint64_t)ic->hash_alg);
	if (ic->sig_alg > 0)
		ber_enc_uint(e, CTX, 5, (uint64_t)ic->sig_alg);
}

/* Validate an IntegrityCheck description. */
static int check_integrity(const struct etsi_enc_integrity *ic)
{
	if (ic == NULL || (ic->n_seqs > 0 && ic->seqs == NULL) ||
	    (ic->value_len > 0 && ic->value == NULL) || ic->check_type < 1)
		return LACRE_E_INVALID;
	return 0;
}

/* Integrity-check PDU. */
int etsi_enc_integrity(struct lacre_dbuf *out, const struct etsi_enc_header *h,
    const struct etsi_enc_integrity *ic)
{
	struct ber_enc e;
	size_t len0 = out->len;
	int r;

	if ((r = check_header(h)) != 0 || (r = check_integrity(ic)) != 0)
		return r;
	ber_enc_init(&e, out, h->len_style);
	begin_pdu(&e, h);
	ber_enc_open(&e, CTX, 2);                           /* tRIPayload */
	ber_enc_open(&e, CTX, 0);                           /* integrityCheck */
	put_integrity_body(&e, ic);
	ber_enc_close(&e);
	ber_enc_close(&e);
	return undo(out, len0, end_pdu(&e));
}

/* The IntegrityCheck element alone, tagged [0]. */
int etsi_enc_integrity_element(struct lacre_dbuf *out, int len_style,
    const struct etsi_enc_integrity *ic)
{
	struct ber_enc e;
	size_t len0 = out->len;
	int r;

	if ((r = check_integrity(ic)) != 0)
		return r;
	ber_enc_init(&e, out, len_style);
	ber_enc_open(&e, CTX, 0);
	put_integrity_body(&e, ic);
	ber_enc_close(&e);
	return undo(out, len0, ber_enc_finish(&e));
}

/* HI1-Operation PDU: A3 { [op] Notification }. */
int etsi_enc_hi1(struct lacre_dbuf *out, const struct etsi_enc_header *h,
    const struct etsi_enc_hi1 *op)
{
	struct ber_enc e;
	size_t len0 = out->len;
	int r;

	if ((r = check_header(h)) != 0)
		return r;
	if (op == NULL || op->op < 1 || op->op > 3 || op->liid == NULL || op->liid_len == 0 ||
	    op->operator_id == NULL || op->time_us < 0)
		return LACRE_E_INVALID;
	ber_enc_init(&e, out, h->len_style);
	ber_enc_seq(&e);
	put_header(&e, h);
	ber_enc_open(&e, CTX, 2);                           /* payload */
	ber_enc_open(&e, CTX, 3);                           /* hI1-Operation */
	ber_enc_open(&e, CTX, (uint32_t)op->op);            /* Notification */
	ber_enc_oid_text(&e, CTX, 0, op->domain_id ? op->domain_id : ETSI_ENC_HI1_DOMAIN, 0);
	ber_enc_prim(&e, CTX, 1, op->liid, op->liid_len);
	ber_enc_open(&e, CTX, 2);                           /* communicationIdentifier */
	if (op->cin_text)
		ber_enc_str(&e, CTX, 0, op->cin_text);
	ber_enc_open(&e, CTX, 1);                           /* network-Identifier */
	ber_enc_str(&e, CTX, 0, op->operator_id);
	if (op->network_element_id) {
		ber_enc_open(&e, CTX, 1);                   /* Network-Element-Identifier */
		ber_enc_str(&e, CTX, 4, op->network_element_id); /* dNS-Format */
		ber_enc_close(&e);
	}
	ber_enc_close(&e);
	ber_enc_close(&e);
	ber_enc_open(&e, CTX, 3);                           /* timeStamp (CHOICE) */
	ber_enc_utctime(&e, CTX, 1, op->time_us);
	ber_enc_close(&e);
	if (op->target_info)
		ber_enc_str(&e, CTX, 6, op->target_info);
	ber_enc_close(&e);
	ber_enc_close(&e);
	return undo(out, len0, end_pdu(&e));
}

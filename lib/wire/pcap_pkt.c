/*
 * pcap_pkt.c - the keyless, SQLite-free half of pcap writing (pcap.h):
 * the file and record headers, a synthetic IPv4/UDP header, and which
 * bytes of a decoded CC record are its IP packet.  Used by `lacre pcap`
 * (lib/access/pcap.c, over the index) and by lacre-verify's extraction
 * (lib/verify/extract.c, over a verified package), which links libcrypto
 * only.
 */
#include <stdint.h>
#include <string.h>

#include "lacre/ber.h"
#include "lacre/err.h"
#include "lacre/etsi.h"
#include "lacre/pcap.h"

/* Little-endian 32-bit store. */
static int pcap_le32(struct lacre_dbuf *b, uint32_t v)
{
	uint8_t x[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };

	return lacre_dbuf_add(b, x, 4);
}

/* The pcap file header (see pcap.h). */
void pcap_global_header(uint8_t out[PCAP_GLOBAL_HEADER])
{
	static const uint8_t h[PCAP_GLOBAL_HEADER] = {
		0xd4, 0xc3, 0xb2, 0xa1,   /* magic, microseconds */
		2, 0, 4, 0,               /* version 2.4 */
		0, 0, 0, 0,               /* thiszone */
		0, 0, 0, 0,               /* sigfigs */
		0x00, 0x00, 0x04, 0x00,   /* snaplen 262144 */
		PCAP_LINKTYPE_RAW, 0, 0, 0
	};

	memcpy(out, h, sizeof(h));
}

/* One packet record (see pcap.h). */
int pcap_record(struct lacre_dbuf *out, int64_t us, const uint8_t *p, size_t n, size_t orig)
{
	size_t before = out->len;
	int64_t sec = us / 1000000, usec = us % 1000000;
	int r;

	if (n > PCAP_SNAPLEN)
		return LACRE_E_TOO_LARGE;
	if (usec < 0) {
		usec += 1000000;
		sec--;
	}
	if (sec < 0 || sec > UINT32_MAX)
		sec = 0;
	if (orig < n || orig > UINT32_MAX)
		orig = n;
	if ((r = pcap_le32(out, (uint32_t)sec)) != LACRE_OK ||
	    (r = pcap_le32(out, (uint32_t)usec)) != LACRE_OK ||
	    (r = pcap_le32(out, (uint32_t)n)) != LACRE_OK ||
	    (r = pcap_le32(out, (uint32_t)orig)) != LACRE_OK ||
	    (r = lacre_dbuf_add(out, p, n)) != LACRE_OK) {
		out->len = before;
		return r;
	}
	return LACRE_OK;
}

/* A synthetic IPv4 (+ UDP) header around p (see pcap.h). */
int pcap_wrap_ipv4(struct lacre_dbuf *out, const uint8_t src[4], const uint8_t dst[4],
		   uint16_t sport, uint16_t dport, int udp, const uint8_t *p, size_t n)
{
	uint8_t h[28];
	size_t hl = udp ? 20 : 28, total = hl + n;
	uint32_t sum = 0;
	int r;

	if (total > 65535)
		return LACRE_E_TOO_LARGE;
	memset(h, 0, sizeof(h));
	h[0] = 0x45;
	h[2] = (uint8_t)(total >> 8);
	h[3] = (uint8_t)total;
	h[6] = 0x40;               /* don't fragment */
	h[8] = 64;                 /* TTL */
	h[9] = 17;                 /* UDP */
	memcpy(h + 12, src, 4);
	memcpy(h + 16, dst, 4);
	for (int i = 0; i < 20; i += 2)
		sum += (uint32_t)h[i] << 8 | h[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	h[10] = (uint8_t)(~sum >> 8);
	h[11] = (uint8_t)~sum;
	if (!udp) {
		h[20] = (uint8_t)(sport >> 8);
		h[21] = (uint8_t)sport;
		h[22] = (uint8_t)(dport >> 8);
		h[23] = (uint8_t)dport;
		h[24] = (uint8_t)((n + 8) >> 8);
		h[25] = (uint8_t)(n + 8);
	}
	lacre_dbuf_reset(out);
	if ((r = lacre_dbuf_add(out, h, hl)) != LACRE_OK || (r = lacre_dbuf_add(out, p, n)) != LACRE_OK)
		return r;
	return LACRE_OK;
}

/* The IP packet inside an EPS CC (TS 33.108 CC-PDU: uLIC-header [1],
 * payload [2] OCTET STRING), as etsi_decode leaves it in content_bytes
 * (the CC-PDU's contents; an outer SEQUENCE is also accepted). */
static int pcap_eps_payload(const struct etsi_bytes *cb, const uint8_t **p, size_t *n)
{
	struct lacre_rbuf b;
	struct ber_tlv t;
	int outer = 0;

	lacre_rbuf_init(&b, cb->p, cb->len);
	while (lacre_rbuf_left(&b)) {
		if (ber_next(&b, &t, BER_MAX_DEPTH) != LACRE_OK)
			return LACRE_E_MALFORMED;
		if (!outer && t.cls == 0 && t.tag == 16 && t.constructed) {
			/* a CC-PDU SEQUENCE around the fields: look inside once */
			outer = 1;
			lacre_rbuf_init(&b, t.value, t.len);
			continue;
		}
		if (t.cls == 2 && t.tag == 2 && !t.constructed && t.len) {
			*p = t.value;
			*n = t.len;
			return LACRE_OK;
		}
	}
	return LACRE_E_NOT_FOUND;
}

/* The IP packet of a decoded CC (see pcap.h). */
int pcap_cc_packet(const struct etsi_pdu *pdu, const uint8_t **p, size_t *n, size_t *orig)
{
	if (pdu->kind != ETSI_KIND_CC || !pdu->content_bytes.p || !pdu->content_bytes.len)
		return LACRE_E_NOT_FOUND;
	switch (pdu->content_tag) {
	case ETSI_CC_IPCC:
		*p = pdu->content_bytes.p;
		*n = *orig = pdu->content_bytes.len;
		if (pdu->ipcc.has_original_length && pdu->ipcc.original_length > *n)
			*orig = pdu->ipcc.original_length > UINT32_MAX ? UINT32_MAX
				: (size_t)pdu->ipcc.original_length;
		return LACRE_OK;
	case ETSI_CC_IPMMCC:
		if (pdu->ipmmcc.frame_type > 0)
			return LACRE_E_UNSUPPORTED;   /* no IP header: the caller wraps it */
		*p = pdu->content_bytes.p;
		*n = *orig = pdu->content_bytes.len;
		return LACRE_OK;
	case ETSI_CC_EPSCC:
		if (pcap_eps_payload(&pdu->content_bytes, p, n) != LACRE_OK)
			return LACRE_E_NOT_FOUND;
		*orig = *n;
		return LACRE_OK;
	case ETSI_CC_3GPP33128:
		if (pdu->xcc_kind != 1 || !pdu->xcc_packet.p || !pdu->xcc_packet.len)
			return LACRE_E_NOT_FOUND;
		*p = pdu->xcc_packet.p;
		*n = *orig = pdu->xcc_packet.len;
		return LACRE_OK;
	default:
		return LACRE_E_NOT_FOUND;
	}
}

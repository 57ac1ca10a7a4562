/*
 * keepalive.c - the one thing lacre ever sends on a handover connection: the
 * keep-alive response (spec §6.1, §6.3).
 *
 * The response is the received pSHeader TLV copied byte for byte (so the
 * sequenceNumber, and every other header field a sender may compare, is
 * echoed by construction) followed by payload [2] -> tRIPayload [2] ->
 * keep-aliveResponse [4] NULL, i.e. A2 04 A2 02 84 00, inside a new outer
 * SEQUENCE 30 with a minimal definite length.  Byte layout: docs/FORMATS.md
 * §1.
 */
#include "lacre/err.h"
#include "lacre/ingest.h"

static const uint8_t ka_resp_payload[6] = { 0xa2, 0x04, 0xa2, 0x02, 0x84, 0x00 };

/* Append a minimal definite BER length. */
static int put_len(struct lacre_dbuf *out, size_t len)
{
	uint8_t b[5];
	size_t n = 0, v = len;

	if (len < 0x80)
		return lacre_dbuf_add_u8(out, (uint8_t)len);
	if (len > 0xffffffffu)
		return LACRE_E_TOO_LARGE;
	while (v) {
		n++;
		v >>= 8;
	}
	b[0] = (uint8_t)(0x80 | n);
	for (v = 0; v < n; v++)
		b[1 + v] = (uint8_t)(len >> (8 * (n - 1 - v)));
	return lacre_dbuf_add(out, b, 1 + n);
}

/* Build the keep-alive response to ka (decoded from the keep-alive's bytes,
 * which must still be valid) and append it to out.  LACRE_E_INVALID when
 * ka is not a keep-alive or has no header. */
int ingest_keepalive_response(const struct etsi_pdu *ka, struct lacre_dbuf *out)
{
	size_t start = out->len, body;
	int r;

	if (ka->kind != ETSI_KIND_KEEPALIVE || !ka->header_tlv.p || ka->header_tlv.len == 0)
		return LACRE_E_INVALID;
	body = ka->header_tlv.len + sizeof(ka_resp_payload);
	if ((r = lacre_dbuf_add_u8(out, 0x30)) != LACRE_OK ||
	    (r = put_len(out, body)) != LACRE_OK ||
	    (r = lacre_dbuf_add(out, ka->header_tlv.p, ka->header_tlv.len)) != LACRE_OK ||
	    (r = lacre_dbuf_add(out, ka_resp_payload, sizeof(ka_resp_payload))) != LACRE_OK)
		goto fail;
	return LACRE_OK;
fail:
	out->len = start;
	return r;
}

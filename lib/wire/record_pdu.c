/*
 * record_pdu.c - the bytes a reader decodes for a sealed record (see
 * include/lacre/record_pdu.h): the pre-encryption form the receiver sealed
 * beside an encrypted PDU, checked against that PDU, else the PDU.
 *
 * The form is decoded like any PS-PDU (etsi_decode sees an
 * EncryptionContainer of encryptionType none(1)); etsi_decrypt with an
 * empty key ring then decodes its EncryptedPayload in clear.  No key is
 * involved anywhere here.
 */
#include <string.h>

#include "lacre/err.h"
#include "lacre/etsi_crypt.h"
#include "lacre/record_pdu.h"

/* A decrypted payload is at most a PDU. */
#define RECORD_PLAIN_MAX ((size_t)FRAME_PDU_MAX + 1)

/* An empty view whose plaintext buffer is secret (wiped on reset/free). */
void record_pdu_init(struct record_pdu *v)
{
	memset(v, 0, sizeof(*v));
	lacre_dbuf_init(&v->plain, RECORD_PLAIN_MAX);
	lacre_dbuf_set_secret(&v->plain);
}

/* Wipe and free the plaintext; the view is empty again. */
void record_pdu_free(struct record_pdu *v)
{
	lacre_dbuf_free(&v->plain);
	memset(&v->pdu, 0, sizeof(v->pdu));
}

/* Offset of q inside base[0..n), or SIZE_MAX when q is not inside it. */
static size_t rp_off(const uint8_t *base, size_t n, const uint8_t *q)
{
	if (!q || q < base || (size_t)(q - base) > n)
		return SIZE_MAX;
	return (size_t)(q - base);
}

/* Is pre the pre-encryption form of the decoded encrypted PDU raw?  Same
 * bytes but the encryptionType octet and the ciphertext; the type is
 * none(1) in pre.  NULL when it is, else what differs. */
static const char *rp_consistent(const struct frame_record *r, const struct etsi_pdu *raw,
				 const struct etsi_pdu *pre)
{
	const uint8_t *a = r->pdu.p, *b = r->pre.p;
	size_t n = r->pdu.len, ty, ct, ctl;

	if (!raw->encrypted || raw->payload != ETSI_PAYLOAD_ENCRYPTED)
		return "the record has a pre-encryption form but its PDU is not encrypted";
	if (raw->enc.type_value.len != 1 || !raw->enc.payload.p)
		return "the PDU's EncryptionContainer has no one-octet type or no payload";
	if (!pre->encrypted || pre->payload != ETSI_PAYLOAD_ENCRYPTED || pre->enc.type != 1)
		return "the pre-encryption form is not an EncryptionContainer of type none";
	ty = rp_off(a, n, raw->enc.type_value.p);
	ct = rp_off(a, n, raw->enc.payload.p);
	ctl = raw->enc.payload.len;
	if (ty == SIZE_MAX || ct == SIZE_MAX || ty >= n || n - ct < ctl || ty >= ct)
		return "the PDU's EncryptionContainer is not inside it";
	if (rp_off(b, n, pre->enc.type_value.p) != ty || pre->enc.type_value.len != 1 ||
	    rp_off(b, n, pre->enc.payload.p) != ct || pre->enc.payload.len != ctl)
		return "the pre-encryption form's container is not where the PDU's is";
	if (memcmp(a, b, ty) != 0 || memcmp(a + ty + 1, b + ty + 1, ct - ty - 1) != 0 ||
	    memcmp(a + ct + ctl, b + ct + ctl, n - ct - ctl) != 0)
		return "the pre-encryption form differs from the PDU outside the encrypted payload";
	return NULL;
}

/* The decoded view of r (see record_pdu.h). */
int record_pdu_decode(const struct frame_record *r, struct record_pdu *v)
{
	static const struct etsi_keyring none; /* no key: type none(1) only */
	struct etsi_pdu raw;
	int rr;

	v->decrypted = 0;
	v->why = NULL;
	lacre_dbuf_reset(&v->plain);
	if (!r->pre.len)
		return etsi_decode(r->pdu.p, r->pdu.len, &v->pdu);
	if ((rr = etsi_decode(r->pdu.p, r->pdu.len, &raw)) != LACRE_OK)
		return rr;
	if (r->pre.len != r->pdu.len ||
	    etsi_decode(r->pre.p, r->pre.len, &v->pdu) != LACRE_OK) {
		v->why = "the pre-encryption form does not decode";
		return LACRE_E_VERIFY;
	}
	if ((v->why = rp_consistent(r, &raw, &v->pdu)) != NULL)
		return LACRE_E_VERIFY;
	if ((rr = etsi_decrypt(&none, INT64_MIN, &v->pdu, &v->plain)) != LACRE_OK) {
		if (rr == LACRE_E_NOMEM)
			return rr;
		v->why = "the pre-encryption form's payload is not a well-formed EncryptedPayload";
		return LACRE_E_VERIFY;
	}
	/* describe the container as received; keep the receiver's flags */
	v->pdu.enc = raw.enc;
	v->pdu.flags |= r->notes;
	v->decrypted = 1;
	return LACRE_OK;
}

/*
 * integrity.c - the IntegrityCheck TRI payload (spec §8): parsing it out of
 * a PS-PDU's bytes, and rebuilding the DER element OpenLI 1.1.20 signs.
 *
 * The fields come from the PS-PDU decoder (etsi.h, struct etsi_integrity):
 * includedSequenceNumbers [0] (OpenLI < 1.1.18 wraps them in one more 30),
 * checkType [1], dataType [2], checkValue [3], hashAlgorithm [4],
 * signatureAlgorithm [5].  The signed element is rebuilt here on its own
 * (DER, fields in tag order) so that it can be checked against the
 * encoder's etsi_enc_integrity_element() in the tests.
 *
 * The verification itself (which bytes to hash, which key) lives in
 * accounting.c, where the retained data PDUs of each chain are.
 */
#include <string.h>

#include "lacre/err.h"
#include "lacre/ingest.h"

/* Fill ic from the decoder's view of an integrity-check PDU.  See ingest.h. */
int ingest_icheck_from(const struct etsi_pdu *d, struct ingest_icheck *ic)
{
	struct lacre_rbuf it;
	struct ingest_icheck tmp;
	size_t cap = ic->n_seqs;
	uint64_t v = 0;            /* set by etsi_seq_next when it returns 1 */
	int r;

	if (d->tri != ETSI_TRI_INTEGRITY || d->kind != ETSI_KIND_INTEGRITY_CHECK)
		return LACRE_E_UNEXPECTED;
	if (d->integrity.check_type < 0 || !d->integrity.check_value.p)
		return LACRE_E_MALFORMED;
	memset(&tmp, 0, sizeof(tmp));
	tmp.seqs = ic->seqs;
	etsi_seq_iter(&d->integrity, &it);
	while ((r = etsi_seq_next(&it, &v)) == 1) {
		if (tmp.n_seqs >= cap)
			return LACRE_E_TOO_LARGE;
		tmp.seqs[tmp.n_seqs++] = (uint32_t)v;
	}
	if (r < 0)
		return r;
	tmp.nested_seqs = d->integrity.legacy_nested;
	tmp.check_type = d->integrity.check_type;
	tmp.data_type = d->integrity.data_type > 0 ? d->integrity.data_type : 0;
	tmp.value = d->integrity.check_value;
	tmp.hash_alg = d->integrity.hash_alg > 0 ? d->integrity.hash_alg : 0;
	tmp.sig_alg = d->integrity.sig_alg > 0 ? d->integrity.sig_alg : 0;
	*ic = tmp;
	return LACRE_OK;
}

/* Append a DER INTEGER (universal 02) for a non-negative v. */
static int der_uint(struct lacre_dbuf *out, uint8_t tag, uint64_t v)
{
	uint8_t b[11];
	size_t n = 0, i;

	do {
		n++;
	} while (n < 8 && (v >> (8 * n)) != 0);
	b[0] = tag;
	if ((v >> (8 * n - 1)) & 1) {      /* top bit set: leading 00 */
		b[1] = (uint8_t)(n + 1);
		b[2] = 0;
		for (i = 0; i < n; i++)
			b[3 + i] = (uint8_t)(v >> (8 * (n - 1 - i)));
		return lacre_dbuf_add(out, b, n + 3);
	}
	b[1] = (uint8_t)n;
	for (i = 0; i < n; i++)
		b[2 + i] = (uint8_t)(v >> (8 * (n - 1 - i)));
	return lacre_dbuf_add(out, b, n + 2);
}

/* Append a definite length.  openli = 0: DER (fewest octets).  openli = 1:
 * as libwandder 2.0.20, OpenLI's encoder, writes it: the length octets are
 * sized like a signed integer, except at exactly 2^(8n-1) (128 -> 81 80,
 * 129..255 -> 82 00 xx, 256..32768 -> 82 xx xx, 32769..65535 -> 83 00 xx xx):
 * the bytes a real OpenLI signature covers. */
static int der_len(struct lacre_dbuf *out, size_t len, int openli)
{
	uint8_t b[6];
	size_t n = 0, v = len, i, o = 1;

	if (len < 0x80)
		return lacre_dbuf_add_u8(out, (uint8_t)len);
	while (v) {
		n++;
		v >>= 8;
	}
	if (n > 4)
		return LACRE_E_TOO_LARGE;
	/* top bit set and not exactly 2^(8n-1): libwandder adds a 00 octet */
	if (openli && (len >> (8 * (n - 1))) >= 0x80 && len != ((size_t)1 << (8 * n - 1))) {
		b[0] = (uint8_t)(0x80 | (n + 1));
		b[o++] = 0;
	} else {
		b[0] = (uint8_t)(0x80 | n);
	}
	for (i = 0; i < n; i++)
		b[o + i] = (uint8_t)(len >> (8 * (n - 1 - i)));
	return lacre_dbuf_add(out, b, o + n);
}

/* The DER bytes OpenLI 1.1.20 signs for a signature PDU.  See ingest.h. */
int ingest_icheck_signed_bytes(const struct ingest_icheck *ic, struct lacre_dbuf *out)
{
	return ingest_icheck_signed_bytes_style(ic, 1, out);
}

/* The signed element with OpenLI's (openli = 1) or DER (0) lengths. */
int ingest_icheck_signed_bytes_style(const struct ingest_icheck *ic, int openli,
				     struct lacre_dbuf *out)
{
	struct lacre_dbuf seqs, body;
	size_t i, start = out->len;
	int r;

	lacre_dbuf_init(&seqs, 1u << 20);
	lacre_dbuf_init(&body, 1u << 20);
	for (i = 0; i < ic->n_seqs; i++)
		if ((r = der_uint(&seqs, 0x02, ic->seqs[i])) != LACRE_OK)
			goto done;
	if ((r = lacre_dbuf_add_u8(&body, 0xa0)) != LACRE_OK ||
	    (r = der_len(&body, seqs.len, openli)) != LACRE_OK ||
	    (seqs.len && (r = lacre_dbuf_add(&body, seqs.p, seqs.len)) != LACRE_OK) ||
	    (r = der_uint(&body, 0x81, (uint64_t)ic->check_type)) != LACRE_OK)
		goto done;
	if (ic->data_type && (r = der_uint(&body, 0x82, (uint64_t)ic->data_type)) != LACRE_OK)
		goto done;
	if ((r = lacre_dbuf_add_u16be(&body, 0x8300)) != LACRE_OK)   /* empty checkValue */
		goto done;
	if (ic->sig_alg && (r = der_uint(&body, 0x85, (uint64_t)ic->sig_alg)) != LACRE_OK)
		goto done;
	if ((r = lacre_dbuf_add_u8(out, 0xa0)) != LACRE_OK ||
	    (r = der_len(out, body.len, openli)) != LACRE_OK ||
	    (r = lacre_dbuf_add(out, body.p, body.len)) != LACRE_OK)
		goto done;
	r = LACRE_OK;
done:
	if (r != LACRE_OK)
		out->len = start;
	lacre_dbuf_free(&seqs);
	lacre_dbuf_free(&body);
	return r;
}

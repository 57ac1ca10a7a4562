/*
 * integrity.c - TS 102 232-1 integrity checks as OpenLI 1.1.20 builds them
 * (../shared/spec/etsi-handover.md §8.3).
 *
 * One chain per (LIID, CIN, IRI|CC) epoch.  Each data PDU's complete BER
 * bytes feed a running digest; after --integrity-every PDUs (and when the
 * activity ends) a hash PDU goes out on the chain's handover with
 * includedSequenceNumbers = the data PDUs' numbers, checkType hash(1),
 * dataType iRI(1)/cC(2), checkValue = digest, hashAlgorithm; hash PDUs are
 * numbered 1, 2, 3 ... per chain.  With --sign-key, after --sign-every hash
 * PDUs (and at the end) a signature PDU follows, numbered 1, 2, 3 ... on its
 * own counter, whose includedSequenceNumbers are the hash PDUs' numbers and
 * whose checkValue is a signature over:
 *   style "spec" (default): the bytes of the interim [0] IntegrityCheck
 *     element with an empty checkValue and the signatureAlgorithm (§8.3),
 *     encoded as libwandder does (DER but for lengths of 129..255, written
 *     82 00 xx, which needs --sign-every of about 38 or more), signed with
 *     EVP_DigestSign (ECDSA/DSA with --sign-digest, EdDSA pure), as
 *     OpenLI 1.1.20's collector_integrity_check.c does;
 *   style "contents": the digest (--sign-digest) of the concatenated
 *     contents of the hash PDUs' IntegrityCheck elements, signed as a
 *     prehashed value (EVP_PKEY_sign): the older mediator-side scheme
 *     (OpenLI's mediator_integrity_check.c, before 1.1.17 moved integrity
 *     to the collector), for testing receivers against it.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "lacre/ber_enc.h"
#include "lacre/err.h"
#include "lacre/etsi_enc.h"
#include "mediator.h"

struct med_integrity {
	const EVP_MD *hash_md;
	int hash_alg;
	unsigned every;
	EVP_PKEY *key;
	const EVP_MD *sign_md;
	int sig_alg;
	int eddsa;
	unsigned sign_every;
	int style;
	struct lacre_dbuf pdu, elem;
};

struct med_chain {
	EVP_MD_CTX *h;
	EVP_MD_CTX *sctx;
	uint32_t *seqs;
	size_t n, cap;
	uint32_t *hseqs;
	size_t hn, hcap;
	uint64_t hash_seq, sign_seq;
};

/* Map a hash name to its digest and ETSI hashAlgorithm value. */
static const EVP_MD *md_by_name(const char *s, int *etsi)
{
	if (!strcmp(s, "sha1") || !strcmp(s, "sha-1")) {
		*etsi = 1;
		return EVP_sha1();
	}
	if (!strcmp(s, "sha256") || !strcmp(s, "sha-256")) {
		*etsi = 2;
		return EVP_sha256();
	}
	if (!strcmp(s, "sha384") || !strcmp(s, "sha-384")) {
		*etsi = 3;
		return EVP_sha384();
	}
	if (!strcmp(s, "sha512") || !strcmp(s, "sha-512")) {
		*etsi = 4;
		return EVP_sha512();
	}
	return NULL;
}

/* Load options: hash method, signing key and digest. */
int med_integrity_init(struct med_ctx *m)
{
	struct med_integrity *in;
	FILE *f;
	int dummy;

	if (!m->o.integrity_hash && !m->o.sign_key)
		return 0;
	if (!(in = calloc(1, sizeof(*in))))
		return LACRE_E_NOMEM;
	m->integ = in;
	lacre_dbuf_init(&in->pdu, MED_MAX_PDU);
	lacre_dbuf_init(&in->elem, 65536);
	in->hash_md = md_by_name(m->o.integrity_hash ? m->o.integrity_hash : "sha256", &in->hash_alg);
	if (!in->hash_md) {
		med_log("unknown --integrity-hash %s: use sha1, sha256, sha384 or sha512", m->o.integrity_hash);
		return LACRE_E_CONFIG;
	}
	in->every = m->o.integrity_every ? m->o.integrity_every : 1000;
	in->sign_every = m->o.sign_every ? m->o.sign_every : 15;
	in->style = m->o.sign_style;
	if (!m->o.sign_key)
		return 0;
	if (!(f = fopen(m->o.sign_key, "r"))) {
		med_log("cannot open --sign-key %s: check the path", m->o.sign_key);
		return LACRE_E_IO;
	}
	in->key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (!in->key) {
		med_log("--sign-key %s holds no PEM private key (unencrypted EC, DSA, Ed448 or Ed25519)", m->o.sign_key);
		return LACRE_E_CONFIG;
	}
	switch (EVP_PKEY_base_id(in->key)) {
	case EVP_PKEY_EC: in->sig_alg = 2; break;
	case EVP_PKEY_DSA: in->sig_alg = 1; break;
	case EVP_PKEY_ED448:
	case EVP_PKEY_ED25519: in->sig_alg = 3; in->eddsa = 1; break;
	default:
		med_log("--sign-key %s: key type not supported (use EC, DSA, Ed448 or Ed25519)", m->o.sign_key);
		return LACRE_E_UNSUPPORTED;
	}
	in->sign_md = md_by_name(m->o.sign_digest ? m->o.sign_digest : "sha256", &dummy);
	if (!in->sign_md) {
		med_log("unknown --sign-digest %s", m->o.sign_digest);
		return LACRE_E_CONFIG;
	}
	return 0;
}

/* A new, empty chain. */
struct med_chain *med_chain_new(struct med_ctx *m)
{
	struct med_chain *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->h = EVP_MD_CTX_new();
	c->sctx = EVP_MD_CTX_new();
	if (!c->h || !c->sctx || EVP_DigestInit_ex(c->h, m->integ->hash_md, NULL) != 1 ||
	    EVP_DigestInit_ex(c->sctx, m->integ->sign_md ? m->integ->sign_md : EVP_sha256(), NULL) != 1) {
		med_chain_free(c);
		return NULL;
	}
	c->hash_seq = 1;
	c->sign_seq = 1;
	return c;
}

/* Append v to a growable array. */
static int push_u32(uint32_t **a, size_t *n, size_t *cap, uint32_t v)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 64;
		uint32_t *p = realloc(*a, nc * sizeof(**a));
		if (!p)
			return LACRE_E_NOMEM;
		*a = p;
		*cap = nc;
	}
	(*a)[(*n)++] = v;
	return 0;
}

/* Contents (value octets) of the TLV p[0..n) (skip identifier and length).
 * An indefinite length (0x80, --lengths indefinite) is accepted when the
 * element is exactly p[0..n): its value octets are the bytes between the
 * length octet and the closing end-of-contents octets 00 00. */
static int tlv_contents(const uint8_t *p, size_t n, const uint8_t **v, size_t *vl)
{
	size_t o = 1, len = 0, k, i;

	if (n < 2)
		return LACRE_E_MALFORMED;
	if (p[o] == 0x80) {
		if (!(p[0] & 0x20) || n < 4 || p[n - 2] != 0 || p[n - 1] != 0)
			return LACRE_E_MALFORMED;
		*v = p + 2;
		*vl = n - 4;
		return 0;
	}
	if (p[o] < 0x80) {
		len = p[o++];
	} else {
		k = p[o++] & 0x7f;
		if (k == 0 || k > 4 || o + k > n)
			return LACRE_E_MALFORMED;
		for (i = 0; i < k; i++)
			len = (len << 8) | p[o++];
	}
	if (len > n - o)
		return LACRE_E_MALFORMED;
	*v = p + o;
	*vl = len;
	return 0;
}

/* Sign and emit the signature PDU over the pending hash PDU numbers. */
static int emit_signature(struct med_ctx *m, struct med_chain *c, const struct etsi_enc_header *h0,
    const struct med_meta *meta, int data_type)
{
	struct med_integrity *in = m->integ;
	struct etsi_enc_integrity ic;
	struct etsi_enc_header h = *h0;
	EVP_MD_CTX *mctx = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	uint8_t *sig = NULL, dg[EVP_MAX_MD_SIZE];
	unsigned dl = 0;
	size_t sl = 0;
	int r = LACRE_E_CRYPTO;

	memset(&ic, 0, sizeof(ic));
	ic.seqs = c->hseqs;
	ic.n_seqs = c->hn;
	ic.check_type = 2;
	ic.data_type = data_type;
	ic.sig_alg = in->sig_alg;
	if (in->style == 0) {
		lacre_dbuf_reset(&in->elem);
		/* libwandder writes the interim element with its own lengths */
		if ((r = etsi_enc_integrity_element(&in->elem, BER_ENC_LEN_OPENLI, &ic)) != 0)
			goto out;
		r = LACRE_E_CRYPTO;
		if (!(mctx = EVP_MD_CTX_new()) ||
		    EVP_DigestSignInit(mctx, NULL, in->eddsa ? NULL : in->sign_md, NULL, in->key) != 1 ||
		    EVP_DigestSign(mctx, NULL, &sl, in->elem.p, in->elem.len) != 1 ||
		    !(sig = OPENSSL_malloc(sl)) ||
		    EVP_DigestSign(mctx, sig, &sl, in->elem.p, in->elem.len) != 1)
			goto out;
	} else {
		if (EVP_DigestFinal_ex(c->sctx, dg, &dl) != 1 ||
		    EVP_DigestInit_ex(c->sctx, in->sign_md, NULL) != 1)
			goto out;
		if (in->eddsa) {
			if (!(mctx = EVP_MD_CTX_new()) ||
			    EVP_DigestSignInit(mctx, NULL, NULL, NULL, in->key) != 1 ||
			    EVP_DigestSign(mctx, NULL, &sl, dg, dl) != 1 || !(sig = OPENSSL_malloc(sl)) ||
			    EVP_DigestSign(mctx, sig, &sl, dg, dl) != 1)
				goto out;
		} else if (!(pctx = EVP_PKEY_CTX_new(in->key, NULL)) || EVP_PKEY_sign_init(pctx) <= 0 ||
		    EVP_PKEY_sign(pctx, NULL, &sl, dg, dl) <= 0 || !(sig = OPENSSL_malloc(sl)) ||
		    EVP_PKEY_sign(pctx, sig, &sl, dg, dl) <= 0) {
			goto out;
		}
	}
	ic.value = sig;
	ic.value_len = sl;
	h.seq = c->sign_seq;
	h.interception_point_id = NULL;
	lacre_dbuf_reset(&in->pdu);
	if ((r = etsi_enc_integrity(&in->pdu, &h, &ic)) != 0)
		goto out;
	if ((r = med_sink_put(m, meta, in->pdu.p, in->pdu.len)) != 0)
		goto out;
	c->sign_seq++;
	c->hn = 0;
	r = 0;
out:
	OPENSSL_free(sig);
	EVP_MD_CTX_free(mctx);
	EVP_PKEY_CTX_free(pctx);
	if (r == LACRE_E_CRYPTO)
		med_log("integrity signature failed: check --sign-key and --sign-digest");
	return r;
}

/* Emit the hash PDU over the pending data PDUs. */
static int emit_hash(struct med_ctx *m, struct med_chain *c, const struct etsi_enc_header *h0,
    const struct med_meta *meta, int data_type)
{
	struct med_integrity *in = m->integ;
	struct etsi_enc_integrity ic;
	struct etsi_enc_header h = *h0;
	uint8_t dg[EVP_MAX_MD_SIZE];
	unsigned dl = 0;
	const uint8_t *v;
	size_t vl;
	int r;

	if (EVP_DigestFinal_ex(c->h, dg, &dl) != 1 || EVP_DigestInit_ex(c->h, in->hash_md, NULL) != 1)
		return LACRE_E_CRYPTO;
	memset(&ic, 0, sizeof(ic));
	ic.seqs = c->seqs;
	ic.n_seqs = c->n;
	ic.check_type = 1;
	ic.data_type = data_type;
	ic.value = dg;
	ic.value_len = dl;
	ic.hash_alg = in->hash_alg;
	h.seq = c->hash_seq;
	h.interception_point_id = NULL;
	lacre_dbuf_reset(&in->pdu);
	if ((r = etsi_enc_integrity(&in->pdu, &h, &ic)) != 0)
		return r;
	if ((r = med_sink_put(m, meta, in->pdu.p, in->pdu.len)) != 0)
		return r;
	c->n = 0;
	if (in->key) {
		if ((r = push_u32(&c->hseqs, &c->hn, &c->hcap, (uint32_t)c->hash_seq)) != 0)
			return r;
		if (in->style == 1) {
			lacre_dbuf_reset(&in->elem);
			if ((r = etsi_enc_integrity_element(&in->elem, h.len_style, &ic)) != 0 ||
			    (r = tlv_contents(in->elem.p, in->elem.len, &v, &vl)) != 0)
				return r;
			if (EVP_DigestUpdate(c->sctx, v, vl) != 1)
				return LACRE_E_CRYPTO;
		}
	}
	c->hash_seq++;
	if (in->key && c->hn >= in->sign_every)
		return emit_signature(m, c, h0, meta, data_type);
	return 0;
}

/* Feed one data PDU into the chain. */
int med_chain_data(struct med_ctx *m, struct med_chain *c, const struct etsi_enc_header *h,
    const struct med_meta *meta, int data_type, const uint8_t *pdu, size_t n)
{
	int r;

	if (EVP_DigestUpdate(c->h, pdu, n) != 1)
		return LACRE_E_CRYPTO;
	if ((r = push_u32(&c->seqs, &c->n, &c->cap, (uint32_t)h->seq)) != 0)
		return r;
	if (c->n >= m->integ->every)
		return emit_hash(m, c, h, meta, data_type);
	return 0;
}

/* Emit the final hash and signature of the chain. */
int med_chain_flush(struct med_ctx *m, struct med_chain *c, const struct etsi_enc_header *h,
    const struct med_meta *meta, int data_type)
{
	int r;

	if (c->n > 0 && (r = emit_hash(m, c, h, meta, data_type)) != 0)
		return r;
	if (m->integ->key && c->hn > 0)
		return emit_signature(m, c, h, meta, data_type);
	return 0;
}

/* Free a chain. */
void med_chain_free(struct med_chain *c)
{
	if (!c)
		return;
	EVP_MD_CTX_free(c->h);
	EVP_MD_CTX_free(c->sctx);
	free(c->seqs);
	free(c->hseqs);
	free(c);
}

/* Free the integrity state. */
void med_integrity_free(struct med_ctx *m)
{
	struct med_integrity *in = m->integ;

	if (!in)
		return;
	EVP_PKEY_free(in->key);
	lacre_dbuf_free(&in->pdu);
	lacre_dbuf_free(&in->elem);
	free(in);
	m->integ = NULL;
}

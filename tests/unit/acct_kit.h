/*
 * acct_kit.h - what the stream-accounting unit tests share
 * (test_ingest_acct.c, test_ingest_acct_pre.c, test_ingest_defer.c): the
 * accounting's events collected as text, a PDU header for a LIID/CIN and
 * number, and a hash PDU whose digest is computed here over the data PDUs
 * it lists (what a sender hashed).  Header-only: each test is one program.
 */
#ifndef LACRE_TESTS_ACCT_KIT_H
#define LACRE_TESTS_ACCT_KIT_H

#include <stdint.h>
#include <string.h>

#include <openssl/evp.h>

#include "lacre/buf.h"
#include "lacre/err.h"
#include "lacre/etsi_enc.h"

/* Events seen, concatenated with newlines. */
static struct lacre_dbuf evs;

/* The accounting's event callback: collect. */
static inline void on_ev(void *arg, const char *json)
{
	(void)arg;
	lacre_dbuf_add_str(&evs, json);
	lacre_dbuf_add_u8(&evs, '\n');
}

/* Occurrences of needle in the events (-1 when they cannot be read). */
static inline int ev_count(const char *needle)
{
	const char *s;
	int n = 0;

	if (lacre_dbuf_cstr(&evs, &s) != LACRE_OK)
		return -1;
	while ((s = strstr(s, needle))) {
		n++;
		s++;
	}
	return n;
}

/* A PDU header for liid/cin numbered seq (operator "op"). */
static inline struct etsi_enc_header hdr(const char *liid, uint32_t cin, uint64_t seq)
{
	struct etsi_enc_header h;

	etsi_enc_header_defaults(&h);
	h.liid = (const uint8_t *)liid;
	h.liid_len = strlen(liid);
	h.operator_id = "op";
	h.has_cin = 1;
	h.cin = cin;
	h.seq = seq;
	return h;
}

/* The IntegrityCheck of a signature PDU: check type 2 over hash PDUs (data
 * type 2) seqs[0..n), signature sig[0..sl) of algorithm alg, for
 * etsi_enc_integrity. */
static inline struct etsi_enc_integrity sig_check(const uint32_t *seqs, size_t n,
						  const uint8_t *sig, size_t sl, int alg)
{
	struct etsi_enc_integrity ic;

	memset(&ic, 0, sizeof(ic));
	ic.seqs = seqs;
	ic.n_seqs = n;
	ic.check_type = 2;
	ic.data_type = 2;
	ic.value = sig;
	ic.value_len = sl;
	ic.sig_alg = alg;
	return ic;
}

/* Into out (reset first): a hash PDU numbered hseq over datas[0..n), which
 * carry the numbers seqs[0..n); data_type 1 IRI, 2 CC; alg 2 SHA-256,
 * 3 SHA-384, 4 SHA-512; corrupt flips one bit of the digest. */
static inline void hash_pdu_over(struct lacre_dbuf *out, const char *liid, uint32_t cin,
				 uint64_t hseq, int data_type, int alg, const uint32_t *seqs,
				 size_t n, const struct lacre_dbuf *datas, int corrupt)
{
	const EVP_MD *md = alg == 3 ? EVP_sha384() : alg == 4 ? EVP_sha512() : EVP_sha256();
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint8_t dig[64];
	unsigned dl = 0;
	struct etsi_enc_header h = hdr(liid, cin, hseq);
	struct etsi_enc_integrity ic;

	EVP_DigestInit_ex(ctx, md, NULL);
	for (size_t i = 0; i < n; i++)
		EVP_DigestUpdate(ctx, datas[i].p, datas[i].len);
	EVP_DigestFinal_ex(ctx, dig, &dl);
	EVP_MD_CTX_free(ctx);
	if (corrupt)
		dig[3] ^= 1;
	memset(&ic, 0, sizeof(ic));
	ic.seqs = seqs;
	ic.n_seqs = n;
	ic.check_type = 1;
	ic.data_type = data_type;
	ic.value = dig;
	ic.value_len = dl;
	ic.hash_alg = alg;
	lacre_dbuf_reset(out);
	etsi_enc_integrity(out, &h, &ic);
}

#endif

/*
 * test_ingest_acct_pre.c - the stream accounting split around its lock
 * (ingest_acct_prepare / ingest_acct_pdu_prepared / ingest_acct_finish,
 * lib/ingest/accounting.c; issue 15): whether the copy of a PDU is made
 * before the lock always, never, or on the receiver's guess, the events
 * and the accounting equal those of ingest_acct_pdu - and so do they when
 * the data PDUs wait in a worker's batch (acct_batch.c) - with hash checks
 * verified, tampered and evicted under a small retention cap; a stream
 * past the integrity probe stops being retained; PDUs evicted under the
 * lock are handed back to be freed after it (ASan: nothing leaks); and a
 * hash PDU whose IntegrityCheck contents are retained for the older
 * signature scheme keeps those contents, not the PDU copied before the
 * lock (signatures verify in every mode).  Copies one thread makes and
 * another frees: test_copy_pool.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "harness.h"
#include "lacre/err.h"
#include "lacre/etsi.h"
#include "lacre/ber.h"
#include "lacre/etsi_enc.h"
#include "lacre/ingest.h"
#include "lacre/json.h"
#include "ingest/ingest_int.h"
#include "acct_kit.h"

enum { M_PLAIN, M_ALWAYS, M_NEVER, M_GUESS, M_BATCH, M_N };

/* M_BATCH: data PDUs wait in a worker's batch (acct_batch.c), applied
 * every BATCH_EVERY of them, before any other PDU and at the end. */
#define BATCH_EVERY 5
static struct ingest_acct_batch wkb;

/* What one run saw: counts over the PDUs fed in a prepared mode. */
struct run_obs {
	unsigned retained, evicted_batches, probe_end_seen;
};

/* One IPCC PDU of 200 bytes of payload marked with mark. */
static void data_pdu(struct lacre_dbuf *b, const char *liid, uint32_t cin, uint64_t seq, uint8_t mark)
{
	struct etsi_enc_header h = hdr(liid, cin, seq);
	uint8_t pkt[200];

	memset(pkt, mark, sizeof(pkt));
	lacre_dbuf_reset(b);
	etsi_enc_ipcc(b, &h, 0, pkt, sizeof(pkt));
}

/* A SHA-256 hash PDU over n data PDUs numbered from first (hash seq hseq). */
static void hash_pdu(struct lacre_dbuf *out, const char *liid, uint32_t cin, uint64_t hseq,
                     uint32_t *seqs, struct lacre_dbuf *datas, size_t n)
{
	hash_pdu_over(out, liid, cin, hseq, 2, 2, seqs, n, datas, 0);
}

/* M_BATCH: apply the batch as a worker does (srv_acct_apply). */
static int batch_apply(struct ingest_acct *a, uint8_t *guess, struct run_obs *o)
{
	size_t i;
	int last;

	if (wkb.n == 0)
		return LACRE_OK;
	ingest_acct_batch_prepare(&wkb);
	ingest_acct_batch_apply(a, &wkb);
	for (i = 0; i < wkb.n; i++) {
		o->retained += (unsigned)wkb.e[i].pre.retained;
		o->evicted_batches += wkb.e[i].pre.evicted != NULL;
	}
	last = ingest_acct_batch_finish(&wkb);
	if (last < 0 || wkb.n != 0)
		return LACRE_E_INTERNAL;         /* finish must empty it */
	*guess = (uint8_t)last;
	return LACRE_OK;
}

/* Account b in mode m; *guess is the receiver's per-connection hint. */
static int feed(struct ingest_acct *a, struct lacre_dbuf *b, int m, uint8_t *guess, struct run_obs *o)
{
	struct ingest_acct_pre p;
	struct etsi_pdu d;
	int r;

	if ((r = etsi_decode(b->p, b->len, &d)) != LACRE_OK)
		return r;
	if (m == M_BATCH && ingest_acct_batchable(&d)) {
		if ((r = ingest_acct_batch_add(&wkb, b->p, b->len, &d, LACRE_HI3, 1, *guess)) != LACRE_OK)
			return r;
		return wkb.n >= BATCH_EVERY ? batch_apply(a, guess, o) : LACRE_OK;
	}
	if (m == M_BATCH && (r = batch_apply(a, guess, o)) != LACRE_OK)
		return r;
	if (m == M_PLAIN)
		return ingest_acct_pdu(a, b->p, b->len, &d, LACRE_HI3, 1);
	ingest_acct_prepare(&p, b->p, b->len, m == M_ALWAYS || (m == M_GUESS && *guess));
	r = ingest_acct_pdu_prepared(a, b->p, b->len, &p, &d, LACRE_HI3, 1);
	o->retained += (unsigned)p.retained;
	o->evicted_batches += p.evicted != NULL;
	*guess = (uint8_t)p.retained;
	ingest_acct_finish(&p);
	if (p.kept != NULL || p.evicted != NULL)
		return LACRE_E_INTERNAL;         /* finish left something behind */
	return r;
}

/* The same traffic in mode m; the events and the accounting JSON into out. */
static void run(int m, struct lacre_dbuf *out, struct run_obs *o)
{
	struct ingest_acct *a;
	struct lacre_dbuf datas[6], b;
	uint32_t seqs[6];
	uint8_t guess = 0;
	uint64_t q = 0, hseq = 1;
	struct json_w w;
	const char *txt;

	memset(o, 0, sizeof(*o));
	lacre_dbuf_init(&evs, 1u << 22);
	lacre_dbuf_init(&b, 1u << 16);
	for (size_t i = 0; i < 6; i++)
		lacre_dbuf_init(&datas[i], 1u << 16);
	/* a cap of about 12 retained PDUs: chains of 6 fit, older ones go */
	CHECK_OK(ingest_acct_new(12 * 400, on_ev, NULL, &a));
	ingest_acct_batch_init(&wkb);
	for (size_t round = 0; round < 40; round++) {
		/* the hashed stream: 6 data PDUs, then their hash; in round 35
		 * one PDU is altered in transit (a mismatch) */
		for (size_t i = 0; i < 6; i++, q++) {
			data_pdu(&datas[i], "LIH", 3, q, (uint8_t)q);
			seqs[i] = (uint32_t)q;
			if (round == 35 && i == 2) {
				data_pdu(&b, "LIH", 3, q, 0xee);
				CHECK_OK(feed(a, &b, m, &guess, o));
			} else {
				CHECK_OK(feed(a, &datas[i], m, &guess, o));
			}
		}
		/* the plain stream, interleaved on the same connection: 40 a round,
		 * past the integrity probe (1100) by the end; it evicts the hashed
		 * stream's PDUs while it is retained, so some checks miss */
		for (size_t i = 0; i < 40; i++) {
			data_pdu(&b, "LIP", 5, round * 40 + i, (uint8_t)i);
			CHECK_OK(feed(a, &b, m, &guess, o));
		}
		hash_pdu(&b, "LIH", 3, hseq++, seqs, datas, 6);
		CHECK_OK(feed(a, &b, m, &guess, o));
	}
	/* past the probe: the plain stream is no longer retained */
	data_pdu(&b, "LIP", 5, 1600, 1);
	{
		unsigned before = o->retained;
		CHECK_OK(feed(a, &b, m, &guess, o));
		if (m == M_BATCH)
			CHECK_OK(batch_apply(a, &guess, o));
		o->probe_end_seen = o->retained == before;
	}
	lacre_dbuf_add(out, evs.p, evs.len);
	json_init(&w, out);
	json_obj_begin(&w);
	CHECK_OK(ingest_acct_json(a, &w));
	json_obj_end(&w);
	CHECK_OK(json_finish(&w));
	CHECK_OK(lacre_dbuf_cstr(out, &txt));
	ingest_acct_free(a);
	ingest_acct_batch_free(&wkb);
	for (size_t i = 0; i < 6; i++)
		lacre_dbuf_free(&datas[i]);
	lacre_dbuf_free(&b);
	lacre_dbuf_free(&evs);
}

/* Occurrences of needle in s. */
static int count(const char *s, const char *needle)
{
	int n = 0;

	while ((s = strstr(s, needle))) {
		n++;
		s++;
	}
	return n;
}

/* Every mode gives ingest_acct_pdu's events and accounting. */
static void test_modes_agree(void)
{
	struct lacre_dbuf out[M_N];
	struct run_obs o[M_N];
	const char *ref;

	for (int m = 0; m < M_N; m++) {
		lacre_dbuf_init(&out[m], 1u << 23);
		run(m, &out[m], &o[m]);
	}
	CHECK_OK(lacre_dbuf_cstr(&out[M_PLAIN], &ref));
	/* the reference itself saw what the traffic holds */
	CHECK(count(ref, "\"result\":\"verified\"") > 0);
	CHECK(count(ref, "\"result\":\"mismatch\"") >= 1);
	CHECK(count(ref, "\"result\":\"missing\"") + count(ref, "\"result\":\"evicted\"") +
	      count(ref, "\"result\":\"unverifiable\"") > 0);
	for (int m = M_ALWAYS; m < M_N; m++) {
		CHECK_EQ_INT(out[m].len, out[M_PLAIN].len);
		CHECK(out[m].len == out[M_PLAIN].len && memcmp(out[m].p, out[M_PLAIN].p, out[m].len) == 0);
		CHECK(o[m].retained > 0);
		CHECK(o[m].evicted_batches > 0);      /* evictions came back to be freed */
		CHECK(o[m].probe_end_seen);
		CHECK_EQ_INT(o[m].retained, o[M_ALWAYS].retained);
	}
	for (int m = 0; m < M_N; m++)
		lacre_dbuf_free(&out[m]);
}

/* The older signature scheme (lacre-mediator --sign-style contents): 3 hash
 * PDUs, each over 2 data PDUs, then a signature (ECDSA P-256, prehashed)
 * over the SHA-256 of their IntegrityCheck contents.  The receiver retains
 * those contents, a part of each hash PDU: with a copy of the whole PDU
 * prepared before the lock, it must still retain the part. */
static void test_signature_contents(void)
{
	EVP_PKEY *k = NULL;
	EVP_PKEY_CTX *kc = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL), *sc = NULL;
	char path[4096];
	FILE *fp;

	CHECK(kc != NULL);
	CHECK(EVP_PKEY_keygen_init(kc) == 1);
	CHECK(EVP_PKEY_CTX_set_ec_paramgen_curve_nid(kc, NID_X9_62_prime256v1) == 1);
	CHECK(EVP_PKEY_keygen(kc, &k) == 1);
	EVP_PKEY_CTX_free(kc);
	snprintf(path, sizeof(path), "%s/pre_pub.pem", t_tmpdir());
	fp = fopen(path, "w");
	CHECK(fp != NULL);
	PEM_write_PUBKEY(fp, k);
	fclose(fp);
	for (int m = 0; m < M_N; m++) {
		struct ingest_acct *a;
		struct lacre_dbuf datas[2], hb[3], b;
		struct ingest_integrity_stats is;
		struct run_obs o;
		uint32_t seqs[2], hs[3] = { 1, 2, 3 };
		uint8_t guess = 0, dg[32], sig[128];
		unsigned dl = 0;
		size_t sl = sizeof(sig);
		EVP_MD_CTX *md = EVP_MD_CTX_new();
		struct etsi_enc_header h = hdr("LIS", 4, 1);
		struct etsi_enc_integrity ic;

		memset(&o, 0, sizeof(o));
		lacre_dbuf_init(&evs, 1u << 20);
		lacre_dbuf_init(&b, 1u << 16);
		CHECK_OK(ingest_acct_new(1u << 20, on_ev, NULL, &a));
		CHECK_OK(ingest_acct_set_sigkey(a, path, "sha256"));
		ingest_acct_batch_init(&wkb);
		EVP_DigestInit_ex(md, EVP_sha256(), NULL);
		for (uint64_t q = 0, hq = 0; hq < 3; hq++) {
			for (size_t i = 0; i < 2; i++, q++) {
				lacre_dbuf_init(&datas[i], 1u << 16);
				data_pdu(&datas[i], "LIS", 4, q, (uint8_t)q);
				seqs[i] = (uint32_t)q;
				CHECK_OK(feed(a, &datas[i], m, &guess, &o));
			}
			lacre_dbuf_init(&hb[hq], 1u << 16);
			hash_pdu(&hb[hq], "LIS", 4, hq + 1, seqs, datas, 2);
			CHECK_OK(feed(a, &hb[hq], m, &guess, &o));
			{
				/* the signed bytes: the IntegrityCheck element's contents */
				struct etsi_pdu d;
				struct lacre_rbuf tb;
				struct ber_tlv t;
				CHECK_OK(etsi_decode(hb[hq].p, hb[hq].len, &d));
				lacre_rbuf_init(&tb, d.integrity.tlv.p, d.integrity.tlv.len);
				CHECK_OK(ber_next(&tb, &t, 8));
				EVP_DigestUpdate(md, t.value, t.len);
			}
			for (size_t i = 0; i < 2; i++)
				lacre_dbuf_free(&datas[i]);
		}
		EVP_DigestFinal_ex(md, dg, &dl);
		EVP_MD_CTX_free(md);
		CHECK((sc = EVP_PKEY_CTX_new(k, NULL)) != NULL);
		CHECK(EVP_PKEY_sign_init(sc) == 1);
		CHECK(EVP_PKEY_sign(sc, sig, &sl, dg, dl) == 1);
		EVP_PKEY_CTX_free(sc);
		ic = sig_check(hs, 3, sig, sl, 2);
		CHECK_OK(etsi_enc_integrity(&b, &h, &ic));
		CHECK_OK(feed(a, &b, m, &guess, &o));
		ingest_acct_integrity(a, &is);
		CHECK_EQ_INT(is.hash_ok, 3);
		CHECK_EQ_INT(is.sig_pdus, 1);
		CHECK_EQ_INT(is.sig_ok, 1);
		ingest_acct_free(a);
		ingest_acct_batch_free(&wkb);
		for (size_t i = 0; i < 3; i++)
			lacre_dbuf_free(&hb[i]);
		lacre_dbuf_free(&b);
		lacre_dbuf_free(&evs);
	}
	EVP_PKEY_free(k);
}

int main(void)
{
	RUN(test_modes_agree);
	RUN(test_signature_contents);
	return t_done();
}

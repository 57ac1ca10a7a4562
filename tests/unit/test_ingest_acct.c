/*
 * test_ingest_acct.c - stream accounting (gaps, late arrivals, duplicates,
 * restarts, cINReset on the same and on the other connection) and
 * integrity-check verification (hash good/bad/missing with SHA-256/384/512,
 * signature good/bad with ECDSA P-256 and Ed448) in lib/ingest/accounting.c;
 * the persisted stream state (save, load, missing and corrupt files), the
 * trimming of idle streams and the eviction order of retained PDUs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "harness.h"
#include "lacre/ber_enc.h"
#include "lacre/err.h"
#include "lacre/etsi.h"
#include "lacre/etsi_enc.h"
#include "lacre/ingest.h"
#include "acct_kit.h"

/* Build one CC (kind 2) or IRI PDU numbered seq with a payload marker. */
static void pdu(struct lacre_dbuf *b, int cc, const char *liid, uint32_t cin, uint64_t seq, uint8_t mark)
{
	struct etsi_enc_header h = hdr(liid, cin, seq);
	uint8_t pkt[64];
	struct etsi_enc_ipaddr a;

	memset(pkt, mark, sizeof(pkt));
	lacre_dbuf_reset(b);
	if (cc) {
		etsi_enc_ipcc(b, &h, 0, pkt, sizeof(pkt));
	} else {
		memset(&a, 0, sizeof(a));
		etsi_enc_ipmmiri(b, &h, 4, &a, &a, pkt, sizeof(pkt));
	}
}

/* Decode b and account it. */
static int feed(struct ingest_acct *a, struct lacre_dbuf *b, int listener)
{
	struct etsi_pdu d;
	int r;

	if ((r = etsi_decode(b->p, b->len, &d)) != LACRE_OK)
		return r;
	return ingest_acct_pdu(a, b->p, b->len, &d, listener, 1);
}

static int stats(struct ingest_acct *a, const char *liid, uint32_t cin, int kind,
                 struct ingest_stream_stats *st)
{
	return ingest_acct_stream(a, (const uint8_t *)liid, strlen(liid), cin, kind, st);
}

/* Duplicates are told from restarts by a hash of the whole PDU: a resend
 * with any one payload byte changed is a restart, the same bytes a
 * duplicate (every byte position: each of the hash's chains and its tail
 * take part). */
static void test_duplicate_every_byte(void)
{
	struct ingest_acct *a;
	struct lacre_dbuf b;
	struct ingest_stream_stats st;
	size_t i, len;

	lacre_dbuf_init(&evs, 1u << 20);
	lacre_dbuf_init(&b, 1u << 16);
	pdu(&b, 1, "LID", 4, 0, 7);
	len = b.len;
	for (i = len - 64; i <= len; i++) {
		CHECK_OK(ingest_acct_new(1u << 20, on_ev, NULL, &a));
		pdu(&b, 1, "LID", 4, 0, 7);
		CHECK_OK(feed(a, &b, LACRE_HI3));
		pdu(&b, 1, "LID", 4, 1, 7);
		CHECK_OK(feed(a, &b, LACRE_HI3));
		pdu(&b, 1, "LID", 4, 0, 7);
		if (i < len)
			b.p[i] ^= 0x01;                    /* i == len: the same bytes */
		CHECK_OK(feed(a, &b, LACRE_HI3));
		CHECK_OK(stats(a, "LID", 4, ETSI_KIND_CC, &st));
		if (i < len) {
			CHECK_EQ_INT(st.restarts, 1);
			CHECK_EQ_INT(st.duplicates, 0);
		} else {
			CHECK_EQ_INT(st.restarts, 0);
			CHECK_EQ_INT(st.duplicates, 1);
		}
		ingest_acct_free(a);
	}
	lacre_dbuf_free(&b);
	lacre_dbuf_free(&evs);
}

/* In order, then a gap, a late arrival, a duplicate and a restart. */
static void test_gap_late_duplicate_restart(void)
{
	struct ingest_acct *a;
	struct lacre_dbuf b;
	struct ingest_stream_stats st;
	static const uint64_t order[] = { 0, 1, 2, 5, 6, 3 };

	lacre_dbuf_init(&evs, 1u << 20);
	lacre_dbuf_init(&b, 1u << 16);
	CHECK_OK(ingest_acct_new(1u << 20, on_ev, NULL, &a));
	for (size_t i = 0; i < 6; i++) {
		pdu(&b, 1, "LI1", 9, order[i], (uint8_t)order[i]);
		CHECK_OK(feed(a, &b, LACRE_HI3));
	}
	CHECK_OK(stats(a, "LI1", 9, ETSI_KIND_CC, &st));
	CHECK_EQ_INT(st.received, 6);
	CHECK_EQ_INT(st.gaps, 1);
	CHECK_EQ_INT(st.missing, 1);        /* 4 still missing, 3 came late */
	CHECK_EQ_INT(st.late, 1);
	CHECK_EQ_INT(st.next_expected, 7);
	CHECK_EQ_INT(ev_count("\"event\":\"gap\""), 1);
	CHECK_EQ_INT(ev_count("\"from\":3,\"to\":4,\"missing\":2"), 1);
	CHECK_EQ_INT(ev_count("\"event\":\"late\""), 1);

	/* same bytes again: duplicate */
	pdu(&b, 1, "LI1", 9, 5, 5);
	CHECK_OK(feed(a, &b, LACRE_HI3));
	CHECK_OK(stats(a, "LI1", 9, ETSI_KIND_CC, &st));
	CHECK_EQ_INT(st.duplicates, 1);
	CHECK_EQ_INT(ev_count("\"event\":\"duplicate\""), 1);
	CHECK_EQ_INT(ev_count("\"verified\":true"), 1);

	/* different bytes under a known number: restart, new epoch */
	pdu(&b, 1, "LI1", 9, 6, 0x77);
	CHECK_OK(feed(a, &b, LACRE_HI3));
	CHECK_OK(stats(a, "LI1", 9, ETSI_KIND_CC, &st));
	CHECK_EQ_INT(st.restarts, 1);
	CHECK_EQ_INT(st.next_expected, 7);
	CHECK_EQ_INT(ev_count("\"event\":\"restart\""), 1);

	/* back to 0, unknown bytes: restart too; then 1, 2 continue it */
	for (uint64_t q = 0; q < 3; q++) {
		pdu(&b, 1, "LI1", 9, q, 0x40);
		CHECK_OK(feed(a, &b, LACRE_HI3));
	}
	CHECK_OK(stats(a, "LI1", 9, ETSI_KIND_CC, &st));
	CHECK_EQ_INT(st.restarts, 2);
	CHECK_EQ_INT(st.gaps, 1);
	CHECK_EQ_INT(st.next_expected, 3);
	/* IRI and CC of the same LIID/CIN are separate streams */
	CHECK_EQ_INT(stats(a, "LI1", 9, ETSI_KIND_IRI, &st), LACRE_E_NOT_FOUND);
	ingest_acct_free(a);
	lacre_dbuf_free(&b);
	lacre_dbuf_free(&evs);
}

/* A first number above 0 is a gap from 0; sequence wrap is not. */
static void test_start_and_wrap(void)
{
	struct ingest_acct *a;
	struct lacre_dbuf b;
	struct ingest_stream_stats st;

	lacre_dbuf_init(&evs, 1u << 20);
	lacre_dbuf_init(&b, 1u << 16);
	CHECK_OK(ingest_acct_new(0, on_ev, NULL, &a));
	pdu(&b, 0, "LIW", 1, 0xfffffffeu, 1);
	CHECK_OK(feed(a, &b, LACRE_HI2));
	pdu(&b, 0, "LIW", 1, 0xffffffffu, 2);
	CHECK_OK(feed(a, &b, LACRE_HI2));
	pdu(&b, 0, "LIW", 1, 0, 3);
	CHECK_OK(feed(a, &b, LACRE_HI2));
	CHECK_OK(stats(a, "LIW", 1, ETSI_KIND_IRI, &st));
	CHECK_EQ_INT(st.received, 3);
	CHECK_EQ_INT(st.gaps, 1);             /* 0 .. 2^32-3 before the first */
	CHECK_EQ_INT(st.missing, 0xfffffffeu);
	CHECK_EQ_INT(st.restarts, 0);
	CHECK_EQ_INT(st.next_expected, 1);
	ingest_acct_free(a);
	lacre_dbuf_free(&b);
	lacre_dbuf_free(&evs);
}

/* cINReset: on the IRI's own connection it applies at once; the CC stream
 * on the other connection keeps its stragglers and starts its new epoch
 * when it goes back to 0; and a restart seen before the reset is explained
 * by it. */
static void test_cin_reset(void)
{
	struct ingest_acct *a;
	struct lacre_dbuf b;
	struct ingest_stream_stats st;
	struct etsi_enc_header h = hdr("LIR", 5, 0);
	uint64_t q;

	lacre_dbuf_init(&evs, 1u << 20);
	lacre_dbuf_init(&b, 1u << 16);
	CHECK_OK(ingest_acct_new(0, on_ev, NULL, &a));
	for (q = 0; q < 10; q++) {
		pdu(&b, 0, "LIR", 5, q, 1);
		CHECK_OK(feed(a, &b, LACRE_HI2));
		pdu(&b, 1, "LIR", 5, q, 2);
		CHECK_OK(feed(a, &b, LACRE_HI3));
	}
	lacre_dbuf_reset(&b);
	CHECK_OK(etsi_enc_cin_reset(&b, &h));
	CHECK_OK(feed(a, &b, LACRE_HI2));
	/* CC straggler of the old epoch, then the new epoch from 0 */
	pdu(&b, 1, "LIR", 5, 10, 2);
	CHECK_OK(feed(a, &b, LACRE_HI3));
	for (q = 0; q < 3; q++) {
		pdu(&b, 0, "LIR", 5, q, 3);
		CHECK_OK(feed(a, &b, LACRE_HI2));
		pdu(&b, 1, "LIR", 5, q, 4);
		CHECK_OK(feed(a, &b, LACRE_HI3));
	}
	CHECK_OK(stats(a, "LIR", 5, ETSI_KIND_IRI, &st));
	CHECK_EQ_INT(st.received, 13);
	CHECK_EQ_INT(st.resets, 1);
	CHECK_EQ_INT(st.gaps + st.restarts + st.duplicates, 0);
	CHECK_EQ_INT(st.next_expected, 3);
	CHECK_OK(stats(a, "LIR", 5, ETSI_KIND_CC, &st));
	CHECK_EQ_INT(st.received, 14);
	CHECK_EQ_INT(st.resets, 1);
	CHECK_EQ_INT(st.gaps + st.restarts + st.duplicates, 0);
	CHECK_EQ_INT(st.next_expected, 3);

	/* the other order: the CC restart arrives before the reset */
	for (q = 3; q < 6; q++) {
		pdu(&b, 1, "LIR", 5, q, 4);
		CHECK_OK(feed(a, &b, LACRE_HI3));
	}
	pdu(&b, 1, "LIR", 5, 0, 5);
	CHECK_OK(feed(a, &b, LACRE_HI3));
	lacre_dbuf_reset(&b);
	CHECK_OK(etsi_enc_cin_reset(&b, &h));
	CHECK_OK(feed(a, &b, LACRE_HI2));
	pdu(&b, 1, "LIR", 5, 1, 5);
	CHECK_OK(feed(a, &b, LACRE_HI3));
	CHECK_OK(stats(a, "LIR", 5, ETSI_KIND_CC, &st));
	CHECK_EQ_INT(st.resets, 2);
	CHECK_EQ_INT(st.restarts, 0);
	CHECK_EQ_INT(st.gaps, 0);
	CHECK_EQ_INT(st.next_expected, 2);
	CHECK_EQ_INT(ev_count("\"event\":\"cin-reset\""), 2);
	ingest_acct_free(a);
	lacre_dbuf_free(&b);
	lacre_dbuf_free(&evs);
}

#define hash_pdu hash_pdu_over /* acct_kit.h */

/* A cINReset on HI2, then the CC connection reconnects and resends its
 * last old-epoch PDUs before the new epoch starts: they are duplicates,
 * the new epoch is a reset (not a restart), and no gap is invented.  Two
 * resets before the CC stream moves are applied one epoch each. */
static void test_reset_then_resend(void)
{
	struct ingest_acct *a;
	struct lacre_dbuf b;
	struct ingest_stream_stats st;
	struct etsi_enc_header h = hdr("LIX", 6, 0);
	uint64_t q;

	lacre_dbuf_init(&evs, 1u << 20);
	lacre_dbuf_init(&b, 1u << 16);
	CHECK_OK(ingest_acct_new(1u << 20, on_ev, NULL, &a));
	for (q = 0; q < 20; q++) {
		pdu(&b, 1, "LIX", 6, q, 1);
		CHECK_OK(feed(a, &b, LACRE_HI3));
	}
	lacre_dbuf_reset(&b);
	CHECK_OK(etsi_enc_cin_reset(&b, &h));
	CHECK_OK(feed(a, &b, LACRE_HI2));
	for (q = 17; q < 20; q++) {          /* resent after a reconnect */
		pdu(&b, 1, "LIX", 6, q, 1);
		CHECK_OK(feed(a, &b, LACRE_HI3));
	}
	for (q = 0; q < 5; q++) {            /* the new epoch */
		pdu(&b, 1, "LIX", 6, q, 2);
		CHECK_OK(feed(a, &b, LACRE_HI3));
	}
	/* two resets, then two epochs on the other connection */
	lacre_dbuf_reset(&b);
	CHECK_OK(etsi_enc_cin_reset(&b, &h));
	CHECK_OK(feed(a, &b, LACRE_HI2));
	CHECK_OK(feed(a, &b, LACRE_HI2));
	for (int e = 3; e <= 4; e++)
		for (q = 0; q < 4; q++) {
			pdu(&b, 1, "LIX", 6, q, (uint8_t)e);
			CHECK_OK(feed(a, &b, LACRE_HI3));
		}
	CHECK_OK(stats(a, "LIX", 6, ETSI_KIND_CC, &st));
	CHECK_EQ_INT(st.received, 20 + 3 + 5 + 8);
	CHECK_EQ_INT(st.duplicates, 3);
	CHECK_EQ_INT(st.resets, 3);
	CHECK_EQ_INT(st.restarts, 0);
	CHECK_EQ_INT(st.gaps, 0);
	CHECK_EQ_INT(st.next_expected, 4);

	/* the reset overtakes the CC stream's only old-epoch PDU (the CC
	 * connection is behind): no restart when the new epoch begins */
	{
		struct etsi_enc_header h2 = hdr("LIY", 7, 0);
		lacre_dbuf_reset(&b);
		CHECK_OK(etsi_enc_cin_reset(&b, &h2));
		CHECK_OK(feed(a, &b, LACRE_HI2));
		pdu(&b, 1, "LIY", 7, 0, 1);          /* old epoch */
		CHECK_OK(feed(a, &b, LACRE_HI3));
		pdu(&b, 1, "LIY", 7, 0, 2);          /* new epoch */
		CHECK_OK(feed(a, &b, LACRE_HI3));
		pdu(&b, 1, "LIY", 7, 1, 2);
		CHECK_OK(feed(a, &b, LACRE_HI3));
		CHECK_OK(stats(a, "LIY", 7, ETSI_KIND_CC, &st));
		CHECK_EQ_INT(st.received, 3);
		CHECK_EQ_INT(st.restarts + st.gaps + st.duplicates, 0);
		CHECK_EQ_INT(st.resets, 1);
	}
	/* a hash chain (counts from 1) on the CC connection, reset from HI2:
	 * epoch 1 = data 0 + hash 1, reset, epoch 2 = data 0 + hash 1 */
	{
		struct etsi_enc_header h3 = hdr("LIZ", 8, 0);
		struct lacre_dbuf d0;
		struct ingest_integrity_stats is;
		uint32_t zero = 0;
		lacre_dbuf_init(&d0, 1u << 16);
		for (q = 0; q < 2; q++) {
			pdu(&d0, 1, "LIZ", 8, 0, (uint8_t)(q + 1));
			CHECK_OK(feed(a, &d0, LACRE_HI3));
			hash_pdu(&b, "LIZ", 8, 1, 2, 2, &zero, 1, &d0, 0);
			CHECK_OK(feed(a, &b, LACRE_HI3));
			if (q == 0) {
				lacre_dbuf_reset(&b);
				CHECK_OK(etsi_enc_cin_reset(&b, &h3));
				CHECK_OK(feed(a, &b, LACRE_HI2));
			}
		}
		ingest_acct_integrity(a, &is);
		CHECK_EQ_INT(is.hash_pdus, 2);
		CHECK_EQ_INT(is.hash_ok, 2);
		lacre_dbuf_free(&d0);
	}
	CHECK_EQ_INT(ev_count("\"event\":\"restart\""), 0);
	CHECK_EQ_INT(ev_count("\"event\":\"gap\""), 0);
	ingest_acct_free(a);
	lacre_dbuf_free(&b);
	lacre_dbuf_free(&evs);
}

/* Hash PDUs: verified with each algorithm, mismatch and missing raise
 * alerts; the hash PDUs' own numbers (from 1) are a separate stream. */
static void test_integrity_hash(void)
{
	struct ingest_acct *a;
	struct lacre_dbuf datas[5], b;
	struct ingest_integrity_stats is;
	struct ingest_stream_stats st;
	uint32_t seqs[5];
	uint64_t hseq = 1;
	static const int algs[] = { 2, 3, 4 };

	lacre_dbuf_init(&evs, 1u << 20);
	lacre_dbuf_init(&b, 1u << 16);
	CHECK_OK(ingest_acct_new(1u << 20, on_ev, NULL, &a));
	for (size_t round = 0; round < 3; round++) {
		for (size_t i = 0; i < 5; i++) {
			uint64_t q = round * 5 + i;
			lacre_dbuf_init(&datas[i], 1u << 16);
			pdu(&datas[i], 1, "LIH", 3, q, (uint8_t)q);
			seqs[i] = (uint32_t)q;
			CHECK_OK(feed(a, &datas[i], LACRE_HI3));
		}
		hash_pdu(&b, "LIH", 3, hseq++, 2, algs[round], seqs, 5, datas, 0);
		CHECK_OK(feed(a, &b, LACRE_HI3));
		for (size_t i = 0; i < 5; i++)
			lacre_dbuf_free(&datas[i]);
	}
	ingest_acct_integrity(a, &is);
	CHECK_EQ_INT(is.hash_pdus, 3);
	CHECK_EQ_INT(is.hash_ok, 3);
	CHECK_EQ_INT(ev_count("\"result\":\"verified\""), 3);

	/* corrupted digest: mismatch */
	for (size_t i = 0; i < 5; i++) {
		uint64_t q = 15 + i;
		lacre_dbuf_init(&datas[i], 1u << 16);
		pdu(&datas[i], 1, "LIH", 3, q, (uint8_t)q);
		seqs[i] = (uint32_t)q;
		CHECK_OK(feed(a, &datas[i], LACRE_HI3));
	}
	hash_pdu(&b, "LIH", 3, hseq++, 2, 2, seqs, 5, datas, 1);
	CHECK_OK(feed(a, &b, LACRE_HI3));
	ingest_acct_integrity(a, &is);
	CHECK_EQ_INT(is.hash_mismatch, 1);
	CHECK_EQ_INT(ev_count("\"result\":\"mismatch\""), 1);

	/* a data PDU that changed in transit: mismatch */
	for (size_t i = 0; i < 5; i++) {
		uint64_t q = 20 + i;
		pdu(&datas[i], 1, "LIH", 3, q, (uint8_t)q);
		seqs[i] = (uint32_t)q;
		if (i == 2) {
			struct lacre_dbuf t;
			lacre_dbuf_init(&t, 1u << 16);
			pdu(&t, 1, "LIH", 3, q, 0xee);
			CHECK_OK(feed(a, &t, LACRE_HI3));
			lacre_dbuf_free(&t);
		} else {
			CHECK_OK(feed(a, &datas[i], LACRE_HI3));
		}
	}
	hash_pdu(&b, "LIH", 3, hseq++, 2, 2, seqs, 5, datas, 0);
	CHECK_OK(feed(a, &b, LACRE_HI3));
	ingest_acct_integrity(a, &is);
	CHECK_EQ_INT(is.hash_mismatch, 2);

	/* one listed PDU never arrived: missing */
	for (size_t i = 0; i < 5; i++) {
		uint64_t q = 25 + i;
		pdu(&datas[i], 1, "LIH", 3, q, (uint8_t)q);
		seqs[i] = (uint32_t)q;
		if (i != 1)
			CHECK_OK(feed(a, &datas[i], LACRE_HI3));
	}
	hash_pdu(&b, "LIH", 3, hseq++, 2, 2, seqs, 5, datas, 0);
	CHECK_OK(feed(a, &b, LACRE_HI3));
	ingest_acct_integrity(a, &is);
	CHECK_EQ_INT(is.hash_missing, 1);
	CHECK_EQ_INT(ev_count("\"result\":\"missing\""), 1);
	CHECK_EQ_INT(ev_count("\"alert\":true"), 4);   /* 2 mismatch, 1 missing, 1 gap */
	for (size_t i = 0; i < 5; i++)
		lacre_dbuf_free(&datas[i]);

	/* data stream counted 29 data PDUs, hash stream 6 from 1, no gap */
	CHECK_OK(stats(a, "LIH", 3, ETSI_KIND_CC, &st));
	CHECK_EQ_INT(st.received, 29);
	CHECK_EQ_INT(st.gaps, 1);
	CHECK_EQ_INT(ev_count("\"check\":\"hash\""), 6);
	{
		struct lacre_dbuf j;
		struct json_w w;
		const char *txt;
		lacre_dbuf_init(&j, 1u << 20);
		json_init(&w, &j);
		json_obj_begin(&w);
		CHECK_OK(ingest_acct_json(a, &w));
		json_obj_end(&w);
		CHECK_OK(json_finish(&w));
		CHECK_OK(lacre_dbuf_cstr(&j, &txt));
		CHECK(strstr(txt, "\"LIH/3/cc\":{\"received\":29,\"gaps\":1,\"missing\":1,") != NULL);
		CHECK(strstr(txt, "\"integrity_streams\":{\"LIH/3/cc-hash\":{\"received\":6,\"gaps\":0,") != NULL);
		lacre_dbuf_free(&j);
	}
	ingest_acct_free(a);
	lacre_dbuf_free(&b);
	lacre_dbuf_free(&evs);
}

/* The signed element rebuilt by ingest_icheck_signed_bytes() equals the
 * encoder's etsi_enc_integrity_element() with DER lengths. */
static void test_signed_bytes_match_encoder(void)
{
	static const uint32_t seqs[] = { 1, 2, 127, 128, 255, 256, 0xffffffffu };
	struct ingest_icheck ic;
	struct etsi_enc_integrity e;
	struct lacre_dbuf mine, theirs;
	uint32_t s2[8];

	memcpy(s2, seqs, sizeof(seqs));
	memset(&ic, 0, sizeof(ic));
	ic.seqs = s2;
	ic.n_seqs = 7;
	ic.check_type = 2;
	ic.data_type = 1;
	ic.sig_alg = 2;
	memset(&e, 0, sizeof(e));
	e.seqs = seqs;
	e.n_seqs = 7;
	e.check_type = 2;
	e.data_type = 1;
	e.value = (const uint8_t *)"";
	e.value_len = 0;
	e.sig_alg = 2;
	lacre_dbuf_init(&mine, 4096);
	lacre_dbuf_init(&theirs, 4096);
	CHECK_OK(ingest_icheck_signed_bytes(&ic, &mine));
	CHECK_OK(etsi_enc_integrity_element(&theirs, BER_ENC_LEN_MINIMAL, &e));
	CHECK_EQ_INT(mine.len, theirs.len);
	CHECK_MEM(mine.p, theirs.p, mine.len);
	CHECK_EQ_INT(mine.p[0], 0xa0);
	lacre_dbuf_free(&mine);
	lacre_dbuf_free(&theirs);
}

/* Sign the interim element with key k (md NULL for EdDSA) into sig. */
static size_t sign_elem(EVP_PKEY *k, const EVP_MD *md, const uint32_t *seqs, size_t n,
                        int sig_alg, uint8_t *sig, size_t cap)
{
	struct ingest_icheck ic;
	struct lacre_dbuf tbs;
	uint32_t tmp[16];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	size_t sl = cap;

	memcpy(tmp, seqs, n * sizeof(*seqs));
	memset(&ic, 0, sizeof(ic));
	ic.seqs = tmp;
	ic.n_seqs = n;
	ic.check_type = 2;
	ic.data_type = 2;
	ic.sig_alg = sig_alg;
	lacre_dbuf_init(&tbs, 4096);
	ingest_icheck_signed_bytes(&ic, &tbs);
	if (EVP_DigestSignInit(ctx, NULL, md, NULL, k) != 1 ||
	    EVP_DigestSign(ctx, sig, &sl, tbs.p, tbs.len) != 1)
		sl = 0;
	EVP_MD_CTX_free(ctx);
	lacre_dbuf_free(&tbs);
	return sl;
}

/* Signature PDUs: ECDSA P-256/SHA-256 and Ed448, good and tampered. */
static void test_integrity_signature(void)
{
	static const char *types[] = { "EC", "ED448" };
	for (int ti = 0; ti < 2; ti++) {
		EVP_PKEY *k = NULL;
		EVP_PKEY_CTX *kc = EVP_PKEY_CTX_new_from_name(NULL, types[ti], NULL);
		struct ingest_acct *a;
		struct lacre_dbuf b;
		struct ingest_integrity_stats is;
		uint8_t sig[256];
		size_t sl;
		char path[4096];
		FILE *fp;
		uint32_t hs[3] = { 1, 2, 3 };
		struct etsi_enc_header h = hdr("LIS", 8, 1);
		struct etsi_enc_integrity ic;
		const EVP_MD *md = ti == 0 ? EVP_sha256() : NULL;

		CHECK(kc != NULL);
		CHECK(EVP_PKEY_keygen_init(kc) == 1);
		if (ti == 0)
			CHECK(EVP_PKEY_CTX_set_ec_paramgen_curve_nid(kc, NID_X9_62_prime256v1) == 1);
		CHECK(EVP_PKEY_keygen(kc, &k) == 1);
		EVP_PKEY_CTX_free(kc);
		snprintf(path, sizeof(path), "%s/pub%d.pem", t_tmpdir(), ti);
		fp = fopen(path, "w");
		CHECK(fp != NULL);
		PEM_write_PUBKEY(fp, k);
		fclose(fp);

		lacre_dbuf_init(&evs, 1u << 20);
		lacre_dbuf_init(&b, 1u << 16);
		CHECK_OK(ingest_acct_new(1u << 20, on_ev, NULL, &a));
		CHECK_OK(ingest_acct_set_sigkey(a, path, "sha256"));
		sl = sign_elem(k, md, hs, 3, ti == 0 ? 2 : 3, sig, sizeof(sig));
		CHECK(sl > 0);
		ic = sig_check(hs, 3, sig, sl, ti == 0 ? 2 : 3);
		CHECK_OK(etsi_enc_integrity(&b, &h, &ic));
		CHECK_OK(feed(a, &b, LACRE_HI3));
		/* the same signature over other hash PDU numbers: bad */
		hs[2] = 4;
		h.seq = 2;
		lacre_dbuf_reset(&b);
		CHECK_OK(etsi_enc_integrity(&b, &h, &ic));
		CHECK_OK(feed(a, &b, LACRE_HI3));
		ingest_acct_integrity(a, &is);
		CHECK_EQ_INT(is.sig_pdus, 2);
		CHECK_EQ_INT(is.sig_ok, 1);
		CHECK_EQ_INT(is.sig_bad, 1);
		CHECK_EQ_INT(ev_count("\"check\":\"signature\",\"result\":\"bad\""), 1);
		ingest_acct_free(a);
		lacre_dbuf_free(&b);
		lacre_dbuf_free(&evs);
		EVP_PKEY_free(k);
	}
}

/* Expiry: idle streams are dropped with a final event; fresh ones kept. */
static void test_expire(void)
{
	struct ingest_acct *a;
	struct lacre_dbuf b;
	struct ingest_stream_stats st;

	lacre_dbuf_init(&evs, 1u << 20);
	lacre_dbuf_init(&b, 1u << 16);
	CHECK_OK(ingest_acct_new(1u << 20, on_ev, NULL, &a));
	for (uint64_t q = 0; q < 3; q++) {
		pdu(&b, 1, "LIE", 1, q, 1);
		CHECK_OK(feed(a, &b, LACRE_HI3));
		pdu(&b, 0, "LIE", 1, q, 1);
		CHECK_OK(feed(a, &b, LACRE_HI2));
	}
	CHECK_EQ_INT(ingest_acct_streams(a), 2);
	CHECK_EQ_INT(ingest_acct_expire(a, 3600), 0);
	CHECK_EQ_INT(ingest_acct_expire(a, 0), 2);
	CHECK_EQ_INT(ingest_acct_streams(a), 0);
	CHECK_EQ_INT(stats(a, "LIE", 1, ETSI_KIND_CC, &st), LACRE_E_NOT_FOUND);
	CHECK_EQ_INT(ev_count("\"event\":\"stream-end\""), 2);
	CHECK_EQ_INT(ev_count("\"received\":3,\"gaps\":0"), 2);
	ingest_acct_free(a);
	lacre_dbuf_free(&b);
	lacre_dbuf_free(&evs);
}

/* Read a whole small file. */
static int slurp(const char *path, struct lacre_dbuf *out)
{
	uint8_t buf[4096];
	size_t k;
	FILE *fp = fopen(path, "rb");

	if (!fp)
		return -1;
	while ((k = fread(buf, 1, sizeof(buf), fp)) > 0)
		lacre_dbuf_add(out, buf, k);
	fclose(fp);
	return 0;
}

/* Write a whole small file; reseal = 1 recomputes the trailing SHA-256 (a
 * well-sealed file with bad content). */
static int spill(const char *path, struct lacre_dbuf *d, int reseal)
{
	FILE *fp;
	unsigned dl = 0;

	if (reseal && (d->len < 32 || EVP_Digest(d->p, d->len - 32, d->p + d->len - 32, &dl, EVP_sha256(), NULL) != 1))
		return -1;
	if (!(fp = fopen(path, "wb")))
		return -1;
	if (fwrite(d->p, 1, d->len, fp) != d->len) {
		fclose(fp);
		return -1;
	}
	return fclose(fp);
}

/* Save, restart, continue: no false gap; an open gap survives (a late
 * arrival still closes it); a real gap after the restart names LIID, CIN,
 * stream and range and says after_restart. */
static void test_state_save_load(void)
{
	struct ingest_acct *a, *b2;
	struct lacre_dbuf b;
	struct ingest_stream_stats st;
	char path[4200], why[160];
	static const uint64_t order[] = { 0, 1, 2, 5, 6 };

	snprintf(path, sizeof(path), "%s/streams.state", t_tmpdir());
	lacre_dbuf_init(&evs, 1u << 20);
	lacre_dbuf_init(&b, 1u << 16);
	CHECK_OK(ingest_acct_new(1u << 20, on_ev, NULL, &a));
	for (size_t i = 0; i < 5; i++) {
		pdu(&b, 1, "LIS", 9, order[i], (uint8_t)order[i]);
		CHECK_OK(feed(a, &b, LACRE_HI3));
	}
	for (uint64_t q = 0; q < 3; q++) {
		pdu(&b, 0, "LIS", 9, q, 1);
		CHECK_OK(feed(a, &b, LACRE_HI2));
	}
	CHECK_EQ_INT(ev_count("\"event\":\"gap\""), 1);
	CHECK_OK(ingest_acct_save(a, path, 1));
	CHECK(access(path, F_OK) == 0);
	ingest_acct_free(a);

	/* the restarted receiver: the numbers continue */
	lacre_dbuf_reset(&evs);
	CHECK_OK(ingest_acct_new(1u << 20, on_ev, NULL, &b2));
	CHECK_OK(ingest_acct_load(b2, path, why, sizeof(why)));
	CHECK_EQ_INT(ingest_acct_streams(b2), 2);
	CHECK_OK(stats(b2, "LIS", 9, ETSI_KIND_CC, &st));
	CHECK_EQ_INT(st.next_expected, 7);
	CHECK_EQ_INT(st.received, 0);                 /* counters are per run */
	pdu(&b, 1, "LIS", 9, 7, 7);
	CHECK_OK(feed(b2, &b, LACRE_HI3));
	pdu(&b, 0, "LIS", 9, 3, 1);
	CHECK_OK(feed(b2, &b, LACRE_HI2));
	pdu(&b, 1, "LIS", 9, 3, 3);                   /* the open gap 3..4: late */
	CHECK_OK(feed(b2, &b, LACRE_HI3));
	CHECK_EQ_INT(ev_count("\"event\":\"gap\""), 0);
	CHECK_EQ_INT(ev_count("\"event\":\"late\""), 1);
	CHECK_EQ_INT(ev_count("\"event\":\"restart\""), 0);
	/* a real gap after the restart: 8..9 of LIS/9/cc */
	pdu(&b, 1, "LIS", 9, 10, 10);
	CHECK_OK(feed(b2, &b, LACRE_HI3));
	CHECK_EQ_INT(ev_count("\"event\":\"gap\",\"liid\":\"LIS\",\"cin\":9,\"stream\":\"cc\",\"from\":8,\"to\":9,\"missing\":2"), 1);
	CHECK_EQ_INT(ev_count("\"after_restart\":true"), 0);  /* not the first PDU since the load */
	ingest_acct_free(b2);

	/* the first PDU after a load opens a gap: marked after_restart */
	lacre_dbuf_reset(&evs);
	CHECK_OK(ingest_acct_new(1u << 20, on_ev, NULL, &b2));
	CHECK_OK(ingest_acct_load(b2, path, why, sizeof(why)));
	pdu(&b, 0, "LIS", 9, 12, 1);
	CHECK_OK(feed(b2, &b, LACRE_HI2));
	CHECK_EQ_INT(ev_count("\"stream\":\"iri\",\"from\":3,\"to\":11,\"missing\":9,\"conn\":1,\"after_restart\":true"), 1);
	ingest_acct_free(b2);
	lacre_dbuf_free(&b);
	lacre_dbuf_free(&evs);
}

/* No file: LACRE_E_NOT_FOUND.  Torn, altered, foreign or inconsistent
 * files: LACRE_E_CORRUPT with a reason, and nothing loaded. */
static void test_state_missing_and_corrupt(void)
{
	struct ingest_acct *a;
	struct lacre_dbuf b, good, bad;
	char path[4200], why[160];

	snprintf(path, sizeof(path), "%s/streams.state", t_tmpdir());
	lacre_dbuf_init(&evs, 1u << 20);
	lacre_dbuf_init(&b, 1u << 16);
	lacre_dbuf_init(&good, 1u << 20);
	lacre_dbuf_init(&bad, 1u << 20);
	CHECK_OK(ingest_acct_new(1u << 20, on_ev, NULL, &a));
	CHECK_EQ_INT(ingest_acct_load(a, path, why, sizeof(why)), LACRE_E_NOT_FOUND);
	for (uint64_t q = 0; q < 4; q++) {
		pdu(&b, 1, "LIC", 5, q, 1);
		CHECK_OK(feed(a, &b, LACRE_HI3));
	}
	CHECK_OK(ingest_acct_save(a, path, 1));
	ingest_acct_free(a);
	CHECK(slurp(path, &good) == 0);
	/* magic 8 + time 8 + count 4, then the entry: cls, flags, liid_len 3,
	 * "LIC", cin 4, next_seq 8, pending_reset, n_gaps; then SHA-256 */
	CHECK_EQ_INT(good.len, 20 + 3 + 3 + 4 + 8 + 8 + 2 + 32);
	CHECK_EQ_INT(good.p[20], 1);                   /* class cc */
	CHECK_EQ_INT(good.p[21], 3);                   /* has_cin | have */
	CHECK_EQ_INT(good.p[22 + 1 + 3 + 4 + 7], 4);   /* next_seq = 4 */

	/* one flipped byte: the seal fails */
	lacre_dbuf_reset(&bad);
	lacre_dbuf_add(&bad, good.p, good.len);
	bad.p[30] ^= 0x40;
	CHECK(spill(path, &bad, 0) == 0);
	CHECK_OK(ingest_acct_new(1u << 20, on_ev, NULL, &a));
	CHECK_EQ_INT(ingest_acct_load(a, path, why, sizeof(why)), LACRE_E_CORRUPT);
	CHECK(strstr(why, "SHA-256") != NULL);
	CHECK_EQ_INT(ingest_acct_streams(a), 0);
	/* torn (cut short) */
	CHECK(spill(path, &(struct lacre_dbuf){ .p = good.p, .len = good.len - 5 }, 0) == 0);
	CHECK_EQ_INT(ingest_acct_load(a, path, why, sizeof(why)), LACRE_E_CORRUPT);
	CHECK_EQ_INT(ingest_acct_streams(a), 0);
	/* not ours */
	lacre_dbuf_reset(&bad);
	lacre_dbuf_add(&bad, good.p, good.len);
	memcpy(bad.p, "NOTSTATE", 8);
	CHECK(spill(path, &bad, 1) == 0);
	CHECK_EQ_INT(ingest_acct_load(a, path, why, sizeof(why)), LACRE_E_CORRUPT);
	CHECK(strstr(why, "magic") != NULL);
	/* well sealed, impossible class */
	lacre_dbuf_reset(&bad);
	lacre_dbuf_add(&bad, good.p, good.len);
	bad.p[20] = 9;
	CHECK(spill(path, &bad, 1) == 0);
	CHECK_EQ_INT(ingest_acct_load(a, path, why, sizeof(why)), LACRE_E_CORRUPT);
	CHECK(strstr(why, "impossible") != NULL);
	CHECK_EQ_INT(ingest_acct_streams(a), 0);
	/* well sealed, the count says two streams but one is there */
	lacre_dbuf_reset(&bad);
	lacre_dbuf_add(&bad, good.p, good.len);
	bad.p[19] = 2;
	CHECK(spill(path, &bad, 1) == 0);
	CHECK_EQ_INT(ingest_acct_load(a, path, why, sizeof(why)), LACRE_E_CORRUPT);
	CHECK_EQ_INT(ingest_acct_streams(a), 0);
	/* and the good one still loads */
	CHECK(spill(path, &good, 0) == 0);
	CHECK_OK(ingest_acct_load(a, path, why, sizeof(why)));
	CHECK_EQ_INT(ingest_acct_streams(a), 1);
	ingest_acct_free(a);
	lacre_dbuf_free(&b);
	lacre_dbuf_free(&good);
	lacre_dbuf_free(&bad);
	lacre_dbuf_free(&evs);
}

/* Retained PDUs: a chain that never shows a hash PDU cannot starve a new
 * chain that does (the oldest anywhere is evicted), and trimming frees an
 * idle stream's window but keeps its numbering and its retained PDUs (a
 * hash PDU after the idle time still verifies). */
static void test_retention_and_trim(void)
{
	struct ingest_acct *a;
	struct lacre_dbuf datas[5], b;
	struct ingest_integrity_stats is;
	struct ingest_stream_stats st;
	uint32_t seqs[5];
	size_t one;

	lacre_dbuf_init(&evs, 1u << 20);
	lacre_dbuf_init(&b, 1u << 16);
	pdu(&b, 1, "LIA", 1, 0, 0);
	one = b.len;
	/* room for 10 PDUs */
	CHECK_OK(ingest_acct_new(10 * one, on_ev, NULL, &a));
	for (uint64_t q = 0; q < 30; q++) {
		pdu(&b, 1, "LIA", 1, q, (uint8_t)q);
		CHECK_OK(feed(a, &b, LACRE_HI3));
	}
	for (size_t i = 0; i < 5; i++) {
		lacre_dbuf_init(&datas[i], 1u << 16);
		pdu(&datas[i], 1, "LIB", 2, i, (uint8_t)(100 + i));
		seqs[i] = (uint32_t)i;
		CHECK_OK(feed(a, &datas[i], LACRE_HI3));
	}
	hash_pdu(&b, "LIB", 2, 1, 2, 2, seqs, 5, datas, 0);
	CHECK_OK(feed(a, &b, LACRE_HI3));
	ingest_acct_integrity(a, &is);
	CHECK_EQ_INT(is.hash_ok, 1);
	CHECK_EQ_INT(is.hash_missing, 0);
	/* trim: nothing is idle for an hour; everything is idle for 0 s */
	ingest_acct_trim(a, 3600);
	ingest_acct_trim(a, 0);
	CHECK_EQ_INT(ingest_acct_streams(a), 3);      /* LIA cc, LIB cc, LIB cc-hash */
	CHECK_OK(stats(a, "LIA", 1, ETSI_KIND_CC, &st));
	CHECK_EQ_INT(st.next_expected, 30);
	pdu(&b, 1, "LIA", 1, 30, 30);
	CHECK_OK(feed(a, &b, LACRE_HI3));
	CHECK_EQ_INT(ev_count("\"event\":\"gap\""), 0);
	/* the window went with the trim: an old number is an unverified duplicate */
	pdu(&b, 1, "LIA", 1, 29, 29);
	CHECK_OK(feed(a, &b, LACRE_HI3));
	CHECK_EQ_INT(ev_count("\"event\":\"duplicate\",\"liid\":\"LIA\",\"cin\":1,\"stream\":\"cc\",\"seq\":29,\"verified\":false"), 1);
	/* LIC: 3 PDUs, idle (trimmed), then its hash PDU: still verified */
	for (size_t i = 0; i < 3; i++) {
		pdu(&datas[i], 1, "LIC", 3, i, (uint8_t)(50 + i));
		CHECK_OK(feed(a, &datas[i], LACRE_HI3));
	}
	ingest_acct_trim(a, 0);
	hash_pdu(&b, "LIC", 3, 1, 2, 2, seqs, 3, datas, 0);
	CHECK_OK(feed(a, &b, LACRE_HI3));
	ingest_acct_integrity(a, &is);
	CHECK_EQ_INT(is.hash_ok, 2);
	ingest_acct_free(a);
	for (size_t i = 0; i < 5; i++)
		lacre_dbuf_free(&datas[i]);
	lacre_dbuf_free(&b);
	lacre_dbuf_free(&evs);
}

/* A crash: the state names, per stream, the numbers counted beyond the
 * last durability mark (they may have died in an open segment); after a
 * clean stop (all kept) nothing is named. */
static void test_state_unkept_after_crash(void)
{
	struct ingest_acct *a;
	struct lacre_dbuf b;
	char path[4200], why[160];
	uint64_t q;

	snprintf(path, sizeof(path), "%s/streams.state", t_tmpdir());
	lacre_dbuf_init(&evs, 1u << 20);
	lacre_dbuf_init(&b, 1u << 16);
	CHECK_OK(ingest_acct_new(1u << 20, on_ev, NULL, &a));
	for (q = 0; q < 10; q++) {
		pdu(&b, 1, "LIK", 4, q, 1);
		CHECK_OK(feed(a, &b, LACRE_HI3));
	}
	ingest_acct_mark(a);                       /* remembers 10 */
	for (; q < 15; q++) {
		pdu(&b, 1, "LIK", 4, q, 1);
		CHECK_OK(feed(a, &b, LACRE_HI3));
	}
	ingest_acct_mark(a);                       /* 10 surely kept, remembers 15 */
	for (; q < 20; q++) {
		pdu(&b, 1, "LIK", 4, q, 1);
		CHECK_OK(feed(a, &b, LACRE_HI3));
	}
	for (q = 0; q < 3; q++) {                  /* a stream born after the marks */
		pdu(&b, 0, "LIK", 5, q, 1);
		CHECK_OK(feed(a, &b, LACRE_HI2));
	}
	CHECK_OK(ingest_acct_save(a, path, 0));    /* the last save before a crash */
	ingest_acct_free(a);

	lacre_dbuf_reset(&evs);
	CHECK_OK(ingest_acct_new(1u << 20, on_ev, NULL, &a));
	CHECK_OK(ingest_acct_load(a, path, why, sizeof(why)));
	CHECK_EQ_INT(ev_count("\"event\":\"unkept-at-restart\""), 2);
	CHECK_EQ_INT(ev_count("\"event\":\"unkept-at-restart\",\"liid\":\"LIK\",\"cin\":4,\"stream\":\"cc\",\"from\":10,\"to\":19,\"missing\":10,"), 1);
	CHECK_EQ_INT(ev_count("\"event\":\"unkept-at-restart\",\"liid\":\"LIK\",\"cin\":5,\"stream\":\"iri\",\"from\":0,\"to\":2,\"missing\":3,"), 1);
	/* this run goes on from 20 without a gap, and saves as a clean stop */
	pdu(&b, 1, "LIK", 4, 20, 1);
	CHECK_OK(feed(a, &b, LACRE_HI3));
	CHECK_EQ_INT(ev_count("\"event\":\"gap\""), 0);
	CHECK_OK(ingest_acct_save(a, path, 1));
	ingest_acct_free(a);
	lacre_dbuf_reset(&evs);
	CHECK_OK(ingest_acct_new(1u << 20, on_ev, NULL, &a));
	CHECK_OK(ingest_acct_load(a, path, why, sizeof(why)));
	CHECK_EQ_INT(ev_count("\"event\":\"unkept-at-restart\""), 0);
	ingest_acct_free(a);
	lacre_dbuf_free(&b);
	lacre_dbuf_free(&evs);
}

int main(void)
{
	RUN(test_gap_late_duplicate_restart);
	RUN(test_duplicate_every_byte);
	RUN(test_start_and_wrap);
	RUN(test_cin_reset);
	RUN(test_reset_then_resend);
	RUN(test_integrity_hash);
	RUN(test_signed_bytes_match_encoder);
	RUN(test_integrity_signature);
	RUN(test_expire);
	RUN(test_state_save_load);
	RUN(test_state_missing_and_corrupt);
	RUN(test_retention_and_trim);
	RUN(test_state_unkept_after_crash);
	return t_done();
}

/*
 * test_ingest_defer.c - deferred hash verdicts (issue 12): a hash PDU that
 * arrives before the data PDUs it lists (OpenLI's mediator does that) is
 * held until they arrive and then verified; one whose data never arrives
 * is judged missing, naming the numbers, after the time bound and at the
 * end of its connection; the count and memory bounds on held checks judge
 * the oldest early.  lib/ingest/accounting.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "harness.h"
#include "lacre/err.h"
#include "lacre/etsi.h"
#include "lacre/etsi_enc.h"
#include "lacre/ingest.h"
#include "acct_kit.h"

/* One CC PDU numbered seq whose payload is the byte seq. */
static void cc(struct lacre_dbuf *b, const char *liid, uint32_t cin, uint64_t seq)
{
	struct etsi_enc_header h = hdr(liid, cin, seq);
	uint8_t pkt[64];

	memset(pkt, (int)(seq & 0xff), sizeof(pkt));
	lacre_dbuf_reset(b);
	etsi_enc_ipcc(b, &h, 0, pkt, sizeof(pkt));
}

/* Decode b and account it as from connection conn on HI3. */
static int feed(struct ingest_acct *a, struct lacre_dbuf *b, uint64_t conn)
{
	struct etsi_pdu d;
	int r;

	if ((r = etsi_decode(b->p, b->len, &d)) != LACRE_OK)
		return r;
	return ingest_acct_pdu(a, b->p, b->len, &d, LACRE_HI3, conn);
}

/* Build the CC data PDU numbered seq and account it. */
static int feed_cc(struct ingest_acct *a, const char *liid, uint32_t cin, uint64_t seq)
{
	struct lacre_dbuf b;
	int r;

	lacre_dbuf_init(&b, 1u << 16);
	cc(&b, liid, cin, seq);
	r = feed(a, &b, 1);
	lacre_dbuf_free(&b);
	return r;
}

/* Account a SHA-256 hash PDU numbered hseq listing seqs[0..n), its digest
 * over the CC PDUs those numbers build (what the sender hashed). */
static int feed_hash(struct ingest_acct *a, const char *liid, uint32_t cin, uint64_t hseq,
                     const uint32_t *seqs, size_t n)
{
	struct lacre_dbuf *datas = calloc(n ? n : 1, sizeof(*datas)), out;
	int r = LACRE_E_NOMEM;

	lacre_dbuf_init(&out, 1u << 20);
	if (datas) {
		for (size_t i = 0; i < n; i++) {
			lacre_dbuf_init(&datas[i], 1u << 12);
			cc(&datas[i], liid, cin, seqs[i]);
		}
		hash_pdu_over(&out, liid, cin, hseq, 2, 2, seqs, n, datas, 0);
		r = feed(a, &out, 1);
		for (size_t i = 0; i < n; i++)
			lacre_dbuf_free(&datas[i]);
		free(datas);
	}
	lacre_dbuf_free(&out);
	return r;
}

/* The hash PDU before its last data PDUs (OpenLI): held, no verdict; the
 * data arrives: verified, marked deferred.  A second check that arrives
 * while the first waits is held behind it and judged after it, when its
 * own data has come. */
static void test_hash_before_data(void)
{
	struct ingest_acct *a;
	struct ingest_integrity_stats is;
	uint32_t s1[5] = { 0, 1, 2, 3, 4 }, s2[2] = { 5, 6 };

	lacre_dbuf_init(&evs, 1u << 20);
	CHECK_OK(ingest_acct_new(1u << 20, on_ev, NULL, &a));
	for (uint64_t q = 0; q < 3; q++)
		CHECK_OK(feed_cc(a, "LID", 7, q));
	CHECK_OK(feed_hash(a, "LID", 7, 1, s1, 5));
	CHECK_EQ_INT(ingest_acct_held(a), 1);
	CHECK_EQ_INT(ev_count("\"check\":\"hash\""), 0);
	CHECK_OK(feed_hash(a, "LID", 7, 2, s2, 2));    /* before 3..6 */
	CHECK_EQ_INT(ingest_acct_held(a), 2);
	CHECK_OK(feed_cc(a, "LID", 7, 3));
	CHECK_EQ_INT(ingest_acct_held(a), 2);          /* 4 still to come */
	CHECK_EQ_INT(ev_count("\"check\":\"hash\""), 0);
	CHECK_OK(feed_cc(a, "LID", 7, 4));             /* #1 complete */
	CHECK_EQ_INT(ingest_acct_held(a), 1);
	CHECK_EQ_INT(ev_count("\"check\":\"hash\",\"result\":\"verified\",\"seq\":1,"), 1);
	CHECK_OK(feed_cc(a, "LID", 7, 5));
	CHECK_EQ_INT(ingest_acct_held(a), 1);
	CHECK_OK(feed_cc(a, "LID", 7, 6));             /* #2 complete */
	CHECK_EQ_INT(ingest_acct_held(a), 0);
	ingest_acct_integrity(a, &is);
	CHECK_EQ_INT(is.hash_pdus, 2);
	CHECK_EQ_INT(is.hash_ok, 2);
	CHECK_EQ_INT(is.hash_missing, 0);
	CHECK_EQ_INT(is.hash_mismatch, 0);
	CHECK_EQ_INT(ev_count("\"result\":\"verified\""), 2);
	CHECK_EQ_INT(ev_count("\"deferred\":true"), 2);
	CHECK_EQ_INT(ev_count("\"check\":\"hash\",\"result\":\"verified\",\"seq\":1,"), 1);
	/* the verdict order is the hash PDUs' order */
	{
		const char *t, *p1, *p2;
		CHECK_OK(lacre_dbuf_cstr(&evs, &t));
		p1 = strstr(t, "\"result\":\"verified\",\"seq\":1,");
		p2 = strstr(t, "\"result\":\"verified\",\"seq\":2,");
		CHECK(p1 && p2 && p1 < p2);
	}
	ingest_acct_free(a);
	lacre_dbuf_free(&evs);
}

/* The listed data never arrives: missing, naming exactly the numbers,
 * after the time bound (1 s here) and, for another check, at the end of
 * its connection (ingest_acct_flush); counted as missing either way. */
static void test_never_arrives(void)
{
	struct ingest_acct *a;
	struct ingest_integrity_stats is;
	uint32_t s1[5] = { 0, 1, 2, 3, 4 }, s2[4] = { 0, 1, 2, 3 };

	lacre_dbuf_init(&evs, 1u << 20);
	CHECK_OK(ingest_acct_new(1u << 20, on_ev, NULL, &a));
	ingest_acct_set_hold(a, 1, 100, 1u << 20);
	for (uint64_t q = 0; q < 3; q++)
		CHECK_OK(feed_cc(a, "LIT", 1, q));
	CHECK_OK(feed_hash(a, "LIT", 1, 1, s1, 5));
	CHECK_EQ_INT(ingest_acct_held(a), 1);
	CHECK_EQ_INT(ingest_acct_flush(a, 99, 0), 0);  /* another connection, in time */
	CHECK_EQ_INT(ingest_acct_held(a), 1);
	sleep(2);
	CHECK_EQ_INT(ingest_acct_flush(a, 99, 0), 0);  /* judged by time, not by conn */
	CHECK_EQ_INT(ingest_acct_held(a), 0);
	CHECK_EQ_INT(ev_count("\"result\":\"missing\""), 1);
	CHECK_EQ_INT(ev_count("\"missing\":2,\"missing_seqs\":[3,4],\"alert\":true"), 1);

	/* end of the stream: judged at once, naming what never came */
	ingest_acct_set_hold(a, 600, 100, 1u << 20);
	for (uint64_t q = 0; q < 2; q++)
		CHECK_OK(feed_cc(a, "LIE", 2, q));
	CHECK_OK(feed_hash(a, "LIE", 2, 1, s2, 4));
	CHECK_EQ_INT(ingest_acct_held(a), 1);
	CHECK_EQ_INT(ingest_acct_flush(a, 1, 0), 1);
	CHECK_EQ_INT(ingest_acct_held(a), 0);
	CHECK_EQ_INT(ev_count("\"missing\":2,\"missing_seqs\":[2,3],\"alert\":true"), 1);
	ingest_acct_integrity(a, &is);
	CHECK_EQ_INT(is.hash_pdus, 2);
	CHECK_EQ_INT(is.hash_missing, 2);
	CHECK_EQ_INT(is.hash_ok, 0);

	/* a number the stream has already passed (a gap) is not waited for */
	for (uint64_t q = 0; q < 4; q++)
		if (q != 1)
			CHECK_OK(feed_cc(a, "LIG", 3, q));
	CHECK_OK(feed_hash(a, "LIG", 3, 1, s2, 4));
	CHECK_EQ_INT(ingest_acct_held(a), 0);
	CHECK_EQ_INT(ev_count("\"missing\":1,\"missing_seqs\":[1],\"alert\":true"), 1);
	ingest_acct_free(a);
	lacre_dbuf_free(&evs);
}

/* The count bound: a third held check judges the oldest at once; the
 * memory bound: a check that would overflow it judges the oldest, and one
 * bigger than the bound is judged on arrival.  Freeing with checks held
 * leaks nothing (ASan). */
static void test_bounds(void)
{
	struct ingest_acct *a;
	struct ingest_integrity_stats is;
	uint32_t s[2] = { 0, 1 }, big[320];

	lacre_dbuf_init(&evs, 1u << 20);
	CHECK_OK(ingest_acct_new(1u << 20, on_ev, NULL, &a));
	ingest_acct_set_hold(a, 600, 2, 1u << 20);
	CHECK_OK(feed_cc(a, "LC1", 1, 0));
	CHECK_OK(feed_cc(a, "LC2", 1, 0));
	CHECK_OK(feed_cc(a, "LC3", 1, 0));
	CHECK_OK(feed_hash(a, "LC1", 1, 1, s, 2));
	CHECK_OK(feed_hash(a, "LC2", 1, 1, s, 2));
	CHECK_EQ_INT(ingest_acct_held(a), 2);
	CHECK_EQ_INT(ev_count("\"check\":\"hash\""), 0);
	CHECK_OK(feed_hash(a, "LC3", 1, 1, s, 2));
	CHECK_EQ_INT(ingest_acct_held(a), 2);
	CHECK_EQ_INT(ev_count("\"liid\":\"LC1\",\"cin\":1,\"stream\":\"cc\",\"check\":\"hash\",\"result\":\"missing\""), 1);
	CHECK_EQ_INT(ev_count("\"missing_seqs\":[1]"), 1);
	ingest_acct_free(a);                    /* two held: freed, no verdict */

	/* memory: ~1.8 KiB for a 320-number check plus ~0.2 KiB for a
	 * 2-number one do not fit in 1900 bytes; each alone does */
	lacre_dbuf_reset(&evs);
	for (size_t i = 0; i < 320; i++)
		big[i] = (uint32_t)(i + 1);
	CHECK_OK(ingest_acct_new(1u << 20, on_ev, NULL, &a));
	ingest_acct_set_hold(a, 600, 100, 1900);
	CHECK_OK(feed_cc(a, "LM1", 1, 0));
	CHECK_OK(feed_cc(a, "LM2", 1, 0));
	CHECK_OK(feed_hash(a, "LM1", 1, 1, s, 2));
	CHECK_EQ_INT(ingest_acct_held(a), 1);
	CHECK_OK(feed_hash(a, "LM2", 1, 1, big, 320));
	CHECK_EQ_INT(ingest_acct_held(a), 1);
	CHECK_EQ_INT(ev_count("\"liid\":\"LM1\",\"cin\":1,\"stream\":\"cc\",\"check\":\"hash\",\"result\":\"missing\""), 1);
	/* bigger than the whole bound: judged on arrival */
	ingest_acct_set_hold(a, 600, 100, 1000);
	CHECK_OK(feed_hash(a, "LM2", 1, 2, big, 320));
	CHECK_EQ_INT(ingest_acct_held(a), 1);
	CHECK_EQ_INT(ev_count("\"liid\":\"LM2\",\"cin\":1,\"stream\":\"cc\",\"check\":\"hash\",\"result\":\"missing\",\"seq\":2,"), 1);
	CHECK_EQ_INT(ingest_acct_flush(a, 0, 1), 1);   /* clean stop: all judged */
	CHECK_EQ_INT(ingest_acct_held(a), 0);
	ingest_acct_integrity(a, &is);
	CHECK_EQ_INT(is.hash_pdus, 3);
	CHECK_EQ_INT(is.hash_missing, 3);
	CHECK_EQ_INT(ev_count("\"missing\":320,\"missing_seqs\":[1,2,3,"), 2);
	ingest_acct_free(a);
	lacre_dbuf_free(&evs);
}

int main(void)
{
	RUN(test_hash_before_data);
	RUN(test_never_arrives);
	RUN(test_bounds);
	return t_done();
}

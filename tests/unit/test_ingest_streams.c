/*
 * test_ingest_streams.c - the receiver's accounting of many streams
 * (lib/ingest/accounting.c): 3000 streams (one CIN each) are all held
 * and counted, through the table's growth; their JSON lists each one;
 * expiring idle streams forgets them after a "stream-end" event each; a
 * number older than the duplicate window is an unverified duplicate; a
 * sequence number wrapping from 2^32 - 1 to 0 is not a gap.  A stream's
 * JSON key is LIID/CIN/kind.
 * (test_ingest_acct.c covers gaps, late arrivals, resets and integrity.)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "lacre/err.h"
#include "lacre/etsi.h"
#include "lacre/etsi_enc.h"
#include "lacre/ingest.h"
#include "lacre/json.h"
#include "acct_kit.h"

#define N_STREAMS 3000

/* One IPCC PDU of liid / cin numbered seq, decoded and accounted. */
static int feed(struct ingest_acct *a, const char *liid, uint32_t cin, uint64_t seq)
{
	struct etsi_enc_header h = hdr(liid, cin, seq);
	struct etsi_pdu d;
	struct lacre_dbuf b;
	uint8_t pkt[40];
	int r;

	memset(pkt, (int)(seq & 0xff), sizeof(pkt));
	pkt[0] = 0x45;
	lacre_dbuf_init(&b, 1 << 16);
	r = etsi_enc_ipcc(&b, &h, 0, pkt, sizeof(pkt));
	if (r == LACRE_OK)
		r = etsi_decode(b.p, b.len, &d);
	if (r == LACRE_OK)
		r = ingest_acct_pdu(a, b.p, b.len, &d, LACRE_HI3, 1);
	lacre_dbuf_free(&b);
	return r;
}

static void test_many_streams(void)
{
	struct ingest_acct *a = NULL;
	struct ingest_stream_stats st;
	struct lacre_dbuf j;
	struct json_w w;

	lacre_dbuf_init(&evs, (size_t)1 << 26);
	CHECK_OK(ingest_acct_new(0, on_ev, NULL, &a));
	for (uint32_t c = 0; c < N_STREAMS; c++) {
		CHECK_OK(feed(a, "LI-S", c, 0));
		CHECK_OK(feed(a, "LI-S", c, 1));
	}
	CHECK_EQ_INT(ingest_acct_streams(a), N_STREAMS);
	CHECK_OK(ingest_acct_stream(a, (const uint8_t *)"LI-S", 4, 2999, ETSI_KIND_CC, &st));
	CHECK_EQ_INT(st.received, 2);
	CHECK_EQ_INT(st.gaps, 0);
	CHECK_EQ_INT(st.next_expected, 2);
	CHECK_EQ_INT(ingest_acct_stream(a, (const uint8_t *)"LI-S", 4, N_STREAMS, ETSI_KIND_CC, &st),
		     LACRE_E_NOT_FOUND);
	/* the JSON names every stream */
	lacre_dbuf_init(&j, (size_t)1 << 26);
	json_init(&w, &j);
	json_obj_begin(&w);
	CHECK_OK(ingest_acct_json(a, &w));
	json_obj_end(&w);
	CHECK_OK(json_finish(&w));
	CHECK_OK(lacre_dbuf_add_u8(&j, 0));
	CHECK(strstr((char *)j.p, "\"LI-S/2999/cc\":{\"received\":2,\"gaps\":0,") != NULL);
	CHECK(strstr((char *)j.p, "\"LI-S/0/cc\":{") != NULL);
	lacre_dbuf_free(&j);
	/* idle for 0 s or more: every stream ends, with its counters */
	CHECK_EQ_INT(ingest_acct_expire(a, 0), N_STREAMS);
	CHECK_EQ_INT(ingest_acct_streams(a), 0);
	CHECK_EQ_INT(ev_count("\"event\":\"stream-end\""), N_STREAMS);
	/* a stream that resumes starts afresh: its next number is a gap */
	CHECK_OK(feed(a, "LI-S", 5, 7));
	CHECK_OK(ingest_acct_stream(a, (const uint8_t *)"LI-S", 4, 5, ETSI_KIND_CC, &st));
	CHECK_EQ_INT(st.received, 1);
	ingest_acct_free(a);
	lacre_dbuf_free(&evs);
}

static void test_old_duplicate_and_wrap(void)
{
	struct ingest_acct *a = NULL;
	struct ingest_stream_stats st;

	lacre_dbuf_init(&evs, (size_t)1 << 24);
	CHECK_OK(ingest_acct_new(0, on_ev, NULL, &a));
	for (uint64_t s = 0; s < 600; s++)
		CHECK_OK(feed(a, "LI-D", 1, s));
	/* number 3 again, far behind the window of recent numbers */
	CHECK_OK(feed(a, "LI-D", 1, 3));
	CHECK_OK(ingest_acct_stream(a, (const uint8_t *)"LI-D", 4, 1, ETSI_KIND_CC, &st));
	CHECK_EQ_INT(st.duplicates, 1);
	CHECK_EQ_INT(ev_count("\"event\":\"duplicate\""), 1);
	CHECK_EQ_INT(ev_count("\"verified\":false"), 1);
	/* 2^32 - 2, 2^32 - 1, then 0 and 1: no gap */
	CHECK_OK(feed(a, "LI-W", 2, 0xfffffffeull));
	CHECK_OK(feed(a, "LI-W", 2, 0xffffffffull));
	CHECK_OK(feed(a, "LI-W", 2, 0));
	CHECK_OK(feed(a, "LI-W", 2, 1));
	CHECK_OK(ingest_acct_stream(a, (const uint8_t *)"LI-W", 4, 2, ETSI_KIND_CC, &st));
	CHECK_EQ_INT(st.received, 4);
	/* the one gap is before the stream's first number (a new stream
	 * expects 0); the wrap itself adds none */
	CHECK_EQ_INT(st.gaps, 1);
	CHECK_EQ_INT(st.missing, 0xfffffffeull);
	CHECK_EQ_INT(st.duplicates, 0);
	CHECK_EQ_INT(st.next_expected, 2);
	ingest_acct_free(a);
	lacre_dbuf_free(&evs);
}

int main(void)
{
	RUN(test_many_streams);
	RUN(test_old_duplicate_and_wrap);
	return t_done();
}

/*
 * test_ingest_acct_batch.c - two workers accounting through their own
 * batches (lib/ingest/acct_batch.c, as worker.c's srv_acct_apply does:
 * prepare with no lock, apply under the shared lock, finish after it) into
 * one shared accounting, at the same time: every PDU is counted exactly
 * once (a PDU lost or counted twice changes a stream's received count and
 * the totals), each worker's own streams see no gap, duplicate or restart,
 * and a stream both workers feed (even numbers on one, odd on the other)
 * counts every PDU of both.  Run under the ASan build too (threads).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "lacre/err.h"
#include "lacre/etsi.h"
#include "lacre/etsi_enc.h"
#include "lacre/ingest.h"
#include "ingest/ingest_int.h"
#include "acct_kit.h"

#define STREAMS 6            /* each worker's own streams */
#define PER_STREAM 2500      /* PDUs on each of them (past the integrity probe) */
#define SHARED 4000          /* PDUs of the stream both feed, half each */

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct ingest_acct *acct;

struct wk {
	int idx;
	int rc;
	unsigned applied;        /* batches applied */
	size_t added;            /* PDUs added */
};

/* One IPCC PDU of a small payload. */
static int data_pdu(struct lacre_dbuf *b, const char *liid, uint32_t cin, uint64_t seq)
{
	struct etsi_enc_header h = hdr(liid, cin, seq);
	uint8_t pkt[64];

	memset(pkt, (int)(seq & 0xff), sizeof(pkt));
	lacre_dbuf_reset(b);
	return etsi_enc_ipcc(b, &h, 0, pkt, sizeof(pkt));
}

/* Apply b as a worker does; its last entry's retention is the next guess. */
static void apply(struct ingest_acct_batch *b, uint8_t *guess, struct wk *w)
{
	int last;

	if (b->n == 0)
		return;
	ingest_acct_batch_prepare(b);
	pthread_mutex_lock(&mu);
	ingest_acct_batch_apply(acct, b);
	pthread_mutex_unlock(&mu);
	last = ingest_acct_batch_finish(b);
	if (last >= 0)
		*guess = (uint8_t)last;
	w->applied++;
}

/* One worker: its streams round-robin, a "read" of 1 to 40 PDUs applied
 * at a time, with its half of the shared stream between them. */
static void *worker(void *arg)
{
	struct wk *w = arg;
	struct ingest_acct_batch b;
	struct lacre_dbuf pdu;
	struct etsi_pdu d;
	char liid[32];
	uint8_t guess = 0;
	unsigned read_len = 1 + (unsigned)w->idx * 7, in_read = 0;
	uint64_t sh = (uint64_t)w->idx;      /* its shared numbers: idx, idx + 2, ... */

	ingest_acct_batch_init(&b);
	lacre_dbuf_init(&pdu, 1u << 16);
	for (uint64_t q = 0; q < PER_STREAM && w->rc == 0; q++) {
		for (int k = 0; k < STREAMS + 1 && w->rc == 0; k++) {
			if (k == STREAMS) {
				if (sh >= SHARED)
					continue;
				snprintf(liid, sizeof(liid), "SHARED");
				w->rc = data_pdu(&pdu, liid, 1, sh);
				sh += 2;
			} else {
				snprintf(liid, sizeof(liid), "W%d-%d", w->idx, k);
				w->rc = data_pdu(&pdu, liid, 7, q);
			}
			if (w->rc == 0)
				w->rc = etsi_decode(pdu.p, pdu.len, &d);
			if (w->rc == 0 && !ingest_acct_batchable(&d))
				w->rc = LACRE_E_INTERNAL;
			if (w->rc == 0 &&
			    ingest_acct_batch_add(&b, pdu.p, pdu.len, &d, LACRE_HI3, (uint64_t)w->idx + 1, guess) != LACRE_OK) {
				apply(&b, &guess, w);    /* full: as srv_acct_pdu does */
				in_read = 0;
				w->rc = ingest_acct_batch_add(&b, pdu.p, pdu.len, &d, LACRE_HI3,
				                              (uint64_t)w->idx + 1, guess);
			}
			if (w->rc == 0)
				w->added++;
			if (++in_read >= read_len) {
				apply(&b, &guess, w);
				in_read = 0;
				read_len = read_len % 40 + 1;
			}
		}
	}
	apply(&b, &guess, w);
	if (b.n != 0 && w->rc == 0)
		w->rc = LACRE_E_INTERNAL;            /* finish must empty it */
	ingest_acct_batch_free(&b);
	lacre_dbuf_free(&pdu);
	return NULL;
}

/* Two workers, one accounting: every PDU counted once. */
static void test_two_workers_count_once(void)
{
	pthread_t t[2];
	struct wk w[2];
	struct ingest_stream_stats st, tot;
	char liid[32];
	size_t n_streams = 0;

	lacre_dbuf_init(&evs, 1u << 24);
	CHECK_OK(ingest_acct_new(1u << 20, on_ev, NULL, &acct));
	for (int i = 0; i < 2; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].idx = i;
		CHECK(pthread_create(&t[i], NULL, worker, &w[i]) == 0);
	}
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < 2; i++) {
		CHECK_OK(w[i].rc);
		CHECK_EQ_INT(w[i].added, STREAMS * PER_STREAM + SHARED / 2);
		CHECK(w[i].applied > 100);           /* many batches, interleaved */
	}
	for (int i = 0; i < 2; i++)
		for (int k = 0; k < STREAMS; k++) {
			snprintf(liid, sizeof(liid), "W%d-%d", i, k);
			CHECK_OK(ingest_acct_stream(acct, (const uint8_t *)liid, strlen(liid), 7,
			                            ETSI_KIND_CC, &st));
			CHECK_EQ_INT(st.received, PER_STREAM);
			CHECK_EQ_INT(st.next_expected, PER_STREAM);
			CHECK_EQ_INT(st.gaps, 0);
			CHECK_EQ_INT(st.duplicates, 0);
			CHECK_EQ_INT(st.restarts, 0);
		}
	/* the shared stream: every PDU of both, whatever their interleaving */
	CHECK_OK(ingest_acct_stream(acct, (const uint8_t *)"SHARED", 6, 1, ETSI_KIND_CC, &st));
	CHECK_EQ_INT(st.received, SHARED);
	ingest_acct_totals(acct, &tot, &n_streams);
	CHECK_EQ_INT(tot.received, 2 * STREAMS * PER_STREAM + SHARED);
	CHECK_EQ_INT(n_streams, 2 * STREAMS + 1);
	ingest_acct_free(acct);
	acct = NULL;
	lacre_dbuf_free(&evs);
}

/* A batch takes what fits and refuses the rest without losing any. */
static void test_full_refuses(void)
{
	struct ingest_acct_batch b;
	struct lacre_dbuf pdu;
	struct etsi_pdu d;
	size_t n = 0;
	int r = LACRE_OK;

	ingest_acct_batch_init(&b);
	lacre_dbuf_init(&pdu, 1u << 16);
	CHECK_OK(data_pdu(&pdu, "FULL", 1, 0));
	CHECK_OK(etsi_decode(pdu.p, pdu.len, &d));
	while (n < 100000 && (r = ingest_acct_batch_add(&b, pdu.p, pdu.len, &d, LACRE_HI3, 1, 0)) == LACRE_OK)
		n++;
	CHECK_EQ_INT(r, LACRE_E_TOO_LARGE);
	CHECK(n > 0 && n < 100000);
	CHECK_EQ_INT(b.n, n);
	CHECK_OK(ingest_acct_new(0, on_ev, NULL, &acct));
	lacre_dbuf_init(&evs, 1u << 20);
	ingest_acct_batch_prepare(&b);
	ingest_acct_batch_apply(acct, &b);
	CHECK_EQ_INT(ingest_acct_batch_finish(&b), 0);
	CHECK_EQ_INT(b.n, 0);
	{
		struct ingest_stream_stats st;

		CHECK_OK(ingest_acct_stream(acct, (const uint8_t *)"FULL", 4, 1, ETSI_KIND_CC, &st));
		/* the same number n times: one received, the rest duplicates */
		CHECK_EQ_INT(st.received, n);
		CHECK_EQ_INT(st.duplicates, n - 1);
	}
	ingest_acct_free(acct);
	acct = NULL;
	lacre_dbuf_free(&evs);
	ingest_acct_batch_free(&b);
	lacre_dbuf_free(&pdu);
}

int main(void)
{
	RUN(test_two_workers_count_once);
	RUN(test_full_refuses);
	return t_done();
}

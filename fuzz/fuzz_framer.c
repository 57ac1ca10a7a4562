/*
 * fuzz_framer.c - libFuzzer harness for the ingest framer
 * (lib/ingest/framer.c): PS-PDU reassembly from a TCP byte stream that a
 * hostile peer may cut anywhere.
 *
 * Input: byte 0 picks the PDU size limit, byte 1 seeds the chunking, the
 * rest is the byte stream.  The stream is fed three times into fresh
 * framers: in one call, one byte at a time, and in chunks of 1..700 bytes
 * chosen from byte 1.  Invariants:
 *   - the three feeds deliver the same PDUs (same offsets and lengths) and
 *     end with the same result and error offset: reassembly does not
 *     depend on how TCP cut the stream;
 *   - each delivered PDU is the stream's own bytes at its offset, the PDUs
 *     are contiguous from offset 0, each starts with 30 and is exactly one
 *     PS-PDU by etsi_pdu_size() within the limit;
 *   - when the feed succeeds, the bytes delivered plus the bytes pending
 *     are all the bytes fed (nothing lost, nothing held twice), and a
 *     framer with nothing pending ended on a PDU boundary (after a framing
 *     error the framer is dead: what it still holds is not compared).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lacre/err.h"
#include "lacre/etsi.h"
#include "lacre/ingest.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_FRAMER_MAX_PDUS 4096

/* What one feed of the stream produced. */
struct fz_framer_run {
	const uint8_t *stream;
	size_t stream_len;
	size_t max_pdu;
	size_t n;                       /* PDUs delivered */
	uint64_t off[FZ_FRAMER_MAX_PDUS];
	size_t len[FZ_FRAMER_MAX_PDUS];
	uint64_t next;                  /* where the next PDU must start */
	int rc;
	uint64_t err_off;
	size_t pending;
};

/* Counters the corpus replay asserts on. */
static unsigned long fz_framer_delivered, fz_framer_errors;

/* ingest_pdu_fn: check the PDU against the stream and record it. */
static int fz_framer_pdu(void *arg, const uint8_t *pdu, size_t len, uint64_t offset)
{
	struct fz_framer_run *r = arg;
	size_t sz = 0;

	FUZZ_CHECK(offset == r->next);
	FUZZ_CHECK(len > 0 && len <= r->stream_len && offset <= r->stream_len - len);
	FUZZ_CHECK(memcmp(pdu, r->stream + offset, len) == 0);
	FUZZ_CHECK(pdu[0] == 0x30);
	FUZZ_CHECK(etsi_pdu_size(pdu, len, r->max_pdu, &sz) == LACRE_OK && sz == len);
	FUZZ_CHECK(len <= r->max_pdu);
	r->next = offset + len;
	if (r->n < FZ_FRAMER_MAX_PDUS) {
		r->off[r->n] = offset;
		r->len[r->n] = len;
	}
	r->n++;
	return 0;
}

/* Feed the stream in pieces: chunk 0 = all at once, 1 = a byte at a time,
 * otherwise sizes from g. */
static void fz_framer_feed(struct fz_framer_run *r, int chunk, struct fuzz_rng *g)
{
	struct ingest_framer f;
	size_t pos = 0, take;

	ingest_framer_init(&f, r->max_pdu);
	r->rc = LACRE_OK;
	r->err_off = UINT64_MAX;
	while (pos < r->stream_len && r->rc == LACRE_OK) {
		if (chunk == 0)
			take = r->stream_len - pos;
		else if (chunk == 1)
			take = 1;
		else
			take = 1 + (size_t)fuzz_rng_below(g, 700);
		if (take > r->stream_len - pos)
			take = r->stream_len - pos;
		r->rc = ingest_framer_feed(&f, r->stream + pos, take, fz_framer_pdu, r, &r->err_off);
		pos += take;
	}
	r->pending = ingest_framer_pending(&f);
	if (r->rc == LACRE_OK) {
		FUZZ_CHECK(r->next + r->pending == r->stream_len);
		FUZZ_CHECK(r->err_off == UINT64_MAX);
	} else {
		FUZZ_CHECK(r->rc < 0);
		FUZZ_CHECK(r->err_off == r->next);
	}
	ingest_framer_free(&f);
}

/* The two feeds saw the same PDUs and ended the same way. */
static void fz_framer_same(const struct fz_framer_run *a, const struct fz_framer_run *b)
{
	size_t i, n = a->n < FZ_FRAMER_MAX_PDUS ? a->n : FZ_FRAMER_MAX_PDUS;

	FUZZ_CHECK(a->n == b->n);
	FUZZ_CHECK(a->rc == b->rc);
	FUZZ_CHECK(a->err_off == b->err_off);
	if (a->rc == LACRE_OK)
		FUZZ_CHECK(a->pending == b->pending);
	for (i = 0; i < n; i++)
		FUZZ_CHECK(a->off[i] == b->off[i] && a->len[i] == b->len[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t limits[] = { 0, 16, 64, 200, 1000, 4096, 65536 };
	static struct fz_framer_run whole, bytes, chunks;
	struct fuzz_rng g;
	size_t max_pdu;

	if (size < 2)
		return 0;
	max_pdu = limits[data[0] % (sizeof(limits) / sizeof(limits[0]))];
	if (max_pdu == 0)
		max_pdu = ETSI_MAX_PDU_DEFAULT;
	fuzz_rng_init(&g, data + 1, 1);
	memset(&whole, 0, sizeof(whole));
	whole.stream = data + 2;
	whole.stream_len = size - 2;
	whole.max_pdu = max_pdu;
	bytes = whole;
	chunks = whole;
	fz_framer_feed(&whole, 0, NULL);
	fz_framer_feed(&bytes, 1, NULL);
	fz_framer_feed(&chunks, 2, &g);
	fz_framer_same(&whole, &bytes);
	fz_framer_same(&whole, &chunks);
	fz_framer_delivered += whole.n;
	fz_framer_errors += whole.rc != LACRE_OK;
	return 0;
}

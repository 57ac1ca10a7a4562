/*
 * test_ingest_framer.c - PS-PDU reassembly (lib/ingest/framer.c): the real
 * OpenLI streams split at every byte, fed one byte at a time and in random
 * chunks; indefinite-length PDUs; and every framing error with its offset.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "lacre/ber_enc.h"
#include "lacre/err.h"
#include "lacre/etsi.h"
#include "lacre/etsi_enc.h"
#include "lacre/ingest.h"

/* Collected output of a feed. */
struct got {
	struct lacre_dbuf cat;     /* every PDU delivered, concatenated */
	size_t n;
	uint64_t offs[4096];
	size_t lens[4096];
};

/* Framer callback: append the PDU and check it starts where it should. */
static int collect(void *arg, const uint8_t *pdu, size_t len, uint64_t off)
{
	struct got *g = arg;

	if (off != g->cat.len)
		return LACRE_E_INTERNAL;
	if (g->n < 4096) {
		g->offs[g->n] = off;
		g->lens[g->n] = len;
	}
	g->n++;
	return lacre_dbuf_add(&g->cat, pdu, len);
}

/* One OpenLI capture of the shared vectors, whole; NULL (the test already
 * failed, naming the missing file) when ../shared is absent. */
static uint8_t *load(const char *name, size_t *len)
{
	char rel[256];

	snprintf(rel, sizeof(rel), "openli-a/raw/%s", name);
	return t_vector(rel, len);
}

static struct got *got_new(void)
{
	struct got *g = calloc(1, sizeof(*g));
	lacre_dbuf_init(&g->cat, 1u << 26);
	return g;
}

static void got_free(struct got *g)
{
	lacre_dbuf_free(&g->cat);
	free(g);
}

/* Whole stream in one feed: every PDU out, byte-identical, counts known. */
static void test_whole_streams(void)
{
	static const struct { const char *f; size_t n; } v[] = { { "hi2.bin", 24 }, { "hi3.bin", 345 } };
	for (size_t i = 0; i < 2; i++) {
		size_t len;
		uint8_t *p = load(v[i].f, &len);
		struct ingest_framer f;
		struct got *g = got_new();
		CHECK(p != NULL);
		ingest_framer_init(&f, 0);
		CHECK_OK(ingest_framer_feed(&f, p, len, collect, g, NULL));
		CHECK_EQ_INT(g->n, v[i].n);
		CHECK_EQ_INT(g->cat.len, len);
		CHECK(memcmp(g->cat.p, p, len) == 0);
		CHECK_EQ_INT(ingest_framer_pending(&f), 0);
		ingest_framer_free(&f);
		got_free(g);
		free(p);
	}
}

/* hi2.bin split in two at every byte offset. */
static void test_split_every_byte(void)
{
	size_t len, k;
	uint8_t *p = load("hi2.bin", &len);
	CHECK(p != NULL);
	for (k = 0; k <= len; k++) {
		struct ingest_framer f;
		struct got *g = got_new();
		ingest_framer_init(&f, 0);
		CHECK_OK(ingest_framer_feed(&f, p, k, collect, g, NULL));
		CHECK_OK(ingest_framer_feed(&f, p + k, len - k, collect, g, NULL));
		CHECK_EQ_INT(g->n, 24);
		CHECK(g->cat.len == len && memcmp(g->cat.p, p, len) == 0);
		ingest_framer_free(&f);
		got_free(g);
	}
	free(p);
}

/* hi3.bin one byte per feed, then in pseudo-random chunks. */
static void test_bytewise_and_random(void)
{
	size_t len, i, step;
	uint8_t *p = load("hi3.bin", &len);
	struct ingest_framer f;
	struct got *g = got_new();
	uint32_t seed = 12345;

	CHECK(p != NULL);
	ingest_framer_init(&f, 0);
	for (i = 0; i < len; i++)
		CHECK_OK(ingest_framer_feed(&f, p + i, 1, collect, g, NULL));
	CHECK_EQ_INT(g->n, 345);
	CHECK(g->cat.len == len && memcmp(g->cat.p, p, len) == 0);
	ingest_framer_free(&f);
	got_free(g);

	g = got_new();
	ingest_framer_init(&f, 0);
	for (i = 0; i < len; i += step) {
		seed = seed * 1103515245u + 12345u;
		step = 1 + (seed >> 8) % 3000;
		if (step > len - i)
			step = len - i;
		CHECK_OK(ingest_framer_feed(&f, p + i, step, collect, g, NULL));
	}
	CHECK_EQ_INT(g->n, 345);
	CHECK(g->cat.len == len && memcmp(g->cat.p, p, len) == 0);
	ingest_framer_free(&f);
	got_free(g);
	free(p);
}

/* Build n keep-alive + CC PDUs in a length style. */
static int build_stream(struct lacre_dbuf *out, int style, int n)
{
	struct etsi_enc_header h;
	static const uint8_t pkt[300] = { 0x45 };
	int i, r;

	etsi_enc_header_defaults(&h);
	h.len_style = style;
	h.liid = (const uint8_t *)"LIFRAMER01";
	h.liid_len = 10;
	h.operator_id = "op";
	h.has_cin = 1;
	h.cin = 42;
	for (i = 0; i < n; i++) {
		h.seq = (uint64_t)i;
		if ((r = etsi_enc_ipcc(out, &h, 0, pkt, sizeof(pkt) - (size_t)i)) != LACRE_OK)
			return r;
		if ((r = etsi_enc_keepalive(out, &h)) != LACRE_OK)
			return r;
	}
	return LACRE_OK;
}

/* Indefinite-length and long-form PDUs, split at every byte. */
static void test_indefinite_and_long(void)
{
	static const int styles[] = { BER_ENC_LEN_INDEFINITE, BER_ENC_LEN_LONG, BER_ENC_LEN_MINIMAL };
	for (size_t si = 0; si < 3; si++) {
		struct lacre_dbuf s;
		size_t k;
		lacre_dbuf_init(&s, 1u << 20);
		CHECK_OK(build_stream(&s, styles[si], 4));
		if (styles[si] == BER_ENC_LEN_INDEFINITE)
			CHECK(s.p[1] == 0x80);
		for (k = 0; k <= s.len; k++) {
			struct ingest_framer f;
			struct got *g = got_new();
			ingest_framer_init(&f, 0);
			CHECK_OK(ingest_framer_feed(&f, s.p, k, collect, g, NULL));
			CHECK_OK(ingest_framer_feed(&f, s.p + k, s.len - k, collect, g, NULL));
			CHECK_EQ_INT(g->n, 8);
			CHECK(g->cat.len == s.len && memcmp(g->cat.p, s.p, s.len) == 0);
			ingest_framer_free(&f);
			got_free(g);
		}
		lacre_dbuf_free(&s);
	}
}

/* Feed bad bytes after two good PDUs; expect error e at the right offset. */
static int bad_after_good(const uint8_t *bad, size_t bn, size_t max, uint64_t *off, size_t *n_ok)
{
	struct lacre_dbuf s;
	struct ingest_framer f;
	struct got *g = got_new();
	int r;

	lacre_dbuf_init(&s, 1u << 20);
	build_stream(&s, BER_ENC_LEN_OPENLI, 1);
	lacre_dbuf_add(&s, bad, bn);
	ingest_framer_init(&f, max);
	*off = 0;
	r = ingest_framer_feed(&f, s.p, s.len, collect, g, off);
	*n_ok = g->n;
	ingest_framer_free(&f);
	got_free(g);
	lacre_dbuf_free(&s);
	return r;
}

/* Framing errors: wrong outer tag, oversized, reserved length, too many
 * length octets, deep nesting, tag too long, garbage. */
static void test_errors(void)
{
	static const uint8_t wrong_tag[] = { 0x31, 0x03, 0x02, 0x01, 0x00 };
	static const uint8_t oversized[] = { 0x30, 0x84, 0x7f, 0xff, 0xff, 0xff, 0x00 };
	static const uint8_t reserved[] = { 0x30, 0xff, 0x00 };
	static const uint8_t len5[] = { 0x30, 0x85, 0x00, 0x00, 0x00, 0x00, 0x10 };
	static const uint8_t garbage[] = "GET / HTTP/1.1\r\n\r\n";
	static const uint8_t longtag[] = { 0x30, 0x80, 0xbf, 0x81, 0x81, 0x81, 0x81, 0x01, 0x80 };
	uint8_t deep[2 + 2 * 40];
	size_t first_len, n_ok, i;
	uint64_t off;
	struct lacre_dbuf s;

	lacre_dbuf_init(&s, 1u << 20);
	build_stream(&s, BER_ENC_LEN_OPENLI, 1);
	first_len = s.len;
	lacre_dbuf_free(&s);

	CHECK_EQ_INT(bad_after_good(wrong_tag, sizeof(wrong_tag), 0, &off, &n_ok), LACRE_E_MALFORMED);
	CHECK_EQ_INT(off, first_len);
	CHECK_EQ_INT(n_ok, 2);
	CHECK_EQ_INT(bad_after_good(oversized, sizeof(oversized), 0, &off, &n_ok), LACRE_E_TOO_LARGE);
	CHECK_EQ_INT(off, first_len);
	CHECK_EQ_INT(bad_after_good(reserved, sizeof(reserved), 0, &off, &n_ok), LACRE_E_MALFORMED);
	CHECK_EQ_INT(bad_after_good(len5, sizeof(len5), 0, &off, &n_ok), LACRE_E_MALFORMED);
	CHECK_EQ_INT(bad_after_good(garbage, sizeof(garbage) - 1, 0, &off, &n_ok), LACRE_E_MALFORMED);
	CHECK_EQ_INT(off, first_len);
	CHECK_EQ_INT(bad_after_good(longtag, sizeof(longtag), 0, &off, &n_ok), LACRE_E_TAG_TOO_LONG);
	deep[0] = 0x30;
	deep[1] = 0x80;
	for (i = 0; i < 40; i++) {
		deep[2 + 2 * i] = 0xa1;
		deep[3 + 2 * i] = 0x80;
	}
	CHECK_EQ_INT(bad_after_good(deep, sizeof(deep), 0, &off, &n_ok), LACRE_E_DEPTH);
	CHECK_EQ_INT(off, first_len);
	/* a small max: a definite PDU above it is refused from its header */
	CHECK_EQ_INT(bad_after_good(oversized, 6, 100, &off, &n_ok), LACRE_E_TOO_LARGE);
}

/* An incomplete PDU is held (truncated tail) and never delivered. */
static void test_truncated_tail(void)
{
	struct lacre_dbuf s;
	struct ingest_framer f;
	struct got *g = got_new();

	lacre_dbuf_init(&s, 1u << 20);
	build_stream(&s, BER_ENC_LEN_OPENLI, 2);
	ingest_framer_init(&f, 0);
	CHECK_OK(ingest_framer_feed(&f, s.p, s.len - 7, collect, g, NULL));
	CHECK_EQ_INT(g->n, 3);
	CHECK(ingest_framer_pending(&f) > 0);
	CHECK_EQ_INT(f.offset + ingest_framer_pending(&f), s.len - 7);
	ingest_framer_free(&f);
	got_free(g);
	lacre_dbuf_free(&s);
}

/* Mutation run: random bytes of the real streams flipped, inserted and
 * cut; every delivered PDU decoded and accounted.  Nothing may crash (run
 * under ASan/UBSan by tests/run) and the framer must deliver exactly the
 * bytes it was fed, up to the first framing error. */
struct mut_ctx {
	struct ingest_acct *a;
	size_t bytes;
	size_t pdus;
};

static int mut_pdu(void *arg, const uint8_t *pdu, size_t len, uint64_t off)
{
	struct mut_ctx *m = arg;
	struct etsi_pdu d;

	(void)off;
	m->bytes += len;
	m->pdus++;
	if (etsi_decode(pdu, len, &d) == LACRE_OK)
		ingest_acct_pdu(m->a, pdu, len, &d, (int)(len & 1) ? LACRE_HI2 : LACRE_HI3, 1);
	return 0;
}

static void ev_ignore(void *arg, const char *j)
{
	(void)arg;
	(void)j;
}

static void test_mutations(void)
{
	size_t len, i;
	uint8_t *p = load("hi3.bin", &len), *q;
	uint32_t seed = 777;
	struct mut_ctx m;

	CHECK(p != NULL);
	q = malloc(len + 64);
	CHECK(q != NULL);
	memset(&m, 0, sizeof(m));
	CHECK_OK(ingest_acct_new(1u << 20, ev_ignore, NULL, &m.a));
	for (int round = 0; round < 300; round++) {
		struct ingest_framer f;
		size_t n = len, off = 0, step, fed = 0, k;
		uint64_t err_off = 0;
		int r = LACRE_OK;

		memcpy(q, p, len);
		for (k = 0; k < 1 + (size_t)round % 16; k++) {
			seed = seed * 1103515245u + 12345u;
			q[(seed >> 4) % n] ^= (uint8_t)(1u << ((seed >> 24) & 7));
		}
		if (round % 5 == 0) {            /* cut at a random point */
			seed = seed * 1103515245u + 12345u;
			n = (seed >> 4) % len;
		}
		ingest_framer_init(&f, 1u << 20);
		m.bytes = 0;
		while (off < n && r == LACRE_OK) {
			seed = seed * 1103515245u + 12345u;
			step = 1 + (seed >> 8) % 5000;
			if (step > n - off)
				step = n - off;
			r = ingest_framer_feed(&f, q + off, step, mut_pdu, &m, &err_off);
			off += step;
			fed = off;
		}
		if (r == LACRE_OK)
			CHECK_EQ_INT(m.bytes + ingest_framer_pending(&f), fed);
		else
			CHECK(err_off <= fed && m.bytes == err_off);
		ingest_framer_free(&f);
	}
	for (i = 0; i < 2000; i++) {             /* pure garbage starting with 30 */
		struct ingest_framer f;
		uint8_t g[64];
		g[0] = 0x30;
		for (size_t k = 1; k < sizeof(g); k++) {
			seed = seed * 1103515245u + 12345u;
			g[k] = (uint8_t)(seed >> 16);
		}
		ingest_framer_init(&f, 1u << 16);
		ingest_framer_feed(&f, g, sizeof(g), mut_pdu, &m, NULL);
		ingest_framer_free(&f);
	}
	CHECK(m.pdus > 1000);
	ingest_acct_free(m.a);
	free(q);
	free(p);
}

int main(void)
{
	RUN(test_whole_streams);
	RUN(test_split_every_byte);
	RUN(test_bytewise_and_random);
	RUN(test_indefinite_and_long);
	RUN(test_errors);
	RUN(test_truncated_tail);
	RUN(test_mutations);
	return t_done();
}

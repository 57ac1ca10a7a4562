/*
 * bench_decode.c - decode throughput of the PS-PDU decoder on one core.
 *
 * Builds, in memory, streams of PS-PDUs shaped like OpenLI's (PSHeader with
 * GeneralizedTime, LIID, CIN, operator and network element ids):
 *   - CC: IPMMCC with a whole IP/UDP/RTP packet, PDUs of about 200, 500,
 *     1000 and 1500 bytes;
 *   - IRI: IPIRI (~170 bytes, RADIUS-like) and IPMMIRI with a SIP message
 *     (~500 bytes);
 *   - keep-alives (~100 bytes).
 * Each stream is framed with etsi_pdu_size() and decoded with
 * etsi_decode(), as the receiver does, for about a second per case; the
 * figures (MB/s and PDUs/s, per second of this thread's CPU time, so that
 * other load on the machine does not distort them) are printed, never
 * asserted.  A final case
 * adds JSON rendering (`lacre decode`'s cost per PDU).
 * Targets (issue "Handover receiver"): >= 1 GB/s for CC PDUs, >= 1 M
 * IRI-sized PDUs/s.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lacre/buf.h"
#include "lacre/err.h"
#include "lacre/etsi.h"
#include "lacre/etsi_json.h"
#include "lacre/json.h"

struct bb {
	uint8_t *b;
	size_t n, cap;
	size_t at[16];
	int sp;
};

/* Append raw bytes (the buffer is sized generously up front). */
static void put(struct bb *b, const void *p, size_t n)
{
	if (b->cap - b->n < n) {
		fprintf(stderr, "bench_decode: builder overflow\n");
		exit(1);
	}
	memcpy(b->b + b->n, p, n);
	b->n += n;
}

/* Open a constructed element with a 3-octet length (82 xx xx). */
static void bo(struct bb *b, uint8_t tag)
{
	uint8_t h[4] = { tag, 0x82, 0, 0 };
	if (b->sp >= 16) {
		fprintf(stderr, "bench_decode: builder too deep\n");
		exit(1);
	}
	put(b, h, 4);
	b->at[b->sp++] = b->n;
}

/* Close it, writing the length (non-minimal, as OpenLI often does). */
static void bc(struct bb *b)
{
	if (b->sp == 0) {
		fprintf(stderr, "bench_decode: unbalanced builder\n");
		exit(1);
	}
	size_t s = b->at[--b->sp], len = b->n - s;
	b->b[s - 2] = (uint8_t)(len >> 8);
	b->b[s - 1] = (uint8_t)len;
}

/* A primitive element (length < 65536). */
static void bp(struct bb *b, uint8_t tag, const void *v, size_t n)
{
	uint8_t h[4] = { tag, 0x82, (uint8_t)(n >> 8), (uint8_t)n };
	if (n < 128) {
		h[1] = (uint8_t)n;
		put(b, h, 2);
	} else {
		put(b, h, 4);
	}
	put(b, v, n);
}

/* OpenLI-like PSHeader. */
static void header(struct bb *b, uint32_t seq)
{
	static const uint8_t dom[] = { 0x04, 0x00, 0x02, 0x02, 0x05, 0x01, 0x11 };
	uint8_t cin[] = { 0x09, 0xc7, 0xc0, 0x60 };
	uint8_t sq[] = { (uint8_t)(seq >> 24), (uint8_t)(seq >> 16), (uint8_t)(seq >> 8), (uint8_t)seq };

	bo(b, 0xa1);
	bp(b, 0x80, dom, sizeof(dom));
	bp(b, 0x81, "LIVOIP0001", 10);
	bp(b, 0x82, "NZ", 2);
	bo(b, 0xa3);
	bo(b, 0xa0);
	bp(b, 0x80, "openlitestop", 12);
	bp(b, 0x81, "testcollector", 13);
	bc(b);
	bp(b, 0x81, cin, 4);
	bp(b, 0x82, "NZ", 2);
	bc(b);
	bp(b, 0x84, sq, sq[0] & 0x80 ? 3 : 4);
	bp(b, 0x85, "20250115120001.020Z", 19);
	bp(b, 0x86, "col01", 5);
	bp(b, 0x88, "\x01", 1);
	bc(b);
}

/* One IPMMCC PDU whose total size is about target bytes. */
static void cc_pdu(struct bb *b, uint32_t seq, size_t target)
{
	static uint8_t pkt[2048];
	size_t plen = target > 160 ? target - 130 : 40;

	memset(pkt, 0xd5, sizeof(pkt));
	pkt[0] = 0x45;
	pkt[9] = 17;
	pkt[28] = 0x80;
	bo(b, 0x30);
	header(b, seq);
	bo(b, 0xa2);
	bo(b, 0xa1);
	bo(b, 0x30);
	bp(b, 0x80, "\x01", 1);
	bo(b, 0xa2);
	bo(b, 0xac);
	bp(b, 0x80, "\x05\x05\x06\x02", 4);
	bp(b, 0x81, pkt, plen);
	bp(b, 0x82, "\x00", 1);
	bp(b, 0x84, "\x00", 1);
	bc(b);
	bc(b);
	bc(b);
	bc(b);
	bc(b);
	bc(b);
}

/* One IPIRI PDU (RADIUS-like, ~200 bytes). */
static void ipiri_pdu(struct bb *b, uint32_t seq)
{
	bo(b, 0x30);
	header(b, seq);
	bo(b, 0xa2);
	bo(b, 0xa0);
	bo(b, 0x30);
	bp(b, 0x80, "\x03", 1);
	bo(b, 0xa2);
	bo(b, 0xa2);
	bp(b, 0x80, "\x05\x03\x0a\x01", 4);
	bo(b, 0xa1);
	bp(b, 0x80, "\x06", 1);
	bp(b, 0x81, "ipuser01", 8);
	bp(b, 0x82, "\x04", 1);
	bp(b, 0x83, "\x01", 1);
	bo(b, 0xa4);
	bp(b, 0x81, "\x00", 1);
	bo(b, 0xa2);
	bp(b, 0x81, "\x0a\x02\x02\x32", 4);
	bc(b);
	bp(b, 0x83, "\x02", 1);
	bc(b);
	bp(b, 0x8a, "20250115120001.000Z", 19);
	bc(b);
	bc(b);
	bc(b);
	bc(b);
	bc(b);
	bc(b);
	bc(b);
}

/* One IPMMIRI PDU with a ~350-byte SIP message. */
static void sip_pdu(struct bb *b, uint32_t seq)
{
	static const char sip[] =
		"SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP 192.168.110.100:5060;branch=z9hG4bK-inv-0001\r\n"
		"From: \"Bob\" <sip:bob@example.net>;tag=bobtag1\r\nTo: <sip:alice@example.net>;tag=alicetag1\r\n"
		"Call-ID: 3c26700b5f8e-7f1a@10.1.1.20\r\nCSeq: 101 INVITE\r\nContact: <sip:alice@10.1.1.10:5060>\r\n"
		"Content-Length: 0\r\n\r\n";
	int i;

	bo(b, 0x30);
	header(b, seq);
	bo(b, 0xa2);
	bo(b, 0xa0);
	bo(b, 0x30);
	bp(b, 0x80, "\x03", 1);
	bo(b, 0xa2);
	bo(b, 0xab);
	bp(b, 0x80, "\x05\x05\x06\x01", 4);
	bo(b, 0xa1);
	bo(b, 0xa1);
	for (i = 0; i < 2; i++) {
		bo(b, (uint8_t)(0xa0 + i));
		bp(b, 0x81, "\x00", 1);
		bo(b, 0xa2);
		bp(b, 0x81, "\x0a\x01\x01\x0a", 4);
		bc(b);
		bp(b, 0x83, "\x03", 1);
		bp(b, 0x85, "\xff\xff\xff\xff", 4);
		bc(b);
	}
	bp(b, 0x82, sip, sizeof(sip) - 1);
	bc(b);
	bc(b);
	bc(b);
	bc(b);
	bc(b);
	bc(b);
	bc(b);
	bc(b);
}

/* One keep-alive PDU. */
static void ka_pdu(struct bb *b, uint32_t seq)
{
	bo(b, 0x30);
	header(b, seq);
	bo(b, 0xa2);
	bo(b, 0xa2);
	bp(b, 0x83, "", 0);
	bc(b);
	bc(b);
	bc(b);
}

/* CPU time of this thread: rates stay meaningful on a shared, loaded
 * machine (time spent descheduled is not counted). */
static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Frame and decode the stream s[0..n) repeatedly for ~1 s; print rates.
 * With json != 0, also render each PDU as JSON. */
static void run(const char *name, const uint8_t *s, size_t n, int json)
{
	struct lacre_dbuf out;
	struct json_w w;
	double t0, t;
	uint64_t bytes = 0, pdus = 0, partial = 0;
	int rounds = 0;

	lacre_dbuf_init(&out, 1u << 20);
	t0 = now();
	do {
		for (int k = 0; k < 16; k++) {
			size_t off = 0, len;
			while (off < n && etsi_pdu_size(s + off, n - off, ETSI_MAX_PDU_DEFAULT, &len) == LACRE_OK) {
				struct etsi_pdu p;
				if (etsi_decode(s + off, len, &p) != LACRE_OK || p.partial)
					partial++;
				if (json) {
					lacre_dbuf_reset(&out);
					json_init(&w, &out);
					etsi_json_pdu(&w, &p, s + off, len, off, 0);
					(void)json_finish(&w);
				}
				off += len;
				pdus++;
			}
			bytes += off;
		}
		rounds++;
		t = now() - t0;
	} while (t < 1.0);
	printf("%-28s %9.0f MB/s %12.0f PDUs/s %8.0f ns/PDU  (avg %zu B/PDU%s)\n", name,
	       (double)bytes / t / 1e6, (double)pdus / t, t * 1e9 / (double)pdus,
	       (size_t)(bytes / (pdus ? pdus : 1)), partial ? ", DECODE ERRORS" : "");
	lacre_dbuf_free(&out);
}

int main(void)
{
	static const size_t cc_sizes[] = { 200, 500, 1000, 1500 };
	struct bb b;
	char name[64];
	const unsigned n_pdus = 2000;

	b.cap = 8u << 20;
	b.b = malloc(b.cap);
	if (!b.b)
		return 1;
	printf("bench_decode: etsi_pdu_size + etsi_decode, one core, %u PDUs per stream\n", n_pdus);
	for (size_t i = 0; i < sizeof(cc_sizes) / sizeof(cc_sizes[0]); i++) {
		b.n = 0;
		b.sp = 0;
		for (unsigned k = 0; k < n_pdus; k++)
			cc_pdu(&b, k, cc_sizes[i]);
		snprintf(name, sizeof(name), "cc ipmmcc ~%zu B", cc_sizes[i]);
		run(name, b.b, b.n, 0);
	}
	b.n = 0;
	b.sp = 0;
	for (unsigned k = 0; k < n_pdus; k++)
		cc_pdu(&b, k, 200 + (k * 7919) % 1300);
	run("cc ipmmcc mixed 200-1500 B", b.b, b.n, 0);
	b.n = 0;
	b.sp = 0;
	for (unsigned k = 0; k < n_pdus; k++)
		ipiri_pdu(&b, k);
	run("iri ipiri", b.b, b.n, 0);
	b.n = 0;
	b.sp = 0;
	for (unsigned k = 0; k < n_pdus; k++)
		sip_pdu(&b, k);
	run("iri ipmmiri (sip)", b.b, b.n, 0);
	b.n = 0;
	b.sp = 0;
	for (unsigned k = 0; k < n_pdus; k++)
		ka_pdu(&b, k);
	run("keep-alive", b.b, b.n, 0);
	b.n = 0;
	b.sp = 0;
	for (unsigned k = 0; k < n_pdus; k++)
		sip_pdu(&b, k);
	run("iri ipmmiri + json", b.b, b.n, 1);
	b.n = 0;
	b.sp = 0;
	for (unsigned k = 0; k < n_pdus; k++)
		cc_pdu(&b, k, 200);
	run("cc ipmmcc ~200 B + json", b.b, b.n, 1);
	free(b.b);
	return 0;
}

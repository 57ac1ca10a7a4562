/*
 * test_g711.c - G.711 known values, round trips and monotonicity.
 */
#include <stdint.h>
#include <stdlib.h>

#include "harness.h"
#include "lacre/err.h"
#include "lacre/g711.h"

/* Published reference points of both laws. */
static void test_known_values(void)
{
	CHECK_EQ_INT(g711_ulaw_encode(0), 0xff);
	CHECK_EQ_INT(g711_ulaw_decode(0xff), 0);
	CHECK_EQ_INT(g711_ulaw_decode(0x7f), 0);
	CHECK_EQ_INT(g711_ulaw_decode(0x80), 32124);
	CHECK_EQ_INT(g711_ulaw_decode(0x00), -32124);
	CHECK_EQ_INT(g711_ulaw_encode(32767), 0x80);
	CHECK_EQ_INT(g711_ulaw_encode(-32768), 0x00);
	CHECK_EQ_INT(g711_ulaw_decode(0xfe), 8);
	CHECK_EQ_INT(g711_ulaw_decode(0x7e), -8);
}

/* A-law reference points. */
static void test_alaw_known(void)
{
	CHECK_EQ_INT(g711_alaw_encode(0), 0xd5);
	CHECK_EQ_INT(g711_alaw_decode(0xd5), 8);
	CHECK_EQ_INT(g711_alaw_decode(0x55), -8);
	CHECK_EQ_INT(g711_alaw_decode(0xaa), 32256);
	CHECK_EQ_INT(g711_alaw_decode(0x2a), -32256);
	CHECK_EQ_INT(g711_alaw_encode(32767), 0xaa);
	CHECK_EQ_INT(g711_alaw_encode(-32768), 0x2a);
}

/* decode(encode(decode(c))) == decode(c) for every code: each code's
 * reconstruction value encodes back to a code with the same value. */
static void test_idempotent(void)
{
	int c;

	for (c = 0; c < 256; c++) {
		int16_t u = g711_ulaw_decode((uint8_t)c);
		int16_t a = g711_alaw_decode((uint8_t)c);
		CHECK_EQ_INT(g711_ulaw_decode(g711_ulaw_encode(u)), u);
		CHECK_EQ_INT(g711_alaw_encode(a), c);
	}
}

/* Quantisation error stays within half a step for every 16-bit input, and
 * the decoded value never decreases as the input grows. */
static void test_error_bound(void)
{
	int v;
	int prev_u = -40000, prev_a = -40000;

	for (v = -32768; v <= 32767; v++) {
		int du = g711_ulaw_decode(g711_ulaw_encode((int16_t)v));
		int da = g711_alaw_decode(g711_alaw_encode((int16_t)v));
		int eu = abs(du - v), ea = abs(da - v);
		CHECK(du >= prev_u);
		CHECK(da >= prev_a);
		prev_u = du;
		prev_a = da;
		if (v > -32000 && v < 32000) {
			/* step is 2^(seg+1) for µ-law (x4 internal), 2^(seg+4) for A-law */
			CHECK(eu <= 1024);
			CHECK(ea <= 1024);
			CHECK(eu * 16 <= abs(v) + 256);
			CHECK(ea * 16 <= abs(v) + 256);
		}
	}
}

/* Buffer helpers and unknown law. */
static void test_buffers(void)
{
	int16_t pcm[4] = { 0, 1000, -1000, 32767 }, back[4];
	uint8_t code[4];

	CHECK_EQ_INT(g711_encode(G711_ALAW, pcm, 4, code), 0);
	CHECK_EQ_INT(code[0], 0xd5);
	CHECK_EQ_INT(g711_decode(G711_ALAW, code, 4, back), 0);
	CHECK(back[1] > 900 && back[1] < 1100);
	CHECK(back[2] < -900 && back[2] > -1100);
	CHECK_EQ_INT(g711_encode(3, pcm, 4, code), -1);
	CHECK_EQ_INT(g711_decode(3, code, 4, back), -1);
}

int main(void)
{
	RUN(test_known_values);
	RUN(test_alaw_known);
	RUN(test_idempotent);
	RUN(test_error_bound);
	RUN(test_buffers);
	return t_done();
}

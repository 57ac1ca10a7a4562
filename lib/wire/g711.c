/*
 * g711.c - G.711 µ-law and A-law (see include/lacre/g711.h).
 *
 * The segment arithmetic of ITU-T G.711 written out directly: µ-law adds a
 * bias of 0x84 to the magnitude (clipped at 32635) and stores a 3-bit
 * segment and 4-bit mantissa, inverted; A-law works on the 13 top bits,
 * stores segment and mantissa, and inverts the even bits (XOR 0x55).
 */
#include "lacre/g711.h"

#define ULAW_BIAS 0x84
#define ULAW_CLIP 32635

/* Index of the highest set bit of v (v > 0), 0-based. */
static int top_bit(unsigned v)
{
	int n = 0;

	while (v > 1) {
		v >>= 1;
		n++;
	}
	return n;
}

/* Linear to µ-law. */
uint8_t g711_ulaw_encode(int16_t pcm)
{
	int v = pcm;
	int sign = 0, exponent, mantissa;

	if (v < 0) {
		v = -v;
		sign = 0x80;
	}
	if (v > ULAW_CLIP)
		v = ULAW_CLIP;
	v += ULAW_BIAS;
	exponent = top_bit((unsigned)v >> 7);
	if (exponent > 7)
		exponent = 7;
	mantissa = (v >> (exponent + 3)) & 0x0f;
	return (uint8_t)~(sign | (exponent << 4) | mantissa);
}

/* µ-law to linear. */
int16_t g711_ulaw_decode(uint8_t code)
{
	int u = (uint8_t)~code;
	int exponent = (u >> 4) & 0x07;
	int mantissa = u & 0x0f;
	int v = (((mantissa << 3) + ULAW_BIAS) << exponent) - ULAW_BIAS;

	return (int16_t)((u & 0x80) ? -v : v);
}

/* Linear to A-law. */
uint8_t g711_alaw_encode(int16_t pcm)
{
	int v = pcm >> 3;   /* 13-bit magnitude domain */
	int mask, seg;
	uint8_t a;

	if (v >= 0) {
		mask = 0xd5;
	} else {
		mask = 0x55;
		v = -v - 1;
	}
	seg = v < 0x20 ? 0 : top_bit((unsigned)v) - 4;
	if (seg >= 8)
		return (uint8_t)(0x7f ^ mask);
	a = (uint8_t)(seg << 4);
	if (seg < 2)
		a |= (uint8_t)((v >> 1) & 0x0f);
	else
		a |= (uint8_t)((v >> seg) & 0x0f);
	return (uint8_t)(a ^ mask);
}

/* A-law to linear. */
int16_t g711_alaw_decode(uint8_t code)
{
	int a = code ^ 0x55;
	int t = (a & 0x0f) << 4;
	int seg = (a & 0x70) >> 4;

	if (seg == 0)
		t += 8;
	else if (seg == 1)
		t += 0x108;
	else
		t = (t + 0x108) << (seg - 1);
	return (int16_t)((a & 0x80) ? t : -t);
}

/* Buffer encode. */
int g711_encode(int law, const int16_t *pcm, size_t n, uint8_t *out)
{
	size_t i;

	if (law != G711_ULAW && law != G711_ALAW)
		return -1;
	for (i = 0; i < n; i++)
		out[i] = law == G711_ULAW ? g711_ulaw_encode(pcm[i]) : g711_alaw_encode(pcm[i]);
	return 0;
}

/* Buffer decode. */
int g711_decode(int law, const uint8_t *in, size_t n, int16_t *pcm)
{
	size_t i;

	if (law != G711_ULAW && law != G711_ALAW)
		return -1;
	for (i = 0; i < n; i++)
		pcm[i] = law == G711_ULAW ? g711_ulaw_decode(in[i]) : g711_alaw_decode(in[i]);
	return 0;
}

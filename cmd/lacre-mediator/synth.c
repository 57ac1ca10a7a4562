/*
 * synth.c - the bytes inside intercepted content: audio for RTP and IPv4
 * packets (UDP, TCP, ICMP) with correct checksums.
 *
 * Audio is 8 kHz 16-bit PCM, 160 samples per 20 ms frame.  Three voices:
 * a single tone, a dual tone, and a speech-like signal (a glottal pulse
 * train with a wandering pitch, shaped by three formant resonators that
 * move syllable by syllable, with an amplitude envelope and pauses).  The
 * speech-like voice is not speech, but it is audible, has speech's spectrum
 * and rhythm, and exercises a codec and a WAV writer the way speech does.
 * Everything random comes from the voice's own PRNG, so output is
 * deterministic.
 */
#include <math.h>
#include <string.h>

#include "mediator.h"

#define SR 8000.0
#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

/* Pick new formant targets and a syllable length. */
static void new_syllable(struct med_voice *v)
{
	static const double vowels[6][3] = {
		{ 730, 1090, 2440 }, { 270, 2290, 3010 }, { 530, 1840, 2480 },
		{ 570, 840, 2410 }, { 300, 870, 2240 }, { 660, 1720, 2410 }
	};
	int k = (int)med_rng_below(&v->rng, 6);
	int i;

	for (i = 0; i < 3; i++)
		v->formant_target[i] = vowels[k][i] * (0.9 + 0.2 * med_rng_unit(&v->rng));
	v->in_pause = med_rng_below(&v->rng, 6) == 0;
	v->syl_left = (uint32_t)(SR * (v->in_pause ? 0.15 + 0.35 * med_rng_unit(&v->rng)
	    : 0.12 + 0.18 * med_rng_unit(&v->rng)));
	v->env_target = v->in_pause ? 0.0 : 0.5 + 0.5 * med_rng_unit(&v->rng);
	v->pitch_target = 100.0 + 120.0 * med_rng_unit(&v->rng);
}

/* Initialise a voice: kind 0 tone, 1 dual tone, 2 speech-like. */
void med_voice_init(struct med_voice *v, int kind, uint64_t seed)
{
	static const double tones[] = { 440, 660, 880, 1000, 350, 1209 };
	int i;

	memset(v, 0, sizeof(*v));
	med_rng_seed(&v->rng, seed);
	v->kind = kind;
	v->f1 = tones[med_rng_below(&v->rng, 6)];
	v->f2 = v->f1 * 1.5;
	if (kind == 1) {
		v->f1 = 350;
		v->f2 = 440;   /* dial tone */
	}
	v->pitch = 140;
	for (i = 0; i < 3; i++)
		v->formant[i] = 500.0 * (i + 1);
	new_syllable(v);
}

/* Coefficients of a two-pole resonator at frequency f, bandwidth bw. */
static void res_coef(double c[3], double f, double bw)
{
	double r = exp(-M_PI * bw / SR);

	c[0] = 1.0 - r;
	c[1] = 2.0 * r * cos(2.0 * M_PI * f / SR);
	c[2] = -r * r;
}

/* One sample through a resonator with coefficients c and state st. */
static double resonate(double st[2], double x, const double c[3])
{
	double y = c[0] * x + c[1] * st[0] + c[2] * st[1];

	st[1] = st[0];
	st[0] = y;
	return y;
}

/* Clip a double to int16. */
static int16_t clip16(double x)
{
	if (x > 32767.0)
		return 32767;
	if (x < -32768.0)
		return -32768;
	return (int16_t)lrint(x);
}

/* 20 ms of audio. */
void med_voice_frame(struct med_voice *v, int16_t pcm[160])
{
	static const double bw[3] = { 90, 110, 160 };
	double coef[3][3];
	int n, i;

	/* formants glide slowly: coefficients once per 20 ms frame */
	for (i = 0; i < 3; i++)
		res_coef(coef[i], v->formant[i], bw[i]);

	for (n = 0; n < 160; n++) {
		double s;

		if (v->kind == 0) {
			s = 9000.0 * sin(v->phase1);
			v->phase1 += 2.0 * M_PI * v->f1 / SR;
		} else if (v->kind == 1) {
			s = 6000.0 * sin(v->phase1) + 6000.0 * sin(v->phase2);
			v->phase1 += 2.0 * M_PI * v->f1 / SR;
			v->phase2 += 2.0 * M_PI * v->f2 / SR;
		} else {
			double src, y = 0.0;

			if (v->syl_left == 0)
				new_syllable(v);
			v->syl_left--;
			v->pitch += (v->pitch_target - v->pitch) * 0.0005;
			v->env += (v->env_target - v->env) * 0.004;
			for (i = 0; i < 3; i++)
				v->formant[i] += (v->formant_target[i] - v->formant[i]) * 0.002;
			/* glottal pulses plus a little breath noise */
			v->glottal_phase += v->pitch / SR;
			src = 0.0;
			if (v->glottal_phase >= 1.0) {
				v->glottal_phase -= 1.0;
				src = 1.0;
			}
			src += 0.03 * (med_rng_unit(&v->rng) - 0.5);
			y += resonate(v->res_state[0], src, coef[0]) * 1.0;
			y += resonate(v->res_state[1], src, coef[1]) * 0.6;
			y += resonate(v->res_state[2], src, coef[2]) * 0.3;
			s = 150000.0 * v->env * y;
		}
		pcm[n] = clip16(s);
	}
	if (v->phase1 > 2.0 * M_PI * 1000.0)
		v->phase1 = fmod(v->phase1, 2.0 * M_PI);
	if (v->phase2 > 2.0 * M_PI * 1000.0)
		v->phase2 = fmod(v->phase2, 2.0 * M_PI);
}

/* Internet checksum over p[0..n) added to sum. */
static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		sum += (uint32_t)(p[n - 1] << 8);
	return sum;
}

/* Fold a checksum accumulator to 16 bits, complemented. */
static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Write a 20-byte IPv4 header for total length tot. */
static void ip_header(uint8_t *o, size_t tot, uint8_t proto, const uint8_t src[4],
    const uint8_t dst[4], uint16_t ip_id, uint8_t ttl)
{
	uint16_t c;

	o[0] = 0x45;
	o[1] = proto == 17 ? 0xb8 : 0x00;   /* EF for RTP/UDP media, as OpenLI's capture */
	o[2] = (uint8_t)(tot >> 8);
	o[3] = (uint8_t)tot;
	o[4] = (uint8_t)(ip_id >> 8);
	o[5] = (uint8_t)ip_id;
	o[6] = 0x40;                        /* DF */
	o[7] = 0;
	o[8] = ttl;
	o[9] = proto;
	o[10] = o[11] = 0;
	memcpy(o + 12, src, 4);
	memcpy(o + 16, dst, 4);
	c = csum_fold(csum_add(0, o, 20));
	o[10] = (uint8_t)(c >> 8);
	o[11] = (uint8_t)c;
}

/* Pseudo-header sum for TCP/UDP checksums. */
static uint32_t pseudo_sum(const uint8_t src[4], const uint8_t dst[4], uint8_t proto, size_t len)
{
	uint32_t s = 0;

	s = csum_add(s, src, 4);
	s = csum_add(s, dst, 4);
	s += proto;
	s += (uint32_t)len;
	return s;
}

/* IPv4 + UDP packet. */
size_t med_ip_udp(uint8_t *out, const uint8_t src[4], const uint8_t dst[4],
    uint16_t sport, uint16_t dport, uint16_t ip_id, uint8_t ttl,
    const uint8_t *payload, size_t n)
{
	uint8_t *u = out + 20;
	size_t ulen = 8 + n;
	uint16_t c;

	ip_header(out, 20 + ulen, 17, src, dst, ip_id, ttl);
	u[0] = (uint8_t)(sport >> 8);
	u[1] = (uint8_t)sport;
	u[2] = (uint8_t)(dport >> 8);
	u[3] = (uint8_t)dport;
	u[4] = (uint8_t)(ulen >> 8);
	u[5] = (uint8_t)ulen;
	u[6] = u[7] = 0;
	if (n)
		memcpy(u + 8, payload, n);
	c = csum_fold(csum_add(pseudo_sum(src, dst, 17, ulen), u, ulen));
	if (c == 0)
		c = 0xffff;
	u[6] = (uint8_t)(c >> 8);
	u[7] = (uint8_t)c;
	return 20 + ulen;
}

/* IPv4 + TCP packet (SYN segments carry an MSS option). */
size_t med_ip_tcp(uint8_t *out, const uint8_t src[4], const uint8_t dst[4],
    uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags,
    uint16_t ip_id, uint8_t ttl, const uint8_t *payload, size_t n)
{
	uint8_t *t = out + 20;
	size_t hl = (flags & 0x02) ? 24 : 20;
	size_t tlen = hl + n;
	uint16_t c;

	ip_header(out, 20 + tlen, 6, src, dst, ip_id, ttl);
	memset(t, 0, hl);
	t[0] = (uint8_t)(sport >> 8);
	t[1] = (uint8_t)sport;
	t[2] = (uint8_t)(dport >> 8);
	t[3] = (uint8_t)dport;
	t[4] = (uint8_t)(seq >> 24);
	t[5] = (uint8_t)(seq >> 16);
	t[6] = (uint8_t)(seq >> 8);
	t[7] = (uint8_t)seq;
	t[8] = (uint8_t)(ack >> 24);
	t[9] = (uint8_t)(ack >> 16);
	t[10] = (uint8_t)(ack >> 8);
	t[11] = (uint8_t)ack;
	t[12] = (uint8_t)((hl / 4) << 4);
	t[13] = flags;
	t[14] = 0xfa;                       /* window 64240 */
	t[15] = 0xf0;
	if (hl == 24) {
		t[20] = 2;                  /* MSS 1460 */
		t[21] = 4;
		t[22] = 0x05;
		t[23] = 0xb4;
	}
	if (n)
		memcpy(t + hl, payload, n);
	c = csum_fold(csum_add(pseudo_sum(src, dst, 6, tlen), t, tlen));
	t[16] = (uint8_t)(c >> 8);
	t[17] = (uint8_t)c;
	return 20 + tlen;
}

/* IPv4 + ICMP echo request/reply with 56 bytes of the usual ping pattern. */
size_t med_ip_icmp_echo(uint8_t *out, const uint8_t src[4], const uint8_t dst[4],
    int reply, uint16_t ident, uint16_t seq, uint16_t ip_id, uint8_t ttl)
{
	uint8_t *c = out + 20;
	size_t i, len = 8 + 56;
	uint16_t s;

	ip_header(out, 20 + len, 1, src, dst, ip_id, ttl);
	c[0] = reply ? 0 : 8;
	c[1] = 0;
	c[2] = c[3] = 0;
	c[4] = (uint8_t)(ident >> 8);
	c[5] = (uint8_t)ident;
	c[6] = (uint8_t)(seq >> 8);
	c[7] = (uint8_t)seq;
	for (i = 0; i < 56; i++)
		c[8 + i] = (uint8_t)(0x10 + i);
	s = csum_fold(csum_add(0, c, len));
	c[2] = (uint8_t)(s >> 8);
	c[3] = (uint8_t)s;
	return 20 + len;
}

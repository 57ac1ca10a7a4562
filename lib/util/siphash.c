/*
 * siphash.c - SipHash-2-4 (include/lacre/siphash.h), written from the
 * paper ("SipHash: a fast short-input PRF", 2012): four 64-bit words of
 * state from the key, two rounds per 8-byte little-endian word of input,
 * a last word holding the length's low byte and the tail, four rounds to
 * finish.
 */
#include "lacre/siphash.h"

/* The little-endian 64-bit word at p. */
static uint64_t sip_le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static uint64_t sip_rotl(uint64_t x, int b)
{
	return x << b | x >> (64 - b);
}

/* One SipRound on v[0..3]. */
static void sip_round(uint64_t v[4])
{
	v[0] += v[1];
	v[1] = sip_rotl(v[1], 13) ^ v[0];
	v[0] = sip_rotl(v[0], 32);
	v[2] += v[3];
	v[3] = sip_rotl(v[3], 16) ^ v[2];
	v[0] += v[3];
	v[3] = sip_rotl(v[3], 21) ^ v[0];
	v[2] += v[1];
	v[1] = sip_rotl(v[1], 17) ^ v[2];
	v[2] = sip_rotl(v[2], 32);
}

/* Absorb the word m: two compression rounds. */
static void sip_word(uint64_t v[4], uint64_t m)
{
	v[3] ^= m;
	sip_round(v);
	sip_round(v);
	v[0] ^= m;
}

uint64_t lacre_siphash24(const uint8_t key[LACRE_SIPHASH_KEY], const void *in, size_t len)
{
	const uint8_t *p = in;
	uint64_t k0 = sip_le64(key), k1 = sip_le64(key + 8);
	uint64_t v[4] = { k0 ^ 0x736f6d6570736575ull, k1 ^ 0x646f72616e646f6dull,
			  k0 ^ 0x6c7967656e657261ull, k1 ^ 0x7465646279746573ull };
	uint64_t last = (uint64_t)(len & 0xff) << 56;
	size_t whole = len & ~(size_t)7;

	for (size_t i = 0; i < whole; i += 8)
		sip_word(v, sip_le64(p + i));
	for (size_t i = whole; i < len; i++)
		last |= (uint64_t)p[i] << (8 * (i - whole));
	sip_word(v, last);
	v[2] ^= 0xff;
	for (int i = 0; i < 4; i++)
		sip_round(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

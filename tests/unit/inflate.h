/*
 * inflate.h - a small zlib (RFC 1950) / DEFLATE (RFC 1951) decoder for test
 * data, written from the RFCs.  The C2SP CCTV age kit stores its large
 * vectors (up to 16 MiB of ciphertext) zlib-compressed; lacre links no zlib,
 * and the unit tests are built one file each, so this header is included by
 * the one test that needs it (test_age.c).  It is test code: it checks what
 * a decoder must (block types, code lengths, distances, the stored-block
 * length complement, the Adler-32 trailer, trailing bytes) so that damaged
 * test data fails loudly instead of replaying garbage, and caps its output.
 *
 * Use: inflate_zlib(in, n, &out) appends the decompressed bytes to out (a
 * lacre_dbuf whose max is the cap) and returns 0, or -1 on any error.
 */
#ifndef LACRE_TEST_INFLATE_H
#define LACRE_TEST_INFLATE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lacre/buf.h"

#define INF_MAXBITS 15

/* Input cursor with a bit buffer (bits are read least significant first). */
struct inf_state {
	const uint8_t *in;
	size_t n, pos;
	uint32_t bitbuf;
	int bitcnt;
	struct lacre_dbuf *out;
};

/* A canonical Huffman code: count[len] codes of each length, symbols in
 * code order. */
struct inf_huff {
	short count[INF_MAXBITS + 1];
	short symbol[320];
};

/* Take need (0..16) bits into *v; -1 when the input ends. */
static int inf_bits(struct inf_state *s, int need, unsigned *v)
{
	uint32_t val = s->bitbuf;

	while (s->bitcnt < need) {
		if (s->pos == s->n)
			return -1;
		val |= (uint32_t)s->in[s->pos++] << s->bitcnt;
		s->bitcnt += 8;
	}
	s->bitbuf = val >> need;
	s->bitcnt -= need;
	*v = (unsigned)(val & ((1u << need) - 1u));
	return 0;
}

/* Build h from n code lengths; -1 when the lengths over-subscribe the code
 * space (an incomplete code is allowed: an unused code fails at decode). */
static int inf_build(struct inf_huff *h, const short *length, int n)
{
	short offs[INF_MAXBITS + 1];
	int left = 1;

	memset(h->count, 0, sizeof(h->count));
	for (int i = 0; i < n; i++)
		h->count[length[i]]++;
	if (h->count[0] == n)
		return 0;
	for (int len = 1; len <= INF_MAXBITS; len++) {
		left <<= 1;
		left -= h->count[len];
		if (left < 0)
			return -1;
	}
	offs[1] = 0;
	for (int len = 1; len < INF_MAXBITS; len++)
		offs[len + 1] = (short)(offs[len] + h->count[len]);
	for (int i = 0; i < n; i++)
		if (length[i] != 0)
			h->symbol[offs[length[i]]++] = (short)i;
	return 0;
}

/* Decode one symbol with h; -1 on end of input or an unused code. */
static int inf_decode(struct inf_state *s, const struct inf_huff *h)
{
	int code = 0, first = 0, index = 0;

	for (int len = 1; len <= INF_MAXBITS; len++) {
		unsigned b;
		if (inf_bits(s, 1, &b) != 0)
			return -1;
		code |= (int)b;
		int count = h->count[len];
		if (code - count < first)
			return h->symbol[index + (code - first)];
		index += count;
		first += count;
		first <<= 1;
		code <<= 1;
	}
	return -1;
}

/* Decode the literal/length and distance symbols of one block. */
static int inf_codes(struct inf_state *s, const struct inf_huff *lencode,
		     const struct inf_huff *distcode)
{
	static const short lbase[29] = { 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27,
		31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258 };
	static const short lext[29] = { 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2,
		3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0 };
	static const short dbase[30] = { 1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97,
		129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193,
		12289, 16385, 24577 };
	static const short dext[30] = { 0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6,
		7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13 };

	for (;;) {
		int sym = inf_decode(s, lencode);
		unsigned e;
		if (sym < 0)
			return -1;
		if (sym < 256) {
			if (lacre_dbuf_add_u8(s->out, (uint8_t)sym) != 0)
				return -1;
			continue;
		}
		if (sym == 256)
			return 0;
		sym -= 257;
		if (sym >= 29 || inf_bits(s, lext[sym], &e) != 0)
			return -1;
		size_t len = (size_t)lbase[sym] + e;
		int dsym = inf_decode(s, distcode);
		if (dsym < 0 || dsym >= 30 || inf_bits(s, dext[dsym], &e) != 0)
			return -1;
		size_t dist = (size_t)dbase[dsym] + e;
		if (dist > s->out->len || lacre_dbuf_reserve(s->out, len) != 0)
			return -1;
		for (size_t i = 0; i < len; i++) /* byte by byte: copies may overlap */
			s->out->p[s->out->len + i] = s->out->p[s->out->len - dist + i];
		s->out->len += len;
	}
}

/* A stored block: LEN, NLEN (its complement), LEN raw bytes. */
static int inf_stored(struct inf_state *s)
{
	size_t len;

	s->bitbuf = 0; /* go to the next byte boundary */
	s->bitcnt = 0;
	if (s->n - s->pos < 4)
		return -1;
	len = (size_t)s->in[s->pos] | (size_t)s->in[s->pos + 1] << 8;
	if (((unsigned)s->in[s->pos + 2] | (unsigned)s->in[s->pos + 3] << 8) != (~len & 0xffffu))
		return -1;
	s->pos += 4;
	if (s->n - s->pos < len || lacre_dbuf_add(s->out, s->in + s->pos, len) != 0)
		return -1;
	s->pos += len;
	return 0;
}

/* A block with the fixed codes of RFC 1951 §3.2.6. */
static int inf_fixed(struct inf_state *s)
{
	static struct inf_huff lencode, distcode;
	static int built;
	short lengths[288];

	if (!built) {
		int i;
		for (i = 0; i < 144; i++)
			lengths[i] = 8;
		for (; i < 256; i++)
			lengths[i] = 9;
		for (; i < 280; i++)
			lengths[i] = 7;
		for (; i < 288; i++)
			lengths[i] = 8;
		inf_build(&lencode, lengths, 288);
		for (i = 0; i < 30; i++)
			lengths[i] = 5;
		inf_build(&distcode, lengths, 30);
		built = 1;
	}
	return inf_codes(s, &lencode, &distcode);
}

/* A block with dynamic codes (RFC 1951 §3.2.7). */
static int inf_dynamic(struct inf_state *s)
{
	static const short order[19] = { 16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3,
		13, 2, 14, 1, 15 };
	struct inf_huff lencode, distcode;
	short lengths[320];
	unsigned nlen, ndist, ncode, v;
	int index;

	if (inf_bits(s, 5, &nlen) || inf_bits(s, 5, &ndist) || inf_bits(s, 4, &ncode))
		return -1;
	nlen += 257;
	ndist += 1;
	ncode += 4;
	if (nlen > 286 || ndist > 30)
		return -1;
	memset(lengths, 0, sizeof(lengths));
	for (unsigned i = 0; i < ncode; i++) {
		if (inf_bits(s, 3, &v))
			return -1;
		lengths[order[i]] = (short)v;
	}
	if (inf_build(&lencode, lengths, 19) != 0)
		return -1;
	index = 0;
	while (index < (int)(nlen + ndist)) {
		int sym = inf_decode(s, &lencode), len = 0;
		unsigned rep;
		if (sym < 0)
			return -1;
		if (sym < 16) {
			lengths[index++] = (short)sym;
			continue;
		}
		if (sym == 16) {
			if (index == 0 || inf_bits(s, 2, &rep))
				return -1;
			len = lengths[index - 1];
			rep += 3;
		} else if (sym == 17) {
			if (inf_bits(s, 3, &rep))
				return -1;
			rep += 3;
		} else {
			if (inf_bits(s, 7, &rep))
				return -1;
			rep += 11;
		}
		if (index + (int)rep > (int)(nlen + ndist))
			return -1;
		while (rep--)
			lengths[index++] = (short)len;
	}
	if (lengths[256] == 0) /* no end-of-block code */
		return -1;
	if (inf_build(&lencode, lengths, (int)nlen) != 0 ||
	    inf_build(&distcode, lengths + nlen, (int)ndist) != 0)
		return -1;
	return inf_codes(s, &lencode, &distcode);
}

/* Decompress the zlib stream in[0..n) (header, DEFLATE blocks, Adler-32,
 * nothing after) and append it to out.  0 on success, -1 otherwise. */
static int inflate_zlib(const uint8_t *in, size_t n, struct lacre_dbuf *out)
{
	struct inf_state s = { .in = in, .n = n, .pos = 2, .out = out };
	size_t start = out->len;
	uint32_t a = 1, b = 0, want;
	unsigned last, type;

	if (n < 6 || (in[0] & 0x0f) != 8 || (in[0] >> 4) > 7 || (in[1] & 0x20) ||
	    (((unsigned)in[0] << 8) | in[1]) % 31 != 0)
		return -1;
	do {
		int r;
		if (inf_bits(&s, 1, &last) || inf_bits(&s, 2, &type))
			return -1;
		if (type == 0)
			r = inf_stored(&s);
		else if (type == 1)
			r = inf_fixed(&s);
		else if (type == 2)
			r = inf_dynamic(&s);
		else
			r = -1;
		if (r != 0)
			return -1;
	} while (!last);
	if (s.n - s.pos != 4) /* the Adler-32 trailer and nothing else */
		return -1;
	want = (uint32_t)in[s.pos] << 24 | (uint32_t)in[s.pos + 1] << 16 |
	       (uint32_t)in[s.pos + 2] << 8 | in[s.pos + 3];
	for (size_t i = start; i < out->len; i++) {
		a = (a + out->p[i]) % 65521u;
		b = (b + a) % 65521u;
	}
	return ((b << 16) | a) == want ? 0 : -1;
}

#endif

/*
 * bech32.c - Bech32 encoding and strict decoding (BIP 173, checksum
 * constant 1), as age v1 uses it for "age1..." recipients and
 * "AGE-SECRET-KEY-1..." identities.  See include/lacre/bech32.h.
 *
 * Identities pass through here, so the 5-bit scratch arrays are wiped
 * before returning.
 */
#include <string.h>

#include <openssl/crypto.h>

#include "lacre/bech32.h"
#include "lacre/err.h"

#define BECH32_MAX_STR 1024

static const char bech32_charset[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

/* BIP 173 checksum polynomial step. */
static uint32_t bech32_polymod_step(uint32_t pre)
{
	uint32_t b = pre >> 25;
	return ((pre & 0x1ffffffu) << 5) ^
	       (-((b >> 0) & 1u) & 0x3b6a57b2u) ^
	       (-((b >> 1) & 1u) & 0x26508e6du) ^
	       (-((b >> 2) & 1u) & 0x1ea119fau) ^
	       (-((b >> 3) & 1u) & 0x3d4233ddu) ^
	       (-((b >> 4) & 1u) & 0x2a1462b3u);
}

/* Checksum state after the expanded hrp (high bits, 0, low bits). */
static uint32_t bech32_hrp_polymod(const char *hrp, size_t hl)
{
	uint32_t chk = 1;
	for (size_t i = 0; i < hl; i++)
		chk = bech32_polymod_step(chk) ^ ((uint32_t)(unsigned char)hrp[i] >> 5);
	chk = bech32_polymod_step(chk);
	for (size_t i = 0; i < hl; i++)
		chk = bech32_polymod_step(chk) ^ ((uint32_t)(unsigned char)hrp[i] & 0x1f);
	return chk;
}

/* Is the hrp usable: 1..83 characters of ASCII 33..126, no upper case. */
static int bech32_hrp_ok(const char *hrp, size_t hl)
{
	if (hl < 1 || hl > 83)
		return 0;
	for (size_t i = 0; i < hl; i++) {
		unsigned char c = (unsigned char)hrp[i];
		if (c < 33 || c > 126 || (c >= 'A' && c <= 'Z'))
			return 0;
	}
	return 1;
}

int bech32_encode(const char *hrp, const uint8_t *data, size_t n,
		  char *out, size_t cap)
{
	size_t hl = hrp ? strlen(hrp) : 0;
	size_t n5, need, o = 0;
	uint32_t chk, acc = 0;
	int bits = 0;

	if (!hrp || !bech32_hrp_ok(hrp, hl) || (!data && n))
		return LACRE_E_INVALID;
	if (n > BECH32_MAX_STR)
		return LACRE_E_TOO_LARGE;
	n5 = (n * 8 + 4) / 5;
	need = hl + 1 + n5 + 6 + 1;
	if (need > cap)
		return LACRE_E_TOO_LARGE;

	chk = bech32_hrp_polymod(hrp, hl);
	memcpy(out, hrp, hl);
	o = hl;
	out[o++] = '1';
	for (size_t i = 0; i < n; i++) {
		acc = (acc << 8) | data[i];
		bits += 8;
		while (bits >= 5) {
			uint32_t v = (acc >> (bits - 5)) & 31u;
			bits -= 5;
			chk = bech32_polymod_step(chk) ^ v;
			out[o++] = bech32_charset[v];
		}
	}
	if (bits > 0) {
		uint32_t v = (acc << (5 - bits)) & 31u;
		chk = bech32_polymod_step(chk) ^ v;
		out[o++] = bech32_charset[v];
	}
	for (int i = 0; i < 6; i++)
		chk = bech32_polymod_step(chk);
	chk ^= 1;
	for (int i = 0; i < 6; i++)
		out[o++] = bech32_charset[(chk >> (5 * (5 - i))) & 31u];
	out[o] = 0;
	acc = 0;
	OPENSSL_cleanse(&acc, sizeof(acc));
	return LACRE_OK;
}

/* Value of a Bech32 data character (lower case), or -1. */
static int bech32_value(char c)
{
	const char *p;
	if (c == 0)
		return -1;
	p = strchr(bech32_charset, c);
	return p ? (int)(p - bech32_charset) : -1;
}

int bech32_decode(const char *s, char *hrp, size_t hrp_cap,
		  uint8_t *data, size_t data_cap, size_t *n)
{
	char low[BECH32_MAX_STR + 1];
	uint8_t tmp[BECH32_MAX_STR];
	size_t len, sep, ndata, nout = 0;
	int has_lower = 0, has_upper = 0, r = LACRE_E_MALFORMED, bits = 0;
	uint32_t chk, acc = 0;

	if (!s)
		return LACRE_E_INVALID;
	len = strnlen(s, BECH32_MAX_STR + 1);
	if (len > BECH32_MAX_STR)
		return LACRE_E_TOO_LARGE;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 33 || c > 126)
			goto out;
		if (c >= 'a' && c <= 'z')
			has_lower = 1;
		if (c >= 'A' && c <= 'Z') {
			has_upper = 1;
			c = (unsigned char)(c - 'A' + 'a');
		}
		low[i] = (char)c;
	}
	low[len] = 0;
	if (has_lower && has_upper)
		goto out;
	sep = len;
	for (size_t i = len; i > 0; i--) {
		if (low[i - 1] == '1') {
			sep = i - 1;
			break;
		}
	}
	if (sep == len || sep < 1 || len - sep - 1 < 6 || !bech32_hrp_ok(low, sep))
		goto out;

	chk = bech32_hrp_polymod(low, sep);
	for (size_t i = sep + 1; i < len; i++) {
		int v = bech32_value(low[i]);
		if (v < 0)
			goto out;
		chk = bech32_polymod_step(chk) ^ (uint32_t)v;
	}
	if (chk != 1)
		goto out;

	/* 5-bit groups to bytes; leftover bits must be fewer than 5 and zero */
	ndata = len - sep - 1 - 6;
	for (size_t i = 0; i < ndata; i++) {
		acc = ((acc << 5) | (uint32_t)bech32_value(low[sep + 1 + i])) & 0xfffu;
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			tmp[nout++] = (uint8_t)(acc >> bits);
		}
	}
	if (bits >= 5 || (acc & ((1u << bits) - 1u)) != 0)
		goto out;
	if (sep + 1 > hrp_cap || nout > data_cap) {
		r = LACRE_E_TOO_LARGE;
		goto out;
	}
	memcpy(hrp, low, sep);
	hrp[sep] = 0;
	if (nout)
		memcpy(data, tmp, nout);
	*n = nout;
	r = LACRE_OK;
out:
	OPENSSL_cleanse(low, sizeof(low));
	OPENSSL_cleanse(tmp, sizeof(tmp));
	OPENSSL_cleanse(&acc, sizeof(acc));
	return r;
}

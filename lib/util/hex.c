/*
 * hex.c - hexadecimal text of bytes, and back (see include/lacre/hex.h).
 */
#include <string.h>

#include "lacre/err.h"
#include "lacre/hex.h"

void lacre_hex(const uint8_t *p, size_t n, char *out)
{
	static const char hx[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hx[p[i] >> 4];
		out[2 * i + 1] = hx[p[i] & 15];
	}
	out[2 * n] = '\0';
}

/* Value of one hex digit (upper case only when upper), or -1. */
static int digit(char c, int upper)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (upper && c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* n bytes from 2n digits of s. */
static int decode(const char *s, uint8_t *out, size_t n, int upper)
{
	for (size_t i = 0; i < n; i++) {
		int hi = digit(s[2 * i], upper), lo = digit(s[2 * i + 1], upper);
		if (hi < 0 || lo < 0)
			return LACRE_E_MALFORMED;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return LACRE_OK;
}

int lacre_unhex(const char *s, size_t slen, uint8_t *out, size_t n)
{
	if (slen != 2 * n)
		return LACRE_E_MALFORMED;
	return decode(s, out, n, 0);
}

long lacre_unhex_text(const char *s, uint8_t *out, size_t cap)
{
	size_t n = strlen(s);

	if (n % 2 != 0 || n / 2 > cap || decode(s, out, n / 2, 1) != LACRE_OK)
		return -1;
	return (long)(n / 2);
}

/*
 * pct.c - strict percent-encoding for line-based logs (see lacre/pct.h).
 */
#include <ctype.h>
#include <string.h>

#include "lacre/err.h"
#include "lacre/pct.h"

/* Bytes written raw in a value; everything else is %XX. */
static int raw_ok(unsigned char c)
{
	return c != 0 && (isalnum(c) || strchr("-._~:/@+", c) != NULL);
}

int pct_encode(struct lacre_dbuf *d, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	int r = LACRE_OK;

	for (const unsigned char *p = (const unsigned char *)s; *p && r == LACRE_OK; p++) {
		if (raw_ok(*p)) {
			r = lacre_dbuf_add_u8(d, *p);
		} else {
			char e[3] = { '%', hex[*p >> 4], hex[*p & 15] };
			r = lacre_dbuf_add(d, e, 3);
		}
	}
	return r;
}

/* Value of an upper-case hex digit, or -1. */
static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int pct_decode(const char *s, size_t n, char *out, size_t cap)
{
	size_t o = 0;

	if (cap == 0)
		return LACRE_E_TOO_LARGE;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '%') {
			int hi, lo;
			if (n - i < 3 || (hi = hexval(s[i + 1])) < 0 || (lo = hexval(s[i + 2])) < 0)
				return LACRE_E_MALFORMED;
			c = (unsigned char)(hi << 4 | lo);
			if (raw_ok(c) || c < 0x20 || c == 0x7f)
				return LACRE_E_MALFORMED;
			i += 2;
		} else if (!raw_ok(c)) {
			return LACRE_E_MALFORMED;
		}
		if (o + 1 >= cap)
			return LACRE_E_TOO_LARGE;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return LACRE_OK;
}

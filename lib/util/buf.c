/*
 * buf.c - checked read cursor and capped output buffer (see lacre/buf.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "lacre/buf.h"
#include "lacre/err.h"

void lacre_rbuf_init(struct lacre_rbuf *b, const void *p, size_t len)
{
	b->p = p;
	b->len = p ? len : 0;
	b->off = 0;
}

size_t lacre_rbuf_left(const struct lacre_rbuf *b)
{
	return b->len - b->off;
}

const uint8_t *lacre_rbuf_ptr(const struct lacre_rbuf *b)
{
	return b->p + b->off;
}

int lacre_rbuf_take(struct lacre_rbuf *b, size_t n, const uint8_t **p)
{
	if (b->len - b->off < n)
		return LACRE_E_INCOMPLETE;
	if (p)
		*p = b->p + b->off;
	b->off += n;
	return LACRE_OK;
}

int lacre_rbuf_u8(struct lacre_rbuf *b, uint8_t *v)
{
	const uint8_t *p;
	int r = lacre_rbuf_take(b, 1, &p);
	if (r == LACRE_OK)
		*v = p[0];
	return r;
}

int lacre_rbuf_peek(const struct lacre_rbuf *b, uint8_t *v)
{
	if (b->len - b->off < 1)
		return LACRE_E_INCOMPLETE;
	*v = b->p[b->off];
	return LACRE_OK;
}

int lacre_rbuf_u16be(struct lacre_rbuf *b, uint16_t *v)
{
	const uint8_t *p;
	int r = lacre_rbuf_take(b, 2, &p);
	if (r == LACRE_OK)
		*v = (uint16_t)((p[0] << 8) | p[1]);
	return r;
}

int lacre_rbuf_u32be(struct lacre_rbuf *b, uint32_t *v)
{
	const uint8_t *p;
	int r = lacre_rbuf_take(b, 4, &p);
	if (r == LACRE_OK)
		*v = ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
		     ((uint32_t)p[2] << 8) | p[3];
	return r;
}

int lacre_rbuf_u64be(struct lacre_rbuf *b, uint64_t *v)
{
	const uint8_t *p;
	int r = lacre_rbuf_take(b, 8, &p);
	if (r == LACRE_OK) {
		uint64_t x = 0;
		for (int i = 0; i < 8; i++)
			x = (x << 8) | p[i];
		*v = x;
	}
	return r;
}

int lacre_rbuf_copy(struct lacre_rbuf *b, void *dst, size_t n)
{
	const uint8_t *p;
	int r = lacre_rbuf_take(b, n, &p);
	if (r == LACRE_OK && n > 0)
		memcpy(dst, p, n);
	return r;
}

int lacre_rbuf_skip(struct lacre_rbuf *b, size_t n)
{
	return lacre_rbuf_take(b, n, NULL);
}

int lacre_rbuf_sub(struct lacre_rbuf *b, size_t n, struct lacre_rbuf *sub)
{
	const uint8_t *p;
	int r = lacre_rbuf_take(b, n, &p);
	if (r == LACRE_OK)
		lacre_rbuf_init(sub, p, n);
	return r;
}

int lacre_rbuf_expect_end(const struct lacre_rbuf *b)
{
	return b->off == b->len ? LACRE_OK : LACRE_E_TRAILING;
}

void lacre_dbuf_init(struct lacre_dbuf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

void lacre_dbuf_set_secret(struct lacre_dbuf *b)
{
	b->secret = 1;
}

int lacre_dbuf_reserve(struct lacre_dbuf *b, size_t n)
{
	size_t want, na;
	uint8_t *np;

	/* +1 keeps room for the NUL of lacre_dbuf_cstr */
	if (n > b->max - b->len || b->max - b->len - n < 1)
		return LACRE_E_TOO_LARGE;
	want = b->len + n + 1;
	if (want <= b->alloc)
		return LACRE_OK;
	na = b->alloc ? b->alloc : 64;
	while (na < want)
		na = (na > b->max / 2) ? b->max : na * 2;
	if (na < want)
		na = want;
	if (b->secret) {
		/* never leave a copy of a secret behind in freed memory */
		np = malloc(na);
		if (!np)
			return LACRE_E_NOMEM;
		if (b->len)
			memcpy(np, b->p, b->len);
		if (b->p) {
			OPENSSL_cleanse(b->p, b->alloc);
			free(b->p);
		}
	} else {
		np = realloc(b->p, na);
		if (!np)
			return LACRE_E_NOMEM;
	}
	b->p = np;
	b->alloc = na;
	return LACRE_OK;
}

void lacre_dbuf_shrink(struct lacre_dbuf *b, size_t keep)
{
	size_t na = b->len + 1 > keep ? b->len + 1 : keep;
	uint8_t *np;

	if (!b->p || na >= b->alloc / 2)
		return;
	if (b->secret) {
		if (!(np = malloc(na)))
			return;
		memcpy(np, b->p, b->len);
		OPENSSL_cleanse(b->p, b->alloc);
		free(b->p);
	} else if (!(np = realloc(b->p, na))) {
		return;
	}
	b->p = np;
	b->alloc = na;
}

int lacre_dbuf_add(struct lacre_dbuf *b, const void *p, size_t n)
{
	int r;
	if (n == 0)
		return LACRE_OK;
	if ((r = lacre_dbuf_reserve(b, n)) != LACRE_OK)
		return r;
	memcpy(b->p + b->len, p, n);
	b->len += n;
	return LACRE_OK;
}

int lacre_dbuf_add_u8(struct lacre_dbuf *b, uint8_t v)
{
	return lacre_dbuf_add(b, &v, 1);
}

int lacre_dbuf_add_u16be(struct lacre_dbuf *b, uint16_t v)
{
	uint8_t x[2] = { (uint8_t)(v >> 8), (uint8_t)v };
	return lacre_dbuf_add(b, x, 2);
}

int lacre_dbuf_add_u32be(struct lacre_dbuf *b, uint32_t v)
{
	uint8_t x[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16),
			 (uint8_t)(v >> 8), (uint8_t)v };
	return lacre_dbuf_add(b, x, 4);
}

int lacre_dbuf_add_u64be(struct lacre_dbuf *b, uint64_t v)
{
	uint8_t x[8];
	for (int i = 7; i >= 0; i--) {
		x[i] = (uint8_t)v;
		v >>= 8;
	}
	return lacre_dbuf_add(b, x, 8);
}

int lacre_dbuf_add_str(struct lacre_dbuf *b, const char *s)
{
	return lacre_dbuf_add(b, s, strlen(s));
}

int lacre_dbuf_printf(struct lacre_dbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n, r;
	char small[256];

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return LACRE_E_INVALID;
	if ((size_t)n < sizeof(small))
		return lacre_dbuf_add(b, small, (size_t)n);
	if ((r = lacre_dbuf_reserve(b, (size_t)n)) != LACRE_OK)
		return r;
	va_start(ap, fmt);
	vsnprintf((char *)b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return LACRE_OK;
}

int lacre_dbuf_cstr(struct lacre_dbuf *b, const char **s)
{
	int r;
	if (b->alloc <= b->len && (r = lacre_dbuf_reserve(b, 0)) != LACRE_OK)
		return r;
	b->p[b->len] = 0;
	*s = (const char *)b->p;
	return LACRE_OK;
}

void lacre_dbuf_consume(struct lacre_dbuf *b, size_t n)
{
	if (n >= b->len) {
		lacre_dbuf_reset(b);
		return;
	}
	memmove(b->p, b->p + n, b->len - n);
	b->len -= n;
	if (b->secret)
		OPENSSL_cleanse(b->p + b->len, n);
}

void lacre_dbuf_reset(struct lacre_dbuf *b)
{
	if (b->secret && b->p)
		OPENSSL_cleanse(b->p, b->alloc);
	b->len = 0;
}

void lacre_dbuf_free(struct lacre_dbuf *b)
{
	if (b->p) {
		if (b->secret)
			OPENSSL_cleanse(b->p, b->alloc);
		free(b->p);
	}
	b->p = NULL;
	b->len = b->alloc = 0;
}

uint8_t *lacre_dbuf_steal(struct lacre_dbuf *b, size_t *len)
{
	uint8_t *p = b->p;
	*len = b->len;
	b->p = NULL;
	b->len = b->alloc = 0;
	return p;
}

/*
 * ber_enc.c - BER/DER writer into a capped dbuf (see include/lacre/ber_enc.h).
 *
 * Constructed elements are written as identifier + a one-octet placeholder
 * length; ber_enc_close() computes the contents length and, when the style
 * needs more length octets, slides the contents up to make room.  PS-PDUs are
 * small (a few KiB) and shallow, so the memmove costs less than a second pass
 * over a tree would.  Errors are sticky so that PDU builders can issue a run
 * of writes and check once.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "lacre/ber_enc.h"
#include "lacre/err.h"

/* Record r as the sticky error unless one is set; return the sticky error. */
static int set_err(struct ber_enc *e, int r)
{
	if (e->err == 0 && r != 0)
		e->err = r;
	return e->err;
}

/* Number of octets the definite length len takes in style, tag excluded. */
static size_t len_octets(int style, size_t len)
{
	size_t n = 0;
	size_t v = len;

	if (style == BER_ENC_LEN_LONG)
		return 5;
	if (len < 128)
		return 1;
	while (v > 0) {
		n++;
		v >>= 8;
	}
	/* libwandder sizes a length like a signed integer, one octet more
	 * when the top bit is set, except at exactly 2^(8n-1): 128 is 81 80,
	 * 129..255 are 82 00 xx, 32769 is 83 00 80 01. */
	if (style == BER_ENC_LEN_OPENLI && n < sizeof(size_t) && len > ((size_t)1 << (8 * n - 1)))
		n++;
	return 1 + n;
}

/* Write the length len as exactly nout octets (as len_octets chose) at p. */
static void put_len(uint8_t *p, size_t nout, size_t len)
{
	size_t i;

	if (nout == 1) {
		p[0] = (uint8_t)len;
		return;
	}
	p[0] = (uint8_t)(0x80 | (nout - 1));
	for (i = nout - 1; i >= 1; i--) {
		p[i] = (uint8_t)(len & 0xff);
		len >>= 8;
	}
}

/* Initialise e to append to b in the given length style. */
void ber_enc_init(struct ber_enc *e, struct lacre_dbuf *b, int style)
{
	memset(e, 0, sizeof(*e));
	e->b = b;
	e->style = style;
	e->start = b->len;
}

/* Append the identifier octets of (cls, constructed, tag). */
int ber_enc_tag(struct ber_enc *e, int cls, int constructed, uint32_t tag)
{
	uint8_t id[6];
	uint8_t tmp[5];
	size_t n = 0, k = 0;
	uint8_t first;

	if (e->err)
		return e->err;
	if (cls < 0 || cls > 3)
		return set_err(e, LACRE_E_INVALID);
	first = (uint8_t)((cls << 6) | (constructed ? 0x20 : 0));
	if (tag < 31) {
		id[n++] = (uint8_t)(first | tag);
	} else {
		id[n++] = (uint8_t)(first | 0x1f);
		do {
			tmp[k++] = (uint8_t)(tag & 0x7f);
			tag >>= 7;
		} while (tag > 0);
		while (k > 0) {
			k--;
			id[n++] = (uint8_t)(tmp[k] | (k > 0 ? 0x80 : 0));
		}
	}
	return set_err(e, lacre_dbuf_add(e->b, id, n));
}

/* Append a definite length in the encoder's style. */
int ber_enc_len(struct ber_enc *e, size_t len)
{
	uint8_t l[9];
	size_t n;
	int style = e->style == BER_ENC_LEN_INDEFINITE ? BER_ENC_LEN_MINIMAL : e->style;

	if (e->err)
		return e->err;
	if (style == BER_ENC_LEN_LONG && len > 0xffffffffu)
		return set_err(e, LACRE_E_TOO_LARGE);
	n = len_octets(style, len);
	put_len(l, n, len);
	return set_err(e, lacre_dbuf_add(e->b, l, n));
}

/* Open a constructed element; the length is a placeholder until close. */
int ber_enc_open(struct ber_enc *e, int cls, uint32_t tag)
{
	if (e->err)
		return e->err;
	if (e->depth >= BER_ENC_MAX_DEPTH)
		return set_err(e, LACRE_E_DEPTH);
	if (ber_enc_tag(e, cls, 1, tag) != 0)
		return e->err;
	e->lenpos[e->depth] = e->b->len;
	e->indef[e->depth] = e->style == BER_ENC_LEN_INDEFINITE;
	if (set_err(e, lacre_dbuf_add_u8(e->b, e->indef[e->depth] ? 0x80 : 0x00)) != 0)
		return e->err;
	e->depth++;
	return 0;
}

/* Open a universal SEQUENCE. */
int ber_enc_seq(struct ber_enc *e)
{
	return ber_enc_open(e, BER_UNIVERSAL, BER_TAG_SEQUENCE);
}

/* Close the innermost element: end-of-contents for the indefinite form,
 * else the definite length, moving the contents up if it needs more than
 * the one placeholder octet. */
int ber_enc_close(struct ber_enc *e)
{
	size_t pos, clen, n;
	uint8_t eoc[2] = { 0, 0 };

	if (e->err)
		return e->err;
	if (e->depth == 0)
		return set_err(e, LACRE_E_STATE);
	e->depth--;
	if (e->indef[e->depth])
		return set_err(e, lacre_dbuf_add(e->b, eoc, 2));
	pos = e->lenpos[e->depth];
	clen = e->b->len - pos - 1;
	if (e->style == BER_ENC_LEN_LONG && clen > 0xffffffffu)
		return set_err(e, LACRE_E_TOO_LARGE);
	n = len_octets(e->style, clen);
	if (n > 1) {
		if (set_err(e, lacre_dbuf_reserve(e->b, n - 1)) != 0)
			return e->err;
		memmove(e->b->p + pos + n, e->b->p + pos + 1, clen);
		e->b->len += n - 1;
	}
	put_len(e->b->p + pos, n, clen);
	return 0;
}

/* Primitive element with raw contents. */
int ber_enc_prim(struct ber_enc *e, int cls, uint32_t tag, const void *p, size_t n)
{
	if (e->err)
		return e->err;
	if (p == NULL && n > 0)
		return set_err(e, LACRE_E_INVALID);
	if (ber_enc_tag(e, cls, 0, tag) != 0 || ber_enc_len(e, n) != 0)
		return e->err;
	if (n == 0)
		return 0;
	return set_err(e, lacre_dbuf_add(e->b, p, n));
}

/* Primitive element from a C string (without its NUL). */
int ber_enc_str(struct ber_enc *e, int cls, uint32_t tag, const char *s)
{
	if (s == NULL)
		return set_err(e, LACRE_E_INVALID);
	return ber_enc_prim(e, cls, tag, s, strlen(s));
}

/* Non-negative INTEGER/ENUMERATED: big-endian, minimal, a 00 pad octet when
 * the top bit of the first octet is set (so 2^32-1 takes 5 octets). */
int ber_enc_uint(struct ber_enc *e, int cls, uint32_t tag, uint64_t v)
{
	uint8_t c[9];
	size_t n = 0, i;

	do {
		c[8 - n] = (uint8_t)(v & 0xff);
		v >>= 8;
		n++;
	} while (v > 0);
	if (c[9 - n] & 0x80) {
		c[8 - n] = 0;
		n++;
	}
	i = 9 - n;
	return ber_enc_prim(e, cls, tag, c + i, n);
}

/* Signed INTEGER, minimal two's complement. */
int ber_enc_int(struct ber_enc *e, int cls, uint32_t tag, int64_t v)
{
	uint8_t c[8];
	uint64_t u = (uint64_t)v;
	size_t i, start = 0;

	for (i = 0; i < 8; i++)
		c[i] = (uint8_t)(u >> (56 - 8 * i));
	/* Drop leading octets that only repeat the sign. */
	while (start < 7 &&
	    ((c[start] == 0x00 && !(c[start + 1] & 0x80)) ||
	     (c[start] == 0xff && (c[start + 1] & 0x80))))
		start++;
	return ber_enc_prim(e, cls, tag, c + start, 8 - start);
}

/* BOOLEAN: FF or 00. */
int ber_enc_bool(struct ber_enc *e, int cls, uint32_t tag, int v)
{
	uint8_t c = v ? 0xff : 0x00;

	return ber_enc_prim(e, cls, tag, &c, 1);
}

/* NULL. */
int ber_enc_null(struct ber_enc *e, int cls, uint32_t tag)
{
	return ber_enc_prim(e, cls, tag, NULL, 0);
}

/* Append one arc in base-128 to out (at most 10 octets for 64 bits). */
static size_t put_arc(uint8_t *out, uint64_t v)
{
	uint8_t tmp[10];
	size_t k = 0, n = 0;

	do {
		tmp[k++] = (uint8_t)(v & 0x7f);
		v >>= 7;
	} while (v > 0);
	while (k > 0) {
		k--;
		out[n++] = (uint8_t)(tmp[k] | (k > 0 ? 0x80 : 0));
	}
	return n;
}

/* Shared body of OID and RELATIVE-OID. */
static int enc_oid_common(struct ber_enc *e, int cls, uint32_t tag,
    const uint32_t *arcs, size_t n, int relative)
{
	uint8_t c[256];
	size_t len = 0, i = 0;

	if (e->err)
		return e->err;
	if (arcs == NULL || n == 0 || (!relative && n < 2) || n > 40)
		return set_err(e, LACRE_E_INVALID);
	if (!relative) {
		if (arcs[0] > 2 || (arcs[0] < 2 && arcs[1] >= 40))
			return set_err(e, LACRE_E_INVALID);
		len += put_arc(c, (uint64_t)arcs[0] * 40 + arcs[1]);
		i = 2;
	}
	for (; i < n; i++)
		len += put_arc(c + len, arcs[i]);
	return ber_enc_prim(e, cls, tag, c, len);
}

/* OBJECT IDENTIFIER. */
int ber_enc_oid(struct ber_enc *e, int cls, uint32_t tag, const uint32_t *arcs, size_t n)
{
	return enc_oid_common(e, cls, tag, arcs, n, 0);
}

/* RELATIVE-OID. */
int ber_enc_reloid(struct ber_enc *e, int cls, uint32_t tag, const uint32_t *arcs, size_t n)
{
	return enc_oid_common(e, cls, tag, arcs, n, 1);
}

/* OID or RELATIVE-OID from dotted decimal text. */
int ber_enc_oid_text(struct ber_enc *e, int cls, uint32_t tag, const char *dotted, int relative)
{
	uint32_t arcs[40];
	size_t n = 0;
	const char *s = dotted;
	uint64_t v;

	if (e->err)
		return e->err;
	if (s == NULL || *s == '\0')
		return set_err(e, LACRE_E_INVALID);
	for (;;) {
		if (*s < '0' || *s > '9' || n >= 40)
			return set_err(e, LACRE_E_INVALID);
		v = 0;
		while (*s >= '0' && *s <= '9') {
			v = v * 10 + (uint64_t)(*s - '0');
			if (v > 0xffffffffu)
				return set_err(e, LACRE_E_RANGE);
			s++;
		}
		arcs[n++] = (uint32_t)v;
		if (*s == '\0')
			break;
		if (*s != '.')
			return set_err(e, LACRE_E_INVALID);
		s++;
	}
	return enc_oid_common(e, cls, tag, arcs, n, relative);
}

/* Format unix_us as GeneralizedTime text (UTC, 'Z'). */
int ber_enc_gentime_text(int64_t unix_us, int frac_digits, char *out, size_t outlen)
{
	time_t secs;
	struct tm tm;
	int64_t frac_us;
	int n;

	if (unix_us < 0 || out == NULL || outlen < 24 ||
	    (frac_digits != 0 && frac_digits != 3 && frac_digits != 6))
		return LACRE_E_INVALID;
	secs = (time_t)(unix_us / 1000000);
	frac_us = unix_us % 1000000;
	if (gmtime_r(&secs, &tm) == NULL || tm.tm_year + 1900 > 9999)
		return LACRE_E_RANGE;
	if (frac_digits == 0)
		n = snprintf(out, outlen, "%04d%02d%02d%02d%02d%02dZ", tm.tm_year + 1900,
		    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	else if (frac_digits == 3)
		n = snprintf(out, outlen, "%04d%02d%02d%02d%02d%02d.%03dZ", tm.tm_year + 1900,
		    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		    (int)(frac_us / 1000));
	else
		n = snprintf(out, outlen, "%04d%02d%02d%02d%02d%02d.%06dZ", tm.tm_year + 1900,
		    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		    (int)frac_us);
	if (n < 0 || (size_t)n >= outlen)
		return LACRE_E_RANGE;
	return n;
}

/* GeneralizedTime element. */
int ber_enc_gentime(struct ber_enc *e, int cls, uint32_t tag, int64_t unix_us, int frac_digits)
{
	char t[32];
	int n;

	if (e->err)
		return e->err;
	n = ber_enc_gentime_text(unix_us, frac_digits, t, sizeof(t));
	if (n < 0)
		return set_err(e, n);
	return ber_enc_prim(e, cls, tag, t, (size_t)n);
}

/* UTCTime element. */
int ber_enc_utctime(struct ber_enc *e, int cls, uint32_t tag, int64_t unix_us)
{
	char t[32];
	time_t secs;
	struct tm tm;
	int n;

	if (e->err)
		return e->err;
	if (unix_us < 0)
		return set_err(e, LACRE_E_INVALID);
	secs = (time_t)(unix_us / 1000000);
	if (gmtime_r(&secs, &tm) == NULL || tm.tm_year < 50 || tm.tm_year >= 150)
		return set_err(e, LACRE_E_RANGE);
	n = snprintf(t, sizeof(t), "%02d%02d%02d%02d%02d%02dZ", tm.tm_year % 100,
	    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	if (n < 0 || (size_t)n >= sizeof(t))
		return set_err(e, LACRE_E_RANGE);
	return ber_enc_prim(e, cls, tag, t, (size_t)n);
}

/* Verbatim bytes. */
int ber_enc_raw(struct ber_enc *e, const void *p, size_t n)
{
	if (e->err)
		return e->err;
	if (n == 0)
		return 0;
	return set_err(e, lacre_dbuf_add(e->b, p, n));
}

/* Sticky error, or LACRE_E_STATE with elements still open. */
int ber_enc_finish(struct ber_enc *e)
{
	if (e->err)
		return e->err;
	if (e->depth != 0)
		return set_err(e, LACRE_E_STATE);
	return 0;
}

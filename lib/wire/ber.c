/*
 * ber.c - a BER (X.690) TLV reader for untrusted input.
 *
 * This is the lowest layer of the ETSI handover decoder (lib/wire/etsi.c).
 * It splits bytes into identifier / length / contents and decodes the few
 * primitive types the PS-PDU uses (INTEGER, ENUMERATED, OBJECT IDENTIFIER,
 * RELATIVE-OID, GeneralizedTime, UTCTime).  It never allocates and never
 * reads outside the caller's buffer: every byte goes through struct
 * lacre_rbuf.  Values point into the caller's bytes.
 *
 * What it accepts (spec/etsi-handover.md §3):
 *   - tags in the low form and the high-tag-number form, at most
 *     BER_MAX_TAG_OCTETS identifier octets (first one included);
 *   - definite lengths, short or long form with 1..4 length octets,
 *     non-minimal forms included (OpenLI writes 82 00 xx);
 *   - indefinite lengths (80 ... 00 00) on constructed elements, found by
 *     scanning the nested elements, with a nesting cap.
 * What it rejects, each with its own code:
 *   - input that ends before the element does: LACRE_E_INCOMPLETE;
 *   - more than 4 length octets: LACRE_E_TOO_LARGE;
 *   - the reserved length octet FF, an indefinite length on a primitive
 *     element, a bad end-of-contents marker, a tag whose first subsequent
 *     octet is 80: LACRE_E_MALFORMED;
 *   - a tag longer than BER_MAX_TAG_OCTETS: LACRE_E_TAG_TOO_LONG;
 *   - indefinite elements nested deeper than the caller's limit:
 *     LACRE_E_DEPTH.
 */
#include <stdint.h>
#include <string.h>

#include "lacre/ber.h"
#include "lacre/buf.h"
#include "lacre/err.h"

/* Identifier and length octets of one element, as parsed. */
struct hdr {
	uint32_t tag;
	uint8_t cls, cons, indef;
	size_t len;     /* contents length (0 when indefinite) */
	size_t hlen;    /* identifier + length octets */
};

/*
 * Parse the identifier and length octets at p[0..avail) into *h.  Every
 * index is checked against avail; this is the decoder's hot path, so it
 * works on the window of the caller's struct lacre_rbuf instead of one
 * call per octet, and keeps its results in scalars (no struct copy).
 * Returns LACRE_OK or one of the codes listed at the top.
 */
static inline int parse_hdr(const uint8_t *p, size_t avail, struct hdr *h)
{
	size_t i = 1, len;
	uint8_t id, l0;
	uint32_t tag;
	int n;

	if (avail < 2)
		return LACRE_E_INCOMPLETE;   /* any TLV has at least 2 octets */
	id = p[0];
	tag = id & 0x1fu;
	if (tag == 0x1f) {
		tag = 0;
		for (n = 1;; n++) {
			uint8_t o;
			if (n >= BER_MAX_TAG_OCTETS)
				return LACRE_E_TAG_TOO_LONG;
			if (i >= avail)
				return LACRE_E_INCOMPLETE;
			o = p[i++];
			if (n == 1 && o == 0x80)
				return LACRE_E_MALFORMED;
			tag = (tag << 7) | (o & 0x7fu);
			if (!(o & 0x80))
				break;
		}
	}
	if (i >= avail)
		return LACRE_E_INCOMPLETE;
	l0 = p[i++];
	h->indef = 0;
	if (l0 < 0x80) {
		len = l0;
	} else if (l0 == 0x80) {
		if (!(id & 0x20))
			return LACRE_E_MALFORMED;   /* indefinite primitive */
		h->indef = 1;
		len = 0;
	} else if (l0 == 0xff) {
		return LACRE_E_MALFORMED;
	} else {
		n = l0 & 0x7f;
		if (n > 4)
			return LACRE_E_TOO_LARGE;
		if (avail - i < (size_t)n)
			return LACRE_E_INCOMPLETE;
		len = 0;
		while (n-- > 0)
			len = (len << 8) | p[i++];
	}
	h->tag = tag;
	h->cls = (uint8_t)(id >> 6);
	h->cons = (uint8_t)((id >> 5) & 1);
	h->len = len;
	h->hlen = i;
	return LACRE_OK;
}

/*
 * Scan the contents of an indefinite-length element, p[0..avail) being
 * everything after its length octet, up to and including its 00 00
 * end-of-contents marker.  Sets *content_len (without the marker).
 * depth_left is the nesting still allowed for elements inside.  Returns
 * LACRE_OK, LACRE_E_INCOMPLETE when the marker is missing, or any
 * ber_next error.
 */
static int scan_indefinite(const uint8_t *p, size_t avail, size_t *content_len, int depth_left)
{
	struct lacre_rbuf b;
	struct ber_tlv child;
	const uint8_t *eoc;
	uint8_t id;
	int r;

	lacre_rbuf_init(&b, p, avail);
	for (;;) {
		if ((r = lacre_rbuf_peek(&b, &id)) != LACRE_OK)
			return r;
		if (id == 0x00) {
			/* end-of-contents: exactly two zero octets (X.690 8.1.5);
			 * 00 81 00 and other long forms are malformed */
			size_t at = b.off;
			if ((r = lacre_rbuf_take(&b, 2, &eoc)) != LACRE_OK)
				return r;
			if (eoc[1] != 0x00)
				return LACRE_E_MALFORMED;
			*content_len = at;
			return LACRE_OK;
		}
		if ((r = ber_next(&b, &child, depth_left)) != LACRE_OK)
			return r;
	}
}

/*
 * Read the next TLV from b and consume it (see ber.h).  On failure b is
 * unchanged and *t is untouched.  Returns LACRE_OK, LACRE_E_INCOMPLETE,
 * LACRE_E_MALFORMED, LACRE_E_TOO_LARGE, LACRE_E_TAG_TOO_LONG or
 * LACRE_E_DEPTH.
 */
int ber_next(struct lacre_rbuf *b, struct ber_tlv *t, int depth_left)
{
	/* the cursor's window, read from its fields rather than through the
	 * accessor calls (hot path); every access below is checked against
	 * avail, and the cursor advances by at most avail, keeping off <= len */
	size_t avail = b->len - b->off, clen, total;
	const uint8_t *p;
	struct hdr h;
	int r;

	if (avail < 2)
		return LACRE_E_INCOMPLETE;   /* also keeps NULL + 0 out (empty cursor) */
	p = b->p + b->off;

	if ((r = parse_hdr(p, avail, &h)) != LACRE_OK)
		return r;
	if (!h.indef) {
		if (avail - h.hlen < h.len)
			return LACRE_E_INCOMPLETE;
		clen = h.len;
		total = h.hlen + h.len;
	} else {
		if (depth_left <= 0)
			return LACRE_E_DEPTH;
		r = scan_indefinite(p + h.hlen, avail - h.hlen, &clen, depth_left - 1);
		if (r != LACRE_OK)
			return r;
		total = h.hlen + clen + 2;
	}
	/* total <= avail was checked above (definite: hlen <= avail and
	 * len <= avail - hlen; indefinite: the scan stayed inside avail) */
	b->off += total;
	t->cls = h.cls;
	t->constructed = h.cons;
	t->indefinite = h.indef;
	t->tag = h.tag;
	t->value = p + h.hlen;
	t->len = clen;
	t->hdr_len = h.hlen;
	t->total = total;
	return LACRE_OK;
}

/*
 * Size of the element at the start of p[0..n) without reading its contents
 * (definite length) or by scanning them (indefinite length).  Used to frame
 * PS-PDUs on a stream: a declared size above max fails at once with
 * LACRE_E_TOO_LARGE, before the bytes arrive.  Returns LACRE_OK,
 * LACRE_E_INCOMPLETE (read more), or a malformation code.
 */
int ber_element_size(const uint8_t *p, size_t n, size_t max, size_t *total)
{
	struct hdr h;
	size_t clen, avail;
	int r;

	if ((r = parse_hdr(p, n, &h)) != LACRE_OK)
		return r;
	if (h.hlen > max)
		return LACRE_E_TOO_LARGE;
	if (!h.indef) {
		if (h.len > SIZE_MAX - h.hlen || h.hlen + h.len > max)
			return LACRE_E_TOO_LARGE;
		*total = h.hlen + h.len;
		return LACRE_OK;
	}
	/* indefinite: scan what is there, but never more than max bytes */
	avail = (n > max ? max : n) - h.hlen;
	r = scan_indefinite(p + h.hlen, avail, &clen, BER_MAX_DEPTH - 1);
	if (r == LACRE_E_INCOMPLETE && n >= max)
		return LACRE_E_TOO_LARGE;
	if (r != LACRE_OK)
		return r;
	*total = h.hlen + clen + 2;
	return LACRE_OK;
}

/*
 * Decode a non-negative INTEGER or ENUMERATED that fits 64 bits (up to 9
 * contents octets when the first is a 00 sign octet).  Returns
 * LACRE_E_MALFORMED for a constructed or empty element, LACRE_E_RANGE for a
 * negative value or one above 2^64-1.
 */
int ber_get_uint(const struct ber_tlv *t, uint64_t *v)
{
	const uint8_t *p = t->value;
	size_t n = t->len;
	uint64_t x = 0;

	if (t->constructed || n == 0)
		return LACRE_E_MALFORMED;
	if (p[0] & 0x80)
		return LACRE_E_RANGE;
	while (n > 1 && p[0] == 0x00) {
		p++;
		n--;
	}
	if (n > 8)
		return LACRE_E_RANGE;
	for (size_t i = 0; i < n; i++)
		x = (x << 8) | p[i];
	*v = x;
	return LACRE_OK;
}

/*
 * Decode a signed INTEGER or ENUMERATED that fits int64_t.  Redundant
 * leading sign octets are tolerated.  Returns LACRE_E_MALFORMED for a
 * constructed or empty element, LACRE_E_RANGE when it does not fit.
 */
int ber_get_int(const struct ber_tlv *t, int64_t *v)
{
	const uint8_t *p = t->value;
	size_t n = t->len;
	uint64_t x;

	if (t->constructed || n == 0)
		return LACRE_E_MALFORMED;
	while (n > 1 && ((p[0] == 0x00 && !(p[1] & 0x80)) ||
			 (p[0] == 0xff && (p[1] & 0x80)))) {
		p++;
		n--;
	}
	if (n > 8)
		return LACRE_E_RANGE;
	x = (p[0] & 0x80) ? UINT64_MAX : 0;
	for (size_t i = 0; i < n; i++)
		x = (x << 8) | p[i];
	memcpy(v, &x, sizeof(*v));
	return LACRE_OK;
}

/*
 * Read exactly n decimal digits from s[*i..len) as an integer.  Returns 0
 * and advances *i, or -1 when a digit is missing.
 */
static int digits(const uint8_t *s, size_t len, size_t *i, int n, int *out)
{
	int v = 0;

	if (len - *i < (size_t)n)
		return -1;
	for (int k = 0; k < n; k++) {
		uint8_t c = s[*i + (size_t)k];
		if (c < '0' || c > '9')
			return -1;
		v = v * 10 + (c - '0');
	}
	*i += (size_t)n;
	*out = v;
	return 0;
}

/*
 * Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil).  Pure arithmetic, valid for the years 0..9999 used here.
 */
static int64_t days_from_civil(int y, int m, int d)
{
	int64_t yy = y - (m <= 2);
	int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
	int64_t yoe = yy - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* Days in month m of year y. */
static int month_days(int y, int m)
{
	static const int md[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return md[m - 1];
}

/*
 * Shared tail of GeneralizedTime and UTCTime: validate the broken-down
 * time, parse the optional fraction (only when frac_ok), then Z, +hhmm,
 * -hhmm or nothing (taken as UTC), and require the end of the string.
 * Returns LACRE_OK or LACRE_E_MALFORMED.
 */
static int finish_time(const uint8_t *s, size_t len, size_t i, int frac_ok,
		       int y, int mo, int d, int h, int mi, int sec, int64_t *unix_us)
{
	int64_t us = 0, t;
	int oh, om, sign;

	if (mo < 1 || mo > 12 || d < 1 || d > month_days(y, mo) || h > 23 ||
	    mi > 59 || sec > 60)
		return LACRE_E_MALFORMED;
	if (frac_ok && i < len && (s[i] == '.' || s[i] == ',')) {
		int scale = 100000, nd = 0;
		i++;
		while (i < len && s[i] >= '0' && s[i] <= '9') {
			us += (s[i] - '0') * scale;
			scale /= 10;
			i++;
			nd++;
		}
		if (nd == 0)
			return LACRE_E_MALFORMED;
	}
	t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
	if (i < len && s[i] == 'Z') {
		i++;
	} else if (i < len && (s[i] == '+' || s[i] == '-')) {
		sign = s[i] == '+' ? 1 : -1;
		i++;
		if (digits(s, len, &i, 2, &oh) || digits(s, len, &i, 2, &om) ||
		    oh > 23 || om > 59)
			return LACRE_E_MALFORMED;
		t -= sign * (oh * 3600 + om * 60);
	}
	if (i != len)
		return LACRE_E_MALFORMED;
	*unix_us = t * 1000000 + us;
	return LACRE_OK;
}

/*
 * GeneralizedTime "YYYYMMDDhh[mm[ss]][.f...][Z|+hhmm|-hhmm]" to Unix
 * microseconds.  Fractions beyond 6 digits are truncated; a missing zone is
 * taken as UTC.  Returns LACRE_OK or LACRE_E_MALFORMED.
 */
int ber_get_gentime(const struct ber_tlv *t, int64_t *unix_us)
{
	const uint8_t *s = t->value;
	size_t len = t->len, i = 0;
	int y, mo, d, h, mi = 0, sec = 0;

	if (t->constructed)
		return LACRE_E_MALFORMED;
	if (digits(s, len, &i, 4, &y) || digits(s, len, &i, 2, &mo) ||
	    digits(s, len, &i, 2, &d) || digits(s, len, &i, 2, &h))
		return LACRE_E_MALFORMED;
	if (i < len && s[i] >= '0' && s[i] <= '9') {
		if (digits(s, len, &i, 2, &mi))
			return LACRE_E_MALFORMED;
		if (i < len && s[i] >= '0' && s[i] <= '9' && digits(s, len, &i, 2, &sec))
			return LACRE_E_MALFORMED;
	}
	return finish_time(s, len, i, 1, y, mo, d, h, mi, sec, unix_us);
}

/*
 * UTCTime "YYMMDDhhmm[ss][Z|+hhmm|-hhmm]" to Unix microseconds (years
 * 50..99 are 1950..1999, 00..49 are 2000..2049, as X.509).  Returns
 * LACRE_OK or LACRE_E_MALFORMED.
 */
int ber_get_utctime(const struct ber_tlv *t, int64_t *unix_us)
{
	const uint8_t *s = t->value;
	size_t len = t->len, i = 0;
	int y, mo, d, h, mi, sec = 0;

	if (t->constructed)
		return LACRE_E_MALFORMED;
	if (digits(s, len, &i, 2, &y) || digits(s, len, &i, 2, &mo) ||
	    digits(s, len, &i, 2, &d) || digits(s, len, &i, 2, &h) ||
	    digits(s, len, &i, 2, &mi))
		return LACRE_E_MALFORMED;
	if (i < len && s[i] >= '0' && s[i] <= '9' && digits(s, len, &i, 2, &sec))
		return LACRE_E_MALFORMED;
	y += y < 50 ? 2000 : 1900;
	return finish_time(s, len, i, 0, y, mo, d, h, mi, sec, unix_us);
}

/*
 * Read one base-128 arc from p[*i..n).  Returns LACRE_OK, or
 * LACRE_E_MALFORMED for a truncated arc or a non-minimal 80 lead octet,
 * LACRE_E_RANGE for an arc above 2^64-1.
 */
static int oid_arc(const uint8_t *p, size_t n, size_t *i, uint64_t *arc)
{
	uint64_t v = 0;

	if (*i < n && p[*i] == 0x80)
		return LACRE_E_MALFORMED;
	for (;;) {
		uint8_t o;
		if (*i >= n)
			return LACRE_E_MALFORMED;
		o = p[(*i)++];
		if (v >> 57)
			return LACRE_E_RANGE;
		v = (v << 7) | (o & 0x7fu);
		if (!(o & 0x80))
			break;
	}
	*arc = v;
	return LACRE_OK;
}

/*
 * Append "." (when dot) and the decimal form of v to out[*o..cap), keeping
 * out NUL-terminated.  Returns LACRE_OK or LACRE_E_TOO_LARGE.
 */
static int append_arc(char *out, size_t cap, size_t *o, int dot, uint64_t v)
{
	char tmp[24];
	size_t n = 0;

	if (dot)
		tmp[n++] = '.';
	{
		char d[21];
		size_t k = 0;
		do {
			d[k++] = (char)('0' + v % 10);
			v /= 10;
		} while (v);
		while (k)
			tmp[n++] = d[--k];
	}
	if (cap - *o <= n)
		return LACRE_E_TOO_LARGE;
	memcpy(out + *o, tmp, n);
	*o += n;
	out[*o] = '\0';
	return LACRE_OK;
}

/*
 * Format an OBJECT IDENTIFIER (relative == 0) or RELATIVE-OID (relative
 * != 0) contents as dotted decimal into out[0..cap), NUL-terminated; the
 * arc count goes to *n_arcs and the last arc to *last (either may be NULL).
 * Returns LACRE_OK, LACRE_E_MALFORMED (empty or bad encoding), LACRE_E_RANGE
 * (an arc above 2^64-1) or LACRE_E_TOO_LARGE (out too small); on failure
 * out holds the empty string.  With out == NULL nothing is formatted: the
 * identifier is only validated and counted (the decoder's hot path).
 */
int ber_get_oid(const struct ber_tlv *t, int relative, char *out, size_t cap,
		unsigned *n_arcs, uint64_t *last)
{
	const uint8_t *p = t->value;
	size_t n = t->len, i = 0, o = 0;
	uint64_t arc = 0, first;
	unsigned count = 0;
	int r;

	if (out) {
		if (cap == 0)
			return LACRE_E_TOO_LARGE;
		out[0] = '\0';
	}
	if (t->constructed || n == 0)
		return LACRE_E_MALFORMED;
	while (i < n) {
		if ((r = oid_arc(p, n, &i, &arc)) != LACRE_OK)
			goto fail;
		if (!relative && count == 0) {
			first = arc < 40 ? 0 : arc < 80 ? 1 : 2;
			arc -= first * 40;
			if (out && ((r = append_arc(out, cap, &o, 0, first)) != LACRE_OK ||
				    (r = append_arc(out, cap, &o, 1, arc)) != LACRE_OK))
				goto fail;
			count = 2;
			continue;
		}
		if (out && (r = append_arc(out, cap, &o, count > 0, arc)) != LACRE_OK)
			goto fail;
		count++;
	}
	if (n_arcs)
		*n_arcs = count;
	if (last)
		*last = arc;
	return LACRE_OK;
fail:
	if (out)
		out[0] = '\0';
	return r;
}

/*
 * json.c - the streaming JSON writer of lacre/json.h.
 *
 * Every output call first checks the sticky error, then emits the separator
 * its position needs (a comma between members or elements, nothing after a
 * key), then the value.  Nesting state is two 64-bit masks, so the writer
 * never allocates besides the caller's dbuf.  Strings are escaped so that
 * the output is valid JSON and valid UTF-8 whatever bytes come in (see the
 * header for the exact rule).
 */
#include <stdio.h>
#include <string.h>

#include "lacre/buf.h"
#include "lacre/err.h"
#include "lacre/json.h"

static const char hexd[] = "0123456789abcdef";

/* Record the first error only. */
static void set_err(struct json_w *w, int e)
{
	if (w->err == LACRE_OK)
		w->err = e;
}

/* Append raw bytes, recording a buffer failure. */
static void put(struct json_w *w, const void *p, size_t n)
{
	int r;

	if (w->err != LACRE_OK || n == 0)
		return;
	if ((r = lacre_dbuf_add(w->d, p, n)) != LACRE_OK)
		set_err(w, r);
}

/*
 * Prepare for a value: inside an object a key must precede it; inside an
 * array a comma separates elements.  Returns 0 when the value may be
 * written, -1 when w is in error.
 */
static int pre_value(struct json_w *w)
{
	uint64_t bit;

	if (w->err != LACRE_OK)
		return -1;
	if (w->depth == 0)
		return 0;
	bit = 1ull << (w->depth - 1);
	if (w->is_obj & bit) {
		if (!w->after_key) {
			set_err(w, LACRE_E_STATE);
			return -1;
		}
		w->after_key = 0;
		return 0;
	}
	if (w->nonempty & bit)
		put(w, ",", 1);
	w->nonempty |= bit;
	return w->err == LACRE_OK ? 0 : -1;
}

/* Initialise w to append to d (see json.h). */
void json_init(struct json_w *w, struct lacre_dbuf *d)
{
	memset(w, 0, sizeof(*w));
	w->d = d;
	w->err = LACRE_OK;
}

/* Forget errors and nesting; keep the buffer. */
void json_reset(struct json_w *w)
{
	struct lacre_dbuf *d = w->d;
	json_init(w, d);
}

/* Outcome of the whole document (see json.h for the codes). */
int json_finish(struct json_w *w)
{
	if (w->err == LACRE_OK && (w->depth != 0 || w->after_key))
		set_err(w, LACRE_E_STATE);
	return w->err;
}

/* Open an object or array (obj != 0 for an object). */
static void open_level(struct json_w *w, int obj)
{
	if (pre_value(w))
		return;
	if (w->depth >= JSON_MAX_DEPTH) {
		set_err(w, LACRE_E_DEPTH);
		return;
	}
	put(w, obj ? "{" : "[", 1);
	w->depth++;
	if (obj)
		w->is_obj |= 1ull << (w->depth - 1);
	else
		w->is_obj &= ~(1ull << (w->depth - 1));
	w->nonempty &= ~(1ull << (w->depth - 1));
}

/* Close the innermost level, which must be an object (obj) or array. */
static void close_level(struct json_w *w, int obj)
{
	uint64_t bit;

	if (w->err != LACRE_OK)
		return;
	if (w->depth == 0 || w->after_key) {
		set_err(w, LACRE_E_STATE);
		return;
	}
	bit = 1ull << (w->depth - 1);
	if (!!(w->is_obj & bit) != !!obj) {
		set_err(w, LACRE_E_STATE);
		return;
	}
	put(w, obj ? "}" : "]", 1);
	w->depth--;
}

/* Open and close objects and arrays (errors are sticky, see json.h). */
void json_obj_begin(struct json_w *w) { open_level(w, 1); }
void json_obj_end(struct json_w *w) { close_level(w, 1); }
void json_arr_begin(struct json_w *w) { open_level(w, 0); }
void json_arr_end(struct json_w *w) { close_level(w, 0); }

/*
 * Length of the valid UTF-8 sequence at p[0..n), or 0 when p[0] does not
 * start one (overlong forms, surrogates and code points above U+10FFFF are
 * invalid, as RFC 3629).
 */
static size_t utf8_len(const uint8_t *p, size_t n)
{
	uint8_t c = p[0];
	size_t need;
	uint32_t cp, min;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		need = 2; cp = c & 0x1fu; min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		need = 3; cp = c & 0x0fu; min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 4; cp = c & 0x07u; min = 0x10000;
	} else {
		return 0;
	}
	if (n < need)
		return 0;
	for (size_t i = 1; i < need; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3fu);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return need;
}

/* Write the escaped body of a string (no quotes). */
static void put_escaped(struct json_w *w, const uint8_t *p, size_t n)
{
	size_t i = 0, run = 0;
	char esc[6] = { '\\', 'u', '0', '0', 0, 0 };

	if (n == 0)
		return;   /* p may be NULL */
	while (i < n && w->err == LACRE_OK) {
		uint8_t c = p[i];
		size_t u;

		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
			i++;
			run++;
			continue;
		}
		if (c >= 0x80 && (u = utf8_len(p + i, n - i)) > 0) {
			i += u;
			run += u;
			continue;
		}
		put(w, p + i - run, run);
		run = 0;
		switch (c) {
		case '"': put(w, "\\\"", 2); break;
		case '\\': put(w, "\\\\", 2); break;
		case '\n': put(w, "\\n", 2); break;
		case '\r': put(w, "\\r", 2); break;
		case '\t': put(w, "\\t", 2); break;
		case '\b': put(w, "\\b", 2); break;
		case '\f': put(w, "\\f", 2); break;
		default:
			esc[4] = hexd[c >> 4];
			esc[5] = hexd[c & 15];
			put(w, esc, 6);
		}
		i++;
	}
	put(w, p + i - run, run);
}

/* A string value from any bytes (see json.h). */
void json_strn(struct json_w *w, const void *p, size_t n)
{
	if (pre_value(w))
		return;
	put(w, "\"", 1);
	put_escaped(w, p, n);
	put(w, "\"", 1);
}

/* A string value from a NUL-terminated string; NULL gives null. */
void json_str(struct json_w *w, const char *s)
{
	if (!s)
		json_null(w);
	else
		json_strn(w, s, strlen(s));
}

/* A string of prefix + lower-case hex of p[0..n). */
void json_hex(struct json_w *w, const char *prefix, const void *p, size_t n)
{
	const uint8_t *b = p;
	char chunk[128];
	size_t k = 0;

	if (pre_value(w))
		return;
	put(w, "\"", 1);
	if (prefix)
		put(w, prefix, strlen(prefix));
	for (size_t i = 0; i < n; i++) {
		chunk[k++] = hexd[b[i] >> 4];
		chunk[k++] = hexd[b[i] & 15];
		if (k == sizeof(chunk)) {
			put(w, chunk, k);
			k = 0;
		}
	}
	put(w, chunk, k);
	put(w, "\"", 1);
}

/* A string holding the standard base64 (RFC 4648, padded) of p[0..n). */
void json_base64(struct json_w *w, const void *p, size_t n)
{
	static const char tab[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const uint8_t *b = p;
	char chunk[128];
	size_t k = 0, i = 0;

	if (pre_value(w))
		return;
	put(w, "\"", 1);
	while (n - i >= 3) {
		uint32_t v = (uint32_t)b[i] << 16 | (uint32_t)b[i + 1] << 8 | b[i + 2];
		chunk[k++] = tab[v >> 18];
		chunk[k++] = tab[(v >> 12) & 63];
		chunk[k++] = tab[(v >> 6) & 63];
		chunk[k++] = tab[v & 63];
		i += 3;
		if (k == sizeof(chunk)) {
			put(w, chunk, k);
			k = 0;
		}
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)b[i] << 16;
		chunk[k++] = tab[v >> 18];
		chunk[k++] = tab[(v >> 12) & 63];
		chunk[k++] = '=';
		chunk[k++] = '=';
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)b[i] << 16 | (uint32_t)b[i + 1] << 8;
		chunk[k++] = tab[v >> 18];
		chunk[k++] = tab[(v >> 12) & 63];
		chunk[k++] = tab[(v >> 6) & 63];
		chunk[k++] = '=';
	}
	put(w, chunk, k);
	put(w, "\"", 1);
}

/* A string when p[0..n) is non-empty printable ASCII, else "0x" + hex. */
void json_str_or_hex(struct json_w *w, const void *p, size_t n)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i] < 0x20 || b[i] > 0x7e)
			break;
	if (n > 0 && i == n)
		json_strn(w, p, n);
	else
		json_hex(w, "0x", p, n);
}

/* Decimal digits of v at the end of t[0..24); returns the first digit. */
static char *u64_digits(uint64_t v, char t[24])
{
	char *e = t + 24;

	do {
		*--e = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return e;
}

/* Integer, boolean and null values (errors are sticky, see json.h). */
void json_int(struct json_w *w, int64_t v)
{
	char t[24], *d;
	uint64_t u;

	if (pre_value(w))
		return;
	/* magnitude without overflowing on INT64_MIN */
	u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	d = u64_digits(u, t);
	if (v < 0)
		*--d = '-';
	put(w, d, (size_t)(t + 24 - d));
}

void json_uint(struct json_w *w, uint64_t v)
{
	char t[24], *d;

	if (pre_value(w))
		return;
	d = u64_digits(v, t);
	put(w, d, (size_t)(t + 24 - d));
}

void json_double(struct json_w *w, double v)
{
	char t[40];
	int n;

	if (pre_value(w))
		return;
	/* JSON has no NaN or infinity: those are written as null */
	if (v != v || v > 1.7976931348623157e308 || v < -1.7976931348623157e308) {
		put(w, "null", 4);
		return;
	}
	n = snprintf(t, sizeof(t), "%.17g", v);
	put(w, t, (size_t)n);
}

void json_bool(struct json_w *w, int v)
{
	if (pre_value(w))
		return;
	if (v)
		put(w, "true", 4);
	else
		put(w, "false", 5);
}

void json_null(struct json_w *w)
{
	if (pre_value(w))
		return;
	put(w, "null", 4);
}

/* Write a member name: comma if needed, the escaped key, a colon. */
void json_key(struct json_w *w, const char *key)
{
	uint64_t bit;

	if (w->err != LACRE_OK)
		return;
	if (w->depth == 0 || w->after_key) {
		set_err(w, LACRE_E_STATE);
		return;
	}
	bit = 1ull << (w->depth - 1);
	if (!(w->is_obj & bit)) {
		set_err(w, LACRE_E_STATE);
		return;
	}
	if (w->nonempty & bit)
		put(w, ",", 1);
	w->nonempty |= bit;
	put(w, "\"", 1);
	put_escaped(w, (const uint8_t *)key, strlen(key));
	put(w, "\":", 2);
	w->after_key = 1;
}

/* key + value shorthands: json_key() followed by the value writer. */
void json_kv_str(struct json_w *w, const char *key, const char *s)
{
	json_key(w, key);
	json_str(w, s);
}

void json_kv_strn(struct json_w *w, const char *key, const void *p, size_t n)
{
	json_key(w, key);
	json_strn(w, p, n);
}

void json_kv_hex(struct json_w *w, const char *key, const void *p, size_t n)
{
	json_key(w, key);
	json_hex(w, NULL, p, n);
}

void json_kv_int(struct json_w *w, const char *key, int64_t v)
{
	json_key(w, key);
	json_int(w, v);
}

void json_kv_uint(struct json_w *w, const char *key, uint64_t v)
{
	json_key(w, key);
	json_uint(w, v);
}

void json_kv_bool(struct json_w *w, const char *key, int v)
{
	json_key(w, key);
	json_bool(w, v);
}

void json_kv_null(struct json_w *w, const char *key)
{
	json_key(w, key);
	json_null(w);
}

/*
 * json.h - a small streaming JSON writer into a capped struct lacre_dbuf.
 *
 * Used for every machine-readable output of lacre (`lacre decode`,
 * `lacre records --json`, ...).  The writer keeps the comma state of each
 * nesting level and a sticky error: callers chain calls without checking
 * each one and read the outcome once from json_finish() (or w->err).
 * Output is compact (no spaces, no newline); add the newline yourself for
 * JSON lines.
 *
 * Strings: json_strn() accepts any bytes.  Valid UTF-8 passes through;
 * '"', '\\' and control characters are escaped (\n, \t, ... or \u00XX);
 * DEL and every byte that is not part of a valid UTF-8 sequence (overlong,
 * surrogate, truncated, > U+10FFFF) is written as \u00XX, i.e. read as
 * Latin-1.  The output is therefore always valid JSON and valid UTF-8, and
 * ASCII input round-trips exactly.  Use json_hex()/json_base64() when the
 * exact bytes matter.
 *
 * Usage:
 *   struct lacre_dbuf d; struct json_w w;
 *   lacre_dbuf_init(&d, 1 << 20); json_init(&w, &d);
 *   json_obj_begin(&w);
 *   json_kv_str(&w, "liid", "LI1"); json_kv_uint(&w, "seq", 7);
 *   json_key(&w, "ips"); json_arr_begin(&w); json_str(&w, "10.0.0.1"); json_arr_end(&w);
 *   json_obj_end(&w);
 *   if (json_finish(&w) == LACRE_OK) fwrite(d.p, 1, d.len, stdout);
 */
#ifndef LACRE_JSON_H
#define LACRE_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "lacre/buf.h"

#define JSON_MAX_DEPTH 64

struct json_w {
	struct lacre_dbuf *d;   /* output, owned by the caller */
	int err;                /* first error (sticky), LACRE_OK if none */
	int depth;              /* open objects/arrays */
	int after_key;          /* a key was written, its value is due */
	uint64_t nonempty;      /* bit i: level i already holds a member */
	uint64_t is_obj;        /* bit i: level i is an object */
};

/* Start writing into d (appends after d's current contents). */
void json_init(struct json_w *w, struct lacre_dbuf *d);
/* LACRE_OK when everything was written and every object/array is closed;
 * else the first error (LACRE_E_TOO_LARGE / LACRE_E_NOMEM from the buffer,
 * LACRE_E_DEPTH, LACRE_E_STATE for misuse such as a value without a key
 * inside an object, or unclosed levels). */
int json_finish(struct json_w *w);
/* Clear the error and nesting state so that w can write a new document
 * (the buffer is not touched). */
void json_reset(struct json_w *w);

void json_obj_begin(struct json_w *w);
void json_obj_end(struct json_w *w);
void json_arr_begin(struct json_w *w);
void json_arr_end(struct json_w *w);
/* Write a member name (a NUL-terminated string) inside an object. */
void json_key(struct json_w *w, const char *key);

/* Values (after json_key inside an object, or as array elements). */
void json_str(struct json_w *w, const char *s);           /* NULL -> null */
void json_strn(struct json_w *w, const void *p, size_t n); /* any bytes */
void json_hex(struct json_w *w, const char *prefix, const void *p, size_t n);
void json_base64(struct json_w *w, const void *p, size_t n);
/* A string when every byte is printable ASCII (20..7E) and n > 0, else
 * "0x" + lower-case hex (the LIID convention of the test vectors). */
void json_str_or_hex(struct json_w *w, const void *p, size_t n);
void json_int(struct json_w *w, int64_t v);
void json_uint(struct json_w *w, uint64_t v);
void json_double(struct json_w *w, double v);  /* %.17g; NaN, infinities -> null */
void json_bool(struct json_w *w, int v);
void json_null(struct json_w *w);

/* key + value shorthands. */
void json_kv_str(struct json_w *w, const char *key, const char *s);
void json_kv_strn(struct json_w *w, const char *key, const void *p, size_t n);
void json_kv_hex(struct json_w *w, const char *key, const void *p, size_t n);
void json_kv_int(struct json_w *w, const char *key, int64_t v);
void json_kv_uint(struct json_w *w, const char *key, uint64_t v);
void json_kv_bool(struct json_w *w, const char *key, int v);
void json_kv_null(struct json_w *w, const char *key);

#endif

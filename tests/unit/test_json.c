/*
 * test_json.c - the JSON writer (lib/wire/json.c): structure and commas,
 * string escaping of any bytes (control characters, quotes, invalid UTF-8,
 * valid multi-byte UTF-8), hex and base64 (RFC 4648 vectors), integers at
 * their limits, the printable-or-hex rule, and the sticky errors (misuse,
 * depth, buffer cap).
 */
#include <stdint.h>
#include <string.h>

#include "harness.h"
#include "lacre/buf.h"
#include "lacre/err.h"
#include "lacre/json.h"

/* Finish w and compare the whole output with want. */
static int out_is(struct json_w *w, struct lacre_dbuf *d, const char *want)
{
	const char *s;

	if (json_finish(w) != LACRE_OK || lacre_dbuf_cstr(d, &s) != LACRE_OK)
		return 0;
	if (strcmp(s, want) != 0) {
		fprintf(stderr, "got:  %s\nwant: %s\n", s, want);
		return 0;
	}
	return 1;
}

static void test_structure(void)
{
	struct lacre_dbuf d;
	struct json_w w;

	lacre_dbuf_init(&d, 4096);
	json_init(&w, &d);
	json_obj_begin(&w);
	json_kv_uint(&w, "a", 1);
	json_key(&w, "b");
	json_arr_begin(&w);
	json_int(&w, -2);
	json_null(&w);
	json_bool(&w, 1);
	json_obj_begin(&w);
	json_obj_end(&w);
	json_arr_begin(&w);
	json_arr_end(&w);
	json_arr_end(&w);
	json_kv_str(&w, "c", NULL);
	json_kv_bool(&w, "d", 0);
	json_kv_null(&w, "e");
	json_obj_end(&w);
	CHECK(out_is(&w, &d, "{\"a\":1,\"b\":[-2,null,true,{},[]],\"c\":null,\"d\":false,\"e\":null}"));
	lacre_dbuf_free(&d);
}

static void test_integers(void)
{
	struct lacre_dbuf d;
	struct json_w w;

	lacre_dbuf_init(&d, 4096);
	json_init(&w, &d);
	json_arr_begin(&w);
	json_int(&w, INT64_MIN);
	json_int(&w, INT64_MAX);
	json_uint(&w, UINT64_MAX);
	json_uint(&w, 0);
	json_arr_end(&w);
	CHECK(out_is(&w, &d, "[-9223372036854775808,9223372036854775807,18446744073709551615,0]"));
	lacre_dbuf_free(&d);
}

static void test_escaping(void)
{
	/* quote, backslash, every named escape, other controls, DEL, slash */
	static const uint8_t s1[] = { '"', '\\', '\n', '\r', '\t', '\b', '\f', 0x00, 0x01, 0x1f, 0x7f, '/' };
	/* valid 2-, 3-, 4-byte UTF-8 pass through */
	static const uint8_t s2[] = { 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80 };
	/* invalid: lone continuation, overlong, surrogate, > U+10FFFF, truncated */
	static const uint8_t s3[] = { 0x80, 0xc0, 0xaf, 0xed, 0xa0, 0x80, 0xf4, 0x90, 0x80, 0x80, 'a', 0xe2, 0x82 };
	struct lacre_dbuf d;
	struct json_w w;

	lacre_dbuf_init(&d, 4096);
	json_init(&w, &d);
	json_arr_begin(&w);
	json_strn(&w, s1, sizeof(s1));
	json_strn(&w, s2, sizeof(s2));
	json_strn(&w, s3, sizeof(s3));
	json_strn(&w, "", 0);
	json_arr_end(&w);
	CHECK(out_is(&w, &d,
		"[\"\\\"\\\\\\n\\r\\t\\b\\f\\u0000\\u0001\\u001f\\u007f/\","
		"\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\","
		"\"\\u0080\\u00c0\\u00af\\u00ed\\u00a0\\u0080\\u00f4\\u0090\\u0080\\u0080a\\u00e2\\u0082\","
		"\"\"]"));
	lacre_dbuf_free(&d);

	/* keys are escaped too */
	lacre_dbuf_init(&d, 4096);
	json_init(&w, &d);
	json_obj_begin(&w);
	json_kv_str(&w, "k\"1", "v");
	json_obj_end(&w);
	CHECK(out_is(&w, &d, "{\"k\\\"1\":\"v\"}"));
	lacre_dbuf_free(&d);
}

static void test_hex_base64(void)
{
	static const char *const in[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
	static const char *const b64[] = { "\"\"", "\"Zg==\"", "\"Zm8=\"", "\"Zm9v\"",
		"\"Zm9vYg==\"", "\"Zm9vYmE=\"", "\"Zm9vYmFy\"" };
	static const uint8_t bin[] = { 0x00, 0xff, 0x10, 0xab };
	uint8_t big[300];
	struct lacre_dbuf d;
	struct json_w w;
	const char *s;

	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		lacre_dbuf_init(&d, 4096);
		json_init(&w, &d);
		json_base64(&w, in[i], strlen(in[i]));
		CHECK(out_is(&w, &d, b64[i]));
		lacre_dbuf_free(&d);
	}
	lacre_dbuf_init(&d, 4096);
	json_init(&w, &d);
	json_arr_begin(&w);
	json_hex(&w, NULL, bin, sizeof(bin));
	json_hex(&w, "0x", bin, 2);
	json_str_or_hex(&w, "LIVOIP0001", 10);
	json_str_or_hex(&w, bin, sizeof(bin));
	json_str_or_hex(&w, "a\tb", 3);
	json_str_or_hex(&w, "", 0);
	json_arr_end(&w);
	CHECK(out_is(&w, &d, "[\"00ff10ab\",\"0x00ff\",\"LIVOIP0001\",\"0x00ff10ab\",\"0x610962\",\"0x\"]"));
	lacre_dbuf_free(&d);

	/* longer than the internal chunks */
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)i;
	lacre_dbuf_init(&d, 4096);
	json_init(&w, &d);
	json_hex(&w, NULL, big, sizeof(big));
	CHECK_OK(json_finish(&w));
	CHECK_OK(lacre_dbuf_cstr(&d, &s));
	CHECK_EQ_INT(strlen(s), 2 + 2 * sizeof(big));
	CHECK(!strncmp(s + 1 + 2 * 255, "ff000102", 8));
	lacre_dbuf_free(&d);
	lacre_dbuf_init(&d, 4096);
	json_init(&w, &d);
	json_base64(&w, big, sizeof(big));
	CHECK_OK(json_finish(&w));
	CHECK_EQ_INT(d.len, 2 + 400);
	lacre_dbuf_free(&d);
}

static void test_misuse(void)
{
	struct lacre_dbuf d;
	struct json_w w;

	lacre_dbuf_init(&d, 4096);
	/* a value inside an object without a key */
	json_init(&w, &d);
	json_obj_begin(&w);
	json_int(&w, 1);
	CHECK_EQ_INT(json_finish(&w), LACRE_E_STATE);
	/* a key inside an array */
	lacre_dbuf_reset(&d);
	json_init(&w, &d);
	json_arr_begin(&w);
	json_key(&w, "x");
	CHECK_EQ_INT(json_finish(&w), LACRE_E_STATE);
	/* mismatched close, unclosed level, dangling key */
	lacre_dbuf_reset(&d);
	json_init(&w, &d);
	json_arr_begin(&w);
	json_obj_end(&w);
	CHECK_EQ_INT(json_finish(&w), LACRE_E_STATE);
	lacre_dbuf_reset(&d);
	json_init(&w, &d);
	json_obj_begin(&w);
	CHECK_EQ_INT(json_finish(&w), LACRE_E_STATE);
	lacre_dbuf_reset(&d);
	json_init(&w, &d);
	json_obj_begin(&w);
	json_key(&w, "k");
	json_obj_end(&w);
	CHECK_EQ_INT(json_finish(&w), LACRE_E_STATE);
	/* json_reset clears the error */
	json_reset(&w);
	lacre_dbuf_reset(&d);
	json_uint(&w, 5);
	CHECK(out_is(&w, &d, "5"));
	lacre_dbuf_free(&d);
}

static void test_limits(void)
{
	struct lacre_dbuf d;
	struct json_w w;
	int i;

	lacre_dbuf_init(&d, 4096);
	json_init(&w, &d);
	for (i = 0; i < JSON_MAX_DEPTH; i++)
		json_arr_begin(&w);
	for (i = 0; i < JSON_MAX_DEPTH; i++)
		json_arr_end(&w);
	CHECK_OK(json_finish(&w));
	lacre_dbuf_reset(&d);
	json_init(&w, &d);
	for (i = 0; i <= JSON_MAX_DEPTH; i++)
		json_arr_begin(&w);
	CHECK_EQ_INT(json_finish(&w), LACRE_E_DEPTH);
	lacre_dbuf_free(&d);

	/* the buffer cap is an error, and sticky */
	lacre_dbuf_init(&d, 16);
	json_init(&w, &d);
	json_str(&w, "0123456789abcdefghij");
	json_null(&w);
	CHECK_EQ_INT(json_finish(&w), LACRE_E_TOO_LARGE);
	lacre_dbuf_free(&d);
}

int main(void)
{
	RUN(test_structure);
	RUN(test_integers);
	RUN(test_escaping);
	RUN(test_hex_base64);
	RUN(test_misuse);
	RUN(test_limits);
	return t_done();
}

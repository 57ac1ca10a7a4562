/*
 * test_buf.c - the checked read cursor and the capped output buffer.
 */
#include <stdint.h>
#include <stdlib.h>

#include "harness.h"
#include "lacre/buf.h"
#include "lacre/err.h"

static void test_rbuf_bounds(void)
{
	static const uint8_t d[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };
	struct lacre_rbuf b, sub;
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;

	lacre_rbuf_init(&b, d, sizeof(d));
	CHECK_OK(lacre_rbuf_u8(&b, &u8));
	CHECK_EQ_INT(u8, 1);
	CHECK_OK(lacre_rbuf_u16be(&b, &u16));
	CHECK_EQ_INT(u16, 0x0203);
	CHECK_OK(lacre_rbuf_u32be(&b, &u32));
	CHECK_EQ_INT(u32, 0x04050607);
	CHECK_EQ_INT(lacre_rbuf_u64be(&b, &u64), LACRE_E_INCOMPLETE);
	CHECK_EQ_INT(lacre_rbuf_left(&b), 2); /* failed read leaves the cursor */
	CHECK_EQ_INT(lacre_rbuf_sub(&b, 3, &sub), LACRE_E_INCOMPLETE);
	CHECK_OK(lacre_rbuf_sub(&b, 2, &sub));
	CHECK_EQ_INT(lacre_rbuf_expect_end(&b), LACRE_OK);
	CHECK_EQ_INT(lacre_rbuf_expect_end(&sub), LACRE_E_TRAILING);
	CHECK_EQ_INT(lacre_rbuf_skip(&sub, SIZE_MAX), LACRE_E_INCOMPLETE);
}

static void test_dbuf_cap(void)
{
	struct lacre_dbuf d;
	const char *s;

	lacre_dbuf_init(&d, 16);
	CHECK_OK(lacre_dbuf_add_str(&d, "0123456789"));
	CHECK_OK(lacre_dbuf_add_u32be(&d, 0x41424344));
	CHECK_EQ_INT(lacre_dbuf_add_str(&d, "xy"), LACRE_E_TOO_LARGE);
	CHECK_EQ_INT(d.len, 14);
	CHECK_OK(lacre_dbuf_cstr(&d, &s));
	CHECK_STR(s, "0123456789ABCD");
	lacre_dbuf_consume(&d, 10);
	CHECK_OK(lacre_dbuf_cstr(&d, &s));
	CHECK_STR(s, "ABCD");
	lacre_dbuf_free(&d);

	lacre_dbuf_init(&d, 1 << 20);
	lacre_dbuf_set_secret(&d);
	for (int i = 0; i < 1000; i++)
		CHECK_OK(lacre_dbuf_printf(&d, "%04d", i));
	CHECK_EQ_INT(d.len, 4000);
	CHECK(!memcmp(d.p + 3996, "0999", 4));
	lacre_dbuf_free(&d);
}

static void test_strerror(void)
{
	CHECK_STR(lacre_strerror(LACRE_E_CORRUPT), "stored data is corrupt");
	CHECK_STR(lacre_err_name(LACRE_E_TRAILING), "LACRE_E_TRAILING");
	CHECK_STR(lacre_strerror(-9999), "unknown error");
}

int main(void)
{
	RUN(test_rbuf_bounds);
	RUN(test_dbuf_cap);
	RUN(test_strerror);
	return t_done();
}

/*
 * test_keepalive_long.c - keep-alive responses to keep-alives whose
 * pSHeader is 128 bytes or longer (lib/ingest/keepalive.c): the response
 * carries the header byte for byte in an outer SEQUENCE whose length needs
 * the long form, decodes as a keep-alive response with the same LIID, and
 * a response that does not fit the buffer leaves the buffer as it was.
 * The keep-alive is built by the test kit's raw encoder (any LIID length).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "sink_kit.h"
#include "lacre/ingest.h"

static void test_long_header(void)
{
	static const size_t lens[] = { 100, 200, 300 };

	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		uint8_t liid[300];
		struct lacre_dbuf ka, resp;
		struct etsi_pdu d, back;

		memset(liid, 'L', sizeof(liid));
		lacre_dbuf_init(&ka, 1 << 16);
		lacre_dbuf_init(&resp, 1 << 16);
		CHECK_OK(kit_raw(&ka, liid, lens[i], 9, T("2026-02-01T10:00:00Z"), 0));
		CHECK_OK(etsi_decode(ka.p, ka.len, &d));
		CHECK_EQ_INT(d.kind, ETSI_KIND_KEEPALIVE);
		CHECK(d.header_tlv.len > 128);
		CHECK_OK(ingest_keepalive_response(&d, &resp));
		/* 30, a long-form length, the header as received, A2 04 A2 02 84 00 */
		CHECK_EQ_INT(resp.p[0], 0x30);
		CHECK(resp.p[1] == 0x81 || resp.p[1] == 0x82);
		CHECK(memmem(resp.p, resp.len, d.header_tlv.p, d.header_tlv.len) != NULL);
		CHECK_MEM(resp.p + resp.len - 6, "\xa2\x04\xa2\x02\x84\x00", 6);
		CHECK_OK(etsi_decode(resp.p, resp.len, &back));
		CHECK_EQ_INT(back.kind, ETSI_KIND_KEEPALIVE_RESPONSE);
		CHECK_EQ_INT(back.liid.len, lens[i]);
		/* a buffer too small: nothing appended */
		lacre_dbuf_free(&resp);
		lacre_dbuf_init(&resp, 64);
		CHECK_OK(lacre_dbuf_add_str(&resp, "keep"));
		CHECK(ingest_keepalive_response(&d, &resp) != LACRE_OK);
		CHECK_EQ_INT(resp.len, 4);
		lacre_dbuf_free(&resp);
		lacre_dbuf_free(&ka);
	}
}

int main(void)
{
	RUN(test_long_header);
	return t_done();
}

/*
 * test_pcap.c - the pcap bytes lacre pcap writes (lib/access/pcap.c):
 * global header, record header, synthetic IPv4/UDP header with a valid
 * checksum, the snap length.
 */
#include <stdint.h>
#include <string.h>

#include "harness.h"
#include "lacre/err.h"
#include "lacre/pcap.h"

/* Classic pcap, little-endian, microseconds, LINKTYPE_RAW. */
static void test_global_header(void)
{
	static const uint8_t want[PCAP_GLOBAL_HEADER] = {
		0xd4, 0xc3, 0xb2, 0xa1, 0x02, 0x00, 0x04, 0x00, 0, 0, 0, 0, 0, 0, 0, 0,
		0x00, 0x00, 0x04, 0x00, 0x65, 0x00, 0x00, 0x00
	};
	uint8_t h[PCAP_GLOBAL_HEADER];

	pcap_global_header(h);
	CHECK_MEM(h, want, sizeof(want));
}

/* ts_sec, ts_usec, incl_len, orig_len, then the bytes. */
static void test_record(void)
{
	static const uint8_t pkt[3] = { 0x45, 0x00, 0x01 };
	static const uint8_t want[] = { 0x41, 0xa3, 0x87, 0x67, 0x40, 0xe2, 0x01, 0x00,
		3, 0, 0, 0, 9, 0, 0, 0, 0x45, 0x00, 0x01 };
	struct lacre_dbuf d;

	lacre_dbuf_init(&d, 1 << 20);
	/* 2025-01-15T12:00:01.123456Z */
	CHECK_OK(pcap_record(&d, INT64_C(1736942401123456), pkt, 3, 9));
	CHECK_EQ_INT(d.len, sizeof(want));
	CHECK_MEM(d.p, want, sizeof(want));
	lacre_dbuf_reset(&d);
	CHECK_EQ_INT(pcap_record(&d, 0, pkt, PCAP_SNAPLEN + 1, 0), LACRE_E_TOO_LARGE);
	CHECK_EQ_INT(d.len, 0);
	lacre_dbuf_free(&d);
}

/* A synthetic IPv4 + UDP header around an RTP packet. */
static void test_wrap(void)
{
	static const uint8_t src[4] = { 192, 0, 2, 1 }, dst[4] = { 192, 0, 2, 2 };
	uint8_t rtp[12 + 160];
	struct lacre_dbuf d;
	uint32_t sum = 0;

	memset(rtp, 0xd5, sizeof(rtp));
	rtp[0] = 0x80;
	lacre_dbuf_init(&d, 1 << 20);
	CHECK_OK(pcap_wrap_ipv4(&d, src, dst, 5004, 30000, 0, rtp, sizeof(rtp)));
	CHECK_EQ_INT(d.len, 20 + 8 + sizeof(rtp));
	CHECK_EQ_INT(d.p[0], 0x45);
	CHECK_EQ_INT(d.p[2] << 8 | d.p[3], 200);
	CHECK_EQ_INT(d.p[9], 17);
	CHECK_MEM(d.p + 12, src, 4);
	CHECK_MEM(d.p + 16, dst, 4);
	for (int i = 0; i < 20; i += 2)
		sum += (uint32_t)d.p[i] << 8 | d.p[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	CHECK_EQ_INT(sum, 0xffff);                     /* header checksum verifies */
	CHECK_EQ_INT(d.p[20] << 8 | d.p[21], 5004);
	CHECK_EQ_INT(d.p[22] << 8 | d.p[23], 30000);
	CHECK_EQ_INT(d.p[24] << 8 | d.p[25], 8 + sizeof(rtp));
	CHECK_EQ_INT(d.p[28], 0x80);
	/* a UDP datagram gets only the IP header */
	CHECK_OK(pcap_wrap_ipv4(&d, src, dst, 0, 0, 1, rtp, 20));
	CHECK_EQ_INT(d.len, 40);
	CHECK_EQ_INT(pcap_wrap_ipv4(&d, src, dst, 0, 0, 0, rtp, 65536), LACRE_E_TOO_LARGE);
	lacre_dbuf_free(&d);
}

int main(void)
{
	RUN(test_global_header);
	RUN(test_record);
	RUN(test_wrap);
	return t_done();
}

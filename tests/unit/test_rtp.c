/*
 * test_rtp.c - RTP header parsing (CSRC list, header extension, padding,
 * truncation), the IP/UDP framing of IPMMCC frames, and the SIP/SDP
 * summary (lib/wire/rtp.c, lib/access/sip.c).
 */
#include <stdint.h>
#include <string.h>

#include "harness.h"
#include "lacre/err.h"
#include "lacre/rtp.h"

/* A plain RTP header: version, PT, seq, timestamp, SSRC. */
static void test_rtp_basic(void)
{
	static const uint8_t p[] = { 0x80, 0x88, 0x12, 0x34, 0x00, 0x00, 0x01, 0x40,
		0xde, 0xad, 0xbe, 0xef, 0xd5, 0xd5, 0xd5 };
	struct rtp_packet k;

	CHECK_OK(rtp_parse(p, sizeof(p), &k));
	CHECK_EQ_INT(k.version, 2);
	CHECK_EQ_INT(k.pt, 8);
	CHECK_EQ_INT(k.marker, 1);
	CHECK_EQ_INT(k.seq, 0x1234);
	CHECK_EQ_INT(k.ts, 320);
	CHECK_EQ_INT(k.ssrc, 0xdeadbeef);
	CHECK_EQ_INT(k.payload_len, 3);
	CHECK(k.payload == p + 12);
}

/* Two CSRCs, a one-word extension and 3 padding octets are skipped. */
static void test_rtp_csrc_ext_padding(void)
{
	static const uint8_t p[] = { 0xb2, 0x00, 0x00, 0x07, 0, 0, 0, 160, 1, 2, 3, 4,
		0xaa, 0xaa, 0xaa, 0xaa, 0xbb, 0xbb, 0xbb, 0xbb,     /* CSRCs */
		0xbe, 0xde, 0x00, 0x01, 0x10, 0x20, 0x30, 0x40,     /* extension, 1 word */
		0x7f, 0x7e, 0x00, 0x00, 0x03 };                    /* 2 payload + 3 padding */
	struct rtp_packet k;

	CHECK_OK(rtp_parse(p, sizeof(p), &k));
	CHECK_EQ_INT(k.csrc_count, 2);
	CHECK_EQ_INT(k.extension, 1);
	CHECK_EQ_INT(k.padding, 1);
	CHECK_EQ_INT(k.seq, 7);
	CHECK_EQ_INT(k.payload_len, 2);
	CHECK(k.payload == p + 28);
	CHECK_EQ_INT(k.payload[0], 0x7f);
}

/* What a hostile sender could declare is refused, not read past. */
static void test_rtp_hostile(void)
{
	uint8_t p[16] = { 0x8f, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff };
	struct rtp_packet k;

	memset(&k, 0x5a, sizeof(k));
	CHECK_EQ_INT(rtp_parse(p, sizeof(p), &k), LACRE_E_INCOMPLETE);   /* 15 CSRCs in 4 bytes */
	CHECK_EQ_INT(k.version, 0x5a5a5a5a);                               /* untouched */
	p[0] = 0x40;
	CHECK_EQ_INT(rtp_parse(p, sizeof(p), &k), LACRE_E_MALFORMED);    /* version 1 */
	p[0] = 0x90;   /* extension header claims 0xffff words */
	CHECK_EQ_INT(rtp_parse(p, sizeof(p), &k), LACRE_E_INCOMPLETE);
	p[0] = 0xa0;   /* padding count 0xff > payload */
	CHECK_EQ_INT(rtp_parse(p, sizeof(p), &k), LACRE_E_MALFORMED);
	CHECK_EQ_INT(rtp_parse(p, 11, &k), LACRE_E_INCOMPLETE);
}

/* An IPv4/UDP/RTP frame (ipFrame), the same as udpFrame and rtpFrame. */
static void test_frame(void)
{
	uint8_t f[20 + 8 + 12 + 4];
	struct rtp_frame fr;
	char a[64];

	memset(f, 0, sizeof(f));
	f[0] = 0x45;
	f[3] = sizeof(f);
	f[9] = 17;
	f[12] = 10; f[13] = 1; f[14] = 1; f[15] = 10;
	f[16] = 203; f[17] = 0; f[18] = 113; f[19] = 7;
	f[20] = 0x9c; f[21] = 0x40;          /* 40000 */
	f[22] = 0x75; f[23] = 0x30;          /* 30000 */
	f[25] = 8 + 12 + 4;
	f[28] = 0x80; f[29] = 0; f[30] = 0xff; f[31] = 0xff;
	f[39] = 9;
	CHECK_OK(rtp_frame_parse(0, f, sizeof(f), &fr));
	CHECK_EQ_INT(fr.ip_version, 4);
	rtp_addr_text(4, fr.src, a, sizeof(a));
	CHECK_STR(a, "10.1.1.10");
	CHECK_EQ_INT(fr.sport, 40000);
	CHECK_EQ_INT(fr.dport, 30000);
	CHECK_EQ_INT(fr.rtp.seq, 65535);
	CHECK_EQ_INT(fr.rtp.ssrc, 9);
	CHECK_EQ_INT(fr.rtp.payload_len, 4);
	CHECK_OK(rtp_frame_parse(-1, f, sizeof(f), &fr));       /* guessed: IPv4 */
	CHECK_OK(rtp_frame_parse(1, f + 20, sizeof(f) - 20, &fr));
	CHECK_EQ_INT(fr.ip_version, 0);
	CHECK_EQ_INT(fr.sport, 40000);
	CHECK_OK(rtp_frame_parse(2, f + 28, sizeof(f) - 28, &fr));
	CHECK_EQ_INT(fr.rtp.seq, 65535);
	f[6] = 0x20;                          /* more fragments */
	CHECK_EQ_INT(rtp_frame_parse(0, f, sizeof(f), &fr), LACRE_E_UNSUPPORTED);
	f[6] = 0;
	f[9] = 6;                             /* TCP */
	CHECK_EQ_INT(rtp_frame_parse(0, f, sizeof(f), &fr), LACRE_E_UNSUPPORTED);
	f[9] = 17;
	f[25] = 200;                          /* UDP length past the frame */
	CHECK_EQ_INT(rtp_frame_parse(0, f, sizeof(f), &fr), LACRE_E_INCOMPLETE);
}

/* INVITE with compact headers and SDP; a 200 OK names its CSeq method. */
static void test_sip(void)
{
	static const char inv[] =
		"INVITE sip:alice@10.1.1.10 SIP/2.0\r\n"
		"f: \"Bob\" <sip:bob@example.net>;tag=1\r\n"
		"t: <sip:alice@example.net>\r\n"
		"i: abc@host\r\n"
		"CSeq: 1 INVITE\r\n"
		"P-Asserted-Identity: <sip:+34911@example.org>\r\n"
		"\r\n"
		"v=0\r\nc=IN IP4 10.1.1.20\r\nm=audio 50000 RTP/AVP 8 0 101\r\n";
	static const char ok[] =
		"SIP/2.0 200 OK\nCall-ID: abc@host\nFrom: sip:bob@example.net;tag=1\nCSeq: 1 INVITE\n\n"
		"c=IN IP6 2001:db8::1\nm=audio 40000 RTP/AVP 0\n";
	struct sip_summary s;

	CHECK_OK(sip_parse((const uint8_t *)inv, strlen(inv), &s));
	CHECK_EQ_INT(s.is_request, 1);
	CHECK_STR(s.method, "INVITE");
	CHECK_STR(s.call_id, "abc@host");
	CHECK_STR(s.from, "sip:bob@example.net");
	CHECK_STR(s.to, "sip:alice@example.net");
	CHECK_STR(s.pai, "sip:+34911@example.org");
	CHECK_STR(s.sdp_addr, "10.1.1.20");
	CHECK_EQ_INT(s.sdp_port, 50000);
	CHECK_EQ_INT(s.sdp_pt, 8);
	CHECK_OK(sip_parse((const uint8_t *)ok, strlen(ok), &s));
	CHECK_EQ_INT(s.is_request, 0);
	CHECK_EQ_INT(s.status, 200);
	CHECK_STR(s.method, "INVITE");
	CHECK_STR(s.from, "sip:bob@example.net");
	CHECK_STR(s.sdp_addr, "2001:db8::1");
	CHECK_EQ_INT(s.sdp_port, 40000);
	CHECK_EQ_INT(sip_parse((const uint8_t *)"hello\r\n", 7, &s), LACRE_E_MALFORMED);
	CHECK_EQ_INT(sip_parse((const uint8_t *)"SIP/2.0 99 x\r\n", 14, &s), LACRE_E_MALFORMED);
	CHECK_EQ_INT(sip_parse((const uint8_t *)"", 0, &s), LACRE_E_MALFORMED);
}

int main(void)
{
	RUN(test_rtp_basic);
	RUN(test_rtp_csrc_ext_padding);
	RUN(test_rtp_hostile);
	RUN(test_frame);
	RUN(test_sip);
	return t_done();
}

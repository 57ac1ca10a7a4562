/*
 * fuzz_rtp.c - libFuzzer harness for the media parsers of the access
 * domain (lib/wire/rtp.c, lib/access/sip.c): the input is parsed as an
 * IPMMCC frame of every frameType, as a bare RTP packet and as a SIP
 * message.  Checks: a parsed payload lies inside the input, padding never
 * makes it negative, every summary string is NUL-terminated within its
 * array.  Any violation goes to FUZZ_FAIL (fuzz_common.h): an abort under
 * libFuzzer, a named failure in the corpus replay of `make check`.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lacre/err.h"
#include "lacre/rtp.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Counters the corpus replay asserts on. */
static unsigned long fz_rtp_packets, fz_rtp_frames, fz_rtp_sip;

/* The payload of k lies inside data[0..size). */
static void fz_rtp_inside(const struct rtp_packet *k, const uint8_t *data, size_t size)
{
	FUZZ_CHECK(k->version == 2);
	FUZZ_CHECK(k->payload >= data && k->payload <= data + size);
	FUZZ_CHECK(k->payload_len <= size - (size_t)(k->payload - data));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rtp_packet k;
	struct rtp_frame f;
	struct sip_summary s;
	static const int types[] = { -1, 0, 1, 2, 3, 5 };

	if (rtp_parse(data, size, &k) == LACRE_OK) {
		fz_rtp_packets++;
		fz_rtp_inside(&k, data, size);
	}
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (rtp_frame_parse(types[i], data, size, &f) == LACRE_OK) {
			fz_rtp_frames++;
			fz_rtp_inside(&f.rtp, data, size);
		}
	if (sip_parse(data, size, &s) == LACRE_OK) {
		fz_rtp_sip++;
		FUZZ_CHECK(memchr(s.call_id, 0, sizeof(s.call_id)) != NULL);
		FUZZ_CHECK(memchr(s.from, 0, sizeof(s.from)) != NULL);
		FUZZ_CHECK(memchr(s.to, 0, sizeof(s.to)) != NULL);
		FUZZ_CHECK(memchr(s.method, 0, sizeof(s.method)) != NULL);
		FUZZ_CHECK(memchr(s.sdp_addr, 0, sizeof(s.sdp_addr)) != NULL);
		FUZZ_CHECK(s.sdp_port < 65536 && s.sdp_pt < 128);
	}
	return 0;
}

/*
 * rtp.h - the media inside intercepted voice content (TS 102 232-5 IPMMCC):
 * an IPv4/IPv6 + UDP header (frameType ipFrame), a UDP header (udpFrame) or
 * nothing (rtpFrame) in front of an RTP packet (RFC 3550), and the parts of
 * a SIP message and its SDP body that calls are correlated by.
 *
 * Every byte here came from the network (through the operator): the parsers
 * read only through the checked buffer, never trust a declared length, and
 * leave their output untouched on failure.  Pointers in the results point
 * into the caller's bytes.  Owned by lib/wire/rtp.c (RTP, IP, UDP) and
 * lib/access/sip.c (SIP, SDP).
 */
#ifndef LACRE_RTP_H
#define LACRE_RTP_H

#include <stddef.h>
#include <stdint.h>

/* One RTP packet (RFC 3550 §5.1). */
struct rtp_packet {
	unsigned version;          /* always 2 once parsed */
	int padding, extension, marker;
	unsigned csrc_count;       /* 0..15 CSRC identifiers skipped */
	unsigned pt;               /* payload type (0 PCMU, 8 PCMA, ...) */
	uint16_t seq;
	uint32_t ts;
	uint32_t ssrc;
	const uint8_t *payload;    /* after CSRCs and the header extension */
	size_t payload_len;        /* padding removed */
};

/* An RTP packet with whatever IP/UDP framing carried it. */
struct rtp_frame {
	int ip_version;            /* 4, 6, or 0 when there was no IP header */
	uint8_t src[16], dst[16];  /* addresses (first 4 bytes for IPv4) */
	int has_ports;
	uint16_t sport, dport;
	struct rtp_packet rtp;
};

/* Parse an RTP packet p[0..n): version 2, CSRC list, header extension and
 * padding handled.  LACRE_E_INCOMPLETE (too short for what the header
 * declares), LACRE_E_MALFORMED (not version 2, bad padding count). */
int rtp_parse(const uint8_t *p, size_t n, struct rtp_packet *out);

/* Parse the IPMMCC frame p[0..n) of the given frameType (0 ipFrame, 1
 * udpFrame, 2 rtpFrame, -1 absent: guessed from the first byte).  IPv4
 * options and IPv6 extension headers are skipped; fragments, non-UDP and
 * non-RTP frames give LACRE_E_UNSUPPORTED. */
int rtp_frame_parse(int frame_type, const uint8_t *p, size_t n, struct rtp_frame *out);

/* Text of an address (4 or 16 bytes) into out (at least 46 bytes). */
void rtp_addr_text(int ip_version, const uint8_t *a, char *out, size_t outlen);

/* What calls need from one SIP message (RFC 3261).  Strings are
 * NUL-terminated copies, cut at their size; "" when absent. */
#define SIP_TEXT_MAX 256
struct sip_summary {
	int is_request;            /* 1 request, 0 response */
	char method[32];           /* request method, or the CSeq method of a response */
	int status;                /* response status code, 0 for a request */
	char call_id[SIP_TEXT_MAX];
	char from[SIP_TEXT_MAX];   /* the URI of From (inside <>), without parameters */
	char to[SIP_TEXT_MAX];
	char pai[SIP_TEXT_MAX];    /* P-Asserted-Identity URI */
	/* SDP body (first c= and first audio m= line) */
	int has_sdp;
	char sdp_addr[64];         /* c=IN IP4|IP6 <addr> */
	unsigned sdp_port;         /* m=audio <port> */
	int sdp_pt;                /* first payload type of the m=audio line, -1 */
};

/* Summarise the SIP message p[0..n).  Header names are matched without
 * case, compact forms (i, f, t) included; folded lines are not joined.
 * LACRE_E_MALFORMED when the first line is neither a request nor a
 * response. */
int sip_parse(const uint8_t *p, size_t n, struct sip_summary *out);

#endif

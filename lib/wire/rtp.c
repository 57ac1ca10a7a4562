/*
 * rtp.c - RTP packets and the IP/UDP framing around them, as they arrive in
 * IPMMCC content (see include/lacre/rtp.h).  Untrusted bytes: every read
 * goes through the checked buffer, and nothing is allocated.
 */
#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>

#include "lacre/buf.h"
#include "lacre/err.h"
#include "lacre/rtp.h"

int rtp_parse(const uint8_t *p, size_t n, struct rtp_packet *out)
{
	struct lacre_rbuf b;
	struct rtp_packet k;
	uint8_t b0, b1, pad;
	uint16_t prof, words;
	int r;

	memset(&k, 0, sizeof(k));
	lacre_rbuf_init(&b, p, n);
	if ((r = lacre_rbuf_u8(&b, &b0)) != LACRE_OK || (r = lacre_rbuf_u8(&b, &b1)) != LACRE_OK ||
	    (r = lacre_rbuf_u16be(&b, &k.seq)) != LACRE_OK ||
	    (r = lacre_rbuf_u32be(&b, &k.ts)) != LACRE_OK ||
	    (r = lacre_rbuf_u32be(&b, &k.ssrc)) != LACRE_OK)
		return r;
	k.version = b0 >> 6;
	if (k.version != 2)
		return LACRE_E_MALFORMED;
	k.padding = (b0 >> 5) & 1;
	k.extension = (b0 >> 4) & 1;
	k.csrc_count = b0 & 15u;
	k.marker = b1 >> 7;
	k.pt = b1 & 0x7fu;
	if ((r = lacre_rbuf_skip(&b, (size_t)k.csrc_count * 4)) != LACRE_OK)
		return r;
	if (k.extension) {
		if ((r = lacre_rbuf_u16be(&b, &prof)) != LACRE_OK ||
		    (r = lacre_rbuf_u16be(&b, &words)) != LACRE_OK ||
		    (r = lacre_rbuf_skip(&b, (size_t)words * 4)) != LACRE_OK)
			return r;
	}
	k.payload = lacre_rbuf_ptr(&b);
	k.payload_len = lacre_rbuf_left(&b);
	if (k.padding) {
		/* the last octet counts the padding octets, itself included */
		if (k.payload_len == 0)
			return LACRE_E_MALFORMED;
		pad = k.payload[k.payload_len - 1];
		if (pad == 0 || pad > k.payload_len)
			return LACRE_E_MALFORMED;
		k.payload_len -= pad;
	}
	*out = k;
	return LACRE_OK;
}

/* Parse a UDP header and the RTP packet after it into f. */
static int rtp_udp(struct lacre_rbuf *b, struct rtp_frame *f)
{
	uint16_t len, sum;
	int r;

	if ((r = lacre_rbuf_u16be(b, &f->sport)) != LACRE_OK ||
	    (r = lacre_rbuf_u16be(b, &f->dport)) != LACRE_OK ||
	    (r = lacre_rbuf_u16be(b, &len)) != LACRE_OK ||
	    (r = lacre_rbuf_u16be(b, &sum)) != LACRE_OK)
		return r;
	f->has_ports = 1;
	/* a UDP length shorter than what we hold cuts the datagram (trailer
	 * bytes of the link); a longer one means it was truncated */
	if (len < 8)
		return LACRE_E_MALFORMED;
	if ((size_t)len - 8 > lacre_rbuf_left(b))
		return LACRE_E_INCOMPLETE;
	return rtp_parse(lacre_rbuf_ptr(b), (size_t)len - 8, &f->rtp);
}

/* Parse an IPv4 or IPv6 header (and what follows) into f. */
static int rtp_ip(struct lacre_rbuf *b, struct rtp_frame *f)
{
	const uint8_t *h;
	uint8_t v, nh, elen;
	size_t ihl, total;
	int r;

	if ((r = lacre_rbuf_peek(b, &v)) != LACRE_OK)
		return r;
	if (v >> 4 == 4) {
		ihl = (size_t)(v & 15) * 4;
		if (ihl < 20)
			return LACRE_E_MALFORMED;
		if ((r = lacre_rbuf_take(b, ihl, &h)) != LACRE_OK)
			return r;
		total = (size_t)h[2] << 8 | h[3];
		if (total < ihl)
			return LACRE_E_MALFORMED;
		if (total - ihl < lacre_rbuf_left(b))
			b->len = b->off + (total - ihl);  /* ignore link padding */
		if (((h[6] & 0x3f) << 8 | h[7]) != 0)
			return LACRE_E_UNSUPPORTED;        /* a fragment */
		f->ip_version = 4;
		memcpy(f->src, h + 12, 4);
		memcpy(f->dst, h + 16, 4);
		nh = h[9];
	} else if (v >> 4 == 6) {
		if ((r = lacre_rbuf_take(b, 40, &h)) != LACRE_OK)
			return r;
		total = (size_t)h[4] << 8 | h[5];
		if (total < lacre_rbuf_left(b))
			b->len = b->off + total;
		f->ip_version = 6;
		memcpy(f->src, h + 8, 16);
		memcpy(f->dst, h + 24, 16);
		nh = h[6];
		while (nh == 0 || nh == 43 || nh == 60) {
			if ((r = lacre_rbuf_u8(b, &nh)) != LACRE_OK ||
			    (r = lacre_rbuf_u8(b, &elen)) != LACRE_OK ||
			    (r = lacre_rbuf_skip(b, (size_t)elen * 8 + 6)) != LACRE_OK)
				return r;
		}
		if (nh == 44)
			return LACRE_E_UNSUPPORTED;
	} else {
		return LACRE_E_MALFORMED;
	}
	if (nh != 17)
		return LACRE_E_UNSUPPORTED;
	return rtp_udp(b, f);
}

int rtp_frame_parse(int frame_type, const uint8_t *p, size_t n, struct rtp_frame *out)
{
	struct lacre_rbuf b;
	struct rtp_frame f;
	int r;

	memset(&f, 0, sizeof(f));
	lacre_rbuf_init(&b, p, n);
	if (frame_type < 0 && n > 0)
		frame_type = (p[0] >> 4 == 4 || p[0] >> 4 == 6) ? 0 : 2;
	switch (frame_type) {
	case 0:
		r = rtp_ip(&b, &f);
		break;
	case 1:
		r = rtp_udp(&b, &f);
		break;
	case 2:
	case 5:  /* artificialRtpFrame */
		r = rtp_parse(p, n, &f.rtp);
		break;
	default:
		r = n ? LACRE_E_UNSUPPORTED : LACRE_E_INCOMPLETE;
		break;
	}
	if (r != LACRE_OK)
		return r;
	*out = f;
	return LACRE_OK;
}

void rtp_addr_text(int ip_version, const uint8_t *a, char *out, size_t outlen)
{
	char t[INET6_ADDRSTRLEN];

	if (ip_version == 4 && inet_ntop(AF_INET, a, t, sizeof(t)))
		snprintf(out, outlen, "%s", t);
	else if (ip_version == 6 && inet_ntop(AF_INET6, a, t, sizeof(t)))
		snprintf(out, outlen, "%s", t);
	else if (outlen)
		out[0] = '\0';
}

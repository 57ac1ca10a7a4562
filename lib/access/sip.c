/*
 * sip.c - the few fields of a SIP message (RFC 3261) and its SDP body
 * (RFC 8866) that calls are correlated by: method or status, Call-ID,
 * From, To, P-Asserted-Identity, CSeq method, the media address and port
 * (see include/lacre/rtp.h).  The text came from the network: lines are
 * split through the checked buffer and every copy is bounded.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lacre/buf.h"
#include "lacre/err.h"
#include "lacre/rtp.h"

/* Take the next line (without CR LF) off b; 0 at the end of b. */
static int sip_line(struct lacre_rbuf *b, const uint8_t **line, size_t *len)
{
	const uint8_t *p = lacre_rbuf_ptr(b);
	size_t left = lacre_rbuf_left(b), i;

	if (left == 0)
		return 0;
	for (i = 0; i < left && p[i] != '\n'; i++)
		;
	*line = p;
	*len = i;
	if (i > 0 && p[i - 1] == '\r')
		(*len)--;
	lacre_rbuf_skip(b, i < left ? i + 1 : i);
	return 1;
}

/* Copy p[0..n) into out as printable text (other bytes become '?'). */
static void sip_copy(char *out, size_t outlen, const uint8_t *p, size_t n)
{
	size_t i;

	if (outlen == 0)
		return;
	if (n > outlen - 1)
		n = outlen - 1;
	for (i = 0; i < n; i++)
		out[i] = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '?';
	out[n] = '\0';
}

/* Trim spaces and tabs at both ends of p[0..*n). */
static const uint8_t *sip_trim(const uint8_t *p, size_t *n)
{
	while (*n && (p[0] == ' ' || p[0] == '\t')) {
		p++;
		(*n)--;
	}
	while (*n && (p[*n - 1] == ' ' || p[*n - 1] == '\t'))
		(*n)--;
	return p;
}

/* If line is "name: value" for one of the names (case-insensitive), point
 * *v at the trimmed value and return 1. */
static int sip_header(const uint8_t *line, size_t len, const char *name, const char *compact,
		      const uint8_t **v, size_t *vn)
{
	size_t i, k;

	for (i = 0; i < len && line[i] != ':'; i++)
		;
	if (i == len)
		return 0;
	k = i;
	while (k && (line[k - 1] == ' ' || line[k - 1] == '\t'))
		k--;
	if (!((k == strlen(name) && !strncasecmp((const char *)line, name, k)) ||
	      (compact && k == strlen(compact) && !strncasecmp((const char *)line, compact, k))))
		return 0;
	*vn = len - i - 1;
	*v = sip_trim(line + i + 1, vn);
	return 1;
}

/* The URI of a name-addr or addr-spec header value, without parameters. */
static void sip_uri(char *out, size_t outlen, const uint8_t *v, size_t n)
{
	const uint8_t *lt = memchr(v, '<', n), *gt;
	size_t i;

	if (lt) {
		size_t rest = n - (size_t)(lt - v) - 1;
		gt = memchr(lt + 1, '>', rest);
		sip_copy(out, outlen, lt + 1, gt ? (size_t)(gt - lt - 1) : rest);
		return;
	}
	for (i = 0; i < n && v[i] != ';'; i++)
		;
	sip_copy(out, outlen, v, i);
}

/* Bounded decimal number at the start of p[0..n); -1 if none. */
static long sip_num(const uint8_t *p, size_t n)
{
	long v = 0;
	size_t i;

	for (i = 0; i < n && p[i] >= '0' && p[i] <= '9' && i < 9; i++)
		v = v * 10 + (p[i] - '0');
	return i ? v : -1;
}

/* Read an SDP line of the body into s (c= and m=audio). */
static void sip_sdp_line(const uint8_t *line, size_t len, struct sip_summary *s)
{
	const uint8_t *p;
	size_t n, i;
	long port, pt;

	if (len > 9 && !memcmp(line, "c=IN IP", 7) && !s->sdp_addr[0]) {
		p = line + 9;
		n = len - 9;
		p = sip_trim(p, &n);
		for (i = 0; i < n && p[i] != '/' && p[i] != ' '; i++)
			;
		sip_copy(s->sdp_addr, sizeof(s->sdp_addr), p, i);
		s->has_sdp = 1;
	} else if (len > 8 && !memcmp(line, "m=audio ", 8) && !s->sdp_port) {
		p = line + 8;
		n = len - 8;
		port = sip_num(p, n);
		if (port > 0 && port < 65536)
			s->sdp_port = (unsigned)port;
		/* skip the port and the transport to the first format */
		for (i = 0; i < n && p[i] != ' '; i++)
			;
		for (i++; i < n && p[i] != ' '; i++)
			;
		if (i + 1 < n) {
			pt = sip_num(p + i + 1, n - i - 1);
			if (pt >= 0 && pt < 128)
				s->sdp_pt = (int)pt;
		}
		s->has_sdp = 1;
	}
}

int sip_parse(const uint8_t *p, size_t n, struct sip_summary *out)
{
	struct lacre_rbuf b;
	struct sip_summary s;
	const uint8_t *line, *v;
	size_t len, vn, i;
	int in_body = 0;
	long st;

	memset(&s, 0, sizeof(s));
	s.sdp_pt = -1;
	lacre_rbuf_init(&b, p, n);
	if (!sip_line(&b, &line, &len))
		return LACRE_E_MALFORMED;
	if (len >= 12 && !memcmp(line, "SIP/2.0 ", 8)) {
		st = sip_num(line + 8, len - 8);
		if (st < 100 || st > 699)
			return LACRE_E_MALFORMED;
		s.status = (int)st;
	} else {
		for (i = 0; i < len && line[i] >= 'A' && line[i] <= 'Z'; i++)
			;
		if (i == 0 || i >= len || line[i] != ' ' || len < 8 ||
		    memcmp(line + len - 8, " SIP/2.0", 8))
			return LACRE_E_MALFORMED;
		s.is_request = 1;
		sip_copy(s.method, sizeof(s.method), line, i);
	}
	while (sip_line(&b, &line, &len)) {
		if (in_body) {
			sip_sdp_line(line, len, &s);
			continue;
		}
		if (len == 0) {
			in_body = 1;
			continue;
		}
		if (sip_header(line, len, "Call-ID", "i", &v, &vn))
			sip_copy(s.call_id, sizeof(s.call_id), v, vn);
		else if (sip_header(line, len, "From", "f", &v, &vn))
			sip_uri(s.from, sizeof(s.from), v, vn);
		else if (sip_header(line, len, "To", "t", &v, &vn))
			sip_uri(s.to, sizeof(s.to), v, vn);
		else if (sip_header(line, len, "P-Asserted-Identity", NULL, &v, &vn))
			sip_uri(s.pai, sizeof(s.pai), v, vn);
		else if (!s.is_request && sip_header(line, len, "CSeq", NULL, &v, &vn)) {
			for (i = 0; i < vn && v[i] != ' '; i++)
				;
			if (i < vn)
				sip_copy(s.method, sizeof(s.method), v + i + 1, vn - i - 1);
		}
	}
	*out = s;
	return LACRE_OK;
}

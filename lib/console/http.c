/*
 * http.c - the console's HTTP/1.1 request-head parser and response writer
 * (console.h).
 *
 * Why our own: the console terminates TLS itself (tls.c) and needs only a
 * handful of routes, so a small parser that accepts one strict subset of
 * RFC 9112 is less code to trust than a general server.  Every byte comes
 * through lacre_rbuf; every count has a cap; anything unusual is refused
 * rather than guessed at (bare LF, obs-fold, a control byte, a query
 * string, Transfer-Encoding, a second Content-Length).  Each connection
 * carries one request (the answer says Connection: close), so there is no
 * pipelining or keep-alive state to get wrong.  fuzz/fuzz_console_http.c
 * fuzzes console_http_parse.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "lacre/err.h"
#include "lacre/hex.h"
#include "console/console.h"

/* The one Content-Security-Policy of every answer: first-party script and
 * style only, no inline script, no framing, no plugin. */
#define CSP "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; " \
	"media-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; " \
	"form-action 'self'; frame-ancestors 'none'"

/* Whether c is an RFC 9110 tchar (header names, methods). */
static int tchar(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* Take one line (without its CRLF) from b: *p, *n.  LACRE_E_MALFORMED on a
 * bare CR or LF or a control byte other than HTAB. */
static int take_line(struct lacre_rbuf *b, const uint8_t **p, size_t *n)
{
	const uint8_t *s = lacre_rbuf_ptr(b);
	size_t left = lacre_rbuf_left(b), i;

	for (i = 0; i < left; i++) {
		uint8_t c = s[i];
		if (c == '\r') {
			if (i + 1 >= left || s[i + 1] != '\n')
				return LACRE_E_MALFORMED;
			*p = s;
			*n = i;
			return lacre_rbuf_skip(b, i + 2);
		}
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return LACRE_E_MALFORMED;
	}
	return LACRE_E_INCOMPLETE;
}

/* Parse a decimal u64 p[0..n) without sign or overflow; at most 19 digits. */
static int parse_u64(const uint8_t *p, size_t n, uint64_t *v)
{
	uint64_t x = 0;

	if (n == 0 || n > 19)
		return LACRE_E_MALFORMED;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return LACRE_E_MALFORMED;
		x = x * 10 + (uint64_t)(p[i] - '0');
	}
	*v = x;
	return LACRE_OK;
}

/* Decode exactly 64 hex digits p[0..n) into a token. */
static int parse_token(const uint8_t *p, size_t n, uint8_t out[CONSOLE_TOKEN_LEN])
{
	if (n != 2 * CONSOLE_TOKEN_LEN)
		return LACRE_E_MALFORMED;
	return lacre_unhex((const char *)p, n, out, CONSOLE_TOKEN_LEN);
}

/* The request line "METHOD SP PATH SP HTTP/1.x". */
static int request_line(const uint8_t *p, size_t n, struct console_http_req *rq)
{
	struct lacre_rbuf b;
	const uint8_t *m, *t;
	size_t i, ml, tl;

	lacre_rbuf_init(&b, p, n);
	for (ml = 0; ml < n && p[ml] != ' '; ml++)
		if (!tchar(p[ml]))
			return LACRE_E_MALFORMED;
	if (ml == 0 || ml == n)
		return LACRE_E_MALFORMED;
	if (lacre_rbuf_take(&b, ml, &m) != LACRE_OK || lacre_rbuf_skip(&b, 1) != LACRE_OK)
		return LACRE_E_MALFORMED;
	if (!((ml == 3 && !memcmp(m, "GET", 3)) || (ml == 4 && !memcmp(m, "HEAD", 4)) ||
	      (ml == 4 && !memcmp(m, "POST", 4))))
		return LACRE_E_UNSUPPORTED;
	memcpy(rq->method, m, ml);
	rq->method[ml] = '\0';
	t = lacre_rbuf_ptr(&b);
	for (tl = 0; tl < lacre_rbuf_left(&b) && t[tl] != ' '; tl++)
		;
	if (tl == 0 || tl == lacre_rbuf_left(&b))
		return LACRE_E_MALFORMED;
	if (tl >= CONSOLE_PATH_MAX)
		return LACRE_E_TOO_LARGE;
	if (t[0] != '/')
		return LACRE_E_MALFORMED;
	for (i = 0; i < tl; i++) {
		uint8_t c = t[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '/' || c == '.' || c == '_' || c == '-'))
			return LACRE_E_MALFORMED;     /* no query, no escapes: nothing in URLs */
		if (c == '.' && i > 0 && t[i - 1] == '.')
			return LACRE_E_MALFORMED;
	}
	memcpy(rq->path, t, tl);
	rq->path[tl] = '\0';
	if (lacre_rbuf_skip(&b, tl + 1) != LACRE_OK)
		return LACRE_E_MALFORMED;
	if (lacre_rbuf_left(&b) != 8 || memcmp(lacre_rbuf_ptr(&b), "HTTP/1.", 7) != 0)
		return LACRE_E_MALFORMED;
	if (lacre_rbuf_ptr(&b)[7] != '0' && lacre_rbuf_ptr(&b)[7] != '1')
		return LACRE_E_UNSUPPORTED;
	return LACRE_OK;
}

/* Cookie: "a=b; c=d": the lacre_session pair, when well-formed.  Other
 * cookies are ignored; two lacre_session cookies are malformed. */
static int cookie(const uint8_t *v, size_t n, struct console_http_req *rq)
{
	size_t i = 0, cl = strlen(CONSOLE_COOKIE);

	while (i < n) {
		size_t s = i, e;
		while (i < n && v[i] != ';')
			i++;
		e = i;
		while (s < e && (v[s] == ' ' || v[s] == '\t'))
			s++;
		if (e - s > cl && !memcmp(v + s, CONSOLE_COOKIE, cl) && v[s + cl] == '=') {
			if (rq->has_session)
				return LACRE_E_MALFORMED;
			if (parse_token(v + s + cl + 1, e - s - cl - 1, rq->session) == LACRE_OK)
				rq->has_session = 1;  /* a malformed value is as no cookie */
		}
		if (i < n)
			i++;
	}
	return LACRE_OK;
}

/* Range: "bytes=A-" or "bytes=A-B" (one range; anything else is ignored,
 * as RFC 9110 allows: the whole file is sent). */
static void range(const uint8_t *v, size_t n, struct console_http_req *rq)
{
	const uint8_t *dash;
	uint64_t a, b = UINT64_MAX;

	if (n < 8 || memcmp(v, "bytes=", 6) != 0)
		return;
	v += 6;
	n -= 6;
	if ((dash = memchr(v, '-', n)) == NULL)
		return;
	if (parse_u64(v, (size_t)(dash - v), &a) != LACRE_OK)
		return;
	if ((size_t)(dash - v) + 1 < n &&
	    parse_u64(dash + 1, n - (size_t)(dash - v) - 1, &b) != LACRE_OK)
		return;
	if (b < a)
		return;
	rq->has_range = 1;
	rq->range_start = a;
	rq->range_end = b;
}

int console_http_parse(const uint8_t *p, size_t n, struct console_http_req *rq)
{
	struct lacre_rbuf b;
	const uint8_t *line, *end = NULL;
	size_t ll, lim = n < CONSOLE_HEAD_MAX ? n : CONSOLE_HEAD_MAX, nh = 0;
	int r, have_cl = 0;

	memset(rq, 0, sizeof(*rq));
	for (size_t i = 0; i < lim; i++) {
		if (p[i] == '\n' && (i == 0 || p[i - 1] != '\r'))
			return LACRE_E_MALFORMED;      /* a bare LF: refused at once */
		if (i + 4 <= lim && p[i] == '\r' && !memcmp(p + i, "\r\n\r\n", 4)) {
			end = p + i + 4;
			break;
		}
	}
	if (end == NULL)
		return n >= CONSOLE_HEAD_MAX ? LACRE_E_TOO_LARGE : LACRE_E_INCOMPLETE;
	lacre_rbuf_init(&b, p, (size_t)(end - p));
	if ((r = take_line(&b, &line, &ll)) != LACRE_OK)
		return r == LACRE_E_INCOMPLETE ? LACRE_E_MALFORMED : r;
	if ((r = request_line(line, ll, rq)) != LACRE_OK)
		return r;
	for (;;) {
		const uint8_t *colon, *v;
		size_t nl, vl;

		if ((r = take_line(&b, &line, &ll)) != LACRE_OK)
			return r == LACRE_E_INCOMPLETE ? LACRE_E_MALFORMED : r;
		if (ll == 0)
			break;
		if (++nh > CONSOLE_HEADERS_MAX)
			return LACRE_E_TOO_LARGE;
		if ((colon = memchr(line, ':', ll)) == NULL || colon == line)
			return LACRE_E_MALFORMED;      /* also obs-fold (a line starting with SP) */
		nl = (size_t)(colon - line);
		for (size_t i = 0; i < nl; i++)
			if (!tchar(line[i]))
				return LACRE_E_MALFORMED;
		v = colon + 1;
		vl = ll - nl - 1;
		while (vl && (*v == ' ' || *v == '\t'))
			v++, vl--;
		while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
			vl--;
		if (nl == 14 && !strncasecmp((const char *)line, "content-length", 14)) {
			if (have_cl++)
				return LACRE_E_MALFORMED;
			if (parse_u64(v, vl, &rq->content_length) != LACRE_OK)
				return LACRE_E_MALFORMED;
			if (rq->content_length > CONSOLE_BODY_MAX)
				return LACRE_E_TOO_LARGE;
		} else if (nl == 17 && !strncasecmp((const char *)line, "transfer-encoding", 17)) {
			return LACRE_E_UNSUPPORTED;
		} else if (nl == 6 && !strncasecmp((const char *)line, "cookie", 6)) {
			if ((r = cookie(v, vl, rq)) != LACRE_OK)
				return r;
		} else if (nl == 12 && !strncasecmp((const char *)line, "x-csrf-token", 12)) {
			if (rq->has_csrf || parse_token(v, vl, rq->csrf) != LACRE_OK)
				return LACRE_E_MALFORMED;
			rq->has_csrf = 1;
		} else if (nl == 5 && !strncasecmp((const char *)line, "range", 5)) {
			range(v, vl, rq);
		}
	}
	if (lacre_rbuf_expect_end(&b) != LACRE_OK)
		return LACRE_E_MALFORMED;
	rq->head_len = (size_t)(end - p);
	return LACRE_OK;
}

const char *console_http_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 206: return "Partial Content";
	case 303: return "See Other";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 413: return "Content Too Large";
	case 416: return "Range Not Satisfiable";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	default:  return "Error";
	}
}

int console_http_head(struct lacre_dbuf *out, int status, const char *ctype, uint64_t clen,
		      const char *extra)
{
	return lacre_dbuf_printf(out,
				 "HTTP/1.1 %d %s\r\n"
				 "Content-Type: %s\r\n"
				 "Content-Length: %llu\r\n"
				 "Content-Security-Policy: " CSP "\r\n"
				 "X-Content-Type-Options: nosniff\r\n"
				 "Referrer-Policy: no-referrer\r\n"
				 "X-Frame-Options: DENY\r\n"
				 "Cross-Origin-Opener-Policy: same-origin\r\n"
				 "Cross-Origin-Resource-Policy: same-origin\r\n"
				 "Strict-Transport-Security: max-age=31536000\r\n"
				 "Cache-Control: no-store\r\n"
				 "Connection: close\r\n"
				 "%s\r\n",
				 status, console_http_reason(status), ctype,
				 (unsigned long long)clen, extra ? extra : "");
}

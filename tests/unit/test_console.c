/*
 * test_console.c - the web console's HTTP request-head parser
 * (lib/console/http.c): what it accepts (routes, Content-Length, the
 * session cookie among others, the CSRF header, byte ranges), what it
 * refuses and with which code (bare LF, obs-fold, control bytes, a query
 * string, "..", Transfer-Encoding, a second Content-Length, an oversized
 * head or body, too many headers, an unknown method or HTTP version),
 * that every proper prefix of a valid head is "incomplete" and never
 * accepted, and the security headers of every answer (console_http_head).
 * The replay of fuzz/corpus/console_http runs here too.  And the two
 * bodies the page sends (lib/console/body.c): the login and the answer to
 * a signature request, in their one form; every change of a valid body's
 * structure is refused.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "lacre/err.h"
#include "console/console.h"

#define TOK "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

static int parse(const char *s, struct console_http_req *rq)
{
	return console_http_parse((const uint8_t *)s, strlen(s), rq);
}

static void test_accepts(void)
{
	struct console_http_req rq;
	const char *h = "POST /api/run HTTP/1.1\r\nHost: 127.0.0.1:8443\r\n"
			"Cookie: a=b; " CONSOLE_COOKIE "=" TOK "; c=d\r\n"
			"X-CSRF-Token: " TOK "\r\ncontent-length:  12 \r\n\r\nbody follows";

	CHECK_OK(parse(h, &rq));
	CHECK_STR(rq.method, "POST");
	CHECK_STR(rq.path, "/api/run");
	CHECK_EQ_INT(rq.content_length, 12);
	CHECK_EQ_INT(rq.head_len, strlen(h) - 12);
	CHECK(rq.has_session && rq.has_csrf);
	CHECK_EQ_INT(rq.session[0], 0x00);
	CHECK_EQ_INT(rq.session[31], 0xff);
	CHECK_OK(parse("GET / HTTP/1.0\r\n\r\n", &rq));
	CHECK(!rq.has_session && !rq.has_csrf && rq.content_length == 0);
	CHECK_OK(parse("GET /api/file/ab HTTP/1.1\r\nRange: bytes=100-\r\n\r\n", &rq));
	CHECK(rq.has_range && rq.range_start == 100 && rq.range_end == UINT64_MAX);
	CHECK_OK(parse("GET /api/file/ab HTTP/1.1\r\nRange: bytes=5-9\r\n\r\n", &rq));
	CHECK(rq.has_range && rq.range_start == 5 && rq.range_end == 9);
	/* a range the console does not serve is ignored (the whole file) */
	CHECK_OK(parse("GET /x HTTP/1.1\r\nRange: bytes=9-5\r\n\r\n", &rq));
	CHECK(!rq.has_range);
	CHECK_OK(parse("GET /x HTTP/1.1\r\nRange: bytes=-5\r\n\r\n", &rq));
	CHECK(!rq.has_range);
	/* a malformed session cookie is as none */
	CHECK_OK(parse("GET / HTTP/1.1\r\nCookie: " CONSOLE_COOKIE "=zz\r\n\r\n", &rq));
	CHECK(!rq.has_session);
}

static void test_refuses(void)
{
	static const struct {
		const char *head;
		int want;
	} v[] = {
		{ "GET / HTTP/1.1\n\r\n", LACRE_E_MALFORMED },                 /* bare LF */
		{ "GET / HTTP/1.1\r\nA: b\nC: d\r\n\r\n", LACRE_E_MALFORMED },
		{ "GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n", LACRE_E_MALFORMED },  /* obs-fold */
		{ "GET / HTTP/1.1\r\nA: b\x01\r\n\r\n", LACRE_E_MALFORMED },
		{ "GET /a?b=c HTTP/1.1\r\n\r\n", LACRE_E_MALFORMED },         /* query */
		{ "GET /a%2e HTTP/1.1\r\n\r\n", LACRE_E_MALFORMED },          /* escape */
		{ "GET /../x HTTP/1.1\r\n\r\n", LACRE_E_MALFORMED },
		{ "GET x HTTP/1.1\r\n\r\n", LACRE_E_MALFORMED },
		{ "GET  / HTTP/1.1\r\n\r\n", LACRE_E_MALFORMED },
		{ "GET / HTTP/1.1 \r\n\r\n", LACRE_E_MALFORMED },
		{ "GET / HTTP/2.0\r\n\r\n", LACRE_E_MALFORMED },
		{ "GET / HTTP/1.2\r\n\r\n", LACRE_E_UNSUPPORTED },
		{ "PUT / HTTP/1.1\r\n\r\n", LACRE_E_UNSUPPORTED },
		{ "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", LACRE_E_UNSUPPORTED },
		{ "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n",
		  LACRE_E_MALFORMED },
		{ "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", LACRE_E_MALFORMED },
		{ "POST / HTTP/1.1\r\nContent-Length: 1 1\r\n\r\n", LACRE_E_MALFORMED },
		{ "POST / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n",
		  LACRE_E_MALFORMED },
		{ "POST / HTTP/1.1\r\nContent-Length: 999999\r\n\r\n", LACRE_E_TOO_LARGE },
		{ "GET / HTTP/1.1\r\nBad Name: x\r\n\r\n", LACRE_E_MALFORMED },
		{ "GET / HTTP/1.1\r\n: x\r\n\r\n", LACRE_E_MALFORMED },
		{ "GET / HTTP/1.1\r\nX-CSRF-Token: 12\r\n\r\n", LACRE_E_MALFORMED },
		{ "GET / HTTP/1.1\r\nX-CSRF-Token: " TOK "\r\nX-CSRF-Token: " TOK "\r\n\r\n",
		  LACRE_E_MALFORMED },
		{ "GET / HTTP/1.1\r\nCookie: " CONSOLE_COOKIE "=" TOK "; " CONSOLE_COOKIE "=" TOK
		  "\r\n\r\n", LACRE_E_MALFORMED },
	};
	struct console_http_req rq;

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		int r = parse(v[i].head, &rq);
		if (r != v[i].want)
			printf("  case %zu: got %s\n", i, lacre_strerror(r));
		CHECK_EQ_INT(r, v[i].want);
	}
}

static void test_caps(void)
{
	struct console_http_req rq;
	char *b = malloc(CONSOLE_HEAD_MAX + 64);
	size_t n = 0;

	CHECK(b != NULL);
	/* a head that never ends within the cap */
	n = (size_t)snprintf(b, 64, "GET / HTTP/1.1\r\nA: ");
	memset(b + n, 'a', CONSOLE_HEAD_MAX - n);
	CHECK_EQ_INT(console_http_parse((uint8_t *)b, CONSOLE_HEAD_MAX, &rq), LACRE_E_TOO_LARGE);
	CHECK_EQ_INT(console_http_parse((uint8_t *)b, CONSOLE_HEAD_MAX - 1, &rq),
		     LACRE_E_INCOMPLETE);
	/* too many header lines */
	n = (size_t)snprintf(b, 64, "GET / HTTP/1.1\r\n");
	for (int i = 0; i <= CONSOLE_HEADERS_MAX; i++)
		n += (size_t)snprintf(b + n, 16, "A: b\r\n");
	n += (size_t)snprintf(b + n, 4, "\r\n");
	CHECK_EQ_INT(console_http_parse((uint8_t *)b, n, &rq), LACRE_E_TOO_LARGE);
	/* a path over the cap */
	n = (size_t)snprintf(b, 16, "GET /");
	memset(b + n, 'p', CONSOLE_PATH_MAX);
	n += CONSOLE_PATH_MAX;
	n += (size_t)snprintf(b + n, 32, " HTTP/1.1\r\n\r\n");
	CHECK_EQ_INT(console_http_parse((uint8_t *)b, n, &rq), LACRE_E_TOO_LARGE);
	free(b);
}

static void test_prefixes(void)
{
	const char *h = "POST /api/sign HTTP/1.1\r\nCookie: " CONSOLE_COOKIE "=" TOK
			"\r\nContent-Length: 3\r\n\r\n";
	struct console_http_req rq;
	size_t n = strlen(h);

	for (size_t i = 0; i < n; i++)
		CHECK_EQ_INT(console_http_parse((const uint8_t *)h, i, &rq), LACRE_E_INCOMPLETE);
	CHECK_OK(console_http_parse((const uint8_t *)h, n, &rq));
	CHECK_EQ_INT(rq.head_len, n);
}

static void test_head(void)
{
	struct lacre_dbuf d;
	const char *s;

	lacre_dbuf_init(&d, 8192);
	CHECK_OK(console_http_head(&d, 401, "application/json", 7, "X-A: b\r\n"));
	CHECK_OK(lacre_dbuf_cstr(&d, &s));
	CHECK(!strncmp(s, "HTTP/1.1 401 Unauthorized\r\n", 27));
	CHECK(strstr(s, "\r\nContent-Security-Policy: default-src 'self'; script-src 'self';") != NULL);
	CHECK(strstr(s, "unsafe-inline") == NULL);
	CHECK(strstr(s, "frame-ancestors 'none'") != NULL);
	CHECK(strstr(s, "\r\nX-Content-Type-Options: nosniff\r\n") != NULL);
	CHECK(strstr(s, "\r\nCache-Control: no-store\r\n") != NULL);
	CHECK(strstr(s, "\r\nConnection: close\r\n") != NULL);
	CHECK(strstr(s, "\r\nContent-Length: 7\r\n") != NULL);
	CHECK(strstr(s, "\r\nX-A: b\r\n\r\n") != NULL);
	lacre_dbuf_free(&d);
}

/* Every seed of fuzz/corpus/console_http parses without harm, and a
 * parse that succeeds is stable (the same head again gives the same). */
static void test_corpus(void)
{
	char dir[4096], path[4400];
	DIR *dp;
	struct dirent *e;
	int n = 0;

	snprintf(dir, sizeof(dir), "%s/fuzz/corpus/console_http", t_topdir());
	if ((dp = opendir(dir)) == NULL) {
		t_fail(__FILE__, __LINE__, "no corpus %s", dir);
		return;
	}
	while ((e = readdir(dp)) != NULL) {
		struct console_http_req a, b;
		uint8_t buf[CONSOLE_HEAD_MAX + 16];
		size_t len;
		FILE *f;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if ((f = fopen(path, "rb")) == NULL)
			continue;
		len = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		if (console_http_parse(buf, len, &a) == LACRE_OK) {
			CHECK_OK(console_http_parse(buf, a.head_len, &b));
			CHECK(memcmp(&a, &b, sizeof(a)) == 0);
		}
		n++;
	}
	closedir(dp);
	CHECK(n >= 5);
}

#define SIG128 TOK TOK
static void test_login_body(void)
{
	const char *ok = "user inv.2_x-y\norigin https://127.0.0.1:8443\nchallenge " TOK
			 "\nsig " SIG128 "\n";
	static const char *bad[] = {
		"user inv\norigin o\nchallenge " TOK "\nsig " SIG128,           /* no final LF */
		"user inv\norigin o\nchallenge " TOK "\nsig " SIG128 "\n\n",   /* extra line */
		"origin o\nuser inv\nchallenge " TOK "\nsig " SIG128 "\n",      /* order */
		"user \norigin o\nchallenge " TOK "\nsig " SIG128 "\n",          /* empty name */
		"user in v\norigin o\nchallenge " TOK "\nsig " SIG128 "\n",      /* name byte */
		"user inv\norigin \nchallenge " TOK "\nsig " SIG128 "\n",        /* empty origin */
		"user inv\norigin o\x01\nchallenge " TOK "\nsig " SIG128 "\n",  /* control */
		"user inv\norigin o\nchallenge 00\nsig " SIG128 "\n",            /* short hex */
		"user inv\norigin o\nchallenge " TOK "\nsig " TOK "\n",          /* short sig */
		"user inv\r\norigin o\nchallenge " TOK "\nsig " SIG128 "\n",     /* CR */
		"user inv\norigin o\nchallenge 00112233445566778899AABBCCDDEEFF00112233445566778899aabbccddeeff"
		"\nsig " SIG128 "\n",                                             /* upper case */
	};
	struct console_login_req lr;

	CHECK_OK(console_login_parse((const uint8_t *)ok, strlen(ok), &lr));
	CHECK_STR(lr.name, "inv.2_x-y");
	CHECK_STR(lr.origin, "https://127.0.0.1:8443");
	CHECK_EQ_INT(lr.challenge[1], 0x11);
	CHECK_EQ_INT(lr.sig[63], 0xff);
	for (size_t i = 0; i < strlen(ok); i++)
		CHECK_EQ_INT(console_login_parse((const uint8_t *)ok, i, &lr), LACRE_E_MALFORMED);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (console_login_parse((const uint8_t *)bad[i], strlen(bad[i]), &lr) !=
		    LACRE_E_MALFORMED)
			printf("  bad %zu accepted\n", i);
		CHECK_EQ_INT(console_login_parse((const uint8_t *)bad[i], strlen(bad[i]), &lr),
			     LACRE_E_MALFORMED);
	}
}

static void test_sign_body(void)
{
	const char *with = "id " TOK "\nsig " SIG128 "\n", *refuse = "id " TOK "\nsig \n";
	static const char *bad[] = {
		"id " TOK "\nsig\n", "id " TOK "\nsig  \n", "id " TOK "\nsig " TOK "\n",
		"id " TOK "\nsig " SIG128, "id " TOK "\nsig " SIG128 "\n\n", "id 00\nsig \n",
		"id  " TOK "\nsig \n", "sig \nid " TOK "\n", "id " TOK "\r\nsig \n",
	};
	uint8_t id[CONSOLE_TOKEN_LEN], sig[64];
	size_t sl = 99;

	CHECK_OK(console_sign_parse((const uint8_t *)with, strlen(with), id, sig, &sl));
	CHECK_EQ_INT(sl, 64);
	CHECK_EQ_INT(id[31], 0xff);
	CHECK_OK(console_sign_parse((const uint8_t *)refuse, strlen(refuse), id, sig, &sl));
	CHECK_EQ_INT(sl, 0);
	for (size_t i = 0; i < strlen(with); i++)
		CHECK_EQ_INT(console_sign_parse((const uint8_t *)with, i, id, sig, &sl),
			     LACRE_E_MALFORMED);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_EQ_INT(console_sign_parse((const uint8_t *)bad[i], strlen(bad[i]), id, sig, &sl),
			     LACRE_E_MALFORMED);
}

/* Every seed of fuzz/corpus/console_body parses or is refused; the valid
 * seeds (named login, sign, sign-refused) are accepted. */
static void test_body_corpus(void)
{
	static const char *valid[] = { "login", "sign", "sign-refused" };
	char path[4400];

	for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
		uint8_t buf[2048], id[CONSOLE_TOKEN_LEN], sig[64];
		struct console_login_req lr;
		size_t len, sl;
		FILE *f;

		snprintf(path, sizeof(path), "%s/fuzz/corpus/console_body/%s", t_topdir(), valid[i]);
		CHECK((f = fopen(path, "rb")) != NULL);
		len = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		CHECK(len > 1);
		if (buf[0] % 2 == 0)
			CHECK_OK(console_login_parse(buf + 1, len - 1, &lr));
		else
			CHECK_OK(console_sign_parse(buf + 1, len - 1, id, sig, &sl));
	}
}

int main(void)
{
	RUN(test_body_corpus);
	RUN(test_login_body);
	RUN(test_sign_body);
	RUN(test_accepts);
	RUN(test_refuses);
	RUN(test_caps);
	RUN(test_prefixes);
	RUN(test_head);
	RUN(test_corpus);
	return t_done();
}

/*
 * body.c - the console's parsers of the two small bodies the page sends
 * (console.h, FORMATS §15): the login ("user/origin/challenge/sig" lines)
 * and the answer to a signature request ("id/sig" lines).  Pure functions
 * over untrusted bytes, through lacre_rbuf, one canonical form each (fixed
 * order, lower-case hex of the exact length, LF line ends, nothing after
 * the last line); fuzzed by fuzz/fuzz_console_body.c.
 */
#include <string.h>

#include "lacre/err.h"
#include "lacre/hex.h"
#include "console/console.h"

/* A byte of a user name ([A-Za-z0-9._-]; users_name_ok checks the rest). */
static int name_byte(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '-';
}

/* Take "KEY VALUE\n" from b: the value's bytes (no control byte). */
static int field(struct lacre_rbuf *b, const char *key, const uint8_t **v, size_t *n)
{
	size_t kl = strlen(key), left = lacre_rbuf_left(b), i;
	const uint8_t *p = lacre_rbuf_ptr(b);

	if (left < kl + 2 || memcmp(p, key, kl) != 0 || p[kl] != ' ')
		return LACRE_E_MALFORMED;
	for (i = kl + 1; i < left && p[i] != '\n'; i++)
		if (p[i] < 0x20 || p[i] == 0x7f)
			return LACRE_E_MALFORMED;
	if (i == left)
		return LACRE_E_MALFORMED;
	*v = p + kl + 1;
	*n = i - kl - 1;
	return lacre_rbuf_skip(b, i + 1);
}

int console_login_parse(const uint8_t *body, size_t n, struct console_login_req *lr)
{
	struct lacre_rbuf b;
	const uint8_t *v;
	size_t vl;

	memset(lr, 0, sizeof(*lr));
	lacre_rbuf_init(&b, body, n);
	if (field(&b, "user", &v, &vl) != LACRE_OK || vl == 0 || vl >= sizeof(lr->name))
		return LACRE_E_MALFORMED;
	for (size_t i = 0; i < vl; i++)
		if (!name_byte(v[i]))
			return LACRE_E_MALFORMED;
	memcpy(lr->name, v, vl);
	if (field(&b, "origin", &v, &vl) != LACRE_OK || vl == 0 || vl >= sizeof(lr->origin))
		return LACRE_E_MALFORMED;
	memcpy(lr->origin, v, vl);
	if (field(&b, "challenge", &v, &vl) != LACRE_OK ||
	    lacre_unhex((const char *)v, vl, lr->challenge, sizeof(lr->challenge)) != LACRE_OK)
		return LACRE_E_MALFORMED;
	if (field(&b, "sig", &v, &vl) != LACRE_OK ||
	    lacre_unhex((const char *)v, vl, lr->sig, sizeof(lr->sig)) != LACRE_OK ||
	    lacre_rbuf_expect_end(&b) != LACRE_OK)
		return LACRE_E_MALFORMED;
	return LACRE_OK;
}

int console_sign_parse(const uint8_t *body, size_t n, uint8_t id[CONSOLE_TOKEN_LEN],
		       uint8_t sig[64], size_t *siglen)
{
	struct lacre_rbuf b;
	const uint8_t *p;

	lacre_rbuf_init(&b, body, n);
	if (lacre_rbuf_take(&b, 3, &p) != LACRE_OK || memcmp(p, "id ", 3) != 0 ||
	    lacre_rbuf_take(&b, 2 * CONSOLE_TOKEN_LEN, &p) != LACRE_OK ||
	    lacre_unhex((const char *)p, 2 * CONSOLE_TOKEN_LEN, id, CONSOLE_TOKEN_LEN) != LACRE_OK ||
	    lacre_rbuf_take(&b, 5, &p) != LACRE_OK || memcmp(p, "\nsig ", 5) != 0)
		return LACRE_E_MALFORMED;
	if (lacre_rbuf_left(&b) == 1) {
		*siglen = 0;                  /* "sig \n": refused */
	} else if (lacre_rbuf_take(&b, 128, &p) != LACRE_OK ||
		   lacre_unhex((const char *)p, 128, sig, 64) != LACRE_OK) {
		return LACRE_E_MALFORMED;
	} else {
		*siglen = 64;
	}
	if (lacre_rbuf_take(&b, 1, &p) != LACRE_OK || p[0] != '\n' ||
	    lacre_rbuf_expect_end(&b) != LACRE_OK)
		return LACRE_E_MALFORMED;
	return LACRE_OK;
}

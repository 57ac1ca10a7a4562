/*
 * request.c - the keeper's signed request (include/lacre/keeper.h,
 * docs/keeper.md): its one canonical encoding, a strict parser over the
 * checked buffer (any deviation is LACRE_E_MALFORMED, so one request has
 * exactly one byte form and the signature covers every byte of meaning),
 * the Ed25519 check, and the replay window.
 *
 * The parser is written to be fuzzed: it allocates only for decoded
 * arguments whose size it has already bounded, and never trusts a count.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "lacre/ed25519.h"
#include "lacre/err.h"
#include "lacre/hex.h"
#include "lacre/keeper.h"
#include "lacre/pct.h"

/* Append "key value\n" with value percent-encoded. */
static int put_arg(struct lacre_dbuf *d, const char *v)
{
	int r = lacre_dbuf_add_str(d, "arg ");

	if (r == LACRE_OK)
		r = pct_encode(d, v);
	if (r == LACRE_OK)
		r = lacre_dbuf_add_u8(d, '\n');
	return r;
}

int keeper_request_encode(const struct user_key *k, int64_t time_us, const uint8_t nonce[16],
			  int argc, char *const *argv, struct lacre_dbuf *out)
{
	struct lacre_dbuf d;
	char nx[33], sx[129];
	uint8_t sig[64];
	int r;

	if (k == NULL || argc < 1 || argv == NULL || time_us < 0 || !users_name_ok(k->name))
		return LACRE_E_INVALID;
	if (argc > KEEPER_ARGS_MAX)
		return LACRE_E_TOO_LARGE;
	for (int i = 0; i < argc; i++)
		if (argv[i] == NULL || strlen(argv[i]) > KEEPER_ARG_MAX)
			return argv[i] == NULL ? LACRE_E_INVALID : LACRE_E_TOO_LARGE;
	lacre_dbuf_init(&d, KEEPER_REQUEST_MAX + 1);
	lacre_dbuf_set_secret(&d);          /* the justification is case data */
	lacre_hex(nonce, 16, nx);
	r = lacre_dbuf_printf(&d, "%s\nuser %s\ntime %lld\nnonce %s\n", KEEPER_MAGIC, k->name,
			      (long long)time_us, nx);
	for (int i = 0; i < argc && r == LACRE_OK; i++)
		r = put_arg(&d, argv[i]);
	if (r == LACRE_OK)
		r = lacre_ed25519_sign(k->seed, d.p, d.len, sig);
	if (r == LACRE_OK) {
		lacre_hex(sig, 64, sx);
		r = lacre_dbuf_printf(&d, "sig %s\n", sx);
	}
	if (r == LACRE_OK)
		r = lacre_dbuf_add(out, d.p, d.len);
	lacre_dbuf_free(&d);
	return r;
}

/* The next line of b (without its "\n") as p[0..n).  LACRE_E_INCOMPLETE
 * when no "\n" is left. */
static int next_line(struct lacre_rbuf *b, const char **p, size_t *n)
{
	const uint8_t *s = lacre_rbuf_ptr(b), *nl;
	size_t left = lacre_rbuf_left(b), len;

	if (left == 0 || (nl = memchr(s, '\n', left)) == NULL)
		return LACRE_E_INCOMPLETE;
	len = (size_t)(nl - s);
	*p = (const char *)s;
	*n = len;
	return lacre_rbuf_skip(b, len + 1);
}

/* Whether line p[0..n) is "key " followed by a value; *v, *vn get it. */
static int keyed(const char *p, size_t n, const char *key, const char **v, size_t *vn)
{
	size_t k = strlen(key);

	if (n <= k || memcmp(p, key, k) != 0 || p[k] != ' ')
		return 0;
	*v = p + k + 1;
	*vn = n - k - 1;
	return 1;
}

/* Lower-case hex of exactly 2*len digits into out. */
static int lower_hex(const char *v, size_t vn, uint8_t *out, size_t len)
{
	if (vn != 2 * len)
		return LACRE_E_MALFORMED;
	for (size_t i = 0; i < vn; i++)
		if (!((v[i] >= '0' && v[i] <= '9') || (v[i] >= 'a' && v[i] <= 'f')))
			return LACRE_E_MALFORMED;
	return lacre_unhex(v, vn, out, len) == LACRE_OK ? LACRE_OK : LACRE_E_MALFORMED;
}

/* A decimal without sign or leading zero (0 itself allowed), < 2^63. */
static int decimal(const char *v, size_t vn, int64_t *out)
{
	uint64_t x = 0;

	if (vn == 0 || vn > 19 || (vn > 1 && v[0] == '0'))
		return LACRE_E_MALFORMED;
	for (size_t i = 0; i < vn; i++) {
		if (v[i] < '0' || v[i] > '9')
			return LACRE_E_MALFORMED;
		x = x * 10 + (uint64_t)(v[i] - '0');
	}
	if (x > (uint64_t)INT64_MAX)
		return LACRE_E_MALFORMED;
	*out = (int64_t)x;
	return LACRE_OK;
}

void keeper_request_free(struct keeper_request *rq)
{
	if (rq == NULL)
		return;
	for (int i = 0; i < rq->argc; i++) {
		if (rq->argv[i]) {
			OPENSSL_cleanse(rq->argv[i], strlen(rq->argv[i]));
			free(rq->argv[i]);
		}
	}
	memset(rq, 0, sizeof(*rq));
}

int keeper_request_parse(const uint8_t *p, size_t n, struct keeper_request *rq)
{
	struct keeper_request t;
	struct lacre_rbuf b;
	const char *l, *v;
	size_t ln, vn;
	char tmp[KEEPER_ARG_MAX + 1];
	int r;

	memset(rq, 0, sizeof(*rq));
	if (p == NULL || n > KEEPER_REQUEST_MAX)
		return p == NULL ? LACRE_E_INVALID : LACRE_E_TOO_LARGE;
	memset(&t, 0, sizeof(t));
	lacre_rbuf_init(&b, p, n);
	if ((r = next_line(&b, &l, &ln)) != LACRE_OK)
		return r;
	if (ln != strlen(KEEPER_MAGIC) || memcmp(l, KEEPER_MAGIC, ln) != 0)
		return LACRE_E_MALFORMED;
	/* user: a registered user's name is [A-Za-z0-9][A-Za-z0-9._-]{0,62} */
	if ((r = next_line(&b, &l, &ln)) != LACRE_OK)
		return r;
	if (!keyed(l, ln, "user", &v, &vn) || vn >= sizeof(t.user))
		return LACRE_E_MALFORMED;
	memcpy(t.user, v, vn);
	t.user[vn] = '\0';
	if (!users_name_ok(t.user))
		return LACRE_E_MALFORMED;
	if ((r = next_line(&b, &l, &ln)) != LACRE_OK)
		return r;
	if (!keyed(l, ln, "time", &v, &vn) || decimal(v, vn, &t.time_us) != LACRE_OK)
		return LACRE_E_MALFORMED;
	if ((r = next_line(&b, &l, &ln)) != LACRE_OK)
		return r;
	if (!keyed(l, ln, "nonce", &v, &vn) || lower_hex(v, vn, t.nonce, 16) != LACRE_OK)
		return LACRE_E_MALFORMED;
	for (;;) {
		size_t at = b.off;
		if ((r = next_line(&b, &l, &ln)) != LACRE_OK)
			goto fail;
		if (keyed(l, ln, "arg", &v, &vn)) {
			if (t.argc == KEEPER_ARGS_MAX) {
				r = LACRE_E_TOO_LARGE;
				goto fail;
			}
			/* an encoded byte takes 1 or 3 characters */
			if (vn > 3 * KEEPER_ARG_MAX) {
				r = LACRE_E_TOO_LARGE;
				goto fail;
			}
			if ((r = pct_decode(v, vn, tmp, sizeof(tmp))) != LACRE_OK)
				goto fail;
			if ((t.argv[t.argc] = strdup(tmp)) == NULL) {
				r = LACRE_E_NOMEM;
				goto fail;
			}
			OPENSSL_cleanse(tmp, sizeof(tmp));
			t.argc++;
			continue;
		}
		if (keyed(l, ln, "sig", &v, &vn)) {
			if (t.argc == 0 || lower_hex(v, vn, t.sig, 64) != LACRE_OK) {
				r = LACRE_E_MALFORMED;
				goto fail;
			}
			t.signed_len = at;
			break;
		}
		r = LACRE_E_MALFORMED;
		goto fail;
	}
	if ((r = lacre_rbuf_expect_end(&b)) != LACRE_OK)
		goto fail;
	*rq = t;
	return LACRE_OK;
fail:
	OPENSSL_cleanse(tmp, sizeof(tmp));
	keeper_request_free(&t);
	return r;
}

int keeper_request_verify(const struct keeper_request *rq, const uint8_t *p, const uint8_t pub[32])
{
	if (rq == NULL || p == NULL || rq->signed_len == 0)
		return LACRE_E_INVALID;
	return lacre_ed25519_verify(pub, p, rq->signed_len, rq->sig) == LACRE_OK ? LACRE_OK
										   : LACRE_E_AUTH;
}

/* ---- the replay window ---- */

struct seen {
	uint8_t nonce[16];
	int64_t until_us;        /* forgotten after this: its time can no longer pass */
};

struct keeper_replay {
	int64_t start_us;
	struct seen *v;
	size_t n;
};

int keeper_replay_new(int64_t start_us, struct keeper_replay **out)
{
	struct keeper_replay *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return LACRE_E_NOMEM;
	c->v = calloc(KEEPER_REPLAY_CAP, sizeof(*c->v));
	if (c->v == NULL) {
		free(c);
		return LACRE_E_NOMEM;
	}
	c->start_us = start_us;
	*out = c;
	return LACRE_OK;
}

int keeper_replay_check(struct keeper_replay *c, int64_t now_us, int64_t time_us,
			const uint8_t nonce[16])
{
	size_t w = 0;

	if (time_us < c->start_us || time_us < now_us - KEEPER_SKEW_US ||
	    time_us > now_us + KEEPER_SKEW_US)
		return LACRE_E_RANGE;
	/* forget what can no longer pass the time check, then look */
	for (size_t i = 0; i < c->n; i++)
		if (c->v[i].until_us >= now_us)
			c->v[w++] = c->v[i];
	c->n = w;
	for (size_t i = 0; i < c->n; i++)
		if (CRYPTO_memcmp(c->v[i].nonce, nonce, 16) == 0)
			return LACRE_E_EXISTS;
	if (c->n == KEEPER_REPLAY_CAP)
		return LACRE_E_TOO_LARGE;
	memcpy(c->v[c->n].nonce, nonce, 16);
	c->v[c->n].until_us = time_us + KEEPER_SKEW_US;
	c->n++;
	return LACRE_OK;
}

void keeper_replay_free(struct keeper_replay *c)
{
	if (c == NULL)
		return;
	free(c->v);
	free(c);
}

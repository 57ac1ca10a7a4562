/*
 * https_client.c - the lacre CLI as a remote client of the keeper, through
 * lacre-console's HTTPS API (FORMATS §15, docs/keeper.md "Remote clients").
 *
 * The console is a keyless relay: the client logs in with the user's own
 * Ed25519 key (the challenge bytes a browser signs), posts the very keeper
 * request it would write on SITE/keeper.sock (FORMATS §11: signed, with a
 * fresh nonce and time), and answers each signature round ("sign") by the
 * same rule as on the socket (keeper_client_sign: only its own user's
 * access-log request or the registry event its command writes).  So the
 * console can neither forge nor widen a request; what it can do is refuse
 * or break off.  The console's certificate is trusted only by its SHA-256
 * fingerprint (checked inside the TLS handshake, before any byte is sent)
 * or by a CA file given on purpose: never by the system's CA list alone.
 * Untrusted answers (JSON, base64) are read through lacre_rbuf with caps.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "lacre/buf.h"
#include "lacre/ed25519.h"
#include "lacre/err.h"
#include "lacre/hex.h"
#include "lacre/keeper.h"
#include "lacre/note.h"
#include "lacre/users.h"
#include "console/console.h"

#define HC_ORIGIN_MAX 300
#define HC_ANSWER_MAX ((size_t)32 << 20)   /* one JSON answer: 16 MiB of stdout in base64 */
#define HC_TEXT_MAX ((size_t)24 << 20)     /* one decoded JSON string */
#define HC_TIMEOUT_S 600L                  /* a relay may wait 300 s between keeper frames */

/* One conversation with the console. */
struct hc {
	CURL *c;
	char origin[HC_ORIGIN_MAX];         /* https://HOST:PORT, also the login origin */
	const struct keeper_https_trust *t;
	int pin_ok;                         /* the pinned certificate was seen */
	char cookie[32 + 2 * CONSOLE_TOKEN_LEN]; /* "Cookie: lacre_session=<hex>" */
	char csrf[16 + 2 * CONSOLE_TOKEN_LEN];   /* "X-CSRF-Token: <hex>" */
	struct lacre_dbuf ans;              /* the answer's body (secret: content) */
	int fd;                             /* the body goes here instead (a file), or -1 */
	int write_err;
	long code;                          /* HTTP status */
	char *msg;
	size_t msglen;
};

/* The whole-chain verification of a pinned console: the leaf certificate
 * must have the fingerprint; nothing else is trusted. */
static int pin_verify(X509_STORE_CTX *x, void *arg)
{
	struct hc *h = arg;
	X509 *leaf = X509_STORE_CTX_get0_cert(x);
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (leaf != NULL && X509_digest(leaf, EVP_sha256(), md, &mdlen) && mdlen == 32 &&
	    CRYPTO_memcmp(md, h->t->pin, 32) == 0) {
		h->pin_ok = 1;
		return 1;
	}
	X509_STORE_CTX_set_error(x, X509_V_ERR_CERT_UNTRUSTED);
	return 0;
}

/* libcurl's hook on the OpenSSL context: install the pin check. */
static CURLcode ssl_ctx_pin(CURL *c, void *sslctx, void *arg)
{
	(void)c;
	SSL_CTX_set_verify((SSL_CTX *)sslctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_cert_verify_callback((SSL_CTX *)sslctx, pin_verify, arg);
	return CURLE_OK;
}

/* The body of an answer: into the buffer (capped) or the output file. */
static size_t on_body(char *p, size_t sz, size_t nm, void *arg)
{
	struct hc *h = arg;
	size_t n = sz * nm;

	if (h->fd >= 0) {
		if (keeper_write_full(h->fd, p, n) != LACRE_OK) {
			h->write_err = errno ? errno : EIO;
			return 0;
		}
		return n;
	}
	return lacre_dbuf_add(&h->ans, p, n) == LACRE_OK ? n : 0;
}

/* A header line: keep the session cookie the login sets
 * ("Set-Cookie: lacre_session=<64 hex>; ..."). */
static size_t on_header(char *p, size_t sz, size_t nm, void *arg)
{
	static const char name[] = CONSOLE_COOKIE "=";
	struct hc *h = arg;
	size_t n = sz * nm, i = 11, nl = sizeof(name) - 1, hl = 2 * CONSOLE_TOKEN_LEN;
	const char *v;

	if (n < 11 || strncasecmp(p, "set-cookie:", 11) != 0)
		return n;
	while (i < n && p[i] == ' ')
		i++;
	if (n - i < nl + hl || memcmp(p + i, name, nl) != 0)
		return n;
	v = p + i + nl;
	for (size_t j = 0; j < hl; j++)
		if (!((v[j] >= '0' && v[j] <= '9') || (v[j] >= 'a' && v[j] <= 'f')))
			return n;       /* not a session token (e.g. the logout's) */
	if (n - i > nl + hl && v[hl] != ';' && v[hl] != '\r' && v[hl] != '\n')
		return n;
	snprintf(h->cookie, sizeof(h->cookie), "Cookie: %s%.*s", name, (int)hl, v);
	return n;
}

/* One request: method GET or POST (body b[0..n)) to the console's path.
 * LACRE_OK with h->code and the body; LACRE_E_AUTH when the certificate is
 * not the trusted one; LACRE_E_UNAVAILABLE when the console is not
 * reached. */
static int hc_do(struct hc *h, int post, const char *path, const void *b, size_t n)
{
	struct curl_slist *hd = NULL, *t;
	char url[HC_ORIGIN_MAX + 128];
	CURLcode cr;
	int r = LACRE_OK;

	lacre_dbuf_reset(&h->ans);
	h->code = 0;
	h->pin_ok = 0;
	h->write_err = 0;
	snprintf(url, sizeof(url), "%s%s", h->origin, path);
	curl_easy_setopt(h->c, CURLOPT_URL, url);
	if (post) {
		curl_easy_setopt(h->c, CURLOPT_POST, 1L);
		curl_easy_setopt(h->c, CURLOPT_POSTFIELDS, b ? b : "");
		curl_easy_setopt(h->c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)n);
	} else {
		curl_easy_setopt(h->c, CURLOPT_HTTPGET, 1L);
	}
	{
		/* the body type of FORMATS §15, no "Expect: 100-continue", the
		 * session and (POST) the CSRF token once logged in */
		const char *lines[4] = { "Content-Type: text/plain", "Expect:",
					 h->cookie[0] ? h->cookie : NULL,
					 post && h->csrf[0] ? h->csrf : NULL };
		for (size_t i = 0; i < 4; i++) {
			if (lines[i] == NULL)
				continue;
			if ((t = curl_slist_append(hd, lines[i])) == NULL) {
				curl_slist_free_all(hd);
				return LACRE_E_NOMEM;
			}
			hd = t;
		}
	}
	curl_easy_setopt(h->c, CURLOPT_HTTPHEADER, hd);
	cr = curl_easy_perform(h->c);
	curl_easy_setopt(h->c, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(hd);
	if (h->t->have_pin && !h->pin_ok && cr != CURLE_OK) {
		snprintf(h->msg, h->msglen, "refused: the console at %s did not show the certificate "
			 "of the pinned fingerprint (check --keeper-fingerprint against the one "
			 "lacre-console prints)", h->origin);
		return LACRE_E_AUTH;
	}
	if (cr == CURLE_PEER_FAILED_VERIFICATION || cr == CURLE_SSL_CACERT_BADFILE) {
		snprintf(h->msg, h->msglen, "refused: the console's certificate at %s does not verify "
			 "with %s (%s)", h->origin, h->t->ca_file ? h->t->ca_file : "the CA file",
			 curl_easy_strerror(cr));
		return LACRE_E_AUTH;
	}
	if (cr == CURLE_WRITE_ERROR && h->write_err) {
		snprintf(h->msg, h->msglen, "cannot write the output file: %s", strerror(h->write_err));
		return LACRE_E_IO;
	}
	if (cr == CURLE_WRITE_ERROR) {
		snprintf(h->msg, h->msglen, "the console's answer to %s is larger than %zu bytes", path,
			 (size_t)HC_ANSWER_MAX);
		return LACRE_E_TOO_LARGE;
	}
	if (cr != CURLE_OK) {
		snprintf(h->msg, h->msglen, "cannot reach the keeper's console at %s: %s (is "
			 "lacre-console running there?)", h->origin, curl_easy_strerror(cr));
		return LACRE_E_UNAVAILABLE;
	}
	if (h->t->have_pin && !h->pin_ok) {
		/* every request is a new handshake (no session reuse): the pin
		 * must have been checked on this one */
		snprintf(h->msg, h->msglen, "refused: the console's certificate was not checked "
			 "against the pinned fingerprint");
		return LACRE_E_AUTH;
	}
	curl_easy_getinfo(h->c, CURLINFO_RESPONSE_CODE, &h->code);
	return r;
}

/* A JSON string at b (the opening quote next) decoded into out (may be
 * NULL: skipped).  \u00XX gives the byte XX (the console writes a byte
 * that is not UTF-8 so), other code points UTF-8. */
static int jstr(struct lacre_rbuf *b, struct lacre_dbuf *out)
{
	uint8_t c;

	if (lacre_rbuf_u8(b, &c) != LACRE_OK || c != '"')
		return LACRE_E_MALFORMED;
	for (;;) {
		uint8_t e[1];
		if (lacre_rbuf_u8(b, &c) != LACRE_OK)
			return LACRE_E_MALFORMED;
		if (c == '"')
			return LACRE_OK;
		if (c < 0x20)
			return LACRE_E_MALFORMED;
		if (c == '\\') {
			if (lacre_rbuf_u8(b, &c) != LACRE_OK)
				return LACRE_E_MALFORMED;
			switch (c) {
			case '"': case '\\': case '/': e[0] = c; break;
			case 'b': e[0] = '\b'; break;
			case 'f': e[0] = '\f'; break;
			case 'n': e[0] = '\n'; break;
			case 'r': e[0] = '\r'; break;
			case 't': e[0] = '\t'; break;
			case 'u': {
				const uint8_t *h4;
				unsigned v = 0;
				uint8_t u8[3];
				if (lacre_rbuf_take(b, 4, &h4) != LACRE_OK)
					return LACRE_E_MALFORMED;
				for (int i = 0; i < 4; i++) {
					uint8_t d = h4[i];
					if (d >= '0' && d <= '9')
						d = (uint8_t)(d - '0');
					else if ((d | 0x20) >= 'a' && (d | 0x20) <= 'f')
						d = (uint8_t)((d | 0x20) - 'a' + 10);
					else
						return LACRE_E_MALFORMED;
					v = v << 4 | d;
				}
				if (v < 0x100) {
					e[0] = (uint8_t)v;
					break;
				}
				if (v >= 0xd800 && v < 0xe000)
					v = 0xfffd;     /* surrogates: not needed here */
				if (v < 0x800) {
					u8[0] = (uint8_t)(0xc0 | v >> 6);
					u8[1] = (uint8_t)(0x80 | (v & 0x3f));
				} else {
					u8[0] = (uint8_t)(0xe0 | v >> 12);
					u8[1] = (uint8_t)(0x80 | (v >> 6 & 0x3f));
					u8[2] = (uint8_t)(0x80 | (v & 0x3f));
				}
				if (out && lacre_dbuf_add(out, u8, v < 0x800 ? 2 : 3) != LACRE_OK)
					return LACRE_E_TOO_LARGE;
				continue;
			}
			default:
				return LACRE_E_MALFORMED;
			}
			if (out && lacre_dbuf_add(out, e, 1) != LACRE_OK)
				return LACRE_E_TOO_LARGE;
			continue;
		}
		if (out && lacre_dbuf_add(out, &c, 1) != LACRE_OK)
			return LACRE_E_TOO_LARGE;
	}
}

static void jws(struct lacre_rbuf *b)
{
	uint8_t c;

	while (lacre_rbuf_peek(b, &c) == LACRE_OK && (c == ' ' || c == '\n' || c == '\r' || c == '\t'))
		(void)lacre_rbuf_skip(b, 1);
}

/* The value of key in the console's flat JSON object a[0..n) (strings
 * decoded; numbers, true, false, null as their text) into out, NUL-
 * terminated.  LACRE_E_NOT_FOUND when absent; LACRE_E_MALFORMED when a is
 * not a flat object. */
static int json_field(const uint8_t *a, size_t n, const char *key, struct lacre_dbuf *out)
{
	struct lacre_rbuf b;
	struct lacre_dbuf k;
	int found = 0, r = LACRE_E_MALFORMED;
	uint8_t c;

	lacre_rbuf_init(&b, a, n);
	lacre_dbuf_init(&k, 256);
	lacre_dbuf_reset(out);
	jws(&b);
	if (lacre_rbuf_u8(&b, &c) != LACRE_OK || c != '{')
		goto out;
	jws(&b);
	if (lacre_rbuf_peek(&b, &c) == LACRE_OK && c == '}') {
		(void)lacre_rbuf_skip(&b, 1);
		goto end;
	}
	for (;;) {
		int match;
		lacre_dbuf_reset(&k);
		jws(&b);
		if (jstr(&b, &k) != LACRE_OK)
			goto out;
		match = !found && k.len == strlen(key) && memcmp(k.p, key, k.len) == 0;
		jws(&b);
		if (lacre_rbuf_u8(&b, &c) != LACRE_OK || c != ':')
			goto out;
		jws(&b);
		if (lacre_rbuf_peek(&b, &c) != LACRE_OK)
			goto out;
		if (c == '"') {
			if ((r = jstr(&b, match ? out : NULL)) != LACRE_OK)
				goto out;
			r = LACRE_E_MALFORMED;
		} else {
			size_t l = 0;
			const uint8_t *v = lacre_rbuf_ptr(&b);
			while (lacre_rbuf_peek(&b, &c) == LACRE_OK &&
			       ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || c == '-' ||
				c == '+' || c == '.' || c == 'E')) {
				(void)lacre_rbuf_skip(&b, 1);
				l++;
			}
			if (l == 0)
				goto out;       /* nested objects and arrays: not a console answer */
			if (match && lacre_dbuf_add(out, v, l) != LACRE_OK)
				goto out;
		}
		found |= match;
		jws(&b);
		if (lacre_rbuf_u8(&b, &c) != LACRE_OK)
			goto out;
		if (c == '}')
			break;
		if (c != ',')
			goto out;
	}
end:
	jws(&b);
	if (lacre_rbuf_expect_end(&b) != LACRE_OK)
		goto out;
	r = found ? lacre_dbuf_add_u8(out, 0) : LACRE_E_NOT_FOUND;
	if (r == LACRE_OK)
		out->len--;             /* NUL kept after the value, not counted */
out:
	lacre_dbuf_free(&k);
	return r;
}

/* Whether s is 64 lower-case hex (a console token). */
static int token_ok(const struct lacre_dbuf *s)
{
	if (s->len != 2 * CONSOLE_TOKEN_LEN)
		return 0;
	for (size_t i = 0; i < s->len; i++)
		if (!((s->p[i] >= '0' && s->p[i] <= '9') || (s->p[i] >= 'a' && s->p[i] <= 'f')))
			return 0;
	return 1;
}

/* The console's refusal of a request as one line in msg. */
static int hc_refused(struct hc *h, const char *what, struct lacre_dbuf *v)
{
	if (json_field(h->ans.p, h->ans.len, "error", v) == LACRE_OK)
		snprintf(h->msg, h->msglen, "the console refused %s (HTTP %ld): %.*s", what, h->code,
			 (int)(v->len > 300 ? 300 : v->len), (const char *)v->p);
	else
		snprintf(h->msg, h->msglen, "the console refused %s (HTTP %ld)", what, h->code);
	return h->code == 401 || h->code == 403 ? LACRE_E_DENIED : LACRE_E_UNAVAILABLE;
}

/* Log in as k: the challenge, its signature, the session cookie and the
 * CSRF token. */
static int hc_login(struct hc *h, const struct user_key *k, struct lacre_dbuf *v)
{
	struct lacre_dbuf m;
	uint8_t ch[CONSOLE_TOKEN_LEN], sig[64];
	char sx[129];
	int r;

	if ((r = hc_do(h, 0, "/api/challenge", NULL, 0)) != LACRE_OK)
		return r;
	if (h->code != 200)
		return hc_refused(h, "a login challenge", v);
	if (json_field(h->ans.p, h->ans.len, "challenge", v) != LACRE_OK || !token_ok(v) ||
	    lacre_unhex((const char *)v->p, v->len, ch, sizeof(ch)) != LACRE_OK) {
		snprintf(h->msg, h->msglen, "the console's login challenge is malformed");
		return LACRE_E_MALFORMED;
	}
	lacre_dbuf_init(&m, 4096);
	if ((r = console_login_message(k->name, h->origin, ch, &m)) != LACRE_OK ||
	    (r = lacre_ed25519_sign(k->seed, m.p, m.len, sig)) != LACRE_OK) {
		lacre_dbuf_free(&m);
		snprintf(h->msg, h->msglen, "cannot sign the login: %s", lacre_strerror(r));
		return r;
	}
	lacre_hex(sig, 64, sx);
	lacre_dbuf_reset(&m);
	r = lacre_dbuf_printf(&m, "user %s\norigin %s\nchallenge %.*s\nsig %s\n", k->name, h->origin,
			      2 * CONSOLE_TOKEN_LEN, (const char *)v->p, sx);
	if (r == LACRE_OK)
		r = hc_do(h, 1, "/api/login", m.p, m.len);
	lacre_dbuf_free(&m);
	if (r != LACRE_OK)
		return r;
	if (h->code != 200)
		return hc_refused(h, "the login", v);
	if (json_field(h->ans.p, h->ans.len, "csrf", v) != LACRE_OK || !token_ok(v) || !h->cookie[0]) {
		snprintf(h->msg, h->msglen, "the console's login answer has no session");
		return LACRE_E_MALFORMED;
	}
	snprintf(h->csrf, sizeof(h->csrf), "X-CSRF-Token: %.*s", 2 * CONSOLE_TOKEN_LEN,
		 (const char *)v->p);
	return LACRE_OK;
}

/* Decode the base64 field key of the answer into out (cap bytes). */
static int b64_field(struct hc *h, const char *key, struct lacre_dbuf *v, struct lacre_dbuf *out)
{
	size_t n = 0;
	int r;

	lacre_dbuf_reset(out);
	if ((r = json_field(h->ans.p, h->ans.len, key, v)) != LACRE_OK)
		return r;
	if ((r = lacre_dbuf_reserve(out, v->len / 4 * 3 + 3)) != LACRE_OK)
		return r;
	if (v->len && (r = note_b64_decode((const char *)v->p, v->len, out->p, out->alloc, &n)) != LACRE_OK)
		return r;
	out->len = n;
	return LACRE_OK;
}

/* GET /api/file/ID into PATH.part, linked to PATH when whole. */
static int hc_file(struct hc *h, const char *id, const char *path)
{
	char part[4096 + 8], p[32 + 2 * CONSOLE_TOKEN_LEN];
	int r;

	if (snprintf(part, sizeof(part), "%s.part", path) >= (int)sizeof(part))
		return LACRE_E_TOO_LARGE;
	h->fd = open(part, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (h->fd < 0) {
		snprintf(h->msg, h->msglen, "cannot create %s: %s", part, strerror(errno));
		return LACRE_E_IO;
	}
	snprintf(p, sizeof(p), "/api/file/%s", id);
	r = hc_do(h, 0, p, NULL, 0);
	if (r == LACRE_OK && h->code != 200) {
		snprintf(h->msg, h->msglen, "the console did not give the output file (HTTP %ld)",
			 h->code);
		r = LACRE_E_UNAVAILABLE;
	}
	if (r == LACRE_OK && (fsync(h->fd) != 0 || link(part, path) != 0)) {
		snprintf(h->msg, h->msglen, "cannot write %s: %s", path, strerror(errno));
		r = LACRE_E_IO;
	}
	close(h->fd);
	h->fd = -1;
	unlink(part);
	return r;
}

/* Follow the relay's answers from a /api/run until "done": answer "sign"
 * rounds, then print the output and fetch the file; a "stream" answer
 * (a WAV) is fetched as it comes, then its "done" from /api/file/ID/done. */
static int hc_follow(struct hc *h, const struct user_key *k, int argc, char *const *argv,
		     const char *outpath, int *status, struct lacre_dbuf *v)
{
	struct lacre_dbuf b, body;
	uint8_t sig[64];
	char sx[129], id[2 * CONSOLE_TOKEN_LEN + 1], fmsg[512];
	int r = LACRE_OK, streamed = 0, fr = LACRE_OK;

	lacre_dbuf_init(&b, HC_TEXT_MAX);
	lacre_dbuf_set_secret(&b);
	lacre_dbuf_init(&body, 512);
	for (;;) {
		if (h->code != 200) {
			r = hc_refused(h, "the request", v);
			break;
		}
		if ((r = json_field(h->ans.p, h->ans.len, "state", v)) != LACRE_OK) {
			snprintf(h->msg, h->msglen, "the console's answer is not a relay state");
			r = LACRE_E_MALFORMED;
			break;
		}
		if (!strcmp((const char *)v->p, "sign")) {
			int ok;
			if (json_field(h->ans.p, h->ans.len, "id", v) != LACRE_OK || !token_ok(v) ||
			    b64_field(h, "payload", v, &b) != LACRE_OK || b.len > KEEPER_FRAME_MAX) {
				snprintf(h->msg, h->msglen, "the console's signature request is "
					 "malformed");
				r = LACRE_E_MALFORMED;
				break;
			}
			(void)json_field(h->ans.p, h->ans.len, "id", v);
			memcpy(id, v->p, sizeof(id) - 1);
			id[sizeof(id) - 1] = '\0';
			/* the socket client's one rule: only its own user's */
			ok = keeper_client_sign(k, argc, argv, b.p, b.len, sig) == LACRE_OK;
			if (ok)
				lacre_hex(sig, 64, sx);
			else
				sx[0] = '\0';
			OPENSSL_cleanse(sig, sizeof(sig));
			lacre_dbuf_reset(&body);
			if ((r = lacre_dbuf_printf(&body, "id %s\nsig %s\n", id, sx)) != LACRE_OK ||
			    (r = hc_do(h, 1, "/api/sign", body.p, body.len)) != LACRE_OK)
				break;
			continue;
		}
		if (!strcmp((const char *)v->p, "stream") && !streamed) {
			/* a streamed WAV: its bytes as they come (PATH.part, linked
			 * only when whole: the console holds back the last byte
			 * until the command exits 0), then the command's end */
			char p[48 + 2 * CONSOLE_TOKEN_LEN];
			if (json_field(h->ans.p, h->ans.len, "file", v) != LACRE_OK || !token_ok(v) ||
			    outpath == NULL) {
				snprintf(h->msg, h->msglen, "the console sent a file that was not asked "
					 "for");
				r = LACRE_E_MALFORMED;
				break;
			}
			memcpy(id, v->p, sizeof(id) - 1);
			id[sizeof(id) - 1] = '\0';
			streamed = 1;
			fr = hc_file(h, id, outpath);
			fmsg[0] = '\0';
			if (fr != LACRE_OK)
				snprintf(fmsg, sizeof(fmsg), "%s", h->msg);
			snprintf(p, sizeof(p), "/api/file/%s/done", id);
			if ((r = hc_do(h, 0, p, NULL, 0)) != LACRE_OK)
				break;
			continue;
		}
		if (!strcmp((const char *)v->p, "done")) {
			long st;
			char *end;
			if (json_field(h->ans.p, h->ans.len, "status", v) != LACRE_OK ||
			    (errno = 0, st = strtol((const char *)v->p, &end, 10), errno) ||
			    *end || end == (char *)v->p || st < 0 || st > 255) {
				snprintf(h->msg, h->msglen, "the console's exit status is malformed");
				r = LACRE_E_MALFORMED;
				break;
			}
			*status = (int)st;
			if (b64_field(h, "out", v, &b) != LACRE_OK) {
				snprintf(h->msg, h->msglen, "the console's output is malformed");
				r = LACRE_E_MALFORMED;
				break;
			}
			if (b.len && fwrite(b.p, 1, b.len, stdout) != b.len) {
				snprintf(h->msg, h->msglen, "cannot write to standard output");
				r = LACRE_E_IO;
				break;
			}
			fflush(stdout);
			if (json_field(h->ans.p, h->ans.len, "err", v) == LACRE_OK && v->len) {
				fwrite(v->p, 1, v->len, stderr);
				fflush(stderr);
			}
			if (streamed && fr == LACRE_OK && *status != 0) {
				unlink(outpath);   /* (the console holds the last byte back) */
				fr = LACRE_E_TRUNCATED;
			}
			if (streamed && fr != LACRE_OK) {
				/* the command's own messages came above */
				if (*status == 0)
					snprintf(h->msg, h->msglen, "%s", fmsg[0] ? fmsg :
						 "the streamed file did not arrive whole");
				r = *status == 0 ? fr : LACRE_OK;
				break;
			}
			if (streamed)
				break;
			if (json_field(h->ans.p, h->ans.len, "file", v) == LACRE_OK) {
				if (!token_ok(v) || outpath == NULL || *status != 0) {
					snprintf(h->msg, h->msglen, "the console sent a file that was "
						 "not asked for");
					r = LACRE_E_MALFORMED;
					break;
				}
				memcpy(id, v->p, sizeof(id) - 1);
				id[sizeof(id) - 1] = '\0';
				r = hc_file(h, id, outpath);
			}
			break;
		}
		if (!strcmp((const char *)v->p, "error")) {
			r = hc_refused(h, "the request", v);
			break;
		}
		snprintf(h->msg, h->msglen, "the console's answer has an unknown state");
		r = LACRE_E_MALFORMED;
		break;
	}
	lacre_dbuf_free(&b);
	lacre_dbuf_free(&body);
	return r;
}

/* Check url: "https://HOST:PORT" with an optional '/' after, nothing
 * else; the origin (without the '/') into h. */
static int hc_url(struct hc *h, const char *url)
{
	size_t n = strlen(url);
	const char *host = url + 8, *colon;

	if (n > 8 && url[n - 1] == '/')
		n--;
	if (n <= 8 || n >= sizeof(h->origin) || strncmp(url, "https://", 8) != 0 ||
	    memchr(host, '/', n - 8) || memchr(host, '?', n - 8) || memchr(host, '@', n - 8) ||
	    (colon = memrchr(host, ':', n - 8)) == NULL || colon == host ||
	    (size_t)(url + n - colon) < 2) {
		snprintf(h->msg, h->msglen, "the keeper address '%s' is not https://HOST:PORT", url);
		return LACRE_E_INVALID;
	}
	for (const char *p = colon + 1; p < url + n; p++)
		if (*p < '0' || *p > '9') {
			snprintf(h->msg, h->msglen, "the keeper address '%s' has no port number", url);
			return LACRE_E_INVALID;
		}
	memcpy(h->origin, url, n);
	h->origin[n] = '\0';
	return LACRE_OK;
}

int keeper_https_run(const char *url, const struct keeper_https_trust *t,
		     const struct user_key *k, int argc, char *const *argv, int *status,
		     char *msg, size_t msglen)
{
	struct hc h;
	struct lacre_dbuf req, v;
	struct timespec ts;
	uint8_t nonce[16];
	const char *outpath = NULL;
	size_t off = 0;
	int r, idx = -1;

	msg[0] = '\0';
	*status = 1;
	memset(&h, 0, sizeof(h));
	h.fd = -1;
	h.t = t;
	h.msg = msg;
	h.msglen = msglen;
	if ((r = hc_url(&h, url)) != LACRE_OK)
		return r;
	if (!t->have_pin && (t->ca_file == NULL || !t->ca_file[0])) {
		snprintf(msg, msglen, "a keeper at %s needs --keeper-fingerprint SHA256 (the "
			 "certificate fingerprint lacre-console prints) or --keeper-ca FILE", url);
		return LACRE_E_CONFIG;
	}
	if (keeper_args_output(argc, argv, &idx, &off) == LACRE_OK)
		outpath = argv[idx] + off;
	if (outpath && access(outpath, F_OK) == 0) {
		snprintf(msg, msglen, "%s exists; give a new file name", outpath);
		return LACRE_E_EXISTS;
	}
	if ((h.c = curl_easy_init()) == NULL)
		return LACRE_E_NOMEM;
	lacre_dbuf_init(&h.ans, HC_ANSWER_MAX);
	lacre_dbuf_set_secret(&h.ans);
	lacre_dbuf_init(&v, HC_TEXT_MAX);
	lacre_dbuf_set_secret(&v);
	lacre_dbuf_init(&req, KEEPER_REQUEST_MAX + 1);
	lacre_dbuf_set_secret(&req);
	curl_easy_setopt(h.c, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(h.c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h.c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h.c, CURLOPT_CONNECTTIMEOUT, 15L);
	curl_easy_setopt(h.c, CURLOPT_TIMEOUT, HC_TIMEOUT_S);
	curl_easy_setopt(h.c, CURLOPT_SSL_SESSIONID_CACHE, 0L);
	curl_easy_setopt(h.c, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	curl_easy_setopt(h.c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h.c, CURLOPT_WRITEDATA, &h);
	curl_easy_setopt(h.c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h.c, CURLOPT_HEADERDATA, &h);
	curl_easy_setopt(h.c, CURLOPT_SSL_VERIFYPEER, 1L);
	if (t->have_pin) {
		/* the fingerprint is the console's identity: no name check, no
		 * CA list; the handshake fails on any other certificate */
		curl_easy_setopt(h.c, CURLOPT_SSL_VERIFYHOST, 0L);
		curl_easy_setopt(h.c, CURLOPT_SSL_CTX_FUNCTION, ssl_ctx_pin);
		curl_easy_setopt(h.c, CURLOPT_SSL_CTX_DATA, &h);
	} else {
		curl_easy_setopt(h.c, CURLOPT_SSL_VERIFYHOST, 2L);
		curl_easy_setopt(h.c, CURLOPT_CAINFO, t->ca_file);
		curl_easy_setopt(h.c, CURLOPT_CAPATH, NULL);
	}
	if ((r = hc_login(&h, k, &v)) != LACRE_OK)
		goto out;
	if (RAND_bytes(nonce, 16) != 1) {
		r = LACRE_E_CRYPTO;
		goto out;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	r = keeper_request_encode(k, (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000, nonce, argc,
				  argv, &req);
	if (r != LACRE_OK) {
		snprintf(msg, msglen, "cannot make the keeper request: %s", lacre_strerror(r));
		goto out;
	}
	if ((r = hc_do(&h, 1, "/api/run", req.p, req.len)) == LACRE_OK)
		r = hc_follow(&h, k, argc, argv, outpath, status, &v);
	{
		/* end the session (its files and relays go with it); an error
		 * here changes nothing the command did */
		char keep[1024];
		snprintf(keep, sizeof(keep), "%s", msg);
		(void)hc_do(&h, 1, "/api/logout", NULL, 0);
		snprintf(msg, msglen, "%s", keep);
	}
out:
	if (r != LACRE_OK)
		*status = 1;
	curl_easy_cleanup(h.c);
	OPENSSL_cleanse(h.cookie, sizeof(h.cookie));
	OPENSSL_cleanse(h.csrf, sizeof(h.csrf));
	lacre_dbuf_free(&h.ans);
	lacre_dbuf_free(&v);
	lacre_dbuf_free(&req);
	return r;
}

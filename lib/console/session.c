/*
 * session.c - console logins and sessions (console.h, docs/console.md).
 *
 * Login is a challenge signed in the browser with the user's own Ed25519
 * key (the key file is read by the login page into WebCrypto as a
 * non-extractable key; it never reaches the console).  The console gives
 * out a random one-use challenge (GET /api/challenge, 60 s), and the
 * browser signs, FORMATS §15:
 *
 *   lacre-console-login/v1\n user NAME\n origin ORIGIN\n challenge HEX\n
 *
 * ORIGIN is the page's origin and must be one of this console's own, so a
 * signature made for another site's page cannot log in here.  The
 * signature must verify with NAME's key in users.log and NAME must be
 * enabled.  Every refusal but "disabled" gets one answer, so user names
 * cannot be probed.
 *
 * A session is 256 random bits, sent as an HttpOnly, Secure,
 * SameSite=Strict cookie, with its own 256-bit CSRF token that the page
 * sends in X-CSRF-Token on every POST.  It ends after 15 minutes idle, at
 * logout, and at once when users.log no longer names its user enabled
 * (checked at every request).  Tokens are compared with CRYPTO_memcmp and
 * wiped when a session ends.  All state is in memory: a restart logs
 * everyone out.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "lacre/ed25519.h"
#include "lacre/err.h"
#include "lacre/hex.h"
#include "console/console.h"

struct challenge {
	uint8_t v[CONSOLE_TOKEN_LEN];
	time_t at;                /* 0: free */
};

struct sess {
	struct console_session_info info;
	time_t last;              /* 0: free */
};

struct console_sessions {
	pthread_mutex_t mu;
	const struct site *site;
	char origins[2][300];     /* accepted login origins */
	struct challenge ch[CONSOLE_CHALLENGES_MAX];
	struct sess s[CONSOLE_SESSIONS_MAX];
};

/* Monotonic seconds (session ages do not move with the wall clock). */
static time_t now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + 1;     /* never 0: 0 marks a free slot */
}

int console_sessions_new(const struct site *s, const char *listen,
			 struct console_sessions **out)
{
	struct console_sessions *ss = calloc(1, sizeof(*ss));
	const char *colon;

	if (ss == NULL)
		return LACRE_E_NOMEM;
	pthread_mutex_init(&ss->mu, NULL);
	ss->site = s;
	snprintf(ss->origins[0], sizeof(ss->origins[0]), "https://%s", listen);
	/* a loopback console is also reached as localhost */
	if (!strncmp(listen, "127.0.0.1:", 10) && (colon = strrchr(listen, ':')) != NULL)
		snprintf(ss->origins[1], sizeof(ss->origins[1]), "https://localhost%s", colon);
	*out = ss;
	return LACRE_OK;
}

void console_sessions_free(struct console_sessions *ss)
{
	if (ss == NULL)
		return;
	pthread_mutex_destroy(&ss->mu);
	OPENSSL_cleanse(ss, sizeof(*ss));
	free(ss);
}

int console_challenge_new(struct console_sessions *ss, uint8_t ch[CONSOLE_TOKEN_LEN])
{
	time_t t = now_s();
	size_t pick = 0;

	if (RAND_bytes(ch, CONSOLE_TOKEN_LEN) != 1)
		return LACRE_E_CRYPTO;
	pthread_mutex_lock(&ss->mu);
	/* a free or expired slot, else the oldest */
	for (size_t i = 0; i < CONSOLE_CHALLENGES_MAX; i++) {
		if (ss->ch[i].at == 0 || t - ss->ch[i].at > CONSOLE_CHALLENGE_S) {
			pick = i;
			break;
		}
		if (ss->ch[i].at < ss->ch[pick].at)
			pick = i;
	}
	memcpy(ss->ch[pick].v, ch, CONSOLE_TOKEN_LEN);
	ss->ch[pick].at = t;
	pthread_mutex_unlock(&ss->mu);
	return LACRE_OK;
}

int console_login_message(const char *user, const char *origin,
			  const uint8_t ch[CONSOLE_TOKEN_LEN], struct lacre_dbuf *out)
{
	char hx[2 * CONSOLE_TOKEN_LEN + 1];

	lacre_hex(ch, CONSOLE_TOKEN_LEN, hx);
	return lacre_dbuf_printf(out, "%s\nuser %s\norigin %s\nchallenge %s\n", CONSOLE_LOGIN_MAGIC,
				 user, origin, hx);
}

/* Fill info's role and unit from u. */
static void info_of(const struct user *u, struct console_session_info *info)
{
	snprintf(info->user, sizeof(info->user), "%s", u->name);
	snprintf(info->role, sizeof(info->role), "%s", acl_role_name(u->role));
	snprintf(info->unit, sizeof(info->unit), "%s", u->unit);
}

/* The enabled-or-not user called name in users.log, copied to *u. */
static int user_lookup(const struct site *s, const char *name, struct user *u)
{
	struct users_registry *reg = NULL;
	const struct user *f;
	char msg[SITE_MSG_MAX];
	int r;

	if ((r = users_load(s, &reg, msg, sizeof(msg))) != LACRE_OK)
		return r;
	f = users_find(reg, name);
	if (f)
		*u = *f;
	users_free(reg);
	return f ? LACRE_OK : LACRE_E_NOT_FOUND;
}

int console_login(struct console_sessions *ss, const uint8_t *body, size_t n,
		  struct console_session_info *info)
{
	struct console_login_req lr;
	const char *name = lr.name, *origin = lr.origin;
	const uint8_t *ch = lr.challenge, *sig = lr.sig;
	struct lacre_dbuf m;
	struct user u;
	int r, found = 0, oki = 0;
	time_t t = now_s();

	if (console_login_parse(body, n, &lr) != LACRE_OK || !users_name_ok(lr.name))
		return LACRE_E_MALFORMED;
	for (int i = 0; i < 2; i++)
		if (ss->origins[i][0] && !strcmp(origin, ss->origins[i]))
			oki = 1;
	/* the challenge is spent whatever follows */
	pthread_mutex_lock(&ss->mu);
	for (size_t i = 0; i < CONSOLE_CHALLENGES_MAX; i++)
		if (ss->ch[i].at && t - ss->ch[i].at <= CONSOLE_CHALLENGE_S &&
		    CRYPTO_memcmp(ss->ch[i].v, ch, CONSOLE_TOKEN_LEN) == 0) {
			found = 1;
			memset(&ss->ch[i], 0, sizeof(ss->ch[i]));
		}
	pthread_mutex_unlock(&ss->mu);
	if (!found || !oki)
		return LACRE_E_AUTH;
	if (user_lookup(ss->site, name, &u) != LACRE_OK)
		return LACRE_E_AUTH;
	lacre_dbuf_init(&m, 4096);
	r = console_login_message(name, origin, ch, &m);
	if (r == LACRE_OK)
		r = lacre_ed25519_verify(u.pub, m.p, m.len, sig) == LACRE_OK ? LACRE_OK : LACRE_E_AUTH;
	lacre_dbuf_free(&m);
	if (r != LACRE_OK)
		return r;
	if (u.disabled)
		return LACRE_E_DENIED;
	memset(info, 0, sizeof(*info));
	info_of(&u, info);
	if (RAND_bytes(info->id, sizeof(info->id)) != 1 ||
	    RAND_bytes(info->csrf, sizeof(info->csrf)) != 1)
		return LACRE_E_CRYPTO;
	pthread_mutex_lock(&ss->mu);
	r = LACRE_E_TOO_LARGE;
	for (size_t i = 0; i < CONSOLE_SESSIONS_MAX; i++) {
		if (ss->s[i].last && t - ss->s[i].last > CONSOLE_IDLE_S) {
			OPENSSL_cleanse(&ss->s[i], sizeof(ss->s[i]));
			ss->s[i].last = 0;
		}
		if (r != LACRE_OK && ss->s[i].last == 0) {
			ss->s[i].info = *info;
			ss->s[i].last = t;
			r = LACRE_OK;
		}
	}
	pthread_mutex_unlock(&ss->mu);
	return r;
}

int console_session_check(struct console_sessions *ss, const uint8_t id[CONSOLE_TOKEN_LEN],
			  const uint8_t *csrf, int recheck, struct console_session_info *info)
{
	time_t t = now_s();
	struct user u;
	int hit = -1;

	pthread_mutex_lock(&ss->mu);
	for (size_t i = 0; i < CONSOLE_SESSIONS_MAX; i++) {
		if (ss->s[i].last == 0)
			continue;
		if (t - ss->s[i].last > CONSOLE_IDLE_S) {
			OPENSSL_cleanse(&ss->s[i], sizeof(ss->s[i]));
			ss->s[i].last = 0;
			continue;
		}
		if (CRYPTO_memcmp(ss->s[i].info.id, id, CONSOLE_TOKEN_LEN) == 0)
			hit = (int)i;
	}
	if (hit >= 0 && csrf != NULL &&
	    CRYPTO_memcmp(ss->s[hit].info.csrf, csrf, CONSOLE_TOKEN_LEN) != 0)
		hit = -2;
	if (hit >= 0) {
		ss->s[hit].last = t;
		*info = ss->s[hit].info;
	}
	pthread_mutex_unlock(&ss->mu);
	if (hit < 0)
		return LACRE_E_AUTH;
	if (!recheck)
		return LACRE_OK;
	/* users.log again: a user disabled since login is out at once */
	if (user_lookup(ss->site, info->user, &u) != LACRE_OK || u.disabled) {
		console_session_end(ss, id);
		OPENSSL_cleanse(info, sizeof(*info));
		return LACRE_E_AUTH;
	}
	info_of(&u, info);
	return LACRE_OK;
}

void console_session_end(struct console_sessions *ss, const uint8_t id[CONSOLE_TOKEN_LEN])
{
	pthread_mutex_lock(&ss->mu);
	for (size_t i = 0; i < CONSOLE_SESSIONS_MAX; i++)
		if (ss->s[i].last && CRYPTO_memcmp(ss->s[i].info.id, id, CONSOLE_TOKEN_LEN) == 0) {
			OPENSSL_cleanse(&ss->s[i], sizeof(ss->s[i]));
			ss->s[i].last = 0;
		}
	pthread_mutex_unlock(&ss->mu);
}

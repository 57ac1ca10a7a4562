/*
 * evlog.c - signed, hash-chained event logs of the access domain (users.log,
 * cases.log): the line grammar of the warrant log with the signer named in
 * each line and resolved by the caller (see include/lacre/evlog.h).
 *
 * The file is read whole (capped) under a lock and parsed line by line
 * through the checked buffer; each line's hash and chain link are checked,
 * its fields decoded, its signer's key asked of the caller, its signature
 * verified, and only then is it applied.  Nothing after a bad line is
 * believed: the whole log is refused.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "lacre/ed25519.h"
#include "lacre/err.h"
#include "lacre/evlog.h"
#include "lacre/hex.h"
#include "lacre/warrant.h"

struct evlog {
	int fd;
	int writer;
	char magic[32];
	uint64_t events;
	uint8_t head[32];
	evlog_signer_fn signer;
	evlog_apply_fn apply;
	void *arg;
	struct lacre_dbuf pend;          /* a prepared, signed line (evlog_prepare) */
	struct evlog_event *pev;         /* its event, until evlog_commit */
};

/* ------------------------------------------------------------- events */

void evlog_event_init(struct evlog_event *e, const char *type, const char *by)
{
	memset(e, 0, sizeof(*e));
	snprintf(e->type, sizeof(e->type), "%s", type);
	snprintf(e->by, sizeof(e->by), "%s", by);
}

/* Whether k is a field key: [a-z_]{1,23}. */
static int key_ok(const char *k, size_t n)
{
	if (n == 0 || n >= EVLOG_KEY_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!(k[i] >= 'a' && k[i] <= 'z') && k[i] != '_')
			return 0;
	return 1;
}

int evlog_set(struct evlog_event *e, const char *key, const char *value)
{
	size_t kn = strlen(key), vn = strlen(value);

	if (!key_ok(key, kn) || !strcmp(key, "by") || !strcmp(key, "at") ||
	    !strcmp(key, "prev") || !strcmp(key, "hash") || !strcmp(key, "sig") ||
	    evlog_get(e, key) != NULL)
		return LACRE_E_INVALID;
	for (size_t i = 0; i < vn; i++)
		if ((unsigned char)value[i] < 0x20 || value[i] == 0x7f)
			return LACRE_E_INVALID;
	if (e->n == EVLOG_FIELDS_MAX || vn >= EVLOG_VALUE_MAX)
		return LACRE_E_TOO_LARGE;
	memcpy(e->f[e->n].key, key, kn + 1);
	memcpy(e->f[e->n].value, value, vn + 1);
	e->n++;
	return LACRE_OK;
}

int evlog_set_time(struct evlog_event *e, const char *key, int64_t t)
{
	char s[WARRANT_TIME_MAX];

	warrant_time_format(t, s);
	return evlog_set(e, key, s);
}

const char *evlog_get(const struct evlog_event *e, const char *key)
{
	for (size_t i = 0; i < e->n; i++)
		if (!strcmp(e->f[i].key, key))
			return e->f[i].value;
	return NULL;
}

int evlog_get_time(const struct evlog_event *e, const char *key, int64_t *t)
{
	const char *v = evlog_get(e, key);
	int64_t x;

	if (v == NULL)
		return LACRE_E_NOT_FOUND;
	if (warrant_time_parse(v, &x) != LACRE_OK)
		return LACRE_E_MALFORMED;
	*t = x;
	return LACRE_OK;
}

/* ------------------------------------------------------------- parsing */

/* Parse, check and apply one line (no LF) as event number seq. */
static int parse_line(struct evlog *l, const char *line, size_t n, uint64_t seq,
		      struct evlog_event *e)
{
	const char *tok[EVLOG_FIELDS_MAX + 8];
	size_t tlen[EVLOG_FIELDS_MAX + 8], nt = 0, i = 0;
	uint8_t h[32], sig[64], pub[32];
	char seqs[24], hx[65];
	int r;

	while (i < n) {
		const char *sp = memchr(line + i, ' ', n - i);
		size_t len = sp ? (size_t)(sp - (line + i)) : n - i;
		if (len == 0 || nt == EVLOG_FIELDS_MAX + 8)
			return LACRE_E_MALFORMED;
		tok[nt] = line + i;
		tlen[nt++] = len;
		i += len + 1;
		if (sp && i == n)
			return LACRE_E_MALFORMED;
	}
	/* magic seq type by= at= ... prev= hash= sig= */
	if (nt < 8 || tlen[0] != strlen(l->magic) || memcmp(tok[0], l->magic, tlen[0]) != 0)
		return LACRE_E_MALFORMED;
	snprintf(seqs, sizeof(seqs), "%" PRIu64, seq);
	if (tlen[1] != strlen(seqs) || memcmp(tok[1], seqs, tlen[1]) != 0)
		return LACRE_E_MALFORMED;
	lacre_hex(l->head, 32, hx);
	if (tlen[nt - 3] != 5 + 64 || memcmp(tok[nt - 3], "prev=", 5) != 0 ||
	    memcmp(tok[nt - 3] + 5, hx, 64) != 0)
		return LACRE_E_VERIFY;
	if (tlen[nt - 2] != 5 + 64 || memcmp(tok[nt - 2], "hash=", 5) != 0)
		return LACRE_E_MALFORMED;
	if (EVP_Digest(line, (size_t)(tok[nt - 2] - 1 - line), h, NULL, EVP_sha256(), NULL) != 1)
		return LACRE_E_CRYPTO;
	lacre_hex(h, 32, hx);
	if (memcmp(tok[nt - 2] + 5, hx, 64) != 0)
		return LACRE_E_VERIFY;
	if (tlen[nt - 1] != 4 + 128 || memcmp(tok[nt - 1], "sig=", 4) != 0 ||
	    lacre_unhex(tok[nt - 1] + 4, 128, sig, 64) != LACRE_OK)
		return LACRE_E_MALFORMED;
	memset(e, 0, sizeof(*e));
	if (tlen[2] >= sizeof(e->type))
		return LACRE_E_MALFORMED;
	for (i = 0; i < tlen[2]; i++)
		if (!(tok[2][i] >= 'a' && tok[2][i] <= 'z') && tok[2][i] != '-')
			return LACRE_E_MALFORMED;
	memcpy(e->type, tok[2], tlen[2]);
	if (tlen[3] < 4 || memcmp(tok[3], "by=", 3) != 0 ||
	    pct_decode(tok[3] + 3, tlen[3] - 3, e->by, sizeof(e->by)) != LACRE_OK || !e->by[0])
		return LACRE_E_MALFORMED;
	{
		char ts[WARRANT_TIME_MAX];
		if (tlen[4] < 4 || memcmp(tok[4], "at=", 3) != 0 ||
		    pct_decode(tok[4] + 3, tlen[4] - 3, ts, sizeof(ts)) != LACRE_OK ||
		    warrant_time_parse(ts, &e->at) != LACRE_OK)
			return LACRE_E_MALFORMED;
	}
	for (i = 5; i < nt - 3; i++) {
		const char *eq = memchr(tok[i], '=', tlen[i]);
		size_t kn;
		char k[EVLOG_KEY_MAX];
		if (eq == NULL)
			return LACRE_E_MALFORMED;
		kn = (size_t)(eq - tok[i]);
		if (!key_ok(tok[i], kn) || e->n == EVLOG_FIELDS_MAX)
			return LACRE_E_MALFORMED;
		memcpy(k, tok[i], kn);
		k[kn] = '\0';
		if (evlog_get(e, k) != NULL || !strcmp(k, "by") || !strcmp(k, "at"))
			return LACRE_E_MALFORMED;
		memcpy(e->f[e->n].key, k, kn + 1);
		if (pct_decode(eq + 1, tlen[i] - kn - 1, e->f[e->n].value,
				     sizeof(e->f[e->n].value)) != LACRE_OK)
			return LACRE_E_MALFORMED;
		e->n++;
	}
	e->seq = seq;
	memcpy(e->hash, h, 32);
	if ((r = l->signer(l->arg, e, pub)) != LACRE_OK)
		return r;
	r = lacre_ed25519_verify(pub, line, (size_t)(tok[nt - 1] - 1 - line), sig);
	if (r != LACRE_OK)
		return r == LACRE_E_AUTH ? LACRE_E_VERIFY : r;
	if ((r = l->apply(l->arg, e)) != LACRE_OK)
		return r;
	memcpy(l->head, h, 32);
	l->events = seq;
	return LACRE_OK;
}

/* Read the whole open file into d (capped by d->max). */
static int read_all(int fd, struct lacre_dbuf *d)
{
	uint8_t tmp[16384];

	for (;;) {
		ssize_t k = read(fd, tmp, sizeof(tmp));
		int r;
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return LACRE_E_IO;
		}
		if (k == 0)
			return LACRE_OK;
		if ((r = lacre_dbuf_add(d, tmp, (size_t)k)) != LACRE_OK)
			return r;
	}
}

/* Replay the locked file of l. */
static int replay(struct evlog *l, const char *path, char *msg, size_t msglen)
{
	struct lacre_dbuf d;
	struct lacre_rbuf rb;
	struct evlog_event *e = NULL;
	uint64_t seq = 0;
	int r;

	lacre_dbuf_init(&d, EVLOG_FILE_MAX);
	if (l->fd >= 0 && (r = read_all(l->fd, &d)) != LACRE_OK) {
		snprintf(msg, msglen, "cannot read %s: %s", path, lacre_strerror(r));
		goto out;
	}
	e = malloc(sizeof(*e));
	if (e == NULL) {
		r = LACRE_E_NOMEM;
		goto out;
	}
	lacre_rbuf_init(&rb, d.p, d.len);
	r = LACRE_OK;
	while (lacre_rbuf_left(&rb) > 0) {
		const uint8_t *line, *nl;
		size_t ln;

		seq++;
		nl = memchr(lacre_rbuf_ptr(&rb), '\n', lacre_rbuf_left(&rb));
		if (nl == NULL) {
			r = LACRE_E_TRUNCATED;
		} else {
			ln = (size_t)(nl - lacre_rbuf_ptr(&rb));
			if (ln > EVLOG_LINE_MAX)
				r = LACRE_E_TOO_LARGE;
			else if (lacre_rbuf_take(&rb, ln, &line) != LACRE_OK ||
				 lacre_rbuf_skip(&rb, 1) != LACRE_OK)
				r = LACRE_E_INTERNAL;
			else
				r = parse_line(l, (const char *)line, ln, seq, e);
		}
		if (r != LACRE_OK) {
			snprintf(msg, msglen, "%s:%" PRIu64 ": event %s", path, seq,
				 r == LACRE_E_VERIFY ? "breaks the hash chain or its signature" :
				 r == LACRE_E_TRUNCATED ? "is incomplete (a writer stopped mid-line)" :
				 r == LACRE_E_MALFORMED ? "is malformed or breaks the log's rules" :
				 lacre_strerror(r));
			if (r == LACRE_E_VERIFY || r == LACRE_E_TRUNCATED || r == LACRE_E_MALFORMED ||
			    r == LACRE_E_AUTH || r == LACRE_E_NOT_FOUND || r == LACRE_E_DENIED)
				r = LACRE_E_CORRUPT;
			break;
		}
	}
out:
	if (e)
		OPENSSL_cleanse(e, sizeof(*e));
	free(e);
	lacre_dbuf_free(&d);
	return r;
}

int evlog_open(const char *path, const char *magic, int writer, evlog_signer_fn signer,
	       evlog_apply_fn apply, void *arg, struct evlog **out, char *msg, size_t msglen)
{
	struct evlog *l;
	int r;

	if (strlen(magic) >= sizeof(l->magic) || signer == NULL || apply == NULL)
		return LACRE_E_INVALID;
	l = calloc(1, sizeof(*l));
	if (l == NULL)
		return LACRE_E_NOMEM;
	snprintf(l->magic, sizeof(l->magic), "%s", magic);
	l->writer = writer;
	l->signer = signer;
	l->apply = apply;
	l->arg = arg;
	l->fd = open(path, writer ? O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC : O_RDONLY | O_CLOEXEC,
		     0644);
	if (l->fd < 0 && !(errno == ENOENT && !writer)) {
		snprintf(msg, msglen, "cannot open %s: %s", path, strerror(errno));
		free(l);
		return LACRE_E_IO;
	}
	while (l->fd >= 0 && flock(l->fd, writer ? LOCK_EX : LOCK_SH) != 0) {
		if (errno != EINTR) {
			snprintf(msg, msglen, "cannot lock %s: %s", path, strerror(errno));
			close(l->fd);
			free(l);
			return LACRE_E_IO;
		}
	}
	if ((r = replay(l, path, msg, msglen)) != LACRE_OK) {
		evlog_close(l);
		return r;
	}
	*out = l;
	return LACRE_OK;
}

int evlog_sign_seed(void *arg, const void *m, size_t n, uint8_t sig[64])
{
	return lacre_ed25519_sign((const uint8_t *)arg, m, n, sig);
}

int evlog_prepare(struct evlog *l, struct evlog_event *ev, evlog_sign_fn sign, void *arg)
{
	struct lacre_dbuf *d = &l->pend;
	char hx[129], ts[WARRANT_TIME_MAX];
	uint8_t h[32], sig[64], pub[32];
	int r;

	if (!l->writer || l->fd < 0 || l->pev != NULL)
		return LACRE_E_STATE;
	if (sign == NULL)
		return LACRE_E_INVALID;
	ev->seq = l->events + 1;
	ev->at = warrant_time_now();
	warrant_time_format(ev->at, ts);
	lacre_dbuf_init(d, EVLOG_LINE_MAX + 1);
	r = lacre_dbuf_printf(d, "%s %" PRIu64 " %s by=", l->magic, ev->seq, ev->type);
	if (r == LACRE_OK)
		r = pct_encode(d, ev->by);
	if (r == LACRE_OK)
		r = lacre_dbuf_add_str(d, " at=");
	if (r == LACRE_OK)
		r = pct_encode(d, ts);
	for (size_t i = 0; r == LACRE_OK && i < ev->n; i++) {
		r = lacre_dbuf_printf(d, " %s=", ev->f[i].key);
		if (r == LACRE_OK)
			r = pct_encode(d, ev->f[i].value);
	}
	lacre_hex(l->head, 32, hx);
	if (r == LACRE_OK)
		r = lacre_dbuf_printf(d, " prev=%s", hx);
	if (r == LACRE_OK && EVP_Digest(d->p, d->len, h, NULL, EVP_sha256(), NULL) != 1)
		r = LACRE_E_CRYPTO;
	if (r == LACRE_OK) {
		lacre_hex(h, 32, hx);
		r = lacre_dbuf_printf(d, " hash=%s", hx);
	}
	if (r == LACRE_OK)
		r = sign(arg, d->p, d->len, sig);
	/* a line whose signature the log's own rule would refuse is never
	 * written: it would make the whole file unreadable */
	if (r == LACRE_OK) {
		memcpy(ev->hash, h, 32);
		r = l->signer(l->arg, ev, pub);
	}
	if (r == LACRE_OK && lacre_ed25519_verify(pub, d->p, d->len, sig) != LACRE_OK)
		r = LACRE_E_AUTH;
	if (r == LACRE_OK) {
		lacre_hex(sig, 64, hx);
		r = lacre_dbuf_printf(d, " sig=%s\n", hx);
	}
	if (r == LACRE_OK && d->len > EVLOG_LINE_MAX)
		r = LACRE_E_TOO_LARGE;
	if (r != LACRE_OK) {
		lacre_dbuf_free(d);
		return r;
	}
	l->pev = ev;
	return LACRE_OK;
}

int evlog_commit(struct evlog *l)
{
	struct lacre_dbuf *d = &l->pend;
	struct evlog_event *ev = l->pev;
	size_t off = 0;
	int r = LACRE_OK;

	if (ev == NULL)
		return LACRE_E_STATE;
	while (off < d->len) {
		ssize_t k = write(l->fd, d->p + off, d->len - off);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			r = LACRE_E_IO;
			break;
		}
		off += (size_t)k;
	}
	if (r == LACRE_OK && fsync(l->fd) != 0)
		r = LACRE_E_IO;
	lacre_dbuf_free(d);
	l->pev = NULL;
	if (r != LACRE_OK)
		return r;
	memcpy(l->head, ev->hash, 32);
	l->events = ev->seq;
	return l->apply(l->arg, ev) == LACRE_OK ? LACRE_OK : LACRE_E_INTERNAL;
}

int evlog_append(struct evlog *l, struct evlog_event *ev, evlog_sign_fn sign, void *arg)
{
	int r = evlog_prepare(l, ev, sign, arg);

	return r == LACRE_OK ? evlog_commit(l) : r;
}

uint64_t evlog_events(const struct evlog *l)
{
	return l->events;
}

void evlog_head(const struct evlog *l, uint8_t head[32])
{
	memcpy(head, l->head, 32);
}

void evlog_close(struct evlog *l)
{
	if (l == NULL)
		return;
	if (l->pev != NULL)
		lacre_dbuf_free(&l->pend);       /* prepared, never written */
	if (l->fd >= 0)
		close(l->fd);
	free(l);
}

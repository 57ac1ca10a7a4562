/*
 * warrant.c - the warrant registry: the state of every warrant, derived by
 * replaying the warrant log (DIR/warrants.log), its lookup and reload, and
 * the routing of records by LIID, time and category.  See lacre/warrant.h;
 * the byte format is docs/FORMATS.md §4.  The access-side writers (add,
 * extend, confirm, cease) are in warrant_log.c, the times in
 * warrant_time.c; what they share is in warrant_int.h.  Nothing here needs
 * a secret: the ingest domain loads and routes with the public key alone.
 *
 * The log is untrusted input (it sits on the site's disk and a writer may
 * have crashed): it is read through the checked buffer, every line's hash
 * chain is verified, values are percent-decoded strictly and every event
 * must name exactly the fields of its type.  Writers hold flock(LOCK_EX)
 * on the log while they read, check and append one line; readers hold
 * LOCK_SH, so a reader never sees half a line.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "lacre/age.h"
#include "lacre/buf.h"
#include "lacre/err.h"
#include "lacre/hex.h"
#include "lacre/site.h"
#include "lacre/pct.h"
#include "lacre/warrant.h"
#include "site/warrant_int.h"

#define MAX_PAIRS 24

/* Why the last load in this thread failed (warrant_registry_error()). */
static _Thread_local char last_error[SITE_PATH_MAX + 128];

const char *warrant_registry_error(void)
{
	return last_error;
}

/* ------------------------------------------------------------- categories */

static const struct { const char *name; unsigned bit; } cat_names[] = {
	{ "content", WARRANT_CAT_CONTENT },
	{ "iri", WARRANT_CAT_IRI },
	{ "location", WARRANT_CAT_LOCATION },
};

int warrant_categories_parse(const char *s, unsigned *cats)
{
	unsigned c = 0;
	const char *p = s;

	if (s == NULL || cats == NULL)
		return LACRE_E_INVALID;
	while (*p) {
		size_t n = strcspn(p, ",");
		size_t i;
		for (i = 0; i < sizeof(cat_names) / sizeof(cat_names[0]); i++)
			if (strlen(cat_names[i].name) == n && strncmp(p, cat_names[i].name, n) == 0)
				break;
		if (i == sizeof(cat_names) / sizeof(cat_names[0]) || (c & cat_names[i].bit))
			return LACRE_E_MALFORMED;
		c |= cat_names[i].bit;
		p += n;
		if (*p == ',' && *++p == '\0')
			return LACRE_E_MALFORMED;
	}
	if (c == 0)
		return LACRE_E_MALFORMED;
	*cats = c;
	return LACRE_OK;
}

void warrant_categories_format(unsigned cats, char *out, size_t outlen)
{
	size_t used = 0;

	if (outlen == 0)
		return;
	out[0] = '\0';
	for (size_t i = 0; i < sizeof(cat_names) / sizeof(cat_names[0]); i++)
		if (cats & cat_names[i].bit) {
			int k = snprintf(out + used, outlen - used, "%s%s", used ? "," : "",
					 cat_names[i].name);
			if (k < 0 || (size_t)k >= outlen - used)
				return;
			used += (size_t)k;
		}
}

/* ------------------------------------------------------------ validation */

/* LIID: 1..WARRANT_LIID_MAX printable ASCII bytes, no space or comma. */
int warrant_liid_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > WARRANT_LIID_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f || s[i] == ',')
			return 0;
	return 1;
}

/* Warrant id: "W-" and six or more digits. */
static int id_ok(const char *s)
{
	size_t n = strlen(s);

	if (n < 3 || n >= WARRANT_ID_MAX || s[0] != 'W' || s[1] != '-')
		return 0;
	for (size_t i = 2; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

/* --------------------------------------------------------- event parsing */

struct pair {
	const char *k;
	size_t kn;
	const char *v;
	size_t vn;
	int used;
};

struct event {
	struct pair p[MAX_PAIRS];
	size_t n;
};

/* The value of key k (marking it used), or NULL. */
static struct pair *ev_get(struct event *e, const char *k)
{
	for (size_t i = 0; i < e->n; i++)
		if (e->p[i].kn == strlen(k) && memcmp(e->p[i].k, k, e->p[i].kn) == 0) {
			if (e->p[i].used)
				return NULL;
			e->p[i].used = 1;
			return &e->p[i];
		}
	return NULL;
}

/* Decode text field k into out. */
static int ev_text(struct event *e, const char *k, char *out, size_t cap)
{
	struct pair *p = ev_get(e, k);

	if (p == NULL)
		return LACRE_E_MALFORMED;
	return pct_decode(p->v, p->vn, out, cap);
}

/* Decode time field k. */
static int ev_time(struct event *e, const char *k, int64_t *t)
{
	char s[WARRANT_TIME_MAX];

	if (ev_text(e, k, s, sizeof(s)) != LACRE_OK)
		return LACRE_E_MALFORMED;
	return warrant_time_parse(s, t);
}

/* Decode list field k (comma-separated, each element percent-encoded) into
 * rows of out (max rows of cap bytes), setting *n. */
static int ev_list(struct event *e, const char *k, char *out, size_t rows, size_t cap, size_t *n)
{
	struct pair *p = ev_get(e, k);
	size_t cnt = 0, i = 0;

	if (p == NULL || p->vn == 0)
		return LACRE_E_MALFORMED;
	while (i <= p->vn) {
		const char *c = memchr(p->v + i, ',', p->vn - i);
		size_t len = c ? (size_t)(c - (p->v + i)) : p->vn - i;
		if (cnt == rows || len == 0)
			return LACRE_E_MALFORMED;
		if (pct_decode(p->v + i, len, out + cnt * cap, cap) != LACRE_OK)
			return LACRE_E_MALFORMED;
		cnt++;
		i += len + 1;
	}
	*n = cnt;
	return LACRE_OK;
}

/* Whether the event has key k (used or not). */
static int ev_has(const struct event *e, const char *k)
{
	for (size_t i = 0; i < e->n; i++)
		if (e->p[i].kn == strlen(k) && memcmp(e->p[i].k, k, e->p[i].kn) == 0)
			return 1;
	return 0;
}

/* Parse the fields of an "add" event into w. */
static int parse_add(struct event *e, struct warrant *w)
{
	char cats[64], em[4];
	struct warrant_period *p0 = &w->periods[0];

	if (ev_text(e, "case", w->case_id, sizeof(w->case_id)) ||
	    ev_text(e, "unit", w->unit, sizeof(w->unit)) ||
	    ev_text(e, "court", w->court, sizeof(w->court)) ||
	    ev_text(e, "authority", w->authority, sizeof(w->authority)) ||
	    ev_text(e, "order", p0->order_id, sizeof(p0->order_id)) ||
	    ev_time(e, "order_date", &p0->order_date) || ev_time(e, "from", &p0->from) ||
	    ev_time(e, "to", &p0->to) || ev_text(e, "categories", cats, sizeof(cats)) ||
	    warrant_categories_parse(cats, &w->categories) ||
	    ev_list(e, "targets", &w->targets[0][0], WARRANT_MAX_TARGETS, WARRANT_TEXT_MAX,
		    &w->n_targets) ||
	    ev_list(e, "liids", &w->liids[0][0], WARRANT_MAX_LIIDS, WARRANT_LIID_MAX + 1,
		    &w->n_liids) ||
	    ev_text(e, "emergency", em, sizeof(em)) ||
	    ev_text(e, "recipient", w->recipient, sizeof(w->recipient)))
		return LACRE_E_MALFORMED;
	if (strcmp(em, "0") != 0 && strcmp(em, "1") != 0)
		return LACRE_E_MALFORMED;
	w->emergency = em[0] == '1';
	w->n_periods = 1;
	/* optional (FORMATS §4.5): lines written before operators had none */
	if (ev_has(e, "operators")) {
		if (ev_list(e, "operators", &w->operators[0][0], WARRANT_MAX_OPERATORS,
			    SITE_OPERATOR_NAME_MAX, &w->n_operators) != LACRE_OK)
			return LACRE_E_MALFORMED;
		for (size_t i = 0; i < w->n_operators; i++) {
			if (!site_operator_name_ok(w->operators[i]))
				return LACRE_E_MALFORMED;
			for (size_t j = 0; j < i; j++)
				if (strcmp(w->operators[i], w->operators[j]) == 0)
					return LACRE_E_MALFORMED;
		}
	}
	for (size_t i = 0; i < w->n_liids; i++)
		if (!warrant_liid_ok(w->liids[i]))
			return LACRE_E_MALFORMED;
	if (age_recipient_parse(w->recipient, w->recipient_pub) != LACRE_OK)
		return LACRE_E_MALFORMED;
	return LACRE_OK;
}

/* Find warrant id in reg (index) or -1. */
static long reg_index(const struct warrant_registry *reg, const char *id)
{
	for (size_t i = 0; i < reg->n; i++)
		if (strcmp(reg->w[i].id, id) == 0)
			return (long)i;
	return -1;
}

/* Apply one parsed event of type 'type' to reg. */
static int apply_event(struct warrant_registry *reg, const char *type, size_t tn,
		       struct event *e)
{
	char id[WARRANT_ID_MAX];
	int64_t at;
	struct warrant *w;
	long wi;

	if (ev_text(e, "id", id, sizeof(id)) != LACRE_OK || !id_ok(id) ||
	    ev_time(e, "at", &at) != LACRE_OK)
		return LACRE_E_MALFORMED;
	wi = reg_index(reg, id);
	if (tn == 3 && memcmp(type, "add", 3) == 0) {
		if (wi >= 0)
			return LACRE_E_MALFORMED;
		if (reg->n == reg->cap) {
			size_t nc = reg->cap ? reg->cap * 2 : 16;
			struct warrant *nw = realloc(reg->w, nc * sizeof(*nw));
			if (nw == NULL)
				return LACRE_E_NOMEM;
			reg->w = nw;
			reg->cap = nc;
		}
		w = &reg->w[reg->n];
		memset(w, 0, sizeof(*w));
		memcpy(w->id, id, sizeof(id));
		w->created = at;
		if (parse_add(e, w) != LACRE_OK)
			return LACRE_E_MALFORMED;
		reg->n++;
		return LACRE_OK;
	}
	if (wi < 0)
		return LACRE_E_MALFORMED;
	w = &reg->w[wi];
	if (tn == 6 && memcmp(type, "extend", 6) == 0) {
		struct warrant_period *p;
		if (w->n_periods == WARRANT_MAX_PERIODS)
			return LACRE_E_TOO_LARGE;
		p = &w->periods[w->n_periods];
		memset(p, 0, sizeof(*p));
		if (ev_text(e, "order", p->order_id, sizeof(p->order_id)) ||
		    ev_time(e, "order_date", &p->order_date) || ev_time(e, "from", &p->from) ||
		    ev_time(e, "to", &p->to))
			return LACRE_E_MALFORMED;
		w->n_periods++;
		return LACRE_OK;
	}
	if (tn == 7 && memcmp(type, "confirm", 7) == 0) {
		if (!w->emergency || w->confirmed ||
		    ev_text(e, "order", w->confirm_order, sizeof(w->confirm_order)) ||
		    ev_time(e, "order_date", &w->confirm_date))
			return LACRE_E_MALFORMED;
		w->confirmed = 1;
		return LACRE_OK;
	}
	if (tn == 5 && memcmp(type, "cease", 5) == 0) {
		if (w->ceased || ev_text(e, "order", w->cease_order, sizeof(w->cease_order)) ||
		    ev_time(e, "order_date", &w->cease_date) || ev_time(e, "effective", &w->ceased_at))
			return LACRE_E_MALFORMED;
		w->ceased = 1;
		return LACRE_OK;
	}
	return LACRE_E_MALFORMED;
}

/* Lower-case hex of 32 bytes. */
void warrant_hex32(const uint8_t h[32], char out[65])
{
	static const char hx[] = "0123456789abcdef";

	for (int i = 0; i < 32; i++) {
		out[2 * i] = hx[h[i] >> 4];
		out[2 * i + 1] = hx[h[i] & 15];
	}
	out[64] = '\0';
}

/* SHA-256 of p[0..n). */
int warrant_sha256(const void *p, size_t n, uint8_t out[32])
{
	return EVP_Digest(p, n, out, NULL, EVP_sha256(), NULL) == 1 ? LACRE_OK : LACRE_E_CRYPTO;
}

/* Verify an Ed25519 signature with key k: LACRE_OK or LACRE_E_AUTH. */
static int ed_verify(EVP_PKEY *k, const void *m, size_t n, const uint8_t sig[64])
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	int r = LACRE_E_CRYPTO;

	if (c != NULL && EVP_DigestVerifyInit(c, NULL, NULL, NULL, k) == 1)
		r = EVP_DigestVerify(c, sig, 64, m, n) == 1 ? LACRE_OK : LACRE_E_AUTH;
	EVP_MD_CTX_free(c);
	return r;
}

int warrant_signer_parse(const char *hex, uint8_t pub[32])
{
	uint8_t tmp[32];

	if (hex == NULL || lacre_unhex(hex, strlen(hex), tmp, 32) != LACRE_OK)
		return LACRE_E_MALFORMED;
	memcpy(pub, tmp, 32);
	return LACRE_OK;
}

/* Parse and verify one log line (without its newline) as event number seq
 * chained to reg->head, then apply it. */
static int parse_line(struct warrant_registry *reg, const char *line, size_t n, uint64_t seq,
		      int verify)
{
	struct event e;
	const char *tok[MAX_PAIRS + 4], *hashp, *sigp;
	size_t tlen[MAX_PAIRS + 4], nt = 0, i = 0;
	uint8_t sig[64];
	char seqs[24], hx[65];
	uint8_t h[32];
	int r;

	memset(&e, 0, sizeof(e));
	while (i < n) {
		const char *sp = memchr(line + i, ' ', n - i);
		size_t len = sp ? (size_t)(sp - (line + i)) : n - i;
		if (len == 0 || nt == MAX_PAIRS + 4)
			return LACRE_E_MALFORMED;
		tok[nt] = line + i;
		tlen[nt++] = len;
		i += len + 1;
		if (sp && i == n)
			return LACRE_E_MALFORMED; /* trailing space */
	}
	if (nt < 6 || tlen[0] != strlen(LOG_MAGIC) || memcmp(tok[0], LOG_MAGIC, tlen[0]) != 0)
		return LACRE_E_MALFORMED;
	snprintf(seqs, sizeof(seqs), "%" PRIu64, seq);
	if (tlen[1] != strlen(seqs) || memcmp(tok[1], seqs, tlen[1]) != 0)
		return LACRE_E_MALFORMED;
	/* the last three tokens are prev=, hash= and sig= */
	warrant_hex32(reg->head, hx);
	if (tlen[nt - 3] != 5 + 64 || memcmp(tok[nt - 3], "prev=", 5) != 0 ||
	    memcmp(tok[nt - 3] + 5, hx, 64) != 0)
		return LACRE_E_VERIFY;
	hashp = tok[nt - 2];
	if (tlen[nt - 2] != 5 + 64 || memcmp(hashp, "hash=", 5) != 0)
		return LACRE_E_MALFORMED;
	r = warrant_sha256(line, (size_t)(hashp - 1 - line), h);
	if (r != LACRE_OK)
		return r;
	warrant_hex32(h, hx);
	if (memcmp(hashp + 5, hx, 64) != 0)
		return LACRE_E_VERIFY;
	sigp = tok[nt - 1];
	if (tlen[nt - 1] != 4 + 128 || memcmp(sigp, "sig=", 4) != 0 ||
	    lacre_unhex(sigp + 4, 128, sig, 64) != LACRE_OK)
		return LACRE_E_MALFORMED;
	if (verify && reg->pkey != NULL) {
		r = ed_verify(reg->pkey, line, (size_t)(sigp - 1 - line), sig);
		if (r != LACRE_OK)
			return r == LACRE_E_AUTH ? LACRE_E_VERIFY : r;
	}
	for (i = 3; i < nt - 3; i++) {
		const char *eq = memchr(tok[i], '=', tlen[i]);
		if (eq == NULL || eq == tok[i])
			return LACRE_E_MALFORMED;
		e.p[e.n].k = tok[i];
		e.p[e.n].kn = (size_t)(eq - tok[i]);
		e.p[e.n].v = eq + 1;
		e.p[e.n].vn = tlen[i] - e.p[e.n].kn - 1;
		e.n++;
	}
	r = apply_event(reg, tok[2], tlen[2], &e);
	if (r != LACRE_OK)
		return r;
	for (i = 0; i < e.n; i++)
		if (!e.p[i].used)
			return LACRE_E_MALFORMED; /* unknown or repeated field */
	memcpy(reg->head, h, 32);
	reg->events = seq;
	return LACRE_OK;
}

/* Order LIID index entries by (length, bytes). */
static int liid_cmp(const void *a, const void *b)
{
	const struct liid_ent *x = a, *y = b;

	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return memcmp(x->liid, y->liid, x->len);
}

/* Build the sorted LIID index of reg. */
static int build_index(struct warrant_registry *reg)
{
	size_t total = 0, k = 0;
	struct liid_ent *idx;

	for (size_t i = 0; i < reg->n; i++)
		total += reg->w[i].n_liids;
	idx = calloc(total ? total : 1, sizeof(*idx));
	if (idx == NULL)
		return LACRE_E_NOMEM;
	for (size_t i = 0; i < reg->n; i++)
		for (size_t j = 0; j < reg->w[i].n_liids; j++) {
			idx[k].liid = reg->w[i].liids[j];
			idx[k].len = strlen(reg->w[i].liids[j]);
			idx[k].widx = i;
			k++;
		}
	qsort(idx, total, sizeof(*idx), liid_cmp);
	free(reg->idx);
	reg->idx = idx;
	reg->nidx = total;
	return LACRE_OK;
}

/* Parse a whole log text into reg (fresh). errline receives the failing line. */
static int parse_log(struct warrant_registry *reg, const uint8_t *text, size_t n,
		     uint64_t *errline)
{
	struct lacre_rbuf rb;
	uint64_t seq = 0;
	int r;

	lacre_rbuf_init(&rb, text, n);
	while (lacre_rbuf_left(&rb) > 0) {
		const uint8_t *line, *nl;
		size_t left = lacre_rbuf_left(&rb), ln;

		seq++;
		*errline = seq;
		nl = memchr(lacre_rbuf_ptr(&rb), '\n', left);
		if (nl == NULL)
			return LACRE_E_TRUNCATED; /* a writer died mid-line */
		ln = (size_t)(nl - lacre_rbuf_ptr(&rb));
		if (ln > LOG_LINE_MAX)
			return LACRE_E_TOO_LARGE;
		if (lacre_rbuf_take(&rb, ln, &line) != LACRE_OK || lacre_rbuf_skip(&rb, 1) != LACRE_OK)
			return LACRE_E_INTERNAL;
		r = parse_line(reg, (const char *)line, ln, seq,
			       (size_t)(lacre_rbuf_ptr(&rb) - text) > reg->skip_until);
		if (r != LACRE_OK)
			return r;
	}
	return build_index(reg);
}

/* Read the whole of fd (capped) into d. */
static int read_all(int fd, struct lacre_dbuf *d)
{
	uint8_t tmp[65536];
	ssize_t k;
	int r;

	for (;;) {
		k = read(fd, tmp, sizeof(tmp));
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return LACRE_E_IO;
		}
		if (k == 0)
			return LACRE_OK;
		r = lacre_dbuf_add(d, tmp, (size_t)k);
		if (r != LACRE_OK)
			return r;
	}
}

/* Load the registry from the open, locked log fd.  pub (may be NULL) is
 * the signer's key; prev (may be NULL) a registry loaded earlier from the
 * same path with the same key: lines whose bytes it already verified are
 * not verified again (a reload after an append checks only the new
 * lines; the SHA-256 of the old prefix proves it is unchanged). */
int warrant_load_fd(int fd, const char *path, const uint8_t *pub,
		    const struct warrant_registry *prev, struct warrant_registry **out)
{
	struct warrant_registry *reg;
	struct lacre_dbuf d;
	struct stat st;
	uint64_t errline = 0;
	uint8_t h[32];
	int r;

	lacre_dbuf_init(&d, WARRANT_LOG_MAX);
	reg = calloc(1, sizeof(*reg));
	if (reg == NULL)
		return LACRE_E_NOMEM;
	snprintf(reg->path, sizeof(reg->path), "%s", path);
	last_error[0] = '\0';
	if (pub != NULL) {
		reg->have_pub = 1;
		memcpy(reg->pub, pub, 32);
		reg->pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, 32);
		if (reg->pkey == NULL) {
			r = LACRE_E_CRYPTO;
			goto fail;
		}
	}
	if (fd >= 0) {
		if (fstat(fd, &st) != 0) {
			r = LACRE_E_IO;
			goto fail;
		}
		reg->have_stat = 1;
		reg->dev = st.st_dev;
		reg->ino = st.st_ino;
		reg->size = st.st_size;
		reg->mtim = st.st_mtim;
		r = read_all(fd, &d);
		if (r != LACRE_OK)
			goto fail;
	}
	if (prev != NULL && pub != NULL && prev->have_pub && memcmp(prev->pub, pub, 32) == 0 &&
	    prev->verified_len > 0 && prev->verified_len <= d.len &&
	    warrant_sha256(d.p, prev->verified_len, h) == LACRE_OK &&
	    CRYPTO_memcmp(h, prev->verified_digest, 32) == 0)
		reg->skip_until = prev->verified_len;
	r = parse_log(reg, d.p, d.len, &errline);
	if (r == LACRE_OK)
		r = warrant_sha256(d.p, d.len, reg->verified_digest);
	if (r != LACRE_OK) {
		snprintf(last_error, sizeof(last_error), "%s:%" PRIu64 ": warrant log event %s", path,
			 errline, r == LACRE_E_VERIFY ? "breaks the hash chain or its signature" :
			 r == LACRE_E_TRUNCATED ? "is incomplete (a writer stopped mid-line)" :
			 r == LACRE_E_MALFORMED ? "is malformed" : lacre_strerror(r));
		if (r == LACRE_E_MALFORMED || r == LACRE_E_VERIFY || r == LACRE_E_TRUNCATED)
			r = LACRE_E_CORRUPT;
		goto fail;
	}
	reg->verified_len = d.len;
	reg->skip_until = 0;
	EVP_PKEY_free(reg->pkey);
	reg->pkey = NULL;
	lacre_dbuf_free(&d);
	*out = reg;
	return LACRE_OK;
fail:
	lacre_dbuf_free(&d);
	warrant_registry_free(reg);
	return r;
}

/* Open the log at path and take a lock (LOCK_SH or LOCK_EX); *fd = -1 when
 * it does not exist and create is 0. */
int warrant_open_locked(const char *path, int op, int create, int *fd)
{
	int f = open(path, (op == LOCK_EX ? O_RDWR | O_APPEND : O_RDONLY) |
			   (create ? O_CREAT : 0) | O_CLOEXEC, 0644);

	if (f < 0) {
		if (errno == ENOENT && !create) {
			*fd = -1;
			return LACRE_OK;
		}
		return LACRE_E_IO;
	}
	while (flock(f, op) != 0) {
		if (errno != EINTR) {
			close(f);
			return LACRE_E_IO;
		}
	}
	*fd = f;
	return LACRE_OK;
}

/* Open, lock (shared) and load path; prev as for warrant_load_fd. */
static int load_path(const char *path, const uint8_t *signer,
		     const struct warrant_registry *prev, struct warrant_registry **reg)
{
	int fd, r;

	r = warrant_open_locked(path, LOCK_SH, 0, &fd);
	if (r != LACRE_OK) {
		snprintf(last_error, sizeof(last_error), "%s: %s", path, strerror(errno));
		return r;
	}
	r = warrant_load_fd(fd, path, signer, prev, reg);
	if (fd >= 0)
		close(fd);
	return r;
}

int warrant_registry_load_path(const char *path, const uint8_t *signer,
			       struct warrant_registry **reg)
{
	if (path == NULL || reg == NULL)
		return LACRE_E_INVALID;
	return load_path(path, signer, NULL, reg);
}

/* The site's warrant-log signer public key (warrants.signer). */
int warrant_site_signer(const struct site *s, uint8_t pub[32])
{
	if (warrant_signer_parse(s->cfg.warrants_signer, pub) != LACRE_OK) {
		snprintf(last_error, sizeof(last_error),
			 "warrants.signer in %s/%s is not set or not 64 hex digits", s->dir, SITE_CONF);
		return LACRE_E_CONFIG;
	}
	return LACRE_OK;
}

int warrant_registry_load(const struct site *s, struct warrant_registry **reg)
{
	char path[SITE_PATH_MAX];
	uint8_t pub[32];
	int r;

	if (s == NULL || reg == NULL)
		return LACRE_E_INVALID;
	r = warrant_site_signer(s, pub);
	if (r == LACRE_OK)
		r = site_path(s, SITE_WARRANTS, path, sizeof(path));
	if (r != LACRE_OK)
		return r;
	return warrant_registry_load_path(path, pub, reg);
}

int warrant_registry_reload_if_changed(struct warrant_registry *reg, int *changed)
{
	struct warrant_registry *fresh, tmp;
	struct stat st;
	int exists, r;

	if (reg == NULL)
		return LACRE_E_INVALID;
	exists = stat(reg->path, &st) == 0;
	if (!exists && errno != ENOENT)
		return LACRE_E_IO;
	if (exists == reg->have_stat &&
	    (!exists || (st.st_dev == reg->dev && st.st_ino == reg->ino && st.st_size == reg->size &&
			 st.st_mtim.tv_sec == reg->mtim.tv_sec &&
			 st.st_mtim.tv_nsec == reg->mtim.tv_nsec))) {
		if (changed)
			*changed = 0;
		return LACRE_OK;
	}
	r = load_path(reg->path, reg->have_pub ? reg->pub : NULL, reg, &fresh);
	if (r != LACRE_OK)
		return r;
	tmp = *reg;
	*reg = *fresh;
	*fresh = tmp;
	warrant_registry_free(fresh);
	if (changed)
		*changed = 1;
	return LACRE_OK;
}

void warrant_registry_free(struct warrant_registry *reg)
{
	if (reg == NULL)
		return;
	EVP_PKEY_free(reg->pkey);
	free(reg->w);
	free(reg->idx);
	free(reg);
}

size_t warrant_registry_count(const struct warrant_registry *reg)
{
	return reg ? reg->n : 0;
}

const struct warrant *warrant_registry_at(const struct warrant_registry *reg, size_t i)
{
	return reg && i < reg->n ? &reg->w[i] : NULL;
}

const struct warrant *warrant_registry_find(const struct warrant_registry *reg, const char *id)
{
	long i;

	if (reg == NULL || id == NULL)
		return NULL;
	i = reg_index(reg, id);
	return i >= 0 ? &reg->w[i] : NULL;
}

uint64_t warrant_registry_events(const struct warrant_registry *reg)
{
	return reg ? reg->events : 0;
}

void warrant_registry_head(const struct warrant_registry *reg, uint8_t head[32])
{
	memcpy(head, reg->head, 32);
}

/* ---------------------------------------------------------------- routing */

int warrant_active_at(const struct warrant *w, int64_t t)
{
	if (w->ceased && t >= w->ceased_at)
		return 0;
	if (w->emergency && !w->confirmed && t >= w->periods[0].order_date + WARRANT_EMERGENCY_US)
		return 0;
	for (size_t i = 0; i < w->n_periods; i++)
		if (t >= w->periods[i].from && t < w->periods[i].to)
			return 1;
	return 0;
}

/* Rank of a quarantine reason when several warrants share a LIID: the most
 * specific wins. */
static int reason_rank(const char *r)
{
	if (strcmp(r, WARRANT_Q_CATEGORY) == 0)
		return 5;
	if (strcmp(r, WARRANT_Q_CEASED) == 0)
		return 4;
	if (strcmp(r, WARRANT_Q_EMERGENCY) == 0)
		return 3;
	if (strcmp(r, WARRANT_Q_AFTER_END) == 0)
		return 2;
	return 1;
}

/* Quarantine reason of warrant w for time t and categories cat (all of
 * them must be authorised), or NULL
 * with *end = the end of the authority covering t. */
static const char *judge(const struct warrant *w, int64_t t, unsigned cat, int64_t *end)
{
	int64_t deadline = w->periods[0].order_date + WARRANT_EMERGENCY_US;

	if (w->ceased && t >= w->ceased_at)
		return WARRANT_Q_CEASED;
	if (w->emergency && !w->confirmed && t >= deadline)
		return WARRANT_Q_EMERGENCY;
	for (size_t i = 0; i < w->n_periods; i++)
		if (t >= w->periods[i].from && t < w->periods[i].to) {
			if (cat & ~w->categories)
				return WARRANT_Q_CATEGORY; /* every category needed */
			*end = w->periods[i].to;
			if (w->ceased && w->ceased_at < *end)
				*end = w->ceased_at;
			if (w->emergency && !w->confirmed && deadline < *end)
				*end = deadline;
			return NULL;
		}
	return t < w->periods[0].from ? WARRANT_Q_BEFORE_START : WARRANT_Q_AFTER_END;
}

/* Narrow [*lo, *hi) to the times around t at which none of w's rule
 * edges falls: judge() gives every time of that span the answer it gives
 * t (its period starts and ends, cessation, the emergency deadline). */
static void span_cut(const struct warrant *w, int64_t t, int64_t *lo, int64_t *hi)
{
	int64_t edge[2 * WARRANT_MAX_PERIODS + 2];
	size_t n = 0;

	for (size_t i = 0; i < w->n_periods; i++) {
		edge[n++] = w->periods[i].from;
		edge[n++] = w->periods[i].to;
	}
	if (w->ceased)
		edge[n++] = w->ceased_at;
	if (w->emergency && !w->confirmed)
		edge[n++] = w->periods[0].order_date + WARRANT_EMERGENCY_US;
	for (size_t i = 0; i < n; i++) {
		if (edge[i] <= t && edge[i] > *lo)
			*lo = edge[i];
		if (edge[i] > t && edge[i] < *hi)
			*hi = edge[i];
	}
}

int warrant_route_span(const struct warrant_registry *reg, const uint8_t *liid, size_t liid_len,
		       int64_t time_us, unsigned category, struct warrant_match *m,
		       const char **reason, int64_t *span_lo, int64_t *span_hi)
{
	struct liid_ent key = { (const char *)liid, liid_len, 0 };
	size_t lo = 0, hi, i;
	const char *best = NULL;
	int64_t slo = INT64_MIN, shi = INT64_MAX;

	if (reg == NULL || (liid == NULL && liid_len) || m == NULL || reason == NULL ||
	    span_lo == NULL || span_hi == NULL || category == 0 ||
	    (category & ~(unsigned)(WARRANT_CAT_CONTENT | WARRANT_CAT_IRI | WARRANT_CAT_LOCATION)))
		return LACRE_E_INVALID;
	hi = reg->nidx;
	while (lo < hi) { /* first entry >= key */
		size_t mid = lo + (hi - lo) / 2;
		if (liid_cmp(&reg->idx[mid], &key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* every warrant looked at decides the answer: the span is where
	 * none of theirs changes */
	for (i = lo; i < reg->nidx && liid_cmp(&reg->idx[i], &key) == 0; i++) {
		const struct warrant *w = &reg->w[reg->idx[i].widx];
		int64_t end = 0;
		const char *why = judge(w, time_us, category, &end);
		span_cut(w, time_us, &slo, &shi);
		if (why == NULL) {
			memset(m, 0, sizeof(*m));
			memcpy(m->id, w->id, sizeof(m->id));
			memcpy(m->recipient, w->recipient_pub, 32);
			memcpy(m->recipient_str, w->recipient, sizeof(m->recipient_str));
			m->categories = w->categories;
			m->period_end = end;
			m->n_operators = w->n_operators;
			memcpy(m->operators, w->operators, sizeof(m->operators));
			*reason = NULL;
			*span_lo = slo;
			*span_hi = shi;
			return LACRE_OK;
		}
		if (best == NULL || reason_rank(why) > reason_rank(best))
			best = why;
	}
	*reason = best ? best : WARRANT_Q_UNKNOWN_LIID;
	*span_lo = slo;
	*span_hi = shi;
	return LACRE_OK;
}

int warrant_route(const struct warrant_registry *reg, const uint8_t *liid, size_t liid_len,
		  int64_t time_us, unsigned category, struct warrant_match *m,
		  const char **reason)
{
	int64_t lo, hi;

	return warrant_route_span(reg, liid, liid_len, time_us, category, m, reason, &lo, &hi);
}

int warrant_match_operator_ok(const struct warrant_match *m, const char *operator_name)
{
	if (m == NULL)
		return 0;
	if (m->n_operators == 0)
		return 1;                 /* names none: any connection (docs/cmd-warrant.md) */
	if (operator_name == NULL || operator_name[0] == '\0')
		return 0;
	for (size_t i = 0; i < m->n_operators && i < WARRANT_MAX_OPERATORS; i++)
		if (strcmp(m->operators[i], operator_name) == 0)
			return 1;
	return 0;
}

int warrant_route_operator(const struct warrant_registry *reg, const uint8_t *liid,
			   size_t liid_len, int64_t time_us, unsigned category,
			   const char *operator_name, struct warrant_match *m, const char **reason)
{
	int r = warrant_route(reg, liid, liid_len, time_us, category, m, reason);

	if (r == LACRE_OK && *reason == NULL && !warrant_match_operator_ok(m, operator_name))
		*reason = WARRANT_Q_OPERATOR;   /* m stays filled: the alert names it */
	return r;
}

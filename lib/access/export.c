/*
 * export.c - evidence packages for the court (include/lacre/export.h,
 * docs/FORMATS.md §9, docs/cmd-export.md).
 *
 * One pass over the warrant's sealed records (access_read verifies every
 * chunk before a record leaves it).  Each record gets a number n in export
 * order; an included record becomes three members (records/<n>.pdu, .frame,
 * .tlog-proof) and one JSON line; an excluded one (party copy, 588 ter i)
 * only its receipt (excluded/<n>.tlog-proof) and a line in exclusions.txt
 * with its commitment and leaf index, never its content.  The package is
 * written straight into an age stream to the court's recipient; the
 * manifest lists every member with its SHA-256 and is signed (as a C2SP
 * signed note over its hash) by the site's export key.
 *
 * A site with several receivers has an ingest log each; the receipts come
 * from the logs index over all of them (receipts.h), each record's from
 * the log that names its segment.  The package names the logs it uses:
 * one, exactly as before; two or more, a log/log-size pair and checkpoint
 * member each, an ingest.vkey line each and the log's number on every
 * record and event line (ex_logs_plan, ex_lines_logged, ex_log_members).
 *
 * A record whose commitment is in no checkpoint the receipts can prove
 * against (the ingest log does not name it: its leaf was lost or its
 * segment reached the backend without its entry; or ingest has not
 * published it yet) cannot be proved, so it is not part of the package's
 * evidence: it gets no export number, no content and no rendering, and is
 * named instead - one line in unlogged.txt (segment, index, commitment,
 * stream, sequence number, time) and an `absent unlogged` manifest line
 * per segment saying why.  The export never waits for a publication that
 * may never come.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <stdarg.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "lacre/access.h"
#include "lacre/accesslog.h"
#include "lacre/audio.h"
#include "lacre/calls.h"
#include "lacre/err.h"
#include "keeper/access_key.h"
#include "lacre/export.h"
#include "lacre/hex.h"
#include "lacre/frame.h"
#include "lacre/index.h"
#include "lacre/json.h"
#include "lacre/note.h"
#include "lacre/package.h"
#include "lacre/pcap.h"
#include "lacre/receipts.h"
#include "lacre/record_json.h"
#include "lacre/segment_proof.h"
#include "lacre/site_audit.h"
#include "lacre/store.h"
#include "lacre/users.h"
#include "lacre/verify.h"
#include "lacre/warrant.h"

#define EX_TEXT_MAX ((size_t)1 << 34)   /* cap on the JSON lines member (16 GiB) */
#define EX_LIST_MAX ((size_t)1 << 32)   /* cap on manifest and exclusion lists */

struct ex_member {
	char name[PACKAGE_NAME_MAX + 1];
	uint64_t size;
	uint8_t sha[32];
};

/* Records of one segment that no checkpoint covers (unlogged.txt). */
struct ex_unl_seg {
	char segment[80];
	uint64_t n, seq_lo, seq_hi;
};

struct ex_ctx {
	const struct export_opts *o;
	const struct warrant *w;
	struct package_writer *pw;
	struct receipts_index *ix;
	struct receipts_seg *rs;           /* record -> leaf, v1 or v2 (receipts.h) */
	uint8_t *used;                     /* per log of ix: 1 when a receipt of it is in */
	struct lacre_dbuf rec_log, ev_log; /* the log (size_t) of each record / event line */
	size_t *pk_log;                    /* package log number (1..) of each log of ix */
	size_t npk;                        /* logs in the package (>= 2: multi-log form) */
	const struct age_x25519_identity *id; /* the identity of the current pass */
	struct lacre_dbuf sp;              /* a record's segment proof */
	struct ex_member *mem;
	size_t nmem, capmem;
	struct completeness_item *ci;
	size_t *ci_liid;                   /* offsets of LIIDs in liids (fixed up at the end) */
	size_t nci, capci;
	struct lacre_dbuf liids;
	struct lacre_dbuf jsonl;           /* records.jsonl */
	struct lacre_dbuf recs;            /* the manifest's record lines */
	struct lacre_dbuf excl;            /* exclusions.txt */
	struct lacre_dbuf tmp;
	struct lacre_dbuf evjsonl;         /* events.jsonl */
	struct lacre_dbuf evlines;         /* the manifest's event lines */
	struct lacre_dbuf quar;            /* quarantine.txt counts */
	uint64_t nev, nquar, quar_uncovered;
	struct lacre_dbuf media;           /* media.txt, and the manifest's absent lines */
	struct lacre_dbuf absent;
	uint64_t wavs, pcaps;
	char *excl_used;
	struct lacre_dbuf unl;             /* unlogged.txt lines */
	struct ex_unl_seg *us;             /* ... by segment */
	size_t nus, capus;
	uint32_t *unl_cins;                /* CINs of unlogged records (no rendering) */
	size_t n_unl_cins, cap_unl_cins;
	uint64_t unlogged;
	uint64_t n, included, excluded, pdu_bytes;
	struct ex_xref *xr;                /* the excluded records, for the renderings */
	size_t nxr, capxr;
	int err;
	char *msg;
	size_t msglen;
};

/* One excluded record (segment, index): a party copy's renderings skip it. */
struct ex_xref {
	char seg[LACRE_STORE_NAME_MAX + 1];
	uint64_t idx;
};

/* Remember an excluded record for the renderings. */
static int ex_xref_add(struct ex_ctx *c, const char *seg, uint64_t idx)
{
	if (c->nxr == c->capxr) {
		size_t nc = c->capxr ? c->capxr * 2 : 16;
		struct ex_xref *nv = realloc(c->xr, nc * sizeof(*nv));
		if (!nv)
			return LACRE_E_NOMEM;
		c->xr = nv;
		c->capxr = nc;
	}
	snprintf(c->xr[c->nxr].seg, sizeof(c->xr[c->nxr].seg), "%s", seg);
	c->xr[c->nxr++].idx = idx;
	return LACRE_OK;
}

/* Order of excluded records: segment name, then index. */
static int ex_xref_cmp(const void *a, const void *b)
{
	const struct ex_xref *x = a, *y = b;
	int d = strcmp(x->seg, y->seg);

	if (d)
		return d;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* access_skip callback: is (segment, index) an excluded record?  (c->xr
 * sorted first.) */
static int ex_xref_skip(void *arg, const char *segment, uint64_t idx)
{
	const struct ex_ctx *c = arg;
	struct ex_xref key;

	if (!c->nxr || strlen(segment) > LACRE_STORE_NAME_MAX)
		return 0;
	snprintf(key.seg, sizeof(key.seg), "%s", segment);
	key.idx = idx;
	return bsearch(&key, c->xr, c->nxr, sizeof(*c->xr), ex_xref_cmp) != NULL;
}

/* Parse "seg/<hex>:N" or "<hex>:N". */
int export_exclusion_parse_record(const char *s, struct export_exclusion *out)
{
	struct export_exclusion e;
	const char *colon = strrchr(s, ':'), *hex = s;
	char *end;
	size_t hl;

	memset(&e, 0, sizeof(e));
	if (!colon || strlen(s) >= sizeof(e.text))
		return LACRE_E_INVALID;
	if (!strncmp(hex, "seg/", 4))
		hex += 4;
	hl = (size_t)(colon - hex);
	if (hl != 32 || strspn(hex, "0123456789abcdef") < 32)
		return LACRE_E_INVALID;
	errno = 0;
	e.index = strtoull(colon + 1, &end, 10);
	if (!colon[1] || *end || errno || colon[1] == '-')
		return LACRE_E_INVALID;
	snprintf(e.segment, sizeof(e.segment), "seg/%.32s", hex);
	snprintf(e.text, sizeof(e.text), "%s", s);
	*out = e;
	return LACRE_OK;
}

/* Parse "T1/T2" (ISO-8601 UTC times, T1 < T2). */
int export_exclusion_parse_range(const char *s, struct export_exclusion *out)
{
	struct export_exclusion e;
	char a[64], b[64];
	const char *slash = strchr(s, '/');
	size_t la;

	memset(&e, 0, sizeof(e));
	if (!slash || strlen(s) >= sizeof(e.text) || (la = (size_t)(slash - s)) >= sizeof(a) ||
	    strlen(slash + 1) >= sizeof(b))
		return LACRE_E_INVALID;
	memcpy(a, s, la);
	a[la] = 0;
	snprintf(b, sizeof(b), "%s", slash + 1);
	if (warrant_time_parse(a, &e.from_us) != LACRE_OK || warrant_time_parse(b, &e.to_us) != LACRE_OK ||
	    e.from_us >= e.to_us)
		return LACRE_E_INVALID;
	e.is_range = 1;
	snprintf(e.text, sizeof(e.text), "%s", s);
	*out = e;
	return LACRE_OK;
}

/* Load or create the export signing key (see export.h). */
int export_signer(const struct site *s, const struct acl_session *ss,
		  struct note_signer **out)
{
	uint8_t seed[32];
	char name[NOTE_NAME_MAX + 1], path[SITE_PATH_MAX], dir[SITE_PATH_MAX];
	struct note_signer *k = NULL;
	struct note_verifier v;
	struct lacre_dbuf txt;
	int r;

	lacre_dbuf_init(&txt, 1024);
	if (snprintf(name, sizeof(name), "lacre/%s/export", s->cfg.name) >= (int)sizeof(name) ||
	    !note_name_valid(name))
		return LACRE_E_CONFIG;
	r = access_key_secret(ss, EXPORT_SIGNER_KEY, seed, NULL, NULL, 0);
	if (r == LACRE_E_NOT_FOUND) {
		if (RAND_priv_bytes(seed, sizeof(seed)) != 1)
			return LACRE_E_CRYPTO;
		r = access_key_create(ss, EXPORT_SIGNER_KEY, NULL, seed, NULL, 0);
	}
	if (r != LACRE_OK)
		goto out;
	if ((r = note_signer_from_seed(name, NOTE_TYPE_ED25519, seed, &k)) != LACRE_OK)
		goto out;
	/* the public half, for courts: DIR/ledger/export.vkey */
	note_signer_public(k, &v);
	if ((r = note_verifier_format(&v, &txt)) != LACRE_OK || (r = lacre_dbuf_add_u8(&txt, '\n')) != LACRE_OK ||
	    (r = site_path(s, "ledger", dir, sizeof(dir))) != LACRE_OK ||
	    (r = site_path(s, "ledger/export.vkey", path, sizeof(path))) != LACRE_OK)
		goto out;
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		r = LACRE_E_IO;
		goto out;
	}
	if (access(path, F_OK) != 0 && (r = site_write_file(path, txt.p, txt.len, 0644)) != LACRE_OK)
		goto out;
	*out = k;
	k = NULL;
out:
	OPENSSL_cleanse(seed, sizeof(seed));
	note_signer_free(k);
	lacre_dbuf_free(&txt);
	return r;
}

struct ex_alog {
	const char *warrant;
	struct lacre_dbuf *out;
	uint64_t n, all;
	int err;
};

/* accesslog_read callback: keep the entries that name the warrant. */
static int ex_alog_entry(void *arg, const struct accesslog_record *r)
{
	struct ex_alog *a = arg;
	char t[WARRANT_TIME_MAX];
	int e;

	a->all++;
	if (strcmp(r->warrant, a->warrant) != 0)
		return 0;
	warrant_time_format(r->time, t);
	e = lacre_dbuf_printf(a->out, "entry %llu time %s user %s role %s unit %s action %s %s what \"%s\" "
			      "justification \"%s\" request-signature %s log %s\n",
			      (unsigned long long)r->index, t, r->user, r->role, r->unit[0] ? r->unit : "-",
			      r->action, r->allowed ? "ALLOWED" : "REFUSED", r->what, r->justification,
			      r->has_sig ? (r->request_sig_ok ? "verified" : "FAILED") : "none",
			      r->published ? "proved-in-published-checkpoint" : "not-yet-published");
	if (e != LACRE_OK)
		a->err = e;
	a->n++;
	return e;
}

/* accesslog_read problem callback: a damaged entry is part of the report. */
static void ex_alog_problem(void *arg, uint64_t index, const char *what)
{
	struct ex_alog *a = arg;
	lacre_dbuf_printf(a->out, "PROBLEM entry %llu: %s\n", (unsigned long long)index, what);
}

/* The access report (see export.h). */
int export_access_report(const struct site *s, const struct acl_session *ss,
			 const char *warrant, struct lacre_dbuf *out, char *msg, size_t msglen)
{
	struct age_x25519_identity aud;
	struct ex_alog a;
	uint64_t np = 0;
	char origin[NOTE_NAME_MAX + 1];
	int r;

	if (msglen)
		msg[0] = 0;
	if ((r = access_key(ss, USERS_AUDITOR_KEY, &aud, NULL, msg, msglen)) == LACRE_E_DENIED)
		return r;
	if (r != LACRE_OK) {
		snprintf(msg, msglen, "no access-log auditor key in the keystore (%s)", lacre_strerror(r));
		return LACRE_E_NOT_FOUND;
	}
	memset(&a, 0, sizeof(a));
	a.warrant = warrant;
	a.out = out;
	accesslog_origin(s, origin, sizeof(origin));
	lacre_dbuf_printf(out, "lacre-access-report/v1\nlog %s\nwarrant %s\n", origin, warrant);
	r = accesslog_read(s, &aud, ex_alog_entry, ex_alog_problem, &a, &np, msg, msglen);
	age_identity_wipe(&aud);
	if (r == LACRE_OK && a.err)
		r = a.err;
	if (r == LACRE_OK)
		r = lacre_dbuf_printf(out, "entries %llu of %llu in the access log name this warrant; "
				      "%llu problem(s)\n", (unsigned long long)a.n,
				      (unsigned long long)a.all, (unsigned long long)np);
	return r;
}

/* Record an error once, with its message. */
static int ex_fail(struct ex_ctx *c, int r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int ex_fail(struct ex_ctx *c, int r, const char *fmt, ...)
{
	va_list ap;

	if (!c->err) {
		c->err = r;
		va_start(ap, fmt);
		vsnprintf(c->msg, c->msglen, fmt, ap);
		va_end(ap);
	}
	return r;
}

/* Add a member and remember its name, size and hash for the manifest. */
static int ex_add(struct ex_ctx *c, const char *name, const void *p, size_t n)
{
	struct ex_member *m;
	int r;

	if (c->nmem == c->capmem) {
		size_t nc = c->capmem ? c->capmem * 2 : 1024;
		struct ex_member *nm = realloc(c->mem, nc * sizeof(*nm));
		if (!nm)
			return LACRE_E_NOMEM;
		c->mem = nm;
		c->capmem = nc;
	}
	m = &c->mem[c->nmem];
	snprintf(m->name, sizeof(m->name), "%s", name);
	m->size = n;
	if ((r = package_writer_add(c->pw, name, p, n, m->sha)) != LACRE_OK)
		return r;
	c->nmem++;
	return LACRE_OK;
}

/* Append a manifest value: printable, no control characters (others '?'). */
static int ex_text(struct lacre_dbuf *d, const char *key, const char *v)
{
	int r = lacre_dbuf_printf(d, "%s ", key);
	for (const char *p = v; r == LACRE_OK && *p; p++)
		r = lacre_dbuf_add_u8(d, (unsigned char)*p < 0x20 || *p == 0x7f ? '?' : (uint8_t)*p);
	return r == LACRE_OK ? lacre_dbuf_add_u8(d, '\n') : r;
}

/* Keep the stream key and sequence number of a record for the report. */
static int ex_item(struct ex_ctx *c, const struct frame_record *rec, int excluded)
{
	struct completeness_item *it;
	int r;

	if (c->nci == c->capci) {
		size_t nc = c->capci ? c->capci * 2 : 1024;
		struct completeness_item *ni = realloc(c->ci, nc * sizeof(*ni));
		size_t *no;
		if (!ni)
			return LACRE_E_NOMEM;
		c->ci = ni;
		if ((no = realloc(c->ci_liid, nc * sizeof(*no))) == NULL)
			return LACRE_E_NOMEM;
		c->ci_liid = no;
		c->capci = nc;
	}
	it = &c->ci[c->nci];
	memset(it, 0, sizeof(*it));
	c->ci_liid[c->nci] = c->liids.len;
	if ((r = lacre_dbuf_add(&c->liids, rec->liid.p, rec->liid.len)) != LACRE_OK)
		return r;
	it->liid_len = rec->liid.len;
	it->has_cin = rec->has_cin;
	it->cin = rec->cin;
	it->kind = rec->kind;
	it->seq = rec->seq;
	it->time_us = rec->time_kind ? rec->time_us : rec->recv_us;
	it->excluded = excluded;
	c->nci++;
	return LACRE_OK;
}

/* Which exclusion (index + 1) takes this record out, 0 if none. */
static size_t ex_excluded(struct ex_ctx *c, const struct access_record *ar, int64_t t)
{
	for (size_t i = 0; i < c->o->n_excl; i++) {
		const struct export_exclusion *e = &c->o->excl[i];
		if (e->is_range ? (t >= e->from_us && t < e->to_us)
				: (e->index == ar->index && !strcmp(e->segment, ar->segment))) {
			c->excl_used[i] = 1;
			return i + 1;
		}
	}
	return 0;
}

/* A record no checkpoint covers: a line in unlogged.txt (no content), its
 * segment's count, its CIN (no rendering of its call). */
static int ex_unlogged(struct ex_ctx *c, const struct access_record *ar, const uint8_t commit[32],
		       int64_t when)
{
	const struct frame_record *rec = ar->rec;
	char hex[65], liidhex[2 * FRAME_LIID_MAX + 1], t[WARRANT_TIME_MAX];
	struct ex_unl_seg *g = c->nus ? &c->us[c->nus - 1] : NULL;
	int r;

	lacre_hex(commit, 32, hex);
	lacre_hex(rec->liid.p, rec->liid.len, liidhex);
	warrant_time_format(when, t);
	r = lacre_dbuf_printf(&c->unl, "unlogged segment=%s index=%llu commitment=%s liid=%s cin=",
			      ar->segment, (unsigned long long)ar->index, hex, rec->liid.len ? liidhex : "-");
	if (r == LACRE_OK)
		r = rec->has_cin ? lacre_dbuf_printf(&c->unl, "%u", rec->cin) : lacre_dbuf_add_u8(&c->unl, '-');
	if (r == LACRE_OK)
		r = lacre_dbuf_printf(&c->unl, " kind=%u seq=%llu time=%s\n", rec->kind,
				      (unsigned long long)rec->seq, t);
	if (r != LACRE_OK)
		return ex_fail(c, r, "unlogged records: out of memory");
	/* records come segment by segment: a new segment starts a new count */
	if (!g || strcmp(g->segment, ar->segment) != 0) {
		if (c->nus == c->capus) {
			size_t nc = c->capus ? c->capus * 2 : 8;
			void *nv = realloc(c->us, nc * sizeof(*c->us));
			if (!nv)
				return ex_fail(c, LACRE_E_NOMEM, "unlogged records: out of memory");
			c->us = nv;
			c->capus = nc;
		}
		g = &c->us[c->nus++];
		memset(g, 0, sizeof(*g));
		snprintf(g->segment, sizeof(g->segment), "%s", ar->segment);
		g->seq_lo = g->seq_hi = rec->seq;
	}
	g->n++;
	if (rec->seq < g->seq_lo)
		g->seq_lo = rec->seq;
	if (rec->seq > g->seq_hi)
		g->seq_hi = rec->seq;
	if (rec->has_cin) {
		size_t i;
		for (i = 0; i < c->n_unl_cins && c->unl_cins[i] != rec->cin; i++)
			;
		if (i == c->n_unl_cins) {
			if (c->n_unl_cins == c->cap_unl_cins) {
				size_t nc = c->cap_unl_cins ? c->cap_unl_cins * 2 : 16;
				void *nv = realloc(c->unl_cins, nc * sizeof(*c->unl_cins));
				if (!nv)
					return ex_fail(c, LACRE_E_NOMEM, "unlogged records: out of memory");
				c->unl_cins = nv;
				c->cap_unl_cins = nc;
			}
			c->unl_cins[c->n_unl_cins++] = rec->cin;
		}
	}
	/* a party-copy rule that matches only such records would exclude
	 * nothing the package lists: remember it (2) to say so */
	for (size_t i = 0; i < c->o->n_excl; i++) {
		const struct export_exclusion *e = &c->o->excl[i];
		if (!c->excl_used[i] && (e->is_range ? (when >= e->from_us && when < e->to_us)
				       : (e->index == ar->index && !strcmp(e->segment, ar->segment))))
			c->excl_used[i] = 2;
	}
	c->unlogged++;
	return LACRE_OK;
}

/* After the read: one line per segment with unlogged records, saying why
 * they are not in the package, to the caller (progress) and to the
 * manifest (absent lines). */
static int ex_unlogged_finish(struct ex_ctx *c, const struct site *s)
{
	char line[768];
	int running, r = LACRE_OK;

	if (!c->unlogged)
		return LACRE_OK;
	running = site_audit_ingest_running(s);
	for (size_t i = 0; r == LACRE_OK && i < c->nus; i++) {
		const struct ex_unl_seg *g = &c->us[i];
		if (running)
			snprintf(line, sizeof(line), "%llu records of segment %s (seq %llu..%llu) are not in "
				 "the published checkpoint yet: ingest is running and has not published them; "
				 "left out of this package (unlogged.txt), export again once it has",
				 (unsigned long long)g->n, g->segment, (unsigned long long)g->seq_lo,
				 (unsigned long long)g->seq_hi);
		else
			snprintf(line, sizeof(line), "%llu records of segment %s (seq %llu..%llu) are in no "
				 "signed checkpoint: the ingest log does not name them (lost leaves or unlogged "
				 "segment); left out of this package (unlogged.txt); run lacre audit --site --deep",
				 (unsigned long long)g->n, g->segment, (unsigned long long)g->seq_lo,
				 (unsigned long long)g->seq_hi);
		if (c->o->progress)
			c->o->progress(c->o->arg, line);
		r = lacre_dbuf_printf(&c->absent, "absent unlogged %s\n", line);
	}
	if (r != LACRE_OK)
		return ex_fail(c, r, "unlogged records: out of memory");
	return LACRE_OK;
}

/* Whether a record of call c is unlogged (then no rendering of the call:
 * it would carry content no receipt proves). */
static int ex_call_unlogged(const struct ex_ctx *c, const struct calls_entry *call)
{
	for (size_t i = 0; i < c->n_unl_cins; i++)
		for (size_t k = 0; k < call->n_cins; k++)
			if (call->cins[k] == c->unl_cins[i])
				return 1;
	return 0;
}

/* access_read callback: one record into the package. */
static int ex_record(void *arg, const struct access_record *ar)
{
	struct ex_ctx *c = arg;
	const struct frame_record *rec = ar->rec;
	struct receipts_where where;
	uint8_t commit[32];
	char name[40], hex[65], liidhex[2 * FRAME_LIID_MAX + 1], t[WARRANT_TIME_MAX];
	uint64_t leaf, n;
	int64_t when = rec->time_kind ? rec->time_us : rec->recv_us;
	size_t ex;
	struct json_w w;
	int r;

	if ((r = frame_commitment(rec->salt, rec->canon.p, rec->canon.len, commit)) != LACRE_OK)
		return ex_fail(c, r, "%s record %llu: cannot compute its commitment", ar->segment, (unsigned long long)ar->index);
	r = receipts_seg_locate(c->rs, c->id, ar->segment, ar->index, commit, &where);
	if (r == LACRE_E_NOT_FOUND)
		return ex_unlogged(c, ar, commit, when);
	if (r != LACRE_OK)
		return ex_fail(c, r, "%s: cannot read its records' commitments again: %s", ar->segment,
			       lacre_strerror(r));
	leaf = where.leaf;
	n = ++c->n;
	c->used[where.log] = 1;
	lacre_hex(commit, 32, hex);
	lacre_dbuf_reset(&c->tmp);
	lacre_dbuf_reset(&c->sp);
	if ((r = receipts_index_receipt(c->ix, where.log, leaf, &c->tmp)) != LACRE_OK ||
	    (where.v2 && (r = receipts_seg_proof(c->rs, &where, &c->sp)) != LACRE_OK))
		return ex_fail(c, r, "%s record %llu: cannot make its receipt", ar->segment, (unsigned long long)ar->index);
	ex = ex_excluded(c, ar, when);
	if (ex) {
		const struct export_exclusion *e = &c->o->excl[ex - 1];
		if ((r = ex_xref_add(c, ar->segment, ar->index)) != LACRE_OK)
			return ex_fail(c, r, "exclusions: out of memory");
		snprintf(name, sizeof(name), "excluded/%08llu.tlog-proof", (unsigned long long)n);
		if ((r = ex_add(c, name, c->tmp.p, c->tmp.len)) != LACRE_OK)
			return ex_fail(c, r, "%s: cannot write the package", c->o->path);
		snprintf(name, sizeof(name), "excluded/%08llu.segment-proof", (unsigned long long)n);
		if (where.v2 && (r = ex_add(c, name, c->sp.p, c->sp.len)) != LACRE_OK)
			return ex_fail(c, r, "%s: cannot write the package", c->o->path);
		lacre_hex(rec->liid.p, rec->liid.len, liidhex);
		/* the time the window and range rules use: interception time,
		 * or receive time when the PDU has none */
		warrant_time_format(when, t);
		r = lacre_dbuf_printf(&c->excl, "excluded n=%llu segment=%s index=%llu leaf=%llu "
				      "commitment=%s liid=%s cin=", (unsigned long long)n, ar->segment,
				      (unsigned long long)ar->index, (unsigned long long)leaf, hex,
				      rec->liid.len ? liidhex : "-");
		if (r == LACRE_OK)
			r = rec->has_cin ? lacre_dbuf_printf(&c->excl, "%u", rec->cin)
					 : lacre_dbuf_add_u8(&c->excl, '-');
		if (r == LACRE_OK)
			r = lacre_dbuf_printf(&c->excl, " kind=%u seq=%llu time=%s by=%s rule=%s\n",
					      rec->kind, (unsigned long long)rec->seq, t,
					      e->is_range ? "range" : "record", e->text);
		if (r == LACRE_OK)
			r = ex_item(c, rec, 1);
		if (r != LACRE_OK)
			return ex_fail(c, r, "exclusions: out of memory");
		c->excluded++;
		return LACRE_OK;
	}
	snprintf(name, sizeof(name), "records/%08llu.pdu", (unsigned long long)n);
	r = ex_add(c, name, rec->pdu.p, rec->pdu.len);
	if (r == LACRE_OK && rec->pre.len) {
		/* the pre-encryption form the receiver sealed beside an
		 * encrypted PDU: the decrypted payload, no key needed */
		snprintf(name, sizeof(name), "records/%08llu.pre", (unsigned long long)n);
		r = ex_add(c, name, rec->pre.p, rec->pre.len);
	}
	if (r == LACRE_OK) {
		uint8_t *body = malloc(FRAME_SALT_SIZE + rec->canon.len);
		if (!body)
			return ex_fail(c, LACRE_E_NOMEM, "frame: out of memory");
		memcpy(body, rec->salt, FRAME_SALT_SIZE);
		memcpy(body + FRAME_SALT_SIZE, rec->canon.p, rec->canon.len);
		snprintf(name, sizeof(name), "records/%08llu.frame", (unsigned long long)n);
		r = ex_add(c, name, body, FRAME_SALT_SIZE + rec->canon.len);
		OPENSSL_cleanse(body, FRAME_SALT_SIZE + rec->canon.len);
		free(body);
	}
	if (r == LACRE_OK) {
		snprintf(name, sizeof(name), "records/%08llu.tlog-proof", (unsigned long long)n);
		r = ex_add(c, name, c->tmp.p, c->tmp.len);
	}
	if (r == LACRE_OK && where.v2) {
		snprintf(name, sizeof(name), "records/%08llu.segment-proof", (unsigned long long)n);
		r = ex_add(c, name, c->sp.p, c->sp.len);
	}
	if (r != LACRE_OK)
		return ex_fail(c, r, "%s: cannot write the package", c->o->path);
	json_init(&w, &c->jsonl);
	access_record_json(&w, ar);
	if ((r = json_finish(&w)) != LACRE_OK || (r = lacre_dbuf_add_u8(&c->jsonl, '\n')) != LACRE_OK ||
	    (r = lacre_dbuf_printf(&c->recs, "record %llu %s %llu %llu %s\n", (unsigned long long)n,
				   ar->segment, (unsigned long long)ar->index,
				   (unsigned long long)leaf, hex)) != LACRE_OK ||
	    (r = lacre_dbuf_add(&c->rec_log, &where.log, sizeof(where.log))) != LACRE_OK ||
	    (r = ex_item(c, rec, 0)) != LACRE_OK)
		return ex_fail(c, r, "records: too large or out of memory");
	c->included++;
	c->pdu_bytes += rec->pdu.len;
	return LACRE_OK;
}

/* A damaged segment: the export stops (no partial evidence). */
static void ex_problem(void *arg, const char *segment, int err, const char *what)
{
	struct ex_ctx *c = arg;
	char line[512];

	snprintf(line, sizeof(line), "segment %s: %s: %s", segment, what, lacre_strerror(err));
	if (c->o->progress)
		c->o->progress(c->o->arg, line);
	ex_fail(c, err, "%s (a damaged segment: nothing exported)", line);
}

/* Whether an accounting event's JSON names one of the warrant's LIIDs
 * ("liid":"<LIID>", the receiver's form for printable LIIDs). */
static int ex_event_names(const struct warrant *w, const uint8_t *p, size_t n)
{
	char pat[WARRANT_LIID_MAX + 16];

	for (size_t i = 0; i < w->n_liids; i++) {
		int k = snprintf(pat, sizeof(pat), "\"liid\":\"%s\"", w->liids[i]);
		if (k > 0 && (size_t)k < sizeof(pat) && memmem(p, n, pat, (size_t)k))
			return 1;
	}
	return 0;
}

/* Index (+ 1) of the warrant LIID a record carries, 0 if none. */
static size_t ex_liid_of(const struct warrant *w, const struct frame_record *r)
{
	for (size_t i = 0; i < w->n_liids; i++)
		if (strlen(w->liids[i]) == r->liid.len && !memcmp(w->liids[i], r->liid.p, r->liid.len))
			return i + 1;
	return 0;
}

#define EX_REASONS 16
struct ex_qcount {
	char reason[64];
	uint64_t n[WARRANT_MAX_LIIDS];
};

/* access_read callback over the oversight's segments: count the
 * quarantined records of the warrant's LIIDs by reason, and keep the
 * accounting events that name them, each with its frame and receipt. */
static int ex_oversight(void *arg, const struct access_record *ar)
{
	struct ex_ctx *c = arg;
	const struct frame_record *rec = ar->rec;
	struct ex_qcount *q = (struct ex_qcount *)c->quar.p;
	size_t nq = c->quar.len / sizeof(*q), li, i;
	struct receipts_where where;
	uint8_t commit[32];
	uint64_t leaf, k;
	char name[40], hex[65];
	struct json_w w;
	int r;

	if (rec->reason.len == 5 && !memcmp(rec->reason.p, "event", 5)) {
		if (!ex_event_names(c->w, rec->pdu.p, rec->pdu.len))
			return 0;
		if (frame_commitment(rec->salt, rec->canon.p, rec->canon.len, commit) != LACRE_OK)
			return ex_fail(c, LACRE_E_CRYPTO, "event commitment");
		r = receipts_seg_locate(c->rs, c->id, ar->segment, ar->index, commit, &where);
		if (r == LACRE_E_NOT_FOUND) {
			c->quar_uncovered++;    /* sealed after the checkpoint: not provable yet */
			return 0;
		}
		if (r != LACRE_OK)
			return ex_fail(c, r, "%s: cannot read its records' commitments again", ar->segment);
		leaf = where.leaf;
		k = ++c->nev;
		c->used[where.log] = 1;
		lacre_hex(commit, 32, hex);
		lacre_dbuf_reset(&c->tmp);
		lacre_dbuf_reset(&c->sp);
		if ((r = receipts_index_receipt(c->ix, where.log, leaf, &c->tmp)) != LACRE_OK ||
		    (where.v2 && (r = receipts_seg_proof(c->rs, &where, &c->sp)) != LACRE_OK))
			return ex_fail(c, r, "event receipt");
		{
			uint8_t *body = malloc(FRAME_SALT_SIZE + rec->canon.len);
			if (!body)
				return ex_fail(c, LACRE_E_NOMEM, "event: out of memory");
			memcpy(body, rec->salt, FRAME_SALT_SIZE);
			memcpy(body + FRAME_SALT_SIZE, rec->canon.p, rec->canon.len);
			snprintf(name, sizeof(name), "events/%08llu.frame", (unsigned long long)k);
			r = ex_add(c, name, body, FRAME_SALT_SIZE + rec->canon.len);
			free(body);
		}
		if (r == LACRE_OK) {
			snprintf(name, sizeof(name), "events/%08llu.tlog-proof", (unsigned long long)k);
			r = ex_add(c, name, c->tmp.p, c->tmp.len);
		}
		if (r == LACRE_OK && where.v2) {
			snprintf(name, sizeof(name), "events/%08llu.segment-proof", (unsigned long long)k);
			r = ex_add(c, name, c->sp.p, c->sp.len);
		}
		if (r != LACRE_OK)
			return ex_fail(c, r, "%s: cannot write the package", c->o->path);
		json_init(&w, &c->evjsonl);
		access_record_json(&w, ar);
		if ((r = json_finish(&w)) != LACRE_OK || (r = lacre_dbuf_add_u8(&c->evjsonl, '\n')) != LACRE_OK ||
		    (r = lacre_dbuf_printf(&c->evlines, "event %llu %s %llu %llu %s\n", (unsigned long long)k,
					   ar->segment, (unsigned long long)ar->index,
					   (unsigned long long)leaf, hex)) != LACRE_OK ||
		    (r = lacre_dbuf_add(&c->ev_log, &where.log, sizeof(where.log))) != LACRE_OK)
			return ex_fail(c, r, "events: too large or out of memory");
		return 0;
	}
	if ((li = ex_liid_of(c->w, rec)) == 0)
		return 0;
	for (i = 0; i < nq; i++)
		if (strlen(q[i].reason) == rec->reason.len && !memcmp(q[i].reason, rec->reason.p, rec->reason.len))
			break;
	if (i == nq) {
		struct ex_qcount z;
		if (nq == EX_REASONS || rec->reason.len >= sizeof(z.reason))
			return 0;
		memset(&z, 0, sizeof(z));
		memcpy(z.reason, rec->reason.p, rec->reason.len);
		if ((r = lacre_dbuf_add(&c->quar, &z, sizeof(z))) != LACRE_OK)
			return ex_fail(c, r, "quarantine: out of memory");
		q = (struct ex_qcount *)c->quar.p;
	}
	q[i].n[li - 1]++;
	c->nquar++;
	return 0;
}

/* The oversight pass and its members (quarantine.txt, events.jsonl). */
static int ex_oversight_pass(struct ex_ctx *c, struct lacre_store *st)
{
	struct age_x25519_identity ov;
	char kmsg[SITE_MSG_MAX];
	struct access_filter f;
	struct access_report rep;
	struct lacre_dbuf t;
	struct ex_qcount *q;
	size_t nq, i, l;
	int r;

	if ((r = access_key(c->o->session, SITE_OVERSIGHT_KEY, &ov, NULL, kmsg, sizeof(kmsg))) ==
	    LACRE_E_DENIED)
		return ex_fail(c, r, "%s", kmsg);
	if (r != LACRE_OK)
		return ex_fail(c, r, "cannot read the oversight key for --with-quarantine: %s", lacre_strerror(r));
	access_filter_init(&f);
	f.quarantine = 1;
	f.events = 1;
	f.from_us = c->o->from_us;
	f.to_us = c->o->to_us;
	{
		const struct age_x25519_identity *was = c->id;
		c->id = &ov;
		r = access_read(st, &ov, &f, ex_oversight, c, NULL, &rep);
		c->id = was;
	}
	age_identity_wipe(&ov);
	if (c->err)
		return c->err;
	if (r != LACRE_OK)
		return ex_fail(c, r, "reading the quarantine failed: %s (%llu damaged segment(s))",
			       lacre_strerror(r), (unsigned long long)rep.problems);
	lacre_dbuf_init(&t, (size_t)1 << 20);
	r = lacre_dbuf_add_str(&t, "lacre-quarantine/v1\n");
	q = (struct ex_qcount *)c->quar.p;
	nq = c->quar.len / sizeof(*q);
	for (l = 0; r == LACRE_OK && l < c->w->n_liids; l++)
		for (i = 0; r == LACRE_OK && i < nq; i++)
			if (q[i].n[l])
				r = lacre_dbuf_printf(&t, "liid %s reason %s records %llu\n", c->w->liids[l],
						      q[i].reason, (unsigned long long)q[i].n[l]);
	if (r == LACRE_OK)
		r = lacre_dbuf_printf(&t, "total %llu\nevents %llu\nevents-after-checkpoint %llu\n",
				      (unsigned long long)c->nquar, (unsigned long long)c->nev,
				      (unsigned long long)c->quar_uncovered);
	if (r == LACRE_OK)
		r = ex_add(c, "quarantine.txt", t.p, t.len);
	if (r == LACRE_OK)
		r = ex_add(c, "events.jsonl", c->evjsonl.p, c->evjsonl.len);
	lacre_dbuf_free(&t);
	return r == LACRE_OK ? r : ex_fail(c, r, "%s: cannot write the package", c->o->path);
}

/* Whether any excluded record of the export carries one of call c's CINs
 * (then its renderings in a party copy leave those records out). */
static int ex_call_excluded(const struct ex_ctx *c, const struct calls_entry *call)
{
	for (size_t i = 0; i < c->nci; i++) {
		if (!c->ci[i].excluded || !c->ci[i].has_cin)
			continue;
		for (size_t k = 0; k < call->n_cins; k++)
			if (call->cins[k] == c->ci[i].cin)
				return 1;
	}
	return 0;
}

/* Read a rendering written to path into a member, then remove the file. */
static int ex_add_file(struct ex_ctx *c, const char *path, const char *name)
{
	struct lacre_dbuf d;
	int r;

	lacre_dbuf_init(&d, (size_t)4 << 30);
	lacre_dbuf_set_secret(&d);
	r = note_read_file(path, (size_t)4 << 30, &d);
	unlink(path);
	if (r == LACRE_OK)
		r = ex_add(c, name, d.p ? d.p : (const uint8_t *)"", d.len);
	lacre_dbuf_free(&d);
	return r;
}

/* The renderings (calls.h, audio.h, pcap.h): a stereo WAV per VoIP call
 * with G.711 audio and a pcap of each call's or session's content packets,
 * for the calls wholly inside the window; in a party copy, without the
 * excluded records (silence in the WAV, no packet in the pcap, counted in
 * media.txt).  They are derived from the PDUs (the evidence) and
 * listed in media.txt; they pass through a private folder on tmpfs
 * (/dev/shm) when there is one, removed at once.  A rendering that cannot
 * be made is an absent line, not a failure. */
static int ex_media(struct ex_ctx *c, const struct site *s, struct lacre_store *st,
		    const struct age_x25519_identity *id)
{
	struct index *ixdb = NULL;
	struct index_report irep;
	struct calls_entry *calls = NULL;
	struct audio_report *arep = NULL;
	struct pcap_report prep;
	char tmpl[SITE_PATH_MAX + 16], path[SITE_PATH_MAX + 80], name[PACKAGE_NAME_MAX + 1], lid[CALLS_ID_MAX];
	const struct access_skip xskip = { ex_xref_skip, c }, *skip;
	size_t n = 0, i, k;
	int r;

	if (c->nxr)
		qsort(c->xr, c->nxr, sizeof(*c->xr), ex_xref_cmp);

	snprintf(tmpl, sizeof(tmpl), "/dev/shm/lacre-export-XXXXXX");
	if (!mkdtemp(tmpl)) {
		snprintf(tmpl, sizeof(tmpl), "%s/.media-XXXXXX", s->dir);
		if (!mkdtemp(tmpl))
			return lacre_dbuf_add_str(&c->absent, "absent media cannot make a private folder for the renderings\n");
	}
	if ((r = index_open(s, &ixdb)) != LACRE_OK ||
	    (index_set_log(ixdb, c->ix), 0) ||
	    (r = index_update(ixdb, st, id, c->w->id, NULL, NULL, &irep)) != LACRE_OK ||
	    (r = calls_list(ixdb, c->w->id, &calls, &n)) != LACRE_OK) {
		r = lacre_dbuf_printf(&c->absent, "absent media the index of calls could not be built (%s)\n",
				      lacre_strerror(r));
		goto out;
	}
	if ((arep = malloc(sizeof(*arep))) == NULL) {
		r = LACRE_E_NOMEM;
		goto out;
	}
	r = lacre_dbuf_add_str(&c->media, "lacre-media/v1\n");
	for (i = 0; r == LACRE_OK && i < n; i++) {
		const struct calls_entry *call = &calls[i];
		for (k = 0; k < sizeof(lid) - 1 && call->id[k]; k++)
			lid[k] = (char)(call->id[k] >= 'A' && call->id[k] <= 'Z' ? call->id[k] + 32 : call->id[k]);
		lid[k] = 0;
		if ((c->o->from_us != INT64_MIN && (call->start_us == 0 || call->start_us < c->o->from_us)) ||
		    (c->o->to_us != INT64_MAX && (call->end_us == 0 || call->end_us >= c->o->to_us))) {
			r = lacre_dbuf_printf(&c->absent, "absent media %s not wholly inside the window\n", lid);
			continue;
		}
		/* a call holding excluded records keeps the rest: its WAV has
		 * silence and its pcap no packet where they were (media.txt
		 * counts them) */
		skip = ex_call_excluded(c, call) ? &xskip : NULL;
		if (ex_call_unlogged(c, call)) {
			r = lacre_dbuf_printf(&c->absent, "absent media %s holds records in no signed "
					      "checkpoint (unlogged.txt)\n", lid);
			continue;
		}
		if (call->type == CALLS_VOIP) {
			snprintf(path, sizeof(path), "%s/a.wav", tmpl);
			memset(arep, 0, sizeof(*arep));
			r = audio_write_skip(ixdb, st, id, call, path, skip, NULL, NULL, arep);
			if (r == LACRE_OK) {
				snprintf(name, sizeof(name), "audio/%s.wav", lid);
				if ((r = ex_add_file(c, path, name)) != LACRE_OK)
					goto out;
				c->wavs++;
				r = lacre_dbuf_printf(&c->media, "wav %s call %s frames %llu packets %llu %llu "
						      "missing %llu %llu gaps %llu excluded %llu %llu\n", name, call->id,
						      (unsigned long long)arep->frames,
						      (unsigned long long)arep->packets[0],
						      (unsigned long long)arep->packets[1],
						      (unsigned long long)arep->missing[0],
						      (unsigned long long)arep->missing[1],
						      (unsigned long long)arep->gaps_total,
						      (unsigned long long)arep->excluded[0],
						      (unsigned long long)arep->excluded[1]);
			} else {
				unlink(path);
				r = lacre_dbuf_printf(&c->absent, "absent audio %s %s\n", lid,
						      r == LACRE_E_NOT_FOUND ? "has no G.711 RTP" : lacre_strerror(r));
			}
		}
		for (k = 0; r == LACRE_OK && k < call->n_cins; k++) {
			snprintf(path, sizeof(path), "%s/c.pcap", tmpl);
			memset(&prep, 0, sizeof(prep));
			r = pcap_write_skip(ixdb, st, id, c->w->id, 1, call->cins[k], calls, n, path, skip,
					    NULL, NULL, &prep);
			if (r == LACRE_OK && prep.packets) {
				if (call->cins[k] == call->cin)
					snprintf(name, sizeof(name), "pcap/%s.pcap", lid);
				else
					snprintf(name, sizeof(name), "pcap/%s-%u.pcap", lid, call->cins[k]);
				if ((r = ex_add_file(c, path, name)) != LACRE_OK)
					goto out;
				c->pcaps++;
				r = lacre_dbuf_printf(&c->media, "pcap %s call %s cin %u packets %llu synthetic %llu "
						      "skipped %llu excluded %llu\n", name, call->id, call->cins[k],
						      (unsigned long long)prep.packets,
						      (unsigned long long)prep.synthetic,
						      (unsigned long long)prep.skipped,
						      (unsigned long long)prep.excluded);
			} else {
				unlink(path);
				r = r == LACRE_OK ? LACRE_OK :
				    lacre_dbuf_printf(&c->absent, "absent pcap %s cin %u %s\n", lid, call->cins[k],
						      lacre_strerror(r));
			}
		}
	}
	if (r == LACRE_OK)
		r = ex_add(c, "media.txt", c->media.p, c->media.len);
out:
	free(arep);
	free(calls);
	index_close(ixdb);
	rmdir(tmpl);
	return r;
}

/* Number the logs of the package: the logs of ix a receipt in it proves
 * against, in ix's order, from 1 (the first log of ix when none does).
 * One log: the single-log form of §9 as before; two or more: the
 * multi-log form (docs/FORMATS.md §9.1, §9.2). */
static int ex_logs_plan(struct ex_ctx *c)
{
	size_t n = receipts_index_logs(c->ix), i;

	if (!(c->pk_log = calloc(n, sizeof(*c->pk_log))))
		return LACRE_E_NOMEM;
	for (i = 0; i < n; i++)
		if (c->used[i])
			c->pk_log[i] = ++c->npk;
	if (c->npk == 0)
		c->pk_log[0] = ++c->npk;
	if (c->npk > VERIFY_MAX_LOGS) {
		snprintf(c->msg, c->msglen, "the records span %zu ingest logs and a package names at "
			 "most %d: export a shorter window (--from, --to)", c->npk, VERIFY_MAX_LOGS);
		return LACRE_E_TOO_LARGE;
	}
	return LACRE_OK;
}

/* Append the manifest lines of lines to m: as they are in a single-log
 * package; with " <k>" (the package number of the log that proves it,
 * logs[j] for line j) before each line feed in a multi-log one. */
static int ex_lines_logged(const struct ex_ctx *c, struct lacre_dbuf *m, const struct lacre_dbuf *lines,
			   const struct lacre_dbuf *logs)
{
	const uint8_t *p = lines->p, *end = lines->p + lines->len;
	size_t j = 0, lg;
	int r = LACRE_OK;

	if (c->npk < 2)
		return lacre_dbuf_add(m, lines->p, lines->len);
	while (r == LACRE_OK && p < end) {
		const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl || (j + 1) * sizeof(lg) > logs->len)
			return LACRE_E_INVALID;
		memcpy(&lg, logs->p + j * sizeof(lg), sizeof(lg));
		r = lacre_dbuf_add(m, p, (size_t)(nl - p));
		if (r == LACRE_OK)
			r = lacre_dbuf_printf(m, " %zu\n", c->pk_log[lg]);
		p = nl + 1;
		j++;
	}
	return r;
}

/* The members naming the package's logs: "checkpoint" (the first log's
 * checkpoint note), "logs/<k>.checkpoint" for each further log k, and
 * "ingest.vkey" (each log's vkey and a line feed, in package order). */
static int ex_log_members(struct ex_ctx *c)
{
	const uint8_t *note;
	size_t note_len, i;
	char name[40];
	int r = LACRE_OK;

	for (i = 0; r == LACRE_OK && i < receipts_index_logs(c->ix); i++) {
		if (!c->pk_log[i])
			continue;
		receipts_index_checkpoint(c->ix, i, &note, &note_len);
		if (c->pk_log[i] == 1)
			snprintf(name, sizeof(name), "checkpoint");
		else
			snprintf(name, sizeof(name), "logs/%zu.checkpoint", c->pk_log[i]);
		r = ex_add(c, name, note, note_len);
	}
	lacre_dbuf_reset(&c->tmp);
	for (i = 0; r == LACRE_OK && i < receipts_index_logs(c->ix); i++)
		if (c->pk_log[i])
			r = lacre_dbuf_printf(&c->tmp, "%s\n", receipts_index_vkey(c->ix, i));
	if (r == LACRE_OK)
		r = ex_add(c, "ingest.vkey", c->tmp.p, c->tmp.len);
	return r;
}

/* The manifest text (members listed last). */
static int ex_manifest(struct ex_ctx *c, const struct site *s, const char *id, struct lacre_dbuf *m)
{
	const struct export_opts *o = c->o;
	char t[WARRANT_TIME_MAX], hex[65], liid[2 * WARRANT_LIID_MAX + 3];
	int r = LACRE_OK;
	size_t i;

	warrant_time_format(warrant_time_now(), t);
	r = lacre_dbuf_add_str(m, PACKAGE_MAGIC);
	if (r == LACRE_OK) r = lacre_dbuf_printf(m, "package %s\ncreated %s\n", id, t);
	if (r == LACRE_OK) r = ex_text(m, "site", s->cfg.name);
	/* one log and log-size line per log of the package, in package order */
	for (i = 0; r == LACRE_OK && i < receipts_index_logs(c->ix); i++) {
		const struct checkpoint *cp = receipts_index_tree(c->ix, i);
		if (!c->pk_log[i])
			continue;
		r = ex_text(m, "log", cp->origin);
		if (r == LACRE_OK)
			r = lacre_dbuf_printf(m, "log-size %llu\n", (unsigned long long)cp->size);
	}
	if (r == LACRE_OK) r = ex_text(m, "warrant", c->w->id);
	if (r == LACRE_OK) r = ex_text(m, "case", c->w->case_id);
	if (r == LACRE_OK) r = ex_text(m, "court", c->w->court);
	if (r == LACRE_OK) r = ex_text(m, "unit", c->w->unit);
	for (i = 0; r == LACRE_OK && i < c->w->n_liids; i++) {
		snprintf(liid, sizeof(liid), "%s", c->w->liids[i]);
		r = ex_text(m, "liid", liid);
	}
	if (r == LACRE_OK) {
		if (o->from_us == INT64_MIN)
			snprintf(t, sizeof(t), "open");
		else
			warrant_time_format(o->from_us, t);
		r = ex_text(m, "from", t);
	}
	if (r == LACRE_OK) {
		if (o->to_us == INT64_MAX)
			snprintf(t, sizeof(t), "open");
		else
			warrant_time_format(o->to_us, t);
		r = ex_text(m, "to", t);
	}
	if (r == LACRE_OK) r = ex_text(m, "court-recipient", o->court_recipient);
	if (r == LACRE_OK) r = ex_text(m, "exporter", o->exporter ? o->exporter : "unknown");
	if (r == LACRE_OK) r = ex_text(m, "justification", o->justification ? o->justification : "none");
	if (r == LACRE_OK)
		r = lacre_dbuf_printf(m, "records %llu\nincluded %llu\nexcluded %llu\n",
				      (unsigned long long)c->n, (unsigned long long)c->included,
				      (unsigned long long)c->excluded);
	for (i = 0; r == LACRE_OK && i < o->n_excl; i++)
		r = ex_text(m, o->excl[i].is_range ? "exclude-range" : "exclude-record", o->excl[i].text);
	if (r == LACRE_OK && o->no_media)
		r = lacre_dbuf_add_str(m, "absent media no WAV or pcap renderings were requested (--no-media)\n");
	if (r == LACRE_OK)
		r = lacre_dbuf_add(m, c->absent.p, c->absent.len);
	if (r == LACRE_OK && !o->oversight)
		r = lacre_dbuf_add_str(m, "absent events the receiver's accounting events and the quarantine "
				       "count (sealed to oversight) were not requested (--with-quarantine)\n");
	if (r == LACRE_OK && !o->access_report)
		r = lacre_dbuf_add_str(m, "absent access-log access log not available in this build\n");
	if (r == LACRE_OK)
		r = ex_lines_logged(c, m, &c->recs, &c->rec_log);
	if (r == LACRE_OK)
		r = ex_lines_logged(c, m, &c->evlines, &c->ev_log);
	for (i = 0; r == LACRE_OK && i < c->nmem; i++) {
		lacre_hex(c->mem[i].sha, 32, hex);
		r = lacre_dbuf_printf(m, "member %s %llu %s\n", hex, (unsigned long long)c->mem[i].size,
				      c->mem[i].name);
	}
	return r;
}

/* Write the package (see export.h). */
/* The self-check: the package's plaintext plain[0..n), as written, checked
 * by the offline verifier's own code (verify_package, what lacre-verify
 * runs) against the site's ingest-log key and export key, and no key of the
 * court's.  Its report (verify_result_text) goes to o->self_check.
 * LACRE_OK only when it VERIFIED; LACRE_E_VERIFY (msg says why) otherwise,
 * and then the caller writes nothing. */
static int ex_self_check(const struct export_opts *o, const struct ex_ctx *c,
			 const struct note_verifier *ev, const uint8_t *plain, size_t n,
			 char *msg, size_t msglen)
{
	struct note_verifier *lk;
	size_t nlk = 0;
	struct verify_opts vo;
	struct verify_result vr;
	struct package *pk = NULL;
	struct lacre_dbuf rep;
	char pmsg[256];
	int r;

	memset(&vo, 0, sizeof(vo));
	memset(&vr, 0, sizeof(vr));
	pmsg[0] = '\0';
	if (!(lk = calloc(receipts_index_logs(c->ix), sizeof(*lk))))
		return LACRE_E_NOMEM;
	for (size_t i = 0; i < receipts_index_logs(c->ix); i++) {
		const char *vk = receipts_index_vkey(c->ix, i);
		if (!c->pk_log[i])
			continue;
		if ((r = note_verifier_parse(vk, strlen(vk), &lk[nlk++])) != LACRE_OK) {
			snprintf(msg, msglen, "self-check: the ingest log key of %s cannot be read: %s",
				 receipts_index_origin(c->ix, i), lacre_strerror(r));
			free(lk);
			return LACRE_E_VERIFY;
		}
	}
	vo.log_keys = lk;
	vo.nlog_keys = nlk;
	vo.export_key = ev;
	if ((r = package_parse(plain, n, &pk, pmsg, sizeof(pmsg))) != LACRE_OK)
		verify_add_problem(&vr, "package", "%s", pmsg[0] ? pmsg : lacre_strerror(r));
	else if ((r = verify_package(pk, &vo, &vr)) != LACRE_OK) {
		free(lk);
		package_free(pk);
		verify_result_free(&vr);
		snprintf(msg, msglen, "self-check could not run: %s", lacre_strerror(r));
		return r;
	}
	package_free(pk);
	free(lk);
	lacre_dbuf_init(&rep, (size_t)64 << 20);
	r = verify_result_text(&vr, o->path_label ? o->path_label : o->path, "trusted (the site's ingest log key)",
			       "of the site (ledger/export.vkey)", &rep);
	if (r == LACRE_OK && o->self_check)
		r = lacre_dbuf_add(o->self_check, rep.p, rep.len);
	lacre_dbuf_free(&rep);
	if (r != LACRE_OK) {
		verify_result_free(&vr);
		snprintf(msg, msglen, "self-check report: %s", lacre_strerror(r));
		return r;
	}
	if (!vr.verified) {
		snprintf(msg, msglen, "the package did not pass lacre-verify's checks (%llu problem(s), "
			 "first: %s: %s): nothing written; keep this report for the site's administrator",
			 (unsigned long long)vr.problems, vr.nproblem ? vr.problem[0].member : "?",
			 vr.nproblem ? vr.problem[0].what : "?");
		verify_result_free(&vr);
		return LACRE_E_VERIFY;
	}
	verify_result_free(&vr);
	return LACRE_OK;
}

int export_run(const struct site *s, const struct export_opts *o,
	       struct export_result *res, char *msg, size_t msglen)
{
	struct ex_ctx c;
	struct warrant_registry *reg = NULL;
	struct lacre_store *st = NULL;
	struct note_signer *signer = NULL;
	struct note_verifier ev;
	struct age_x25519_identity id;
	struct key_tombstone tomb;
	struct access_filter f;
	struct access_report rep;
	struct export_result out;
	struct lacre_dbuf man, sig, stmt, plain;
	uint8_t pid[16], mh[32];
	char pidhex[33], mhex[65];
	size_t i;
	int r, have_id = 0;

	memset(&c, 0, sizeof(c));
	memset(&out, 0, sizeof(out));
	/* the plaintext as written, for the self-check: content, wiped */
	lacre_dbuf_init(&plain, EXPORT_SELF_CHECK_MAX);
	lacre_dbuf_set_secret(&plain);
	c.o = o;
	c.msg = msg;
	c.msglen = msglen;
	if (msglen)
		msg[0] = 0;
	lacre_dbuf_init(&c.liids, EX_LIST_MAX);
	lacre_dbuf_init(&c.jsonl, EX_TEXT_MAX);
	lacre_dbuf_set_secret(&c.jsonl);
	lacre_dbuf_init(&c.recs, EX_LIST_MAX);
	lacre_dbuf_init(&c.excl, EX_LIST_MAX);
	lacre_dbuf_init(&c.unl, EX_LIST_MAX);
	lacre_dbuf_init(&c.tmp, NOTE_MAX_SIZE + 8192);
	lacre_dbuf_init(&c.sp, SEGMENT_PROOF_TEXT_MAX);
	lacre_dbuf_init(&c.evjsonl, EX_TEXT_MAX);
	lacre_dbuf_set_secret(&c.evjsonl);
	lacre_dbuf_init(&c.evlines, EX_LIST_MAX);
	lacre_dbuf_init(&c.rec_log, EX_LIST_MAX);
	lacre_dbuf_init(&c.ev_log, EX_LIST_MAX);
	lacre_dbuf_init(&c.quar, (size_t)1 << 20);
	lacre_dbuf_init(&c.media, (size_t)1 << 26);
	lacre_dbuf_init(&c.absent, (size_t)1 << 26);
	lacre_dbuf_init(&man, EX_LIST_MAX);
	lacre_dbuf_init(&sig, NOTE_MAX_SIZE);
	lacre_dbuf_init(&stmt, 1024);
	c.excl_used = calloc(o->n_excl + 1, 1);
	if (!c.excl_used) {
		r = LACRE_E_NOMEM;
		goto out;
	}
	if ((r = warrant_registry_load(s, &reg)) != LACRE_OK) {
		snprintf(msg, msglen, "cannot load the warrant log: %s", warrant_registry_error());
		goto out;
	}
	if ((c.w = warrant_registry_find(reg, o->warrant)) == NULL) {
		r = LACRE_E_NOT_FOUND;
		snprintf(msg, msglen, "no warrant '%s' (see 'lacre warrant list')", o->warrant);
		goto out;
	}
	r = access_key(o->session, o->warrant, &id, &tomb, msg, msglen);
	if (r == LACRE_E_DENIED)
		goto out;
	if (r == LACRE_E_SHREDDED) {
		snprintf(msg, msglen, "warrant %s was shredded by order %s: nothing can be exported",
			 o->warrant, tomb.order_id);
		goto out;
	}
	if (r != LACRE_OK) {
		snprintf(msg, msglen, "cannot read warrant %s's key from the keystore: %s", o->warrant,
			 lacre_strerror(r));
		goto out;
	}
	have_id = 1;
	if ((r = export_signer(s, o->session, &signer)) != LACRE_OK) {
		snprintf(msg, msglen, "cannot load or create the export key: %s", lacre_strerror(r));
		goto out;
	}
	if ((r = site_store_open(s, &st, msg, msglen)) != LACRE_OK)
		goto out;
	if ((r = receipts_index_open(s, st, &c.ix, msg, msglen)) != LACRE_OK)
		goto out;
	if ((r = receipts_seg_new(c.ix, st, &c.rs)) != LACRE_OK)
		goto out;
	if (!(c.used = calloc(receipts_index_logs(c.ix), 1))) {
		r = LACRE_E_NOMEM;
		goto out;
	}
	c.id = &id;
	if ((r = package_writer_open(o->path, o->court, &c.pw)) != LACRE_OK) {
		if (r == LACRE_E_EXISTS)
			snprintf(msg, msglen, "cannot create %s: it or %s.tmp exists (choose another "
				 "name, or remove a leftover %s.tmp)", o->path, o->path, o->path);
		else
			snprintf(msg, msglen, "cannot create %s: %s", o->path, lacre_strerror(r));
		goto out;
	}
	if ((r = package_writer_keep(c.pw, &plain)) != LACRE_OK)
		goto io;
	access_filter_init(&f);
	f.warrant = o->warrant;
	f.from_us = o->from_us;
	f.to_us = o->to_us;
	r = access_read(st, &id, &f, ex_record, &c, ex_problem, &rep);
	if (c.err) {
		r = c.err;
		goto out;
	}
	if (r != LACRE_OK) {
		snprintf(msg, msglen, "reading the sealed records failed: %s", lacre_strerror(r));
		goto out;
	}
	if ((r = ex_unlogged_finish(&c, s)) != LACRE_OK)
		goto out;
	if (o->oversight && (r = ex_oversight_pass(&c, st)) != LACRE_OK)
		goto out;
	if (!o->no_media && (r = ex_media(&c, s, st, &id)) != LACRE_OK) {
		snprintf(msg, msglen, "cannot add the renderings: %s", lacre_strerror(r));
		goto out;
	}
	for (i = 0; i < o->n_excl; i++)
		if (c.excl_used[i] != 1) {
			r = LACRE_E_INVALID;
			if (c.excl_used[i] == 2)
				snprintf(msg, msglen, "exclusion '%s' matches only records in no signed checkpoint, "
					 "which are left out anyway (unlogged.txt): drop it", o->excl[i].text);
			else
				snprintf(msg, msglen, "exclusion '%s' matches no record of this export",
					 o->excl[i].text);
			goto out;
		}
	/* the completeness report: fix the LIID pointers now the arena is final */
	for (i = 0; i < c.nci; i++)
		c.ci[i].liid = c.liids.p ? c.liids.p + c.ci_liid[i] : NULL;
	lacre_dbuf_reset(&c.tmp);
	c.tmp.max = EX_LIST_MAX;
	if ((r = package_completeness(c.ci, c.nci, &c.tmp)) != LACRE_OK ||
	    (r = ex_add(&c, "records.jsonl", c.jsonl.p, c.jsonl.len)) != LACRE_OK ||
	    (r = ex_add(&c, "completeness.json", c.tmp.p, c.tmp.len)) != LACRE_OK)
		goto io;
	lacre_dbuf_reset(&c.tmp);
	if ((r = lacre_dbuf_add_str(&c.tmp, "lacre-exclusions/v1\n")) != LACRE_OK ||
	    (r = lacre_dbuf_add(&c.tmp, c.excl.p, c.excl.len)) != LACRE_OK ||
	    (r = ex_add(&c, "exclusions.txt", c.tmp.p, c.tmp.len)) != LACRE_OK)
		goto io;
	lacre_dbuf_reset(&c.tmp);
	if (c.unlogged &&
	    ((r = lacre_dbuf_add_str(&c.tmp, "lacre-unlogged/v1\n")) != LACRE_OK ||
	     (r = lacre_dbuf_add(&c.tmp, c.unl.p, c.unl.len)) != LACRE_OK ||
	     (r = ex_add(&c, "unlogged.txt", c.tmp.p, c.tmp.len)) != LACRE_OK))
		goto io;
	/* io: a message unless ex_logs_plan gave one */
	if ((r = ex_logs_plan(&c)) != LACRE_OK || (r = ex_log_members(&c)) != LACRE_OK)
		goto io;
	note_signer_public(signer, &ev);
	lacre_dbuf_reset(&c.tmp);
	if ((r = note_verifier_format(&ev, &c.tmp)) != LACRE_OK || (r = lacre_dbuf_add_u8(&c.tmp, '\n')) != LACRE_OK)
		goto io;
	memcpy(out.export_vkey, c.tmp.p, c.tmp.len - 1 < NOTE_KEY_TEXT_MAX ? c.tmp.len - 1 : NOTE_KEY_TEXT_MAX);
	if ((r = ex_add(&c, "export.vkey", c.tmp.p, c.tmp.len)) != LACRE_OK)
		goto io;
	lacre_dbuf_reset(&c.tmp);
	r = o->access_report ? lacre_dbuf_add_str(&c.tmp, o->access_report)
			     : lacre_dbuf_add_str(&c.tmp, "access log not available: this build has no "
						  "access log (include/lacre/acl.h is not implemented yet)\n");
	if (r != LACRE_OK || (r = ex_add(&c, "access-report.txt", c.tmp.p, c.tmp.len)) != LACRE_OK)
		goto io;
	/* the manifest and its signature */
	if (RAND_bytes(pid, sizeof(pid)) != 1) {
		r = LACRE_E_CRYPTO;
		goto out;
	}
	lacre_hex(pid, sizeof(pid), pidhex);
	if ((r = ex_manifest(&c, s, pidhex, &man)) != LACRE_OK ||
	    (r = package_writer_add(c.pw, PACKAGE_MANIFEST, man.p, man.len, mh)) != LACRE_OK)
		goto io;
	lacre_hex(mh, 32, mhex);
	if ((r = lacre_dbuf_printf(&stmt, "%spackage %s\nmanifest %s\n", PACKAGE_MAGIC, pidhex, mhex)) != LACRE_OK ||
	    (r = note_sign(signer, stmt.p, stmt.len, &sig)) != LACRE_OK ||
	    (r = package_writer_add(c.pw, PACKAGE_SIGNATURE, sig.p, sig.len, NULL)) != LACRE_OK)
		goto io;
	out.plain_bytes = package_writer_plain_size(c.pw);
	/* verify before sealing: nothing is renamed into place unless the
	 * offline verifier's own checks pass on these very bytes */
	if ((r = ex_self_check(o, &c, &ev, plain.p, plain.len, msg, msglen)) != LACRE_OK)
		goto out;
	out.self_verified = 1;
	if ((r = package_writer_finish(c.pw)) != LACRE_OK)
		goto io;
	snprintf(out.package_id, sizeof(out.package_id), "%s", pidhex);
	out.records = c.n;
	out.included = c.included;
	out.excluded = c.excluded;
	out.pdu_bytes = c.pdu_bytes;
	out.events = c.nev;
	out.wavs = c.wavs;
	out.pcaps = c.pcaps;
	out.quarantined = c.nquar;
	out.unlogged = c.unlogged;
	for (i = 0; i < receipts_index_logs(c.ix); i++)
		if (c.pk_log[i] == 1)
			out.log_size = receipts_index_tree(c.ix, i)->size;
	out.logs = c.npk;
	*res = out;
	r = LACRE_OK;
	goto out;
io:
	if (!msg[0])
		snprintf(msg, msglen, "cannot write the package %s: %s", o->path, lacre_strerror(r));
out:
	if (have_id)
		age_identity_wipe(&id);
	lacre_dbuf_free(&plain);
	package_writer_free(c.pw);
	receipts_seg_free(c.rs);
	receipts_index_free(c.ix);
	lacre_dbuf_free(&c.sp);
	lacre_store_close(st);
	note_signer_free(signer);
	warrant_registry_free(reg);
	free(c.mem);
	free(c.ci);
	free(c.xr);
	free(c.ci_liid);
	free(c.excl_used);
	lacre_dbuf_free(&c.liids);
	lacre_dbuf_free(&c.jsonl);
	lacre_dbuf_free(&c.recs);
	lacre_dbuf_free(&c.excl);
	lacre_dbuf_free(&c.unl);
	free(c.us);
	free(c.unl_cins);
	lacre_dbuf_free(&c.tmp);
	lacre_dbuf_free(&c.evjsonl);
	lacre_dbuf_free(&c.evlines);
	lacre_dbuf_free(&c.rec_log);
	lacre_dbuf_free(&c.ev_log);
	free(c.used);
	free(c.pk_log);
	lacre_dbuf_free(&c.quar);
	lacre_dbuf_free(&c.media);
	lacre_dbuf_free(&c.absent);
	lacre_dbuf_free(&man);
	lacre_dbuf_free(&sig);
	lacre_dbuf_free(&stmt);
	return r;
}

struct ex_one {
	const char *segment;
	uint64_t index;
	int found;
	uint8_t commit[32];
};

/* access_read callback: find one record and keep its commitment. */
static int ex_one_record(void *arg, const struct access_record *ar)
{
	struct ex_one *e = arg;

	if (ar->index != e->index || strcmp(ar->segment, e->segment) != 0)
		return 0;
	if (frame_commitment(ar->rec->salt, ar->rec->canon.p, ar->rec->canon.len, e->commit) != LACRE_OK)
		return LACRE_E_CRYPTO;
	e->found = 1;
	return 1;
}

/* The receipt of one record (see export.h). */
int export_record_receipt(const struct site *s, const struct acl_session *ss,
			  const char *warrant, const char *segment, uint64_t index, struct lacre_dbuf *out,
			  struct lacre_dbuf *segment_proof, uint8_t commitment[32], uint64_t *leaf, char *msg, size_t msglen)
{
	struct age_x25519_identity id;
	struct lacre_store *st = NULL;
	struct receipts_index *ix = NULL;
	struct receipts_seg *rs = NULL;
	struct receipts_where where;
	struct access_filter f;
	struct ex_one one;
	uint64_t lf;
	int r;

	if (msglen)
		msg[0] = 0;
	memset(&one, 0, sizeof(one));
	one.segment = segment;
	one.index = index;
	if ((r = access_key(ss, warrant, &id, NULL, msg, msglen)) == LACRE_E_DENIED)
		return r;
	if (r != LACRE_OK) {
		snprintf(msg, msglen, "cannot read warrant %s's key: %s", warrant, lacre_strerror(r));
		return r;
	}
	if ((r = site_store_open(s, &st, msg, msglen)) != LACRE_OK)
		goto out;
	access_filter_init(&f);
	f.warrant = warrant;
	r = access_read(st, &id, &f, ex_one_record, &one, NULL, NULL);
	if (r == 1)
		r = LACRE_OK;
	if (r == LACRE_OK && !one.found) {
		r = LACRE_E_NOT_FOUND;
		snprintf(msg, msglen, "warrant %s has no record %s:%llu (see 'lacre records --json')", warrant,
			 segment, (unsigned long long)index);
	}
	if (r != LACRE_OK) {
		if (!msg[0])
			snprintf(msg, msglen, "reading the sealed records failed: %s", lacre_strerror(r));
		goto out;
	}
	if ((r = receipts_index_open(s, st, &ix, msg, msglen)) != LACRE_OK)
		goto out;
	if ((r = receipts_seg_new(ix, st, &rs)) != LACRE_OK)
		goto out;
	r = receipts_seg_locate(rs, &id, segment, index, one.commit, &where);
	if (r != LACRE_OK && r != LACRE_E_NOT_FOUND) {
		snprintf(msg, msglen, "cannot read the commitments of %s again: %s", segment,
			 lacre_strerror(r));
		goto out;
	}
	lf = where.leaf;
	if (r != LACRE_OK) {
		if (site_audit_ingest_running(s))
			snprintf(msg, msglen, "record %s:%llu is not in the ingest log's published checkpoint "
				 "yet: ingest is running and has not published it, ask again once it has",
				 segment, (unsigned long long)index);
		else
			snprintf(msg, msglen, "record %s:%llu is in no signed checkpoint: the ingest log does "
				 "not name it (lost leaf or unlogged segment), so it has no receipt; run lacre "
				 "audit --site --deep", segment, (unsigned long long)index);
		goto out;
	}
	if ((r = receipts_index_receipt(ix, where.log, lf, out)) != LACRE_OK)
		goto out;
	if (where.v2 && (r = receipts_seg_proof(rs, &where, segment_proof)) != LACRE_OK) {
		snprintf(msg, msglen, "cannot make the segment proof of %s:%llu: %s", segment,
			 (unsigned long long)index, lacre_strerror(r));
		goto out;
	}
	if (commitment)
		memcpy(commitment, one.commit, 32);
	if (leaf)
		*leaf = lf;
out:
	age_identity_wipe(&id);
	receipts_seg_free(rs);
	receipts_index_free(ix);
	lacre_store_close(st);
	return r;
}

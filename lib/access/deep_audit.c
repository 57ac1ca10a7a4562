/*
 * deep_audit.c - `lacre audit --site DIR --deep`: with the master key,
 * decrypt every segment the ingest log records and check every record in it
 * against its commitment in the log, and every commitment against a record
 * (include/lacre/deep_audit.h).
 *
 * The keyless audit (site_audit.c) already proves the tiles, the entry
 * bundles and every segment's size and fingerprint (header + chunk tags).
 * What only a key can show is a change inside a chunk's ciphertext that
 * kept its tag - impossible without the file key - or a segment whose
 * records do not match the commitments logged when they were sealed (a
 * forged segment sealed to the right recipient by someone holding only the
 * public key: DESIGN.md §4 "no sender authentication").  So the records
 * of a segment logged by a v2 entry (one leaf per segment) must number
 * its count and their SHA-256(salt || canonical bytes), in order, hash to
 * its records root; those of a v1 segment must each be one of the log's
 * 32-byte entries, once.
 *
 * And the other way round, what a crash leaves behind: commitments whose
 * records died in an open segment, segments on the backend that the log
 * does not name.  A segment's batch is the run of 32-byte entries before
 * its "segment closed" entry; when that run holds records of no other
 * segment (the log appends a segment's commitments as one batch, or the
 * other records of the run are gone too) its lost commitments are named by
 * that segment, else they are given as ranges of log indices.  Segments
 * not yet uploaded are read from the spool.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "lacre/access.h"
#include "lacre/deep_audit.h"
#include "lacre/err.h"
#include "lacre/frame.h"
#include "lacre/merkle.h"
#include "lacre/seal_sink.h"
#include "lacre/segment.h"
#include "lacre/tlog.h"

#define DEEP_SEGMENT_MAX ((size_t)1 << 31)
#define DEEP_RANGES_SHOWN 8     /* index ranges spelled out in one line */
#define DEEP_UNLOGGED UINT64_MAX

/* A 32-byte entry of the log: its position and the record that matched it. */
struct leaf {
	uint8_t h[32];
	uint64_t idx;
	size_t seg;               /* 1 + position in segs of the matching record's segment; 0: none */
};

enum seg_state { SEG_UNREAD = 0, SEG_OPENED, SEG_UNOPENED, SEG_MISSING, SEG_BAD };

/* A segment: named by an entry (idx) or found on the backend (unlogged). */
struct dseg {
	char name[TLOG_SEGMENT_NAME_MAX + 1];
	uint64_t idx;             /* its entry's index, DEEP_UNLOGGED when none */
	enum seg_state state;
	const char *key;          /* the identity that opened it */
	uint64_t records, no_commit, seq_lo, seq_hi;
	int v2;                   /* logged by a v2 entry: records checked by root */
	uint64_t v2_records;      /* ... its count */
	uint8_t v2_root[32];      /* ... and records root */
};

struct deep {
	const struct site *s;
	struct lacre_store *st;
	const struct deep_identity *ids;
	size_t n_ids;
	void (*report)(void *arg, const char *segment, const char *what);
	void *arg;
	struct deep_audit_result *res;
	struct leaf *lv;
	size_t n, cap;
	struct dseg *sv;
	size_t ns, caps, n_logged;
	char **logged;            /* logged names, sorted (bsearch) */
	char **prior;             /* names logged by the logs audited before this one */
	size_t n_prior, cap_prior;
	char **listed;            /* segment objects on the backend */
	size_t n_listed, cap_listed;
	struct lacre_dbuf obj;
};

/* Report one problem. */
static void problem(struct deep *d, const char *seg, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void problem(struct deep *d, const char *seg, const char *fmt, ...)
{
	char what[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	d->res->problems++;
	d->report(d->arg, seg, what);
}

static int cmp_leaf_hash(const void *a, const void *b)
{
	return memcmp(((const struct leaf *)a)->h, ((const struct leaf *)b)->h, 32);
}

static int cmp_leaf_idx(const void *a, const void *b)
{
	uint64_t x = ((const struct leaf *)a)->idx, y = ((const struct leaf *)b)->idx;
	return x < y ? -1 : x > y;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A new segment slot (zeroed) in d->sv, or NULL. */
static struct dseg *seg_new(struct deep *d, const char *name, uint64_t idx)
{
	if (d->ns == d->caps) {
		size_t nc = d->caps ? d->caps * 2 : 64;
		void *nv = realloc(d->sv, nc * sizeof(*d->sv));
		if (!nv)
			return NULL;
		d->sv = nv;
		d->caps = nc;
	}
	memset(&d->sv[d->ns], 0, sizeof(d->sv[0]));
	snprintf(d->sv[d->ns].name, sizeof(d->sv[0].name), "%s", name);
	d->sv[d->ns].idx = idx;
	return &d->sv[d->ns++];
}

/* Read every entry of the log (bundles for the audited size): 32-byte
 * entries become leaves, "segment closed" entries segments. */
static int load_entries(struct deep *d, const char *prefix, uint64_t size)
{
	struct lacre_dbuf b;
	struct lacre_rbuf rb;
	struct tlog_segment seg;
	char path[LACRE_STORE_NAME_MAX + 1];
	const uint8_t *e;
	size_t len;
	int r = LACRE_OK;

	lacre_dbuf_init(&b, TLOG_BUNDLE_MAX + 1);
	for (uint64_t n = 0; n * TILE_WIDTH < size; n++) {
		unsigned w = tiles_width(size, TILE_LEVEL_ENTRIES, n);
		if ((r = tiles_path(prefix, TILE_LEVEL_ENTRIES, n, w == TILE_WIDTH ? 0 : w,
				    path, sizeof(path))) != LACRE_OK)
			break;
		lacre_dbuf_reset(&b);
		if ((r = lacre_store_get(d->st, path, 0, SIZE_MAX, &b)) != LACRE_OK)
			break;
		lacre_rbuf_init(&rb, b.p, b.len);
		for (unsigned i = 0; i < w; i++) {
			uint64_t idx = n * TILE_WIDTH + i;
			if ((r = tiles_bundle_next(&rb, &e, &len)) != LACRE_OK)
				goto out;
			if (len != 32) {
				struct dseg *g;
				if (tlog_segment_decode(e, len, &seg) != LACRE_OK)
					continue;
				if ((g = seg_new(d, seg.name, idx)) == NULL) {
					r = LACRE_E_NOMEM;
					goto out;
				}
				if (seg.version == 2) {
					g->v2 = 1;
					g->v2_records = seg.records;
					memcpy(g->v2_root, seg.records_root, 32);
				}
				continue;
			}
			if (d->n == d->cap) {
				size_t nc = d->cap ? d->cap * 2 : 1024;
				void *nv = realloc(d->lv, nc * sizeof(*d->lv));
				if (!nv) {
					r = LACRE_E_NOMEM;
					goto out;
				}
				d->lv = nv;
				d->cap = nc;
			}
			memcpy(d->lv[d->n].h, e, 32);
			d->lv[d->n].idx = idx;
			d->lv[d->n].seg = 0;
			d->n++;
		}
	}
out:
	lacre_dbuf_free(&b);
	if (r == LACRE_OK && d->n)
		qsort(d->lv, d->n, sizeof(*d->lv), cmp_leaf_hash);
	return r;
}

/* Read a local spool file whole into d->obj. */
static int read_local(struct deep *d, const char *path)
{
	char buf[65536];
	size_t n;
	int r = LACRE_OK;
	FILE *f = fopen(path, "rb");

	if (!f)
		return LACRE_E_NOT_FOUND;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		if ((r = lacre_dbuf_add(&d->obj, buf, n)) != LACRE_OK)
			break;
	if (r == LACRE_OK && ferror(f))
		r = LACRE_E_IO;
	fclose(f);
	return r;
}

/* Fetch a segment: from the backend, else (not uploaded yet) from the
 * spool, SPOOL/<name> or SPOOL/ready/<name>. */
static int fetch(struct deep *d, const char *name, int *local)
{
	char path[SITE_PATH_MAX + 320];
	const char *base = strrchr(name, '/');
	int r;

	base = base ? base + 1 : name;
	*local = 0;
	lacre_dbuf_reset(&d->obj);
	r = lacre_store_get(d->st, name, 0, SIZE_MAX, &d->obj);
	if (r != LACRE_E_NOT_FOUND)
		return r;
	for (int k = 0; k < 2; k++) {
		snprintf(path, sizeof(path), "%s/%s%s", d->s->cfg.spool_dir, k ? "ready/" : "", base);
		lacre_dbuf_reset(&d->obj);
		if ((r = read_local(d, path)) != LACRE_E_NOT_FOUND) {
			*local = r == LACRE_OK;
			return r;
		}
	}
	return LACRE_E_NOT_FOUND;
}

/* Open segment si with the first identity that opens it and match each of
 * its records with a leaf.  Problems of logged segments are reported here;
 * an unlogged segment is summed up by the caller. */
static int read_segment(struct deep *d, size_t si)
{
	struct segment_reader *sr = NULL;
	struct frame_record rec;
	struct dseg *g = &d->sv[si];
	struct merkle_tree mt;
	int logged = g->idx != DEEP_UNLOGGED, r, done, local;
	const char *base = strrchr(g->name, '/');
	uint8_t c[32];
	size_t k;

	base = base ? base + 1 : g->name;
	r = fetch(d, g->name, &local);
	if (r == LACRE_E_NOMEM)
		return r;
	if (r != LACRE_OK) {
		g->state = SEG_MISSING;
		if (logged)
			d->res->unreadable++;   /* the keyless audit has reported it */
		if (logged && g->v2)
			/* one leaf per segment: no commitment of it is left to
			 * name it, so say here what is lost */
			problem(d, g->name, "is missing: the %llu records its entry (log entry %llu) "
				"logs cannot be read", (unsigned long long)g->v2_records,
				(unsigned long long)g->idx);
		return LACRE_OK;
	}
	if (logged && local)
		d->res->from_spool++;
	for (k = 0; k < d->n_ids; k++) {
		r = segment_reader_new(d->obj.p, d->obj.len, d->ids[k].id, base, &sr);
		if (r != LACRE_E_AUTH)
			break;
	}
	if (k == d->n_ids) {
		g->state = SEG_UNOPENED;  /* shredded warrant, or a key not in this keystore */
		if (logged)
			d->res->unopened++;
		return LACRE_OK;
	}
	if (r != LACRE_OK) {
		g->state = SEG_BAD;
		problem(d, g->name, "does not open with %s's key: %s", d->ids[k].name, lacre_strerror(r));
		return LACRE_OK;
	}
	g->state = SEG_OPENED;
	g->key = d->ids[k].name;
	if (logged)
		d->res->segments++;
	if (logged && g->v2)
		merkle_tree_init(&mt);
	for (;;) {
		struct leaf key, *hit;
		r = segment_reader_next(sr, &rec, &done);
		if (r != LACRE_OK) {
			g->state = SEG_BAD;
			problem(d, g->name, "a chunk or frame failed after %llu records: %s",
				(unsigned long long)g->records, lacre_strerror(r));
			break;
		}
		if (done)
			break;
		d->res->records++;
		g->records++;
		frame_commitment(rec.salt, rec.canon.p, rec.canon.len, c);
		if (logged && g->v2) {
			/* one leaf per segment: the records are checked as a
			 * whole against the entry's count and root below */
			uint8_t lh[32];
			merkle_leaf_hash(c, 32, lh);
			if (merkle_tree_append(&mt, lh, NULL, NULL) != LACRE_OK)
				g->v2_records = UINT64_MAX;   /* cannot match */
			continue;
		}
		memcpy(key.h, c, 32);
		hit = d->n ? bsearch(&key, d->lv, d->n, sizeof(*d->lv), cmp_leaf_hash) : NULL;
		if (!hit) {
			if (g->no_commit++ == 0 || rec.seq < g->seq_lo)
				g->seq_lo = rec.seq;
			if (rec.seq > g->seq_hi || g->no_commit == 1)
				g->seq_hi = rec.seq;
			if (logged)
				problem(d, g->name, "record %llu (seq %llu) is not in the ingest log: "
					"sealed outside lacre's ingest", (unsigned long long)(g->records - 1),
					(unsigned long long)rec.seq);
			continue;
		}
		if (hit->seg)
			problem(d, g->name, "a record appears twice (seq %llu; its commitment is log entry %llu)",
				(unsigned long long)rec.seq, (unsigned long long)hit->idx);
		else
			hit->seg = si + 1;
	}
	segment_reader_free(sr);
	if (logged && g->v2 && g->state == SEG_OPENED) {
		uint8_t root[32];
		merkle_tree_root(&mt, root);
		if (g->records != g->v2_records || CRYPTO_memcmp(root, g->v2_root, 32) != 0) {
			d->res->v2_mismatch++;
			problem(d, g->name, "its %llu records do not hash to the records root and count "
				"(%llu) its entry (log entry %llu) logs: not the records sealed at ingest "
				"(a replaced or forged segment); none of them is in the log",
				(unsigned long long)g->records, (unsigned long long)g->v2_records,
				(unsigned long long)g->idx);
		}
	}
	return LACRE_OK;
}

/* lacre_store_list callback: segment objects on the backend. */
static int collect(void *arg, const char *name, uint64_t size)
{
	struct deep *d = arg;

	(void)size;
	if (d->n_listed == d->cap_listed) {
		size_t nc = d->cap_listed ? d->cap_listed * 2 : 256;
		char **nv = realloc(d->listed, nc * sizeof(*nv));
		if (!nv)
			return LACRE_E_NOMEM;
		d->listed = nv;
		d->cap_listed = nc;
	}
	if ((d->listed[d->n_listed] = strdup(name)) == NULL)
		return LACRE_E_NOMEM;
	d->n_listed++;
	return 0;
}

/* Segments on the backend that no entry names: read each, one line each. */
static int unlogged_segments(struct deep *d)
{
	int r;

	size_t nl = d->n_logged + d->n_prior;

	/* named by this log or by one audited before it */
	if ((d->logged = calloc(nl + 1, sizeof(char *))) == NULL)
		return LACRE_E_NOMEM;
	for (size_t i = 0; i < d->n_logged; i++)
		d->logged[i] = d->sv[i].name;
	for (size_t i = 0; i < d->n_prior; i++)
		d->logged[d->n_logged + i] = d->prior[i];
	qsort(d->logged, nl, sizeof(char *), cmp_str);
	if ((r = lacre_store_list(d->st, ACCESS_SEGMENT_PREFIX, collect, d)) != LACRE_OK)
		return r;
	for (size_t i = 0; i < d->n_listed; i++) {
		const char *name = d->listed[i];
		struct dseg *g;
		size_t si;
		if (nl && bsearch(&name, d->logged, nl, sizeof(char *), cmp_str))
			continue;
		if ((g = seg_new(d, name, DEEP_UNLOGGED)) == NULL)
			return LACRE_E_NOMEM;
		si = d->ns - 1;
		d->res->unlogged_segments++;
		if ((r = read_segment(d, si)) != LACRE_OK)
			return r;
		g = &d->sv[si];
		d->res->unlogged_records += g->no_commit;
		if (g->state == SEG_UNOPENED || g->state == SEG_MISSING || g->state == SEG_BAD)
			problem(d, g->name, "on the backend but named by no segment entry of the ingest log; "
				"%s: its records cannot be counted",
				g->state == SEG_UNOPENED ? "no key opens it (shredded or foreign)"
				: g->state == SEG_BAD    ? "it fails its check"
							 : "it cannot be read");
		else if (g->no_commit)
			problem(d, g->name, "on the backend but named by no segment entry of the ingest log: "
				"%llu records (%s's key), %llu of them with no commitment in the log "
				"(seq %llu..%llu): no signed checkpoint covers them",
				(unsigned long long)g->records, g->key, (unsigned long long)g->no_commit,
				(unsigned long long)g->seq_lo, (unsigned long long)g->seq_hi);
		else
			problem(d, g->name, "on the backend but named by no segment entry of the ingest log: "
				"%llu records (%s's key), each with a commitment in the log, but the "
				"segment itself is unlogged", (unsigned long long)g->records, g->key);
	}
	return LACRE_OK;
}

/* "a-b, c, ..." for the unmatched leaves of lv[a..b) (sorted by index). */
static void ranges(const struct deep *d, size_t a, size_t b, char *out, size_t cap)
{
	size_t o = 0, shown = 0, i = a;

	out[0] = 0;
	while (i < b) {
		uint64_t lo, hi;
		int w;
		if (d->lv[i].seg) {
			i++;
			continue;
		}
		lo = hi = d->lv[i].idx;
		/* a range runs over consecutive unmatched leaves; entries between
		 * them that are not leaves (events, other segments' entries) do
		 * not break it */
		while (i + 1 < b && !d->lv[i + 1].seg)
			hi = d->lv[++i].idx;
		i++;
		if (shown++ == DEEP_RANGES_SHOWN) {
			if (o + 5 < cap)
				memcpy(out + o, ", ...", 6);
			return;
		}
		w = lo == hi ? snprintf(out + o, cap - o, "%s%llu", o ? ", " : "", (unsigned long long)lo)
			     : snprintf(out + o, cap - o, "%s%llu-%llu", o ? ", " : "",
					(unsigned long long)lo, (unsigned long long)hi);
		if (w < 0 || (size_t)w >= cap - o)
			return;
		o += (size_t)w;
	}
}

/* "; N logged segments that could not be read may hold them: seg/a
 * (missing), ..." - the segments an unmatched commitment may belong to when
 * its batch does not say (empty when every logged segment was read). */
static void candidates(const struct deep *d, char *out, size_t cap)
{
	size_t n = 0, o = 0, shown = 0;
	int w;

	out[0] = 0;
	for (size_t i = 0; i < d->n_logged; i++)
		n += d->sv[i].state != SEG_OPENED;
	if (!n)
		return;
	w = snprintf(out, cap, "; %zu logged segments that could not be read may hold them:", n);
	if (w < 0 || (size_t)w >= cap)
		return;
	o = (size_t)w;
	for (size_t i = 0; i < d->n_logged && shown < 3; i++) {
		const struct dseg *g = &d->sv[i];
		if (g->state == SEG_OPENED)
			continue;
		w = snprintf(out + o, cap - o, "%s %s (%s)", shown ? "," : "", g->name,
			     g->state == SEG_UNOPENED ? "no key opens it" :
			     g->state == SEG_MISSING ? "missing" : "failed its check");
		if (w < 0 || (size_t)w >= cap - o)
			return;
		o += (size_t)w;
		shown++;
	}
	if (shown < n && o + 5 < cap)
		memcpy(out + o, ", ...", 6);
}

/* The leaves of one batch: lv[a..b) (by index), closed by segment k of sv
 * (k == n_logged: after the last segment entry).  A segment that was read
 * whole matched every record it holds, so the unmatched commitments of its
 * batch are someone else's: they are named by the batch's segment only
 * when that segment could not be read and the batch holds no record of
 * another segment (the batch layout of the log), else given as ranges with
 * the segments that may hold them. */
static void batch(struct deep *d, size_t a, size_t b, size_t k, int running)
{
	char rg[512], cand[512];
	uint64_t u = 0, other = 0;
	const struct dseg *g = k < d->n_logged ? &d->sv[k] : NULL;

	for (size_t i = a; i < b; i++) {
		if (!d->lv[i].seg)
			u++;
		else if (d->lv[i].seg != k + 1)
			other++;
	}
	if (u == 0)
		return;
	d->res->unmatched_leaves += u;
	if (!g && running) {
		d->res->open_leaves += u;
		return;
	}
	if (g && !other && g->state == SEG_UNOPENED) {
		d->res->shredded_leaves += u;
		return;
	}
	d->res->lost_leaves += u;
	ranges(d, a, b, rg, sizeof(rg));
	candidates(d, cand, sizeof(cand));
	if (!g)
		problem(d, "ingest log", "%llu commitments after the last segment entry have no record "
			"(log entries %s): no segment was closed over them, their records were lost in "
			"an open segment", (unsigned long long)u, rg);
	else if (!other && g->state != SEG_OPENED)
		problem(d, g->name, "%llu commitments of its batch have no record (log entries %s): the "
			"segment %s", (unsigned long long)u, rg,
			g->state == SEG_MISSING ? "is missing" : "failed its check");
	else
		problem(d, "ingest log", "%llu commitments before the entry of %s have no record in any "
			"segment (log entries %s)%s", (unsigned long long)u, g->name, rg, cand);
}

/* Keep the names log's segments have, for the unlogged check of the logs
 * after it. */
static int keep_names(struct deep *d)
{
	for (size_t i = 0; i < d->n_logged; i++) {
		if (d->n_prior == d->cap_prior) {
			size_t nc = d->cap_prior ? d->cap_prior * 2 : 256;
			char **nv = realloc(d->prior, nc * sizeof(*nv));
			if (!nv)
				return LACRE_E_NOMEM;
			d->prior = nv;
			d->cap_prior = nc;
		}
		if ((d->prior[d->n_prior] = strdup(d->sv[i].name)) == NULL)
			return LACRE_E_NOMEM;
		d->n_prior++;
	}
	return LACRE_OK;
}

/* Audit one log (see deep_audit_run_logs); last: the segments on the
 * backend no log names are read after its own. */
static int deep_one(struct deep *d, const struct deep_log *lg, int last)
{
	char prefix[TLOG_PREFIX_MAX];
	size_t li = 0;
	int r;

	d->n = 0;
	d->ns = 0;
	if ((r = tlog_prefix(lg->origin, prefix, sizeof(prefix))) != LACRE_OK ||
	    (r = load_entries(d, prefix, lg->size)) != LACRE_OK)
		return r;
	d->res->record_leaves += d->n;
	d->n_logged = d->ns;
	for (size_t i = 0; i < d->n_logged; i++)
		if ((r = read_segment(d, i)) != LACRE_OK)
			return r;
	if (last && (r = unlogged_segments(d)) != LACRE_OK)
		return r;
	/* every leaf without a record, batch by batch */
	if (d->n)
		qsort(d->lv, d->n, sizeof(*d->lv), cmp_leaf_idx);
	for (size_t k = 0; k <= d->n_logged; k++) {
		uint64_t end = k < d->n_logged ? d->sv[k].idx : UINT64_MAX;
		size_t a = li;
		while (li < d->n && d->lv[li].idx < end)
			li++;
		batch(d, a, li, k, lg->running);
	}
	return last ? LACRE_OK : keep_names(d);
}

int deep_audit_run_logs(const struct site *s, struct lacre_store *st, const struct deep_log *logs,
			size_t nlogs, const struct deep_identity *ids, size_t n_ids,
			void (*report)(void *arg, const char *segment, const char *what), void *arg,
			struct deep_audit_result *res)
{
	struct deep d;
	int r = LACRE_OK;

	memset(res, 0, sizeof(*res));
	memset(&d, 0, sizeof(d));
	d.s = s;
	d.st = st;
	d.ids = ids;
	d.n_ids = n_ids;
	d.report = report;
	d.arg = arg;
	d.res = res;
	lacre_dbuf_init(&d.obj, DEEP_SEGMENT_MAX);
	lacre_dbuf_set_secret(&d.obj);
	for (size_t i = 0; i < nlogs && r == LACRE_OK; i++)
		r = deep_one(&d, &logs[i], i + 1 == nlogs);
	if (r == LACRE_OK)
		r = res->problems ? LACRE_E_VERIFY : LACRE_OK;
	lacre_dbuf_free(&d.obj);
	free(d.lv);
	free(d.sv);
	free(d.logged);
	for (size_t i = 0; i < d.n_listed; i++)
		free(d.listed[i]);
	free(d.listed);
	for (size_t i = 0; i < d.n_prior; i++)
		free(d.prior[i]);
	free(d.prior);
	return r;
}

/* The site's own (seal_sink_log_origin) log alone. */
int deep_audit_run(const struct site *s, struct lacre_store *st, uint64_t log_size, int running,
		   const struct deep_identity *ids, size_t n_ids,
		   void (*report)(void *arg, const char *segment, const char *what), void *arg,
		   struct deep_audit_result *res)
{
	struct deep_log lg;
	char origin[NOTE_NAME_MAX + 1];
	int r;

	if ((r = seal_sink_log_origin(s, origin, sizeof(origin))) != LACRE_OK) {
		memset(res, 0, sizeof(*res));
		return r;
	}
	lg.origin = origin;
	lg.size = log_size;
	lg.running = running;
	return deep_audit_run_logs(s, st, &lg, 1, ids, n_ids, report, arg, res);
}

/*
 * audit.c - keyless audit of a log on an untrusted backend (tlog.h).
 *
 * Steps:
 *   1. the store's checkpoint: present, signed by the log key, cosigned by
 *      the quorum; compared with the trusted checkpoint (rollback: the
 *      store's is older; fork: same size and another root, or a tree that
 *      does not extend the trusted one);
 *   2. the audited tree is the newer of the two valid checkpoints; every
 *      object under the log's prefix is listed and classified: expected,
 *      an older partial (allowed, must be a prefix of the newer data), or
 *      extra (beyond the signed tree, or not a tile name at all);
 *   3. every entry bundle is read and hashed, every hash tile read; level 0
 *      is compared with the bundles (modified, reordered, truncated,
 *      missing), each higher level with the hashes derived from below, and
 *      the root from the entries with the signed root;
 *   4. each "segment closed" entry goes to the caller's hook, which checks
 *      the segment object itself (lib/seal's keyless fingerprint);
 *   5. with a segment prefix, every segment object on the backend that no
 *      "segment closed" entry of the audited tree names is reported: its
 *      records are in no signed checkpoint (a crash between upload and
 *      signing, or an object put there by someone else).
 * Every problem is reported as one finding with the object's name.
 *
 * Memory: one 32-byte hash per entry of the audited tree (plus a tenth of
 * that for the upper levels).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "lacre/err.h"
#include "lacre/merkle.h"
#include "lacre/note.h"
#include "lacre/tlog.h"

#define NLEVELS (TILE_LEVEL_MAX + 1)

struct objlist {
	char **name;
	uint64_t *size;
	size_t n, cap;
};

struct ctx {
	const struct audit_config *cfg;
	struct audit_result res;
	char prefix[TLOG_PREFIX_MAX];
	struct objlist objs;
	struct objlist named;   /* segment names of the audited tree's entries */
	struct objlist segobjs; /* objects listed under cfg->segment_prefix */
	int rollback, fork;
};

/* Name of a finding kind. */
const char *audit_kind_name(enum audit_kind k)
{
	switch (k) {
	case AUDIT_MODIFIED: return "modified";
	case AUDIT_MISSING: return "missing";
	case AUDIT_EXTRA: return "extra";
	case AUDIT_TRUNCATED: return "truncated";
	case AUDIT_REORDERED: return "reordered";
	case AUDIT_ROLLBACK: return "rollback";
	case AUDIT_FORK: return "fork";
	case AUDIT_BAD_CHECKPOINT: return "bad-checkpoint";
	case AUDIT_SEGMENT: return "segment";
	case AUDIT_UNLOGGED: return "unlogged";
	case AUDIT_SPOOL: return "spool";
	}
	return "unknown";
}

/* Report one finding. */
static void finding(struct ctx *c, enum audit_kind k, const char *obj, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void finding(struct ctx *c, enum audit_kind k, const char *obj, const char *fmt, ...)
{
	struct audit_finding f;
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	c->res.findings++;
	c->res.by_kind[k]++;
	if (k == AUDIT_ROLLBACK)
		c->rollback = 1;
	if (k == AUDIT_FORK)
		c->fork = 1;
	f.kind = k;
	f.object = obj ? obj : "";
	f.message = msg;
	if (c->cfg->report)
		c->cfg->report(c->cfg->report_arg, &f);
}

/* Add a copy of name (and size) to l. */
static int objlist_add(struct objlist *l, const char *name, uint64_t size)
{
	void *p;

	if (l->n == l->cap) {
		size_t nc = l->cap ? l->cap * 2 : 256;
		if ((p = realloc(l->name, nc * sizeof(*l->name))) == NULL)
			return LACRE_E_NOMEM;
		l->name = p;
		if ((p = realloc(l->size, nc * sizeof(*l->size))) == NULL)
			return LACRE_E_NOMEM;
		l->size = p;
		l->cap = nc;
	}
	if ((l->name[l->n] = strdup(name)) == NULL)
		return LACRE_E_NOMEM;
	l->size[l->n++] = size;
	return 0;
}

/* Free a list's names and arrays. */
static void objlist_free(struct objlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->name[i]);
	free(l->name);
	free(l->size);
	memset(l, 0, sizeof(*l));
}

/* lacre_store_list callback: collect names relative to the prefix. */
static int collect(void *arg, const char *name, uint64_t size)
{
	struct ctx *c = arg;
	size_t pl = strlen(c->prefix);

	if (strncmp(name, c->prefix, pl) != 0)
		return 0;
	return objlist_add(&c->objs, name + pl, size);
}

/* lacre_store_list callback: collect segment objects (full names). */
static int collect_seg(void *arg, const char *name, uint64_t size)
{
	struct ctx *c = arg;
	const char *sp = c->cfg->segment_prefix;

	if (strncmp(name, sp, strlen(sp)) != 0)
		return 0;
	return objlist_add(&c->segobjs, name, size);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Step 5: segment objects that no "segment closed" entry of the tree
 * names.  Entries that could not be read name nothing, so after a missing
 * bundle (already a finding) an object may be reported here too. */
static void check_unlogged(struct ctx *c, uint64_t n)
{
	int rc;

	if (!c->cfg->segment_prefix || (c->cfg->segment_prefix_auto && c->named.n == 0))
		return;
	if ((rc = lacre_store_list(c->cfg->store, c->cfg->segment_prefix, collect_seg, c)) != LACRE_OK) {
		finding(c, AUDIT_MISSING, c->cfg->segment_prefix, "listing the segments under %s failed: %s",
			c->cfg->segment_prefix, lacre_strerror(rc));
		return;
	}
	if (c->named.n)
		qsort(c->named.name, c->named.n, sizeof(char *), cmp_str);
	for (size_t i = 0; i < c->segobjs.n; i++) {
		const char *name = c->segobjs.name[i];
		if (c->named.n && bsearch(&name, c->named.name, c->named.n, sizeof(char *), cmp_str))
			continue;
		c->res.unlogged++;
		finding(c, AUDIT_UNLOGGED, name, "%s: on the backend (%llu bytes) but named by no "
			"segment entry of the log of size %llu: its records are in no signed checkpoint",
			name, (unsigned long long)c->segobjs.size[i], (unsigned long long)n);
	}
}

/* Read an object (relative name) whole, capped. */
static int get_obj(struct ctx *c, const char *rel, size_t cap, struct lacre_dbuf *out)
{
	char name[LACRE_STORE_NAME_MAX + 1];
	int rc;

	snprintf(name, sizeof(name), "%s%s", c->prefix, rel);
	lacre_dbuf_reset(out);
	rc = lacre_store_get(c->cfg->store, name, 0, SIZE_MAX, out);
	if (rc == LACRE_OK && out->len > cap)
		rc = LACRE_E_TOO_LARGE;
	if (rc == LACRE_OK)
		c->res.objects++;
	return rc;
}

/* Open a note as a checkpoint of this log with the configured witnesses;
 * *quorum_ok tells whether the cosignatures meet the quorum or policy. */
static int open_cp(struct ctx *c, const uint8_t *p, size_t len, struct checkpoint *cp,
		   size_t *cosigs, int *quorum_ok)
{
	const struct policy *pol = c->cfg->policy;
	struct note_verifier w[POLICY_MAX_WITNESSES] = { 0 };
	const struct note_verifier *wp = c->cfg->witnesses;
	size_t nw = c->cfg->nwitnesses, i;
	uint64_t cos = 0;
	int rc;

	if (pol) {
		for (i = 0; i < pol->nw; i++)
			w[i] = pol->w[i].key;
		wp = w;
		nw = pol->nw;
	}
	rc = checkpoint_open(p, len, &c->cfg->log_key, wp, nw, cp, &cos);
	if (rc == LACRE_OK && strcmp(cp->origin, c->cfg->origin) != 0)
		rc = LACRE_E_AUTH;
	*cosigs = (size_t)__builtin_popcountll(cos);
	*quorum_ok = pol ? policy_satisfied(pol, cos) : *cosigs >= c->cfg->quorum;
	return rc;
}

/* Per-tile comparison of stored hashes s against derived hashes d. */
static void compare_tile(struct ctx *c, const char *obj, const char *what,
			 const uint8_t (*s)[MERKLE_HASH_LEN], const uint8_t (*d)[MERKLE_HASH_LEN],
			 unsigned w, uint64_t base)
{
	unsigned i, j, bad = 0, first = 0, matched;

	for (i = 0; i < w; i++) {
		if (CRYPTO_memcmp(s[i], d[i], MERKLE_HASH_LEN) != 0) {
			if (bad++ == 0)
				first = i;
		}
	}
	if (bad == 0)
		return;
	/* same hashes in another order? */
	matched = 0;
	for (i = 0; i < w; i++)
		for (j = 0; j < w; j++)
			if (memcmp(s[i], d[j], MERKLE_HASH_LEN) == 0) {
				matched++;
				break;
			}
	if (matched == w)
		finding(c, AUDIT_REORDERED, obj, "%s: %u of %u hashes are in another order than %s (first at index %llu)",
			obj, bad, w, what, (unsigned long long)(base + first));
	else
		finding(c, AUDIT_MODIFIED, obj, "%s: %u of %u hashes differ from %s (first at index %llu)",
			obj, bad, w, what, (unsigned long long)(base + first));
}

/* Classify the listed objects against the tree of size n: report extras
 * and older partials that are not prefixes of the tree's data. */
static void check_listing(struct ctx *c, uint64_t n, uint8_t (*const *lv)[MERKLE_HASH_LEN],
			  const uint64_t *lvn, const uint8_t (*leaf)[MERKLE_HASH_LEN])
{
	struct lacre_dbuf d;
	size_t i;

	lacre_dbuf_init(&d, TLOG_BUNDLE_MAX + 1);
	for (i = 0; i < c->objs.n; i++) {
		const char *rel = c->objs.name[i];
		int level;
		uint64_t t;
		unsigned w, want;

		if (strcmp(rel, "checkpoint") == 0)
			continue;
		if (tiles_parse_path(rel, &level, &t, &w) != LACRE_OK) {
			finding(c, AUDIT_EXTRA, rel, "%s: not an object of this log", rel);
			continue;
		}
		want = tiles_width(n, level, t);
		if (w == 0)
			w = TILE_WIDTH;
		if (want == 0 || w > want) {
			finding(c, AUDIT_EXTRA, rel, "%s: beyond the signed tree of size %llu", rel,
				(unsigned long long)n);
			continue;
		}
		if (w == want)
			continue; /* the expected object: checked by the main pass */
		/* an older partial: must be a prefix of the current data */
		if (get_obj(c, rel, TLOG_BUNDLE_MAX, &d) != LACRE_OK) {
			finding(c, AUDIT_MISSING, rel, "%s: listed but cannot be read", rel);
			continue;
		}
		if (level == TILE_LEVEL_ENTRIES) {
			struct lacre_rbuf b;
			const uint8_t *e;
			size_t el;
			unsigned k;
			uint8_t h[MERKLE_HASH_LEN];
			lacre_rbuf_init(&b, d.p, d.len);
			for (k = 0; k < w; k++) {
				if (tiles_bundle_next(&b, &e, &el) != LACRE_OK) {
					finding(c, AUDIT_TRUNCATED, rel, "%s: holds %u entries, its name says %u", rel, k, w);
					break;
				}
				merkle_leaf_hash(e, el, h);
				if (leaf && memcmp(h, leaf[t * TILE_WIDTH + k], MERKLE_HASH_LEN) != 0) {
					finding(c, AUDIT_MODIFIED, rel, "%s: entry %llu differs from the full bundle",
						rel, (unsigned long long)(t * TILE_WIDTH + k));
					break;
				}
			}
			if (k == w && lacre_rbuf_left(&b) != 0)
				finding(c, AUDIT_MODIFIED, rel, "%s: trailing bytes after %u entries", rel, w);
		} else if (d.len != (size_t)w * MERKLE_HASH_LEN) {
			finding(c, d.len < (size_t)w * MERKLE_HASH_LEN ? AUDIT_TRUNCATED : AUDIT_MODIFIED,
				rel, "%s: %zu bytes, a tile of width %u has %u", rel, d.len, w,
				w * MERKLE_HASH_LEN);
		} else if (lv[level] && t * TILE_WIDTH + w <= lvn[level]) {
			compare_tile(c, rel, "the tree", (const uint8_t (*)[MERKLE_HASH_LEN])d.p,
				     (const uint8_t (*)[MERKLE_HASH_LEN])lv[level][t * TILE_WIDTH],
				     w, t * TILE_WIDTH);
		}
	}
	lacre_dbuf_free(&d);
}

/* Read the expected object for tile t of level (width w) into d; reports
 * missing / truncated / oversize objects.  Falls back to the full tile
 * when a partial is gone.  Returns LACRE_OK when d holds usable bytes. */
static int read_expected(struct ctx *c, int level, uint64_t t, unsigned w, struct lacre_dbuf *d,
			 int *fallback)
{
	char rel[128];
	int rc;

	*fallback = 0;
	tiles_path("", level, t, w, rel, sizeof(rel));
	rc = get_obj(c, rel, level == TILE_LEVEL_ENTRIES ? TLOG_BUNDLE_MAX : TILE_BYTES, d);
	if (rc == LACRE_E_NOT_FOUND && w < TILE_WIDTH) {
		char full[128];
		tiles_path("", level, t, 0, full, sizeof(full));
		/* a log may delete a partial once the full object exists */
		if (get_obj(c, full, level == TILE_LEVEL_ENTRIES ? TLOG_BUNDLE_MAX : TILE_BYTES, d) == LACRE_OK) {
			*fallback = 1;
			if (level == TILE_LEVEL_ENTRIES || d->len == TILE_BYTES)
				return LACRE_OK;
			finding(c, d->len < TILE_BYTES ? AUDIT_TRUNCATED : AUDIT_MODIFIED, full,
				"%s: %zu bytes, expected %u", full, d->len, TILE_BYTES);
			return LACRE_E_CORRUPT;
		}
	}
	if (rc == LACRE_E_NOT_FOUND) {
		finding(c, AUDIT_MISSING, rel, "%s: missing", rel);
		return rc;
	}
	if (rc == LACRE_E_TOO_LARGE) {
		finding(c, AUDIT_MODIFIED, rel, "%s: larger than any valid object", rel);
		return rc;
	}
	if (rc != LACRE_OK) {
		finding(c, AUDIT_MISSING, rel, "%s: cannot be read: %s", rel, lacre_strerror(rc));
		return rc;
	}
	if (level != TILE_LEVEL_ENTRIES && d->len != (size_t)w * MERKLE_HASH_LEN &&
	    !(w < TILE_WIDTH && d->len == TILE_BYTES)) {
		if (d->len < (size_t)w * MERKLE_HASH_LEN) {
			finding(c, AUDIT_TRUNCATED, rel, "%s: %zu bytes, expected %u", rel, d->len,
				w * MERKLE_HASH_LEN);
			return LACRE_E_TRUNCATED;
		}
		finding(c, AUDIT_MODIFIED, rel, "%s: %zu bytes, expected %u", rel, d->len,
			w * MERKLE_HASH_LEN);
		return LACRE_E_CORRUPT;
	}
	return LACRE_OK;
}

/* Read and hash every bundle of the tree; fills leaf[] and known[]. */
static int read_entries(struct ctx *c, uint64_t n, uint8_t (*leaf)[MERKLE_HASH_LEN], uint8_t *known)
{
	struct lacre_dbuf d;
	uint64_t t, nt = (n + TILE_WIDTH - 1) / TILE_WIDTH;
	int rc = LACRE_OK;

	lacre_dbuf_init(&d, TLOG_BUNDLE_MAX + 1);
	for (t = 0; t < nt; t++) {
		unsigned w = tiles_width(n, 0, t), k;
		struct lacre_rbuf b;
		const uint8_t *e;
		size_t el;
		char rel[128];
		int fb;

		tiles_path("", TILE_LEVEL_ENTRIES, t, w, rel, sizeof(rel));
		if (read_expected(c, TILE_LEVEL_ENTRIES, t, w, &d, &fb) != LACRE_OK)
			continue;
		lacre_rbuf_init(&b, d.p, d.len);
		for (k = 0; k < w; k++) {
			uint64_t idx = t * TILE_WIDTH + k;
			struct tlog_segment seg;
			if (tiles_bundle_next(&b, &e, &el) != LACRE_OK) {
				finding(c, AUDIT_TRUNCATED, rel, "%s: ends after %u of %u entries", rel, k, w);
				break;
			}
			merkle_leaf_hash(e, el, leaf[idx]);
			known[idx] = 1;
			c->res.entries++;
			if (el == 32) {
				c->res.records++;
			} else if (tlog_segment_decode(e, el, &seg) == LACRE_OK && seg.version == 2) {
				/* one leaf per segment: it logs seg.records records */
				c->res.records += seg.records;
			}
			if (c->cfg->segment) {
				int src = tlog_segment_decode(e, el, &seg);
				if (src == LACRE_E_MALFORMED) {
					finding(c, AUDIT_SEGMENT, rel, "%s: entry %llu is a malformed segment entry",
						rel, (unsigned long long)idx);
				} else if (src == LACRE_OK) {
					char msg[256] = "";
					c->res.segments++;
					if (c->cfg->segment_prefix &&
					    objlist_add(&c->named, seg.name, idx) != LACRE_OK)
						rc = LACRE_E_NOMEM;
					if (c->cfg->segment(c->cfg->segment_arg, c->cfg->store, idx, &seg,
							    msg, sizeof(msg)) != LACRE_OK)
						finding(c, AUDIT_SEGMENT, seg.name, "%s (entry %llu): %s",
							seg.name, (unsigned long long)idx,
							msg[0] ? msg : "check failed");
				}
			}
		}
		if (k == w && lacre_rbuf_left(&b) != 0 && !fb)
			finding(c, AUDIT_MODIFIED, rel, "%s: %zu bytes after its %u entries", rel,
				lacre_rbuf_left(&b), w);
	}
	lacre_dbuf_free(&d);
	return rc;
}

/* Main audit (see tlog.h). */
int audit_run(const struct audit_config *cfg, struct audit_result *out)
{
	struct ctx c;
	struct lacre_dbuf d;
	struct checkpoint scp, tcp, target;
	int have_s = 0, have_t = 0, rc, l;
	size_t cos = 0;
	uint8_t (*lv[NLEVELS])[MERKLE_HASH_LEN];
	uint64_t lvn[NLEVELS];
	uint8_t *known = NULL, *tknown = NULL, (*tl0)[MERKLE_HASH_LEN] = NULL;
	uint64_t unknown = 0;
	int ok_b = 0, ok_t = 0, qok = 0;
	char name[LACRE_STORE_NAME_MAX + 1];

	memset(&c, 0, sizeof(c));
	memset(lv, 0, sizeof(lv));
	memset(lvn, 0, sizeof(lvn));
	c.cfg = cfg;
	lacre_dbuf_init(&d, NOTE_MAX_SIZE + 1);
	if ((rc = tlog_prefix(cfg->origin, c.prefix, sizeof(c.prefix))) != LACRE_OK)
		goto out;
	/* the trusted checkpoint must verify: without it nothing is trusted */
	if (cfg->trusted) {
		rc = open_cp(&c, cfg->trusted, cfg->trusted_len, &tcp, &cos, &qok);
		if (rc != LACRE_OK)
			goto out;
		have_t = 1;
	}
	/* 1. the store's checkpoint */
	snprintf(name, sizeof(name), "%scheckpoint", c.prefix);
	rc = lacre_store_get(cfg->store, name, 0, SIZE_MAX, &d);
	if (rc == LACRE_E_NOT_FOUND) {
		finding(&c, AUDIT_MISSING, "checkpoint", "checkpoint: missing");
	} else if (rc != LACRE_OK) {
		finding(&c, AUDIT_BAD_CHECKPOINT, "checkpoint", "checkpoint: cannot be read: %s",
			lacre_strerror(rc));
	} else if (open_cp(&c, d.p, d.len, &scp, &cos, &qok) != LACRE_OK) {
		finding(&c, AUDIT_BAD_CHECKPOINT, "checkpoint",
			"checkpoint: not a valid checkpoint signed by the log key for %s", cfg->origin);
	} else {
		c.res.objects++;
		have_s = 1;
		if (!qok)
			finding(&c, AUDIT_BAD_CHECKPOINT, "checkpoint",
				"checkpoint: %zu cosignatures do not meet the witness quorum", cos);
	}
	rc = LACRE_E_VERIFY;
	if (!have_s && !have_t)
		goto done;
	target = have_s ? scp : tcp;
	if (have_s && have_t) {
		if (scp.size < tcp.size) {
			finding(&c, AUDIT_ROLLBACK, "checkpoint",
				"checkpoint: the store serves size %llu, older than the trusted size %llu",
				(unsigned long long)scp.size, (unsigned long long)tcp.size);
			target = tcp;
		} else if (scp.size == tcp.size &&
			   CRYPTO_memcmp(scp.root, tcp.root, MERKLE_HASH_LEN) != 0) {
			finding(&c, AUDIT_FORK, "checkpoint",
				"checkpoint: two checkpoints of size %llu with different roots",
				(unsigned long long)scp.size);
			target = tcp;
		}
	}
	c.res.size = target.size;
	memcpy(c.res.root, target.root, MERKLE_HASH_LEN);
	/* 2. the listing */
	if ((rc = lacre_store_list(cfg->store, c.prefix, collect, &c)) != LACRE_OK) {
		finding(&c, AUDIT_MISSING, "", "listing the store failed: %s", lacre_strerror(rc));
		rc = LACRE_OK;
	}
	/* 3. entries, then each level */
	rc = LACRE_E_NOMEM;
	if (target.size > ((uint64_t)SIZE_MAX / (2 * MERKLE_HASH_LEN)))
		goto out;
	if ((known = calloc(target.size ? target.size : 1, 1)) == NULL ||
	    (lv[0] = calloc(target.size ? target.size : 1, MERKLE_HASH_LEN)) == NULL)
		goto out;
	lvn[0] = target.size;
	if (read_entries(&c, target.size, lv[0], known) != LACRE_OK)
		goto out;   /* out of memory (rc is LACRE_E_NOMEM) */
	if ((tl0 = calloc(target.size ? target.size : 1, MERKLE_HASH_LEN)) == NULL ||
	    (tknown = calloc(target.size ? target.size : 1, 1)) == NULL)
		goto out;
	/* level-0 tiles as stored */
	for (uint64_t t = 0; t * TILE_WIDTH < target.size; t++) {
		unsigned w = tiles_width(target.size, 0, t);
		int fb;
		lacre_dbuf_reset(&d);
		if (read_expected(&c, 0, t, w, &d, &fb) != LACRE_OK)
			continue;
		memcpy(tl0[t * TILE_WIDTH], d.p, (size_t)w * MERKLE_HASH_LEN);
		memset(tknown + t * TILE_WIDTH, 1, w);
	}
	/* fill each chain's gaps from the other, then take both roots */
	for (uint64_t k = 0; k < target.size; k++) {
		if (!known[k] && tknown[k])
			memcpy(lv[0][k], tl0[k], MERKLE_HASH_LEN);
		else if (known[k] && !tknown[k])
			memcpy(tl0[k], lv[0][k], MERKLE_HASH_LEN);
		else if (!known[k])
			unknown++;
	}
	if (unknown == 0) {
		struct merkle_leaves mb = { (const uint8_t (*)[MERKLE_HASH_LEN])lv[0], target.size };
		struct merkle_leaves mt = { (const uint8_t (*)[MERKLE_HASH_LEN])tl0, target.size };
		uint8_t rb[MERKLE_HASH_LEN], rt[MERKLE_HASH_LEN];
		merkle_root(target.size, merkle_leaves_node, &mb, rb);
		merkle_root(target.size, merkle_leaves_node, &mt, rt);
		ok_b = CRYPTO_memcmp(rb, target.root, MERKLE_HASH_LEN) == 0;
		ok_t = CRYPTO_memcmp(rt, target.root, MERKLE_HASH_LEN) == 0;
		if (!ok_b && !ok_t)
			finding(&c, AUDIT_MODIFIED, "checkpoint",
				"tree: neither the entries nor the tiles of size %llu hash to the signed root",
				(unsigned long long)target.size);
	} else {
		finding(&c, AUDIT_MISSING, "checkpoint",
			"tree: %llu entries are in neither a bundle nor a tile; the root cannot be recomputed",
			(unsigned long long)unknown);
	}
	/* level 0 against the bundles: blame the side that disagrees with the
	 * signed root (both sides when neither matches) */
	for (uint64_t t = 0; t * TILE_WIDTH < target.size; t++) {
		unsigned w = tiles_width(target.size, 0, t);
		char rt_[128], rb_[128];
		const uint8_t (*tt)[MERKLE_HASH_LEN] = (const uint8_t (*)[MERKLE_HASH_LEN])tl0[t * TILE_WIDTH];
		const uint8_t (*bb)[MERKLE_HASH_LEN] = (const uint8_t (*)[MERKLE_HASH_LEN])lv[0][t * TILE_WIDTH];
		tiles_path("", 0, t, w, rt_, sizeof(rt_));
		tiles_path("", TILE_LEVEL_ENTRIES, t, w, rb_, sizeof(rb_));
		if (ok_b || !ok_t)
			compare_tile(&c, rt_, ok_b ? "the signed tree" : "the entries of its bundle",
				     tt, bb, w, t * TILE_WIDTH);
		else
			compare_tile(&c, rb_, "the signed tree (entry hashes)", bb, tt, w, t * TILE_WIDTH);
	}
	if (!ok_b && ok_t) {
		uint8_t (*tmp)[MERKLE_HASH_LEN] = lv[0];
		lv[0] = tl0;
		tl0 = tmp;
	}
	for (l = 1; l < NLEVELS; l++) {
		uint64_t nl = target.size >> (8 * l), full = lvn[l - 1] / TILE_WIDTH;
		if (nl == 0)
			break;
		if ((lv[l] = calloc(nl, MERKLE_HASH_LEN)) == NULL)
			goto out;
		lvn[l] = nl;
		for (uint64_t k = 0; k < nl && k < full; k++) {
			struct merkle_leaves ml = { (const uint8_t (*)[MERKLE_HASH_LEN])lv[l - 1] + k * TILE_WIDTH, TILE_WIDTH };
			merkle_leaves_node(&ml, 8, 0, lv[l][k]);
		}
		for (uint64_t t = 0; t * TILE_WIDTH < nl; t++) {
			unsigned w = tiles_width(target.size, l, t);
			char rel[128];
			int fb;
			tiles_path("", l, t, w, rel, sizeof(rel));
			lacre_dbuf_reset(&d);
			if (read_expected(&c, l, t, w, &d, &fb) != LACRE_OK)
				continue;
			compare_tile(&c, rel, "the hashes of the level below",
				     (const uint8_t (*)[MERKLE_HASH_LEN])d.p,
				     (const uint8_t (*)[MERKLE_HASH_LEN])lv[l][t * TILE_WIDTH], w,
				     t * TILE_WIDTH);
		}
	}
	/* the other checkpoint must be a prefix of the audited tree */
	if (unknown == 0) {
		struct merkle_leaves ml = { (const uint8_t (*)[MERKLE_HASH_LEN])lv[0], target.size };
		uint8_t root[MERKLE_HASH_LEN];
		if (have_s && have_t && !c.fork && (ok_b || ok_t)) {
			const struct checkpoint *o = target.size == scp.size ? &tcp : &scp;
			if (o->size < target.size) {
				merkle_root(o->size, merkle_leaves_node, &ml, root);
				if (CRYPTO_memcmp(root, o->root, MERKLE_HASH_LEN) != 0)
					finding(&c, AUDIT_FORK, "checkpoint",
						"checkpoint: size %llu (%s) is not a prefix of the tree of size %llu",
						(unsigned long long)o->size, o == &tcp ? "trusted" : "store",
						(unsigned long long)target.size);
			}
		}
	}
	check_listing(&c, target.size, lv, lvn, (const uint8_t (*)[MERKLE_HASH_LEN])lv[0]);
	check_unlogged(&c, target.size);
done:
	if (c.res.findings == 0)
		rc = LACRE_OK;
	else if (c.fork)
		rc = LACRE_E_FORK;
	else if (c.rollback)
		rc = LACRE_E_ROLLBACK;
	else
		rc = LACRE_E_VERIFY;
	if (out)
		*out = c.res;
out:
	for (l = 0; l < NLEVELS; l++)
		free(lv[l]);
	free(known);
	free(tknown);
	free(tl0);
	objlist_free(&c.objs);
	objlist_free(&c.named);
	objlist_free(&c.segobjs);
	lacre_dbuf_free(&d);
	return rc;
}

/*
 * receipts.c - per-record receipts from the site's ingest logs (see
 * include/lacre/receipts.h): the "logs index", one part per ingest log of
 * the site (site_ingest_logs), each built alone from its own trusted
 * checkpoint (site_ingest_checkpoint).
 *
 * A log's trusted checkpoint is its trust anchor (the receiver's local
 * copy, or the backend's verified and never older than seen); the
 * backend's bundles are untrusted: each is read through the checked buffer,
 * every entry is hashed, and the tree built from them must reproduce the
 * checkpoint's root before any leaf index or proof is handed out.  All
 * complete subtree hashes are kept (level h holds size >> h hashes), so a
 * proof costs O(log n) memory reads and no I/O.  The v2 "segment closed"
 * entries (one leaf per segment) are kept decoded, sorted by object name;
 * a v2 record is in the log only when its whole segment's commitments
 * hash to the entry's records root (receipts_index_segment_check).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "lacre/err.h"
#include "lacre/access.h"
#include "lacre/frame.h"
#include "lacre/ingest_logs.h"
#include "lacre/receipts.h"
#include "lacre/seal_sink.h"
#include "lacre/segment.h"
#include "lacre/segment_proof.h"
#include "lacre/tlog.h"

#define RCPT_FILE_MAX (64 * 1024)
#define RCPT_SEGMENT_MAX ((size_t)1 << 31)   /* cap on one segment object read */

/* A v2 segment entry of the tree. */
struct rcpt_seg {
	struct tlog_segment seg;
	uint64_t leaf;
};

/* One ingest log's part of the index. */
struct rcpt_log {
	char origin[NOTE_NAME_MAX + 1];
	struct checkpoint cp;
	uint8_t *note;                         /* the checkpoint note, verbatim */
	size_t note_len;
	char vkey[NOTE_KEY_TEXT_MAX + 1];
	unsigned levels;                       /* level[0..levels) */
	uint8_t (*level[64])[MERKLE_HASH_LEN]; /* complete subtree hashes per height */
	uint64_t *slot_i;                      /* hash set of the 32-byte entries (open
					        * addressing, keyed by their leaf hash):
					        * leaf index + 1, 0 = empty */
	size_t nslots;                         /* power of two, >= 1.5 x entries */
	struct rcpt_seg *segs;                 /* v2 entries, by name then leaf */
	size_t nsegs, capsegs;
};

/* The logs index: every ingest log of the site, in site_ingest_logs order. */
struct receipts_index {
	struct rcpt_log *log;
	size_t nlogs;
};

/* Keep a v2 segment entry (decoded) of leaf. */
static int rcpt_seg_add(struct rcpt_log *ix, const struct tlog_segment *seg, uint64_t leaf)
{
	if (ix->nsegs == ix->capsegs) {
		size_t nc = ix->capsegs ? 2 * ix->capsegs : 64;
		struct rcpt_seg *v = realloc(ix->segs, nc * sizeof(*v));
		if (!v)
			return LACRE_E_NOMEM;
		ix->segs = v;
		ix->capsegs = nc;
	}
	ix->segs[ix->nsegs].seg = *seg;
	ix->segs[ix->nsegs++].leaf = leaf;
	return LACRE_OK;
}

/* Order of segs: name, then leaf (the first entry naming a segment wins). */
static int rcpt_seg_cmp(const void *a, const void *b)
{
	const struct rcpt_seg *x = a, *y = b;
	int c = strcmp(x->seg.name, y->seg.name);

	if (c)
		return c;
	return x->leaf < y->leaf ? -1 : x->leaf > y->leaf;
}

/* Slot of a leaf hash in the hash set (its first 8 bytes: a SHA-256
 * output is uniform). */
static size_t rcpt_slot(const uint8_t lh[MERKLE_HASH_LEN], size_t nslots)
{
	uint64_t h = 0;
	for (int i = 0; i < 8; i++)
		h = h << 8 | lh[i];
	return (size_t)(h & (nslots - 1));
}

/* Insert leaf (whose hash is already in level 0); a repeated entry keeps
 * its first index.  Two leaves with the same leaf hash are the same entry,
 * so the set needs no copy of the commitments. */
static void rcpt_insert(struct rcpt_log *ix, uint64_t leaf)
{
	const uint8_t *lh = ix->level[0][leaf];
	size_t s = rcpt_slot(lh, ix->nslots);

	while (ix->slot_i[s]) {
		if (!memcmp(ix->level[0][ix->slot_i[s] - 1], lh, MERKLE_HASH_LEN))
			return;
		s = (s + 1) & (ix->nslots - 1);
	}
	ix->slot_i[s] = leaf + 1;
}

/* merkle_node_fn over the kept levels. */
static int rcpt_node(void *arg, unsigned height, uint64_t index, uint8_t out[MERKLE_HASH_LEN])
{
	const struct rcpt_log *ix = arg;

	if (height >= ix->levels || index >= (ix->cp.size >> height))
		return LACRE_E_RANGE;
	memcpy(out, ix->level[height][index], MERKLE_HASH_LEN);
	return LACRE_OK;
}

/* Read the bundles of [0, size) into level 0 and the commitment set. */
static int rcpt_bundles(struct rcpt_log *ix, struct lacre_store *store, const char *prefix,
			char *msg, size_t msglen)
{
	struct lacre_dbuf d;
	uint64_t size = ix->cp.size, nt = (size + TILE_WIDTH - 1) / TILE_WIDTH, t;
	char name[LACRE_STORE_NAME_MAX + 1];
	int r = LACRE_OK;

	lacre_dbuf_init(&d, TLOG_BUNDLE_MAX + 1);
	for (t = 0; t < nt; t++) {
		unsigned w = tiles_width(size, TILE_LEVEL_ENTRIES, t), k;
		struct lacre_rbuf b;
		const uint8_t *e;
		size_t el;

		lacre_dbuf_reset(&d);
		if ((r = tiles_path(prefix, TILE_LEVEL_ENTRIES, t, w, name, sizeof(name))) != LACRE_OK)
			break;
		r = lacre_store_get(store, name, 0, SIZE_MAX, &d);
		if (r == LACRE_E_NOT_FOUND && w < TILE_WIDTH) {
			/* the partial bundle may be gone once the full one exists */
			lacre_dbuf_reset(&d);
			if ((r = tiles_path(prefix, TILE_LEVEL_ENTRIES, t, 0, name, sizeof(name))) != LACRE_OK)
				break;
			r = lacre_store_get(store, name, 0, SIZE_MAX, &d);
		}
		if (r != LACRE_OK) {
			snprintf(msg, msglen, "ingest log bundle %s: %s", name, lacre_strerror(r));
			if (r == LACRE_E_NOT_FOUND)
				r = LACRE_E_MISSING;
			break;
		}
		lacre_rbuf_init(&b, d.p, d.len);
		for (k = 0; k < w; k++) {
			uint64_t leaf = t * TILE_WIDTH + k;
			if (tiles_bundle_next(&b, &e, &el) != LACRE_OK) {
				snprintf(msg, msglen, "ingest log bundle %s ends after %u of %u entries", name, k, w);
				r = LACRE_E_TRUNCATED;
				goto out;
			}
			merkle_leaf_hash(e, el, ix->level[0][leaf]);
			if (el == 32) {
				rcpt_insert(ix, leaf);
			} else {
				struct tlog_segment sg;
				if (tlog_segment_decode(e, el, &sg) == LACRE_OK && sg.version == 2 &&
				    (r = rcpt_seg_add(ix, &sg, leaf)) != LACRE_OK)
					goto out;
			}
		}
	}
out:
	lacre_dbuf_free(&d);
	return r;
}

/* Free one log's part. */
static void rcpt_log_free(struct rcpt_log *lg)
{
	for (unsigned h = 0; h < 64; h++)
		free(lg->level[h]);
	free(lg->slot_i);
	free(lg->segs);
	free(lg->note);
	memset(lg, 0, sizeof(*lg));
}

/* Build log lg (origin and vkey text set) from its trusted checkpoint note
 * (taken: lg owns it after the call, on success or failure): verify the
 * note with the vkey, read every entry bundle of its tree from store and
 * require them to hash to its root. */
static int rcpt_log_build(struct rcpt_log *lg, struct lacre_store *store, uint8_t *note,
			  size_t note_len, char *msg, size_t msglen)
{
	struct note_verifier v;
	char prefix[TLOG_PREFIX_MAX];
	uint8_t root[MERKLE_HASH_LEN];
	uint64_t size;
	unsigned h;
	int r;

	lg->note = note;
	lg->note_len = note_len;
	if (note_verifier_parse(lg->vkey, strlen(lg->vkey), &v) != LACRE_OK) {
		snprintf(msg, msglen, "%s: its vkey is not a vkey: check the site's ledger folder "
			 "and receiver.NAME.vkey", lg->origin);
		return LACRE_E_CORRUPT;
	}
	if (checkpoint_open(note, note_len, &v, NULL, 0, &lg->cp, NULL) != LACRE_OK ||
	    strcmp(lg->cp.origin, lg->origin) != 0) {
		snprintf(msg, msglen, "%s: its trusted checkpoint does not verify with the ingest log's key "
			 "(restore the checkpoint or the vkey from a backup of the site)", lg->origin);
		return LACRE_E_AUTH;
	}
	size = lg->cp.size;
	/* levels: height h keeps size >> h complete subtrees */
	for (h = 0; h < 64 && (size >> h) > 0; h++) {
		lg->level[h] = malloc((size_t)(size >> h) * MERKLE_HASH_LEN);
		if (!lg->level[h])
			return LACRE_E_NOMEM;
	}
	lg->levels = h;
	for (lg->nslots = 16; lg->nslots < size + size / 2 + 16; lg->nslots *= 2)
		;
	if (!(lg->slot_i = calloc(lg->nslots, sizeof(*lg->slot_i))))
		return LACRE_E_NOMEM;
	if ((r = tlog_prefix(lg->origin, prefix, sizeof(prefix))) != LACRE_OK)
		return r;
	if ((r = rcpt_bundles(lg, store, prefix, msg, msglen)) != LACRE_OK) {
		if (msg[0]) {
			char m[400];
			snprintf(m, sizeof(m), "%s", msg);
			lacre_msg(msg, msglen, "%s: %s", lg->origin, m);
		}
		return r;
	}
	for (h = 1; h < lg->levels; h++)
		for (uint64_t i = 0; i < (size >> h); i++)
			merkle_node_hash(lg->level[h - 1][2 * i], lg->level[h - 1][2 * i + 1],
					 lg->level[h][i]);
	if ((r = merkle_root(size, rcpt_node, lg, root)) != LACRE_OK)
		return r;
	if (CRYPTO_memcmp(root, lg->cp.root, MERKLE_HASH_LEN) != 0) {
		snprintf(msg, msglen, "%s: the ingest log entries on the backend do not hash to the "
			 "site's checkpoint (size %llu): the backend's bundles were altered", lg->origin,
			 (unsigned long long)size);
		return LACRE_E_VERIFY;
	}
	if (lg->nsegs)
		qsort(lg->segs, lg->nsegs, sizeof(*lg->segs), rcpt_seg_cmp);
	return LACRE_OK;
}

/* One segment name of one log (the cross-log check). */
struct rcpt_name {
	const char *name;
	size_t log;
};

/* Order of names: name, then log. */
static int rcpt_name_cmp(const void *a, const void *b)
{
	const struct rcpt_name *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	return x->log < y->log ? -1 : x->log > y->log;
}

/* A segment is proven by the one log that names it: refuse an index in
 * which two logs name the same segment, naming the segment and both. */
static int rcpt_unique(const struct receipts_index *ix, char *msg, size_t msglen)
{
	struct rcpt_name *v;
	size_t n = 0, i, k;
	int r = LACRE_OK;

	for (i = 0; i < ix->nlogs; i++)
		n += ix->log[i].nsegs;
	if (n < 2 || ix->nlogs < 2)
		return LACRE_OK;
	if (!(v = malloc(n * sizeof(*v))))
		return LACRE_E_NOMEM;
	for (i = 0, k = 0; i < ix->nlogs; i++)
		for (size_t j = 0; j < ix->log[i].nsegs; j++) {
			v[k].name = ix->log[i].segs[j].seg.name;
			v[k++].log = i;
		}
	qsort(v, n, sizeof(*v), rcpt_name_cmp);
	for (i = 1; i < n; i++)
		if (!strcmp(v[i - 1].name, v[i].name) && v[i - 1].log != v[i].log) {
			lacre_msg(msg, msglen, "segment %s is named by two ingest logs, %s and %s: a "
				 "segment belongs to the one receiver that sealed it; audit the site "
				 "(lacre audit --site --deep) and report it", v[i].name,
				 ix->log[v[i - 1].log].origin, ix->log[v[i].log].origin);
			r = LACRE_E_VERIFY;
			break;
		}
	free(v);
	return r;
}

/* Build the index over every ingest log of the site (see receipts.h). */
int receipts_index_open(const struct site *s, struct lacre_store *store,
			struct receipts_index **out, char *msg, size_t msglen)
{
	struct receipts_index *ix;
	struct site_ingest_log *logs = NULL;
	struct lacre_dbuf cp;
	size_t n = 0, i;
	int r;

	if (msglen)
		msg[0] = 0;
	if ((r = site_ingest_logs(s, &logs, &n, msg, msglen)) != LACRE_OK)
		return r;
	if (n == 0) {
		free(logs);
		snprintf(msg, msglen, "no ingest log on this site yet (no ledger/ingest*/vkey in %s, "
			 "no receiver.NAME.vkey in lacre.conf)", s->dir);
		return LACRE_E_NOT_FOUND;
	}
	if (!(ix = calloc(1, sizeof(*ix))) || !(ix->log = calloc(n, sizeof(*ix->log)))) {
		free(ix);
		free(logs);
		return LACRE_E_NOMEM;
	}
	lacre_dbuf_init(&cp, RCPT_FILE_MAX);
	for (i = 0; i < n; i++) {
		struct rcpt_log *lg = &ix->log[ix->nlogs];
		uint8_t *note;
		size_t len;

		lacre_dbuf_reset(&cp);
		r = site_ingest_checkpoint(s, &logs[i], store, &cp, msg, msglen);
		if (r == LACRE_E_NOT_FOUND)
			continue;   /* a log with no checkpoint yet proves nothing yet */
		if (r != LACRE_OK)
			goto fail;
		if (strlen(logs[i].vkey) >= sizeof(lg->vkey)) {
			r = LACRE_E_CONFIG;
			lacre_msg(msg, msglen, "%s: its vkey is too long to be a vkey", logs[i].origin);
			goto fail;
		}
		memcpy(lg->origin, logs[i].origin, sizeof(lg->origin));
		memcpy(lg->vkey, logs[i].vkey, strlen(logs[i].vkey) + 1);
		len = cp.len;
		note = lacre_dbuf_steal(&cp, &len);
		lacre_dbuf_init(&cp, RCPT_FILE_MAX);
		ix->nlogs++;
		if ((r = rcpt_log_build(lg, store, note, len, msg, msglen)) != LACRE_OK)
			goto fail;
	}
	if (ix->nlogs == 0) {
		r = LACRE_E_NOT_FOUND;
		snprintf(msg, msglen, "no published ingest checkpoint yet (%s has none)", logs[0].origin);
		goto fail;
	}
	if ((r = rcpt_unique(ix, msg, msglen)) != LACRE_OK)
		goto fail;
	lacre_dbuf_free(&cp);
	free(logs);
	*out = ix;
	return LACRE_OK;
fail:
	lacre_dbuf_free(&cp);
	free(logs);
	receipts_index_free(ix);
	return r;
}

/* Free the index. */
void receipts_index_free(struct receipts_index *ix)
{
	if (!ix)
		return;
	for (size_t i = 0; i < ix->nlogs; i++)
		rcpt_log_free(&ix->log[i]);
	free(ix->log);
	free(ix);
}

/* The number of logs. */
size_t receipts_index_logs(const struct receipts_index *ix)
{
	return ix->nlogs;
}

/* Log log's origin. */
const char *receipts_index_origin(const struct receipts_index *ix, size_t log)
{
	return log < ix->nlogs ? ix->log[log].origin : "";
}

/* Leaf index of a commitment in one log. */
static int rcpt_find(const struct rcpt_log *lg, const uint8_t lh[MERKLE_HASH_LEN], uint64_t *leaf)
{
	size_t s;

	if (!lg->slot_i)
		return LACRE_E_NOT_FOUND;
	s = rcpt_slot(lh, lg->nslots);
	while (lg->slot_i[s]) {
		if (!memcmp(lg->level[0][lg->slot_i[s] - 1], lh, MERKLE_HASH_LEN)) {
			*leaf = lg->slot_i[s] - 1;
			return LACRE_OK;
		}
		s = (s + 1) & (lg->nslots - 1);
	}
	return LACRE_E_NOT_FOUND;
}

/* Log and leaf index of a commitment (the first log holding it). */
int receipts_index_find(const struct receipts_index *ix, const uint8_t commitment[32],
			size_t *log, uint64_t *leaf)
{
	uint8_t lh[MERKLE_HASH_LEN];

	merkle_leaf_hash(commitment, 32, lh);
	for (size_t i = 0; i < ix->nlogs; i++)
		if (rcpt_find(&ix->log[i], lh, leaf) == LACRE_OK) {
			if (log)
				*log = i;
			return LACRE_OK;
		}
	return LACRE_E_NOT_FOUND;
}

/* Inclusion proof of leaf of log to its checkpoint. */
int receipts_index_proof(const struct receipts_index *ix, size_t log, uint64_t leaf,
			 struct merkle_proof *out)
{
	if (log >= ix->nlogs || leaf >= ix->log[log].cp.size)
		return LACRE_E_RANGE;
	return merkle_prove_inclusion(leaf, ix->log[log].cp.size, rcpt_node, (void *)&ix->log[log], out);
}

/* The receipt of leaf of log. */
int receipts_index_receipt(const struct receipts_index *ix, size_t log, uint64_t leaf,
			   struct lacre_dbuf *out)
{
	struct merkle_proof p;
	int r;

	if ((r = receipts_index_proof(ix, log, leaf, &p)) != LACRE_OK)
		return r;
	return receipt_format(leaf, &p, ix->log[log].note, ix->log[log].note_len, out);
}

/* The checkpoint note of log. */
void receipts_index_checkpoint(const struct receipts_index *ix, size_t log, const uint8_t **note,
			       size_t *len)
{
	*note = ix->log[log].note;
	*len = ix->log[log].note_len;
}

/* The checkpoint's parsed form. */
const struct checkpoint *receipts_index_tree(const struct receipts_index *ix, size_t log)
{
	return &ix->log[log].cp;
}

/* The log's vkey text. */
const char *receipts_index_vkey(const struct receipts_index *ix, size_t log)
{
	return ix->log[log].vkey;
}

/* The first v2 entry of one log naming object (binary search, then back
 * to the lowest leaf of equal names). */
static int rcpt_segment(const struct rcpt_log *lg, const char *object, uint64_t *leaf,
			const struct tlog_segment **seg)
{
	size_t lo = 0, hi = lg->nsegs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(lg->segs[mid].seg.name, object) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == lg->nsegs || strcmp(lg->segs[lo].seg.name, object) != 0)
		return LACRE_E_NOT_FOUND;
	if (leaf)
		*leaf = lg->segs[lo].leaf;
	if (seg)
		*seg = &lg->segs[lo].seg;
	return LACRE_OK;
}

/* The v2 entry naming object, in the one log that names it. */
int receipts_index_segment(const struct receipts_index *ix, const char *object, size_t *log,
			   uint64_t *leaf, const struct tlog_segment **seg)
{
	for (size_t i = 0; i < ix->nlogs; i++)
		if (rcpt_segment(&ix->log[i], object, leaf, seg) == LACRE_OK) {
			if (log)
				*log = i;
			return LACRE_OK;
		}
	return LACRE_E_NOT_FOUND;
}

/* Check a segment's commitments against its logged v2 entry. */
int receipts_index_segment_check(const struct receipts_index *ix, const char *object,
				 const uint8_t (*commits)[32], uint64_t n, size_t *log,
				 uint64_t *leaf)
{
	const struct tlog_segment *seg;
	uint8_t root[32];
	uint64_t lf;
	size_t lg;
	int r;

	if ((r = receipts_index_segment(ix, object, &lg, &lf, &seg)) != LACRE_OK)
		return r;
	if (seg->records != n)
		return LACRE_E_VERIFY;
	if ((r = tlog_segment_records_root(commits, n, root)) != LACRE_OK)
		return r;
	if (CRYPTO_memcmp(root, seg->records_root, 32) != 0)
		return LACRE_E_VERIFY;
	if (log)
		*log = lg;
	if (leaf)
		*leaf = lf;
	return LACRE_OK;
}

/* ---- per-record lookups ---- */

enum rcpt_state { RS_NONE = 0, RS_V1, RS_V2, RS_BAD };

struct receipts_seg {
	const struct receipts_index *ix;
	struct lacre_store *st;
	char object[LACRE_STORE_NAME_MAX + 1];  /* the segment cached, "" none */
	enum rcpt_state state;
	size_t log;                             /* v2: the log naming it */
	uint64_t leaf;                          /* v2: its entry's leaf */
	const struct tlog_segment *seg;
	uint8_t (*commits)[32];
	uint64_t n;
	struct merkle_levels tree;              /* v2: built on the first proof */
	int have_tree;
};

/* A cache for per-record lookups. */
int receipts_seg_new(const struct receipts_index *ix, struct lacre_store *st,
		     struct receipts_seg **out)
{
	struct receipts_seg *c = calloc(1, sizeof(*c));

	if (!c)
		return LACRE_E_NOMEM;
	c->ix = ix;
	c->st = st;
	*out = c;
	return LACRE_OK;
}

/* Forget the cached segment. */
static void rcpt_seg_reset(struct receipts_seg *c)
{
	free(c->commits);
	c->commits = NULL;
	c->n = 0;
	if (c->have_tree)
		merkle_levels_free(&c->tree);
	c->have_tree = 0;
	c->object[0] = 0;
	c->state = RS_NONE;
	c->seg = NULL;
}

/* Free the cache and what it holds. */
void receipts_seg_free(struct receipts_seg *c)
{
	if (!c)
		return;
	rcpt_seg_reset(c);
	free(c);
}

/* Read every record commitment of object (opened with id) into c. */
static int rcpt_seg_read(struct receipts_seg *c, const struct age_x25519_identity *id,
			 const char *object)
{
	struct lacre_dbuf obj;
	struct segment_reader *sr = NULL;
	struct frame_record rec;
	size_t pl = strlen(ACCESS_SEGMENT_PREFIX), cap = 0;
	int r, done = 0;

	if (strncmp(object, ACCESS_SEGMENT_PREFIX, pl) != 0)
		return LACRE_E_INVALID;
	lacre_dbuf_init(&obj, RCPT_SEGMENT_MAX);
	lacre_dbuf_set_secret(&obj);
	if ((r = lacre_store_get(c->st, object, 0, SIZE_MAX, &obj)) != LACRE_OK ||
	    (r = segment_reader_new(obj.p, obj.len, id, object + pl, &sr)) != LACRE_OK)
		goto out;
	for (;;) {
		if ((r = segment_reader_next(sr, &rec, &done)) != LACRE_OK || done)
			break;
		if (c->n == cap) {
			size_t nc = cap ? 2 * cap : 256;
			uint8_t (*v)[32];
			if (c->n >= TLOG_SEGMENT_RECORDS_MAX || !(v = realloc(c->commits, nc * 32))) {
				r = LACRE_E_NOMEM;
				break;
			}
			c->commits = v;
			cap = nc;
		}
		if ((r = frame_commitment(rec.salt, rec.canon.p, rec.canon.len, c->commits[c->n])) != LACRE_OK)
			break;
		c->n++;
	}
out:
	segment_reader_free(sr);
	lacre_dbuf_free(&obj);
	return r;
}

/* Locate one record. */
int receipts_seg_locate(struct receipts_seg *c, const struct age_x25519_identity *id,
			const char *object, uint64_t index, const uint8_t commit[32],
			struct receipts_where *w)
{
	int r;

	if (strcmp(c->object, object) != 0 || c->state == RS_NONE) {
		rcpt_seg_reset(c);
		if (strlen(object) >= sizeof(c->object))
			return LACRE_E_INVALID;
		if (receipts_index_segment(c->ix, object, &c->log, &c->leaf, &c->seg) != LACRE_OK) {
			c->state = RS_V1;
		} else {
			if ((r = rcpt_seg_read(c, id, object)) != LACRE_OK) {
				rcpt_seg_reset(c);
				return r;
			}
			r = receipts_index_segment_check(c->ix, object, (const uint8_t (*)[32])c->commits,
							 c->n, NULL, NULL);
			if (r != LACRE_OK && r != LACRE_E_VERIFY) {
				rcpt_seg_reset(c);
				return r;
			}
			c->state = r == LACRE_OK ? RS_V2 : RS_BAD;
		}
		snprintf(c->object, sizeof(c->object), "%s", object);
	}
	memset(w, 0, sizeof(*w));
	switch (c->state) {
	case RS_V1:
		return receipts_index_find(c->ix, commit, &w->log, &w->leaf);
	case RS_V2:
		if (index >= c->n || CRYPTO_memcmp(c->commits[index], commit, 32) != 0)
			return LACRE_E_NOT_FOUND;
		w->log = c->log;
		w->leaf = c->leaf;
		w->v2 = 1;
		w->index = index;
		w->n = c->n;
		return LACRE_OK;
	default:
		return LACRE_E_NOT_FOUND;
	}
}

/* The segment proof of a located v2 record. */
int receipts_seg_proof(struct receipts_seg *c, const struct receipts_where *w,
		       struct lacre_dbuf *out)
{
	struct lacre_dbuf e;
	int r;

	if (!w->v2 || c->state != RS_V2 || w->n != c->n || w->index >= c->n)
		return LACRE_E_INVALID;
	if (!c->have_tree) {
		if ((r = merkle_levels_build(&c->tree, (const uint8_t (*)[32])c->commits, c->n)) != LACRE_OK) {
			merkle_levels_free(&c->tree);
			return r;
		}
		c->have_tree = 1;
	}
	lacre_dbuf_init(&e, SEGMENT_ENTRY_MAX);
	if ((r = tlog_segment_encode(c->seg, &e)) == LACRE_OK)
		r = segment_proof_make(&c->tree, e.p, e.len, w->index, out);
	lacre_dbuf_free(&e);
	return r;
}

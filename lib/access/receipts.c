/*
 * receipts.c - per-record receipts from the site's ingest log (see
 * include/lacre/receipts.h).
 *
 * The local checkpoint is the trust anchor (it never leaves the site); the
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

struct receipts_index {
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

/* Keep a v2 segment entry (decoded) of leaf. */
static int rcpt_seg_add(struct receipts_index *ix, const struct tlog_segment *seg, uint64_t leaf)
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

/* Read a small local file into out (whole, capped). */
static int rcpt_read(const char *path, struct lacre_dbuf *out)
{
	return note_read_file(path, RCPT_FILE_MAX, out);
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
static void rcpt_insert(struct receipts_index *ix, uint64_t leaf)
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
	const struct receipts_index *ix = arg;

	if (height >= ix->levels || index >= (ix->cp.size >> height))
		return LACRE_E_RANGE;
	memcpy(out, ix->level[height][index], MERKLE_HASH_LEN);
	return LACRE_OK;
}

/* Read the bundles of [0, size) into level 0 and the commitment set. */
static int rcpt_bundles(struct receipts_index *ix, struct lacre_store *store, const char *prefix,
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

/* Build the index (see receipts.h). */
int receipts_index_open(const struct site *s, struct lacre_store *store,
			struct receipts_index **out, char *msg, size_t msglen)
{
	struct receipts_index *ix;
	struct note_verifier v;
	struct lacre_dbuf vk, cp;
	char path[SITE_PATH_MAX], origin[NOTE_NAME_MAX + 1], prefix[TLOG_PREFIX_MAX];
	uint8_t root[MERKLE_HASH_LEN];
	uint64_t size;
	unsigned h;
	int r;

	if (msglen)
		msg[0] = 0;
	if ((ix = calloc(1, sizeof(*ix))) == NULL)
		return LACRE_E_NOMEM;
	lacre_dbuf_init(&vk, RCPT_FILE_MAX);
	lacre_dbuf_init(&cp, RCPT_FILE_MAX);
	if ((r = seal_sink_log_origin(s, origin, sizeof(origin))) != LACRE_OK ||
	    (r = site_path(s, "ledger/ingest/vkey", path, sizeof(path))) != LACRE_OK)
		goto fail;
	if ((r = rcpt_read(path, &vk)) != LACRE_OK) {
		snprintf(msg, msglen, "no ingest log on this site yet (%s)", path);
		goto fail;
	}
	while (vk.len && (vk.p[vk.len - 1] == '\n' || vk.p[vk.len - 1] == '\r'))
		vk.len--;
	if (vk.len > NOTE_KEY_TEXT_MAX ||
	    (r = note_verifier_parse((const char *)vk.p, vk.len, &v)) != LACRE_OK) {
		r = LACRE_E_CORRUPT;
		snprintf(msg, msglen, "%s is not a vkey", path);
		goto fail;
	}
	memcpy(ix->vkey, vk.p, vk.len);
	ix->vkey[vk.len] = 0;
	if ((r = site_path(s, "ledger/ingest/checkpoint", path, sizeof(path))) != LACRE_OK)
		goto fail;
	if ((r = rcpt_read(path, &cp)) != LACRE_OK) {
		snprintf(msg, msglen, "no published ingest checkpoint yet (%s)", path);
		goto fail;
	}
	if ((r = checkpoint_open(cp.p, cp.len, &v, NULL, 0, &ix->cp, NULL)) != LACRE_OK ||
	    strcmp(ix->cp.origin, origin) != 0) {
		r = LACRE_E_AUTH;
		snprintf(msg, msglen, "the local checkpoint %s does not verify with the ingest log's key", path);
		goto fail;
	}
	ix->note_len = cp.len;
	ix->note = lacre_dbuf_steal(&cp, &ix->note_len);
	size = ix->cp.size;
	/* levels: height h keeps size >> h complete subtrees */
	for (h = 0; h < 64 && (size >> h) > 0; h++) {
		ix->level[h] = malloc((size_t)(size >> h) * MERKLE_HASH_LEN);
		if (!ix->level[h]) {
			r = LACRE_E_NOMEM;
			goto fail;
		}
	}
	ix->levels = h;
	for (ix->nslots = 16; ix->nslots < size + size / 2 + 16; ix->nslots *= 2)
		;
	ix->slot_i = calloc(ix->nslots, sizeof(*ix->slot_i));
	if (!ix->slot_i) {
		r = LACRE_E_NOMEM;
		goto fail;
	}
	if ((r = tlog_prefix(origin, prefix, sizeof(prefix))) != LACRE_OK ||
	    (r = rcpt_bundles(ix, store, prefix, msg, msglen)) != LACRE_OK)
		goto fail;
	for (h = 1; h < ix->levels; h++)
		for (uint64_t i = 0; i < (size >> h); i++)
			merkle_node_hash(ix->level[h - 1][2 * i], ix->level[h - 1][2 * i + 1],
					 ix->level[h][i]);
	if ((r = merkle_root(size, rcpt_node, ix, root)) != LACRE_OK)
		goto fail;
	if (CRYPTO_memcmp(root, ix->cp.root, MERKLE_HASH_LEN) != 0) {
		r = LACRE_E_VERIFY;
		snprintf(msg, msglen, "the ingest log entries on the backend do not hash to the site's "
			 "checkpoint (size %llu): the backend's bundles were altered",
			 (unsigned long long)size);
		goto fail;
	}
	if (ix->nsegs)
		qsort(ix->segs, ix->nsegs, sizeof(*ix->segs), rcpt_seg_cmp);
	lacre_dbuf_free(&vk);
	*out = ix;
	return LACRE_OK;
fail:
	lacre_dbuf_free(&vk);
	lacre_dbuf_free(&cp);
	receipts_index_free(ix);
	return r;
}

/* Free the index. */
void receipts_index_free(struct receipts_index *ix)
{
	if (!ix)
		return;
	for (unsigned h = 0; h < 64; h++)
		free(ix->level[h]);
	free(ix->slot_i);
	free(ix->segs);
	free(ix->note);
	free(ix);
}

/* Leaf index of a commitment. */
int receipts_index_find(const struct receipts_index *ix, const uint8_t commitment[32],
			uint64_t *leaf)
{
	uint8_t lh[MERKLE_HASH_LEN];
	size_t s;

	merkle_leaf_hash(commitment, 32, lh);
	s = rcpt_slot(lh, ix->nslots);
	while (ix->slot_i[s]) {
		if (!memcmp(ix->level[0][ix->slot_i[s] - 1], lh, MERKLE_HASH_LEN)) {
			*leaf = ix->slot_i[s] - 1;
			return LACRE_OK;
		}
		s = (s + 1) & (ix->nslots - 1);
	}
	return LACRE_E_NOT_FOUND;
}

/* Inclusion proof of leaf to the checkpoint. */
int receipts_index_proof(const struct receipts_index *ix, uint64_t leaf, struct merkle_proof *out)
{
	if (leaf >= ix->cp.size)
		return LACRE_E_RANGE;
	return merkle_prove_inclusion(leaf, ix->cp.size, rcpt_node, (void *)ix, out);
}

/* The receipt of leaf. */
int receipts_index_receipt(const struct receipts_index *ix, uint64_t leaf, struct lacre_dbuf *out)
{
	struct merkle_proof p;
	int r;

	if ((r = receipts_index_proof(ix, leaf, &p)) != LACRE_OK)
		return r;
	return receipt_format(leaf, &p, ix->note, ix->note_len, out);
}

/* The checkpoint note. */
void receipts_index_checkpoint(const struct receipts_index *ix, const uint8_t **note, size_t *len)
{
	*note = ix->note;
	*len = ix->note_len;
}

/* The checkpoint's parsed form. */
const struct checkpoint *receipts_index_tree(const struct receipts_index *ix)
{
	return &ix->cp;
}

/* The log's vkey text. */
const char *receipts_index_vkey(const struct receipts_index *ix)
{
	return ix->vkey;
}

/* The first v2 entry naming object (binary search, then back to the
 * lowest leaf of equal names). */
int receipts_index_segment(const struct receipts_index *ix, const char *object, uint64_t *leaf,
			   const struct tlog_segment **seg)
{
	size_t lo = 0, hi = ix->nsegs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(ix->segs[mid].seg.name, object) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == ix->nsegs || strcmp(ix->segs[lo].seg.name, object) != 0)
		return LACRE_E_NOT_FOUND;
	if (leaf)
		*leaf = ix->segs[lo].leaf;
	if (seg)
		*seg = &ix->segs[lo].seg;
	return LACRE_OK;
}

/* Check a segment's commitments against its logged v2 entry. */
int receipts_index_segment_check(const struct receipts_index *ix, const char *object,
				 const uint8_t (*commits)[32], uint64_t n, uint64_t *leaf)
{
	const struct tlog_segment *seg;
	uint8_t root[32];
	uint64_t lf;
	int r;

	if ((r = receipts_index_segment(ix, object, &lf, &seg)) != LACRE_OK)
		return r;
	if (seg->records != n)
		return LACRE_E_VERIFY;
	if ((r = tlog_segment_records_root(commits, n, root)) != LACRE_OK)
		return r;
	if (CRYPTO_memcmp(root, seg->records_root, 32) != 0)
		return LACRE_E_VERIFY;
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
		if (receipts_index_segment(c->ix, object, &c->leaf, &c->seg) != LACRE_OK) {
			c->state = RS_V1;
		} else {
			if ((r = rcpt_seg_read(c, id, object)) != LACRE_OK) {
				rcpt_seg_reset(c);
				return r;
			}
			r = receipts_index_segment_check(c->ix, object, (const uint8_t (*)[32])c->commits,
							 c->n, NULL);
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
		return receipts_index_find(c->ix, commit, &w->leaf);
	case RS_V2:
		if (index >= c->n || CRYPTO_memcmp(c->commits[index], commit, 32) != 0)
			return LACRE_E_NOT_FOUND;
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

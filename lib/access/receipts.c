/*
 * receipts.c - per-record receipts from the site's ingest log (see
 * include/lacre/receipts.h).
 *
 * The local checkpoint is the trust anchor (it never leaves the site); the
 * backend's bundles are untrusted: each is read through the checked buffer,
 * every entry is hashed, and the tree built from them must reproduce the
 * checkpoint's root before any leaf index or proof is handed out.  All
 * complete subtree hashes are kept (level h holds size >> h hashes), so a
 * proof costs O(log n) memory reads and no I/O.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "lacre/err.h"
#include "lacre/receipts.h"
#include "lacre/seal_sink.h"
#include "lacre/tlog.h"

#define RCPT_FILE_MAX (64 * 1024)

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
};

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
			if (el == 32)
				rcpt_insert(ix, leaf);
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

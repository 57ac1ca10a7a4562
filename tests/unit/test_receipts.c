/*
 * test_receipts.c - per-record receipts from the site's ingest log
 * (lib/access/receipts.c) on a site whose log the real sealing sink wrote:
 * every record's commitment is found and its receipt verifies (log
 * signature and inclusion) with the log's vkey; a commitment the log does
 * not hold, an index past the tree and a receipt for another leaf are
 * refused; and each thing the index refuses to trust is refused with its
 * own error: no log, a vkey that is not one or belongs to another key, a
 * local checkpoint missing or altered, an entry bundle missing, cut short
 * or altered on the (untrusted) backend.  The partial bundle may be
 * replaced by the full one: the index reads the full one.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "sink_kit.h"
#include "lacre/merkle.h"
#include "lacre/note.h"
#include "lacre/segment_proof.h"

#define N_REC 300                 /* records, one per segment: the log (one leaf per
				   * segment) spans a full and a partial bundle */

static struct lacre_store *inner, *fst;
static struct kit_recs *recs;     /* the sealed records, read back */
static char prefix[TLOG_PREFIX_MAX];
static char vkey_path[SITE_PATH_MAX + 32], cp_path[SITE_PATH_MAX + 32];

/* A site with one warrant and N_REC records sealed, closed and uploaded;
 * recs holds them as read back. */
static int make_logged_site(void)
{
	struct warrant w;
	struct lacre_sink k;
	struct lacre_dbuf b;
	char wid[WARRANT_ID_MAX], spec[SITE_PATH_MAX + 16], origin[NOTE_NAME_MAX + 1];
	int64_t t0 = T("2026-02-01T10:00:00Z");
	int r;

	/* max_bytes 1: every record closes its segment */
	if ((r = kit_make_site(NULL, 0, 1, 0)) != LACRE_OK)
		return r;
	kit_spec(&w, "LI-R", "2026-01-10", "2026-01-10", "2026-04-10");
	if ((r = warrant_add(&kit_site, kit_ks, &w, wid, kit_msg, sizeof(kit_msg))) != LACRE_OK ||
	    (r = seal_sink_open(&kit_site, &k, kit_msg, sizeof(kit_msg))) != LACRE_OK)
		return r;
	lacre_dbuf_init(&b, 1 << 20);
	for (int i = 0; i < N_REC && r == LACRE_OK; i++) {
		lacre_dbuf_reset(&b);
		r = kit_ipcc(&b, "LI-R", (uint64_t)i, t0 + i, 60);
		if (r == LACRE_OK)
			r = kit_push(&k, b.p, b.len, t0 + i, LACRE_HI3);
	}
	k.close(k.ctx);
	lacre_dbuf_free(&b);
	if (r != LACRE_OK)
		return r;
	if (snprintf(spec, sizeof(spec), "dir:%s/objects", kit_site.dir) >= (int)sizeof(spec) ||
	    snprintf(vkey_path, sizeof(vkey_path), "%s/ledger/ingest/vkey", kit_site.dir) >=
		    (int)sizeof(vkey_path) ||
	    snprintf(cp_path, sizeof(cp_path), "%s/ledger/ingest/checkpoint", kit_site.dir) >=
		    (int)sizeof(cp_path))
		return LACRE_E_TOO_LARGE;
	if ((r = lacre_store_open(spec, &inner)) != LACRE_OK ||
	    (r = lacre_store_faulty_wrap(inner, 1, &fst)) != LACRE_OK ||
	    (r = seal_sink_log_origin(&kit_site, origin, sizeof(origin))) != LACRE_OK ||
	    (r = tlog_prefix(origin, prefix, sizeof(prefix))) != LACRE_OK)
		return r;
	if (!(recs = calloc(1, sizeof(*recs))))
		return LACRE_E_NOMEM;
	return kit_read(fst, "W-000001", 0, recs, NULL);
}

/* Name of entry bundle t of a tree of size (partial when not full). */
static void bundle(uint64_t size, uint64_t t, char *out, size_t cap)
{
	tiles_path(prefix, TILE_LEVEL_ENTRIES, t, tiles_width(size, TILE_LEVEL_ENTRIES, t), out, cap);
}

/* Open the index over the lying store. */
static int open_ix(struct receipts_index **ix)
{
	kit_msg[0] = 0;
	return receipts_index_open(&kit_site, fst, ix, kit_msg, sizeof(kit_msg));
}

/* A site whose sink never ran has no log: NOT_FOUND, said so. */
static void test_no_log(void)
{
	struct receipts_index *ix = NULL;
	struct lacre_store *st = NULL;

	CHECK_OK(kit_make_site(NULL, 0, 0, 0));
	CHECK_OK(lacre_store_open(kit_site.cfg.backend, &st));
	CHECK_EQ_INT(receipts_index_open(&kit_site, st, &ix, kit_msg, sizeof(kit_msg)),
		     LACRE_E_NOT_FOUND);
	CHECK(ix == NULL);
	CHECK(strstr(kit_msg, "no ingest log on this site yet") != NULL);
	lacre_store_close(st);
}

/* Every record has a receipt that verifies offline with the vkey alone. */
static void test_every_record(void)
{
	struct receipts_index *ix = NULL;
	struct note_verifier v;
	struct lacre_dbuf d, file;
	struct receipt rc;
	struct checkpoint cp;
	struct merkle_proof pf;
	const uint8_t *note;
	size_t note_len;
	uint8_t lh[MERKLE_HASH_LEN], other[32];
	uint64_t leaf, leaf2, seen_max = 0;
	const char *vk;
	struct age_x25519_identity id;
	struct receipts_seg *rs = NULL;
	struct lacre_dbuf ent, spd;
	static struct segment_proof sp;
	const struct tlog_segment *seg0;

	lacre_dbuf_init(&d, 1 << 20);
	lacre_dbuf_init(&file, 1 << 20);
	CHECK_OK(make_logged_site());
	CHECK_EQ_INT(recs->n, N_REC);
	CHECK_OK(open_ix(&ix));
	/* one leaf per segment, here one segment per record */
	CHECK_EQ_INT(receipts_index_tree(ix, 0)->size, N_REC);
	CHECK(receipts_index_tree(ix, 0)->size > TILE_WIDTH);
	/* the accessors: the vkey text and the local checkpoint, verbatim */
	vk = receipts_index_vkey(ix, 0);
	CHECK_OK(note_verifier_parse(vk, strlen(vk), &v));
	receipts_index_checkpoint(ix, 0, &note, &note_len);
	CHECK_OK(site_read_file(cp_path, 1 << 16, &file));
	CHECK_EQ_INT(note_len, file.len);
	CHECK_MEM(note, file.p, note_len);
	CHECK_OK(keystore_get(kit_ks, "W-000001", &id, NULL));
	CHECK_OK(receipts_seg_new(ix, fst, &rs));
	lacre_dbuf_init(&ent, 1024);
	lacre_dbuf_init(&spd, SEGMENT_PROOF_TEXT_MAX);
	for (size_t i = 0; i < recs->n; i++) {
		const struct tlog_segment *seg;
		struct receipts_where w;
		/* no record has a leaf of its own any more */
		CHECK_EQ_INT(receipts_index_find(ix, recs->v[i].commitment, NULL, &leaf), LACRE_E_NOT_FOUND);
		CHECK_OK(kit_rec_leaf(ix, recs, i, &leaf));
		CHECK(leaf < receipts_index_tree(ix, 0)->size);
		if (leaf > seen_max)
			seen_max = leaf;
		CHECK_OK(receipts_index_segment(ix, recs->v[i].segment, NULL, &leaf2, &seg));
		CHECK_EQ_INT(leaf2, leaf);
		CHECK_EQ_INT(seg->version, 2);
		CHECK_EQ_INT(seg->records, 1);
		lacre_dbuf_reset(&ent);
		CHECK_OK(tlog_segment_encode(seg, &ent));
		lacre_dbuf_reset(&d);
		CHECK_OK(receipts_index_receipt(ix, 0, leaf, &d));
		CHECK_OK(receipt_parse(d.p, d.len, &rc));
		CHECK_EQ_INT(rc.index, leaf);
		merkle_leaf_hash(ent.p, ent.len, lh);
		CHECK_OK(receipt_verify(&rc, lh, &v, NULL, 0, 0, &cp));
		CHECK_EQ_INT(cp.size, receipts_index_tree(ix, 0)->size);
		/* the same receipt does not prove another entry */
		ent.p[ent.len - 1] ^= 1;
		merkle_leaf_hash(ent.p, ent.len, lh);
		CHECK(receipt_verify(&rc, lh, &v, NULL, 0, 0, NULL) != LACRE_OK);
		/* per record: located through the segment, its proof verifies */
		CHECK_OK(receipts_seg_locate(rs, &id, recs->v[i].segment, recs->v[i].index,
					     recs->v[i].commitment, &w));
		CHECK_EQ_INT(w.v2, 1);
		CHECK_EQ_INT(w.leaf, leaf);
		CHECK_EQ_INT(w.index, recs->v[i].index);
		lacre_dbuf_reset(&spd);
		CHECK_OK(receipts_seg_proof(rs, &w, &spd));
		CHECK_OK(segment_proof_parse(spd.p, spd.len, &sp));
		CHECK_OK(segment_proof_verify(&sp, recs->v[i].commitment));
		/* another commitment at that place: not in the log */
		memcpy(other, recs->v[i].commitment, 32);
		other[0] ^= 1;
		CHECK_EQ_INT(receipts_seg_locate(rs, &id, recs->v[i].segment, recs->v[i].index, other, &w),
			     LACRE_E_NOT_FOUND);
		/* the segment check: count and root */
		CHECK_OK(receipts_index_segment_check(ix, recs->v[i].segment,
						      (const uint8_t (*)[32])recs->v[i].commitment, 1, NULL, &leaf2));
		CHECK_EQ_INT(leaf2, leaf);
		CHECK_EQ_INT(receipts_index_segment_check(ix, recs->v[i].segment,
							  (const uint8_t (*)[32])other, 1, NULL, NULL),
			     LACRE_E_VERIFY);
		CHECK_EQ_INT(receipts_index_segment_check(ix, recs->v[i].segment,
							  (const uint8_t (*)[32])recs->v[i].commitment, 0, NULL, NULL),
			     LACRE_E_VERIFY);
	}
	CHECK(seen_max >= TILE_WIDTH);                       /* both bundles used */
	CHECK_EQ_INT(receipts_index_segment(ix, "seg/00000000000000000000000000000000", NULL, NULL, NULL),
		     LACRE_E_NOT_FOUND);
	receipts_seg_free(rs);
	age_identity_wipe(&id);
	lacre_dbuf_free(&ent);
	lacre_dbuf_free(&spd);
	/* not in the log: not found; past the tree: out of range */
	memset(other, 0x5a, sizeof(other));
	CHECK_EQ_INT(receipts_index_find(ix, other, NULL, &leaf), LACRE_E_NOT_FOUND);
	CHECK_EQ_INT(receipts_index_proof(ix, 0, receipts_index_tree(ix, 0)->size, &pf), LACRE_E_RANGE);
	lacre_dbuf_reset(&d);
	CHECK_EQ_INT(receipts_index_receipt(ix, 0, receipts_index_tree(ix, 0)->size, &d), LACRE_E_RANGE);
	CHECK_EQ_INT(d.len, 0);
	/* the proof alone checks against the root */
	CHECK_OK(kit_rec_leaf(ix, recs, 0, &leaf));
	CHECK_OK(receipts_index_proof(ix, 0, leaf, &pf));
	CHECK_OK(receipts_index_segment(ix, recs->v[0].segment, NULL, NULL, &seg0));
	lacre_dbuf_init(&ent, 1024);
	CHECK_OK(tlog_segment_encode(seg0, &ent));
	merkle_leaf_hash(ent.p, ent.len, lh);
	lacre_dbuf_free(&ent);
	CHECK_OK(merkle_verify_inclusion(leaf, receipts_index_tree(ix, 0)->size, lh, &pf,
					 receipts_index_tree(ix, 0)->root));
	receipts_index_free(ix);
	lacre_dbuf_free(&d);
	lacre_dbuf_free(&file);
}

/* Write n bytes to path, replacing it. */
static int put_file(const char *path, const void *p, size_t n)
{
	return site_write_file(path, p, n, 0600);
}

/* The trust anchors are local files: each kind of damage is refused. */
static void test_local_anchor(void)
{
	struct receipts_index *ix = NULL;
	struct lacre_dbuf vk, cp, other;
	struct note_signer *sig = NULL;
	char *nl;

	lacre_dbuf_init(&vk, 1 << 16);
	lacre_dbuf_init(&cp, 1 << 16);
	lacre_dbuf_init(&other, 1 << 16);
	CHECK(fst != NULL);                      /* the site of test_every_record */
	CHECK_OK(site_read_file(vkey_path, 1 << 16, &vk));
	CHECK_OK(site_read_file(cp_path, 1 << 16, &cp));
	/* a vkey that is not one: the site's list of logs refuses it */
	CHECK_OK(put_file(vkey_path, "not a vkey\n", 11));
	CHECK_EQ_INT(open_ix(&ix), LACRE_E_CONFIG);
	CHECK(strstr(kit_msg, "not the key of origin") != NULL);
	/* another key's vkey with the same name */
	{
		char origin[NOTE_NAME_MAX + 1];
		CHECK_OK(seal_sink_log_origin(&kit_site, origin, sizeof(origin)));
		struct note_verifier ov;
		CHECK_OK(note_signer_generate(origin, NOTE_TYPE_ED25519, &sig));
		note_signer_public(sig, &ov);
		note_signer_free(sig);
		CHECK_OK(note_verifier_format(&ov, &other));
	}
	CHECK_OK(put_file(vkey_path, other.p, other.len));
	CHECK_EQ_INT(open_ix(&ix), LACRE_E_AUTH);
	CHECK(strstr(kit_msg, "does not verify with the ingest log's key") != NULL);
	CHECK_OK(put_file(vkey_path, vk.p, vk.len));
	/* no checkpoint */
	CHECK(unlink(cp_path) == 0);
	CHECK_EQ_INT(open_ix(&ix), LACRE_E_NOT_FOUND);
	CHECK(strstr(kit_msg, "no published ingest checkpoint yet") != NULL);
	/* a checkpoint whose size line was changed: the signature fails */
	lacre_dbuf_reset(&other);
	CHECK_OK(lacre_dbuf_add(&other, cp.p, cp.len));
	nl = memchr(other.p, '\n', other.len);
	CHECK(nl != NULL && nl[1] >= '1' && nl[1] <= '8');
	nl[1] = (char)(nl[1] + 1);
	CHECK_OK(put_file(cp_path, other.p, other.len));
	CHECK_EQ_INT(open_ix(&ix), LACRE_E_AUTH);
	CHECK(ix == NULL);
	CHECK_OK(put_file(cp_path, cp.p, cp.len));
	CHECK_OK(open_ix(&ix));
	receipts_index_free(ix);
	lacre_dbuf_free(&vk);
	lacre_dbuf_free(&cp);
	lacre_dbuf_free(&other);
}

/* The backend's bundles are untrusted: missing, cut or altered, refused. */
static void test_bundles(void)
{
	struct receipts_index *ix = NULL;
	struct lacre_dbuf d;
	char full[LACRE_STORE_NAME_MAX + 1], part[LACRE_STORE_NAME_MAX + 1];
	uint64_t size, bsize;

	lacre_dbuf_init(&d, TLOG_BUNDLE_MAX + 1);
	CHECK(fst != NULL);
	CHECK_OK(open_ix(&ix));
	size = receipts_index_tree(ix, 0)->size;
	receipts_index_free(ix);
	ix = NULL;
	bundle(size, 0, full, sizeof(full));
	bundle(size, 1, part, sizeof(part));
	CHECK(strstr(part, ".p/") != NULL);
	/* missing */
	CHECK_OK(lacre_store_faulty_set(fst, LACRE_STORE_FAULT_HIDE, full, 0));
	CHECK_EQ_INT(open_ix(&ix), LACRE_E_MISSING);
	CHECK(strstr(kit_msg, full) != NULL);
	CHECK_OK(lacre_store_faulty_clear(fst, 0, NULL));
	CHECK_OK(lacre_store_faulty_set(fst, LACRE_STORE_FAULT_HIDE, part, 0));
	CHECK_EQ_INT(open_ix(&ix), LACRE_E_MISSING);
	CHECK_OK(lacre_store_faulty_clear(fst, 0, NULL));
	/* cut short: fewer entries than the tree needs */
	CHECK_OK(lacre_store_stat(fst, full, &bsize));
	CHECK_OK(lacre_store_faulty_set(fst, LACRE_STORE_FAULT_TRUNCATE, full, bsize - 40));
	CHECK_EQ_INT(open_ix(&ix), LACRE_E_TRUNCATED);
	CHECK(strstr(kit_msg, "ends after") != NULL);
	CHECK_OK(lacre_store_faulty_clear(fst, 0, NULL));
	/* one entry byte changed: the tree no longer hashes to the root */
	CHECK_OK(lacre_store_faulty_set(fst, LACRE_STORE_FAULT_FLIP, full, 100));
	CHECK_EQ_INT(open_ix(&ix), LACRE_E_VERIFY);
	CHECK(strstr(kit_msg, "do not hash to the site's checkpoint") != NULL);
	CHECK_OK(lacre_store_faulty_clear(fst, 0, NULL));
	/* the partial bundle gone, a full one (as the log grew) in its place:
	 * read from the full one */
	CHECK_OK(lacre_store_get(inner, part, 0, SIZE_MAX, &d));
	{
		char full1[LACRE_STORE_NAME_MAX + 1];
		tiles_path(prefix, TILE_LEVEL_ENTRIES, 1, 0, full1, sizeof(full1));
		CHECK_OK(lacre_store_put_if_absent(inner, full1, d.p, d.len));
		CHECK_OK(lacre_store_del(inner, part));
	}
	CHECK_OK(open_ix(&ix));
	CHECK_EQ_INT(receipts_index_tree(ix, 0)->size, size);
	receipts_index_free(ix);
	lacre_dbuf_free(&d);
}

int main(void)
{
	RUN(test_no_log);
	RUN(test_every_record);
	RUN(test_local_anchor);
	RUN(test_bundles);
	lacre_store_close(fst);
	free(recs);
	keystore_close(kit_ks);
	return t_done();
}

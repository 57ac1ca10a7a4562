/*
 * test_logs_index.c - the logs index (lib/access/receipts.c) over a site
 * with two receivers, "a" and "b", each with its own ingest log written by
 * the real sealing sink (issue 15, "Many machines"): every record of one
 * warrant is found in the log of the receiver that sealed it, its receipt
 * carries that log's checkpoint and verifies against that log's tree, and
 * its segment proof reaches its entry's records root.  Refused or said,
 * each with its own error and the origin named: a log whose checkpoint
 * does not verify with its key (LACRE_E_AUTH), a segment named by both
 * logs (LACRE_E_VERIFY, naming the segment and both origins).  A log with
 * no checkpoint yet is left out: its records are in no signed log.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "sink_kit.h"
#include "lacre/ingest_logs.h"
#include "lacre/merkle.h"
#include "lacre/note.h"
#include "lacre/segment_proof.h"

#define N_A 5                     /* records receiver a seals (seq 0..4) */
#define N_B 7                     /* records receiver b seals (seq 100..106) */

static struct lacre_store *st;
static struct kit_recs *recs;     /* the warrant's records, read back */
static char wid[WARRANT_ID_MAX];
static char origin_a[NOTE_NAME_MAX + 1], origin_b[NOTE_NAME_MAX + 1];

/* Seal n records of LIID LI-M (seq from seq0) as receiver name. */
static int seal_as(const char *name, uint64_t seq0, int n)
{
	struct lacre_sink k;
	struct lacre_dbuf b;
	int64_t t0 = T("2026-02-01T10:00:00Z");
	int r;

	if ((r = site_receiver_select(&kit_site, name, kit_msg, sizeof(kit_msg))) != LACRE_OK ||
	    (r = seal_sink_open(&kit_site, &k, kit_msg, sizeof(kit_msg))) != LACRE_OK)
		return r;
	lacre_dbuf_init(&b, 1 << 20);
	for (int i = 0; i < n && r == LACRE_OK; i++) {
		lacre_dbuf_reset(&b);
		r = kit_ipcc(&b, "LI-M", seq0 + (uint64_t)i, t0 + (int64_t)seq0 + i, 60);
		if (r == LACRE_OK)
			r = kit_push(&k, b.p, b.len, t0 + (int64_t)seq0 + i, LACRE_HI3);
	}
	k.close(k.ctx);
	lacre_dbuf_free(&b);
	return r;
}

/* A site (one warrant) whose receivers a and b each sealed a part of its
 * records, every record closing its segment (one leaf per segment). */
static int make_site(void)
{
	struct warrant w;
	char spec[SITE_PATH_MAX + 16];
	int r;

	if ((r = kit_make_site(NULL, 0, 1, 0)) != LACRE_OK)
		return r;
	kit_spec(&w, "LI-M", "2026-01-10", "2026-01-10", "2026-04-10");
	if ((r = warrant_add(&kit_site, kit_ks, &w, wid, kit_msg, sizeof(kit_msg))) != LACRE_OK ||
	    (r = seal_as("a", 0, N_A)) != LACRE_OK || (r = seal_as("b", 100, N_B)) != LACRE_OK ||
	    (r = site_ingest_origin(&kit_site, "a", origin_a, sizeof(origin_a))) != LACRE_OK ||
	    (r = site_ingest_origin(&kit_site, "b", origin_b, sizeof(origin_b))) != LACRE_OK)
		return r;
	if (snprintf(spec, sizeof(spec), "dir:%s/objects", kit_site.dir) >= (int)sizeof(spec))
		return LACRE_E_TOO_LARGE;
	if ((r = lacre_store_open(spec, &st)) != LACRE_OK)
		return r;
	if (!(recs = calloc(1, sizeof(*recs))))
		return LACRE_E_NOMEM;
	return kit_read(st, wid, 0, recs, NULL);
}

/* DIR/ledger/ingest-NAME/checkpoint. */
static void cp_path(const char *name, char *out, size_t cap)
{
	snprintf(out, cap, "%s/ledger/ingest-%s/checkpoint", kit_site.dir, name);
}

/* Every record is in the log of the receiver that sealed it. */
static void test_two_logs(void)
{
	struct receipts_index *ix = NULL;
	struct receipts_seg *rs = NULL;
	struct age_x25519_identity id;
	struct lacre_dbuf d, spd;
	size_t per[2] = { 0, 0 };
	char want[NOTE_NAME_MAX + 8];

	CHECK_OK(make_site());
	CHECK_EQ_INT(recs->n, N_A + N_B);
	CHECK_OK(receipts_index_open(&kit_site, st, &ix, kit_msg, sizeof(kit_msg)));
	CHECK_EQ_INT(receipts_index_logs(ix), 2);
	CHECK_STR(receipts_index_origin(ix, 0), origin_a);
	CHECK_STR(receipts_index_origin(ix, 1), origin_b);
	CHECK_EQ_INT(receipts_index_tree(ix, 0)->size, N_A);
	CHECK_EQ_INT(receipts_index_tree(ix, 1)->size, N_B);
	CHECK_OK(keystore_get(kit_ks, wid, &id, NULL));
	CHECK_OK(receipts_seg_new(ix, st, &rs));
	lacre_dbuf_init(&d, 1 << 16);
	lacre_dbuf_init(&spd, 1 << 16);
	for (size_t i = 0; i < recs->n; i++) {
		const struct kit_rec *r = &recs->v[i];
		struct receipts_where w;
		struct receipt rc;
		struct segment_proof sp;
		struct merkle_proof pf;
		const struct tlog_segment *seg;
		size_t lg = 9, expect = r->seq >= 100;
		uint8_t lh[MERKLE_HASH_LEN];

		CHECK_OK(receipts_seg_locate(rs, &id, r->segment, r->index, r->commitment, &w));
		CHECK_EQ_INT(w.log, expect);
		CHECK(w.v2);
		per[w.log]++;
		CHECK_OK(receipts_index_segment(ix, r->segment, &lg, NULL, &seg));
		CHECK_EQ_INT(lg, expect);
		/* the receipt carries its own log's checkpoint */
		lacre_dbuf_reset(&d);
		CHECK_OK(receipts_index_receipt(ix, w.log, w.leaf, &d));
		CHECK_OK(receipt_parse(d.p, d.len, &rc));
		snprintf(want, sizeof(want), "%s\n", receipts_index_origin(ix, w.log));
		CHECK(rc.cp_len > strlen(want) && !memcmp(rc.cp, want, strlen(want)));
		/* the segment proof reaches the entry, the entry the log's root */
		lacre_dbuf_reset(&spd);
		CHECK_OK(receipts_seg_proof(rs, &w, &spd));
		CHECK_OK(segment_proof_parse(spd.p, spd.len, &sp));
		CHECK_OK(segment_proof_verify(&sp, r->commitment));
		merkle_leaf_hash(sp.entry, sp.entry_len, lh);
		CHECK_OK(receipts_index_proof(ix, w.log, w.leaf, &pf));
		CHECK_OK(merkle_verify_inclusion(w.leaf, receipts_index_tree(ix, w.log)->size, lh, &pf,
						 receipts_index_tree(ix, w.log)->root));
		/* and not the other log's root */
		if (receipts_index_tree(ix, !w.log)->size > w.leaf)
			CHECK(merkle_verify_inclusion(w.leaf, receipts_index_tree(ix, !w.log)->size, lh, &pf,
						      receipts_index_tree(ix, !w.log)->root) != LACRE_OK);
	}
	CHECK_EQ_INT(per[0], N_A);
	CHECK_EQ_INT(per[1], N_B);
	/* a proof past a log's tree, a log that is not there */
	lacre_dbuf_reset(&d);
	CHECK_EQ_INT(receipts_index_receipt(ix, 0, N_A, &d), LACRE_E_RANGE);
	CHECK_EQ_INT(receipts_index_receipt(ix, 2, 0, &d), LACRE_E_RANGE);
	age_identity_wipe(&id);
	receipts_seg_free(rs);
	receipts_index_free(ix);
	lacre_dbuf_free(&d);
	lacre_dbuf_free(&spd);
}

/* A log whose checkpoint does not verify refuses the index, naming it; a
 * log with no checkpoint yet is left out. */
static void test_bad_checkpoint(void)
{
	struct receipts_index *ix = NULL;
	struct receipts_seg *rs = NULL;
	struct age_x25519_identity id;
	struct lacre_dbuf cp, alt;
	char path[SITE_PATH_MAX + 64];
	char *nl;
	size_t nb = 0;

	CHECK(st != NULL);
	cp_path("b", path, sizeof(path));
	lacre_dbuf_init(&cp, 1 << 16);
	lacre_dbuf_init(&alt, 1 << 16);
	CHECK_OK(site_read_file(path, 1 << 16, &cp));
	/* b's size line changed: its signature fails */
	CHECK_OK(lacre_dbuf_add(&alt, cp.p, cp.len));
	nl = memchr(alt.p, '\n', alt.len);
	CHECK(nl != NULL && nl[1] >= '1' && nl[1] <= '8');
	nl[1] = (char)(nl[1] + 1);
	CHECK_OK(site_write_file(path, alt.p, alt.len, 0600));
	CHECK_EQ_INT(receipts_index_open(&kit_site, st, &ix, kit_msg, sizeof(kit_msg)), LACRE_E_AUTH);
	CHECK(ix == NULL);
	CHECK(strstr(kit_msg, origin_b) == kit_msg);
	CHECK(strstr(kit_msg, "does not verify with the ingest log's key") != NULL);
	/* no checkpoint of b yet: the index holds a alone, b's records are in
	 * no signed log */
	CHECK(unlink(path) == 0);
	CHECK_OK(receipts_index_open(&kit_site, st, &ix, kit_msg, sizeof(kit_msg)));
	CHECK_EQ_INT(receipts_index_logs(ix), 1);
	CHECK_STR(receipts_index_origin(ix, 0), origin_a);
	CHECK_OK(keystore_get(kit_ks, wid, &id, NULL));
	CHECK_OK(receipts_seg_new(ix, st, &rs));
	for (size_t i = 0; i < recs->n; i++) {
		struct receipts_where w;
		int r = receipts_seg_locate(rs, &id, recs->v[i].segment, recs->v[i].index,
					    recs->v[i].commitment, &w);
		if (recs->v[i].seq >= 100) {
			CHECK_EQ_INT(r, LACRE_E_NOT_FOUND);
			nb++;
		} else {
			CHECK_OK(r);
			CHECK_EQ_INT(w.log, 0);
		}
	}
	CHECK_EQ_INT(nb, N_B);
	age_identity_wipe(&id);
	receipts_seg_free(rs);
	receipts_index_free(ix);
	CHECK_OK(site_write_file(path, cp.p, cp.len, 0600));
	CHECK_OK(receipts_index_open(&kit_site, st, &ix, kit_msg, sizeof(kit_msg)));
	CHECK_EQ_INT(receipts_index_logs(ix), 2);
	receipts_index_free(ix);
	lacre_dbuf_free(&cp);
	lacre_dbuf_free(&alt);
}

/* A segment of a's log named by b's log too (an entry b's key signed):
 * the index is refused, naming the segment and both origins. */
static void test_segment_in_both(void)
{
	struct receipts_index *ix = NULL;
	const struct tlog_segment *seg;
	struct tlog_segment copy;
	struct note_signer *key = NULL;
	struct tlog *log = NULL;
	struct lacre_dbuf e;
	char state[SITE_PATH_MAX], name[LACRE_STORE_NAME_MAX + 1];
	const char *aseg = NULL;
	size_t lg = 9;

	CHECK(st != NULL);
	for (size_t i = 0; i < recs->n && !aseg; i++)
		if (recs->v[i].seq < 100)
			aseg = recs->v[i].segment;
	CHECK(aseg != NULL);
	snprintf(name, sizeof(name), "%s", aseg);
	CHECK_OK(receipts_index_open(&kit_site, st, &ix, kit_msg, sizeof(kit_msg)));
	CHECK_OK(receipts_index_segment(ix, name, &lg, NULL, &seg));
	CHECK_EQ_INT(lg, 0);
	copy = *seg;
	receipts_index_free(ix);
	ix = NULL;
	lacre_dbuf_init(&e, 1024);
	CHECK_OK(tlog_segment_encode(&copy, &e));
	CHECK_OK(site_log_key(&kit_site, "ledger/ingest-b.key", origin_b, &key));
	CHECK_OK(site_path(&kit_site, "ledger/ingest-b", state, sizeof(state)));
	CHECK_OK(tlog_open(st, state, origin_b, key, &log));
	CHECK_OK(tlog_append(log, e.p, e.len, NULL));
	CHECK_OK(tlog_checkpoint(log, NULL));
	tlog_close(log);
	note_signer_free(key);
	lacre_dbuf_free(&e);
	CHECK_EQ_INT(receipts_index_open(&kit_site, st, &ix, kit_msg, sizeof(kit_msg)), LACRE_E_VERIFY);
	CHECK(ix == NULL);
	CHECK(strstr(kit_msg, name) != NULL);
	CHECK(strstr(kit_msg, "is named by two ingest logs") != NULL);
	CHECK(strstr(kit_msg, origin_a) != NULL && strstr(kit_msg, origin_b) != NULL);
}

int main(void)
{
	RUN(test_two_logs);
	RUN(test_bad_checkpoint);
	RUN(test_segment_in_both);
	lacre_store_close(st);
	free(recs);
	keystore_close(kit_ks);
	return t_done();
}

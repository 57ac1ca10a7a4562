/*
 * test_calls_index.c - the calls of a warrant as `lacre calls` lists them
 * (lib/access/calls.c over lib/access/index.c) from records the real
 * sealing sink wrote: a VoIP call with one RTP packet lost from the
 * target and a data session (IPCC with an IPIRI access event) are
 * correlated into two entries with their counters and problems; a call is
 * found by its id (SIP facts only, as calls.h says) and not by another; its JSON form carries every field
 * `lacre calls --json` documents; calls_parse_id accepts only
 * "<warrant>-<cin>"; a second index_update adds nothing.  The index
 * itself: segments by condition, records read back through it, reset and
 * rebuilt, a stranger's key indexes nothing, a file that is not an index
 * is LACRE_E_DB, LIID text.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "sink_kit.h"
#include "lacre/calls.h"
#include "lacre/index.h"
#include "lacre/json.h"

static char wid[WARRANT_ID_MAX];

/* A site with warrant LI-C: a VoIP call on CIN 9 (10 RTP packets each
 * way, the 4th from the target lost), and a data session on CIN 7 (an
 * IPIRI and 5 IPCC packets), sealed and closed. */
static int make_site(void)
{
	struct warrant w;
	struct lacre_sink k;
	struct lacre_dbuf b;
	int64_t t0 = T("2026-02-01T10:00:00Z");
	int r;

	if ((r = kit_make_site(NULL, 0, 0, 0)) != LACRE_OK)
		return r;
	kit_spec(&w, "LI-C", "2026-01-10", "2026-01-10", "2026-04-10");
	if ((r = warrant_add(&kit_site, kit_ks, &w, wid, kit_msg, sizeof(kit_msg))) != LACRE_OK ||
	    (r = seal_sink_open(&kit_site, &k, kit_msg, sizeof(kit_msg))) != LACRE_OK)
		return r;
	r = kit_call(&k, "LI-C", 9, t0, 10, 3, -1, 0);
	lacre_dbuf_init(&b, 1 << 20);
	if (r == LACRE_OK) {
		r = kit_ipiri(&b, "LI-C", 100, t0 + 10000000, NULL);
		if (r == LACRE_OK)
			r = kit_push(&k, b.p, b.len, t0 + 10000000, LACRE_HI2);
	}
	for (int i = 0; i < 5 && r == LACRE_OK; i++) {
		int64_t t = t0 + 11000000 + i * 1000000LL;
		lacre_dbuf_reset(&b);
		r = kit_ipcc(&b, "LI-C", 200 + (uint64_t)i, t, 100);
		if (r == LACRE_OK)
			r = kit_push(&k, b.p, b.len, t, LACRE_HI3);
	}
	k.close(k.ctx);
	lacre_dbuf_free(&b);
	return r;
}

/* The JSON of c as one string into out. */
static int to_json(const struct calls_entry *c, struct lacre_dbuf *out)
{
	struct json_w w;

	lacre_dbuf_reset(out);
	json_init(&w, out);
	calls_json(&w, c);
	if (json_finish(&w) != LACRE_OK)
		return LACRE_E_INTERNAL;
	return lacre_dbuf_add_u8(out, 0);
}

static void test_list_find_json(void)
{
	struct index *ix = NULL;
	struct index_report rep;
	struct lacre_store *st = NULL;
	struct age_x25519_identity id;
	struct calls_entry *calls = NULL, one;
	struct lacre_dbuf j;
	const struct calls_entry *voip = NULL, *sess = NULL;
	char want[64];
	size_t n = 0;

	CHECK_OK(make_site());
	CHECK_OK(lacre_store_open(kit_site.cfg.backend, &st));
	CHECK_OK(keystore_get(kit_ks, wid, &id, NULL));
	CHECK_OK(index_open(&kit_site, &ix));
	memset(&rep, 0, sizeof(rep));
	CHECK_OK(index_update(ix, st, &id, wid, NULL, NULL, &rep));
	CHECK_OK(calls_list(ix, wid, &calls, &n));
	CHECK_EQ_INT(n, 2);
	for (size_t i = 0; i < n; i++) {
		if (calls[i].type == CALLS_VOIP)
			voip = &calls[i];
		if (calls[i].type == CALLS_SESSION)
			sess = &calls[i];
	}
	CHECK(voip != NULL && sess != NULL);
	/* the call */
	snprintf(want, sizeof(want), "%s-9", wid);
	CHECK_STR(voip->id, want);
	CHECK_EQ_INT(voip->cin, 9);
	CHECK_STR(voip->call_id, "c9@x");
	CHECK_EQ_INT(voip->target_caller, 0);     /* the peer called the target */
	CHECK_STR(voip->target_media, "10.20.0.1");
	CHECK_EQ_INT(voip->target_port, 40000);
	CHECK_STR(voip->peer_media, "203.0.113.5");
	CHECK_EQ_INT(voip->peer_port, 30000);
	CHECK_EQ_INT(voip->codec_pt, 8);
	CHECK_EQ_INT(voip->packets[CALLS_FROM_TARGET], 9);
	CHECK_EQ_INT(voip->packets[CALLS_TO_TARGET], 10);
	CHECK_EQ_INT(voip->rtp_gaps, 1);
	CHECK_EQ_INT(voip->cc_gaps, 1);
	CHECK_EQ_INT(voip->iri_records, 4);
	CHECK_EQ_INT(voip->has_bye, 1);
	CHECK_EQ_INT(voip->complete, 0);
	CHECK(voip->problems[0] != 0);
	CHECK(voip->start_us > 0 && voip->end_us > voip->start_us);
	/* the session */
	CHECK_EQ_INT(sess->cin, 7);
	CHECK_EQ_INT(sess->cc_records, 5);
	CHECK_EQ_INT(sess->iri_records, 1);
	/* found by id, and not by another */
	CHECK_OK(calls_find(ix, wid, voip->id, &one));
	CHECK_STR(one.call_id, "c9@x");
	CHECK_STR(one.target_media, "10.20.0.1");
	CHECK_EQ_INT(one.target_port, 40000);
	CHECK_EQ_INT(one.start_us, voip->start_us);
	/* only what the SIP IRIs give (calls.h): counters left 0 */
	CHECK_EQ_INT(one.rtp_gaps, 0);
	CHECK_EQ_INT(one.packets[CALLS_FROM_TARGET], 0);
	/* an id of another warrant is not this warrant's */
	CHECK_EQ_INT(calls_find(ix, wid, "W-000042-9", &one), LACRE_E_INVALID);
	snprintf(want, sizeof(want), "%s-77", wid);
	CHECK_EQ_INT(calls_find(ix, wid, want, &one), LACRE_E_NOT_FOUND);
	/* JSON */
	lacre_dbuf_init(&j, 1 << 20);
	CHECK_OK(to_json(voip, &j));
	CHECK(strstr((char *)j.p, "\"type\":\"voip\"") != NULL);
	CHECK(strstr((char *)j.p, "\"call_id\":\"c9@x\"") != NULL);
	CHECK(strstr((char *)j.p, "\"codec\":\"") != NULL);
	CHECK(strstr((char *)j.p, "\"rtp_gaps\":1") != NULL);
	CHECK(strstr((char *)j.p, "\"bye\":true") != NULL);
	CHECK(strstr((char *)j.p, "\"complete\":false") != NULL);
	CHECK(strstr((char *)j.p, "\"problems\":") != NULL);
	CHECK_OK(to_json(sess, &j));
	CHECK(strstr((char *)j.p, "\"type\":\"session\"") != NULL);
	CHECK(strstr((char *)j.p, "\"cc_records\":5") != NULL);
	CHECK(strstr((char *)j.p, "\"octets_rx\":") != NULL);
	lacre_dbuf_free(&j);
	free(calls);
	calls = NULL;
	/* a second update reads nothing new: the same list */
	memset(&rep, 0, sizeof(rep));
	CHECK_OK(index_update(ix, st, &id, wid, NULL, NULL, &rep));
	CHECK_OK(calls_list(ix, wid, &calls, &n));
	CHECK_EQ_INT(n, 2);
	free(calls);
	/* another warrant has no calls */
	calls = NULL;
	CHECK_OK(calls_list(ix, "W-000099", &calls, &n));
	CHECK_EQ_INT(n, 0);
	free(calls);
	index_close(ix);
	age_identity_wipe(&id);
	lacre_store_close(st);
}

/* "<warrant>-<cin>" and nothing else. */
static void test_parse_id(void)
{
	char w[WARRANT_ID_MAX];
	uint32_t cin = 0;

	CHECK_OK(calls_parse_id("W-000001-9", w, &cin));
	CHECK_STR(w, "W-000001");
	CHECK_EQ_INT(cin, 9);
	CHECK_OK(calls_parse_id("W-000012-4294967295", w, &cin));
	CHECK_EQ_INT(cin, 4294967295u);
	CHECK(calls_parse_id("W-000001-4294967296", w, &cin) != LACRE_OK);
	CHECK(calls_parse_id("W-000001-", w, &cin) != LACRE_OK);
	CHECK(calls_parse_id("W-000001-9x", w, &cin) != LACRE_OK);
	CHECK(calls_parse_id("", w, &cin) != LACRE_OK);
}

/* access_record callback: count. */
static int count_rec(void *arg, const struct access_record *r)
{
	(void)r;
	(*(size_t *)arg)++;
	return 0;
}

/* The index itself: segments by condition, records read back through it,
 * reset and rebuilt, another identity opens nothing, a file that is not
 * an index refused, LIID text. */
static void test_index(void)
{
	struct index *ix = NULL;
	struct index_report rep;
	struct lacre_store *st = NULL;
	struct age_x25519_identity id, stranger;
	struct calls_entry *calls = NULL;
	char **segs = NULL, path[600], txt[64];
	size_t n = 0, got = 0;
	FILE *f;

	CHECK_OK(make_site());
	CHECK_OK(lacre_store_open(kit_site.cfg.backend, &st));
	CHECK_OK(keystore_get(kit_ks, wid, &id, NULL));
	CHECK_OK(index_open(&kit_site, &ix));
	/* a stranger's key opens nothing and indexes nothing */
	CHECK_OK(age_x25519_generate(&stranger));
	memset(&rep, 0, sizeof(rep));
	CHECK_OK(index_update(ix, st, &stranger, wid, NULL, NULL, &rep));
	CHECK(rep.segments_listed >= 1);
	CHECK_EQ_INT(rep.segments_opened, 0);
	CHECK_EQ_INT(rep.records, 0);
	age_identity_wipe(&stranger);
	/* a segment the key did not open is remembered as another warrant's
	 * (not tried again): the next update opens nothing new ... */
	memset(&rep, 0, sizeof(rep));
	CHECK_OK(index_update(ix, st, &id, wid, NULL, NULL, &rep));
	CHECK_EQ_INT(rep.segments_new, 0);
	CHECK_EQ_INT(rep.records, 0);
	/* ... until the warrant's part of the index is reset */
	CHECK_OK(index_reset(ix, wid));
	memset(&rep, 0, sizeof(rep));
	CHECK_OK(index_update(ix, st, &id, wid, NULL, NULL, &rep));
	CHECK_EQ_INT(rep.segments_opened, 1);
	/* the call's 4 SIP IRIs, 19 RTP packets, the IPIRI and 5 IPCC */
	CHECK_EQ_INT(rep.records, 4 + 19 + 1 + 5);
	CHECK_OK(index_segments(ix, wid, "kind = 'cc'", 0, 0, &segs, &n));
	CHECK_EQ_INT(n, 1);
	CHECK_OK(index_read(ix, st, &id, wid, segs, n, NULL, count_rec, &got, NULL, NULL));
	CHECK_EQ_INT(got, rep.records);
	index_free_names(segs, n);
	segs = NULL;
	CHECK_OK(index_segments(ix, wid, "cin = ?2", 1, 12345, &segs, &n));
	CHECK_EQ_INT(n, 0);
	index_free_names(segs, n);
	/* forgotten, then rebuilt */
	CHECK_OK(index_reset(ix, wid));
	CHECK_OK(calls_list(ix, wid, &calls, &n));
	CHECK_EQ_INT(n, 0);
	free(calls);
	memset(&rep, 0, sizeof(rep));
	CHECK_OK(index_update(ix, st, &id, wid, NULL, NULL, &rep));
	CHECK_EQ_INT(rep.records, 4 + 19 + 1 + 5);
	CHECK_OK(calls_list(ix, wid, &calls, &n));
	CHECK_EQ_INT(n, 2);
	free(calls);
	CHECK_OK(index_reset(ix, NULL));
	index_close(ix);
	ix = NULL;
	age_identity_wipe(&id);
	lacre_store_close(st);
	/* not an index */
	snprintf(path, sizeof(path), "%s/not-an-index", t_tmpdir());
	CHECK((f = fopen(path, "w")) != NULL);
	fputs("this is not a SQLite database, just text long enough to be read as one........\n", f);
	fclose(f);
	CHECK_EQ_INT(index_open_path(path, &ix), LACRE_E_DB);
	CHECK(ix == NULL);
	snprintf(path, sizeof(path), "%s/no/such/folder/index.sqlite", t_tmpdir());
	CHECK(index_open_path(path, &ix) != LACRE_OK);
	CHECK(ix == NULL);
	/* LIID text */
	index_liid_text((const uint8_t *)"LI-C", 4, txt, sizeof(txt));
	CHECK_STR(txt, "LI-C");
	index_liid_text((const uint8_t *)"\x01\xff", 2, txt, sizeof(txt));
	CHECK_STR(txt, "0x01ff");
	index_liid_text((const uint8_t *)"", 0, txt, sizeof(txt));
	CHECK_STR(txt, "0x");                     /* empty: shown as empty hex, not as nothing */
}

int main(void)
{
	RUN(test_parse_id);
	RUN(test_list_find_json);
	RUN(test_index);
	keystore_close(kit_ks);
	return t_done();
}

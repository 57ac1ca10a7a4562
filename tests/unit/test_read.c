/*
 * test_read.c - the access-side reader of sealed records
 * (lib/access/read.c): segments made by the real sealing sink on a site in
 * a temporary folder, read through the faulty backend wrapper so that the
 * backend can lie.  Filters (warrant, quarantine, events, time window,
 * CIN), creation order across segments, a wrong identity (opens nothing,
 * no error), the callback stopping the read, and every damage the reader
 * must report per segment without returning damaged data: a body byte
 * changed (chunk tag), a header byte changed (MAC), a truncated object, a
 * segment under another name, one that vanishes between the two passes,
 * and a backend that is down.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "sink_kit.h"

#define W_A "W-000001"   /* LI-A: content and IRI, Jan 10 .. Apr 10 */
#define W_B "W-000002"   /* LI-B: the same */
#define N_A 24           /* records of LI-A: CIN 1 for even, 2 for odd seq */
#define N_B 5

static struct lacre_store *inner, *fst;   /* the site's dir: backend, and the liar over it */
static int64_t t0;                        /* interception time of seq 0 */

/* A site with two warrants, N_A records for LI-A (4 KiB segments: several
 * segments, in creation order), N_B for LI-B, one quarantined record and
 * one event; all sealed, closed and uploaded. */
static int make_sealed_site_n(int n_a)
{
	struct warrant w;
	struct lacre_sink k;
	struct lacre_dbuf b;
	struct etsi_enc_header h;
	char wid[WARRANT_ID_MAX], spec[SITE_PATH_MAX + 16];
	uint8_t pkt[900];
	int r;

	lacre_store_close(fst);
	fst = inner = NULL;
	t0 = T("2026-02-01T10:00:00Z");
	if ((r = kit_make_site(NULL, 0, 4096, 0)) != LACRE_OK)
		return r;
	kit_spec(&w, "LI-A", "2026-01-10", "2026-01-10", "2026-04-10");
	if ((r = warrant_add(&kit_site, kit_ks, &w, wid, kit_msg, sizeof(kit_msg))) != LACRE_OK)
		return r;
	kit_spec(&w, "LI-B", "2026-01-10", "2026-01-10", "2026-04-10");
	if ((r = warrant_add(&kit_site, kit_ks, &w, wid, kit_msg, sizeof(kit_msg))) != LACRE_OK)
		return r;
	if ((r = seal_sink_open(&kit_site, &k, kit_msg, sizeof(kit_msg))) != LACRE_OK)
		return r;
	lacre_dbuf_init(&b, 1 << 20);
	memset(pkt, 0x11, sizeof(pkt));
	pkt[0] = 0x45;
	for (int i = 0; i < n_a && r == LACRE_OK; i++) {
		lacre_dbuf_reset(&b);
		kit_header(&h, "LI-A", (uint64_t)i, t0 + (int64_t)i * 1000000);
		h.cin = (uint32_t)(1 + i % 2);
		r = etsi_enc_ipcc(&b, &h, 0, pkt, sizeof(pkt));
		if (r == LACRE_OK)
			r = kit_push(&k, b.p, b.len, t0 + (int64_t)i * 1000000, LACRE_HI3);
	}
	for (int i = 0; i < N_B && r == LACRE_OK; i++) {
		lacre_dbuf_reset(&b);
		r = kit_ipcc(&b, "LI-B", (uint64_t)(100 + i), t0, 100);
		if (r == LACRE_OK)
			r = kit_push(&k, b.p, b.len, t0, LACRE_HI3);
	}
	lacre_dbuf_reset(&b);
	if (r == LACRE_OK)
		r = kit_ipcc(&b, "LI-NOBODY", 500, t0, 100);
	if (r == LACRE_OK)
		r = kit_push(&k, b.p, b.len, t0, LACRE_HI3);
	if (r == LACRE_OK)
		r = k.event(k.ctx, "{\"event\":\"gap\",\"n\":3}");
	k.close(k.ctx);
	lacre_dbuf_free(&b);
	if (r != LACRE_OK)
		return r;
	if (snprintf(spec, sizeof(spec), "dir:%s/objects", kit_site.dir) >= (int)sizeof(spec))
		return LACRE_E_TOO_LARGE;
	if ((r = lacre_store_open(spec, &inner)) != LACRE_OK)
		return r;
	return lacre_store_faulty_wrap(inner, 1, &fst);
}

/* The site of most tests: N_A records of LI-A. */
static int make_sealed_site(void)
{
	return make_sealed_site_n(N_A);
}

/* Read with the keystore identity name and filter f into rs. */
static int read_as(const char *name, const struct access_filter *f, struct kit_recs *rs,
		   struct access_report *rep)
{
	struct age_x25519_identity id;
	int r;

	memset(rs, 0, sizeof(*rs));
	if ((r = keystore_get(kit_ks, name, &id, NULL)) != LACRE_OK)
		return r;
	r = access_read(fst, &id, f, kit_take, rs, kit_problem, rep);
	age_identity_wipe(&id);
	return r;
}

/* Distinct segments of rs in the order met, into names (at most max). */
static size_t segments_of(const struct kit_recs *rs, char names[][LACRE_STORE_NAME_MAX + 1],
			  size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < rs->n; i++)
		if ((n == 0 || strcmp(names[n - 1], rs->v[i].segment)) && n < max)
			snprintf(names[n++], LACRE_STORE_NAME_MAX + 1, "%s", rs->v[i].segment);
	return n;
}

/* Filters, order and the report. */
static void test_filters(void)
{
	struct kit_recs *rs = calloc(1, sizeof(*rs));
	struct access_filter f;
	struct access_report rep;
	char segs[16][LACRE_STORE_NAME_MAX + 1];
	size_t nseg;

	CHECK(rs != NULL);
	CHECK_OK(make_sealed_site());
	access_filter_init(&f);
	CHECK_OK(read_as(W_A, &f, rs, &rep));
	CHECK_EQ_INT(rs->n, N_A);
	CHECK_EQ_INT(rep.records, N_A);
	CHECK_EQ_INT(rep.problems, 0);
	nseg = segments_of(rs, segs, 16);
	CHECK(nseg >= 4);                        /* 24 x ~1 KiB in 4 KiB segments */
	CHECK_EQ_INT(rep.segments_opened, nseg);
	CHECK(rep.segments_listed >= nseg + 2);  /* W_B's and the quarantine's too */
	/* every record once; inside a segment, in sealing order */
	for (size_t i = 0; i < rs->n; i++) {
		CHECK_EQ_INT(kit_count(rs, i), 1);
		CHECK_STR(rs->v[i].warrant, W_A);
		if (i > 0 && !strcmp(rs->v[i].segment, rs->v[i - 1].segment)) {
			CHECK_EQ_INT(rs->v[i].index, rs->v[i - 1].index + 1);
			CHECK_EQ_INT(rs->v[i].seq, rs->v[i - 1].seq + 1);
		} else {
			CHECK_EQ_INT(rs->v[i].index, 0);
		}
	}
	/* the warrant filter: its own id, or another's (nothing) */
	f.warrant = W_A;
	CHECK_OK(read_as(W_A, &f, rs, NULL));
	CHECK_EQ_INT(rs->n, N_A);
	f.warrant = W_B;
	CHECK_OK(read_as(W_A, &f, rs, NULL));
	CHECK_EQ_INT(rs->n, 0);
	f.warrant = "W-00000";                   /* a prefix is not the id */
	CHECK_OK(read_as(W_A, &f, rs, NULL));
	CHECK_EQ_INT(rs->n, 0);
	f.warrant = NULL;
	/* time window [from, to): seq 5 .. 9 */
	f.from_us = t0 + 5 * 1000000;
	f.to_us = t0 + 10 * 1000000;
	CHECK_OK(read_as(W_A, &f, rs, NULL));
	CHECK_EQ_INT(rs->n, 5);
	for (uint64_t q = 5; q < 10; q++)
		CHECK_EQ_INT(kit_count(rs, q), 1);
	access_filter_init(&f);
	/* CIN 2: the odd sequence numbers; a CIN no record has: none */
	f.has_cin = 1;
	f.cin = 2;
	CHECK_OK(read_as(W_A, &f, rs, NULL));
	CHECK_EQ_INT(rs->n, N_A / 2);
	for (size_t i = 0; i < rs->n; i++)
		CHECK_EQ_INT(rs->v[i].seq % 2, 1);
	f.cin = 9;
	CHECK_OK(read_as(W_A, &f, rs, NULL));
	CHECK_EQ_INT(rs->n, 0);
	access_filter_init(&f);
	/* a warrant identity holds no quarantine, even when asked for it */
	f.quarantine = 1;
	f.events = 1;
	CHECK_OK(read_as(W_A, &f, rs, NULL));
	CHECK_EQ_INT(rs->n, 0);
	/* the oversight: quarantine without, then with, the events */
	f.events = 0;
	CHECK_OK(read_as(SITE_OVERSIGHT_KEY, &f, rs, &rep));
	CHECK_EQ_INT(rs->n, 1);
	CHECK_EQ_INT(rs->v[0].seq, 500);
	CHECK_STR(rs->v[0].reason, WARRANT_Q_UNKNOWN_LIID);
	CHECK_EQ_INT(rep.segments_opened, 1);
	f.events = 1;
	CHECK_OK(read_as(SITE_OVERSIGHT_KEY, &f, rs, NULL));
	CHECK_EQ_INT(rs->n, 2);
	CHECK(!strcmp(rs->v[0].event, "{\"event\":\"gap\",\"n\":3}") ||
	      !strcmp(rs->v[1].event, "{\"event\":\"gap\",\"n\":3}"));
	/* ... and no warrant records for the oversight's identity */
	access_filter_init(&f);
	CHECK_OK(read_as(SITE_OVERSIGHT_KEY, &f, rs, NULL));
	CHECK_EQ_INT(rs->n, 0);
	CHECK_OK(read_as(W_B, &f, rs, NULL));
	CHECK_EQ_INT(rs->n, N_B);
	free(rs);
}

/* Regression (fixed: lib/seal/segment.c:425 seg_open, with lib/ingest/seal_sink.c
 * seal_frame passing now_coarse_us()): a segment's created_us comes from
 * CLOCK_REALTIME_COARSE (about 4 ms steps), so segments a busy warrant
 * opens within one step share their creation time, and access_read
 * (lib/access/read.c access_cmp) orders those by their random names: the
 * records of a warrant come out of sealing order, against access.h ("in
 * segment creation order then record order") and what export and audio
 * rely on.  Input: 300 records of ~1 KiB sealed back to back into 4 KiB
 * segments.  Expected: seq 0..299 in order; actual: e.g. 0 1 2 6 7 8 3 ...
 * Fix: make created_us strictly increasing per writer in seg_open
 * (now_us = max(now_us, w->created_us + 1)), or pass now_us() rather than
 * now_coarse_us() from seal_frame and tie-break in access_cmp by that.
 */
static void test_creation_order(void)
{
	static struct kit_recs recs;              /* static: no leak when a check fails */
	struct kit_recs *rs = &recs;
	struct access_filter f;

	CHECK_OK(make_sealed_site_n(300));
	access_filter_init(&f);
	CHECK_OK(read_as(W_A, &f, rs, NULL));
	CHECK_EQ_INT(rs->n, 300);
	for (size_t i = 0; i < rs->n; i++)
		CHECK_EQ_INT(rs->v[i].seq, i);
}

/* An identity that is no recipient opens nothing: not an error. */
static void test_wrong_identity(void)
{
	struct kit_recs *rs = calloc(1, sizeof(*rs));
	struct age_x25519_identity id;
	struct access_filter f;
	struct access_report rep;

	CHECK(rs != NULL);
	CHECK_OK(make_sealed_site());
	CHECK_OK(age_x25519_generate(&id));
	access_filter_init(&f);
	CHECK_OK(access_read(fst, &id, &f, kit_take, rs, kit_problem, &rep));
	age_identity_wipe(&id);
	CHECK(rep.segments_listed >= 6);
	CHECK_EQ_INT(rep.segments_opened, 0);
	CHECK_EQ_INT(rep.records, 0);
	CHECK_EQ_INT(rep.problems, 0);
	CHECK_EQ_INT(rs->n, 0);
	free(rs);
}

/* access_read callback that stops at the third record with 7. */
static int stop_at_3(void *arg, const struct access_record *ar)
{
	int *n = arg;

	return ++*n == 3 ? 7 : 0;
}

/* The callback's non-zero value stops the read and is returned. */
static void test_callback_stops(void)
{
	struct age_x25519_identity id;
	struct access_filter f;
	struct access_report rep;
	int n = 0;

	CHECK_OK(make_sealed_site());
	CHECK_OK(keystore_get(kit_ks, W_A, &id, NULL));
	access_filter_init(&f);
	CHECK_EQ_INT(access_read(fst, &id, &f, stop_at_3, &n, NULL, &rep), 7);
	age_identity_wipe(&id);
	CHECK_EQ_INT(n, 3);
	CHECK_EQ_INT(rep.records, 3);
}

/* The segments of W_A in creation order and their sizes (from a clean read
 * and the backend's list). */
static int a_segments(char segs[16][LACRE_STORE_NAME_MAX + 1], uint64_t sizes[16], size_t *n)
{
	struct kit_recs *rs = calloc(1, sizeof(*rs));
	struct access_filter f;
	int r;

	if (!rs)
		return LACRE_E_NOMEM;
	access_filter_init(&f);
	r = read_as(W_A, &f, rs, NULL);
	*n = segments_of(rs, segs, 16);
	for (size_t i = 0; i < *n && r == LACRE_OK; i++)
		r = lacre_store_stat(fst, segs[i], &sizes[i]);
	free(rs);
	return r;
}

/* Records of W_A read while the backend lies about one of its segments:
 * the result, the problems, and the records still delivered. */
static int read_damaged(struct kit_recs *rs, struct access_report *rep)
{
	struct access_filter f;

	access_filter_init(&f);
	return read_as(W_A, &f, rs, rep);
}

/* A changed byte in a chunk (the second segment's last bytes: its final
 * tag): that segment is reported corrupt, no record of its damaged chunk
 * is returned, every other segment is read in full. */
static void test_tampered_body(void)
{
	struct kit_recs *rs = calloc(1, sizeof(*rs)), *clean = calloc(1, sizeof(*clean));
	struct access_report rep;
	char segs[16][LACRE_STORE_NAME_MAX + 1];
	uint64_t sizes[16];
	size_t n, in_bad = 0;
	struct access_filter f;

	CHECK(rs && clean);
	CHECK_OK(make_sealed_site());
	CHECK_OK(a_segments(segs, sizes, &n));
	CHECK(n >= 3);
	access_filter_init(&f);
	CHECK_OK(read_as(W_A, &f, clean, NULL));
	for (size_t i = 0; i < clean->n; i++)
		if (!strcmp(clean->v[i].segment, segs[1]))
			in_bad++;
	CHECK_OK(lacre_store_faulty_set(fst, LACRE_STORE_FAULT_FLIP, segs[1], sizes[1] - 5));
	CHECK_EQ_INT(read_damaged(rs, &rep), LACRE_E_CORRUPT);
	CHECK_EQ_INT(rep.problems, 1);
	CHECK_EQ_INT(rs->problems, 1);
	CHECK_EQ_INT(rs->last_err, LACRE_E_CORRUPT);
	CHECK(strstr(rs->last_what, segs[1]) != NULL);
	/* the only chunk is checked when the segment is opened */
	CHECK(strstr(rs->last_what, "the segment does not open") != NULL);
	/* one 64 KiB chunk holds the whole 4 KiB segment: none of it leaves */
	CHECK_EQ_INT(rs->n, N_A - in_bad);
	for (size_t i = 0; i < rs->n; i++)
		CHECK(strcmp(rs->v[i].segment, segs[1]) != 0);
	free(rs);
	free(clean);
}

/* One warrant, one segment of several 64 KiB chunks: 120 records of
 * about 1.6 KiB each (segment.max_bytes default, sealed at close). */
static int make_big_segment(char seg[LACRE_STORE_NAME_MAX + 1], uint64_t *size, uint64_t *payload)
{
	struct warrant w;
	struct lacre_sink k;
	struct lacre_dbuf b;
	struct kit_recs *rs = calloc(1, sizeof(*rs));
	struct access_filter f;
	char wid[WARRANT_ID_MAX], spec[SITE_PATH_MAX + 16];
	int r;

	lacre_store_close(fst);
	fst = inner = NULL;
	t0 = T("2026-02-01T10:00:00Z");
	if (!rs)
		return LACRE_E_NOMEM;
	if ((r = kit_make_site(NULL, 0, 0, 60000)) != LACRE_OK)
		goto out;
	kit_spec(&w, "LI-A", "2026-01-10", "2026-01-10", "2026-04-10");
	if ((r = warrant_add(&kit_site, kit_ks, &w, wid, kit_msg, sizeof(kit_msg))) != LACRE_OK ||
	    (r = seal_sink_open(&kit_site, &k, kit_msg, sizeof(kit_msg))) != LACRE_OK)
		goto out;
	lacre_dbuf_init(&b, 1 << 20);
	for (int i = 0; i < 120 && r == LACRE_OK; i++) {
		lacre_dbuf_reset(&b);
		r = kit_ipcc(&b, "LI-A", (uint64_t)i, t0 + i, 1500);
		if (r == LACRE_OK)
			r = kit_push(&k, b.p, b.len, t0 + i, LACRE_HI3);
	}
	k.close(k.ctx);
	lacre_dbuf_free(&b);
	if (r != LACRE_OK)
		goto out;
	if (snprintf(spec, sizeof(spec), "dir:%s/objects", kit_site.dir) >= (int)sizeof(spec)) {
		r = LACRE_E_TOO_LARGE;
		goto out;
	}
	if ((r = lacre_store_open(spec, &inner)) != LACRE_OK ||
	    (r = lacre_store_faulty_wrap(inner, 1, &fst)) != LACRE_OK)
		goto out;
	access_filter_init(&f);
	if ((r = read_as(W_A, &f, rs, NULL)) != LACRE_OK)
		goto out;
	if (rs->n != 120 || segments_of(rs, (char (*)[LACRE_STORE_NAME_MAX + 1])seg, 1) != 1 ||
	    strcmp(rs->v[119].segment, seg)) {
		r = LACRE_E_INTERNAL;
		goto out;
	}
	if ((r = lacre_store_stat(fst, seg, size)) != LACRE_OK)
		goto out;
	/* where the STREAM payload starts: after the header's MAC line, then
	 * the 16-byte nonce */
	lacre_dbuf_init(&b, 1 << 20);
	r = lacre_store_get(fst, seg, 0, 4096, &b);
	*payload = 0;
	for (size_t i = 0; r == LACRE_OK && i + 4 < b.len; i++)
		if (!memcmp(b.p + i, "\n--- ", 5)) {
			const uint8_t *nl = memchr(b.p + i + 1, '\n', b.len - i - 1);
			if (nl)
				*payload = (uint64_t)(nl - b.p) + 1 + 16;
			break;
		}
	lacre_dbuf_free(&b);
	if (r == LACRE_OK && *payload == 0)
		r = LACRE_E_INTERNAL;
out:
	free(rs);
	return r;
}

/* A multi-chunk segment whose last chunk is damaged: the records of the
 * chunks that verified come out (each from a verified chunk), then the
 * problem; nothing of the damaged chunk. */
static void test_tampered_later_chunk(void)
{
	struct kit_recs *rs = calloc(1, sizeof(*rs));
	struct access_report rep;
	char seg[LACRE_STORE_NAME_MAX + 1];
	uint64_t size, payload;

	CHECK(rs != NULL);
	CHECK_OK(make_big_segment(seg, &size, &payload));
	CHECK(size > payload + 2 * (65536 + 16));      /* three chunks at least */
	CHECK_OK(lacre_store_faulty_set(fst, LACRE_STORE_FAULT_FLIP, seg, size - 5));
	CHECK_EQ_INT(read_damaged(rs, &rep), LACRE_E_CORRUPT);
	CHECK_EQ_INT(rep.problems, 1);
	CHECK(strstr(rs->last_what, "a chunk or frame failed its check") != NULL);
	CHECK(rs->n > 0 && rs->n < 120);
	for (size_t i = 0; i < rs->n; i++)
		CHECK_EQ_INT(rs->v[i].seq, i);
	free(rs);
}

/* A multi-chunk segment cut right after its first chunk: it ends before its
 * final chunk, so it is truncated (not corrupt), and found so on opening:
 * nothing of it comes out. */
static void test_truncated_at_chunk(void)
{
	struct kit_recs *rs = calloc(1, sizeof(*rs));
	struct access_report rep;
	char seg[LACRE_STORE_NAME_MAX + 1];
	uint64_t size, payload;

	CHECK(rs != NULL);
	CHECK_OK(make_big_segment(seg, &size, &payload));
	CHECK_OK(lacre_store_faulty_set(fst, LACRE_STORE_FAULT_TRUNCATE, seg, payload + 65536 + 16));
	CHECK_EQ_INT(read_damaged(rs, &rep), LACRE_E_TRUNCATED);
	CHECK_EQ_INT(rep.problems, 1);
	CHECK_EQ_INT(rs->last_err, LACRE_E_TRUNCATED);
	/* the reader sees the missing final chunk when it opens the object */
	CHECK(strstr(rs->last_what, "the segment does not open") != NULL);
	CHECK_EQ_INT(rs->n, 0);
	free(rs);
}

/* A changed byte in the age header's MAC: the segment does not open (a
 * problem), it is not taken for another warrant's segment. */
static void test_tampered_header(void)
{
	struct kit_recs *rs = calloc(1, sizeof(*rs));
	struct access_report rep;
	struct lacre_dbuf d;
	char segs[16][LACRE_STORE_NAME_MAX + 1];
	uint64_t sizes[16], mac = 0;
	size_t n;

	CHECK(rs != NULL);
	lacre_dbuf_init(&d, 1 << 20);
	CHECK_OK(make_sealed_site());
	CHECK_OK(a_segments(segs, sizes, &n));
	CHECK_OK(lacre_store_get(fst, segs[0], 0, 4096, &d));
	for (size_t i = 0; i + 4 < d.len; i++)
		if (!memcmp(d.p + i, "\n--- ", 5)) {
			mac = i + 6;                    /* a character of the MAC */
			break;
		}
	lacre_dbuf_free(&d);
	CHECK(mac > 0);
	CHECK_OK(lacre_store_faulty_set(fst, LACRE_STORE_FAULT_FLIP, segs[0], mac));
	CHECK_EQ_INT(read_damaged(rs, &rep), rs->last_err);
	CHECK(rs->last_err == LACRE_E_CORRUPT || rs->last_err == LACRE_E_MALFORMED);
	CHECK_EQ_INT(rep.problems, 1);
	CHECK(strstr(rs->last_what, "the segment does not open") != NULL);
	CHECK_EQ_INT(rep.segments_opened, n - 1);
	free(rs);
}

/* An object cut inside its only chunk (list and get agree on the shorter
 * size): that chunk's tag fails, so the segment is corrupt. */
static void test_truncated(void)
{
	struct kit_recs *rs = calloc(1, sizeof(*rs));
	struct access_report rep;
	char segs[16][LACRE_STORE_NAME_MAX + 1];
	uint64_t sizes[16];
	size_t n;

	CHECK(rs != NULL);
	CHECK_OK(make_sealed_site());
	CHECK_OK(a_segments(segs, sizes, &n));
	CHECK_OK(lacre_store_faulty_set(fst, LACRE_STORE_FAULT_TRUNCATE, segs[2], sizes[2] - 40));
	CHECK_EQ_INT(read_damaged(rs, &rep), LACRE_E_CORRUPT);
	CHECK_EQ_INT(rep.problems, 1);
	CHECK_EQ_INT(rs->last_err, LACRE_E_CORRUPT);
	CHECK(strstr(rs->last_what, segs[2]) != NULL);
	for (size_t i = 0; i < rs->n; i++)
		CHECK(strcmp(rs->v[i].segment, segs[2]) != 0);
	free(rs);
}

/* A segment served under another name (the backend swapped objects): the
 * name is bound into the segment, so it fails the check. */
static void test_renamed(void)
{
	struct kit_recs *rs = calloc(1, sizeof(*rs));
	struct access_report rep;
	struct lacre_dbuf d;
	char segs[16][LACRE_STORE_NAME_MAX + 1];
	uint64_t sizes[16];
	size_t n, in_first = 0;
	const char *other = "seg/00000000000000000000000000000000";

	CHECK(rs != NULL);
	lacre_dbuf_init(&d, 1 << 24);
	CHECK_OK(make_sealed_site());
	CHECK_OK(a_segments(segs, sizes, &n));
	CHECK_OK(read_damaged(rs, NULL));
	for (size_t i = 0; i < rs->n; i++)
		in_first += !strcmp(rs->v[i].segment, segs[0]);
	CHECK_OK(lacre_store_get(inner, segs[0], 0, SIZE_MAX, &d));
	CHECK_OK(lacre_store_put_if_absent(inner, other, d.p, d.len));
	CHECK_OK(lacre_store_del(inner, segs[0]));
	lacre_dbuf_free(&d);
	CHECK_EQ_INT(read_damaged(rs, &rep), LACRE_E_VERIFY);
	CHECK_EQ_INT(rep.problems, 1);
	CHECK_EQ_INT(rs->last_err, LACRE_E_VERIFY);
	CHECK(strstr(rs->last_what, other) != NULL);
	CHECK(strstr(rs->last_what, "the segment does not open") != NULL);
	CHECK_EQ_INT(rs->n, N_A - in_first);
	for (size_t i = 0; i < rs->n; i++)
		CHECK(strcmp(rs->v[i].segment, other) != 0);
	free(rs);
}

/* access_read callback: hide the last segment of W_A from the backend at
 * the first record, so it vanishes between the two passes. */
static char vanish[LACRE_STORE_NAME_MAX + 1];
static int hide_later(void *arg, const struct access_record *ar)
{
	struct kit_recs *rs = arg;

	if (rs->n == 0)
		lacre_store_faulty_set(fst, LACRE_STORE_FAULT_HIDE, vanish, 0);
	return kit_take(arg, ar);
}

/* A segment that disappears after the first pass: reported missing
 * ("changed while it was read"), the others read in full. */
static void test_vanished(void)
{
	struct kit_recs *rs = calloc(1, sizeof(*rs));
	struct age_x25519_identity id;
	struct access_report rep;
	struct access_filter f;
	char segs[16][LACRE_STORE_NAME_MAX + 1];
	uint64_t sizes[16];
	size_t n, in_last = 0;
	int r;

	CHECK(rs != NULL);
	CHECK_OK(make_sealed_site());
	CHECK_OK(a_segments(segs, sizes, &n));
	snprintf(vanish, sizeof(vanish), "%s", segs[n - 1]);
	CHECK_OK(read_damaged(rs, NULL));
	for (size_t i = 0; i < rs->n; i++)
		in_last += !strcmp(rs->v[i].segment, vanish);
	memset(rs, 0, sizeof(*rs));
	CHECK_OK(keystore_get(kit_ks, W_A, &id, NULL));
	access_filter_init(&f);
	r = access_read(fst, &id, &f, hide_later, rs, kit_problem, &rep);
	age_identity_wipe(&id);
	CHECK_EQ_INT(r, LACRE_E_NOT_FOUND);
	CHECK_EQ_INT(rep.problems, 1);
	CHECK(strstr(rs->last_what, "the segment changed while it was read") != NULL);
	CHECK_EQ_INT(rs->n, N_A - in_last);
	free(rs);
}

/* A backend that is down: the backend's error, nothing delivered. */
static void test_backend_down(void)
{
	struct kit_recs *rs = calloc(1, sizeof(*rs));
	struct access_report rep;

	CHECK(rs != NULL);
	CHECK_OK(make_sealed_site());
	CHECK_OK(lacre_store_faulty_set(fst, LACRE_STORE_FAULT_DOWN, NULL, 0));
	CHECK_EQ_INT(read_damaged(rs, &rep), LACRE_E_UNAVAILABLE);
	CHECK_EQ_INT(rs->n, 0);
	CHECK_EQ_INT(rep.segments_listed, 0);
	free(rs);
}

int main(void)
{
	RUN(test_filters);
	RUN(test_creation_order);
	RUN(test_wrong_identity);
	RUN(test_callback_stops);
	RUN(test_tampered_body);
	RUN(test_tampered_later_chunk);
	RUN(test_truncated_at_chunk);
	RUN(test_tampered_header);
	RUN(test_truncated);
	RUN(test_renamed);
	RUN(test_vanished);
	RUN(test_backend_down);
	lacre_store_close(fst);
	keystore_close(kit_ks);
	return t_done();
}

/*
 * test_audio_order.c - the audio plan's orders (lib/access/audio.c) when
 * the rows do not come in the order they are read: a call sealed by the
 * real sink in two segments, the second holding a packet that arrived
 * late for an early place (its PDU time early, so in time order it sits
 * among the first segment's packets, and before a record written ahead of
 * it in its own segment), a duplicate, a run of lost packets on each side
 * and a second SSRC on one side.  The plan skips a sort when the rows are
 * already in order and otherwise moves them by segment and sorts only a
 * run out of order; the WAV must still be, byte for byte, the whole-file
 * render this test computes on its own from the packets it sent, and the
 * report must count the gaps, the duplicate and the other SSRC.
 */
#include <stdint.h>
#include <string.h>

#include "harness.h"
#include "sink_kit.h"
#include "lacre/audio.h"
#include "lacre/calls.h"
#include "lacre/err.h"
#include "lacre/g711.h"
#include "lacre/index.h"

#define W_V "W-000001"      /* LIVOIP: the call on CIN 4242 */

static struct lacre_store *o_st;
static struct index *o_ix;
static struct age_x25519_identity o_id;
static struct audio_report o_rep;   /* large: not on the stack */

/* Push one RTP packet of CIN 4242 (kit_rtp), its SSRC set to ssrc: the
 * SSRC's last octet is the one before the 160 payload bytes and the 6
 * octets that close the PDU (checked: 1 or 2 as kit_rtp wrote it). */
static int o_push(struct lacre_sink *k, struct lacre_dbuf *b, uint64_t cs, int64_t t, int from,
		  uint16_t rseq, uint8_t fill, uint8_t ssrc)
{
	size_t at;
	int r;

	lacre_dbuf_reset(b);
	if ((r = kit_rtp(b, "LIVOIP", 4242, cs, t, from, rseq, fill, 0)) != LACRE_OK)
		return r;
	if (b->len < 6 + 160 + 12)
		return LACRE_E_INTERNAL;
	at = b->len - 6 - 160 - 1;
	if (b->p[at] != (from ? 1 : 2) || b->p[at + 1] != fill)
		return LACRE_E_INTERNAL;
	b->p[at] = ssrc;
	return kit_push(k, b->p, b->len, t, LACRE_HI3);
}

/* The site: segment 1 = kit_call (10 packets each way from RTP sequence
 * number 1000, from the target 1003 and to it 1006 not sent) plus two
 * packets from the target with SSRC 9; segment 2 = from the target 1012
 * (after 1010 and 1011, never sent), then 1003 with its early PDU time,
 * then to the target a second 1002. */
static int o_site(int64_t t0)
{
	struct warrant w;
	struct lacre_sink k;
	struct lacre_dbuf b;
	struct index_report ir;
	char wid[WARRANT_ID_MAX], spec[SITE_PATH_MAX + 16], path[700];
	int r;

	if ((r = kit_make_site(NULL, 0, 0, 0)) != LACRE_OK)
		return r;
	kit_spec(&w, "LIVOIP", "2026-01-10", "2026-01-10", "2026-04-10");
	if ((r = warrant_add(&kit_site, kit_ks, &w, wid, kit_msg, sizeof(kit_msg))) != LACRE_OK ||
	    (r = seal_sink_open(&kit_site, &k, kit_msg, sizeof(kit_msg))) != LACRE_OK)
		return r;
	lacre_dbuf_init(&b, 1 << 16);
	r = kit_call(&k, "LIVOIP", 4242, t0, 10, 3, 6, 0);
	if (r == LACRE_OK)
		r = o_push(&k, &b, 100, t0 + 610000, 1, 5000, 0xd5, 9);
	if (r == LACRE_OK)
		r = o_push(&k, &b, 101, t0 + 630000, 1, 5001, 0xd5, 9);
	k.close(k.ctx);
	if (r == LACRE_OK)
		r = seal_sink_open(&kit_site, &k, kit_msg, sizeof(kit_msg));
	if (r == LACRE_OK) {
		r = o_push(&k, &b, 200, t0 + 600000 + 12 * 20000, 1, 1012, 0xd5, 1);
		if (r == LACRE_OK)   /* late for an early place: PDU time of its place */
			r = o_push(&k, &b, 201, t0 + 600000 + 3 * 20000, 1, 1003, 0xd5, 1);
		if (r == LACRE_OK)
			r = o_push(&k, &b, 202, t0 + 600000 + 2 * 20000 + 5000, 0, 1002, 0x55, 2);
		k.close(k.ctx);
	}
	lacre_dbuf_free(&b);
	if (r != LACRE_OK)
		return r;
	if (snprintf(spec, sizeof(spec), "dir:%s/objects", kit_site.dir) >= (int)sizeof(spec))
		return LACRE_E_TOO_LARGE;
	snprintf(path, sizeof(path), "%s/index.sqlite", t_tmpdir());
	if ((r = lacre_store_open(spec, &o_st)) != LACRE_OK ||
	    (r = index_open_path(path, &o_ix)) != LACRE_OK ||
	    (r = keystore_get(kit_ks, W_V, &o_id, NULL)) != LACRE_OK ||
	    (r = index_update(o_ix, o_st, &o_id, W_V, NULL, NULL, &ir)) != LACRE_OK)
		return r;
	/* 2 SIP + 18 RTP + BYE and its 200 OK, 2 of SSRC 9; 3 late */
	return ir.records == 2 + 18 + 2 + 2 + 3 ? LACRE_OK : LACRE_E_INTERNAL;
}

/* Set frames [from, from + n) of channel ch of the WAV image w to v. */
static void o_fill(uint8_t *w, uint64_t from, uint64_t n, int ch, int16_t v)
{
	for (uint64_t i = from; i < from + n; i++) {
		uint8_t *p = w + AUDIO_WAV_HEADER + i * 4 + (uint64_t)ch * 2;
		p[0] = (uint8_t)(uint16_t)v;
		p[1] = (uint8_t)((uint16_t)v >> 8);
	}
}

/* The WAV equals the render computed here; the report counts all. */
static void test_audio_order(void)
{
	int64_t t0 = T("2026-02-01T10:00:00Z");
	int16_t from = g711_alaw_decode(0xd5), to = g711_alaw_decode(0x55);
	uint64_t frames = 12 * 160 + 160;   /* from the target: 1000 .. 1012 */
	struct calls_entry c;
	struct lacre_dbuf wav;
	char path[700], **segs = NULL;
	size_t n = 0;
	uint8_t *want;

	lacre_dbuf_init(&wav, 1 << 24);
	CHECK_OK(o_site(t0));
	CHECK_OK(index_segments(o_ix, W_V, "kind = 'cc'", 0, 0, &segs, &n));
	CHECK_EQ_INT(n, 2);
	index_free_names(segs, n);
	CHECK_OK(calls_find(o_ix, W_V, W_V "-4242", &c));
	snprintf(path, sizeof(path), "%s/order.wav", t_tmpdir());
	CHECK_OK(audio_write(o_ix, o_st, &o_id, &c, path, NULL, NULL, &o_rep));
	CHECK_EQ_INT(o_rep.packets[CALLS_FROM_TARGET], 11);
	CHECK_EQ_INT(o_rep.packets[CALLS_TO_TARGET], 10);    /* 9 and the duplicate */
	CHECK_EQ_INT(o_rep.duplicates, 1);
	CHECK_EQ_INT(o_rep.other_ssrc, 2);
	CHECK_EQ_INT(o_rep.missing[CALLS_FROM_TARGET], 2);
	CHECK_EQ_INT(o_rep.missing[CALLS_TO_TARGET], 1);
	CHECK_EQ_INT(o_rep.gaps_total, 2);
	CHECK_EQ_INT(o_rep.n_gaps, 2);
	CHECK_EQ_INT(o_rep.gaps[0].side, CALLS_FROM_TARGET);
	CHECK_EQ_INT(o_rep.gaps[0].at_sample, 10 * 160);
	CHECK_EQ_INT(o_rep.gaps[0].packets, 2);
	CHECK_EQ_INT(o_rep.gaps[0].samples, 2 * 160);
	CHECK_EQ_INT(o_rep.gaps[1].side, CALLS_TO_TARGET);
	CHECK_EQ_INT(o_rep.gaps[1].at_sample, 40 + 6 * 160);  /* 5 ms later: 40 samples */
	CHECK_EQ_INT(o_rep.gaps[1].packets, 1);
	CHECK_EQ_INT(o_rep.frames, frames);
	CHECK_OK(site_read_file(path, 1 << 24, &wav));
	CHECK_EQ_INT(wav.len, AUDIO_WAV_HEADER + frames * 4);
	/* the render: each packet's 160 samples at (seq - 1000) x 160, the
	 * side to the target 40 samples later; the rest silence */
	want = calloc(1, AUDIO_WAV_HEADER + frames * 4);
	CHECK(want != NULL);
	if (want != NULL && wav.len == AUDIO_WAV_HEADER + frames * 4) {
		CHECK_OK(audio_wav_header(frames, want));
		for (uint64_t s = 0; s <= 12; s++) {
			if (s <= 9 || s == 12)
				o_fill(want, s * 160, 160, CALLS_FROM_TARGET, from);
			if (s <= 9 && s != 6)
				o_fill(want, 40 + s * 160, 160, CALLS_TO_TARGET, to);
		}
		CHECK_MEM(wav.p, want, wav.len);
	}
	/* the late packet's samples are sound, not silence, at their place */
	CHECK(from != 0);
	if (wav.len == AUDIO_WAV_HEADER + frames * 4) {
		const uint8_t *p = wav.p + AUDIO_WAV_HEADER + 3 * 160 * 4 + CALLS_FROM_TARGET * 2;
		CHECK_EQ_INT((int16_t)(uint16_t)(p[0] | p[1] << 8), from);
	}
	free(want);
	lacre_dbuf_free(&wav);
}

int main(void)
{
	RUN(test_audio_order);
	index_close(o_ix);
	lacre_store_close(o_st);
	age_identity_wipe(&o_id);
	keystore_close(kit_ks);
	return t_done();
}

/*
 * stream_state.c - the persisted sequence state of the stream accounting
 * (docs/FORMATS.md §12): written whole and atomically by ingest_acct_save(),
 * read back through the checked buffer by ingest_acct_load(), all or
 * nothing, so that a restarted receiver continues every stream where it
 * stopped instead of reporting the numbers it already saw as a gap.
 *
 * Durability marks (ingest_acct_mark) record, per stream, the number below
 * which every counted record was surely sealed; after a crash the next
 * start names the range between that and the last number counted
 * (unkept-at-restart events): what the crash may have lost.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "lacre/err.h"
#include "lacre/ingest.h"
#include "lacre/json.h"
#include "lacre/site.h"
#include "ingest/accounting_int.h"

#define STATE_MAGIC "LCRSTAT1"
#define STATE_CAP ((size_t)256 << 20)  /* a state file larger than this is not ours */
#define BCTR_TAG "BCTR"                 /* the byteCounter section (FORMATS §12) */
#define BCTR_VERSION 1
#define BCTR_LOAD_MAX 4096              /* LIIDs per handover a section may hold
                                         * when no tracker is attached */

/* Move the durability marks.  See ingest.h. */
void ingest_acct_mark(struct ingest_acct *a)
{
	struct stream *s;
	size_t i;

	for (i = 0; i < a->n_buckets; i++)
		for (s = a->tab[i]; s; s = s->next) {
			s->dur_next = s->mark_next;
			s->mark_next = s->have ? s->next_seq : NOT_SEEN;
		}
	for (i = 0; i < 2; i++)
		if (a->bctr[i])
			etsi_bctr_mark(a->bctr[i]);
	a->gen++;
}

/* Persist the byteCounter trackers with the state.  See ingest.h. */
void ingest_acct_set_bctr(struct ingest_acct *a, struct etsi_bctr *hi2, struct etsi_bctr *hi3)
{
	a->bctr[0] = hi2;
	a->bctr[1] = hi3;
}

/* The byteCounter trackers' change count (0 when none is attached). */
static uint64_t bctr_gen(const struct ingest_acct *a)
{
	return (a->bctr[0] ? a->bctr[0]->gen : 0) + (a->bctr[1] ? a->bctr[1]->gen : 0);
}

/* The sequence state's bytes into d (docs/FORMATS.md), all but the
 * closing digest (ingest_acct_state_digest), and in *snap what they hold,
 * for ingest_acct_state_saved once they are on disk.  *same = 1 (d empty)
 * when nothing changed since the last save.  Memory only, one pass over
 * the streams: the receiver encodes under its accounting lock and digests
 * and writes without it. */
int ingest_acct_state_encode(struct ingest_acct *a, int all_kept, struct lacre_dbuf *d_out,
                             struct ingest_acct_snap *snap, int *same)
{
	struct lacre_dbuf d;
	const struct stream *s;
	struct timespec ts;
	size_t i, n = 0, n_at;
	unsigned g;
	int r, e = 0;

	*same = 0;
	if (a->saved_once && a->saved_gen == a->gen && a->saved_all_kept == all_kept &&
	    a->saved_bctr_gen == bctr_gen(a)) {
		*same = 1;                       /* nothing changed since the last save */
		return LACRE_OK;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	lacre_dbuf_init(&d, STATE_CAP);
	e |= lacre_dbuf_add(&d, STATE_MAGIC, 8);
	e |= lacre_dbuf_add_u64be(&d, (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u);
	n_at = d.len;
	e |= lacre_dbuf_add_u32be(&d, 0);         /* the count, set after the streams */
	for (i = 0; i < a->n_buckets; i++)
		for (s = a->tab[i]; s; s = s->next) {
			n++;
			e |= lacre_dbuf_add_u8(&d, s->cls);
			e |= lacre_dbuf_add_u8(&d, (uint8_t)(s->has_cin | s->have << 1 | s->hash_seen << 2 |
			                                    s->restarted << 3));
			e |= lacre_dbuf_add_u8(&d, s->liid_len);
			e |= lacre_dbuf_add(&d, s->liid, s->liid_len);
			e |= lacre_dbuf_add_u32be(&d, s->cin);
			e |= lacre_dbuf_add_u64be(&d, s->next_seq);
			e |= lacre_dbuf_add_u64be(&d, all_kept ? (s->have ? s->next_seq : NOT_SEEN) : s->dur_next);
			e |= lacre_dbuf_add_u8(&d, s->pending_reset);
			e |= lacre_dbuf_add_u8(&d, (uint8_t)s->n_gaps);
			for (g = 0; g < s->n_gaps; g++) {
				e |= lacre_dbuf_add_u64be(&d, s->gaps[g].lo);
				e |= lacre_dbuf_add_u64be(&d, s->gaps[g].hi);
			}
		}
	if (e == 0) {
		d.p[n_at] = (uint8_t)(n >> 24);
		d.p[n_at + 1] = (uint8_t)(n >> 16);
		d.p[n_at + 2] = (uint8_t)(n >> 8);
		d.p[n_at + 3] = (uint8_t)n;
	}
	if (a->bctr[0] && a->bctr[1]) {
		e |= lacre_dbuf_add(&d, BCTR_TAG, 4);
		e |= lacre_dbuf_add_u8(&d, BCTR_VERSION);
		e |= etsi_bctr_save(a->bctr[0], all_kept, &d);
		e |= etsi_bctr_save(a->bctr[1], all_kept, &d);
	}
	r = LACRE_E_NOMEM;
	if (e != 0 || lacre_dbuf_reserve(&d, 32) != LACRE_OK)
		goto done;
	snap->gen = a->gen;
	snap->bctr_gen = bctr_gen(a);
	snap->all_kept = all_kept;
	*d_out = d;
	return LACRE_OK;
done:
	lacre_dbuf_free(&d);
	return r;
}

/* Close an encoded state with its SHA-256 (room for it was reserved by
 * ingest_acct_state_encode): no accounting is read, so the receiver runs it
 * after its accounting lock.  On failure d is freed. */
int ingest_acct_state_digest(struct lacre_dbuf *d)
{
	uint8_t dig[32];
	unsigned dlen = 0;

	if (EVP_Digest(d->p, d->len, dig, &dlen, EVP_sha256(), NULL) != 1 || dlen != 32 ||
	    lacre_dbuf_add(d, dig, 32) != LACRE_OK) {
		lacre_dbuf_free(d);
		return LACRE_E_CRYPTO;
	}
	return LACRE_OK;
}

/* The state encoded as snap is on disk. */
void ingest_acct_state_saved(struct ingest_acct *a, const struct ingest_acct_snap *snap)
{
	a->saved_gen = snap->gen;
	a->saved_bctr_gen = snap->bctr_gen;
	a->saved_once = 1;
	a->saved_all_kept = snap->all_kept;
}

/* Write the sequence state.  See ingest.h and docs/FORMATS.md. */
int ingest_acct_save(struct ingest_acct *a, const char *path, int all_kept)
{
	struct ingest_acct_snap snap;
	struct lacre_dbuf d;
	int r, same;

	if ((r = ingest_acct_state_encode(a, all_kept, &d, &snap, &same)) != LACRE_OK || same)
		return r;
	if ((r = ingest_acct_state_digest(&d)) != LACRE_OK)
		return r;
	if ((r = site_write_file(path, d.p, d.len, 0600)) == LACRE_OK)
		ingest_acct_state_saved(a, &snap);
	lacre_dbuf_free(&d);
	return r;
}

/* After a load: a stream whose numbers the previous run counted beyond
 * what its sink had surely kept (it stopped without closing its segments:
 * a crash) gets one "unkept-at-restart" alert naming the range that may be
 * lost.  This run's marks then start at the loaded numbers. */
static void report_unkept(struct ingest_acct *a)
{
	struct stream *s;
	struct json_w w;
	uint64_t from;
	size_t i;

	for (i = 0; i < a->n_buckets; i++)
		for (s = a->tab[i]; s; s = s->next) {
			if (!s->loaded)
				continue;
			from = s->dur_next == NOT_SEEN ? acct_first_seq(s) : s->dur_next;
			if (s->have && s->next_seq > from) {
				acct_ev_begin(a, &w, "unkept-at-restart", s);
				json_kv_uint(&w, "from", from);
				json_kv_uint(&w, "to", s->next_seq - 1);
				json_kv_uint(&w, "missing", s->next_seq - from);
				json_kv_str(&w, "cause", "the previous run stopped without closing its segments (a crash): "
				            "records it received in this range may not have been sealed");
				json_kv_bool(&w, "alert", 1);
				acct_ev_end(a, &w);
				a->unkept_reports++;
				a->unkept_numbers += s->next_seq - from;
			}
			s->mark_next = s->dur_next = s->have ? s->next_seq : NOT_SEEN;
		}
}

/* etsi_bctr_unkept callback: one byteCounter chain whose counted bytes
 * reach beyond what the previous run surely sealed (it crashed). */
static void bctr_unkept_ev(void *arg, const uint8_t *liid, size_t liid_len, uint64_t from, uint64_t to)
{
	void **v = arg;
	struct ingest_acct *a = v[0];
	struct json_w w;

	acct_ev_begin(a, &w, "bytecounter-unkept-at-restart", NULL);
	json_kv_str(&w, "listener", v[1]);
	json_key(&w, "liid");
	json_str_or_hex(&w, liid, liid_len);
	json_kv_uint(&w, "from", from);
	json_kv_uint(&w, "to", to);
	json_kv_str(&w, "cause", "the previous run stopped without closing its segments (a crash): "
	            "PDUs it received covering these byteCounter bytes may not have been sealed");
	json_kv_bool(&w, "alert", 1);
	acct_ev_end(a, &w);
	a->bctr_unkept++;
	a->bctr_unkept_bytes += to - from;
}

/* Parse the sections after the stream entries (today only BCTR) into
 * tmp[0..1] (initialised, empty); LACRE_E_CORRUPT with why. */
static int state_sections(struct ingest_acct *a, struct lacre_rbuf *it, struct etsi_bctr tmp[2],
			  char *why, size_t wn)
{
	const uint8_t *tag;
	uint8_t ver;
	int r, i;

	if (lacre_rbuf_left(it) == 0)
		return LACRE_OK;                 /* a file of before the section */
	if (lacre_rbuf_take(it, 4, &tag) != LACRE_OK || memcmp(tag, BCTR_TAG, 4) != 0) {
		snprintf(why, wn, "bytes after the last stream entry that are no known section");
		return LACRE_E_CORRUPT;
	}
	if (lacre_rbuf_u8(it, &ver) != LACRE_OK || ver != BCTR_VERSION) {
		snprintf(why, wn, "a byteCounter section of an unknown version");
		return LACRE_E_CORRUPT;
	}
	for (i = 0; i < 2; i++) {
		etsi_bctr_init(&tmp[i], a->bctr[i] ? a->bctr[i]->max : BCTR_LOAD_MAX);
		if ((r = etsi_bctr_load(&tmp[i], it, why, wn)) != LACRE_OK)
			return r;
	}
	if (lacre_rbuf_expect_end(it) != LACRE_OK) {
		snprintf(why, wn, "bytes after the byteCounter section");
		return LACRE_E_CORRUPT;
	}
	return LACRE_OK;
}

/* Forget the streams a failed load created (all or nothing). */
static void drop_loaded(struct ingest_acct *a)
{
	struct stream **pp, *s;
	size_t i;

	for (i = 0; i < a->n_buckets; i++) {
		pp = &a->tab[i];
		while ((s = *pp)) {
			if (!s->loaded) {
				pp = &s->next;
				continue;
			}
			*pp = s->next;
			acct_kept_clear(a, s);
			free(s->win);
			free(s->gaps);
			free(s);
			a->n_streams--;
		}
	}
}

/* One stream entry of a state file, parsed and checked. */
struct state_ent {
	uint8_t cls, flags, liid_len, pending_reset, n_gaps;
	const uint8_t *liid;
	uint32_t cin;
	uint64_t next_seq;
	uint64_t kept_next;         /* NOT_SEEN: nothing of this stream surely kept */
	struct gap gaps[MAX_OPEN_GAPS];
};

/* Parse one entry from b; LACRE_E_CORRUPT with the reason in why. */
static int state_entry(struct lacre_rbuf *b, struct state_ent *e, char *why, size_t wn)
{
	unsigned g;

	if (lacre_rbuf_u8(b, &e->cls) || lacre_rbuf_u8(b, &e->flags) || lacre_rbuf_u8(b, &e->liid_len) ||
	    lacre_rbuf_take(b, e->liid_len, &e->liid) || lacre_rbuf_u32be(b, &e->cin) ||
	    lacre_rbuf_u64be(b, &e->next_seq) || lacre_rbuf_u64be(b, &e->kept_next) ||
	    lacre_rbuf_u8(b, &e->pending_reset) ||
	    lacre_rbuf_u8(b, &e->n_gaps)) {
		snprintf(why, wn, "a stream entry is cut short");
		return LACRE_E_CORRUPT;
	}
	if (e->cls >= SC_N || e->flags > 15 || e->liid_len > MAX_LIID || e->n_gaps > MAX_OPEN_GAPS ||
	    e->next_seq > 0x100000000ull || (e->kept_next != NOT_SEEN && e->kept_next > 0x100000000ull)) {
		snprintf(why, wn, "a stream entry has an impossible value");
		return LACRE_E_CORRUPT;
	}
	for (g = 0; g < e->n_gaps; g++) {
		if (lacre_rbuf_u64be(b, &e->gaps[g].lo) || lacre_rbuf_u64be(b, &e->gaps[g].hi)) {
			snprintf(why, wn, "a gap entry is cut short");
			return LACRE_E_CORRUPT;
		}
		if (e->gaps[g].lo > e->gaps[g].hi || e->gaps[g].hi >= e->next_seq) {
			snprintf(why, wn, "a gap lies outside its stream's numbers");
			return LACRE_E_CORRUPT;
		}
	}
	return LACRE_OK;
}

/* Load the sequence state.  See ingest.h. */
int ingest_acct_load(struct ingest_acct *a, const char *path, char *why, size_t why_len)
{
	struct lacre_dbuf d;
	struct lacre_rbuf b, body;
	struct state_ent e;
	struct stream *s;
	struct etsi_bctr tmp[2];
	const uint8_t *magic, *tag;
	uint8_t dig[32];
	unsigned dlen = 0, g;
	uint64_t written;
	uint32_t n, i;
	int r, pass;

	if (why_len)
		why[0] = 0;
	etsi_bctr_init(&tmp[0], 0);
	etsi_bctr_init(&tmp[1], 0);
	r = site_read_file(path, STATE_CAP, &d);
	if (r == LACRE_E_TOO_LARGE) {
		snprintf(why, why_len, "larger than %zu MiB", STATE_CAP >> 20);
		return LACRE_E_CORRUPT;
	}
	if (r != LACRE_OK)
		return r;
	r = LACRE_E_CORRUPT;
	if (d.len < 8 + 8 + 4 + 32) {
		snprintf(why, why_len, "too short (%zu bytes)", d.len);
		goto done;
	}
	if (EVP_Digest(d.p, d.len - 32, dig, &dlen, EVP_sha256(), NULL) != 1 || dlen != 32) {
		r = LACRE_E_CRYPTO;
		goto done;
	}
	lacre_rbuf_init(&b, d.p, d.len);
	lacre_rbuf_take(&b, 8, &magic);
	if (memcmp(magic, STATE_MAGIC, 8) != 0) {
		snprintf(why, why_len, "not a lacre stream state file (bad magic)");
		goto done;
	}
	if (CRYPTO_memcmp(dig, d.p + d.len - 32, 32) != 0) {
		snprintf(why, why_len, "its SHA-256 does not match (torn or altered)");
		goto done;
	}
	lacre_rbuf_u64be(&b, &written);
	lacre_rbuf_u32be(&b, &n);
	if (lacre_rbuf_sub(&b, lacre_rbuf_left(&b) - 32, &body) != LACRE_OK ||
	    lacre_rbuf_take(&b, 32, &tag) != LACRE_OK)
		goto done;
	if (n > MAX_STREAMS) {
		snprintf(why, why_len, "%" PRIu32 " streams, more than %u", n, MAX_STREAMS);
		goto done;
	}
	/* pass 0 checks everything, pass 1 applies: all or nothing */
	for (pass = 0; pass < 2; pass++) {
		struct lacre_rbuf it = body;
		for (i = 0; i < n; i++) {
			if ((r = state_entry(&it, &e, why, why_len)) != LACRE_OK)
				goto done;
			if (pass == 0)
				continue;
			s = acct_find(a, e.liid, e.liid_len, e.flags & 1, e.cin, e.cls);
			if (s && s->loaded) {
				snprintf(why, why_len, "a stream appears twice");
				drop_loaded(a);
				r = LACRE_E_CORRUPT;
				goto done;
			}
			if (!s && !(s = acct_get(a, e.liid, e.liid_len, e.flags & 1, e.cin, e.cls))) {
				drop_loaded(a);
				r = LACRE_E_NOMEM;
				goto done;
			}
			s->have = (e.flags >> 1) & 1;
			s->hash_seen = (e.flags >> 2) & 1;
			s->restarted = (e.flags >> 3) & 1;
			s->next_seq = e.next_seq;
			s->pending_reset = e.pending_reset;
			if (e.n_gaps && !s->gaps && !(s->gaps = calloc(MAX_OPEN_GAPS, sizeof(*s->gaps)))) {
				drop_loaded(a);
				r = LACRE_E_NOMEM;
				goto done;
			}
			s->n_gaps = e.n_gaps;
			for (g = 0; g < e.n_gaps; g++)
				s->gaps[g] = e.gaps[g];
			s->loaded = 1;
			s->dur_next = e.kept_next;          /* reported below, then reset */
		}
		if (pass == 0 && (r = state_sections(a, &it, tmp, why, why_len)) != LACRE_OK)
			goto done;
	}
	report_unkept(a);
	for (pass = 0; pass < 2; pass++) {
		void *arg[2] = { a, (void *)(pass ? "hi3" : "hi2") };
		if (!a->bctr[pass] || tmp[pass].max == 0)
			continue;                /* no tracker, or a file without the section */
		etsi_bctr_free(a->bctr[pass]);
		*a->bctr[pass] = tmp[pass];
		etsi_bctr_init(&tmp[pass], 0);
		etsi_bctr_unkept(a->bctr[pass], bctr_unkept_ev, arg);
	}
	a->saved_gen = a->gen;
	a->saved_bctr_gen = bctr_gen(a);
	a->saved_once = 1;
	a->saved_all_kept = 1;
	r = LACRE_OK;
done:
	etsi_bctr_free(&tmp[0]);
	etsi_bctr_free(&tmp[1]);
	lacre_dbuf_free(&d);
	return r;
}

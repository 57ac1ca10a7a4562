/*
 * accounting.c - stream accounting and integrity-check verification at
 * ingest (spec §7, §8.4).
 *
 * A stream is (LIID, CIN, class): class is IRI or CC data, or an integrity
 * chain's hash or signature PDUs (counted apart, spec §7.1: their numbers
 * share LIID and CIN with the data).  The agency part of the spec's key is
 * added by the routing layer; here one process is one agency.
 *
 * Per data stream: next expected number, gaps (events and missing numbers),
 * late arrivals that close a gap, duplicates (a backward number whose bytes
 * hash like the PDU stored under it in a window of recent numbers), restarts
 * (backward with different bytes, or back to 0: new epoch, alert) and
 * cINReset (new epoch for the IRI and CC streams of that LIID/CIN).  A reset
 * that arrives on the other connection than a stream's data is applied when
 * that stream next goes backwards, so PDUs still in flight on the other
 * connection are not miscounted as gaps.
 *
 * Integrity: the bytes of each data stream's PDUs since its last hash PDU
 * are retained (bounded; only while the chain has shown hash PDUs or during
 * its first INTEGRITY_PROBE PDUs) and hashed when the hash PDU arrives:
 * verified, mismatch, missing (a listed PDU never arrived) or unsupported.
 * A hash PDU that lists PDUs not yet arrived (OpenLI's mediator sends most
 * hash PDUs before their last 1-6 data PDUs) is held (struct hcheck) until
 * they arrive, the data stream passes them (a gap), its time bound
 * (hold_s), the count or memory bound (the oldest judged first), or the
 * end of the hash PDU's connection (ingest_acct_flush()); checks of one
 * stream are judged in arrival order, since each verdict drops the PDUs
 * it covered.  A missing verdict names the numbers never received.
 * Signature PDUs are checked against the operator key when one is set.
 * Every outcome other than verified is an event with "alert":true.
 *
 * Memory: the retained PDUs of all streams are one FIFO bounded by
 * integrity_retain (the oldest anywhere is evicted first, so a long run of
 * chains that never show a hash PDU cannot starve a new chain that does),
 * counting each PDU's header and allocator overhead too, and
 * ingest_acct_trim() frees the duplicate window of streams idle for
 * INGEST_ACCT_TRIM_S (ended calls and sessions).  Retained PDUs are not trimmed: an IRI
 * chain may be idle for the length of a call and still get its hash PDU at
 * the end; the FIFO cap bounds them.
 *
 * Persistence (stream_state.c): ingest_acct_save()/ingest_acct_load()
 * write and read the sequence state of every stream (docs/FORMATS.md §12),
 * so a restarted receiver continues each stream where it stopped instead of
 * reporting the numbers it already saw as a gap.  The structures both files
 * use are in accounting_int.h.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "lacre/ber.h"
#include "lacre/err.h"
#include "lacre/ingest.h"
#include "lacre/json.h"
#include "ingest/accounting_int.h"
#include "ingest/copy_pool.h"
#include "ingest/ingest_int.h"

static const char *const class_name[SC_N] = { "iri", "cc", "iri-hash", "cc-hash", "iri-sig", "cc-sig" };

/* One step of bytes_hash's chains: mix the word w into h. */
static inline uint64_t bytes_mix(uint64_t h, uint64_t w)
{
	h = (h ^ w) * 0xff51afd7ed558ccdull;
	return h ^ (h >> 32);
}

/* 64-bit hash of PDU bytes for duplicate detection (not a security
 * decision: every PDU is stored either way; this only labels it).  Every
 * PDU passes here, so four independent chains take 32 bytes a turn (one
 * chain's multiply waits on the last: 2.4x slower on 561-byte PDUs, 3 %
 * of a worker's CPU); they are folded into one for the rest.  Nothing
 * keeps these values across a restart (the duplicate windows are not
 * saved), so the function may change between versions. */
static uint64_t bytes_hash(const uint8_t *p, size_t n)
{
	uint64_t a = 0x9e3779b97f4a7c15ull ^ n, b = 0xc2b2ae3d27d4eb4full, c = 0x165667b19e3779f9ull,
		 d = 0x27d4eb2f165667c5ull, w[4];
	size_t i = 0;

	for (; i + 32 <= n; i += 32) {
		memcpy(w, p + i, 32);
		a = bytes_mix(a, w[0]);
		b = bytes_mix(b, w[1]);
		c = bytes_mix(c, w[2]);
		d = bytes_mix(d, w[3]);
	}
	a = bytes_mix(bytes_mix(bytes_mix(a, b), c), d);
	for (; i + 8 <= n; i += 8) {
		memcpy(w, p + i, 8);
		a = bytes_mix(a, w[0]);
	}
	for (; i < n; i++) {
		a = (a ^ p[i]) * 0xc4ceb9fe1a85ec53ull;
		a ^= a >> 29;
	}
	return a ^ (a >> 31);
}

/* Hash of a stream key for the table. */
static size_t key_hash(const uint8_t *liid, size_t len, uint32_t cin, int cls)
{
	uint64_t h = 1469598103934665603ull;
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ liid[i]) * 1099511628211ull;
	h = (h ^ cin) * 1099511628211ull;
	h = (h ^ (uint64_t)cls) * 1099511628211ull;
	return (size_t)(h ^ (h >> 29));
}

static int acct_pdu(struct ingest_acct *a, const uint8_t *pdu, size_t len, uint64_t h,
                    const struct etsi_pdu *d, int listener, uint64_t conn_id);

/* Create the accounting.  See ingest.h. */
int ingest_acct_new(size_t integrity_retain, ingest_event_fn ev, void *ev_arg,
                    struct ingest_acct **out)
{
	struct ingest_acct *a;

	if (!(a = calloc(1, sizeof(*a))))
		return LACRE_E_NOMEM;
	a->n_buckets = 1024;
	if (!(a->tab = calloc(a->n_buckets, sizeof(*a->tab)))) {
		free(a);
		return LACRE_E_NOMEM;
	}
	a->retain_cap = integrity_retain;
	a->ev = ev;
	a->ev_arg = ev_arg;
	a->sig_md = EVP_sha256();
	a->hold_s = HOLD_S_DEFAULT;
	a->hold_max = HOLD_MAX_DEFAULT;
	a->hold_bytes_max = HOLD_BYTES_DEFAULT;
	lacre_dbuf_init(&a->j, 1u << 20);
	*out = a;
	return LACRE_OK;
}

/* Load the operator's signature public key.  See ingest.h. */
int ingest_acct_set_sigkey(struct ingest_acct *a, const char *pem_path, const char *md)
{
	FILE *fp;
	EVP_PKEY *k;
	const EVP_MD *m = EVP_sha256();

	if (md && !(m = EVP_get_digestbyname(md)))
		return LACRE_E_CONFIG;
	if (!(fp = fopen(pem_path, "r")))
		return LACRE_E_CONFIG;
	k = PEM_read_PUBKEY(fp, NULL, NULL, NULL);
	fclose(fp);
	if (!k)
		return LACRE_E_CONFIG;
	EVP_PKEY_free(a->sigkey);
	a->sigkey = k;
	a->sig_md = m;
	return LACRE_OK;
}

/* A copy of len bytes of PDU: from this thread's chunk of the copy pool
 * (copy_pool.c: huge pages, reused, freed by any thread without a lock),
 * or from malloc when larger than a pool copy or the pool has no memory. */
static struct kept *kept_new(const uint8_t *pdu, size_t len)
{
	size_t n = sizeof(struct kept) + len;
	struct kept *k = copy_pool_alloc(n);

	if (k)
		k->pooled = 1;
	else if ((k = malloc(n)) != NULL)
		k->pooled = 0;
	else
		return NULL;
	memcpy(k->b, pdu, len);
	return k;
}

static void kept_free(struct kept *k)
{
	if (k && k->pooled)
		copy_pool_free(k);
	else
		free(k);
}

/* Take k out of the FIFO of all retained PDUs and free it (the caller has
 * already unlinked it from its stream); while a->defer is set, chain it
 * there instead, for ingest_acct_finish to free outside the lock. */
static void kept_release(struct ingest_acct *a, struct kept *k)
{
	if (k->gprev)
		k->gprev->gnext = k->gnext;
	else
		a->g_head = k->gnext;
	if (k->gnext)
		k->gnext->gprev = k->gprev;
	else
		a->g_tail = k->gprev;
	a->retained -= KEPT_COST(k->len);
	if (a->defer) {
		k->next = a->defer->evicted;
		a->defer->evicted = k;
		return;
	}
	kept_free(k);
}

/* Free the oldest retained PDU of s (its list head). */
static void kept_pop(struct ingest_acct *a, struct stream *s)
{
	struct kept *k = s->k_head;

	s->k_head = k->next;
	if (!s->k_head)
		s->k_tail = NULL;
	s->k_bytes -= k->len;
	kept_release(a, k);
}

static void stats_add(struct ingest_stream_stats *a, const struct ingest_stream_stats *b);

/* Drop every retained PDU of s. */
void acct_kept_clear(struct ingest_acct *a, struct stream *s)
{
	while (s->k_head)
		kept_pop(a, s);
}

/* Free the table. */
void ingest_acct_free(struct ingest_acct *a)
{
	struct stream *s, *n;
	size_t i;

	if (!a)
		return;
	for (i = 0; i < a->n_buckets; i++)
		for (s = a->tab[i]; s; s = n) {
			n = s->next;
			acct_kept_clear(a, s);
			free(s->win);
			free(s->gaps);
			free(s);
		}
	while (a->h_head) {
		struct hcheck *h = a->h_head;
		a->h_head = h->next;
		free(h);
	}
	free(a->tab);
	EVP_PKEY_free(a->sigkey);
	lacre_dbuf_free(&a->j);
	free(a->seqs);
	free(a);
}

/* Find a stream; NULL when absent. */
struct stream *acct_find(const struct ingest_acct *a, const uint8_t *liid, size_t len,
                           int has_cin, uint32_t cin, int cls)
{
	struct stream *s;

	if (len > MAX_LIID)
		len = MAX_LIID;
	for (s = a->tab[key_hash(liid, len, cin, cls) & (a->n_buckets - 1)]; s; s = s->next)
		if (s->cls == cls && s->cin == cin && s->has_cin == has_cin &&
		    s->liid_len == len && (len == 0 || memcmp(s->liid, liid, len) == 0))
			return s;
	return NULL;
}

/* Double the table when it is full. */
static void grow(struct ingest_acct *a)
{
	struct stream **nt, *s, *n;
	size_t i, nb = a->n_buckets * 2, b;

	if (!(nt = calloc(nb, sizeof(*nt))))
		return;                      /* keep the old table: slower, still correct */
	for (i = 0; i < a->n_buckets; i++)
		for (s = a->tab[i]; s; s = n) {
			n = s->next;
			b = key_hash(s->liid, s->liid_len, s->cin, s->cls) & (nb - 1);
			s->next = nt[b];
			nt[b] = s;
		}
	free(a->tab);
	a->tab = nt;
	a->n_buckets = nb;
}

/* First number of a stream: data counts from 0, integrity PDUs from 1. */
uint64_t acct_first_seq(const struct stream *s)
{
	return s->cls >= SC_HASH_IRI ? 1 : 0;
}

/* Coarse monotonic seconds (stream idle times). */
static uint32_t mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint32_t)ts.tv_sec;
}

/* Find or create a stream; NULL when the table is full or memory ran out. */
struct stream *acct_get(struct ingest_acct *a, const uint8_t *liid, size_t len,
                          int has_cin, uint32_t cin, int cls)
{
	struct stream *s;
	size_t b;

	if (len > MAX_LIID)
		len = MAX_LIID;
	if ((s = acct_find(a, liid, len, has_cin, cin, cls)))
		return s;
	if (a->n_streams >= MAX_STREAMS || !(s = calloc(1, sizeof(*s)))) {
		a->streams_dropped++;
		return NULL;
	}
	if (len)
		memcpy(s->liid, liid, len);       /* a PDU may carry no LIID */
	s->liid_len = (uint8_t)len;
	s->has_cin = (uint8_t)has_cin;
	s->cin = cin;
	s->cls = (uint8_t)cls;
	s->next_seq = acct_first_seq(s);
	s->mark_next = s->dur_next = NOT_SEEN;
	s->last_s = mono_s();
	if (a->n_streams >= a->n_buckets)
		grow(a);
	b = key_hash(s->liid, len, cin, cls) & (a->n_buckets - 1);
	s->next = a->tab[b];
	a->tab[b] = s;
	a->n_streams++;
	return s;
}

/* Start an event object with the stream's identity. */
struct json_w *acct_ev_begin(struct ingest_acct *a, struct json_w *w, const char *name,
                               const struct stream *s)
{
	lacre_dbuf_reset(&a->j);
	json_init(w, &a->j);
	json_obj_begin(w);
	json_kv_str(w, "event", name);
	if (s) {
		json_key(w, "liid");
		json_str_or_hex(w, s->liid, s->liid_len);
		if (s->has_cin)
			json_kv_uint(w, "cin", s->cin);
		else
			json_kv_null(w, "cin");
		json_kv_str(w, "stream", class_name[s->cls]);
	}
	return w;
}

/* Finish an event and hand it to the callback. */
void acct_ev_end(struct ingest_acct *a, struct json_w *w)
{
	const char *txt;

	json_obj_end(w);
	if (json_finish(w) != LACRE_OK || !a->ev)
		return;
	if (lacre_dbuf_cstr(&a->j, &txt) == LACRE_OK)
		a->ev(a->ev_arg, txt);
}

/* The 32 bits of a PDU hash kept in the window (never 0). */
static uint32_t win_h(uint64_t h)
{
	return (uint32_t)(h >> 32) | 1u;
}

/* Remember (seq, h) in the duplicate window (8 bytes per slot). */
static void win_put(struct stream *s, uint64_t seq, uint64_t h)
{
	if (!s->win && !(s->win = calloc(WIN, sizeof(*s->win))))
		return;
	s->win[seq % WIN].seq = (uint32_t)seq;
	s->win[seq % WIN].h = win_h(h);
}

/* Look seq up in the window: 1 same bytes, -1 different bytes, 0 unknown. */
static int win_get(const struct stream *s, uint64_t seq, uint64_t h)
{
	const struct win_ent *e;

	if (!s->win)
		return 0;
	e = &s->win[seq % WIN];
	if (e->h == 0 || e->seq != (uint32_t)seq)
		return 0;
	return e->h == win_h(h) ? 1 : -1;
}

/* Start a new numbering epoch.  The duplicate window is kept: a resend of
 * an earlier epoch's PDU after a reconnect is still recognised by its
 * bytes, and a new PDU under an old number has other bytes anyway. */
static void new_epoch(struct stream *s)
{
	s->have = 0;
	s->next_seq = acct_first_seq(s);
	s->n_gaps = 0;
}

/* If seq falls in an open gap, close it there: 1 if it did. */
static int gap_fill(struct stream *s, uint64_t seq)
{
	unsigned i;
	struct gap g;

	for (i = 0; i < s->n_gaps; i++) {
		g = s->gaps[i];
		if (seq < g.lo || seq > g.hi)
			continue;
		if (g.lo == g.hi) {
			s->gaps[i] = s->gaps[--s->n_gaps];
		} else if (seq == g.lo) {
			s->gaps[i].lo++;
		} else if (seq == g.hi) {
			s->gaps[i].hi--;
		} else {
			s->gaps[i].hi = seq - 1;
			if (s->n_gaps < MAX_OPEN_GAPS) {
				s->gaps[s->n_gaps].lo = seq + 1;
				s->gaps[s->n_gaps].hi = g.hi;
				s->n_gaps++;
			}
		}
		return 1;
	}
	return 0;
}

/* Record an open gap lo..hi (oldest forgotten when full; not kept at all
 * when memory ran out: the gap event was logged either way). */
static void gap_open(struct stream *s, uint64_t lo, uint64_t hi)
{
	if (!s->gaps && !(s->gaps = calloc(MAX_OPEN_GAPS, sizeof(*s->gaps))))
		return;
	if (s->n_gaps == MAX_OPEN_GAPS) {
		memmove(s->gaps, s->gaps + 1, (MAX_OPEN_GAPS - 1) * sizeof(s->gaps[0]));
		s->n_gaps--;
	}
	s->gaps[s->n_gaps].lo = lo;
	s->gaps[s->n_gaps].hi = hi;
	s->n_gaps++;
}

/* Sequence one PDU numbered seq with bytes hash h on stream s. */
static void sequence(struct ingest_acct *a, struct stream *s, uint64_t seq, uint64_t h,
                     int listener, uint64_t conn_id)
{
	struct json_w w;
	int dup, after_restart = s->loaded;

	s->loaded = 0;
	s->st.received++;
	s->last_s = mono_s();
	s->listeners |= (uint8_t)(1u << (listener & 7));
	if (s->have && s->next_seq == 0x100000000ull && seq == 0)
		s->next_seq = 0;                  /* 2^32 - 1 wrapped to 0 */
	/* the same bytes under a number already seen: a resend, whatever the
	 * direction (it may belong to an epoch before a reset) */
	dup = win_get(s, seq, h);
	if (dup == 1) {
		s->st.duplicates++;
		acct_ev_begin(a, &w, "duplicate", s);
		json_kv_uint(&w, "seq", seq);
		json_kv_bool(&w, "verified", 1);
		json_kv_uint(&w, "conn", conn_id);
		acct_ev_end(a, &w);
		return;
	}
	if (!s->have || seq >= s->next_seq) {
		if (seq > s->next_seq) {
			s->st.gaps++;
			s->st.missing += seq - s->next_seq;
			gap_open(s, s->next_seq, seq - 1);
			acct_ev_begin(a, &w, "gap", s);
			json_kv_uint(&w, "from", s->next_seq);
			json_kv_uint(&w, "to", seq - 1);
			json_kv_uint(&w, "missing", seq - s->next_seq);
			json_kv_uint(&w, "conn", conn_id);
			if (after_restart)
				json_kv_bool(&w, "after_restart", 1);
			json_kv_bool(&w, "alert", 1);
			acct_ev_end(a, &w);
		}
		s->have = 1;
		s->next_seq = seq + 1;
		win_put(s, seq, h);
		return;
	}
	/* backwards */
	if (s->pending_reset) {
		s->pending_reset--;
		new_epoch(s);
		s->have = 1;
		s->next_seq = seq + 1;
		win_put(s, seq, h);
		acct_ev_begin(a, &w, "epoch", s);
		json_kv_str(&w, "cause", "cin-reset");
		json_kv_uint(&w, "seq", seq);
		json_kv_uint(&w, "conn", conn_id);
		acct_ev_end(a, &w);
		if (seq > acct_first_seq(s)) {
			s->st.gaps++;
			s->st.missing += seq - acct_first_seq(s);
			gap_open(s, acct_first_seq(s), seq - 1);
			acct_ev_begin(a, &w, "gap", s);
			json_kv_uint(&w, "from", acct_first_seq(s));
			json_kv_uint(&w, "to", seq - 1);
			json_kv_uint(&w, "missing", seq - acct_first_seq(s));
			json_kv_uint(&w, "conn", conn_id);
			json_kv_bool(&w, "alert", 1);
			acct_ev_end(a, &w);
		}
		return;
	}
	if (dup == 0 && seq != 0 && !gap_fill(s, seq)) {
		/* older than the window: counted as a duplicate, unverified */
		s->st.duplicates++;
		acct_ev_begin(a, &w, "duplicate", s);
		json_kv_uint(&w, "seq", seq);
		json_kv_bool(&w, "verified", 0);
		json_kv_uint(&w, "conn", conn_id);
		acct_ev_end(a, &w);
		return;
	}
	if (dup == 0 && seq != 0) {
		/* gap_fill() closed (part of) a gap: a late arrival */
		s->st.late++;
		if (s->st.missing)
			s->st.missing--;
		acct_ev_begin(a, &w, "late", s);
		json_kv_uint(&w, "seq", seq);
		json_kv_uint(&w, "conn", conn_id);
		acct_ev_end(a, &w);
		win_put(s, seq, h);
		return;
	}
	/* different bytes under a known number, or back to 0: restart */
	s->st.restarts++;
	s->restarted = 1;
	acct_ev_begin(a, &w, "restart", s);
	json_kv_uint(&w, "seq", seq);
	json_kv_uint(&w, "expected", s->next_seq);
	json_kv_uint(&w, "conn", conn_id);
	json_kv_bool(&w, "alert", 1);
	acct_ev_end(a, &w);
	new_epoch(s);
	s->have = 1;
	s->next_seq = seq + 1;
	win_put(s, seq, h);
}

/* Apply a cINReset to one data stream. */
static void reset_stream(struct ingest_acct *a, struct stream *s, int listener)
{
	struct json_w w;

	s->st.resets++;
	if (s->restarted) {
		/* the stream already went back to 0: the reset explains it */
		s->restarted = 0;
		if (s->st.restarts)
			s->st.restarts--;
		return;
	}
	if (s->listeners & (1u << (listener & 7))) {
		new_epoch(s);                     /* same connection: ordered */
		acct_ev_begin(a, &w, "epoch", s);
		json_kv_str(&w, "cause", "cin-reset");
		acct_ev_end(a, &w);
	} else if (s->pending_reset < 255) {
		s->pending_reset++;               /* applied when it goes back */
	}
}

/* Apply a cINReset to one class of (LIID, CIN).  A stream not seen yet on
 * another connection than the reset's is created with the reset pending:
 * its old-epoch PDUs may still be in flight there (the sender wrote them
 * before the reset, the other connection is just behind). */
static void reset_class(struct ingest_acct *a, const struct etsi_pdu *d, int cls, int listener)
{
	size_t len = d->liid.len > MAX_LIID ? MAX_LIID : d->liid.len;
	struct stream *s = acct_find(a, d->liid.p, len, d->has_cin, d->cin, cls);
	int home = (cls == SC_IRI || cls == SC_HASH_IRI || cls == SC_SIG_IRI) ? LACRE_HI2 : LACRE_HI3;

	if (s) {
		reset_stream(a, s, listener);
		return;
	}
	if (home == listener)
		return;                       /* same connection: nothing in flight */
	if (!(s = acct_get(a, d->liid.p, len, d->has_cin, d->cin, cls)))
		return;
	s->pending_reset = 1;
	s->st.resets++;
}

/* Append a retained copy of a data PDU, within the global cap. */
static void keep(struct ingest_acct *a, struct stream *s, uint64_t seq,
                 const uint8_t *pdu, size_t len)
{
	struct kept *k, *old;
	struct ingest_acct_pre *pre = a->defer;

	if (a->retain_cap == 0 || KEPT_COST(len) > a->retain_cap)
		return;
	if (!s->hash_seen && s->st.received > INTEGRITY_PROBE) {
		if (s->k_head)
			acct_kept_clear(a, s);          /* no integrity on this chain */
		return;
	}
	/* evict the oldest anywhere: arrival order is each stream's order
	 * too, so it is always the head of its own stream's list */
	while (a->retained + KEPT_COST(len) > a->retain_cap && (old = a->g_head))
		kept_pop(a, old->s);
	if (a->retained + KEPT_COST(len) > a->retain_cap)
		return;
	if (pre && pre->kept && pre->src == pdu && pre->len == len) {
		k = pre->kept;                  /* copied before the lock */
		pre->kept = NULL;
	} else {
		if (!(k = kept_new(pdu, len)))
			return;
	}
	if (pre && pre->src == pdu)
		pre->retained = 1;
	k->next = NULL;
	k->s = s;
	k->seq = seq;
	k->len = len;
	if (s->k_tail)
		s->k_tail->next = k;
	else
		s->k_head = k;
	s->k_tail = k;
	k->gnext = NULL;
	k->gprev = a->g_tail;
	if (a->g_tail)
		a->g_tail->gnext = k;
	else
		a->g_head = k;
	a->g_tail = k;
	s->k_bytes += len;
	a->retained += KEPT_COST(len);
}


/* Digest for an ETSI hashAlgorithm value (0 = absent -> SHA-256). */
static const EVP_MD *hash_md(int alg)
{
	switch (alg) {
	case 0: case 2: return EVP_sha256();
	case 1: return EVP_sha1();
	case 3: return EVP_sha384();
	case 4: return EVP_sha512();
	default: return NULL;
	}
}

/* Emit the common fields of an integrity event. */
static void ic_fields(struct json_w *w, const struct ingest_icheck *ic, uint64_t seq,
                      uint64_t conn_id)
{
	json_kv_uint(w, "seq", seq);
	json_kv_str(w, "data", ic->data_type == 2 ? "cc" : ic->data_type == 1 ? "iri" : "other");
	json_kv_uint(w, "count", ic->n_seqs);
	if (ic->n_seqs) {
		json_kv_uint(w, "first", ic->seqs[0]);
		json_kv_uint(w, "last", ic->seqs[ic->n_seqs - 1]);
	}
	json_kv_uint(w, "conn", conn_id);
}

/* Decode an ASCII-hex LIID (OpenLI writes binary LIIDs of integrity PDUs
 * that way); 0 on success. */
static int unhex(const uint8_t *p, size_t n, uint8_t *out, size_t *olen)
{
	size_t i;
	int hi, lo;

	if (n == 0 || n % 2 || n / 2 > MAX_LIID)
		return -1;
	for (i = 0; i < n; i += 2) {
		hi = p[i] <= '9' && p[i] >= '0' ? p[i] - '0' : (p[i] | 0x20) >= 'a' && (p[i] | 0x20) <= 'f' ? (p[i] | 0x20) - 'a' + 10 : -1;
		lo = p[i + 1] <= '9' && p[i + 1] >= '0' ? p[i + 1] - '0' : (p[i + 1] | 0x20) >= 'a' && (p[i + 1] | 0x20) <= 'f' ? (p[i + 1] | 0x20) - 'a' + 10 : -1;
		if (hi < 0 || lo < 0)
			return -1;
		out[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	*olen = n / 2;
	return 0;
}

/* Is h a check on data stream s? */
static int hc_is(const struct hcheck *h, const struct stream *s)
{
	return h->cls == s->cls && h->has_cin == s->has_cin && h->cin == s->cin &&
	       h->liid_len == s->liid_len && memcmp(h->liid, s->liid, s->liid_len) == 0;
}

/* The kept PDU of s numbered seq, searched on from after (then from the
 * oldest); NULL when it is not kept. */
static struct kept *kept_find(struct stream *s, struct kept *after, uint64_t seq)
{
	struct kept *k;

	for (k = after ? after->next : s->k_head; k; k = k->next)
		if (k->seq == seq)
			return k;
	for (k = s->k_head; k; k = k->next)
		if (k->seq == seq)
			return k;
	return NULL;
}

/* Give the verdict of hash check h against the retained data PDUs of its
 * stream s (NULL: never seen): verified, mismatch, missing (naming the
 * numbers that never arrived) or unsupported; count it and emit the event. */
static void hash_verdict(struct ingest_acct *a, struct stream *s, const struct hcheck *h,
                         int held)
{
	struct kept *k, *last = NULL, *n;
	const EVP_MD *md = hash_md(h->hash_alg);
	EVP_MD_CTX *ctx = NULL;
	uint8_t dig[EVP_MAX_MD_SIZE];
	unsigned dlen = 0;
	size_t i, missing = 0, listed = 0;
	const char *result;
	struct json_w w;
	struct stream fake;

	/* counted when judged, so hash_pdus is always the sum of the verdicts
	 * (held checks are counted apart, ingest_acct_held()) */
	a->is.hash_pdus++;
	if (!md) {
		a->is.hash_unknown_alg++;
		result = "unsupported";
		goto report;
	}
	if (!s || !(ctx = EVP_MD_CTX_new()) || !EVP_DigestInit_ex(ctx, md, NULL)) {
		missing = h->n_seqs;
		a->is.hash_missing++;
		result = "missing";
		goto report;
	}
	/* the listed PDUs, in the listed order (kept in arrival order,
	 * normally the listed order) */
	for (i = 0; i < h->n_seqs; i++) {
		if (!(k = kept_find(s, last, h->seqs[i]))) {
			missing++;
			continue;
		}
		EVP_DigestUpdate(ctx, k->b, k->len);
		last = k;
	}
	EVP_DigestFinal_ex(ctx, dig, &dlen);
	if (missing) {
		a->is.hash_missing++;
		result = "missing";
	} else if (dlen == h->value_len && CRYPTO_memcmp(dig, h->value, dlen) == 0) {
		a->is.hash_ok++;
		result = "verified";
	} else {
		a->is.hash_mismatch++;
		result = "mismatch";
	}
report:
	if (!s) {
		memset(&fake, 0, sizeof(fake));
		fake.liid_len = h->liid_len;
		if (h->liid_len)
			memcpy(fake.liid, h->liid, h->liid_len);
		fake.has_cin = h->has_cin;
		fake.cin = h->cin;
		fake.cls = h->cls;
	}
	acct_ev_begin(a, &w, "integrity", s ? s : &fake);
	json_kv_str(&w, "check", "hash");
	json_kv_str(&w, "result", result);
	json_kv_uint(&w, "seq", h->seq);
	json_kv_str(&w, "data", h->data_type == 2 ? "cc" : h->data_type == 1 ? "iri" : "other");
	json_kv_uint(&w, "count", h->n_seqs);
	if (h->n_seqs) {
		json_kv_uint(&w, "first", h->seqs[0]);
		json_kv_uint(&w, "last", h->seqs[h->n_seqs - 1]);
	}
	json_kv_uint(&w, "conn", h->conn_id);
	json_kv_uint(&w, "hash_alg", (uint64_t)h->hash_alg);
	if (held)
		json_kv_bool(&w, "deferred", 1);
	if (missing) {
		json_kv_uint(&w, "missing", missing);
		/* name the numbers that never arrived (the first few) */
		json_key(&w, "missing_seqs");
		json_arr_begin(&w);
		for (i = 0; i < h->n_seqs && listed < MAX_MISSING_LISTED; i++)
			if (!s || !kept_find(s, NULL, h->seqs[i])) {
				json_uint(&w, h->seqs[i]);
				listed++;
			}
		json_arr_end(&w);
	}
	json_kv_bool(&w, "alert", strcmp(result, "verified") != 0);
	acct_ev_end(a, &w);
	EVP_MD_CTX_free(ctx);
	/* the sender's digest restarts after each hash PDU: drop what it covered */
	if (s && last) {
		for (k = s->k_head; k; k = n) {
			int done = k == last;
			n = k->next;
			kept_pop(a, s);
			if (done)
				break;
		}
	}
}

/* Can held check h on s be judged: every listed PDU arrived, or the only
 * ones absent are numbers the stream has already passed (a gap: on an
 * ordered connection they are lost, not in flight)? */
static int hc_ready(const struct hcheck *h, const struct stream *s)
{
	size_t i;

	if (!h->n_absent)
		return 1;
	for (i = 0; i < h->n_seqs; i++)
		if (!h->found[i] && (!s->have || h->seqs[i] >= s->next_seq))
			return 0;
	return 1;
}

/* Take held check h (prev: the one before it, NULL at the head) out of
 * the list, judge it and free it. */
static void held_judge(struct ingest_acct *a, struct hcheck *prev, struct hcheck *h)
{
	struct stream *s = acct_find(a, h->liid, h->liid_len, h->has_cin, h->cin, h->cls);

	if (prev)
		prev->next = h->next;
	else
		a->h_head = h->next;
	if (a->h_tail == h)
		a->h_tail = prev;
	a->n_held--;
	a->held_bytes -= HCHECK_COST(h->n_seqs);
	if (s && s->n_held)
		s->n_held--;
	hash_verdict(a, s, h, 1);
	free(h);
}

/* Judge the held checks of s that are complete, oldest first, stopping at
 * the first still waiting (a later check must not drop its PDUs). */
static void held_resolve(struct ingest_acct *a, struct stream *s)
{
	struct hcheck *h, *prev = NULL;

	for (h = a->h_head; h && s->n_held; ) {
		if (!hc_is(h, s)) {
			prev = h;
			h = h->next;
			continue;
		}
		if (!hc_ready(h, s))
			return;
		held_judge(a, prev, h);
		h = prev ? prev->next : a->h_head;
	}
}

/* A data PDU numbered seq arrived on s: tick it off its held checks. */
static void held_arrived(struct ingest_acct *a, struct stream *s, uint64_t seq)
{
	struct hcheck *h;
	size_t i;

	for (h = a->h_head; h; h = h->next) {
		if (!h->n_absent || seq < h->absent_lo || seq > h->absent_hi || !hc_is(h, s))
			continue;
		for (i = 0; i < h->n_seqs; i++)
			if (h->seqs[i] == seq && !h->found[i]) {
				h->found[i] = 1;
				h->n_absent--;
			}
	}
	held_resolve(a, s);
}

/* Judge the held checks past their time bound (the oldest are first). */
static void held_expire(struct ingest_acct *a)
{
	uint32_t now;
	struct stream *s;
	struct hcheck *h;

	if (!a->h_head)
		return;
	now = mono_s();
	while ((h = a->h_head) && (int32_t)(now - h->deadline) >= 0) {
		s = acct_find(a, h->liid, h->liid_len, h->has_cin, h->cin, h->cls);
		held_judge(a, NULL, h);
		if (s)
			held_resolve(a, s);
	}
}

/* Bounds on held checks.  See ingest.h. */
void ingest_acct_set_hold(struct ingest_acct *a, unsigned hold_s, size_t max_held,
                          size_t max_bytes)
{
	a->hold_s = hold_s;
	a->hold_max = max_held;
	a->hold_bytes_max = max_bytes;
}

/* Judge held checks.  See ingest.h. */
size_t ingest_acct_flush(struct ingest_acct *a, uint64_t conn_id, int all)
{
	struct hcheck *h, *prev = NULL;
	size_t n = 0;

	held_expire(a);
	for (h = a->h_head; h; ) {
		if (!all && h->conn_id != conn_id) {
			prev = h;
			h = h->next;
			continue;
		}
		held_judge(a, prev, h);
		n++;
		h = prev ? prev->next : a->h_head;
	}
	return n;
}

/* Hash checks held now.  See ingest.h. */
size_t ingest_acct_held(const struct ingest_acct *a)
{
	return a->n_held;
}

/* A hash PDU arrived: judge it now when every PDU it lists is kept (and
 * no older check of its stream waits), else hold it within the bounds. */
static void check_hash(struct ingest_acct *a, const struct etsi_pdu *d,
                       const struct ingest_icheck *ic, int data_cls, uint64_t conn_id)
{
	struct stream *s;
	struct hcheck *h;
	uint8_t bin[MAX_LIID];
	size_t i, blen, cost;
	const uint8_t *liid = d->liid.p;
	size_t liid_len = d->liid.len > MAX_LIID ? MAX_LIID : d->liid.len;

	s = acct_find(a, d->liid.p, d->liid.len, d->has_cin, d->cin, data_cls);
	if (!s && unhex(d->liid.p, d->liid.len, bin, &blen) == 0 &&
	    (s = acct_find(a, bin, blen, d->has_cin, d->cin, data_cls))) {
		liid = bin;
		liid_len = blen;
	}
	if (s) {
		s->hash_seen = 1;
		liid = s->liid;
		liid_len = s->liid_len;
	}
	held_expire(a);
	cost = HCHECK_COST(ic->n_seqs);
	if (!(h = malloc(sizeof(*h) + ic->n_seqs * 5))) {
		a->is.hash_pdus++;      /* out of memory: it could not be checked */
		a->is.hash_missing++;
		return;
	}
	memset(h, 0, sizeof(*h));
	if (liid_len)
		memcpy(h->liid, liid, liid_len);
	h->liid_len = (uint8_t)liid_len;
	h->has_cin = (uint8_t)d->has_cin;
	h->cin = d->cin;
	h->cls = (uint8_t)data_cls;
	h->hash_alg = ic->hash_alg;
	h->data_type = ic->data_type;
	h->seq = d->seq;
	h->conn_id = conn_id;
	h->n_seqs = ic->n_seqs;
	h->value_len = (uint8_t)(ic->value.len > EVP_MAX_MD_SIZE ? EVP_MAX_MD_SIZE : ic->value.len);
	if (ic->value.len <= EVP_MAX_MD_SIZE) {
		if (ic->value.len)
			memcpy(h->value, ic->value.p, ic->value.len);
	} else {
		h->value_len = 0;       /* no digest is that long: a mismatch */
	}
	if (ic->n_seqs)
		memcpy(h->seqs, ic->seqs, ic->n_seqs * sizeof(*h->seqs));
	h->found = (uint8_t *)(h->seqs + ic->n_seqs);
	h->absent_lo = UINT32_MAX;
	h->absent_hi = 0;
	for (i = 0; i < h->n_seqs; i++) {
		h->found[i] = s && kept_find(s, NULL, h->seqs[i]) != NULL;
		if (!h->found[i]) {
			h->n_absent++;
			if (h->seqs[i] < h->absent_lo)
				h->absent_lo = h->seqs[i];
			if (h->seqs[i] > h->absent_hi)
				h->absent_hi = h->seqs[i];
		}
	}
	if (!s || !hash_md(h->hash_alg) || a->hold_s == 0 || cost > a->hold_bytes_max ||
	    a->hold_max == 0 || (!s->n_held && hc_ready(h, s))) {
		hash_verdict(a, s, h, 0);
		free(h);
		return;
	}
	/* make room: the oldest held check is judged with what it has */
	while (a->h_head && (a->n_held >= a->hold_max || a->held_bytes + cost > a->hold_bytes_max)) {
		a->held_forced++;
		held_judge(a, NULL, a->h_head);
	}
	h->deadline = mono_s() + a->hold_s;
	if (a->h_tail)
		a->h_tail->next = h;
	else
		a->h_head = h;
	a->h_tail = h;
	a->n_held++;
	a->held_bytes += cost;
	a->held_total++;
	s->n_held++;
	held_resolve(a, s);         /* an older check judged above may have freed the way */
}

/* The older, mediator-side signing scheme (OpenLI's mediator before 1.1.17,
 * lacre-mediator --sign-style contents): the signature covers the digest
 * (the configured signature digest) of the concatenated contents - value
 * octets - of the listed hash PDUs' IntegrityCheck elements, in the listed
 * order, signed as a prehashed value (ECDSA/DSA over the digest; EdDSA
 * over the digest bytes).  The hash PDUs' contents are retained on the
 * hash stream hs (keep(), integrity_pdu).  1 verified, 0 not (or a listed
 * hash PDU is not retained). */
static int sig_contents_ok(struct ingest_acct *a, const struct ingest_icheck *ic,
			   struct stream *hs)
{
	EVP_MD_CTX *md = NULL, *v = NULL;
	EVP_PKEY_CTX *pc = NULL;
	uint8_t dg[EVP_MAX_MD_SIZE];
	unsigned dl = 0;
	struct kept *k, *last = NULL;
	int id, ok = 0;

	if (!hs || ic->n_seqs == 0 || !(md = EVP_MD_CTX_new()) ||
	    EVP_DigestInit_ex(md, a->sig_md ? a->sig_md : EVP_sha256(), NULL) != 1)
		goto out;
	for (size_t i = 0; i < ic->n_seqs; i++) {
		if (!(k = kept_find(hs, last, ic->seqs[i])) ||
		    EVP_DigestUpdate(md, k->b, k->len) != 1)
			goto out;
		last = k;
	}
	if (EVP_DigestFinal_ex(md, dg, &dl) != 1)
		goto out;
	id = EVP_PKEY_get_base_id(a->sigkey);
	if (id == EVP_PKEY_ED448 || id == EVP_PKEY_ED25519)
		ok = (v = EVP_MD_CTX_new()) &&
		     EVP_DigestVerifyInit(v, NULL, NULL, NULL, a->sigkey) == 1 &&
		     EVP_DigestVerify(v, ic->value.p, ic->value.len, dg, dl) == 1;
	else
		ok = (pc = EVP_PKEY_CTX_new(a->sigkey, NULL)) && EVP_PKEY_verify_init(pc) == 1 &&
		     EVP_PKEY_verify(pc, ic->value.p, ic->value.len, dg, dl) == 1;
out:
	EVP_MD_CTX_free(md);
	EVP_MD_CTX_free(v);
	EVP_PKEY_CTX_free(pc);
	return ok;
}

/* Verify a signature PDU with the operator key, when one is configured. */
static void check_sig(struct ingest_acct *a, const struct etsi_pdu *d,
                      const struct ingest_icheck *ic, struct stream *hs, uint64_t conn_id)
{
	struct lacre_dbuf tbs;
	EVP_MD_CTX *ctx = NULL;
	const char *result = "unchecked";
	size_t i, unseen = 0;
	int id, ok = 0;
	struct json_w w;

	a->is.sig_pdus++;
	lacre_dbuf_init(&tbs, 1u << 20);
	for (i = 0; hs && i < ic->n_seqs; i++)
		if (win_get(hs, ic->seqs[i], 0) == 0)
			unseen++;
	if (!a->sigkey) {
		a->is.sig_unchecked++;
		goto report;
	}
	if (ingest_icheck_signed_bytes(ic, &tbs) != LACRE_OK || !(ctx = EVP_MD_CTX_new())) {
		a->is.sig_unchecked++;
		goto report;
	}
	id = EVP_PKEY_get_base_id(a->sigkey);
	/* OpenLI's length encoding first, then strict DER (other senders) */
	for (int style = 1; style >= 0 && !ok; style--) {
		if (style == 0) {
			lacre_dbuf_reset(&tbs);
			if (ingest_icheck_signed_bytes_style(ic, 0, &tbs) != LACRE_OK)
				break;
		}
		if (id == EVP_PKEY_ED448 || id == EVP_PKEY_ED25519)
			ok = EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, a->sigkey) == 1 &&
			     EVP_DigestVerify(ctx, ic->value.p, ic->value.len, tbs.p, tbs.len) == 1;
		else
			ok = EVP_DigestVerifyInit(ctx, NULL, a->sig_md, NULL, a->sigkey) == 1 &&
			     EVP_DigestVerify(ctx, ic->value.p, ic->value.len, tbs.p, tbs.len) == 1;
		EVP_MD_CTX_reset(ctx);
	}
	if (!ok)
		ok = sig_contents_ok(a, ic, hs);
	if (ok) {
		a->is.sig_ok++;
		result = "verified";
	} else {
		a->is.sig_bad++;
		result = "bad";
	}
report:
	EVP_MD_CTX_free(ctx);
	lacre_dbuf_free(&tbs);
	acct_ev_begin(a, &w, "integrity", hs);
	json_kv_str(&w, "check", "signature");
	json_kv_str(&w, "result", result);
	ic_fields(&w, ic, d->seq, conn_id);
	json_kv_uint(&w, "sig_alg", (uint64_t)ic->sig_alg);
	json_kv_uint(&w, "hash_pdus_not_seen", unseen);
	json_kv_bool(&w, "alert", strcmp(result, "bad") == 0 || unseen > 0);
	acct_ev_end(a, &w);
}

/* Account an IntegrityCheck PDU. */
static void integrity_pdu(struct ingest_acct *a, const uint8_t *pdu, size_t len,
                          const struct etsi_pdu *d, int listener, uint64_t conn_id)
{
	struct ingest_icheck ic;
	struct stream *s, *hs = NULL;
	struct json_w w;
	int r, iri, cls;

	if (!a->seqs && !(a->seqs = malloc(MAX_ICHECK_SEQS * sizeof(*a->seqs))))
		return;
	memset(&ic, 0, sizeof(ic));
	ic.seqs = a->seqs;
	ic.n_seqs = MAX_ICHECK_SEQS;
	if ((r = ingest_icheck_from(d, &ic)) != LACRE_OK) {
		acct_ev_begin(a, &w, "integrity", NULL);
		json_key(&w, "liid");
		json_str_or_hex(&w, d->liid.p, d->liid.len);
		json_kv_uint(&w, "seq", d->seq);
		json_kv_str(&w, "result", "unparsed");
		json_kv_str(&w, "reason", lacre_strerror(r));
		json_kv_uint(&w, "conn", conn_id);
		json_kv_bool(&w, "alert", 1);
		acct_ev_end(a, &w);
		return;
	}
	iri = ic.data_type ? ic.data_type == 1 : listener == LACRE_HI2;
	if (ic.check_type == 1)
		cls = iri ? SC_HASH_IRI : SC_HASH_CC;
	else
		cls = iri ? SC_SIG_IRI : SC_SIG_CC;
	if ((s = acct_get(a, d->liid.p, d->liid.len, d->has_cin, d->cin, cls)))
		sequence(a, s, d->seq, bytes_hash(pdu, len), listener, conn_id);
	if (ic.check_type == 1) {
		check_hash(a, d, &ic, iri ? SC_IRI : SC_CC, conn_id);
		/* a signature in the older scheme covers this hash PDU's
		 * IntegrityCheck contents: retain them (a few dozen bytes) */
		if (a->sigkey && s && d->integrity.tlv.len) {
			struct lacre_rbuf tb;
			struct ber_tlv t;
			lacre_rbuf_init(&tb, d->integrity.tlv.p, d->integrity.tlv.len);
			if (ber_next(&tb, &t, 8) == LACRE_OK) {
				s->hash_seen = 1;
				keep(a, s, d->seq, t.value, t.len);
			}
		}
	} else if (ic.check_type == 2) {
		hs = acct_find(a, d->liid.p, d->liid.len, d->has_cin, d->cin, iri ? SC_HASH_IRI : SC_HASH_CC);
		check_sig(a, d, &ic, hs ? hs : s, conn_id);
	}
}

/* Account one decoded PDU.  See ingest.h. */
int ingest_acct_pdu(struct ingest_acct *a, const uint8_t *pdu, size_t len,
                    const struct etsi_pdu *d, int listener, uint64_t conn_id)
{
	struct ingest_acct_pre p;
	int r;

	ingest_acct_prepare(&p, pdu, len, 0);
	r = ingest_acct_pdu_prepared(a, pdu, len, &p, d, listener, conn_id);
	ingest_acct_finish(&p);
	return r;
}

/* The lock-free half: hash, and the copy when asked.  See ingest_int.h. */
void ingest_acct_prepare(struct ingest_acct_pre *p, const uint8_t *pdu, size_t len, int copy)
{
	struct kept *k;

	p->hash = bytes_hash(pdu, len);
	p->src = pdu;
	p->len = len;
	p->kept = NULL;
	p->evicted = NULL;
	p->retained = 0;
	if (copy && (k = kept_new(pdu, len)) != NULL)
		p->kept = k;
}

/* The rest, after the lock: the copy if unused, and the copies the
 * accounting evicted.  See ingest_int.h. */
void ingest_acct_finish(struct ingest_acct_pre *p)
{
	struct kept *k = p->evicted, *n;

	kept_free(p->kept);
	p->kept = NULL;
	for (; k; k = n) {
		n = k->next;
		kept_free(k);
	}
	p->evicted = NULL;
}

/* Account one PDU under the lock.  See ingest_int.h. */
int ingest_acct_pdu_prepared(struct ingest_acct *a, const uint8_t *pdu, size_t len,
                             struct ingest_acct_pre *p, const struct etsi_pdu *d, int listener,
                             uint64_t conn_id)
{
	int r;

	a->defer = p;
	r = acct_pdu(a, pdu, len, p->hash, d, listener, conn_id);
	a->defer = NULL;
	return r;
}

/* Account one PDU whose bytes hash to h (ingest_acct_pdu_prepared). */
static int acct_pdu(struct ingest_acct *a, const uint8_t *pdu, size_t len, uint64_t h,
                    const struct etsi_pdu *d, int listener, uint64_t conn_id)
{
	struct stream *s;
	struct json_w w;
	int cls, c;

	a->gen++;
	switch (d->kind) {
	case ETSI_KIND_IRI:
	case ETSI_KIND_CC:
		cls = d->kind == ETSI_KIND_IRI ? SC_IRI : SC_CC;
		if (!(s = acct_get(a, d->liid.p, d->liid.len, d->has_cin, d->cin, cls)))
			return LACRE_OK;
		sequence(a, s, d->seq, h, listener, conn_id);
		keep(a, s, d->seq, pdu, len);
		if (s->n_held)
			held_arrived(a, s, d->seq);
		else
			held_expire(a);
		if ((cls == SC_IRI) != (listener == LACRE_HI2) && s->st.received == 1) {
			acct_ev_begin(a, &w, "listener-mismatch", s);
			json_kv_str(&w, "listener", listener == LACRE_HI2 ? "hi2" : "hi3");
			json_kv_uint(&w, "conn", conn_id);
			acct_ev_end(a, &w);
		}
		return LACRE_OK;
	case ETSI_KIND_INTEGRITY_CHECK:
		integrity_pdu(a, pdu, len, d, listener, conn_id);
		return LACRE_OK;
	default:
		break;
	}
	if (d->tri == ETSI_TRI_CIN_RESET) {
		a->cin_resets++;
		acct_ev_begin(a, &w, "cin-reset", NULL);
		json_key(&w, "liid");
		json_str_or_hex(&w, d->liid.p, d->liid.len);
		if (d->has_cin)
			json_kv_uint(&w, "cin", d->cin);
		json_kv_uint(&w, "seq", d->seq);
		json_kv_uint(&w, "conn", conn_id);
		acct_ev_end(a, &w);
		/* data streams and their integrity chains all restart */
		for (c = 0; c < SC_N; c++)
			reset_class(a, d, c, listener);
	}
	return LACRE_OK;
}

/* Forget streams idle for idle_s seconds or more.  See ingest.h. */
size_t ingest_acct_expire(struct ingest_acct *a, unsigned idle_s)
{
	struct stream **pp, *s;
	struct json_w w;
	uint32_t now = mono_s();
	size_t i, n = 0;

	for (i = 0; i < a->n_buckets; i++) {
		pp = &a->tab[i];
		while ((s = *pp)) {
			if (now - s->last_s < idle_s) {
				pp = &s->next;
				continue;
			}
			*pp = s->next;
			if (s->st.received) {
				acct_ev_begin(a, &w, "stream-end", s);
				json_kv_uint(&w, "received", s->st.received);
				json_kv_uint(&w, "gaps", s->st.gaps);
				json_kv_uint(&w, "missing", s->st.missing);
				json_kv_uint(&w, "duplicates", s->st.duplicates);
				json_kv_uint(&w, "resets", s->st.resets);
				json_kv_uint(&w, "restarts", s->st.restarts);
				json_kv_uint(&w, "late", s->st.late);
				json_kv_uint(&w, "next_expected", s->next_seq);
				json_kv_uint(&w, "idle_s", now - s->last_s);
				acct_ev_end(a, &w);
			}
			if (s->cls <= SC_CC)
				stats_add(&a->gone, &s->st);
			acct_kept_clear(a, s);
			free(s->win);
			free(s->gaps);
			free(s);
			a->n_streams--;
			a->streams_expired++;
			n++;
		}
	}
	return n;
}

/* Streams held now. */
size_t ingest_acct_streams(const struct ingest_acct *a)
{
	return a->n_streams;
}

/* Add the counters of b to a (next_expected is not a count). */
static void stats_add(struct ingest_stream_stats *a, const struct ingest_stream_stats *b)
{
	a->received += b->received;
	a->gaps += b->gaps;
	a->missing += b->missing;
	a->duplicates += b->duplicates;
	a->resets += b->resets;
	a->restarts += b->restarts;
	a->late += b->late;
}

/* Counters of every data stream since the start.  See ingest.h. */
void ingest_acct_totals(const struct ingest_acct *a, struct ingest_stream_stats *out,
                        size_t *data_streams)
{
	const struct stream *s;
	size_t i, n = 0;

	*out = a->gone;
	out->next_expected = 0;
	for (i = 0; i < a->n_buckets; i++)
		for (s = a->tab[i]; s; s = s->next)
			if (s->cls <= SC_CC) {
				stats_add(out, &s->st);
				n++;
			}
	if (data_streams)
		*data_streams = n;
}

/* Counters of one data stream.  See ingest.h. */
int ingest_acct_stream(const struct ingest_acct *a, const uint8_t *liid, size_t liid_len,
                       uint32_t cin, int kind, struct ingest_stream_stats *out)
{
	const struct stream *s;

	s = acct_find(a, liid, liid_len, 1, cin, kind == ETSI_KIND_IRI ? SC_IRI : SC_CC);
	if (!s)
		return LACRE_E_NOT_FOUND;
	*out = s->st;
	out->next_expected = s->next_seq;
	return LACRE_OK;
}

/* Integrity counters.  See ingest.h. */
void ingest_acct_integrity(const struct ingest_acct *a, struct ingest_integrity_stats *out)
{
	*out = a->is;
}

/* Write one stream member "liid/cin/class": {...}. */
static void stream_json(struct json_w *w, const struct stream *s, struct lacre_dbuf *key)
{
	struct lacre_dbuf kd;
	struct json_w kw;
	const char *k;
	size_t i;

	/* key: the LIID as the vectors print it, without the JSON quotes */
	lacre_dbuf_reset(key);
	for (i = 0; i < s->liid_len && s->liid[i] >= 0x20 && s->liid[i] <= 0x7e; i++)
		;
	if (i == s->liid_len && i > 0) {
		lacre_dbuf_add(key, s->liid, s->liid_len);
	} else {
		lacre_dbuf_init(&kd, 4096);
		json_init(&kw, &kd);
		json_hex(&kw, "0x", s->liid, s->liid_len);
		if (kd.len >= 2)
			lacre_dbuf_add(key, kd.p + 1, kd.len - 2);
		lacre_dbuf_free(&kd);
	}
	if (s->has_cin)
		lacre_dbuf_printf(key, "/%" PRIu32 "/%s", s->cin, class_name[s->cls]);
	else
		lacre_dbuf_printf(key, "/-/%s", class_name[s->cls]);
	if (lacre_dbuf_cstr(key, &k) != LACRE_OK)
		return;
	json_key(w, k);
	json_obj_begin(w);
	json_kv_uint(w, "received", s->st.received);
	json_kv_uint(w, "gaps", s->st.gaps);
	json_kv_uint(w, "missing", s->st.missing);
	json_kv_uint(w, "duplicates", s->st.duplicates);
	json_kv_uint(w, "resets", s->st.resets);
	json_kv_uint(w, "restarts", s->st.restarts);
	json_kv_uint(w, "late", s->st.late);
	json_kv_uint(w, "next_expected", s->next_seq);
	json_obj_end(w);
}

/* Write the accounting members into the open object w.  See ingest.h. */
int ingest_acct_json(const struct ingest_acct *a, struct json_w *w)
{
	struct lacre_dbuf key;
	const struct stream *s;
	size_t i;
	int pass;

	lacre_dbuf_init(&key, 4096);
	for (pass = 0; pass < 2; pass++) {
		json_key(w, pass == 0 ? "streams" : "integrity_streams");
		json_obj_begin(w);
		for (i = 0; i < a->n_buckets; i++)
			for (s = a->tab[i]; s; s = s->next)
				if ((pass == 0) == (s->cls <= SC_CC) && s->st.received)
					stream_json(w, s, &key);
		json_obj_end(w);
	}
	json_kv_uint(w, "cin_resets", a->cin_resets);
	json_kv_uint(w, "streams_dropped", a->streams_dropped);
	json_kv_uint(w, "streams_expired", a->streams_expired);
	json_kv_uint(w, "unkept_at_restart", a->unkept_reports);
	json_kv_uint(w, "unkept_numbers_at_restart", a->unkept_numbers);
	json_kv_uint(w, "bytecounter_unkept_at_restart", a->bctr_unkept);
	json_kv_uint(w, "bytecounter_unkept_bytes_at_restart", a->bctr_unkept_bytes);
	json_key(w, "integrity");
	json_obj_begin(w);
	json_kv_uint(w, "hash_pdus", a->is.hash_pdus);
	json_kv_uint(w, "hash_verified", a->is.hash_ok);
	json_kv_uint(w, "hash_mismatch", a->is.hash_mismatch);
	json_kv_uint(w, "hash_missing", a->is.hash_missing);
	json_kv_uint(w, "hash_held", a->n_held);
	json_kv_uint(w, "hash_unsupported", a->is.hash_unknown_alg);
	json_kv_uint(w, "signature_pdus", a->is.sig_pdus);
	json_kv_uint(w, "signature_verified", a->is.sig_ok);
	json_kv_uint(w, "signature_bad", a->is.sig_bad);
	json_kv_uint(w, "signature_unchecked", a->is.sig_unchecked);
	json_obj_end(w);
	lacre_dbuf_free(&key);
	return w->err;
}

/* Free the duplicate windows of idle streams.  See ingest.h. */
void ingest_acct_trim(struct ingest_acct *a, unsigned idle_s)
{
	struct stream *s;
	uint32_t now = mono_s();
	size_t i;

	held_expire(a);             /* the server calls this once a second */
	for (i = 0; i < a->n_buckets; i++)
		for (s = a->tab[i]; s; s = s->next) {
			if (now - s->last_s < idle_s || !s->win)
				continue;
			free(s->win);
			s->win = NULL;
		}
}


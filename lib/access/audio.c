/*
 * audio.c - a call's G.711 RTP to a stereo WAV file (include/lacre/audio.h).
 *
 * Two passes.  The plan comes from the index alone: the call's RTP packets
 * (segment, position, side, SSRC, sequence number, length), each side's
 * main SSRC, its sequence numbers unwrapped in arrival order, the sample
 * offset of every packet, the gaps, and so the file's length.  The header
 * (with that exact length) is written first, then the needed segments are
 * decrypted in creation order; each packet's samples go to their place in
 * an anonymous mapping of the data, and the file is written strictly in
 * order, append only: as the records are read, every byte before the first
 * sample a packet not yet read can still write (the "watermark", from the
 * plan: a packet may come late, in a later segment, for an earlier place)
 * is final and is appended (16 KiB at least at a time), and its pages are
 * given back.  So the first audio bytes are in the file after the first
 * packets of the first segment, whatever the length of the call, a reader
 * following the file (the keeper, docs/keeper.md) never sees
 * a byte that changes later, and the finished file is byte for byte the one
 * a whole-file render would give.  The RTP bytes written come from the
 * decrypted record, parsed again here through the checked buffer; the index
 * only says where to look, and index_read checks each record against its
 * commitment.  The plan sorts as little as it can, the first byte waiting
 * for it: rows already in arrival order are only checked, gaps come from
 * 8-byte sequence numbers, and the read order is a counting sort by
 * segment with a sort only of a segment's run out of record order
 * (LACRE_AUDIO_TIMING prints the phases, docs/performance.md).
 *
 * The plan's results never change once the call's segments are indexed,
 * so the first write of a call stores them in the index (audio_plan.h:
 * per call, and per chunk of each segment's rows the unwrap anchors and
 * the lowest frame written from there on); a later write whose plan is
 * still fresh reads no packet row before the header, only each chunk of
 * rows as index_read reaches its records, with the same places and
 * watermarks, so the same bytes (docs/cmd-audio.md, "The stored plan").
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "lacre/audio.h"
#include "lacre/audio_plan.h"
#include "lacre/err.h"
#include "lacre/etsi.h"
#include "lacre/g711.h"
#include "lacre/phase_timing.h"
#include "lacre/record_pdu.h"
#include "lacre/rtp.h"

#define AUDIO_MAX_FRAMES (((uint64_t)UINT32_MAX - 36) / 4)
#define AUDIO_FLUSH_FRAMES 4096   /* appended at least this much at a time (16 KiB, 0.5 s) */
#define AUDIO_STORE_WAIT_MS 200   /* a busy index is not waited for long to keep a plan */

/* One RTP packet of the plan. */
struct audio_pkt {
	int64_t created;         /* the segment's creation time */
	const char *segname;     /* its name (owned by the plan's name list) */
	uint32_t seg;            /* position in the segment list */
	uint64_t idx;            /* record position in its segment */
	int64_t t;               /* PDU time */
	uint64_t etsi_seq;
	uint32_t ssrc;
	uint16_t seq;
	int side;                /* enum calls_side, or -1: not written */
	int64_t ext;             /* unwrapped sequence number */
	uint64_t pos;            /* first sample frame */
	uint32_t len;            /* payload bytes = samples */
	uint8_t commitment[32];  /* the index's commitment to the record */
};

struct audio_plan {
	struct audio_pkt *p;
	size_t n, cap;
	char **names;            /* distinct names as met (owned) */
	size_t n_names, cap_names;
	char **segs;             /* the segments to read, in creation order (borrowed) */
	size_t n_segs;
	uint8_t *map;            /* the WAV data (anonymous mapping, frames x 4 bytes) */
	uint64_t frames;
	uint64_t *minfrom;       /* [i]: first frame packets i.. (read order) write (n + 1) */
	uint64_t flushed;        /* frames appended to the file so far */
	int fd;                  /* the file, written in order */
	int werr;                /* a write failed: LACRE_E_IO */
	struct audio_report *rep;
	int64_t t0;              /* the write's start (phase_timing_now) */
	int wrote;
	size_t cur;              /* packet cursor for the next lookup */
	struct record_pdu view;  /* the record being decoded (record_pdu.h) */
	const struct access_skip *skip; /* records a party copy leaves out, or NULL */
	/* with a stored plan (audio_plan.h), p holds one chunk of one
	 * segment's rows at a time, read as the segments are */
	const struct audio_stored *sp;  /* the stored plan in use, or NULL: p is the whole call */
	uint64_t *after;         /* [g]: lowest frame segments g.. write (n_segs + 1) */
	size_t g, ch;            /* the segment and chunk p holds */
	int loaded;              /* p holds a chunk */
	int64_t last_idx;        /* the record position of p's last row */
	sqlite3_stmt *rows;      /* the chunk query */
	int cerr;                /* a chunk did not match the plan: the error */
	const struct calls_entry *call;
	/* what the stored plan's report says, counted again from the rows as
	 * the chunks are read and compared at the end (audio_stored_check) */
	int64_t *seen_ext[2];    /* each side's unwrapped sequence numbers */
	uint64_t n_seen[2], seen_unknown, seen_not_g711, seen_other, seen_end;
	unsigned seen_pt[2];     /* bit 0: PCMU seen on the side, bit 1: PCMA */
	/* the per-call results of the plan (made here, or stored) */
	uint32_t main_ssrc[2];
	int64_t base[2];         /* lowest unwrapped sequence number per side */
	uint64_t off[2], frame[2];
};

/* With LACRE_AUDIO_TIMING set (to anything but "" or "0"), one line per
 * phase of the plan and at the first audio byte on stderr, "lacre: audio
 * timing: PHASE at MS ms" from the write's start: where the first
 * byte's time goes (docs/performance.md, "Console audio";
 * lib/util/phase_timing.c). */
static struct phase_timing audio_lines =
	PHASE_TIMING_INIT("LACRE_AUDIO_TIMING", "lacre: audio timing: ");

static void audio_mark(const struct audio_plan *pl, const char *what)
{
	phase_timing_since(&audio_lines, pl->t0, what);
}

/* Little-endian stores. */
static void audio_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void audio_le32(uint8_t *p, uint32_t v)
{
	audio_le16(p, (uint16_t)v);
	audio_le16(p + 2, (uint16_t)(v >> 16));
}

int audio_wav_header(uint64_t frames, uint8_t out[AUDIO_WAV_HEADER])
{
	uint32_t data;

	if (frames > AUDIO_MAX_FRAMES)
		return LACRE_E_TOO_LARGE;
	data = (uint32_t)frames * 4;
	memcpy(out, "RIFF", 4);
	audio_le32(out + 4, 36 + data);
	memcpy(out + 8, "WAVEfmt ", 8);
	audio_le32(out + 16, 16);               /* fmt chunk size */
	audio_le16(out + 20, 1);                /* PCM */
	audio_le16(out + 22, 2);                /* channels */
	audio_le32(out + 24, AUDIO_RATE);
	audio_le32(out + 28, AUDIO_RATE * 4);   /* bytes per second */
	audio_le16(out + 32, 4);                /* block align */
	audio_le16(out + 34, 16);               /* bits per sample */
	memcpy(out + 36, "data", 4);
	audio_le32(out + 40, data);
	return LACRE_OK;
}

/* Order by where the record is (segment creation, name, position). */
static int audio_cmp_where(const void *a, const void *b)
{
	const struct audio_pkt *x = a, *y = b;
	int c;

	if (x->created != y->created)
		return x->created < y->created ? -1 : 1;
	if (x->segname != y->segname && (c = strcmp(x->segname, y->segname)) != 0)
		return c;
	if (x->idx != y->idx)
		return x->idx < y->idx ? -1 : 1;
	return 0;
}

/* Order packets by arrival: PDU time, then ETSI sequence number (then
 * where the record is). */
static int audio_cmp_time(const void *a, const void *b)
{
	const struct audio_pkt *x = a, *y = b;

	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	if (x->etsi_seq != y->etsi_seq)
		return x->etsi_seq < y->etsi_seq ? -1 : 1;
	return audio_cmp_where(a, b);   /* the same PDU twice: a fixed order all the same */
}

/* Order 64-bit numbers (unwrapped sequence numbers). */
static int audio_cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* Whether v[0..n) of size bytes each is already in cmp's order: the rows
 * mostly come so (the index returns them in time order, records are
 * appended as they arrive), and an O(n) look is far cheaper than a sort. */
static int audio_sorted(const void *v, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	const char *p = v;

	for (size_t i = 1; i < n; i++)
		if (cmp(p + (i - 1) * size, p + i * size) > 0)
			return 0;
	return 1;
}

/* Sort v[0..n) unless it is in order already. */
static void audio_sort(void *v, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	if (n > 1 && !audio_sorted(v, n, size, cmp))
		qsort(v, n, size, cmp);
}

/* A warrant's segments and their creation times, sorted by name. */
struct audio_seg {
	char *name;
	int64_t created;
};

struct audio_segs {
	struct audio_seg *v;
	size_t n;
};

/* Order segments by name (for bsearch). */
static int audio_seg_cmp(const void *a, const void *b)
{
	return strcmp(((const struct audio_seg *)a)->name, ((const struct audio_seg *)b)->name);
}

/* Free sg's names and table. */
static void audio_segs_free(struct audio_segs *sg)
{
	for (size_t i = 0; i < sg->n; i++)
		free(sg->v[i].name);
	free(sg->v);
	sg->v = NULL;
	sg->n = 0;
}

/* Load warrant's segments from the index's segments table. */
static int audio_segs_load(struct index *ix, const char *warrant, struct audio_segs *sg)
{
	static const char q[] = "SELECT segment, created_us FROM segments WHERE warrant = ?1";
	sqlite3_stmt *st = NULL;
	size_t cap = 0;
	int rc, r = LACRE_E_DB;

	if (sqlite3_prepare_v2(index_db(ix), q, -1, &st, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_text(st, 1, warrant, -1, SQLITE_TRANSIENT);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		if (name == NULL)
			goto out;
		if (sg->n == cap) {
			size_t nc = cap ? cap * 2 : 64;
			struct audio_seg *nv = realloc(sg->v, nc * sizeof(*nv));
			if (nv == NULL) {
				r = LACRE_E_NOMEM;
				goto out;
			}
			sg->v = nv;
			cap = nc;
		}
		if ((sg->v[sg->n].name = strdup(name)) == NULL) {
			r = LACRE_E_NOMEM;
			goto out;
		}
		sg->v[sg->n++].created = sqlite3_column_int64(st, 1);
	}
	if (rc != SQLITE_DONE)
		goto out;
	if (sg->n > 0)
		qsort(sg->v, sg->n, sizeof(*sg->v), audio_seg_cmp);
	r = LACRE_OK;
out:
	sqlite3_finalize(st);
	return r;
}

/* The creation time of segment name; LACRE_E_NOT_FOUND when not listed. */
static int audio_segs_find(const struct audio_segs *sg, const char *name, int64_t *created)
{
	struct audio_seg key = { (char *)name, 0 };
	const struct audio_seg *f = sg->n ? bsearch(&key, sg->v, sg->n, sizeof(*sg->v),
						     audio_seg_cmp) : NULL;

	if (f == NULL)
		return LACRE_E_NOT_FOUND;
	*created = f->created;
	return LACRE_OK;
}

/* The columns of a packet row, as both row queries select them (from
 * column 1: 0 is the segment). */
#define AUDIO_ROW_COLS \
	"r.idx, r.time_us, r.seq, r.direction, r.ip_src, r.sport, r.rtp_ssrc, r.rtp_seq, " \
	"r.rtp_len, r.rtp_pt, 0, r.commitment"

/* Fill k from the row st holds (AUDIO_ROW_COLS): its side by calls_side
 * (CALLS_SIDE_UNKNOWN possible), payload type in *pt.  LACRE_E_DB when
 * the row's commitment is not 32 bytes. */
static int audio_row(sqlite3_stmt *st, const struct calls_entry *c, struct audio_pkt *k, int *pt)
{
	const unsigned char *src;
	int dir;

	memset(k, 0, sizeof(*k));
	if (sqlite3_column_bytes(st, 12) != 32)
		return LACRE_E_DB;
	memcpy(k->commitment, sqlite3_column_blob(st, 12), 32);
	k->idx = (uint64_t)sqlite3_column_int64(st, 1);
	k->t = sqlite3_column_int64(st, 2);
	k->etsi_seq = (uint64_t)sqlite3_column_int64(st, 3);
	dir = sqlite3_column_type(st, 4) == SQLITE_NULL ? -1 : sqlite3_column_int(st, 4);
	src = sqlite3_column_text(st, 5);
	k->side = calls_side(c, src ? (const char *)src : NULL, (unsigned)sqlite3_column_int(st, 6), dir);
	k->ssrc = (uint32_t)sqlite3_column_int64(st, 7);
	k->seq = (uint16_t)sqlite3_column_int(st, 8);
	k->len = (uint32_t)sqlite3_column_int(st, 9);
	*pt = sqlite3_column_int(st, 10);
	return LACRE_OK;
}

/* Load the call's RTP packets from the index (segments in creation order). */
static int audio_load(struct index *ix, const struct calls_entry *c, struct audio_plan *pl)
{
	/* no ORDER BY: the rows come in the order of the (warrant, cin, kind,
	 * time) index, and are sorted here, which is cheaper than a temporary
	 * b-tree for a long call */
	static const char q[] =
		"SELECT r.segment, " AUDIO_ROW_COLS " FROM records r WHERE r.warrant = ?1 AND "
		AUDIO_PLAN_ROWS;
	sqlite3_stmt *st = NULL;
	struct audio_segs sg = { NULL, 0 };
	int64_t created = 0;
	int rc, r = LACRE_E_DB;

	/* the segments' creation times, looked up when a row's segment
	 * changes (rarely: rows come in time order), not joined per row */
	if ((r = audio_segs_load(ix, c->warrant, &sg)) != LACRE_OK)
		goto out;
	r = LACRE_E_DB;
	if (sqlite3_prepare_v2(index_db(ix), q, -1, &st, NULL) != SQLITE_OK)
		goto out;
	/* the CINs, and the call's span with a minute of slack (a CIN may
	 * carry several calls) */
	audio_plan_bind(st, c);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *seg = (const char *)sqlite3_column_text(st, 0);
		struct audio_pkt *k;
		int pt;

		if (!seg) {
			r = LACRE_E_DB;
			goto out;
		}
		if (!pl->n_names || strcmp(pl->names[pl->n_names - 1], seg)) {
			/* a segment the index does not list is no source (as
			 * the join it replaces) */
			if (audio_segs_find(&sg, seg, &created) != LACRE_OK)
				continue;
			if (pl->n_names == pl->cap_names) {
				size_t nc = pl->cap_names ? pl->cap_names * 2 : 16;
				char **nv = realloc(pl->names, nc * sizeof(*nv));
				if (!nv) {
					r = LACRE_E_NOMEM;
					goto out;
				}
				pl->names = nv;
				pl->cap_names = nc;
			}
			if ((pl->names[pl->n_names] = strdup(seg)) == NULL) {
				r = LACRE_E_NOMEM;
				goto out;
			}
			pl->n_names++;
		}
		if (pl->n == pl->cap) {
			size_t nc = pl->cap ? pl->cap * 2 : 1024;
			struct audio_pkt *nv = realloc(pl->p, nc * sizeof(*nv));
			if (!nv) {
				r = LACRE_E_NOMEM;
				goto out;
			}
			pl->p = nv;
			pl->cap = nc;
		}
		k = &pl->p[pl->n++];
		if ((r = audio_row(st, c, k, &pt)) != LACRE_OK)
			goto out;
		k->segname = pl->names[pl->n_names - 1];
		k->seg = (uint32_t)(pl->n_names - 1);   /* the name's entry, until audio_order */
		k->created = created;
		if (k->side == CALLS_SIDE_UNKNOWN) {
			pl->rep->unknown_side++;
			k->side = -1;
		} else if (pt != 0 && pt != 8) {
			pl->rep->not_g711++;
			k->side = -1;
		} else if (pl->rep->pt[k->side] < 0) {
			pl->rep->pt[k->side] = pt;
		}
	}
	r = rc == SQLITE_DONE ? LACRE_OK : LACRE_E_DB;
out:
	sqlite3_finalize(st);
	audio_segs_free(&sg);
	return r;
}

/* Add a gap to the report. */
static void audio_gap(struct audio_report *rep, int side, uint64_t at, uint64_t packets,
		      uint64_t samples)
{
	rep->gaps_total++;
	rep->missing[side] += packets;
	if (rep->n_gaps < AUDIO_MAX_GAPS) {
		rep->gaps[rep->n_gaps].side = side;
		rep->gaps[rep->n_gaps].at_sample = at;
		rep->gaps[rep->n_gaps].packets = packets;
		rep->gaps[rep->n_gaps].samples = samples;
		rep->n_gaps++;
	}
}

/* Count side s's duplicates and gaps into rep from its unwrapped sequence
 * numbers e[0..n) (sorted here unless in order already). */
static void audio_gaps_of(struct audio_report *rep, int s, int64_t *e, size_t n, uint64_t off,
			  int64_t base, uint64_t frame)
{
	audio_sort(e, n, sizeof(*e), audio_cmp_i64);
	for (size_t i = 0; i + 1 < n; i++) {
		int64_t d = e[i + 1] - e[i];
		if (d == 0)
			rep->duplicates++;
		else if (d > 1)
			audio_gap(rep, s, off + (uint64_t)(e[i] - base) * frame + frame,
				  (uint64_t)(d - 1), (uint64_t)(d - 1) * frame);
	}
}

/* Side s's gaps and duplicates: its packets' unwrapped sequence numbers
 * in order (as they arrived: mostly in order already, else sorted), each
 * step over one a gap of silence starting one frame after the packet
 * before it (the packet at off + (ext - base) x frame). */
static int audio_gaps(struct audio_plan *pl, int s, uint64_t off, int64_t base, uint64_t frame)
{
	int64_t *e;
	size_t n = 0;

	if (pl->rep->packets[s] == 0)
		return LACRE_OK;
	if ((e = malloc((size_t)pl->rep->packets[s] * sizeof(*e))) == NULL)
		return LACRE_E_NOMEM;
	for (size_t i = 0; i < pl->n; i++)
		if (pl->p[i].side == s && n < pl->rep->packets[s])
			e[n++] = pl->p[i].ext;
	audio_gaps_of(pl->rep, s, e, n, off, base, frame);
	free(e);
	return LACRE_OK;
}

/* A segment name as met in the rows, with its creation time. */
struct audio_name {
	const char *name;
	int64_t created;
	uint32_t no;             /* position in pl->names */
};

/* Order name entries by segment creation time, then name (the read order
 * of segments, as audio_cmp_where). */
static int audio_cmp_name(const void *a, const void *b)
{
	const struct audio_name *x = a, *y = b;

	if (x->created != y->created)
		return x->created < y->created ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* Put the packets in the read order (audio_cmp_where: segments in
 * creation order, then records by position) without a comparison sort of
 * the whole call: the few segment names are ranked, the packets are
 * moved to their segment's run keeping their order (a counting sort), and
 * only a run not already in record order is sorted.  On entry each
 * packet's seg is its name's position in pl->names (audio_load). */
static int audio_order(struct audio_plan *pl)
{
	struct audio_name *nm = NULL;
	uint32_t *rank = NULL;
	size_t *at = NULL, n_rank = 0;
	struct audio_pkt *out = NULL;
	int r = LACRE_E_NOMEM;

	/* the rows mostly arrive in record order already (one segment after
	 * another, records appended as they came): nothing to move */
	if (audio_sorted(pl->p, pl->n, sizeof(*pl->p), audio_cmp_where))
		return LACRE_OK;
	if ((nm = calloc(pl->n_names, sizeof(*nm))) == NULL ||
	    (rank = calloc(pl->n_names, sizeof(*rank))) == NULL ||
	    (at = calloc(pl->n_names + 1, sizeof(*at))) == NULL ||
	    (out = malloc(pl->n * sizeof(*out))) == NULL)
		goto out;
	for (size_t i = 0; i < pl->n_names; i++) {
		nm[i].name = pl->names[i];
		nm[i].no = (uint32_t)i;
		nm[i].created = INT64_MIN;
	}
	for (size_t i = 0; i < pl->n; i++) {
		if (pl->p[i].seg >= pl->n_names) {
			r = LACRE_E_INTERNAL;
			goto out;
		}
		nm[pl->p[i].seg].created = pl->p[i].created;
	}
	qsort(nm, pl->n_names, sizeof(*nm), audio_cmp_name);
	/* the same name met twice (rows of two segments interleaved) has one rank */
	for (size_t i = 0; i < pl->n_names; i++) {
		if (i > 0 && audio_cmp_name(&nm[i - 1], &nm[i]) != 0)
			n_rank++;
		rank[nm[i].no] = (uint32_t)n_rank;
	}
	n_rank++;
	for (size_t i = 0; i < pl->n; i++)
		at[rank[pl->p[i].seg] + 1]++;
	for (size_t i = 1; i <= n_rank; i++)
		at[i] += at[i - 1];
	for (size_t i = 0; i < pl->n; i++)
		out[at[rank[pl->p[i].seg]]++] = pl->p[i];
	/* at[k] is now the end of run k (and the start of run k + 1) */
	for (size_t k = 0, from = 0; k < n_rank; from = at[k++])
		audio_sort(out + from, at[k] - from, sizeof(*out), audio_cmp_where);
	free(pl->p);
	pl->p = out;
	pl->cap = pl->n;
	out = NULL;
	r = LACRE_OK;
out:
	free(out);
	free(at);
	free(rank);
	free(nm);
	return r;
}

/* Pick each side's main SSRC, unwrap sequence numbers, place every packet
 * and find the gaps; sets pl->frames. */
static int audio_place(struct audio_plan *pl)
{
	struct audio_report *rep = pl->rep;
	uint32_t main_ssrc[2] = { 0, 0 };
	int64_t first_t[2] = { INT64_MAX, INT64_MAX }, t0 = INT64_MAX;
	int64_t base[2] = { 0, 0 };
	uint64_t frame[2] = { 160, 160 }, off[2] = { 0, 0 }, end = 0;
	int have[2] = { 0, 0 }, r;
	size_t i;

	audio_sort(pl->p, pl->n, sizeof(*pl->p), audio_cmp_time);
	audio_mark(pl, "arrival-order");
	/* the main SSRC of a side: the one with most packets (a Boyer-Moore
	 * majority vote; ties and small minorities do not matter here) */
	for (int s = 0; s < 2; s++) {
		uint64_t votes = 0;
		for (i = 0; i < pl->n; i++) {
			if (pl->p[i].side != s)
				continue;
			if (!votes)
				main_ssrc[s] = pl->p[i].ssrc;
			votes += pl->p[i].ssrc == main_ssrc[s] ? 1 : (uint64_t)-1;
		}
	}
	/* unwrap in arrival order */
	for (int s = 0; s < 2; s++) {
		int64_t ext = 0;
		int started = 0;
		for (i = 0; i < pl->n; i++) {
			struct audio_pkt *k = &pl->p[i];
			if (k->side != s)
				continue;
			if (k->ssrc != main_ssrc[s]) {
				rep->other_ssrc++;
				k->side = -1;
				continue;
			}
			ext = started ? ext + (int16_t)(uint16_t)(k->seq - (uint16_t)ext) : k->seq;
			k->ext = ext;
			if (!started || ext < base[s]) {
				base[s] = ext;
				first_t[s] = k->t;
				frame[s] = k->len ? k->len : 160;
			}
			started = 1;
			have[s] = 1;
		}
		if (have[s] && first_t[s] < t0)
			t0 = first_t[s];
	}
	for (int s = 0; s < 2; s++) {
		if (have[s])
			off[s] = (uint64_t)((first_t[s] - t0) / 125);  /* 125 us per sample at 8 kHz */
		pl->main_ssrc[s] = main_ssrc[s];
		pl->base[s] = base[s];
		pl->off[s] = off[s];
		pl->frame[s] = frame[s];
	}
	audio_mark(pl, "unwrapped");
	/* place every packet (its place needs no order) */
	for (i = 0; i < pl->n; i++) {
		struct audio_pkt *k = &pl->p[i];
		int s = k->side;
		if (s < 0)
			continue;
		k->pos = off[s] + (uint64_t)(k->ext - base[s]) * frame[s];
		if (k->pos + k->len > end)
			end = k->pos + k->len;
		rep->packets[s]++;
	}
	/* the gaps and duplicates, from each side's sequence numbers alone in
	 * their order (8-byte numbers: no sort of the packets themselves) */
	for (int s = 0; s < 2; s++)
		if ((r = audio_gaps(pl, s, off[s], base[s], frame[s])) != LACRE_OK)
			return r;
	audio_mark(pl, "gaps");
	if (end > AUDIO_MAX_FRAMES)
		return LACRE_E_TOO_LARGE;
	pl->frames = end;
	rep->frames = end;
	/* the read order: segments in creation order, records in order */
	if ((r = audio_order(pl)) != LACRE_OK)
		return r;
	audio_mark(pl, "read-order");
	if (pl->n && (pl->segs = malloc(pl->n_names * sizeof(*pl->segs))) == NULL)
		return LACRE_E_NOMEM;
	for (i = 0; i < pl->n; i++) {
		if (!pl->n_segs || (pl->segs[pl->n_segs - 1] != pl->p[i].segname &&
				    strcmp(pl->segs[pl->n_segs - 1], pl->p[i].segname))) {
			if (pl->n_segs == pl->n_names)
				return LACRE_E_INTERNAL;
			pl->segs[pl->n_segs++] = (char *)pl->p[i].segname;
		}
		pl->p[i].seg = (uint32_t)(pl->n_segs - 1);
	}
	/* the watermarks: minfrom[i] = the first frame packet i or a later
	 * one (in the read order) writes; frames before it are final once
	 * the packets before i are read */
	if ((pl->minfrom = malloc((pl->n + 1) * sizeof(*pl->minfrom))) == NULL)
		return LACRE_E_NOMEM;
	pl->minfrom[pl->n] = pl->frames;
	for (i = pl->n; i-- > 0;)
		pl->minfrom[i] = pl->p[i].side >= 0 && pl->p[i].pos < pl->minfrom[i + 1] ?
				 pl->p[i].pos : pl->minfrom[i + 1];
	return LACRE_OK;
}

/* The next unwrapped sequence number of a side after prev: the one
 * nearest prev with seq's 16 bits (as the arrival-order unwrap steps). */
static int64_t audio_unwrap(int64_t prev, uint16_t seq)
{
	return prev + (int16_t)(uint16_t)(seq - (uint16_t)prev);
}

/* Make the stored form of the whole plan pl (audio_place done: p in read
 * order, seg its segment's number in segs): per segment its row count and,
 * per chunk of AUDIO_PLAN_CHUNK rows, each side's first unwrapped sequence
 * number and the lowest frame written from the chunk to the segment's end
 * (audio_plan.h).  A chunk's later packets are unwrapped from the one
 * before them of their side in read order (audio_chunk), which need not
 * be the arrival order the plan unwrapped in: every packet is unwrapped so
 * here and compared, and a plan that would place one differently is not
 * stored (LACRE_E_UNSUPPORTED: the call is always planned in full). */
static int audio_stored_make(const struct audio_plan *pl, struct audio_stored *sp)
{
	uint32_t chunk = audio_plan_chunk();
	size_t i = 0;

	memset(sp, 0, sizeof(*sp));
	sp->chunk = chunk;
	sp->packets = pl->n;
	for (int s = 0; s < 2; s++) {
		sp->main_ssrc[s] = pl->main_ssrc[s];
		sp->base[s] = pl->base[s];
		sp->off[s] = pl->off[s];
		sp->frame[s] = pl->frame[s];
	}
	if (pl->n_segs == 0)
		return LACRE_E_UNSUPPORTED;
	if ((sp->seg = calloc(pl->n_segs, sizeof(*sp->seg))) == NULL)
		return LACRE_E_NOMEM;
	for (size_t g = 0; g < pl->n_segs; g++) {
		struct audio_plan_seg *sg = &sp->seg[sp->n_seg++];
		size_t a = i, b;
		uint64_t low = UINT64_MAX;

		while (i < pl->n && pl->p[i].seg == g)
			i++;
		b = i;
		if (b == a)
			return LACRE_E_INTERNAL;   /* every segment listed holds a row */
		sg->created = pl->p[a].created;
		sg->packets = b - a;
		sg->n_ch = (b - a + chunk - 1) / chunk;
		if ((sg->name = strdup(pl->segs[g])) == NULL ||
		    (sg->ch = calloc(sg->n_ch, sizeof(*sg->ch))) == NULL)
			return LACRE_E_NOMEM;
		/* backwards: each chunk's lowest frame to the segment's end */
		for (size_t j = sg->n_ch; j-- > 0;) {
			struct audio_plan_chunk *ch = &sg->ch[j];
			size_t from = a + j * chunk, to = from + chunk < b ? from + chunk : b;
			int64_t ext[2] = { 0, 0 };

			for (size_t x = from; x < to; x++) {
				const struct audio_pkt *k = &pl->p[x];
				int s = k->side;

				if (s < 0)
					continue;
				if (k->pos < low)
					low = k->pos;
				ext[s] = ch->has[s] ? audio_unwrap(ext[s], k->seq) : k->ext;
				if (!ch->has[s]) {
					ch->has[s] = 1;
					ch->anchor[s] = k->ext;
				}
				if (ext[s] != k->ext)
					return LACRE_E_UNSUPPORTED;
			}
			ch->minpos = low;
		}
	}
	return i == pl->n ? LACRE_OK : LACRE_E_INTERNAL;
}

/* Read chunk j of the stored plan's segment g into p: the call's rows of
 * the segment after record position after_idx, in record order, at most
 * a chunk; their sides, unwrapped sequence numbers and places from the
 * plan, and their watermarks (minfrom), the same as the whole plan's.
 * Rows that do not match the plan (count, sides, anchors, lowest frame)
 * are LACRE_E_DB: the index is not the one the plan was made from (run
 * lacre reindex). */
static int audio_chunk(struct audio_plan *pl, const struct calls_entry *c, size_t g, size_t j,
		       int64_t after_idx)
{
	const struct audio_stored *sp = pl->sp;
	const struct audio_plan_seg *sg = &sp->seg[g];
	const struct audio_plan_chunk *ch = &sg->ch[j];
	uint64_t want = sg->packets - (uint64_t)j * sp->chunk, next;
	int64_t ext[2] = { 0, 0 };
	int have[2] = { 0, 0 }, rc, pt;

	if (want > sp->chunk)
		want = sp->chunk;
	pl->loaded = 0;
	pl->n = 0;
	pl->cur = 0;
	sqlite3_reset(pl->rows);
	audio_plan_bind(pl->rows, c);
	sqlite3_bind_text(pl->rows, 12, sg->name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(pl->rows, 13, after_idx);
	sqlite3_bind_int64(pl->rows, 14, (sqlite3_int64)want);
	while ((rc = sqlite3_step(pl->rows)) == SQLITE_ROW) {
		struct audio_pkt *k = &pl->p[pl->n];
		int s;

		if (pl->n == pl->cap || audio_row(pl->rows, c, k, &pt) != LACRE_OK)
			return LACRE_E_DB;
		pl->n++;
		k->segname = sg->name;
		k->seg = (uint32_t)g;
		k->created = sg->created;
		s = k->side;
		if (s == CALLS_SIDE_UNKNOWN || (pt != 0 && pt != 8) || k->ssrc != pl->main_ssrc[s]) {
			if (s == CALLS_SIDE_UNKNOWN)
				pl->seen_unknown++;
			else if (pt != 0 && pt != 8)
				pl->seen_not_g711++;
			else
				pl->seen_other++;
			if (s != CALLS_SIDE_UNKNOWN && (pt == 0 || pt == 8))
				pl->seen_pt[s] |= pt == 8 ? 2u : 1u;
			k->side = -1;
			continue;
		}
		pl->seen_pt[s] |= pt == 8 ? 2u : 1u;
		if (!have[s] && !ch->has[s])
			return LACRE_E_DB;
		ext[s] = have[s] ? audio_unwrap(ext[s], k->seq) : ch->anchor[s];
		have[s] = 1;
		if (ext[s] < pl->base[s] || pl->n_seen[s] == pl->rep->packets[s])
			return LACRE_E_DB;
		pl->seen_ext[s][pl->n_seen[s]++] = ext[s];
		k->ext = ext[s];
		k->pos = pl->off[s] + (uint64_t)(ext[s] - pl->base[s]) * pl->frame[s];
		if (k->pos + k->len > pl->frames)
			return LACRE_E_DB;
		if (k->pos + k->len > pl->seen_end)
			pl->seen_end = k->pos + k->len;
	}
	if (rc != SQLITE_DONE || pl->n != want || have[0] != ch->has[0] || have[1] != ch->has[1])
		return LACRE_E_DB;
	/* the watermarks, as audio_place's: from here to the call's end */
	next = j + 1 < sg->n_ch ? sg->ch[j + 1].minpos : UINT64_MAX;
	if (pl->after[g + 1] < next)
		next = pl->after[g + 1];
	if (pl->frames < next)
		next = pl->frames;
	pl->minfrom[pl->n] = next;
	for (size_t i = pl->n; i-- > 0;)
		pl->minfrom[i] = pl->p[i].side >= 0 && pl->p[i].pos < pl->minfrom[i + 1] ?
				 pl->p[i].pos : pl->minfrom[i + 1];
	/* the rows' lowest frame is the plan's */
	next = j + 1 < sg->n_ch ? sg->ch[j + 1].minpos : UINT64_MAX;
	for (size_t i = 0; i < pl->n; i++)
		if (pl->p[i].side >= 0 && pl->p[i].pos < next)
			next = pl->p[i].pos;
	if (next != ch->minpos)
		return LACRE_E_DB;
	pl->g = g;
	pl->ch = j;
	pl->last_idx = (int64_t)pl->p[pl->n - 1].idx;
	pl->loaded = 1;
	return LACRE_OK;
}

/* Set up the stored plan sp for writing: the segments to read, the
 * watermark of each segment onwards, the chunk query and buffers, and the
 * first chunk (whose first watermark is the whole call's). */
static int audio_stored_use(struct audio_plan *pl, struct index *ix, const struct calls_entry *c,
			    const struct audio_stored *sp)
{
	static const char q[] =
		"SELECT r.segment, " AUDIO_ROW_COLS " FROM records r WHERE r.warrant = ?1 AND "
		"r.segment = ?12 AND r.idx > ?13 AND " AUDIO_PLAN_SEG_ROWS " ORDER BY r.idx LIMIT ?14";

	pl->sp = sp;
	pl->frames = pl->rep->frames;
	for (int s = 0; s < 2; s++) {
		pl->main_ssrc[s] = sp->main_ssrc[s];
		pl->base[s] = sp->base[s];
		pl->off[s] = sp->off[s];
		pl->frame[s] = sp->frame[s];
	}
	if (pl->frames > AUDIO_MAX_FRAMES || sp->n_seg == 0)
		return LACRE_E_DB;
	if ((pl->segs = calloc(sp->n_seg, sizeof(*pl->segs))) == NULL ||
	    (pl->after = calloc(sp->n_seg + 1, sizeof(*pl->after))) == NULL ||
	    (pl->p = calloc(sp->chunk, sizeof(*pl->p))) == NULL ||
	    (pl->minfrom = calloc((size_t)sp->chunk + 1, sizeof(*pl->minfrom))) == NULL)
		return LACRE_E_NOMEM;
	for (int s = 0; s < 2; s++) {
		if (pl->rep->packets[s] > sp->packets)
			return LACRE_E_DB;
		if ((pl->seen_ext[s] = malloc(((size_t)pl->rep->packets[s] + 1) *
					      sizeof(*pl->seen_ext[s]))) == NULL)
			return LACRE_E_NOMEM;
	}
	pl->cap = sp->chunk;
	pl->n_segs = sp->n_seg;
	pl->after[sp->n_seg] = UINT64_MAX;
	for (size_t g = sp->n_seg; g-- > 0;) {
		if (sp->seg[g].n_ch == 0)
			return LACRE_E_DB;
		pl->segs[g] = sp->seg[g].name;
		pl->after[g] = sp->seg[g].ch[0].minpos < pl->after[g + 1] ? sp->seg[g].ch[0].minpos :
			       pl->after[g + 1];
	}
	if (sqlite3_prepare_v2(index_db(ix), q, -1, &pl->rows, NULL) != SQLITE_OK)
		return LACRE_E_DB;
	return audio_chunk(pl, c, 0, 0, -1);
}

/* After the last record: the stored plan's report is what the rows say.
 * Chunks index_read did not reach (no record of theirs read) are read now;
 * then each side's packets, duplicates, gaps and missing packets, the
 * other SSRCs, unknown sides, other payload types, the payload type and
 * the file's end are worked out again from the rows as audio_place does
 * and compared with the report the plan gave (LACRE_E_DB when they
 * differ: the file is not renamed into place).  So the counts a stored
 * plan reports come from the rows as much as a full plan's. */
static int audio_stored_check(struct audio_plan *pl, const struct calls_entry *c)
{
	const struct audio_stored *sp = pl->sp;
	const struct audio_report *rep = pl->rep;
	struct audio_report *chk;
	int r = LACRE_OK;

	while (r == LACRE_OK && pl->loaded && (pl->g + 1 < sp->n_seg || pl->ch + 1 < sp->seg[pl->g].n_ch))
		r = pl->ch + 1 < sp->seg[pl->g].n_ch ? audio_chunk(pl, c, pl->g, pl->ch + 1, pl->last_idx) :
		    audio_chunk(pl, c, pl->g + 1, 0, -1);
	if (r != LACRE_OK)
		return r;
	if (!pl->loaded || (chk = calloc(1, sizeof(*chk))) == NULL)
		return pl->loaded ? LACRE_E_NOMEM : LACRE_E_DB;
	for (int s = 0; s < 2; s++) {
		if (pl->n_seen[s] != rep->packets[s] ||
		    (pl->n_seen[s] > 0 && (rep->pt[s] < 0 || !(pl->seen_pt[s] & (rep->pt[s] == 8 ? 2u : 1u)))) ||
		    (pl->seen_pt[s] == 0) != (rep->pt[s] < 0))
			r = LACRE_E_DB;
		audio_gaps_of(chk, s, pl->seen_ext[s], (size_t)pl->n_seen[s], pl->off[s], pl->base[s],
			      pl->frame[s]);
		if (pl->n_seen[s] > 0 && pl->seen_ext[s][0] != pl->base[s])
			r = LACRE_E_DB;
	}
	if (chk->duplicates != rep->duplicates || chk->gaps_total != rep->gaps_total ||
	    chk->n_gaps != rep->n_gaps || chk->missing[0] != rep->missing[0] ||
	    chk->missing[1] != rep->missing[1] || pl->seen_unknown != rep->unknown_side ||
	    pl->seen_not_g711 != rep->not_g711 || pl->seen_other != rep->other_ssrc ||
	    pl->seen_end != pl->frames)
		r = LACRE_E_DB;
	for (size_t i = 0; r == LACRE_OK && i < chk->n_gaps; i++)
		if (chk->gaps[i].side != rep->gaps[i].side || chk->gaps[i].at_sample != rep->gaps[i].at_sample ||
		    chk->gaps[i].packets != rep->gaps[i].packets || chk->gaps[i].samples != rep->gaps[i].samples)
			r = LACRE_E_DB;
	free(chk);
	return r;
}

/* Write p[0..n) to fd whole. */
static int audio_put(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t k = write(fd, p, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return LACRE_E_IO;
		p += k;
		n -= (size_t)k;
	}
	return LACRE_OK;
}

/* Append the data frames [flushed, upto) to the file, in order, and give
 * back the whole pages below upto (nothing writes there any more). */
static void audio_flush(struct audio_plan *pl, uint64_t upto)
{
	long pg = sysconf(_SC_PAGESIZE);

	if (upto > pl->frames)
		upto = pl->frames;
	if (pl->werr || upto <= pl->flushed)
		return;
	if (audio_put(pl->fd, pl->map + pl->flushed * 4, (size_t)(upto - pl->flushed) * 4) !=
	    LACRE_OK) {
		pl->werr = LACRE_E_IO;
		return;
	}
	if (!pl->wrote) {
		pl->wrote = 1;
		pl->rep->first_audio_us = phase_timing_now() - pl->t0;
		audio_mark(pl, "first-byte");
	}
	if (pg > 0) {
		uint64_t a = pl->flushed * 4 / (uint64_t)pg * (uint64_t)pg, b = upto * 4 / (uint64_t)pg *
			     (uint64_t)pg;
		if (b > a)
			(void)madvise(pl->map + a, (size_t)(b - a), MADV_DONTNEED);
	}
	pl->flushed = upto;
}

/* Packet k is about to be read: every packet before it (in the read
 * order) is done, so the frames before its watermark are final; they are
 * appended once AUDIO_FLUSH_FRAMES have gathered (or at once while nothing
 * is written: the first audio byte). */
static void audio_advance(struct audio_plan *pl, const struct audio_pkt *k)
{
	uint64_t w = pl->minfrom[k - pl->p];

	if (w > pl->flushed && (!pl->wrote || w - pl->flushed >= AUDIO_FLUSH_FRAMES))
		audio_flush(pl, w);
}

/* Find the packet at (seg, idx), or NULL (packets are in that order and
 * the records come in that order too: a cursor, with a binary search as
 * the fallback). */
static struct audio_pkt *audio_find(struct audio_plan *pl, uint32_t seg, uint64_t idx)
{
	size_t lo = 0, hi = pl->n;

	while (pl->cur < pl->n && (pl->p[pl->cur].seg < seg ||
				   (pl->p[pl->cur].seg == seg && pl->p[pl->cur].idx < idx)))
		pl->cur++;
	if (pl->cur < pl->n && pl->p[pl->cur].seg == seg && pl->p[pl->cur].idx == idx)
		return &pl->p[pl->cur];
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct audio_pkt *k = &pl->p[mid];
		if (k->seg < seg || (k->seg == seg && k->idx < idx))
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < pl->n && pl->p[lo].seg == seg && pl->p[lo].idx == idx)
		return &pl->p[lo];
	return NULL;
}

/* Which segment number a name is. */
static uint32_t audio_seg_no(const struct audio_plan *pl, const char *name)
{
	for (size_t i = 0; i < pl->n_segs; i++)
		if (pl->segs[i] == name || !strcmp(pl->segs[i], name))
			return (uint32_t)i;
	return UINT32_MAX;
}

/* The planned packet at (segment, idx), or NULL.  With a stored plan the
 * segment's rows are read a chunk at a time as index_read reaches them
 * (it reads the segments in the plan's order, records in order); a chunk
 * that does not match the plan stops the writing (pl->cerr). */
static struct audio_pkt *audio_lookup(struct audio_plan *pl, const struct calls_entry *c,
				      const char *segment, uint64_t idx)
{
	uint32_t g = audio_seg_no(pl, segment);
	int r;

	if (pl->sp == NULL)
		return audio_find(pl, g, idx);
	if (pl->cerr || g == UINT32_MAX || (pl->loaded && g < pl->g))
		return NULL;
	if (!pl->loaded || g > pl->g)
		r = audio_chunk(pl, c, g, 0, -1);   /* a segment that failed is passed over */
	else
		r = LACRE_OK;
	while (r == LACRE_OK && (int64_t)idx > pl->last_idx && pl->ch + 1 < pl->sp->seg[g].n_ch)
		r = audio_chunk(pl, c, g, pl->ch + 1, pl->last_idx);
	if (r != LACRE_OK) {
		pl->cerr = r;
		pl->werr = r;   /* nothing more is appended */
		return NULL;
	}
	return audio_find(pl, g, idx);
}

/* index_read filter: only the planned packets that will be written, with
 * the commitment the plan read from the index. */
static const uint8_t *audio_want(void *arg, const char *segment, uint64_t idx)
{
	struct audio_plan *pl = arg;
	struct audio_pkt *k = audio_lookup(pl, pl->call, segment, idx);

	if (k == NULL)
		return NULL;
	audio_advance(pl, k);
	if (k->side < 0)
		return NULL;
	if (pl->skip && pl->skip->fn(pl->skip->arg, segment, idx)) {
		pl->rep->excluded[k->side]++;   /* left out: its samples stay silence */
		return NULL;
	}
	return k->commitment;
}

/* index_read callback: decode one record's RTP into the file. */
static int audio_one(void *arg, const struct access_record *ar)
{
	struct audio_plan *pl = arg;
	struct audio_pkt *k = audio_lookup(pl, pl->call, ar->segment, ar->index);
	const struct etsi_pdu *pdu = &pl->view.pdu;
	struct rtp_frame fr;
	int16_t pcm[1024];
	size_t done = 0, n;

	if (!k || k->side < 0)
		return 0;
	/* the decrypted payload when the receiver sealed one (record_pdu.h) */
	if (record_pdu_decode(ar->rec, &pl->view) != LACRE_OK ||
	    pdu->content_tag != ETSI_CC_IPMMCC ||
	    rtp_frame_parse(pdu->ipmmcc.frame_type, pdu->content_bytes.p, pdu->content_bytes.len,
			    &fr) != LACRE_OK)
		return LACRE_E_VERIFY;   /* the index described another record */
	if (fr.rtp.ssrc != k->ssrc || fr.rtp.seq != k->seq || fr.rtp.payload_len != k->len ||
	    (fr.rtp.pt != 0 && fr.rtp.pt != 8))
		return LACRE_E_VERIFY;
	if (k->pos < pl->flushed)
		return LACRE_E_INTERNAL;   /* the plan's watermark keeps every packet above it */
	while (done < fr.rtp.payload_len) {
		n = fr.rtp.payload_len - done;
		if (n > sizeof(pcm) / sizeof(pcm[0]))
			n = sizeof(pcm) / sizeof(pcm[0]);
		g711_decode((int)fr.rtp.pt, fr.rtp.payload + done, n, pcm);
		for (size_t i = 0; i < n; i++) {
			uint64_t at = k->pos + done + i;
			if (at >= pl->frames)
				break;
			audio_le16(pl->map + at * 4 + (uint64_t)k->side * 2, (uint16_t)pcm[i]);
		}
		done += n;
	}
	return pl->werr;
}

/* audio_write_skip's work; stored: a fresh stored plan may be used (and a
 * plan made in full is stored). */
static int audio_write_any(struct index *ix, struct lacre_store *st,
			   const struct age_x25519_identity *id, const struct calls_entry *c,
			   const char *path, const struct access_skip *skip, int stored,
			   void (*problem)(void *arg, const char *segment, int err, const char *what),
			   void *arg, struct audio_report *rep);

int audio_write(struct index *ix, struct lacre_store *st, const struct age_x25519_identity *id,
		const struct calls_entry *c, const char *path,
		void (*problem)(void *arg, const char *segment, int err, const char *what),
		void *arg, struct audio_report *rep)
{
	return audio_write_any(ix, st, id, c, path, NULL, 1, problem, arg, rep);
}

int audio_write_skip(struct index *ix, struct lacre_store *st, const struct age_x25519_identity *id,
		     const struct calls_entry *c, const char *path, const struct access_skip *skip,
		     void (*problem)(void *arg, const char *segment, int err, const char *what),
		     void *arg, struct audio_report *rep)
{
	/* the export's path: planned from every row, as test_audio_order
	 * checks it against its own render; first-byte time does not matter
	 * there */
	return audio_write_any(ix, st, id, c, path, skip, 0, problem, arg, rep);
}

static int audio_write_any(struct index *ix, struct lacre_store *st,
			   const struct age_x25519_identity *id, const struct calls_entry *c,
			   const char *path, const struct access_skip *skip, int stored,
			   void (*problem)(void *arg, const char *segment, int err, const char *what),
			   void *arg, struct audio_report *rep)
{
	struct audio_plan pl;
	uint8_t hdr[AUDIO_WAV_HEADER];
	char *part = NULL;
	void *map = MAP_FAILED;
	size_t plen = strlen(path) + 6, maplen = 0;
	struct stat sb;
	struct audio_stored sp;
	struct {
		struct audio_stored sp;
		int64_t gen, cc_rows;
	} made;
	int r, in_tx = 0, store = 0;

	memset(&sp, 0, sizeof(sp));
	memset(&made, 0, sizeof(made));
	memset(&pl, 0, sizeof(pl));
	pl.call = c;
	pl.fd = -1;
	memset(rep, 0, sizeof(*rep));
	rep->pt[0] = rep->pt[1] = -1;
	pl.rep = rep;
	pl.skip = skip;
	record_pdu_init(&pl.view);
	pl.t0 = phase_timing_now();
	if (lstat(path, &sb) == 0) {
		r = LACRE_E_EXISTS;
		goto out;
	}
	/* one read transaction from the plan's freshness test to the last
	 * row read: every row comes from the index the plan was checked
	 * against (WAL: the indexer is not held up) */
	in_tx = sqlite3_get_autocommit(index_db(ix)) &&
		sqlite3_exec(index_db(ix), "BEGIN", NULL, NULL, NULL) == SQLITE_OK;
	r = stored ? audio_plan_load(ix, c, &sp, rep) : LACRE_E_NOT_FOUND;
	if (r == LACRE_OK) {
		audio_mark(&pl, "stored-plan");
		if ((r = audio_stored_use(&pl, ix, c, &sp)) != LACRE_OK)
			goto out;
		audio_mark(&pl, "rows");
	} else if (r == LACRE_E_NOT_FOUND) {
		/* none, or stale: the whole plan, stored once the file is made */
		memset(rep, 0, sizeof(*rep));
		rep->pt[0] = rep->pt[1] = -1;
		if ((r = audio_load(ix, c, &pl)) != LACRE_OK)
			goto out;
		audio_mark(&pl, "rows");
		if ((r = audio_place(&pl)) != LACRE_OK)
			goto out;
		/* kept only when the rows came from one read transaction,
		 * the one the freshness values are read in after the file */
		store = stored && !sqlite3_get_autocommit(index_db(ix));
	} else {
		goto out;
	}
	rep->plan_stored = pl.sp != NULL;
	if (!rep->packets[0] && !rep->packets[1]) {
		r = LACRE_E_NOT_FOUND;
		goto out;
	}
	if ((r = audio_wav_header(pl.frames, hdr)) != LACRE_OK)
		goto out;
	if ((part = malloc(plen)) == NULL) {
		r = LACRE_E_NOMEM;
		goto out;
	}
	snprintf(part, plen, "%s.part", path);
	pl.fd = open(part, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (pl.fd < 0) {
		r = errno == EEXIST ? LACRE_E_EXISTS : LACRE_E_IO;
		free(part);
		part = NULL;   /* not ours to remove */
		goto out;
	}
	/* the data is placed in memory (pages are taken as they are written
	 * and given back once appended) and the file written in order */
	maplen = (size_t)pl.frames * 4 + 1;
	if ((map = mmap(NULL, maplen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS |
			MAP_NORESERVE, -1, 0)) == MAP_FAILED) {
		r = LACRE_E_NOMEM;
		goto out;
	}
	pl.map = map;
	/* the header first: its length is the plan's, exact (docs/cmd-audio.md) */
	if ((r = audio_put(pl.fd, hdr, AUDIO_WAV_HEADER)) != LACRE_OK)
		goto out;
	audio_flush(&pl, pl.minfrom[0]);
	r = index_read(ix, st, id, c->warrant, pl.segs, pl.n_segs, audio_want, audio_one, &pl,
		       problem, arg);
	if (pl.cerr)
		r = pl.cerr;   /* the rows did not match the stored plan */
	if (r == LACRE_OK && pl.sp != NULL)
		r = audio_stored_check(&pl, c);
	/* a segment the index names that the backend no longer has is
	 * missing evidence, not "no G.711 RTP" (LACRE_E_NOT_FOUND's meaning
	 * here) */
	if (r == LACRE_E_NOT_FOUND)
		r = LACRE_E_MISSING;
	if (r == LACRE_OK)
		audio_flush(&pl, pl.frames);
	if (r == LACRE_OK && pl.werr)
		r = pl.werr;
	if (r != LACRE_OK)
		goto out;
	if (fsync(pl.fd) != 0 || rename(part, path) != 0) {
		r = LACRE_E_IO;
		goto out;
	}
	free(part);
	part = NULL;
	rep->elapsed_us = phase_timing_now() - pl.t0;
	/* the freshness values of the rows read, still in their read
	 * transaction, after the file (not before its first byte) */
	if (store && (audio_plan_gen(ix, &made.gen) != LACRE_OK ||
		      audio_plan_count(ix, c, &made.cc_rows) != LACRE_OK))
		store = 0;
	if (in_tx)
		sqlite3_exec(index_db(ix), "COMMIT", NULL, NULL, NULL);
	in_tx = 0;
	/* the plan made in full is kept for the next time (a failure to keep
	 * it costs only that: the file is made) */
	if (store && audio_stored_make(&pl, &made.sp) == LACRE_OK) {
		made.sp.gen = made.gen;
		made.sp.cc_rows = made.cc_rows;
		sqlite3_busy_timeout(index_db(ix), AUDIO_STORE_WAIT_MS);
		if (audio_plan_store(ix, c, &made.sp, rep) == LACRE_OK)
			audio_mark(&pl, "plan-stored");
		sqlite3_busy_timeout(index_db(ix), INDEX_BUSY_MS);
	}
out:
	if (in_tx)
		sqlite3_exec(index_db(ix), "COMMIT", NULL, NULL, NULL);
	sqlite3_finalize(pl.rows);
	free(pl.after);
	free(pl.seen_ext[0]);
	free(pl.seen_ext[1]);
	audio_plan_free(&sp);
	audio_plan_free(&made.sp);
	if (map != MAP_FAILED)
		munmap(map, maplen);
	if (pl.fd >= 0)
		close(pl.fd);
	if (part) {
		unlink(part);
		free(part);
	}
	free(pl.minfrom);
	free(pl.p);
	free(pl.segs);
	index_free_names(pl.names, pl.n_names);
	record_pdu_free(&pl.view);
	return r;
}

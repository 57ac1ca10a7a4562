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
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "lacre/audio.h"
#include "lacre/err.h"
#include "lacre/etsi.h"
#include "lacre/g711.h"
#include "lacre/record_pdu.h"
#include "lacre/rtp.h"

#define AUDIO_MAX_FRAMES (((uint64_t)UINT32_MAX - 36) / 4)
#define AUDIO_FLUSH_FRAMES 4096   /* appended at least this much at a time (16 KiB, 0.5 s) */

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
	struct timespec t0;
	int wrote;
	size_t cur;              /* packet cursor for the next lookup */
	struct record_pdu view;  /* the record being decoded (record_pdu.h) */
	const struct access_skip *skip; /* records a party copy leaves out, or NULL */
	int timing;              /* LACRE_AUDIO_TIMING set: phase times on stderr */
};

/* Microseconds since t0. */
static int64_t audio_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)(t.tv_sec - t0->tv_sec) * 1000000 + (t.tv_nsec - t0->tv_nsec) / 1000;
}


/* With LACRE_AUDIO_TIMING set, one stderr line per phase of the plan and
 * at the first audio byte: where the first byte's time goes
 * (docs/performance.md, "Console audio"). */
static void audio_mark(const struct audio_plan *pl, const char *what)
{
	if (pl->timing)
		fprintf(stderr, "lacre: audio timing: %s at %.1f ms\n", what,
			(double)audio_since(&pl->t0) / 1000.0);
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

/* Load the call's RTP packets from the index (segments in creation order). */
static int audio_load(struct index *ix, const struct calls_entry *c, struct audio_plan *pl)
{
	/* no ORDER BY: the rows come in the order of the (warrant, cin, kind,
	 * time) index, and are sorted here, which is cheaper than a temporary
	 * b-tree for a long call */
	static const char q[] =
		"SELECT r.segment, r.idx, r.time_us, r.seq, r.direction, r.ip_src, r.sport, r.rtp_ssrc, "
		"r.rtp_seq, r.rtp_len, r.rtp_pt, 0, r.commitment FROM records r WHERE r.warrant = ?1 AND "
		"r.kind = 'cc' AND r.content = 'ipmmcc' AND r.rtp_ssrc IS NOT NULL AND r.cin IN (?2, ?3, "
		"?4, ?5, ?6, ?7, ?8, ?9) AND r.time_us >= ?10 AND r.time_us <= ?11";
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
	sqlite3_bind_text(st, 1, c->warrant, -1, SQLITE_TRANSIENT);
	for (int k = 0; k < CALLS_MAX_CINS; k++)
		sqlite3_bind_int64(st, 2 + k, c->cins[(size_t)k < c->n_cins ? (size_t)k : 0]);
	/* a CIN may carry several calls: keep to this one's span, with a
	 * minute of slack for media before the INVITE's time or after the end */
	sqlite3_bind_int64(st, 10, c->start_us - 60000000);
	sqlite3_bind_int64(st, 11, c->end_us ? c->end_us + 60000000 : INT64_MAX);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *seg = (const char *)sqlite3_column_text(st, 0);
		struct audio_pkt *k;
		int pt = sqlite3_column_int(st, 10), dir;
		const unsigned char *src;

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
		memset(k, 0, sizeof(*k));
		k->segname = pl->names[pl->n_names - 1];
		k->seg = (uint32_t)(pl->n_names - 1);   /* the name's entry, until audio_order */
		k->created = created;
		if (sqlite3_column_bytes(st, 12) != 32) {
			r = LACRE_E_DB;
			goto out;
		}
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
	audio_sort(e, n, sizeof(*e), audio_cmp_i64);
	for (size_t i = 0; i + 1 < n; i++) {
		int64_t d = e[i + 1] - e[i];
		if (d == 0)
			pl->rep->duplicates++;
		else if (d > 1)
			audio_gap(pl->rep, s, off + (uint64_t)(e[i] - base) * frame + frame,
				  (uint64_t)(d - 1), (uint64_t)(d - 1) * frame);
	}
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
	for (int s = 0; s < 2; s++)
		if (have[s])
			off[s] = (uint64_t)((first_t[s] - t0) / 125);  /* 125 us per sample at 8 kHz */
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
		pl->rep->first_audio_us = audio_since(&pl->t0);
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

/* index_read filter: only the planned packets that will be written, with
 * the commitment the plan read from the index. */
static const uint8_t *audio_want(void *arg, const char *segment, uint64_t idx)
{
	struct audio_plan *pl = arg;
	struct audio_pkt *k = audio_find(pl, audio_seg_no(pl, segment), idx);

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
	struct audio_pkt *k = audio_find(pl, audio_seg_no(pl, ar->segment), ar->index);
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

int audio_write(struct index *ix, struct lacre_store *st, const struct age_x25519_identity *id,
		const struct calls_entry *c, const char *path,
		void (*problem)(void *arg, const char *segment, int err, const char *what),
		void *arg, struct audio_report *rep)
{
	return audio_write_skip(ix, st, id, c, path, NULL, problem, arg, rep);
}

int audio_write_skip(struct index *ix, struct lacre_store *st, const struct age_x25519_identity *id,
		     const struct calls_entry *c, const char *path, const struct access_skip *skip,
		     void (*problem)(void *arg, const char *segment, int err, const char *what),
		     void *arg, struct audio_report *rep)
{
	struct audio_plan pl;
	uint8_t hdr[AUDIO_WAV_HEADER];
	char *part = NULL;
	void *map = MAP_FAILED;
	size_t plen = strlen(path) + 6, maplen = 0;
	struct stat sb;
	int r;

	memset(&pl, 0, sizeof(pl));
	pl.fd = -1;
	memset(rep, 0, sizeof(*rep));
	rep->pt[0] = rep->pt[1] = -1;
	pl.rep = rep;
	pl.skip = skip;
	pl.timing = getenv("LACRE_AUDIO_TIMING") != NULL;
	record_pdu_init(&pl.view);
	clock_gettime(CLOCK_MONOTONIC, &pl.t0);
	if (lstat(path, &sb) == 0) {
		r = LACRE_E_EXISTS;
		goto out;
	}
	if ((r = audio_load(ix, c, &pl)) != LACRE_OK)
		goto out;
	audio_mark(&pl, "rows");
	if ((r = audio_place(&pl)) != LACRE_OK)
		goto out;
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
	rep->elapsed_us = audio_since(&pl.t0);
out:
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

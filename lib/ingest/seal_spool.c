/*
 * seal_spool.c - the ingest spool's crash-consistent layout (seal_spool.h):
 * the ledger batch kept beside each closed segment (.leaves), the manifest
 * of each open segment's streams (.streams), promotion of covered segments
 * to the uploader's outbox, and recovery after any stop.
 *
 * Why a batch file: the receiver holds public keys only and cannot reopen a
 * sealed segment to recompute its records' commitments, so whatever a crash
 * cuts from the log between a segment's close and the checkpoint that
 * signs its batch must be recoverable from bytes kept in the clear.  The
 * commitments are salted hashes (the salt lives only inside the sealed
 * segment): the file leaks nothing the public ledger would not.  Since
 * the log has one leaf per segment (the v2 entry), only the entry is
 * logged; the commitments stay the recovery data that the entry's count
 * and root are checked against.  A v1 file an older receiver left is
 * logged as it was written (every commitment, then the entry).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "lacre/err.h"
#include "lacre/etsi.h"
#include "lacre/fsync.h"
#include "lacre/hex.h"
#include "lacre/json.h"
#include "lacre/segment.h"
#include "lacre/tlog.h"
#include "lacre/modes.h"
#include "ingest/seal_spool.h"

#define LEAVES_MAGIC "lacre-leaves v1\n"        /* 16 bytes */
#define LEAVES_MAX ((size_t)512 << 20)          /* a 64 MiB segment of tiny frames: ~40 MiB */
#define STREAMS_MAGIC "lacre-open-segment v1 "
#define STREAMS_MAX ((size_t)1 << 20)
#define RECOVER_MAX 16384                       /* .leaves files recovered in one start */

/* ---- small file helpers ---- */

/* Write p[0..n) to path via path.tmp and rename; sync: fsync file and
 * folder. */
static int write_atomic(const char *dir, const char *path, const void *p, size_t n, int sync)
{
	char tmp[PATH_MAX];
	const uint8_t *b = p;
	int fd, r = LACRE_E_IO;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return LACRE_E_INVALID;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, LACRE_MODE_GROUP_FILE);
	if (fd < 0)
		return LACRE_E_IO;
	while (n > 0) {
		ssize_t w = write(fd, b, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			goto fail;
		b += w;
		n -= (size_t)w;
	}
	if (sync && fsync(fd) != 0)
		goto fail;
	if (close(fd) != 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) != 0)
		goto fail;
	return sync ? lacre_fsync_dir(dir) : LACRE_OK;
fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return r;
}

/* Read a whole regular file of at most cap bytes. */
static int read_all(const char *path, size_t cap, struct lacre_dbuf *out)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), r = LACRE_E_IO;

	if (fd < 0)
		return errno == ENOENT ? LACRE_E_NOT_FOUND : LACRE_E_IO;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		goto out;
	r = LACRE_E_TOO_LARGE;
	if ((uint64_t)st.st_size > cap)
		goto out;
	lacre_dbuf_init(out, cap);
	if ((r = lacre_dbuf_reserve(out, (size_t)st.st_size)) != LACRE_OK)
		goto out;
	while (out->len < (size_t)st.st_size) {
		ssize_t n = read(fd, out->p + out->len, (size_t)st.st_size - out->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = LACRE_E_IO;
			goto out;
		}
		out->len += (size_t)n;
	}
	r = LACRE_OK;
out:
	close(fd);
	return r;
}

/* SPOOL/<name><suffix> into out. */
static int spool_path(char *out, size_t cap, const char *spool, const char *sub,
		      const char *name, const char *suffix)
{
	int n = sub ? snprintf(out, cap, "%s/%s/%s%s", spool, sub, name, suffix)
		    : snprintf(out, cap, "%s/%s%s", spool, name, suffix);
	return n < 0 || (size_t)n >= cap ? LACRE_E_INVALID : LACRE_OK;
}

/* ---- open-segment manifests ---- */

/* Close t's journal (the manifest open for appending), if open. */
static void journal_close(struct seal_streams *t)
{
	if (t->jopen)
		close(t->jfd);
	t->jopen = 0;
	t->jfd = -1;
	t->jbytes = 0;
}

void seal_streams_reset(struct seal_streams *t, const char *name)
{
	journal_close(t);
	snprintf(t->segment, sizeof(t->segment), "%s", name ? name : "");
	t->n = 0;
	t->last = 0;
	t->other = 0;
	t->dirty = 1;
	t->n_dl = 0;
	t->other_dirty = 0;
	if (t->idx)
		memset(t->idx, 0, 2 * SEAL_STREAMS_MAX * sizeof(*t->idx));
}

/* Hash of a stream's identity (FNV-1a). */
static size_t stream_hash(uint8_t kind, const uint8_t *liid, size_t n, int has_cin, uint64_t cin)
{
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ liid[i]) * 1099511628211ull;
	h = (h ^ kind) * 1099511628211ull;
	h = (h ^ (has_cin ? cin + 1 : 0)) * 1099511628211ull;
	return (size_t)(h ^ (h >> 29));
}

/* Whether slot s is the stream (kind, liid, cin). */
static int stream_is(const struct seal_stream *s, uint8_t kind, const uint8_t *liid, size_t n,
		     int has_cin, uint64_t cin)
{
	return s->kind == kind && s->has_cin == (has_cin != 0) && (!has_cin || s->cin == cin) &&
	       s->liid_len == n && !memcmp(s->liid, liid, n);
}

/* The slot of stream (kind, liid, cin) in t, made when new with first =
 * last = seq and count 0; NULL when the table is full or cannot be
 * allocated (the caller counts the record in "other"). */
static struct seal_stream *stream_slot(struct seal_streams *t, uint8_t kind, const uint8_t *liid,
				       size_t liid_len, int has_cin, uint64_t cin, uint64_t seq)
{
	struct seal_stream *s;
	size_t h, mask = 2 * SEAL_STREAMS_MAX - 1;

	/* consecutive records are mostly of one stream: try the last hit */
	if (t->n > 0 && stream_is(&t->s[t->last], kind, liid, liid_len, has_cin, cin))
		return &t->s[t->last];
	if (!t->s) {
		t->s = calloc(SEAL_STREAMS_MAX, sizeof(*t->s));
		t->idx = calloc(2 * SEAL_STREAMS_MAX, sizeof(*t->idx));
		t->dl = calloc(SEAL_STREAMS_MAX, sizeof(*t->dl));
		if (!t->s || !t->idx || !t->dl) {
			free(t->s);
			free(t->idx);
			free(t->dl);
			t->s = NULL;
			t->idx = NULL;
			t->dl = NULL;
			return NULL;
		}
	}
	for (h = stream_hash(kind, liid, liid_len, has_cin, cin) & mask; t->idx[h]; h = (h + 1) & mask) {
		s = &t->s[t->idx[h] - 1];
		if (stream_is(s, kind, liid, liid_len, has_cin, cin)) {
			t->last = t->idx[h] - 1u;
			return s;
		}
	}
	if (t->n >= SEAL_STREAMS_MAX)
		return NULL;
	s = &t->s[t->n];
	t->idx[h] = (uint16_t)(t->n + 1);
	t->last = t->n++;
	memset(s, 0, sizeof(*s));
	s->kind = kind;
	s->has_cin = has_cin != 0;
	s->cin = has_cin ? cin : 0;
	s->liid_len = (uint8_t)liid_len;
	memcpy(s->liid, liid, liid_len);
	s->first = s->last = seq;
	return s;
}

void seal_streams_note(struct seal_streams *t, uint8_t kind, const uint8_t *liid,
		       size_t liid_len, int has_cin, uint64_t cin, uint64_t seq)
{
	struct seal_stream *s;

	if (liid_len > SEAL_STREAM_LIID_MAX)
		liid_len = SEAL_STREAM_LIID_MAX;
	if (!liid) {                    /* no LIID: memcmp/memcpy need a pointer */
		liid = (const uint8_t *)"";
		liid_len = 0;
	}
	t->dirty = 1;
	if (!(s = stream_slot(t, kind, liid, liid_len, has_cin, cin, seq))) {
		t->other++;
		t->other_dirty = 1;
		return;
	}
	if (seq < s->first)
		s->first = seq;
	if (seq > s->last)
		s->last = seq;
	s->count++;
	if (!s->dirty) {
		/* named in the journal's next append */
		s->dirty = 1;
		t->dl[t->n_dl++] = (uint16_t)(s - t->s);
	}
}

/* One manifest line of stream s into d. */
static int stream_line(struct lacre_dbuf *d, const struct seal_stream *s)
{
	char hex[2 * SEAL_STREAM_LIID_MAX + 1];

	lacre_hex(s->liid, s->liid_len, hex);
	return s->has_cin ? lacre_dbuf_printf(d, "%u %s %llu %llu %llu %llu\n", s->kind,
					      s->liid_len ? hex : "-", (unsigned long long)s->cin,
					      (unsigned long long)s->first, (unsigned long long)s->last,
					      (unsigned long long)s->count)
			  : lacre_dbuf_printf(d, "%u %s - %llu %llu %llu\n", s->kind,
					      s->liid_len ? hex : "-", (unsigned long long)s->first,
					      (unsigned long long)s->last, (unsigned long long)s->count);
}

/* Everything in t is written: no stream waits for an append. */
static void streams_clean(struct seal_streams *t)
{
	for (size_t i = 0; i < t->n_dl; i++)
		t->s[t->dl[i]].dirty = 0;
	t->n_dl = 0;
	t->other_dirty = 0;
	t->dirty = 0;
}

/* Append the lines of t's changed streams to its open journal in one
 * write(2).  A failed or short write closes the journal: the next call
 * writes the whole table anew, so a torn line is never followed. */
static int journal_append(struct seal_streams *t)
{
	struct lacre_dbuf d;
	const uint8_t *p;
	size_t n;
	int r = LACRE_OK;

	lacre_dbuf_init(&d, STREAMS_MAX);
	for (size_t i = 0; r == LACRE_OK && i < t->n_dl; i++)
		r = stream_line(&d, &t->s[t->dl[i]]);
	if (r == LACRE_OK && t->other_dirty)
		r = lacre_dbuf_printf(&d, "other %llu\n", (unsigned long long)t->other);
	for (p = d.p, n = d.len; r == LACRE_OK && n > 0;) {
		ssize_t w = write(t->jfd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			r = LACRE_E_IO;
			break;
		}
		p += w;
		n -= (size_t)w;
		t->jbytes += (uint64_t)w;
	}
	if (r == LACRE_OK)
		streams_clean(t);
	else
		journal_close(t);
	lacre_dbuf_free(&d);
	return r;
}

int seal_streams_write(const char *spool, struct seal_streams *t)
{
	struct lacre_dbuf d;
	char path[PATH_MAX];
	int r;

	if (!t->dirty || !t->segment[0])
		return LACRE_OK;
	if (t->jopen && t->jbytes < SEAL_JOURNAL_COMPACT)
		return journal_append(t);
	/* first write, or compaction: the whole table, atomically */
	journal_close(t);
	if ((r = spool_path(path, sizeof(path), spool, NULL, t->segment, ".streams")) != LACRE_OK)
		return r;
	lacre_dbuf_init(&d, STREAMS_MAX);
	r = lacre_dbuf_printf(&d, "%s%s\n", STREAMS_MAGIC, t->segment);
	for (size_t i = 0; r == LACRE_OK && i < t->n; i++)
		r = stream_line(&d, &t->s[i]);
	if (r == LACRE_OK && t->other)
		r = lacre_dbuf_printf(&d, "other %llu\n", (unsigned long long)t->other);
	if (r == LACRE_OK && (r = write_atomic(spool, path, d.p, d.len, 0)) == LACRE_OK) {
		streams_clean(t);
		/* later changes are appended (best effort: without the
		 * descriptor the next change rewrites the whole file) */
		t->jfd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
		t->jopen = t->jfd >= 0;
		t->jbytes = d.len;
	}
	lacre_dbuf_free(&d);
	return r;
}

void seal_streams_remove(const char *spool, const char *name)
{
	char path[PATH_MAX];

	if (spool_path(path, sizeof(path), spool, NULL, name, ".streams") == LACRE_OK)
		unlink(path);
}

void seal_streams_free(struct seal_streams *t)
{
	journal_close(t);
	free(t->s);
	free(t->idx);
	free(t->dl);
	memset(t, 0, sizeof(*t));
	t->jfd = -1;
}

/* ---- ledger batches ---- */

int seal_leaves_write(const char *spool, const char *name, const uint8_t (*commits)[32],
		      uint64_t n, const uint8_t *entry, size_t entry_len)
{
	struct lacre_dbuf d;
	char path[PATH_MAX];
	uint8_t h[32];
	unsigned hl = 0;
	int r;

	if (entry_len == 0 || entry_len > 0xffff)
		return LACRE_E_INVALID;
	if ((r = spool_path(path, sizeof(path), spool, NULL, name, ".leaves")) != LACRE_OK)
		return r;
	lacre_dbuf_init(&d, LEAVES_MAX);
	if ((r = lacre_dbuf_reserve(&d, 16 + 8 + n * 34 + 2 + entry_len + 32)) != LACRE_OK)
		goto out;
	lacre_dbuf_add(&d, LEAVES_MAGIC, 16);
	lacre_dbuf_add_u64be(&d, n + 1);
	for (uint64_t i = 0; i < n; i++) {
		lacre_dbuf_add_u16be(&d, 32);
		lacre_dbuf_add(&d, commits[i], 32);
	}
	lacre_dbuf_add_u16be(&d, (uint16_t)entry_len);
	lacre_dbuf_add(&d, entry, entry_len);
	if (EVP_Digest(d.p, d.len, h, &hl, EVP_sha256(), NULL) != 1) {
		r = LACRE_E_CRYPTO;
		goto out;
	}
	lacre_dbuf_add(&d, h, 32);
	r = write_atomic(spool, path, d.p, d.len, 1);
out:
	lacre_dbuf_free(&d);
	return r;
}

/* Parse a .leaves file: batch and blen get what the log must hold (u16be
 * length || entry ...: for a v2 entry the entry alone, for a v1 file
 * every entry as written), *n their count, seg the decoded last entry.
 * LACRE_E_CORRUPT for any damage (the file is written atomically: damage
 * is not a crash), including a v2 entry whose count or records root does
 * not match the commitments before it. */
static int leaves_parse(const struct lacre_dbuf *d, const char *name, const uint8_t **batch,
			size_t *blen, uint64_t *n, struct tlog_segment *seg)
{
	struct lacre_rbuf b;
	const uint8_t *e = NULL, *last = NULL, *first, *last_at = NULL;
	size_t len = 0, last_len = 0;
	uint64_t count, k = 0;
	uint8_t h[32], root[32];
	unsigned hl = 0;
	char want[TLOG_SEGMENT_NAME_MAX + 1];

	if (d->len < 16 + 8 + 32 || memcmp(d->p, LEAVES_MAGIC, 16) != 0)
		return LACRE_E_CORRUPT;
	if (EVP_Digest(d->p, d->len - 32, h, &hl, EVP_sha256(), NULL) != 1)
		return LACRE_E_CRYPTO;
	if (memcmp(h, d->p + d->len - 32, 32) != 0)
		return LACRE_E_CORRUPT;
	lacre_rbuf_init(&b, d->p + 16, d->len - 16 - 32);
	if (lacre_rbuf_u64be(&b, &count) != LACRE_OK || count == 0)
		return LACRE_E_CORRUPT;
	first = lacre_rbuf_ptr(&b);
	*blen = lacre_rbuf_left(&b);
	while (lacre_rbuf_left(&b) > 0) {
		const uint8_t *at = lacre_rbuf_ptr(&b);
		if (tiles_bundle_next(&b, &e, &len) != LACRE_OK || len == 0)
			return LACRE_E_CORRUPT;
		k++;
		if (k < count && len != 32)
			return LACRE_E_CORRUPT;
		last = e;
		last_len = len;
		last_at = at;
	}
	if (k != count || tlog_segment_decode(last, last_len, seg) != LACRE_OK)
		return LACRE_E_CORRUPT;
	snprintf(want, sizeof(want), "%s%s", SEAL_SEGMENT_PREFIX, name);
	if (strcmp(seg->name, want) != 0)
		return LACRE_E_CORRUPT;
	if (seg->version == 2) {
		/* the commitments are u16be 32 || 32 bytes each, from first */
		uint64_t nc = count - 1;
		struct merkle_tree t;
		uint8_t lh[32];

		if (seg->records != nc)
			return LACRE_E_CORRUPT;
		merkle_tree_init(&t);
		for (uint64_t i = 0; i < nc; i++) {
			merkle_leaf_hash(first + i * 34 + 2, 32, lh);
			if (merkle_tree_append(&t, lh, NULL, NULL) != LACRE_OK)
				return LACRE_E_CORRUPT;
		}
		merkle_tree_root(&t, root);
		if (memcmp(root, seg->records_root, 32) != 0)
			return LACRE_E_CORRUPT;
		*batch = last_at;
		*blen = 2 + last_len;
		*n = 1;
		return LACRE_OK;
	}
	*batch = first;
	*n = count;
	return LACRE_OK;
}

int seal_spool_promote(const char *spool, const char *name)
{
	char from[PATH_MAX], to[PATH_MAX], ready[PATH_MAX];
	int r;

	if ((r = spool_path(from, sizeof(from), spool, NULL, name, "")) != LACRE_OK ||
	    (r = spool_path(to, sizeof(to), spool, SEAL_SPOOL_READY, name, "")) != LACRE_OK ||
	    (r = spool_path(ready, sizeof(ready), spool, NULL, SEAL_SPOOL_READY, "")) != LACRE_OK)
		return r;
	if (rename(from, to) != 0)
		return LACRE_E_IO;
	if ((r = lacre_fsync_dir(ready)) != LACRE_OK || (r = lacre_fsync_dir(spool)) != LACRE_OK)
		return r;
	/* the batch is in the signed log and the segment in the outbox: the
	 * side files are done (a crash here leaves them; recovery removes) */
	if (spool_path(from, sizeof(from), spool, NULL, name, ".leaves") == LACRE_OK)
		unlink(from);
	seal_streams_remove(spool, name);
	return LACRE_OK;
}

/* ---- recovery ---- */

/* One .leaves file found at start. */
struct rec_item {
	char name[SEGMENT_NAME_LEN + 1];
	struct lacre_dbuf file;
	const uint8_t *batch;
	size_t blen;
	uint64_t n;
	struct tlog_segment seg;
	int covered;
	uint64_t index;              /* of its segment entry, when covered */
};

struct rec_scan {
	struct rec_item *items;
	size_t n;
};

/* tlog_scan_signed callback: mark the items whose segment entry is signed. */
static int rec_scan_entry(void *arg, uint64_t index, const uint8_t *e, size_t len)
{
	struct rec_scan *sc = arg;
	struct tlog_segment seg;

	if (len == 32 || tlog_segment_decode(e, len, &seg) != LACRE_OK)
		return LACRE_OK;
	for (size_t i = 0; i < sc->n; i++)
		if (!sc->items[i].covered && !strcmp(sc->items[i].seg.name, seg.name) &&
		    sc->items[i].seg.size == seg.size && seg.fp_len == sc->items[i].seg.fp_len &&
		    !memcmp(sc->items[i].seg.fp, seg.fp, seg.fp_len) &&
		    sc->items[i].seg.version == seg.version && sc->items[i].seg.records == seg.records &&
		    !memcmp(sc->items[i].seg.records_root, seg.records_root, 32)) {
			sc->items[i].covered = 1;
			sc->items[i].index = index;
		}
	return LACRE_OK;
}

/* Whether s is a segment name: SEGMENT_NAME_LEN lower-case hex digits. */
static int is_seg_name(const char *s, size_t n)
{
	if (n != SEGMENT_NAME_LEN)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

/* Move SPOOL/<name><suffix> into SPOOL/lost/ (missing is fine). */
static void move_lost(const char *spool, const char *name, const char *suffix)
{
	char from[PATH_MAX], to[PATH_MAX];

	if (spool_path(from, sizeof(from), spool, NULL, name, suffix) == LACRE_OK &&
	    spool_path(to, sizeof(to), spool, SEAL_SPOOL_LOST, name, suffix) == LACRE_OK)
		rename(from, to);
}

/* Name of an ETSI record kind in loss events (the receiver's stream classes). */
static const char *kind_name(unsigned k)
{
	switch (k) {
	case ETSI_KIND_IRI: return "iri";
	case ETSI_KIND_CC: return "cc";
	case ETSI_KIND_INTEGRITY_CHECK: return "integrity";
	case ETSI_KIND_KEEPALIVE: return "keepalive";
	default: return "other";
	}
}

/* Emit one loss event and its stderr line. */
static int loss_event(const struct seal_recovery_ops *ops, const char *segment,
		      const uint8_t *liid, size_t liid_len, int has_liid, int has_cin, uint64_t cin,
		      const char *stream, int has_range, uint64_t first, uint64_t last, uint64_t count,
		      const char *detail)
{
	struct lacre_dbuf d;
	struct json_w w;
	const char *txt;
	int r;

	lacre_dbuf_init(&d, 8192);
	json_init(&w, &d);
	json_obj_begin(&w);
	json_kv_str(&w, "event", "lost-open-segment");
	if (has_liid) {
		json_key(&w, "liid");
		json_str_or_hex(&w, liid, liid_len);
		if (has_cin)
			json_kv_uint(&w, "cin", cin);
		else
			json_kv_null(&w, "cin");
	}
	if (stream)
		json_kv_str(&w, "stream", stream);
	if (has_range) {
		json_kv_uint(&w, "first", first);
		json_kv_uint(&w, "last", last);
	}
	if (count)
		json_kv_uint(&w, "count", count);
	json_kv_str(&w, "segment", segment);
	json_kv_str(&w, "detail", detail);
	json_obj_end(&w);
	r = json_finish(&w);
	if (r == LACRE_OK && (r = lacre_dbuf_cstr(&d, &txt)) == LACRE_OK) {
		fprintf(stderr, "lacre: ingest: ALERT records lost in a crash: %s\n", txt);
		r = ops->event ? ops->event(ops->arg, txt) : LACRE_OK;
	}
	lacre_dbuf_free(&d);
	return r;
}

/* Parse an unsigned decimal field of a manifest line. */
static int field_u64(const char *s, size_t n, uint64_t *v)
{
	uint64_t x = 0;

	if (n == 0 || n > 20)
		return LACRE_E_MALFORMED;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9' || x > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			return LACRE_E_MALFORMED;
		x = x * 10 + (uint64_t)(s[i] - '0');
	}
	*v = x;
	return LACRE_OK;
}

/* Merge one manifest line into t: a stream's lines are cumulative (each
 * carries its range so far), so the widest range and largest count win,
 * whatever their order.  LACRE_E_TOO_LARGE past the table's capacity. */
static int streams_merge(struct seal_streams *t, uint8_t kind, const uint8_t *liid, size_t liid_len,
			 int has_cin, uint64_t cin, uint64_t first, uint64_t last, uint64_t count)
{
	struct seal_stream *s = stream_slot(t, kind, liid, liid_len, has_cin, cin, first);

	if (!s)
		return LACRE_E_TOO_LARGE;
	if (first < s->first)
		s->first = first;
	if (last > s->last)
		s->last = last;
	if (count > s->count)
		s->count = count;
	return LACRE_OK;
}

/* Report what the open segment <name> held, from its manifest: one loss
 * event per stream (its lines merged), and one for "other". */
static int report_lost(const char *spool, const char *name, const struct seal_recovery_ops *ops,
		       struct seal_recovery *st)
{
	struct lacre_dbuf d;
	struct seal_streams t;
	char path[PATH_MAX];
	size_t off, end;
	uint64_t other = 0, extra = 0;
	int r;

	if ((r = spool_path(path, sizeof(path), spool, NULL, name, ".streams")) != LACRE_OK)
		return r;
	r = read_all(path, STREAMS_MAX, &d);
	if (r == LACRE_E_NOT_FOUND || (r == LACRE_OK && (d.len < sizeof(STREAMS_MAGIC) - 1 ||
		memcmp(d.p, STREAMS_MAGIC, sizeof(STREAMS_MAGIC) - 1) != 0))) {
		if (r == LACRE_OK)
			lacre_dbuf_free(&d);
		return loss_event(ops, name, NULL, 0, 0, 0, 0, NULL, 0, 0, 0, 0,
				  "the receiver stopped before this open segment's first manifest: "
				  "which streams it held is unknown; see the gaps of the streams that "
				  "continued");
	}
	if (r != LACRE_OK)
		return r;
	memset(&t, 0, sizeof(t));
	seal_streams_reset(&t, name);
	/* lines: kind liid-hex|- cin|- first last count, or "other N"; a
	 * stream may have many (a journal); a last line without its newline
	 * was cut by the crash and is not read */
	off = 0;
	while (off < d.len && d.p[off] != '\n')
		off++;
	off++;
	while (off < d.len) {
		const char *f[6];
		size_t fl[6], nf = 0, i;
		uint8_t liid[SEAL_STREAM_LIID_MAX];
		uint64_t kind, cin = 0, first, last, count;
		long ll = 0;

		for (end = off; end < d.len && d.p[end] != '\n'; end++)
			;
		if (end == d.len)
			break;
		for (i = off; i < end && nf < 6;) {
			size_t s = i;
			while (i < end && d.p[i] != ' ')
				i++;
			f[nf] = (const char *)d.p + s;
			fl[nf++] = i - s;
			if (i < end)
				i++;
		}
		off = end + 1;
		if (nf == 2 && fl[0] == 5 && !memcmp(f[0], "other", 5) &&
		    field_u64(f[1], fl[1], &count) == LACRE_OK) {
			if (count > other)
				other = count;
			continue;
		}
		if (nf != 6 || field_u64(f[0], fl[0], &kind) != LACRE_OK || kind > 255 ||
		    field_u64(f[3], fl[3], &first) != LACRE_OK ||
		    field_u64(f[4], fl[4], &last) != LACRE_OK ||
		    field_u64(f[5], fl[5], &count) != LACRE_OK ||
		    (!(fl[2] == 1 && f[2][0] == '-') && field_u64(f[2], fl[2], &cin) != LACRE_OK)) {
			fprintf(stderr, "lacre: ingest: %s: a damaged manifest line was skipped\n", path);
			continue;
		}
		if (!(fl[1] == 1 && f[1][0] == '-')) {
			char hx[2 * SEAL_STREAM_LIID_MAX + 1];
			if (fl[1] >= sizeof(hx))
				continue;
			memcpy(hx, f[1], fl[1]);
			hx[fl[1]] = 0;
			if ((ll = lacre_unhex_text(hx, liid, sizeof(liid))) < 0)
				continue;
		}
		if (streams_merge(&t, (uint8_t)kind, liid, (size_t)ll, !(fl[2] == 1 && f[2][0] == '-'),
				  cin, first, last, count) != LACRE_OK)
			extra += count;   /* more streams than a table holds: a damaged file */
	}
	lacre_dbuf_free(&d);
	r = LACRE_OK;
	for (size_t i = 0; r == LACRE_OK && i < t.n; i++) {
		const struct seal_stream *s = &t.s[i];
		st->lost_records += s->count;
		r = loss_event(ops, name, s->liid, s->liid_len, 1, s->has_cin, s->cin,
			       kind_name(s->kind), 1, s->first, s->last, s->count,
			       "sealed into a segment that was still open when the receiver stopped "
			       "without a clean shutdown: these records are lost");
	}
	if (r == LACRE_OK && other + extra) {
		st->lost_records += other + extra;
		r = loss_event(ops, name, NULL, 0, 0, 0, 0, NULL, 0, 0, 0, other + extra,
			       "records of streams beyond the manifest's capacity");
	}
	seal_streams_free(&t);
	return r;
}

int seal_spool_recover(const char *spool, struct tlog *log, const struct seal_recovery_ops *ops,
		       struct seal_recovery *out, char *msg, size_t msglen)
{
	struct rec_scan sc = { 0 };
	struct seal_recovery st;
	char path[PATH_MAX], p2[PATH_MAX];
	DIR *dir = NULL;
	struct dirent *de;
	char (*tmps)[SEGMENT_NAME_LEN + 1] = NULL, (*closed)[SEGMENT_NAME_LEN + 1] = NULL;
	size_t ntmp = 0, nclosed = 0;
	struct stat sb;
	int r = LACRE_OK;

	memset(&st, 0, sizeof(st));
	if (spool_path(path, sizeof(path), spool, NULL, SEAL_SPOOL_READY, "") != LACRE_OK ||
	    (mkdir(path, LACRE_MODE_GROUP_DIR) != 0 && errno != EEXIST) ||
	    spool_path(path, sizeof(path), spool, NULL, SEAL_SPOOL_LOST, "") != LACRE_OK ||
	    (mkdir(path, LACRE_MODE_GROUP_DIR) != 0 && errno != EEXIST)) {
		lacre_msg(msg, msglen, "cannot create %s: %s", path, strerror(errno));
		return LACRE_E_IO;
	}
	sc.items = calloc(RECOVER_MAX, sizeof(*sc.items));
	tmps = calloc(RECOVER_MAX, sizeof(*tmps));
	closed = calloc(RECOVER_MAX, sizeof(*closed));
	if (!sc.items || !tmps || !closed) {
		r = LACRE_E_NOMEM;
		goto out;
	}
	if (!(dir = opendir(spool))) {
		lacre_msg(msg, msglen, "cannot read the spool %s: %s", spool, strerror(errno));
		r = LACRE_E_IO;
		goto out;
	}
	while ((de = readdir(dir)) != NULL) {
		const char *n = de->d_name;
		size_t len = strlen(n), tl = sizeof(SEGMENT_TMP_PREFIX) - 1;

		if (len == SEGMENT_NAME_LEN + 7 && !strcmp(n + SEGMENT_NAME_LEN, ".leaves") &&
		    is_seg_name(n, SEGMENT_NAME_LEN) && sc.n < RECOVER_MAX) {
			memcpy(sc.items[sc.n].name, n, SEGMENT_NAME_LEN);
			sc.items[sc.n++].name[SEGMENT_NAME_LEN] = 0;
		} else if (len == tl + SEGMENT_NAME_LEN && !memcmp(n, SEGMENT_TMP_PREFIX, tl) &&
			   is_seg_name(n + tl, SEGMENT_NAME_LEN) && ntmp < RECOVER_MAX) {
			memcpy(tmps[ntmp++], n + tl, SEGMENT_NAME_LEN + 1);
		} else if (is_seg_name(n, len) && nclosed < RECOVER_MAX) {
			memcpy(closed[nclosed++], n, SEGMENT_NAME_LEN + 1);
		}
	}
	closedir(dir);
	dir = NULL;
	/* 1. batches: read and check each; which does the signed log hold? */
	for (size_t i = 0; i < sc.n; i++) {
		struct rec_item *it = &sc.items[i];
		spool_path(path, sizeof(path), spool, NULL, it->name, ".leaves");
		if (read_all(path, LEAVES_MAX, &it->file) != LACRE_OK ||
		    leaves_parse(&it->file, it->name, &it->batch, &it->blen, &it->n, &it->seg) != LACRE_OK) {
			fprintf(stderr, "lacre: ingest: ALERT %s is damaged: moved to %s/%s; its "
				"segment cannot be logged (run lacre audit --site)\n", path, spool,
				SEAL_SPOOL_LOST);
			move_lost(spool, it->name, ".leaves");
			move_lost(spool, it->name, "");
			move_lost(spool, it->name, ".streams");
			st.damaged++;
			it->n = 0;
			for (size_t j = 0; j < nclosed; j++)
				if (!strcmp(closed[j], it->name))
					closed[j][0] = 0;
		}
	}
	if (sc.n > 0 && (r = tlog_scan_signed(log, rec_scan_entry, &sc)) != LACRE_OK) {
		lacre_msg(msg, msglen, "cannot read the ingest log's journal: %s", lacre_strerror(r));
		goto out;
	}
	for (size_t i = 0; i < sc.n; i++) {
		struct rec_item *it = &sc.items[i];
		if (it->n == 0)
			continue;
		spool_path(path, sizeof(path), spool, NULL, it->name, "");
		if (stat(path, &sb) != 0) {
			/* closed at the crash between its batch and its rename:
			 * the temporary file is complete (fsync'd first) */
			spool_path(p2, sizeof(p2), spool, NULL, SEGMENT_TMP_PREFIX, it->name);
			if (stat(p2, &sb) == 0 && (uint64_t)sb.st_size == it->seg.size &&
			    rename(p2, path) == 0) {
				lacre_fsync_dir(spool);
				for (size_t j = 0; j < ntmp; j++)
					if (!strcmp(tmps[j], it->name))
						tmps[j][0] = 0;
			} else {
				spool_path(p2, sizeof(p2), spool, SEAL_SPOOL_READY, it->name, "");
				if (stat(p2, &sb) != 0)
					fprintf(stderr, "lacre: ingest: ALERT the segment of %s/%s.leaves "
						"is missing from the spool (run lacre audit --site)\n",
						spool, it->name);
				/* promoted before the crash, or gone: the batch is done */
				spool_path(p2, sizeof(p2), spool, NULL, it->name, ".leaves");
				unlink(p2);
				seal_streams_remove(spool, it->name);
				continue;
			}
		}
		if (it->covered && it->index >= tlog_signed_size(log)) {
			/* in the tree an outside signer has not signed yet (tlog.h
			 * "pending"): it waits for that signature, like a fresh close */
			if (!ops->wait || (r = ops->wait(ops->arg, it->name, it->index)) != LACRE_OK) {
				r = ops->wait ? r : LACRE_E_INTERNAL;
				lacre_msg(msg, msglen, "cannot queue %s for its signature", path);
				goto out;
			}
		} else if (it->covered) {
			if ((r = seal_spool_promote(spool, it->name)) != LACRE_OK) {
				lacre_msg(msg, msglen, "cannot move %s to %s/%s", path, spool, SEAL_SPOOL_READY);
				goto out;
			}
			st.covered_segments++;
		} else {
			if ((r = ops->relog(ops->arg, it->name, it->batch, it->blen, it->n)) != LACRE_OK) {
				lacre_msg(msg, msglen, "cannot queue the ledger batch of %s: %s", path,
					  lacre_strerror(r));
				goto out;
			}
			st.relogged_segments++;
			st.relogged_records += it->seg.version == 2 ? it->seg.records : it->n - 1;
		}
		for (size_t j = 0; j < nclosed; j++)
			if (!strcmp(closed[j], it->name))
				closed[j][0] = 0;
	}
	/* 2. closed segments with no batch file: an older layout logged
	 * their records one by one before the close; they go up as before
	 * (the audit names any the log lacks) */
	for (size_t j = 0; j < nclosed; j++) {
		if (!closed[j][0])
			continue;
		if ((r = seal_spool_promote(spool, closed[j])) != LACRE_OK) {
			lacre_msg(msg, msglen, "cannot move %s/%s to %s/%s", spool, closed[j], spool,
				  SEAL_SPOOL_READY);
			goto out;
		}
		st.legacy_segments++;
	}
	/* 3. open segments at the crash: lost; name their streams */
	for (size_t j = 0; j < ntmp; j++) {
		if (!tmps[j][0])
			continue;
		if ((r = report_lost(spool, tmps[j], ops, &st)) != LACRE_OK) {
			lacre_msg(msg, msglen, "cannot report the records lost in %s/%s%s: %s", spool,
				  SEGMENT_TMP_PREFIX, tmps[j], lacre_strerror(r));
			goto out;
		}
		spool_path(path, sizeof(path), spool, NULL, SEGMENT_TMP_PREFIX, tmps[j]);
		spool_path(p2, sizeof(p2), spool, SEAL_SPOOL_LOST, SEGMENT_TMP_PREFIX, tmps[j]);
		rename(path, p2);
		move_lost(spool, tmps[j], ".streams");
		st.lost_segments++;
	}
	lacre_fsync_dir(spool);
	if (st.relogged_segments || st.covered_segments || st.lost_segments || st.damaged)
		fprintf(stderr, "lacre: ingest: spool recovery: %llu segments re-logged (%llu records), "
			"%llu promoted, %llu open segments lost (%llu records named), %llu damaged\n",
			(unsigned long long)st.relogged_segments, (unsigned long long)st.relogged_records,
			(unsigned long long)st.covered_segments, (unsigned long long)st.lost_segments,
			(unsigned long long)st.lost_records, (unsigned long long)st.damaged);
	if (out)
		*out = st;
out:
	if (dir)
		closedir(dir);
	for (size_t i = 0; sc.items && i < sc.n; i++)
		lacre_dbuf_free(&sc.items[i].file);
	free(sc.items);
	free(tmps);
	free(closed);
	return r;
}

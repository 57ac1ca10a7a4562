/*
 * deep_audit.c - `lacre audit --site DIR --deep`: with the master key,
 * decrypt every segment the ingest log records and check every record in it
 * against its commitment in the log (include/lacre/deep_audit.h).
 *
 * The keyless audit (site_audit.c) already proves the tiles, the entry
 * bundles and every segment's size and fingerprint (header + chunk tags).
 * What only a key can show is a change inside a chunk's ciphertext that
 * kept its tag - impossible without the file key - or a segment whose
 * records do not match the commitments logged when they were sealed (a
 * forged segment sealed to the right recipient by someone holding only the
 * public key: DESIGN.md §4 "no sender authentication").  So every record's
 * SHA-256(salt || canonical bytes) must be one of the log's 32-byte
 * entries, once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lacre/deep_audit.h"
#include "lacre/err.h"
#include "lacre/frame.h"
#include "lacre/seal_sink.h"
#include "lacre/segment.h"
#include "lacre/tlog.h"

#define DEEP_SEGMENT_MAX ((size_t)1 << 31)

struct leafset {
	uint8_t (*v)[32];
	uint8_t *used;
	size_t n, cap;
};

static int cmp32(const void *a, const void *b)
{
	return memcmp(a, b, 32);
}

/* Read every 32-byte entry of the log (bundles for the audited size). */
static int load_leaves(struct lacre_store *st, const char *prefix, uint64_t size,
		       struct leafset *ls)
{
	struct lacre_dbuf b;
	struct lacre_rbuf rb;
	char path[LACRE_STORE_NAME_MAX + 1];
	const uint8_t *e;
	size_t len;
	int r = LACRE_OK;

	lacre_dbuf_init(&b, TLOG_BUNDLE_MAX + 1);
	for (uint64_t n = 0; n * TILE_WIDTH < size; n++) {
		unsigned w = tiles_width(size, TILE_LEVEL_ENTRIES, n);
		if ((r = tiles_path(prefix, TILE_LEVEL_ENTRIES, n, w == TILE_WIDTH ? 0 : w,
				    path, sizeof(path))) != LACRE_OK)
			break;
		lacre_dbuf_reset(&b);
		if ((r = lacre_store_get(st, path, 0, SIZE_MAX, &b)) != LACRE_OK)
			break;
		lacre_rbuf_init(&rb, b.p, b.len);
		for (unsigned i = 0; i < w; i++) {
			if ((r = tiles_bundle_next(&rb, &e, &len)) != LACRE_OK)
				goto out;
			if (len != 32)
				continue;
			if (ls->n == ls->cap) {
				size_t nc = ls->cap ? ls->cap * 2 : 1024;
				void *nv = realloc(ls->v, nc * 32);
				if (!nv) {
					r = LACRE_E_NOMEM;
					goto out;
				}
				ls->v = nv;
				ls->cap = nc;
			}
			memcpy(ls->v[ls->n++], e, 32);
		}
	}
out:
	lacre_dbuf_free(&b);
	if (r == LACRE_OK) {
		qsort(ls->v, ls->n, 32, cmp32);
		ls->used = calloc(ls->n ? ls->n : 1, 1);
		if (!ls->used)
			r = LACRE_E_NOMEM;
	}
	return r;
}

int deep_audit_run(const struct site *s, struct lacre_store *st, uint64_t log_size,
		   const char *const *segments, size_t n_segments,
		   const struct deep_identity *ids, size_t n_ids,
		   void (*report)(void *arg, const char *segment, const char *what), void *arg,
		   struct deep_audit_result *res)
{
	struct leafset ls = { 0 };
	struct lacre_dbuf obj;
	struct segment_reader *sr = NULL;
	struct frame_record rec;
	char origin[NOTE_NAME_MAX + 1], prefix[TLOG_PREFIX_MAX], what[160];
	uint8_t c[32];
	int r, done;

	memset(res, 0, sizeof(*res));
	lacre_dbuf_init(&obj, DEEP_SEGMENT_MAX);
	lacre_dbuf_set_secret(&obj);
	if ((r = seal_sink_log_origin(s, origin, sizeof(origin))) != LACRE_OK ||
	    (r = tlog_prefix(origin, prefix, sizeof(prefix))) != LACRE_OK ||
	    (r = load_leaves(st, prefix, log_size, &ls)) != LACRE_OK)
		goto out;
	res->record_leaves = ls.n;
	for (size_t i = 0; i < n_segments; i++) {
		const char *base = strrchr(segments[i], '/');
		size_t k;
		base = base ? base + 1 : segments[i];
		lacre_dbuf_reset(&obj);
		if (lacre_store_get(st, segments[i], 0, SIZE_MAX, &obj) != LACRE_OK) {
			res->unreadable++;
			continue;  /* the keyless audit has reported it */
		}
		for (k = 0; k < n_ids; k++) {
			r = segment_reader_new(obj.p, obj.len, ids[k].id, base, &sr);
			if (r != LACRE_E_AUTH)
				break;
		}
		if (k == n_ids) {
			res->unopened++;   /* shredded warrant, or a key not in this keystore */
			continue;
		}
		if (r != LACRE_OK) {
			res->problems++;
			snprintf(what, sizeof(what), "does not open with %s's key: %s",
				 ids[k].name, lacre_strerror(r));
			report(arg, segments[i], what);
			continue;
		}
		res->segments++;
		for (;;) {
			r = segment_reader_next(sr, &rec, &done);
			if (r != LACRE_OK) {
				res->problems++;
				snprintf(what, sizeof(what), "a chunk or frame failed: %s", lacre_strerror(r));
				report(arg, segments[i], what);
				break;
			}
			if (done)
				break;
			res->records++;
			frame_commitment(rec.salt, rec.canon.p, rec.canon.len, c);
			uint8_t (*hit)[32] = bsearch(c, ls.v, ls.n, 32, cmp32);
			if (!hit) {
				res->problems++;
				snprintf(what, sizeof(what), "record %llu (seq %llu) is not in the ingest log: "
					 "sealed outside lacre's ingest", (unsigned long long)(res->records - 1),
					 (unsigned long long)rec.seq);
				report(arg, segments[i], what);
				continue;
			}
			size_t at = (size_t)(hit - ls.v);
			if (ls.used[at]) {
				res->problems++;
				snprintf(what, sizeof(what), "a record appears twice (seq %llu)",
					 (unsigned long long)rec.seq);
				report(arg, segments[i], what);
			}
			ls.used[at] = 1;
		}
		segment_reader_free(sr);
		sr = NULL;
	}
	for (size_t j = 0; j < ls.n; j++)
		if (!ls.used[j])
			res->unmatched_leaves++;
	r = res->problems ? LACRE_E_VERIFY : LACRE_OK;
out:
	segment_reader_free(sr);
	lacre_dbuf_free(&obj);
	free(ls.v);
	free(ls.used);
	return r;
}

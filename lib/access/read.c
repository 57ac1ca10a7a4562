/*
 * read.c - audit-side reads of sealed records (see include/lacre/access.h).
 *
 * For each segment object on the backend (name order, which is random), the
 * first bytes are fetched with a range read and the identity is tried on
 * the age header alone; only segments it opens are fetched whole and read
 * with the segment reader, which verifies every chunk tag before any
 * record leaves it.  Segments are then returned in creation order (the
 * time in their authenticated header), so a warrant's records come out in
 * the order they were sealed.
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lacre/access.h"
#include "lacre/err.h"
#include "lacre/segment.h"

#define ACCESS_HEAD_BYTES 4096              /* enough for an age header with a few stanzas */
#define ACCESS_SEGMENT_MAX ((size_t)1 << 31) /* cap on one segment object read */

struct access_name {
	char name[LACRE_STORE_NAME_MAX + 1];
	uint64_t size;
	int64_t created_us;
};

struct access_list {
	struct access_name *v;
	size_t n, cap;
};

/* lacre_store_list callback: collect segment names. */
static int access_collect(void *arg, const char *name, uint64_t size)
{
	struct access_list *l = arg;
	struct access_name *nv;

	if (l->n == l->cap) {
		size_t nc = l->cap ? l->cap * 2 : 64;
		nv = realloc(l->v, nc * sizeof(*nv));
		if (!nv)
			return LACRE_E_NOMEM;
		l->v = nv;
		l->cap = nc;
	}
	if (strlen(name) > LACRE_STORE_NAME_MAX)
		return LACRE_E_TOO_LARGE;
	snprintf(l->v[l->n].name, sizeof(l->v[l->n].name), "%s", name);
	l->v[l->n].size = size;
	l->v[l->n].created_us = 0;
	l->n++;
	return LACRE_OK;
}

/* Sort by creation time, then name (stable, deterministic output). */
static int access_cmp(const void *a, const void *b)
{
	const struct access_name *x = a, *y = b;
	if (x->created_us != y->created_us)
		return x->created_us < y->created_us ? -1 : 1;
	return strcmp(x->name, y->name);
}

void access_filter_init(struct access_filter *f)
{
	memset(f, 0, sizeof(*f));
	f->from_us = INT64_MIN;
	f->to_us = INT64_MAX;
}

/* Whether a record passes the filter. */
static int access_match(const struct access_filter *f, const struct frame_record *r)
{
	int64_t t = r->time_kind ? r->time_us : r->recv_us;
	int is_event = r->route == FRAME_ROUTE_QUARANTINE && r->reason.len == 5 &&
		       !memcmp(r->reason.p, "event", 5);

	if (f->quarantine && r->route != FRAME_ROUTE_QUARANTINE)
		return 0;
	if (!f->quarantine && r->route != FRAME_ROUTE_WARRANT)
		return 0;
	if (is_event && !f->events)
		return 0;
	if (f->warrant && (r->warrant.len != strlen(f->warrant) ||
			   memcmp(r->warrant.p, f->warrant, r->warrant.len)))
		return 0;
	if (t < f->from_us || t >= f->to_us)
		return 0;
	if (f->has_cin && (!r->has_cin || r->cin != f->cin))
		return 0;
	return 1;
}

/* Report one damaged segment. */
static void access_problem(void (*problem)(void *, const char *, int, const char *), void *arg,
			   const char *seg, int err, const char *what, struct access_report *rep,
			   int *first)
{
	rep->problems++;
	if (!*first)
		*first = err;
	if (problem)
		problem(arg, seg, err, what);
}

/* Does the identity open this segment?  Reads only its first bytes.
 * Returns 1 (yes), 0 (not this identity's), or a negative error. */
static int access_opens(struct lacre_store *store, const struct access_name *nm,
			const struct age_x25519_identity *id, struct lacre_dbuf *buf)
{
	struct age_reader *ar = NULL;
	int r;

	lacre_dbuf_reset(buf);
	r = lacre_store_get(store, nm->name, 0, ACCESS_HEAD_BYTES, buf);
	if (r != LACRE_OK)
		return r;
	r = age_reader_new(buf->p, buf->len, id, &ar);
	age_reader_free(ar);
	if (r == LACRE_E_AUTH)
		return 0;
	/* opened, or damaged in a way only a full read can tell apart */
	return 1;
}

int access_read(struct lacre_store *store, const struct age_x25519_identity *id,
		const struct access_filter *f,
		int (*fn)(void *arg, const struct access_record *r), void *arg,
		void (*problem)(void *arg, const char *segment, int err, const char *what),
		struct access_report *rep_out)
{
	struct access_list l = { 0 };
	struct access_report rep = { 0 };
	struct lacre_dbuf buf;
	struct segment_reader *sr = NULL;
	struct frame_record rec;
	struct access_record ar;
	size_t i, kept = 0;
	int r, first = 0, done, op;

	lacre_dbuf_init(&buf, ACCESS_SEGMENT_MAX);
	lacre_dbuf_set_secret(&buf);
	r = lacre_store_list(store, ACCESS_SEGMENT_PREFIX, access_collect, &l);
	if (r != LACRE_OK)
		goto out;
	rep.segments_listed = l.n;
	/* pass 1: which segments are ours, and when were they created */
	for (i = 0; i < l.n; i++) {
		const char *base = l.v[i].name + strlen(ACCESS_SEGMENT_PREFIX);
		op = access_opens(store, &l.v[i], id, &buf);
		if (op < 0) {
			access_problem(problem, arg, l.v[i].name, op,
				       "cannot read the segment header", &rep, &first);
			continue;
		}
		if (op == 0)
			continue;
		lacre_dbuf_reset(&buf);
		r = lacre_store_get(store, l.v[i].name, 0, SIZE_MAX, &buf);
		if (r == LACRE_OK && buf.len != l.v[i].size)
			r = LACRE_E_TRUNCATED;
		if (r == LACRE_OK)
			r = segment_reader_new(buf.p, buf.len, id, base, &sr);
		if (r == LACRE_E_AUTH) /* the header names other recipients after all */
			continue;
		if (r != LACRE_OK) {
			access_problem(problem, arg, l.v[i].name, r,
				       "the segment does not open", &rep, &first);
			continue;
		}
		l.v[kept] = l.v[i];
		l.v[kept].created_us = segment_reader_header(sr)->created_us;
		kept++;
		segment_reader_free(sr);
		sr = NULL;
	}
	qsort(l.v, kept, sizeof(*l.v), access_cmp);
	rep.segments_opened = kept;
	/* pass 2: read the records, in creation order */
	for (i = 0; i < kept; i++) {
		const char *base = l.v[i].name + strlen(ACCESS_SEGMENT_PREFIX);
		uint64_t idx = 0;

		lacre_dbuf_reset(&buf);
		r = lacre_store_get(store, l.v[i].name, 0, SIZE_MAX, &buf);
		if (r == LACRE_OK)
			r = segment_reader_new(buf.p, buf.len, id, base, &sr);
		if (r != LACRE_OK) {
			access_problem(problem, arg, l.v[i].name, r,
				       "the segment changed while it was read", &rep, &first);
			continue;
		}
		for (;;) {
			r = segment_reader_next(sr, &rec, &done);
			if (r != LACRE_OK) {
				access_problem(problem, arg, l.v[i].name, r,
					       r == LACRE_E_TRUNCATED ? "the segment is truncated"
					       : "a chunk or frame failed its check",
					       &rep, &first);
				break;
			}
			if (done)
				break;
			if (access_match(f, &rec)) {
				ar.rec = &rec;
				ar.segment = l.v[i].name;
				ar.index = idx;
				rep.records++;
				if ((r = fn(arg, &ar)) != 0) {
					segment_reader_free(sr);
					sr = NULL;
					goto out;
				}
			}
			idx++;
		}
		segment_reader_free(sr);
		sr = NULL;
	}
	r = first;
out:
	segment_reader_free(sr);
	lacre_dbuf_free(&buf);
	free(l.v);
	if (rep_out)
		*rep_out = rep;
	return r;
}

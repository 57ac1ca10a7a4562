/*
 * completeness.c - the stream-completeness report of an evidence package
 * (include/lacre/package.h, docs/FORMATS.md §9.5): per (LIID, CIN, IRI|CC)
 * stream, the sequence numbers present, the gaps between them, duplicates
 * and resets, computed from the records in export order.  lacre export
 * writes it; lacre-verify recomputes it from the records it has verified and
 * compares byte for byte, so the report cannot say anything the records do
 * not.  Depends on the JSON writer only.
 */
#include <stdlib.h>
#include <string.h>

#include "lacre/err.h"
#include "lacre/json.h"
#include "lacre/package.h"

#define COMPL_GAPS_LISTED 64

/* A record reference for sorting: stream key first, then export order. */
struct compl_ref {
	const struct completeness_item *it;
	size_t pos;
	int cls;                  /* 1 iri, 2 cc */
};

/* Order by stream (LIID bytes, CIN presence, CIN, class), then position. */
static int compl_cmp(const void *a, const void *b)
{
	const struct compl_ref *x = a, *y = b;
	size_t n = x->it->liid_len < y->it->liid_len ? x->it->liid_len : y->it->liid_len;
	int c = n ? memcmp(x->it->liid, y->it->liid, n) : 0;

	if (c)
		return c;
	if (x->it->liid_len != y->it->liid_len)
		return x->it->liid_len < y->it->liid_len ? -1 : 1;
	if (x->it->has_cin != y->it->has_cin)
		return x->it->has_cin < y->it->has_cin ? -1 : 1;
	if (x->it->cin != y->it->cin)
		return x->it->cin < y->it->cin ? -1 : 1;
	if (x->cls != y->cls)
		return x->cls < y->cls ? -1 : 1;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* Same stream? */
static int compl_same(const struct compl_ref *x, const struct compl_ref *y)
{
	return x->it->liid_len == y->it->liid_len &&
	       (x->it->liid_len == 0 || !memcmp(x->it->liid, y->it->liid, x->it->liid_len)) &&
	       x->it->has_cin == y->it->has_cin && x->it->cin == y->it->cin && x->cls == y->cls;
}

/* uint64 comparator. */
static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Write one epoch: the distinct numbers seq[0..n) (sorted here). */
static uint64_t compl_epoch(struct json_w *w, uint64_t *seq, size_t n)
{
	uint64_t missing = 0;
	size_t i, listed = 0;

	qsort(seq, n, sizeof(*seq), u64_cmp);
	json_obj_begin(w);
	json_kv_uint(w, "first", seq[0]);
	json_kv_uint(w, "last", seq[n - 1]);
	json_kv_uint(w, "count", n);
	for (i = 1; i < n; i++)
		missing += seq[i] - seq[i - 1] - 1;
	json_kv_uint(w, "missing", missing);
	json_key(w, "gaps");
	json_arr_begin(w);
	for (i = 1; i < n && listed < COMPL_GAPS_LISTED; i++)
		if (seq[i] - seq[i - 1] > 1) {
			json_arr_begin(w);
			json_uint(w, seq[i - 1] + 1);
			json_uint(w, seq[i] - 1);
			json_arr_end(w);
			listed++;
		}
	json_arr_end(w);
	json_obj_end(w);
	return missing;
}

/* One stream: refs r[0..n) in export order.  scratch, sorted and stime have
 * room for n entries; sorted keeps the current epoch's numbers in order
 * (an insertion at the end for the usual increasing stream) and stime the
 * time first seen with each. */
static int compl_stream(struct json_w *w, const struct compl_ref *r, size_t n, uint64_t *scratch,
			uint64_t *sorted, int64_t *stime)
{
	size_t i, k = 0, excluded = 0, start = 0;
	uint64_t dups = 0, resets = 0, missing = 0, prev = 0;
	size_t *bounds;
	size_t nb = 0;

	if ((bounds = malloc((n + 1) * sizeof(*bounds))) == NULL)
		return LACRE_E_NOMEM;
	/* pass 1: split into epochs and count duplicates; scratch holds the
	 * distinct numbers of each epoch back to back */
	bounds[nb++] = 0;
	for (i = 0; i < n; i++) {
		uint64_t s = r[i].it->seq;
		int seen;
		size_t m = k - start, lo = 0, hi;

		if (r[i].it->excluded)
			excluded++;
		/* membership in the current epoch: sorted[] mirrors scratch[start..k) sorted */
		hi = m;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (sorted[mid] < s)
				lo = mid + 1;
			else
				hi = mid;
		}
		seen = lo < m && sorted[lo] == s;
		if (seen && stime[lo] == r[i].it->time_us) {
			dups++;
			continue;
		}
		if (k > start && (seen || s < prev)) {
			resets++;
			start = k;
			bounds[nb++] = k;
			m = 0;
			lo = 0;
		}
		memmove(sorted + lo + 1, sorted + lo, (m - lo) * sizeof(*sorted));
		memmove(stime + lo + 1, stime + lo, (m - lo) * sizeof(*stime));
		sorted[lo] = s;
		stime[lo] = r[i].it->time_us;
		scratch[k++] = s;
		prev = s;
	}
	bounds[nb] = k;
	json_obj_begin(w);
	json_key(w, "liid");
	json_str_or_hex(w, r[0].it->liid, r[0].it->liid_len);
	if (r[0].it->has_cin)
		json_kv_uint(w, "cin", r[0].it->cin);
	else
		json_kv_null(w, "cin");
	json_kv_str(w, "class", r[0].cls == 1 ? "iri" : "cc");
	json_kv_uint(w, "records", n);
	json_kv_uint(w, "excluded", excluded);
	json_kv_uint(w, "duplicates", dups);
	json_kv_uint(w, "resets", resets);
	json_key(w, "epochs");
	json_arr_begin(w);
	for (i = 0; i < nb; i++)
		missing += compl_epoch(w, scratch + bounds[i], bounds[i + 1] - bounds[i]);
	json_arr_end(w);
	json_kv_uint(w, "missing", missing);
	json_obj_end(w);
	free(bounds);
	return LACRE_OK;
}

/* The report (see package.h). */
int package_completeness(const struct completeness_item *it, size_t n, struct lacre_dbuf *out)
{
	struct compl_ref *refs = NULL;
	uint64_t *scratch = NULL, *sorted = NULL;
	int64_t *stime = NULL;
	struct json_w w;
	size_t i, nr = 0, other = 0, a, b;
	int r = LACRE_OK;

	refs = malloc((n ? n : 1) * sizeof(*refs));
	scratch = malloc((n ? n : 1) * sizeof(*scratch));
	sorted = malloc((n ? n : 1) * sizeof(*sorted));
	stime = malloc((n ? n : 1) * sizeof(*stime));
	if (!refs || !scratch || !sorted || !stime) {
		r = LACRE_E_NOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (it[i].kind != 1 && it[i].kind != 2) {
			other++;
			continue;
		}
		refs[nr].it = &it[i];
		refs[nr].pos = i;
		refs[nr].cls = it[i].kind;
		nr++;
	}
	qsort(refs, nr, sizeof(*refs), compl_cmp);
	json_init(&w, out);
	json_obj_begin(&w);
	json_kv_str(&w, "format", "lacre-completeness/v1");
	json_kv_uint(&w, "records", n);
	json_kv_uint(&w, "other", other);
	json_key(&w, "streams");
	json_arr_begin(&w);
	for (a = 0; a < nr; a = b) {
		for (b = a + 1; b < nr && compl_same(&refs[a], &refs[b]); b++)
			;
		if ((r = compl_stream(&w, refs + a, b - a, scratch, sorted, stime)) != LACRE_OK)
			goto out;
	}
	json_arr_end(&w);
	json_obj_end(&w);
	if ((r = json_finish(&w)) == LACRE_OK)
		r = lacre_dbuf_add_u8(out, '\n');
out:
	free(refs);
	free(scratch);
	free(sorted);
	free(stime);
	return r;
}

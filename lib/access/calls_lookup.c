/*
 * calls_lookup.c - Call-ID and CIN lookups for the call correlation
 * (calls_lookup.h says what and why).
 *
 * Two open-addressed hash tables with linear probing, kept at most half
 * full so that a probe ends at an empty slot soon.  The keys come from
 * recorded traffic: the hash is not keyed, so a crafted set of Call-IDs
 * could make the probes long, but never longer than the linear scan over
 * every call that calls.c did before, and never wrong.
 */
#include <stdlib.h>
#include <string.h>

#include "calls_lookup.h"
#include "lacre/err.h"

#define CALLS_LOOKUP_MIN 64   /* first table size (slots) */

/* FNV-1a of a NUL-terminated string. */
static uint64_t lookup_hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h ^ (h >> 29);
}

/* Fibonacci hash of a CIN (spreads consecutive CINs over the table). */
static uint64_t lookup_hash_cin(uint32_t cin)
{
	uint64_t h = (uint64_t)cin * 0x9e3779b97f4a7c15ull;

	return h ^ (h >> 32);
}

void calls_lookup_init(struct calls_lookup *l)
{
	memset(l, 0, sizeof(*l));
}

void calls_lookup_free(struct calls_lookup *l)
{
	for (size_t i = 0; i < l->cap_ids; i++)
		free(l->ids[i].key);
	for (size_t i = 0; i < l->cap_cins; i++)
		free(l->cins[i].calls);
	free(l->ids);
	free(l->cins);
	calls_lookup_init(l);
}

/* The slot of id in a table of cap slots (cap a power of two): the one
 * holding it, or the empty one where it would go. */
static size_t lookup_id_slot(const struct calls_lookup_id *t, size_t cap, const char *id)
{
	size_t s = (size_t)lookup_hash_str(id) & (cap - 1);

	while (t[s].key && strcmp(t[s].key, id))
		s = (s + 1) & (cap - 1);
	return s;
}

/* The slot of cin in a table of cap slots: the one holding it, or the
 * empty one where it would go. */
static size_t lookup_cin_slot(const struct calls_lookup_cin *t, size_t cap, uint32_t cin)
{
	size_t s = (size_t)lookup_hash_cin(cin) & (cap - 1);

	while (t[s].n && t[s].cin != cin)
		s = (s + 1) & (cap - 1);
	return s;
}

/* Make room for one more Call-ID (doubling, rehashing); LACRE_E_NOMEM. */
static int lookup_id_room(struct calls_lookup *l)
{
	struct calls_lookup_id *t;
	size_t cap;

	if (l->cap_ids && (l->n_ids + 1) * 2 <= l->cap_ids)
		return LACRE_OK;
	cap = l->cap_ids ? l->cap_ids * 2 : CALLS_LOOKUP_MIN;
	if (cap < l->cap_ids || cap > SIZE_MAX / sizeof(*t) || (t = calloc(cap, sizeof(*t))) == NULL)
		return LACRE_E_NOMEM;
	for (size_t i = 0; i < l->cap_ids; i++)
		if (l->ids[i].key)
			t[lookup_id_slot(t, cap, l->ids[i].key)] = l->ids[i];
	free(l->ids);
	l->ids = t;
	l->cap_ids = cap;
	return LACRE_OK;
}

/* Make room for one more CIN (doubling, rehashing); LACRE_E_NOMEM. */
static int lookup_cin_room(struct calls_lookup *l)
{
	struct calls_lookup_cin *t;
	size_t cap;

	if (l->cap_cins && (l->n_cins + 1) * 2 <= l->cap_cins)
		return LACRE_OK;
	cap = l->cap_cins ? l->cap_cins * 2 : CALLS_LOOKUP_MIN;
	if (cap < l->cap_cins || cap > SIZE_MAX / sizeof(*t) || (t = calloc(cap, sizeof(*t))) == NULL)
		return LACRE_E_NOMEM;
	for (size_t i = 0; i < l->cap_cins; i++)
		if (l->cins[i].n)
			t[lookup_cin_slot(t, cap, l->cins[i].cin)] = l->cins[i];
	free(l->cins);
	l->cins = t;
	l->cap_cins = cap;
	return LACRE_OK;
}

int calls_lookup_id_add(struct calls_lookup *l, const char *id, size_t call)
{
	size_t s, len;
	char *k;

	if (l->cap_ids && l->ids[lookup_id_slot(l->ids, l->cap_ids, id)].key)
		return LACRE_OK;   /* the first call keeps its Call-ID */
	if (lookup_id_room(l) != LACRE_OK)
		return LACRE_E_NOMEM;
	len = strlen(id);
	if ((k = malloc(len + 1)) == NULL)
		return LACRE_E_NOMEM;
	memcpy(k, id, len + 1);
	s = lookup_id_slot(l->ids, l->cap_ids, id);
	l->ids[s].key = k;
	l->ids[s].call = call;
	l->n_ids++;
	return LACRE_OK;
}

long calls_lookup_id_find(const struct calls_lookup *l, const char *id)
{
	size_t s;

	if (!l->cap_ids)
		return -1;
	s = lookup_id_slot(l->ids, l->cap_ids, id);
	return l->ids[s].key ? (long)l->ids[s].call : -1;
}

int calls_lookup_cin_add(struct calls_lookup *l, uint32_t cin, size_t call)
{
	struct calls_lookup_cin *e;
	size_t s;

	if (lookup_cin_room(l) != LACRE_OK)
		return LACRE_E_NOMEM;
	s = lookup_cin_slot(l->cins, l->cap_cins, cin);
	e = &l->cins[s];
	if (e->n && e->calls[e->n - 1] == call)
		return LACRE_OK;
	if (e->n == e->cap) {
		size_t nc = e->cap ? e->cap * 2 : 2;
		size_t *np;
		if (nc < e->cap || nc > SIZE_MAX / sizeof(*np) ||
		    (np = realloc(e->calls, nc * sizeof(*np))) == NULL)
			return LACRE_E_NOMEM;
		e->calls = np;
		e->cap = nc;
	}
	if (!e->n)
		l->n_cins++;
	e->cin = cin;
	e->calls[e->n++] = call;
	return LACRE_OK;
}

const size_t *calls_lookup_cin_calls(const struct calls_lookup *l, uint32_t cin, size_t *n)
{
	size_t s;

	*n = 0;
	if (!l->cap_cins)
		return NULL;
	s = lookup_cin_slot(l->cins, l->cap_cins, cin);
	if (!l->cins[s].n)
		return NULL;
	*n = l->cins[s].n;
	return l->cins[s].calls;
}

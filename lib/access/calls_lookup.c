/*
 * calls_lookup.c - Call-ID and CIN lookups for the call correlation
 * (calls_lookup.h says what and why).
 *
 * Two open-addressed hash tables with linear probing, kept at most half
 * full so that a probe ends at an empty slot soon.  The keys come from the
 * network: a SIP Call-ID is chosen by whoever placed the call (the
 * target's phone, or an attacker calling it), a CIN by the operator's
 * mediation.  With a public hash (FNV-1a before) a chosen set of keys can
 * all land on one slot and make building the tables quadratic; the hash is
 * therefore SipHash-2-4 under a key drawn once per process from
 * RAND_bytes (lib/util/siphash.c), which nobody outside the process
 * knows.  Only the time of a listing depends on the key: the tables are
 * never walked in slot order, so what calls.c prints does not.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "calls_lookup.h"
#include "lacre/err.h"
#include "lacre/siphash.h"

#define CALLS_LOOKUP_MIN 64   /* first table size (slots) */

/* The process's hash key, drawn at the first add.  Not wiped: it guards
 * only the tables' probe lengths, lives as long as the process, and no
 * record or file depends on it. */
static uint8_t lookup_key[LACRE_SIPHASH_KEY];
static int lookup_key_ok;
static pthread_once_t lookup_key_once = PTHREAD_ONCE_INIT;

static void lookup_key_draw(void)
{
	lookup_key_ok = RAND_bytes(lookup_key, sizeof(lookup_key)) == 1;
}

/* LACRE_OK once the key is drawn, LACRE_E_CRYPTO when RAND_bytes failed
 * (then no table is ever made). */
static int lookup_key_ready(void)
{
	pthread_once(&lookup_key_once, lookup_key_draw);
	return lookup_key_ok ? LACRE_OK : LACRE_E_CRYPTO;
}

/* The keyed hash of a NUL-terminated Call-ID. */
static uint64_t lookup_hash_str(const char *s)
{
	return lacre_siphash24(lookup_key, s, strlen(s));
}

/* The keyed hash of a CIN (its four bytes, little-endian). */
static uint64_t lookup_hash_cin(uint32_t cin)
{
	uint8_t b[4] = { (uint8_t)cin, (uint8_t)(cin >> 8), (uint8_t)(cin >> 16), (uint8_t)(cin >> 24) };

	return lacre_siphash24(lookup_key, b, sizeof(b));
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
 * holding it, or the empty one where it would go.  Adds the slots looked
 * at to *steps. */
static size_t lookup_id_slot(const struct calls_lookup_id *t, size_t cap, const char *id,
			     uint64_t *steps)
{
	size_t s = (size_t)lookup_hash_str(id) & (cap - 1);

	for ((*steps)++; t[s].key && strcmp(t[s].key, id); (*steps)++)
		s = (s + 1) & (cap - 1);
	return s;
}

/* The slot of cin in a table of cap slots: the one holding it, or the
 * empty one where it would go.  Adds the slots looked at to *steps. */
static size_t lookup_cin_slot(const struct calls_lookup_cin *t, size_t cap, uint32_t cin,
			      uint64_t *steps)
{
	size_t s = (size_t)lookup_hash_cin(cin) & (cap - 1);

	for ((*steps)++; t[s].n && t[s].cin != cin; (*steps)++)
		s = (s + 1) & (cap - 1);
	return s;
}

/* Make room for one more Call-ID (doubling, rehashing); LACRE_E_NOMEM,
 * or LACRE_E_CRYPTO before the first table when no key could be drawn. */
static int lookup_id_room(struct calls_lookup *l)
{
	struct calls_lookup_id *t;
	size_t cap;

	if (l->cap_ids && (l->n_ids + 1) * 2 <= l->cap_ids)
		return LACRE_OK;
	if (lookup_key_ready() != LACRE_OK)
		return LACRE_E_CRYPTO;
	cap = l->cap_ids ? l->cap_ids * 2 : CALLS_LOOKUP_MIN;
	if (cap < l->cap_ids || cap > SIZE_MAX / sizeof(*t) || (t = calloc(cap, sizeof(*t))) == NULL)
		return LACRE_E_NOMEM;
	for (size_t i = 0; i < l->cap_ids; i++)
		if (l->ids[i].key)
			t[lookup_id_slot(t, cap, l->ids[i].key, &l->steps)] = l->ids[i];
	free(l->ids);
	l->ids = t;
	l->cap_ids = cap;
	return LACRE_OK;
}

/* Make room for one more CIN (doubling, rehashing); LACRE_E_NOMEM, or
 * LACRE_E_CRYPTO as above. */
static int lookup_cin_room(struct calls_lookup *l)
{
	struct calls_lookup_cin *t;
	size_t cap;

	if (l->cap_cins && (l->n_cins + 1) * 2 <= l->cap_cins)
		return LACRE_OK;
	if (lookup_key_ready() != LACRE_OK)
		return LACRE_E_CRYPTO;
	cap = l->cap_cins ? l->cap_cins * 2 : CALLS_LOOKUP_MIN;
	if (cap < l->cap_cins || cap > SIZE_MAX / sizeof(*t) || (t = calloc(cap, sizeof(*t))) == NULL)
		return LACRE_E_NOMEM;
	for (size_t i = 0; i < l->cap_cins; i++)
		if (l->cins[i].n)
			t[lookup_cin_slot(t, cap, l->cins[i].cin, &l->steps)] = l->cins[i];
	free(l->cins);
	l->cins = t;
	l->cap_cins = cap;
	return LACRE_OK;
}

int calls_lookup_id_add(struct calls_lookup *l, const char *id, size_t call)
{
	size_t s, len;
	char *k;
	int r;

	if (l->cap_ids && l->ids[lookup_id_slot(l->ids, l->cap_ids, id, &l->steps)].key)
		return LACRE_OK;   /* the first call keeps its Call-ID */
	if ((r = lookup_id_room(l)) != LACRE_OK)
		return r;
	len = strlen(id);
	if ((k = malloc(len + 1)) == NULL)
		return LACRE_E_NOMEM;
	memcpy(k, id, len + 1);
	s = lookup_id_slot(l->ids, l->cap_ids, id, &l->steps);
	l->ids[s].key = k;
	l->ids[s].call = call;
	l->n_ids++;
	return LACRE_OK;
}

long calls_lookup_id_find(const struct calls_lookup *l, const char *id)
{
	uint64_t steps = 0;
	size_t s;

	if (!l->cap_ids)
		return -1;
	s = lookup_id_slot(l->ids, l->cap_ids, id, &steps);
	return l->ids[s].key ? (long)l->ids[s].call : -1;
}

int calls_lookup_cin_add(struct calls_lookup *l, uint32_t cin, size_t call)
{
	struct calls_lookup_cin *e;
	size_t s;
	int r;

	if ((r = lookup_cin_room(l)) != LACRE_OK)
		return r;
	s = lookup_cin_slot(l->cins, l->cap_cins, cin, &l->steps);
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
	uint64_t steps = 0;
	size_t s;

	*n = 0;
	if (!l->cap_cins)
		return NULL;
	s = lookup_cin_slot(l->cins, l->cap_cins, cin, &steps);
	if (!l->cins[s].n)
		return NULL;
	*n = l->cins[s].n;
	return l->cins[s].calls;
}

/*
 * calls_lookup.h - the call correlation's lookups (lib/access/calls.c):
 * from a SIP Call-ID to the first call that has it, and from a CIN to
 * every call whose CIN list holds it, in the order the calls were made.
 *
 * Why: calls.c used to find a record's call by scanning every call found
 * so far, so listing a warrant of n calls cost O(n^2) string compares
 * (10,000 calls: ~2 s, issue 13).  These tables answer the same questions
 * in expected constant time; calls.c keeps its own rules (which of a
 * CIN's calls a record joins) and walks the short list this returns.
 *
 * Calls are named by their index in calls.c's work array, which stays
 * put while the lookups are in use (the array is sorted only after).
 * Keys are copied: the table never points into that array, which moves
 * when it grows.  Both tables are open-addressed (linear probing, at most
 * half full, grown by doubling); nothing is ever removed.  The hash is
 * SipHash-2-4 under a per-process random key: Call-IDs come from the
 * network, and with a public hash chosen ones could all collide and make
 * a listing quadratic again (calls_lookup.c).
 */
#ifndef LACRE_ACCESS_CALLS_LOOKUP_H
#define LACRE_ACCESS_CALLS_LOOKUP_H

#include <stddef.h>
#include <stdint.h>

/* One Call-ID slot: key NULL when empty. */
struct calls_lookup_id {
	char *key;
	size_t call;
};

/* One CIN slot: n 0 when empty; calls[] in increasing call order. */
struct calls_lookup_cin {
	uint32_t cin;
	size_t n, cap;
	size_t *calls;
};

struct calls_lookup {
	struct calls_lookup_id *ids;
	size_t n_ids, cap_ids;          /* cap a power of two, or 0 */
	struct calls_lookup_cin *cins;
	size_t n_cins, cap_cins;
	uint64_t steps;                 /* slots the adds looked at (growth
	                                 * included): the tables' work, as a
	                                 * count (test_calls_lookup) */
};

/* An empty lookup (no allocation until the first add). */
void calls_lookup_init(struct calls_lookup *l);

/* Frees everything l holds; l is empty (initialised) again after. */
void calls_lookup_free(struct calls_lookup *l);

/* Remember that call has Call-ID id (a non-empty string, copied).  When
 * id is already known the first call keeps it and nothing changes.
 * LACRE_OK, LACRE_E_NOMEM, or LACRE_E_CRYPTO (no random hash key could
 * be drawn); the tables unchanged on error. */
int calls_lookup_id_add(struct calls_lookup *l, const char *id, size_t call);

/* The first call added with Call-ID id (compared whole, byte for byte),
 * or -1 when none. */
long calls_lookup_id_find(const struct calls_lookup *l, const char *id);

/* Remember that call's CIN list holds cin.  Calls of one CIN must be
 * added in increasing call order (calls.c adds a CIN to a call only
 * once); a call equal to the last one added for cin is ignored.
 * LACRE_OK, LACRE_E_NOMEM or LACRE_E_CRYPTO (as above; the tables
 * unchanged on error). */
int calls_lookup_cin_add(struct calls_lookup *l, uint32_t cin, size_t call);

/* The calls whose CIN list holds cin, in increasing order; *n their
 * count (0, and NULL returned, when none).  Valid until the next add. */
const size_t *calls_lookup_cin_calls(const struct calls_lookup *l, uint32_t cin, size_t *n);

#endif

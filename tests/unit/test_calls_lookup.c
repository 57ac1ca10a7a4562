/*
 * test_calls_lookup.c - the call correlation's Call-ID and CIN tables
 * (lib/access/calls_lookup.c): the first call keeps a Call-ID, a Call-ID
 * is compared whole (a prefix or a longer string is another), CIN 0 is a
 * CIN like any other, a CIN's calls come back in the order added, and all
 * of it still holds after the tables grew many times; and keys chosen to
 * collide under the public hashes the tables used before (FNV-1a for
 * Call-IDs, a Fibonacci hash for CINs) are all found, with a linear count
 * of probe steps (calls_lookup.steps: slots looked at), where the old
 * hashes took a quadratic one.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "access/calls_lookup.h"
#include "lacre/err.h"

/* Call-IDs: first call wins, whole-string compare, unknown is -1. */
static void test_ids(void)
{
	struct calls_lookup l;

	calls_lookup_init(&l);
	CHECK_EQ_INT(calls_lookup_id_find(&l, "a@x"), -1);
	CHECK_OK(calls_lookup_id_add(&l, "a@x", 3));
	CHECK_OK(calls_lookup_id_add(&l, "a@x", 7));      /* seen again: the first keeps it */
	CHECK_OK(calls_lookup_id_add(&l, "a@x2", 9));
	CHECK_EQ_INT(calls_lookup_id_find(&l, "a@x"), 3);
	CHECK_EQ_INT(calls_lookup_id_find(&l, "a@x2"), 9);
	CHECK_EQ_INT(calls_lookup_id_find(&l, "a@"), -1);
	CHECK_EQ_INT(calls_lookup_id_find(&l, "a@x23"), -1);
	CHECK_EQ_INT(l.n_ids, 2);
	calls_lookup_free(&l);
	CHECK_EQ_INT(calls_lookup_id_find(&l, "a@x"), -1);
}

/* CINs: lists in order, CIN 0, a repeated last call ignored. */
static void test_cins(void)
{
	struct calls_lookup l;
	const size_t *ks;
	size_t n;

	calls_lookup_init(&l);
	CHECK(calls_lookup_cin_calls(&l, 0, &n) == NULL && n == 0);
	CHECK_OK(calls_lookup_cin_add(&l, 0, 1));
	CHECK_OK(calls_lookup_cin_add(&l, 42, 2));
	CHECK_OK(calls_lookup_cin_add(&l, 0, 4));
	CHECK_OK(calls_lookup_cin_add(&l, 0, 4));
	CHECK_OK(calls_lookup_cin_add(&l, 0, 5));
	CHECK_OK(calls_lookup_cin_add(&l, UINT32_MAX, 6));
	ks = calls_lookup_cin_calls(&l, 0, &n);
	CHECK_EQ_INT(n, 3);
	CHECK(ks && ks[0] == 1 && ks[1] == 4 && ks[2] == 5);
	ks = calls_lookup_cin_calls(&l, 42, &n);
	CHECK(n == 1 && ks && ks[0] == 2);
	ks = calls_lookup_cin_calls(&l, UINT32_MAX, &n);
	CHECK(n == 1 && ks && ks[0] == 6);
	CHECK(calls_lookup_cin_calls(&l, 43, &n) == NULL && n == 0);
	CHECK_EQ_INT(l.n_cins, 3);
	calls_lookup_free(&l);
}

/* 20,000 Call-IDs and CINs (the tables double many times): every one
 * found with its call, none that was not added. */
static void test_growth(void)
{
	enum { N = 20000 };
	struct calls_lookup l;
	char id[48];
	const size_t *ks;
	size_t n;

	calls_lookup_init(&l);
	for (size_t i = 0; i < N; i++) {
		snprintf(id, sizeof(id), "%zx@host", i * 7919);
		CHECK_OK(calls_lookup_id_add(&l, id, i));
		CHECK_OK(calls_lookup_cin_add(&l, (uint32_t)(i / 2) * 65536u, i));
	}
	CHECK(l.cap_ids >= 2 * l.n_ids && l.cap_cins >= 2 * l.n_cins);
	for (size_t i = 0; i < N; i++) {
		snprintf(id, sizeof(id), "%zx@host", i * 7919);
		CHECK_EQ_INT(calls_lookup_id_find(&l, id), (long)i);
		ks = calls_lookup_cin_calls(&l, (uint32_t)(i / 2) * 65536u, &n);
		CHECK(n == 2 && ks && ks[i % 2] == i);
	}
	snprintf(id, sizeof(id), "%zx@host", (size_t)N * 7919);
	CHECK_EQ_INT(calls_lookup_id_find(&l, id), -1);
	CHECK(calls_lookup_cin_calls(&l, 1, &n) == NULL && n == 0);
	calls_lookup_free(&l);
}

/* The collision tests: N keys, all in one slot of the old hashes' tables
 * up to 2^COLL_BITS slots (the size the tables reach for N keys: at most
 * half full), and COLL_MORE more of them never added. */
enum { COLL_N = 3000, COLL_MORE = 200, COLL_BITS = 13 };

/* FNV-1a over the bytes of s, from state h (the first half of the hash
 * calls_lookup.c used for Call-IDs before). */
static uint64_t old_fnv(uint64_t h, const char *s)
{
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

/* The whole old Call-ID hash (FNV-1a, folded): what an attacker who knows
 * the code would aim at. */
static uint64_t old_hash_str(const char *s)
{
	uint64_t h = old_fnv(1469598103934665603ull, s);

	return h ^ (h >> 29);
}

/* The CIN hash it used before (Fibonacci). */
static uint64_t old_hash_cin(uint32_t cin)
{
	uint64_t h = (uint64_t)cin * 0x9e3779b97f4a7c15ull;

	return h ^ (h >> 32);
}

/* COLL_N + COLL_MORE Call-IDs of the form HHHHHHLL@attacker.example (hex)
 * whose old hash is 0 in its low COLL_BITS bits, into ids[] (32 bytes
 * each).  The hash of each HHHHHH is made once for its 256 LL. */
static void colliding_ids(char (*ids)[32])
{
	static const char hex[] = "0123456789abcdef", at[] = "@attacker.example";
	const uint64_t mask = ((uint64_t)1 << COLL_BITS) - 1;
	char hi[8], tail[3] = { 0 };
	size_t n = 0;

	for (unsigned k = 0; n < COLL_N + COLL_MORE; k++) {
		uint64_t hh;
		snprintf(hi, sizeof(hi), "%06x", k & 0xffffffu);
		hh = old_fnv(1469598103934665603ull, hi);
		for (unsigned lo = 0; lo < 256 && n < COLL_N + COLL_MORE; lo++) {
			uint64_t h;
			tail[0] = hex[lo >> 4];
			tail[1] = hex[lo & 15];
			h = old_fnv(old_fnv(hh, tail), at);
			if (((h ^ (h >> 29)) & mask) == 0) {
				memcpy(ids[n], hi, 6);
				memcpy(ids[n] + 6, tail, 2);
				memcpy(ids[n] + 8, at, sizeof(at));
				n++;
			}
		}
	}
}

/* Call-IDs that all collide under FNV: each found with its call, the
 * others not; building the table and finding every key again take a
 * number of probe steps linear in N (the old hash: N^2 / 2 and more). */
static void test_colliding_ids(void)
{
	char (*ids)[32] = calloc(COLL_N + COLL_MORE, sizeof(*ids));
	struct calls_lookup l;
	uint64_t build, find;

	CHECK(ids != NULL);
	colliding_ids(ids);
	/* the keys really are one slot of the old table, at every size */
	for (size_t i = 0; i < COLL_N + COLL_MORE; i++)
		CHECK((old_hash_str(ids[i]) & (((uint64_t)1 << COLL_BITS) - 1)) == 0);
	calls_lookup_init(&l);
	for (size_t i = 0; i < COLL_N; i++)
		CHECK_OK(calls_lookup_id_add(&l, ids[i], i));
	CHECK_EQ_INT(l.n_ids, COLL_N);
	CHECK(l.cap_ids <= ((size_t)1 << COLL_BITS));
	build = l.steps;
	for (size_t i = 0; i < COLL_N; i++)
		CHECK_OK(calls_lookup_id_add(&l, ids[i], i + COLL_N));   /* known: a lookup */
	find = l.steps - build;
	for (size_t i = 0; i < COLL_N; i++)
		CHECK_EQ_INT(calls_lookup_id_find(&l, ids[i]), (long)i);
	for (size_t i = COLL_N; i < COLL_N + COLL_MORE; i++)
		CHECK_EQ_INT(calls_lookup_id_find(&l, ids[i]), -1);
	printf("  %d Call-IDs in one FNV slot: %llu probe steps to build, %llu to look all up "
	       "(FNV: over %llu)\n", COLL_N, (unsigned long long)build, (unsigned long long)find,
	       (unsigned long long)COLL_N * COLL_N / 2);
	CHECK(build <= 32 * (uint64_t)COLL_N);
	CHECK(find <= 4 * (uint64_t)COLL_N);
	calls_lookup_free(&l);
	free(ids);
}

/* CINs that all collide under the old Fibonacci hash: the same. */
static void test_colliding_cins(void)
{
	const uint64_t mask = ((uint64_t)1 << COLL_BITS) - 1;
	uint32_t *cins = calloc(COLL_N + COLL_MORE, sizeof(*cins));
	struct calls_lookup l;
	const size_t *ks;
	uint64_t build, find;
	size_t n = 0;

	CHECK(cins != NULL);
	for (uint32_t c = 1; n < COLL_N + COLL_MORE; c++)
		if ((old_hash_cin(c) & mask) == 0)
			cins[n++] = c;
	calls_lookup_init(&l);
	for (size_t i = 0; i < COLL_N; i++)
		CHECK_OK(calls_lookup_cin_add(&l, cins[i], i));
	CHECK_EQ_INT(l.n_cins, COLL_N);
	build = l.steps;
	for (size_t i = 0; i < COLL_N; i++)
		CHECK_OK(calls_lookup_cin_add(&l, cins[i], i));   /* its last call again: a lookup */
	find = l.steps - build;
	for (size_t i = 0; i < COLL_N; i++) {
		ks = calls_lookup_cin_calls(&l, cins[i], &n);
		CHECK(n == 1 && ks && ks[0] == i);
	}
	for (size_t i = COLL_N; i < COLL_N + COLL_MORE; i++)
		CHECK(calls_lookup_cin_calls(&l, cins[i], &n) == NULL && n == 0);
	printf("  %d CINs in one Fibonacci slot: %llu probe steps to build, %llu to look all up\n",
	       COLL_N, (unsigned long long)build, (unsigned long long)find);
	CHECK(build <= 32 * (uint64_t)COLL_N);
	CHECK(find <= 4 * (uint64_t)COLL_N);
	calls_lookup_free(&l);
	free(cins);
}

int main(void)
{
	RUN(test_ids);
	RUN(test_cins);
	RUN(test_growth);
	RUN(test_colliding_ids);
	RUN(test_colliding_cins);
	return t_done();
}

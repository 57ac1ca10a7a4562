/*
 * test_calls_lookup.c - the call correlation's Call-ID and CIN tables
 * (lib/access/calls_lookup.c): the first call keeps a Call-ID, a Call-ID
 * is compared whole (a prefix or a longer string is another), CIN 0 is a
 * CIN like any other, a CIN's calls come back in the order added, and all
 * of it still holds after the tables grew many times.
 */
#include <stdint.h>
#include <stdio.h>
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

int main(void)
{
	RUN(test_ids);
	RUN(test_cins);
	RUN(test_growth);
	return t_done();
}

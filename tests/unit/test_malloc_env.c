/*
 * test_malloc_env.c - the receiver's malloc settings
 * (lib/ingest/malloc_env.c, set by `lacre ingest`): added to an empty or
 * absent GLIBC_TUNABLES and after other tunables; an operator's own
 * glibc.malloc.hugetlb or glibc.malloc.top_pad is kept as it is (a name
 * that only begins the same is not theirs); a list that does not fit is
 * refused.
 */
#include <string.h>

#include "harness.h"
#include "lacre/err.h"
#include "ingest/malloc_env.h"

static void test_added(void)
{
	char out[512];

	CHECK_OK(ingest_malloc_tunables(NULL, out, sizeof(out)));
	CHECK_STR(out, INGEST_MALLOC_TUNABLES);
	CHECK_OK(ingest_malloc_tunables("", out, sizeof(out)));
	CHECK_STR(out, INGEST_MALLOC_TUNABLES);
	CHECK_OK(ingest_malloc_tunables("glibc.malloc.arena_max=2", out, sizeof(out)));
	CHECK_STR(out, "glibc.malloc.arena_max=2:" INGEST_MALLOC_TUNABLES);
	/* a longer name that begins like ours is another tunable */
	CHECK_OK(ingest_malloc_tunables("glibc.malloc.hugetlbx=0", out, sizeof(out)));
	CHECK_STR(out, "glibc.malloc.hugetlbx=0:" INGEST_MALLOC_TUNABLES);
}

static void test_operator_kept(void)
{
	char out[512];

	CHECK_OK(ingest_malloc_tunables("glibc.malloc.hugetlb=0", out, sizeof(out)));
	CHECK_STR(out, "glibc.malloc.hugetlb=0");
	CHECK_OK(ingest_malloc_tunables("glibc.malloc.arena_max=2:glibc.malloc.top_pad=0", out,
					sizeof(out)));
	CHECK_STR(out, "glibc.malloc.arena_max=2:glibc.malloc.top_pad=0");
}

static void test_too_long(void)
{
	char out[sizeof(INGEST_MALLOC_TUNABLES) + 4];

	CHECK_OK(ingest_malloc_tunables("a=1", out, sizeof(out)));
	CHECK(ingest_malloc_tunables("ab=1", out, sizeof(out)) == -1);
}

int main(void)
{
	RUN(test_added);
	RUN(test_operator_kept);
	RUN(test_too_long);
	return t_done();
}

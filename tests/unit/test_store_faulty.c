/*
 * test_store_faulty.c - the lying backend other modules test against:
 * flipped byte, truncation, hidden object, stale version after a replace,
 * lost puts, down; faults on one name leave the others alone, range reads
 * see the faulty bytes, and clearing restores the truth.
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "lacre/err.h"
#include "lacre/store.h"

/* A faulty store over a fresh dir: store. */
static struct lacre_store *open_faulty(void)
{
	char spec[PATH_MAX + 16];
	struct lacre_store *s = NULL;

	snprintf(spec, sizeof(spec), "faulty:dir:%s/o", t_tmpdir());
	if (lacre_store_open(spec, &s) != LACRE_OK)
		return NULL;
	return s;
}

/* Read all of name into b (reset first). */
static int get_all(struct lacre_store *s, const char *name, struct lacre_dbuf *b)
{
	lacre_dbuf_reset(b);
	return lacre_store_get(s, name, 0, SIZE_MAX, b);
}

struct sizes {
	char buf[512];
};

/* list callback: "name=size;" */
static int sizes_cb(void *arg, const char *name, uint64_t size)
{
	struct sizes *z = arg;
	size_t l = strlen(z->buf);

	snprintf(z->buf + l, sizeof(z->buf) - l, "%s=%llu;", name,
		 (unsigned long long)size);
	return 0;
}

static void test_flip_truncate_hide(void)
{
	struct lacre_store *s = open_faulty();
	struct lacre_dbuf b;
	struct sizes z;
	uint64_t size;

	CHECK(s != NULL);
	CHECK(strncmp(lacre_store_describe(s), "faulty:dir:", 11) == 0);
	lacre_dbuf_init(&b, 1024);
	CHECK_OK(lacre_store_put_if_absent(s, "a", "0123456789", 10));
	CHECK_OK(lacre_store_put_if_absent(s, "b", "abcdefghij", 10));

	CHECK_OK(lacre_store_faulty_set(s, LACRE_STORE_FAULT_FLIP, "a", 3));
	CHECK_OK(get_all(s, "a", &b));
	CHECK_EQ_INT(b.len, 10);
	CHECK_MEM(b.p, "012" "2" "456789", 10); /* '3' ^ 1 == '2' */
	lacre_dbuf_reset(&b);
	CHECK_OK(lacre_store_get(s, "a", 2, 3, &b)); /* range sees it too */
	CHECK_MEM(b.p, "224", 3);
	CHECK_OK(get_all(s, "b", &b)); /* other names untouched */
	CHECK_MEM(b.p, "abcdefghij", 10);
	CHECK_OK(lacre_store_stat(s, "a", &size));
	CHECK_EQ_INT(size, 10);

	CHECK_OK(lacre_store_faulty_set(s, LACRE_STORE_FAULT_TRUNCATE, "a", 4));
	CHECK_OK(get_all(s, "a", &b));
	CHECK_EQ_INT(b.len, 4);
	CHECK_MEM(b.p, "0122", 4);
	CHECK_OK(lacre_store_stat(s, "a", &size));
	CHECK_EQ_INT(size, 4);
	CHECK_EQ_INT(lacre_store_get(s, "a", 5, 1, &b), LACRE_E_RANGE);
	memset(&z, 0, sizeof(z));
	CHECK_OK(lacre_store_list(s, "", sizes_cb, &z));
	CHECK_STR(z.buf, "a=4;b=10;");

	CHECK_OK(lacre_store_faulty_set(s, LACRE_STORE_FAULT_HIDE, "b", 0));
	CHECK_EQ_INT(get_all(s, "b", &b), LACRE_E_NOT_FOUND);
	CHECK_EQ_INT(lacre_store_stat(s, "b", &size), LACRE_E_NOT_FOUND);
	memset(&z, 0, sizeof(z));
	CHECK_OK(lacre_store_list(s, "", sizes_cb, &z));
	CHECK_STR(z.buf, "a=4;");

	/* clearing one kind on one name, then everything */
	CHECK_OK(lacre_store_faulty_clear(s, LACRE_STORE_FAULT_TRUNCATE, "a"));
	CHECK_OK(get_all(s, "a", &b));
	CHECK_EQ_INT(b.len, 10);
	CHECK_EQ_INT(b.p[3], '2'); /* still flipped */
	CHECK_OK(lacre_store_faulty_clear(s, 0, NULL));
	CHECK_OK(get_all(s, "a", &b));
	CHECK_MEM(b.p, "0123456789", 10);
	CHECK_OK(get_all(s, "b", &b));
	CHECK_MEM(b.p, "abcdefghij", 10);

	/* a fault on every name */
	CHECK_OK(lacre_store_faulty_set(s, LACRE_STORE_FAULT_FLIP, NULL, 0));
	CHECK_OK(get_all(s, "b", &b));
	CHECK_EQ_INT(b.p[0], 'a' ^ 1);
	CHECK_OK(get_all(s, "a", &b));
	CHECK_EQ_INT(b.p[0], '0' ^ 1);
	lacre_dbuf_free(&b);
	lacre_store_close(s);
}

static void test_stale(void)
{
	struct lacre_store *s = open_faulty();
	struct lacre_dbuf b;
	uint64_t size;

	CHECK(s != NULL);
	lacre_dbuf_init(&b, 1024);
	CHECK_OK(lacre_store_put_replace(s, "checkpoint", "v1", 2));
	CHECK_OK(lacre_store_put_replace(s, "checkpoint", "version 2", 9));
	CHECK_OK(lacre_store_put_replace(s, "checkpoint", "version 3!", 10));
	CHECK_OK(lacre_store_put_replace(s, "fresh", "only", 4));
	CHECK_OK(lacre_store_put_if_absent(s, "plain", "p", 1));
	CHECK_OK(lacre_store_faulty_set(s, LACRE_STORE_FAULT_STALE, NULL, 0));
	CHECK_OK(get_all(s, "checkpoint", &b));
	CHECK_EQ_INT(b.len, 9);
	CHECK_MEM(b.p, "version 2", 9); /* the one before the last replace */
	CHECK_OK(lacre_store_stat(s, "checkpoint", &size));
	CHECK_EQ_INT(size, 9);
	/* created by its only replace: there was no older version */
	CHECK_EQ_INT(get_all(s, "fresh", &b), LACRE_E_NOT_FOUND);
	/* never replaced: served as it is */
	CHECK_OK(get_all(s, "plain", &b));
	CHECK_MEM(b.p, "p", 1);
	CHECK_OK(lacre_store_faulty_clear(s, LACRE_STORE_FAULT_STALE, NULL));
	CHECK_OK(get_all(s, "checkpoint", &b));
	CHECK_MEM(b.p, "version 3!", 10);
	lacre_dbuf_free(&b);
	lacre_store_close(s);
}

static void test_lose_put_and_down(void)
{
	struct lacre_store *s = open_faulty();
	struct lacre_dbuf b;
	uint64_t size;
	struct sizes z;

	CHECK(s != NULL);
	lacre_dbuf_init(&b, 1024);
	CHECK_OK(lacre_store_faulty_set(s, LACRE_STORE_FAULT_LOSE_PUT, "lost", 0));
	CHECK_OK(lacre_store_put_if_absent(s, "lost", "data", 4));
	CHECK_EQ_INT(lacre_store_stat(s, "lost", &size), LACRE_E_NOT_FOUND);
	CHECK_OK(lacre_store_put_if_absent(s, "kept", "data", 4));
	CHECK_OK(lacre_store_faulty_set(s, LACRE_STORE_FAULT_DOWN, "ignored", 0));
	CHECK_EQ_INT(lacre_store_put_if_absent(s, "x", "1", 1), LACRE_E_UNAVAILABLE);
	CHECK_EQ_INT(lacre_store_put_replace(s, "x", "1", 1), LACRE_E_UNAVAILABLE);
	CHECK_EQ_INT(get_all(s, "kept", &b), LACRE_E_UNAVAILABLE);
	CHECK_EQ_INT(lacre_store_stat(s, "kept", &size), LACRE_E_UNAVAILABLE);
	CHECK_EQ_INT(lacre_store_list(s, "", sizes_cb, &z), LACRE_E_UNAVAILABLE);
	CHECK_EQ_INT(lacre_store_del(s, "kept"), LACRE_E_UNAVAILABLE);
	/* clearing faults of one name does not bring it back up */
	CHECK_OK(lacre_store_faulty_clear(s, 0, "lost"));
	CHECK_EQ_INT(lacre_store_stat(s, "kept", &size), LACRE_E_UNAVAILABLE);
	CHECK_OK(lacre_store_faulty_clear(s, LACRE_STORE_FAULT_DOWN, NULL));
	CHECK_OK(lacre_store_stat(s, "kept", &size));
	CHECK_EQ_INT(size, 4);
	CHECK_OK(lacre_store_del(s, "kept"));
	/* not a faulty store, bad arguments */
	{
		char spec[PATH_MAX + 8];
		struct lacre_store *d = NULL;

		snprintf(spec, sizeof(spec), "dir:%s", t_tmpdir());
		CHECK_OK(lacre_store_open(spec, &d));
		CHECK_EQ_INT(lacre_store_faulty_set(d, LACRE_STORE_FAULT_FLIP, "a", 0),
			     LACRE_E_INVALID);
		CHECK_EQ_INT(lacre_store_faulty_clear(d, 0, NULL), LACRE_E_INVALID);
		lacre_store_close(d);
	}
	CHECK_EQ_INT(lacre_store_faulty_set(s, LACRE_STORE_FAULT_FLIP, "../a", 0),
		     LACRE_E_INVALID);
	CHECK_EQ_INT(lacre_store_faulty_set(s, (enum lacre_store_fault)99, "a", 0),
		     LACRE_E_INVALID);
	CHECK_EQ_INT(lacre_store_open("faulty:nope:x", &s), LACRE_E_CONFIG);
	lacre_dbuf_free(&b);
	lacre_store_close(s);
}

int main(void)
{
	RUN(test_flip_truncate_hide);
	RUN(test_stale);
	RUN(test_lose_put_and_down);
	return t_done();
}

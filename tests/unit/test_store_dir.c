/*
 * test_store_dir.c - the dir: backend and the name rules: every operation,
 * its error codes, range reads, sorted recursive lists, and put_if_absent
 * racing between threads and between processes (exactly one wins).
 */
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "lacre/err.h"
#include "lacre/store.h"

/* Open a fresh dir: store in a new temporary folder; path gets the folder. */
static struct lacre_store *open_tmp(char *path, size_t n)
{
	char spec[PATH_MAX + 8];
	struct lacre_store *s = NULL;

	snprintf(path, n, "%s/objects", t_tmpdir());
	snprintf(spec, sizeof(spec), "dir:%s", path);
	if (lacre_store_open(spec, &s) != LACRE_OK)
		return NULL;
	return s;
}

static void test_names(void)
{
	static const char *good[] = { "a", "seg/00/ab12", "tile/0/x001.p/3",
		"checkpoint", "a.b_c-d", "..a", "a..", ".x", "a/.x/b" };
	static const char *bad[] = { "", "/a", "a/", "a//b", "..", "a/../b",
		"./a", "a/.", "A", "a b", "a\\b", "caf\xc3\xa9", "a:b", "a\nb" };
	char long_ok[LACRE_STORE_NAME_MAX + 1], long_bad[LACRE_STORE_NAME_MAX + 2];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (lacre_store_name_check(good[i]) != LACRE_OK)
			t_fail(__FILE__, __LINE__, "good name \"%s\" refused", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (lacre_store_name_check(bad[i]) != LACRE_E_INVALID)
			t_fail(__FILE__, __LINE__, "bad name \"%s\" accepted", bad[i]);
	CHECK_EQ_INT(lacre_store_name_check(NULL), LACRE_E_INVALID);
	memset(long_ok, 'a', LACRE_STORE_NAME_MAX);
	long_ok[LACRE_STORE_NAME_MAX] = '\0';
	memset(long_bad, 'a', LACRE_STORE_NAME_MAX + 1);
	long_bad[LACRE_STORE_NAME_MAX + 1] = '\0';
	CHECK_OK(lacre_store_name_check(long_ok));
	CHECK_EQ_INT(lacre_store_name_check(long_bad), LACRE_E_INVALID);
}

static void test_open_specs(void)
{
	struct lacre_store *s = NULL;
	char path[PATH_MAX];

	CHECK_EQ_INT(lacre_store_open("nfs://x", &s), LACRE_E_CONFIG);
	CHECK_EQ_INT(lacre_store_open("dir:", &s), LACRE_E_CONFIG);
	CHECK(s == NULL);
	snprintf(path, sizeof(path), "%s/file", t_tmpdir());
	{
		FILE *f = fopen(path, "w");
		CHECK(f != NULL);
		fclose(f);
	}
	{
		char spec[PATH_MAX + 8];
		snprintf(spec, sizeof(spec), "dir:%s", path);
		CHECK(lacre_store_open(spec, &s) != LACRE_OK);
		CHECK(s == NULL);
		snprintf(spec, sizeof(spec), "dir:%s/deep/er/folder", t_tmpdir());
		CHECK_OK(lacre_store_open(spec, &s));
		CHECK(strncmp(lacre_store_describe(s), "dir:", 4) == 0);
		lacre_store_close(s);
	}
	lacre_store_close(NULL);
}

static void test_put_get_stat_del(void)
{
	char path[PATH_MAX], file[PATH_MAX + 64];
	struct lacre_store *s = open_tmp(path, sizeof(path));
	struct lacre_dbuf b;
	uint64_t size = 99;
	struct stat st;

	CHECK(s != NULL);
	lacre_dbuf_init(&b, 1 << 20);
	CHECK_OK(lacre_store_put_if_absent(s, "seg/ab/0001", "hello world", 11));
	CHECK_EQ_INT(lacre_store_put_if_absent(s, "seg/ab/0001", "other", 5),
		     LACRE_E_EXISTS);
	CHECK_OK(lacre_store_get(s, "seg/ab/0001", 0, SIZE_MAX, &b));
	CHECK_EQ_INT(b.len, 11);
	CHECK_MEM(b.p, "hello world", 11);
	/* the losing put left the object unchanged and no temporary behind */
	snprintf(file, sizeof(file), "%s/seg/ab/0001", path);
	CHECK(stat(file, &st) == 0 && st.st_size == 11);
	CHECK_OK(lacre_store_stat(s, "seg/ab/0001", &size));
	CHECK_EQ_INT(size, 11);
	CHECK_EQ_INT(lacre_store_stat(s, "seg/ab/0002", &size), LACRE_E_NOT_FOUND);
	CHECK_EQ_INT(lacre_store_stat(s, "seg/ab", &size), LACRE_E_NOT_FOUND);
	CHECK_EQ_INT(lacre_store_stat(s, "nope/x", &size), LACRE_E_NOT_FOUND);
	CHECK_EQ_INT(size, 11); /* outputs untouched on failure */

	/* replace */
	CHECK_OK(lacre_store_put_replace(s, "seg/ab/0001", "HELLO", 5));
	CHECK_OK(lacre_store_put_replace(s, "cp", "", 0));
	lacre_dbuf_reset(&b);
	CHECK_OK(lacre_store_get(s, "seg/ab/0001", 0, SIZE_MAX, &b));
	CHECK_EQ_INT(b.len, 5);
	CHECK_MEM(b.p, "HELLO", 5);
	CHECK_OK(lacre_store_stat(s, "cp", &size));
	CHECK_EQ_INT(size, 0);

	/* delete */
	CHECK_OK(lacre_store_del(s, "seg/ab/0001"));
	CHECK_EQ_INT(lacre_store_del(s, "seg/ab/0001"), LACRE_E_NOT_FOUND);
	CHECK_EQ_INT(lacre_store_del(s, "seg/ab"), LACRE_E_NOT_FOUND);
	CHECK_EQ_INT(lacre_store_del(s, "zz/top"), LACRE_E_NOT_FOUND);
	lacre_dbuf_reset(&b);
	CHECK_EQ_INT(lacre_store_get(s, "seg/ab/0001", 0, SIZE_MAX, &b),
		     LACRE_E_NOT_FOUND);
	CHECK_EQ_INT(b.len, 0);
	/* gone: may be created again */
	CHECK_OK(lacre_store_put_if_absent(s, "seg/ab/0001", "again", 5));

	/* bad names fail before any I/O */
	CHECK_EQ_INT(lacre_store_put_if_absent(s, "../escape", "x", 1),
		     LACRE_E_INVALID);
	CHECK_EQ_INT(lacre_store_put_replace(s, "/etc/passwd", "x", 1),
		     LACRE_E_INVALID);
	CHECK_EQ_INT(lacre_store_get(s, "a//b", 0, 1, &b), LACRE_E_INVALID);
	CHECK_EQ_INT(lacre_store_stat(s, "Upper", &size), LACRE_E_INVALID);
	CHECK_EQ_INT(lacre_store_del(s, "a/../seg/ab/0001"), LACRE_E_INVALID);
	CHECK_EQ_INT(lacre_store_put_if_absent(s, "x", NULL, 3), LACRE_E_INVALID);
	snprintf(file, sizeof(file), "%s/../escape", path);
	CHECK(access(file, F_OK) != 0);

	/* a name that is already a folder, or under an object */
	CHECK_EQ_INT(lacre_store_put_if_absent(s, "seg/ab", "x", 1), LACRE_E_EXISTS);
	CHECK_EQ_INT(lacre_store_put_if_absent(s, "cp/sub", "x", 1), LACRE_E_EXISTS);
	lacre_dbuf_free(&b);
	lacre_store_close(s);
}

static void test_range_and_cap(void)
{
	char path[PATH_MAX];
	struct lacre_store *s = open_tmp(path, sizeof(path));
	struct lacre_dbuf b;
	uint8_t data[1000];

	CHECK(s != NULL);
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7);
	CHECK_OK(lacre_store_put_if_absent(s, "r", data, sizeof(data)));
	lacre_dbuf_init(&b, 101); /* one byte is kept for a NUL */
	CHECK_OK(lacre_dbuf_add(&b, "pre", 3));
	CHECK_OK(lacre_store_get(s, "r", 10, 20, &b)); /* appended */
	CHECK_EQ_INT(b.len, 23);
	CHECK_MEM(b.p, "pre", 3);
	CHECK_MEM(b.p + 3, data + 10, 20);
	lacre_dbuf_reset(&b);
	CHECK_OK(lacre_store_get(s, "r", 990, 50, &b)); /* cut at the end */
	CHECK_EQ_INT(b.len, 10);
	CHECK_MEM(b.p, data + 990, 10);
	lacre_dbuf_reset(&b);
	CHECK_OK(lacre_store_get(s, "r", 1000, SIZE_MAX, &b));
	CHECK_EQ_INT(b.len, 0);
	CHECK_EQ_INT(lacre_store_get(s, "r", 1001, 1, &b), LACRE_E_RANGE);
	CHECK_OK(lacre_store_get(s, "r", 5, 0, &b));
	CHECK_EQ_INT(b.len, 0);
	/* the whole object does not fit the cap */
	CHECK_EQ_INT(lacre_store_get(s, "r", 0, SIZE_MAX, &b), LACRE_E_TOO_LARGE);
	CHECK_EQ_INT(b.len, 0);
	CHECK_OK(lacre_store_get(s, "r", 900, SIZE_MAX, &b));
	CHECK_EQ_INT(b.len, 100);
	CHECK_MEM(b.p, data + 900, 100);
	lacre_dbuf_free(&b);
	lacre_store_close(s);
}

struct names_seen {
	char buf[4096];
	size_t n;
	uint64_t total;
	int stop_after;
};

/* list callback: append "name:size," to buf. */
static int collect(void *arg, const char *name, uint64_t size)
{
	struct names_seen *c = arg;
	int w = snprintf(c->buf + strlen(c->buf), sizeof(c->buf) - strlen(c->buf),
			 "%s:%llu,", name, (unsigned long long)size);

	(void)w;
	c->n++;
	c->total += size;
	if (c->stop_after && (int)c->n == c->stop_after)
		return 42;
	return 0;
}

static void test_list(void)
{
	char path[PATH_MAX], junk[PATH_MAX + 64];
	struct lacre_store *s = open_tmp(path, sizeof(path));
	struct names_seen c;
	static const char *names[] = { "b", "a/x", "a.b", "a-c", "tile/0/001",
		"tile/0/000", "tile/0/x001/000.p/5", "tile/1/000", "tile/00" };
	FILE *f;

	CHECK(s != NULL);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		CHECK_OK(lacre_store_put_if_absent(s, names[i], names[i],
						   strlen(names[i])));
	/* foreign files and leftovers of a crash are not objects */
	snprintf(junk, sizeof(junk), "%s/tile/0/TMP.1.2.3", path);
	f = fopen(junk, "w");
	CHECK(f != NULL);
	fclose(f);
	snprintf(junk, sizeof(junk), "%s/README", path);
	f = fopen(junk, "w");
	CHECK(f != NULL);
	fclose(f);

	memset(&c, 0, sizeof(c));
	CHECK_OK(lacre_store_list(s, "", collect, &c));
	CHECK_STR(c.buf, "a-c:3,a.b:3,a/x:3,b:1,tile/0/000:10,tile/0/001:10,"
			 "tile/0/x001/000.p/5:19,tile/00:7,tile/1/000:10,");
	memset(&c, 0, sizeof(c));
	CHECK_OK(lacre_store_list(s, NULL, collect, &c));
	CHECK_EQ_INT(c.n, 9);
	memset(&c, 0, sizeof(c));
	CHECK_OK(lacre_store_list(s, "tile/0/", collect, &c));
	CHECK_STR(c.buf, "tile/0/000:10,tile/0/001:10,tile/0/x001/000.p/5:19,");
	memset(&c, 0, sizeof(c));
	CHECK_OK(lacre_store_list(s, "tile/0", collect, &c));
	CHECK_STR(c.buf, "tile/0/000:10,tile/0/001:10,tile/0/x001/000.p/5:19,"
			 "tile/00:7,");
	memset(&c, 0, sizeof(c));
	CHECK_OK(lacre_store_list(s, "a", collect, &c));
	CHECK_STR(c.buf, "a-c:3,a.b:3,a/x:3,");
	memset(&c, 0, sizeof(c));
	CHECK_OK(lacre_store_list(s, "none/", collect, &c));
	CHECK_OK(lacre_store_list(s, "b/", collect, &c)); /* b is an object */
	CHECK_EQ_INT(c.n, 0);
	memset(&c, 0, sizeof(c));
	c.stop_after = 2;
	CHECK_EQ_INT(lacre_store_list(s, "", collect, &c), 42);
	CHECK_EQ_INT(c.n, 2);
	CHECK_EQ_INT(lacre_store_list(s, "../", collect, &c), LACRE_E_INVALID);
	CHECK_EQ_INT(lacre_store_list(s, "/", collect, &c), LACRE_E_INVALID);
	CHECK_EQ_INT(lacre_store_list(s, "", NULL, &c), LACRE_E_INVALID);
	lacre_store_close(s);
}

static void test_put_file(void)
{
	char path[PATH_MAX], src[PATH_MAX + 16];
	struct lacre_store *s = open_tmp(path, sizeof(path));
	struct lacre_dbuf b;
	uint8_t *data;
	size_t n = 3 * 1024 * 1024 + 17;
	FILE *f;

	CHECK(s != NULL);
	data = malloc(n);
	CHECK(data != NULL);
	for (size_t i = 0; i < n; i++)
		data[i] = (uint8_t)(i ^ (i >> 9));
	snprintf(src, sizeof(src), "%s/src.bin", t_tmpdir());
	f = fopen(src, "wb");
	CHECK(f != NULL);
	CHECK(fwrite(data, 1, n, f) == n);
	fclose(f);
	CHECK_OK(lacre_store_put_file_if_absent(s, "seg/big", src));
	CHECK_EQ_INT(lacre_store_put_file_if_absent(s, "seg/big", src),
		     LACRE_E_EXISTS);
	CHECK_EQ_INT(lacre_store_put_file_if_absent(s, "seg/none", "/nonexistent/x"),
		     LACRE_E_NOT_FOUND);
	lacre_dbuf_init(&b, 64 << 20);
	CHECK_OK(lacre_store_get(s, "seg/big", 0, SIZE_MAX, &b));
	CHECK_EQ_INT(b.len, n);
	CHECK(memcmp(b.p, data, n) == 0);
	{
		/* same file system: the object is the source file, linked, not
		 * copied; it survives the source's removal (the outbox's) */
		char obj[PATH_MAX + 16];
		struct stat a, o;
		snprintf(obj, sizeof(obj), "%s/seg/big", path);
		CHECK(stat(src, &a) == 0 && stat(obj, &o) == 0);
		CHECK(a.st_ino == o.st_ino && a.st_dev == o.st_dev);
		CHECK_EQ_INT(o.st_nlink, 2);
		CHECK(unlink(src) == 0);
		lacre_dbuf_reset(&b);
		CHECK_OK(lacre_store_get(s, "seg/big", 0, SIZE_MAX, &b));
		CHECK_EQ_INT(b.len, n);
		CHECK(memcmp(b.p, data, n) == 0);
	}
	{
		/* another file system (tmpfs): copied, byte for byte */
		char shm[64], obj[PATH_MAX + 16];
		struct stat a, o;
		snprintf(shm, sizeof(shm), "/dev/shm/lacre-test-put-%ld", (long)getpid());
		f = fopen(shm, "wb");
		if (f) {
			CHECK(fwrite(data, 1, 1000, f) == 1000);
			fclose(f);
			CHECK_OK(lacre_store_put_file_if_absent(s, "seg/copied", shm));
			snprintf(obj, sizeof(obj), "%s/seg/copied", path);
			CHECK(stat(shm, &a) == 0 && stat(obj, &o) == 0);
			CHECK_EQ_INT(o.st_nlink, a.st_dev == o.st_dev ? 2 : 1);
			lacre_dbuf_reset(&b);
			CHECK_OK(lacre_store_get(s, "seg/copied", 0, SIZE_MAX, &b));
			CHECK_EQ_INT(b.len, 1000);
			CHECK(memcmp(b.p, data, 1000) == 0);
			unlink(shm);
		}
	}
	lacre_dbuf_free(&b);
	free(data);
	lacre_store_close(s);
}

static void test_symlinks_not_followed(void)
{
	char path[PATH_MAX], link[PATH_MAX + 32], outside[PATH_MAX + 32];
	struct lacre_store *s = open_tmp(path, sizeof(path));
	struct lacre_dbuf b;
	struct names_seen c;
	uint64_t size;
	FILE *f;

	CHECK(s != NULL);
	/* a secret outside the root, and links into it from inside */
	snprintf(outside, sizeof(outside), "%s/secret", t_tmpdir());
	f = fopen(outside, "w");
	CHECK(f != NULL);
	fputs("outside", f);
	fclose(f);
	snprintf(link, sizeof(link), "%s/evil", path);
	*strrchr(outside, '/') = '\0';
	CHECK(symlink(outside, link) == 0);       /* evil -> folder outside */
	snprintf(link, sizeof(link), "%s/file", path);
	strcat(outside, "/secret");
	CHECK(symlink(outside, link) == 0);       /* file -> file outside */
	lacre_dbuf_init(&b, 1024);
	CHECK_EQ_INT(lacre_store_get(s, "evil/secret", 0, SIZE_MAX, &b),
		     LACRE_E_NOT_FOUND);
	CHECK_EQ_INT(lacre_store_get(s, "file", 0, SIZE_MAX, &b), LACRE_E_NOT_FOUND);
	CHECK_EQ_INT(lacre_store_stat(s, "evil/secret", &size), LACRE_E_NOT_FOUND);
	CHECK_EQ_INT(lacre_store_stat(s, "file", &size), LACRE_E_NOT_FOUND);
	CHECK_EQ_INT(b.len, 0);
	CHECK(lacre_store_put_if_absent(s, "evil/new", "x", 1) != LACRE_OK);
	CHECK_EQ_INT(lacre_store_del(s, "evil/secret"), LACRE_E_NOT_FOUND);
	memset(&c, 0, sizeof(c));
	CHECK_OK(lacre_store_list(s, "", collect, &c));
	CHECK_OK(lacre_store_list(s, "evil/", collect, &c));
	CHECK_EQ_INT(c.n, 0);
	CHECK(access(outside, F_OK) == 0);
	lacre_dbuf_free(&b);
	lacre_store_close(s);
}

struct race {
	struct lacre_store *s;
	int id;
	int result;
};

/* Thread body: try to create "race/obj" with this thread's id as content. */
static void *race_thread(void *arg)
{
	struct race *r = arg;
	char data[64];

	memset(data, 'a' + r->id % 26, sizeof(data));
	r->result = lacre_store_put_if_absent(r->s, "race/obj", data, sizeof(data));
	return NULL;
}

static void test_race_threads(void)
{
	enum { N = 16 };
	char path[PATH_MAX];
	struct lacre_store *s = open_tmp(path, sizeof(path));
	pthread_t th[N];
	struct race r[N];
	int ok = 0, exists = 0, winner = -1;
	struct lacre_dbuf b;

	CHECK(s != NULL);
	for (int round = 0; round < 20; round++) {
		ok = exists = 0;
		lacre_store_del(s, "race/obj");
		for (int i = 0; i < N; i++) {
			r[i].s = s;
			r[i].id = i;
			r[i].result = 1;
			CHECK(pthread_create(&th[i], NULL, race_thread, &r[i]) == 0);
		}
		for (int i = 0; i < N; i++)
			pthread_join(th[i], NULL);
		for (int i = 0; i < N; i++) {
			if (r[i].result == LACRE_OK) {
				ok++;
				winner = i;
			} else if (r[i].result == LACRE_E_EXISTS) {
				exists++;
			}
		}
		CHECK_EQ_INT(ok, 1);
		CHECK_EQ_INT(exists, N - 1);
		lacre_dbuf_init(&b, 1024);
		CHECK_OK(lacre_store_get(s, "race/obj", 0, SIZE_MAX, &b));
		CHECK_EQ_INT(b.len, 64);
		CHECK_EQ_INT(b.p[0], 'a' + winner % 26);
		CHECK_EQ_INT(b.p[63], 'a' + winner % 26);
		lacre_dbuf_free(&b);
	}
	lacre_store_close(s);
}

static void test_race_processes(void)
{
	enum { N = 8 };
	char path[PATH_MAX], spec[PATH_MAX + 8];
	pid_t pid[N];
	int ok = 0, exists = 0;

	snprintf(path, sizeof(path), "%s/objects", t_tmpdir());
	snprintf(spec, sizeof(spec), "dir:%s", path);
	for (int i = 0; i < N; i++) {
		pid[i] = fork();
		CHECK(pid[i] >= 0);
		if (pid[i] == 0) {
			struct lacre_store *s;
			char data[4096];
			int r;

			memset(data, '0' + i, sizeof(data));
			if (lacre_store_open(spec, &s) != LACRE_OK)
				_exit(3);
			r = lacre_store_put_if_absent(s, "p/q/obj", data, sizeof(data));
			lacre_store_close(s);
			_exit(r == LACRE_OK ? 0 : r == LACRE_E_EXISTS ? 1 : 2);
		}
	}
	for (int i = 0; i < N; i++) {
		int st;
		CHECK(waitpid(pid[i], &st, 0) == pid[i]);
		CHECK(WIFEXITED(st));
		if (WEXITSTATUS(st) == 0)
			ok++;
		else if (WEXITSTATUS(st) == 1)
			exists++;
	}
	CHECK_EQ_INT(ok, 1);
	CHECK_EQ_INT(exists, N - 1);
}

int main(void)
{
	RUN(test_names);
	RUN(test_open_specs);
	RUN(test_put_get_stat_del);
	RUN(test_range_and_cap);
	RUN(test_list);
	RUN(test_put_file);
	RUN(test_symlinks_not_followed);
	RUN(test_race_threads);
	RUN(test_race_processes);
	return t_done();
}

/*
 * harness.c - see harness.h.  Keeps the pass / fail / skip counts of one
 * test binary, its temporary folders, and the loader of the shared vectors
 * (so that a missing ../shared says so instead of failing a bare assertion).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <limits.h>
#include <sys/stat.h>

#include "harness.h"

int t_failed_now;
static int t_skipped_now;
static int n_pass, n_fail, n_skip;
static const char *cur_name;
static char tmp_root[PATH_MAX];
static int tmp_seq;

/* The binary's own name (test_xxx), for its summary line. */
static const char *prog_name(void)
{
	return program_invocation_short_name ? program_invocation_short_name : "tests";
}

/* Prints one FAIL line for the running test and marks it failed. */
void t_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	printf("FAIL %s: %s:%d: ", cur_name ? cur_name : "?", file, line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	t_failed_now = 1;
}

/* Prints "skip NAME: why" and marks the running test skipped; t_run counts
 * it (a test that failed a check before skipping still counts as failed). */
void t_skip(const char *fmt, ...)
{
	va_list ap;
	printf("skip %s: ", cur_name ? cur_name : "?");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	t_skipped_now = 1;
}

/* One skip for the whole binary, printed under the program's name. */
void t_skip_all(const char *fmt, ...)
{
	va_list ap;
	printf("skip %s: ", prog_name());
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	n_skip++;
}

/* Runs one test and counts it in exactly one of passed, failed, skipped. */
void t_run(const char *name, void (*fn)(void))
{
	cur_name = name;
	t_failed_now = 0;
	t_skipped_now = 0;
	fn();
	if (t_failed_now) {
		n_fail++;
	} else if (t_skipped_now) {
		n_skip++;
	} else {
		n_pass++;
		printf("ok %s\n", name);
	}
	fflush(stdout);
	cur_name = NULL;
}

/* Unit tests seal master.age with the test work factor (10), which
 * site_create allows only when LACRE_SCRYPT_LOG2N says this is a test
 * (lib/site/site.c): say so before main() runs, as tests/e2e/lib/vault.bash
 * does for the scripts.  An explicit value in the environment is kept. */
__attribute__((constructor)) static void t_test_env(void)
{
	setenv("LACRE_SCRYPT_LOG2N", "10", 0);
}

const char *t_tmpdir(void)
{
	static char path[PATH_MAX + 32];
	if (!tmp_root[0]) {
		const char *base = getenv("TMPDIR");
		snprintf(tmp_root, sizeof(tmp_root), "%s/lacre-test-XXXXXX",
			 base ? base : "/tmp");
		if (!mkdtemp(tmp_root)) {
			perror("mkdtemp");
			exit(2);
		}
	}
	snprintf(path, sizeof(path), "%s/%d", tmp_root, ++tmp_seq);
	if (mkdir(path, 0700) != 0) {
		perror(path);
		exit(2);
	}
	return path;
}

const char *t_topdir(void)
{
	static char top[PATH_MAX];
	const char *env = getenv("LACRE_TOP");
	if (env)
		return env;
	if (!top[0] && !getcwd(top, sizeof(top)))
		return ".";
	return top;
}

/* Whole file of ../shared/vectors; a missing file fails the test with a
 * message that says which file and why (see harness.h). */
uint8_t *t_vector_at(const char *file, int line, const char *rel, size_t *len)
{
	char path[PATH_MAX + 64];
	FILE *f;
	uint8_t *p = NULL;
	long n;

	snprintf(path, sizeof(path), "%s/../shared/vectors/%s", t_topdir(), rel);
	f = fopen(path, "rb");
	if (!f) {
		t_fail(file, line, "test vector %s cannot be read (%s): the shared "
		       "test vectors are missing; check out the shared folder beside the "
		       "source tree (../shared/vectors)", path, strerror(errno));
		return NULL;
	}
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
		p = malloc(n > 0 ? (size_t)n : 1);
		if (p && fread(p, 1, (size_t)n, f) != (size_t)n) {
			free(p);
			p = NULL;
		}
		if (p)
			*len = (size_t)n;
	}
	fclose(f);
	if (!p)
		t_fail(file, line, "test vector %s could not be read whole", path);
	return p;
}

/* Removes the temporary folders and prints the binary's summary line. */
int t_done(void)
{
	const char *keep = getenv("LACRE_KEEP_TMP");
	if (tmp_root[0] && !(keep && *keep)) {
		char cmd[PATH_MAX + 16];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp_root);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", tmp_root);
	}
	printf("%s: %d passed, %d failed, %d skipped\n", prog_name(), n_pass, n_fail, n_skip);
	return n_fail ? 1 : 0;
}

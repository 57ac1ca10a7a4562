/*
 * harness.c - see harness.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <limits.h>
#include <sys/stat.h>

#include "harness.h"

int t_failed_now;
static int n_pass, n_fail;
static const char *cur_name;
static char tmp_root[PATH_MAX];
static int tmp_seq;
static const char *prog_name = "tests";

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

void t_run(const char *name, void (*fn)(void))
{
	cur_name = name;
	t_failed_now = 0;
	fn();
	if (t_failed_now) {
		n_fail++;
	} else {
		n_pass++;
		printf("ok %s\n", name);
	}
	fflush(stdout);
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

int t_done(void)
{
	const char *keep = getenv("LACRE_KEEP_TMP");
	if (tmp_root[0] && !(keep && *keep)) {
		char cmd[PATH_MAX + 16];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp_root);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", tmp_root);
	}
	printf("%s: %d passed, %d failed\n", prog_name, n_pass, n_fail);
	return n_fail ? 1 : 0;
}

/*
 * harness.h - the tiny unit-test harness.  A test file defines
 *   static void test_xxx(void) { CHECK(cond); CHECK_EQ_INT(a, b); ... }
 * and a main() that calls RUN(test_xxx) for each and returns t_done().
 * Each test prints "ok NAME" or "FAIL NAME: file:line: what"; t_done()
 * prints "NAME: N passed, N failed" and returns non-zero on any failure.
 * tests/run adds the counts of every binary and script.
 */
#ifndef LACRE_TEST_HARNESS_H
#define LACRE_TEST_HARNESS_H

#include <stdio.h>
#include <string.h>

extern int t_failed_now;
void t_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void t_run(const char *name, void (*fn)(void));
int t_done(void);
/* Path of a fresh empty temporary directory (removed by t_done unless
 * LACRE_KEEP_TMP is set). */
const char *t_tmpdir(void);
/* Absolute path of the repository's top folder (for tests/data and ../shared). */
const char *t_topdir(void);

#define RUN(fn) t_run(#fn, fn)
#define CHECK(c) do { if (!(c)) { t_fail(__FILE__, __LINE__, "%s", #c); return; } } while (0)
#define CHECK_EQ_INT(a, b) do { long long _a = (long long)(a), _b = (long long)(b); \
	if (_a != _b) { t_fail(__FILE__, __LINE__, "%s == %lld, expected %s == %lld", #a, _a, #b, _b); return; } } while (0)
#define CHECK_OK(e) do { int _r = (e); if (_r != 0) { \
	t_fail(__FILE__, __LINE__, "%s returned %d (%s)", #e, _r, lacre_strerror(_r)); return; } } while (0)
#define CHECK_STR(a, b) do { const char *_a = (a), *_b = (b); \
	if (!_a || !_b || strcmp(_a, _b) != 0) { t_fail(__FILE__, __LINE__, "%s == \"%s\", expected \"%s\"", #a, _a ? _a : "(null)", _b ? _b : "(null)"); return; } } while (0)
#define CHECK_MEM(a, b, n) do { if (memcmp((a), (b), (n)) != 0) { \
	t_fail(__FILE__, __LINE__, "%s and %s differ", #a, #b); return; } } while (0)

#endif

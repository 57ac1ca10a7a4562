/*
 * harness.h - the tiny unit-test harness.  A test file defines
 *   static void test_xxx(void) { CHECK(cond); CHECK_EQ_INT(a, b); ... }
 * and a main() that calls RUN(test_xxx) for each and returns t_done().
 *
 * Each test ends in exactly one of three states, printed on a line of its own:
 *   "ok NAME"                       every check held
 *   "FAIL NAME: file:line: what"    a check failed (the test returned there)
 *   "skip NAME: why"                the test called SKIP("why"): it could not
 *                                   run here (a tool or server is missing);
 *                                   a skip is never counted as a pass
 * t_done() prints "PROGRAM: N passed, N failed, N skipped" as the binary's
 * last line and returns non-zero on any failure; tests/run adds the counts of
 * every binary and script and reports skips per category.
 */
#ifndef LACRE_TEST_HARNESS_H
#define LACRE_TEST_HARNESS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

extern int t_failed_now;
void t_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Marks the running test skipped and prints "skip NAME: why" (use SKIP). */
void t_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Counts one skip for the whole binary, outside any test, when none of its
 * tests can run here (say, no S3 server configured): "skip PROGRAM: why". */
void t_skip_all(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void t_run(const char *name, void (*fn)(void));
int t_done(void);
/* Path of a fresh empty temporary directory (removed by t_done unless
 * LACRE_KEEP_TMP is set). */
const char *t_tmpdir(void);
/* Absolute path of the repository's top folder (for tests/data and ../shared). */
const char *t_topdir(void);
/* Reads ../shared/vectors/REL (relative to the top folder) whole into a
 * malloc'd buffer the caller frees; sets *len.  When the file cannot be read
 * it fails the running test (at the caller's file:line) with a message naming
 * the path and saying that the shared test vectors are missing, and returns
 * NULL: the caller then just returns (the failure is already counted). */
uint8_t *t_vector_at(const char *file, int line, const char *rel, size_t *len);
#define t_vector(rel, len) t_vector_at(__FILE__, __LINE__, (rel), (len))

#define RUN(fn) t_run(#fn, fn)
/* SKIP("why", ...): this test cannot run here; counted as a skip, not a pass. */
#define SKIP(...) do { t_skip(__VA_ARGS__); return; } while (0)
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

/*
 * test_phase_timing.c - the phase lines (lib/util/phase_timing.c): the
 * on/off rule (unset, "" and "0" are off, anything else on), the two line
 * forms byte for byte as bench/console.sh and tests/e2e/audio_stream.sh
 * parse them (the keeper's "req=H t=US PHASE", the console's
 * "t=US PHASE", the audio plan's "PHASE at MS ms"), nothing written when
 * off or with no descriptor, one write(2) per line, and a clock that does
 * not go back.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "lacre/err.h"
#include "lacre/phase_timing.h"

/* What the read end of pipe p holds now (non-blocking), NUL-terminated in
 * b (up to cap - 1 bytes); the count of bytes. */
static size_t drain(int p, char *b, size_t cap)
{
	size_t n = 0;
	ssize_t r;

	while (n < cap - 1 && (r = read(p, b + n, cap - 1 - n)) > 0)
		n += (size_t)r;
	b[n] = '\0';
	return n;
}

/* A pipe whose read end does not block; 0 on success. */
static int open_pipe(int p[2])
{
	if (pipe(p) != 0)
		return -1;
	return fcntl(p[0], F_SETFL, O_NONBLOCK);
}

/* Unset, "" and "0" are off; anything else ("1", "yes", "00") on;
 * phase_timing_init reads the variable again, the first phase_timing_on
 * reads it once. */
static void test_on_off(void)
{
	static struct phase_timing a = PHASE_TIMING_INIT("LACRE_TEST_PT_A", "a: ");
	static struct phase_timing b = PHASE_TIMING_INIT("LACRE_TEST_PT_B", "b: ");
	static const struct {
		const char *v;
		int on;
	} rule[] = { { "1", 1 }, { "", 0 }, { "0", 0 }, { "yes", 1 }, { "00", 1 } };

	unsetenv("LACRE_TEST_PT_A");
	CHECK_EQ_INT(phase_timing_on(&a), 0);
	CHECK_OK(setenv("LACRE_TEST_PT_A", "1", 1));
	CHECK_EQ_INT(phase_timing_on(&a), 0);      /* read once: still off */
	for (size_t i = 0; i < sizeof(rule) / sizeof(rule[0]); i++) {
		CHECK_OK(setenv("LACRE_TEST_PT_A", rule[i].v, 1));
		phase_timing_init(&a);
		CHECK_EQ_INT(phase_timing_on(&a), rule[i].on);
	}
	CHECK_OK(setenv("LACRE_TEST_PT_B", "1", 1));
	CHECK_EQ_INT(phase_timing_on(&b), 1);     /* first call reads it */
	unsetenv("LACRE_TEST_PT_A");
	unsetenv("LACRE_TEST_PT_B");
}

/* The three formats, byte for byte, each line one read's worth. */
static void test_lines(void)
{
	static struct phase_timing k = PHASE_TIMING_INIT("LACRE_TEST_PT_K", "lacre keeper: timing: ");
	static struct phase_timing c = PHASE_TIMING_INIT("LACRE_TEST_PT_C", "lacre-console: timing: ");
	static struct phase_timing a = PHASE_TIMING_INIT("LACRE_TEST_PT_AU", "lacre: audio timing: ");
	char b[1024];
	int p[2];

	CHECK(open_pipe(p) == 0);
	CHECK_OK(setenv("LACRE_TEST_PT_K", "1", 1));
	CHECK_OK(setenv("LACRE_TEST_PT_C", "1", 1));
	CHECK_OK(setenv("LACRE_TEST_PT_AU", "1", 1));
	phase_timing_fd(&k, p[1]);
	phase_timing_fd(&c, p[1]);
	phase_timing_fd(&a, p[1]);
	phase_timing_at(&k, "req=4242 ", 123456789, "accepted");
	drain(p[0], b, sizeof(b));
	CHECK_STR(b, "lacre keeper: timing: req=4242 t=123456789 accepted\n");
	phase_timing_at(&c, NULL, 7, "conn-start");
	phase_timing_at(&c, "", 8, "tls-accepted");
	drain(p[0], b, sizeof(b));
	CHECK_STR(b, "lacre-console: timing: t=7 conn-start\nlacre-console: timing: t=8 tls-accepted\n");
	phase_timing_after(&a, 1234567, "rows");
	phase_timing_after(&a, 0, "first-byte");
	phase_timing_after(&a, 49, "gaps");
	phase_timing_after(&a, 50, "gaps");
	drain(p[0], b, sizeof(b));
	CHECK_STR(b, "lacre: audio timing: rows at 1234.6 ms\nlacre: audio timing: first-byte at 0.0 ms\n"
		     "lacre: audio timing: gaps at 0.0 ms\nlacre: audio timing: gaps at 0.1 ms\n");
	close(p[0]);
	close(p[1]);
	unsetenv("LACRE_TEST_PT_K");
	unsetenv("LACRE_TEST_PT_C");
	unsetenv("LACRE_TEST_PT_AU");
}

/* mark and since: now's time, in the forms above. */
static void test_now(void)
{
	static struct phase_timing m = PHASE_TIMING_INIT("LACRE_TEST_PT_M", "m: ");
	char b[256], what[64];
	long long t;
	double ms;
	int64_t t0, t1;
	int p[2];

	CHECK(open_pipe(p) == 0);
	CHECK_OK(setenv("LACRE_TEST_PT_M", "1", 1));
	phase_timing_fd(&m, p[1]);
	t0 = phase_timing_now();
	phase_timing_mark(&m, "here");
	t1 = phase_timing_now();
	CHECK(t1 >= t0 && t0 > 0);
	drain(p[0], b, sizeof(b));
	CHECK(sscanf(b, "m: t=%lld %63s", &t, what) == 2);
	CHECK(t >= t0 && t <= t1);
	CHECK_STR(what, "here");
	phase_timing_since(&m, phase_timing_now() - 2500000, "later");
	drain(p[0], b, sizeof(b));
	CHECK(sscanf(b, "m: later at %lf ms", &ms) == 1);
	CHECK(ms >= 2500.0 && ms < 60000.0);
	close(p[0]);
	close(p[1]);
	unsetenv("LACRE_TEST_PT_M");
}

/* Off, or no descriptor, or a line too long: nothing written. */
static void test_silent(void)
{
	static struct phase_timing off = PHASE_TIMING_INIT("LACRE_TEST_PT_OFF", "off: ");
	static struct phase_timing nofd = PHASE_TIMING_INIT("LACRE_TEST_PT_NOFD", "nofd: ");
	char b[512], big[300];
	int p[2];

	CHECK(open_pipe(p) == 0);
	CHECK_OK(setenv("LACRE_TEST_PT_OFF", "0", 1));
	CHECK_OK(setenv("LACRE_TEST_PT_NOFD", "1", 1));
	phase_timing_fd(&off, p[1]);
	phase_timing_mark(&off, "x");
	phase_timing_at(&off, "req=1 ", 1, "x");
	phase_timing_since(&off, 0, "x");
	phase_timing_after(&off, 1, "x");
	CHECK_EQ_INT(drain(p[0], b, sizeof(b)), 0);
	phase_timing_fd(&nofd, -1);
	phase_timing_mark(&nofd, "x");
	phase_timing_after(&nofd, 1, "x");
	phase_timing_fd(&nofd, p[1]);
	memset(big, 'p', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	phase_timing_mark(&nofd, big);          /* over 255 bytes: dropped, not cut */
	CHECK_EQ_INT(drain(p[0], b, sizeof(b)), 0);
	phase_timing_mark(&nofd, "y");           /* the same set still writes */
	CHECK(drain(p[0], b, sizeof(b)) > 0 && strncmp(b, "nofd: t=", 8) == 0);
	close(p[0]);
	close(p[1]);
	unsetenv("LACRE_TEST_PT_OFF");
	unsetenv("LACRE_TEST_PT_NOFD");
}

int main(void)
{
	RUN(test_on_off);
	RUN(test_lines);
	RUN(test_now);
	RUN(test_silent);
	return t_done();
}

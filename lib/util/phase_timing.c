/*
 * phase_timing.c - phase lines turned on by an environment variable
 * (include/lacre/phase_timing.h): the one copy of the clock, the on/off
 * rule and the line formats that the keeper, the console and the audio
 * plan each had.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lacre/phase_timing.h"

void phase_timing_init(struct phase_timing *pt)
{
	const char *v = getenv(pt->env);

	atomic_store(&pt->on, v != NULL && v[0] != '\0' && strcmp(v, "0") != 0);
}

int phase_timing_on(struct phase_timing *pt)
{
	int on = atomic_load(&pt->on);

	if (on < 0) {
		/* threads reading it at once all store the same value */
		phase_timing_init(pt);
		on = atomic_load(&pt->on);
	}
	return on;
}

void phase_timing_fd(struct phase_timing *pt, int fd)
{
	atomic_store(&pt->fd, fd);
}

int64_t phase_timing_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Write the n bytes of b (a whole line) in one write(2): lines of several
 * writers on one descriptor stay whole.  A line that did not fit (n out
 * of range) is dropped rather than cut. */
static void timing_put(struct phase_timing *pt, const char *b, int n, size_t cap)
{
	int fd = atomic_load(&pt->fd);

	if (fd >= 0 && n > 0 && (size_t)n < cap)
		(void)!write(fd, b, (size_t)n);
}

void phase_timing_at(struct phase_timing *pt, const char *tag, int64_t t, const char *what)
{
	char b[256];

	if (!phase_timing_on(pt))
		return;
	timing_put(pt, b, snprintf(b, sizeof(b), "%s%st=%lld %s\n", pt->prefix,
				   tag ? tag : "", (long long)t, what), sizeof(b));
}

void phase_timing_mark(struct phase_timing *pt, const char *what)
{
	if (phase_timing_on(pt))
		phase_timing_at(pt, NULL, phase_timing_now(), what);
}

void phase_timing_after(struct phase_timing *pt, int64_t us, const char *what)
{
	char b[256];

	if (!phase_timing_on(pt))
		return;
	timing_put(pt, b, snprintf(b, sizeof(b), "%s%s at %.1f ms\n", pt->prefix, what,
				   (double)us / 1000.0), sizeof(b));
}

void phase_timing_since(struct phase_timing *pt, int64_t t0, const char *what)
{
	if (phase_timing_on(pt))
		phase_timing_after(pt, phase_timing_now() - t0, what);
}

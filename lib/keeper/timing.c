/*
 * timing.c - LACRE_KEEPER_TIMING phase lines (timing.h): measuring the
 * keeper's share of a request's first byte needs timestamps from three
 * processes (main, handler, worker) on one clock.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "keeper/timing.h"

static int timing_on = -1;       /* -1: not read yet */
static int timing_fd = 2;
static pid_t timing_req;

/* Read LACRE_KEEPER_TIMING: on unless unset, "" or "0". */
void keeper_timing_init(void)
{
	const char *v = getenv("LACRE_KEEPER_TIMING");

	timing_on = v != NULL && v[0] != '\0' && strcmp(v, "0") != 0;
}

/* Whether timing is on (read at the first call when not yet). */
int keeper_timing_on(void)
{
	if (timing_on < 0)
		keeper_timing_init();
	return timing_on;
}

/* CLOCK_MONOTONIC now, in microseconds: the clock every phase line uses. */
int64_t keeper_timing_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* In a worker: lines to fd (the keeper's stderr), under request req. */
void keeper_timing_worker(int fd, pid_t req)
{
	timing_fd = fd;
	timing_req = req;
}

/* In a handler: this request's id. */
void keeper_timing_request(pid_t req)
{
	timing_req = req;
}

/* One line, one write(2) so that lines of three processes stay whole. */
void keeper_timing_at(pid_t req, int64_t t, const char *what)
{
	char b[160];
	int n;

	if (!keeper_timing_on() || timing_fd < 0)
		return;
	n = snprintf(b, sizeof(b), "lacre keeper: timing: req=%ld t=%lld %s\n",
		     (long)(req ? req : timing_req), (long long)t, what);
	if (n > 0 && (size_t)n < sizeof(b))
		(void)!write(timing_fd, b, (size_t)n);   /* one write: lines stay whole */
}

/* The phase what, now. */
void keeper_timing_mark(const char *what)
{
	if (keeper_timing_on())
		keeper_timing_at(0, keeper_timing_now(), what);
}

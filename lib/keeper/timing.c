/*
 * timing.c - LACRE_KEEPER_TIMING phase lines (timing.h): measuring the
 * keeper's share of a request's first byte needs timestamps from three
 * processes (main, handler, worker) on one clock.  The lines themselves
 * are lib/util/phase_timing.c's; this adds the request's id to each.
 */
#include <stdio.h>

#include "keeper/timing.h"
#include "lacre/phase_timing.h"

static struct phase_timing keeper_lines =
	PHASE_TIMING_INIT("LACRE_KEEPER_TIMING", "lacre keeper: timing: ");
static pid_t timing_req;

void keeper_timing_init(void)
{
	phase_timing_init(&keeper_lines);
}

int keeper_timing_on(void)
{
	return phase_timing_on(&keeper_lines);
}

void keeper_timing_worker(int fd, pid_t req)
{
	phase_timing_fd(&keeper_lines, fd);
	timing_req = req;
}

void keeper_timing_request(pid_t req)
{
	timing_req = req;
}

void keeper_timing_at(pid_t req, int64_t t, const char *what)
{
	char tag[32];

	if (!keeper_timing_on())
		return;
	snprintf(tag, sizeof(tag), "req=%ld ", (long)(req ? req : timing_req));
	phase_timing_at(&keeper_lines, tag, t, what);
}

void keeper_timing_mark(const char *what)
{
	if (keeper_timing_on())
		keeper_timing_at(0, phase_timing_now(), what);
}

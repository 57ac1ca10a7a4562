/*
 * timing.c - LACRE_CONSOLE_TIMING: where the console's share of a
 * request's first byte goes (console.h, docs/performance.md "Console
 * audio").  With LACRE_CONSOLE_TIMING=1 in its environment the console
 * writes one stderr line per phase: "lacre-console: timing: t=US PHASE",
 * US the CLOCK_MONOTONIC time in microseconds (the keeper's timing lines
 * and bench/console.sh's client use the same clock).  Phase names only:
 * no path, id, user or content.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "console/console.h"

/* -1: not read yet.  Atomic: the connection threads call
 * console_timing at once; each reads the same environment, so a race
 * between them only stores the same value twice. */
static atomic_int timing_on = -1;

/* Write the phase line of what (console.h), when LACRE_CONSOLE_TIMING is
 * set to anything but "" or "0". */
void console_timing(const char *what)
{
	struct timespec ts;
	char b[128];
	int n, on = atomic_load(&timing_on);

	if (on < 0) {
		const char *v = getenv("LACRE_CONSOLE_TIMING");
		on = v != NULL && v[0] != '\0' && strcmp(v, "0") != 0;
		atomic_store(&timing_on, on);
	}
	if (!on)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	n = snprintf(b, sizeof(b), "lacre-console: timing: t=%lld %s\n",
		     (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000, what);
	if (n > 0 && (size_t)n < sizeof(b))
		(void)!write(2, b, (size_t)n);   /* one write: lines stay whole */
}

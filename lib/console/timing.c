/*
 * timing.c - LACRE_CONSOLE_TIMING: where the console's share of a
 * request's first byte goes (console.h, docs/performance.md "Console
 * audio").  With LACRE_CONSOLE_TIMING=1 in its environment the console
 * writes one stderr line per phase: "lacre-console: timing: t=US PHASE",
 * US the CLOCK_MONOTONIC time in microseconds (the keeper's timing lines
 * and bench/console.sh's client use the same clock).  Phase names only:
 * no path, id, user or content.  The line, its clock and the on/off rule
 * are lib/util/phase_timing.c's (safe from the connection threads).
 */
#include "console/console.h"
#include "lacre/phase_timing.h"

static struct phase_timing console_lines =
	PHASE_TIMING_INIT("LACRE_CONSOLE_TIMING", "lacre-console: timing: ");

/* Write the phase line of what (console.h), when LACRE_CONSOLE_TIMING is
 * set to anything but "" or "0". */
void console_timing(const char *what)
{
	phase_timing_mark(&console_lines, what);
}

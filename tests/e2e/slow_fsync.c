/*
 * slow_fsync.c - LD_PRELOAD shim for keepalive_fsync.sh: every fsync and
 * fdatasync of the process first sleeps SLOW_FSYNC_MS milliseconds (a
 * slow or busy disk), then syncs, and says so on stderr ("slow-fsync
 * <CLOCK_MONOTONIC ms>") so the test can tell when the syncs ran.
 * Test-only; never linked into lacre.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* Sleep the configured delay (default 600 ms). */
static void slow(void)
{
	const char *e = getenv("SLOW_FSYNC_MS");
	long ms = e ? strtol(e, NULL, 10) : 600;
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	struct timespec now;
	char line[64];
	int n;

	clock_gettime(CLOCK_MONOTONIC, &now);
	n = snprintf(line, sizeof(line), "slow-fsync %lld\n",
		     (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000);
	if (n > 0 && write(2, line, (size_t)n) < 0)
		n = 0;
	while (nanosleep(&ts, &ts) != 0)
		;
}

int fsync(int fd)
{
	slow();
	return (int)syscall(SYS_fsync, fd);
}

int fdatasync(int fd)
{
	slow();
	return (int)syscall(SYS_fdatasync, fd);
}

/*
 * no_inotify.c - LD_PRELOAD shim for audio_stream.sh: inotify_init and
 * inotify_init1 fail with EMFILE, as when the user's inotify instances
 * (fs.inotify.max_user_instances) are used up, so that the keeper's
 * fallback (a timed look at the output file, lib/keeper/server.c) is
 * tested.  Test-only; never linked into lacre.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sys/inotify.h>

/* No inotify instance: the per-user limit is reached. */
int inotify_init(void)
{
	errno = EMFILE;
	return -1;
}

/* No inotify instance: the per-user limit is reached. */
int inotify_init1(int flags)
{
	(void)flags;
	errno = EMFILE;
	return -1;
}

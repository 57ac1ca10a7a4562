/*
 * cli_ingest.c - `lacre ingest`: exec lacre-ingest, the receiver cell
 * (cmd/lacre-ingest/, DESIGN.md §2), with the same arguments.  The receiver
 * parses hostile network input, so it is a program of its own, linked
 * without the keystore and confined (docs/cmd-ingest.md); this process
 * holds nothing yet, and exec keeps its process id, so a script that
 * signals `lacre ingest` signals the receiver.  lacre-ingest is looked for
 * beside this program (/proc/self/exe), then on PATH.  The receiver runs
 * with glibc's malloc in transparent huge pages (GLIBC_TUNABLES, read by
 * glibc before main: lib/ingest/malloc_env.c says why).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "ingest/malloc_env.h"

#define INGEST_PROG "lacre-ingest"

/* `lacre ingest ARGS…`: replaced by `lacre-ingest ARGS…`; returns only on
 * failure. */
int cmd_ingest(int argc, char **argv)
{
	char self[PATH_MAX], prog[PATH_MAX + sizeof(INGEST_PROG) + 1];
	char **av, tun[4096];
	ssize_t n;
	int i;

	av = calloc((size_t)argc + 1, sizeof(*av));
	if (!av) {
		cli_err("ingest: out of memory");
		return EXIT_FAIL;
	}
	av[0] = INGEST_PROG;
	for (i = 1; i < argc; i++)
		av[i] = argv[i];
	av[argc] = NULL;
	/* a list too long to extend is left as the operator set it, said so */
	if (ingest_malloc_tunables(getenv("GLIBC_TUNABLES"), tun, sizeof(tun)) == 0)
		(void)setenv("GLIBC_TUNABLES", tun, 1);
	else
		cli_err("ingest: warning: GLIBC_TUNABLES is too long to add %s; the receiver runs "
			"with it as set (4 KiB pages: docs/cmd-ingest.md \"Memory\")", INGEST_MALLOC_TUNABLES);
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		char *slash;
		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			snprintf(prog, sizeof(prog), "%s/%s", self, INGEST_PROG);
			if (access(prog, X_OK) == 0) {
				execv(prog, av);
				cli_err("ingest: cannot run %s: %s", prog, strerror(errno));
				free(av);
				return EXIT_FAIL;
			}
		}
	}
	execvp(INGEST_PROG, av);
	cli_err("ingest: cannot run %s (not beside lacre nor on PATH): %s; install it with lacre",
	        INGEST_PROG, strerror(errno));
	free(av);
	return EXIT_FAIL;
}

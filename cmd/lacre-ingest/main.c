/*
 * main.c - lacre-ingest, the receiver cell (DESIGN.md §2): the only lacre
 * program that parses the operators' handover input.  `lacre ingest` execs
 * it with the same arguments (cmd/lacre/cli_ingest.c), so it keeps that
 * process id and its signals.  It is linked without the keystore, the
 * keeper and anything access-side (the Makefile checks the link with
 * scripts/ingest-link-check), and it confines itself once its sockets and
 * files are open (lib/ingest/confine.c, docs/cmd-ingest.md).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "lacre/err.h"
#include "lacre/site.h"
#include "receiver.h"

void cli_err(const char *fmt, ...)
{
	va_list ap;
	fputs("lacre: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* The exit status of DESIGN.md §8 for a site that failed to open (as
 * cmd/lacre/main.c's cli_exit_status maps it). */
static int open_status(int err)
{
	switch (err) {
	case LACRE_E_INVALID:
		return EXIT_USAGE;
	case LACRE_E_VERIFY:
	case LACRE_E_CORRUPT:
	case LACRE_E_MISSING:
	case LACRE_E_TRUNCATED:
	case LACRE_E_ROLLBACK:
	case LACRE_E_FORK:
	case LACRE_E_AUTH:
		return EXIT_VERIFY;
	default:
		return EXIT_FAIL;
	}
}

int cli_open_site(const char *arg, struct site *s)
{
	char dir[SITE_PATH_MAX], msg[SITE_MSG_MAX];
	int r;

	if (site_dir_resolve(arg, dir) != LACRE_OK) {
		cli_err("no site: use --site DIR or set LACRE_SITE");
		return EXIT_USAGE;
	}
	msg[0] = '\0';
	r = site_open(dir, s, msg, sizeof(msg));
	if (r != LACRE_OK) {
		cli_err("%s", msg[0] ? msg : lacre_strerror(r));
		return open_status(r);
	}
	return EXIT_OK;
}

int main(int argc, char **argv)
{
	struct rlimit no_core = { 0, 0 };

	/* no core dumps: the receiver holds its TLS and handover keys */
	setrlimit(RLIMIT_CORE, &no_core);
	if (argc >= 2 && (!strcmp(argv[1], "help") || !strcmp(argv[1], "-h"))) {
		char *hv[] = { argv[0], "--help", NULL };
		return cmd_ingest(2, hv);
	}
	return cmd_ingest(argc, argv);
}

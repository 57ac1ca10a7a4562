/*
 * cli.c - the small helpers every lacre command shares (error lines, exit
 * statuses of DESIGN.md §8, --passphrase-fd parsing).  Keyless: linked by
 * the lacre client and by lacre-keeper alike.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lacre/err.h"
#include "cli.h"

void cli_err(const char *fmt, ...)
{
	va_list ap;
	fputs("lacre: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cli_passphrase_fd(const char *arg, int *fd)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (!arg[0] || strspn(arg, "0123456789") != strlen(arg) || *end || errno != 0 ||
	    v < 0 || v > INT_MAX) {
		cli_err("--passphrase-fd needs a file descriptor number, got '%s'", arg);
		return EXIT_USAGE;
	}
	*fd = (int)v;
	return EXIT_OK;
}

int cli_exit_status(int err)
{
	switch (err) {
	case LACRE_OK:
		return EXIT_OK;
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

int cli_fail(int err, const char *what)
{
	cli_err("%s: %s", what, lacre_strerror(err));
	return cli_exit_status(err);
}

/*
 * cli_media.h - what `lacre calls`, `locations`, `audio`, `pcap` and
 * `reindex` share: the options of an access-domain read (--site, --user,
 * --justification, --passphrase-file/-fd, --json, --cin) and the one loop
 * that reads them with each command's own (cli_media_getopt), the one opening
 * sequence, whose audit-first gate (acl.h) runs before any key is touched,
 * and the text/JSON row printer (cmd/lacre-keeper/cli_media.c).
 */
#ifndef LACRE_CLI_MEDIA_H
#define LACRE_CLI_MEDIA_H

#include <getopt.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lacre/age.h"
#include "lacre/index.h"
#include "keeper/passphrase.h"
#include "lacre/site.h"
#include "lacre/store.h"

/* Options common to the media commands (long options only). */
struct cli_media_opts {
	const char *site;
	const char *user;            /* --user KEYFILE (else LACRE_USER) */
	const char *justification;   /* --justification TEXT */
	int json;
	struct passphrase_src pass;
};

/* What an opened media command works with. */
struct receipts_index;

struct cli_media {
	struct site s;
	struct lacre_store *st;
	struct age_x25519_identity id;
	struct index *ix;
	struct receipts_index *logged; /* the signed ingest log's commitments */
	int have_id;
};

/* Start a media command's option parsing: o empty, the passphrase source
 * unset, getopt from argv[1]. */
void cli_media_opts_init(struct cli_media_opts *o);

/* Read a --cin value (a decimal number from 0 to 4294967295) into *cin.
 * Prints the usage error; returns EXIT_OK or EXIT_USAGE. */
int cli_media_cin(const char *arg, uint32_t *cin);

/* Print rows v[0..n) of size bytes each to stdout: text() per row, or with
 * json one object per line built by js() in a buffer of at most cap bytes.
 * Returns EXIT_OK, or a (positive) exit status when a row does not fit. */
struct json_w;
int cli_media_rows(const void *v, size_t n, size_t size, int json, size_t cap,
		   void (*text)(const void *row), void (*js)(struct json_w *w, const void *row));

/* Handle one of the common options (getopt_long codes 's' 'u' 'J' 'j' 'P'
 * 'F'); returns 1 if c was one, 0 if not, or an exit status on a bad
 * value (negated: -EXIT_USAGE). */
int cli_media_opt(int c, const char *arg, struct cli_media_opts *o);

/* The long options of cli_media_opt, to splice into a command's table. */
#define CLI_MEDIA_LONGOPTS \
	{ "site", required_argument, 0, 's' }, \
	{ "user", required_argument, 0, 'u' }, \
	{ "justification", required_argument, 0, 'J' }, \
	{ "json", no_argument, 0, 'j' }, \
	{ "passphrase-file", required_argument, 0, 'P' }, \
	{ "passphrase-fd", required_argument, 0, 'F' }

/* A command's own options, beyond the common ones: handle getopt_long's
 * code c and its value; 1 when c was one, 0 when it is no option of the
 * command (a usage error), -EXIT_USAGE on a bad value (printed). */
typedef int (*cli_media_own_fn)(void *arg, int c, const char *value);

/* The one option loop of the media commands: getopt_long over argv with
 * the command's shortopts and table lo (CLI_MEDIA_LONGOPTS spliced in,
 * "help" as 'h'); the common options go into o (cli_media_opts_init
 * first), the command's own to own(arg, ...) (NULL: none), --help prints
 * usage(stdout) and returns CLI_MEDIA_HELP, an unknown option prints
 * usage(stderr) and returns EXIT_USAGE.  EXIT_OK once every option is
 * read (optind at the first operand); the command checks its operands. */
#define CLI_MEDIA_HELP (-1)
int cli_media_getopt(int argc, char **argv, const char *shortopts, const struct option *lo,
		     void (*usage)(FILE *f), struct cli_media_opts *o, cli_media_own_fn own,
		     void *arg);

/* The command line of a listing of one warrant (`lacre calls`,
 * `locations`): cli_media_getopt with --warrant W and, when cin is not
 * NULL, --cin N (*has_cin is then set).  A stray argument or no --warrant
 * ("NAME needs --warrant W") is EXIT_USAGE, printed.  Returns EXIT_OK to
 * go on; else what the command returns (0 for CLI_MEDIA_HELP). */
int cli_media_listing_args(int argc, char **argv, const char *name, void (*usage)(FILE *f),
			   struct cli_media_opts *o, const char **warrant, uint32_t *cin,
			   int *has_cin);

/* Open the site, pass the audit-first gate for (action, warrant, what),
 * unlock the session's keys, load warrant's identity through it
 * (access_key.h: the session is closed and its keys wiped at once), open
 * the backend and the index, and bring the index up to date for warrant
 * (reset first when rebuild).  Prints its errors.  Returns EXIT_OK; a positive exit status
 * on failure (m closed); or a negative exit status when damaged segments
 * were left out of the index (m open: answer, then exit with -status). */
int cli_media_open(const struct cli_media_opts *o, const char *action, const char *warrant,
		   const char *what, int rebuild, struct cli_media *m);
void cli_media_close(struct cli_media *m);

/* Print one damaged-segment line (an index_read/index_update problem). */
void cli_media_problem(void *arg, const char *segment, int err, const char *what);

#endif

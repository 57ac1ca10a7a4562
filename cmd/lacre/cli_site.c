/*
 * cli_site.c - opening a site and reading a witness policy for the
 * commands, with the error lines of DESIGN.md §8 (what went wrong and what
 * to do).  Keyless: shared by the lacre client and lacre-keeper (the
 * keys are unlocked into the gate session by
 * cmd/lacre-keeper/cli_keystore.c, keeper domain).
 */
#include <stdio.h>

#include "lacre/err.h"
#include "lacre/note.h"
#include "lacre/site.h"
#include "cli.h"

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
		return cli_exit_status(r);
	}
	return EXIT_OK;
}

int cli_load_policy(const char *path, struct policy **out)
{
	size_t bad = 0;
	int rc = policy_load_file(path, out, &bad);

	if (rc == LACRE_E_CONFIG && bad)
		cli_err("%s:%zu: not a valid policy line (log, witness, group, quorum)", path, bad);
	else if (rc == LACRE_E_CONFIG)
		cli_err("%s: a policy needs a log line and exactly one quorum line", path);
	else if (rc != LACRE_OK)
		cli_fail(rc, path);
	return rc;
}

/* The site's backend with its lacre.conf S3 settings (site_store_open). */
int cli_open_store(const struct site *s, struct lacre_store **st)
{
	char msg[SITE_MSG_MAX];
	int r;

	msg[0] = '\0';
	if ((r = site_store_open(s, st, msg, sizeof(msg))) != LACRE_OK) {
		cli_err("%s", msg[0] ? msg : lacre_strerror(r));
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

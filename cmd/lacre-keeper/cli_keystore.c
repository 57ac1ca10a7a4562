/*
 * cli_keystore.c - the keys of a command's gate session, with the error
 * lines of DESIGN.md §8, and the keeper worker's mark.
 *
 * The session owns the unlocked keystore (lib/keeper/access_key.h): in a
 * keeper worker (cmd_keeper.c) the keeper's, opened once at its start and
 * handed to the request's session without reading a passphrase; in a
 * one-shot `lacre-keeper run` (what `lacre` execs when no keeper is
 * configured, docs/keeper.md) unlocked with the passphrase (or the site's
 * PKCS#11 token).  Only lacre-keeper links this file; the lacre client has
 * no keystore code at all, and no command file names the keystore.
 */
#include <stdio.h>
#include <stdlib.h>

#include "keeper/access_key.h"
#include "lacre/acl.h"
#include "lacre/err.h"
#include "lacre/keeper.h"
#include "lacre/site.h"
#include "cli.h"

/* 1 in a keeper worker (one request per process). */
static int worker_mode;

void cli_keeper_worker_begin(void)
{
	worker_mode = 1;
	keeper_keys_worker();
}

int cli_keeper_worker(void)
{
	return worker_mode;
}

int cli_session_keys(const struct passphrase_src *src, struct acl_session *ss)
{
	char msg[SITE_MSG_MAX];
	int r, stage = ACCESS_UNLOCK_SECRET;

	msg[0] = '\0';
	if ((r = access_keys_unlock(ss, src, &stage, msg, sizeof(msg))) == LACRE_OK)
		return EXIT_OK;
	cli_err("%s", msg[0] ? msg : lacre_strerror(r));
	/* a missing or wrong secret is a failure; unreadable key files say
	 * what their error says (damaged: 3) */
	return stage == ACCESS_UNLOCK_OPEN ? cli_exit_status(r) : EXIT_FAIL;
}

const char *cli_output_name(const char *path)
{
	const char *v = getenv("LACRE_KEEPER_OUTPUT");

	return cli_keeper_worker() && v && v[0] ? v : path;
}

const char *cli_output_label(const char *path)
{
	static char label[4200];
	const char *v = getenv("LACRE_KEEPER_OUTPUT");

	if (!cli_keeper_worker() || !v || !v[0])
		return path;
	snprintf(label, sizeof(label), "%s (on the client)", v);
	return label;
}

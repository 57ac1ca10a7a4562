/*
 * cli_gate.c - the commands' side of the one gate entry (access_open,
 * lib/access/acl.c): pass the gate for a request and turn a refusal into
 * one error line and the exit status of DESIGN.md §8.  Keeper domain: each
 * command of cmd/lacre-keeper/ that reads content or changes the registry
 * calls this once, before it opens a key, instead of its own sequence of
 * session, authorisation and access-log calls.
 */
#include <stdio.h>
#include <stdlib.h>

#include "lacre/acl.h"
#include "lacre/err.h"
#include "lacre/site.h"
#include "lacre/users.h"
#include "cli.h"

int cli_gate(const struct site *s, const char *user, const struct access_request *rq,
	     struct acl_session **out, const char *prefix)
{
	char msg[SITE_MSG_MAX];
	int r, stage = ACCESS_AUTHENTICATE;

	r = access_open(s, user, rq, out, &stage, msg, sizeof(msg));
	if (r == LACRE_OK)
		return EXIT_OK;
	if (prefix)
		cli_err("%s: %s", prefix, msg);
	else
		cli_err("%s", msg);
	/* no acting user at all, or no justification: the command line is
	 * incomplete (usage); anything else is a refusal */
	if (stage == ACCESS_AUTHENTICATE)
		return r == LACRE_E_NOT_FOUND && !acl_keeper_worker() && (user == NULL || !user[0]) &&
		       (getenv(USERS_ENV) == NULL || !getenv(USERS_ENV)[0]) ? EXIT_USAGE : EXIT_FAIL;
	return r == LACRE_E_INVALID ? EXIT_USAGE : EXIT_FAIL;
}

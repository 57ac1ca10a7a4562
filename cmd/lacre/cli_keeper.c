/*
 * cli_keeper.c - the lacre CLI as a client of the keeper (docs/keeper.md).
 *
 * When a keeper is configured (--keeper PATH, $LACRE_KEEPER, or a socket
 * at SITE/keeper.sock) every command the keeper serves (args.c) is sent to
 * it as a request signed with the acting user's key (--user KEYFILE or
 * $LACRE_USER): the CLI then never reads a passphrase and never opens a
 * key of the site.  --site, --user, --keeper and --passphrase-* are the
 * CLI's own and are not sent.  Without a keeper the command runs in this
 * process as before (this stage; the next removes that path).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lacre/err.h"
#include "lacre/keeper.h"
#include "lacre/site.h"
#include "lacre/users.h"
#include "cli.h"

/* The CLI's own options, taken out of what is sent. */
struct local {
	const char *keeper, *site, *user;
};

/* Split argv into the CLI's own options (l) and the rest (out, NULL-
 * terminated, *outc).  Values are found as getopt_long finds them.
 * Returns 0, or 1 when argv asks for help (run in-process). */
static int split(int argc, char **argv, struct local *l, char **out, int *outc)
{
	int n = 0;

	for (int i = 0; i < argc; i++) {
		const char *a = argv[i], *eq, **dst = NULL;
		size_t len;
		int hv;

		if (i == 0 || a[0] != '-' || a[1] != '-' || a[2] == '\0') {
			if (i > 0 && !strcmp(a, "-h"))
				return 1;
			out[n++] = argv[i];
			continue;
		}
		eq = strchr(a + 2, '=');
		len = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
		if (len == 4 && !memcmp(a + 2, "help", 4))
			return 1;
		if (len == 6 && !memcmp(a + 2, "keeper", 6))
			dst = &l->keeper;
		else if (len == 4 && !memcmp(a + 2, "site", 4))
			dst = &l->site;
		else if (len == 4 && !memcmp(a + 2, "user", 4))
			dst = &l->user;
		else if ((len == 15 && !memcmp(a + 2, "passphrase-file", 15)) ||
			 (len == 13 && !memcmp(a + 2, "passphrase-fd", 13))) {
			static const char *ignored;
			dst = &ignored;           /* the keeper needs no passphrase from users */
		}
		hv = keeper_option_has_value(a + 2, len);
		if (dst) {
			if (eq)
				*dst = eq + 1;
			else if (i + 1 < argc)
				*dst = argv[++i];
			continue;
		}
		out[n++] = argv[i];
		if (hv == 1 && !eq && i + 1 < argc)
			out[n++] = argv[++i];
	}
	out[n] = NULL;
	*outc = n;
	return 0;
}

int cli_keeper_forward(int argc, char **argv)
{
	struct local l = { NULL, NULL, NULL };
	struct user_key key;
	char sock[SITE_PATH_MAX], dir[SITE_PATH_MAX], msg[SITE_MSG_MAX];
	char **out;
	const char *kf;
	int outc = 0, status = EXIT_FAIL, r;
	char *pr[KEEPER_ARGS_MAX + 1];

	/* `lacre proof record ...` is the keeper's "proof-record" */
	if (argc >= 2 && argc <= KEEPER_ARGS_MAX && !strcmp(argv[0], "proof") &&
	    !strcmp(argv[1], "record")) {
		pr[0] = "proof-record";
		for (int i = 2; i < argc; i++)
			pr[i - 1] = argv[i];
		pr[argc - 1] = NULL;
		argv = pr;
		argc--;
	}
	if (argc < 1 || !keeper_command_served(argc, argv))
		return -1;
	if ((out = calloc((size_t)argc + 1, sizeof(*out))) == NULL)
		return -1;
	if (split(argc, argv, &l, out, &outc) != 0) {
		free(out);
		return -1;
	}
	if (keeper_client_socket(l.keeper, site_dir_resolve(l.site, dir) == LACRE_OK ? dir : NULL,
				 sock, sizeof(sock)) != LACRE_OK) {
		free(out);
		return -1;                       /* no keeper: the in-process path */
	}
	kf = l.user && l.user[0] ? l.user : getenv(USERS_ENV);
	if (kf == NULL || !kf[0]) {
		cli_err("no acting user: use --user KEYFILE or set %s (the keeper serves signed "
			"requests only)", USERS_ENV);
		free(out);
		return EXIT_USAGE;
	}
	if ((r = user_key_load(kf, &key)) != LACRE_OK) {
		cli_err("cannot use the user key %s: %s", kf,
			r == LACRE_E_DENIED ? "it is readable by others (chmod 600 it)" :
			r == LACRE_E_MALFORMED ? "not a lacre user key file" : lacre_strerror(r));
		free(out);
		return EXIT_FAIL;
	}
	r = keeper_client_run(sock, &key, outc, out, &status, msg, sizeof(msg));
	user_key_wipe(&key);
	free(out);
	if (r != LACRE_OK) {
		cli_err("%s", msg[0] ? msg : lacre_strerror(r));
		return EXIT_FAIL;
	}
	return status;
}

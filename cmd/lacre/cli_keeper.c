/*
 * cli_keeper.c - the lacre CLI as a client of the keeper (docs/keeper.md).
 *
 * When a keeper is configured (--keeper PATH, $LACRE_KEEPER, or a socket
 * at SITE/keeper.sock; or https://HOST:PORT, a remote keeper reached
 * through lacre-console, lib/proto/https_client.c, its certificate pinned
 * by --keeper-fingerprint or --keeper-ca) every command the keeper serves (args.c) is sent to
 * it as a request signed with the acting user's key (--user KEYFILE or
 * $LACRE_USER): the CLI then never reads a passphrase and never opens a
 * key of the site.  --site, --user, --keeper and --passphrase-* are the
 * CLI's own and are not sent.  Without a keeper the command runs in the
 * keeper domain all the same: cli_keeper_exec replaces this process with
 * `lacre-keeper run -- ARGS` (same arguments, environment and
 * descriptors), which reads the passphrase and needs the keeper's file
 * permissions; the lacre client itself links no key code
 * (docs/trust-domains.md).
 *
 * `user add NAME ... -o KEYFILE` makes the new user's key pair here and
 * writes KEYFILE (0600, never over a file) before it asks the keeper to
 * register the public half (--public-key HEX): the private key never
 * leaves the administrator's process.  KEYFILE is removed when the keeper
 * refuses.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lacre/err.h"
#include "lacre/hex.h"
#include "lacre/keeper.h"
#include "lacre/site.h"
#include "lacre/users.h"
#include "cli.h"

/* The CLI's own options, taken out of what is sent. */
struct local {
	const char *keeper, *site, *user;
	const char *fingerprint, *ca;   /* an https:// keeper's certificate */
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
		else if (len == 18 && !memcmp(a + 2, "keeper-fingerprint", 18))
			dst = &l->fingerprint;
		else if (len == 9 && !memcmp(a + 2, "keeper-ca", 9))
			dst = &l->ca;
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

/* user add: the position of its key file option in out[0..*outc) and
 * the user's name.  Returns 1 when out is `user add` with -o/--output. */
static int user_add_keyfile(char **out, int outc, int *oi, int *vi, const char **name)
{
	*oi = *vi = -1;
	*name = NULL;
	if (outc < 2 || strcmp(out[0], "user") != 0 || strcmp(out[1], "add") != 0)
		return 0;
	for (int i = 2; i < outc; i++) {
		const char *a = out[i];
		if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
			*oi = i;
			*vi = i + 1 < outc ? i + 1 : -1;
			i++;
		} else if (!strncmp(a, "--output=", 9) || (!strncmp(a, "-o", 2) && a[2])) {
			*oi = *vi = i;
		} else if (a[0] == '-' && a[1] == '-') {
			const char *eq = strchr(a + 2, '=');
			size_t len = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
			if (!eq && keeper_option_has_value(a + 2, len) == 1)
				i++;
		} else if (a[0] != '-' && *name == NULL) {
			*name = a;
		}
	}
	return *oi >= 0 && *vi >= 0;
}

/* A keeper at https://HOST:PORT: lacre-console's API, its certificate
 * pinned by --keeper-fingerprint (or $LACRE_KEEPER_FINGERPRINT: the SHA-256
 * lacre-console prints, hex, colons allowed) or trusted by --keeper-ca FILE
 * (or $LACRE_KEEPER_CA). */
static int remote_run(const char *url, const struct local *l, const struct user_key *k, int argc,
		      char *const *argv, int *status, char *msg, size_t msglen)
{
	struct keeper_https_trust t;
	const char *fp = l->fingerprint ? l->fingerprint : getenv("LACRE_KEEPER_FINGERPRINT");
	char hx[65];
	size_t n = 0;

	memset(&t, 0, sizeof(t));
	t.ca_file = l->ca ? l->ca : getenv("LACRE_KEEPER_CA");
	if (fp && fp[0]) {
		for (const char *p = fp; *p && n < sizeof(hx) - 1; p++)
			if (*p != ':')
				hx[n++] = *p;
		hx[n] = '\0';
		if (n != 64 || lacre_unhex_text(hx, t.pin, sizeof(t.pin)) != 32) {
			snprintf(msg, msglen, "--keeper-fingerprint '%s' is not a SHA-256 fingerprint "
				 "(64 hex digits, as lacre-console prints it)", fp);
			return LACRE_E_INVALID;
		}
		t.have_pin = 1;
	}
	return keeper_https_run(url, &t, k, argc, argv, status, msg, msglen);
}

int cli_keeper_forward(int argc, char **argv)
{
	struct local l = { NULL, NULL, NULL, NULL, NULL };
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
	{
		/* user add -o KEYFILE: the key pair is made here, the keeper gets
		 * the public key only */
		static char pubarg[] = "--public-key";
		struct user_key nk;
		char hx[65], **sent = out;
		const char *name, *kfile = NULL;
		int oi, vi, sentc = outc;

		memset(&nk, 0, sizeof(nk));
		if (user_add_keyfile(out, outc, &oi, &vi, &name)) {
			kfile = out[vi] + (vi == oi ? (out[oi][1] == 'o' ? 2 : 9) : 0);
			if (name == NULL || !users_name_ok(name)) {
				cli_err("user add needs a valid NAME ([A-Za-z0-9][A-Za-z0-9._-]*); run "
					"'lacre help user'");
				user_key_wipe(&key);
				free(out);
				return EXIT_USAGE;
			}
			if ((r = user_key_generate(name, &nk)) != LACRE_OK ||
			    (r = user_key_write(&nk, kfile)) != LACRE_OK) {
				user_key_wipe(&nk);
				user_key_wipe(&key);
				free(out);
				if (r == LACRE_E_EXISTS) {
					cli_err("%s exists: choose another -o file (keys are never "
						"overwritten)", kfile);
					return EXIT_FAIL;
				}
				return cli_fail(r, "cannot write the new key file");
			}
			lacre_hex(nk.pub, 32, hx);
			user_key_wipe(&nk);
			if ((sent = calloc((size_t)outc + 2, sizeof(*sent))) == NULL) {
				unlink(kfile);
				user_key_wipe(&key);
				free(out);
				return cli_fail(LACRE_E_NOMEM, "user add");
			}
			sentc = 0;
			for (int i = 0; i < outc; i++) {
				if (i == oi) {
					sent[sentc++] = pubarg;
					sent[sentc++] = hx;
				} else if (i != vi) {
					sent[sentc++] = out[i];
				}
			}
			sent[sentc] = NULL;
		}
		if (!strncmp(sock, "https://", 8))
			r = remote_run(sock, &l, &key, sentc, sent, &status, msg, sizeof(msg));
		else
			r = keeper_client_run(sock, &key, sentc, sent, &status, msg, sizeof(msg));
		if (sent != out)
			free(sent);
		if (kfile && (r != LACRE_OK || status != EXIT_OK))
			unlink(kfile);          /* not registered: no key file */
		else if (kfile)
			fprintf(stderr, "lacre: the private key of %s is in %s (only there: keep it "
				"safe)\n", name, kfile);
	}
	user_key_wipe(&key);
	free(out);
	if (r != LACRE_OK) {
		cli_err("%s", msg[0] ? msg : lacre_strerror(r));
		/* https: a console whose certificate is not the trusted one is a
		 * verification failure; a bad address or fingerprint is usage */
		if (!strncmp(sock, "https://", 8))
			return r == LACRE_E_AUTH ? EXIT_VERIFY :
			       r == LACRE_E_INVALID || r == LACRE_E_CONFIG ? EXIT_USAGE : EXIT_FAIL;
		return EXIT_FAIL;
	}
	return status;
}

/* The program of the keeper domain, named beside this one. */
#define KEEPER_PROG "lacre-keeper"

int cli_keeper_exec(const char *mode, int argc, char **argv)
{
	char self[PATH_MAX], path[PATH_MAX + sizeof(KEEPER_PROG) + 1];
	char **av;
	ssize_t n;
	int k = 0, run = !strcmp(mode, "run");

	if ((av = calloc((size_t)argc + 4, sizeof(*av))) == NULL)
		return cli_fail(LACRE_E_NOMEM, "cannot run " KEEPER_PROG);
	av[k++] = KEEPER_PROG;
	av[k++] = (char *)mode;
	if (run)
		av[k++] = "--";
	/* run gets the whole command line; serve and init their options */
	for (int i = run ? 0 : 1; i < argc; i++)
		av[k++] = argv[i];
	av[k] = NULL;
	/* beside this program first (an installed pair, or build/bin/), so
	 * that PATH cannot pick another build; PATH only as a fallback */
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		char *slash;
		self[n] = '\0';
		if ((slash = strrchr(self, '/')) != NULL) {
			*slash = '\0';
			if (snprintf(path, sizeof(path), "%s/%s", self, KEEPER_PROG) <
			    (int)sizeof(path) && access(path, X_OK) == 0)
				execv(path, av);
		}
	}
	execvp(KEEPER_PROG, av);
	cli_err("cannot run %s (%s): '%s%s' runs in the keeper domain; install %s beside lacre "
		"or on PATH, or configure a keeper (--keeper, LACRE_KEEPER)", KEEPER_PROG,
		strerror(errno), argv[0], run ? "" : " ...", KEEPER_PROG);
	free(av);
	return EXIT_FAIL;
}

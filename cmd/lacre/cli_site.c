/*
 * cli_site.c - opening a site and its keystore for the commands, with the
 * error lines of DESIGN.md §8 (what went wrong and what to do).
 *
 * In a keeper worker (cmd_keeper.c) the keystore is the keeper's, opened
 * once at its start: cli_open_keystore hands it to the command and never
 * reads a passphrase.  Without a keeper (this stage still allows it, see
 * docs/keeper.md) the command unlocks master.age itself.
 */
#include <stdio.h>

#include <openssl/crypto.h>

#include "lacre/err.h"
#include "keeper/keystore.h"
#include "lacre/note.h"
#include "keeper/passphrase.h"
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

/* The keeper's keystore, in a keeper worker (one request per process). */
static struct keystore *worker_ks;
static int worker_mode;

void cli_keeper_worker_keystore(struct keystore *ks)
{
	worker_ks = ks;
	worker_mode = 1;
}

int cli_keeper_worker(void)
{
	return worker_mode;
}

int cli_open_keystore(const struct passphrase_src *src, const struct site *s,
		      struct keystore **ks)
{
	uint8_t master[SITE_MASTER_KEY_LEN];
	char *pass = NULL;
	int r;

	if (worker_mode) {
		/* the command closes what it gets: hand the keeper's keystore
		 * out once (a worker serves one request, then exits) */
		if (worker_ks == NULL) {
			cli_err("the keeper's keystore was already used by this request");
			return EXIT_FAIL;
		}
		*ks = worker_ks;
		worker_ks = NULL;
		return EXIT_OK;
	}

	r = passphrase_get(src, "master passphrase: ", 0, &pass);
	if (r != LACRE_OK) {
		cli_err("cannot read the master passphrase: %s%s", lacre_strerror(r),
			r == LACRE_E_NOT_FOUND ? " (use --passphrase-file, --passphrase-fd, "
			"LACRE_PASSPHRASE or a terminal)" : "");
		return EXIT_FAIL;
	}
	r = site_master_unlock(s, pass, master);
	passphrase_free(pass);
	if (r == LACRE_E_PASSPHRASE) {
		cli_err("wrong master passphrase for site %s", s->dir);
		return EXIT_FAIL;
	}
	if (r != LACRE_OK)
		return cli_fail(r, "cannot open master.age");
	r = keystore_open(s, master, ks);
	OPENSSL_cleanse(master, sizeof(master));
	if (r != LACRE_OK)
		return cli_fail(r, "cannot open the keystore");
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

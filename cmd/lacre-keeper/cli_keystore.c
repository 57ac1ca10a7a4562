/*
 * cli_keystore.c - the keystore for the commands of the keeper domain
 * (docs/trust-domains.md), with the error lines of DESIGN.md §8.
 *
 * In a keeper worker (cmd_keeper.c) the keystore is the keeper's, opened
 * once at its start: cli_open_keystore hands it to the command and never
 * reads a passphrase.  In a one-shot `lacre-keeper run` (what `lacre`
 * execs when no keeper is configured, docs/keeper.md) the command unlocks
 * master.age itself with the passphrase (or has the site's PKCS#11 token
 * unwrap master.p11, keeper/pkcs11.h).  Only lacre-keeper links this
 * file; the lacre client has no keystore code at all.
 */
#include <stdio.h>
#include <stdlib.h>

#include <openssl/crypto.h>

#include "keeper/keystore.h"
#include "keeper/master.h"
#include "keeper/passphrase.h"
#include "keeper/pkcs11.h"
#include "lacre/err.h"
#include "lacre/site.h"
#include "cli.h"

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

	if (s->cfg.pkcs11_module[0] != '\0') {
		/* a token site: the token unwraps the master key (the PIN comes
		 * from --passphrase-file/-fd, lacre-pin, LACRE_PIN or a terminal) */
		char msg[SITE_MSG_MAX];

		msg[0] = '\0';
		if ((r = p11_keystore_open(s, src, ks, msg, sizeof(msg))) != LACRE_OK) {
			cli_err("%s", msg[0] ? msg : lacre_strerror(r));
			return EXIT_FAIL;
		}
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

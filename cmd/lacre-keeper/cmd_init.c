/*
 * cmd_init.c - `lacre init [DIR]`: create a site (configuration, sealed
 * master key, oversight identity, warrant log, spool and objects folders).
 * Thin: the work is in lib/keeper/master.c, and in lib/keeper/pkcs11.c when a
 * PKCS#11 token seals the master key (--pkcs11-module: master.p11 instead
 * of master.age, the token's PIN instead of a passphrase).  Documented in
 * docs/cmd-init.md and docs/keeper.md.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "keeper/master.h"
#include "lacre/err.h"
#include "lacre/json.h"
#include "keeper/passphrase.h"
#include "keeper/pkcs11.h"
#include "lacre/site.h"
#include "cli.h"

/* Print the option summary. */
static void usage(FILE *f)
{
	fprintf(f,
	"usage: lacre init [DIR] [options]\n"
	"\n"
	"Create a new site in DIR (or --site DIR, or $LACRE_SITE).\n"
	"\n"
	"  --site DIR             the site folder (must not exist or be empty)\n"
	"  --set KEY=VALUE        set a configuration key (repeat; docs/site.md)\n"
	"  --name NAME            site.name\n"
	"  --hi2 HOST:PORT        ingest.hi2 (default 127.0.0.1:5001)\n"
	"  --hi3 HOST:PORT        ingest.hi3 (default 127.0.0.1:5002)\n"
	"  --backend SPEC         backend (default dir:DIR/objects)\n"
	"  --oversight-recipient age1...   seal quarantine to this recipient instead\n"
	"                         of a new oversight identity kept in the keystore\n"
	"  --scrypt-log2n N       scrypt work factor of master.age (default 18, or\n"
	"                         $LACRE_SCRYPT_LOG2N; tests use 10)\n"
	"  --passphrase-file F    read the new master passphrase from F\n"
	"  --passphrase-fd N      read it from descriptor N\n"
	"                         (else $LACRE_PASSPHRASE, else a prompt, asked twice)\n"
	"  --pkcs11-module PATH   seal the master key with a PKCS#11 token instead of a\n"
	"                         passphrase: master.pkcs11_module (absolute .so path)\n"
	"  --pkcs11-token LABEL   master.pkcs11_token, the token's label\n"
	"  --pkcs11-key LABEL     master.pkcs11_key, its AES-256 key (default\n"
	"                         " P11_DEFAULT_KEY_LABEL "; generated in the token when absent)\n"
	"  --pin-file F, --pin-fd N   the token's user PIN (else the credential\n"
	"                         lacre-pin, $LACRE_PIN, else a prompt)\n"
	"  --json                 print the result as a JSON object\n");
}

/* lacre init with a PKCS#11 token (cfg->pkcs11_module set): read the PIN
 * and have the token seal the master key into master.p11 (no passphrase).
 * *site is the new site on EXIT_OK. */
static int init_token(const char *dir, struct site_config *cfg, const struct passphrase_src *src,
		      struct site *site)
{
	char msg[SITE_MSG_MAX], *pin = NULL;
	int r;

	if (cfg->pkcs11_key[0] == '\0')
		snprintf(cfg->pkcs11_key, sizeof(cfg->pkcs11_key), "%s", P11_DEFAULT_KEY_LABEL);
	msg[0] = '\0';
	if (site_config_check_master(cfg, msg, sizeof(msg)) != LACRE_OK) {
		cli_err("%s", msg);
		return EXIT_USAGE;
	}
	r = p11_pin_get(src, &pin);
	if (r != LACRE_OK) {
		cli_err("cannot read the PIN of token '%s': %s%s", cfg->pkcs11_token, lacre_strerror(r),
			r == LACRE_E_NOT_FOUND ? " (use --pin-file, --pin-fd, LACRE_PIN or a terminal)"
			: "");
		return EXIT_FAIL;
	}
	msg[0] = '\0';
	r = p11_site_create(dir, cfg, pin, site, msg, sizeof(msg));
	passphrase_free(pin);
	if (r != LACRE_OK) {
		cli_err("init %s: %s", dir, msg[0] ? msg : lacre_strerror(r));
		return cli_exit_status(r);
	}
	return EXIT_OK;
}

int cmd_init(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "site", required_argument, NULL, 's' },
		{ "set", required_argument, NULL, 'S' },
		{ "name", required_argument, NULL, 'N' },
		{ "hi2", required_argument, NULL, '2' },
		{ "hi3", required_argument, NULL, '3' },
		{ "backend", required_argument, NULL, 'b' },
		{ "oversight-recipient", required_argument, NULL, 'o' },
		{ "scrypt-log2n", required_argument, NULL, 'w' },
		{ "passphrase-file", required_argument, NULL, 'p' },
		{ "passphrase-fd", required_argument, NULL, 'f' },
		{ "pkcs11-module", required_argument, NULL, 'M' },
		{ "pkcs11-token", required_argument, NULL, 'T' },
		{ "pkcs11-key", required_argument, NULL, 'K' },
		{ "pin-file", required_argument, NULL, 'p' },
		{ "pin-fd", required_argument, NULL, 'f' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct { const char *key; const char *val; } sets[64];
	struct passphrase_src src;
	struct site_config cfg;
	struct site site;
	const char *dirarg = NULL, *env;
	char dir[SITE_PATH_MAX], conf[SITE_PATH_MAX + 16], msg[SITE_MSG_MAX], *pass = NULL;
	size_t nsets = 0;
	int c, json = 0, r;

	passphrase_src_init(&src);
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		const char *key = NULL;
		switch (c) {
		case 's': dirarg = optarg; break;
		case 'S': key = ""; break;
		case 'N': key = "site.name"; break;
		case '2': key = "ingest.hi2"; break;
		case '3': key = "ingest.hi3"; break;
		case 'b': key = "backend"; break;
		case 'o': key = "oversight.recipient"; break;
		case 'w': key = "master.scrypt_log2n"; break;
		case 'M': key = "master.pkcs11_module"; break;
		case 'T': key = "master.pkcs11_token"; break;
		case 'K': key = "master.pkcs11_key"; break;
		case 'p': src.file = optarg; break;
		case 'f':
			if (cli_passphrase_fd(optarg, &src.fd) != EXIT_OK)
				return EXIT_USAGE;
			break;
		case 'j': json = 1; break;
		case 'h': usage(stdout); return EXIT_OK;
		default: usage(stderr); return EXIT_USAGE;
		}
		if (key != NULL) {
			if (nsets == sizeof(sets) / sizeof(sets[0])) {
				cli_err("too many settings");
				return EXIT_USAGE;
			}
			sets[nsets].key = key;
			sets[nsets++].val = optarg;
		}
	}
	if (optind < argc)
		dirarg = argv[optind++];
	if (optind < argc) {
		cli_err("unexpected argument '%s'; run 'lacre help init'", argv[optind]);
		return EXIT_USAGE;
	}
	if (site_dir_resolve(dirarg, dir) != LACRE_OK) {
		cli_err("no site folder: give DIR, --site DIR or set LACRE_SITE");
		return EXIT_USAGE;
	}
	if (snprintf(conf, sizeof(conf), "%s/%s", dir, SITE_CONF) < (int)sizeof(conf) &&
	    access(conf, F_OK) == 0) {
		cli_err("%s is already a lacre site; choose a new folder", dir);
		return EXIT_FAIL;
	}
	site_config_defaults(&cfg, dir);
	env = getenv("LACRE_SCRYPT_LOG2N");
	if (env != NULL && site_config_set(&cfg, "master.scrypt_log2n", env, msg, sizeof(msg))) {
		cli_err("LACRE_SCRYPT_LOG2N: %s", msg);
		return EXIT_USAGE;
	}
	for (size_t i = 0; i < nsets; i++) {
		r = sets[i].key[0] ? site_config_set(&cfg, sets[i].key, sets[i].val, msg, sizeof(msg))
				   : site_config_set_arg(&cfg, sets[i].val, msg, sizeof(msg));
		if (r != LACRE_OK) {
			cli_err("%s", msg);
			return EXIT_USAGE;
		}
	}
	if (strncmp(cfg.backend, "s3://", 5) == 0) {
		/* an s3 backend must answer before the site exists (a dir:
		 * backend is the site's own folder, made with it) */
		static struct site probe;
		memset(&probe, 0, sizeof(probe));
		snprintf(probe.dir, sizeof(probe.dir), "%s", dir);
		probe.cfg = cfg;
		if ((r = site_store_check(&probe, msg, sizeof(msg))) != LACRE_OK) {
			cli_err("init %s: %s; nothing was created", dir, msg);
			return EXIT_FAIL;
		}
	}
	if (cfg.pkcs11_module[0] != '\0') {
		if ((r = init_token(dir, &cfg, &src, &site)) != EXIT_OK)
			return r;
		goto created;
	}
	r = passphrase_get(&src, "new master passphrase: ", 1, &pass);
	if (r == LACRE_E_PASSPHRASE) {
		cli_err("the new master passphrase is empty or has several lines, or the two "
			"entries differ; try again");
		return EXIT_FAIL;
	}
	if (r != LACRE_OK) {
		cli_err("cannot read the master passphrase: %s%s", lacre_strerror(r),
			r == LACRE_E_NOT_FOUND ? " (use --passphrase-file, --passphrase-fd, "
			"LACRE_PASSPHRASE or a terminal)" : "");
		return EXIT_FAIL;
	}
	r = site_create(dir, &cfg, pass, &site, msg, sizeof(msg));
	passphrase_free(pass);
	if (r != LACRE_OK) {
		cli_err("init %s: %s", dir, msg[0] ? msg : lacre_strerror(r));
		return cli_exit_status(r);
	}
created:
	if (json) {
		struct lacre_dbuf d;
		struct json_w w;
		lacre_dbuf_init(&d, 1 << 16);
		json_init(&w, &d);
		json_obj_begin(&w);
		json_kv_str(&w, "site", site.dir);
		json_kv_str(&w, "name", site.cfg.name);
		json_kv_str(&w, "oversight_recipient", site.cfg.oversight_recipient);
		json_kv_str(&w, "hi2", site.cfg.hi2);
		json_kv_str(&w, "hi3", site.cfg.hi3);
		json_kv_str(&w, "backend", site.cfg.backend);
		json_obj_end(&w);
		r = json_finish(&w);
		if (r == LACRE_OK)
			printf("%.*s\n", (int)d.len, (const char *)d.p);
		lacre_dbuf_free(&d);
		if (r != LACRE_OK)
			return cli_fail(r, "json");
	} else {
		printf("site %s created\noversight recipient %s\n", site.dir,
		       site.cfg.oversight_recipient);
	}
	return EXIT_OK;
}

/*
 * main.c - lacre-keeper, the program of the keeper domain
 * (docs/trust-domains.md, docs/keeper.md).  It alone links the keystore,
 * the master-key unlock and the gate (liblacre-keeper.a); the lacre client
 * execs it for what needs them:
 *
 *   lacre-keeper serve [OPTIONS]        the keeper service (`lacre keeper`)
 *   lacre-keeper init DIR [OPTIONS]     create a site (`lacre init`)
 *   lacre-keeper run [--] COMMAND ...   one command of the keeper domain in
 *                                       this process, with the passphrase
 *                                       (what `lacre COMMAND` does when no
 *                                       keeper is configured)
 *
 * A one-shot `run` IS the keeper domain: it unlocks master.age with the
 * passphrase and opens the keystore, so it works only for whoever owns
 * the keeper's files and knows the passphrase.  The commands gate
 * themselves exactly as in a keeper worker, except that the acting user
 * is the key file given (--user) rather than an authenticated request.
 */
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "cli.h"

/* The commands `run` runs: the keeper's allow-list (lib/proto/args.c) by
 * name, and `proof record`. */
static const struct {
	const char *name;
	cli_cmd_fn fn;
} runs[] = {
	{ "warrant", cmd_warrant },
	{ "records", cmd_records },
	{ "quarantine", cmd_quarantine },
	{ "user", cmd_user },
	{ "access-log", cmd_accesslog },
	{ "shred", cmd_shred },
	{ "retention", cmd_retention },
	{ "export", cmd_export },
	{ "calls", cmd_calls },
	{ "locations", cmd_locations },
	{ "audio", cmd_audio },
	{ "pcap", cmd_pcap },
	{ "reindex", cmd_reindex },
	{ "proof-record", cmd_proof_record },
	{ "audit", cmd_audit_site },           /* audit --site DIR --deep */
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: lacre-keeper serve [OPTIONS]       the keeper service ('lacre keeper')\n"
		"       lacre-keeper init DIR [OPTIONS]    create a site ('lacre init')\n"
		"       lacre-keeper run [--] COMMAND ...  one command of the keeper domain here,\n"
		"                                          with the master passphrase\n"
		"The keeper domain: the only program that unlocks the master key and opens the\n"
		"keystore.  The lacre client runs it for you; 'lacre-keeper serve --help' and\n"
		"'lacre help COMMAND' show the options.\n");
}

/* lacre-keeper run [--] COMMAND ARGS. */
static int run(int argc, char **argv)
{
	if (argc >= 1 && !strcmp(argv[0], "--")) {
		argc--;
		argv++;
	}
	if (argc < 1) {
		fprintf(stderr, "lacre-keeper: run needs a command, e.g. 'lacre-keeper run -- records "
			"--site DIR --warrant W'\n");
		return EXIT_USAGE;
	}
	if (argc >= 2 && !strcmp(argv[0], "proof")) {
		if (strcmp(argv[1], "record") != 0) {
			fprintf(stderr, "lacre-keeper: 'proof %s' needs no key: run 'lacre proof %s'\n",
				argv[1], argv[1]);
			return EXIT_USAGE;
		}
		return cmd_proof_record(argc - 1, argv + 1);
	}
	for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++)
		if (!strcmp(runs[i].name, argv[0]))
			return runs[i].fn(argc, argv);
	fprintf(stderr, "lacre-keeper: '%s' is not a command of the keeper domain; run it with "
		"'lacre %s'\n", argv[0], argv[0]);
	return EXIT_USAGE;
}

int main(int argc, char **argv)
{
	struct rlimit no_core = { 0, 0 };

	/* no core dumps: a crash must not write key material to disk */
	setrlimit(RLIMIT_CORE, &no_core);
	/* audit --deep decrypts here (cmd_audit_site.c calls it through the hook) */
	cli_audit_deep_hook = cli_audit_deep;
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return EXIT_OK;
	}
	/* argv[1] becomes the command's argv[0], as in `lacre COMMAND` */
	if (!strcmp(argv[1], "serve") || !strcmp(argv[1], "keeper")) {
		argv[1] = "keeper";
		return cmd_keeper(argc - 1, argv + 1);
	}
	if (!strcmp(argv[1], "init"))
		return cmd_init(argc - 1, argv + 1);
	if (!strcmp(argv[1], "run"))
		return run(argc - 2, argv + 2);
	fprintf(stderr, "lacre-keeper: no mode '%s' (serve, init or run); run 'lacre-keeper "
		"--help'\n", argv[1]);
	return EXIT_USAGE;
}

/*
 * main.c - the lacre command, the user's client: dispatches to one
 * subcommand (git/curl style).  Every subcommand is documented in
 * docs/cmd-<name>.md.
 *
 * This program is linked with liblacre-core.a only (docs/trust-domains.md):
 * it holds no keystore, master-key or gate code, and the Makefile's link
 * check proves it.  It runs the keyless commands itself (decode, ingest,
 * log, proof, witness, audit, user list).  A command of the keeper domain
 * (reads, exports, warrants, users, shredding, retention, audit --deep,
 * proof record) is sent to the keeper when one is configured, signed by
 * the user (cli_keeper.c, docs/keeper.md); without a keeper, and for
 * `init` and `keeper`, this process execs lacre-keeper, which runs it
 * with the passphrase and the keeper's file permissions.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "lacre/keeper.h"
#include "cli.h"

struct subcmd {
	const char *name;
	cli_cmd_fn fn;            /* NULL: the keeper domain's (lacre-keeper) */
	const char *summary;
};

/* `lacre user list`: the one user command that runs here (keeper_domain
 * sends the others to the keeper domain). */
static int cmd_user_client(int argc, char **argv)
{
	return cmd_user_list(argc - 1, argv + 1);
}

static const struct subcmd subcmds[] = {
	{ "decode", cmd_decode, "decode an ETSI handover stream to JSON lines" },
	{ "ingest", cmd_ingest, "run the handover receiver (HI2/HI3 listeners)" },
	{ "init", NULL, "create a site" },
	{ "keeper", NULL, "the service that alone unlocks the master key and serves reads" },
	{ "warrant", NULL, "add, show, list, extend or cease warrants" },
	{ "records", NULL, "decrypt and print the records of a warrant" },
	{ "quarantine", NULL, "list quarantined records with reasons" },
	{ "log", cmd_log, "ledger keys and checkpoints" },
	{ "proof", cmd_proof, "write an inclusion receipt for a record" },
	{ "witness", cmd_witness, "serve the tlog-witness protocol" },
	{ "status", cmd_status, "the running receiver's live figures and alerts" },
	{ "metrics", cmd_metrics, "serve the receiver's figures to Prometheus (loopback)" },
	{ "audit", cmd_audit, "verify a backend against the ledger" },
	{ "user", cmd_user_client, "add, list or disable users and their roles" },
	{ "access-log", NULL, "read the verified access log (auditor)" },
	{ "shred", NULL, "destroy a warrant's key by court order (two users, one a clerk)" },
	{ "retention", NULL, "court states; cases whose data outlived its legal basis" },
	{ "export", NULL, "write an evidence package for the court" },
	{ "calls", NULL, "list a warrant's calls and sessions (IRI and CC correlated)" },
	{ "locations", NULL, "list the locations a warrant's IRIs carry, in time order" },
	{ "audio", NULL, "write a call's audio as a stereo WAV (left: from the target)" },
	{ "pcap", NULL, "write a warrant's content packets to a pcap file" },
	{ "reindex", NULL, "rebuild the access index of sealed records" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: lacre COMMAND [ARGS]\n\ncommands:\n");
	for (unsigned i = 0; i < sizeof(subcmds) / sizeof(subcmds[0]); i++)
		fprintf(f, "  %-12s %s\n", subcmds[i].name, subcmds[i].summary);
	fprintf(f, "\n'lacre help COMMAND' shows a command's options.\n");
}

/* Whether argv (argv[0] the command of entry c) runs in the keeper domain:
 * the keeper's own commands, `user` but `user list`, `audit --deep` and
 * `proof record` (the keeper's allow-list decides, lib/proto/args.c). */
static int keeper_domain(const struct subcmd *c, int argc, char **argv)
{
	if (c->fn == NULL)
		return 1;
	if (!strcmp(c->name, "user"))
		return argc < 2 || strcmp(argv[1], "list") != 0;
	if (!strcmp(c->name, "proof"))
		return argc >= 2 && !strcmp(argv[1], "record");
	if (!strcmp(c->name, "audit"))
		return keeper_command_served(argc, argv);
	return 0;
}

/* Run the command of entry c: through the keeper when one is configured
 * and serves it, else in lacre-keeper (keeper domain), else here. */
static int run(const struct subcmd *c, int argc, char **argv)
{
	int st;

	if (!strcmp(c->name, "keeper"))
		return cli_keeper_exec("serve", argc, argv);
	if (!strcmp(c->name, "init"))
		return cli_keeper_exec("init", argc, argv);
	/* a keeper is configured: it runs the command, signed by the user */
	if ((st = cli_keeper_forward(argc, argv)) >= 0)
		return st;
	if (keeper_domain(c, argc, argv))
		return cli_keeper_exec("run", argc, argv);
	return c->fn(argc, argv);
}

int main(int argc, char **argv)
{
	struct rlimit no_core = { 0, 0 };
	const char *name;

	/* no core dumps: a crash must not write a user's key to disk */
	setrlimit(RLIMIT_CORE, &no_core);
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	name = argv[1];
	if (!strcmp(name, "help") || !strcmp(name, "--help") || !strcmp(name, "-h")) {
		if (argc >= 3) {
			for (unsigned i = 0; i < sizeof(subcmds) / sizeof(subcmds[0]); i++)
				if (!strcmp(subcmds[i].name, argv[2])) {
					char *hv[] = { argv[2], "--help", NULL };
					const struct subcmd *c = &subcmds[i];
					if (c->fn == NULL || !strcmp(c->name, "user"))
						return cli_keeper_exec(!strcmp(c->name, "keeper") ? "serve" :
								       !strcmp(c->name, "init") ? "init" : "run",
								       2, hv);
					return c->fn(2, hv);
				}
			cli_err("no command '%s'; run 'lacre help' for the list", argv[2]);
			return EXIT_USAGE;
		}
		usage(stdout);
		return EXIT_OK;
	}
	for (unsigned i = 0; i < sizeof(subcmds) / sizeof(subcmds[0]); i++)
		if (!strcmp(subcmds[i].name, name))
			return run(&subcmds[i], argc - 1, argv + 1);
	cli_err("no command '%s'; run 'lacre help' for the list", name);
	return EXIT_USAGE;
}

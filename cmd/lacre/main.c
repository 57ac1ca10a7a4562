/*
 * main.c - the lacre command: dispatches to one subcommand (git/curl style).
 * Every subcommand lives in cmd/lacre/cmd_<name>.c and is documented in
 * docs/cmd-<name>.md.  When a keeper is configured, the commands it serves
 * are sent to it instead (cli_keeper.c, docs/keeper.md).
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "lacre/err.h"
#include "cli.h"

struct subcmd {
	const char *name;
	cli_cmd_fn fn;
	const char *summary;
};

static const struct subcmd subcmds[] = {
	{ "decode", cmd_decode, "decode an ETSI handover stream to JSON lines" },
	{ "ingest", cmd_ingest, "run the handover receiver (HI2/HI3 listeners)" },
	{ "init", cmd_init, "create a site" },
	{ "keeper", cmd_keeper, "the service that alone unlocks the master key and serves reads" },
	{ "warrant", cmd_warrant, "add, show, list, extend or cease warrants" },
	{ "records", cmd_records, "decrypt and print the records of a warrant" },
	{ "quarantine", cmd_quarantine, "list quarantined records with reasons" },
	{ "log", cmd_log, "ledger keys and checkpoints" },
	{ "proof", cmd_proof, "write an inclusion receipt for a record" },
	{ "witness", cmd_witness, "serve the tlog-witness protocol" },
	{ "status", cmd_status, "the running receiver's live figures and alerts" },
	{ "metrics", cmd_metrics, "serve the receiver's figures to Prometheus (loopback)" },
	{ "audit", cmd_audit, "verify a backend against the ledger" },
	{ "user", cmd_user, "add, list or disable users and their roles" },
	{ "access-log", cmd_accesslog, "read the verified access log (auditor)" },
	{ "shred", cmd_shred, "destroy a warrant's key by court order (two users, one a clerk)" },
	{ "retention", cmd_retention, "court states; cases whose data outlived its legal basis" },
	{ "export", cmd_export, "write an evidence package for the court" },
	{ "calls", cmd_calls, "list a warrant's calls and sessions (IRI and CC correlated)" },
	{ "audio", cmd_audio, "write a call's audio as a stereo WAV (left: from the target)" },
	{ "pcap", cmd_pcap, "write a warrant's content packets to a pcap file" },
	{ "reindex", cmd_reindex, "rebuild the access index of sealed records" },
};

void cli_err(const char *fmt, ...)
{
	va_list ap;
	fputs("lacre: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cli_passphrase_fd(const char *arg, int *fd)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (!arg[0] || strspn(arg, "0123456789") != strlen(arg) || *end || errno != 0 ||
	    v < 0 || v > INT_MAX) {
		cli_err("--passphrase-fd needs a file descriptor number, got '%s'", arg);
		return EXIT_USAGE;
	}
	*fd = (int)v;
	return EXIT_OK;
}

int cli_exit_status(int err)
{
	switch (err) {
	case LACRE_OK:
		return EXIT_OK;
	case LACRE_E_INVALID:
		return EXIT_USAGE;
	case LACRE_E_VERIFY:
	case LACRE_E_CORRUPT:
	case LACRE_E_MISSING:
	case LACRE_E_TRUNCATED:
	case LACRE_E_ROLLBACK:
	case LACRE_E_FORK:
	case LACRE_E_AUTH:
		return EXIT_VERIFY;
	default:
		return EXIT_FAIL;
	}
}

int cli_fail(int err, const char *what)
{
	cli_err("%s: %s", what, lacre_strerror(err));
	return cli_exit_status(err);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: lacre COMMAND [ARGS]\n\ncommands:\n");
	for (unsigned i = 0; i < sizeof(subcmds) / sizeof(subcmds[0]); i++)
		fprintf(f, "  %-12s %s\n", subcmds[i].name, subcmds[i].summary);
	fprintf(f, "\n'lacre help COMMAND' shows a command's options.\n");
}

int main(int argc, char **argv)
{
	struct rlimit no_core = { 0, 0 };
	const char *name;

	/* no core dumps: a crash must not write key material to disk */
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
					return subcmds[i].fn(2, hv);
				}
			cli_err("no command '%s'; run 'lacre help' for the list", argv[2]);
			return EXIT_USAGE;
		}
		usage(stdout);
		return EXIT_OK;
	}
	for (unsigned i = 0; i < sizeof(subcmds) / sizeof(subcmds[0]); i++)
		if (!strcmp(subcmds[i].name, name)) {
			/* a keeper is configured: it runs the command, signed by the user */
			int st = cli_keeper_forward(argc - 1, argv + 1);
			return st >= 0 ? st : subcmds[i].fn(argc - 1, argv + 1);
		}
	cli_err("no command '%s'; run 'lacre help' for the list", name);
	return EXIT_USAGE;
}

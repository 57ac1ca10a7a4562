/*
 * cmd_witness.c - `lacre witness`: a C2SP tlog-witness server
 * (docs/cmd-witness.md).
 *
 *   lacre witness --listen ADDR:PORT --key KEYFILE --state DIR --log VKEY...
 *
 * KEYFILE is a cosigner (0x04) key made with `lacre log keygen NAME -o FILE
 * --witness`; each --log is the vkey of a log this witness follows (its
 * name is the log's origin).  Runs until SIGINT or SIGTERM.  With port 0 a
 * free port is chosen; the bound address is printed on stdout as
 * "listening on 127.0.0.1:PORT".
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "lacre/err.h"
#include "lacre/note.h"
#include "lacre/witness.h"
#include "cli.h"

static volatile sig_atomic_t stop_flag;

/* SIGINT / SIGTERM: stop after the request in progress. */
static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

/* Print the bound port once listening. */
static void on_ready(void *arg, int port)
{
	printf("listening on %s:%d\n", (const char *)arg, port);
	fflush(stdout);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: lacre witness --listen ADDR:PORT --key KEYFILE --state DIR --log VKEY...\n"
		"\n"
		"Serve POST /add-checkpoint (C2SP tlog-witness v1.0.0) and\n"
		"GET /<hex sha256(origin)>/checkpoint for the logs given with --log.\n"
		"\n"
		"  --listen ADDR:PORT  address to listen on (port 0: any free port)\n"
		"  --key KEYFILE       the witness's cosigner key (lacre log keygen --witness)\n"
		"  --state DIR         where the latest cosigned checkpoint of each log is kept\n"
		"  --log VKEY          a log to witness (repeatable; name = origin)\n"
		"  -h, --help          show this help\n");
}

/* `lacre witness`. */
int cmd_witness(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "key", required_argument, NULL, 'k' },
		{ "state", required_argument, NULL, 's' },
		{ "log", required_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct note_verifier logs[WITNESS_MAX_LOGS];
	struct note_signer *key = NULL;
	struct witness *w = NULL;
	struct witness_config cfg;
	struct sigaction sa;
	const char *listen_addr = NULL, *keyfile = NULL, *state = NULL;
	char host[64];
	size_t nlogs = 0;
	int c, rc, status = EXIT_FAIL;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'l': listen_addr = optarg; break;
		case 'k': keyfile = optarg; break;
		case 's': state = optarg; break;
		case 'L':
			if (nlogs == WITNESS_MAX_LOGS ||
			    note_verifier_parse(optarg, strlen(optarg), &logs[nlogs]) != LACRE_OK ||
			    logs[nlogs].type != NOTE_TYPE_ED25519) {
				cli_err("--log '%s' is not a log vkey (name+id+key, type 0x01)", optarg);
				return EXIT_USAGE;
			}
			nlogs++;
			break;
		case 'h': usage(stdout); return EXIT_OK;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (!listen_addr || !keyfile || !state || nlogs == 0 || optind != argc) {
		cli_err("witness needs --listen, --key, --state and at least one --log");
		return EXIT_USAGE;
	}
	if ((rc = note_signer_load(keyfile, &key)) != LACRE_OK)
		return cli_fail(rc, keyfile);
	cfg.key = key;
	cfg.state_dir = state;
	cfg.logs = logs;
	cfg.nlogs = nlogs;
	if ((rc = witness_open(&cfg, &w)) != LACRE_OK) {
		status = cli_fail(rc, rc == LACRE_E_INVALID ?
				  "witness key must be a cosigner key (keygen --witness)" : state);
		goto done;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	snprintf(host, sizeof(host), "%.*s", (int)strcspn(listen_addr, ":"), listen_addr);
	if ((rc = witness_serve(w, listen_addr, &stop_flag, on_ready, host)) != LACRE_OK) {
		status = cli_fail(rc, listen_addr);
		goto done;
	}
	status = EXIT_OK;
done:
	witness_close(w);
	note_signer_free(key);
	return status;
}

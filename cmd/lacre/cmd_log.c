/*
 * cmd_log.c - `lacre log`: ledger keys and a hand-driven log (docs/cmd-log.md).
 *
 *   lacre log keygen NAME -o FILE [--witness]   new Ed25519 key (0x01, or a
 *                                               0x04 cosigner key); prints
 *                                               the vkey
 *   lacre log keys (--state DIR | --key FILE)   print the vkey
 *   lacre log append --state DIR --store SPEC --key FILE [--hex] ENTRY...
 *                                               append entries (or stdin
 *                                               lines with '-'), checkpoint
 *   lacre log checkpoint --state DIR --store SPEC --key FILE
 *                    [--witness "URL VKEY"]... [--quorum K]
 *                                               sign and publish, print it
 * The work is in lib/ledger (tlog.h, note.h); this file parses options.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lacre/err.h"
#include "lacre/hex.h"
#include "lacre/note.h"
#include "lacre/store.h"
#include "lacre/tlog.h"
#include "cli.h"

#define MAX_W 32

static void usage(FILE *f)
{
	fprintf(f,
		"usage: lacre log keygen NAME -o FILE [--witness]\n"
		"       lacre log keys (--state DIR | --key FILE)\n"
		"       lacre log append --state DIR --store SPEC --key FILE [--hex] ENTRY...|-\n"
		"       lacre log checkpoint --state DIR --store SPEC --key FILE\n"
		"                            [--witness \"URL VKEY\"]... [--quorum K] [--policy FILE]\n"
		"\n"
		"Ledger keys and a log driven by hand (the ingest and access logs are\n"
		"driven by their daemons).  The log's origin is the key's name.\n"
		"\n"
		"  -o FILE          write the private key there (mode 0600, must not exist)\n"
		"  --witness        keygen: a witness (cosigner, type 0x04) key\n"
		"  --state DIR      the log's durable state folder\n"
		"  --store SPEC     storage backend (dir:PATH, s3://BUCKET/PREFIX)\n"
		"  --key FILE       the log's private key file\n"
		"  --hex            entries are hex (e.g. 32-byte commitments)\n"
		"  --witness \"URL VKEY\"  ask this witness to cosign (repeatable)\n"
		"  --quorum K       cosignatures needed before publishing (default: all)\n"
		"  --policy FILE    witnesses, URLs and quorum from a tlog-policy file\n"
		"  -h, --help       show this help\n");
}

/* Write a new private key file (O_EXCL, 0600) and print the vkey. */
static int do_keygen(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "witness", no_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct note_signer *s = NULL;
	struct note_verifier v;
	struct lacre_dbuf d;
	const char *out = NULL;
	uint8_t type = NOTE_TYPE_ED25519;
	int c, fd = -1, rc, status = EXIT_FAIL;

	lacre_dbuf_init(&d, 4096);
	lacre_dbuf_set_secret(&d);
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o': out = optarg; break;
		case 'w': type = NOTE_TYPE_COSIG; break;
		case 'h': usage(stdout); status = EXIT_OK; goto done;
		default: usage(stderr); status = EXIT_USAGE; goto done;
		}
	}
	if (optind + 1 != argc || out == NULL) {
		cli_err("keygen needs a key NAME and -o FILE");
		status = EXIT_USAGE;
		goto done;
	}
	if ((rc = note_signer_generate(argv[optind], type, &s)) != LACRE_OK) {
		cli_err("key name '%s' is not valid: use a scheme-less URL without spaces or '+'", argv[optind]);
		status = EXIT_USAGE;
		goto done;
	}
	if ((rc = note_signer_format(s, &d)) != LACRE_OK || (rc = lacre_dbuf_add_u8(&d, '\n')) != LACRE_OK) {
		status = cli_fail(rc, "key");
		goto done;
	}
	if ((fd = open(out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0) {
		cli_err("%s: %s (remove it first to replace a key)", out, strerror(errno));
		goto done;
	}
	if (write(fd, d.p, d.len) != (ssize_t)d.len || fsync(fd) != 0) {
		cli_err("%s: write failed: %s", out, strerror(errno));
		goto done;
	}
	lacre_dbuf_reset(&d);
	note_signer_public(s, &v);
	if ((rc = note_verifier_format(&v, &d)) != LACRE_OK) {
		status = cli_fail(rc, "vkey");
		goto done;
	}
	printf("%.*s\n", (int)d.len, (const char *)d.p);
	status = EXIT_OK;
done:
	if (fd >= 0)
		close(fd);
	note_signer_free(s);
	lacre_dbuf_free(&d);
	return status;
}

/* Print a log's vkey from its state folder or its private key. */
static int do_keys(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "state", required_argument, NULL, 's' },
		{ "key", required_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *state = NULL, *key = NULL;
	struct lacre_dbuf d;
	struct note_verifier v;
	char path[4096];
	int c, rc, status = EXIT_FAIL;

	lacre_dbuf_init(&d, 4096);
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 's': state = optarg; break;
		case 'k': key = optarg; break;
		case 'h': usage(stdout); status = EXIT_OK; goto done;
		default: usage(stderr); status = EXIT_USAGE; goto done;
		}
	}
	if ((state == NULL) == (key == NULL) || optind != argc) {
		cli_err("keys needs --state DIR or --key FILE");
		status = EXIT_USAGE;
		goto done;
	}
	if (key) {
		struct note_signer *s = NULL;
		if ((rc = note_signer_load(key, &s)) != LACRE_OK) {
			status = cli_fail(rc, key);
			goto done;
		}
		note_signer_public(s, &v);
		note_signer_free(s);
	} else {
		snprintf(path, sizeof(path), "%s/vkey", state);
		if ((rc = note_read_file(path, 1024, &d)) != LACRE_OK ||
		    (rc = note_verifier_parse((const char *)d.p, d.len, &v)) != LACRE_OK) {
			cli_err("%s: %s (is this a log state folder?)", path, lacre_strerror(rc));
			status = cli_exit_status(rc);
			goto done;
		}
		lacre_dbuf_reset(&d);
	}
	if ((rc = note_verifier_format(&v, &d)) != LACRE_OK) {
		status = cli_fail(rc, "vkey");
		goto done;
	}
	printf("%.*s\n", (int)d.len, (const char *)d.p);
	status = EXIT_OK;
done:
	lacre_dbuf_free(&d);
	return status;
}

/* Append one entry given on the command line or stdin. */
static int append_one(struct tlog *log, const char *arg, int hex)
{
	static uint8_t buf[TLOG_ENTRY_MAX];
	uint64_t idx;
	long n;
	int rc;

	if (hex) {
		if ((n = lacre_unhex_text(arg, buf, sizeof(buf))) <= 0) {
			cli_err("entry '%.20s' is not hex", arg);
			return LACRE_E_INVALID;
		}
		rc = tlog_append(log, buf, (size_t)n, &idx);
	} else {
		rc = tlog_append(log, arg, strlen(arg), &idx);
	}
	if (rc != LACRE_OK) {
		cli_fail(rc, "append");
		return rc;
	}
	printf("%llu\n", (unsigned long long)idx);
	return LACRE_OK;
}

/* append and checkpoint share their options. */
static int do_log(int argc, char **argv, int append)
{
	static const struct option opts[] = {
		{ "state", required_argument, NULL, 's' },
		{ "store", required_argument, NULL, 'S' },
		{ "key", required_argument, NULL, 'k' },
		{ "hex", no_argument, NULL, 'x' },
		{ "witness", required_argument, NULL, 'w' },
		{ "quorum", required_argument, NULL, 'q' },
		{ "policy", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *state = NULL, *spec = NULL, *keyfile = NULL, *polfile = NULL;
	struct policy *pol = NULL;
	struct tlog_witness w[MAX_W];
	size_t nw = 0;
	long quorum = -1;
	int hex = 0, c, rc, status = EXIT_FAIL;
	struct note_signer *key = NULL;
	struct lacre_store *st = NULL;
	struct tlog *log = NULL;
	struct lacre_dbuf note;

	lacre_dbuf_init(&note, NOTE_MAX_SIZE);
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 's': state = optarg; break;
		case 'S': spec = optarg; break;
		case 'k': keyfile = optarg; break;
		case 'x': hex = 1; break;
		case 'q': quorum = strtol(optarg, NULL, 10); break;
		case 'p': polfile = optarg; break;
		case 'w': {
			const char *sp = strchr(optarg, ' ');
			if (nw == MAX_W || sp == NULL || (size_t)(sp - optarg) >= sizeof(w[0].url) ||
			    note_verifier_parse(sp + 1, strlen(sp + 1), &w[nw].key) != LACRE_OK ||
			    w[nw].key.type != NOTE_TYPE_COSIG) {
				cli_err("--witness wants \"URL VKEY\" with a witness (0x04) vkey");
				status = EXIT_USAGE;
				goto done;
			}
			memset(w[nw].url, 0, sizeof(w[nw].url));
			memcpy(w[nw].url, optarg, (size_t)(sp - optarg));
			nw++;
			break;
		}
		case 'h': usage(stdout); status = EXIT_OK; goto done;
		default: usage(stderr); status = EXIT_USAGE; goto done;
		}
	}
	if (!state || !spec || !keyfile || (append && optind == argc) || (!append && optind != argc) ||
	    quorum > (long)nw) {
		cli_err("%s needs --state, --store, --key%s", append ? "append" : "checkpoint",
			append ? " and entries" : " (and a quorum no larger than the witnesses)");
		status = EXIT_USAGE;
		goto done;
	}
	if ((rc = note_signer_load(keyfile, &key)) != LACRE_OK) {
		status = cli_fail(rc, keyfile);
		goto done;
	}
	if ((rc = lacre_store_open(spec, &st)) != LACRE_OK) {
		status = cli_fail(rc, spec);
		goto done;
	}
	if ((rc = tlog_open(st, state, note_signer_name(key), key, &log)) != LACRE_OK) {
		status = cli_fail(rc, state);
		goto done;
	}
	if (polfile && (nw || quorum >= 0)) {
		cli_err("give either --policy or --witness/--quorum");
		status = EXIT_USAGE;
		goto done;
	}
	if (polfile) {
		if (cli_load_policy(polfile, &pol) != LACRE_OK)
			goto done;
		rc = tlog_set_policy(log, pol);
	} else {
		rc = tlog_set_witnesses(log, w, nw, quorum < 0 ? nw : (size_t)quorum);
	}
	if (rc != LACRE_OK) {
		status = cli_fail(rc, "witnesses");
		goto done;
	}
	if (append) {
		for (int i = optind; i < argc; i++) {
			if (strcmp(argv[i], "-") == 0) {
				char line[2 * TLOG_ENTRY_MAX + 2];
				while (fgets(line, sizeof(line), stdin)) {
					line[strcspn(line, "\r\n")] = '\0';
					if (line[0] && append_one(log, line, hex) != LACRE_OK)
						goto done;
				}
			} else if (append_one(log, argv[i], hex) != LACRE_OK) {
				goto done;
			}
		}
	}
	if ((rc = tlog_checkpoint(log, &note)) != LACRE_OK) {
		status = cli_fail(rc, rc == LACRE_E_FORK ? "checkpoint: a witness reports a fork" :
				  "checkpoint not published");
		goto done;
	}
	if (!append)
		fwrite(note.p, 1, note.len, stdout);
	status = EXIT_OK;
done:
	tlog_close(log);
	lacre_store_close(st);
	note_signer_free(key);
	lacre_dbuf_free(&note);
	free(pol);
	return status;
}

/* `lacre log SUBCOMMAND`. */
int cmd_log(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : EXIT_OK;
	}
	if (!strcmp(argv[1], "keygen"))
		return do_keygen(argc - 1, argv + 1);
	if (!strcmp(argv[1], "keys"))
		return do_keys(argc - 1, argv + 1);
	if (!strcmp(argv[1], "append"))
		return do_log(argc - 1, argv + 1, 1);
	if (!strcmp(argv[1], "checkpoint"))
		return do_log(argc - 1, argv + 1, 0);
	cli_err("no log subcommand '%s'; run 'lacre log --help'", argv[1]);
	return EXIT_USAGE;
}

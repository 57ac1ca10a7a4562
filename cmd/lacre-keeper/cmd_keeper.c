/*
 * cmd_keeper.c - `lacre keeper`: the service that alone unlocks the site
 * master key (docs/cmd-keeper.md, docs/keeper.md).  It opens the site,
 * makes the key files private to its own user, unlocks the keystore once
 * (keeper_unlock: the passphrase, or the PKCS#11 token lacre.conf names,
 * with its PIN), and serves signed requests on its socket
 * (lib/keeper/server.c).  For each accepted
 * request the worker runs here: the keeper's keystore is handed to the
 * command's gate session (cli_session_keys), the command runs with the request's
 * arguments as the authenticated user, and commands without a gate of
 * their own (audit --deep) pass the keeper's gate first.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lacre/acl.h"
#include "lacre/err.h"
#include "lacre/keeper.h"
#include "keeper/passphrase.h"
#include "keeper/pkcs11.h"
#include "lacre/site.h"
#include "lacre/users.h"
#include "cli.h"

struct kopts {
	const char *site, *socket, *ready_file;
	struct passphrase_src pass;
	int quiet;
};

struct keeper_ctx {
	struct site s;
};

/* The commands a worker runs (the allow-list itself is lib/proto/args.c). */
static const struct {
	const char *name;
	cli_cmd_fn fn;
} runs[] = {
	{ "records", cmd_records },
	{ "quarantine", cmd_quarantine },
	{ "calls", cmd_calls },
	{ "locations", cmd_locations },
	{ "audio", cmd_audio },
	{ "pcap", cmd_pcap },
	{ "export", cmd_export },
	{ "proof-record", cmd_proof_record },
	{ "access-log", cmd_accesslog },
	{ "reindex", cmd_reindex },
	{ "warrant", cmd_warrant },
	{ "retention", cmd_retention },
	{ "user", cmd_user },
	{ "shred", cmd_shred },
	{ "audit", cmd_audit_site },
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: lacre keeper [--site DIR] [--socket PATH] [--ready-file FILE] [--quiet]\n"
		"                    [--passphrase-file F | --passphrase-fd N | --pin-file F | --pin-fd N]\n"
		"Unlocks the site's master key once and serves the users' signed requests on a\n"
		"Unix socket (default SITE/keeper.sock, mode 0660) until SIGTERM.  The master\n"
		"key, the keystore, the access-log key and the index become readable by the\n"
		"keeper's user alone.  Clients: the lacre CLI, with --user KEYFILE (or\n"
		"LACRE_USER) and LACRE_KEEPER=PATH, --keeper PATH or SITE/keeper.sock.\n"
		"--ready-file FILE gets \"socket=PATH\" and \"pid=N\" once it listens.\n"
		"A site whose lacre.conf names master.pkcs11_module is unlocked by its token:\n"
		"the PIN comes from --pin-file F, --pin-fd N (or --passphrase-file/-fd), the\n"
		"credential lacre-pin, LACRE_PIN or a terminal (docs/keeper.md).\n");
}

/* The keeper's gate for a command that has none of its own: audit --deep
 * (action audit-deep; its --justification is taken out of argv). */
static int gate_audit(struct keeper_ctx *k, int *argc, char **argv)
{
	struct access_request rq;
	struct acl_session *ss = NULL;
	const char *just = NULL;
	int w = 0, e;

	for (int i = 0; i < *argc; i++) {
		if (!strcmp(argv[i], "--justification") && i + 1 < *argc) {
			just = argv[++i];
			continue;
		}
		if (!strncmp(argv[i], "--justification=", 16)) {
			just = argv[i] + 16;
			continue;
		}
		argv[w++] = argv[i];
	}
	argv[w] = NULL;
	*argc = w;
	memset(&rq, 0, sizeof(rq));
	rq.action = "audit-deep";
	rq.what = "deep audit: every segment decrypted and matched with its commitment";
	rq.justification = just;
	if ((e = cli_gate(&k->s, NULL, &rq, &ss, NULL)) != EXIT_OK)
		return e;
	/* the deep audit reads every key through this session (access_key.h) */
	cli_audit_deep_session(ss);
	return EXIT_OK;
}

/* keeper_run_fn: in the worker process. */
static int run(void *arg, const char *user, int argc, char **argv)
{
	struct keeper_ctx *k = arg;
	int e;

	(void)user;                 /* acl_keeper_worker_begin already set it */
	cli_keeper_worker_begin();
	for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
		if (strcmp(runs[i].name, argv[0]) != 0)
			continue;
		if (!strcmp(argv[0], "audit") && (e = gate_audit(k, &argc, argv)) != EXIT_OK)
			return e;
		optind = 1;
		e = runs[i].fn(argc, argv);
		cli_audit_deep_session(NULL);
		return e;
	}
	cli_err("the keeper does not serve '%s'", argv[0]);
	return EXIT_FAIL;
}

/* Make name (a file or folder of the site, if present) private to the
 * keeper's user: mode 0600 / 0700 and, when the keeper runs as root,
 * owned by it.  Prints what it could not do; returns 1 then. */
static int make_private(const struct site *s, const char *name, int dir)
{
	char p[SITE_PATH_MAX];
	struct stat st;

	if (site_path(s, name, p, sizeof(p)) != LACRE_OK || lstat(p, &st) != 0)
		return 0;
	if (st.st_uid != geteuid()) {
		cli_err("%s belongs to uid %u, not to the keeper's uid %u: chown it to the keeper's "
			"user", p, (unsigned)st.st_uid, (unsigned)geteuid());
		return 1;
	}
	if ((st.st_mode & 077) && chmod(p, dir ? 0700 : 0600) != 0) {
		cli_err("cannot make %s private (chmod): %s", p, strerror(errno));
		return 1;
	}
	return 0;
}

/* Remove the work folders (/dev/shm/lacre-keeper-<pid>) of keepers of
 * this uid that died without cleaning up (SIGKILL): a request's output
 * file may be left in one. */
static void clean_stale(void)
{
	DIR *d = opendir("/dev/shm");
	struct dirent *e;
	char p[512], q[1024];
	struct stat st;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		char *end;
		long pid;
		DIR *d2;
		struct dirent *e2;

		if (strncmp(e->d_name, "lacre-keeper-", 13) != 0)
			continue;
		pid = strtol(e->d_name + 13, &end, 10);
		snprintf(p, sizeof(p), "/dev/shm/%s", e->d_name);
		if (*end || pid <= 0 || lstat(p, &st) != 0 || !S_ISDIR(st.st_mode) ||
		    st.st_uid != geteuid() || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		/* <pid>/<nonce>/<files> */
		if ((d2 = opendir(p)) != NULL) {
			while ((e2 = readdir(d2)) != NULL) {
				DIR *d3;
				struct dirent *e3;
				if (e2->d_name[0] == '.')
					continue;
				snprintf(q, sizeof(q), "%s/%s", p, e2->d_name);
				if ((d3 = opendir(q)) != NULL) {
					char f[1400];
					while ((e3 = readdir(d3)) != NULL) {
						if (e3->d_name[0] == '.' && (!e3->d_name[1] ||
						    (e3->d_name[1] == '.' && !e3->d_name[2])))
							continue;
						snprintf(f, sizeof(f), "%s/%s", q, e3->d_name);
						unlink(f);
					}
					closedir(d3);
				}
				rmdir(q);
			}
			closedir(d2);
		}
		if (rmdir(p) == 0)
			fprintf(stderr, "lacre keeper: removed %s, left by a keeper that died\n", p);
	}
	closedir(d);
}

static int parse(int argc, char **argv, struct kopts *o)
{
	static const struct option lo[] = {
		{ "site", required_argument, 0, 's' },
		{ "socket", required_argument, 0, 'S' },
		{ "ready-file", required_argument, 0, 'r' },
		{ "passphrase-file", required_argument, 0, 'P' },
		{ "passphrase-fd", required_argument, 0, 'F' },
		{ "pin-file", required_argument, 0, 'P' },
		{ "pin-fd", required_argument, 0, 'F' },
		{ "quiet", no_argument, 0, 'q' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 }
	};
	int c;

	passphrase_src_init(&o->pass);
	optind = 1;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 's': o->site = optarg; break;
		case 'S': o->socket = optarg; break;
		case 'r': o->ready_file = optarg; break;
		case 'P': o->pass.file = optarg; break;
		case 'q': o->quiet = 1; break;
		case 'F':
			if (cli_passphrase_fd(optarg, &o->pass.fd) != EXIT_OK)
				return EXIT_USAGE;
			break;
		case 'h':
			usage(stdout);
			return -1;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		cli_err("unexpected argument '%s'; run 'lacre help keeper'", argv[optind]);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

int cmd_keeper(int argc, char **argv)
{
	static const struct {
		const char *name;
		int dir;
	} private[] = {
		{ SITE_MASTER, 0 }, { P11_MASTER, 0 }, { SITE_KEYSTORE, 1 }, { "ledger/access.key", 0 },
		{ "index.sqlite", 0 }, { "index.sqlite-wal", 0 }, { "index.sqlite-shm", 0 },
	};
	struct kopts o;
	struct keeper_ctx *k;
	struct keeper_config cfg;
	char msg[SITE_MSG_MAX], wd[64];
	int ex, r, bad = 0;

	memset(&o, 0, sizeof(o));
	if ((ex = parse(argc, argv, &o)) != EXIT_OK)
		return ex < 0 ? EXIT_OK : ex;
	if ((k = calloc(1, sizeof(*k))) == NULL)
		return cli_fail(LACRE_E_NOMEM, "keeper");
	if ((ex = cli_open_site(o.site, &k->s)) != EXIT_OK)
		goto out;
	umask(077);
	for (size_t i = 0; i < sizeof(private) / sizeof(private[0]); i++)
		bad |= make_private(&k->s, private[i].name, private[i].dir);
	if (bad) {
		ex = EXIT_FAIL;
		goto out;
	}
	/* a worker must not act for whoever started the keeper, and parses
	 * its arguments as getopt_long does by default (the keeper's --site
	 * comes last: permutation must stay on) */
	unsetenv(USERS_ENV);
	unsetenv("POSIXLY_CORRECT");
	msg[0] = '\0';
	if ((r = keeper_keys_unlock(&k->s, &o.pass, msg, sizeof(msg))) != LACRE_OK) {
		cli_err("%s", msg[0] ? msg : lacre_strerror(r));
		ex = EXIT_FAIL;
		goto out;
	}
	/* output files of requests live in memory (tmpfs), never on disk */
	clean_stale();
	snprintf(wd, sizeof(wd), "/dev/shm/lacre-keeper-%ld", (long)getpid());
	if (mkdir(wd, 0700) != 0) {
		cli_err("cannot make the keeper's work folder in /dev/shm: %s", strerror(errno));
		ex = EXIT_FAIL;
		goto out;
	}
	memset(&cfg, 0, sizeof(cfg));
	cfg.site = &k->s;
	cfg.socket_path = o.socket;
	cfg.ready_file = o.ready_file;
	cfg.work_dir = wd;
	cfg.run = run;
	cfg.run_arg = k;
	cfg.quiet = o.quiet;
	r = keeper_serve(&cfg, msg, sizeof(msg));
	rmdir(wd);
	if (r != LACRE_OK) {
		cli_err("keeper: %s", msg[0] ? msg : lacre_strerror(r));
		ex = cli_exit_status(r) == EXIT_USAGE ? EXIT_FAIL : cli_exit_status(r);
		goto out;
	}
	ex = EXIT_OK;
out:
	keeper_keys_close();
	free(k);
	return ex;
}

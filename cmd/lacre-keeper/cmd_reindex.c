/*
 * cmd_reindex.c - `lacre reindex`: rebuild the access index
 * (DIR/index.sqlite) from the sealed segments, for the named warrants or
 * for all of them (docs/cmd-reindex.md).  Every warrant is read through
 * the audit-first gate, like any other read of its records.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lacre/err.h"
#include "lacre/index.h"
#include "lacre/warrant.h"
#include "cli.h"
#include "cli_media.h"

#define REINDEX_MAX 64

/* Usage text. */
static void usage(FILE *f)
{
	fprintf(f,
		"usage: lacre reindex (--warrant W ... | --all) --justification TEXT [--user KEYFILE]\n"
		"                     [--site DIR] [--passphrase-file F | --passphrase-fd N]\n"
		"Drops what the access index (DIR/index.sqlite) holds for each warrant and builds\n"
		"it again from the sealed segments on the backend.  --all: every warrant of the\n"
		"site (each one goes through the access gate; an index file that does not open\n"
		"is deleted and made anew).  Other commands update the index by themselves.\n");
}

/* What reindex's own options fill. */
struct reindex_args {
	const char *ws[REINDEX_MAX];   /* --warrant W, in order */
	size_t nw;
	int all;                       /* --all */
};

/* cli_media_own_fn of reindex: --warrant W (at most REINDEX_MAX), --all. */
static int own(void *arg, int c, const char *value)
{
	struct reindex_args *ra = arg;

	if (c == 'a') {
		ra->all = 1;
		return 1;
	}
	if (c != 'w')
		return 0;
	if (ra->nw == REINDEX_MAX) {
		cli_err("at most %d --warrant options", REINDEX_MAX);
		return -EXIT_USAGE;
	}
	ra->ws[ra->nw++] = value;
	return 1;
}

/* `lacre reindex`. */
int cmd_reindex(int argc, char **argv)
{
	static const struct option lo[] = {
		CLI_MEDIA_LONGOPTS,
		{ "warrant", required_argument, 0, 'w' },
		{ "all", no_argument, 0, 'a' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 }
	};
	struct cli_media_opts o;
	struct cli_media m;
	struct warrant_registry *reg = NULL;
	struct reindex_args ra;
	char path[SITE_PATH_MAX];
	size_t nw;
	int r, ex, all, worst = EXIT_OK;

	memset(&ra, 0, sizeof(ra));
	if ((ex = cli_media_getopt(argc, argv, "", lo, usage, &o, own, &ra)) != EXIT_OK)
		return ex == CLI_MEDIA_HELP ? EXIT_OK : ex;
	nw = ra.nw;
	all = ra.all;
	if (optind < argc || (!nw && !all) || (nw && all)) {
		cli_err("reindex needs --warrant W (repeatable) or --all");
		return EXIT_USAGE;
	}
	if (all) {
		struct site s;
		if ((ex = cli_open_site(o.site, &s)) != EXIT_OK)
			return ex;
		if ((r = warrant_registry_load(&s, &reg)) != LACRE_OK) {
			cli_err("cannot load the warrant log: %s", warrant_registry_error());
			return cli_exit_status(r);
		}
		for (size_t i = 0; i < warrant_registry_count(reg) && nw < REINDEX_MAX; i++)
			ra.ws[nw++] = warrant_registry_at(reg, i)->id;
		/* an index that does not open (another schema, damaged) is
		 * rebuilt from nothing: it holds nothing the backend does not */
		if (site_path(&s, INDEX_FILE, path, sizeof(path)) == LACRE_OK) {
			struct index *ix = NULL;
			if (index_open_path(path, &ix) != LACRE_OK) {
				unlink(path);
				fprintf(stderr, "lacre: index %s did not open; made anew\n", path);
			}
			index_close(ix);
		}
	}
	for (size_t i = 0; i < nw; i++) {
		ex = cli_media_open(&o, "records", ra.ws[i], "reindex", 1, &m);
		if (ex > 0) {
			worst = worst ? worst : ex;
			continue;
		}
		cli_media_close(&m);
		fprintf(stderr, "lacre: %s reindexed\n", ra.ws[i]);
		if (ex < 0 && !worst)
			worst = -ex;
	}
	warrant_registry_free(reg);
	return worst;
}

/*
 * cmd_audit_site.c - `lacre audit --site DIR [--deep]`: audit a site's
 * backend against its ingest log (keyless: tiles, bundles, checkpoint, and
 * every segment's presence, size and fingerprint; segments on the backend
 * that no entry names; the spool's leftovers), and with --deep (master
 * passphrase) decrypt every segment and match every record with its
 * commitment and every commitment with its record.  The generic `lacre
 * audit --store --vkey` is cmd_audit.c.  The keyless audit is shared by the
 * lacre client and lacre-keeper; --deep is the keeper domain's
 * (cmd/lacre-keeper/cmd_audit_deep.c, reached through cli_audit_deep_hook,
 * which only lacre-keeper sets).
 */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lacre/accesslog.h"
#include "lacre/age.h"
#include "lacre/deep_audit.h"
#include "lacre/err.h"
#include "lacre/ingest_logs.h"
#include "lacre/site.h"
#include "lacre/site_audit.h"
#include "lacre/store.h"
#include "lacre/warrant.h"
#include "cli.h"

/* Set by lacre-keeper (cmd_audit_deep.c); NULL in the lacre client, which
 * links no key code and sends --deep to the keeper domain. */
cli_audit_deep_fn cli_audit_deep_hook;

static void on_finding(void *arg, const struct audit_finding *f)
{
	(void)arg;
	size_t n = strlen(f->object);
	/* messages that already start with the object's name are printed as they are */
	if (!n || !strncmp(f->message, f->object, n) || strstr(f->message, f->object))
		printf("%-14s %s\n", audit_kind_name(f->kind), f->message);
	else
		printf("%-14s %s: %s\n", audit_kind_name(f->kind), f->object, f->message);
}

#define AUDIT_DEEP_LOGS_MAX 64   /* ingest logs --deep decrypts */

/* What the per-log callback needs and keeps. */
struct log_lines {
	int multi;               /* the site has several ingest logs: a line each */
	struct deep_log deep[AUDIT_DEEP_LOGS_MAX];   /* each audited log (for --deep) */
	char origin[AUDIT_DEEP_LOGS_MAX][NOTE_NAME_MAX + 1];
	size_t ndeep, skipped;   /* kept; not audited (rollback, fork, no checkpoint) */
};

/* One line per ingest log of a site with several (site_audit_opts.on_log). */
static void on_log(void *arg, const struct site_ingest_log *log, const struct site_audit_result *r,
		   int rc)
{
	struct log_lines *ll = arg;

	/* --deep decrypts the segments of every log the keyless audit could
	 * audit, up to the size it verified */
	if ((rc == LACRE_OK || rc == LACRE_E_VERIFY) && ll->ndeep < AUDIT_DEEP_LOGS_MAX) {
		snprintf(ll->origin[ll->ndeep], sizeof(ll->origin[0]), "%s", log->origin);
		ll->deep[ll->ndeep].origin = ll->origin[ll->ndeep];
		ll->deep[ll->ndeep].size = r->log_size;
		ll->deep[ll->ndeep].running = r->ingest_running;
		ll->ndeep++;
	} else {
		ll->skipped++;
	}
	if (!ll->multi)
		return;
	printf("ingest log %s%s: size %llu, %llu entries, %llu segments (%llu still in the spool), "
	       "%llu missing, %llu damaged, %llu spool leftovers, %llu problems%s\n", log->origin,
	       log->state_dir ? "" : " (another machine's)", (unsigned long long)r->log_size,
	       (unsigned long long)r->entries, (unsigned long long)r->segments,
	       (unsigned long long)r->pending, (unsigned long long)r->missing,
	       (unsigned long long)r->damaged,
	       (unsigned long long)(r->spool_lost + r->spool_unlogged), (unsigned long long)r->findings,
	       rc == LACRE_OK || r->findings ? "" : rc == LACRE_E_ROLLBACK ? " (rolled back)" :
	       rc == LACRE_E_FORK ? " (forked)" : " (not audited)");
}

int cli_audit_segment_fingerprint(struct lacre_store *st, const char *name,
				  uint8_t *fp, size_t cap, size_t *len)
{
	struct lacre_dbuf obj;
	int r;

	if (cap < 32)
		return LACRE_E_INVALID;
	lacre_dbuf_init(&obj, (size_t)1 << 31);
	r = lacre_store_get(st, name, 0, SIZE_MAX, &obj);
	if (r == LACRE_OK)
		r = age_fingerprint(obj.p, obj.len, fp);
	lacre_dbuf_free(&obj);
	if (r == LACRE_OK)
		*len = 32;
	return r;
}

int cmd_audit_site(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "site", required_argument, 0, 's' },
		{ "deep", no_argument, 0, 'd' },
		{ "passphrase-file", required_argument, 0, 'P' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 }
	};
	const char *pass_file = NULL;
	const char *site_arg = NULL;
	struct site s;
	struct lacre_store *st = NULL;
	struct site_audit_opts o = { 0 };
	struct site_audit_result res;
	struct site_ingest_log *logs = NULL;
	size_t nlogs = 0;
	char lmsg[SITE_MSG_MAX];
	static struct log_lines ll;
	int deep = 0, c, r, ra, ex = EXIT_FAIL;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 's': site_arg = optarg; break;
		case 'd': deep = 1; break;
		case 'P': pass_file = optarg; break;
		case 'h':
			printf("usage: lacre audit --site DIR [--deep [--passphrase-file F]]\n"
			       "Audits the site's backend against every ingest log of the site (one per\n"
			       "receiver; a line each, then the total): tiles, entry bundles and checkpoint\n"
			       "against the checkpoint the site trusts (docs/cmd-audit.md), and every sealed\n"
			       "segment's presence, size and keyless fingerprint; segments on the backend no\n"
			       "log entry names; spool leftovers.  --deep (master passphrase) also decrypts\n"
			       "every segment and matches each record with its commitment and each commitment\n"
			       "with its record.\n"
			       "Exit status: 0 intact, 3 problems found, 1 the audit could not run.\n");
			return EXIT_OK;
		default:
			return EXIT_USAGE;
		}
	}
	if ((ex = cli_open_site(site_arg, &s)) != EXIT_OK)
		return ex;
	if ((r = cli_open_store(&s, &st)) != EXIT_OK)
		return r;
	o.fingerprints = 1;
	o.report = on_finding;
	o.on_log = on_log;
	o.arg = &ll;
	/* several receivers: a line per origin, then the total */
	if (site_ingest_logs(&s, &logs, &nlogs, lmsg, sizeof(lmsg)) == LACRE_OK)
		ll.multi = nlogs > 1;
	free(logs);
	r = site_audit_run(&s, st, &o, &res);
	/* the access log too: cut, fork, rollback or rewrite (witnessed) */
	ra = accesslog_audit_print(&s, st, stdout);
	if (res.no_log) {
		printf("no ingest log yet: nothing has been received on this site\n");
		ex = cli_exit_status(ra);
		goto out;
	}
	if (res.logs > 1)
		printf("audited %zu ingest logs, total ", res.logs);
	printf("%s %llu: %llu entries, %llu segments (%llu still in the "
	       "spool), %llu missing, %llu damaged, %llu on the backend unlogged, %llu spool "
	       "leftovers, %llu problems\n",
	       res.logs > 1 ? "size" : "audited ingest log size",
	       (unsigned long long)res.log_size, (unsigned long long)res.entries,
	       (unsigned long long)res.segments, (unsigned long long)res.pending,
	       (unsigned long long)res.missing, (unsigned long long)res.damaged,
	       (unsigned long long)res.unlogged,
	       (unsigned long long)(res.spool_lost + res.spool_unlogged),
	       (unsigned long long)res.findings);
	if (res.spool_lost_named)
		printf("spool/lost holds %llu files of open segments lost at a crash: the ledger names "
		       "their records (lost-open-segment events of the oversight log)\n",
		       (unsigned long long)res.spool_lost_named);
	if (res.ingest_running)
		printf("ingest is running: %llu open segments or unsigned batches in the spool are not "
		       "counted as problems (stop it for an exact audit)\n",
		       (unsigned long long)res.spool_open);
	ex = r == LACRE_OK ? EXIT_OK : cli_exit_status(r == LACRE_E_VERIFY || r == LACRE_E_ROLLBACK ||
						      r == LACRE_E_FORK ? LACRE_E_VERIFY : r);
	if (r != LACRE_OK && !res.findings)
		cli_err("the audit could not run: %s", res.error[0] ? res.error : lacre_strerror(r));
	if (ra != LACRE_OK && ex == EXIT_OK)
		ex = cli_exit_status(ra);
	if (deep) {
		/* the decrypting half is the keeper domain's (cmd_audit_deep.c) */
		if (cli_audit_deep_hook == NULL) {
			cli_err("audit --deep decrypts with the site's keys: it runs in the keeper "
				"domain (through the keeper, or 'lacre-keeper run -- audit --site DIR "
				"--deep')");
			ex = EXIT_FAIL;
			goto out;
		}
		/* every ingest log the keyless audit audited, each to the
		 * size it verified */
		if (ll.skipped) {
			printf("deep: %zu ingest logs not decrypted: their keyless audit did not run "
			       "(see above)\n", ll.skipped);
			if (ex == EXIT_OK)
				ex = cli_exit_status(LACRE_E_VERIFY);
		}
		ex = cli_audit_deep_hook(pass_file, &s, st, ll.deep, ll.ndeep, ex);
	}
out:
	lacre_store_close(st);
	return ex;
}

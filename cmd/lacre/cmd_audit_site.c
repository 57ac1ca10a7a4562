/*
 * cmd_audit_site.c - `lacre audit --site DIR [--deep]`: audit a site's
 * backend against its ingest log (keyless: tiles, bundles, checkpoint, and
 * every segment's presence, size and fingerprint; segments on the backend
 * that no entry names; the spool's leftovers), and with --deep (master
 * passphrase) decrypt every segment and match every record with its
 * commitment and every commitment with its record.  The generic `lacre
 * audit --store --vkey` is cmd_audit.c.
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
#include "keeper/keystore.h"
#include "keeper/passphrase.h"
#include "lacre/site.h"
#include "lacre/site_audit.h"
#include "lacre/store.h"
#include "lacre/warrant.h"
#include "cli.h"

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

static void on_deep(void *arg, const char *seg, const char *what)
{
	(void)arg;
	printf("%-14s %s: %s\n", "deep", seg, what);
}

/* Load every identity the keystore still holds (warrants + oversight). */
static int load_ids(const struct site *s, struct keystore *ks, struct deep_identity **out,
		    struct age_x25519_identity **keys, size_t *n)
{
	struct warrant_registry *reg = NULL;
	struct keystore_tombstone tomb;
	size_t cnt, k = 0;
	int r;

	if ((r = warrant_registry_load(s, &reg)) != LACRE_OK)
		return r;
	cnt = warrant_registry_count(reg) + 1;
	*out = calloc(cnt, sizeof(**out));
	*keys = calloc(cnt, sizeof(**keys));
	if (!*out || !*keys) {
		warrant_registry_free(reg);
		return LACRE_E_NOMEM;
	}
	for (size_t i = 0; i < cnt; i++) {
		const char *name = i + 1 < cnt ? warrant_registry_at(reg, i)->id : SITE_OVERSIGHT_KEY;
		if (keystore_get(ks, name, &(*keys)[k], &tomb) != LACRE_OK)
			continue;  /* shredded or foreign: its segments stay unopened */
		(*out)[k].name = strdup(name);
		(*out)[k].id = &(*keys)[k];
		k++;
	}
	warrant_registry_free(reg);
	*n = k;
	return LACRE_OK;
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
	struct passphrase_src pass;
	const char *site_arg = NULL;
	struct site s;
	struct lacre_store *st = NULL;
	struct site_audit_opts o = { 0 };
	struct site_audit_result res;
	int deep = 0, c, r, ra, ex = EXIT_FAIL;

	passphrase_src_init(&pass);
	optind = 1;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 's': site_arg = optarg; break;
		case 'd': deep = 1; break;
		case 'P': pass.file = optarg; break;
		case 'h':
			printf("usage: lacre audit --site DIR [--deep [--passphrase-file F]]\n"
			       "Audits the site's backend against its ingest log: tiles, entry bundles and\n"
			       "checkpoint against the checkpoint the site keeps locally, and every sealed\n"
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
	if ((r = lacre_store_open(s.cfg.backend, &st)) != LACRE_OK)
		return cli_fail(r, "cannot open the backend");
	o.fingerprints = 1;
	o.report = on_finding;
	r = site_audit_run(&s, st, &o, &res);
	/* the access log too: cut, fork, rollback or rewrite (witnessed) */
	ra = accesslog_audit_print(&s, st, stdout);
	if (res.no_log) {
		printf("no ingest log yet: nothing has been received on this site\n");
		ex = cli_exit_status(ra);
		goto out;
	}
	printf("audited ingest log size %llu: %llu entries, %llu segments (%llu still in the "
	       "spool), %llu missing, %llu damaged, %llu on the backend unlogged, %llu spool "
	       "leftovers, %llu problems\n",
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
		cli_err("the audit could not run: %s", lacre_strerror(r));
	if (ra != LACRE_OK && ex == EXIT_OK)
		ex = cli_exit_status(ra);
	if (deep) {
		struct keystore *ks = NULL;
		struct deep_identity *ids = NULL;
		struct age_x25519_identity *keys = NULL;
		struct deep_audit_result dr;
		size_t n = 0;
		int ex2 = cli_open_keystore(&pass, &s, &ks);
		if (ex2 != EXIT_OK) {
			ex = ex2;
			goto out;
		}
		r = load_ids(&s, ks, &ids, &keys, &n);
		keystore_close(ks);
		if (r == LACRE_OK)
			r = deep_audit_run(&s, st, res.log_size, res.ingest_running, ids, n, on_deep,
					   NULL, &dr);
		if (r == LACRE_OK || r == LACRE_E_VERIFY)
			printf("deep: %llu segments decrypted (%llu from the spool), %llu records checked; "
			       "%llu segments no key opens (shredded); %llu commitments with no record "
			       "(%llu of shredded segments, %llu of open segments); %llu unlogged segments "
			       "with %llu records in no log; %llu problems\n",
			       (unsigned long long)dr.segments, (unsigned long long)dr.from_spool,
			       (unsigned long long)dr.records, (unsigned long long)dr.unopened,
			       (unsigned long long)dr.unmatched_leaves, (unsigned long long)dr.shredded_leaves,
			       (unsigned long long)dr.open_leaves, (unsigned long long)dr.unlogged_segments,
			       (unsigned long long)dr.unlogged_records, (unsigned long long)dr.problems);
		else
			cli_err("deep audit could not run: %s", lacre_strerror(r));
		if (r != LACRE_OK && ex == EXIT_OK)
			ex = cli_exit_status(r);
		for (size_t i = 0; i < n; i++) {
			age_identity_wipe(&keys[i]);
			free((char *)ids[i].name);
		}
		free(ids);
		free(keys);
	}
out:
	lacre_store_close(st);
	return ex;
}

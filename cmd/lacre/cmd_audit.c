/*
 * cmd_audit.c - `lacre audit`: keyless audit of a backend against the
 * ledger (docs/cmd-audit.md).
 *
 *   lacre audit --store SPEC --vkey LOGVKEY
 *               [--checkpoint FILE | --witness URL] [--witness-vkey VKEY]...
 *               [--quorum K]
 *
 * Every tile, entry bundle and the checkpoint of the log named by the vkey
 * are fetched and recomputed (audit_run in lib/ledger/audit.c); each
 * problem is printed as one line "KIND OBJECT-MESSAGE" on stdout, then a
 * summary.  Exit 0 when the backend is intact, 3 when anything was found,
 * 1 when the audit could not run.
 *
 * Segment entries ("lacre-segment/v1", docs/FORMATS.md §6) are checked here
 * for presence and size; the keyless fingerprint is re-derived by
 * cli_audit_segment_fingerprint() (cmd_audit_site.c: age's keyless
 * fingerprint, SHA-256 over the header and the chunk tags).  When the log
 * names segments at all, every segment object on the backend (seg/) that no
 * entry names is reported too ("unlogged"): its records are in no signed
 * checkpoint.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "lacre/err.h"
#include "lacre/note.h"
#include "lacre/store.h"
#include "lacre/tlog.h"
#include "lacre/witness.h"
#include "cli.h"

#define MAX_W 32
#define AUDIT_SEGMENT_PREFIX "seg/"   /* segment objects (lib/ingest/seal_sink.c) */


/* Segment hook: the object exists with the recorded size and (when the
 * vault provides it) the recorded fingerprint. */
static int check_segment(void *arg, struct lacre_store *st, uint64_t index,
			 const struct tlog_segment *seg, char *msg, size_t cap)
{
	uint8_t fp[TLOG_SEGMENT_FP_MAX];
	uint64_t size = 0;
	size_t fl = 0;
	int rc;

	(void)arg;
	(void)index;
	rc = lacre_store_stat(st, seg->name, &size);
	if (rc == LACRE_E_NOT_FOUND) {
		snprintf(msg, cap, "missing from the store");
		return LACRE_E_MISSING;
	}
	if (rc != LACRE_OK) {
		snprintf(msg, cap, "cannot be read: %s", lacre_strerror(rc));
		return rc;
	}
	if (size != seg->size) {
		snprintf(msg, cap, "%llu bytes on the store, %llu in the ledger",
			 (unsigned long long)size, (unsigned long long)seg->size);
		return size < seg->size ? LACRE_E_TRUNCATED : LACRE_E_CORRUPT;
	}
	if ((rc = cli_audit_segment_fingerprint(st, seg->name, fp, sizeof(fp), &fl)) != LACRE_OK) {
		snprintf(msg, cap, "fingerprint cannot be computed: %s", lacre_strerror(rc));
		return rc;
	}
	if (fl != seg->fp_len || CRYPTO_memcmp(fp, seg->fp, fl) != 0) {
		snprintf(msg, cap, "fingerprint differs from the ledger (modified or substituted)");
		return LACRE_E_VERIFY;
	}
	return LACRE_OK;
}

/* Print one finding. */
static void print_finding(void *arg, const struct audit_finding *f)
{
	(void)arg;
	printf("%-14s %s\n", audit_kind_name(f->kind), f->message);
	fflush(stdout);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: lacre audit --store SPEC --vkey LOGVKEY\n"
		"                   [--checkpoint FILE | --witness URL] [--witness-vkey VKEY]...\n"
		"                   [--quorum K] [--policy FILE]\n"
		"\n"
		"Fetch every tile, entry bundle and the checkpoint of a log from a\n"
		"backend, recompute the tree and compare it with the latest trusted\n"
		"checkpoint.  Needs no key: only the log's public vkey.  When the log\n"
		"names segments, every segment on the backend that no entry names is\n"
		"reported too.\n"
		"\n"
		"  --store SPEC         backend (dir:PATH, s3://BUCKET/PREFIX)\n"
		"  --vkey LOGVKEY       the log's verifier key (its name is the origin)\n"
		"  --checkpoint FILE    a checkpoint you trust (e.g. from a receipt)\n"
		"  --witness URL        fetch the latest cosigned checkpoint from a witness\n"
		"  --witness-vkey VKEY  a witness whose cosignatures count (repeatable)\n"
		"  --quorum K           cosignatures required on the checkpoints (default 0)\n"
		"  --policy FILE        witnesses and quorum from a tlog-policy file\n"
		"  -h, --help           show this help\n"
		"\n"
		"Exit status: 0 intact, 3 problems found, 1 the audit could not run.\n");
}

/* `lacre audit`. */
int cmd_audit(int argc, char **argv)
{
	/* a site's own audit (its ingest log and segments): cmd_audit_site.c */
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--site") || !strncmp(argv[i], "--site=", 7) || !strcmp(argv[i], "--deep"))
			return cmd_audit_site(argc, argv);
	static const struct option opts[] = {
		{ "store", required_argument, NULL, 's' },
		{ "vkey", required_argument, NULL, 'v' },
		{ "checkpoint", required_argument, NULL, 'c' },
		{ "witness", required_argument, NULL, 'w' },
		{ "witness-vkey", required_argument, NULL, 'W' },
		{ "quorum", required_argument, NULL, 'q' },
		{ "policy", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct note_verifier wv[MAX_W];
	struct audit_config cfg;
	struct audit_result res;
	struct lacre_store *st = NULL;
	struct lacre_dbuf trusted;
	const char *spec = NULL, *cpfile = NULL, *wurl = NULL, *polfile = NULL;
	struct policy *pol = NULL;
	size_t nw = 0;
	long quorum = 0;
	int c, rc, status = EXIT_FAIL, have_vkey = 0;

	memset(&cfg, 0, sizeof(cfg));
	lacre_dbuf_init(&trusted, NOTE_MAX_SIZE);
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 's': spec = optarg; break;
		case 'c': cpfile = optarg; break;
		case 'w': wurl = optarg; break;
		case 'q': quorum = strtol(optarg, NULL, 10); break;
		case 'p': polfile = optarg; break;
		case 'v':
			if (note_verifier_parse(optarg, strlen(optarg), &cfg.log_key) != LACRE_OK ||
			    cfg.log_key.type != NOTE_TYPE_ED25519) {
				cli_err("--vkey '%s' is not a log vkey", optarg);
				status = EXIT_USAGE;
				goto done;
			}
			have_vkey = 1;
			break;
		case 'W':
			if (nw == MAX_W || note_verifier_parse(optarg, strlen(optarg), &wv[nw]) != LACRE_OK ||
			    wv[nw].type != NOTE_TYPE_COSIG) {
				cli_err("--witness-vkey '%s' is not a witness vkey", optarg);
				status = EXIT_USAGE;
				goto done;
			}
			nw++;
			break;
		case 'h': usage(stdout); status = EXIT_OK; goto done;
		default: usage(stderr); status = EXIT_USAGE; goto done;
		}
	}
	if (!spec || !have_vkey || (cpfile && wurl) || optind != argc || quorum < 0 ||
	    (size_t)quorum > nw) {
		cli_err("audit needs --store and --vkey, at most one of --checkpoint and --witness, "
			"and a quorum no larger than the witness keys given");
		status = EXIT_USAGE;
		goto done;
	}
	if (polfile && cli_load_policy(polfile, &pol) != LACRE_OK)
		goto done;
	cfg.policy = pol;
	if (cpfile && (rc = note_read_file(cpfile, NOTE_MAX_SIZE, &trusted)) != LACRE_OK) {
		status = cli_fail(rc, cpfile);
		goto done;
	}
	if (wurl) {
		char url[600], hex[65];
		uint8_t h[MERKLE_HASH_LEN];
		int hs = 0;
		merkle_sha256(cfg.log_key.name, strlen(cfg.log_key.name), h);
		for (int i = 0; i < MERKLE_HASH_LEN; i++)
			snprintf(hex + 2 * i, 3, "%02x", h[i]);
		snprintf(url, sizeof(url), "%s/%s/checkpoint", wurl, hex);
		if ((rc = witness_http_get(url, &hs, &trusted)) != LACRE_OK || hs != 200) {
			cli_err("%s: no cosigned checkpoint (%s)", url,
				rc != LACRE_OK ? lacre_strerror(rc) : "witness answered an error");
			goto done;
		}
	}
	if (!cpfile && !wurl)
		fprintf(stderr, "lacre: no trusted checkpoint given: a rollback of the whole store "
			"cannot be detected (use --checkpoint or --witness)\n");
	if ((rc = lacre_store_open(spec, &st)) != LACRE_OK) {
		status = cli_fail(rc, spec);
		goto done;
	}
	cfg.store = st;
	cfg.origin = cfg.log_key.name;
	cfg.witnesses = wv;
	cfg.nwitnesses = nw;
	cfg.quorum = (size_t)quorum;
	cfg.trusted = trusted.len ? trusted.p : NULL;
	cfg.trusted_len = trusted.len;
	cfg.segment = check_segment;
	cfg.segment_prefix = AUDIT_SEGMENT_PREFIX;
	cfg.segment_prefix_auto = 1;
	cfg.report = print_finding;
	rc = audit_run(&cfg, &res);
	if (rc != LACRE_OK && rc != LACRE_E_VERIFY && rc != LACRE_E_ROLLBACK && rc != LACRE_E_FORK) {
		status = cli_fail(rc, rc == LACRE_E_AUTH ? "trusted checkpoint does not verify with the log key" :
				  "audit");
		goto done;
	}
	printf("audited %s size %llu: %llu entries, %llu objects, %llu segments, %llu segments "
	       "on the backend unlogged, %llu problems\n",
	       cfg.origin, (unsigned long long)res.size, (unsigned long long)res.entries,
	       (unsigned long long)res.objects, (unsigned long long)res.segments,
	       (unsigned long long)res.unlogged, (unsigned long long)res.findings);
	status = rc == LACRE_OK ? EXIT_OK : EXIT_VERIFY;
done:
	lacre_store_close(st);
	lacre_dbuf_free(&trusted);
	free(pol);
	return status;
}

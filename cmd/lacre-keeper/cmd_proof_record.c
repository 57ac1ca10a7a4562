/*
 * cmd_proof_record.c - `lacre proof record`: the C2SP tlog-proof receipt of
 * one sealed record of a warrant (docs/cmd-export.md, "Receipts").  The
 * record is decrypted (access domain: audit-first gate, master passphrase),
 * its commitment recomputed, and its inclusion in the ingest log's
 * published checkpoint proved from the log's bundles (lib/access/export.c,
 * lib/access/receipts.c).  A record of a v2 segment (one ledger leaf per
 * segment) needs two files: the tlog-proof of its segment's entry and the
 * lacre-segment-proof from the record to that entry's records root, written
 * to --segment-proof SP (default: -o's FILE with ".tlog-proof" replaced by
 * ".segment-proof", or FILE.segment-proof).  Through the keeper, whose
 * request returns one file, both go into -o's FILE as one record proof
 * (docs/FORMATS.md §6.2: the segment proof, then the tlog-proof).
 * `lacre proof verify --entry-hex COMMITMENT [--segment-proof SP] FILE`
 * checks either form offline.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lacre/acl.h"
#include "lacre/err.h"
#include "lacre/export.h"
#include "lacre/segment_proof.h"
#include "keeper/passphrase.h"
#include "lacre/site.h"
#include "cli.h"

/* Usage text. */
static void usage(FILE *f)
{
	fprintf(f,
		"usage: lacre proof record --warrant W --record SEGMENT:INDEX [-o FILE] [--site DIR]\n"
		"                          [--segment-proof SP] --justification TEXT [--user KEYFILE]\n"
		"                          [--passphrase-file F | --passphrase-fd N]\n"
		"Writes the tlog-proof receipt of one record (SEGMENT:INDEX as 'lacre records\n"
		"--json' prints them) and prints its commitment and leaf index on stderr.  A\n"
		"record of a v2 segment also gets its segment proof: SP, by default FILE with\n"
		".tlog-proof replaced by .segment-proof (or FILE.segment-proof); through the\n"
		"keeper both go into FILE as one record proof (segment proof, then receipt),\n"
		"which 'lacre proof verify --entry-hex COMMITMENT FILE' reads.\n");
}

/* Audit-first gate for reading one record (action "records"); *ss is the
 * session the warrant's key is then read through (access_key.h). */
static int gate(const struct site *s, const char *user, const char *warrant, const char *what,
		const char *justification, struct acl_session **ss)
{
	struct access_request rq;

	memset(&rq, 0, sizeof(rq));
	rq.action = "records";
	rq.warrant = warrant;
	rq.what = what;
	rq.justification = justification;
	return cli_gate(s, user, &rq, ss, NULL);
}

/* `lacre proof record`. */
int cmd_proof_record(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "site", required_argument, 0, 's' },
		{ "warrant", required_argument, 0, 'w' },
		{ "record", required_argument, 0, 'r' },
		{ "output", required_argument, 0, 'o' },
		{ "segment-proof", required_argument, 0, 'S' },
		{ "user", required_argument, 0, 'u' },
		{ "justification", required_argument, 0, 'J' },
		{ "passphrase-file", required_argument, 0, 'P' },
		{ "passphrase-fd", required_argument, 0, 'F' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 }
	};
	struct passphrase_src pass;
	struct export_exclusion rec;
	struct acl_session *ss = NULL;
	struct lacre_dbuf out, sp;
	struct site s;
	const char *site = NULL, *warrant = NULL, *recs = NULL, *path = NULL, *user = NULL, *just = NULL;
	const char *sppath = NULL;
	char msg[1024], what[256], spdef[4096];
	uint8_t c[32];
	uint64_t leaf;
	int o, r, ex;

	passphrase_src_init(&pass);
	optind = 1;
	while ((o = getopt_long(argc, argv, "o:h", lo, NULL)) != -1) {
		switch (o) {
		case 's': site = optarg; break;
		case 'w': warrant = optarg; break;
		case 'r': recs = optarg; break;
		case 'o': path = optarg; break;
		case 'S': sppath = optarg; break;
		case 'u': user = optarg; break;
		case 'J': just = optarg; break;
		case 'P': pass.file = optarg; break;
		case 'F':
			if (cli_passphrase_fd(optarg, &pass.fd) != EXIT_OK)
				return EXIT_USAGE;
			break;
		case 'h': usage(stdout); return EXIT_OK;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind != argc || !warrant || !recs || !just) {
		cli_err("proof record needs --warrant W, --record SEGMENT:INDEX and --justification TEXT");
		return EXIT_USAGE;
	}
	if (export_exclusion_parse_record(recs, &rec) != LACRE_OK) {
		cli_err("--record: '%s' is not SEGMENT:INDEX (seg/<32 hex>:N)", recs);
		return EXIT_USAGE;
	}
	snprintf(what, sizeof(what), "receipt of record %s", recs);
	if ((ex = cli_open_site(site, &s)) != EXIT_OK ||
	    (ex = gate(&s, user, warrant, what, just, &ss)) != EXIT_OK ||
	    (ex = cli_session_keys(&pass, ss)) != EXIT_OK) {
		acl_session_close(ss);
		return ex;
	}
	if (!sppath && path) {
		size_t pl = strlen(path), sl = sizeof(".tlog-proof") - 1;
		if (pl > sl && !strcmp(path + pl - sl, ".tlog-proof"))
			snprintf(spdef, sizeof(spdef), "%.*s.segment-proof", (int)(pl - sl), path);
		else
			snprintf(spdef, sizeof(spdef), "%s.segment-proof", path);
		sppath = spdef;
	}
	lacre_dbuf_init(&out, NOTE_MAX_SIZE + 8192);
	lacre_dbuf_init(&sp, SEGMENT_PROOF_TEXT_MAX);
	r = export_record_receipt(&s, ss, warrant, rec.segment, rec.index, &out, &sp, c, &leaf,
				  msg, sizeof(msg));
	acl_session_close(ss);
	if (r == LACRE_OK && sp.len && getenv("LACRE_KEEPER_OUTPUT")) {
		/* a keeper request returns one output file: the record proof
		 * holds both (the segment proof, then the receipt) */
		struct lacre_dbuf both;
		lacre_dbuf_init(&both, SEGMENT_PROOF_TEXT_MAX + NOTE_MAX_SIZE + 8192);
		if ((r = lacre_dbuf_add(&both, sp.p, sp.len)) == LACRE_OK &&
		    (r = lacre_dbuf_add(&both, out.p, out.len)) == LACRE_OK) {
			lacre_dbuf_free(&out);
			out = both;
		} else {
			lacre_dbuf_free(&both);
		}
		lacre_dbuf_reset(&sp);
		if (r != LACRE_OK)
			snprintf(msg, sizeof(msg), "record proof of %s: %s", recs, lacre_strerror(r));
		else
			fprintf(stderr, "lacre: record %s: one record proof (segment proof, then receipt; "
				"docs/FORMATS.md §6.2)\n", recs);
	}
	if (r == LACRE_OK && sp.len && !sppath) {
		cli_err("record %s is in a v2 segment: its proof is two files; give -o FILE or "
			"--segment-proof SP", recs);
		lacre_dbuf_free(&out);
		lacre_dbuf_free(&sp);
		return EXIT_USAGE;
	}
	if (r == LACRE_OK) {
		FILE *f = path ? fopen(path, "wx") : stdout;
		if (!f || fwrite(out.p, 1, out.len, f) != out.len || (path && fclose(f) != 0)) {
			cli_err("cannot write %s", path ? path : "stdout");
			lacre_dbuf_free(&out);
			lacre_dbuf_free(&sp);
			return EXIT_FAIL;
		}
		if (sp.len) {
			FILE *g = fopen(sppath, "wx");
			if (!g || fwrite(sp.p, 1, sp.len, g) != sp.len || fclose(g) != 0) {
				cli_err("cannot write %s (it must not exist yet)", sppath);
				lacre_dbuf_free(&out);
				lacre_dbuf_free(&sp);
				return EXIT_FAIL;
			}
			fprintf(stderr, "lacre: record %s: segment proof %s\n", recs, sppath);
		}
		fprintf(stderr, "lacre: record %s: leaf %llu, commitment ", recs, (unsigned long long)leaf);
		for (int i = 0; i < 32; i++)
			fprintf(stderr, "%02x", c[i]);
		fprintf(stderr, "\n");
	}
	lacre_dbuf_free(&out);
	lacre_dbuf_free(&sp);
	if (r != LACRE_OK) {
		cli_err("%s", msg[0] ? msg : lacre_strerror(r));
		return cli_exit_status(r);
	}
	return EXIT_OK;
}

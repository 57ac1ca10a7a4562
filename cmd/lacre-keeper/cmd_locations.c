/*
 * cmd_locations.c - `lacre locations --warrant W [--cin N]`: the location
 * events of a warrant's IRIs in time order (docs/cmd-locations.md).  Thin:
 * it passes the same gate as `lacre calls` (action "calls": the
 * investigator's unit only, a justification, the access logged before
 * anything is shown), brings the index up to date and prints
 * lib/access/locations.c's rows.  lacre has no cell-tower database: a cell
 * is printed as the operator's record names it.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lacre/err.h"
#include "lacre/etsi.h"
#include "lacre/json.h"
#include "lacre/locations.h"
#include "lacre/record_json.h"
#include "cli.h"
#include "cli_media.h"

/* Usage text. */
static void usage(FILE *f)
{
	fprintf(f,
		"usage: lacre locations --warrant W [--cin N] --justification TEXT [--user KEYFILE]\n"
		"                       [--site DIR] [--json] [--passphrase-file F | --passphrase-fd N]\n"
		"Lists the locations warrant W's IRIs carry, in time order: EPS/UMTS cells (TAI,\n"
		"ECGI, CGI, SAI, RAI, LAI as MCC-MNC-code), coordinates when the record holds them,\n"
		"an IP IRI's location text.  Only what the records say: lacre has no cell-tower\n"
		"database and places no cell on a map.  --cin N keeps one call or session.\n"
		"The access is logged as a 'calls' read.  --json prints one object per line.\n");
}

/* One text line: time, LIID/CIN/seq, IRI type, kind, place (and problem). */
static void print_text(const struct locations_row *r)
{
	char t[32], p[ETSI_LOC_TEXT_MAX], cin[16];
	const char *it = etsi_iri_type_name(r->iri_type);

	access_time_format(r->time_us, t);
	locations_place(r, p, sizeof(p));
	if (r->has_cin)
		snprintf(cin, sizeof(cin), "%" PRIu32, r->cin);
	else
		snprintf(cin, sizeof(cin), "-");
	printf("%s  %s  cin %s seq %" PRIu64 "  %s  %s %s%s%s\n", t, r->liid, cin, r->seq,
	       it ? it : "iri?", r->kind, p, r->problem[0] ? "  problem: " : "", r->problem);
}

/* `lacre locations`. */
int cmd_locations(int argc, char **argv)
{
	static const struct option lo[] = {
		CLI_MEDIA_LONGOPTS,
		{ "warrant", required_argument, 0, 'w' },
		{ "cin", required_argument, 0, 'c' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 }
	};
	struct cli_media_opts o;
	struct cli_media m;
	struct locations_row *v = NULL;
	struct lacre_dbuf d;
	struct json_w w;
	const char *warrant = NULL;
	unsigned long long cv;
	char *end;
	uint32_t cin = 0;
	size_t n = 0;
	int c, k, r, ex, has_cin = 0;

	memset(&o, 0, sizeof(o));
	passphrase_src_init(&o.pass);
	optind = 1;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if ((k = cli_media_opt(c, optarg, &o)) < 0)
			return -k;
		if (k)
			continue;
		if (c == 'w') {
			warrant = optarg;
		} else if (c == 'c') {
			cv = strtoull(optarg, &end, 10);
			if (*end || !*optarg || optarg[0] == '-' || cv > UINT32_MAX) {
				cli_err("--cin needs a number from 0 to 4294967295");
				return EXIT_USAGE;
			}
			cin = (uint32_t)cv;
			has_cin = 1;
		} else if (c == 'h') {
			usage(stdout);
			return EXIT_OK;
		} else {
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc || !warrant) {
		cli_err(optind < argc ? "unexpected argument" : "locations needs --warrant W");
		return EXIT_USAGE;
	}
	if (!o.justification || !o.justification[0]) {
		cli_err("locations needs --justification TEXT (it goes to the access log first)");
		return EXIT_USAGE;
	}
	ex = cli_media_open(&o, "calls", warrant, "locations", 0, &m);
	if (ex > 0)
		return ex;
	r = locations_list(m.ix, warrant, has_cin, cin, &v, &n);
	cli_media_close(&m);
	if (r != LACRE_OK)
		return cli_fail(r, "cannot read the locations from the index");
	lacre_dbuf_init(&d, 1 << 16);
	for (size_t i = 0; i < n; i++) {
		if (!o.json) {
			print_text(&v[i]);
			continue;
		}
		lacre_dbuf_reset(&d);
		json_init(&w, &d);
		locations_json(&w, &v[i]);
		if (json_finish(&w) != LACRE_OK) {
			ex = cli_fail(LACRE_E_NOMEM, "json");
			break;
		}
		fwrite(d.p, 1, d.len, stdout);
		fputc('\n', stdout);
	}
	lacre_dbuf_free(&d);
	free(v);
	fflush(stdout);
	return ex < 0 ? -ex : ex;
}

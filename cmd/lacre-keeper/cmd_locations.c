/*
 * cmd_locations.c - `lacre locations --warrant W [--cin N]`: the location
 * events of a warrant's IRIs in time order (docs/cmd-locations.md).  Thin:
 * it passes the same gate as `lacre calls` (action "calls": the
 * investigator's unit only, a justification, the access logged before
 * anything is shown), brings the index up to date and prints
 * lib/access/locations.c's rows.  lacre has no cell-tower database: a cell
 * is printed as the operator's record names it.
 */
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

/* cli_media_rows' text printer for one struct locations_row. */
static void print_row(const void *row)
{
	print_text(row);
}

/* cli_media_rows' JSON printer for one row. */
static void json_row(struct json_w *w, const void *row)
{
	locations_json(w, row);
}

/* `lacre locations`. */
int cmd_locations(int argc, char **argv)
{
	struct cli_media_opts o;
	struct cli_media m;
	struct locations_row *v = NULL;
	const char *warrant = NULL;
	uint32_t cin = 0;
	size_t n = 0;
	int k, r, ex, has_cin = 0;

	if ((ex = cli_media_listing_args(argc, argv, "locations", usage, &o, &warrant, &cin,
					 &has_cin)) != EXIT_OK)
		return ex == CLI_MEDIA_HELP ? EXIT_OK : ex;
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
	k = cli_media_rows(v, n, sizeof(*v), o.json, 1 << 16, print_row, json_row);
	free(v);
	if (k != EXIT_OK)
		return k;
	return ex < 0 ? -ex : ex;
}

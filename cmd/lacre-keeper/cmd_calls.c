/*
 * cmd_calls.c - `lacre calls --warrant W`: the warrant's VoIP calls and
 * broadband sessions and mobile sessions, IRI and CC correlated (docs/cmd-calls.md).  Thin:
 * the work is lib/access/calls.c over the index (lib/access/index.c).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lacre/calls.h"
#include "lacre/err.h"
#include "lacre/json.h"
#include "lacre/record_json.h"
#include "cli.h"
#include "cli_media.h"

/* Usage text. */
static void usage(FILE *f)
{
	fprintf(f,
		"usage: lacre calls --warrant W --justification TEXT [--user KEYFILE] [--site DIR]\n"
		"                   [--json] [--passphrase-file F | --passphrase-fd N]\n"
		"Lists warrant W's VoIP calls (SIP in IRI, RTP in CC, by Call-ID and CIN) and\n"
		"broadband sessions (IPIRI and IPCC, by CIN) and mobile sessions (EPS, UMTS,\n"
		"33.128 IRI and CC, by LIID and CIN: activation to deactivation, identities,\n"
		"PDN address, APN, every location change), with parties, times, direction,\n"
		"codec, packets each way and completeness (sequence gaps, missing BYE or\n"
		"IRI-End, RTP gaps).  The index (DIR/index.sqlite) is brought up to date first.\n"
		"--json prints one object per line; 'id' names the call for 'lacre audio'.\n");
}

/* A mobile session: one line, then one indented line per location change. */
static void print_mobile(const struct calls_entry *c, const char *t0, const char *t1)
{
	const char *last = "";
	char t[32];

	printf("%s  mobile  imsi %s msisdn %s imei %s  pdn %s apn %s  %s .. %s  packets %" PRIu64
	       " (%" PRIu64 "/%" PRIu64 ") bytes %" PRIu64 "  %s\n", c->id, c->imsi[0] ? c->imsi : "?",
	       c->msisdn[0] ? c->msisdn : "?", c->imei[0] ? c->imei : "?",
	       c->target_ip[0] ? c->target_ip : "?", c->apn[0] ? c->apn : "?", t0, t1, c->cc_records,
	       c->packets[CALLS_FROM_TARGET], c->packets[CALLS_TO_TARGET],
	       c->bytes[0] + c->bytes[1] + c->bytes[2], c->complete ? "complete" : c->problems);
	for (size_t k = 0; k < c->n_events; k++) {
		const struct calls_mobile_event *e = &c->events[k];
		const char *ev = calls_mobile_event_name(c->family, e->event);
		if (!e->location[0] || !strcmp(e->location, last))
			continue;
		last = e->location;
		access_time_format(e->time_us, t);
		printf("  %s  %s  %s\n", t, ev ? ev : "event?", e->location);
	}
}

/* One text line per call or session. */
static void print_text(const struct calls_entry *c)
{
	char t0[32], t1[32];

	access_time_format(c->start_us, t0);
	if (c->end_us)
		access_time_format(c->end_us, t1);
	else
		snprintf(t1, sizeof(t1), c->type == CALLS_MOBILE ? "open" : "(no end)");
	if (c->type == CALLS_MOBILE)
		print_mobile(c, t0, t1);
	else if (c->type == CALLS_VOIP)
		printf("%s  voip  %s -> %s  %s .. %s  %s  %s  rtp %" PRIu64 "/%" PRIu64 "  %s\n",
		       c->id, c->from[0] ? c->from : "?", c->to[0] ? c->to : "?", t0, t1,
		       c->target_caller < 0 ? "direction?" : c->target_caller ? "target-calling"
		       : "target-called", c->codec_pt == 0 ? "PCMU" : c->codec_pt == 8 ? "PCMA" : "codec?",
		       c->packets[CALLS_FROM_TARGET], c->packets[CALLS_TO_TARGET],
		       c->complete ? "complete" : c->problems);
	else
		printf("%s  session  %s  %s .. %s  packets %" PRIu64 " (%" PRIu64 "/%" PRIu64
		       ")  %s\n", c->id, c->target_ip[0] ? c->target_ip : "?", t0, t1, c->cc_records,
		       c->packets[CALLS_FROM_TARGET], c->packets[CALLS_TO_TARGET],
		       c->complete ? "complete" : c->problems);
}

/* cli_media_rows' text printer for one struct calls_entry. */
static void print_row(const void *row)
{
	print_text(row);
}

/* cli_media_rows' JSON printer for one row. */
static void json_row(struct json_w *w, const void *row)
{
	calls_json(w, row);
}

/* `lacre calls`. */
int cmd_calls(int argc, char **argv)
{
	struct cli_media_opts o;
	struct cli_media m;
	struct calls_entry *v = NULL;
	const char *warrant = NULL;
	size_t n = 0;
	int k, r, ex;

	if ((ex = cli_media_listing_args(argc, argv, "calls", usage, &o, &warrant, NULL,
					 NULL)) != EXIT_OK)
		return ex == CLI_MEDIA_HELP ? EXIT_OK : ex;
	ex = cli_media_open(&o, "calls", warrant, "calls and sessions", 0, &m);
	if (ex > 0)
		return ex;
	r = calls_list(m.ix, warrant, &v, &n);
	cli_media_close(&m);
	if (r != LACRE_OK)
		return cli_fail(r, "cannot correlate the calls");
	k = cli_media_rows(v, n, sizeof(*v), o.json, 1 << 20, print_row, json_row);
	free(v);
	if (k != EXIT_OK)
		return k;
	return ex < 0 ? -ex : ex;
}

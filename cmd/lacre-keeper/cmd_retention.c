/*
 * cmd_retention.c - `lacre retention [list]` and `lacre retention record`:
 * the court state of each case and the warrants whose data has outlived
 * its legal basis (LECrim 588 bis k, L13): 5 years after the sentence was
 * executed (the LAJ copy), at once after a final ruling (the originals),
 * a time bar, a free dismissal or an acquittal; never while the tribunal
 * orders the data kept.  Court states are events of cases.log
 * (lib/access/shred.c).  docs/cmd-retention.md.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lacre/acl.h"
#include "lacre/err.h"
#include "lacre/json.h"
#include "lacre/shred.h"
#include "lacre/site.h"
#include "lacre/warrant.h"
#include "cli.h"

struct topts {
	const char *site, *user, *justification, *state, *date, *order, *at, *id;
	int json, all;
};

/* Print the option summary. */
static void usage(FILE *f)
{
	fprintf(f,
	"usage: lacre retention [list] [--at T] [--all] [--json]\n"
	"       lacre retention record W --state STATE --date D [--order ORDER]\n"
	"  (both: --user KEYFILE or LACRE_USER, --justification T, --site DIR)\n"
	"\n"
	"list    the warrants whose data has outlived its legal basis (L13) at T (default\n"
	"        now): 5 years after sentence-executed; at once after final-ruling,\n"
	"        time-barred, dismissed or acquitted; never under keep.  --all shows every\n"
	"        warrant with its court state.  Shredded warrants are not listed.\n"
	"record  the court state of case W (clerk or admin): open, final-ruling,\n"
	"        sentence-executed, time-barred, dismissed, acquitted, keep; D is its date.\n");
}

/* Parse the options (argv[0] is the subcommand). */
static int parse(int argc, char **argv, struct topts *o)
{
	static const struct option lo[] = {
		{ "site", required_argument, NULL, 's' },
		{ "user", required_argument, NULL, 'u' },
		{ "justification", required_argument, NULL, 'J' },
		{ "state", required_argument, NULL, 'S' },
		{ "date", required_argument, NULL, 'd' },
		{ "order", required_argument, NULL, 'o' },
		{ "at", required_argument, NULL, 'a' },
		{ "all", no_argument, NULL, 'A' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 's': o->site = optarg; break;
		case 'u': o->user = optarg; break;
		case 'J': o->justification = optarg; break;
		case 'S': o->state = optarg; break;
		case 'd': o->date = optarg; break;
		case 'o': o->order = optarg; break;
		case 'a': o->at = optarg; break;
		case 'A': o->all = 1; break;
		case 'j': o->json = 1; break;
		case 'h': usage(stdout); return -1;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind < argc)
		o->id = argv[optind++];
	if (optind < argc) {
		cli_err("unexpected argument '%s'; run 'lacre help retention'", argv[optind]);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

/* Open the session and pass the gate for rq. */
static int gate(const struct topts *o, const struct site *s, const struct access_request *rq,
		struct acl_session **out)
{
	return cli_gate(s, o->user, rq, out, NULL);
}

/* lacre retention record */
static int do_record(const struct topts *o, const struct site *s)
{
	struct acl_session *ss = NULL;
	struct access_request rq;
	enum court_state st;
	char msg[SITE_MSG_MAX], what[512];
	int64_t d;
	int e, r;

	if (!o->id || !o->state || !o->date) {
		cli_err("retention record needs W, --state STATE and --date D");
		return EXIT_USAGE;
	}
	if (court_state_parse(o->state, &st) != LACRE_OK) {
		cli_err("--state must be open, final-ruling, sentence-executed, time-barred, dismissed, "
			"acquitted or keep");
		return EXIT_USAGE;
	}
	if (warrant_time_parse(o->date, &d) != LACRE_OK) {
		cli_err("--date: '%s' is not a date like 2026-01-01", o->date);
		return EXIT_USAGE;
	}
	snprintf(what, sizeof(what), "court state %s of %s%s%s", o->state, o->date,
		 o->order ? " by order " : "", o->order ? o->order : "");
	memset(&rq, 0, sizeof(rq));
	rq.action = "court-state";
	rq.warrant = o->id;
	rq.what = what;
	rq.justification = o->justification;
	if ((e = gate(o, s, &rq, &ss)) != EXIT_OK)
		return e;
	msg[0] = '\0';
	r = cases_set_state(s, ss, o->id, st, d, o->order, msg, sizeof(msg));
	acl_session_close(ss);
	if (r != LACRE_OK) {
		cli_err("retention record: %s", msg[0] ? msg : lacre_strerror(r));
		return cli_exit_status(r);
	}
	printf("%s: court state %s of %s recorded\n", o->id, o->state, o->date);
	return EXIT_OK;
}

/* lacre retention [list] */
static int do_list(const struct topts *o, const struct site *s)
{
	struct acl_session *ss = NULL;
	struct warrant_registry *reg = NULL;
	struct cases *c = NULL;
	struct access_request rq;
	struct lacre_dbuf d;
	struct json_w w;
	char msg[SITE_MSG_MAX], why[512], unit[WARRANT_TEXT_MAX], t[WARRANT_TIME_MAX];
	int64_t now = warrant_time_now();
	size_t listed = 0;
	int e, r, scoped;

	if (o->at && warrant_time_parse(o->at, &now) != LACRE_OK) {
		cli_err("--at: '%s' is not a time like 2031-01-01", o->at);
		return EXIT_USAGE;
	}
	memset(&rq, 0, sizeof(rq));
	rq.action = "retention";
	rq.what = o->all ? "court states of every case" : "cases past their retention";
	rq.justification = o->justification;
	if ((e = gate(o, s, &rq, &ss)) != EXIT_OK)
		return e;
	/* supervisors see their own unit's cases only (L7, L8) */
	scoped = acl_session_role(ss) == ACL_SUPERVISOR;
	snprintf(unit, sizeof(unit), "%s", acl_session_unit(ss));
	acl_session_close(ss);
	msg[0] = '\0';
	if ((r = warrant_registry_load(s, &reg)) != LACRE_OK) {
		cli_err("cannot load the warrant log: %s", warrant_registry_error());
		return cli_exit_status(r);
	}
	if ((r = cases_load(s, &c, msg, sizeof(msg))) != LACRE_OK) {
		warrant_registry_free(reg);
		cli_err("%s", msg[0] ? msg : lacre_strerror(r));
		return cli_exit_status(r);
	}
	lacre_dbuf_init(&d, 1 << 20);
	for (size_t i = 0; i < warrant_registry_count(reg); i++) {
		const struct warrant *wr = warrant_registry_at(reg, i);
		const struct case_state *cs = cases_state(c, wr->id);
		const struct shred_request *sh = cases_shredded(c, wr->id);
		int due;

		if (scoped && strcmp(wr->unit, unit) != 0)
			continue;
		why[0] = '\0';
		due = !sh && retention_due(cs, now, why, sizeof(why));
		if (!due && !o->all)
			continue;
		listed += due;
		if (sh)
			snprintf(why, sizeof(why), "shredded by order %s", sh->order);
		if (cs)
			warrant_time_format(cs->date, t);
		if (o->json) {
			lacre_dbuf_reset(&d);
			json_init(&w, &d);
			json_obj_begin(&w);
			json_kv_str(&w, "warrant", wr->id);
			json_kv_str(&w, "case", wr->case_id);
			json_kv_str(&w, "unit", wr->unit);
			json_kv_str(&w, "court_state", cs ? court_state_name(cs->state) : "none");
			if (cs)
				json_kv_str(&w, "date", t);
			json_kv_bool(&w, "due", due);
			json_kv_bool(&w, "shredded", sh != NULL);
			json_kv_str(&w, "reason", why);
			json_obj_end(&w);
			if (json_finish(&w) == LACRE_OK)
				printf("%.*s\n", (int)d.len, (const char *)d.p);
		} else {
			printf("%s %s (unit %s): %s%s%s%s\n", wr->id, wr->case_id, wr->unit,
			       due ? "PAST RETENTION: " : "", cs ? court_state_name(cs->state) : "no court state",
			       cs ? " of " : "", cs ? t : "");
			if (why[0])
				printf("  %s\n", why);
		}
	}
	if (!o->json)
		fprintf(stderr, "lacre: %zu warrant%s past retention\n", listed, listed == 1 ? "" : "s");
	lacre_dbuf_free(&d);
	cases_free(c);
	warrant_registry_free(reg);
	return EXIT_OK;
}

int cmd_retention(int argc, char **argv)
{
	struct topts o;
	struct site s;
	const char *sub = "list";
	int e, skip = 0;

	if (argc >= 2 && (!strcmp(argv[1], "list") || !strcmp(argv[1], "record"))) {
		sub = argv[1];
		skip = 1;
	} else if (argc >= 2 && argv[1][0] != '-') {
		cli_err("no retention command '%s'; run 'lacre help retention'", argv[1]);
		return EXIT_USAGE;
	}
	memset(&o, 0, sizeof(o));
	if ((e = parse(argc - skip, argv + skip, &o)) != EXIT_OK)
		return e < 0 ? EXIT_OK : e;
	if (!strcmp(sub, "list") && o.id) {
		cli_err("unexpected argument '%s'; run 'lacre help retention'", o.id);
		return EXIT_USAGE;
	}
	if ((e = cli_open_site(o.site, &s)) != EXIT_OK)
		return e;
	return !strcmp(sub, "record") ? do_record(&o, &s) : do_list(&o, &s);
}

/*
 * cmd_warrant.c - `lacre warrant add|show|list|extend|confirm|cease|identity`:
 * the court orders of a site.  Thin: the rules and the log are in
 * lib/site/warrant.c and lib/site/legal.c.  Documented in
 * docs/cmd-warrant.md.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "lacre/acl.h"
#include "lacre/age.h"
#include "lacre/err.h"
#include "lacre/json.h"
#include "keeper/access_key.h"
#include "keeper/passphrase.h"
#include "lacre/site.h"
#include "lacre/users.h"
#include "lacre/warrant.h"
#include "cli.h"

/* Everything the subcommands take from the command line. */
struct wopts {
	const char *site;
	struct passphrase_src pass;
	int json;
	const char *case_id, *unit, *court, *order, *order_date, *from, *to, *at;
	const char *categories, *authority;
	const char *targets[WARRANT_MAX_TARGETS + 1];
	size_t n_targets;
	const char *liids[WARRANT_MAX_LIIDS + 1];
	size_t n_liids;
	const char *operators[WARRANT_MAX_OPERATORS + 1];
	size_t n_operators;
	int emergency;
	const char *id;          /* the positional warrant id */
	const char *user, *justification; /* identity: acting user (acl.h) */
};

/* Print the option summary. */
static void usage(FILE *f)
{
	fprintf(f,
	"usage: lacre warrant COMMAND [options]\n"
	"\n"
	"  add --case C --unit U --court J --order ID --order-date D [--from D] --to D\n"
	"      --categories content,iri,location --target T... --liid L...\n"
	"      [--operator NAME...] [--emergency --authority A]\n"
	"                                         add a warrant; prints its id; each\n"
	"                                         --operator (lacre.conf operator.NAME)\n"
	"                                         is obliged to deliver it, and records of\n"
	"                                         its LIIDs from any other are quarantined\n"
	"  show W                                 one warrant, with its recipient\n"
	"  list                                   every warrant and its status now\n"
	"  extend W --order ID --order-date D [--from D] --to D\n"
	"                                         a new period (a new order)\n"
	"  confirm W --order ID --order-date D    judicial confirmation of an emergency order\n"
	"  cease W --order ID --order-date D [--at T]   cessation order (effective at T,\n"
	"                                         default the order date)\n"
	"  identity W --user KEYFILE --justification TEXT\n"
	"                                         print the warrant's AGE-SECRET-KEY-1...\n"
	"                                         (supervisor of its unit or clerk; logged\n"
	"                                         in the access log first)\n"
	"\n"
	"  --site DIR             the site (LACRE_SITE)\n"
	"  --passphrase-file F / --passphrase-fd N   master passphrase (every command\n"
	"                         but show and list; else LACRE_PASSPHRASE, else a prompt)\n"
	"  --json                 machine-readable output\n"
	"  --user KEYFILE         the acting user (LACRE_USER): add, extend, confirm and\n"
	"                         cease need an admin or a clerk once the site has users\n"
	"  --justification T      recorded in the access log (default: the court order)\n"
	"Times: 2026-01-01 (midnight UTC) or 2026-01-01T12:00:00Z; windows are [from, to).\n");
}

/* Parse the options of a subcommand (argv[0] is its name). */
static int parse_opts(int argc, char **argv, struct wopts *o)
{
	static const struct option opts[] = {
		{ "site", required_argument, NULL, 's' },
		{ "passphrase-file", required_argument, NULL, 'p' },
		{ "passphrase-fd", required_argument, NULL, 'f' },
		{ "json", no_argument, NULL, 'j' },
		{ "case", required_argument, NULL, 'c' },
		{ "unit", required_argument, NULL, 'u' },
		{ "court", required_argument, NULL, 'C' },
		{ "order", required_argument, NULL, 'o' },
		{ "order-date", required_argument, NULL, 'd' },
		{ "from", required_argument, NULL, 'F' },
		{ "to", required_argument, NULL, 'T' },
		{ "at", required_argument, NULL, 'a' },
		{ "categories", required_argument, NULL, 'k' },
		{ "authority", required_argument, NULL, 'A' },
		{ "target", required_argument, NULL, 't' },
		{ "liid", required_argument, NULL, 'l' },
		{ "operator", required_argument, NULL, 'O' },
		{ "emergency", no_argument, NULL, 'e' },
		{ "user", required_argument, NULL, 'U' },
		{ "justification", required_argument, NULL, 'J' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	passphrase_src_init(&o->pass);
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 's': o->site = optarg; break;
		case 'p': o->pass.file = optarg; break;
		case 'f':
			if (cli_passphrase_fd(optarg, &o->pass.fd) != EXIT_OK)
				return EXIT_USAGE;
			break;
		case 'j': o->json = 1; break;
		case 'c': o->case_id = optarg; break;
		case 'u': o->unit = optarg; break;
		case 'C': o->court = optarg; break;
		case 'o': o->order = optarg; break;
		case 'd': o->order_date = optarg; break;
		case 'F': o->from = optarg; break;
		case 'T': o->to = optarg; break;
		case 'a': o->at = optarg; break;
		case 'k': o->categories = optarg; break;
		case 'A': o->authority = optarg; break;
		case 't':
			if (o->n_targets == WARRANT_MAX_TARGETS) {
				cli_err("at most %d --target", WARRANT_MAX_TARGETS);
				return EXIT_USAGE;
			}
			o->targets[o->n_targets++] = optarg;
			break;
		case 'l':
			if (o->n_liids == WARRANT_MAX_LIIDS) {
				cli_err("at most %d --liid", WARRANT_MAX_LIIDS);
				return EXIT_USAGE;
			}
			o->liids[o->n_liids++] = optarg;
			break;
		case 'O':
			if (o->n_operators == WARRANT_MAX_OPERATORS) {
				cli_err("at most %d --operator", WARRANT_MAX_OPERATORS);
				return EXIT_USAGE;
			}
			o->operators[o->n_operators++] = optarg;
			break;
		case 'e': o->emergency = 1; break;
		case 'U': o->user = optarg; break;
		case 'J': o->justification = optarg; break;
		case 'h': usage(stdout); return -1;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind < argc)
		o->id = argv[optind++];
	if (optind < argc) {
		cli_err("unexpected argument '%s'; run 'lacre help warrant'", argv[optind]);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

/* Parse a time option (required when req). */
static int get_time(const char *name, const char *s, int req, int64_t *t)
{
	if (s == NULL) {
		if (!req)
			return EXIT_OK;
		cli_err("--%s is required", name);
		return EXIT_USAGE;
	}
	if (warrant_time_parse(s, t) != LACRE_OK) {
		cli_err("--%s '%s' is not a UTC time like 2026-01-01 or 2026-01-01T12:00:00Z", name, s);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

/* Copy an optional text option into a fixed field. */
static int set_text(const char *name, const char *v, char *dst, size_t cap)
{
	if (v == NULL)
		return EXIT_OK;
	if (strlen(v) >= cap) {
		cli_err("--%s is longer than %zu bytes", name, cap - 1);
		return EXIT_USAGE;
	}
	memcpy(dst, v, strlen(v) + 1);
	return EXIT_OK;
}

/* Status of w now. */
static const char *status_of(const struct warrant *w, int64_t now)
{
	if (w->ceased && now >= w->ceased_at)
		return "ceased";
	if (w->emergency && !w->confirmed && now >= w->periods[0].order_date + WARRANT_EMERGENCY_US)
		return "emergency-unconfirmed-expired";
	if (warrant_active_at(w, now))
		return w->emergency && !w->confirmed ? "active-unconfirmed" : "active";
	if (now < w->periods[0].from)
		return "pending";
	for (size_t i = 0; i < w->n_periods; i++)
		if (now < w->periods[i].to)
			return "paused";
	return "ended";
}

/* Write one warrant as a JSON object. */
static void json_warrant(struct json_w *j, const struct warrant *w, int64_t now)
{
	char t[WARRANT_TIME_MAX], cats[64];

	json_obj_begin(j);
	json_kv_str(j, "id", w->id);
	json_kv_str(j, "status", status_of(w, now));
	json_kv_str(j, "case", w->case_id);
	json_kv_str(j, "unit", w->unit);
	json_kv_str(j, "court", w->court);
	warrant_categories_format(w->categories, cats, sizeof(cats));
	json_key(j, "categories");
	json_arr_begin(j);
	for (char *p = cats, *e; *p; p = e + (*e != '\0')) {
		e = p + strcspn(p, ",");
		json_strn(j, p, (size_t)(e - p));
	}
	json_arr_end(j);
	json_key(j, "targets");
	json_arr_begin(j);
	for (size_t i = 0; i < w->n_targets; i++)
		json_str(j, w->targets[i]);
	json_arr_end(j);
	json_key(j, "liids");
	json_arr_begin(j);
	for (size_t i = 0; i < w->n_liids; i++)
		json_str(j, w->liids[i]);
	json_arr_end(j);
	json_key(j, "operators");          /* [] = any connection may deliver it */
	json_arr_begin(j);
	for (size_t i = 0; i < w->n_operators; i++)
		json_str(j, w->operators[i]);
	json_arr_end(j);
	json_kv_bool(j, "emergency", w->emergency);
	if (w->emergency) {
		json_kv_str(j, "authority", w->authority);
		json_kv_bool(j, "confirmed", w->confirmed);
		if (w->confirmed) {
			json_kv_str(j, "confirm_order", w->confirm_order);
			warrant_time_format(w->confirm_date, t);
			json_kv_str(j, "confirm_date", t);
		}
	}
	json_key(j, "periods");
	json_arr_begin(j);
	for (size_t i = 0; i < w->n_periods; i++) {
		json_obj_begin(j);
		json_kv_str(j, "order", w->periods[i].order_id);
		warrant_time_format(w->periods[i].order_date, t);
		json_kv_str(j, "order_date", t);
		warrant_time_format(w->periods[i].from, t);
		json_kv_str(j, "from", t);
		warrant_time_format(w->periods[i].to, t);
		json_kv_str(j, "to", t);
		json_obj_end(j);
	}
	json_arr_end(j);
	if (w->ceased) {
		json_kv_str(j, "cease_order", w->cease_order);
		warrant_time_format(w->cease_date, t);
		json_kv_str(j, "cease_date", t);
		warrant_time_format(w->ceased_at, t);
		json_kv_str(j, "ceased_at", t);
	}
	json_kv_str(j, "recipient", w->recipient);
	warrant_time_format(w->created, t);
	json_kv_str(j, "created", t);
	json_obj_end(j);
}

/* Print the JSON document in d (one line) or fail. */
static int json_print(struct json_w *j, struct lacre_dbuf *d)
{
	int r = json_finish(j);

	if (r == LACRE_OK)
		printf("%.*s\n", (int)d->len, (const char *)d->p);
	lacre_dbuf_free(d);
	return r == LACRE_OK ? EXIT_OK : cli_fail(r, "json output");
}

/* Print one warrant as text. */
static void text_warrant(const struct warrant *w, int64_t now)
{
	char t1[WARRANT_TIME_MAX], t2[WARRANT_TIME_MAX], t3[WARRANT_TIME_MAX], cats[64];

	warrant_categories_format(w->categories, cats, sizeof(cats));
	printf("id          %s\nstatus      %s\ncase        %s\nunit        %s\ncourt       %s\n"
	       "categories  %s\n", w->id, status_of(w, now), w->case_id, w->unit, w->court, cats);
	for (size_t i = 0; i < w->n_targets; i++)
		printf("target      %s\n", w->targets[i]);
	for (size_t i = 0; i < w->n_liids; i++)
		printf("liid        %s\n", w->liids[i]);
	for (size_t i = 0; i < w->n_operators; i++)
		printf("operator    %s\n", w->operators[i]);
	if (w->n_operators == 0)
		printf("operator    any (none named: records of its LIIDs are accepted from every connection)\n");
	if (w->emergency) {
		printf("emergency   yes, issued by %s\n", w->authority);
		if (w->confirmed) {
			warrant_time_format(w->confirm_date, t1);
			printf("confirmed   %s of %s\n", w->confirm_order, t1);
		} else {
			printf("confirmed   no (expires 72 h after the order)\n");
		}
	}
	for (size_t i = 0; i < w->n_periods; i++) {
		warrant_time_format(w->periods[i].order_date, t1);
		warrant_time_format(w->periods[i].from, t2);
		warrant_time_format(w->periods[i].to, t3);
		printf("%-11s %s .. %s  (order %s of %s)\n", i ? "extension" : "window", t2, t3,
		       w->periods[i].order_id, t1);
	}
	if (w->ceased) {
		warrant_time_format(w->ceased_at, t1);
		warrant_time_format(w->cease_date, t2);
		printf("ceased      %s  (order %s of %s)\n", t1, w->cease_order, t2);
	}
	printf("recipient   %s\n", w->recipient);
}

/* Warrant changes (add, extend, confirm, cease) are access-log events of
 * an admin or a clerk (docs/access.md).  A site without any user yet (no
 * bootstrap done) is not gated, so that a fresh site can be set up and
 * scripted; once the first user exists every change needs --user.  The
 * justification defaults to the court order the change cites.  On EXIT_OK
 * *ss is the session the change's keys are read through (access_key.h):
 * the one the gate allowed, or on a site without users the master
 * passphrase holder's (acl_session_open_operator); the caller closes it. */
static int change_gate(const struct wopts *o, const struct site *s, const char *sub,
		       struct acl_session **ss)
{
	struct users_registry *reg = NULL;
	struct access_request rq;
	char msg[SITE_MSG_MAX], what[512], just[300], prefix[64];
	int r, none;

	msg[0] = '\0';
	if ((r = users_load(s, &reg, msg, sizeof(msg))) != LACRE_OK) {
		cli_err("%s", msg[0] ? msg : lacre_strerror(r));
		return cli_exit_status(r);
	}
	none = reg->n == 0;
	users_free(reg);
	if (none) {
		/* no user yet: the master passphrase holder's own session */
		if ((r = acl_session_open_operator(s, ss, msg, sizeof(msg))) != LACRE_OK) {
			cli_err("warrant %s: %s", sub, msg[0] ? msg : lacre_strerror(r));
			return EXIT_FAIL;
		}
		return EXIT_OK;
	}
	snprintf(what, sizeof(what), "%s%s%s%s%s by order %s of %s", sub,
		 o->case_id ? " case " : "", o->case_id ? o->case_id : "",
		 o->unit ? " unit " : "", o->unit ? o->unit : "", o->order ? o->order : "",
		 o->order_date ? o->order_date : "");
	snprintf(just, sizeof(just), "court order %s of %s", o->order ? o->order : "",
		 o->order_date ? o->order_date : "");
	memset(&rq, 0, sizeof(rq));
	rq.action = strcmp(sub, "add") == 0 ? "warrant-add" : "warrant-change";
	rq.warrant = strcmp(sub, "add") == 0 ? NULL : o->id;
	rq.what = what;
	rq.justification = o->justification ? o->justification : just;
	snprintf(prefix, sizeof(prefix), "warrant %s", sub);
	return cli_gate(s, o->user, &rq, ss, prefix);
}

/* lacre warrant add */
static int do_add(const struct wopts *o, const struct site *s)
{
	struct acl_session *ss = NULL;
	struct warrant w;
	char id[WARRANT_ID_MAX], msg[SITE_MSG_MAX];
	int e, r;

	memset(&w, 0, sizeof(w));
	if ((e = set_text("case", o->case_id, w.case_id, sizeof(w.case_id))) ||
	    (e = set_text("unit", o->unit, w.unit, sizeof(w.unit))) ||
	    (e = set_text("court", o->court, w.court, sizeof(w.court))) ||
	    (e = set_text("authority", o->authority, w.authority, sizeof(w.authority))) ||
	    (e = set_text("order", o->order, w.periods[0].order_id, sizeof(w.periods[0].order_id))) ||
	    (e = get_time("order-date", o->order_date, 1, &w.periods[0].order_date)) ||
	    (e = get_time("to", o->to, 1, &w.periods[0].to)))
		return e;
	w.periods[0].from = w.periods[0].order_date;
	if ((e = get_time("from", o->from, 0, &w.periods[0].from)))
		return e;
	w.n_periods = 1;
	if (o->categories == NULL) {
		cli_err("--categories is required (content, iri, location, comma-separated)");
		return EXIT_USAGE;
	}
	if (warrant_categories_parse(o->categories, &w.categories) != LACRE_OK) {
		cli_err("--categories '%s': use content, iri and/or location, comma-separated",
			o->categories);
		return EXIT_USAGE;
	}
	for (size_t i = 0; i < o->n_targets; i++)
		if ((e = set_text("target", o->targets[i], w.targets[i], sizeof(w.targets[i]))))
			return e;
	for (size_t i = 0; i < o->n_liids; i++)
		if ((e = set_text("liid", o->liids[i], w.liids[i], sizeof(w.liids[i]))))
			return e;
	for (size_t i = 0; i < o->n_operators; i++)
		if ((e = set_text("operator", o->operators[i], w.operators[i], sizeof(w.operators[i]))))
			return e;
	w.n_targets = o->n_targets;
	w.n_liids = o->n_liids;
	w.n_operators = o->n_operators;
	w.emergency = o->emergency;
	if ((e = change_gate(o, s, "add", &ss)))
		return e;
	if ((e = cli_session_keys(&o->pass, ss))) {
		acl_session_close(ss);
		return e;
	}
	msg[0] = '\0';
	r = access_warrant_add(ss, &w, id, msg, sizeof(msg));
	acl_session_close(ss);
	if (r != LACRE_OK) {
		cli_err("warrant add: %s", msg[0] ? msg : lacre_strerror(r));
		return cli_exit_status(r);
	}
	if (o->json) {
		struct warrant_registry *reg = NULL;
		const struct warrant *g;
		struct lacre_dbuf d;
		struct json_w j;
		lacre_dbuf_init(&d, 1 << 16);
		json_init(&j, &d);
		json_obj_begin(&j);
		json_kv_str(&j, "id", id);
		if (warrant_registry_load(s, &reg) == LACRE_OK &&
		    (g = warrant_registry_find(reg, id)) != NULL)
			json_kv_str(&j, "recipient", g->recipient);
		warrant_registry_free(reg);
		json_obj_end(&j);
		return json_print(&j, &d);
	}
	printf("%s\n", id);
	return EXIT_OK;
}

/* Load the registry or report why not. */
static int load_reg(const struct site *s, struct warrant_registry **reg)
{
	int r = warrant_registry_load(s, reg);

	if (r != LACRE_OK) {
		if (warrant_registry_error()[0])
			cli_err("%s", warrant_registry_error());
		return cli_fail(r, "cannot load the warrant log");
	}
	return EXIT_OK;
}

/* lacre warrant show / list */
/* In a keeper worker warrant metadata is content (L8): the acting user
 * passes the audit-first gate (warrant-list, warrant-show) and, when its
 * role is unit-scoped, *unit gets the one unit whose warrants it may see
 * ("" when it sees all). */
static int show_gate(const struct wopts *o, const struct site *s, int list, char *unit,
		     size_t unitlen)
{
	struct acl_session *ss = NULL;
	struct access_request rq;
	enum acl_role role;
	int e;

	memset(&rq, 0, sizeof(rq));
	rq.action = list ? "warrant-list" : "warrant-show";
	rq.warrant = list ? NULL : o->id;
	rq.what = list ? "warrant list" : "warrant metadata";
	rq.justification = o->justification;
	unit[0] = '\0';
	if ((e = cli_gate(s, o->user, &rq, &ss, NULL)) != EXIT_OK)
		return e;
	role = acl_session_role(ss);
	snprintf(unit, unitlen, "%s", acl_session_unit(ss));
	acl_session_close(ss);
	if (role != ACL_INVESTIGATOR && role != ACL_SUPERVISOR)
		unit[0] = '\0';
	else if (!unit[0])
		snprintf(unit, unitlen, "%s", "\x01");  /* no unit: sees none */
	return EXIT_OK;
}

static int do_show(const struct wopts *o, const struct site *s, int list)
{
	struct warrant_registry *reg = NULL;
	const struct warrant *w = NULL;
	int64_t now = warrant_time_now();
	char unit[USER_UNIT_MAX];
	int e;

	if (!list && o->id == NULL) {
		cli_err("which warrant? 'lacre warrant show W-000001'");
		return EXIT_USAGE;
	}
	unit[0] = '\0';
	if (cli_keeper_worker() && (e = show_gate(o, s, list, unit, sizeof(unit))))
		return e;
	if ((e = load_reg(s, &reg)))
		return e;
	if (!list && (w = warrant_registry_find(reg, o->id)) == NULL) {
		cli_err("no warrant '%s'; 'lacre warrant list' shows them", o->id);
		warrant_registry_free(reg);
		return EXIT_FAIL;
	}
	if (o->json) {
		struct lacre_dbuf d;
		struct json_w j;
		lacre_dbuf_init(&d, 64u << 20);
		json_init(&j, &d);
		if (list) {
			json_arr_begin(&j);
			for (size_t i = 0; i < warrant_registry_count(reg); i++)
				if (!unit[0] || !strcmp(warrant_registry_at(reg, i)->unit, unit))
					json_warrant(&j, warrant_registry_at(reg, i), now);
			json_arr_end(&j);
		} else {
			json_warrant(&j, w, now);
		}
		warrant_registry_free(reg);
		return json_print(&j, &d);
	}
	if (list) {
		printf("%-10s %-30s %-20s %-20s %-16s %s\n", "ID", "STATUS", "FROM", "TO", "CASE",
		       "LIIDS");
		for (size_t i = 0; i < warrant_registry_count(reg); i++) {
			const struct warrant *x = warrant_registry_at(reg, i);
			char f[WARRANT_TIME_MAX], t[WARRANT_TIME_MAX];
			if (unit[0] && strcmp(x->unit, unit) != 0)
				continue;       /* another unit's: not shown (L8) */
			warrant_time_format(x->periods[0].from, f);
			warrant_time_format(x->periods[x->n_periods - 1].to, t);
			printf("%-10s %-30s %-20s %-20s %-16s", x->id, status_of(x, now), f, t,
			       x->case_id);
			for (size_t k = 0; k < x->n_liids; k++)
				printf("%s%s", k ? "," : " ", x->liids[k]);
			printf("\n");
		}
	} else {
		text_warrant(w, now);
	}
	warrant_registry_free(reg);
	return EXIT_OK;
}

/* lacre warrant extend / confirm / cease */
static int do_mutate(const struct wopts *o, const struct site *s, const char *sub)
{
	struct warrant_registry *reg = NULL;
	struct acl_session *ss = NULL;
	const struct warrant *w;
	struct warrant_period p;
	char msg[SITE_MSG_MAX];
	int64_t od = 0, at = 0;
	int e, r;

	if (o->id == NULL) {
		cli_err("which warrant? 'lacre warrant %s W-000001 ...'", sub);
		return EXIT_USAGE;
	}
	if (o->order == NULL) {
		cli_err("--order is required: every change needs a court order");
		return EXIT_USAGE;
	}
	if ((e = get_time("order-date", o->order_date, 1, &od)))
		return e;
	msg[0] = '\0';
	memset(&p, 0, sizeof(p));
	if (strcmp(sub, "extend") == 0) {
		if ((e = set_text("order", o->order, p.order_id, sizeof(p.order_id))) ||
		    (e = get_time("to", o->to, 1, &p.to)))
			return e;
		p.order_date = od;
		if (o->from == NULL) {
			/* default: the period follows the current end */
			if ((e = load_reg(s, &reg)))
				return e;
			w = warrant_registry_find(reg, o->id);
			if (w != NULL)
				for (size_t i = 0; i < w->n_periods; i++)
					if (w->periods[i].to > p.from)
						p.from = w->periods[i].to;
			warrant_registry_free(reg);
		} else if ((e = get_time("from", o->from, 1, &p.from))) {
			return e;
		}
	} else if (strcmp(sub, "cease") == 0) {
		at = od;
		if ((e = get_time("at", o->at, 0, &at)))
			return e;
	}
	if ((e = change_gate(o, s, sub, &ss)))
		return e;
	/* every event is signed with the site's warrant-log key, read
	 * through the session the gate allowed the change in */
	if ((e = cli_session_keys(&o->pass, ss))) {
		acl_session_close(ss);
		return e;
	}
	if (strcmp(sub, "extend") == 0)
		r = access_warrant_extend(ss, o->id, &p, msg, sizeof(msg));
	else if (strcmp(sub, "confirm") == 0)
		r = access_warrant_confirm(ss, o->id, o->order, od, msg, sizeof(msg));
	else
		r = access_warrant_cease(ss, o->id, o->order, od, at, msg, sizeof(msg));
	acl_session_close(ss);
	if (r != LACRE_OK) {
		cli_err("warrant %s: %s", sub, msg[0] ? msg : lacre_strerror(r));
		return cli_exit_status(r);
	}
	if (o->json)
		printf("{\"id\":\"%s\",\"event\":\"%s\"}\n", o->id, sub);
	else
		printf("%s %s\n", o->id, strcmp(sub, "extend") == 0 ? "extended" :
		       strcmp(sub, "confirm") == 0 ? "confirmed" : "ceased");
	return EXIT_OK;
}

/* lacre warrant identity */
static int do_identity(const struct wopts *o, const struct site *s)
{
	struct key_tombstone tomb;
	struct age_x25519_identity id;
	char enc[AGE_IDENTITY_MAX], t[WARRANT_TIME_MAX], user[64], kmsg[SITE_MSG_MAX];
	int e, r;

	if (o->id == NULL) {
		cli_err("which warrant? 'lacre warrant identity W-000001'");
		return EXIT_USAGE;
	}
	/* audit first: the acting user may (supervisor of the unit, clerk) and
	 * the access is durable in the access log before the key is read;
	 * another unit's warrant is answered as a missing one (L8) */
	{
		struct acl_session *ss = NULL;
		struct access_request rq = { "identity", o->id, "warrant private key",
					     o->justification };

		if ((e = cli_gate(s, o->user, &rq, &ss, NULL)) != EXIT_OK)
			return e;
		snprintf(user, sizeof(user), "%s", acl_session_user(ss));
		if ((e = cli_session_keys(&o->pass, ss))) {
			acl_session_close(ss);
			return e;
		}
		memset(&tomb, 0, sizeof(tomb));
		/* only the key the gate allowed in this session (access_key.h);
		 * the session's keys are wiped with it */
		r = access_key(ss, o->id, &id, &tomb, kmsg, sizeof(kmsg));
		acl_session_close(ss);
	}
	if (r == LACRE_E_DENIED) {
		cli_err("%s", kmsg);
		return EXIT_FAIL;
	}
	if (r == LACRE_E_SHREDDED) {
		warrant_time_format(tomb.order_date, t);
		cli_err("the key of %s was destroyed by order '%s' of %s", o->id, tomb.order_id, t);
		return EXIT_FAIL;
	}
	if (r != LACRE_OK)
		return cli_fail(r, "cannot read the warrant key");
	r = age_identity_encode(&id, enc);
	age_identity_wipe(&id);
	if (r != LACRE_OK)
		return cli_fail(r, "cannot encode the identity");
	warrant_time_format(warrant_time_now(), t);
	fprintf(stderr, "lacre: access: private key of warrant %s read by uid %u (user %s) at %s; "
		"recorded in the access log\n", o->id, (unsigned)getuid(), user, t);
	printf("%s\n", enc);
	OPENSSL_cleanse(enc, sizeof(enc));
	return EXIT_OK;
}

int cmd_warrant(int argc, char **argv)
{
	struct wopts o;
	struct site *s;
	const char *sub;
	int e;

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : EXIT_OK;
	}
	sub = argv[1];
	if (strcmp(sub, "add") && strcmp(sub, "show") && strcmp(sub, "list") &&
	    strcmp(sub, "extend") && strcmp(sub, "confirm") && strcmp(sub, "cease") &&
	    strcmp(sub, "identity")) {
		cli_err("no warrant command '%s'; run 'lacre help warrant'", sub);
		return EXIT_USAGE;
	}
	e = parse_opts(argc - 1, argv + 1, &o);
	if (e != EXIT_OK)
		return e < 0 ? EXIT_OK : e;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return cli_fail(LACRE_E_NOMEM, "warrant");
	e = cli_open_site(o.site, s);
	if (e == EXIT_OK) {
		if (!strcmp(sub, "add"))
			e = do_add(&o, s);
		else if (!strcmp(sub, "show"))
			e = do_show(&o, s, 0);
		else if (!strcmp(sub, "list"))
			e = do_show(&o, s, 1);
		else if (!strcmp(sub, "identity"))
			e = do_identity(&o, s);
		else
			e = do_mutate(&o, s, sub);
	}
	free(s);
	return e;
}

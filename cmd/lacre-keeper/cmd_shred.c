/*
 * cmd_shred.c - `lacre shred request|approve|list`: crypto-shredding of a
 * warrant's data by court order (LECrim 588 bis k, L13) under the four-eyes
 * rule: one user requests, a second, different user approves, and one of
 * the two is a court clerk.  The approval writes the attempt to the access
 * log first, then has the approver sign the cases.log line (through the
 * keeper: the approver's own client), then destroys the warrant's private
 * key through the gate's session (access_key_shred, which checks the
 * allowed shred and the four-eyes rule once more: every segment sealed to
 * the key, everywhere, becomes unreadable), then writes the approval in
 * cases.log (shred_approve: no signature, no destruction).
 * docs/cmd-shred.md.
 *
 * The shred is an event of the access log only, not of the ingest log: the
 * ingest log belongs to the running `lacre ingest` process (its state
 * folder is locked by it and its key is an ingest-domain secret), and the
 * access domain must not write into it; the keyless audit of the ingest
 * log keeps verifying, since shredding removes a key, not an entry.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lacre/acl.h"
#include "lacre/err.h"
#include "lacre/index.h"
#include "keeper/access_key.h"
#include "keeper/passphrase.h"
#include "lacre/shred.h"
#include "lacre/users.h"
#include "lacre/site.h"
#include "lacre/warrant.h"
#include "cli.h"

struct sopts {
	const char *site, *user, *justification, *warrant, *order, *order_date, *id;
	int json;
	struct passphrase_src pass;
};

/* Print the option summary. */
static void usage(FILE *f)
{
	fprintf(f,
	"usage: lacre shred request --warrant W --order ORDER --order-date D --justification T\n"
	"       lacre shred approve S-000001 --justification T\n"
	"       lacre shred list\n"
	"  (all: --user KEYFILE or LACRE_USER, --site DIR; approve: the master passphrase)\n"
	"\n"
	"Destroys warrant W's private key by court order (LECrim 588 bis k): every record\n"
	"sealed to it becomes unreadable everywhere.  Needs two different users, one of them\n"
	"a court clerk: one requests, the other approves (the approval executes).  Each\n"
	"attempt is written to the access log first.  The warrant must have ended.\n");
}

/* Parse the options of a subcommand (argv[0] is its name). */
static int parse(int argc, char **argv, struct sopts *o)
{
	static const struct option lo[] = {
		{ "site", required_argument, NULL, 's' },
		{ "user", required_argument, NULL, 'u' },
		{ "justification", required_argument, NULL, 'J' },
		{ "warrant", required_argument, NULL, 'w' },
		{ "order", required_argument, NULL, 'o' },
		{ "order-date", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ "passphrase-file", required_argument, NULL, 'p' },
		{ "passphrase-fd", required_argument, NULL, 'f' },
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
		case 'w': o->warrant = optarg; break;
		case 'o': o->order = optarg; break;
		case 'd': o->order_date = optarg; break;
		case 'j': o->json = 1; break;
		case 'p': o->pass.file = optarg; break;
		case 'f':
			if (cli_passphrase_fd(optarg, &o->pass.fd) != EXIT_OK)
				return EXIT_USAGE;
			break;
		case 'h': usage(stdout); return -1;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind < argc)
		o->id = argv[optind++];
	if (optind < argc) {
		cli_err("unexpected argument '%s'; run 'lacre help shred'", argv[optind]);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

/* Open the acting user's session (shred approve: its four-eyes rule needs
 * the user before the gate; the other subcommands use cli_gate). */
static int session(const struct sopts *o, const struct site *s, struct acl_session **ss)
{
	char msg[SITE_MSG_MAX];

	msg[0] = '\0';
	if (acl_session_open(s, o->user, ss, msg, sizeof(msg)) != LACRE_OK) {
		cli_err("%s", msg);
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

/* Exit status of a refusal. */
static int refused(int r)
{
	return r == LACRE_E_INVALID ? EXIT_USAGE : EXIT_FAIL;
}

/* lacre shred request */
static int do_request(const struct sopts *o, const struct site *s)
{
	struct acl_session *ss = NULL;
	struct access_request rq;
	char msg[SITE_MSG_MAX], what[512], id[SHRED_ID_MAX];
	int64_t od;
	int e, r;

	if (!o->warrant || !o->order || !o->order_date) {
		cli_err("shred request needs --warrant W --order ORDER --order-date D (the court order)");
		return EXIT_USAGE;
	}
	if (warrant_time_parse(o->order_date, &od) != LACRE_OK) {
		cli_err("--order-date: '%s' is not a date like 2031-05-06", o->order_date);
		return EXIT_USAGE;
	}
	snprintf(what, sizeof(what), "request: destroy the warrant key by order %s of %s", o->order,
		 o->order_date);
	memset(&rq, 0, sizeof(rq));
	rq.action = "shred";
	rq.warrant = o->warrant;
	rq.what = what;
	rq.justification = o->justification;
	/* the session stays open: the cases.log line is signed with it */
	if ((e = cli_gate(s, o->user, &rq, &ss, NULL)) != EXIT_OK)
		return e;
	msg[0] = '\0';
	r = shred_request_add(s, ss, o->warrant, o->order, od, o->justification, id, msg, sizeof(msg));
	if (r != LACRE_OK) {
		acl_refuse(ss, &rq, msg);
		acl_session_close(ss);
		cli_err("shred request: %s", msg[0] ? msg : lacre_strerror(r));
		return cli_exit_status(r);
	}
	acl_session_close(ss);
	if (o->json)
		printf("{\"id\":\"%s\",\"warrant\":\"%s\",\"state\":\"pending\"}\n", id, o->warrant);
	else
		printf("shred request %s for %s recorded: a second user (one of the two a court clerk) "
		       "approves it with 'lacre shred approve %s'\n", id, o->warrant, id);
	return EXIT_OK;
}

/* What execute() works with. */
struct exec_ctx {
	const struct site *s;
	const struct acl_session *ss;  /* allowed "shred" on the warrant; owns the keys */
	int destroyed;                 /* the key is gone (whatever follows) */
};

/* shred_execute_fn: destroy the warrant's key through the session the
 * gate allowed the shred in (access_key_shred: tombstone, overwrite,
 * unlink), then forget its metadata in the index. */
static int execute(void *arg, const struct shred_request *req, char *msg, size_t msglen)
{
	struct exec_ctx *x = arg;
	struct index *ix = NULL;
	int r, ri;

	r = access_key_shred(x->ss, req, msg, msglen);
	if (r == LACRE_E_DENIED || r == LACRE_E_STATE)
		return r;        /* refused at the key: msg says why; nothing was destroyed */
	if (r != LACRE_OK && r != LACRE_E_SHREDDED) {
		snprintf(msg, msglen, "cannot shred the warrant key: %s; nothing was recorded",
			 lacre_strerror(r));
		return r;
	}
	x->destroyed = 1;
	/* the access host's index holds the warrant's metadata: forget it too */
	ri = index_open(x->s, &ix);
	if (ri == LACRE_OK)
		ri = index_reset(ix, req->warrant);
	index_close(ix);
	if (ri != LACRE_OK)
		cli_err("the index still holds metadata of %s (%s): run 'lacre reindex'", req->warrant,
			lacre_strerror(ri));
	return LACRE_OK;
}

/* lacre shred approve */
static int do_approve(const struct sopts *o, const struct site *s)
{
	struct exec_ctx x;
	struct acl_session *ss = NULL;
	struct cases *c = NULL;
	const struct shred_request *req;
	struct shred_request copy;
	struct access_request rq;
	char msg[SITE_MSG_MAX], what[768], od[WARRANT_TIME_MAX], approver[64];
	int e, r;

	if (!o->id) {
		cli_err("which request? 'lacre shred approve S-000001' ('lacre shred list' shows them)");
		return EXIT_USAGE;
	}
	if ((e = session(o, s, &ss)) != EXIT_OK)
		return e;
	snprintf(approver, sizeof(approver), "%s", acl_session_user(ss));
	msg[0] = '\0';
	if ((r = cases_load(s, &c, msg, sizeof(msg))) != LACRE_OK) {
		cli_err("%s", msg[0] ? msg : lacre_strerror(r));
		acl_session_close(ss);
		return cli_exit_status(r);
	}
	req = cases_request(c, o->id);
	if (req == NULL) {
		cli_err("no shred request '%s' (see 'lacre shred list')", o->id);
		cases_free(c);
		acl_session_close(ss);
		return EXIT_FAIL;
	}
	copy = *req;
	cases_free(c);
	warrant_time_format(copy.order_date, od);
	snprintf(what, sizeof(what), "approve %s: destroy the warrant key by order %s of %s "
		 "(requested by %s)", copy.id, copy.order, od, copy.by);
	memset(&rq, 0, sizeof(rq));
	rq.action = "shred";
	rq.warrant = copy.warrant;
	rq.what = what;
	rq.justification = o->justification;
	/* four eyes: a different user, a clerk among the two; refused attempts
	 * are logged too */
	r = shred_check_approval(&copy, acl_session_user(ss), acl_session_role(ss), msg, sizeof(msg));
	if (r != LACRE_OK) {
		if (o->justification && o->justification[0])
			acl_refuse(ss, &rq, msg);
		cli_err("%s", msg);
		acl_session_close(ss);
		return EXIT_FAIL;
	}
	if ((r = acl_authorize(ss, &rq, msg, sizeof(msg))) != LACRE_OK) {
		cli_err("%s", msg);
		acl_session_close(ss);
		return refused(r);
	}
	if ((e = cli_session_keys(&o->pass, ss)) != EXIT_OK) {
		acl_session_close(ss);
		return e;
	}
	/* the approver signs the cases.log line first; the key is destroyed
	 * only then, and the line written last (shred_approve) */
	x.s = s;
	x.ss = ss;
	x.destroyed = 0;
	msg[0] = '\0';
	r = shred_approve(s, ss, copy.id, execute, &x, msg, sizeof(msg));
	acl_session_close(ss);
	if (r != LACRE_OK && x.destroyed) {
		cli_err("the key of %s is destroyed, but the approval could not be recorded in %s: %s "
			"(run the approval again)", copy.warrant, CASES_LOG, msg[0] ? msg : lacre_strerror(r));
		return cli_exit_status(r);
	}
	if (r != LACRE_OK) {
		cli_err("shred approve: %s", msg[0] ? msg : lacre_strerror(r));
		return cli_exit_status(r);
	}
	if (o->json)
		printf("{\"id\":\"%s\",\"warrant\":\"%s\",\"state\":\"shredded\",\"order\":\"%s\"}\n",
		       copy.id, copy.warrant, copy.order);
	else
		printf("warrant %s shredded by order %s of %s: requested by %s, approved by %s\n",
		       copy.warrant, copy.order, od, copy.by, approver);
	return EXIT_OK;
}

/* lacre shred list */
static int do_list(const struct sopts *o, const struct site *s)
{
	struct cases *c = NULL;
	struct access_request rq = { "retention", NULL, "list shred requests", o->justification };
	char msg[SITE_MSG_MAX], t[WARRANT_TIME_MAX], od[WARRANT_TIME_MAX];
	int e, r;

	if (!rq.justification)
		rq.justification = "list shred requests";
	if ((e = cli_gate(s, o->user, &rq, NULL, NULL)) != EXIT_OK)
		return e;
	msg[0] = '\0';
	if ((r = cases_load(s, &c, msg, sizeof(msg))) != LACRE_OK) {
		cli_err("%s", msg[0] ? msg : lacre_strerror(r));
		return cli_exit_status(r);
	}
	for (size_t i = 0; i < c->n_reqs; i++) {
		const struct shred_request *q = &c->reqs[i];
		warrant_time_format(q->at, t);
		warrant_time_format(q->order_date, od);
		printf("%s %s order %s of %s, requested by %s (%s) at %s: %s%s\n", q->id, q->warrant,
		       q->order, od, q->by, acl_role_name(q->by_role), t,
		       q->done ? "EXECUTED, approved by " : "pending", q->done ? q->approved_by : "");
	}
	cases_free(c);
	return EXIT_OK;
}

int cmd_shred(int argc, char **argv)
{
	struct sopts o;
	struct site s;
	const char *sub = "request";
	int e, skip = 1;

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : EXIT_OK;
	}
	if (argv[1][0] == '-')
		skip = 0;     /* `lacre shred --warrant W ...` is a request */
	else
		sub = argv[1];
	if (strcmp(sub, "request") && strcmp(sub, "approve") && strcmp(sub, "list")) {
		cli_err("no shred command '%s'; run 'lacre help shred'", sub);
		return EXIT_USAGE;
	}
	memset(&o, 0, sizeof(o));
	passphrase_src_init(&o.pass);
	if ((e = parse(argc - skip, argv + skip, &o)) != EXIT_OK)
		return e < 0 ? EXIT_OK : e;
	if ((e = cli_open_site(o.site, &s)) != EXIT_OK)
		return e;
	if (!strcmp(sub, "request"))
		return do_request(&o, &s);
	if (!strcmp(sub, "approve"))
		return do_approve(&o, &s);
	return do_list(&o, &s);
}

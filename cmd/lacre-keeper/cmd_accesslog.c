/*
 * cmd_accesslog.c - `lacre access-log`: the auditor reads the site's access
 * log (LED art. 25), every event verified against its commitment in the
 * signed log and its user's request signature (lib/access/accesslog.c;
 * docs/access.md).  The read is itself an access and is logged first.
 * `lacre access-log --audit` is the keyless audit of the log on the backend
 * against the site's and the witnesses' checkpoints (no user, no key:
 * lib/ledger/accesslog_audit.c).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lacre/accesslog.h"
#include "lacre/acl.h"
#include "lacre/err.h"
#include "lacre/json.h"
#include "keeper/access_key.h"
#include "keeper/passphrase.h"
#include "lacre/site.h"
#include "lacre/store.h"
#include "lacre/users.h"
#include "lacre/warrant.h"
#include "cli.h"

struct aopts {
	const char *site, *user, *justification, *warrant;
	int json, audit;
	struct passphrase_src pass;
};

struct aout {
	const struct aopts *o;
	struct lacre_dbuf d;
	uint64_t shown, unsigned_events;
};

/* Print the option summary. */
static void usage(FILE *f)
{
	fprintf(f,
	"usage: lacre access-log --user KEYFILE --justification TEXT [--warrant W] [--json]\n"
	"                        [--site DIR] [--passphrase-file F | --passphrase-fd N]\n"
	"       lacre access-log --audit [--site DIR]\n"
	"Prints every access event of the site (auditor role): who, role, unit, action,\n"
	"warrant, what, justification, time, allowed or refused and why.  Each event is\n"
	"decrypted with the auditor identity, checked against its commitment in the signed\n"
	"access log (inclusion proof) and against its user's request signature.  --warrant\n"
	"shows only the events about W.  Exit 3 when an event fails verification.\n"
	"--audit (keyless, no user) checks the access log's tiles and checkpoint on the\n"
	"backend against the site's checkpoint and the latest one each witness of\n"
	"witness.policy cosigned, and names a cut, a fork, a rollback or a rewrite (exit 3).\n");
}

/* Parse the options. */
static int parse(int argc, char **argv, struct aopts *o)
{
	static const struct option lo[] = {
		{ "site", required_argument, NULL, 's' },
		{ "user", required_argument, NULL, 'u' },
		{ "justification", required_argument, NULL, 'J' },
		{ "warrant", required_argument, NULL, 'w' },
		{ "json", no_argument, NULL, 'j' },
		{ "audit", no_argument, NULL, 'a' },
		{ "passphrase-file", required_argument, NULL, 'p' },
		{ "passphrase-fd", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	passphrase_src_init(&o->pass);
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 's': o->site = optarg; break;
		case 'u': o->user = optarg; break;
		case 'J': o->justification = optarg; break;
		case 'w': o->warrant = optarg; break;
		case 'j': o->json = 1; break;
		case 'a': o->audit = 1; break;
		case 'p': o->pass.file = optarg; break;
		case 'f':
			if (cli_passphrase_fd(optarg, &o->pass.fd) != EXIT_OK)
				return EXIT_USAGE;
			break;
		case 'h': usage(stdout); return -1;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		cli_err("unexpected argument '%s'", argv[optind]);
		return EXIT_USAGE;
	}
	if (o->audit && (o->user || o->justification || o->warrant || o->json)) {
		cli_err("--audit takes only --site (it reads no event and needs no user)");
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

/* Print one verified event. */
static int show(void *arg, const struct accesslog_record *r)
{
	struct aout *a = arg;
	char t[WARRANT_TIME_MAX];
	struct json_w w;

	if (a->o->warrant && strcmp(a->o->warrant, r->warrant) != 0)
		return 0;
	a->shown++;
	if (!r->has_sig)
		a->unsigned_events++;
	warrant_time_format(r->time, t);
	if (a->o->json) {
		char hx[65];
		static const char x[] = "0123456789abcdef";
		for (int i = 0; i < 32; i++) {
			hx[2 * i] = x[r->commitment[i] >> 4];
			hx[2 * i + 1] = x[r->commitment[i] & 15];
		}
		hx[64] = '\0';
		lacre_dbuf_reset(&a->d);
		json_init(&w, &a->d);
		json_obj_begin(&w);
		json_kv_uint(&w, "index", r->index);
		json_kv_str(&w, "time", t);
		json_kv_str(&w, "user", r->user);
		json_kv_str(&w, "role", r->role);
		json_kv_str(&w, "unit", r->unit);
		json_kv_str(&w, "action", r->action);
		json_kv_str(&w, "warrant", r->warrant);
		json_kv_str(&w, "what", r->what);
		json_kv_str(&w, "justification", r->justification);
		json_kv_str(&w, "decision", r->allowed ? "allowed" : "refused");
		json_kv_str(&w, "reason", r->reason);
		json_kv_bool(&w, "request_signed", r->request_sig_ok);
		json_kv_bool(&w, "in_published_checkpoint", r->published);
		json_kv_str(&w, "commitment", hx);
		json_obj_end(&w);
		if (json_finish(&w) != LACRE_OK)
			return LACRE_E_NOMEM;
		printf("%.*s\n", (int)a->d.len, (const char *)a->d.p);
		return 0;
	}
	printf("#%llu %s %s (%s%s%s) %s %s%s%s: %s [%s] \"%s\"%s%s\n",
	       (unsigned long long)r->index, t, r->user, r->role, r->unit[0] ? ", " : "", r->unit,
	       r->action, r->warrant[0] ? r->warrant : "-", r->what[0] ? " " : "", r->what,
	       r->allowed ? "ALLOWED" : "REFUSED", r->reason, r->justification,
	       r->request_sig_ok ? "" : " (unsigned request)",
	       r->published ? "" : " (not yet in a published checkpoint)");
	return 0;
}

/* One line per event that failed verification. */
static void problem(void *arg, uint64_t index, const char *what)
{
	(void)arg;
	cli_err("access log entry %llu: %s", (unsigned long long)index, what);
}

/* --audit: the keyless audit of the access log on the backend. */
static int audit(const struct site *s)
{
	struct lacre_store *st = NULL;
	int r;

	if ((r = cli_open_store(s, &st)) != EXIT_OK)
		return r;
	r = accesslog_audit_print(s, st, stdout);
	lacre_store_close(st);
	fflush(stdout);
	if (r == LACRE_E_VERIFY || r == LACRE_E_ROLLBACK || r == LACRE_E_FORK)
		return EXIT_VERIFY;
	return r == LACRE_OK ? EXIT_OK : EXIT_FAIL;
}

int cmd_accesslog(int argc, char **argv)
{
	struct aopts o;
	struct site s;
	struct age_x25519_identity id;
	struct access_request rq;
	struct acl_session *ss = NULL;
	struct aout out;
	char msg[SITE_MSG_MAX], what[256];
	uint64_t bad = 0;
	int e, r;

	if ((e = parse(argc, argv, &o)) != EXIT_OK)
		return e < 0 ? EXIT_OK : e;
	if ((e = cli_open_site(o.site, &s)) != EXIT_OK)
		return e;
	if (o.audit)
		return audit(&s);
	snprintf(what, sizeof(what), "read the access log%s%s", o.warrant ? " of " : "",
		 o.warrant ? o.warrant : "");
	memset(&rq, 0, sizeof(rq));
	rq.action = "access-log";
	rq.what = what;
	rq.justification = o.justification;
	if ((e = cli_gate(&s, o.user, &rq, &ss, NULL)) != EXIT_OK)
		return e;
	if ((e = cli_session_keys(&o.pass, ss)) != EXIT_OK) {
		acl_session_close(ss);
		return e;
	}
	/* only the key the gate allowed in this session (access_key.h) */
	msg[0] = '\0';
	r = access_key(ss, USERS_AUDITOR_KEY, &id, NULL, msg, sizeof(msg));
	acl_session_close(ss);
	if (r == LACRE_E_DENIED) {
		cli_err("%s", msg);
		return EXIT_FAIL;
	}
	if (r != LACRE_OK)
		return cli_fail(r, "cannot read the auditor identity from the keystore");
	memset(&out, 0, sizeof(out));
	out.o = &o;
	lacre_dbuf_init(&out.d, 1 << 20);
	msg[0] = '\0';
	r = accesslog_read(&s, &id, show, problem, &out, &bad, msg, sizeof(msg));
	age_identity_wipe(&id);
	lacre_dbuf_free(&out.d);
	fflush(stdout);
	if (r != LACRE_OK) {
		cli_err("cannot read the access log: %s", msg[0] ? msg : lacre_strerror(r));
		return cli_exit_status(r);
	}
	fprintf(stderr, "lacre: %llu access events shown, %llu failed verification\n",
		(unsigned long long)out.shown, (unsigned long long)bad);
	return bad ? EXIT_VERIFY : EXIT_OK;
}

/*
 * cli_media.c - the opening sequence of the media commands (cli_media.h).
 * The audit-first gate is cli_media_gate(), the one place where `calls`,
 * `audio`, `pcap` and `reindex` ask for permission: nothing is unlocked or
 * decrypted before the access log holds the request durably.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lacre/acl.h"
#include "lacre/err.h"
#include "lacre/json.h"
#include "lacre/receipts.h"
#include "keeper/access_key.h"
#include "keeper/timing.h"
#include "lacre/warrant.h"
#include "cli.h"
#include "cli_media.h"

void cli_media_opts_init(struct cli_media_opts *o)
{
	memset(o, 0, sizeof(*o));
	passphrase_src_init(&o->pass);
	optind = 1;
}

int cli_media_cin(const char *arg, uint32_t *cin)
{
	unsigned long long v;
	char *end;

	v = strtoull(arg, &end, 10);
	if (*end || !*arg || arg[0] == '-' || v > UINT32_MAX) {
		cli_err("--cin needs a number from 0 to 4294967295");
		return EXIT_USAGE;
	}
	*cin = (uint32_t)v;
	return EXIT_OK;
}

int cli_media_rows(const void *v, size_t n, size_t size, int json, size_t cap,
		   void (*text)(const void *row), void (*js)(struct json_w *w, const void *row))
{
	const unsigned char *p = v;
	struct lacre_dbuf d;
	struct json_w w;
	int ex = EXIT_OK;

	lacre_dbuf_init(&d, cap);
	for (size_t i = 0; i < n; i++) {
		if (!json) {
			text(p + i * size);
			continue;
		}
		lacre_dbuf_reset(&d);
		json_init(&w, &d);
		js(&w, p + i * size);
		if (json_finish(&w) != LACRE_OK) {
			ex = cli_fail(LACRE_E_NOMEM, "json");
			break;
		}
		fwrite(d.p, 1, d.len, stdout);
		fputc('\n', stdout);
	}
	lacre_dbuf_free(&d);
	fflush(stdout);
	return ex;
}

int cli_media_opt(int c, const char *arg, struct cli_media_opts *o)
{

	switch (c) {
	case 's': o->site = arg; return 1;
	case 'u': o->user = arg; return 1;
	case 'J': o->justification = arg; return 1;
	case 'j': o->json = 1; return 1;
	case 'P': o->pass.file = arg; return 1;
	case 'F':
		return cli_passphrase_fd(arg, &o->pass.fd) == EXIT_OK ? 1 : -EXIT_USAGE;
	default:
		return 0;
	}
}

int cli_media_getopt(int argc, char **argv, const char *shortopts, const struct option *lo,
		     void (*usage)(FILE *f), struct cli_media_opts *o, cli_media_own_fn own,
		     void *arg)
{
	int c, k;

	cli_media_opts_init(o);
	while ((c = getopt_long(argc, argv, shortopts, lo, NULL)) != -1) {
		if ((k = cli_media_opt(c, optarg, o)) == 0 && own != NULL && c != 'h')
			k = own(arg, c, optarg);
		if (k < 0)
			return -k;
		if (k)
			continue;
		if (c == 'h') {
			usage(stdout);
			return CLI_MEDIA_HELP;
		}
		usage(stderr);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

/* What a listing's own options fill (cli_media_listing_args). */
struct listing_args {
	const char **warrant;
	uint32_t *cin;               /* NULL: no --cin */
	int *has_cin;
};

/* cli_media_own_fn of a listing: --warrant W, --cin N. */
static int listing_own(void *arg, int c, const char *value)
{
	struct listing_args *l = arg;

	if (c == 'w') {
		*l->warrant = value;
		return 1;
	}
	if (c == 'c' && l->cin) {
		if (cli_media_cin(value, l->cin) != EXIT_OK)
			return -EXIT_USAGE;
		if (l->has_cin)
			*l->has_cin = 1;
		return 1;
	}
	return 0;
}

int cli_media_listing_args(int argc, char **argv, const char *name, void (*usage)(FILE *f),
			   struct cli_media_opts *o, const char **warrant, uint32_t *cin,
			   int *has_cin)
{
	static const struct option lo[] = {
		CLI_MEDIA_LONGOPTS,
		{ "warrant", required_argument, 0, 'w' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 }
	};
	static const struct option lo_cin[] = {
		CLI_MEDIA_LONGOPTS,
		{ "warrant", required_argument, 0, 'w' },
		{ "cin", required_argument, 0, 'c' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 }
	};
	struct listing_args l = { warrant, cin, has_cin };
	int e;

	*warrant = NULL;
	if (has_cin)
		*has_cin = 0;
	if ((e = cli_media_getopt(argc, argv, "", cin ? lo_cin : lo, usage, o, listing_own, &l)) !=
	    EXIT_OK)
		return e;
	if (optind < argc || !*warrant) {
		if (optind < argc)
			cli_err("unexpected argument");
		else
			cli_err("%s needs --warrant W", name);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

void cli_media_problem(void *arg, const char *segment, int err, const char *what)
{
	(void)arg;
	cli_err("segment %s: %s: %s", segment, what, lacre_strerror(err));
}

/* The audit-first gate: the one gate entry of every content command
 * (cli_gate, access_open: authenticate, authorise, log durably, in that
 * order), so calls, audio, pcap and reindex give the same access events,
 * L7/L8 answers and exit statuses as records.  A missing justification is
 * a usage error said before any key is read (the command line is
 * incomplete). */
static int cli_media_gate(const struct cli_media_opts *o, const struct site *s,
			  const char *action, const char *warrant, const char *what,
			  struct acl_session **ss)
{
	struct access_request rq;

	if (!o->justification || !o->justification[0]) {
		cli_err("%s needs --justification TEXT (it goes to the access log first)", action);
		return EXIT_USAGE;
	}
	memset(&rq, 0, sizeof(rq));
	rq.action = action;
	rq.warrant = warrant;
	rq.what = what;
	rq.justification = o->justification;
	return cli_gate(s, o->user, &rq, ss, NULL);
}

void cli_media_close(struct cli_media *m)
{
	if (m->have_id)
		age_identity_wipe(&m->id);
	m->have_id = 0;
	index_close(m->ix);
	m->ix = NULL;
	receipts_index_free(m->logged);
	m->logged = NULL;
	lacre_store_close(m->st);
	m->st = NULL;
}

int cli_media_open(const struct cli_media_opts *o, const char *action, const char *warrant,
		   const char *what, int rebuild, struct cli_media *m)
{
	struct key_tombstone tomb;
	struct index_report rep;
	struct acl_session *ss = NULL;
	char kmsg[SITE_MSG_MAX];
	char when[WARRANT_TIME_MAX];
	int r, ex;

	memset(m, 0, sizeof(*m));
	if ((ex = cli_open_site(o->site, &m->s)) != EXIT_OK)
		return ex;
	keeper_timing_mark("site-open");
	if ((ex = cli_media_gate(o, &m->s, action, warrant, what, &ss)) != EXIT_OK)
		return ex;
	keeper_timing_mark("gate-logged");
	if ((ex = cli_session_keys(&o->pass, ss)) != EXIT_OK) {
		acl_session_close(ss);
		return ex;
	}
	/* only the key the gate allowed in this session (access_key.h); the
	 * session's keys are wiped with it */
	r = access_key(ss, warrant, &m->id, &tomb, kmsg, sizeof(kmsg));
	acl_session_close(ss);
	if (r == LACRE_E_DENIED) {
		cli_err("%s", kmsg);
		return EXIT_FAIL;
	}
	if (r == LACRE_E_SHREDDED) {
		/* crypto-shredding must take the index's plaintext metadata too */
		if (index_open(&m->s, &m->ix) == LACRE_OK && index_reset(m->ix, warrant) == LACRE_OK)
			fprintf(stderr, "lacre: the index rows of %s were deleted\n", warrant);
		index_close(m->ix);
		m->ix = NULL;
		warrant_time_format(tomb.shredded_at, when);
		cli_err("warrant %s was shredded by order %s on %s: its records can no longer be read",
			warrant, tomb.order_id, when);
		return EXIT_FAIL;
	}
	if (r != LACRE_OK)
		return cli_fail(r, "cannot read the warrant's key from the keystore");
	m->have_id = 1;
	keeper_timing_mark("key-unwrapped");
	if ((r = cli_open_store(&m->s, &m->st)) != EXIT_OK) {
		cli_media_close(m);
		return r;
	}
	if ((r = index_open(&m->s, &m->ix)) != LACRE_OK) {
		cli_media_close(m);
		return cli_fail(r, "cannot open the index (rebuild it with 'lacre reindex')");
	}
	keeper_timing_mark("index-open");
	if (rebuild && (r = index_reset(m->ix, warrant)) != LACRE_OK) {
		cli_media_close(m);
		return cli_fail(r, "cannot reset the index");
	}
	{
		/* only records a signed ingest log of the site holds are
		 * indexed (every receiver's log: receipts.h; a segment sealed
		 * to the warrant's public key by anyone else is no evidence);
		 * no log yet: no segment can be one of ours */
		char lmsg[SITE_MSG_MAX];
		lmsg[0] = '\0';
		r = receipts_index_open(&m->s, m->st, &m->logged, lmsg, sizeof(lmsg));
		if (r != LACRE_OK && r != LACRE_E_NOT_FOUND) {
			cli_err("cannot check the records against the signed ingest log: %s; nothing "
				"shown (run lacre audit --site)", lmsg[0] ? lmsg : lacre_strerror(r));
			cli_media_close(m);
			return EXIT_VERIFY;
		}
	}
	keeper_timing_mark("receipts-read");
	memset(&rep, 0, sizeof(rep));
	if (m->logged) {
		index_set_log(m->ix, m->logged);
		r = index_update(m->ix, m->st, &m->id, warrant, cli_media_problem, NULL, &rep);
	} else {
		r = LACRE_OK;
	}
	keeper_timing_mark("index-updated");
	if (rebuild || rep.records)
		fprintf(stderr, "lacre: index: %llu new records from %llu of %llu new segments "
			"(%llu listed)%s\n", (unsigned long long)rep.records,
			(unsigned long long)rep.segments_opened, (unsigned long long)rep.segments_new,
			(unsigned long long)rep.segments_listed,
			rep.problems ? "; DAMAGED SEGMENTS listed above" : "");
	if (r == LACRE_E_DB || (r != LACRE_OK && !rep.problems)) {
		cli_media_close(m);
		return cli_fail(r, "cannot update the index");
	}
	if (r != LACRE_OK) {
		/* damaged segments are left out and reported; the answer is
		 * given from what verified, and the exit status says so */
		cli_err("some sealed data failed verification; the answer below leaves it out");
		return -cli_exit_status(r);
	}
	return EXIT_OK;
}

/*
 * cmd_export.c - `lacre export`: an evidence package for the court, or a
 * party copy with stated exclusions (docs/cmd-export.md).  Thin: the work
 * is lib/access/export.c.  The audit-first gate (acl.h) runs in
 * export_gate(), before the session's keys are unlocked or anything is
 * decrypted;
 * the package's access report lists the access log's entries for the
 * warrant.
 */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lacre/acl.h"
#include "lacre/age.h"
#include "lacre/err.h"
#include "lacre/export.h"
#include "lacre/json.h"
#include "keeper/passphrase.h"
#include "lacre/site.h"
#include "lacre/users.h"
#include "lacre/warrant.h"
#include "cli.h"

#define EXPORT_EXCL_MAX 4096

struct eopts {
	const char *site;
	const char *user;
	const char *recipient;
	int json;
	struct export_opts o;
	struct export_exclusion *excl;
	size_t n_excl;
	struct passphrase_src pass;
};

/* Usage text. */
static void usage(FILE *f)
{
	fprintf(f,
		"usage: lacre export --warrant W --recipient age1... -o PATH [--site DIR]\n"
		"                    [--from T] [--to T] [--exclude-record SEGMENT:INDEX]...\n"
		"                    [--exclude-range T1/T2]... --justification TEXT --user KEYFILE\n"
		"                    [--with-quarantine] [--no-media] [--json]\n"
		"                    [--passphrase-file F | --passphrase-fd N]\n"
		"Writes one evidence package for warrant W, sealed to the court's age recipient:\n"
		"original PDUs, record frames, JSON lines, a tlog-proof receipt per record, the\n"
		"checkpoint, the ingest log's vkey, the completeness report and a signed manifest.\n"
		"--exclude-record / --exclude-range make a party copy (LECrim 588 ter i): the\n"
		"excluded records are listed with their commitment and leaf index, without content.\n"
		"A stereo WAV per VoIP call and a pcap per call/session CIN are added (renderings,\n"
		"derived from the PDUs) unless --no-media.\n"
		"--with-quarantine adds the quarantine count of the warrant's LIIDs and the\n"
		"receiver's accounting events that name them (oversight data, logged as such).\n"
		"--user KEYFILE (or LACRE_USER) is the acting user: the export is written to the\n"
		"access log, with its justification, before anything is decrypted.\n"
		"Check a package with 'lacre-verify PACKAGE -i COURT-IDENTITY'.\n");
}

/* Parse the command line into o. */
static int parse(int argc, char **argv, struct eopts *o)
{
	static const struct option lo[] = {
		{ "site", required_argument, 0, 's' },
		{ "warrant", required_argument, 0, 'w' },
		{ "from", required_argument, 0, 'f' },
		{ "to", required_argument, 0, 't' },
		{ "recipient", required_argument, 0, 'r' },
		{ "output", required_argument, 0, 'o' },
		{ "exclude-record", required_argument, 0, 'x' },
		{ "exclude-range", required_argument, 0, 'X' },
		{ "user", required_argument, 0, 'u' },
		{ "justification", required_argument, 0, 'J' },
		{ "json", no_argument, 0, 'j' },
		{ "with-quarantine", no_argument, 0, 'Q' },
		{ "no-media", no_argument, 0, 'M' },
		{ "passphrase-file", required_argument, 0, 'P' },
		{ "passphrase-fd", required_argument, 0, 'F' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 }
	};
	int c, r;

	passphrase_src_init(&o->pass);
	o->o.from_us = INT64_MIN;
	o->o.to_us = INT64_MAX;
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:", lo, NULL)) != -1) {
		switch (c) {
		case 's': o->site = optarg; break;
		case 'w': o->o.warrant = optarg; break;
		case 'r': o->recipient = optarg; break;
		case 'o': o->o.path = optarg; break;
		case 'u': o->user = optarg; break;
		case 'J': o->o.justification = optarg; break;
		case 'j': o->json = 1; break;
		case 'Q': o->o.oversight = 1; break;
		case 'M': o->o.no_media = 1; break;
		case 'P': o->pass.file = optarg; break;
		case 'F':
			if (cli_passphrase_fd(optarg, &o->pass.fd) != EXIT_OK)
				return EXIT_USAGE;
			break;
		case 'f':
		case 't':
			if (warrant_time_parse(optarg, c == 'f' ? &o->o.from_us : &o->o.to_us) != LACRE_OK) {
				cli_err("--%s: '%s' is not a UTC time like 2026-01-01T12:00:00Z",
					c == 'f' ? "from" : "to", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'x':
		case 'X':
			if (o->n_excl == EXPORT_EXCL_MAX) {
				cli_err("more than %d exclusions", EXPORT_EXCL_MAX);
				return EXIT_USAGE;
			}
			r = c == 'x' ? export_exclusion_parse_record(optarg, &o->excl[o->n_excl])
				     : export_exclusion_parse_range(optarg, &o->excl[o->n_excl]);
			if (r != LACRE_OK) {
				cli_err(c == 'x' ? "--exclude-record: '%s' is not SEGMENT:INDEX (seg/<32 hex>:N, "
					"as 'lacre records --json' prints segment and index)"
					: "--exclude-range: '%s' is not T1/T2 with T1 before T2 (UTC times)", optarg);
				return EXIT_USAGE;
			}
			o->n_excl++;
			break;
		case 'h':
			usage(stdout);
			return -1;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		cli_err("unexpected argument '%s'", argv[optind]);
		return EXIT_USAGE;
	}
	if (!o->o.warrant || !o->recipient || !o->o.path) {
		cli_err("export needs --warrant W, --recipient age1... (the court's) and -o PATH");
		return EXIT_USAGE;
	}
	if (!o->o.justification || !o->o.justification[0]) {
		cli_err("export needs --justification TEXT (it goes to the access log and the manifest)");
		return EXIT_USAGE;
	}
	if (age_recipient_parse(o->recipient, o->o.court) != LACRE_OK) {
		cli_err("--recipient '%s' is not an age X25519 recipient (age1...)", o->recipient);
		return EXIT_USAGE;
	}
	if (o->o.from_us >= o->o.to_us) {
		cli_err("--from must be before --to");
		return EXIT_USAGE;
	}
	o->o.court_recipient = o->recipient;
	o->o.excl = o->excl;
	o->o.n_excl = o->n_excl;
	return EXIT_OK;
}

/* The audit-first gate (acl.h): the one place where export asks for
 * permission.  It passes the one gate entry (cli_gate, access_open: the
 * acting user's session from --user KEYFILE, LACRE_USER or the keeper, then
 * the export - warrant, window, output, justification - written durably to
 * the access log and allowed) before the keys are unlocked or anything is
 * decrypted; the oversight part is a second request on the same session.
 * On EXIT_OK *out is the session, which the caller keeps until every key
 * is read through it (access_key.h) and then closes. */
static int export_gate(const struct site *s, struct eopts *o, char *user, size_t usercap,
		       struct acl_session **out)
{
	struct acl_session *ss = NULL;
	struct access_request rq;
	char msg[SITE_MSG_MAX], what[512], from[WARRANT_TIME_MAX], to[WARRANT_TIME_MAX];
	int r;

	msg[0] = '\0';
	snprintf(from, sizeof(from), "open");
	snprintf(to, sizeof(to), "open");
	if (o->o.from_us != INT64_MIN)
		warrant_time_format(o->o.from_us, from);
	if (o->o.to_us != INT64_MAX)
		warrant_time_format(o->o.to_us, to);
	snprintf(what, sizeof(what), "evidence package from %s to %s for %s to %s, %zu exclusion(s)",
		 from, to, o->recipient, cli_output_label(o->o.path), o->n_excl);
	memset(&rq, 0, sizeof(rq));
	rq.action = "export";
	rq.warrant = o->o.warrant;
	rq.what = what;
	rq.justification = o->o.justification;
	/* the one gate entry (cli_gate, access_open), as for every reader */
	if ((r = cli_gate(s, o->user, &rq, &ss, NULL)) != EXIT_OK)
		return r;
	r = LACRE_OK;
	if (o->o.oversight) {
		/* the quarantine count and the accounting events are oversight
		 * data: a second request, logged on its own */
		snprintf(what, sizeof(what), "quarantine count and accounting events of warrant %s's "
			 "LIIDs for the evidence package %s", o->o.warrant, o->o.path);
		rq.action = "quarantine";
		rq.warrant = NULL;
		r = acl_authorize(ss, &rq, msg, sizeof(msg));
	}
	if (r == LACRE_OK)
		snprintf(user, usercap, "%s (%s)", acl_session_user(ss), acl_role_name(acl_session_role(ss)));
	if (r != LACRE_OK) {
		acl_session_close(ss);
		cli_err("%s", msg[0] ? msg : lacre_strerror(r));
		return r == LACRE_E_INVALID ? EXIT_USAGE : EXIT_FAIL;
	}
	o->o.exporter = user;
	*out = ss;
	return EXIT_OK;
}

/* Problems met while reading (one line each). */
static void on_progress(void *arg, const char *line)
{
	(void)arg;
	cli_err("%s", line);
}

/* `lacre export`. */
int cmd_export(int argc, char **argv)
{
	struct eopts o;
	struct site s;
	struct acl_session *ss = NULL;
	struct export_result res;
	struct lacre_dbuf rep, self, js;
	struct json_w w;
	char msg[1024], user[256];
	int r, ex;

	memset(&o, 0, sizeof(o));
	if ((o.excl = calloc(EXPORT_EXCL_MAX, sizeof(*o.excl))) == NULL)
		return cli_fail(LACRE_E_NOMEM, "export");
	if ((ex = parse(argc, argv, &o)) != EXIT_OK) {
		free(o.excl);
		return ex < 0 ? EXIT_OK : ex;
	}
	if ((ex = cli_open_site(o.site, &s)) != EXIT_OK ||
	    (ex = export_gate(&s, &o, user, sizeof(user), &ss)) != EXIT_OK ||
	    (ex = cli_session_keys(&o.pass, ss)) != EXIT_OK) {
		acl_session_close(ss);
		free(o.excl);
		return ex;
	}
	/* every key below is read through the gate's session, which owns the
	 * keystore (access_key.h) and wipes it when closed */
	o.o.session = ss;
	/* reports name the client's file, not a keeper worker's copy */
	o.o.path_label = cli_output_name(o.o.path);
	/* the case's access report: the access log's entries for the warrant
	 * (this export's own entry included) */
	lacre_dbuf_init(&rep, (size_t)64 << 20);
	if (export_access_report(&s, ss, o.o.warrant, &rep, msg, sizeof(msg)) == LACRE_OK &&
	    lacre_dbuf_add_u8(&rep, 0) == LACRE_OK)
		o.o.access_report = (const char *)rep.p;
	else
		cli_err("access report not included: %s", msg[0] ? msg : "the access log could not be read");
	o.o.progress = on_progress;
	/* the self-check's report: the lines lacre-verify prints, from the
	 * verifier's own code, run on the package before it is sealed */
	lacre_dbuf_init(&self, (size_t)64 << 20);
	o.o.self_check = &self;
	r = export_run(&s, &o.o, &res, msg, sizeof(msg));
	o.o.session = NULL;
	acl_session_close(ss);
	lacre_dbuf_free(&rep);
	free(o.excl);
	if (r != LACRE_OK) {
		/* a failed self-check: its report, on stderr (nothing was written) */
		if (self.len)
			fwrite(self.p, 1, self.len, stderr);
		lacre_dbuf_free(&self);
		cli_err("export failed: %s", msg[0] ? msg : lacre_strerror(r));
		return cli_exit_status(r);
	}
	if (o.json) {
		/* the report as one JSON object member, self_check */
		lacre_dbuf_init(&js, (size_t)128 << 20);
		json_init(&w, &js);
		json_obj_begin(&w);
		json_key(&w, "verified");
		json_bool(&w, res.self_verified);
		json_kv_strn(&w, "report", self.p, self.len);
		json_obj_end(&w);
		if (json_finish(&w) != LACRE_OK) {
			lacre_dbuf_free(&js);
			lacre_dbuf_free(&self);
			return cli_fail(LACRE_E_NOMEM, "export's self-check report");
		}
		printf("{\"package\":\"%s\",\"path\":\"%s\",\"records\":%llu,\"included\":%llu,"
		       "\"excluded\":%llu,\"unlogged\":%llu,\"events\":%llu,\"quarantined\":%llu,\"wavs\":%llu,\"pcaps\":%llu,\"pdu_bytes\":%llu,\"plain_bytes\":%llu,\"log_size\":%llu,"
		       "\"export_vkey\":\"%s\",\"self_check\":%.*s}\n", res.package_id, cli_output_name(o.o.path),
		       (unsigned long long)res.records, (unsigned long long)res.included,
		       (unsigned long long)res.excluded, (unsigned long long)res.unlogged,
		       (unsigned long long)res.events,
		       (unsigned long long)res.quarantined, (unsigned long long)res.wavs,
		       (unsigned long long)res.pcaps, (unsigned long long)res.pdu_bytes,
		       (unsigned long long)res.plain_bytes, (unsigned long long)res.log_size,
		       res.export_vkey, (int)js.len, (const char *)js.p);
		lacre_dbuf_free(&js);
	} else {
		printf("package %s: %llu records (%llu included, %llu excluded), %llu WAV, %llu pcap, "
		       "receipts against ingest log size %llu, sealed to %s in %s\nexport key: %s\n",
		       res.package_id, (unsigned long long)res.records, (unsigned long long)res.included,
		       (unsigned long long)res.excluded, (unsigned long long)res.wavs,
		       (unsigned long long)res.pcaps, (unsigned long long)res.log_size,
		       o.recipient, cli_output_name(o.o.path), res.export_vkey);
		if (res.unlogged)
			printf("left out: %llu records in no signed checkpoint (named in unlogged.txt and the "
			       "manifest's absent lines)\n", (unsigned long long)res.unlogged);
		printf("self-check (lacre-verify's checks, against the site's keys, before sealing):\n");
		fwrite(self.p, 1, self.len, stdout);
	}
	lacre_dbuf_free(&self);
	return EXIT_OK;
}

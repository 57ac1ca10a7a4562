/*
 * cmd_records.c - `lacre records` and `lacre quarantine`: decrypt and print
 * sealed records from the site's backend (access domain: needs the master
 * passphrase).  docs/cmd-records.md.
 */
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lacre/access.h"
#include "lacre/acl.h"
#include "lacre/err.h"
#include "lacre/etsi.h"
#include "lacre/json.h"
#include "keeper/access_key.h"
#include "keeper/passphrase.h"
#include "lacre/receipts.h"
#include "lacre/record_json.h"
#include "lacre/site.h"
#include "lacre/site_audit.h"
#include "lacre/store.h"
#include "lacre/warrant.h"
#include "cli.h"

struct ropts {
	const char *site;
	const char *warrant;
	const char *user;
	const char *justification;
	int json;
	int quarantine;
	int events;
	struct access_filter f;
	struct passphrase_src pass;
};

struct rout {
	int json;
	struct lacre_dbuf d;
	uint64_t n;
	/* the signed ingest log's commitments: a record none of them names is
	 * not shown (anyone can seal to a warrant's public key, so a segment
	 * the log does not name is no evidence) */
	const struct receipts_index *ix;
	struct receipts_seg *rs;                /* v1 leaf or v2 segment root (receipts.h) */
	const struct age_x25519_identity *id;
	char unl_seg[LACRE_STORE_NAME_MAX + 1]; /* segment of the records counted */
	uint64_t unl_n;                         /* its records not shown so far */
	uint64_t unlogged;                      /* all records not shown */
};

/* Say how many records of the segment just read were not shown. */
static void unlogged_flush(struct rout *o)
{
	if (o->unl_n) {
		fflush(stdout); /* its line after the records shown before it */
		cli_err("%llu records of segment %s are in no signed checkpoint: not shown "
			"(the ingest log does not name them; run lacre audit --site --deep)",
			(unsigned long long)o->unl_n, o->unl_seg);
	}
	o->unl_n = 0;
	o->unl_seg[0] = '\0';
}

/* 1 when a signed ingest log of the site holds ar's commitment (its own
 * leaf, or its segment's v2 entry, in the log that names the segment,
 * whose records root all the segment's records hash to), else 0
 * (counted). */
static int record_logged(struct rout *o, const struct access_record *ar)
{
	struct receipts_where w;
	uint8_t c[32];

	if (frame_commitment(ar->rec->salt, ar->rec->canon.p, ar->rec->canon.len, c) == LACRE_OK &&
	    receipts_seg_locate(o->rs, o->id, ar->segment, ar->index, c, &w) == LACRE_OK)
		return 1;
	if (strcmp(o->unl_seg, ar->segment) != 0) {
		unlogged_flush(o);
		snprintf(o->unl_seg, sizeof(o->unl_seg), "%s", ar->segment);
	}
	o->unl_n++;
	o->unlogged++;
	return 0;
}

static void usage(FILE *f, int quarantine)
{
	if (quarantine)
		fprintf(f, "usage: lacre quarantine [--site DIR] [--from T] [--to T] [--cin N]\n"
			   "                        [--events] [--json] [--passphrase-file F | --passphrase-fd N]\n"
			   "                        --user KEYFILE --justification TEXT\n"
			   "Lists quarantined records (oversight role) with the reason each was quarantined:\n"
			   "unknown-liid, before-start, after-end, ceased, category-not-authorised,\n"
			   "emergency-unconfirmed-expired, operator-not-bound, undecodable.  --events adds the receiver's\n"
			   "accounting events (gaps, duplicates, resets, integrity results).\n");
	else
		fprintf(f, "usage: lacre records --warrant W [--site DIR] [--from T] [--to T] [--cin N]\n"
			   "                     [--json] [--passphrase-file F | --passphrase-fd N]\n"
			   "                     --user KEYFILE --justification TEXT\n"
			   "Decrypts and prints the records sealed to warrant W, oldest segment first.\n"
			   "T is an ISO-8601 UTC time (2026-01-01 or 2026-01-01T12:00:00Z); the record's\n"
			   "interception time is used, or its receive time when it has none.\n"
			   "--json prints one object per line with the original PDU in base64 under \"pdu\".\n");
	fprintf(f, "--user KEYFILE (or LACRE_USER) is the acting user; the access, with its\n"
		   "--justification, is written to the access log before anything is decrypted\n"
		   "(docs/access.md).\n");
}

static int parse(int argc, char **argv, struct ropts *o)
{
	static const struct option lo[] = {
		{ "site", required_argument, 0, 's' },
		{ "warrant", required_argument, 0, 'w' },
		{ "from", required_argument, 0, 'f' },
		{ "to", required_argument, 0, 't' },
		{ "cin", required_argument, 0, 'c' },
		{ "json", no_argument, 0, 'j' },
		{ "events", no_argument, 0, 'e' },
		{ "user", required_argument, 0, 'u' },
		{ "justification", required_argument, 0, 'J' },
		{ "passphrase-file", required_argument, 0, 'P' },
		{ "passphrase-fd", required_argument, 0, 'F' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 }
	};
	int c;
	char *end;
	unsigned long long v;

	access_filter_init(&o->f);
	passphrase_src_init(&o->pass);
	optind = 1;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 's': o->site = optarg; break;
		case 'w': o->warrant = optarg; break;
		case 'j': o->json = 1; break;
		case 'e': o->events = 1; break;
		case 'u': o->user = optarg; break;
		case 'J': o->justification = optarg; break;
		case 'P': o->pass.file = optarg; break;
		case 'F':
			if (cli_passphrase_fd(optarg, &o->pass.fd) != EXIT_OK)
				return EXIT_USAGE;
			break;
		case 'f':
		case 't':
			if (warrant_time_parse(optarg, c == 'f' ? &o->f.from_us : &o->f.to_us) != LACRE_OK) {
				cli_err("--%s: '%s' is not a UTC time like 2026-01-01T12:00:00Z",
					c == 'f' ? "from" : "to", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'c':
			v = strtoull(optarg, &end, 10);
			if (*end || !*optarg || v > UINT32_MAX) {
				cli_err("--cin needs a number from 0 to 4294967295");
				return EXIT_USAGE;
			}
			o->f.has_cin = 1;
			o->f.cin = (uint32_t)v;
			break;
		case 'h':
			usage(stdout, o->quarantine);
			return -1;
		default:
			usage(stderr, o->quarantine);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		cli_err("unexpected argument '%s'", argv[optind]);
		return EXIT_USAGE;
	}
	if (!o->quarantine && !o->warrant) {
		cli_err("records needs --warrant W (see 'lacre warrant list')");
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

/* Print one record: a JSON line, or a short text line. */
static int print_one(void *arg, const struct access_record *ar)
{
	struct rout *o = arg;
	const struct frame_record *r = ar->rec;
	struct json_w w;
	char t[32];

	if (!record_logged(o, ar))
		return 0;
	o->n++;
	if (o->json) {
		lacre_dbuf_reset(&o->d);
		json_init(&w, &o->d);
		access_record_json(&w, ar);
		if (json_finish(&w) != LACRE_OK)
			return LACRE_E_NOMEM;
		fwrite(o->d.p, 1, o->d.len, stdout);
		fputc('\n', stdout);
		return 0;
	}
	if (r->route == FRAME_ROUTE_QUARANTINE && r->reason.len == 5 && !memcmp(r->reason.p, "event", 5)) {
		access_time_format(r->recv_us, t);
		printf("%s  event  %.*s\n", t, (int)r->pdu.len, (const char *)r->pdu.p);
		return 0;
	}
	access_time_format(r->time_kind ? r->time_us : r->recv_us, t);
	printf("%s  %-4s %-10s liid=", t, r->listener == 3 ? "hi3" : "hi2", etsi_kind_name(r->kind));
	for (size_t i = 0; i < r->liid.len; i++)
		putchar(r->liid.p[i] >= 0x20 && r->liid.p[i] < 0x7f ? r->liid.p[i] : '?');
	if (r->has_cin)
		printf(" cin=%" PRIu32, r->cin);
	printf(" seq=%" PRIu64 " %zu bytes", r->seq, r->pdu.len);
	if (r->content.len)
		printf(" %.*s", (int)r->content.len, (const char *)r->content.p);
	if (r->pre.len)
		printf(" decrypted");   /* the plaintext is sealed beside it: --json shows it */
	if (r->route == FRAME_ROUTE_QUARANTINE)
		printf("  QUARANTINED: %.*s", (int)r->reason.len, (const char *)r->reason.p);
	putchar('\n');
	return 0;
}

static void on_problem(void *arg, const char *seg, int err, const char *what)
{
	(void)arg;
	cli_err("segment %s: %s: %s", seg, what, lacre_strerror(err));
}

static void on_finding(void *arg, const struct audit_finding *f)
{
	(void)arg;
	cli_err("ledger check: %s %s", audit_kind_name(f->kind), f->message);
}

/* The audit-first gate: open the acting user's session and have the
 * access logged (durably) and allowed before any key is touched. */
static int gate(const struct ropts *o, const struct site *s, int quarantine,
		struct acl_session **ss)
{
	struct access_request rq;
	char what[256], from[WARRANT_TIME_MAX], to[WARRANT_TIME_MAX];

	from[0] = to[0] = '\0';
	if (o->f.from_us != INT64_MIN)
		warrant_time_format(o->f.from_us, from);
	if (o->f.to_us != INT64_MAX)
		warrant_time_format(o->f.to_us, to);
	snprintf(what, sizeof(what), "%s%s%s%s%s%s%s", quarantine ? "quarantined records" : "records",
		 from[0] ? " from " : "", from, to[0] ? " to " : "", to,
		 o->f.has_cin ? " cin " : "", o->events ? " with events" : "");
	if (o->f.has_cin)
		snprintf(what + strlen(what), sizeof(what) - strlen(what), "%u", (unsigned)o->f.cin);
	memset(&rq, 0, sizeof(rq));
	rq.action = quarantine ? "quarantine" : "records";
	rq.warrant = quarantine ? NULL : o->warrant;
	rq.what = what;
	rq.justification = o->justification;
	return cli_gate(s, o->user, &rq, ss, NULL);
}

static int run(int argc, char **argv, int quarantine)
{
	struct ropts o;
	struct site s;
	struct lacre_store *st = NULL;
	struct age_x25519_identity id;
	struct key_tombstone tomb;
	struct access_report rep;
	struct acl_session *ss = NULL;
	char kmsg[SITE_MSG_MAX];
	struct rout out = { 0 };
	char when[WARRANT_TIME_MAX];
	int r, ex, audit_r = LACRE_OK;

	memset(&o, 0, sizeof(o));
	o.quarantine = quarantine;
	if ((ex = parse(argc, argv, &o)) != EXIT_OK)
		return ex < 0 ? EXIT_OK : ex;
	o.f.quarantine = quarantine;
	o.f.events = o.events;
	o.f.warrant = quarantine ? NULL : o.warrant;
	if ((ex = cli_open_site(o.site, &s)) != EXIT_OK)
		return ex;
	/* who may read, and the access logged first (acl.h); a warrant of
	 * another unit is answered as one that does not exist (L8) */
	if ((ex = gate(&o, &s, quarantine, &ss)) != EXIT_OK)
		return ex;
	if ((ex = cli_session_keys(&o.pass, ss)) != EXIT_OK) {
		acl_session_close(ss);
		return ex;
	}
	/* only the key the gate allowed in this session (access_key.h); the
	 * session's keys are wiped with it */
	r = access_key(ss, quarantine ? SITE_OVERSIGHT_KEY : o.warrant, &id, &tomb, kmsg,
		       sizeof(kmsg));
	acl_session_close(ss);
	if (r == LACRE_E_DENIED) {
		cli_err("%s", kmsg);
		return EXIT_FAIL;
	}
	if (r == LACRE_E_SHREDDED) {
		warrant_time_format(tomb.shredded_at, when);
		cli_err("warrant %s was shredded by order %s on %s: its records can no longer be read",
			o.warrant, tomb.order_id, when);
		return EXIT_FAIL;
	}
	if (r != LACRE_OK)
		return cli_fail(r, "cannot read the key from the keystore");
	if ((r = cli_open_store(&s, &st)) != EXIT_OK) {
		age_identity_wipe(&id);
		return r;
	}
	/* the ingest log says which segments must exist: a deleted or cut
	 * segment is reported even though no key could say whose it was */
	{
		struct site_audit_opts ao = { 0 };
		struct site_audit_result sar;
		ao.report = on_finding;
		audit_r = site_audit_run(&s, st, &ao, &sar);
		if (audit_r != LACRE_OK && !sar.findings)
			cli_err("ledger check could not run: %s", lacre_strerror(audit_r));
	}
	out.json = o.json;
	{
		/* fail closed: without the signed logs (every receiver's:
		 * receipts.h) nothing read can be told from a planted segment */
		struct receipts_index *ix = NULL;
		char msg[SITE_MSG_MAX];
		msg[0] = '\0';
		r = receipts_index_open(&s, st, &ix, msg, sizeof(msg));
		if (r == LACRE_E_NOT_FOUND) {
			/* no ingest log yet: no segment can be on the backend */
			ix = NULL;
		} else if (r != LACRE_OK) {
			age_identity_wipe(&id);
			lacre_store_close(st);
			cli_err("cannot check the records against the signed ingest log: %s; nothing shown "
				"(run lacre audit --site)", msg[0] ? msg : lacre_strerror(r));
			return EXIT_VERIFY;
		}
		out.ix = ix;
		out.id = &id;
		lacre_dbuf_init(&out.d, (size_t)64 << 20);
		if (ix && (r = receipts_seg_new(ix, st, &out.rs)) != LACRE_OK) {
			receipts_index_free(ix);
			age_identity_wipe(&id);
			lacre_store_close(st);
			lacre_dbuf_free(&out.d);
			cli_err("cannot check the records against the signed ingest log: %s",
				lacre_strerror(r));
			return EXIT_FAIL;
		}
		r = ix ? access_read(st, &id, &o.f, print_one, &out, on_problem, &rep) : LACRE_OK;
		if (!ix)
			memset(&rep, 0, sizeof(rep));
		unlogged_flush(&out);
		receipts_seg_free(out.rs);
		receipts_index_free(ix);
	}
	age_identity_wipe(&id);
	lacre_store_close(st);
	lacre_dbuf_free(&out.d);
	fflush(stdout);
	fprintf(stderr, "lacre: %llu records from %llu of %llu segments%s%s\n",
		(unsigned long long)out.n, (unsigned long long)rep.segments_opened,
		(unsigned long long)rep.segments_listed,
		out.unlogged ? "; records in no signed checkpoint NOT SHOWN (above)" : "",
		rep.problems ? "; DAMAGED SEGMENTS listed above" : "");
	if (r != LACRE_OK)
		return cli_fail(r, rep.problems ? "some sealed data failed verification" : "read failed");
	if (out.unlogged && audit_r == LACRE_OK)
		audit_r = LACRE_E_VERIFY;
	if (audit_r != LACRE_OK)
		return cli_fail(audit_r == LACRE_E_VERIFY ? LACRE_E_VERIFY : audit_r,
				"the backend does not match the ingest log (see the lines above)");
	return EXIT_OK;
}

int cmd_records(int argc, char **argv)
{
	return run(argc, argv, 0);
}

int cmd_quarantine(int argc, char **argv)
{
	return run(argc, argv, 1);
}

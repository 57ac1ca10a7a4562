/*
 * cmd_status.c - `lacre status` (the running receiver's live figures, for
 * the people who operate the centre) and `lacre metrics` (the same figures
 * for Prometheus, over HTTP on loopback).  Keyless: both read the status
 * file the receiver rewrites every second (SITE/state/status.prom,
 * include/lacre/ingest_status.h) and the ingest log's trusted checkpoint
 * (SITE/ledger/ingest/checkpoint, public).  docs/cmd-status.md.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <dirent.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "lacre/err.h"
#include "lacre/ingest_logs.h"
#include "lacre/ingest_status.h"
#include "lacre/json.h"
#include "lacre/note.h"
#include "cli.h"

#define STATUS_FILE_MAX (1u << 20)
#define STATUS_SAMPLES_MAX 512
#define STATUS_MAX_AGE_DEFAULT 5.0

struct status_view {
	char text[STATUS_FILE_MAX + 1];
	size_t len;
	struct status_sample v[STATUS_SAMPLES_MAX];
	size_t n;
	double age_s;        /* now - lacre_status_time_seconds */
	int running;         /* fresh and its process alive */
	long pid;
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Read and parse the status file; decide whether the receiver runs. */
static int status_load(const char *path, double max_age, struct status_view *sv, char *msg,
		       size_t msglen)
{
	int fd, r;
	ssize_t n;
	double t;

	sv->len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		snprintf(msg, msglen, "no status file %s (%s): the receiver has not run with this "
			 "site, or runs with --status elsewhere", path, strerror(errno));
		return errno == ENOENT ? LACRE_E_NOT_FOUND : LACRE_E_IO;
	}
	while (sv->len < STATUS_FILE_MAX &&
	       (n = read(fd, sv->text + sv->len, STATUS_FILE_MAX - sv->len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			close(fd);
			snprintf(msg, msglen, "cannot read %s: %s", path, strerror(errno));
			return LACRE_E_IO;
		}
		sv->len += (size_t)n;
	}
	close(fd);
	sv->text[sv->len] = '\0';
	if ((r = status_prom_parse(sv->text, sv->len, sv->v, STATUS_SAMPLES_MAX, &sv->n)) != LACRE_OK) {
		snprintf(msg, msglen, "the status file %s is damaged (%s)", path, lacre_strerror(r));
		return LACRE_E_MALFORMED;
	}
	t = status_value(sv->v, sv->n, "lacre_status_time_seconds", "", -1);
	sv->pid = (long)status_value(sv->v, sv->n, "lacre_ingest_pid", "", 0);
	sv->age_s = t < 0 ? 1e9 : now_s() - t;
	/* alive: kill(pid, 0) succeeds, or the process is another user's */
	sv->running = t >= 0 && sv->age_s <= max_age && sv->pid > 0 &&
		      (kill((pid_t)sv->pid, 0) == 0 || errno == EPERM);
	return LACRE_OK;
}

static uint64_t u(const struct status_view *sv, const char *name, const char *labels)
{
	double d = status_value(sv->v, sv->n, name, labels, 0);
	return d < 0 ? 0 : (uint64_t)d;
}

/* "1h02m", "3m05s", "12s". */
static void dur(double s, char *out, size_t n)
{
	uint64_t x = s < 0 ? 0 : (uint64_t)s;
	if (x >= 86400)
		snprintf(out, n, "%" PRIu64 "d%02" PRIu64 "h", x / 86400, x % 86400 / 3600);
	else if (x >= 3600)
		snprintf(out, n, "%" PRIu64 "h%02" PRIu64 "m", x / 3600, x % 3600 / 60);
	else if (x >= 60)
		snprintf(out, n, "%" PRIu64 "m%02" PRIu64 "s", x / 60, x % 60);
	else
		snprintf(out, n, "%" PRIu64 "s", x);
}

/* The ingest log's trusted checkpoint: its size and its cosignatures. */
static void print_checkpoint(const char *site, const char *receiver)
{
	char path[4200], rel[SITE_PATH_MAX];
	uint8_t buf[16384];
	struct note *nt = NULL;
	struct checkpoint cp;
	size_t len = 0;
	ssize_t k;
	int fd;
	double now = now_s();

	if (site_ingest_relpath(receiver, "/checkpoint", rel, sizeof(rel)) != LACRE_OK)
		return;
	snprintf(path, sizeof(path), "%s/%s", site, rel);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0) {
		printf("checkpoint:  none yet (%s)\n", strerror(errno));
		return;
	}
	while (len < sizeof(buf) && (k = read(fd, buf + len, sizeof(buf) - len)) > 0)
		len += (size_t)k;
	close(fd);
	if (note_parse(buf, len, &nt) != LACRE_OK ||
	    checkpoint_parse(nt->buf, nt->text_len, &cp) != LACRE_OK) {
		printf("checkpoint:  %s is damaged (run lacre audit --site)\n", path);
		note_free(nt);
		return;
	}
	printf("checkpoint:  size %" PRIu64 " (%s)", cp.size, cp.origin);
	{
		size_t cos = 0;
		for (size_t i = 0; i < nt->nsigs; i++)
			if (strcmp(nt->sigs[i].name, cp.origin) != 0)
				cos++;
		printf(", %zu cosignature%s\n", cos, cos == 1 ? "" : "s");
		for (size_t i = 0; i < nt->nsigs; i++) {
			const struct note_sig *sg = &nt->sigs[i];
			char ago[32];
			uint64_t ts = 0;
			if (strcmp(sg->name, cp.origin) == 0)
				continue;
			if (sg->len == 72) {      /* cosignature/v1: time, then Ed25519 */
				for (int b = 0; b < 8; b++)
					ts = ts << 8 | sg->sig[b];
				dur(now - (double)ts, ago, sizeof(ago));
				printf("             witness %s, %s ago\n", sg->name, ago);
			} else {
				printf("             witness %s\n", sg->name);
			}
		}
	}
	note_free(nt);
}

/* The human view; returns the number of alert lines printed. */
static int print_human(const struct status_view *sv, const char *site, const char *receiver)
{
	char up[32], age[32];
	double start = status_value(sv->v, sv->n, "lacre_ingest_start_time_seconds", "", 0);
	int alerts = 0, vault = status_value(sv->v, sv->n, "lacre_backend_up", "", -1) >= 0;

	dur(now_s() - start, up, sizeof(up));
	dur(sv->age_s, age, sizeof(age));
	if (sv->running)
		printf("receiver:    running (pid %ld, up %s, status %.1f s old)\n", sv->pid, up, sv->age_s);
	else
		printf("receiver:    NOT RUNNING (last status %s ago, pid %ld)\n", age, sv->pid);
	printf("connections: %" PRIu64 " open, %" PRIu64 " accepted, %" PRIu64 " refused\n",
	       u(sv, "lacre_ingest_connections_open", ""), u(sv, "lacre_ingest_connections_total", ""),
	       u(sv, "lacre_ingest_connections_refused_total", "reason=\"per_peer_limit\"") +
	       u(sv, "lacre_ingest_connections_refused_total", "reason=\"total_limit\"") +
	       u(sv, "lacre_ingest_connections_refused_total", "reason=\"not_allowed\""));
	printf("traffic:     %" PRIu64 " PDUs, %" PRIu64 " bytes, %" PRIu64 " records taken, %" PRIu64
	       " malformed, %" PRIu64 " keep-alives\n",
	       u(sv, "lacre_ingest_pdus_total", ""), u(sv, "lacre_ingest_bytes_total", ""),
	       u(sv, "lacre_ingest_records_total", ""), u(sv, "lacre_ingest_malformed_pdus_total", ""),
	       u(sv, "lacre_ingest_keepalives_total", ""));
	printf("streams:     %" PRIu64 " followed; %" PRIu64 " gaps (%" PRIu64 " numbers missing), %" PRIu64
	       " duplicates, %" PRIu64 " resets, %" PRIu64 " restarts\n",
	       u(sv, "lacre_ingest_streams", ""), u(sv, "lacre_ingest_stream_gaps_total", ""),
	       u(sv, "lacre_ingest_stream_missing_total", ""), u(sv, "lacre_ingest_stream_duplicates_total", ""),
	       u(sv, "lacre_ingest_stream_resets_total", ""), u(sv, "lacre_ingest_stream_restarts_total", ""));
#define IT(c, v) u(sv, "lacre_ingest_integrity_total", "check=\"" c "\",verdict=\"" v "\"")
	printf("integrity:   hashes %" PRIu64 " verified, %" PRIu64 " mismatch, %" PRIu64 " missing, %" PRIu64
	       " held; signatures %" PRIu64 " verified, %" PRIu64 " bad, %" PRIu64 " unchecked\n",
	       IT("hash", "verified"), IT("hash", "mismatch"), IT("hash", "missing"),
	       u(sv, "lacre_ingest_integrity_held", ""), IT("signature", "verified"), IT("signature", "bad"),
	       IT("signature", "unchecked"));
	printf("encryption:  %" PRIu64 " decrypted, %" PRIu64 " undecryptable; byteCounter breaks %" PRIu64 "\n",
	       u(sv, "lacre_ingest_encrypted_total", "outcome=\"decrypted\""),
	       u(sv, "lacre_ingest_encrypted_total", "outcome=\"undecryptable\""),
	       u(sv, "lacre_ingest_bytecounter_breaks_total", ""));
	printf("memory:      %" PRIu64 " MiB resident, %" PRIu64 " MiB in huge pages; budget %" PRIu64
	       " MiB, %" PRIu64 " MiB in use, %" PRIu64 " refusals\n",
	       u(sv, "lacre_ingest_memory_resident_bytes", "") >> 20, u(sv, "lacre_ingest_memory_huge_bytes", "") >> 20,
	       u(sv, "lacre_ingest_memory_budget_bytes", "") >> 20, u(sv, "lacre_ingest_memory_in_use_bytes", "") >> 20,
	       u(sv, "lacre_ingest_memory_refusals_total", ""));
	if (vault) {
		printf("sealed:      %" PRIu64 " records (%" PRIu64 " to warrants, %" PRIu64 " quarantined, %" PRIu64
		       " late), %" PRIu64 " segments\n",
		       u(sv, "lacre_seal_records_total", ""), u(sv, "lacre_seal_routed_total", "route=\"warrant\""),
		       u(sv, "lacre_seal_routed_total", "route=\"quarantine\""),
		       u(sv, "lacre_seal_late_deliveries_total", ""), u(sv, "lacre_seal_segments_total", ""));
		printf("spool:       %" PRIu64 " segments waiting for a checkpoint, %" PRIu64 " for the backend (%"
		       PRIu64 " bytes); backend %s; spool %s\n",
		       u(sv, "lacre_spool_unsigned_segments", ""), u(sv, "lacre_spool_upload_files", ""),
		       u(sv, "lacre_spool_upload_bytes", ""),
		       u(sv, "lacre_backend_up", "") ? "up" : "DOWN", u(sv, "lacre_spool_full", "") ? "FULL" : "has room");
		printf("ledger:      %" PRIu64 " entries, %" PRIu64 " under a signed checkpoint\n",
		       u(sv, "lacre_ledger_size", ""), u(sv, "lacre_ledger_signed_size", ""));
	}
	if (site)
		print_checkpoint(site, receiver);
	/* alerts: each a state an operator must act on */
	if (!sv->running && ++alerts)
		printf("ALERT receiver not running: nothing is being received\n");
	if (vault && !u(sv, "lacre_backend_up", "") && ++alerts)
		printf("ALERT backend down: sealed segments wait in the spool\n");
	if (vault && u(sv, "lacre_spool_full", "") && ++alerts)
		printf("ALERT spool full: records are being held, mediators slowed\n");
	if (vault && u(sv, "lacre_seal_closer_behind", "") && ++alerts)
		printf("ALERT sealing behind: %" PRIu64 " segments wait for their fsync; records are being held, "
		       "mediators slowed\n", u(sv, "lacre_seal_closing_segments", ""));
	if (IT("hash", "mismatch") + IT("hash", "missing") + IT("signature", "bad") && ++alerts)
		printf("ALERT integrity: %" PRIu64 " hash mismatches, %" PRIu64 " missing, %" PRIu64
		       " bad signatures (lacre quarantine --events)\n",
		       IT("hash", "mismatch"), IT("hash", "missing"), IT("signature", "bad"));
	if (u(sv, "lacre_ingest_encrypted_total", "outcome=\"undecryptable\"") && ++alerts)
		printf("ALERT undecryptable deliveries: check handover.keys\n");
	if (u(sv, "lacre_ingest_bytecounter_breaks_total", "") && ++alerts)
		printf("ALERT byteCounter breaks: a sender's stream lost or repeated bytes\n");
	if (u(sv, "lacre_recovery_lost_records_total", "") && ++alerts)
		printf("ALERT records named lost at the last start (open segments of a crash)\n");
#undef IT
	return alerts;
}

static void print_json(const struct status_view *sv)
{
	struct lacre_dbuf d;
	struct json_w w;

	lacre_dbuf_init(&d, (size_t)4 << 20);
	json_init(&w, &d);
	json_obj_begin(&w);
	json_kv_bool(&w, "running", sv->running);
	json_key(&w, "age_s");
	json_double(&w, sv->age_s);
	json_key(&w, "metrics");
	json_arr_begin(&w);
	for (size_t i = 0; i < sv->n; i++) {
		json_obj_begin(&w);
		json_kv_str(&w, "name", sv->v[i].name);
		json_kv_str(&w, "labels", sv->v[i].labels);
		json_key(&w, "value");
		json_double(&w, sv->v[i].value);
		json_obj_end(&w);
	}
	json_arr_end(&w);
	json_obj_end(&w);
	if (json_finish(&w) == LACRE_OK)
		printf("%.*s\n", (int)d.len, (const char *)d.p);
	lacre_dbuf_free(&d);
}

static void status_usage(FILE *f)
{
	fprintf(f, "usage: lacre status [--site DIR [--receiver NAME] | --file FILE] [--json | --prometheus]\n"
		   "                    [--max-age S]\n"
		   "The running receiver's live figures: connections, traffic, streams and gaps,\n"
		   "integrity verdicts, spool depth, backend health, the last checkpoint and its\n"
		   "witnesses.  Reads SITE/state/status.prom (rewritten every second by lacre ingest),\n"
		   "and status-NAME.prom of each named receiver of this machine (or only --receiver's).\n"
		   "Exit status: 0 running, no alert; 1 not running (or no status); 4 running with\n"
		   "an alert (each printed as an ALERT line); 2 usage.\n");
}

#define STATUS_RECEIVERS_MAX (SITE_RECEIVER_MAX + 1)

/* qsort order of receiver names ("" first). */
static int name_cmp(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

/* The receivers of site whose status file is on this machine
 * (lacre/ingest_logs.h): "" for SITE/state/status.prom, NAME for each
 * SITE/state/status-NAME.prom; sorted, at most STATUS_RECEIVERS_MAX. */
static size_t status_receivers(const char *site, char names[][SITE_RECEIVER_NAME_MAX])
{
	char dir[4200], rname[SITE_RECEIVER_NAME_MAX];
	struct dirent *de;
	size_t n = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/state", site);
	if ((d = opendir(dir)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL && n < STATUS_RECEIVERS_MAX) {
		size_t len = strlen(de->d_name);
		if (!strcmp(de->d_name, "status.prom")) {
			names[n++][0] = '\0';
			continue;
		}
		if (len <= 12 || strncmp(de->d_name, "status-", 7) != 0 ||
		    strcmp(de->d_name + len - 5, ".prom") != 0 || len - 12 >= sizeof(rname))
			continue;
		memcpy(rname, de->d_name + 7, len - 12);
		rname[len - 12] = '\0';
		if (site_receiver_name_ok(rname))
			memcpy(names[n++], rname, sizeof(rname));
	}
	closedir(d);
	qsort(names, n, SITE_RECEIVER_NAME_MAX, name_cmp);
	return n;
}

/* Show one receiver's status file; the exit status it calls for. */
static int status_one(const char *file, const char *site, const char *receiver, int json, int prom,
		      double max_age)
{
	struct status_view *sv;
	char msg[512];
	int r, rc, alerts;

	if (!(sv = calloc(1, sizeof(*sv)))) {
		cli_err("status: out of memory");
		return EXIT_FAIL;
	}
	msg[0] = '\0';
	if ((r = status_load(file, max_age, sv, msg, sizeof(msg))) != LACRE_OK) {
		cli_err("status: %s", msg);
		if (!json && !prom)
			printf("receiver:    NOT RUNNING (no status)\n");
		free(sv);
		return EXIT_FAIL;
	}
	if (prom) {
		fwrite(sv->text, 1, sv->len, stdout);
		rc = sv->running ? EXIT_OK : EXIT_FAIL;
	} else if (json) {
		print_json(sv);
		rc = sv->running ? EXIT_OK : EXIT_FAIL;
	} else {
		alerts = print_human(sv, site, receiver);
		rc = !sv->running ? EXIT_FAIL : alerts ? 4 : EXIT_OK;
	}
	free(sv);
	return rc;
}

int cmd_status(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "site", required_argument, NULL, 's' }, { "file", required_argument, NULL, 'f' },
		{ "json", no_argument, NULL, 'j' }, { "prometheus", no_argument, NULL, 'p' },
		{ "max-age", required_argument, NULL, 'a' }, { "receiver", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 }
	};
	const char *site = getenv("LACRE_SITE"), *file = NULL, *receiver = NULL;
	char path[4200];
	char names[STATUS_RECEIVERS_MAX][SITE_RECEIVER_NAME_MAX];
	double max_age = STATUS_MAX_AGE_DEFAULT;
	int c, json = 0, prom = 0, rc = EXIT_OK;
	size_t n;
	char *end;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 's': site = optarg; break;
		case 'f': file = optarg; break;
		case 'j': json = 1; break;
		case 'p': prom = 1; break;
		case 'r': receiver = optarg; break;
		case 'a':
			errno = 0;
			max_age = strtod(optarg, &end);
			if (errno || *end || max_age <= 0) {
				cli_err("status: --max-age wants a number of seconds > 0, not '%s'", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'h': status_usage(stdout); return EXIT_OK;
		default: status_usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind != argc || (json && prom) || (!site && !file)) {
		if (!site && !file)
			cli_err("status: which site? give --site DIR (or set LACRE_SITE), or --file FILE");
		status_usage(stderr);
		return EXIT_USAGE;
	}
	if (receiver && !site_receiver_name_ok(receiver)) {
		cli_err("status: --receiver '%s' is not a receiver name (1 to 32 of a-z 0-9 -)", receiver);
		return EXIT_USAGE;
	}
	if (file)
		return status_one(file, site, receiver, json, prom, max_age);
	if (receiver) {
		snprintf(path, sizeof(path), "%s/state/status-%s.prom", site, receiver);
		return status_one(path, site, receiver, json, prom, max_age);
	}
	/* every receiver of this machine; none or the unnamed one alone: as
	 * a site with one receiver always was */
	n = status_receivers(site, names);
	if (n <= 1) {
		if (n == 1 && names[0][0])
			snprintf(path, sizeof(path), "%s/state/status-%s.prom", site, names[0]);
		else
			snprintf(path, sizeof(path), "%s/state/status.prom", site);
		return status_one(path, site, n == 1 ? names[0] : "", json, prom, max_age);
	}
	if (json || prom) {
		cli_err("status: this site has %zu receivers here: give --receiver NAME with --%s "
			"(or --file)", n, json ? "json" : "prometheus");
		return EXIT_USAGE;
	}
	for (size_t i = 0; i < n; i++) {
		int r1;
		if (names[i][0])
			snprintf(path, sizeof(path), "%s/state/status-%s.prom", site, names[i]);
		else
			snprintf(path, sizeof(path), "%s/state/status.prom", site);
		printf("%s== receiver %s ==\n", i ? "\n" : "", names[i][0] ? names[i] : "(unnamed)");
		fflush(stdout);
		r1 = status_one(path, site, names[i], json, prom, max_age);
		/* the worst: not running, then an alert, then fine */
		if (r1 == EXIT_FAIL || (r1 == 4 && rc == EXIT_OK))
			rc = r1;
	}
	return rc;
}

/* ---- lacre metrics: the status file over HTTP for Prometheus ---- */

struct metrics_srv {
	const char *path;
	double max_age;
};

static volatile sig_atomic_t g_metrics_stop;

static void metrics_on_signal(int sig)
{
	(void)sig;
	g_metrics_stop = 1;
}

static enum MHD_Result metrics_reply(struct MHD_Connection *conn, unsigned code,
				     const char *ctype, const void *body, size_t len)
{
	struct MHD_Response *resp;
	enum MHD_Result ok;

	resp = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, "Content-Type", ctype);
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	ok = MHD_queue_response(conn, code, resp);
	MHD_destroy_response(resp);
	return ok;
}

/* GET /metrics: the status file, plus lacre_up and the file's age. */
static enum MHD_Result metrics_request(void *cls, struct MHD_Connection *conn, const char *url,
				       const char *method, const char *version,
				       const char *upload, size_t *upload_len, void **ctx)
{
	struct metrics_srv *m = cls;
	struct status_view *sv;
	struct lacre_dbuf d;
	char msg[512];
	enum MHD_Result ok;
	int r;

	(void)version;
	(void)upload;
	if (*ctx == NULL) {           /* headers only so far: answer on the next call */
		*ctx = (void *)1;
		return MHD_YES;
	}
	if (*upload_len) {            /* no request here has a body */
		*upload_len = 0;
		return MHD_YES;
	}
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return metrics_reply(conn, 405, "text/plain", "method not allowed\n", 19);
	if (strcmp(url, "/metrics") != 0)
		return metrics_reply(conn, 404, "text/plain", "not found: try /metrics\n", 24);
	if (!(sv = calloc(1, sizeof(*sv))))
		return metrics_reply(conn, 500, "text/plain", "out of memory\n", 14);
	lacre_dbuf_init(&d, STATUS_FILE_MAX + 4096);
	r = status_load(m->path, m->max_age, sv, msg, sizeof(msg));
	(void)lacre_dbuf_printf(&d, "# HELP lacre_up 1 when the receiver runs and its status is fresh\n"
				    "# TYPE lacre_up gauge\nlacre_up %d\n", r == LACRE_OK && sv->running);
	if (r == LACRE_OK) {
		(void)lacre_dbuf_printf(&d, "# HELP lacre_status_age_seconds age of the receiver's status\n"
					    "# TYPE lacre_status_age_seconds gauge\nlacre_status_age_seconds %.3f\n",
					sv->age_s);
		(void)lacre_dbuf_add(&d, sv->text, sv->len);
	}
	ok = metrics_reply(conn, 200, "text/plain; version=0.0.4; charset=utf-8", d.p, d.len);
	lacre_dbuf_free(&d);
	free(sv);
	return ok;
}

static int metrics_addr(const char *s, int allow_remote, struct sockaddr_in *sa)
{
	char host[64];
	const char *colon = strrchr(s, ':');
	char *end;
	long port;

	if (!colon || (size_t)(colon - s) >= sizeof(host))
		return LACRE_E_CONFIG;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	if (errno || *end || colon[1] == '\0' || port < 0 || port > 65535 ||
	    inet_pton(AF_INET, host, &sa->sin_addr) != 1)
		return LACRE_E_CONFIG;
	if (!allow_remote && (ntohl(sa->sin_addr.s_addr) >> 24) != 127)
		return LACRE_E_DENIED;
	sa->sin_port = htons((uint16_t)port);
	return LACRE_OK;
}

static void metrics_usage(FILE *f)
{
	fprintf(f, "usage: lacre metrics [--site DIR [--receiver NAME] | --file FILE] [--listen IP:PORT]\n"
		   "                     [--allow-remote]\n"
		   "                     [--ready-file FILE] [--max-age S]\n"
		   "Serves the receiver's status (lacre status) at GET /metrics in the Prometheus\n"
		   "text format, on 127.0.0.1:9464 by default (loopback only unless --allow-remote).\n");
}

int cmd_metrics(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "site", required_argument, NULL, 's' }, { "file", required_argument, NULL, 'f' },
		{ "listen", required_argument, NULL, 'l' }, { "allow-remote", no_argument, NULL, 'r' },
		{ "ready-file", required_argument, NULL, 'y' }, { "max-age", required_argument, NULL, 'a' },
		{ "receiver", required_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 }
	};
	const char *site = getenv("LACRE_SITE"), *file = NULL, *listen = "127.0.0.1:9464", *ready = NULL;
	const char *receiver = NULL;
	char path[4200];
	struct metrics_srv m;
	struct sockaddr_in sa;
	struct sigaction act;
	struct MHD_Daemon *d;
	const union MHD_DaemonInfo *info;
	struct timespec tick = { 0, 200 * 1000000L };
	int c, remote = 0, r;
	char *end;

	m.max_age = STATUS_MAX_AGE_DEFAULT;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 's': site = optarg; break;
		case 'f': file = optarg; break;
		case 'l': listen = optarg; break;
		case 'r': remote = 1; break;
		case 'y': ready = optarg; break;
		case 'R': receiver = optarg; break;
		case 'a':
			errno = 0;
			m.max_age = strtod(optarg, &end);
			if (errno || *end || m.max_age <= 0) {
				cli_err("metrics: --max-age wants a number of seconds > 0, not '%s'", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'h': metrics_usage(stdout); return EXIT_OK;
		default: metrics_usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind != argc || (!site && !file)) {
		if (!site && !file)
			cli_err("metrics: which site? give --site DIR (or set LACRE_SITE), or --file FILE");
		metrics_usage(stderr);
		return EXIT_USAGE;
	}
	if (receiver && !site_receiver_name_ok(receiver)) {
		cli_err("metrics: --receiver '%s' is not a receiver name (1 to 32 of a-z 0-9 -)", receiver);
		return EXIT_USAGE;
	}
	if (!file) {
		/* one receiver's figures: the unnamed one's, or --receiver's */
		if (receiver)
			snprintf(path, sizeof(path), "%s/state/status-%s.prom", site, receiver);
		else
			snprintf(path, sizeof(path), "%s/state/status.prom", site);
		file = path;
	}
	m.path = file;
	if ((r = metrics_addr(listen, remote, &sa)) != LACRE_OK) {
		cli_err(r == LACRE_E_DENIED ? "metrics: %s is not a loopback address: give --allow-remote to "
			"serve the figures beyond this machine" : "metrics: --listen wants IPv4:PORT, not '%s'",
			listen);
		return EXIT_USAGE;
	}
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL, ntohs(sa.sin_port),
			     NULL, NULL, metrics_request, &m,
			     MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
			     MHD_OPTION_CONNECTION_TIMEOUT, 10u,
			     MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)32768,
			     MHD_OPTION_CONNECTION_LIMIT, 32u, MHD_OPTION_END);
	if (!d) {
		cli_err("metrics: cannot listen on %s: %s", listen, strerror(errno));
		return EXIT_FAIL;
	}
	info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	if (ready) {
		FILE *f = fopen(ready, "w");
		if (!f || fprintf(f, "port=%d\n", info ? (int)info->port : (int)ntohs(sa.sin_port)) < 0 ||
		    fclose(f) != 0) {
			cli_err("metrics: cannot write the ready file %s", ready);
			MHD_stop_daemon(d);
			return EXIT_FAIL;
		}
	}
	fprintf(stderr, "lacre: metrics: serving %s at http://%s/metrics\n", file, listen);
	memset(&act, 0, sizeof(act));
	act.sa_handler = metrics_on_signal;
	sigaction(SIGTERM, &act, NULL);
	sigaction(SIGINT, &act, NULL);
	while (!g_metrics_stop)
		nanosleep(&tick, NULL);
	MHD_stop_daemon(d);
	return EXIT_OK;
}

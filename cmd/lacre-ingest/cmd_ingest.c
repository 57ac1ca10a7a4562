/*
 * cmd_ingest.c - lacre-ingest (started by `lacre ingest`): run the handover
 * receiver until SIGTERM or SIGINT (or --duration), spooling every PS-PDU
 * and accounting event to a local spool directory, and optionally write the
 * accounting as JSON at exit (--stats).  With a site, the per-stream
 * sequence state is kept in SITE/state/streams.state (outside the spool,
 * which is uploaded) so that a restart raises no false gap.
 *
 * Order matters for the confinement (lib/ingest/confine.h): the site, its
 * handover keys, the TLS files and the stream state are read and the
 * listeners bound first; then, before any thread exists, the process drops
 * to its own user and confines itself; only then does the sink open (its
 * uploader and ticker threads inherit every restriction).  Thin: the work is
 * in lib/ingest (include/lacre/ingest.h).  Documented in docs/cmd-ingest.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "lacre/err.h"
#include "lacre/ingest.h"
#include "lacre/ingest_logs.h"
#include "lacre/ingest_status.h"
#include "lacre/seal_sink.h"
#include "lacre/note.h"
#include "lacre/site.h"
#include "lacre/warrant.h"
#include "lacre/modes.h"
#include "ingest/confine.h"
#include "receiver.h"

static struct ingest_server *g_server;

/* The live status (SITE/state/status.prom or --status FILE), rewritten
 * about once a second from the receiver's loop (docs/cmd-status.md). */
struct status_ctx {
	const struct lacre_sink *vault;  /* the sealing sink, or NULL */
	int64_t started_us;
	char path[4200];
	int warned;
};
static struct status_ctx g_status;

static int64_t wall_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ingest_config.on_second: write the status file (a failure is said once). */
static void status_tick(void *arg)
{
	struct status_ctx *c = arg;
	struct seal_sink_stats v;

	if (!g_server || !c->path[0])
		return;
	if (c->vault)
		seal_sink_stats_get(c->vault, &v);
	if (ingest_status_write(g_server, c->vault ? &v : NULL, c->started_us, wall_now_us(),
				c->path) != LACRE_OK) {
		if (!c->warned)
			cli_err("ingest: cannot write the status file %s; lacre status will say the "
				"receiver is not running", c->path);
		c->warned = 1;
	} else {
		c->warned = 0;
	}
}

/* SIGTERM / SIGINT / SIGALRM (--duration): stop and drain. */
static void on_signal(int sig)
{
	(void)sig;
	if (g_server)
		ingest_server_stop(g_server);
}

/* Print the option summary. */
static void usage(FILE *f)
{
	fprintf(f,
	"usage: lacre ingest [--site DIR | --spool DIR] [--hi2 IP:PORT] [--hi3 IP:PORT] [options]\n"
	"\n"
	"  --hi2 IP:PORT / --hi3 IP:PORT   listeners (port 0 picks a free port)\n"
	"  --site DIR             run for a site (or LACRE_SITE): listeners, TLS and limits from\n"
	"                         its lacre.conf; records are routed by warrant, sealed and\n"
	"                         logged (the vault pipeline); needs no passphrase\n"
	"  --set KEY=VALUE        override one key of the site's lacre.conf (repeatable)\n"
	"  --receiver NAME        run as the site's receiver NAME (default ingest.receiver): its own\n"
	"                         ingest log lacre/<site>/ingest/NAME, spool, state and status\n"
	"  -n                     check the configuration (with a site: all of lacre.conf) and exit\n"
	"  --spool DIR            without a site: keep raw PDUs in an unsealed spool (tests, benches)\n"
	"  --stats FILE           write the accounting as JSON at exit\n"
	"  --status FILE          the live status (Prometheus text), rewritten every second\n"
	"                         (default with a site: SITE/state/status.prom; see lacre status)\n"
	"  --ready-file FILE      write \"hi2=PORT hi3=PORT\" once listening\n"
	"  --duration SEC         stop after SEC seconds (tests)\n"
	"  --tls                  both listeners speak TLS; --hi2-tls / --hi3-tls for one\n"
	"  --tls-cert FILE --tls-key FILE   server certificate chain and key (PEM)\n"
	"  --tls-client-ca FILE   verify client certificates against this CA\n"
	"  --tls-require-client-cert        refuse clients without a certificate\n"
	"  --tls-client-fp HEX    allow a client certificate by SHA-256 fingerprint (repeat)\n"
	"  --allow-peer IP        plain-TCP source allow-list (repeat; default any)\n"
	"  --max-pdu BYTES        largest PS-PDU (default 16777216)\n"
	"  --max-tx-buf BYTES     unsent keep-alive responses per connection (default 65536)\n"
	"  --idle-timeout SEC     close silent connections (default 900; 0 off)\n"
	"  --pdu-timeout SEC      a PDU or TLS handshake must complete in (default 30)\n"
	"  --max-conns N          all connections (default 20000)\n"
	"  --workers N            event loops (threads) sharing the connections, 1 to 256\n"
	"                         (default: ingest.workers, else one per online CPU)\n"
	"  --max-conns-per-peer N per peer address (default 256)\n"
	"  --memory-budget BYTES  all connections' incomplete PDUs in all; past it the largest\n"
	"                         is refused (default 268435456; at least twice --max-pdu)\n"
	"  --integrity-pubkey FILE        operator key for signature PDUs (PEM)\n"
	"  --integrity-sig-md NAME        ECDSA/DSA digest (default sha256)\n"
	"  --integrity-retain BYTES       data kept for hash checks (default 67108864; 0 off)\n"
	"  --flush-ms MS          spool flush interval (default 1000)\n"
	"  --fsync never|flush|always     spool sync policy (default flush)\n"
	"  --rotate BYTES         start a new spool file past this size (default 268435456)\n"
	"  --state FILE           stream sequence state (default with a site: SITE/state/streams.state;\n"
	"                         without a site: none)\n"
	"  --drain-timeout SEC    at stop, wait this long for peers to close (default 5)\n"
	"  --stop-retry SEC       at stop, keep retrying data held for want of space (default 30)\n"
	"  --quiet                no per-connection lines on stderr\n"
	"  --run-as USER          when started as root, become USER once the listeners are bound\n"
	"                         (default: the site's ingest.user)\n"
	"  --no-confine           no user change, Landlock or seccomp (diagnosis only: says so loudly)\n");
}

/* Parse a non-negative decimal number with an optional k, M or G suffix
 * (binary multiples). */
static int num(const char *s, unsigned long long *v)
{
	char *end;
	unsigned long long x;

	if (!s || !*s || *s == '-')
		return -1;
	errno = 0;
	x = strtoull(s, &end, 10);
	if (errno || end == s)
		return -1;
	if (!strcmp(end, "k") || !strcmp(end, "K"))
		x <<= 10;
	else if (!strcmp(end, "M"))
		x <<= 20;
	else if (!strcmp(end, "G"))
		x <<= 30;
	else if (*end)
		return -1;
	*v = x;
	return 0;
}

/* Decode a 64-hex-digit SHA-256 fingerprint (colons allowed). */
static int parse_fp(const char *s, uint8_t out[32])
{
	int n = 0, hi = -1, v;

	for (; *s; s++) {
		if (*s == ':')
			continue;
		if (*s >= '0' && *s <= '9')
			v = *s - '0';
		else if ((*s | 0x20) >= 'a' && (*s | 0x20) <= 'f')
			v = (*s | 0x20) - 'a' + 10;
		else
			return -1;
		if (hi < 0) {
			hi = v;
		} else {
			if (n >= 32)
				return -1;
			out[n++] = (uint8_t)(hi << 4 | v);
			hi = -1;
		}
	}
	return n == 32 && hi < 0 ? 0 : -1;
}

/* Write the stats JSON to fd, the --stats file opened before the
 * confinement (a confined receiver may not create files beside it: the
 * folder may hold the site); the file is filled only here, at exit. */
static int write_stats(struct ingest_server *s, const struct lacre_sink *vault,
		       const struct confine_state *cs, int fd)
{
	struct lacre_dbuf d;
	size_t off;
	int r;

	lacre_dbuf_init(&d, (size_t)256 << 20);
	if ((r = ingest_server_stats_json(s, &d)) != LACRE_OK)
		goto done;
	if (vault && d.len > 0 && d.p[d.len - 1] == '}') {
		/* the sealing sink's figures, as the "vault" member */
		struct seal_sink_stats v;
		seal_sink_stats_get(vault, &v);
		d.len--;
		r = lacre_dbuf_printf(&d, ",\"vault\":{\"records\":%llu,\"routed\":%llu,\"late\":%llu,"
			"\"quarantined\":%llu,\"events\":%llu,\"segments\":%llu,\"log_size\":%llu,"
			"\"signed_size\":%llu,\"unsigned_segments\":%llu,\"upload_files\":%llu,"
			"\"upload_bytes\":%llu,\"backend_down\":%s,\"spool_full\":%s,"
			"\"refused_full\":%llu,\"closing\":%llu,\"closer_behind\":%s,\"refused_closer\":%llu,"
			"\"relogged_segments\":%llu,\"lost_records\":%llu}}",
			(unsigned long long)v.records, (unsigned long long)v.routed,
			(unsigned long long)v.late, (unsigned long long)v.quarantined,
			(unsigned long long)v.events, (unsigned long long)v.segments,
			(unsigned long long)v.log_size, (unsigned long long)v.signed_size,
			(unsigned long long)v.unsigned_segments, (unsigned long long)v.upload_files,
			(unsigned long long)v.upload_bytes, v.backend_down ? "true" : "false",
			v.spool_full ? "true" : "false", (unsigned long long)v.refused_full,
			(unsigned long long)v.closing, v.closer_behind ? "true" : "false",
			(unsigned long long)v.refused_closer, (unsigned long long)v.relogged_segments, (unsigned long long)v.lost_records);
		if (r != LACRE_OK)
			goto done;
		/* the log signer (ledger.signer): refusals are an alert */
		d.len -= 2;
		r = lacre_dbuf_printf(&d, ",\"signer_refusals\":%llu,\"signer_failures\":%llu,"
				      "\"signer_refusing\":%s}}", (unsigned long long)v.signer_refusals,
				      (unsigned long long)v.signer_failures,
				      v.signer_refusing ? "true" : "false");
		if (r != LACRE_OK)
			goto done;
	}
	if (d.len > 0 && d.p[d.len - 1] == '}') {
		/* what confinement the receiver ran under */
		d.len--;
		if ((r = lacre_dbuf_printf(&d, ",\"confinement\":")) != LACRE_OK ||
		    (r = confine_state_json(cs, &d)) != LACRE_OK ||
		    (r = lacre_dbuf_printf(&d, "}\n")) != LACRE_OK)
			goto done;
	}
	r = LACRE_E_IO;
	if (ftruncate(fd, 0) != 0 || lseek(fd, 0, SEEK_SET) != 0)
		goto done;
	for (off = 0; off < d.len;) {
		ssize_t n = write(fd, d.p + off, d.len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto done;
		off += (size_t)n;
	}
	if (fsync(fd) != 0)
		goto done;
	r = LACRE_OK;
done:
	lacre_dbuf_free(&d);
	return r;
}

/* Write the bound ports to path (tmp + rename, so a reader sees all). */
static int write_ready(struct ingest_server *s, const char *path)
{
	char tmp[4096];
	FILE *fp;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (!(fp = fopen(tmp, "w")))
		return LACRE_E_IO;
	fprintf(fp, "hi2=%d\nhi3=%d\npid=%ld\n", ingest_server_port(s, LACRE_HI2),
	        ingest_server_port(s, LACRE_HI3), (long)getpid());
	if (fclose(fp) != 0 || rename(tmp, path) != 0)
		return LACRE_E_IO;
	return LACRE_OK;
}

enum {
	O_HI2 = 256, O_HI3, O_SPOOL, O_SITE, O_STATS, O_READY, O_DURATION, O_TLS, O_HI2TLS,
	O_HI3TLS, O_CERT, O_KEY, O_CA, O_REQ, O_FP, O_ALLOW, O_MAXPDU, O_MAXTX, O_IDLE,
	O_PDUTO, O_MAXC, O_MAXCP, O_IPUB, O_IMD, O_IRET, O_FLUSH, O_FSYNC_MODE, O_ROTATE, O_QUIET, O_SET,
	O_STATE, O_DRAIN, O_STOPRETRY, O_RUNAS, O_NOCONFINE, O_STATUS, O_MEMBUDGET,
	O_RECEIVER, O_WORKERS
	/* the opts[] table below lists the long options in this order */
};

/* 1 when path (a file to create) would lie inside folder dir (both made
 * absolute through the existing folders): the state must not be uploaded. */
static int path_inside(const char *path, const char *dir)
{
	char pd[PATH_MAX], dd[PATH_MAX], tmp[PATH_MAX];
	const char *slash = strrchr(path, '/');
	size_t n;

	if (!dir || !dir[0] || !realpath(dir, dd))
		return 0;
	if (!slash)
		snprintf(tmp, sizeof(tmp), ".");
	else
		snprintf(tmp, sizeof(tmp), "%.*s", (int)(slash - path ? slash - path : 1), path);
	if (!realpath(tmp, pd))
		return 0;
	n = strlen(dd);
	return strncmp(pd, dd, n) == 0 && (pd[n] == 0 || pd[n] == '/');
}

/* Handover key rings loaded from the site (static: large; wiped at exit). */
static struct ingest_hkeys g_hkeys[INGEST_HKEY_OPS];

/*
 * Load the site's handover keys (handover.keys) into one ring per
 * operator, each key with its validity window.  *n is the number of
 * rings.  A key file that cannot be read or is not a key stops the
 * receiver: an encrypted delivery would otherwise be quarantined for a
 * typo.  Returns LACRE_OK or the error, reported on stderr.
 */
static int load_site_hkeys(const struct site_config *cfg, struct ingest_hkeys *ops, size_t *n)
{
	char path[SITE_PATH_MAX + SITE_HKEY_FILE_MAX + 2];
	char text[256];
	uint8_t key[ETSI_HKEY_MAX];
	size_t i, j, tn, klen = 0;
	FILE *f;
	int r = LACRE_OK;

	*n = 0;
	for (i = 0; i < cfg->n_hkeys && r == LACRE_OK; i++) {
		const struct site_hkey *k = &cfg->hkeys[i];
		if (site_hkey_path(cfg, k, path, sizeof(path)) != LACRE_OK) {
			cli_err("ingest: handover key %s of operator %s: path too long; shorten handover.key_dir",
			        k->file, k->operator_id);
			r = LACRE_E_CONFIG;
			break;
		}
		if (!(f = fopen(path, "rb"))) {
			cli_err("ingest: cannot open the handover key %s: %s", path, strerror(errno));
			r = LACRE_E_IO;
			break;
		}
		tn = fread(text, 1, sizeof(text), f);
		if (ferror(f))
			r = LACRE_E_IO;
		fclose(f);
		if (r == LACRE_OK && (tn == sizeof(text) || etsi_key_from_hex(text, tn, key, &klen) != LACRE_OK))
			r = LACRE_E_MALFORMED;
		if (r != LACRE_OK) {
			cli_err("ingest: %s: not a handover key: expected 24 or 32 octets in hex (48 or 64 hex digits)",
			        path);
			break;
		}
		for (j = 0; j < *n; j++)
			if (!strcmp(ops[j].operator_id, k->operator_id))
				break;
		if (j == *n) {
			if (*n >= INGEST_HKEY_OPS) {
				cli_err("ingest: handover.keys: more than %d operators", INGEST_HKEY_OPS);
				r = LACRE_E_TOO_LARGE;
				break;
			}
			snprintf(ops[j].operator_id, sizeof(ops[j].operator_id), "%s", k->operator_id);
			etsi_keyring_init(&ops[j].ring);
			(*n)++;
		}
		if ((r = etsi_keyring_add(&ops[j].ring, key, klen, k->valid_from_us, k->valid_to_us)) != LACRE_OK)
			cli_err("ingest: handover key %s of operator %s cannot be used: %s",
			        path, k->operator_id, lacre_strerror(r));
	}
	OPENSSL_cleanse(key, sizeof(key));
	OPENSSL_cleanse(text, sizeof(text));
	return r;
}

/* Wipe the loaded handover keys. */
static void wipe_hkeys(struct ingest_hkeys *ops, size_t n)
{
	for (size_t i = 0; i < n; i++)
		etsi_keyring_wipe(&ops[i].ring);
}

/* The sink's record callback until the sink opens (never called: the
 * server reads nothing before ingest_server_run). */
static int sink_not_open(void *ctx, const struct lacre_record *rec)
{
	(void)ctx;
	(void)rec;
	return LACRE_E_INVALID;
}

/* A file or folder this run just made for itself (its log key, its log
 * and state folders) belongs to the --run-as user when started as root:
 * the receiver reads and writes it after dropping to that user.  What
 * existed before is left as it is (the confinement's check names it). */
static void give_to_run_as(const char *path, const char *run_as)
{
	struct passwd *pw;

	if (!run_as || geteuid() != 0 || !(pw = getpwnam(run_as)) || pw->pw_uid == 0)
		return;
	if (chown(path, pw->pw_uid, pw->pw_gid) != 0)
		cli_err("ingest: cannot give %s to %s: %s", path, run_as, strerror(errno));
}

/* Make sure SITE/ledger/ingest.key exists before the confinement (a
 * confined receiver may read it but not create files in ledger/, which
 * also holds the keeper's access-log key); a key made now is run_as's. */
static int ensure_log_key(const struct site *st, const char *run_as)
{
	struct note_signer *k = NULL;
	char path[SITE_PATH_MAX];
	int r, existed;

	char rel[SITE_PATH_MAX];

	if (site_ingest_relpath(st->cfg.ingest_receiver, ".key", rel, sizeof(rel)) != LACRE_OK ||
	    site_path(st, rel, path, sizeof(path)) != LACRE_OK) {
		cli_err("ingest: the site path %s is too long", st->dir);
		return LACRE_E_CONFIG;
	}
	existed = access(path, F_OK) == 0;
	if ((r = seal_sink_log_key(st, &k)) != LACRE_OK) {
		cli_err("ingest: cannot load or create the ingest log key in %s/ledger: %s", st->dir, lacre_strerror(r));
		return r;
	}
	note_signer_free(k);
	if (!existed)
		give_to_run_as(path, run_as);
	return LACRE_OK;
}

/* Take the receiver's locks for its whole run (the descriptors outlive
 * the confinement): the spool folder itself (made here) and STATE.lock
 * beside the stream state, so that two receivers never share a spool or a state
 * file; and look at its ledger state's lock (lib/ledger/log.c takes it in
 * the sink) to name a running receiver of the same log before anything
 * starts.  Prints what is wrong. */
static int receiver_lock(const struct site *st, const char *state, const char *run_as, int locks[2])
{
	char path[SITE_PATH_MAX + 16], rel[SITE_PATH_MAX];
	const char *who = st->cfg.ingest_receiver[0] ? st->cfg.ingest_receiver : "(unnamed)";
	struct site_ingest_log log;

	memset(&log, 0, sizeof(log));
	if (site_ingest_relpath(st->cfg.ingest_receiver, "", rel, sizeof(rel)) == LACRE_OK &&
	    site_path(st, rel, log.state_buf, sizeof(log.state_buf)) == LACRE_OK) {
		log.state_dir = log.state_buf;
		if (site_ingest_running(&log)) {
			cli_err("ingest: receiver %s: its ledger state %s is locked by a running receiver; "
				"stop it, or start this one with another --receiver", who, log.state_dir);
			return LACRE_E_STATE;
		}
	}
	if (mkdir(st->cfg.spool_dir, LACRE_MODE_GROUP_DIR) == 0)
		give_to_run_as(st->cfg.spool_dir, run_as);
	else if (errno != EEXIST) {
		cli_err("ingest: cannot create the spool %s: %s; check its folder", st->cfg.spool_dir,
			strerror(errno));
		return LACRE_E_IO;
	}
	/* the spool: its folder itself is locked (no file added to it) */
	if ((locks[0] = open(st->cfg.spool_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW)) < 0) {
		cli_err("ingest: cannot open the spool %s: %s; check its folder", st->cfg.spool_dir,
			strerror(errno));
		return LACRE_E_IO;
	}
	if (flock(locks[0], LOCK_EX | LOCK_NB) != 0) {
		cli_err("ingest: receiver %s: the spool %s is locked by another receiver of this site: two "
			"receivers never share a spool; give each its own (receiver.NAME.spool_dir, or "
			"another --receiver)", who, st->cfg.spool_dir);
		return LACRE_E_STATE;
	}
	/* the stream state is replaced by rename: a lock file beside it */
	if (!state)
		return LACRE_OK;
	if (snprintf(path, sizeof(path), "%s.lock", state) >= (int)sizeof(path)) {
		cli_err("ingest: the path %s is too long", state);
		return LACRE_E_CONFIG;
	}
	if ((locks[1] = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0 &&
	    (locks[1] = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, LACRE_MODE_GROUP_FILE)) >= 0)
		give_to_run_as(path, run_as);
	if (locks[1] < 0) {
		cli_err("ingest: cannot open the lock %s: %s; check its folder", path, strerror(errno));
		return LACRE_E_IO;
	}
	if (flock(locks[1], LOCK_EX | LOCK_NB) != 0) {
		cli_err("ingest: receiver %s: %s is locked by another receiver of this site: two receivers "
			"never share a stream state; give each its own (--state, or another --receiver)",
			who, path);
		return LACRE_E_STATE;
	}
	return LACRE_OK;
}

/* Folder of path (a file), in out; "." when it has none. */
static void parent_dir(const char *path, char *out, size_t cap)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		snprintf(out, cap, ".");
	else if (slash == path)
		snprintf(out, cap, "/");
	else
		snprintf(out, cap, "%.*s", (int)(slash - path), path);
}

/*
 * What a backend spec (docs/storage.md) needs once confined: a dir: root
 * to write; an s3:// endpoint to connect to (S3_ENDPOINT or
 * AWS_ENDPOINT_URL, as lib/store/s3.c reads them); a faulty: test wrapper
 * what its inner spec needs (its down-file is only looked at with stat,
 * which Landlock leaves alone).
 */
static int confine_backend(struct confine_opts *co, const char *spec)
{
	if (!strncmp(spec, "faulty:", 7)) {
		spec += 7;
		if (!strncmp(spec, "down-file=", 10)) {
			const char *semi = strchr(spec, ';');
			if (!semi)
				return LACRE_OK;   /* the store refuses it, and says why */
			spec = semi + 1;
		}
		return confine_backend(co, spec);
	}
	if (!strncmp(spec, "dir:", 4)) {
		if (confine_add_write(co, spec + 4) != LACRE_OK) {
			cli_err("ingest: too many paths to confine to (at most %d)", CONFINE_MAX_PATHS);
			return LACRE_E_TOO_LARGE;
		}
	} else if (!strncmp(spec, "s3:", 3)) {
		const char *ep = getenv("S3_ENDPOINT");
		if (!ep || !*ep)
			ep = getenv("AWS_ENDPOINT_URL");
		co->inet = 1;
		if (ep && *ep && confine_add_url(co, ep) != LACRE_OK) {
			cli_err("ingest: the S3 endpoint %s is not http[s]://HOST[:PORT]; fix S3_ENDPOINT", ep);
			return LACRE_E_CONFIG;
		}
		/* no endpoint: the s3 store refuses to open, and says why */
	}
	return LACRE_OK;
}

/*
 * What the confined receiver may touch (lib/ingest/confine.h): with a site,
 * read warrants.log (reloaded while running), the ingest log key and the
 * witness policy; write the spool, the stream state's folder, the ingest
 * log's state (ledger/ingest) and a dir: backend; connect to the s3:
 * endpoint and the witnesses.  Without a site, write the raw spool and the
 * state's folder.  Prints what is wrong; returns LACRE_OK or an error.
 */
static int confine_opts_fill(struct confine_opts *co, const struct site *st, const char *spool,
			     const char *state, const char *run_as)
{
	static char p_warrants[SITE_PATH_MAX], p_key[SITE_PATH_MAX], p_ledger[SITE_PATH_MAX];
	static char p_state[4200];
	char r_key[SITE_PATH_MAX], r_ledger[SITE_PATH_MAX];
	int r = LACRE_OK, r2;

	memset(co, 0, sizeof(*co));
	co->run_as = run_as;
	if (state) {
		parent_dir(state, p_state, sizeof(p_state));
		r |= confine_add_write(co, p_state);
	}
	if (!st) {
		/* the raw spool is made by the sink, once confined: make it now
		 * (the sink's own mode), so that the confinement can name it */
		if (mkdir(spool, 0700) != 0 && errno != EEXIST) {   /* raw PDUs: the receiver's alone */
			cli_err("ingest: cannot create the spool %s: %s; check the directory and its permissions",
			        spool, strerror(errno));
			return LACRE_E_IO;
		}
		return (confine_add_write(co, spool) | r) ? LACRE_E_TOO_LARGE : LACRE_OK;
	}
	if (site_ingest_relpath(st->cfg.ingest_receiver, ".key", r_key, sizeof(r_key)) != LACRE_OK ||
	    site_ingest_relpath(st->cfg.ingest_receiver, "", r_ledger, sizeof(r_ledger)) != LACRE_OK ||
	    site_path(st, SITE_WARRANTS, p_warrants, sizeof(p_warrants)) != LACRE_OK ||
	    site_path(st, r_key, p_key, sizeof(p_key)) != LACRE_OK ||
	    site_path(st, r_ledger, p_ledger, sizeof(p_ledger)) != LACRE_OK) {
		cli_err("ingest: the site path %s is too long", st->dir);
		return LACRE_E_CONFIG;
	}
	/* the ingest log's folder is made by its first run: make it now, so
	 * that the confinement can name it */
	if (mkdir(p_ledger, LACRE_MODE_GROUP_DIR) == 0)
		give_to_run_as(p_ledger, run_as);
	else if (errno != EEXIST) {
		cli_err("ingest: cannot create %s: %s; check the site folder's permissions", p_ledger, strerror(errno));
		return LACRE_E_IO;
	}
	r |= confine_add_read(co, p_warrants);
	/* the ingest log's key: read only while no outside signer holds it */
	if (!st->cfg.ledger_signer[0])
		r |= confine_add_read(co, p_key);
	r |= confine_add_write(co, p_ledger);
	r |= confine_add_write(co, st->cfg.spool_dir);
	if (st->cfg.witness_policy[0]) {
		struct policy *pol = NULL;
		r |= confine_add_read(co, st->cfg.witness_policy);
		if (policy_load_file(st->cfg.witness_policy, &pol, NULL) == LACRE_OK) {
			for (size_t i = 0; i < pol->nw; i++)
				if (pol->w[i].url[0] && confine_add_url(co, pol->w[i].url) != LACRE_OK)
					cli_err("ingest: witness URL %s: no TCP port to allow; that witness will be unreachable",
					        pol->w[i].url);
			free(pol);
		}
	}
	if ((r2 = confine_backend(co, st->cfg.backend)) != LACRE_OK)
		return r2;
	/* lacre.conf's S3 settings (site_store_open reads them once confined) */
	if (!strncmp(st->cfg.backend, "s3:", 3)) {
		if (st->cfg.s3_endpoint[0] && confine_add_url(co, st->cfg.s3_endpoint) != LACRE_OK) {
			cli_err("ingest: s3.endpoint %s is not http[s]://HOST[:PORT]", st->cfg.s3_endpoint);
			return LACRE_E_CONFIG;
		}
		if (st->cfg.s3_credentials[0])
			r |= confine_add_read(co, st->cfg.s3_credentials);
	}
	if (r != LACRE_OK) {
		cli_err("ingest: too many paths to confine to (at most %d)", CONFINE_MAX_PATHS);
		return LACRE_E_TOO_LARGE;
	}
	return LACRE_OK;
}

/* `lacre ingest`. */
/* Warn about each warrant, still in force or to come, that names an
 * operator lacre.conf does not configure: no connection can be that
 * operator, so every record of its LIIDs would be quarantined
 * (operator-not-bound).  A registry that does not load is the sink's to
 * report. */
static void warn_unknown_operators(const struct site *st)
{
	struct warrant_registry *reg = NULL;
	int64_t now = warrant_time_now();

	if (warrant_registry_load(st, &reg) != LACRE_OK)
		return;
	for (size_t i = 0; i < warrant_registry_count(reg); i++) {
		const struct warrant *w = warrant_registry_at(reg, i);
		if (w->periods[w->n_periods - 1].to <= now || (w->ceased && w->ceased_at <= now))
			continue;
		for (size_t k = 0; k < w->n_operators; k++)
			if (!site_operator_find(&st->cfg, w->operators[k]))
				fprintf(stderr, "lacre: ingest: warning: warrant %s names operator %s, which "
				        "%s does not configure: its records can only be quarantined "
				        "(operator-not-bound) until operator.%s.* is set\n", w->id,
				        w->operators[k], SITE_CONF, w->operators[k]);
	}
	warrant_registry_free(reg);
}

int cmd_ingest(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "hi2", required_argument, NULL, O_HI2 },
		{ "hi3", required_argument, NULL, O_HI3 },
		{ "spool", required_argument, NULL, O_SPOOL },
		{ "site", required_argument, NULL, O_SITE },
		{ "stats", required_argument, NULL, O_STATS },
		{ "ready-file", required_argument, NULL, O_READY },
		{ "duration", required_argument, NULL, O_DURATION },
		{ "tls", no_argument, NULL, O_TLS },
		{ "hi2-tls", no_argument, NULL, O_HI2TLS },
		{ "hi3-tls", no_argument, NULL, O_HI3TLS },
		{ "tls-cert", required_argument, NULL, O_CERT },
		{ "tls-key", required_argument, NULL, O_KEY },
		{ "tls-client-ca", required_argument, NULL, O_CA },
		{ "tls-require-client-cert", no_argument, NULL, O_REQ },
		{ "tls-client-fp", required_argument, NULL, O_FP },
		{ "allow-peer", required_argument, NULL, O_ALLOW },
		{ "max-pdu", required_argument, NULL, O_MAXPDU },
		{ "max-tx-buf", required_argument, NULL, O_MAXTX },
		{ "idle-timeout", required_argument, NULL, O_IDLE },
		{ "pdu-timeout", required_argument, NULL, O_PDUTO },
		{ "max-conns", required_argument, NULL, O_MAXC },
		{ "max-conns-per-peer", required_argument, NULL, O_MAXCP },
		{ "integrity-pubkey", required_argument, NULL, O_IPUB },
		{ "integrity-sig-md", required_argument, NULL, O_IMD },
		{ "integrity-retain", required_argument, NULL, O_IRET },
		{ "flush-ms", required_argument, NULL, O_FLUSH },
		{ "fsync", required_argument, NULL, O_FSYNC_MODE },
		{ "rotate", required_argument, NULL, O_ROTATE },
		{ "quiet", no_argument, NULL, O_QUIET },
		{ "set", required_argument, NULL, O_SET },
		{ "state", required_argument, NULL, O_STATE },
		{ "drain-timeout", required_argument, NULL, O_DRAIN },
		{ "stop-retry", required_argument, NULL, O_STOPRETRY },
		{ "run-as", required_argument, NULL, O_RUNAS },
		{ "no-confine", no_argument, NULL, O_NOCONFINE },
		{ "status", required_argument, NULL, O_STATUS },
		{ "memory-budget", required_argument, NULL, O_MEMBUDGET },
		{ "receiver", required_argument, NULL, O_RECEIVER },
		{ "workers", required_argument, NULL, O_WORKERS },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct ingest_config cfg;
	struct ingest_spool_opts so = { 0, INGEST_FSYNC_FLUSH };
	struct lacre_sink sink;
	struct sigaction sa;
	const char *spool = NULL, *site = getenv("LACRE_SITE"), *stats = NULL, *ready = NULL,
		   *status = NULL;
	const char *sets[64];
	static char state_path[4200];
	const char *state = NULL;
	size_t n_sets = 0;
	int use_site = 0;
	static struct site st;          /* outlives the sink */
	char site_msg[SITE_MSG_MAX];
	unsigned long long v, duration = 0;
	int c, r, r2, check_only = 0, sink_open = 0, rc = EXIT_FAIL, membudget_set = 0;
	const char *run_as = NULL, *receiver = NULL;
	int no_confine = 0, stats_fd = -1;
	int locks[2] = { -1, -1 };
	static struct confine_state cs;

	ingest_config_defaults(&cfg);
	optind = 1;
	while ((c = getopt_long(argc, argv, "hn", opts, NULL)) != -1) {
		v = 0;
		switch (c) {
		case O_HI2: cfg.hi2_addr = optarg; break;
		case O_HI3: cfg.hi3_addr = optarg; break;
		case O_SPOOL: spool = optarg; break;
		case O_SITE: site = optarg; break;
		case O_STATS: stats = optarg; break;
		case O_STATUS: status = optarg; break;
		case O_RECEIVER: receiver = optarg; break;
		case O_READY: ready = optarg; break;
		case O_TLS: cfg.hi2_tls = cfg.hi3_tls = 1; break;
		case O_HI2TLS: cfg.hi2_tls = 1; break;
		case O_HI3TLS: cfg.hi3_tls = 1; break;
		case O_CERT: cfg.tls_cert = optarg; break;
		case O_KEY: cfg.tls_key = optarg; break;
		case O_CA: cfg.tls_client_ca = optarg; break;
		case O_REQ: cfg.tls_require_client_cert = 1; break;
		case O_FP:
			if (cfg.n_client_fps >= INGEST_MAX_FPS || parse_fp(optarg, cfg.client_fps[cfg.n_client_fps])) {
				cli_err("ingest: bad --tls-client-fp '%s': give 64 hex digits (openssl x509 -fingerprint -sha256)", optarg);
				return EXIT_USAGE;
			}
			cfg.n_client_fps++;
			break;
		case O_ALLOW:
			if (cfg.n_allow_peers >= INGEST_MAX_FPS) {
				cli_err("ingest: too many --allow-peer (at most %d)", INGEST_MAX_FPS);
				return EXIT_USAGE;
			}
			cfg.allow_peers[cfg.n_allow_peers++] = optarg;
			break;
		case O_FSYNC_MODE:
			if (!strcmp(optarg, "never"))
				so.fsync_mode = INGEST_FSYNC_NEVER;
			else if (!strcmp(optarg, "flush"))
				so.fsync_mode = INGEST_FSYNC_FLUSH;
			else if (!strcmp(optarg, "always"))
				so.fsync_mode = INGEST_FSYNC_ALWAYS;
			else {
				cli_err("ingest: --fsync takes never, flush or always");
				return EXIT_USAGE;
			}
			break;
		case O_QUIET: cfg.quiet = 1; break;
		case O_STATE: state = optarg; break;
		case O_RUNAS: run_as = optarg; break;
		case O_NOCONFINE: no_confine = 1; break;
		case O_SET:
			if (n_sets >= sizeof(sets) / sizeof(sets[0])) {
				cli_err("ingest: too many --set options");
				return EXIT_USAGE;
			}
			sets[n_sets++] = optarg;
			break;
		case O_IPUB: cfg.integrity_pubkey = optarg; break;
		case O_IMD: cfg.integrity_sig_md = optarg; break;
		case 'n': check_only = 1; break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		case O_DURATION: case O_MAXPDU: case O_MAXTX: case O_IDLE: case O_PDUTO:
		case O_MAXC: case O_MAXCP: case O_IRET: case O_FLUSH: case O_ROTATE:
		case O_DRAIN: case O_STOPRETRY: case O_MEMBUDGET: case O_WORKERS:
			if (num(optarg, &v) != 0 || v > 0xffffffffull * 16) {
				cli_err("ingest: bad number '%s' for --%s", optarg, opts[c - O_HI2].name);
				return EXIT_USAGE;
			}
			if (c == O_DURATION) duration = v;
			else if (c == O_MAXPDU) cfg.max_pdu = (size_t)v;
			else if (c == O_MAXTX) cfg.max_tx_buf = (size_t)v;
			else if (c == O_IDLE) cfg.idle_timeout_ms = (unsigned)(v * 1000);
			else if (c == O_PDUTO) cfg.pdu_timeout_ms = (unsigned)(v * 1000);
			else if (c == O_MAXC) cfg.max_conns = (unsigned)v;
			else if (c == O_MAXCP) cfg.max_conns_per_peer = (unsigned)v;
			else if (c == O_IRET) cfg.integrity_retain = (size_t)v;
			else if (c == O_FLUSH) cfg.flush_ms = (unsigned)v;
			else if (c == O_MEMBUDGET) { cfg.memory_budget = (size_t)v; membudget_set = 1; }
			else if (c == O_WORKERS) {
				if (v == 0 || v > INGEST_WORKERS_MAX) {
					cli_err("ingest: --workers takes 1 to %d", INGEST_WORKERS_MAX);
					return EXIT_USAGE;
				}
				cfg.workers = (unsigned)v;
			}
			else if (c == O_DRAIN || c == O_STOPRETRY) {
				if (v == 0 || v > 3600) {
					cli_err("ingest: --%s takes 1 to 3600 seconds", c == O_DRAIN ? "drain-timeout" : "stop-retry");
					return EXIT_USAGE;
				}
				if (c == O_DRAIN)
					cfg.drain_ms = (unsigned)(v * 1000);
				else
					cfg.stop_nospace_ms = (unsigned)(v * 1000);
			}
			else so.rotate_bytes = (size_t)v;
			break;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		cli_err("ingest: unexpected argument '%s'; run 'lacre help ingest'", argv[optind]);
		return EXIT_USAGE;
	}
	if (no_confine && run_as) {
		cli_err("ingest: --run-as and --no-confine together: the user change is part of the confinement; drop one");
		return EXIT_USAGE;
	}
	/* a site, unless an explicit raw spool was asked for */
	use_site = !spool && site;
	if (use_site) {
		int ex = cli_open_site(site, &st);
		if (ex != EXIT_OK)
			return ex;
		for (size_t i = 0; i < n_sets; i++)
			if (site_config_set_arg(&st.cfg, sets[i], site_msg, sizeof(site_msg)) != LACRE_OK) {
				cli_err("ingest: --set %s: %s", sets[i], site_msg);
				return EXIT_USAGE;
			}
		/* --receiver NAME (or ingest.receiver): this receiver's own log,
		 * spool, state and listeners (lacre/ingest_logs.h) */
		if (site_receiver_select(&st, receiver, site_msg, sizeof(site_msg)) != LACRE_OK) {
			cli_err("ingest: --receiver: %s", site_msg);
			return EXIT_USAGE;
		}
		if (site_config_check(&st.cfg, site_msg, sizeof(site_msg)) != LACRE_OK) {
			cli_err("ingest: %s/%s: %s", st.dir, SITE_CONF, site_msg);
			return EXIT_USAGE;
		}
		/* ingest.user: whom a receiver started as root becomes; --run-as
		 * wins, --no-confine keeps the user (and says so loudly) */
		if (!run_as && !no_confine && geteuid() == 0 && st.cfg.ingest_user[0])
			run_as = st.cfg.ingest_user;
		/* the site's listeners and TLS unless the command line says otherwise */
		if (!cfg.hi2_addr && !cfg.hi3_addr) {
			cfg.hi2_addr = st.cfg.hi2;
			cfg.hi3_addr = st.cfg.hi3;
		}
		if (st.cfg.tls_enable) {
			cfg.hi2_tls = cfg.hi3_tls = 1;
			if (!cfg.tls_cert && st.cfg.tls_cert[0])
				cfg.tls_cert = st.cfg.tls_cert;
			if (!cfg.tls_key && st.cfg.tls_key[0])
				cfg.tls_key = st.cfg.tls_key;
			if (!cfg.tls_client_ca && st.cfg.tls_client_ca[0])
				cfg.tls_client_ca = st.cfg.tls_client_ca;
			if (st.cfg.tls_require_client_cert)
				cfg.tls_require_client_cert = 1;
		}
		if (st.cfg.max_connections)
			cfg.max_conns = (unsigned)st.cfg.max_connections;
		if (st.cfg.max_pdu_bytes)
			cfg.max_pdu = (size_t)st.cfg.max_pdu_bytes;
		if (st.cfg.idle_timeout_ms)
			cfg.idle_timeout_ms = (unsigned)st.cfg.idle_timeout_ms;
		if (st.cfg.memory_budget && !membudget_set)
			cfg.memory_budget = (size_t)st.cfg.memory_budget;
		if (st.cfg.ingest_workers && !cfg.workers)
			cfg.workers = (unsigned)st.cfg.ingest_workers;
		/* operators: each connection authenticated to one (op_auth.c) */
		cfg.operators = st.cfg.n_operators ? st.cfg.operators : NULL;
		cfg.n_operators = st.cfg.n_operators;
		warn_unknown_operators(&st);
		/* handover decryption keys: the receiver's (transport keys) */
		if (load_site_hkeys(&st.cfg, g_hkeys, &cfg.n_hkeys) != LACRE_OK) {
			wipe_hkeys(g_hkeys, INGEST_HKEY_OPS);
			return EXIT_USAGE;
		}
		cfg.hkeys = cfg.n_hkeys ? g_hkeys : NULL;
	} else if (n_sets || receiver) {
		cli_err("ingest: --%s needs a site (--site DIR or LACRE_SITE)", n_sets ? "set" : "receiver");
		{ rc = EXIT_USAGE; goto done; }
	}
	if (!cfg.hi2_addr && !cfg.hi3_addr) {
		cli_err("ingest: no listener: give --hi2 IP:PORT and/or --hi3 IP:PORT, or --site DIR");
		{ rc = EXIT_USAGE; goto done; }
	}
	if (cfg.max_pdu < 64 || cfg.max_pdu > ((size_t)1 << 30)) {
		cli_err("ingest: --max-pdu must be between 64 bytes and 1G");
		{ rc = EXIT_USAGE; goto done; }
	}
	if (cfg.memory_budget / 2 < cfg.max_pdu) {
		cli_err("ingest: --memory-budget (%zu bytes) must be at least twice --max-pdu (%zu bytes), "
		        "or one largest PDU could never be received beside others; raise it",
		        cfg.memory_budget, cfg.max_pdu);
		{ rc = EXIT_USAGE; goto done; }
	}
	if (!spool && !use_site) {
		cli_err("ingest: nowhere to keep records: give --site DIR (or set LACRE_SITE), or --spool DIR");
		{ rc = EXIT_USAGE; goto done; }
	}
	/* the stream state: beside the site's ledger, never in the spool */
	if (!state && use_site) {
		if (site_ingest_statefile(&st, st.cfg.ingest_receiver, "streams.state", state_path,
					  sizeof(state_path)) != LACRE_OK) {
			cli_err("ingest: the site path %s is too long", st.dir);
			{ rc = EXIT_USAGE; goto done; }
		}
		state = state_path;
	}
	if (state && path_inside(state, use_site ? st.cfg.spool_dir : spool)) {
		cli_err("ingest: --state %s lies inside the spool, which is uploaded: put it elsewhere", state);
		{ rc = EXIT_USAGE; goto done; }
	}
	cfg.state_path = state;
	/* a record may stay unsealed for an open segment's age limit and a
	 * flush: the state names what a crash may have lost within that */
	if (use_site)
		cfg.state_lag_ms = (unsigned)st.cfg.segment_max_age_ms + cfg.flush_ms + 1000;
	if (check_only) {
		printf("ingest: configuration ok (hi2 %s%s, hi3 %s%s, %s %s)\n",
		       cfg.hi2_addr ? cfg.hi2_addr : "-", cfg.hi2_tls ? " tls" : "",
		       cfg.hi3_addr ? cfg.hi3_addr : "-", cfg.hi3_tls ? " tls" : "",
		       use_site ? "site" : "raw spool", use_site ? st.dir : spool);
		if (use_site && st.cfg.ingest_receiver[0]) {
			char origin[NOTE_NAME_MAX + 1];
			if (site_ingest_origin(&st, st.cfg.ingest_receiver, origin, sizeof(origin)) == LACRE_OK)
				printf("receiver %s: ingest log %s, spool %s\n", st.cfg.ingest_receiver, origin,
				       st.cfg.spool_dir);
		}
		for (size_t i = 0; use_site && i < st.cfg.n_operators; i++) {
			const struct site_operator *op = &st.cfg.operators[i];
			printf("operator %s:%s%s%s\n", op->name,
			       op->n_fps ? " certificate fingerprint" : "",
			       (op->set & SITE_OP_CA) ? " CA and subject" : "",
			       op->n_nets ? " source address" : "");
		}
		if (use_site) {
			/* the backend must answer (an s3 bucket is made if absent) */
			if ((r = site_store_check(&st, site_msg, sizeof(site_msg))) != LACRE_OK) {
				cli_err("ingest: %s", site_msg);
				{ rc = EXIT_FAIL; goto done; }
			}
			printf("ingest: backend %s answers\n", st.cfg.backend);
		}
		{ rc = EXIT_OK; goto done; }
	}
	if (state == state_path) {
		char sd[4200];
		snprintf(sd, sizeof(sd), "%s/state", st.dir);
		if (mkdir(sd, LACRE_MODE_GROUP_DIR) == 0)
			give_to_run_as(sd, no_confine ? NULL : run_as);
		else if (errno != EEXIST) {
			cli_err("ingest: cannot create %s: %s; check the site folder's permissions", sd, strerror(errno));
			{ rc = EXIT_FAIL; goto done; }
		}
	}
	/* one receiver per log, spool and state file: refuse a second one */
	if (use_site && (r = receiver_lock(&st, state, no_confine ? NULL : run_as, locks)) != LACRE_OK)
		{ rc = EXIT_FAIL; goto done; }
	/* with ledger.signer the key is lacre-signer's: never made or read here */
	if (use_site && !st.cfg.ledger_signer[0] && (r = ensure_log_key(&st, no_confine ? NULL : run_as)) != LACRE_OK)
		{ rc = EXIT_FAIL; goto done; }
	/* the listeners first (the sink is filled in once confined: the server
	 * only keeps its address until it runs) */
	memset(&sink, 0, sizeof(sink));
	sink.record = sink_not_open;
	memset(&g_status, 0, sizeof(g_status));
	g_status.vault = use_site ? &sink : NULL;   /* filled by seal_sink_open below */
	g_status.started_us = wall_now_us();
	if (status)
		snprintf(g_status.path, sizeof(g_status.path), "%s", status);
	else if (use_site)
		site_ingest_statefile(&st, st.cfg.ingest_receiver, "status.prom", g_status.path,
				      sizeof(g_status.path));
	if (g_status.path[0]) {
		cfg.on_second = status_tick;
		cfg.on_second_arg = &g_status;
	}
	if (cfg.workers == 0) {
		/* one event loop per online CPU (lib/ingest/worker.c) */
		long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
		cfg.workers = ncpu < 1 ? 1 : ncpu > INGEST_WORKERS_MAX ? INGEST_WORKERS_MAX : (unsigned)ncpu;
	}
	if ((r = ingest_server_new(&cfg, &sink, &g_server)) != LACRE_OK) {
		cli_err("ingest: cannot start the receiver: %s", lacre_strerror(r));
		rc = r == LACRE_E_CONFIG ? EXIT_USAGE : EXIT_FAIL;
		goto done;
	}
	/* a stop asked from here on (the ready file tells a script it may
	 * signal) is a clean stop: the loop sees it as soon as it runs */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGALRM, &sa, NULL);
	if (duration)
		alarm((unsigned)duration);
	/* what a confined receiver may no longer create: the ready file now,
	 * the stats file's descriptor (filled at exit) */
	if (ready && write_ready(g_server, ready) != LACRE_OK) {
		cli_err("ingest: cannot write the ready file %s; check its folder", ready);
		goto done;
	}
	if (stats && (stats_fd = open(stats, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644)) < 0) {
		cli_err("ingest: cannot create the stats file %s: %s; check its folder", stats, strerror(errno));
		goto done;
	}
	if (no_confine) {
		cli_err("ingest: WARNING: --no-confine: the receiver runs unconfined (same user, no Landlock, no seccomp); use it only to diagnose");
	} else {
		struct confine_opts co;
		char cmsg[512];
		static char p_status[4200];
		if ((r = confine_opts_fill(&co, use_site ? &st : NULL, spool, state, run_as)) != LACRE_OK)
			{ rc = EXIT_USAGE; goto done; }
		/* the status file is replaced (tmp + rename) in its folder */
		if (g_status.path[0]) {
			parent_dir(g_status.path, p_status, sizeof(p_status));
			if (confine_add_write(&co, p_status) != LACRE_OK)
				{ cli_err("ingest: too many paths to confine"); rc = EXIT_USAGE; goto done; }
		}
		if ((r = confine_apply(&co, &cs, cmsg, sizeof(cmsg))) != LACRE_OK) {
			cli_err("ingest: cannot confine the receiver: %s", cmsg);
			rc = r == LACRE_E_CONFIG ? EXIT_USAGE : EXIT_FAIL;
			goto done;
		}
		if (!cs.landlock_abi)
			cli_err("ingest: landlock is unavailable in this kernel: the receiver's file access is limited by its user only");
	}
	if (use_site) {
		site_msg[0] = 0;
		if ((r = seal_sink_open(&st, &sink, site_msg, sizeof(site_msg))) != LACRE_OK) {
			cli_err("ingest: cannot start sealing for site %s: %s", st.dir, site_msg);
			{ rc = EXIT_FAIL; goto done; }
		}
		spool = st.cfg.spool_dir;
	} else if ((r = ingest_spool_sink_open(spool, &so, &sink)) != LACRE_OK) {
		cli_err("ingest: cannot open the spool %s: %s; check the directory and its permissions",
		        spool, lacre_strerror(r));
		{ rc = EXIT_FAIL; goto done; }
	}
	sink_open = 1;
	if (!cfg.quiet) {
		char line[512];
		confine_state_line(&cs, line, sizeof(line));
		fprintf(stderr, "lacre: ingest: listening hi2 port %d, hi3 port %d, spool %s\n",
		        ingest_server_port(g_server, LACRE_HI2), ingest_server_port(g_server, LACRE_HI3), spool);
		fprintf(stderr, "lacre: ingest: confinement: %s\n", line);
	}
	/* tests/e2e/confine.sh: try what a confined receiver must not do */
	confine_probe(use_site ? st.dir : NULL);
	r = ingest_server_run(g_server);
	rc = r == LACRE_OK ? EXIT_OK : EXIT_FAIL;
	if (stats_fd >= 0 && write_stats(g_server, use_site ? &sink : NULL, &cs, stats_fd) != LACRE_OK) {
		cli_err("ingest: cannot write the stats file %s", stats);
		rc = EXIT_FAIL;
	}
	/* the sink seals its last segments in close(); only then, and only
	 * if that worked, is every record counted kept */
	r2 = sink.close(sink.ctx);
	sink_open = 0;
	if (r2 != LACRE_OK)
		rc = EXIT_FAIL;
	if (r == LACRE_OK)
		ingest_server_state_save(g_server, r2 == LACRE_OK);
done:
	if (g_server) {
		struct ingest_server *s = g_server;
		g_server = NULL;
		ingest_server_free(s);
	}
	if (sink_open)
		sink.close(sink.ctx);
	if (stats_fd >= 0)
		close(stats_fd);
	for (size_t i = 0; i < 2; i++)
		if (locks[i] >= 0)
			close(locks[i]);
	wipe_hkeys(g_hkeys, cfg.n_hkeys);
	return rc;
}

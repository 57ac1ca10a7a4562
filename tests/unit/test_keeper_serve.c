/*
 * test_keeper_serve.c - the keeper as a service (lib/keeper/server.c) and
 * its client (lib/proto/client.c) over a real Unix socket, and the frames
 * both speak (lib/proto/frame.c).
 *
 * A keeper runs in a child process of this test (keeper_serve with a run
 * function of the test's own that prints, writes the --output file and,
 * for "records", passes the audit-first gate so that the access event is
 * signed by the client through the keeper).  The client is checked for
 * what it prints and writes and for its exit status; every refusal
 * (unknown user, forged signature, disabled user, a command outside the
 * allow-list, a replayed, stale, empty, oversized, malformed or unsigned
 * request) answers exit status 1 with its own stderr line.  The service
 * refuses to start where it must not (a keeper already listening, a path
 * that is not a socket, a missing or world-writable folder, a path too
 * long for a socket, a ready file it cannot write) and stops on SIGTERM
 * removing its socket; a keeper whose work folder is gone refuses each
 * request with a line saying so.  Against a
 * fake keeper the client refuses an unknown frame type, a malformed exit
 * frame, a file it did not ask for and an answer cut short; keeps the
 * output file only on exit status 0; signs only its own user's access
 * requests.
 *
 * Coverage note: the keeper's handler and worker processes leave with
 * _exit(), which skips gcov's exit-time write of the line counters.  This
 * test defines _exit (the library's calls resolve to it when statically
 * linked into this binary): in a --coverage build (detected by a weak
 * reference to gcov's __gcov_merge_add, which every instrumented object
 * pulls in) it leaves through exit(), whose exit-time handlers write the
 * counters (the keeper flushes stdio before every fork, so nothing is
 * written twice); in the normal and ASan builds it ends the process as
 * _exit does.  So `make coverage` counts what those processes ran.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <pthread.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "harness.h"
#include "lacre/accesslog.h"
#include "lacre/acl.h"
#include "lacre/age.h"
#include "lacre/ed25519.h"
#include "lacre/err.h"
#include "lacre/keeper.h"
#include "keeper/keystore.h"
#include "keeper/passphrase.h"
#include "lacre/site.h"
#include "lacre/store.h"
#include "lacre/users.h"
#include "lacre/warrant.h"
#include "keeper/warrant_log.h"

/* Part of gcov's runtime (only in a --coverage build). */
extern void __gcov_merge_add(void *, unsigned) __attribute__((weak));

/* See the coverage note above: _exit, with the counters written first. */
void _exit(int status)
{
	if (__gcov_merge_add)
		exit(status);
	for (;;)
		syscall(SYS_exit_group, status);
}

static struct site site;
static struct user_key admin, ana, eva;
static char wid[WARRANT_ID_MAX];
static char tdir[512];            /* this test's folder (make_site) */
static char sock[600], ready[600], work[600];
static pid_t keeper_pid = -1;

/* A site with a warrant of unit UCO-1, the access log's auditor key, and
 * users root (admin), ana (investigator, UCO-1) and eva (disabled). */
static int make_site(void)
{
	struct site_config c;
	struct keystore *ks = NULL;
	struct age_x25519_identity a;
	struct warrant w;
	uint8_t master[32], seed[32];
	char dir[600], msg[SITE_MSG_MAX];
	int r;

	snprintf(tdir, sizeof(tdir), "%s", t_tmpdir());
	snprintf(sock, sizeof(sock), "%s/k.sock", tdir);
	snprintf(ready, sizeof(ready), "%s/ready", tdir);
	snprintf(work, sizeof(work), "%s/work", tdir);
	snprintf(dir, sizeof(dir), "%s/site", tdir);
	site_config_defaults(&c, dir);
	c.scrypt_log2n = 10;
	memset(&a, 0, sizeof(a));
	memset(seed, 0, sizeof(seed));
	if ((r = site_create(dir, &c, "pw", &site, msg, sizeof(msg))) != LACRE_OK ||
	    (r = site_master_unlock(&site, "pw", master)) != LACRE_OK ||
	    (r = keystore_open(&site, master, &ks)) != LACRE_OK)
		return r;
	OPENSSL_cleanse(master, sizeof(master));
	memset(&w, 0, sizeof(w));
	snprintf(w.case_id, sizeof(w.case_id), "DP 1/2026");
	snprintf(w.unit, sizeof(w.unit), "UCO-1");
	snprintf(w.court, sizeof(w.court), "JI 5 Madrid");
	snprintf(w.periods[0].order_id, sizeof(w.periods[0].order_id), "Auto 1");
	warrant_time_parse("2026-11-01", &w.periods[0].order_date);
	w.periods[0].from = w.periods[0].order_date;
	warrant_time_parse("2027-01-31", &w.periods[0].to);
	w.n_periods = 1;
	w.categories = WARRANT_CAT_IRI;
	snprintf(w.targets[0], sizeof(w.targets[0]), "X");
	w.n_targets = 1;
	snprintf(w.liids[0], sizeof(w.liids[0]), "LIID1");
	w.n_liids = 1;
	if ((r = warrant_add(&site, ks, &w, wid, msg, sizeof(msg))) != LACRE_OK ||
	    (r = keystore_get_secret(ks, SITE_SIGNER_KEY, seed, NULL)) != LACRE_OK ||
	    (r = age_x25519_generate(&a)) != LACRE_OK ||
	    (r = keystore_put(ks, USERS_AUDITOR_KEY, &a, 0)) != LACRE_OK ||
	    (r = user_key_generate("root", &admin)) != LACRE_OK ||
	    (r = users_bootstrap(&site, seed, a.public_key, "root", "", admin.pub, msg,
				 sizeof(msg))) != LACRE_OK ||
	    (r = user_key_generate("ana", &ana)) != LACRE_OK ||
	    (r = users_add(&site, &admin, "ana", ACL_INVESTIGATOR, "UCO-1", ana.pub, msg,
			   sizeof(msg))) != LACRE_OK ||
	    (r = user_key_generate("eva", &eva)) != LACRE_OK ||
	    (r = users_add(&site, &admin, "eva", ACL_INVESTIGATOR, "UCO-1", eva.pub, msg,
			   sizeof(msg))) != LACRE_OK ||
	    (r = users_disable(&site, &admin, "eva", msg, sizeof(msg))) != LACRE_OK)
		fprintf(stderr, "make_site: %s\n", msg);
	OPENSSL_cleanse(seed, sizeof(seed));
	age_identity_wipe(&a);
	keystore_close(ks);
	return r;
}

/* The keeper's run function (in the worker): "export" passes the
 * audit-first gate as the request's user (the access event is signed by
 * the client) and prints the outcome; a command with --output writes
 * "report of USER\n" there; "calls" exits 4 with a line on stderr. */
static int run(void *arg, const char *user, int argc, char **argv)
{
	int idx = -1;

	(void)arg;
	printf("worker for %s:", user);
	for (int i = 0; i < argc; i++)
		printf(" [%s]", argv[i]);
	printf("\n");
	if (!strcmp(argv[0], "export")) {
		struct acl_session *ss = NULL;
		struct access_request rq = { "records", wid, "all", "DP 1/2026: transcription" };
		char msg[SITE_MSG_MAX];
		int r = acl_session_open(&site, NULL, &ss, msg, sizeof(msg));
		if (r == LACRE_OK)
			r = acl_authorize(ss, &rq, msg, sizeof(msg));
		acl_session_close(ss);
		printf("gate %s\n", r == LACRE_OK ? "passed" : msg);
		if (r != LACRE_OK)
			return 1;
	}
	for (int i = 1; i + 1 < argc; i++)
		if (!strcmp(argv[i], "--output"))
			idx = i + 1;
	if (idx > 0) {
		FILE *f = fopen(argv[idx], "w");
		if (!f)
			return 2;
		fprintf(f, "report of %s\n", user);
		fclose(f);
	}
	if (!strcmp(argv[0], "calls")) {
		fprintf(stderr, "calls: nothing to list\n");
		return 4;
	}
	return 0;
}

static int stop_keeper(void);

/* Start a keeper in a child process and wait (deadline 20 s) for its
 * ready file.  The child leaves with exit() so that its counters are
 * written. */
static int start_keeper(void)
{
	struct keeper_config cfg;
	struct stat sb;

	if (keeper_pid > 0)
		stop_keeper();                  /* one left by a failed test */
	unlink(ready);
	if (mkdir(work, 0700) != 0 && errno != EEXIST)
		return LACRE_E_IO;
	fflush(NULL);
	if ((keeper_pid = fork()) < 0)
		return LACRE_E_IO;
	if (keeper_pid == 0) {
		char msg[SITE_MSG_MAX];
		int r;
		memset(&cfg, 0, sizeof(cfg));
		cfg.site = &site;
		cfg.socket_path = sock;
		cfg.ready_file = ready;
		cfg.work_dir = work;
		cfg.run = run;
		cfg.quiet = 1;
		r = keeper_serve(&cfg, msg, sizeof(msg));
		if (r != LACRE_OK)
			fprintf(stderr, "keeper: %s\n", msg);
		exit(r == LACRE_OK ? 0 : 3);
	}
	for (int i = 0; i < 2000; i++) {
		struct timespec ts = { 0, 10 * 1000000L };
		if (stat(ready, &sb) == 0)
			return LACRE_OK;
		nanosleep(&ts, NULL);
	}
	return LACRE_E_TIMEOUT;
}

/* Stop the keeper with SIGTERM; its exit status (-1: did not exit). */
static int stop_keeper(void)
{
	int st = 0;

	if (keeper_pid <= 0)
		return -1;
	kill(keeper_pid, SIGTERM);
	if (waitpid(keeper_pid, &st, 0) != keeper_pid) {
		keeper_pid = -1;
		return -1;
	}
	keeper_pid = -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* What the client printed. */
static char out_text[8192], err_text[8192];

/* Read file path (at most cap - 1 bytes) into buf as a string. */
static void slurp(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "r");
	size_t n = 0;

	if (f) {
		n = fread(buf, 1, cap - 1, f);
		fclose(f);
	}
	buf[n] = 0;
}

/* accesslog_audit_print of the site into buf (cap bytes); its result. */
static int audit_print(char *buf, size_t cap)
{
	struct lacre_store *st = NULL;
	char p[700];
	FILE *f;
	int r;

	snprintf(p, sizeof(p), "%s/audit.txt", tdir);
	if ((r = lacre_store_open(site.cfg.backend, &st)) != LACRE_OK)
		return r;
	if ((f = fopen(p, "w")) == NULL) {
		lacre_store_close(st);
		return LACRE_E_IO;
	}
	r = accesslog_audit_print(&site, st, f);
	fclose(f);
	lacre_store_close(st);
	slurp(p, buf, cap);
	return r;
}

/* Run the client as k with argv; stdout and stderr are captured into
 * out_text and err_text.  Returns keeper_client_run's result. */
static int client(const struct user_key *k, int argc, char **argv, int *status, char *msg,
		  size_t msglen)
{
	char po[600], pe[600];
	int so, se, fo, fe, r;

	snprintf(po, sizeof(po), "%s/client.out", tdir);
	snprintf(pe, sizeof(pe), "%s/client.err", tdir);
	fflush(NULL);
	fo = open(po, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	fe = open(pe, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	so = dup(1);
	se = dup(2);
	dup2(fo, 1);
	dup2(fe, 2);
	r = keeper_client_run(sock, k, argc, argv, status, msg, msglen);
	fflush(NULL);
	dup2(so, 1);
	dup2(se, 2);
	close(so);
	close(se);
	close(fo);
	close(fe);
	slurp(po, out_text, sizeof(out_text));
	slurp(pe, err_text, sizeof(err_text));
	return r;
}

/* Send raw bytes to the keeper (shutting down the write side) and read
 * its answer: the stderr text into err_text and the exit status. */
static int raw(const void *p, size_t n, int *status)
{
	struct sockaddr_un a;
	uint8_t b[4096], t;
	size_t got, el = 0;
	int fd, r;

	memset(&a, 0, sizeof(a));
	a.sun_family = AF_UNIX;
	if (strlen(sock) >= sizeof(a.sun_path))
		return LACRE_E_TOO_LARGE;
	memcpy(a.sun_path, sock, strlen(sock) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0)
		return LACRE_E_IO;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		close(fd);
		return LACRE_E_UNAVAILABLE;
	}
	if (n && keeper_write_full(fd, p, n) != LACRE_OK) {
		close(fd);
		return LACRE_E_IO;
	}
	shutdown(fd, SHUT_WR);
	err_text[0] = 0;
	*status = -1;
	for (;;) {
		if ((r = keeper_frame_read(fd, 20000, &t, b, sizeof(b), &got)) != LACRE_OK)
			break;
		if (t == KEEPER_F_STDERR && el + got < sizeof(err_text)) {
			memcpy(err_text + el, b, got);
			el += got;
			err_text[el] = 0;
		}
		if (t == KEEPER_F_EXIT && got == 1) {
			*status = b[0];
			break;
		}
	}
	close(fd);
	return r;
}

/* A length-prefixed request of k for argv at time t (microseconds) with
 * nonce nx into d. */
static int request(const struct user_key *k, int64_t t, const uint8_t nx[16], int argc,
		   char **argv, struct lacre_dbuf *d)
{
	struct lacre_dbuf q;
	int r;

	lacre_dbuf_init(&q, KEEPER_REQUEST_MAX + 1);
	lacre_dbuf_init(d, KEEPER_REQUEST_MAX + 8);
	r = keeper_request_encode(k, t, nx, argc, argv, &q);
	if (r == LACRE_OK)
		r = lacre_dbuf_add_u8(d, (uint8_t)(q.len >> 24));
	if (r == LACRE_OK)
		r = lacre_dbuf_add_u8(d, (uint8_t)(q.len >> 16));
	if (r == LACRE_OK)
		r = lacre_dbuf_add_u8(d, (uint8_t)(q.len >> 8));
	if (r == LACRE_OK)
		r = lacre_dbuf_add_u8(d, (uint8_t)q.len);
	if (r == LACRE_OK)
		r = lacre_dbuf_add(d, q.p, q.len);
	lacre_dbuf_free(&q);
	return r;
}

/* Whether folder dir holds n entries (besides . and ..) within ms
 * milliseconds (polled every 10 ms). */
static int entries_within(const char *dir, int n, long ms)
{
	for (long waited = 0;; waited += 10) {
		struct timespec ts = { 0, 10 * 1000000L };
		struct dirent *e;
		DIR *d = opendir(dir);
		int k = 0;
		if (!d)
			return 0;
		while ((e = readdir(d)) != NULL)
			k += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
		closedir(d);
		if (k == n)
			return 1;
		if (waited >= ms)
			return 0;
		nanosleep(&ts, NULL);
	}
}

static int64_t now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Frames over a socketpair: round trip, an empty frame, a length over the
 * cap, a header or payload cut by the end of stream, a clean end, a
 * timeout. */
static void test_frames(void)
{
	int sv[2];
	uint8_t t, b[64];
	size_t n;

	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	CHECK_OK(keeper_frame_write(sv[0], KEEPER_F_STDOUT, "hello", 5));
	CHECK_OK(keeper_frame_write(sv[0], KEEPER_F_EXIT, NULL, 0));
	CHECK_OK(keeper_frame_read(sv[1], 1000, &t, b, sizeof(b), &n));
	CHECK_EQ_INT(t, 'O');
	CHECK_EQ_INT(n, 5);
	CHECK_MEM(b, "hello", 5);
	CHECK_OK(keeper_frame_read(sv[1], -1, &t, b, sizeof(b), &n));
	CHECK_EQ_INT(t, 'X');
	CHECK_EQ_INT(n, 0);
	/* nothing arrives: a timeout */
	CHECK_EQ_INT(keeper_frame_read(sv[1], 50, &t, b, sizeof(b), &n), LACRE_E_TIMEOUT);
	/* a frame longer than the reader's buffer */
	CHECK_OK(keeper_frame_write(sv[0], KEEPER_F_STDERR, "0123456789", 10));
	CHECK_EQ_INT(keeper_frame_read(sv[1], 1000, &t, b, 4, &n), LACRE_E_TOO_LARGE);
	/* a length over KEEPER_FRAME_MAX whatever the buffer */
	CHECK_OK(keeper_write_full(sv[0], "O\x00\x01\x00\x01", 5));
	CHECK_EQ_INT(keeper_frame_read(sv[1], 1000, &t, b, SIZE_MAX, &n), LACRE_E_TOO_LARGE);
	close(sv[0]);
	close(sv[1]);
	/* cut inside the payload, inside the header, and a clean end */
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	CHECK_OK(keeper_write_full(sv[0], "O\x00\x00\x00\x08" "abc", 8));
	shutdown(sv[0], SHUT_WR);
	CHECK_EQ_INT(keeper_frame_read(sv[1], 1000, &t, b, sizeof(b), &n), LACRE_E_TRUNCATED);
	close(sv[0]);
	close(sv[1]);
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	CHECK_OK(keeper_write_full(sv[0], "O\x00\x00\x00\x08", 5));
	shutdown(sv[0], SHUT_WR);
	CHECK_EQ_INT(keeper_frame_read(sv[1], 1000, &t, b, sizeof(b), &n), LACRE_E_TRUNCATED);
	close(sv[0]);
	close(sv[1]);
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	CHECK_OK(keeper_write_full(sv[0], "O\x00", 2));
	shutdown(sv[0], SHUT_WR);
	CHECK_EQ_INT(keeper_frame_read(sv[1], -1, &t, b, sizeof(b), &n), LACRE_E_TRUNCATED);
	CHECK_EQ_INT(keeper_frame_read(sv[1], -1, &t, b, sizeof(b), &n), LACRE_E_INCOMPLETE);
	close(sv[1]);
	/* a write to a closed peer fails (SIGPIPE ignored) */
	signal(SIGPIPE, SIG_IGN);
	CHECK_EQ_INT(keeper_frame_write(sv[0], KEEPER_F_STDOUT, "x", 1), LACRE_E_IO);
	close(sv[0]);
}

/* Which socket the CLI uses: explicit, $LACRE_KEEPER, SITE/keeper.sock
 * when it is a socket; "off" and nothing found are NOT_FOUND. */
static void test_client_socket(void)
{
	char out[64], dir[600], p[700];
	FILE *f;

	unsetenv(KEEPER_ENV);
	CHECK_OK(keeper_client_socket("/run/k.sock", "/site", out, sizeof(out)));
	CHECK_STR(out, "/run/k.sock");
	CHECK_EQ_INT(keeper_client_socket(NULL, NULL, out, sizeof(out)), LACRE_E_NOT_FOUND);
	snprintf(dir, sizeof(dir), "%s/nosock", t_tmpdir());
	CHECK(mkdir(dir, 0700) == 0);
	CHECK_EQ_INT(keeper_client_socket(NULL, dir, p, sizeof(p)), LACRE_E_NOT_FOUND);
	/* a regular file where the socket should be is not a keeper */
	snprintf(p, sizeof(p), "%s/%s", dir, KEEPER_SOCKET);
	CHECK((f = fopen(p, "w")) != NULL);
	fclose(f);
	CHECK_EQ_INT(keeper_client_socket("", dir, p, sizeof(p)), LACRE_E_NOT_FOUND);
	CHECK(setenv(KEEPER_ENV, "/env/k.sock", 1) == 0);
	CHECK_OK(keeper_client_socket(NULL, dir, out, sizeof(out)));
	CHECK_STR(out, "/env/k.sock");
	CHECK_OK(keeper_client_socket("/x.sock", dir, out, sizeof(out)));
	CHECK_STR(out, "/x.sock");
	CHECK_EQ_INT(keeper_client_socket(NULL, dir, out, 4), LACRE_E_TOO_LARGE);
	CHECK(setenv(KEEPER_ENV, "off", 1) == 0);
	CHECK_EQ_INT(keeper_client_socket(NULL, dir, out, sizeof(out)), LACRE_E_NOT_FOUND);
	CHECK_OK(keeper_client_socket("/y.sock", dir, out, sizeof(out)));
	CHECK_STR(out, "/y.sock");
	unsetenv(KEEPER_ENV);
}

/* A served request end to end: the worker runs as the authenticated
 * user with --site appended and the output path replaced by its private
 * one; the access event is signed by the client; stdout, the output file
 * and the exit status reach the client. */
static void test_serve(void)
{
	char *argv1[] = { "export", "--warrant", wid, "--output", NULL, NULL };
	char *argv2[] = { "calls", "--warrant", wid, NULL };
	char outp[600], msg[SITE_MSG_MAX], buf[256], want[1200];
	struct stat sb;
	int st = -1;

	CHECK_OK(make_site());
	CHECK_OK(start_keeper());
	CHECK(stat(sock, &sb) == 0 && S_ISSOCK(sb.st_mode));
	CHECK_EQ_INT(sb.st_mode & 0777, 0660);
	slurp(ready, buf, sizeof(buf));
	snprintf(want, sizeof(want), "socket=%s\n", sock);
	CHECK(strncmp(buf, want, strlen(want)) == 0);
	snprintf(outp, sizeof(outp), "%s/report.txt", tdir);
	argv1[4] = outp;
	CHECK_OK(client(&ana, 5, argv1, &st, msg, sizeof(msg)));
	CHECK_EQ_INT(st, 0);
	CHECK(strstr(out_text, "worker for ana: [export] [--warrant]") != NULL);
	CHECK(strstr(out_text, "gate passed\n") != NULL);
	/* the keeper gave the worker --site and its own output path */
	snprintf(want, sizeof(want), "[--site] [%s]", site.dir);
	CHECK(strstr(out_text, want) != NULL);
	CHECK(strstr(out_text, outp) == NULL);
	slurp(outp, buf, sizeof(buf));
	CHECK_STR(buf, "report of ana\n");
	CHECK(stat(outp, &sb) == 0);
	CHECK_EQ_INT(sb.st_mode & 0777, 0600);
	/* the output exists now: the client refuses before asking */
	CHECK_EQ_INT(client(&ana, 5, argv1, &st, msg, sizeof(msg)), LACRE_E_EXISTS);
	CHECK(strstr(msg, "exists; give a new file name") != NULL);
	/* the worker's stderr and exit status reach the client */
	CHECK_OK(client(&ana, 3, argv2, &st, msg, sizeof(msg)));
	CHECK_EQ_INT(st, 4);
	CHECK(strstr(err_text, "calls: nothing to list") != NULL);
	/* the handler removes each request's work folder after its exit
	 * frame: wait for that (deadline 10 s) */
	CHECK(entries_within(work, 0, 10000));
	CHECK_EQ_INT(stop_keeper(), 0);
	CHECK(stat(sock, &sb) != 0);
	/* the gate's entry made by the worker is in an intact access log */
	{
		char text[4096];
		CHECK_OK(audit_print(text, sizeof(text)));
		CHECK(strstr(text, "audited access log ") != NULL);
		CHECK(strstr(text, "INTACT") != NULL);
	}
	/* no keeper: the client says so */
	CHECK_EQ_INT(client(&ana, 3, argv2, &st, msg, sizeof(msg)), LACRE_E_UNAVAILABLE);
	CHECK(strstr(msg, "cannot reach the keeper") != NULL);
	CHECK_EQ_INT(st, 1);
}

/* Refusals through the client: each exit status 1 with its own line. */
static void test_refusals(void)
{
	char *argv[] = { "calls", "--warrant", wid, NULL };
	char *bad[] = { "user", "list", NULL };
	char *site_opt[] = { "calls", "--site", "/elsewhere", NULL };
	char *rec_out[] = { "records", "--output", NULL, NULL };
	char outp[600];
	struct user_key zoe, fake;
	char msg[SITE_MSG_MAX];
	int st = -1;

	CHECK_OK(make_site());
	CHECK_OK(start_keeper());
	CHECK_OK(user_key_generate("zoe", &zoe));
	CHECK_OK(user_key_generate("ana", &fake));
	CHECK_OK(client(&zoe, 3, argv, &st, msg, sizeof(msg)));
	CHECK_EQ_INT(st, 1);
	CHECK(strstr(err_text, "refused: no user 'zoe' on this site") != NULL);
	CHECK_OK(client(&fake, 3, argv, &st, msg, sizeof(msg)));
	CHECK_EQ_INT(st, 1);
	CHECK(strstr(err_text, "signature does not verify with the key of user 'ana'") != NULL);
	CHECK_OK(client(&eva, 3, argv, &st, msg, sizeof(msg)));
	CHECK_EQ_INT(st, 1);
	CHECK(strstr(err_text, "refused: user 'eva' is disabled") != NULL);
	CHECK_OK(client(&ana, 2, bad, &st, msg, sizeof(msg)));
	CHECK_EQ_INT(st, 1);
	CHECK(strstr(err_text, "keeper: refused: ") != NULL);
	CHECK(strstr(out_text, "worker") == NULL);
	CHECK_OK(client(&ana, 3, site_opt, &st, msg, sizeof(msg)));
	CHECK_EQ_INT(st, 1);
	CHECK(strstr(err_text, "--site") != NULL);
	CHECK(strstr(out_text, "worker") == NULL);
	/* a command that writes no file is not given one */
	snprintf(outp, sizeof(outp), "%s/r.txt", tdir);
	rec_out[2] = outp;
	CHECK_OK(client(&ana, 3, rec_out, &st, msg, sizeof(msg)));
	CHECK_EQ_INT(st, 1);
	CHECK(strstr(err_text, "refused: records writes no file: --output is not accepted") != NULL);
	CHECK(access(outp, F_OK) != 0);
	user_key_wipe(&zoe);
	user_key_wipe(&fake);
	CHECK_EQ_INT(stop_keeper(), 0);
}

/* Raw requests: replayed, stale, empty, oversized, malformed, unsigned,
 * and a connection that closes before sending anything. */
static void test_raw_requests(void)
{
	char *argv[] = { "calls", "--warrant", wid, NULL };
	struct lacre_dbuf d, u;
	uint8_t nx[16];
	int st = -1;
	const char *unsigned_rq = "lacre-keeper-request/v1\nuser ana\ntime 1\n";
	uint8_t hdr[4];

	CHECK_OK(make_site());
	CHECK_OK(start_keeper());
	CHECK(RAND_bytes(nx, 16) == 1);
	CHECK_OK(request(&ana, now(), nx, 3, argv, &d));
	CHECK_OK(raw(d.p, d.len, &st));
	CHECK_EQ_INT(st, 4);                     /* served: the worker's status */
	CHECK_OK(raw(d.p, d.len, &st));
	CHECK_EQ_INT(st, 1);
	CHECK(strstr(err_text, "refused: replayed request") != NULL);
	lacre_dbuf_free(&d);
	/* ten minutes old */
	CHECK(RAND_bytes(nx, 16) == 1);
	CHECK_OK(request(&ana, now() - 600LL * 1000000, nx, 3, argv, &d));
	CHECK_OK(raw(d.p, d.len, &st));
	CHECK_EQ_INT(st, 1);
	CHECK(strstr(err_text, "more than 120 s from the keeper's clock") != NULL);
	lacre_dbuf_free(&d);
	/* empty, and over 64 KiB */
	CHECK_OK(raw("\0\0\0\0", 4, &st));
	CHECK_EQ_INT(st, 1);
	CHECK(strstr(err_text, "the request is empty or larger than 64 KiB") != NULL);
	CHECK_OK(raw("\0\x01\0\x01", 4, &st));
	CHECK_EQ_INT(st, 1);
	CHECK(strstr(err_text, "the request is empty or larger than 64 KiB") != NULL);
	/* announced longer than sent */
	CHECK_OK(raw("\0\0\0\x40" "abc", 7, &st));
	CHECK_EQ_INT(st, 1);
	CHECK(strstr(err_text, "the request did not arrive whole") != NULL);
	/* nothing at all */
	CHECK_OK(raw(NULL, 0, &st));
	CHECK_EQ_INT(st, 1);
	CHECK(strstr(err_text, "no request arrived") != NULL);
	/* garbage, and a request with no sig line (of a registered user: logged) */
	CHECK_OK(raw("\0\0\0\x05hello", 9, &st));
	CHECK_EQ_INT(st, 1);
	CHECK(strstr(err_text, "refused: unsigned request (no sig line)") != NULL);
	CHECK_OK(raw("\0\0\0\x0e" "hello\nsig 00\n\n", 18, &st));
	CHECK_EQ_INT(st, 1);
	CHECK(strstr(err_text, "refused: malformed request") != NULL);
	lacre_dbuf_init(&u, 1024);
	hdr[0] = hdr[1] = hdr[2] = 0;
	hdr[3] = (uint8_t)strlen(unsigned_rq);
	CHECK_OK(lacre_dbuf_add(&u, hdr, 4));
	CHECK_OK(lacre_dbuf_add_str(&u, unsigned_rq));
	CHECK_OK(raw(u.p, u.len, &st));
	CHECK_EQ_INT(st, 1);
	CHECK(strstr(err_text, "refused: ") != NULL);
	CHECK(strstr(err_text, "--user KEYFILE") != NULL);
	lacre_dbuf_free(&u);
	CHECK_EQ_INT(stop_keeper(), 0);
}

/* Where the keeper must not start: each with its code and message. */
static void test_start_refusals(void)
{
	struct keeper_config cfg;
	char msg[SITE_MSG_MAX], p[700], dir[600];
	FILE *f;

	CHECK_OK(make_site());
	CHECK_OK(start_keeper());
	memset(&cfg, 0, sizeof(cfg));
	cfg.site = &site;
	cfg.work_dir = work;
	cfg.run = run;
	cfg.quiet = 1;
	/* a keeper already listens there */
	cfg.socket_path = sock;
	CHECK_EQ_INT(keeper_serve(&cfg, msg, sizeof(msg)), LACRE_E_EXISTS);
	CHECK(strstr(msg, "a keeper already listens on") != NULL);
	CHECK_EQ_INT(stop_keeper(), 0);
	/* a regular file in the way */
	snprintf(p, sizeof(p), "%s/plain", tdir);
	CHECK((f = fopen(p, "w")) != NULL);
	fclose(f);
	cfg.socket_path = p;
	CHECK_EQ_INT(keeper_serve(&cfg, msg, sizeof(msg)), LACRE_E_EXISTS);
	CHECK(strstr(msg, "exists and is not a socket") != NULL);
	/* no such folder */
	snprintf(p, sizeof(p), "%s/nowhere/k.sock", tdir);
	CHECK_EQ_INT(keeper_serve(&cfg, msg, sizeof(msg)), LACRE_E_CONFIG);
	CHECK(strstr(msg, "does not exist") != NULL);
	/* a folder anyone may write */
	snprintf(dir, sizeof(dir), "%s/open", tdir);
	CHECK(mkdir(dir, 0777) == 0);
	CHECK(chmod(dir, 0777) == 0);
	snprintf(p, sizeof(p), "%s/k.sock", dir);
	CHECK_EQ_INT(keeper_serve(&cfg, msg, sizeof(msg)), LACRE_E_CONFIG);
	CHECK(strstr(msg, "writable by others") != NULL);
	/* longer than a socket address holds */
	memset(p, 'a', 200);
	p[0] = '/';
	p[200] = 0;
	CHECK_EQ_INT(keeper_serve(&cfg, msg, sizeof(msg)), LACRE_E_CONFIG);
	CHECK(strstr(msg, "give a shorter --socket") != NULL);
	/* the default socket SITE/keeper.sock, and a ready file that cannot be
	 * written: refused, the socket removed again */
	{
		char def[SITE_PATH_MAX + 32];
		struct stat sb;
		snprintf(def, sizeof(def), "%s/%s", site.dir, KEEPER_SOCKET);
		cfg.socket_path = NULL;
		cfg.ready_file = "/nonexistent-folder/ready";
		CHECK_EQ_INT(keeper_serve(&cfg, msg, sizeof(msg)), LACRE_E_IO);
		CHECK(strstr(msg, "cannot write the ready file /nonexistent-folder/ready") != NULL);
		CHECK(stat(def, &sb) != 0);
		cfg.ready_file = NULL;
	}
	/* the client too */
	{
		char *argv[] = { "calls", NULL };
		int st = 0;
		CHECK_EQ_INT(keeper_client_run(p, &ana, 1, argv, &st, msg, sizeof(msg)), LACRE_E_INVALID);
		CHECK(strstr(msg, "too long") != NULL);
	}
	/* a stale socket of a keeper that died is replaced */
	{
		struct sockaddr_un a;
		int fd = socket(AF_UNIX, SOCK_STREAM, 0);
		struct stat sb;
		CHECK(fd >= 0);
		memset(&a, 0, sizeof(a));
		a.sun_family = AF_UNIX;
		CHECK(strlen(sock) < sizeof(a.sun_path));
		memcpy(a.sun_path, sock, strlen(sock) + 1);
		CHECK(bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
		close(fd);                      /* bound, never listening: stale */
		CHECK(stat(sock, &sb) == 0);
		CHECK_OK(start_keeper());
		CHECK_EQ_INT(stop_keeper(), 0);
		CHECK(stat(sock, &sb) != 0);
	}
}

/* The unlock seam: the right passphrase opens the keystore, a wrong one
 * is LACRE_E_PASSPHRASE, no source at all LACRE_E_NOT_FOUND; the
 * passphrase never stays in the environment. */
static void test_unlock(void)
{
	struct passphrase_src src;
	struct keystore *ks = NULL;
	char msg[SITE_MSG_MAX], p[600];
	FILE *f;

	CHECK_OK(make_site());
	/* nothing accessed yet on this site */
	{
		char text[4096];
		CHECK_OK(audit_print(text, sizeof(text)));
		CHECK(strstr(text, "no access log yet") != NULL);
	}
	passphrase_src_init(&src);
	src.no_prompt = 1;
	CHECK(setenv(PASSPHRASE_ENV, "pw", 1) == 0);
	CHECK_OK(keeper_unlock(&site, &src, &ks, msg, sizeof(msg)));
	CHECK(ks != NULL);
	CHECK(getenv(PASSPHRASE_ENV) == NULL);
	keystore_close(ks);
	ks = NULL;
	snprintf(p, sizeof(p), "%s/pass", tdir);
	CHECK((f = fopen(p, "w")) != NULL);
	fputs("not-pw\n", f);
	fclose(f);
	src.file = p;
	CHECK_EQ_INT(keeper_unlock(&site, &src, &ks, msg, sizeof(msg)), LACRE_E_PASSPHRASE);
	CHECK(ks == NULL);
	CHECK(msg[0] != 0);
	passphrase_src_init(&src);
	src.no_prompt = 1;
	src.no_env = 1;
	CHECK_EQ_INT(keeper_unlock(&site, &src, &ks, msg, sizeof(msg)), LACRE_E_NOT_FOUND);
	CHECK(strstr(msg, "cannot read the master passphrase") != NULL);
	CHECK(ks == NULL);
}

/* ---- a fake keeper: scripted answers to the real client ---- */

struct fake_keeper {
	int lfd;
	pthread_t th;
	const uint8_t *answer;      /* raw frame bytes sent after the request */
	size_t answer_len;
	uint8_t got_type;           /* the first frame the client sent back */
	size_t got_len;
};

static void *fake_keeper_main(void *arg)
{
	struct fake_keeper *f = arg;
	uint8_t hdr[4], *req, b[128];
	uint32_t n;
	int c = accept(f->lfd, NULL, NULL);

	if (c < 0)
		return NULL;
	if (keeper_read_full(c, 5000, hdr, 4) == LACRE_OK) {
		n = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 | (uint32_t)hdr[2] << 8 | hdr[3];
		if (n <= KEEPER_REQUEST_MAX && (req = malloc(n ? n : 1)) != NULL) {
			(void)keeper_read_full(c, 5000, req, n);
			free(req);
		}
	}
	(void)keeper_write_full(c, f->answer, f->answer_len);
	/* the client's answer to a signing request, if any */
	if (keeper_frame_read(c, 2000, &f->got_type, b, sizeof(b), &f->got_len) != LACRE_OK)
		f->got_type = 0;
	close(c);
	return NULL;
}

/* Run the client against a fake keeper answering with ans[0..n). */
static int fake_run(const uint8_t *ans, size_t n, int argc, char **argv, int *status, char *msg,
		    size_t msglen, struct fake_keeper *f)
{
	struct sockaddr_un a;
	int r;

	memset(f, 0, sizeof(*f));
	f->answer = ans;
	f->answer_len = n;
	memset(&a, 0, sizeof(a));
	a.sun_family = AF_UNIX;
	if (strlen(sock) >= sizeof(a.sun_path))
		return LACRE_E_TOO_LARGE;
	memcpy(a.sun_path, sock, strlen(sock) + 1);
	unlink(sock);
	if ((f->lfd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0 ||
	    bind(f->lfd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(f->lfd, 1) != 0 ||
	    pthread_create(&f->th, NULL, fake_keeper_main, f) != 0)
		return LACRE_E_IO;
	r = client(&ana, argc, argv, status, msg, msglen);
	pthread_join(f->th, NULL);
	close(f->lfd);
	unlink(sock);
	return r;
}

/* The client against a keeper that misbehaves: an unknown frame type, an
 * exit frame of two bytes, a file nobody asked for, an answer that ends
 * early - each refused with its code; a signing request for another user
 * answered with an empty signature, one for this user signed. */
static void test_client_vs_fake_keeper(void)
{
	char *argv[] = { "calls", NULL };
	char outp[600];
	char *argv_out[] = { "audio", "--output", outp, NULL };
	char msg[SITE_MSG_MAX];
	struct fake_keeper f;
	uint8_t buf[512];
	size_t n;
	int st = 0;

	CHECK_OK(make_site());
	/* unknown frame type */
	CHECK_EQ_INT(fake_run((const uint8_t *)"Z\0\0\0\0", 5, 1, argv, &st, msg, sizeof(msg), &f),
		     LACRE_E_MALFORMED);
	CHECK(strstr(msg, "unknown frame type 0x5a") != NULL);
	CHECK_EQ_INT(st, 1);
	/* an exit frame of two bytes */
	CHECK_EQ_INT(fake_run((const uint8_t *)"X\0\0\0\x02\0\0", 7, 1, argv, &st, msg, sizeof(msg), &f),
		     LACRE_E_MALFORMED);
	CHECK(strstr(msg, "exit frame is malformed") != NULL);
	/* a file that was not asked for */
	CHECK_EQ_INT(fake_run((const uint8_t *)"F\0\0\0\x03" "abcX\0\0\0\x01\0", 14, 1, argv, &st, msg,
			      sizeof(msg), &f), LACRE_E_MALFORMED);
	CHECK(strstr(msg, "sent a file that was not asked for") != NULL);
	/* the answer ends before the exit frame */
	CHECK_EQ_INT(fake_run((const uint8_t *)"O\0\0\0\x02hi", 7, 1, argv, &st, msg, sizeof(msg), &f),
		     LACRE_E_INCOMPLETE);
	CHECK(strstr(msg, "the keeper's answer ended early") != NULL);
	CHECK_STR(out_text, "hi");
	/* a file, then a failing exit status: nothing is left at the path */
	snprintf(outp, sizeof(outp), "%s/fake-out.wav", tdir);
	CHECK_OK(fake_run((const uint8_t *)"F\0\0\0\x03" "abcX\0\0\0\x01\x05", 14, 3, argv_out, &st, msg,
			  sizeof(msg), &f));
	CHECK_EQ_INT(st, 5);
	CHECK(access(outp, F_OK) != 0);
	/* the same with status 0: the file is there, whole */
	CHECK_OK(fake_run((const uint8_t *)"F\0\0\0\x03" "abcX\0\0\0\x01\0", 14, 3, argv_out, &st, msg,
			  sizeof(msg), &f));
	CHECK_EQ_INT(st, 0);
	slurp(outp, (char *)buf, sizeof(buf));
	CHECK_STR((char *)buf, "abc");
	/* signing requests: another user's is refused (empty G), ana's signed */
	{
		static const char *const users[] = { "eva", "ana" };
		for (int u = 0; u < 2; u++) {
			char part[256];
			int pl = snprintf(part, sizeof(part), "%s\nuser %s\naction records\n", ACCESSLOG_MAGIC,
					  users[u]);
			n = 0;
			buf[n++] = 'S';
			buf[n++] = 0;
			buf[n++] = 0;
			buf[n++] = (uint8_t)(pl >> 8);
			buf[n++] = (uint8_t)pl;
			memcpy(buf + n, part, (size_t)pl);
			n += (size_t)pl;
			memcpy(buf + n, "X\0\0\0\x01\0", 6);
			n += 6;
			CHECK_OK(fake_run(buf, n, 1, argv, &st, msg, sizeof(msg), &f));
			CHECK_EQ_INT(f.got_type, 'G');
			CHECK_EQ_INT(f.got_len, u == 0 ? 0 : 64);
		}
	}
}

/* The allow-list's remaining refusals and the option table. */
static void test_args_edges(void)
{
	char msg[256], *long_arg;
	int idx = -1;
	size_t off = 0;

	CHECK_EQ_INT(keeper_option_has_value("warrant", 7), 1);
	CHECK_EQ_INT(keeper_option_has_value("json", 4), 0);
	CHECK_EQ_INT(keeper_option_has_value("site", 4), 1);
	CHECK_EQ_INT(keeper_option_has_value("passphrase-fd", 13), 1);
	CHECK_EQ_INT(keeper_option_has_value("warr", 4), -1);
	CHECK_EQ_INT(keeper_option_has_value("jsonx", 5), -1);
	/* -o with nothing after it */
	CHECK_EQ_INT(keeper_args_check(2, (char *[]){ "audio", "-o", NULL }, msg, sizeof(msg)),
		     LACRE_E_DENIED);
	CHECK_STR(msg, "-o needs a file name");
	/* --output= with an empty name */
	CHECK_EQ_INT(keeper_args_check(2, (char *[]){ "pcap", "--output=", NULL }, msg, sizeof(msg)),
		     LACRE_E_DENIED);
	CHECK_STR(msg, "--output needs a file name");
	/* --deep as the value of another option is not --deep */
	CHECK_EQ_INT(keeper_args_check(3, (char *[]){ "audit", "--warrant", "--deep", NULL }, msg,
				       sizeof(msg)), LACRE_E_DENIED);
	CHECK_STR(msg, "'--deep' must be an option of 'audit', not a value");
	/* an argument over KEEPER_ARG_MAX */
	CHECK((long_arg = malloc(KEEPER_ARG_MAX + 2)) != NULL);
	memset(long_arg, 'a', KEEPER_ARG_MAX + 1);
	long_arg[KEEPER_ARG_MAX + 1] = 0;
	CHECK_EQ_INT(keeper_args_check(2, (char *[]){ "records", long_arg, NULL }, msg, sizeof(msg)),
		     LACRE_E_DENIED);
	CHECK_STR(msg, "an argument is too long");
	free(long_arg);
	/* -h passes; no command at all does not */
	CHECK_OK(keeper_args_check(2, (char *[]){ "records", "-h", NULL }, msg, sizeof(msg)));
	CHECK_EQ_INT(keeper_args_check(0, (char *[]){ NULL }, msg, sizeof(msg)), LACRE_E_DENIED);
	CHECK(!keeper_command_served(0, (char *[]){ NULL }));
	/* no output path in a command that writes no file or gives none */
	CHECK_EQ_INT(keeper_args_output(1, (char *[]){ "audio", NULL }, &idx, &off), LACRE_E_NOT_FOUND);
	CHECK_EQ_INT(keeper_args_output(1, (char *[]){ "user", NULL }, &idx, &off), LACRE_E_NOT_FOUND);
}

/* A keeper whose work folder is gone refuses each request, saying so. */
static void test_work_folder_gone(void)
{
	char *argv[] = { "calls", "--warrant", wid, NULL };
	char msg[SITE_MSG_MAX];
	int st = -1;

	CHECK_OK(make_site());
	CHECK_OK(start_keeper());
	CHECK(rmdir(work) == 0);
	CHECK_OK(client(&ana, 3, argv, &st, msg, sizeof(msg)));
	CHECK_EQ_INT(st, 1);
	CHECK(strstr(err_text, "cannot make the request's work folder") != NULL);
	CHECK(strstr(out_text, "worker") == NULL);
	CHECK_EQ_INT(stop_keeper(), 0);
}

int main(void)
{
	RUN(test_frames);
	RUN(test_args_edges);
	RUN(test_client_socket);
	RUN(test_serve);
	RUN(test_refusals);
	RUN(test_raw_requests);
	RUN(test_start_refusals);
	RUN(test_unlock);
	RUN(test_work_folder_gone);
	RUN(test_client_vs_fake_keeper);
	if (keeper_pid > 0)
		stop_keeper();
	return t_done();
}

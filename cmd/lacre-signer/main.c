/*
 * lacre-signer - the ingest log's signer (docs/cmd-signer.md): a small
 * process that alone holds the log's key and signs a checkpoint only when
 * it is consistent with the last one it signed (lib/ledger/signer.c).  It
 * listens on a Unix socket (0660, in a folder no other user may write),
 * serves one request per connection, one connection at a time, and
 * refuses with a reason line and keeps serving.
 *
 * It links libcrypto alone (Makefile): it cannot reach a site, the
 * network, the index or the keystore even by mistake.
 *
 *   lacre-signer --site DIR | --dir DIR --socket PATH [--origin NAME]
 *   lacre-signer --test-request --socket PATH --key
 *   lacre-signer --test-request --socket PATH --origin NAME --old-size N
 *                --size N --root B64 [--proof B64]...
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "lacre/err.h"
#include "lacre/unix_listen.h"
#include "lacre/signer.h"

#define PATH_CAP 4096

static volatile sig_atomic_t stop_flag;

/* SIGTERM / SIGINT: finish the current request, then stop. */
static void on_stop(int sig)
{
	(void)sig;
	stop_flag = 1;
}

/* Usage on stderr, exit 2. */
static void usage(void)
{
	fprintf(stderr,
		"usage: lacre-signer --site DIR\n"
		"       lacre-signer --dir DIR --socket PATH [--origin NAME]\n"
		"       lacre-signer --test-request --socket PATH --key\n"
		"       lacre-signer --test-request --socket PATH --origin NAME --old-size N --size N\n"
		"                    --root B64 [--proof B64]...\n"
		"see docs/cmd-signer.md\n");
	exit(2);
}

/* A decimal option value (exit 2 when it is not one). */
static uint64_t num_arg(const char *opt, const char *v)
{
	uint64_t x = 0;
	size_t i, n = strlen(v);

	if (n == 0 || n > 19) {
		fprintf(stderr, "lacre-signer: %s needs a decimal number\n", opt);
		exit(2);
	}
	for (i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9') {
			fprintf(stderr, "lacre-signer: %s needs a decimal number\n", opt);
			exit(2);
		}
		x = x * 10 + (uint64_t)(v[i] - '0');
	}
	return x;
}

/* A base64 hash option value (exit 2 when it is not 32 bytes). */
static void hash_arg(const char *opt, const char *v, uint8_t out[MERKLE_HASH_LEN])
{
	uint8_t buf[48];
	size_t n = 0;

	if (note_b64_decode(v, strlen(v), buf, sizeof(buf), &n) != LACRE_OK || n != MERKLE_HASH_LEN) {
		fprintf(stderr, "lacre-signer: %s needs the base64 of 32 bytes\n", opt);
		exit(2);
	}
	memcpy(out, buf, MERKLE_HASH_LEN);
}


/* Serve one connection: read a request, answer, close. */
static void serve_one(struct signer *s, int cfd)
{
	struct lacre_dbuf req, ans;
	struct ucred cred;
	socklen_t cl = sizeof(cred);
	char line[SIGNER_REASON_MAX + 64];
	int rc;

	lacre_dbuf_init(&req, SIGNER_MSG_MAX + 1);
	lacre_dbuf_init(&ans, SIGNER_MSG_MAX + 1);
	if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) != 0)
		cred.uid = (uid_t)-1;
	rc = signer_frame_read(cfd, SIGNER_MSG_MAX, &req);
	if (rc != LACRE_OK) {
		/* a frame that does not arrive whole is answered when possible */
		rc = signer_handle(s, "", 0, &ans, line, sizeof(line));
		fprintf(stderr, "lacre-signer: refused a request from uid %ld: the frame is incomplete or "
			"too large\n", (long)cred.uid);
		signer_frame_write(cfd, ans.p, ans.len);
		goto out;
	}
	rc = signer_handle(s, req.p, req.len, &ans, line, sizeof(line));
	if (rc != LACRE_OK)
		fprintf(stderr, "lacre-signer: refused a request from uid %ld: %s\n", (long)cred.uid, line);
	signer_frame_write(cfd, ans.p, ans.len);
out:
	lacre_dbuf_free(&req);
	lacre_dbuf_free(&ans);
}

/* The signer's service loop. */
static int serve(const struct signer_config *cfg, const char *sock)
{
	struct signer *s = NULL;
	struct sigaction sa;
	char msg[512];
	int lfd = -1, cfd, rc;

	if ((rc = signer_open(cfg, &s, msg, sizeof(msg))) != LACRE_OK) {
		fprintf(stderr, "lacre-signer: %s\n", msg);
		return 1;
	}
	if ((rc = lacre_unix_listen(sock, "signer", 16, &lfd, msg, sizeof(msg))) != LACRE_OK) {
		fprintf(stderr, "lacre-signer: %s\n", msg);
		signer_close(s);
		return 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;     /* no SA_RESTART: accept returns EINTR */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	fprintf(stderr, "lacre-signer: signing %s (last signed size %llu) on %s\n", signer_origin(s),
		(unsigned long long)signer_size(s), sock);
	while (!stop_flag) {
		cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (cfd < 0) {
			if (errno != EINTR && errno != ECONNABORTED)
				fprintf(stderr, "lacre-signer: accept: %s\n", strerror(errno));
			continue;
		}
		serve_one(s, cfd);
		close(cfd);
	}
	close(lfd);
	unlink(sock);
	fprintf(stderr, "lacre-signer: stopped at signed size %llu\n",
		(unsigned long long)signer_size(s));
	signer_close(s);
	return 0;
}

/* --test-request: one request, the answer on stdout (signed note or vkey)
 * and exit 0, or the refusal on stderr and exit 3. */
static int test_request(const char *sock, const struct signer_request *rq)
{
	struct lacre_dbuf d;
	struct signer_answer an;
	int rc, ret = 1;

	lacre_dbuf_init(&d, SIGNER_MSG_MAX + 1);
	if ((rc = signer_call(sock, rq, &d)) != LACRE_OK) {
		fprintf(stderr, "lacre-signer: no answer from %s (%s): is lacre-signer running?\n", sock,
			lacre_strerror(rc));
		goto out;
	}
	if ((rc = signer_answer_parse(d.p, d.len, &an)) != LACRE_OK) {
		fprintf(stderr, "lacre-signer: the answer from %s does not parse (%s)\n", sock,
			lacre_strerror(rc));
		goto out;
	}
	if (an.ok) {
		fwrite(an.text, 1, an.text_len, stdout);
		if (rq->type == SIGNER_REQ_KEY)
			putchar('\n');
		ret = 0;
	} else {
		fprintf(stderr, "lacre-signer: refused: %s: %.*s (signer at size %llu)\n",
			signer_reason_name(an.reason), (int)an.text_len, (const char *)an.text,
			(unsigned long long)an.signed_size);
		ret = 3;
	}
out:
	lacre_dbuf_free(&d);
	return ret;
}

int main(int argc, char **argv)
{
	static char dir[PATH_CAP], sock[PATH_CAP], lkey[PATH_CAP], lstate[PATH_CAP];
	struct signer_config cfg;
	struct signer_request rq;
	struct rlimit nocore = { 0, 0 };
	const char *site = NULL, *origin = NULL;
	int test = 0, have_root = 0, i;

	/* the key never reaches a core file or another process's ptrace */
	setrlimit(RLIMIT_CORE, &nocore);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	memset(&rq, 0, sizeof(rq));
	rq.type = SIGNER_REQ_SIGN;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)
			usage();
		if (strcmp(a, "--test-request") == 0) {
			test = 1;
			continue;
		}
		if (strcmp(a, "--key") == 0) {
			rq.type = SIGNER_REQ_KEY;
			continue;
		}
		if (v == NULL)
			usage();
		i++;
		if (strcmp(a, "--site") == 0) {
			site = v;
		} else if (strcmp(a, "--dir") == 0 && strlen(v) < sizeof(dir)) {
			snprintf(dir, sizeof(dir), "%s", v);
		} else if (strcmp(a, "--socket") == 0 && strlen(v) < sizeof(sock)) {
			snprintf(sock, sizeof(sock), "%s", v);
		} else if (strcmp(a, "--origin") == 0) {
			origin = v;
		} else if (strcmp(a, "--old-size") == 0) {
			rq.old_size = num_arg(a, v);
		} else if (strcmp(a, "--size") == 0) {
			rq.size = num_arg(a, v);
		} else if (strcmp(a, "--root") == 0) {
			hash_arg(a, v, rq.root);
			have_root = 1;
		} else if (strcmp(a, "--proof") == 0) {
			if (rq.proof.n >= MERKLE_PROOF_MAX)
				usage();
			hash_arg(a, v, rq.proof.h[rq.proof.n++]);
		} else {
			usage();
		}
	}
	if (site && strlen(site) > PATH_CAP - 64) {
		fprintf(stderr, "lacre-signer: the site path is too long\n");
		return 2;
	}
	if (site && !dir[0])
		snprintf(dir, sizeof(dir), "%s/signer", site);
	if (site && !sock[0])
		snprintf(sock, sizeof(sock), "%s/signer.sock", site);
	if (!sock[0])
		usage();
	if (test) {
		if (rq.type == SIGNER_REQ_SIGN) {
			if (origin == NULL || !have_root || strlen(origin) >= sizeof(rq.origin))
				usage();
			memcpy(rq.origin, origin, strlen(origin) + 1);
		}
		return test_request(sock, &rq);
	}
	if (!dir[0])
		usage();
	memset(&cfg, 0, sizeof(cfg));
	cfg.dir = dir;
	cfg.origin = origin;
	if (site) {
		snprintf(lkey, sizeof(lkey), "%s/ledger/ingest.key", site);
		snprintf(lstate, sizeof(lstate), "%s/ledger/ingest/state", site);
		cfg.legacy_key = lkey;
		cfg.legacy_state = lstate;
	}
	return serve(&cfg, sock);
}

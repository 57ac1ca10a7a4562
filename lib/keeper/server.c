/*
 * server.c - `lacre keeper`, the service (include/lacre/keeper.h,
 * docs/keeper.md): the one process that holds the unlocked keystore.
 *
 * The main process listens on a Unix socket and, for each connection,
 * reads one length-prefixed request (5 s to arrive, at most
 * KEEPER_REQUEST_MAX bytes), and decides, in this order: the request
 * parses in its one canonical form; it names a registered user; the
 * user's Ed25519 signature verifies with the key in users.log; the user is
 * enabled; its time is within KEEPER_SKEW_US of the keeper's clock and not
 * before the keeper started, and its nonce was not seen (keeper_replay:
 * checked after the signature, so a forger cannot fill the window); the
 * command is one the keeper serves (args.c).  A refusal is answered with
 * one stderr line and exit status 1, and logged in the access log when the
 * request names a registered user.
 *
 * An accepted request is served by a forked handler, which forks the
 * worker: the worker's stdout and stderr are pipes the handler frames to
 * the client; a socketpair carries the worker's signing requests (the
 * user's signature over each access-log event, acl.h) to the client and
 * the answers back.  The worker runs the command (cfg->run) as the
 * authenticated user in a private work folder; a file the command writes
 * (--output) is put there and followed while the command runs: the
 * handler opens it as soon as it appears (as output.part or output.tmp,
 * the names lacre's writers use until the file is complete, or output),
 * sends its bytes as 'F' frames as they are written (woken by inotify on
 * the folder: a write is sent at once, not at the next tick of a timed
 * poll, which stays only as the fallback when inotify is unavailable), the
 * rest after the worker exits, then the exit status; the folder is
 * removed.  The writers append only (audio, pcap, export packages), so
 * every byte sent is final; the client keeps the file only when the
 * status is 0, so a worker that fails midway never leaves a short file
 * presented as complete.  The worker never sees the client's socket.
 * Handlers and
 * workers die with the keeper (PR_SET_PDEATHSIG): a keeper killed with
 * SIGKILL leaves no request running on.  LACRE_KEEPER_TIMING=1 prints
 * each request's phases to the keeper's stderr (timing.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "lacre/acl.h"
#include "lacre/err.h"
#include "lacre/unix_listen.h"
#include "lacre/hex.h"
#include "lacre/keeper.h"
#include "keeper/access_key.h"
#include "keeper/keystore.h"
#include "keeper/passphrase.h"
#include "keeper/pkcs11.h"
#include "keeper/timing.h"
#include "lacre/users.h"
#include "lacre/warrant.h"

#define REQUEST_TIMEOUT_MS 5000       /* for the request to arrive */
#define SIGN_TIMEOUT_MS 120000        /* for the client to sign an access event */
#define FOLLOW_POLL_MS 10             /* how often the output file is looked at
					 * when inotify is unavailable */

static volatile sig_atomic_t stop_flag;

static void on_stop(int sig)
{
	(void)sig;
	stop_flag = 1;
}

int keeper_unlock_stage(const struct site *s, const struct passphrase_src *src,
			struct keystore **ks, int *stage, char *msg, size_t msglen)
{
	uint8_t master[SITE_MASTER_KEY_LEN];
	char *pass = NULL;
	int r;

	if (stage)
		*stage = ACCESS_UNLOCK_SECRET;
	/* the seam: a site whose lacre.conf names a token has no master.age;
	 * the token unwraps master.p11 (lib/keeper/pkcs11.c) */
	if (s->cfg.pkcs11_module[0] != '\0')
		return p11_keystore_open(s, src, ks, msg, msglen);
	r = passphrase_get(src, "master passphrase: ", 0, &pass);
	/* tests pass it in the environment: no child may inherit it */
	unsetenv(PASSPHRASE_ENV);
	if (r != LACRE_OK) {
		snprintf(msg, msglen, "cannot read the master passphrase: %s%s", lacre_strerror(r),
			 r == LACRE_E_NOT_FOUND ? " (use --passphrase-file, --passphrase-fd, "
			 "LACRE_PASSPHRASE or a terminal)" : "");
		return r;
	}
	r = site_master_unlock(s, pass, master);
	passphrase_free(pass);
	if (r == LACRE_E_PASSPHRASE) {
		snprintf(msg, msglen, "wrong master passphrase for site %s", s->dir);
		return r;
	}
	/* the secret was right: what fails from here is the site's files */
	if (stage)
		*stage = ACCESS_UNLOCK_OPEN;
	if (r != LACRE_OK) {
		snprintf(msg, msglen, "cannot open master.age of site %s: %s", s->dir,
			 lacre_strerror(r));
		return r;
	}
	r = keystore_open(s, master, ks);
	OPENSSL_cleanse(master, sizeof(master));
	if (r != LACRE_OK)
		snprintf(msg, msglen, "cannot open the keystore: %s", lacre_strerror(r));
	return r;
}

int keeper_unlock(const struct site *s, const struct passphrase_src *src,
		  struct keystore **ks, char *msg, size_t msglen)
{
	return keeper_unlock_stage(s, src, ks, NULL, msg, msglen);
}

/* Unix microseconds now. */
static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Answer a refusal: one stderr line, exit status 1. */
static void refuse(int fd, const char *line)
{
	char b[1024];
	int n = snprintf(b, sizeof(b), "lacre: %s\n", line);

	if (n > 0)
		(void)keeper_frame_write(fd, KEEPER_F_STDERR, b, (size_t)n < sizeof(b) ? (size_t)n
											  : sizeof(b) - 1);
	b[0] = 1;
	(void)keeper_frame_write(fd, KEEPER_F_EXIT, b, 1);
}

/* The user a request names, when its first two lines are well formed
 * (for the access log of a refusal that did not parse). */
static int claimed_user(const uint8_t *p, size_t n, char user[USER_NAME_MAX])
{
	size_t m = strlen(KEEPER_MAGIC);
	const uint8_t *l, *nl;

	if (n < m + 1 || memcmp(p, KEEPER_MAGIC, m) != 0 || p[m] != '\n')
		return 0;
	l = p + m + 1;
	if ((size_t)(p + n - l) < 6 || memcmp(l, "user ", 5) != 0)
		return 0;
	nl = memchr(l, '\n', (size_t)(p + n - l));
	if (nl == NULL || (size_t)(nl - l - 5) >= USER_NAME_MAX)
		return 0;
	memcpy(user, l + 5, (size_t)(nl - l - 5));
	user[nl - l - 5] = '\0';
	return users_name_ok(user);
}

struct conn {
	const struct keeper_config *cfg;
	struct keeper_replay *replay;
	int lfd;                  /* the listening socket (closed in handlers) */
	int fd;
	struct ucred peer;
	int64_t t_accept;         /* phase_timing_now() at accept (timing.h) */
};

/* Refuse and log (when user is registered) a request. */
static void refuse_logged(const struct conn *c, const char *user, const char *cmd,
			  const char *why, const char *line)
{
	char what[512], msg[SITE_MSG_MAX];

	snprintf(what, sizeof(what), "keeper request%s%s from uid %u pid %d", cmd ? ": " : "",
		 cmd ? cmd : "", (unsigned)c->peer.uid, (int)c->peer.pid);
	if (user && user[0] &&
	    acl_log_refusal(c->cfg->site, user, "keeper", what, why, msg, sizeof(msg)) != LACRE_OK &&
	    msg[0] && !c->cfg->quiet)
		fprintf(stderr, "lacre keeper: the refusal was not logged: %s\n", msg);
	if (!c->cfg->quiet)
		fprintf(stderr, "lacre keeper: refused %s (uid %u): %s\n", user && user[0] ? user : "?",
			(unsigned)c->peer.uid, why);
	refuse(c->fd, line);
}

/* ---- the worker and its handler ---- */

/* The worker's signer: ask the handler (and so the client) over fd. */
static int ctl_sign(void *arg, const void *m, size_t n, uint8_t sig[64])
{
	int fd = *(int *)arg;
	uint8_t t, b[64];
	size_t got;
	int r;

	if ((r = keeper_frame_write(fd, KEEPER_F_SIGN, m, n)) != LACRE_OK)
		return r;
	if ((r = keeper_frame_read(fd, SIGN_TIMEOUT_MS + 5000, &t, b, sizeof(b), &got)) != LACRE_OK)
		return r;
	if (t != KEEPER_F_SIGNATURE || got != 64)
		return LACRE_E_DENIED;
	memcpy(sig, b, 64);
	return LACRE_OK;
}

/* Remove the files of the work folder wd, then the folder. */
static void wipe_dir(const char *wd)
{
	DIR *d = opendir(wd);
	struct dirent *e;
	char p[SITE_PATH_MAX + 300];

	if (d) {
		while ((e = readdir(d)) != NULL) {
			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			snprintf(p, sizeof(p), "%s/%s", wd, e->d_name);
			unlink(p);
		}
		closedir(d);
	}
	rmdir(wd);
}

/* Open the output file the worker writes in folder wd, if it is there
 * yet: wd/output.part (audio, pcap) or wd/output.tmp (export packages)
 * while it is written, wd/output once complete (or written in place:
 * proof record); -1 when none is (errno ENOENT) or on error. */
static int follow_open(const char *wd)
{
	static const char *const names[] = { "output.part", "output.tmp", "output" };
	char p[SITE_PATH_MAX + 16];
	int fd = -1;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]) && fd < 0; i++) {
		snprintf(p, sizeof(p), "%s/%s", wd, names[i]);
		fd = open(p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0 && errno != ENOENT)
			return -1;
	}
	return fd;
}

/* Send what fd holds past what was sent (to its end now) to the client
 * as 'F' frames through buffer b (KEEPER_FRAME_MAX bytes); *sent counts the
 * bytes sent (for the timing lines: the first byte, and the first past a
 * WAV's 44-byte header).  LACRE_E_IO: the file cannot be read;
 * LACRE_E_UNAVAILABLE: the client is gone. */
static int follow_pump(int cfd, int fd, uint8_t *b, size_t *sent)
{
	for (;;) {
		ssize_t k = read(fd, b, KEEPER_FRAME_MAX);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return LACRE_E_IO;
		if (k == 0)
			return LACRE_OK;
		if (keeper_frame_write(cfd, KEEPER_F_FILE, b, (size_t)k) != LACRE_OK)
			return LACRE_E_UNAVAILABLE;
		if (*sent == 0)
			keeper_timing_mark("file-first-sent");
		if (*sent <= 44 && *sent + (size_t)k > 44)
			keeper_timing_mark("file-past-44-sent");
		*sent += (size_t)k;
	}
}

/* Drain the inotify descriptor ino (non-blocking): its events only say
 * "look again", which the caller does. */
static void follow_drain(int ino)
{
	char ev[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

	while (read(ino, ev, sizeof(ev)) > 0)
		;
}

/* Relay a signing request from the worker (on ctl) to the client and its
 * answer back.  A client that does not sign gets an empty answer. */
static int relay_sign(int ctl, int cfd)
{
	uint8_t *b = malloc(KEEPER_FRAME_MAX);
	uint8_t t;
	size_t n;
	int r;

	if (b == NULL)
		return LACRE_E_NOMEM;
	r = keeper_frame_read(ctl, 1000, &t, b, KEEPER_FRAME_MAX, &n);
	if (r == LACRE_OK && t != KEEPER_F_SIGN)
		r = LACRE_E_MALFORMED;
	if (r == LACRE_OK)
		r = keeper_frame_write(cfd, KEEPER_F_SIGN, b, n);
	if (r == LACRE_OK) {
		r = keeper_frame_read(cfd, SIGN_TIMEOUT_MS, &t, b, 64, &n);
		if (r == LACRE_OK && (t != KEEPER_F_SIGNATURE || n != 64))
			n = 0;
		if (r != LACRE_OK)
			n = 0;
		(void)keeper_frame_write(ctl, KEEPER_F_SIGNATURE, b, n);
	}
	free(b);
	return r;
}

/* The handler: run rq in a worker and frame its output to the client. */
static void serve_request(const struct conn *c, struct keeper_request *rq)
{
	const struct keeper_config *cfg = c->cfg;
	char wd[SITE_PATH_MAX], outp[SITE_PATH_MAX + 16], nx[33], line[256];
	char *argv[KEEPER_ARGS_MAX + 4], *outarg = NULL;
	int argc = 0, po[2] = { -1, -1 }, pe[2] = { -1, -1 }, ctl[2] = { -1, -1 };
	int oidx = -1, status = 1, wst = 0, alive = 0, ofd = -1, fr = LACRE_OK, ino = -1;
	int tfd = -1, signs = 0;
	size_t ooff = 0, fsent = 0;
	pid_t w;
	uint8_t *b = NULL;

	lacre_hex(rq->nonce, 16, nx);
	snprintf(wd, sizeof(wd), "%s/%s", cfg->work_dir, nx);
	if (mkdir(wd, 0700) != 0) {
		refuse(c->fd, "keeper: cannot make the request's work folder; check the keeper's "
		       "tmpfs (/dev/shm) and restart it");
		return;
	}
	snprintf(outp, sizeof(outp), "%s/output", wd);
	for (int i = 0; i < rq->argc; i++)
		argv[argc++] = rq->argv[i];
	if (keeper_args_output(rq->argc, rq->argv, &oidx, &ooff) == LACRE_OK) {
		size_t need = ooff + strlen(outp) + 1;
		if ((outarg = malloc(need)) == NULL) {
			refuse(c->fd, "keeper: out of memory");
			goto out;
		}
		memcpy(outarg, rq->argv[oidx], ooff);
		memcpy(outarg + ooff, outp, strlen(outp) + 1);
		argv[oidx] = outarg;
	}
	argv[argc++] = "--site";
	argv[argc++] = (char *)cfg->site->dir;
	argv[argc] = NULL;
	/* the worker's writes to its output file wake the handler (IN_MODIFY
	 * of a file in wd; IN_CREATE / IN_MOVED_TO when it appears): its
	 * first bytes go out at once.  The watch exists before the worker, so
	 * no write can come before it.  Without inotify: a timed poll. */
	if (oidx >= 0 && (ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) >= 0 &&
	    inotify_add_watch(ino, wd, IN_CREATE | IN_MODIFY | IN_MOVED_TO | IN_CLOSE_WRITE) < 0) {
		close(ino);
		ino = -1;
	}
	if (keeper_timing_on())
		tfd = fcntl(2, F_DUPFD_CLOEXEC, 3);
	if (pipe2(po, O_CLOEXEC) != 0 || pipe2(pe, O_CLOEXEC) != 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ctl) != 0) {
		refuse(c->fd, "keeper: cannot make the worker's pipes");
		goto out;
	}
	fflush(NULL);
	if ((w = fork()) < 0) {
		refuse(c->fd, "keeper: cannot start a worker (fork failed); try again");
		goto out;
	}
	if (w == 0) {
		int st;
		/* a worker never outlives its handler (nor, so, the keeper) */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() == 1)
			_exit(1);
		signal(SIGPIPE, SIG_DFL);
		close(c->fd);
		if (ino >= 0)
			close(ino);
		/* the timing lines go to the keeper's stderr, not the client's */
		keeper_timing_worker(tfd, getppid());
		keeper_timing_mark("worker-start");
		if (dup2(po[1], 1) < 0 || dup2(pe[1], 2) < 0 || chdir(wd) != 0)
			_exit(1);
		close(po[0]);
		close(pe[0]);
		close(ctl[0]);
		if (acl_keeper_worker_begin(rq->user, ctl_sign, &ctl[1]) != LACRE_OK)
			_exit(1);
		/* the access log names the file the client asked for, not the
		 * worker's private copy (cli_output_label) */
		if (outarg && setenv("LACRE_KEEPER_OUTPUT", rq->argv[oidx] + ooff, 1) != 0)
			_exit(1);
		st = cfg->run(cfg->run_arg, rq->user, argc, argv);
		fflush(NULL);
		_exit(st & 0xff);
	}
	alive = 1;
	keeper_timing_mark("worker-forked");
	if (oidx >= 0)
		keeper_timing_mark(ino >= 0 ? "follow-inotify" : "follow-poll");
	if (tfd >= 0)
		close(tfd);
	tfd = -1;
	close(po[1]);
	close(pe[1]);
	close(ctl[1]);
	po[1] = pe[1] = ctl[1] = -1;
	if ((b = malloc(KEEPER_FRAME_MAX)) == NULL)
		goto reap;
	for (;;) {
		struct pollfd pf[4] = { { po[0], POLLIN, 0 }, { pe[0], POLLIN, 0 }, { ctl[0], POLLIN, 0 },
					{ ino, POLLIN, 0 } };
		int open_fds = (po[0] >= 0) + (pe[0] >= 0) + (ctl[0] >= 0);
		if (open_fds == 0)
			break;
		if (poll(pf, 4, oidx >= 0 && ino < 0 ? FOLLOW_POLL_MS : -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (ino >= 0 && (pf[3].revents & POLLIN))
			follow_drain(ino);
		/* the output file's new bytes, as the worker writes them */
		if (oidx >= 0 && fr == LACRE_OK) {
			if (ofd < 0 && (ofd = follow_open(wd)) >= 0)
				keeper_timing_mark("file-open");
			if (ofd >= 0)
				fr = follow_pump(c->fd, ofd, b, &fsent);
			if (fr == LACRE_E_UNAVAILABLE) {
				kill(w, SIGTERM);   /* the client went away */
				goto reap;
			}
		}
		for (int i = 0; i < 2; i++) {
			int *fd = i == 0 ? &po[0] : &pe[0];
			ssize_t k;
			if (*fd < 0 || !(pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			k = read(*fd, b, KEEPER_FRAME_MAX);
			if (k < 0 && errno == EINTR)
				continue;
			if (k <= 0) {
				close(*fd);
				*fd = -1;
				continue;
			}
			if (keeper_frame_write(c->fd, i == 0 ? KEEPER_F_STDOUT : KEEPER_F_STDERR, b,
					       (size_t)k) != LACRE_OK) {
				/* the client went away: nobody reads this answer */
				kill(w, SIGTERM);
				goto reap;
			}
		}
		if (ctl[0] >= 0 && (pf[2].revents & (POLLIN | POLLHUP | POLLERR))) {
			char peek;
			ssize_t k = recv(ctl[0], &peek, 1, MSG_PEEK);
			if (k <= 0) {
				close(ctl[0]);
				ctl[0] = -1;
			} else {
				if (signs == 0)
					keeper_timing_mark("sign-asked");
				if (relay_sign(ctl[0], c->fd) != LACRE_OK) {
					close(ctl[0]);      /* the worker's signer fails: refused */
					ctl[0] = -1;
				} else if (signs++ == 0) {
					keeper_timing_mark("sign-answered");
				}
			}
		}
	}
reap:
	while (alive && waitpid(w, &wst, 0) < 0 && errno == EINTR)
		;
	if (alive)
		keeper_timing_mark("worker-reaped");
	if (alive && WIFEXITED(wst))
		status = WEXITSTATUS(wst);
	if (alive && WIFSIGNALED(wst)) {
		int n = snprintf(line, sizeof(line), "lacre: keeper: the worker died of signal %d\n",
				 WTERMSIG(wst));
		(void)keeper_frame_write(c->fd, KEEPER_F_STDERR, line, (size_t)n);
		status = 1;
	}
	/* the rest of the output file, after the worker's last byte */
	if (oidx >= 0 && b == NULL) {
		int n = snprintf(line, sizeof(line), "lacre: keeper: out of memory: the output file "
				 "was not sent; try again\n");
		(void)keeper_frame_write(c->fd, KEEPER_F_STDERR, line, (size_t)n);
		status = status ? status : 1;
	} else if (oidx >= 0) {
		if (ofd < 0 && fr == LACRE_OK && (ofd = follow_open(wd)) < 0 && errno != ENOENT)
			fr = LACRE_E_IO;
		if (ofd >= 0 && fr == LACRE_OK)
			fr = follow_pump(c->fd, ofd, b, &fsent);
		if (fr == LACRE_E_IO) {
			int n = snprintf(line, sizeof(line), "lacre: keeper: cannot send the output "
					 "file\n");
			(void)keeper_frame_write(c->fd, KEEPER_F_STDERR, line, (size_t)n);
			status = status ? status : 1;
		}
	}
	/* the plaintext copy is gone before the client hears the exit: a
	 * client that returns may rely on no copy being left in /dev/shm
	 * (wiped again, harmlessly, on the way out) */
	wipe_dir(wd);
	line[0] = (char)status;
	(void)keeper_frame_write(c->fd, KEEPER_F_EXIT, line, 1);
	keeper_timing_mark("exit-sent");
	if (!cfg->quiet)
		fprintf(stderr, "lacre keeper: %s (uid %u): %s: exit %d\n", rq->user,
			(unsigned)c->peer.uid, rq->argv[0], status);
out:
	if (b)
		OPENSSL_cleanse(b, KEEPER_FRAME_MAX);
	free(b);
	if (ofd >= 0)
		close(ofd);
	if (ino >= 0)
		close(ino);
	if (tfd >= 0)
		close(tfd);
	for (int i = 0; i < 2; i++) {
		if (po[i] >= 0)
			close(po[i]);
		if (pe[i] >= 0)
			close(pe[i]);
		if (ctl[i] >= 0)
			close(ctl[i]);
	}
	if (outarg) {
		OPENSSL_cleanse(outarg, strlen(outarg));
		free(outarg);
	}
	wipe_dir(wd);
}

/* Read, authenticate and dispatch one connection (main process). */
static void handle(struct conn *c)
{
	struct keeper_request rq;
	struct users_registry *reg = NULL;
	const struct user *u;
	uint8_t hdr[4], *p = NULL;
	uint32_t len;
	char user[USER_NAME_MAX], msg[SITE_MSG_MAX], line[SITE_MSG_MAX + 128];
	socklen_t sl = sizeof(c->peer);
	int64_t t_read = 0, t_auth = 0, t_checked = 0;
	int r;
	pid_t h;

	memset(&rq, 0, sizeof(rq));
	if (getsockopt(c->fd, SOL_SOCKET, SO_PEERCRED, &c->peer, &sl) != 0)
		memset(&c->peer, 0xff, sizeof(c->peer));
	if ((r = keeper_read_full(c->fd, REQUEST_TIMEOUT_MS, hdr, 4)) != LACRE_OK) {
		refuse(c->fd, "keeper: no request arrived (send it within 5 s)");
		return;
	}
	len = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 | (uint32_t)hdr[2] << 8 | hdr[3];
	if (len == 0 || len > KEEPER_REQUEST_MAX) {
		refuse(c->fd, "keeper: the request is empty or larger than 64 KiB");
		return;
	}
	if ((p = malloc(len)) == NULL ||
	    keeper_read_full(c->fd, REQUEST_TIMEOUT_MS, p, len) != LACRE_OK) {
		refuse(c->fd, "keeper: the request did not arrive whole");
		goto out;
	}
	if (keeper_timing_on())
		t_read = phase_timing_now();
	if ((r = keeper_request_parse(p, len, &rq)) != LACRE_OK) {
		const char *why = r == LACRE_E_INCOMPLETE ? "unsigned request (no sig line)" :
				  r == LACRE_E_TOO_LARGE ? "request over a size limit" :
				  "malformed request";
		snprintf(line, sizeof(line), "keeper: refused: %s; use the lacre CLI with "
			 "--user KEYFILE", why);
		user[0] = '\0';
		if (claimed_user(p, len, user) && (r = users_load(c->cfg->site, &reg, msg,
								  sizeof(msg))) == LACRE_OK &&
		    users_find(reg, user) == NULL)
			user[0] = '\0';
		refuse_logged(c, user, NULL, why, line);
		goto out;
	}
	if ((r = users_load(c->cfg->site, &reg, msg, sizeof(msg))) != LACRE_OK) {
		snprintf(line, sizeof(line), "keeper: cannot read the user registry: %s", msg);
		refuse(c->fd, line);
		goto out;
	}
	if ((u = users_find(reg, rq.user)) == NULL) {
		snprintf(line, sizeof(line), "keeper: refused: no user '%s' on this site", rq.user);
		refuse_logged(c, NULL, rq.argv[0], "unknown user", line);
		goto out;
	}
	if (keeper_request_verify(&rq, p, u->pub) != LACRE_OK) {
		snprintf(line, sizeof(line), "keeper: refused: the request's signature does not "
			 "verify with the key of user '%s'", rq.user);
		refuse_logged(c, rq.user, rq.argv[0], "forged request: bad signature", line);
		goto out;
	}
	if (u->disabled) {
		snprintf(line, sizeof(line), "keeper: refused: user '%s' is disabled", rq.user);
		refuse_logged(c, rq.user, rq.argv[0], "disabled user", line);
		goto out;
	}
	if (keeper_timing_on())
		t_auth = phase_timing_now();
	r = keeper_replay_check(c->replay, now_us(), rq.time_us, rq.nonce);
	if (r == LACRE_E_RANGE) {
		snprintf(line, sizeof(line), "keeper: refused: the request's time is more than 120 s "
			 "from the keeper's clock, or before the keeper started (check the clock; "
			 "send a fresh request)");
		refuse_logged(c, rq.user, rq.argv[0], "stale request", line);
		goto out;
	}
	if (r == LACRE_E_EXISTS) {
		snprintf(line, sizeof(line), "keeper: refused: replayed request (its nonce was "
			 "already used)");
		refuse_logged(c, rq.user, rq.argv[0], "replayed request", line);
		goto out;
	}
	if (r != LACRE_OK) {
		refuse(c->fd, "keeper: busy: too many requests in the last 4 minutes; try again later");
		goto out;
	}
	if (keeper_args_check(rq.argc, rq.argv, msg, sizeof(msg)) != LACRE_OK) {
		snprintf(line, sizeof(line), "keeper: refused: %s", msg);
		refuse_logged(c, rq.user, rq.argv[0], msg, line);
		goto out;
	}
	users_free(reg);
	reg = NULL;
	if (keeper_timing_on())
		t_checked = phase_timing_now();
	fflush(NULL);
	h = fork();
	if (h < 0) {
		refuse(c->fd, "keeper: cannot fork a handler; try again");
		goto out;
	}
	if (h == 0) {
		/* killed with the keeper: a request never runs on without it */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() == 1)
			_exit(1);
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		close(c->lfd);
		keeper_timing_request(getpid());
		keeper_timing_mark("handler-start");
		serve_request(c, &rq);
		keeper_request_free(&rq);
		_exit(0);
	}
	if (keeper_timing_on()) {
		/* the main process's phases, under the handler's id */
		keeper_timing_at(h, c->t_accept, "accepted");
		keeper_timing_at(h, t_read, "request-read");
		keeper_timing_at(h, t_auth, "signature-checked");
		keeper_timing_at(h, t_checked, "request-checked");
		keeper_timing_at(h, phase_timing_now(), "handler-forked");
	}
out:
	users_free(reg);
	keeper_request_free(&rq);
	if (p) {
		OPENSSL_cleanse(p, len);
		free(p);
	}
}


/* Write "socket=PATH\npid=N\n" to path atomically. */
static int write_ready(const char *path, const char *sock)
{
	char tmp[SITE_PATH_MAX + 8];
	FILE *f;
	int ok;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((f = fopen(tmp, "w")) == NULL)
		return LACRE_E_IO;
	fprintf(f, "socket=%s\npid=%d\n", sock, (int)getpid());
	ok = fflush(f) == 0 && fsync(fileno(f)) == 0;
	ok = fclose(f) == 0 && ok;
	if (!ok || rename(tmp, path) != 0) {
		unlink(tmp);
		return LACRE_E_IO;
	}
	return LACRE_OK;
}

int keeper_serve(const struct keeper_config *cfg, char *msg, size_t msglen)
{
	char path[SITE_PATH_MAX];
	struct keeper_replay *rp = NULL;
	struct sigaction sa;
	int lfd = -1, r;

	msg[0] = '\0';
	if (cfg->socket_path)
		snprintf(path, sizeof(path), "%s", cfg->socket_path);
	else if (site_path(cfg->site, KEEPER_SOCKET, path, sizeof(path)) != LACRE_OK)
		return LACRE_E_CONFIG;
	keeper_timing_init();
	if ((r = keeper_replay_new(now_us(), &rp)) != LACRE_OK)
		return r;
	if ((r = lacre_unix_listen(path, "keeper", 64, &lfd, msg, msglen)) != LACRE_OK) {
		keeper_replay_free(rp);
		return r;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (cfg->ready_file && write_ready(cfg->ready_file, path) != LACRE_OK) {
		snprintf(msg, msglen, "cannot write the ready file %s", cfg->ready_file);
		r = LACRE_E_IO;
		goto out;
	}
	if (!cfg->quiet)
		fprintf(stderr, "lacre keeper: listening on %s\n", path);
	while (!stop_flag) {
		struct pollfd pf = { lfd, POLLIN, 0 };
		struct conn c;
		int pr = poll(&pf, 1, 500);
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		if (pr <= 0)
			continue;
		memset(&c, 0, sizeof(c));
		c.cfg = cfg;
		c.replay = rp;
		c.lfd = lfd;
		c.fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (c.fd < 0)
			continue;
		if (keeper_timing_on())
			c.t_accept = phase_timing_now();
		handle(&c);
		close(c.fd);
	}
	r = LACRE_OK;
out:
	close(lfd);
	unlink(path);
	/* let the requests being served finish */
	while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
		;
	keeper_replay_free(rp);
	if (!cfg->quiet && r == LACRE_OK)
		fprintf(stderr, "lacre keeper: stopped\n");
	return r;
}

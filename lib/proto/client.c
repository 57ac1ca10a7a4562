/*
 * client.c - the CLI side of the keeper protocol (include/lacre/keeper.h,
 * docs/keeper.md): sign one request with the user's key, send it, print
 * what comes back.
 *
 * The client signs for the keeper only what it can recognise as its own
 * user's: an access-log request (ACCESSLOG_MAGIC, "user <its name>"), or
 * a users.log / cases.log line (evlog.h) written "by=<its name>" whose
 * type is the one event the command it sent writes and whose subject is
 * the one it named (user add / disable: "add" / "disable" with name=
 * NAME, and for add the key= of the --public-key it sent; shred request:
 * "shred-request" with warrant= of --warrant; shred approve:
 * "shred-approve" with id=; retention record: "court-state" with
 * warrant=).  The keeper holds no user key: the access log
 * and the registries carry the user's own signature, verifiable as any
 * other line.
 * A file the command writes arrives as 'F' frames while the command runs
 * (the keeper streams it) and goes to PATH.part as it arrives (created
 * 0600, never over an existing file), linked to PATH when the keeper's
 * answer ends with exit status 0; a failed command (which may have sent
 * part of its file) or an interrupted answer leaves no PATH and no
 * PATH.part.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "lacre/accesslog.h"
#include "lacre/ed25519.h"
#include "lacre/err.h"
#include "lacre/keeper.h"
#include "lacre/pct.h"
#include "lacre/shred.h"
#include "lacre/users.h"

int keeper_client_socket(const char *explicit_path, const char *site_dir, char *out,
			 size_t cap)
{
	const char *e = getenv(KEEPER_ENV);
	struct stat st;
	int n;

	/* LACRE_KEEPER=off: this stage's in-process path, on purpose */
	if (!(explicit_path && explicit_path[0]) && e && !strcmp(e, "off"))
		return LACRE_E_NOT_FOUND;
	if (explicit_path && explicit_path[0])
		n = snprintf(out, cap, "%s", explicit_path);
	else if (e && e[0])
		n = snprintf(out, cap, "%s", e);
	else if (site_dir && site_dir[0]) {
		n = snprintf(out, cap, "%s/%s", site_dir, KEEPER_SOCKET);
		if (n > 0 && (size_t)n < cap && (stat(out, &st) != 0 || !S_ISSOCK(st.st_mode)))
			return LACRE_E_NOT_FOUND;
	} else
		return LACRE_E_NOT_FOUND;
	return n > 0 && (size_t)n < cap ? LACRE_OK : LACRE_E_TOO_LARGE;
}

/* Whether m[0..n) is an access-log request part of user name. */
static int own_access_request(const uint8_t *m, size_t n, const char *name)
{
	char want[USER_NAME_MAX + 8];
	size_t mg = strlen(ACCESSLOG_MAGIC), wl;

	if (n < mg + 1 || memcmp(m, ACCESSLOG_MAGIC, mg) != 0 || m[mg] != '\n')
		return 0;
	wl = (size_t)snprintf(want, sizeof(want), "\nuser %s\n", name);
	for (size_t i = 0; i + wl <= n; i++)
		if (memcmp(m + i, want, wl) == 0)
			return 1;
	return 0;
}

/* The registry event the command argv writes: its log's magic, its type,
 * the field naming its subject (the user, warrant or request the command
 * names) and, for user add, the key= it must carry.  0 when it writes
 * none. */
struct reg_event {
	const char *magic, *type;
	const char *field, *value;      /* e.g. "name", "nora" */
	const char *pubkey;             /* user add: the --public-key value */
};

/* The value of long option opt in argv[2..argc), or NULL. */
static const char *opt_value(int argc, char *const *argv, const char *opt)
{
	size_t n = strlen(opt);

	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], opt) && i + 1 < argc)
			return argv[i + 1];
		if (!strncmp(argv[i], opt, n) && argv[i][n] == '=')
			return argv[i] + n + 1;
	}
	return NULL;
}

/* The first positional argument of argv[first..argc) (option values are
 * skipped as getopt_long would), or NULL. */
static const char *positional(int argc, char *const *argv, int first)
{
	for (int i = first; i < argc; i++) {
		const char *a = argv[i];
		if (a[0] != '-' || a[1] == '\0')
			return a;
		if (a[1] == '-' && !strchr(a, '=') &&
		    keeper_option_has_value(a + 2, strlen(a + 2)) == 1)
			i++;
	}
	return NULL;
}

static int reg_event_of(int argc, char *const *argv, struct reg_event *x)
{
	const char *sub = argc >= 2 && argv[1][0] != '-' ? argv[1] : "";
	int first = sub[0] ? 2 : 1;

	memset(x, 0, sizeof(*x));
	if (argc < 1)
		return 0;
	if (!strcmp(argv[0], "user") && (!strcmp(sub, "add") || !strcmp(sub, "disable"))) {
		x->magic = USERS_MAGIC;
		x->type = sub;
		x->field = "name";
		x->value = positional(argc, argv, first);
		if (!strcmp(sub, "add") && (x->pubkey = opt_value(argc, argv, "--public-key")) == NULL)
			return 0;
	} else if (!strcmp(argv[0], "shred") && (!sub[0] || !strcmp(sub, "request"))) {
		x->magic = CASES_MAGIC;
		x->type = "shred-request";
		x->field = "warrant";
		x->value = opt_value(argc, argv, "--warrant");
	} else if (!strcmp(argv[0], "shred") && !strcmp(sub, "approve")) {
		x->magic = CASES_MAGIC;
		x->type = "shred-approve";
		x->field = "id";
		x->value = positional(argc, argv, first);
	} else if (!strcmp(argv[0], "retention") && !strcmp(sub, "record")) {
		x->magic = CASES_MAGIC;
		x->type = "court-state";
		x->field = "warrant";
		x->value = positional(argc, argv, first);
	} else {
		return 0;
	}
	return x->value != NULL;
}

/* Whether the line m[0..n) has the token " <key>=<pct(value)> ". */
static int has_token(const uint8_t *m, size_t n, const char *key, const char *value)
{
	struct lacre_dbuf d;
	int found = 0;

	lacre_dbuf_init(&d, EVLOG_LINE_MAX);
	if (lacre_dbuf_printf(&d, " %s=", key) == LACRE_OK && pct_encode(&d, value) == LACRE_OK &&
	    lacre_dbuf_add_str(&d, " ") == LACRE_OK)
		for (size_t i = 0; !found && i + d.len <= n; i++)
			found = memcmp(m + i, d.p, d.len) == 0;
	lacre_dbuf_free(&d);
	return found;
}

/* Whether m[0..n) is the signed part of a registry line (evlog.h: "<magic>
 * <seq> <type> by=<name> at=... prev=<hex> hash=<hex>") of the event x,
 * written by user name: values are percent-encoded, so a token cannot hide
 * inside another field's value. */
static int own_registry_event(const uint8_t *m, size_t n, const char *name,
			      const struct reg_event *x)
{
	char want[USER_NAME_MAX + 64];
	size_t ml, wl, i;
	const uint8_t *p, *sp;

	if (x->magic == NULL || n > EVLOG_LINE_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (m[i] < 0x20 || m[i] == 0x7f)
			return 0;
	ml = strlen(x->magic);
	if (n < ml + 1 || memcmp(m, x->magic, ml) != 0 || m[ml] != ' ')
		return 0;
	/* the sequence number */
	p = m + ml + 1;
	sp = memchr(p, ' ', (size_t)(m + n - p));
	if (sp == NULL || sp == p)
		return 0;
	for (const uint8_t *q = p; q < sp; q++)
		if (*q < '0' || *q > '9')
			return 0;
	/* " <type> by=<name> " (user names need no percent-encoding) */
	wl = (size_t)snprintf(want, sizeof(want), " %s by=%s ", x->type, name);
	if ((size_t)(m + n - sp) < wl || memcmp(sp, want, wl) != 0)
		return 0;
	/* ends with the hash token */
	if (n < 70 || memcmp(m + n - 70, " hash=", 6) != 0)
		return 0;
	if (!has_token(m, n, x->field, x->value))
		return 0;
	return x->pubkey == NULL || has_token(m, n, "key", x->pubkey);
}

int keeper_client_sign(const struct user_key *k, int argc, char *const *argv, const uint8_t *m,
		       size_t n, uint8_t sig[64])
{
	struct reg_event rx;

	if (!reg_event_of(argc, argv, &rx))
		memset(&rx, 0, sizeof(rx));      /* it writes no registry event */
	if (!own_access_request(m, n, k->name) && !own_registry_event(m, n, k->name, &rx))
		return LACRE_E_DENIED;
	return lacre_ed25519_sign(k->seed, m, n, sig) == LACRE_OK ? LACRE_OK : LACRE_E_CRYPTO;
}

struct out_file {
	const char *path;
	char part[4096 + 8];
	int fd;
};

/* Write b[0..n) to the output file, creating PATH.part first. */
static int file_write(struct out_file *o, const uint8_t *b, size_t n, char *msg, size_t msglen)
{
	if (o->path == NULL) {
		snprintf(msg, msglen, "the keeper sent a file that was not asked for");
		return LACRE_E_MALFORMED;
	}
	if (o->fd < 0) {
		snprintf(o->part, sizeof(o->part), "%s.part", o->path);
		o->fd = open(o->part, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (o->fd < 0) {
			snprintf(msg, msglen, "cannot create %s: %s", o->part, strerror(errno));
			return LACRE_E_IO;
		}
	}
	if (keeper_write_full(o->fd, b, n) != LACRE_OK) {
		snprintf(msg, msglen, "cannot write %s: %s", o->part, strerror(errno));
		return LACRE_E_IO;
	}
	return LACRE_OK;
}

/* The answer ended: PATH.part becomes PATH (ok) or goes away. */
static int file_finish(struct out_file *o, int ok, char *msg, size_t msglen)
{
	int r = LACRE_OK;

	if (o->fd < 0)
		return LACRE_OK;
	if (ok && (fsync(o->fd) != 0 || link(o->part, o->path) != 0)) {
		snprintf(msg, msglen, "cannot write %s: %s", o->path, strerror(errno));
		r = LACRE_E_IO;
	}
	close(o->fd);
	o->fd = -1;
	unlink(o->part);
	return r;
}

int keeper_client_run(const char *socket_path, const struct user_key *k, int argc,
		      char *const *argv, int *status, char *msg, size_t msglen)
{
	struct sockaddr_un a;
	struct lacre_dbuf req;
	struct timespec ts;
	struct out_file of = { NULL, "", -1 };
	uint8_t nonce[16], hdr[4], t, *b = NULL, sig[64];
	size_t n;
	int fd = -1, r, idx = -1, done = 0;
	size_t off = 0;

	msg[0] = '\0';
	*status = 1;
	memset(&a, 0, sizeof(a));
	a.sun_family = AF_UNIX;
	if (strlen(socket_path) >= sizeof(a.sun_path)) {
		snprintf(msg, msglen, "the keeper socket path %s is too long", socket_path);
		return LACRE_E_INVALID;
	}
	memcpy(a.sun_path, socket_path, strlen(socket_path) + 1);
	if (keeper_args_output(argc, argv, &idx, &off) == LACRE_OK)
		of.path = argv[idx] + off;
	if (of.path && access(of.path, F_OK) == 0) {
		snprintf(msg, msglen, "%s exists; give a new file name", of.path);
		return LACRE_E_EXISTS;
	}
	if (RAND_bytes(nonce, 16) != 1)
		return LACRE_E_CRYPTO;
	clock_gettime(CLOCK_REALTIME, &ts);
	lacre_dbuf_init(&req, KEEPER_REQUEST_MAX + 1);
	lacre_dbuf_set_secret(&req);
	r = keeper_request_encode(k, (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000, nonce, argc,
				  argv, &req);
	if (r != LACRE_OK) {
		snprintf(msg, msglen, "cannot make the keeper request: %s", lacre_strerror(r));
		goto out;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		snprintf(msg, msglen, "cannot reach the keeper at %s: %s (is 'lacre keeper' "
			 "running?)", socket_path, strerror(errno));
		r = LACRE_E_UNAVAILABLE;
		goto out;
	}
	hdr[0] = (uint8_t)(req.len >> 24);
	hdr[1] = (uint8_t)(req.len >> 16);
	hdr[2] = (uint8_t)(req.len >> 8);
	hdr[3] = (uint8_t)req.len;
	if (keeper_write_full(fd, hdr, 4) != LACRE_OK ||
	    keeper_write_full(fd, req.p, req.len) != LACRE_OK) {
		snprintf(msg, msglen, "cannot send the request to the keeper: %s", strerror(errno));
		r = LACRE_E_IO;
		goto out;
	}
	if ((b = malloc(KEEPER_FRAME_MAX)) == NULL) {
		r = LACRE_E_NOMEM;
		goto out;
	}
	while (!done) {
		r = keeper_frame_read(fd, -1, &t, b, KEEPER_FRAME_MAX, &n);
		if (r != LACRE_OK) {
			snprintf(msg, msglen, "the keeper's answer ended early (%s)", lacre_strerror(r));
			goto out;
		}
		switch (t) {
		case KEEPER_F_STDOUT:
			fflush(stderr);
			if (fwrite(b, 1, n, stdout) != n) {
				snprintf(msg, msglen, "cannot write to standard output");
				r = LACRE_E_IO;
				goto out;
			}
			break;
		case KEEPER_F_STDERR:
			fflush(stdout);
			fwrite(b, 1, n, stderr);
			fflush(stderr);
			break;
		case KEEPER_F_FILE:
			if ((r = file_write(&of, b, n, msg, msglen)) != LACRE_OK)
				goto out;
			break;
		case KEEPER_F_SIGN:
			if (keeper_client_sign(k, argc, argv, b, n, sig) != LACRE_OK) {
				r = keeper_frame_write(fd, KEEPER_F_SIGNATURE, sig, 0);
			} else {
				r = keeper_frame_write(fd, KEEPER_F_SIGNATURE, sig, 64);
				OPENSSL_cleanse(sig, sizeof(sig));
			}
			if (r != LACRE_OK) {
				snprintf(msg, msglen, "cannot answer the keeper: %s", strerror(errno));
				goto out;
			}
			break;
		case KEEPER_F_EXIT:
			if (n != 1) {
				snprintf(msg, msglen, "the keeper's exit frame is malformed");
				r = LACRE_E_MALFORMED;
				goto out;
			}
			*status = b[0];
			done = 1;
			break;
		default:
			snprintf(msg, msglen, "the keeper sent an unknown frame type 0x%02x", t);
			r = LACRE_E_MALFORMED;
			goto out;
		}
	}
	fflush(stdout);
	r = file_finish(&of, *status == 0, msg, msglen);
	if (r != LACRE_OK)
		*status = 1;
out:
	if (r != LACRE_OK)
		(void)file_finish(&of, 0, msg, msglen);   /* removes PATH.part */
	if (b) {
		OPENSSL_cleanse(b, KEEPER_FRAME_MAX);
		free(b);
	}
	if (fd >= 0)
		close(fd);
	lacre_dbuf_free(&req);
	return r;
}

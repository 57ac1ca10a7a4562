/*
 * server.c - lacre-console's HTTPS service: the listening socket, one
 * thread per connection (at most 64, each bounded by 15 s timeouts), the
 * routes, the static files and the security headers (console.h,
 * docs/console.md).
 *
 * Routes (FORMATS §15 for the /api bytes):
 *   GET  /  /app.js  /style.css   the page, its one script, its style
 *   GET  /api/challenge           a one-use login challenge
 *   POST /api/login               the signed challenge -> session cookie
 *   GET  /api/session             who is logged in, and the CSRF token
 *   POST /api/logout              ends the session          (CSRF)
 *   POST /api/run                 a keeper request, relayed (CSRF)
 *   POST /api/sign                a signature the keeper asked for (CSRF)
 *   GET  /api/file/ID             an output file of this session
 *   GET  /api/users               users and roles (administrators; users.log
 *                                 is public site data, no keeper needed)
 *   GET  /api/health              the receiver's live status and the ingest
 *                                 log's checkpoint with its witnesses
 *                                 (administrators, auditors; public, keyless)
 * Every answer carries the strict Content-Security-Policy and closes the
 * connection.  Nothing of a request's content is logged: one line per
 * request with the method, the route, the status and the user.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/ssl.h>

#include "lacre/err.h"
#include "lacre/hex.h"
#include "lacre/ingest_status.h"
#include "lacre/json.h"
#include "lacre/note.h"
#include "console/console.h"

#define STATIC_MAX (1u << 20)      /* bytes of one static file */

struct static_file {
	const char *route, *name, *ctype;
	uint8_t *data;
	size_t len;
};

struct server {
	const struct console_config *cfg;
	SSL_CTX *ctx;
	struct console_sessions *ss;
	struct console_relay *rl;
	struct static_file files[3];
	atomic_int conns;
};

struct conn {
	struct server *sv;
	int fd;
	char peer[64];
};

static volatile sig_atomic_t stop_flag;

static void on_stop(int sig)
{
	(void)sig;
	stop_flag = 1;
}

/* Read web_dir/name (a regular file, at most STATIC_MAX bytes) into f. */
static int load_static(const char *dir, struct static_file *f, char *msg, size_t msglen)
{
	char path[SITE_PATH_MAX + 64];
	struct stat st;
	ssize_t got;
	size_t off = 0;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, f->name);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0 || fstat(fd, &st) != 0 ||
	    !S_ISREG(st.st_mode) || st.st_size <= 0 || (uint64_t)st.st_size > STATIC_MAX) {
		snprintf(msg, msglen, "cannot read the console's page %s (give the web/ folder "
			 "with --web DIR or console.web)", path);
		if (fd >= 0)
			close(fd);
		return LACRE_E_CONFIG;
	}
	if ((f->data = malloc((size_t)st.st_size)) == NULL) {
		close(fd);
		return LACRE_E_NOMEM;
	}
	while (off < (size_t)st.st_size &&
	       (got = read(fd, f->data + off, (size_t)st.st_size - off)) > 0)
		off += (size_t)got;
	close(fd);
	if (off != (size_t)st.st_size) {
		snprintf(msg, msglen, "cannot read %s", path);
		return LACRE_E_IO;
	}
	f->len = off;
	return LACRE_OK;
}

/* Write all of p[0..n) to ssl. */
static int ssl_write_all(SSL *ssl, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n > 0) {
		size_t w = 0;
		if (SSL_write_ex(ssl, b, n > 65536 ? 65536 : n, &w) != 1)
			return LACRE_E_NETWORK;
		b += w;
		n -= w;
	}
	return LACRE_OK;
}

/* ssl_write_all as console_relay_file_send's writer. */
static int ssl_write_cb(void *ssl, const void *p, size_t n)
{
	return ssl_write_all(ssl, p, n);
}

/* Send status with body p[0..n) of type ctype (and extra header lines). */
static int respond(SSL *ssl, int head_only, int status, const char *ctype, const void *p,
		   size_t n, const char *extra)
{
	struct lacre_dbuf h;
	int r;

	lacre_dbuf_init(&h, 8192);
	r = console_http_head(&h, status, ctype, n, extra);
	if (r == LACRE_OK)
		r = ssl_write_all(ssl, h.p, h.len);
	if (r == LACRE_OK && !head_only && n > 0)
		r = ssl_write_all(ssl, p, n);
	lacre_dbuf_free(&h);
	return r;
}

/* A JSON error body {"error": msg}. */
static int respond_error(SSL *ssl, int status, const char *msg)
{
	struct lacre_dbuf d;
	struct json_w w;
	int r;

	lacre_dbuf_init(&d, 4096);
	json_init(&w, &d);
	json_obj_begin(&w);
	json_kv_str(&w, "state", "error");
	json_kv_str(&w, "error", msg);
	json_obj_end(&w);
	if (json_finish(&w) != LACRE_OK)
		lacre_dbuf_reset(&d);
	r = respond(ssl, 0, status, "application/json", d.p, d.len, NULL);
	lacre_dbuf_free(&d);
	return r;
}

/* The session JSON: user, role, unit, csrf. */
static int session_json(const struct console_session_info *si, struct lacre_dbuf *d)
{
	char hx[2 * CONSOLE_TOKEN_LEN + 1];
	struct json_w w;

	lacre_hex(si->csrf, sizeof(si->csrf), hx);
	json_init(&w, d);
	json_obj_begin(&w);
	json_kv_str(&w, "user", si->user);
	json_kv_str(&w, "role", si->role);
	json_kv_str(&w, "unit", si->unit);
	json_kv_str(&w, "csrf", hx);
	json_obj_end(&w);
	OPENSSL_cleanse(hx, sizeof(hx));
	return json_finish(&w);
}

/* GET /api/users: users.log as JSON (administrators only). */
static int users_json(const struct site *s, struct lacre_dbuf *d)
{
	struct users_registry *reg = NULL;
	char msg[SITE_MSG_MAX], hx[65];
	struct json_w w;
	int r;

	if ((r = users_load(s, &reg, msg, sizeof(msg))) != LACRE_OK)
		return r;
	json_init(&w, d);
	json_arr_begin(&w);
	for (size_t i = 0; i < reg->n; i++) {
		const struct user *u = &reg->u[i];
		json_obj_begin(&w);
		json_kv_str(&w, "name", u->name);
		json_kv_str(&w, "role", acl_role_name(u->role));
		json_kv_str(&w, "unit", u->unit);
		json_key(&w, "disabled");
		json_bool(&w, u->disabled);
		json_kv_str(&w, "added_by", u->added_by);
		lacre_hex(u->pub, 32, hx);
		json_kv_str(&w, "key", hx);
		json_obj_end(&w);
	}
	json_arr_end(&w);
	users_free(reg);
	return json_finish(&w);
}

/* Read at most cap bytes of path into out (reset first). */
static int read_small(const char *path, size_t cap, struct lacre_dbuf *out)
{
	uint8_t buf[4096];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), r = LACRE_OK;

	lacre_dbuf_reset(out);
	if (fd < 0)
		return errno == ENOENT ? LACRE_E_NOT_FOUND : LACRE_E_IO;
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || out->len + (size_t)n > cap) {
			r = n < 0 ? LACRE_E_IO : LACRE_E_TOO_LARGE;
			break;
		}
		if ((r = lacre_dbuf_add(out, buf, (size_t)n)) != LACRE_OK)
			break;
	}
	close(fd);
	return r;
}

/* GET /api/health: the operations view (issue 13: ingest health; ledger and
 * witness status).  Keyless and public: the receiver's status file
 * (FORMATS §14, counts only; SITE/state/status.prom, which must be
 * readable by the console's user - deploy/ puts it in a group-readable
 * place) and the ingest log's trusted checkpoint with its cosignatures.
 * {"status":{"running":B,"age_s":N,"metrics":{"NAME{LABELS}":V,...}} or
 * null,"status_error":"..." , "checkpoint":{"origin":S,"size":N,
 * "cosignatures":[{"name":S,"time":N}]} or null,"checkpoint_error":"..."} */
static int health_json(const struct site *s, struct lacre_dbuf *d)
{
	enum { SAMPLES = 512 };
	struct status_sample *v = NULL;
	struct lacre_dbuf f;
	struct json_w w;
	struct note *nt = NULL;
	struct checkpoint cp;
	char path[SITE_PATH_MAX + 64], key[300];
	size_t n = 0;
	int r;

	lacre_dbuf_init(&f, (size_t)1 << 20);
	json_init(&w, d);
	json_obj_begin(&w);
	snprintf(path, sizeof(path), "%s/state/status.prom", s->dir);
	r = read_small(path, ((size_t)1 << 20) - 1, &f);
	if (r == LACRE_OK && !(v = calloc(SAMPLES, sizeof(*v))))
		r = LACRE_E_NOMEM;
	if (r == LACRE_OK)
		r = status_prom_parse((const char *)f.p, f.len, v, SAMPLES, &n);
	if (r == LACRE_OK) {
		double t = status_value(v, n, "lacre_status_time_seconds", "", -1), now;
		long pid = (long)status_value(v, n, "lacre_ingest_pid", "", 0);
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		now = (double)ts.tv_sec + ts.tv_nsec / 1e9;
		json_key(&w, "status");
		json_obj_begin(&w);
		json_key(&w, "running");
		/* fresh (5 s) and its process alive, as lacre status decides */
		json_bool(&w, t >= 0 && now - t <= 5.0 && pid > 0 &&
			  (kill((pid_t)pid, 0) == 0 || errno == EPERM));
		json_key(&w, "age_s");
		json_double(&w, t >= 0 ? now - t : -1);
		json_key(&w, "metrics");
		json_obj_begin(&w);
		for (size_t i = 0; i < n; i++) {
			if (v[i].labels[0])
				snprintf(key, sizeof(key), "%s{%s}", v[i].name, v[i].labels);
			else
				snprintf(key, sizeof(key), "%s", v[i].name);
			json_key(&w, key);
			json_double(&w, v[i].value);
		}
		json_obj_end(&w);
		json_obj_end(&w);
	} else {
		json_key(&w, "status");
		json_null(&w);
		json_kv_str(&w, "status_error", r == LACRE_E_NOT_FOUND ? "the receiver has written no status yet" :
			    r == LACRE_E_IO ? "the receiver's status is not readable by the console's user "
			    "(deploy: lacre ingest --status in a folder of the console's group)" :
			    "the receiver's status file is damaged");
	}
	free(v);
	snprintf(path, sizeof(path), "%s/ledger/ingest/checkpoint", s->dir);
	r = read_small(path, 65536, &f);
	if (r == LACRE_OK && (r = note_parse(f.p, f.len, &nt)) == LACRE_OK)
		r = checkpoint_parse(nt->buf, nt->text_len, &cp);
	if (r == LACRE_OK) {
		json_key(&w, "checkpoint");
		json_obj_begin(&w);
		json_kv_str(&w, "origin", cp.origin);
		json_key(&w, "size");
		json_uint(&w, cp.size);
		json_key(&w, "cosignatures");
		json_arr_begin(&w);
		for (size_t i = 0; i < nt->nsigs; i++) {
			const struct note_sig *sg = &nt->sigs[i];
			uint64_t ts = 0;
			if (!strcmp(sg->name, cp.origin))
				continue;
			json_obj_begin(&w);
			json_kv_str(&w, "name", sg->name);
			if (sg->len == 72) {   /* cosignature/v1: its time first */
				for (int b = 0; b < 8; b++)
					ts = ts << 8 | sg->sig[b];
				json_key(&w, "time");
				json_uint(&w, ts);
			}
			json_obj_end(&w);
		}
		json_arr_end(&w);
		json_obj_end(&w);
	} else {
		json_key(&w, "checkpoint");
		json_null(&w);
		json_kv_str(&w, "checkpoint_error", r == LACRE_E_NOT_FOUND ? "no checkpoint yet" :
			    "the ingest log's checkpoint is not readable or damaged (run lacre audit --site)");
	}
	note_free(nt);
	json_obj_end(&w);
	lacre_dbuf_free(&f);
	return json_finish(&w);
}

/* Route one parsed request with its body.  *user receives the session's
 * user for the log line.  Returns the HTTP status sent. */
static int route(struct server *sv, SSL *ssl, const struct console_http_req *rq,
		 const uint8_t *body, size_t blen, char *user, size_t ulen)
{
	struct console_session_info si;
	struct lacre_dbuf d;
	int get = !strcmp(rq->method, "GET") || !strcmp(rq->method, "HEAD");
	int head_only = !strcmp(rq->method, "HEAD"), status = 200, r;
	const char *p = rq->path;

	for (size_t i = 0; i < 3; i++)
		if (!strcmp(p, sv->files[i].route)) {
			if (!get) {
				respond_error(ssl, 405, "method not allowed");
				return 405;
			}
			respond(ssl, head_only, 200, sv->files[i].ctype, sv->files[i].data,
				sv->files[i].len, NULL);
			return 200;
		}
	if (strncmp(p, "/api/", 5) != 0) {
		respond_error(ssl, 404, "no such page");
		return 404;
	}
	p += 5;
	lacre_dbuf_init(&d, 4 * (size_t)CONSOLE_OUT_MAX / 3 + 2 * CONSOLE_BODY_MAX);
	lacre_dbuf_set_secret(&d);
	memset(&si, 0, sizeof(si));
	if (!strcmp(p, "challenge") && get) {
		uint8_t ch[CONSOLE_TOKEN_LEN];
		char hx[65];
		if (console_challenge_new(sv->ss, ch) != LACRE_OK) {
			respond_error(ssl, 500, "cannot make a challenge");
			status = 500;
		} else {
			lacre_hex(ch, sizeof(ch), hx);
			lacre_dbuf_printf(&d, "{\"challenge\":\"%s\"}", hx);
			respond(ssl, head_only, 200, "application/json", d.p, d.len, NULL);
		}
	} else if (!strcmp(p, "login") && !strcmp(rq->method, "POST")) {
		r = console_login(sv->ss, body, blen, &si);
		if (r == LACRE_OK && session_json(&si, &d) == LACRE_OK) {
			char cookie[200], hx[65];
			lacre_hex(si.id, sizeof(si.id), hx);
			snprintf(cookie, sizeof(cookie), "Set-Cookie: " CONSOLE_COOKIE "=%s; Path=/; "
				 "Secure; HttpOnly; SameSite=Strict\r\n", hx);
			respond(ssl, 0, 200, "application/json", d.p, d.len, cookie);
			OPENSSL_cleanse(cookie, sizeof(cookie));
			OPENSSL_cleanse(hx, sizeof(hx));
			snprintf(user, ulen, "%s", si.user);
		} else {
			status = r == LACRE_E_MALFORMED ? 400 : r == LACRE_E_TOO_LARGE ? 503 : 401;
			respond_error(ssl, status,
				      r == LACRE_E_DENIED ? "this user is disabled" :
				      r == LACRE_E_MALFORMED ? "malformed login request" :
				      r == LACRE_E_TOO_LARGE ? "too many sessions; try again later" :
				      "login refused: the key does not sign for a user of this site, "
				      "or the challenge expired (load your own key file and retry)");
		}
	} else if (!get && !rq->has_csrf) {
		status = 403;
		respond_error(ssl, 403, "missing CSRF token (X-CSRF-Token)");
	} else if (!rq->has_session ||
		   console_session_check(sv->ss, rq->session, get ? NULL : rq->csrf,
					 get || strcmp(p, "sign") != 0, &si) !=
			   LACRE_OK) {
		status = 401;
		respond_error(ssl, 401, "not logged in (or the session expired): log in again");
	} else {
		snprintf(user, ulen, "%s", si.user);
		if (!strcmp(p, "session") && get) {
			session_json(&si, &d);
			respond(ssl, head_only, 200, "application/json", d.p, d.len, NULL);
		} else if (!strcmp(p, "logout") && !get) {
			console_relay_forget(sv->rl, si.id);
			console_session_end(sv->ss, si.id);
			lacre_dbuf_add_str(&d, "{\"state\":\"logged-out\"}");
			respond(ssl, 0, 200, "application/json", d.p, d.len,
				"Set-Cookie: " CONSOLE_COOKIE "=; Path=/; Secure; HttpOnly; "
				"SameSite=Strict; Max-Age=0\r\n");
		} else if ((!strcmp(p, "run") || !strcmp(p, "sign")) && !get) {
			if (p[0] == 'r')
				console_relay_run(sv->rl, &si, body, blen, &d, &status);
			else
				console_relay_sign(sv->rl, &si, body, blen, &d, &status);
			respond(ssl, 0, status, "application/json", d.p, d.len, NULL);
		} else if (!strncmp(p, "file/", 5) && get && strchr(p + 5, '/')) {
			console_relay_file_done(sv->rl, &si, p + 5, &d, &status);   /* file/ID/done */
			respond(ssl, head_only, status, "application/json", d.p, d.len, NULL);
		} else if (!strncmp(p, "file/", 5) && get) {
			struct console_file *f;
			const uint8_t *data;
			const char *ctype, *fname;
			size_t len;
			if (console_relay_file_get(sv->rl, &si, p + 5, &f, &data, &len, &ctype,
						   &fname) != LACRE_OK) {
				status = 404;
				respond_error(ssl, 404, "no such file (files are held 10 minutes)");
			} else {
				char extra[300];
				uint64_t a = 0, b = len ? len - 1 : 0;
				int n = snprintf(extra, sizeof(extra), "Accept-Ranges: bytes\r\n"
						 "Content-Disposition: %s; filename=\"%s\"\r\n",
						 strcmp(ctype, "audio/wav") ? "attachment" : "inline",
						 fname);
				if (rq->has_range && len > 0) {
					if (rq->range_start >= len) {
						status = 416;
						snprintf(extra + n, sizeof(extra) - (size_t)n,
							 "Content-Range: bytes */%zu\r\n", len);
					} else {
						status = 206;
						a = rq->range_start;
						if (rq->range_end < b)
							b = rq->range_end;
						snprintf(extra + n, sizeof(extra) - (size_t)n,
							 "Content-Range: bytes %llu-%llu/%zu\r\n",
							 (unsigned long long)a, (unsigned long long)b,
							 len);
					}
				}
				if (status == 416)
					respond(ssl, head_only, 416, ctype, NULL, 0, extra);
				else if (respond(ssl, 1, status, ctype, NULL, len ? (size_t)(b - a + 1) : 0,
						 extra) == LACRE_OK && !head_only && len &&
					 (console_timing("file-head-sent"), 1))
					/* a streamed file's bytes as they come (relay.c) */
					(void)console_relay_file_send(sv->rl, f, (size_t)a, (size_t)(b - a + 1),
								      ssl_write_cb, ssl);
				console_relay_file_put(sv->rl, f);
			}
		} else if (!strcmp(p, "health") && get) {
			if (strcmp(si.role, "admin") != 0 && strcmp(si.role, "auditor") != 0) {
				status = 403;
				respond_error(ssl, 403, "the operations view is for administrators and auditors");
			} else if (health_json(sv->cfg->site, &d) != LACRE_OK) {
				status = 500;
				respond_error(ssl, 500, "cannot build the operations view");
			} else {
				respond(ssl, head_only, 200, "application/json", d.p, d.len, NULL);
			}
		} else if (!strcmp(p, "users") && get) {
			if (strcmp(si.role, "admin") != 0) {
				status = 403;
				respond_error(ssl, 403, "users and roles are for administrators");
			} else if (users_json(sv->cfg->site, &d) != LACRE_OK) {
				status = 500;
				respond_error(ssl, 500, "cannot read users.log");
			} else {
				respond(ssl, head_only, 200, "application/json", d.p, d.len, NULL);
			}
		} else {
			status = 404;
			respond_error(ssl, 404, "no such page");
		}
	}
	OPENSSL_cleanse(&si, sizeof(si));
	lacre_dbuf_free(&d);
	return status;
}

/* One connection: TLS, one request, one answer. */
static void *conn_main(void *arg)
{
	struct conn *c = arg;
	struct server *sv = c->sv;
	struct console_http_req rq;
	struct timeval tv = { CONSOLE_IO_TIMEOUT_S, 0 };
	size_t cap = CONSOLE_HEAD_MAX + CONSOLE_BODY_MAX, have = 0, got;
	uint8_t *buf = malloc(cap);
	char user[USER_NAME_MAX] = "-";
	const char *route_name = "-";
	SSL *ssl = NULL;
	int r = LACRE_E_INCOMPLETE, status = 0, one = 1;

	console_timing("conn-start");
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	/* no Nagle: an answer is written as a few TLS records (the head, then
	 * a streamed file's bytes as they come); a small record held back until
	 * the browser's (delayed) ACK of the previous one would add up to
	 * 40 ms to the first audio byte */
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (buf == NULL || (ssl = SSL_new(sv->ctx)) == NULL || SSL_set_fd(ssl, c->fd) != 1 ||
	    SSL_accept(ssl) != 1)
		goto out;
	console_timing("tls-accepted");
	while (r == LACRE_E_INCOMPLETE && have < CONSOLE_HEAD_MAX) {
		if (SSL_read_ex(ssl, buf + have, CONSOLE_HEAD_MAX - have, &got) != 1)
			goto out;
		have += got;
		r = console_http_parse(buf, have, &rq);
	}
	if (r != LACRE_OK) {
		status = r == LACRE_E_TOO_LARGE ? 431 : r == LACRE_E_UNSUPPORTED ? 501 : 400;
		respond_error(ssl, status, status == 431 ? "request too large" :
			      status == 501 ? "not implemented" : "malformed request");
		goto done;
	}
	route_name = rq.path;
	if (rq.head_len + rq.content_length > cap) {
		status = 413;
		respond_error(ssl, 413, "request body too large");
		goto done;
	}
	while (have < rq.head_len + rq.content_length) {
		if (SSL_read_ex(ssl, buf + have, rq.head_len + rq.content_length - have, &got) != 1)
			goto out;
		have += got;
	}
	if (have != rq.head_len + rq.content_length) {
		status = 400;
		respond_error(ssl, 400, "bytes after the request body");
		goto done;
	}
	console_timing("request-read");
	status = route(sv, ssl, &rq, buf + rq.head_len, (size_t)rq.content_length, user,
		       sizeof(user));
	console_timing("answer-sent");
done:
	SSL_shutdown(ssl);
	if (!sv->cfg->quiet) {
		char t[32];
		time_t now = time(NULL);
		struct tm tm;
		gmtime_r(&now, &tm);
		strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%SZ", &tm);
		/* the route only: a file id is a capability, so its tail is cut */
		fprintf(stderr, "%s console: %s %s %.*s %d user=%s\n", t, c->peer, rq.method,
			strncmp(route_name, "/api/file/", 10) ? 64 : 10, route_name, status, user);
	}
out:
	SSL_free(ssl);
	close(c->fd);
	if (buf) {
		OPENSSL_cleanse(buf, cap);
		free(buf);
	}
	atomic_fetch_sub(&sv->conns, 1);
	free(c);
	return NULL;
}

/* Bind host:port (port 0: any); *fd, and the bound address in bound. */
static int listen_on(const char *addr, int *fd, char *bound, size_t blen, char *msg,
		     size_t msglen)
{
	char host[256];
	const char *colon = strrchr(addr, ':');
	struct addrinfo hints, *ai = NULL;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char h[INET6_ADDRSTRLEN];
	int one = 1, s, port;
	size_t hl;

	if (colon == NULL || (hl = (size_t)(colon - addr)) == 0 || hl >= sizeof(host)) {
		snprintf(msg, msglen, "console.listen: '%s' is not host:port", addr);
		return LACRE_E_CONFIG;
	}
	memcpy(host, addr, hl);
	host[hl] = '\0';
	if (host[0] == '[' && hl > 2 && host[hl - 1] == ']') {
		memmove(host, host + 1, hl - 2);
		host[hl - 2] = '\0';
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	if (getaddrinfo(host, colon + 1, &hints, &ai) != 0 || ai == NULL) {
		snprintf(msg, msglen, "console.listen: '%s' is not a numeric address and port", addr);
		return LACRE_E_CONFIG;
	}
	s = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0 || setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(s, ai->ai_addr, ai->ai_addrlen) != 0 || listen(s, 64) != 0 ||
	    getsockname(s, (struct sockaddr *)&ss, &sl) != 0) {
		snprintf(msg, msglen, "cannot listen on %s: %s", addr, strerror(errno));
		if (s >= 0)
			close(s);
		freeaddrinfo(ai);
		return LACRE_E_NETWORK;
	}
	freeaddrinfo(ai);
	if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
		inet_ntop(AF_INET6, &a6->sin6_addr, h, sizeof(h));
		port = ntohs(a6->sin6_port);
		snprintf(bound, blen, "[%s]:%d", h, port);
	} else {
		struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
		inet_ntop(AF_INET, &a4->sin_addr, h, sizeof(h));
		port = ntohs(a4->sin_port);
		snprintf(bound, blen, "%s:%d", h, port);
	}
	*fd = s;
	return LACRE_OK;
}

int console_serve(const struct console_config *cfg, char *msg, size_t msglen)
{
	static const struct static_file defs[3] = {
		{ "/", "index.html", "text/html; charset=utf-8", NULL, 0 },
		{ "/app.js", "app.js", "text/javascript; charset=utf-8", NULL, 0 },
		{ "/style.css", "style.css", "text/css; charset=utf-8", NULL, 0 },
	};
	struct server sv;
	struct sigaction sa;
	char bound[300];
	int lfd = -1, r;

	memset(&sv, 0, sizeof(sv));
	sv.cfg = cfg;
	sv.ctx = cfg->tls_ctx;
	memcpy(sv.files, defs, sizeof(defs));
	for (size_t i = 0; i < 3; i++)
		if ((r = load_static(cfg->web_dir, &sv.files[i], msg, msglen)) != LACRE_OK)
			goto out;
	if ((r = listen_on(cfg->listen, &lfd, bound, sizeof(bound), msg, msglen)) != LACRE_OK)
		goto out;
	if ((r = console_sessions_new(cfg->site, bound, &sv.ss)) != LACRE_OK ||
	    (r = console_relay_new(cfg->keeper_socket, &sv.rl)) != LACRE_OK) {
		snprintf(msg, msglen, "cannot start the console: %s", lacre_strerror(r));
		goto out;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	if (cfg->ready_file) {
		FILE *f = fopen(cfg->ready_file, "w");
		if (f == NULL || fprintf(f, "url=https://%s/\n", bound) < 0 || fclose(f) != 0) {
			snprintf(msg, msglen, "cannot write the ready file %s", cfg->ready_file);
			r = LACRE_E_IO;
			goto out;
		}
	}
	if (!cfg->quiet)
		fprintf(stderr, "lacre-console: listening on https://%s/ (keeper %s)\n", bound,
			cfg->keeper_socket);
	while (!stop_flag) {
		struct pollfd pf = { lfd, POLLIN, 0 };
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		struct conn *c;
		pthread_t th;
		pthread_attr_t at;
		int fd;

		if (poll(&pf, 1, 500) <= 0)
			continue;
		if ((fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC)) < 0)
			continue;
		if (atomic_load(&sv.conns) >= CONSOLE_CONN_MAX || (c = calloc(1, sizeof(*c))) == NULL) {
			close(fd);             /* over the bound: the browser retries */
			continue;
		}
		c->sv = &sv;
		c->fd = fd;
		if (ss.ss_family == AF_INET)
			inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, c->peer,
				  sizeof(c->peer));
		else
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, c->peer,
				  sizeof(c->peer));
		atomic_fetch_add(&sv.conns, 1);
		pthread_attr_init(&at);
		pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
		if (pthread_create(&th, &at, conn_main, c) != 0) {
			atomic_fetch_sub(&sv.conns, 1);
			close(fd);
			free(c);
		}
		pthread_attr_destroy(&at);
	}
	/* let running requests end (their own timeouts bound them) */
	for (int i = 0; i < 100 && atomic_load(&sv.conns) > 0; i++) {
		struct timespec ts = { 0, 100 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	r = LACRE_OK;
	if (!cfg->quiet)
		fprintf(stderr, "lacre-console: stopped\n");
out:
	if (lfd >= 0)
		close(lfd);
	if (atomic_load(&sv.conns) == 0) {
		console_relay_free(sv.rl);
		console_sessions_free(sv.ss);
	}
	for (size_t i = 0; i < 3; i++)
		free(sv.files[i].data);
	return r;
}

/*
 * witness.c - the tlog-witness v1.0.0 server and client (witness.h).
 *
 * Reading order: per-origin state (load, atomic store), the request handler
 * (the checks of spec §7.2 in their order), the HTTP server (libmicrohttpd,
 * one polling thread: requests handled one at a time so that the size check
 * and the state update are atomic), and the client the log uses (libcurl:
 * HTTP or HTTPS to the witnesses of the site's policy).
 *
 * Everything a peer sends is untrusted: a connection's memory (request
 * head) is capped at 32 KiB, bodies at WITNESS_MAX_BODY, proofs at 63
 * lines, and bodies are parsed with struct lacre_rbuf.  The witness's private key never leaves this
 * process; it signs only after every check passed and after nothing but the
 * durable state commit remains.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <microhttpd.h>
#include <openssl/crypto.h>

#include "lacre/err.h"
#include "lacre/tlog.h"
#include "lacre/witness.h"

#define HEAD_MAX 8192
#define IO_TIMEOUT_MS 10000
#define STATE_FILE_MAX (NOTE_MAX_SIZE + 256)

struct witness {
	const struct note_signer *key;
	int dirfd;
	struct note_verifier logs[WITNESS_MAX_LOGS];
	size_t nlogs;
};

/* ---- state ---- */

/* Hex SHA-256 of the origin: the state file name and the monitoring path. */
static void origin_hex(const char *origin, char out[65])
{
	static const char hx[] = "0123456789abcdef";
	uint8_t h[MERKLE_HASH_LEN];

	merkle_sha256(origin, strlen(origin), h);
	for (int i = 0; i < MERKLE_HASH_LEN; i++) {
		out[2 * i] = hx[h[i] >> 4];
		out[2 * i + 1] = hx[h[i] & 15];
	}
	out[64] = '\0';
}

/* Read a state file: "size\nbase64 root\n" then the cosigned note. */
static int state_load(struct witness *w, const char *hex, uint64_t *size,
		      uint8_t root[MERKLE_HASH_LEN], struct lacre_dbuf *note)
{
	uint8_t buf[STATE_FILE_MAX];
	size_t n = 0, i, rl;
	ssize_t r;
	uint64_t v = 0;
	int fd, rc = LACRE_E_CORRUPT;

	if ((fd = openat(w->dirfd, hex, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return errno == ENOENT ? LACRE_E_NOT_FOUND : LACRE_E_IO;
	while (n < sizeof(buf) && (r = read(fd, buf + n, sizeof(buf) - n)) > 0)
		n += (size_t)r;
	close(fd);
	for (i = 0; i < n && buf[i] != '\n'; i++) {
		if (buf[i] < '0' || buf[i] > '9' || i >= 19)
			return rc;
		v = v * 10 + (uint64_t)(buf[i] - '0');
	}
	if (i == 0 || i + 46 > n || buf[i + 45] != '\n' ||
	    note_b64_decode((const char *)buf + i + 1, 44, root, MERKLE_HASH_LEN, &rl) != LACRE_OK)
		return rc;
	*size = v;
	if (note)
		return lacre_dbuf_add(note, buf + i + 46, n - i - 46);
	return LACRE_OK;
}

/* Commit a new state durably: tmp file, fsync, rename, fsync folder. */
static int state_store(struct witness *w, const char *hex, uint64_t size,
		       const uint8_t root[MERKLE_HASH_LEN], const void *note, size_t len)
{
	struct lacre_dbuf d;
	char tmp[80];
	int fd = -1, rc;

	lacre_dbuf_init(&d, STATE_FILE_MAX);
	if ((rc = lacre_dbuf_printf(&d, "%llu\n", (unsigned long long)size)) != LACRE_OK ||
	    (rc = note_b64_encode(root, MERKLE_HASH_LEN, &d)) != LACRE_OK ||
	    (rc = lacre_dbuf_add_u8(&d, '\n')) != LACRE_OK ||
	    (rc = lacre_dbuf_add(&d, note, len)) != LACRE_OK)
		goto out;
	snprintf(tmp, sizeof(tmp), "%s.tmp", hex);
	rc = LACRE_E_IO;
	fd = openat(w->dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		goto out;
	for (size_t off = 0; off < d.len;) {
		ssize_t n = write(fd, d.p + off, d.len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto out;
		off += (size_t)n;
	}
	if (fsync(fd) != 0 || renameat(w->dirfd, tmp, w->dirfd, hex) != 0 ||
	    fsync(w->dirfd) != 0)
		goto out;
	rc = LACRE_OK;
out:
	if (fd >= 0)
		close(fd);
	lacre_dbuf_free(&d);
	return rc;
}

/* Open a witness (see witness.h). */
int witness_open(const struct witness_config *cfg, struct witness **out)
{
	struct note_verifier v;
	struct witness *w;

	note_signer_public(cfg->key, &v);
	if (v.type != NOTE_TYPE_COSIG || cfg->nlogs > WITNESS_MAX_LOGS)
		return LACRE_E_INVALID;
	for (size_t i = 0; i < cfg->nlogs; i++)
		if (cfg->logs[i].type != NOTE_TYPE_ED25519)
			return LACRE_E_INVALID;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return LACRE_E_NOMEM;
	w->key = cfg->key;
	if (cfg->nlogs)
		memcpy(w->logs, cfg->logs, cfg->nlogs * sizeof(*cfg->logs));
	w->nlogs = cfg->nlogs;
	if ((mkdir(cfg->state_dir, 0700) != 0 && errno != EEXIST) ||
	    (w->dirfd = open(cfg->state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		free(w);
		return LACRE_E_IO;
	}
	*out = w;
	return LACRE_OK;
}

/* Close a witness. */
void witness_close(struct witness *w)
{
	if (w == NULL)
		return;
	close(w->dirfd);
	free(w);
}

/* ---- the add-checkpoint handler ---- */

/* Set a status and a one-line body. */
static int answer(int *status, struct lacre_dbuf *resp, int code, const char *msg)
{
	*status = code;
	lacre_dbuf_reset(resp);
	return lacre_dbuf_printf(resp, "%s\n", msg);
}

/* Read one line (without '\n') from b. */
static int body_line(struct lacre_rbuf *b, const uint8_t **p, size_t *len)
{
	const uint8_t *s = lacre_rbuf_ptr(b);
	size_t left = lacre_rbuf_left(b), i;

	for (i = 0; i < left && s[i] != '\n'; i++)
		;
	if (i == left)
		return LACRE_E_MALFORMED;
	*p = s;
	*len = i;
	return lacre_rbuf_skip(b, i + 1);
}

/* The checks of spec §7.2, in order (see witness.h). */
int witness_handle(struct witness *w, const void *body, size_t len, uint64_t now,
		   int *status, struct lacre_dbuf *resp)
{
	struct lacre_rbuf b;
	struct merkle_proof proof;
	struct note_verifier trusted[WITNESS_MAX_LOGS];
	struct checkpoint cp;
	struct note *n = NULL;
	struct lacre_dbuf line, full;
	const uint8_t *p;
	char hex[65];
	uint8_t stored_root[MERKLE_HASH_LEN], empty[MERKLE_HASH_LEN];
	uint64_t old = 0, stored = 0, ok = 0;
	size_t l, nt = 0, i;
	int rc;

	lacre_dbuf_init(&line, 1024);
	lacre_dbuf_init(&full, NOTE_MAX_SIZE + 1024);
	proof.n = 0;
	lacre_rbuf_init(&b, body, len);
	/* old <size> */
	if (body_line(&b, &p, &l) != LACRE_OK || l < 5 || memcmp(p, "old ", 4) != 0 ||
	    l - 4 > 19 || (l > 5 && p[4] == '0')) {
		rc = answer(status, resp, 400, "malformed old line");
		goto out;
	}
	for (i = 4; i < l; i++) {
		if (p[i] < '0' || p[i] > '9') {
			rc = answer(status, resp, 400, "malformed old line");
			goto out;
		}
		old = old * 10 + (uint64_t)(p[i] - '0');
	}
	/* proof lines up to the empty line */
	for (;;) {
		size_t hl;
		if (body_line(&b, &p, &l) != LACRE_OK) {
			rc = answer(status, resp, 400, "missing empty line before the checkpoint");
			goto out;
		}
		if (l == 0)
			break;
		if (proof.n == WITNESS_MAX_PROOF || l != 44 ||
		    note_b64_decode((const char *)p, l, proof.h[proof.n], MERKLE_HASH_LEN, &hl) != LACRE_OK ||
		    hl != MERKLE_HASH_LEN) {
			rc = answer(status, resp, 400, "malformed consistency proof line");
			goto out;
		}
		proof.n++;
	}
	if (note_parse(lacre_rbuf_ptr(&b), lacre_rbuf_left(&b), &n) != LACRE_OK ||
	    checkpoint_parse(n->buf, n->text_len, &cp) != LACRE_OK) {
		rc = answer(status, resp, 400, "malformed checkpoint");
		goto out;
	}
	/* 404: unknown origin */
	for (i = 0; i < w->nlogs; i++)
		if (strcmp(w->logs[i].name, cp.origin) == 0)
			trusted[nt++] = w->logs[i];
	if (nt == 0) {
		rc = answer(status, resp, 404, "unknown log origin");
		goto out;
	}
	/* 403: no trusted signature verifies, or a trusted one fails */
	if (note_verify(n, trusted, nt, &ok, NULL) != LACRE_OK) {
		rc = answer(status, resp, 403, "no valid signature by a trusted log key");
		goto out;
	}
	/* 400: old > size */
	if (old > cp.size) {
		rc = answer(status, resp, 400, "old size is larger than the checkpoint size");
		goto out;
	}
	/* 409: old must be the size this witness last cosigned */
	origin_hex(cp.origin, hex);
	rc = state_load(w, hex, &stored, stored_root, NULL);
	if (rc == LACRE_E_NOT_FOUND) {
		stored = 0;
		merkle_empty_root(stored_root);
	} else if (rc != LACRE_OK) {
		goto out;
	}
	if (old != stored) {
		*status = 409;
		lacre_dbuf_reset(resp);
		rc = lacre_dbuf_printf(resp, "%llu\n", (unsigned long long)stored);
		goto out;
	}
	/* 422: the consistency proof */
	merkle_empty_root(empty);
	if (old == 0) {
		if (proof.n != 0 ||
		    (cp.size == 0 && CRYPTO_memcmp(cp.root, empty, MERKLE_HASH_LEN) != 0)) {
			rc = answer(status, resp, 422, "inconsistent: old 0 needs an empty proof and the empty-tree root");
			goto out;
		}
	} else if (old == cp.size) {
		if (CRYPTO_memcmp(cp.root, stored_root, MERKLE_HASH_LEN) != 0) {
			/* v1.0.0: 409 for the same size with another root */
			*status = 409;
			lacre_dbuf_reset(resp);
			rc = lacre_dbuf_printf(resp, "%llu\n", (unsigned long long)stored);
			goto out;
		}
		if (proof.n != 0) {
			rc = answer(status, resp, 422, "inconsistent: a proof for equal sizes must be empty");
			goto out;
		}
	} else if (merkle_verify_consistency(old, cp.size, stored_root, cp.root, &proof) != LACRE_OK) {
		rc = answer(status, resp, 422, "consistency proof does not verify");
		goto out;
	}
	/* cosign, commit durably, then answer */
	if ((rc = cosig_sign(w->key, n->buf, n->text_len, now, &line)) != LACRE_OK ||
	    (rc = cosig_attach(n->buf, n->len, line.p, line.len, &full)) != LACRE_OK ||
	    (rc = state_store(w, hex, cp.size, cp.root, full.p, full.len)) != LACRE_OK)
		goto out;
	*status = 200;
	lacre_dbuf_reset(resp);
	rc = lacre_dbuf_add(resp, line.p, line.len);
out:
	note_free(n);
	lacre_dbuf_free(&line);
	lacre_dbuf_free(&full);
	return rc;
}

/* The latest cosigned checkpoint of an origin hash. */
int witness_latest(struct witness *w, const char *hex, struct lacre_dbuf *out)
{
	uint8_t root[MERKLE_HASH_LEN];
	uint64_t size;
	size_t i;

	if (strlen(hex) != 64)
		return LACRE_E_NOT_FOUND;
	for (i = 0; i < 64; i++)
		if (!((hex[i] >= '0' && hex[i] <= '9') || (hex[i] >= 'a' && hex[i] <= 'f')))
			return LACRE_E_NOT_FOUND;
	return state_load(w, hex, &size, root, out);
}

/* ---- server (libmicrohttpd) ---- */

/* One request being received: its body, capped at WITNESS_MAX_BODY. */
struct request {
	struct lacre_dbuf body;
	int too_large;
};

/* Queue the answer (status, content type, body copied). */
static enum MHD_Result reply(struct MHD_Connection *conn, int status, const char *ctype,
			     const struct lacre_dbuf *body)
{
	struct MHD_Response *r;
	enum MHD_Result ok;

	r = MHD_create_response_from_buffer(body->len, body->p, MHD_RESPMEM_MUST_COPY);
	if (r == NULL)
		return MHD_NO;
	if (MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype) != MHD_YES) {
		MHD_destroy_response(r);
		return MHD_NO;
	}
	ok = MHD_queue_response(conn, (unsigned)status, r);
	MHD_destroy_response(r);
	return ok;
}

/* The two endpoints of tlog-witness: POST <prefix>/add-checkpoint and
 * GET <prefix>/<64 hex of the origin hash>/checkpoint.  libmicrohttpd
 * parses the request; its one polling thread serves one request at a time,
 * so the size check and the state update of witness_handle are atomic. */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version,
				  const char *upload, size_t *upload_size, void **ctx)
{
	struct witness *w = cls;
	struct request *rq = *ctx;
	struct lacre_dbuf resp;
	const char *ctype = "text/plain; charset=utf-8";
	size_t pl = strlen(url);
	int status = 500, rc;
	enum MHD_Result ok;

	(void)version;
	if (rq == NULL) {
		/* first call: the head is in, no body yet */
		if ((rq = calloc(1, sizeof(*rq))) == NULL)
			return MHD_NO;
		lacre_dbuf_init(&rq->body, WITNESS_MAX_BODY);
		*ctx = rq;
		return MHD_YES;
	}
	if (*upload_size != 0) {
		if (!rq->too_large && lacre_dbuf_add(&rq->body, upload, *upload_size) != LACRE_OK)
			rq->too_large = 1;
		*upload_size = 0;
		return MHD_YES;
	}
	lacre_dbuf_init(&resp, NOTE_MAX_SIZE + 1024);
	if (strcmp(method, "POST") == 0) {
		if (pl < 15 || strcmp(url + pl - 15, "/add-checkpoint") != 0) {
			answer(&status, &resp, 404, "no such endpoint");
		} else if (rq->too_large) {
			answer(&status, &resp, 413, "request too large");
		} else {
			rc = witness_handle(w, rq->body.p, rq->body.len, (uint64_t)time(NULL),
					    &status, &resp);
			if (rc != LACRE_OK)
				answer(&status, &resp, 500, "witness failed to commit its state");
			else if (status == 409)
				ctype = "text/x.tlog.size";
		}
	} else if (strcmp(method, "GET") == 0) {
		char hex[65];
		if (pl < 64 + 12 || strcmp(url + pl - 11, "/checkpoint") != 0 ||
		    url[pl - 11 - 64 - 1] != '/') {
			answer(&status, &resp, 404, "no such endpoint");
		} else {
			memcpy(hex, url + pl - 11 - 64, 64);
			hex[64] = '\0';
			if (witness_latest(w, hex, &resp) != LACRE_OK)
				answer(&status, &resp, 404, "no cosigned checkpoint for this origin");
			else
				status = 200;
		}
	} else {
		answer(&status, &resp, 405, "method not allowed");
	}
	ok = reply(conn, status, ctype, &resp);
	lacre_dbuf_free(&resp);
	return ok;
}

/* Free a request's state when libmicrohttpd is done with it. */
static void on_completed(void *cls, struct MHD_Connection *conn, void **ctx,
			 enum MHD_RequestTerminationCode why)
{
	struct request *rq = *ctx;

	(void)cls;
	(void)conn;
	(void)why;
	if (rq != NULL) {
		lacre_dbuf_free(&rq->body);
		free(rq);
		*ctx = NULL;
	}
}

/* Parse "A.B.C.D:PORT" into a socket address. */
static int parse_addr(const char *s, struct sockaddr_in *sa)
{
	char host[64];
	const char *colon = strrchr(s, ':');
	char *end;
	long port;

	if (colon == NULL || (size_t)(colon - s) >= sizeof(host))
		return LACRE_E_CONFIG;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	if (strcmp(host, "localhost") == 0)
		snprintf(host, sizeof(host), "%s", "127.0.0.1");
	port = strtol(colon + 1, &end, 10);
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	if (*end != '\0' || port < 0 || port > 65535 || inet_pton(AF_INET, host, &sa->sin_addr) != 1)
		return LACRE_E_CONFIG;
	sa->sin_port = htons((uint16_t)port);
	return LACRE_OK;
}

/* Serve until *stop (see witness.h). */
int witness_serve(struct witness *w, const char *listen_addr,
		  volatile sig_atomic_t *stop,
		  void (*ready)(void *arg, int port), void *ready_arg)
{
	struct sockaddr_in sa;
	const union MHD_DaemonInfo *info;
	struct MHD_Daemon *d;
	struct timespec tick = { 0, 200 * 1000000L };
	int rc;

	if ((rc = parse_addr(listen_addr, &sa)) != LACRE_OK)
		return rc;
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL,
			     ntohs(sa.sin_port), NULL, NULL, on_request, w,
			     MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
			     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)(IO_TIMEOUT_MS / 1000),
			     MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HEAD_MAX * 4,
			     MHD_OPTION_CONNECTION_LIMIT, (unsigned)64,
			     MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
			     MHD_OPTION_END);
	if (d == NULL)
		return LACRE_E_NETWORK;
	info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	if (ready)
		ready(ready_arg, info ? (int)info->port : (int)ntohs(sa.sin_port));
	while (!*stop)
		nanosleep(&tick, NULL);
	MHD_stop_daemon(d);
	return LACRE_OK;
}

/* ---- client (libcurl) ---- */

/* libcurl's one-time global set-up (reference-counted: the S3 store's own
 * call is harmless). */
static void client_global_init(void)
{
	(void)curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* The answer being received, capped at its buffer's limit. */
struct http_answer {
	struct lacre_dbuf *body;
	int rc;
};

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct http_answer *a = arg;

	if ((a->rc = lacre_dbuf_add(a->body, p, size * n)) != LACRE_OK)
		return 0; /* too large: libcurl stops with CURLE_WRITE_ERROR */
	return size * n;
}

/* One HTTP exchange with url + suffix (http:// or https://, no redirect,
 * a 10 s deadline): the status and the whole body.  The URL comes from the
 * site's witness policy; the answer is untrusted and capped. */
static int http_exchange(const char *url, const char *method, const char *suffix,
			 const void *body, size_t len, int *status, struct lacre_dbuf *resp)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	struct http_answer ans = { resp, LACRE_OK };
	struct lacre_dbuf full;
	CURL *c = NULL;
	CURLcode cc;
	long code = 0;
	int rc;

	if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
		return LACRE_E_CONFIG;
	lacre_dbuf_init(&full, 4096);
	if ((rc = lacre_dbuf_printf(&full, "%s%s", url, suffix)) != LACRE_OK ||
	    (rc = lacre_dbuf_add_u8(&full, 0)) != LACRE_OK)
		goto out;
	pthread_once(&once, client_global_init);
	rc = LACRE_E_NOMEM;
	if ((c = curl_easy_init()) == NULL)
		goto out;
	rc = LACRE_E_CONFIG;
	if (curl_easy_setopt(c, CURLOPT_URL, (const char *)full.p) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)IO_TIMEOUT_MS) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_WRITEDATA, &ans) != CURLE_OK)
		goto out;
	if (strcmp(method, "POST") == 0 &&
	    (curl_easy_setopt(c, CURLOPT_POST, 1L) != CURLE_OK ||
	     curl_easy_setopt(c, CURLOPT_POSTFIELDS, body) != CURLE_OK ||
	     curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len) != CURLE_OK))
		goto out;
	cc = curl_easy_perform(c);
	switch (cc) {
	case CURLE_OK:
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
		*status = (int)code;
		rc = LACRE_OK;
		break;
	case CURLE_WRITE_ERROR:
		rc = ans.rc != LACRE_OK ? ans.rc : LACRE_E_IO;
		break;
	case CURLE_OPERATION_TIMEDOUT:
		rc = LACRE_E_TIMEOUT;
		break;
	case CURLE_URL_MALFORMAT:
	case CURLE_UNSUPPORTED_PROTOCOL:
		rc = LACRE_E_CONFIG;
		break;
	default:
		rc = LACRE_E_UNAVAILABLE;
	}
out:
	curl_easy_cleanup(c);
	lacre_dbuf_free(&full);
	return rc;
}

/* POST add-checkpoint (see witness.h). */
int witness_add_checkpoint(const char *url, uint64_t old_size,
			   const struct merkle_proof *proof,
			   const void *checkpoint, size_t len,
			   struct lacre_dbuf *cosigs, uint64_t *witness_size)
{
	struct lacre_dbuf body, resp;
	int status = 0, rc;
	size_t i;

	lacre_dbuf_init(&body, WITNESS_MAX_BODY);
	lacre_dbuf_init(&resp, NOTE_MAX_SIZE);
	rc = LACRE_E_INVALID;
	if (proof->n > WITNESS_MAX_PROOF)
		goto out;
	if ((rc = lacre_dbuf_printf(&body, "old %llu\n", (unsigned long long)old_size)) != LACRE_OK)
		goto out;
	for (i = 0; i < proof->n; i++)
		if ((rc = note_b64_encode(proof->h[i], MERKLE_HASH_LEN, &body)) != LACRE_OK ||
		    (rc = lacre_dbuf_add_u8(&body, '\n')) != LACRE_OK)
			goto out;
	if ((rc = lacre_dbuf_add_u8(&body, '\n')) != LACRE_OK ||
	    (rc = lacre_dbuf_add(&body, checkpoint, len)) != LACRE_OK)
		goto out;
	if ((rc = http_exchange(url, "POST", "/add-checkpoint", body.p, body.len, &status,
				&resp)) != LACRE_OK)
		goto out;
	switch (status) {
	case 200:
		rc = lacre_dbuf_add(cosigs, resp.p, resp.len);
		break;
	case 409: {
		uint64_t v = 0;
		size_t k;
		for (k = 0; k < resp.len && k < 20 && resp.p[k] >= '0' && resp.p[k] <= '9'; k++)
			v = v * 10 + (uint64_t)(resp.p[k] - '0');
		if (k == 0 || k >= 20 || k >= resp.len || resp.p[k] != '\n') {
			rc = LACRE_E_FORK;
			break;
		}
		if (witness_size)
			*witness_size = v;
		rc = LACRE_E_STATE;
		break;
	}
	case 422: rc = LACRE_E_FORK; break;
	case 403: rc = LACRE_E_AUTH; break;
	case 404: rc = LACRE_E_NOT_FOUND; break;
	case 400: rc = LACRE_E_INVALID; break;
	default: rc = LACRE_E_UNAVAILABLE; break;
	}
out:
	lacre_dbuf_free(&body);
	lacre_dbuf_free(&resp);
	return rc;
}

/* GET a URL on a loopback host. */
int witness_http_get(const char *url, int *status, struct lacre_dbuf *body)
{
	return http_exchange(url, "GET", "", "", 0, status, body);
}

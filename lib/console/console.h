/*
 * console.h - the web console (lacre-console): an HTTPS front end that holds
 * NO key and relays requests, signed in the user's browser, to the keeper's
 * Unix socket (DESIGN.md §2, docs/console.md).  Internal to lib/console/ and
 * cmd/lacre-console/ (and its tests and fuzz harness).
 *
 * Modules:
 *   http.c     a small, bounded HTTP/1.1 request-head parser (every byte
 *              through lacre_rbuf; fuzzed by fuzz/fuzz_console_http.c) and
 *              the response writer
 *   body.c     the two small bodies the page sends (login, signature),
 *              parsed strictly (fuzzed by fuzz/fuzz_console_body.c)
 *   tls.c      the OpenSSL 3 server context; a self-signed P-256
 *              certificate made at first start; its SHA-256 fingerprint
 *   session.c  login challenges, sessions (HttpOnly cookie, CSRF token,
 *              15 min idle expiry), the users.log recheck
 *   relay.c    one keeper request per /api/run: frames relayed, 'S' frames
 *              parked for the browser's signature (/api/sign), output
 *              files held for one download (/api/file/ID)
 *   server.c   listening socket, one thread per connection (bounded),
 *              routing, static files, security headers
 *   timing.c   LACRE_CONSOLE_TIMING phase lines (bench/console.sh)
 */
#ifndef LACRE_CONSOLE_H
#define LACRE_CONSOLE_H

#include <stddef.h>
#include <stdint.h>

#include "lacre/buf.h"
#include "lacre/site.h"
#include "lacre/users.h"

#define CONSOLE_HEAD_MAX 8192            /* bytes of a request line + headers */
#define CONSOLE_HEADERS_MAX 64           /* header lines of one request */
#define CONSOLE_BODY_MAX (64 * 1024 + 4096) /* a keeper request and some framing */
#define CONSOLE_PATH_MAX 128
#define CONSOLE_TOKEN_LEN 32             /* bytes of session ids, CSRF tokens, ids */
#define CONSOLE_SESSIONS_MAX 64
#define CONSOLE_IDLE_S (15 * 60)         /* a session idle this long is over */
#define CONSOLE_CHALLENGES_MAX 128
#define CONSOLE_CHALLENGE_S 60           /* a login challenge lives this long */
#define CONSOLE_PENDING_MAX 16           /* relays waiting for a browser signature */
#define CONSOLE_PENDING_PER_SESSION 4
#define CONSOLE_PENDING_S 120            /* a parked relay waits this long */
#define CONSOLE_FILES_MAX 16             /* output files held for download */
#define CONSOLE_FILE_S 600               /* and for this long */
#define CONSOLE_FILE_MAX (256u << 20)    /* bytes of one output file */
#define CONSOLE_OUT_MAX (16u << 20)      /* bytes of one command's stdout */
#define CONSOLE_CONN_MAX 64              /* concurrent connections */
#define CONSOLE_IO_TIMEOUT_S 15          /* a client silent this long is dropped */
#define CONSOLE_KEEPER_TIMEOUT_MS (300 * 1000) /* between two keeper frames */
#define CONSOLE_LOGIN_MAGIC "lacre-console-login/v1"
#define CONSOLE_COOKIE "lacre_session"

/* ---- http.c ---- */

/* A parsed request head (untrusted input, validated). */
struct console_http_req {
	char method[8];                  /* GET, POST, HEAD */
	char path[CONSOLE_PATH_MAX];     /* [A-Za-z0-9/._-], starts with '/', no ".." */
	size_t head_len;                 /* bytes of the head, final CRLF CRLF included */
	uint64_t content_length;         /* 0 when absent */
	int has_session;                 /* a well-formed lacre_session cookie */
	uint8_t session[CONSOLE_TOKEN_LEN];
	int has_csrf;                    /* a well-formed X-CSRF-Token header */
	uint8_t csrf[CONSOLE_TOKEN_LEN];
	int has_range;                   /* Range: bytes=A- or bytes=A-B */
	uint64_t range_start, range_end; /* inclusive; range_end UINT64_MAX: open */
};

/* Parse the request head at p[0..n).  LACRE_OK with rq filled;
 * LACRE_E_INCOMPLETE when no blank line ends the head yet (read more, up to
 * CONSOLE_HEAD_MAX); LACRE_E_TOO_LARGE (head or a count over its cap, a
 * Content-Length over CONSOLE_BODY_MAX); LACRE_E_UNSUPPORTED
 * (Transfer-Encoding, a method other than GET/HEAD/POST, HTTP other than
 * 1.0/1.1); LACRE_E_MALFORMED (any other deviation: bare LF, control
 * bytes, a path outside the allowed characters or with a query, a
 * duplicated Content-Length or Cookie session). */
int console_http_parse(const uint8_t *p, size_t n, struct console_http_req *rq);

/* Append to out a response head: status line, the security headers
 * (Content-Security-Policy, nosniff, no-referrer, frame-ancestors none,
 * Cache-Control no-store, HSTS), Connection: close, the given
 * Content-Type and Content-Length, then extra (CRLF-terminated lines or
 * ""), then the blank line. */
int console_http_head(struct lacre_dbuf *out, int status, const char *ctype, uint64_t clen,
		      const char *extra);
/* The reason phrase of status ("OK", "Not Found", ...). */
const char *console_http_reason(int status);

/* ---- tls.c ---- */

/* Load cert_path/key_path, or when both are absent make a P-256 key (mode
 * 0600) and a self-signed certificate (CN lacre-console, SAN IP 127.0.0.1,
 * DNS localhost and host when it is a name or address) valid 825 days;
 * *made is set to 1 then.  fpr receives the SHA-256 fingerprint of the
 * certificate (hex, 64 chars + NUL) and spki the base64 SHA-256 of its
 * public key (what Chromium's --ignore-certificate-errors-spki-list takes,
 * 44 chars + NUL).  *ctx is an SSL_CTX (TLS 1.2 at least). */
int console_tls_setup(const char *cert_path, const char *key_path, const char *host,
		      void **ctx, char fpr[65], char spki[45], int *made, char *msg,
		      size_t msglen);
void console_tls_free(void *ctx);

/* ---- session.c ---- */

struct console_session_info {
	char user[USER_NAME_MAX];
	char role[16];
	char unit[USER_UNIT_MAX];
	uint8_t id[CONSOLE_TOKEN_LEN];
	uint8_t csrf[CONSOLE_TOKEN_LEN];
};

/* Sessions and challenges of one console (thread-safe). */
struct console_sessions;
/* listen is the console's host:port: login origins must be https://listen
 * (or https://localhost:PORT for a 127.0.0.1 listener). */
int console_sessions_new(const struct site *s, const char *listen,
			 struct console_sessions **out);
void console_sessions_free(struct console_sessions *ss);
/* A fresh one-use login challenge (CONSOLE_CHALLENGE_S to answer). */
int console_challenge_new(struct console_sessions *ss, uint8_t ch[CONSOLE_TOKEN_LEN]);
/* The bytes a browser signs to log in (FORMATS §15): appended to out. */
int console_login_message(const char *user, const char *origin,
			  const uint8_t ch[CONSOLE_TOKEN_LEN], struct lacre_dbuf *out);
/* A login body, parsed (FORMATS §15): "user NAME\norigin O\nchallenge
 * HEX\nsig HEX\n", nothing else.  LACRE_E_MALFORMED otherwise (a name
 * that is not a user name, an empty or over-long origin, hex of the wrong
 * length or case, a control byte, a missing or extra line). */
struct console_login_req {
	char name[USER_NAME_MAX];
	char origin[300];
	uint8_t challenge[CONSOLE_TOKEN_LEN];
	uint8_t sig[64];
};
int console_login_parse(const uint8_t *body, size_t n, struct console_login_req *lr);
/* Log in: body is "user NAME\norigin O\nchallenge HEX\nsig HEX\n" (untrusted).
 * The challenge must be one this console gave out, unused and fresh; the
 * signature must verify with NAME's key in users.log; NAME must be
 * enabled.  On success a new session; *info receives it.  LACRE_E_MALFORMED
 * (body), LACRE_E_AUTH (challenge unknown or used, signature, unknown
 * user: one answer, so names cannot be probed), LACRE_E_DENIED (disabled),
 * LACRE_E_TOO_LARGE (sessions full). */
int console_login(struct console_sessions *ss, const uint8_t *body, size_t n,
		  struct console_session_info *info);
/* Look up a session by its cookie, touch it, recheck users.log when
 * recheck (a user disabled since login loses the session at once).  csrf:
 * when not NULL it must equal the session's token.  LACRE_E_AUTH
 * otherwise.  POST /api/sign passes recheck 0: it only answers a relay
 * that this session's /api/run opened (rechecked then), and during user
 * add/disable the keeper holds users.log's exclusive lock while it waits
 * for that very signature (a shared-lock read would wait for the keeper's
 * 120 s timeout). */
int console_session_check(struct console_sessions *ss, const uint8_t id[CONSOLE_TOKEN_LEN],
			  const uint8_t *csrf, int recheck, struct console_session_info *info);
/* End a session (logout). */
void console_session_end(struct console_sessions *ss, const uint8_t id[CONSOLE_TOKEN_LEN]);

/* ---- relay.c ---- */

struct console_relay;
int console_relay_new(const char *keeper_socket, struct console_relay **out);
void console_relay_free(struct console_relay *rl);
/* POST /api/run: body is one keeper request (FORMATS §11, with its sig
 * line), signed in the browser.  Its user must be the session's.  The
 * answer (JSON, FORMATS §15) goes to out: {"state":"sign",...} when the
 * keeper asks for a signature, {"state":"stream","file":ID} when a WAV's
 * header has come (the rest follows in GET /api/file/ID, the end in GET
 * /api/file/ID/done), {"state":"done",...} at its exit frame.
 * *http_status is the HTTP status to answer with.  LACRE_OK when out
 * holds an answer. */
int console_relay_run(struct console_relay *rl, const struct console_session_info *si,
		      const uint8_t *body, size_t n, struct lacre_dbuf *out, int *http_status);
/* The /api/sign body, parsed: "id HEX\nsig HEX\n" (*siglen 64) or
 * "id HEX\nsig \n" (*siglen 0: the user refuses).  LACRE_E_MALFORMED
 * otherwise. */
int console_sign_parse(const uint8_t *body, size_t n, uint8_t id[CONSOLE_TOKEN_LEN],
		       uint8_t sig[64], size_t *siglen);
/* POST /api/sign: body "id HEX\nsig HEX\n" (or "sig \n": refused). */
int console_relay_sign(struct console_relay *rl, const struct console_session_info *si,
		       const uint8_t *body, size_t n, struct lacre_dbuf *out, int *http_status);
/* GET /api/file/HEX: the held output file of this session.  *data and
 * *len point into the relay's memory until console_relay_file_put; the
 * file's Content-Type and download name go to ctype/fname. */
struct console_file;
int console_relay_file_get(struct console_relay *rl, const struct console_session_info *si,
			   const char *hexid, struct console_file **f, const uint8_t **data,
			   size_t *len, const char **ctype, const char **fname);
void console_relay_file_put(struct console_relay *rl, struct console_file *f);
/* Send bytes [off, off + n) of a file got with console_relay_file_get
 * through wr(arg, ...): a streamed WAV's bytes as they arrive (*len from
 * file_get is the length its header announced).  LACRE_E_TRUNCATED when
 * its command failed before those bytes came (the caller closes the
 * connection short of its Content-Length), LACRE_E_NETWORK when wr fails. */
int console_relay_file_send(struct console_relay *rl, struct console_file *f, size_t off,
			    size_t n, int (*wr)(void *arg, const void *p, size_t n), void *arg);
/* GET /api/file/HEX/done (path "HEX/done"): a streamed file's command
 * ended; its "done" answer (FORMATS §15) goes to out once the keeper's exit
 * frame came.  404 for no such file of this session. */
int console_relay_file_done(struct console_relay *rl, const struct console_session_info *si,
			    const char *path, struct lacre_dbuf *out, int *http_status);
/* Drop everything of a session (logout). */
void console_relay_forget(struct console_relay *rl, const uint8_t sid[CONSOLE_TOKEN_LEN]);

/* ---- server.c ---- */

struct console_config {
	const struct site *site;
	const char *listen;           /* host:port */
	const char *keeper_socket;
	const char *web_dir;          /* static files */
	void *tls_ctx;
	const char *ready_file;       /* "url=https://H:P/\n" once listening, or NULL */
	int quiet;
};

/* Serve until SIGTERM or SIGINT.  msg explains a failure to start. */
int console_serve(const struct console_config *cfg, char *msg, size_t msglen);

/* ---- timing.c ---- */

/* With LACRE_CONSOLE_TIMING=1: one stderr line "lacre-console: timing:
 * t=US what" (CLOCK_MONOTONIC microseconds), for bench/console.sh. */
void console_timing(const char *what);

#endif

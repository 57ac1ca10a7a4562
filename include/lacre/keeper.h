/*
 * keeper.h - the keeper: the one process that unlocks the site master key,
 * and the protocol its clients speak (DESIGN.md §2, docs/keeper.md,
 * docs/FORMATS.md "Keeper requests and answers").
 *
 * A client connects to the keeper's Unix socket and sends ONE request:
 *
 *   u32be length ‖ request bytes
 *
 * where the request bytes are canonical text (every line ends in "\n"):
 *
 *   lacre-keeper-request/v1
 *   user <name>                      registered user (users.log)
 *   time <unix microseconds>         the client's clock (UTC)
 *   nonce <32 lower-case hex>        128 random bits
 *   arg <percent-encoded argument>   one per argument; the first is the
 *   ...                              command ("records", "warrant", ...)
 *   sig <128 lower-case hex>         Ed25519 by the user's key over every
 *                                    byte before this line
 *
 * The keeper answers with frames (type byte ‖ u32be length ‖ payload):
 * 'O' stdout bytes, 'E' stderr bytes, 'F' bytes of the output file the
 * command wrote (--output), 'S' bytes the user must sign (an access-log
 * request part, see acl.h), and one final 'X' whose one payload byte is the
 * exit status.  To an 'S' frame the client answers with a 'G' frame that
 * holds the 64-byte signature (or an empty 'G': it refuses to sign).
 *
 * The modules: the protocol, which the client and the keeper share
 * (lib/proto/: request.c encode, parse, verify, replay window; args.c the
 * allow-list of commands and options; frame.c; client.c the CLI side),
 * and the service, private to the keeper domain (lib/keeper/server.c).
 */
#ifndef LACRE_KEEPER_H
#define LACRE_KEEPER_H

#include <stddef.h>
#include <stdint.h>

#include "lacre/buf.h"
#include "lacre/site.h"
#include "lacre/users.h"

#define KEEPER_MAGIC "lacre-keeper-request/v1"
#define KEEPER_REQUEST_MAX 65536          /* bytes of one request, signature included */
#define KEEPER_ARGS_MAX 64                /* arguments, the command included */
#define KEEPER_ARG_MAX 4096               /* bytes of one decoded argument */
#define KEEPER_SKEW_US (120LL * 1000000)  /* |keeper clock - request time| allowed */
#define KEEPER_FRAME_MAX 65536            /* payload bytes of one frame */
#define KEEPER_SOCKET "keeper.sock"       /* default: SITE/keeper.sock */
#define KEEPER_ENV "LACRE_KEEPER"         /* the socket a client uses */
#define KEEPER_REPLAY_CAP 100000          /* nonces remembered at once */

/* Frame types (docs/keeper.md). */
#define KEEPER_F_STDOUT 'O'
#define KEEPER_F_STDERR 'E'
#define KEEPER_F_FILE 'F'
#define KEEPER_F_SIGN 'S'
#define KEEPER_F_SIGNATURE 'G'
#define KEEPER_F_EXIT 'X'

/* A parsed request.  argv[i] are NUL-terminated, argv[argc] is NULL; all
 * storage belongs to the request (keeper_request_free). */
struct keeper_request {
	char user[USER_NAME_MAX];
	int64_t time_us;
	uint8_t nonce[16];
	int argc;
	char *argv[KEEPER_ARGS_MAX + 1];
	uint8_t sig[64];
	size_t signed_len;        /* bytes the signature covers: [0, signed_len) */
};

/* Encode a request of user k for argv[0..argc) at time_us with nonce, and
 * sign it with k's seed; appended to out.  LACRE_E_INVALID (no command, an
 * argument with NUL-free text that is empty is fine), LACRE_E_TOO_LARGE
 * (more than KEEPER_ARGS_MAX arguments, an argument longer than
 * KEEPER_ARG_MAX, or more than KEEPER_REQUEST_MAX bytes). */
int keeper_request_encode(const struct user_key *k, int64_t time_us, const uint8_t nonce[16],
			  int argc, char *const *argv, struct lacre_dbuf *out);

/* Parse request bytes p[0..n) (untrusted: through the checked buffer)
 * into *rq.  Syntax only: the signature is checked by
 * keeper_request_verify.  LACRE_E_TOO_LARGE (n or a count over its cap),
 * LACRE_E_MALFORMED (any deviation from the one canonical form),
 * LACRE_E_INCOMPLETE (no sig line), LACRE_E_NOMEM.  On failure *rq holds
 * nothing to free. */
int keeper_request_parse(const uint8_t *p, size_t n, struct keeper_request *rq);
/* LACRE_OK when rq's signature over p[0..rq->signed_len) verifies with
 * pub, else LACRE_E_AUTH. */
int keeper_request_verify(const struct keeper_request *rq, const uint8_t *p, const uint8_t pub[32]);
void keeper_request_free(struct keeper_request *rq);

/* The replay window: a request is fresh when its time is within
 * KEEPER_SKEW_US of now, not before start_us (the keeper's start: a nonce
 * seen by an earlier run can never come back), and its nonce was not seen
 * in the window.  keeper_replay_check records the nonce of a fresh
 * request.  LACRE_E_RANGE (stale, future or before the start),
 * LACRE_E_EXISTS (replayed nonce), LACRE_E_TOO_LARGE (the window holds
 * KEEPER_REPLAY_CAP nonces: refused, try again later). */
struct keeper_replay;
int keeper_replay_new(int64_t start_us, struct keeper_replay **out);
int keeper_replay_check(struct keeper_replay *c, int64_t now_us, int64_t time_us,
			const uint8_t nonce[16]);
void keeper_replay_free(struct keeper_replay *c);

/* The allow-list (lib/proto/args.c).  argv[0] is the command.  LACRE_OK
 * when the keeper serves it; LACRE_E_DENIED with msg otherwise: a command
 * or subcommand not served by the keeper, an option it does not know
 * (abbreviations included), --site, --user, --passphrase-*, "--". */
int keeper_args_check(int argc, char *const *argv, char *msg, size_t msglen);
/* The position of the output path among argv (the value of --output,
 * --output=, -o), for commands that write a file: *idx is the argument and
 * *off the offset of the path in it (9 for "--output=").  LACRE_E_NOT_FOUND
 * when there is none.  Call after keeper_args_check. */
int keeper_args_output(int argc, char *const *argv, int *idx, size_t *off);
/* Whether the long option name[0..n) (without "--") takes a value: 1, 0,
 * or -1 when the keeper does not know it.  --site, --user, --keeper and
 * --passphrase-* take one. */
int keeper_option_has_value(const char *name, size_t n);
/* Whether argv[0] is a command the keeper may serve (for the client:
 * forward it), whatever its options. */
int keeper_command_served(int argc, char *const *argv);

/* Frames (lib/proto/frame.c).  Both loop over short reads and writes and
 * EINTR.  keeper_frame_read: LACRE_E_INCOMPLETE at a clean end of stream
 * before a frame, LACRE_E_TRUNCATED inside one, LACRE_E_TOO_LARGE when
 * the length exceeds cap, LACRE_E_TIMEOUT after timeout_ms (-1: none). */
int keeper_frame_write(int fd, uint8_t type, const void *p, size_t n);
int keeper_frame_read(int fd, int timeout_ms, uint8_t *type, uint8_t *buf, size_t cap,
		      size_t *n);
/* Read or write exactly n bytes (timeout_ms -1: none). */
int keeper_read_full(int fd, int timeout_ms, void *p, size_t n);
int keeper_write_full(int fd, const void *p, size_t n);

/* ---- the service (lib/keeper/server.c) ---- */

/* What the keeper runs for an authenticated, allowed request, in a worker
 * process whose stdout and stderr go to the client: argv is the request's
 * arguments with "--site DIR" appended and the output path replaced by
 * the worker's private one.  Returns the exit status. */
typedef int (*keeper_run_fn)(void *arg, const char *user, int argc, char **argv);

struct keeper_config {
	const struct site *site;
	const char *socket_path;      /* NULL: SITE/keeper.sock */
	const char *ready_file;       /* NULL: none; else "socket=PATH\n" once listening */
	const char *work_dir;         /* private folder for output files (tmpfs) */
	keeper_run_fn run;
	void *run_arg;
	int quiet;
};

/* Serve until SIGTERM or SIGINT (then stop accepting, let running
 * requests finish, remove the socket).  msg explains a failure to start.
 * LACRE_E_IO, LACRE_E_CONFIG (an unsafe socket folder), LACRE_E_EXISTS
 * (a keeper already listens there). */
int keeper_serve(const struct keeper_config *cfg, char *msg, size_t msglen);

struct passphrase_src;
/* The keeper service's own unlocked keystore (lib/keeper/access_key.c):
 * keeper_keys_unlock opens it (keeper_unlock, lib/keeper/keystore.h) and
 * holds it in the process (msg as there); keeper_keys_close wipes it;
 * keeper_keys_worker, in a worker, makes access_keys_unlock hand it to
 * the request's session (once) instead of reading a passphrase. */
int keeper_keys_unlock(const struct site *s, const struct passphrase_src *src,
		       char *msg, size_t msglen);
void keeper_keys_close(void);
void keeper_keys_worker(void);

/* ---- the client (lib/proto/client.c) ---- */

/* Resolve the keeper socket the CLI should use: explicit (--keeper), else
 * $LACRE_KEEPER, else SITE/keeper.sock when it exists (site_dir may be
 * NULL).  LACRE_E_NOT_FOUND when there is none, or when $LACRE_KEEPER is
 * "off" (the in-process path of this stage, kept on purpose). */
int keeper_client_socket(const char *explicit_path, const char *site_dir, char *out,
			 size_t cap);

/* Send argv as a request signed by k to the keeper at socket_path, print
 * the stdout and stderr frames to this process's stdout and stderr, write
 * the file frames to the output path named in argv (created 0600, never
 * over an existing file), sign the access-log request parts the keeper
 * sends (only those for user k), and set *status to the keeper's exit
 * status.  msg explains a failure to talk to the keeper. */
int keeper_client_run(const char *socket_path, const struct user_key *k, int argc,
		      char *const *argv, int *status, char *msg, size_t msglen);
/* The client's one rule for a signature the keeper asks for (an 'S'
 * frame, or a console relay's "sign" state): sign m[0..n) with k only
 * when it is an access-log request part of k's user, or the registry
 * event the command argv writes (client.c).  LACRE_OK and sig, or
 * LACRE_E_DENIED: refuse (send an empty signature). */
int keeper_client_sign(const struct user_key *k, int argc, char *const *argv, const uint8_t *m,
		       size_t n, uint8_t sig[64]);

/* ---- the remote client (lib/proto/https_client.c) ---- */

/* How the console's certificate is trusted: its SHA-256 fingerprint (32
 * bytes, as lacre-console prints it) or a CA file (PEM). */
struct keeper_https_trust {
	int have_pin;
	uint8_t pin[32];
	const char *ca_file;            /* or NULL */
};

/* keeper_client_run through lacre-console's HTTPS API (FORMATS §15) at
 * url ("https://HOST:PORT"): log in with k (the challenge the browser
 * signs), send the same signed request (FORMATS §11), answer the
 * signature rounds by keeper_client_sign, print stdout and stderr, fetch
 * the output file to the path argv names, log out.  LACRE_E_AUTH when the
 * console's certificate is not the trusted one (nothing is sent). */
int keeper_https_run(const char *url, const struct keeper_https_trust *t,
		     const struct user_key *k, int argc, char *const *argv, int *status,
		     char *msg, size_t msglen);

#endif

/*
 * witness.h - C2SP tlog-witness v1.0.0 (spec/tlog-formats.md §7): the
 * witness server behind `lacre witness`, and the client a log uses to ask
 * witnesses for cosignatures.
 *
 * A witness knows a set of logs (origin + vkey), keeps per origin the
 * latest (size, root) it cosigned, and answers POST <prefix>/add-checkpoint:
 *
 *   body: "old <size>\n" <0..63 base64 proof lines> "\n" <signed checkpoint>
 *   404 unknown origin; 403 no trusted log signature verifies (or a known one
 *   fails); 400 old > size or a malformed body; 409 old != the stored size
 *   (body "<stored size>\n", Content-Type text/x.tlog.size), or equal sizes
 *   with a different root; 422 the consistency proof does not verify (or a
 *   non-empty proof with old 0, or a size-0 checkpoint with another root);
 *   200 with the cosignature line(s).
 *
 * The compare-and-swap of the stored (size, root) is committed durably (tmp
 * file, fsync, rename, fsync folder) before 200 is written; requests are
 * handled one at a time, which makes the check and the update atomic.
 * The draft's monitoring endpoint is served too:
 *   GET <prefix>/<hex SHA-256(origin)>/checkpoint -> the latest cosigned
 *   checkpoint with the log's signature and this witness's cosignature.
 */
#ifndef LACRE_WITNESS_H
#define LACRE_WITNESS_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "lacre/buf.h"
#include "lacre/merkle.h"
#include "lacre/note.h"

#define WITNESS_MAX_LOGS 64
#define WITNESS_MAX_PROOF 63
/* Largest request body accepted. */
#define WITNESS_MAX_BODY (NOTE_MAX_SIZE + 8192)

struct witness;

struct witness_config {
	const struct note_signer *key;      /* 0x04 cosigner key (borrowed) */
	const char *state_dir;              /* per-origin state, made 0700 */
	const struct note_verifier *logs;   /* trusted log keys; name = origin */
	size_t nlogs;
};

/* Open a witness over its state folder. */
int witness_open(const struct witness_config *cfg, struct witness **out);
void witness_close(struct witness *w);
/* Handle one add-checkpoint body (no HTTP): *status gets the HTTP status,
 * resp the response body (cosignature lines on 200, "<size>\n" on 409,
 * a one-line reason otherwise).  now is the cosignature timestamp.  Returns
 * LACRE_OK whenever a status was decided (even 4xx); other errors mean the
 * witness itself failed (state not persisted: answer 500). */
int witness_handle(struct witness *w, const void *body, size_t len, uint64_t now,
		   int *status, struct lacre_dbuf *resp);
/* The latest cosigned checkpoint for an origin hash (64 hex characters):
 * LACRE_E_NOT_FOUND if none. */
int witness_latest(struct witness *w, const char *origin_hex, struct lacre_dbuf *out);

/* Serve HTTP on a listening address "127.0.0.1:PORT" until *stop becomes
 * non-zero (checked at least every 200 ms).  ready (optional) is called
 * with the bound port once listening (port 0 picks one). */
int witness_serve(struct witness *w, const char *listen_addr,
		  volatile sig_atomic_t *stop,
		  void (*ready)(void *arg, int port), void *ready_arg);

/* Client: POST <url>/add-checkpoint.  url is "http://127.0.0.1:PORT[/path]"
 * (loopback only).  On 200 the cosignature lines are appended to cosigs.
 * LACRE_E_STATE on 409 with a size body (*witness_size set, if given),
 * LACRE_E_FORK on 422 or a 409 without a size, LACRE_E_AUTH on 403,
 * LACRE_E_NOT_FOUND on 404, LACRE_E_INVALID on 400, LACRE_E_UNAVAILABLE when
 * the witness cannot be reached or fails (5xx), LACRE_E_TIMEOUT. */
int witness_add_checkpoint(const char *url, uint64_t old_size,
			   const struct merkle_proof *proof,
			   const void *checkpoint, size_t len,
			   struct lacre_dbuf *cosigs, uint64_t *witness_size);
/* Client: GET a URL on 127.0.0.1 (monitoring endpoint); body appended. */
int witness_http_get(const char *url, int *status, struct lacre_dbuf *body);

#endif

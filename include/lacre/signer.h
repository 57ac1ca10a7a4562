/*
 * signer.h - the log signer (lacre-signer, docs/ledger.md "The log
 * signer", docs/cmd-signer.md): a tiny process that alone holds the ingest
 * log's Ed25519 key and signs a checkpoint only when it is consistent with
 * the last one it signed - same origin, size never shrinks, a verified
 * RFC 6962 consistency proof when it grows, the same root when it does
 * not - so a receiver taken over by a parser exploit can append garbage
 * leaves (found at read) but can never fork or roll back the log.
 *
 * Three parts:
 *   - the protocol (signer_proto.c): length-prefixed binary messages,
 *     bounded, parsed through lacre_rbuf (docs/FORMATS.md §6.6);
 *   - the core (signer.c): key, durable state (written and fsync'd BEFORE
 *     a signature leaves), the checks, the refusal record;
 *   - the client (signer_client.c): one request per connection, and a
 *     tlog_signer callback for the receiver (tlog.h).
 * Nothing here reaches a site, the network or a database: lacre-signer
 * links libcrypto alone.
 */
#ifndef LACRE_SIGNER_H
#define LACRE_SIGNER_H

#include <stddef.h>
#include <stdint.h>

#include "lacre/buf.h"
#include "lacre/merkle.h"
#include "lacre/note.h"
#include "lacre/tlog.h"

/* ---- protocol ---- */

#define SIGNER_MAGIC "LSG1"
#define SIGNER_MSG_MAX 16384      /* body bytes after the u32 length */
#define SIGNER_REASON_MAX 300     /* a refusal's reason line */
#define SIGNER_TIMEOUT_MS 5000    /* to read, or to write, one whole frame */

enum signer_type {
	SIGNER_REQ_SIGN = 1,      /* sign this checkpoint */
	SIGNER_REQ_KEY = 2        /* the log's vkey */
};

/* Why a request was refused (stable numbers: they are on the wire). */
enum signer_reason {
	SIGNER_R_MALFORMED = 1,   /* the request does not parse */
	SIGNER_R_ORIGIN = 2,      /* another log's origin */
	SIGNER_R_ROLLBACK = 3,    /* smaller than the last signed size */
	SIGNER_R_FORK = 4,        /* last signed size, another root */
	SIGNER_R_PROOF = 5,       /* the consistency proof does not verify */
	SIGNER_R_STALE = 6,       /* proof from another size than the last signed */
	SIGNER_R_INTERNAL = 7     /* the signer could not sign or commit */
};
#define SIGNER_R_MAX SIGNER_R_INTERNAL

struct signer_request {
	uint8_t type;                       /* enum signer_type */
	char origin[NOTE_NAME_MAX + 1];     /* SIGN only, from here on */
	uint64_t old_size;                  /* the size the proof starts from */
	uint64_t size;
	uint8_t root[MERKLE_HASH_LEN];
	struct merkle_proof proof;
};

/* An answer; text points into the parsed bytes. */
struct signer_answer {
	int ok;                             /* 1 signed / key, 0 refused */
	uint8_t reason;                     /* enum signer_reason when refused */
	uint64_t signed_size;               /* the signer's last signed size (refused) */
	const uint8_t *text;                /* the note or vkey; the reason line */
	size_t text_len;
};

/* Body encoders (no length prefix) and strict parsers (trailing bytes,
 * bad magic, an unknown type, over-long fields and proofs are
 * LACRE_E_MALFORMED / LACRE_E_TRAILING / LACRE_E_INCOMPLETE). */
int signer_request_encode(const struct signer_request *rq, struct lacre_dbuf *out);
int signer_request_parse(const void *p, size_t len, struct signer_request *out);
int signer_answer_ok(const void *text, size_t len, struct lacre_dbuf *out);
int signer_answer_refuse(uint8_t reason, uint64_t signed_size, const char *line,
			 struct lacre_dbuf *out);
int signer_answer_parse(const void *p, size_t len, struct signer_answer *out);
/* "fork", "rollback", ... for a reason code ("unknown" otherwise). */
const char *signer_reason_name(unsigned reason);
/* The lacre_err a refusal maps to (ROLLBACK, FORK, VERIFY, STATE, CONFIG,
 * MALFORMED, UNAVAILABLE). */
int signer_reason_err(unsigned reason);

/* One framed message on a stream socket: u32be length (<= max) ‖ body.
 * A whole frame must pass within SIGNER_TIMEOUT_MS (LACRE_E_TIMEOUT);
 * a short stream is LACRE_E_INCOMPLETE, a long one LACRE_E_TOO_LARGE. */
int signer_frame_read(int fd, size_t max, struct lacre_dbuf *out);
int signer_frame_write(int fd, const void *body, size_t len);

/* ---- the core ---- */

struct signer;

/* Where a signer's key and state come from (signer_open). */
struct signer_config {
	const char *dir;            /* its folder: ingest.key, state, refusals */
	const char *origin;         /* for a new key when there is none (or NULL) */
	const char *legacy_key;     /* moved into dir on first start (or NULL) */
	const char *legacy_state;   /* the receiver's log state: the last signed
	                             * checkpoint adopted with the moved key */
};

/* Open the signer's folder (made 0700; refused when group or others may
 * write it), lock it against a second signer, load or move or make the
 * key, read the state.  msg says what went wrong and what to do. */
int signer_open(const struct signer_config *cfg, struct signer **out, char *msg, size_t msglen);
void signer_close(struct signer *s);
/* The log's origin (the key's name) and the last signed size and root. */
const char *signer_origin(const struct signer *s);
uint64_t signer_size(const struct signer *s);
void signer_root(const struct signer *s, uint8_t out[MERKLE_HASH_LEN]);
void signer_public(const struct signer *s, struct note_verifier *out);

/* Handle one request body, appending the answer body to out (a refusal
 * for anything but a valid consistent request).  Returns LACRE_OK when it
 * signed (or answered the key), else the refusal's lacre_err; when a
 * reason line is wanted, it is in reason (optional, reason_cap bytes).
 * Forks, rollbacks and bad proofs are appended to DIR/refusals (fsync'd).
 * A signature leaves only after the new state is durable. */
int signer_handle(struct signer *s, const void *req, size_t len, struct lacre_dbuf *out,
		  char *reason, size_t reason_cap);

/* ---- the client ---- */

/* One request to the signer at socket path, the answer body into out
 * (LACRE_E_UNAVAILABLE when nobody listens). */
int signer_call(const char *path, const struct signer_request *rq, struct lacre_dbuf *out);
/* The log's vkey from the signer at path. */
int signer_fetch_key(const char *path, struct note_verifier *out);

/* A tlog_signer backed by the signer at path: keeps the latest refusal. */
struct signer_client {
	char path[108];
	int last_rc;                          /* LACRE_OK after a signature */
	char last_reason[SIGNER_REASON_MAX + 64];
	int refused;                          /* the last answer was a refusal */
	uint64_t signed_count;
};
/* Fill sg so that a tlog signs through the client c (key: the log's vkey). */
void signer_client_tlog(struct signer_client *c, const struct note_verifier *key,
			struct tlog_signer *sg);

#endif

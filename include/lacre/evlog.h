/*
 * evlog.h - small append-only, hash-chained event logs whose every line is
 * Ed25519-signed by the user (or the site) that wrote it: the user registry
 * (DIR/users.log, users.h) and the case log (DIR/cases.log: shred requests
 * and approvals, court states; shred.h, retention).  Same line grammar as
 * the warrant log (docs/FORMATS.md §4.5), with the signer named in the line:
 *
 *   <magic> <seq> <type> by=<signer> at=<time> <key>=<value> ... prev=<64 hex>
 *       hash=<64 hex> sig=<128 hex>
 *
 * hash = SHA-256 of the line up to and including the prev= token; sig =
 * Ed25519 over the line up to and including the hash= token, by the key the
 * caller's signer callback names for that line (the registry's key of user
 * `by`, or the site's warrant-log key for `by=site`).  A writer never holds
 * that key itself: evlog_append asks a signing callback for the signature
 * (a seed in this process, or the user's own client through the keeper's
 * connection, docs/keeper.md) and checks it against the key the signer
 * callback names before the line is written.  Values are
 * percent-encoded as in the warrant log.  A reader verifies the whole chain
 * and every signature, and refuses a file whose last line lacks its LF.
 * Writers hold flock(LOCK_EX) while they replay the log, decide and append
 * one line with a single write + fsync; readers hold LOCK_SH.
 *
 * Every byte of the file is read through the checked buffer.  Owned by
 * lib/site/evlog.c.
 */
#ifndef LACRE_EVLOG_H
#define LACRE_EVLOG_H

#include <stddef.h>
#include <stdint.h>

#include "lacre/buf.h"
#include "lacre/pct.h"  /* the percent-encoding of the log lines */

#define EVLOG_LINE_MAX 16384
#define EVLOG_FILE_MAX (64u * 1024 * 1024)
#define EVLOG_FIELDS_MAX 16
#define EVLOG_KEY_MAX 24
#define EVLOG_NAME_MAX 64            /* signer names (user names), with NUL */
#define EVLOG_VALUE_MAX 1024         /* decoded value, with NUL */
#define EVLOG_SITE_SIGNER "site"     /* by= of lines signed by the site's key */

struct evlog_field {
	char key[EVLOG_KEY_MAX];
	char value[EVLOG_VALUE_MAX];
};

/* One event: its type, signer and fields (decoded). */
struct evlog_event {
	uint64_t seq;                    /* line number from 1 (set by the log) */
	char type[EVLOG_KEY_MAX];
	char by[EVLOG_NAME_MAX];
	int64_t at;                      /* when it was written (set by append) */
	size_t n;
	struct evlog_field f[EVLOG_FIELDS_MAX];
	uint8_t hash[32];                /* the line's hash (set by the log) */
};

/* Start an event of type written by signer by. */
void evlog_event_init(struct evlog_event *e, const char *type, const char *by);
/* Add a field (keys [a-z_], unique; values without NUL and control bytes).
 * LACRE_E_INVALID / LACRE_E_TOO_LARGE. */
int evlog_set(struct evlog_event *e, const char *key, const char *value);
/* Add a time field (warrant_time_format form). */
int evlog_set_time(struct evlog_event *e, const char *key, int64_t t);
/* The value of key, or NULL. */
const char *evlog_get(const struct evlog_event *e, const char *key);
/* Parse time field key: LACRE_E_NOT_FOUND / LACRE_E_MALFORMED. */
int evlog_get_time(const struct evlog_event *e, const char *key, int64_t *t);

/* The public key that must have signed ev (ev->by names the signer), given
 * the state built from the lines before it; an error refuses the log. */
typedef int (*evlog_signer_fn)(void *arg, const struct evlog_event *ev, uint8_t pub[32]);
/* Apply a verified event to the caller's state; an error refuses the log
 * (LACRE_E_MALFORMED for an event that breaks the log's rules). */
typedef int (*evlog_apply_fn)(void *arg, const struct evlog_event *ev);

struct evlog;

/* Open the log at path with lines starting with magic and replay it through
 * signer/apply (both called for every line, in order).  writer: lock
 * exclusively, create the file (0644) if absent; else lock shared, and an
 * absent file is an empty log.  Errors: LACRE_E_CORRUPT (chain, signature,
 * grammar or a rule broken; msg names the line), LACRE_E_IO,
 * LACRE_E_TOO_LARGE, LACRE_E_NOMEM. */
int evlog_open(const char *path, const char *magic, int writer, evlog_signer_fn signer,
	       evlog_apply_fn apply, void *arg, struct evlog **out, char *msg, size_t msglen);
/* Produces the Ed25519 signature of m[0..n) (the line up to and including
 * its hash= token) by the signer the line names: with a seed held in this
 * process (evlog_sign_seed), or by asking the user's client through the
 * keeper (the same shape as acl_signer_fn).  LACRE_OK and sig, or an error
 * (the signer refused or went away). */
typedef int (*evlog_sign_fn)(void *arg, const void *m, size_t n, uint8_t sig[64]);
/* An evlog_sign_fn for a 32-byte Ed25519 seed in this process: arg points
 * to the seed. */
int evlog_sign_seed(void *arg, const void *m, size_t n, uint8_t sig[64]);
/* Append ev (seq, at and hash are set here) signed by sign(arg, ...), fsync,
 * then apply it through the apply callback.  The signature is checked
 * against the key the log's signer callback names for ev->by before
 * anything is written: a wrong signature is LACRE_E_AUTH and leaves the
 * file as it was.  The caller checks its rules before; an apply failure
 * after the write is LACRE_E_INTERNAL.  Only for a log opened as writer
 * (LACRE_E_STATE). */
int evlog_append(struct evlog *l, struct evlog_event *ev, evlog_sign_fn sign, void *arg);
/* The two halves of evlog_append, for a caller that must hold the signed
 * line before an irreversible step (a shred approval: the approver's
 * signature before the key is destroyed).  evlog_prepare builds, signs and
 * checks ev's line exactly as evlog_append and keeps it (and the pointer
 * ev, which must stay valid) under the writer's lock; evlog_commit writes,
 * fsyncs and applies it.  One line at a time (a second prepare is
 * LACRE_E_STATE; commit without prepare too); evlog_close drops a prepared
 * line unwritten. */
int evlog_prepare(struct evlog *l, struct evlog_event *ev, evlog_sign_fn sign, void *arg);
int evlog_commit(struct evlog *l);
/* Number of events and the hash of the last line (zeros when empty). */
uint64_t evlog_events(const struct evlog *l);
void evlog_head(const struct evlog *l, uint8_t head[32]);
/* Unlock, close and free (NULL allowed). */
void evlog_close(struct evlog *l);

/* Hex is lacre/hex.h, Ed25519 lacre/ed25519.h, percent encoding lacre/pct.h. */

#endif

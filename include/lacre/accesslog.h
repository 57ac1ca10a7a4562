/*
 * accesslog.h - the site's access log (spec/legal-rules.md LED-25,
 * docs/access.md, docs/FORMATS.md §8): a second transparency log per site,
 * origin "lacre/<site name>/access", signed by its own Ed25519 key
 * (DIR/ledger/access.key, made on first use), durable state in
 * DIR/ledger/access/, tiles and checkpoints on the site's backend through
 * the same tlog API as the ingest log.
 *
 * Each entry is the 32-byte commitment SHA-256(event bytes) of one access
 * event (who, role, unit, action, warrant, what, justification, time,
 * allowed or refused, reason, the user's signature over the request, and a
 * 16-byte random salt so that a guessed event cannot be confirmed from the
 * log).  The event itself is an age file sealed to the auditor recipient
 * (users.log init event; identity in the keystore as "access-auditor") and
 * to the site's oversight recipient: DIR/ledger/access-events/<index>.age,
 * written durably BEFORE its entry is appended, and copied to the backend
 * as acl/<hex commitment> (best effort).
 *
 * accesslog_append returns only when the entry is covered by a signed
 * checkpoint whose journal is fsync'd (tlog_checkpoint).  If the backend
 * is down the checkpoint stays signed locally and publication lags (the
 * next append or `lacre log access` publishes it): the entry is durable,
 * and the access proceeds.  Owned by lib/access/accesslog.c.
 *
 * With witness.policy in lacre.conf the access log asks the same witnesses
 * as the ingest log to cosign every checkpoint before it is published, so
 * the holder of access.key cannot cut, fork or roll it back unseen;
 * accesslog_audit_run (lib/ledger/accesslog_audit.c) checks the backend
 * against the site's and the witnesses' checkpoints.
 */
#ifndef LACRE_ACCESSLOG_H
#define LACRE_ACCESSLOG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lacre/age.h"
#include "lacre/site.h"
#include "lacre/store.h"
#include "lacre/tlog.h"

#define ACCESSLOG_MAGIC "lacre-access-event/v1"
#define ACCESSLOG_EVENT_MAX 16384
#define ACCESSLOG_TEXT_MAX 1024
#define ACCESSLOG_EVENTS_DIR "ledger/access-events"
#define ACCESSLOG_OBJECT_PREFIX "acl/"

/* One access event (strings may be NULL = empty). */
struct accesslog_event {
	int64_t time;                 /* Unix microseconds (0: now) */
	const char *user, *role, *unit;
	const char *action, *warrant, *what, *justification;
	int allowed;
	const char *reason;           /* why refused / what was allowed */
	const uint8_t *request_sig;   /* 64 bytes: the user's Ed25519 signature over
				       * the request part (see accesslog_request), or NULL */
};

/* A decoded event read back from the log (strings NUL-terminated). */
struct accesslog_record {
	uint64_t index;
	uint8_t commitment[32];
	int64_t time;
	char user[ACCESSLOG_TEXT_MAX], role[64], unit[ACCESSLOG_TEXT_MAX];
	char action[64], warrant[ACCESSLOG_TEXT_MAX], what[ACCESSLOG_TEXT_MAX];
	char justification[ACCESSLOG_TEXT_MAX], reason[ACCESSLOG_TEXT_MAX];
	int allowed;
	int has_sig;
	uint8_t request_sig[64];
	int request_sig_ok;           /* 1: verified with the user's registered key */
	int published;                /* 1: proved included in the published checkpoint */
};

/* The log's origin "lacre/<site name>/access". */
int accesslog_origin(const struct site *s, char *out, size_t cap);

/* The request part of an event: the bytes a user signs for a request
 * (magic, salt, time, user, role, unit, action, warrant, what,
 * justification lines).  salt is 16 bytes.  Appended to out. */
int accesslog_request(const uint8_t salt[16], int64_t time, const char *user,
		      const char *role, const char *unit, const char *action,
		      const char *warrant, const char *what, const char *justification,
		      struct lacre_dbuf *out);

/* Append one event: seal it, write it durably, append its commitment and
 * checkpoint (see above).  salt (16 bytes, may be NULL: fresh) must be the
 * one the request signature covers.  *index (may be NULL) gets its position.
 * auditor_pub is the auditor recipient from users.log.  Errors: LACRE_E_IO,
 * LACRE_E_CRYPTO, LACRE_E_STATE (the log stayed locked by another process
 * for 30 s), tlog errors; msg explains.  Nothing may be revealed when this
 * fails. */
int accesslog_append(const struct site *s, const uint8_t auditor_pub[32],
		     const struct accesslog_event *ev, const uint8_t *salt,
		     uint64_t *index, char *msg, size_t msglen);

/* Read back every event of the log with the auditor identity, verifying
 * each: it decrypts, parses, its commitment is the log's entry at its
 * index (an inclusion proof from the backend's tiles against the published
 * checkpoint, verified with the log's key), and the user's request
 * signature checks against users.log.  fn gets each record in index order;
 * problem gets one line per event that fails (missing, undecryptable,
 * not in the log).  *nproblems counts them.  Returns LACRE_OK when the walk
 * ran (check *nproblems), else the error that stopped it. */
int accesslog_read(const struct site *s, const struct age_x25519_identity *auditor,
		   int (*fn)(void *arg, const struct accesslog_record *r),
		   void (*problem)(void *arg, uint64_t index, const char *what),
		   void *arg, uint64_t *nproblems, char *msg, size_t msglen);

/* ---- the keyless audit (lib/ledger/accesslog_audit.c) ----
 *
 * The access log on the backend against every checkpoint the auditor can
 * trust: the site's own published one and, for each witness of
 * witness.policy that has a URL, the latest it cosigned (GET
 * <url>/<hex SHA-256(origin)>/checkpoint).  The log key is the one the
 * policy names for the origin (else DIR/ledger/access/vkey).  Every
 * finding goes to report (kinds of tlog.h); notes (a witness that cannot
 * be asked, sizes compared) go to note.  Opens no private key. */
struct accesslog_audit_opts {
	void (*report)(void *arg, const struct audit_finding *f);
	void (*note)(void *arg, const char *line);
	void *arg;
};

struct accesslog_audit_result {
	char origin[NOTE_NAME_MAX + 1];
	int no_log;            /* no access log on the site nor on the backend */
	uint64_t log_size;     /* size of the tree audited */
	uint64_t entries;      /* entries read from the backend */
	uint64_t findings;     /* problems (each went to report) */
	size_t witnesses;      /* witnesses whose checkpoint was compared */
	size_t unreachable;    /* witnesses that could not be asked */
	int cut;               /* a shorter tree re-signed without the witnesses,
				* or entries gone from the backend */
	int fork;              /* another tree of a size already signed/witnessed */
	int rollback;          /* the backend serves an older witnessed checkpoint */
	int rewritten;         /* objects or a checkpoint altered in place */
};

/* Run the audit.  LACRE_OK when intact (or res->no_log); LACRE_E_VERIFY,
 * LACRE_E_ROLLBACK or LACRE_E_FORK when something was found (the flags
 * name it); other errors when it could not run (LACRE_E_CONFIG: the
 * witness.policy file is invalid). */
int accesslog_audit_run(const struct site *s, struct lacre_store *store,
			const struct accesslog_audit_opts *o, struct accesslog_audit_result *res);
/* "INTACT", "CUT", "FORK", "ROLLBACK" or "REWRITTEN" (the gravest). */
const char *accesslog_audit_verdict(const struct accesslog_audit_result *res);
/* accesslog_audit_run printed to out, for `lacre audit --site` and `lacre
 * access-log --audit`: one line per finding ("<kind> access log <what>"),
 * notes, and a summary line "audited access log ORIGIN size N: ... problems:
 * VERDICT" (or "no access log yet").  Returns what accesslog_audit_run
 * returned. */
int accesslog_audit_print(const struct site *s, struct lacre_store *store, FILE *out);

#endif

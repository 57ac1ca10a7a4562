/*
 * ingest_logs.h - the ingest logs of a site (issue 15, "Many machines"):
 * one per receiver, each with its own origin, key, ledger state, spool,
 * stream state and status file, and the one place every reader (the audit,
 * status, and through receipts.h records, export and verify) learns which logs exist
 * and which checkpoint of each it may trust (lib/site/ingest_logs.c).
 *
 * A receiver has a name (lacre ingest --receiver NAME, or ingest.receiver
 * in lacre.conf; NAME is 1..32 of a-z 0-9 -) or none (the site's unnamed
 * receiver, exactly as before receivers had names):
 *
 *                 unnamed                        named NAME
 *   origin        lacre/<site>/ingest            lacre/<site>/ingest/<NAME>
 *   ledger state  DIR/ledger/ingest/             DIR/ledger/ingest-NAME/
 *   log key       DIR/ledger/ingest.key          DIR/ledger/ingest-NAME.key
 *   spool         spool.dir                      receiver.NAME.spool_dir, else
 *                                                spool.dir followed by "-NAME"
 *   stream state  DIR/state/streams.state        DIR/state/streams-NAME.state
 *   status        DIR/state/status.prom          DIR/state/status-NAME.prom
 *   seen copy     -                              DIR/ledger/seen/ingest-NAME
 *
 * Each log's objects lie under its own prefix on the shared backend
 * (tlog_prefix of its origin); segments of every log share seg/.
 */
#ifndef LACRE_INGEST_LOGS_H
#define LACRE_INGEST_LOGS_H

#include <stddef.h>

#include "lacre/buf.h"
#include "lacre/note.h"
#include "lacre/site.h"

struct lacre_store;

/* One ingest log of a site. */
struct site_ingest_log {
	char name[SITE_RECEIVER_NAME_MAX];   /* "" for the unnamed receiver */
	char origin[NOTE_NAME_MAX + 1];      /* lacre/<site>/ingest[/<name>] */
	char vkey[SITE_RECEIVER_VKEY_MAX];   /* its note verifier key (text) */
	const char *state_dir;               /* its ledger state on this machine, or NULL */
	const char *spool_dir;               /* its spool on this machine, or NULL */
	char state_buf[SITE_PATH_MAX];       /* (what state_dir points to) */
	char spool_buf[SITE_PATH_MAX];       /* (what spool_dir points to) */
};

/* The origin of receiver name's log ("" or NULL: the unnamed one) in out.
 * LACRE_E_CONFIG for a bad name or origin, LACRE_E_TOO_LARGE. */
int site_ingest_origin(const struct site *s, const char *name, char *out, size_t cap);

/* A path of receiver name's log relative to the site folder:
 * "ledger/ingest" (unnamed) or "ledger/ingest-NAME", followed by suffix
 * ("" the state folder, ".key" the log key, "/vkey", "/lock", ...). */
int site_ingest_relpath(const char *name, const char *suffix, char *out, size_t cap);

/* DIR/state/<file> for the unnamed receiver, DIR/state/<base>-NAME<.ext>
 * for a named one (file is "streams.state" or "status.prom"). */
int site_ingest_statefile(const struct site *s, const char *name, const char *file, char *out,
			  size_t cap);

/* Receiver name's spool on this machine (table above). */
int site_ingest_spool(const struct site *s, const char *name, char *out, size_t cap);

/* Make s the configuration of receiver name (NULL: ingest.receiver; ""
 * or an empty ingest.receiver: the unnamed one, nothing changes): sets
 * ingest.receiver, its listeners (receiver.NAME.hi2/hi3 when set) and its
 * spool (cfg.spool_dir, site_ingest_spool).  Run it after --set and
 * before site_config_check.  LACRE_E_CONFIG with msg for a bad name. */
int site_receiver_select(struct site *s, const char *name, char *msg, size_t msglen);

/* Every ingest log of site s, in *out (free with free()), *n of them:
 * the unnamed one when DIR/ledger/ingest/vkey exists; each DIR/ledger/
 * ingest-NAME/ holding a vkey (a receiver on this machine); each
 * receiver.NAME.vkey of lacre.conf with no such folder (a receiver on
 * another machine: state_dir and spool_dir NULL).  Unnamed first, then by
 * name.  A vkey that does not parse or names another origin, or a
 * receiver.NAME.vkey that differs from the local folder's, is
 * LACRE_E_CONFIG with msg naming it.  *n == 0 when the site has no log. */
int site_ingest_logs(const struct site *s, struct site_ingest_log **out, size_t *n, char *msg,
		     size_t msglen);

/* The trust anchor of log: the checkpoint note it may be audited against,
 * appended to note.  With a local state folder, its checkpoint file (the
 * receiver's own view).  Otherwise the backend's checkpoint object for the
 * origin, verified with log->vkey (and cosigned per witness.policy when
 * the site has one), and never older than the newest this site has seen:
 * DIR/ledger/seen/ingest-NAME moves only forward, with a consistency proof
 * from the backend's tiles.  Errors: LACRE_E_NOT_FOUND (no checkpoint
 * yet), LACRE_E_AUTH (signature or witness quorum), LACRE_E_ROLLBACK (older
 * than the seen one), LACRE_E_FORK (same size, other root; or no valid
 * consistency proof), store and I/O errors; msg names the origin. */
int site_ingest_checkpoint(const struct site *s, const struct site_ingest_log *log,
			   struct lacre_store *store, struct lacre_dbuf *note, char *msg,
			   size_t msglen);

/* 1 when a running receiver holds log's ledger state (its lock), else 0
 * (also for a log with no state folder here). */
int site_ingest_running(const struct site_ingest_log *log);

/* 1 when a receiver holds the lock file at path (its LOCK_EX for the whole
 * run), else 0 (no such file, or nobody holds it): the one such check. */
int site_ingest_lock_held(const char *path);

#endif

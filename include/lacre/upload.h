/*
 * upload.h - the spool uploader: moves closed files from a local "outbox"
 * folder to a storage backend, so that sealed data waits locally while a
 * backend is down and nothing is ever lost (DESIGN.md §6-§7,
 * docs/storage.md).
 *
 * A file OUTBOX/a/b becomes the object PREFIX + "a/b".  For each file:
 *   1. put_file_if_absent on the backend (durable there when it returns);
 *   2. stat the object: its size must equal the file's;
 *   3. only then delete the file (or move it to the "sent" folder), and
 *      fsync the folder.
 * LACRE_E_EXISTS with the same size and bytes counts as done (a crash
 * between 1 and 3); different bytes under the name are a conflict: the file
 * is kept and counted.  A backend that is LACRE_E_UNAVAILABLE stops the
 * pass; the files stay and a later call retries after a backoff.
 *
 * Writers must make a file appear in the outbox whole: put it with
 * lacre_store_put_if_absent on a dir: store of the outbox (names with
 * '/' make sub-folders), or write it elsewhere on the same file system and
 * rename it in.  Files whose names break the store's name rules (TMP.*,
 * upper case) are never sent.  One uploader per outbox.
 *
 * Two ways to run it: call upload_drain() from an event-loop tick (it does
 * at most `budget` files per call, each bounded by the backend's timeouts
 * and retries), or upload_start() a background thread that does the same
 * every interval.  Both may not be used at once on one uploader.
 */
#ifndef LACRE_UPLOAD_H
#define LACRE_UPLOAD_H

#include <stddef.h>
#include <stdint.h>

#include "lacre/store.h"

struct upload;

struct upload_config {
	const char *outbox;     /* required: the folder files are taken from */
	const char *sent;       /* NULL: delete sent files; else move them here
	                         * (same file system as outbox) */
	const char *name_prefix;/* prepended to each file's path ("" default) */
	int retry_min_ms;       /* first wait after UNAVAILABLE (default 500) */
	int retry_max_ms;       /* cap of the doubling wait (default 30000) */
	/* more connections to the same backend (the caller's, closed after
	 * upload_close), at most UPLOAD_MORE_MAX: a pass then sends 1 + n_more
	 * files at once, each through its own connection (an S3 store is one
	 * connection at a time).  Files are independent objects: their order
	 * on the backend is not kept then.  NULL, 0: one file at a time. */
	struct lacre_store **more;
	size_t n_more;
};
#define UPLOAD_MORE_MAX 15

struct upload_stats {
	uint64_t sent_files;      /* files moved to the backend since open */
	uint64_t sent_bytes;
	uint64_t already_there;   /* found identical on the backend */
	uint64_t conflicts;       /* name taken by different bytes: kept */
	uint64_t verify_failures; /* backend size wrong after a put: kept */
	uint64_t unavailable;     /* passes cut short by a down backend */
	uint64_t pending_files;   /* in the outbox at the last scan */
	uint64_t pending_bytes;
	int backend_down;         /* the last attempt found it unavailable */
	int last_err;             /* last error on a file (LACRE_OK if none) */
	char last_name[LACRE_STORE_NAME_MAX + 1]; /* the file it concerned */
};

/* Create an uploader from outbox to backend (which the caller keeps
 * owning and must close after upload_close).  The outbox (and sent) folders
 * are created if missing.  LACRE_E_CONFIG for a bad folder or prefix. */
int upload_open(const struct upload_config *cfg, struct lacre_store *backend,
		struct upload **out);

/*
 * One pass: send up to budget files (budget <= 0: all) in name order
 * (started in that order; with more connections, several at once).
 * *moved (may be NULL) receives the number of files that left the outbox.
 * Returns LACRE_OK (files that conflict or fail verification are counted
 * in the stats and kept), LACRE_E_UNAVAILABLE when the backend is down or
 * still in its backoff wait (no I/O then), or a local I/O error.
 */
int upload_drain(struct upload *u, int budget, size_t *moved);

/* Copy the counters (thread-safe). */
void upload_stats_get(struct upload *u, struct upload_stats *st);

/* Run upload_drain in a background thread every interval_ms (and at once
 * after a pass that sent something).  LACRE_E_STATE if already running. */
int upload_start(struct upload *u, int interval_ms);
/* Stop the background thread after the file it is on; no-op if none. */
void upload_stop(struct upload *u);

/* Stop the thread if any and free u; never deletes or sends files. */
void upload_close(struct upload *u);

#endif

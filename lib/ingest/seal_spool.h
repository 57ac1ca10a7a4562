/*
 * seal_spool.h - the ingest spool's crash-consistent layout (private to
 * lib/ingest; docs/FORMATS.md §3.5, docs/ledger.md "Order of durability").
 *
 * A sealed segment reaches the backend only after its "segment closed"
 * entry (v2: its one leaf, carrying the count and root of its records'
 * commitments) is under a signed checkpoint.  The spool folder shows where each segment stands:
 *
 *   SPOOL/TMP.<name>       open segment being written
 *   SPOOL/<name>.streams   which streams and sequence ranges the open segment
 *                          holds: a journal appended after each read batch
 *                          (and each tick), compacted when it grows: what a
 *                          crash loses
 *   SPOOL/<name>.leaves    the segment's ledger batch, durable BEFORE the
 *                          segment appears under its final name
 *   SPOOL/<name>           closed; its batch not yet under a signed checkpoint
 *   SPOOL/ready/<name>     closed and covered: the uploader's outbox
 *   SPOOL/lost/...         what a crash left that can no longer be logged
 *                          (open segments, their manifests), kept for experts
 *
 * The receiver holds no private key and cannot reopen a sealed segment, so
 * recovery works from the .leaves file kept beside each closed segment.
 */
#ifndef LACRE_INGEST_SEAL_SPOOL_H
#define LACRE_INGEST_SEAL_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "lacre/buf.h"

struct tlog;

#define SEAL_SEGMENT_PREFIX "seg/"   /* object names of segments on the backend */
#define SEAL_SPOOL_READY "ready"
#define SEAL_SPOOL_LOST "lost"
#define SEAL_STREAMS_MAX 1024        /* streams named per open segment */
#define SEAL_STREAM_LIID_MAX 64      /* LIID bytes kept per stream (ETSI: 25) */

/* One stream's records in an open segment. */
struct seal_stream {
	uint8_t kind;                    /* enum etsi_kind of the records */
	uint8_t has_cin;
	uint8_t liid_len;
	uint8_t liid[SEAL_STREAM_LIID_MAX];
	uint64_t cin;
	uint64_t first, last, count;     /* lowest and highest sequence number */
	uint8_t dirty;                   /* changed since the journal's last append */
};

/* The streams of one destination's open segment (the .streams manifest). */
struct seal_streams {
	char segment[40];                /* name of the open segment, "" if none */
	struct seal_stream *s;           /* SEAL_STREAMS_MAX slots, allocated on use */
	uint16_t *idx;                   /* hash index: 2 * SEAL_STREAMS_MAX, slot + 1 */
	size_t n;
	size_t last;                     /* slot of the last hit (fast path) */
	uint64_t other;                  /* records beyond the table's capacity */
	int dirty;                       /* changed since the manifest was written */
	uint16_t *dl;                    /* slots changed since the last append (SEAL_STREAMS_MAX) */
	size_t n_dl;
	int other_dirty;                 /* "other" changed since the last append */
	int jfd;                         /* the manifest open for appending, if jopen */
	int jopen;
	uint64_t jbytes;                 /* its size: compacted past SEAL_JOURNAL_COMPACT */
};

#define SEAL_JOURNAL_COMPACT ((uint64_t)256 << 10)

/* Start a table for segment name (forgets the last segment's streams). */
void seal_streams_reset(struct seal_streams *t, const char *name);
/* Count one record (in "other" when the table is full or cannot be
 * allocated). */
void seal_streams_note(struct seal_streams *t, uint8_t kind, const uint8_t *liid,
		       size_t liid_len, int has_cin, uint64_t cin, uint64_t seq);
/* Bring SPOOL/<segment>.streams up to date when the table changed: one
 * append (a single write(2)) of the lines of the streams changed since the
 * last one - each line carries the stream's whole range so far, so the
 * last line of a stream counts - or, the first time and once the journal
 * passes SEAL_JOURNAL_COMPACT bytes, the whole table written anew (tmp +
 * rename).  No fsync: it must survive a kill of the process (the page
 * cache does); a power loss may lose its last writes, which only widens
 * the unreported window.  LACRE_E_IO. */
int seal_streams_write(const char *spool, struct seal_streams *t);
/* Remove SPOOL/<name>.streams (missing is fine).  The caller resets or
 * frees the table, which closes its journal. */
void seal_streams_remove(const char *spool, const char *name);
void seal_streams_free(struct seal_streams *t);

/* Write SPOOL/<name>.leaves: the n commitments then the segment entry,
 * durably (tmp, fsync, rename, fsync folder); recovery checks a v2
 * entry's count and root against the commitments.  LACRE_E_IO. */
int seal_leaves_write(const char *spool, const char *name, const uint8_t (*commits)[32],
		      uint64_t n, const uint8_t *entry, size_t entry_len);

/* Move the covered segment SPOOL/<name> to SPOOL/ready/<name> (fsync both
 * folders), then remove its .leaves and .streams.  LACRE_E_IO. */
int seal_spool_promote(const char *spool, const char *name);

/* What recovery found and did. */
struct seal_recovery {
	uint64_t relogged_segments;      /* batches a crash left unsigned: appended again */
	uint64_t relogged_records;
	uint64_t covered_segments;       /* signed before the crash: promoted now */
	uint64_t legacy_segments;        /* closed segments of an older layout: promoted */
	uint64_t lost_segments;          /* open at the crash: moved to lost/ */
	uint64_t lost_records;           /* as counted by their manifests */
	uint64_t damaged;                /* unreadable .leaves files, moved to lost/ */
};

/* Callbacks of seal_spool_recover. */
struct seal_recovery_ops {
	/* queue a batch (u16be length || entry ...) for the log: a v2
	 * segment's one entry, or a v1 file's commitments then its entry;
	 * the segment waits for the signature of the last one */
	int (*relog)(void *arg, const char *name, const uint8_t *batch, size_t len,
		     uint64_t n_entries);
	/* seal one loss event (a JSON object, accounting-event style) */
	int (*event)(void *arg, const char *json);
	void *arg;
	/* a segment whose batch is in the log's tree but not yet signed (an
	 * outside signer's resumed tree): wait for the checkpoint that signs
	 * its segment entry at index, then promote (may be NULL when the log
	 * signs in-process: it never resumes an unsigned tree) */
	int (*wait)(void *arg, const char *name, uint64_t index);
};

/* Recover the spool after any stop: promote segments whose batch the
 * signed log holds, re-queue those it lacks, move what open segments left
 * to lost/ and report each lost stream range as an event (and on stderr).
 * Run before the receiver starts, with log open.  msg gets the reason of
 * a failure. */
int seal_spool_recover(const char *spool, struct tlog *log, const struct seal_recovery_ops *ops,
		       struct seal_recovery *out, char *msg, size_t msglen);

#endif

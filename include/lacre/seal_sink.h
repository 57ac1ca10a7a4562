/*
 * seal_sink.h - the ingest pipeline behind the handover receiver: each
 * received PS-PDU is decoded, routed by its LIID to a warrant (or to
 * quarantine with a reason), framed with a fresh salt, sealed into a
 * per-destination age segment with PUBLIC keys only, and its commitment
 * appended to the site's ingest log.  Closed segments are appended to the
 * log as "segment closed" entries and uploaded from the spool to the backend
 * by a background uploader; the log is checkpointed at least once a second
 * while it grows.  Nothing here can read what it sealed: it never holds a
 * private key (DESIGN.md §2).
 *
 * Accounting events and alerts from the receiver (JSON objects) are sealed
 * to the oversight recipient as record frames with route "quarantine" and
 * reason "event" (docs/FORMATS.md §3), so they reach the ledger like
 * records.
 */
#ifndef LACRE_SEAL_SINK_H
#define LACRE_SEAL_SINK_H

#include <stdint.h>

#include "lacre/record.h"
#include "lacre/site.h"

/* Counters for tests and the closing log line. */
struct seal_sink_stats {
	uint64_t records;       /* PDUs sealed (routed + quarantined) */
	uint64_t routed;        /* sealed to a warrant */
	uint64_t route_lookups; /* records routed from the registry, not a lane's
	                         * cache of its last answers (SEAL_ROUTE_WAYS) */
	uint64_t late;          /* of which flagged late delivery (L3/L4) */
	uint64_t quarantined;   /* sealed to oversight with a reason */
	uint64_t events;        /* accounting events sealed */
	uint64_t segments;      /* segments closed */
	uint64_t log_size;      /* entries in the ingest log */
	uint64_t signed_size;   /* entries covered by a signed checkpoint */
	uint64_t unsigned_segments; /* closed, waiting for the checkpoint that
	                         * signs their ledger batch (SPOOL/<name>) */
	uint64_t upload_files;  /* covered, waiting for the backend (SPOOL/ready) */
	uint64_t upload_bytes;
	int backend_down;       /* the uploader's last attempt failed */
	int spool_full;         /* refusing records (LACRE_E_NOSPACE) for lack of space */
	uint64_t refused_full;  /* record() calls refused for lack of space */
	uint64_t closing;       /* retired segments the closer has not yet closed */
	int closer_behind;      /* refusing records (LACRE_E_NOSPACE): that many wait */
	uint64_t refused_closer; /* record() calls refused while the closer was behind */
	uint64_t relogged_segments; /* recovered at start: batches re-logged */
	uint64_t lost_records;  /* recovered at start: named as lost in open segments */
	uint64_t signer_refusals; /* ledger.signer: checkpoints lacre-signer refused */
	uint64_t signer_failures; /* refused or unanswered signing requests */
	int signer_refusing;    /* the last signing request failed (segments wait) */
	/* logged latency: from a segment's oldest record to the first
	 * published (cosigned) checkpoint covering its leaf */
	uint64_t logged_segments;   /* leaves seen under a published checkpoint */
	uint64_t logged_last_us;    /* latency of the last one */
	uint64_t logged_max_us;     /* max over the last minute */
	uint64_t unlogged_oldest_us; /* age of the oldest record not yet published */
};

/* Spool space kept free (spool.reserve default) and the filling alert. */
#define SEAL_SPOOL_RESERVE_DEFAULT ((uint64_t)16 << 20)
#define SEAL_SPOOL_FILLING_PCT 80

/* Open the pipeline for site s (borrowed; must outlive the sink): the
 * warrant registry (public keys), the backend, the ingest log (its Ed25519
 * key is made on first use in DIR/ledger/ingest.key), the uploader and a
 * 200 ms timer thread that closes segments by age and checkpoints the log.
 * Before it returns, the spool is recovered (seal_spool.h: unsigned
 * batches re-queued, covered segments queued for upload, open segments of
 * a crash reported lost); it does not wait for the backend.  record()
 * returns LACRE_E_NOSPACE, without taking the PDU, while the spool has no
 * room (spool.reserve, spool.quota).  On success *out is a
 * sink whose close() seals every open segment, checkpoints, drains the
 * spool (bounded wait) and frees everything.  msg explains a failure. */
int seal_sink_open(const struct site *s, struct lacre_sink *out, char *msg, size_t msglen);

/* Counters of a sink made by seal_sink_open (thread-safe). */
/* Tests: hold (1) or release (0) the closer thread, so that retired
 * segments wait for it (record() refuses once SEAL_CQ_MAX of them wait);
 * release it before close(). */
void seal_sink_hold_closer(const struct lacre_sink *sink, int hold);

void seal_sink_stats_get(const struct lacre_sink *sink, struct seal_sink_stats *st);

/* The ingest log's origin for site s ("lacre/<site name>/ingest"). */
int seal_sink_log_origin(const struct site *s, char *out, size_t cap);

/* Load the ingest-log signing key of site s, creating it (0600) when
 * absent.  Caller frees with note_signer_free(). */
struct note_signer;
int seal_sink_log_key(const struct site *s, struct note_signer **out);

#endif

/*
 * deep_audit.h - decrypt every segment the ingest logs name (and every
 * segment on the backend none does) and match every record with its
 * commitment in its ingest log, and every commitment with its record
 * (lib/access/deep_audit.c).  Access domain: needs the identities from the
 * keystore.
 */
#ifndef LACRE_DEEP_AUDIT_H
#define LACRE_DEEP_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "lacre/age.h"
#include "lacre/site.h"
#include "lacre/store.h"

struct deep_identity {
	const char *name;                        /* warrant id or "oversight" */
	const struct age_x25519_identity *id;
};

struct deep_audit_result {
	uint64_t segments;        /* logged segments opened and read */
	uint64_t records;         /* records checked (logged and unlogged segments) */
	uint64_t unopened;        /* logged segments no identity opens (shredded, foreign) */
	uint64_t unreadable;      /* logged segments that could not be fetched */
	uint64_t from_spool;      /* logged segments read from the spool (not uploaded yet) */
	uint64_t record_leaves;   /* 32-byte entries in the log */
	uint64_t unmatched_leaves;/* ... with no record in an opened segment */
	uint64_t lost_leaves;     /* ... of which reported (no record anywhere) */
	uint64_t shredded_leaves; /* ... of which in the batch of a segment no key opens */
	uint64_t open_leaves;     /* ... of which after the last segment entry while
	                           * ingest runs (segments still open) */
	uint64_t unlogged_segments; /* segments on the backend no entry names */
	uint64_t unlogged_records;  /* ... their records with no commitment in the log */
	uint64_t v2_mismatch;     /* logged v2 segments whose records do not hash to
	                           * their entry's count and records root */
	uint64_t problems;        /* report() calls */
};

/* Audit the ingest log of size log_size (the size the keyless audit
 * verified) record by record.  Every problem goes to report, one line
 * each (segment: the segment's object name, or "ingest log" for leaves no
 * segment can be named for):
 *   - a logged segment that does not open, or whose chunk or frame fails;
 *   - a record whose commitment is not in the log, or appears twice (v1);
 *   - a segment of a v2 entry (one leaf per segment) whose records do
 *     not number its count or do not hash to its records root;
 *   - a segment on the backend that no entry names, with its record count
 *     and how many of its records have no commitment in the log;
 *   - commitments with no record: grouped by the segment whose batch they
 *     are in when that batch holds no other segment's records (the batch
 *     of a segment is the run of 32-byte entries before its "segment
 *     closed" entry), else as ranges of log indices.
 * Commitments in the batch of a segment no key opens (shredded) are
 * counted, not reported.  running: ingest holds the log, so the leaves
 * after the last segment entry belong to open segments (counted only).
 * LACRE_OK or LACRE_E_VERIFY; other errors when the audit could not run. */
int deep_audit_run(const struct site *s, struct lacre_store *st, uint64_t log_size, int running,
		   const struct deep_identity *ids, size_t n_ids,
		   void (*report)(void *arg, const char *segment, const char *what), void *arg,
		   struct deep_audit_result *res);

/* One ingest log to audit: its origin, the size the keyless audit
 * verified, and whether its receiver runs. */
struct deep_log {
	const char *origin;
	uint64_t size;
	int running;
};

/* The same over several ingest logs of one site (issue 15: one log per
 * receiver), each alone in order, the results summed: a segment on the
 * backend is unlogged only when no log names it; such segments are read
 * after the last log, and their records' commitments are looked up among
 * that log's 32-byte entries (v1 leaves; a v2 log has none).
 * deep_audit_run is this for the site's own log (seal_sink_log_origin). */
int deep_audit_run_logs(const struct site *s, struct lacre_store *st, const struct deep_log *logs,
			size_t nlogs, const struct deep_identity *ids, size_t n_ids,
			void (*report)(void *arg, const char *segment, const char *what), void *arg,
			struct deep_audit_result *res);

#endif

/*
 * site_audit.h - audit a site's ingest log and its segments on the backend
 * against the checkpoint the site keeps locally, and the site's spool
 * against both (lib/ledger/site_audit.c).  Needs no secret key.
 *
 * Spool layout (spool.dir of lacre.conf; names are lower-case hex):
 *   TMP.<name>              an open segment (a leftover after a crash: lost)
 *   <name>.streams          the streams of open segment <name> (a leftover
 *                           is the loss report of a crash)
 *   <name> + <name>.leaves  closed, its ledger batch not yet under a
 *                           signed checkpoint
 *   ready/<name>            closed and covered, waiting for upload
 *   <name> alone            (older layout) closed, waiting for upload
 *   lost/...                what recovery set aside: open segments and their
 *                           manifests (losses the ledger names), damaged
 *                           batches and their segments (not logged)
 */
#ifndef LACRE_SITE_AUDIT_H
#define LACRE_SITE_AUDIT_H

#include <stdint.h>

#include "lacre/site.h"
#include "lacre/store.h"
#include "lacre/tlog.h"

struct site_audit_result;
struct site_ingest_log;

struct site_audit_opts {
	int fingerprints;     /* 1: read every segment and check its keyless fingerprint */
	void (*report)(void *arg, const struct audit_finding *f); /* each problem */
	void (*on_segment)(void *arg, const char *name);           /* each segment entry */
	void *arg;
	/* optional: each ingest log's own result, once audited (rc: its outcome) */
	void (*on_log)(void *arg, const struct site_ingest_log *log,
		       const struct site_audit_result *r, int rc);
};

struct site_audit_result {
	int no_log;           /* the site has no ingest log yet */
	size_t logs;          /* ingest logs audited (site_ingest_logs) */
	uint64_t log_size;
	uint64_t entries;
	uint64_t segments;    /* segment entries in the log */
	uint64_t pending;     /* ... still in the local spool, not yet uploaded */
	uint64_t missing;     /* ... absent from the backend */
	uint64_t damaged;     /* ... of the wrong size or fingerprint */
	uint64_t unlogged;    /* segments on the backend no entry names */
	uint64_t spool_lost;  /* open-segment leftovers and loss reports */
	uint64_t spool_unlogged; /* closed segments in the spool no entry names */
	uint64_t spool_open;  /* open segments of a running ingest (not problems) */
	uint64_t spool_lost_named; /* files in SPOOL/lost of losses the ledger names */
	int ingest_running;   /* the ingest log was locked by a running ingest */
	uint64_t findings;    /* all problems, tiles, checkpoints and spool included */
	char error[SITE_MSG_MAX]; /* why the audit (of a log) could not run, or "" */
};

/* Audits every ingest log of the site (lacre/ingest_logs.h), each against
 * its trust anchor (site_ingest_checkpoint) and its own spool when it is on
 * this machine; res is the total, on_log gets each log's part.
 * LACRE_OK when everything matches; LACRE_E_VERIFY, LACRE_E_ROLLBACK or
 * LACRE_E_FORK when something does not (each problem went to report);
 * other errors when the audit could not run.  Besides the keyless audit of
 * the log (tlog.h), every segment object on the backend that no entry names
 * is an AUDIT_UNLOGGED finding, and every spool leftover an AUDIT_SPOOL
 * finding saying what it means; while ingest runs, its open segments and
 * unsigned batches are counted, not reported. */
int site_audit_run(const struct site *s, struct lacre_store *store,
		   const struct site_audit_opts *o, struct site_audit_result *res);

/* 1 when a running ingest holds site s's ingest log (its state folder's
 * lock), 0 when none does or the site has no log yet. */
int site_audit_ingest_running(const struct site *s);

/* Whether name is a segment name (32 lower-case hex characters). */
int site_audit_segment_name(const char *name);

#endif

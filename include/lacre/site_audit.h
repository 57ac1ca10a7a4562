/*
 * site_audit.h - audit a site's ingest log and its segments on the backend
 * against the checkpoint the site keeps locally (lib/access/site_audit.c).
 * Needs no secret key.
 */
#ifndef LACRE_SITE_AUDIT_H
#define LACRE_SITE_AUDIT_H

#include <stdint.h>

#include "lacre/site.h"
#include "lacre/store.h"
#include "lacre/tlog.h"

struct site_audit_opts {
	int fingerprints;     /* 1: read every segment and check its keyless fingerprint */
	void (*report)(void *arg, const struct audit_finding *f); /* each problem */
	void (*on_segment)(void *arg, const char *name);           /* each segment entry */
	void *arg;
};

struct site_audit_result {
	int no_log;           /* the site has no ingest log yet */
	uint64_t log_size;
	uint64_t entries;
	uint64_t segments;    /* segment entries in the log */
	uint64_t pending;     /* ... still in the local spool, not yet uploaded */
	uint64_t missing;     /* ... absent from the backend */
	uint64_t damaged;     /* ... of the wrong size or fingerprint */
	uint64_t findings;    /* all problems, tiles and checkpoints included */
};

/* LACRE_OK when everything matches; LACRE_E_VERIFY, LACRE_E_ROLLBACK or
 * LACRE_E_FORK when something does not (each problem went to report);
 * other errors when the audit could not run. */
int site_audit_run(const struct site *s, struct lacre_store *store,
		   const struct site_audit_opts *o, struct site_audit_result *res);

#endif

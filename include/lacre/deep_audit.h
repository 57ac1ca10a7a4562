/*
 * deep_audit.h - decrypt every logged segment and match every record with
 * its commitment in the ingest log (lib/access/deep_audit.c).  Access
 * domain: needs the identities from the keystore.
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
	uint64_t segments;        /* segments opened and read */
	uint64_t records;         /* records checked */
	uint64_t unopened;        /* segments no identity opens (shredded, foreign) */
	uint64_t unreadable;      /* segments that could not be fetched */
	uint64_t record_leaves;   /* 32-byte entries in the log */
	uint64_t unmatched_leaves;/* ... with no record in an opened segment */
	uint64_t problems;
};

/* segments: the "segment closed" names the keyless audit found in the log
 * of size log_size.  Each problem goes to report.  LACRE_OK or
 * LACRE_E_VERIFY. */
int deep_audit_run(const struct site *s, struct lacre_store *st, uint64_t log_size,
		   const char *const *segments, size_t n_segments,
		   const struct deep_identity *ids, size_t n_ids,
		   void (*report)(void *arg, const char *segment, const char *what), void *arg,
		   struct deep_audit_result *res);

#endif

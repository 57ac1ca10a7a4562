/*
 * access.h - the access domain's reads of sealed records (DESIGN.md §2):
 * find the segments a warrant's (or the oversight) identity opens on the
 * backend, decrypt them, verify every chunk, and hand back the records.
 *
 * Object names are opaque and the age header does not say whom a segment
 * is sealed to, so a read lists the segment objects and tries the identity
 * on each header (one X25519 operation per segment): a segment the identity
 * does not open is simply not this warrant's.  A segment that opens but
 * fails a check (header MAC, a chunk tag, truncation, a frame) is reported
 * through the problem callback with its own error - never returned as data.
 */
#ifndef LACRE_ACCESS_H
#define LACRE_ACCESS_H

#include <stddef.h>
#include <stdint.h>

#include "lacre/age.h"
#include "lacre/frame.h"
#include "lacre/store.h"

#define ACCESS_SEGMENT_PREFIX "seg/"

/* Which records a read returns. */
struct access_filter {
	const char *warrant;     /* only records routed to this warrant id (NULL: any) */
	int quarantine;          /* 1: only quarantined records (and events) */
	int64_t from_us;         /* interception (or receive) time >= from (INT64_MIN: open) */
	int64_t to_us;           /* time < to (INT64_MAX: open) */
	int has_cin;             /* 1: only records with this CIN */
	uint32_t cin;
	int events;              /* with quarantine: 1 include accounting events */
};

/* Records a party copy leaves out (lacre export --exclude-*): the
 * renderings of a call skip them (silence in a WAV, absent from a pcap).
 * fn(arg, segment, index) returns non-zero for a record to leave out. */
struct access_skip {
	int (*fn)(void *arg, const char *segment, uint64_t index);
	void *arg;
};

/* One record handed to the caller; pointers valid during the call only. */
struct access_record {
	const struct frame_record *rec;
	const char *segment;      /* object name on the backend */
	uint64_t index;           /* position in the segment (0 = first record) */
};

struct access_report {
	uint64_t segments_listed; /* segment objects on the backend */
	uint64_t segments_opened; /* ... that this identity opens */
	uint64_t records;         /* records handed to the callback */
	uint64_t problems;        /* segments that failed a check */
};

/* Read every record the identity opens that passes filter f, in segment
 * creation order then record order.  fn returning non-zero stops the read
 * and is returned.  problem (may be NULL) gets one line per damaged
 * segment ("seg/ab..: stored data is corrupt (a chunk tag failed)").
 * Returns LACRE_OK when every opened segment read cleanly, LACRE_E_CORRUPT /
 * LACRE_E_TRUNCATED / LACRE_E_MISSING for the first problem met (after
 * reading everything else), or a backend error. */
int access_read(struct lacre_store *store, const struct age_x25519_identity *id,
		const struct access_filter *f,
		int (*fn)(void *arg, const struct access_record *r), void *arg,
		void (*problem)(void *arg, const char *segment, int err, const char *what),
		struct access_report *rep);

/* Default filter: everything. */
void access_filter_init(struct access_filter *f);

#endif

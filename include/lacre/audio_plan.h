/*
 * audio_plan.h - a call's audio plan kept in the access index (tables
 * audio_plans and audio_plan_segments, docs/FORMATS.md §10), so that the
 * first audio byte of a long call needs only its first segment's rows
 * (docs/cmd-audio.md, "The stored plan").  What is kept never changes once
 * the call's segments are sealed and indexed: each side's main SSRC, its
 * lowest unwrapped sequence number, offset and frame, the file's length,
 * the report's counts and gaps, and per segment (in read order) its row
 * count and, per chunk of AUDIO_PLAN_CHUNK rows, the unwrapped sequence
 * number of the chunk's first packet of each side and the lowest frame
 * the rows from the chunk to the segment's end write.  A plan is used
 * only while it is fresh: the call's parameters hash the same, every
 * segment it names is still indexed with the same creation time, and the
 * index holds as many CC rows of the call's CINs in its span as when it
 * was made (the index only ever adds rows, in a segment's transaction,
 * and index_reset deletes every plan).  lib/access/audio.c makes and uses
 * it; this module stores, loads and checks it (owned by
 * lib/access/audio_plan.c).
 */
#ifndef LACRE_AUDIO_PLAN_H
#define LACRE_AUDIO_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "lacre/audio.h"
#include "lacre/calls.h"
#include "lacre/index.h"

#define AUDIO_PLAN_CHUNK 4096        /* rows per chunk (the first byte waits for one) */
#define AUDIO_PLAN_MAX_CHUNK (1u << 20)

/* The call's RTP rows in the records table r: ?1 warrant, ?2..?9 CINs,
 * ?10 and ?11 the span (audio_plan_bind). */
#define AUDIO_PLAN_ROWS \
	"r.kind = 'cc' AND r.content = 'ipmmcc' AND r.rtp_ssrc IS NOT NULL AND r.cin IN (?2, ?3, " \
	"?4, ?5, ?6, ?7, ?8, ?9) AND r.time_us >= ?10 AND r.time_us <= ?11"
/* The same test, for rows found through (warrant, segment): the unary
 * plus keeps SQLite from scanning the call's rows by records_cin. */
#define AUDIO_PLAN_SEG_ROWS \
	"+r.kind = 'cc' AND +r.content = 'ipmmcc' AND +r.rtp_ssrc IS NOT NULL AND +r.cin IN (?2, " \
	"?3, ?4, ?5, ?6, ?7, ?8, ?9) AND +r.time_us >= ?10 AND +r.time_us <= ?11"

/* One chunk of a segment's rows. */
struct audio_plan_chunk {
	uint64_t minpos;             /* lowest frame written from here to the segment's end
				      * (UINT64_MAX: none) */
	int64_t anchor[2];           /* unwrapped sequence number of the chunk's first
				      * packet of each side ... */
	uint8_t has[2];              /* ... when it has one */
};

/* One segment of the plan, in read order. */
struct audio_plan_seg {
	char *name;
	int64_t created;
	uint64_t packets;            /* the call's rows in it */
	struct audio_plan_chunk *ch; /* ceil(packets / chunk) */
	size_t n_ch;
};

struct audio_stored {
	uint32_t chunk;              /* rows per chunk */
	uint32_t main_ssrc[2];
	int64_t base[2];             /* lowest unwrapped sequence number per side */
	uint64_t off[2];             /* the side's first frame */
	uint64_t frame[2];           /* samples per packet */
	struct audio_plan_seg *seg;
	size_t n_seg;
	uint64_t packets;            /* rows of the call, all segments */
	int64_t gen;                 /* audio_plan_gen when the rows were read */
	int64_t cc_rows;             /* audio_plan_count then */
};

/* Bind the call's row filter (AUDIO_PLAN_ROWS) to st. */
void audio_plan_bind(struct sqlite3_stmt *st, const struct calls_entry *c);

/* The segments table's highest rowid now (0: none): while no opened
 * segment of the warrant has a higher one, no record of it was indexed
 * since (the fast freshness test). */
int audio_plan_gen(struct index *ix, int64_t *gen);

/* How many CC records of c's CINs in its span the index holds (a count
 * over the records_cin index alone, ~30 ms for a one-hour call): equal
 * counts mean the same rows, as rows are only ever added. */
int audio_plan_count(struct index *ix, const struct calls_entry *c, int64_t *rows);

/* Load c's plan into sp and the report's counts, frames and gaps into
 * rep.  LACRE_E_NOT_FOUND: none, or not fresh, or not well formed (then
 * the caller plans in full and stores again); LACRE_E_DB, LACRE_E_NOMEM.
 * To be called inside the read transaction the rows are then read in. */
int audio_plan_load(struct index *ix, const struct calls_entry *c, struct audio_stored *sp,
		    struct audio_report *rep);

/* Store sp (its gen and cc_rows read with its rows, in one read
 * transaction) with rep's counts as c's plan, replacing any older one, in
 * one write transaction (none may be open). */
int audio_plan_store(struct index *ix, const struct calls_entry *c,
		     const struct audio_stored *sp, const struct audio_report *rep);

void audio_plan_free(struct audio_stored *sp);

/* Rows per chunk of the plans made from now on (tests use small chunks;
 * 0 restores AUDIO_PLAN_CHUNK). */
void audio_plan_set_chunk(uint32_t rows);
uint32_t audio_plan_chunk(void);

#endif

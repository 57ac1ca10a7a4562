/*
 * segment.h - sealed segments: record frames appended into one age v1
 * stream per segment, written to a spool folder as they come, closed at a
 * size or an age limit, and read back frame by frame.  Layout in
 * docs/FORMATS.md §3.  Owned by lib/seal/segment.c.
 *
 * Writer.  A segment opens at the first record after the previous one
 * closed.  Its plaintext is a segment header frame (random 16-byte id,
 * creation time, recipient list) followed by record frames.  Ciphertext goes
 * to SPOOL/TMP.<name> as chunks complete (upper case: never a valid object
 * name, so the uploader of upload.h never sends it); on close the final
 * chunk is written, the file is fsync'd, renamed to SPOOL/<name> and the
 * folder fsync'd, and then the on_close callback gets the segment's name, size,
 * fingerprint and the per-record commitments in order (for the ledger).
 * name = 32 lower-case hex characters of the segment id: nothing about the
 * LIID, case or time.  The writer draws every record's 16-byte salt itself
 * from the CSPRNG.  No per-record allocation happens on the hot path.
 *
 * A segment closes: at an add whose record would take its plaintext past
 * max_plain (before that record, which opens the next segment; a record
 * larger than max_plain gets a segment of its own), or that finds it
 * max_age_us old; at a tick that finds it max_age_us old; and on
 * segment_writer_flush.  on_close never runs for the segment that receives
 * the record of the same add call, so a caller that logs each record's
 * commitment after segment_writer_add returns always logs all of a
 * segment's commitments before that segment's on_close.  The crash-loss
 * window is about max_age_us plus the tick interval.
 *
 * Reader.  Takes a whole segment object (bytes from a backend) and an
 * identity, and returns the record frames in order.  Errors:
 *   LACRE_E_MALFORMED  not an age file
 *   LACRE_E_AUTH       the identity is not a recipient of this segment
 *   LACRE_E_CORRUPT    altered bytes (header MAC or a chunk tag fails),
 *                      bytes after the final chunk, or authenticated
 *                      plaintext that is not a valid frame sequence
 *   LACRE_E_TRUNCATED  the object ends before its final chunk
 *   LACRE_E_VERIFY     the segment id does not match the expected name, or
 *                      the header does not list the identity as recipient
 *   LACRE_E_UNSUPPORTED a frame or record version this build does not know
 * Records decoded before a corrupt or truncated chunk have already been
 * returned: every one of them came from a chunk whose tag verified.
 */
#ifndef LACRE_SEGMENT_H
#define LACRE_SEGMENT_H

#include <stddef.h>
#include <stdint.h>

#include "lacre/age.h"
#include "lacre/frame.h"

#define SEGMENT_MAX_PLAIN_DEFAULT ((uint64_t)64 << 20)  /* 64 MiB */
#define SEGMENT_MAX_AGE_US_DEFAULT ((int64_t)2000000)   /* 2 s */
#define SEGMENT_NAME_LEN 32                            /* hex characters */
#define SEGMENT_TMP_PREFIX "TMP."

/* What the writer reports for each closed segment.  Everything here is
 * valid only during the on_close call (copy what you keep). */
struct segment_closed {
	char name[SEGMENT_NAME_LEN + 1];   /* object name: hex of id */
	const char *path;                  /* SPOOL/<name>, the final file */
	uint8_t id[16];
	int64_t created_us;                /* now_us when the segment opened */
	int64_t closed_us;                 /* now_us of the call that closed it */
	uint64_t size;                     /* file (ciphertext) bytes */
	uint64_t plain_size;               /* plaintext bytes (all frames) */
	uint8_t fingerprint[32];           /* age keyless fingerprint */
	uint64_t n_records;
	const uint8_t (*commitments)[32];  /* n_records commitments, in order */
};

struct segment_config {
	const char *spool_dir;             /* existing folder */
	const uint8_t (*recipients)[32];   /* X25519 public keys, copied */
	size_t n_recipients;               /* 1..FRAME_RECIPIENTS_MAX */
	uint64_t max_plain;                /* 0: SEGMENT_MAX_PLAIN_DEFAULT */
	int64_t max_age_us;                /* 0: SEGMENT_MAX_AGE_US_DEFAULT */
	int no_sync;                       /* tests and benches only: skip fsync */
	int direct_io;                     /* write with O_DIRECT when the spool's
					    * file system allows it, once a segment
					    * passes 4 MiB (busy writers): no
					    * page-cache copy; 1.75 MiB writes go out
					    * in the background (POSIX AIO, up to
					    * two in flight) while sealing goes on */
	int direct_at_once;                /* with direct_io: the first segment
					    * starts with O_DIRECT and the large
					    * buffers (a caller whose previous
					    * writer for the same data went
					    * O_DIRECT: no page-cache copy of the
					    * first 4 MiB) */
	/* Called once per closed segment, after the rename.  A non-zero return
	 * is passed back to the caller of add/tick/flush; the file stays in the
	 * spool under its final name either way. */
	int (*on_close)(void *arg, const struct segment_closed *c);
	/* Optional: called once per segment after its temporary file is
	 * complete and fsync'd, BEFORE it is renamed to its final name (path
	 * is then the temporary file).  What a caller must make durable
	 * before the segment can be seen under its final name goes here (the
	 * ingest sink writes the segment's ledger batch).  A non-zero return
	 * leaves the complete segment under its temporary name, marks the
	 * writer broken and is passed back to the caller. */
	int (*on_sealed)(void *arg, const struct segment_closed *c);
	void *arg;
};

struct segment_writer;

/* Create a writer (no segment is open yet).  LACRE_E_INVALID for a bad
 * config, LACRE_E_NOMEM, LACRE_E_CRYPTO. */
int segment_writer_new(const struct segment_config *cfg, struct segment_writer **w);

/* Seal one record at time now_us.  rec's salt is ignored: the writer draws
 * a fresh one.  commitment (may be NULL) receives SHA-256(salt || canonical
 * record bytes), the value the ledger will append.  May close the open
 * segment first (age or size) and after (size), calling on_close.  Errors:
 *   LACRE_E_INVALID, LACRE_E_TOO_LARGE  the frame encoder refused the record
 *                      (nothing was written, the writer stays usable)
 *   LACRE_E_IO, LACRE_E_CRYPTO, LACRE_E_NOMEM  the open segment is lost
 *                      (its temporary file removed) and the writer is
 *                      unusable (LACRE_E_STATE from then on)
 *   on_close's value   the record WAS sealed; a segment closed and the
 *                      callback failed */
int segment_writer_add(struct segment_writer *w, const struct frame_record *rec,
		       int64_t now_us, uint8_t commitment[32]);

/* Close the open segment if it is max_age_us old at now_us. */
int segment_writer_tick(struct segment_writer *w, int64_t now_us);

/* Close the open segment now, if any (idle timers, SIGTERM). */
int segment_writer_flush(struct segment_writer *w, int64_t now_us);

/* Writers of every thread keep the buffers of closed segments (staging
 * buffers and commitment arrays) for the next segments.
 * segment_cache_trim frees those given back idle_ms or longer ago and
 * returns how many it freed (a long-running process calls it now and
 * then: ingest's ticker, so that an idle receiver keeps none);
 * segment_cache_held is how many are kept (tests, diagnostics). */
#define SEGMENT_CACHE_IDLE_MS 10000
size_t segment_cache_trim(int64_t idle_ms);
size_t segment_cache_held(void);

/* 1 when the open segment is written with O_DIRECT (tests, diagnostics). */
int segment_writer_direct(const struct segment_writer *w);

/* Name of the open segment (hex of its id), NULL when none is open; valid
 * until the writer's next call. */
const char *segment_writer_open_name(const struct segment_writer *w);

/* Bytes the open segment will still write to its file at most (staged
 * and in-flight ciphertext, the age writer's partial chunk, the final
 * chunk's tag); 0 when none is open.  Backpressure adds it to what is
 * already on the disk. */
uint64_t segment_writer_unwritten(const struct segment_writer *w);

/* Records in the open segment (0 when none is open). */
uint64_t segment_writer_pending(const struct segment_writer *w);

/* Free the writer.  An open segment is abandoned and its temporary file
 * removed: call segment_writer_flush first. */
void segment_writer_free(struct segment_writer *w);

struct segment_reader;

/* Open segment object obj[0..n) (must outlive the reader) with identity id
 * and read its segment header.  expected_name (may be NULL) is the object
 * name the segment was fetched under.  Errors: see above. */
int segment_reader_new(const uint8_t *obj, size_t n, const struct age_x25519_identity *id,
		       const char *expected_name, struct segment_reader **r);

/* The segment header frame. */
const struct frame_segment_header *segment_reader_header(const struct segment_reader *r);

/* Next record.  *done = 1 (rec untouched) after the last one.  Pointers in
 * rec are valid until the next call or segment_reader_free. */
int segment_reader_next(struct segment_reader *r, struct frame_record *rec, int *done);

/* The keyless fingerprint, after *done (LACRE_E_STATE before). */
int segment_reader_fingerprint(const struct segment_reader *r, uint8_t fp[32]);

void segment_reader_free(struct segment_reader *r);

#endif

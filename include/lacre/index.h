/*
 * index.h - the access domain's SQLite index of sealed records
 * (DIR/index.sqlite, mode 0600; docs/FORMATS.md §10).  It is built from the
 * sealed segments with a warrant's identity, lives only on the access host
 * and is never written to a backend.  It answers "which records belong to
 * this call, in which segment, at which position" so that calls, audio and
 * pcap decrypt only the segments they need, and it holds each record's
 * ledger commitment, so that a record fetched back through the index is
 * checked against it.
 *
 * The index holds metadata (parties, times, addresses) in plaintext: the
 * access host's disk must be encrypted (docs/FORMATS.md §10 states the
 * choice).  It can always be rebuilt from the backend (`lacre reindex`);
 * commands bring it up to date incrementally (segments not yet indexed for
 * the warrant) before they answer.  Every statement is a prepared
 * statement with bound parameters.  Owned by lib/access/index.c.
 */
#ifndef LACRE_INDEX_H
#define LACRE_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "lacre/access.h"
#include "lacre/age.h"
#include "lacre/frame.h"
#include "lacre/site.h"
#include "lacre/store.h"

#define INDEX_FILE "index.sqlite"
#define INDEX_BUSY_MS 10000      /* how long a statement waits for another process's lock */
#define INDEX_SCHEMA_VERSION 4   /* 2: mobile IRI columns; 3: locations table; 4: audio plans
                                  * (FORMATS §10) */

struct index;
struct sqlite3;

/* Open (creating with mode 0600 and the schema) DIR/index.sqlite of site
 * s.  A schema-2 index is migrated: its rows are emptied (the next
 * index_update rebuilds them from the backend, with their locations) and
 * it becomes schema 4; a schema-3 index gains the (empty) audio plan
 * tables and becomes schema 4.  LACRE_E_DB (not an index of this or the previous
 * version, SQLite failed: rebuild with `lacre reindex`), LACRE_E_IO,
 * LACRE_E_NOMEM.  An index is for one thread at a time (its connection
 * is opened without SQLite's per-call mutex). */
int index_open(const struct site *s, struct index **out);
/* The same for an explicit path (tests). */
int index_open_path(const char *path, struct index **out);
void index_close(struct index *ix);
/* The SQLite handle, for the queries of calls.c, audio.c and pcap.c. */
struct sqlite3 *index_db(struct index *ix);

/* Forget everything indexed for warrant (NULL: for every warrant), and
 * every warrant's audio plans (audio.c: they are made again). */
int index_reset(struct index *ix, const char *warrant);

struct index_report {
	uint64_t segments_listed;  /* segment objects on the backend */
	uint64_t segments_new;     /* not looked at before for this warrant */
	uint64_t segments_opened;  /* ... that the identity opened */
	uint64_t records;          /* records added */
	uint64_t problems;         /* segments that failed a check (retried next time) */
};

/* Bring warrant's part of the index up to date: every segment object on
 * the backend not yet looked at for this warrant is tried with id; the
 * records of those it opens (and that are routed to warrant) are indexed,
 * one transaction per segment.  A segment that fails a check is reported
 * through problem and left for the next update.  Returns LACRE_OK, the
 * first problem's error (after doing the rest), or a backend or LACRE_E_DB
 * error. */
int index_update(struct index *ix, struct lacre_store *st, const struct age_x25519_identity *id,
		 const char *warrant,
		 void (*problem)(void *arg, const char *segment, int err, const char *what),
		 void *arg, struct index_report *rep);

/* Index only records whose commitment the signed ingest log holds
 * (receipts.h; NULL: no such filter, for tests).  Anyone may seal to a
 * warrant's public key, so a segment the log does not name is no evidence:
 * index_update then reports it through problem (LACRE_E_VERIFY, "records
 * in no signed checkpoint") and indexes none of its records, and calls,
 * audio, pcap and the export's renderings never show them.  logged must
 * outlive the updates. */
struct receipts_index;
void index_set_log(struct index *ix, const struct receipts_index *logged);

/* Index one decrypted record (index_update's per-record step; unit tests).
 * The PDU is decoded again here, from the record's own bytes. */
int index_add_record(struct index *ix, const char *warrant, const char *segment,
		     uint64_t idx, const struct frame_record *rec);

/* Read back selected records: the segments named in segs[0..n) (in that
 * order) are fetched and decrypted with id, every chunk verified; each
 * record of theirs routed to warrant is offered to want(arg, segment,
 * index), which returns the 32-byte commitment the caller took from the
 * index for it (from its own query), or NULL to skip it; with want NULL
 * every record is taken and its commitment looked up in the index here.
 * The record's commitment is compared with that (a mismatch, or a record
 * the index does not hold, is LACRE_E_VERIFY: the index does not describe
 * this record) and fn is called with arg.  fn returning non-zero stops and
 * is returned.  problem (with parg) as for index_update; the first
 * problem's error is returned at the end. */
int index_read(struct index *ix, struct lacre_store *st, const struct age_x25519_identity *id,
	       const char *warrant, char *const *segs, size_t n,
	       const uint8_t *(*want)(void *arg, const char *segment, uint64_t idx),
	       int (*fn)(void *arg, const struct access_record *r), void *arg,
	       void (*problem)(void *parg, const char *segment, int err, const char *what),
	       void *parg);

/* The opened segments of warrant that hold records matching the SQL
 * condition "cond" over table records (a constant string such as
 * "kind = 'cc'", with ?1 bound to the warrant and ?2 to cin when has_cin),
 * in creation order.  *segs is an array of malloc'd names (free with
 * index_free_names). */
int index_segments(struct index *ix, const char *warrant, const char *cond, int has_cin,
		   uint32_t cin, char ***segs, size_t *n);
void index_free_names(char **segs, size_t n);

/* LIID as index text: the octets when printable ASCII, else "0x" + hex. */
void index_liid_text(const uint8_t *p, size_t n, char *out, size_t outlen);

#endif

/*
 * accounting_int.h - what the stream accounting's files share
 * (accounting.c: sequencing, duplicates, integrity checks, memory;
 * stream_state.c: the persisted sequence state): the stream and accounting
 * structures and the few helpers the state file needs.  Not part of the API
 * (include/lacre/ingest.h).
 */
#ifndef LACRE_INGEST_ACCOUNTING_INT_H
#define LACRE_INGEST_ACCOUNTING_INT_H

#include <stdint.h>

#include <openssl/evp.h>

#include "lacre/buf.h"
#include "lacre/ingest.h"
#include "lacre/json.h"

enum stream_class { SC_IRI = 0, SC_CC, SC_HASH_IRI, SC_HASH_CC, SC_SIG_IRI, SC_SIG_CC, SC_N };

#define WIN 256                 /* recent numbers remembered for duplicates */
#define MAX_OPEN_GAPS 8
#define MAX_STREAMS (1u << 20)  /* ~2.5 KiB each; see ingest_acct_expire() */
#define MAX_LIID 64             /* LIID is SIZE(1..25); keep a little more */
#define INTEGRITY_PROBE 1100    /* retain the first PDUs of a chain this long (OpenLI hashes every 1000) */
#define MAX_ICHECK_SEQS 65536
#define NOT_SEEN UINT64_MAX     /* mark_next / dur_next: no number counted */

struct win_ent { uint32_t seq; uint32_t h; };   /* h == 0: empty slot */
struct gap { uint64_t lo, hi; };
struct stream;
struct kept {                   /* one retained data PDU */
	struct kept *next;          /* same stream, arrival order */
	struct kept *gprev, *gnext; /* all streams, arrival order (eviction) */
	struct stream *s;
	uint64_t seq;
	size_t len;
	int pooled;                 /* from the copy pool (copy_pool.c), else malloc */
	uint8_t b[];
};
/* What a retained PDU costs against integrity_retain: its bytes, its
 * header and the allocator's own (so the cap bounds real memory). */
#define KEPT_COST(len) ((len) + sizeof(struct kept) + 16)

struct stream {
	struct stream *next;        /* hash chain */
	uint8_t liid[MAX_LIID];
	uint8_t liid_len;
	uint8_t cls;
	uint8_t has_cin;
	uint8_t have;               /* a number has been seen in this epoch */
	uint8_t pending_reset;      /* cINResets seen on another connection, not yet applied */
	uint8_t restarted;          /* restarted without a reset, not yet explained */
	uint8_t hash_seen;          /* the chain has shown hash PDUs */
	uint8_t listeners;          /* bit per listener seen */
	uint8_t loaded;             /* state loaded at start, no PDU since */
	uint32_t cin;
	uint32_t last_s;            /* monotonic seconds of the last PDU */
	uint64_t next_seq;          /* 0..2^32 */
	uint64_t mark_next;         /* next_seq at the last ingest_acct_mark() (NOT_SEEN: none) */
	uint64_t dur_next;          /* at the mark before: what the sink has surely kept */
	struct ingest_stream_stats st;
	struct win_ent *win;        /* WIN entries, allocated on first use */
	struct gap *gaps;           /* MAX_OPEN_GAPS, allocated at the first gap */
	unsigned n_gaps;
	struct kept *k_head, *k_tail;
	size_t k_bytes;
	uint32_t n_held;            /* hash checks of this data stream waiting for their PDUs */
};

/* A hash check held until every PDU it lists has arrived (OpenLI sends
 * the hash PDU before the last data PDUs it covers), or a bound is hit. */
#define HOLD_S_DEFAULT 10
#define HOLD_MAX_DEFAULT 4096
/* Every data PDU of a stream with held checks looks at their absent
 * numbers: 1 MiB (about 200,000 listed numbers) bounds that work as well as
 * the memory; OpenLI holds a few checks of tens of numbers. */
#define HOLD_BYTES_DEFAULT (1u << 20)
#define MAX_MISSING_LISTED 64      /* sequence numbers named in a missing verdict */
struct hcheck {
	struct hcheck *next;        /* all held checks, arrival order */
	uint8_t liid[MAX_LIID];     /* the data stream's key (streams may expire) */
	uint8_t liid_len, has_cin, cls, value_len;
	uint32_t cin;
	uint32_t deadline;          /* monotonic seconds */
	int hash_alg, data_type;
	uint64_t seq, conn_id;
	size_t n_seqs, n_absent;    /* listed numbers; of them not yet arrived */
	uint32_t absent_lo, absent_hi; /* range of the absent numbers (a data PDU
	                             * outside it skips the check's list) */
	uint8_t value[EVP_MAX_MD_SIZE];
	uint8_t *found;             /* n_seqs flags, after seqs */
	uint32_t seqs[];
};
#define HCHECK_COST(n) (sizeof(struct hcheck) + (n) * 5 + 16)

struct ingest_acct {
	struct stream **tab;
	size_t n_buckets, n_streams;
	size_t retain_cap, retained;
	struct kept *g_head, *g_tail;   /* every retained PDU, oldest first */
	struct ingest_acct_pre *defer;  /* during ingest_acct_pdu_prepared: its frees go there */
	uint64_t gen, saved_gen;        /* changes to the sequence state; saved up to */
	int saved_once;                 /* the file on disk matches saved_gen */
	int saved_all_kept;             /* ... and was written with all_kept */
	ingest_event_fn ev;
	void *ev_arg;
	EVP_PKEY *sigkey;
	const EVP_MD *sig_md;
	struct ingest_integrity_stats is;
	uint64_t cin_resets, streams_dropped, streams_expired, unkept_reports, unkept_numbers;
	struct ingest_stream_stats gone; /* counters of expired data streams
	                            * (ingest_acct_totals stays monotonic) */
	struct lacre_dbuf j;        /* event scratch */
	uint32_t *seqs;             /* MAX_ICHECK_SEQS, allocated on the first integrity PDU */
	struct hcheck *h_head, *h_tail; /* held hash checks, oldest first */
	size_t n_held, held_bytes;
	unsigned hold_s;
	size_t hold_max, hold_bytes_max;
	uint64_t held_total, held_forced;
	struct etsi_bctr *bctr[2];      /* byteCounter chains of HI2, HI3 (persisted), or NULL */
	uint64_t bctr_unkept;           /* chains named possibly lost at the last load */
	uint64_t bctr_unkept_bytes;     /* ... and their byteCounter bytes */
	uint64_t saved_bctr_gen;        /* the trackers' gen sum at the last save */
};

/* Find a stream; NULL when absent. */
struct stream *acct_find(const struct ingest_acct *a, const uint8_t *liid, size_t len,
                         int has_cin, uint32_t cin, int cls);
/* Find or create a stream; NULL when the table is full or memory ran out. */
struct stream *acct_get(struct ingest_acct *a, const uint8_t *liid, size_t len,
                        int has_cin, uint32_t cin, int cls);
/* First number of a stream: data counts from 0, integrity PDUs from 1. */
uint64_t acct_first_seq(const struct stream *s);
/* Drop every retained PDU of s. */
void acct_kept_clear(struct ingest_acct *a, struct stream *s);
/* Start an event object with the stream's identity (s may be NULL). */
struct json_w *acct_ev_begin(struct ingest_acct *a, struct json_w *w, const char *name,
                             const struct stream *s);
/* Finish an event and hand it to the callback. */
void acct_ev_end(struct ingest_acct *a, struct json_w *w);

/* stream_state.c: the state file in three steps, so that the receiver
 * digests and writes it (SHA-256, fsync) outside its accounting lock
 * (worker.c): encode under the lock, digest and write after it. */
struct ingest_acct_snap {
	uint64_t gen, bctr_gen;
	int all_kept;
};
int ingest_acct_state_encode(struct ingest_acct *a, int all_kept, struct lacre_dbuf *d,
                             struct ingest_acct_snap *snap, int *same);
int ingest_acct_state_digest(struct lacre_dbuf *d);
void ingest_acct_state_saved(struct ingest_acct *a, const struct ingest_acct_snap *snap);

#endif

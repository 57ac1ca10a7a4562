/*
 * seal_sink.c - the ingest pipeline: decode, route by warrant, seal, ledger,
 * upload (see include/lacre/seal_sink.h).
 *
 * One segment writer per destination per lane: a destination is a warrant
 * (sealed to that warrant's recipient) or quarantine (sealed to the
 * oversight recipient); a lane is one receiving thread's set of writers
 * (the receiver's workers call record()/event()/flush() at once, each
 * from its own thread: lib/ingest/worker.c).  Sealing (ChaCha20-Poly1305,
 * SHA-256) runs under the lane's own lock only, so N workers seal on N
 * cores; the sink's mutex (mu) is held only for the short shared steps -
 * a lane's refill of spool budget (1 MiB at most at a time), the alerts,
 * the quarantine counters and the ledger batch at a segment's close.  A
 * record routed to a warrant takes no shared lock (its lane's route cache
 * answers a run of one LIID; a miss takes the registry's read lock,
 * reg_lk) and counts in its lane (issue 15: two workers took mu twice a
 * record, then wrote shared atomic counters once a record).  Lock order: a lane's lock before mu before log_mu; a lane's
 * lock and mu before reg_lk.
 *
 * Closer: no segment is closed (final chunk, fsync, ledger batch, rename,
 * folder fsync) on a receiving thread.  A segment that is due - by size,
 * before the record that would take it past segment.max_bytes, or by age,
 * found by the timer thread or a flush - is retired: its writer (a slot)
 * leaves the destination, which opens a fresh one at its next record, and
 * goes to the closer thread's queue; the closer seals it.  So a worker's
 * keep-alive answers never wait behind a disk sync; the records of a
 * retired segment are named in its manifest until its close (crash
 * recovery as before).  A close failure is sticky (k->err): the next
 * record() returns it and the receiver stops.
 *
 * A small timer thread retires segments by age, rewrites the open
 * segments' manifests, reloads the warrant registry and drives the log's
 * checkpoints.
 *
 * Order of durability (docs/ledger.md "Order of durability"; spool layout
 * in seal_spool.h): a record is sealed into its destination's open segment
 * (ciphertext reaches SPOOL/TMP.<name> chunk by chunk) and counted in the
 * segment's stream manifest (SPOOL/<name>.streams, a journal appended after
 * each read from a connection, sink->read_done, and each tick).  At
 * close the file is fsync'd; its ledger batch - every record's commitment,
 * then the v2 "segment closed" entry carrying their count and Merkle root -
 * is written durably to SPOOL/<name>.leaves; only then is the segment
 * renamed to SPOOL/<name> and its entry (the segment's one leaf) queued
 * for the log.  Once a signed checkpoint covers the entry, the segment moves to SPOOL/ready/, the uploader's outbox, so that
 * no segment is ever on the backend before its commitments are in the
 * signed log.  Recovery at start (seal_spool_recover) re-queues batches a
 * crash left unsigned, promotes covered ones, and names the streams and
 * sequence ranges of the segments that were open (lost) as events in the
 * ledger.  A kill -9 loses at most the records of open segments (bounded
 * by segment.max_age); SIGTERM loses nothing.
 *
 * Backpressure: record() refuses a PDU with LACRE_E_NOSPACE, without
 * taking it, when the spool's file system is down to spool.reserve free
 * bytes or the spool holds spool.quota; the receiver stops reading and
 * retries.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <dirent.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "lacre/err.h"
#include "lacre/etsi.h"
#include "lacre/frame.h"
#include "lacre/ingest_logs.h"
#include "lacre/json.h"
#include "lacre/note.h"
#include "lacre/seal_sink.h"
#include "lacre/segment.h"
#include "lacre/signer.h"
#include "lacre/store.h"
#include "lacre/tlog.h"
#include "lacre/upload.h"
#include "lacre/warrant.h"
#include "lacre/modes.h"
#include "ingest/seal_spool.h"

_Static_assert(FRAME_NOTE_USEC_CARRY == ETSI_FLAG_USEC_CARRY &&
	       FRAME_NOTE_KEY_OUTSIDE_WINDOW == ETSI_FLAG_KEY_OUTSIDE_WINDOW,
	       "frame notes are the ETSI decode flags");

#define SEAL_QUARANTINE_KEY ""       /* destination key of the oversight writer */
#define SEAL_TICK_MS 100
#define SEAL_CHECKPOINT_MS 200       /* at most 5 checkpoints a second: docs/performance.md "Logged latency" */
#define SEAL_MAX_DESTS 4096          /* open destinations (warrants + 1) */
#define SEAL_ALERTS_MAX 1024         /* distinct (liid, reason) alerts printed */
#define SEAL_DRAIN_WAIT_MS 10000     /* how long close() waits for the backend */
#define SEAL_UPLOAD_MORE 15          /* S3: at most 16 segment PUTs at once (s3.uploads) */

#define SEAL_LANES 64                /* writer sets; threads share them past that */
#define SEAL_LANE_SPACE ((uint64_t)1 << 20) /* spool budget a lane takes at a time, at most */
#define SEAL_SEG_HEAD_MAX 1024       /* bytes of a segment header frame, at most */
#define SEAL_AGE_SLACK_US 1000       /* retire this early: the writer never closes by age itself */
#define SEAL_BUSY_PLAIN ((uint64_t)4 << 20) /* a segment this large makes the next one start
					      * O_DIRECT (segment.c's SEG_PROMOTE_AT) */
/* Retired segments waiting for the closer, at most, before record()
 * refuses (LACRE_E_NOSPACE: the receiver holds the PDU and pauses reading,
 * backpressure.c).  Each holds two open files (the segment, its manifest)
 * and its staging buffer until it is closed, and the closer's fsyncs take
 * milliseconds a segment: many low-rate warrants under load retire
 * segments by age faster than that, and with no bound 400 warrants ran a
 * receiver out of file descriptors (20,000) in two seconds.  The ticker's
 * retirements by age are not held back, so at most the open segments
 * more can wait; none opens while record() refuses. */
#define SEAL_CQ_MAX 64

struct seal_sink;

/* One writer and what its open segment holds; retired to the closer
 * queue when its segment is due. */
struct seal_slot {
	struct seal_sink *owner;
	struct seal_slot *next;          /* the closer's queue */
	struct segment_writer *w;
	struct seal_streams streams;     /* what the open segment holds (its manifest) */
	int64_t opened_us;               /* time given with its first record; 0: empty */
	uint64_t plain;                  /* its plaintext bytes, at most */
	uint64_t owed;                   /* what it counts in its lane's owed (retired: in k->owed) */
	struct lacre_dbuf entry;         /* its v2 entry, made once at on_sealed */
	int have_entry;                  /* entry holds it (on_close reuses it) */
};

/* One destination of one lane. */
struct seal_dest {
	char key[WARRANT_ID_MAX];        /* warrant id, or "" for quarantine */
	uint8_t pub[32];                 /* its recipient */
	struct seal_slot *cur;           /* the open writer, NULL until a record comes */
	int64_t last_opened_us;          /* segments of a destination open in time order */
	int listed;                      /* in its lane's td[] (or td_all) until read_done */
	int busy;                        /* its last segment was busy: the next starts O_DIRECT */
};

#define SEAL_TD_MAX 8                /* destinations one read_done names without a scan */
#define SEAL_ROUTE_WAYS 8            /* routing answers a lane keeps */

/* One of a lane's last routing answers (warrant_route_span): while the
 * registry is the one it was taken from (gen), the LIID and category are
 * the same and the time is inside the span, warrant_route gives this
 * answer again.  A lane keeps SEAL_ROUTE_WAYS of them: records of one
 * LIID come in runs, but a connection often carries two or more targets
 * in turn (a call and a session target, each its CC), and with one
 * answer kept an eighth of cc-mixed's records went back to the registry
 * under its read lock, whose counter every worker writes.  Under the
 * lane's mu. */
struct seal_route_cache {
	int valid;
	uint64_t gen;                    /* k->reg_gen it was taken under */
	uint8_t liid[WARRANT_LIID_MAX];
	size_t liid_len;
	unsigned category;
	int64_t span_lo, span_hi;        /* [lo, hi): times with the same answer */
	const char *reason;              /* NULL: routed to m */
	struct warrant_match m;
	size_t id_len;                   /* strlen(m.id) */
	struct seal_dest *dest;          /* m's destination in the lane (dests never
					  * move), NULL until a record is sealed there */
};

/* One receiving thread's writers (seal_lane_get).  What it counts per
 * record is its own (owed, records, routed), on its own cache lines: with
 * several workers, one shared counter written per record moves its cache
 * line between the cores at every record.  Written under mu, read by
 * others with relaxed loads (seal_lanes_sum). */
struct seal_lane {
	_Alignas(64) pthread_mutex_t mu; /* dests, their slots, route, counts; held while sealing */
	struct seal_route_cache route[SEAL_ROUTE_WAYS];
	unsigned route_last, route_next; /* the last answer used; the next to replace */
	struct seal_dest *dests;         /* SEAL_MAX_DESTS, allocated at first use */
	size_t n_dests;
	int touched;                     /* a record sealed since the last read_done */
	struct seal_dest *td[SEAL_TD_MAX]; /* the destinations it went to (dests never move) */
	size_t n_td;
	int td_all;                      /* more than SEAL_TD_MAX: read_done scans them all */
	uint64_t space_res;              /* spool budget taken from k->space_budget, not yet used */
	uint64_t space_gen;              /* the k->space_gen it was taken under */
	uint64_t owed;                   /* its open slots' owed (seal_frame; k->owed: retired) */
	uint64_t records, routed;        /* records sealed, of them routed to a warrant */
	uint64_t route_lookups;          /* answers taken from the registry */
};

/* A closed segment's leaf waiting for a published checkpoint, for the
 * logged latency (seal_latency_*): its log index and when its oldest
 * record was sealed. */
struct seal_lat {
	uint64_t index;
	int64_t oldest_us;
};

#define SEAL_LAT_WINDOW 60           /* seconds of logged latency kept (max over them) */

/* A closed segment waiting for the checkpoint that signs its batch. */
struct seal_pending {
	char name[SEGMENT_NAME_LEN + 1];
	uint64_t index;                  /* log index of its "segment closed" entry */
};

struct seal_alert {
	uint8_t liid[WARRANT_LIID_MAX];
	size_t liid_len;
	const char *reason;              /* static WARRANT_Q_* string */
	char operator_name[65];          /* operator-not-bound: the sender's operator */
};

struct seal_sink {
	pthread_mutex_t mu;
	const struct site *site;
	struct warrant_registry *reg;
	pthread_rwlock_t reg_lk;         /* reg: read to route, written to reload (under mu) */
	uint64_t reg_gen;                /* atomic, written under reg_lk: reloads of reg
					  * (the lanes' route caches are of one) */
	uint8_t oversight[32];
	struct note_signer *key;         /* in-process signing only (no ledger.signer) */
	struct signer_client sc;         /* ledger.signer: lacre-signer holds the key */
	struct tlog_signer sc_sign;      /* the client's own callback, wrapped */
	int signer_refusing;             /* under log_mu: the last request failed */
	uint64_t signer_refusals;        /* under log_mu: refused */
	uint64_t signer_failures;        /* under log_mu: refused or unanswered */
	struct lacre_store *log_store;   /* used under mu by the log */
	struct lacre_store *up_store;    /* used by the uploader thread only */
	/* S3: more connections, so the uploader sends s3.uploads segments
	 * at once (an S3 store is one connection at a time) */
	struct lacre_store *up_more[SEAL_UPLOAD_MORE];
	size_t n_up_more;
	struct tlog *log;
	struct upload *up;
	struct seal_lane lanes[SEAL_LANES];
	unsigned n_lanes;                /* atomic: lanes handed out (modulo SEAL_LANES) */
	uint64_t gen;                    /* this sink's number (a thread's lane cache) */
	uint64_t owed;                   /* atomic: what retired segments will still write (open: lanes) */
	/* the closer thread and its queue of retired slots (under cq_mu) */
	pthread_t closer;
	int closer_on;
	pthread_mutex_t cq_mu;
	pthread_cond_t cq_cv;            /* work queued, or stop */
	pthread_cond_t cq_idle;          /* the queue emptied and nothing is closing */
	struct seal_slot *cq_head, *cq_tail;
	unsigned cq_len;                 /* atomic (written under cq_mu): retired slots not yet closed */
	int cq_busy, cq_stop;
	int cq_hold;                     /* tests: the closer takes nothing (seal_sink_hold_closer) */
	int64_t cq_closing_us;           /* oldest record of the slot being closed; 0: none */
	struct seal_alert alerts[SEAL_ALERTS_MAX];
	size_t n_alerts;
	pthread_t ticker;
	int ticker_on;
	pthread_cond_t tick_cv;          /* under mu: wakes the ticker before its 100 ms */
	int tick_poke;                   /* under mu: a leaf was queued (checkpoint it now) */
	int stop;
	int err;                         /* sticky: the pipeline can no longer keep records
	                                  * (written under mu, atomic: record() reads it without) */
	/* Ledger entries go to the log's own append (a copy under its small
	 * lock) from record() and on_close under mu; the timer thread
	 * checkpoints under log_mu, so store I/O for tiles and checkpoints
	 * never blocks the receiving thread.  Lock order: mu before log_mu. */
	pthread_mutex_t log_mu;
	struct seal_sink_stats st;
	struct seal_sink_stats log_seen; /* under mu: the ledger figures of the last look */
	struct lacre_dbuf tmp;
	/* entries ever queued for the log (= the log index of the next one) */
	uint64_t next_index;
	/* closed segments waiting for a signature (under mu) */
	struct seal_pending *pend;
	size_t n_pend, cap_pend;
	char ready_dir[SITE_PATH_MAX];
	/* spool space (under mu): bytes record() may still take before it
	 * looks at the file system again */
	uint64_t space_budget;
	uint64_t space_gen;              /* written under mu (atomic): a look drops the lanes' reserves */
	uint64_t space_free, space_limit;  /* at the last look */
	int filling_shown;
	/* state shown on stderr when it changes (ticker thread only) */
	int shown_full, shown_backend_down, shown_publish_failing;
	int manifest_warned;             /* the manifest-write warning was printed */
	/* logged latency (under mu): leaves in log order waiting for a
	 * published checkpoint, and the max of each of the last 60 seconds */
	struct seal_lat *lat;
	size_t lat_head, lat_n, lat_cap;
	int64_t lat_max_us[SEAL_LAT_WINDOW];
	int64_t lat_sec[SEAL_LAT_WINDOW];
	int64_t open_oldest_us;          /* oldest record in an open segment at the last tick */
};

/* Current wall-clock time in Unix microseconds. */
static int64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Wall-clock time from the coarse clock (a few ms resolution, no system
 * call or TSC read): enough for segment ages of seconds, and called once
 * per record. */
static int64_t now_coarse_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME_COARSE, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Monotonic milliseconds (the log's checkpoint timer). */
static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* This receiver's ingest log origin: "lacre/<site name>/ingest", or
 * ".../ingest/<NAME>" for receiver ingest.receiver (lacre/ingest_logs.h). */
int seal_sink_log_origin(const struct site *s, char *out, size_t cap)
{
	int r = site_ingest_origin(s, s->cfg.ingest_receiver, out, cap);
	return r == LACRE_OK ? LACRE_OK : LACRE_E_CONFIG;
}

/* DIR/ledger/ingest.key, or ingest-NAME.key of a named receiver (made on
 * first use): an ingest-domain secret that only signs checkpoints (it
 * opens nothing). */
int seal_sink_log_key(const struct site *s, struct note_signer **out)
{
	char origin[NOTE_NAME_MAX + 1], rel[SITE_PATH_MAX];
	int r = seal_sink_log_origin(s, origin, sizeof(origin));
	if (r == LACRE_OK)
		r = site_ingest_relpath(s->cfg.ingest_receiver, ".key", rel, sizeof(rel));
	return r != LACRE_OK ? r : site_log_key(s, rel, origin, out);
}

/* Append one ledger entry to the log (under mu).  tlog_append is a copy
 * under the log's own small lock: it never waits for a checkpoint's I/O,
 * so the receiving thread is not held by tiles or witnesses; at 2 GiB of
 * unhashed entries it refuses (LACRE_E_TOO_LARGE), which stops ingest
 * rather than grow without bound. */
static int seal_log_push(struct seal_sink *k, const void *p, size_t n)
{
	uint64_t idx;
	int r;

	if (n == 0 || n > 0xffff)
		return LACRE_E_INVALID;
	if ((r = tlog_append(k->log, p, n, &idx)) != LACRE_OK)
		return r;
	k->next_index = idx + 1;
	return LACRE_OK;
}

/* The v2 "segment closed" entry of c into out: the segment's only leaf,
 * carrying the count and the Merkle root of its records' commitments
 * (docs/FORMATS.md §6). */
static int seal_segment_entry(const struct segment_closed *c, struct lacre_dbuf *out)
{
	struct tlog_segment seg;
	int r;

	memset(&seg, 0, sizeof(seg));
	snprintf(seg.name, sizeof(seg.name), "%s%s", SEAL_SEGMENT_PREFIX, c->name);
	seg.size = c->size;
	seg.fp_len = 32;
	memcpy(seg.fp, c->fingerprint, 32);
	seg.records = c->n_records;
	if ((r = tlog_segment_records_root(c->commitments, c->n_records, seg.records_root)) != LACRE_OK)
		return r;
	lacre_dbuf_reset(out);
	return tlog_segment_encode(&seg, out);
}

/* on_sealed of every writer: the segment's ledger batch is made durable
 * beside it before the segment takes its final name (seal_spool.h).  On
 * the closer thread, no lock held (its own scratch). */
static int seal_on_sealed(void *arg, const struct segment_closed *c)
{
	struct seal_slot *sl = arg;
	struct seal_sink *k = sl->owner;
	int r;

	/* the records' Merkle root is the closer's largest cost: made once
	 * here, kept for on_close */
	sl->have_entry = 0;
	if ((r = seal_segment_entry(c, &sl->entry)) != LACRE_OK)
		return r;
	sl->have_entry = 1;
	return seal_leaves_write(k->site->cfg.spool_dir, c->name, c->commitments, c->n_records,
				 sl->entry.p, sl->entry.len);
}

/* Remember that segment name waits for the signature of log index idx. */
static int seal_pending_add(struct seal_sink *k, const char *name, uint64_t idx)
{
	if (k->n_pend == k->cap_pend) {
		size_t cap = k->cap_pend ? 2 * k->cap_pend : 64;
		struct seal_pending *p = realloc(k->pend, cap * sizeof(*p));
		if (!p)
			return LACRE_E_NOMEM;
		k->pend = p;
		k->cap_pend = cap;
	}
	snprintf(k->pend[k->n_pend].name, sizeof(k->pend[k->n_pend].name), "%s", name);
	k->pend[k->n_pend++].index = idx;
	return LACRE_OK;
}

/* Remember (under mu) that log index idx holds records sealed since
 * oldest_us: seal_latency_published measures when a published checkpoint
 * first covers it.  Indices come in log order (pushed under mu). */
static int seal_lat_add(struct seal_sink *k, uint64_t idx, int64_t oldest_us)
{
	if (k->lat_head > 0 && k->lat_head == k->lat_n)
		k->lat_head = k->lat_n = 0;
	if (k->lat_n == k->lat_cap) {
		if (k->lat_head > 0) {
			memmove(k->lat, k->lat + k->lat_head, (k->lat_n - k->lat_head) * sizeof(*k->lat));
			k->lat_n -= k->lat_head;
			k->lat_head = 0;
		} else {
			size_t cap = k->lat_cap ? 2 * k->lat_cap : 64;
			struct seal_lat *p = realloc(k->lat, cap * sizeof(*p));
			if (!p)
				return LACRE_E_NOMEM;
			k->lat = p;
			k->lat_cap = cap;
		}
	}
	k->lat[k->lat_n].index = idx;
	k->lat[k->lat_n++].oldest_us = oldest_us;
	return LACRE_OK;
}

/* The leaves below published (the published checkpoint's size) are
 * logged now: their latency is now - oldest record, kept as the last one
 * and in the max of this second (ticker thread, takes mu). */
static void seal_latency_published(struct seal_sink *k, uint64_t published, int64_t now)
{
	int64_t sec = now / 1000000;
	size_t b = (size_t)(sec % SEAL_LAT_WINDOW);

	pthread_mutex_lock(&k->mu);
	while (k->lat_head < k->lat_n && k->lat[k->lat_head].index < published) {
		int64_t l = now - k->lat[k->lat_head++].oldest_us;
		if (l < 0)
			l = 0;
		if (k->lat_sec[b] != sec) {
			k->lat_sec[b] = sec;
			k->lat_max_us[b] = 0;
		}
		if (l > k->lat_max_us[b])
			k->lat_max_us[b] = l;
		k->st.logged_last_us = (uint64_t)l;
		k->st.logged_segments++;
	}
	k->st.logged_max_us = 0;
	for (size_t i = 0; i < SEAL_LAT_WINDOW; i++)
		if (k->lat_sec[i] > sec - SEAL_LAT_WINDOW && (uint64_t)k->lat_max_us[i] > k->st.logged_max_us)
			k->st.logged_max_us = (uint64_t)k->lat_max_us[i];
	pthread_mutex_unlock(&k->mu);
}

/* Age at now of the oldest record not yet under a published checkpoint:
 * in an open segment (as the last tick saw them), retired and waiting for
 * the closer, being closed, or closed with its leaf not yet published
 * (ticker thread; takes cq_mu, then mu). */
static void seal_latency_oldest(struct seal_sink *k, int64_t now)
{
	int64_t o = 0;

	pthread_mutex_lock(&k->cq_mu);
	for (struct seal_slot *q = k->cq_head; q; q = q->next)
		if (q->opened_us && (!o || q->opened_us < o))
			o = q->opened_us;
	if (k->cq_closing_us && (!o || k->cq_closing_us < o))
		o = k->cq_closing_us;
	pthread_mutex_unlock(&k->cq_mu);
	pthread_mutex_lock(&k->mu);
	if (k->open_oldest_us && (!o || k->open_oldest_us < o))
		o = k->open_oldest_us;
	for (size_t i = k->lat_head; i < k->lat_n; i++)
		if (!o || k->lat[i].oldest_us < o)
			o = k->lat[i].oldest_us;
	k->st.unlogged_oldest_us = o && now > o ? (uint64_t)(now - o) : 0;
	pthread_mutex_unlock(&k->mu);
}

/* on_close of every writer: queue the segment's one leaf (its v2 entry)
 * for the log (under mu, which every closing segment takes, so the leaf
 * and its pending entry agree) and wait for its signature before the
 * segment may leave
 * for the backend. */
static int seal_on_close(void *arg, const struct segment_closed *c)
{
	struct seal_slot *sl = arg;
	struct seal_sink *k = sl->owner;
	int r = LACRE_OK;

	pthread_mutex_lock(&k->mu);
	if (sl->have_entry) {
		/* on_sealed made it for this segment */
		r = seal_log_push(k, sl->entry.p, sl->entry.len);
		sl->have_entry = 0;
	} else if ((r = seal_segment_entry(c, &k->tmp)) == LACRE_OK) {
		r = seal_log_push(k, k->tmp.p, k->tmp.len);
	}
	if (r == LACRE_OK &&
	    (r = seal_pending_add(k, c->name, k->next_index - 1)) == LACRE_OK &&
	    (r = seal_lat_add(k, k->next_index - 1, sl->opened_us)) == LACRE_OK) {
		k->st.segments++;
		k->st.unsigned_segments = k->n_pend;
		/* the ticker checkpoints it at once (within the log's interval),
		 * not at its next 100 ms turn: the logged latency */
		k->tick_poke = 1;
		pthread_cond_signal(&k->tick_cv);
	}
	pthread_mutex_unlock(&k->mu);
	if (r != LACRE_OK)
		return r;
	/* the records are in a closed segment now: the manifest is done */
	seal_streams_remove(k->site->cfg.spool_dir, c->name);
	if (!strcmp(sl->streams.segment, c->name))
		seal_streams_reset(&sl->streams, NULL);
	return LACRE_OK;
}

/* This thread's lane of k: handed out at its first call (a cache per
 * thread, keyed by the sink's number), shared past SEAL_LANES threads. */
static struct seal_lane *seal_lane_get(struct seal_sink *k)
{
	static _Thread_local struct { uint64_t gen; unsigned lane; } tl;

	if (tl.gen != k->gen) {
		tl.gen = k->gen;
		tl.lane = __atomic_fetch_add(&k->n_lanes, 1, __ATOMIC_RELAXED) % SEAL_LANES;
	}
	return &k->lanes[tl.lane];
}

/* A lane's count set to v: written under the lane's mu, so a plain
 * read-modify-write suffices among writers; the store is atomic for the
 * readers (seal_lanes_sum), with no locked instruction per record. */
static void lane_store(uint64_t *count, uint64_t v)
{
	__atomic_store_n(count, v, __ATOMIC_RELAXED);
}

/* The counts the lanes keep, summed. */
struct seal_lane_sums {
	uint64_t owed, records, routed, route_lookups;
};

/* The lanes' counts summed: a reader's view, each lane's figure as of a
 * moment, without their locks. */
static void seal_lanes_sum(struct seal_sink *k, struct seal_lane_sums *sum)
{
	unsigned used = __atomic_load_n(&k->n_lanes, __ATOMIC_RELAXED);

	memset(sum, 0, sizeof(*sum));
	if (used > SEAL_LANES)
		used = SEAL_LANES;
	for (unsigned i = 0; i < used; i++) {
		sum->owed += __atomic_load_n(&k->lanes[i].owed, __ATOMIC_RELAXED);
		sum->records += __atomic_load_n(&k->lanes[i].records, __ATOMIC_RELAXED);
		sum->routed += __atomic_load_n(&k->lanes[i].routed, __ATOMIC_RELAXED);
		sum->route_lookups += __atomic_load_n(&k->lanes[i].route_lookups, __ATOMIC_RELAXED);
	}
}

/* Find or create the destination for key ("" = quarantine) in lane l
 * (under l->mu). */
static int seal_dest_get(struct seal_sink *k, struct seal_lane *l, const char *key,
			 const uint8_t pub[32], struct seal_dest **out)
{
	struct seal_dest *nd;

	for (size_t i = 0; i < l->n_dests; i++)
		if (!strcmp(l->dests[i].key, key)) {
			*out = &l->dests[i];
			return LACRE_OK;
		}
	if (l->n_dests >= SEAL_MAX_DESTS)
		return LACRE_E_TOO_LARGE;
	if (!l->dests && !(l->dests = calloc(SEAL_MAX_DESTS, sizeof(*l->dests))))
		return LACRE_E_NOMEM;
	nd = &l->dests[l->n_dests++];
	memset(nd, 0, sizeof(*nd));
	snprintf(nd->key, sizeof(nd->key), "%s", key);
	memcpy(nd->pub, pub, 32);
	*out = nd;
	return LACRE_OK;
}

/* A fresh writer for destination d (its next segment). */
static int seal_slot_new(struct seal_sink *k, struct seal_dest *d)
{
	struct segment_config cfg;
	struct seal_slot *sl;
	uint8_t rcpt[1][32];
	int r;

	if (!(sl = calloc(1, sizeof(*sl))))
		return LACRE_E_NOMEM;
	sl->owner = k;
	lacre_dbuf_init(&sl->entry, 1024);
	memcpy(rcpt[0], d->pub, 32);
	memset(&cfg, 0, sizeof(cfg));
	cfg.spool_dir = k->site->cfg.spool_dir;
	cfg.direct_io = k->site->cfg.spool_direct_io;
	cfg.direct_at_once = d->busy;
	cfg.recipients = (const uint8_t (*)[32])rcpt;
	cfg.n_recipients = 1;
	cfg.max_plain = k->site->cfg.segment_max_bytes;
	cfg.max_age_us = (int64_t)k->site->cfg.segment_max_age_ms * 1000;
	cfg.on_close = seal_on_close;
	cfg.on_sealed = seal_on_sealed;
	cfg.arg = sl;
	if ((r = segment_writer_new(&cfg, &sl->w)) != LACRE_OK) {
		free(sl);
		return r;
	}
	d->cur = sl;
	return LACRE_OK;
}

/* Free a slot (its segment closed, or abandoned at free). */
static void seal_slot_free(struct seal_slot *sl)
{
	if (!sl)
		return;
	segment_writer_free(sl->w);
	seal_streams_free(&sl->streams);
	lacre_dbuf_free(&sl->entry);
	free(sl);
}

/* Hand d's open segment to the closer thread (under the lane's lock); the
 * destination opens a fresh writer at its next record. */
static void seal_retire(struct seal_sink *k, struct seal_lane *l, struct seal_dest *d)
{
	struct seal_slot *sl = d->cur;

	if (!sl)
		return;
	d->cur = NULL;
	/* what it still owes leaves the lane: the closer's until its close */
	lane_store(&l->owed, l->owed - sl->owed);
	if (sl->opened_us == 0) {
		/* nothing in it: no segment to close */
		seal_slot_free(sl);
		return;
	}
	/* busy: as much as makes a writer go O_DIRECT by itself (a
	 * destination back to a trickle starts buffered again) */
	d->busy = segment_writer_direct(sl->w) && sl->plain >= SEAL_BUSY_PLAIN;
	/* named on disk from now until its close, so that a crash before the
	 * closer reaches it names its records lost (a file write, no sync) */
	(void)seal_streams_write(k->site->cfg.spool_dir, &sl->streams);
	__atomic_add_fetch(&k->owed, sl->owed, __ATOMIC_RELAXED);
	pthread_mutex_lock(&k->cq_mu);
	sl->next = NULL;
	if (k->cq_tail)
		k->cq_tail->next = sl;
	else
		k->cq_head = sl;
	k->cq_tail = sl;
	__atomic_store_n(&k->cq_len, k->cq_len + 1, __ATOMIC_RELAXED);
	pthread_cond_signal(&k->cq_cv);
	pthread_mutex_unlock(&k->cq_mu);
}

/* Retire the segments of every lane that are max_age old (force: every
 * open one), and write the manifests of those that stay open.  Takes each
 * lane's lock in turn: never held with mu. */
static void seal_lanes_retire(struct seal_sink *k, int force)
{
	int64_t now = now_coarse_us(), age = (int64_t)k->site->cfg.segment_max_age_ms * 1000;
	unsigned used = __atomic_load_n(&k->n_lanes, __ATOMIC_RELAXED);
	int64_t oldest = 0;

	if (used > SEAL_LANES)
		used = SEAL_LANES;
	for (unsigned i = 0; i < used; i++) {
		struct seal_lane *l = &k->lanes[i];
		pthread_mutex_lock(&l->mu);
		for (size_t j = 0; j < l->n_dests; j++) {
			struct seal_dest *d = &l->dests[j];
			if (!d->cur || !d->cur->opened_us)
				continue;
			if (force || now - d->cur->opened_us >= age - SEAL_AGE_SLACK_US) {
				seal_retire(k, l, d);
				continue;
			}
			if (!oldest || d->cur->opened_us < oldest)
				oldest = d->cur->opened_us;
			/* what a crash now would lose, named on disk: best effort (a full
			 * disk delays it to the next tick; records are not lost by it) */
			if (seal_streams_write(k->site->cfg.spool_dir, &d->cur->streams) != LACRE_OK &&
			    !__atomic_exchange_n(&k->manifest_warned, 1, __ATOMIC_RELAXED))
				fprintf(stderr, "lacre: ingest: cannot write an open segment's stream manifest "
					"in %s (%s): retried every tick; a crash now would lose records "
					"without naming them\n", k->site->cfg.spool_dir, strerror(errno));
		}
		pthread_mutex_unlock(&l->mu);
	}
	pthread_mutex_lock(&k->mu);
	k->open_oldest_us = oldest;
	pthread_mutex_unlock(&k->mu);
}

/* The closer thread: seal every retired segment (final chunk, fsync,
 * ledger batch, rename), off the receiving threads. */
static void *seal_closer(void *arg)
{
	struct seal_sink *k = arg;
	struct seal_slot *sl;
	int r;

	/* named from inside: the confined receiver cannot write another
	 * thread's /proc comm (seal_sink_open's naming fails there) */
	pthread_setname_np(pthread_self(), "lacre-closer");
	for (;;) {
		pthread_mutex_lock(&k->cq_mu);
		while ((!k->cq_head || k->cq_hold) && !k->cq_stop)
			pthread_cond_wait(&k->cq_cv, &k->cq_mu);
		if (!k->cq_head) {
			pthread_mutex_unlock(&k->cq_mu);
			break;
		}
		sl = k->cq_head;
		k->cq_head = sl->next;
		if (!k->cq_head)
			k->cq_tail = NULL;
		k->cq_busy = 1;
		k->cq_closing_us = sl->opened_us;
		pthread_mutex_unlock(&k->cq_mu);
		/* its manifest, if seal_retire's write failed (a full disk) */
		(void)seal_streams_write(k->site->cfg.spool_dir, &sl->streams);
		r = segment_writer_flush(sl->w, now_us());
		__atomic_sub_fetch(&k->owed, sl->owed, __ATOMIC_RELAXED);
		if (r != LACRE_OK) {
			pthread_mutex_lock(&k->mu);
			if (!k->err)
				__atomic_store_n(&k->err, r, __ATOMIC_RELEASE);
			pthread_mutex_unlock(&k->mu);
			fprintf(stderr, "lacre: ingest: closing a segment failed (%s): the receiver will "
				"stop; the segment stays in the spool for recovery at the next start\n",
				lacre_strerror(r));
		}
		seal_slot_free(sl);
		pthread_mutex_lock(&k->cq_mu);
		__atomic_store_n(&k->cq_len, k->cq_len - 1, __ATOMIC_RELAXED);
		k->cq_busy = 0;
		k->cq_closing_us = 0;
		if (!k->cq_head)
			pthread_cond_broadcast(&k->cq_idle);
		pthread_mutex_unlock(&k->cq_mu);
	}
	return NULL;
}

/* Tests: hold or release the closer.  See seal_sink.h. */
void seal_sink_hold_closer(const struct lacre_sink *sink, int hold)
{
	struct seal_sink *k = sink->ctx;

	pthread_mutex_lock(&k->cq_mu);
	k->cq_hold = hold;
	pthread_cond_signal(&k->cq_cv);
	pthread_mutex_unlock(&k->cq_mu);
}

/* sink->refusal: why record() refuses now, when it is not the spool's room
 * (record.h). */
static const char *seal_refusal(void *ctx)
{
	struct seal_sink *k = ctx;

	if (__atomic_load_n(&k->cq_len, __ATOMIC_RELAXED) >= SEAL_CQ_MAX)
		return "sealing behind: retired segments wait for the closer's fsync faster than the "
		       "spool disk takes them (many low-rate warrants on a slow disk)";
	return NULL;
}

/* Wait until the closer has sealed everything retired so far. */
static void seal_closer_wait(struct seal_sink *k)
{
	pthread_mutex_lock(&k->cq_mu);
	while (k->closer_on && (k->cq_head || k->cq_busy))
		pthread_cond_wait(&k->cq_idle, &k->cq_mu);
	pthread_mutex_unlock(&k->cq_mu);
}

/* Quarantine reason of an encrypted PDU the receiver could not decrypt
 * (no handover key for its operator, a wrong key, a cipher lacre lacks). */
#define SEAL_Q_UNDECRYPTABLE "undecryptable"

/* The alert "reason" of records flagged late delivery (L3/L4). */
static const char SEAL_LATE[] = "late-delivery";

/* Print one alert line per distinct (LIID, reason): quarantine and late
 * delivery are loud. */
static void seal_alert(struct seal_sink *k, const uint8_t *liid, size_t n, const char *reason)
{
	char shown[2 * WARRANT_LIID_MAX + 3];
	size_t i, o = 0;
	int printable = 1;

	if (!liid) {                    /* no LIID: memcmp/memcpy need a pointer */
		liid = (const uint8_t *)"";
		n = 0;
	}
	if (n > WARRANT_LIID_MAX)
		n = WARRANT_LIID_MAX;
	for (i = 0; i < k->n_alerts; i++)
		if (k->alerts[i].reason == reason && k->alerts[i].liid_len == n &&
		    !memcmp(k->alerts[i].liid, liid, n))
			return;
	if (k->n_alerts < SEAL_ALERTS_MAX) {
		memcpy(k->alerts[k->n_alerts].liid, liid, n);
		k->alerts[k->n_alerts].liid_len = n;
		k->alerts[k->n_alerts].reason = reason;
		k->n_alerts++;
	}
	for (i = 0; i < n; i++)
		if (liid[i] < 0x20 || liid[i] > 0x7e)
			printable = 0;
	if (printable) {
		memcpy(shown, liid, n);
		o = n;
	} else {
		shown[o++] = '0';
		shown[o++] = 'x';
		for (i = 0; i < n; i++)
			o += (size_t)snprintf(shown + o, 3, "%02x", liid[i]);
	}
	shown[o] = 0;
	if (reason == SEAL_LATE)
		fprintf(stderr, "lacre: ingest: ALERT late delivery for LIID %s: records intercepted "
			"inside the warrant's window arrive after it ended (sealed to the warrant, "
			"flagged late_delivery); ask the operator to deactivate the interception\n",
			shown);
	else
		fprintf(stderr, "lacre: ingest: ALERT quarantined records of LIID %s: %s "
			"(sealed to oversight; see 'lacre quarantine')\n", shown, reason);
}

/* The alert of a record quarantined as operator-not-bound (issue 11): once
 * per (LIID, sending operator), naming the warrant, the operators it binds
 * and the one the record came from. */
static void seal_alert_operator(struct seal_sink *k, const uint8_t *liid, size_t n,
				const struct warrant_match *m, const struct lacre_record *rec)
{
	char bound[WARRANT_MAX_OPERATORS * SITE_OPERATOR_NAME_MAX + 8];
	size_t i, o = 0;
	int printable = 1;

	if (n > WARRANT_LIID_MAX)
		n = WARRANT_LIID_MAX;
	for (i = 0; i < k->n_alerts; i++)
		if (k->alerts[i].reason && !strcmp(k->alerts[i].reason, WARRANT_Q_OPERATOR) &&
		    k->alerts[i].liid_len == n && !memcmp(k->alerts[i].liid, liid, n) &&
		    !strcmp(k->alerts[i].operator_name, rec->operator_name))
			return;
	if (k->n_alerts < SEAL_ALERTS_MAX) {
		memcpy(k->alerts[k->n_alerts].liid, liid, n);
		k->alerts[k->n_alerts].liid_len = n;
		k->alerts[k->n_alerts].reason = WARRANT_Q_OPERATOR;
		memcpy(k->alerts[k->n_alerts].operator_name, rec->operator_name,
		       sizeof(k->alerts[k->n_alerts].operator_name));
		k->n_alerts++;
	}
	bound[0] = '\0';
	for (i = 0; i < m->n_operators && i < WARRANT_MAX_OPERATORS; i++)
		o += (size_t)snprintf(bound + o, sizeof(bound) - o, "%s%s", i ? ", " : "",
				      m->operators[i]);
	for (i = 0; i < n; i++)
		if (liid[i] < 0x20 || liid[i] > 0x7e)
			printable = 0;
	fprintf(stderr, "lacre: ingest: ALERT quarantined records of LIID %.*s: %s: warrant %s binds "
		"operator %s, but connection %llu from %s is %s%s%s (sealed to oversight; see 'lacre "
		"quarantine')\n", printable ? (int)n : 3, printable ? (const char *)liid : "(binary)",
		WARRANT_Q_OPERATOR, m->id, bound, (unsigned long long)rec->conn_id, rec->peer,
		rec->operator_name[0] ? "operator " : "of no operator",
		rec->operator_name[0] ? rec->operator_name : "",
		rec->operator_name[0] ? "" : " (not authenticated)");
}

/* Whether an IRI record may carry geolocation (legal rule L2, handover
 * spec §13).  Decided exactly (etsi_iri_location) for the contents lacre
 * decodes: IPIRI (targetLocation [7], location [24]), IPMMIRI
 * (targetLocation [2]), EPS and UMTS IRI (locationOfTheTarget,
 * ePSlocationOfTheTarget, partyLocation...) and the TS 33.128 xIRI events
 * whose layout lacre knows.  Anything it cannot see into counts as
 * location-bearing, because ambiguous records are quarantined, never
 * guessed: other IRI contents and xIRI events, aggregated payloads after
 * the first (not decoded in depth), and a PDU whose decode was partial. */
static int seal_iri_location(const struct etsi_pdu *d)
{
	if (d->partial || d->n_payloads != 1)
		return 1;
	/* exact for IPIRI, IPMMIRI, EPS and UMTS IRI and the TS 33.128 xIRI
	 * events whose layout the decoder knows; anything it cannot tell
	 * (-1) may carry a location */
	return etsi_iri_location(d) != 0;
}

/* Categories a record needs authorised (legal rule L2), a set of
 * WARRANT_CAT_* bits: HI3 content is "content"; IRI is traffic data "iri",
 * plus "location" when it may carry geolocation.  TRI PDUs (cINReset,
 * integrity checks) follow their listener. */
static unsigned seal_category(const struct lacre_record *rec, const struct etsi_pdu *d, int ok)
{
	if (ok && d->kind == ETSI_KIND_CC)
		return WARRANT_CAT_CONTENT;
	if (ok && d->kind == ETSI_KIND_IRI)
		return WARRANT_CAT_IRI | (seal_iri_location(d) ? WARRANT_CAT_LOCATION : 0);
	return rec->listener == LACRE_HI3 ? WARRANT_CAT_CONTENT : WARRANT_CAT_IRI;
}

/* Seal one frame into destination d of lane l (under l->mu) and count
 * it in the open segment's stream manifest (its commitment goes to the
 * log with the segment's batch at close).  A segment this record would
 * take past max_bytes, or that is max_age old, is retired first: the
 * writer itself never closes one here. */
static int seal_frame(struct seal_sink *k, struct seal_lane *l, struct seal_dest *d,
		      const struct frame_record *fr)
{
	const struct site_config *sc = &k->site->cfg;
	struct seal_slot *sl;
	const char *open;
	uint64_t fsize, owed;
	int64_t now = now_coarse_us();
	int r;

	/* the record frame's size, as the writer will count it (the writer
	 * checks and encodes the head once; a frame it refuses is refused
	 * before anything is written, an empty new segment is not opened) */
	fsize = frame_record_size(fr);
	if ((sl = d->cur) != NULL && sl->opened_us &&
	    (now - sl->opened_us >= (int64_t)sc->segment_max_age_ms * 1000 - SEAL_AGE_SLACK_US ||
	     sl->plain + fsize > sc->segment_max_bytes))
		seal_retire(k, l, d);
	if (!d->cur && (r = seal_slot_new(k, d)) != LACRE_OK)
		return r;
	sl = d->cur;
	if (!sl->opened_us) {
		/* a destination's segments open in time order */
		if (now <= d->last_opened_us)
			now = d->last_opened_us + 1;
		d->last_opened_us = now;
	}
	r = segment_writer_add(sl->w, fr, now, NULL);
	if (r != LACRE_OK && (r == LACRE_E_INVALID || r == LACRE_E_TOO_LARGE ||
			      r == LACRE_E_IO || r == LACRE_E_CRYPTO || r == LACRE_E_NOMEM ||
			      r == LACRE_E_STATE))
		return r;
	if (!sl->opened_us) {
		sl->opened_us = now;
		sl->plain = SEAL_SEG_HEAD_MAX;
	}
	sl->plain += fsize;
	/* sealed (a failure now is on_close's: the record is in a closed
	 * segment).  A record still in an open segment is named in its
	 * manifest */
	if ((open = segment_writer_open_name(sl->w)) != NULL && segment_writer_pending(sl->w) > 0) {
		if (strcmp(sl->streams.segment, open) != 0)
			seal_streams_reset(&sl->streams, open);
		if (!(fr->route == FRAME_ROUTE_QUARANTINE && fr->reason.len == 5 &&
		      !memcmp(fr->reason.p, "event", 5)))
			seal_streams_note(&sl->streams, fr->kind, fr->liid.p, fr->liid.len, fr->has_cin,
					  fr->cin, fr->seq);
		__atomic_store_n(&l->touched, 1, __ATOMIC_RELAXED);
		if (!d->listed) {
			d->listed = 1;
			if (l->n_td < SEAL_TD_MAX)
				l->td[l->n_td++] = d;
			else
				l->td_all = 1;
		}
	}
	/* what it will still write (backpressure: seal_space_look) */
	owed = segment_writer_unwritten(sl->w);
	if (owed)
		owed += segment_writer_pending(sl->w) * 34 + 4096;
	if (owed != sl->owed) {
		lane_store(&l->owed, l->owed - sl->owed + owed);
		sl->owed = owed;
	}
	return r;
}

/* seal_frame into the destination for key ("" = quarantine) of lane l. */
static int seal_frame_to(struct seal_sink *k, struct seal_lane *l, const char *key,
			 const uint8_t pub[32], const struct frame_record *fr)
{
	struct seal_dest *d;
	int r;

	if ((r = seal_dest_get(k, l, key, pub, &d)) != LACRE_OK)
		return r;
	return seal_frame(k, l, d, fr);
}

/* Look at the spool's room again: free bytes above spool.reserve on its
 * file system, and below spool.quota (the bytes in the spool, counted).
 * Sets the budget record() may take before it looks again (half the room,
 * so the looks come closer as the room shrinks).  Under mu. */
static void seal_space_look(struct seal_sink *k)
{
	const struct site_config *c = &k->site->cfg;
	struct statvfs vs;
	struct seal_lane_sums sum;
	uint64_t avail = UINT64_MAX, room, limit = 0, owed = 0;

	if (statvfs(c->spool_dir, &vs) == 0) {
		avail = (uint64_t)vs.f_bavail * vs.f_frsize;
		limit = (uint64_t)vs.f_blocks * vs.f_frsize;
	}
	/* what the open and retired segments will still write: their
	 * unwritten ciphertext and, at close, their batch files (34 bytes a
	 * record): the lanes' open slots and the retired ones in k->owed */
	seal_lanes_sum(k, &sum);
	owed = sum.owed + __atomic_load_n(&k->owed, __ATOMIC_RELAXED);
	avail = avail > owed ? avail - owed : 0;
	room = avail > c->spool_reserve ? avail - c->spool_reserve : 0;
	if (c->spool_quota) {
		uint64_t used = 0;
		DIR *dd;
		struct dirent *de;
		struct stat sb;
		const char *sub[] = { "", "/" SEAL_SPOOL_READY };
		char path[SITE_PATH_MAX + 16];
		for (size_t i = 0; i < 2; i++) {
			snprintf(path, sizeof(path), "%s%s", c->spool_dir, sub[i]);
			if (!(dd = opendir(path)))
				continue;
			while ((de = readdir(dd)) != NULL)
				if (fstatat(dirfd(dd), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
				    S_ISREG(sb.st_mode))
					used += (uint64_t)sb.st_size;
			closedir(dd);
		}
		limit = c->spool_quota;
		used += owed;
		room = used >= c->spool_quota ? 0 : (c->spool_quota - used < room ? c->spool_quota - used : room);
		avail = c->spool_quota > used ? c->spool_quota - used : 0;
	}
	k->space_free = avail;
	k->space_limit = limit;
	k->space_budget = room / 2;
	/* what the lanes took from the last budget is now on disk or owed */
	__atomic_add_fetch(&k->space_gen, 1, __ATOMIC_RELAXED);
	k->st.spool_full = room == 0;
}

/* Take need bytes of spool budget for a record on lane l (under l->mu):
 * from the lane's own reserve when it has them, else from the sink's
 * budget under mu (a lane's lock before mu), looking at the file system
 * when that is spent, as before.  A lane takes up to SEAL_LANE_SPACE at a
 * time, never more than 1/16 of what is left, so a nearly full spool is
 * shared out in small parts; a look (seal_space_look) drops every lane's
 * reserve (space_gen).  Returns 0, counting the refusal, when there is no
 * room. */
static int seal_space_take(struct seal_sink *k, struct seal_lane *l, uint64_t need)
{
	uint64_t chunk;

	if (l->space_gen == __atomic_load_n(&k->space_gen, __ATOMIC_RELAXED) && l->space_res >= need) {
		l->space_res -= need;
		return 1;
	}
	pthread_mutex_lock(&k->mu);
	if (l->space_gen == k->space_gen)
		k->space_budget += l->space_res;     /* the rest of its reserve back */
	l->space_res = 0;
	if (k->space_budget < need) {
		seal_space_look(k);
		if (k->space_budget < need) {
			/* some room, but less than this record needs: full too */
			k->st.spool_full = 1;
			k->st.refused_full++;
			pthread_mutex_unlock(&k->mu);
			return 0;
		}
	}
	chunk = k->space_budget / 16;
	if (chunk > SEAL_LANE_SPACE)
		chunk = SEAL_LANE_SPACE;
	if (chunk < need)
		chunk = need;
	k->space_budget -= chunk;
	l->space_res = chunk - need;
	l->space_gen = k->space_gen;
	pthread_mutex_unlock(&k->mu);
	return 1;
}

/* Route a record of lane l (under l->mu) as warrant_route_operator
 * would: from the lane's cache when the registry, LIID and category are
 * those of one of its answers and t is inside that answer's span (the
 * last one used is tried first), else from the registry under its read
 * lock, the answer replacing the lane's oldest.  *cp: the answer (valid
 * while l->mu is held), its match read only when *reason is NULL or
 * WARRANT_Q_OPERATOR. */
static int seal_route(struct seal_sink *k, struct seal_lane *l, const uint8_t *liid, size_t n,
		      int64_t t, unsigned category, const char *operator_name,
		      struct seal_route_cache **cp, const char **reason)
{
	uint64_t gen = __atomic_load_n(&k->reg_gen, __ATOMIC_ACQUIRE);
	struct seal_route_cache *c;
	unsigned i;
	int r;

	for (i = 0; i < SEAL_ROUTE_WAYS; i++) {
		c = &l->route[(l->route_last + i) % SEAL_ROUTE_WAYS];
		if (c->valid && c->gen == gen && c->category == category && c->liid_len == n &&
		    t >= c->span_lo && t < c->span_hi && memcmp(c->liid, liid, n) == 0)
			goto hit;
	}
	c = &l->route[l->route_next];
	l->route_next = (l->route_next + 1) % SEAL_ROUTE_WAYS;
	lane_store(&l->route_lookups, l->route_lookups + 1);
	/* the registry is read-only but for the ticker's reload */
	pthread_rwlock_rdlock(&k->reg_lk);
	c->gen = __atomic_load_n(&k->reg_gen, __ATOMIC_RELAXED);
	r = warrant_route_span(k->reg, liid, n, t, category, &c->m, &c->reason, &c->span_lo,
			       &c->span_hi);
	pthread_rwlock_unlock(&k->reg_lk);
	/* a LIID longer than any warrant's is not kept (unknown anyway) */
	c->valid = r == LACRE_OK && n <= sizeof(c->liid);
	c->dest = NULL;
	if (r != LACRE_OK)
		return r;
	c->id_len = c->reason ? 0 : strlen(c->m.id);
	if (c->valid) {
		memcpy(c->liid, liid, n);
		c->liid_len = n;
		c->category = category;
	}
hit:
	l->route_last = (unsigned)(c - l->route);
	*cp = c;
	*reason = c->reason;
	if (!c->reason && !warrant_match_operator_ok(&c->m, operator_name))
		*reason = WARRANT_Q_OPERATOR;   /* m stays filled: the alert names it */
	return LACRE_OK;
}

/* record() while SEAL_CQ_MAX retired segments wait for the closer: not
 * taken (the receiver holds it and retries), counted. */
static int seal_closer_behind(struct seal_sink *k)
{
	pthread_mutex_lock(&k->mu);
	k->st.refused_closer++;
	pthread_mutex_unlock(&k->mu);
	return LACRE_E_NOSPACE;
}

/* sink->record: decode, route, seal. */
static int seal_record(void *ctx, const struct lacre_record *rec)
{
	struct seal_sink *k = ctx;
	struct etsi_pdu dec;
	const struct etsi_pdu *dp = rec->decoded;
	struct frame_record fr;
	struct warrant_match m;
	const struct warrant_match *mp = NULL;
	struct seal_route_cache *rc = NULL;
	struct seal_lane *l;
	const char *reason = NULL;
	int ok, r, intercepted;
	int64_t t;

	/* the receiver's decode when it has one; etsi_decode fills dec
	 * whenever it succeeds, and the fields are read only if ok */
	ok = 1;
	if (!dp) {
		ok = etsi_decode(rec->pdu, rec->pdu_len, &dec) == LACRE_OK;
		dp = &dec;
	}
	memset(&fr, 0, sizeof(fr));
	fr.recv_us = rec->recv_us;
	fr.listener = rec->listener;
	fr.conn_id = rec->conn_id;
	fr.peer = frame_cstr(rec->peer);
	fr.direction = FRAME_DIRECTION_NONE;
	fr.pdu.p = rec->pdu;
	fr.pdu.len = rec->pdu_len;
	if (ok) {
		fr.liid.p = dp->liid.p;
		fr.liid.len = dp->liid.len;
		fr.has_cin = dp->has_cin ? 1 : 0;
		fr.cin = dp->has_cin ? dp->cin : 0;
		fr.seq = dp->seq;
		fr.kind = (uint8_t)dp->kind;
		fr.time_kind = (uint8_t)dp->has_time;
		fr.time_us = dp->has_time ? dp->time_us : 0;
		fr.iri_type = (uint8_t)dp->iri_type;
		fr.direction = dp->direction >= 0 && dp->direction <= 254 ? dp->direction : FRAME_DIRECTION_NONE;
		fr.content = frame_cstr(dp->content);
		/* accepted-and-flagged values (FRAME_NOTE_* = ETSI_FLAG_*) */
		fr.notes = (uint8_t)(dp->flags & FRAME_NOTES_KNOWN);
		if (dp->decrypted && rec->pre && rec->pre_len == rec->pdu_len) {
			fr.pre.p = rec->pre;
			fr.pre.len = rec->pre_len;
		}
	}
	fr.operator_name = frame_cstr(rec->operator_name);

	if ((r = __atomic_load_n(&k->err, __ATOMIC_ACQUIRE)) != LACRE_OK)
		return r;
	if (__atomic_load_n(&k->cq_len, __ATOMIC_RELAXED) >= SEAL_CQ_MAX)
		return seal_closer_behind(k);
	/* L3: the window is judged on the time of interception: the sender's
	 * PSHeader time when it is qualified timeOfInterception(1); any other
	 * record is judged by its receive time */
	intercepted = ok && dp->has_time && dp->ts_qualifier == 1;
	t = intercepted ? dp->time_us : rec->recv_us;
	/* routing and sealing run under this thread's lane only */
	l = seal_lane_get(k);
	pthread_mutex_lock(&l->mu);
	if (!ok) {
		reason = "undecodable";
	} else if (dp->encrypted && !dp->decrypted) {
		/* its category cannot be known (L2): sealed as received, to
		 * oversight, until the handover key is configured */
		reason = SEAL_Q_UNDECRYPTABLE;
	} else if (dp->liid.len == 0) {
		reason = WARRANT_Q_UNKNOWN_LIID;
	} else if (seal_route(k, l, dp->liid.p, dp->liid.len, t, seal_category(rec, dp, ok),
			      rec->operator_name, &rc, &reason) != LACRE_OK) {
		reason = WARRANT_Q_UNKNOWN_LIID;
	}
	if (rc)
		mp = &rc->m;
	/* the operator alert names the warrant after l->mu is let go */
	if (reason && !strcmp(reason, WARRANT_Q_OPERATOR))
		m = *mp;
	/* backpressure: never take a record the spool may have no room for */
	if (!seal_space_take(k, l, rec->pdu_len + fr.pre.len + 512)) {
		pthread_mutex_unlock(&l->mu);
		return LACRE_E_NOSPACE;
	}
	if (!reason) {
		fr.route = FRAME_ROUTE_WARRANT;
		/* routed: mp is the lane's route cache's, which keeps the
		 * id's length and its destination */
		fr.warrant.p = (const uint8_t *)mp->id;
		fr.warrant.len = rc->id_len;
		/* L3/L4: intercepted inside the window, delivered after it
		 * ended (a drained backlog): accepted, flagged, alerted */
		fr.late_delivery = intercepted && rec->recv_us >= mp->period_end;
		r = LACRE_OK;
		if (!rc->dest)
			r = seal_dest_get(k, l, mp->id, mp->recipient, &rc->dest);
		if (r == LACRE_OK)
			r = seal_frame(k, l, rc->dest, &fr);
	} else {
		fr.route = FRAME_ROUTE_QUARANTINE;
		fr.reason = frame_cstr(reason);
		r = seal_frame_to(k, l, SEAL_QUARANTINE_KEY, k->oversight, &fr);
		if (r == LACRE_E_INVALID || r == LACRE_E_TOO_LARGE) {
			/* the frame cannot carry a decoded field (e.g. a LIID
			 * longer than any ETSI LIID): keep the PDU with no index */
			memset(&fr.liid, 0, sizeof(fr.liid));
			memset(&fr.content, 0, sizeof(fr.content));
			fr.has_cin = 0;
			fr.cin = 0;
			fr.reason = frame_cstr("unindexable");
			r = seal_frame_to(k, l, SEAL_QUARANTINE_KEY, k->oversight, &fr);
		}
	}
	/* counted in the lane (seal_lanes_sum): no shared line written
	 * per record */
	if (r == LACRE_OK) {
		lane_store(&l->records, l->records + 1);
		if (!reason)
			lane_store(&l->routed, l->routed + 1);
	}
	pthread_mutex_unlock(&l->mu);
	if (r == LACRE_OK && !reason && !fr.late_delivery)
		return r;
	pthread_mutex_lock(&k->mu);
	if (r == LACRE_OK && !reason) {
		if (fr.late_delivery) {
			k->st.late++;
			seal_alert(k, dp->liid.p, dp->liid.len, SEAL_LATE);
		}
	} else if (r == LACRE_OK) {
		k->st.quarantined++;
		if (ok && !strcmp(reason, WARRANT_Q_OPERATOR))
			seal_alert_operator(k, dp->liid.p, dp->liid.len, &m, rec);
		else
			seal_alert(k, ok ? dp->liid.p : (const uint8_t *)"", ok ? dp->liid.len : 0,
				   reason);
	}
	if (r != LACRE_OK && !k->err)
		__atomic_store_n(&k->err, r, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&k->mu);
	return r;
}

/* sink->event: seal an accounting event to oversight. */
static int seal_event(void *ctx, const char *json)
{
	struct seal_sink *k = ctx;
	struct frame_record fr;
	struct seal_lane *l;
	int r;

	memset(&fr, 0, sizeof(fr));
	fr.recv_us = now_us();
	fr.listener = LACRE_HI2;
	fr.direction = FRAME_DIRECTION_NONE;
	fr.route = FRAME_ROUTE_QUARANTINE;
	fr.reason = frame_cstr("event");
	fr.pdu.p = (const uint8_t *)json;
	fr.pdu.len = strlen(json);
	if (fr.pdu.len == 0)
		return LACRE_OK;
	pthread_mutex_lock(&k->mu);
	r = k->err;
	pthread_mutex_unlock(&k->mu);
	if (r != LACRE_OK)
		return r;
	l = seal_lane_get(k);
	pthread_mutex_lock(&l->mu);
	r = seal_frame_to(k, l, SEAL_QUARANTINE_KEY, k->oversight, &fr);
	pthread_mutex_unlock(&l->mu);
	pthread_mutex_lock(&k->mu);
	if (r == LACRE_OK)
		k->st.events++;
	else if (r != LACRE_E_INVALID && r != LACRE_E_TOO_LARGE && !k->err)
		__atomic_store_n(&k->err, r, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&k->mu);
	return r == LACRE_E_INVALID || r == LACRE_E_TOO_LARGE ? LACRE_OK : r;
}

/* Retire aged (force: all) segments to the closer and pick up warrant
 * changes.  Called with no lock held. */
static int seal_writers_tick(struct seal_sink *k, int force)
{
	int r2, changed = 0;

	seal_lanes_retire(k, force);
	/* large buffers of closed segments no writer took again go */
	segment_cache_trim(SEGMENT_CACHE_IDLE_MS);
	pthread_mutex_lock(&k->mu);
	pthread_rwlock_wrlock(&k->reg_lk);
	r2 = warrant_registry_reload_if_changed(k->reg, &changed);
	if (changed || r2 != LACRE_OK)
		__atomic_add_fetch(&k->reg_gen, 1, __ATOMIC_RELEASE);  /* the route caches' answers go */
	pthread_rwlock_unlock(&k->reg_lk);
	pthread_mutex_unlock(&k->mu);
	if (r2 != LACRE_OK)
		fprintf(stderr, "lacre: ingest: warrant log reload failed (%s): %s; "
			"routing with the warrants loaded before\n", lacre_strerror(r2),
			warrant_registry_error());
	return LACRE_OK;
}

/* One turn of the ledger: checkpoint (force: now) under log_mu only.
 * Called with neither lock held. */
static int seal_log_turn(struct seal_sink *k, int force, int *publish_failing,
			 uint64_t *published)
{
	int r = LACRE_OK, r2;

	pthread_mutex_lock(&k->log_mu);
	r2 = force ? tlog_checkpoint(k->log, NULL) : tlog_tick(k->log, mono_ms(), NULL);
	/* a backend (or witness) that is down only delays publication: the
	 * signed state is durable locally and the next turn retries */
	if (r == LACRE_OK && r2 != LACRE_OK && r2 != LACRE_E_UNAVAILABLE)
		r = r2;
	/* failing while something signed is not published (a turn that
	 * only waited for the interval changes nothing) */
	if (publish_failing)
		*publish_failing = tlog_published_size(k->log) < tlog_signed_size(k->log) &&
				   (r2 == LACRE_E_UNAVAILABLE || *publish_failing);
	if (published)
		*published = tlog_published_size(k->log);
	pthread_mutex_unlock(&k->log_mu);
	return r;
}

/* Move the segments whose batch a signed checkpoint now covers to the
 * uploader's outbox.  Called with neither lock held (one thread at a
 * time: the ticker, or close after the ticker stopped). */
static int seal_promote_due(struct seal_sink *k)
{
	struct seal_pending due[64];
	uint64_t signed_size;
	size_t n, i, j;
	int r = LACRE_OK;

	pthread_mutex_lock(&k->log_mu);
	signed_size = tlog_signed_size(k->log);
	pthread_mutex_unlock(&k->log_mu);
	do {
		pthread_mutex_lock(&k->mu);
		for (n = 0, i = 0, j = 0; i < k->n_pend; i++) {
			if (k->pend[i].index < signed_size && n < 64)
				due[n++] = k->pend[i];
			else
				k->pend[j++] = k->pend[i];
		}
		k->n_pend = j;
		k->st.unsigned_segments = j;
		pthread_mutex_unlock(&k->mu);
		for (i = 0; i < n && r == LACRE_OK; i++)
			r = seal_spool_promote(k->site->cfg.spool_dir, due[i].name);
	} while (n == 64 && r == LACRE_OK);
	if (r != LACRE_OK)
		fprintf(stderr, "lacre: ingest: cannot move a covered segment to %s: %s\n",
			k->ready_dir, strerror(errno));
	return r;
}

/* One line on stderr each time an operator-visible state changes: spool
 * full (reading paused), filling, backend down/back, ledger publication
 * failing/back.  Ticker thread only. */
static void seal_show_state(struct seal_sink *k, int publish_failing)
{
	struct upload_stats us;
	int full, filling;
	uint64_t freeb, limit;

	upload_stats_get(k->up, &us);
	pthread_mutex_lock(&k->mu);
	if (k->st.spool_full)            /* look again: uploads may have freed room */
		seal_space_look(k);
	full = k->st.spool_full;
	freeb = k->space_free;
	limit = k->space_limit;
	k->st.upload_files = us.pending_files;
	k->st.upload_bytes = us.pending_bytes;
	k->st.backend_down = us.backend_down;
	pthread_mutex_unlock(&k->mu);
	if (full != k->shown_full) {
		/* the receiver prints the pause and the resume of reading; this
		 * line says which limit was reached */
		if (full)
			fprintf(stderr, "lacre: ingest: ALERT spool has no room: %s is down to "
				"spool.reserve free bytes%s; %llu segments wait for the backend\n",
				k->site->cfg.spool_dir, k->site->cfg.spool_quota ? " or at spool.quota" : "",
				(unsigned long long)us.pending_files);
		k->shown_full = full;
	}
	filling = limit > 0 && freeb < limit / 100 * (100 - SEAL_SPOOL_FILLING_PCT);
	if (filling != k->filling_shown) {
		if (filling)
			fprintf(stderr, "lacre: ingest: ALERT spool filling: %llu MiB free of %llu MiB "
				"(%s)\n", (unsigned long long)(freeb >> 20), (unsigned long long)(limit >> 20),
				k->site->cfg.spool_dir);
		k->filling_shown = filling;
	}
	if (us.backend_down != k->shown_backend_down) {
		if (us.backend_down)
			fprintf(stderr, "lacre: ingest: ALERT backend unavailable (%s): sealed segments "
				"wait in the spool (%llu files, %llu MiB)\n",
				us.last_err ? lacre_strerror(us.last_err) : lacre_strerror(LACRE_E_UNAVAILABLE),
				(unsigned long long)us.pending_files, (unsigned long long)(us.pending_bytes >> 20));
		else
			fprintf(stderr, "lacre: ingest: backend back: draining the spool (%llu files, "
				"%llu MiB)\n", (unsigned long long)us.pending_files,
				(unsigned long long)(us.pending_bytes >> 20));
		k->shown_backend_down = us.backend_down;
	}
	if (publish_failing != k->shown_publish_failing) {
		if (publish_failing)
			fprintf(stderr, "lacre: ingest: ALERT ledger publication failing (backend or "
				"witnesses not answering): checkpoints are signed locally and published "
				"when they answer\n");
		else
			fprintf(stderr, "lacre: ingest: ledger publication back: checkpoints published\n");
		k->shown_publish_failing = publish_failing;
	}
}

/* The timer thread: segments by age, then the ledger. */
static void *seal_ticker(void *arg)
{
	struct seal_sink *k = arg;
	struct timespec dl;
	int r, stop, pf = 0;
	uint64_t pub = 0;

	pthread_setname_np(pthread_self(), "lacre-ticker");   /* as seal_closer */
	for (;;) {
		/* a turn every SEAL_TICK_MS, or sooner when a leaf is queued */
		clock_gettime(CLOCK_MONOTONIC, &dl);
		dl.tv_nsec += SEAL_TICK_MS * 1000000L;
		if (dl.tv_nsec >= 1000000000L) {
			dl.tv_sec++;
			dl.tv_nsec -= 1000000000L;
		}
		pthread_mutex_lock(&k->mu);
		while (!k->stop && !k->tick_poke &&
		       pthread_cond_timedwait(&k->tick_cv, &k->mu, &dl) == 0)
			;
		k->tick_poke = 0;
		stop = k->stop;
		r = k->err;
		pthread_mutex_unlock(&k->mu);
		if (stop)
			break;
		if (r == LACRE_OK)
			seal_writers_tick(k, 0);
		r = LACRE_OK;
		if (r == LACRE_OK && (r = seal_log_turn(k, 0, &pf, &pub)) == LACRE_OK)
			r = seal_promote_due(k);
		seal_latency_published(k, pub, now_us());
		seal_latency_oldest(k, now_us());
		seal_show_state(k, pf);
		if (r != LACRE_OK) {
			pthread_mutex_lock(&k->mu);
			if (!k->err)
				__atomic_store_n(&k->err, r, __ATOMIC_RELEASE);
			pthread_mutex_unlock(&k->mu);
		}
		if (r != LACRE_OK)
			fprintf(stderr, "lacre: ingest: sealing failed (%s): the receiver will stop\n",
				lacre_strerror(r));
	}
	return NULL;
}

/* sink->flush: close segments that are old enough (the receiver calls this
 * on idle and at its drain). */
static int seal_flush(void *ctx)
{
	struct seal_sink *k = ctx;
	int r;

	pthread_mutex_lock(&k->mu);
	r = k->err;
	pthread_mutex_unlock(&k->mu);
	if (r == LACRE_OK)
		seal_lanes_retire(k, 0);
	return r;
}

/* sink->read_done: the records of one read from a connection are sealed;
 * name them on disk before the next read (issue 15), so that a kill -9
 * leaves every record this receiver read either in a closed segment or
 * in its open segment's manifest, which recovery names in
 * lost-open-segment events.  One append per open segment that changed
 * (seal_streams_write), of this thread's lane only, and nothing when no
 * record came; only the destinations the records went to are looked at
 * (all of the lane's past SEAL_TD_MAX of them).  A failed write is
 * reported once and retried at the next batch and every tick; the
 * receiver goes on (stopping would lose more). */
static int seal_read_done(void *ctx)
{
	struct seal_sink *k = ctx;
	struct seal_lane *l = seal_lane_get(k);
	size_t n;

	if (!__atomic_load_n(&l->touched, __ATOMIC_RELAXED))
		return LACRE_OK;
	pthread_mutex_lock(&l->mu);
	__atomic_store_n(&l->touched, 0, __ATOMIC_RELAXED);
	n = l->td_all ? l->n_dests : l->n_td;
	for (size_t j = 0; j < n; j++) {
		struct seal_dest *d = l->td_all ? &l->dests[j] : l->td[j];
		d->listed = 0;
		if (!d->cur || !d->cur->streams.dirty)
			continue;
		if (seal_streams_write(k->site->cfg.spool_dir, &d->cur->streams) != LACRE_OK &&
		    !__atomic_exchange_n(&k->manifest_warned, 1, __ATOMIC_RELAXED))
			fprintf(stderr, "lacre: ingest: cannot write an open segment's stream manifest "
				"in %s (%s): retried every read and tick; a crash now would lose records "
				"without naming them\n", k->site->cfg.spool_dir, strerror(errno));
	}
	l->n_td = 0;
	l->td_all = 0;
	pthread_mutex_unlock(&l->mu);
	return LACRE_OK;
}

/* Free everything (writers must have been flushed). */
static void seal_free(struct seal_sink *k)
{
	if (k->closer_on) {
		pthread_mutex_lock(&k->cq_mu);
		k->cq_stop = 1;
		pthread_cond_signal(&k->cq_cv);
		pthread_mutex_unlock(&k->cq_mu);
		pthread_join(k->closer, NULL);
	}
	while (k->cq_head) {
		struct seal_slot *sl = k->cq_head;
		k->cq_head = sl->next;
		seal_slot_free(sl);
	}
	for (size_t i = 0; i < SEAL_LANES; i++) {
		for (size_t j = 0; j < k->lanes[i].n_dests; j++)
			seal_slot_free(k->lanes[i].dests[j].cur);
		free(k->lanes[i].dests);
		pthread_mutex_destroy(&k->lanes[i].mu);
	}
	pthread_mutex_destroy(&k->cq_mu);
	pthread_cond_destroy(&k->cq_cv);
	pthread_cond_destroy(&k->cq_idle);
	pthread_cond_destroy(&k->tick_cv);
	free(k->pend);
	free(k->lat);
	if (k->up)
		upload_close(k->up);
	if (k->log)
		tlog_close(k->log);
	if (k->reg)
		warrant_registry_free(k->reg);
	if (k->log_store)
		lacre_store_close(k->log_store);
	if (k->up_store)
		lacre_store_close(k->up_store);
	for (size_t i = 0; i < k->n_up_more; i++)
		lacre_store_close(k->up_more[i]);
	note_signer_free(k->key);
	lacre_dbuf_free(&k->tmp);
	pthread_mutex_destroy(&k->mu);
	pthread_rwlock_destroy(&k->reg_lk);
	pthread_mutex_destroy(&k->log_mu);
	OPENSSL_cleanse(k, sizeof(*k));
	free(k);
}

/* sink->close: seal every open segment, checkpoint, drain the spool. */
static int seal_close(void *ctx)
{
	struct seal_sink *k = ctx;
	struct upload_stats us;
	struct seal_lane_sums sum;
	int r, rs;
	size_t moved;
	uint64_t t0;

	pthread_mutex_lock(&k->mu);
	k->stop = 1;
	pthread_cond_signal(&k->tick_cv);
	pthread_mutex_unlock(&k->mu);
	if (k->ticker_on)
		pthread_join(k->ticker, NULL);
	upload_stop(k->up);
	/* every open segment to the closer, and wait for it */
	seal_lanes_retire(k, 1);
	seal_closer_wait(k);
	pthread_mutex_lock(&k->mu);
	r = k->err;
	pthread_mutex_unlock(&k->mu);
	if (r == LACRE_OK)
		r = seal_log_turn(k, 1, NULL, NULL);
	if (r == LACRE_OK)
		r = seal_promote_due(k);
	if (r != LACRE_OK)
		fprintf(stderr, "lacre: ingest: final seal/checkpoint: %s (segments stay in the "
			"spool and are sent at the next start)\n", lacre_strerror(r));
	/* durable = sealed into closed segments whose batches are signed (the
	 * backend may still be down: the spool holds them) */
	rs = r != LACRE_OK ? r : k->err;
	/* the bound is wall time: a backend that hangs each request until the
	 * store's timeout must not multiply it (counting only the sleeps, a
	 * stop behind an unanswering RGW took tens of minutes) */
	t0 = mono_ms();
	for (;;) {
		r = upload_drain(k->up, 0, &moved);
		upload_stats_get(k->up, &us);
		if (r == LACRE_OK && moved == 0)
			break;
		if (mono_ms() - t0 >= SEAL_DRAIN_WAIT_MS) {
			fprintf(stderr, "lacre: ingest: backend unavailable: sealed segments wait in "
				"the spool %s and are sent at the next start\n", k->site->cfg.spool_dir);
			break;
		}
		if (r != LACRE_OK)
			usleep(200000);
	}
	/* publish the checkpoint that covers everything, now that segments are up */
	if ((r = tlog_checkpoint(k->log, NULL)) != LACRE_OK)
		fprintf(stderr, "lacre: ingest: checkpoint not published (%s): retried at the next start\n",
			lacre_strerror(r));
	seal_lanes_sum(k, &sum);
	fprintf(stderr, "lacre: ingest: sealed %llu records (%llu to warrants of which %llu late "
		"deliveries, %llu quarantined, %llu events) in %llu segments; ingest log size %llu\n",
		(unsigned long long)sum.records, (unsigned long long)sum.routed,
		(unsigned long long)k->st.late,
		(unsigned long long)k->st.quarantined, (unsigned long long)k->st.events,
		(unsigned long long)k->st.segments, (unsigned long long)tlog_size(k->log));
	seal_free(k);
	return rs;
}

/* seal_spool_recover's relog: queue a batch again (single-threaded: the
 * ticker is not running yet). */
static int seal_relog(void *arg, const char *name, const uint8_t *batch, size_t len,
		      uint64_t n_entries)
{
	struct seal_sink *k = arg;
	struct lacre_rbuf b;
	const uint8_t *e;
	size_t el;
	uint64_t n = 0;
	int r;

	lacre_rbuf_init(&b, batch, len);
	while (lacre_rbuf_left(&b) > 0) {
		if (tiles_bundle_next(&b, &e, &el) != LACRE_OK)
			return LACRE_E_CORRUPT;
		if ((r = seal_log_push(k, e, el)) != LACRE_OK)
			return r;
		n++;
	}
	if (n != n_entries)
		return LACRE_E_CORRUPT;
	return seal_pending_add(k, name, k->next_index - 1);
}

/* seal_spool_recover's wait: a segment of the tree a crash left with the
 * log signer unanswered waits for the checkpoint that signs it. */
static int seal_wait_signed(void *arg, const char *name, uint64_t index)
{
	return seal_pending_add(arg, name, index);
}

/* seal_spool_recover's event: seal a loss report like an accounting event. */
static int seal_recovered_event(void *arg, const char *json)
{
	return seal_event(arg, json);
}

/* tlog_signer callback with ledger.signer: ask lacre-signer (the client
 * keeps the reason).  A refusal or a silent signer is an alert (one line
 * per change) and is returned to the log as LACRE_E_UNAVAILABLE: the
 * entries stay journaled, the segments they cover stay in the spool
 * (never promoted without a signed checkpoint), and the next checkpoint
 * asks again; nothing is lost, it waits.  Runs under log_mu. */
static int seal_sign(void *arg, const struct tlog_sign_request *rq, struct lacre_dbuf *note)
{
	struct seal_sink *k = arg;
	int r = k->sc_sign.sign(k->sc_sign.arg, rq, note);

	if (r == LACRE_OK) {
		if (k->signer_refusing)
			fprintf(stderr, "lacre: ingest: the log signer signs again (checkpoint %llu); "
				"waiting segments move on\n", (unsigned long long)rq->size);
		k->signer_refusing = 0;
		return LACRE_OK;
	}
	/* the signer already holds a tree we sent (an answer lost): the log
	 * proves from its size and asks again at once; not an alert */
	if (r == LACRE_E_STATE && rq->stale_size && *rq->stale_size > rq->old_size &&
	    *rq->stale_size <= rq->size)
		return r;
	k->signer_failures++;
	if (k->sc.refused)
		k->signer_refusals++;
	if (!k->signer_refusing)
		fprintf(stderr, "lacre: ingest: ALERT log signer: %s; segments wait in the spool "
			"until a checkpoint is signed (check lacre-signer and %s/refusals)\n",
			k->sc.last_reason, k->site->cfg.ledger_signer);
	k->signer_refusing = 1;
	return LACRE_E_UNAVAILABLE;
}

/* ledger.signer: the log's vkey from lacre-signer (or, when it does not
 * answer yet, from the log's own copy of an earlier run), and the signing
 * callback for tlog_open_signer. */
static int seal_signer_setup(struct seal_sink *k, const struct site *s, struct tlog_signer *sg,
			     char *msg, size_t msglen)
{
	struct note_verifier vk;
	struct lacre_dbuf d;
	char path[SITE_PATH_MAX], rel[SITE_PATH_MAX];
	int r;

	if (strlen(s->cfg.ledger_signer) >= sizeof(k->sc.path)) {
		snprintf(msg, msglen, "ledger.signer is longer than a socket address (107 bytes)");
		return LACRE_E_CONFIG;
	}
	memcpy(k->sc.path, s->cfg.ledger_signer, strlen(s->cfg.ledger_signer) + 1);
	r = signer_fetch_key(k->sc.path, &vk);
	if (r != LACRE_OK) {
		lacre_dbuf_init(&d, 4096);
		if (site_ingest_relpath(s->cfg.ingest_receiver, "/vkey", rel, sizeof(rel)) != LACRE_OK ||
		    site_path(s, rel, path, sizeof(path)) != LACRE_OK ||
		    note_read_file(path, 4096, &d) != LACRE_OK ||
		    note_verifier_parse((const char *)d.p, d.len, &vk) != LACRE_OK) {
			lacre_dbuf_free(&d);
			snprintf(msg, msglen, "the log signer at %s does not answer (%s) and the ingest log "
				 "has no key yet: start lacre-signer first (docs/cmd-signer.md)",
				 k->sc.path, lacre_strerror(r));
			return r == LACRE_OK ? LACRE_E_UNAVAILABLE : r;
		}
		lacre_dbuf_free(&d);
		fprintf(stderr, "lacre: ingest: ALERT log signer: %s does not answer (%s); checkpoints "
			"wait for it\n", k->sc.path, lacre_strerror(r));
		k->signer_refusing = 1;
	}
	signer_client_tlog(&k->sc, &vk, &k->sc_sign);
	*sg = k->sc_sign;
	sg->sign = seal_sign;
	sg->arg = k;
	fprintf(stderr, "lacre: ingest: checkpoints are signed by lacre-signer at %s (%s)\n",
		k->sc.path, vk.name);
	return LACRE_OK;
}

/* witness.policy: the witnesses the ingest log asks for cosignatures and
 * the quorum before a checkpoint is published on the backend. */
static int seal_load_policy(struct seal_sink *k, const char *path, char *msg, size_t msglen)
{
	struct policy *p = NULL;
	size_t bad = 0;
	int r = policy_load_file(path, &p, &bad);

	if (r != LACRE_OK)
		snprintf(msg, msglen, "witness.policy %s:%zu: %s", path, bad, lacre_strerror(r));
	else if ((r = tlog_set_policy(k->log, p)) != LACRE_OK)
		snprintf(msg, msglen, "witness.policy %s: the ingest log refused it (%s)", path,
			 lacre_strerror(r));
	free(p);
	return r;
}

void seal_sink_stats_get(const struct lacre_sink *sink, struct seal_sink_stats *st)
{
	struct seal_sink *k = sink->ctx;
	struct seal_sink_stats log;
	struct seal_lane_sums sum;

	/* the ledger's figures, unless a checkpoint holds log_mu (its tiles
	 * and witnesses may take seconds): then those of the last look.  The
	 * receiver's lead calls this from its loop (the status file): it never
	 * waits for the log's I/O, and mu is not held while log_mu is sought */
	memset(&log, 0, sizeof(log));
	if (pthread_mutex_trylock(&k->log_mu) == 0) {
		log.log_size = tlog_size(k->log);
		log.signed_size = tlog_signed_size(k->log);
		log.signer_refusals = k->signer_refusals;
		log.signer_failures = k->signer_failures;
		log.signer_refusing = k->signer_refusing;
		pthread_mutex_unlock(&k->log_mu);
		pthread_mutex_lock(&k->mu);
		k->log_seen = log;
		pthread_mutex_unlock(&k->mu);
	}
	pthread_mutex_lock(&k->mu);
	*st = k->st;
	/* counted in the lanes by seal_record */
	seal_lanes_sum(k, &sum);
	st->records = sum.records;
	st->routed = sum.routed;
	st->route_lookups = sum.route_lookups;
	st->log_size = k->log_seen.log_size;
	st->signed_size = k->log_seen.signed_size;
	st->signer_refusals = k->log_seen.signer_refusals;
	st->signer_failures = k->log_seen.signer_failures;
	st->signer_refusing = k->log_seen.signer_refusing;
	pthread_mutex_unlock(&k->mu);
	st->closing = __atomic_load_n(&k->cq_len, __ATOMIC_RELAXED);
	st->closer_behind = st->closing >= SEAL_CQ_MAX;
}

int seal_sink_open(const struct site *s, struct lacre_sink *out, char *msg, size_t msglen)
{
	struct seal_sink *k;
	struct upload_config uc;
	char state[SITE_PATH_MAX], origin[NOTE_NAME_MAX + 1], rel[SITE_PATH_MAX];
	int r;

	if (msglen)
		msg[0] = 0;
	k = calloc(1, sizeof(*k));
	if (!k)
		return LACRE_E_NOMEM;
	pthread_mutex_init(&k->mu, NULL);
	{
		/* the ticker's reload every tick must not wait behind a
		 * stream of workers' reads */
		pthread_rwlockattr_t ra;

		pthread_rwlockattr_init(&ra);
		pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
		pthread_rwlock_init(&k->reg_lk, &ra);
		pthread_rwlockattr_destroy(&ra);
	}
	pthread_mutex_init(&k->log_mu, NULL);
	pthread_mutex_init(&k->cq_mu, NULL);
	pthread_cond_init(&k->cq_cv, NULL);
	pthread_cond_init(&k->cq_idle, NULL);
	{
		pthread_condattr_t ca;   /* the ticker's deadlines are monotonic */
		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&k->tick_cv, &ca);
		pthread_condattr_destroy(&ca);
	}
	for (size_t i = 0; i < SEAL_LANES; i++)
		pthread_mutex_init(&k->lanes[i].mu, NULL);
	{
		static uint64_t sinks;   /* numbers the sinks of this process */
		k->gen = __atomic_add_fetch(&sinks, 1, __ATOMIC_RELAXED);
	}
	lacre_dbuf_init(&k->tmp, 1024);
	k->site = s;
	if ((r = age_recipient_parse(s->cfg.oversight_recipient, k->oversight)) != LACRE_OK) {
		snprintf(msg, msglen, "oversight.recipient is not an age recipient");
		goto fail;
	}
	if ((r = warrant_registry_load(s, &k->reg)) != LACRE_OK) {
		snprintf(msg, msglen, "cannot load the warrant log: %s", warrant_registry_error());
		goto fail;
	}
	if (mkdir(s->cfg.spool_dir, LACRE_MODE_GROUP_DIR) != 0 && errno != EEXIST) {
		r = LACRE_E_IO;
		snprintf(msg, msglen, "cannot create the spool %s: %s", s->cfg.spool_dir, strerror(errno));
		goto fail;
	}
	if ((r = site_store_open(s, &k->log_store, msg, msglen)) != LACRE_OK ||
	    (r = site_store_open(s, &k->up_store, msg, msglen)) != LACRE_OK)
		goto fail;
	if (strncmp(s->cfg.backend, "s3://", 5) == 0)
		for (; k->n_up_more + 1 < s->cfg.s3_uploads && k->n_up_more < SEAL_UPLOAD_MORE;
		     k->n_up_more++)
			if ((r = site_store_open(s, &k->up_more[k->n_up_more], msg, msglen)) != LACRE_OK)
				goto fail;
	if ((r = seal_sink_log_origin(s, origin, sizeof(origin))) != LACRE_OK ||
	    (r = site_ingest_relpath(s->cfg.ingest_receiver, "", rel, sizeof(rel))) != LACRE_OK ||
	    (r = site_path(s, rel, state, sizeof(state))) != LACRE_OK)
		goto fail;
	if (s->cfg.ledger_signer[0]) {
		/* the key stays in lacre-signer: this process never opens it */
		struct tlog_signer sg;
		if ((r = seal_signer_setup(k, s, &sg, msg, msglen)) != LACRE_OK)
			goto fail;
		r = tlog_open_signer(k->log_store, state, origin, &sg, &k->log);
	} else {
		if ((r = seal_sink_log_key(s, &k->key)) != LACRE_OK) {
			snprintf(msg, msglen, "cannot load or create the ingest log key in %s/ledger", s->dir);
			goto fail;
		}
		fprintf(stderr, "lacre: ingest: warning: the ingest log's key is in the receiver "
			"(%s/%s.key): a compromised receiver could sign a forked or rolled-back "
			"log; run lacre-signer and set ledger.signer (docs/cmd-signer.md)\n", s->dir, rel);
		r = tlog_open(k->log_store, state, origin, k->key, &k->log);
	}
	if (r != LACRE_OK) {
		snprintf(msg, msglen, r == LACRE_E_CONFIG ? "cannot open the ingest log in %s: its state "
			 "belongs to another key or origin (is ledger.signer's key the log's?)" :
			 "cannot open the ingest log in %s", state);
		goto fail;
	}
	tlog_set_interval(k->log, SEAL_CHECKPOINT_MS);
	if (s->cfg.witness_policy[0] && (r = seal_load_policy(k, s->cfg.witness_policy, msg, msglen)) != LACRE_OK)
		goto fail;
	k->next_index = tlog_size(k->log);
	if (snprintf(k->ready_dir, sizeof(k->ready_dir), "%s/%s", s->cfg.spool_dir,
		     SEAL_SPOOL_READY) >= (int)sizeof(k->ready_dir)) {
		r = LACRE_E_CONFIG;
		snprintf(msg, msglen, "spool.dir is too long");
		goto fail;
	}
	/* what an earlier run left: re-log unsigned batches, promote covered
	 * segments, name what open segments lost (seal_spool.h) */
	{
		struct seal_recovery rec;
		struct seal_recovery_ops ops = { seal_relog, seal_recovered_event, k, seal_wait_signed };
		if ((r = seal_spool_recover(s->cfg.spool_dir, k->log, &ops, &rec, msg, msglen)) != LACRE_OK)
			goto fail;
		k->st.relogged_segments = rec.relogged_segments;
		k->st.lost_records = rec.lost_records;
	}
	memset(&uc, 0, sizeof(uc));
	uc.outbox = k->ready_dir;
	uc.name_prefix = SEAL_SEGMENT_PREFIX;
	uc.more = k->up_more;
	uc.n_more = k->n_up_more;
	if ((r = upload_open(&uc, k->up_store, &k->up)) != LACRE_OK) {
		snprintf(msg, msglen, "cannot start the uploader on %s", k->ready_dir);
		goto fail;
	}
	/* the backend is not waited for: listeners open at once, the uploader
	 * and the ticker (an unfinished publication of an earlier run, the
	 * re-logged batches) catch up in the background */
	seal_space_look(k);
	if ((r = upload_start(k->up, 250)) != LACRE_OK)
		goto fail;
	if (pthread_create(&k->closer, NULL, seal_closer, k) != 0) {
		r = LACRE_E_NOMEM;
		goto fail;
	}
	k->closer_on = 1;
	pthread_setname_np(k->closer, "lacre-closer");
	if (pthread_create(&k->ticker, NULL, seal_ticker, k) != 0) {
		r = LACRE_E_NOMEM;
		goto fail;
	}
	k->ticker_on = 1;
	pthread_setname_np(k->ticker, "lacre-ticker");
	memset(out, 0, sizeof(*out));
	out->ctx = k;
	out->record = seal_record;
	out->event = seal_event;
	out->flush = seal_flush;
	out->close = seal_close;
	out->read_done = seal_read_done;
	out->refusal = seal_refusal;
	return LACRE_OK;
fail:
	if (!msg[0] && msglen)
		snprintf(msg, msglen, "%s", lacre_strerror(r));
	seal_free(k);
	return r;
}

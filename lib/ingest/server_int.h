/*
 * server_int.h - what the receiver's files share (server.c: the event loop,
 * connections and the stop; backpressure.c: what happens while the sink has
 * no space): the connection and server structures and the few functions
 * one calls in the other.  Not part of the API (include/lacre/ingest.h).
 */
#ifndef LACRE_INGEST_SERVER_INT_H
#define LACRE_INGEST_SERVER_INT_H

#include <pthread.h>
#include <signal.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "lacre/ingest.h"
#include "lacre/json.h"
#include "ingest/accounting_int.h"
#include "ingest/ingest_int.h"

#define RETRY_MS 200               /* retry of held PDUs while the sink has no space */
#define EVQ_CAP ((size_t)16 << 20) /* events kept while the sink has no space */
#define PEER_BUCKETS 4096
/* Bytes one recv()/SSL_read() asks for: the size of each event loop's read
 * buffer (server.c for the lead, worker.c for the others), and the most a
 * kill -9 can catch in flight per worker (tests/e2e/lib/kill9_named.py). */
#define SRV_READ_CHUNK (64u << 10)

enum conn_state { CS_HANDSHAKE = 1, CS_OPEN };

struct peer_count {
	struct peer_count *next;
	uint8_t addr[16];
	uint8_t fam;
	unsigned n;
};

struct conn;

/* One worker's counters for --stats and the status file: all uint64_t, so
 * that srv_stats_add can add two of them member by member. */
struct srv_stats {
	uint64_t accepted, refused_peer, refused_total, refused_allow;
	uint64_t refused_operator;     /* connections that authenticated to no operator */
	uint64_t closed_malformed, closed_idle, closed_slow, closed_tx;
	uint64_t closed_tls, closed_eof, closed_error, closed_sink, closed_shutdown;
	uint64_t pdus, records, bytes, keepalives, ka_responses, ka_resp_bytes;
	uint64_t truncated_tails, truncated_bytes, anomalies, partial, decode_errors;
	uint64_t budget_refusals, budget_refused_bytes, closed_budget;
	uint64_t pauses, paused_ms, retries, events_deferred, events_lost;
	uint64_t lost_at_stop, lost_bytes_at_stop, cut_at_stop;
	uint64_t encrypted, decrypted, undecryptable, bctr_breaks, bctr_restarts, bctr_gaps, bctr_open;
};

/* A PDU the sink could not take (LACRE_E_NOSPACE), or one read after it on
 * the same connection: kept in arrival order until the sink takes it. */
struct held {
	struct held *next;
	struct conn *c;                /* NULL once its connection closed */
	uint64_t conn_id;
	uint64_t off;                  /* stream offset of the PDU */
	uint8_t listener;
	char peer[64];
	char operator_name[65];
	size_t len;
	uint8_t b[];
};

#define SRV_UNDEC_MAX 256            /* distinct undecryptable (LIID, reason) alerts */

struct conn {
	struct conn *prev, *next;      /* all connections */
	struct conn *rnext;            /* ready list (TLS bytes buffered) */
	struct ingest_server *srv;
	int fd;
	uint8_t listener;
	uint8_t state;
	uint8_t on_ready;
	uint8_t closing;
	uint8_t tls_read_wants_write;
	uint8_t tls_write_wants_read;
	uint8_t in_ep;                 /* registered in the epoll set */
	uint8_t wr_shut;               /* our side half-closed (stopping) */
	uint8_t acct_kept;             /* its last PDU was retained for hash checks (srv_acct_pdu) */
	unsigned n_held;               /* PDUs of this connection in the held FIFO */
	uint8_t budget_refused;        /* its incomplete PDU was refused (budget.c): closed after this turn */
	size_t mem_acct;               /* bytes of its framer counted in the memory budget */
	size_t tail_refused;           /* bytes of the incomplete PDU refused (logged as a truncated tail) */
	uint32_t events;               /* current epoll mask */
	uint64_t id;
	SSL *ssl;
	struct ingest_framer fr;
	struct lacre_dbuf tx;          /* unsent keep-alive responses */
	int64_t opened_ms, last_rx_ms, pdu_start_ms;
	uint64_t rx_bytes, pdus, keepalives, ka_answered;
	struct peer_count *pc;
	char peer[64];
	char fp[65];                   /* client certificate SHA-256, hex */
	char operator_name[65];        /* authenticated operator (op_auth.c), "" = none */
};

struct listener {
	int fd;
	uint8_t which;                 /* LACRE_HI2 / LACRE_HI3 */
	int tls;
	int port;
	int shared;                    /* a worker's view of the lead's socket: not closed by it */
	int stopped;                   /* drained: no longer listening */
};

struct ingest_server {
	struct ingest_config cfg;
	struct lacre_sink *sink;
	int ep;
	int stop_fd;
	int spare_fd;                  /* reserved fd, released to shed on EMFILE */
	volatile sig_atomic_t stopping;
	struct listener l[2];
	SSL_CTX *tls;
	struct ingest_op_auth *opa;    /* operators configured: op_auth.c */
	struct conn *conns;
	struct conn *ready;
	unsigned n_conns;
	struct peer_count *peers[PEER_BUCKETS];
	struct ingest_acct *acct;
	uint8_t *rbuf;                 /* READ_CHUNK scratch */
	struct etsi_pdu d;             /* decode scratch */
	struct lacre_dbuf ev;          /* event scratch */
	/* memory budget (budget.c): incomplete PDUs and held PDUs in all */
	size_t mem_pend;               /* sum of every connection's mem_acct */
	size_t mem_max;                /* most ever held (mem_pend + held_bytes) */
	unsigned n_budget_refused;     /* refused connections not closed yet */
	int sink_err;
	int decode_err;                /* set by on_pdu for the close reason */
	int64_t read_us;               /* when the read conn_feed frames returned (the
					* receive time of its PDUs); 0 outside it */
	int dirty;                     /* records since the last flush */
	int64_t last_flush_ms;
	/* backpressure (LACRE_E_NOSPACE from the sink) */
	int paused;
	int paused_behind;               /* the sink's refusal was not a full spool (sink->refusal) */
	int flush_pending;             /* a flush answered NOSPACE */
	int64_t pause_start_ms, last_retry_ms;
	struct held *h_head, *h_tail;  /* PDUs the sink has not taken yet */
	size_t held_n, held_bytes;
	struct lacre_dbuf evq;         /* events not taken yet, NUL-terminated, in order */
	struct lacre_dbuf early;       /* events of the start (state load) emitted before the
	                                * sink opened, NUL-terminated: handed over in run */
	int run_started;               /* ingest_server_run began: no more early events */
	int evq_full_alerted;
	int listeners_muted;
	uint64_t st_held_max;
	/* persisted stream state */
	int64_t last_state_ms, last_mark_ms;
	int64_t last_heap_trim_ms;
	int state_err_alerted;
	/* counters for --stats (this worker's; srv_stats_sum adds them up) */
	struct srv_stats st;
	unsigned max_open;
	/* encrypted deliveries (cfg.hkeys) */
	struct lacre_dbuf plain;       /* decrypted payload of the PDU in hand (secret) */
	struct lacre_dbuf pre;         /* its pre-encryption form (what hashes cover; secret) */
	struct etsi_bctr bctr[2];      /* byteCounter chains of HI2 [0] and HI3 [1] */
	struct srv_undec {             /* (LIID, reason) already alerted as undecryptable */
		uint8_t liid[64];
		size_t liid_len;
		int reason;
	} undec[SRV_UNDEC_MAX];
	size_t n_undec;
	/* workers (worker.c): the first server is the lead; it owns the
	 * others (lead->wk[1..n_wk)), the shared state below and the threads */
	struct ingest_server *lead;    /* the lead (itself for the lead) */
	unsigned wk_index;             /* 0 for the lead */
	struct srv_shared *sh;         /* shared by every worker (owned by the lead) */
	struct ingest_server **wk;     /* lead only: every worker, wk[0] = the lead */
	unsigned n_wk;                 /* lead only */
	int64_t last_pub_ms;           /* when this worker last published its figures */
	int wk_rc;                     /* a worker thread's result */
	/* connections ended whose held hash checks are judged after a grace
	 * (srv_conn_ends): the PDUs they list may still be in flight on
	 * another worker's connection */
	struct srv_end { uint64_t id; int64_t due_ms; } *ends;
	size_t n_ends, cap_ends;
	/* connections handed to this worker by the one that accepted them */
	unsigned load;                 /* atomic: connections open or handed to it */
	unsigned load_l[2];            /* atomic: the same, per listener (0 HI2, 1 HI3) */
	int in_fd;                     /* eventfd: the inbox has connections */
	pthread_mutex_t in_mu;
	struct srv_handoff *in_head;   /* under in_mu */
	/* data PDUs sealed, their accounting waiting for the end of the read
	 * (acct_batch.c; srv_acct_pdu, srv_acct_apply): all of ab_conn */
	struct ingest_acct_batch ab;
	struct conn *ab_conn;
};

/* What every worker shares (worker.c); each lock is held only for the
 * few instructions that touch its state. */
struct srv_shared {
	pthread_mutex_t acct_mu;       /* the stream accounting, byteCounter chains, undecryptable list */
	pthread_mutex_t peer_mu;       /* the per-peer connection counts (lead->peers) */
	unsigned n_conns;              /* under peer_mu: connections open in all workers */
	unsigned max_open;             /* under peer_mu: most ever open at once */
	uint64_t next_id;              /* atomic: the last connection id given */
	size_t mem_used;               /* atomic: the memory budget's bytes in all workers */
	size_t mem_max;                /* atomic: most ever counted */
	pthread_mutex_t pub_mu;        /* the published figures below */
	struct srv_pub *pub;           /* one per worker */
	/* the state file's writer thread (worker.c): the lead encodes the
	 * state under acct_mu, the saver writes and syncs it without */
	pthread_t saver;
	int saver_on, saver_stop, saver_busy, saver_has, saver_alerted;
	pthread_mutex_t saver_mu;
	pthread_cond_t saver_cv;
	struct lacre_dbuf saver_buf;   /* under saver_mu while saver_has */
	struct ingest_acct_snap saver_snap;
};

/* One worker's figures as it last published them (every 100 ms and at
 * its end): what the status file and --stats add up while others run. */
struct srv_pub {
	struct srv_stats st;
	uint64_t n_conns, mem_pend, held_bytes, held_n, held_max, paused;
};

/* 1 once ingest_server_stop() was called (from any thread or a signal
 * handler: an atomic flag; the eventfd is what wakes the loop). */
static inline int srv_stopping(const struct ingest_server *s)
{
	return __atomic_load_n(&s->stopping, __ATOMIC_RELAXED);
}

/* 1 when c may not be read now: it holds PDUs the sink has not taken, its
 * incomplete PDU was refused by the memory budget (it is closed after this
 * turn), or events wait for space (then nothing is read anywhere). */
static inline int srv_conn_blocked(const struct ingest_server *s, const struct conn *c)
{
	return c->n_held > 0 || c->budget_refused || (s->paused && s->evq.len > 0);
}

/* server.c */

/* Monotonic milliseconds. */
int64_t srv_mono_ms(void);
/* Set the epoll interest of c (out of the set while it may not be read). */
void srv_conn_watch(struct ingest_server *s, struct conn *c);
/* Close a connection: events for its tail and its end, a stderr line when
 * is_error, counter incremented, c freed.  PDUs it still holds stay held. */
void srv_conn_close(struct ingest_server *s, struct conn *c, const char *reason, int is_error,
                    uint64_t *counter);
/* Write queued keep-alive responses: 0, or -1 when c failed (closed). */
int srv_conn_flush_tx(struct ingest_server *s, struct conn *c);
/* Handle one complete PDU of c (decode, answer, sink, account).
 * LACRE_E_NOSPACE: not taken and not counted. */
int srv_handle_pdu(struct ingest_server *s, struct conn *c, const uint8_t *pdu, size_t len,
                   uint64_t off);
/* Reason text for a framing or decoding failure r. */
const char *srv_frame_reason(int r, char *buf, size_t n, const struct conn *c);
/* Put c on the ready list (decrypted bytes wait inside OpenSSL). */
void srv_ready_add(struct ingest_server *s, struct conn *c);
/* Start and finish an event of c (NULL: not a connection's). */
void srv_event_begin(struct ingest_server *s, struct json_w *w, const char *name,
                     const struct conn *c);
void srv_event_end(struct ingest_server *s, struct json_w *w);
/* Log the incomplete PDU c holds as a truncated-tail event (its bytes in
 * base64), counted in --stats; returns its length (0: nothing held). */
size_t srv_conn_tail_event(struct ingest_server *s, struct conn *c);

/* worker.c: the workers */

/* A connection accepted by one worker for another. */
struct srv_handoff {
	struct srv_handoff *next;
	int fd;
	uint8_t which;                 /* 0: hi2 listener, 1: hi3 */
	struct peer_count *pc;         /* its slot (srv_conn_admit) */
	char peer[64];
};

/* server.c: take an admitted connection into s (state, events); 0:
 * taken, -1: could not (fd closed, pc given back). */
int srv_conn_setup(struct ingest_server *s, struct listener *l, int fd, const char *peer,
                   struct peer_count *pc);
/* server.c: the connection limits, in the order of acceptance; 0 with
 * *pc taken, -1: refused (fd closed). */
int srv_conn_admit(struct ingest_server *s, struct listener *l, int fd, const char *peer,
                   const uint8_t raw[16], uint8_t fam, struct peer_count **pc);
/* worker.c: a connection s accepted goes to the worker with the fewest
 * (s itself on a tie). */
/* worker.c: account one PDU of c (ingest_acct_pdu) with the least held
 * under the accounting lock: a plain data PDU waits in s's batch
 * (srv_acct_apply); its hash and, when c's last PDU was retained for hash
 * checks, its copy are made before the lock, frees after it. */
int srv_acct_pdu(struct ingest_server *s, struct conn *c, const uint8_t *pdu, size_t len,
                 const struct etsi_pdu *d);
/* worker.c: account s's batch now (one lock for it); s's own thread only.
 * Called at the end of every read and held-PDU retry, before a
 * connection's end, and by srv_acct_pdu before a PDU that cannot wait. */
void srv_acct_apply(struct ingest_server *s);
/* One connection more (+1) or fewer (-1) on worker t, from listener
 * `hi3` (0 HI2, 1 HI3): the counts srv_accepted places by (worker.c). */
void srv_load_add(struct ingest_server *t, int hi3, int delta);
void srv_accepted(struct ingest_server *s, struct listener *l, int fd, const char *peer,
                  const uint8_t raw[16], uint8_t fam);
/* server.c: give back a connection slot srv_conn_admit took. */
void srv_peer_put(struct ingest_server *s, struct peer_count *pc);
/* Take the connections handed to s (refuse: close them, stopping). */
void srv_inbox_take(struct ingest_server *s, int refuse);
/* Close s's inbox (ingest_server_free). */
void srv_inbox_free(struct ingest_server *s);

/* Hand an encoded state to the saver thread (it takes d); 0 when the
 * saver was busy or absent (d untouched). */
int srv_saver_hand(struct ingest_server *s, struct lacre_dbuf *d, const struct ingest_acct_snap *snap);
/* 1 while the saver writes or has a state waiting. */
int srv_saver_busy(const struct ingest_server *s);

/* Create (at the start of ingest_server_new) and free (last) the shared
 * state; s becomes the lead. */
int srv_shared_new(struct ingest_server *s);
void srv_shared_free(struct ingest_server *s);
/* One worker's published figures (i < lead->n_wk). */
void srv_pub_get(const struct ingest_server *lead, unsigned i, struct srv_pub *out);
/* Create the workers beside the lead (cfg.workers - 1 of them) and the
 * shared state; the lead's listeners are shared (EPOLLEXCLUSIVE). */
int srv_workers_new(struct ingest_server *lead);
/* Run every worker's loop (the lead's on the calling thread) until the
 * stop, and their drains; returns the first failure. */
int srv_workers_run(struct ingest_server *lead);
/* Free the workers and the shared state (the lead itself is not freed). */
void srv_workers_free(struct ingest_server *lead);
/* Publish s's figures for the status file (at most every 100 ms; force: now). */
void srv_publish(struct ingest_server *s, int64_t now, int force);
/* The figures of every worker added up (published ones while they run). */
void srv_pub_sum(const struct ingest_server *lead, struct srv_pub *out);
/* One worker's loop and drain (server.c); returns its result. */
int srv_worker_loop(struct ingest_server *s);
/* Lock and unlock the shared accounting. */
void srv_acct_lock(const struct ingest_server *s);
void srv_acct_unlock(const struct ingest_server *s);
/* The worker running on this thread (NULL outside a worker). */
struct ingest_server *srv_self(void);
void srv_set_self(struct ingest_server *s);

/* budget.c: one memory budget (cfg.memory_budget) over every connection's
 * incomplete PDU and the PDUs held for want of space */

/* Bytes the budget counts now. */
size_t srv_budget_used(const struct ingest_server *s);
/* Before up to n bytes are read from c: make room for what c's framer may
 * allocate to hold them, refusing the incomplete PDUs that cost most
 * (largest, then oldest; c's own included).  0: read; -1: c's own PDU was
 * refused (do not read it; it is closed by srv_budget_reap()). */
int srv_budget_admit(struct ingest_server *s, struct conn *c, size_t n);
/* After c's framer was fed or freed: count what it holds now. */
void srv_budget_sync(struct ingest_server *s, struct conn *c);
/* c is being closed (its framer freed): stop counting it. */
void srv_budget_forget(struct ingest_server *s, struct conn *c);
/* Close the connections refused since the last call (never inside an
 * event batch, where a later event may still name them). */
void srv_budget_reap(struct ingest_server *s);
/* The --stats member "memory_budget" (p: every worker's figures added up). */
void srv_budget_json(const struct ingest_server *s, const struct srv_pub *p, struct json_w *w);
/* The budget's count moved by n bytes in this worker (held PDUs). */
void srv_budget_add(struct ingest_server *s, size_t n);
void srv_budget_sub(struct ingest_server *s, size_t n);

/* backpressure.c */

/* Append a copy of a PDU of c to the held FIFO (LACRE_E_NOMEM stops the
 * receiver). */
int srv_hold_add(struct ingest_server *s, struct conn *c, const uint8_t *pdu, size_t len,
                 uint64_t off);
/* The sink refused `what` for want of space: pause (one ALERT line). */
void srv_pause_enter(struct ingest_server *s, const char *what);
/* Retry queued events, a pending flush and the held PDUs, in order;
 * resumes (one ALERT line) when everything was taken. */
void srv_pause_retry(struct ingest_server *s, int64_t now);
/* Mute or unmute listeners and connections as events wait or not. */
void srv_hard_block_update(struct ingest_server *s);
/* At stop: name the held PDUs that could not be sealed, free them. */
void srv_report_lost_held(struct ingest_server *s);

#endif

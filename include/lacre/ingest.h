/*
 * ingest.h - the handover receiver (lacre ingest): HI2/HI3 listeners over
 * plain TCP or TLS, PS-PDU reassembly, keep-alive answers, stream accounting,
 * integrity-check verification and limits against hostile peers
 * (../shared/spec/etsi-handover.md §1-§8).
 *
 * The receiver hands every PS-PDU that arrives, byte for byte, to a
 * struct lacre_sink (record.h), except keep-alives, which are answered on the
 * spot and logged as events (with their bytes) per spec §6.3.  Accounting
 * (gaps, duplicates, resets, integrity results, truncated tails, connects and
 * disconnects) goes to sink->event as one JSON object per call.
 *
 * Threading: ingest_server_run() runs cfg.workers event loops, on the
 * calling thread and cfg.workers - 1 threads of its own (lib/ingest/
 * worker.c); ingest_server_stop() may be called from a signal handler or
 * any other thread.  With more than one worker the sink is called from
 * every worker's thread at once: it must be thread-safe (the seal and
 * spool sinks are); with one, only from the calling thread.
 *
 * The lower-level pieces (framer, keep-alive response, accounting,
 * integrity) are public so they can be tested alone and reused by the vault
 * pipeline; most callers only need the server and a sink.
 */
#ifndef LACRE_INGEST_H
#define LACRE_INGEST_H

#include <stddef.h>
#include <stdint.h>

#include "lacre/buf.h"
#include "lacre/etsi.h"
#include "lacre/etsi_crypt.h"
#include "lacre/json.h"
#include "lacre/record.h"

/* ---------------------------------------------------------------- server */

#define INGEST_MAX_FPS 64  /* client-certificate fingerprints in the allow-list */

/* Handover decryption keys of one operator (TS 102 232-1 Annex G): the
 * PSHeader operatorIdentifier they are for and their ring.  Owned by the
 * caller, which wipes it after ingest_server_free(). */
#define INGEST_HKEY_OPS 16
struct site_operator;
struct ingest_hkeys {
	char operator_id[17];
	struct etsi_keyring ring;
};

struct ingest_config {
	/* Listeners: "IP:PORT" (IPv4 dotted or [IPv6]); NULL = not opened.
	 * Port 0 picks a free port (see ingest_server_port()). */
	const char *hi2_addr;
	const char *hi3_addr;
	int hi2_tls;                  /* 1: this listener speaks TLS */
	int hi3_tls;
	/* TLS (needed when a listener has tls set). */
	const char *tls_cert;         /* PEM certificate chain file */
	const char *tls_key;          /* PEM private key file */
	const char *tls_client_ca;    /* PEM CA file: verify client chains; NULL = none */
	int tls_require_client_cert;  /* 1: a client certificate is mandatory */
	uint8_t client_fps[INGEST_MAX_FPS][32]; /* SHA-256 of the client certificate (DER) */
	unsigned n_client_fps;        /* 0 = any certificate that passed the CA check */
	/* Plain-TCP source allow-list (spec §2.1): IP strings; 0 entries = any. */
	const char *allow_peers[INGEST_MAX_FPS];
	unsigned n_allow_peers;
	/* Operators (lacre.conf operator.NAME.*, site.h): when there are
	 * any, every connection is authenticated to exactly one of them (TLS
	 * client certificate by fingerprint or CA + subject, and/or source
	 * address; a certificate match outranks an address-only one) and its
	 * records carry its name; a connection that matches none, or two
	 * equally, is refused with an "operator-refused" event and an ALERT
	 * line.  0: no operators (records carry none).  Borrowed. */
	const struct site_operator *operators;
	size_t n_operators;

	/* Limits against hostile peers. */
	size_t max_pdu;               /* largest PS-PDU accepted (default 16 MiB) */
	size_t max_tx_buf;            /* unsent response bytes per connection (default 64 KiB) */
	unsigned idle_timeout_ms;     /* nothing received for this long: close (default 900 s; 0 off) */
	unsigned pdu_timeout_ms;      /* a started PDU (or TLS handshake) must complete in (default 30 s) */
	unsigned max_conns;           /* all connections (default 20000) */
	unsigned max_conns_per_peer;  /* per peer IP address (default 256) */
	unsigned read_budget;         /* bytes read from one connection per turn (default 256 KiB) */
	size_t memory_budget;         /* bytes all connections' incomplete PDUs (and PDUs held for want
	                                 of space) may take in all; past it the costliest incomplete PDU
	                                 is refused (default 256 MiB; 0: the default) */

	/* Integrity checks (spec §8). */
	size_t integrity_retain;      /* memory for data PDUs kept for hash checks, headers included (default 64 MiB; 0 off) */
	const char *integrity_pubkey; /* PEM public key of the operator's signature PDUs; NULL = not checked */
	const char *integrity_sig_md; /* digest for ECDSA/DSA signatures: "sha256" (default), "sha384"... */

	unsigned workers;             /* event loops (threads) that share the connections; 0 or 1: one,
	                                 on the caller's thread (default 1; lacre ingest: online CPUs) */
	unsigned flush_ms;            /* sink->flush() at most this far apart while data arrives (default 1000) */
	unsigned stream_soft_limit;   /* above this many streams, expire idle ones (default 100000) */
	unsigned stream_idle_s;       /* idle time after which a stream may be expired (default 1800) */
	int quiet;                    /* 1: no per-connection log lines on stderr */

	/* Stop and backpressure. */
	unsigned drain_ms;            /* at stop, wait this long for peers to close (default 5000) */
	unsigned stop_nospace_ms;     /* at stop, retry PDUs held for want of space this long (default 30000) */
	/* Stream state (docs/FORMATS.md "Stream state"): loaded at start, written
	 * atomically every 250 ms (1 s past 20,000 streams) and at a clean
	 * stop, so a restart raises no false gap.  NULL: not persisted.  Must not be in
	 * a folder that is uploaded (the spool). */
	const char *state_path;
	unsigned state_lag_ms;        /* longest time a counted record may stay unsealed in the sink
	                                 (an open segment's age limit plus a flush); default 1000 */

	/* Encrypted deliveries: every PDU whose payload is an
	 * EncryptionContainer is decrypted after decoding with the ring of
	 * its PSHeader operatorIdentifier (keys picked by receive time), so
	 * that the sink routes and the integrity checks verify the decrypted
	 * payload; the record stays the PDU as received.  One that cannot be
	 * decrypted reaches the sink with decoded->decrypt_err set.  NULL /
	 * 0: no keys (every encrypted PDU is undecryptable).  Borrowed. */
	const struct ingest_hkeys *hkeys;
	size_t n_hkeys;

	/* Called from the event loop about once a second, and once at the
	 * end (NULL: never): the caller writes the live status
	 * (ingest_status.h).  It must not block. */
	void (*on_second)(void *arg);
	void *on_second_arg;
};

struct ingest_server;

#define INGEST_MEMORY_BUDGET_DEFAULT ((size_t)256 << 20)
#define INGEST_WORKERS_MAX 256

/* Fill cfg with the defaults listed above (no listener). */
void ingest_config_defaults(struct ingest_config *cfg);

/* Create a server: bind and listen on the configured addresses, load TLS
 * material (the private key is wiped from memory once OpenSSL holds it), and
 * raise RLIMIT_NOFILE to its hard limit.  The sink is borrowed: the caller
 * closes it after ingest_server_free().  Returns LACRE_E_CONFIG for a bad
 * address or TLS file, LACRE_E_NETWORK when a bind fails. */
int ingest_server_new(const struct ingest_config *cfg, struct lacre_sink *sink,
                      struct ingest_server **out);

/* Run the event loop until ingest_server_stop().  Then drain: close the
 * listeners, half-close every connection (FIN / TLS close_notify) and read
 * each up to the peer's EOF (bounded by drain_ms), hand every complete PDU
 * to the sink, log truncated tails, close every connection, call
 * sink->flush() and save the stream state.  Ignores SIGPIPE for the process
 * (TLS writes).
 *
 * Backpressure: a sink answer of LACRE_E_NOSPACE (record, event or flush)
 * is not an error: the PDU is held, uncounted, reading and accepting pause
 * (one ALERT line on stderr), and the held data is retried every 200 ms and
 * at each flush until the sink takes it (one ALERT line on resuming).
 *
 * Returns LACRE_OK on a clean stop; LACRE_E_NOSPACE when, at stop, held
 * data could still not be kept after stop_nospace_ms (each connection's
 * lost PDUs are named on stderr); or the sink's other error (the server
 * stops on those: nothing may be received that cannot be kept). */
int ingest_server_run(struct ingest_server *s);

/* Write the stream state (cfg.state_path) now, after ingest_server_run()
 * returned: all_kept = 1 once the caller has closed the sink cleanly (its
 * last segments sealed), so the next start names nothing as possibly lost;
 * run() itself saves with all_kept = 0 at its end.  LACRE_OK without a
 * state path; LACRE_E_IO (with an ALERT line) when the write failed. */
int ingest_server_state_save(struct ingest_server *s, int all_kept);

/* Ask the loop to stop and drain.  Async-signal-safe; any thread. */
void ingest_server_stop(struct ingest_server *s);

/* The bound port of a listener (LACRE_HI2 or LACRE_HI3), 0 if not open. */
int ingest_server_port(const struct ingest_server *s, int listener);

/* Append the accounting as one JSON object (the --stats format of
 * docs/cmd-ingest.md) to out: every worker's figures added up (as each
 * last published them while they run).  Call it after ingest_server_run()
 * returned, or from cfg.on_second (the lead worker's thread). */
int ingest_server_stats_json(const struct ingest_server *s, struct lacre_dbuf *out);

/* Close the listeners and any connection left, free everything. */
void ingest_server_free(struct ingest_server *s);

/* ------------------------------------------------------------ spool sink */

struct ingest_spool_opts {
	size_t rotate_bytes;   /* start a new file past this size (default 256 MiB) */
	int fsync_mode;        /* INGEST_FSYNC_* (default INGEST_FSYNC_FLUSH) */
};
#define INGEST_FSYNC_NEVER 0   /* write(2) on flush, never fdatasync */
#define INGEST_FSYNC_FLUSH 1   /* write(2) + fdatasync on every flush() */
#define INGEST_FSYNC_ALWAYS 2  /* write(2) + fdatasync after every entry */

/* Open the spool sink on directory dir (created if absent, mode 0700):
 * append-only files "spool-<UTC>-<pid>-<n>.lsp" in the framing of
 * docs/FORMATS.md §2.  opts may be NULL for the defaults.  *out is filled
 * on success; out->close() flushes, syncs and frees. */
int ingest_spool_sink_open(const char *dir, const struct ingest_spool_opts *opts,
                           struct lacre_sink *out);

/* One entry read back from a spool file. */
struct ingest_spool_entry {
	int type;              /* INGEST_SPOOL_RECORD or INGEST_SPOOL_EVENT */
	struct lacre_record rec;  /* type RECORD: pdu points into the file buffer */
	int64_t time_us;       /* type EVENT: when it was logged */
	const char *json;      /* type EVENT: the JSON object (NUL-terminated copy) */
	size_t json_len;
};
#define INGEST_SPOOL_RECORD 1
#define INGEST_SPOOL_EVENT 2

/* Read a spool file (untrusted: parsed through lacre_rbuf) and call fn for
 * each entry in order; stop at the first fn return != 0 and return it.  A
 * torn final entry (crash during a write) ends the walk with
 * LACRE_E_TRUNCATED after the good entries were delivered; a CRC mismatch
 * gives LACRE_E_CORRUPT. */
int ingest_spool_read(const char *path,
                      int (*fn)(void *arg, const struct ingest_spool_entry *e),
                      void *arg);

/* --------------------------------------------------------------- framer */

/* Reassembly of PS-PDUs from a byte stream (spec §3.1).  The framer keeps
 * only the bytes of one incomplete PDU; complete PDUs are delivered straight
 * from the caller's read buffer when possible (no copy). */
struct ingest_framer {
	struct lacre_dbuf pend;   /* bytes of an incomplete PDU */
	size_t max_pdu;
	uint64_t offset;          /* stream offset of the first byte of the current PDU */
	size_t need;              /* total size of a definite-length PDU once known, else 0 */
	/* incremental scan of an indefinite-length outer PDU (no re-scans) */
	int indef;                /* 1 while scanning one */
	size_t scanned;           /* bytes of the PDU scanned so far */
	uint64_t skip;            /* contents of a definite element still to skip */
	uint32_t depth;           /* indefinite elements open */
	uint8_t hdr[10];          /* identifier and length octets being read */
	uint8_t hlen;
};

/* Called for every complete PDU; a non-zero return stops the feed and is
 * returned by ingest_framer_feed(). */
typedef int (*ingest_pdu_fn)(void *arg, const uint8_t *pdu, size_t len, uint64_t offset);

void ingest_framer_init(struct ingest_framer *f, size_t max_pdu);
/* Feed n bytes; deliver every PDU they complete.  Returns LACRE_OK, the
 * callback's value, or the framing error (LACRE_E_MALFORMED, _TOO_LARGE,
 * _DEPTH...) with *err_off set to the stream offset of the bad PDU. */
int ingest_framer_feed(struct ingest_framer *f, const uint8_t *p, size_t n,
                       ingest_pdu_fn fn, void *arg, uint64_t *err_off);
/* Bytes of an incomplete PDU held (0 = on a PDU boundary). */
size_t ingest_framer_pending(const struct ingest_framer *f);
void ingest_framer_free(struct ingest_framer *f);

/* ----------------------------------------------------------- keep-alive */

/* Build the keep-alive response to the keep-alive pdu[0..n) (spec §6.3):
 * the received pSHeader TLV byte for byte, then A2 04 A2 02 84 00, in a new
 * outer 30 with a minimal definite length.  Appends to out. */
int ingest_keepalive_response(const struct etsi_pdu *ka, struct lacre_dbuf *out);

/* ----------------------------------------------------------- accounting */

struct ingest_acct;

/* Emit one accounting event: a JSON object without the trailing newline. */
typedef void (*ingest_event_fn)(void *arg, const char *json);

/* Create the stream accounting (spec §7).  ev receives gap, duplicate,
 * restart, reset and integrity events.  integrity_retain bounds the bytes
 * of data PDUs kept for hash checks (0 disables hash checks). */
int ingest_acct_new(size_t integrity_retain, ingest_event_fn ev, void *ev_arg,
                    struct ingest_acct **out);
/* Load the operator's public key for signature PDUs (PEM file) and the
 * digest for ECDSA/DSA ("sha256"...; ignored for EdDSA keys). */
int ingest_acct_set_sigkey(struct ingest_acct *a, const char *pem_path, const char *md);
/* Account one decoded PDU (pdu = its full bytes) that arrived on listener
 * from conn_id.  Keep-alives are counted, not sequenced. */
int ingest_acct_pdu(struct ingest_acct *a, const uint8_t *pdu, size_t len,
                    const struct etsi_pdu *d, int listener, uint64_t conn_id);

/* Forget the streams whose last PDU is idle_s seconds old or more, after
 * an event "stream-end" with their final counters; returns how many.  The
 * server calls it when more than stream_soft_limit streams are held (a
 * long-running receiver sees a new CIN per call or session).  A stream
 * that resumes after this starts afresh (its first number above the first
 * is then reported as a gap). */
size_t ingest_acct_expire(struct ingest_acct *a, unsigned idle_s);

/* Free the memory idle streams do not need: the duplicate window (2 KiB)
 * of streams idle for idle_s seconds or more (an ended call or session).
 * Their sequence state is kept, and so are PDUs retained for hash checks
 * (an IRI chain may wait a whole call for its hash PDU; integrity_retain
 * bounds them, oldest evicted first).  The server calls it about once a
 * second with INGEST_ACCT_TRIM_S. */
#define INGEST_ACCT_TRIM_S 15
void ingest_acct_trim(struct ingest_acct *a, unsigned idle_s);

/* Durability marks: each call remembers every stream's next number, and
 * makes the one remembered by the call before "surely kept" (the server
 * calls it every state_lag_ms, longer than a record can stay in an open
 * segment).  A save without all_kept writes both the next number and the
 * surely-kept one, so that the load after a crash can name the range in
 * between. */
void ingest_acct_mark(struct ingest_acct *a);
/* Persist the byteCounter trackers of HI2 and HI3 (owned by the caller,
 * outliving a) with the sequence state: saved, marked and loaded with it
 * (FORMATS §12 section BCTR).  Call before ingest_acct_load. */
void ingest_acct_set_bctr(struct ingest_acct *a, struct etsi_bctr *hi2, struct etsi_bctr *hi3);

/* Write the sequence state of every stream to path (docs/FORMATS.md
 * "Stream state"): a temporary file, fsync, rename, fsync of the folder.
 * all_kept = 1 after a clean stop (the sink closed everything: every
 * number counted is kept).  Nothing is written when nothing changed since
 * the last save.  LACRE_E_IO on failure (the old file stays). */
int ingest_acct_save(struct ingest_acct *a, const char *path, int all_kept);
/* Load a state file written by ingest_acct_save() into a fresh accounting
 * (streams already present are replaced).  LACRE_E_NOT_FOUND when there is
 * no file; LACRE_E_CORRUPT (reason in why) when it is not a sound state
 * file, and then nothing is loaded; LACRE_E_IO when it cannot be read.
 * A stream loaded from the state marks its next gap "after_restart"; a
 * stream the previous run counted beyond what was surely kept (a crash)
 * gets an "unkept-at-restart" alert event naming LIID, CIN, stream and the
 * range that may be lost.  With trackers attached (ingest_acct_set_bctr)
 * the BCTR section replaces their chains, and a chain counted beyond what
 * was surely kept gets a "bytecounter-unkept-at-restart" alert event; a
 * file without the section leaves them empty. */
int ingest_acct_load(struct ingest_acct *a, const char *path, char *why, size_t why_len);
/* Streams held now. */
size_t ingest_acct_streams(const struct ingest_acct *a);

/* Counters of one stream, as in the --stats JSON. */
struct ingest_stream_stats {
	uint64_t received, gaps, missing, duplicates, resets, restarts, late;
	uint64_t next_expected;
};
/* Look up one data stream: kind ETSI_KIND_IRI or ETSI_KIND_CC.  Returns
 * LACRE_E_NOT_FOUND when the stream has not been seen. */
int ingest_acct_stream(const struct ingest_acct *a, const uint8_t *liid, size_t liid_len,
                       uint32_t cin, int kind, struct ingest_stream_stats *out);

/* The counters of every data stream (IRI and CC) since the start, those
 * expired included (monotonic: what a metrics scraper wants), and how many
 * data streams are followed now (data_streams may be NULL). */
void ingest_acct_totals(const struct ingest_acct *a, struct ingest_stream_stats *out,
                        size_t *data_streams);

struct ingest_integrity_stats {
	uint64_t hash_pdus, hash_ok, hash_mismatch, hash_missing, hash_unknown_alg;
	uint64_t sig_pdus, sig_ok, sig_bad, sig_unchecked;
};
void ingest_acct_integrity(const struct ingest_acct *a, struct ingest_integrity_stats *out);

/* Bounds on hash checks held until the PDUs they list arrive (a mediator
 * may send the hash PDU before its last data PDUs): at most hold_s
 * seconds (0: no holding, judge on arrival), max_held checks and
 * max_bytes of memory; past a bound the oldest is judged with what has
 * arrived.  Defaults 10 s, 4096, 16 MiB. */
void ingest_acct_set_hold(struct ingest_acct *a, unsigned hold_s, size_t max_held,
                          size_t max_bytes);
/* Judge held hash checks now: those whose hash PDU came on conn_id (its
 * connection ended), or all of them when all is set (end of stream, clean
 * stop), and those past their time bound.  Returns how many were judged. */
size_t ingest_acct_flush(struct ingest_acct *a, uint64_t conn_id, int all);
/* Hash checks held now. */
size_t ingest_acct_held(const struct ingest_acct *a);

/* Write the "streams", "integrity_streams", "cin_resets",
 * "streams_dropped" and "integrity" members into the JSON object open in w
 * (docs/cmd-ingest.md).  Returns w->err. */
int ingest_acct_json(const struct ingest_acct *a, struct json_w *w);
void ingest_acct_free(struct ingest_acct *a);

/* ------------------------------------------------------------ integrity */

/* The fields of an IntegrityCheck TRI payload (spec §8.1).  seqs points
 * into a caller-provided array; value points into the PDU's bytes. */
struct ingest_icheck {
	uint32_t *seqs;
	size_t n_seqs;           /* included sequence numbers (<= cap given) */
	int check_type;          /* 1 hash, 2 signature */
	int data_type;           /* 1 IRI, 2 CC, 3 ILHI, 0 absent */
	struct etsi_bytes value; /* checkValue */
	int hash_alg;            /* 1 SHA-1 .. 4 SHA-512, 0 absent */
	int sig_alg;             /* 1 DSA, 2 ECDSA, 3 EdDSA, 0 absent */
	int nested_seqs;         /* includedSequenceNumbers wrapped in an extra SEQUENCE (OpenLI < 1.1.18) */
};

/* Take the integrityCheck of a decoded PDU (d->kind is
 * ETSI_KIND_INTEGRITY_CHECK).  The caller sets ic->seqs to an array and
 * ic->n_seqs to its capacity; on success n_seqs is the count.
 * LACRE_E_UNEXPECTED when d holds no integrityCheck, LACRE_E_TOO_LARGE when
 * it lists more numbers than the capacity. */
int ingest_icheck_from(const struct etsi_pdu *d, struct ingest_icheck *ic);

/* DER bytes a signature PDU signs (OpenLI 1.1.20, spec §8.3): the interim
 * [0] IntegrityCheck with the same numbers, checkType, dataType and
 * signatureAlgorithm and an empty checkValue.  Appends to out. */
int ingest_icheck_signed_bytes(const struct ingest_icheck *ic, struct lacre_dbuf *out);
/* The same with a choice of length encoding: openli = 1 as libwandder
 * 2.0.20 writes lengths of 129..255 (82 00 xx: what OpenLI really signs,
 * and what ingest_icheck_signed_bytes gives), openli = 0 strict DER.  The
 * verifier tries OpenLI's first, then DER (other senders). */
int ingest_icheck_signed_bytes_style(const struct ingest_icheck *ic, int openli,
				     struct lacre_dbuf *out);

#endif

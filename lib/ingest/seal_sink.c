/*
 * seal_sink.c - the ingest pipeline: decode, route by warrant, seal, ledger,
 * upload (see include/lacre/seal_sink.h).
 *
 * One segment writer per destination: a warrant (sealed to that warrant's
 * recipient) or quarantine (sealed to the oversight recipient).  The
 * receiver calls record()/event()/flush() from its thread; a small timer
 * thread closes segments by age, reloads the warrant registry and drives
 * the log's checkpoints.  Both take the sink's mutex, so the writers, the
 * registry and the log are only ever touched by one thread at a time.
 *
 * Order of durability (docs/ledger.md "Order of durability"; spool layout
 * in seal_spool.h): a record is sealed into its destination's open segment
 * (ciphertext reaches SPOOL/TMP.<name> chunk by chunk) and counted in the
 * segment's stream manifest (SPOOL/<name>.streams, rewritten each tick).  At
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
#include "ingest/seal_spool.h"

_Static_assert(FRAME_NOTE_USEC_CARRY == ETSI_FLAG_USEC_CARRY &&
	       FRAME_NOTE_KEY_OUTSIDE_WINDOW == ETSI_FLAG_KEY_OUTSIDE_WINDOW,
	       "frame notes are the ETSI decode flags");

#define SEAL_QUARANTINE_KEY ""       /* destination key of the oversight writer */
#define SEAL_TICK_MS 100
#define SEAL_CHECKPOINT_MS 500       /* a record is under a signed checkpoint within ~0.6 s */
#define SEAL_MAX_DESTS 4096          /* open destinations (warrants + 1) */
#define SEAL_ALERTS_MAX 1024         /* distinct (liid, reason) alerts printed */
#define SEAL_DRAIN_WAIT_MS 10000     /* how long close() waits for the backend */

struct seal_sink;

/* One destination: its own writer and recipients. */
struct seal_dest {
	char key[WARRANT_ID_MAX];        /* warrant id, or "" for quarantine */
	struct segment_writer *w;
	struct seal_sink *owner;
	struct seal_streams streams;     /* what the open segment holds */
};

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
	uint8_t oversight[32];
	struct note_signer *key;         /* in-process signing only (no ledger.signer) */
	struct signer_client sc;         /* ledger.signer: lacre-signer holds the key */
	struct tlog_signer sc_sign;      /* the client's own callback, wrapped */
	int signer_refusing;             /* under log_mu: the last request failed */
	uint64_t signer_refusals;        /* under log_mu: refused */
	uint64_t signer_failures;        /* under log_mu: refused or unanswered */
	struct lacre_store *log_store;   /* used under mu by the log */
	struct lacre_store *up_store;    /* used by the uploader thread only */
	struct tlog *log;
	struct upload *up;
	struct seal_dest *dests;
	size_t n_dests;
	struct seal_alert alerts[SEAL_ALERTS_MAX];
	size_t n_alerts;
	pthread_t ticker;
	int ticker_on;
	int stop;
	int err;                         /* sticky: the pipeline can no longer keep records */
	/* Ledger entries go to the log's own append (a copy under its small
	 * lock) from record() and on_close under mu; the timer thread
	 * checkpoints under log_mu, so store I/O for tiles and checkpoints
	 * never blocks the receiving thread.  Lock order: mu before log_mu. */
	pthread_mutex_t log_mu;
	struct seal_sink_stats st;
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
	uint64_t space_free, space_limit;  /* at the last look */
	int filling_shown;
	/* state shown on stderr when it changes (ticker thread only) */
	int shown_full, shown_backend_down, shown_publish_failing;
	int manifest_warned;             /* the manifest-write warning was printed */
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

/* The v2 "segment closed" entry of c into k->tmp: the segment's only
 * leaf, carrying the count and the Merkle root of its records'
 * commitments (docs/FORMATS.md §6). */
static int seal_segment_entry(struct seal_sink *k, const struct segment_closed *c)
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
	lacre_dbuf_reset(&k->tmp);
	return tlog_segment_encode(&seg, &k->tmp);
}

/* on_sealed of every writer: the segment's ledger batch is made durable
 * beside it before the segment takes its final name (seal_spool.h). */
static int seal_on_sealed(void *arg, const struct segment_closed *c)
{
	struct seal_dest *d = arg;
	struct seal_sink *k = d->owner;
	int r;

	if ((r = seal_segment_entry(k, c)) != LACRE_OK)
		return r;
	return seal_leaves_write(k->site->cfg.spool_dir, c->name, c->commitments, c->n_records,
				 k->tmp.p, k->tmp.len);
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

/* on_close of every writer: queue the segment's one leaf (its v2 entry)
 * for the log and wait for its signature before the segment may leave
 * for the backend. */
static int seal_on_close(void *arg, const struct segment_closed *c)
{
	struct seal_dest *d = arg;
	struct seal_sink *k = d->owner;
	int r;

	if ((r = seal_segment_entry(k, c)) != LACRE_OK ||
	    (r = seal_log_push(k, k->tmp.p, k->tmp.len)) != LACRE_OK ||
	    (r = seal_pending_add(k, c->name, k->next_index - 1)) != LACRE_OK)
		return r;
	/* the records are in a closed segment now: the manifest is done */
	seal_streams_remove(k->site->cfg.spool_dir, c->name);
	if (!strcmp(d->streams.segment, c->name))
		seal_streams_reset(&d->streams, NULL);
	k->st.segments++;
	k->st.unsigned_segments = k->n_pend;
	return LACRE_OK;
}

/* Find or create the destination for key ("" = quarantine). */
static int seal_dest_get(struct seal_sink *k, const char *key, const uint8_t pub[32],
			 struct seal_dest **out)
{
	struct segment_config cfg;
	struct seal_dest *d, *nd;
	uint8_t rcpt[1][32];
	int r;

	for (size_t i = 0; i < k->n_dests; i++)
		if (!strcmp(k->dests[i].key, key)) {
			*out = &k->dests[i];
			return LACRE_OK;
		}
	if (k->n_dests >= SEAL_MAX_DESTS)
		return LACRE_E_TOO_LARGE;
	if (k->n_dests == 0) {
		/* fixed array: writers keep a pointer to their destination */
		k->dests = calloc(SEAL_MAX_DESTS, sizeof(*k->dests));
		if (!k->dests)
			return LACRE_E_NOMEM;
	}
	nd = &k->dests[k->n_dests];
	memset(nd, 0, sizeof(*nd));
	snprintf(nd->key, sizeof(nd->key), "%s", key);
	nd->owner = k;
	memcpy(rcpt[0], pub, 32);
	memset(&cfg, 0, sizeof(cfg));
	cfg.spool_dir = k->site->cfg.spool_dir;
	cfg.direct_io = k->site->cfg.spool_direct_io;
	cfg.recipients = (const uint8_t (*)[32])rcpt;
	cfg.n_recipients = 1;
	cfg.max_plain = k->site->cfg.segment_max_bytes;
	cfg.max_age_us = (int64_t)k->site->cfg.segment_max_age_ms * 1000;
	cfg.on_close = seal_on_close;
	cfg.on_sealed = seal_on_sealed;
	cfg.arg = nd;
	if ((r = segment_writer_new(&cfg, &nd->w)) != LACRE_OK)
		return r;
	k->n_dests++;
	d = nd;
	*out = d;
	return LACRE_OK;
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

/* Seal one frame into destination key and count it in the open
 * segment's stream manifest (its commitment goes to the log with the
 * segment's batch at close). */
static int seal_frame(struct seal_sink *k, const char *key, const uint8_t pub[32],
		      const struct frame_record *fr)
{
	struct seal_dest *d;
	const char *open;
	int r;

	if ((r = seal_dest_get(k, key, pub, &d)) != LACRE_OK)
		return r;
	r = segment_writer_add(d->w, fr, now_coarse_us(), NULL);
	if (r != LACRE_OK && (r == LACRE_E_INVALID || r == LACRE_E_TOO_LARGE ||
			      r == LACRE_E_IO || r == LACRE_E_CRYPTO || r == LACRE_E_NOMEM ||
			      r == LACRE_E_STATE))
		return r;
	/* sealed (a failure now is on_close's: the record is in a closed
	 * segment).  A record still in an open segment is named in its
	 * manifest; one that a size close took along is durable already */
	if ((open = segment_writer_open_name(d->w)) != NULL && segment_writer_pending(d->w) > 0) {
		if (strcmp(d->streams.segment, open) != 0)
			seal_streams_reset(&d->streams, open);
		if (!(fr->route == FRAME_ROUTE_QUARANTINE && fr->reason.len == 5 &&
		      !memcmp(fr->reason.p, "event", 5)))
			seal_streams_note(&d->streams, fr->kind, fr->liid.p, fr->liid.len, fr->has_cin,
					  fr->cin, fr->seq);
	}
	return r;
}

/* Look at the spool's room again: free bytes above spool.reserve on its
 * file system, and below spool.quota (the bytes in the spool, counted).
 * Sets the budget record() may take before it looks again (half the room,
 * so the looks come closer as the room shrinks).  Under mu. */
static void seal_space_look(struct seal_sink *k)
{
	const struct site_config *c = &k->site->cfg;
	struct statvfs vs;
	uint64_t avail = UINT64_MAX, room, limit = 0, owed = 0;

	if (statvfs(c->spool_dir, &vs) == 0) {
		avail = (uint64_t)vs.f_bavail * vs.f_frsize;
		limit = (uint64_t)vs.f_blocks * vs.f_frsize;
	}
	/* what the open segments will still write: their unwritten
	 * ciphertext and, at close, their batch files (34 bytes a record) */
	for (size_t i = 0; i < k->n_dests; i++) {
		const struct segment_writer *w = k->dests[i].w;
		uint64_t o = segment_writer_unwritten(w);
		if (o)
			owed += o + segment_writer_pending(w) * 34 + 4096;
	}
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
	k->st.spool_full = room == 0;
}

/* sink->record: decode, route, seal. */
static int seal_record(void *ctx, const struct lacre_record *rec)
{
	struct seal_sink *k = ctx;
	struct etsi_pdu dec;
	const struct etsi_pdu *dp = rec->decoded;
	struct frame_record fr;
	struct warrant_match m;
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

	pthread_mutex_lock(&k->mu);
	if (k->err) {
		r = k->err;
		goto out;
	}
	/* backpressure: never take a record the spool may have no room for */
	if (k->space_budget < rec->pdu_len + fr.pre.len + 512) {
		seal_space_look(k);
		if (k->space_budget < rec->pdu_len + fr.pre.len + 512) {
			/* some room, but less than this record needs: full too */
			k->st.spool_full = 1;
			k->st.refused_full++;
			r = LACRE_E_NOSPACE;
			goto out;
		}
	}
	k->space_budget -= rec->pdu_len + fr.pre.len + 512;
	/* L3: the window is judged on the time of interception: the sender's
	 * PSHeader time when it is qualified timeOfInterception(1); any other
	 * record is judged by its receive time */
	intercepted = ok && dp->has_time && dp->ts_qualifier == 1;
	t = intercepted ? dp->time_us : rec->recv_us;
	if (!ok) {
		reason = "undecodable";
	} else if (dp->encrypted && !dp->decrypted) {
		/* its category cannot be known (L2): sealed as received, to
		 * oversight, until the handover key is configured */
		reason = SEAL_Q_UNDECRYPTABLE;
	} else if (dp->liid.len == 0) {
		reason = WARRANT_Q_UNKNOWN_LIID;
	} else if ((r = warrant_route_operator(k->reg, dp->liid.p, dp->liid.len, t,
					       seal_category(rec, dp, ok), rec->operator_name, &m,
					       &reason)) != LACRE_OK) {
		reason = WARRANT_Q_UNKNOWN_LIID;
	}
	if (!reason) {
		fr.route = FRAME_ROUTE_WARRANT;
		fr.warrant = frame_cstr(m.id);
		/* L3/L4: intercepted inside the window, delivered after it
		 * ended (a drained backlog): accepted, flagged, alerted */
		fr.late_delivery = intercepted && rec->recv_us >= m.period_end;
		r = seal_frame(k, m.id, m.recipient, &fr);
		if (r == LACRE_OK) {
			k->st.routed++;
			k->st.records++;
			if (fr.late_delivery) {
				k->st.late++;
				seal_alert(k, dp->liid.p, dp->liid.len, SEAL_LATE);
			}
		}
	} else {
		fr.route = FRAME_ROUTE_QUARANTINE;
		fr.reason = frame_cstr(reason);
		r = seal_frame(k, SEAL_QUARANTINE_KEY, k->oversight, &fr);
		if (r == LACRE_E_INVALID || r == LACRE_E_TOO_LARGE) {
			/* the frame cannot carry a decoded field (e.g. a LIID
			 * longer than any ETSI LIID): keep the PDU with no index */
			memset(&fr.liid, 0, sizeof(fr.liid));
			memset(&fr.content, 0, sizeof(fr.content));
			fr.has_cin = 0;
			fr.cin = 0;
			fr.reason = frame_cstr("unindexable");
			r = seal_frame(k, SEAL_QUARANTINE_KEY, k->oversight, &fr);
		}
		if (r == LACRE_OK) {
			k->st.quarantined++;
			k->st.records++;
			if (ok && !strcmp(reason, WARRANT_Q_OPERATOR))
				seal_alert_operator(k, dp->liid.p, dp->liid.len, &m, rec);
			else
				seal_alert(k, ok ? dp->liid.p : (const uint8_t *)"", ok ? dp->liid.len : 0,
					   reason);
		}
	}
	if (r != LACRE_OK)
		k->err = r;
out:
	pthread_mutex_unlock(&k->mu);
	return r;
}

/* sink->event: seal an accounting event to oversight. */
static int seal_event(void *ctx, const char *json)
{
	struct seal_sink *k = ctx;
	struct frame_record fr;
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
	r = k->err ? k->err : seal_frame(k, SEAL_QUARANTINE_KEY, k->oversight, &fr);
	if (r == LACRE_OK)
		k->st.events++;
	else if (r != LACRE_E_INVALID && r != LACRE_E_TOO_LARGE)
		k->err = r;
	pthread_mutex_unlock(&k->mu);
	return r == LACRE_E_INVALID || r == LACRE_E_TOO_LARGE ? LACRE_OK : r;
}

/* Close aged (force: all) segments and pick up warrant changes.  Under mu. */
static int seal_writers_tick(struct seal_sink *k, int force)
{
	int64_t t = now_us();
	int r = LACRE_OK, r2;

	for (size_t i = 0; i < k->n_dests; i++) {
		r2 = force ? segment_writer_flush(k->dests[i].w, t)
			   : segment_writer_tick(k->dests[i].w, t);
		if (r2 != LACRE_OK && r == LACRE_OK)
			r = r2;
		/* what a crash now would lose, named on disk: best effort (a full
		 * disk delays it to the next tick; records are not lost by it) */
		if (seal_streams_write(k->site->cfg.spool_dir, &k->dests[i].streams) != LACRE_OK &&
		    !k->manifest_warned) {
			fprintf(stderr, "lacre: ingest: cannot write an open segment's stream manifest "
				"in %s (%s): retried every tick; a crash now would lose records "
				"without naming them\n", k->site->cfg.spool_dir, strerror(errno));
			k->manifest_warned = 1;
		}
	}
	r2 = warrant_registry_reload_if_changed(k->reg, NULL);
	if (r2 != LACRE_OK)
		fprintf(stderr, "lacre: ingest: warrant log reload failed (%s): %s; "
			"routing with the warrants loaded before\n", lacre_strerror(r2),
			warrant_registry_error());
	return r;
}

/* One turn of the ledger: checkpoint (force: now) under log_mu only.
 * Called with neither lock held. */
static int seal_log_turn(struct seal_sink *k, int force, int *publish_failing)
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
	struct timespec ts = { 0, SEAL_TICK_MS * 1000000L };
	int r, stop, pf = 0;

	for (;;) {
		nanosleep(&ts, NULL);
		pthread_mutex_lock(&k->mu);
		stop = k->stop;
		r = stop || k->err ? LACRE_OK : seal_writers_tick(k, 0);
		if (r != LACRE_OK)
			k->err = r;
		pthread_mutex_unlock(&k->mu);
		if (stop)
			break;
		if (r == LACRE_OK && (r = seal_log_turn(k, 0, &pf)) == LACRE_OK)
			r = seal_promote_due(k);
		seal_show_state(k, pf);
		if (r != LACRE_OK) {
			pthread_mutex_lock(&k->mu);
			if (!k->err)
				k->err = r;
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
	r = k->err ? k->err : seal_writers_tick(k, 0);
	pthread_mutex_unlock(&k->mu);
	return r;
}

/* Free everything (writers must have been flushed). */
static void seal_free(struct seal_sink *k)
{
	for (size_t i = 0; i < k->n_dests; i++) {
		segment_writer_free(k->dests[i].w);
		seal_streams_free(&k->dests[i].streams);
	}
	free(k->dests);
	free(k->pend);
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
	note_signer_free(k->key);
	lacre_dbuf_free(&k->tmp);
	pthread_mutex_destroy(&k->mu);
	pthread_mutex_destroy(&k->log_mu);
	OPENSSL_cleanse(k, sizeof(*k));
	free(k);
}

/* sink->close: seal every open segment, checkpoint, drain the spool. */
static int seal_close(void *ctx)
{
	struct seal_sink *k = ctx;
	struct upload_stats us;
	int r, rs, waited = 0;
	size_t moved;

	pthread_mutex_lock(&k->mu);
	k->stop = 1;
	pthread_mutex_unlock(&k->mu);
	if (k->ticker_on)
		pthread_join(k->ticker, NULL);
	upload_stop(k->up);
	pthread_mutex_lock(&k->mu);
	r = seal_writers_tick(k, 1);
	pthread_mutex_unlock(&k->mu);
	if (r == LACRE_OK)
		r = seal_log_turn(k, 1, NULL);
	if (r == LACRE_OK)
		r = seal_promote_due(k);
	if (r != LACRE_OK)
		fprintf(stderr, "lacre: ingest: final seal/checkpoint: %s (segments stay in the "
			"spool and are sent at the next start)\n", lacre_strerror(r));
	/* durable = sealed into closed segments whose batches are signed (the
	 * backend may still be down: the spool holds them) */
	rs = r != LACRE_OK ? r : k->err;
	for (;;) {
		r = upload_drain(k->up, 0, &moved);
		upload_stats_get(k->up, &us);
		if (r == LACRE_OK && moved == 0)
			break;
		if (waited >= SEAL_DRAIN_WAIT_MS) {
			fprintf(stderr, "lacre: ingest: backend unavailable: sealed segments wait in "
				"the spool %s and are sent at the next start\n", k->site->cfg.spool_dir);
			break;
		}
		if (r != LACRE_OK) {
			usleep(200000);
			waited += 200;
		}
	}
	/* publish the checkpoint that covers everything, now that segments are up */
	if ((r = tlog_checkpoint(k->log, NULL)) != LACRE_OK)
		fprintf(stderr, "lacre: ingest: checkpoint not published (%s): retried at the next start\n",
			lacre_strerror(r));
	fprintf(stderr, "lacre: ingest: sealed %llu records (%llu to warrants of which %llu late "
		"deliveries, %llu quarantined, %llu events) in %llu segments; ingest log size %llu\n",
		(unsigned long long)k->st.records, (unsigned long long)k->st.routed,
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
	pthread_mutex_lock(&k->mu);
	*st = k->st;
	pthread_mutex_lock(&k->log_mu);
	st->log_size = tlog_size(k->log);
	st->signed_size = tlog_signed_size(k->log);
	st->signer_refusals = k->signer_refusals;
	st->signer_failures = k->signer_failures;
	st->signer_refusing = k->signer_refusing;
	pthread_mutex_unlock(&k->log_mu);
	pthread_mutex_unlock(&k->mu);
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
	pthread_mutex_init(&k->log_mu, NULL);
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
	if (mkdir(s->cfg.spool_dir, 0700) != 0 && errno != EEXIST) {
		r = LACRE_E_IO;
		snprintf(msg, msglen, "cannot create the spool %s: %s", s->cfg.spool_dir, strerror(errno));
		goto fail;
	}
	if ((r = site_store_open(s, &k->log_store, msg, msglen)) != LACRE_OK ||
	    (r = site_store_open(s, &k->up_store, msg, msglen)) != LACRE_OK)
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
	return LACRE_OK;
fail:
	if (!msg[0] && msglen)
		snprintf(msg, msglen, "%s", lacre_strerror(r));
	seal_free(k);
	return r;
}

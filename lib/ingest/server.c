/*
 * server.c - the handover receiver's event loop (lacre ingest).
 *
 * One event loop per worker (worker.c: cfg.workers threads share the
 * listeners, the accounting and the sink; each has its own connections):
 * one epoll set (level-triggered) per worker, non-blocking sockets
 * everywhere, TLS included.  Everything below is one worker's, except
 * what worker.c lists as shared.  Fairness: each readiness event reads at most
 * read_budget bytes from a connection before the loop moves on; a TLS
 * connection with decrypted bytes left in OpenSSL goes on a ready list that
 * is served before the next wait, because epoll cannot see those bytes.
 *
 * Per connection: a framer (framer.c) that keeps only the bytes of one
 * incomplete PDU, a small queue of unsent keep-alive responses, and timers.
 * An idle connection holds no read buffer, so 10,000 of them cost little
 * more than their kernel sockets.
 *
 * For every complete PDU: decode (etsi_decode); a keep-alive is answered at
 * once from the I/O path (keepalive.c) and logged as an event with its
 * bytes; every other PDU goes byte for byte to sink->record and then to the
 * stream accounting (accounting.c).  An encrypted PDU (EncryptionContainer)
 * is decrypted first with its operator's handover keys (cfg.hkeys), so that
 * the sink routes and the accounting checks the decrypted payload; the
 * record stays the PDU as received, the hash checks keep its pre-encryption
 * form, the plaintext is wiped once the PDU is handled, and the
 * byteCounter chain of each LIID and handover is followed (srv_bctr).  A
 * PDU whose outer structure is unsound
 * closes its connection with one line on stderr (peer, offset, reason);
 * what was received before stays with the sink.
 *
 * Limits (struct ingest_config): max PDU size, unsent-response bytes, idle
 * timeout, slow-sender timeout (a PDU or TLS handshake that does not
 * complete in time), connections in all and per peer address, and one
 * memory budget over all incomplete PDUs (budget.c: before a read, the
 * costliest incomplete PDU is refused when the read's growth would not
 * fit).  Refusals are silent closes: lacre never sends anything but
 * keep-alive responses.
 *
 * Backpressure (backpressure.c): when sink->record (or event, or flush)
 * answers LACRE_E_NOSPACE (the spool's disk is full or its quota reached)
 * the PDU was not taken.  It is held, uncounted, in a FIFO together with whatever
 * else its connection had already read; that connection is no longer read
 * (its peer meets TCP backpressure), other connections are read at most
 * PAUSE_PEEK bytes at a time (so keep-alives are still answered) until they
 * too hold a PDU, and the held PDUs are retried in order every RETRY_MS and
 * at each flush.  Events the sink has no space for wait in a queue; while
 * any wait, nothing is read and no connection accepted.  One ALERT line
 * marks entering and one leaving that state.  Nothing held is ever
 * discarded while the receiver runs.
 *
 * Stream state: with cfg.state_path the accounting's sequence state (and
 * the byteCounter chains) is loaded at start (a corrupt file is set aside with an alert) and saved
 * every 250 ms (every second past 20,000 streams), and at a clean stop.
 *
 * Stop: ingest_server_stop() writes an eventfd; the loop then closes the
 * listeners and half-closes every connection (FIN, or TLS close_notify), so
 * that a peer that is still writing sees the end and closes its side: every
 * byte a peer wrote before that is read up to its EOF, handed to the sink
 * and flushed.  A peer that does not close within drain_ms is cut (its
 * unread bytes are named on stderr); PDUs held for want of space are
 * retried for stop_nospace_ms, and what still cannot be sealed is named on
 * stderr and makes the run fail with LACRE_E_NOSPACE.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <malloc.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "lacre/err.h"
#include "lacre/ingest.h"
#include "lacre/json.h"
#include "lacre/site.h"
#include "ingest/ingest_int.h"
#include "ingest/server_int.h"

#define BCTR_MAX_LIIDS 4096     /* LIIDs whose byteCounter chain one handover follows */
#define MAX_EVENTS 256
#define PAUSE_PEEK 4096          /* bytes read per turn from a connection while paused */
#define STATE_SAVE_MS 250        /* stream state written at most this often ... */
#define STATE_SAVE_BIG_MS 1000   /* ... or this often past STATE_BIG_STREAMS streams */
#define STATE_BIG_STREAMS 20000
#define HEAP_TRIM_MS 10000       /* free heap pages returned to the system this often */
#define READ_TURNS 64
#define EV_CAP ((size_t)48 << 20)
#define CONN_END_GRACE_MS 1000   /* held hash checks of an ended connection wait this long (workers) */

/* Monotonic milliseconds. */
int64_t srv_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wall-clock Unix microseconds (receive times). */
static int64_t wall_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Fill cfg with the defaults.  See ingest.h. */
void ingest_config_defaults(struct ingest_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->max_pdu = ETSI_MAX_PDU_DEFAULT;
	cfg->max_tx_buf = 64u << 10;
	cfg->idle_timeout_ms = 900000;
	cfg->pdu_timeout_ms = 30000;
	cfg->max_conns = 20000;
	cfg->max_conns_per_peer = 256;
	cfg->read_budget = 256u << 10;
	cfg->memory_budget = INGEST_MEMORY_BUDGET_DEFAULT;
	cfg->integrity_retain = 64u << 20;
	cfg->flush_ms = 1000;
	cfg->stream_soft_limit = 100000;
	cfg->stream_idle_s = 1800;
	cfg->drain_ms = 5000;
	cfg->stop_nospace_ms = 30000;
	cfg->state_lag_ms = 1000;
}

/* One log line on stderr, unless quiet. */
static void logf_(const struct ingest_server *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void logf_(const struct ingest_server *s, const char *fmt, ...)
{
	va_list ap;

	if (s->cfg.quiet)
		return;
	va_start(ap, fmt);
	fputs("lacre: ingest: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}


/* Hand an event line to the sink (records the first sink failure).  When
 * the sink has no space (or events already wait), the event is queued in
 * order and written by srv_pause_retry(); only past EVQ_CAP is one lost, with
 * an ALERT line. */
static void emit(struct ingest_server *s, const char *json)
{
	int r;

	if (!s->sink->event) {
		/* lacre ingest opens the sink after the server (once confined):
		 * the start's events (unkept-at-restart, state-set-aside) wait */
		if (!s->run_started && lacre_dbuf_add(&s->early, json, strlen(json) + 1) != LACRE_OK)
			s->st.events_lost++;
		return;
	}
	if (s->evq.len == 0) {
		r = s->sink->event(s->sink->ctx, json);
		if (r == LACRE_OK) {
			s->dirty = 1;
			return;
		}
		if (r != LACRE_E_NOSPACE) {
			if (!s->sink_err)
				s->sink_err = r;
			return;
		}
		srv_pause_enter(s, "an accounting event");
	}
	if (lacre_dbuf_add(&s->evq, json, strlen(json) + 1) != LACRE_OK) {
		s->st.events_lost++;
		if (!s->evq_full_alerted) {
			s->evq_full_alerted = 1;
			fprintf(stderr, "lacre: ingest: ALERT spool full: more than %zu MiB of accounting events wait for space; "
			        "further events are lost (counted in --stats events_lost): free space on the spool disk\n",
			        EVQ_CAP >> 20);
		}
		return;
	}
	s->st.events_deferred++;
	if (s->evq.len && !s->listeners_muted)
		srv_hard_block_update(s);
}

/* Accounting callback: events from accounting.c go to the sink (called
 * under the accounting lock). */
static void acct_event(void *arg, const char *json)
{
	struct ingest_server *self = srv_self();

	/* the accounting is shared: its event goes out through the worker
	 * whose call raised it (its queue, its backpressure) */
	emit(self ? self : arg, json);
}

/* Start an event with the connection's identity. */
static void ev_begin(struct ingest_server *s, struct json_w *w, const char *name,
                     const struct conn *c)
{
	lacre_dbuf_reset(&s->ev);
	json_init(w, &s->ev);
	json_obj_begin(w);
	json_kv_str(w, "event", name);
	if (c) {
		json_kv_uint(w, "conn", c->id);
		json_kv_str(w, "peer", c->peer);
		json_kv_str(w, "listener", c->listener == LACRE_HI2 ? "hi2" : "hi3");
	}
}

/* Finish and emit an event. */
static void ev_end(struct ingest_server *s, struct json_w *w)
{
	const char *txt;

	json_obj_end(w);
	if (json_finish(w) == LACRE_OK && lacre_dbuf_cstr(&s->ev, &txt) == LACRE_OK)
		emit(s, txt);
}

/* Start an event for budget.c and backpressure.c.  See server_int.h. */
void srv_event_begin(struct ingest_server *s, struct json_w *w, const char *name,
                     const struct conn *c)
{
	ev_begin(s, w, name, c);
}

/* Finish and emit it.  See server_int.h. */
void srv_event_end(struct ingest_server *s, struct json_w *w)
{
	ev_end(s, w);
}

/* Parse "IP:PORT" or "[IPv6]:PORT". */
static int parse_addr(const char *a, struct sockaddr_storage *ss, socklen_t *sl)
{
	char host[64];
	const char *colon, *h = a;
	size_t hl;
	long port;
	char *end;
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (!a || !(colon = strrchr(a, ':')))
		return LACRE_E_CONFIG;
	hl = (size_t)(colon - a);
	if (a[0] == '[') {
		if (hl < 2 || a[hl - 1] != ']')
			return LACRE_E_CONFIG;
		h = a + 1;
		hl -= 2;
	}
	if (hl == 0 || hl >= sizeof(host))
		return LACRE_E_CONFIG;
	memcpy(host, h, hl);
	host[hl] = 0;
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (errno || *end || end == colon + 1 || port < 0 || port > 65535)
		return LACRE_E_CONFIG;
	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		*sl = sizeof(*s4);
		return LACRE_OK;
	}
	if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		*sl = sizeof(*s6);
		return LACRE_OK;
	}
	return LACRE_E_CONFIG;
}

/* Open one listening socket. */
static int open_listener(struct ingest_server *s, struct listener *l, const char *addr,
                         uint8_t which, int tls)
{
	struct sockaddr_storage ss;
	socklen_t sl = 0;
	int one = 1, fd, r;
	struct epoll_event ev;

	l->fd = -1;
	if ((r = parse_addr(addr, &ss, &sl)) != LACRE_OK) {
		fprintf(stderr, "lacre: ingest: bad listen address '%s': use IP:PORT, e.g. 127.0.0.1:5001\n", addr);
		return r;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return LACRE_E_NETWORK;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl) != 0 || listen(fd, 4096) != 0) {
		fprintf(stderr, "lacre: ingest: cannot listen on %s: %s\n", addr, strerror(errno));
		close(fd);
		return LACRE_E_NETWORK;
	}
	sl = sizeof(ss);
	getsockname(fd, (struct sockaddr *)&ss, &sl);
	l->port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
	                                        : ((struct sockaddr_in6 *)&ss)->sin6_port);
	l->fd = fd;
	l->which = which;
	l->tls = tls;
	memset(&ev, 0, sizeof(ev));
	/* every worker waits on this socket: EPOLLEXCLUSIVE wakes one of
	 * them per connection, an idle one first (worker.c) */
	ev.events = EPOLLIN | EPOLLEXCLUSIVE;
	ev.data.ptr = l;
	if (epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &ev) != 0)
		return LACRE_E_NETWORK;
	return LACRE_OK;
}

/* Remove the temporary files a crash during a save left beside the state
 * file (PATH.tmpXXXXXXXXXXXX, site_write_file): they are never read. */
static void state_tmp_clean(const char *path)
{
	char dir[4200], full[8400];
	const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
	size_t bl = strlen(base);
	struct dirent *e;
	DIR *d;

	if (slash)
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path ? slash - path : 1), path);
	else
		snprintf(dir, sizeof(dir), ".");
	if (!(d = opendir(dir)))
		return;
	while ((e = readdir(d)))
		if (strncmp(e->d_name, base, bl) == 0 && strncmp(e->d_name + bl, ".tmp", 4) == 0 &&
		    snprintf(full, sizeof(full), "%s/%s", dir, e->d_name) < (int)sizeof(full))
			unlink(full);
	closedir(d);
}

/* Load the stream state at start.  Absent: a first start.  Corrupt: set
 * aside as PATH.corrupt-<unix time> with an ALERT line and an alert event,
 * and start afresh (refusing to start would stop the interception; the
 * gaps a fresh start may report are then explained by that alert).  Any
 * other failure (permissions, I/O) stops the start. */
static int state_load(struct ingest_server *s)
{
	char why[160], aside[4200];
	struct json_w w;
	int r;

	state_tmp_clean(s->cfg.state_path);
	why[0] = 0;
	r = ingest_acct_load(s->acct, s->cfg.state_path, why, sizeof(why));
	if (r == LACRE_OK || r == LACRE_E_NOT_FOUND)
		return LACRE_OK;
	if (r != LACRE_E_CORRUPT) {
		fprintf(stderr, "lacre: ingest: cannot read the stream state %s (%s): check the file and its "
		        "folder's permissions\n", s->cfg.state_path, lacre_strerror(r));
		return r;
	}
	snprintf(aside, sizeof(aside), "%s.corrupt-%lld", s->cfg.state_path, (long long)time(NULL));
	if (rename(s->cfg.state_path, aside) != 0) {
		fprintf(stderr, "lacre: ingest: the stream state %s is corrupt (%s) and cannot be set aside (%s): "
		        "move it away by hand\n", s->cfg.state_path, why, strerror(errno));
		return LACRE_E_CORRUPT;
	}
	fprintf(stderr, "lacre: ingest: ALERT the stream state %s is corrupt (%s): set aside as %s; streams "
	        "start afresh, so the first numbers seen may be reported as gaps\n", s->cfg.state_path, why, aside);
	ev_begin(s, &w, "state-set-aside", NULL);
	json_kv_str(&w, "path", s->cfg.state_path);
	json_kv_str(&w, "moved_to", aside);
	json_kv_str(&w, "reason", why);
	json_kv_bool(&w, "alert", 1);
	ev_end(s, &w);
	return LACRE_OK;
}

/* Create a server.  See ingest.h. */
int ingest_server_new(const struct ingest_config *cfg, struct lacre_sink *sink,
                      struct ingest_server **out)
{
	struct ingest_server *s;
	struct rlimit rl;
	struct epoll_event ev;
	char why[256];
	int r = LACRE_E_NOMEM;

	if (!cfg || !sink || !sink->record || (!cfg->hi2_addr && !cfg->hi3_addr))
		return LACRE_E_INVALID;
	if (!(s = calloc(1, sizeof(*s))))
		return LACRE_E_NOMEM;
	if (srv_shared_new(s) != LACRE_OK) {
		free(s);
		return LACRE_E_NOMEM;
	}
	s->cfg = *cfg;
	s->sink = sink;
	s->ep = s->stop_fd = s->spare_fd = s->in_fd = -1;
	s->l[0].fd = s->l[1].fd = -1;
	lacre_dbuf_init(&s->ev, EV_CAP);
	lacre_dbuf_init(&s->evq, EVQ_CAP);
	lacre_dbuf_init(&s->early, EVQ_CAP);
	if (s->cfg.drain_ms == 0)
		s->cfg.drain_ms = 5000;
	if (s->cfg.max_pdu == 0)
		s->cfg.max_pdu = ETSI_MAX_PDU_DEFAULT;
	if (s->cfg.read_budget < SRV_READ_CHUNK)
		s->cfg.read_budget = SRV_READ_CHUNK;
	if (s->cfg.max_tx_buf < 4096)
		s->cfg.max_tx_buf = 4096;
	if (s->cfg.memory_budget == 0)
		s->cfg.memory_budget = INGEST_MEMORY_BUDGET_DEFAULT;
	if (!(s->rbuf = malloc(SRV_READ_CHUNK)))
		goto fail;
	/* a plaintext and its pre-encryption form are never longer than the PDU */
	lacre_dbuf_init(&s->plain, s->cfg.max_pdu);
	lacre_dbuf_set_secret(&s->plain);
	lacre_dbuf_init(&s->pre, s->cfg.max_pdu);
	lacre_dbuf_set_secret(&s->pre);
	ingest_acct_batch_init(&s->ab);
	etsi_bctr_init(&s->bctr[0], BCTR_MAX_LIIDS);
	etsi_bctr_init(&s->bctr[1], BCTR_MAX_LIIDS);
	if ((r = ingest_acct_new(cfg->integrity_retain, acct_event, s, &s->acct)) != LACRE_OK)
		goto fail;
	/* the byteCounter chains continue across a restart (FORMATS §12) */
	ingest_acct_set_bctr(s->acct, &s->bctr[0], &s->bctr[1]);
	if (cfg->integrity_pubkey &&
	    (r = ingest_acct_set_sigkey(s->acct, cfg->integrity_pubkey, cfg->integrity_sig_md)) != LACRE_OK) {
		fprintf(stderr, "lacre: ingest: cannot load the integrity public key %s: give a PEM public key and a digest name\n",
		        cfg->integrity_pubkey);
		goto fail;
	}
	if (cfg->state_path && (r = state_load(s)) != LACRE_OK)
		goto fail;
	if (cfg->hi2_tls || cfg->hi3_tls) {
		if ((r = ingest_tls_ctx_new(cfg, &s->tls, why, sizeof(why))) != LACRE_OK) {
			fprintf(stderr, "lacre: ingest: %s\n", why);
			goto fail;
		}
	}
	if (cfg->n_operators &&
	    (r = ingest_op_auth_new(cfg, &s->opa, why, sizeof(why))) != LACRE_OK) {
		fprintf(stderr, "lacre: ingest: %s\n", why);
		goto fail;
	}
	/* loud, whatever --quiet says: a plain listener proves nothing of
	 * who sends */
	{
		int p2 = cfg->hi2_addr && !cfg->hi2_tls, p3 = cfg->hi3_addr && !cfg->hi3_tls;
		if (p2 || p3)
			fprintf(stderr, "lacre: ingest: warning: %s plain TCP: senders are identified by "
			        "address only (set tls.enable = yes in lacre.conf, or --tls)\n",
			        p2 && p3 ? "hi2 and hi3 are" : p2 ? "hi2 is" : "hi3 is");
		for (size_t i = 0; (p2 || p3) && i < cfg->n_operators; i++)
			if (!(cfg->operators[i].set & SITE_OP_ADDRESSES))
				fprintf(stderr, "lacre: ingest: warning: operator %s has no addresses: its "
				        "connections to the plain-TCP listener%s are refused (give it "
				        "operator.%s.addresses, or use TLS)\n", cfg->operators[i].name,
				        p2 && p3 ? "s" : "", cfg->operators[i].name);
	}
	/* thousands of connections: raise the descriptor limit to its hard cap */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	r = LACRE_E_NETWORK;
	if ((s->ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
		goto fail;
	if ((s->stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0)
		goto fail;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = &s->stop_fd;
	if (epoll_ctl(s->ep, EPOLL_CTL_ADD, s->stop_fd, &ev) != 0)
		goto fail;
	if (cfg->hi2_addr && (r = open_listener(s, &s->l[0], cfg->hi2_addr, LACRE_HI2, cfg->hi2_tls)) != LACRE_OK)
		goto fail;
	if (cfg->hi3_addr && (r = open_listener(s, &s->l[1], cfg->hi3_addr, LACRE_HI3, cfg->hi3_tls)) != LACRE_OK)
		goto fail;
	s->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if ((r = srv_workers_new(s)) != LACRE_OK) {
		fprintf(stderr, "lacre: ingest: cannot set up %u workers (%s): lower --workers\n",
		        cfg->workers, lacre_strerror(r));
		goto fail;
	}
	*out = s;
	return LACRE_OK;
fail:
	ingest_server_free(s);
	return r;
}

/* The bound port of a listener.  See ingest.h. */
int ingest_server_port(const struct ingest_server *s, int listener)
{
	const struct listener *l = listener == LACRE_HI2 ? &s->l[0] : &s->l[1];

	return l->fd >= 0 ? l->port : 0;
}

/* Ask the loop to stop.  Async-signal-safe. */
void ingest_server_stop(struct ingest_server *s)
{
	struct ingest_server *g = s->lead ? s->lead : s;
	uint64_t one = 1;
	ssize_t n;

	/* every worker (wk is fixed before the run); async-signal-safe */
	for (unsigned i = 0; i < g->n_wk; i++) {
		__atomic_store_n(&g->wk[i]->stopping, 1, __ATOMIC_RELAXED);
		n = write(g->wk[i]->stop_fd, &one, sizeof(one));
		(void)n;
	}
	if (g->n_wk == 0) {
		__atomic_store_n(&g->stopping, 1, __ATOMIC_RELAXED);
		n = write(g->stop_fd, &one, sizeof(one));
		(void)n;
	}
}

/* Bucket of a peer address. */
static size_t peer_bucket(const uint8_t *a, uint8_t fam)
{
	uint64_t h = 1469598103934665603ull ^ fam;
	int i;

	for (i = 0; i < 16; i++)
		h = (h ^ a[i]) * 1099511628211ull;
	return (size_t)(h % PEER_BUCKETS);
}

/* Take a connection slot for a peer address: within max_conns in all
 * workers and max_conns_per_peer for the address (the lead's table, under
 * peer_mu, so that a peer's connections count wherever they land).
 * Returns 0 with *out set; 1 at the total limit, 2 at the peer's limit
 * (or out of memory), with *open the count that refused it. */
static int peer_take(struct ingest_server *s, const uint8_t *a, uint8_t fam,
                     struct peer_count **out, unsigned *open)
{
	struct ingest_server *g = s->lead;
	size_t b = peer_bucket(a, fam);
	struct peer_count *p;
	int r = 0;

	pthread_mutex_lock(&s->sh->peer_mu);
	*open = s->sh->n_conns;
	if (s->sh->n_conns >= s->cfg.max_conns) {
		r = 1;
		goto out;
	}
	for (p = g->peers[b]; p; p = p->next)
		if (p->fam == fam && memcmp(p->addr, a, 16) == 0)
			break;
	if (!p && (p = calloc(1, sizeof(*p))) != NULL) {
		memcpy(p->addr, a, 16);
		p->fam = fam;
		p->next = g->peers[b];
		g->peers[b] = p;
	}
	*open = p ? p->n : 0;
	if (!p || p->n >= s->cfg.max_conns_per_peer) {
		r = 2;
		goto out;
	}
	p->n++;
	if (++s->sh->n_conns > s->sh->max_open)
		s->sh->max_open = s->sh->n_conns;
	*out = p;
out:
	pthread_mutex_unlock(&s->sh->peer_mu);
	return r;
}

/* Give back a slot peer_take gave (the lead's table, under peer_mu). */
static void peer_put(struct ingest_server *s, struct peer_count *pc)
{
	struct peer_count **pp;

	if (!pc)
		return;
	pthread_mutex_lock(&s->sh->peer_mu);
	s->sh->n_conns--;
	if (--pc->n == 0) {
		for (pp = &s->lead->peers[peer_bucket(pc->addr, pc->fam)]; *pp; pp = &(*pp)->next)
			if (*pp == pc) {
				*pp = pc->next;
				free(pc);
				break;
			}
	}
	pthread_mutex_unlock(&s->sh->peer_mu);
}

/* Give back a slot (a hand-over refused at stop: worker.c). */
void srv_peer_put(struct ingest_server *s, struct peer_count *pc)
{
	peer_put(s, pc);
}

/* Set the epoll interest of c.  A connection that may not be read is taken
 * out of the set altogether (unless it has responses to write): epoll
 * reports a hang-up whatever the mask, and a level-triggered report that
 * is never served would spin the loop. */
void srv_conn_watch(struct ingest_server *s, struct conn *c)
{
	struct epoll_event ev;
	uint32_t want = EPOLLIN | EPOLLRDHUP;

	if (srv_conn_blocked(s, c))
		want = 0;
	if ((c->tx.len && !c->wr_shut) || c->tls_read_wants_write)
		want |= EPOLLOUT;
	if (want == 0) {
		if (c->in_ep && epoll_ctl(s->ep, EPOLL_CTL_DEL, c->fd, NULL) == 0)
			c->in_ep = 0;
		c->events = 0;
		return;
	}
	if (c->in_ep && want == c->events)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.events = want;
	ev.data.ptr = c;
	if (epoll_ctl(s->ep, c->in_ep ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c->fd, &ev) == 0) {
		c->events = want;
		c->in_ep = 1;
	}
}

/* Remove c from the ready list. */
static void ready_remove(struct ingest_server *s, struct conn *c)
{
	struct conn **pp;

	if (!c->on_ready)
		return;
	for (pp = &s->ready; *pp; pp = &(*pp)->rnext)
		if (*pp == c) {
			*pp = c->rnext;
			break;
		}
	c->on_ready = 0;
	c->rnext = NULL;
}

/* Log c's incomplete PDU as a truncated-tail event.  See server_int.h. */
size_t srv_conn_tail_event(struct ingest_server *s, struct conn *c)
{
	struct json_w w;
	size_t tail = ingest_framer_pending(&c->fr);

	if (!tail)
		return 0;
	s->st.truncated_tails++;
	s->st.truncated_bytes += tail;
	ev_begin(s, &w, "truncated-tail", c);
	json_kv_uint(&w, "offset", c->fr.offset);
	json_kv_uint(&w, "length", tail);
	json_key(&w, "bytes_b64");
	json_base64(&w, c->fr.pend.p, tail);
	ev_end(s, &w);
	if (s->ev.alloc > ((size_t)1 << 20)) {
		/* a large tail's base64 (up to 4/3 of --max-pdu): give it back */
		lacre_dbuf_reset(&s->ev);
		lacre_dbuf_shrink(&s->ev, 4096);
	}
	return tail;
}

/* Remember that connection id ended: its held hash checks are judged
 * CONN_END_GRACE_MS later (srv_conn_ends).  With several workers the data
 * PDUs a hash PDU lists may arrive on another connection, read by another
 * thread a moment after this one saw its EOF. */
static int conn_end_later(struct ingest_server *s, uint64_t id)
{
	if (s->n_ends == s->cap_ends) {
		size_t cap = s->cap_ends ? 2 * s->cap_ends : 16;
		struct srv_end *e = realloc(s->ends, cap * sizeof(*e));
		if (!e)
			return LACRE_E_NOMEM;
		s->ends = e;
		s->cap_ends = cap;
	}
	s->ends[s->n_ends].id = id;
	s->ends[s->n_ends++].due_ms = srv_mono_ms() + CONN_END_GRACE_MS;
	return LACRE_OK;
}

/* Judge the held hash checks of connections that ended at least
 * CONN_END_GRACE_MS ago (all: every one). */
static void srv_conn_ends(struct ingest_server *s, int64_t now, int all)
{
	size_t i, j;

	if (s->n_ends == 0)
		return;
	srv_acct_lock(s);
	for (i = j = 0; i < s->n_ends; i++) {
		if (all || now >= s->ends[i].due_ms)
			ingest_acct_flush(s->acct, s->ends[i].id, 0);
		else
			s->ends[j++] = s->ends[i];
	}
	srv_acct_unlock(s);
	s->n_ends = j;
}

/* Close a connection: log a truncated tail (with its bytes), the
 * disconnect event, a stderr line when the reason is an error, and free. */
void srv_conn_close(struct ingest_server *s, struct conn *c, const char *reason,
                       int is_error, uint64_t *counter)
{
	struct json_w w;
	size_t tail;

	if (counter)
		(*counter)++;
	/* its PDUs accounted before its end is */
	srv_acct_apply(s);
	/* a tail the memory budget refused was logged then */
	tail = srv_conn_tail_event(s, c) + c->tail_refused;
	/* the end of its stream: hash checks still waiting for their PDUs
	 * get their verdict now */
	if (s->lead->n_wk > 1 && conn_end_later(s, c->id) == LACRE_OK) {
		/* judged by srv_conn_ends after CONN_END_GRACE_MS */
	} else {
		srv_acct_lock(s);
		ingest_acct_flush(s->acct, c->id, 0);
		srv_acct_unlock(s);
	}
	ev_begin(s, &w, "disconnect", c);
	json_kv_str(&w, "reason", reason);
	json_kv_bool(&w, "error", is_error);
	json_kv_uint(&w, "bytes", c->rx_bytes);
	json_kv_uint(&w, "pdus", c->pdus);
	json_kv_uint(&w, "keepalives", c->keepalives);
	json_kv_uint(&w, "truncated_tail", tail);
	json_kv_uint(&w, "duration_ms", (uint64_t)(srv_mono_ms() - c->opened_ms));
	ev_end(s, &w);
	if (is_error)
		logf_(s, "conn %" PRIu64 " %s %s: closed at stream offset %" PRIu64 ": %s",
		      c->id, c->peer, c->listener == LACRE_HI2 ? "hi2" : "hi3",
		      c->fr.offset, reason);
	ready_remove(s, c);
	if (c->n_held) {
		/* what it sent stays held: the entries carry its identity */
		struct held *h;
		for (h = s->h_head; h; h = h->next)
			if (h->c == c)
				h->c = NULL;
		c->n_held = 0;
	}
	if (c->ssl) {
		SSL_free(c->ssl);
		c->ssl = NULL;
	}
	if (c->in_ep)
		epoll_ctl(s->ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	peer_put(s, c->pc);
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	s->n_conns--;
	srv_load_add(s, c->listener == LACRE_HI3, -1);
	ingest_framer_free(&c->fr);
	srv_budget_forget(s, c);
	lacre_dbuf_free(&c->tx);
	free(c);
}

/* Write queued responses.  Returns 0, or -1 when the connection failed
 * (already closed). */
int srv_conn_flush_tx(struct ingest_server *s, struct conn *c)
{
	ssize_t n;
	int e;

	c->tls_write_wants_read = 0;
	if (c->wr_shut) {
		/* our side is closed (stopping): nothing more can be sent */
		lacre_dbuf_reset(&c->tx);
		return 0;
	}
	while (c->tx.len) {
		if (c->ssl) {
			ERR_clear_error();
			n = SSL_write(c->ssl, c->tx.p, (int)(c->tx.len > 65536 ? 65536 : c->tx.len));
			if (n <= 0) {
				e = SSL_get_error(c->ssl, (int)n);
				if (e == SSL_ERROR_WANT_WRITE)
					break;
				if (e == SSL_ERROR_WANT_READ) {
					c->tls_write_wants_read = 1;
					break;
				}
				srv_conn_close(s, c, "TLS write failed", 1, &s->st.closed_error);
				return -1;
			}
		} else {
			n = send(c->fd, c->tx.p, c->tx.len, MSG_NOSIGNAL | MSG_DONTWAIT);
			if (n < 0) {
				if (errno == EINTR)
					continue;
				if (errno == EAGAIN || errno == EWOULDBLOCK)
					break;
				srv_conn_close(s, c, "write failed (peer reset)", 0, &s->st.closed_error);
				return -1;
			}
		}
		lacre_dbuf_consume(&c->tx, (size_t)n);
		s->st.ka_resp_bytes += (uint64_t)n;
	}
	if (c->tx.len == 0 && c->tx.alloc > 4096)
		lacre_dbuf_free(&c->tx);
	srv_conn_watch(s, c);
	return 0;
}

/* Hex of the first bytes of a PDU, for error events. */
static void kv_head_hex(struct json_w *w, const uint8_t *p, size_t n)
{
	json_kv_hex(w, "head_hex", p, n > 32 ? 32 : n);
}

/* Wipe the plaintext and pre-encryption form of the PDU just handled
 * (secret buffers: reset wipes them; the allocation is kept). */
static void srv_plain_wipe(struct ingest_server *s)
{
	lacre_dbuf_reset(&s->plain);
	lacre_dbuf_reset(&s->pre);
}

/* The key ring for d's PSHeader operatorIdentifier, or NULL. */
static const struct etsi_keyring *srv_ring(const struct ingest_server *s, const struct etsi_pdu *d)
{
	for (size_t i = 0; i < s->cfg.n_hkeys; i++) {
		const struct ingest_hkeys *h = &s->cfg.hkeys[i];
		size_t n = strnlen(h->operator_id, sizeof(h->operator_id));
		if (n == d->operator_id.len && d->operator_id.p && !memcmp(h->operator_id, d->operator_id.p, n))
			return &h->ring;
	}
	return NULL;
}

/* Text of an etsi_decrypt() failure, for the undecryptable event. */
static const char *srv_decrypt_why(int r)
{
	switch (r) {
	case LACRE_E_NOT_FOUND:
		return "no handover key for its operator and cipher (handover.keys)";
	case LACRE_E_AUTH:
		return "wrong key: no handover key gives a well-formed payload";
	case LACRE_E_UNSUPPORTED:
		return "an encryption type lacre cannot decrypt";
	case LACRE_E_MALFORMED:
		return "malformed encryption container (ciphertext, padding or sequence number)";
	default:
		return lacre_strerror(r);
	}
}

/* Decrypt the encrypted PDU d (decoded from pdu[0..len)) with its
 * operator's keys picked at at_us: on success d describes the decrypted
 * payload (pointing into s->plain) and s->pre holds the pre-encryption
 * form (what the operator's hashes cover), else s->pre is empty.  A
 * failure leaves d->decrypt_err set (the sink quarantines the PDU) and
 * is an alerted event once per LIID and reason. */
static int srv_decrypt(struct ingest_server *s, struct conn *c, const uint8_t *pdu, size_t len,
		       struct etsi_pdu *d, int64_t at_us)
{
	const struct etsi_keyring *kr = srv_ring(s, d);
	struct ingest_server *g = s->lead;
	struct json_w w;
	size_t i;
	int r;

	srv_plain_wipe(s);
	if (!kr) {
		r = LACRE_E_NOT_FOUND;
		d->decrypt_err = r;
	} else {
		r = etsi_decrypt(kr, at_us, d, &s->plain);
	}
	if (r == LACRE_OK) {
		s->st.decrypted++;
		if (lacre_dbuf_reserve(&s->pre, len) == LACRE_OK &&
		    etsi_preencryption_form(pdu, len, d, &s->plain, s->pre.p) == LACRE_OK)
			s->pre.len = len;
		if (d->flags & ETSI_FLAG_KEY_OUTSIDE_WINDOW) {
			ev_begin(s, &w, "key-outside-validity-window", c);
			json_key(&w, "liid");
			json_str_or_hex(&w, d->liid.p, d->liid.len);
			json_kv_uint(&w, "seq", d->seq);
			ev_end(s, &w);
		}
		return LACRE_OK;
	}
	s->st.undecryptable++;
	/* one list for every worker (the lead's), under the accounting lock */
	srv_acct_lock(s);
	for (i = 0; i < g->n_undec; i++)
		if (g->undec[i].reason == r && g->undec[i].liid_len == d->liid.len &&
		    !memcmp(g->undec[i].liid, d->liid.p, d->liid.len))
			break;
	/* a (LIID, cause) that cannot be remembered is not logged again and
	 * again (a hostile sender's flood): --stats and the sink's quarantine
	 * alert still count it */
	if (i < g->n_undec || g->n_undec >= SRV_UNDEC_MAX || d->liid.len > sizeof(g->undec[0].liid)) {
		srv_acct_unlock(s);
		return r;
	}
	if (d->liid.len)
		memcpy(g->undec[g->n_undec].liid, d->liid.p, d->liid.len);
	g->undec[g->n_undec].liid_len = d->liid.len;
	g->undec[g->n_undec].reason = r;
	g->n_undec++;
	srv_acct_unlock(s);
	ev_begin(s, &w, "undecryptable", c);
	json_key(&w, "liid");
	json_str_or_hex(&w, d->liid.p, d->liid.len);
	json_key(&w, "operator");
	json_str_or_hex(&w, d->operator_id.p, d->operator_id.len);
	json_kv_uint(&w, "seq", d->seq);
	json_kv_int(&w, "encryption_type", d->enc.type);
	json_kv_str(&w, "reason", srv_decrypt_why(r));
	json_kv_str(&w, "note", "first of this LIID and reason; the PDU is sealed as received, quarantined");
	json_kv_bool(&w, "alert", 1);
	ev_end(s, &w);
	return r;
}

/* Follow the byteCounter chain of d's LIID on c's handover (the PDU was
 * taken by the sink): every break or restart is an accounting event
 * naming the LIID and the byte range. */
static void srv_bctr(struct ingest_server *s, struct conn *c, const struct etsi_pdu *d, size_t len)
{
	struct etsi_bctr *b = &s->lead->bctr[c->listener == LACRE_HI3 ? 1 : 0];
	uint64_t expected = 0, got = 0;
	struct json_w w;
	int v;

	/* the chains are shared (the lead's): a handover's connections may
	 * land on any worker */
	srv_acct_lock(s);
	v = etsi_bctr_account(b, d, len, &expected, &got);
	srv_acct_unlock(s);
	if (v != ETSI_BCTR_BREAK && v != ETSI_BCTR_RESTART)
		return;
	if (v == ETSI_BCTR_BREAK)
		s->st.bctr_breaks++;
	else
		s->st.bctr_restarts++;
	ev_begin(s, &w, v == ETSI_BCTR_BREAK ? "bytecounter-break" : "bytecounter-restart", c);
	json_key(&w, "liid");
	json_str_or_hex(&w, d->liid.p, d->liid.len);
	json_kv_uint(&w, "seq", d->seq);
	json_kv_uint(&w, v == ETSI_BCTR_BREAK ? "complete_to" : "old_frontier", expected & 0xffffffffu);
	json_kv_uint(&w, "got", got & 0xffffffffu);
	json_kv_uint(&w, "start_time", got >> 32);
	json_kv_bool(&w, "alert", v == ETSI_BCTR_BREAK);
	ev_end(s, &w);
}

/* etsi_bctr_finish callback: one gap left in a byteCounter chain. */
static void srv_bctr_gap(void *arg, const uint8_t *liid, size_t liid_len, uint64_t from, uint64_t to)
{
	void **a = arg;
	struct ingest_server *s = a[0];
	const char *which = a[1];
	struct json_w w;

	s->st.bctr_gaps++;
	ev_begin(s, &w, "bytecounter-gap", NULL);
	json_kv_str(&w, "listener", which);
	json_key(&w, "liid");
	json_str_or_hex(&w, liid, liid_len);
	json_kv_uint(&w, "from", from & 0xffffffffu);
	json_kv_uint(&w, "to", to & 0xffffffffu);
	json_kv_str(&w, "what", "bytes of this LIID's handover never received");
	json_kv_bool(&w, "alert", 1);
	ev_end(s, &w);
}

/* etsi_bctr_stop callback: bytes of a chain not received at a clean stop
 * that may still arrive (a mediator's reordering): the chain is saved and
 * continues at the next start, which declares them if they never come. */
static void srv_bctr_open(void *arg, const uint8_t *liid, size_t liid_len, uint64_t from, uint64_t to)
{
	void **a = arg;
	struct ingest_server *s = a[0];
	const char *which = a[1];
	struct json_w w;

	s->st.bctr_open++;
	ev_begin(s, &w, "bytecounter-open", NULL);
	json_kv_str(&w, "listener", which);
	json_key(&w, "liid");
	json_str_or_hex(&w, liid, liid_len);
	json_kv_uint(&w, "from", from & 0xffffffffu);
	json_kv_uint(&w, "to", to & 0xffffffffu);
	json_kv_str(&w, "what", "bytes of this LIID's handover not received at this stop; the chain continues at "
	            "the next start, which reports them as a gap if they do not arrive");
	json_kv_bool(&w, "alert", 0);
	ev_end(s, &w);
}

/* Handle one complete PDU from connection c: decode, answer a keep-alive,
 * hand a record to the sink, account.  LACRE_E_NOSPACE: the sink did not
 * take it and nothing was counted (the caller holds it); another error
 * closes the connection (the framer's caller says why). */
int srv_handle_pdu(struct ingest_server *s, struct conn *c, const uint8_t *pdu, size_t len,
                      uint64_t off)
{
	struct etsi_pdu *d = &s->d;
	struct lacre_record rec;
	struct json_w w;
	const uint8_t *acct_pdu = pdu;  /* what the integrity checks keep */
	int r;

	s->st.pdus++;
	c->pdus++;
	r = etsi_decode(pdu, len, d);
	if (r != LACRE_OK) {
		s->st.decode_errors++;
		s->decode_err = r;
		ev_begin(s, &w, "malformed-pdu", c);
		json_kv_uint(&w, "offset", off);
		json_kv_uint(&w, "length", len);
		json_kv_str(&w, "reason", lacre_strerror(r));
		kv_head_hex(&w, pdu, len);
		json_kv_bool(&w, "alert", 1);
		ev_end(s, &w);
		return r;
	}
	if (d->kind == ETSI_KIND_KEEPALIVE) {
		s->st.keepalives++;
		c->keepalives++;
		if (c->wr_shut || c->fd < 0) {
			/* stopping (our side closed) or its connection is gone:
			 * logged, not answered */
			ev_begin(s, &w, "keepalive", c);
			json_kv_uint(&w, "seq", d->seq);
			json_key(&w, "liid");
			json_str_or_hex(&w, d->liid.p, d->liid.len);
			json_kv_uint(&w, "offset", off);
			json_kv_bool(&w, "answered", 0);
			json_kv_str(&w, "why", c->fd < 0 ? "connection closed" : "receiver stopping");
			json_kv_hex(&w, "pdu_hex", pdu, len);
			ev_end(s, &w);
			return LACRE_OK;
		}
		r = ingest_keepalive_response(d, &c->tx);
		ev_begin(s, &w, "keepalive", c);
		json_kv_uint(&w, "seq", d->seq);
		json_key(&w, "liid");
		json_str_or_hex(&w, d->liid.p, d->liid.len);
		json_kv_uint(&w, "offset", off);
		json_kv_bool(&w, "answered", r == LACRE_OK);
		json_kv_hex(&w, "pdu_hex", pdu, len);
		ev_end(s, &w);
		if (r == LACRE_E_TOO_LARGE)
			return LACRE_E_TIMEOUT;   /* responses pile up: the peer does not read */
		if (r != LACRE_OK) {
			/* no pSHeader to echo: nothing valid to answer with */
			s->st.anomalies++;
			ev_begin(s, &w, "anomaly", c);
			json_kv_str(&w, "what", "keep-alive without a header: not answered");
			json_kv_uint(&w, "offset", off);
			ev_end(s, &w);
			return LACRE_OK;
		}
		s->st.ka_responses++;
		c->ka_answered++;
		return LACRE_OK;
	}
	if (d->kind == ETSI_KIND_KEEPALIVE_RESPONSE) {
		/* LEMF-direction PDU from a sender: an anomaly, connection kept */
		s->st.anomalies++;
		ev_begin(s, &w, "anomaly", c);
		json_kv_str(&w, "what", "keep-alive response received from the sender");
		json_kv_uint(&w, "offset", off);
		json_kv_hex(&w, "pdu_hex", pdu, len);
		ev_end(s, &w);
		return LACRE_OK;
	}
	memset(&rec, 0, sizeof(rec));
	rec.pdu = pdu;
	rec.pdu_len = len;
	/* every PDU a read completes was received when that read returned
	 * (one clock read per read, not per PDU); a held PDU retried later
	 * takes the time it is handed over, as before */
	rec.recv_us = s->read_us ? s->read_us : wall_us();
	if (d->encrypted) {
		/* the sink and the checks see the decrypted payload; the
		 * record stays the PDU as received */
		s->st.encrypted++;
		if (srv_decrypt(s, c, pdu, len, d, rec.recv_us) == LACRE_OK && s->pre.len == len) {
			acct_pdu = s->pre.p;
			rec.pre = s->pre.p;
			rec.pre_len = s->pre.len;
		}
	}
	rec.listener = c->listener;
	rec.conn_id = c->id;
	memcpy(rec.peer, c->peer, sizeof(rec.peer));
	memcpy(rec.operator_name, c->operator_name, sizeof(rec.operator_name));
	rec.decoded = d;
	if ((r = s->sink->record(s->sink->ctx, &rec)) != LACRE_OK) {
		if (r == LACRE_E_NOSPACE) {
			/* not taken: not counted either; the caller holds it */
			s->st.pdus--;
			c->pdus--;
			if (d->encrypted) {
				/* counted again when it is retried */
				s->st.encrypted--;
				if (d->decrypted)
					s->st.decrypted--;
				else
					s->st.undecryptable--;
			}
			srv_plain_wipe(s);
			return r;
		}
		if (!s->sink_err)
			s->sink_err = r;
		srv_plain_wipe(s);
		return r;
	}
	s->st.records++;
	if (d->decrypted)
		srv_bctr(s, c, d, len);
	s->dirty = 1;
	if (d->partial) {
		/* kept as evidence, flagged (spec §3.5) */
		s->st.partial++;
		ev_begin(s, &w, "partial-decode", c);
		json_kv_uint(&w, "offset", off);
		json_kv_uint(&w, "length", len);
		json_kv_str(&w, "reason", lacre_strerror(d->err));
		json_kv_uint(&w, "field_offset", d->err_off);
		kv_head_hex(&w, pdu, len);
		ev_end(s, &w);
	}
	r = srv_acct_pdu(s, c, acct_pdu, len, d);
	/* the decoded view points into the plaintext: used up, wiped */
	srv_plain_wipe(s);
	return r;
}

/* Framer callback: one complete PDU from connection c.  Handled at once,
 * unless c already holds PDUs or events wait for space (order is kept:
 * then it joins the held FIFO); a PDU the sink has no space for is held. */
static int on_pdu(void *arg, const uint8_t *pdu, size_t len, uint64_t off)
{
	struct conn *c = arg;
	struct ingest_server *s = c->srv;
	int r;

	if (c->n_held == 0 && s->evq.len == 0) {
		r = srv_handle_pdu(s, c, pdu, len, off);
		if (r != LACRE_E_NOSPACE)
			return r;
		srv_pause_enter(s, "a record");
	}
	return srv_hold_add(s, c, pdu, len, off);
}

/* Reason text for a framing or decoding failure. */
const char *srv_frame_reason(int r, char *buf, size_t n, const struct conn *c)
{
	switch (r) {
	case LACRE_E_MALFORMED:
		return "malformed PDU: bad outer tag or length (stream lost sync)";
	case LACRE_E_TOO_LARGE:
		snprintf(buf, n, "PDU larger than the limit of %zu bytes", c->fr.max_pdu);
		return buf;
	case LACRE_E_DEPTH:
		return "PDU nested deeper than allowed";
	case LACRE_E_TAG_TOO_LONG:
		return "BER tag longer than allowed";
	case LACRE_E_TIMEOUT:
		return "peer does not read keep-alive responses";
	default:
		snprintf(buf, n, "bad PDU: %s", lacre_strerror(r));
		return buf;
	}
}

/* Feed received bytes to the framer; 0 ok, -1 the connection was closed. */
static int conn_feed(struct ingest_server *s, struct conn *c, const uint8_t *p, size_t n)
{
	uint64_t err_off = 0;
	char why[128];
	int r;

	c->rx_bytes += n;
	s->st.bytes += n;
	c->last_rx_ms = srv_mono_ms();
	s->decode_err = 0;
	s->read_us = wall_us();
	r = ingest_framer_feed(&c->fr, p, n, on_pdu, c, &err_off);
	s->read_us = 0;
	/* this read's data PDUs accounted, under one lock */
	srv_acct_apply(s);
	srv_budget_sync(s, c);
	if (r != LACRE_OK) {
		if (s->sink_err) {
			srv_conn_close(s, c, "sink failed", 1, &s->st.closed_sink);
		} else if (s->decode_err) {
			snprintf(why, sizeof(why), "undecodable PDU at offset %" PRIu64 ": %s",
			         err_off, lacre_strerror(s->decode_err));
			srv_conn_close(s, c, why, 1, &s->st.closed_malformed);
		} else {
			srv_conn_close(s, c, srv_frame_reason(r, why, sizeof(why), c), 1,
			           r == LACRE_E_TIMEOUT ? &s->st.closed_tx : &s->st.closed_malformed);
		}
		return -1;
	}
	if (ingest_framer_pending(&c->fr)) {
		if (!c->pdu_start_ms)
			c->pdu_start_ms = c->last_rx_ms;
	} else {
		c->pdu_start_ms = 0;
	}
	if (c->tx.len > s->cfg.max_tx_buf) {
		srv_conn_close(s, c, "peer does not read keep-alive responses", 1, &s->st.closed_tx);
		return -1;
	}
	if (c->tx.len && srv_conn_flush_tx(s, c) < 0)
		return -1;
	return 0;
}

/* Put c on the ready list (decrypted bytes wait inside OpenSSL). */
void srv_ready_add(struct ingest_server *s, struct conn *c)
{
	if (c->on_ready)
		return;
	c->on_ready = 1;
	c->rnext = s->ready;
	s->ready = c;
}

/* Authenticate c to one of the configured operators (op_auth.c) after its
 * TLS handshake, or at accept on a plain listener: on LACRE_OK its records
 * carry the operator's name; else the connection is closed with an
 * "operator-refused" event (alert) and an ALERT line whatever --quiet
 * says, and nothing it sends is read. */
static int conn_operator(struct ingest_server *s, struct conn *c)
{
	struct json_w w;
	char why[384], subject[SITE_OPERATOR_SUBJECT_MAX], reason[448];
	size_t idx = 0;
	int r;

	r = ingest_op_auth_conn(s->opa, &s->cfg, c->ssl, c->pc ? c->pc->fam : 0,
	                        c->pc ? c->pc->addr : NULL, &idx, c->fp, subject, sizeof(subject),
	                        why, sizeof(why));
	if (r == LACRE_OK) {
		snprintf(c->operator_name, sizeof(c->operator_name), "%s", s->cfg.operators[idx].name);
		return LACRE_OK;
	}
	s->st.refused_operator++;
	ev_begin(s, &w, "operator-refused", c);
	json_kv_str(&w, "reason", why);
	if (c->fp[0])
		json_kv_str(&w, "client_cert_sha256", c->fp);
	if (subject[0])
		json_kv_str(&w, "client_subject", subject);
	json_kv_bool(&w, "alert", 1);
	ev_end(s, &w);
	fprintf(stderr, "lacre: ingest: ALERT refused connection %" PRIu64 " from %s (%s): %s; add "
	        "the sender to lacre.conf (operator.NAME.*) if it is one\n", c->id, c->peer,
	        c->listener == LACRE_HI2 ? "hi2" : "hi3", why);
	snprintf(reason, sizeof(reason), "operator-refused: %s", why);
	srv_conn_close(s, c, reason, 1, c->ssl ? &s->st.closed_tls : NULL);
	return LACRE_E_AUTH;
}

/* Finish a TLS handshake step; 1 open, 0 in progress, -1 closed. */
static int conn_handshake(struct ingest_server *s, struct conn *c)
{
	struct json_w w;
	int r, e;

	ERR_clear_error();
	r = SSL_accept(c->ssl);
	if (r != 1) {
		e = SSL_get_error(c->ssl, r);
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
			c->tls_read_wants_write = e == SSL_ERROR_WANT_WRITE;
			srv_conn_watch(s, c);
			return 0;
		}
		srv_conn_close(s, c, "TLS handshake failed", 1, &s->st.closed_tls);
		return -1;
	}
	c->tls_read_wants_write = 0;
	if (s->opa) {
		if (conn_operator(s, c) != LACRE_OK)
			return -1;
	} else if (ingest_tls_check_peer(c->ssl, &s->cfg, c->fp) != LACRE_OK) {
		srv_conn_close(s, c, c->fp[0] ? "client certificate not in the allow-list"
		                          : "no client certificate", 1, &s->st.closed_tls);
		return -1;
	}
	c->state = CS_OPEN;
	c->pdu_start_ms = 0;
	ev_begin(s, &w, "tls", c);
	json_kv_str(&w, "version", SSL_get_version(c->ssl));
	json_kv_str(&w, "cipher", SSL_get_cipher_name(c->ssl));
	if (c->fp[0])
		json_kv_str(&w, "client_cert_sha256", c->fp);
	if (c->operator_name[0])
		json_kv_str(&w, "operator", c->operator_name);
	ev_end(s, &w);
	srv_conn_watch(s, c);
	return 1;
}

/* Drained a socket: ask for immediate ACKs, so a sender that writes small
 * pieces with Nagle on is not held by our delayed ACKs (Linux clears the
 * mode by itself, hence after every drain). */
static void quick_ack(const struct conn *c)
{
	int one = 1;

	setsockopt(c->fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
}

/* Read from c up to the budget (bytes, and READ_TURNS reads: a TLS peer
 * sending tiny records must not hold the loop); 0 ok, -1 closed.  Nothing
 * is read from a connection that holds PDUs; while the sink has no space,
 * at most PAUSE_PEEK bytes per turn (enough for keep-alives). */
static int conn_read(struct ingest_server *s, struct conn *c, size_t budget)
{
	size_t got = 0, chunk = SRV_READ_CHUNK;
	ssize_t n;
	int e, fed, turns = 0;

	if (srv_conn_blocked(s, c))
		return 0;
	if (s->paused)
		chunk = budget = PAUSE_PEEK;
	while (got < budget && turns++ < READ_TURNS) {
		/* room for what this read may add to an incomplete PDU, or
		 * c's own PDU is refused and nothing more is read from it */
		if (srv_budget_admit(s, c, chunk) < 0)
			return 0;
		if (c->ssl) {
			ERR_clear_error();
			n = SSL_read(c->ssl, s->rbuf, (int)chunk);
			if (n <= 0) {
				e = SSL_get_error(c->ssl, (int)n);
				if (e == SSL_ERROR_WANT_READ) {
					quick_ack(c);
					return 0;
				}
				if (e == SSL_ERROR_WANT_WRITE) {
					c->tls_read_wants_write = 1;
					srv_conn_watch(s, c);
					return 0;
				}
				if (e == SSL_ERROR_ZERO_RETURN) {
					srv_conn_close(s, c, "closed by peer (TLS close_notify)", 0, &s->st.closed_eof);
					return -1;
				}
				srv_conn_close(s, c, e == SSL_ERROR_SYSCALL ? "closed by peer without close_notify"
				                                        : "TLS error", e != SSL_ERROR_SYSCALL,
				           e == SSL_ERROR_SYSCALL ? &s->st.closed_eof : &s->st.closed_tls);
				return -1;
			}
			if (c->tls_read_wants_write) {
				c->tls_read_wants_write = 0;
				srv_conn_watch(s, c);
			}
		} else {
			n = recv(c->fd, s->rbuf, chunk, MSG_DONTWAIT);
			if (n < 0) {
				if (errno == EINTR)
					continue;
				if (errno == EAGAIN || errno == EWOULDBLOCK) {
					quick_ack(c);
					return 0;
				}
				srv_conn_close(s, c, "connection reset by peer", 0, &s->st.closed_eof);
				return -1;
			}
			if (n == 0) {
				srv_conn_close(s, c, "closed by peer", 0, &s->st.closed_eof);
				return -1;
			}
		}
		got += (size_t)n;
		fed = conn_feed(s, c, s->rbuf, (size_t)n);
		/* this read's records named on disk before the next read
		 * (record.h): a kill -9 then loses only unread bytes */
		if (s->sink->read_done)
			s->sink->read_done(s->sink->ctx);
		if (fed < 0)
			return -1;
		if (s->sink_err || srv_conn_blocked(s, c))
			return 0;
	}
	/* budget spent: plain TCP is re-reported by level-triggered epoll;
	 * TLS may hold decrypted bytes that epoll cannot see */
	if (c->ssl)
		srv_ready_add(s, c);
	return 0;
}

/* Service one epoll event on c. */
static void conn_event(struct ingest_server *s, struct conn *c, uint32_t events)
{
	if (c->state == CS_HANDSHAKE) {
		if (conn_handshake(s, c) <= 0)
			return;
		events |= EPOLLIN;             /* application data may follow at once */
	}
	if (events & EPOLLOUT) {
		if (c->tls_read_wants_write) {
			c->tls_read_wants_write = 0;
			events |= EPOLLIN;
		}
		if (c->tx.len && srv_conn_flush_tx(s, c) < 0)
			return;
	}
	if ((events & EPOLLIN) && c->tls_write_wants_read && c->tx.len && srv_conn_flush_tx(s, c) < 0)
		return;
	if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP)) &&
	    conn_read(s, c, s->cfg.read_budget) < 0)
		return;
	srv_conn_watch(s, c);
}

/* Format the peer's address as "ip:port" and fill its raw form. */
static void peer_text(const struct sockaddr_storage *ss, char *out, size_t n,
                      uint8_t raw[16], uint8_t *fam, char *ip, size_t ipn)
{
	memset(raw, 0, 16);
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
		inet_ntop(AF_INET, &a->sin_addr, ip, (socklen_t)ipn);
		snprintf(out, n, "%s:%u", ip, ntohs(a->sin_port));
		memcpy(raw, &a->sin_addr, 4);
		*fam = 4;
	} else {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
		inet_ntop(AF_INET6, &a->sin6_addr, ip, (socklen_t)ipn);
		snprintf(out, n, "[%s]:%u", ip, ntohs(a->sin6_port));
		memcpy(raw, &a->sin6_addr, 16);
		*fam = 6;
	}
}

/* The connection limits for a connection s accepted, in the order of
 * acceptance (before any hand-over): 0 with *pc taken, or -1 when it was
 * refused (counted, logged, fd closed). */
int srv_conn_admit(struct ingest_server *s, struct listener *l, int fd, const char *peer,
                   const uint8_t raw[16], uint8_t fam, struct peer_count **pc_out)
{
	struct peer_count *pc = NULL;
	unsigned open_n;
	int taken;

	taken = peer_take(s, raw, fam, &pc, &open_n);
	if (taken == 1) {
		s->st.refused_total++;
		logf_(s, "%s %s: refused: %u connections open (limit)", peer,
		      l->which == LACRE_HI2 ? "hi2" : "hi3", open_n);
		close(fd);
		return -1;
	}
	if (taken != 0) {
		s->st.refused_peer++;
		logf_(s, "%s %s: refused: %u connections from this address (limit)", peer,
		      l->which == LACRE_HI2 ? "hi2" : "hi3", open_n);
		close(fd);
		return -1;
	}
	*pc_out = pc;
	return 0;
}

/* Take an admitted connection into worker s (the one that accepted it, or
 * the one it was handed to: worker.c): its state, TLS, the epoll set, the
 * connect event, the operator of a plain connection.  Returns 0 when s
 * took it (it may have closed it since), -1 when it could not (fd closed,
 * pc given back). */
int srv_conn_setup(struct ingest_server *s, struct listener *l, int fd, const char *peer,
                   struct peer_count *pc)
{
	struct conn *c;
	struct epoll_event ev;
	struct json_w w;
	int one = 1;

	if (!(c = calloc(1, sizeof(*c)))) {
		peer_put(s, pc);
		close(fd);
		return -1;
	}
	c->pc = pc;
	c->srv = s;
	c->fd = fd;
	c->listener = l->which;
	/* one numbering for the whole receiver: events and the accounting
	 * name connections by it, whatever worker holds them */
	c->id = __atomic_add_fetch(&s->sh->next_id, 1, __ATOMIC_RELAXED);
	c->opened_ms = c->last_rx_ms = srv_mono_ms();
	snprintf(c->peer, sizeof(c->peer), "%s", peer);
	ingest_framer_init(&c->fr, s->cfg.max_pdu);
	lacre_dbuf_init(&c->tx, s->cfg.max_tx_buf + 65536);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->state = CS_OPEN;
	if (l->tls) {
		if (!(c->ssl = SSL_new(s->tls)) || SSL_set_fd(c->ssl, fd) != 1) {
			SSL_free(c->ssl);
			peer_put(s, pc);
			close(fd);
			free(c);
			return -1;
		}
		c->state = CS_HANDSHAKE;
		c->pdu_start_ms = c->opened_ms;   /* the handshake is timed too */
	}
	c->next = s->conns;
	if (s->conns)
		s->conns->prev = c;
	s->conns = c;
	s->n_conns++;
	if (s->n_conns > s->max_open)
		s->max_open = s->n_conns;
	s->st.accepted++;
	memset(&ev, 0, sizeof(ev));
	ev.events = c->events = EPOLLIN | EPOLLRDHUP;
	ev.data.ptr = c;
	if (epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
		srv_conn_close(s, c, "epoll failed", 1, &s->st.closed_error);
		return 0;
	}
	c->in_ep = 1;
	ev_begin(s, &w, "connect", c);
	json_kv_bool(&w, "tls", l->tls);
	ev_end(s, &w);
	/* plain TCP: the address is all there is to authenticate */
	if (!l->tls && s->opa)
		(void)conn_operator(s, c);
	return 0;
}

/* Accept pending connections on l (bounded per wake); each goes to the
 * least-loaded worker (srv_accepted, worker.c). */
static void do_accept(struct ingest_server *s, struct listener *l)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	char peer[64], ip[INET6_ADDRSTRLEN];
	uint8_t raw[16], fam = 0;
	unsigned i, k;
	int fd, allowed;

	for (i = 0; i < 128 && !srv_stopping(s); i++) {
		sl = sizeof(ss);
		fd = accept4(l->fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE) {
				/* shed: release the spare descriptor, take and drop one */
				if (s->spare_fd >= 0) {
					close(s->spare_fd);
					fd = accept(l->fd, NULL, NULL);
					if (fd >= 0)
						close(fd);
					s->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
				}
				s->st.refused_total++;
				logf_(s, "out of file descriptors: refused a connection; raise ulimit -n");
			}
			return;
		}
		peer_text(&ss, peer, sizeof(peer), raw, &fam, ip, sizeof(ip));
		allowed = s->cfg.n_allow_peers == 0 || l->tls;
		for (k = 0; !allowed && k < s->cfg.n_allow_peers && k < INGEST_MAX_FPS; k++)
			if (s->cfg.allow_peers[k] && strcmp(s->cfg.allow_peers[k], ip) == 0)
				allowed = 1;
		if (!allowed) {
			s->st.refused_allow++;
			logf_(s, "%s %s: refused: peer not in the allow-list", peer, l->which == LACRE_HI2 ? "hi2" : "hi3");
			close(fd);
			continue;
		}
		srv_accepted(s, l, fd, peer, raw, fam);
	}
}

/* Close connections past their idle or slow-sender deadline. */
static void sweep(struct ingest_server *s, int64_t now)
{
	struct conn *c, *n;
	char why[96];

	for (c = s->conns; c; c = n) {
		n = c->next;
		if (srv_conn_blocked(s, c)) {
			/* not read on purpose (no space): its timers wait too */
			c->last_rx_ms = now;
			if (c->pdu_start_ms)
				c->pdu_start_ms = now;
			continue;
		}
		if (c->pdu_start_ms && s->cfg.pdu_timeout_ms &&
		    now - c->pdu_start_ms > (int64_t)s->cfg.pdu_timeout_ms) {
			snprintf(why, sizeof(why), "%s not completed within %u ms (slow sender)",
			         c->state == CS_HANDSHAKE ? "TLS handshake" : "PDU", s->cfg.pdu_timeout_ms);
			srv_conn_close(s, c, why, 1, &s->st.closed_slow);
		} else if (s->cfg.idle_timeout_ms && now - c->last_rx_ms > (int64_t)s->cfg.idle_timeout_ms) {
			snprintf(why, sizeof(why), "idle for %u ms", s->cfg.idle_timeout_ms);
			srv_conn_close(s, c, why, 1, &s->st.closed_idle);
		}
	}
}

/* Flush the sink now (first retrying what waits for space). */
static void do_flush(struct ingest_server *s, int64_t now)
{
	int r;

	if (s->paused) {
		if (now - s->last_retry_ms >= RETRY_MS)
			srv_pause_retry(s, now);
		if (s->paused)
			return;
	}
	if (s->sink->flush && (r = s->sink->flush(s->sink->ctx)) != LACRE_OK) {
		if (r == LACRE_E_NOSPACE) {
			s->flush_pending = 1;
			srv_pause_enter(s, "a flush");
		} else if (!s->sink_err) {
			s->sink_err = r;
		}
	}
	s->dirty = 0;
	s->last_flush_ms = now;
}

/* Save the stream state (ingest_config.state_path) now, moving the
 * durability marks every state_lag_ms first; all_kept after a clean stop.
 * A failure is one ALERT line per run of failures, never fatal (a restart
 * may then report gaps that are not real, and says so). */
static void state_save(struct ingest_server *s, int64_t now, int all_kept)
{
	int r;

	s->last_state_ms = now;
	if (!s->cfg.state_path)
		return;
	srv_acct_lock(s);
	if (now - s->last_mark_ms >= (int64_t)s->cfg.state_lag_ms) {
		ingest_acct_mark(s->acct);
		s->last_mark_ms = now;
	}
	r = ingest_acct_save(s->acct, s->cfg.state_path, all_kept);
	srv_acct_unlock(s);
	if (r != LACRE_OK && !s->state_err_alerted) {
		s->state_err_alerted = 1;
		fprintf(stderr, "lacre: ingest: ALERT cannot write the stream state %s (%s): a restart may report "
		        "gaps that are not real; check that disk\n", s->cfg.state_path, lacre_strerror(r));
	} else if (r == LACRE_OK) {
		s->state_err_alerted = 0;
	}
}

/* The periodic state save of the lead's loop: the state is encoded under
 * the accounting lock (memory only) and written by the saver thread
 * (worker.c), so the loop never waits for the file's fsync; when the
 * saver is still busy, the next turn tries again. */
static void state_offer(struct ingest_server *s, int64_t now)
{
	struct ingest_acct_snap snap;
	struct lacre_dbuf d;
	int same = 0, r;

	if (!s->cfg.state_path)
		return;
	if (!s->sh->saver_on) {
		state_save(s, now, 0);
		return;
	}
	if (srv_saver_busy(s))
		return;
	s->last_state_ms = now;
	srv_acct_lock(s);
	if (now - s->last_mark_ms >= (int64_t)s->cfg.state_lag_ms) {
		ingest_acct_mark(s->acct);
		s->last_mark_ms = now;
	}
	r = ingest_acct_state_encode(s->acct, 0, &d, &snap, &same);
	srv_acct_unlock(s);
	if (r != LACRE_OK || same || ingest_acct_state_digest(&d) != LACRE_OK)
		return;
	if (!srv_saver_hand(s, &d, &snap))
		lacre_dbuf_free(&d);
}

/* Stopping: close our sending side of c (TLS close_notify, then FIN) so
 * that a peer still writing sees the end and closes; its bytes are read up
 * to its EOF.  Responses still queued are sent first, as far as the socket
 * takes them. */
static void half_close(struct ingest_server *s, struct conn *c)
{
	int r;

	if (c->tx.len && srv_conn_flush_tx(s, c) < 0)
		return;
	if (c->ssl) {
		ERR_clear_error();
		r = SSL_shutdown(c->ssl);
		if (r < 0 && SSL_get_error(c->ssl, r) == SSL_ERROR_WANT_WRITE) {
			/* the alert did not fit: do not cut it with a FIN; the
			 * close at the end of the drain ends the connection */
			c->wr_shut = 1;
			srv_conn_watch(s, c);
			return;
		}
	}
	shutdown(c->fd, SHUT_WR);
	c->wr_shut = 1;
	srv_conn_watch(s, c);
}

/* After stop: close the listeners, half-close every connection and read
 * each one up to its EOF (bounded by drain_ms), handing every PDU to the
 * sink; PDUs held for want of space are retried for stop_nospace_ms.
 * Returns LACRE_E_NOSPACE when held PDUs or events could not be kept. */
static int drain(struct ingest_server *s)
{
	struct epoll_event evs[MAX_EVENTS];
	int64_t now = srv_mono_ms();
	int64_t deadline = now + s->cfg.drain_ms, nospace_deadline = now + s->cfg.stop_nospace_ms;
	struct conn *c, *n, *rl;
	int i, k, timeout, rc = LACRE_OK;

	epoll_ctl(s->ep, EPOLL_CTL_DEL, s->stop_fd, NULL);
	/* connections handed to this worker and not taken yet: refused */
	if (s->in_fd >= 0)
		epoll_ctl(s->ep, EPOLL_CTL_DEL, s->in_fd, NULL);
	srv_inbox_take(s, 1);
	/* the listeners are shared by every worker: each takes them out of
	 * its set and stops them listening (connects are refused from now);
	 * the lead closes them in ingest_server_free, once no worker runs */
	for (i = 0; i < 2; i++)
		if (s->l[i].fd >= 0) {
			epoll_ctl(s->ep, EPOLL_CTL_DEL, s->l[i].fd, NULL);
			shutdown(s->l[i].fd, SHUT_RDWR);
			s->l[i].stopped = 1;
		}
	for (c = s->conns; c; c = n) {
		n = c->next;
		if (c->state != CS_OPEN)
			srv_conn_close(s, c, "receiver stopping", 0, &s->st.closed_shutdown);
		else
			half_close(s, c);
	}
	while (!s->sink_err && (s->conns || s->paused)) {
		now = srv_mono_ms();
		if (s->paused && now - s->last_retry_ms >= RETRY_MS)
			srv_pause_retry(s, now);
		if (s->paused ? now >= nospace_deadline : now >= deadline)
			break;
		timeout = s->ready ? 0 : s->paused ? RETRY_MS : 100;
		k = epoll_wait(s->ep, evs, MAX_EVENTS, timeout);
		if (k < 0 && errno != EINTR)
			break;
		for (i = 0; i < k; i++)
			conn_event(s, evs[i].data.ptr, evs[i].events);
		rl = s->ready;
		s->ready = NULL;
		while (rl) {
			c = rl;
			rl = c->rnext;
			c->rnext = NULL;
			c->on_ready = 0;
			if (c->state == CS_OPEN)
				conn_read(s, c, s->cfg.read_budget);
		}
		srv_budget_reap(s);
	}
	srv_budget_reap(s);
	/* whatever is left: one last read, then cut, saying so */
	while ((c = s->conns)) {
		if (c->budget_refused) {
			srv_budget_reap(s);
			continue;
		}
		if (srv_conn_blocked(s, c) || s->sink_err) {
			/* what it holds is named below */
			srv_conn_close(s, c, "receiver stopping: no space for its data", 1, &s->st.closed_shutdown);
			continue;
		}
		if (conn_read(s, c, s->cfg.read_budget) < 0)
			continue;
		if (c != s->conns)
			continue;
		s->st.cut_at_stop++;
		fprintf(stderr, "lacre: ingest: conn %" PRIu64 " %s %s: the peer did not close within %u ms of the "
		        "stop; cut after %" PRIu64 " bytes: bytes it wrote after that are not received (its "
		        "sender must resend them)\n", c->id, c->peer, c->listener == LACRE_HI2 ? "hi2" : "hi3",
		        s->cfg.drain_ms, c->rx_bytes);
		srv_conn_close(s, c, "receiver stopping: peer still connected at the drain deadline", 0,
		           &s->st.closed_shutdown);
	}
	s->ready = NULL;
	if (s->h_head) {
		srv_report_lost_held(s);
		rc = LACRE_E_NOSPACE;
	}
	if (s->evq.len) {
		size_t off = 0, cnt = 0;
		while (off < s->evq.len) {
			off += strlen((const char *)s->evq.p + off) + 1;
			cnt++;
		}
		fprintf(stderr, "lacre: ingest: ALERT spool full at stop: %zu accounting events could not be logged "
		        "and are lost\n", cnt);
		s->st.events_lost += cnt;
		lacre_dbuf_reset(&s->evq);
		rc = LACRE_E_NOSPACE;
	}
	return rc;
}

/* One worker's event loop until the stop, then its drain and a flush.
 * The lead also runs the receiver-wide chores: the status callback, the
 * accounting's expiry, the heap trim and the state file.  A sink failure
 * stops every worker (nothing may be received that cannot be kept). */
int srv_worker_loop(struct ingest_server *s)
{
	struct epoll_event evs[MAX_EVENTS];
	struct conn *c, *rl;
	int64_t now, last_sweep = srv_mono_ms();
	int n, i, timeout, rc, lead = s == s->lead;

	srv_set_self(s);
	s->last_flush_ms = s->last_state_ms = s->last_mark_ms = last_sweep;
	while (!srv_stopping(s) && !s->sink_err) {
		timeout = s->ready ? 0 : s->paused ? RETRY_MS : 250;
		n = epoll_wait(s->ep, evs, MAX_EVENTS, timeout);
		if (n < 0 && errno != EINTR)
			break;
		for (i = 0; i < n; i++) {
			void *p = evs[i].data.ptr;
			if (p == &s->stop_fd) {
				__atomic_store_n(&s->stopping, 1, __ATOMIC_RELAXED);
			} else if (p == &s->in_fd) {
				srv_inbox_take(s, 0);
			} else if (p == &s->l[0] || p == &s->l[1]) {
				do_accept(s, p);
			} else {
				c = p;
				/* an earlier event of this batch may have closed it: the
				 * pointer is only used if still linked */
				conn_event(s, c, evs[i].events);
			}
		}
		/* TLS connections with bytes buffered inside OpenSSL */
		rl = s->ready;
		s->ready = NULL;
		while (rl) {
			c = rl;
			rl = c->rnext;
			c->rnext = NULL;
			c->on_ready = 0;
			if (c->state == CS_OPEN)
				conn_read(s, c, s->cfg.read_budget);
		}
		srv_budget_reap(s);
		now = srv_mono_ms();
		if (s->paused && now - s->last_retry_ms >= RETRY_MS)
			srv_pause_retry(s, now);
		srv_conn_ends(s, now, 0);
		if (now - last_sweep >= 1000) {
			sweep(s, now);
			last_sweep = now;
			srv_publish(s, now, 1);
			if (lead && s->cfg.on_second)
				s->cfg.on_second(s->cfg.on_second_arg);
			if (lead) {
				srv_acct_lock(s);
				if (ingest_acct_streams(s->acct) > s->cfg.stream_soft_limit)
					ingest_acct_expire(s->acct, s->cfg.stream_idle_s);
				ingest_acct_trim(s->acct, INGEST_ACCT_TRIM_S);
				srv_acct_unlock(s);
			}
			if (lead && now - s->last_heap_trim_ms >= HEAP_TRIM_MS) {
				/* the retained PDUs and windows come and go by the
				 * million: give the freed pages back to the system */
				malloc_trim(0);
				s->last_heap_trim_ms = now;
			}
		}
		if (s->dirty && (n == 0 || now - s->last_flush_ms >= (int64_t)s->cfg.flush_ms))
			do_flush(s, now);
		srv_publish(s, now, 0);
		/* the file need not wait for a flush: what the sink may not have
		 * kept yet is named by the durability marks after a crash */
		if (lead && !s->paused && now - s->last_state_ms >= STATE_SAVE_MS) {
			size_t ns;
			srv_acct_lock(s);
			ns = ingest_acct_streams(s->acct);
			srv_acct_unlock(s);
			if (ns <= STATE_BIG_STREAMS || now - s->last_state_ms >= STATE_SAVE_BIG_MS)
				state_offer(s, now);
		}
	}
	if (s->sink_err)
		ingest_server_stop(s->lead);
	rc = drain(s);
	do_flush(s, srv_mono_ms());
	srv_publish(s, srv_mono_ms(), 1);
	return rc;
}

/* Run the event loop.  See ingest.h. */
int ingest_server_run(struct ingest_server *s)
{
	int rc, paused = 0, sink_err = 0;

	signal(SIGPIPE, SIG_IGN);
	s->run_started = 1;
	for (size_t off = 0; off < s->early.len; ) {
		/* the start's events, now that the sink is open */
		const char *j = (const char *)s->early.p + off;
		off += strlen(j) + 1;
		emit(s, j);
	}
	lacre_dbuf_free(&s->early);
	rc = srv_workers_run(s);
	/* every connection has ended: the checks they held are judged now */
	for (unsigned i = 0; i < s->n_wk; i++)
		srv_conn_ends(s->wk[i], 0, 1);
	for (unsigned i = 0; i < s->n_wk; i++) {
		paused |= s->wk[i]->paused;
		if (!sink_err)
			sink_err = s->wk[i]->sink_err;
	}
	{
		/* the byteCounter chains end with the stream: name every gap; with
		 * a state file they continue at the next start, and a gap that
		 * reordering may still fill stays open (srv_bctr_open) */
		void *a[2] = { s, (void *)"hi2" };
		srv_acct_lock(s);
		for (int h = 0; h < 2; h++) {
			a[1] = (void *)(h ? "hi3" : "hi2");
			if (s->cfg.state_path)
				etsi_bctr_stop(&s->bctr[h], srv_bctr_gap, srv_bctr_open, a);
			else
				etsi_bctr_finish(&s->bctr[h], srv_bctr_gap, a);
		}
		srv_acct_unlock(s);
	}
	do_flush(s, srv_mono_ms());
	paused |= s->paused;
	srv_publish(s, srv_mono_ms(), 1);
	if (s->cfg.on_second)
		s->cfg.on_second(s->cfg.on_second_arg);
	if (paused) {
		/* a last flush found no space: what it held is named above or lost */
		if (rc == LACRE_OK)
			fprintf(stderr, "lacre: ingest: ALERT spool full at stop: the last flush found no space; "
			        "records since the previous flush may not be durable\n");
		rc = LACRE_E_NOSPACE;
	}
	if (!sink_err)
		sink_err = s->sink_err;
	if (sink_err) {
		fprintf(stderr, "lacre: ingest: the sink failed (%s): stopped receiving; check the spool disk\n",
		        lacre_strerror(sink_err));
		state_save(s, srv_mono_ms(), 0);
		return sink_err;
	}
	/* the sink closes its last segments only in close(): until the caller
	 * says so (ingest_server_state_save), the file says what may be lost */
	state_save(s, srv_mono_ms(), 0);
	return rc;
}

/* Save the stream state now.  See ingest.h. */
int ingest_server_state_save(struct ingest_server *s, int all_kept)
{
	if (!s->cfg.state_path)
		return LACRE_OK;
	s->state_err_alerted = 0;
	state_save(s, srv_mono_ms(), all_kept);
	return s->state_err_alerted ? LACRE_E_IO : LACRE_OK;
}

/* Append the --stats JSON.  See ingest.h. */
int ingest_server_stats_json(const struct ingest_server *s, struct lacre_dbuf *out)
{
	struct json_w w;
	struct srv_pub p, one;
	unsigned max_open = s->max_open;

	srv_pub_sum(s, &p);
	if (s->sh) {
		pthread_mutex_lock(&s->sh->peer_mu);
		max_open = s->sh->max_open;
		pthread_mutex_unlock(&s->sh->peer_mu);
	}
	json_init(&w, out);
	json_obj_begin(&w);
	srv_acct_lock(s);
	ingest_acct_json(s->acct, &w);
	srv_acct_unlock(s);
	json_kv_uint(&w, "keepalives", p.st.keepalives);
	json_kv_uint(&w, "keepalive_responses", p.st.ka_responses);
	json_kv_uint(&w, "keepalive_response_bytes_sent", p.st.ka_resp_bytes);
	json_kv_uint(&w, "connections", p.st.accepted);
	json_kv_uint(&w, "connections_open", p.n_conns);
	json_kv_uint(&w, "connections_max_open", max_open);
	json_key(&w, "refused");
	json_obj_begin(&w);
	json_kv_uint(&w, "per_peer_limit", p.st.refused_peer);
	json_kv_uint(&w, "total_limit", p.st.refused_total);
	json_kv_uint(&w, "not_allowed", p.st.refused_allow);
	json_kv_uint(&w, "no_operator", p.st.refused_operator);
	json_obj_end(&w);
	json_key(&w, "closed");
	json_obj_begin(&w);
	json_kv_uint(&w, "by_peer", p.st.closed_eof);
	json_kv_uint(&w, "malformed", p.st.closed_malformed);
	json_kv_uint(&w, "idle", p.st.closed_idle);
	json_kv_uint(&w, "slow", p.st.closed_slow);
	json_kv_uint(&w, "unread_responses", p.st.closed_tx);
	json_kv_uint(&w, "tls", p.st.closed_tls);
	json_kv_uint(&w, "error", p.st.closed_error);
	json_kv_uint(&w, "sink", p.st.closed_sink);
	json_kv_uint(&w, "shutdown", p.st.closed_shutdown);
	json_kv_uint(&w, "memory_budget", p.st.closed_budget);
	json_obj_end(&w);
	srv_budget_json(s, &p, &w);
	json_kv_uint(&w, "pdus", p.st.pdus);
	json_kv_uint(&w, "records", p.st.records);
	json_kv_uint(&w, "bytes", p.st.bytes);
	json_kv_uint(&w, "partially_decoded", p.st.partial);
	json_kv_uint(&w, "malformed_pdus", p.st.decode_errors);
	json_kv_uint(&w, "truncated_tails", p.st.truncated_tails);
	json_kv_uint(&w, "truncated_bytes", p.st.truncated_bytes);
	json_kv_uint(&w, "anomalies", p.st.anomalies);
	json_key(&w, "encryption");
	json_obj_begin(&w);
	json_kv_uint(&w, "encrypted", p.st.encrypted);
	json_kv_uint(&w, "decrypted", p.st.decrypted);
	json_kv_uint(&w, "undecryptable", p.st.undecryptable);
	json_kv_uint(&w, "bytecounter_breaks", p.st.bctr_breaks);
	json_kv_uint(&w, "bytecounter_restarts", p.st.bctr_restarts);
	json_kv_uint(&w, "bytecounter_gaps", p.st.bctr_gaps);
	json_kv_uint(&w, "bytecounter_open", p.st.bctr_open);
	json_obj_end(&w);
	json_key(&w, "backpressure");
	json_obj_begin(&w);
	json_kv_uint(&w, "pauses", p.st.pauses);
	json_kv_uint(&w, "paused_ms", p.st.paused_ms);
	json_kv_uint(&w, "retries", p.st.retries);
	json_kv_uint(&w, "held_max", p.held_max);
	json_kv_uint(&w, "events_deferred", p.st.events_deferred);
	json_kv_uint(&w, "events_lost", p.st.events_lost);
	json_kv_uint(&w, "lost_at_stop", p.st.lost_at_stop);
	json_kv_uint(&w, "lost_bytes_at_stop", p.st.lost_bytes_at_stop);
	json_obj_end(&w);
	json_kv_uint(&w, "cut_at_stop", p.st.cut_at_stop);
	/* each worker's share (worker.c) */
	json_kv_uint(&w, "workers", s->n_wk ? s->n_wk : 1);
	json_key(&w, "per_worker");
	json_arr_begin(&w);
	for (unsigned i = 0; i < s->n_wk; i++) {
		srv_pub_get(s, i, &one);
		json_obj_begin(&w);
		json_kv_uint(&w, "connections", one.st.accepted);
		json_kv_uint(&w, "connections_open", one.n_conns);
		json_kv_uint(&w, "pdus", one.st.pdus);
		json_kv_uint(&w, "bytes", one.st.bytes);
		json_kv_uint(&w, "keepalives", one.st.keepalives);
		json_obj_end(&w);
	}
	json_arr_end(&w);
	json_obj_end(&w);
	return json_finish(&w);
}

/* Free everything.  See ingest.h. */
void ingest_server_free(struct ingest_server *s)
{
	struct peer_count *p, *n;
	int i, worker;

	if (!s)
		return;
	/* a worker other than the lead borrows the lead's listeners, TLS
	 * context, operators, accounting, chains and peer table */
	worker = s->lead && s->lead != s;
	while (s->conns)
		srv_conn_close(s, s->conns, "receiver freed", 0, NULL);
	srv_workers_free(s);
	for (i = 0; i < 2; i++)
		if (s->l[i].fd >= 0 && !s->l[i].shared)
			close(s->l[i].fd);
	for (i = 0; i < PEER_BUCKETS; i++)
		for (p = s->peers[i]; p; p = n) {
			n = p->next;
			free(p);
		}
	if (s->ep >= 0)
		close(s->ep);
	if (s->stop_fd >= 0)
		close(s->stop_fd);
	srv_inbox_free(s);
	if (s->spare_fd >= 0)
		close(s->spare_fd);
	if (!worker) {
		SSL_CTX_free(s->tls);
		ingest_op_auth_free(s->opa);
		ingest_acct_free(s->acct);
		etsi_bctr_free(&s->bctr[0]);
		etsi_bctr_free(&s->bctr[1]);
		srv_shared_free(s);
	}
	while (s->h_head) {
		struct held *h = s->h_head;
		s->h_head = h->next;
		free(h);
	}
	lacre_dbuf_free(&s->evq);
	lacre_dbuf_free(&s->early);
	lacre_dbuf_free(&s->ev);
	lacre_dbuf_free(&s->plain);
	lacre_dbuf_free(&s->pre);
	ingest_acct_batch_free(&s->ab);
	free(s->ends);
	free(s->rbuf);
	free(s);
}

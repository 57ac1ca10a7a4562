/*
 * worker.c - the receiver on every core: N worker threads, each with its
 * own epoll loop (server.c), connections, framers, decode scratch and
 * backpressure queue, so that reading, decoding and sealing run on N cores.
 *
 * Accept: the lead's two listening sockets are shared; every worker adds
 * them to its own epoll set with EPOLLEXCLUSIVE, so the kernel wakes one
 * worker per incoming connection, and it wakes one that is waiting in
 * epoll_wait - an idle one - before a busy one.  That is least-loaded
 * placement without an acceptor thread or a hand-off queue.  SO_REUSEPORT
 * listeners per worker were rejected: the kernel hashes each connection
 * to a socket whatever that worker's load, a port-0 start needs one bind
 * to learn the port before the others, and any process of the same user
 * could bind the port too and take a share of the handover.  A worker
 * whose sink has no space takes the listeners out of its own set
 * (backpressure.c), so the others keep accepting.
 *
 * What the workers share, each under its own short lock or an atomic:
 *  - the stream accounting, the byteCounter chains and the undecryptable
 *    list (acct_mu, held for one ingest_acct_* call, or for one batch: a
 *    read's data PDUs, srv_acct_apply): a stream's state is one whatever
 *    worker its connection lands on, so a mediator that reconnects to
 *    another worker raises no false gap;
 *  - the per-peer connection counts and the total (peer_mu);
 *  - the memory budget's total (an atomic; budget.c);
 *  - the sink (thread-safe: seal_sink.c seals each worker's records into
 *    that worker's own segment writers; spool_sink.c takes a lock);
 *  - the figures: every worker publishes a copy of its counters every
 *    100 ms (pub_mu), which the status file and --stats add up.
 * The lead (worker 0, the calling thread of ingest_server_run) alone runs
 * the status callback, the state file, the accounting's expiry and the
 * heap trim.  Accounting events go out through the worker whose call
 * raised them (srv_self), into that worker's own queue.
 *
 * Stop: ingest_server_stop() writes every worker's eventfd; each drains
 * its own connections; a sink failure in one stops them all.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "lacre/err.h"
#include "lacre/ingest.h"
#include "lacre/site.h"
#include "ingest/ingest_int.h"
#include "ingest/server_int.h"

#define PUBLISH_MS 100           /* a worker's figures are this old at most */

static _Thread_local struct ingest_server *tl_self;

/* The worker on this thread.  See server_int.h. */
struct ingest_server *srv_self(void)
{
	return tl_self;
}

/* Name the worker of this thread (srv_worker_loop, at its start). */
void srv_set_self(struct ingest_server *s)
{
	tl_self = s;
}

/* The accounting lock (none before the shared state exists). */
void srv_acct_lock(const struct ingest_server *s)
{
	if (s->sh)
		pthread_mutex_lock(&s->sh->acct_mu);
}

/* Release the accounting lock. */
void srv_acct_unlock(const struct ingest_server *s)
{
	if (s->sh)
		pthread_mutex_unlock(&s->sh->acct_mu);
}

/* Create the shared state (the lead, at the start of ingest_server_new). */
int srv_shared_new(struct ingest_server *lead)
{
	struct srv_shared *sh = calloc(1, sizeof(*sh));
	pthread_mutexattr_t ma;

	if (!sh)
		return LACRE_E_NOMEM;
	/* the accounting lock is held for one batch of a read, microseconds:
	 * a worker that finds it taken spins a little before it sleeps (a
	 * futex wait and wake cost more than most holds; with two workers it
	 * was one of the two most frequent reasons a worker slept, issue 15) */
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_ADAPTIVE_NP);
	pthread_mutex_init(&sh->acct_mu, &ma);
	pthread_mutexattr_destroy(&ma);
	pthread_mutex_init(&sh->peer_mu, NULL);
	pthread_mutex_init(&sh->pub_mu, NULL);
	lead->lead = lead;
	lead->sh = sh;
	return LACRE_OK;
}

/* Open s's inbox: a list under in_mu and an eventfd in its epoll set. */
static int inbox_open(struct ingest_server *s)
{
	struct epoll_event ev;

	pthread_mutex_init(&s->in_mu, NULL);
	if ((s->in_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0)
		return LACRE_E_NETWORK;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = &s->in_fd;
	return epoll_ctl(s->ep, EPOLL_CTL_ADD, s->in_fd, &ev) == 0 ? LACRE_OK : LACRE_E_NETWORK;
}

/* Close s's inbox.  See server_int.h. */
void srv_inbox_free(struct ingest_server *s)
{
	if (s->in_fd < 0)
		return;
	srv_inbox_take(s, 1);
	close(s->in_fd);
	s->in_fd = -1;
	pthread_mutex_destroy(&s->in_mu);
}

/* Apply s's accounting batch: one lock for all its PDUs.  See server_int.h. */
void srv_acct_apply(struct ingest_server *s)
{
	int last;

	if (s->ab.n == 0)
		return;
	ingest_acct_batch_prepare(&s->ab);
	srv_acct_lock(s);
	ingest_acct_batch_apply(s->acct, &s->ab);
	srv_acct_unlock(s);
	last = ingest_acct_batch_finish(&s->ab);
	if (s->ab_conn && last >= 0)
		s->ab_conn->acct_kept = (uint8_t)last;
	s->ab_conn = NULL;
}

/* Account one PDU with little under the lock.  See server_int.h.  A
 * plain data PDU joins the worker's batch (acct_batch.c), applied at the
 * end of the read; any other PDU, or one of another connection, applies
 * the batch first so that the accounting sees every PDU in order.  The
 * copy is a guess from c's last PDU (a stream's first INTEGRITY_PROBE PDUs,
 * or a chain with hash checks, are retained): a wrong guess costs a copy
 * made for nothing, or one made under the lock as before, never a
 * different result. */
int srv_acct_pdu(struct ingest_server *s, struct conn *c, const uint8_t *pdu, size_t len,
                 const struct etsi_pdu *d)
{
	struct ingest_acct_pre p;
	int r;

	if (s->ab_conn != c)
		srv_acct_apply(s);
	if (ingest_acct_batchable(d)) {
		r = ingest_acct_batch_add(&s->ab, pdu, len, d, c->listener, c->id, c->acct_kept);
		if (r != LACRE_OK) {
			/* full: apply, then once more into the empty batch */
			srv_acct_apply(s);
			r = ingest_acct_batch_add(&s->ab, pdu, len, d, c->listener, c->id, c->acct_kept);
		}
		if (r == LACRE_OK) {
			s->ab_conn = c;
			return LACRE_OK;
		}
	}
	srv_acct_apply(s);
	ingest_acct_prepare(&p, pdu, len, c->acct_kept);
	srv_acct_lock(s);
	r = ingest_acct_pdu_prepared(s->acct, pdu, len, &p, d, c->listener, c->id);
	srv_acct_unlock(s);
	c->acct_kept = (uint8_t)p.retained;
	ingest_acct_finish(&p);
	return r;
}

/* One connection more or fewer on t.  See server_int.h. */
void srv_load_add(struct ingest_server *t, int hi3, int delta)
{
	__atomic_add_fetch(&t->load, (unsigned)delta, __ATOMIC_RELAXED);
	__atomic_add_fetch(&t->load_l[hi3 ? 1 : 0], (unsigned)delta, __ATOMIC_RELAXED);
}

/* How loaded w is for one more connection from listener hi3: its count of
 * that listener's connections first (HI3 carries the content, most of the
 * bytes; HI2 the IRI: spreading each kind evenly spreads the bytes, where
 * a count of both could leave every HI3 connection on one worker when
 * HI2 and HI3 arrive in turn), then its count of all. */
static uint64_t place_cost(const struct ingest_server *w, int hi3)
{
	return ((uint64_t)__atomic_load_n(&w->load_l[hi3], __ATOMIC_RELAXED) << 32) |
	       __atomic_load_n(&w->load, __ATOMIC_RELAXED);
}

/* Place a connection s accepted.  See server_int.h.  The least-loaded
 * worker takes it (open connections of the same listener, then of both,
 * counting those handed over and not taken yet: place_cost); s itself on
 * a tie, so that a lone connection costs no hand-over. */
void srv_accepted(struct ingest_server *s, struct listener *l, int fd, const char *peer,
                  const uint8_t raw[16], uint8_t fam)
{
	struct ingest_server *g = s->lead, *t = s;
	struct srv_handoff *h;
	struct peer_count *pc = NULL;
	int hi3 = l->which == LACRE_HI3;
	uint64_t best = place_cost(s, hi3), v;
	uint64_t one = 1;
	ssize_t n;

	/* the limits are judged here, in the order connections arrive */
	if (srv_conn_admit(s, l, fd, peer, raw, fam, &pc) < 0)
		return;
	for (unsigned i = 0; i < g->n_wk; i++) {
		v = place_cost(g->wk[i], hi3);
		if (v < best && g->wk[i]->in_fd >= 0) {
			best = v;
			t = g->wk[i];
		}
	}
	srv_load_add(t, hi3, 1);
	if (t != s && (h = calloc(1, sizeof(*h))) != NULL) {
		h->fd = fd;
		h->which = l == &s->l[1];
		h->pc = pc;
		snprintf(h->peer, sizeof(h->peer), "%s", peer);
		pthread_mutex_lock(&t->in_mu);
		h->next = t->in_head;
		t->in_head = h;
		pthread_mutex_unlock(&t->in_mu);
		n = write(t->in_fd, &one, sizeof(one));
		(void)n;
		return;
	}
	if (t != s) {
		/* no memory for the hand-over: this worker takes it */
		srv_load_add(t, hi3, -1);
		srv_load_add(s, hi3, 1);
	}
	if (srv_conn_setup(s, l, fd, peer, pc) < 0)
		srv_load_add(s, hi3, -1);
}

/* Take the connections handed to s.  See server_int.h.  They are taken in
 * the order they were accepted. */
void srv_inbox_take(struct ingest_server *s, int refuse)
{
	struct srv_handoff *h, *rev = NULL, *n;
	uint64_t v;
	ssize_t r;

	if (s->in_fd < 0)
		return;
	r = read(s->in_fd, &v, sizeof(v));
	(void)r;
	pthread_mutex_lock(&s->in_mu);
	h = s->in_head;
	s->in_head = NULL;
	pthread_mutex_unlock(&s->in_mu);
	for (; h; h = n) {       /* the list is newest first: reverse it */
		n = h->next;
		h->next = rev;
		rev = h;
	}
	for (h = rev; h; h = n) {
		n = h->next;
		if (refuse || srv_stopping(s)) {
			close(h->fd);
			srv_peer_put(s, h->pc);
			srv_load_add(s, s->l[h->which].which == LACRE_HI3, -1);
		} else if (srv_conn_setup(s, &s->l[h->which], h->fd, h->peer, h->pc) < 0) {
			srv_load_add(s, s->l[h->which].which == LACRE_HI3, -1);
		}
		free(h);
	}
}

/* One more worker beside the lead: its own loop, stop eventfd, buffers
 * and view of the shared listeners. */
static int worker_new(struct ingest_server *g, unsigned idx, struct ingest_server **out)
{
	struct ingest_server *s;
	struct epoll_event ev;

	if (!(s = calloc(1, sizeof(*s))))
		return LACRE_E_NOMEM;
	s->cfg = g->cfg;
	s->sink = g->sink;
	s->lead = g;
	s->sh = g->sh;
	s->wk_index = idx;
	s->tls = g->tls;
	s->opa = g->opa;
	s->acct = g->acct;
	s->run_started = 1;
	s->ep = s->stop_fd = s->spare_fd = s->in_fd = -1;
	s->l[0] = g->l[0];
	s->l[1] = g->l[1];
	s->l[0].shared = s->l[1].shared = 1;
	lacre_dbuf_init(&s->ev, g->ev.max);
	lacre_dbuf_init(&s->evq, g->evq.max);
	lacre_dbuf_init(&s->early, g->early.max);
	lacre_dbuf_init(&s->plain, s->cfg.max_pdu);
	lacre_dbuf_set_secret(&s->plain);
	lacre_dbuf_init(&s->pre, s->cfg.max_pdu);
	lacre_dbuf_set_secret(&s->pre);
	ingest_acct_batch_init(&s->ab);
	*out = s;
	if (!(s->rbuf = malloc(SRV_READ_CHUNK)))
		return LACRE_E_NOMEM;
	if ((s->ep = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
	    (s->stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0)
		return LACRE_E_NETWORK;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = &s->stop_fd;
	if (epoll_ctl(s->ep, EPOLL_CTL_ADD, s->stop_fd, &ev) != 0)
		return LACRE_E_NETWORK;
	for (int i = 0; i < 2; i++) {
		if (s->l[i].fd < 0)
			continue;
		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLIN | EPOLLEXCLUSIVE;
		ev.data.ptr = &s->l[i];
		if (epoll_ctl(s->ep, EPOLL_CTL_ADD, s->l[i].fd, &ev) != 0)
			return LACRE_E_NETWORK;
	}
	s->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	return inbox_open(s);
}

/* Create the other workers.  See server_int.h. */
int srv_workers_new(struct ingest_server *g)
{
	unsigned n = g->cfg.workers ? g->cfg.workers : 1;
	int r;

	if (n > INGEST_WORKERS_MAX)
		n = INGEST_WORKERS_MAX;
	if (!(g->wk = calloc(n, sizeof(*g->wk))) || !(g->sh->pub = calloc(n, sizeof(*g->sh->pub))))
		return LACRE_E_NOMEM;
	g->wk[0] = g;
	g->n_wk = 1;
	if ((r = inbox_open(g)) != LACRE_OK)
		return r;
	for (unsigned i = 1; i < n; i++) {
		struct ingest_server *w = NULL;
		r = worker_new(g, i, &w);
		if (w)
			g->wk[g->n_wk++] = w;
		if (r != LACRE_OK)
			return r;
	}
	return LACRE_OK;
}

/* Thread body of a worker other than the lead. */
static void *worker_main(void *arg)
{
	struct ingest_server *s = arg;
	char name[16];

	/* named, so that per-thread CPU (/proc/PID/task/TID/comm, top -H,
	 * bench/ingest_workers.sh) tells the workers apart */
	snprintf(name, sizeof(name), "lacre-wk%u", s->wk_index);
	pthread_setname_np(pthread_self(), name);
	s->wk_rc = srv_worker_loop(s);
	return NULL;
}

/* The saver thread: writes each state the lead hands it (site_write_file:
 * temporary file, fsync, rename, folder fsync), so that no worker's loop
 * waits for that disk sync.  A failure is one ALERT line per run of
 * failures; the next state comes 250 ms later. */
static void *saver_main(void *arg)
{
	struct ingest_server *g = arg;
	struct srv_shared *sh = g->sh;
	struct ingest_acct_snap snap;
	struct lacre_dbuf d;
	int r;

	pthread_setname_np(pthread_self(), "lacre-saver");
	for (;;) {
		pthread_mutex_lock(&sh->saver_mu);
		while (!sh->saver_has && !sh->saver_stop)
			pthread_cond_wait(&sh->saver_cv, &sh->saver_mu);
		if (!sh->saver_has) {
			pthread_mutex_unlock(&sh->saver_mu);
			break;
		}
		d = sh->saver_buf;
		snap = sh->saver_snap;
		memset(&sh->saver_buf, 0, sizeof(sh->saver_buf));
		sh->saver_has = 0;
		sh->saver_busy = 1;
		pthread_mutex_unlock(&sh->saver_mu);
		r = site_write_file(g->cfg.state_path, d.p, d.len, 0600);
		lacre_dbuf_free(&d);
		if (r == LACRE_OK) {
			srv_acct_lock(g);
			ingest_acct_state_saved(g->acct, &snap);
			srv_acct_unlock(g);
			sh->saver_alerted = 0;
		} else if (!sh->saver_alerted) {
			sh->saver_alerted = 1;
			fprintf(stderr, "lacre: ingest: ALERT cannot write the stream state %s (%s): a restart may "
			        "report gaps that are not real; check that disk\n", g->cfg.state_path,
			        lacre_strerror(r));
		}
		pthread_mutex_lock(&sh->saver_mu);
		sh->saver_busy = 0;
		pthread_mutex_unlock(&sh->saver_mu);
	}
	return NULL;
}

/* 1 while the saver is at work.  See server_int.h. */
int srv_saver_busy(const struct ingest_server *s)
{
	struct srv_shared *sh = s->sh;
	int busy;

	if (!sh->saver_on)
		return 0;
	pthread_mutex_lock(&sh->saver_mu);
	busy = sh->saver_busy || sh->saver_has;
	pthread_mutex_unlock(&sh->saver_mu);
	return busy;
}

/* Hand a state to the saver.  See server_int.h. */
int srv_saver_hand(struct ingest_server *s, struct lacre_dbuf *d, const struct ingest_acct_snap *snap)
{
	struct srv_shared *sh = s->sh;
	int taken = 0;

	if (!sh->saver_on)
		return 0;
	pthread_mutex_lock(&sh->saver_mu);
	if (!sh->saver_has && !sh->saver_busy) {
		sh->saver_buf = *d;
		sh->saver_snap = *snap;
		sh->saver_has = 1;
		taken = 1;
		pthread_cond_signal(&sh->saver_cv);
	}
	pthread_mutex_unlock(&sh->saver_mu);
	return taken;
}

/* Run every worker.  See server_int.h. */
int srv_workers_run(struct ingest_server *g)
{
	pthread_t *th = calloc(g->n_wk, sizeof(*th));
	sigset_t all, old;
	unsigned started = 1;
	int rc;

	if (!th)
		return LACRE_E_NOMEM;
	/* the workers take no signals: the caller's thread handles them
	 * (ingest_server_stop is safe there) */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (unsigned i = 1; i < g->n_wk; i++) {
		if (pthread_create(&th[i], NULL, worker_main, g->wk[i]) != 0) {
			fprintf(stderr, "lacre: ingest: cannot start worker %u of %u (%s): running with %u; "
			        "lower --workers or raise the thread limit\n", i + 1, g->n_wk, strerror(errno),
			        started);
			break;
		}
		started++;
	}
	if (g->cfg.state_path) {
		pthread_mutex_init(&g->sh->saver_mu, NULL);
		pthread_cond_init(&g->sh->saver_cv, NULL);
		g->sh->saver_on = pthread_create(&g->sh->saver, NULL, saver_main, g) == 0;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	rc = srv_worker_loop(g);
	for (unsigned i = 1; i < started; i++) {
		pthread_join(th[i], NULL);
		if (rc == LACRE_OK)
			rc = g->wk[i]->wk_rc;
	}
	if (g->sh->saver_on) {
		/* the last state is written by the caller, after the drain */
		pthread_mutex_lock(&g->sh->saver_mu);
		g->sh->saver_stop = 1;
		pthread_cond_signal(&g->sh->saver_cv);
		pthread_mutex_unlock(&g->sh->saver_mu);
		pthread_join(g->sh->saver, NULL);
		g->sh->saver_on = 0;
		lacre_dbuf_free(&g->sh->saver_buf);
		pthread_mutex_destroy(&g->sh->saver_mu);
		pthread_cond_destroy(&g->sh->saver_cv);
	}
	free(th);
	srv_set_self(NULL);
	return rc;
}

/* Free the other workers and the shared state.  See server_int.h. */
void srv_workers_free(struct ingest_server *g)
{
	if (!g || g->lead != g)
		return;
	for (unsigned i = 1; i < g->n_wk; i++)
		ingest_server_free(g->wk[i]);
	free(g->wk);
	g->wk = NULL;
	g->n_wk = 0;
}

/* Free the shared state (the lead, last). */
void srv_shared_free(struct ingest_server *g)
{
	if (!g->sh)
		return;
	pthread_mutex_destroy(&g->sh->acct_mu);
	pthread_mutex_destroy(&g->sh->peer_mu);
	pthread_mutex_destroy(&g->sh->pub_mu);
	free(g->sh->pub);
	free(g->sh);
	g->sh = NULL;
}

/* Publish s's figures.  See server_int.h. */
void srv_publish(struct ingest_server *s, int64_t now, int force)
{
	struct srv_pub *p;

	if (!s->sh || !s->sh->pub || (!force && now - s->last_pub_ms < PUBLISH_MS))
		return;
	s->last_pub_ms = now;
	p = &s->sh->pub[s->wk_index];
	pthread_mutex_lock(&s->sh->pub_mu);
	p->st = s->st;
	p->n_conns = s->n_conns;
	p->mem_pend = s->mem_pend;
	p->held_bytes = s->held_bytes;
	p->held_n = s->held_n;
	p->held_max = s->st_held_max;
	p->paused = (uint64_t)s->paused;
	pthread_mutex_unlock(&s->sh->pub_mu);
}

/* a += b, member by member (struct srv_stats is all uint64_t). */
static void stats_add(struct srv_stats *a, const struct srv_stats *b)
{
	uint64_t *pa = (uint64_t *)a;
	const uint64_t *pb = (const uint64_t *)b;

	_Static_assert(sizeof(*a) % sizeof(uint64_t) == 0, "srv_stats holds only uint64_t");
	for (size_t i = 0; i < sizeof(*a) / sizeof(uint64_t); i++)
		pa[i] += pb[i];
}

/* Every worker's figures added up.  See server_int.h.  Before the first
 * publication (no run yet) the lead's own figures are used. */
void srv_pub_sum(const struct ingest_server *g, struct srv_pub *out)
{
	memset(out, 0, sizeof(*out));
	if (!g->sh || !g->sh->pub || g->n_wk == 0) {
		out->st = g->st;
		out->n_conns = g->n_conns;
		out->mem_pend = g->mem_pend;
		out->held_bytes = g->held_bytes;
		out->held_n = g->held_n;
		out->held_max = g->st_held_max;
		out->paused = (uint64_t)g->paused;
		return;
	}
	pthread_mutex_lock(&g->sh->pub_mu);
	for (unsigned i = 0; i < g->n_wk; i++) {
		const struct srv_pub *p = &g->sh->pub[i];
		stats_add(&out->st, &p->st);
		out->n_conns += p->n_conns;
		out->mem_pend += p->mem_pend;
		out->held_bytes += p->held_bytes;
		out->held_n += p->held_n;
		out->held_max += p->held_max;
		out->paused |= p->paused;
	}
	pthread_mutex_unlock(&g->sh->pub_mu);
}

/* One worker's published figures (the status file's per-worker lines). */
void srv_pub_get(const struct ingest_server *g, unsigned i, struct srv_pub *out)
{
	memset(out, 0, sizeof(*out));
	if (!g->sh || !g->sh->pub || i >= g->n_wk)
		return;
	pthread_mutex_lock(&g->sh->pub_mu);
	*out = g->sh->pub[i];
	pthread_mutex_unlock(&g->sh->pub_mu);
}

/*
 * backpressure.c - the receiver while its sink has no space.
 *
 * When sink->record, event or flush answers LACRE_E_NOSPACE ("local
 * storage full or its quota reached; the input was NOT taken") nothing is
 * lost and nothing is counted: the PDU is copied into a FIFO of held PDUs,
 * with everything its connection had already read after it, and that
 * connection is no longer read, so TCP backpressure reaches the mediator.
 * Other connections are read a little at a time (server.c, PAUSE_PEEK) so
 * their keep-alives are still answered, until they too hold a PDU; events
 * the sink refuses wait in order in a queue, and while any wait nothing is
 * read or accepted.  Everything waiting is retried in order every RETRY_MS
 * and at each flush; one ALERT line marks pausing and one resuming.  At a
 * stop, what still cannot be kept is named on stderr per connection.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "lacre/err.h"
#include "lacre/ingest.h"
#include "ingest/server_int.h"

/* Append a PDU of c to the held FIFO (a copy: the framer's bytes are
 * transient).  LACRE_E_NOMEM stops the receiver: it must not read what it
 * cannot keep. */
int srv_hold_add(struct ingest_server *s, struct conn *c, const uint8_t *pdu, size_t len,
                    uint64_t off)
{
	struct held *h;

	if (!(h = malloc(sizeof(*h) + len))) {
		if (!s->sink_err)
			s->sink_err = LACRE_E_NOMEM;
		return LACRE_E_NOMEM;
	}
	h->next = NULL;
	h->c = c;
	h->conn_id = c->id;
	h->off = off;
	h->listener = c->listener;
	memcpy(h->peer, c->peer, sizeof(h->peer));
	memcpy(h->operator_name, c->operator_name, sizeof(h->operator_name));
	h->len = len;
	memcpy(h->b, pdu, len);
	if (s->h_tail)
		s->h_tail->next = h;
	else
		s->h_head = h;
	s->h_tail = h;
	s->held_n++;
	s->held_bytes += len;
	srv_budget_add(s, len);
	if (s->held_n > s->st_held_max)
		s->st_held_max = s->held_n;
	if (c->n_held++ == 0)
		srv_conn_watch(s, c);
	return LACRE_OK;
}

/* Take the listeners out of the epoll set (1) or put them back (0). */
static void listeners_mute(struct ingest_server *s, int mute)
{
	struct epoll_event ev;
	int i;

	for (i = 0; i < 2; i++) {
		if (s->l[i].fd < 0 || s->l[i].stopped)
			continue;
		if (mute) {
			epoll_ctl(s->ep, EPOLL_CTL_DEL, s->l[i].fd, NULL);
			continue;
		}
		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLIN | EPOLLEXCLUSIVE;   /* shared by the workers */
		ev.data.ptr = &s->l[i];
		epoll_ctl(s->ep, EPOLL_CTL_ADD, s->l[i].fd, &ev);
	}
}

/* Re-evaluate every connection's epoll interest (pause state changed). */
static void watch_all(struct ingest_server *s)
{
	struct conn *c;

	for (c = s->conns; c; c = c->next)
		if (c->state == CS_OPEN)
			srv_conn_watch(s, c);
}

/* While events wait for space nothing more may happen that logs one: no
 * connection is read and no new one accepted (the kernel's backlog holds
 * them).  Called whenever the paused state or the event queue changes. */
void srv_hard_block_update(struct ingest_server *s)
{
	int want = s->paused && s->evq.len > 0 && !srv_stopping(s);

	if (want == s->listeners_muted)
		return;
	s->listeners_muted = want;
	listeners_mute(s, want);
	watch_all(s);
}

/* The sink answered LACRE_E_NOSPACE for what: stop reading (connections
 * that hold nothing are still peeked for keep-alives), with one ALERT line
 * (only on entering the state). */
void srv_pause_enter(struct ingest_server *s, const char *what)
{
	const char *why;

	if (s->paused)
		return;
	why = s->sink->refusal ? s->sink->refusal(s->sink->ctx) : NULL;
	s->paused = 1;
	s->paused_behind = why != NULL;
	s->pause_start_ms = s->last_retry_ms = srv_mono_ms();
	s->st.pauses++;
	fprintf(stderr, "lacre: ingest: ALERT %s (the sink refused %s); reading paused, nothing is "
	        "discarded: the data is held and retried every %d ms%s\n",
	        why ? why : "spool full: local storage full or its quota reached", what, RETRY_MS,
	        why ? "" : "; free space on the spool disk");
	srv_hard_block_update(s);
	watch_all(s);
}

/* Everything held was taken: read and accept again, one ALERT line. */
static void pause_leave(struct ingest_server *s, int64_t now)
{
	struct conn *c;
	int64_t ms = now - s->pause_start_ms;

	s->paused = 0;
	s->st.paused_ms += (uint64_t)ms;
	fprintf(stderr, "lacre: ingest: %s: reading resumed after %" PRId64 ".%01d s\n",
	        s->paused_behind ? "the sink takes records again" : "spool has room again", ms / 1000,
	        (int)(ms % 1000 / 100));
	srv_hard_block_update(s);
	for (c = s->conns; c; c = c->next) {
		if (c->state != CS_OPEN)
			continue;
		c->last_rx_ms = now;
		srv_conn_watch(s, c);
		if (c->ssl)
			srv_ready_add(s, c);      /* OpenSSL may hold decrypted bytes */
	}
}

/* Free the held PDUs of c that follow one it could not use (they were read
 * after a malformed PDU: the connection is closed as the framer would). */
static void hold_drop_conn(struct ingest_server *s, struct conn *c)
{
	struct held **pp = &s->h_head, *h;

	s->h_tail = NULL;
	while ((h = *pp)) {
		if (h->c == c) {
			*pp = h->next;
			s->held_n--;
			s->held_bytes -= h->len;
			srv_budget_sub(s, h->len);
			free(h);
			continue;
		}
		s->h_tail = h;
		pp = &h->next;
	}
	c->n_held = 0;
}

/* Retry what waits for space, in order: queued events, a flush, then the
 * held PDUs.  Stops at the first LACRE_E_NOSPACE; leaves the paused state
 * when everything was taken. */
void srv_pause_retry(struct ingest_server *s, int64_t now)
{
	struct held *h;
	struct conn *c, ghost;
	char why[128];
	int r;

	s->last_retry_ms = now;
	s->st.retries++;
	while (s->evq.len) {
		const char *j = (const char *)s->evq.p;
		size_t l = strlen(j) + 1;
		if ((r = s->sink->event(s->sink->ctx, j)) == LACRE_E_NOSPACE)
			return;
		if (r != LACRE_OK) {
			if (!s->sink_err)
				s->sink_err = r;
			return;
		}
		lacre_dbuf_consume(&s->evq, l);
		s->dirty = 1;
	}
	srv_hard_block_update(s);
	if (s->flush_pending) {
		if ((r = s->sink->flush(s->sink->ctx)) == LACRE_E_NOSPACE)
			return;
		if (r != LACRE_OK && !s->sink_err)
			s->sink_err = r;
		s->flush_pending = 0;
	}
	while ((h = s->h_head) && !s->sink_err) {
		c = h->c;
		if (!c) {
			/* its connection closed meanwhile: its identity is in h */
			memset(&ghost, 0, sizeof(ghost));
			ghost.srv = s;
			ghost.fd = -1;
			ghost.id = h->conn_id;
			ghost.listener = h->listener;
			memcpy(ghost.peer, h->peer, sizeof(ghost.peer));
			memcpy(ghost.operator_name, h->operator_name, sizeof(ghost.operator_name));
			lacre_dbuf_init(&ghost.tx, 4096);
			c = &ghost;
		}
		s->decode_err = 0;
		r = srv_handle_pdu(s, c, h->b, h->len, h->off);
		srv_acct_apply(s);              /* before c may be the ghost no more */
		/* named on disk as after a read (record.h read_done) */
		if (r == LACRE_OK && s->sink->read_done)
			s->sink->read_done(s->sink->ctx);
		if (c == &ghost)
			lacre_dbuf_free(&ghost.tx);
		if (r == LACRE_E_NOSPACE)
			return;
		s->h_head = h->next;
		if (!s->h_head)
			s->h_tail = NULL;
		s->held_n--;
		s->held_bytes -= h->len;
		srv_budget_sub(s, h->len);
		if (c != &ghost)
			c->n_held--;
		if (r != LACRE_OK && c != &ghost && !s->sink_err) {
			/* as conn_feed() would have closed it */
			if (s->decode_err)
				snprintf(why, sizeof(why), "undecodable PDU at offset %" PRIu64 ": %s", h->off,
				         lacre_strerror(s->decode_err));
			hold_drop_conn(s, c);
			srv_conn_close(s, c, s->decode_err ? why : srv_frame_reason(r, why, sizeof(why), c), 1,
			           s->decode_err ? &s->st.closed_malformed : &s->st.closed_tx);
		} else if (c != &ghost && c->n_held == 0) {
			c->last_rx_ms = now;
			srv_conn_watch(s, c);
			if (c->tx.len && srv_conn_flush_tx(s, c) < 0) {
				free(h);
				continue;
			}
			if (c->ssl)
				srv_ready_add(s, c);
		}
		free(h);
		if (s->evq.len)
			return;               /* its events wait: keep the order */
	}
	if (!s->sink_err && !s->h_head && !s->evq.len && !s->flush_pending)
		pause_leave(s, now);
}

/* Name on stderr the held PDUs that could not be sealed at stop, one line
 * per connection (consecutive entries), and free them. */
void srv_report_lost_held(struct ingest_server *s)
{
	struct held *h, *n;
	uint64_t cnt = 0, bytes = 0, first = 0, last = 0;

	for (h = s->h_head; h; h = n) {
		n = h->next;
		if (!cnt)
			first = h->off;
		cnt++;
		bytes += h->len;
		last = h->off;
		if (!n || n->conn_id != h->conn_id) {
			fprintf(stderr, "lacre: ingest: ALERT %s at stop: %" PRIu64 " PDUs (%" PRIu64
			        " bytes) of conn %" PRIu64 " %s %s at stream offsets %" PRIu64 "..%" PRIu64
			        " could not be sealed and are lost: the %s for %u.%01u s after the stop\n",
			        s->paused_behind ? "sealing behind" : "spool full", cnt, bytes, h->conn_id,
			        h->peer, h->listener == LACRE_HI2 ? "hi2" : "hi3", first, last,
			        s->paused_behind ? "sink kept refusing" : "spool stayed full",
			        s->cfg.stop_nospace_ms / 1000, s->cfg.stop_nospace_ms % 1000 / 100);
			s->st.lost_at_stop += cnt;
			s->st.lost_bytes_at_stop += bytes;
			cnt = bytes = 0;
		}
		free(h);
	}
	s->h_head = s->h_tail = NULL;
	srv_budget_sub(s, s->held_bytes);
	s->held_n = s->held_bytes = 0;
}

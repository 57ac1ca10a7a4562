/*
 * budget.c - one memory budget across all of the receiver's connections.
 *
 * Each connection's framer keeps the bytes of one incomplete PDU, which may
 * be declared up to --max-pdu long; without a total, a few hundred peers
 * that declare large PDUs and trickle them would take gigabytes.  So every
 * framer's allocation (ingest_framer_allocated: what the memory really
 * costs, not what was declared) and every PDU held for want of spool space
 * (backpressure.c) count in one total, bounded by cfg.memory_budget.
 *
 * Before bytes are read from a connection, srv_budget_admit() asks the
 * framer how much its buffer may grow to hold them (a bound on bytes that
 * arrive, never on a declared length: a trickling sender holds only what it
 * sent).  When that growth does not fit, the incomplete PDU that costs most
 * is refused (the largest allocation, then the most bytes, then the oldest
 * PDU; the reader's own included), until it fits.  A refusal is a
 * `memory-budget` event naming the peer, the bytes held and the budget,
 * then the usual `truncated-tail` event with the refused bytes (every byte
 * received is in the spool), and the buffer is freed at once; the
 * connection is taken out of the read set and closed after the current
 * event batch (srv_budget_reap), since a later event of that batch may
 * still name it.  A complete PDU is never refused: what the sink took is
 * kept, and PDUs held for want of space are only counted (when nothing
 * incomplete is left to refuse, the read goes ahead: their bound is the
 * backpressure's, at most about one read per connection while paused).
 *
 * Small PDUs from a legitimate mediator are delivered from the read buffer
 * and cost nothing here, so the refusals fall on the hogs.
 *
 * Workers (worker.c): the total is one counter for every worker (an
 * atomic, no lock); the victim is the costliest incomplete PDU of the
 * worker that reads, since each worker's connections are its own.  A
 * read's growth is reserved on the total before the read, in one atomic
 * step, so workers never pass the budget together.  When the reading
 * worker holds no incomplete PDU to refuse, the read goes ahead
 * unreserved (only complete PDUs are held, which are never refused): the
 * total may then pass the budget by that read's growth, and the next read
 * of any worker refuses its costliest PDU.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "lacre/err.h"
#include "lacre/ingest.h"
#include "lacre/json.h"
#include "ingest/ingest_int.h"
#include "ingest/server_int.h"

/* Bytes the budget counts now, in every worker: incomplete PDUs and held
 * PDUs. */
size_t srv_budget_used(const struct ingest_server *s)
{
	return __atomic_load_n(&s->sh->mem_used, __ATOMIC_RELAXED);
}

/* The shared peak follows used, and this worker's own. */
static void budget_peak(struct ingest_server *s, size_t used)
{
	size_t max = __atomic_load_n(&s->sh->mem_max, __ATOMIC_RELAXED);

	while (used > max &&
	       !__atomic_compare_exchange_n(&s->sh->mem_max, &max, used, 0, __ATOMIC_RELAXED,
	                                    __ATOMIC_RELAXED))
		;
	if (s->mem_pend + s->held_bytes > s->mem_max)
		s->mem_max = s->mem_pend + s->held_bytes;
}

/* n more bytes counted (this worker's part changed); the peak follows. */
void srv_budget_add(struct ingest_server *s, size_t n)
{
	budget_peak(s, __atomic_add_fetch(&s->sh->mem_used, n, __ATOMIC_RELAXED));
}

/* Count n more bytes only if the total stays within the budget, in one
 * atomic step (two workers checking, then both adding, would pass it):
 * 1 when reserved, 0 when it would not fit. */
static int budget_reserve(struct ingest_server *s, size_t n)
{
	size_t used = __atomic_load_n(&s->sh->mem_used, __ATOMIC_RELAXED);

	while (used <= s->cfg.memory_budget && s->cfg.memory_budget - used >= n)
		if (__atomic_compare_exchange_n(&s->sh->mem_used, &used, used + n, 0, __ATOMIC_RELAXED,
						__ATOMIC_RELAXED)) {
			budget_peak(s, used + n);
			return 1;
		}
	return 0;
}

/* n fewer bytes counted. */
void srv_budget_sub(struct ingest_server *s, size_t n)
{
	__atomic_sub_fetch(&s->sh->mem_used, n, __ATOMIC_RELAXED);
}

/* Count c's framer allocation as it is now (after a feed or a free). */
void srv_budget_sync(struct ingest_server *s, struct conn *c)
{
	size_t now = ingest_framer_allocated(&c->fr), was = c->mem_acct;

	s->mem_pend = s->mem_pend - was + now;
	c->mem_acct = now;
	if (now > was)
		srv_budget_add(s, now - was);
	else if (was > now)
		srv_budget_sub(s, was - now);
}

/* c is being closed: its framer was freed, stop counting it. */
void srv_budget_forget(struct ingest_server *s, struct conn *c)
{
	srv_budget_sync(s, c);
	if (c->budget_refused) {
		c->budget_refused = 0;
		s->n_budget_refused--;
	}
}

/* 1 when a costs more than b: larger allocation, then more bytes held,
 * then the older PDU, then the older connection. */
static int costlier(const struct conn *a, const struct conn *b)
{
	size_t la = ingest_framer_pending(&a->fr), lb = ingest_framer_pending(&b->fr);

	if (a->mem_acct != b->mem_acct)
		return a->mem_acct > b->mem_acct;
	if (la != lb)
		return la > lb;
	if (a->pdu_start_ms != b->pdu_start_ms)
		return a->pdu_start_ms < b->pdu_start_ms;
	return a->id < b->id;
}

/* The incomplete PDU that costs most, or NULL when none is held. */
static struct conn *pick_victim(struct ingest_server *s)
{
	struct conn *c, *v = NULL;

	for (c = s->conns; c; c = c->next)
		if (!c->budget_refused && c->mem_acct > 0 && (!v || costlier(c, v)))
			v = c;
	return v;
}

/* Refuse v's incomplete PDU to make room for a read of `reader`: the
 * memory-budget event, its bytes as a truncated tail, the buffer freed,
 * v out of the read set until srv_budget_reap() closes it. */
static void refuse(struct ingest_server *s, struct conn *v, const struct conn *reader,
                   size_t want)
{
	struct json_w w;
	size_t held = ingest_framer_pending(&v->fr), used = srv_budget_used(s);
	int64_t now = srv_mono_ms();

	srv_event_begin(s, &w, "memory-budget", v);
	json_kv_uint(&w, "offset", v->fr.offset);
	json_kv_uint(&w, "bytes", held);
	json_kv_uint(&w, "allocated", v->mem_acct);
	if (v->fr.need)
		json_kv_uint(&w, "declared", v->fr.need);
	json_kv_uint(&w, "age_ms", v->pdu_start_ms ? (uint64_t)(now - v->pdu_start_ms) : 0);
	json_kv_uint(&w, "budget", s->cfg.memory_budget);
	json_kv_uint(&w, "in_use", used);
	json_kv_uint(&w, "needed", want);
	json_kv_uint(&w, "for_conn", reader->id);
	json_kv_str(&w, "what", "incomplete PDU refused: the receiver's memory budget is spent; "
	            "it cost the most of all incomplete PDUs");
	json_kv_bool(&w, "alert", 1);
	srv_event_end(s, &w);
	v->tail_refused = srv_conn_tail_event(s, v);
	s->st.budget_refusals++;
	s->st.budget_refused_bytes += held;
	ingest_framer_free(&v->fr);
	srv_budget_sync(s, v);
	v->budget_refused = 1;
	s->n_budget_refused++;
	srv_conn_watch(s, v);
}

/* Make room for what c's framer may allocate to hold n more bytes.  See
 * server_int.h. */
int srv_budget_admit(struct ingest_server *s, struct conn *c, size_t n)
{
	size_t bound = ingest_framer_grow_bound(&c->fr, n), grow;
	struct conn *v;

	if (bound <= c->mem_acct)
		return 0;
	grow = bound - c->mem_acct;
	for (;;) {
		/* the growth is counted on c before the read (the next
		 * srv_budget_sync replaces it by what the framer holds) */
		if (budget_reserve(s, grow)) {
			c->mem_acct += grow;
			s->mem_pend += grow;
			return 0;
		}
		if (!(v = pick_victim(s)))
			return 0;     /* only complete PDUs held for space: never refused */
		refuse(s, v, c, grow);
		if (v == c)
			return -1;
	}
}

/* Close the connections refused since the last call.  See server_int.h. */
void srv_budget_reap(struct ingest_server *s)
{
	struct conn *c, *n;
	char why[160];

	for (c = s->conns; c && s->n_budget_refused; c = n) {
		n = c->next;
		if (!c->budget_refused)
			continue;
		snprintf(why, sizeof(why), "incomplete PDU of %zu bytes refused: the memory budget of %zu bytes "
		         "was spent (largest incomplete PDU refused first)", c->tail_refused,
		         s->cfg.memory_budget);
		srv_conn_close(s, c, why, 1, &s->st.closed_budget);
	}
}

/* The --stats member "memory_budget". */
void srv_budget_json(const struct ingest_server *s, const struct srv_pub *p, struct json_w *w)
{
	json_key(w, "memory_budget");
	json_obj_begin(w);
	json_kv_uint(w, "budget", s->cfg.memory_budget);
	json_kv_uint(w, "in_use", srv_budget_used(s));
	json_kv_uint(w, "incomplete_bytes", p->mem_pend);
	json_kv_uint(w, "held_bytes", p->held_bytes);
	json_kv_uint(w, "in_use_max", __atomic_load_n(&s->sh->mem_max, __ATOMIC_RELAXED));
	json_kv_uint(w, "refusals", p->st.budget_refusals);
	json_kv_uint(w, "refused_bytes", p->st.budget_refused_bytes);
	json_obj_end(w);
}

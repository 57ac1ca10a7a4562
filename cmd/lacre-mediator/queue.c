/*
 * queue.c - the per-handover send queues of lacre-mediator, the accounting
 * of what was written, resends after reconnects, and the --output file sink.
 *
 * A handover's queue is a byte buffer of whole PDUs plus a ring of their
 * metadata; the head PDU starts at out_off and head_done of its bytes have
 * been written.  A PDU is accounted (summary counts, history for resends)
 * when its last byte has been written.  The counters of net_int.h are kept
 * here, next to every change of a queue.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "lacre/err.h"
#include "lacre/etsi.h"
#include "lacre/etsi_enc.h"
#include "net_int.h"

/* Put h on the dirty list (work for do_write) unless it is there. */
void net_mark_dirty(struct med_net *nt, struct ho *h)
{
	if (h->dirty || nt->output)
		return;
	h->dirty = 1;
	nt->dirty[nt->n_dirty++] = h->idx;
}

/* Keep nt->n_over in step with h's queued bytes. */
void net_room_update(struct med_net *nt, struct ho *h)
{
	int over = h->out.len - h->out_off > ROOM_MARK;

	if (over != h->over) {
		h->over = over;
		if (over)
			nt->n_over++;
		else
			nt->n_over--;
	}
}

/* Set or clear h's outstanding keep-alive, keeping nt->ka_outs in step. */
void net_ka_set(struct med_ctx *m, struct ho *h, int out)
{
	struct med_net *nt = m->net;
	int counted = h->ka_out && m->o.keepalive_wait > 0;

	h->ka_out = out;
	if (counted && !(out && m->o.keepalive_wait > 0))
		nt->ka_outs--;
	else if (!counted && out && m->o.keepalive_wait > 0)
		nt->ka_outs++;
}

/* One --sent-log line for data PDU p (q) completely written on h:
 * "<handover> <connection> <local port> <liid>/<cin>/<iri|cc> <seq> <length>"
 * (docs/FORMATS.md §7), the sequence number read back from the bytes sent
 * ("-" when they carry none).  A receiver test checks per connection what was sent after
 * the last record the receiver sealed or named (issue 15). */
static void sent_log_line(struct med_ctx *m, const struct ho *h, const struct qpdu *q, const uint8_t *p)
{
	const struct med_stream *s = &m->streams[q->stream];
	struct etsi_pdu d;

	if (etsi_decode(p, q->len, &d) == LACRE_OK && d.has_seq)
		fprintf(m->net->sent_log, "%s %lu %u %s/%u/%s %llu %u\n", h->name, h->conn_no, h->lport,
		    m->liids[s->target], s->cin, s->cc ? "cc" : "iri", (unsigned long long)d.seq, q->len);
	else
		fprintf(m->net->sent_log, "%s %lu %u %s/%u/%s - %u\n", h->name, h->conn_no, h->lport,
		    m->liids[s->target], s->cin, s->cc ? "cc" : "iri", q->len);
}

int net_sent_log_close(struct med_net *nt)
{
	int bad;

	if (!nt->sent_log)
		return LACRE_OK;
	bad = ferror(nt->sent_log) | fclose(nt->sent_log);
	nt->sent_log = NULL;
	if (bad) {
		med_log("writing the sent log failed: disk full?");
		return LACRE_E_IO;
	}
	return LACRE_OK;
}

/* Count a completely written PDU; remember data PDUs for resends. */
void net_account(struct med_ctx *m, struct ho *h, const struct qpdu *q, const uint8_t *p)
{
	m->st.pdus_sent++;
	switch (q->cls) {
	case MED_CLS_DATA:
		if (q->dup) {
			m->st.inj_duplicates++;
			break;
		}
		m->st.data_pdus_sent++;
		if (q->stream >= 0 && (size_t)q->stream < m->n_streams) {
			m->streams[q->stream].sent++;
			if (m->net->sent_log && p)
				sent_log_line(m, h, q, p);
		}
		if (h->hist && p) {
			struct hist *e = &h->hist[h->hist_pos];
			uint8_t *c = realloc(e->p, q->len);
			if (c) {
				memcpy(c, p, q->len);
				e->p = c;
				e->len = q->len;
				e->stream = q->stream;
				h->hist_pos = (h->hist_pos + 1) % m->o.resend_after_reconnect;
				if (h->hist_n < m->o.resend_after_reconnect)
					h->hist_n++;
			}
		}
		break;
	case MED_CLS_INTEGRITY: m->st.integrity_sent++; break;
	case MED_CLS_RESET: m->st.resets_sent++; break;
	case MED_CLS_HI1: m->st.hi1_sent++; break;
	case MED_CLS_KEEPALIVE: m->st.keepalives_sent++; break;
	default: break;
	}
}

/* Append a PDU to h's queue; an UP handover gets work for do_write. */
int net_enqueue(struct med_net *nt, struct ho *h, const uint8_t *p, size_t n, int cls,
    int32_t stream, int dup, uint64_t ka_seq)
{
	int r;

	if (h->qn == h->qcap) {
		size_t nc = h->qcap ? h->qcap * 2 : 64, i;
		struct qpdu *q = malloc(nc * sizeof(*q));
		if (!q)
			return LACRE_E_NOMEM;
		for (i = 0; i < h->qn; i++)
			q[i] = h->q[(h->qh + i) % h->qcap];
		free(h->q);
		h->q = q;
		h->qh = 0;
		h->qcap = nc;
	}
	if ((r = lacre_dbuf_add(&h->out, p, n)) != 0)
		return r;
	h->q[(h->qh + h->qn) % h->qcap] = (struct qpdu){ (uint32_t)n, (int8_t)cls, (uint8_t)dup, stream, ka_seq };
	h->qn++;
	nt->queued++;
	net_room_update(nt, h);
	if (h->state == ST_UP && !h->blocked)
		net_mark_dirty(nt, h);
	return 0;
}

/* Queue (or, with --output, write) one PDU. */
int med_sink_put(struct med_ctx *m, const struct med_meta *meta, const uint8_t *p, size_t n)
{
	struct med_net *nt = m->net;
	struct ho *h;
	struct qpdu q;

	if (meta->cls != MED_CLS_KEEPALIVE)
		m->st.generated++;
	h = &nt->h[2 * (meta->pair % m->o.connections) + (meta->hi3 ? 1 : 0)];
	if (nt->output) {
		if (fwrite(p, 1, n, h->file) != n) {
			med_log("write to --output file failed: %s", strerror(errno));
			return LACRE_E_IO;
		}
		m->st.bytes_sent += n;
		q = (struct qpdu){ (uint32_t)n, (int8_t)meta->cls, 0, meta->stream, 0 };
		net_account(m, h, &q, NULL);
		return 0;
	}
	return net_enqueue(nt, h, p, n, meta->cls, meta->stream, 0, 0);
}

/* May the generator emit more?  Not while a queue is over its mark. */
int med_net_has_room(struct med_ctx *m)
{
	return m->net->output || m->net->n_over == 0;
}

/* Nothing queued and no keep-alive outstanding anywhere. */
int med_net_idle(struct med_ctx *m)
{
	return m->net->output || (m->net->queued == 0 && m->net->ka_outs == 0);
}

/* Drop the head PDU of the queue after it was written. */
void net_pop_head(struct med_net *nt, struct ho *h)
{
	h->out_off += h->q[h->qh].len;
	h->qh = (h->qh + 1) % h->qcap;
	h->qn--;
	nt->queued--;
	h->head_done = 0;
	if (h->qn == 0) {
		lacre_dbuf_reset(&h->out);
		h->out_off = 0;
	} else if (h->out_off > (1u << 20) && h->out_off > h->out.len / 2) {
		lacre_dbuf_consume(&h->out, h->out_off);
		h->out_off = 0;
	}
	net_room_update(nt, h);
}

/* Put the last K data PDUs back at the front of the queue as duplicates. */
int net_requeue_history(struct med_ctx *m, struct ho *h)
{
	struct med_net *nt = m->net;
	struct lacre_dbuf nb;
	struct qpdu *nq;
	size_t k = h->hist_n, i, ncap, K = m->o.resend_after_reconnect;
	int r;

	if (k == 0)
		return 0;
	ncap = h->qn + k + 16;
	if (!(nq = malloc(ncap * sizeof(*nq))))
		return LACRE_E_NOMEM;
	lacre_dbuf_init(&nb, h->out.max);
	for (i = 0; i < k; i++) {
		struct hist *e = &h->hist[(h->hist_pos + K - k + i) % K];
		if ((r = lacre_dbuf_add(&nb, e->p, e->len)) != 0)
			goto fail;
		nq[i] = (struct qpdu){ e->len, MED_CLS_DATA, 1, e->stream, 0 };
	}
	if ((r = lacre_dbuf_add(&nb, h->out.p + h->out_off, h->out.len - h->out_off)) != 0)
		goto fail;
	for (i = 0; i < h->qn; i++)
		nq[k + i] = h->q[(h->qh + i) % h->qcap];
	lacre_dbuf_free(&h->out);
	h->out = nb;
	h->out_off = 0;
	free(h->q);
	h->q = nq;
	h->qh = 0;
	h->qn += k;
	nt->queued += k;
	h->qcap = ncap;
	h->hist_n = 0;
	net_room_update(nt, h);
	return 0;
fail:
	lacre_dbuf_free(&nb);
	free(nq);
	return r;
}

/* Output mode: one final keep-alive per file, numbered 1, then flush. */
int net_finish_output(struct med_ctx *m)
{
	struct med_net *nt = m->net;
	struct etsi_enc_header hd;
	const char *liid = m->o.keepalive_liid;
	char ne[24];
	size_t i;
	int r;

	for (i = 0; i < nt->n; i++) {
		struct ho *h = &nt->h[i];
		if (m->o.keepalive > 0) {
			struct qpdu q;
			snprintf(ne, sizeof(ne), "med-%u", m->o.mediator_id);
			med_header(m, &hd, (const uint8_t *)liid, strlen(liid), 1, 0, h->ka_next++, m->vnow);
			hd.network_element_id = ne;
			hd.interception_point_id = NULL;
			lacre_dbuf_reset(&nt->ka);
			if ((r = etsi_enc_keepalive(&nt->ka, &hd)) != 0)
				return r;
			if (fwrite(nt->ka.p, 1, nt->ka.len, h->file) != nt->ka.len)
				return LACRE_E_IO;
			m->st.bytes_sent += nt->ka.len;
			q = (struct qpdu){ (uint32_t)nt->ka.len, MED_CLS_KEEPALIVE, 0, -1, 0 };
			net_account(m, h, &q, NULL);
		}
		if (fflush(h->file) != 0 || ferror(h->file)) {
			med_log("write to --output file failed: %s", strerror(errno));
			return LACRE_E_IO;
		}
	}
	return 0;
}

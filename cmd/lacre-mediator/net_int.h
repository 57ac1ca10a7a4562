/*
 * net_int.h - state shared by net.c (connections, the epoll loop,
 * keep-alives) and queue.c (per-handover send queues, accounting, the
 * --output sink).  Private to lacre-mediator.
 *
 * Invariants: nt->queued is the sum of every handover's qn; nt->ka_outs
 * counts handovers with an unanswered keep-alive while --keepalive-wait is
 * set; nt->n_over counts handovers whose queued bytes exceed ROOM_MARK; a
 * handover is on the dirty list (h->dirty set) at most once among the
 * entries not yet taken by the current turn, so the list holds 2n.  These
 * make "is everything sent?" and "may the generator go on?" O(1), so that
 * ten thousand connections cost nothing per PDU.
 */
#ifndef LACRE_MEDIATOR_NET_INT_H
#define LACRE_MEDIATOR_NET_INT_H

#include <stdio.h>
#include <sys/socket.h>

#include <openssl/ssl.h>

#include "mediator.h"

#define QUEUE_CAP (8u << 20)        /* bytes queued per handover, hard cap */
#define ROOM_MARK (4u << 20)        /* above this the generator waits */
#define IN_CAP (1u << 20)

enum { ST_DOWN = 0, ST_CONNECTING, ST_TLS, ST_UP, ST_CLOSED };

/* One queued PDU. */
struct qpdu {
	uint32_t len;
	int8_t cls;
	uint8_t dup;
	int32_t stream;
	uint64_t ka_seq;
};

/* One recently sent data PDU, for --resend-after-reconnect. */
struct hist {
	uint8_t *p;
	uint32_t len;
	int32_t stream;
};

/* A handover: the HI2 or HI3 connection of one pair. */
struct ho {
	unsigned idx;
	int hi3;
	unsigned pair;
	char name[24];
	int fd;
	SSL *ssl;
	int state;
	int ever_up;
	uint32_t ep_events;             /* events registered with epoll */
	int dirty;                      /* on nt->dirty: has work for do_write */
	int blocked;                    /* write would block: waiting for EPOLLOUT */
	int over;                       /* counted in nt->n_over */
	struct lacre_dbuf out;          /* queued bytes; the head PDU starts at out_off */
	size_t out_off;
	struct qpdu *q;                 /* ring of queued PDUs */
	size_t qh, qn, qcap;
	size_t head_done;               /* bytes of the head PDU written */
	struct hist *hist;
	size_t hist_n, hist_pos;
	uint64_t ka_next;
	int ka_out;
	uint64_t ka_out_seq;
	double ka_deadline;
	double last_write;
	int final_state;                /* 0 none, 1 final keep-alive queued, 2 answered */
	struct lacre_dbuf in;
	unsigned long since_conn;
	unsigned long complete_total;
	int cut_pending;
	size_t cut_at;
	int garbage_here;
	double reconnect_at;
	double down_since;
	int tls_want_write;
	unsigned fail_streak;           /* quick drops in a row, for back-off */
	double up_since;
	unsigned long conn_no;          /* connections made so far (--sent-log) */
	unsigned lport;                 /* this connection's local TCP port (--sent-log) */
	FILE *file;                     /* --output */
};

struct med_net {
	struct ho *h;
	size_t n;
	SSL_CTX *ctx;
	struct sockaddr_storage addr[2];
	socklen_t alen[2];
	char host[2][256];
	int output;
	struct med_rng rng;
	int epfd;
	struct epoll_event *evs;
	unsigned *dirty;
	size_t n_dirty;
	size_t queued;
	size_t ka_outs;
	size_t n_over;
	double next_scan;
	double last_progress;
	struct lacre_dbuf ka;
	unsigned long conn_logs, conn_logs_suppressed;
	FILE *sent_log;                  /* --sent-log */
};

/* net.c, for replay.c too */
int net_resolve(const char *spec, int allow_remote, struct sockaddr_storage *ss, socklen_t *len,
    char host[256]);
int net_tls_ctx(struct med_ctx *m, SSL_CTX **out);
void net_log_ssl(const char *what);

/* queue.c */
void net_mark_dirty(struct med_net *nt, struct ho *h);
void net_room_update(struct med_net *nt, struct ho *h);
void net_ka_set(struct med_ctx *m, struct ho *h, int out);
void net_account(struct med_ctx *m, struct ho *h, const struct qpdu *q, const uint8_t *p);
int net_enqueue(struct med_net *nt, struct ho *h, const uint8_t *p, size_t n, int cls,
    int32_t stream, int dup, uint64_t ka_seq);
void net_pop_head(struct med_net *nt, struct ho *h);
int net_requeue_history(struct med_ctx *m, struct ho *h);
int net_finish_output(struct med_ctx *m);
/* Close the --sent-log file; LACRE_E_IO when its lines did not all reach it. */
int net_sent_log_close(struct med_net *nt);

#endif

/*
 * net.c - handover connections of lacre-mediator: the TCP/TLS clients, the
 * per-handover send queues, keep-alives checked as a real mediator checks
 * them, fault injection, and the --output file sink.
 *
 * Each connection pair has an HI2 and an HI3 handover; each handover owns a
 * byte queue of whole PDUs (plus a ring of their metadata).  Sockets are
 * non-blocking and served by one poll() loop, so hundreds of connections
 * work.  A PDU counts as sent once its last byte was accepted by write()
 * (ETSI handover has no application acknowledgement).
 *
 * Keep-alives follow OpenLI 1.1.20 (spec §6.2): sent only on an idle
 * handover (nothing queued, none outstanding) after --keepalive seconds
 * without a write; numbered from 1 per handover, not reset by reconnects;
 * while one is unanswered no data is written on that handover; a missing
 * (--keepalive-wait), wrong or unexpected answer, or any other byte from
 * the receiver, drops the connection, which is then re-established.
 *
 * Faults: --split-writes writes each PDU in random pieces of 1..48 bytes;
 * --disconnect-every N cuts the connection inside the PDU after every N
 * complete PDUs (a truncated tail), reconnects and resends that PDU from its
 * first byte (as OpenLI does); --resend-after-reconnect K first resends the
 * last K data PDUs (duplicates); --garbage writes junk once on one handover
 * at a PDU boundary and reconnects.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "lacre/err.h"
#include "lacre/etsi.h"
#include "lacre/etsi_enc.h"
#include "mediator.h"

#define QUEUE_CAP (8u << 20)        /* bytes queued per handover before the generator waits */
#define ROOM_MARK (4u << 20)
#define IN_CAP (1u << 20)

enum { ST_DOWN = 0, ST_CONNECTING, ST_TLS, ST_UP, ST_CLOSED };

struct qpdu {
	uint32_t len;
	int8_t cls;
	uint8_t dup;
	int32_t stream;
	uint64_t ka_seq;
};

struct hist {
	uint8_t *p;
	uint32_t len;
	int32_t stream;
};

struct ho {
	int hi3;
	unsigned pair;
	char name[24];
	int fd;
	SSL *ssl;
	int state;
	int ever_up;
	struct lacre_dbuf out;
	size_t out_off;
	struct qpdu *q;
	size_t qh, qn, qcap;
	size_t head_done;
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
	FILE *file;
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
	struct pollfd *pfd;
	size_t *pfd_ho;
	double last_progress;
	struct lacre_dbuf ka;
};

/* Split "host:port" ("[v6]:port" too) and resolve it; refuse anything but
 * loopback unless allowed. */
static int resolve(const char *spec, int allow_remote, struct sockaddr_storage *ss,
    socklen_t *len, char host[256])
{
	struct addrinfo hints, *res = NULL, *ai;
	const char *colon;
	char port[16];
	size_t hl;
	int r;

	if (!spec || !(colon = strrchr(spec, ':')) || colon == spec || !colon[1]) {
		med_log("bad address \"%s\": use HOST:PORT, e.g. 127.0.0.1:5001", spec ? spec : "");
		return LACRE_E_CONFIG;
	}
	hl = (size_t)(colon - spec);
	if (spec[0] == '[' && hl >= 2 && spec[hl - 1] == ']') {
		spec++;
		hl -= 2;
	}
	if (hl >= 256 || strlen(colon + 1) >= sizeof(port)) {
		med_log("bad address \"%s\"", spec);
		return LACRE_E_CONFIG;
	}
	memcpy(host, spec, hl);
	host[hl] = '\0';
	snprintf(port, sizeof(port), "%s", colon + 1);
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if ((r = getaddrinfo(host, port, &hints, &res)) != 0) {
		med_log("cannot resolve %s: %s", host, gai_strerror(r));
		return LACRE_E_CONFIG;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		int loop = 0;
		if (ai->ai_family == AF_INET) {
			const struct sockaddr_in *s4 = (const struct sockaddr_in *)ai->ai_addr;
			loop = (ntohl(s4->sin_addr.s_addr) >> 24) == 127;
		} else if (ai->ai_family == AF_INET6) {
			const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ai->ai_addr;
			loop = IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr);
		} else {
			continue;
		}
		if (!loop && !allow_remote) {
			med_log("%s is not a loopback address: the simulator only sends to 127.0.0.0/8 "
			    "or ::1 unless --allow-remote is given", host);
			freeaddrinfo(res);
			return LACRE_E_DENIED;
		}
		memcpy(ss, ai->ai_addr, ai->ai_addrlen);
		*len = ai->ai_addrlen;
		freeaddrinfo(res);
		return 0;
	}
	freeaddrinfo(res);
	med_log("no usable address for %s", host);
	return LACRE_E_CONFIG;
}

/* Log the OpenSSL error queue in one line. */
static void log_ssl(const char *what)
{
	char buf[256];
	unsigned long e = ERR_get_error();

	if (e) {
		ERR_error_string_n(e, buf, sizeof(buf));
		med_log("%s: %s", what, buf);
	} else {
		med_log("%s", what);
	}
	ERR_clear_error();
}

/* Build the TLS client context. */
static int tls_init(struct med_ctx *m, struct med_net *nt)
{
	SSL_CTX *c = SSL_CTX_new(TLS_client_method());

	if (!c)
		return LACRE_E_CRYPTO;
	nt->ctx = c;
	SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
	SSL_CTX_set_mode(c, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_CTX_set_verify(c, SSL_VERIFY_PEER, NULL);
	if (m->o.tls_ca) {
		if (SSL_CTX_load_verify_locations(c, m->o.tls_ca, NULL) != 1) {
			log_ssl("cannot load --tls-ca");
			return LACRE_E_CONFIG;
		}
	} else if (SSL_CTX_set_default_verify_paths(c) != 1) {
		log_ssl("cannot load the system CA store (give --tls-ca)");
		return LACRE_E_CONFIG;
	}
	if (m->o.tls_cert || m->o.tls_key) {
		if (!m->o.tls_cert || !m->o.tls_key) {
			med_log("--tls-cert and --tls-key go together");
			return LACRE_E_CONFIG;
		}
		if (SSL_CTX_use_certificate_chain_file(c, m->o.tls_cert) != 1 ||
		    SSL_CTX_use_PrivateKey_file(c, m->o.tls_key, SSL_FILETYPE_PEM) != 1 ||
		    SSL_CTX_check_private_key(c) != 1) {
			log_ssl("cannot load the client certificate/key");
			return LACRE_E_CONFIG;
		}
	}
	return 0;
}

/* Set up handovers (sockets connect lazily in the service loop). */
int med_net_init(struct med_ctx *m)
{
	struct med_net *nt;
	size_t i;
	int r;

	if (!(nt = calloc(1, sizeof(*nt))))
		return LACRE_E_NOMEM;
	m->net = nt;
	med_rng_seed(&nt->rng, m->o.seed ^ 0x6e6574ULL);
	lacre_dbuf_init(&nt->ka, 4096);
	nt->output = m->o.output != NULL;
	nt->n = nt->output ? 2 : 2 * (size_t)m->o.connections;
	if (!(nt->h = calloc(nt->n, sizeof(*nt->h))))
		return LACRE_E_NOMEM;
	if (!nt->output) {
		if ((r = resolve(m->o.hi2, m->o.allow_remote, &nt->addr[0], &nt->alen[0], nt->host[0])) != 0 ||
		    (r = resolve(m->o.hi3, m->o.allow_remote, &nt->addr[1], &nt->alen[1], nt->host[1])) != 0)
			return r;
		if (m->o.tls && (r = tls_init(m, nt)) != 0)
			return r;
		nt->pfd = calloc(nt->n, sizeof(*nt->pfd));
		nt->pfd_ho = calloc(nt->n, sizeof(*nt->pfd_ho));
		if (!nt->pfd || !nt->pfd_ho)
			return LACRE_E_NOMEM;
		signal(SIGPIPE, SIG_IGN);
	}
	for (i = 0; i < nt->n; i++) {
		struct ho *h = &nt->h[i];
		h->hi3 = (int)(i & 1);
		h->pair = (unsigned)(i / 2);
		h->fd = -1;
		h->ka_next = 1;
		h->down_since = med_mono();
		snprintf(h->name, sizeof(h->name), "%s#%u", h->hi3 ? "hi3" : "hi2", h->pair);
		lacre_dbuf_init(&h->out, QUEUE_CAP + MED_MAX_PDU + (1u << 20));
		lacre_dbuf_init(&h->in, IN_CAP);
		if (m->o.resend_after_reconnect && !(h->hist = calloc(m->o.resend_after_reconnect, sizeof(*h->hist))))
			return LACRE_E_NOMEM;
		if (nt->output) {
			char path[4096];
			snprintf(path, sizeof(path), "%s.%s", m->o.output, h->hi3 ? "hi3" : "hi2");
			if (!(h->file = fopen(path, "wb"))) {
				med_log("cannot create %s: %s", path, strerror(errno));
				return LACRE_E_IO;
			}
		}
	}
	if (m->o.garbage && !nt->output)
		nt->h[med_rng_below(&nt->rng, (uint32_t)nt->n)].garbage_here = 1;
	nt->last_progress = med_mono();
	return 0;
}

/* Count a completely written PDU. */
static void account(struct med_ctx *m, struct ho *h, const struct qpdu *q, const uint8_t *p)
{
	m->st.pdus_sent++;
	switch (q->cls) {
	case MED_CLS_DATA:
		if (q->dup) {
			m->st.inj_duplicates++;
			break;
		}
		m->st.data_pdus_sent++;
		if (q->stream >= 0 && (size_t)q->stream < m->n_streams)
			m->streams[q->stream].sent++;
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

/* Append a PDU to handover h's queue. */
static int enqueue(struct ho *h, const uint8_t *p, size_t n, int cls, int32_t stream,
    int dup, uint64_t ka_seq)
{
	int r;

	if (h->qn == h->qcap) {
		size_t nc = h->qcap ? h->qcap * 2 : 1024, i;
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
	if (nt->output) {
		h = &nt->h[meta->hi3 ? 1 : 0];
		if (fwrite(p, 1, n, h->file) != n) {
			med_log("write to --output file failed: %s", strerror(errno));
			return LACRE_E_IO;
		}
		m->st.bytes_sent += n;
		q = (struct qpdu){ (uint32_t)n, (int8_t)meta->cls, 0, meta->stream, 0 };
		account(m, h, &q, NULL);
		return 0;
	}
	h = &nt->h[2 * (meta->pair % m->o.connections) + (meta->hi3 ? 1 : 0)];
	return enqueue(h, p, n, meta->cls, meta->stream, 0, 0);
}

/* May the generator emit more? */
int med_net_has_room(struct med_ctx *m)
{
	struct med_net *nt = m->net;
	size_t i;

	if (nt->output)
		return 1;
	for (i = 0; i < nt->n; i++)
		if (nt->h[i].out.len - nt->h[i].out_off > ROOM_MARK)
			return 0;
	return 1;
}

/* Drop the head PDU of the queue after it was written. */
static void pop_head(struct ho *h)
{
	h->out_off += h->q[h->qh].len;
	h->qh = (h->qh + 1) % h->qcap;
	h->qn--;
	h->head_done = 0;
	if (h->qn == 0) {
		lacre_dbuf_reset(&h->out);
		h->out_off = 0;
	} else if (h->out_off > (1u << 20) && h->out_off > h->out.len / 2) {
		lacre_dbuf_consume(&h->out, h->out_off);
		h->out_off = 0;
	}
}

/* Put the last K data PDUs back at the front of the queue as duplicates. */
static int requeue_history(struct med_ctx *m, struct ho *h)
{
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
	h->qcap = ncap;
	h->hist_n = 0;
	return 0;
fail:
	lacre_dbuf_free(&nb);
	free(nq);
	return r;
}

/* Close h's socket; schedule a reconnect (PDU in flight resent whole). */
static void drop(struct med_ctx *m, struct ho *h, int count_truncated)
{
	if (h->ssl) {
		SSL_free(h->ssl);
		h->ssl = NULL;
	}
	if (h->fd >= 0) {
		shutdown(h->fd, SHUT_WR);
		close(h->fd);
		h->fd = -1;
	}
	if (h->head_done > 0 && count_truncated)
		m->st.truncated++;
	h->head_done = 0;
	h->cut_pending = 0;
	h->ka_out = 0;
	if (h->final_state == 1)
		h->final_state = 0;   /* queue the final keep-alive again */
	h->state = ST_DOWN;
	h->down_since = med_mono();
	h->reconnect_at = h->down_since + m->o.reconnect_wait;
	lacre_dbuf_reset(&h->in);
	if (m->o.resend_after_reconnect && requeue_history(m, h) != 0)
		med_log("%s: cannot requeue resends: out of memory", h->name);
}

/* A keep-alive or protocol failure: log, count, reconnect. */
static void ka_fail(struct med_ctx *m, struct ho *h, const char *why)
{
	med_log("%s: %s; dropping the connection", h->name, why);
	m->st.keepalive_failures++;
	drop(m, h, 1);
}

/* Start a non-blocking connect. */
static void start_connect(struct med_ctx *m, struct ho *h)
{
	struct med_net *nt = m->net;
	const struct sockaddr_storage *a = &nt->addr[h->hi3];
	int one = 1;

	h->fd = socket(a->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (h->fd < 0) {
		med_log("%s: socket: %s", h->name, strerror(errno));
		h->reconnect_at = med_mono() + m->o.reconnect_wait;
		return;
	}
	setsockopt(h->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(h->fd, (const struct sockaddr *)a, nt->alen[h->hi3]) == 0 || errno == EINPROGRESS) {
		h->state = ST_CONNECTING;
		return;
	}
	med_debug(m, "%s: connect: %s", h->name, strerror(errno));
	close(h->fd);
	h->fd = -1;
	h->reconnect_at = med_mono() + m->o.reconnect_wait;
}

/* The connection is usable. */
static void became_up(struct med_ctx *m, struct ho *h)
{
	h->state = ST_UP;
	h->last_write = med_mono();
	h->since_conn = 0;
	if (h->ever_up)
		m->st.reconnects++;
	h->ever_up = 1;
	med_debug(m, "%s: connected", h->name);
}

/* Drive the TLS handshake one step. */
static void tls_step(struct med_ctx *m, struct ho *h)
{
	int r = SSL_do_handshake(h->ssl), e;

	if (r == 1) {
		became_up(m, h);
		return;
	}
	e = SSL_get_error(h->ssl, r);
	if (e == SSL_ERROR_WANT_READ) {
		h->tls_want_write = 0;
		return;
	}
	if (e == SSL_ERROR_WANT_WRITE) {
		h->tls_want_write = 1;
		return;
	}
	{
		char what[128];
		snprintf(what, sizeof(what), "%s: TLS handshake failed (check --tls-ca and the server "
		    "certificate, or the client certificate)", h->name);
		log_ssl(what);
	}
	m->failed = 1;
	drop(m, h, 0);
}

/* The non-blocking connect finished (or failed). */
static void connect_done(struct med_ctx *m, struct ho *h)
{
	struct med_net *nt = m->net;
	int err = 0;
	socklen_t l = sizeof(err);

	if (getsockopt(h->fd, SOL_SOCKET, SO_ERROR, &err, &l) != 0)
		err = errno;
	if (err != 0) {
		med_debug(m, "%s: connect: %s", h->name, strerror(err));
		close(h->fd);
		h->fd = -1;
		h->state = ST_DOWN;
		h->reconnect_at = med_mono() + m->o.reconnect_wait;
		return;
	}
	if (!nt->ctx) {
		became_up(m, h);
		return;
	}
	h->ssl = SSL_new(nt->ctx);
	if (!h->ssl || SSL_set_fd(h->ssl, h->fd) != 1) {
		log_ssl("SSL_new failed");
		m->failed = 1;
		drop(m, h, 0);
		return;
	}
	{
		X509_VERIFY_PARAM *vp = SSL_get0_param(h->ssl);
		const char *host = nt->host[h->hi3];
		if (X509_VERIFY_PARAM_set1_ip_asc(vp, host) != 1) {
			X509_VERIFY_PARAM_set1_host(vp, host, 0);
			SSL_set_tlsext_host_name(h->ssl, host);
		}
	}
	SSL_set_connect_state(h->ssl);
	h->state = ST_TLS;
	tls_step(m, h);
}

/* write() or SSL_write(): bytes written, 0 would block, -1 error. */
static ssize_t xwrite(struct ho *h, const uint8_t *p, size_t n)
{
	if (h->ssl) {
		int r = SSL_write(h->ssl, p, n > INT32_MAX ? INT32_MAX : (int)n), e;
		if (r > 0)
			return r;
		e = SSL_get_error(h->ssl, r);
		if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ)
			return 0;
		ERR_clear_error();
		return -1;
	}
	for (;;) {
		ssize_t r = write(h->fd, p, n);
		if (r >= 0)
			return r;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		return -1;
	}
}

/* read() or SSL_read(): bytes read, 0 nothing now, -2 EOF, -1 error. */
static ssize_t xread(struct ho *h, uint8_t *p, size_t n)
{
	if (h->ssl) {
		int r = SSL_read(h->ssl, p, n > INT32_MAX ? INT32_MAX : (int)n), e;
		if (r > 0)
			return r;
		e = SSL_get_error(h->ssl, r);
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
			return 0;
		if (e == SSL_ERROR_ZERO_RETURN)
			return -2;
		ERR_clear_error();
		return r == 0 ? -2 : -1;
	}
	for (;;) {
		ssize_t r = read(h->fd, p, n);
		if (r > 0)
			return r;
		if (r == 0)
			return -2;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		return -1;
	}
}

/* Check every complete PDU the receiver sent: only keep-alive responses
 * with the outstanding number are acceptable. */
static void check_input(struct med_ctx *m, struct ho *h)
{
	while (h->in.len > 0 && h->state == ST_UP) {
		struct etsi_pdu p;
		size_t len;
		char why[160];
		int r = etsi_pdu_size(h->in.p, h->in.len, 65536, &len);

		if (r == LACRE_E_INCOMPLETE)
			return;
		if (r != 0) {
			snprintf(why, sizeof(why), "received unknown data from the receiver (first byte %02x)",
			    h->in.p[0]);
			ka_fail(m, h, why);
			return;
		}
		r = etsi_decode(h->in.p, len, &p);
		if (r != 0 || p.kind != ETSI_KIND_KEEPALIVE_RESPONSE) {
			snprintf(why, sizeof(why), "received a PDU that is not a keep-alive response (%s)",
			    r != 0 ? lacre_strerror(r) : "wrong payload");
			ka_fail(m, h, why);
			return;
		}
		if (m->o.keepalive_wait > 0) {
			if (!h->ka_out) {
				snprintf(why, sizeof(why), "keep-alive response %llu with no keep-alive outstanding",
				    (unsigned long long)p.seq);
				ka_fail(m, h, why);
				return;
			}
			if (p.seq != h->ka_out_seq) {
				snprintf(why, sizeof(why), "keep-alive response for %llu, expected %llu",
				    (unsigned long long)p.seq, (unsigned long long)h->ka_out_seq);
				ka_fail(m, h, why);
				return;
			}
			h->ka_out = 0;
		} else if (p.seq == 0 || p.seq >= h->ka_next) {
			ka_fail(m, h, "keep-alive response for a keep-alive never sent");
			return;
		}
		m->st.keepalive_ok++;
		if (h->final_state == 1 && p.seq == h->ka_next - 1)
			h->final_state = 2;
		lacre_dbuf_consume(&h->in, len);
	}
}

/* Read whatever the receiver sent. */
static void do_read(struct med_ctx *m, struct ho *h)
{
	uint8_t buf[16384];
	int rounds = 0;

	while (h->state == ST_UP && rounds++ < 64) {
		ssize_t n = xread(h, buf, sizeof(buf));
		if (n == 0)
			return;
		if (n == -2) {
			med_log("%s: the receiver closed the connection; reconnecting", h->name);
			drop(m, h, 1);
			return;
		}
		if (n < 0) {
			med_log("%s: read: %s; reconnecting", h->name, strerror(errno));
			drop(m, h, 1);
			return;
		}
		if (lacre_dbuf_add(&h->in, buf, (size_t)n) != 0) {
			ka_fail(m, h, "the receiver sent more than 1 MiB without a complete PDU");
			return;
		}
		check_input(m, h);
	}
}

/* Build and queue a keep-alive on h (numbered per handover from 1). */
static int queue_keepalive(struct med_ctx *m, struct ho *h)
{
	struct med_net *nt = m->net;
	struct etsi_enc_header hd;
	char ne[24];
	static const uint8_t liid[] = "lacre-mediator-" MED_VERSION;
	int r;

	snprintf(ne, sizeof(ne), "med-%u", m->o.mediator_id);
	med_header(m, &hd, liid, sizeof(liid) - 1, 1, 0, h->ka_next, med_wall_us());
	hd.network_element_id = ne;
	hd.interception_point_id = NULL;
	lacre_dbuf_reset(&nt->ka);
	if ((r = etsi_enc_keepalive(&nt->ka, &hd)) != 0)
		return r;
	if ((r = enqueue(h, nt->ka.p, nt->ka.len, MED_CLS_KEEPALIVE, -1, 0, h->ka_next)) != 0)
		return r;
	h->ka_next++;
	return 0;
}

/* Write as much of h's queue as the socket takes. */
static void do_write(struct med_ctx *m, struct ho *h)
{
	struct med_net *nt = m->net;
	double now = med_mono();
	int pieces = 0;

	while (h->state == ST_UP && h->qn > 0) {
		struct qpdu *q = &h->q[h->qh];
		const uint8_t *p = h->out.p + h->out_off;
		size_t remain, chunk;
		ssize_t n;

		if (h->ka_out && m->o.keepalive_wait > 0 && q->cls != MED_CLS_KEEPALIVE)
			return;   /* flow stall while a keep-alive is unanswered */
		if (h->head_done == 0 && h->garbage_here && h->complete_total >= 5 && q->cls != MED_CLS_KEEPALIVE) {
			uint8_t g[64];
			size_t i, gl = 16 + med_rng_below(&nt->rng, 48);
			memcpy(g, "GARBAGE!", 8);
			for (i = 8; i < gl; i++)
				g[i] = (uint8_t)med_rng_next(&nt->rng);
			h->garbage_here = 0;
			n = xwrite(h, g, gl);
			if (n > 0)
				m->st.bytes_sent += (uint64_t)n, m->st.garbage_bytes += (uint64_t)n;
			med_log("%s: sent %zd garbage bytes (--garbage); reconnecting", h->name, n);
			drop(m, h, 0);
			return;
		}
		if (h->head_done == 0 && h->cut_pending)
			h->cut_at = q->len > 1 ? 1 + med_rng_below(&nt->rng, q->len - 1) : q->len;
		remain = q->len - h->head_done;
		chunk = remain;
		if (m->o.split_writes) {
			size_t piece = 1 + med_rng_below(&nt->rng, 48);
			if (piece < chunk)
				chunk = piece;
		}
		if (h->cut_pending && h->head_done + chunk > h->cut_at)
			chunk = h->cut_at - h->head_done;
		n = xwrite(h, p + h->head_done, chunk);
		if (n < 0) {
			med_log("%s: write failed (%s); reconnecting", h->name, strerror(errno));
			drop(m, h, 1);
			return;
		}
		if (n == 0)
			return;
		m->st.bytes_sent += (uint64_t)n;
		h->head_done += (size_t)n;
		h->last_write = now;
		nt->last_progress = now;
		if (h->cut_pending && h->head_done == h->cut_at && h->head_done < q->len) {
			med_debug(m, "%s: cutting the connection inside a PDU (--disconnect-every)", h->name);
			drop(m, h, 1);
			return;
		}
		if (h->head_done < q->len) {
			if (m->o.split_writes && ++pieces >= 4)
				return;
			continue;
		}
		account(m, h, q, p);
		if (q->cls == MED_CLS_KEEPALIVE) {
			h->ka_out = m->o.keepalive_wait > 0;
			h->ka_out_seq = q->ka_seq;
			h->ka_deadline = now + m->o.keepalive_wait;
		} else {
			h->since_conn++;
			h->complete_total++;
			if (m->o.disconnect_every && h->since_conn >= m->o.disconnect_every)
				h->cut_pending = 1;
		}
		pop_head(h);
		if (m->o.split_writes && ++pieces >= 4)
			return;
	}
}

/* Timers: reconnects, keep-alives, keep-alive deadlines. */
static int timers(struct med_ctx *m, struct ho *h, double now)
{
	if (h->state == ST_DOWN || h->state == ST_CONNECTING) {
		if (m->o.connect_timeout > 0 && now - h->down_since > m->o.connect_timeout) {
			med_log("%s: cannot connect to %s for %.0f s: is the receiver (lacre ingest) "
			    "listening there?", h->name, h->hi3 ? m->o.hi3 : m->o.hi2, m->o.connect_timeout);
			m->failed = 1;
			return LACRE_E_NETWORK;
		}
		if (h->state == ST_DOWN && now >= h->reconnect_at)
			start_connect(m, h);
		return 0;
	}
	if (h->state != ST_UP)
		return 0;
	if (h->ka_out && m->o.keepalive_wait > 0 && now > h->ka_deadline) {
		char why[96];
		snprintf(why, sizeof(why), "no keep-alive response for %llu within %.1f s",
		    (unsigned long long)h->ka_out_seq, m->o.keepalive_wait);
		ka_fail(m, h, why);
		return 0;
	}
	if (m->o.keepalive > 0 && h->qn == 0 && !h->ka_out && now - h->last_write >= m->o.keepalive)
		return queue_keepalive(m, h);
	return 0;
}

/* One round of poll() over every live socket. */
int med_net_service(struct med_ctx *m, double timeout)
{
	struct med_net *nt = m->net;
	double now = med_mono();
	size_t i, np = 0;
	struct timespec ts;
	int r;

	if (nt->output)
		return 0;
	for (i = 0; i < nt->n; i++) {
		struct ho *h = &nt->h[i];
		if ((r = timers(m, h, now)) != 0)
			return r;
		if (h->state == ST_UP)
			do_write(m, h);
	}
	for (i = 0; i < nt->n; i++) {
		struct ho *h = &nt->h[i];
		short ev = 0;

		if (h->fd < 0)
			continue;
		if (h->state == ST_CONNECTING)
			ev = POLLOUT;
		else if (h->state == ST_TLS)
			ev = (short)(POLLIN | (h->tls_want_write ? POLLOUT : 0));
		else if (h->state == ST_UP) {
			ev = POLLIN;
			if (h->qn > 0 && !(h->ka_out && m->o.keepalive_wait > 0 &&
			    h->q[h->qh].cls != MED_CLS_KEEPALIVE))
				ev |= POLLOUT;
		}
		nt->pfd[np].fd = h->fd;
		nt->pfd[np].events = ev;
		nt->pfd[np].revents = 0;
		nt->pfd_ho[np] = i;
		np++;
	}
	/* wake up for the nearest timer */
	for (i = 0; i < nt->n; i++) {
		struct ho *h = &nt->h[i];
		double t = -1;
		if (h->state == ST_DOWN)
			t = h->reconnect_at - now;
		else if (h->state == ST_UP && h->ka_out && m->o.keepalive_wait > 0)
			t = h->ka_deadline - now;
		else if (h->state == ST_UP && m->o.keepalive > 0 && h->qn == 0)
			t = h->last_write + m->o.keepalive - now;
		if (t >= 0 && t < timeout)
			timeout = t;
	}
	if (timeout < 0)
		timeout = 0;
	ts.tv_sec = (time_t)timeout;
	ts.tv_nsec = (long)((timeout - (double)ts.tv_sec) * 1e9);
	r = ppoll(nt->pfd, np, &ts, NULL);
	if (r < 0) {
		if (errno == EINTR)
			return 0;
		med_log("poll: %s", strerror(errno));
		return LACRE_E_IO;
	}
	for (i = 0; i < np && r > 0; i++) {
		struct ho *h = &nt->h[nt->pfd_ho[i]];
		short re = nt->pfd[i].revents;

		if (!re || h->fd != nt->pfd[i].fd)
			continue;
		if (h->state == ST_CONNECTING) {
			connect_done(m, h);
		} else if (h->state == ST_TLS) {
			tls_step(m, h);
		} else if (h->state == ST_UP) {
			if (re & (POLLIN | POLLHUP | POLLERR))
				do_read(m, h);
			if (h->state == ST_UP && (re & POLLOUT))
				do_write(m, h);
		}
	}
	now = med_mono();
	if (m->o.stall_timeout > 0 && !med_net_idle(m) && now - nt->last_progress > m->o.stall_timeout) {
		med_log("no byte could be written for %.0f s: the receiver is not reading", m->o.stall_timeout);
		m->failed = 1;
		return LACRE_E_TIMEOUT;
	}
	if (med_net_idle(m))
		nt->last_progress = now;
	return m->failed ? LACRE_E_NETWORK : 0;
}

/* Nothing queued and no keep-alive outstanding anywhere. */
int med_net_idle(struct med_ctx *m)
{
	struct med_net *nt = m->net;
	size_t i;

	if (nt->output)
		return 1;
	for (i = 0; i < nt->n; i++)
		if (nt->h[i].qn > 0 || (nt->h[i].ka_out && m->o.keepalive_wait > 0))
			return 0;
	return 1;
}

/* Output mode: one final keep-alive per file, numbered 1. */
static int finish_output(struct med_ctx *m)
{
	struct med_net *nt = m->net;
	struct etsi_enc_header hd;
	static const uint8_t liid[] = "lacre-mediator-" MED_VERSION;
	char ne[24];
	size_t i;
	int r;

	for (i = 0; i < nt->n; i++) {
		struct ho *h = &nt->h[i];
		if (m->o.keepalive > 0) {
			struct qpdu q;
			snprintf(ne, sizeof(ne), "med-%u", m->o.mediator_id);
			med_header(m, &hd, liid, sizeof(liid) - 1, 1, 0, h->ka_next++, m->vnow);
			hd.network_element_id = ne;
			hd.interception_point_id = NULL;
			lacre_dbuf_reset(&nt->ka);
			if ((r = etsi_enc_keepalive(&nt->ka, &hd)) != 0)
				return r;
			if (fwrite(nt->ka.p, 1, nt->ka.len, h->file) != nt->ka.len)
				return LACRE_E_IO;
			m->st.bytes_sent += nt->ka.len;
			q = (struct qpdu){ (uint32_t)nt->ka.len, MED_CLS_KEEPALIVE, 0, -1, 0 };
			account(m, h, &q, NULL);
		}
		if (fflush(h->file) != 0 || ferror(h->file)) {
			med_log("write to --output file failed: %s", strerror(errno));
			return LACRE_E_IO;
		}
	}
	return 0;
}

/* Drain every queue, send a final keep-alive on each handover and wait for
 * its answer (the receiver has then read everything before it), close. */
int med_net_finish(struct med_ctx *m, double deadline)
{
	struct med_net *nt = m->net;
	int final = m->o.final_keepalive && m->o.keepalive > 0 && m->o.keepalive_wait > 0;
	size_t i;
	int r = 0;

	if (nt->output)
		return finish_output(m);
	for (;;) {
		int busy = 0;
		double now = med_mono();

		if (m->failed)
			break;
		for (i = 0; i < nt->n; i++) {
			struct ho *h = &nt->h[i];
			if (h->qn > 0 || h->ka_out || h->state != ST_UP) {
				busy = 1;
				continue;
			}
			if (final && h->final_state == 0) {
				if ((r = queue_keepalive(m, h)) != 0)
					return r;
				h->final_state = 1;
				busy = 1;
			} else if (final && h->final_state == 1) {
				busy = 1;   /* answered: ka_out cleared, state 2 */
			}
		}
		if (!busy)
			break;
		if (now >= deadline) {
			size_t left = 0;
			for (i = 0; i < nt->n; i++)
				left += nt->h[i].qn;
			med_log("stopping with %zu PDU(s) unsent or keep-alives unanswered at the deadline", left);
			m->st.errors++;
			m->failed = 1;
			break;
		}
		if ((r = med_net_service(m, deadline - now < 0.05 ? deadline - now : 0.05)) != 0)
			break;
	}
	for (i = 0; i < nt->n; i++) {
		struct ho *h = &nt->h[i];
		if (h->ssl && h->state == ST_UP)
			SSL_shutdown(h->ssl);
		if (h->ssl) {
			SSL_free(h->ssl);
			h->ssl = NULL;
		}
		if (h->fd >= 0) {
			shutdown(h->fd, SHUT_WR);
			close(h->fd);
			h->fd = -1;
		}
		h->state = ST_CLOSED;
	}
	return r;
}

/* Free everything. */
void med_net_free(struct med_ctx *m)
{
	struct med_net *nt = m->net;
	size_t i, k;

	if (!nt)
		return;
	for (i = 0; i < nt->n && nt->h; i++) {
		struct ho *h = &nt->h[i];
		if (h->ssl)
			SSL_free(h->ssl);
		if (h->fd >= 0)
			close(h->fd);
		if (h->file)
			fclose(h->file);
		lacre_dbuf_free(&h->out);
		lacre_dbuf_free(&h->in);
		free(h->q);
		for (k = 0; h->hist && k < m->o.resend_after_reconnect; k++)
			free(h->hist[k].p);
		free(h->hist);
	}
	free(nt->h);
	free(nt->pfd);
	free(nt->pfd_ho);
	if (nt->ctx)
		SSL_CTX_free(nt->ctx);
	lacre_dbuf_free(&nt->ka);
	free(nt);
	m->net = NULL;
}

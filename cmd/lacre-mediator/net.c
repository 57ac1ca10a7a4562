/*
 * net.c - handover connections of lacre-mediator: the TCP/TLS clients, one
 * epoll loop over all of them, keep-alives checked as a real mediator
 * checks them, and fault injection.  The queues themselves are in queue.c.
 *
 * Each connection pair has an HI2 and an HI3 handover.  Sockets are
 * non-blocking and registered with epoll once; a handover with new work goes
 * on a dirty list and is written at the next turn, and asks for EPOLLOUT
 * only while a write would block.  Timers (reconnects, keep-alives, their
 * deadlines) are scanned every 10 ms.  So the cost per PDU does not grow
 * with the number of connections.  A PDU counts as sent once its last byte
 * was accepted by write() (ETSI handover has no application acknowledgement).
 *
 * Keep-alives follow OpenLI 1.1.20 (spec §6.2): sent only on an idle
 * handover (nothing queued, none outstanding) after --keepalive seconds
 * without a write; numbered from 1 per handover, not reset by reconnects;
 * while one is unanswered no data is written on that handover; a missing
 * (--keepalive-wait), wrong or unexpected answer, or any other byte from
 * the receiver, drops the connection, which is then re-established (with an
 * exponential back-off while the receiver keeps closing new connections).
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
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "lacre/err.h"
#include "lacre/etsi.h"
#include "lacre/etsi_enc.h"
#include "net_int.h"

#define SCAN_INTERVAL 0.01          /* timer scan period, seconds */
#define MAX_EVENTS 1024

#define CONN_LOG_MAX 20                 /* per-connection lines before going quiet */

/* A per-connection event line: the first CONN_LOG_MAX are printed (all with
 * -v), the rest counted and reported once at the end. */
static void conn_log(struct med_ctx *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void conn_log(struct med_ctx *m, const char *fmt, ...)
{
	struct med_net *nt = m->net;
	char line[512];
	va_list ap;

	if (!m->o.verbose && nt->conn_logs >= CONN_LOG_MAX) {
		nt->conn_logs_suppressed++;
		return;
	}
	nt->conn_logs++;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	med_log("%s", line);
	if (!m->o.verbose && nt->conn_logs == CONN_LOG_MAX)
		med_log("further connection events are counted, not shown (-v shows them)");
}

/* Split "host:port" ("[v6]:port" too) and resolve it; refuse anything but
 * loopback unless allowed (net_int.h: replay.c uses it too). */
int net_resolve(const char *spec, int allow_remote, struct sockaddr_storage *ss,
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
void net_log_ssl(const char *what)
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

/* Build the TLS client context into *out (the caller frees it, also on
 * failure; net_int.h: replay.c uses it too). */
int net_tls_ctx(struct med_ctx *m, SSL_CTX **out)
{
	SSL_CTX *c = SSL_CTX_new(TLS_client_method());

	if (!c)
		return LACRE_E_CRYPTO;
	*out = c;
	SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
	SSL_CTX_set_mode(c, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_CTX_set_verify(c, SSL_VERIFY_PEER, NULL);
	if (m->o.tls_ca) {
		if (SSL_CTX_load_verify_locations(c, m->o.tls_ca, NULL) != 1) {
			net_log_ssl("cannot load --tls-ca");
			return LACRE_E_CONFIG;
		}
	} else if (SSL_CTX_set_default_verify_paths(c) != 1) {
		net_log_ssl("cannot load the system CA store (give --tls-ca)");
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
			net_log_ssl("cannot load the client certificate/key");
			return LACRE_E_CONFIG;
		}
	}
	return 0;
}

/* Register, change or keep h's epoll interest (EPOLLIN always). */
static void ep_set(struct med_net *nt, struct ho *h, int want_out)
{
	struct epoll_event ev;
	uint32_t want = EPOLLIN | (want_out ? EPOLLOUT : 0);

	if (h->fd < 0 || want == h->ep_events)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.events = want;
	ev.data.u32 = h->idx;
	if (epoll_ctl(nt->epfd, h->ep_events ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, h->fd, &ev) == 0)
		h->ep_events = want;
	else
		med_log("%s: epoll_ctl: %s", h->name, strerror(errno));
}

/* Set up handovers (sockets connect in the service loop). */
int med_net_init(struct med_ctx *m)
{
	struct med_net *nt;
	size_t i;
	int r;

	if (!(nt = calloc(1, sizeof(*nt))))
		return LACRE_E_NOMEM;
	m->net = nt;
	nt->epfd = -1;
	med_rng_seed(&nt->rng, m->o.seed ^ 0x6e6574ULL);
	lacre_dbuf_init(&nt->ka, 4096);
	nt->output = m->o.output != NULL;
	if (m->o.sent_log && !nt->output && !(nt->sent_log = fopen(m->o.sent_log, "w"))) {
		med_log("cannot write the sent log %s (%s): check the folder", m->o.sent_log, strerror(errno));
		return LACRE_E_IO;
	}
	nt->n = 2 * (size_t)m->o.connections;
	if (!(nt->h = calloc(nt->n, sizeof(*nt->h))))
		return LACRE_E_NOMEM;
	if (!nt->output) {
		if ((r = net_resolve(m->o.hi2, m->o.allow_remote, &nt->addr[0], &nt->alen[0], nt->host[0])) != 0 ||
		    (r = net_resolve(m->o.hi3, m->o.allow_remote, &nt->addr[1], &nt->alen[1], nt->host[1])) != 0)
			return r;
		if (m->o.tls && (r = net_tls_ctx(m, &nt->ctx)) != 0)
			return r;
		nt->epfd = epoll_create1(EPOLL_CLOEXEC);
		nt->evs = calloc(MAX_EVENTS, sizeof(*nt->evs));
		nt->dirty = calloc(2 * nt->n, sizeof(*nt->dirty));   /* a turn re-adds */
		if (nt->epfd < 0 || !nt->evs || !nt->dirty) {
			med_log("cannot set up epoll: %s", strerror(errno));
			return LACRE_E_IO;
		}
		signal(SIGPIPE, SIG_IGN);
	}
	for (i = 0; i < nt->n; i++) {
		struct ho *h = &nt->h[i];
		h->idx = (unsigned)i;
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
			/* one pair: FILE.hi2/.hi3; more: FILE.<pair>.hi2/.hi3 (--replay) */
			if (m->o.connections == 1)
				snprintf(path, sizeof(path), "%s.%s", m->o.output, h->hi3 ? "hi3" : "hi2");
			else
				snprintf(path, sizeof(path), "%s.%u.%s", m->o.output, h->pair, h->hi3 ? "hi3" : "hi2");
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

/* Close h's socket; schedule a reconnect (the PDU in flight is resent
 * whole).  A drop the receiver caused (close, error, bad answer) less than a
 * second after connecting backs the next attempt off exponentially. */
static void drop(struct med_ctx *m, struct ho *h, int count_truncated, int by_peer)
{
	struct med_net *nt = m->net;
	int quick = by_peer && h->state == ST_UP && med_mono() - h->up_since < 1.0;

	if (h->ssl) {
		SSL_free(h->ssl);
		h->ssl = NULL;
	}
	if (h->fd >= 0) {
		shutdown(h->fd, SHUT_WR);
		close(h->fd);      /* also leaves the epoll set */
		h->fd = -1;
	}
	h->ep_events = 0;
	h->blocked = 0;
	if (by_peer && !quick)
		h->fail_streak = 0;
	if (h->head_done > 0 && count_truncated)
		m->st.truncated++;
	h->head_done = 0;
	h->cut_pending = 0;
	net_ka_set(m, h, 0);
	if (h->final_state == 1)
		h->final_state = 0;   /* queue the final keep-alive again */
	h->state = ST_DOWN;
	h->down_since = med_mono();
	h->reconnect_at = h->down_since + m->o.reconnect_wait;
	if (quick) {
		/* the receiver keeps refusing: back off, doubling up to 5 s */
		double w = m->o.reconnect_wait > 0 ? m->o.reconnect_wait : 0.05;
		unsigned k = h->fail_streak < 7 ? h->fail_streak : 7;
		w *= (double)(1u << k);
		if (w > 5.0)
			w = 5.0;
		h->reconnect_at = h->down_since + w;
		h->fail_streak++;
	}
	lacre_dbuf_reset(&h->in);
	if (m->o.resend_after_reconnect && net_requeue_history(m, h) != 0)
		med_log("%s: cannot requeue resends: out of memory", h->name);
	(void)nt;
}

/* A keep-alive or protocol failure: log, count, reconnect. */
static void ka_fail(struct med_ctx *m, struct ho *h, const char *why)
{
	conn_log(m, "%s: %s; dropping the connection", h->name, why);
	m->st.keepalive_failures++;
	drop(m, h, 1, 1);
}

/* Start a non-blocking connect. */
static void start_connect(struct med_ctx *m, struct ho *h)
{
	struct med_net *nt = m->net;
	const struct sockaddr_storage *a = &nt->addr[h->hi3];
	int one = 1;

	h->fd = socket(a->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (h->fd < 0) {
		conn_log(m, "%s: socket: %s", h->name, strerror(errno));
		h->reconnect_at = med_mono() + m->o.reconnect_wait;
		return;
	}
	setsockopt(h->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	h->ep_events = 0;
	if (connect(h->fd, (const struct sockaddr *)a, nt->alen[h->hi3]) == 0 || errno == EINPROGRESS) {
		h->state = ST_CONNECTING;
		ep_set(nt, h, 1);
		return;
	}
	med_debug(m, "%s: connect: %s", h->name, strerror(errno));
	close(h->fd);
	h->fd = -1;
	h->reconnect_at = med_mono() + m->o.reconnect_wait;
}

/* Whether --sent-log is being written. */
static int nt_sent_log(const struct med_ctx *m)
{
	return m->net && m->net->sent_log;
}

/* The connection is usable. */
static void became_up(struct med_ctx *m, struct ho *h)
{
	h->state = ST_UP;
	h->last_write = med_mono();
	h->up_since = h->last_write;
	h->conn_no++;
	if (nt_sent_log(m)) {
		/* the sent log names the connection by its local port too */
		struct sockaddr_storage sa;
		socklen_t sl = sizeof(sa);
		h->lport = 0;
		if (getsockname(h->fd, (struct sockaddr *)&sa, &sl) == 0)
			h->lport = sa.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&sa)->sin6_port)
			                                   : ntohs(((struct sockaddr_in *)&sa)->sin_port);
	}
	h->since_conn = 0;
	h->blocked = 0;
	if (h->ever_up)
		m->st.reconnects++;
	h->ever_up = 1;
	ep_set(m->net, h, 0);
	if (h->qn > 0)
		net_mark_dirty(m->net, h);
	med_debug(m, "%s: connected", h->name);
}

/* Drive the TLS handshake one step. */
static void tls_step(struct med_ctx *m, struct ho *h)
{
	int r = SSL_do_handshake(h->ssl), e;
	char what[128];

	if (r == 1) {
		became_up(m, h);
		return;
	}
	e = SSL_get_error(h->ssl, r);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		h->tls_want_write = e == SSL_ERROR_WANT_WRITE;
		ep_set(m->net, h, h->tls_want_write);
		return;
	}
	snprintf(what, sizeof(what), "%s: TLS handshake failed (check --tls-ca and the server "
	    "certificate, or the client certificate)", h->name);
	net_log_ssl(what);
	m->failed = 1;
	drop(m, h, 0, 0);
}

/* The non-blocking connect finished (or failed). */
static void connect_done(struct med_ctx *m, struct ho *h)
{
	struct med_net *nt = m->net;
	X509_VERIFY_PARAM *vp;
	const char *host;
	int err = 0;
	socklen_t l = sizeof(err);

	if (getsockopt(h->fd, SOL_SOCKET, SO_ERROR, &err, &l) != 0)
		err = errno;
	if (err != 0) {
		med_debug(m, "%s: connect: %s", h->name, strerror(err));
		close(h->fd);
		h->fd = -1;
		h->ep_events = 0;
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
		net_log_ssl("SSL_new failed");
		m->failed = 1;
		drop(m, h, 0, 0);
		return;
	}
	vp = SSL_get0_param(h->ssl);
	host = nt->host[h->hi3];
	if (X509_VERIFY_PARAM_set1_ip_asc(vp, host) != 1) {
		X509_VERIFY_PARAM_set1_host(vp, host, 0);
		SSL_set_tlsext_host_name(h->ssl, host);
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
			net_ka_set(m, h, 0);
			if (h->qn > 0)
				net_mark_dirty(m->net, h);   /* the flow stall is over */
		} else if (p.seq == 0 || p.seq >= h->ka_next) {
			ka_fail(m, h, "keep-alive response for a keep-alive never sent");
			return;
		}
		m->st.keepalive_ok++;
		h->fail_streak = 0;
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
			conn_log(m, "%s: the receiver closed the connection; reconnecting", h->name);
			drop(m, h, 1, 1);
			return;
		}
		if (n < 0) {
			conn_log(m, "%s: read: %s; reconnecting", h->name, strerror(errno));
			drop(m, h, 1, 1);
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
	const char *liid = m->o.keepalive_liid;
	int r;

	snprintf(ne, sizeof(ne), "med-%u", m->o.mediator_id);
	med_header(m, &hd, (const uint8_t *)liid, strlen(liid), 1, 0, h->ka_next, med_wall_us());
	hd.network_element_id = ne;
	hd.interception_point_id = NULL;
	lacre_dbuf_reset(&nt->ka);
	if ((r = etsi_enc_keepalive(&nt->ka, &hd)) != 0)
		return r;
	if ((r = net_enqueue(nt, h, nt->ka.p, nt->ka.len, MED_CLS_KEEPALIVE, -1, 0, h->ka_next)) != 0)
		return r;
	h->ka_next++;
	return 0;
}

/* Write once the garbage of --garbage, then reconnect. */
static void send_garbage(struct med_ctx *m, struct ho *h)
{
	struct med_net *nt = m->net;
	uint8_t g[64];
	size_t i, gl = 16 + med_rng_below(&nt->rng, 48);
	ssize_t n;

	memcpy(g, "GARBAGE!", 8);
	for (i = 8; i < gl; i++)
		g[i] = (uint8_t)med_rng_next(&nt->rng);
	h->garbage_here = 0;
	n = xwrite(h, g, gl);
	if (n > 0) {
		m->st.bytes_sent += (uint64_t)n;
		m->st.garbage_bytes += (uint64_t)n;
	}
	conn_log(m, "%s: sent %zd garbage bytes (--garbage); reconnecting", h->name, n);
	drop(m, h, 0, 0);
}

/* Write as much of h's queue as the socket takes.  Leaves h blocked (and
 * waiting for EPOLLOUT) when the socket is full, dirty when more pieces of
 * --split-writes are due, or idle when the queue is empty or stalled behind
 * an unanswered keep-alive. */
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
			break;   /* flow stall while a keep-alive is unanswered */
		if (h->head_done == 0 && h->garbage_here && h->complete_total >= 5 && q->cls != MED_CLS_KEEPALIVE) {
			send_garbage(m, h);
			return;
		}
		if (m->o.split_writes && pieces >= 4) {
			net_mark_dirty(nt, h);   /* the next pieces at the next turn */
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
			pieces++;
		}
		if (h->cut_pending && h->head_done + chunk > h->cut_at)
			chunk = h->cut_at - h->head_done;
		n = xwrite(h, p + h->head_done, chunk);
		if (n < 0) {
			conn_log(m, "%s: write failed (%s); reconnecting", h->name, strerror(errno));
			drop(m, h, 1, 1);
			return;
		}
		if (n == 0) {
			h->blocked = 1;
			ep_set(nt, h, 1);
			return;
		}
		m->st.bytes_sent += (uint64_t)n;
		h->head_done += (size_t)n;
		h->last_write = now;
		nt->last_progress = now;
		if (h->cut_pending && h->head_done == h->cut_at && h->head_done < q->len) {
			med_debug(m, "%s: cutting the connection inside a PDU (--disconnect-every)", h->name);
			drop(m, h, 1, 0);
			return;
		}
		if (h->head_done < q->len)
			continue;
		net_account(m, h, q, p);
		if (q->cls == MED_CLS_KEEPALIVE) {
			net_ka_set(m, h, m->o.keepalive_wait > 0);
			h->ka_out_seq = q->ka_seq;
			h->ka_deadline = now + m->o.keepalive_wait;
		} else {
			h->since_conn++;
			h->complete_total++;
			if (m->o.disconnect_every && h->since_conn >= m->o.disconnect_every)
				h->cut_pending = 1;
		}
		net_pop_head(nt, h);
	}
	if (h->state == ST_UP && h->blocked) {
		h->blocked = 0;
		ep_set(nt, h, 0);
	}
}

/* Timers of one handover: reconnects, keep-alives, keep-alive deadlines. */
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

/* Wait for events at most timeout seconds (nanosecond resolution). */
static int wait_events(struct med_net *nt, double timeout)
{
	struct timespec ts;
	int r;

	if (timeout < 0)
		timeout = 0;
	ts.tv_sec = (time_t)timeout;
	ts.tv_nsec = (long)((timeout - (double)ts.tv_sec) * 1e9);
	r = epoll_pwait2(nt->epfd, nt->evs, MAX_EVENTS, &ts, NULL);
	if (r < 0 && errno == ENOSYS)
		r = epoll_wait(nt->epfd, nt->evs, MAX_EVENTS, (int)(timeout * 1000.0 + 0.999));
	return r;
}

/* One turn: timers (every 10 ms), pending writes, then events for at most
 * timeout seconds.  Returns 0, or <0 after a fatal error. */
int med_net_service(struct med_ctx *m, double timeout)
{
	struct med_net *nt = m->net;
	double now = med_mono();
	size_t i, nd;
	int r, ne;

	if (nt->output)
		return 0;
	if (now >= nt->next_scan) {
		for (i = 0; i < nt->n; i++)
			if ((r = timers(m, &nt->h[i], now)) != 0)
				return r;
		nt->next_scan = now + SCAN_INTERVAL;
	}
	/* writes due; do_write may put a handover back (split writes) */
	nd = nt->n_dirty;
	for (i = 0; i < nd; i++) {
		struct ho *h = &nt->h[nt->dirty[i]];
		h->dirty = 0;
		if (h->state == ST_UP && !h->blocked)
			do_write(m, h);
	}
	memmove(nt->dirty, nt->dirty + nd, (nt->n_dirty - nd) * sizeof(*nt->dirty));
	nt->n_dirty -= nd;
	if (nt->n_dirty > 0)
		timeout = 0;
	if (nt->next_scan - now < timeout)
		timeout = nt->next_scan - now;
	ne = wait_events(nt, timeout);
	if (ne < 0) {
		if (errno == EINTR)
			return 0;
		med_log("epoll: %s", strerror(errno));
		return LACRE_E_IO;
	}
	for (r = 0; r < ne; r++) {
		struct ho *h = &nt->h[nt->evs[r].data.u32];
		uint32_t re = nt->evs[r].events;

		if (h->fd < 0)
			continue;
		if (h->state == ST_CONNECTING) {
			connect_done(m, h);
		} else if (h->state == ST_TLS) {
			tls_step(m, h);
		} else if (h->state == ST_UP) {
			if (re & (EPOLLIN | EPOLLHUP | EPOLLERR))
				do_read(m, h);
			if (h->state == ST_UP && (re & EPOLLOUT)) {
				h->blocked = 0;
				do_write(m, h);
			}
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

/* Drain every queue, send a final keep-alive on each handover and wait for
 * its answer (the receiver has then read everything before it), close. */
int med_net_finish(struct med_ctx *m, double deadline)
{
	struct med_net *nt = m->net;
	int final = m->o.final_keepalive && m->o.keepalive > 0 && m->o.keepalive_wait > 0;
	size_t i;
	int r = 0;

	if (nt->output)
		return net_finish_output(m);
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
				busy = 1;
			}
		}
		if (!busy)
			break;
		if (now >= deadline) {
			med_log("stopping with %zu PDU(s) unsent or keep-alives unanswered at the deadline",
			    nt->queued);
			m->st.errors++;
			m->failed = 1;
			break;
		}
		if ((r = med_net_service(m, deadline - now < 0.01 ? deadline - now : 0.01)) != 0)
			break;
	}
	if (nt->conn_logs_suppressed)
		med_log("%lu more connection events not shown", nt->conn_logs_suppressed);
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
	if (net_sent_log_close(nt) != LACRE_OK && r == 0)
		r = LACRE_E_IO;
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
	free(nt->evs);
	free(nt->dirty);
	if (nt->epfd >= 0)
		close(nt->epfd);
	if (nt->ctx)
		SSL_CTX_free(nt->ctx);
	lacre_dbuf_free(&nt->ka);
	(void)net_sent_log_close(nt);
	free(nt);
	m->net = NULL;
}

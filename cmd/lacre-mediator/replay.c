/*
 * replay.c - lacre-mediator --replay FILE: send streams that --output wrote
 * before, byte for byte, as cheaply as the kernel allows.
 *
 * Why: a benchmark of the receiver on a small machine shares its cores with
 * the sender; the live generator (BER encoding, synthesis, queues, 16 KiB
 * records) costs a CPU share that the receiver then lacks.  Replaying a
 * stream written once by `--output` (same seed, start time and options, so
 * the same PDUs) costs the kernel copy and little else: plain TCP goes out
 * with sendfile() straight from the page cache, TLS with SSL_write() of up
 * to 1 MiB at a time (full 16 KiB records).
 *
 * Files: with --connections 1, FILE.hi2 and FILE.hi3; with N > 1,
 * FILE.<pair>.hi2 and FILE.<pair>.hi3 for pair 0..N-1 (what --output writes
 * for the same N).  Each file is checked before the clock starts: whole
 * PDUs only (etsi_pdu_size), at most MED_MAX_PDU each.  When its last PDU is
 * a keep-alive (--output ends every file with one), the receiver must answer
 * it with a keep-alive response of the same number before the connection is
 * done, as the live mediator requires; anything else the receiver sends is a
 * failure.  The elapsed time runs from the first connect to the last answer,
 * so it covers everything the receiver took in.
 *
 * Output: one JSON line on stdout (documented in docs/cmd-lacre-mediator.md):
 * pdus_sent, bytes_sent, elapsed_s, keepalives_answered, cpu_user_s,
 * cpu_sys_s (this process, getrusage).  Exit 0 when every byte was written
 * and every final keep-alive answered, 1 otherwise.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "lacre/err.h"
#include "lacre/etsi.h"
#include "mediator.h"
#include "net_int.h"

#define RP_CHUNK (1u << 20)      /* bytes per write call */
#define RP_IN 4096               /* answer bytes buffered per handover */

/* One handover being replayed. */
struct rp_ho {
	char name[24];
	int hi3;
	int file_fd;                 /* the stream file (sendfile source) */
	const uint8_t *p;            /* its bytes, mapped */
	size_t len;                  /* file length */
	off_t off;                   /* bytes written */
	uint64_t pdus;
	int want_ka;                 /* the last PDU is a keep-alive */
	uint64_t ka_seq;             /* its number */
	int answered;
	int fd;
	SSL *ssl;
	int done;
	uint8_t in[RP_IN];
	size_t in_len;
};

/* Map h's file and check that it is whole PDUs; note a final keep-alive. */
static int rp_map(struct rp_ho *h, const char *path)
{
	struct stat st;
	size_t at = 0, n, last = 0;
	struct etsi_pdu pd;
	int r;

	if ((h->file_fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(h->file_fd, &st) != 0) {
		med_log("cannot open %s: %s (write it first with --output and the same --connections)",
		    path, strerror(errno));
		return LACRE_E_IO;
	}
	h->len = (size_t)st.st_size;
	if (h->len == 0)
		return 0;
	h->p = mmap(NULL, h->len, PROT_READ, MAP_PRIVATE | MAP_POPULATE, h->file_fd, 0);
	if (h->p == MAP_FAILED) {
		h->p = NULL;
		med_log("cannot map %s: %s", path, strerror(errno));
		return LACRE_E_IO;
	}
	while (at < h->len) {
		r = etsi_pdu_size(h->p + at, h->len - at, MED_MAX_PDU, &n);
		if (r != 0) {
			med_log("%s: no whole PDU at offset %zu (%s): not a stream written by --output",
			    path, at, lacre_strerror(r));
			return LACRE_E_MALFORMED;
		}
		last = at;
		at += n;
		h->pdus++;
	}
	if (etsi_decode(h->p + last, h->len - last, &pd) == 0 && pd.kind == ETSI_KIND_KEEPALIVE) {
		h->want_ka = 1;
		h->ka_seq = pd.seq;
	}
	return 0;
}

/* Connect h (blocking: loopback), TLS handshake included, then make the
 * socket non-blocking. */
static int rp_connect(struct med_ctx *m, struct rp_ho *h, const struct sockaddr_storage *a,
    socklen_t alen, SSL_CTX *ctx, const char *host)
{
	int one = 1;

	if ((h->fd = socket(a->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    connect(h->fd, (const struct sockaddr *)a, alen) != 0) {
		med_log("%s: cannot connect to %s: %s (is the receiver listening?)", h->name, host,
		    strerror(errno));
		return LACRE_E_NETWORK;
	}
	setsockopt(h->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (ctx) {
		X509_VERIFY_PARAM *vp;
		if (!(h->ssl = SSL_new(ctx)) || SSL_set_fd(h->ssl, h->fd) != 1) {
			net_log_ssl("SSL_new failed");
			return LACRE_E_CRYPTO;
		}
		vp = SSL_get0_param(h->ssl);
		if (X509_VERIFY_PARAM_set1_ip_asc(vp, host) != 1) {
			X509_VERIFY_PARAM_set1_host(vp, host, 0);
			SSL_set_tlsext_host_name(h->ssl, host);
		}
		if (SSL_connect(h->ssl) != 1) {
			char what[96];
			snprintf(what, sizeof(what), "%s: TLS handshake failed (check --tls-ca and the server "
			    "certificate)", h->name);
			net_log_ssl(what);
			return LACRE_E_CRYPTO;
		}
	}
	if (fcntl(h->fd, F_SETFL, fcntl(h->fd, F_GETFL) | O_NONBLOCK) != 0)
		return LACRE_E_NETWORK;
	return 0;
}

/* Write as much of h's file as the socket takes: 1 written something or
 * would block, -1 error. */
static int rp_write(struct rp_ho *h)
{
	while ((size_t)h->off < h->len) {
		size_t want = h->len - (size_t)h->off;
		ssize_t n;

		if (want > RP_CHUNK)
			want = RP_CHUNK;
		if (h->ssl) {
			int r = SSL_write(h->ssl, h->p + h->off, (int)want), e;
			if (r > 0) {
				h->off += r;
				continue;
			}
			e = SSL_get_error(h->ssl, r);
			if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ)
				return 1;
			ERR_clear_error();
			return -1;
		}
		n = sendfile(h->fd, h->file_fd, &h->off, want);
		if (n > 0)
			continue;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 1;
		return -1;
	}
	return 1;
}

/* Read what the receiver sent: only the answer to the final keep-alive is
 * acceptable.  0 fine, -1 failure (logged). */
static int rp_read(struct med_ctx *m, struct rp_ho *h)
{
	for (;;) {
		ssize_t n;
		size_t len;
		struct etsi_pdu pd;
		int r;

		if (h->ssl) {
			int sr = SSL_read(h->ssl, h->in + h->in_len, (int)(sizeof(h->in) - h->in_len)), e;
			if (sr > 0) {
				n = sr;
			} else {
				e = SSL_get_error(h->ssl, sr);
				if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
					return 0;
				ERR_clear_error();
				n = e == SSL_ERROR_ZERO_RETURN ? 0 : -1;
			}
		} else {
			n = read(h->fd, h->in + h->in_len, sizeof(h->in) - h->in_len);
			if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
				return 0;
		}
		if (n <= 0) {
			if (h->done)
				return 0;
			med_log("%s: the receiver closed the connection after %lld of %zu bytes, before "
			    "answering the final keep-alive", h->name, (long long)h->off, h->len);
			return -1;
		}
		h->in_len += (size_t)n;
		while (h->in_len > 0) {
			r = etsi_pdu_size(h->in, h->in_len, sizeof(h->in), &len);
			if (r == LACRE_E_INCOMPLETE && h->in_len < sizeof(h->in))
				break;
			if (r != 0 || etsi_decode(h->in, len, &pd) != 0 ||
			    pd.kind != ETSI_KIND_KEEPALIVE_RESPONSE || !h->want_ka || pd.seq != h->ka_seq ||
			    (size_t)h->off < h->len || h->answered) {
				med_log("%s: the receiver sent something that is not the answer to the final "
				    "keep-alive %llu (first byte %02x)", h->name,
				    (unsigned long long)h->ka_seq, h->in[0]);
				return -1;
			}
			h->answered = 1;
			m->st.keepalive_ok++;
			memmove(h->in, h->in + len, h->in_len - len);
			h->in_len -= len;
		}
	}
}

/* h is done when every byte is written and the final keep-alive, if any,
 * answered. */
static int rp_finished(const struct rp_ho *h)
{
	return (size_t)h->off >= h->len && (!h->want_ka || h->answered);
}

/* Replay every handover's file.  See mediator.h. */
int med_replay(struct med_ctx *m)
{
	size_t n = 2 * (size_t)m->o.connections, left, i;
	struct rp_ho *hs = calloc(n, sizeof(*hs));
	struct sockaddr_storage addr[2];
	socklen_t alen[2];
	char host[2][256], path[4096];
	SSL_CTX *ctx = NULL;
	struct epoll_event ev, evs[64];
	struct rusage ru;
	double t0, last_progress, now;
	int ep = -1, r = 0;

	if (!hs)
		return LACRE_E_NOMEM;
	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < n; i++)
		hs[i].fd = hs[i].file_fd = -1;
	if ((r = net_resolve(m->o.hi2, m->o.allow_remote, &addr[0], &alen[0], host[0])) != 0 ||
	    (r = net_resolve(m->o.hi3, m->o.allow_remote, &addr[1], &alen[1], host[1])) != 0 ||
	    (m->o.tls && (r = net_tls_ctx(m, &ctx)) != 0))
		goto out;
	for (i = 0; i < n; i++) {
		struct rp_ho *h = &hs[i];
		h->hi3 = (int)(i & 1);
		snprintf(h->name, sizeof(h->name), "%s#%zu", h->hi3 ? "hi3" : "hi2", i / 2);
		if (m->o.connections == 1)
			snprintf(path, sizeof(path), "%s.%s", m->o.replay, h->hi3 ? "hi3" : "hi2");
		else
			snprintf(path, sizeof(path), "%s.%zu.%s", m->o.replay, i / 2, h->hi3 ? "hi3" : "hi2");
		if ((r = rp_map(h, path)) != 0)
			goto out;
	}
	if ((ep = epoll_create1(EPOLL_CLOEXEC)) < 0) {
		r = LACRE_E_IO;
		goto out;
	}
	t0 = med_mono();
	for (i = 0; i < n; i++) {
		struct rp_ho *h = &hs[i];
		if ((r = rp_connect(m, h, &addr[h->hi3], alen[h->hi3], ctx, host[h->hi3])) != 0)
			goto out;
		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLIN | EPOLLOUT;
		ev.data.ptr = h;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, h->fd, &ev) != 0) {
			r = LACRE_E_IO;
			goto out;
		}
	}
	left = n;
	last_progress = t0;
	while (left > 0) {
		int k = epoll_wait(ep, evs, 64, 200);
		now = med_mono();
		if (k < 0 && errno != EINTR) {
			r = LACRE_E_IO;
			goto out;
		}
		if (k > 0)
			last_progress = now;
		else if (m->o.stall_timeout > 0 && now - last_progress > m->o.stall_timeout) {
			med_log("nothing moved for %.0f s: the receiver stalled (raise --stall-timeout?)",
			    m->o.stall_timeout);
			r = LACRE_E_TIMEOUT;
			goto out;
		}
		for (int j = 0; j < k; j++) {
			struct rp_ho *h = evs[j].data.ptr;
			if (h->done)
				continue;
			if ((evs[j].events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) && (size_t)h->off < h->len &&
			    rp_write(h) < 0) {
				med_log("%s: write failed after %lld of %zu bytes (%s): the receiver hung up?",
				    h->name, (long long)h->off, h->len, strerror(errno));
				r = LACRE_E_NETWORK;
				goto out;
			}
			if ((evs[j].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) || h->ssl) {
				if (rp_read(m, h) < 0) {
					r = LACRE_E_NETWORK;
					goto out;
				}
			}
			if ((size_t)h->off >= h->len) {
				/* written: only the answer is awaited */
				ev.events = EPOLLIN;
				ev.data.ptr = h;
				epoll_ctl(ep, EPOLL_CTL_MOD, h->fd, &ev);
			}
			if (rp_finished(h)) {
				/* out of the set: a level-triggered EOF would spin */
				epoll_ctl(ep, EPOLL_CTL_DEL, h->fd, NULL);
				h->done = 1;
				left--;
				m->st.bytes_sent += h->len;
				m->st.pdus_sent += h->pdus;
				m->st.keepalives_sent += (uint64_t)h->want_ka;
			}
		}
	}
	now = med_mono();
	getrusage(RUSAGE_SELF, &ru);
	printf("{\"pdus_sent\":%llu,\"bytes_sent\":%llu,\"elapsed_s\":%.6f,\"keepalives_answered\":%llu,"
	    "\"cpu_user_s\":%.3f,\"cpu_sys_s\":%.3f}\n", (unsigned long long)m->st.pdus_sent,
	    (unsigned long long)m->st.bytes_sent, now - t0, (unsigned long long)m->st.keepalive_ok,
	    (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6,
	    (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6);
	fflush(stdout);
out:
	for (i = 0; i < n; i++) {
		struct rp_ho *h = &hs[i];
		if (h->ssl) {
			if (r == 0)
				SSL_shutdown(h->ssl);
			SSL_free(h->ssl);
		}
		if (h->fd >= 0)
			close(h->fd);
		if (h->p)
			munmap((void *)h->p, h->len);
		if (h->file_fd >= 0)
			close(h->file_fd);
	}
	if (ep >= 0)
		close(ep);
	SSL_CTX_free(ctx);
	free(hs);
	return r;
}

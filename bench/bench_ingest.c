/*
 * bench_ingest.c - figures for the handover receiver (printed, never
 * asserted).  Loopback only.
 *
 *   1. decode + accounting alone, in memory (framer, etsi_decode,
 *      stream accounting): the CPU ceiling, PDUs/s and MB/s;
 *   2. throughput over plain TCP and over TLS: a child process runs the
 *      receiver with a counting sink, the parent sends a pre-built stream of
 *      CC and IRI PDUs over several connections; time until the child has
 *      accounted every PDU;
 *   3. memory per idle connection: the child's RSS before and after N idle
 *      connections (default 10,000), plain and TLS (after the handshake).
 *
 * The receiver runs in a child so that each side has its own descriptor
 * limit.  Usage: bench_ingest [IDLE_CONNS] [STREAM_MB]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <malloc.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "lacre/err.h"
#include "lacre/etsi.h"
#include "lacre/etsi_enc.h"
#include "lacre/ingest.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Build a stream of about mb MiB: per target, IRI + CC (RTP-sized) PDUs. */
static void build_stream(struct lacre_dbuf *out, size_t mb, size_t *n_pdus, int salt)
{
	struct etsi_enc_header h;
	struct etsi_enc_ipaddr a;
	uint8_t rtp[172];
	char liid[32];
	uint64_t seq[64][2];

	memset(seq, 0, sizeof(seq));
	memset(&a, 0, sizeof(a));
	memset(rtp, 0x55, sizeof(rtp));
	*n_pdus = 0;
	while (out->len < mb << 20) {
		for (int t = 0; t < 64 && out->len < mb << 20; t++) {
			int cc = (*n_pdus % 25) != 0;
			snprintf(liid, sizeof(liid), "LIBENCH%02d%04d", salt, t);
			etsi_enc_header_defaults(&h);
			h.liid = (const uint8_t *)liid;
			h.liid_len = strlen(liid);
			h.operator_id = "bench";
			h.network_element_id = "ne1";
			h.has_cin = 1;
			h.cin = (uint32_t)(1000 + t);
			h.seq = seq[t][cc]++;
			h.time_us = 1767225600000000LL + (int64_t)*n_pdus * 20000;
			if (cc)
				etsi_enc_ipmmcc(out, &h, (int)(*n_pdus & 1), rtp, sizeof(rtp));
			else
				etsi_enc_ipmmiri(out, &h, 3, &a, &a, rtp, 120);
			(*n_pdus)++;
		}
	}
}

static int noop_ev(void *c, const char *j)
{
	(void)c;
	(void)j;
	return 0;
}

/* 1. framer + decode + accounting in memory. */
struct mem_ctx {
	struct ingest_acct *a;
	size_t n;
};

static int mem_pdu(void *arg, const uint8_t *p, size_t len, uint64_t off)
{
	struct mem_ctx *m = arg;
	struct etsi_pdu d;
	(void)off;
	if (etsi_decode(p, len, &d) != LACRE_OK)
		return LACRE_E_MALFORMED;
	m->n++;
	return ingest_acct_pdu(m->a, p, len, &d, d.kind == ETSI_KIND_IRI ? LACRE_HI2 : LACRE_HI3, 1);
}

static void ev_null(void *arg, const char *json)
{
	(void)arg;
	(void)json;
}

static void bench_memory(const struct lacre_dbuf *s, const size_t *n_pdus, int ns)
{
	struct ingest_framer f;
	struct mem_ctx m = { NULL, 0 };
	double t0, t;
	size_t bytes = 0;

	ingest_acct_new(64u << 20, ev_null, NULL, &m.a);
	t0 = now_s();
	for (int i = 0; i < ns; i++) {
		ingest_framer_init(&f, 0);
		for (size_t off = 0; off < s[i].len; off += 65536)
			ingest_framer_feed(&f, s[i].p + off, s[i].len - off < 65536 ? s[i].len - off : 65536,
			                   mem_pdu, &m, NULL);
		ingest_framer_free(&f);
		bytes += s[i].len;
	}
	t = now_s() - t0;
	(void)n_pdus;
	printf("decode+accounting in memory: %zu PDUs, %.1f MB in %.2f s: %.0f PDUs/s, %.0f MB/s\n",
	       m.n, (double)bytes / 1e6, t, (double)m.n / t, (double)bytes / 1e6 / t);
	ingest_acct_free(m.a);
}

/* ---- child: the receiver with a counting sink ---- */

struct child_sink {
	size_t n, want;
	int notify;
	double t_first;
};

static int cs_record(void *ctx, const struct lacre_record *r)
{
	struct child_sink *c = ctx;
	(void)r;
	if (++c->n == c->want) {
		ssize_t k = write(c->notify, "d", 1);
		(void)k;
	}
	return 0;
}

static struct ingest_server *g_srv;

static void on_term(int sig)
{
	(void)sig;
	if (g_srv)
		ingest_server_stop(g_srv);
}

/* Fork the receiver; write its ports to *hi2 / *hi3.  The child's sink
 * writes one byte to *note when want records have arrived. */
static pid_t spawn(int tls, const char *cert, const char *key, size_t want, int *hi2, int *note)
{
	int pp[2], np[2];
	pid_t pid;

	if (pipe(pp) != 0 || pipe(np) != 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		struct ingest_config cfg;
		struct child_sink cs = { 0, want, np[1], 0 };
		struct lacre_sink sk = { &cs, cs_record, noop_ev, NULL, NULL, NULL, NULL };
		int port;
		signal(SIGTERM, on_term);
		malloc_trim(0);   /* give back the parent's freed heap: measure our own pages */
		ingest_config_defaults(&cfg);
		cfg.hi2_addr = "127.0.0.1:0";
		cfg.hi2_tls = tls;
		cfg.tls_cert = cert;
		cfg.tls_key = key;
		cfg.max_conns = 30000;
		cfg.max_conns_per_peer = 30000;
		cfg.quiet = 1;
		if (ingest_server_new(&cfg, &sk, &g_srv) != LACRE_OK)
			_exit(1);
		port = ingest_server_port(g_srv, LACRE_HI2);
		if (write(pp[1], &port, sizeof(port)) != sizeof(port))
			_exit(1);
		ingest_server_run(g_srv);
		ingest_server_free(g_srv);
		_exit(0);
	}
	close(pp[1]);
	close(np[1]);
	if (read(pp[0], hi2, sizeof(*hi2)) != sizeof(*hi2)) {
		close(pp[0]);
		return -1;
	}
	close(pp[0]);
	*note = np[0];
	return pid;
}

static long rss_kb(pid_t pid)
{
	char path[64], line[256];
	FILE *f;
	long kb = -1;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (!(f = fopen(path, "r")))
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static int open_fds(pid_t pid)
{
	char cmd[128], buf[32];
	FILE *p;
	int n = -1;
	snprintf(cmd, sizeof(cmd), "ls /proc/%d/fd | wc -l", (int)pid);
	if ((p = popen(cmd, "r"))) {
		if (fgets(buf, sizeof(buf), p))
			n = atoi(buf);
		pclose(p);
	}
	return n;
}

static int dial(int port)
{
	struct sockaddr_in a;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Self-signed P-256 certificate into dir/srv.{crt,key}. */
static int make_cert(const char *dir)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509 *x = X509_new();
	char path[512];
	FILE *f;

	if (!k || !x)
		return -1;
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, k);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
	                           (const unsigned char *)"bench", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	X509_sign(x, k, EVP_sha256());
	snprintf(path, sizeof(path), "%s/srv.crt", dir);
	if (!(f = fopen(path, "w")))
		return -1;
	PEM_write_X509(f, x);
	fclose(f);
	snprintf(path, sizeof(path), "%s/srv.key", dir);
	if (!(f = fopen(path, "w")))
		return -1;
	PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
	fclose(f);
	X509_free(x);
	EVP_PKEY_free(k);
	return 0;
}

/* 2. throughput: nconn connections share the streams round-robin. */
static void bench_throughput(int tls, const char *cert, const char *key,
                             struct lacre_dbuf *streams, size_t *npdus, int nconn)
{
	int port = 0, note = -1, fds[16];
	SSL_CTX *cx = NULL;
	SSL *ssl[16];
	size_t total = 0, bytes = 0, off[16];
	pid_t pid;
	double t0, t;
	char b;
	int i, left;

	for (i = 0; i < nconn; i++) {
		total += npdus[i];
		bytes += streams[i].len;
		off[i] = 0;
	}
	pid = spawn(tls, cert, key, total, &port, &note);
	if (pid < 0) {
		printf("throughput: cannot start the receiver\n");
		return;
	}
	if (tls)
		cx = SSL_CTX_new(TLS_client_method());
	for (i = 0; i < nconn; i++) {
		fds[i] = dial(port);
		ssl[i] = NULL;
		if (tls) {
			ssl[i] = SSL_new(cx);
			SSL_set_fd(ssl[i], fds[i]);
			SSL_connect(ssl[i]);
		}
	}
	t0 = now_s();
	/* interleave writes over the connections, 64 KiB at a time */
	do {
		left = 0;
		for (i = 0; i < nconn; i++) {
			size_t n = streams[i].len - off[i];
			if (n == 0)
				continue;
			if (n > 65536)
				n = 65536;
			if (tls) {
				int k = SSL_write(ssl[i], streams[i].p + off[i], (int)n);
				if (k > 0)
					off[i] += (size_t)k;
			} else {
				ssize_t k = send(fds[i], streams[i].p + off[i], n, MSG_NOSIGNAL);
				if (k > 0)
					off[i] += (size_t)k;
			}
			left |= off[i] < streams[i].len;
		}
	} while (left);
	{
		struct pollfd p = { note, POLLIN, 0 };
		if (poll(&p, 1, 120000) <= 0 || read(note, &b, 1) != 1)
			printf("throughput: timeout waiting for the receiver\n");
	}
	t = now_s() - t0;
	printf("throughput over %s, %d connections: %zu PDUs, %.1f MB in %.2f s: %.0f PDUs/s, %.1f MB/s\n",
	       tls ? "TLS" : "plain TCP", nconn, total, (double)bytes / 1e6, t,
	       (double)total / t, (double)bytes / 1e6 / t);
	for (i = 0; i < nconn; i++) {
		if (ssl[i])
			SSL_free(ssl[i]);
		close(fds[i]);
	}
	SSL_CTX_free(cx);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	close(note);
}

/* 3. idle connections: RSS delta of the receiver. */
static void bench_idle(int tls, const char *cert, const char *key, int n)
{
	int port = 0, note = -1, *fds = calloc((size_t)n, sizeof(int)), i, ok = 0;
	SSL_CTX *cx = tls ? SSL_CTX_new(TLS_client_method()) : NULL;
	SSL **ssl = calloc((size_t)n, sizeof(SSL *));
	long before, after;
	pid_t pid = spawn(tls, cert, key, (size_t)-1, &port, &note);
	double t0;

	if (pid < 0 || !fds || !ssl) {
		printf("idle: cannot start the receiver\n");
		return;
	}
	usleep(200000);
	before = rss_kb(pid);
	t0 = now_s();
	for (i = 0; i < n; i++) {
		if (i % 2000 == 0 && i)
			printf("  %d connections after %.1f s\n", i, now_s() - t0);
		fds[i] = dial(port);
		if (fds[i] < 0)
			break;
		if (tls) {
			ssl[i] = SSL_new(cx);
			SSL_set_fd(ssl[i], fds[i]);
			if (SSL_connect(ssl[i]) != 1)
				break;
		}
		ok++;
	}
	/* wait until the receiver holds them all (bounded) */
	for (int w = 0; w < 100 && open_fds(pid) < ok; w++)
		usleep(100000);
	usleep(500000);
	after = rss_kb(pid);
	printf("idle connections over %s: %d open (%.1f s to open), receiver RSS %ld -> %ld KiB: %.2f KiB per idle connection\n",
	       tls ? "TLS" : "plain TCP", ok, now_s() - t0, before, after,
	       ok ? (double)(after - before) / ok : 0.0);
	for (i = 0; i < ok; i++) {
		if (ssl[i])
			SSL_free(ssl[i]);
		close(fds[i]);
	}
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	close(note);
	SSL_CTX_free(cx);
	free(ssl);
	free(fds);
}

int main(int argc, char **argv)
{
	int idle = argc > 1 ? atoi(argv[1]) : 10000;
	size_t mb = argc > 2 ? (size_t)atoi(argv[2]) : 64;
	char dir[] = "/tmp/lacre-bench-ingest-XXXXXX", cert[512], key[512];
	struct lacre_dbuf streams[8];
	size_t npdus[8];
	struct rlimit rl;
	int nconn = 8;

	signal(SIGPIPE, SIG_IGN);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		if ((rlim_t)idle + 64 > rl.rlim_cur) {
			idle = (int)rl.rlim_cur - 64;
			printf("note: descriptor limit %lu: %d idle connections\n", (unsigned long)rl.rlim_cur, idle);
		}
	}
	if (!mkdtemp(dir) || make_cert(dir) != 0) {
		printf("cannot make a certificate\n");
		return 1;
	}
	snprintf(cert, sizeof(cert), "%s/srv.crt", dir);
	snprintf(key, sizeof(key), "%s/srv.key", dir);
	for (int i = 0; i < nconn; i++) {
		lacre_dbuf_init(&streams[i], (mb << 20) / (size_t)nconn + (1u << 20));
		build_stream(&streams[i], mb / (size_t)nconn ? mb / (size_t)nconn : 1, &npdus[i], i);
	}
	bench_idle(0, cert, key, idle);
	bench_idle(1, cert, key, idle);
	bench_memory(streams, npdus, nconn);
	bench_throughput(0, cert, key, streams, npdus, nconn);
	bench_throughput(1, cert, key, streams, npdus, nconn);
	for (int i = 0; i < nconn; i++)
		lacre_dbuf_free(&streams[i]);
	unlink(cert);
	unlink(key);
	rmdir(dir);
	return 0;
}

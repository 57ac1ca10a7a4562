/*
 * test_ingest_server.c - the receiver over real loopback sockets: a server
 * thread with an in-memory sink, and small clients (plain and TLS) that
 * send the OpenLI vectors and hostile input.  After every hostile case a
 * good client on another connection must still be served (its keep-alives
 * answered), and at the end every record must be in the sink
 * byte-identical.  Only 127.0.0.1; every wait is bounded.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "harness.h"
#include "lacre/err.h"
#include "lacre/etsi.h"
#include "lacre/etsi_enc.h"
#include "lacre/ingest.h"

/* ---- in-memory sink ---- */

struct memsink {
	pthread_mutex_t mu;
	struct lacre_dbuf recs;     /* u32 len + pdu, per record */
	struct lacre_dbuf evs;      /* JSON lines */
	size_t n_recs;
	int flushes;
	/* the fake full disk: refuse the next nospace_left records, or all of
	 * them while nospace_forever, with LACRE_E_NOSPACE (counted in refused) */
	int nospace_left;
	int nospace_forever;
	int refused;
	int ev_nospace_left;        /* the same for the next events */
	int ev_refused;
};

static int ms_record(void *ctx, const struct lacre_record *r)
{
	struct memsink *m = ctx;
	pthread_mutex_lock(&m->mu);
	if (m->nospace_forever || m->nospace_left > 0) {
		if (m->nospace_left > 0)
			m->nospace_left--;
		m->refused++;
		pthread_mutex_unlock(&m->mu);
		return LACRE_E_NOSPACE;
	}
	lacre_dbuf_add_u32be(&m->recs, (uint32_t)r->pdu_len);
	lacre_dbuf_add(&m->recs, r->pdu, r->pdu_len);
	m->n_recs++;
	pthread_mutex_unlock(&m->mu);
	return LACRE_OK;
}

static int ms_event(void *ctx, const char *j)
{
	struct memsink *m = ctx;
	pthread_mutex_lock(&m->mu);
	if (m->ev_nospace_left > 0) {
		m->ev_nospace_left--;
		m->ev_refused++;
		pthread_mutex_unlock(&m->mu);
		return LACRE_E_NOSPACE;
	}
	lacre_dbuf_add_str(&m->evs, j);
	lacre_dbuf_add_u8(&m->evs, '\n');
	pthread_mutex_unlock(&m->mu);
	return LACRE_OK;
}

static int ms_flush(void *ctx)
{
	struct memsink *m = ctx;
	pthread_mutex_lock(&m->mu);
	m->flushes++;
	pthread_mutex_unlock(&m->mu);
	return LACRE_OK;
}

/* Occurrences of needle in the events so far. */
static int ms_count(struct memsink *m, const char *needle)
{
	const char *s;
	int n = 0;
	pthread_mutex_lock(&m->mu);
	if (lacre_dbuf_cstr(&m->evs, &s) == LACRE_OK)
		while ((s = strstr(s, needle))) {
			n++;
			s++;
		}
	pthread_mutex_unlock(&m->mu);
	return n;
}

/* ---- server thread ---- */

struct srv {
	struct ingest_server *s;
	struct memsink m;
	struct lacre_sink sink;
	pthread_t th;
	int rc;
	int hi2, hi3;
};

static void *srv_main(void *arg)
{
	struct srv *v = arg;
	v->rc = ingest_server_run(v->s);
	return NULL;
}

static int srv_start_nospace(struct srv *v, struct ingest_config *cfg, int left, int forever);

static int srv_start(struct srv *v, struct ingest_config *cfg)
{
	return srv_start_nospace(v, cfg, 0, 0);
}

/* Start a server whose sink refuses its first `left` records (or all, while
 * `forever`) for want of space. */
static int srv_start_nospace(struct srv *v, struct ingest_config *cfg, int left, int forever)
{
	int r;
	memset(v, 0, sizeof(*v));
	v->m.nospace_left = left;
	v->m.nospace_forever = forever;
	pthread_mutex_init(&v->m.mu, NULL);
	lacre_dbuf_init(&v->m.recs, 1u << 28);
	lacre_dbuf_init(&v->m.evs, 1u << 28);
	v->sink.ctx = &v->m;
	v->sink.record = ms_record;
	v->sink.event = ms_event;
	v->sink.flush = ms_flush;
	cfg->quiet = 1;
	if ((r = ingest_server_new(cfg, &v->sink, &v->s)) != LACRE_OK)
		return r;
	v->hi2 = ingest_server_port(v->s, LACRE_HI2);
	v->hi3 = ingest_server_port(v->s, LACRE_HI3);
	if (pthread_create(&v->th, NULL, srv_main, v) != 0)
		return LACRE_E_INTERNAL;
	return LACRE_OK;
}

static int srv_stop(struct srv *v)
{
	ingest_server_stop(v->s);
	pthread_join(v->th, NULL);
	return v->rc;
}

static void srv_free(struct srv *v)
{
	ingest_server_free(v->s);
	lacre_dbuf_free(&v->m.recs);
	lacre_dbuf_free(&v->m.evs);
	pthread_mutex_destroy(&v->m.mu);
}

/* ---- clients ---- */

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int cli_connect(int port)
{
	struct sockaddr_in a;
	struct timeval tv = { 5, 0 };
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
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

static int send_all(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;
	while (n) {
		ssize_t k = send(fd, b, n, MSG_NOSIGNAL);
		if (k <= 0)
			return -1;
		b += k;
		n -= (size_t)k;
	}
	return 0;
}

static int recv_exact(int fd, uint8_t *p, size_t n)
{
	while (n) {
		ssize_t k = recv(fd, p, n, 0);
		if (k <= 0)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/* 1 when the server closes fd within ms (EOF or reset), else 0. */
static int closed_within(int fd, int ms)
{
	int64_t end = now_ms() + ms;
	uint8_t b[4096];

	while (now_ms() < end) {
		struct pollfd p = { fd, POLLIN, 0 };
		if (poll(&p, 1, 100) > 0) {
			ssize_t k = recv(fd, b, sizeof(b), MSG_DONTWAIT);
			if (k == 0 || (k < 0 && errno == ECONNRESET))
				return 1;
		}
	}
	return 0;
}

/* One OpenLI capture of the shared vectors, whole; NULL (the test already
 * failed, naming the missing file) when ../shared is absent. */
static uint8_t *load(const char *name, size_t *len)
{
	char rel[256];

	snprintf(rel, sizeof(rel), "openli-a/raw/%s", name);
	return t_vector(rel, len);
}

/* Expected responses to every keep-alive of a stream, concatenated; the
 * data PDUs concatenated in rec-sink framing into recs. */
static void expected(const uint8_t *p, size_t n, struct lacre_dbuf *resp, struct lacre_dbuf *recs)
{
	size_t off = 0, sz;
	struct etsi_pdu d;

	while (off < n && etsi_pdu_size(p + off, n - off, 1u << 24, &sz) == LACRE_OK) {
		if (etsi_decode(p + off, sz, &d) == LACRE_OK) {
			if (d.kind == ETSI_KIND_KEEPALIVE) {
				ingest_keepalive_response(&d, resp);
			} else if (recs) {
				lacre_dbuf_add_u32be(recs, (uint32_t)sz);
				lacre_dbuf_add(recs, p + off, sz);
			}
		}
		off += sz;
	}
}

/* A good client: send hi2.bin in 997-byte pieces, read all responses. */
static int good_client(int port, const uint8_t *p, size_t n, const struct lacre_dbuf *resp)
{
	int fd = cli_connect(port), ok = 0;
	uint8_t *got = malloc(resp->len);
	size_t off;

	if (fd < 0 || !got)
		goto done;
	for (off = 0; off < n; off += 997)
		if (send_all(fd, p + off, n - off < 997 ? n - off : 997) != 0)
			goto done;
	if (recv_exact(fd, got, resp->len) != 0)
		goto done;
	ok = memcmp(got, resp->p, resp->len) == 0;
done:
	if (fd >= 0)
		close(fd);
	free(got);
	return ok;
}

/* The OpenLI streams: every record byte-identical, every keep-alive
 * answered with the right bytes, nothing else sent. */
static void test_openli_streams(void)
{
	struct ingest_config cfg;
	struct srv v;
	size_t n2, n3;
	uint8_t *h2 = load("hi2.bin", &n2), *h3 = load("hi3.bin", &n3);
	struct lacre_dbuf r2, r3, recs;
	uint8_t extra;
	int f2, f3;

	CHECK(h2 && h3);
	lacre_dbuf_init(&r2, 1u << 20);
	lacre_dbuf_init(&r3, 1u << 20);
	lacre_dbuf_init(&recs, 1u << 24);
	expected(h2, n2, &r2, &recs);
	expected(h3, n3, &r3, &recs);
	CHECK_EQ_INT(r2.len, 500);
	ingest_config_defaults(&cfg);
	cfg.hi2_addr = "127.0.0.1:0";
	cfg.hi3_addr = "127.0.0.1:0";
	CHECK_OK(srv_start(&v, &cfg));
	f2 = cli_connect(v.hi2);
	CHECK(f2 >= 0);
	CHECK(send_all(f2, h2, n2) == 0);
	{
		uint8_t got[500];
		CHECK(recv_exact(f2, got, 500) == 0);
		CHECK_MEM(got, r2.p, 500);
	}
	f3 = cli_connect(v.hi3);
	CHECK(f3 >= 0);
	for (size_t off = 0; off < n3; off++)       /* one byte per send */
		CHECK(send_all(f3, h3 + off, 1) == 0);
	{
		uint8_t *got = malloc(r3.len);
		CHECK(recv_exact(f3, got, r3.len) == 0);
		CHECK_MEM(got, r3.p, r3.len);
		free(got);
	}
	/* nothing else is ever sent */
	CHECK(recv(f2, &extra, 1, MSG_DONTWAIT) < 0 && errno == EAGAIN);
	close(f2);
	close(f3);
	CHECK_OK(srv_stop(&v));
	CHECK_EQ_INT(v.m.n_recs, 19 + 340);
	CHECK_EQ_INT(v.m.recs.len, recs.len);
	CHECK_MEM(v.m.recs.p, recs.p, recs.len);
	CHECK_EQ_INT(ms_count(&v.m, "\"event\":\"keepalive\""), 10);
	CHECK_EQ_INT(ms_count(&v.m, "\"event\":\"gap\""), 0);
	CHECK(v.m.flushes >= 1);
	{
		struct lacre_dbuf j;
		const char *t;
		lacre_dbuf_init(&j, 1u << 20);
		CHECK_OK(ingest_server_stats_json(v.s, &j));
		CHECK_OK(lacre_dbuf_cstr(&j, &t));
		CHECK(strstr(t, "\"LIVOIP0001/164085088/cc\":{\"received\":200,\"gaps\":0,") != NULL);
		CHECK(strstr(t, "\"keepalives\":10,\"keepalive_responses\":10,") != NULL);
		lacre_dbuf_free(&j);
	}
	srv_free(&v);
	lacre_dbuf_free(&r2);
	lacre_dbuf_free(&r3);
	lacre_dbuf_free(&recs);
	free(h2);
	free(h3);
}

/* Hostile inputs: each closes its own connection with a logged reason,
 * the records sent before it are kept, and a good client is still served. */
static void test_hostile(void)
{
	static const uint8_t wrong_tag[] = { 0x31, 0x03, 0x02, 0x01, 0x00 };
	static const uint8_t oversized[] = { 0x30, 0x84, 0x7f, 0xff, 0xff, 0xff, 0x00 };
	static const uint8_t garbage[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	static const uint8_t undecodable[] = { 0x30, 0x06, 0x04, 0x04, 0x41, 0x41, 0x41, 0x41 };
	uint8_t deep[2 + 2 * 40];
	struct { const char *name; const uint8_t *p; size_t n; const char *reason; } cases[] = {
		{ "wrong outer tag", wrong_tag, sizeof(wrong_tag), "bad outer tag" },
		{ "oversized length", oversized, sizeof(oversized), "larger than the limit" },
		{ "garbage", garbage, sizeof(garbage) - 1, "bad outer tag" },
		{ "deep nesting", deep, sizeof(deep), "nested deeper" },
	};
	struct ingest_config cfg;
	struct srv v;
	size_t n2, i, first_len = 0;
	uint8_t *h2 = load("hi2.bin", &n2);
	struct lacre_dbuf r2;
	int fd, good = 0;

	CHECK(h2 != NULL);
	deep[0] = 0x30;
	deep[1] = 0x80;
	for (i = 0; i < 40; i++) {
		deep[2 + 2 * i] = 0xa1;
		deep[3 + 2 * i] = 0x80;
	}
	lacre_dbuf_init(&r2, 1u << 20);
	expected(h2, n2, &r2, NULL);
	CHECK_OK(etsi_pdu_size(h2, n2, 1u << 24, &first_len));
	ingest_config_defaults(&cfg);
	cfg.hi2_addr = "127.0.0.1:0";
	cfg.hi3_addr = "127.0.0.1:0";
	cfg.max_pdu = 1u << 20;
	cfg.pdu_timeout_ms = 1000;
	cfg.max_conns_per_peer = 8;
	CHECK_OK(srv_start(&v, &cfg));
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fd = cli_connect(v.hi2);
		CHECK(fd >= 0);
		/* one good PDU first: it must be kept */
		CHECK(send_all(fd, h2, first_len) == 0);
		CHECK(send_all(fd, cases[i].p, cases[i].n) == 0);
		if (!closed_within(fd, 3000)) {
			t_fail(__FILE__, __LINE__, "%s: not closed", cases[i].name);
			close(fd);
			return;
		}
		close(fd);
		CHECK(ms_count(&v.m, cases[i].reason) >= 1);
		good += good_client(v.hi3, h2, n2, &r2);
	}
	CHECK_EQ_INT(good, 4);

	/* a PDU whose outer SEQUENCE is sound but whose contents are not a
	 * PS-PDU is kept (flagged, spec §3.5) and the connection stays open */
	fd = cli_connect(v.hi2);
	CHECK(fd >= 0);
	CHECK(send_all(fd, undecodable, sizeof(undecodable)) == 0);
	CHECK(!closed_within(fd, 500));
	close(fd);
	CHECK_EQ_INT(ms_count(&v.m, "\"event\":\"partial-decode\""), 1);

	/* truncated: half a PDU then close: a truncated tail with its bytes */
	fd = cli_connect(v.hi2);
	CHECK(send_all(fd, h2, first_len + 40) == 0);
	usleep(100000);
	close(fd);
	/* slowloris: a started PDU that never completes */
	fd = cli_connect(v.hi2);
	CHECK(send_all(fd, h2, 10) == 0);
	CHECK(closed_within(fd, 4000));
	close(fd);
	CHECK_EQ_INT(ms_count(&v.m, "slow sender"), 1);
	CHECK(good_client(v.hi3, h2, n2, &r2));

	/* too many connections from one address: the 9th is closed at once */
	{
		int fds[9], k, refused = 0;
		for (k = 0; k < 8; k++) {
			fds[k] = cli_connect(v.hi2);
			CHECK(fds[k] >= 0);
		}
		usleep(200000);
		fds[8] = cli_connect(v.hi2);
		CHECK(fds[8] >= 0);
		refused = closed_within(fds[8], 2000);
		for (k = 0; k < 9; k++)
			close(fds[k]);
		CHECK(refused);
		usleep(200000);
		CHECK(good_client(v.hi3, h2, n2, &r2));
	}
	CHECK_OK(srv_stop(&v));
	CHECK_EQ_INT(ms_count(&v.m, "\"event\":\"truncated-tail\""), 2);  /* half PDU + slowloris */
	CHECK_EQ_INT(ms_count(&v.m, "\"length\":40,\"bytes_b64\""), 1);
	/* 5 first PDUs kept + the flagged one + 6 good clients x 19 */
	CHECK_EQ_INT(v.m.n_recs, 5 + 1 + 6 * 19);
	{
		struct lacre_dbuf j;
		const char *t;
		lacre_dbuf_init(&j, 1u << 20);
		CHECK_OK(ingest_server_stats_json(v.s, &j));
		CHECK_OK(lacre_dbuf_cstr(&j, &t));
		CHECK(strstr(t, "\"per_peer_limit\":1") != NULL);
		CHECK(strstr(t, "\"malformed\":4") != NULL);
		CHECK(strstr(t, "\"slow\":1") != NULL);
		lacre_dbuf_free(&j);
	}
	srv_free(&v);
	lacre_dbuf_free(&r2);
	free(h2);
}

/* ---- TLS ---- */

/* A self-signed certificate and key, written as PEM to dir/name.{crt,key}. */
static int make_cert(const char *dir, const char *name, uint8_t fp[32])
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509 *x = X509_new();
	char path[4096];
	FILE *fp_;
	unsigned fl = 0;
	int ok = 0;

	if (!k || !x)
		goto done;
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, k);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
	                           (const unsigned char *)name, -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	if (!X509_sign(x, k, EVP_sha256()))
		goto done;
	snprintf(path, sizeof(path), "%s/%s.crt", dir, name);
	if (!(fp_ = fopen(path, "w")))
		goto done;
	PEM_write_X509(fp_, x);
	fclose(fp_);
	snprintf(path, sizeof(path), "%s/%s.key", dir, name);
	if (!(fp_ = fopen(path, "w")))
		goto done;
	PEM_write_PrivateKey(fp_, k, NULL, NULL, 0, NULL, NULL);
	fclose(fp_);
	ok = X509_digest(x, EVP_sha256(), fp, &fl) == 1;
done:
	X509_free(x);
	EVP_PKEY_free(k);
	return ok;
}

/* TLS client: connect, handshake (with an optional client certificate),
 * send p, read want bytes.  Returns 1 when the responses match. */
static int tls_client(int port, const char *dir, const char *cname, const uint8_t *p, size_t n,
                      const struct lacre_dbuf *want)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL *ssl = NULL;
	char path[4096], kpath[4096];
	uint8_t *got = malloc(want->len);
	int fd = cli_connect(port), ok = 0;
	size_t off = 0;

	if (!ctx || fd < 0 || !got)
		goto done;
	if (cname) {
		snprintf(path, sizeof(path), "%s/%s.crt", dir, cname);
		snprintf(kpath, sizeof(kpath), "%s/%s.key", dir, cname);
		if (SSL_CTX_use_certificate_file(ctx, path, SSL_FILETYPE_PEM) != 1 ||
		    SSL_CTX_use_PrivateKey_file(ctx, kpath, SSL_FILETYPE_PEM) != 1)
			goto done;
	}
	ssl = SSL_new(ctx);
	SSL_set_fd(ssl, fd);
	if (SSL_connect(ssl) != 1)
		goto done;
	while (off < n) {
		int k = SSL_write(ssl, p + off, (int)(n - off > 1500 ? 1500 : n - off));
		if (k <= 0)
			goto done;
		off += (size_t)k;
	}
	for (off = 0; off < want->len;) {
		int k = SSL_read(ssl, got + off, (int)(want->len - off));
		if (k <= 0)
			goto done;
		off += (size_t)k;
	}
	ok = memcmp(got, want->p, want->len) == 0;
	SSL_shutdown(ssl);
done:
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	if (fd >= 0)
		close(fd);
	free(got);
	return ok;
}

/* TLS listeners: no client certificate; then a required certificate with
 * a fingerprint allow-list (allowed, unknown and absent). */
static void test_tls(void)
{
	const char *dir = t_tmpdir();
	struct ingest_config cfg;
	struct srv v;
	char cert[4096], key[4096];
	uint8_t fp_srv[32], fp_ok[32], fp_bad[32];
	size_t n2;
	uint8_t *h2 = load("hi2.bin", &n2);
	struct lacre_dbuf r2;

	CHECK(h2 != NULL);
	CHECK(make_cert(dir, "server", fp_srv));
	CHECK(make_cert(dir, "alice", fp_ok));
	CHECK(make_cert(dir, "mallory", fp_bad));
	snprintf(cert, sizeof(cert), "%s/server.crt", dir);
	snprintf(key, sizeof(key), "%s/server.key", dir);
	lacre_dbuf_init(&r2, 1u << 20);
	expected(h2, n2, &r2, NULL);

	ingest_config_defaults(&cfg);
	cfg.hi2_addr = "127.0.0.1:0";
	cfg.hi2_tls = 1;
	cfg.tls_cert = cert;
	cfg.tls_key = key;
	CHECK_OK(srv_start(&v, &cfg));
	CHECK(tls_client(v.hi2, dir, NULL, h2, n2, &r2));
	CHECK_OK(srv_stop(&v));
	CHECK_EQ_INT(v.m.n_recs, 19);
	CHECK(ms_count(&v.m, "\"event\":\"tls\"") == 1);
	srv_free(&v);

	ingest_config_defaults(&cfg);
	cfg.hi2_addr = "127.0.0.1:0";
	cfg.hi2_tls = 1;
	cfg.tls_cert = cert;
	cfg.tls_key = key;
	cfg.tls_require_client_cert = 1;
	memcpy(cfg.client_fps[0], fp_ok, 32);
	cfg.n_client_fps = 1;
	cfg.pdu_timeout_ms = 2000;
	CHECK_OK(srv_start(&v, &cfg));
	CHECK(tls_client(v.hi2, dir, "alice", h2, n2, &r2));
	CHECK(!tls_client(v.hi2, dir, "mallory", h2, n2, &r2));
	CHECK(!tls_client(v.hi2, dir, NULL, h2, n2, &r2));
	/* a client that connects and never handshakes is timed out */
	{
		int fd = cli_connect(v.hi2);
		CHECK(fd >= 0);
		CHECK(closed_within(fd, 5000));
		close(fd);
	}
	CHECK_OK(srv_stop(&v));
	CHECK_EQ_INT(v.m.n_recs, 19);
	CHECK_EQ_INT(ms_count(&v.m, "not in the allow-list"), 1);
	CHECK_EQ_INT(ms_count(&v.m, "TLS handshake not completed"), 1);
	srv_free(&v);

	/* bad configuration: required certificates and nothing to check them */
	ingest_config_defaults(&cfg);
	cfg.hi2_addr = "127.0.0.1:0";
	cfg.hi2_tls = 1;
	cfg.tls_cert = cert;
	cfg.tls_key = key;
	cfg.tls_require_client_cert = 1;
	cfg.quiet = 1;
	{
		struct ingest_server *s = NULL;
		struct lacre_sink sk = { NULL, ms_record, ms_event, ms_flush, NULL, NULL, NULL };
		int saved = dup(2), devnull = open("/dev/null", 1);
		dup2(devnull, 2);
		CHECK_EQ_INT(ingest_server_new(&cfg, &sk, &s), LACRE_E_CONFIG);
		dup2(saved, 2);
		close(saved);
		close(devnull);
	}
	lacre_dbuf_free(&r2);
	free(h2);
}

/* Stop while a client is mid-PDU: what was received is in the sink, the
 * partial PDU is logged as a truncated tail, run() returns LACRE_OK. */
static void test_drain_on_stop(void)
{
	struct ingest_config cfg;
	struct srv v;
	size_t n3, cut;
	uint8_t *h3 = load("hi3.bin", &n3);
	int fd;

	CHECK(h3 != NULL);
	ingest_config_defaults(&cfg);
	cfg.hi3_addr = "127.0.0.1:0";
	cfg.drain_ms = 1000;           /* this client never closes: cut after 1 s */
	CHECK_OK(srv_start(&v, &cfg));
	fd = cli_connect(v.hi3);
	CHECK(fd >= 0);
	cut = 50000;
	CHECK(send_all(fd, h3, cut) == 0);
	usleep(50000);
	CHECK_OK(srv_stop(&v));
	close(fd);
	CHECK(v.m.n_recs > 100);
	CHECK_EQ_INT(ms_count(&v.m, "\"event\":\"truncated-tail\""), 1);
	CHECK_EQ_INT(ms_count(&v.m, "receiver stopping"), 1);
	srv_free(&v);
	free(h3);
}

/* A peer that sends keep-alives but never reads the responses is closed
 * once max_tx_buf is queued; a plain-TCP allow-list refuses other peers. */
static void test_unread_and_allow_list(void)
{
	struct ingest_config cfg;
	struct srv v;
	size_t n2, ka_len = 100;
	uint8_t *h2 = load("hi2.bin", &n2), *many;
	int fd, rcv = 4096, i, closed = 0;
	const size_t reps = 50000;

	CHECK(h2 != NULL);
	ingest_config_defaults(&cfg);
	cfg.hi2_addr = "127.0.0.1:0";
	cfg.hi3_addr = "127.0.0.1:0";
	cfg.max_tx_buf = 16384;
	CHECK_OK(srv_start(&v, &cfg));
	/* the last PDU of hi2.bin is a 100-byte keep-alive */
	many = malloc(reps * ka_len);
	CHECK(many != NULL);
	for (size_t k = 0; k < reps; k++)
		memcpy(many + k * ka_len, h2 + n2 - ka_len, ka_len);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	{
		struct sockaddr_in a;
		memset(&a, 0, sizeof(a));
		a.sin_family = AF_INET;
		a.sin_port = htons((uint16_t)v.hi2);
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		CHECK(connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
	}
	for (i = 0; i < 100 && !closed; i++) {
		/* send a slice without reading anything back */
		ssize_t k = send(fd, many + (size_t)i * (reps * ka_len / 100), reps * ka_len / 100,
		                 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (k < 0 && errno != EAGAIN)
			closed = 1;
		usleep(5000);
	}
	close(fd);
	free(many);
	CHECK_OK(srv_stop(&v));
	CHECK_EQ_INT(ms_count(&v.m, "peer does not read keep-alive responses"), 1);
	srv_free(&v);

	ingest_config_defaults(&cfg);
	cfg.hi2_addr = "127.0.0.1:0";
	cfg.allow_peers[0] = "192.0.2.1";
	cfg.n_allow_peers = 1;
	CHECK_OK(srv_start(&v, &cfg));
	fd = cli_connect(v.hi2);
	CHECK(fd >= 0);
	CHECK(closed_within(fd, 2000));
	close(fd);
	CHECK_OK(srv_stop(&v));
	CHECK_EQ_INT(v.m.n_recs, 0);
	srv_free(&v);
	free(h2);
}

/* Mutated copies of the real streams over many connections: the server
 * survives every one (ASan/UBSan in tests/run) and still serves a good
 * sender afterwards. */
static void test_mutated_streams(void)
{
	struct ingest_config cfg;
	struct srv v;
	size_t n2, n3;
	uint8_t *h2 = load("hi2.bin", &n2), *h3 = load("hi3.bin", &n3), *q;
	struct lacre_dbuf r2;
	uint32_t seed = 4242;

	CHECK(h2 && h3);
	lacre_dbuf_init(&r2, 1u << 20);
	expected(h2, n2, &r2, NULL);
	ingest_config_defaults(&cfg);
	cfg.hi2_addr = "127.0.0.1:0";
	cfg.hi3_addr = "127.0.0.1:0";
	cfg.max_pdu = 1u << 16;
	CHECK_OK(srv_start(&v, &cfg));
	q = malloc(n3);
	CHECK(q != NULL);
	for (int round = 0; round < 40; round++) {
		const uint8_t *src = round & 1 ? h3 : h2;
		size_t n = round & 1 ? n3 : n2;
		int fd;
		memcpy(q, src, n);
		for (int k = 0; k < 1 + round % 8; k++) {
			seed = seed * 1103515245u + 12345u;
			q[(seed >> 4) % n] ^= (uint8_t)(1u << ((seed >> 24) & 7));
		}
		fd = cli_connect(round & 1 ? v.hi3 : v.hi2);
		CHECK(fd >= 0);
		send_all(fd, q, n);           /* the server may close early: ignore */
		close(fd);
	}
	free(q);
	usleep(200000);
	CHECK(good_client(v.hi3, h2, n2, &r2));
	CHECK_OK(srv_stop(&v));
	srv_free(&v);
	lacre_dbuf_free(&r2);
	free(h2);
	free(h3);
}

/* Counters under the sink's lock. */
static int ms_get(struct memsink *m, const int *field)
{
	int v;
	pthread_mutex_lock(&m->mu);
	v = *field;
	pthread_mutex_unlock(&m->mu);
	return v;
}

/* Records taken so far, under the sink's lock. */
static size_t ms_nrecs(struct memsink *m)
{
	size_t v;
	pthread_mutex_lock(&m->mu);
	v = m->n_recs;
	pthread_mutex_unlock(&m->mu);
	return v;
}

/* The --stats JSON of a stopped server contains needle. */
static int stats_has(struct srv *v, const char *needle)
{
	struct lacre_dbuf j;
	const char *t;
	int ok = 0;

	lacre_dbuf_init(&j, 1u << 24);
	if (ingest_server_stats_json(v->s, &j) == LACRE_OK && lacre_dbuf_cstr(&j, &t) == LACRE_OK)
		ok = strstr(t, needle) != NULL;
	lacre_dbuf_free(&j);
	return ok;
}

/* A sender that writes whole PDUs as fast as it can until the receiver
 * closes its side (our FIN at stop), counting the PDUs send() took in
 * full; then closes. */
struct flood {
	int fd;
	const uint8_t *p;      /* one stream of PDUs, sent again and again */
	size_t n;
	size_t sent_pdus;      /* completely written */
	struct lacre_dbuf recs; /* the records written, rec-sink framing */
};

/* The flood sender's thread (struct flood above). */
static void *flood_main(void *arg)
{
	struct flood *f = arg;
	size_t off = 0, sz;
	struct etsi_pdu d;
	uint8_t b[256];

	for (;;) {
		struct pollfd pf = { f->fd, POLLIN, 0 };
		if (poll(&pf, 1, 0) > 0) {
			ssize_t k = recv(f->fd, b, sizeof(b), MSG_DONTWAIT);
			if (k == 0 || (k < 0 && errno != EAGAIN))
				break;         /* the receiver's end: stop writing */
		}
		if (off >= f->n)
			off = 0;
		if (etsi_pdu_size(f->p + off, f->n - off, 1u << 24, &sz) != LACRE_OK)
			break;
		if (send_all(f->fd, f->p + off, sz) != 0)
			break;
		if (etsi_decode(f->p + off, sz, &d) == LACRE_OK && d.kind != ETSI_KIND_KEEPALIVE) {
			f->sent_pdus++;
			lacre_dbuf_add_u32be(&f->recs, (uint32_t)sz);
			lacre_dbuf_add(&f->recs, f->p + off, sz);
		}
		off += sz;
	}
	close(f->fd);
	return NULL;
}

/* Stop while a peer writes at full speed: the receiver half-closes, the
 * peer sees the end and stops, and every PDU the peer wrote in full is in
 * the sink, byte for byte (the drain used to close with bytes in flight,
 * which reset the connection and lost the last PDU written). */
static void test_stop_under_load(void)
{
	struct ingest_config cfg;
	struct srv v;
	struct flood f[2];
	pthread_t th[2];
	size_t n3, i;
	uint8_t *h3 = load("hi3.bin", &n3);

	CHECK(h3 != NULL);
	ingest_config_defaults(&cfg);
	cfg.hi3_addr = "127.0.0.1:0";
	cfg.drain_ms = 10000;
	CHECK_OK(srv_start(&v, &cfg));
	for (i = 0; i < 2; i++) {
		memset(&f[i], 0, sizeof(f[i]));
		f[i].fd = cli_connect(v.hi3);
		CHECK(f[i].fd >= 0);
		f[i].p = h3;
		f[i].n = n3;
		lacre_dbuf_init(&f[i].recs, 1u << 30);
		CHECK(pthread_create(&th[i], NULL, flood_main, &f[i]) == 0);
	}
	usleep(300000);
	CHECK_OK(srv_stop(&v));
	for (i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	CHECK(f[0].sent_pdus > 1000 && f[1].sent_pdus > 1000);
	CHECK_EQ_INT(v.m.n_recs, f[0].sent_pdus + f[1].sent_pdus);
	CHECK_EQ_INT(v.m.recs.len, f[0].recs.len + f[1].recs.len);
	CHECK_EQ_INT(ms_count(&v.m, "\"event\":\"truncated-tail\""), 0);
	CHECK_EQ_INT(ms_count(&v.m, "\"reason\":\"closed by peer\""), 2);
	CHECK(stats_has(&v, "\"cut_at_stop\":0"));
	srv_free(&v);
	for (i = 0; i < 2; i++)
		lacre_dbuf_free(&f[i].recs);
	free(h3);
}

/* The sink refuses the first 5 records (no space): the PDU is held, not
 * counted, retried every 200 ms; then every record arrives once, in
 * order, byte for byte, and every keep-alive is answered. */
static void test_nospace_retry(void)
{
	struct ingest_config cfg;
	struct srv v;
	size_t n2;
	uint8_t *h2 = load("hi2.bin", &n2);
	struct lacre_dbuf resp, recs;
	int64_t t0;

	CHECK(h2 != NULL);
	lacre_dbuf_init(&resp, 1u << 20);
	lacre_dbuf_init(&recs, 1u << 24);
	expected(h2, n2, &resp, &recs);
	ingest_config_defaults(&cfg);
	cfg.hi2_addr = "127.0.0.1:0";
	CHECK_OK(srv_start_nospace(&v, &cfg, 5, 0));
	t0 = now_ms();
	CHECK(good_client(v.hi2, h2, n2, &resp));
	CHECK(now_ms() - t0 >= 4 * 200 - 50);      /* 5 refusals: 4 retries 200 ms apart */
	CHECK_OK(srv_stop(&v));
	CHECK_EQ_INT(v.m.refused, 5);
	CHECK_EQ_INT(v.m.n_recs, 19);
	CHECK_EQ_INT(v.m.recs.len, recs.len);
	CHECK_MEM(v.m.recs.p, recs.p, recs.len);
	CHECK_EQ_INT(ms_count(&v.m, "\"event\":\"keepalive\",\"conn\":1,"), 5);
	CHECK_EQ_INT(ms_count(&v.m, "\"answered\":true"), 5);
	CHECK(stats_has(&v, "\"records\":19,"));
	CHECK(stats_has(&v, "\"backpressure\":{\"pauses\":1,"));
	CHECK(stats_has(&v, "\"lost_at_stop\":0,"));
	srv_free(&v);
	lacre_dbuf_free(&resp);
	lacre_dbuf_free(&recs);
	free(h2);
}

/* The sink refuses the first 4 events (no space): they wait in order, the
 * receiver reads and accepts nothing meanwhile, then every event and record
 * arrives once and in order (connect first, keep-alives by number). */
static void test_nospace_events(void)
{
	struct ingest_config cfg;
	struct srv v;
	size_t n2;
	uint8_t *h2 = load("hi2.bin", &n2);
	struct lacre_dbuf resp, recs;
	const char *t, *k1, *k5, *con;

	CHECK(h2 != NULL);
	lacre_dbuf_init(&resp, 1u << 20);
	lacre_dbuf_init(&recs, 1u << 24);
	expected(h2, n2, &resp, &recs);
	ingest_config_defaults(&cfg);
	cfg.hi2_addr = "127.0.0.1:0";
	CHECK_OK(srv_start(&v, &cfg));
	pthread_mutex_lock(&v.m.mu);
	v.m.ev_nospace_left = 4;
	pthread_mutex_unlock(&v.m.mu);
	CHECK(good_client(v.hi2, h2, n2, &resp));
	CHECK_OK(srv_stop(&v));
	CHECK_EQ_INT(v.m.ev_refused, 4);
	CHECK_EQ_INT(v.m.n_recs, 19);
	CHECK_EQ_INT(v.m.recs.len, recs.len);
	CHECK_MEM(v.m.recs.p, recs.p, recs.len);
	CHECK_EQ_INT(ms_count(&v.m, "\"event\":\"connect\""), 1);
	CHECK_EQ_INT(ms_count(&v.m, "\"event\":\"keepalive\""), 5);
	CHECK_OK(lacre_dbuf_cstr(&v.m.evs, &t));
	con = strstr(t, "\"event\":\"connect\"");
	k1 = strstr(t, "\"seq\":1,");
	k5 = strstr(t, "\"seq\":5,");
	CHECK(con && k1 && k5 && con < k1 && k1 < k5);
	CHECK(stats_has(&v, "\"backpressure\":{\"pauses\":1,"));
	CHECK(stats_has(&v, "\"events_lost\":0,"));
	CHECK(!stats_has(&v, "\"events_deferred\":0,"));
	srv_free(&v);
	lacre_dbuf_free(&resp);
	lacre_dbuf_free(&recs);
	free(h2);
}

/* Set the fake disk full (1) or free (0). */
static void ms_full(struct memsink *m, int full)
{
	pthread_mutex_lock(&m->mu);
	m->nospace_forever = full;
	pthread_mutex_unlock(&m->mu);
}

/* While the sink has no space the receiver stops reading: the sender
 * meets TCP backpressure (send would block) well before 64 MiB; another
 * connection's keep-alive is still answered; once space returns everything
 * the sender wrote is kept, in order. */
static void test_nospace_backpressure(void)
{
	struct ingest_config cfg;
	struct srv v;
	size_t n2, n3, off = 0, sent = 0, rounds = 0, ka_off = 0, ka_len = 0, sz;
	uint8_t *h2 = load("hi2.bin", &n2), *h3 = load("hi3.bin", &n3);
	struct lacre_dbuf resp, recs;
	struct etsi_pdu d;
	int fa, fb, fl, blocked = 0;
	int64_t idle_since;

	CHECK(h2 && h3);
	lacre_dbuf_init(&resp, 1u << 20);
	lacre_dbuf_init(&recs, 1u << 28);
	/* the first keep-alive of hi2.bin and its expected answer */
	while (ka_off < n2 && etsi_pdu_size(h2 + ka_off, n2 - ka_off, 1u << 24, &sz) == LACRE_OK) {
		if (etsi_decode(h2 + ka_off, sz, &d) == LACRE_OK && d.kind == ETSI_KIND_KEEPALIVE) {
			ka_len = sz;
			CHECK_OK(ingest_keepalive_response(&d, &resp));
			break;
		}
		ka_off += sz;
	}
	CHECK(ka_len > 0);
	ingest_config_defaults(&cfg);
	cfg.hi2_addr = "127.0.0.1:0";
	cfg.hi3_addr = "127.0.0.1:0";
	CHECK_OK(srv_start_nospace(&v, &cfg, 0, 1));
	fa = cli_connect(v.hi3);
	CHECK(fa >= 0);
	fl = fcntl(fa, F_GETFL);
	CHECK(fcntl(fa, F_SETFL, fl | O_NONBLOCK) == 0);
	/* write hi3.bin again and again until nothing moves for 500 ms */
	idle_since = now_ms();
	while (sent < ((size_t)64 << 20)) {
		ssize_t k = send(fa, h3 + off, n3 - off, MSG_NOSIGNAL);
		if (k > 0) {
			sent += (size_t)k;
			off += (size_t)k;
			if (off == n3) {
				off = 0;
				rounds++;
			}
			idle_since = now_ms();
			continue;
		}
		CHECK(k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
		if (now_ms() - idle_since > 500) {
			blocked = 1;
			break;
		}
		usleep(10000);
	}
	CHECK(blocked);
	CHECK(sent < ((size_t)64 << 20));
	CHECK(ms_get(&v.m, &v.m.refused) >= 1);
	CHECK_EQ_INT(ms_nrecs(&v.m), 0);
	/* another connection's keep-alive is answered while paused */
	fb = cli_connect(v.hi2);
	CHECK(fb >= 0);
	CHECK(send_all(fb, h2 + ka_off, ka_len) == 0);
	{
		uint8_t got[256];
		CHECK(resp.len <= sizeof(got));
		CHECK(recv_exact(fb, got, resp.len) == 0);
		CHECK_MEM(got, resp.p, resp.len);
	}
	close(fb);
	/* space returns: finish the current round and close */
	ms_full(&v.m, 0);
	CHECK(fcntl(fa, F_SETFL, fl) == 0);
	CHECK(send_all(fa, h3 + off, n3 - off) == 0);
	rounds++;
	/* end our side and read the keep-alive answers up to the server's
	 * close (closing with them unread would reset the connection) */
	shutdown(fa, SHUT_WR);
	{
		uint8_t sink_buf[4096];
		while (recv(fa, sink_buf, sizeof(sink_buf), 0) > 0)
			;
	}
	close(fa);
	for (size_t i = 0; i < rounds; i++) {
		struct lacre_dbuf scratch;
		lacre_dbuf_init(&scratch, 1u << 20);
		expected(h3, n3, &scratch, &recs);
		lacre_dbuf_free(&scratch);
	}
	{
		int64_t end = now_ms() + 20000;
		while (ms_nrecs(&v.m) < 340 * rounds && now_ms() < end)
			usleep(20000);
	}
	CHECK_OK(srv_stop(&v));
	CHECK_EQ_INT(v.m.n_recs, 340 * rounds);
	CHECK_EQ_INT(v.m.recs.len, recs.len);
	CHECK_MEM(v.m.recs.p, recs.p, recs.len);
	CHECK(stats_has(&v, "\"backpressure\":{\"pauses\":1,"));
	srv_free(&v);
	lacre_dbuf_free(&resp);
	lacre_dbuf_free(&recs);
	free(h2);
	free(h3);
}

/* A stop while the sink still has no space: the held PDUs are retried for
 * stop_nospace_ms, then run() gives up with LACRE_E_NOSPACE and counts
 * them as lost at stop. */
static void test_nospace_at_stop(void)
{
	struct ingest_config cfg;
	struct srv v;
	size_t n3;
	uint8_t *h3 = load("hi3.bin", &n3);
	int fd, refused_before;
	int64_t t0, end;

	CHECK(h3 != NULL);
	ingest_config_defaults(&cfg);
	cfg.hi3_addr = "127.0.0.1:0";
	cfg.stop_nospace_ms = 700;
	CHECK_OK(srv_start_nospace(&v, &cfg, 0, 1));
	fd = cli_connect(v.hi3);
	CHECK(fd >= 0);
	CHECK(send_all(fd, h3, 20000) == 0);
	end = now_ms() + 5000;
	while (ms_get(&v.m, &v.m.refused) < 1 && now_ms() < end)
		usleep(10000);
	CHECK(ms_get(&v.m, &v.m.refused) >= 1);
	refused_before = ms_get(&v.m, &v.m.refused);
	close(fd);
	t0 = now_ms();
	CHECK_EQ_INT(srv_stop(&v), LACRE_E_NOSPACE);
	CHECK(now_ms() - t0 >= 600);
	CHECK(v.m.refused > refused_before);         /* retried during the stop */
	CHECK_EQ_INT(v.m.n_recs, 0);
	CHECK(stats_has(&v, "\"records\":0,"));
	CHECK(!stats_has(&v, "\"lost_at_stop\":0,"));
	srv_free(&v);
	free(h3);
}

/* CC PDUs LIST/CIN 1 numbered from..to-1, back to back, into out. */
static void cc_run(struct lacre_dbuf *out, uint64_t from, uint64_t to)
{
	struct etsi_enc_header h;
	uint8_t pkt[40];

	memset(pkt, 0x45, sizeof(pkt));
	for (uint64_t q = from; q < to; q++) {
		etsi_enc_header_defaults(&h);
		h.liid = (const uint8_t *)"LIST";
		h.liid_len = 4;
		h.operator_id = "op";
		h.has_cin = 1;
		h.cin = 1;
		h.seq = q;
		etsi_enc_ipcc(out, &h, 0, pkt, sizeof(pkt));
	}
}

/* Send p[0..n) on a new connection to port and close cleanly. */
static int send_and_close(int port, const struct lacre_dbuf *p)
{
	int fd = cli_connect(port), ok;
	uint8_t b[64];

	if (fd < 0)
		return 0;
	ok = send_all(fd, p->p, p->len) == 0;
	shutdown(fd, SHUT_WR);
	while (recv(fd, b, sizeof(b), 0) > 0)
		;
	close(fd);
	return ok;
}

/* The stream state at the server level: saved at a clean stop, so that a
 * restart continues the numbers without a gap (without the file the same
 * run reports the first 10 numbers as a gap); a corrupt file is set aside
 * with an alert event, not fatal. */
static void test_state_file(void)
{
	struct ingest_config cfg;
	struct srv v;
	struct lacre_dbuf a, b;
	const char *dir = t_tmpdir();
	char path[4200], cmd[8600];
	FILE *fp;
	int found;

	lacre_dbuf_init(&a, 1u << 20);
	lacre_dbuf_init(&b, 1u << 20);
	cc_run(&a, 0, 10);
	cc_run(&b, 10, 20);
	snprintf(path, sizeof(path), "%s/streams.state", dir);
	ingest_config_defaults(&cfg);
	cfg.hi3_addr = "127.0.0.1:0";
	/* without a state file: the second run sees 10..19 as a stream that
	 * starts with a gap 0..9 */
	CHECK_OK(srv_start(&v, &cfg));
	CHECK(send_and_close(v.hi3, &a));
	CHECK_OK(srv_stop(&v));
	srv_free(&v);
	CHECK_OK(srv_start(&v, &cfg));
	CHECK(send_and_close(v.hi3, &b));
	CHECK_OK(srv_stop(&v));
	CHECK_EQ_INT(ms_count(&v.m, "\"event\":\"gap\",\"liid\":\"LIST\",\"cin\":1,\"stream\":\"cc\",\"from\":0,\"to\":9"), 1);
	srv_free(&v);
	/* with it: no gap; a temporary file a crash left beside it goes */
	cfg.state_path = path;
	snprintf(cmd, sizeof(cmd), "%s.tmp0123456789ab", path);
	CHECK((fp = fopen(cmd, "wb")) != NULL);
	fclose(fp);
	CHECK_OK(srv_start(&v, &cfg));
	CHECK(access(cmd, F_OK) != 0);
	CHECK(send_and_close(v.hi3, &a));
	CHECK_OK(srv_stop(&v));
	CHECK(access(path, F_OK) == 0);
	srv_free(&v);
	CHECK_OK(srv_start(&v, &cfg));
	CHECK(send_and_close(v.hi3, &b));
	CHECK_OK(srv_stop(&v));
	CHECK_EQ_INT(v.m.n_recs, 10);
	CHECK_EQ_INT(ms_count(&v.m, "\"event\":\"gap\""), 0);
	CHECK_EQ_INT(ms_count(&v.m, "\"event\":\"restart\""), 0);
	srv_free(&v);
	/* a corrupt file: set aside, an alert event, the server runs */
	CHECK((fp = fopen(path, "wb")) != NULL);
	fputs("LCRSTAT1 but not really a state file, and too short for its seal", fp);
	fclose(fp);
	CHECK_OK(srv_start(&v, &cfg));
	CHECK(send_and_close(v.hi3, &b));
	CHECK_OK(srv_stop(&v));
	CHECK_EQ_INT(ms_count(&v.m, "\"event\":\"state-set-aside\""), 1);
	CHECK_EQ_INT(ms_count(&v.m, "\"event\":\"gap\",\"liid\":\"LIST\",\"cin\":1,\"stream\":\"cc\",\"from\":0,\"to\":9"), 1);
	srv_free(&v);
	snprintf(cmd, sizeof(cmd), "ls %s/streams.state.corrupt-* >/dev/null 2>&1", dir);
	found = system(cmd) == 0;
	CHECK(found);
	lacre_dbuf_free(&a);
	lacre_dbuf_free(&b);
}

int main(void)
{
	RUN(test_openli_streams);
	RUN(test_hostile);
	RUN(test_tls);
	RUN(test_drain_on_stop);
	RUN(test_unread_and_allow_list);
	RUN(test_mutated_streams);
	RUN(test_stop_under_load);
	RUN(test_nospace_retry);
	RUN(test_nospace_backpressure);
	RUN(test_nospace_at_stop);
	RUN(test_nospace_events);
	RUN(test_state_file);
	return t_done();
}

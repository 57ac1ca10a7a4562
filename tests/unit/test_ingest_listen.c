/*
 * test_ingest_listen.c - the receiver's listeners and first refusals
 * (lib/ingest/server.c), with the in-memory sink and server thread of
 * test_ingest_server.c: every listen address that is not IP:PORT is
 * LACRE_E_CONFIG before anything listens; an IPv6 loopback listener
 * serves (skipped where the machine has no IPv6 loopback); a missing
 * integrity key refuses to start (LACRE_E_CONFIG); a PDU that frames but
 * does not decode is a "partial-decode" event naming the reason and its
 * first bytes, kept byte for byte as a record, while the server goes on
 * serving.  Only 127.0.0.1 / ::1.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "lacre/err.h"
#include "lacre/etsi.h"
#include "lacre/ingest.h"

/* ---- in-memory sink ---- */

struct memsink {
	pthread_mutex_t mu;
	struct lacre_dbuf recs;     /* u32 len + pdu, per record */
	struct lacre_dbuf evs;      /* JSON lines */
	size_t n_recs;
	int flushes;
};

static int ms_record(void *ctx, const struct lacre_record *r)
{
	struct memsink *m = ctx;
	pthread_mutex_lock(&m->mu);
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

static int srv_start(struct srv *v, struct ingest_config *cfg)
{
	int r;
	memset(v, 0, sizeof(*v));
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

/* Wait (deadline ms) until the events hold needle; 1 when they do. */
static int wait_event(struct memsink *m, const char *needle, int ms)
{
	int64_t end = now_ms() + ms;

	while (now_ms() < end) {
		struct timespec ts = { 0, 10 * 1000000L };
		if (ms_count(m, needle) > 0)
			return 1;
		nanosleep(&ts, NULL);
	}
	return ms_count(m, needle) > 0;
}

static void test_bad_addresses(void)
{
	static const char *const bad[] = { "nohost:5001", "127.0.0.1", "[::1", "[::1]5001",
					   "127.0.0.1:99999", "127.0.0.1:-1", "300.1.1.1:0",
					   "127.0.0.1:50x", ":5001" };
	struct ingest_config cfg;
	struct memsink m;
	struct lacre_sink sink;
	struct ingest_server *s = NULL;

	memset(&m, 0, sizeof(m));
	memset(&sink, 0, sizeof(sink));
	sink.ctx = &m;
	sink.record = ms_record;
	sink.event = ms_event;
	sink.flush = ms_flush;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ingest_config_defaults(&cfg);
		cfg.quiet = 1;
		cfg.hi2_addr = bad[i];
		s = NULL;
		if (ingest_server_new(&cfg, &sink, &s) != LACRE_E_CONFIG) {
			t_fail(__FILE__, __LINE__, "listen address '%s' not refused with LACRE_E_CONFIG", bad[i]);
			ingest_server_free(s);
			return;
		}
		CHECK(s == NULL);
	}
}

static void test_ipv6_listener(void)
{
	struct ingest_config cfg;
	struct srv v;
	struct sockaddr_in6 a;
	int fd, r;

	ingest_config_defaults(&cfg);
	cfg.hi2_addr = "[::1]:0";
	r = srv_start(&v, &cfg);
	if (r == LACRE_E_NETWORK) {
		srv_free(&v);
		SKIP("no IPv6 loopback on this machine");
	}
	CHECK_OK(r);
	CHECK(v.hi2 > 0);
	fd = socket(AF_INET6, SOCK_STREAM, 0);
	CHECK(fd >= 0);
	memset(&a, 0, sizeof(a));
	a.sin6_family = AF_INET6;
	a.sin6_port = htons((uint16_t)v.hi2);
	a.sin6_addr = in6addr_loopback;
	CHECK(connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
	/* a PDU that frames (one BER SEQUENCE) but is no PS-PDU */
	CHECK(write(fd, "\x30\x03\x02\x01\x00", 5) == 5);
	CHECK(wait_event(&v.m, "\"event\":\"partial-decode\"", 10000));
	close(fd);
	CHECK_OK(srv_stop(&v));
	CHECK_EQ_INT(v.m.n_recs, 1);
	srv_free(&v);
}

static void test_undecodable_pdu(void)
{
	struct ingest_config cfg;
	struct srv v;
	int fd, fd2;

	ingest_config_defaults(&cfg);
	cfg.hi2_addr = "127.0.0.1:0";
	cfg.hi3_addr = "127.0.0.1:0";
	CHECK_OK(srv_start(&v, &cfg));
	CHECK((fd = cli_connect(v.hi3)) >= 0);
	/* one BER SEQUENCE: it frames, but is no PS-PDU */
	CHECK(write(fd, "\x30\x03\x02\x01\x00", 5) == 5);
	CHECK(wait_event(&v.m, "\"event\":\"partial-decode\"", 10000));
	CHECK(wait_event(&v.m, "\"reason\":\"malformed encoding\"", 1000));
	CHECK(wait_event(&v.m, "\"head_hex\":\"3003020100\"", 1000));
	/* the server goes on: another connection is accepted and announced */
	CHECK((fd2 = cli_connect(v.hi2)) >= 0);
	CHECK(wait_event(&v.m, "\"listener\":\"hi2\"", 10000));
	close(fd2);
	close(fd);
	CHECK_OK(srv_stop(&v));
	/* the undecodable bytes are kept as a record (evidence), byte for byte */
	CHECK_EQ_INT(v.m.n_recs, 1);
	CHECK_EQ_INT(v.m.recs.len, 4 + 5);
	CHECK_MEM(v.m.recs.p + 4, "\x30\x03\x02\x01\x00", 5);
	srv_free(&v);
}

static void test_integrity_key_missing(void)
{
	struct ingest_config cfg;
	struct srv v;
	char p[600];
	int r;

	ingest_config_defaults(&cfg);
	cfg.hi2_addr = "127.0.0.1:0";
	snprintf(p, sizeof(p), "%s/no-such-key.pem", t_tmpdir());
	cfg.integrity_pubkey = p;
	r = srv_start(&v, &cfg);
	CHECK(v.s == NULL);
	srv_free(&v);
	CHECK(r != LACRE_OK);
	CHECK_EQ_INT(r, LACRE_E_CONFIG);
}

int main(void)
{
	RUN(test_bad_addresses);
	RUN(test_undecodable_pdu);
	RUN(test_ipv6_listener);
	RUN(test_integrity_key_missing);
	return t_done();
}

/*
 * test_ingest_workers.c - the receiver with four workers (issue 15) over
 * real loopback sockets, with a thread-safe in-memory sink: 8 senders in
 * parallel, each sending one stream over 4 connections in turn (a mediator
 * that reconnects), so that a stream's connections land on different
 * workers.  Every PDU reaches the sink once, no gap, duplicate or restart
 * is reported, every worker took connections, and the per-worker figures
 * add up to the totals.  Only 127.0.0.1; every wait is bounded.  Run under
 * ASan (make SAN=1) and, ad hoc, ThreadSanitizer.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"
#include "lacre/err.h"
#include "lacre/etsi_enc.h"
#include "lacre/ingest.h"

#define SENDERS 8
#define CONNS_PER_STREAM 4
#define PDUS_PER_CONN 250

/* An in-memory sink: records counted, events kept (one mutex). */
struct memsink {
	pthread_mutex_t mu;
	struct lacre_dbuf evs;
	size_t n_recs;
};

static int ms_record(void *ctx, const struct lacre_record *r)
{
	struct memsink *m = ctx;

	(void)r;
	pthread_mutex_lock(&m->mu);
	m->n_recs++;
	pthread_mutex_unlock(&m->mu);
	return LACRE_OK;
}

static int ms_event(void *ctx, const char *j)
{
	struct memsink *m = ctx;
	int r;

	pthread_mutex_lock(&m->mu);
	r = lacre_dbuf_add(&m->evs, j, strlen(j));
	if (r == LACRE_OK)
		r = lacre_dbuf_add(&m->evs, "\n", 1);
	pthread_mutex_unlock(&m->mu);
	return r;
}

/* Occurrences of needle in the events. */
static size_t ms_count(struct memsink *m, const char *needle)
{
	const char *s;
	size_t n = 0;

	pthread_mutex_lock(&m->mu);
	if (lacre_dbuf_cstr(&m->evs, &s) == LACRE_OK)
		while ((s = strstr(s, needle))) {
			n++;
			s++;
		}
	pthread_mutex_unlock(&m->mu);
	return n;
}

/* PDUs from..to-1 of the CC stream (liid, CIN 1). */
static void cc_run(struct lacre_dbuf *out, const char *liid, uint64_t from, uint64_t to)
{
	struct etsi_enc_header h;
	uint8_t pkt[200];

	memset(pkt, 0x45, sizeof(pkt));
	for (uint64_t q = from; q < to; q++) {
		etsi_enc_header_defaults(&h);
		h.liid = (const uint8_t *)liid;
		h.liid_len = strlen(liid);
		h.operator_id = "op";
		h.has_cin = 1;
		h.cin = 1;
		h.seq = q;
		etsi_enc_ipcc(out, &h, 0, pkt, sizeof(pkt));
	}
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

/* Send p on a new connection and close cleanly (wait for the server's
 * close, so that the next connection's PDUs come after these). */
static int send_and_close(int port, const struct lacre_dbuf *p)
{
	int fd = cli_connect(port);
	const uint8_t *b = p->p;
	size_t n = p->len;
	uint8_t sink[64];

	if (fd < 0)
		return 0;
	while (n) {
		ssize_t k = send(fd, b, n, MSG_NOSIGNAL);
		if (k <= 0) {
			close(fd);
			return 0;
		}
		b += k;
		n -= (size_t)k;
	}
	shutdown(fd, SHUT_WR);
	while (recv(fd, sink, sizeof(sink), 0) > 0)
		;
	close(fd);
	return 1;
}

struct sender {
	int port, k, ok;
	pthread_t th;
};

/* One sender: stream "WK<k>" over CONNS_PER_STREAM connections in turn. */
static void *sender_main(void *arg)
{
	struct sender *sd = arg;
	struct lacre_dbuf b;
	char liid[16];

	snprintf(liid, sizeof(liid), "WK%d", sd->k);
	lacre_dbuf_init(&b, 1u << 24);
	sd->ok = 1;
	for (int c = 0; c < CONNS_PER_STREAM && sd->ok; c++) {
		lacre_dbuf_reset(&b);
		cc_run(&b, liid, (uint64_t)c * PDUS_PER_CONN, (uint64_t)(c + 1) * PDUS_PER_CONN);
		sd->ok = send_and_close(sd->port, &b);
	}
	lacre_dbuf_free(&b);
	return NULL;
}

struct srv {
	struct ingest_server *s;
	int rc;
	pthread_t th;
};

static void *srv_main(void *arg)
{
	struct srv *v = arg;

	v->rc = ingest_server_run(v->s);
	return NULL;
}

/* Streams split over connections that land on different workers. */
static void test_workers_split_streams(void)
{
	struct ingest_config cfg;
	struct memsink m;
	struct lacre_sink sink;
	struct srv v;
	struct sender sd[SENDERS];
	struct lacre_dbuf st;
	const char *js, *p;
	unsigned busy = 0;
	uint64_t sum_pdus = 0, sum_conns = 0;

	memset(&m, 0, sizeof(m));
	pthread_mutex_init(&m.mu, NULL);
	lacre_dbuf_init(&m.evs, 1u << 26);
	memset(&sink, 0, sizeof(sink));
	sink.ctx = &m;
	sink.record = ms_record;
	sink.event = ms_event;
	ingest_config_defaults(&cfg);
	cfg.hi3_addr = "127.0.0.1:0";
	cfg.workers = 4;
	cfg.quiet = 1;
	memset(&v, 0, sizeof(v));
	CHECK_OK(ingest_server_new(&cfg, &sink, &v.s));
	CHECK(pthread_create(&v.th, NULL, srv_main, &v) == 0);
	for (int k = 0; k < SENDERS; k++) {
		sd[k].port = ingest_server_port(v.s, LACRE_HI3);
		sd[k].k = k;
		CHECK(pthread_create(&sd[k].th, NULL, sender_main, &sd[k]) == 0);
	}
	for (int k = 0; k < SENDERS; k++) {
		pthread_join(sd[k].th, NULL);
		CHECK(sd[k].ok);
	}
	ingest_server_stop(v.s);
	pthread_join(v.th, NULL);
	CHECK_OK(v.rc);
	CHECK_EQ_INT(m.n_recs, SENDERS * CONNS_PER_STREAM * PDUS_PER_CONN);
	CHECK_EQ_INT(ms_count(&m, "\"event\":\"gap\""), 0);
	CHECK_EQ_INT(ms_count(&m, "\"event\":\"duplicate\""), 0);
	CHECK_EQ_INT(ms_count(&m, "\"event\":\"restart\""), 0);
	CHECK_EQ_INT(ms_count(&m, "\"event\":\"connect\""), SENDERS * CONNS_PER_STREAM);
	lacre_dbuf_init(&st, 1u << 24);
	CHECK_OK(ingest_server_stats_json(v.s, &st));
	CHECK_OK(lacre_dbuf_cstr(&st, &js));
	CHECK(strstr(js, "\"workers\":4") != NULL);
	CHECK((p = strstr(js, "\"per_worker\":[")) != NULL);
	for (int i = 0; p && i < 4; i++) {
		unsigned long long c = 0, n = 0;
		CHECK((p = strstr(p, "{\"connections\":")) != NULL);
		if (!p)
			break;
		CHECK(sscanf(p, "{\"connections\":%llu", &c) == 1);
		CHECK((p = strstr(p, "\"pdus\":")) != NULL);
		if (!p)
			break;
		CHECK(sscanf(p, "\"pdus\":%llu", &n) == 1);
		busy += c > 0;
		sum_conns += c;
		sum_pdus += n;
	}
	printf("  %u of 4 workers took connections; %llu connections, %llu PDUs\n", busy,
	       (unsigned long long)sum_conns, (unsigned long long)sum_pdus);
	CHECK_EQ_INT(busy, 4);
	CHECK_EQ_INT(sum_conns, SENDERS * CONNS_PER_STREAM);
	CHECK_EQ_INT(sum_pdus, SENDERS * CONNS_PER_STREAM * PDUS_PER_CONN);
	lacre_dbuf_free(&st);
	ingest_server_free(v.s);
	lacre_dbuf_free(&m.evs);
	pthread_mutex_destroy(&m.mu);
}

int main(void)
{
	RUN(test_workers_split_streams);
	return t_done();
}

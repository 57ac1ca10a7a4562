/*
 * test_ingest_budget.c - the receiver's one memory budget (lib/ingest/
 * budget.c, framer.c): the framer's growth bound holds for every way a
 * stream can be cut, a sender that declares a large PDU holds only what it
 * sent, and over real loopback sockets the incomplete PDU that costs most
 * (largest, then oldest) is the one refused, with its event, while the
 * others stay open and a good sender's records all arrive.  Only
 * 127.0.0.1; every wait is bounded.
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
#include "ingest/ingest_int.h"

/* ---- the framer's growth bound ---- */

/* What a feed saw: the bound asked before it, the most the pending buffer
 * held at a delivery (its peak) and any violation. */
struct bound_run {
	struct ingest_framer *f;
	size_t bound;
	size_t pdus;
	int over;                 /* a delivery found more allocated than the bound */
};

/* Framer callback: at delivery the pending buffer is at its largest. */
static int bound_cb(void *arg, const uint8_t *pdu, size_t len, uint64_t off)
{
	struct bound_run *b = arg;

	(void)pdu;
	(void)len;
	(void)off;
	b->pdus++;
	if (ingest_framer_allocated(b->f) > b->bound)
		b->over = 1;
	return LACRE_OK;
}

/* A stream of n_pdus definite-length PDUs of varied sizes (outer 30 len,
 * contents 04 ...), max size about maxc. */
static void make_stream(struct lacre_dbuf *out, size_t n_pdus, size_t maxc, unsigned seed)
{
	for (size_t i = 0; i < n_pdus; i++) {
		size_t c, k;
		seed = seed * 1103515245u + 12345u;
		c = 1 + (seed >> 8) % maxc;
		lacre_dbuf_add_u8(out, 0x30);
		if (c < 128) {
			lacre_dbuf_add_u8(out, (uint8_t)c);
		} else {
			lacre_dbuf_add_u8(out, 0x83);
			lacre_dbuf_add_u8(out, (uint8_t)(c >> 16));
			lacre_dbuf_add_u8(out, (uint8_t)(c >> 8));
			lacre_dbuf_add_u8(out, (uint8_t)c);
		}
		for (k = 0; k < c; k++)
			lacre_dbuf_add_u8(out, 0x04);
	}
}

/* Feed a stream in pseudo-random cuts (1 byte to 64 KiB): before each cut
 * ask the bound; after it (and at every delivery) what the framer has
 * allocated must be within it. */
static void test_grow_bound_holds(void)
{
	struct lacre_dbuf st;
	struct ingest_framer f;
	struct bound_run b;
	unsigned seed = 7;
	size_t off = 0, n;
	int r;

	lacre_dbuf_init(&st, 64u << 20);
	make_stream(&st, 400, 300000, 3);
	ingest_framer_init(&f, 1u << 20);
	memset(&b, 0, sizeof(b));
	b.f = &f;
	while (off < st.len) {
		seed = seed * 1103515245u + 12345u;
		n = 1 + (seed >> 8) % ((seed & 1) ? 64 : 65536);
		if (n > st.len - off)
			n = st.len - off;
		b.bound = ingest_framer_grow_bound(&f, n);
		r = ingest_framer_feed(&f, st.p + off, n, bound_cb, &b, NULL);
		CHECK_OK(r);
		CHECK(!b.over);
		CHECK(ingest_framer_allocated(&f) <= b.bound);
		off += n;
	}
	CHECK_EQ_INT(b.pdus, 400);
	CHECK_EQ_INT(ingest_framer_pending(&f), 0);
	ingest_framer_free(&f);
	lacre_dbuf_free(&st);
}

/* A sender that declares a 15 MiB PDU and sends 16 bytes holds 16 bytes'
 * worth, not 15 MiB; growth follows what arrives. */
static void test_declared_length_costs_nothing(void)
{
	struct ingest_framer f;
	struct bound_run b;
	uint8_t hdr[6] = { 0x30, 0x84, 0x00, 0xf0, 0x00, 0x00 };
	uint8_t body[4096];
	size_t total = 0;

	memset(body, 0x04, sizeof(body));
	memset(&b, 0, sizeof(b));
	ingest_framer_init(&f, 16u << 20);
	b.f = &f;
	CHECK(ingest_framer_grow_bound(&f, 6) <= 64);
	CHECK_OK(ingest_framer_feed(&f, hdr, sizeof(hdr), bound_cb, &b, NULL));
	CHECK(ingest_framer_grow_bound(&f, 10) <= 64);
	CHECK_OK(ingest_framer_feed(&f, body, 10, bound_cb, &b, NULL));
	CHECK_EQ_INT(ingest_framer_pending(&f), 16);
	CHECK(ingest_framer_allocated(&f) <= 64);
	/* 1 MiB trickled in 4 KiB pieces costs at most twice that */
	while (total < (1u << 20)) {
		CHECK_OK(ingest_framer_feed(&f, body, sizeof(body), bound_cb, &b, NULL));
		total += sizeof(body);
	}
	CHECK(ingest_framer_allocated(&f) <= (2u << 20) + 64);
	CHECK_EQ_INT(b.pdus, 0);
	ingest_framer_free(&f);
	CHECK_EQ_INT(ingest_framer_allocated(&f), 0);
}

/* ---- over sockets ---- */

struct memsink {
	pthread_mutex_t mu;
	struct lacre_dbuf evs;      /* JSON lines */
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
	pthread_mutex_lock(&m->mu);
	lacre_dbuf_add_str(&m->evs, j);
	lacre_dbuf_add_u8(&m->evs, '\n');
	pthread_mutex_unlock(&m->mu);
	return LACRE_OK;
}

static int ms_flush(void *ctx)
{
	(void)ctx;
	return LACRE_OK;
}

/* The event lines (a copy, NUL-terminated; free it). */
static char *ms_events(struct memsink *m)
{
	char *s;
	pthread_mutex_lock(&m->mu);
	s = malloc(m->evs.len + 1);
	if (s) {
		memcpy(s, m->evs.p ? (const char *)m->evs.p : "", m->evs.len);
		s[m->evs.len] = 0;
	}
	pthread_mutex_unlock(&m->mu);
	return s;
}

/* Lines of evs that contain a, and b unless NULL (lines of any length: a
 * truncated tail carries its bytes). */
static int lines_with(const char *evs, const char *a, const char *b)
{
	const char *l = evs, *e;
	size_t len;
	int n = 0;

	while (*l) {
		e = strchr(l, '\n');
		len = e ? (size_t)(e - l) : strlen(l);
		if (memmem(l, len, a, strlen(a)) && (!b || memmem(l, len, b, strlen(b))))
			n++;
		if (!e)
			break;
		l = e + 1;
	}
	return n;
}

struct srv {
	struct ingest_server *s;
	struct memsink m;
	struct lacre_sink sink;
	pthread_t th;
	int rc;
	int port;
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
	lacre_dbuf_init(&v->m.evs, 1u << 28);
	v->sink.ctx = &v->m;
	v->sink.record = ms_record;
	v->sink.event = ms_event;
	v->sink.flush = ms_flush;
	cfg->quiet = 1;
	if ((r = ingest_server_new(cfg, &v->sink, &v->s)) != LACRE_OK)
		return r;
	v->port = ingest_server_port(v->s, LACRE_HI2);
	if (pthread_create(&v->th, NULL, srv_main, v) != 0)
		return LACRE_E_INTERNAL;
	return LACRE_OK;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int cli_connect(int port, char peer[64])
{
	struct sockaddr_in a;
	socklen_t sl = sizeof(a);
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
	getsockname(fd, (struct sockaddr *)&a, &sl);
	snprintf(peer, 64, "\"peer\":\"127.0.0.1:%u\"", ntohs(a.sin_port));
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

/* 1 when the server closes fd within ms (EOF or reset), else 0. */
static int closed_within(int fd, int ms)
{
	int64_t end = now_ms() + ms;
	uint8_t b[4096];

	while (now_ms() < end) {
		struct pollfd p = { fd, POLLIN, 0 };
		if (poll(&p, 1, 50) > 0) {
			ssize_t k = recv(fd, b, sizeof(b), MSG_DONTWAIT);
			if (k == 0 || (k < 0 && errno == ECONNRESET))
				return 1;
		}
	}
	return 0;
}

/* Open a sender that declares a PDU of `declare` content bytes and sends
 * `sent` of them. */
static int hog(int port, size_t declare, size_t sent, char peer[64])
{
	uint8_t hdr[6] = { 0x30, 0x84, (uint8_t)(declare >> 24), (uint8_t)(declare >> 16),
	                   (uint8_t)(declare >> 8), (uint8_t)declare };
	uint8_t *body = malloc(sent);
	int fd = cli_connect(port, peer);

	if (!body || fd < 0 || send_all(fd, hdr, sizeof(hdr))) {
		if (fd >= 0)
			close(fd);
		free(body);
		return -1;
	}
	/* the receiver may refuse it before it all went: closed_within() says */
	memset(body, 4, sent);
	(void)send_all(fd, body, sent);
	free(body);
	return fd;
}

/* Three incomplete PDUs: A (oldest) and B hold 300 KiB each (512 KiB
 * allocated), C 100 KiB (128 KiB).  With a budget of 1.25 MiB, the next
 * read of a good sender (room for 64 KiB) does not fit: A is refused (the
 * largest, tied with B, and older), B and C stay open, and the good
 * sender's records all arrive; nothing else is refused. */
static void test_refuses_largest_then_oldest(void)
{
	struct ingest_config cfg;
	struct srv v;
	char pa[64], pb[64], pc[64], pg[64], *evs = NULL, want[96];
	size_t hi2_len = 0, recs = 0, off = 0, sz;
	uint8_t *hi2 = t_vector("openli-a/raw/hi2.bin", &hi2_len);
	struct etsi_pdu d;
	int a = -1, b = -1, c = -1, g = -1, closed_a, closed_b, closed_c;

	if (!hi2)
		return;
	while (off < hi2_len && etsi_pdu_size(hi2 + off, hi2_len - off, 1u << 24, &sz) == LACRE_OK) {
		if (etsi_decode(hi2 + off, sz, &d) == LACRE_OK && d.kind != ETSI_KIND_KEEPALIVE)
			recs++;
		off += sz;
	}
	CHECK(recs > 0);
	ingest_config_defaults(&cfg);
	cfg.hi2_addr = "127.0.0.1:0";
	cfg.max_pdu = 1u << 20;
	cfg.memory_budget = 1280u << 10;
	cfg.drain_ms = 300;             /* the slow senders never close */
	CHECK_OK(srv_start(&v, &cfg));
	a = hog(v.port, 1000000, 300u << 10, pa);
	usleep(300000);
	b = hog(v.port, 1000000, 300u << 10, pb);
	c = hog(v.port, 1000000, 100u << 10, pc);
	usleep(500000);       /* the receiver reads them (loopback: well within) */
	g = cli_connect(v.port, pg);
	if (a < 0 || b < 0 || c < 0 || g < 0 || send_all(g, hi2, hi2_len) != 0) {
		t_fail(__FILE__, __LINE__, "loopback senders failed");
		goto out;
	}
	closed_a = closed_within(a, 3000);
	closed_b = closed_within(b, 300);
	closed_c = closed_within(c, 300);
	close(g);
	g = -1;
	ingest_server_stop(v.s);
	pthread_join(v.th, NULL);
	evs = ms_events(&v.m);
	if (!evs) {
		t_fail(__FILE__, __LINE__, "out of memory");
		goto out;
	}
	CHECK_EQ_INT(v.rc, LACRE_OK);
	CHECK(closed_a);
	CHECK(!closed_b);
	CHECK(!closed_c);
	CHECK_EQ_INT(lines_with(evs, "\"event\":\"memory-budget\"", NULL), 1);
	CHECK_EQ_INT(lines_with(evs, "\"event\":\"memory-budget\"", pa), 1);
	/* the bytes held count the 6 header octets */
	snprintf(want, sizeof(want), "\"bytes\":%u,\"allocated\":%u,\"declared\":1000006", (300u << 10) + 6, 512u << 10);
	CHECK_EQ_INT(lines_with(evs, "\"event\":\"memory-budget\"", want), 1);
	CHECK_EQ_INT(lines_with(evs, "\"event\":\"memory-budget\"", "\"budget\":1310720"), 1);
	/* its bytes are kept as a truncated tail; its close says why */
	snprintf(want, sizeof(want), "\"length\":%u", (300u << 10) + 6);
	CHECK_EQ_INT(lines_with(evs, "\"event\":\"truncated-tail\"", pa), 1);
	CHECK_EQ_INT(lines_with(evs, "\"event\":\"truncated-tail\"", want), 2);  /* A, and B at the stop */
	CHECK_EQ_INT(lines_with(evs, "memory budget", pa), 2);   /* the event's text and the disconnect */
	CHECK_EQ_INT(lines_with(evs, "memory budget", pb), 0);
	CHECK_EQ_INT(v.m.n_recs, recs);
	CHECK(lines_with(evs, "\"event\":\"keepalive\"", pg) > 0);
	{
		struct lacre_dbuf j;
		const char *t;
		lacre_dbuf_init(&j, 1u << 24);
		CHECK_OK(ingest_server_stats_json(v.s, &j));
		CHECK_OK(lacre_dbuf_cstr(&j, &t));
		CHECK(strstr(t, "\"memory_budget\":{\"budget\":1310720,\"in_use\":0,") != NULL);
		CHECK(strstr(t, "\"refusals\":1,\"refused_bytes\":307206}") != NULL);
		CHECK(strstr(t, "\"memory_budget\":1}") != NULL);   /* closed.memory_budget */
		lacre_dbuf_free(&j);
	}
out:
	free(evs);
	if (a >= 0)
		close(a);
	if (b >= 0)
		close(b);
	if (c >= 0)
		close(c);
	if (g >= 0)
		close(g);
	free(hi2);
	ingest_server_free(v.s);
	lacre_dbuf_free(&v.m.evs);
	pthread_mutex_destroy(&v.m.mu);
}

/* When the reader's own incomplete PDU is the largest, it is the one
 * refused: a single sender pushing past the budget is cut, alone. */
static void test_refuses_the_reader_itself(void)
{
	struct ingest_config cfg;
	struct srv v;
	char pa[64], pb[64], *evs = NULL;
	int a = -1, b = -1, closed_a, closed_b;

	ingest_config_defaults(&cfg);
	cfg.hi2_addr = "127.0.0.1:0";
	cfg.max_pdu = 1u << 20;
	cfg.memory_budget = 1u << 20;
	cfg.drain_ms = 300;
	CHECK_OK(srv_start(&v, &cfg));
	b = hog(v.port, 1000000, 10000, pb);           /* small, older */
	usleep(200000);
	a = hog(v.port, 1000000, 900000, pa);          /* grows past the budget */
	if (a < 0 || b < 0) {
		t_fail(__FILE__, __LINE__, "loopback senders failed");
		goto out;
	}
	closed_a = closed_within(a, 3000);
	closed_b = closed_within(b, 300);
	ingest_server_stop(v.s);
	pthread_join(v.th, NULL);
	evs = ms_events(&v.m);
	if (!evs) {
		t_fail(__FILE__, __LINE__, "out of memory");
		goto out;
	}
	CHECK(closed_a);
	CHECK(!closed_b);
	CHECK_EQ_INT(lines_with(evs, "\"event\":\"memory-budget\"", NULL), 1);
	CHECK_EQ_INT(lines_with(evs, "\"event\":\"memory-budget\"", pa), 1);
out:
	free(evs);
	if (a >= 0)
		close(a);
	if (b >= 0)
		close(b);
	ingest_server_free(v.s);
	lacre_dbuf_free(&v.m.evs);
	pthread_mutex_destroy(&v.m.mu);
}

int main(void)
{
	RUN(test_grow_bound_holds);
	RUN(test_declared_length_costs_nothing);
	RUN(test_refuses_largest_then_oldest);
	RUN(test_refuses_the_reader_itself);
	return t_done();
}

/*
 * test_ingest_decrypt.c - encrypted deliveries at the receiver (issue 12):
 * a server over loopback with handover keys (struct ingest_hkeys) and an
 * in-memory sink that looks at what each record's decoded view says, fed
 * the real OpenLI 1.1.20 set-C capture (every payload in an AES-192-CBC
 * EncryptionContainer).  Checked: with the right key the sink sees every
 * PDU decrypted and byte-identical as received, with no byteCounter break;
 * a wrong key, a key for another operator, or no key leaves each PDU
 * undecryptable (the right reason, one alerted event per LIID, every PDU
 * still recorded); a key rotated out of its window still decrypts and says
 * so; a key rotation (wrong key valid now, right key earlier) decrypts; a
 * PDU missing from the stream is a byteCounter break or gap naming its
 * LIID; a sink out of space (PDUs held and retried) raises no false break.
 * Only 127.0.0.1; every wait is bounded.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "lacre/err.h"
#include "lacre/etsi.h"
#include "lacre/etsi_crypt.h"
#include "lacre/ingest.h"

/* the set-C key (vectors/openli-c/config/payload-encryption-key.hex) */
static const char KEY_HEX[] = "54b33708277ca5c1d79b0b232aab841d0c9bef14f5187d84";

/* ---- in-memory sink that inspects the decoded view ---- */

struct dsink {
	pthread_mutex_t mu;
	struct lacre_dbuf recs;      /* the PDUs as recorded, concatenated */
	struct lacre_dbuf evs;       /* events, one JSON line each */
	size_t n_recs, n_encrypted, n_decrypted, n_err_auth, n_err_notfound, n_err_other;
	size_t n_view_bad;           /* decrypted, but the view is still the container */
	int nospace_left;            /* refuse this many records first (LACRE_E_NOSPACE) */
	int refused;
};

/* sink->record: count what the decoded view says, keep the bytes. */
static int ds_record(void *ctx, const struct lacre_record *r)
{
	struct dsink *m = ctx;
	const struct etsi_pdu *d = r->decoded;

	pthread_mutex_lock(&m->mu);
	if (m->nospace_left > 0) {
		m->nospace_left--;
		m->refused++;
		pthread_mutex_unlock(&m->mu);
		return LACRE_E_NOSPACE;
	}
	lacre_dbuf_add(&m->recs, r->pdu, r->pdu_len);
	m->n_recs++;
	if (d && d->encrypted) {
		m->n_encrypted++;
		if (d->decrypted) {
			m->n_decrypted++;
			if (d->kind == ETSI_KIND_OTHER || d->payload == ETSI_PAYLOAD_ENCRYPTED)
				m->n_view_bad++;
		} else if (d->decrypt_err == LACRE_E_AUTH) {
			m->n_err_auth++;
		} else if (d->decrypt_err == LACRE_E_NOT_FOUND) {
			m->n_err_notfound++;
		} else {
			m->n_err_other++;
		}
	}
	pthread_mutex_unlock(&m->mu);
	return LACRE_OK;
}

/* sink->event: keep the line. */
static int ds_event(void *ctx, const char *j)
{
	struct dsink *m = ctx;
	pthread_mutex_lock(&m->mu);
	lacre_dbuf_add_str(&m->evs, j);
	lacre_dbuf_add_u8(&m->evs, '\n');
	pthread_mutex_unlock(&m->mu);
	return LACRE_OK;
}

/* Occurrences of needle in the events. */
static int ds_count(struct dsink *m, const char *needle)
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

/* Events containing both a and b on one line. */
static int ds_count2(struct dsink *m, const char *a, const char *b)
{
	const char *s, *e;
	int n = 0;
	pthread_mutex_lock(&m->mu);
	if (lacre_dbuf_cstr(&m->evs, &s) == LACRE_OK)
		for (; *s; s = *e ? e + 1 : e) {
			char line[4096];
			size_t l;
			e = strchr(s, '\n');
			if (!e)
				e = s + strlen(s);
			l = (size_t)(e - s) < sizeof(line) - 1 ? (size_t)(e - s) : sizeof(line) - 1;
			memcpy(line, s, l);
			line[l] = 0;
			if (strstr(line, a) && strstr(line, b))
				n++;
		}
	pthread_mutex_unlock(&m->mu);
	return n;
}

/* ---- server thread ---- */

struct srv {
	struct ingest_server *s;
	struct dsink m;
	struct lacre_sink sink;
	pthread_t th;
	int rc;
};

static void *srv_main(void *arg)
{
	struct srv *v = arg;
	v->rc = ingest_server_run(v->s);
	return NULL;
}

/* Start a server on an HI2 port with the given keys (n rings). */
static int srv_start(struct srv *v, const struct ingest_hkeys *hk, size_t n, int nospace)
{
	struct ingest_config cfg;
	int r;

	memset(v, 0, sizeof(*v));
	pthread_mutex_init(&v->m.mu, NULL);
	lacre_dbuf_init(&v->m.recs, 1u << 26);
	lacre_dbuf_init(&v->m.evs, 1u << 26);
	v->m.nospace_left = nospace;
	v->sink.ctx = &v->m;
	v->sink.record = ds_record;
	v->sink.event = ds_event;
	ingest_config_defaults(&cfg);
	cfg.hi2_addr = "127.0.0.1:0";
	cfg.quiet = 1;
	cfg.hkeys = hk;
	cfg.n_hkeys = n;
	if ((r = ingest_server_new(&cfg, &v->sink, &v->s)) != LACRE_OK)
		return r;
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

/* Send p[0..n) to port in pieces, half-close, wait (bounded) until the
 * server has read everything and closed.  0 on success. */
static int send_stream(int port, const uint8_t *p, size_t n)
{
	struct sockaddr_in a;
	uint8_t b[4096];
	int fd = socket(AF_INET, SOCK_STREAM, 0), ok = -1;
	struct timespec t0, t1;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0)
		goto done;
	for (size_t off = 0; off < n; off += 1201) {
		size_t k = n - off < 1201 ? n - off : 1201;
		if (send(fd, p + off, k, MSG_NOSIGNAL) != (ssize_t)k)
			goto done;
	}
	shutdown(fd, SHUT_WR);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct pollfd pf = { fd, POLLIN, 0 };
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if (t1.tv_sec - t0.tv_sec > 20)
			goto done;
		if (poll(&pf, 1, 200) > 0) {
			ssize_t k = recv(fd, b, sizeof(b), 0);
			if (k == 0 || (k < 0 && errno == ECONNRESET))
				break;
		}
	}
	ok = 0;
done:
	if (fd >= 0)
		close(fd);
	return ok;
}

/* The set-C HI2 capture and its counts: data PDUs (not keep-alives), the
 * encrypted ones, and its distinct LIIDs of encrypted PDUs. */
struct cap {
	uint8_t *p;
	size_t n;
	struct lacre_dbuf data;      /* the non-keep-alive PDUs, concatenated */
	size_t n_data, n_enc;
};

static int cap_load(struct cap *c)
{
	size_t off = 0, sz;
	struct etsi_pdu d;

	memset(c, 0, sizeof(*c));
	lacre_dbuf_init(&c->data, 1u << 26);
	if (!(c->p = t_vector("openli-c/raw/hi2.bin", &c->n)))
		return -1;
	while (off < c->n && etsi_pdu_size(c->p + off, c->n - off, 1u << 24, &sz) == LACRE_OK) {
		if (etsi_decode(c->p + off, sz, &d) == LACRE_OK && d.kind != ETSI_KIND_KEEPALIVE) {
			lacre_dbuf_add(&c->data, c->p + off, sz);
			c->n_data++;
			c->n_enc += d.encrypted ? 1 : 0;
		}
		off += sz;
	}
	return off == c->n ? 0 : -1;
}

static void cap_free(struct cap *c)
{
	free(c->p);
	lacre_dbuf_free(&c->data);
}

/* One ring for operator op holding key (hex) valid in [from, to). */
static void ring1(struct ingest_hkeys *h, const char *op, const char *hex, int64_t from, int64_t to)
{
	uint8_t k[ETSI_HKEY_MAX];
	size_t kl = 0;

	memset(h, 0, sizeof(*h));
	snprintf(h->operator_id, sizeof(h->operator_id), "%s", op);
	etsi_keyring_init(&h->ring);
	if (etsi_key_from_hex(hex, strlen(hex), k, &kl) == LACRE_OK)
		etsi_keyring_add(&h->ring, k, kl, from, to);
}

/* Run the capture through a server with keys hk; the sink's view in v. */
static int run_cap(struct srv *v, const struct cap *c, const uint8_t *p, size_t n,
		   const struct ingest_hkeys *hk, size_t nk, int nospace)
{
	int r;
	if ((r = srv_start(v, hk, nk, nospace)) != LACRE_OK)
		return r;
	if (send_stream(ingest_server_port(v->s, LACRE_HI2), p, n) != 0) {
		srv_stop(v);
		return LACRE_E_NETWORK;
	}
	(void)c;
	return srv_stop(v);
}

/* The right key: every encrypted PDU decrypted (its view the payload,
 * not the container), recorded exactly as received, byteCounter intact. */
static void test_right_key(void)
{
	struct cap c;
	struct srv v;
	struct ingest_hkeys hk;
	struct lacre_dbuf st;
	const char *js;

	if (cap_load(&c) != 0) {
		cap_free(&c);
		CHECK(!"set-C capture");
	}
	ring1(&hk, "opC-telco", KEY_HEX, INT64_MIN, INT64_MAX);
	CHECK_OK(run_cap(&v, &c, c.p, c.n, &hk, 1, 0));
	CHECK(c.n_enc > 0);
	CHECK_EQ_INT(v.m.n_recs, c.n_data);
	CHECK_EQ_INT(v.m.recs.len, c.data.len);
	CHECK_MEM(v.m.recs.p, c.data.p, c.data.len);
	CHECK_EQ_INT(v.m.n_encrypted, c.n_enc);
	CHECK_EQ_INT(v.m.n_decrypted, c.n_enc);
	CHECK_EQ_INT(v.m.n_view_bad, 0);
	CHECK_EQ_INT(ds_count(&v.m, "\"undecryptable\""), 0);
	CHECK_EQ_INT(ds_count(&v.m, "bytecounter-"), 0);
	CHECK_EQ_INT(ds_count(&v.m, "key-outside-validity-window"), 0);
	lacre_dbuf_init(&st, 1u << 20);
	CHECK_OK(ingest_server_stats_json(v.s, &st));
	CHECK_OK(lacre_dbuf_cstr(&st, &js));
	CHECK(strstr(js, "\"undecryptable\":0") != NULL);
	CHECK(strstr(js, "\"bytecounter_breaks\":0") != NULL);
	lacre_dbuf_free(&st);
	srv_free(&v);
	etsi_keyring_wipe(&hk.ring);
	cap_free(&c);
}

/* A wrong key: every encrypted PDU undecryptable as LACRE_E_AUTH, still
 * recorded byte-identical, one alerted event per LIID (3 in hi2.bin). */
static void test_wrong_key(void)
{
	struct cap c;
	struct srv v;
	struct ingest_hkeys hk;

	if (cap_load(&c) != 0) {
		cap_free(&c);
		CHECK(!"set-C capture");
	}
	ring1(&hk, "opC-telco", "000102030405060708090a0b0c0d0e0f1011121314151617", INT64_MIN, INT64_MAX);
	CHECK_OK(run_cap(&v, &c, c.p, c.n, &hk, 1, 0));
	CHECK_EQ_INT(v.m.n_recs, c.n_data);
	CHECK_MEM(v.m.recs.p, c.data.p, c.data.len);
	CHECK_EQ_INT(v.m.n_decrypted, 0);
	CHECK_EQ_INT(v.m.n_err_auth, c.n_enc);
	CHECK_EQ_INT(ds_count(&v.m, "\"event\":\"undecryptable\""), 3);
	CHECK_EQ_INT(ds_count2(&v.m, "\"event\":\"undecryptable\"", "wrong key"), 3);
	CHECK_EQ_INT(ds_count2(&v.m, "\"event\":\"undecryptable\"", "\"alert\":true"), 3);
	CHECK_EQ_INT(ds_count2(&v.m, "\"event\":\"undecryptable\"", "LIC-MOBILE-EPS"), 1);
	CHECK_EQ_INT(ds_count(&v.m, "bytecounter-"), 0);
	srv_free(&v);
	etsi_keyring_wipe(&hk.ring);
	cap_free(&c);
}

/* The right key, but filed under another operator; and no key at all:
 * LACRE_E_NOT_FOUND for every encrypted PDU. */
static void test_missing_key(void)
{
	struct cap c;
	struct srv v;
	struct ingest_hkeys hk;

	if (cap_load(&c) != 0) {
		cap_free(&c);
		CHECK(!"set-C capture");
	}
	ring1(&hk, "opD-other", KEY_HEX, INT64_MIN, INT64_MAX);
	CHECK_OK(run_cap(&v, &c, c.p, c.n, &hk, 1, 0));
	CHECK_EQ_INT(v.m.n_recs, c.n_data);
	CHECK_EQ_INT(v.m.n_err_notfound, c.n_enc);
	CHECK_EQ_INT(ds_count2(&v.m, "\"event\":\"undecryptable\"", "no handover key"), 3);
	srv_free(&v);
	CHECK_OK(run_cap(&v, &c, c.p, c.n, NULL, 0, 0));
	CHECK_EQ_INT(v.m.n_recs, c.n_data);
	CHECK_MEM(v.m.recs.p, c.data.p, c.data.len);
	CHECK_EQ_INT(v.m.n_err_notfound, c.n_enc);
	CHECK_EQ_INT(v.m.n_decrypted, 0);
	srv_free(&v);
	etsi_keyring_wipe(&hk.ring);
	cap_free(&c);
}

/* Rotation: the right key's window ended in 2020 and a wrong key is valid
 * now: every PDU still decrypts (the out-of-window key is tried after),
 * and says so in events. */
static void test_rotated_key(void)
{
	struct cap c;
	struct srv v;
	struct ingest_hkeys hk;
	uint8_t k[ETSI_HKEY_MAX];
	size_t kl = 0;

	if (cap_load(&c) != 0) {
		cap_free(&c);
		CHECK(!"set-C capture");
	}
	/* wrong key valid from 2020 on, the right one only before 2020 */
	ring1(&hk, "opC-telco", "000102030405060708090a0b0c0d0e0f1011121314151617",
	      INT64_C(1577836800000000), INT64_MAX);
	CHECK_OK(etsi_key_from_hex(KEY_HEX, strlen(KEY_HEX), k, &kl));
	CHECK_OK(etsi_keyring_add(&hk.ring, k, kl, INT64_MIN, INT64_C(1577836800000000)));
	CHECK_OK(run_cap(&v, &c, c.p, c.n, &hk, 1, 0));
	CHECK_EQ_INT(v.m.n_decrypted, c.n_enc);
	CHECK_EQ_INT(v.m.n_err_auth + v.m.n_err_notfound + v.m.n_err_other, 0);
	CHECK_EQ_INT(ds_count(&v.m, "\"event\":\"key-outside-validity-window\""), (int)c.n_enc);
	CHECK_EQ_INT(ds_count(&v.m, "bytecounter-"), 0);
	srv_free(&v);
	etsi_keyring_wipe(&hk.ring);
	cap_free(&c);
}

/* A PDU of LIC-MOBILE-EPS removed from the stream (its seq-1 IRI at offset
 * 5398, 386 bytes): a byteCounter break or a gap at stop, naming that
 * LIID, and no other LIID. */
static void test_bctr_break(void)
{
	struct cap c;
	struct srv v;
	struct ingest_hkeys hk;
	uint8_t *cut;
	size_t n;
	struct etsi_pdu d;

	if (cap_load(&c) != 0) {
		cap_free(&c);
		CHECK(!"set-C capture");
	}
	CHECK(c.n > 5398 + 386);
	CHECK_OK(etsi_decode(c.p + 5398, 386, &d));
	CHECK(d.liid.len == 14 && !memcmp(d.liid.p, "LIC-MOBILE-EPS", 14) && d.kind == ETSI_KIND_OTHER);
	CHECK((cut = malloc(c.n)) != NULL);
	memcpy(cut, c.p, 5398);
	memcpy(cut + 5398, c.p + 5398 + 386, c.n - 5398 - 386);
	n = c.n - 386;
	ring1(&hk, "opC-telco", KEY_HEX, INT64_MIN, INT64_MAX);
	CHECK_OK(run_cap(&v, &c, cut, n, &hk, 1, 0));
	free(cut);
	CHECK_EQ_INT(v.m.n_decrypted, c.n_enc - 1);
	CHECK(ds_count2(&v.m, "\"event\":\"bytecounter-", "LIC-MOBILE-EPS") >= 1);
	CHECK(ds_count2(&v.m, "\"event\":\"bytecounter-", "\"alert\":true") >= 1);
	CHECK_EQ_INT(ds_count2(&v.m, "\"event\":\"bytecounter-", "LIC-VOIP-GRACE"), 0);
	CHECK_EQ_INT(ds_count2(&v.m, "\"event\":\"bytecounter-", "LIC-IPRAD-33"), 0);
	/* the range: the chain was complete up to byte 616 (434 + 182) */
	CHECK(ds_count2(&v.m, "LIC-MOBILE-EPS", "616") >= 1);
	srv_free(&v);
	etsi_keyring_wipe(&hk.ring);
	cap_free(&c);
}

/* A sink out of space for the first records: they are held and retried,
 * decrypted again, and the byteCounter counts each once (no false break). */
static void test_nospace_no_false_break(void)
{
	struct cap c;
	struct srv v;
	struct ingest_hkeys hk;
	struct lacre_dbuf st;
	const char *js;
	char want[96];

	if (cap_load(&c) != 0) {
		cap_free(&c);
		CHECK(!"set-C capture");
	}
	ring1(&hk, "opC-telco", KEY_HEX, INT64_MIN, INT64_MAX);
	CHECK_OK(run_cap(&v, &c, c.p, c.n, &hk, 1, 5));
	CHECK_EQ_INT(v.m.refused, 5);
	CHECK_EQ_INT(v.m.n_recs, c.n_data);
	CHECK_MEM(v.m.recs.p, c.data.p, c.data.len);
	CHECK_EQ_INT(v.m.n_decrypted, c.n_enc);
	CHECK_EQ_INT(ds_count(&v.m, "bytecounter-"), 0);
	/* the held PDUs are counted once in the stats too */
	lacre_dbuf_init(&st, 1u << 20);
	CHECK_OK(ingest_server_stats_json(v.s, &st));
	CHECK_OK(lacre_dbuf_cstr(&st, &js));
	snprintf(want, sizeof(want), "\"encrypted\":%zu,\"decrypted\":%zu,", c.n_enc, c.n_enc);
	CHECK(strstr(js, want) != NULL);
	lacre_dbuf_free(&st);
	srv_free(&v);
	etsi_keyring_wipe(&hk.ring);
	cap_free(&c);
}

int main(void)
{
	RUN(test_right_key);
	RUN(test_wrong_key);
	RUN(test_missing_key);
	RUN(test_rotated_key);
	RUN(test_bctr_break);
	RUN(test_nospace_no_false_break);
	return t_done();
}

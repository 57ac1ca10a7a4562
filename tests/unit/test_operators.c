/*
 * test_operators.c - operators as first-class (issue 11): the operator keys
 * of lacre.conf (lib/site/operator.c through config.c: parsing, refusals
 * naming their key, round trip through the written file, the whole-config
 * check), address matching, the receiver's choice of operator for a
 * plain-TCP connection (lib/ingest/op_auth.c), and the routing rule: a
 * warrant that names operators takes records only from their connections
 * (operator-not-bound otherwise), one that names none takes any.
 */
#include <arpa/inet.h>
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
#include "lacre/age.h"
#include "lacre/buf.h"
#include "lacre/err.h"
#include "lacre/etsi_enc.h"
#include "lacre/ingest.h"
#include "keeper/keystore.h"
#include "lacre/site.h"
#include "lacre/warrant.h"
#include "keeper/warrant_log.h"
#include "ingest/ingest_int.h"

static char msg[SITE_MSG_MAX];

#define FPA "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89"
#define FPA_HEX "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789"
#define FPB_HEX "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

/* Parse text over the defaults of a site in /srv/s. */
static int parse(struct site_config *c, const char *text)
{
	site_config_defaults(c, "/srv/s");
	return site_config_parse(c, "lacre.conf", (const uint8_t *)text, strlen(text), msg,
				 sizeof(msg));
}

/* Whether two operators have the same name and credentials. */
static int same_operator(const struct site_operator *x, const struct site_operator *y)
{
	return !strcmp(x->name, y->name) && x->set == y->set && x->n_fps == y->n_fps &&
	       !memcmp(x->fps, y->fps, x->n_fps * sizeof(x->fps[0])) && !strcmp(x->ca, y->ca) &&
	       !strcmp(x->subject, y->subject) && x->n_nets == y->n_nets &&
	       !memcmp(x->nets, y->nets, x->n_nets * sizeof(x->nets[0]));
}

/* Every attribute parsed into binary form, and written back. */
static void test_parse(void)
{
	struct site_config c, c2;
	const struct site_operator *a, *b;
	struct lacre_dbuf d;
	char v[SITE_PATH_MAX];

	CHECK_OK(parse(&c,
		"operator.opa.cert_sha256 = " FPA ", " FPB_HEX "\n"
		"operator.opa.addresses = 192.0.2.0/24 2001:db8::/32, 127.0.0.1\n"
		"operator.op-B_2.ca = /etc/lacre/opb-ca.pem\n"
		"operator.op-B_2.subject = CN=opb-mediator,O=Operator B\n"));
	CHECK_EQ_INT(c.n_operators, 2);
	a = site_operator_find(&c, "opa");
	b = site_operator_find(&c, "op-B_2");
	CHECK(a != NULL && b != NULL && site_operator_find(&c, "opc") == NULL);
	CHECK_EQ_INT(a->n_fps, 2);
	CHECK_EQ_INT(a->fps[0][0], 0xab);
	CHECK_EQ_INT(a->fps[0][31], 0x89);
	CHECK_EQ_INT(a->fps[1][31], 0xff);
	CHECK_EQ_INT(a->n_nets, 3);
	CHECK_EQ_INT(a->nets[0].fam, 4);
	CHECK_EQ_INT(a->nets[0].prefix, 24);
	CHECK_EQ_INT(a->nets[1].fam, 6);
	CHECK_EQ_INT(a->nets[1].prefix, 32);
	CHECK_EQ_INT(a->nets[2].prefix, 32);
	CHECK_EQ_INT(a->set, SITE_OP_CERT | SITE_OP_ADDRESSES);
	CHECK_EQ_INT(b->set, SITE_OP_CA | SITE_OP_SUBJECT);
	CHECK_STR(b->subject, "CN=opb-mediator,O=Operator B");
	CHECK_OK(site_config_get(&c, "operator.opa.cert_sha256", v, sizeof(v)));
	CHECK_STR(v, FPA_HEX ", " FPB_HEX);
	CHECK_OK(site_config_get(&c, "operator.opa.addresses", v, sizeof(v)));
	CHECK_STR(v, "192.0.2.0/24, 2001:db8::/32, 127.0.0.1");
	CHECK_EQ_INT(site_config_get(&c, "operator.opc.ca", v, sizeof(v)), LACRE_E_NOT_FOUND);
	/* the written file parses back to the same operators */
	lacre_dbuf_init(&d, SITE_CONF_MAX);
	CHECK_OK(site_config_write(&c, &d));
	CHECK(strstr((const char *)d.p, "\noperator.op-B_2.subject = CN=opb-mediator,O=Operator B\n"));
	site_config_defaults(&c2, "/srv/s");
	CHECK_OK(site_config_parse(&c2, "w", d.p, d.len, msg, sizeof(msg)));
	lacre_dbuf_free(&d);
	CHECK_EQ_INT(c2.n_operators, 2);
	for (size_t i = 0; i < 2; i++)
		CHECK(same_operator(&c2.operators[i], &c.operators[i]));
	/* --set overrides one attribute; an empty value unsets it */
	CHECK_OK(site_config_set_arg(&c, "operator.opa.addresses=10.0.0.0/8", msg, sizeof(msg)));
	CHECK_EQ_INT(site_operator_find(&c, "opa")->n_nets, 1);
	CHECK_OK(site_config_set(&c, "operator.opa.addresses", "", msg, sizeof(msg)));
	CHECK_EQ_INT(site_operator_find(&c, "opa")->set, SITE_OP_CERT);
	CHECK_EQ_INT(site_operator_find(&c, "opa")->n_nets, 0);
}

/* Malformed keys and values: refused with the key in the message; the
 * configuration keeps what it had. */
static void test_refused(void)
{
	static const struct { const char *line, *why; } bad[] = {
		{ "operator.opa.cert_sha256 = abcd", "operator.opa.cert_sha256: 'abcd' is not a SHA-256" },
		{ "operator.opa.cert_sha256 = " FPA_HEX " " FPA_HEX, "is listed twice" },
		{ "operator.opa.cert_sha256 = " FPA_HEX "00", "is not a SHA-256" },
		{ "operator.opa.addresses = 192.0.2.1/24", "operator.opa.addresses: '192.0.2.1/24' has bits set" },
		{ "operator.opa.addresses = 192.0.2.0/33", "is not an IP address or CIDR" },
		{ "operator.opa.addresses = example.org", "is not an IP address or CIDR" },
		{ "operator.opa.addresses = 2001:db8::1/", "is not an IP address or CIDR" },
		{ "operator.opa.colour = red", "unknown operator attribute 'colour'" },
		{ "operator.op.a.ca = /x", "may hold only A-Z a-z 0-9 _ -" },
		{ "operator..ca = /x", "an operator name is 1 to 32 characters" },
		{ "operator.opa = /x", "operator keys are operator.NAME.ATTRIBUTE" },
		{ "operator.0123456789012345678901234567890123.ca = /x", "1 to 32 characters" },
		{ "operator.opa.subject = CN=\x01", "control or non-ASCII" },
	};
	struct site_config c;
	char text[4096];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "operator.opa.ca = /keep\n%s\n", bad[i].line);
		msg[0] = '\0';
		CHECK_EQ_INT(parse(&c, text), LACRE_E_CONFIG);
		if (!strstr(msg, bad[i].why) || !strstr(msg, "lacre.conf:2: ")) {
			t_fail(__FILE__, __LINE__, "'%s': message '%s' lacks '%s'", bad[i].line, msg, bad[i].why);
			return;
		}
		CHECK_EQ_INT(c.n_operators, 1);
		CHECK_STR(c.operators[0].ca, "/keep");
	}
	/* each key once per file */
	CHECK_EQ_INT(parse(&c, "operator.opa.ca = /a\noperator.opb.ca = /b\noperator.opa.ca = /c\n"),
		     LACRE_E_CONFIG);
	CHECK(strstr(msg, "lacre.conf:3: key 'operator.opa.ca' set twice") != NULL);
	/* at most SITE_OPERATOR_MAX operators */
	text[0] = '\0';
	for (int i = 0; i <= SITE_OPERATOR_MAX; i++) {
		size_t o = strlen(text);
		snprintf(text + o, sizeof(text) - o, "operator.op%d.addresses = 10.0.%d.0/24\n", i, i);
	}
	CHECK_EQ_INT(parse(&c, text), LACRE_E_CONFIG);
	CHECK(strstr(msg, "more than 16 operators") != NULL);
	CHECK_EQ_INT(c.n_operators, SITE_OPERATOR_MAX);
}

/* A configuration that site_config_check accepts but for the operators. */
static void valid_site(struct site_config *c)
{
	struct age_x25519_identity id;

	site_config_defaults(c, "/srv/s");
	memset(&id, 0, sizeof(id));
	if (age_x25519_generate(&id) != LACRE_OK ||
	    age_recipient_encode(id.public_key, c->oversight_recipient) != LACRE_OK)
		c->oversight_recipient[0] = '\0';
	age_identity_wipe(&id);
	memset(c->warrants_signer, 'a', 64);
	c->warrants_signer[64] = '\0';
}

/* The whole-config check names the key at fault. */
static void test_check(void)
{
	struct site_config c;
	char ca[600];
	FILE *f;

	snprintf(ca, sizeof(ca), "%s/ca.pem", t_tmpdir());
	CHECK((f = fopen(ca, "w")) != NULL);
	fputs("-----BEGIN CERTIFICATE-----\n", f);
	fclose(f);
	valid_site(&c);
	CHECK_OK(site_config_check(&c, msg, sizeof(msg)));
	CHECK_OK(site_config_set(&c, "operator.opa.subject", "CN=a", msg, sizeof(msg)));
	CHECK_EQ_INT(site_config_check(&c, msg, sizeof(msg)), LACRE_E_CONFIG);
	CHECK(strstr(msg, "operator.opa.ca: needed with operator.opa.subject") == msg);
	CHECK_OK(site_config_set(&c, "operator.opa.ca", "relative.pem", msg, sizeof(msg)));
	CHECK_EQ_INT(site_config_check(&c, msg, sizeof(msg)), LACRE_E_CONFIG);
	CHECK(strstr(msg, "operator.opa.ca: 'relative.pem' is not a readable file") == msg);
	CHECK_OK(site_config_set(&c, "operator.opa.ca", ca, msg, sizeof(msg)));
	CHECK_OK(site_config_check(&c, msg, sizeof(msg)));
	CHECK_OK(site_config_set(&c, "operator.opa.subject", "", msg, sizeof(msg)));
	CHECK_EQ_INT(site_config_check(&c, msg, sizeof(msg)), LACRE_E_CONFIG);
	CHECK(strstr(msg, "operator.opa.subject: needed with operator.opa.ca") == msg);
	CHECK_OK(site_config_set(&c, "operator.opa.ca", "", msg, sizeof(msg)));
	CHECK_EQ_INT(site_config_check(&c, msg, sizeof(msg)), LACRE_E_CONFIG);
	CHECK(strstr(msg, "operator.opa: no credential") == msg);
	CHECK_OK(site_config_set(&c, "operator.opa.cert_sha256", FPA, msg, sizeof(msg)));
	CHECK_OK(site_config_check(&c, msg, sizeof(msg)));
	CHECK_OK(site_config_set(&c, "operator.opb.cert_sha256", FPB_HEX ", " FPA_HEX, msg, sizeof(msg)));
	CHECK_EQ_INT(site_config_check(&c, msg, sizeof(msg)), LACRE_E_CONFIG);
	CHECK(strstr(msg, "operator.opb.cert_sha256: a fingerprint also belongs to operator opa") == msg);
	CHECK_OK(site_config_set(&c, "operator.opb.cert_sha256", FPB_HEX, msg, sizeof(msg)));
	CHECK_OK(site_config_check(&c, msg, sizeof(msg)));
	/* one CA and subject for two operators: refused */
	CHECK_OK(site_config_set(&c, "operator.opa.ca", ca, msg, sizeof(msg)));
	CHECK_OK(site_config_set(&c, "operator.opa.subject", "CN=m,O=A", msg, sizeof(msg)));
	CHECK_OK(site_config_set(&c, "operator.opb.ca", ca, msg, sizeof(msg)));
	CHECK_OK(site_config_set(&c, "operator.opb.subject", "CN=m,O=B", msg, sizeof(msg)));
	CHECK_OK(site_config_check(&c, msg, sizeof(msg)));
	CHECK_OK(site_config_set(&c, "operator.opb.subject", "CN=m,O=A", msg, sizeof(msg)));
	CHECK_EQ_INT(site_config_check(&c, msg, sizeof(msg)), LACRE_E_CONFIG);
	CHECK(strstr(msg, "operator.opb.subject: the same CA and subject as operator opa") == msg);
	CHECK_OK(site_config_set(&c, "operator.opb.subject", "CN=m,O=B", msg, sizeof(msg)));
	/* TLS: an operator's certificate satisfies require_client_cert; a
	 * global client CA beside operators is refused (it would decide nothing) */
	c.tls_enable = 1;
	snprintf(c.tls_cert, sizeof(c.tls_cert), "%s", ca);
	snprintf(c.tls_key, sizeof(c.tls_key), "%s", ca);
	c.tls_require_client_cert = 1;
	CHECK_OK(site_config_check(&c, msg, sizeof(msg)));
	snprintf(c.tls_client_ca, sizeof(c.tls_client_ca), "%s", ca);
	CHECK_EQ_INT(site_config_check(&c, msg, sizeof(msg)), LACRE_E_CONFIG);
	CHECK(strstr(msg, "tls.client_ca: not used once operators are configured") == msg);
	/* without operators, require_client_cert needs tls.client_ca */
	valid_site(&c);
	c.tls_enable = 1;
	snprintf(c.tls_cert, sizeof(c.tls_cert), "%s", ca);
	snprintf(c.tls_key, sizeof(c.tls_key), "%s", ca);
	c.tls_require_client_cert = 1;
	CHECK_EQ_INT(site_config_check(&c, msg, sizeof(msg)), LACRE_E_CONFIG);
	CHECK(strstr(msg, "tls.client_ca: not set") == msg);
}

/* Address ranges, IPv4-mapped IPv6 included. */
static void test_net_match(void)
{
	struct site_config c;
	const struct site_operator *o;
	uint8_t a4[4], a6[16];

	CHECK_OK(parse(&c, "operator.x.addresses = 192.0.2.128/25, 2001:db8::/32, 10.1.2.3, 172.16.0.0/12\n"));
	o = site_operator_find(&c, "x");
	CHECK(o != NULL);
#define IN4(s) (inet_pton(AF_INET, (s), a4) == 1 && site_net_match(o->nets, o->n_nets, 4, a4))
#define IN6(s) (inet_pton(AF_INET6, (s), a6) == 1 && site_net_match(o->nets, o->n_nets, 6, a6))
	CHECK(IN4("192.0.2.128"));
	CHECK(IN4("192.0.2.255"));
	CHECK(!IN4("192.0.2.127"));
	CHECK(IN4("10.1.2.3"));
	CHECK(!IN4("10.1.2.4"));
	CHECK(IN4("172.31.255.255"));
	CHECK(!IN4("172.32.0.0"));
	CHECK(IN6("2001:db8:ffff::1"));
	CHECK(!IN6("2001:db9::1"));
	CHECK(IN6("::ffff:192.0.2.200"));     /* a v4 peer on a dual-stack socket */
	CHECK(!IN6("::ffff:192.0.2.1"));
	CHECK(!site_net_match(o->nets, o->n_nets, 4, NULL));
	CHECK_OK(parse(&c, "operator.any.addresses = 0.0.0.0/0\n"));
	o = site_operator_find(&c, "any");
	CHECK(IN4("203.0.113.9"));
	CHECK(!IN6("2001:db8::1"));
#undef IN4
#undef IN6
}

/* The receiver's choice for a plain-TCP connection (no certificate): by
 * address alone; a certificate-only operator never matches; two equal
 * matches are refused, never guessed. */
static void test_op_auth_address(void)
{
	struct site_config c;
	struct ingest_config ic;
	struct ingest_op_auth *a = NULL;
	char fp[65], subj[256], why[256];
	uint8_t ip[4];
	size_t idx = 99;

	CHECK_OK(parse(&c,
		"operator.cert.cert_sha256 = " FPA_HEX "\n"
		"operator.lan.addresses = 10.0.0.0/8\n"
		"operator.host.addresses = 192.0.2.7\n"
		"operator.dup.addresses = 192.0.2.0/24\n"));
	ingest_config_defaults(&ic);
	ic.operators = c.operators;
	ic.n_operators = c.n_operators;
	CHECK_OK(ingest_op_auth_new(&ic, &a, why, sizeof(why)));
	inet_pton(AF_INET, "10.20.30.40", ip);
	CHECK_OK(ingest_op_auth_conn(a, &ic, NULL, 4, ip, &idx, fp, subj, sizeof(subj), why, sizeof(why)));
	CHECK_STR(c.operators[idx].name, "lan");
	CHECK_STR(fp, "");
	inet_pton(AF_INET, "192.0.2.9", ip);
	CHECK_OK(ingest_op_auth_conn(a, &ic, NULL, 4, ip, &idx, fp, subj, sizeof(subj), why, sizeof(why)));
	CHECK_STR(c.operators[idx].name, "dup");
	inet_pton(AF_INET, "192.0.2.7", ip);       /* host and dup both match */
	idx = 99;
	CHECK_EQ_INT(ingest_op_auth_conn(a, &ic, NULL, 4, ip, &idx, fp, subj, sizeof(subj), why,
					 sizeof(why)), LACRE_E_AUTH);
	CHECK_EQ_INT(idx, 99);
	CHECK(strstr(why, "and another as well") != NULL);
	inet_pton(AF_INET, "203.0.113.1", ip);
	CHECK_EQ_INT(ingest_op_auth_conn(a, &ic, NULL, 4, ip, &idx, fp, subj, sizeof(subj), why,
					 sizeof(why)), LACRE_E_AUTH);
	CHECK(strstr(why, "source address matches no operator") != NULL);
	ingest_op_auth_free(a);
	a = NULL;
	/* an operator's CA that does not load is a configuration error naming it */
	CHECK_OK(site_config_set(&c, "operator.cert.ca", "/nonexistent/ca.pem", msg, sizeof(msg)));
	CHECK_OK(site_config_set(&c, "operator.cert.subject", "CN=x", msg, sizeof(msg)));
	ic.operators = c.operators;
	CHECK_EQ_INT(ingest_op_auth_new(&ic, &a, why, sizeof(why)), LACRE_E_CONFIG);
	CHECK(a == NULL);
	CHECK(strstr(why, "(operator.cert.ca)") != NULL);
}

/* ------------------------------------------------- the receiver itself */

/* A sink that keeps each record's operator and every event line. */
struct opsink {
	pthread_mutex_t mu;
	char ops[64][65];
	size_t n;
	struct lacre_dbuf evs;
};

static int os_record(void *ctx, const struct lacre_record *r)
{
	struct opsink *k = ctx;

	pthread_mutex_lock(&k->mu);
	if (k->n < 64)
		memcpy(k->ops[k->n], r->operator_name, sizeof(k->ops[0]));
	k->n++;
	pthread_mutex_unlock(&k->mu);
	return LACRE_OK;
}

static int os_event(void *ctx, const char *j)
{
	struct opsink *k = ctx;

	pthread_mutex_lock(&k->mu);
	lacre_dbuf_add_str(&k->evs, j);
	lacre_dbuf_add_u8(&k->evs, '\n');
	pthread_mutex_unlock(&k->mu);
	return LACRE_OK;
}

static int os_ok(void *ctx)
{
	(void)ctx;
	return LACRE_OK;
}

/* Records and refusal events so far. */
static void os_counts(struct opsink *k, size_t *recs, int *refused)
{
	const char *p;

	pthread_mutex_lock(&k->mu);
	*recs = k->n;
	*refused = 0;
	if (lacre_dbuf_cstr(&k->evs, &p) == LACRE_OK)
		while ((p = strstr(p, "\"event\":\"operator-refused\""))) {
			(*refused)++;
			p++;
		}
	pthread_mutex_unlock(&k->mu);
}

static void *run_server(void *arg)
{
	ingest_server_run(arg);
	return NULL;
}

/* Connect from loopback address src to 127.0.0.1:port, send n CC PDUs,
 * half-close and read to EOF (bounded: 5 s).  Returns 0 when the peer
 * closed (EOF, or a reset: a receiver that closes with our bytes unread
 * resets), 1 when it was still open after 5 s, -1 when we could not
 * connect. */
static int send_from(const char *src, int port, int n)
{
	struct sockaddr_in a;
	struct etsi_enc_header h;
	struct lacre_dbuf d;
	struct pollfd pf;
	uint8_t pkt[20], b[256];
	int fd, rc = -1;

	memset(pkt, 0x45, sizeof(pkt));
	lacre_dbuf_init(&d, 1 << 16);
	for (int q = 0; q < n; q++) {
		etsi_enc_header_defaults(&h);
		h.liid = (const uint8_t *)"LOP1";
		h.liid_len = 4;
		h.operator_id = "op";
		h.has_cin = 1;
		h.cin = 9;
		h.seq = (uint64_t)q;
		etsi_enc_ipcc(&d, &h, 0, pkt, sizeof(pkt));
	}
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		goto out;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	inet_pton(AF_INET, src, &a.sin_addr);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0)
		goto out;
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	a.sin_port = htons((uint16_t)port);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0)
		goto out;
	rc = 0;
	if (send(fd, d.p, d.len, MSG_NOSIGNAL) != (ssize_t)d.len)
		goto out;                 /* reset already */
	shutdown(fd, SHUT_WR);
	pf.fd = fd;
	pf.events = POLLIN;
	rc = 1;
	while (poll(&pf, 1, 5000) == 1) {
		if (recv(fd, b, sizeof(b), 0) <= 0) {
			rc = 0;
			break;
		}
	}
out:
	if (fd >= 0)
		close(fd);
	lacre_dbuf_free(&d);
	return rc;
}

/* Over real loopback sockets (plain TCP): a connection from opl's address
 * delivers records stamped "opl"; one from an address of no operator is
 * refused before any PDU of it is read, with an operator-refused event
 * and the count in --stats. */
static void test_server_stamps_operator(void)
{
	struct site_config c;
	struct ingest_config ic;
	struct ingest_server *s = NULL;
	struct opsink k;
	struct lacre_sink sink = { &k, os_record, os_event, os_ok, os_ok, NULL, NULL };
	struct lacre_dbuf st;
	pthread_t th;
	const char *evs, *stats;
	size_t recs = 0;
	int refused = 0, port;

	memset(&k, 0, sizeof(k));
	pthread_mutex_init(&k.mu, NULL);
	lacre_dbuf_init(&k.evs, 1 << 20);
	CHECK_OK(parse(&c, "operator.opl.addresses = 127.0.0.1\n"
			   "operator.opx.addresses = 127.0.0.2\n"
			   "operator.opc.cert_sha256 = " FPA_HEX "\n"));
	ingest_config_defaults(&ic);
	ic.hi3_addr = "127.0.0.1:0";
	ic.operators = c.operators;
	ic.n_operators = c.n_operators;
	ic.quiet = 1;
	ic.drain_ms = 500;
	CHECK_OK(ingest_server_new(&ic, &sink, &s));
	port = ingest_server_port(s, LACRE_HI3);
	CHECK(pthread_create(&th, NULL, run_server, s) == 0);
	CHECK_EQ_INT(send_from("127.0.0.1", port, 3), 0);
	CHECK_EQ_INT(send_from("127.0.0.3", port, 2), 0);     /* closed by the receiver */
	for (int i = 0; i < 500 && (recs < 3 || refused < 1); i++) {
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		nanosleep(&ts, NULL);
		os_counts(&k, &recs, &refused);
	}
	ingest_server_stop(s);
	pthread_join(th, NULL);
	os_counts(&k, &recs, &refused);
	lacre_dbuf_init(&st, 1 << 20);
	CHECK_OK(ingest_server_stats_json(s, &st));
	ingest_server_free(s);
	CHECK_EQ_INT(recs, 3);
	for (size_t i = 0; i < 3; i++)
		CHECK_STR(k.ops[i], "opl");
	CHECK_EQ_INT(refused, 1);
	CHECK_OK(lacre_dbuf_cstr(&k.evs, &evs));
	CHECK(strstr(evs, "\"event\":\"operator-refused\",\"conn\":2,\"peer\":\"127.0.0.3:") != NULL);
	CHECK(strstr(evs, "the source address matches no operator") != NULL);
	CHECK_OK(lacre_dbuf_cstr(&st, &stats));
	CHECK(strstr(stats, "\"no_operator\":1") != NULL);
	lacre_dbuf_free(&st);
	lacre_dbuf_free(&k.evs);
}

/* ------------------------------------------------------------ routing */

static struct site site;
static struct keystore *ks;

/* A fresh site with operators opa and opb, and its keystore. */
static int make_site(void)
{
	struct site_config c;
	uint8_t master[32];
	char dir[512];
	int r;

	snprintf(dir, sizeof(dir), "%s/site", t_tmpdir());
	site_config_defaults(&c, dir);
	c.scrypt_log2n = 10;
	if ((r = site_config_set(&c, "operator.opa.cert_sha256", FPA_HEX, msg, sizeof(msg))) ||
	    (r = site_config_set(&c, "operator.opb.addresses", "127.0.0.2", msg, sizeof(msg))))
		return r;
	r = site_create(dir, &c, "pw", &site, msg, sizeof(msg));
	if (r == LACRE_OK)
		r = site_master_unlock(&site, "pw", master);
	if (r == LACRE_OK)
		r = keystore_open(&site, master, &ks);
	return r;
}

/* A warrant on liid for Jan-Mar 2026, naming the given operators. */
static int add(const char *liid, const char *op1, const char *op2, char id[WARRANT_ID_MAX])
{
	struct warrant w;

	memset(&w, 0, sizeof(w));
	snprintf(w.case_id, sizeof(w.case_id), "DP 1/2026");
	snprintf(w.unit, sizeof(w.unit), "UCO-1");
	snprintf(w.court, sizeof(w.court), "JI 5 Madrid");
	snprintf(w.periods[0].order_id, sizeof(w.periods[0].order_id), "Auto %s", liid);
	if (warrant_time_parse("2026-01-01", &w.periods[0].order_date) != LACRE_OK ||
	    warrant_time_parse("2026-03-31", &w.periods[0].to) != LACRE_OK)
		return LACRE_E_INTERNAL;
	w.periods[0].from = w.periods[0].order_date;
	w.n_periods = 1;
	w.categories = WARRANT_CAT_IRI | WARRANT_CAT_CONTENT;
	snprintf(w.targets[0], sizeof(w.targets[0]), "t-%s", liid);
	w.n_targets = 1;
	snprintf(w.liids[0], sizeof(w.liids[0]), "%s", liid);
	w.n_liids = 1;
	if (op1)
		snprintf(w.operators[w.n_operators++], SITE_OPERATOR_NAME_MAX, "%s", op1);
	if (op2)
		snprintf(w.operators[w.n_operators++], SITE_OPERATOR_NAME_MAX, "%s", op2);
	return warrant_add(&site, ks, &w, id, msg, sizeof(msg));
}

/* Route liid at 2026-02-01 from operator op: the reason, or NULL (routed,
 * *m filled). */
static const char *route(const struct warrant_registry *reg, const char *liid, const char *op,
			 struct warrant_match *m)
{
	const char *reason = "unset";
	int64_t t;

	memset(m, 0, sizeof(*m));
	if (warrant_time_parse("2026-02-01", &t) != LACRE_OK ||
	    warrant_route_operator(reg, (const uint8_t *)liid, strlen(liid), t, WARRANT_CAT_IRI, op,
				   m, &reason) != LACRE_OK)
		return "error";
	return reason;
}

/* The rule, through the signed log and back. */
static void test_route_operator(void)
{
	struct warrant_registry *reg = NULL;
	const struct warrant *w;
	struct warrant_match m;
	char w1[WARRANT_ID_MAX], w2[WARRANT_ID_MAX], w3[WARRANT_ID_MAX], path[1200];
	struct lacre_dbuf log;

	CHECK_OK(make_site());
	/* only operators the site knows, each once */
	CHECK_EQ_INT(add("L1", "opz", NULL, w1), LACRE_E_INVALID);
	CHECK(strstr(msg, "operator 'opz' is not configured in lacre.conf") != NULL);
	CHECK_EQ_INT(add("L1", "opa", "opa", w1), LACRE_E_INVALID);
	CHECK(strstr(msg, "listed twice") != NULL);
	CHECK_EQ_INT(add("L1", "op.a", NULL, w1), LACRE_E_INVALID);
	CHECK_OK(add("L1", "opa", NULL, w1));
	CHECK_OK(add("L2", "opa", "opb", w2));
	CHECK_OK(add("L3", NULL, NULL, w3));
	/* the log: an operators= token on bound warrants only */
	CHECK_OK(site_path(&site, SITE_WARRANTS, path, sizeof(path)));
	CHECK_OK(site_read_file(path, WARRANT_LOG_MAX, &log));
	CHECK_OK(lacre_dbuf_add_u8(&log, 0));
	CHECK(strstr((const char *)log.p, " operators=opa prev=") != NULL);
	CHECK(strstr((const char *)log.p, " operators=opa,opb prev=") != NULL);
	CHECK(strstr(strstr((const char *)log.p, "liids=L3"), "operators=") == NULL);
	lacre_dbuf_free(&log);
	CHECK_OK(warrant_registry_load(&site, &reg));
	CHECK((w = warrant_registry_find(reg, w2)) != NULL);
	CHECK_EQ_INT(w->n_operators, 2);
	CHECK_STR(w->operators[1], "opb");
	CHECK_EQ_INT(warrant_registry_find(reg, w3)->n_operators, 0);
	/* bound to opa: opa routes; opb, no operator, and a near name do not */
	CHECK(route(reg, "L1", "opa", &m) == NULL);
	CHECK_STR(m.id, w1);
	CHECK_STR(route(reg, "L1", "opb", &m), WARRANT_Q_OPERATOR);
	CHECK_STR(m.id, w1);                 /* filled: the alert names it */
	CHECK_EQ_INT(m.n_operators, 1);
	CHECK_STR(m.operators[0], "opa");
	CHECK_STR(route(reg, "L1", "", &m), WARRANT_Q_OPERATOR);
	CHECK_STR(route(reg, "L1", NULL, &m), WARRANT_Q_OPERATOR);
	CHECK_STR(route(reg, "L1", "opa2", &m), WARRANT_Q_OPERATOR);
	/* two operators: either */
	CHECK(route(reg, "L2", "opa", &m) == NULL);
	CHECK(route(reg, "L2", "opb", &m) == NULL);
	CHECK_STR(route(reg, "L2", "", &m), WARRANT_Q_OPERATOR);
	/* none named: any connection, unauthenticated included */
	CHECK(route(reg, "L3", "opb", &m) == NULL);
	CHECK(route(reg, "L3", "", &m) == NULL);
	CHECK(route(reg, "L3", NULL, &m) == NULL);
	/* the other reasons come first: a wrong window is not an operator matter */
	{
		const char *reason = NULL;
		int64_t t;
		CHECK_OK(warrant_time_parse("2026-06-01", &t));
		CHECK_OK(warrant_route_operator(reg, (const uint8_t *)"L1", 2, t, WARRANT_CAT_IRI, "opb",
						&m, &reason));
		CHECK_STR(reason, WARRANT_Q_AFTER_END);
		CHECK_STR(route(reg, "L9", "opa", &m), WARRANT_Q_UNKNOWN_LIID);
	}
	warrant_registry_free(reg);
}

int main(void)
{
	RUN(test_parse);
	RUN(test_refused);
	RUN(test_check);
	RUN(test_net_match);
	RUN(test_op_auth_address);
	RUN(test_server_stamps_operator);
	RUN(test_route_operator);
	keystore_close(ks);
	return t_done();
}

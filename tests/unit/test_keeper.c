/*
 * test_keeper.c - the keeper's request (lib/proto/request.c): encode,
 * parse and verify round trip; a forged byte anywhere fails; every
 * truncation and every single-byte change of a valid request is refused
 * by the parser or the signature (the parser is fuzz-friendly: it never
 * crashes, never accepts a second form); size and count caps; the replay
 * window (replayed nonce, stale, future, before the keeper's start); the
 * allow-list of commands and options (lib/proto/args.c); and sessions of
 * an authenticated user (acl_session_open_authenticated): unknown and
 * disabled users refused, the access event signed by the user through the
 * signer, and a signer that lies refused; and what the client signs when
 * a (fake) keeper asks: its own access request and the one registry line
 * its command writes, nothing else.
 */
#include <stdarg.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "harness.h"
#include "lacre/accesslog.h"
#include "lacre/acl.h"
#include "lacre/age.h"
#include "lacre/ed25519.h"
#include "lacre/err.h"
#include "lacre/keeper.h"
#include "keeper/keystore.h"
#include "lacre/site.h"
#include "lacre/users.h"
#include "lacre/warrant.h"
#include "keeper/warrant_log.h"

#define T0 1796000000000000LL   /* a request time, Unix microseconds */

static const uint8_t nonce1[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };

/* A request of k for argv into d. */
static int mk(const struct user_key *k, int argc, char *const *argv, struct lacre_dbuf *d)
{
	lacre_dbuf_init(d, KEEPER_REQUEST_MAX + 1);
	return keeper_request_encode(k, T0, nonce1, argc, argv, d);
}

static void test_roundtrip(void)
{
	struct user_key k, other;
	struct lacre_dbuf d;
	struct keeper_request rq;
	char *argv[] = { "records", "--warrant", "W-000001", "--justification",
			 "DP 1/2026: 100% of the calls, \"quoted\" & más" };
	const char *want = "lacre-keeper-request/v1\nuser ana\ntime 1796000000000000\n"
			   "nonce 0102030405060708090a0b0c0d0e0f10\narg records\narg --warrant\n"
			   "arg W-000001\narg --justification\n";

	CHECK_OK(user_key_generate("ana", &k));
	CHECK_OK(user_key_generate("ana", &other));
	CHECK_OK(mk(&k, 5, argv, &d));
	CHECK(d.len > strlen(want));
	CHECK_MEM(d.p, want, strlen(want));
	CHECK_OK(keeper_request_parse(d.p, d.len, &rq));
	CHECK_STR(rq.user, "ana");
	CHECK_EQ_INT(rq.time_us, T0);
	CHECK_MEM(rq.nonce, nonce1, 16);
	CHECK_EQ_INT(rq.argc, 5);
	for (int i = 0; i < 5; i++)
		CHECK_STR(rq.argv[i], argv[i]);
	CHECK(rq.argv[5] == NULL);
	CHECK_OK(keeper_request_verify(&rq, d.p, k.pub));
	/* the same name with another key: not the user's signature */
	CHECK_EQ_INT(keeper_request_verify(&rq, d.p, other.pub), LACRE_E_AUTH);
	keeper_request_free(&rq);
	lacre_dbuf_free(&d);
	user_key_wipe(&k);
	user_key_wipe(&other);
}

/* Every truncation and every single-byte change of a valid request is
 * refused: by the parser, or (a change that still parses) by the
 * signature.  Nothing else happens: this is the fuzzer's property. */
static void test_mutations(void)
{
	struct user_key k;
	struct lacre_dbuf d;
	struct keeper_request rq;
	char *argv[] = { "warrant", "show", "W-000002", "--justification", "x y" };
	uint8_t *m;
	size_t parsed = 0;

	CHECK_OK(user_key_generate("eva", &k));
	CHECK_OK(mk(&k, 5, argv, &d));
	for (size_t n = 0; n < d.len; n++)
		CHECK(keeper_request_parse(d.p, n, &rq) != LACRE_OK);
	CHECK((m = malloc(d.len)) != NULL);
	for (size_t i = 0; i < d.len; i++) {
		static const uint8_t flips[] = { 0x01, 0x20, 0x80 };
		for (size_t f = 0; f < sizeof(flips); f++) {
			int r;
			memcpy(m, d.p, d.len);
			m[i] ^= flips[f];
			r = keeper_request_parse(m, d.len, &rq);
			if (r == LACRE_OK) {
				parsed++;
				if (keeper_request_verify(&rq, m, k.pub) == LACRE_OK) {
					keeper_request_free(&rq);
					free(m);
					t_fail(__FILE__, __LINE__, "byte %zu ^ 0x%02x verifies", i, flips[f]);
					return;
				}
				keeper_request_free(&rq);
			}
		}
	}
	free(m);
	/* changes inside values parse (and then fail the signature) */
	CHECK(parsed > 0);
	/* trailing bytes after the sig line */
	CHECK_OK(lacre_dbuf_add_str(&d, "x"));
	CHECK_EQ_INT(keeper_request_parse(d.p, d.len, &rq), LACRE_E_TRAILING);
	lacre_dbuf_free(&d);
	user_key_wipe(&k);
}

/* Parse a hand-written request (no valid signature needed for syntax). */
static int parse_text(const char *s)
{
	struct keeper_request rq;
	int r = keeper_request_parse((const uint8_t *)s, strlen(s), &rq);

	if (r == LACRE_OK)
		keeper_request_free(&rq);
	return r;
}

static void test_canonical(void)
{
	static const char sig[] = "sig 00000000000000000000000000000000000000000000000000000000000000"
				  "000000000000000000000000000000000000000000000000000000000000000000\n";
	char b[1024];

	/* the reference form parses */
	snprintf(b, sizeof(b), "lacre-keeper-request/v1\nuser ana\ntime 5\nnonce "
		 "000102030405060708090a0b0c0d0e0f\narg records\n%s", sig);
	CHECK_OK(parse_text(b));
	/* one form only: upper-case hex, a leading zero, a sign, an unknown
	 * line, no argument, a space too many, a raw byte pct never leaves */
	snprintf(b, sizeof(b), "lacre-keeper-request/v1\nuser ana\ntime 5\nnonce "
		 "000102030405060708090A0B0C0D0E0F\narg records\n%s", sig);
	CHECK_EQ_INT(parse_text(b), LACRE_E_MALFORMED);
	snprintf(b, sizeof(b), "lacre-keeper-request/v1\nuser ana\ntime 05\nnonce "
		 "000102030405060708090a0b0c0d0e0f\narg records\n%s", sig);
	CHECK_EQ_INT(parse_text(b), LACRE_E_MALFORMED);
	snprintf(b, sizeof(b), "lacre-keeper-request/v1\nuser ana\ntime -5\nnonce "
		 "000102030405060708090a0b0c0d0e0f\narg records\n%s", sig);
	CHECK_EQ_INT(parse_text(b), LACRE_E_MALFORMED);
	snprintf(b, sizeof(b), "lacre-keeper-request/v1\nuser ana\ntime 5\nnonce "
		 "000102030405060708090a0b0c0d0e0f\nwhy not\narg records\n%s", sig);
	CHECK_EQ_INT(parse_text(b), LACRE_E_MALFORMED);
	snprintf(b, sizeof(b), "lacre-keeper-request/v1\nuser ana\ntime 5\nnonce "
		 "000102030405060708090a0b0c0d0e0f\n%s", sig);
	CHECK_EQ_INT(parse_text(b), LACRE_E_MALFORMED);
	snprintf(b, sizeof(b), "lacre-keeper-request/v1\nuser  ana\ntime 5\nnonce "
		 "000102030405060708090a0b0c0d0e0f\narg records\n%s", sig);
	CHECK_EQ_INT(parse_text(b), LACRE_E_MALFORMED);
	snprintf(b, sizeof(b), "lacre-keeper-request/v1\nuser ana\ntime 5\nnonce "
		 "000102030405060708090a0b0c0d0e0f\narg rec ords\n%s", sig);
	CHECK_EQ_INT(parse_text(b), LACRE_E_MALFORMED);
	snprintf(b, sizeof(b), "lacre-keeper-request/v1\nuser ana\ntime 5\nnonce "
		 "000102030405060708090a0b0c0d0e0f\narg a%%0Ab\n%s", sig);
	CHECK_EQ_INT(parse_text(b), LACRE_E_MALFORMED);      /* no control bytes */
	/* unsigned: no sig line at all */
	CHECK_EQ_INT(parse_text("lacre-keeper-request/v1\nuser ana\ntime 5\nnonce "
				"000102030405060708090a0b0c0d0e0f\narg records\n"),
		     LACRE_E_INCOMPLETE);
	CHECK_EQ_INT(parse_text("lacre-keeper-request/v2\n"), LACRE_E_MALFORMED);
	CHECK_EQ_INT(parse_text(""), LACRE_E_INCOMPLETE);
}

static void test_caps(void)
{
	struct user_key k;
	struct lacre_dbuf d;
	struct keeper_request rq;
	char *argv[KEEPER_ARGS_MAX + 2], *big;
	uint8_t *huge;

	CHECK_OK(user_key_generate("ana", &k));
	for (int i = 0; i < KEEPER_ARGS_MAX + 1; i++)
		argv[i] = "a";
	argv[KEEPER_ARGS_MAX + 1] = NULL;
	CHECK_OK(mk(&k, KEEPER_ARGS_MAX, argv, &d));
	CHECK_OK(keeper_request_parse(d.p, d.len, &rq));
	CHECK_EQ_INT(rq.argc, KEEPER_ARGS_MAX);
	keeper_request_free(&rq);
	lacre_dbuf_free(&d);
	lacre_dbuf_init(&d, KEEPER_REQUEST_MAX + 1);
	CHECK_EQ_INT(keeper_request_encode(&k, T0, nonce1, KEEPER_ARGS_MAX + 1, argv, &d),
		     LACRE_E_TOO_LARGE);
	/* an argument over KEEPER_ARG_MAX */
	CHECK((big = malloc(KEEPER_ARG_MAX + 2)) != NULL);
	memset(big, 'x', KEEPER_ARG_MAX + 1);
	big[KEEPER_ARG_MAX + 1] = '\0';
	argv[1] = big;
	CHECK_EQ_INT(keeper_request_encode(&k, T0, nonce1, 2, argv, &d), LACRE_E_TOO_LARGE);
	big[KEEPER_ARG_MAX] = '\0';
	CHECK_OK(keeper_request_encode(&k, T0, nonce1, 2, argv, &d));
	lacre_dbuf_free(&d);
	/* 65 arguments written by hand: refused by the parser as well */
	lacre_dbuf_init(&d, KEEPER_REQUEST_MAX + 1);
	CHECK_OK(lacre_dbuf_add_str(&d, "lacre-keeper-request/v1\nuser ana\ntime 5\nnonce "
				    "000102030405060708090a0b0c0d0e0f\n"));
	for (int i = 0; i < KEEPER_ARGS_MAX + 1; i++)
		CHECK_OK(lacre_dbuf_add_str(&d, "arg a\n"));
	CHECK_EQ_INT(keeper_request_parse(d.p, d.len, &rq), LACRE_E_TOO_LARGE);
	lacre_dbuf_free(&d);
	/* a request larger than KEEPER_REQUEST_MAX */
	CHECK((huge = calloc(1, KEEPER_REQUEST_MAX + 1)) != NULL);
	CHECK_EQ_INT(keeper_request_parse(huge, KEEPER_REQUEST_MAX + 1, &rq), LACRE_E_TOO_LARGE);
	free(huge);
	free(big);
	user_key_wipe(&k);
}

static void test_replay(void)
{
	struct keeper_replay *c = NULL;
	const int64_t start = T0, now = T0 + 200 * 1000000LL;
	uint8_t n2[16];

	memcpy(n2, nonce1, 16);
	n2[15] ^= 1;
	CHECK_OK(keeper_replay_new(start, &c));
	CHECK_OK(keeper_replay_check(c, now, now - 500000, nonce1));
	CHECK_EQ_INT(keeper_replay_check(c, now + 10, now - 500000, nonce1), LACRE_E_EXISTS);
	CHECK_OK(keeper_replay_check(c, now + 10, now, n2));
	/* stale, future, before the keeper started (a replay across a restart) */
	CHECK_EQ_INT(keeper_replay_check(c, now + KEEPER_SKEW_US + 2, now, nonce1), LACRE_E_RANGE);
	n2[0] ^= 1;
	CHECK_EQ_INT(keeper_replay_check(c, now, now + KEEPER_SKEW_US + 1, n2), LACRE_E_RANGE);
	CHECK_EQ_INT(keeper_replay_check(c, start + 1, start - 1, n2), LACRE_E_RANGE);
	/* exactly at the edge still passes */
	CHECK_OK(keeper_replay_check(c, now, now - KEEPER_SKEW_US, n2));
	keeper_replay_free(c);
	/* a new keeper (restart): an old request's time is before its start */
	CHECK_OK(keeper_replay_new(now + 5, &c));
	CHECK_EQ_INT(keeper_replay_check(c, now + 6, now - 500000, nonce1), LACRE_E_RANGE);
	keeper_replay_free(c);
}

/* keeper_args_check of a NULL-terminated list. */
static int args(const char *a0, ...)
{
	char *v[32];
	char msg[SITE_MSG_MAX];
	int n = 0;
	va_list ap;
	const char *s;

	v[n++] = (char *)a0;
	va_start(ap, a0);
	while ((s = va_arg(ap, const char *)) != NULL && n < 31)
		v[n++] = (char *)s;
	va_end(ap);
	v[n] = NULL;
	return keeper_args_check(n, v, msg, sizeof(msg));
}

static void test_args(void)
{
	char *o1[] = { "audio", "C1", "--output", "/tmp/a.wav", "--justification", "-o", NULL };
	char *o2[] = { "pcap", "--warrant", "W", "--output=/tmp/p.pcap", NULL };
	char *o3[] = { "export", "-o", "x.age", "--json", NULL };
	int idx;
	size_t off;

	CHECK_OK(args("records", "--warrant", "W-1", "--justification", "--site", NULL));
	CHECK_OK(args("warrant", "list", "--json", "--justification", "j", NULL));
	CHECK_OK(args("warrant", "show", "W-1", NULL));
	/* a warrant's operators (issue 11) pass, spelled in full only */
	CHECK_OK(args("warrant", "add", "--liid", "L1", "--operator", "opa", "--operator=opb", NULL));
	CHECK_EQ_INT(args("warrant", "add", "--oper", "opa", NULL), LACRE_E_DENIED);
	CHECK_OK(args("audit", "--deep", NULL));
	CHECK_OK(args("retention", "--json", NULL));
	CHECK_EQ_INT(args("audit", NULL), LACRE_E_DENIED);
	/* the registry writers (second stage): served, their options too */
	CHECK_OK(args("shred", "--warrant", "W-1", "--order", "O", "--order-date", "2031-01-01",
		      "--justification", "j", NULL));
	CHECK_OK(args("shred", "request", "--warrant", "W-1", NULL));
	CHECK_OK(args("shred", "approve", "S-000001", "--justification", "j", NULL));
	CHECK_OK(args("shred", "list", NULL));
	CHECK_OK(args("user", "add", "x", "--role", "clerk", "--public-key", "00", NULL));
	CHECK_OK(args("user", "disable", "x", NULL));
	CHECK_OK(args("retention", "record", "W-1", "--state", "dismissed", "--date", "2030-01-01",
		      "--order", "A", NULL));
	CHECK_EQ_INT(args("shred", "frob", NULL), LACRE_E_DENIED);
	CHECK_EQ_INT(args("user", "list", NULL), LACRE_E_DENIED);
	CHECK_EQ_INT(args("user", NULL), LACRE_E_DENIED);
	/* the keeper never makes a user's private key: no key file for user add */
	CHECK_EQ_INT(args("user", "add", "x", "--role", "clerk", "-o", "/tmp/k", NULL), LACRE_E_DENIED);
	CHECK_EQ_INT(args("user", "add", "x", "--output", "/tmp/k", NULL), LACRE_E_DENIED);
	CHECK_EQ_INT(args("user", "add", "x", "--passphrase-fd", "0", NULL), LACRE_E_DENIED);
	CHECK_EQ_INT(args("shred", "approve", "S-1", "--passphrase-file", "/p", NULL), LACRE_E_DENIED);
	CHECK_EQ_INT(args("warrant", "frob", NULL), LACRE_E_DENIED);
	CHECK_EQ_INT(args("init", NULL), LACRE_E_DENIED);
	CHECK_EQ_INT(args("records", "--site", "/tmp", NULL), LACRE_E_DENIED);
	CHECK_EQ_INT(args("records", "--site=/tmp", NULL), LACRE_E_DENIED);
	CHECK_EQ_INT(args("records", "--sit", "/tmp", NULL), LACRE_E_DENIED);
	CHECK_EQ_INT(args("records", "--user", "k", NULL), LACRE_E_DENIED);
	CHECK_EQ_INT(args("records", "--passphrase-file", "/etc/shadow", NULL), LACRE_E_DENIED);
	CHECK_EQ_INT(args("records", "--", "--site", NULL), LACRE_E_DENIED);
	CHECK_EQ_INT(args("records", "-x", NULL), LACRE_E_DENIED);
	CHECK_EQ_INT(args("records", "--output", "/tmp/x", NULL), LACRE_E_DENIED);
	CHECK_EQ_INT(args("audio", "C", "--out", "/etc/x", NULL), LACRE_E_DENIED);
	CHECK_EQ_INT(args("audio", "C", "-o/etc/x", NULL), LACRE_E_DENIED);
	CHECK_EQ_INT(args("audio", "C", "-o", "a", "--output", "b", NULL), LACRE_E_DENIED);
	CHECK_EQ_INT(args("records", "--json=1", NULL), LACRE_E_DENIED);
	CHECK_EQ_INT(args("records", "--warrant", NULL), LACRE_E_DENIED);
	/* the output path, as getopt_long will see it */
	CHECK_OK(keeper_args_check(6, o1, (char[64]){ 0 }, 64));
	CHECK_OK(keeper_args_output(6, o1, &idx, &off));
	CHECK_EQ_INT(idx, 3);
	CHECK_EQ_INT(off, 0);
	CHECK_OK(keeper_args_output(4, o2, &idx, &off));
	CHECK_EQ_INT(idx, 3);
	CHECK_EQ_INT(off, 9);
	CHECK_OK(keeper_args_output(4, o3, &idx, &off));
	CHECK_EQ_INT(idx, 2);
	CHECK_EQ_INT(keeper_args_output(2, (char *[]){ "records", "--json", NULL }, &idx, &off),
		     LACRE_E_NOT_FOUND);
	CHECK(keeper_command_served(2, (char *[]){ "warrant", "list", NULL }));
	CHECK(!keeper_command_served(2, (char *[]){ "user", "list", NULL }));
	CHECK(keeper_command_served(3, (char *[]){ "user", "add", "x", NULL }));
	CHECK(keeper_command_served(3, (char *[]){ "shred", "--warrant", "W", NULL }));
	CHECK(keeper_command_served(3, (char *[]){ "retention", "record", "W", NULL }));
	CHECK(!keeper_command_served(3, (char *[]){ "audit", "--site", "/s", NULL }));
	CHECK(keeper_command_served(4, (char *[]){ "audit", "--site", "/s", "--deep", NULL }));
}

/* ---- sessions of an authenticated user ---- */

static struct site site;
static struct user_key admin, ana, eva;
static int signs, lie;

/* The client's side of acl_signer_fn: ana signs, or lies when asked to. */
static int signer(void *arg, const void *m, size_t n, uint8_t sig[64])
{
	const struct user_key *k = arg;

	signs++;
	if (lie)
		return lacre_ed25519_sign(eva.seed, m, n, sig);
	return lacre_ed25519_sign(k->seed, m, n, sig);
}

static int make_site(void)
{
	struct site_config c;
	struct keystore *ks = NULL;
	struct age_x25519_identity a;
	struct warrant w;
	uint8_t master[32], seed[32];
	char dir[600], msg[SITE_MSG_MAX], id[WARRANT_ID_MAX];
	int r;

	snprintf(dir, sizeof(dir), "%s/site", t_tmpdir());
	site_config_defaults(&c, dir);
	c.scrypt_log2n = 10;
	memset(&a, 0, sizeof(a));
	memset(seed, 0, sizeof(seed));
	if ((r = site_create(dir, &c, "pw", &site, msg, sizeof(msg))) != LACRE_OK ||
	    (r = site_master_unlock(&site, "pw", master)) != LACRE_OK ||
	    (r = keystore_open(&site, master, &ks)) != LACRE_OK)
		return r;
	OPENSSL_cleanse(master, sizeof(master));
	memset(&w, 0, sizeof(w));
	snprintf(w.case_id, sizeof(w.case_id), "DP 1/2026");
	snprintf(w.unit, sizeof(w.unit), "UCO-1");
	snprintf(w.court, sizeof(w.court), "JI 5 Madrid");
	snprintf(w.periods[0].order_id, sizeof(w.periods[0].order_id), "Auto 1");
	warrant_time_parse("2026-11-01", &w.periods[0].order_date);
	w.periods[0].from = w.periods[0].order_date;
	warrant_time_parse("2027-01-31", &w.periods[0].to);
	w.n_periods = 1;
	w.categories = WARRANT_CAT_IRI;
	snprintf(w.targets[0], sizeof(w.targets[0]), "X");
	w.n_targets = 1;
	snprintf(w.liids[0], sizeof(w.liids[0]), "LIID1");
	w.n_liids = 1;
	if ((r = warrant_add(&site, ks, &w, id, msg, sizeof(msg))) != LACRE_OK ||
	    (r = keystore_get_secret(ks, SITE_SIGNER_KEY, seed, NULL)) != LACRE_OK ||
	    (r = age_x25519_generate(&a)) != LACRE_OK ||
	    (r = keystore_put(ks, USERS_AUDITOR_KEY, &a, 0)) != LACRE_OK ||
	    (r = user_key_generate("root", &admin)) != LACRE_OK ||
	    (r = users_bootstrap(&site, seed, a.public_key, "root", "", admin.pub, msg,
				 sizeof(msg))) != LACRE_OK ||
	    (r = user_key_generate("ana", &ana)) != LACRE_OK ||
	    (r = users_add(&site, &admin, "ana", ACL_INVESTIGATOR, "UCO-1", ana.pub, msg,
			   sizeof(msg))) != LACRE_OK ||
	    (r = user_key_generate("eva", &eva)) != LACRE_OK ||
	    (r = users_add(&site, &admin, "eva", ACL_INVESTIGATOR, "UDEF", eva.pub, msg,
			   sizeof(msg))) != LACRE_OK)
		goto out;
out:
	OPENSSL_cleanse(seed, sizeof(seed));
	age_identity_wipe(&a);
	keystore_close(ks);
	return r;
}

static void test_sessions(void)
{
	struct acl_session *ss = NULL;
	struct access_request rq = { "records", "W-000001", "all", "DP 1/2026: transcription" };
	char msg[SITE_MSG_MAX];

	CHECK_OK(make_site());
	CHECK_EQ_INT(acl_session_open_authenticated(&site, "zoe", signer, &ana, &ss, msg, sizeof(msg)),
		     LACRE_E_NOT_FOUND);
	CHECK_OK(acl_session_open_authenticated(&site, "ana", signer, &ana, &ss, msg, sizeof(msg)));
	CHECK_STR(acl_session_user(ss), "ana");
	CHECK_STR(acl_session_unit(ss), "UCO-1");
	CHECK(acl_session_key(ss) == NULL);       /* the keeper holds no user key */
	signs = 0;
	CHECK_OK(acl_authorize(ss, &rq, msg, sizeof(msg)));
	CHECK_EQ_INT(signs, 1);                   /* the user signed its access event */
	/* a signer that returns another key's signature: no access */
	lie = 1;
	CHECK(acl_authorize(ss, &rq, msg, sizeof(msg)) != LACRE_OK);
	CHECK(strstr(msg, "could not record it first") != NULL);
	lie = 0;
	acl_session_close(ss);
	/* a keeper refusal of a registered user is logged */
	CHECK_OK(acl_log_refusal(&site, "ana", "keeper", "keeper request: records", "replayed request",
				 msg, sizeof(msg)));
	CHECK_EQ_INT(acl_log_refusal(&site, "zoe", "keeper", "x", "y", msg, sizeof(msg)),
		     LACRE_E_NOT_FOUND);
	/* disabled: refused */
	CHECK_OK(users_disable(&site, &admin, "eva", msg, sizeof(msg)));
	CHECK_EQ_INT(acl_session_open_authenticated(&site, "eva", signer, &eva, &ss, msg, sizeof(msg)),
		     LACRE_E_DENIED);
	CHECK(strstr(msg, "disabled") != NULL);
	/* a keeper worker: acl_session_open ignores the key file it is given */
	CHECK_EQ_INT(acl_keeper_worker(), 0);
	CHECK_OK(acl_keeper_worker_begin("ana", signer, &ana));
	CHECK_EQ_INT(acl_keeper_worker(), 1);
	CHECK_OK(acl_session_open(&site, "/nonexistent/key", &ss, msg, sizeof(msg)));
	CHECK_STR(acl_session_user(ss), "ana");
	acl_session_close(ss);
	user_key_wipe(&admin);
	user_key_wipe(&ana);
	user_key_wipe(&eva);
}

/* A fake keeper on a socket in the test folder: it reads one request, asks
 * the client to sign each of payloads[0..n) in turn, writes one byte per
 * answer to res (1: a 64-byte signature that verifies with pub, 0: an
 * empty answer, 2: anything else), then ends the answer with exit 0.
 * Returns the client's keeper_client_run result; res holds the answers. */
static int fake_keeper(const struct user_key *k, int argc, char **argv, const char *const *payloads,
		       size_t n, uint8_t *res)
{
	struct sockaddr_un a;
	char path[600], msg[SITE_MSG_MAX];
	int lfd, p[2], status = -1, r;
	pid_t pid;

	snprintf(path, sizeof(path), "%s/fake.sock", t_tmpdir());
	unlink(path);
	memset(&a, 0, sizeof(a));
	a.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(a.sun_path))
		return LACRE_E_TOO_LARGE;
	memcpy(a.sun_path, path, strlen(path) + 1);
	if ((lfd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0 ||
	    bind(lfd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(lfd, 1) != 0 || pipe(p) != 0)
		return LACRE_E_IO;
	fflush(NULL);
	if ((pid = fork()) == 0) {
		static uint8_t b[KEEPER_REQUEST_MAX];
		uint8_t hdr[4], t;
		size_t got;
		int fd = accept(lfd, NULL, NULL);
		uint32_t len;

		if (fd < 0 || keeper_read_full(fd, 5000, hdr, 4) != LACRE_OK)
			_exit(1);
		len = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 | (uint32_t)hdr[2] << 8 | hdr[3];
		if (len > sizeof(b) || keeper_read_full(fd, 5000, b, len) != LACRE_OK)
			_exit(1);
		for (size_t i = 0; i < n; i++) {
			uint8_t v;
			if (keeper_frame_write(fd, KEEPER_F_SIGN, payloads[i], strlen(payloads[i])) != LACRE_OK ||
			    keeper_frame_read(fd, 5000, &t, b, sizeof(b), &got) != LACRE_OK)
				_exit(1);
			v = t != KEEPER_F_SIGNATURE ? 2 : got == 0 ? 0 :
			    got == 64 && lacre_ed25519_verify(k->pub, payloads[i], strlen(payloads[i]),
							      b) == LACRE_OK ? 1 : 2;
			if (write(p[1], &v, 1) != 1)
				_exit(1);
		}
		b[0] = 0;
		(void)keeper_frame_write(fd, KEEPER_F_EXIT, b, 1);
		_exit(0);
	}
	close(p[1]);
	close(lfd);
	r = keeper_client_run(path, k, argc, argv, &status, msg, sizeof(msg));
	for (size_t i = 0; i < n; i++)
		if (read(p[0], &res[i], 1) != 1)
			res[i] = 9;
	close(p[0]);
	waitpid(pid, NULL, 0);
	unlink(path);
	return r == LACRE_OK && status == 0 ? LACRE_OK : r == LACRE_OK ? LACRE_E_STATE : r;
}

#define HASH "hash=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define PREV "prev=0000000000000000000000000000000000000000000000000000000000000000"
#define KEYA "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define KEYB "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

static void test_client_signs(void)
{
	struct user_key k;
	char *add[] = { "user", "add", "nora", "--role", "clerk", "--public-key", KEYA, NULL };
	char *appr[] = { "shred", "approve", "S-000001", "--justification", "j", NULL };
	const char *const p_add[] = {
		/* its own access request: signed */
		ACCESSLOG_MAGIC "\nuser root\naction user-admin\n",
		/* the add it asked for, with its key: signed */
		"lacre-user-v1 5 add by=root at=2026-12-01T00:00:00Z name=nora role=clerk unit= key="
			KEYA " " PREV " " HASH,
		/* another key, another type, another signer, another log, no hash,
		 * a control byte: refused */
		"lacre-user-v1 5 add by=root at=2026-12-01T00:00:00Z name=nora role=admin unit= key="
			KEYB " " PREV " " HASH,
		"lacre-user-v1 5 disable by=root at=2026-12-01T00:00:00Z name=ana " PREV " " HASH,
		"lacre-user-v1 5 add by=eve at=2026-12-01T00:00:00Z name=nora role=clerk unit= key="
			KEYA " " PREV " " HASH,
		"lacre-case-v1 5 add by=root at=2026-12-01T00:00:00Z key=" KEYA " " PREV " " HASH,
		"lacre-user-v1 5 add by=root at=2026-12-01T00:00:00Z key=" KEYA " " PREV,
		"lacre-user-v1 5 add by=root at=2026-12-01T00:00:00Z\tkey=" KEYA " " PREV " " HASH,
		"something else",
		/* another user than the one named: refused */
		"lacre-user-v1 5 add by=root at=2026-12-01T00:00:00Z name=mallory role=clerk unit= key="
			KEYA " " PREV " " HASH,
	};
	const char *const p_appr[] = {
		"lacre-case-v1 7 shred-approve by=root at=2026-12-01T00:00:00Z id=S-000001 " PREV " " HASH,
		"lacre-case-v1 7 shred-request by=root at=2026-12-01T00:00:00Z id=S-000002 " PREV " " HASH,
		"lacre-case-v1 7 court-state by=root at=2026-12-01T00:00:00Z warrant=W " PREV " " HASH,
		"lacre-user-v1 7 shred-approve by=root at=2026-12-01T00:00:00Z id=S-000001 " PREV " " HASH,
		"lacre-case-v1 x7 shred-approve by=root at=2026-12-01T00:00:00Z id=S-000001 " PREV " " HASH,
		"lacre-case-v1 7 shred-approve by=root at=2026-12-01T00:00:00Z id=S-000009 " PREV " " HASH,
	};
	const uint8_t want_add[] = { 1, 1, 0, 0, 0, 0, 0, 0, 0, 0 };
	const uint8_t want_appr[] = { 1, 0, 0, 0, 0, 0 };
	uint8_t res[16];

	CHECK_OK(user_key_generate("root", &k));
	CHECK_OK(fake_keeper(&k, 7, add, p_add, 10, res));
	CHECK_MEM(res, want_add, sizeof(want_add));
	CHECK_OK(fake_keeper(&k, 5, appr, p_appr, 6, res));
	CHECK_MEM(res, want_appr, sizeof(want_appr));
	/* the subject as --warrant, and values percent-encoded in the line */
	{
		char *req[] = { "shred", "--order", "A 1", "--warrant", "W-000001", NULL };
		char *ret[] = { "retention", "record", "--state", "open", "W 2", NULL };
		const char *const p_req[] = {
			"lacre-case-v1 2 shred-request by=root at=x id=S-000001 warrant=W-000001 order=A%201 "
				PREV " " HASH,
			"lacre-case-v1 2 shred-request by=root at=x id=S-000001 warrant=W-000002 " PREV " " HASH,
		};
		const char *const p_ret[] = {
			"lacre-case-v1 3 court-state by=root at=x warrant=W%202 state=open " PREV " " HASH,
			"lacre-case-v1 3 court-state by=root at=x warrant=W 2 state=open " PREV " " HASH,
		};
		const uint8_t want2[] = { 1, 0 };
		CHECK_OK(fake_keeper(&k, 5, req, p_req, 2, res));
		CHECK_MEM(res, want2, 2);
		CHECK_OK(fake_keeper(&k, 5, ret, p_ret, 2, res));
		CHECK_MEM(res, want2, 2);
	}
	/* a command that writes no registry line signs none */
	{
		char *rec[] = { "records", "--warrant", "W", NULL };
		const char *const p_rec[] = { p_appr[0], p_add[1] };
		const uint8_t want_rec[] = { 0, 0 };
		CHECK_OK(fake_keeper(&k, 3, rec, p_rec, 2, res));
		CHECK_MEM(res, want_rec, sizeof(want_rec));
	}
	user_key_wipe(&k);
}

/* keeper_client_sign, the one rule of the socket and the HTTPS client:
 * its own user's access-log request part is signed (and verifies), the
 * same for another user's name, a registry line the command does not
 * write, or any other bytes is refused. */
static void test_client_sign_rule(void)
{
	struct user_key k;
	char own[256], other[256];
	static const char junk[] = "lacre-console-login/v1\nuser ana\n";
	char *rec[] = { "records", "--warrant", "W-000001", NULL };
	uint8_t sig[64];
	int n1, n2;

	CHECK_OK(user_key_generate("ana", &k));
	n1 = snprintf(own, sizeof(own), "%s\nindex 3\nuser ana\naction records\n", ACCESSLOG_MAGIC);
	n2 = snprintf(other, sizeof(other), "%s\nindex 3\nuser anax\naction records\n",
		      ACCESSLOG_MAGIC);
	CHECK_OK(keeper_client_sign(&k, 3, rec, (const uint8_t *)own, (size_t)n1, sig));
	CHECK_OK(lacre_ed25519_verify(k.pub, own, (size_t)n1, sig));
	CHECK_EQ_INT(keeper_client_sign(&k, 3, rec, (const uint8_t *)other, (size_t)n2, sig),
		     LACRE_E_DENIED);
	CHECK_EQ_INT(keeper_client_sign(&k, 3, rec, (const uint8_t *)junk, sizeof(junk) - 1, sig),
		     LACRE_E_DENIED);
	/* a users.log line while the command is `records`: not its event */
	n1 = snprintf(own, sizeof(own), "%s 7 disable by=ana at=1 name=eva prev=%064d hash=%064d",
		      USERS_MAGIC, 0, 0);
	CHECK_EQ_INT(keeper_client_sign(&k, 3, rec, (const uint8_t *)own, (size_t)n1, sig),
		     LACRE_E_DENIED);
	user_key_wipe(&k);
}

int main(void)
{
	RUN(test_client_sign_rule);
	RUN(test_client_signs);
	RUN(test_roundtrip);
	RUN(test_mutations);
	RUN(test_canonical);
	RUN(test_caps);
	RUN(test_replay);
	RUN(test_args);
	RUN(test_sessions);
	return t_done();
}

/*
 * test_witness.c - the tlog-witness checks and status codes in the order of
 * spec §7.2, persistence across restarts, the HTTP server and client, the
 * monitoring endpoint, and a log publishing only once its quorum cosigned
 * (and raising a fork alarm when a witness saw another tree).
 */
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "lacre/err.h"
#include "lacre/note.h"
#include "lacre/store.h"
#include "lacre/tlog.h"
#include "lacre/witness.h"

#define ORIGIN "lacre.test/witnessed"

static uint8_t leaves[64][32];
static struct note_signer *logkey, *wkey, *wkey2, *evil;
static struct note_verifier logv, wv, wv2;

static void setup_keys(void)
{
	uint8_t seed[32];

	for (int i = 0; i < 32; i++)
		seed[i] = (uint8_t)i;
	note_signer_from_seed("witness.example/w1", NOTE_TYPE_COSIG, seed, &wkey);
	seed[0] = 0x99;
	note_signer_from_seed("witness.example/w2", NOTE_TYPE_COSIG, seed, &wkey2);
	memset(seed, 0x42, 32);
	note_signer_from_seed(ORIGIN, NOTE_TYPE_ED25519, seed, &logkey);
	memset(seed, 0x43, 32);
	note_signer_from_seed(ORIGIN, NOTE_TYPE_ED25519, seed, &evil);
	note_signer_public(logkey, &logv);
	note_signer_public(wkey, &wv);
	note_signer_public(wkey2, &wv2);
	for (uint64_t i = 0; i < 64; i++)
		merkle_leaf_hash(&i, sizeof(i), leaves[i]);
}

/* A signed checkpoint of the first n test leaves (or of a given root). */
static void make_cp(const struct note_signer *k, const char *origin, uint64_t n,
		    const uint8_t *root_or_null, struct lacre_dbuf *out)
{
	struct merkle_leaves lv = { leaves, n };
	struct lacre_dbuf body;
	uint8_t root[32];

	if (root_or_null)
		memcpy(root, root_or_null, 32);
	else
		merkle_root(n, merkle_leaves_node, &lv, root);
	lacre_dbuf_init(&body, 1024);
	checkpoint_format(origin, n, root, &body);
	lacre_dbuf_reset(out);
	note_sign(k, body.p, body.len, out);
	lacre_dbuf_free(&body);
}

/* An add-checkpoint body. */
static void make_body(uint64_t old, uint64_t n, int flip, const struct lacre_dbuf *cp,
		      struct lacre_dbuf *out)
{
	struct merkle_leaves lv = { leaves, n };
	struct merkle_proof p;

	lacre_dbuf_reset(out);
	lacre_dbuf_printf(out, "old %llu\n", (unsigned long long)old);
	merkle_prove_consistency(old, n, merkle_leaves_node, &lv, &p);
	if (flip && p.n)
		p.h[0][0] ^= 1;
	for (size_t i = 0; i < p.n; i++) {
		note_b64_encode(p.h[i], 32, out);
		lacre_dbuf_add_u8(out, '\n');
	}
	lacre_dbuf_add_u8(out, '\n');
	lacre_dbuf_add(out, cp->p, cp->len);
}

static int post(struct witness *w, const struct lacre_dbuf *body, struct lacre_dbuf *resp)
{
	int status = 0;

	lacre_dbuf_reset(resp);
	if (witness_handle(w, body->p, body->len, 1700000000, &status, resp) != LACRE_OK)
		return -1;
	return status;
}

static void test_handle(void)
{
	struct witness_config cfg = { 0 };
	struct witness *w = NULL;
	struct lacre_dbuf cp, body, resp, full;
	const char *state = NULL;
	char st[600];
	uint64_t ok = 0, ts[2] = { 0, 0 };
	struct note *n = NULL;
	struct note_verifier pair[2];

	setup_keys();
	snprintf(st, sizeof(st), "%s/w", t_tmpdir());
	state = st;
	cfg.key = wkey;
	cfg.state_dir = state;
	cfg.logs = &logv;
	cfg.nlogs = 1;
	CHECK_EQ_INT(witness_open(&(struct witness_config){ logkey, state, &logv, 1 }, &w), LACRE_E_INVALID);
	CHECK_OK(witness_open(&cfg, &w));
	lacre_dbuf_init(&cp, 1 << 16);
	lacre_dbuf_init(&body, 1 << 17);
	lacre_dbuf_init(&resp, 1 << 16);
	lacre_dbuf_init(&full, 1 << 17);
	/* 404 unknown origin */
	make_cp(logkey, "other.example/log", 5, NULL, &cp);
	make_body(0, 5, 0, &cp, &body);
	CHECK_EQ_INT(post(w, &body, &resp), 404);
	/* 403 signed by another key with the origin's name */
	make_cp(evil, ORIGIN, 5, NULL, &cp);
	make_body(0, 5, 0, &cp, &body);
	CHECK_EQ_INT(post(w, &body, &resp), 403);
	/* 403 a known key whose signature fails */
	make_cp(logkey, ORIGIN, 5, NULL, &cp);
	cp.p[cp.len - 5] ^= 0x01;
	make_body(0, 5, 0, &cp, &body);
	CHECK_EQ_INT(post(w, &body, &resp), 403);
	/* 400 old > size; 400 malformed */
	make_cp(logkey, ORIGIN, 5, NULL, &cp);
	make_body(0, 5, 0, &cp, &body);
	body.p[4] = '7';
	CHECK_EQ_INT(post(w, &body, &resp), 400);
	body.p[0] = 'x';
	CHECK_EQ_INT(post(w, &body, &resp), 400);
	/* 422: old 0 with a proof; a size-0 checkpoint with another root */
	make_body(0, 5, 0, &cp, &body);
	{
		struct lacre_dbuf b2;
		lacre_dbuf_init(&b2, 1 << 17);
		lacre_dbuf_add_str(&b2, "old 0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n\n");
		lacre_dbuf_add(&b2, cp.p, cp.len);
		CHECK_EQ_INT(post(w, &b2, &resp), 422);
		make_cp(logkey, ORIGIN, 0, leaves[0], &full);
		lacre_dbuf_reset(&b2);
		lacre_dbuf_add_str(&b2, "old 0\n\n");
		lacre_dbuf_add(&b2, full.p, full.len);
		CHECK_EQ_INT(post(w, &b2, &resp), 422);
		lacre_dbuf_free(&b2);
	}
	/* 200: the first cosignature, which verifies */
	CHECK_EQ_INT(post(w, &body, &resp), 200);
	lacre_dbuf_reset(&full);
	CHECK_OK(cosig_attach(cp.p, cp.len, resp.p, resp.len, &full));
	pair[0] = logv;
	pair[1] = wv;
	CHECK_OK(note_parse(full.p, full.len, &n));
	CHECK_OK(note_verify(n, pair, 2, &ok, ts));
	note_free(n);
	CHECK_EQ_INT(ok, 3);
	CHECK_EQ_INT(ts[1], 1700000000);
	/* 409: old must be 5 now */
	make_cp(logkey, ORIGIN, 9, NULL, &cp);
	make_body(0, 9, 0, &cp, &body);
	CHECK_EQ_INT(post(w, &body, &resp), 409);
	CHECK_EQ_INT(resp.len, 2);
	CHECK(memcmp(resp.p, "5\n", 2) == 0);
	/* 422: a proof that does not verify */
	make_body(5, 9, 1, &cp, &body);
	CHECK_EQ_INT(post(w, &body, &resp), 422);
	/* 200: 5 -> 9 */
	make_body(5, 9, 0, &cp, &body);
	CHECK_EQ_INT(post(w, &body, &resp), 200);
	/* equal size: same root 200, other root 409 */
	make_body(9, 9, 0, &cp, &body);
	CHECK_EQ_INT(post(w, &body, &resp), 200);
	make_cp(logkey, ORIGIN, 9, leaves[3], &cp);
	make_body(9, 9, 0, &cp, &body);
	CHECK_EQ_INT(post(w, &body, &resp), 409);
	/* the state survives a restart */
	witness_close(w);
	w = NULL;
	CHECK_OK(witness_open(&cfg, &w));
	make_cp(logkey, ORIGIN, 12, NULL, &cp);
	make_body(0, 12, 0, &cp, &body);
	CHECK_EQ_INT(post(w, &body, &resp), 409);
	CHECK(memcmp(resp.p, "9\n", 2) == 0);
	/* the monitoring view */
	{
		char hex[65];
		uint8_t h[32];
		merkle_sha256(ORIGIN, strlen(ORIGIN), h);
		for (int i = 0; i < 32; i++)
			snprintf(hex + 2 * i, 3, "%02x", h[i]);
		lacre_dbuf_reset(&full);
		CHECK_OK(witness_latest(w, hex, &full));
		struct checkpoint c;
		uint64_t cos = 0;
		CHECK_OK(checkpoint_open(full.p, full.len, &logv, &wv, 1, &c, &cos));
		CHECK_EQ_INT(c.size, 9);
		CHECK_EQ_INT(cos, 1);
	}
	witness_close(w);
	lacre_dbuf_free(&cp);
	lacre_dbuf_free(&body);
	lacre_dbuf_free(&resp);
	lacre_dbuf_free(&full);
}

/* Report the bound port to the parent. */
static void tell_port(void *arg, int port)
{
	int fd = *(int *)arg;
	if (write(fd, &port, sizeof(port)) != sizeof(port))
		_exit(9);
}

/* Start a witness server in a child; returns its pid, *port its port. */
static pid_t start_witness(const struct note_signer *k, const char *state, int *port)
{
	static volatile sig_atomic_t never;
	int pfd[2];
	pid_t pid;

	if (pipe(pfd) != 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		struct witness_config cfg = { k, state, &logv, 1 };
		struct witness *w = NULL;
		close(pfd[0]);
		if (witness_open(&cfg, &w) != LACRE_OK)
			_exit(2);
		witness_serve(w, "127.0.0.1:0", &never, tell_port, &pfd[1]);
		_exit(0);
	}
	close(pfd[1]);
	if (read(pfd[0], port, sizeof(*port)) != sizeof(*port)) {
		close(pfd[0]);
		return -1;
	}
	close(pfd[0]);
	return pid;
}

static void stop(pid_t pid)
{
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
}

static void test_http_and_quorum(void)
{
	char s1[600], s2[600], state[600], spec[600], url[128];
	const char *d = t_tmpdir();
	int p1 = 0, p2 = 0;
	pid_t w1, w2;
	struct lacre_dbuf cp, cos, note, got;
	struct merkle_proof empty = { 0 };
	uint64_t wsz = 0, mask = 0;
	struct lacre_store *st = NULL;
	struct tlog *log = NULL;
	struct tlog_witness tw[3];
	struct checkpoint c;
	int hs = 0;

	snprintf(s1, sizeof(s1), "%s/w1", d);
	snprintf(s2, sizeof(s2), "%s/w2", d);
	snprintf(state, sizeof(state), "%s/log", d);
	snprintf(spec, sizeof(spec), "dir:%s/store", d);
	w1 = start_witness(wkey, s1, &p1);
	w2 = start_witness(wkey2, s2, &p2);
	CHECK(w1 > 0 && w2 > 0);
	lacre_dbuf_init(&cp, 1 << 16);
	lacre_dbuf_init(&cos, 1 << 16);
	lacre_dbuf_init(&note, 1 << 16);
	lacre_dbuf_init(&got, 1 << 16);
	/* raw client round trip, 409 then 200 */
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", p1);
	make_cp(logkey, "other.example/x", 0, NULL, &cp);
	CHECK_EQ_INT(witness_add_checkpoint(url, 0, &empty, cp.p, cp.len, &cos, &wsz), LACRE_E_NOT_FOUND);
	/* only http and https: refused before any connection is made */
	CHECK_EQ_INT(witness_add_checkpoint("ftp://127.0.0.1:1", 0, &empty, cp.p, cp.len, &cos, &wsz),
		     LACRE_E_CONFIG);
	CHECK_EQ_INT(witness_add_checkpoint("http://127.0.0.1:1", 0, &empty, cp.p, cp.len, &cos, &wsz),
		     LACRE_E_UNAVAILABLE);
	/* a log with three witnesses, one of them dead */
	CHECK_OK(lacre_store_open(spec, &st));
	CHECK_OK(tlog_open(st, state, ORIGIN, logkey, &log));
	memset(tw, 0, sizeof(tw));
	snprintf(tw[0].url, sizeof(tw[0].url), "http://127.0.0.1:%d", p1);
	tw[0].key = wv;
	snprintf(tw[1].url, sizeof(tw[1].url), "http://127.0.0.1:%d", p2);
	tw[1].key = wv2;
	snprintf(tw[2].url, sizeof(tw[2].url), "http://127.0.0.1:1");
	tw[2].key = wv;
	CHECK_OK(tlog_set_witnesses(log, tw, 3, 2));
	for (int i = 0; i < 20; i++)
		CHECK_OK(tlog_append(log, leaves[i], 32, NULL));
	CHECK_OK(tlog_checkpoint(log, &note));
	{
		struct note_verifier both[2] = { wv, wv2 };
		CHECK_OK(checkpoint_open(note.p, note.len, &logv, both, 2, &c, &mask));
		CHECK_EQ_INT(mask, 3);
		CHECK_EQ_INT(c.size, 20);
	}
	/* the monitoring endpoint */
	{
		char murl[300], hex[65];
		uint8_t h[32];
		merkle_sha256(ORIGIN, strlen(ORIGIN), h);
		for (int i = 0; i < 32; i++)
			snprintf(hex + 2 * i, 3, "%02x", h[i]);
		snprintf(murl, sizeof(murl), "http://127.0.0.1:%d/%s/checkpoint", p2, hex);
		CHECK_OK(witness_http_get(murl, &hs, &got));
		CHECK_EQ_INT(hs, 200);
		CHECK_OK(checkpoint_open(got.p, got.len, &logv, &wv2, 1, &c, &mask));
		CHECK_EQ_INT(mask, 1);
	}
	/* quorum 3 cannot be met: signed, not published */
	CHECK_OK(tlog_set_witnesses(log, tw, 3, 3));
	CHECK_OK(tlog_append(log, leaves[20], 32, NULL));
	lacre_dbuf_reset(&note);
	CHECK_EQ_INT(tlog_checkpoint(log, &note), LACRE_E_UNAVAILABLE);
	CHECK_EQ_INT(tlog_signed_size(log), 21);
	CHECK_EQ_INT(tlog_published_size(log), 20);
	/* back to quorum 2: the pending publication completes */
	CHECK_OK(tlog_set_witnesses(log, tw, 3, 2));
	CHECK_OK(tlog_checkpoint(log, &note));
	CHECK_EQ_INT(tlog_published_size(log), 21);
	/* the same through a policy: both live witnesses, then a dead one */
	{
		struct lacre_dbuf pt, k1, k2, k0;
		struct policy *pol = calloc(1, sizeof(*pol));
		struct note_verifier dead;
		size_t bad = 0;
		uint8_t seed[32];
		struct note_signer *ds = NULL;
		CHECK(pol != NULL);
		memset(seed, 0x77, 32);
		CHECK_OK(note_signer_from_seed("witness.example/dead", NOTE_TYPE_COSIG, seed, &ds));
		note_signer_public(ds, &dead);
		note_signer_free(ds);
		lacre_dbuf_init(&pt, 1 << 16);
		lacre_dbuf_init(&k0, 1024);
		lacre_dbuf_init(&k1, 1024);
		lacre_dbuf_init(&k2, 1024);
		note_verifier_format(&logv, &k0);
		note_verifier_format(&wv, &k1);
		note_verifier_format(&wv2, &k2);
		lacre_dbuf_add_u8(&k0, 0);
		lacre_dbuf_add_u8(&k1, 0);
		lacre_dbuf_add_u8(&k2, 0);
		CHECK_OK(lacre_dbuf_printf(&pt, "log %s\nwitness one %s http://127.0.0.1:%d\n"
					   "witness two %s http://127.0.0.1:%d\ngroup both all one two\nquorum both\n",
					   (char *)k0.p, (char *)k1.p, p1, (char *)k2.p, p2));
		CHECK_OK(policy_parse(pt.p, pt.len, pol, &bad));
		CHECK_OK(tlog_set_policy(log, pol));
		CHECK_OK(tlog_append(log, leaves[21], 32, NULL));
		lacre_dbuf_reset(&note);
		CHECK_OK(tlog_checkpoint(log, &note));
		CHECK_OK(policy_open_checkpoint(pol, note.p, note.len, &c, &mask));
		CHECK_EQ_INT(mask, 3);
		CHECK_EQ_INT(c.size, 22);
		lacre_dbuf_reset(&k1);
		note_verifier_format(&dead, &k1);
		lacre_dbuf_add_u8(&k1, 0);
		lacre_dbuf_reset(&pt);
		CHECK_OK(lacre_dbuf_printf(&pt, "log %s\nwitness one %s http://127.0.0.1:%d\n"
					   "witness gone %s http://127.0.0.1:1\ngroup both all one gone\nquorum both\n",
					   (char *)k0.p, (char *)k2.p, p2, (char *)k1.p));
		CHECK_OK(policy_parse(pt.p, pt.len, pol, &bad));
		CHECK_OK(tlog_set_policy(log, pol));
		CHECK_OK(tlog_append(log, leaves[22], 32, NULL));
		CHECK_EQ_INT(tlog_checkpoint(log, NULL), LACRE_E_UNAVAILABLE);
		CHECK_EQ_INT(tlog_published_size(log), 22);
		lacre_dbuf_free(&pt);
		lacre_dbuf_free(&k0);
		lacre_dbuf_free(&k1);
		lacre_dbuf_free(&k2);
		free(pol);
	}
	tlog_close(log);
	log = NULL;
	/* a fork: another state with the same key signs another tree of size
	 * 30 and gets it cosigned; the original log must raise the alarm */
	{
		char fstate[600];
		struct tlog *f = NULL;
		snprintf(fstate, sizeof(fstate), "%s/forked", d);
		snprintf(spec, sizeof(spec), "dir:%s/store2", d);
		struct lacre_store *st2 = NULL;
		CHECK_OK(lacre_store_open(spec, &st2));
		CHECK_OK(tlog_open(st2, fstate, ORIGIN, logkey, &f));
		CHECK_OK(tlog_set_witnesses(f, tw, 1, 1));
		for (int i = 0; i < 30; i++)
			CHECK_OK(tlog_append(f, leaves[63 - i], 32, NULL));
		/* the witness holds 21 of the real tree: 409, retry from 21 fails */
		CHECK_EQ_INT(tlog_checkpoint(f, NULL), LACRE_E_FORK);
		tlog_close(f);
		lacre_store_close(st2);
	}
	stop(w1);
	stop(w2);
	lacre_store_close(st);
	lacre_dbuf_free(&cp);
	lacre_dbuf_free(&cos);
	lacre_dbuf_free(&note);
	lacre_dbuf_free(&got);
}

static void test_teardown(void)
{
	note_signer_free(logkey);
	note_signer_free(wkey);
	note_signer_free(wkey2);
	note_signer_free(evil);
}

int main(void)
{
	RUN(test_handle);
	RUN(test_http_and_quorum);
	RUN(test_teardown);
	return t_done();
}

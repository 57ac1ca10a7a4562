/*
 * test_witness_http.c - the witness's HTTP side (lib/ledger/witness.c):
 * the server runs in a thread of this test on 127.0.0.1 (so the lines it
 * runs are counted) and the client functions talk to it.  Every answer of
 * add-checkpoint maps to its code: 200 with a cosignature that verifies,
 * 409 with the witness's size (LACRE_E_STATE), a wrong consistency proof
 * (LACRE_E_FORK), an unknown log (LACRE_E_NOT_FOUND), a checkpoint signed
 * by another key (LACRE_E_AUTH), a body that is not one (LACRE_E_INVALID);
 * the monitoring endpoint serves the latest cosigned checkpoint and 404
 * for an unknown log or path; the clients refuse other hosts and schemes.
 * (test_witness.c covers witness_handle and the log's quorum.)
 */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"
#include "lacre/err.h"
#include "lacre/merkle.h"
#include "lacre/note.h"
#include "lacre/witness.h"

#define ORIGIN "lacre.test/http"

static uint8_t leaves[32][32];
static struct note_signer *logkey, *wkey, *evil;
static struct note_verifier logv, wv;
static struct witness *w;
static pthread_t th;
static volatile sig_atomic_t stop_flag;
static volatile int port;
static int serve_rc = -1;

static void keys(void)
{
	uint8_t seed[32];

	if (logkey)
		return;                           /* made once for both tests */
	memset(seed, 0x21, 32);
	note_signer_from_seed("witness.example/http", NOTE_TYPE_COSIG, seed, &wkey);
	memset(seed, 0x22, 32);
	note_signer_from_seed(ORIGIN, NOTE_TYPE_ED25519, seed, &logkey);
	memset(seed, 0x23, 32);
	note_signer_from_seed(ORIGIN, NOTE_TYPE_ED25519, seed, &evil);
	note_signer_public(logkey, &logv);
	note_signer_public(wkey, &wv);
	for (uint64_t i = 0; i < 32; i++)
		merkle_leaf_hash(&i, sizeof(i), leaves[i]);
}

/* A checkpoint of the first n leaves signed by k for origin. */
static void make_cp(const struct note_signer *k, const char *origin, uint64_t n,
		    struct lacre_dbuf *out)
{
	struct merkle_leaves lv = { leaves, n };
	struct lacre_dbuf body;
	uint8_t root[32];

	merkle_root(n, merkle_leaves_node, &lv, root);
	lacre_dbuf_init(&body, 1024);
	checkpoint_format(origin, n, root, &body);
	lacre_dbuf_reset(out);
	note_sign(k, body.p, body.len, out);
	lacre_dbuf_free(&body);
}

static void on_ready(void *arg, int p)
{
	(void)arg;
	port = p;
}

static void *serve(void *arg)
{
	(void)arg;
	serve_rc = witness_serve(w, "127.0.0.1:0", &stop_flag, on_ready, NULL);
	return NULL;
}

/* Open the witness and serve it in a thread; wait (10 s) for its port. */
static int start(void)
{
	struct witness_config cfg;
	char state[600];

	snprintf(state, sizeof(state), "%s/w", t_tmpdir());
	memset(&cfg, 0, sizeof(cfg));
	cfg.key = wkey;
	cfg.state_dir = state;
	cfg.logs = &logv;
	cfg.nlogs = 1;
	if (witness_open(&cfg, &w) != LACRE_OK)
		return LACRE_E_IO;
	stop_flag = 0;
	port = 0;
	if (pthread_create(&th, NULL, serve, NULL) != 0)
		return LACRE_E_IO;
	for (int i = 0; i < 1000 && !port; i++) {
		struct timespec ts = { 0, 10 * 1000000L };
		nanosleep(&ts, NULL);
	}
	return port ? LACRE_OK : LACRE_E_TIMEOUT;
}

static void stop(void)
{
	stop_flag = 1;
	pthread_join(th, NULL);
	witness_close(w);
	w = NULL;
}

static void test_add_checkpoint(void)
{
	struct merkle_leaves lv = { leaves, 20 };
	struct merkle_proof empty, p;
	struct lacre_dbuf cp, cos, note;
	struct checkpoint c;
	uint64_t wsz = 0, mask = 0;
	char url[128];

	keys();
	CHECK_OK(start());
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
	memset(&empty, 0, sizeof(empty));
	lacre_dbuf_init(&cp, 1 << 16);
	lacre_dbuf_init(&cos, 1 << 16);
	lacre_dbuf_init(&note, 1 << 16);
	/* first checkpoint: 10 leaves from 0 */
	make_cp(logkey, ORIGIN, 10, &cp);
	CHECK_OK(witness_add_checkpoint(url, 0, &empty, cp.p, cp.len, &cos, &wsz));
	CHECK(cos.len > 0);
	CHECK_OK(lacre_dbuf_add(&note, cp.p, cp.len));
	CHECK_OK(lacre_dbuf_add(&note, cos.p, cos.len));
	CHECK_OK(checkpoint_open(note.p, note.len, &logv, &wv, 1, &c, &mask));
	CHECK_EQ_INT(mask, 1);
	CHECK_EQ_INT(c.size, 10);
	/* 20 leaves claimed from 0: the witness is at 10 */
	make_cp(logkey, ORIGIN, 20, &cp);
	lacre_dbuf_reset(&cos);
	CHECK_EQ_INT(witness_add_checkpoint(url, 0, &empty, cp.p, cp.len, &cos, &wsz), LACRE_E_STATE);
	CHECK_EQ_INT(wsz, 10);
	/* from 10 with a proof that does not hold */
	CHECK_OK(merkle_prove_consistency(10, 20, merkle_leaves_node, &lv, &p));
	CHECK(p.n > 0);
	p.h[0][0] ^= 1;
	CHECK_EQ_INT(witness_add_checkpoint(url, 10, &p, cp.p, cp.len, &cos, &wsz), LACRE_E_FORK);
	p.h[0][0] ^= 1;
	CHECK_OK(witness_add_checkpoint(url, 10, &p, cp.p, cp.len, &cos, &wsz));
	/* another origin, another key, not a checkpoint */
	make_cp(logkey, "other.example/log", 5, &cp);
	CHECK_EQ_INT(witness_add_checkpoint(url, 0, &empty, cp.p, cp.len, &cos, &wsz), LACRE_E_NOT_FOUND);
	make_cp(evil, ORIGIN, 25, &cp);
	CHECK_EQ_INT(witness_add_checkpoint(url, 20, &empty, cp.p, cp.len, &cos, &wsz), LACRE_E_AUTH);
	CHECK_EQ_INT(witness_add_checkpoint(url, 20, &empty, "not a note\n", 11, &cos, &wsz),
		     LACRE_E_INVALID);
	make_cp(logkey, ORIGIN, 20, &cp);
	/* only loopback */
	CHECK(witness_add_checkpoint("http://192.0.2.1:80", 20, &empty, cp.p, cp.len, &cos, &wsz) !=
	      LACRE_OK);
	stop();
	CHECK_OK(serve_rc);
	lacre_dbuf_free(&cp);
	lacre_dbuf_free(&cos);
	lacre_dbuf_free(&note);
}

static void test_monitoring(void)
{
	struct merkle_proof empty;
	struct lacre_dbuf cp, cos, got;
	struct checkpoint c;
	uint64_t wsz = 0, mask = 0;
	uint8_t h[32];
	char url[128], murl[300], hex[65];
	int hs = 0;

	keys();
	CHECK_OK(start());
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
	memset(&empty, 0, sizeof(empty));
	lacre_dbuf_init(&cp, 1 << 16);
	lacre_dbuf_init(&cos, 1 << 16);
	lacre_dbuf_init(&got, 1 << 16);
	merkle_sha256(ORIGIN, strlen(ORIGIN), h);
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", h[i]);
	/* nothing cosigned yet */
	snprintf(murl, sizeof(murl), "http://127.0.0.1:%d/%s/checkpoint", port, hex);
	CHECK_OK(witness_http_get(murl, &hs, &got));
	CHECK_EQ_INT(hs, 404);
	make_cp(logkey, ORIGIN, 7, &cp);
	CHECK_OK(witness_add_checkpoint(url, 0, &empty, cp.p, cp.len, &cos, &wsz));
	lacre_dbuf_reset(&got);
	CHECK_OK(witness_http_get(murl, &hs, &got));
	CHECK_EQ_INT(hs, 200);
	CHECK_OK(checkpoint_open(got.p, got.len, &logv, &wv, 1, &c, &mask));
	CHECK_EQ_INT(c.size, 7);
	CHECK_EQ_INT(mask, 1);
	/* an unknown path */
	snprintf(murl, sizeof(murl), "http://127.0.0.1:%d/nothing/here", port);
	lacre_dbuf_reset(&got);
	CHECK_OK(witness_http_get(murl, &hs, &got));
	CHECK_EQ_INT(hs, 404);
	/* other hosts and schemes are refused before any connection */
	CHECK(witness_http_get("http://192.0.2.1/x", &hs, &got) != LACRE_OK);
	CHECK(witness_http_get("file:///etc/passwd", &hs, &got) != LACRE_OK);
	stop();
	CHECK_OK(serve_rc);
	/* a listen address that is not one */
	{
		struct witness_config cfg;
		char state[600];
		volatile sig_atomic_t now_stop = 1;
		snprintf(state, sizeof(state), "%s/w2", t_tmpdir());
		memset(&cfg, 0, sizeof(cfg));
		cfg.key = wkey;
		cfg.state_dir = state;
		cfg.logs = &logv;
		cfg.nlogs = 1;
		CHECK_OK(witness_open(&cfg, &w));
		CHECK(witness_serve(w, "localhost:x", &now_stop, NULL, NULL) != LACRE_OK);
		CHECK(witness_serve(w, "192.0.2.1:80", &now_stop, NULL, NULL) != LACRE_OK);
		witness_close(w);
		w = NULL;
	}
	lacre_dbuf_free(&cp);
	lacre_dbuf_free(&cos);
	lacre_dbuf_free(&got);
}

int main(void)
{
	RUN(test_add_checkpoint);
	RUN(test_monitoring);
	note_signer_free(logkey);
	note_signer_free(wkey);
	note_signer_free(evil);
	return t_done();
}

/*
 * test_tlog.c - the appendable log on a dir: store: checkpoints verify and
 * match an independent tree, tiles land at the tlog-tiles paths of spec
 * §6.3, proofs from tiles verify, state survives reopening, and a child
 * killed at random points never leaves two inconsistent checkpoints.
 */
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
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

#define ORIGIN "lacre.test/ingest"

static struct note_signer *test_key(void)
{
	uint8_t seed[32];
	struct note_signer *s = NULL;

	memset(seed, 7, sizeof(seed));
	if (note_signer_from_seed(ORIGIN, NOTE_TYPE_ED25519, seed, &s) != LACRE_OK)
		return NULL;
	return s;
}

/* Entry i: a 32-byte pseudo commitment. */
static void entry(uint64_t i, uint8_t e[32])
{
	merkle_sha256(&i, sizeof(i), e);
}

/* Open a fresh store and state folder. */
static int fresh(char *state, size_t sl, struct lacre_store **st)
{
	char spec[600];
	const char *d = t_tmpdir();

	snprintf(state, sl, "%s/state", d);
	snprintf(spec, sizeof(spec), "dir:%s/store", d);
	return lacre_store_open(spec, st);
}

static int exists(struct lacre_store *st, const char *prefix, const char *rel)
{
	char name[600];
	uint64_t sz;

	snprintf(name, sizeof(name), "%s%s", prefix, rel);
	return lacre_store_stat(st, name, &sz) == LACRE_OK;
}

static void test_paths(void)
{
	char p[128];
	int level;
	uint64_t n;
	unsigned w;
	static const struct { uint64_t n; const char *s; } v[] = {
		{ 0, "tile/0/000" }, { 7, "tile/0/007" }, { 255, "tile/0/255" },
		{ 999, "tile/0/999" }, { 1000, "tile/0/x001/000" },
		{ 1234067, "tile/0/x001/x234/067" }, { 1000000, "tile/0/x001/x000/000" },
	};

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		CHECK_OK(tiles_path("", 0, v[i].n, 0, p, sizeof(p)));
		CHECK_STR(p, v[i].s);
		CHECK_OK(tiles_parse_path(p, &level, &n, &w));
		CHECK_EQ_INT(n, v[i].n);
		CHECK_EQ_INT(level, 0);
		CHECK_EQ_INT(w, 0);
	}
	CHECK_OK(tiles_path("x/", TILE_LEVEL_ENTRIES, 1234, 17, p, sizeof(p)));
	CHECK_STR(p, "x/tile/entries/x001/234.p/17");
	CHECK_OK(tiles_parse_path("tile/entries/x001/234.p/17", &level, &n, &w));
	CHECK_EQ_INT(level, TILE_LEVEL_ENTRIES);
	CHECK_EQ_INT(n, 1234);
	CHECK_EQ_INT(w, 17);
	CHECK(tiles_parse_path("tile/0/x000/005", &level, &n, &w) != LACRE_OK);
	CHECK(tiles_parse_path("tile/0/05", &level, &n, &w) != LACRE_OK);
	CHECK(tiles_parse_path("tile/00/005", &level, &n, &w) != LACRE_OK);
	CHECK(tiles_parse_path("tile/0/005.p/0", &level, &n, &w) != LACRE_OK);
	CHECK(tiles_parse_path("tile/0/005.p/256", &level, &n, &w) != LACRE_OK);
	CHECK(tiles_parse_path("tile/0/005.p/07", &level, &n, &w) != LACRE_OK);
	CHECK(tiles_parse_path("tile/64/005", &level, &n, &w) != LACRE_OK);
	CHECK(tiles_parse_path("tile/0/005/", &level, &n, &w) != LACRE_OK);
	/* widths of spec §6.3 */
	CHECK_EQ_INT(tiles_width(1, 0, 0), 1);
	CHECK_EQ_INT(tiles_width(256, 0, 0), 256);
	CHECK_EQ_INT(tiles_width(256, 1, 0), 1);
	CHECK_EQ_INT(tiles_width(257, 0, 1), 1);
	CHECK_EQ_INT(tiles_width(65536, 2, 0), 1);
	CHECK_EQ_INT(tiles_width(70000, 0, 273), 112);
	CHECK_EQ_INT(tiles_width(70000, 1, 1), 17);
	CHECK_EQ_INT(tiles_width(70000, 2, 0), 1);
	CHECK_EQ_INT(tiles_width(70000, 0, 274), 0);
	CHECK_EQ_INT(tiles_width(0, 0, 0), 0);
}

static void test_segment_entry(void)
{
	struct tlog_segment s, t;
	struct lacre_dbuf d;

	memset(&s, 0, sizeof(s));
	strcpy(s.name, "seg/0001.age");
	s.size = 123456789;
	s.fp_len = 32;
	memset(s.fp, 0xab, 32);
	lacre_dbuf_init(&d, 1024);
	s.records = 7;
	memset(s.records_root, 0xcd, 32);
	CHECK_OK(tlog_segment_encode(&s, &d));
	CHECK_EQ_INT(d.len, 16 + 1 + 12 + 8 + 1 + 32 + 8 + 32);
	CHECK_OK(tlog_segment_decode(d.p, d.len, &t));
	CHECK_EQ_INT(t.version, 2);
	CHECK_EQ_INT(t.records, 7);
	CHECK_MEM(t.records_root, s.records_root, 32);
	CHECK_STR(t.name, s.name);
	CHECK_EQ_INT(t.size, s.size);
	CHECK_MEM(t.fp, s.fp, 32);
	CHECK_EQ_INT(tlog_segment_decode(d.p, d.len - 1, &t), LACRE_E_MALFORMED);
	CHECK_OK(lacre_dbuf_add_u8(&d, 0));
	CHECK_EQ_INT(tlog_segment_decode(d.p, d.len, &t), LACRE_E_MALFORMED);
	CHECK_EQ_INT(tlog_segment_decode(s.fp, 32, &t), LACRE_E_UNEXPECTED);
	lacre_dbuf_free(&d);
}

/* Grow a log to 70000 entries in uneven batches; after each checkpoint the
 * note verifies, the root matches an independent tree and the tiles, and
 * proofs from tiles verify. */
static void test_log_grow(void)
{
	char state[600];
	struct lacre_store *st = NULL;
	struct note_signer *key = test_key();
	struct note_verifier v;
	struct tlog *log = NULL;
	struct merkle_tree ref;
	struct lacre_dbuf note;
	struct checkpoint cp, prev;
	struct merkle_proof pr;
	static const uint64_t batches[] = { 0, 1, 1, 254, 1, 255, 2, 700, 4000, 30000, 34786 };
	uint8_t e[32], leaf[32], root[32];
	uint64_t idx, total = 0;
	const char *pfx;

	CHECK(key != NULL);
	note_signer_public(key, &v);
	CHECK_OK(fresh(state, sizeof(state), &st));
	CHECK_OK(tlog_open(st, state, ORIGIN, key, &log));
	pfx = tlog_store_prefix(log);
	merkle_tree_init(&ref);
	lacre_dbuf_init(&note, NOTE_MAX_SIZE);
	memset(&prev, 0, sizeof(prev));
	for (size_t b = 0; b < sizeof(batches) / sizeof(batches[0]); b++) {
		for (uint64_t i = 0; i < batches[b]; i++) {
			entry(total, e);
			CHECK_OK(tlog_append(log, e, 32, &idx));
			CHECK_EQ_INT(idx, total);
			merkle_leaf_hash(e, 32, leaf);
			merkle_tree_append(&ref, leaf, NULL, NULL);
			total++;
		}
		lacre_dbuf_reset(&note);
		CHECK_OK(tlog_checkpoint(log, &note));
		CHECK_OK(checkpoint_open(note.p, note.len, &v, NULL, 0, &cp, NULL));
		CHECK_EQ_INT(cp.size, total);
		merkle_tree_root(&ref, root);
		CHECK_MEM(cp.root, root, 32);
		CHECK_EQ_INT(tlog_published_size(log), total);
		if (total > 0) {
			struct tiles_reader *r = NULL;
			uint8_t troot[32];
			CHECK_OK(tiles_reader_new(st, pfx, total, &r));
			CHECK_OK(merkle_root(total, tiles_reader_node, r, troot));
			tiles_reader_free(r);
			CHECK_MEM(troot, root, 32);
			for (uint64_t k = 0; k < 5; k++) {
				uint64_t i = (k * 7919 + b) % total;
				entry(i, e);
				merkle_leaf_hash(e, 32, leaf);
				CHECK_OK(tlog_prove_inclusion(log, i, total, &pr));
				CHECK_OK(merkle_verify_inclusion(i, total, leaf, &pr, root));
			}
			CHECK_OK(tlog_prove_consistency(log, prev.size, total, &pr));
			CHECK_OK(merkle_verify_consistency(prev.size, total, prev.root, cp.root, &pr));
		}
		prev = cp;
	}
	/* the objects of spec §6.3 for 70000 */
	CHECK_EQ_INT(total, 70000);
	CHECK(exists(st, pfx, "tile/0/272"));
	CHECK(exists(st, pfx, "tile/0/273.p/112"));
	CHECK(exists(st, pfx, "tile/entries/273.p/112"));
	CHECK(exists(st, pfx, "tile/1/000"));
	CHECK(exists(st, pfx, "tile/1/001.p/17"));
	CHECK(exists(st, pfx, "tile/2/000.p/1"));
	CHECK(!exists(st, pfx, "tile/0/274"));
	CHECK(exists(st, pfx, "checkpoint"));
	/* a bundle holds 256 entries of 34 bytes */
	{
		char name[600];
		uint64_t sz = 0;
		snprintf(name, sizeof(name), "%stile/entries/000", pfx);
		CHECK_OK(lacre_store_stat(st, name, &sz));
		CHECK_EQ_INT(sz, 256 * 34);
	}
	tlog_close(log);
	/* reopen: same size, and appends continue consistently */
	CHECK_OK(tlog_open(st, state, ORIGIN, key, &log));
	CHECK_EQ_INT(tlog_size(log), 70000);
	CHECK_EQ_INT(tlog_signed_size(log), 70000);
	{
		struct tlog *again = NULL;
		CHECK_EQ_INT(tlog_open(st, state, ORIGIN, key, &again), LACRE_E_STATE);
	}
	for (int i = 0; i < 10; i++) {
		entry(total++, e);
		CHECK_OK(tlog_append(log, e, 32, NULL));
		merkle_leaf_hash(e, 32, leaf);
		merkle_tree_append(&ref, leaf, NULL, NULL);
	}
	lacre_dbuf_reset(&note);
	CHECK_OK(tlog_checkpoint(log, &note));
	CHECK_OK(checkpoint_open(note.p, note.len, &v, NULL, 0, &cp, NULL));
	merkle_tree_root(&ref, root);
	CHECK_MEM(cp.root, root, 32);
	CHECK_OK(tlog_prove_consistency(log, 70000, total, &pr));
	CHECK_OK(merkle_verify_consistency(70000, total, prev.root, cp.root, &pr));
	/* a receipt for the last entry verifies offline */
	{
		struct lacre_dbuf rc_;
		struct receipt rr;
		struct checkpoint rcp;
		lacre_dbuf_init(&rc_, NOTE_MAX_SIZE + 8192);
		CHECK_OK(tlog_receipt(log, total - 1, &rc_));
		CHECK_OK(receipt_parse(rc_.p, rc_.len, &rr));
		entry(total - 1, e);
		merkle_leaf_hash(e, 32, leaf);
		CHECK_OK(receipt_verify(&rr, leaf, &v, NULL, 0, 0, &rcp));
		CHECK_EQ_INT(rcp.size, total);
		entry(total - 2, e);
		merkle_leaf_hash(e, 32, leaf);
		CHECK_EQ_INT(receipt_verify(&rr, leaf, &v, NULL, 0, 0, &rcp), LACRE_E_VERIFY);
		CHECK_EQ_INT(tlog_receipt(log, total, &rc_), LACRE_E_RANGE);
		lacre_dbuf_free(&rc_);
	}
	tlog_close(log);
	/* another origin or key on the same state is refused */
	{
		uint8_t seed[32];
		struct note_signer *k2 = NULL;
		memset(seed, 8, sizeof(seed));
		CHECK_OK(note_signer_from_seed(ORIGIN, NOTE_TYPE_ED25519, seed, &k2));
		CHECK_EQ_INT(tlog_open(st, state, ORIGIN, k2, &log), LACRE_E_CONFIG);
		note_signer_free(k2);
	}
	note_signer_free(key);
	lacre_dbuf_free(&note);
	lacre_store_close(st);
}

static void test_tick_and_entries(void)
{
	char state[600];
	struct lacre_store *st = NULL;
	struct note_signer *key = test_key();
	struct tlog *log = NULL;
	int did = 0;
	uint8_t big[TLOG_ENTRY_MAX + 1];

	CHECK_OK(fresh(state, sizeof(state), &st));
	CHECK_OK(tlog_open(st, state, ORIGIN, key, &log));
	memset(big, 'x', sizeof(big));
	CHECK_EQ_INT(tlog_append(log, big, 0, NULL), LACRE_E_INVALID);
	CHECK_EQ_INT(tlog_append(log, big, sizeof(big), NULL), LACRE_E_INVALID);
	CHECK_OK(tlog_append(log, big, TLOG_ENTRY_MAX, NULL));
	CHECK_OK(tlog_append(log, "event", 5, NULL));
	CHECK_OK(tlog_tick(log, 1000, &did));
	CHECK_EQ_INT(did, 1);
	CHECK_EQ_INT(tlog_published_size(log), 2);
	CHECK_OK(tlog_append(log, "more", 4, NULL));
	CHECK_OK(tlog_tick(log, 1500, &did));
	CHECK_EQ_INT(did, 0);
	CHECK_EQ_INT(tlog_signed_size(log), 2);
	CHECK_OK(tlog_tick(log, 2000, &did));
	CHECK_EQ_INT(did, 1);
	CHECK_EQ_INT(tlog_signed_size(log), 3);
	CHECK_OK(tlog_tick(log, 5000, &did));
	CHECK_EQ_INT(did, 0); /* nothing new */
	tlog_close(log);
	note_signer_free(key);
	lacre_store_close(st);
}

/* Damaged local state is refused, never re-signed over. */
static void test_local_state_damage(void)
{
	char state[600], path[700];
	struct lacre_store *st = NULL;
	struct note_signer *key = test_key();
	struct tlog *log = NULL;
	uint8_t e[32], b;
	int fd;

	CHECK_OK(fresh(state, sizeof(state), &st));
	CHECK_OK(tlog_open(st, state, ORIGIN, key, &log));
	for (uint64_t i = 0; i < 100; i++) {
		entry(i, e);
		CHECK_OK(tlog_append(log, e, 32, NULL));
	}
	CHECK_OK(tlog_checkpoint(log, NULL));
	/* pending entries beyond the signed size are simply dropped */
	CHECK_OK(tlog_append(log, e, 32, NULL));
	tlog_close(log);
	CHECK_OK(tlog_open(st, state, ORIGIN, key, &log));
	CHECK_EQ_INT(tlog_size(log), 100);
	tlog_close(log);
	/* a flipped journal byte */
	snprintf(path, sizeof(path), "%s/entries", state);
	fd = open(path, O_RDWR);
	CHECK(fd >= 0);
	CHECK(pread(fd, &b, 1, 500) == 1);
	b ^= 1;
	CHECK(pwrite(fd, &b, 1, 500) == 1);
	CHECK_EQ_INT(tlog_open(st, state, ORIGIN, key, &log), LACRE_E_CORRUPT);
	b ^= 1;
	CHECK(pwrite(fd, &b, 1, 500) == 1);
	CHECK_OK(tlog_open(st, state, ORIGIN, key, &log));
	tlog_close(log);
	/* a journal shorter than what was signed */
	CHECK(ftruncate(fd, 34 * 99) == 0);
	close(fd);
	CHECK_EQ_INT(tlog_open(st, state, ORIGIN, key, &log), LACRE_E_CORRUPT);
	/* a state file that was edited */
	snprintf(path, sizeof(path), "%s/state", state);
	fd = open(path, O_RDWR);
	CHECK(fd >= 0);
	CHECK(pwrite(fd, "X", 1, 0) == 1);
	close(fd);
	CHECK_EQ_INT(tlog_open(st, state, ORIGIN, key, &log), LACRE_E_CORRUPT);
	note_signer_free(key);
	lacre_store_close(st);
}

/* A backend that is down: the checkpoint is signed and committed locally,
 * publication waits and completes once the backend is back; a backend
 * that loses puts is caught by the audit. */
static void test_backend_down(void)
{
	char state[600];
	struct lacre_store *in = NULL, *st = NULL;
	struct note_signer *key = test_key();
	struct note_verifier v;
	struct tlog *log = NULL;
	struct lacre_dbuf note;
	struct audit_config cfg;
	struct audit_result res;
	uint8_t e[32];

	note_signer_public(key, &v);
	lacre_dbuf_init(&note, NOTE_MAX_SIZE);
	CHECK_OK(fresh(state, sizeof(state), &in));
	CHECK_OK(lacre_store_faulty_wrap(in, 1, &st));
	CHECK_OK(tlog_open(st, state, ORIGIN, key, &log));
	for (uint64_t i = 0; i < 600; i++) {
		entry(i, e);
		CHECK_OK(tlog_append(log, e, 32, NULL));
	}
	CHECK_OK(tlog_checkpoint(log, NULL));
	CHECK_OK(lacre_store_faulty_set(st, LACRE_STORE_FAULT_DOWN, NULL, 0));
	for (uint64_t i = 600; i < 1000; i++) {
		entry(i, e);
		CHECK_OK(tlog_append(log, e, 32, NULL));
	}
	CHECK_EQ_INT(tlog_checkpoint(log, &note), LACRE_E_UNAVAILABLE);
	CHECK_EQ_INT(tlog_signed_size(log), 1000);
	CHECK_EQ_INT(tlog_published_size(log), 600);
	/* more entries while down, then a restart before the backend returns */
	for (uint64_t i = 1000; i < 1100; i++) {
		entry(i, e);
		CHECK_OK(tlog_append(log, e, 32, NULL));
	}
	CHECK_EQ_INT(tlog_checkpoint(log, NULL), LACRE_E_UNAVAILABLE);
	tlog_close(log);
	CHECK_OK(tlog_open(st, state, ORIGIN, key, &log));
	CHECK_EQ_INT(tlog_size(log), 1100);
	CHECK_OK(lacre_store_faulty_clear(st, 0, NULL));
	CHECK_OK(tlog_checkpoint(log, &note));
	CHECK_EQ_INT(tlog_published_size(log), 1100);
	memset(&cfg, 0, sizeof(cfg));
	cfg.store = st;
	cfg.origin = ORIGIN;
	cfg.log_key = v;
	cfg.trusted = note.p;
	cfg.trusted_len = note.len;
	CHECK_OK(audit_run(&cfg, &res));
	CHECK_EQ_INT(res.entries, 1100);
	/* puts acknowledged but lost */
	CHECK_OK(lacre_store_faulty_set(st, LACRE_STORE_FAULT_LOSE_PUT, NULL, 0));
	for (uint64_t i = 1100; i < 1400; i++) {
		entry(i, e);
		CHECK_OK(tlog_append(log, e, 32, NULL));
	}
	lacre_dbuf_reset(&note);
	CHECK_OK(tlog_checkpoint(log, &note));
	CHECK_OK(lacre_store_faulty_clear(st, 0, NULL));
	cfg.trusted = note.p;
	cfg.trusted_len = note.len;
	CHECK_EQ_INT(audit_run(&cfg, &res), LACRE_E_ROLLBACK);
	CHECK(res.by_kind[AUDIT_ROLLBACK] == 1);
	CHECK(res.by_kind[AUDIT_MISSING] >= 4);
	tlog_close(log);
	note_signer_free(key);
	lacre_dbuf_free(&note);
	lacre_store_close(st);
}

#define THREADS 4
#define PER_THREAD 30000

struct appender {
	struct tlog *log;
	int id;
	uint64_t *idx;
	int rc;
};

/* Entry of thread t, sequence k. */
static void tentry(int t, uint64_t k, uint8_t e[32])
{
	uint64_t x = ((uint64_t)t << 40) | k;
	merkle_sha256(&x, sizeof(x), e);
}

/* Thread body: append PER_THREAD entries, remembering each index. */
static void *append_thread(void *arg)
{
	struct appender *a = arg;
	uint8_t e[32];

	for (uint64_t k = 0; k < PER_THREAD; k++) {
		tentry(a->id, k, e);
		if ((a->rc = tlog_append(a->log, e, 32, &a->idx[k])) != LACRE_OK)
			return NULL;
	}
	return NULL;
}

/* Appenders on four threads while this one checkpoints: every index is
 * given once, every entry is where its index says, the audit is clean. */
static void test_threads(void)
{
	char state[600];
	struct lacre_store *st = NULL;
	struct note_signer *key = test_key();
	struct note_verifier v;
	struct tlog *log = NULL;
	struct appender a[THREADS];
	pthread_t th[THREADS];
	uint8_t *seen = calloc(THREADS * PER_THREAD, 1);
	struct lacre_dbuf note, rcpt;
	struct audit_config cfg;
	struct audit_result res;
	uint64_t now = 1;
	int ncp = 0, did;

	note_signer_public(key, &v);
	lacre_dbuf_init(&note, NOTE_MAX_SIZE);
	lacre_dbuf_init(&rcpt, NOTE_MAX_SIZE + 8192);
	CHECK(seen != NULL);
	CHECK_OK(fresh(state, sizeof(state), &st));
	CHECK_OK(tlog_open(st, state, ORIGIN, key, &log));
	tlog_set_interval(log, 1);
	for (int t = 0; t < THREADS; t++) {
		a[t].log = log;
		a[t].id = t;
		a[t].rc = 0;
		a[t].idx = calloc(PER_THREAD, sizeof(uint64_t));
		CHECK(a[t].idx != NULL);
		CHECK(pthread_create(&th[t], NULL, append_thread, &a[t]) == 0);
	}
	for (int spins = 0; tlog_size(log) < THREADS * PER_THREAD && spins < 100000; spins++) {
		CHECK_OK(tlog_tick(log, now += 2, &did));
		ncp += did;
	}
	for (int t = 0; t < THREADS; t++) {
		pthread_join(th[t], NULL);
		CHECK_OK(a[t].rc);
	}
	CHECK_EQ_INT(tlog_size(log), THREADS * PER_THREAD);
	CHECK_OK(tlog_checkpoint(log, &note));
	CHECK_EQ_INT(tlog_published_size(log), THREADS * PER_THREAD);
	for (int t = 0; t < THREADS; t++)
		for (uint64_t k = 0; k < PER_THREAD; k++) {
			CHECK(a[t].idx[k] < THREADS * PER_THREAD);
			CHECK(!seen[a[t].idx[k]]);
			seen[a[t].idx[k]] = 1;
		}
	for (int t = 0; t < THREADS; t++) {
		for (uint64_t k = 0; k < PER_THREAD; k += 7919) {
			struct receipt r;
			uint8_t e[32], leaf[32];
			tentry(t, k, e);
			merkle_leaf_hash(e, 32, leaf);
			lacre_dbuf_reset(&rcpt);
			CHECK_OK(tlog_receipt(log, a[t].idx[k], &rcpt));
			CHECK_OK(receipt_parse(rcpt.p, rcpt.len, &r));
			CHECK_OK(receipt_verify(&r, leaf, &v, NULL, 0, 0, NULL));
		}
	}
	memset(&cfg, 0, sizeof(cfg));
	cfg.store = st;
	cfg.origin = ORIGIN;
	cfg.log_key = v;
	cfg.trusted = note.p;
	cfg.trusted_len = note.len;
	CHECK_OK(audit_run(&cfg, &res));
	CHECK_EQ_INT(res.entries, THREADS * PER_THREAD);
	printf("# threads: %d checkpoints while appending\n", ncp);
	for (int t = 0; t < THREADS; t++)
		free(a[t].idx);
	free(seen);
	tlog_close(log);
	note_signer_free(key);
	lacre_dbuf_free(&note);
	lacre_dbuf_free(&rcpt);
	lacre_store_close(st);
}

/* Child body: append and checkpoint forever, reporting each published
 * checkpoint note on fd (u32 length ‖ note). */
static void crash_child(struct lacre_store *st, const char *state, int fd, unsigned seed)
{
	struct note_signer *key = test_key();
	struct tlog *log = NULL;
	struct lacre_dbuf note;
	uint8_t e[32];

	srand(seed);
	lacre_dbuf_init(&note, NOTE_MAX_SIZE);
	if (tlog_open(st, state, ORIGIN, key, &log) != LACRE_OK)
		_exit(3);
	for (;;) {
		int n = rand() % 700;
		for (int i = 0; i < n; i++) {
			uint64_t x = ((uint64_t)seed << 32) ^ (uint64_t)rand();
			entry(x, e);
			if (tlog_append(log, e, 32, NULL) != LACRE_OK)
				_exit(4);
		}
		lacre_dbuf_reset(&note);
		if (tlog_checkpoint(log, &note) != LACRE_OK)
			_exit(5);
		/* one write() of at most PIPE_BUF bytes is atomic on a pipe: a
		 * kill never leaves a length without its note in the stream */
		uint8_t rep[PIPE_BUF];
		uint32_t l = (uint32_t)note.len;
		if (note.len + 4 > sizeof(rep))
			_exit(7);
		memcpy(rep, &l, 4);
		memcpy(rep + 4, note.p, note.len);
		if (write(fd, rep, note.len + 4) != (ssize_t)(note.len + 4))
			_exit(6);
	}
}

/* Kill a child at random points 25 times; every checkpoint ever published
 * (reported or left on the store) must be a prefix of the final tree. */
static void test_crash_consistency(void)
{
	char state[600];
	struct lacre_store *st = NULL;
	struct note_signer *key = test_key();
	struct note_verifier v;
	struct lacre_dbuf notes, note;
	struct tlog *log = NULL;
	struct tiles_reader *r = NULL;
	struct checkpoint cp, fin;
	size_t off, count = 0, killed_mid = 0;
	char cpname[600];

	note_signer_public(key, &v);
	CHECK_OK(fresh(state, sizeof(state), &st));
	lacre_dbuf_init(&notes, 1 << 26);
	lacre_dbuf_init(&note, NOTE_MAX_SIZE);
	srand((unsigned)time(NULL));
	for (int round = 0; round < 25; round++) {
		int pfd[2], status;
		pid_t pid;
		uint8_t buf[65536];
		ssize_t n;

		CHECK(pipe(pfd) == 0);
		pid = fork();
		CHECK(pid >= 0);
		if (pid == 0) {
			close(pfd[0]);
			crash_child(st, state, pfd[1], (unsigned)round + 1);
		}
		close(pfd[1]);
		/* let the child publish one checkpoint, then kill it at a random
		 * point of what follows (appending, journaling, signing,
		 * committing, writing tiles or the checkpoint) */
		{
			uint32_t l = 0;
			struct pollfd pp = { pfd[0], POLLIN, 0 };
			CHECK(poll(&pp, 1, 20000) == 1);
			CHECK(read(pfd[0], &l, 4) == 4);
			CHECK(l < sizeof(buf));
			size_t got = 0;
			while (got < l && (n = read(pfd[0], buf + got, l - got)) > 0)
				got += (size_t)n;
			CHECK_EQ_INT(got, l);
			CHECK_OK(lacre_dbuf_add(&notes, &l, 4));
			CHECK_OK(lacre_dbuf_add(&notes, buf, l));
		}
		usleep((useconds_t)(rand() % 30000));
		kill(pid, SIGKILL);
		CHECK(waitpid(pid, &status, 0) == pid);
		if (WIFSIGNALED(status))
			killed_mid++;
		while ((n = read(pfd[0], buf, sizeof(buf))) > 0)
			CHECK_OK(lacre_dbuf_add(&notes, buf, (size_t)n));
		close(pfd[0]);
		/* whatever the store shows now counts as published too */
		{
			struct lacre_dbuf d;
			char prefix[TLOG_PREFIX_MAX];
			lacre_dbuf_init(&d, NOTE_MAX_SIZE);
			tlog_prefix(ORIGIN, prefix, sizeof(prefix));
			snprintf(cpname, sizeof(cpname), "%scheckpoint", prefix);
			if (lacre_store_get(st, cpname, 0, SIZE_MAX, &d) == LACRE_OK) {
				uint32_t l = (uint32_t)d.len;
				CHECK_OK(lacre_dbuf_add(&notes, &l, 4));
				CHECK_OK(lacre_dbuf_add(&notes, d.p, d.len));
			}
			lacre_dbuf_free(&d);
		}
	}
	CHECK(killed_mid >= 20); /* killed, not exited on an error */
	/* recover, add a little, and take the final tree */
	CHECK_OK(tlog_open(st, state, ORIGIN, key, &log));
	CHECK_OK(tlog_append(log, "final", 5, NULL));
	CHECK_OK(tlog_checkpoint(log, &note));
	CHECK_OK(checkpoint_open(note.p, note.len, &v, NULL, 0, &fin, NULL));
	CHECK_OK(tiles_reader_new(st, tlog_store_prefix(log), fin.size, &r));
	for (off = 0; off + 4 <= notes.len;) {
		uint32_t l;
		uint8_t root[32];
		memcpy(&l, notes.p + off, 4);
		off += 4;
		if (off + l > notes.len)
			break; /* a report cut by the kill */
		CHECK_OK(checkpoint_open(notes.p + off, l, &v, NULL, 0, &cp, NULL));
		off += l;
		CHECK(cp.size <= fin.size);
		CHECK_OK(merkle_root(cp.size, tiles_reader_node, r, root));
		CHECK_MEM(root, cp.root, 32);
		count++;
	}
	CHECK(count >= 25);
	printf("# crash test: %zu checkpoints checked, final size %llu\n", count,
	       (unsigned long long)fin.size);
	tiles_reader_free(r);
	tlog_close(log);
	note_signer_free(key);
	lacre_dbuf_free(&notes);
	lacre_dbuf_free(&note);
	lacre_store_close(st);
}

int main(void)
{
	RUN(test_paths);
	RUN(test_segment_entry);
	RUN(test_log_grow);
	RUN(test_tick_and_entries);
	RUN(test_local_state_damage);
	RUN(test_backend_down);
	RUN(test_threads);
	RUN(test_crash_consistency);
	return t_done();
}

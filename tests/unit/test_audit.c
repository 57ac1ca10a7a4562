/*
 * test_audit.c - the keyless audit against a lying backend (the faulty
 * store wrapper): a flipped byte in a tile or a bundle, a hidden tile, a
 * truncated or older partial tile, a stale checkpoint, a dropped tail, an
 * extra object, reordered entries, a fork, a failing segment check, and
 * a segment object that no entry names - each must be reported with its
 * kind and the object's name.
 */
#include <stdint.h>
#include <stdlib.h>

#include "harness.h"
#include "lacre/err.h"
#include "lacre/note.h"
#include "lacre/store.h"
#include "lacre/tlog.h"

#define ORIGIN "lacre.test/audit"
#define MAXF 64

struct seen {
	size_t n;
	enum audit_kind kind[MAXF];
	char obj[MAXF][128];
	char msg[MAXF][512];
};

static struct seen seen;
static const char *seg_prefix;   /* audit_config.segment_prefix of run() */
static int seg_auto;

/* Collect findings (and echo them for the log). */
static void on_finding(void *arg, const struct audit_finding *f)
{
	struct seen *s = arg;

	printf("#   %s %s\n", audit_kind_name(f->kind), f->message);
	if (s->n == MAXF)
		return;
	s->kind[s->n] = f->kind;
	snprintf(s->obj[s->n], sizeof(s->obj[0]), "%s", f->object);
	snprintf(s->msg[s->n], sizeof(s->msg[0]), "%s", f->message);
	s->n++;
}

/* Whether a finding of kind on obj was reported. */
static int has(enum audit_kind k, const char *obj)
{
	for (size_t i = 0; i < seen.n; i++)
		if (seen.kind[i] == k && strcmp(seen.obj[i], obj) == 0)
			return 1;
	return 0;
}

static struct lacre_store *inner, *faulty;
static struct note_signer *key;
static struct note_verifier vkey;
static struct lacre_dbuf trusted, older;
static char prefix[TLOG_PREFIX_MAX];

/* Fails the segment named "seg/bad". */
static int seg_check(void *arg, struct lacre_store *st, uint64_t index,
		     const struct tlog_segment *seg, char *msg, size_t cap)
{
	(void)arg;
	(void)st;
	(void)index;
	if (strcmp(seg->name, "seg/bad") == 0) {
		snprintf(msg, cap, "fingerprint differs");
		return LACRE_E_VERIFY;
	}
	return LACRE_OK;
}

/* Run the audit through the faulty store with the latest trusted note. */
static int run(const struct lacre_dbuf *tr, struct audit_result *res)
{
	struct audit_config cfg;

	memset(&cfg, 0, sizeof(cfg));
	memset(&seen, 0, sizeof(seen));
	cfg.store = faulty;
	cfg.origin = ORIGIN;
	cfg.log_key = vkey;
	cfg.trusted = tr ? tr->p : NULL;
	cfg.trusted_len = tr ? tr->len : 0;
	cfg.segment = seg_check;
	cfg.report = on_finding;
	cfg.report_arg = &seen;
	cfg.segment_prefix = seg_prefix;
	cfg.segment_prefix_auto = seg_auto;
	return audit_run(&cfg, res);
}

/* Build a log of 1000 entries in checkpoints of 300, 600 and 1000, with
 * two segment entries, writing through the faulty wrapper. */
static void test_setup(void)
{
	char spec[600], state[600];
	const char *d = t_tmpdir();
	struct tlog *log = NULL;
	uint8_t seed[32], e[32];
	uint64_t i;

	memset(seed, 3, sizeof(seed));
	CHECK_OK(note_signer_from_seed(ORIGIN, NOTE_TYPE_ED25519, seed, &key));
	note_signer_public(key, &vkey);
	snprintf(spec, sizeof(spec), "dir:%s/store", d);
	snprintf(state, sizeof(state), "%s/state", d);
	CHECK_OK(lacre_store_open(spec, &inner));
	CHECK_OK(lacre_store_faulty_wrap(inner, 0, &faulty));
	CHECK_OK(tlog_open(faulty, state, ORIGIN, key, &log));
	lacre_dbuf_init(&trusted, NOTE_MAX_SIZE);
	lacre_dbuf_init(&older, NOTE_MAX_SIZE);
	for (i = 0; i < 1000; i++) {
		if (i == 10 || i == 700) {
			struct tlog_segment s;
			struct lacre_dbuf b;
			memset(&s, 0, sizeof(s));
			strcpy(s.name, i == 10 ? "seg/good" : "seg/bad");
			s.size = 100;
			s.fp_len = 32;
			s.records = i == 10 ? 5 : 7;   /* v2: one leaf for 5 (7) records */
			lacre_dbuf_init(&b, 1024);
			CHECK_OK(tlog_segment_encode(&s, &b));
			CHECK_OK(tlog_append(log, b.p, b.len, NULL));
			lacre_dbuf_free(&b);
		} else {
			merkle_sha256(&i, sizeof(i), e);
			CHECK_OK(tlog_append(log, e, 32, NULL));
		}
		if (i + 1 == 300 || i + 1 == 600 || i + 1 == 1000) {
			if (i + 1 == 1000)
				CHECK_OK(tlog_checkpoint(log, &trusted));
			else {
				lacre_dbuf_reset(&older);
				CHECK_OK(tlog_checkpoint(log, &older));
			}
		}
	}
	tlog_close(log);
	tlog_prefix(ORIGIN, prefix, sizeof(prefix));
}

/* Full object name of a relative one. */
static const char *full(const char *rel)
{
	static char n[600];
	snprintf(n, sizeof(n), "%s%s", prefix, rel);
	return n;
}

static void test_clean(void)
{
	struct audit_result r;

	CHECK_EQ_INT(run(&trusted, &r), LACRE_E_VERIFY); /* seg/bad */
	CHECK_EQ_INT(seen.n, 1);
	CHECK(has(AUDIT_SEGMENT, "seg/bad"));
	CHECK_EQ_INT(r.size, 1000);
	CHECK_EQ_INT(r.entries, 1000);
	CHECK_EQ_INT(r.segments, 2);
	/* the records the tree logs: 998 leaves of their own, 5 + 7 under
	 * the two v2 entries */
	CHECK_EQ_INT(r.records, 998 + 5 + 7);
	/* without a trusted checkpoint, the store's own is audited */
	CHECK_EQ_INT(run(NULL, &r), LACRE_E_VERIFY);
	CHECK_EQ_INT(seen.n, 1);
}

static void test_flip_tile(void)
{
	struct audit_result r;

	CHECK_OK(lacre_store_faulty_set(faulty, LACRE_STORE_FAULT_FLIP, full("tile/0/001"), 100));
	CHECK_EQ_INT(run(&trusted, &r), LACRE_E_VERIFY);
	CHECK(has(AUDIT_MODIFIED, "tile/0/001"));
	CHECK(!has(AUDIT_MODIFIED, "checkpoint")); /* the entries still hash to the root */
	CHECK_OK(lacre_store_faulty_clear(faulty, 0, NULL));
}

static void test_flip_bundle(void)
{
	struct audit_result r;

	CHECK_OK(lacre_store_faulty_set(faulty, LACRE_STORE_FAULT_FLIP, full("tile/entries/002"), 40));
	CHECK_EQ_INT(run(&trusted, &r), LACRE_E_VERIFY);
	CHECK(has(AUDIT_MODIFIED, "tile/entries/002")); /* the tiles still match the root */
	CHECK(!has(AUDIT_MODIFIED, "tile/0/002"));
	CHECK(!has(AUDIT_MODIFIED, "tile/1/000.p/3"));
	CHECK_OK(lacre_store_faulty_clear(faulty, 0, NULL));
}

static void test_hidden_tile(void)
{
	struct audit_result r;

	CHECK_OK(lacre_store_faulty_set(faulty, LACRE_STORE_FAULT_HIDE, full("tile/0/002"), 0));
	CHECK_EQ_INT(run(&trusted, &r), LACRE_E_VERIFY);
	CHECK(has(AUDIT_MISSING, "tile/0/002"));
	CHECK_OK(lacre_store_faulty_clear(faulty, 0, NULL));
	CHECK_OK(lacre_store_faulty_set(faulty, LACRE_STORE_FAULT_HIDE, full("tile/entries/000"), 0));
	CHECK_EQ_INT(run(&trusted, &r), LACRE_E_VERIFY);
	CHECK(has(AUDIT_MISSING, "tile/entries/000"));
	CHECK_OK(lacre_store_faulty_clear(faulty, 0, NULL));
}

static void test_older_partial(void)
{
	struct audit_result r;

	/* the partial of size 1000 served with only the 88 hashes of size 600 */
	CHECK_OK(lacre_store_faulty_set(faulty, LACRE_STORE_FAULT_TRUNCATE, full("tile/0/003.p/232"), 88 * 32));
	CHECK_EQ_INT(run(&trusted, &r), LACRE_E_VERIFY);
	CHECK(has(AUDIT_TRUNCATED, "tile/0/003.p/232"));
	CHECK_OK(lacre_store_faulty_clear(faulty, 0, NULL));
	CHECK_OK(lacre_store_faulty_set(faulty, LACRE_STORE_FAULT_TRUNCATE, full("tile/entries/003.p/232"), 50 * 34));
	CHECK_EQ_INT(run(&trusted, &r), LACRE_E_VERIFY);
	CHECK(has(AUDIT_TRUNCATED, "tile/entries/003.p/232"));
	CHECK_OK(lacre_store_faulty_clear(faulty, 0, NULL));
	/* an older partial (of size 600) that lies */
	CHECK_OK(lacre_store_faulty_set(faulty, LACRE_STORE_FAULT_FLIP, full("tile/0/002.p/88"), 5));
	CHECK_EQ_INT(run(&trusted, &r), LACRE_E_VERIFY);
	CHECK(has(AUDIT_MODIFIED, "tile/0/002.p/88"));
	CHECK_OK(lacre_store_faulty_clear(faulty, 0, NULL));
}

static void test_stale_checkpoint(void)
{
	struct audit_result r;

	CHECK_OK(lacre_store_faulty_set(faulty, LACRE_STORE_FAULT_STALE, full("checkpoint"), 0));
	CHECK_EQ_INT(run(&trusted, &r), LACRE_E_ROLLBACK);
	CHECK(has(AUDIT_ROLLBACK, "checkpoint"));
	CHECK_EQ_INT(r.size, 1000);
	/* drop the tail as well: the objects of size 1000 vanish */
	CHECK_OK(lacre_store_faulty_set(faulty, LACRE_STORE_FAULT_HIDE, full("tile/0/003.p/232"), 0));
	CHECK_OK(lacre_store_faulty_set(faulty, LACRE_STORE_FAULT_HIDE, full("tile/entries/003.p/232"), 0));
	CHECK_OK(lacre_store_faulty_set(faulty, LACRE_STORE_FAULT_HIDE, full("tile/1/000.p/3"), 0));
	CHECK_EQ_INT(run(&trusted, &r), LACRE_E_ROLLBACK);
	CHECK(has(AUDIT_ROLLBACK, "checkpoint"));
	CHECK(has(AUDIT_MISSING, "tile/0/003.p/232"));
	CHECK(has(AUDIT_MISSING, "tile/entries/003.p/232"));
	CHECK(has(AUDIT_MISSING, "tile/1/000.p/3"));
	CHECK_OK(lacre_store_faulty_clear(faulty, 0, NULL));
	/* the older trusted checkpoint against the newer store: consistent */
	CHECK_EQ_INT(run(&older, &r), LACRE_E_VERIFY);
	CHECK_EQ_INT(seen.n, 1); /* only seg/bad */
}

static void test_bad_checkpoint(void)
{
	struct audit_result r;

	CHECK_OK(lacre_store_faulty_set(faulty, LACRE_STORE_FAULT_FLIP, full("checkpoint"), 3));
	CHECK_EQ_INT(run(&trusted, &r), LACRE_E_VERIFY);
	CHECK(has(AUDIT_BAD_CHECKPOINT, "checkpoint"));
	CHECK_EQ_INT(r.size, 1000);
	CHECK_OK(lacre_store_faulty_set(faulty, LACRE_STORE_FAULT_HIDE, full("checkpoint"), 0));
	CHECK_EQ_INT(run(&trusted, &r), LACRE_E_VERIFY);
	CHECK(has(AUDIT_MISSING, "checkpoint"));
	CHECK_OK(lacre_store_faulty_clear(faulty, 0, NULL));
}

static void test_extra_and_reorder(void)
{
	struct audit_result r;
	struct lacre_dbuf b;
	uint8_t tmp[34];

	CHECK_OK(lacre_store_put_if_absent(inner, full("tile/0/004"), "x", 1));
	CHECK_OK(lacre_store_put_if_absent(inner, full("junk"), "x", 1));
	CHECK_EQ_INT(run(&trusted, &r), LACRE_E_VERIFY);
	CHECK(has(AUDIT_EXTRA, "tile/0/004"));
	CHECK(has(AUDIT_EXTRA, "junk"));
	CHECK_OK(lacre_store_del(inner, full("tile/0/004")));
	CHECK_OK(lacre_store_del(inner, full("junk")));
	/* swap entries 3 and 4 of bundle 1 */
	lacre_dbuf_init(&b, 1 << 20);
	CHECK_OK(lacre_store_get(inner, full("tile/entries/001"), 0, SIZE_MAX, &b));
	CHECK_EQ_INT(b.len, 256 * 34);
	memcpy(tmp, b.p + 3 * 34, 34);
	memcpy(b.p + 3 * 34, b.p + 4 * 34, 34);
	memcpy(b.p + 4 * 34, tmp, 34);
	CHECK_OK(lacre_store_put_replace(inner, full("tile/entries/001"), b.p, b.len));
	CHECK_EQ_INT(run(&trusted, &r), LACRE_E_VERIFY);
	CHECK(has(AUDIT_REORDERED, "tile/entries/001"));
	CHECK(!has(AUDIT_REORDERED, "tile/0/001"));
	memcpy(tmp, b.p + 3 * 34, 34);
	memcpy(b.p + 3 * 34, b.p + 4 * 34, 34);
	memcpy(b.p + 4 * 34, tmp, 34);
	CHECK_OK(lacre_store_put_replace(inner, full("tile/entries/001"), b.p, b.len));
	lacre_dbuf_free(&b);
	CHECK_EQ_INT(run(&trusted, &r), LACRE_E_VERIFY);
	CHECK_EQ_INT(seen.n, 1);
}

static void test_fork(void)
{
	struct audit_result r;
	struct lacre_dbuf body, note;
	uint8_t root[32];

	memset(root, 0x5a, sizeof(root));
	lacre_dbuf_init(&body, 1024);
	lacre_dbuf_init(&note, NOTE_MAX_SIZE);
	CHECK_OK(checkpoint_format(ORIGIN, 1000, root, &body));
	CHECK_OK(note_sign(key, body.p, body.len, &note));
	CHECK_EQ_INT(run(&note, &r), LACRE_E_FORK);
	CHECK(has(AUDIT_FORK, "checkpoint"));
	/* a smaller trusted checkpoint that is not a prefix */
	lacre_dbuf_reset(&body);
	lacre_dbuf_reset(&note);
	CHECK_OK(checkpoint_format(ORIGIN, 500, root, &body));
	CHECK_OK(note_sign(key, body.p, body.len, &note));
	CHECK_EQ_INT(run(&note, &r), LACRE_E_FORK);
	CHECK(has(AUDIT_FORK, "checkpoint"));
	lacre_dbuf_free(&body);
	lacre_dbuf_free(&note);
}

/* A segment object on the backend that no "segment closed" entry names
 * (uploaded, then the crash cut the log back): one AUDIT_UNLOGGED finding
 * with its size; the logged ones are not reported; without a prefix (or
 * for a log that names no segment, with auto) nothing is listed. */
static void test_unlogged(void)
{
	static const uint8_t body[100] = { 1 };
	struct audit_result r;

	CHECK_OK(lacre_store_put_if_absent(inner, "seg/good", body, sizeof(body)));
	CHECK_OK(lacre_store_put_if_absent(inner, "seg/bad", body, sizeof(body)));
	CHECK_OK(lacre_store_put_if_absent(inner, "seg/stray", body, 77));
	seg_prefix = "seg/";
	seg_auto = 1;
	CHECK_EQ_INT(run(&trusted, &r), LACRE_E_VERIFY);
	CHECK_EQ_INT(seen.n, 2);
	CHECK(has(AUDIT_SEGMENT, "seg/bad"));
	CHECK(has(AUDIT_UNLOGGED, "seg/stray"));
	CHECK_EQ_INT(r.unlogged, 1);
	CHECK_EQ_INT(r.by_kind[AUDIT_UNLOGGED], 1);
	for (size_t i = 0; i < seen.n; i++)
		if (seen.kind[i] == AUDIT_UNLOGGED)
			CHECK_STR(seen.msg[i], "seg/stray: on the backend (77 bytes) but named by no "
				     "segment entry of the log of size 1000: its records are in no "
				     "signed checkpoint");
	CHECK_STR(audit_kind_name(AUDIT_UNLOGGED), "unlogged");
	seg_prefix = NULL;
	CHECK_EQ_INT(run(&trusted, &r), LACRE_E_VERIFY);
	CHECK_EQ_INT(seen.n, 1);
	CHECK_EQ_INT(r.unlogged, 0);
	CHECK_OK(lacre_store_del(inner, "seg/stray"));
	seg_prefix = "seg/";
	CHECK_EQ_INT(run(&trusted, &r), LACRE_E_VERIFY);
	CHECK_EQ_INT(seen.n, 1);   /* seg/bad's fingerprint only */
	CHECK_EQ_INT(r.unlogged, 0);
	seg_prefix = NULL;
	seg_auto = 0;
}

static void test_teardown(void)
{
	lacre_store_close(faulty);
	lacre_store_close(inner);
	note_signer_free(key);
	lacre_dbuf_free(&trusted);
	lacre_dbuf_free(&older);
}

int main(void)
{
	RUN(test_setup);
	RUN(test_clean);
	RUN(test_flip_tile);
	RUN(test_flip_bundle);
	RUN(test_hidden_tile);
	RUN(test_older_partial);
	RUN(test_stale_checkpoint);
	RUN(test_bad_checkpoint);
	RUN(test_extra_and_reorder);
	RUN(test_fork);
	RUN(test_unlogged);
	RUN(test_teardown);
	return t_done();
}

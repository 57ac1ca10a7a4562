/*
 * test_signer.c - the log signer (lib/ledger/signer*.c, docs/ledger.md
 * "The log signer"): growth with a good consistency proof is signed and
 * the note verifies with the log's vkey; a rollback, a fork, a bad proof,
 * a proof from a stale size and another origin are refused with their
 * reason and exit code, change nothing, and forks/rollbacks/bad proofs
 * are recorded; the state survives a restart; every truncation and a
 * garbled byte of a request are refused as malformed; a receiver's key
 * and last checkpoint are moved in; a tlog signing through the signer
 * (the receiver's seam) grows across tile boundaries and resumes after an
 * answer lost in a crash instead of forking.
 */
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "lacre/err.h"
#include "lacre/merkle.h"
#include "lacre/note.h"
#include "lacre/signer.h"
#include "lacre/store.h"
#include "lacre/tlog.h"

/* The fuzz harness, replayed on its seed corpus (test_fuzz_corpus):
 * FUZZ_FAIL names the seed and the broken invariant and leaves it. */
static jmp_buf fz_jmp;
static unsigned fz_failures;
static void fz_fail(const char *file, int line, const char *what)
{
	fprintf(stderr, "%s:%d: invariant broken: %s\n", file, line, what);
	fz_failures++;
	longjmp(fz_jmp, 1);
}
#define FUZZ_FAIL(what) fz_fail(__FILE__, __LINE__, (what))
#define LLVMFuzzerTestOneInput fuzz_signer_one
#include "../../fuzz/fuzz_signer.c"
#undef LLVMFuzzerTestOneInput

#define ORIGIN "lacre/test/ingest"
#define NLEAVES 64

static uint8_t leaves[NLEAVES][MERKLE_HASH_LEN];

/* Leaf hashes of entries 0..NLEAVES-1. */
static void make_leaves(void)
{
	for (uint64_t i = 0; i < NLEAVES; i++) {
		uint8_t e[8];
		for (int j = 0; j < 8; j++)
			e[j] = (uint8_t)(i >> (8 * j));
		merkle_leaf_hash(e, sizeof(e), leaves[i]);
	}
}

/* Root of the first n leaves. */
static void root_of(uint64_t n, uint8_t out[MERKLE_HASH_LEN])
{
	struct merkle_leaves ml = { (const uint8_t (*)[MERKLE_HASH_LEN])leaves, NLEAVES };
	merkle_root(n, merkle_leaves_node, &ml, out);
}

/* A sign request from old to size over the test leaves (good proof). */
static void req_grow(struct signer_request *rq, uint64_t old, uint64_t size)
{
	struct merkle_leaves ml = { (const uint8_t (*)[MERKLE_HASH_LEN])leaves, NLEAVES };

	memset(rq, 0, sizeof(*rq));
	rq->type = SIGNER_REQ_SIGN;
	snprintf(rq->origin, sizeof(rq->origin), "%s", ORIGIN);
	rq->old_size = old;
	rq->size = size;
	root_of(size, rq->root);
	merkle_prove_consistency(old, size, merkle_leaves_node, &ml, &rq->proof);
}

/* Send rq to the core; the answer parsed into *an (its bytes in ans). */
static int ask(struct signer *s, const struct signer_request *rq, struct lacre_dbuf *ans,
	       struct signer_answer *an)
{
	struct lacre_dbuf req;
	int rc, prc;

	lacre_dbuf_init(&req, SIGNER_MSG_MAX + 1);
	lacre_dbuf_reset(ans);
	signer_request_encode(rq, &req);
	rc = signer_handle(s, req.p, req.len, ans, NULL, 0);
	lacre_dbuf_free(&req);
	prc = signer_answer_parse(ans->p, ans->len, an);
	return prc != LACRE_OK ? LACRE_E_INTERNAL : rc;
}

/* Open a signer on dir (a new key named ORIGIN when there is none). */
static int open_at(const char *dir, struct signer **s)
{
	struct signer_config cfg = { dir, ORIGIN, NULL, NULL };
	char msg[512];
	int rc = signer_open(&cfg, s, msg, sizeof(msg));

	if (rc != LACRE_OK)
		fprintf(stderr, "signer_open: %s\n", msg);
	return rc;
}

/* Lines in DIR/refusals. */
static int refusal_lines(const char *dir)
{
	char path[700], buf[8192];
	int fd, n = 0;
	ssize_t got;

	snprintf(path, sizeof(path), "%s/refusals", dir);
	if ((fd = open(path, O_RDONLY)) < 0)
		return 0;
	got = read(fd, buf, sizeof(buf));
	close(fd);
	for (ssize_t i = 0; i < got; i++)
		n += buf[i] == '\n';
	return n;
}

/* The rules, one after another, and the state across a restart. */
static void test_rules(void)
{
	char dir[600];
	struct signer *s = NULL;
	struct signer_request rq;
	struct signer_answer an;
	struct lacre_dbuf ans;
	struct note_verifier vk;
	struct checkpoint cp;
	uint8_t r9[MERKLE_HASH_LEN], got[MERKLE_HASH_LEN];

	make_leaves();
	lacre_dbuf_init(&ans, SIGNER_MSG_MAX + 1);
	snprintf(dir, sizeof(dir), "%s/signer", t_tmpdir());
	CHECK_OK(open_at(dir, &s));
	CHECK_STR(signer_origin(s), ORIGIN);
	CHECK_EQ_INT(signer_size(s), 0);
	signer_public(s, &vk);

	/* first growth: 0 -> 5 (no proof needed from the empty tree) */
	req_grow(&rq, 0, 5);
	CHECK_OK(ask(s, &rq, &ans, &an));
	CHECK(an.ok);
	CHECK_OK(checkpoint_open(an.text, an.text_len, &vk, NULL, 0, &cp, NULL));
	CHECK_EQ_INT(cp.size, 5);
	CHECK_MEM(cp.root, rq.root, MERKLE_HASH_LEN);
	/* growth with a good proof: 5 -> 9 */
	req_grow(&rq, 5, 9);
	CHECK(rq.proof.n > 0);
	CHECK_OK(ask(s, &rq, &ans, &an));
	CHECK(an.ok);
	CHECK_EQ_INT(signer_size(s), 9);
	memcpy(r9, rq.root, MERKLE_HASH_LEN);
	/* the same checkpoint again: signed again, nothing changes */
	CHECK_OK(ask(s, &rq, &ans, &an));
	CHECK(an.ok);
	CHECK_EQ_INT(signer_size(s), 9);

	/* rollback */
	req_grow(&rq, 0, 7);
	CHECK_EQ_INT(ask(s, &rq, &ans, &an), LACRE_E_ROLLBACK);
	CHECK(!an.ok);
	CHECK_EQ_INT(an.reason, SIGNER_R_ROLLBACK);
	CHECK_EQ_INT(an.signed_size, 9);
	/* fork: size 9, another root */
	req_grow(&rq, 5, 9);
	rq.root[0] ^= 1;
	CHECK_EQ_INT(ask(s, &rq, &ans, &an), LACRE_E_FORK);
	CHECK_EQ_INT(an.reason, SIGNER_R_FORK);
	/* bad proof: one proof hash changed */
	req_grow(&rq, 9, 20);
	rq.proof.h[0][5] ^= 0x80;
	CHECK_EQ_INT(ask(s, &rq, &ans, &an), LACRE_E_VERIFY);
	CHECK_EQ_INT(an.reason, SIGNER_R_PROOF);
	/* a good proof for another tree: the root is not 9's extension */
	req_grow(&rq, 9, 20);
	rq.root[31] ^= 1;
	CHECK_EQ_INT(ask(s, &rq, &ans, &an), LACRE_E_VERIFY);
	/* a proof from another size than the last signed one */
	req_grow(&rq, 5, 20);
	CHECK_EQ_INT(ask(s, &rq, &ans, &an), LACRE_E_STATE);
	CHECK_EQ_INT(an.reason, SIGNER_R_STALE);
	/* another log */
	req_grow(&rq, 9, 20);
	snprintf(rq.origin, sizeof(rq.origin), "lacre/other/ingest");
	CHECK_EQ_INT(ask(s, &rq, &ans, &an), LACRE_E_CONFIG);
	CHECK_EQ_INT(an.reason, SIGNER_R_ORIGIN);
	/* nothing of that moved the state; three were recorded */
	CHECK_EQ_INT(signer_size(s), 9);
	signer_root(s, got);
	CHECK_MEM(got, r9, MERKLE_HASH_LEN);
	CHECK_EQ_INT(refusal_lines(dir), 4);

	/* a restart keeps (9, root): a rollback is still refused, growth from
	 * 9 is still signed */
	signer_close(s);
	s = NULL;
	CHECK_OK(open_at(dir, &s));
	CHECK_EQ_INT(signer_size(s), 9);
	signer_root(s, got);
	CHECK_MEM(got, r9, MERKLE_HASH_LEN);
	req_grow(&rq, 0, 8);
	CHECK_EQ_INT(ask(s, &rq, &ans, &an), LACRE_E_ROLLBACK);
	req_grow(&rq, 9, 33);
	CHECK_OK(ask(s, &rq, &ans, &an));
	CHECK_EQ_INT(signer_size(s), 33);
	/* the key answer is the vkey */
	memset(&rq, 0, sizeof(rq));
	rq.type = SIGNER_REQ_KEY;
	CHECK_OK(ask(s, &rq, &ans, &an));
	CHECK(an.ok);
	{
		struct note_verifier k2;
		CHECK_OK(note_verifier_parse((const char *)an.text, an.text_len, &k2));
		CHECK_MEM(&k2, &vk, sizeof(vk));
	}
	signer_close(s);
	lacre_dbuf_free(&ans);
}

/* Every truncation of a good request, a byte too many, another magic, an
 * unknown type, 65 proof hashes and an empty origin: refused as malformed,
 * the state untouched. */
static void test_malformed(void)
{
	char dir[600];
	struct signer *s = NULL;
	struct signer_request rq;
	struct signer_answer an;
	struct lacre_dbuf req, ans;
	int rc;

	make_leaves();
	lacre_dbuf_init(&req, SIGNER_MSG_MAX + 1);
	lacre_dbuf_init(&ans, SIGNER_MSG_MAX + 1);
	snprintf(dir, sizeof(dir), "%s/signer", t_tmpdir());
	CHECK_OK(open_at(dir, &s));
	req_grow(&rq, 0, 6);
	CHECK_OK(signer_request_encode(&rq, &req));
	for (size_t n = 0; n < req.len; n++) {
		lacre_dbuf_reset(&ans);
		rc = signer_handle(s, req.p, n, &ans, NULL, 0);
		CHECK_EQ_INT(rc, LACRE_E_MALFORMED);
		CHECK_OK(signer_answer_parse(ans.p, ans.len, &an));
		CHECK(!an.ok);
		CHECK_EQ_INT(an.reason, SIGNER_R_MALFORMED);
	}
	lacre_dbuf_add_u8(&req, 0);
	lacre_dbuf_reset(&ans);
	CHECK_EQ_INT(signer_handle(s, req.p, req.len, &ans, NULL, 0), LACRE_E_MALFORMED);
	req.len--;
	req.p[0] = 'X';
	lacre_dbuf_reset(&ans);
	CHECK_EQ_INT(signer_handle(s, req.p, req.len, &ans, NULL, 0), LACRE_E_MALFORMED);
	req.p[0] = 'L';
	req.p[4] = 9;                         /* type */
	lacre_dbuf_reset(&ans);
	CHECK_EQ_INT(signer_handle(s, req.p, req.len, &ans, NULL, 0), LACRE_E_MALFORMED);
	req.p[4] = SIGNER_REQ_SIGN;
	req.p[5] = 0;                         /* origin length 0 */
	lacre_dbuf_reset(&ans);
	CHECK_EQ_INT(signer_handle(s, req.p, req.len, &ans, NULL, 0), LACRE_E_MALFORMED);
	/* 65 proof hashes */
	lacre_dbuf_reset(&req);
	req_grow(&rq, 0, 6);
	rq.proof.n = 0;
	CHECK_OK(signer_request_encode(&rq, &req));
	req.p[req.len - 1] = 65;
	for (int i = 0; i < 65; i++)
		lacre_dbuf_add(&req, leaves[0], MERKLE_HASH_LEN);
	CHECK_EQ_INT(signer_request_parse(req.p, req.len, &rq), LACRE_E_MALFORMED);
	CHECK_EQ_INT(signer_size(s), 0);
	/* and the good request still signs */
	lacre_dbuf_reset(&req);
	req_grow(&rq, 0, 6);
	CHECK_OK(signer_request_encode(&rq, &req));
	lacre_dbuf_reset(&ans);
	CHECK_OK(signer_handle(s, req.p, req.len, &ans, NULL, 0));
	CHECK_EQ_INT(signer_size(s), 6);
	signer_close(s);
	lacre_dbuf_free(&req);
	lacre_dbuf_free(&ans);
}

/* A folder others may write, a second signer on the same folder, and a
 * damaged state are refused at open. */
static void test_open_refusals(void)
{
	char dir[600], path[700];
	struct signer *s = NULL, *s2 = NULL;
	FILE *f;

	snprintf(dir, sizeof(dir), "%s/signer", t_tmpdir());
	CHECK_OK(open_at(dir, &s));
	CHECK_EQ_INT(open_at(dir, &s2), LACRE_E_STATE);
	signer_close(s);
	s = NULL;
	CHECK_OK(chmod(dir, 0777));
	CHECK_EQ_INT(open_at(dir, &s), LACRE_E_CONFIG);
	CHECK_OK(chmod(dir, 0700));
	snprintf(path, sizeof(path), "%s/state", dir);
	CHECK((f = fopen(path, "w")) != NULL);
	fputs("lacre-signer-state v1\norigin " ORIGIN "\nsize 12\nroot !!\n", f);
	fclose(f);
	CHECK_EQ_INT(open_at(dir, &s), LACRE_E_CORRUPT);
}

/* The receiver's seam: a tlog whose sign callback goes to the signer's
 * core through the protocol, as lacre-signer would answer. */
struct direct {
	struct signer *s;
	int lose_answer;            /* sign, then report the answer lost */
	uint64_t asked, stale;
};

static int direct_sign(void *arg, const struct tlog_sign_request *t, struct lacre_dbuf *note)
{
	struct direct *d = arg;
	struct signer_request rq;
	struct signer_answer an;
	struct lacre_dbuf ans;
	int rc;

	memset(&rq, 0, sizeof(rq));
	rq.type = SIGNER_REQ_SIGN;
	snprintf(rq.origin, sizeof(rq.origin), "%s", t->origin);
	rq.old_size = t->old_size;
	rq.size = t->size;
	memcpy(rq.root, t->root, MERKLE_HASH_LEN);
	rq.proof = *t->proof;
	lacre_dbuf_init(&ans, SIGNER_MSG_MAX + 1);
	d->asked++;
	rc = ask(d->s, &rq, &ans, &an);
	if (rc == LACRE_OK && d->lose_answer)
		rc = LACRE_E_UNAVAILABLE;
	if (rc == LACRE_E_STATE && t->stale_size) {
		d->stale++;
		*t->stale_size = an.signed_size;
	}
	if (rc == LACRE_OK)
		rc = lacre_dbuf_add(note, an.text, an.text_len);
	lacre_dbuf_free(&ans);
	return rc;
}

/* Append n entries tagged with base. */
static int append_n(struct tlog *log, uint64_t base, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++) {
		uint8_t e[32];
		uint64_t v = base + i;
		merkle_sha256(&v, sizeof(v), e);
		int rc = tlog_append(log, e, 32, NULL);
		if (rc != LACRE_OK)
			return rc;
	}
	return LACRE_OK;
}

/* Growth across tile boundaries (every proof checked by the signer), and
 * a crash that lost the signer's answer: the reopened log resumes the
 * very tree the signer signed, then goes on. */
static void test_tlog_seam(void)
{
	char tmp[600];
	char spec[700], sdir[700], ldir[700];
	struct lacre_store *st = NULL;
	struct tlog *log = NULL;
	struct direct d = { 0 };
	struct tlog_signer sg;
	struct lacre_dbuf note;
	struct checkpoint cp;
	static const uint64_t steps[] = { 1, 2, 253, 1, 255, 256, 300, 700, 1, 70000 };
	uint64_t total = 0, base = 0;

	snprintf(tmp, sizeof(tmp), "%s", t_tmpdir());
	snprintf(spec, sizeof(spec), "dir:%s/store", tmp);
	snprintf(sdir, sizeof(sdir), "%s/signer", tmp);
	snprintf(ldir, sizeof(ldir), "%s/log", tmp);
	lacre_dbuf_init(&note, NOTE_MAX_SIZE);
	CHECK_OK(lacre_store_open(spec, &st));
	CHECK_OK(open_at(sdir, &d.s));
	memset(&sg, 0, sizeof(sg));
	signer_public(d.s, &sg.key);
	sg.sign = direct_sign;
	sg.arg = &d;
	CHECK_OK(tlog_open_signer(st, ldir, ORIGIN, &sg, &log));
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		CHECK_OK(append_n(log, base, steps[i]));
		base += steps[i];
		total += steps[i];
		lacre_dbuf_reset(&note);
		CHECK_OK(tlog_checkpoint(log, &note));
		CHECK_EQ_INT(tlog_signed_size(log), total);
		CHECK_EQ_INT(signer_size(d.s), total);
		CHECK_OK(checkpoint_open(note.p, note.len, &sg.key, NULL, 0, &cp, NULL));
		CHECK_EQ_INT(cp.size, total);
	}
	/* an answer lost while running (a timeout): the signer moved on; the
	 * next checkpoint is refused as stale, proved from the signer's size
	 * and signed */
	CHECK_OK(append_n(log, base, 40));
	base += 40;
	d.lose_answer = 1;
	CHECK(tlog_checkpoint(log, NULL) != LACRE_OK);
	CHECK_EQ_INT(signer_size(d.s), total + 40);
	d.lose_answer = 0;
	CHECK_OK(append_n(log, base, 3));
	base += 3;
	CHECK_OK(tlog_checkpoint(log, NULL));
	CHECK_EQ_INT(d.stale, 1);
	total += 43;
	CHECK_EQ_INT(tlog_signed_size(log), total);
	CHECK_EQ_INT(signer_size(d.s), total);
	/* the answer is lost and the receiver crashes: the signer moved on,
	 * the log did not */
	CHECK_OK(append_n(log, base, 77));
	base += 77;
	d.lose_answer = 1;
	CHECK(tlog_checkpoint(log, NULL) != LACRE_OK);
	CHECK_EQ_INT(signer_size(d.s), total + 77);
	CHECK_EQ_INT(tlog_signed_size(log), total);
	tlog_close(log);             /* the crash */
	log = NULL;
	d.lose_answer = 0;
	CHECK_OK(tlog_open_signer(st, ldir, ORIGIN, &sg, &log));
	CHECK_EQ_INT(tlog_size(log), total + 77);
	/* new entries before the first checkpoint, as recovery appends them:
	 * the resumed tree is signed first, then the growth */
	CHECK_OK(append_n(log, base + 1000000, 5));
	CHECK_OK(tlog_checkpoint(log, NULL));
	CHECK_EQ_INT(tlog_signed_size(log), total + 82);
	CHECK_EQ_INT(signer_size(d.s), total + 82);
	tlog_close(log);
	signer_close(d.s);
	lacre_store_close(st);
	lacre_dbuf_free(&note);
}

/* First start on a site that signed in-process: the key and the last
 * checkpoint are moved in; the log goes on under the signer. */
static void test_move_legacy(void)
{
	char tmp[600];
	char spec[1400], sdir[700], ldir[700], lkey[700], lstate[700], msg[512];
	struct lacre_store *st = NULL;
	struct note_signer *key = NULL;
	struct tlog *log = NULL;
	struct direct d = { 0 };
	struct tlog_signer sg;
	struct lacre_dbuf txt;
	struct stat sb;
	struct note_verifier v1;
	int fd;

	snprintf(tmp, sizeof(tmp), "%s", t_tmpdir());
	snprintf(spec, sizeof(spec), "dir:%s/store", tmp);
	snprintf(sdir, sizeof(sdir), "%s/signer", tmp);
	snprintf(ldir, sizeof(ldir), "%s/log", tmp);
	snprintf(lkey, sizeof(lkey), "%s/ingest.key", tmp);
	snprintf(lstate, sizeof(lstate), "%s/log/state", tmp);
	CHECK_OK(lacre_store_open(spec, &st));
	CHECK_OK(note_signer_generate(ORIGIN, NOTE_TYPE_ED25519, &key));
	note_signer_public(key, &v1);
	lacre_dbuf_init(&txt, 4096);
	lacre_dbuf_set_secret(&txt);
	CHECK_OK(note_signer_format(key, &txt));
	CHECK((fd = open(lkey, O_WRONLY | O_CREAT | O_EXCL, 0600)) >= 0);
	CHECK(write(fd, txt.p, txt.len) == (ssize_t)txt.len);
	close(fd);
	lacre_dbuf_free(&txt);
	/* the receiver signs 300 entries in-process */
	CHECK_OK(tlog_open(st, ldir, ORIGIN, key, &log));
	CHECK_OK(append_n(log, 0, 300));
	CHECK_OK(tlog_checkpoint(log, NULL));
	tlog_close(log);
	log = NULL;
	note_signer_free(key);
	/* the signer's first start moves it */
	{
		struct signer_config cfg = { sdir, NULL, lkey, lstate };
		CHECK_OK(signer_open(&cfg, &d.s, msg, sizeof(msg)));
	}
	CHECK(access(lkey, F_OK) != 0);
	snprintf(spec, sizeof(spec), "%s/ingest.key", sdir);
	CHECK_OK(stat(spec, &sb));
	CHECK_EQ_INT(sb.st_mode & 0777, 0600);
	CHECK_EQ_INT(signer_size(d.s), 300);
	memset(&sg, 0, sizeof(sg));
	signer_public(d.s, &sg.key);
	CHECK_MEM(&sg.key, &v1, sizeof(v1));
	sg.sign = direct_sign;
	sg.arg = &d;
	CHECK_OK(tlog_open_signer(st, ldir, ORIGIN, &sg, &log));
	CHECK_OK(append_n(log, 300, 10));
	CHECK_OK(tlog_checkpoint(log, NULL));
	CHECK_EQ_INT(signer_size(d.s), 310);
	tlog_close(log);
	signer_close(d.s);
	lacre_store_close(st);
}

/* Every seed of fuzz/corpus/signer through the harness: no invariant
 * breaks, and the seeds reach what they were made for (two signatures,
 * refusals, requests that parse). */
static void test_fuzz_corpus(void)
{
	char dir[1200], path[1500];
	struct dirent *e;
	DIR *d;
	volatile unsigned n = 0;

	snprintf(dir, sizeof(dir), "%s/fuzz/corpus/signer", t_topdir());
	CHECK((d = opendir(dir)) != NULL);
	while ((e = readdir(d)) != NULL) {
		uint8_t buf[SIGNER_MSG_MAX + 16];
		FILE *f;
		size_t len;
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if ((f = fopen(path, "rb")) == NULL)
			continue;
		len = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		if (setjmp(fz_jmp) == 0)
			fuzz_signer_one(buf, len);
		else
			fprintf(stderr, "  (seed %s)\n", e->d_name);
		n++;
	}
	closedir(d);
	fz_s_cleanup();
	CHECK(n >= 10);
	CHECK_EQ_INT(fz_failures, 0);
	CHECK(fz_s_signed >= 2);
	CHECK(fz_s_refused >= 7);
	CHECK(fz_s_parsed >= 8);
}

int main(void)
{
	RUN(test_fuzz_corpus);
	RUN(test_rules);
	RUN(test_malformed);
	RUN(test_open_refusals);
	RUN(test_tlog_seam);
	RUN(test_move_legacy);
	return t_done();
}

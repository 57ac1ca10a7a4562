/*
 * test_site_audit.c - the site audit beyond the log itself
 * (lib/ledger/site_audit.c): a segment object that no entry names, and
 * every kind of spool leftover, each one finding with its exact line; the
 * clean site gives LACRE_OK; a running ingest (the log's lock held) turns
 * its work in progress into counts; hostile spool files (a manifest of
 * binary junk and huge numbers, a batch file claiming 2^64 entries) are
 * read within their caps.  The site is a bare folder with a real ingest log
 * (tlog) on a dir: backend; segments are checked for presence and size only
 * (fingerprints off), so any bytes of the right size stand for one.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "lacre/err.h"
#include "lacre/note.h"
#include "lacre/site.h"
#include "lacre/site_audit.h"
#include "lacre/store.h"
#include "lacre/tlog.h"

#define SEG_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define SEG_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define SEG_X "cccccccccccccccccccccccccccccccc"
#define SEG_SIZE 100
#define MAXF 32

static struct site site;
static struct lacre_store *store;
static struct note_signer *key;
static char spool[SITE_PATH_MAX + 64];

struct seen {
	size_t n;
	enum audit_kind kind[MAXF];
	char msg[MAXF][700];
};
static struct seen seen;

static void on_finding(void *arg, const struct audit_finding *f)
{
	struct seen *s = arg;

	printf("#   %s %s\n", audit_kind_name(f->kind), f->message);
	if (s->n == MAXF)
		return;
	s->kind[s->n] = f->kind;
	snprintf(s->msg[s->n], sizeof(s->msg[0]), "%s", f->message);
	s->n++;
}

/* Whether exactly this line (kind and message) was reported. */
static int has(enum audit_kind k, const char *msg)
{
	for (size_t i = 0; i < seen.n; i++)
		if (seen.kind[i] == k && !strcmp(seen.msg[i], msg))
			return 1;
	return 0;
}

static int run(struct site_audit_result *res)
{
	struct site_audit_opts o;

	memset(&o, 0, sizeof(o));
	memset(&seen, 0, sizeof(seen));
	o.report = on_finding;
	o.arg = &seen;
	return site_audit_run(&site, store, &o, res);
}

/* Write n bytes (byte b) or the text s to SPOOL/rel. */
static void put(const char *rel, const char *s, size_t n)
{
	char path[sizeof(spool) + 64];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", spool, rel);
	f = fopen(path, "wb");
	if (!f)
		return;
	if (s)
		fwrite(s, 1, n ? n : strlen(s), f);
	else
		for (size_t i = 0; i < n; i++)
			fputc(0x5a, f);
	fclose(f);
}

static void rm(const char *rel)
{
	char path[sizeof(spool) + 64];

	snprintf(path, sizeof(path), "%s/%s", spool, rel);
	unlink(path);
}

/* A site "unit" with an ingest log of 2 batches (3 leaves + seg/A, 2
 * leaves + seg/B), both segments on the backend. */
static void test_setup(void)
{
	char path[SITE_PATH_MAX + 64], spec[SITE_PATH_MAX + 64];
	uint8_t seed[32], e[32], body[SEG_SIZE];
	struct tlog *log = NULL;
	struct note_verifier v;
	struct lacre_dbuf b;
	FILE *f;

	memset(&site, 0, sizeof(site));
	snprintf(site.dir, sizeof(site.dir), "%s", t_tmpdir());
	snprintf(site.cfg.name, sizeof(site.cfg.name), "unit");
	snprintf(site.cfg.spool_dir, sizeof(site.cfg.spool_dir), "%.900s/spool", site.dir);
	snprintf(spool, sizeof(spool), "%s", site.cfg.spool_dir);
	CHECK(mkdir(spool, 0700) == 0);
	snprintf(path, sizeof(path), "%s/ledger", site.dir);
	CHECK(mkdir(path, 0700) == 0);
	snprintf(spec, sizeof(spec), "dir:%s/objects", site.dir);
	CHECK_OK(lacre_store_open(spec, &store));
	memset(seed, 7, sizeof(seed));
	CHECK_OK(note_signer_from_seed("lacre/unit/ingest", NOTE_TYPE_ED25519, seed, &key));
	snprintf(path, sizeof(path), "%s/ledger/ingest", site.dir);
	CHECK_OK(tlog_open(store, path, "lacre/unit/ingest", key, &log));
	lacre_dbuf_init(&b, 1024);
	for (int i = 0; i < 7; i++) {
		if (i == 3 || i == 6) {
			struct tlog_segment s;
			memset(&s, 0, sizeof(s));
			snprintf(s.name, sizeof(s.name), "seg/%s", i == 3 ? SEG_A : SEG_B);
			s.size = SEG_SIZE;
			s.fp_len = 32;
			lacre_dbuf_reset(&b);
			CHECK_OK(tlog_segment_encode(&s, &b));
			CHECK_OK(tlog_append(log, b.p, b.len, NULL));
			continue;
		}
		memset(e, i + 1, sizeof(e));
		CHECK_OK(tlog_append(log, e, 32, NULL));
	}
	CHECK_OK(tlog_checkpoint(log, NULL));
	tlog_close(log);
	memset(body, 1, sizeof(body));
	CHECK_OK(lacre_store_put_if_absent(store, "seg/" SEG_A, body, sizeof(body)));
	CHECK_OK(lacre_store_put_if_absent(store, "seg/" SEG_B, body, sizeof(body)));
	note_signer_public(key, &v);
	lacre_dbuf_reset(&b);
	CHECK_OK(note_verifier_format(&v, &b));
	snprintf(path, sizeof(path), "%s/ledger/ingest/vkey", site.dir);
	CHECK((f = fopen(path, "w")) != NULL);
	fwrite(b.p, 1, b.len, f);
	fputc('\n', f);
	fclose(f);
	lacre_dbuf_free(&b);
}

static void test_clean(void)
{
	struct site_audit_result r;

	CHECK_OK(run(&r));
	CHECK_EQ_INT(seen.n, 0);
	CHECK_EQ_INT(r.log_size, 7);
	CHECK_EQ_INT(r.segments, 2);
	CHECK_EQ_INT(r.findings, 0);
	CHECK_EQ_INT(r.ingest_running, 0);
	CHECK(site_audit_segment_name(SEG_A));
	CHECK(!site_audit_segment_name("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
	CHECK(!site_audit_segment_name(SEG_A "a"));
}

/* A segment on the backend no entry names; a logged one waiting in the
 * spool instead of the backend. */
static void test_unlogged_and_pending(void)
{
	struct site_audit_result r;
	uint8_t body[77] = { 0 };
	char path[sizeof(spool) + 64];

	CHECK_OK(lacre_store_put_if_absent(store, "seg/" SEG_X, body, sizeof(body)));
	CHECK_EQ_INT(run(&r), LACRE_E_VERIFY);
	CHECK_EQ_INT(seen.n, 1);
	CHECK(has(AUDIT_UNLOGGED, "seg/" SEG_X ": on the backend (77 bytes) but named by no segment "
		  "entry of the log of size 7: its records are in no signed checkpoint"));
	CHECK_EQ_INT(r.unlogged, 1);
	CHECK_OK(lacre_store_del(store, "seg/" SEG_X));
	/* seg/B not uploaded yet: in SPOOL/ready, counted as pending */
	CHECK_OK(lacre_store_del(store, "seg/" SEG_B));
	snprintf(path, sizeof(path), "%s/ready", spool);
	CHECK(mkdir(path, 0700) == 0);
	put("ready/" SEG_B, NULL, SEG_SIZE);
	CHECK_OK(run(&r));
	CHECK_EQ_INT(r.pending, 1);
	CHECK_EQ_INT(r.missing, 0);
	rm("ready/" SEG_B);
	CHECK_EQ_INT(run(&r), LACRE_E_VERIFY);
	CHECK_EQ_INT(r.missing, 1);
	{
		uint8_t body2[SEG_SIZE];
		memset(body2, 1, sizeof(body2));
		CHECK_OK(lacre_store_put_if_absent(store, "seg/" SEG_B, body2, sizeof(body2)));
	}
	CHECK_OK(run(&r));
}

/* Spool leftovers, one exact line each; while the log's lock is held
 * (ingest running) the work in progress is counted instead. */
static void test_spool(void)
{
	static const char man[] = "lacre-open-segment v1 " SEG_X "\n"
				  "2 4c49494430303031 7 5 9 5\n1 - - 1 1 1\nother 2\n";
	struct site_audit_result r;
	char path[SITE_PATH_MAX + 64];
	int fd;

	put("TMP." SEG_X, NULL, 1000);
	put(SEG_X ".streams", man, 0);
	CHECK_EQ_INT(run(&r), LACRE_E_VERIFY);
	CHECK_EQ_INT(seen.n, 2);
	CHECK(has(AUDIT_SPOOL, "spool/TMP." SEG_X ": an open segment left by a crash (1000 bytes): its "
		  "records were never closed into a segment nor logged, they are lost (ingest names them "
		  "at its next start); its streams are listed in spool/" SEG_X ".streams"));
	CHECK(has(AUDIT_SPOOL, "spool/" SEG_X ".streams: loss report of open segment " SEG_X ", cut off "
		  "by a crash: 8 records of 2 streams lost, not yet named in the ledger (ingest names them "
		  "at its next start): cc LIID0001 cin 7 seq 5..9 (5); iri liid - seq 1..1 (1); 2 records "
		  "of other streams"));
	CHECK_EQ_INT(r.spool_lost, 2);
	/* ingest running: the open segment and its manifest are its own */
	snprintf(path, sizeof(path), "%s/ledger/ingest/lock", site.dir);
	CHECK((fd = open(path, O_RDWR | O_CLOEXEC)) >= 0);
	CHECK(flock(fd, LOCK_EX | LOCK_NB) == 0);
	CHECK_EQ_INT(site_audit_ingest_running(&site), 1);
	CHECK_OK(run(&r));
	CHECK_EQ_INT(r.ingest_running, 1);
	CHECK_EQ_INT(r.spool_open, 1);
	close(fd);
	CHECK_EQ_INT(site_audit_ingest_running(&site), 0);
	/* the segment closed before its rename: a batch file beside TMP */
	{
		static const uint8_t hdr[] = "lacre-leaves v1\n\0\0\0\0\0\0\0\x04";
		char buf[64];
		memcpy(buf, hdr, 24);
		memset(buf + 24, 0, 40);
		put(SEG_X ".leaves", buf, 64);
	}
	CHECK_EQ_INT(run(&r), LACRE_E_VERIFY);
	CHECK_EQ_INT(seen.n, 1);
	CHECK(has(AUDIT_SPOOL, "spool/TMP." SEG_X ": a segment closed at a crash (1000 bytes, 3 records) "
		  "before it took its final name: its records are in no signed checkpoint; ingest renames, "
		  "logs and uploads it at its next start"));
	/* renamed: a closed segment whose batch is not signed */
	rm("TMP." SEG_X);
	put(SEG_X, NULL, 500);
	CHECK_EQ_INT(run(&r), LACRE_E_VERIFY);
	CHECK_EQ_INT(seen.n, 1);
	CHECK(has(AUDIT_SPOOL, "spool/" SEG_X ": a closed segment (500 bytes, 3 records) whose ledger batch "
		  "is under no signed checkpoint: ingest logs and uploads it at its next start"));
	rm(SEG_X);
	rm(SEG_X ".streams");
	CHECK_EQ_INT(run(&r), LACRE_E_VERIFY);
	CHECK(has(AUDIT_SPOOL, "spool/" SEG_X ".leaves: the commitments of segment " SEG_X ", which is "
		  "neither in the spool nor named by the ingest log"));
	rm(SEG_X ".leaves");
	CHECK_OK(run(&r));
}

/* Hostile spool files: read within their caps, one line each. */
static void test_hostile(void)
{
	struct site_audit_result r;
	char *junk = malloc(200000);
	static const uint8_t big[] = "lacre-leaves v1\n\xff\xff\xff\xff\xff\xff\xff\xff";

	CHECK(junk != NULL);
	for (size_t i = 0; i < 200000; i++)
		junk[i] = (char)(i * 7 + 1);
	memcpy(junk, "lacre-open-segment v1 x\n2 zz 99999999999999999999999 1 2 3 4 5\n", 64);
	put(SEG_X ".streams", junk, 200000);
	free(junk);
	put(SEG_X, NULL, 10);
	put(SEG_X ".leaves", (const char *)big, 24);
	CHECK_EQ_INT(run(&r), LACRE_E_VERIFY);
	CHECK_EQ_INT(seen.n, 1);   /* the manifest is the closed segment's (stale): not a loss */
	CHECK(has(AUDIT_SPOOL, "spool/" SEG_X ": a closed segment (10 bytes) whose ledger batch " SEG_X
		  ".leaves is damaged: its records are in no signed checkpoint"));
	rm(SEG_X);
	rm(SEG_X ".leaves");
	CHECK_EQ_INT(run(&r), LACRE_E_VERIFY);
	CHECK_EQ_INT(seen.n, 1);
	CHECK(strncmp(seen.msg[0], "spool/" SEG_X ".streams: loss report of open segment " SEG_X
		      ", cut off by a crash: 0 records of 0 streams lost", 100) == 0);
	CHECK(strlen(seen.msg[0]) < 600);
	rm(SEG_X ".streams");
	CHECK_OK(run(&r));
}

static void test_teardown(void)
{
	lacre_store_close(store);
	note_signer_free(key);
}

int main(void)
{
	RUN(test_setup);
	RUN(test_clean);
	RUN(test_unlogged_and_pending);
	RUN(test_spool);
	RUN(test_hostile);
	RUN(test_teardown);
	return t_done();
}

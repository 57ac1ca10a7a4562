/*
 * test_corpus_replay.c - replay the seed corpora of the libFuzzer harnesses
 * (fuzz/corpus/<harness>/) through the same code the fuzzers run, in the
 * normal and sanitizer builds: every crash the fuzzers ever found stays
 * fixed, and every invariant a harness checks holds on every seed.
 *
 * The harness files are included with their entry point renamed, so the
 * replay runs exactly their code.  FUZZ_FAIL (fuzz/fuzz_common.h) is
 * defined here to name the harness, the input and the broken invariant,
 * count it and leave that input (longjmp), instead of aborting.
 *
 * Each corpus must exist and hold files, and the seeds must reach the code
 * they were made for (a verified hash chain and signature, a clean audit,
 * a routed record...): the counters the harnesses keep are asserted, so a
 * change that makes the seeds bounce off a parser fails here instead of
 * silently fuzzing nothing.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "lacre/err.h"

static jmp_buf replay_jmp;
static const char *replay_file;
static unsigned replay_failures;

/* FUZZ_FAIL for the replay: report, count, abandon this input. */
static void replay_fail(const char *file, int line, const char *what)
{
	fprintf(stderr, "%s: %s:%d: invariant broken: %s\n", replay_file ? replay_file : "?",
		file, line, what);
	replay_failures++;
	longjmp(replay_jmp, 1);
}
#define FUZZ_FAIL(what) replay_fail(__FILE__, __LINE__, (what))

#define LLVMFuzzerTestOneInput fuzz_vault_one
#include "../../fuzz/fuzz_vault.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_ledger_one
#include "../../fuzz/fuzz_ledger.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_segment_proof_one
#include "../../fuzz/fuzz_segment_proof.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_config_one
#include "../../fuzz/fuzz_config.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_rtp_one
#include "../../fuzz/fuzz_rtp.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_framer_one
#include "../../fuzz/fuzz_framer.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_integrity_one
#include "../../fuzz/fuzz_integrity.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_spool_one
#include "../../fuzz/fuzz_spool.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_s3xml_one
#include "../../fuzz/fuzz_s3xml.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_tiles_one
#include "../../fuzz/fuzz_tiles.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_warrants_one
#include "../../fuzz/fuzz_warrants.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_status_one
#include "../../fuzz/fuzz_status.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_state_one
#include "../../fuzz/fuzz_state.c"
#undef LLVMFuzzerTestOneInput

/* Run fn on one input, coming back here when an invariant breaks. */
static void replay_one(int (*fn)(const uint8_t *, size_t), const uint8_t *buf, size_t n)
{
	if (setjmp(replay_jmp) == 0)
		fn(buf, n);
}

/* Run fn on the file fuzz/corpus/<dir>/<name>; 0 when it ran, -1 when it
 * cannot be read. */
static int replay_named(const char *dir, const char *name, int (*fn)(const uint8_t *, size_t))
{
	char path[4096];
	uint8_t *buf = NULL;
	long sz;
	FILE *f;
	int r = -1;

	snprintf(path, sizeof(path), "%s/fuzz/corpus/%s/%s", t_topdir(), dir, name);
	if (!(f = fopen(path, "rb")))
		return -1;
	if (fseek(f, 0, SEEK_END) == 0 && (sz = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (buf = malloc((size_t)sz)) != NULL && fread(buf, 1, (size_t)sz, f) == (size_t)sz) {
		replay_file = path;
		replay_one(fn, buf, (size_t)sz);
		replay_file = NULL;
		r = 0;
	}
	free(buf);
	fclose(f);
	return r;
}

/* Run fn over every file of fuzz/corpus/<name>; returns how many files ran,
 * -1 when the folder cannot be opened.  replay_failures counts the broken
 * invariants of this corpus. */
static int replay(const char *name, int (*fn)(const uint8_t *, size_t))
{
	char dir[4096], path[8192];
	struct dirent *e;
	DIR *d;
	int n = 0;

	replay_failures = 0;
	snprintf(dir, sizeof(dir), "%s/fuzz/corpus/%s", t_topdir(), name);
	if (!(d = opendir(dir))) {
		fprintf(stderr, "%s: cannot open the corpus folder\n", dir);
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		FILE *f;
		uint8_t *buf;
		long sz;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (!(f = fopen(path, "rb")))
			continue;
		if (fseek(f, 0, SEEK_END) != 0 || (sz = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
			fclose(f);
			continue;
		}
		buf = malloc(sz > 0 ? (size_t)sz : 1);
		if (buf && fread(buf, 1, (size_t)sz, f) == (size_t)sz) {
			replay_file = path;
			replay_one(fn, buf, (size_t)sz);
			replay_file = NULL;
			n++;
		}
		free(buf);
		fclose(f);
	}
	closedir(d);
	return n;
}

static void test_replay_vault(void)
{
	CHECK(replay("vault", fuzz_vault_one) > 0);
	CHECK_EQ_INT(replay_failures, 0);
}

static void test_replay_ledger(void)
{
	CHECK(replay("ledger", fuzz_ledger_one) > 0);
	CHECK_EQ_INT(replay_failures, 0);
}

static void test_replay_config(void)
{
	CHECK(replay("config", fuzz_config_one) > 0);
	CHECK_EQ_INT(replay_failures, 0);
}

/* RTP, IPMMCC frames and SIP from the mediator and the OpenLI vectors. */
static void test_replay_rtp(void)
{
	CHECK(replay("rtp", fuzz_rtp_one) > 0);
	CHECK_EQ_INT(replay_failures, 0);
	printf("rtp: %lu RTP packets, %lu frames, %lu SIP messages parsed\n",
	       fz_rtp_packets, fz_rtp_frames, fz_rtp_sip);
	CHECK(fz_rtp_packets > 0 && fz_rtp_frames > 0 && fz_rtp_sip > 0);
}

/* The framer: same PDUs however the stream is cut. */
static void test_replay_framer(void)
{
	CHECK(replay("framer", fuzz_framer_one) > 0);
	CHECK_EQ_INT(replay_failures, 0);
	printf("framer: %lu PDUs delivered, %lu streams ended in a framing error\n",
	       fz_framer_delivered, fz_framer_errors);
	CHECK(fz_framer_delivered >= 40);
	CHECK(fz_framer_errors > 0);
}

/* The per-PDU path: the seeds' hash chains and signatures verify. */
static void test_replay_integrity(void)
{
	CHECK(replay("integrity", fuzz_integrity_one) > 0);
	CHECK_EQ_INT(replay_failures, 0);
	printf("integrity: %llu hashes and %llu signatures verified, %llu and %llu failed, "
	       "%lu keep-alives answered, %lu events\n",
	       (unsigned long long)fz_ic_total.hash_ok, (unsigned long long)fz_ic_total.sig_ok,
	       (unsigned long long)fz_ic_total.hash_mismatch, (unsigned long long)fz_ic_total.sig_bad,
	       fz_ic_ka_answers, fz_ic_events);
	CHECK(fz_ic_total.hash_ok > 0);
	CHECK(fz_ic_total.sig_ok > 0);
	CHECK(fz_ic_ka_answers > 0);
}

/* The verdicts on clean mediator streams: with the signing key every hash
 * and signature verifies, with the other key every signature fails; and a
 * changed data PDU fails its hash. */
static void test_replay_integrity_verdicts(void)
{
	static const struct {
		const char *file;
		int key;        /* accounting that holds the signing key */
	} v[] = {
		{ "hi2-ed25519-sha256", 0 }, { "hi3-ed25519-sha1", 0 },
		{ "hi2-p256-sha512", 1 }, { "hi3-p256-sha384", 1 },
	};
	const struct ingest_integrity_stats *a, *b;

	replay_failures = 0;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		memset(fz_ic_by_key, 0, sizeof(fz_ic_by_key));
		CHECK_OK(replay_named("integrity", v[i].file, fuzz_integrity_one));
		CHECK_EQ_INT(replay_failures, 0);
		a = &fz_ic_by_key[v[i].key];
		b = &fz_ic_by_key[1 - v[i].key];
		printf("%s: %llu of %llu hashes, %llu of %llu signatures verified\n", v[i].file,
		       (unsigned long long)a->hash_ok, (unsigned long long)a->hash_pdus,
		       (unsigned long long)a->sig_ok, (unsigned long long)a->sig_pdus);
		CHECK(a->hash_pdus > 0 && a->sig_pdus > 0);
		CHECK_EQ_INT(a->hash_ok, a->hash_pdus);
		CHECK_EQ_INT(a->sig_ok, a->sig_pdus);
		CHECK_EQ_INT(b->sig_ok, 0);
		CHECK_EQ_INT(b->sig_bad, b->sig_pdus);
	}
	/* hi2-ed25519-sha256 with one byte of a data PDU changed ("SIP/3.0"):
	 * the hash PDU that covers it must not verify */
	memset(fz_ic_by_key, 0, sizeof(fz_ic_by_key));
	CHECK_OK(replay_named("integrity", "regress-tampered-data-pdu", fuzz_integrity_one));
	CHECK_EQ_INT(replay_failures, 0);
	a = &fz_ic_by_key[0];
	printf("regress-tampered-data-pdu: %llu of %llu hashes mismatch\n",
	       (unsigned long long)a->hash_mismatch, (unsigned long long)a->hash_pdus);
	CHECK_EQ_INT(a->hash_mismatch, 1);
	CHECK_EQ_INT(a->hash_ok, a->hash_pdus - 1);
}

/* Spool files of the receiver: read, torn, written again. */
static void test_replay_spool(void)
{
	CHECK(replay("spool", fuzz_spool_one) > 0);
	CHECK_EQ_INT(replay_failures, 0);
	printf("spool: %lu records, %lu events, %lu files written back and reread\n",
	       fz_sp_records, fz_sp_events, fz_sp_roundtrips);
	CHECK(fz_sp_records > 0 && fz_sp_events > 0 && fz_sp_roundtrips > 0);
}

/* Answers of a real S3 server (Ceph RGW) and hostile ones. */
static void test_replay_s3xml(void)
{
	CHECK(replay("s3xml", fuzz_s3xml_one) > 0);
	CHECK_EQ_INT(replay_failures, 0);
	printf("s3xml: %lu names listed, %lu lookups answered, %lu ETag headers kept\n",
	       fz_s3_listed, fz_s3_found, fz_s3_etags);
	CHECK(fz_s3_listed > 0 && fz_s3_found > 0 && fz_s3_etags > 0);
}

/* Logs written by tlog: clean audits, and the segment hook's findings. */
static void test_replay_tiles(void)
{
	CHECK(replay("tiles", fuzz_tiles_one) > 0);
	CHECK_EQ_INT(replay_failures, 0);
	printf("tiles: %lu clean audits over %lu entries, %lu findings\n",
	       fz_t_clean, fz_t_entries, fz_t_findings);
	CHECK(fz_t_clean > 0 && fz_t_entries > 0 && fz_t_findings > 0);
}

/* Warrant logs written by `lacre warrant`: loaded, verified, routed. */
static void test_replay_warrants(void)
{
	CHECK(replay("warrants", fuzz_warrants_one) > 0);
	CHECK_EQ_INT(replay_failures, 0);
	printf("warrants: %lu logs verified, %lu records routed, %lu quarantined\n",
	       fz_w_loaded, fz_w_routed, fz_w_quarantined);
	CHECK(fz_w_loaded > 0 && fz_w_routed > 0 && fz_w_quarantined > 0);
}

/* Status files written by lacre ingest, and damaged ones: parsed strictly. */
static void test_replay_status(void)
{
	CHECK(replay("status", fuzz_status_one) > 0);
	CHECK_EQ_INT(replay_failures, 0);
	printf("status: %lu texts parsed, %lu samples\n", fz_status_parsed, fz_status_samples);
	CHECK(fz_status_parsed > 0 && fz_status_samples > 40);
}

/* Stream state files (a real receiver's, and written after FORMATS §12):
 * loaded or refused whole; those that load save and load again. */
static void test_replay_state(void)
{
	CHECK(replay("state", fuzz_state_one) > 0);
	CHECK_EQ_INT(replay_failures, 0);
	printf("state: %lu files loaded, %lu streams, %lu byteCounter chains\n",
	       fz_state_loaded, fz_state_streams, fz_state_chains);
	CHECK(fz_state_loaded >= 5 && fz_state_streams > 20 && fz_state_chains > 8);
}

/* Segment proofs and v2 entries: the valid seeds parse in their one form. */
static void test_replay_segment_proof(void)
{
	CHECK(replay("segment_proof", fuzz_segment_proof_one) > 0);
	CHECK_EQ_INT(replay_failures, 0);
	printf("segment_proof: %lu proofs parsed, %lu entries decoded\n", fz_sp_parsed, fz_sp_entries);
	CHECK(fz_sp_parsed >= 11 && fz_sp_entries >= 6);
}

int main(void)
{
	RUN(test_replay_vault);
	RUN(test_replay_segment_proof);
	RUN(test_replay_ledger);
	RUN(test_replay_config);
	RUN(test_replay_rtp);
	RUN(test_replay_framer);
	RUN(test_replay_integrity);
	RUN(test_replay_integrity_verdicts);
	RUN(test_replay_spool);
	RUN(test_replay_s3xml);
	RUN(test_replay_tiles);
	RUN(test_replay_warrants);
	RUN(test_replay_status);
	RUN(test_replay_state);
	return t_done();
}

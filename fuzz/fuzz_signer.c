/*
 * fuzz_signer.c - libFuzzer harness for the log signer's request path
 * (lib/ledger/signer.c, signer_proto.c): the bytes a compromised receiver
 * can send lacre-signer.  The signer runs on a scratch folder with a fixed
 * key (FZ_S_KEY_BYTE) and a fixed state: it last signed the first 8
 * entries of the harness's tree (entry i = 8 bytes, i little endian).
 *
 * Input: one request body (the u32 frame length is the socket's job; the
 * frame reader is exercised by the e2e test and the unit tests).  Seeds:
 * fuzz/mkseeds_signer.py (a key request, growth 8 -> 13 with its proof,
 * the same checkpoint again, a fork, a rollback, a bad and a stale proof,
 * another origin, a truncated and an over-long request).
 *
 * Invariants: every request gets an answer that parses; the result code
 * says the same as the answer (signed iff LACRE_OK); a refusal leaves the
 * state as it was; a signature is only ever over (size, root) that is the
 * signed tree itself or verifiably extends it (RFC 6962 consistency from
 * (8, root8)), its note verifies with the log key, and the state then
 * holds exactly that (size, root); a request that parses re-encodes to
 * the same bytes (one encoding per request).  The answer parser must not
 * crash on the same bytes either.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lacre/buf.h"
#include "lacre/err.h"
#include "lacre/merkle.h"
#include "lacre/note.h"
#include "lacre/signer.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_S_ORIGIN "lacre/fuzz/ingest"
#define FZ_S_KEY_BYTE 0x3c
#define FZ_S_SIGNED 8

static char fz_s_dir[64];
static struct signer *fz_s;
static struct note_verifier fz_s_vk;
static uint8_t fz_s_root8[MERKLE_HASH_LEN];
/* Counters the replay asserts on. */
static unsigned long fz_s_signed, fz_s_refused, fz_s_parsed;

/* Remove the scratch folder (at exit). */
static void fz_s_cleanup(void)
{
	static const char *const names[] = { "ingest.key", "ingest.vkey", "state", "refusals",
					     "lock", "state.tmp", "ingest.key.tmp", "ingest.vkey.tmp" };
	char p[128];

	signer_close(fz_s);
	fz_s = NULL;
	if (!fz_s_dir[0])
		return;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", fz_s_dir, names[i]);
		unlink(p);
	}
	rmdir(fz_s_dir);
}

/* Write a small file in the scratch folder (mode 0600). */
static void fz_s_write(const char *name, const void *p, size_t n)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", fz_s_dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	FUZZ_CHECK(fd >= 0);
	FUZZ_CHECK(write(fd, p, n) == (ssize_t)n);
	close(fd);
}

/* (Re)open the signer on the fixed key and the state "signed 8". */
static void fz_s_reset(void)
{
	struct signer_config cfg = { fz_s_dir, NULL, NULL, NULL };
	struct note_signer *k = NULL;
	struct lacre_dbuf d;
	char msg[256];
	uint8_t seed[32];

	signer_close(fz_s);
	fz_s = NULL;
	memset(seed, FZ_S_KEY_BYTE, sizeof(seed));
	FUZZ_CHECK(note_signer_from_seed(FZ_S_ORIGIN, NOTE_TYPE_ED25519, seed, &k) == LACRE_OK);
	note_signer_public(k, &fz_s_vk);
	lacre_dbuf_init(&d, 4096);
	FUZZ_CHECK(note_signer_format(k, &d) == LACRE_OK);
	fz_s_write("ingest.key", d.p, d.len);
	note_signer_free(k);
	lacre_dbuf_reset(&d);
	lacre_dbuf_printf(&d, "lacre-signer-state v1\norigin %s\nsize %d\nroot ", FZ_S_ORIGIN, FZ_S_SIGNED);
	note_b64_encode(fz_s_root8, MERKLE_HASH_LEN, &d);
	lacre_dbuf_add_u8(&d, '\n');
	fz_s_write("state", d.p, d.len);
	lacre_dbuf_free(&d);
	FUZZ_CHECK(signer_open(&cfg, &fz_s, msg, sizeof(msg)) == LACRE_OK);
	FUZZ_CHECK(signer_size(fz_s) == FZ_S_SIGNED);
}

/* First call: the scratch folder and the root of entries 0..7. */
static void fz_s_init(void)
{
	uint8_t leaves[FZ_S_SIGNED][MERKLE_HASH_LEN];
	struct merkle_leaves ml = { (const uint8_t (*)[MERKLE_HASH_LEN])leaves, FZ_S_SIGNED };

	if (fz_s_dir[0])
		return;
	snprintf(fz_s_dir, sizeof(fz_s_dir), "/tmp/lacre-fuzz-signer-XXXXXX");
	FUZZ_CHECK(mkdtemp(fz_s_dir) != NULL);
	atexit(fz_s_cleanup);
	for (uint64_t i = 0; i < FZ_S_SIGNED; i++) {
		uint8_t e[8];
		for (int j = 0; j < 8; j++)
			e[j] = (uint8_t)(i >> (8 * j));
		merkle_leaf_hash(e, sizeof(e), leaves[i]);
	}
	FUZZ_CHECK(merkle_root(FZ_S_SIGNED, merkle_leaves_node, &ml, fz_s_root8) == LACRE_OK);
	fz_s_reset();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct signer_request rq;
	struct signer_answer an;
	struct lacre_dbuf ans, re;
	struct checkpoint cp;
	uint8_t root[MERKLE_HASH_LEN];
	int rc, prc;

	fz_s_init();
	if (signer_answer_parse(data, size, &an) == LACRE_OK)
		FUZZ_CHECK(an.ok || (an.reason >= 1 && an.reason <= SIGNER_R_MAX));
	lacre_dbuf_init(&ans, SIGNER_MSG_MAX + 1);
	lacre_dbuf_init(&re, SIGNER_MSG_MAX + 1);
	prc = signer_request_parse(data, size, &rq);
	if (prc == LACRE_OK) {
		fz_s_parsed++;
		FUZZ_CHECK(signer_request_encode(&rq, &re) == LACRE_OK);
		FUZZ_CHECK(re.len == size && memcmp(re.p, data, size) == 0);
	}
	rc = signer_handle(fz_s, data, size, &ans, NULL, 0);
	FUZZ_CHECK(signer_answer_parse(ans.p, ans.len, &an) == LACRE_OK);
	FUZZ_CHECK((rc == LACRE_OK) == (an.ok != 0));
	FUZZ_CHECK(prc == LACRE_OK || !an.ok);
	if (!an.ok) {
		fz_s_refused++;
		FUZZ_CHECK(signer_size(fz_s) == FZ_S_SIGNED);
		signer_root(fz_s, root);
		FUZZ_CHECK(memcmp(root, fz_s_root8, MERKLE_HASH_LEN) == 0);
		FUZZ_CHECK(an.signed_size == FZ_S_SIGNED);
	} else if (rq.type == SIGNER_REQ_SIGN) {
		fz_s_signed++;
		FUZZ_CHECK(checkpoint_open(an.text, an.text_len, &fz_s_vk, NULL, 0, &cp, NULL) == LACRE_OK);
		FUZZ_CHECK(cp.size == rq.size && memcmp(cp.root, rq.root, MERKLE_HASH_LEN) == 0);
		FUZZ_CHECK(strcmp(cp.origin, FZ_S_ORIGIN) == 0);
		FUZZ_CHECK(merkle_verify_consistency(FZ_S_SIGNED, rq.size, fz_s_root8, rq.root,
						     rq.size == FZ_S_SIGNED ? &(struct merkle_proof){ 0 } :
						     &rq.proof) == LACRE_OK);
		FUZZ_CHECK(signer_size(fz_s) == rq.size);
		signer_root(fz_s, root);
		FUZZ_CHECK(memcmp(root, rq.root, MERKLE_HASH_LEN) == 0);
		if (rq.size != FZ_S_SIGNED)
			fz_s_reset();
	}
	lacre_dbuf_free(&ans);
	lacre_dbuf_free(&re);
	return 0;
}

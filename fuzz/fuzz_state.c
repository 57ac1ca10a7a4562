/*
 * fuzz_state.c - libFuzzer harness for the reader of the receiver's stream
 * state file (ingest_acct_load, lib/ingest/stream_state.c; FORMATS §12):
 * the sequence state of every stream and the byteCounter section (BCTR),
 * read at every start from SITE/state/streams.state.
 *
 * The input is a whole state file whose trailing SHA-256 the harness
 * recomputes (when it is long enough to have one), so that mutations reach
 * the parser behind the seal.  Invariants: the load answers OK, CORRUPT
 * (with a reason, and then nothing loaded: no stream, no byteCounter
 * chain) or NOMEM; a file that loads is saved again, and that file loads,
 * holds as many chains, and saves to the same length.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "lacre/err.h"
#include "lacre/etsi_crypt.h"
#include "lacre/ingest.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* counters the corpus replay asserts: files loaded, streams, chains */
static unsigned long fz_state_loaded, fz_state_streams, fz_state_chains;
static char fz_state_dir[64];

/* Write n bytes to path; 0 on success. */
static int fz_state_put(const char *path, const uint8_t *p, size_t n)
{
	FILE *fp = fopen(path, "wb");

	if (!fp)
		return -1;
	if (n && fwrite(p, 1, n, fp) != n) {
		fclose(fp);
		return -1;
	}
	return fclose(fp);
}

/* Size of the file at path, or -1. */
static long fz_state_size(const char *path)
{
	FILE *fp = fopen(path, "rb");
	long n;

	if (!fp)
		return -1;
	n = fseek(fp, 0, SEEK_END) == 0 ? ftell(fp) : -1;
	fclose(fp);
	return n;
}

/* A fresh accounting with its two trackers; load path; the result. */
static int fz_state_load(const char *path, struct ingest_acct **a, struct etsi_bctr b[2], char *why, size_t wn)
{
	etsi_bctr_init(&b[0], 64);
	etsi_bctr_init(&b[1], 64);
	FUZZ_CHECK(ingest_acct_new(1u << 20, NULL, NULL, a) == LACRE_OK);
	ingest_acct_set_bctr(*a, &b[0], &b[1]);
	return ingest_acct_load(*a, path, why, wn);
}

/* Free what fz_state_load made. */
static void fz_state_free(struct ingest_acct *a, struct etsi_bctr b[2])
{
	ingest_acct_free(a);
	etsi_bctr_free(&b[0]);
	etsi_bctr_free(&b[1]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char in[128], out1[128], out2[128], why[256];
	struct ingest_acct *a, *a2;
	struct etsi_bctr b[2], b2[2];
	uint8_t *buf;
	unsigned dl = 0;
	size_t chains;
	int r;

	if (!fz_state_dir[0])
		snprintf(fz_state_dir, sizeof(fz_state_dir), "%s/lacre-fuzz-state-%ld",
		         access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp", (long)getpid());
	snprintf(in, sizeof(in), "%s.in", fz_state_dir);
	snprintf(out1, sizeof(out1), "%s.1", fz_state_dir);
	snprintf(out2, sizeof(out2), "%s.2", fz_state_dir);
	if (!(buf = malloc(size ? size : 1)))
		return 0;
	if (size)
		memcpy(buf, data, size);
	if (size >= 8 + 8 + 4 + 32 &&
	    EVP_Digest(buf, size - 32, buf + size - 32, &dl, EVP_sha256(), NULL) != 1) {
		free(buf);
		return 0;
	}
	r = fz_state_put(in, buf, size);
	free(buf);
	if (r != 0)
		return 0;
	why[0] = 0;
	r = fz_state_load(in, &a, b, why, sizeof(why));
	FUZZ_CHECK(r == LACRE_OK || r == LACRE_E_CORRUPT || r == LACRE_E_NOMEM);
	if (r != LACRE_OK) {
		if (r == LACRE_E_CORRUPT)
			FUZZ_CHECK(why[0] != '\0');
		FUZZ_CHECK(ingest_acct_streams(a) == 0);
		FUZZ_CHECK(b[0].n == 0 && b[1].n == 0);
		fz_state_free(a, b);
		unlink(in);
		return 0;
	}
	fz_state_loaded++;
	fz_state_streams += ingest_acct_streams(a);
	chains = b[0].n + b[1].n;
	fz_state_chains += chains;
	ingest_acct_mark(a);                       /* a change: the save writes */
	FUZZ_CHECK(ingest_acct_save(a, out1, 1) == LACRE_OK);
	r = fz_state_load(out1, &a2, b2, why, sizeof(why));
	FUZZ_CHECK(r == LACRE_OK);
	FUZZ_CHECK(ingest_acct_streams(a2) == ingest_acct_streams(a));
	FUZZ_CHECK(b2[0].n + b2[1].n == chains);
	ingest_acct_mark(a2);
	FUZZ_CHECK(ingest_acct_save(a2, out2, 1) == LACRE_OK);
	FUZZ_CHECK(fz_state_size(out1) == fz_state_size(out2));
	fz_state_free(a2, b2);
	fz_state_free(a, b);
	unlink(in);
	unlink(out1);
	unlink(out2);
	return 0;
}

/*
 * test_corpus_replay.c - replay the seed corpora of the vault, ledger and
 * configuration harnesses (fuzz/corpus/{vault,ledger,config}) through the
 * same code the fuzzers run, in the normal and sanitizer builds: every
 * crash the fuzzers ever found stays fixed.  The harness files are included
 * with their entry point renamed, so the replay runs exactly their code.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "lacre/err.h"

#define LLVMFuzzerTestOneInput fuzz_vault_one
#include "../../fuzz/fuzz_vault.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_ledger_one
#include "../../fuzz/fuzz_ledger.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_config_one
#include "../../fuzz/fuzz_config.c"
#undef LLVMFuzzerTestOneInput

/* Run fn over every file of fuzz/corpus/<name>; returns the count. */
static int replay(const char *name, int (*fn)(const uint8_t *, size_t))
{
	char dir[4096], path[8192];
	struct dirent *e;
	DIR *d;
	int n = 0;

	snprintf(dir, sizeof(dir), "%s/fuzz/corpus/%s", t_topdir(), name);
	if (!(d = opendir(dir)))
		return -1;
	while ((e = readdir(d)) != NULL) {
		FILE *f;
		uint8_t *buf;
		long sz;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (!(f = fopen(path, "rb")))
			continue;
		fseek(f, 0, SEEK_END);
		sz = ftell(f);
		fseek(f, 0, SEEK_SET);
		buf = malloc(sz > 0 ? (size_t)sz : 1);
		if (buf && fread(buf, 1, (size_t)sz, f) == (size_t)sz) {
			fn(buf, (size_t)sz);
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
}

static void test_replay_ledger(void)
{
	CHECK(replay("ledger", fuzz_ledger_one) > 0);
}

static void test_replay_config(void)
{
	CHECK(replay("config", fuzz_config_one) > 0);
}

int main(void)
{
	RUN(test_replay_vault);
	RUN(test_replay_ledger);
	RUN(test_replay_config);
	return t_done();
}

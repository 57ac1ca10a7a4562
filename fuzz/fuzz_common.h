/*
 * fuzz_common.h - what the libFuzzer harnesses of fuzz/ share: the way an
 * invariant failure is reported, and a small deterministic generator that
 * turns input bytes into choices (chunk sizes, split points).
 *
 * Under libFuzzer FUZZ_FAIL prints the harness, line and the broken
 * invariant and aborts, so the fuzzer saves the input.  The corpus replay
 * of `make check` (tests/unit/test_corpus_replay.c) includes the harness
 * sources with FUZZ_FAIL defined to count the failure and name the input
 * instead, so a regression fails the test in one line rather than with a
 * bare abort.  Everything here is static: a harness is one translation
 * unit, and several harnesses are included into one test file.
 */
#ifndef LACRE_FUZZ_COMMON_H
#define LACRE_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#ifndef FUZZ_FAIL
#define FUZZ_FAIL(what) \
	(fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, (what)), abort())
#endif

/* Check cond; FUZZ_FAIL with its text when it does not hold. */
#define FUZZ_CHECK(cond) do { if (!(cond)) FUZZ_FAIL(#cond); } while (0)

/* xorshift64*: choices derived from input bytes (never from time or rand,
 * so a saved input replays exactly). */
struct fuzz_rng {
	uint64_t s;
};

/* Seed g from up to 8 bytes of p (a zero state is replaced). */
static inline void fuzz_rng_init(struct fuzz_rng *g, const uint8_t *p, size_t n)
{
	uint64_t s = 0x9e3779b97f4a7c15ull;

	for (size_t i = 0; i < n && i < 8; i++)
		s = (s ^ p[i]) * 0x100000001b3ull;
	g->s = s ? s : 1;
}

/* Next value in [0, bound) (bound > 0). */
static inline uint64_t fuzz_rng_below(struct fuzz_rng *g, uint64_t bound)
{
	g->s ^= g->s >> 12;
	g->s ^= g->s << 25;
	g->s ^= g->s >> 27;
	return (g->s * 0x2545f4914f6cdd1dull) % bound;
}

#endif

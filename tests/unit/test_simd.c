/*
 * test_simd.c - lacre_simd_settle leaves the vector registers' upper halves
 * clear (the state that slowed the records' SHA-256 after ChaCha20-Poly1305,
 * include/lacre/simd.h), read back through XGETBV(1)'s "in use" bits.
 */
#include <stdint.h>

#include "harness.h"
#include "lacre/simd.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>

/* Can this CPU say which state components are in use (XGETBV with ECX=1),
 * and does it have AVX? */
static int xinuse_readable(void)
{
	unsigned a, b, c, d;

	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_OSXSAVE) || !(c & bit_AVX))
		return 0;
	if (!__get_cpuid_count(0xd, 1, &a, &b, &c, &d))
		return 0;
	return (a & (1u << 2)) != 0;
}

/* XINUSE bit 2: the upper halves of YMM0-15 are not known to be zero. */
static int avx_upper_in_use(void)
{
	uint32_t lo, hi;

	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(1));
	(void)hi;
	return (lo >> 2) & 1;
}

/* Dirty YMM1's upper half.  Not compiled for AVX: the compiler adds
 * VZEROUPPER to the returns of AVX functions, which would hide whether
 * lacre_simd_settle clears anything (it is only the assembler that knows
 * the instruction here). */
static void dirty_upper(void)
{
	__asm__ volatile("vpcmpeqd %%ymm1, %%ymm1, %%ymm1" ::: "xmm1");
}

static void test_settle_clears_upper_state(void)
{
	if (!xinuse_readable())
		SKIP("this CPU has no AVX or cannot report the state in use (XGETBV 1)");
	/* the control: the dirty state stays until something clears it */
	dirty_upper();
	CHECK_EQ_INT(avx_upper_in_use(), 1);
	CHECK_EQ_INT(avx_upper_in_use(), 1);
	lacre_simd_settle();
	CHECK_EQ_INT(avx_upper_in_use(), 0);
	/* again, and once with nothing to clear */
	dirty_upper();
	CHECK_EQ_INT(avx_upper_in_use(), 1);
	lacre_simd_settle();
	lacre_simd_settle();
	CHECK_EQ_INT(avx_upper_in_use(), 0);
}
#else
static void test_settle_clears_upper_state(void)
{
	lacre_simd_settle();   /* nothing to clear on this architecture */
	SKIP("not x86-64: lacre_simd_settle does nothing here");
}
#endif

int main(void)
{
	RUN(test_settle_clears_upper_state);
	return t_done();
}

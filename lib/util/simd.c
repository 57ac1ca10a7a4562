/*
 * simd.c - lacre_simd_settle (see include/lacre/simd.h for why).
 *
 * VZEROUPPER is an AVX instruction: on a CPU without AVX it would fault, so
 * it runs only when the CPU says it has AVX (checked once; the answer
 * never changes).  The one function compiled for AVX is never called
 * otherwise.
 */
#include "lacre/simd.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

__attribute__((target("avx"))) static void simd_zeroupper(void)
{
	_mm256_zeroupper();
}

void lacre_simd_settle(void)
{
	/* -1 unknown, 0 no AVX, 1 AVX: every thread that asks first
	 * computes the same answer (relaxed atomics: no data race) */
	static int has_avx = -1;
	int h = __atomic_load_n(&has_avx, __ATOMIC_RELAXED);

	if (h < 0) {
		__builtin_cpu_init();
		h = __builtin_cpu_supports("avx") ? 1 : 0;
		__atomic_store_n(&has_avx, h, __ATOMIC_RELAXED);
	}
	if (h)
		simd_zeroupper();
}
#else
void lacre_simd_settle(void)
{
}
#endif

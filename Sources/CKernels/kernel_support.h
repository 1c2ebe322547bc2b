// What the kernels of this module share: bf16 rounding, the AVX-512 target attribute, and
// sharing rows out over libgomp's team (include/CKernels.h).
#ifndef INCTRL_KERNEL_SUPPORT_H
#define INCTRL_KERNEL_SUPPORT_H

#include <stdint.h>

#if defined(__x86_64__)
#include <immintrin.h>
#define INCTRL_HAS_AVX512_PATH 1
#define INCTRL_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl")))
#endif

// libgomp's entry point for a parallel region (what GCC emits for `#pragma omp parallel`):
// the team is the one oneDNN's kernels run on, so the threads are already awake.
extern void GOMP_parallel(void (*function)(void *), void *data, unsigned threads, unsigned flags);
extern int omp_get_thread_num(void);
extern int omp_get_num_threads(void);

/// This thread's share of `rows` rows inside a parallel region: `[*first, *end)`, maybe empty.
static inline void inctrl_thread_rows(long rows, long *first, long *end) {
    const long threads = omp_get_num_threads();
    const long share = (rows + threads - 1) / threads;
    *first = omp_get_thread_num() * share;
    *end = *first + share < rows ? *first + share : rows;
}

/// The bf16 bits nearest to `value` (ties to even); values are finite here.
static inline uint16_t inctrl_bf16_bits(float value) {
    union { float f; uint32_t u; } bits = {value};
    return (uint16_t)((bits.u + 0x7fff + ((bits.u >> 16) & 1)) >> 16);
}

#ifdef INCTRL_HAS_AVX512_PATH
/// Sixteen floats rounded to bf16 as `inctrl_bf16_bits` does, stored to the lanes of `mask`
/// (a plain store when all sixteen are: a masked one is slower on some CPUs).
INCTRL_AVX512 static inline void inctrl_store_bf16(uint16_t *destination, __mmask16 mask, __m512 values) {
    __m512i bits = _mm512_castps_si512(values);
    __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(bits, 16), _mm512_set1_epi32(1));
    bits = _mm512_srli_epi32(_mm512_add_epi32(bits, _mm512_add_epi32(lsb, _mm512_set1_epi32(0x7fff))), 16);
    const __m256i packed = _mm512_cvtepi32_epi16(bits);
    if (mask == (__mmask16)0xffff) {
        _mm256_storeu_si256((__m256i *)destination, packed);
    } else {
        _mm256_mask_storeu_epi16(destination, mask, packed);
    }
}
#endif

#endif

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

/// Whether the kernels take their AVX-512 paths on this CPU.
int inctrl_kernels_are_vectorized(void);

/// Runs `rows_of(job, first, end)` on each thread of libgomp's team, the OpenMP runtime
/// oneDNN's kernels run on (so the threads are already awake), with `[first, end)` that
/// thread's share of `rows` rows; a thread whose share is empty is not called.
void inctrl_parallel_rows(long rows, void *job, void (*rows_of)(void *job, long first, long end));

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

// Softmax straight to bf16 for attention in bf16 mode (include/CKernels.h).
//
// oneDNN 2.6 has the two halves, but not together: its softmax writes fp32 (or bf16 with
// the exponentials rounded before they are normalised, which moves a quarter of the
// probabilities one bf16 unit), and a reorder then rounds the fp32 probabilities. Fused, the
// logits are read once and the probabilities written once, in bf16.
//
// exp: x = n·ln2 + r with n = round(x / ln2) and |r| <= ln2/2 (ln2 split in two so that
// n·ln2_hi is exact), e^r by its Taylor series to r^7 (truncation below 6e-9 relative,
// under a twentieth of an fp32 unit), then scaled by 2^n. Below -104, e^x is 0 in fp32.

#include "CKernels.h"
#include "kernel_support.h"

#include <math.h>
#include <stddef.h>

static const float ln2Hi = 0.693359375f;
static const float ln2Lo = -2.12194440e-4f;
static const float log2e = 1.44269504088896341f;
static const float lowest = -104.0f;

static inline float exp_scalar(float x) {
    if (x < lowest) x = lowest;
    float n = nearbyintf(x * log2e);
    float r = fmaf(-n, ln2Hi, x);
    r = fmaf(-n, ln2Lo, r);
    float p = 1.0f / 5040;
    p = fmaf(p, r, 1.0f / 720);
    p = fmaf(p, r, 1.0f / 120);
    p = fmaf(p, r, 1.0f / 24);
    p = fmaf(p, r, 1.0f / 6);
    p = fmaf(p, r, 0.5f);
    p = fmaf(p, r, 1.0f);
    p = fmaf(p, r, 1.0f);
    return ldexpf(p, (int)n);
}

static void rows_scalar(float *logits, uint16_t *out, long first, long end, long length) {
    for (long row = first; row < end; row++) {
        float *x = logits + row * length;
        uint16_t *y = out + row * length;
        float largest = -INFINITY;
        for (long i = 0; i < length; i++) largest = x[i] > largest ? x[i] : largest;
        float sum = 0;
        for (long i = 0; i < length; i++) {
            x[i] = exp_scalar(x[i] - largest);
            sum += x[i];
        }
        float inverse = 1.0f / sum;
        for (long i = 0; i < length; i++) y[i] = inctrl_bf16_bits(x[i] * inverse);
    }
}

#ifdef INCTRL_HAS_AVX512_PATH
INCTRL_AVX512 static inline __m512 exp_avx512(__m512 x) {
    x = _mm512_max_ps(x, _mm512_set1_ps(lowest));
    __m512 n = _mm512_roundscale_ps(
        _mm512_mul_ps(x, _mm512_set1_ps(log2e)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(ln2Hi), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(ln2Lo), r);
    __m512 p = _mm512_set1_ps(1.0f / 5040);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 720));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    return _mm512_scalef_ps(p, n);
}

INCTRL_AVX512 static void rows_avx512(float *logits, uint16_t *out, long first, long end, long length) {
    const long blocks = length / 16;
    const long rest = length % 16;
    const __mmask16 tail = (__mmask16)((1u << rest) - 1);
    for (long row = first; row < end; row++) {
        float *x = logits + row * length;
        uint16_t *y = out + row * length;

        __m512 largest = _mm512_set1_ps(-INFINITY);
        for (long b = 0; b < blocks; b++) largest = _mm512_max_ps(largest, _mm512_loadu_ps(x + 16 * b));
        if (rest) largest = _mm512_mask_max_ps(largest, tail, largest, _mm512_maskz_loadu_ps(tail, x + 16 * blocks));
        const __m512 shift = _mm512_set1_ps(_mm512_reduce_max_ps(largest));

        __m512 sum = _mm512_setzero_ps();
        for (long b = 0; b < blocks; b++) {
            __m512 e = exp_avx512(_mm512_sub_ps(_mm512_loadu_ps(x + 16 * b), shift));
            _mm512_storeu_ps(x + 16 * b, e);
            sum = _mm512_add_ps(sum, e);
        }
        if (rest) {
            __m512 e = _mm512_maskz_mov_ps(tail, exp_avx512(_mm512_sub_ps(_mm512_maskz_loadu_ps(tail, x + 16 * blocks), shift)));
            _mm512_mask_storeu_ps(x + 16 * blocks, tail, e);
            sum = _mm512_add_ps(sum, e);
        }
        const __m512 inverse = _mm512_set1_ps(1.0f / _mm512_reduce_add_ps(sum));

        for (long b = 0; b <= blocks; b++) {
            const __mmask16 mask = b < blocks ? (__mmask16)0xffff : tail;
            if (!mask) break;
            inctrl_store_bf16(y + 16 * b, mask, _mm512_mul_ps(_mm512_maskz_loadu_ps(mask, x + 16 * b), inverse));
        }
    }
}
#endif

struct softmax_job {
    float *logits;
    uint16_t *probabilities;
    long length;
    int vectorized;
};

static void softmax_rows(void *data, long first, long end) {
    const struct softmax_job *job = data;
#ifdef INCTRL_HAS_AVX512_PATH
    if (job->vectorized) {
        rows_avx512(job->logits, job->probabilities, first, end, job->length);
        return;
    }
#endif
    rows_scalar(job->logits, job->probabilities, first, end, job->length);
}

void inctrl_softmax_rows_to_bf16(float *logits, uint16_t *probabilities, long rows, long length, int vectorized) {
    if (rows <= 0 || length <= 0) return;
    struct softmax_job job = {logits, probabilities, length, vectorized && inctrl_kernels_are_vectorized()};
    inctrl_parallel_rows(rows, &job, softmax_rows);
}

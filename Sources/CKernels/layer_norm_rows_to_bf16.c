// LayerNorm straight to bf16, for the bf16 layers that read a LayerNorm's output (attention's
// q, k, v projections and fc1 in the vision tower; include/CKernels.h).
//
// oneDNN 2.6's layer normalization writes the data type it reads, so in bf16 each block took
// a LayerNorm in fp32 and a reorder to round its output for the matmul: two passes where one
// does. Statistics as oneDNN and PyTorch take them: the mean first, then the mean of squared
// differences from it (two passes over the row, which stays in L1), in fp32.

#include "CKernels.h"
#include "kernel_support.h"

#include <math.h>

/// The total of the 64 running sums the AVX-512 path keeps (four vectors of sixteen, block b
/// of the row in vector b mod 4), combined in its order: the four vectors as
/// (0 + 1) + (2 + 3), then their sixteen lanes halving as `_mm512_reduce_add_ps` does.
static inline float lane_total(float lanes[64]) {
    for (int i = 0; i < 16; i++) lanes[i] = (lanes[i] + lanes[16 + i]) + (lanes[32 + i] + lanes[48 + i]);
    for (int half = 8; half >= 1; half /= 2)
        for (int i = 0; i < half; i++) lanes[i] += lanes[i + half];
    return lanes[0];
}

static void rows_scalar(
    const float *input, const float *scale, const float *shift, uint16_t *output, long first, long end, long width,
    float epsilon) {
    for (long row = first; row < end; row++) {
        const float *x = input + row * width;
        uint16_t *y = output + row * width;
        // The running sums of the AVX-512 path, element i in sum i mod 64: the same sums in
        // the same order, and a wide row's total carries a fraction of one running sum's
        // rounding error.
        float sums[64] = {0}, squares[64] = {0};
        for (long i = 0; i < width; i++) sums[i % 64] += x[i];
        const float mean = lane_total(sums) / (float)width;
        for (long i = 0; i < width; i++) squares[i % 64] = fmaf(x[i] - mean, x[i] - mean, squares[i % 64]);
        const float inverse = 1.0f / sqrtf(lane_total(squares) / (float)width + epsilon);
        for (long i = 0; i < width; i++) y[i] = inctrl_bf16_bits((x[i] - mean) * inverse * scale[i] + shift[i]);
    }
}

#ifdef INCTRL_HAS_AVX512_PATH
/// The lanes of block `b` of a row `blocks` blocks long whose last block holds `rest`
/// values (0: a full one).
static inline __mmask16 block_mask(long b, long blocks, long rest) {
    return b == blocks - 1 && rest ? (__mmask16)((1u << rest) - 1) : (__mmask16)0xffff;
}

/// `sums[0] + sums[1]` and `sums[2] + sums[3]` added, then the sixteen lanes.
INCTRL_AVX512 static inline float total_of(__m512 s0, __m512 s1, __m512 s2, __m512 s3) {
    return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
}

INCTRL_AVX512 static void rows_avx512(
    const float *input, const float *scale, const float *shift, uint16_t *output, long first, long end, long width,
    float epsilon) {
    const long blocks = (width + 15) / 16;
    const long rest = width % 16;
    for (long row = first; row < end; row++) {
        const float *x = input + row * width;
        uint16_t *y = output + row * width;

        // Four running sums of sixteen lanes each, block b in sum b mod 4, so that the adds
        // do not wait on one another.
        __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps(), s2 = _mm512_setzero_ps(), s3 = _mm512_setzero_ps();
        long b = 0;
        for (; b + 4 <= blocks - (rest ? 1 : 0); b += 4) {
            s0 = _mm512_add_ps(s0, _mm512_loadu_ps(x + 16 * b));
            s1 = _mm512_add_ps(s1, _mm512_loadu_ps(x + 16 * (b + 1)));
            s2 = _mm512_add_ps(s2, _mm512_loadu_ps(x + 16 * (b + 2)));
            s3 = _mm512_add_ps(s3, _mm512_loadu_ps(x + 16 * (b + 3)));
        }
        for (; b < blocks; b++) {
            const __m512 v = _mm512_maskz_loadu_ps(block_mask(b, blocks, rest), x + 16 * b);
            switch (b % 4) {
            case 0: s0 = _mm512_add_ps(s0, v); break;
            case 1: s1 = _mm512_add_ps(s1, v); break;
            case 2: s2 = _mm512_add_ps(s2, v); break;
            default: s3 = _mm512_add_ps(s3, v); break;
            }
        }
        const __m512 centre = _mm512_set1_ps(total_of(s0, s1, s2, s3) / (float)width);

        s0 = s1 = s2 = s3 = _mm512_setzero_ps();
        b = 0;
        for (; b + 4 <= blocks - (rest ? 1 : 0); b += 4) {
            const __m512 d0 = _mm512_sub_ps(_mm512_loadu_ps(x + 16 * b), centre);
            const __m512 d1 = _mm512_sub_ps(_mm512_loadu_ps(x + 16 * (b + 1)), centre);
            const __m512 d2 = _mm512_sub_ps(_mm512_loadu_ps(x + 16 * (b + 2)), centre);
            const __m512 d3 = _mm512_sub_ps(_mm512_loadu_ps(x + 16 * (b + 3)), centre);
            s0 = _mm512_fmadd_ps(d0, d0, s0);
            s1 = _mm512_fmadd_ps(d1, d1, s1);
            s2 = _mm512_fmadd_ps(d2, d2, s2);
            s3 = _mm512_fmadd_ps(d3, d3, s3);
        }
        for (; b < blocks; b++) {
            const __mmask16 mask = block_mask(b, blocks, rest);
            const __m512 d = _mm512_maskz_sub_ps(mask, _mm512_maskz_loadu_ps(mask, x + 16 * b), centre);
            switch (b % 4) {
            case 0: s0 = _mm512_fmadd_ps(d, d, s0); break;
            case 1: s1 = _mm512_fmadd_ps(d, d, s1); break;
            case 2: s2 = _mm512_fmadd_ps(d, d, s2); break;
            default: s3 = _mm512_fmadd_ps(d, d, s3); break;
            }
        }
        const __m512 inverse = _mm512_set1_ps(1.0f / sqrtf(total_of(s0, s1, s2, s3) / (float)width + epsilon));

        for (b = 0; b < blocks; b++) {
            const __mmask16 mask = block_mask(b, blocks, rest);
            const __m512 normed = _mm512_mul_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(mask, x + 16 * b), centre), inverse);
            const __m512 value = _mm512_fmadd_ps(
                normed, _mm512_maskz_loadu_ps(mask, scale + 16 * b), _mm512_maskz_loadu_ps(mask, shift + 16 * b));
            inctrl_store_bf16(y + 16 * b, mask, value);
        }
    }
}
#endif

struct layer_norm_job {
    const float *input;
    const float *scale;
    const float *shift;
    uint16_t *output;
    long width;
    float epsilon;
    int vectorized;
};

static void layer_norm_rows(void *data, long first, long end) {
    const struct layer_norm_job *job = data;
#ifdef INCTRL_HAS_AVX512_PATH
    if (job->vectorized) {
        rows_avx512(job->input, job->scale, job->shift, job->output, first, end, job->width, job->epsilon);
        return;
    }
#endif
    rows_scalar(job->input, job->scale, job->shift, job->output, first, end, job->width, job->epsilon);
}

void inctrl_layer_norm_rows_to_bf16(
    const float *input, const float *scale, const float *shift, uint16_t *output, long rows, long width, float epsilon,
    int vectorized) {
    if (rows <= 0 || width <= 0) return;
    struct layer_norm_job job = {
        input, scale, shift, output, width, epsilon, vectorized && inctrl_kernels_are_vectorized()};
    inctrl_parallel_rows(rows, &job, layer_norm_rows);
}

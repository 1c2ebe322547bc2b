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

/// The total of sixteen lanes, halving as `_mm512_reduce_add_ps` does.
static inline float lane_total(float lanes[16]) {
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
        // Sixteen running sums, as the AVX-512 path keeps them: a wide row's sum then carries
        // a sixteenth of the rounding error of one running sum.
        float sums[16] = {0}, squares[16] = {0};
        for (long i = 0; i < width; i++) sums[i % 16] += x[i];
        const float mean = lane_total(sums) / (float)width;
        for (long i = 0; i < width; i++) squares[i % 16] = fmaf(x[i] - mean, x[i] - mean, squares[i % 16]);
        const float inverse = 1.0f / sqrtf(lane_total(squares) / (float)width + epsilon);
        for (long i = 0; i < width; i++) y[i] = inctrl_bf16_bits((x[i] - mean) * inverse * scale[i] + shift[i]);
    }
}

#ifdef INCTRL_HAS_AVX512_PATH
INCTRL_AVX512 static void rows_avx512(
    const float *input, const float *scale, const float *shift, uint16_t *output, long first, long end, long width,
    float epsilon) {
    const long blocks = (width + 15) / 16;
    const long rest = width % 16;
    for (long row = first; row < end; row++) {
        const float *x = input + row * width;
        uint16_t *y = output + row * width;

        __m512 sum = _mm512_setzero_ps();
        for (long b = 0; b < blocks; b++) {
            const __mmask16 mask = b == blocks - 1 && rest ? (__mmask16)((1u << rest) - 1) : (__mmask16)0xffff;
            sum = _mm512_add_ps(sum, _mm512_maskz_loadu_ps(mask, x + 16 * b));
        }
        const float mean = _mm512_reduce_add_ps(sum) / (float)width;
        const __m512 centre = _mm512_set1_ps(mean);

        __m512 squares = _mm512_setzero_ps();
        for (long b = 0; b < blocks; b++) {
            const __mmask16 mask = b == blocks - 1 && rest ? (__mmask16)((1u << rest) - 1) : (__mmask16)0xffff;
            const __m512 difference = _mm512_maskz_sub_ps(mask, _mm512_maskz_loadu_ps(mask, x + 16 * b), centre);
            squares = _mm512_fmadd_ps(difference, difference, squares);
        }
        const __m512 inverse = _mm512_set1_ps(1.0f / sqrtf(_mm512_reduce_add_ps(squares) / (float)width + epsilon));

        for (long b = 0; b < blocks; b++) {
            const __mmask16 mask = b == blocks - 1 && rest ? (__mmask16)((1u << rest) - 1) : (__mmask16)0xffff;
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
    long rows;
    long width;
    float epsilon;
    int vectorized;
};

static void layer_norm_share(void *data) {
    const struct layer_norm_job *job = data;
    long first, end;
    inctrl_thread_rows(job->rows, &first, &end);
    if (first >= end) return;
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
        input, scale, shift, output, rows, width, epsilon, vectorized && inctrl_kernels_are_vectorized()};
    GOMP_parallel(layer_norm_share, &job, 0, 0);
}

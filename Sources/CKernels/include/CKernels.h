// Hand-written CPU kernels for the few steps oneDNN does not fuse the way the vision tower
// needs them (docs/ARCHITECTURE.md, "Kernels in C"). Swift reaches them through `Tensor`.
#ifndef INCTRL_CKERNELS_H
#define INCTRL_CKERNELS_H

#include <stdint.h>

/// Softmax of each of `rows` rows of `length` fp32 logits (dense, one row after another),
/// each probability rounded to bf16 (to nearest, ties to even) into `probabilities` (dense,
/// the same shape). Per row: m = max, e = exp(x - m), p = e * (1 / sum e), all in fp32.
/// `logits` is used as scratch: on return it holds the unnormalised e.
///
/// Rows are shared among the OpenMP threads oneDNN runs on. `vectorized` = 0 forces the
/// portable path (for tests); otherwise AVX-512 is used where the CPU has it.
void inctrl_softmax_rows_to_bf16(float *logits, uint16_t *probabilities, long rows, long length, int vectorized);

/// LayerNorm of each of `rows` rows of `width` fp32 values (dense), rounded to bf16 (to
/// nearest, ties to even) into `output` (dense, the same shape). Per row, in fp32:
/// mean = sum x / width, variance = sum (x - mean)^2 / width,
/// y = (x - mean) * (1 / sqrt(variance + epsilon)) * scale + shift.
///
/// Rows are shared among the OpenMP threads oneDNN runs on; `vectorized` as for the softmax.
void inctrl_layer_norm_rows_to_bf16(
    const float *input, const float *scale, const float *shift, uint16_t *output, long rows, long width, float epsilon,
    int vectorized);

#endif

/* gst-vlm — element-wise and row-wise float operations of the models.
 *
 * All functions work on float32, are reentrant and allocate nothing.
 * `n` is the row length; in-place use (out == x) is allowed where noted.
 */
#ifndef VLM_OPS_H
#define VLM_OPS_H

#include <stdint.h>

/* out = (x - mean) / sqrt(var + eps) * w + b; w and b may be NULL.
 * In place allowed. */
void vlm_layernorm (const float *x, int64_t n, const float *w,
    const float *b, float eps, float *out);

/* out = x / sqrt(mean(x^2) + eps) * w; w may be NULL. In place allowed. */
void vlm_rmsnorm (const float *x, int64_t n, const float *w, float eps,
    float *out);

/* In place: GELU, tanh approximation
 * 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). */
void vlm_gelu (float *x, int64_t n);

/* In place: GELU (tanh form) the way the reference runtime's CPU backend
 * computes it: x <= -10 gives 0, x >= 10 gives x, anything between is
 * rounded to binary16 and looked up in a table of binary16 results of
 * 0.5 x (1 + tanh(sqrt(2/pi) x (1 + 0.044715 x^2))). The result is thus
 * binary16-valued (relative error up to 2^-11 against vlm_gelu), and much
 * faster than vlm_gelu. The table (128 KiB) is built on first use,
 * thread-safely. */
void vlm_gelu_f16 (float *x, int64_t n);

/* In place: quick GELU through a binary16 table, as the reference
 * runtime computes it (no clamping: every input is rounded to binary16,
 * infinities and NaN included). */
void vlm_gelu_quick_f16 (float *x, int64_t n);

/* In place: every value rounded to the nearest binary16 value (ties to
 * even; overflow to infinity), kept as float. This is what the reference
 * runtime's matrix products do to the activations of F16 weights.
 * Vectorised with F16C where the CPU has it (same results). */
void vlm_round_f16 (float *x, int64_t n);

/* dst[i] = binary16 of src[i] (round to nearest even), vectorised with
 * F16C where the CPU has it (same results as vlm_fp32_to_fp16). */
void vlm_to_f16 (uint16_t *dst, const float *src, int64_t n);

/* In place: quick GELU x * sigmoid(1.702 x) (CLIP's original). */
void vlm_gelu_quick (float *x, int64_t n);

/* In place: SiLU x * sigmoid(x). */
void vlm_silu (float *x, int64_t n);

/* In place: softmax over n values (max-subtracted, float accumulation). */
void vlm_softmax (float *x, int64_t n);

/* y += x */
void vlm_add (float *y, const float *x, int64_t n);

/* y *= x (element-wise) */
void vlm_mul (float *y, const float *x, int64_t n);

/* y *= s */
void vlm_scale (float *y, float s, int64_t n);

/* sum x[i] * y[i] */
float vlm_dot (const float *x, const float *y, int64_t n);

/* Rotates one head in place with RoPE in the "normal" GGUF layout:
 * adjacent pairs (x[2i], x[2i+1]) by angle pos * base^(-2i / n_rot), for
 * 2i < n_rot; dims from n_rot on are left unchanged. */
void vlm_rope (float *x, int64_t head_dim, int64_t n_rot, int64_t pos,
    float freq_base);

#endif /* VLM_OPS_H */

/* gst-vlm — element conversions and block quantisation.
 *
 * Scalar conversions between float32 and the two 16-bit float formats
 * (IEEE binary16 and bfloat16), rounding to nearest with ties to even,
 * and row quantisers/dequantisers for the GGUF block types Q8_0, Q4_0,
 * Q4_K and Q6_K in their exact on-disk layouts:
 *
 *   Q8_0  32 elements:  fp16 d, int8 q[32];            x = d * q
 *   Q4_0  32 elements:  fp16 d, uint8 qs[16];          x = d * (q - 8),
 *                       elements 0..15 in the low nibbles, 16..31 high
 *   Q4_K  256 elements: fp16 d, fp16 dmin, 12 bytes of packed 6-bit
 *                       (scale, min) pairs for 8 sub-blocks of 32,
 *                       128 bytes of nibbles; x = d*sc*q - dmin*m
 *   Q6_K  256 elements: 128 bytes low nibbles, 64 bytes high 2-bit
 *                       pairs, int8 scales[16] (sub-blocks of 16),
 *                       fp16 d; x = d * sc * (q - 32)
 *
 * Rows must hold a whole number of blocks (32 or VLM_QK_K elements).
 * Scales that would overflow fp16 are clamped, so huge inputs saturate
 * instead of turning into infinities. NaN inputs give unspecified (but
 * memory-safe) output.
 *
 * Thread safety: every function is pure and reentrant.
 */
#ifndef VLM_QUANT_H
#define VLM_QUANT_H

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* Scalar 16-bit float conversions                                     */
/* ------------------------------------------------------------------ */

static inline uint32_t
vlm_f32_bits (float f)
{
  uint32_t u;
  memcpy (&u, &f, sizeof u);
  return u;
}

static inline float
vlm_f32_from_bits (uint32_t u)
{
  float f;
  memcpy (&f, &u, sizeof f);
  return f;
}

/* binary16 -> float32; exact for every input (NaN stays NaN). */
static inline float
vlm_fp16_to_fp32 (uint16_t h)
{
  uint32_t sign = (uint32_t) (h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1f;
  uint32_t mant = h & 0x3ff;

  if (exp == 0) {
    /* zero or subnormal: mant * 2^-24, exact in float32 */
    float v = (float) mant * 0x1p-24f;
    return vlm_f32_from_bits (vlm_f32_bits (v) | sign);
  }
  if (exp == 31)
    return vlm_f32_from_bits (sign | 0x7f800000u | (mant << 13));
  return vlm_f32_from_bits (sign | ((exp + 112) << 23) | (mant << 13));
}

/* float32 -> binary16, round to nearest even; overflow gives infinity,
 * NaN gives a quiet NaN. */
uint16_t vlm_fp32_to_fp16 (float f);

/* The binary16 nearest to v (ties to even) as a float, in one rounding
 * from double: no detour through float, which could round twice. Exact
 * for every finite v; overflow gives infinity. (A binary16 product plus
 * a binary16 sum is exact in double, so this rounds binary16 arithmetic
 * exactly.) */
static inline float
vlm_round_f16_d (double v)
{
  uint64_t u;
  memcpy (&u, &v, sizeof u);
  uint64_t sign = u & 0x8000000000000000ull, a = u ^ sign;
  int e = (int) (a >> 52) - 1023;

  /* normal binary16 range: round the 52-bit fraction to 10 bits */
  if (e >= -14 && e <= 15) {
    const uint64_t lsb = 1ull << 42, half = lsb >> 1;
    uint64_t rem = a & (lsb - 1);
    uint64_t up = (uint64_t) (rem > half) | ((uint64_t) (rem == half)
        & (a >> 42));
    a = a - rem + ((up & 1) << 42);
    u = a | sign;
    memcpy (&v, &u, sizeof v);
    return fabs (v) >= 65520.0 ? (float) copysign (INFINITY, v) : (float) v;
  }
  if (v == 0.0 || !isfinite (v))
    return (float) v;
  frexp (fabs (v), &e);
  double ulp = ldexp (1.0, (e - 1 < -14 ? -14 : e - 1) - 10);
  double r = nearbyint (fabs (v) / ulp) * ulp;
  return (float) copysign (r >= 65520.0 ? INFINITY : r, v);
}

/* bfloat16 -> float32; exact. */
static inline float
vlm_bf16_to_fp32 (uint16_t b)
{
  return vlm_f32_from_bits ((uint32_t) b << 16);
}

/* float32 -> bfloat16, round to nearest even; NaN gives a quiet NaN. */
uint16_t vlm_fp32_to_bf16 (float f);

/* ------------------------------------------------------------------ */
/* Rows                                                                */
/* ------------------------------------------------------------------ */

/* Each quantiser encodes `n` floats from `x` into `y` and returns the
 * number of bytes written (vlm_type_row_bytes of the type), or 0 without
 * touching `y` when `n` is not a positive multiple of the block size.
 * Each dequantiser decodes `n` elements from `x` into `y` and returns
 * the number of bytes read, or 0 for a bad `n`. */
size_t vlm_quantize_row_q8_0 (const float *x, void *y, int64_t n);
size_t vlm_quantize_row_q4_0 (const float *x, void *y, int64_t n);
size_t vlm_quantize_row_q4_k (const float *x, void *y, int64_t n);
size_t vlm_quantize_row_q6_k (const float *x, void *y, int64_t n);

size_t vlm_dequantize_row_q8_0 (const void *x, float *y, int64_t n);
size_t vlm_dequantize_row_q4_0 (const void *x, float *y, int64_t n);
size_t vlm_dequantize_row_q4_k (const void *x, float *y, int64_t n);
size_t vlm_dequantize_row_q6_k (const void *x, float *y, int64_t n);

/* Generic forms for any type in {F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q6_K}.
 * Same return convention; 0 also for any other type. */
size_t vlm_quantize_row (vlm_type type, const float *x, void *y, int64_t n);
size_t vlm_dequantize_row (vlm_type type, const void *x, float *y,
    int64_t n);

/* true when vlm_quantize_row/vlm_dequantize_row handle `type`. */
bool vlm_quant_supports (vlm_type type);

#ifdef __cplusplus
}
#endif

#endif /* VLM_QUANT_H */

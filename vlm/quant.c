/* gst-vlm — element conversions and block quantisation. */
#include "quant.h"

#include <math.h>

/* Largest finite binary16 value. */
#define FP16_MAX 65504.0f

#define QK8_0 32
#define QK4_0 32

/* ------------------------------------------------------------------ */
/* Scalar 16-bit float conversions                                     */
/* ------------------------------------------------------------------ */

/* Shifts `v` right by `s` (1..31) bits, rounding to nearest even. */
static uint32_t
shift_round_even (uint32_t v, unsigned s)
{
  uint32_t q = v >> s;
  uint32_t rem = v & ((1u << s) - 1);
  uint32_t half = 1u << (s - 1);

  if (rem > half || (rem == half && (q & 1)))
    q++;
  return q;
}

uint16_t
vlm_fp32_to_fp16 (float f)
{
  uint32_t x = vlm_f32_bits (f);
  uint16_t sign = (uint16_t) ((x >> 16) & 0x8000);
  uint32_t ax = x & 0x7fffffffu;

  /* NaN: keep the top payload bits and force it quiet */
  if (ax > 0x7f800000u)
    return sign | 0x7e00 | (uint16_t) ((ax >> 13) & 0x3ff);
  /* 65520 and above (the tie above 65504 goes up) round to infinity */
  if (ax >= 0x477ff000u)
    return sign | 0x7c00;
  /* normal binary16 range: rebias the exponent, round 13 bits away;
   * a carry out of the mantissa correctly bumps the exponent */
  if (ax >= 0x38800000u)
    return sign | (uint16_t) shift_round_even (ax - 0x38000000u, 13);

  /* subnormal result: count in units of 2^-24 */
  uint32_t e = ax >> 23;
  if (e < 102)
    return sign;                /* below 2^-25: rounds to zero */
  uint32_t mant = (ax & 0x7fffffu) | 0x800000u;
  return sign | (uint16_t) shift_round_even (mant, 126 - e);
}

uint16_t
vlm_fp32_to_bf16 (float f)
{
  uint32_t x = vlm_f32_bits (f);

  if ((x & 0x7fffffffu) > 0x7f800000u)
    return (uint16_t) ((x >> 16) | 0x40);
  /* overflow of the rounding carries into the exponent: inf, correct */
  return (uint16_t) ((x + 0x7fffu + ((x >> 16) & 1)) >> 16);
}

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

/* Stores a block scale as fp16, clamped to the finite range, and gives
 * back the value a reader will see. */
static float
put_scale (uint8_t *dst, float d)
{
  uint16_t h;

  if (d > FP16_MAX)
    d = FP16_MAX;
  else if (d < -FP16_MAX)
    d = -FP16_MAX;
  h = vlm_fp32_to_fp16 (d);
  memcpy (dst, &h, 2);
  return vlm_fp16_to_fp32 (h);
}

static float
get_scale (const uint8_t *src)
{
  uint16_t h;
  memcpy (&h, src, 2);
  return vlm_fp16_to_fp32 (h);
}

static int
clamp_int (int v, int lo, int hi)
{
  return v < lo ? lo : (v > hi ? hi : v);
}

/* Rounds to nearest, ties to even, and clamps to [lo, hi] (NaN gives lo).
 * Once clamped |v| is small, so adding and removing 1.5 * 2^23 rounds it
 * in the FPU's default mode without a library call. */
static int
quant_clamp (float v, int lo, int hi)
{
  const float magic = 12582912.0f;

  if (!(v > (float) lo))
    return lo;
  if (v > (float) hi)
    return hi;
  float shifted = v + magic;
  return clamp_int ((int) (shifted - magic), lo, hi);
}

/* The element of largest magnitude, with its sign. */
static float
signed_absmax (const float *x, int n)
{
  float best = 0.0f, amax = 0.0f;

  for (int i = 0; i < n; i++) {
    float a = fabsf (x[i]);
    if (a > amax) {
      amax = a;
      best = x[i];
    }
  }
  return best;
}

static bool
row_ok (int64_t n, int64_t block)
{
  return n > 0 && n % block == 0;
}

/* ------------------------------------------------------------------ */
/* Q8_0                                                                */
/* ------------------------------------------------------------------ */

size_t
vlm_quantize_row_q8_0 (const float *x, void *y, int64_t n)
{
  uint8_t *out = y;

  if (!row_ok (n, QK8_0))
    return 0;
  for (int64_t b = 0; b < n / QK8_0; b++, x += QK8_0, out += 34) {
    float amax = fabsf (signed_absmax (x, QK8_0));
    float d = put_scale (out, amax / 127.0f);
    float id = d != 0.0f ? 1.0f / d : 0.0f;
    int8_t *q = (int8_t *) (out + 2);

    for (int i = 0; i < QK8_0; i++)
      q[i] = (int8_t) quant_clamp (x[i] * id, -127, 127);
  }
  return (size_t) (n / QK8_0) * 34;
}

size_t
vlm_dequantize_row_q8_0 (const void *x, float *y, int64_t n)
{
  const uint8_t *in = x;

  if (!row_ok (n, QK8_0))
    return 0;
  for (int64_t b = 0; b < n / QK8_0; b++, in += 34, y += QK8_0) {
    float d = get_scale (in);
    const int8_t *q = (const int8_t *) (in + 2);

    for (int i = 0; i < QK8_0; i++)
      y[i] = d * (float) q[i];
  }
  return (size_t) (n / QK8_0) * 34;
}

/* ------------------------------------------------------------------ */
/* Q4_0                                                                */
/* ------------------------------------------------------------------ */

size_t
vlm_quantize_row_q4_0 (const float *x, void *y, int64_t n)
{
  uint8_t *out = y;

  if (!row_ok (n, QK4_0))
    return 0;
  for (int64_t b = 0; b < n / QK4_0; b++, x += QK4_0, out += 18) {
    /* the extreme element maps to -8, the one level with no mirror */
    float d = put_scale (out, signed_absmax (x, QK4_0) / -8.0f);
    float id = d != 0.0f ? 1.0f / d : 0.0f;

    for (int i = 0; i < QK4_0 / 2; i++) {
      int lo = quant_clamp (x[i] * id + 8.0f, 0, 15);
      int hi = quant_clamp (x[i + QK4_0 / 2] * id + 8.0f, 0, 15);
      out[2 + i] = (uint8_t) (lo | (hi << 4));
    }
  }
  return (size_t) (n / QK4_0) * 18;
}

size_t
vlm_dequantize_row_q4_0 (const void *x, float *y, int64_t n)
{
  const uint8_t *in = x;

  if (!row_ok (n, QK4_0))
    return 0;
  for (int64_t b = 0; b < n / QK4_0; b++, in += 18, y += QK4_0) {
    float d = get_scale (in);

    for (int i = 0; i < QK4_0 / 2; i++) {
      y[i] = d * (float) ((in[2 + i] & 0xf) - 8);
      y[i + QK4_0 / 2] = d * (float) ((in[2 + i] >> 4) - 8);
    }
  }
  return (size_t) (n / QK4_0) * 18;
}

/* ------------------------------------------------------------------ */
/* Q4_K                                                                */
/* ------------------------------------------------------------------ */

#define Q4K_BYTES 144
#define Q4K_SUB 32

/* Squared error of x ~ a*q + b with q the nearest level in 0..nmax. */
static float
affine_error (const float *x, int n, int nmax, float a, float b)
{
  float err = 0.0f, ia = 1.0f / a;

  for (int i = 0; i < n; i++) {
    int q = quant_clamp ((x[i] - b) * ia, 0, nmax);
    float e = a * (float) q + b - x[i];
    err += e * e;
  }
  return err;
}

/* Fits x ~ a*q + b (a >= 0, b <= 0, q in 0..nmax) by alternating the
 * level assignment with a least-squares solve for (a, b). */
static void
fit_affine (const float *x, int n, int nmax, float *scale, float *offset)
{
  float xmin = x[0], xmax = x[0];

  for (int i = 1; i < n; i++) {
    xmin = fminf (xmin, x[i]);
    xmax = fmaxf (xmax, x[i]);
  }
  if (xmin > 0.0f)
    xmin = 0.0f;
  *offset = xmin;
  *scale = 0.0f;
  if (!(xmax > xmin))
    return;

  float a = (xmax - xmin) / (float) nmax, b = xmin;
  float best = affine_error (x, n, nmax, a, b);
  *scale = a;

  for (int iter = 0; iter < 4; iter++) {
    float sq = 0.0f, sqq = 0.0f, sx = 0.0f, sqx = 0.0f, ia = 1.0f / a;
    for (int i = 0; i < n; i++) {
      float q = (float) quant_clamp ((x[i] - b) * ia, 0, nmax);
      sq += q;
      sqq += q * q;
      sx += x[i];
      sqx += q * x[i];
    }
    float denom = (float) n * sqq - sq * sq;
    if (!(denom > 0.0f))
      break;
    float na = ((float) n * sqx - sq * sx) / denom;
    float nb = (sx - na * sq) / (float) n;
    if (nb > 0.0f) {
      /* the format only offsets downwards: refit the scale alone */
      nb = 0.0f;
      na = sqx / sqq;
    }
    if (!(na > 0.0f))
      break;
    float err = affine_error (x, n, nmax, na, nb);
    if (!(err < best))
      break;
    best = err;
    a = na;
    b = nb;
    *scale = a;
    *offset = b;
  }
}

/* Packs eight 6-bit scales and mins into the 12-byte Q4_K layout. */
static void
pack_scales_k4 (uint8_t *s, const uint8_t *sc, const uint8_t *m)
{
  for (int j = 0; j < 4; j++) {
    s[j] = (uint8_t) (sc[j] | ((sc[j + 4] >> 4) << 6));
    s[j + 4] = (uint8_t) (m[j] | ((m[j + 4] >> 4) << 6));
    s[j + 8] = (uint8_t) ((sc[j + 4] & 0xf) | ((m[j + 4] & 0xf) << 4));
  }
}

static void
unpack_scale_k4 (const uint8_t *s, int j, int *sc, int *m)
{
  if (j < 4) {
    *sc = s[j] & 63;
    *m = s[j + 4] & 63;
  } else {
    *sc = (s[j + 4] & 0xf) | ((s[j - 4] >> 6) << 4);
    *m = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
  }
}

static void
quantize_block_q4_k (const float *x, uint8_t *out)
{
  float scale[8], mins[8], max_scale = 0.0f, max_min = 0.0f;
  uint8_t ls[8], lm[8], q[VLM_QK_K];

  for (int j = 0; j < 8; j++) {
    float off;
    fit_affine (x + j * Q4K_SUB, Q4K_SUB, 15, &scale[j], &off);
    mins[j] = -off;
    max_scale = fmaxf (max_scale, scale[j]);
    max_min = fmaxf (max_min, mins[j]);
  }

  /* super-block scales, then each sub-block's 6-bit multiples of them */
  float d = put_scale (out, max_scale / 63.0f);
  float dmin = put_scale (out + 2, max_min / 63.0f);
  for (int j = 0; j < 8; j++) {
    ls[j] = (uint8_t) (d > 0.0f ? quant_clamp (scale[j] / d, 0, 63) : 0);
    lm[j] = (uint8_t) (dmin > 0.0f ? quant_clamp (mins[j] / dmin, 0, 63) : 0);
  }
  pack_scales_k4 (out + 4, ls, lm);

  /* levels against the scales the reader will actually use */
  for (int j = 0; j < 8; j++) {
    float a = d * (float) ls[j], b = dmin * (float) lm[j];
    float ia = a > 0.0f ? 1.0f / a : 0.0f;
    for (int i = 0; i < Q4K_SUB; i++) {
      float v = x[j * Q4K_SUB + i];
      q[j * Q4K_SUB + i] = (uint8_t) quant_clamp ((v + b) * ia, 0, 15);
    }
  }

  /* each 64-element chunk: first 32 in low nibbles, next 32 in high */
  uint8_t *qs = out + 16;
  for (int c = 0; c < 4; c++)
    for (int l = 0; l < 32; l++)
      qs[32 * c + l] = (uint8_t) (q[64 * c + l] | (q[64 * c + 32 + l] << 4));
}

size_t
vlm_quantize_row_q4_k (const float *x, void *y, int64_t n)
{
  uint8_t *out = y;

  if (!row_ok (n, VLM_QK_K))
    return 0;
  for (int64_t b = 0; b < n / VLM_QK_K; b++)
    quantize_block_q4_k (x + b * VLM_QK_K, out + b * Q4K_BYTES);
  return (size_t) (n / VLM_QK_K) * Q4K_BYTES;
}

size_t
vlm_dequantize_row_q4_k (const void *x, float *y, int64_t n)
{
  const uint8_t *in = x;

  if (!row_ok (n, VLM_QK_K))
    return 0;
  for (int64_t b = 0; b < n / VLM_QK_K; b++, in += Q4K_BYTES) {
    float d = get_scale (in), dmin = get_scale (in + 2);
    const uint8_t *qs = in + 16;

    for (int c = 0; c < 4; c++) {
      int sc0, m0, sc1, m1;
      unpack_scale_k4 (in + 4, 2 * c, &sc0, &m0);
      unpack_scale_k4 (in + 4, 2 * c + 1, &sc1, &m1);
      float a0 = d * (float) sc0, b0 = dmin * (float) m0;
      float a1 = d * (float) sc1, b1 = dmin * (float) m1;
      for (int l = 0; l < 32; l++) {
        y[l] = a0 * (float) (qs[l] & 0xf) - b0;
        y[32 + l] = a1 * (float) (qs[l] >> 4) - b1;
      }
      y += 64;
      qs += 32;
    }
  }
  return (size_t) (n / VLM_QK_K) * Q4K_BYTES;
}

/* ------------------------------------------------------------------ */
/* Q6_K                                                                */
/* ------------------------------------------------------------------ */

#define Q6K_BYTES 210
#define Q6K_SUB 16

/* Squared error of x ~ s*q with q the nearest level in -32..31. */
static float
symmetric_error (const float *x, int n, float s)
{
  float err = 0.0f, is = 1.0f / s;

  for (int i = 0; i < n; i++) {
    float e = s * (float) quant_clamp (x[i] * is, -32, 31) - x[i];
    err += e * e;
  }
  return err;
}

/* Picks the sub-block scale: the extreme element mapped onto a few
 * levels near either end of -32..31, keeping the smallest error. */
static float
fit_symmetric (const float *x, int n)
{
  static const float targets[] = { -32.0f, -31.0f, -30.0f, 31.0f, 30.0f };
  float vmax = signed_absmax (x, n), best_s = 0.0f, best = INFINITY;

  if (vmax == 0.0f)
    return 0.0f;
  for (size_t t = 0; t < sizeof targets / sizeof targets[0]; t++) {
    float s = vmax / targets[t];
    float err = symmetric_error (x, n, s);
    if (err < best) {
      best = err;
      best_s = s;
    }
  }
  return best_s;
}

static void
quantize_block_q6_k (const float *x, uint8_t *out)
{
  float scale[16], max_abs = 0.0f;
  uint8_t u[VLM_QK_K];
  uint8_t *ql = out, *qh = out + 128;
  int8_t *sc = (int8_t *) (out + 192);

  for (int j = 0; j < 16; j++) {
    scale[j] = fit_symmetric (x + j * Q6K_SUB, Q6K_SUB);
    max_abs = fmaxf (max_abs, fabsf (scale[j]));
  }

  float d = put_scale (out + 208, max_abs / 127.0f);
  for (int j = 0; j < 16; j++) {
    sc[j] = (int8_t) (d > 0.0f ? quant_clamp (scale[j] / d, -127, 127) : 0);
    float s = d * (float) sc[j];
    float is = s != 0.0f ? 1.0f / s : 0.0f;
    for (int i = 0; i < Q6K_SUB; i++) {
      int q = quant_clamp (x[j * Q6K_SUB + i] * is, -32, 31);
      u[j * Q6K_SUB + i] = (uint8_t) (q + 32);
    }
  }

  /* per 128-element half: four groups of 32 share ql/qh bytes */
  for (int h = 0; h < 2; h++) {
    const uint8_t *v = u + 128 * h;
    for (int l = 0; l < 32; l++) {
      ql[64 * h + l] = (uint8_t) ((v[l] & 0xf) | ((v[l + 64] & 0xf) << 4));
      ql[64 * h + 32 + l] =
          (uint8_t) ((v[l + 32] & 0xf) | ((v[l + 96] & 0xf) << 4));
      qh[32 * h + l] = (uint8_t) ((v[l] >> 4) | ((v[l + 32] >> 4) << 2) |
          ((v[l + 64] >> 4) << 4) | ((v[l + 96] >> 4) << 6));
    }
  }
}

size_t
vlm_quantize_row_q6_k (const float *x, void *y, int64_t n)
{
  uint8_t *out = y;

  if (!row_ok (n, VLM_QK_K))
    return 0;
  for (int64_t b = 0; b < n / VLM_QK_K; b++)
    quantize_block_q6_k (x + b * VLM_QK_K, out + b * Q6K_BYTES);
  return (size_t) (n / VLM_QK_K) * Q6K_BYTES;
}

size_t
vlm_dequantize_row_q6_k (const void *x, float *y, int64_t n)
{
  const uint8_t *in = x;

  if (!row_ok (n, VLM_QK_K))
    return 0;
  for (int64_t b = 0; b < n / VLM_QK_K; b++, in += Q6K_BYTES) {
    float d = get_scale (in + 208);
    const int8_t *sc = (const int8_t *) (in + 192);

    for (int h = 0; h < 2; h++, y += 128) {
      const uint8_t *ql = in + 64 * h, *qh = in + 128 + 32 * h;
      const int8_t *s = sc + 8 * h;
      for (int l = 0; l < 32; l++) {
        int q0 = (ql[l] & 0xf) | (((qh[l] >> 0) & 3) << 4);
        int q1 = (ql[l + 32] & 0xf) | (((qh[l] >> 2) & 3) << 4);
        int q2 = (ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4);
        int q3 = (ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4);
        int is = l / 16;
        y[l] = d * (float) s[is] * (float) (q0 - 32);
        y[l + 32] = d * (float) s[is + 2] * (float) (q1 - 32);
        y[l + 64] = d * (float) s[is + 4] * (float) (q2 - 32);
        y[l + 96] = d * (float) s[is + 6] * (float) (q3 - 32);
      }
    }
  }
  return (size_t) (n / VLM_QK_K) * Q6K_BYTES;
}

/* ------------------------------------------------------------------ */
/* Generic dispatch                                                    */
/* ------------------------------------------------------------------ */

bool
vlm_quant_supports (vlm_type type)
{
  switch (type) {
    case VLM_TYPE_F32:
    case VLM_TYPE_F16:
    case VLM_TYPE_BF16:
    case VLM_TYPE_Q8_0:
    case VLM_TYPE_Q4_0:
    case VLM_TYPE_Q4_K:
    case VLM_TYPE_Q6_K:
      return true;
    default:
      return false;
  }
}

size_t
vlm_quantize_row (vlm_type type, const float *x, void *y, int64_t n)
{
  switch (type) {
    case VLM_TYPE_F32:
      if (n <= 0)
        return 0;
      memcpy (y, x, (size_t) n * 4);
      return (size_t) n * 4;
    case VLM_TYPE_F16:
    case VLM_TYPE_BF16:{
      uint16_t *o = y;
      if (n <= 0)
        return 0;
      for (int64_t i = 0; i < n; i++)
        o[i] = type == VLM_TYPE_F16 ? vlm_fp32_to_fp16 (x[i])
            : vlm_fp32_to_bf16 (x[i]);
      return (size_t) n * 2;
    }
    case VLM_TYPE_Q8_0:
      return vlm_quantize_row_q8_0 (x, y, n);
    case VLM_TYPE_Q4_0:
      return vlm_quantize_row_q4_0 (x, y, n);
    case VLM_TYPE_Q4_K:
      return vlm_quantize_row_q4_k (x, y, n);
    case VLM_TYPE_Q6_K:
      return vlm_quantize_row_q6_k (x, y, n);
    default:
      return 0;
  }
}

size_t
vlm_dequantize_row (vlm_type type, const void *x, float *y, int64_t n)
{
  switch (type) {
    case VLM_TYPE_F32:
      if (n <= 0)
        return 0;
      memcpy (y, x, (size_t) n * 4);
      return (size_t) n * 4;
    case VLM_TYPE_F16:
    case VLM_TYPE_BF16:{
      const uint16_t *h = x;
      if (n <= 0)
        return 0;
      for (int64_t i = 0; i < n; i++)
        y[i] = type == VLM_TYPE_F16 ? vlm_fp16_to_fp32 (h[i])
            : vlm_bf16_to_fp32 (h[i]);
      return (size_t) n * 2;
    }
    case VLM_TYPE_Q8_0:
      return vlm_dequantize_row_q8_0 (x, y, n);
    case VLM_TYPE_Q4_0:
      return vlm_dequantize_row_q4_0 (x, y, n);
    case VLM_TYPE_Q4_K:
      return vlm_dequantize_row_q4_k (x, y, n);
    case VLM_TYPE_Q6_K:
      return vlm_dequantize_row_q6_k (x, y, n);
    default:
      return 0;
  }
}

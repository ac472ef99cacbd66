/* gst-vlm — element-wise and row-wise float operations. */
#include "ops.h"

#include <math.h>
#include <pthread.h>
#include <stdbool.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "cpu.h"
#include "quant.h"

/* ------------------------------------------------------------------ */
/* Normalisation                                                       */
/* ------------------------------------------------------------------ */

void
vlm_layernorm (const float *x, int64_t n, const float *w, const float *b,
    float eps, float *out)
{
  double sum = 0, sum2 = 0;
  for (int64_t i = 0; i < n; i++)
    sum += x[i];
  float mean = (float) (sum / n);
  for (int64_t i = 0; i < n; i++) {
    float d = x[i] - mean;
    sum2 += (double) d * d;
  }
  float inv = 1.0f / sqrtf ((float) (sum2 / n) + eps);
  for (int64_t i = 0; i < n; i++) {
    float v = (x[i] - mean) * inv;
    if (w)
      v *= w[i];
    if (b)
      v += b[i];
    out[i] = v;
  }
}

void
vlm_rmsnorm (const float *x, int64_t n, const float *w, float eps,
    float *out)
{
  double sum2 = 0;
  for (int64_t i = 0; i < n; i++)
    sum2 += (double) x[i] * x[i];
  float inv = 1.0f / sqrtf ((float) (sum2 / n) + eps);
  for (int64_t i = 0; i < n; i++)
    out[i] = x[i] * inv * (w ? w[i] : 1.0f);
}

/* ------------------------------------------------------------------ */
/* Activations                                                         */
/* ------------------------------------------------------------------ */

void
vlm_gelu (float *x, int64_t n)
{
  const float c = 0.7978845608028654f;  /* sqrt(2/pi) */
  for (int64_t i = 0; i < n; i++) {
    float v = x[i];
    x[i] = 0.5f * v * (1.0f + tanhf (c * (v + 0.044715f * v * v * v)));
  }
}

void
vlm_gelu_quick (float *x, int64_t n)
{
  for (int64_t i = 0; i < n; i++)
    x[i] = x[i] / (1.0f + expf (-1.702f * x[i]));
}

void
vlm_silu (float *x, int64_t n)
{
  for (int64_t i = 0; i < n; i++)
    x[i] = x[i] / (1.0f + expf (-x[i]));
}

void
vlm_softmax (float *x, int64_t n)
{
  float max = -INFINITY;
  for (int64_t i = 0; i < n; i++)
    max = x[i] > max ? x[i] : max;
  double sum = 0;
  for (int64_t i = 0; i < n; i++) {
    x[i] = expf (x[i] - max);
    sum += x[i];
  }
  float inv = (float) (1.0 / sum);
  for (int64_t i = 0; i < n; i++)
    x[i] *= inv;
}

/* ------------------------------------------------------------------ */
/* Vector arithmetic                                                   */
/* ------------------------------------------------------------------ */

void
vlm_add (float *y, const float *x, int64_t n)
{
  for (int64_t i = 0; i < n; i++)
    y[i] += x[i];
}

void
vlm_mul (float *y, const float *x, int64_t n)
{
  for (int64_t i = 0; i < n; i++)
    y[i] *= x[i];
}

void
vlm_scale (float *y, float s, int64_t n)
{
  for (int64_t i = 0; i < n; i++)
    y[i] *= s;
}

float
vlm_dot (const float *x, const float *y, int64_t n)
{
  float s = 0;
  for (int64_t i = 0; i < n; i++)
    s += x[i] * y[i];
  return s;
}

/* ------------------------------------------------------------------ */
/* Rotary position embedding                                           */
/* ------------------------------------------------------------------ */

void
vlm_rope (float *x, int64_t head_dim, int64_t n_rot, int64_t pos,
    float freq_base)
{
  for (int64_t i = 0; i + 1 < n_rot && i + 1 < head_dim; i += 2) {
    float theta = (float) pos * powf (freq_base, -(float) i / (float) n_rot);
    float c = cosf (theta), s = sinf (theta);
    float a = x[i], b = x[i + 1];
    x[i] = a * c - b * s;
    x[i + 1] = a * s + b * c;
  }
}

/* ------------------------------------------------------------------ */
/* Binary16 tables and rounding                                        */
/* ------------------------------------------------------------------ */

static uint16_t gelu_table[65536];
static uint16_t gelu_quick_table[65536];
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

/* The reference's formula, in float, on every binary16 input; its
 * compiler contracts 1 + a x x into a fused multiply-add, which changes
 * one binary16 entry of 63488 (and the golden embeddings bit for bit). */
static void
build_tables (void)
{
  const float c = 0.7978845608028654f, a = 0.044715f;

  for (uint32_t i = 0; i < 65536; i++) {
    float x = vlm_fp16_to_fp32 ((uint16_t) i);
    float g = 0.5f * x * (1.0f + tanhf (c * x * fmaf (a * x, x, 1.0f)));
    float q = x * (1.0f / (1.0f + expf (-1.702f * x)));
    gelu_table[i] = vlm_fp32_to_fp16 (g);
    gelu_quick_table[i] = vlm_fp32_to_fp16 (q);
  }
}

#if defined(__x86_64__)
#define F16C_TGT __attribute__((target ("avx2,fma,f16c")))

F16C_TGT static void
round_f16_f16c (float *x, int64_t n)
{
  int64_t i = 0;

  for (; i + 8 <= n; i += 8) {
    __m128i h = _mm256_cvtps_ph (_mm256_loadu_ps (x + i),
        _MM_FROUND_TO_NEAREST_INT);
    _mm256_storeu_ps (x + i, _mm256_cvtph_ps (h));
  }
  for (; i < n; i++)
    x[i] = _cvtsh_ss (_cvtss_sh (x[i], _MM_FROUND_TO_NEAREST_INT));
}

F16C_TGT static void
to_f16_f16c (uint16_t *dst, const float *src, int64_t n)
{
  int64_t i = 0;

  for (; i + 8 <= n; i += 8)
    _mm_storeu_si128 ((__m128i *) (dst + i), _mm256_cvtps_ph (
            _mm256_loadu_ps (src + i), _MM_FROUND_TO_NEAREST_INT));
  for (; i < n; i++)
    dst[i] = _cvtss_sh (src[i], _MM_FROUND_TO_NEAREST_INT);
}

/* Table lookups with the binary16 indices computed eight at a time. */
F16C_TGT static void
lookup_f16c (float *x, int64_t n, const uint16_t *table, bool clamp)
{
  int64_t i = 0;
  uint16_t idx[8];

  for (; i + 8 <= n; i += 8) {
    __m256 v = _mm256_loadu_ps (x + i);
    _mm_storeu_si128 ((__m128i *) idx, _mm256_cvtps_ph (v,
            _MM_FROUND_TO_NEAREST_INT));
    for (int l = 0; l < 8; l++) {
      float xv = x[i + l];
      if (clamp && xv <= -10.0f)
        x[i + l] = 0.0f;
      else if (!(clamp && xv >= 10.0f))
        x[i + l] = _cvtsh_ss (table[idx[l]]);
    }
  }
  for (; i < n; i++) {
    float xv = x[i];
    if (clamp && xv <= -10.0f)
      x[i] = 0.0f;
    else if (!(clamp && xv >= 10.0f))
      x[i] = _cvtsh_ss (table[_cvtss_sh (xv, _MM_FROUND_TO_NEAREST_INT)]);
  }
}
#endif

static bool
have_f16c (void)
{
#if defined(__x86_64__)
  return vlm_cpu_get_level () >= VLM_CPU_AVX2
      && vlm_cpu_get_level () <= VLM_CPU_AVX512;
#else
  return false;
#endif
}

static void
lookup_ref (float *x, int64_t n, const uint16_t *table, bool clamp)
{
  for (int64_t i = 0; i < n; i++) {
    float xv = x[i];
    if (clamp && xv <= -10.0f)
      x[i] = 0.0f;
    else if (!(clamp && xv >= 10.0f))
      x[i] = vlm_fp16_to_fp32 (table[vlm_fp32_to_fp16 (xv)]);
  }
}

static void
lookup (float *x, int64_t n, const uint16_t *table, bool clamp)
{
  pthread_once (&tables_once, build_tables);
#if defined(__x86_64__)
  if (have_f16c ()) {
    lookup_f16c (x, n, table, clamp);
    return;
  }
#endif
  lookup_ref (x, n, table, clamp);
}

void
vlm_gelu_f16 (float *x, int64_t n)
{
  lookup (x, n, gelu_table, true);
}

void
vlm_gelu_quick_f16 (float *x, int64_t n)
{
  lookup (x, n, gelu_quick_table, false);
}

void
vlm_round_f16 (float *x, int64_t n)
{
#if defined(__x86_64__)
  if (have_f16c ()) {
    round_f16_f16c (x, n);
    return;
  }
#endif
  for (int64_t i = 0; i < n; i++)
    x[i] = vlm_fp16_to_fp32 (vlm_fp32_to_fp16 (x[i]));
}

void
vlm_to_f16 (uint16_t *dst, const float *src, int64_t n)
{
#if defined(__x86_64__)
  if (have_f16c ()) {
    to_f16_f16c (dst, src, n);
    return;
  }
#endif
  for (int64_t i = 0; i < n; i++)
    dst[i] = vlm_fp32_to_fp16 (src[i]);
}

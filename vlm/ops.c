/* gst-vlm — element-wise and row-wise float operations. */
#include "ops.h"

#include <math.h>

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

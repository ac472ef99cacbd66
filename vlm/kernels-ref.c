/* gst-vlm — reference (portable C) kernels; the definition of every path.
 *
 * Integer dot products are exact; each block's integer sum is scaled in
 * float and added in block order.
 */
#include "kernels.h"

#include <math.h>

#include "quant.h"

/* ------------------------------------------------------------------ */
/* Activation quantisers                                               */
/* ------------------------------------------------------------------ */

static float
absmax (const float *x, int n)
{
  float amax = 0.0f;
  for (int i = 0; i < n; i++)
    amax = fmaxf (amax, fabsf (x[i]));
  return amax;
}

void
vlm_k_quant_q8_0_ref (const float *x, void *y, int64_t k)
{
  uint8_t *out = y;

  for (int64_t b = 0; b < k / VLM_QK8_0; b++, x += 32, out += 34) {
    float d = absmax (x, 32) / 127.0f;
    float id = d != 0.0f ? 1.0f / d : 0.0f;
    uint16_t h = vlm_fp32_to_fp16 (d);
    int8_t *q = (int8_t *) (out + 2);

    memcpy (out, &h, 2);
    for (int i = 0; i < 32; i++)
      q[i] = (int8_t) lrintf (x[i] * id);
  }
}

void
vlm_k_quant_q8_k_ref (const float *x, void *y, int64_t k)
{
  vlm_block_q8_k *out = y;

  for (int64_t b = 0; b < k / VLM_QK_K; b++, x += VLM_QK_K, out++) {
    float d = absmax (x, VLM_QK_K) / 127.0f;
    float id = d != 0.0f ? 1.0f / d : 0.0f;

    out->d = d;
    for (int i = 0; i < VLM_QK_K; i++)
      out->q[i] = (int8_t) lrintf (x[i] * id);
    for (int g = 0; g < VLM_QK_K / 16; g++) {
      int s = 0;
      for (int i = 0; i < 16; i++)
        s += out->q[16 * g + i];
      out->bsums[g] = (int16_t) s;
    }
  }
}

/* ------------------------------------------------------------------ */
/* Row dot products                                                    */
/* ------------------------------------------------------------------ */

static float
fp16 (const uint8_t *p)
{
  return vlm_fp16_to_fp32 (vlm_k_u16 (p));
}

static float
dot_f32 (int64_t k, const uint8_t *w, const float *x)
{
  float s = 0.0f, v;
  for (int64_t l = 0; l < k; l++) {
    memcpy (&v, w + 4 * l, 4);
    s += v * x[l];
  }
  return s;
}

static float
dot_f16 (int64_t k, const uint8_t *w, const float *x)
{
  float s = 0.0f;
  for (int64_t l = 0; l < k; l++)
    s += fp16 (w + 2 * l) * x[l];
  return s;
}

static float
dot_bf16 (int64_t k, const uint8_t *w, const float *x)
{
  float s = 0.0f;
  for (int64_t l = 0; l < k; l++)
    s += vlm_bf16_to_fp32 (vlm_k_u16 (w + 2 * l)) * x[l];
  return s;
}

static float
dot_q8_0 (int64_t k, const uint8_t *w, const uint8_t *x)
{
  float s = 0.0f;
  for (int64_t b = 0; b < k / 32; b++, w += 34, x += 34) {
    const int8_t *qw = (const int8_t *) (w + 2), *qx = (const int8_t *) (x + 2);
    int sum = 0;
    for (int i = 0; i < 32; i++)
      sum += qw[i] * qx[i];
    s += fp16 (w) * fp16 (x) * (float) sum;
  }
  return s;
}

static float
dot_q4_0 (int64_t k, const uint8_t *w, const uint8_t *x)
{
  float s = 0.0f;
  for (int64_t b = 0; b < k / 32; b++, w += 18, x += 34) {
    const int8_t *qx = (const int8_t *) (x + 2);
    int sum = 0;
    for (int i = 0; i < 16; i++)
      sum += ((w[2 + i] & 0xf) - 8) * qx[i]
          + ((w[2 + i] >> 4) - 8) * qx[i + 16];
    s += fp16 (w) * fp16 (x) * (float) sum;
  }
  return s;
}

/* Q4_K: sum over sub-blocks of d*sc*dot(q4, q8) - dmin*m*sum(q8). */
static float
dot_q4_k (int64_t k, const uint8_t *w, const vlm_block_q8_k *x)
{
  float s = 0.0f;
  for (int64_t b = 0; b < k / VLM_QK_K; b++, w += VLM_Q4_K_BYTES, x++) {
    const uint8_t *qs = w + 16;
    int sum_q = 0, sum_m = 0;
    for (int j = 0; j < 8; j++) {
      uint8_t sc, m;
      int dot = 0;
      vlm_k_q4k_scale (w + 4, j, &sc, &m);
      /* sub-block j: nibbles of bytes 32*(j/2).., low for even j */
      for (int i = 0; i < 32; i++) {
        int q = (j & 1) ? qs[32 * (j / 2) + i] >> 4 : qs[32 * (j / 2) + i] & 0xf;
        dot += q * x->q[32 * j + i];
      }
      sum_q += sc * dot;
      sum_m += m * (x->bsums[2 * j] + x->bsums[2 * j + 1]);
    }
    s += x->d * (fp16 (w) * (float) sum_q - fp16 (w + 2) * (float) sum_m);
  }
  return s;
}

/* Q6_K: d * sum over 16 sub-blocks of sc * dot(q6 - 32, q8). */
static float
dot_q6_k (int64_t k, const uint8_t *w, const vlm_block_q8_k *x)
{
  float s = 0.0f;
  for (int64_t b = 0; b < k / VLM_QK_K; b++, w += VLM_Q6_K_BYTES, x++) {
    const int8_t *sc = (const int8_t *) (w + 192);
    int sum = 0;
    for (int e = 0; e < VLM_QK_K; e++) {
      int h = e / 128, r = e % 128, l = r % 32, g = r / 32;
      const uint8_t *ql = w + 64 * h, *qh = w + 128 + 32 * h;
      int lo = (g & 1) ? ql[l + 32] : ql[l];
      lo = (g & 2) ? lo >> 4 : lo & 0xf;
      int q = lo | (((qh[l] >> (2 * g)) & 3) << 4);
      sum += sc[e / 16] * (q - 32) * x->q[e];
    }
    s += x->d * fp16 (w + 208) * (float) sum;
  }
  return s;
}

static float
dot_row (vlm_kw kw, int64_t k, const uint8_t *w, const uint8_t *x)
{
  switch (kw) {
    case VLM_KW_F32:
      return dot_f32 (k, w, (const float *) x);
    case VLM_KW_F16:
      return dot_f16 (k, w, (const float *) x);
    case VLM_KW_BF16:
      return dot_bf16 (k, w, (const float *) x);
    case VLM_KW_Q8_0:
      return dot_q8_0 (k, w, x);
    case VLM_KW_Q4_0:
      return dot_q4_0 (k, w, x);
    case VLM_KW_Q4_K:
      return dot_q4_k (k, w, (const vlm_block_q8_k *) x);
    case VLM_KW_Q6_K:
      return dot_q6_k (k, w, (const vlm_block_q8_k *) x);
    default:
      return 0.0f;
  }
}

/* ------------------------------------------------------------------ */
/* Tiles                                                               */
/* ------------------------------------------------------------------ */

void
vlm_k_tile_ref (vlm_kw kw, int64_t k, const void *w, size_t ldw, int mr,
    const void *x, size_t ldx, int nr, float *y, size_t ldy)
{
  for (int j = 0; j < nr; j++)
    for (int i = 0; i < mr; i++)
      y[j * ldy + i] = dot_row (kw, k, (const uint8_t *) w + i * ldw,
          (const uint8_t *) x + j * ldx);
}

#define REF_TILE(name, kw)                                                  \
  static void                                                               \
  name (int64_t k, const void *w, size_t ldw, int mr, const void *x,        \
      size_t ldx, int nr, float *y, size_t ldy)                             \
  {                                                                         \
    vlm_k_tile_ref (kw, k, w, ldw, mr, x, ldx, nr, y, ldy);                 \
  }

REF_TILE (tile_f32, VLM_KW_F32)
REF_TILE (tile_f16, VLM_KW_F16)
REF_TILE (tile_bf16, VLM_KW_BF16)
REF_TILE (tile_q8_0, VLM_KW_Q8_0)
REF_TILE (tile_q4_0, VLM_KW_Q4_0)
REF_TILE (tile_q4_k, VLM_KW_Q4_K)
REF_TILE (tile_q6_k, VLM_KW_Q6_K)

/* ------------------------------------------------------------------ */
/* Float panel packers                                                 */
/* ------------------------------------------------------------------ */

void
vlm_k_pack_f32_ref (const void *w, size_t ldw, int rows, int64_t l0, int kc,
    float *wp, int nr)
{
  for (int r = 0; r < nr; r++) {
    const uint8_t *src = (const uint8_t *) w + r * ldw + 4 * l0;
    for (int l = 0; l < kc; l++) {
      float v = 0.0f;
      if (r < rows)
        memcpy (&v, src + 4 * l, 4);
      wp[l * nr + r] = v;
    }
  }
}

void
vlm_k_pack_f16_ref (const void *w, size_t ldw, int rows, int64_t l0, int kc,
    float *wp, int nr)
{
  for (int r = 0; r < nr; r++) {
    const uint8_t *src = (const uint8_t *) w + r * ldw + 2 * l0;
    for (int l = 0; l < kc; l++)
      wp[l * nr + r] = r < rows ? fp16 (src + 2 * l) : 0.0f;
  }
}

void
vlm_k_pack_bf16_ref (const void *w, size_t ldw, int rows, int64_t l0,
    int kc, float *wp, int nr)
{
  for (int r = 0; r < nr; r++) {
    const uint8_t *src = (const uint8_t *) w + r * ldw + 2 * l0;
    for (int l = 0; l < kc; l++)
      wp[l * nr + r] = r < rows ? vlm_bf16_to_fp32 (vlm_k_u16 (src + 2 * l))
          : 0.0f;
  }
}

/* ------------------------------------------------------------------ */
/* Tables                                                              */
/* ------------------------------------------------------------------ */

const vlm_kernels vlm_kernels_ref = {
  .level = VLM_CPU_REF,
  .quant_q8_0 = vlm_k_quant_q8_0_ref,
  .quant_q8_k = vlm_k_quant_q8_k_ref,
  .tile = { tile_f32, tile_f16, tile_bf16, tile_q8_0, tile_q4_0, tile_q4_k,
      tile_q6_k },
  .mr = 4, .nr = 4,
  .pack = { vlm_k_pack_f32_ref, vlm_k_pack_f16_ref, vlm_k_pack_bf16_ref },
  .ukernel = NULL,
};

const vlm_kernels *
vlm_kernels_for (vlm_cpu_level level)
{
  switch (level) {
    case VLM_CPU_REF:
      return &vlm_kernels_ref;
#if defined(__x86_64__)
    case VLM_CPU_AVX2:
      return &vlm_kernels_avx2;
    case VLM_CPU_AVX512:
      return &vlm_kernels_avx512;
#endif
#if defined(__aarch64__)
    case VLM_CPU_NEON:
      return &vlm_kernels_neon;
    case VLM_CPU_DOTPROD:
      return &vlm_kernels_dotprod;
#endif
    default:
      return NULL;
  }
}

const vlm_kernels *
vlm_kernels_get (void)
{
  const vlm_kernels *k = vlm_kernels_for (vlm_cpu_get_level ());
  return k ? k : &vlm_kernels_ref;
}

/* gst-vlm — attention kernels (see attention.h).
 *
 * The plain C kernels are the specification; the AVX2 ones run the same
 * operations in the same order per element (lanes over keys for the
 * scores, over head dims for the sums of V), so the two agree bit for
 * bit. AVX-512 would not be faster on the targeted cores (512-bit
 * operations are split in two), so that level uses the AVX2 kernels.
 */
#include "attention.h"

#include <math.h>
#include <stdbool.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "cpu.h"
#include "quant.h"

/* Multiplies and adds must stay separate where written so (clang would
 * otherwise fuse them inside one expression). */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

static int force_ref;

void
vlm_attn_force_ref (int force)
{
  force_ref = force;
}

static bool
use_avx2 (void)
{
#if defined(__x86_64__)
  vlm_cpu_level l = vlm_cpu_get_level ();
  return !force_ref && (l == VLM_CPU_AVX2 || l == VLM_CPU_AVX512);
#else
  return false;
#endif
}

/* ------------------------------------------------------------------ */
/* Shared scalar pieces                                                */
/* ------------------------------------------------------------------ */

/* exp, for arguments <= 0 (softmax): reduction by multiples of ln 2 and
 * a degree-7 Taylor polynomial; within 2 ulp of expf, 0 below -87 (and
 * for -inf). The AVX2 version computes exactly the same. */
#define EXP_MIN -87.0f
#define LOG2E 1.44269504088896341f
#define LN2_HI 0.693145751953125f
#define LN2_LO 1.42860682030941723e-6f
#define C7 (1.0f / 5040.0f)
#define C6 (1.0f / 720.0f)
#define C5 (1.0f / 120.0f)
#define C4 (1.0f / 24.0f)
#define C3 (1.0f / 6.0f)
#define C2 0.5f

static inline float
exp_ref (float x)
{
  if (!(x >= EXP_MIN))
    return 0.0f;
  float n = rintf (x * LOG2E);
  float r = fmaf (n, -LN2_HI, x);
  r = fmaf (n, -LN2_LO, r);
  float p = fmaf (C7, r, C6);
  p = fmaf (p, r, C5);
  p = fmaf (p, r, C4);
  p = fmaf (p, r, C3);
  p = fmaf (p, r, C2);
  p = fmaf (p, r, 1.0f);
  p = fmaf (p, r, 1.0f);
  return p * vlm_f32_from_bits ((uint32_t) ((int32_t) n + 127) << 23);
}

/* x rounded to the nearest binary16 value (ties to even), as float: a
 * bit trick for the normal range, the exact conversion elsewhere. */
static inline float
round_f16 (float x)
{
  uint32_t u = vlm_f32_bits (x), a = u & 0x7fffffffu;

  if (a >= 0x38800000u && a < 0x477ff000u) {    /* 2^-14 <= |x| < 65520 */
    u += 0xfffu + ((u >> 13) & 1u);
    return vlm_f32_from_bits (u & ~0x1fffu);
  }
  return vlm_fp16_to_fp32 (vlm_fp32_to_fp16 (x));
}

/* ------------------------------------------------------------------ */
/* Online kernel, plain C                                              */
/* ------------------------------------------------------------------ */

static float
dot_f16_ref (const float *qh, const uint16_t *k, int dim)
{
  double dot = 0;

  for (int d = 0; d < dim; d++)
    dot += (double) (qh[d] * vlm_fp16_to_fp32 (k[d]));
  return (float) dot;
}

/* acc = f16 (acc * ms) */
static void
scale_f16_ref (float *acc, int dim, float ms)
{
  for (int d = 0; d < dim; d++)
    acc[d] = round_f16 (acc[d] * ms);
}

/* acc = f16 (acc + v * vs), multiply and add rounded separately */
static void
mad_f16_ref (float *acc, const uint16_t *v, int dim, float vs)
{
  for (int d = 0; d < dim; d++) {
    float p = vlm_fp16_to_fp32 (v[d]) * vs;
    acc[d] = round_f16 (acc[d] + p);
  }
}

/* ------------------------------------------------------------------ */
/* Online kernel, AVX2                                                 */
/* ------------------------------------------------------------------ */

#if defined(__x86_64__)
#define TGT __attribute__((target ("avx2,fma,f16c")))
#define RNE (_MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)

/* The products are exact in float and their sum in double is exact for
 * every realistic head, so summing in 4 double lanes matches the serial
 * double sum. */
TGT static float
dot_f16_avx2 (const float *qh, const uint16_t *k, int dim)
{
  __m256d a0 = _mm256_setzero_pd (), a1 = _mm256_setzero_pd ();
  int d = 0;

  for (; d + 8 <= dim; d += 8) {
    __m256 kf = _mm256_cvtph_ps (_mm_loadu_si128 ((const __m128i *) (k + d)));
    __m256 p = _mm256_mul_ps (_mm256_loadu_ps (qh + d), kf);
    a0 = _mm256_add_pd (a0, _mm256_cvtps_pd (_mm256_castps256_ps128 (p)));
    a1 = _mm256_add_pd (a1, _mm256_cvtps_pd (_mm256_extractf128_ps (p, 1)));
  }
  double lanes[4];
  _mm256_storeu_pd (lanes, _mm256_add_pd (a0, a1));
  double dot = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
  for (; d < dim; d++)
    dot += (double) (qh[d] * _cvtsh_ss (k[d]));
  return (float) dot;
}

TGT static inline __m256
round8_f16 (__m256 x)
{
  return _mm256_cvtph_ps (_mm256_cvtps_ph (x, RNE));
}

TGT static void
scale_f16_avx2 (float *acc, int dim, float ms)
{
  __m256 m = _mm256_set1_ps (ms);
  int d = 0;

  for (; d + 8 <= dim; d += 8)
    _mm256_storeu_ps (acc + d, round8_f16 (_mm256_mul_ps (
                _mm256_loadu_ps (acc + d), m)));
  for (; d < dim; d++)
    acc[d] = _cvtsh_ss (_cvtss_sh (acc[d] * ms, RNE));
}

TGT static void
mad_f16_avx2 (float *acc, const uint16_t *v, int dim, float vs)
{
  __m256 s = _mm256_set1_ps (vs);
  int d = 0;

  for (; d + 8 <= dim; d += 8) {
    __m256 vf = _mm256_cvtph_ps (_mm_loadu_si128 ((const __m128i *) (v + d)));
    __m256 p = _mm256_mul_ps (vf, s);
    _mm256_storeu_ps (acc + d, round8_f16 (_mm256_add_ps (
                _mm256_loadu_ps (acc + d), p)));
  }
  for (; d < dim; d++) {
    float p = _cvtsh_ss (v[d]) * vs;
    acc[d] = _cvtsh_ss (_cvtss_sh (acc[d] + p, RNE));
  }
}
#endif

/* ------------------------------------------------------------------ */
/* Online kernel                                                       */
/* ------------------------------------------------------------------ */

typedef struct {
  float (*dot) (const float *, const uint16_t *, int);
  void (*scale) (float *, int, float);
  void (*mad) (float *, const uint16_t *, int, float);
} online_ops;

static online_ops
get_online_ops (void)
{
#if defined(__x86_64__)
  if (use_avx2 ())
    return (online_ops) { dot_f16_avx2, scale_f16_avx2, mad_f16_avx2 };
#endif
  return (online_ops) { dot_f16_ref, scale_f16_ref, mad_f16_ref };
}

void
vlm_attn_online (const vlm_attn_kv *kv, const float *qh, int t0, int t1,
    float scale, vlm_attn_state *st, float *acc)
{
  online_ops ops = get_online_ops ();
  int dim = kv->dim;
  float m = -INFINITY, s = 0.0f;

  memset (acc, 0, (size_t) dim * sizeof (float));
  for (int t = t0; t < t1; t++) {
    float x = ops.dot (qh, kv->k + (size_t) t * kv->stride, dim) * scale;
    float ms = 1.0f, vs = 1.0f;
    if (x > m) {
      ms = expf (m - x);
      m = x;
      ops.scale (acc, dim, ms);
    } else {
      vs = expf (x - m);
    }
    ops.mad (acc, kv->v + (size_t) t * kv->stride, dim, vs);
    s = s * ms + vs;
  }
  st->m = m;
  st->s = s;
}

/* ------------------------------------------------------------------ */
/* Tiled kernel: work area                                             */
/* ------------------------------------------------------------------ */

/* Work layout (floats): K tile transposed [dim][TILE], V tile
 * [TILE][dim8], per-row accumulators [TILE][dim8], scores [TILE], row
 * maxima and sums [TILE] each; dim8 is dim rounded up to 8. */
static int
dim8 (int dim)
{
  return (dim + 7) / 8 * 8;
}

size_t
vlm_attn_tiled_work (int dim)
{
  size_t t = VLM_ATTN_TILE, d8 = (size_t) dim8 (dim);

  return (size_t) dim * t + 2 * t * d8 + 4 * t + 8;
}

typedef struct {
  float *kt, *vt, *acc, *p, *p1, *m, *s;
  int d8;
} tiled_work;

static tiled_work
carve_work (float *w, int dim)
{
  tiled_work tw;
  size_t t = VLM_ATTN_TILE;

  tw.d8 = dim8 (dim);
  tw.kt = w;
  tw.vt = tw.kt + (size_t) dim * t;
  tw.acc = tw.vt + t * tw.d8;
  tw.p = tw.acc + t * tw.d8;
  tw.p1 = tw.p + t;
  tw.m = tw.p1 + t;
  tw.s = tw.m + t;
  return tw;
}

/* Converts keys [c0, c0 + n) into kt[d][j] and values into vt[j][d]
 * (zero padding up to the tile and to dim8). */
static void
pack_tile_ref (const vlm_attn_kv *kv, int c0, int n, const tiled_work *tw)
{
  int dim = kv->dim;

  memset (tw->kt, 0, (size_t) dim * VLM_ATTN_TILE * sizeof (float));
  memset (tw->vt, 0, (size_t) VLM_ATTN_TILE * tw->d8 * sizeof (float));
  for (int j = 0; j < n; j++) {
    const uint16_t *k = kv->k + (size_t) (c0 + j) * kv->stride;
    const uint16_t *v = kv->v + (size_t) (c0 + j) * kv->stride;
    float *vr = tw->vt + (size_t) j * tw->d8;
    for (int d = 0; d < dim; d++) {
      tw->kt[(size_t) d * VLM_ATTN_TILE + j] = vlm_fp16_to_fp32 (k[d]);
      vr[d] = vlm_fp16_to_fp32 (v[d]);
    }
  }
}

/* ------------------------------------------------------------------ */
/* Tiled kernel: one row against one tile, plain C                     */
/* ------------------------------------------------------------------ */

/* scores p[j] = (fma chain over d of kt[d][j] * q[d]) * scale, j < n */
static void
tile_scores_ref (const float *kt, const float *q, int dim, int n,
    float scale, float *p)
{
  for (int j = 0; j < n; j++) {
    float a = 0.0f;
    for (int d = 0; d < dim; d++)
      a = fmaf (kt[(size_t) d * VLM_ATTN_TILE + j], q[d], a);
    p[j] = a * scale;
  }
}

/* p[j] = exp (p[j] - m); returns the sum in double */
static double
tile_exp_ref (float *p, int n, float m)
{
  double sum = 0;

  for (int j = 0; j < n; j++) {
    p[j] = exp_ref (p[j] - m);
    sum += (double) p[j];
  }
  return sum;
}

/* acc[d] = fma chain over j of vt[j][d] * p[j] */
static void
tile_pv_ref (const float *vt, int d8, const float *p, int n, float *acc)
{
  for (int j = 0; j < n; j++)
    for (int d = 0; d < d8; d++)
      acc[d] = fmaf (vt[(size_t) j * d8 + d], p[j], acc[d]);
}

static void
vec_scale_ref (float *acc, int d8, float ms)
{
  for (int d = 0; d < d8; d++)
    acc[d] *= ms;
}

/* ------------------------------------------------------------------ */
/* Tiled kernel: AVX2                                                  */
/* ------------------------------------------------------------------ */

#if defined(__x86_64__)
/* pack_tile_ref with F16C conversions. */
TGT static void
pack_tile_avx2 (const vlm_attn_kv *kv, int c0, int n, const tiled_work *tw)
{
  int dim = kv->dim, d8 = tw->d8;
  float row[8];

  memset (tw->kt, 0, (size_t) dim * VLM_ATTN_TILE * sizeof (float));
  memset (tw->vt, 0, (size_t) VLM_ATTN_TILE * d8 * sizeof (float));
  for (int j = 0; j < n; j++) {
    const uint16_t *k = kv->k + (size_t) (c0 + j) * kv->stride;
    const uint16_t *v = kv->v + (size_t) (c0 + j) * kv->stride;
    float *vr = tw->vt + (size_t) j * d8;
    int d = 0;
    for (; d + 8 <= dim; d += 8) {
      __m256 kf = _mm256_cvtph_ps (_mm_loadu_si128 ((const __m128i *) (k + d)));
      _mm256_store_ps (vr + d, _mm256_cvtph_ps (_mm_loadu_si128 (
                  (const __m128i *) (v + d))));
      _mm256_storeu_ps (row, kf);
      for (int l = 0; l < 8; l++)
        tw->kt[(size_t) (d + l) * VLM_ATTN_TILE + j] = row[l];
    }
    for (; d < dim; d++) {
      tw->kt[(size_t) d * VLM_ATTN_TILE + j] = _cvtsh_ss (k[d]);
      vr[d] = _cvtsh_ss (v[d]);
    }
  }
}

TGT static inline __m256
exp8 (__m256 x)
{
  __m256 ok = _mm256_cmp_ps (x, _mm256_set1_ps (EXP_MIN), _CMP_GE_OQ);
  __m256 xc = _mm256_max_ps (x, _mm256_set1_ps (EXP_MIN));
  __m256 n = _mm256_round_ps (_mm256_mul_ps (xc, _mm256_set1_ps (LOG2E)),
      RNE);
  __m256 r = _mm256_fmadd_ps (n, _mm256_set1_ps (-LN2_HI), xc);
  r = _mm256_fmadd_ps (n, _mm256_set1_ps (-LN2_LO), r);
  __m256 p = _mm256_fmadd_ps (_mm256_set1_ps (C7), r, _mm256_set1_ps (C6));
  p = _mm256_fmadd_ps (p, r, _mm256_set1_ps (C5));
  p = _mm256_fmadd_ps (p, r, _mm256_set1_ps (C4));
  p = _mm256_fmadd_ps (p, r, _mm256_set1_ps (C3));
  p = _mm256_fmadd_ps (p, r, _mm256_set1_ps (C2));
  p = _mm256_fmadd_ps (p, r, _mm256_set1_ps (1.0f));
  p = _mm256_fmadd_ps (p, r, _mm256_set1_ps (1.0f));
  __m256i e = _mm256_slli_epi32 (_mm256_add_epi32 (_mm256_cvtps_epi32 (n),
          _mm256_set1_epi32 (127)), 23);
  return _mm256_and_ps (ok, _mm256_mul_ps (p, _mm256_castsi256_ps (e)));
}

/* All VLM_ATTN_TILE scores (lanes over keys); the caller uses n. */
TGT static void
tile_scores_avx2 (const float *kt, const float *q, int dim, int n,
    float scale, float *p)
{
  __m256 a[VLM_ATTN_TILE / 8];

  (void) n;
  for (int g = 0; g < VLM_ATTN_TILE / 8; g++)
    a[g] = _mm256_setzero_ps ();
  for (int d = 0; d < dim; d++) {
    __m256 qd = _mm256_set1_ps (q[d]);
    const float *row = kt + (size_t) d * VLM_ATTN_TILE;
    for (int g = 0; g < VLM_ATTN_TILE / 8; g++)
      a[g] = _mm256_fmadd_ps (_mm256_load_ps (row + 8 * g), qd, a[g]);
  }
  __m256 sc = _mm256_set1_ps (scale);
  for (int g = 0; g < VLM_ATTN_TILE / 8; g++)
    _mm256_storeu_ps (p + 8 * g, _mm256_mul_ps (a[g], sc));
}

TGT static double
tile_exp_avx2 (float *p, int n, float m)
{
  __m256 mv = _mm256_set1_ps (m);
  double sum = 0;
  int j = 0;

  for (; j + 8 <= n; j += 8)
    _mm256_storeu_ps (p + j, exp8 (_mm256_sub_ps (_mm256_loadu_ps (p + j),
                mv)));
  for (; j < n; j++)
    p[j] = exp_ref (p[j] - m);
  for (j = 0; j < n; j++)
    sum += (double) p[j];
  return sum;
}

TGT static void
tile_pv_cols_avx2 (const float *vt, int d8, int w, const float *p, int n,
    float *acc)
{
  for (int d = 0; d < w; d += 8) {
    __m256 a = _mm256_loadu_ps (acc + d);
    for (int j = 0; j < n; j++)
      a = _mm256_fmadd_ps (_mm256_load_ps (vt + (size_t) j * d8 + d),
          _mm256_set1_ps (p[j]), a);
    _mm256_storeu_ps (acc + d, a);
  }
}

TGT static void
tile_pv_avx2 (const float *vt, int d8, const float *p, int n, float *acc)
{
  tile_pv_cols_avx2 (vt, d8, d8, p, n, acc);
}

TGT static void
vec_scale_avx2 (float *acc, int d8, float ms)
{
  __m256 m = _mm256_set1_ps (ms);

  for (int d = 0; d < d8; d += 8)
    _mm256_storeu_ps (acc + d, _mm256_mul_ps (_mm256_loadu_ps (acc + d), m));
}

/* Two query rows at once (the K loads shared), 32 keys at a time. */
TGT static void
tile_scores2_avx2 (const float *kt, const float *q0, const float *q1,
    int dim, float scale, float *p0, float *p1)
{
  __m256 sc = _mm256_set1_ps (scale);

  for (int h = 0; h < VLM_ATTN_TILE; h += 32) {
    __m256 a[4], b[4];
    for (int g = 0; g < 4; g++)
      a[g] = b[g] = _mm256_setzero_ps ();
    for (int d = 0; d < dim; d++) {
      __m256 x0 = _mm256_set1_ps (q0[d]), x1 = _mm256_set1_ps (q1[d]);
      const float *row = kt + (size_t) d * VLM_ATTN_TILE + h;
      for (int g = 0; g < 4; g++) {
        __m256 k = _mm256_load_ps (row + 8 * g);
        a[g] = _mm256_fmadd_ps (k, x0, a[g]);
        b[g] = _mm256_fmadd_ps (k, x1, b[g]);
      }
    }
    for (int g = 0; g < 4; g++) {
      _mm256_storeu_ps (p0 + h + 8 * g, _mm256_mul_ps (a[g], sc));
      _mm256_storeu_ps (p1 + h + 8 * g, _mm256_mul_ps (b[g], sc));
    }
  }
}

/* Two rows over the same n keys, the V loads shared. */
TGT static void
tile_pv2_avx2 (const float *vt, int d8, const float *p0, const float *p1,
    int n, float *acc0, float *acc1)
{
  int d = 0;

  for (; d + 16 <= d8; d += 16) {
    __m256 a0 = _mm256_loadu_ps (acc0 + d), a1 = _mm256_loadu_ps (acc0 + d + 8);
    __m256 b0 = _mm256_loadu_ps (acc1 + d), b1 = _mm256_loadu_ps (acc1 + d + 8);
    for (int j = 0; j < n; j++) {
      const float *v = vt + (size_t) j * d8 + d;
      __m256 v0 = _mm256_load_ps (v), v1 = _mm256_load_ps (v + 8);
      __m256 x0 = _mm256_set1_ps (p0[j]), x1 = _mm256_set1_ps (p1[j]);
      a0 = _mm256_fmadd_ps (v0, x0, a0);
      a1 = _mm256_fmadd_ps (v1, x0, a1);
      b0 = _mm256_fmadd_ps (v0, x1, b0);
      b1 = _mm256_fmadd_ps (v1, x1, b1);
    }
    _mm256_storeu_ps (acc0 + d, a0);
    _mm256_storeu_ps (acc0 + d + 8, a1);
    _mm256_storeu_ps (acc1 + d, b0);
    _mm256_storeu_ps (acc1 + d + 8, b1);
  }
  if (d < d8) {
    tile_pv_cols_avx2 (vt + d, d8, d8 - d, p0, n, acc0 + d);
    tile_pv_cols_avx2 (vt + d, d8, d8 - d, p1, n, acc1 + d);
  }
}
#endif

/* ------------------------------------------------------------------ */
/* Tiled kernel                                                        */
/* ------------------------------------------------------------------ */

typedef struct {
  void (*pack) (const vlm_attn_kv *, int, int, const tiled_work *);
  void (*scores) (const float *, const float *, int, int, float, float *);
  double (*exp) (float *, int, float);
  void (*pv) (const float *, int, const float *, int, float *);
  void (*scale) (float *, int, float);
  /* two rows at once (NULL: one at a time); same results */
  void (*scores2) (const float *, const float *, const float *, int, float,
      float *, float *);
  void (*pv2) (const float *, int, const float *, const float *, int,
      float *, float *);
} tiled_ops;

static tiled_ops
get_tiled_ops (void)
{
#if defined(__x86_64__)
  if (use_avx2 ())
    return (tiled_ops) { pack_tile_avx2, tile_scores_avx2, tile_exp_avx2, tile_pv_avx2,
      vec_scale_avx2, tile_scores2_avx2, tile_pv2_avx2 };
#endif
  return (tiled_ops) { pack_tile_ref, tile_scores_ref, tile_exp_ref, tile_pv_ref,
    vec_scale_ref, NULL, NULL };
}

/* Keys row r sees. */
static int
row_visible (int r, int n_kv, int first_visible)
{
  if (first_visible < 0)
    return n_kv;
  return first_visible + r < n_kv ? first_visible + r : n_kv;
}

/* Row r's softmax step on its n scores p: new maximum (rescaling the
 * sum and the accumulator when it grows), p = exp (p - max), the sum.
 * Returns false when every score is -inf (nothing to add). */
static bool
row_softmax (const tiled_ops * ops, const tiled_work * tw, float *p, int n,
    int r)
{
  float *acc = tw->acc + (size_t) r * tw->d8;
  float tmax = -INFINITY;

  for (int j = 0; j < n; j++)
    tmax = p[j] > tmax ? p[j] : tmax;
  if (tmax == -INFINITY)
    return false;
  float mnew = tw->m[r] > tmax ? tw->m[r] : tmax;
  if (mnew > tw->m[r]) {
    float ms = exp_ref (tw->m[r] - mnew);
    ops->scale (acc, tw->d8, ms);
    tw->s[r] *= ms;
  }
  tw->m[r] = mnew;
  tw->s[r] = (float) ((double) tw->s[r] + ops->exp (p, n, mnew));
  return true;
}

/* One row's step over the n keys of the packed tile. */
static void
row_tile (const tiled_ops * ops, const tiled_work * tw, const float *q,
    int dim, int n, float scale, int r)
{
  ops->scores (tw->kt, q, dim, n, scale, tw->p);
  if (row_softmax (ops, tw, tw->p, n, r))
    ops->pv (tw->vt, tw->d8, tw->p, n, tw->acc + (size_t) r * tw->d8);
}

/* Rows r and r + 1 over the same n keys. */
static void
row_pair_tile (const tiled_ops * ops, const tiled_work * tw, const float *q0,
    const float *q1, int dim, int n, float scale, int r)
{
  float *a0 = tw->acc + (size_t) r * tw->d8, *a1 = a0 + tw->d8;

  ops->scores2 (tw->kt, q0, q1, dim, scale, tw->p, tw->p1);
  bool u0 = row_softmax (ops, tw, tw->p, n, r);
  bool u1 = row_softmax (ops, tw, tw->p1, n, r + 1);
  if (u0 && u1)
    ops->pv2 (tw->vt, tw->d8, tw->p, tw->p1, n, a0, a1);
  else if (u0)
    ops->pv (tw->vt, tw->d8, tw->p, n, a0);
  else if (u1)
    ops->pv (tw->vt, tw->d8, tw->p1, n, a1);
}

/* Keys of tile c0 that row r sees (0 to VLM_ATTN_TILE). */
static int
row_keys (int r, int n_kv, int first_visible, int c0)
{
  int n = row_visible (r, n_kv, first_visible) - c0;
  return n < 0 ? 0 : n < VLM_ATTN_TILE ? n : VLM_ATTN_TILE;
}

void
vlm_attn_tiled (const vlm_attn_kv *kv, const float *q, size_t q_stride,
    int n_q, int n_kv, int first_visible, float scale, float *out,
    size_t out_stride, float *work)
{
  tiled_ops ops = get_tiled_ops ();
  tiled_work tw = carve_work (work, kv->dim);
  int dim = kv->dim, last = row_visible (n_q - 1, n_kv, first_visible);

  for (int r = 0; r < n_q; r++) {
    tw.m[r] = -INFINITY;
    tw.s[r] = 0.0f;
    memset (tw.acc + (size_t) r * tw.d8, 0, (size_t) tw.d8 * sizeof (float));
  }
  for (int c0 = 0; c0 < last; c0 += VLM_ATTN_TILE) {
    ops.pack (kv, c0, last - c0 < VLM_ATTN_TILE ? last - c0 : VLM_ATTN_TILE,
        &tw);
    for (int r = 0; r < n_q;) {
      int n = row_keys (r, n_kv, first_visible, c0);
      const float *qr = q + (size_t) r * q_stride;
      if (n > 0 && ops.scores2 != NULL && r + 1 < n_q
          && row_keys (r + 1, n_kv, first_visible, c0) == n) {
        row_pair_tile (&ops, &tw, qr, qr + q_stride, dim, n, scale, r);
        r += 2;
        continue;
      }
      if (n > 0)
        row_tile (&ops, &tw, qr, dim, n, scale, r);
      r++;
    }
  }
  for (int r = 0; r < n_q; r++) {
    const float *acc = tw.acc + (size_t) r * tw.d8;
    float inv = tw.s[r] == 0.0f ? 0.0f : 1.0f / tw.s[r];
    for (int d = 0; d < dim; d++)
      out[(size_t) r * out_stride + d] = acc[d] * inv;
  }
}

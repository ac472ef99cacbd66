/* gst-vlm — matrix products with weights as stored in GGUF files.
 *
 * Three ways through, all splitting the weight rows W across the pool in
 * fixed contiguous ranges (so every output is computed by the same
 * sequence of operations whatever the thread count):
 *
 *   quantised W   activations are quantised once (Q8_0 or Q8_K, in a
 *                 pool job), then tiles of mr W rows x nr X rows run
 *                 integer dot products; for n == 1 this streams each
 *                 weight byte once;
 *   float W, small n   the same tiles on float activations;
 *   float W, n >= FGEMM_MIN_N   X is packed into panels of gmr rows,
 *                 each thread converts panels of gnr W rows x gkc
 *                 columns to float32 and runs an FMA micro-kernel over
 *                 every X panel (a blocked GEMM).
 */
#include "matmul.h"

#include <stdlib.h>

#include "kernels.h"
#include "quant.h"

/* Float weights use the blocked GEMM from this many input rows on. */
#define FGEMM_MIN_N 8

/* Largest packed W panel (floats): gkc * gnr of every table. */
#define WP_MAX 4096

bool
vlm_matmul_supports (vlm_type type)
{
  switch (type) {
    case VLM_TYPE_F32: case VLM_TYPE_F16: case VLM_TYPE_BF16:
    case VLM_TYPE_Q8_0: case VLM_TYPE_Q4_0: case VLM_TYPE_Q4_K:
    case VLM_TYPE_Q6_K:
      return true;
    default:
      return false;
  }
}

bool
vlm_mat_from_tensor (vlm_mat *out, const vlm_gguf_tensor *t)
{
  if (t == NULL || !vlm_matmul_supports (t->type))
    return false;
  out->type = t->type;
  out->k = t->ne[0];
  out->m = t->ne[1] * t->ne[2] * t->ne[3];
  out->row_bytes = vlm_type_row_bytes (t->type, t->ne[0]);
  out->data = t->data;
  return true;
}

void
vlm_mat_get_row (const vlm_mat *w, int64_t r, float *out)
{
  vlm_dequantize_row (w->type, (const uint8_t *) w->data + r * w->row_bytes,
      out, w->k);
}

/* ------------------------------------------------------------------ */
/* Jobs                                                                */
/* ------------------------------------------------------------------ */

typedef struct {
  const vlm_kernels *kt;
  const vlm_mat *w;
  vlm_kw kw;
  const float *x;
  int64_t n;
  float *y;
  const float *bias;
  /* activations as the tiles read them */
  vlm_quant_fn quant;           /* NULL: float rows, used in place */
  void *xq;
  size_t ldx;                   /* bytes between rows of xq */
  /* blocked float GEMM */
  float *xp;                    /* packed X panels */
  int64_t n_groups;
} mm_job;

static vlm_kw
weight_class (vlm_type t)
{
  switch (t) {
    case VLM_TYPE_F32: return VLM_KW_F32;
    case VLM_TYPE_F16: return VLM_KW_F16;
    case VLM_TYPE_BF16: return VLM_KW_BF16;
    case VLM_TYPE_Q8_0: return VLM_KW_Q8_0;
    case VLM_TYPE_Q4_0: return VLM_KW_Q4_0;
    case VLM_TYPE_Q4_K: return VLM_KW_Q4_K;
    default: return VLM_KW_Q6_K;
  }
}

/* The part [*a, *b) of `total` items that slice ith of nth owns. */
static void
slice_range (int64_t total, int ith, int nth, int64_t *a, int64_t *b)
{
  *a = total * ith / nth;
  *b = total * (ith + 1) / nth;
}

static void
add_bias (float *y, size_t ldy, const float *bias, int rows, int cols)
{
  if (bias == NULL)
    return;
  for (int r = 0; r < rows; r++)
    for (int c = 0; c < cols; c++)
      y[r * ldy + c] += bias[c];
}

/* Quantises this slice's share of the activation rows. */
static void
quant_slice (void *p, int ith, int nth)
{
  mm_job *j = p;
  int64_t a, b;

  slice_range (j->n, ith, nth, &a, &b);
  for (int64_t r = a; r < b; r++)
    j->quant (j->x + r * j->w->k, (uint8_t *) j->xq + r * j->ldx, j->w->k);
}

/* Tiles over this slice's W rows: each W tile meets every X tile. */
static void
tile_slice (void *p, int ith, int nth)
{
  mm_job *j = p;
  const vlm_mat *w = j->w;
  /* one W row at a time for n == 1: a single stream per row is what
   * the hardware prefetchers follow best (measured: 2.5x faster than
   * interleaving 4 rows of quantised blocks) */
  const int mr = j->n == 1 ? 1 : j->kt->mr, nr = j->kt->nr;
  vlm_tile_fn tile = j->kt->tile[j->kw];
  int64_t t0, t1;

  slice_range ((w->m + mr - 1) / mr, ith, nth, &t0, &t1);
  for (int64_t t = t0; t < t1; t++) {
    int64_t i0 = t * mr;
    int rows = (int) (w->m - i0 < mr ? w->m - i0 : mr);
    const uint8_t *wt = (const uint8_t *) w->data + i0 * w->row_bytes;
    for (int64_t j0 = 0; j0 < j->n; j0 += nr) {
      int cols = (int) (j->n - j0 < nr ? j->n - j0 : nr);
      float *yt = j->y + j0 * w->m + i0;
      tile (w->k, wt, w->row_bytes, rows,
          (const uint8_t *) j->xq + j0 * j->ldx, j->ldx, cols, yt,
          (size_t) w->m);
      add_bias (yt, (size_t) w->m, j->bias ? j->bias + i0 : NULL, cols, rows);
    }
  }
}

/* Packs X into panels xp[g][l][r] of gmr rows (zero past row n). */
static void
pack_x_slice (void *p, int ith, int nth)
{
  mm_job *j = p;
  const int gmr = j->kt->gmr;
  const int64_t k = j->w->k;
  int64_t g0, g1;

  slice_range (j->n_groups, ith, nth, &g0, &g1);
  for (int64_t g = g0; g < g1; g++) {
    float *dst = j->xp + g * k * gmr;
    for (int r = 0; r < gmr; r++) {
      int64_t row = g * gmr + r;
      const float *src = j->x + row * k;
      for (int64_t l = 0; l < k; l++)
        dst[l * gmr + r] = row < j->n ? src[l] : 0.0f;
    }
  }
}

/* Blocked GEMM over this slice's panels of gnr W rows. */
static void
gemm_slice (void *p, int ith, int nth)
{
  mm_job *j = p;
  const vlm_kernels *kt = j->kt;
  const vlm_mat *w = j->w;
  const int gmr = kt->gmr, gnr = kt->gnr, gkc = kt->gkc;
  _Alignas (64) float wp[WP_MAX];
  int64_t p0, p1;

  slice_range ((w->m + gnr - 1) / gnr, ith, nth, &p0, &p1);
  for (int64_t pn = p0; pn < p1; pn++) {
    int64_t c0 = pn * gnr;
    int cols = (int) (w->m - c0 < gnr ? w->m - c0 : gnr);
    const uint8_t *wpan = (const uint8_t *) w->data + c0 * w->row_bytes;
    for (int64_t r = 0; r < j->n; r++)
      for (int c = 0; c < cols; c++)
        j->y[r * w->m + c0 + c] = j->bias ? j->bias[c0 + c] : 0.0f;
    for (int64_t l0 = 0; l0 < w->k; l0 += gkc) {
      int kc = (int) (w->k - l0 < gkc ? w->k - l0 : gkc);
      kt->pack[j->kw] (wpan, w->row_bytes, cols, l0, kc, wp, gnr);
      for (int64_t g = 0; g < j->n_groups; g++) {
        int64_t r0 = g * gmr;
        int rows = (int) (j->n - r0 < gmr ? j->n - r0 : gmr);
        kt->ukernel (kc, j->xp + g * w->k * gmr + l0 * gmr, wp, rows, cols,
            j->y + r0 * w->m + c0, (size_t) w->m);
      }
    }
  }
}

/* ------------------------------------------------------------------ */
/* Entry point                                                         */
/* ------------------------------------------------------------------ */

static void *
alloc_aligned (size_t bytes)
{
  return aligned_alloc (64, (bytes + 63) / 64 * 64);
}

static int
run_gemm (vlm_pool *pool, mm_job *j)
{
  const vlm_kernels *kt = j->kt;

  j->n_groups = (j->n + kt->gmr - 1) / kt->gmr;
  j->xp = alloc_aligned ((size_t) j->n_groups * kt->gmr * j->w->k * 4);
  if (j->xp == NULL)
    return -1;
  vlm_pool_run (pool, pack_x_slice, j);
  vlm_pool_run (pool, gemm_slice, j);
  free (j->xp);
  return 0;
}

int
vlm_matmul (vlm_pool *pool, const vlm_mat *w, const float *x, int64_t n,
    float *y, const float *bias)
{
  if (!vlm_matmul_supports (w->type))
    return -1;
  if (n <= 0 || w->m <= 0)
    return 0;

  mm_job j = { 0 };
  j.kt = vlm_kernels_get ();
  j.w = w;
  j.kw = weight_class (w->type);
  j.x = x;
  j.n = n;
  j.y = y;
  j.bias = bias;

  switch (j.kw) {
    case VLM_KW_Q8_0:
    case VLM_KW_Q4_0:
      j.quant = j.kt->quant_q8_0;
      j.ldx = (size_t) (w->k / VLM_QK8_0) * VLM_Q8_0_BYTES;
      break;
    case VLM_KW_Q4_K:
    case VLM_KW_Q6_K:
      j.quant = j.kt->quant_q8_k;
      j.ldx = (size_t) (w->k / VLM_QK_K) * sizeof (vlm_block_q8_k);
      break;
    default:
      if (j.kt->ukernel != NULL && n >= FGEMM_MIN_N)
        return run_gemm (pool, &j);
      j.xq = (void *) x;
      j.ldx = (size_t) w->k * sizeof (float);
      vlm_pool_run (pool, tile_slice, &j);
      return 0;
  }

  j.xq = alloc_aligned (j.ldx * (size_t) n);
  if (j.xq == NULL)
    return -1;
  if (n == 1)
    quant_slice (&j, 0, 1);
  else
    vlm_pool_run (pool, quant_slice, &j);
  vlm_pool_run (pool, tile_slice, &j);
  free (j.xq);
  return 0;
}

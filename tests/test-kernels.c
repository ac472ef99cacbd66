/* Tests of the compute kernels, vlm_matmul and the thread pool.
 *
 * Every SIMD path the CPU has is compared with the reference path
 * (forced through vlm_cpu_set_level, the programmatic form of VLM_CPU);
 * a path the CPU lacks is reported as skipped, the reference never is. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <time.h>
#include <cmocka.h>

#include "cpu.h"
#include "kernels.h"
#include "matmul.h"
#include "quant.h"
#include "threadpool.h"

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t
rnd (void)
{
  rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
  return (uint32_t) (rng_state >> 33);
}

/* Uniform in [-1, 1). */
static float
frnd (void)
{
  return (float) rnd () / 1073741824.0f - 1.0f;
}

static float *
random_floats (int64_t n)
{
  float *x = malloc ((size_t) n * sizeof (float));
  assert_non_null (x);
  for (int64_t i = 0; i < n; i++)
    x[i] = frnd ();
  return x;
}

static void
put_fp16 (uint8_t *p, float v)
{
  uint16_t h = vlm_fp32_to_fp16 (v);
  memcpy (p, &h, 2);
}

/* A weight matrix of random bytes (every level and scale pattern) with
 * finite, moderate block scales. Float types get random values. */
static uint8_t *
random_weights (vlm_type t, int64_t m, int64_t k, size_t *row_bytes)
{
  size_t rb = vlm_type_row_bytes (t, k), bb = vlm_type_block_bytes (t);
  uint8_t *w = malloc (rb * (size_t) m);
  assert_non_null (w);
  *row_bytes = rb;
  if (t == VLM_TYPE_F32 || t == VLM_TYPE_F16 || t == VLM_TYPE_BF16) {
    float *f = random_floats (m * k);
    for (int64_t r = 0; r < m; r++)
      vlm_quantize_row (t, f + r * k, w + r * rb, k);
    free (f);
    return w;
  }
  for (size_t i = 0; i < rb * (size_t) m; i++)
    w[i] = (uint8_t) rnd ();
  for (size_t b = 0; b < rb * (size_t) m / bb; b++) {
    uint8_t *p = w + b * bb;
    switch (t) {
      case VLM_TYPE_Q8_0:
      case VLM_TYPE_Q4_0:
        put_fp16 (p, frnd () * 0.05f);
        break;
      case VLM_TYPE_Q4_K:
        put_fp16 (p, fabsf (frnd ()) * 0.01f);
        put_fp16 (p + 2, fabsf (frnd ()) * 0.01f);
        break;
      case VLM_TYPE_Q6_K:
        put_fp16 (p + 208, frnd () * 0.001f);
        break;
      default:
        break;
    }
  }
  return w;
}

static const vlm_type all_types[] = {
  VLM_TYPE_F32, VLM_TYPE_F16, VLM_TYPE_BF16, VLM_TYPE_Q8_0, VLM_TYPE_Q4_0,
  VLM_TYPE_Q4_K, VLM_TYPE_Q6_K,
};
#define N_TYPES (sizeof all_types / sizeof all_types[0])

static vlm_kw
class_of (vlm_type t)
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

static bool
is_float_type (vlm_type t)
{
  return t == VLM_TYPE_F32 || t == VLM_TYPE_F16 || t == VLM_TYPE_BF16;
}

static bool
uses_q8_k (vlm_type t)
{
  return t == VLM_TYPE_Q4_K || t == VLM_TYPE_Q6_K;
}

/* Smallest k (one block) of a type. */
static int64_t
block_k (vlm_type t)
{
  return is_float_type (t) ? 1 : vlm_type_block_elems (t);
}

/* The SIMD levels of this architecture (ref excluded). */
static const vlm_cpu_level simd_levels[] = {
  VLM_CPU_AVX2, VLM_CPU_AVX512, VLM_CPU_NEON, VLM_CPU_DOTPROD,
};
#define N_SIMD (sizeof simd_levels / sizeof simd_levels[0])

/* The table of a SIMD level, or NULL with a "skipped" line. */
static const vlm_kernels *
simd_table (vlm_cpu_level l, const char *what)
{
  const vlm_kernels *kt = vlm_kernels_for (l);
  if (kt == NULL)
    return NULL;                /* other architecture: not built */
  if (!vlm_cpu_has (l)) {
    printf ("[ SKIPPED  ] %s: path %s (CPU lacks it)\n", what,
        vlm_cpu_level_name (l));
    return NULL;
  }
  return kt;
}

/* Activations of n rows of k floats in the format of weight type t. */
static uint8_t *
quantize_acts (const vlm_kernels *kt, vlm_type t, const float *x, int64_t n,
    int64_t k, size_t *ldx)
{
  if (is_float_type (t)) {
    *ldx = (size_t) k * 4;
    uint8_t *c = malloc ((size_t) (n * k) * 4);
    memcpy (c, x, (size_t) (n * k) * 4);
    return c;
  }
  *ldx = uses_q8_k (t) ? (size_t) (k / VLM_QK_K) * sizeof (vlm_block_q8_k)
      : (size_t) (k / 32) * VLM_Q8_0_BYTES;
  uint8_t *q = malloc (*ldx * (size_t) n);
  assert_non_null (q);
  for (int64_t r = 0; r < n; r++)
    (uses_q8_k (t) ? kt->quant_q8_k : kt->quant_q8_0) (x + r * k,
        q + r * *ldx, k);
  return q;
}

static void
assert_close (float got, double want, double tol, const char *what,
    int64_t i)
{
  if (!(fabs (got - want) <= tol))
    fail_msg ("%s [%lld]: got %.9g, want %.9g (tolerance %.3g)", what,
        (long long) i, got, want, tol);
}

/* ------------------------------------------------------------------ */
/* CPU levels                                                          */
/* ------------------------------------------------------------------ */

static void
test_cpu_ref_always_available (void **state)
{
  (void) state;
  assert_true (vlm_cpu_has (VLM_CPU_REF));
  assert_true (vlm_cpu_has (vlm_cpu_best ()));
  assert_string_equal (vlm_cpu_level_name (VLM_CPU_REF), "ref");
  assert_non_null (vlm_kernels_for (VLM_CPU_REF));
  assert_non_null (vlm_kernels_for (vlm_cpu_best ()));
}

static void
test_cpu_set_level_forces_path (void **state)
{
  (void) state;
  vlm_cpu_level saved = vlm_cpu_get_level ();
  assert_true (vlm_cpu_set_level (VLM_CPU_REF));
  assert_int_equal (vlm_cpu_get_level (), VLM_CPU_REF);
  assert_ptr_equal (vlm_kernels_get (), &vlm_kernels_ref);
  for (size_t i = 0; i < N_SIMD; i++)
    if (!vlm_cpu_has (simd_levels[i]))
      assert_false (vlm_cpu_set_level (simd_levels[i]));
  assert_true (vlm_cpu_set_level (saved));
  printf ("[ INFO     ] best path: %s\n", vlm_cpu_level_name (vlm_cpu_best ()));
}

/* ------------------------------------------------------------------ */
/* Activation quantisers                                               */
/* ------------------------------------------------------------------ */

static void
check_quant_paths (bool q8k, int64_t k)
{
  float *x = random_floats (k);
  size_t bytes = q8k ? (size_t) (k / VLM_QK_K) * sizeof (vlm_block_q8_k)
      : (size_t) (k / 32) * VLM_Q8_0_BYTES;
  uint8_t *want = calloc (1, bytes), *got = calloc (1, bytes);

  x[3] = 0.0f;
  for (int i = 0; i < 32; i++)
    x[32 + i] = 0.0f;           /* an all-zero block: d = 0 */
  (q8k ? vlm_k_quant_q8_k_ref : vlm_k_quant_q8_0_ref) (x, want, k);
  for (size_t l = 0; l < N_SIMD; l++) {
    const vlm_kernels *kt = simd_table (simd_levels[l], "quantiser");
    if (kt == NULL)
      continue;
    memset (got, 0, bytes);
    (q8k ? kt->quant_q8_k : kt->quant_q8_0) (x, got, k);
    assert_memory_equal (got, want, bytes);
  }
  free (x);
  free (want);
  free (got);
}

static void
test_quant_q8_0_paths_match_ref (void **state)
{
  (void) state;
  check_quant_paths (false, 64);
  check_quant_paths (false, 32 * 37);
}

static void
test_quant_q8_k_paths_match_ref (void **state)
{
  (void) state;
  check_quant_paths (true, 256);
  check_quant_paths (true, 256 * 5);
}

static void
test_quant_q8_0_round_trip (void **state)
{
  (void) state;
  const int64_t k = 32 * 8;
  float *x = random_floats (k), y[32 * 8];
  uint8_t q[34 * 8];

  vlm_k_quant_q8_0_ref (x, q, k);
  vlm_dequantize_row_q8_0 (q, y, k);
  for (int64_t b = 0; b < k / 32; b++) {
    float amax = 0.0f;
    for (int i = 0; i < 32; i++)
      amax = fmaxf (amax, fabsf (x[32 * b + i]));
    for (int i = 0; i < 32; i++)
      assert_close (y[32 * b + i], x[32 * b + i], amax * (0.5 / 127 + 1e-3),
          "q8_0 round trip", 32 * b + i);
  }
  free (x);
}

/* vlm_round_f16_d agrees with float -> binary16 wherever the double is a
 * float, and rounds once where a float detour would round twice. */
static void
test_round_f16_from_double (void **state)
{
  uint32_t seed = 7;
  for (int i = 0; i < 100000; i++) {
    seed = seed * 1664525u + 1013904223u;
    float f;
    uint32_t bits = seed & 0xbfffffffu;   /* |f| < 2: normal, subnormal */
    memcpy (&f, &bits, 4);
    if (!isfinite (f))
      continue;
    float want = vlm_fp16_to_fp32 (vlm_fp32_to_fp16 (f));
    assert_true (vlm_round_f16_d ((double) f) == want);
  }
  /* a tie goes to even; just above a tie goes up (float would see the
   * tie: 1 + 2^-11 + 2^-40 is 1 + 2^-11 in float) */
  assert_true (vlm_round_f16_d (1.0 + 0x1p-11) == 1.0f);
  assert_true (vlm_round_f16_d (1.0 + 0x1p-11 + 0x1p-40) == 1.0f + 0x1p-10f);
  assert_true (vlm_round_f16_d (-(1.0 + 3 * 0x1p-11)) == -(1.0f + 0x1p-9f));
  /* subnormal spacing 2^-24, overflow, zero, infinity */
  assert_true (vlm_round_f16_d (0x1p-25 + 0x1p-40) == 0x1p-24f);
  assert_true (vlm_round_f16_d (0x1p-26) == 0.0f);
  assert_true (isinf (vlm_round_f16_d (65520.0)));
  assert_true (vlm_round_f16_d (65519.0) == 65504.0f);
  assert_true (vlm_round_f16_d (0.0) == 0.0f);
  assert_true (isinf (vlm_round_f16_d (-INFINITY)));
}

static void
test_quant_q8_k_block_sums (void **state)
{
  (void) state;
  float *x = random_floats (512);
  vlm_block_q8_k q[2];

  vlm_k_quant_q8_k_ref (x, q, 512);
  for (int b = 0; b < 2; b++) {
    for (int g = 0; g < 16; g++) {
      int s = 0;
      for (int i = 0; i < 16; i++)
        s += q[b].q[16 * g + i];
      assert_int_equal (q[b].bsums[g], s);
    }
    for (int i = 0; i < 256; i++)
      assert_close (q[b].d * q[b].q[i], x[256 * b + i], q[b].d * 0.5001,
          "q8_k value", i);
  }
  free (x);
}

/* ------------------------------------------------------------------ */
/* Reference tiles against float dot products                          */
/* ------------------------------------------------------------------ */

/* The reference tile equals the dot product of the dequantised weight
 * with the dequantised activations (both exact in float). */
static void
check_ref_tile (vlm_type t)
{
  const int64_t k = is_float_type (t) ? 77 : 3 * vlm_type_block_elems (t);
  size_t rb, ldx;
  uint8_t *w = random_weights (t, 2, k, &rb);
  float *x = random_floats (k), *wf = malloc (k * 4), *xf = malloc (k * 4);
  uint8_t *xq = quantize_acts (&vlm_kernels_ref, t, x, 1, k, &ldx);
  float y[2];

  if (is_float_type (t))
    memcpy (xf, x, k * 4);
  else if (uses_q8_k (t)) {
    const vlm_block_q8_k *qb = (const vlm_block_q8_k *) xq;
    for (int64_t i = 0; i < k; i++)
      xf[i] = qb[i / 256].d * qb[i / 256].q[i % 256];
  } else
    vlm_dequantize_row_q8_0 (xq, xf, k);

  vlm_kernels_ref.tile[class_of (t)] (k, w, rb, 2, xq, ldx, 1, y, 1);
  for (int r = 0; r < 2; r++) {
    double want = 0.0, mag = 0.0;
    vlm_dequantize_row (t, w + r * rb, wf, k);
    for (int64_t i = 0; i < k; i++) {
      want += (double) wf[i] * xf[i];
      mag += fabs ((double) wf[i] * xf[i]);
    }
    assert_close (y[r], want, 1e-5 * mag + 1e-6, vlm_type_name (t), r);
  }
  free (w);
  free (x);
  free (wf);
  free (xf);
  free (xq);
}

static void
test_ref_tiles_match_dequantised_dot (void **state)
{
  (void) state;
  for (size_t i = 0; i < N_TYPES; i++)
    check_ref_tile (all_types[i]);
}

/* ------------------------------------------------------------------ */
/* SIMD tiles against the reference tiles                              */
/* ------------------------------------------------------------------ */

/* Every tile shape up to the table's, for k blocks of type t. */
static void
check_simd_tiles (vlm_type t, int64_t k)
{
  const int M = 4, N = 4;
  size_t rb, ldx;
  uint8_t *w = random_weights (t, M, k, &rb);
  float *x = random_floats (N * k);
  float want[16], got[16];
  /* Q4_0: every SIMD level sums the same int32 lanes in the same order
   * (the AVX-512 tile keeps the high nibbles x16 and scales by d/16), so
   * their results must agree bit for bit. */
  float first[4][4][16];
  bool have_first[4][4] = { { false } };

  for (size_t l = 0; l < N_SIMD; l++) {
    const vlm_kernels *kt = simd_table (simd_levels[l], vlm_type_name (t));
    if (kt == NULL)
      continue;
    uint8_t *xq = quantize_acts (kt, t, x, N, k, &ldx);
    for (int mr = 1; mr <= kt->mr; mr++)
      for (int nr = 1; nr <= kt->nr; nr++) {
        vlm_k_tile_ref (class_of (t), k, w, rb, mr, xq, ldx, nr, want, 4);
        kt->tile[class_of (t)] (k, w, rb, mr, xq, ldx, nr, got, 4);
        for (int j = 0; j < nr; j++)
          for (int i = 0; i < mr; i++)
            assert_close (got[4 * j + i], want[4 * j + i],
                1e-5 * fabs (want[4 * j + i]) + 1e-4, vlm_type_name (t),
                4 * j + i);
        if (t != VLM_TYPE_Q4_0)
          continue;
        if (!have_first[mr - 1][nr - 1]) {
          memcpy (first[mr - 1][nr - 1], got, sizeof got);
          have_first[mr - 1][nr - 1] = true;
        } else
          for (int j = 0; j < nr; j++)
            for (int i = 0; i < mr; i++)
              assert_memory_equal (&got[4 * j + i],
                  &first[mr - 1][nr - 1][4 * j + i], sizeof (float));
      }
    free (xq);
  }
  free (w);
  free (x);
}

#define SIMD_TILE_TEST(name, type)                                          \
  static void                                                               \
  name (void **state)                                                       \
  {                                                                         \
    (void) state;                                                           \
    check_simd_tiles (type, block_k (type));                                \
    check_simd_tiles (type, 7 * (is_float_type (type) ? 1                  \
            : block_k (type)) + (is_float_type (type) ? 3 : 0));            \
    check_simd_tiles (type, is_float_type (type) ? 1027 : 9 * block_k (type)); \
  }

SIMD_TILE_TEST (test_simd_tiles_f32, VLM_TYPE_F32)
SIMD_TILE_TEST (test_simd_tiles_f16, VLM_TYPE_F16)
SIMD_TILE_TEST (test_simd_tiles_bf16, VLM_TYPE_BF16)
SIMD_TILE_TEST (test_simd_tiles_q8_0, VLM_TYPE_Q8_0)
SIMD_TILE_TEST (test_simd_tiles_q4_0, VLM_TYPE_Q4_0)
SIMD_TILE_TEST (test_simd_tiles_q4_k, VLM_TYPE_Q4_K)
SIMD_TILE_TEST (test_simd_tiles_q6_k, VLM_TYPE_Q6_K)

/* The float GEMM micro-kernels and packers against a plain product. */
static void
test_simd_gemm_ukernel (void **state)
{
  (void) state;
  for (size_t l = 0; l < N_SIMD; l++) {
    const vlm_kernels *kt = simd_table (simd_levels[l], "gemm micro-kernel");
    if (kt == NULL || kt->ukernel == NULL)
      continue;
    const int kc = 37, gmr = kt->gmr, gnr = kt->gnr;
    size_t rb;
    uint8_t *w = random_weights (VLM_TYPE_F16, gnr, kc, &rb);
    float *xp = random_floats (kc * gmr);
    float *wp = aligned_alloc (64, (size_t) (kc * gnr) * 4 + 64);
    float *c = calloc ((size_t) (gmr * gnr), 4), wf[64];
    for (int cols = gnr; cols >= gnr - 3; cols -= 3) {
      kt->pack[VLM_KW_F16] (w, rb, cols, 0, kc, wp, gnr);
      for (int mr = 1; mr <= gmr; mr++) {
        memset (c, 0, (size_t) (gmr * gnr) * 4);
        kt->ukernel (kc, xp, wp, mr, cols, c, gnr);
        for (int col = 0; col < gnr; col++) {
          vlm_dequantize_row (VLM_TYPE_F16, w + col * rb, wf, kc);
          for (int r = 0; r < gmr; r++) {
            double want = 0.0;
            for (int i = 0; i < kc && r < mr && col < cols; i++)
              want += (double) xp[i * gmr + r] * wf[i];
            assert_close (c[r * gnr + col], want, 1e-4, "ukernel", r);
          }
        }
      }
    }
    free (w);
    free (xp);
    free (wp);
    free (c);
  }
}

/* ------------------------------------------------------------------ */
/* vlm_matmul                                                          */
/* ------------------------------------------------------------------ */

/* Checks vlm_matmul on the current path against a double-precision
 * product of the dequantised weights, within what quantising the
 * activations can change. */
static void
check_matmul (vlm_pool *pool, vlm_type t, int64_t m, int64_t k, int64_t n,
    bool with_bias)
{
  size_t rb;
  uint8_t *wd = random_weights (t, m, k, &rb);
  float *x = random_floats (n * k), *wf = malloc ((size_t) k * 4);
  float *y = malloc ((size_t) (n * m) * 4);
  float *bias = with_bias ? random_floats (m) : NULL;
  vlm_mat w = { t, k, m, rb, wd };
  int64_t blk = is_float_type (t) ? 1 : (uses_q8_k (t) ? 256 : 32);

  assert_int_equal (vlm_matmul (pool, &w, x, n, y, bias), 0);
  for (int64_t r = 0; r < m; r++) {
    vlm_mat_get_row (&w, r, wf);
    for (int64_t i = 0; i < n; i++) {
      const float *xi = x + i * k;
      double want = bias ? bias[r] : 0.0, tol = 1e-5;
      for (int64_t b0 = 0; b0 < k; b0 += blk) {
        double amax = 0.0, wsum = 0.0;
        for (int64_t l = b0; l < b0 + blk; l++) {
          want += (double) wf[l] * xi[l];
          amax = fmax (amax, fabs (xi[l]));
          wsum += fabs (wf[l]);
          tol += 1e-5 * fabs ((double) wf[l] * xi[l]);
        }
        if (!is_float_type (t))
          tol += wsum * amax * (0.5 / 127 + 1e-3);
      }
      assert_close (y[i * m + r], want, tol, vlm_type_name (t), i * m + r);
    }
  }
  free (wd);
  free (x);
  free (wf);
  free (y);
  free (bias);
}

/* Runs `fn` on the reference path and on every SIMD path there is. */
static void
for_each_path (void (*fn) (vlm_cpu_level), const char *what)
{
  vlm_cpu_level saved = vlm_cpu_get_level ();
  assert_true (vlm_cpu_set_level (VLM_CPU_REF));
  fn (VLM_CPU_REF);
  for (size_t l = 0; l < N_SIMD; l++)
    if (simd_table (simd_levels[l], what) && vlm_cpu_set_level (simd_levels[l]))
      fn (simd_levels[l]);
  vlm_cpu_set_level (saved);
}

static void
matmul_sizes (vlm_type t)
{
  static const int64_t ns[] = { 1, 2, 3, 7, 33 };
  vlm_pool *pool = vlm_pool_new (2);
  int64_t b = block_k (t) == 1 ? 32 : block_k (t);

  for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++) {
    check_matmul (pool, t, 37, b, ns[i], false);
    check_matmul (pool, t, 37, 3 * b + (is_float_type (t) ? 5 : 0), ns[i],
        false);
  }
  vlm_pool_free (pool);
}

#define MATMUL_TEST(name, type)                                             \
  static void name##_path (vlm_cpu_level l) { (void) l; matmul_sizes (type); } \
  static void                                                               \
  name (void **state)                                                       \
  {                                                                         \
    (void) state;                                                           \
    for_each_path (name##_path, #name);                                     \
  }

MATMUL_TEST (test_matmul_f32, VLM_TYPE_F32)
MATMUL_TEST (test_matmul_f16, VLM_TYPE_F16)
MATMUL_TEST (test_matmul_bf16, VLM_TYPE_BF16)
MATMUL_TEST (test_matmul_q8_0, VLM_TYPE_Q8_0)
MATMUL_TEST (test_matmul_q4_0, VLM_TYPE_Q4_0)
MATMUL_TEST (test_matmul_q4_k, VLM_TYPE_Q4_K)
MATMUL_TEST (test_matmul_q6_k, VLM_TYPE_Q6_K)

static void
bias_path (vlm_cpu_level l)
{
  (void) l;
  for (size_t i = 0; i < N_TYPES; i++) {
    check_matmul (NULL, all_types[i], 9, 256, 1, true);
    check_matmul (NULL, all_types[i], 41, 256, 10, true);
  }
}

static void
test_matmul_bias (void **state)
{
  (void) state;
  for_each_path (bias_path, "bias");
}

/* The vision tower's shape class: n = 577 rows, a GEMM panel edge. */
static void
f16_577_path (vlm_cpu_level l)
{
  (void) l;
  vlm_pool *pool = vlm_pool_new (2);
  check_matmul (pool, VLM_TYPE_F16, 35, 300, 577, true);
  vlm_pool_free (pool);
}

static void
test_matmul_f16_577_rows (void **state)
{
  (void) state;
  for_each_path (f16_577_path, "f16 577");
}

/* Thread counts 1, 2 and 3 give bit-identical results. */
static void
deterministic_path (vlm_cpu_level l)
{
  (void) l;
  static const vlm_type types[] = { VLM_TYPE_Q8_0, VLM_TYPE_Q4_K,
    VLM_TYPE_Q6_K, VLM_TYPE_F16 };
  const int64_t m = 67, k = 512, n = 19;
  float *x = random_floats (n * k), *bias = random_floats (m);
  float *y[3];

  for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
    size_t rb;
    uint8_t *wd = random_weights (types[t], m, k, &rb);
    vlm_mat w = { types[t], k, m, rb, wd };
    for (int th = 1; th <= 3; th++) {
      vlm_pool *pool = vlm_pool_new (th);
      y[th - 1] = malloc ((size_t) (n * m) * 4);
      assert_int_equal (vlm_matmul (pool, &w, x, n, y[th - 1], bias), 0);
      vlm_pool_free (pool);
    }
    assert_memory_equal (y[0], y[1], (size_t) (n * m) * 4);
    assert_memory_equal (y[0], y[2], (size_t) (n * m) * 4);
    for (int th = 0; th < 3; th++)
      free (y[th]);
    free (wd);
  }
  free (x);
  free (bias);
}

static void
test_matmul_threads_deterministic (void **state)
{
  (void) state;
  for_each_path (deterministic_path, "determinism");
}

static void
test_matmul_unsupported_type (void **state)
{
  (void) state;
  uint8_t data[64] = { 0 };
  float x[32] = { 0 }, y[1];
  vlm_mat w = { VLM_TYPE_Q4_1, 32, 1, 20, data };
  assert_false (vlm_matmul_supports (VLM_TYPE_Q4_1));
  assert_int_equal (vlm_matmul (NULL, &w, x, 1, y, NULL), -1);
}

/* ------------------------------------------------------------------ */
/* Thread pool                                                         */
/* ------------------------------------------------------------------ */

typedef struct {
  atomic_int count[16];
  int nth_seen[16];
} slice_log;

static void
log_slice (void *p, int ith, int nth)
{
  slice_log *s = p;
  atomic_fetch_add (&s->count[ith], 1);
  s->nth_seen[ith] = nth;
}

static void
test_pool_every_slice_once (void **state)
{
  (void) state;
  for (int th = 1; th <= 4; th++) {
    vlm_pool *pool = vlm_pool_new (th);
    slice_log s = { 0 };
    assert_non_null (pool);
    assert_int_equal (vlm_pool_n_threads (pool), th);
    vlm_pool_run (pool, log_slice, &s);
    for (int i = 0; i < th; i++) {
      assert_int_equal (atomic_load (&s.count[i]), 1);
      assert_int_equal (s.nth_seen[i], th);
    }
    for (int i = th; i < 16; i++)
      assert_int_equal (atomic_load (&s.count[i]), 0);
    vlm_pool_free (pool);
  }
}

typedef struct {
  int64_t *cells;               /* one per slice, plain writes */
  int64_t round;
} round_job;

static void
write_round (void *p, int ith, int nth)
{
  round_job *j = p;
  (void) nth;
  j->cells[ith] = j->round;
}

/* Thousands of back-to-back jobs; every write of a job is visible to
 * the caller when vlm_pool_run returns. */
static void
test_pool_back_to_back_jobs (void **state)
{
  (void) state;
  vlm_pool *pool = vlm_pool_new (3);
  int64_t cells[3] = { 0 };
  round_job j = { cells, 0 };

  for (j.round = 1; j.round <= 20000; j.round++) {
    vlm_pool_run (pool, write_round, &j);
    for (int i = 0; i < 3; i++)
      if (cells[i] != j.round)
        fail_msg ("round %lld: slice %d wrote %lld", (long long) j.round, i,
            (long long) cells[i]);
  }
  vlm_pool_free (pool);
}

static void
sleep_ms (int ms)
{
  struct timespec ts = { 0, ms * 1000000L };
  nanosleep (&ts, NULL);
}

/* Jobs after the workers went to sleep still run, on every slice. */
static void
test_pool_wakes_after_idle (void **state)
{
  (void) state;
  vlm_pool *pool = vlm_pool_new (2);
  for (int r = 0; r < 3; r++) {
    slice_log s = { 0 };
    sleep_ms (5);
    vlm_pool_run (pool, log_slice, &s);
    assert_int_equal (atomic_load (&s.count[0]), 1);
    assert_int_equal (atomic_load (&s.count[1]), 1);
  }
  vlm_pool_free (pool);
}

static void
test_pool_null_runs_inline (void **state)
{
  (void) state;
  slice_log s = { 0 };
  assert_int_equal (vlm_pool_n_threads (NULL), 1);
  vlm_pool_run (NULL, log_slice, &s);
  assert_int_equal (atomic_load (&s.count[0]), 1);
  assert_int_equal (s.nth_seen[0], 1);
  vlm_pool_free (NULL);
}

static void
test_pool_default_size (void **state)
{
  (void) state;
  vlm_pool *pool = vlm_pool_new (0);
  assert_non_null (pool);
  assert_true (vlm_pool_n_threads (pool) >= 1);
  vlm_pool_free (pool);
}

static void
test_pool_free_idle (void **state)
{
  (void) state;
  vlm_pool *fresh = vlm_pool_new (3), *asleep = vlm_pool_new (3);
  slice_log s = { 0 };
  vlm_pool_free (fresh);        /* never ran a job */
  vlm_pool_run (asleep, log_slice, &s);
  sleep_ms (5);                 /* past the spin: workers sleep */
  vlm_pool_free (asleep);
}

/* A slow slice makes the caller wait past its spin, then wake. */
static void
slow_last_slice (void *p, int ith, int nth)
{
  if (ith == nth - 1)
    sleep_ms (3);
  log_slice (p, ith, nth);
}

static void
test_pool_caller_sleeps_and_wakes (void **state)
{
  (void) state;
  vlm_pool *pool = vlm_pool_new (2);
  for (int r = 0; r < 3; r++) {
    slice_log s = { 0 };
    vlm_pool_run (pool, slow_last_slice, &s);
    assert_int_equal (atomic_load (&s.count[1]), 1);
  }
  vlm_pool_free (pool);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_cpu_ref_always_available),
    cmocka_unit_test (test_cpu_set_level_forces_path),
    cmocka_unit_test (test_quant_q8_0_paths_match_ref),
    cmocka_unit_test (test_quant_q8_k_paths_match_ref),
    cmocka_unit_test (test_quant_q8_0_round_trip),
    cmocka_unit_test (test_round_f16_from_double),
    cmocka_unit_test (test_quant_q8_k_block_sums),
    cmocka_unit_test (test_ref_tiles_match_dequantised_dot),
    cmocka_unit_test (test_simd_tiles_f32),
    cmocka_unit_test (test_simd_tiles_f16),
    cmocka_unit_test (test_simd_tiles_bf16),
    cmocka_unit_test (test_simd_tiles_q8_0),
    cmocka_unit_test (test_simd_tiles_q4_0),
    cmocka_unit_test (test_simd_tiles_q4_k),
    cmocka_unit_test (test_simd_tiles_q6_k),
    cmocka_unit_test (test_simd_gemm_ukernel),
    cmocka_unit_test (test_matmul_f32),
    cmocka_unit_test (test_matmul_f16),
    cmocka_unit_test (test_matmul_bf16),
    cmocka_unit_test (test_matmul_q8_0),
    cmocka_unit_test (test_matmul_q4_0),
    cmocka_unit_test (test_matmul_q4_k),
    cmocka_unit_test (test_matmul_q6_k),
    cmocka_unit_test (test_matmul_bias),
    cmocka_unit_test (test_matmul_f16_577_rows),
    cmocka_unit_test (test_matmul_threads_deterministic),
    cmocka_unit_test (test_matmul_unsupported_type),
    cmocka_unit_test (test_pool_every_slice_once),
    cmocka_unit_test (test_pool_back_to_back_jobs),
    cmocka_unit_test (test_pool_wakes_after_idle),
    cmocka_unit_test (test_pool_null_runs_inline),
    cmocka_unit_test (test_pool_default_size),
    cmocka_unit_test (test_pool_free_idle),
    cmocka_unit_test (test_pool_caller_sleeps_and_wakes),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}

/* vlm-bench-kernels — memory bandwidth, matrix-vector and matrix-matrix
 * speed of the kernels, and the cost of a thread-pool job.
 *
 * Usage: vlm-bench-kernels [--threads N]
 * The kernel path is the best the CPU has; VLM_CPU=ref|avx2|avx512
 * forces one. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cpu.h"
#include "matmul.h"
#include "quant.h"
#include "threadpool.h"

static double
now_s (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec + 1e-9 * (double) ts.tv_nsec;
}

static uint64_t rng = 88172645463325252ull;

static uint8_t
rnd8 (void)
{
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return (uint8_t) rng;
}

/* ------------------------------------------------------------------ */
/* Memory bandwidth probe                                              */
/* ------------------------------------------------------------------ */

typedef struct {
  const uint64_t *buf;
  size_t words;
  uint64_t sums[64];
} read_job;

static void
read_slice (void *p, int ith, int nth)
{
  read_job *j = p;
  size_t a = j->words * (size_t) ith / (size_t) nth;
  size_t b = j->words * (size_t) (ith + 1) / (size_t) nth;
  uint64_t s[8] = { 0 };
  for (size_t i = a; i + 8 <= b; i += 8)
    for (int u = 0; u < 8; u++)
      s[u] += j->buf[i + u];
  j->sums[ith] = s[0] + s[1] + s[2] + s[3] + s[4] + s[5] + s[6] + s[7];
}

static double
bandwidth_gbs (vlm_pool *pool)
{
  const size_t bytes = (size_t) 512 << 20;
  read_job j = { 0 };
  uint64_t *buf = malloc (bytes);
  double best = 0.0;

  if (buf == NULL)
    return 0.0;
  memset (buf, 1, bytes);
  j.buf = buf;
  j.words = bytes / 8;
  for (int r = 0; r < 5; r++) {
    double t = now_s ();
    vlm_pool_run (pool, read_slice, &j);
    t = now_s () - t;
    if (bytes / t / 1e9 > best)
      best = bytes / t / 1e9;
  }
  free (buf);
  return best;
}

/* ------------------------------------------------------------------ */
/* Weights                                                             */
/* ------------------------------------------------------------------ */

/* Random weights with finite scales; float types from random floats. */
static void
fill_weights (vlm_type t, uint8_t *w, int64_t m, int64_t k)
{
  size_t rb = vlm_type_row_bytes (t, k), bb = vlm_type_block_bytes (t);
  uint16_t h = vlm_fp32_to_fp16 (0.01f);

  if (t == VLM_TYPE_F32 || t == VLM_TYPE_F16 || t == VLM_TYPE_BF16) {
    float *row = malloc ((size_t) k * 4);
    for (int64_t l = 0; l < k; l++)
      row[l] = (float) (rnd8 () - 128) / 128.0f;
    for (int64_t r = 0; r < m; r++)
      vlm_quantize_row (t, row, w + r * rb, k);
    free (row);
    return;
  }
  for (size_t i = 0; i < rb * (size_t) m; i++)
    w[i] = rnd8 ();
  for (size_t b = 0; b < rb * (size_t) m / bb; b++) {
    uint8_t *p = w + b * bb;
    if (t == VLM_TYPE_Q6_K)
      memcpy (p + 208, &h, 2);
    else
      memcpy (p, &h, 2);
    if (t == VLM_TYPE_Q4_K)
      memcpy (p + 2, &h, 2);
  }
}

/* ------------------------------------------------------------------ */
/* Matrix-vector                                                       */
/* ------------------------------------------------------------------ */

/* GB/s of weights streamed by n = 1 products, rotating over copies that
 * together exceed the last-level cache. */
static double
matvec_gbs (vlm_pool *pool, vlm_type t, int64_t m, int64_t k)
{
  size_t bytes = vlm_type_row_bytes (t, k) * (size_t) m;
  int copies = (int) ((256u << 20) / bytes) + 1;
  uint8_t *w = malloc (bytes * (size_t) copies);
  float *x = malloc ((size_t) k * 4), *y = malloc ((size_t) m * 4);
  double best = 1e30;

  if (w == NULL || x == NULL || y == NULL) {
    free (w);
    free (x);
    free (y);
    return 0.0;
  }
  fill_weights (t, w, m, k);
  for (int c = 1; c < copies; c++)
    memcpy (w + bytes * c, w, bytes);
  for (int64_t l = 0; l < k; l++)
    x[l] = (float) (rnd8 () - 128) / 64.0f;
  for (int rep = 0; rep < 3; rep++) {
    double t0 = now_s ();
    for (int c = 0; c < copies; c++) {
      vlm_mat mat = { t, k, m, vlm_type_row_bytes (t, k), w + bytes * c };
      vlm_matmul (pool, &mat, x, 1, y, NULL);
    }
    double dt = (now_s () - t0) / copies;
    if (dt < best)
      best = dt;
  }
  free (w);
  free (x);
  free (y);
  return bytes / best / 1e9;
}

/* ------------------------------------------------------------------ */
/* Matrix-matrix                                                       */
/* ------------------------------------------------------------------ */

static double
gemm_gflops (vlm_pool *pool, vlm_type t, int64_t n, int64_t k, int64_t m)
{
  size_t rb = vlm_type_row_bytes (t, k);
  uint8_t *w = malloc (rb * (size_t) m);
  float *x = malloc ((size_t) (n * k) * 4), *y = malloc ((size_t) (n * m) * 4);
  double best = 1e30;

  if (w == NULL || x == NULL || y == NULL) {
    free (w);
    free (x);
    free (y);
    return 0.0;
  }
  fill_weights (t, w, m, k);
  for (int64_t l = 0; l < n * k; l++)
    x[l] = (float) (rnd8 () - 128) / 64.0f;
  vlm_mat mat = { t, k, m, rb, w };
  for (int rep = 0; rep < 4; rep++) {
    double t0 = now_s ();
    vlm_matmul (pool, &mat, x, n, y, NULL);
    double dt = now_s () - t0;
    if (dt < best)
      best = dt;
  }
  free (w);
  free (x);
  free (y);
  return 2.0 * (double) n * (double) k * (double) m / best / 1e9;
}

/* ------------------------------------------------------------------ */
/* Pool overhead                                                       */
/* ------------------------------------------------------------------ */

static void
empty_slice (void *p, int ith, int nth)
{
  (void) p;
  (void) ith;
  (void) nth;
}

static double
pool_run_us (vlm_pool *pool)
{
  const int reps = 200000;
  double t0 = now_s ();
  for (int i = 0; i < reps; i++)
    vlm_pool_run (pool, empty_slice, NULL);
  return (now_s () - t0) / reps * 1e6;
}

int
main (int argc, char **argv)
{
  int threads = 0;
  static const vlm_type qtypes[] = { VLM_TYPE_Q8_0, VLM_TYPE_Q4_0,
    VLM_TYPE_Q4_K, VLM_TYPE_Q6_K, VLM_TYPE_F16, VLM_TYPE_BF16 };
  static const int64_t shapes[][2] = { { 2048, 5632 }, { 32000, 2048 } };

  for (int i = 1; i < argc; i++) {
    if (strcmp (argv[i], "--threads") == 0 && i + 1 < argc)
      threads = atoi (argv[++i]);
    else {
      fprintf (stderr, "usage: %s [--threads N]\n", argv[0]);
      return 2;
    }
  }
  vlm_pool *pool = vlm_pool_new (threads);
  if (pool == NULL) {
    fprintf (stderr, "cannot start threads\n");
    return 1;
  }
  printf ("kernel path: %s, threads: %d\n",
      vlm_cpu_level_name (vlm_cpu_get_level ()), vlm_pool_n_threads (pool));

  double bw = bandwidth_gbs (pool);
  printf ("memory bandwidth (streaming read, 512 MiB): %.1f GB/s\n", bw);

  printf ("matvec (n = 1), weights streamed from memory:\n");
  for (size_t s = 0; s < 2; s++)
    for (size_t q = 0; q < sizeof qtypes / sizeof qtypes[0]; q++) {
      /* shapes are "rows x columns" as in the brief: 2048x5632 is
       * k = 2048, m = 5632; 32000x2048 is m = 32000, k = 2048 */
      int64_t k = s == 0 ? shapes[0][0] : shapes[1][1];
      int64_t m = s == 0 ? shapes[0][1] : shapes[1][0];
      double g = matvec_gbs (pool, qtypes[q], m, k);
      printf ("  %-5s m=%-6lld k=%-5lld %6.1f GB/s  %5.1f %% of bandwidth\n",
          vlm_type_name (qtypes[q]), (long long) m, (long long) k, g,
          bw > 0 ? 100.0 * g / bw : 0.0);
    }

  printf ("gemm:\n");
  printf ("  f16  n=577 k=1024 m=4096  %6.1f GFLOP/s\n",
      gemm_gflops (pool, VLM_TYPE_F16, 577, 1024, 4096));
  printf ("  f16  n=577 k=4096 m=1024  %6.1f GFLOP/s\n",
      gemm_gflops (pool, VLM_TYPE_F16, 577, 4096, 1024));
  printf ("  q8_0 n=160 k=2048 m=5632  %6.1f GFLOP/s\n",
      gemm_gflops (pool, VLM_TYPE_Q8_0, 160, 2048, 5632));
  printf ("  q4_k n=160 k=2048 m=5632  %6.1f GFLOP/s\n",
      gemm_gflops (pool, VLM_TYPE_Q4_K, 160, 2048, 5632));

  printf ("vlm_pool_run, empty job: %.2f us per call\n", pool_run_us (pool));
  vlm_pool_free (pool);
  return 0;
}

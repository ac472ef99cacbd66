/* Tests of the attention kernels: the SIMD paths against the plain C
 * ones (bit for bit) and both against a direct softmax in double, for odd
 * head sizes, key counts and causal masks. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <cmocka.h>

#include "attention.h"
#include "quant.h"

/* Deterministic values in [-2, 2). */
static float
rnd (uint32_t *s)
{
  *s = *s * 1664525u + 1013904223u;
  return (float) (*s >> 8) / (float) (1u << 24) * 4.0f - 2.0f;
}

typedef struct {
  int dim, n_kv;
  uint16_t *k, *v;
  float *q;
} setup;

static setup
make (int dim, int n_kv, int n_q, uint32_t seed)
{
  setup s = { dim, n_kv, NULL, NULL, NULL };
  s.k = malloc (sizeof (uint16_t) * dim * n_kv);
  s.v = malloc (sizeof (uint16_t) * dim * n_kv);
  s.q = malloc (sizeof (float) * dim * n_q);
  assert_non_null (s.k);
  assert_non_null (s.v);
  assert_non_null (s.q);
  for (int i = 0; i < dim * n_kv; i++) {
    s.k[i] = vlm_fp32_to_fp16 (rnd (&seed));
    s.v[i] = vlm_fp32_to_fp16 (rnd (&seed));
  }
  for (int i = 0; i < dim * n_q; i++)
    s.q[i] = rnd (&seed);
  return s;
}

static void
release (setup s)
{
  free (s.k);
  free (s.v);
  free (s.q);
}

/* softmax (q k / sqrt (dim)) v over the first `vis` keys, in double */
static void
naive (const setup * s, const float *q, int vis, float *out)
{
  double m = -INFINITY, sum = 0, acc[256] = { 0 };
  double sc = 1.0 / sqrt ((double) s->dim);

  for (int t = 0; t < vis; t++) {
    double x = 0;
    for (int d = 0; d < s->dim; d++)
      x += (double) q[d] * vlm_fp16_to_fp32 (s->k[t * s->dim + d]);
    m = fmax (m, x * sc);
  }
  for (int t = 0; t < vis; t++) {
    double x = 0;
    for (int d = 0; d < s->dim; d++)
      x += (double) q[d] * vlm_fp16_to_fp32 (s->k[t * s->dim + d]);
    double p = exp (x * sc - m);
    sum += p;
    for (int d = 0; d < s->dim; d++)
      acc[d] += p * vlm_fp16_to_fp32 (s->v[t * s->dim + d]);
  }
  for (int d = 0; d < s->dim; d++)
    out[d] = (float) (acc[d] / sum);
}

static void
run_tiled (const setup * s, int n_q, int first, float *out)
{
  vlm_attn_kv kv = { s->k, s->v, (size_t) s->dim, s->dim };
  float *work = aligned_alloc (64,
      (vlm_attn_tiled_work (s->dim) * sizeof (float) + 63) / 64 * 64);

  assert_non_null (work);
  vlm_attn_tiled (&kv, s->q, (size_t) s->dim, n_q, s->n_kv, first,
      1.0f / sqrtf ((float) s->dim), out, (size_t) s->dim, work);
  free (work);
}

static void
check_tiled (int dim, int n_kv, int n_q, int first)
{
  setup s = make (dim, n_kv, n_q, (uint32_t) (dim * 131 + n_kv));
  float *a = calloc ((size_t) n_q * dim, sizeof (float));
  float *b = calloc ((size_t) n_q * dim, sizeof (float));
  float want[256];

  vlm_attn_force_ref (1);
  run_tiled (&s, n_q, first, a);
  vlm_attn_force_ref (0);
  run_tiled (&s, n_q, first, b);
  assert_memory_equal (a, b, sizeof (float) * n_q * dim);
  for (int r = 0; r < n_q; r++) {
    int vis = first < 0 ? n_kv : (first + r < n_kv ? first + r : n_kv);
    naive (&s, s.q + r * dim, vis, want);
    for (int d = 0; d < dim; d++)
      assert_true (fabsf (a[r * dim + d] - want[d]) < 1e-5f);
  }
  free (a);
  free (b);
  release (s);
}

static void
test_tiled_odd_sizes (void **state)
{
  check_tiled (16, 577, 64, -1);
  check_tiled (13, 100, 7, -1);
  check_tiled (64, 65, 33, -1);
  check_tiled (80, 130, 32, 98);
  check_tiled (8, 1, 1, -1);
  check_tiled (24, 200, 64, 137);
}

static void
run_online (const setup * s, int t0, int t1, vlm_attn_state *st, float *acc)
{
  vlm_attn_kv kv = { s->k, s->v, (size_t) s->dim, s->dim };
  float qh[256];

  for (int d = 0; d < s->dim; d++)
    qh[d] = vlm_fp16_to_fp32 (vlm_fp32_to_fp16 (s->q[d]));
  vlm_attn_online (&kv, qh, t0, t1, 1.0f / sqrtf ((float) s->dim), st, acc);
}

static void
check_online (int dim, int n_kv, int t0)
{
  setup s = make (dim, n_kv, 1, (uint32_t) (dim * 7 + n_kv));
  float a[256], b[256], want[256];
  vlm_attn_state sa, sb;

  vlm_attn_force_ref (1);
  run_online (&s, t0, n_kv, &sa, a);
  vlm_attn_force_ref (0);
  run_online (&s, t0, n_kv, &sb, b);
  assert_memory_equal (a, b, sizeof (float) * dim);
  assert_memory_equal (&sa, &sb, sizeof sa);
  if (t0 == 0) {
    naive (&s, s.q, n_kv, want);
    for (int d = 0; d < dim; d++)
      assert_true (fabsf (a[d] / sa.s - want[d]) < 2e-2f);
  }
  release (s);
}

static void
test_online_odd_sizes (void **state)
{
  check_online (16, 170, 0);
  check_online (13, 33, 0);
  check_online (128, 300, 5);
  check_online (7, 1, 0);
}

/* An empty key range leaves a neutral state. */
static void
test_online_empty (void **state)
{
  setup s = make (16, 4, 1, 3);
  float acc[16];
  vlm_attn_state st;

  run_online (&s, 2, 2, &st, acc);
  assert_true (isinf (st.m) && st.m < 0);
  assert_true (st.s == 0.0f);
  for (int d = 0; d < 16; d++)
    assert_true (acc[d] == 0.0f);
  release (s);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_tiled_odd_sizes),
    cmocka_unit_test (test_online_odd_sizes),
    cmocka_unit_test (test_online_empty),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}

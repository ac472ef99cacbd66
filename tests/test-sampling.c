/* Tests of the token samplers on hand-made logits. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <cmocka.h>

#include "test-util.h"

#include "sampling.h"

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

enum { NV = 100 };

static vlm_sampler_params
params (float temp, int top_k, float top_p, float min_p, uint64_t seed)
{
  vlm_sampler_params p = {
    .temperature = temp, .top_k = top_k, .top_p = top_p, .min_p = min_p,
    .repeat_penalty = 1.0f, .repeat_last_n = 64, .seed = seed,
  };
  return p;
}

static void
random_logits (float *l, int n, uint32_t seed)
{
  for (int i = 0; i < n; i++) {
    seed = seed * 1664525u + 1013904223u;
    l[i] = (float) (seed >> 8) / (float) (1 << 24) * 8.0f - 4.0f;
  }
}

/* Four tokens with probabilities 0.5, 0.3, 0.15, 0.05 at temperature 1. */
static void
four_logits (float *l)
{
  l[0] = logf (0.5f);
  l[1] = logf (0.3f);
  l[2] = logf (0.15f);
  l[3] = logf (0.05f);
}

/* How often each of the 4 tokens is drawn in `n` samples. */
static void
histogram4 (vlm_sampler_params p, int n, int counts[4])
{
  vlm_sampler *s = vlm_sampler_new (p, 4);
  assert_non_null (s);
  memset (counts, 0, 4 * sizeof (int));
  for (int i = 0; i < n; i++) {
    float l[4];
    four_logits (l);
    int32_t t = vlm_sampler_sample (s, l);
    assert_true (t >= 0 && t < 4);
    counts[t]++;
  }
  vlm_sampler_free (s);
}

/* ------------------------------------------------------------------ */
/* Tests                                                               */
/* ------------------------------------------------------------------ */

static void
test_greedy_is_argmax (void **state)
{
  vlm_sampler *s = vlm_sampler_new (params (0.0f, 0, 1.0f, 0.0f, 1), NV);
  float l[NV];
  for (uint32_t seed = 1; seed <= 20; seed++) {
    random_logits (l, NV, seed);
    int want = tu_argmax (l, NV);
    assert_int_equal (vlm_sampler_sample (s, l), want);
  }
  /* ties: the lowest id; NaN never wins */
  for (int i = 0; i < NV; i++)
    l[i] = 1.0f;
  l[0] = NAN;
  l[7] = 3.0f;
  l[9] = 3.0f;
  assert_int_equal (vlm_sampler_sample (s, l), 7);
  vlm_sampler_free (s);
  assert_null (vlm_sampler_new (params (0.0f, 0, 1.0f, 0.0f, 1), 0));
}

static void
sample_sequence (vlm_sampler *s, int32_t *out, int n)
{
  float l[NV];
  for (int i = 0; i < n; i++) {
    random_logits (l, NV, 1000 + i);
    for (int j = 0; j < NV; j++)
      l[j] *= 0.25f;            /* flat enough for varied draws */
    out[i] = vlm_sampler_sample (s, l);
  }
}

static void
test_seed_determinism (void **state)
{
  enum { N = 40 };
  int32_t a[N], b[N], c[N], d[N];
  vlm_sampler *s1 = vlm_sampler_new (params (1.0f, 0, 1.0f, 0.0f, 42), NV);
  vlm_sampler *s2 = vlm_sampler_new (params (1.0f, 0, 1.0f, 0.0f, 42), NV);
  vlm_sampler *s3 = vlm_sampler_new (params (1.0f, 0, 1.0f, 0.0f, 43), NV);

  sample_sequence (s1, a, N);
  sample_sequence (s2, b, N);
  sample_sequence (s3, c, N);
  assert_memory_equal (a, b, sizeof a);
  assert_memory_not_equal (a, c, sizeof a);
  /* reset restarts the same sequence */
  vlm_sampler_reset (s1);
  sample_sequence (s1, d, N);
  assert_memory_equal (a, d, sizeof a);

  vlm_sampler_free (s1);
  vlm_sampler_free (s2);
  vlm_sampler_free (s3);
}

static void
test_top_k_1_is_greedy (void **state)
{
  vlm_sampler *s = vlm_sampler_new (params (1.5f, 1, 1.0f, 0.0f, 7), NV);
  float l[NV];
  for (uint32_t seed = 1; seed <= 30; seed++) {
    random_logits (l, NV, seed);
    int want = tu_argmax (l, NV);
    assert_int_equal (vlm_sampler_sample (s, l), want);
  }
  vlm_sampler_free (s);
}

static void
test_top_k_keeps_k (void **state)
{
  int counts[4];
  histogram4 (params (1.0f, 2, 1.0f, 0.0f, 3), 2000, counts);
  assert_int_equal (counts[2] + counts[3], 0);
  /* renormalised 0.5 : 0.3 -> 62.5 % : 37.5 % */
  assert_in_range (counts[0], 1150, 1350);
}

static void
test_distribution_follows_softmax (void **state)
{
  int counts[4];
  histogram4 (params (1.0f, 0, 1.0f, 0.0f, 5), 4000, counts);
  assert_in_range (counts[0], 1850, 2150);      /* 0.5 */
  assert_in_range (counts[1], 1080, 1320);      /* 0.3 */
  assert_in_range (counts[2], 500, 700);        /* 0.15 */
  assert_in_range (counts[3], 130, 270);        /* 0.05 */
}

static void
test_top_p_cuts (void **state)
{
  int counts[4];
  /* 0.5 + 0.3 >= 0.7: tokens 0 and 1 only */
  histogram4 (params (1.0f, 0, 0.7f, 0.0f, 9), 1000, counts);
  assert_true (counts[0] > 0 && counts[1] > 0);
  assert_int_equal (counts[2] + counts[3], 0);
  /* 0.5 >= 0.45: token 0 alone */
  histogram4 (params (1.0f, 0, 0.45f, 0.0f, 9), 200, counts);
  assert_int_equal (counts[0], 200);
  /* 0.5 + 0.3 + 0.15 >= 0.9: all but token 3 */
  histogram4 (params (1.0f, 0, 0.9f, 0.0f, 9), 2000, counts);
  assert_true (counts[2] > 0);
  assert_int_equal (counts[3], 0);
}

static void
test_min_p_cuts (void **state)
{
  int counts[4];
  /* threshold 0.2 * 0.5 = 0.1: token 3 (0.05) out */
  histogram4 (params (1.0f, 0, 1.0f, 0.2f, 11), 2000, counts);
  assert_true (counts[0] > 0 && counts[1] > 0 && counts[2] > 0);
  assert_int_equal (counts[3], 0);
  /* threshold 0.35: token 0 alone */
  histogram4 (params (1.0f, 0, 1.0f, 0.7f, 11), 200, counts);
  assert_int_equal (counts[0], 200);
  /* above 1: still one token survives */
  histogram4 (params (1.0f, 0, 1.0f, 1.5f, 11), 50, counts);
  assert_int_equal (counts[0], 50);
}

static void
test_repeat_penalty (void **state)
{
  vlm_sampler_params p = params (0.0f, 0, 1.0f, 0.0f, 1);
  p.repeat_penalty = 2.0f;
  p.repeat_last_n = 3;
  vlm_sampler *s = vlm_sampler_new (p, 5);
  float l[5] = { 2.0f, -2.0f, 1.0f, 0.5f, 1.5f };

  vlm_sampler_accept (s, 0);
  vlm_sampler_accept (s, 1);
  vlm_sampler_accept (s, 0);    /* counted once */
  vlm_sampler_accept (s, 99);   /* out of range: ignored */
  assert_int_equal (vlm_sampler_sample (s, l), 4);
  assert_float_equal (l[0], 1.0f, 0.0f);
  assert_float_equal (l[1], -4.0f, 0.0f);
  assert_float_equal (l[2], 1.0f, 0.0f);
  assert_float_equal (l[3], 0.5f, 0.0f);
  assert_float_equal (l[4], 1.5f, 0.0f);

  /* only the last 3 tokens count: 2, 3, 4 push 0 and 1 out */
  vlm_sampler_accept (s, 2);
  vlm_sampler_accept (s, 3);
  vlm_sampler_accept (s, 4);
  float l2[5] = { 2.0f, -2.0f, 1.0f, 0.5f, 1.5f };
  assert_int_equal (vlm_sampler_sample (s, l2), 0);
  assert_float_equal (l2[0], 2.0f, 0.0f);
  assert_float_equal (l2[1], -2.0f, 0.0f);
  assert_float_equal (l2[2], 0.5f, 0.0f);
  assert_float_equal (l2[3], 0.25f, 0.0f);
  assert_float_equal (l2[4], 0.75f, 0.0f);

  /* reset forgets the history */
  vlm_sampler_reset (s);
  float l3[5] = { 2.0f, -2.0f, 1.0f, 0.5f, 1.5f };
  assert_int_equal (vlm_sampler_sample (s, l3), 0);
  assert_float_equal (l3[0], 2.0f, 0.0f);
  vlm_sampler_free (s);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_greedy_is_argmax),
    cmocka_unit_test (test_seed_determinism),
    cmocka_unit_test (test_top_k_1_is_greedy),
    cmocka_unit_test (test_top_k_keeps_k),
    cmocka_unit_test (test_distribution_follows_softmax),
    cmocka_unit_test (test_top_p_cuts),
    cmocka_unit_test (test_min_p_cuts),
    cmocka_unit_test (test_repeat_penalty),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}

/* Tests of the model generator: quantisers, the GGUF writer, and the
 * generated files against the golden reference models. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "test-util.h"

#include "gguf-writer.h"
#include "gguf.h"
#include "model-gen.h"
#include "quant.h"

/* ------------------------------------------------------------------ */
/* Fixtures and helpers                                                */
/* ------------------------------------------------------------------ */

static char tmp_dir[256];

static int
group_setup (void **state)
{
  return tu_tmpdir_new (tmp_dir, sizeof tmp_dir, "test-make-model") ? 0 : -1;
}

static int
group_teardown (void **state)
{
  tu_tmpdir_remove (tmp_dir);
  return 0;
}

/* A path under the temporary directory. */
static const char *
tmp_path (char *buf, size_t size, const char *name)
{
  snprintf (buf, size, "%s/%s", tmp_dir, name);
  return buf;
}

static vlm_gguf *
open_or_fail (const char *path)
{
  char err[256] = "";
  vlm_gguf_status st;
  vlm_gguf *g = vlm_gguf_open (path, &st, err, sizeof err);
  if (g == NULL)
    fail_msg ("%s: %s", path, err);
  return g;
}

/* Generates a preset into subdirectory `sub` of the temp dir. */
static void
generate (const char *preset, uint64_t seed, const char *sub,
    const char *vocab, vlm_gen_type type, int threads, vlm_gen_result *res)
{
  char dir[512], err[512] = "";
  vlm_gen_params p = vlm_gen_default_params ();

  p.preset = preset;
  p.seed = seed;
  p.out_dir = tmp_path (dir, sizeof dir, sub);
  p.vocab_path = vocab;
  p.type = type;
  p.n_threads = threads;
  vlm_gen_status st = vlm_gen_make_model (&p, res, err, sizeof err);
  if (st != VLM_GEN_OK)
    fail_msg ("generating %s: %s", preset, err);
}

static bool
files_equal (const char *a, const char *b)
{
  size_t na, nb;
  uint8_t *pa = tu_read_file (a, &na), *pb = tu_read_file (b, &nb);
  bool eq = na == nb && memcmp (pa, pb, na) == 0;
  free (pa);
  free (pb);
  return eq;
}

/* Deterministic test data: xorshift64 into [-1, 1). */
static float
test_rand (uint64_t *s)
{
  *s ^= *s << 13;
  *s ^= *s >> 7;
  *s ^= *s << 17;
  return (float) ((double) (*s >> 11) / 4503599627370496.0 - 1.0);
}

/* ------------------------------------------------------------------ */
/* fp16 / bf16                                                         */
/* ------------------------------------------------------------------ */

static void
test_fp16_exact_cases (void **state)
{
  assert_int_equal (vlm_fp32_to_fp16 (0.0f), 0x0000);
  assert_int_equal (vlm_fp32_to_fp16 (-0.0f), 0x8000);
  assert_int_equal (vlm_fp32_to_fp16 (1.0f), 0x3c00);
  assert_int_equal (vlm_fp32_to_fp16 (-2.0f), 0xc000);
  assert_int_equal (vlm_fp32_to_fp16 (65504.0f), 0x7bff);
  /* just below the tie stays finite, the tie goes to infinity (even) */
  assert_int_equal (vlm_fp32_to_fp16 (65519.0f), 0x7bff);
  assert_int_equal (vlm_fp32_to_fp16 (65520.0f), 0x7c00);
  assert_int_equal (vlm_fp32_to_fp16 (1e10f), 0x7c00);
  assert_int_equal (vlm_fp32_to_fp16 (-INFINITY), 0xfc00);
  /* ties to even in the normal range */
  assert_int_equal (vlm_fp32_to_fp16 (1.0f + 0x1p-11f), 0x3c00);
  assert_int_equal (vlm_fp32_to_fp16 (1.0f + 3 * 0x1p-11f), 0x3c02);
  assert_int_equal (vlm_fp32_to_fp16 (1.0f + 0x1p-11f + 0x1p-20f), 0x3c01);
  /* subnormals: 2^-24 is the smallest, 2^-25 ties down to zero */
  assert_int_equal (vlm_fp32_to_fp16 (0x1p-24f), 0x0001);
  assert_int_equal (vlm_fp32_to_fp16 (0x1p-25f), 0x0000);
  assert_int_equal (vlm_fp32_to_fp16 (0x1.8p-24f), 0x0002);
  assert_int_equal (vlm_fp32_to_fp16 (0x1.1p-25f), 0x0001);
  assert_int_equal (vlm_fp32_to_fp16 (0x1p-14f), 0x0400);
  assert_int_equal (vlm_fp32_to_fp16 (0x1.ff8p-15f), 0x03ff);
  assert_int_equal (vlm_fp32_to_fp16 (0x1.ffcp-15f), 0x0400);
  assert_int_equal (vlm_fp32_to_fp16 (1e-30f), 0x0000);
  /* NaN stays NaN */
  uint16_t h = vlm_fp32_to_fp16 (NAN);
  assert_true ((h & 0x7c00) == 0x7c00 && (h & 0x3ff) != 0);
  assert_true (isnan (vlm_fp16_to_fp32 (h)));
  assert_true (vlm_fp16_to_fp32 (0x0001) == 0x1p-24f);
  assert_true (vlm_fp16_to_fp32 (0x7bff) == 65504.0f);
  assert_true (isinf (vlm_fp16_to_fp32 (0x7c00)));
}

/* Every non-NaN half survives half -> float -> half unchanged. */
static void
test_fp16_round_trip_all (void **state)
{
  for (uint32_t h = 0; h < 0x10000; h++) {
    float f = vlm_fp16_to_fp32 ((uint16_t) h);
    if (isnan (f))
      continue;
    assert_int_equal (vlm_fp32_to_fp16 (f), h);
  }
}

static void
test_bf16_exact_cases (void **state)
{
  assert_int_equal (vlm_fp32_to_bf16 (1.0f), 0x3f80);
  assert_int_equal (vlm_fp32_to_bf16 (-0.0f), 0x8000);
  /* 1 + 2^-8 is the tie between 1 and 1 + 2^-7: even is 1 */
  assert_int_equal (vlm_fp32_to_bf16 (1.0f + 0x1p-8f), 0x3f80);
  assert_int_equal (vlm_fp32_to_bf16 (1.0f + 3 * 0x1p-8f), 0x3f82);
  assert_int_equal (vlm_fp32_to_bf16 (1.0f + 0x1p-8f + 0x1p-20f), 0x3f81);
  assert_int_equal (vlm_fp32_to_bf16 (INFINITY), 0x7f80);
  assert_int_equal (vlm_fp32_to_bf16 (3.4e38f), 0x7f80);
  uint16_t b = vlm_fp32_to_bf16 (NAN);
  assert_true (isnan (vlm_bf16_to_fp32 (b)));
  for (uint32_t v = 0; v < 0x10000; v++) {
    float f = vlm_bf16_to_fp32 ((uint16_t) v);
    if (!isnan (f))
      assert_int_equal (vlm_fp32_to_bf16 (f), v);
  }
}

/* ------------------------------------------------------------------ */
/* Quantisers                                                          */
/* ------------------------------------------------------------------ */

#define QN 4096

/* Test rows: random values, with one all-zero block, one block of huge
 * values (within every type's fp16-scale range) and one block mixing an
 * outlier with small values. */
static void
fill_test_row (float *x, int64_t n, int64_t block)
{
  uint64_t s = 0x1234567;
  for (int64_t i = 0; i < n; i++)
    x[i] = test_rand (&s) + 0.3f * test_rand (&s);
  for (int64_t i = 0; i < block; i++) {
    x[block + i] = 0.0f;
    x[2 * block + i] = 3e5f * test_rand (&s);
  }
  x[3 * block + 5] = 1000.0f;
}

/* Quantises and dequantises; checks every element against `tol` times
 * the largest magnitude of its block and returns the overall RMS error
 * relative to the RMS of the input (blocks other than the special ones). */
static double
round_trip (vlm_type type, int64_t block, double tol)
{
  float *x = malloc (QN * sizeof *x), *y = malloc (QN * sizeof *y);
  size_t bytes = vlm_type_row_bytes (type, QN);
  uint8_t *q = malloc (bytes);
  double se = 0, sx = 0;

  fill_test_row (x, QN, block);
  assert_int_equal (vlm_quantize_row (type, x, q, QN), bytes);
  assert_int_equal (vlm_dequantize_row (type, q, y, QN), bytes);
  for (int64_t b = 0; b < QN / block; b++) {
    float amax = 0;
    for (int64_t i = 0; i < block; i++)
      amax = fmaxf (amax, fabsf (x[b * block + i]));
    for (int64_t i = 0; i < block; i++) {
      float e = fabsf (y[b * block + i] - x[b * block + i]);
      assert_true (isfinite (y[b * block + i]));
      if (e > tol * amax + 1e-30)
        fail_msg ("%s element %lld: %g -> %g (block max %g)",
            vlm_type_name (type), (long long) (b * block + i),
            x[b * block + i], y[b * block + i], amax);
      if (b == 1)
        assert_true (y[b * block + i] == 0.0f);
      if (b >= 4) {
        se += (double) e * e;
        sx += (double) x[b * block + i] * x[b * block + i];
      }
    }
  }
  free (x);
  free (y);
  free (q);
  return sqrt (se / sx);
}

static void
test_q8_0_round_trip (void **state)
{
  double rel = round_trip (VLM_TYPE_Q8_0, 32, 0.5 / 127 * 1.01);
  assert_true (rel < 0.006);
}

static void
test_q4_0_round_trip (void **state)
{
  double rel = round_trip (VLM_TYPE_Q4_0, 32, 1.0 / 8 * 1.01);
  assert_true (rel < 0.09);
}

static void
test_q4_k_round_trip (void **state)
{
  /* two 4-bit steps of the block range at worst (6-bit scales) */
  double rel = round_trip (VLM_TYPE_Q4_K, 256, 2.0 * 2 / 15);
  assert_true (rel < 0.09);
}

static void
test_q6_k_round_trip (void **state)
{
  double rel = round_trip (VLM_TYPE_Q6_K, 256, 2.0 / 31);
  assert_true (rel < 0.03);
}

/* Q4_0's documented layout: d, then nibbles with element i low and
 * element i + 16 high in byte i. */
static void
test_q4_0_layout (void **state)
{
  float x[32], y[32];
  uint8_t q[18];
  uint16_t d;

  for (int i = 0; i < 32; i++)
    x[i] = i < 16 ? -4.0f : 3.5f;
  assert_int_equal (vlm_quantize_row_q4_0 (x, q, 32), 18);
  memcpy (&d, q, 2);
  assert_true (vlm_fp16_to_fp32 (d) == 0.5f);
  for (int i = 0; i < 16; i++)
    assert_int_equal (q[2 + i], 0xf0);
  vlm_dequantize_row_q4_0 (q, y, 32);
  for (int i = 0; i < 32; i++)
    assert_true (y[i] == x[i]);
}

/* Beyond the fp16 scale range values saturate instead of becoming inf. */
static void
test_quant_saturates (void **state)
{
  static const vlm_type types[] = { VLM_TYPE_Q8_0, VLM_TYPE_Q4_0,
    VLM_TYPE_Q4_K, VLM_TYPE_Q6_K };
  float x[256], y[256];
  uint8_t q[256 * 2];

  for (int i = 0; i < 256; i++)
    x[i] = (i % 2 ? 1e30f : -1e30f) * (float) (i + 1);
  for (size_t t = 0; t < 4; t++) {
    assert_true (vlm_quantize_row (types[t], x, q, 256) > 0);
    vlm_dequantize_row (types[t], q, y, 256);
    for (int i = 0; i < 256; i++) {
      assert_true (isfinite (y[i]));
      assert_true (y[i] == 0.0f || (y[i] > 0) == (x[i] > 0));
    }
  }
}

static void
test_quant_rejects_partial_blocks (void **state)
{
  float x[300] = { 0 };
  uint8_t q[400];
  float y[300];

  assert_int_equal (vlm_quantize_row (VLM_TYPE_Q8_0, x, q, 33), 0);
  assert_int_equal (vlm_quantize_row (VLM_TYPE_Q4_K, x, q, 288), 0);
  assert_int_equal (vlm_quantize_row (VLM_TYPE_Q6_K, x, q, 0), 0);
  assert_int_equal (vlm_dequantize_row (VLM_TYPE_Q4_0, q, y, 31), 0);
  assert_int_equal (vlm_quantize_row (VLM_TYPE_Q5_0, x, q, 32), 0);
  assert_false (vlm_quant_supports (VLM_TYPE_Q5_K));
}

/* ------------------------------------------------------------------ */
/* Writer                                                              */
/* ------------------------------------------------------------------ */

/* Every metadata type, plus two tensors, read back with the reader. */
static void
test_writer_round_trip_all_types (void **state)
{
  char path[512];
  vlm_gguf_writer *w = vlm_gguf_writer_new ();
  const int16_t i16s[3] = { -1, 2, -300 };
  const double f64s[2] = { 1.5, -2.25 };
  const uint8_t bools[2] = { 1, 0 };
  const char *const strs[3] = { "a", "", "\xc4\xa0z" };
  const vlm_gguf_str gstrs[2] = { { "x\0y", 3 }, { "", 0 } };
  const int64_t ne_a[2] = { 32, 3 }, ne_b[1] = { 5 };
  float f32s[5] = { 1, 2, 3, 4, 5 };
  uint8_t qa[3 * 34];

  tmp_path (path, sizeof path, "all-types.gguf");
  assert_int_equal (vlm_gguf_writer_add_u8 (w, "k.u8", 200), 0);
  assert_int_equal (vlm_gguf_writer_add_i8 (w, "k.i8", -100), 0);
  assert_int_equal (vlm_gguf_writer_add_u16 (w, "k.u16", 60000), 0);
  assert_int_equal (vlm_gguf_writer_add_i16 (w, "k.i16", -30000), 0);
  assert_int_equal (vlm_gguf_writer_add_u32 (w, "k.u32", 4000000000u), 0);
  assert_int_equal (vlm_gguf_writer_add_i32 (w, "k.i32", -2000000000), 0);
  assert_int_equal (vlm_gguf_writer_add_u64 (w, "k.u64", UINT64_MAX), 0);
  assert_int_equal (vlm_gguf_writer_add_i64 (w, "k.i64", INT64_MIN), 0);
  assert_int_equal (vlm_gguf_writer_add_f32 (w, "k.f32", 0.1f), 0);
  assert_int_equal (vlm_gguf_writer_add_f64 (w, "k.f64", 0.1), 0);
  assert_int_equal (vlm_gguf_writer_add_bool (w, "k.bool", true), 0);
  assert_int_equal (vlm_gguf_writer_add_string (w, "k.str", "hello"), 0);
  assert_int_equal (vlm_gguf_writer_add_str (w, "k.bytes", "a\0b", 3), 0);
  assert_int_equal (vlm_gguf_writer_add_array (w, "k.ai16", VLM_GGUF_INT16,
          i16s, 3), 0);
  assert_int_equal (vlm_gguf_writer_add_array (w, "k.af64",
          VLM_GGUF_FLOAT64, f64s, 2), 0);
  assert_int_equal (vlm_gguf_writer_add_array (w, "k.abool", VLM_GGUF_BOOL,
          bools, 2), 0);
  assert_int_equal (vlm_gguf_writer_add_array (w, "k.empty", VLM_GGUF_UINT32,
          NULL, 0), 0);
  assert_int_equal (vlm_gguf_writer_add_array_string (w, "k.astr", strs, 3),
      0);
  assert_int_equal (vlm_gguf_writer_add_array_str (w, "k.agstr", gstrs, 2),
      0);
  assert_int_equal (vlm_gguf_writer_add_tensor (w, "a", VLM_TYPE_Q8_0, 2,
          ne_a), 0);
  assert_int_equal (vlm_gguf_writer_add_tensor (w, "b", VLM_TYPE_F32, 1,
          ne_b), 0);
  assert_int_equal (vlm_gguf_writer_begin (w, path), 0);
  memset (qa, 7, sizeof qa);
  /* the first tensor in two pieces */
  assert_int_equal (vlm_gguf_writer_write_data (w, qa, 10), 0);
  assert_int_equal (vlm_gguf_writer_write_data (w, qa + 10, sizeof qa - 10),
      0);
  assert_int_equal (vlm_gguf_writer_current_tensor (w), 1);
  assert_int_equal (vlm_gguf_writer_write_data (w, f32s, sizeof f32s), 0);
  assert_int_equal (vlm_gguf_writer_finish (w), 0);
  vlm_gguf_writer_free (w);

  vlm_gguf *g = open_or_fail (path);
  uint32_t u32;
  uint64_t u64;
  int64_t i64;
  int32_t i32;
  float f;
  double d;
  bool b;
  const char *s;
  vlm_gguf_str gs;
  vlm_gguf_array arr;

  assert_int_equal (vlm_gguf_version (g), 3);
  assert_int_equal (vlm_gguf_n_kv (g), 19);
  assert_int_equal (vlm_gguf_get_u32 (g, "k.u8", &u32), 0);
  assert_int_equal (u32, 200);
  assert_int_equal (vlm_gguf_get_i32 (g, "k.i8", &i32), 0);
  assert_int_equal (i32, -100);
  assert_int_equal (vlm_gguf_get_u32 (g, "k.u16", &u32), 0);
  assert_int_equal (u32, 60000);
  assert_int_equal (vlm_gguf_get_i32 (g, "k.i16", &i32), 0);
  assert_int_equal (i32, -30000);
  assert_int_equal (vlm_gguf_get_u32 (g, "k.u32", &u32), 0);
  assert_int_equal (u32, 4000000000u);
  assert_int_equal (vlm_gguf_get_i32 (g, "k.i32", &i32), 0);
  assert_int_equal (i32, -2000000000);
  assert_int_equal (vlm_gguf_get_u64 (g, "k.u64", &u64), 0);
  assert_true (u64 == UINT64_MAX);
  assert_int_equal (vlm_gguf_get_i64 (g, "k.i64", &i64), 0);
  assert_true (i64 == INT64_MIN);
  assert_int_equal (vlm_gguf_get_f32 (g, "k.f32", &f), 0);
  assert_true (f == 0.1f);
  assert_int_equal (vlm_gguf_get_f64 (g, "k.f64", &d), 0);
  assert_true (d == 0.1);
  assert_int_equal (vlm_gguf_get_bool (g, "k.bool", &b), 0);
  assert_true (b);
  assert_int_equal (vlm_gguf_get_string (g, "k.str", &s), 0);
  assert_string_equal (s, "hello");
  assert_int_equal (vlm_gguf_get_str (g, "k.bytes", &gs), 0);
  assert_true (gs.len == 3 && memcmp (gs.ptr, "a\0b", 3) == 0);
  assert_int_equal (vlm_gguf_get_array (g, "k.ai16", &arr), 0);
  assert_int_equal (arr.type, VLM_GGUF_INT16);
  assert_true (arr.n == 3 && vlm_gguf_arr_i64 (&arr, 2) == -300);
  assert_int_equal (vlm_gguf_get_array (g, "k.af64", &arr), 0);
  assert_true (arr.n == 2 && vlm_gguf_arr_f64 (&arr, 1) == -2.25);
  assert_int_equal (vlm_gguf_get_array (g, "k.abool", &arr), 0);
  assert_true (arr.type == VLM_GGUF_BOOL && arr.n == 2);
  assert_int_equal (vlm_gguf_get_array (g, "k.empty", &arr), 0);
  assert_true (arr.type == VLM_GGUF_UINT32 && arr.n == 0);
  assert_int_equal (vlm_gguf_get_array (g, "k.astr", &arr), 0);
  assert_true (arr.type == VLM_GGUF_STRING && arr.n == 3);
  assert_true (arr.strs[1].len == 0);
  assert_true (arr.strs[2].len == 3 && memcmp (arr.strs[2].ptr, "\xc4\xa0z",
          3) == 0);
  assert_int_equal (vlm_gguf_get_array (g, "k.agstr", &arr), 0);
  assert_true (arr.n == 2 && arr.strs[0].len == 3);

  const vlm_gguf_tensor *t = vlm_gguf_find_tensor (g, "a");
  assert_non_null (t);
  assert_int_equal (t->type, VLM_TYPE_Q8_0);
  assert_true (t->n_dims == 2 && t->ne[0] == 32 && t->ne[1] == 3);
  assert_memory_equal (t->data, qa, sizeof qa);
  t = vlm_gguf_find_tensor (g, "b");
  assert_non_null (t);
  assert_true (t->offset % 32 == 0);
  assert_memory_equal (t->data, f32s, sizeof f32s);
  vlm_gguf_close (g);
}

static void
test_writer_alignment (void **state)
{
  char path[512];
  vlm_gguf_writer *w = vlm_gguf_writer_new ();
  const int64_t ne[1] = { 3 };
  const uint8_t data[12] = { 1 };

  tmp_path (path, sizeof path, "align.gguf");
  assert_int_equal (vlm_gguf_writer_set_alignment (w, 12),
      VLM_GGUF_WRITER_ERR_INVALID);
  assert_int_equal (vlm_gguf_writer_set_alignment (w, 64), 0);
  assert_int_equal (vlm_gguf_writer_add_tensor (w, "x", VLM_TYPE_F32, 1, ne),
      0);
  assert_int_equal (vlm_gguf_writer_add_tensor (w, "y", VLM_TYPE_F32, 1, ne),
      0);
  assert_int_equal (vlm_gguf_writer_begin (w, path), 0);
  assert_int_equal (vlm_gguf_writer_write_data (w, data, 12), 0);
  assert_int_equal (vlm_gguf_writer_write_data (w, data, 12), 0);
  assert_int_equal (vlm_gguf_writer_finish (w), 0);
  vlm_gguf_writer_free (w);

  vlm_gguf *g = open_or_fail (path);
  uint32_t a;
  assert_int_equal (vlm_gguf_get_u32 (g, "general.alignment", &a), 0);
  assert_int_equal (a, 64);
  assert_int_equal (vlm_gguf_alignment (g), 64);
  assert_int_equal (vlm_gguf_data_offset (g) % 64, 0);
  assert_int_equal (vlm_gguf_find_tensor (g, "y")->offset, 64);
  vlm_gguf_close (g);
}

static void
test_writer_rejects_misuse (void **state)
{
  char path[512];
  vlm_gguf_writer *w = vlm_gguf_writer_new ();
  const int64_t ne_bad[2] = { 33, 2 }, ne[1] = { 4 };
  const float data[8] = { 0 };

  tmp_path (path, sizeof path, "misuse.gguf");
  assert_int_equal (vlm_gguf_writer_add_u32 (w, "k", 1), 0);
  assert_int_equal (vlm_gguf_writer_add_u32 (w, "k", 2),
      VLM_GGUF_WRITER_ERR_INVALID);
  assert_non_null (strstr (vlm_gguf_writer_error (w), "duplicate"));
  assert_int_equal (vlm_gguf_writer_add_u32 (w, "", 2),
      VLM_GGUF_WRITER_ERR_INVALID);
  assert_int_equal (vlm_gguf_writer_add_array (w, "a", VLM_GGUF_STRING,
          data, 1), VLM_GGUF_WRITER_ERR_INVALID);
  assert_int_equal (vlm_gguf_writer_add_tensor (w, "q", VLM_TYPE_Q8_0, 2,
          ne_bad), VLM_GGUF_WRITER_ERR_INVALID);
  assert_int_equal (vlm_gguf_writer_add_tensor (w, "t", VLM_TYPE_F32, 1, ne),
      0);
  assert_int_equal (vlm_gguf_writer_add_tensor (w, "t", VLM_TYPE_F32, 1, ne),
      VLM_GGUF_WRITER_ERR_INVALID);
  assert_int_equal (vlm_gguf_writer_write_data (w, data, 4),
      VLM_GGUF_WRITER_ERR_STATE);
  assert_int_equal (vlm_gguf_writer_n_kv (w), 1);
  assert_int_equal (vlm_gguf_writer_begin (w, path), 0);
  assert_int_equal (vlm_gguf_writer_add_u32 (w, "late", 1),
      VLM_GGUF_WRITER_ERR_STATE);
  /* too much data fails the writer */
  assert_int_equal (vlm_gguf_writer_write_data (w, data, 32),
      VLM_GGUF_WRITER_ERR_INVALID);
  assert_int_equal (vlm_gguf_writer_finish (w), VLM_GGUF_WRITER_ERR_INVALID);
  assert_int_equal (access (path, F_OK), -1);
  vlm_gguf_writer_free (w);
}

static void
test_writer_incomplete_removes_file (void **state)
{
  char path[512];
  vlm_gguf_writer *w = vlm_gguf_writer_new ();
  const int64_t ne[1] = { 8 };
  const float data[4] = { 0 };

  tmp_path (path, sizeof path, "incomplete.gguf");
  assert_int_equal (vlm_gguf_writer_add_tensor (w, "t", VLM_TYPE_F32, 1, ne),
      0);
  assert_int_equal (vlm_gguf_writer_begin (w, path), 0);
  assert_int_equal (vlm_gguf_writer_write_data (w, data, sizeof data), 0);
  assert_int_equal (vlm_gguf_writer_finish (w),
      VLM_GGUF_WRITER_ERR_INCOMPLETE);
  assert_int_equal (access (path, F_OK), -1);
  vlm_gguf_writer_free (w);

  /* an unwritable path is an i/o error, not a crash */
  w = vlm_gguf_writer_new ();
  assert_int_equal (vlm_gguf_writer_begin (w, "/nonexistent-dir/x.gguf"),
      VLM_GGUF_WRITER_ERR_IO);
  vlm_gguf_writer_free (w);
}

/* ------------------------------------------------------------------ */
/* Generated files against the golden ones                             */
/* ------------------------------------------------------------------ */

/* "key:type[:elemtype]" of entry i. */
static void
kv_signature (const vlm_gguf *g, int64_t i, char *buf, size_t size)
{
  vlm_gguf_value_type t = vlm_gguf_kv_type (g, i);
  int n = snprintf (buf, size, "%s:%s", vlm_gguf_key (g, i),
      vlm_gguf_value_type_name (t));
  if (t == VLM_GGUF_ARRAY) {
    vlm_gguf_array arr;
    vlm_gguf_kv_array (g, i, &arr);
    snprintf (buf + n, size - (size_t) n, ":%s",
        vlm_gguf_value_type_name (arr.type));
  }
}

/* Both files have the same keys with the same types, and the same
 * tensors (names, types, shapes); orders may differ. */
static void
assert_same_structure (const char *golden, const char *generated)
{
  vlm_gguf *a = open_or_fail (golden), *b = open_or_fail (generated);
  char sa[256], sb[256];

  assert_int_equal (vlm_gguf_n_kv (a), vlm_gguf_n_kv (b));
  for (int64_t i = 0; i < vlm_gguf_n_kv (a); i++) {
    int64_t j = vlm_gguf_find_key (b, vlm_gguf_key (a, i));
    if (j < 0)
      fail_msg ("%s lacks key %s", generated, vlm_gguf_key (a, i));
    kv_signature (a, i, sa, sizeof sa);
    kv_signature (b, j, sb, sizeof sb);
    assert_string_equal (sa, sb);
  }
  assert_int_equal (vlm_gguf_n_tensors (a), vlm_gguf_n_tensors (b));
  for (int64_t i = 0; i < vlm_gguf_n_tensors (a); i++) {
    const vlm_gguf_tensor *ta = vlm_gguf_tensor_at (a, i);
    const vlm_gguf_tensor *tb = vlm_gguf_find_tensor (b, ta->name);
    if (tb == NULL)
      fail_msg ("%s lacks tensor %s", generated, ta->name);
    assert_int_equal (ta->type, tb->type);
    assert_int_equal (ta->n_dims, tb->n_dims);
    for (int d = 0; d < VLM_GGUF_MAX_DIMS; d++)
      assert_int_equal (ta->ne[d], tb->ne[d]);
  }
  vlm_gguf_close (a);
  vlm_gguf_close (b);
}

static void
check_against_golden (const char *preset, const char *vocab_rel,
    const char *golden_text_rel, const char *golden_mmproj_rel)
{
  char *vocab = tu_shared_path (vocab_rel);
  char *gt = tu_shared_path (golden_text_rel);
  char *gm = tu_shared_path (golden_mmproj_rel);
  vlm_gen_result r;

  generate (preset, 7, "golden-cmp", vocab, VLM_GEN_TYPE_Q8_0, 0, &r);
  assert_same_structure (gt, r.text_path);
  assert_same_structure (gm, r.mmproj_path);
  free (vocab);
  free (gt);
  free (gm);
}

static void
test_tiny_ldpv2_matches_golden (void **state)
{
  check_against_golden ("tiny-ldpv2", "tokenizer/ggml-vocab-llama-spm.gguf",
      "golden/ldpv2-spm/tinyldp-text-q8_0.gguf",
      "golden/ldpv2-spm/tinyldp-mmproj-f16.gguf");
}

static void
test_tiny_mlp_matches_golden (void **state)
{
  check_against_golden ("tiny-mlp", "tokenizer/ggml-vocab-gpt-2.gguf",
      "golden/mlp-bpe/tinymlp-text-q8_0.gguf",
      "golden/mlp-bpe/tinymlp-mmproj-f16.gguf");
}

/* The built-in vocabulary has the same tokenizer keys as the golden
 * byte-level BPE model, so the whole key set matches too. */
static void
test_builtin_vocab_matches_golden_bpe (void **state)
{
  char *gt = tu_shared_path ("golden/mlp-bpe/tinymlp-text-q8_0.gguf");
  char *gm = tu_shared_path ("golden/mlp-bpe/tinymlp-mmproj-f16.gguf");
  vlm_gen_result r;

  generate ("tiny-mlp", 7, "builtin", NULL, VLM_GEN_TYPE_Q8_0, 0, &r);
  vlm_gguf *a = open_or_fail (gt);
  vlm_gguf *b = open_or_fail (r.text_path);
  char sa[256], sb[256];
  assert_int_equal (vlm_gguf_n_kv (a), vlm_gguf_n_kv (b));
  for (int64_t i = 0; i < vlm_gguf_n_kv (a); i++) {
    int64_t j = vlm_gguf_find_key (b, vlm_gguf_key (a, i));
    assert_true (j >= 0);
    kv_signature (a, i, sa, sizeof sa);
    kv_signature (b, j, sb, sizeof sb);
    assert_string_equal (sa, sb);
  }
  vlm_gguf_close (a);
  vlm_gguf_close (b);
  assert_same_structure (gm, r.mmproj_path);
  free (gt);
  free (gm);
}

/* ------------------------------------------------------------------ */
/* Generated files on their own                                        */
/* ------------------------------------------------------------------ */

static uint32_t
get_u32_or_fail (const vlm_gguf *g, const char *key)
{
  uint32_t v = 0;
  if (vlm_gguf_get_u32 (g, key, &v) != VLM_GGUF_OK)
    fail_msg ("missing key %s", key);
  return v;
}

static const vlm_gguf_tensor *
tensor_or_fail (const vlm_gguf *g, const char *name)
{
  const vlm_gguf_tensor *t = vlm_gguf_find_tensor (g, name);
  if (t == NULL)
    fail_msg ("missing tensor %s", name);
  return t;
}

static void
assert_shape2 (const vlm_gguf_tensor *t, int64_t ne0, int64_t ne1)
{
  if (t->ne[0] != ne0 || t->ne[1] != ne1 || t->ne[2] != 1 || t->ne[3] != 1)
    fail_msg ("%s is [%lld, %lld], expected [%lld, %lld]", t->name,
        (long long) t->ne[0], (long long) t->ne[1], (long long) ne0,
        (long long) ne1);
}

/* Every tensor decodes to finite values. */
static void
assert_all_finite (const vlm_gguf *g)
{
  for (int64_t i = 0; i < vlm_gguf_n_tensors (g); i++) {
    const vlm_gguf_tensor *t = vlm_gguf_tensor_at (g, i);
    int64_t n = vlm_gguf_tensor_nelems (t);
    float *y = malloc ((size_t) n * sizeof *y);
    assert_int_equal (vlm_dequantize_row (t->type, t->data, y, n),
        t->nbytes);
    for (int64_t k = 0; k < n; k++)
      if (!isfinite (y[k]))
        fail_msg ("%s[%lld] is not finite", t->name, (long long) k);
    free (y);
  }
}

/* Text model: types and shapes of every tensor follow the metadata. */
static void
check_text_model (const char *path, int64_t n_vocab)
{
  vlm_gguf *g = open_or_fail (path);
  uint32_t n = get_u32_or_fail (g, "llama.embedding_length");
  uint32_t L = get_u32_or_fail (g, "llama.block_count");
  uint32_t ff = get_u32_or_fail (g, "llama.feed_forward_length");
  uint32_t nh = get_u32_or_fail (g, "llama.attention.head_count");
  uint32_t nkv = get_u32_or_fail (g, "llama.attention.head_count_kv");
  int64_t kv = (int64_t) (n / nh) * nkv;
  char name[64];

  assert_int_equal (vlm_gguf_n_tensors (g), 2 + 9 * (int64_t) L);
  for (int64_t i = 0; i < vlm_gguf_n_tensors (g); i++) {
    const vlm_gguf_tensor *t = vlm_gguf_tensor_at (g, i);
    assert_int_equal (t->type, t->n_dims == 1 ? VLM_TYPE_F32 : VLM_TYPE_Q8_0);
  }
  assert_shape2 (tensor_or_fail (g, "token_embd.weight"), n, n_vocab);
  assert_shape2 (tensor_or_fail (g, "output_norm.weight"), n, 1);
  for (uint32_t l = 0; l < L; l++) {
    snprintf (name, sizeof name, "blk.%u.attn_k.weight", l);
    assert_shape2 (tensor_or_fail (g, name), n, kv);
    snprintf (name, sizeof name, "blk.%u.ffn_down.weight", l);
    assert_shape2 (tensor_or_fail (g, name), ff, n);
    snprintf (name, sizeof name, "blk.%u.ffn_up.weight", l);
    assert_shape2 (tensor_or_fail (g, name), n, ff);
  }
  assert_all_finite (g);
  vlm_gguf_close (g);
}

/* Mmproj: F16 matrices, F32 vectors and position embeddings, and the
 * shapes that follow from the metadata. */
static void
check_mmproj (const char *path)
{
  vlm_gguf *g = open_or_fail (path);
  uint32_t n = get_u32_or_fail (g, "clip.vision.embedding_length");
  uint32_t img = get_u32_or_fail (g, "clip.vision.image_size");
  uint32_t p = get_u32_or_fail (g, "clip.vision.patch_size");
  uint32_t L = get_u32_or_fail (g, "clip.vision.block_count");
  uint32_t ff = get_u32_or_fail (g, "clip.vision.feed_forward_length");
  const char *proj;
  char name[64];

  assert_int_equal (vlm_gguf_get_string (g, "clip.projector_type", &proj), 0);
  bool siglip = strcmp (proj, "idefics3") == 0;
  int64_t n_pos = (int64_t) (img / p) * (img / p) + (siglip ? 0 : 1);

  for (int64_t i = 0; i < vlm_gguf_n_tensors (g); i++) {
    const vlm_gguf_tensor *t = vlm_gguf_tensor_at (g, i);
    bool f32 = t->n_dims == 1
        || strcmp (t->name, "v.position_embd.weight") == 0;
    assert_int_equal (t->type, f32 ? VLM_TYPE_F32 : VLM_TYPE_F16);
  }
  const vlm_gguf_tensor *pe = tensor_or_fail (g, "v.patch_embd.weight");
  assert_true (pe->ne[0] == p && pe->ne[1] == p && pe->ne[2] == 3
      && pe->ne[3] == n);
  assert_shape2 (tensor_or_fail (g, "v.position_embd.weight"), n, n_pos);
  assert_true ((vlm_gguf_find_tensor (g, "v.class_embd") == NULL) == siglip);
  assert_true ((vlm_gguf_find_tensor (g, "v.post_ln.weight") != NULL)
      == siglip);
  for (uint32_t l = 0; l < L; l++) {
    snprintf (name, sizeof name, "v.blk.%u.ffn_down.weight", l);
    assert_shape2 (tensor_or_fail (g, name), ff, n);
  }
  snprintf (name, sizeof name, "v.blk.%u.ln1.weight", L);
  assert_null (vlm_gguf_find_tensor (g, name));
  if (siglip) {
    uint32_t sf = get_u32_or_fail (g, "clip.vision.projector.scale_factor");
    uint32_t nt = get_u32_or_fail (g, "clip.vision.projection_dim");
    assert_shape2 (tensor_or_fail (g, "mm.model.fc.weight"), n * sf * sf,
        nt);
    assert_null (vlm_gguf_find_tensor (g, "mm.model.fc.bias"));
  }
  assert_all_finite (g);
  vlm_gguf_close (g);
}

static void
test_tiny_presets_load (void **state)
{
  static const char *const tiny[] = { "tiny-ldpv2", "tiny-mlp",
    "tiny-idefics3" };

  for (size_t i = 0; i < 3; i++) {
    vlm_gen_result r;
    generate (tiny[i], 3, "tiny", NULL, VLM_GEN_TYPE_Q8_0, 0, &r);
    check_text_model (r.text_path, r.n_vocab);
    check_mmproj (r.mmproj_path);
  }
}

static void
test_same_seed_same_bytes (void **state)
{
  vlm_gen_result a, b;

  /* different thread counts must not change the bytes either */
  generate ("tiny-idefics3", 42, "seed-a", NULL, VLM_GEN_TYPE_Q4_K, 1, &a);
  generate ("tiny-idefics3", 42, "seed-b", NULL, VLM_GEN_TYPE_Q4_K, 2, &b);
  assert_true (files_equal (a.text_path, b.text_path));
  assert_true (files_equal (a.mmproj_path, b.mmproj_path));
}

static void
test_different_seed_different_bytes (void **state)
{
  vlm_gen_result a, b;

  generate ("tiny-ldpv2", 42, "seed-c", NULL, VLM_GEN_TYPE_Q8_0, 0, &a);
  generate ("tiny-ldpv2", 43, "seed-d", NULL, VLM_GEN_TYPE_Q8_0, 0, &b);
  assert_int_equal (a.text_bytes, b.text_bytes);
  assert_false (files_equal (a.text_path, b.text_path));
  assert_false (files_equal (a.mmproj_path, b.mmproj_path));
}

static void
test_vocab_is_copied (void **state)
{
  char *vpath = tu_shared_path ("tokenizer/ggml-vocab-llama-spm.gguf");
  vlm_gen_result r;
  vlm_gguf_array va, ga;

  generate ("tiny-idefics3", 1, "vocab", vpath, VLM_GEN_TYPE_Q8_0, 0, &r);
  vlm_gguf *v = open_or_fail (vpath), *g = open_or_fail (r.text_path);
  assert_int_equal (vlm_gguf_get_array (v, "tokenizer.ggml.tokens", &va), 0);
  assert_int_equal (vlm_gguf_get_array (g, "tokenizer.ggml.tokens", &ga), 0);
  assert_int_equal (ga.n, va.n);
  assert_int_equal (r.n_vocab, (int64_t) va.n);
  assert_int_equal (tensor_or_fail (g, "token_embd.weight")->ne[1],
      (int64_t) va.n);
  for (uint64_t i = 0; i < va.n; i += 997) {
    assert_true (ga.strs[i].len == va.strs[i].len);
    assert_memory_equal (ga.strs[i].ptr, va.strs[i].ptr, va.strs[i].len);
  }
  assert_int_equal (vlm_gguf_get_array (v, "tokenizer.ggml.scores", &va), 0);
  assert_int_equal (vlm_gguf_get_array (g, "tokenizer.ggml.scores", &ga), 0);
  assert_memory_equal (ga.data, va.data, va.n * 4);
  const char *model;
  assert_int_equal (vlm_gguf_get_string (g, "tokenizer.ggml.model", &model),
      0);
  assert_string_equal (model, "llama");
  assert_true (vlm_gguf_find_key (g, "llama.vocab_size") < 0);
  vlm_gguf_close (v);
  vlm_gguf_close (g);
  free (vpath);
}

/* The built-in vocabulary: GPT-2 byte tokens, the chat specials with
 * control/user-defined types, unused padding up to the preset size. */
static void
test_builtin_vocab_contents (void **state)
{
  vlm_gen_result r;
  vlm_gguf_array tok, typ;
  bool seen_im_start = false, seen_image = false;

  generate ("tiny-ldpv2", 1, "builtin-vocab", NULL, VLM_GEN_TYPE_Q8_0, 0,
      &r);
  vlm_gguf *g = open_or_fail (r.text_path);
  assert_int_equal (vlm_gguf_get_array (g, "tokenizer.ggml.tokens", &tok), 0);
  assert_int_equal (vlm_gguf_get_array (g, "tokenizer.ggml.token_type",
          &typ), 0);
  assert_int_equal (tok.n, 512);
  assert_true (tok.strs[0].len == 1 && tok.strs[0].ptr[0] == '!');
  /* byte 0x20 (space) is the first remapped byte after the 188 printable
   * ones: U+0120 */
  assert_true (tok.strs[188 + 32].len == 2
      && memcmp (tok.strs[188 + 32].ptr, "\xc4\xa0", 2) == 0);
  for (uint64_t i = 0; i < tok.n; i++) {
    if (tok.strs[i].len == 12 && memcmp (tok.strs[i].ptr, "<|im_start|>",
            12) == 0) {
      seen_im_start = true;
      assert_int_equal (vlm_gguf_arr_i64 (&typ, i), 3);
    }
    if (tok.strs[i].len == 7 && memcmp (tok.strs[i].ptr, "<image>", 7) == 0) {
      seen_image = true;
      assert_int_equal (vlm_gguf_arr_i64 (&typ, i), 4);
    }
  }
  assert_true (seen_im_start && seen_image);
  assert_int_equal (vlm_gguf_arr_i64 (&typ, tok.n - 1), 5);
  uint32_t bos = get_u32_or_fail (g, "tokenizer.ggml.bos_token_id");
  assert_true (tok.strs[bos].len == 13
      && memcmp (tok.strs[bos].ptr, "<|endoftext|>", 13) == 0);
  vlm_gguf_close (g);
}

static void
test_q4_k_type_mix (void **state)
{
  vlm_gen_result r;
  uint32_t ftype;

  generate ("tiny-idefics3", 5, "q4k", NULL, VLM_GEN_TYPE_Q4_K, 0, &r);
  vlm_gguf *g = open_or_fail (r.text_path);
  assert_int_equal (vlm_gguf_get_u32 (g, "general.file_type", &ftype), 0);
  assert_int_equal (ftype, 15);
  for (int64_t i = 0; i < vlm_gguf_n_tensors (g); i++) {
    const vlm_gguf_tensor *t = vlm_gguf_tensor_at (g, i);
    vlm_type want = VLM_TYPE_Q4_K;
    if (t->n_dims == 1)
      want = VLM_TYPE_F32;
    else if (strstr (t->name, "attn_v") || strstr (t->name, "ffn_down")
        || strcmp (t->name, "token_embd.weight") == 0)
      want = VLM_TYPE_Q6_K;     /* token_embd doubles as output: tied */
    if (t->type != want)
      fail_msg ("%s is %s, expected %s", t->name, vlm_type_name (t->type),
          vlm_type_name (want));
  }
  assert_all_finite (g);
  vlm_gguf_close (g);
}

/* Rows of 64 are no multiple of 256: every matrix falls back to Q8_0. */
static void
test_q4_k_fallback (void **state)
{
  vlm_gen_result r;

  generate ("tiny-ldpv2", 5, "q4k-fallback", NULL, VLM_GEN_TYPE_Q4_K, 0, &r);
  vlm_gguf *g = open_or_fail (r.text_path);
  for (int64_t i = 0; i < vlm_gguf_n_tensors (g); i++) {
    const vlm_gguf_tensor *t = vlm_gguf_tensor_at (g, i);
    assert_int_equal (t->type, t->n_dims == 1 ? VLM_TYPE_F32 : VLM_TYPE_Q8_0);
  }
  vlm_gguf_close (g);
}

static void
test_other_types (void **state)
{
  static const struct {
    vlm_gen_type t;
    vlm_type want;
    uint32_t ftype;
  } cases[] = {
    { VLM_GEN_TYPE_F16, VLM_TYPE_F16, 1 },
    { VLM_GEN_TYPE_Q4_0, VLM_TYPE_Q4_0, 2 },
  };

  for (size_t c = 0; c < 2; c++) {
    vlm_gen_result r;
    uint32_t ftype;
    generate ("tiny-mlp", 5, "types", NULL, cases[c].t, 0, &r);
    vlm_gguf *g = open_or_fail (r.text_path);
    assert_int_equal (vlm_gguf_get_u32 (g, "general.file_type", &ftype), 0);
    assert_int_equal (ftype, cases[c].ftype);
    assert_int_equal (tensor_or_fail (g, "blk.1.ffn_down.weight")->type,
        cases[c].want);
    assert_int_equal (tensor_or_fail (g, "token_embd.weight")->type,
        cases[c].want);
    vlm_gguf_close (g);
  }
}

/* ------------------------------------------------------------------ */
/* Bad arguments                                                       */
/* ------------------------------------------------------------------ */

static vlm_gen_status
try_generate (const char *preset, const char *out_dir, const char *vocab,
    char *err, size_t err_size)
{
  vlm_gen_params p = vlm_gen_default_params ();
  vlm_gen_result r;

  p.preset = preset;
  p.out_dir = out_dir;
  p.vocab_path = vocab;
  return vlm_gen_make_model (&p, &r, err, err_size);
}

static void
test_unknown_preset_lists_presets (void **state)
{
  char err[512];

  assert_int_equal (try_generate ("nope", tmp_dir, NULL, err, sizeof err),
      VLM_GEN_ERR_PRESET);
  assert_non_null (strstr (err, "nope"));
  for (size_t i = 0; i < vlm_gen_n_presets (); i++)
    assert_non_null (strstr (err, vlm_gen_preset_name (i)));
}

static void
test_unwritable_dir (void **state)
{
  char err[512], dir[512];

  assert_int_equal (try_generate ("tiny-mlp", "/nonexistent/a/b", NULL, err,
          sizeof err), VLM_GEN_ERR_IO);
  assert_non_null (strstr (err, "/nonexistent/a/b"));
  /* a file where the directory should be */
  tmp_path (dir, sizeof dir, "plain-file");
  FILE *f = fopen (dir, "w");
  assert_non_null (f);
  fclose (f);
  assert_int_equal (try_generate ("tiny-mlp", dir, NULL, err, sizeof err),
      VLM_GEN_ERR_IO);
}

static void
test_bad_vocab_file (void **state)
{
  char err[512], path[512];

  assert_int_equal (try_generate ("tiny-mlp", tmp_dir, "/nonexistent.gguf",
          err, sizeof err), VLM_GEN_ERR_VOCAB);
  assert_non_null (strstr (err, "/nonexistent.gguf"));
  /* not a GGUF file at all */
  tmp_path (path, sizeof path, "not-gguf.gguf");
  FILE *f = fopen (path, "w");
  assert_non_null (f);
  fputs ("hello, world", f);
  fclose (f);
  assert_int_equal (try_generate ("tiny-mlp", tmp_dir, path, err,
          sizeof err), VLM_GEN_ERR_VOCAB);
  /* a GGUF without tokens: an mmproj */
  char *golden = tu_shared_path ("golden/mlp-bpe/tinymlp-mmproj-f16.gguf");
  assert_int_equal (try_generate ("tiny-mlp", tmp_dir, golden, err,
          sizeof err), VLM_GEN_ERR_VOCAB);
  assert_non_null (strstr (err, "tokenizer.ggml.tokens"));
  free (golden);
}

static void
test_type_names (void **state)
{
  vlm_gen_type t = VLM_GEN_TYPE_F16;

  assert_true (vlm_gen_type_from_string ("Q4_K", &t));
  assert_int_equal (t, VLM_GEN_TYPE_Q4_K);
  assert_false (vlm_gen_type_from_string ("q5_k", &t));
  assert_int_equal (t, VLM_GEN_TYPE_Q4_K);
  assert_string_equal (vlm_gen_type_name (VLM_GEN_TYPE_Q8_0), "q8_0");
  assert_null (vlm_gen_preset_name (vlm_gen_n_presets ()));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_fp16_exact_cases),
    cmocka_unit_test (test_fp16_round_trip_all),
    cmocka_unit_test (test_bf16_exact_cases),
    cmocka_unit_test (test_q8_0_round_trip),
    cmocka_unit_test (test_q4_0_round_trip),
    cmocka_unit_test (test_q4_k_round_trip),
    cmocka_unit_test (test_q6_k_round_trip),
    cmocka_unit_test (test_q4_0_layout),
    cmocka_unit_test (test_quant_saturates),
    cmocka_unit_test (test_quant_rejects_partial_blocks),
    cmocka_unit_test (test_writer_round_trip_all_types),
    cmocka_unit_test (test_writer_alignment),
    cmocka_unit_test (test_writer_rejects_misuse),
    cmocka_unit_test (test_writer_incomplete_removes_file),
    cmocka_unit_test (test_tiny_ldpv2_matches_golden),
    cmocka_unit_test (test_tiny_mlp_matches_golden),
    cmocka_unit_test (test_builtin_vocab_matches_golden_bpe),
    cmocka_unit_test (test_tiny_presets_load),
    cmocka_unit_test (test_same_seed_same_bytes),
    cmocka_unit_test (test_different_seed_different_bytes),
    cmocka_unit_test (test_vocab_is_copied),
    cmocka_unit_test (test_builtin_vocab_contents),
    cmocka_unit_test (test_q4_k_type_mix),
    cmocka_unit_test (test_q4_k_fallback),
    cmocka_unit_test (test_other_types),
    cmocka_unit_test (test_unknown_preset_lists_presets),
    cmocka_unit_test (test_unwritable_dir),
    cmocka_unit_test (test_bad_vocab_file),
    cmocka_unit_test (test_type_names),
  };
  return cmocka_run_group_tests (tests, group_setup, group_teardown);
}

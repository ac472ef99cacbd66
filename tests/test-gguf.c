/* Tests of the GGUF reader: real files, every value type, and bad input. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "gguf.h"
#include "gguf-bytes.h"

/* A header with one string key and two f32 tensors of 4 and 8 floats;
 * the second tensor's offset and type are parameters. */
static gguf_bytes
two_tensor_file (uint64_t second_offset, uint32_t second_type,
    uint64_t second_ne0)
{
  gguf_bytes b = { 0 };
  uint64_t ne_a[1] = { 4 }, ne_b[1] = { second_ne0 };
  put_header (&b, 3, 2, 1);
  kv_str (&b, "general.architecture", "llama");
  tensor_info (&b, "a", 1, ne_a, VLM_TYPE_F32, 0);
  tensor_info (&b, "b", 1, ne_b, second_type, second_offset);
  pad_to (&b, 32);
  put_zeros (&b, 64);  /* "b" ends exactly at the end of the file */
  return b;
}

static vlm_gguf *
open_buf (const gguf_bytes * b, vlm_gguf_status * st, char *err, size_t n)
{
  return vlm_gguf_open_memory (b->p, b->n, st, err, n);
}

/* Opening must fail with `want`, and the message must hold `needle`. */
static void
expect_error (const gguf_bytes * b, vlm_gguf_status want, const char *needle)
{
  char err[512];
  vlm_gguf_status st = VLM_GGUF_OK;
  vlm_gguf *g = open_buf (b, &st, err, sizeof (err));
  if (g != NULL)
    vlm_gguf_close (g);
  assert_null (g);
  if (st != want)
    fail_msg ("status %d (%s), want %d; message: %s", st,
        vlm_gguf_status_str (st), want, err);
  if (needle && strstr (err, needle) == NULL)
    fail_msg ("message '%s' does not mention '%s'", err, needle);
}

static char *
shared_path (const char *rel)
{
  const char *dir = getenv ("VLM_SHARED_DIR");
  static char path[1024];
  snprintf (path, sizeof (path), "%s/%s", dir ? dir : "../shared", rel);
  return path;
}

/* ------------------------------------------------------------------ */
/* Real files                                                          */
/* ------------------------------------------------------------------ */

static void
test_golden_text_model (void **state)
{
  char err[512];
  vlm_gguf_status st;
  vlm_gguf *g = vlm_gguf_open (
      shared_path ("golden/ldpv2-spm/tinyldp-text-q8_0.gguf"), &st, err,
      sizeof (err));
  if (g == NULL)
    fail_msg ("%s", err);
  const char *arch;
  uint32_t n_embd, n_layer;
  float eps;
  bool add_bos;
  assert_int_equal (vlm_gguf_get_string (g, "general.architecture", &arch), 0);
  assert_string_equal (arch, "llama");
  assert_int_equal (vlm_gguf_get_u32 (g, "llama.embedding_length", &n_embd), 0);
  assert_int_equal (n_embd, 64);
  assert_int_equal (vlm_gguf_get_u32 (g, "llama.block_count", &n_layer), 0);
  assert_int_equal (n_layer, 2);
  assert_int_equal (vlm_gguf_get_f32 (g,
          "llama.attention.layer_norm_rms_epsilon", &eps), 0);
  assert_float_equal (eps, 1e-5, 1e-9);
  assert_int_equal (vlm_gguf_get_bool (g, "tokenizer.ggml.add_bos_token",
          &add_bos), 0);
  assert_true (add_bos);

  const vlm_gguf_tensor *t = vlm_gguf_find_tensor (g, "token_embd.weight");
  assert_non_null (t);
  assert_int_equal (t->type, VLM_TYPE_Q8_0);
  assert_int_equal (t->n_dims, 2);
  assert_int_equal (t->ne[0], 64);
  assert_int_equal (t->ne[1], 32000);
  assert_int_equal (t->nbytes, 64 / 32 * 34 * 32000);
  /* data is a pointer into the mapping, not a copy */
  assert_ptr_equal (t->data, (const uint8_t *) vlm_gguf_base (g)
      + vlm_gguf_data_offset (g) + t->offset);
  assert_int_equal ((uintptr_t) t->data % vlm_gguf_alignment (g), 0);
  assert_int_equal (vlm_gguf_n_tensors (g), 20);
  assert_null (vlm_gguf_find_tensor (g, "output.weight"));
  vlm_gguf_close (g);
}

static void
test_golden_mmproj (void **state)
{
  char err[512];
  vlm_gguf *g = vlm_gguf_open (
      shared_path ("golden/mlp-bpe/tinymlp-mmproj-f16.gguf"), NULL, err,
      sizeof (err));
  if (g == NULL)
    fail_msg ("%s", err);
  vlm_gguf_array mean;
  assert_int_equal (vlm_gguf_get_array (g, "clip.vision.image_mean", &mean),
      0);
  assert_int_equal (mean.type, VLM_GGUF_FLOAT32);
  assert_int_equal (mean.n, 3);
  assert_float_equal (vlm_gguf_arr_f32 (&mean, 2), 0.5f, 1e-6);
  const vlm_gguf_tensor *t = vlm_gguf_find_tensor (g, "v.patch_embd.weight");
  assert_non_null (t);
  assert_int_equal (t->type, VLM_TYPE_F16);
  assert_int_equal (t->n_dims, 4);
  assert_int_equal (t->ne[2], 3);
  bool gelu;
  assert_int_equal (vlm_gguf_get_bool (g, "clip.use_gelu", &gelu), 0);
  assert_true (gelu);
  vlm_gguf_close (g);
}

static void
test_vocab_only_file (void **state)
{
  char err[512];
  vlm_gguf *g = vlm_gguf_open (shared_path ("tokenizer/ggml-vocab-gpt-2.gguf"),
      NULL, err, sizeof (err));
  if (g == NULL)
    fail_msg ("%s", err);
  vlm_gguf_array tokens, merges;
  assert_int_equal (vlm_gguf_get_array (g, "tokenizer.ggml.tokens", &tokens),
      0);
  assert_int_equal (tokens.type, VLM_GGUF_STRING);
  assert_int_equal (tokens.n, 50257);
  assert_int_equal (tokens.strs[0].len, 1);
  assert_memory_equal (tokens.strs[0].ptr, "!", 1);
  assert_int_equal (vlm_gguf_get_array (g, "tokenizer.ggml.merges", &merges),
      0);
  assert_int_equal (merges.n, 50000);
  assert_int_equal (vlm_gguf_n_tensors (g), 0);
  vlm_gguf_close (g);
}

/* ------------------------------------------------------------------ */
/* Value types                                                         */
/* ------------------------------------------------------------------ */

static gguf_bytes
all_types_file (void)
{
  gguf_bytes b = { 0 };
  put_header (&b, 3, 0, 14);
  uint8_t u8 = 200;
  int8_t i8 = -100;
  uint16_t u16 = 60000;
  int16_t i16 = -30000;
  int32_t i32 = -7;
  float f32 = 1.5f;
  double f64 = -2.25;
  uint64_t u64 = 1ull << 40;
  int64_t i64 = -(1ll << 40);
  const struct { const char *k; uint32_t t; const void *v; size_t n; } s[] = {
    { "t.u8", VLM_GGUF_UINT8, &u8, 1 }, { "t.i8", VLM_GGUF_INT8, &i8, 1 },
    { "t.u16", VLM_GGUF_UINT16, &u16, 2 },
    { "t.i16", VLM_GGUF_INT16, &i16, 2 },
    { "t.i32", VLM_GGUF_INT32, &i32, 4 },
    { "t.f32", VLM_GGUF_FLOAT32, &f32, 4 },
    { "t.f64", VLM_GGUF_FLOAT64, &f64, 8 },
    { "t.u64", VLM_GGUF_UINT64, &u64, 8 },
    { "t.i64", VLM_GGUF_INT64, &i64, 8 },
    { "t.bool", VLM_GGUF_BOOL, "\1", 1 },
  };
  for (size_t i = 0; i < sizeof (s) / sizeof (s[0]); i++) {
    put_str (&b, s[i].k);
    put_u32 (&b, s[i].t);
    put (&b, s[i].v, s[i].n);
  }
  kv_u32 (&b, "t.u32", 4000000000u);
  kv_str (&b, "t.str", "h\xc3\xa9llo");
  /* an i16 array and a string array */
  put_str (&b, "t.arr_i16");
  put_u32 (&b, VLM_GGUF_ARRAY);
  put_u32 (&b, VLM_GGUF_INT16);
  put_u64 (&b, 3);
  int16_t a[3] = { -1, 2, -3 };
  put (&b, a, sizeof (a));
  put_str (&b, "t.arr_str");
  put_u32 (&b, VLM_GGUF_ARRAY);
  put_u32 (&b, VLM_GGUF_STRING);
  put_u64 (&b, 2);
  put_str (&b, "");
  put_str (&b, "two");
  return b;
}

static void
test_all_value_types (void **state)
{
  gguf_bytes b = all_types_file ();
  char err[256];
  vlm_gguf *g = open_buf (&b, NULL, err, sizeof (err));
  if (g == NULL)
    fail_msg ("%s", err);
  int64_t i64;
  uint64_t u64;
  uint32_t u32;
  int32_t i32;
  double f64;
  float f32;
  bool bl;
  assert_int_equal (vlm_gguf_get_i64 (g, "t.u8", &i64), 0);
  assert_int_equal (i64, 200);
  assert_int_equal (vlm_gguf_get_i64 (g, "t.i8", &i64), 0);
  assert_int_equal (i64, -100);
  assert_int_equal (vlm_gguf_get_u32 (g, "t.u16", &u32), 0);
  assert_int_equal (u32, 60000);
  assert_int_equal (vlm_gguf_get_i32 (g, "t.i16", &i32), 0);
  assert_int_equal (i32, -30000);
  assert_int_equal (vlm_gguf_get_i32 (g, "t.i32", &i32), 0);
  assert_int_equal (i32, -7);
  assert_int_equal (vlm_gguf_get_u32 (g, "t.u32", &u32), 0);
  assert_int_equal (u32, 4000000000u);
  assert_int_equal (vlm_gguf_get_f32 (g, "t.f32", &f32), 0);
  assert_float_equal (f32, 1.5, 0);
  assert_int_equal (vlm_gguf_get_f64 (g, "t.f64", &f64), 0);
  assert_float_equal (f64, -2.25, 0);
  assert_int_equal (vlm_gguf_get_u64 (g, "t.u64", &u64), 0);
  assert_int_equal (u64, 1ull << 40);
  assert_int_equal (vlm_gguf_get_i64 (g, "t.i64", &i64), 0);
  assert_int_equal (i64, -(1ll << 40));
  assert_int_equal (vlm_gguf_get_bool (g, "t.bool", &bl), 0);
  assert_true (bl);
  const char *s;
  assert_int_equal (vlm_gguf_get_string (g, "t.str", &s), 0);
  assert_string_equal (s, "h\xc3\xa9llo");
  vlm_gguf_array arr;
  assert_int_equal (vlm_gguf_get_array (g, "t.arr_i16", &arr), 0);
  assert_int_equal (arr.n, 3);
  assert_int_equal (vlm_gguf_arr_i64 (&arr, 2), -3);
  assert_int_equal (vlm_gguf_get_array (g, "t.arr_str", &arr), 0);
  assert_int_equal (arr.strs[0].len, 0);
  assert_memory_equal (arr.strs[1].ptr, "two", 3);
  vlm_gguf_close (g);
  free (b.p);
}

static void
test_getter_type_errors (void **state)
{
  gguf_bytes b = all_types_file ();
  vlm_gguf *g = open_buf (&b, NULL, NULL, 0);
  assert_non_null (g);
  uint32_t u32 = 77;
  int32_t i32;
  float f;
  bool bl;
  const char *s;
  assert_int_equal (vlm_gguf_get_u32 (g, "no.such.key", &u32),
      VLM_GGUF_ERR_NOT_FOUND);
  /* negative into unsigned, too large into i32, string into number */
  assert_int_equal (vlm_gguf_get_u32 (g, "t.i32", &u32), VLM_GGUF_ERR_TYPE);
  assert_int_equal (vlm_gguf_get_i32 (g, "t.u32", &i32), VLM_GGUF_ERR_TYPE);
  assert_int_equal (vlm_gguf_get_u32 (g, "t.u64", &u32), VLM_GGUF_ERR_TYPE);
  assert_int_equal (vlm_gguf_get_f32 (g, "t.str", &f), VLM_GGUF_ERR_TYPE);
  assert_int_equal (vlm_gguf_get_bool (g, "t.u8", &bl), VLM_GGUF_ERR_TYPE);
  assert_int_equal (vlm_gguf_get_string (g, "t.f32", &s), VLM_GGUF_ERR_TYPE);
  assert_int_equal (u32, 77);  /* untouched on error */
  vlm_gguf_close (g);
  free (b.p);
}

static void
test_type_block_sizes (void **state)
{
  assert_int_equal (vlm_type_row_bytes (VLM_TYPE_F32, 256), 1024);
  assert_int_equal (vlm_type_row_bytes (VLM_TYPE_F16, 256), 512);
  assert_int_equal (vlm_type_row_bytes (VLM_TYPE_BF16, 256), 512);
  assert_int_equal (vlm_type_row_bytes (VLM_TYPE_Q8_0, 256), 8 * 34);
  assert_int_equal (vlm_type_row_bytes (VLM_TYPE_Q4_0, 256), 8 * 18);
  assert_int_equal (vlm_type_row_bytes (VLM_TYPE_Q4_1, 256), 8 * 20);
  assert_int_equal (vlm_type_row_bytes (VLM_TYPE_Q5_0, 256), 8 * 22);
  assert_int_equal (vlm_type_row_bytes (VLM_TYPE_Q5_1, 256), 8 * 24);
  assert_int_equal (vlm_type_row_bytes (VLM_TYPE_Q4_K, 256), 144);
  assert_int_equal (vlm_type_row_bytes (VLM_TYPE_Q5_K, 256), 176);
  assert_int_equal (vlm_type_row_bytes (VLM_TYPE_Q6_K, 256), 210);
  assert_int_equal (vlm_type_row_bytes (VLM_TYPE_Q4_K, 128), 0);
  assert_false (vlm_type_is_known (4));   /* removed Q4_2 */
  assert_false (vlm_type_is_known (1000));
}

static void
test_version_2_accepted (void **state)
{
  gguf_bytes b = two_tensor_file (32, VLM_TYPE_F32, 8);
  b.p[4] = 2;
  vlm_gguf *g = open_buf (&b, NULL, NULL, 0);
  assert_non_null (g);
  assert_int_equal (vlm_gguf_version (g), 2);
  vlm_gguf_close (g);
  free (b.p);
}

static void
test_custom_alignment (void **state)
{
  gguf_bytes b = { 0 };
  uint64_t ne[1] = { 16 };
  put_header (&b, 3, 2, 1);
  kv_u32 (&b, "general.alignment", 64);
  tensor_info (&b, "a", 1, ne, VLM_TYPE_F32, 0);
  tensor_info (&b, "b", 1, ne, VLM_TYPE_F32, 64);
  pad_to (&b, 64);
  put_zeros (&b, 128);
  vlm_gguf *g = open_buf (&b, NULL, NULL, 0);
  assert_non_null (g);
  assert_int_equal (vlm_gguf_alignment (g), 64);
  assert_int_equal (vlm_gguf_data_offset (g) % 64, 0);
  assert_int_equal ((const uint8_t *) vlm_gguf_find_tensor (g, "b")->data
      - (const uint8_t *) vlm_gguf_base (g), vlm_gguf_data_offset (g) + 64);
  vlm_gguf_close (g);
  free (b.p);
}

/* ------------------------------------------------------------------ */
/* Bad input                                                           */
/* ------------------------------------------------------------------ */

static void
test_missing_file (void **state)
{
  char err[512];
  vlm_gguf_status st;
  assert_null (vlm_gguf_open ("/nonexistent/model.gguf", &st, err,
          sizeof (err)));
  assert_int_equal (st, VLM_GGUF_ERR_IO);
  assert_non_null (strstr (err, "/nonexistent/model.gguf"));
  assert_null (vlm_gguf_open ("/", &st, err, sizeof (err)));
  assert_int_equal (st, VLM_GGUF_ERR_IO);
  assert_non_null (strstr (err, "not a regular file"));
}

static void
test_empty_file (void **state)
{
  char path[] = "/tmp/vlm-test-empty-XXXXXX";
  int fd = mkstemp (path);
  assert_true (fd >= 0);
  close (fd);
  vlm_gguf_status st;
  char err[256];
  assert_null (vlm_gguf_open (path, &st, err, sizeof (err)));
  assert_int_equal (st, VLM_GGUF_ERR_TRUNCATED);
  assert_non_null (strstr (err, "empty"));
  unlink (path);
}

static void
test_bad_magic (void **state)
{
  gguf_bytes b = two_tensor_file (32, VLM_TYPE_F32, 8);
  memcpy (b.p, "GGML", 4);
  expect_error (&b, VLM_GGUF_ERR_MAGIC, "not a GGUF file");
  free (b.p);
}

static void
test_bad_version (void **state)
{
  gguf_bytes b = two_tensor_file (32, VLM_TYPE_F32, 8);
  b.p[4] = 1;
  expect_error (&b, VLM_GGUF_ERR_VERSION, "version 1");
  b.p[4] = 4;
  expect_error (&b, VLM_GGUF_ERR_VERSION, "version 4");
  b.p[4] = 0;
  b.p[7] = 3;  /* a big-endian writer */
  expect_error (&b, VLM_GGUF_ERR_VERSION, "big-endian");
  free (b.p);
}

/* Every proper prefix of a valid file fails cleanly as truncated. */
static void
test_truncated_at_every_offset (void **state)
{
  gguf_bytes b = all_types_file ();
  gguf_bytes t = two_tensor_file (32, VLM_TYPE_F32, 8);
  const gguf_bytes *files[2] = { &b, &t };
  for (int f = 0; f < 2; f++) {
    vlm_gguf *g = open_buf (files[f], NULL, NULL, 0);
    assert_non_null (g);
    vlm_gguf_close (g);
    for (size_t n = 0; n < files[f]->n; n++) {
      /* a heap copy of exactly n bytes, so ASan sees any over-read */
      uint8_t *copy = malloc (n ? n : 1);
      memcpy (copy, files[f]->p, n);
      vlm_gguf_status st = VLM_GGUF_OK;
      g = vlm_gguf_open_memory (copy, n, &st, NULL, 0);
      if (g != NULL)
        fail_msg ("file %d cut at %zu of %zu bytes opened", f, n,
            files[f]->n);
      if (n >= 4 && st != VLM_GGUF_ERR_TRUNCATED)
        fail_msg ("file %d cut at %zu: status %d", f, n, st);
      free (copy);
    }
  }
  free (b.p);
  free (t.p);
}

static void
test_string_past_eof (void **state)
{
  gguf_bytes b = { 0 };
  put_header (&b, 3, 0, 1);
  put_str (&b, "general.name");
  put_u32 (&b, VLM_GGUF_STRING);
  put_u64 (&b, 1000000);
  put (&b, "abc", 3);
  expect_error (&b, VLM_GGUF_ERR_TRUNCATED, "claims 1000000 bytes");
  free (b.p);
}

static void
test_array_past_eof (void **state)
{
  gguf_bytes b = { 0 };
  put_header (&b, 3, 0, 1);
  put_str (&b, "tokenizer.ggml.scores");
  put_u32 (&b, VLM_GGUF_ARRAY);
  put_u32 (&b, VLM_GGUF_FLOAT32);
  put_u64 (&b, UINT64_MAX / 2);
  put_zeros (&b, 16);
  expect_error (&b, VLM_GGUF_ERR_TRUNCATED, "tokenizer.ggml.scores");
  free (b.p);
}

static void
test_absurd_counts (void **state)
{
  gguf_bytes b = { 0 };
  put_header (&b, 3, 0, UINT64_MAX);
  put_zeros (&b, 64);
  expect_error (&b, VLM_GGUF_ERR_TRUNCATED, "metadata entries");
  free (b.p);
  b = (gguf_bytes) { 0 };
  put_header (&b, 3, 1ull << 60, 0);
  put_zeros (&b, 64);
  expect_error (&b, VLM_GGUF_ERR_TRUNCATED, "tensors");
  free (b.p);
}

static void
test_tensor_data_past_eof (void **state)
{
  gguf_bytes b = two_tensor_file (32, VLM_TYPE_F32, 1024);
  expect_error (&b, VLM_GGUF_ERR_TRUNCATED, "tensor 'b'");
  free (b.p);
}

static void
test_overlapping_tensors (void **state)
{
  gguf_bytes b = two_tensor_file (0, VLM_TYPE_F32, 8);
  expect_error (&b, VLM_GGUF_ERR_CORRUPT, "overlap");
  free (b.p);
}

static void
test_misaligned_tensor (void **state)
{
  gguf_bytes b = two_tensor_file (20, VLM_TYPE_F32, 8);
  expect_error (&b, VLM_GGUF_ERR_CORRUPT, "not a multiple of the alignment");
  free (b.p);
}

static void
test_unknown_tensor_type (void **state)
{
  gguf_bytes b = two_tensor_file (32, 99, 8);
  expect_error (&b, VLM_GGUF_ERR_UNSUPPORTED, "tensor 'b'");
  expect_error (&b, VLM_GGUF_ERR_UNSUPPORTED, "type id 99");
  free (b.p);
}

static void
test_row_not_multiple_of_block (void **state)
{
  gguf_bytes b = two_tensor_file (32, VLM_TYPE_Q8_0, 48);
  expect_error (&b, VLM_GGUF_ERR_CORRUPT, "block size");
  free (b.p);
}

static void
test_dims_overflow (void **state)
{
  gguf_bytes b = { 0 };
  uint64_t ne[4] = { 1ull << 32, 1ull << 32, 4, 1 };
  put_header (&b, 3, 1, 0);
  tensor_info (&b, "huge", 4, ne, VLM_TYPE_F32, 0);
  pad_to (&b, 32);
  expect_error (&b, VLM_GGUF_ERR_CORRUPT, "overflows");
  free (b.p);
  b = (gguf_bytes) { 0 };
  uint64_t ne5[5] = { 1, 1, 1, 1, 1 };
  put_header (&b, 3, 1, 0);
  tensor_info (&b, "five", 5, ne5, VLM_TYPE_F32, 0);
  put_zeros (&b, 64);
  expect_error (&b, VLM_GGUF_ERR_CORRUPT, "5 dimensions");
  free (b.p);
}

static void
test_duplicate_key (void **state)
{
  gguf_bytes b = { 0 };
  put_header (&b, 3, 0, 3);
  kv_u32 (&b, "llama.block_count", 2);
  kv_u32 (&b, "llama.embedding_length", 64);
  kv_u32 (&b, "llama.block_count", 3);
  expect_error (&b, VLM_GGUF_ERR_CORRUPT,
      "duplicate metadata key 'llama.block_count'");
  free (b.p);
}

static void
test_duplicate_tensor (void **state)
{
  gguf_bytes b = { 0 };
  uint64_t ne[1] = { 8 };
  put_header (&b, 3, 2, 0);
  tensor_info (&b, "w", 1, ne, VLM_TYPE_F32, 0);
  tensor_info (&b, "w", 1, ne, VLM_TYPE_F32, 32);
  pad_to (&b, 32);
  put_zeros (&b, 64);
  expect_error (&b, VLM_GGUF_ERR_CORRUPT, "duplicate tensor name 'w'");
  free (b.p);
}

static void
test_invalid_value_type (void **state)
{
  gguf_bytes b = { 0 };
  put_header (&b, 3, 0, 1);
  put_str (&b, "general.name");
  put_u32 (&b, 13);
  put_zeros (&b, 8);
  expect_error (&b, VLM_GGUF_ERR_CORRUPT, "invalid value type 13");
  free (b.p);
}

static void
test_nested_array (void **state)
{
  gguf_bytes b = { 0 };
  put_header (&b, 3, 0, 1);
  put_str (&b, "x.nested");
  put_u32 (&b, VLM_GGUF_ARRAY);
  put_u32 (&b, VLM_GGUF_ARRAY);
  put_u64 (&b, 1);
  put_zeros (&b, 16);
  expect_error (&b, VLM_GGUF_ERR_CORRUPT, "arrays of arrays");
  free (b.p);
}

static void
test_bad_alignment_key (void **state)
{
  gguf_bytes b = { 0 };
  put_header (&b, 3, 0, 1);
  kv_u32 (&b, "general.alignment", 24);
  expect_error (&b, VLM_GGUF_ERR_CORRUPT, "power of two");
  free (b.p);
  b = (gguf_bytes) { 0 };
  put_header (&b, 3, 0, 1);
  kv_str (&b, "general.alignment", "32");
  expect_error (&b, VLM_GGUF_ERR_CORRUPT, "expected u32");
  free (b.p);
}

/* Random byte flips in a valid file: must open or fail, never crash. */
static void
test_random_corruption (void **state)
{
  gguf_bytes b = all_types_file ();
  gguf_bytes t = two_tensor_file (32, VLM_TYPE_F32, 8);
  uint32_t seed = 12345;
  for (int iter = 0; iter < 20000; iter++) {
    const gguf_bytes *src = iter % 2 ? &b : &t;
    uint8_t *copy = malloc (src->n);
    memcpy (copy, src->p, src->n);
    for (int k = 0; k < 1 + iter % 4; k++) {
      seed = seed * 1103515245u + 12345u;
      copy[(seed >> 8) % src->n] ^= (uint8_t) (1u << ((seed >> 4) % 8));
    }
    vlm_gguf_status st;
    char err[256];
    vlm_gguf *g = vlm_gguf_open_memory (copy, src->n, &st, err, sizeof (err));
    if (g == NULL) {
      assert_true (st < 0);
      assert_true (err[0] != '\0');
    }
    vlm_gguf_close (g);
    free (copy);
  }
  free (b.p);
  free (t.p);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_golden_text_model),
    cmocka_unit_test (test_golden_mmproj),
    cmocka_unit_test (test_vocab_only_file),
    cmocka_unit_test (test_all_value_types),
    cmocka_unit_test (test_getter_type_errors),
    cmocka_unit_test (test_type_block_sizes),
    cmocka_unit_test (test_version_2_accepted),
    cmocka_unit_test (test_custom_alignment),
    cmocka_unit_test (test_missing_file),
    cmocka_unit_test (test_empty_file),
    cmocka_unit_test (test_bad_magic),
    cmocka_unit_test (test_bad_version),
    cmocka_unit_test (test_truncated_at_every_offset),
    cmocka_unit_test (test_string_past_eof),
    cmocka_unit_test (test_array_past_eof),
    cmocka_unit_test (test_absurd_counts),
    cmocka_unit_test (test_tensor_data_past_eof),
    cmocka_unit_test (test_overlapping_tensors),
    cmocka_unit_test (test_misaligned_tensor),
    cmocka_unit_test (test_unknown_tensor_type),
    cmocka_unit_test (test_row_not_multiple_of_block),
    cmocka_unit_test (test_dims_overflow),
    cmocka_unit_test (test_duplicate_key),
    cmocka_unit_test (test_duplicate_tensor),
    cmocka_unit_test (test_invalid_value_type),
    cmocka_unit_test (test_nested_array),
    cmocka_unit_test (test_bad_alignment_key),
    cmocka_unit_test (test_random_corruption),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}

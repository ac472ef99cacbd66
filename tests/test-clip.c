/* Tests of the vision tower and projectors: golden embeddings, shapes of
 * the generated presets, resizing, abort, errors on bad files, thread
 * count independence. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <dirent.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "test-util.h"

#include "clip.h"
#include "gguf-writer.h"
#include "gguf.h"
#include "image.h"
#include "model-gen.h"
#include "threadpool.h"

/* ------------------------------------------------------------------ */
/* Fixtures and helpers                                                */
/* ------------------------------------------------------------------ */

static char tmp_dir[256];
static vlm_pool *pool2;

#define LDPV2_DIR "golden/ldpv2-spm"
#define LDPV2_MMPROJ LDPV2_DIR "/tinyldp-mmproj-f16.gguf"
#define MLP_DIR "golden/mlp-bpe"
#define MLP_MMPROJ MLP_DIR "/tinymlp-mmproj-f16.gguf"

static const char *
tmp_path (char *buf, size_t size, const char *name)
{
  snprintf (buf, size, "%s/%s", tmp_dir, name);
  return buf;
}

/* Writes the tiny presets' mmproj files into the temp dir. */
static int
generate_presets (void)
{
  static const char *const presets[] = {
    "tiny-ldpv2", "tiny-mlp", "tiny-idefics3"
  };
  char err[512];

  for (size_t i = 0; i < sizeof presets / sizeof presets[0]; i++) {
    vlm_gen_params p = vlm_gen_default_params ();
    p.preset = presets[i];
    p.seed = 7;
    p.out_dir = tmp_dir;
    p.n_threads = 2;
    if (vlm_gen_make_model (&p, NULL, err, sizeof err) != VLM_GEN_OK) {
      fprintf (stderr, "generating %s: %s\n", presets[i], err);
      return -1;
    }
  }
  return 0;
}

static int
group_setup (void **state)
{
  if (tu_tmpdir_new (tmp_dir, sizeof tmp_dir, "test-clip") == NULL)
    return -1;
  pool2 = vlm_pool_new (2);
  return pool2 != NULL ? generate_presets () : -1;
}

static int
group_teardown (void **state)
{
  vlm_pool_free (pool2);
  tu_tmpdir_remove (tmp_dir);
  return 0;
}

/* A loaded mmproj: the GGUF and the clip on it. */
typedef struct {
  vlm_gguf *g;
  vlm_clip *clip;
} model;

static model
load_path (const char *path)
{
  char err[512] = "";
  vlm_gguf_status gs;
  vlm_status st;
  model m;

  m.g = vlm_gguf_open (path, &gs, err, sizeof err);
  if (m.g == NULL)
    fail_msg ("%s: %s", path, err);
  m.clip = vlm_clip_load (m.g, &st, err, sizeof err);
  if (m.clip == NULL)
    fail_msg ("%s: %s (status %d)", path, err, (int) st);
  assert_int_equal (st, VLM_OK);
  return m;
}

static model
load_shared (const char *rel)
{
  char *path = tu_shared_path (rel);
  model m = load_path (path);
  free (path);
  return m;
}

static model
load_tmp (const char *name)
{
  char path[1024];
  return load_path (tmp_path (path, sizeof path, name));
}

static void
unload (model m)
{
  vlm_clip_free (m.clip);
  vlm_gguf_close (m.g);
}

/* Output buffer for one image. */
static float *
new_out (const vlm_clip * clip)
{
  float *out = malloc (sizeof (float) * vlm_clip_n_tokens (clip)
      * vlm_clip_n_embd (clip));
  assert_non_null (out);
  return out;
}

/* A deterministic test picture: gradients and a checker pattern. */
static uint8_t *
make_image (int w, int h, size_t stride)
{
  uint8_t *img = calloc (stride, (size_t) h);
  assert_non_null (img);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      uint8_t *px = img + (size_t) y * stride + (size_t) x * 3;
      px[0] = (uint8_t) (x * 255 / w);
      px[1] = (uint8_t) (y * 255 / h);
      px[2] = ((x / 8 + y / 8) & 1) ? 220 : 30;
    }
  return img;
}

static void
assert_all_finite (const float *v, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (!isfinite (v[i]))
      fail_msg ("value %zu is not finite", i);
}

/* max over rows of max |a - b| / max |b| */
static double
max_row_rel_err (const float *a, const float *b, int rows, int cols)
{
  double worst = 0.0;

  for (int r = 0; r < rows; r++) {
    double rel = tu_rel_error (a + (size_t) r * cols, b + (size_t) r * cols,
        (size_t) cols);
    worst = rel > worst ? rel : worst;
  }
  return worst;
}

/* Encodes a golden case's image with the given vision arithmetic and
 * returns its largest row error against the reference (0: identical). */
static double
golden_error (const char *mmproj, const char *image, const char *ref,
    int arith)
{
  size_t n_img, n_ref;
  model m = load_shared (mmproj);
  int side = vlm_clip_image_size (m.clip);
  int rows = vlm_clip_n_tokens (m.clip), cols = vlm_clip_n_embd (m.clip);
  uint8_t *img = tu_read_shared (image, &n_img);
  float *want = tu_read_shared (ref, &n_ref);
  float *out = new_out (m.clip);

  assert_int_equal (n_img, (size_t) side * side * 3);
  assert_int_equal (n_ref, sizeof (float) * rows * cols);
  vlm_clip_set_arith (m.clip, arith);
  assert_int_equal (vlm_clip_encode (m.clip, pool2, img, side, side,
          (size_t) side * 3, out, NULL), VLM_OK);
  double err = max_row_rel_err (out, want, rows, cols);
  print_message ("%s (arith %d): max row relative error %.3g\n", mmproj,
      arith, err);
  free (img);
  free (want);
  free (out);
  unload (m);
  return err;
}

static void
check_shape (model m, const char *proj, int side, int tokens, int embd)
{
  assert_string_equal (vlm_clip_projector (m.clip), proj);
  assert_int_equal (vlm_clip_image_size (m.clip), side);
  assert_int_equal (vlm_clip_n_tokens (m.clip), tokens);
  assert_int_equal (vlm_clip_n_embd (m.clip), embd);
  unload (m);
}

/* ------------------------------------------------------------------ */
/* Bad files: a copy of an mmproj with one thing changed                */
/* ------------------------------------------------------------------ */

typedef struct {
  const char *key;              /* string key to replace, or drop */
  const char *value;            /* its new value; NULL drops the key */
  const char *drop_tensor;
  const char *halve_tensor;     /* declared with its last dim halved */
  const char *f16_tensor;       /* an F32 tensor rewritten as F16 */
} edit;

static void
copy_kv (vlm_gguf_writer * w, const vlm_gguf * g, int64_t i, const edit * e)
{
  const char *key = vlm_gguf_key (g, i);
  vlm_gguf_value_type t = vlm_gguf_kv_type (g, i);
  vlm_gguf_writer_status s = VLM_GGUF_WRITER_OK;

  if (e->key != NULL && strcmp (key, e->key) == 0) {
    if (e->value != NULL)
      s = vlm_gguf_writer_add_string (w, key, e->value);
    assert_int_equal (s, VLM_GGUF_WRITER_OK);
    return;
  }
  if (t == VLM_GGUF_STRING) {
    vlm_gguf_str v;
    assert_int_equal (vlm_gguf_kv_str (g, i, &v), VLM_GGUF_OK);
    s = vlm_gguf_writer_add_str (w, key, v.ptr, v.len);
  } else if (t == VLM_GGUF_ARRAY) {
    vlm_gguf_array a;
    assert_int_equal (vlm_gguf_kv_array (g, i, &a), VLM_GGUF_OK);
    s = a.type == VLM_GGUF_STRING
        ? vlm_gguf_writer_add_array_str (w, key, a.strs, a.n)
        : vlm_gguf_writer_add_array (w, key, a.type, a.data, a.n);
  } else if (t == VLM_GGUF_BOOL) {
    bool v;
    assert_int_equal (vlm_gguf_kv_bool (g, i, &v), VLM_GGUF_OK);
    s = vlm_gguf_writer_add_bool (w, key, v);
  } else if (t == VLM_GGUF_FLOAT32 || t == VLM_GGUF_FLOAT64) {
    double v;
    assert_int_equal (vlm_gguf_kv_f64 (g, i, &v), VLM_GGUF_OK);
    s = vlm_gguf_writer_add_f32 (w, key, (float) v);
  } else {
    uint64_t v;
    assert_int_equal (vlm_gguf_kv_u64 (g, i, &v), VLM_GGUF_OK);
    s = vlm_gguf_writer_add_u32 (w, key, (uint32_t) v);
  }
  assert_int_equal (s, VLM_GGUF_WRITER_OK);
}

/* Declares tensor i (maybe edited); returns the bytes it will take, 0
 * when dropped. */
static size_t
declare_tensor (vlm_gguf_writer * w, const vlm_gguf_tensor * t,
    const edit * e)
{
  int64_t ne[VLM_GGUF_MAX_DIMS];
  vlm_type type = t->type;
  uint32_t last = t->n_dims - 1;

  if (e->drop_tensor && strcmp (t->name, e->drop_tensor) == 0)
    return 0;
  memcpy (ne, t->ne, sizeof ne);
  if (e->halve_tensor && strcmp (t->name, e->halve_tensor) == 0)
    ne[last] /= 2;
  if (e->f16_tensor && strcmp (t->name, e->f16_tensor) == 0)
    type = VLM_TYPE_F16;
  assert_int_equal (vlm_gguf_writer_add_tensor (w, t->name, type,
          t->n_dims, ne), VLM_GGUF_WRITER_OK);
  return vlm_gguf_writer_tensor_nbytes (w,
      vlm_gguf_writer_n_tensors (w) - 1);
}

/* Writes tmp/<name>: the golden ldpv2 mmproj with edit `e`. */
static const char *
write_edited (char *path, size_t size, const char *name, const edit * e)
{
  char err[256];
  char *src = tu_shared_path (LDPV2_MMPROJ);
  vlm_gguf *g = vlm_gguf_open (src, NULL, err, sizeof err);
  free (src);
  vlm_gguf_writer *w = vlm_gguf_writer_new ();
  int64_t n = vlm_gguf_n_tensors (g);
  size_t *bytes = calloc (n, sizeof (size_t));

  assert_non_null (g);
  assert_non_null (w);
  for (int64_t i = 0; i < vlm_gguf_n_kv (g); i++)
    copy_kv (w, g, i, e);
  for (int64_t i = 0; i < n; i++)
    bytes[i] = declare_tensor (w, vlm_gguf_tensor_at (g, i), e);
  assert_int_equal (vlm_gguf_writer_begin (w, tmp_path (path, size, name)),
      VLM_GGUF_WRITER_OK);
  for (int64_t i = 0; i < n; i++) {
    /* the data's first bytes: right for a halved tensor, garbage (but
     * harmless) for a retyped one */
    if (bytes[i] > 0)
      assert_int_equal (vlm_gguf_writer_write_data (w,
              vlm_gguf_tensor_at (g, i)->data, bytes[i]),
          VLM_GGUF_WRITER_OK);
  }
  assert_int_equal (vlm_gguf_writer_finish (w), VLM_GGUF_WRITER_OK);
  vlm_gguf_writer_free (w);
  vlm_gguf_close (g);
  free (bytes);
  return path;
}

/* Loads an edited copy and expects failure with `status` and a message
 * containing `needle`. */
static void
expect_load_error (const char *name, const edit * e, vlm_status status,
    const char *needle)
{
  char path[1024], err[512] = "";
  vlm_status st = VLM_OK;
  vlm_gguf *g = vlm_gguf_open (write_edited (path, sizeof path, name, e),
      NULL, err, sizeof err);

  assert_non_null (g);
  assert_null (vlm_clip_load (g, &st, err, sizeof err));
  print_message ("%s: %s\n", name, err);
  assert_int_equal (st, status);
  assert_non_null (strstr (err, needle));
  vlm_gguf_close (g);
}

/* ------------------------------------------------------------------ */
/* Golden embeddings and shapes                                        */
/* ------------------------------------------------------------------ */

/* The default (auto) picks the reference arithmetic for these tiny
 * towers: the reference's embeddings bit for bit. */
static void
test_golden_ldpv2_embeddings (void **state)
{
  assert_true (golden_error (LDPV2_MMPROJ, LDPV2_DIR "/image-336x336.rgb",
          LDPV2_DIR "/ref.image_embd.f32", VLM_VISION_ARITH_AUTO) == 0.0);
}

static void
test_golden_mlp_embeddings (void **state)
{
  assert_true (golden_error (MLP_MMPROJ, MLP_DIR "/image-224x224.rgb",
          MLP_DIR "/ref.image_embd.f32", VLM_VISION_ARITH_AUTO) == 0.0);
}

/* The fast arithmetic is a different (equally valid) rounding: close to
 * the reference, not identical. */
static void
test_golden_fast_arith_close (void **state)
{
  double e1 = golden_error (LDPV2_MMPROJ, LDPV2_DIR "/image-336x336.rgb",
      LDPV2_DIR "/ref.image_embd.f32", VLM_VISION_ARITH_FAST);
  double e2 = golden_error (MLP_MMPROJ, MLP_DIR "/image-224x224.rgb",
      MLP_DIR "/ref.image_embd.f32", VLM_VISION_ARITH_FAST);
  assert_true (e1 > 0.0 && e1 < 3e-3);
  assert_true (e2 > 0.0 && e2 < 3e-3);
}

static void
test_golden_reference_arith_forced (void **state)
{
  assert_true (golden_error (MLP_MMPROJ, MLP_DIR "/image-224x224.rgb",
          MLP_DIR "/ref.image_embd.f32", VLM_VISION_ARITH_REFERENCE) == 0.0);
}

/* Auto means reference for a tiny tower; the setting is honoured and an
 * unknown value means auto. */
static void
test_arith_setting (void **state)
{
  model m = load_shared (MLP_MMPROJ);

  assert_true (vlm_clip_uses_reference_arith (m.clip));
  vlm_clip_set_arith (m.clip, VLM_VISION_ARITH_FAST);
  assert_false (vlm_clip_uses_reference_arith (m.clip));
  vlm_clip_set_arith (m.clip, VLM_VISION_ARITH_REFERENCE);
  assert_true (vlm_clip_uses_reference_arith (m.clip));
  vlm_clip_set_arith (m.clip, 7);
  assert_true (vlm_clip_uses_reference_arith (m.clip));
  /* the environment stands in for auto only */
  setenv ("VLM_VISION_ARITH", "fast", 1);
  assert_false (vlm_clip_uses_reference_arith (m.clip));
  vlm_clip_set_arith (m.clip, VLM_VISION_ARITH_REFERENCE);
  assert_true (vlm_clip_uses_reference_arith (m.clip));
  unsetenv ("VLM_VISION_ARITH");
  vlm_clip_set_arith (m.clip, VLM_VISION_ARITH_AUTO);
  assert_false (vlm_clip_uses_reference_arith (NULL));
  vlm_clip_set_arith (NULL, VLM_VISION_ARITH_FAST);
  unload (m);
}

static void
test_golden_ldpv2_shape (void **state)
{
  check_shape (load_shared (LDPV2_MMPROJ), "ldpv2", 336, 144, 64);
}

static void
test_golden_mlp_shape (void **state)
{
  check_shape (load_shared (MLP_MMPROJ), "mlp", 224, 256, 96);
}

static void
test_tiny_ldpv2_shape (void **state)
{
  check_shape (load_tmp ("tiny-ldpv2-mmproj-f16.gguf"), "ldpv2", 336, 144,
      64);
}

static void
test_tiny_mlp_shape (void **state)
{
  check_shape (load_tmp ("tiny-mlp-mmproj-f16.gguf"), "mlp", 224, 256, 96);
}

static void
test_tiny_idefics3_shape (void **state)
{
  /* 128 / 16 = 8 x 8 patches, scale 2: 4 x 4 tokens of 64 * 4 -> 256 */
  check_shape (load_tmp ("tiny-idefics3-mmproj-f16.gguf"), "idefics3", 128,
      16, 256);
}

static void
test_tiny_idefics3_encodes (void **state)
{
  model m = load_tmp ("tiny-idefics3-mmproj-f16.gguf");
  uint8_t *img = make_image (128, 128, 128 * 3);
  float *out = new_out (m.clip);

  assert_int_equal (vlm_clip_encode (m.clip, pool2, img, 128, 128, 128 * 3,
          out, NULL), VLM_OK);
  assert_all_finite (out, (size_t) vlm_clip_n_tokens (m.clip)
      * vlm_clip_n_embd (m.clip));
  free (img);
  free (out);
  unload (m);
}

/* ------------------------------------------------------------------ */
/* Image sizes                                                         */
/* ------------------------------------------------------------------ */

static void
test_resize_non_square_ldpv2 (void **state)
{
  model m = load_shared (LDPV2_MMPROJ);
  size_t stride = 50 * 3 + 5;
  uint8_t *img = make_image (50, 31, stride);
  float *out = new_out (m.clip);

  assert_int_equal (vlm_clip_encode (m.clip, pool2, img, 50, 31, stride,
          out, NULL), VLM_OK);
  assert_all_finite (out, 144 * 64);
  free (img);
  free (out);
  unload (m);
}

static void
test_resize_non_square_idefics3 (void **state)
{
  model m = load_tmp ("tiny-idefics3-mmproj-f16.gguf");
  uint8_t *img = make_image (300, 90, 300 * 3);
  float *out = new_out (m.clip);

  assert_int_equal (vlm_clip_encode (m.clip, pool2, img, 300, 90, 300 * 3,
          out, NULL), VLM_OK);
  assert_all_finite (out, 16 * 256);
  free (img);
  free (out);
  unload (m);
}

static void
test_resize_one_pixel (void **state)
{
  model m = load_shared (MLP_MMPROJ);
  uint8_t px[3] = { 10, 200, 90 };
  float *out = new_out (m.clip);

  assert_int_equal (vlm_clip_encode (m.clip, pool2, px, 1, 1, 3, out, NULL),
      VLM_OK);
  assert_all_finite (out, 256 * 96);
  free (out);
  unload (m);
}

static void
test_row_stride_is_honoured (void **state)
{
  model m = load_tmp ("tiny-idefics3-mmproj-f16.gguf");
  size_t stride = 128 * 3 + 13;
  uint8_t *packed = make_image (128, 128, 128 * 3);
  uint8_t *padded = calloc (stride, 128);
  float *a = new_out (m.clip), *b = new_out (m.clip);

  for (int y = 0; y < 128; y++)
    memcpy (padded + y * stride, packed + y * 128 * 3, 128 * 3);
  assert_int_equal (vlm_clip_encode (m.clip, pool2, packed, 128, 128,
          128 * 3, a, NULL), VLM_OK);
  assert_int_equal (vlm_clip_encode (m.clip, pool2, padded, 128, 128,
          stride, b, NULL), VLM_OK);
  assert_memory_equal (a, b, sizeof (float) * 16 * 256);
  free (packed);
  free (padded);
  free (a);
  free (b);
  unload (m);
}

static void
test_image_resize_keeps_constant (void **state)
{
  uint8_t src[7 * 5 * 3], dst[4 * 4 * 3];

  for (size_t i = 0; i < sizeof src; i++)
    src[i] = (uint8_t) (i % 3 == 0 ? 17 : i % 3 == 1 ? 128 : 250);
  assert_int_equal (vlm_image_resize_rgb8 (src, 7, 5, 21, 4,
          VLM_IMAGE_FIT_STRETCH, NULL, dst), 0);
  for (size_t i = 0; i < sizeof dst; i++)
    assert_int_equal (dst[i], i % 3 == 0 ? 17 : i % 3 == 1 ? 128 : 250);
}

static void
test_image_pad_to_square (void **state)
{
  /* a white 8 x 2 strip centred on an 8 x 8 grey square, kept at 8 */
  uint8_t src[8 * 2 * 3], dst[8 * 8 * 3];
  const uint8_t bg[3] = { 100, 100, 100 };

  memset (src, 255, sizeof src);
  assert_int_equal (vlm_image_resize_rgb8 (src, 8, 2, 24, 8,
          VLM_IMAGE_FIT_PAD, bg, dst), 0);
  for (int y = 0; y < 8; y++)
    for (int x = 0; x < 8; x++)
      assert_int_equal (dst[(y * 8 + x) * 3 + 1], y == 3 || y == 4 ? 255
          : 100);
}

static void
test_image_resize_rejects_bad_args (void **state)
{
  uint8_t px[3] = { 0 }, dst[3];

  assert_int_equal (vlm_image_resize_rgb8 (NULL, 1, 1, 3, 1,
          VLM_IMAGE_FIT_PAD, NULL, dst), -1);
  assert_int_equal (vlm_image_resize_rgb8 (px, 0, 1, 3, 1,
          VLM_IMAGE_FIT_PAD, NULL, dst), -1);
  assert_int_equal (vlm_image_resize_rgb8 (px, 1, 1, 2, 1,
          VLM_IMAGE_FIT_PAD, NULL, dst), -1);
}

/* ------------------------------------------------------------------ */
/* Abort, threads, arguments                                           */
/* ------------------------------------------------------------------ */

typedef struct {
  int calls;
  int stop_at;                  /* answer true on this call (1-based) */
} abort_state;

static bool
abort_fn (void *user_data)
{
  abort_state *a = user_data;
  return ++a->calls == a->stop_at;
}

static void
test_abort_stops_encode (void **state)
{
  model m = load_shared (MLP_MMPROJ);
  uint8_t *img = make_image (224, 224, 224 * 3);
  float *out = new_out (m.clip);
  abort_state a = { 0, 2 };
  vlm_abort_check check = { abort_fn, &a };

  assert_int_equal (vlm_clip_encode (m.clip, pool2, img, 224, 224, 224 * 3,
          out, &check), VLM_ERR_ABORTED);
  assert_int_equal (a.calls, 2);
  free (img);
  free (out);
  unload (m);
}

static void
test_abort_checked_per_layer (void **state)
{
  /* 3 stored layers, features of the second-to-last: 2 layers run, and
   * abort is checked before each half layer (attention, MLP) */
  model m = load_shared (MLP_MMPROJ);
  uint8_t *img = make_image (224, 224, 224 * 3);
  float *out = new_out (m.clip);
  abort_state a = { 0, -1 };
  vlm_abort_check check = { abort_fn, &a };

  assert_int_equal (vlm_clip_encode (m.clip, pool2, img, 224, 224, 224 * 3,
          out, &check), VLM_OK);
  assert_int_equal (a.calls, 2 * 2);
  free (img);
  free (out);
  unload (m);
}

static void
test_threads_same_result (void **state)
{
  model m = load_tmp ("tiny-idefics3-mmproj-f16.gguf");
  uint8_t *img = make_image (128, 128, 128 * 3);
  float *a = new_out (m.clip), *b = new_out (m.clip);
  vlm_pool *pool1 = vlm_pool_new (1);

  assert_non_null (pool1);
  assert_int_equal (vlm_clip_encode (m.clip, pool1, img, 128, 128, 128 * 3,
          a, NULL), VLM_OK);
  assert_int_equal (vlm_clip_encode (m.clip, pool2, img, 128, 128, 128 * 3,
          b, NULL), VLM_OK);
  assert_true (max_row_rel_err (a, b, 16, 256) < 1e-5);
  vlm_pool_free (pool1);
  free (img);
  free (a);
  free (b);
  unload (m);
}

/* One encode on its own pool, for the concurrency test. */
typedef struct {
  const vlm_clip *clip;
  const uint8_t *img;
  float *out;
  vlm_status status;
} encode_task;

static void *
encode_thread (void *p)
{
  encode_task *t = p;
  vlm_pool *pool = vlm_pool_new (1);

  t->status = pool == NULL ? VLM_ERR_NOMEM : vlm_clip_encode (t->clip, pool,
      t->img, 128, 128, 128 * 3, t->out, NULL);
  vlm_pool_free (pool);
  return NULL;
}

static void
test_concurrent_encodes (void **state)
{
  model m = load_tmp ("tiny-idefics3-mmproj-f16.gguf");
  uint8_t *img = make_image (128, 128, 128 * 3);
  float *want = new_out (m.clip);
  encode_task t[2];
  pthread_t th[2];

  assert_int_equal (vlm_clip_encode (m.clip, NULL, img, 128, 128, 128 * 3,
          want, NULL), VLM_OK);
  for (int i = 0; i < 2; i++) {
    t[i] = (encode_task) { m.clip, img, new_out (m.clip), VLM_ERR_IO };
    assert_int_equal (pthread_create (&th[i], NULL, encode_thread, &t[i]), 0);
  }
  for (int i = 0; i < 2; i++) {
    assert_int_equal (pthread_join (th[i], NULL), 0);
    assert_int_equal (t[i].status, VLM_OK);
    assert_memory_equal (t[i].out, want, sizeof (float) * 16 * 256);
    free (t[i].out);
  }
  free (img);
  free (want);
  unload (m);
}

static void
test_encode_rejects_bad_args (void **state)
{
  model m = load_shared (MLP_MMPROJ);
  uint8_t px[6] = { 0 };
  float *out = new_out (m.clip);

  assert_int_equal (vlm_clip_encode (NULL, pool2, px, 1, 1, 3, out, NULL),
      VLM_ERR_INVALID_ARG);
  assert_int_equal (vlm_clip_encode (m.clip, pool2, NULL, 1, 1, 3, out,
          NULL), VLM_ERR_INVALID_ARG);
  assert_int_equal (vlm_clip_encode (m.clip, pool2, px, 1, 1, 3, NULL,
          NULL), VLM_ERR_INVALID_ARG);
  assert_int_equal (vlm_clip_encode (m.clip, pool2, px, 0, 1, 3, out,
          NULL), VLM_ERR_INVALID_ARG);
  assert_int_equal (vlm_clip_encode (m.clip, pool2, px, 1, -1, 3, out,
          NULL), VLM_ERR_INVALID_ARG);
  assert_int_equal (vlm_clip_encode (m.clip, pool2, px, 2, 1, 5, out,
          NULL), VLM_ERR_INVALID_ARG);
  free (out);
  unload (m);
}

static void
test_load_null (void **state)
{
  char err[128];
  vlm_status st = VLM_OK;

  assert_null (vlm_clip_load (NULL, &st, err, sizeof err));
  assert_int_equal (st, VLM_ERR_INVALID_ARG);
  vlm_clip_free (NULL);
}

/* ------------------------------------------------------------------ */
/* Bad models                                                          */
/* ------------------------------------------------------------------ */

static void
test_error_wrong_architecture (void **state)
{
  edit e = { .key = "general.architecture", .value = "llama" };
  expect_load_error ("arch.gguf", &e, VLM_ERR_UNSUPPORTED, "llama");
}

static void
test_error_unknown_projector (void **state)
{
  edit e = { .key = "clip.projector_type", .value = "resampler" };
  expect_load_error ("proj.gguf", &e, VLM_ERR_UNSUPPORTED, "resampler");
}

static void
test_error_no_vision_encoder (void **state)
{
  edit e = { .key = "clip.has_vision_encoder" };
  expect_load_error ("novision.gguf", &e, VLM_ERR_UNSUPPORTED,
      "vision encoder");
}

static void
test_error_missing_key (void **state)
{
  edit e = { .key = "clip.vision.patch_size" };
  expect_load_error ("nokey.gguf", &e, VLM_ERR_MODEL,
      "clip.vision.patch_size");
}

static void
test_error_missing_tensor (void **state)
{
  /* in the last layer, which is validated although not run */
  edit e = { .drop_tensor = "v.blk.1.ffn_down.weight" };
  expect_load_error ("notensor.gguf", &e, VLM_ERR_MODEL,
      "v.blk.1.ffn_down.weight");
}

static void
test_error_wrong_shape (void **state)
{
  edit e = { .halve_tensor = "v.blk.0.attn_q.weight" };
  expect_load_error ("shape.gguf", &e, VLM_ERR_MODEL,
      "'v.blk.0.attn_q.weight': expected shape [64, 64], found [64, 32]");
}

static void
test_error_wrong_shape_projector (void **state)
{
  /* mlp.2's output width sets the embedding width: its bias disagrees */
  edit e = { .halve_tensor = "mm.model.mlp.2.weight" };
  expect_load_error ("shape2.gguf", &e, VLM_ERR_MODEL,
      "'mm.model.mlp.2.bias': expected shape [32], found [64]");
}

static void
test_error_wrong_shape_position (void **state)
{
  edit e = { .halve_tensor = "v.position_embd.weight" };
  expect_load_error ("pos.gguf", &e, VLM_ERR_MODEL,
      "'v.position_embd.weight': expected shape [64, 577]");
}

static void
test_error_vector_type (void **state)
{
  edit e = { .f16_tensor = "v.blk.0.ln1.bias" };
  expect_load_error ("type.gguf", &e, VLM_ERR_UNSUPPORTED,
      "v.blk.0.ln1.bias");
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_golden_ldpv2_embeddings),
    cmocka_unit_test (test_golden_mlp_embeddings),
    cmocka_unit_test (test_golden_fast_arith_close),
    cmocka_unit_test (test_golden_reference_arith_forced),
    cmocka_unit_test (test_arith_setting),
    cmocka_unit_test (test_golden_ldpv2_shape),
    cmocka_unit_test (test_golden_mlp_shape),
    cmocka_unit_test (test_tiny_ldpv2_shape),
    cmocka_unit_test (test_tiny_mlp_shape),
    cmocka_unit_test (test_tiny_idefics3_shape),
    cmocka_unit_test (test_tiny_idefics3_encodes),
    cmocka_unit_test (test_resize_non_square_ldpv2),
    cmocka_unit_test (test_resize_non_square_idefics3),
    cmocka_unit_test (test_resize_one_pixel),
    cmocka_unit_test (test_row_stride_is_honoured),
    cmocka_unit_test (test_image_resize_keeps_constant),
    cmocka_unit_test (test_image_pad_to_square),
    cmocka_unit_test (test_image_resize_rejects_bad_args),
    cmocka_unit_test (test_abort_stops_encode),
    cmocka_unit_test (test_abort_checked_per_layer),
    cmocka_unit_test (test_threads_same_result),
    cmocka_unit_test (test_concurrent_encodes),
    cmocka_unit_test (test_encode_rejects_bad_args),
    cmocka_unit_test (test_load_null),
    cmocka_unit_test (test_error_wrong_architecture),
    cmocka_unit_test (test_error_unknown_projector),
    cmocka_unit_test (test_error_no_vision_encoder),
    cmocka_unit_test (test_error_missing_key),
    cmocka_unit_test (test_error_missing_tensor),
    cmocka_unit_test (test_error_wrong_shape),
    cmocka_unit_test (test_error_wrong_shape_projector),
    cmocka_unit_test (test_error_wrong_shape_position),
    cmocka_unit_test (test_error_vector_type),
  };

  return cmocka_run_group_tests (tests, group_setup, group_teardown);
}

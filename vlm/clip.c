/* gst-vlm — vision tower and projectors.
 *
 * Loading checks every key and tensor the encoder will read and keeps
 * views (vlm_mat, float pointers) into the GGUF mapping. Encoding
 * allocates one scratch block sized from the hyper-parameters, runs the
 * tower on all positions at once (every linear layer is one vlm_matmul
 * over all rows, split across the pool by the matmul itself), and
 * splits attention into (head, block of VLM_ATTN_TILE query rows) items
 * spread over the pool, each run by the tiled flash-attention kernel of
 * attention.h over K and V cast to F16 (the reference's CPU path).
 *
 * Two arithmetics (vlm_vision_arith, chosen per encode by
 * match_flags):
 *   - fast (MATCH_DEFAULT): our own kernels, rounding to binary16 only
 *     where the reference runtime's CPU backend rounds its inputs:
 *     patches unfolded into binary16 (im2col takes the type of the F16
 *     patch kernel), GELU / quick-GELU through binary16 tables, K and V
 *     cast to F16 for flash attention, the ldpv2 peg on binary16 input.
 *     Embeddings within 1.2e-3 / 1.5e-3 (relative, per row) of the golden
 *     reference;
 *   - reference (MATCH_REFERENCE, the gx_* functions): the reference's
 *     arithmetic operation for operation, bit-identical embeddings.
 *
 * The reference runtime is ggml-cpu built for an x86 CPU with AVX-512
 * and binary16 vector arithmetic (its text decoder's Q8_0 lane order is
 * x86; its F16 dot products have 32 binary16 lanes). What it does,
 * established with build/vlm/vlm-golden-probe (a rounding-point test: c
 * = <ref - B, O - B> / |O - B|^2 is ~1 when the reference rounds like O
 * and ~0 when not, applied stage by stage until the embeddings matched
 * bit for bit):
 *   - normalised pixels ((v / 255 - mean) / std in float) rounded to
 *     binary16;
 *   - patch sums (588 terms, [c][ky][kx]), which tinyBLAS refuses (588 is
 *     not a multiple of 16): ggml_vec_dot_f16 with 4 binary16 vectors of
 *     32 lanes, 8 loads per step of 256 (load c into vector c % 4, fused
 *     multiply-adds), folded in binary16 as (0+2)+(1+3) and then lanes
 *     l + l+16 down to l + l+1, the last n % 256 terms added one by one in
 *     double (gx_vec_dot_f16);
 *   - every other F16-weight product (tinyBLAS): the input rounded to
 *     binary16, 16 float lanes of fused multiply-adds over k, folded top
 *     half onto bottom (gx_dot_tinyblas), then the bias in float;
 *   - layer norms: double sum, float mean, variance from 16-lane float
 *     sums added in double, 1 / sqrtf, then the weight and the bias as
 *     separate float operations (gx_layernorm);
 *   - attention: Q in float, K and V rounded to binary16, ggml's tiled
 *     flash attention (key tiles of 64, scores by fused multiply-adds
 *     over the head, the AVX-512 ggml_v_expf, online rescaling with libm
 *     expf, V summed by fused multiply-adds in float; gx_attn_row);
 *   - GELU through the binary16 table of 0.5 x (1 + tanh (s x (1 + a x
 *     x))) with 1 + a x x a fused multiply-add (the reference compiler
 *     contracts it; one table entry of 63488 differs);
 *   - ldpv2: 2x2 average pool in float, the peg on binary16 inputs summed
 *     exactly (a 9-term ggml_vec_dot_f16), then + bias, + input.
 * Dropping any one point leaves the embeddings a few ulps off, and the
 * tiny random golden decoders are chaotic: embeddings 1e-5 off move
 * their logits by 1.5e-2, exact double-precision ones by 1.7e-2 / 3e-2.
 * With the reference arithmetic the logits are within 7.0e-3 / 0.
 *
 * The reference arithmetic is scalar: ~0.15 s for a golden tower (one
 * thread), minutes for a real one, so auto (the default) takes it only
 * up to AUTO_REFERENCE_MACS multiply-adds per encode. Not reproduced:
 * ggml's one-chunk flash attention, which the reference takes instead of
 * the tiled one when the head width is not a multiple of 16 or there are
 * fewer than 64 positions (gx_attn_row is the tiled kernel whatever the
 * shape).
 */
#include "clip.h"

#include <math.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attention.h"
#include "image.h"
#include "matmul.h"
#include "ops.h"
#include "quant.h"

/* Points of the reference's arithmetic (see the top of this file), as
 * switches: the arithmetic setting picks MATCH_DEFAULT or
 * MATCH_REFERENCE; VLM_CLIP_MATCH=<bit mask> in the environment
 * overrides both (for investigations), read once per encode. */
enum {
  MATCH_PATCH_F16 = 1,          /* im2col of the F16 patch kernel */
  MATCH_MM_F16 = 2,             /* activations of F16 weights */
  MATCH_GELU_TABLE = 4,         /* GELU through the binary16 table */
  MATCH_FLASH = 8,              /* K, V cast to F16, tiled flash attention */
  MATCH_PEG_F16 = 16,           /* im2col F16 of the depthwise peg conv */
  MATCH_GGML = 32,              /* ggml-cpu's operation order (gx_*) */
  MATCH_L16 = 64,               /* ... of its AVX-512 build (else AVX2) */
  MATCH_ALL = 31,
  MATCH_DEFAULT = MATCH_ALL & ~MATCH_MM_F16,    /* fast arithmetic */
  MATCH_REFERENCE = MATCH_ALL | MATCH_GGML | MATCH_L16   /* bit-exact */
};

/* Auto picks the reference arithmetic up to this many multiply-adds per
 * encode (about a second in its scalar code on one core). */
#define AUTO_REFERENCE_MACS 2e8

/* Sanity limits on hyper-parameters: far above any real vision tower,
 * low enough that no size computed from them can overflow. */
#define MAX_GRID 128            /* patches per side */
#define MAX_EMBD (1 << 16)
#define MAX_FF (1 << 18)
#define MAX_LAYERS 1024
#define MAX_PROJ_EMBD (1 << 20)

/* Query rows per attention work item: bounds the score matrix. */
#define ATTN_CHUNK 256

/* Scratch sub-buffers start on 64-byte boundaries. */
#define ALIGN_FLOATS 16

typedef enum {
  PROJ_MLP,
  PROJ_LDPV2,
  PROJ_IDEFICS3,
} proj_type;

static const char *const proj_names[] = {
  [PROJ_MLP] = "mlp",
  [PROJ_LDPV2] = "ldpv2",
  [PROJ_IDEFICS3] = "idefics3",
};

typedef enum {
  ACT_GELU,                     /* tanh approximation */
  ACT_GELU_QUICK,
  ACT_SILU,
} act_type;

typedef struct {
  const float *ln1_w, *ln1_b, *ln2_w, *ln2_b;
  vlm_mat q, k, v, o, up, down;
  const float *q_b, *k_b, *v_b, *o_b, *up_b, *down_b;  /* NULL: none */
} clip_layer;

struct vlm_clip {
  proj_type proj;
  act_type act;
  int arith;                    /* VLM_VISION_ARITH_* */

  /* hyper-parameters */
  int image_size, patch_size, grid, n_patches, n_pos;
  int n_embd, n_ff, n_head, head_dim, n_layer, n_layer_run;
  float eps, mean[3], std[3];

  /* tower */
  vlm_mat patch_w;              /* n_embd rows of 3 * p * p */
  const float *patch_b;
  const float *class_embd;      /* NULL: no class token */
  vlm_mat pos_embd;             /* n_pos rows of n_embd */
  const float *pre_ln_w, *pre_ln_b, *post_ln_w, *post_ln_b;
  clip_layer *layers;

  /* projector: mlp (mm.0, mm.2), ldpv2 (mlp.0, mlp.2, peg), idefics3
   * (fc in proj_a) */
  vlm_mat proj_a, proj_b;
  const float *proj_a_b, *proj_b_b;
  vlm_mat peg_w;                /* one row of 9 * n_out: [c][ky][kx] */
  const float *peg_b;
  int n_mid;                    /* output width of proj_a */
  int scale;                    /* idefics3 pixel-shuffle factor */
  int n_tokens, n_out;
};

/* ------------------------------------------------------------------ */
/* Loading: errors, keys                                               */
/* ------------------------------------------------------------------ */

typedef struct {
  const vlm_gguf *g;
  vlm_status status;
  char *err;
  size_t err_size;
} loader;

static bool fail (loader * l, vlm_status status, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

/* Records an error; always returns false. */
static bool
fail (loader * l, vlm_status status, const char *fmt, ...)
{
  va_list ap;

  l->status = status;
  if (l->err != NULL && l->err_size > 0) {
    va_start (ap, fmt);
    vsnprintf (l->err, l->err_size, fmt, ap);
    va_end (ap);
  }
  return false;
}

static bool
key_u32 (loader * l, const char *key, uint32_t *out)
{
  vlm_gguf_status s = vlm_gguf_get_u32 (l->g, key, out);

  if (s == VLM_GGUF_ERR_NOT_FOUND)
    return fail (l, VLM_ERR_MODEL, "missing key '%s'", key);
  if (s != VLM_GGUF_OK)
    return fail (l, VLM_ERR_MODEL, "key '%s' is not an unsigned 32-bit "
        "integer", key);
  return true;
}

static bool
key_f32 (loader * l, const char *key, float *out)
{
  vlm_gguf_status s = vlm_gguf_get_f32 (l->g, key, out);

  if (s == VLM_GGUF_ERR_NOT_FOUND)
    return fail (l, VLM_ERR_MODEL, "missing key '%s'", key);
  if (s != VLM_GGUF_OK)
    return fail (l, VLM_ERR_MODEL, "key '%s' is not a float", key);
  return true;
}

/* An optional boolean: absent gives `def`. */
static bool
key_bool_opt (loader * l, const char *key, bool def, bool *out)
{
  vlm_gguf_status s = vlm_gguf_get_bool (l->g, key, out);

  if (s == VLM_GGUF_ERR_NOT_FOUND)
    *out = def;
  else if (s != VLM_GGUF_OK)
    return fail (l, VLM_ERR_MODEL, "key '%s' is not a bool", key);
  return true;
}

/* An array of exactly three floats (image mean / std). */
static bool
key_f32x3 (loader * l, const char *key, float out[3])
{
  vlm_gguf_array arr;
  vlm_gguf_status s = vlm_gguf_get_array (l->g, key, &arr);

  if (s == VLM_GGUF_ERR_NOT_FOUND)
    return fail (l, VLM_ERR_MODEL, "missing key '%s'", key);
  if (s != VLM_GGUF_OK || arr.n != 3
      || (arr.type != VLM_GGUF_FLOAT32 && arr.type != VLM_GGUF_FLOAT64))
    return fail (l, VLM_ERR_MODEL, "key '%s' is not an array of 3 floats",
        key);
  for (int i = 0; i < 3; i++)
    out[i] = vlm_gguf_arr_f32 (&arr, i);
  return true;
}

/* ------------------------------------------------------------------ */
/* Loading: tensors                                                    */
/* ------------------------------------------------------------------ */

/* "[a, b, c]" of the first n dims. */
static void
format_shape (char *buf, size_t size, int n, const int64_t *ne)
{
  size_t len = 0;

  len += snprintf (buf, size, "[");
  for (int i = 0; i < n && len < size; i++)
    len += snprintf (buf + len, size - len, "%s%lld", i ? ", " : "",
        (long long) ne[i]);
  if (len < size)
    snprintf (buf + len, size - len, "]");
}

/* Looks up `name` and checks its shape is exactly ne[0..n_dims) (higher
 * dims 1). A missing tensor is an error when `required`, else *out is
 * NULL. Returns false on error. */
static bool
get_tensor (loader * l, const char *name, int n_dims, const int64_t *ne,
    bool required, const vlm_gguf_tensor ** out)
{
  const vlm_gguf_tensor *t = vlm_gguf_find_tensor (l->g, name);
  int64_t want[VLM_GGUF_MAX_DIMS] = { 1, 1, 1, 1 };
  char exp_s[96], got_s[96];

  *out = NULL;
  if (t == NULL)
    return required ? fail (l, VLM_ERR_MODEL, "missing tensor '%s'", name)
        : true;
  for (int i = 0; i < n_dims; i++)
    want[i] = ne[i];
  for (int i = 0; i < VLM_GGUF_MAX_DIMS; i++) {
    if (t->ne[i] != want[i]) {
      int got_dims = t->n_dims > 0 ? (int) t->n_dims : 1;
      format_shape (exp_s, sizeof exp_s, n_dims, want);
      format_shape (got_s, sizeof got_s, got_dims, t->ne);
      return fail (l, VLM_ERR_MODEL, "tensor '%s': expected shape %s, "
          "found %s", name, exp_s, got_s);
    }
  }
  *out = t;
  return true;
}

/* Views tensor `t` as m rows of k elements of a type vlm_matmul takes. */
static bool
tensor_mat (loader * l, const vlm_gguf_tensor * t, int64_t k, int64_t m,
    vlm_mat * out)
{
  if (!vlm_matmul_supports (t->type))
    return fail (l, VLM_ERR_UNSUPPORTED, "tensor '%s' has type %s, which "
        "the matrix kernels do not support", t->name,
        vlm_type_name (t->type));
  if (vlm_type_row_bytes (t->type, k) * (size_t) m != t->nbytes)
    return fail (l, VLM_ERR_UNSUPPORTED, "tensor '%s': rows of %lld %s "
        "elements do not fill whole blocks", t->name, (long long) k,
        vlm_type_name (t->type));
  out->type = t->type;
  out->k = k;
  out->m = m;
  out->row_bytes = vlm_type_row_bytes (t->type, k);
  out->data = t->data;
  return true;
}

/* A required matrix of shape [k, m]. */
static bool
get_mat (loader * l, const char *name, int64_t k, int64_t m, vlm_mat * out)
{
  const vlm_gguf_tensor *t;
  int64_t ne[2] = { k, m };

  return get_tensor (l, name, 2, ne, true, &t)
      && tensor_mat (l, t, k, m, out);
}

/* An F32 vector of n elements; *out is NULL when absent and optional. */
static bool
get_vec (loader * l, const char *name, int64_t n, bool required,
    const float **out)
{
  const vlm_gguf_tensor *t;

  *out = NULL;
  if (!get_tensor (l, name, 1, &n, required, &t))
    return false;
  if (t == NULL)
    return true;
  if (t->type != VLM_TYPE_F32)
    return fail (l, VLM_ERR_UNSUPPORTED, "tensor '%s' has type %s, "
        "expected f32", name, vlm_type_name (t->type));
  *out = t->data;
  return true;
}

/* ne[1] of a 2-D tensor that must exist: the output width of a linear
 * layer whose width is not a hyper-parameter. */
static bool
get_out_dim (loader * l, const char *name, int *out)
{
  const vlm_gguf_tensor *t = vlm_gguf_find_tensor (l->g, name);

  if (t == NULL)
    return fail (l, VLM_ERR_MODEL, "missing tensor '%s'", name);
  if (t->ne[1] < 1 || t->ne[1] > MAX_PROJ_EMBD)
    return fail (l, VLM_ERR_MODEL, "tensor '%s': output width %lld out of "
        "range", name, (long long) t->ne[1]);
  *out = (int) t->ne[1];
  return true;
}

/* "<prefix>.weight" [k, m] (required) and "<prefix>.bias" [m] (optional). */
static bool
get_linear (loader * l, const char *prefix, int64_t k, int64_t m,
    vlm_mat * w, const float **b)
{
  char name[128];

  snprintf (name, sizeof name, "%s.weight", prefix);
  if (!get_mat (l, name, k, m, w))
    return false;
  snprintf (name, sizeof name, "%s.bias", prefix);
  return get_vec (l, name, m, false, b);
}

/* "<prefix>.weight" and "<prefix>.bias", both [n] and optional unless
 * `required` (then the weight must be there). */
static bool
get_norm (loader * l, const char *prefix, int64_t n, bool required,
    const float **w, const float **b)
{
  char name[128];

  snprintf (name, sizeof name, "%s.weight", prefix);
  if (!get_vec (l, name, n, required, w))
    return false;
  snprintf (name, sizeof name, "%s.bias", prefix);
  return get_vec (l, name, n, false, b);
}

/* ------------------------------------------------------------------ */
/* Loading: hyper-parameters                                           */
/* ------------------------------------------------------------------ */

static bool
load_kind (loader * l, vlm_clip * c)
{
  const char *arch = NULL, *proj = NULL;
  bool has_vision = false;

  if (vlm_gguf_get_string (l->g, "general.architecture", &arch)
      != VLM_GGUF_OK)
    return fail (l, VLM_ERR_MODEL, "missing key 'general.architecture'");
  if (strcmp (arch, "clip") != 0)
    return fail (l, VLM_ERR_UNSUPPORTED, "architecture '%s' is not 'clip'",
        arch);
  if (vlm_gguf_get_bool (l->g, "clip.has_vision_encoder", &has_vision)
      != VLM_GGUF_OK || !has_vision)
    return fail (l, VLM_ERR_UNSUPPORTED, "no vision encoder "
        "(clip.has_vision_encoder is not true)");
  if (vlm_gguf_get_string (l->g, "clip.projector_type", &proj) != VLM_GGUF_OK
      && vlm_gguf_get_string (l->g, "clip.vision.projector_type", &proj)
      != VLM_GGUF_OK)
    return fail (l, VLM_ERR_MODEL, "missing key 'clip.projector_type'");
  for (size_t i = 0; i < sizeof proj_names / sizeof proj_names[0]; i++) {
    if (strcmp (proj, proj_names[i]) == 0) {
      c->proj = (proj_type) i;
      return true;
    }
  }
  return fail (l, VLM_ERR_UNSUPPORTED, "unknown projector type '%s' "
      "(supported: mlp, ldpv2, idefics3)", proj);
}

static bool
check_range (loader * l, const char *key, uint32_t v, uint32_t lo,
    uint32_t hi)
{
  if (v < lo || v > hi)
    return fail (l, VLM_ERR_MODEL, "key '%s' = %u is out of range [%u, %u]",
        key, v, lo, hi);
  return true;
}

static bool
load_hparams (loader * l, vlm_clip * c)
{
  uint32_t image, patch, embd, ff, layers, heads;
  bool gelu, silu;

  if (!key_u32 (l, "clip.vision.image_size", &image)
      || !key_u32 (l, "clip.vision.patch_size", &patch)
      || !key_u32 (l, "clip.vision.embedding_length", &embd)
      || !key_u32 (l, "clip.vision.feed_forward_length", &ff)
      || !key_u32 (l, "clip.vision.block_count", &layers)
      || !key_u32 (l, "clip.vision.attention.head_count", &heads)
      || !key_f32 (l, "clip.vision.attention.layer_norm_epsilon", &c->eps)
      || !key_f32x3 (l, "clip.vision.image_mean", c->mean)
      || !key_f32x3 (l, "clip.vision.image_std", c->std)
      || !key_bool_opt (l, "clip.use_gelu", false, &gelu)
      || !key_bool_opt (l, "clip.use_silu", false, &silu))
    return false;

  if (!check_range (l, "clip.vision.patch_size", patch, 1, 1024)
      || !check_range (l, "clip.vision.image_size", image, patch,
          patch * MAX_GRID)
      || !check_range (l, "clip.vision.embedding_length", embd, 1, MAX_EMBD)
      || !check_range (l, "clip.vision.feed_forward_length", ff, 1, MAX_FF)
      || !check_range (l, "clip.vision.block_count", layers, 1, MAX_LAYERS)
      || !check_range (l, "clip.vision.attention.head_count", heads, 1,
          embd))
    return false;
  if (image % patch != 0)
    return fail (l, VLM_ERR_MODEL, "image size %u is not a multiple of the "
        "patch size %u", image, patch);
  if (embd % heads != 0)
    return fail (l, VLM_ERR_MODEL, "embedding length %u is not a multiple "
        "of the head count %u", embd, heads);
  if (!(c->eps >= 0.0f && c->eps < 1.0f))
    return fail (l, VLM_ERR_MODEL, "layer norm epsilon %g out of range",
        (double) c->eps);
  for (int i = 0; i < 3; i++)
    if (!isfinite (c->mean[i]) || !isfinite (c->std[i]) || c->std[i] == 0.0f)
      return fail (l, VLM_ERR_MODEL, "bad image mean/std for channel %d",
          i);

  c->image_size = (int) image;
  c->patch_size = (int) patch;
  c->grid = (int) (image / patch);
  c->n_patches = c->grid * c->grid;
  c->n_embd = (int) embd;
  c->n_ff = (int) ff;
  c->n_head = (int) heads;
  c->head_dim = (int) (embd / heads);
  c->n_layer = (int) layers;
  /* CLIP features of the llava-style projectors: second-to-last layer */
  c->n_layer_run = c->proj == PROJ_IDEFICS3 ? c->n_layer : c->n_layer - 1;
  c->act = silu ? ACT_SILU : gelu ? ACT_GELU : ACT_GELU_QUICK;
  return true;
}

/* ------------------------------------------------------------------ */
/* Loading: tower and projectors                                       */
/* ------------------------------------------------------------------ */

/* "v.blk.<il>.<part>" in buf. */
static const char *
blk_name (char *buf, size_t size, int il, const char *part)
{
  snprintf (buf, size, "v.blk.%d.%s", il, part);
  return buf;
}

static bool
load_layer (loader * l, int il, int64_t n, int64_t ff, clip_layer * L)
{
  char p[64];
  size_t ps = sizeof p;

  return get_norm (l, blk_name (p, ps, il, "ln1"), n, true, &L->ln1_w,
      &L->ln1_b)
      && get_linear (l, blk_name (p, ps, il, "attn_q"), n, n, &L->q, &L->q_b)
      && get_linear (l, blk_name (p, ps, il, "attn_k"), n, n, &L->k, &L->k_b)
      && get_linear (l, blk_name (p, ps, il, "attn_v"), n, n, &L->v, &L->v_b)
      && get_linear (l, blk_name (p, ps, il, "attn_out"), n, n, &L->o,
      &L->o_b)
      && get_norm (l, blk_name (p, ps, il, "ln2"), n, true, &L->ln2_w,
      &L->ln2_b)
      && get_linear (l, blk_name (p, ps, il, "ffn_up"), n, ff, &L->up,
      &L->up_b)
      && get_linear (l, blk_name (p, ps, il, "ffn_down"), ff, n, &L->down,
      &L->down_b);
}

static bool
load_tower (loader * l, vlm_clip * c)
{
  int64_t p = c->patch_size, n = c->n_embd;
  int64_t patch_ne[4] = { p, p, 3, n };
  const vlm_gguf_tensor *t;

  if (!get_tensor (l, "v.patch_embd.weight", 4, patch_ne, true, &t)
      || !tensor_mat (l, t, 3 * p * p, n, &c->patch_w)
      || !get_vec (l, "v.patch_embd.bias", n, false, &c->patch_b)
      || !get_vec (l, "v.class_embd", n, false, &c->class_embd))
    return false;
  c->n_pos = c->n_patches + (c->class_embd != NULL);
  if (!get_mat (l, "v.position_embd.weight", n, c->n_pos, &c->pos_embd)
      || !get_norm (l, "v.pre_ln", n, false, &c->pre_ln_w, &c->pre_ln_b)
      || !get_norm (l, "v.post_ln", n, false, &c->post_ln_w, &c->post_ln_b))
    return false;

  c->layers = calloc (c->n_layer, sizeof (clip_layer));
  if (c->layers == NULL)
    return fail (l, VLM_ERR_NOMEM, "out of memory for %d layers",
        c->n_layer);
  for (int il = 0; il < c->n_layer; il++)
    if (!load_layer (l, il, n, c->n_ff, &c->layers[il]))
      return false;
  return true;
}

/* Two linear layers a: n_in -> n_mid and b: n_mid -> n_out. */
static bool
load_two_linear (loader * l, vlm_clip * c, const char *a, const char *b)
{
  char wa[96], wb[96];

  snprintf (wa, sizeof wa, "%s.weight", a);
  snprintf (wb, sizeof wb, "%s.weight", b);
  return get_out_dim (l, wa, &c->n_mid)
      && get_out_dim (l, wb, &c->n_out)
      && get_linear (l, a, c->n_embd, c->n_mid, &c->proj_a, &c->proj_a_b)
      && get_linear (l, b, c->n_mid, c->n_out, &c->proj_b, &c->proj_b_b);
}

static bool
load_ldpv2 (loader * l, vlm_clip * c)
{
  const vlm_gguf_tensor *t;
  int64_t peg_ne[4];

  if (c->grid < 2)
    return fail (l, VLM_ERR_MODEL, "ldpv2 needs a patch grid of at least "
        "2 x 2, found %d x %d", c->grid, c->grid);
  if (!load_two_linear (l, c, "mm.model.mlp.0", "mm.model.mlp.2"))
    return false;
  peg_ne[0] = 3;
  peg_ne[1] = 3;
  peg_ne[2] = 1;
  peg_ne[3] = c->n_out;
  if (!get_tensor (l, "mm.model.peg.0.weight", 4, peg_ne, true, &t)
      || !tensor_mat (l, t, 9 * (int64_t) c->n_out, 1, &c->peg_w)
      || !get_vec (l, "mm.model.peg.0.bias", c->n_out, false, &c->peg_b))
    return false;
  /* 2 x 2 average pooling, stride 2 (an odd last row/column is dropped) */
  c->n_tokens = (c->grid / 2) * (c->grid / 2);
  return true;
}

static bool
load_idefics3 (loader * l, vlm_clip * c)
{
  uint32_t s;
  int64_t n_in;

  if (!key_u32 (l, "clip.vision.projector.scale_factor", &s)
      || !check_range (l, "clip.vision.projector.scale_factor", s, 1,
          (uint32_t) c->grid))
    return false;
  if (c->grid % (int) s != 0)
    return fail (l, VLM_ERR_MODEL, "patch grid %d is not a multiple of the "
        "scale factor %u", c->grid, s);
  if (c->class_embd != NULL)
    return fail (l, VLM_ERR_MODEL, "idefics3 tower with a class embedding "
        "(v.class_embd)");
  c->scale = (int) s;
  n_in = (int64_t) c->n_embd * s * s;
  if (!get_out_dim (l, "mm.model.fc.weight", &c->n_out)
      || !get_linear (l, "mm.model.fc", n_in, c->n_out, &c->proj_a,
          &c->proj_a_b))
    return false;
  c->n_tokens = (c->grid / c->scale) * (c->grid / c->scale);
  return true;
}

static bool
load_projector (loader * l, vlm_clip * c)
{
  switch (c->proj) {
    case PROJ_MLP:
      c->n_tokens = c->n_patches;
      return load_two_linear (l, c, "mm.0", "mm.2");
    case PROJ_LDPV2:
      return load_ldpv2 (l, c);
    case PROJ_IDEFICS3:
      return load_idefics3 (l, c);
  }
  return fail (l, VLM_ERR_UNSUPPORTED, "unknown projector");
}

vlm_clip *
vlm_clip_load (const vlm_gguf *g, vlm_status *status, char *err,
    size_t err_size)
{
  loader l = { g, VLM_OK, err, err_size };
  vlm_clip *c = NULL;

  if (err != NULL && err_size > 0)
    err[0] = '\0';
  if (g == NULL)
    fail (&l, VLM_ERR_INVALID_ARG, "no GGUF file");
  else if ((c = calloc (1, sizeof *c)) == NULL)
    fail (&l, VLM_ERR_NOMEM, "out of memory");
  else if (!load_kind (&l, c) || !load_hparams (&l, c)
      || !load_tower (&l, c) || !load_projector (&l, c)) {
    vlm_clip_free (c);
    c = NULL;
  }
  if (status != NULL)
    *status = l.status;
  return c;
}

void
vlm_clip_free (vlm_clip *clip)
{
  if (clip == NULL)
    return;
  free (clip->layers);
  free (clip);
}

int
vlm_clip_image_size (const vlm_clip *clip)
{
  return clip ? clip->image_size : 0;
}

int
vlm_clip_n_tokens (const vlm_clip *clip)
{
  return clip ? clip->n_tokens : 0;
}

int
vlm_clip_n_embd (const vlm_clip *clip)
{
  return clip ? clip->n_out : 0;
}

const char *
vlm_clip_projector (const vlm_clip *clip)
{
  return clip ? proj_names[clip->proj] : NULL;
}

/* ------------------------------------------------------------------ */
/* Encoding: scratch memory                                            */
/* ------------------------------------------------------------------ */

typedef struct {
  void *block;
  float *x;                     /* residual stream, n_pos x n_embd */
  float *cur;                   /* normed input of a sub-layer */
  float *q, *k, *v;             /* q also takes each sub-layer's output */
  float *attn;                  /* attention output before attn_out */
  float *ffn;                   /* n_pos x n_ff */
  float *patches;               /* n_patches x 3 p p, unfolded input */
  float *proj_a, *proj_b, *proj_c, *peg;
  uint16_t *kh, *vh;            /* K and V cast to binary16 */
  float *heads;                 /* n_threads attention work areas */
  size_t head_floats;           /* floats per work area */
  uint8_t *resized;             /* image_size^2 RGB8 */
  int match;                    /* MATCH_* flags */
} scratch;

/* Floats of one attention work area: K_h, V_h^T, a query chunk, its
 * scores and its output; rounded so that every area stays aligned. */
static size_t
attn_area_floats (const vlm_clip * c)
{
  size_t pos = c->n_pos, hd = c->head_dim, ch = ATTN_CHUNK;
  size_t n = 2 * pos * hd + 2 * ch * hd + ch * pos;
  size_t tiled = vlm_attn_tiled_work (c->head_dim);

  n = n > tiled ? n : tiled;
  return (n + ALIGN_FLOATS - 1) / ALIGN_FLOATS * ALIGN_FLOATS;
}

/* Carves `n` floats from the block at *off (aligned); NULL block: sizes. */
static float *
carve (void *block, size_t * off, size_t n)
{
  float *p = block ? (float *) block + *off : NULL;

  *off += (n + ALIGN_FLOATS - 1) / ALIGN_FLOATS * ALIGN_FLOATS;
  return p;
}

/* Lays out every buffer in `block` (or just sums sizes when NULL);
 * returns the floats needed. */
static size_t
layout_scratch (const vlm_clip * c, int nth, void *block, scratch * s)
{
  size_t off = 0, pos = c->n_pos, n = c->n_embd, np = c->n_patches;
  size_t p = c->patch_size, side = c->image_size;
  size_t a = 0, b = 0, cc = 0, peg = 0;

  switch (c->proj) {
    case PROJ_MLP:
      a = np * c->n_mid;
      break;
    case PROJ_LDPV2:
      a = np * c->n_mid;
      b = np * c->n_out;
      cc = (size_t) c->n_tokens * c->n_out;
      peg = 9 * (size_t) c->n_out;
      break;
    case PROJ_IDEFICS3:
      a = np * n;
      break;
  }
  s->block = block;
  s->x = carve (block, &off, pos * n);
  s->cur = carve (block, &off, pos * n);
  s->q = carve (block, &off, pos * n);
  s->k = carve (block, &off, pos * n);
  s->v = carve (block, &off, pos * n);
  s->attn = carve (block, &off, pos * n);
  s->ffn = carve (block, &off, pos * c->n_ff);
  s->patches = carve (block, &off, np * 3 * p * p);
  s->proj_a = carve (block, &off, a);
  s->proj_b = carve (block, &off, b);
  s->proj_c = carve (block, &off, cc);
  s->peg = carve (block, &off, peg);
  s->kh = (uint16_t *) carve (block, &off, (pos * n + 1) / 2);
  s->vh = (uint16_t *) carve (block, &off, (pos * n + 1) / 2);
  s->head_floats = attn_area_floats (c);
  s->heads = carve (block, &off, s->head_floats * nth);
  s->resized = (uint8_t *) carve (block, &off, (side * side * 3 + 3) / 4);
  return off;
}

static bool
build_scratch (const vlm_clip * c, int nth, scratch * s)
{
  size_t floats = layout_scratch (c, nth, NULL, s);
  void *block = aligned_alloc (ALIGN_FLOATS * sizeof (float),
      floats * sizeof (float));

  if (block == NULL)
    return false;
  layout_scratch (c, nth, block, s);
  return true;
}

static void
free_scratch (scratch * s)
{
  free (s->block);
}

/* ------------------------------------------------------------------ */
/* Encoding: row-parallel jobs                                         */
/* ------------------------------------------------------------------ */

/* [*r0, *r1): slice ith of nth over n rows. */
static void
slice_rows (int64_t n, int ith, int nth, int64_t *r0, int64_t *r1)
{
  int64_t per = (n + nth - 1) / nth;

  *r0 = per * ith < n ? per * ith : n;
  *r1 = *r0 + per < n ? *r0 + per : n;
}

/* ------------------------------------------------------------------ */
/* ggml-cpu arithmetic, operation for operation (MATCH_GGML)           */
/* ------------------------------------------------------------------ */

/* The gx_* code leans on fmaf: on x86-64 build it twice, with and
 * without FMA instructions, and pick at load time (without, fmaf is a
 * library call and the reference arithmetic three times slower). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define GX_FMA __attribute__((target_clones ("fma", "default")))
#else
#define GX_FMA
#endif

/* Sum of L lanes as the x86 horizontal sums fold them: top half onto
 * bottom half until one lane is left (hsum of tinyBLAS,
 * _mm512_reduce_add_ps, the AVX2 reductions of ggml_vec_cvar_f32 and
 * ggml_vec_soft_max_f32). */
static float
gx_fold (float *v, int L)
{
  for (int w = L / 2; w >= 1; w /= 2)
    for (int i = 0; i < w; i++)
      v[i] = v[i] + v[i + w];
  return v[0];
}

/* tinyBLAS F16 x F16: one L-lane FMA chain over k, then gx_fold; w and
 * x hold binary16 values. */
GX_FMA static float
gx_dot_tinyblas (const float *w, const float *x, int64_t k, int L)
{
  float acc[16] = { 0 };

  for (int64_t l = 0; l < k; l += L)
    for (int i = 0; i < L; i++)
      acc[i] = fmaf (w[l + i], x[l + i], acc[i]);
  return gx_fold (acc, L);
}

/* ggml_vec_dot_f16 of the reference build, for dot products tinyBLAS
 * refuses (length not a multiple of its lanes: the patch convolution):
 * binary16 arithmetic in 4 vectors of 32 lanes, 8 vector loads per step
 * of 256 elements (load c into vector c % 4, fused multiply-adds), the
 * vectors added as (0 + 2) + (1 + 3), the 32 lanes folded (l + l+16 down
 * to l + l+1), all rounded to binary16; the elements past the last
 * whole step are then added one by one in double. x holds binary16
 * values. */
static float
gx_vec_dot_f16 (const float *w, const float *x, int64_t n)
{
  float acc[4][32] = { { 0 } }, v[32];
  int64_t np = n / 256 * 256;

  for (int64_t i = 0; i < np; i += 256)
    for (int c = 0; c < 8; c++)
      for (int l = 0; l < 32; l++) {
        int64_t e = i + c * 32 + l;
        acc[c % 4][l] = vlm_round_f16_d ((double) x[e] * w[e]
            + acc[c % 4][l]);
      }
  for (int l = 0; l < 32; l++) {
    float a = vlm_round_f16_d ((double) acc[0][l] + acc[2][l]);
    float b = vlm_round_f16_d ((double) acc[1][l] + acc[3][l]);
    v[l] = vlm_round_f16_d ((double) a + b);
  }
  for (int h = 16; h >= 1; h /= 2)
    for (int l = 0; l < h; l++)
      v[l] = vlm_round_f16_d ((double) v[l] + v[l + h]);
  double sumf = v[0];
  for (int64_t i = np; i < n; i++)
    sumf += (double) (w[i] * x[i]);
  return (float) sumf;
}

typedef struct {
  const float *w;               /* m rows of k: the F16 weights as floats */
  int64_t k, m;
  const float *x;
  int64_t n;
  float *y;
  const float *b;
  int L;
} gx_mm_job;

static void
gx_mm_slice (void *p, int ith, int nth)
{
  gx_mm_job *j = p;
  int64_t r0, r1, k = j->k, m = j->m;
  bool tiny = k % j->L == 0;

  slice_rows (j->n, ith, nth, &r0, &r1);
  for (int64_t r = r0; r < r1; r++)
    for (int64_t o = 0; o < m; o++) {
      const float *wr = j->w + o * k;
      float v = tiny ? gx_dot_tinyblas (wr, j->x + r * k, k, j->L)
          : gx_vec_dot_f16 (wr, j->x + r * k, k);
      if (j->b)
        v = v + j->b[o];
      j->y[r * m + o] = v;
    }
}

/* y = x W^T + b for an F16 W in the reference arithmetic, W converted to
 * floats once (exact); false when out of memory. */
static bool
gx_matmul (vlm_pool * pool, const vlm_mat * w, const float *x, int64_t n,
    float *y, const float *b, int L)
{
  float *wf = malloc ((size_t) w->m * w->k * sizeof (float));
  if (wf == NULL)
    return false;
  for (int64_t o = 0; o < w->m; o++)
    vlm_dequantize_row (w->type, (const uint8_t *) w->data + o * w->row_bytes,
        wf + o * w->k, w->k);
  gx_mm_job j = { wf, w->k, w->m, x, n, y, b, L };
  vlm_pool_run (pool, gx_mm_slice, &j);
  free (wf);
  return true;
}

/* ggml_compute_forward_norm_f32 then ggml_mul, ggml_add. */
static void
gx_layernorm (const float *x, int64_t n, const float *w, const float *b,
    float eps, float *out, int L)
{
  double sum = 0, s2 = 0;
  float tmp[16];
  int64_t i = 0;

  for (int64_t t = 0; t < n; t++)
    sum += (double) x[t];
  float mean = (float) sum / (float) n;
  for (; i + L <= n; i += L) {
    for (int l = 0; l < L; l++) {
      float v = x[i + l] - mean;
      out[i + l] = v;
      tmp[l] = v * v;
    }
    s2 += (double) gx_fold (tmp, L);
  }
  for (; i < n; i++) {
    float v = x[i] - mean;
    out[i] = v;
    s2 += (double) (v * v);
  }
  float var = (float) (s2 / n);
  float scale = 1.0f / sqrtf (var + eps);
  for (int64_t t = 0; t < n; t++) {
    float v = out[t] * scale;
    if (w)
      v = v * w[t];
    if (b)
      v = v + b[t];
    out[t] = v;
  }
}

static inline float
gx_bits_f (uint32_t u)
{
  float f;
  memcpy (&f, &u, 4);
  return f;
}

static inline uint32_t
gx_f_bits (float f)
{
  uint32_t u;
  memcpy (&u, &f, 4);
  return u;
}

/* One lane of ggml_v_expf: the AVX2+FMA form (L 8) or AVX-512 (L 16). */
GX_FMA static float
gx_v_expf (float x, int L)
{
  const float r = 0x1.8p23f;
  float z = fmaf (x, 0x1.715476p+0f, r);
  float n = z - r;
  float b = fmaf (-n, 0x1.7f7d1cp-20f, fmaf (-n, 0x1.62e4p-1f, x));
  float u = b * b;

  if (L == 16) {
    float j = fmaf (fmaf (fmaf (0x1.0e4020p-7f, b, 0x1.573e2ep-5f), u,
            fmaf (0x1.555e66p-3f, b, 0x1.fffdb6p-2f)), u,
        fmaf (0x1.ffffecp-1f, b, 1.0f));
    if (fabsf (n) > 192.0f)
      return n <= 0.0f ? 0.0f : INFINITY;
    return ldexpf (j, (int) n);
  }
  uint32_t e = gx_f_bits (z) << 23;
  float k = gx_bits_f (e + gx_f_bits (1.0f));
  float j = fmaf (fmaf (fmaf (0x1.0e4020p-7f, b, 0x1.573e2ep-5f), u,
          fmaf (0x1.555e66p-3f, b, 0x1.fffdb6p-2f)), u, 0x1.ffffecp-1f * b);
  if (!(fabsf (n) > 126.0f))
    return fmaf (j, k, k);
  uint32_t g = n <= 0.0f ? 0x82000000u : 0u;
  float s1 = gx_bits_f (g + 0x7f000000u), s2 = gx_bits_f (e - g);
  if (fabsf (n) > 192.0f)
    return s1 * s1;
  return fmaf (s2, j, s2) * s1;
}

#define GX_KV 64
#define GX_MAX_HD 256

/* One query row of one head through
 * ggml_compute_forward_flash_attn_ext_tiled. */
GX_FMA static void
gx_attn_row (const float *q, const float *k, const float *v,
    size_t stride, int hd, int n_kv, float scale, int L, float *out)
{
  float o[GX_MAX_HD] = { 0 }, kq[GX_KV], tmp[16];
  float S = 0.0f, M = -INFINITY;

  for (int ic = 0; ic < n_kv; ic += GX_KV) {
    int nt = n_kv - ic < GX_KV ? n_kv - ic : GX_KV;
    for (int j = 0; j < GX_KV; j++) {
      if (j >= nt) {
        kq[j] = -INFINITY;
        continue;
      }
      float a = 0.0f;
      const float *kr = k + (size_t) (ic + j) * stride;
      for (int d = 0; d < hd; d++)
        a = fmaf (kr[d], q[d], a);
      kq[j] = a * scale;
    }
    float tmax = -INFINITY;
    for (int j = 0; j < GX_KV; j++)
      tmax = tmax > kq[j] ? tmax : kq[j];
    if (tmax == -INFINITY)
      continue;
    float mnew = fmaxf (M, tmax);
    if (mnew > M) {
      float ms = expf (M - mnew);
      for (int d = 0; d < hd; d++)
        o[d] = o[d] * ms;
      S = S * ms;
    }
    M = mnew;
    double sum = 0;
    for (int j = 0; j < GX_KV; j += L) {
      for (int l = 0; l < L; l++) {
        kq[j + l] = gx_v_expf (kq[j + l] - M, L);
        tmp[l] = kq[j + l];
      }
      sum += (double) gx_fold (tmp, L);
    }
    S = (float) ((double) S + sum);
    for (int d = 0; d < hd; d++)
      for (int j = 0; j < nt; j++)
        o[d] = fmaf (kq[j], v[(size_t) (ic + j) * stride + d], o[d]);
  }
  float sinv = S == 0.0f ? 0.0f : 1.0f / S;
  for (int d = 0; d < hd; d++)
    out[d] = o[d] * sinv;
}

typedef struct {
  const vlm_clip *c;
  scratch *s;
  int L;
} gx_attn_job;

static void
gx_attn_slice (void *p, int ith, int nth)
{
  gx_attn_job *j = p;
  const vlm_clip *c = j->c;
  scratch *s = j->s;
  int64_t n = c->n_embd, hd = c->head_dim, pos = c->n_pos, i0, i1;
  float scale = 1.0f / sqrtf ((float) hd);

  slice_rows (c->n_head * pos, ith, nth, &i0, &i1);
  for (int64_t i = i0; i < i1; i++) {
    int64_t h = i / pos, r = i % pos;
    gx_attn_row (s->q + r * n + h * hd, s->k + h * hd, s->v + h * hd,
        (size_t) n, (int) hd, (int) pos, scale, j->L, s->attn + r * n
        + h * hd);
  }
}

/* Lanes of the ggml-cpu arithmetic to reproduce; 0: our own. */
static int
gx_lanes (const scratch * s)
{
  return !(s->match & MATCH_GGML) ? 0 : (s->match & MATCH_L16) ? 16 : 8;
}

/* x += delta (if set), then out = LayerNorm (x) (if norm). */
typedef struct {
  float *x;
  const float *delta;
  bool norm;
  const float *w, *b;
  float *out;
  int64_t rows, n;
  float eps;
  int L;                        /* > 0: gx_layernorm with L lanes */
} add_norm_job;

static void
add_norm_slice (void *p, int ith, int nth)
{
  add_norm_job *j = p;
  int64_t r0, r1;

  slice_rows (j->rows, ith, nth, &r0, &r1);
  for (int64_t r = r0; r < r1; r++) {
    float *x = j->x + r * j->n;
    if (j->delta != NULL)
      vlm_add (x, j->delta + r * j->n, j->n);
    if (j->norm && j->L > 0)
      gx_layernorm (x, j->n, j->w, j->b, j->eps, j->out + r * j->n, j->L);
    else if (j->norm)
      vlm_layernorm (x, j->n, j->w, j->b, j->eps, j->out + r * j->n);
  }
}

static void
add_norm (vlm_pool * pool, const vlm_clip * c, const scratch * s, float *x,
    const float *delta, const float *w, const float *b, float *out)
{
  add_norm_job j = { x, delta, w != NULL || b != NULL, w, b, out, c->n_pos,
    c->n_embd, c->eps, gx_lanes (s)
  };

  if (j.delta != NULL || j.norm)
    vlm_pool_run (pool, add_norm_slice, &j);
}

/* In-place activation over rows x n. */
typedef struct {
  float *x;
  int64_t rows, n;
  act_type act;
  bool table;                   /* the reference's binary16 tables */
} act_job;

static void
act_slice (void *p, int ith, int nth)
{
  act_job *j = p;
  int64_t r0, r1;

  slice_rows (j->rows, ith, nth, &r0, &r1);
  float *x = j->x + r0 * j->n;
  int64_t len = (r1 - r0) * j->n;
  switch (j->act) {
    case ACT_GELU:
      if (j->table)
        vlm_gelu_f16 (x, len);
      else
        vlm_gelu (x, len);
      break;
    case ACT_GELU_QUICK:
      if (j->table)
        vlm_gelu_quick_f16 (x, len);
      else
        vlm_gelu_quick (x, len);
      break;
    case ACT_SILU:
      vlm_silu (x, len);
      break;
  }
}

/* GELU and quick-GELU go through the reference's binary16 tables
 * (GGML_GELU_FP16 / GGML_GELU_QUICK_FP16 in its CPU backend): inputs
 * rounded to binary16, results binary16. SiLU is computed in float
 * there too. */
static void
activate (vlm_pool * pool, const scratch * s, float *x, int64_t rows,
    int64_t n, act_type act)
{
  act_job j = { x, rows, n, act, (s->match & MATCH_GELU_TABLE) != 0 };

  vlm_pool_run (pool, act_slice, &j);
}

/* In-place binary16 rounding of rows x n floats. */
typedef struct {
  float *x;
  int64_t rows, n;
} round_job;

static void
round_slice (void *p, int ith, int nth)
{
  round_job *j = p;
  int64_t r0, r1;

  slice_rows (j->rows, ith, nth, &r0, &r1);
  vlm_round_f16 (j->x + r0 * j->n, (r1 - r0) * j->n);
}

/* y = x W^T + b. For F16 weights the reference converts the activations
 * to binary16 first (the vec_dot_type of F16 is F16) and multiplies
 * binary16 pairs, summing in float: rounding x in place gives the same
 * products. Every caller's x is dead after the product (or, for the
 * features, only read by it). */
static bool
linear (vlm_pool * pool, const scratch * s, const vlm_mat * w, float *x,
    int64_t n, float *y, const float *b)
{
  if ((s->match & MATCH_MM_F16) && w->type == VLM_TYPE_F16) {
    round_job j = { x, n, w->k };
    vlm_pool_run (pool, round_slice, &j);
  }
  if (gx_lanes (s) > 0 && w->type == VLM_TYPE_F16)
    return gx_matmul (pool, w, x, n, y, b, gx_lanes (s));
  return vlm_matmul (pool, w, x, n, y, b) == 0;
}

/* x += position embedding, then pre-LN in place; `tmp` holds the
 * dequantised position rows. */
typedef struct {
  const vlm_clip *c;
  float *x, *tmp;
  int L;
} embed_job;

static void
embed_slice (void *p, int ith, int nth)
{
  embed_job *j = p;
  const vlm_clip *c = j->c;
  int64_t n = c->n_embd, r0, r1;

  slice_rows (c->n_pos, ith, nth, &r0, &r1);
  for (int64_t r = r0; r < r1; r++) {
    float *x = j->x + r * n, *t = j->tmp + r * n;
    vlm_mat_get_row (&c->pos_embd, r, t);
    vlm_add (x, t, n);
    if ((c->pre_ln_w != NULL || c->pre_ln_b != NULL) && j->L > 0)
      gx_layernorm (x, n, c->pre_ln_w, c->pre_ln_b, c->eps, x, j->L);
    else if (c->pre_ln_w != NULL || c->pre_ln_b != NULL)
      vlm_layernorm (x, n, c->pre_ln_w, c->pre_ln_b, c->eps, x);
  }
}

/* ------------------------------------------------------------------ */
/* Encoding: attention                                                 */
/* ------------------------------------------------------------------ */

typedef struct {
  const vlm_clip *c;
  const float *q, *k, *v;
  float *out;
  float *areas;
  size_t area_floats;
  atomic_bool failed;           /* a matrix product could not allocate */
} attn_job;

/* K_h as n_pos rows of head_dim, V_h transposed as head_dim rows of
 * n_pos. */
static void
gather_head (const attn_job * j, int h, float *kh, float *vt)
{
  int64_t n = j->c->n_embd, hd = j->c->head_dim, pos = j->c->n_pos;

  for (int64_t r = 0; r < pos; r++) {
    const float *k = j->k + r * n + h * hd, *v = j->v + r * n + h * hd;
    memcpy (kh + r * hd, k, hd * sizeof (float));
    for (int64_t d = 0; d < hd; d++)
      vt[d * pos + r] = v[d];
  }
}

/* Query rows [r0, r0 + rn) of head h: softmax (Q K^T / sqrt(hd)) V. */
static bool
attend_chunk (const attn_job * j, int h, int64_t r0, int64_t rn,
    const vlm_mat * km, const vlm_mat * vm, float *qc, float *sc, float *oc)
{
  int64_t n = j->c->n_embd, hd = j->c->head_dim, pos = j->c->n_pos;
  float scale = 1.0f / sqrtf ((float) hd);

  for (int64_t r = 0; r < rn; r++) {
    const float *q = j->q + (r0 + r) * n + h * hd;
    for (int64_t d = 0; d < hd; d++)
      qc[r * hd + d] = q[d] * scale;
  }
  if (vlm_matmul (NULL, km, qc, rn, sc, NULL) != 0)
    return false;
  for (int64_t r = 0; r < rn; r++)
    vlm_softmax (sc + r * pos, pos);
  if (vlm_matmul (NULL, vm, sc, rn, oc, NULL) != 0)
    return false;
  for (int64_t r = 0; r < rn; r++)
    memcpy (j->out + (r0 + r) * n + h * hd, oc + r * hd, hd * sizeof (float));
  return true;
}

static void
attn_slice (void *p, int ith, int nth)
{
  attn_job *j = p;
  const vlm_clip *c = j->c;
  int64_t hd = c->head_dim, pos = c->n_pos;
  int64_t n_chunks = (pos + ATTN_CHUNK - 1) / ATTN_CHUNK, i0, i1;
  float *kh = j->areas + j->area_floats * ith;
  float *vt = kh + pos * hd, *qc = vt + hd * pos;
  float *sc = qc + ATTN_CHUNK * hd, *oc = sc + ATTN_CHUNK * pos;
  vlm_mat km = { VLM_TYPE_F32, hd, pos, hd * sizeof (float), kh };
  vlm_mat vm = { VLM_TYPE_F32, pos, hd, pos * sizeof (float), vt };
  int gathered = -1;

  slice_rows (c->n_head * n_chunks, ith, nth, &i0, &i1);
  for (int64_t i = i0; i < i1; i++) {
    int h = (int) (i / n_chunks);
    int64_t r0 = (i % n_chunks) * ATTN_CHUNK;
    int64_t rn = pos - r0 < ATTN_CHUNK ? pos - r0 : ATTN_CHUNK;
    if (h != gathered) {
      gather_head (j, h, kh, vt);
      gathered = h;
    }
    if (!attend_chunk (j, h, r0, rn, &km, &vm, qc, sc, oc)) {
      atomic_store (&j->failed, true);
      return;
    }
  }
}

/* K and V rows cast to binary16 (the reference's ggml_cast before its
 * flash attention). */
typedef struct {
  const vlm_clip *c;
  scratch *s;
} cast_job;

static void
cast_kv_slice (void *p, int ith, int nth)
{
  cast_job *j = p;
  int64_t n = j->c->n_embd, r0, r1;

  slice_rows (j->c->n_pos, ith, nth, &r0, &r1);
  vlm_to_f16 (j->s->kh + r0 * n, j->s->k + r0 * n, (r1 - r0) * n);
  vlm_to_f16 (j->s->vh + r0 * n, j->s->v + r0 * n, (r1 - r0) * n);
}

/* Work items (head, block of VLM_ATTN_TILE query rows) in fixed slices. */
static void
flash_slice (void *p, int ith, int nth)
{
  cast_job *j = p;
  const vlm_clip *c = j->c;
  scratch *s = j->s;
  int64_t n = c->n_embd, hd = c->head_dim, pos = c->n_pos;
  int64_t n_blocks = (pos + VLM_ATTN_TILE - 1) / VLM_ATTN_TILE, i0, i1;
  float *work = s->heads + s->head_floats * ith;
  float scale = 1.0f / sqrtf ((float) hd);

  slice_rows (c->n_head * n_blocks, ith, nth, &i0, &i1);
  for (int64_t i = i0; i < i1; i++) {
    int64_t h = i / n_blocks, r0 = (i % n_blocks) * VLM_ATTN_TILE;
    int nq = (int) (pos - r0 < VLM_ATTN_TILE ? pos - r0 : VLM_ATTN_TILE);
    vlm_attn_kv kv = { s->kh + h * hd, s->vh + h * hd, (size_t) n, (int) hd };
    vlm_attn_tiled (&kv, s->q + r0 * n + h * hd, (size_t) n, nq, (int) pos,
        -1, scale, s->attn + r0 * n + h * hd, (size_t) n, work);
  }
}

/* The reference runs vision attention as flash attention whenever the
 * backend supports it (CLIP_FLASH_ATTN_TYPE_AUTO, decided at warm-up; the
 * CPU backend does): Q stays F32, K and V are cast to F16, and with at
 * least VLM_ATTN_TILE query rows the CPU takes its tiled kernel. Without
 * MATCH_FLASH: its other graph, two F32 matrix products and a softmax. */
static bool
attention (vlm_pool * pool, const vlm_clip * c, scratch * s)
{
  if ((s->match & MATCH_FLASH) && gx_lanes (s) > 0
      && c->head_dim <= GX_MAX_HD) {
    /* K and V rounded to binary16 in place (they are dead after this) */
    round_job rk = { s->k, c->n_pos, c->n_embd }, rv = { s->v, c->n_pos,
      c->n_embd
    };
    gx_attn_job gj = { c, s, gx_lanes (s) };
    vlm_pool_run (pool, round_slice, &rk);
    vlm_pool_run (pool, round_slice, &rv);
    vlm_pool_run (pool, gx_attn_slice, &gj);
    return true;
  }
  if (s->match & MATCH_FLASH) {
    cast_job cj = { c, s };
    vlm_pool_run (pool, cast_kv_slice, &cj);
    vlm_pool_run (pool, flash_slice, &cj);
    return true;
  }
  attn_job j = { c, s->q, s->k, s->v, s->attn, s->heads, s->head_floats,
    false
  };

  vlm_pool_run (pool, attn_slice, &j);
  return !atomic_load (&j.failed);
}

/* ------------------------------------------------------------------ */
/* Encoding: tower                                                     */
/* ------------------------------------------------------------------ */

/* Brings the image to image_size^2 if needed, scales, normalises and
 * unfolds it into patch rows [c][ky][kx] (the conv weight's order). */
static bool
preprocess (const vlm_clip * c, const uint8_t *rgb, int w, int h,
    size_t stride, scratch * s)
{
  int side = c->image_size, p = c->patch_size, g = c->grid;
  float lut[3][256];

  if (w != side || h != side) {
    uint8_t bg[3];
    for (int ch = 0; ch < 3; ch++) {
      float v = c->mean[ch] * 255.0f;
      bg[ch] = v <= 0.0f ? 0 : v >= 255.0f ? 255 : (uint8_t) v;
    }
    if (vlm_image_resize_rgb8 (rgb, w, h, stride, side,
            c->proj == PROJ_IDEFICS3 ? VLM_IMAGE_FIT_STRETCH :
            VLM_IMAGE_FIT_PAD, bg, s->resized) != 0)
      return false;
    rgb = s->resized;
    stride = (size_t) side * 3;
  }
  /* the reference unfolds the patches with im2col into the type of the
   * patch kernel: binary16 for an F16 kernel */
  bool f16 = (s->match & MATCH_PATCH_F16) && c->patch_w.type == VLM_TYPE_F16;
  for (int ch = 0; ch < 3; ch++)
    for (int v = 0; v < 256; v++) {
      lut[ch][v] = ((float) v / 255.0f - c->mean[ch]) / c->std[ch];
      if (f16)
        lut[ch][v] = vlm_fp16_to_fp32 (vlm_fp32_to_fp16 (lut[ch][v]));
    }

  for (int py = 0; py < g; py++) {
    for (int px = 0; px < g; px++) {
      float *row = s->patches + ((size_t) py * g + px) * 3 * p * p;
      for (int ch = 0; ch < 3; ch++)
        for (int ky = 0; ky < p; ky++) {
          const uint8_t *src = rgb + (size_t) (py * p + ky) * stride
              + (size_t) px * p * 3 + ch;
          for (int kx = 0; kx < p; kx++)
            *row++ = lut[ch][src[kx * 3]];
        }
    }
  }
  return true;
}

/* Patch embedding, class token, position embedding, pre-LN into x.
 * The class token goes after the patches, as in the reference runtime:
 * position rows 0..n_patches-1 go to the patches, the last to the class
 * token (see clip.h for what this means for the features). */
static bool
embed (vlm_pool * pool, const vlm_clip * c, scratch * s)
{
  int64_t n = c->n_embd;
  bool cls = c->class_embd != NULL;
  embed_job j = { c, s->x, s->cur, gx_lanes (s) };

  if (gx_lanes (s) > 0 && c->patch_w.type == VLM_TYPE_F16) {
    if (!gx_matmul (pool, &c->patch_w, s->patches, c->n_patches, s->x,
            c->patch_b, gx_lanes (s)))
      return false;
  } else if (vlm_matmul (pool, &c->patch_w, s->patches, c->n_patches, s->x,
          c->patch_b) != 0)
    return false;
  if (cls)
    memcpy (s->x + c->n_patches * n, c->class_embd, n * sizeof (float));
  vlm_pool_run (pool, embed_slice, &j);
  return true;
}

/* First half of a pre-norm layer: x += delta, then attention. `delta` is
 * the previous layer's output still to be added to x (NULL for the first
 * layer); the attention output is left in s->q. */
static bool
run_attention (vlm_pool * pool, const vlm_clip * c, const clip_layer * L,
    const float *delta, scratch * s)
{
  int64_t pos = c->n_pos;

  add_norm (pool, c, s, s->x, delta, L->ln1_w, L->ln1_b, s->cur);
  return linear (pool, s, &L->q, s->cur, pos, s->q, L->q_b)
      && linear (pool, s, &L->k, s->cur, pos, s->k, L->k_b)
      && linear (pool, s, &L->v, s->cur, pos, s->v, L->v_b)
      && attention (pool, c, s)
      && linear (pool, s, &L->o, s->attn, pos, s->q, L->o_b);
}

/* Second half: x += attention output, then the MLP, whose output is left
 * in s->q for the next layer. */
static bool
run_mlp (vlm_pool * pool, const vlm_clip * c, const clip_layer * L,
    scratch * s)
{
  int64_t pos = c->n_pos;

  add_norm (pool, c, s, s->x, s->q, L->ln2_w, L->ln2_b, s->cur);
  if (!linear (pool, s, &L->up, s->cur, pos, s->ffn, L->up_b))
    return false;
  activate (pool, s, s->ffn, pos, c->n_ff, c->act);
  return linear (pool, s, &L->down, s->ffn, pos, s->q, L->down_b);
}

static vlm_status
run_tower (vlm_pool * pool, const vlm_clip * c, scratch * s,
    const vlm_abort_check * abort)
{
  const float *delta = NULL;

  if (!embed (pool, c, s))
    return VLM_ERR_NOMEM;
  /* abort is checked before each half layer: a request takes effect
   * within half a layer (about 50 ms for ViT-L on two cores) */
  for (int il = 0; il < c->n_layer_run; il++) {
    if (vlm_should_abort (abort))
      return VLM_ERR_ABORTED;
    if (!run_attention (pool, c, &c->layers[il], delta, s))
      return VLM_ERR_NOMEM;
    if (vlm_should_abort (abort))
      return VLM_ERR_ABORTED;
    if (!run_mlp (pool, c, &c->layers[il], s))
      return VLM_ERR_NOMEM;
    delta = s->q;
  }
  add_norm (pool, c, s, s->x, delta, c->post_ln_w, c->post_ln_b, s->x);
  return VLM_OK;
}

/* ------------------------------------------------------------------ */
/* Encoding: projectors                                                */
/* ------------------------------------------------------------------ */

/* 2 x 2 average pooling, stride 2, of a g x g grid of d-wide rows. */
static void
avg_pool_2x2 (const float *in, int g, int64_t d, float *out)
{
  int g2 = g / 2;

  for (int y = 0; y < g2; y++)
    for (int x = 0; x < g2; x++) {
      const float *a = in + ((int64_t) (2 * y) * g + 2 * x) * d;
      const float *b = a + g * d;
      float *o = out + ((int64_t) y * g2 + x) * d;
      for (int64_t i = 0; i < d; i++)
        o[i] = (a[i] + a[d + i] + b[i] + b[d + i]) * 0.25f;
    }
}

/* One output of the depthwise 3x3 convolution (zero padding 1) at
 * (y, x), channel i: the reference's ggml_conv_2d_dw unfolds the input
 * with im2col into binary16 (when `f16`) and takes a dot product of F16
 * vectors of 9, which sums the products (exact) in double. */
static float
peg_tap_sum (const float *in, int g, int64_t d, const float *w, int y, int x,
    int64_t i, bool f16)
{
  double sum = 0;

  for (int ky = 0; ky < 3; ky++)
    for (int kx = 0; kx < 3; kx++) {
      int sy = y + ky - 1, sx = x + kx - 1;
      if (sy < 0 || sy >= g || sx < 0 || sx >= g)
        continue;
      float v = in[((int64_t) sy * g + sx) * d + i];
      if (f16)
        v = vlm_fp16_to_fp32 (vlm_fp32_to_fp16 (v));
      sum += (double) (w[i * 9 + ky * 3 + kx] * v);
    }
  return (float) sum;
}

/* out = (conv (in) + bias) + in, the reference's order of additions;
 * w holds per channel 9 taps [ky][kx]. */
static void
peg_conv (const float *in, int g, int64_t d, const float *w, const float *b,
    bool f16, float *out)
{
  for (int y = 0; y < g; y++)
    for (int x = 0; x < g; x++) {
      float *o = out + ((int64_t) y * g + x) * d;
      const float *self = in + ((int64_t) y * g + x) * d;
      for (int64_t i = 0; i < d; i++) {
        float conv = peg_tap_sum (in, g, d, w, y, x, i, f16);
        o[i] = (conv + (b ? b[i] : 0.0f)) + self[i];
      }
    }
}

/* Each s x s block of the g x g grid becomes one row: sub-row dy outer,
 * sub-column dx inner, n features innermost. */
static void
pixel_shuffle (const float *in, int g, int sf, int64_t n, float *out)
{
  int g2 = g / sf;

  for (int yb = 0; yb < g2; yb++)
    for (int xb = 0; xb < g2; xb++) {
      float *o = out + ((int64_t) yb * g2 + xb) * n * sf * sf;
      for (int dy = 0; dy < sf; dy++)
        for (int dx = 0; dx < sf; dx++) {
          int64_t src = (int64_t) (yb * sf + dy) * g + xb * sf + dx;
          memcpy (o + (dy * sf + dx) * n, in + src * n, n * sizeof (float));
        }
    }
}

/* The tower rows the projector reads: all of them without a class
 * token; with one, every row but the first (patches 1.. and the class
 * token last), the reference runtime's selection. */
static float *
features (const vlm_clip * c, const scratch * s)
{
  return s->x + (c->class_embd ? c->n_embd : 0);
}

static bool
run_projector (vlm_pool * pool, const vlm_clip * c, scratch * s, float *out)
{
  float *feat = features (c, s);
  int64_t np = c->n_patches;

  switch (c->proj) {
    case PROJ_MLP:
      if (!linear (pool, s, &c->proj_a, feat, np, s->proj_a, c->proj_a_b))
        return false;
      activate (pool, s, s->proj_a, np, c->n_mid, ACT_GELU);
      return linear (pool, s, &c->proj_b, s->proj_a, np, out, c->proj_b_b);
    case PROJ_LDPV2:
      if (!linear (pool, s, &c->proj_a, feat, np, s->proj_a, c->proj_a_b))
        return false;
      activate (pool, s, s->proj_a, np, c->n_mid, ACT_GELU);
      if (!linear (pool, s, &c->proj_b, s->proj_a, np, s->proj_b,
              c->proj_b_b))
        return false;
      avg_pool_2x2 (s->proj_b, c->grid, c->n_out, s->proj_c);
      vlm_mat_get_row (&c->peg_w, 0, s->peg);
      peg_conv (s->proj_c, c->grid / 2, c->n_out, s->peg, c->peg_b,
          (s->match & MATCH_PEG_F16) != 0, out);
      return true;
    case PROJ_IDEFICS3:
      pixel_shuffle (feat, c->grid, c->scale, c->n_embd, s->proj_a);
      return linear (pool, s, &c->proj_a, s->proj_a, c->n_tokens, out,
          c->proj_a_b);
  }
  return false;
}

/* ------------------------------------------------------------------ */
/* Encoding: entry point                                               */
/* ------------------------------------------------------------------ */

void
vlm_clip_set_arith (vlm_clip *clip, int mode)
{
  if (clip != NULL)
    clip->arith = mode == 1 || mode == 2 ? mode : 0;
}

/* Multiply-adds of one encode: patch embedding and the layers' products
 * and attention (the projector is small next to them). */
static double
encode_macs (const vlm_clip * c)
{
  double n = c->n_embd, pos = c->n_pos, ff = c->n_ff;
  double layer = pos * (4.0 * n * n + 2.0 * n * ff) + 2.0 * pos * pos * n;
  return (double) c->n_patches * 3.0 * c->patch_size * c->patch_size * n
      + layer * c->n_layer_run;
}

/* The setting, with VLM_VISION_ARITH=auto|fast|reference in the
 * environment standing in for auto. */
static int
effective_arith (const vlm_clip * c)
{
  const char *e = getenv ("VLM_VISION_ARITH");
  if (c->arith != 0 || e == NULL)
    return c->arith;
  return !strcmp (e, "fast") ? 1 : !strcmp (e, "reference") ? 2 : 0;
}

bool
vlm_clip_uses_reference_arith (const vlm_clip *clip)
{
  if (clip == NULL)
    return false;
  int arith = effective_arith (clip);
  return arith == 2 || (arith == 0
      && encode_macs (clip) <= AUTO_REFERENCE_MACS);
}

/* The MATCH_* flags of an encode: VLM_CLIP_MATCH=<bit mask> in the
 * environment (investigation), else the arithmetic setting. */
static int
match_flags (const vlm_clip * c)
{
  const char *e = getenv ("VLM_CLIP_MATCH");
  if (e != NULL && *e != '\0')
    return atoi (e);
  return vlm_clip_uses_reference_arith (c) ? MATCH_REFERENCE : MATCH_DEFAULT;
}

vlm_status
vlm_clip_encode (const vlm_clip *clip, vlm_pool *pool, const uint8_t *rgb,
    int width, int height, size_t stride, float *out,
    const vlm_abort_check *abort)
{
  scratch s;
  vlm_status st;

  if (clip == NULL || rgb == NULL || out == NULL || width < 1 || height < 1
      || stride / 3 < (size_t) width)
    return VLM_ERR_INVALID_ARG;
  if (!build_scratch (clip, vlm_pool_n_threads (pool), &s))
    return VLM_ERR_NOMEM;
  s.match = match_flags (clip);
  if (!preprocess (clip, rgb, width, height, stride, &s))
    st = VLM_ERR_NOMEM;
  else
    st = run_tower (pool, clip, &s, abort);
  if (st == VLM_OK && !run_projector (pool, clip, &s, out))
    st = VLM_ERR_NOMEM;
  free_scratch (&s);
  return st;
}

/* gst-vlm — llama decoder: loading, KV cache, batched forward pass.
 *
 * Data layout of a forward pass over a batch of n positions (n_embd = E,
 * n_embd_kv = Ekv, head_dim = D):
 *   x    [n][E]    residual stream
 *   xn   [n][E]    normalised input of a sub-layer / its output
 *   q    [n][E], k [n][Ekv], v [n][Ekv]
 *   att  [n][E]    attention output before attn_output
 *   gate, up [n][n_ff]
 * The KV cache stores, per layer, K and V as rows of positions
 * ([n_ctx][Ekv]), both F16.
 *
 * Attention follows the two CPU flash-attention kernels of the reference
 * runtime (vlm/attention.h), because the golden models amplify rounding
 * differences (a 1e-5 relative change of one layer's output moves their
 * logits by up to 1e-2):
 *   batches of >= VLM_TILED_MIN_ROWS positions: the tiled kernel (F32);
 *   smaller batches (and every decode step): the online kernel (Q and the
 *     weighted sum of V in F16); one-position steps over >= 512 padded
 *     cells in 2 key chunks merged afterwards (the reference's split-KV
 *     decode).
 * Work items (head, block of query rows) are spread over the pool.
 */
#include "llama.h"

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attention.h"
#include "matmul.h"
#include "ops.h"
#include "quant.h"

/* Positions per internal batch: bounds the scratch memory of a long
 * prefill (the caller's batch is split into pieces of at most this; 512
 * is the reference runtime's default micro-batch). */
#define MAX_UBATCH 512

/* Query rows per attention work item. */
#define ATTN_ROWS 32

/* Batches of at least this many positions take the F32 ("tiled")
 * attention, smaller ones the online one with F16 accumulation: the
 * split of the reference runtime's CPU flash attention, whose two kernels
 * round differently (and the golden models amplify the difference). */
#define VLM_TILED_MIN_ROWS VLM_ATTN_TILE

/* Alignment of every buffer, in bytes. */
#define BUF_ALIGN 64

/* Sanity limits of the hyper-parameters. */
#define MAX_EMBD (1 << 16)
#define MAX_LAYER 4096
#define MAX_FF (1 << 20)
#define MAX_VOCAB (1 << 22)
#define MAX_CTX (1 << 24)

typedef struct {
  const float *attn_norm;
  const float *ffn_norm;
  vlm_mat wq, wk, wv, wo;
  vlm_mat gate, up, down;
} llama_layer;

struct vlm_llama {
  int n_vocab;
  int n_embd;
  int n_layer;
  int n_ff;
  int n_head;
  int n_head_kv;
  int head_dim;
  int n_embd_kv;
  int n_rot;
  int n_ctx_train;
  float rope_base;
  float eps;
  bool tied;                    /* no output.weight: token_embd is reused */
  vlm_mat tok_embd;
  vlm_mat output;
  const float *output_norm;
  llama_layer *layers;
};

/* Forward-pass scratch, owned by a cache. */
typedef struct {
  int cap;                      /* positions the batch buffers hold */
  float *x, *xn, *q, *k, *v, *att, *gate, *up;
  float *rope;                  /* [cap][n_rot / 2] (cos, sin) pairs */
  int n_slices;                 /* attention slices the scratch holds */
  size_t slice_floats;          /* floats per attention slice */
  float *attn;                  /* [n_slices][slice_floats] */
} scratch;

struct vlm_kv_cache {
  const vlm_llama *m;
  int n_ctx;
  int n_past;
  uint16_t *k;                  /* [n_layer][n_ctx][n_embd_kv] */
  uint16_t *v;                  /* [n_layer][n_ctx][n_embd_kv] */
  scratch s;
};

/* ------------------------------------------------------------------ */
/* Errors                                                              */
/* ------------------------------------------------------------------ */

typedef struct {
  vlm_status status;
  char *buf;
  size_t size;
} load_err;

static bool
fail (load_err * e, vlm_status s, const char *fmt, ...)
    __attribute__((format (printf, 3, 4)));

/* Records the first error only: later ones are consequences. */
static bool
fail (load_err * e, vlm_status s, const char *fmt, ...)
{
  if (e->status != VLM_OK)
    return false;
  e->status = s;
  if (e->buf && e->size) {
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (e->buf, e->size, fmt, ap);
    va_end (ap);
  }
  return false;
}

/* "64 x 32" (unused trailing dimensions of 1 left out) into buf. */
static const char *
shape_str (const vlm_gguf_tensor * t, char *buf, size_t size)
{
  uint32_t n = t->n_dims;
  while (n > 1 && t->ne[n - 1] == 1)
    n--;
  size_t off = 0;
  buf[0] = '\0';
  for (uint32_t i = 0; i < n && off < size; i++) {
    int w = snprintf (buf + off, size - off, "%s%lld", i ? " x " : "",
        (long long) t->ne[i]);
    if (w < 0)
      break;
    off += (size_t) w;
  }
  return buf;
}

/* ------------------------------------------------------------------ */
/* Hyper-parameters                                                    */
/* ------------------------------------------------------------------ */

/* An integer key `llama.<name>` in [lo, hi]; `def` < 0: required. */
static bool
read_int (const vlm_gguf * g, load_err * e, const char *name, int64_t def,
    int64_t lo, int64_t hi, int *out)
{
  char key[128];
  int64_t v;
  snprintf (key, sizeof key, "llama.%s", name);
  vlm_gguf_status s = vlm_gguf_get_i64 (g, key, &v);
  if (s == VLM_GGUF_ERR_NOT_FOUND && def >= 0)
    v = def;
  else if (s == VLM_GGUF_ERR_NOT_FOUND)
    return fail (e, VLM_ERR_MODEL, "missing key %s", key);
  else if (s != VLM_GGUF_OK)
    return fail (e, VLM_ERR_MODEL, "key %s: expected an integer, found %s",
        key, vlm_gguf_value_type_name (vlm_gguf_kv_type (g,
                vlm_gguf_find_key (g, key))));
  if (v < lo || v > hi)
    return fail (e, VLM_ERR_MODEL, "key %s: %lld is out of range, expected "
        "%lld..%lld", key, (long long) v, (long long) lo, (long long) hi);
  *out = (int) v;
  return true;
}

/* A float key `llama.<name>`, finite, in (lo, hi); `required` or `def`. */
static bool
read_float (const vlm_gguf * g, load_err * e, const char *name,
    bool required, float def, float lo, float hi, float *out)
{
  char key[128];
  float v;
  snprintf (key, sizeof key, "llama.%s", name);
  vlm_gguf_status s = vlm_gguf_get_f32 (g, key, &v);
  if (s == VLM_GGUF_ERR_NOT_FOUND && !required)
    v = def;
  else if (s == VLM_GGUF_ERR_NOT_FOUND)
    return fail (e, VLM_ERR_MODEL, "missing key %s", key);
  else if (s != VLM_GGUF_OK)
    return fail (e, VLM_ERR_MODEL, "key %s: expected a float, found %s",
        key, vlm_gguf_value_type_name (vlm_gguf_kv_type (g,
                vlm_gguf_find_key (g, key))));
  if (!isfinite (v) || v < lo || v >= hi)
    return fail (e, VLM_ERR_MODEL, "key %s: %g is out of range, expected "
        "%g..%g", key, (double) v, (double) lo, (double) hi);
  *out = v;
  return true;
}

static bool
check_architecture (const vlm_gguf * g, load_err * e)
{
  const char *arch = NULL;
  if (vlm_gguf_get_string (g, "general.architecture", &arch) !=
      VLM_GGUF_OK)
    return fail (e, VLM_ERR_MODEL, "missing key general.architecture");
  if (strcmp (arch, "llama") != 0)
    return fail (e, VLM_ERR_UNSUPPORTED, "general.architecture is \"%s\", "
        "expected \"llama\"", arch);
  const char *scaling = NULL;
  if (vlm_gguf_get_string (g, "llama.rope.scaling.type", &scaling) ==
      VLM_GGUF_OK && strcmp (scaling, "none") != 0)
    return fail (e, VLM_ERR_UNSUPPORTED, "llama.rope.scaling.type \"%s\" "
        "is not supported", scaling);
  return true;
}

/* Optional head sizes must agree with n_embd / n_head. */
static bool
check_head_size (const vlm_gguf * g, load_err * e, const char *name,
    int head_dim)
{
  int v;
  if (!read_int (g, e, name, head_dim, 1, MAX_EMBD, &v))
    return false;
  if (v != head_dim)
    return fail (e, VLM_ERR_UNSUPPORTED, "llama.%s = %d differs from "
        "embedding_length / head_count = %d", name, v, head_dim);
  return true;
}

static bool
read_hparams (const vlm_gguf * g, load_err * e, vlm_llama * m)
{
  if (!check_architecture (g, e)
      || !read_int (g, e, "embedding_length", -1, 1, MAX_EMBD, &m->n_embd)
      || !read_int (g, e, "block_count", -1, 1, MAX_LAYER, &m->n_layer)
      || !read_int (g, e, "feed_forward_length", -1, 1, MAX_FF, &m->n_ff)
      || !read_int (g, e, "context_length", -1, 1, MAX_CTX,
          &m->n_ctx_train)
      || !read_int (g, e, "attention.head_count", -1, 1, m->n_embd,
          &m->n_head))
    return false;
  if (m->n_embd % m->n_head != 0)
    return fail (e, VLM_ERR_MODEL, "llama.embedding_length %d is not a "
        "multiple of llama.attention.head_count %d", m->n_embd, m->n_head);
  m->head_dim = m->n_embd / m->n_head;
  if (!read_int (g, e, "attention.head_count_kv", m->n_head, 1, m->n_head,
          &m->n_head_kv))
    return false;
  if (m->n_head % m->n_head_kv != 0)
    return fail (e, VLM_ERR_MODEL, "llama.attention.head_count %d is not a "
        "multiple of llama.attention.head_count_kv %d", m->n_head,
        m->n_head_kv);
  m->n_embd_kv = m->head_dim * m->n_head_kv;
  if (!check_head_size (g, e, "attention.key_length", m->head_dim)
      || !check_head_size (g, e, "attention.value_length", m->head_dim)
      || !read_int (g, e, "rope.dimension_count", m->head_dim, 2,
          m->head_dim, &m->n_rot))
    return false;
  if (m->n_rot % 2 != 0)
    return fail (e, VLM_ERR_MODEL, "llama.rope.dimension_count %d is odd",
        m->n_rot);
  return read_float (g, e, "rope.freq_base", false, 10000.0f, 1.0f, 1e12f,
      &m->rope_base)
      && read_float (g, e, "attention.layer_norm_rms_epsilon", true, 0.0f,
      0.0f, 1.0f, &m->eps);
}

/* ------------------------------------------------------------------ */
/* Tensors                                                             */
/* ------------------------------------------------------------------ */

static const vlm_gguf_tensor *
find_tensor (const vlm_gguf * g, load_err * e, const char *name)
{
  const vlm_gguf_tensor *t = vlm_gguf_find_tensor (g, name);
  if (t == NULL)
    fail (e, VLM_ERR_MODEL, "missing tensor %s", name);
  return t;
}

static bool
check_shape (load_err * e, const vlm_gguf_tensor * t, int64_t ne0,
    int64_t ne1)
{
  char found[96];
  if (t->ne[0] == ne0 && t->ne[1] == ne1 && t->ne[2] == 1 && t->ne[3] == 1)
    return true;
  if (ne1 == 1)
    return fail (e, VLM_ERR_MODEL, "tensor %s has shape %s, expected %lld",
        t->name, shape_str (t, found, sizeof found), (long long) ne0);
  return fail (e, VLM_ERR_MODEL, "tensor %s has shape %s, expected %lld x "
      "%lld", t->name, shape_str (t, found, sizeof found), (long long) ne0,
      (long long) ne1);
}

/* A weight matrix of m rows of k elements. */
static bool
load_matrix (const vlm_gguf * g, load_err * e, const char *name, int64_t k,
    int64_t m, vlm_mat * out)
{
  const vlm_gguf_tensor *t = find_tensor (g, e, name);
  if (t == NULL || !check_shape (e, t, k, m))
    return false;
  if (!vlm_mat_from_tensor (out, t))
    return fail (e, VLM_ERR_MODEL, "tensor %s has type %s, which matrix "
        "products do not support", name, vlm_type_name (t->type));
  return true;
}

/* An F32 vector of n elements. */
static bool
load_vector (const vlm_gguf * g, load_err * e, const char *name, int64_t n,
    const float **out)
{
  const vlm_gguf_tensor *t = find_tensor (g, e, name);
  if (t == NULL || !check_shape (e, t, n, 1))
    return false;
  if (t->type != VLM_TYPE_F32)
    return fail (e, VLM_ERR_MODEL, "tensor %s has type %s, expected f32",
        name, vlm_type_name (t->type));
  *out = t->data;
  return true;
}

static bool
load_layer (const vlm_gguf * g, load_err * e, const vlm_llama * m, int il,
    llama_layer * l)
{
  char name[64];
  int64_t E = m->n_embd, Ekv = m->n_embd_kv, F = m->n_ff;

#define LAYER_NAME(suffix) \
  (snprintf (name, sizeof name, "blk.%d." suffix, il), name)
  return load_vector (g, e, LAYER_NAME ("attn_norm.weight"), E,
      &l->attn_norm)
      && load_vector (g, e, LAYER_NAME ("ffn_norm.weight"), E, &l->ffn_norm)
      && load_matrix (g, e, LAYER_NAME ("attn_q.weight"), E, E, &l->wq)
      && load_matrix (g, e, LAYER_NAME ("attn_k.weight"), E, Ekv, &l->wk)
      && load_matrix (g, e, LAYER_NAME ("attn_v.weight"), E, Ekv, &l->wv)
      && load_matrix (g, e, LAYER_NAME ("attn_output.weight"), E, E, &l->wo)
      && load_matrix (g, e, LAYER_NAME ("ffn_gate.weight"), E, F, &l->gate)
      && load_matrix (g, e, LAYER_NAME ("ffn_up.weight"), E, F, &l->up)
      && load_matrix (g, e, LAYER_NAME ("ffn_down.weight"), F, E, &l->down);
#undef LAYER_NAME
}

/* token_embd fixes n_vocab; it must agree with the tokenizer if any. */
static bool
load_embeddings (const vlm_gguf * g, load_err * e, vlm_llama * m)
{
  const vlm_gguf_tensor *t = find_tensor (g, e, "token_embd.weight");
  if (t == NULL)
    return false;
  int64_t n_vocab = t->ne[1];
  vlm_gguf_array tokens;
  if (vlm_gguf_get_array (g, "tokenizer.ggml.tokens", &tokens) ==
      VLM_GGUF_OK)
    n_vocab = (int64_t) tokens.n;
  if (n_vocab < 1 || n_vocab > MAX_VOCAB)
    return fail (e, VLM_ERR_MODEL, "vocabulary of %lld tokens is out of "
        "range, expected 1..%d", (long long) n_vocab, MAX_VOCAB);
  if (!load_matrix (g, e, "token_embd.weight", m->n_embd, n_vocab,
          &m->tok_embd))
    return false;
  m->n_vocab = (int) n_vocab;
  return true;
}

static bool
load_output (const vlm_gguf * g, load_err * e, vlm_llama * m)
{
  if (!load_vector (g, e, "output_norm.weight", m->n_embd, &m->output_norm))
    return false;
  m->tied = vlm_gguf_find_tensor (g, "output.weight") == NULL;
  if (m->tied) {
    m->output = m->tok_embd;
    return true;
  }
  return load_matrix (g, e, "output.weight", m->n_embd, m->n_vocab,
      &m->output);
}

/* ------------------------------------------------------------------ */
/* Model                                                               */
/* ------------------------------------------------------------------ */

vlm_llama *
vlm_llama_load (const vlm_gguf * g, vlm_status * status, char *err,
    size_t err_size)
{
  load_err e = { VLM_OK, err, err_size };
  vlm_llama *m = NULL;

  if (err && err_size)
    err[0] = '\0';
  if (g == NULL) {
    fail (&e, VLM_ERR_INVALID_ARG, "no GGUF file");
    goto out;
  }
  m = calloc (1, sizeof (vlm_llama));
  if (m == NULL) {
    fail (&e, VLM_ERR_NOMEM, "out of memory");
    goto out;
  }
  if (!read_hparams (g, &e, m) || !load_embeddings (g, &e, m)
      || !load_output (g, &e, m))
    goto out;
  m->layers = calloc ((size_t) m->n_layer, sizeof (llama_layer));
  if (m->layers == NULL) {
    fail (&e, VLM_ERR_NOMEM, "out of memory");
    goto out;
  }
  for (int il = 0; il < m->n_layer; il++)
    if (!load_layer (g, &e, m, il, &m->layers[il]))
      goto out;

out:
  if (e.status != VLM_OK) {
    vlm_llama_free (m);
    m = NULL;
  }
  if (status)
    *status = e.status;
  return m;
}

void
vlm_llama_free (vlm_llama * m)
{
  if (m == NULL)
    return;
  free (m->layers);
  free (m);
}

int
vlm_llama_n_embd (const vlm_llama * m)
{
  return m->n_embd;
}

int
vlm_llama_n_vocab (const vlm_llama * m)
{
  return m->n_vocab;
}

int
vlm_llama_n_ctx_train (const vlm_llama * m)
{
  return m->n_ctx_train;
}

int
vlm_llama_n_layer (const vlm_llama * m)
{
  return m->n_layer;
}

/* ------------------------------------------------------------------ */
/* Buffers                                                             */
/* ------------------------------------------------------------------ */

/* n elements of `size` bytes, BUF_ALIGN-aligned; NULL on overflow. */
static void *
alloc_array (size_t n, size_t size)
{
  if (n == 0 || size > SIZE_MAX / n)
    return NULL;
  size_t bytes = (n * size + BUF_ALIGN - 1) / BUF_ALIGN * BUF_ALIGN;
  void *p = NULL;
  return posix_memalign (&p, BUF_ALIGN, bytes) == 0 ? p : NULL;
}

static void
free_batch_buffers (scratch * s)
{
  float **bufs[] = { &s->x, &s->xn, &s->q, &s->k, &s->v, &s->att,
    &s->gate, &s->up, &s->rope
  };
  for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) {
    free (*bufs[i]);
    *bufs[i] = NULL;
  }
  s->cap = 0;
}

/* Batch buffers for at least n positions. */
static bool
build_batch_buffers (scratch * s, const vlm_llama * m, int n)
{
  if (n <= s->cap)
    return true;
  free_batch_buffers (s);
  size_t N = (size_t) n;
  s->x = alloc_array (N * m->n_embd, sizeof (float));
  s->xn = alloc_array (N * m->n_embd, sizeof (float));
  s->q = alloc_array (N * m->n_embd, sizeof (float));
  s->k = alloc_array (N * m->n_embd_kv, sizeof (float));
  s->v = alloc_array (N * m->n_embd_kv, sizeof (float));
  s->att = alloc_array (N * m->n_embd, sizeof (float));
  s->gate = alloc_array (N * m->n_ff, sizeof (float));
  s->up = alloc_array (N * m->n_ff, sizeof (float));
  s->rope = alloc_array (N * m->n_rot, sizeof (float));
  if (!s->x || !s->xn || !s->q || !s->k || !s->v || !s->att || !s->gate
      || !s->up || !s->rope) {
    free_batch_buffers (s);
    return false;
  }
  s->cap = n;
  return true;
}

/* Attention scratch for at least n_slices parallel slices. A slice holds
 * the work area of the tiled kernel, or the F16 query and accumulator of
 * the online one. */
static bool
build_attn_buffers (scratch * s, const vlm_llama * m, int n_slices)
{
  if (n_slices <= s->n_slices)
    return true;
  free (s->attn);
  s->n_slices = 0;
  size_t per = 2 * (size_t) m->head_dim;
  size_t tiled = vlm_attn_tiled_work (m->head_dim);
  per = per > tiled ? per : tiled;
  s->slice_floats = (per + 15) / 16 * 16;
  s->attn = alloc_array (s->slice_floats * n_slices, sizeof (float));
  if (s->attn == NULL)
    return false;
  s->n_slices = n_slices;
  return true;
}

static void
free_scratch (scratch * s)
{
  free_batch_buffers (s);
  free (s->attn);
  s->attn = NULL;
  s->n_slices = 0;
}

/* ------------------------------------------------------------------ */
/* KV cache                                                            */
/* ------------------------------------------------------------------ */

vlm_kv_cache *
vlm_kv_cache_new (const vlm_llama * m, int n_ctx)
{
  if (m == NULL || n_ctx <= 0)
    return NULL;
  vlm_kv_cache *kv = calloc (1, sizeof (vlm_kv_cache));
  if (kv == NULL)
    return NULL;
  kv->m = m;
  kv->n_ctx = n_ctx;
  size_t per_layer = (size_t) n_ctx * m->n_embd_kv;
  kv->k = alloc_array (per_layer * m->n_layer, sizeof (uint16_t));
  kv->v = alloc_array (per_layer * m->n_layer, sizeof (uint16_t));
  if (kv->k == NULL || kv->v == NULL) {
    vlm_kv_cache_free (kv);
    return NULL;
  }
  return kv;
}

void
vlm_kv_cache_free (vlm_kv_cache * kv)
{
  if (kv == NULL)
    return;
  free_scratch (&kv->s);
  free (kv->k);
  free (kv->v);
  free (kv);
}

int
vlm_kv_cache_n_ctx (const vlm_kv_cache * kv)
{
  return kv->n_ctx;
}

int
vlm_kv_cache_n_past (const vlm_kv_cache * kv)
{
  return kv->n_past;
}

void
vlm_kv_cache_truncate (vlm_kv_cache * kv, int n_past)
{
  if (kv != NULL && n_past >= 0 && n_past <= kv->n_past)
    kv->n_past = n_past;
}

static uint16_t *
layer_k (const vlm_kv_cache * kv, int il)
{
  return kv->k + (size_t) il * kv->n_ctx * kv->m->n_embd_kv;
}

static uint16_t *
layer_v (const vlm_kv_cache * kv, int il)
{
  return kv->v + (size_t) il * kv->n_ctx * kv->m->n_embd_kv;
}

/* KV head kvh of layer il as the attention kernels see it. */
static vlm_attn_kv
head_kv (const vlm_kv_cache * kv, int il, int kvh)
{
  const vlm_llama *m = kv->m;
  vlm_attn_kv h = {
    .k = layer_k (kv, il) + (size_t) kvh * m->head_dim,
    .v = layer_v (kv, il) + (size_t) kvh * m->head_dim,
    .stride = (size_t) m->n_embd_kv,
    .dim = m->head_dim,
  };
  return h;
}

/* ------------------------------------------------------------------ */
/* RoPE                                                                */
/* ------------------------------------------------------------------ */

/* (cos, sin) of pos * base^(-2i / n_rot) for the n positions from pos0,
 * computed once per batch and shared by every layer and head. */
static void
build_rope_table (const vlm_llama * m, float *table, int pos0, int n)
{
  int half = m->n_rot / 2;
  for (int j = 0; j < half; j++) {
    double freq = pow ((double) m->rope_base, -2.0 * j / m->n_rot);
    for (int i = 0; i < n; i++) {
      double theta = (double) (pos0 + i) * freq;
      table[((size_t) i * half + j) * 2] = (float) cos (theta);
      table[((size_t) i * half + j) * 2 + 1] = (float) sin (theta);
    }
  }
}

/* Rotates the adjacent pairs of the first n_rot dims of each head. */
static void
apply_rope (const vlm_llama * m, const float *table, float *x, int n,
    int n_heads, int row_len)
{
  int half = m->n_rot / 2;
  for (int i = 0; i < n; i++) {
    const float *cs = table + (size_t) i * half * 2;
    for (int h = 0; h < n_heads; h++) {
      float *p = x + (size_t) i * row_len + (size_t) h * m->head_dim;
      for (int j = 0; j < half; j++) {
        float c = cs[2 * j], s = cs[2 * j + 1];
        float a = p[2 * j], b = p[2 * j + 1];
        p[2 * j] = a * c - b * s;
        p[2 * j + 1] = a * s + b * c;
      }
    }
  }
}

/* ------------------------------------------------------------------ */
/* Attention                                                           */
/* ------------------------------------------------------------------ */

typedef struct {
  const vlm_llama *m;
  const vlm_kv_cache *kv;
  scratch *s;
  int il;
  int n;                        /* batch positions */
  int n_past;                   /* positions before the batch */
  int n_blocks;                 /* query blocks of ATTN_ROWS per head */
} attn_job;

/* Writes the batch's K and V rows (as F16) into the cache. */
static void
store_kv (const vlm_llama * m, vlm_kv_cache * kv, int il, const float *k,
    const float *v, int n, int n_past)
{
  size_t off = (size_t) n_past * m->n_embd_kv;
  uint16_t *kc = layer_k (kv, il) + off, *vc = layer_v (kv, il) + off;
  vlm_to_f16 (kc, k, (int64_t) n * m->n_embd_kv);
  vlm_to_f16 (vc, v, (int64_t) n * m->n_embd_kv);
}

/* ---- small batches: the reference's "one chunk" kernel ---------------- */

/* Cells the reference's KV view spans for `visible` used ones. */
#define KV_PAD 256

/* Decoding one position over 512 or more padded cells, the reference
 * splits the keys into one chunk per thread and merges the partial sums
 * in chunk order; the golden logits were made with 2 threads (matched
 * bit for bit). Independent of our own thread count. */
#define SPLIT_KV_MIN 512
#define SPLIT_KV_CHUNKS 2

static void
attend_row_online (const vlm_llama * m, const vlm_kv_cache * kv, int il,
    int kvh, const float *q, int visible, bool single, float scale,
    float *qh, float *acc, float *out)
{
  int D = m->head_dim;
  vlm_attn_kv h = head_kv (kv, il, kvh);
  vlm_attn_state st;
  memcpy (qh, q, (size_t) D * sizeof (float));
  vlm_round_f16 (qh, D);

  int padded = (visible + KV_PAD - 1) / KV_PAD * KV_PAD;
  if (!single || padded < SPLIT_KV_MIN) {
    vlm_attn_online (&h, qh, 0, visible, scale, &st, acc);
    float inv = st.s == 0.0f ? 0.0f : 1.0f / st.s;
    for (int d = 0; d < D; d++)
      out[d] = acc[d] * inv;
    return;
  }
  int cs = (padded + SPLIT_KV_CHUNKS - 1) / SPLIT_KV_CHUNKS;
  float Mf = -INFINITY, Sf = 0.0f;
  for (int d = 0; d < D; d++)
    out[d] = 0.0f;
  for (int c = 0; c * cs < padded; c++) {
    int t0 = c * cs, t1 = t0 + cs < visible ? t0 + cs : visible;
    if (t0 >= visible)
      break;
    vlm_attn_online (&h, qh, t0, t1, scale, &st, acc);
    if (st.s == 0.0f)
      continue;
    float Mn = fmaxf (Mf, st.m);
    float so = expf (Mf - Mn), sn = expf (st.m - Mn);
    for (int d = 0; d < D; d++)
      out[d] = out[d] * so + acc[d] * sn;
    Sf = Sf * so + st.s * sn;
    Mf = Mn;
  }
  if (Sf != 0.0f)
    vlm_scale (out, 1.0f / Sf, D);
}

static void
attend_block_online (const attn_job * j, float *buf, int h, int i0, int nr)
{
  const vlm_llama *m = j->m;
  int D = m->head_dim, E = m->n_embd;
  int kvh = h / (m->n_head / m->n_head_kv);
  float scale = 1.0f / sqrtf ((float) D);
  for (int r = 0; r < nr; r++) {
    size_t off = (size_t) (i0 + r) * E + (size_t) h * D;
    attend_row_online (m, j->kv, j->il, kvh, j->s->q + off,
        j->n_past + i0 + r + 1, j->n == 1, scale, buf, buf + D,
        j->s->att + off);
  }
}

/* ---- large batches: the reference's tiled kernel (F32 throughout) ---- */

/* One head, query rows [i0, i0 + nr) through the tiled kernel, causal:
 * row r sees the first n_past + i0 + r + 1 cells. */
static void
attend_block_tiled (const attn_job * j, float *buf, int h, int i0, int nr)
{
  const vlm_llama *m = j->m;
  int D = m->head_dim, E = m->n_embd;
  int kvh = h / (m->n_head / m->n_head_kv);
  vlm_attn_kv kv = head_kv (j->kv, j->il, kvh);
  size_t off = (size_t) i0 * E + (size_t) h * D;

  vlm_attn_tiled (&kv, j->s->q + off, (size_t) E, nr, j->n_past + i0 + nr,
      j->n_past + i0 + 1, 1.0f / sqrtf ((float) D), j->s->att + off,
      (size_t) E, buf);
}

/* Work items (head, query block) are dealt round-robin to the slices. */
static void
attn_slice (void *p, int ith, int nth)
{
  attn_job *j = p;
  float *buf = j->s->attn + (size_t) ith * j->s->slice_floats;
  int n_items = j->m->n_head * j->n_blocks;
  for (int it = ith; it < n_items; it += nth) {
    int h = it % j->m->n_head, b = it / j->m->n_head;
    int i0 = b * ATTN_ROWS;
    int nr = j->n - i0 < ATTN_ROWS ? j->n - i0 : ATTN_ROWS;
    if (j->n < VLM_TILED_MIN_ROWS)
      attend_block_online (j, buf, h, i0, nr);
    else
      attend_block_tiled (j, buf, h, i0, nr);
  }
}

static void
run_attention (const vlm_llama * m, vlm_kv_cache * kv, vlm_pool * pool,
    int il, int n, int n_past)
{
  attn_job j = {
    .m = m, .kv = kv, .s = &kv->s, .il = il, .n = n, .n_past = n_past,
    .n_blocks = (n + ATTN_ROWS - 1) / ATTN_ROWS,
  };
  vlm_pool_run (pool, attn_slice, &j);
}

/* ------------------------------------------------------------------ */
/* Forward pass                                                        */
/* ------------------------------------------------------------------ */

static void
rmsnorm_rows (const float *x, int n, int len, const float *w, float eps,
    float *out)
{
  for (int i = 0; i < n; i++)
    vlm_rmsnorm (x + (size_t) i * len, len, w, eps, out + (size_t) i * len);
}

/* x += attention(rms(x)) for one layer; K and V go into the cache. */
static bool
attention_block (const vlm_llama * m, vlm_kv_cache * kv, vlm_pool * pool,
    int il, int n, int n_past)
{
  const llama_layer *l = &m->layers[il];
  scratch *s = &kv->s;

  rmsnorm_rows (s->x, n, m->n_embd, l->attn_norm, m->eps, s->xn);
  if (vlm_matmul (pool, &l->wq, s->xn, n, s->q, NULL) != 0
      || vlm_matmul (pool, &l->wk, s->xn, n, s->k, NULL) != 0
      || vlm_matmul (pool, &l->wv, s->xn, n, s->v, NULL) != 0)
    return false;
  apply_rope (m, s->rope, s->q, n, m->n_head, m->n_embd);
  apply_rope (m, s->rope, s->k, n, m->n_head_kv, m->n_embd_kv);
  store_kv (m, kv, il, s->k, s->v, n, n_past);
  run_attention (m, kv, pool, il, n, n_past);
  if (vlm_matmul (pool, &l->wo, s->att, n, s->xn, NULL) != 0)
    return false;
  vlm_add (s->x, s->xn, (int64_t) n * m->n_embd);
  return true;
}

/* x += down(silu(gate(rms(x))) * up(rms(x))) for one layer. */
static bool
ffn_block (const vlm_llama * m, scratch * s, vlm_pool * pool, int il, int n)
{
  const llama_layer *l = &m->layers[il];
  int64_t nf = (int64_t) n * m->n_ff;

  rmsnorm_rows (s->x, n, m->n_embd, l->ffn_norm, m->eps, s->xn);
  if (vlm_matmul (pool, &l->gate, s->xn, n, s->gate, NULL) != 0
      || vlm_matmul (pool, &l->up, s->xn, n, s->up, NULL) != 0)
    return false;
  vlm_silu (s->gate, nf);
  vlm_mul (s->gate, s->up, nf);
  if (vlm_matmul (pool, &l->down, s->gate, n, s->xn, NULL) != 0)
    return false;
  vlm_add (s->x, s->xn, (int64_t) n * m->n_embd);
  return true;
}

/* Input rows: token embeddings (dequantised rows) or given embeddings. */
static void
load_inputs (const vlm_llama * m, float *x, const int32_t *tokens,
    const float *embd, int n)
{
  size_t E = (size_t) m->n_embd;
  if (embd != NULL) {
    memcpy (x, embd, (size_t) n * E * sizeof (float));
    return;
  }
  for (int i = 0; i < n; i++)
    vlm_mat_get_row (&m->tok_embd, tokens[i], x + i * E);
}

/* One internal batch of n <= MAX_UBATCH positions from n_past. */
static vlm_status
forward_ubatch (const vlm_llama * m, vlm_kv_cache * kv, vlm_pool * pool,
    const int32_t *tokens, const float *embd, int n, int n_past,
    float *logits, const vlm_abort_check *abort)
{
  scratch *s = &kv->s;
  int nth = vlm_pool_n_threads (pool);
  if (!build_batch_buffers (s, m, n)
      || !build_attn_buffers (s, m, nth))
    return VLM_ERR_NOMEM;

  load_inputs (m, s->x, tokens, embd, n);
  build_rope_table (m, s->rope, n_past, n);
  /* abort is checked before each half layer (attention, MLP) */
  for (int il = 0; il < m->n_layer; il++) {
    if (vlm_should_abort (abort))
      return VLM_ERR_ABORTED;
    if (!attention_block (m, kv, pool, il, n, n_past))
      return VLM_ERR_NOMEM;
    if (vlm_should_abort (abort))
      return VLM_ERR_ABORTED;
    if (!ffn_block (m, s, pool, il, n))
      return VLM_ERR_NOMEM;
  }
  if (logits == NULL)
    return VLM_OK;
  vlm_rmsnorm (s->x + (size_t) (n - 1) * m->n_embd, m->n_embd,
      m->output_norm, m->eps, s->xn);
  return vlm_matmul (pool, &m->output, s->xn, 1, logits, NULL) == 0
      ? VLM_OK : VLM_ERR_NOMEM;
}

static vlm_status
check_decode_args (const vlm_llama * m, const vlm_kv_cache * kv,
    const int32_t *tokens, const float *embd, int n)
{
  if (m == NULL || kv == NULL || kv->m != m || n <= 0
      || (tokens == NULL) == (embd == NULL))
    return VLM_ERR_INVALID_ARG;
  if (tokens != NULL)
    for (int i = 0; i < n; i++)
      if (tokens[i] < 0 || tokens[i] >= m->n_vocab)
        return VLM_ERR_INVALID_ARG;
  if (n > kv->n_ctx - kv->n_past)
    return VLM_ERR_CONTEXT_FULL;
  return VLM_OK;
}

vlm_status
vlm_llama_decode (const vlm_llama * m, vlm_kv_cache * kv, vlm_pool * pool,
    const int32_t *tokens, const float *embd, int n, float *logits,
    const vlm_abort_check *abort)
{
  vlm_status st = check_decode_args (m, kv, tokens, embd, n);
  if (st != VLM_OK)
    return st;

  /* n_past moves only once every piece succeeded */
  int n_past = kv->n_past;
  for (int done = 0; done < n;) {
    int nb = n - done < MAX_UBATCH ? n - done : MAX_UBATCH;
    bool last = done + nb == n;
    st = forward_ubatch (m, kv, pool, tokens ? tokens + done : NULL,
        embd ? embd + (size_t) done * m->n_embd : NULL, nb, n_past,
        last ? logits : NULL, abort);
    if (st != VLM_OK)
      return st;
    done += nb;
    n_past += nb;
  }
  kv->n_past = n_past;
  return VLM_OK;
}

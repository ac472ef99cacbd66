/* Tests of the llama decoder: exactness against the golden reference
 * logits, batching, KV-cache reuse, error paths and model validation. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <stdbool.h>
#include <unistd.h>
#include <cmocka.h>

#include "test-util.h"

#include "gguf-writer.h"
#include "gguf.h"
#include "llama.h"
#include "quant.h"
#include "threadpool.h"

/* ------------------------------------------------------------------ */
/* Fixtures and helpers                                                */
/* ------------------------------------------------------------------ */

static char tmp_dir[256];

static int
group_setup (void **state)
{
  return tu_tmpdir_new (tmp_dir, sizeof tmp_dir, "test-llama") ? 0 : -1;
}

static int
group_teardown (void **state)
{
  tu_tmpdir_remove (tmp_dir);
  return 0;
}

static const char *
tmp_path (char *buf, size_t size, const char *name)
{
  snprintf (buf, size, "%s/%s", tmp_dir, name);
  return buf;
}

/* A model opened from a file; free with close_model. */
typedef struct {
  vlm_gguf *g;
  vlm_llama *m;
} model;

static model
open_model (const char *path)
{
  char err[256] = "";
  vlm_gguf_status gs;
  vlm_status st;
  model md;
  md.g = vlm_gguf_open (path, &gs, err, sizeof err);
  if (md.g == NULL)
    fail_msg ("%s: %s", path, err);
  md.m = vlm_llama_load (md.g, &st, err, sizeof err);
  if (md.m == NULL)
    fail_msg ("%s: %s", path, err);
  assert_int_equal (st, VLM_OK);
  return md;
}

static void
close_model (model *md)
{
  vlm_llama_free (md->m);
  vlm_gguf_close (md->g);
}

static model
open_golden_ldpv2 (void)
{
  char *path = tu_shared_path ("golden/ldpv2-spm/tinyldp-text-q8_0.gguf");
  model md = open_model (path);
  free (path);
  return md;
}

/* n pseudo-random token ids below n_vocab. */
static void
make_tokens (int32_t *t, int n, int n_vocab, uint32_t seed)
{
  for (int i = 0; i < n; i++) {
    seed = seed * 1664525u + 1013904223u;
    t[i] = (int32_t) ((seed >> 8) % (uint32_t) n_vocab);
  }
}

/* Decodes tokens into a fresh cache in one call; logits of the last. */
static void
fresh_logits (const vlm_llama *m, vlm_pool *pool, const int32_t *t, int n,
    float *logits)
{
  vlm_kv_cache *kv = vlm_kv_cache_new (m, 512);
  assert_non_null (kv);
  assert_int_equal (vlm_llama_decode (m, kv, pool, t, NULL, n, logits, NULL),
      VLM_OK);
  assert_int_equal (vlm_kv_cache_n_past (kv), n);
  vlm_kv_cache_free (kv);
}

/* ------------------------------------------------------------------ */
/* Golden exactness                                                    */
/* ------------------------------------------------------------------ */

/* Feeds ref.chunks.txt (text ids, image embeddings), compares the 8 rows
 * of ref.logits.f32 while feeding back the reference's greedy tokens. */
static void
run_golden (const char *dir, const char *text_model)
{
  char rel[512];
  size_t len, embd_len, logits_len;

  snprintf (rel, sizeof rel, "golden/%s/%s", dir, text_model);
  char *path = tu_shared_path (rel);
  model md = open_model (path);
  free (path);
  int n_embd = vlm_llama_n_embd (md.m), n_vocab = vlm_llama_n_vocab (md.m);
  snprintf (rel, sizeof rel, "golden/%s/ref.chunks.txt", dir);
  char *chunks = tu_read_shared (rel, &len);
  snprintf (rel, sizeof rel, "golden/%s/ref.image_embd.f32", dir);
  float *embd = tu_read_shared (rel, &embd_len);
  snprintf (rel, sizeof rel, "golden/%s/ref.logits.f32", dir);
  float *ref = tu_read_shared (rel, &logits_len);
  assert_int_equal (logits_len, 8 * (size_t) n_vocab * sizeof (float));
  snprintf (rel, sizeof rel, "golden/%s/ref.greedy.txt", dir);
  char *greedy = tu_read_shared (rel, &len);

  vlm_pool *pool = vlm_pool_new (2);
  vlm_kv_cache *kv = vlm_kv_cache_new (md.m, 1024);
  float *logits = malloc ((size_t) n_vocab * sizeof (float));
  int32_t *ids = malloc (4096 * sizeof (int32_t));
  assert_true (pool && kv && logits && ids);

  /* the prompt, chunk by chunk */
  size_t embd_used = 0;
  for (char *line = strtok (chunks, "\n"); line; line = strtok (NULL, "\n")) {
    if (strncmp (line, "image ", 6) == 0) {
      int n = atoi (line + 6);
      assert_true ((embd_used + n) * n_embd * sizeof (float) <= embd_len);
      assert_int_equal (vlm_llama_decode (md.m, kv, pool, NULL,
              embd + embd_used * n_embd, n, logits, NULL), VLM_OK);
      embd_used += n;
      continue;
    }
    assert_true (strncmp (line, "text ", 5) == 0);
    int n = 0;
    char *p = line + 5, *end;
    for (long v = strtol (p, &end, 10); end != p; v = strtol (p, &end, 10)) {
      ids[n++] = (int32_t) v;
      p = end;
    }
    assert_int_equal (vlm_llama_decode (md.m, kv, pool, ids, NULL, n, logits,
            NULL), VLM_OK);
  }

  /* then the 8 steps; the reference's own choices are fed back */
  double worst = 0;
  char *gl = greedy;
  for (int step = 0; step < 8; step++) {
    int ref_id;
    float ref_logit, margin;
    int got = sscanf (gl, "%d %f margin %f", &ref_id, &ref_logit, &margin);
    assert_int_equal (got, 3);
    gl = strchr (gl, '\n') + 1;
    double e = tu_rel_error (logits, ref + (size_t) step * n_vocab, n_vocab);
    worst = e > worst ? e : worst;
    double tol = 1e-2;
    print_message ("%s step %d: rel err %.3g, argmax %d (ref %d, margin "
        "%.3f)\n", dir, step, e, tu_argmax (logits, n_vocab), ref_id, margin);
    assert_true (e < tol);
    if (margin > 0.05f)
      assert_int_equal (tu_argmax (logits, n_vocab), ref_id);
    if (step < 7) {
      int32_t t = ref_id;
      assert_int_equal (vlm_llama_decode (md.m, kv, pool, &t, NULL, 1,
              logits, NULL), VLM_OK);
    }
  }
  print_message ("%s: max relative error %.3g over 8 rows\n", dir, worst);

  free (ids);
  free (logits);
  vlm_kv_cache_free (kv);
  vlm_pool_free (pool);
  free (greedy);
  free (ref);
  free (embd);
  free (chunks);
  close_model (&md);
}

static void
test_golden_ldpv2_spm (void **state)
{
  run_golden ("ldpv2-spm", "tinyldp-text-q8_0.gguf");
}

static void
test_golden_mlp_bpe (void **state)
{
  run_golden ("mlp-bpe", "tinymlp-text-q8_0.gguf");
}

/* ------------------------------------------------------------------ */
/* Batching and the KV cache                                           */
/* ------------------------------------------------------------------ */

static void
test_batch_equals_token_by_token (void **state)
{
  model md = open_golden_ldpv2 ();
  int nv = vlm_llama_n_vocab (md.m);
  enum { N = 40 };
  int32_t t[N];
  float *a = malloc (nv * sizeof (float)), *b = malloc (nv * sizeof (float));
  vlm_pool *pool = vlm_pool_new (2);
  make_tokens (t, N, nv, 1);

  fresh_logits (md.m, pool, t, N, a);
  vlm_kv_cache *kv = vlm_kv_cache_new (md.m, 64);
  for (int i = 0; i < N; i++)
    assert_int_equal (vlm_llama_decode (md.m, kv, pool, t + i, NULL, 1, b,
            NULL), VLM_OK);
  assert_int_equal (vlm_kv_cache_n_past (kv), N);
  double e = tu_rel_error (b, a, nv);
  print_message ("batched vs token by token: rel err %.3g\n", e);
  assert_true (e < 1e-4);

  vlm_kv_cache_free (kv);
  vlm_pool_free (pool);
  free (a);
  free (b);
  close_model (&md);
}

/* More positions than one internal batch, in one call and in pieces. */
static void
test_long_batch_split (void **state)
{
  model md = open_golden_ldpv2 ();
  int nv = vlm_llama_n_vocab (md.m);
  enum { N = 300 };
  int32_t t[N];
  float *a = malloc (nv * sizeof (float)), *b = malloc (nv * sizeof (float));
  make_tokens (t, N, nv, 2);

  fresh_logits (md.m, NULL, t, N, a);
  vlm_kv_cache *kv = vlm_kv_cache_new (md.m, N);
  assert_int_equal (vlm_llama_decode (md.m, kv, NULL, t, NULL, 170, NULL,
          NULL), VLM_OK);
  assert_int_equal (vlm_llama_decode (md.m, kv, NULL, t + 170, NULL, N - 170,
          b, NULL), VLM_OK);
  assert_true (tu_rel_error (b, a, nv) < 1e-4);

  vlm_kv_cache_free (kv);
  free (a);
  free (b);
  close_model (&md);
}

static void
test_truncate_and_recompute (void **state)
{
  model md = open_golden_ldpv2 ();
  int nv = vlm_llama_n_vocab (md.m);
  enum { N = 30, KEEP = 12 };
  int32_t t[N];
  float *a = malloc (nv * sizeof (float)), *b = malloc (nv * sizeof (float));
  make_tokens (t, N, nv, 3);
  vlm_kv_cache *kv = vlm_kv_cache_new (md.m, 32);
  assert_int_equal (vlm_kv_cache_n_ctx (kv), 32);

  assert_int_equal (vlm_llama_decode (md.m, kv, NULL, t, NULL, N, a, NULL),
      VLM_OK);
  vlm_kv_cache_truncate (kv, N + 1);    /* beyond n_past: ignored */
  assert_int_equal (vlm_kv_cache_n_past (kv), N);
  vlm_kv_cache_truncate (kv, -1);
  assert_int_equal (vlm_kv_cache_n_past (kv), N);
  vlm_kv_cache_truncate (kv, KEEP);
  assert_int_equal (vlm_kv_cache_n_past (kv), KEEP);
  /* a different continuation first, then the original one again */
  int32_t other[5] = { 5, 6, 7, 8, 9 };
  assert_int_equal (vlm_llama_decode (md.m, kv, NULL, other, NULL, 5, b,
          NULL), VLM_OK);
  vlm_kv_cache_truncate (kv, KEEP);
  assert_int_equal (vlm_llama_decode (md.m, kv, NULL, t + KEEP, NULL,
          N - KEEP, b, NULL), VLM_OK);
  assert_int_equal (vlm_kv_cache_n_past (kv), N);
  assert_true (tu_rel_error (b, a, nv) < 1e-5);

  vlm_kv_cache_free (kv);
  free (a);
  free (b);
  close_model (&md);
}

static void
test_context_full (void **state)
{
  model md = open_golden_ldpv2 ();
  int nv = vlm_llama_n_vocab (md.m);
  int32_t t[17];
  float *a = malloc (nv * sizeof (float)), *b = malloc (nv * sizeof (float));
  make_tokens (t, 17, nv, 4);
  fresh_logits (md.m, NULL, t, 16, a);

  vlm_kv_cache *kv = vlm_kv_cache_new (md.m, 16);
  assert_int_equal (vlm_llama_decode (md.m, kv, NULL, t, NULL, 10, NULL,
          NULL), VLM_OK);
  b[0] = 12345.0f;
  assert_int_equal (vlm_llama_decode (md.m, kv, NULL, t + 10, NULL, 7, b,
          NULL), VLM_ERR_CONTEXT_FULL);
  assert_int_equal (vlm_kv_cache_n_past (kv), 10);
  assert_true (b[0] == 12345.0f);       /* nothing written */
  /* exactly full is fine, and the cache was left intact */
  assert_int_equal (vlm_llama_decode (md.m, kv, NULL, t + 10, NULL, 6, b,
          NULL), VLM_OK);
  assert_int_equal (vlm_kv_cache_n_past (kv), 16);
  assert_true (tu_rel_error (b, a, nv) < 1e-5);
  assert_int_equal (vlm_llama_decode (md.m, kv, NULL, t, NULL, 1, b, NULL),
      VLM_ERR_CONTEXT_FULL);

  vlm_kv_cache_free (kv);
  free (a);
  free (b);
  close_model (&md);
}

static void
test_invalid_arguments (void **state)
{
  model md = open_golden_ldpv2 ();
  int nv = vlm_llama_n_vocab (md.m);
  vlm_kv_cache *kv = vlm_kv_cache_new (md.m, 8);
  float *embd = calloc ((size_t) vlm_llama_n_embd (md.m), sizeof (float));
  int32_t good[2] = { 1, 2 }, neg[2] = { 1, -1 }, big[2] = { 1, nv };

  assert_null (vlm_kv_cache_new (md.m, 0));
  assert_null (vlm_kv_cache_new (md.m, -3));
  assert_int_equal (vlm_llama_decode (md.m, kv, NULL, neg, NULL, 2, NULL,
          NULL), VLM_ERR_INVALID_ARG);
  assert_int_equal (vlm_llama_decode (md.m, kv, NULL, big, NULL, 2, NULL,
          NULL), VLM_ERR_INVALID_ARG);
  assert_int_equal (vlm_llama_decode (md.m, kv, NULL, good, NULL, 0, NULL,
          NULL), VLM_ERR_INVALID_ARG);
  assert_int_equal (vlm_llama_decode (md.m, kv, NULL, NULL, NULL, 1, NULL,
          NULL), VLM_ERR_INVALID_ARG);
  assert_int_equal (vlm_llama_decode (md.m, kv, NULL, good, embd, 1, NULL,
          NULL), VLM_ERR_INVALID_ARG);
  assert_int_equal (vlm_llama_decode (NULL, kv, NULL, good, NULL, 1, NULL,
          NULL), VLM_ERR_INVALID_ARG);
  assert_int_equal (vlm_kv_cache_n_past (kv), 0);
  /* an embedding row is a valid input */
  assert_int_equal (vlm_llama_decode (md.m, kv, NULL, NULL, embd, 1, NULL,
          NULL), VLM_OK);
  assert_int_equal (vlm_kv_cache_n_past (kv), 1);

  free (embd);
  vlm_kv_cache_free (kv);
  close_model (&md);
}

typedef struct {
  int calls;
  int stop_at;                  /* the call that says stop, 1-based */
} abort_counter;

static bool
abort_after (void *user_data)
{
  abort_counter *c = user_data;
  return ++c->calls >= c->stop_at;
}

static void
test_abort_between_layers (void **state)
{
  model md = open_golden_ldpv2 ();
  int nv = vlm_llama_n_vocab (md.m);
  int32_t t[10];
  float *a = malloc (nv * sizeof (float)), *b = malloc (nv * sizeof (float));
  make_tokens (t, 10, nv, 5);
  fresh_logits (md.m, NULL, t, 10, a);

  vlm_kv_cache *kv = vlm_kv_cache_new (md.m, 16);
  assert_int_equal (vlm_llama_decode (md.m, kv, NULL, t, NULL, 5, NULL,
          NULL), VLM_OK);
  /* stop before the first layer's MLP (checks come per half layer) */
  abort_counter c = { 0, 2 };
  vlm_abort_check ab = { abort_after, &c };
  assert_int_equal (vlm_llama_decode (md.m, kv, NULL, t + 5, NULL, 5, b,
          &ab), VLM_ERR_ABORTED);
  assert_int_equal (c.calls, 2);
  assert_int_equal (vlm_kv_cache_n_past (kv), 5);
  /* a check that never fires changes nothing */
  abort_counter never = { 0, 1000 };
  vlm_abort_check ab2 = { abort_after, &never };
  assert_int_equal (vlm_llama_decode (md.m, kv, NULL, t + 5, NULL, 5, b,
          &ab2), VLM_OK);
  assert_int_equal (never.calls, 2 * vlm_llama_n_layer (md.m));
  assert_int_equal (vlm_kv_cache_n_past (kv), 10);
  assert_true (tu_rel_error (b, a, nv) < 1e-5);

  vlm_kv_cache_free (kv);
  free (a);
  free (b);
  close_model (&md);
}

static void
test_thread_counts_agree (void **state)
{
  model md = open_golden_ldpv2 ();
  int nv = vlm_llama_n_vocab (md.m);
  int32_t t[21];
  float *a = malloc (nv * sizeof (float)), *b = malloc (nv * sizeof (float));
  make_tokens (t, 21, nv, 6);
  vlm_pool *p1 = vlm_pool_new (1), *p2 = vlm_pool_new (2);
  vlm_kv_cache *k1 = vlm_kv_cache_new (md.m, 32);
  vlm_kv_cache *k2 = vlm_kv_cache_new (md.m, 32);

  assert_int_equal (vlm_llama_decode (md.m, k1, p1, t, NULL, 20, a, NULL),
      VLM_OK);
  assert_int_equal (vlm_llama_decode (md.m, k2, p2, t, NULL, 20, b, NULL),
      VLM_OK);
  assert_memory_equal (a, b, nv * sizeof (float));
  assert_int_equal (vlm_llama_decode (md.m, k1, p1, t + 20, NULL, 1, a,
          NULL), VLM_OK);
  assert_int_equal (vlm_llama_decode (md.m, k2, p2, t + 20, NULL, 1, b,
          NULL), VLM_OK);
  assert_memory_equal (a, b, nv * sizeof (float));

  vlm_kv_cache_free (k1);
  vlm_kv_cache_free (k2);
  vlm_pool_free (p1);
  vlm_pool_free (p2);
  free (a);
  free (b);
  close_model (&md);
}

/* ------------------------------------------------------------------ */
/* Model validation, with small models written here                    */
/* ------------------------------------------------------------------ */

enum { W_EMBD = 32, W_LAYER = 2, W_FF = 64, W_HEAD = 4, W_HEAD_KV = 2,
  W_VOCAB = 64, W_KV = W_EMBD / W_HEAD * W_HEAD_KV };

/* What to change in the written model. */
typedef struct {
  const char *arch;             /* NULL: "llama" */
  const char *skip_key;         /* a key left out */
  const char *skip_tensor;      /* a tensor left out */
  const char *bad_shape;        /* a tensor with one row too many */
  const char *f16_tensor;       /* a tensor stored as F16 */
  int head_count;               /* 0: W_HEAD */
  float output_scale;           /* != 0: output.weight = scale * token_embd */
} model_opts;

typedef struct {
  char name[64];
  int64_t ne[2];
  int n_dims;
  uint32_t seed;
  float scale;
} tensor_spec;

static int
plan_tensors (tensor_spec *ts, const model_opts *o)
{
  int n = 0;
#define ADD(nd, a, b, sd, sc, ...) do { \
    snprintf (ts[n].name, sizeof ts[n].name, __VA_ARGS__); \
    ts[n].n_dims = nd; ts[n].ne[0] = a; ts[n].ne[1] = b; \
    ts[n].seed = sd; ts[n].scale = sc; n++; } while (0)
  ADD (2, W_EMBD, W_VOCAB, 1, 1.0f, "token_embd.weight");
  ADD (1, W_EMBD, 1, 2, 0.0f, "output_norm.weight");
  if (o->output_scale != 0.0f)
    ADD (2, W_EMBD, W_VOCAB, 1, o->output_scale, "output.weight");
  for (int l = 0; l < W_LAYER; l++) {
    uint32_t s = 10 + 10 * l;
    ADD (1, W_EMBD, 1, s, 0.0f, "blk.%d.attn_norm.weight", l);
    ADD (1, W_EMBD, 1, s + 1, 0.0f, "blk.%d.ffn_norm.weight", l);
    ADD (2, W_EMBD, W_EMBD, s + 2, 0.2f, "blk.%d.attn_q.weight", l);
    ADD (2, W_EMBD, W_KV, s + 3, 0.2f, "blk.%d.attn_k.weight", l);
    ADD (2, W_EMBD, W_KV, s + 4, 0.2f, "blk.%d.attn_v.weight", l);
    ADD (2, W_EMBD, W_EMBD, s + 5, 0.1f, "blk.%d.attn_output.weight", l);
    ADD (2, W_EMBD, W_FF, s + 6, 0.2f, "blk.%d.ffn_gate.weight", l);
    ADD (2, W_EMBD, W_FF, s + 7, 0.2f, "blk.%d.ffn_up.weight", l);
    ADD (2, W_FF, W_EMBD, s + 8, 0.1f, "blk.%d.ffn_down.weight", l);
  }
#undef ADD
  return n;
}

/* Values of a tensor: norms near 1, matrices uniform in +-scale. */
static void
fill_tensor (const tensor_spec *t, float *v, int64_t n)
{
  uint32_t x = t->seed * 2654435761u + 1;
  for (int64_t i = 0; i < n; i++) {
    x = x * 1664525u + 1013904223u;
    float u = (float) (x >> 8) / (float) (1 << 24) * 2.0f - 1.0f;
    v[i] = t->scale == 0.0f ? 1.0f + 0.1f * u : t->scale * u;
  }
}

static void
add_keys (vlm_gguf_writer *w, const model_opts *o)
{
  struct { const char *key; uint32_t v; } keys[] = {
    { "llama.context_length", 256 },
    { "llama.embedding_length", W_EMBD },
    { "llama.block_count", W_LAYER },
    { "llama.feed_forward_length", W_FF },
    { "llama.attention.head_count", o->head_count ? o->head_count : W_HEAD },
    { "llama.attention.head_count_kv", W_HEAD_KV },
  };
  assert_int_equal (vlm_gguf_writer_add_string (w, "general.architecture",
          o->arch ? o->arch : "llama"), VLM_GGUF_WRITER_OK);
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
    if (!o->skip_key || strcmp (o->skip_key, keys[i].key) != 0)
      assert_int_equal (vlm_gguf_writer_add_u32 (w, keys[i].key, keys[i].v),
          VLM_GGUF_WRITER_OK);
  assert_int_equal (vlm_gguf_writer_add_f32 (w, "llama.rope.freq_base",
          10000.0f), VLM_GGUF_WRITER_OK);
  if (!o->skip_key
      || strcmp (o->skip_key, "llama.attention.layer_norm_rms_epsilon"))
    assert_int_equal (vlm_gguf_writer_add_f32 (w,
            "llama.attention.layer_norm_rms_epsilon", 1e-5f),
        VLM_GGUF_WRITER_OK);
}

static bool
is (const char *a, const char *b)
{
  return a != NULL && strcmp (a, b) == 0;
}

/* Writes a small F32 llama model at `path` with the changes of `o`. */
static void
write_model (const char *path, const model_opts *o)
{
  tensor_spec ts[64];
  int nt = plan_tensors (ts, o);
  vlm_gguf_writer *w = vlm_gguf_writer_new ();
  assert_non_null (w);
  add_keys (w, o);
  for (int i = 0; i < nt; i++) {
    if (is (o->skip_tensor, ts[i].name))
      continue;
    if (is (o->bad_shape, ts[i].name))
      ts[i].ne[ts[i].n_dims - 1]++;
    vlm_type type = is (o->f16_tensor, ts[i].name) ? VLM_TYPE_F16
        : VLM_TYPE_F32;
    assert_int_equal (vlm_gguf_writer_add_tensor (w, ts[i].name, type,
            ts[i].n_dims, ts[i].ne), VLM_GGUF_WRITER_OK);
  }
  assert_int_equal (vlm_gguf_writer_begin (w, path), VLM_GGUF_WRITER_OK);
  for (int i = 0; i < nt; i++) {
    if (is (o->skip_tensor, ts[i].name))
      continue;
    int64_t n = ts[i].ne[0] * ts[i].ne[1];
    float *v = malloc ((size_t) n * sizeof (float));
    fill_tensor (&ts[i], v, n);
    if (is (o->f16_tensor, ts[i].name)) {
      uint16_t *h = (uint16_t *) v;     /* packs in place, front to back */
      for (int64_t j = 0; j < n; j++)
        h[j] = vlm_fp32_to_fp16 (v[j]);
      n /= 2;
    }
    assert_int_equal (vlm_gguf_writer_write_data (w, v,
            (size_t) n * sizeof (float)), VLM_GGUF_WRITER_OK);
    free (v);
  }
  assert_int_equal (vlm_gguf_writer_finish (w), VLM_GGUF_WRITER_OK);
  vlm_gguf_writer_free (w);
}

/* Writes a model with `o`, loads it, expects `want` and a message
 * containing `needle`. */
static void
expect_load_error (const model_opts *o, vlm_status want, const char *needle)
{
  char path[512], err[256] = "";
  vlm_gguf_status gs;
  vlm_status st = VLM_OK;
  write_model (tmp_path (path, sizeof path, "bad.gguf"), o);
  vlm_gguf *g = vlm_gguf_open (path, &gs, err, sizeof err);
  assert_non_null (g);
  assert_null (vlm_llama_load (g, &st, err, sizeof err));
  print_message ("load error: %s\n", err);
  assert_int_equal (st, want);
  if (strstr (err, needle) == NULL)
    fail_msg ("message \"%s\" does not name \"%s\"", err, needle);
  vlm_gguf_close (g);
  remove (path);
}

static void
test_load_wrong_architecture (void **state)
{
  model_opts o = { .arch = "gpt2" };
  expect_load_error (&o, VLM_ERR_UNSUPPORTED, "gpt2");
}

static void
test_load_missing_tensor (void **state)
{
  model_opts o = { .skip_tensor = "blk.1.ffn_up.weight" };
  expect_load_error (&o, VLM_ERR_MODEL, "blk.1.ffn_up.weight");
  model_opts o2 = { .skip_tensor = "token_embd.weight" };
  expect_load_error (&o2, VLM_ERR_MODEL, "token_embd.weight");
  model_opts o3 = { .skip_tensor = "output_norm.weight" };
  expect_load_error (&o3, VLM_ERR_MODEL, "output_norm.weight");
}

static void
test_load_wrong_shape (void **state)
{
  model_opts o = { .bad_shape = "blk.0.attn_k.weight" };
  expect_load_error (&o, VLM_ERR_MODEL, "blk.0.attn_k.weight has shape "
      "32 x 17, expected 32 x 16");
  model_opts o2 = { .bad_shape = "blk.1.ffn_norm.weight" };
  expect_load_error (&o2, VLM_ERR_MODEL, "blk.1.ffn_norm.weight");
  model_opts o3 = { .output_scale = 1.0f, .bad_shape = "output.weight" };
  expect_load_error (&o3, VLM_ERR_MODEL, "output.weight");
}

static void
test_load_wrong_type (void **state)
{
  model_opts o = { .f16_tensor = "blk.0.attn_norm.weight" };
  expect_load_error (&o, VLM_ERR_MODEL, "blk.0.attn_norm.weight has type "
      "f16, expected f32");
}

static void
test_load_bad_hparams (void **state)
{
  model_opts o = { .skip_key = "llama.block_count" };
  expect_load_error (&o, VLM_ERR_MODEL, "llama.block_count");
  model_opts o2 = { .skip_key = "llama.attention.layer_norm_rms_epsilon" };
  expect_load_error (&o2, VLM_ERR_MODEL,
      "llama.attention.layer_norm_rms_epsilon");
  model_opts o3 = { .head_count = 3 };         /* 32 % 3 != 0 */
  expect_load_error (&o3, VLM_ERR_MODEL, "llama.attention.head_count");
  model_opts o4 = { .head_count = 1000 };
  expect_load_error (&o4, VLM_ERR_MODEL, "llama.attention.head_count");
}

/* With output.weight = 2 token_embd (F32, exact), logits double. */
static void
test_untied_output (void **state)
{
  char path[512];
  model_opts tied = { 0 }, untied = { .output_scale = 2.0f };
  float a[W_VOCAB], b[W_VOCAB];
  int32_t t[6] = { 1, 5, 9, 33, 2, 63 };

  write_model (tmp_path (path, sizeof path, "tied.gguf"), &tied);
  model mt = open_model (path);
  fresh_logits (mt.m, NULL, t, 6, a);
  assert_int_equal (vlm_llama_n_vocab (mt.m), W_VOCAB);
  assert_int_equal (vlm_llama_n_embd (mt.m), W_EMBD);
  assert_int_equal (vlm_llama_n_layer (mt.m), W_LAYER);
  assert_int_equal (vlm_llama_n_ctx_train (mt.m), 256);
  close_model (&mt);
  remove (path);

  write_model (tmp_path (path, sizeof path, "untied.gguf"), &untied);
  model mu = open_model (path);
  fresh_logits (mu.m, NULL, t, 6, b);
  close_model (&mu);
  remove (path);

  for (int i = 0; i < W_VOCAB; i++)
    assert_float_equal (b[i], 2.0f * a[i], 1e-5f * fabsf (a[i]) + 1e-6f);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_golden_ldpv2_spm),
    cmocka_unit_test (test_golden_mlp_bpe),
    cmocka_unit_test (test_batch_equals_token_by_token),
    cmocka_unit_test (test_long_batch_split),
    cmocka_unit_test (test_truncate_and_recompute),
    cmocka_unit_test (test_context_full),
    cmocka_unit_test (test_invalid_arguments),
    cmocka_unit_test (test_abort_between_layers),
    cmocka_unit_test (test_thread_counts_agree),
    cmocka_unit_test (test_load_wrong_architecture),
    cmocka_unit_test (test_load_missing_tensor),
    cmocka_unit_test (test_load_wrong_shape),
    cmocka_unit_test (test_load_wrong_type),
    cmocka_unit_test (test_load_bad_hparams),
    cmocka_unit_test (test_untied_output),
  };
  return cmocka_run_group_tests (tests, group_setup, group_teardown);
}

/* gst-vlm — random-weight test model generator. */
#include "model-gen.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gguf-writer.h"
#include "gguf.h"
#include "quant.h"
#include "rng.h"

#define MAX_THREADS 16
/* Tensors smaller than this many elements are generated inline. */
#define PARALLEL_MIN_ELEMS (1 << 16)

/* llama.cpp file type numbers (general.file_type) */
#define FTYPE_F16 1
#define FTYPE_Q4_0 2
#define FTYPE_Q8_0 7
#define FTYPE_Q4_K_M 15

/* tokenizer.ggml.token_type values */
#define TOKEN_NORMAL 1
#define TOKEN_CONTROL 3
#define TOKEN_USER_DEFINED 4
#define TOKEN_UNUSED 5

/* ------------------------------------------------------------------ */
/* Presets                                                             */
/* ------------------------------------------------------------------ */

typedef enum {
  PROJ_LDPV2,                   /* MobileVLM v2: mlp.0, GELU, mlp.2, peg */
  PROJ_MLP,                     /* LLaVA: mm.0, GELU, mm.2 */
  PROJ_IDEFICS3,                /* SmolVLM: pixel shuffle, mm.model.fc */
} projector_kind;

typedef struct {
  const char *name;
  const char *description;

  /* text decoder (llama) */
  uint32_t n_vocab;             /* size of the built-in vocabulary */
  uint32_t n_ctx, n_embd, n_layer, n_ff, n_head, n_head_kv;
  float rope_base, rms_eps;
  bool tied_output;             /* no output.weight: token_embd reused */

  /* vision tower + projector (clip) */
  projector_kind proj;
  uint32_t image_size, patch_size;
  uint32_t v_embd, v_ff, v_layer, v_head;
  float v_eps;
  bool use_gelu;                /* false: quick-GELU */
  float mean[3], std[3];
  uint32_t scale_factor;        /* idefics3 pixel-shuffle factor */
} preset;

#define HALF3 { 0.5f, 0.5f, 0.5f }
#define CLIP_MEAN { 0.48145466f, 0.4578275f, 0.40821073f }
#define CLIP_STD { 0.26862954f, 0.26130258f, 0.27577711f }

static const preset presets[] = {
  {
    .name = "tiny-ldpv2",
    .description = "small LDPv2 (MobileVLM-style) pair shaped like "
        "golden/ldpv2-spm",
    .n_vocab = 512, .n_ctx = 8192, .n_embd = 64, .n_layer = 2, .n_ff = 128,
    .n_head = 4, .n_head_kv = 2, .rope_base = 100000.0f, .rms_eps = 1e-5f,
    .tied_output = true,
    .proj = PROJ_LDPV2, .image_size = 336, .patch_size = 14,
    .v_embd = 64, .v_ff = 128, .v_layer = 2, .v_head = 4, .v_eps = 1e-6f,
    .use_gelu = true, .mean = HALF3, .std = HALF3,
  },
  {
    .name = "tiny-mlp",
    .description = "small LLaVA-MLP pair shaped like golden/mlp-bpe",
    .n_vocab = 512, .n_ctx = 8192, .n_embd = 96, .n_layer = 2, .n_ff = 192,
    .n_head = 6, .n_head_kv = 2, .rope_base = 100000.0f, .rms_eps = 1e-5f,
    .tied_output = true,
    .proj = PROJ_MLP, .image_size = 224, .patch_size = 14,
    .v_embd = 64, .v_ff = 128, .v_layer = 3, .v_head = 4, .v_eps = 1e-6f,
    .use_gelu = true, .mean = HALF3, .std = HALF3,
  },
  {
    .name = "tiny-idefics3",
    .description = "small SmolVLM-style pair (SigLIP tower, idefics3 "
        "projector, scale 2), text rows of 256 for k-quants",
    .n_vocab = 512, .n_ctx = 8192, .n_embd = 256, .n_layer = 2, .n_ff = 512,
    .n_head = 4, .n_head_kv = 2, .rope_base = 100000.0f, .rms_eps = 1e-5f,
    .tied_output = true,
    .proj = PROJ_IDEFICS3, .image_size = 128, .patch_size = 16,
    .v_embd = 64, .v_ff = 128, .v_layer = 2, .v_head = 4, .v_eps = 1e-6f,
    .use_gelu = true, .mean = HALF3, .std = HALF3, .scale_factor = 2,
  },
  {
    .name = "mobilevlm-v2-1.7b",
    .description = "shape-true MobileVLM V2 1.7B: CLIP ViT-L/14@336 (23 of "
        "24 layers stored), LDPv2, MobileLLaMA 1.4B (untied output)",
    .n_vocab = 32000, .n_ctx = 2048, .n_embd = 2048, .n_layer = 24,
    .n_ff = 5632, .n_head = 16, .n_head_kv = 16, .rope_base = 10000.0f,
    .rms_eps = 1e-6f, .tied_output = false,
    .proj = PROJ_LDPV2, .image_size = 336, .patch_size = 14,
    .v_embd = 1024, .v_ff = 4096, .v_layer = 23, .v_head = 16,
    .v_eps = 1e-5f, .use_gelu = false, .mean = CLIP_MEAN, .std = CLIP_STD,
  },
  {
    .name = "smolvlm-256m",
    .description = "shape-true SmolVLM 256M: SigLIP-B/16@512, idefics3 "
        "scale 4, SmolLM2-135M",
    .n_vocab = 49152, .n_ctx = 8192, .n_embd = 576, .n_layer = 30,
    .n_ff = 1536, .n_head = 9, .n_head_kv = 3, .rope_base = 100000.0f,
    .rms_eps = 1e-5f, .tied_output = true,
    .proj = PROJ_IDEFICS3, .image_size = 512, .patch_size = 16,
    .v_embd = 768, .v_ff = 3072, .v_layer = 12, .v_head = 12,
    .v_eps = 1e-6f, .use_gelu = true, .mean = HALF3, .std = HALF3,
    .scale_factor = 4,
  },
};

#define N_PRESETS (sizeof presets / sizeof presets[0])

static const preset *
find_preset (const char *name)
{
  for (size_t i = 0; i < N_PRESETS; i++)
    if (strcmp (presets[i].name, name) == 0)
      return &presets[i];
  return NULL;
}

static const char *
projector_name (projector_kind k)
{
  switch (k) {
    case PROJ_LDPV2:
      return "ldpv2";
    case PROJ_MLP:
      return "mlp";
    case PROJ_IDEFICS3:
      return "idefics3";
  }
  return "unknown";
}

/* ------------------------------------------------------------------ */
/* Errors                                                              */
/* ------------------------------------------------------------------ */

typedef struct {
  char *buf;
  size_t size;
} errbuf;

static vlm_gen_status
set_err (errbuf *e, vlm_gen_status s, const char *fmt, ...)
    __attribute__((format (printf, 3, 4)));

static vlm_gen_status
set_err (errbuf *e, vlm_gen_status s, const char *fmt, ...)
{
  va_list ap;

  if (e->buf != NULL && e->size > 0) {
    va_start (ap, fmt);
    vsnprintf (e->buf, e->size, fmt, ap);
    va_end (ap);
  }
  return s;
}

/* Maps a writer failure onto a generator status, keeping its message. */
static vlm_gen_status
writer_err (errbuf *e, vlm_gguf_writer *w, vlm_gguf_writer_status s)
{
  vlm_gen_status g = s == VLM_GGUF_WRITER_ERR_IO ? VLM_GEN_ERR_IO
      : s == VLM_GGUF_WRITER_ERR_NOMEM ? VLM_GEN_ERR_NOMEM : VLM_GEN_ERR_ARG;
  const char *msg = w ? vlm_gguf_writer_error (w) : "";

  return set_err (e, g, "%s", msg[0] ? msg : vlm_gguf_writer_status_str (s));
}

/* ------------------------------------------------------------------ */
/* Pseudo-random numbers                                               */
/* ------------------------------------------------------------------ */


static uint64_t
mix_seed (uint64_t a, uint64_t b)
{
  uint64_t s = a ^ (b * 0xd1b54a32d192ed03ull);
  vlm_splitmix64 (&s);
  return vlm_splitmix64 (&s);
}

/* FNV-1a: tensor seeds follow names, not positions. */
static uint64_t
hash_name (const char *s)
{
  uint64_t h = 0xcbf29ce484222325ull;
  for (; *s; s++)
    h = (h ^ (uint8_t) * s) * 0x100000001b3ull;
  return h;
}

/* Roughly standard-normal: the sum of four 16-bit uniforms, centred and
 * scaled to unit variance (Irwin-Hall, bounded by +-3.46). */
static float
rng_normal (vlm_rng *r)
{
  uint64_t v = vlm_rng_next (r);
  uint32_t sum = (uint32_t) (v & 0xffff) + (uint32_t) ((v >> 16) & 0xffff)
      + (uint32_t) ((v >> 32) & 0xffff) + (uint32_t) (v >> 48);
  return ((float) sum - 131070.0f) * (1.0f / 37837.23f);
}

/* ------------------------------------------------------------------ */
/* Tensor plans                                                        */
/* ------------------------------------------------------------------ */

typedef struct {
  char name[64];
  vlm_type type;
  uint32_t n_dims;
  int64_t ne[4];
  float mean, std;              /* value distribution */
} tensor_spec;

typedef struct {
  tensor_spec *t;
  size_t n, cap;
  bool oom;
} plan;

static tensor_spec *
plan_add (plan *p, vlm_type type, float mean, float std, uint32_t n_dims,
    int64_t ne0, int64_t ne1, int64_t ne2, int64_t ne3,
    const char *fmt, ...) __attribute__((format (printf, 10, 11)));

/* Appends a tensor; a failed allocation is remembered in p->oom. */
static tensor_spec *
plan_add (plan *p, vlm_type type, float mean, float std, uint32_t n_dims,
    int64_t ne0, int64_t ne1, int64_t ne2, int64_t ne3, const char *fmt, ...)
{
  va_list ap;

  if (p->oom)
    return NULL;
  if (p->n == p->cap) {
    size_t cap = p->cap ? 2 * p->cap : 64;
    tensor_spec *t = realloc (p->t, cap * sizeof *t);
    if (t == NULL) {
      p->oom = true;
      return NULL;
    }
    p->t = t;
    p->cap = cap;
  }
  tensor_spec *s = &p->t[p->n++];
  memset (s, 0, sizeof *s);
  va_start (ap, fmt);
  vsnprintf (s->name, sizeof s->name, fmt, ap);
  va_end (ap);
  s->type = type;
  s->mean = mean;
  s->std = std;
  s->n_dims = n_dims;
  s->ne[0] = ne0;
  s->ne[1] = ne1;
  s->ne[2] = ne2;
  s->ne[3] = ne3;
  return s;
}

/* Shorthands: F32 vectors, 2-D matrices of a given type. */
#define VEC(p, mean, std, n, ...) \
  plan_add (p, VLM_TYPE_F32, mean, std, 1, n, 1, 1, 1, __VA_ARGS__)
#define MAT(p, type, std, n0, n1, ...) \
  plan_add (p, type, 0.0f, std, 2, n0, n1, 1, 1, __VA_ARGS__)

/* Weight scales: 1/sqrt(fan_in); writers into a residual stream are
 * further damped by the depth so the stream grows slowly. */
static float
std_in (int64_t fan_in)
{
  return 1.0f / sqrtf ((float) fan_in);
}

static float
std_residual (int64_t fan_in, uint32_t n_layer)
{
  return std_in (fan_in) / sqrtf (2.0f * (float) n_layer);
}

#define NORM_STD 0.02f          /* norm weights: 1 +- this */
#define BIAS_STD 0.02f
#define EMBD_STD 0.02f

/* ------------------------------------------------------------------ */
/* Text model types                                                    */
/* ------------------------------------------------------------------ */

/* Which matrix of the decoder a tensor is, for the type choice. */
typedef enum {
  ROLE_PLAIN,
  ROLE_SENSITIVE,               /* attn_v, ffn_down: more bits in Q4_K_M */
  ROLE_OUTPUT,                  /* output (or token_embd when tied) */
} matrix_role;

/* Type of a text matrix with rows of `row_len` under the requested
 * type, falling back when rows do not fill whole blocks. */
static vlm_type
text_matrix_type (vlm_gen_type req, matrix_role role, int64_t row_len)
{
  vlm_type t;

  switch (req) {
    case VLM_GEN_TYPE_F16:
      return VLM_TYPE_F16;
    case VLM_GEN_TYPE_Q4_0:
      t = VLM_TYPE_Q4_0;
      break;
    case VLM_GEN_TYPE_Q4_K:
      t = role == ROLE_PLAIN ? VLM_TYPE_Q4_K : VLM_TYPE_Q6_K;
      break;
    case VLM_GEN_TYPE_Q8_0:
    default:
      t = VLM_TYPE_Q8_0;
      break;
  }
  if (row_len % vlm_type_block_elems (t) == 0)
    return t;
  if (row_len % 32 == 0)
    return VLM_TYPE_Q8_0;
  return VLM_TYPE_F16;
}

static uint32_t
file_type_number (vlm_gen_type t)
{
  switch (t) {
    case VLM_GEN_TYPE_F16:
      return FTYPE_F16;
    case VLM_GEN_TYPE_Q4_0:
      return FTYPE_Q4_0;
    case VLM_GEN_TYPE_Q4_K:
      return FTYPE_Q4_K_M;
    case VLM_GEN_TYPE_Q8_0:
    default:
      return FTYPE_Q8_0;
  }
}

static void
plan_text (plan *p, const preset *ps, vlm_gen_type req, int64_t n_vocab)
{
  int64_t n = ps->n_embd, ff = ps->n_ff;
  int64_t n_kv = (int64_t) (ps->n_embd / ps->n_head) * ps->n_head_kv;
  uint32_t L = ps->n_layer;

  MAT (p, text_matrix_type (req, ps->tied_output ? ROLE_OUTPUT : ROLE_PLAIN,
          n), EMBD_STD, n, n_vocab, "token_embd.weight");
  VEC (p, 1.0f, NORM_STD, n, "output_norm.weight");
  if (!ps->tied_output)
    MAT (p, text_matrix_type (req, ROLE_OUTPUT, n), std_in (n), n, n_vocab,
        "output.weight");

  vlm_type plain = text_matrix_type (req, ROLE_PLAIN, n);
  vlm_type v_type = text_matrix_type (req, ROLE_SENSITIVE, n);
  vlm_type down_type = text_matrix_type (req, ROLE_SENSITIVE, ff);
  for (uint32_t l = 0; l < L; l++) {
    VEC (p, 1.0f, NORM_STD, n, "blk.%u.attn_norm.weight", l);
    VEC (p, 1.0f, NORM_STD, n, "blk.%u.ffn_norm.weight", l);
    MAT (p, plain, std_in (n), n, n, "blk.%u.attn_q.weight", l);
    MAT (p, plain, std_in (n), n, n_kv, "blk.%u.attn_k.weight", l);
    MAT (p, v_type, std_in (n), n, n_kv, "blk.%u.attn_v.weight", l);
    MAT (p, plain, std_residual (n, L), n, n, "blk.%u.attn_output.weight", l);
    MAT (p, plain, std_in (n), n, ff, "blk.%u.ffn_gate.weight", l);
    MAT (p, plain, std_in (n), n, ff, "blk.%u.ffn_up.weight", l);
    MAT (p, down_type, std_residual (ff, L), ff, n,
        "blk.%u.ffn_down.weight", l);
  }
}

/* ------------------------------------------------------------------ */
/* Vision model plan                                                   */
/* ------------------------------------------------------------------ */

#define F16 VLM_TYPE_F16

static void
plan_vision_layers (plan *p, const preset *ps)
{
  int64_t n = ps->v_embd, ff = ps->v_ff;
  uint32_t L = ps->v_layer;
  static const char *const attn[] = { "attn_q", "attn_k", "attn_v" };

  for (uint32_t l = 0; l < L; l++) {
    for (int a = 0; a < 3; a++) {
      MAT (p, F16, std_in (n), n, n, "v.blk.%u.%s.weight", l, attn[a]);
      VEC (p, 0.0f, BIAS_STD, n, "v.blk.%u.%s.bias", l, attn[a]);
    }
    MAT (p, F16, std_residual (n, L), n, n, "v.blk.%u.attn_out.weight", l);
    VEC (p, 0.0f, BIAS_STD, n, "v.blk.%u.attn_out.bias", l);
    VEC (p, 1.0f, NORM_STD, n, "v.blk.%u.ln1.weight", l);
    VEC (p, 0.0f, BIAS_STD, n, "v.blk.%u.ln1.bias", l);
    VEC (p, 1.0f, NORM_STD, n, "v.blk.%u.ln2.weight", l);
    VEC (p, 0.0f, BIAS_STD, n, "v.blk.%u.ln2.bias", l);
    MAT (p, F16, std_in (n), n, ff, "v.blk.%u.ffn_up.weight", l);
    VEC (p, 0.0f, BIAS_STD, ff, "v.blk.%u.ffn_up.bias", l);
    MAT (p, F16, std_residual (ff, L), ff, n, "v.blk.%u.ffn_down.weight", l);
    VEC (p, 0.0f, BIAS_STD, n, "v.blk.%u.ffn_down.bias", l);
  }
}

static void
plan_vision (plan *p, const preset *ps, int64_t n_text)
{
  int64_t n = ps->v_embd, pz = ps->patch_size;
  int64_t grid = ps->image_size / ps->patch_size;
  bool siglip = ps->proj == PROJ_IDEFICS3;
  /* CLIP prepends a class token; SigLIP has none */
  int64_t n_pos = grid * grid + (siglip ? 0 : 1);

  plan_add (p, F16, 0.0f, std_in (pz * pz * 3), 4, pz, pz, 3, n,
      "v.patch_embd.weight");
  VEC (p, 0.0f, BIAS_STD, n, "v.patch_embd.bias");
  if (!siglip) {
    VEC (p, 0.0f, EMBD_STD, n, "v.class_embd");
    VEC (p, 1.0f, NORM_STD, n, "v.pre_ln.weight");
    VEC (p, 0.0f, BIAS_STD, n, "v.pre_ln.bias");
  }
  plan_add (p, VLM_TYPE_F32, 0.0f, EMBD_STD, 2, n, n_pos, 1, 1,
      "v.position_embd.weight");
  plan_vision_layers (p, ps);

  switch (ps->proj) {
    case PROJ_LDPV2:
      MAT (p, F16, std_in (n), n, n_text, "mm.model.mlp.0.weight");
      VEC (p, 0.0f, BIAS_STD, n_text, "mm.model.mlp.0.bias");
      MAT (p, F16, std_in (n_text), n_text, n_text, "mm.model.mlp.2.weight");
      VEC (p, 0.0f, BIAS_STD, n_text, "mm.model.mlp.2.bias");
      /* depthwise 3x3: one input channel per output channel */
      plan_add (p, F16, 0.0f, std_in (9), 4, 3, 3, 1, n_text,
          "mm.model.peg.0.weight");
      VEC (p, 0.0f, BIAS_STD, n_text, "mm.model.peg.0.bias");
      break;
    case PROJ_MLP:
      MAT (p, F16, std_in (n), n, n_text, "mm.0.weight");
      VEC (p, 0.0f, BIAS_STD, n_text, "mm.0.bias");
      MAT (p, F16, std_in (n_text), n_text, n_text, "mm.2.weight");
      VEC (p, 0.0f, BIAS_STD, n_text, "mm.2.bias");
      break;
    case PROJ_IDEFICS3:{
      int64_t in = n * ps->scale_factor * ps->scale_factor;
      VEC (p, 1.0f, NORM_STD, n, "v.post_ln.weight");
      VEC (p, 0.0f, BIAS_STD, n, "v.post_ln.bias");
      MAT (p, F16, std_in (in), in, n_text, "mm.model.fc.weight");
      break;
    }
  }
}

/* ------------------------------------------------------------------ */
/* Built-in byte-level vocabulary                                      */
/* ------------------------------------------------------------------ */

#define G "\xc4\xa0"            /* U+0120, GPT-2's stand-in for a space */

/* A few merges (rank order), so BPE has something to do. */
static const char *const builtin_merges[] = {
  G " t", G " a", "h e", "i n", "r e", "o n", G "t he", "e r", G " s",
  "a t", G " w", G " o",
};

#define N_MERGES (sizeof builtin_merges / sizeof builtin_merges[0])

static const struct {
  const char *text;
  int32_t type;
} builtin_specials[] = {
  { "<|endoftext|>", TOKEN_CONTROL },
  { "<|im_start|>", TOKEN_CONTROL },
  { "<|im_end|>", TOKEN_CONTROL },
  { "<image>", TOKEN_USER_DEFINED },
  { "<end_of_utterance>", TOKEN_CONTROL },
  { "<fake_token_around_image>", TOKEN_USER_DEFINED },
};

#define N_SPECIALS (sizeof builtin_specials / sizeof builtin_specials[0])
#define SPECIAL_BOS 0           /* <|endoftext|> */
#define SPECIAL_EOS 2           /* <|im_end|> */

typedef struct {
  char **tokens;
  int32_t *types;
  size_t n;
  uint32_t bos, eos;
} builtin_vocab;

static void
builtin_vocab_clear (builtin_vocab *v)
{
  if (v->tokens != NULL)
    for (size_t i = 0; i < v->n; i++)
      free (v->tokens[i]);
  free (v->tokens);
  free (v->types);
  memset (v, 0, sizeof *v);
}

/* GPT-2's byte-to-unicode mapping: printable bytes stand for themselves,
 * the other 68 map to U+0100 upwards in byte order. */
static bool
byte_is_printable (int b)
{
  return (b >= 33 && b <= 126) || (b >= 161 && b <= 172)
      || (b >= 174 && b <= 255);
}

/* Code point of byte token `i`, in GPT-2's token order: first the 188
 * printable bytes, then the 68 remapped ones. */
static uint32_t
byte_token_codepoint (int i)
{
  int k = 0, extra = 0;

  for (int b = 0; b < 256; b++)
    if (byte_is_printable (b) && k++ == i)
      return (uint32_t) b;
  for (int b = 0; b < 256; b++) {
    if (byte_is_printable (b))
      continue;
    if (k++ == i)
      return 256u + (uint32_t) extra;
    extra++;
  }
  return 0;
}

static char *
utf8_encode (uint32_t cp)
{
  char *s = malloc (4);

  if (s == NULL)
    return NULL;
  if (cp < 0x80) {
    s[0] = (char) cp;
    s[1] = '\0';
  } else {
    s[0] = (char) (0xc0 | (cp >> 6));
    s[1] = (char) (0x80 | (cp & 0x3f));
    s[2] = '\0';
  }
  return s;
}

/* "A B" -> "AB" */
static char *
merge_result (const char *merge)
{
  size_t len = strlen (merge);
  char *s = malloc (len);
  const char *sp = strchr (merge, ' ');

  if (s == NULL)
    return NULL;
  memcpy (s, merge, (size_t) (sp - merge));
  memcpy (s + (sp - merge), sp + 1, len - (size_t) (sp - merge));
  return s;
}

static vlm_gen_status
builtin_vocab_build (builtin_vocab *v, size_t n_vocab, errbuf *e)
{
  size_t need = 256 + N_MERGES + N_SPECIALS, k = 0;

  memset (v, 0, sizeof *v);
  if (n_vocab < need)
    return set_err (e, VLM_GEN_ERR_ARG,
        "built-in vocabulary needs at least %zu tokens", need);
  v->tokens = calloc (n_vocab, sizeof *v->tokens);
  v->types = calloc (n_vocab, sizeof *v->types);
  if (v->tokens == NULL || v->types == NULL)
    goto oom;
  v->n = n_vocab;

  for (int i = 0; i < 256; i++, k++) {
    v->tokens[k] = utf8_encode (byte_token_codepoint (i));
    v->types[k] = TOKEN_NORMAL;
  }
  for (size_t i = 0; i < N_MERGES; i++, k++) {
    v->tokens[k] = merge_result (builtin_merges[i]);
    v->types[k] = TOKEN_NORMAL;
  }
  v->bos = (uint32_t) k + SPECIAL_BOS;
  v->eos = (uint32_t) k + SPECIAL_EOS;
  for (size_t i = 0; i < N_SPECIALS; i++, k++) {
    v->tokens[k] = strdup (builtin_specials[i].text);
    v->types[k] = builtin_specials[i].type;
  }
  /* padding keeps replicas shape-true */
  for (size_t u = 0; k < n_vocab; k++, u++) {
    char buf[32];
    snprintf (buf, sizeof buf, "<|unused_%zu|>", u);
    v->tokens[k] = strdup (buf);
    v->types[k] = TOKEN_UNUSED;
  }
  for (size_t i = 0; i < n_vocab; i++)
    if (v->tokens[i] == NULL)
      goto oom;
  return VLM_GEN_OK;

oom:
  builtin_vocab_clear (v);
  return set_err (e, VLM_GEN_ERR_NOMEM, "out of memory");
}

static vlm_gguf_writer_status
builtin_vocab_write (vlm_gguf_writer *w, const builtin_vocab *v)
{
  vlm_gguf_writer_status s;

  if ((s = vlm_gguf_writer_add_string (w, "tokenizer.ggml.model", "gpt2"))
      || (s = vlm_gguf_writer_add_string (w, "tokenizer.ggml.pre", "gpt-2"))
      || (s = vlm_gguf_writer_add_array_string (w, "tokenizer.ggml.tokens",
                  (const char *const *) v->tokens, v->n))
      || (s = vlm_gguf_writer_add_array (w, "tokenizer.ggml.token_type",
                  VLM_GGUF_INT32, v->types, v->n))
      || (s = vlm_gguf_writer_add_array_string (w, "tokenizer.ggml.merges",
                  builtin_merges, N_MERGES))
      || (s = vlm_gguf_writer_add_u32 (w, "tokenizer.ggml.bos_token_id",
                  v->bos))
      || (s = vlm_gguf_writer_add_u32 (w, "tokenizer.ggml.eos_token_id",
                  v->eos)))
    return s;
  return VLM_GGUF_WRITER_OK;
}

/* ------------------------------------------------------------------ */
/* Vocabulary from a GGUF file                                         */
/* ------------------------------------------------------------------ */

/* Copies metadata entry `i` of `g` to `w` with its exact type. */
static vlm_gguf_writer_status
copy_kv (vlm_gguf_writer *w, const vlm_gguf *g, int64_t i)
{
  const char *key = vlm_gguf_key (g, i);
  uint64_t u = 0;
  int64_t s = 0;
  double f = 0;
  bool b = false;
  vlm_gguf_str str = { 0 };
  vlm_gguf_array arr = { 0 };

  switch (vlm_gguf_kv_type (g, i)) {
    case VLM_GGUF_UINT8:
      vlm_gguf_kv_u64 (g, i, &u);
      return vlm_gguf_writer_add_u8 (w, key, (uint8_t) u);
    case VLM_GGUF_UINT16:
      vlm_gguf_kv_u64 (g, i, &u);
      return vlm_gguf_writer_add_u16 (w, key, (uint16_t) u);
    case VLM_GGUF_UINT32:
      vlm_gguf_kv_u64 (g, i, &u);
      return vlm_gguf_writer_add_u32 (w, key, (uint32_t) u);
    case VLM_GGUF_UINT64:
      vlm_gguf_kv_u64 (g, i, &u);
      return vlm_gguf_writer_add_u64 (w, key, u);
    case VLM_GGUF_INT8:
      vlm_gguf_kv_i64 (g, i, &s);
      return vlm_gguf_writer_add_i8 (w, key, (int8_t) s);
    case VLM_GGUF_INT16:
      vlm_gguf_kv_i64 (g, i, &s);
      return vlm_gguf_writer_add_i16 (w, key, (int16_t) s);
    case VLM_GGUF_INT32:
      vlm_gguf_kv_i64 (g, i, &s);
      return vlm_gguf_writer_add_i32 (w, key, (int32_t) s);
    case VLM_GGUF_INT64:
      vlm_gguf_kv_i64 (g, i, &s);
      return vlm_gguf_writer_add_i64 (w, key, s);
    case VLM_GGUF_FLOAT32:
      vlm_gguf_kv_f64 (g, i, &f);
      return vlm_gguf_writer_add_f32 (w, key, (float) f);
    case VLM_GGUF_FLOAT64:
      vlm_gguf_kv_f64 (g, i, &f);
      return vlm_gguf_writer_add_f64 (w, key, f);
    case VLM_GGUF_BOOL:
      vlm_gguf_kv_bool (g, i, &b);
      return vlm_gguf_writer_add_bool (w, key, b);
    case VLM_GGUF_STRING:
      vlm_gguf_kv_str (g, i, &str);
      return vlm_gguf_writer_add_str (w, key, str.ptr, str.len);
    case VLM_GGUF_ARRAY:
      vlm_gguf_kv_array (g, i, &arr);
      if (arr.type == VLM_GGUF_STRING)
        return vlm_gguf_writer_add_array_str (w, key, arr.strs, arr.n);
      return vlm_gguf_writer_add_array (w, key, arr.type, arr.data, arr.n);
  }
  return VLM_GGUF_WRITER_ERR_INVALID;
}

/* Opens a vocabulary file and checks it has a token list. */
static vlm_gguf *
vocab_open (const char *path, int64_t *n_vocab, vlm_gen_status *st,
    errbuf *e)
{
  char msg[256] = "";
  vlm_gguf_status gs;
  vlm_gguf_array tokens;
  vlm_gguf *g = vlm_gguf_open (path, &gs, msg, sizeof msg);

  if (g == NULL) {
    *st = set_err (e, VLM_GEN_ERR_VOCAB, "vocabulary %s: %s", path,
        msg[0] ? msg : vlm_gguf_status_str (gs));
    return NULL;
  }
  if (vlm_gguf_get_array (g, "tokenizer.ggml.tokens", &tokens)
      != VLM_GGUF_OK || tokens.type != VLM_GGUF_STRING || tokens.n == 0
      || tokens.n > INT32_MAX) {
    *st = set_err (e, VLM_GEN_ERR_VOCAB,
        "vocabulary %s: no usable tokenizer.ggml.tokens string array", path);
    vlm_gguf_close (g);
    return NULL;
  }
  *n_vocab = (int64_t) tokens.n;
  return g;
}

static vlm_gguf_writer_status
vocab_copy (vlm_gguf_writer *w, const vlm_gguf *g)
{
  static const char prefix[] = "tokenizer.";

  for (int64_t i = 0; i < vlm_gguf_n_kv (g); i++) {
    if (strncmp (vlm_gguf_key (g, i), prefix, sizeof prefix - 1) != 0)
      continue;
    vlm_gguf_writer_status s = copy_kv (w, g, i);
    if (s != VLM_GGUF_WRITER_OK)
      return s;
  }
  return VLM_GGUF_WRITER_OK;
}

/* ------------------------------------------------------------------ */
/* Metadata                                                            */
/* ------------------------------------------------------------------ */

/* The tokenizer comes from a file or from the built-in vocabulary. */
typedef struct {
  const vlm_gguf *file;
  const builtin_vocab *builtin;
  int64_t n_vocab;
} vocab_source;

static vlm_gguf_writer_status
text_keys (vlm_gguf_writer *w, const preset *ps, vlm_gen_type type,
    const vocab_source *vs)
{
  vlm_gguf_writer_status s;

  if ((s = vlm_gguf_writer_add_string (w, "general.architecture", "llama"))
      || (s = vlm_gguf_writer_add_string (w, "general.name", ps->name))
      || (s = vlm_gguf_writer_add_u32 (w, "llama.context_length", ps->n_ctx))
      || (s = vlm_gguf_writer_add_u32 (w, "llama.embedding_length",
                  ps->n_embd))
      || (s = vlm_gguf_writer_add_u32 (w, "llama.block_count", ps->n_layer))
      || (s = vlm_gguf_writer_add_u32 (w, "llama.feed_forward_length",
                  ps->n_ff))
      || (s = vlm_gguf_writer_add_u32 (w, "llama.attention.head_count",
                  ps->n_head))
      || (s = vlm_gguf_writer_add_u32 (w, "llama.attention.head_count_kv",
                  ps->n_head_kv))
      || (s = vlm_gguf_writer_add_f32 (w, "llama.rope.freq_base",
                  ps->rope_base))
      || (s = vlm_gguf_writer_add_f32 (w,
                  "llama.attention.layer_norm_rms_epsilon", ps->rms_eps))
      || (s = vlm_gguf_writer_add_u32 (w, "llama.rope.dimension_count",
                  ps->n_embd / ps->n_head))
      || (s = vlm_gguf_writer_add_u32 (w, "general.file_type",
                  file_type_number (type))))
    return s;
  return vs->file ? vocab_copy (w, vs->file)
      : builtin_vocab_write (w, vs->builtin);
}

static vlm_gguf_writer_status
vision_keys (vlm_gguf_writer *w, const preset *ps)
{
  vlm_gguf_writer_status s;

  if ((s = vlm_gguf_writer_add_string (w, "general.architecture", "clip"))
      || (s = vlm_gguf_writer_add_string (w, "clip.projector_type",
                  projector_name (ps->proj)))
      || (s = vlm_gguf_writer_add_bool (w, "clip.has_vision_encoder", true))
      || (s = vlm_gguf_writer_add_bool (w, "clip.use_gelu", ps->use_gelu))
      || (s = vlm_gguf_writer_add_u32 (w, "clip.vision.image_size",
                  ps->image_size))
      || (s = vlm_gguf_writer_add_u32 (w, "clip.vision.patch_size",
                  ps->patch_size))
      || (s = vlm_gguf_writer_add_u32 (w, "clip.vision.embedding_length",
                  ps->v_embd))
      || (s = vlm_gguf_writer_add_u32 (w, "clip.vision.feed_forward_length",
                  ps->v_ff))
      || (s = vlm_gguf_writer_add_u32 (w, "clip.vision.block_count",
                  ps->v_layer))
      || (s = vlm_gguf_writer_add_u32 (w,
                  "clip.vision.attention.head_count", ps->v_head))
      || (s = vlm_gguf_writer_add_f32 (w,
                  "clip.vision.attention.layer_norm_epsilon", ps->v_eps))
      || (s = vlm_gguf_writer_add_u32 (w, "clip.vision.projection_dim",
                  ps->n_embd))
      || (s = vlm_gguf_writer_add_array (w, "clip.vision.image_mean",
                  VLM_GGUF_FLOAT32, ps->mean, 3))
      || (s = vlm_gguf_writer_add_array (w, "clip.vision.image_std",
                  VLM_GGUF_FLOAT32, ps->std, 3)))
    return s;
  if (ps->proj == PROJ_IDEFICS3)
    return vlm_gguf_writer_add_u32 (w, "clip.vision.projector.scale_factor",
        ps->scale_factor);
  return VLM_GGUF_WRITER_OK;
}

/* ------------------------------------------------------------------ */
/* Tensor data                                                         */
/* ------------------------------------------------------------------ */

/* A slice of one tensor's rows for one worker. */
typedef struct {
  const tensor_spec *spec;
  uint64_t seed;
  int64_t row_len;
  size_t row_bytes;
  uint8_t *out;
  int64_t row_begin, row_end;
  bool ok;
} gen_job;

/* Each row has its own PRNG stream, so the bytes do not depend on how
 * rows are split between threads. */
static void *
gen_rows (void *arg)
{
  gen_job *j = arg;
  float *row = malloc ((size_t) j->row_len * sizeof *row);

  j->ok = row != NULL;
  for (int64_t r = j->row_begin; j->ok && r < j->row_end; r++) {
    vlm_rng g;
    vlm_rng_seed (&g, mix_seed (j->seed, (uint64_t) r));
    for (int64_t i = 0; i < j->row_len; i++)
      row[i] = j->spec->mean + j->spec->std * rng_normal (&g);
    j->ok = vlm_quantize_row (j->spec->type, row,
        j->out + (size_t) r * j->row_bytes, j->row_len) == j->row_bytes;
  }
  free (row);
  return NULL;
}

/* Fills out[] with the encoded tensor, on up to n_threads threads. */
static bool
gen_tensor (const tensor_spec *t, uint64_t seed, uint8_t *out,
    int n_threads)
{
  gen_job jobs[MAX_THREADS];
  pthread_t tid[MAX_THREADS];
  bool started[MAX_THREADS] = { false };
  int64_t n_rows = t->ne[1] * t->ne[2] * t->ne[3];
  bool ok = true;

  if (n_rows * t->ne[0] < PARALLEL_MIN_ELEMS || n_threads < 2)
    n_threads = 1;
  if (n_threads > n_rows)
    n_threads = (int) n_rows;

  for (int k = 0; k < n_threads; k++) {
    jobs[k] = (gen_job) {
      .spec = t, .seed = seed, .row_len = t->ne[0],
      .row_bytes = vlm_type_row_bytes (t->type, t->ne[0]), .out = out,
      .row_begin = n_rows * k / n_threads,
      .row_end = n_rows * (k + 1) / n_threads,
    };
  }
  /* workers 1..n-1 on threads, worker 0 here; a failed start runs inline */
  for (int k = 1; k < n_threads; k++)
    started[k] = pthread_create (&tid[k], NULL, gen_rows, &jobs[k]) == 0;
  gen_rows (&jobs[0]);
  for (int k = 1; k < n_threads; k++) {
    if (started[k])
      pthread_join (tid[k], NULL);
    else
      gen_rows (&jobs[k]);
  }
  for (int k = 0; k < n_threads; k++)
    ok = ok && jobs[k].ok;
  return ok;
}

/* ------------------------------------------------------------------ */
/* Files                                                               */
/* ------------------------------------------------------------------ */

/* Declares the plan's tensors, writes the file and streams every tensor
 * through one reusable buffer. `w` already holds the metadata. */
static vlm_gen_status
write_file (vlm_gguf_writer *w, const char *path, const plan *p,
    uint64_t file_seed, int n_threads, errbuf *e)
{
  vlm_gguf_writer_status s;
  uint8_t *buf = NULL;
  size_t cap = 0;

  for (size_t i = 0; i < p->n; i++) {
    const tensor_spec *t = &p->t[i];
    s = vlm_gguf_writer_add_tensor (w, t->name, t->type, t->n_dims, t->ne);
    if (s != VLM_GGUF_WRITER_OK)
      return writer_err (e, w, s);
  }
  s = vlm_gguf_writer_begin (w, path);
  if (s != VLM_GGUF_WRITER_OK)
    return writer_err (e, w, s);

  for (size_t i = 0; i < p->n; i++) {
    size_t nbytes = vlm_gguf_writer_tensor_nbytes (w, (int64_t) i);
    if (nbytes > cap) {
      free (buf);
      buf = malloc (nbytes);
      cap = buf ? nbytes : 0;
      if (buf == NULL)
        return set_err (e, VLM_GEN_ERR_NOMEM,
            "out of memory for tensor %s", p->t[i].name);
    }
    if (!gen_tensor (&p->t[i], mix_seed (file_seed, hash_name (p->t[i].name)),
            buf, n_threads)) {
      free (buf);
      return set_err (e, VLM_GEN_ERR_NOMEM,
          "could not generate tensor %s", p->t[i].name);
    }
    s = vlm_gguf_writer_write_data (w, buf, nbytes);
    if (s != VLM_GGUF_WRITER_OK) {
      free (buf);
      return writer_err (e, w, s);
    }
  }
  free (buf);
  s = vlm_gguf_writer_finish (w);
  return s == VLM_GGUF_WRITER_OK ? VLM_GEN_OK : writer_err (e, w, s);
}

static uint64_t
file_size (const char *path)
{
  struct stat st;
  return stat (path, &st) == 0 ? (uint64_t) st.st_size : 0;
}

/* Makes sure `dir` exists (creating one level) and is writable. */
static vlm_gen_status
check_out_dir (const char *dir, errbuf *e)
{
  struct stat st;

  if (stat (dir, &st) != 0) {
    if (errno != ENOENT || mkdir (dir, 0777) != 0)
      return set_err (e, VLM_GEN_ERR_IO, "output directory %s: %s", dir,
          strerror (errno));
  } else if (!S_ISDIR (st.st_mode)) {
    return set_err (e, VLM_GEN_ERR_IO, "output directory %s: not a directory",
        dir);
  }
  if (access (dir, W_OK | X_OK) != 0)
    return set_err (e, VLM_GEN_ERR_IO, "output directory %s: not writable: %s",
        dir, strerror (errno));
  return VLM_GEN_OK;
}

static int
default_threads (void)
{
  long n = sysconf (_SC_NPROCESSORS_ONLN);
  return n < 1 ? 1 : (n > MAX_THREADS ? MAX_THREADS : (int) n);
}

/* Writes one of the two files: metadata from `keys`, tensors from the
 * plan. */
static vlm_gen_status
generate_one (const char *path, const plan *p, uint64_t file_seed,
    int n_threads, errbuf *e,
    vlm_gguf_writer_status (*keys) (vlm_gguf_writer *, const void *),
    const void *key_arg)
{
  vlm_gguf_writer *w = vlm_gguf_writer_new ();
  vlm_gen_status st;
  vlm_gguf_writer_status s;

  if (w == NULL)
    return set_err (e, VLM_GEN_ERR_NOMEM, "out of memory");
  s = keys (w, key_arg);
  st = s == VLM_GGUF_WRITER_OK
      ? write_file (w, path, p, file_seed, n_threads, e)
      : writer_err (e, w, s);
  vlm_gguf_writer_free (w);
  return st;
}

typedef struct {
  const preset *ps;
  vlm_gen_type type;
  const vocab_source *vs;
} text_key_args;

static vlm_gguf_writer_status
text_keys_cb (vlm_gguf_writer *w, const void *arg)
{
  const text_key_args *a = arg;
  return text_keys (w, a->ps, a->type, a->vs);
}

static vlm_gguf_writer_status
vision_keys_cb (vlm_gguf_writer *w, const void *arg)
{
  return vision_keys (w, arg);
}

/* ------------------------------------------------------------------ */
/* Public API                                                          */
/* ------------------------------------------------------------------ */

vlm_gen_params
vlm_gen_default_params (void)
{
  vlm_gen_params p = {
    .preset = NULL, .seed = 0, .out_dir = NULL, .vocab_path = NULL,
    .type = VLM_GEN_TYPE_Q8_0, .n_threads = 0,
  };
  return p;
}

size_t
vlm_gen_n_presets (void)
{
  return N_PRESETS;
}

const char *
vlm_gen_preset_name (size_t i)
{
  return i < N_PRESETS ? presets[i].name : NULL;
}

const char *
vlm_gen_preset_description (size_t i)
{
  return i < N_PRESETS ? presets[i].description : NULL;
}

static const char *const type_names[] = {
  [VLM_GEN_TYPE_Q8_0] = "q8_0",
  [VLM_GEN_TYPE_F16] = "f16",
  [VLM_GEN_TYPE_Q4_0] = "q4_0",
  [VLM_GEN_TYPE_Q4_K] = "q4_k",
};

#define N_TYPE_NAMES (sizeof type_names / sizeof type_names[0])

bool
vlm_gen_type_from_string (const char *s, vlm_gen_type *out)
{
  if (s == NULL)
    return false;
  for (size_t i = 0; i < N_TYPE_NAMES; i++) {
    if (strcasecmp (s, type_names[i]) == 0) {
      *out = (vlm_gen_type) i;
      return true;
    }
  }
  return false;
}

const char *
vlm_gen_type_name (vlm_gen_type t)
{
  return (size_t) t < N_TYPE_NAMES ? type_names[t] : "unknown";
}

const char *
vlm_gen_status_str (vlm_gen_status s)
{
  switch (s) {
    case VLM_GEN_OK:
      return "success";
    case VLM_GEN_ERR_PRESET:
      return "unknown preset";
    case VLM_GEN_ERR_ARG:
      return "invalid argument";
    case VLM_GEN_ERR_VOCAB:
      return "bad vocabulary file";
    case VLM_GEN_ERR_IO:
      return "i/o error";
    case VLM_GEN_ERR_NOMEM:
      return "out of memory";
  }
  return "unknown status";
}

/* "unknown preset 'x' (known: a, b, c)" */
static vlm_gen_status
unknown_preset (const char *name, errbuf *e)
{
  char list[256] = "";
  size_t len = 0;

  for (size_t i = 0; i < N_PRESETS && len < sizeof list; i++)
    len += (size_t) snprintf (list + len, sizeof list - len, "%s%s",
        i ? ", " : "", presets[i].name);
  return set_err (e, VLM_GEN_ERR_PRESET, "unknown preset '%s' (known: %s)",
      name, list);
}

static vlm_gen_status
check_params (const vlm_gen_params *p, const preset **ps, errbuf *e)
{
  if (p == NULL || p->preset == NULL || p->out_dir == NULL)
    return set_err (e, VLM_GEN_ERR_ARG, "preset and output directory needed");
  if ((size_t) p->type >= N_TYPE_NAMES)
    return set_err (e, VLM_GEN_ERR_ARG, "unknown tensor type %d",
        (int) p->type);
  *ps = find_preset (p->preset);
  if (*ps == NULL)
    return unknown_preset (p->preset, e);
  return VLM_GEN_OK;
}

vlm_gen_status
vlm_gen_make_model (const vlm_gen_params *params, vlm_gen_result *result,
    char *err, size_t err_size)
{
  errbuf e = { err, err_size };
  const preset *ps = NULL;
  vlm_gen_result res;
  vlm_gguf *vocab_file = NULL;
  builtin_vocab builtin = { 0 };
  vocab_source vs = { 0 };
  plan text = { 0 }, vision = { 0 };
  vlm_gen_status st;

  if (err != NULL && err_size > 0)
    err[0] = '\0';
  st = check_params (params, &ps, &e);
  if (st != VLM_GEN_OK)
    return st;
  memset (&res, 0, sizeof res);
  int nt = snprintf (res.text_path, sizeof res.text_path,
      "%s/%s-text-%s.gguf", params->out_dir, ps->name,
      vlm_gen_type_name (params->type));
  int nm = snprintf (res.mmproj_path, sizeof res.mmproj_path,
      "%s/%s-mmproj-f16.gguf", params->out_dir, ps->name);
  if (nt < 0 || (size_t) nt >= sizeof res.text_path || nm < 0
      || (size_t) nm >= sizeof res.mmproj_path)
    return set_err (&e, VLM_GEN_ERR_ARG, "output directory name too long");
  st = check_out_dir (params->out_dir, &e);
  if (st != VLM_GEN_OK)
    return st;

  /* vocabulary */
  if (params->vocab_path != NULL) {
    vocab_file = vocab_open (params->vocab_path, &vs.n_vocab, &st, &e);
    if (vocab_file == NULL)
      return st;
    vs.file = vocab_file;
  } else {
    st = builtin_vocab_build (&builtin, ps->n_vocab, &e);
    if (st != VLM_GEN_OK)
      return st;
    vs.builtin = &builtin;
    vs.n_vocab = (int64_t) builtin.n;
  }

  /* tensor plans */
  plan_text (&text, ps, params->type, vs.n_vocab);
  plan_vision (&vision, ps, ps->n_embd);
  if (text.oom || vision.oom) {
    st = set_err (&e, VLM_GEN_ERR_NOMEM, "out of memory");
    goto done;
  }

  int n_threads = params->n_threads > 0 ? params->n_threads
      : default_threads ();
  if (n_threads > MAX_THREADS)
    n_threads = MAX_THREADS;
  text_key_args ta = { ps, params->type, &vs };
  /* the two files draw from unrelated streams of the same seed */
  st = generate_one (res.text_path, &text, mix_seed (params->seed, 1),
      n_threads, &e, text_keys_cb, &ta);
  if (st == VLM_GEN_OK)
    st = generate_one (res.mmproj_path, &vision, mix_seed (params->seed, 2),
        n_threads, &e, vision_keys_cb, ps);
  if (st != VLM_GEN_OK) {
    remove (res.text_path);
    goto done;
  }

  res.n_vocab = vs.n_vocab;
  res.text_bytes = file_size (res.text_path);
  res.mmproj_bytes = file_size (res.mmproj_path);
  if (result != NULL)
    *result = res;

done:
  free (text.t);
  free (vision.t);
  builtin_vocab_clear (&builtin);
  vlm_gguf_close (vocab_file);
  return st;
}

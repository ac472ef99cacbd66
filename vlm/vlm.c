/* gst-vlm — the engine's public API: model loading and vlm_describe.
 *
 * vlm_describe runs, in order:
 *   1. the chat template around the question, split at the image marker
 *      into a text chunk before the image and one after it;
 *   2. the tokens of the first chunk, reusing the KV cache positions it
 *      shares with the previous call's first chunk;
 *   3. the vision tower + projector on the image, whose embeddings fill
 *      the next positions;
 *   4. the second chunk, whose last logits start generation;
 *   5. sampling, streaming detokenisation and decoding, token by token.
 */
#include "vlm.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "abort.h"
#include "chat.h"
#include "clip.h"
#include "gguf.h"
#include "llama.h"
#include "sampling.h"
#include "threadpool.h"
#include "tokenizer.h"

struct vlm_model {
  vlm_gguf *text_file;
  vlm_gguf *mmproj_file;
  vlm_llama *llm;
  vlm_clip *clip;
  vlm_vocab *vocab;
  vlm_chat_template chat;
  const char *name;
};

/* Token ids of one text chunk. */
typedef struct {
  int32_t *ids;
  int n;
} token_list;

struct vlm_context {
  const vlm_model *model;
  vlm_context_params params;
  char *chat_template;        /* owned copy of params.chat_template */
  vlm_pool *pool;
  vlm_kv_cache *kv;
  vlm_sampler *sampler;
  vlm_detok *detok;
  float *logits;              /* n_vocab */
  float *image_embd;          /* n_image_tokens x n_embd */
  token_list cached;          /* first chunk whose KV is kept */
  atomic_bool abort_requested;
  vlm_stats stats;
  char error[512];
};

/* ------------------------------------------------------------------ */
/* Status and errors                                                   */
/* ------------------------------------------------------------------ */

const char *
vlm_status_str (vlm_status s)
{
  switch (s) {
    case VLM_OK: return "success";
    case VLM_ERR_INVALID_ARG: return "invalid argument";
    case VLM_ERR_IO: return "cannot read file";
    case VLM_ERR_FORMAT: return "invalid file";
    case VLM_ERR_UNSUPPORTED: return "unsupported model";
    case VLM_ERR_MODEL: return "broken model";
    case VLM_ERR_MISMATCH: return "text model and projector do not match";
    case VLM_ERR_CONTEXT_FULL: return "context full";
    case VLM_ERR_NOMEM: return "out of memory";
    case VLM_ERR_ABORTED: return "aborted";
    case VLM_ERR_CANCELLED: return "cancelled";
  }
  return "unknown status";
}

static vlm_status
set_error (char *err, size_t err_size, vlm_status s, const char *fmt, ...)
    __attribute__((format (printf, 4, 5)));

/* Formats a message into err (if any) and returns s. */
static vlm_status
set_error (char *err, size_t err_size, vlm_status s, const char *fmt, ...)
{
  if (err && err_size) {
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (err, err_size, fmt, ap);
    va_end (ap);
  }
  return s;
}

static double
now_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* ------------------------------------------------------------------ */
/* Model                                                               */
/* ------------------------------------------------------------------ */

vlm_model_params
vlm_model_params_default (void)
{
  return (vlm_model_params) { NULL, NULL, NULL, NULL, false,
    VLM_VISION_ARITH_AUTO };
}

static bool
report (const vlm_model_params * p, float progress)
{
  return p->progress == NULL || p->progress (progress, p->progress_user_data);
}

/* Opens one GGUF, mapping reader errors to engine status codes. */
static vlm_gguf *
open_gguf (const char *what, const char *path, vlm_status * status,
    char *err, size_t err_size)
{
  char msg[400];
  vlm_gguf_status gs;
  if (path == NULL) {
    *status = set_error (err, err_size, VLM_ERR_INVALID_ARG,
        "no %s file given", what);
    return NULL;
  }
  vlm_gguf *g = vlm_gguf_open (path, &gs, msg, sizeof (msg));
  if (g == NULL) {
    *status = gs == VLM_GGUF_ERR_IO ? VLM_ERR_IO
        : gs == VLM_GGUF_ERR_UNSUPPORTED ? VLM_ERR_UNSUPPORTED
        : gs == VLM_GGUF_ERR_NOMEM ? VLM_ERR_NOMEM : VLM_ERR_FORMAT;
    set_error (err, err_size, *status, "%s: %s", what, msg);
  }
  return g;
}

/* Touches one byte per page of every tensor, reporting progress. */
static bool
prefault (const vlm_model_params * p, const vlm_gguf * g, float from,
    float to)
{
  volatile uint8_t sink = 0;
  int64_t n = vlm_gguf_n_tensors (g);
  for (int64_t i = 0; i < n; i++) {
    const vlm_gguf_tensor *t = vlm_gguf_tensor_at (g, i);
    const uint8_t *d = t->data;
    for (size_t off = 0; off < t->nbytes; off += 4096)
      sink ^= d[off];
    if (!report (p, from + (to - from) * (i + 1) / (float) n))
      return false;
  }
  (void) sink;
  return true;
}

static vlm_status
load_text (vlm_model * m, const vlm_model_params * p, char *err,
    size_t err_size)
{
  vlm_status st = VLM_OK;
  char msg[400];
  m->text_file = open_gguf ("text model", p->text_path, &st, err, err_size);
  if (m->text_file == NULL)
    return st;
  m->llm = vlm_llama_load (m->text_file, &st, msg, sizeof (msg));
  if (m->llm == NULL)
    return set_error (err, err_size, st, "text model %s: %s", p->text_path,
        msg);
  vlm_tok_status ts;
  m->vocab = vlm_vocab_load (m->text_file, &ts, msg, sizeof (msg));
  if (m->vocab == NULL)
    return set_error (err, err_size,
        ts == VLM_TOK_ERR_NOMEM ? VLM_ERR_NOMEM
        : ts == VLM_TOK_ERR_UNSUPPORTED ? VLM_ERR_UNSUPPORTED : VLM_ERR_MODEL,
        "tokenizer of %s: %s", p->text_path, msg);
  if (vlm_vocab_n_tokens (m->vocab) != vlm_llama_n_vocab (m->llm))
    return set_error (err, err_size, VLM_ERR_MODEL,
        "text model %s: the tokenizer has %d tokens but the embedding "
        "matrix has %d rows", p->text_path, vlm_vocab_n_tokens (m->vocab),
        vlm_llama_n_vocab (m->llm));
  if (vlm_gguf_get_string (m->text_file, "general.name", &m->name) != 0)
    m->name = "";
  return VLM_OK;
}

static vlm_status
load_mmproj (vlm_model * m, const vlm_model_params * p, char *err,
    size_t err_size)
{
  vlm_status st = VLM_OK;
  char msg[400];
  m->mmproj_file = open_gguf ("vision projector", p->mmproj_path, &st, err,
      err_size);
  if (m->mmproj_file == NULL)
    return st;
  m->clip = vlm_clip_load (m->mmproj_file, &st, msg, sizeof (msg));
  if (m->clip == NULL)
    return set_error (err, err_size, st, "vision projector %s: %s",
        p->mmproj_path, msg);
  vlm_clip_set_arith (m->clip, (int) p->vision_arith);
  if (vlm_clip_n_embd (m->clip) != vlm_llama_n_embd (m->llm))
    return set_error (err, err_size, VLM_ERR_MISMATCH,
        "the vision projector %s makes %d-wide image embeddings but the "
        "text model %s is %d wide: the two files do not belong together",
        p->mmproj_path, vlm_clip_n_embd (m->clip), p->text_path,
        vlm_llama_n_embd (m->llm));
  return VLM_OK;
}

vlm_model *
vlm_model_load (vlm_model_params p, vlm_status * status, char *err,
    size_t err_size)
{
  vlm_status st = VLM_OK;
  vlm_model *m = calloc (1, sizeof (vlm_model));
  if (err && err_size)
    err[0] = '\0';
  if (m == NULL) {
    st = set_error (err, err_size, VLM_ERR_NOMEM, "out of memory");
    goto done;
  }
  if (!report (&p, 0.0f))
    goto cancelled;
  if ((st = load_text (m, &p, err, err_size)) != VLM_OK)
    goto done;
  if (!report (&p, 0.3f))
    goto cancelled;
  if ((st = load_mmproj (m, &p, err, err_size)) != VLM_OK)
    goto done;
  m->chat = vlm_chat_detect (m->text_file, vlm_clip_projector (m->clip));
  if (!report (&p, 0.5f))
    goto cancelled;
  if (p.prefault && (!prefault (&p, m->mmproj_file, 0.5f, 0.65f)
          || !prefault (&p, m->text_file, 0.65f, 0.99f)))
    goto cancelled;
  if (!report (&p, 1.0f))
    goto cancelled;
  goto done;

cancelled:
  st = set_error (err, err_size, VLM_ERR_CANCELLED, "model load cancelled");
done:
  if (status)
    *status = st;
  if (st != VLM_OK) {
    vlm_model_free (m);
    return NULL;
  }
  return m;
}

void
vlm_model_free (vlm_model * m)
{
  if (m == NULL)
    return;
  vlm_clip_free (m->clip);
  vlm_llama_free (m->llm);
  vlm_vocab_free (m->vocab);
  vlm_gguf_close (m->mmproj_file);
  vlm_gguf_close (m->text_file);
  free (m);
}

int
vlm_model_image_size (const vlm_model * m)
{
  return vlm_clip_image_size (m->clip);
}

int
vlm_model_n_image_tokens (const vlm_model * m)
{
  return vlm_clip_n_tokens (m->clip);
}

int
vlm_model_n_vocab (const vlm_model * m)
{
  return vlm_llama_n_vocab (m->llm);
}

int
vlm_model_n_ctx_train (const vlm_model * m)
{
  return vlm_llama_n_ctx_train (m->llm);
}

const char *
vlm_model_name (const vlm_model * m)
{
  return m->name;
}

const char *
vlm_model_projector (const vlm_model * m)
{
  return vlm_clip_projector (m->clip);
}

const char *
vlm_model_chat_template (const vlm_model * m)
{
  return vlm_chat_name (m->chat);
}

/* ------------------------------------------------------------------ */
/* Context                                                             */
/* ------------------------------------------------------------------ */

vlm_context_params
vlm_context_params_default (void)
{
  return (vlm_context_params) {
    .n_threads = 0,
    .n_ctx = 0,
    .n_predict = 64,
    .temperature = 0.2f,
    .top_k = 40,
    .top_p = 0.95f,
    .min_p = 0.05f,
    .repeat_penalty = 1.1f,
    .repeat_last_n = 64,
    .seed = 0,
  };
}

/* Greedy decoding (temperature <= 0) is the plain argmax of the model's
 * logits: no repetition penalty, so it matches other runtimes. */
static vlm_sampler_params
sampler_params (const vlm_context_params * p)
{
  float penalty = p->temperature > 0 ? p->repeat_penalty : 1.0f;
  return (vlm_sampler_params) {
    .temperature = p->temperature, .top_k = p->top_k, .top_p = p->top_p,
    .min_p = p->min_p, .repeat_penalty = penalty,
    .repeat_last_n = p->repeat_last_n, .seed = p->seed };
}

static vlm_status
build_context (vlm_context * c, char *err, size_t err_size)
{
  const vlm_model *m = c->model;
  const vlm_context_params *p = &c->params;
  vlm_chat_template t;
  if (p->chat_template && !vlm_chat_from_name (p->chat_template, &t))
    return set_error (err, err_size, VLM_ERR_INVALID_ARG,
        "unknown chat template '%s' (known: none, vicuna, chatml, smolvlm)",
        p->chat_template);
  int n_ctx = p->n_ctx > 0 ? p->n_ctx : vlm_llama_n_ctx_train (m->llm);
  if (p->n_ctx <= 0 && n_ctx > 2048)
    n_ctx = 2048;
  c->pool = vlm_pool_new (p->n_threads);
  c->kv = vlm_kv_cache_new (m->llm, n_ctx);
  c->sampler = vlm_sampler_new (sampler_params (p),
      vlm_llama_n_vocab (m->llm));
  c->detok = vlm_detok_new (m->vocab, VLM_PIECE_STRIP_LEADING_SPACE);
  c->logits = malloc (sizeof (float) * vlm_llama_n_vocab (m->llm));
  c->image_embd = malloc (sizeof (float) * vlm_clip_n_tokens (m->clip)
      * vlm_clip_n_embd (m->clip));
  if (!c->pool || !c->kv || !c->sampler || !c->detok || !c->logits
      || !c->image_embd)
    return set_error (err, err_size, VLM_ERR_NOMEM,
        "cannot allocate the context (%d positions of KV cache)", n_ctx);
  return VLM_OK;
}

vlm_context *
vlm_context_new (const vlm_model * model, vlm_context_params params,
    vlm_status * status, char *err, size_t err_size)
{
  vlm_status st;
  vlm_context *c = NULL;
  if (err && err_size)
    err[0] = '\0';
  if (model == NULL) {
    st = set_error (err, err_size, VLM_ERR_INVALID_ARG, "no model given");
    goto done;
  }
  c = calloc (1, sizeof (vlm_context));
  if (c == NULL) {
    st = set_error (err, err_size, VLM_ERR_NOMEM, "out of memory");
    goto done;
  }
  c->model = model;
  c->params = params;
  if (params.chat_template) {
    c->chat_template = strdup (params.chat_template);
    c->params.chat_template = c->chat_template;
  }
  atomic_init (&c->abort_requested, false);
  st = build_context (c, err, err_size);
done:
  if (status)
    *status = st;
  if (st != VLM_OK) {
    vlm_context_free (c);
    return NULL;
  }
  return c;
}

void
vlm_context_free (vlm_context * c)
{
  if (c == NULL)
    return;
  vlm_pool_free (c->pool);
  vlm_kv_cache_free (c->kv);
  vlm_sampler_free (c->sampler);
  vlm_detok_free (c->detok);
  free (c->logits);
  free (c->image_embd);
  free (c->cached.ids);
  free (c->chat_template);
  free (c);
}

void
vlm_abort (vlm_context * c)
{
  if (c)
    atomic_store (&c->abort_requested, true);
}

void
vlm_abort_clear (vlm_context * c)
{
  if (c)
    atomic_store (&c->abort_requested, false);
}

const char *
vlm_last_error (const vlm_context * c)
{
  return c ? c->error : "";
}

vlm_stats
vlm_get_stats (const vlm_context * c)
{
  return c->stats;
}

static bool
abort_requested (void *ud)
{
  return atomic_load_explicit (&((vlm_context *) ud)->abort_requested,
      memory_order_relaxed);
}

/* ------------------------------------------------------------------ */
/* Prompt                                                              */
/* ------------------------------------------------------------------ */

static void
free_tokens (token_list * t)
{
  free (t->ids);
  *t = (token_list) { NULL, 0 };
}

static vlm_status
tokenize_chunk (vlm_context * c, const char *text, size_t len, bool first,
    token_list * out)
{
  const vlm_vocab *v = c->model->vocab;
  int32_t n = vlm_tokenize (v, text, len, first, true, NULL, 0);
  if (n == VLM_TOK_ERROR)
    return set_error (c->error, sizeof (c->error), VLM_ERR_NOMEM,
        "cannot tokenize the prompt");
  n = n < 0 ? -n : n;
  out->ids = malloc (sizeof (int32_t) * (n ? n : 1));
  if (out->ids == NULL)
    return set_error (c->error, sizeof (c->error), VLM_ERR_NOMEM,
        "out of memory");
  out->n = vlm_tokenize (v, text, len, first, true, out->ids, n);
  return out->n < 0 ? VLM_ERR_NOMEM : VLM_OK;
}

/* Text the model expects right around the image embeddings: SmolVLM
 * frames them with <fake_token_around_image><global-img> ...
 * <fake_token_around_image> when its vocab has those tokens. */
static void
image_frame (const vlm_model * m, const char **before, const char **after)
{
  static const char fake[] = "<fake_token_around_image>";
  static const char global[] = "<global-img>";
  *before = *after = "";
  if (strcmp (vlm_clip_projector (m->clip), "idefics3") != 0
      || vlm_vocab_find (m->vocab, fake, strlen (fake)) == VLM_TOKEN_NULL)
    return;
  *after = fake;
  *before = vlm_vocab_find (m->vocab, global, strlen (global))
      != VLM_TOKEN_NULL ? "<fake_token_around_image><global-img>" : fake;
}

/* Applies the template and tokenizes the two chunks around the image. */
static vlm_status
build_prompt (vlm_context * c, const char *question, token_list * pre,
    token_list * post)
{
  vlm_chat_template t = c->model->chat;
  if (c->params.chat_template)
    vlm_chat_from_name (c->params.chat_template, &t);
  char *text = vlm_chat_apply (t, question);
  if (text == NULL)
    return set_error (c->error, sizeof (c->error), VLM_ERR_NOMEM,
        "out of memory");
  vlm_status st = VLM_OK;
  const char *mark = strstr (text, VLM_IMAGE_MARKER);
  if (mark == NULL || strstr (mark + 1, VLM_IMAGE_MARKER) != NULL) {
    st = set_error (c->error, sizeof (c->error), VLM_ERR_INVALID_ARG,
        "the prompt must contain the image marker " VLM_IMAGE_MARKER
        " exactly once");
    goto done;
  }
  const char *before, *after;
  image_frame (c->model, &before, &after);
  size_t n_pre = mark - text, n_before = strlen (before);
  size_t n_after = strlen (after);
  const char *rest = mark + strlen (VLM_IMAGE_MARKER);
  char *a = malloc (n_pre + n_before + 1);
  char *b = malloc (n_after + strlen (rest) + 1);
  if (a && b) {
    memcpy (a, text, n_pre);
    memcpy (a + n_pre, before, n_before + 1);
    memcpy (b, after, n_after);
    strcpy (b + n_after, rest);
    st = tokenize_chunk (c, a, strlen (a), true, pre);
    if (st == VLM_OK)
      st = tokenize_chunk (c, b, strlen (b), false, post);
  } else {
    st = set_error (c->error, sizeof (c->error), VLM_ERR_NOMEM,
        "out of memory");
  }
  free (a);
  free (b);
done:
  free (text);
  return st;
}

/* ------------------------------------------------------------------ */
/* Running the model                                                   */
/* ------------------------------------------------------------------ */

static vlm_status
decode (vlm_context * c, const int32_t * ids, const float *embd, int n,
    bool want_logits)
{
  vlm_abort_check ab = { abort_requested, c };
  vlm_status st = vlm_llama_decode (c->model->llm, c->kv, c->pool, ids,
      embd, n, want_logits ? c->logits : NULL, &ab);
  if (st == VLM_ERR_CONTEXT_FULL)
    return set_error (c->error, sizeof (c->error), st,
        "the prompt and answer need more than the %d positions of the "
        "context", vlm_kv_cache_n_ctx (c->kv));
  if (st == VLM_ERR_ABORTED)
    return set_error (c->error, sizeof (c->error), st, "aborted");
  if (st != VLM_OK)
    return set_error (c->error, sizeof (c->error), st,
        "decoding failed: %s", vlm_status_str (st));
  if (want_logits && c->params.on_logits)
    c->params.on_logits (c->logits, vlm_llama_n_vocab (c->model->llm),
        c->params.debug_user_data);
  return VLM_OK;
}

static void
report_chunk (vlm_context * c, const int32_t * ids, int n, bool image)
{
  if (c->params.on_prompt_tokens)
    c->params.on_prompt_tokens (ids, n, image, c->params.debug_user_data);
}

/* Positions of `pre` already in the KV cache from the last call. */
static int
reusable_prefix (const vlm_context * c, const token_list * pre)
{
  int n = 0, max = c->cached.n < pre->n ? c->cached.n : pre->n;
  if (max > vlm_kv_cache_n_past (c->kv))
    max = vlm_kv_cache_n_past (c->kv);
  while (n < max && c->cached.ids[n] == pre->ids[n])
    n++;
  return n;
}

/* Fills the KV cache with the first chunk, reusing what it can. */
static vlm_status
prefill_text (vlm_context * c, token_list * pre)
{
  int keep = reusable_prefix (c, pre);
  vlm_kv_cache_truncate (c->kv, keep);
  free_tokens (&c->cached);
  c->stats.n_prompt_reused = keep;
  vlm_status st = VLM_OK;
  if (pre->n > keep)
    st = decode (c, pre->ids + keep, NULL, pre->n - keep, false);
  if (st == VLM_OK) {
    c->cached = *pre;   /* the cache now holds exactly these */
    *pre = (token_list) { NULL, 0 };
  }
  return st;
}

static vlm_status
encode_image (vlm_context * c, const uint8_t * rgb, int w, int h,
    size_t stride)
{
  vlm_abort_check ab = { abort_requested, c };
  double t0 = now_ms ();
  vlm_status st = vlm_clip_encode (c->model->clip, c->pool, rgb, w, h,
      stride, c->image_embd, &ab);
  c->stats.encode_ms = now_ms () - t0;
  if (st != VLM_OK)
    return set_error (c->error, sizeof (c->error), st,
        "image encoding failed: %s", vlm_status_str (st));
  if (c->params.on_image_embd)
    c->params.on_image_embd (c->image_embd, vlm_clip_n_tokens (c->model->clip),
        vlm_clip_n_embd (c->model->clip), c->params.debug_user_data);
  return VLM_OK;
}

/* Checks the whole prompt fits before computing anything. */
static vlm_status
check_fits (vlm_context * c, const token_list * pre, const token_list * post)
{
  int need = pre->n + vlm_clip_n_tokens (c->model->clip) + post->n;
  c->stats.n_prompt = need;
  if (need + 1 > vlm_kv_cache_n_ctx (c->kv))
    return set_error (c->error, sizeof (c->error), VLM_ERR_CONTEXT_FULL,
        "the prompt needs %d positions (%d of text, %d of image) but the "
        "context holds %d", need, pre->n + post->n,
        vlm_clip_n_tokens (c->model->clip), vlm_kv_cache_n_ctx (c->kv));
  return VLM_OK;
}

/* Steps 2-4: everything before the first generated token. */
static vlm_status
run_prompt (vlm_context * c, const uint8_t * rgb, int w, int h,
    size_t stride, token_list * pre, token_list * post)
{
  vlm_status st = check_fits (c, pre, post);
  if (st != VLM_OK)
    return st;
  report_chunk (c, pre->ids, pre->n, false);
  report_chunk (c, NULL, vlm_clip_n_tokens (c->model->clip), true);
  report_chunk (c, post->ids, post->n, false);
  for (int i = 0; i < pre->n; i++)
    vlm_sampler_accept (c->sampler, pre->ids[i]);
  for (int i = 0; i < post->n; i++)
    vlm_sampler_accept (c->sampler, post->ids[i]);

  double t0 = now_ms ();
  if ((st = prefill_text (c, pre)) != VLM_OK)
    return st;
  double t1 = now_ms ();
  if ((st = encode_image (c, rgb, w, h, stride)) != VLM_OK)
    return st;
  double t2 = now_ms ();
  st = decode (c, NULL, c->image_embd, vlm_clip_n_tokens (c->model->clip),
      post->n == 0);
  if (st == VLM_OK && post->n > 0)
    st = decode (c, post->ids, NULL, post->n, true);
  c->stats.prefill_ms = (t1 - t0) + (now_ms () - t2);
  int computed = c->stats.n_prompt - c->stats.n_prompt_reused;
  c->stats.prefill_tok_s = c->stats.prefill_ms > 0
      ? computed * 1e3 / c->stats.prefill_ms : 0;
  return st;
}

/* Hands a piece of text to the caller; false when it wants no more. */
static bool
emit (vlm_context * c, const char *s, size_t n, vlm_token_fn on_token,
    void *ud, double t_start)
{
  if (n == 0)
    return true;
  if (c->stats.first_token_ms == 0)
    c->stats.first_token_ms = now_ms () - t_start;
  return on_token == NULL || on_token (s, n, ud);
}

/* Step 5: sample, stream, feed back. */
static vlm_status
generate (vlm_context * c, vlm_token_fn on_token, void *ud, double t_start)
{
  vlm_status st = VLM_OK;
  double t0 = now_ms ();
  size_t len;
  bool more = true;
  for (int i = 0; i < c->params.n_predict && more; i++) {
    int32_t tok = vlm_sampler_sample (c->sampler, c->logits);
    if (!c->params.ignore_eog && vlm_vocab_is_eog (c->model->vocab, tok))
      break;
    vlm_sampler_accept (c->sampler, tok);
    const char *piece = vlm_detok_push (c->detok, tok, &len);
    c->stats.n_generated++;
    if (piece)
      more = emit (c, piece, len, on_token, ud, t_start);
    if (!more || i + 1 == c->params.n_predict)
      break;
    /* a full context ends the answer, it is no error */
    if (vlm_kv_cache_n_past (c->kv) >= vlm_kv_cache_n_ctx (c->kv))
      break;
    if ((st = decode (c, &tok, NULL, 1, true)) != VLM_OK)
      break;
  }
  const char *tail = vlm_detok_flush (c->detok, &len);
  if (st == VLM_OK && more && tail)
    emit (c, tail, len, on_token, ud, t_start);
  c->stats.decode_ms = now_ms () - t0;
  c->stats.decode_tok_s = c->stats.decode_ms > 0
      ? c->stats.n_generated * 1e3 / c->stats.decode_ms : 0;
  return st;
}

vlm_status
vlm_describe (vlm_context * c, const uint8_t * rgb, int w, int h,
    size_t stride, const char *prompt, vlm_token_fn on_token, void *ud)
{
  if (c == NULL)
    return VLM_ERR_INVALID_ARG;
  c->error[0] = '\0';
  c->stats = (vlm_stats) { 0 };
  double t_start = now_ms ();
  if (rgb == NULL || w < 1 || h < 1 || stride < (size_t) w * 3)
    return set_error (c->error, sizeof (c->error), VLM_ERR_INVALID_ARG,
        "invalid image (%dx%d, stride %zu)", w, h, stride);
  if (atomic_exchange (&c->abort_requested, false))
    return set_error (c->error, sizeof (c->error), VLM_ERR_ABORTED,
        "aborted before start");

  token_list pre = { 0 }, post = { 0 };
  vlm_sampler_reset (c->sampler);
  vlm_detok_flush (c->detok, NULL);
  vlm_status st = build_prompt (c, prompt, &pre, &post);
  if (st == VLM_OK)
    st = run_prompt (c, rgb, w, h, stride, &pre, &post);
  if (st == VLM_OK)
    st = generate (c, on_token, ud, t_start);
  if (st != VLM_OK && st != VLM_ERR_CONTEXT_FULL) {
    /* the cache may hold half a prompt: keep only what is certain */
    free_tokens (&c->cached);
    vlm_kv_cache_truncate (c->kv, 0);
  }
  atomic_store (&c->abort_requested, false);
  free_tokens (&pre);
  free_tokens (&post);
  return st;
}

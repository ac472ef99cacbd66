/* gst-vlm — public API of the vision-language model engine.
 *
 * A vlm_model is a text model GGUF (llama architecture) and its vision
 * projector GGUF ("mmproj": CLIP or SigLIP tower + mlp / ldpv2 / idefics3
 * projector), mapped read-only and shared by any number of contexts.
 * A vlm_context holds what one caller needs to describe images: threads,
 * KV cache, sampler, scratch, statistics.
 *
 *   vlm_model_params mp = vlm_model_params_default ();
 *   mp.text_path = "model.gguf"; mp.mmproj_path = "mmproj.gguf";
 *   vlm_model *model = vlm_model_load (mp, &status, err, sizeof err);
 *   vlm_context *ctx = vlm_context_new (model, vlm_context_params_default (),
 *       &status, err, sizeof err);
 *   vlm_describe (ctx, rgb, w, h, w * 3, "Describe the scene.", on_token, ud);
 *
 * Errors are status codes with a message (vlm_last_error for a context,
 * the err buffer for constructors); the engine never aborts the process.
 */
#ifndef VLM_H
#define VLM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Status codes: 0 is success, errors are negative. */
typedef enum {
  VLM_OK = 0,
  VLM_ERR_INVALID_ARG = -1,   /* NULL or out-of-range argument */
  VLM_ERR_IO = -2,            /* a file cannot be opened or read */
  VLM_ERR_FORMAT = -3,        /* not a valid GGUF / image file */
  VLM_ERR_UNSUPPORTED = -4,   /* architecture, projector or type unknown */
  VLM_ERR_MODEL = -5,         /* a tensor is missing or has a wrong shape,
                                 a hyper-parameter is missing or absurd */
  VLM_ERR_MISMATCH = -6,      /* text model and projector do not fit
                                 (embedding widths differ) */
  VLM_ERR_CONTEXT_FULL = -7,  /* the prompt does not fit the context */
  VLM_ERR_NOMEM = -8,         /* allocation failed */
  VLM_ERR_ABORTED = -9,       /* vlm_abort was called */
  VLM_ERR_CANCELLED = -10,    /* the load progress callback said stop */
} vlm_status;

/* Short English description of a status ("context full", ...). Static. */
const char *vlm_status_str (vlm_status s);

typedef struct vlm_model vlm_model;
typedef struct vlm_context vlm_context;

/* ------------------------------------------------------------------ */
/* Model                                                               */
/* ------------------------------------------------------------------ */

/* Load progress in [0, 1]; return false to cancel the load. Called on the
 * loading thread. */
typedef bool (*vlm_progress_fn) (float progress, void *user_data);

/* Arithmetic of the vision encoder.
 * FAST: our own kernels (binary16 only where the reference runtime's
 * CPU backend rounds its inputs); image embeddings within ~1.5e-3 of it.
 * REFERENCE: the reference runtime's arithmetic operation for operation
 * (ggml-cpu of an x86 build with AVX-512 and binary16 vector arithmetic:
 * binary16 patch sums, tinyBLAS lane chains, its layer norm, its tiled
 * flash attention and exp); bit-identical embeddings, but scalar code:
 * ~0.15 s for a tiny test tower, minutes for a real one.
 * AUTO (default): VLM_VISION_ARITH=fast|reference in the environment if
 * set, else REFERENCE when an encode needs at most 2e8 multiply-adds
 * (tiny test towers), else FAST. */
typedef enum {
  VLM_VISION_ARITH_AUTO = 0,
  VLM_VISION_ARITH_FAST = 1,
  VLM_VISION_ARITH_REFERENCE = 2
} vlm_vision_arith;

typedef struct {
  const char *text_path;      /* text model GGUF (required) */
  const char *mmproj_path;    /* vision projector GGUF (required) */
  vlm_progress_fn progress;   /* optional */
  void *progress_user_data;
  bool prefault;              /* touch every weight page while loading
                                 (slower load, no page faults later) */
  vlm_vision_arith vision_arith;  /* default VLM_VISION_ARITH_AUTO */
} vlm_model_params;

/* Defaults: no paths, no progress callback, prefault off, vision
 * arithmetic auto. Thread-safe. */
vlm_model_params vlm_model_params_default (void);

/* Maps and validates both files. Returns NULL on error with *status (if
 * non-NULL) and a message in err[err_size] (if non-NULL).
 * Ownership: the caller frees the model with vlm_model_free, after every
 * context made from it. Thread safety: reentrant. */
vlm_model *vlm_model_load (vlm_model_params params, vlm_status *status,
    char *err, size_t err_size);

/* NULL is allowed. No context of this model may still exist. */
void vlm_model_free (vlm_model *model);

/* Facts about a loaded model. Thread-safe (the model is immutable). */
int vlm_model_image_size (const vlm_model *model);   /* e.g. 336 */
int vlm_model_n_image_tokens (const vlm_model *model);
int vlm_model_n_vocab (const vlm_model *model);
int vlm_model_n_ctx_train (const vlm_model *model);
/* general.name of the text model, or "" */
const char *vlm_model_name (const vlm_model *model);
/* Projector type: "mlp", "ldpv2" or "idefics3". */
const char *vlm_model_projector (const vlm_model *model);
/* Chat template picked from the metadata: "vicuna", "chatml",
 * "smolvlm" (see vlm_context_params.chat_template). */
const char *vlm_model_chat_template (const vlm_model *model);

/* ------------------------------------------------------------------ */
/* Context                                                             */
/* ------------------------------------------------------------------ */

/* Debug hooks (all optional, called on the thread running vlm_describe). */
typedef void (*vlm_tokens_fn) (const int32_t *ids, int n, bool is_image,
    void *user_data);         /* each prompt chunk; for an image chunk ids
                                 is NULL and n the number of embeddings */
typedef void (*vlm_embd_fn) (const float *embd, int n_tokens, int n_embd,
    void *user_data);         /* projector output */
typedef void (*vlm_logits_fn) (const float *logits, int n_vocab,
    void *user_data);         /* after the prompt and after each token */

typedef struct {
  int n_threads;              /* <= 0: number of online CPUs */
  int n_ctx;                  /* KV cache length; <= 0: min(2048, train) */
  int n_predict;              /* max generated tokens; default 64 */
  float temperature;          /* <= 0: greedy; default 0.2 */
  int top_k;                  /* <= 0: off; default 40 */
  float top_p;                /* >= 1: off; default 0.95 */
  float min_p;                /* <= 0: off; default 0.05 */
  float repeat_penalty;       /* 1: off; default 1.1 */
  int repeat_last_n;          /* tokens the penalty looks back; default 64 */
  uint64_t seed;              /* sampler RNG seed; default 0 */
  bool ignore_eog;            /* generate past end-of-generation tokens
                                 (benchmarks); default false */
  const char *chat_template;  /* NULL: from the model; "none": the prompt
                                 is used as given and must hold the image
                                 marker "<__media__>"; or a template name */
  vlm_tokens_fn on_prompt_tokens;
  vlm_embd_fn on_image_embd;
  vlm_logits_fn on_logits;
  void *debug_user_data;
} vlm_context_params;

/* The defaults listed above. Thread-safe. */
vlm_context_params vlm_context_params_default (void);

/* Creates a context: threads, KV cache, scratch. Returns NULL on error
 * (status and message as for vlm_model_load). The params' strings are
 * copied. Ownership: free with vlm_context_free before the model.
 * Thread safety: reentrant; contexts of one model are independent. */
vlm_context *vlm_context_new (const vlm_model *model,
    vlm_context_params params, vlm_status *status, char *err,
    size_t err_size);

/* Stops the context's threads and frees it. NULL is allowed. Must not be
 * called while vlm_describe runs on it. */
void vlm_context_free (vlm_context *ctx);

/* ------------------------------------------------------------------ */
/* Describing an image                                                 */
/* ------------------------------------------------------------------ */

/* A piece of generated UTF-8 text: always whole characters (a character
 * spread over several tokens comes in one piece). Return false to stop
 * generating (vlm_describe then returns VLM_OK). */
typedef bool (*vlm_token_fn) (const char *piece, size_t len,
    void *user_data);

/* Describes a packed RGB image (8 bits per channel, `stride` bytes per
 * row, any size: it is resized to the model's input size, see
 * vlm_model_image_size) answering `prompt`, streaming the answer through
 * on_token (may be NULL). Generation ends at an end-of-generation token,
 * after n_predict tokens, or when on_token returns false.
 * The KV cache of the prompt part before the image is kept: a following
 * call with the same prompt prefix does not compute it again.
 * Returns VLM_OK, or an error (VLM_ERR_ABORTED after vlm_abort,
 * VLM_ERR_CONTEXT_FULL when the prompt does not fit n_ctx, ...) with the
 * message in vlm_last_error. Thread safety: one call at a time per
 * context; vlm_abort may be called from any thread meanwhile. */
vlm_status vlm_describe (vlm_context *ctx, const uint8_t *rgb, int width,
    int height, size_t stride, const char *prompt, vlm_token_fn on_token,
    void *user_data);

/* Asks the vlm_describe running on ctx to stop: it returns
 * VLM_ERR_ABORTED within half a transformer layer (encode or decode: the
 * engine checks before each attention and MLP block). A
 * request made while none runs cancels the next call at its start unless
 * vlm_abort_clear is called first. Thread-safe, async-signal-safe. */
void vlm_abort (vlm_context *ctx);

/* Withdraws a pending abort request. Thread-safe. */
void vlm_abort_clear (vlm_context *ctx);

/* Message of the last error on ctx ("" if none). Valid until the next
 * call on ctx. */
const char *vlm_last_error (const vlm_context *ctx);

/* Figures of the last vlm_describe. */
typedef struct {
  double encode_ms;           /* image preprocessing + vision + projector */
  double prefill_ms;          /* prompt tokens and image embeddings */
  int n_prompt;               /* prompt positions (text + image) */
  int n_prompt_reused;        /* positions taken from the KV cache */
  double prefill_tok_s;       /* computed prompt positions per second */
  double decode_ms;
  int n_generated;
  double decode_tok_s;
  double first_token_ms;      /* from the call to the first piece */
} vlm_stats;

/* Statistics of the last vlm_describe on ctx. Not thread-safe against a
 * running vlm_describe. */
vlm_stats vlm_get_stats (const vlm_context *ctx);

#ifdef __cplusplus
}
#endif

#endif /* VLM_H */

/* gst-vlm — llama-architecture text decoder with an F16 KV cache.
 *
 * A vlm_llama is the validated view of a llama text model GGUF: hyper-
 * parameters and weight matrices used straight from the file mapping
 * (nothing is copied). A vlm_kv_cache holds the keys and values of the
 * positions computed so far (F16) and the scratch memory of the forward
 * pass, so a decode call allocates nothing once the cache has seen its
 * largest batch.
 *
 * Per layer (as the reference GGUF runtime computes it):
 *   h = x + Wo · attn(rope(Wq · n), rope(Wk · n), Wv · n),  n = rms(x)
 *   x' = h + Wdown · (silu(Wgate · rms(h)) * (Wup · rms(h)))
 * with RoPE in the "normal" layout (adjacent pairs), grouped-query causal
 * attention scaled by 1/sqrt(head_dim); then the output norm and the
 * output matrix (token_embd when the file has no output.weight).
 *
 * Ownership: the caller owns what vlm_llama_load / vlm_kv_cache_new
 * return and frees it with the matching _free; a cache must be freed
 * before its model, and the GGUF handle must outlive the model.
 * Thread safety: a vlm_llama is immutable after load and may be shared by
 * any number of threads; a cache is used by one call at a time.
 */
#ifndef VLM_LLAMA_H
#define VLM_LLAMA_H

#include <stddef.h>
#include <stdint.h>

#include "abort.h"
#include "gguf.h"
#include "threadpool.h"
#include "vlm.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vlm_llama vlm_llama;

/* Validates and loads a llama-architecture text model. `g` must outlive
 * the result (weights are used from the mapping, never copied).
 * Returns NULL on error with *status (if non-NULL) and a message in
 * err[err_size] (if non-NULL):
 *   VLM_ERR_UNSUPPORTED  general.architecture is not "llama", or rope
 *                        scaling is asked for
 *   VLM_ERR_MODEL        a key or tensor is missing, a tensor has a wrong
 *                        type or shape, a hyper-parameter is absurd (the
 *                        message names the key / tensor, expected vs found)
 *   VLM_ERR_NOMEM        allocation failed
 * Files with and without output.weight (tied output) are accepted. */
vlm_llama *vlm_llama_load (const vlm_gguf *g, vlm_status *status, char *err,
    size_t err_size);

/* NULL is allowed. Every cache of the model must be freed first. */
void vlm_llama_free (vlm_llama *m);

int vlm_llama_n_embd (const vlm_llama *m);
int vlm_llama_n_vocab (const vlm_llama *m);
int vlm_llama_n_ctx_train (const vlm_llama *m);
int vlm_llama_n_layer (const vlm_llama *m);

typedef struct vlm_kv_cache vlm_kv_cache;

/* A cache of F16 keys and values for n_ctx positions of model `m`
 * (2 x n_layer x n_ctx x n_embd_kv x 2 bytes, allocated here) plus the
 * forward-pass scratch (allocated on first use, grown on demand). NULL on
 * allocation failure or n_ctx <= 0. */
vlm_kv_cache *vlm_kv_cache_new (const vlm_llama *m, int n_ctx);

/* NULL is allowed. */
void vlm_kv_cache_free (vlm_kv_cache *kv);

int vlm_kv_cache_n_ctx (const vlm_kv_cache *kv);

/* Number of positions filled. */
int vlm_kv_cache_n_past (const vlm_kv_cache *kv);

/* Keeps the first n_past positions (prompt-prefix reuse). A value outside
 * [0, current n_past] leaves the cache unchanged. */
void vlm_kv_cache_truncate (vlm_kv_cache *kv, int n_past);

/* Runs n positions starting at the cache's n_past: exactly one of
 * `tokens` (n ids) or `embd` (n rows of n_embd floats, e.g. image
 * embeddings) is non-NULL. Writes the logits of the LAST position into
 * logits[n_vocab] when `logits` is non-NULL. On success n_past += n.
 * All n positions go through each matrix product together (batches
 * larger than an internal limit are split, invisibly to the caller).
 * `pool` may be NULL (one thread); `abort` may be NULL.
 * Errors (the cache's n_past is unchanged on every error):
 *   VLM_ERR_INVALID_ARG   NULL m / kv, n <= 0, both or neither input, a
 *                         token id outside [0, n_vocab) (nothing computed)
 *   VLM_ERR_CONTEXT_FULL  n_past + n > n_ctx (nothing computed)
 *   VLM_ERR_ABORTED       `abort` said stop (checked before each attention
 *                         and MLP half of every layer)
 *   VLM_ERR_NOMEM         scratch memory could not be allocated
 * Thread safety: one call at a time per cache; the model is shared
 * read-only; the pool runs one job at a time (see threadpool.h). */
vlm_status vlm_llama_decode (const vlm_llama *m, vlm_kv_cache *kv,
    vlm_pool *pool, const int32_t *tokens, const float *embd, int n,
    float *logits, const vlm_abort_check *abort);

#ifdef __cplusplus
}
#endif

#endif /* VLM_LLAMA_H */

/* gst-vlm — picking the next token from logits.
 *
 * Samplers run in this fixed order:
 *   1. repetition penalty (llama.cpp style): every distinct token among
 *      the last repeat_last_n accepted ones has its logit divided by
 *      repeat_penalty when positive, multiplied by it otherwise;
 *   2. temperature <= 0: greedy, the arg max (lowest id on ties); done;
 *   3. top-k: keep the k highest logits;
 *   4. softmax of logit / temperature over what is left;
 *   5. top-p: keep the smallest set of most probable tokens whose
 *      probabilities sum to at least top_p;
 *   6. min-p: keep tokens with probability >= min_p * the highest one;
 *   7. draw from what is left (probabilities renormalised) with a PRNG
 *      (xoshiro256**, seeded by splitmix64 of `seed`): the same seed and
 *      the same inputs give the same tokens on every run and machine.
 * Off values: top_k <= 0, top_p >= 1, min_p <= 0, repeat_penalty == 1
 * (or <= 0), repeat_last_n <= 0. At least one token always survives.
 *
 * Ownership: the caller frees a sampler with vlm_sampler_free.
 * Thread safety: a sampler is used by one thread at a time; distinct
 * samplers are independent.
 */
#ifndef VLM_SAMPLING_H
#define VLM_SAMPLING_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  float temperature;            /* <= 0: greedy */
  int top_k;                    /* <= 0: off */
  float top_p;                  /* >= 1: off */
  float min_p;                  /* <= 0: off */
  float repeat_penalty;         /* 1: off */
  int repeat_last_n;            /* tokens the penalty looks back */
  uint64_t seed;
} vlm_sampler_params;

typedef struct vlm_sampler vlm_sampler;

/* A sampler for logits of n_vocab entries. NULL on allocation failure or
 * n_vocab <= 0. */
vlm_sampler *vlm_sampler_new (vlm_sampler_params p, int n_vocab);

/* NULL is allowed. */
void vlm_sampler_free (vlm_sampler *s);

/* Forgets the token history and restarts the PRNG from the seed. */
void vlm_sampler_reset (vlm_sampler *s);

/* Adds a token to the history the repetition penalty looks at (prompt
 * tokens too). Ids outside [0, n_vocab) are ignored. */
void vlm_sampler_accept (vlm_sampler *s, int32_t token);

/* Picks a token from logits[n_vocab]. The repetition penalty is applied
 * to `logits` in place; other entries may be modified too. Does not
 * accept the token (call vlm_sampler_accept for that). */
int32_t vlm_sampler_sample (vlm_sampler *s, float *logits);

#ifdef __cplusplus
}
#endif

#endif /* VLM_SAMPLING_H */

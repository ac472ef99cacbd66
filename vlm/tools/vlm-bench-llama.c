/* vlm-bench-llama — prefill and decode speed of the llama decoder.
 *
 *   vlm-bench-llama MODEL.gguf [THREADS] [PROMPT_LEN] [N_DECODE]
 *
 * Prefills PROMPT_LEN (default 160) pseudo-random tokens in one batch,
 * then decodes N_DECODE (default 32) tokens one at a time (greedy), and
 * prints positions per second for both. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "gguf.h"
#include "llama.h"
#include "threadpool.h"

static double
now_s (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int
argmax (const float *x, int n)
{
  int best = 0;
  for (int i = 1; i < n; i++)
    if (x[i] > x[best])
      best = i;
  return best;
}

int
main (int argc, char **argv)
{
  char err[512] = "";
  vlm_status st;

  if (argc < 2) {
    fprintf (stderr, "usage: %s MODEL.gguf [THREADS] [PROMPT_LEN] "
        "[N_DECODE]\n", argv[0]);
    return 2;
  }
  int threads = argc > 2 ? atoi (argv[2]) : 2;
  int n_prompt = argc > 3 ? atoi (argv[3]) : 160;
  int n_decode = argc > 4 ? atoi (argv[4]) : 32;
  vlm_gguf *g = vlm_gguf_open (argv[1], NULL, err, sizeof err);
  if (g == NULL) {
    fprintf (stderr, "%s\n", err);
    return 1;
  }
  vlm_llama *m = vlm_llama_load (g, &st, err, sizeof err);
  if (m == NULL) {
    fprintf (stderr, "%s\n", err);
    vlm_gguf_close (g);
    return 1;
  }
  int nv = vlm_llama_n_vocab (m);
  vlm_pool *pool = vlm_pool_new (threads);
  vlm_kv_cache *kv = vlm_kv_cache_new (m, n_prompt + n_decode);
  float *logits = malloc ((size_t) nv * sizeof (float));
  int32_t *tokens = malloc ((size_t) n_prompt * sizeof (int32_t));
  if (pool == NULL || kv == NULL || logits == NULL || tokens == NULL) {
    fprintf (stderr, "out of memory\n");
    return 1;
  }
  uint32_t x = 1;
  for (int i = 0; i < n_prompt; i++) {
    x = x * 1664525u + 1013904223u;
    tokens[i] = (int32_t) ((x >> 8) % (uint32_t) nv);
  }

  double t0 = now_s ();
  st = vlm_llama_decode (m, kv, pool, tokens, NULL, n_prompt, logits, NULL);
  double t1 = now_s ();
  for (int i = 0; i < n_decode && st == VLM_OK; i++) {
    int32_t t = argmax (logits, nv);
    st = vlm_llama_decode (m, kv, pool, &t, NULL, 1, logits, NULL);
  }
  double t2 = now_s ();
  if (st != VLM_OK) {
    fprintf (stderr, "decode failed: status %d\n", (int) st);
    return 1;
  }
  printf ("threads %d  prefill %d: %.2f tok/s (%.0f ms)  decode %d: %.2f "
      "tok/s (%.1f ms/token)\n", threads, n_prompt,
      n_prompt / (t1 - t0), (t1 - t0) * 1e3, n_decode,
      n_decode / (t2 - t1), (t2 - t1) * 1e3 / n_decode);

  free (tokens);
  free (logits);
  vlm_kv_cache_free (kv);
  vlm_pool_free (pool);
  vlm_llama_free (m);
  vlm_gguf_close (g);
  return 0;
}

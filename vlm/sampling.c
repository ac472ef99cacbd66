/* gst-vlm — token sampling: penalty, greedy, top-k, top-p, min-p, draw.
 *
 * Candidates are (id, logit, probability) triples in a buffer of n_vocab
 * entries made once per sampler. Orderings are total (higher logit
 * first, lower id on ties), so results never depend on the sort used.
 */
#include "sampling.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"

typedef struct {
  int32_t id;
  float logit;
  float p;
} candidate;

struct vlm_sampler {
  vlm_sampler_params p;
  int n_vocab;
  int32_t *hist;                /* ring of the last repeat_last_n tokens */
  int hist_cap;
  int hist_len;
  int hist_pos;                 /* next slot to write */
  uint8_t *seen;                /* [n_vocab] scratch of the penalty */
  candidate *cand;              /* [n_vocab] */
  vlm_rng rng;
};

/* ------------------------------------------------------------------ */
/* Life cycle                                                          */
/* ------------------------------------------------------------------ */

vlm_sampler *
vlm_sampler_new (vlm_sampler_params p, int n_vocab)
{
  if (n_vocab <= 0)
    return NULL;
  vlm_sampler *s = calloc (1, sizeof (vlm_sampler));
  if (s == NULL)
    return NULL;
  s->p = p;
  s->n_vocab = n_vocab;
  s->hist_cap = p.repeat_last_n > 0 ? p.repeat_last_n : 0;
  s->seen = calloc ((size_t) n_vocab, 1);
  s->cand = malloc ((size_t) n_vocab * sizeof (candidate));
  if (s->hist_cap > 0)
    s->hist = malloc ((size_t) s->hist_cap * sizeof (int32_t));
  if (s->seen == NULL || s->cand == NULL
      || (s->hist_cap > 0 && s->hist == NULL)) {
    vlm_sampler_free (s);
    return NULL;
  }
  vlm_sampler_reset (s);
  return s;
}

void
vlm_sampler_free (vlm_sampler * s)
{
  if (s == NULL)
    return;
  free (s->hist);
  free (s->seen);
  free (s->cand);
  free (s);
}

void
vlm_sampler_reset (vlm_sampler * s)
{
  s->hist_len = 0;
  s->hist_pos = 0;
  vlm_rng_seed (&s->rng, s->p.seed);
}

void
vlm_sampler_accept (vlm_sampler * s, int32_t token)
{
  if (s->hist_cap == 0 || token < 0 || token >= s->n_vocab)
    return;
  s->hist[s->hist_pos] = token;
  s->hist_pos = (s->hist_pos + 1) % s->hist_cap;
  if (s->hist_len < s->hist_cap)
    s->hist_len++;
}

/* ------------------------------------------------------------------ */
/* Samplers                                                            */
/* ------------------------------------------------------------------ */

/* Each distinct token of the history once, llama.cpp's rule. */
static void
apply_repeat_penalty (vlm_sampler * s, float *logits)
{
  float pen = s->p.repeat_penalty;
  if (pen == 1.0f || !(pen > 0.0f) || s->hist_len == 0)
    return;
  for (int i = 0; i < s->hist_len; i++) {
    int32_t t = s->hist[i];
    if (s->seen[t])
      continue;
    s->seen[t] = 1;
    logits[t] = logits[t] <= 0.0f ? logits[t] * pen : logits[t] / pen;
  }
  for (int i = 0; i < s->hist_len; i++)
    s->seen[s->hist[i]] = 0;
}

/* NaN counts as minus infinity. */
static float
clean (float x)
{
  return isnan (x) ? -INFINITY : x;
}

static int32_t
argmax (const float *logits, int n)
{
  int32_t best = 0;
  float bv = clean (logits[0]);
  for (int i = 1; i < n; i++)
    if (clean (logits[i]) > bv) {
      bv = clean (logits[i]);
      best = i;
    }
  return best;
}

/* a before b: higher logit, then lower id. */
static bool
better (const candidate * a, const candidate * b)
{
  return a->logit > b->logit || (a->logit == b->logit && a->id < b->id);
}

static int
cmp_candidates (const void *pa, const void *pb)
{
  const candidate *a = pa, *b = pb;
  return better (a, b) ? -1 : better (b, a) ? 1 : 0;
}

/* Min-heap (worst candidate at the root) sift-down. */
static void
heap_down (candidate * h, int n, int i)
{
  for (;;) {
    int w = i, l = 2 * i + 1, r = l + 1;
    if (l < n && better (&h[w], &h[l]))
      w = l;
    if (r < n && better (&h[w], &h[r]))
      w = r;
    if (w == i)
      return;
    candidate t = h[i];
    h[i] = h[w];
    h[w] = t;
    i = w;
  }
}

/* Moves the k best of c[0..n) to c[0..k), sorted. O(n log k). */
static void
top_k (candidate * c, int n, int k)
{
  for (int i = k / 2 - 1; i >= 0; i--)
    heap_down (c, k, i);
  for (int i = k; i < n; i++)
    if (better (&c[i], &c[0])) {
      c[0] = c[i];
      heap_down (c, k, 0);
    }
  qsort (c, (size_t) k, sizeof (candidate), cmp_candidates);
}

/* p = softmax(logit / temperature); returns the index of the largest. */
static int
softmax_temp (candidate * c, int n, float temp)
{
  int best = 0;
  for (int i = 1; i < n; i++)
    if (c[i].logit > c[best].logit)
      best = i;
  double max = c[best].logit, sum = 0;
  for (int i = 0; i < n; i++) {
    c[i].p = (float) exp ((c[i].logit - max) / temp);
    sum += c[i].p;
  }
  for (int i = 0; i < n; i++)
    c[i].p = (float) (c[i].p / sum);
  return best;
}

/* Sorted candidates: the shortest prefix of mass >= top_p. */
static int
top_p (const candidate * c, int n, float p)
{
  double cum = 0;
  for (int i = 0; i < n; i++) {
    cum += c[i].p;
    if (cum >= p)
      return i + 1;
  }
  return n;
}

/* Candidates with p >= min_p * p_max, compacted in order; the best one
 * (index `best`) alone when none passes (min_p > 1). */
static int
min_p (candidate * c, int n, int best, float mp)
{
  float thr = mp * c[best].p;
  int kept = 0;
  if (!(c[best].p >= thr)) {
    c[0] = c[best];
    return 1;
  }
  for (int i = 0; i < n; i++)
    if (c[i].p >= thr)
      c[kept++] = c[i];
  return kept;
}

static int32_t
draw (vlm_sampler * s, const candidate * c, int n)
{
  double sum = 0;
  for (int i = 0; i < n; i++)
    sum += c[i].p;
  double r = vlm_rng_uniform (&s->rng) * sum, acc = 0;
  for (int i = 0; i < n; i++) {
    acc += c[i].p;
    if (r < acc)
      return c[i].id;
  }
  return c[n - 1].id;
}

int32_t
vlm_sampler_sample (vlm_sampler * s, float *logits)
{
  const vlm_sampler_params *p = &s->p;
  int n = s->n_vocab;

  apply_repeat_penalty (s, logits);
  if (!(p->temperature > 0.0f))
    return argmax (logits, n);

  candidate *c = s->cand;
  for (int i = 0; i < n; i++)
    c[i] = (candidate) { i, clean (logits[i]), 0.0f };
  /* all minus infinity (or NaN): nothing to weigh */
  if (c[argmax (logits, n)].logit == -INFINITY)
    return argmax (logits, n);

  bool sorted = false;
  if (p->top_k > 0 && p->top_k < n) {
    top_k (c, n, p->top_k);
    n = p->top_k;
    sorted = true;
  }
  int best = softmax_temp (c, n, p->temperature);
  if (p->top_p < 1.0f) {
    if (!sorted)
      qsort (c, (size_t) n, sizeof (candidate), cmp_candidates);
    best = 0;
    n = top_p (c, n, p->top_p);
  }
  if (p->min_p > 0.0f)
    n = min_p (c, n, best, p->min_p);
  return draw (s, c, n);
}

/* gst-vlm — a small deterministic PRNG: xoshiro256** seeded through
 * splitmix64. Same seed, same sequence, on every platform. Pure inline
 * functions; a vlm_rng is used by one thread at a time. */
#ifndef VLM_RNG_H
#define VLM_RNG_H

#include <stdint.h>

typedef struct {
  uint64_t s[4];
} vlm_rng;

/* One splitmix64 step: advances *x and returns a well-mixed value. */
static inline uint64_t
vlm_splitmix64 (uint64_t *x)
{
  uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static inline void
vlm_rng_seed (vlm_rng *r, uint64_t seed)
{
  for (int i = 0; i < 4; i++)
    r->s[i] = vlm_splitmix64 (&seed);
}

static inline uint64_t
vlm_rng_rotl (uint64_t x, int k)
{
  return (x << k) | (x >> (64 - k));
}

static inline uint64_t
vlm_rng_next (vlm_rng *r)
{
  uint64_t *s = r->s;
  uint64_t out = vlm_rng_rotl (s[1] * 5, 7) * 9, t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = vlm_rng_rotl (s[3], 45);
  return out;
}

/* Uniform double in [0, 1) with 53 random bits. */
static inline double
vlm_rng_uniform (vlm_rng *r)
{
  return (double) (vlm_rng_next (r) >> 11) * 0x1p-53;
}

#endif /* VLM_RNG_H */

/* gst-vlm — run-time CPU feature detection. */
#include "cpu.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__)
#include <cpuid.h>
#endif

#if defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1 << 20)
#endif
#endif

static const char *const level_names[VLM_CPU_N_LEVELS] = {
  "ref", "avx2", "avx512", "neon", "dotprod",
};

/* -1 until resolved; then the level in use. */
static atomic_int current_level = -1;

const char *
vlm_cpu_level_name (vlm_cpu_level level)
{
  if ((int) level < 0 || level >= VLM_CPU_N_LEVELS)
    return "unknown";
  return level_names[level];
}

/* ------------------------------------------------------------------ */
/* Detection                                                           */
/* ------------------------------------------------------------------ */

#if defined(__x86_64__)
/* F16C (leaf 1) and AVX512-VNNI (leaf 7) straight from CPUID: not every
 * compiler's __builtin_cpu_supports knows these names. The OS support of
 * the YMM / ZMM state is checked through "avx2" / "avx512f". */
static bool
x86_has_f16c (void)
{
  unsigned a, b, c, d;
  if (!__get_cpuid (1, &a, &b, &c, &d))
    return false;
  return (c >> 29) & 1;
}

static bool
x86_has_vnni (void)
{
  unsigned a, b, c, d;
  if (!__get_cpuid_count (7, 0, &a, &b, &c, &d))
    return false;
  return (c >> 11) & 1;
}
#endif

bool
vlm_cpu_has (vlm_cpu_level level)
{
  switch (level) {
    case VLM_CPU_REF:
      return true;
#if defined(__x86_64__) && defined(__GNUC__)
    case VLM_CPU_AVX2:
      __builtin_cpu_init ();
      return __builtin_cpu_supports ("avx2") && __builtin_cpu_supports ("fma")
          && x86_has_f16c ();
    case VLM_CPU_AVX512:
      return vlm_cpu_has (VLM_CPU_AVX2)
          && __builtin_cpu_supports ("avx512f")
          && __builtin_cpu_supports ("avx512bw")
          && __builtin_cpu_supports ("avx512vl")
          && x86_has_vnni ();
#endif
#if defined(__aarch64__)
    case VLM_CPU_NEON:
      return true;              /* Advanced SIMD is part of the baseline */
    case VLM_CPU_DOTPROD:
#if defined(__linux__)
      return (getauxval (AT_HWCAP) & HWCAP_ASIMDDP) != 0;
#else
      return false;
#endif
#endif
    default:
      return false;
  }
}

vlm_cpu_level
vlm_cpu_best (void)
{
  for (int l = VLM_CPU_N_LEVELS - 1; l > VLM_CPU_REF; l--)
    if (vlm_cpu_has ((vlm_cpu_level) l))
      return (vlm_cpu_level) l;
  return VLM_CPU_REF;
}

/* The level VLM_CPU names, capped to what the machine has: the best
 * supported level of the same architecture not above it. */
static vlm_cpu_level
level_from_env (void)
{
  const char *env = getenv ("VLM_CPU");
  vlm_cpu_level best = vlm_cpu_best ();

  if (env == NULL || *env == '\0')
    return best;
  for (int l = 0; l < VLM_CPU_N_LEVELS; l++) {
    if (strcmp (env, level_names[l]) != 0)
      continue;
    for (int c = l; c > VLM_CPU_REF; c--)
      if (vlm_cpu_has ((vlm_cpu_level) c))
        return (vlm_cpu_level) c;
    return VLM_CPU_REF;
  }
  return best;
}

vlm_cpu_level
vlm_cpu_get_level (void)
{
  int l = atomic_load_explicit (&current_level, memory_order_acquire);

  if (l < 0) {
    int expected = -1;
    l = (int) level_from_env ();
    /* first resolver wins; a concurrent one computed the same value */
    if (!atomic_compare_exchange_strong (&current_level, &expected, l))
      l = expected;
  }
  return (vlm_cpu_level) l;
}

bool
vlm_cpu_set_level (vlm_cpu_level level)
{
  if (!vlm_cpu_has (level))
    return false;
  atomic_store_explicit (&current_level, (int) level, memory_order_release);
  return true;
}

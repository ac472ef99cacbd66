/* gst-vlm — run-time CPU feature detection and kernel path selection.
 *
 * The engine is built for the baseline of its architecture (x86-64 or
 * aarch64); faster kernels are compiled for wider instruction sets and
 * picked at run time from what the CPU reports. The environment
 * variable VLM_CPU=ref|avx2|avx512|neon|dotprod forces a path (for tests
 * and benchmarks); a path the CPU lacks falls back to the best one it
 * has, never above it.
 *
 * Thread safety: every function may be called from any thread.
 * vlm_cpu_set_level changes the path for the whole process and must not
 * race with running matrix products.
 */
#ifndef VLM_CPU_H
#define VLM_CPU_H

#include <stdbool.h>

/* Kernel paths, ordered by width within each architecture. */
typedef enum {
  VLM_CPU_REF = 0,              /* portable C */
  VLM_CPU_AVX2,                 /* x86-64: AVX2 + FMA + F16C */
  VLM_CPU_AVX512,               /* x86-64: AVX-512 F/BW/VL/VNNI + the above */
  VLM_CPU_NEON,                 /* aarch64: Advanced SIMD */
  VLM_CPU_DOTPROD,              /* aarch64: NEON + SDOT (ARMv8.2 dotprod) */
  VLM_CPU_N_LEVELS
} vlm_cpu_level;

/* Short name of a level ("ref", "avx2", ...). Static storage. */
const char *vlm_cpu_level_name (vlm_cpu_level level);

/* true when this build has kernels for `level` and the CPU runs them. */
bool vlm_cpu_has (vlm_cpu_level level);

/* The best level the CPU supports (detected once, then cached). */
vlm_cpu_level vlm_cpu_best (void);

/* The level in use: VLM_CPU from the environment when set and
 * supported, else vlm_cpu_best (); vlm_cpu_set_level overrides both. */
vlm_cpu_level vlm_cpu_get_level (void);

/* Forces `level` for the process. Returns false (and changes nothing)
 * when the CPU or the build lacks it. */
bool vlm_cpu_set_level (vlm_cpu_level level);

#endif /* VLM_CPU_H */

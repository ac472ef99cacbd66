/* gst-vlm — inner kernels of the matrix products (internal header).
 *
 * One table of kernels per CPU path (see cpu.h). Every table computes the
 * same functions; the reference table is plain C and the SIMD tables are
 * checked against it by tests/test-kernels.c.
 *
 * Activation formats (the GGUF ones):
 *   Q8_0  blocks of 32: fp16 d, int8 q[32]           (for Q8_0, Q4_0 W)
 *   Q8_K  blocks of 256: float d, int8 q[256], int16 sums of each 16
 *         consecutive q                             (for Q4_K, Q6_K W)
 * with d = max|x| / 127 and q = round(x / d).
 *
 * Thread safety: the tables are immutable; every kernel is reentrant and
 * writes only its output.
 */
#ifndef VLM_KERNELS_H
#define VLM_KERNELS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cpu.h"
#include "types.h"

#define VLM_QK8_0 32
#define VLM_Q8_0_BYTES 34
#define VLM_Q4_0_BYTES 18
#define VLM_Q4_K_BYTES 144
#define VLM_Q6_K_BYTES 210

/* One Q8_K block of activations. */
typedef struct {
  float d;
  int8_t q[VLM_QK_K];
  int16_t bsums[VLM_QK_K / 16];
} vlm_block_q8_k;

/* Weight classes the tile kernels are indexed by. */
typedef enum {
  VLM_KW_F32, VLM_KW_F16, VLM_KW_BF16,
  VLM_KW_Q8_0, VLM_KW_Q4_0, VLM_KW_Q4_K, VLM_KW_Q6_K,
  VLM_KW_COUNT
} vlm_kw;

/* Quantises one row of k activations (k a multiple of the block) into
 * `y`, in the activation format of the weight class. */
typedef void (*vlm_quant_fn) (const float *x, void *y, int64_t k);

/* Dot-product tile: for i < mr (weight rows, `ldw` bytes apart) and
 * j < nr (activation rows, `ldx` bytes apart, in the weight class's
 * activation format: float rows for F32/F16/BF16),
 *     y[j * ldy + i] = dot (W_i, X_j) over k elements.
 * mr <= table.mr and nr <= table.nr. Overwrites y; adds no bias. */
typedef void (*vlm_tile_fn) (int64_t k, const void *w, size_t ldw, int mr,
    const void *x, size_t ldx, int nr, float *y, size_t ldy);

/* Packs rows [0, rows) of a float-class weight, columns [l0, l0 + kc),
 * into wp[l][nr] as float32 (kc x nr, zero for rows >= `rows`). */
typedef void (*vlm_pack_fn) (const void *w, size_t ldw, int rows,
    int64_t l0, int kc, float *wp, int nr);

/* GEMM micro-kernel: c[r * ldc + col] += sum_l xp[l * gmr + r] *
 * wp[l * gnr + col] for r < mr and col < ncols; xp and wp are packed
 * panels of kc steps (gmr activation rows, gnr weight rows per step). */
typedef void (*vlm_ukernel_fn) (int kc, const float *xp, const float *wp,
    int mr, int ncols, float *c, size_t ldc);

typedef struct {
  vlm_cpu_level level;
  vlm_quant_fn quant_q8_0;
  vlm_quant_fn quant_q8_k;
  vlm_tile_fn tile[VLM_KW_COUNT];
  int mr, nr;                   /* largest tile of `tile` */
  /* float GEMM path (NULL ukernel: use the tiles for every n) */
  vlm_pack_fn pack[3];          /* F32, F16, BF16 */
  vlm_ukernel_fn ukernel;
  int gmr, gnr, gkc;            /* micro-tile and depth of a panel */
} vlm_kernels;

/* The table for `level`, or NULL when this build has none for it (the
 * CPU may still lack it: check vlm_cpu_has). Static storage. */
const vlm_kernels *vlm_kernels_for (vlm_cpu_level level);

/* The table of the level in use (vlm_cpu_get_level). */
const vlm_kernels *vlm_kernels_get (void);

/* Per-path tables, defined by the files of each architecture. */
extern const vlm_kernels vlm_kernels_ref;
#if defined(__x86_64__)
extern const vlm_kernels vlm_kernels_avx2;
extern const vlm_kernels vlm_kernels_avx512;
#endif
#if defined(__aarch64__)
extern const vlm_kernels vlm_kernels_neon;
extern const vlm_kernels vlm_kernels_dotprod;
#endif

/* ------------------------------------------------------------------ */
/* Shared scalar helpers (pure)                                        */
/* ------------------------------------------------------------------ */

static inline uint16_t
vlm_k_u16 (const uint8_t *p)
{
  uint16_t v;
  memcpy (&v, p, 2);
  return v;
}

/* The 6-bit scale and min of sub-block j (0..7) of a Q4_K block from its
 * 12 packed scale bytes. */
static inline void
vlm_k_q4k_scale (const uint8_t *s, int j, uint8_t *sc, uint8_t *m)
{
  if (j < 4) {
    *sc = s[j] & 63;
    *m = s[j + 4] & 63;
  } else {
    *sc = (uint8_t) ((s[j + 4] & 0xf) | ((s[j - 4] >> 6) << 4));
    *m = (uint8_t) ((s[j + 4] >> 4) | ((s[j] >> 6) << 4));
  }
}

/* Reference activation quantisers, also used by the SIMD tables for
 * tails and as the definition of the formats. */
void vlm_k_quant_q8_0_ref (const float *x, void *y, int64_t k);
void vlm_k_quant_q8_k_ref (const float *x, void *y, int64_t k);

/* Reference tile kernels (used by SIMD tables for classes they lack). */
void vlm_k_tile_ref (vlm_kw kw, int64_t k, const void *w, size_t ldw,
    int mr, const void *x, size_t ldx, int nr, float *y, size_t ldy);

/* Reference packers for the float classes. */
void vlm_k_pack_f32_ref (const void *w, size_t ldw, int rows, int64_t l0,
    int kc, float *wp, int nr);
void vlm_k_pack_f16_ref (const void *w, size_t ldw, int rows, int64_t l0,
    int kc, float *wp, int nr);
void vlm_k_pack_bf16_ref (const void *w, size_t ldw, int rows, int64_t l0,
    int kc, float *wp, int nr);

#endif /* VLM_KERNELS_H */

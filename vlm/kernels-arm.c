/* gst-vlm — aarch64 NEON kernels (Raspberry Pi 5, RK3588, ...).
 *
 * Kept small: Q8_0 / Q4_0 dot products on NEON (widening multiplies) and
 * on the ARMv8.2 dot-product extension (SDOT), and float tiles with FMA;
 * the k-quants use the reference tiles. Compile-checked with
 * gcc-aarch64-linux-gnu; not run in CI on x86. */
#include "kernels.h"

#if defined(__aarch64__)

#include <arm_neon.h>

#include "quant.h"

/* GCC declares vdotq_s32 for any aarch64 target with a per-function
 * target; older clang only with -march=...+dotprod. */
#if defined(__ARM_FEATURE_DOTPROD) || (defined(__GNUC__) && !defined(__clang__))
#define HAVE_SDOT 1
#define TGT_DOT __attribute__((target ("arch=armv8.2-a+dotprod")))
#else
#define HAVE_SDOT 0
#define TGT_DOT
#endif

static float
ld_fp16 (const uint8_t *p)
{
  return vlm_fp16_to_fp32 (vlm_k_u16 (p));
}

/* ------------------------------------------------------------------ */
/* Block dot products (32 int8 pairs -> int32)                         */
/* ------------------------------------------------------------------ */

static inline int32_t
dot32_neon (int8x16_t a0, int8x16_t a1, const int8_t *x)
{
  int8x16_t b0 = vld1q_s8 (x), b1 = vld1q_s8 (x + 16);
  int16x8_t p0 = vmull_s8 (vget_low_s8 (a0), vget_low_s8 (b0));
  int16x8_t p1 = vmull_high_s8 (a0, b0);
  int16x8_t p2 = vmull_s8 (vget_low_s8 (a1), vget_low_s8 (b1));
  int16x8_t p3 = vmull_high_s8 (a1, b1);
  int32x4_t s = vpaddlq_s16 (p0);
  s = vpadalq_s16 (s, p1);
  s = vpadalq_s16 (s, p2);
  s = vpadalq_s16 (s, p3);
  return vaddvq_s32 (s);
}

#if HAVE_SDOT
TGT_DOT static inline int32_t
dot32_sdot (int8x16_t a0, int8x16_t a1, const int8_t *x)
{
  int32x4_t s = vdotq_s32 (vdupq_n_s32 (0), a0, vld1q_s8 (x));
  s = vdotq_s32 (s, a1, vld1q_s8 (x + 16));
  return vaddvq_s32 (s);
}
#endif

/* Q4_0 block as two signed int8x16 (levels - 8). */
static inline void
q4_0_unpack (const uint8_t *p, int8x16_t *lo, int8x16_t *hi)
{
  uint8x16_t v = vld1q_u8 (p + 2);
  int8x16_t eight = vdupq_n_s8 (8);
  *lo = vsubq_s8 (vreinterpretq_s8_u8 (vandq_u8 (v, vdupq_n_u8 (0xf))), eight);
  *hi = vsubq_s8 (vreinterpretq_s8_u8 (vshrq_n_u8 (v, 4)), eight);
}

/* One (W row, X row) pair per call: small and obviously right. */
#define QTILE(name, DOT, TGT, WB, UNPACK)                                   \
  TGT static void                                                           \
  name (int64_t k, const void *w, size_t ldw, int mr, const void *x,        \
      size_t ldx, int nr, float *y, size_t ldy)                             \
  {                                                                         \
    for (int j = 0; j < nr; j++)                                            \
      for (int i = 0; i < mr; i++) {                                        \
        const uint8_t *pw = (const uint8_t *) w + i * ldw;                  \
        const uint8_t *px = (const uint8_t *) x + j * ldx;                  \
        float s = 0.0f;                                                     \
        for (int64_t b = 0; b < k / 32; b++, pw += WB, px += 34) {          \
          int8x16_t a0, a1;                                                 \
          UNPACK;                                                           \
          s += ld_fp16 (pw) * ld_fp16 (px)                                  \
              * (float) DOT (a0, a1, (const int8_t *) (px + 2));            \
        }                                                                   \
        y[j * ldy + i] = s;                                                 \
      }                                                                     \
  }

#define UNPACK_Q8 a0 = vld1q_s8 ((const int8_t *) (pw + 2)); \
  a1 = vld1q_s8 ((const int8_t *) (pw + 18))
#define UNPACK_Q4 q4_0_unpack (pw, &a0, &a1)

QTILE (tile_q8_0_neon, dot32_neon, , 34, UNPACK_Q8)
QTILE (tile_q4_0_neon, dot32_neon, , 18, UNPACK_Q4)
#if HAVE_SDOT
QTILE (tile_q8_0_sdot, dot32_sdot, TGT_DOT, 34, UNPACK_Q8)
QTILE (tile_q4_0_sdot, dot32_sdot, TGT_DOT, 18, UNPACK_Q4)
#else
#define tile_q8_0_sdot tile_q8_0_neon
#define tile_q4_0_sdot tile_q4_0_neon
#endif

/* ------------------------------------------------------------------ */
/* Float tiles                                                         */
/* ------------------------------------------------------------------ */

static inline float32x4_t
ld4_f32 (const uint8_t *p)
{
  return vld1q_f32 ((const float *) p);
}

static inline float32x4_t
ld4_f16 (const uint8_t *p)
{
  return vcvt_f32_f16 (vreinterpret_f16_u16 (vld1_u16 ((const uint16_t *) p)));
}

static inline float32x4_t
ld4_bf16 (const uint8_t *p)
{
  uint32x4_t v = vmovl_u16 (vld1_u16 ((const uint16_t *) p));
  return vreinterpretq_f32_u32 (vshlq_n_u32 (v, 16));
}

#define FTILE(T, ES, KW)                                                    \
  static void                                                               \
  tile_##T##_neon (int64_t k, const void *w, size_t ldw, int mr,            \
      const void *x, size_t ldx, int nr, float *y, size_t ldy)              \
  {                                                                         \
    int64_t k4 = k / 4 * 4;                                                 \
    for (int j = 0; j < nr; j++)                                           \
      for (int i = 0; i < mr; i++) {                                        \
        const uint8_t *pw = (const uint8_t *) w + i * ldw;                  \
        const float *px = (const float *) ((const uint8_t *) x + j * ldx);  \
        float32x4_t acc = vdupq_n_f32 (0.0f);                               \
        for (int64_t l = 0; l < k4; l += 4)                                 \
          acc = vfmaq_f32 (acc, ld4_##T (pw + ES * l), vld1q_f32 (px + l)); \
        y[j * ldy + i] = vaddvq_f32 (acc);                                  \
      }                                                                     \
    if (k4 == k)                                                            \
      return;                                                               \
    float tail[16];                                                         \
    for (int j = 0; j < nr; j++) {                                          \
      const uint8_t *px = (const uint8_t *) x + j * ldx + 4 * k4;           \
      vlm_k_tile_ref (KW, k - k4, (const uint8_t *) w + ES * k4, ldw, mr,   \
          px, ldx, 1, tail, 1);                                             \
      for (int i = 0; i < mr; i++)                                          \
        y[j * ldy + i] += tail[i];                                          \
    }                                                                       \
  }

FTILE (f32, 4, VLM_KW_F32)
FTILE (f16, 2, VLM_KW_F16)
FTILE (bf16, 2, VLM_KW_BF16)

#define REF_TILE(name, kw)                                                  \
  static void                                                               \
  name (int64_t k, const void *w, size_t ldw, int mr, const void *x,        \
      size_t ldx, int nr, float *y, size_t ldy)                             \
  {                                                                         \
    vlm_k_tile_ref (kw, k, w, ldw, mr, x, ldx, nr, y, ldy);                 \
  }

REF_TILE (tile_q4_k_ref, VLM_KW_Q4_K)
REF_TILE (tile_q6_k_ref, VLM_KW_Q6_K)

/* ------------------------------------------------------------------ */
/* Tables                                                              */
/* ------------------------------------------------------------------ */

const vlm_kernels vlm_kernels_neon = {
  .level = VLM_CPU_NEON,
  .quant_q8_0 = vlm_k_quant_q8_0_ref,
  .quant_q8_k = vlm_k_quant_q8_k_ref,
  .tile = { tile_f32_neon, tile_f16_neon, tile_bf16_neon, tile_q8_0_neon,
      tile_q4_0_neon, tile_q4_k_ref, tile_q6_k_ref },
  .mr = 4, .nr = 4,
  .pack = { vlm_k_pack_f32_ref, vlm_k_pack_f16_ref, vlm_k_pack_bf16_ref },
  .ukernel = NULL,
};

const vlm_kernels vlm_kernels_dotprod = {
  .level = VLM_CPU_DOTPROD,
  .quant_q8_0 = vlm_k_quant_q8_0_ref,
  .quant_q8_k = vlm_k_quant_q8_k_ref,
  .tile = { tile_f32_neon, tile_f16_neon, tile_bf16_neon, tile_q8_0_sdot,
      tile_q4_0_sdot, tile_q4_k_ref, tile_q6_k_ref },
  .mr = 4, .nr = 4,
  .pack = { vlm_k_pack_f32_ref, vlm_k_pack_f16_ref, vlm_k_pack_bf16_ref },
  .ukernel = NULL,
};

#endif /* __aarch64__ */

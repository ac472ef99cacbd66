/* gst-vlm — x86 SIMD kernels, instantiated once per instruction set by
 * kernels-x86.c (internal; no include guard on purpose).
 *
 * Before including, define:
 *   SFX        suffix of the generated names (avx2, avx512)
 *   TGT        the target attribute of every function
 *   X86_512    1 to use AVX-512 (VNNI dot products, zmm GEMM kernel)
 */

#define X_CAT2(a, b) a##_##b
#define X_CAT(a, b) X_CAT2 (a, b)
#define NAME(f) X_CAT (f, SFX)
#define INL TGT static inline __attribute__((always_inline))

/* Full unrolling of the fixed-size tile loops keeps accumulators in
 * registers. */
#if defined(__clang__)
#define UNROLL _Pragma ("unroll")
#else
#define UNROLL _Pragma ("GCC unroll 16")
#endif

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

INL float
NAME (hsum8) (__m256 v)
{
  __m128 s = _mm_add_ps (_mm256_castps256_ps128 (v),
      _mm256_extractf128_ps (v, 1));
  s = _mm_add_ps (s, _mm_movehl_ps (s, s));
  s = _mm_add_ss (s, _mm_movehdup_ps (s));
  return _mm_cvtss_f32 (s);
}

INL float
NAME (ld_fp16) (const uint8_t *p)
{
  return _cvtsh_ss (vlm_k_u16 (p));
}

/* Eight int32 partial sums of |w| * (x with the sign of w), i.e. of
 * w * x over 32 int8 pairs. `aw` is |w|. */
INL __m256i
NAME (dot_s8) (__m256i aw, __m256i w, __m256i x)
{
  __m256i sx = _mm256_sign_epi8 (x, w);
#if X86_512
  return _mm256_dpbusd_epi32 (_mm256_setzero_si256 (), aw, sx);
#else
  return _mm256_madd_epi16 (_mm256_maddubs_epi16 (aw, sx),
      _mm256_set1_epi16 (1));
#endif
}

INL __m256i
NAME (loadu) (const void *p)
{
  return _mm256_loadu_si256 ((const __m256i *) p);
}

/* ------------------------------------------------------------------ */
/* Activation quantisers                                               */
/* ------------------------------------------------------------------ */

/* Quantises 8*nv floats with 1/d = id into int8 at q (nv % 4 == 0). */
INL void
NAME (round_store) (const float *x, int nv, float id, int8_t *q)
{
  const __m256i perm = _mm256_setr_epi32 (0, 4, 1, 5, 2, 6, 3, 7);
  __m256 vid = _mm256_set1_ps (id);

  for (int v = 0; v < nv; v += 4) {
    __m256i i0 = _mm256_cvtps_epi32 (_mm256_mul_ps (_mm256_loadu_ps (x + 8 * v), vid));
    __m256i i1 = _mm256_cvtps_epi32 (_mm256_mul_ps (_mm256_loadu_ps (x + 8 * v + 8), vid));
    __m256i i2 = _mm256_cvtps_epi32 (_mm256_mul_ps (_mm256_loadu_ps (x + 8 * v + 16), vid));
    __m256i i3 = _mm256_cvtps_epi32 (_mm256_mul_ps (_mm256_loadu_ps (x + 8 * v + 24), vid));
    __m256i p = _mm256_packs_epi16 (_mm256_packs_epi32 (i0, i1),
        _mm256_packs_epi32 (i2, i3));
    _mm256_storeu_si256 ((__m256i *) (q + 8 * v),
        _mm256_permutevar8x32_epi32 (p, perm));
  }
}

INL float
NAME (absmax) (const float *x, int nv)
{
  const __m256 sign = _mm256_set1_ps (-0.0f);
  __m256 m = _mm256_setzero_ps ();

  for (int v = 0; v < nv; v++)
    m = _mm256_max_ps (m, _mm256_andnot_ps (sign, _mm256_loadu_ps (x + 8 * v)));
  __m128 h = _mm_max_ps (_mm256_castps256_ps128 (m), _mm256_extractf128_ps (m, 1));
  h = _mm_max_ps (h, _mm_movehl_ps (h, h));
  h = _mm_max_ss (h, _mm_movehdup_ps (h));
  return _mm_cvtss_f32 (h);
}

TGT static void
NAME (quant_q8_0) (const float *x, void *y, int64_t k)
{
  uint8_t *out = y;

  for (int64_t b = 0; b < k / 32; b++, x += 32, out += 34) {
    float d = NAME (absmax) (x, 4) / 127.0f;
    uint16_t h = vlm_fp32_to_fp16 (d);
    memcpy (out, &h, 2);
    NAME (round_store) (x, 4, d != 0.0f ? 1.0f / d : 0.0f, (int8_t *) (out + 2));
  }
}

TGT static void
NAME (quant_q8_k) (const float *x, void *y, int64_t k)
{
  vlm_block_q8_k *out = y;

  for (int64_t b = 0; b < k / VLM_QK_K; b++, x += VLM_QK_K, out++) {
    float d = NAME (absmax) (x, VLM_QK_K / 8) / 127.0f;
    out->d = d;
    NAME (round_store) (x, VLM_QK_K / 8, d != 0.0f ? 1.0f / d : 0.0f, out->q);
    for (int g = 0; g < VLM_QK_K / 16; g++) {
      int s = 0;
      for (int i = 0; i < 16; i++)
        s += out->q[16 * g + i];
      out->bsums[g] = (int16_t) s;
    }
  }
}

/* ------------------------------------------------------------------ */
/* Tile template: MR x NR fixed at each instantiation                  */
/* ------------------------------------------------------------------ */

/* y[j * ldy + i] = sum of the 8 lanes of acc[i][j]. */
#define TILE_STORE()                                                        \
  UNROLL                                                                    \
  for (int j = 0; j < NR; j++)                                              \
    UNROLL                                                                  \
    for (int i = 0; i < MR; i++)                                            \
      y[j * ldy + i] = NAME (hsum8) (acc[i][j])

#define TILE_ZERO()                                                         \
  __m256 acc[4][4];                                                         \
  UNROLL                                                                    \
  for (int i = 0; i < MR; i++)                                              \
    UNROLL                                                                  \
    for (int j = 0; j < NR; j++)                                            \
      acc[i][j] = _mm256_setzero_ps ()

/* Instantiates NAME(fn) dispatching (mr, nr) in 1..4 to the inlined
 * template NAME(fn##_t). */
#define TILE_DISPATCH(fn)                                                   \
  TGT static void                                                           \
  NAME (fn) (int64_t k, const void *w, size_t ldw, int mr, const void *x,   \
      size_t ldx, int nr, float *y, size_t ldy)                             \
  {                                                                         \
    const uint8_t *pw = w, *px = x;                                         \
    switch (mr * 8 + nr) {                                                  \
      TILE_CASE (fn, 1, 1) TILE_CASE (fn, 1, 2) TILE_CASE (fn, 1, 3)        \
      TILE_CASE (fn, 1, 4) TILE_CASE (fn, 2, 1) TILE_CASE (fn, 2, 2)        \
      TILE_CASE (fn, 2, 3) TILE_CASE (fn, 2, 4) TILE_CASE (fn, 3, 1)        \
      TILE_CASE (fn, 3, 2) TILE_CASE (fn, 3, 3) TILE_CASE (fn, 3, 4)        \
      TILE_CASE (fn, 4, 1) TILE_CASE (fn, 4, 2) TILE_CASE (fn, 4, 3)        \
      TILE_CASE (fn, 4, 4)                                                  \
      default:                                                              \
        break;                                                              \
    }                                                                       \
  }
#define TILE_CASE(fn, a, b)                                                 \
  case a * 8 + b:                                                           \
    NAME (fn##_t) (k, pw, ldw, px, ldx, y, ldy, a, b);                      \
    break;

/* -- Q8_0 and Q4_0 weights, Q8_0 activations ----------------------- */

INL void
NAME (tile_q8_0_t) (int64_t k, const uint8_t *w, size_t ldw,
    const uint8_t *x, size_t ldx, float *y, size_t ldy,
    const int MR, const int NR)
{
  TILE_ZERO ();
  for (int64_t b = 0; b < k / 32; b++) {
    __m256i wq[4], aw[4];
    float dw[4];
    UNROLL
    for (int i = 0; i < MR; i++) {
      const uint8_t *p = w + i * ldw + 34 * b;
      wq[i] = NAME (loadu) (p + 2);
      aw[i] = _mm256_sign_epi8 (wq[i], wq[i]);
      dw[i] = NAME (ld_fp16) (p);
    }
    UNROLL
    for (int j = 0; j < NR; j++) {
      const uint8_t *p = x + j * ldx + 34 * b;
      __m256i xq = NAME (loadu) (p + 2);
      float dx = NAME (ld_fp16) (p);
      UNROLL
      for (int i = 0; i < MR; i++) {
        __m256i s = NAME (dot_s8) (aw[i], wq[i], xq);
        acc[i][j] = _mm256_fmadd_ps (_mm256_cvtepi32_ps (s),
            _mm256_set1_ps (dw[i] * dx), acc[i][j]);
      }
    }
  }
  TILE_STORE ();
}

/* The 8 copies of a binary16 scale as floats (one broadcast load). */
INL __m256
NAME (bcast_fp16) (const uint8_t *p)
{
  return _mm256_cvtph_ps (_mm_set1_epi16 ((short) vlm_k_u16 (p)));
}

#if X86_512
/* VNNI form. The 16 packed bytes go to both halves unshifted: the low
 * half keeps the low nibbles (weights 0..15), the high half the high
 * nibbles in place, i.e. 16 x weights 16..31 (dpbusd accumulates in
 * int32 without the saturation of maddubs, so 240 x 127 is fine). The
 * high lanes' 16 is taken back by the scale: d/16 there, exact, so the
 * result equals the shifted form bit for bit while the unpacking costs
 * one AND instead of shift, insert and AND. The -8 offset becomes
 * -8 sum x (low) and -128 sum x (high), once per activation block. */
INL void
NAME (tile_q4_0_t) (int64_t k, const uint8_t *w, size_t ldw,
    const uint8_t *x, size_t ldx, float *y, size_t ldy,
    const int MR, const int NR)
{
  const __m256i mask = _mm256_set_m128i (_mm_set1_epi8 ((char) 0xf0),
      _mm_set1_epi8 (0x0f));
  const __m256i off = _mm256_set_m128i (_mm_set1_epi8 ((char) 128),
      _mm_set1_epi8 (8));
  const __m256 sixteenth = _mm256_set_m128 (_mm_set1_ps (1.0f / 16),
      _mm_set1_ps (1.0f));

  TILE_ZERO ();
  for (int64_t b = 0; b < k / 32; b++) {
    __m256i xq[4], corr[4];
    __m256 dx[4];
    UNROLL
    for (int j = 0; j < NR; j++) {
      const uint8_t *p = x + j * ldx + 34 * b;
      xq[j] = NAME (loadu) (p + 2);
      corr[j] = _mm256_sub_epi32 (_mm256_setzero_si256 (),
          _mm256_dpbusd_epi32 (_mm256_setzero_si256 (), off, xq[j]));
      dx[j] = _mm256_mul_ps (NAME (bcast_fp16) (p), sixteenth);
    }
    UNROLL
    for (int i = 0; i < MR; i++) {
      const uint8_t *p = w + i * ldw + 18 * b;
      __m256i q = _mm256_and_si256 (_mm256_broadcastsi128_si256 (
              _mm_loadu_si128 ((const __m128i *) (p + 2))), mask);
      __m256 dw = NAME (bcast_fp16) (p);
      UNROLL
      for (int j = 0; j < NR; j++) {
        __m256i s = _mm256_dpbusd_epi32 (corr[j], q, xq[j]);
        acc[i][j] = _mm256_fmadd_ps (_mm256_cvtepi32_ps (s),
            _mm256_mul_ps (dw, dx[j]), acc[i][j]);
      }
    }
  }
  TILE_STORE ();
}
#else
/* Q4_0 levels stay unsigned (0..15): sum (q - 8) x is computed as
 * sum q x - 8 sum x, the second term once per activation block. */
INL __m256i
NAME (dot_u4) (__m256i q, __m256i x, __m256i minus_8sx)
{
  return _mm256_add_epi32 (minus_8sx, _mm256_madd_epi16 (
          _mm256_maddubs_epi16 (q, x), _mm256_set1_epi16 (1)));
}

INL __m256i
NAME (minus_8sum) (__m256i x)
{
  return _mm256_sub_epi32 (_mm256_setzero_si256 (), _mm256_madd_epi16 (
          _mm256_maddubs_epi16 (_mm256_set1_epi8 (8), x),
          _mm256_set1_epi16 (1)));
}

INL void
NAME (tile_q4_0_t) (int64_t k, const uint8_t *w, size_t ldw,
    const uint8_t *x, size_t ldx, float *y, size_t ldy,
    const int MR, const int NR)
{
  const __m256i m4 = _mm256_set1_epi8 (0xf);

  TILE_ZERO ();
  for (int64_t b = 0; b < k / 32; b++) {
    __m256i wq[4];
    float dw[4];
    UNROLL
    for (int i = 0; i < MR; i++) {
      const uint8_t *p = w + i * ldw + 18 * b;
      __m128i n = _mm_loadu_si128 ((const __m128i *) (p + 2));
      __m256i v = _mm256_set_m128i (_mm_srli_epi16 (n, 4), n);
      wq[i] = _mm256_and_si256 (v, m4);
      dw[i] = NAME (ld_fp16) (p);
    }
    UNROLL
    for (int j = 0; j < NR; j++) {
      const uint8_t *p = x + j * ldx + 34 * b;
      __m256i xq = NAME (loadu) (p + 2);
      __m256i corr = NAME (minus_8sum) (xq);
      float dx = NAME (ld_fp16) (p);
      UNROLL
      for (int i = 0; i < MR; i++) {
        __m256i s = NAME (dot_u4) (wq[i], xq, corr);
        acc[i][j] = _mm256_fmadd_ps (_mm256_cvtepi32_ps (s),
            _mm256_set1_ps (dw[i] * dx), acc[i][j]);
      }
    }
  }
  TILE_STORE ();
}
#endif

/* -- Q4_K weights, Q8_K activations --------------------------------- */

/* One Q4_K block unpacked for dot products. */
typedef struct {
  __m256i q[8];                 /* sub-block s: 32 levels 0..15 */
  __m256i sc[8];                /* sub-block s: its scale in 16 int16 */
  __m256i mins;                 /* int16 lane t: min of sub-block t/2 */
  float d, dmin;
} NAME (q4k_unpacked);

/* The 8 scales and 8 mins of a Q4_K block (12 packed bytes at s) as
 * bytes, by whole-word bit operations. */
INL void
NAME (q4k_scales) (const uint8_t *s, uint32_t *sc, uint32_t *mn)
{
  uint32_t u0, u1, u2;

  memcpy (&u0, s, 4);
  memcpy (&u1, s + 4, 4);
  memcpy (&u2, s + 8, 4);
  sc[0] = u0 & 0x3f3f3f3fu;
  mn[0] = u1 & 0x3f3f3f3fu;
  sc[1] = (u2 & 0x0f0f0f0fu) | (((u0 >> 6) & 0x03030303u) << 4);
  mn[1] = ((u2 >> 4) & 0x0f0f0f0fu) | (((u1 >> 6) & 0x03030303u) << 4);
}

INL void
NAME (q4k_unpack) (const uint8_t *p, NAME (q4k_unpacked) * u)
{
  const __m256i m4 = _mm256_set1_epi8 (0xf);
  uint32_t sc[2], mn[2];

  u->d = NAME (ld_fp16) (p);
  u->dmin = NAME (ld_fp16) (p + 2);
  NAME (q4k_scales) (p + 4, sc, mn);
  /* 8 int16 scales in both lanes; one shuffle picks scale s */
  __m128i s16 = _mm_cvtepu8_epi16 (_mm_set_epi32 (0, 0, (int) sc[1],
          (int) sc[0]));
  __m256i sb = _mm256_broadcastsi128_si256 (s16);
  UNROLL
  for (int s = 0; s < 8; s++)
    u->sc[s] = _mm256_shuffle_epi8 (sb,
        _mm256_set1_epi16 ((short) (((2 * s + 1) << 8) | (2 * s))));
  __m128i m8 = _mm_set_epi32 (0, 0, (int) mn[1], (int) mn[0]);
  u->mins = _mm256_cvtepu8_epi16 (_mm_unpacklo_epi8 (m8, m8));
  UNROLL
  for (int c = 0; c < 4; c++) {
    __m256i v = NAME (loadu) (p + 16 + 32 * c);
    u->q[2 * c] = _mm256_and_si256 (v, m4);
    u->q[2 * c + 1] = _mm256_and_si256 (_mm256_srli_epi16 (v, 4), m4);
  }
}

INL void
NAME (tile_q4_k_t) (int64_t k, const uint8_t *w, size_t ldw,
    const uint8_t *x, size_t ldx, float *y, size_t ldy,
    const int MR, const int NR)
{
  TILE_ZERO ();
  for (int64_t b = 0; b < k / VLM_QK_K; b++) {
    NAME (q4k_unpacked) u[4];
    UNROLL
    for (int i = 0; i < MR; i++)
      NAME (q4k_unpack) (w + i * ldw + VLM_Q4_K_BYTES * b, &u[i]);
    UNROLL
    for (int j = 0; j < NR; j++) {
      const vlm_block_q8_k *xb = (const vlm_block_q8_k *) (x + j * ldx) + b;
      __m256i bs = NAME (loadu) (xb->bsums);
      UNROLL
      for (int i = 0; i < MR; i++) {
        __m256i sum = _mm256_setzero_si256 ();
        UNROLL
        for (int s = 0; s < 8; s++) {
          __m256i p = _mm256_maddubs_epi16 (u[i].q[s],
              NAME (loadu) (xb->q + 32 * s));
          sum = _mm256_add_epi32 (sum, _mm256_madd_epi16 (p, u[i].sc[s]));
        }
        __m256i mins = _mm256_madd_epi16 (u[i].mins, bs);
        acc[i][j] = _mm256_fmadd_ps (_mm256_cvtepi32_ps (sum),
            _mm256_set1_ps (u[i].d * xb->d), acc[i][j]);
        acc[i][j] = _mm256_fmadd_ps (_mm256_cvtepi32_ps (mins),
            _mm256_set1_ps (-u[i].dmin * xb->d), acc[i][j]);
      }
    }
  }
  TILE_STORE ();
}

/* -- Q6_K weights, Q8_K activations --------------------------------- */

typedef struct {
  __m256i q[8];                 /* 32-element group t: levels 0..63 */
  __m256i sc[8];                /* group t: scales of its two halves */
  __m256i sc16;                 /* the 16 scales as int16 */
  float d;
} NAME (q6k_unpacked);

INL void
NAME (q6k_unpack) (const uint8_t *p, NAME (q6k_unpacked) * u)
{
  const __m256i m4 = _mm256_set1_epi8 (0xf), m3 = _mm256_set1_epi8 (0x30);
  const int8_t *sc = (const int8_t *) (p + 192);

  u->d = NAME (ld_fp16) (p + 208);
  u->sc16 = _mm256_cvtepi8_epi16 (_mm_loadu_si128 ((const __m128i *) sc));
  /* group t: int16 scale 2t in the low lane, 2t + 1 in the high one,
   * built as (byte << 8) then sign-extended by an arithmetic shift */
  __m256i sb = _mm256_broadcastsi128_si256 (
      _mm_loadu_si128 ((const __m128i *) sc));
  UNROLL
  for (int t = 0; t < 8; t++) {
    __m256i pick = _mm256_set_m128i (
        _mm_set1_epi16 ((short) (((2 * t + 1) << 8) | 0x80)),
        _mm_set1_epi16 ((short) ((2 * t << 8) | 0x80)));
    u->sc[t] = _mm256_srai_epi16 (_mm256_shuffle_epi8 (sb, pick), 8);
  }
  for (int h = 0; h < 2; h++) {
    __m256i l0 = NAME (loadu) (p + 64 * h);
    __m256i l1 = NAME (loadu) (p + 64 * h + 32);
    __m256i qh = NAME (loadu) (p + 128 + 32 * h);
    u->q[4 * h] = _mm256_or_si256 (_mm256_and_si256 (l0, m4),
        _mm256_and_si256 (_mm256_slli_epi16 (qh, 4), m3));
    u->q[4 * h + 1] = _mm256_or_si256 (_mm256_and_si256 (l1, m4),
        _mm256_and_si256 (_mm256_slli_epi16 (qh, 2), m3));
    u->q[4 * h + 2] = _mm256_or_si256 (
        _mm256_and_si256 (_mm256_srli_epi16 (l0, 4), m4),
        _mm256_and_si256 (qh, m3));
    u->q[4 * h + 3] = _mm256_or_si256 (
        _mm256_and_si256 (_mm256_srli_epi16 (l1, 4), m4),
        _mm256_and_si256 (_mm256_srli_epi16 (qh, 2), m3));
  }
}

INL void
NAME (tile_q6_k_t) (int64_t k, const uint8_t *w, size_t ldw,
    const uint8_t *x, size_t ldx, float *y, size_t ldy,
    const int MR, const int NR)
{
  TILE_ZERO ();
  for (int64_t b = 0; b < k / VLM_QK_K; b++) {
    NAME (q6k_unpacked) u[4];
    UNROLL
    for (int i = 0; i < MR; i++)
      NAME (q6k_unpack) (w + i * ldw + VLM_Q6_K_BYTES * b, &u[i]);
    UNROLL
    for (int j = 0; j < NR; j++) {
      const vlm_block_q8_k *xb = (const vlm_block_q8_k *) (x + j * ldx) + b;
      __m256i bs = NAME (loadu) (xb->bsums);
      UNROLL
      for (int i = 0; i < MR; i++) {
        __m256i sum = _mm256_setzero_si256 ();
        UNROLL
        for (int t = 0; t < 8; t++) {
          __m256i p = _mm256_maddubs_epi16 (u[i].q[t],
              NAME (loadu) (xb->q + 32 * t));
          sum = _mm256_add_epi32 (sum, _mm256_madd_epi16 (p, u[i].sc[t]));
        }
        /* levels are stored +32: remove 32 * sum(sc * q8) */
        __m256i off = _mm256_slli_epi32 (_mm256_madd_epi16 (u[i].sc16, bs), 5);
        acc[i][j] = _mm256_fmadd_ps (_mm256_cvtepi32_ps (
                _mm256_sub_epi32 (sum, off)),
            _mm256_set1_ps (u[i].d * xb->d), acc[i][j]);
      }
    }
  }
  TILE_STORE ();
}

/* -- float weights, float activations ------------------------------- */

INL __m256
NAME (ld8_f32) (const uint8_t *p)
{
  return _mm256_loadu_ps ((const float *) p);
}

INL __m256
NAME (ld8_f16) (const uint8_t *p)
{
  return _mm256_cvtph_ps (_mm_loadu_si128 ((const __m128i *) p));
}

INL __m256
NAME (ld8_bf16) (const uint8_t *p)
{
  __m256i v = _mm256_cvtepu16_epi32 (_mm_loadu_si128 ((const __m128i *) p));
  return _mm256_castsi256_ps (_mm256_slli_epi32 (v, 16));
}

static inline float
NAME (ld1_f32) (const uint8_t *p)
{
  float v;
  memcpy (&v, p, 4);
  return v;
}

static inline float
NAME (ld1_f16) (const uint8_t *p)
{
  return vlm_fp16_to_fp32 (vlm_k_u16 (p));
}

static inline float
NAME (ld1_bf16) (const uint8_t *p)
{
  return vlm_bf16_to_fp32 (vlm_k_u16 (p));
}

#define FLOAT_TILE(T, ES)                                                   \
  INL void                                                                  \
  NAME (tile_##T##_t) (int64_t k, const uint8_t *w, size_t ldw,             \
      const uint8_t *x, size_t ldx, float *y, size_t ldy,                   \
      const int MR, const int NR)                                           \
  {                                                                         \
    int64_t l = 0;                                                          \
    TILE_ZERO ();                                                           \
    for (; l + 8 <= k; l += 8) {                                            \
      __m256 wv[4];                                                         \
      UNROLL                                                                \
      for (int i = 0; i < MR; i++)                                          \
        wv[i] = NAME (ld8_##T) (w + i * ldw + ES * l);                      \
      UNROLL                                                                \
      for (int j = 0; j < NR; j++) {                                        \
        __m256 xv = _mm256_loadu_ps ((const float *) (x + j * ldx) + l);    \
        UNROLL                                                              \
        for (int i = 0; i < MR; i++)                                        \
          acc[i][j] = _mm256_fmadd_ps (wv[i], xv, acc[i][j]);               \
      }                                                                     \
    }                                                                       \
    TILE_STORE ();                                                          \
    for (; l < k; l++)                                                      \
      UNROLL                                                                \
      for (int j = 0; j < NR; j++)                                          \
        UNROLL                                                              \
        for (int i = 0; i < MR; i++)                                        \
          y[j * ldy + i] += NAME (ld1_##T) (w + i * ldw + ES * l)           \
              * ((const float *) (x + j * ldx))[l];                         \
  }

FLOAT_TILE (f32, 4)
FLOAT_TILE (f16, 2)
FLOAT_TILE (bf16, 2)

TILE_DISPATCH (tile_q8_0)
TILE_DISPATCH (tile_q4_0)
TILE_DISPATCH (tile_q4_k)
TILE_DISPATCH (tile_q6_k)
TILE_DISPATCH (tile_f32)
TILE_DISPATCH (tile_f16)
TILE_DISPATCH (tile_bf16)

/* ------------------------------------------------------------------ */
/* Float GEMM: panel packing and micro-kernel                          */
/* ------------------------------------------------------------------ */

#if X86_512
#define GMR 8                   /* activation rows per micro-tile */
#define GNR 32                  /* weight rows per micro-tile */
#define GKC 128                 /* depth of a packed panel */
#define VF __m512
#define VW 16
#define V_ZERO _mm512_setzero_ps
#define V_LOAD _mm512_load_ps
#define V_LOADU _mm512_loadu_ps
#define V_STOREU _mm512_storeu_ps
#define V_FMA _mm512_fmadd_ps
#define V_ADD _mm512_add_ps
#define V_BCAST _mm512_set1_ps
#else
#define GMR 6
#define GNR 16
#define GKC 256
#define VF __m256
#define VW 8
#define V_ZERO _mm256_setzero_ps
#define V_LOAD _mm256_load_ps
#define V_LOADU _mm256_loadu_ps
#define V_STOREU _mm256_storeu_ps
#define V_FMA _mm256_fmadd_ps
#define V_ADD _mm256_add_ps
#define V_BCAST _mm256_set1_ps
#endif
#define GNV (GNR / VW)

/* Converts 8 elements of each of `rows` weight rows into wp (stride nr). */
#define PACK_FN(T, ES)                                                      \
  TGT static void                                                           \
  NAME (pack_##T) (const void *w, size_t ldw, int rows, int64_t l0,         \
      int kc, float *wp, int nr)                                            \
  {                                                                         \
    float tmp[8];                                                           \
    for (int r = 0; r < nr; r++) {                                          \
      const uint8_t *src = (const uint8_t *) w + r * ldw + ES * l0;         \
      int l = 0;                                                            \
      if (r >= rows) {                                                      \
        for (; l < kc; l++)                                                 \
          wp[l * nr + r] = 0.0f;                                            \
        continue;                                                           \
      }                                                                     \
      for (; l + 8 <= kc; l += 8) {                                         \
        _mm256_storeu_ps (tmp, NAME (ld8_##T) (src + ES * l));              \
        for (int e = 0; e < 8; e++)                                         \
          wp[(l + e) * nr + r] = tmp[e];                                    \
      }                                                                     \
      for (; l < kc; l++)                                                   \
        wp[l * nr + r] = NAME (ld1_##T) (src + ES * l);                     \
    }                                                                       \
  }

PACK_FN (f32, 4)
PACK_FN (f16, 2)
PACK_FN (bf16, 2)

INL void
NAME (ukernel_t) (int kc, const float *xp, const float *wp, int ncols,
    float *c, size_t ldc, const int MR)
{
  VF acc[GMR][GNV];

  UNROLL
  for (int r = 0; r < MR; r++)
    UNROLL
    for (int v = 0; v < GNV; v++)
      acc[r][v] = V_ZERO ();
  for (int l = 0; l < kc; l++) {
    VF b[GNV];
    UNROLL
    for (int v = 0; v < GNV; v++)
      b[v] = V_LOAD (wp + l * GNR + v * VW);
    UNROLL
    for (int r = 0; r < MR; r++) {
      VF a = V_BCAST (xp[l * GMR + r]);
      UNROLL
      for (int v = 0; v < GNV; v++)
        acc[r][v] = V_FMA (a, b[v], acc[r][v]);
    }
  }
  if (ncols == GNR) {
    UNROLL
    for (int r = 0; r < MR; r++)
      UNROLL
      for (int v = 0; v < GNV; v++)
        V_STOREU (c + r * ldc + v * VW,
            V_ADD (V_LOADU (c + r * ldc + v * VW), acc[r][v]));
    return;
  }
  float tmp[GNR];
  UNROLL
  for (int r = 0; r < MR; r++) {
    UNROLL
    for (int v = 0; v < GNV; v++)
      V_STOREU (tmp + v * VW, acc[r][v]);
    for (int col = 0; col < ncols; col++)
      c[r * ldc + col] += tmp[col];
  }
}

TGT static void
NAME (ukernel) (int kc, const float *xp, const float *wp, int mr, int ncols,
    float *c, size_t ldc)
{
  switch (mr) {
#if GMR > 6
    case 8: NAME (ukernel_t) (kc, xp, wp, ncols, c, ldc, 8); break;
    case 7: NAME (ukernel_t) (kc, xp, wp, ncols, c, ldc, 7); break;
#endif
    case 6: NAME (ukernel_t) (kc, xp, wp, ncols, c, ldc, 6); break;
    case 5: NAME (ukernel_t) (kc, xp, wp, ncols, c, ldc, 5); break;
    case 4: NAME (ukernel_t) (kc, xp, wp, ncols, c, ldc, 4); break;
    case 3: NAME (ukernel_t) (kc, xp, wp, ncols, c, ldc, 3); break;
    case 2: NAME (ukernel_t) (kc, xp, wp, ncols, c, ldc, 2); break;
    case 1: NAME (ukernel_t) (kc, xp, wp, ncols, c, ldc, 1); break;
    default: break;
  }
}

/* ------------------------------------------------------------------ */
/* Table                                                               */
/* ------------------------------------------------------------------ */

const vlm_kernels NAME (vlm_kernels) = {
  .level = X86_512 ? VLM_CPU_AVX512 : VLM_CPU_AVX2,
  .quant_q8_0 = NAME (quant_q8_0),
  .quant_q8_k = NAME (quant_q8_k),
  .tile = { NAME (tile_f32), NAME (tile_f16), NAME (tile_bf16),
      NAME (tile_q8_0), NAME (tile_q4_0), NAME (tile_q4_k),
      NAME (tile_q6_k) },
  .mr = 4, .nr = X86_512 ? 4 : 3,
  .pack = { NAME (pack_f32), NAME (pack_f16), NAME (pack_bf16) },
  .ukernel = NAME (ukernel),
  .gmr = GMR, .gnr = GNR, .gkc = GKC,
};

#undef GMR
#undef GNR
#undef GKC
#undef VF
#undef VW
#undef V_ZERO
#undef V_LOAD
#undef V_LOADU
#undef V_STOREU
#undef V_FMA
#undef V_ADD
#undef V_BCAST
#undef GNV
#undef PACK_FN
#undef FLOAT_TILE
#undef TILE_DISPATCH
#undef TILE_CASE
#undef TILE_STORE
#undef TILE_ZERO
#undef INL
#undef UNROLL
#undef NAME
#undef X_CAT
#undef X_CAT2

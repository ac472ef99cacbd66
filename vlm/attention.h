/* gst-vlm — scaled dot-product attention over F16 keys and values, with
 * the arithmetic of the reference runtime's CPU flash attention.
 *
 * The golden models amplify rounding differences, so both of the
 * reference's CPU kernels are reproduced operation for operation:
 *
 *   online ("one chunk")  the query rounded to binary16, dot products of
 *       binary16 pairs summed in double, a key-by-key online softmax, and
 *       the weighted sum of V kept in binary16 (rounded after every key,
 *       multiply and add rounded separately). The reference uses it for
 *       fewer than VLM_ATTN_TILE query rows (every decode step);
 *   tiled  F32 queries against tiles of VLM_ATTN_TILE keys: each score a
 *       chain of fused multiply-adds over the head dims, times the scale,
 *       a per-tile online softmax (tile maximum, exp, sum in double), and
 *       the weighted sum of V as chains of fused multiply-adds over the
 *       keys of a tile, in F32. The reference uses it from VLM_ATTN_TILE
 *       query rows on (prefill, vision towers).
 *
 * Each kernel has a plain C reference and an x86 AVX2/FMA/F16C version,
 * picked at run time from vlm_cpu_get_level (); both give bit-identical
 * results (the exponential is the same polynomial in both).
 *
 * Thread safety: every function is reentrant and writes only its outputs
 * and the caller's work area; run heads or query blocks on as many
 * threads as wanted, each with its own work area.
 */
#ifndef VLM_ATTENTION_H
#define VLM_ATTENTION_H

#include <stddef.h>
#include <stdint.h>

/* Keys per tile of the tiled kernel, and the smallest number of query
 * rows for which the reference takes the tiled kernel. */
#define VLM_ATTN_TILE 64

/* The keys and values of one KV head, binary16: key t at
 * k + t * stride, value t at v + t * stride, `dim` elements each. */
typedef struct {
  const uint16_t *k;
  const uint16_t *v;
  size_t stride;
  int dim;
} vlm_attn_kv;

/* Running state of the online kernel for one query row. */
typedef struct {
  float m;                      /* running maximum score */
  float s;                      /* running sum of exp (score - m) */
} vlm_attn_state;

/* Online kernel: the binary16-rounded query `qh` (dim floats) against
 * keys [t0, t1). Starts a fresh state: *st and acc[dim] receive the
 * running maximum and sum and the unnormalised weighted sum of V (an
 * empty range leaves m = -inf, s = 0, acc = 0). */
void vlm_attn_online (const vlm_attn_kv *kv, const float *qh, int t0,
    int t1, float scale, vlm_attn_state *st, float *acc);

/* Floats of work area vlm_attn_tiled needs for head size `dim`. */
size_t vlm_attn_tiled_work (int dim);

/* Tiled kernel: n_q <= VLM_ATTN_TILE F32 query rows (q_stride floats
 * apart) against the keys; row r sees keys [0, n_kv) when first_visible
 * < 0, else [0, min (n_kv, first_visible + r)) (causal). Writes the
 * normalised outputs to out (out_stride floats apart; a row that sees no
 * key gets zeros). `work` holds vlm_attn_tiled_work (dim) floats, 32-byte
 * aligned. */
void vlm_attn_tiled (const vlm_attn_kv *kv, const float *q, size_t q_stride,
    int n_q, int n_kv, int first_visible, float scale, float *out,
    size_t out_stride, float *work);

/* Forces the plain C kernels (true) or the run-time choice (false), for
 * tests and benchmarks. Not thread-safe against running kernels. */
void vlm_attn_force_ref (int force);

#endif /* VLM_ATTENTION_H */

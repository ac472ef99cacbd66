/* gst-vlm — matrix products with weights as stored in GGUF files.
 *
 * A weight matrix W has m rows of k elements each (GGUF ne[0] = k,
 * ne[1] = m), in any supported type, used straight from the mapping.
 * Activations are float32 rows. vlm_matmul computes, for n input rows,
 *     Y[i][j] = sum_l X[i][l] * W[j][l]  (+ bias[j])
 * i.e. Y = X W^T, the layout of every linear layer in the models.
 *
 * Quantised weights are multiplied the GGUF way: activations are first
 * quantised per block (Q8_0 blocks for Q8_0 / Q4_0 weights, Q8_K
 * super-blocks for the k-quants) and dot products run on integers.
 *
 * Thread safety: the functions are reentrant; a pool runs one job at a
 * time (see threadpool.h).
 */
#ifndef VLM_MATMUL_H
#define VLM_MATMUL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gguf.h"
#include "threadpool.h"
#include "types.h"

/* A 2-D weight: m rows of k elements, row_bytes apart. */
typedef struct {
  vlm_type type;
  int64_t k;
  int64_t m;
  size_t row_bytes;
  const void *data;
} vlm_mat;

/* Weight types vlm_matmul accepts: F32, F16, BF16, Q8_0, Q4_0, Q4_K,
 * Q6_K. */
bool vlm_matmul_supports (vlm_type type);

/* Views tensor `t` as a matrix of ne[0] columns and ne[1]*ne[2]*ne[3]
 * rows. Returns false (and leaves *out alone) for a NULL tensor or an
 * unsupported type. No copy: *out points into the tensor's data. */
bool vlm_mat_from_tensor (vlm_mat *out, const vlm_gguf_tensor *t);

/* Y[n][m] = X[n][k] W^T + bias, with bias (m floats) optional.
 * x: n rows of w->k floats, contiguous; y: n rows of w->m floats,
 * contiguous, must not overlap x. `pool` may be NULL (one thread).
 * Returns 0, or -1 when scratch memory for the quantised activations
 * cannot be allocated or w->type is not supported (y is then undefined). */
int vlm_matmul (vlm_pool *pool, const vlm_mat *w, const float *x,
    int64_t n, float *y, const float *bias);

/* Row `r` of W as floats (dequantised) into out[w->k]. */
void vlm_mat_get_row (const vlm_mat *w, int64_t r, float *out);

#endif /* VLM_MATMUL_H */

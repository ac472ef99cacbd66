/* gst-vlm — matrix products (reference version: dequantised rows).
 *
 * Each output row j of W is dequantised once per slice and dotted with
 * every input row. Slices split the m output rows across the pool. */
#include "matmul.h"

#include <stdlib.h>

#include "ops.h"
#include "quant.h"

bool
vlm_matmul_supports (vlm_type type)
{
  switch (type) {
    case VLM_TYPE_F32: case VLM_TYPE_F16: case VLM_TYPE_BF16:
    case VLM_TYPE_Q8_0: case VLM_TYPE_Q4_0: case VLM_TYPE_Q4_K:
    case VLM_TYPE_Q6_K:
      return true;
    default:
      return false;
  }
}

bool
vlm_mat_from_tensor (vlm_mat * out, const vlm_gguf_tensor * t)
{
  if (t == NULL || !vlm_matmul_supports (t->type))
    return false;
  out->type = t->type;
  out->k = t->ne[0];
  out->m = t->ne[1] * t->ne[2] * t->ne[3];
  out->row_bytes = vlm_type_row_bytes (t->type, t->ne[0]);
  out->data = t->data;
  return true;
}

void
vlm_mat_get_row (const vlm_mat * w, int64_t r, float *out)
{
  vlm_dequantize_row (w->type, (const uint8_t *) w->data + r * w->row_bytes,
      out, w->k);
}

typedef struct {
  const vlm_mat *w;
  const float *x;
  int64_t n;
  float *y;
  const float *bias;
  float *rows;              /* nth scratch rows of k floats */
} matmul_job;

static void
matmul_slice (void *p, int ith, int nth)
{
  matmul_job *j = p;
  const vlm_mat *w = j->w;
  float *row = j->rows + ith * w->k;
  int64_t per = (w->m + nth - 1) / nth;
  int64_t r0 = ith * per, r1 = r0 + per < w->m ? r0 + per : w->m;
  for (int64_t r = r0; r < r1; r++) {
    vlm_mat_get_row (w, r, row);
    float b = j->bias ? j->bias[r] : 0.0f;
    for (int64_t i = 0; i < j->n; i++)
      j->y[i * w->m + r] = vlm_dot (j->x + i * w->k, row, w->k) + b;
  }
}

int
vlm_matmul (vlm_pool * pool, const vlm_mat * w, const float *x, int64_t n,
    float *y, const float *bias)
{
  if (!vlm_matmul_supports (w->type))
    return -1;
  int nth = vlm_pool_n_threads (pool);
  matmul_job j = { w, x, n, y, bias, malloc (nth * w->k * sizeof (float)) };
  if (j.rows == NULL)
    return -1;
  vlm_pool_run (pool, matmul_slice, &j);
  free (j.rows);
  return 0;
}

/* gst-vlm — tensor element types as stored in GGUF files.
 *
 * The numeric values are the on-disk type ids of the GGUF format. Block
 * sizes and byte sizes follow the published layouts of each type.
 * Everything here is pure, thread-safe and allocation-free.
 */
#ifndef VLM_TYPES_H
#define VLM_TYPES_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

typedef enum {
  VLM_TYPE_F32 = 0,
  VLM_TYPE_F16 = 1,
  VLM_TYPE_Q4_0 = 2,
  VLM_TYPE_Q4_1 = 3,
  VLM_TYPE_Q5_0 = 6,
  VLM_TYPE_Q5_1 = 7,
  VLM_TYPE_Q8_0 = 8,
  VLM_TYPE_Q4_K = 12,
  VLM_TYPE_Q5_K = 13,
  VLM_TYPE_Q6_K = 14,
  VLM_TYPE_BF16 = 30,
} vlm_type;

/* Elements per super-block of the k-quants. */
#define VLM_QK_K 256

/* true when `id` is a type this project knows the layout of. */
bool vlm_type_is_known (uint32_t id);

/* Short name ("f32", "q4_K", ...); "unknown" for ids we do not know. */
const char *vlm_type_name (uint32_t id);

/* Elements per block (1 for float types); 0 for unknown ids. */
int64_t vlm_type_block_elems (uint32_t id);

/* Bytes per block; 0 for unknown ids. */
size_t vlm_type_block_bytes (uint32_t id);

/* Bytes taken by `n` consecutive elements, which must be a multiple of
 * the block size. Returns 0 for unknown ids or a count that does not fill
 * whole blocks; SIZE_MAX when the size does not fit in size_t. */
size_t vlm_type_row_bytes (uint32_t id, int64_t n);

#endif /* VLM_TYPES_H */

/* gst-vlm — tensor element types: names and block layouts. */
#include "types.h"

typedef struct {
  const char *name;
  int64_t block_elems;
  size_t block_bytes;
} type_info;

/* ------------------------------------------------------------------ */
/* Table, indexed by GGUF type id                                      */
/* ------------------------------------------------------------------ */

static const type_info type_table[] = {
  [VLM_TYPE_F32] = { "f32", 1, 4 },
  [VLM_TYPE_F16] = { "f16", 1, 2 },
  [VLM_TYPE_Q4_0] = { "q4_0", 32, 2 + 16 },
  [VLM_TYPE_Q4_1] = { "q4_1", 32, 2 + 2 + 16 },
  [VLM_TYPE_Q5_0] = { "q5_0", 32, 2 + 4 + 16 },
  [VLM_TYPE_Q5_1] = { "q5_1", 32, 2 + 2 + 4 + 16 },
  [VLM_TYPE_Q8_0] = { "q8_0", 32, 2 + 32 },
  /* d, dmin, 12 bytes of 6-bit scales/mins, 128 bytes of nibbles */
  [VLM_TYPE_Q4_K] = { "q4_K", VLM_QK_K, 2 + 2 + 12 + 128 },
  /* d, dmin, 12 bytes of scales, 32 bytes of high bits, 128 of nibbles */
  [VLM_TYPE_Q5_K] = { "q5_K", VLM_QK_K, 2 + 2 + 12 + 32 + 128 },
  /* 128 bytes low nibbles, 64 bytes high 2 bits, 16 int8 scales, d */
  [VLM_TYPE_Q6_K] = { "q6_K", VLM_QK_K, 128 + 64 + 16 + 2 },
  [VLM_TYPE_BF16] = { "bf16", 1, 2 },
};

#define N_TYPES (sizeof (type_table) / sizeof (type_table[0]))

static const type_info *
lookup (uint32_t id)
{
  if (id >= N_TYPES || type_table[id].name == NULL)
    return NULL;
  return &type_table[id];
}

/* ------------------------------------------------------------------ */
/* Public functions                                                    */
/* ------------------------------------------------------------------ */

bool
vlm_type_is_known (uint32_t id)
{
  return lookup (id) != NULL;
}

const char *
vlm_type_name (uint32_t id)
{
  const type_info *t = lookup (id);
  return t ? t->name : "unknown";
}

int64_t
vlm_type_block_elems (uint32_t id)
{
  const type_info *t = lookup (id);
  return t ? t->block_elems : 0;
}

size_t
vlm_type_block_bytes (uint32_t id)
{
  const type_info *t = lookup (id);
  return t ? t->block_bytes : 0;
}

size_t
vlm_type_row_bytes (uint32_t id, int64_t n)
{
  const type_info *t = lookup (id);
  if (t == NULL || n < 0 || n % t->block_elems != 0)
    return 0;
  uint64_t blocks = (uint64_t) (n / t->block_elems);
  if (blocks > SIZE_MAX / t->block_bytes)
    return SIZE_MAX;
  return (size_t) blocks * t->block_bytes;
}

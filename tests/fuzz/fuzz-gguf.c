/* Fuzz target for the GGUF reader (libFuzzer entry point).
 *
 * Opens the input as a GGUF image in memory and, when it opens, reads
 * every metadata value and touches the first and last byte of every
 * tensor, so any bound the reader failed to check shows up under ASan.
 */
#include <stddef.h>
#include <stdint.h>

#include "gguf.h"

int LLVMFuzzerTestOneInput (const uint8_t * data, size_t size);

static volatile uint64_t sink;

static void
walk_value (const vlm_gguf * g, int64_t i)
{
  int64_t s;
  uint64_t u;
  double d;
  bool b;
  vlm_gguf_str str;
  vlm_gguf_array arr;
  if (vlm_gguf_kv_i64 (g, i, &s) == VLM_GGUF_OK)
    sink += (uint64_t) s;
  if (vlm_gguf_kv_u64 (g, i, &u) == VLM_GGUF_OK)
    sink += u;
  if (vlm_gguf_kv_f64 (g, i, &d) == VLM_GGUF_OK)
    sink += (uint64_t) (d == d);
  if (vlm_gguf_kv_bool (g, i, &b) == VLM_GGUF_OK)
    sink += b;
  if (vlm_gguf_kv_str (g, i, &str) == VLM_GGUF_OK && str.len)
    sink += (uint8_t) str.ptr[str.len - 1];
  if (vlm_gguf_kv_array (g, i, &arr) != VLM_GGUF_OK)
    return;
  for (uint64_t k = 0; k < arr.n; k++) {
    if (arr.strs && arr.strs[k].len)
      sink += (uint8_t) arr.strs[k].ptr[arr.strs[k].len - 1];
    else if (arr.data)
      sink += (uint64_t) vlm_gguf_arr_i64 (&arr, k)
          + (uint64_t) (vlm_gguf_arr_f64 (&arr, k) != 0);
  }
}

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  vlm_gguf_status st;
  char err[256];
  vlm_gguf *g = vlm_gguf_open_memory (data, size, &st, err, sizeof (err));
  if (g == NULL)
    return 0;
  for (int64_t i = 0; i < vlm_gguf_n_kv (g); i++) {
    walk_value (g, i);
    sink += vlm_gguf_find_key (g, vlm_gguf_key (g, i)) == i;
  }
  for (int64_t i = 0; i < vlm_gguf_n_tensors (g); i++) {
    const vlm_gguf_tensor *t = vlm_gguf_tensor_at (g, i);
    const uint8_t *p = t->data;
    if (t->nbytes)
      sink += p[0] + p[t->nbytes - 1];
    sink += vlm_gguf_find_tensor (g, t->name) == t;
  }
  vlm_gguf_close (g);
  return 0;
}

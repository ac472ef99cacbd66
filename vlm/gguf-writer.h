/* gst-vlm — GGUF writer (format version 3, little-endian).
 *
 * Usage, in this order:
 *   1. vlm_gguf_writer_new ()
 *   2. any number of vlm_gguf_writer_add_* (metadata, kept in call order)
 *      and vlm_gguf_writer_add_tensor (tensor infos, kept in call order);
 *      optionally vlm_gguf_writer_set_alignment ()
 *   3. vlm_gguf_writer_begin (path): writes the whole header
 *   4. vlm_gguf_writer_write_data (): the bytes of each tensor, in the
 *      order the tensors were added; a tensor may be written in several
 *      pieces. Alignment padding is inserted automatically.
 *   5. vlm_gguf_writer_finish (): checks everything was written, closes.
 *   6. vlm_gguf_writer_free ()
 * Nothing in the output depends on time or addresses: the same calls give
 * the same bytes.
 *
 * Every function returns a vlm_gguf_writer_status; on error a message is
 * kept (vlm_gguf_writer_error). A call out of order returns
 * VLM_GGUF_WRITER_ERR_STATE. After an error while writing (steps 3-5)
 * the writer is failed: later writes return the same error and the
 * partial file is removed by finish or free.
 *
 * Thread safety: a writer must be used by one thread at a time; distinct
 * writers are independent.
 */
#ifndef VLM_GGUF_WRITER_H
#define VLM_GGUF_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gguf.h"
#include "types.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vlm_gguf_writer vlm_gguf_writer;

typedef enum {
  VLM_GGUF_WRITER_OK = 0,
  VLM_GGUF_WRITER_ERR_IO = -1,        /* open/write/close failed */
  VLM_GGUF_WRITER_ERR_NOMEM = -2,     /* allocation failed */
  VLM_GGUF_WRITER_ERR_INVALID = -3,   /* bad argument: NULL, empty or
                                         duplicate name, bad type/shape,
                                         too much tensor data, ... */
  VLM_GGUF_WRITER_ERR_STATE = -4,     /* call out of order */
  VLM_GGUF_WRITER_ERR_INCOMPLETE = -5, /* finish before all tensor data */
} vlm_gguf_writer_status;

/* Returns a new, empty writer or NULL when out of memory.
 * Ownership: the caller frees it with vlm_gguf_writer_free. */
vlm_gguf_writer *vlm_gguf_writer_new (void);

/* Frees the writer. If a file was begun and not finished successfully,
 * it is closed and removed. NULL is allowed. */
void vlm_gguf_writer_free (vlm_gguf_writer *w);

/* Message for the last error (empty string if none). Owned by the
 * writer, valid until the next call on it. */
const char *vlm_gguf_writer_error (const vlm_gguf_writer *w);

/* Human-readable name of a status code. Static string. */
const char *vlm_gguf_writer_status_str (vlm_gguf_writer_status s);

/* Sets the data alignment (a power of two, at least 8). A value other
 * than the default 32 is recorded as the key general.alignment (u32),
 * appended when the header is written. Only before any tensor is added. */
vlm_gguf_writer_status vlm_gguf_writer_set_alignment (vlm_gguf_writer *w,
    uint32_t alignment);

/* ------------------------------------------------------------------ */
/* Metadata (before begin). Keys must be non-empty and unique; strings  */
/* are copied.                                                          */
/* ------------------------------------------------------------------ */

vlm_gguf_writer_status vlm_gguf_writer_add_u8 (vlm_gguf_writer *w,
    const char *key, uint8_t v);
vlm_gguf_writer_status vlm_gguf_writer_add_i8 (vlm_gguf_writer *w,
    const char *key, int8_t v);
vlm_gguf_writer_status vlm_gguf_writer_add_u16 (vlm_gguf_writer *w,
    const char *key, uint16_t v);
vlm_gguf_writer_status vlm_gguf_writer_add_i16 (vlm_gguf_writer *w,
    const char *key, int16_t v);
vlm_gguf_writer_status vlm_gguf_writer_add_u32 (vlm_gguf_writer *w,
    const char *key, uint32_t v);
vlm_gguf_writer_status vlm_gguf_writer_add_i32 (vlm_gguf_writer *w,
    const char *key, int32_t v);
vlm_gguf_writer_status vlm_gguf_writer_add_u64 (vlm_gguf_writer *w,
    const char *key, uint64_t v);
vlm_gguf_writer_status vlm_gguf_writer_add_i64 (vlm_gguf_writer *w,
    const char *key, int64_t v);
vlm_gguf_writer_status vlm_gguf_writer_add_f32 (vlm_gguf_writer *w,
    const char *key, float v);
vlm_gguf_writer_status vlm_gguf_writer_add_f64 (vlm_gguf_writer *w,
    const char *key, double v);
vlm_gguf_writer_status vlm_gguf_writer_add_bool (vlm_gguf_writer *w,
    const char *key, bool v);
/* A NUL-terminated string. */
vlm_gguf_writer_status vlm_gguf_writer_add_string (vlm_gguf_writer *w,
    const char *key, const char *v);
/* A string of `len` arbitrary bytes. */
vlm_gguf_writer_status vlm_gguf_writer_add_str (vlm_gguf_writer *w,
    const char *key, const void *v, uint64_t len);

/* An array of `n` numbers (or bools, one byte each) of `elem_type`,
 * packed little-endian at `data` (native arrays on a little-endian host).
 * `data` may be NULL when n is 0. STRING and ARRAY are rejected. */
vlm_gguf_writer_status vlm_gguf_writer_add_array (vlm_gguf_writer *w,
    const char *key, vlm_gguf_value_type elem_type, const void *data,
    uint64_t n);
/* An array of `n` NUL-terminated strings. */
vlm_gguf_writer_status vlm_gguf_writer_add_array_string (vlm_gguf_writer *w,
    const char *key, const char *const *strs, uint64_t n);
/* An array of `n` byte strings (e.g. copied from a vlm_gguf_array). */
vlm_gguf_writer_status vlm_gguf_writer_add_array_str (vlm_gguf_writer *w,
    const char *key, const vlm_gguf_str *strs, uint64_t n);

/* ------------------------------------------------------------------ */
/* Tensors                                                             */
/* ------------------------------------------------------------------ */

/* Declares a tensor (before begin). `ne` has n_dims (1..4) positive
 * entries, ne[0] innermost, and ne[0] must be a multiple of the type's
 * block size. Names must be non-empty, unique, shorter than 64 bytes. */
vlm_gguf_writer_status vlm_gguf_writer_add_tensor (vlm_gguf_writer *w,
    const char *name, vlm_type type, uint32_t n_dims, const int64_t *ne);

/* Bytes of tensor data a declared tensor takes, 0 for an unknown index. */
size_t vlm_gguf_writer_tensor_nbytes (const vlm_gguf_writer *w, int64_t i);

/* Number of metadata entries and tensors declared so far. */
int64_t vlm_gguf_writer_n_kv (const vlm_gguf_writer *w);
int64_t vlm_gguf_writer_n_tensors (const vlm_gguf_writer *w);

/* ------------------------------------------------------------------ */
/* Output                                                              */
/* ------------------------------------------------------------------ */

/* Creates (truncates) `path` and writes the header and tensor infos. */
vlm_gguf_writer_status vlm_gguf_writer_begin (vlm_gguf_writer *w,
    const char *path);

/* Appends `size` bytes of tensor data. Pieces continue the current
 * tensor; once a tensor is complete the next bytes start the next one.
 * Writing past the last tensor is VLM_GGUF_WRITER_ERR_INVALID. */
vlm_gguf_writer_status vlm_gguf_writer_write_data (vlm_gguf_writer *w,
    const void *data, size_t size);

/* Index of the tensor the next write_data continues (n_tensors when all
 * are complete), or -1 before begin. */
int64_t vlm_gguf_writer_current_tensor (const vlm_gguf_writer *w);

/* Flushes and closes the file. VLM_GGUF_WRITER_ERR_INCOMPLETE when some
 * tensor data is missing (the file is then removed). */
vlm_gguf_writer_status vlm_gguf_writer_finish (vlm_gguf_writer *w);

#ifdef __cplusplus
}
#endif

#endif /* VLM_GGUF_WRITER_H */

/* gst-vlm — GGUF reader.
 *
 * Opens a GGUF file (versions 2 and 3, little-endian) by mmap and gives
 * typed access to its metadata and tensors. Tensor data is never copied:
 * vlm_gguf_tensor.data points into the mapping, which lives until
 * vlm_gguf_close().
 *
 * Every structural property is checked at open time (bounds, counts,
 * alignment, overlaps, duplicates, known tensor types), so the accessors
 * can not fail on a file that opened. A bad file yields a status code and
 * a message that names what is wrong and at which byte offset.
 *
 * Thread safety: a vlm_gguf is immutable after open; any number of
 * threads may call the accessors on it concurrently. Opening and closing
 * are not synchronised with accessor calls on the same handle.
 */
#ifndef VLM_GGUF_H
#define VLM_GGUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Magic "GGUF" read as a little-endian uint32. */
#define VLM_GGUF_MAGIC 0x46554747u
#define VLM_GGUF_DEFAULT_ALIGNMENT 32
#define VLM_GGUF_MAX_DIMS 4

typedef struct vlm_gguf vlm_gguf;

/* Status codes: 0 is success, errors are negative. */
typedef enum {
  VLM_GGUF_OK = 0,
  VLM_GGUF_ERR_IO = -1,          /* open/fstat/mmap failed, or missing file */
  VLM_GGUF_ERR_MAGIC = -2,       /* not a GGUF file */
  VLM_GGUF_ERR_VERSION = -3,     /* version other than 2 or 3, or big-endian */
  VLM_GGUF_ERR_TRUNCATED = -4,   /* a field or tensor data runs past the end */
  VLM_GGUF_ERR_CORRUPT = -5,     /* structurally invalid: bad value type,
                                    duplicate key or tensor, overlap,
                                    misalignment, dims overflow, ... */
  VLM_GGUF_ERR_UNSUPPORTED = -6, /* a tensor type we do not know */
  VLM_GGUF_ERR_NOMEM = -7,       /* allocation failed */
  VLM_GGUF_ERR_NOT_FOUND = -8,   /* accessor: no such key or tensor */
  VLM_GGUF_ERR_TYPE = -9,        /* accessor: the value has another type */
} vlm_gguf_status;

/* Metadata value types, numbered as in the file format. */
typedef enum {
  VLM_GGUF_UINT8 = 0,
  VLM_GGUF_INT8 = 1,
  VLM_GGUF_UINT16 = 2,
  VLM_GGUF_INT16 = 3,
  VLM_GGUF_UINT32 = 4,
  VLM_GGUF_INT32 = 5,
  VLM_GGUF_FLOAT32 = 6,
  VLM_GGUF_BOOL = 7,
  VLM_GGUF_STRING = 8,
  VLM_GGUF_ARRAY = 9,
  VLM_GGUF_UINT64 = 10,
  VLM_GGUF_INT64 = 11,
  VLM_GGUF_FLOAT64 = 12,
} vlm_gguf_value_type;

/* A string inside the file: not NUL-terminated, may hold any bytes. */
typedef struct {
  const char *ptr;
  uint64_t len;
} vlm_gguf_str;

/* A metadata array. Numeric elements lie packed little-endian at `data`
 * (possibly unaligned: read them with the vlm_gguf_arr_* helpers);
 * string elements are in `strs`. Arrays of arrays are rejected at open. */
typedef struct {
  vlm_gguf_value_type type; /* element type */
  uint64_t n;               /* element count */
  const void *data;         /* numeric elements, NULL for strings */
  const vlm_gguf_str *strs; /* string elements, NULL for numbers */
} vlm_gguf_array;

/* A tensor: name, type, shape and a pointer to its bytes in the mapping.
 * ne[0] is the innermost (contiguous) dimension; unused dims are 1. */
typedef struct {
  const char *name; /* NUL-terminated */
  vlm_type type;
  uint32_t n_dims;
  int64_t ne[VLM_GGUF_MAX_DIMS];
  uint64_t offset;  /* from the start of the data section */
  size_t nbytes;
  const void *data; /* into the mapping, aligned to the file's alignment */
} vlm_gguf_tensor;

/* ------------------------------------------------------------------ */
/* Open and close                                                      */
/* ------------------------------------------------------------------ */

/* Maps and validates `path`. Returns NULL on error, with *status set (if
 * non-NULL) and a message in err[err_size] (if non-NULL).
 * Ownership: the caller owns the result and frees it with vlm_gguf_close.
 * Thread safety: reentrant. */
vlm_gguf *vlm_gguf_open (const char *path, vlm_gguf_status *status,
    char *err, size_t err_size);

/* Same as vlm_gguf_open on `size` bytes already in memory. Nothing is
 * copied: `data` must outlive the returned handle. */
vlm_gguf *vlm_gguf_open_memory (const void *data, size_t size,
    vlm_gguf_status *status, char *err, size_t err_size);

/* Unmaps and frees. NULL is allowed. Pointers obtained from the handle
 * (strings, arrays, tensor data) become invalid. */
void vlm_gguf_close (vlm_gguf *g);

/* Human-readable name of a status code ("truncated file", ...). */
const char *vlm_gguf_status_str (vlm_gguf_status s);

/* Name of a metadata value type ("u32", "string", ...). */
const char *vlm_gguf_value_type_name (vlm_gguf_value_type t);

/* ------------------------------------------------------------------ */
/* File-level facts                                                    */
/* ------------------------------------------------------------------ */

uint32_t vlm_gguf_version (const vlm_gguf *g);
size_t vlm_gguf_alignment (const vlm_gguf *g);
/* Byte offset of the tensor data section in the file. */
size_t vlm_gguf_data_offset (const vlm_gguf *g);
size_t vlm_gguf_file_size (const vlm_gguf *g);
/* Start of the whole mapping (the file's first byte). */
const void *vlm_gguf_base (const vlm_gguf *g);

/* ------------------------------------------------------------------ */
/* Metadata                                                            */
/* ------------------------------------------------------------------ */

int64_t vlm_gguf_n_kv (const vlm_gguf *g);
/* Index of `key`, or -1. O(1) on average. */
int64_t vlm_gguf_find_key (const vlm_gguf *g, const char *key);
/* Key name (NUL-terminated) and value type of entry `i` < n_kv. */
const char *vlm_gguf_key (const vlm_gguf *g, int64_t i);
vlm_gguf_value_type vlm_gguf_kv_type (const vlm_gguf *g, int64_t i);

/* Typed getters by key. Each returns VLM_GGUF_OK and stores the value,
 * VLM_GGUF_ERR_NOT_FOUND if the key is absent, or VLM_GGUF_ERR_TYPE if
 * the value has an incompatible type; *out is untouched on error.
 * Integer getters accept any integer type whose value fits the target;
 * get_f32 accepts float32 and float64; get_bool accepts bool only. */
vlm_gguf_status vlm_gguf_get_u32 (const vlm_gguf *g, const char *key,
    uint32_t *out);
vlm_gguf_status vlm_gguf_get_i32 (const vlm_gguf *g, const char *key,
    int32_t *out);
vlm_gguf_status vlm_gguf_get_u64 (const vlm_gguf *g, const char *key,
    uint64_t *out);
vlm_gguf_status vlm_gguf_get_i64 (const vlm_gguf *g, const char *key,
    int64_t *out);
vlm_gguf_status vlm_gguf_get_f32 (const vlm_gguf *g, const char *key,
    float *out);
vlm_gguf_status vlm_gguf_get_f64 (const vlm_gguf *g, const char *key,
    double *out);
vlm_gguf_status vlm_gguf_get_bool (const vlm_gguf *g, const char *key,
    bool *out);
/* A string value as a NUL-terminated copy owned by the handle (embedded
 * NULs, if any, end it early; use get_str for the exact bytes). */
vlm_gguf_status vlm_gguf_get_string (const vlm_gguf *g, const char *key,
    const char **out);
vlm_gguf_status vlm_gguf_get_str (const vlm_gguf *g, const char *key,
    vlm_gguf_str *out);
vlm_gguf_status vlm_gguf_get_array (const vlm_gguf *g, const char *key,
    vlm_gguf_array *out);

/* Same getters by index; `i` must be < n_kv. */
vlm_gguf_status vlm_gguf_kv_i64 (const vlm_gguf *g, int64_t i, int64_t *out);
vlm_gguf_status vlm_gguf_kv_u64 (const vlm_gguf *g, int64_t i, uint64_t *out);
vlm_gguf_status vlm_gguf_kv_f64 (const vlm_gguf *g, int64_t i, double *out);
vlm_gguf_status vlm_gguf_kv_bool (const vlm_gguf *g, int64_t i, bool *out);
vlm_gguf_status vlm_gguf_kv_str (const vlm_gguf *g, int64_t i,
    vlm_gguf_str *out);
vlm_gguf_status vlm_gguf_kv_array (const vlm_gguf *g, int64_t i,
    vlm_gguf_array *out);

/* Array element readers. `i` must be < arr->n and the element type must
 * match the reader's family (integer readers accept any integer element
 * type, float readers float32/float64); a mismatch returns 0. */
int64_t vlm_gguf_arr_i64 (const vlm_gguf_array *arr, uint64_t i);
double vlm_gguf_arr_f64 (const vlm_gguf_array *arr, uint64_t i);
float vlm_gguf_arr_f32 (const vlm_gguf_array *arr, uint64_t i);

/* ------------------------------------------------------------------ */
/* Tensors                                                             */
/* ------------------------------------------------------------------ */

int64_t vlm_gguf_n_tensors (const vlm_gguf *g);
/* Tensor `i` < n_tensors, in file order. */
const vlm_gguf_tensor *vlm_gguf_tensor_at (const vlm_gguf *g, int64_t i);
/* Tensor by name, or NULL. O(1) on average. */
const vlm_gguf_tensor *vlm_gguf_find_tensor (const vlm_gguf *g,
    const char *name);
/* Number of elements of a tensor (product of ne). */
int64_t vlm_gguf_tensor_nelems (const vlm_gguf_tensor *t);

#ifdef __cplusplus
}
#endif

#endif /* VLM_GGUF_H */

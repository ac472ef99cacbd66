/* Test helper: builds GGUF files byte by byte, so that tests can make
 * exactly the malformed input they need. Include after <cmocka.h>. */
#ifndef VLM_TEST_GGUF_BYTES_H
#define VLM_TEST_GGUF_BYTES_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gguf.h"

/* ------------------------------------------------------------------ */
/* A byte builder for hand-made GGUF files                             */
/* ------------------------------------------------------------------ */

typedef struct {
  uint8_t *p;
  size_t n, cap;
} gguf_bytes;

static inline void
put (gguf_bytes * b, const void *data, size_t n)
{
  if (b->n + n > b->cap) {
    b->cap = (b->n + n) * 2 + 64;
    b->p = realloc (b->p, b->cap);
    assert_non_null (b->p);
  }
  memcpy (b->p + b->n, data, n);
  b->n += n;
}

static inline void
put_u32 (gguf_bytes * b, uint32_t v)
{
  put (b, &v, 4);
}

static inline void
put_u64 (gguf_bytes * b, uint64_t v)
{
  put (b, &v, 8);
}

static inline void
put_str (gguf_bytes * b, const char *s)
{
  put_u64 (b, strlen (s));
  put (b, s, strlen (s));
}

static inline void
put_header (gguf_bytes * b, uint32_t version, uint64_t n_tensors, uint64_t n_kv)
{
  put (b, "GGUF", 4);
  put_u32 (b, version);
  put_u64 (b, n_tensors);
  put_u64 (b, n_kv);
}

static inline void
kv_u32 (gguf_bytes * b, const char *key, uint32_t v)
{
  put_str (b, key);
  put_u32 (b, VLM_GGUF_UINT32);
  put_u32 (b, v);
}

static inline void
kv_str (gguf_bytes * b, const char *key, const char *v)
{
  put_str (b, key);
  put_u32 (b, VLM_GGUF_STRING);
  put_str (b, v);
}

static inline void
tensor_info (gguf_bytes * b, const char *name, uint32_t n_dims, const uint64_t * ne,
    uint32_t type, uint64_t offset)
{
  put_str (b, name);
  put_u32 (b, n_dims);
  for (uint32_t i = 0; i < n_dims; i++)
    put_u64 (b, ne[i]);
  put_u32 (b, type);
  put_u64 (b, offset);
}

static inline void
pad_to (gguf_bytes * b, size_t align)
{
  static const uint8_t zero[64];
  put (b, zero, (align - b->n % align) % align);
}

static inline void
put_zeros (gguf_bytes * b, size_t n)
{
  uint8_t z[256] = { 0 };
  while (n) {
    size_t k = n < sizeof (z) ? n : sizeof (z);
    put (b, z, k);
    n -= k;
  }
}

#endif /* VLM_TEST_GGUF_BYTES_H */

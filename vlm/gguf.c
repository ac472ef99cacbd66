/* gst-vlm — GGUF reader: mmap, validate, index.
 *
 * Layout of a GGUF file (all little-endian):
 *   magic u32 | version u32 | n_tensors u64 | n_kv u64
 *   n_kv x { key: string | type: u32 | value }
 *   n_tensors x { name: string | n_dims u32 | ne u64[n_dims] | type u32 |
 *                 offset u64 }
 *   padding to `general.alignment` | tensor data
 * where string = { len u64 | bytes } and array = { type u32 | n u64 | items }.
 *
 * The parser reads through a bounds-checked cursor; every count is checked
 * against the bytes that remain before anything is allocated for it, so a
 * hostile file can make us allocate at most a small multiple of its size.
 */
#include "gguf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the GGUF reader assumes a little-endian host"
#endif

/* Longest tensor name accepted, as in the reference runtime (64 with NUL). */
#define MAX_TENSOR_NAME 63

typedef struct {
  char *key;                  /* NUL-terminated copy */
  vlm_gguf_value_type type;
  const uint8_t *raw;         /* scalar value bytes in the mapping */
  vlm_gguf_str str;           /* STRING: bytes in the mapping */
  char *cstr;                 /* STRING: NUL-terminated copy */
  vlm_gguf_array arr;         /* ARRAY */
  vlm_gguf_str *arr_strs;     /* ARRAY of STRING: owned index */
} kv_entry;

/* Open-addressing hash index from names to positions. */
typedef struct {
  int64_t *slots;             /* -1 = empty */
  size_t mask;
} name_index;

struct vlm_gguf {
  const uint8_t *base;
  size_t size;
  bool mapped;
  uint32_t version;
  size_t alignment;
  size_t data_offset;
  int64_t n_kv;
  kv_entry *kvs;
  int64_t n_tensors;
  vlm_gguf_tensor *tensors;
  name_index kv_index;
  name_index tensor_index;
};

/* Bounds-checked cursor over the file, with the error it last raised. */
typedef struct {
  const uint8_t *p;
  size_t size;
  size_t off;
  const char *origin;
  vlm_gguf_status status;
  char *err;
  size_t err_size;
} cursor;

/* ------------------------------------------------------------------ */
/* Errors                                                              */
/* ------------------------------------------------------------------ */

static bool
fail (cursor * c, vlm_gguf_status s, const char *fmt, ...)
    __attribute__((format (printf, 3, 4)));

/* Records the first error only: later ones are consequences. */
static bool
fail (cursor * c, vlm_gguf_status s, const char *fmt, ...)
{
  if (c->status != VLM_GGUF_OK)
    return false;
  c->status = s;
  if (c->err && c->err_size) {
    int n = snprintf (c->err, c->err_size, "%s: ", c->origin);
    if (n < 0 || (size_t) n >= c->err_size)
      return false;
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (c->err + n, c->err_size - n, fmt, ap);
    va_end (ap);
  }
  return false;
}

const char *
vlm_gguf_status_str (vlm_gguf_status s)
{
  switch (s) {
    case VLM_GGUF_OK: return "success";
    case VLM_GGUF_ERR_IO: return "I/O error";
    case VLM_GGUF_ERR_MAGIC: return "not a GGUF file";
    case VLM_GGUF_ERR_VERSION: return "unsupported GGUF version";
    case VLM_GGUF_ERR_TRUNCATED: return "truncated file";
    case VLM_GGUF_ERR_CORRUPT: return "corrupt file";
    case VLM_GGUF_ERR_UNSUPPORTED: return "unsupported tensor type";
    case VLM_GGUF_ERR_NOMEM: return "out of memory";
    case VLM_GGUF_ERR_NOT_FOUND: return "not found";
    case VLM_GGUF_ERR_TYPE: return "wrong value type";
  }
  return "unknown status";
}

const char *
vlm_gguf_value_type_name (vlm_gguf_value_type t)
{
  static const char *names[] = {
    "u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "string",
    "array", "u64", "i64", "f64",
  };
  if ((unsigned) t < sizeof (names) / sizeof (names[0]))
    return names[t];
  return "invalid";
}

/* ------------------------------------------------------------------ */
/* Cursor reads                                                        */
/* ------------------------------------------------------------------ */

static size_t
remaining (const cursor * c)
{
  return c->size - c->off;
}

static bool
need (cursor * c, size_t n, const char *what)
{
  if (n <= remaining (c))
    return true;
  return fail (c, VLM_GGUF_ERR_TRUNCATED,
      "file ends inside %s at byte %zu (needs %zu bytes, %zu left)",
      what, c->off, n, remaining (c));
}

static bool
read_u32 (cursor * c, uint32_t * v, const char *what)
{
  if (!need (c, 4, what))
    return false;
  memcpy (v, c->p + c->off, 4);
  c->off += 4;
  return true;
}

static bool
read_u64 (cursor * c, uint64_t * v, const char *what)
{
  if (!need (c, 8, what))
    return false;
  memcpy (v, c->p + c->off, 8);
  c->off += 8;
  return true;
}

/* A string: length-prefixed bytes, kept in place. */
static bool
read_str (cursor * c, vlm_gguf_str * s, const char *what)
{
  size_t at = c->off;
  uint64_t len = 0;
  if (!read_u64 (c, &len, what))
    return false;
  if (len > remaining (c))
    return fail (c, VLM_GGUF_ERR_TRUNCATED,
        "%s at byte %zu claims %llu bytes, only %zu left in the file",
        what, at, (unsigned long long) len, remaining (c));
  s->ptr = (const char *) c->p + c->off;
  s->len = len;
  c->off += len;
  return true;
}

static char *
dup_str (cursor * c, vlm_gguf_str s)
{
  char *d = malloc (s.len + 1);
  if (d == NULL) {
    fail (c, VLM_GGUF_ERR_NOMEM, "cannot allocate %llu bytes",
        (unsigned long long) s.len + 1);
    return NULL;
  }
  memcpy (d, s.ptr, s.len);
  d[s.len] = '\0';
  return d;
}

/* Size in bytes of a scalar value type; 0 for string/array/invalid. */
static size_t
scalar_size (uint32_t t)
{
  switch (t) {
    case VLM_GGUF_UINT8: case VLM_GGUF_INT8: case VLM_GGUF_BOOL:
      return 1;
    case VLM_GGUF_UINT16: case VLM_GGUF_INT16:
      return 2;
    case VLM_GGUF_UINT32: case VLM_GGUF_INT32: case VLM_GGUF_FLOAT32:
      return 4;
    case VLM_GGUF_UINT64: case VLM_GGUF_INT64: case VLM_GGUF_FLOAT64:
      return 8;
    default:
      return 0;
  }
}

static bool
valid_value_type (uint32_t t)
{
  return t <= VLM_GGUF_FLOAT64;
}

/* ------------------------------------------------------------------ */
/* Name index                                                          */
/* ------------------------------------------------------------------ */

static uint64_t
hash_name (const char *s)
{
  uint64_t h = 1469598103934665603ull;  /* FNV-1a */
  for (; *s; s++)
    h = (h ^ (uint8_t) * s) * 1099511628211ull;
  return h;
}

static bool
build_index (name_index * idx, int64_t n)
{
  size_t cap = 16;
  while (cap < (size_t) n * 2)
    cap <<= 1;
  idx->slots = malloc (cap * sizeof (int64_t));
  if (idx->slots == NULL)
    return false;
  memset (idx->slots, 0xff, cap * sizeof (int64_t));
  idx->mask = cap - 1;
  return true;
}

static void
free_index (name_index * idx)
{
  free (idx->slots);
  idx->slots = NULL;
}

/* Inserts `pos` under names[pos]; returns the position already holding
 * the same name, or -1 when inserted. */
static int64_t
index_insert (name_index * idx, const char *(*name_at) (const vlm_gguf *,
        int64_t), const vlm_gguf * g, int64_t pos)
{
  const char *name = name_at (g, pos);
  for (size_t i = hash_name (name) & idx->mask;; i = (i + 1) & idx->mask) {
    int64_t s = idx->slots[i];
    if (s < 0) {
      idx->slots[i] = pos;
      return -1;
    }
    if (strcmp (name_at (g, s), name) == 0)
      return s;
  }
}

static int64_t
index_find (const name_index * idx, const char *(*name_at) (const vlm_gguf *,
        int64_t), const vlm_gguf * g, const char *name)
{
  if (idx->slots == NULL || name == NULL)
    return -1;
  for (size_t i = hash_name (name) & idx->mask;; i = (i + 1) & idx->mask) {
    int64_t s = idx->slots[i];
    if (s < 0)
      return -1;
    if (strcmp (name_at (g, s), name) == 0)
      return s;
  }
}

static const char *
kv_name_at (const vlm_gguf * g, int64_t i)
{
  return g->kvs[i].key;
}

static const char *
tensor_name_at (const vlm_gguf * g, int64_t i)
{
  return g->tensors[i].name;
}

/* ------------------------------------------------------------------ */
/* Header and metadata                                                 */
/* ------------------------------------------------------------------ */

static bool
parse_header (cursor * c, vlm_gguf * g, uint64_t * n_tensors,
    uint64_t * n_kv)
{
  uint32_t magic;
  if (c->size < 4 || (memcpy (&magic, c->p, 4), magic != VLM_GGUF_MAGIC))
    return fail (c, VLM_GGUF_ERR_MAGIC,
        "not a GGUF file (the first 4 bytes are not \"GGUF\")");
  c->off = 4;
  if (!read_u32 (c, &g->version, "the version field"))
    return false;
  if (g->version != 2 && g->version != 3) {
    if ((g->version & 0xffff) == 0)
      return fail (c, VLM_GGUF_ERR_VERSION,
          "big-endian GGUF files are not supported (version field %#x)",
          g->version);
    return fail (c, VLM_GGUF_ERR_VERSION,
        "GGUF version %u is not supported (only versions 2 and 3)",
        g->version);
  }
  if (!read_u64 (c, n_tensors, "the tensor count")
      || !read_u64 (c, n_kv, "the metadata count"))
    return false;
  /* smallest kv: empty key (8) + type (4) + u8 value (1) */
  if (*n_kv > remaining (c) / 13)
    return fail (c, VLM_GGUF_ERR_TRUNCATED,
        "header claims %llu metadata entries, which cannot fit in the "
        "%zu bytes that follow", (unsigned long long) *n_kv, remaining (c));
  /* smallest tensor info: name length (8) + n_dims (4) + ne (8) +
   * type (4) + offset (8) */
  if (*n_tensors > remaining (c) / 32)
    return fail (c, VLM_GGUF_ERR_TRUNCATED,
        "header claims %llu tensors, which cannot fit in the %zu bytes "
        "that follow", (unsigned long long) *n_tensors, remaining (c));
  return true;
}

static bool
parse_array (cursor * c, kv_entry * kv)
{
  size_t at = c->off;
  uint32_t et = 0;
  uint64_t n = 0;
  if (!read_u32 (c, &et, "an array's element type")
      || !read_u64 (c, &n, "an array's length"))
    return false;
  if (!valid_value_type (et))
    return fail (c, VLM_GGUF_ERR_CORRUPT,
        "key '%s': array at byte %zu has invalid element type %u",
        kv->key, at, et);
  if (et == VLM_GGUF_ARRAY)
    return fail (c, VLM_GGUF_ERR_CORRUPT,
        "key '%s': arrays of arrays are not supported (byte %zu)",
        kv->key, at);
  kv->arr.type = et;
  kv->arr.n = n;
  if (et != VLM_GGUF_STRING) {
    size_t es = scalar_size (et);
    if (n > remaining (c) / es)
      return fail (c, VLM_GGUF_ERR_TRUNCATED,
          "key '%s': array of %llu %s at byte %zu runs past the end of "
          "the file", kv->key, (unsigned long long) n,
          vlm_gguf_value_type_name (et), at);
    kv->arr.data = c->p + c->off;
    c->off += n * es;
    return true;
  }
  /* each string needs at least its 8-byte length */
  if (n > remaining (c) / 8)
    return fail (c, VLM_GGUF_ERR_TRUNCATED,
        "key '%s': array of %llu strings at byte %zu runs past the end "
        "of the file", kv->key, (unsigned long long) n, at);
  kv->arr_strs = malloc ((n ? n : 1) * sizeof (vlm_gguf_str));
  if (kv->arr_strs == NULL)
    return fail (c, VLM_GGUF_ERR_NOMEM, "cannot index %llu strings",
        (unsigned long long) n);
  for (uint64_t i = 0; i < n; i++)
    if (!read_str (c, &kv->arr_strs[i], "an array string"))
      return false;
  kv->arr.strs = kv->arr_strs;
  return true;
}

static bool
parse_value (cursor * c, kv_entry * kv)
{
  if (kv->type == VLM_GGUF_STRING) {
    if (!read_str (c, &kv->str, "a string value"))
      return false;
    kv->cstr = dup_str (c, kv->str);
    return kv->cstr != NULL;
  }
  if (kv->type == VLM_GGUF_ARRAY)
    return parse_array (c, kv);
  size_t es = scalar_size (kv->type);
  if (!need (c, es, "a metadata value"))
    return false;
  kv->raw = c->p + c->off;
  c->off += es;
  return true;
}

static bool
parse_kv (cursor * c, vlm_gguf * g, int64_t i)
{
  kv_entry *kv = &g->kvs[i];
  size_t at = c->off;
  vlm_gguf_str key = { 0 };
  uint32_t type = 0;
  if (!read_str (c, &key, "a metadata key"))
    return false;
  if (memchr (key.ptr, '\0', key.len) != NULL)
    return fail (c, VLM_GGUF_ERR_CORRUPT,
        "metadata key at byte %zu contains a NUL byte", at);
  kv->key = dup_str (c, key);
  if (kv->key == NULL)
    return false;
  if (!read_u32 (c, &type, "a metadata value type"))
    return false;
  if (!valid_value_type (type))
    return fail (c, VLM_GGUF_ERR_CORRUPT,
        "key '%s' at byte %zu has invalid value type %u", kv->key, at, type);
  kv->type = type;
  if (!parse_value (c, kv))
    return false;
  int64_t dup = index_insert (&g->kv_index, kv_name_at, g, i);
  if (dup >= 0)
    return fail (c, VLM_GGUF_ERR_CORRUPT,
        "duplicate metadata key '%s' (entries %lld and %lld)", kv->key,
        (long long) dup, (long long) i);
  return true;
}

static bool
parse_kvs (cursor * c, vlm_gguf * g, uint64_t n_kv)
{
  g->kvs = calloc (n_kv ? n_kv : 1, sizeof (kv_entry));
  if (g->kvs == NULL || !build_index (&g->kv_index, n_kv))
    return fail (c, VLM_GGUF_ERR_NOMEM, "cannot allocate %llu entries",
        (unsigned long long) n_kv);
  for (uint64_t i = 0; i < n_kv; i++) {
    g->n_kv = (int64_t) i + 1;  /* a partial entry is freed too */
    if (!parse_kv (c, g, i))
      return false;
  }
  return true;
}

/* general.alignment: optional u32, a power of two. */
static bool
read_alignment (cursor * c, vlm_gguf * g)
{
  g->alignment = VLM_GGUF_DEFAULT_ALIGNMENT;
  int64_t i = vlm_gguf_find_key (g, "general.alignment");
  if (i < 0)
    return true;
  const kv_entry *kv = &g->kvs[i];
  if (kv->type != VLM_GGUF_UINT32)
    return fail (c, VLM_GGUF_ERR_CORRUPT,
        "general.alignment has type %s, expected u32",
        vlm_gguf_value_type_name (kv->type));
  uint32_t a;
  memcpy (&a, kv->raw, 4);
  if (a == 0 || (a & (a - 1)) != 0)
    return fail (c, VLM_GGUF_ERR_CORRUPT,
        "general.alignment = %u is not a power of two", a);
  g->alignment = a;
  return true;
}

/* ------------------------------------------------------------------ */
/* Tensor infos                                                        */
/* ------------------------------------------------------------------ */

static bool
parse_tensor_shape (cursor * c, vlm_gguf_tensor * t, size_t at)
{
  uint32_t nd = 0;
  if (!read_u32 (c, &nd, "a tensor's dimension count"))
    return false;
  if (nd == 0 || nd > VLM_GGUF_MAX_DIMS)
    return fail (c, VLM_GGUF_ERR_CORRUPT,
        "tensor '%s' (byte %zu) has %u dimensions (1 to %d allowed)",
        t->name, at, nd, VLM_GGUF_MAX_DIMS);
  t->n_dims = nd;
  /* the product of the non-zero dims must fit, so that any sub-product
   * (rows = ne1*ne2*ne3, elements) does too, even when a dim is 0 */
  int64_t total = 1;
  for (int d = 0; d < VLM_GGUF_MAX_DIMS; d++) {
    uint64_t ne = 1;
    if ((uint32_t) d < nd && !read_u64 (c, &ne, "a tensor dimension"))
      return false;
    if (ne > INT64_MAX || (ne > 0 && total > INT64_MAX / (int64_t) ne))
      return fail (c, VLM_GGUF_ERR_CORRUPT,
          "tensor '%s' (byte %zu): element count overflows at dimension "
          "%d (%llu)", t->name, at, d, (unsigned long long) ne);
    t->ne[d] = (int64_t) ne;
    if (ne > 0)
      total *= (int64_t) ne;
  }
  return true;
}

static bool
parse_tensor_type (cursor * c, vlm_gguf_tensor * t, size_t at)
{
  uint32_t type = 0;
  if (!read_u32 (c, &type, "a tensor type"))
    return false;
  if (!vlm_type_is_known (type))
    return fail (c, VLM_GGUF_ERR_UNSUPPORTED,
        "tensor '%s' (byte %zu) has type id %u, which is not supported "
        "(known: f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, q4_K, q5_K, "
        "q6_K)", t->name, at, type);
  t->type = type;
  int64_t blk = vlm_type_block_elems (type);
  if (t->ne[0] % blk != 0)
    return fail (c, VLM_GGUF_ERR_CORRUPT,
        "tensor '%s' (byte %zu): row length %lld is not a multiple of the "
        "%s block size %lld", t->name, at, (long long) t->ne[0],
        vlm_type_name (type), (long long) blk);
  size_t row = vlm_type_row_bytes (type, t->ne[0]);
  int64_t rows = t->ne[1] * t->ne[2] * t->ne[3];
  if (row == SIZE_MAX || (rows > 0 && row > SIZE_MAX / (uint64_t) rows))
    return fail (c, VLM_GGUF_ERR_CORRUPT,
        "tensor '%s' (byte %zu): byte size overflows", t->name, at);
  t->nbytes = row * (size_t) rows;
  return true;
}

static bool
parse_tensor_info (cursor * c, vlm_gguf * g, int64_t i)
{
  vlm_gguf_tensor *t = &g->tensors[i];
  size_t at = c->off;
  vlm_gguf_str name = { 0 };
  if (!read_str (c, &name, "a tensor name"))
    return false;
  if (name.len > MAX_TENSOR_NAME || memchr (name.ptr, '\0', name.len))
    return fail (c, VLM_GGUF_ERR_CORRUPT,
        "tensor name at byte %zu is longer than %d bytes or holds a NUL",
        at, MAX_TENSOR_NAME);
  t->name = dup_str (c, name);
  if (t->name == NULL)
    return false;
  g->n_tensors = i + 1;
  if (!parse_tensor_shape (c, t, at) || !parse_tensor_type (c, t, at)
      || !read_u64 (c, &t->offset, "a tensor offset"))
    return false;
  if (t->offset % g->alignment != 0)
    return fail (c, VLM_GGUF_ERR_CORRUPT,
        "tensor '%s': data offset %llu is not a multiple of the alignment "
        "%zu", t->name, (unsigned long long) t->offset, g->alignment);
  int64_t dup = index_insert (&g->tensor_index, tensor_name_at, g, i);
  if (dup >= 0)
    return fail (c, VLM_GGUF_ERR_CORRUPT,
        "duplicate tensor name '%s' (tensors %lld and %lld)", t->name,
        (long long) dup, (long long) i);
  return true;
}

static bool
parse_tensor_infos (cursor * c, vlm_gguf * g, uint64_t n)
{
  g->tensors = calloc (n ? n : 1, sizeof (vlm_gguf_tensor));
  if (g->tensors == NULL || !build_index (&g->tensor_index, n))
    return fail (c, VLM_GGUF_ERR_NOMEM, "cannot allocate %llu tensors",
        (unsigned long long) n);
  for (uint64_t i = 0; i < n; i++)
    if (!parse_tensor_info (c, g, i))
      return false;
  return true;
}

/* ------------------------------------------------------------------ */
/* Tensor data                                                         */
/* ------------------------------------------------------------------ */

typedef struct {
  uint64_t offset;
  size_t nbytes;
  int64_t index;
} extent;

static int
cmp_extent (const void *a, const void *b)
{
  uint64_t oa = ((const extent *) a)->offset;
  uint64_t ob = ((const extent *) b)->offset;
  return (oa > ob) - (oa < ob);
}

/* Overlap check: sort the data extents by offset, compare neighbours. */
static bool
check_overlaps (cursor * c, vlm_gguf * g)
{
  int64_t n = g->n_tensors;
  if (n < 2)
    return true;
  extent *ext = malloc (n * sizeof (extent));
  if (ext == NULL)
    return fail (c, VLM_GGUF_ERR_NOMEM, "cannot sort %lld tensors",
        (long long) n);
  for (int64_t i = 0; i < n; i++)
    ext[i] = (extent) { g->tensors[i].offset, g->tensors[i].nbytes, i };
  qsort (ext, n, sizeof (extent), cmp_extent);
  bool ok = true;
  for (int64_t k = 1; k < n && ok; k++) {
    const extent *a = &ext[k - 1], *b = &ext[k];
    if (a->offset + a->nbytes > b->offset)
      ok = fail (c, VLM_GGUF_ERR_CORRUPT,
          "data of tensors '%s' and '%s' overlap (offsets %llu+%zu and "
          "%llu)", g->tensors[a->index].name, g->tensors[b->index].name,
          (unsigned long long) a->offset, a->nbytes,
          (unsigned long long) b->offset);
  }
  free (ext);
  return ok;
}

static bool
place_tensors (cursor * c, vlm_gguf * g)
{
  size_t a = g->alignment;
  size_t end = c->off;
  if (end > SIZE_MAX - a)
    return fail (c, VLM_GGUF_ERR_CORRUPT, "header too large");
  g->data_offset = (end + a - 1) / a * a;
  if (g->n_tensors > 0 && g->data_offset > c->size)
    return fail (c, VLM_GGUF_ERR_TRUNCATED,
        "file ends before its tensor data section (at byte %zu)",
        g->data_offset);
  size_t data_size = g->n_tensors > 0 ? c->size - g->data_offset : 0;
  for (int64_t i = 0; i < g->n_tensors; i++) {
    vlm_gguf_tensor *t = &g->tensors[i];
    if (t->offset > data_size || t->nbytes > data_size - t->offset)
      return fail (c, VLM_GGUF_ERR_TRUNCATED,
          "data of tensor '%s' (%zu bytes at data offset %llu) runs past "
          "the end of the file (%zu bytes of data)", t->name, t->nbytes,
          (unsigned long long) t->offset, data_size);
    t->data = c->p + g->data_offset + t->offset;
  }
  return check_overlaps (c, g);
}
/* ------------------------------------------------------------------ */
/* Open and close                                                      */
/* ------------------------------------------------------------------ */

static void
free_kvs (vlm_gguf * g)
{
  for (int64_t i = 0; i < g->n_kv; i++) {
    free (g->kvs[i].key);
    free (g->kvs[i].cstr);
    free (g->kvs[i].arr_strs);
  }
  free (g->kvs);
}

void
vlm_gguf_close (vlm_gguf * g)
{
  if (g == NULL)
    return;
  free_kvs (g);
  for (int64_t i = 0; i < g->n_tensors; i++)
    free ((char *) g->tensors[i].name);
  free (g->tensors);
  free_index (&g->kv_index);
  free_index (&g->tensor_index);
  if (g->mapped)
    munmap ((void *) g->base, g->size);
  free (g);
}

static bool
parse_all (cursor * c, vlm_gguf * g)
{
  uint64_t n_tensors = 0, n_kv = 0;
  return parse_header (c, g, &n_tensors, &n_kv)
      && parse_kvs (c, g, n_kv)
      && read_alignment (c, g)
      && parse_tensor_infos (c, g, n_tensors)
      && place_tensors (c, g);
}

/* Parses the bytes at c->p; takes ownership of a mapping in any case. */
static vlm_gguf *
open_cursor (cursor * c, bool mapped, vlm_gguf_status * status)
{
  vlm_gguf *g = calloc (1, sizeof (vlm_gguf));
  if (g == NULL) {
    if (mapped)
      munmap ((void *) c->p, c->size);
    fail (c, VLM_GGUF_ERR_NOMEM, "cannot allocate the reader");
    if (status)
      *status = c->status;
    return NULL;
  }
  g->base = c->p;
  g->size = c->size;
  g->mapped = mapped;
  if (!parse_all (c, g)) {
    vlm_gguf_close (g);
    g = NULL;
  }
  if (status)
    *status = c->status;
  return g;
}

vlm_gguf *
vlm_gguf_open_memory (const void *data, size_t size,
    vlm_gguf_status * status, char *err, size_t err_size)
{
  cursor c = { data, size, 0, "<memory>", VLM_GGUF_OK, err, err_size };
  if (err && err_size)
    err[0] = '\0';
  if (data == NULL)
    c.size = 0;
  return open_cursor (&c, false, status);
}

vlm_gguf *
vlm_gguf_open (const char *path, vlm_gguf_status * status, char *err,
    size_t err_size)
{
  cursor c = { NULL, 0, 0, path ? path : "(null)", VLM_GGUF_OK, err,
    err_size };
  if (err && err_size)
    err[0] = '\0';
  int fd = path ? open (path, O_RDONLY | O_CLOEXEC) : -1;
  struct stat st;
  if (fd < 0) {
    fail (&c, VLM_GGUF_ERR_IO, "cannot open: %s",
        path ? strerror (errno) : "no path given");
    goto error;
  }
  if (fstat (fd, &st) != 0 || !S_ISREG (st.st_mode)) {
    fail (&c, VLM_GGUF_ERR_IO, "not a regular file");
    goto error;
  }
  if (st.st_size == 0) {
    fail (&c, VLM_GGUF_ERR_TRUNCATED, "file is empty");
    goto error;
  }
  if ((uint64_t) st.st_size > SIZE_MAX) {
    fail (&c, VLM_GGUF_ERR_IO, "file too large to map");
    goto error;
  }
  void *p = mmap (NULL, (size_t) st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
  if (p == MAP_FAILED) {
    fail (&c, VLM_GGUF_ERR_IO, "mmap failed: %s", strerror (errno));
    goto error;
  }
  close (fd);
  c.p = p;
  c.size = (size_t) st.st_size;
  return open_cursor (&c, true, status);

error:
  if (fd >= 0)
    close (fd);
  if (status)
    *status = c.status;
  return NULL;
}

/* ------------------------------------------------------------------ */
/* File-level facts                                                    */
/* ------------------------------------------------------------------ */

uint32_t
vlm_gguf_version (const vlm_gguf * g)
{
  return g->version;
}

size_t
vlm_gguf_alignment (const vlm_gguf * g)
{
  return g->alignment;
}

size_t
vlm_gguf_data_offset (const vlm_gguf * g)
{
  return g->data_offset;
}

size_t
vlm_gguf_file_size (const vlm_gguf * g)
{
  return g->size;
}

const void *
vlm_gguf_base (const vlm_gguf * g)
{
  return g->base;
}

/* ------------------------------------------------------------------ */
/* Metadata                                                            */
/* ------------------------------------------------------------------ */

int64_t
vlm_gguf_n_kv (const vlm_gguf * g)
{
  return g->n_kv;
}

int64_t
vlm_gguf_find_key (const vlm_gguf * g, const char *key)
{
  return index_find (&g->kv_index, kv_name_at, g, key);
}

const char *
vlm_gguf_key (const vlm_gguf * g, int64_t i)
{
  return g->kvs[i].key;
}

vlm_gguf_value_type
vlm_gguf_kv_type (const vlm_gguf * g, int64_t i)
{
  return g->kvs[i].type;
}

/* Reads an integer of value type t at p; false for non-integer types. */
static bool
load_int (vlm_gguf_value_type t, const void *p, int64_t * s, uint64_t * u,
    bool * is_signed)
{
  union { uint8_t u8; int8_t i8; uint16_t u16; int16_t i16; uint32_t u32;
    int32_t i32; uint64_t u64; int64_t i64; } v;
  size_t n = scalar_size (t);
  if (n == 0 || t == VLM_GGUF_FLOAT32 || t == VLM_GGUF_FLOAT64
      || t == VLM_GGUF_BOOL)
    return false;
  memcpy (&v, p, n);
  *is_signed = false;
  switch (t) {
    case VLM_GGUF_UINT8: *u = v.u8; break;
    case VLM_GGUF_UINT16: *u = v.u16; break;
    case VLM_GGUF_UINT32: *u = v.u32; break;
    case VLM_GGUF_UINT64: *u = v.u64; break;
    case VLM_GGUF_INT8: *s = v.i8; *is_signed = true; break;
    case VLM_GGUF_INT16: *s = v.i16; *is_signed = true; break;
    case VLM_GGUF_INT32: *s = v.i32; *is_signed = true; break;
    case VLM_GGUF_INT64: *s = v.i64; *is_signed = true; break;
    default: return false;
  }
  return true;
}

static bool
load_float (vlm_gguf_value_type t, const void *p, double *out)
{
  if (t == VLM_GGUF_FLOAT32) {
    float f;
    memcpy (&f, p, 4);
    *out = f;
    return true;
  }
  if (t == VLM_GGUF_FLOAT64) {
    memcpy (out, p, 8);
    return true;
  }
  return false;
}

/* Integer value of entry i within [lo, hi] (signed view). */
static vlm_gguf_status
kv_int_range (const vlm_gguf * g, int64_t i, int64_t lo, uint64_t hi,
    int64_t * s_out, uint64_t * u_out)
{
  if (i < 0)
    return VLM_GGUF_ERR_NOT_FOUND;
  int64_t s = 0;
  uint64_t u = 0;
  bool is_signed;
  if (!load_int (g->kvs[i].type, g->kvs[i].raw, &s, &u, &is_signed))
    return VLM_GGUF_ERR_TYPE;
  if (is_signed) {
    if (s < lo || (s > 0 && (uint64_t) s > hi))
      return VLM_GGUF_ERR_TYPE;
    u = (uint64_t) s;
  } else {
    if (u > hi)
      return VLM_GGUF_ERR_TYPE;
    s = (int64_t) u;
  }
  if (s_out)
    *s_out = s;
  if (u_out)
    *u_out = u;
  return VLM_GGUF_OK;
}

vlm_gguf_status
vlm_gguf_kv_i64 (const vlm_gguf * g, int64_t i, int64_t * out)
{
  return kv_int_range (g, i, INT64_MIN, INT64_MAX, out, NULL);
}

vlm_gguf_status
vlm_gguf_kv_u64 (const vlm_gguf * g, int64_t i, uint64_t * out)
{
  return kv_int_range (g, i, 0, UINT64_MAX, NULL, out);
}

vlm_gguf_status
vlm_gguf_kv_f64 (const vlm_gguf * g, int64_t i, double *out)
{
  if (i < 0)
    return VLM_GGUF_ERR_NOT_FOUND;
  double d;
  if (!load_float (g->kvs[i].type, g->kvs[i].raw, &d))
    return VLM_GGUF_ERR_TYPE;
  *out = d;
  return VLM_GGUF_OK;
}

vlm_gguf_status
vlm_gguf_kv_bool (const vlm_gguf * g, int64_t i, bool * out)
{
  if (i < 0)
    return VLM_GGUF_ERR_NOT_FOUND;
  if (g->kvs[i].type != VLM_GGUF_BOOL)
    return VLM_GGUF_ERR_TYPE;
  *out = g->kvs[i].raw[0] != 0;
  return VLM_GGUF_OK;
}

vlm_gguf_status
vlm_gguf_kv_str (const vlm_gguf * g, int64_t i, vlm_gguf_str * out)
{
  if (i < 0)
    return VLM_GGUF_ERR_NOT_FOUND;
  if (g->kvs[i].type != VLM_GGUF_STRING)
    return VLM_GGUF_ERR_TYPE;
  *out = g->kvs[i].str;
  return VLM_GGUF_OK;
}

vlm_gguf_status
vlm_gguf_kv_array (const vlm_gguf * g, int64_t i, vlm_gguf_array * out)
{
  if (i < 0)
    return VLM_GGUF_ERR_NOT_FOUND;
  if (g->kvs[i].type != VLM_GGUF_ARRAY)
    return VLM_GGUF_ERR_TYPE;
  *out = g->kvs[i].arr;
  return VLM_GGUF_OK;
}

vlm_gguf_status
vlm_gguf_get_u32 (const vlm_gguf * g, const char *key, uint32_t * out)
{
  uint64_t u;
  vlm_gguf_status s = kv_int_range (g, vlm_gguf_find_key (g, key), 0,
      UINT32_MAX, NULL, &u);
  if (s == VLM_GGUF_OK)
    *out = (uint32_t) u;
  return s;
}

vlm_gguf_status
vlm_gguf_get_i32 (const vlm_gguf * g, const char *key, int32_t * out)
{
  int64_t v;
  vlm_gguf_status s = kv_int_range (g, vlm_gguf_find_key (g, key),
      INT32_MIN, INT32_MAX, &v, NULL);
  if (s == VLM_GGUF_OK)
    *out = (int32_t) v;
  return s;
}

vlm_gguf_status
vlm_gguf_get_u64 (const vlm_gguf * g, const char *key, uint64_t * out)
{
  return vlm_gguf_kv_u64 (g, vlm_gguf_find_key (g, key), out);
}

vlm_gguf_status
vlm_gguf_get_i64 (const vlm_gguf * g, const char *key, int64_t * out)
{
  return vlm_gguf_kv_i64 (g, vlm_gguf_find_key (g, key), out);
}

vlm_gguf_status
vlm_gguf_get_f64 (const vlm_gguf * g, const char *key, double *out)
{
  return vlm_gguf_kv_f64 (g, vlm_gguf_find_key (g, key), out);
}

vlm_gguf_status
vlm_gguf_get_f32 (const vlm_gguf * g, const char *key, float *out)
{
  double d;
  vlm_gguf_status s = vlm_gguf_get_f64 (g, key, &d);
  if (s == VLM_GGUF_OK)
    *out = (float) d;
  return s;
}

vlm_gguf_status
vlm_gguf_get_bool (const vlm_gguf * g, const char *key, bool * out)
{
  return vlm_gguf_kv_bool (g, vlm_gguf_find_key (g, key), out);
}

vlm_gguf_status
vlm_gguf_get_str (const vlm_gguf * g, const char *key, vlm_gguf_str * out)
{
  return vlm_gguf_kv_str (g, vlm_gguf_find_key (g, key), out);
}

vlm_gguf_status
vlm_gguf_get_string (const vlm_gguf * g, const char *key, const char **out)
{
  int64_t i = vlm_gguf_find_key (g, key);
  if (i < 0)
    return VLM_GGUF_ERR_NOT_FOUND;
  if (g->kvs[i].type != VLM_GGUF_STRING)
    return VLM_GGUF_ERR_TYPE;
  *out = g->kvs[i].cstr;
  return VLM_GGUF_OK;
}

vlm_gguf_status
vlm_gguf_get_array (const vlm_gguf * g, const char *key,
    vlm_gguf_array * out)
{
  return vlm_gguf_kv_array (g, vlm_gguf_find_key (g, key), out);
}

int64_t
vlm_gguf_arr_i64 (const vlm_gguf_array * arr, uint64_t i)
{
  int64_t s = 0;
  uint64_t u = 0;
  bool is_signed;
  if (i >= arr->n || arr->data == NULL)
    return 0;
  const uint8_t *p = (const uint8_t *) arr->data + i * scalar_size (arr->type);
  if (arr->type == VLM_GGUF_BOOL)
    return *p != 0;
  if (!load_int (arr->type, p, &s, &u, &is_signed))
    return 0;
  return is_signed ? s : (int64_t) u;
}

double
vlm_gguf_arr_f64 (const vlm_gguf_array * arr, uint64_t i)
{
  double d = 0;
  if (i >= arr->n || arr->data == NULL)
    return 0;
  const uint8_t *p = (const uint8_t *) arr->data + i * scalar_size (arr->type);
  return load_float (arr->type, p, &d) ? d : 0;
}

float
vlm_gguf_arr_f32 (const vlm_gguf_array * arr, uint64_t i)
{
  return (float) vlm_gguf_arr_f64 (arr, i);
}

/* ------------------------------------------------------------------ */
/* Tensors                                                             */
/* ------------------------------------------------------------------ */

int64_t
vlm_gguf_n_tensors (const vlm_gguf * g)
{
  return g->n_tensors;
}

const vlm_gguf_tensor *
vlm_gguf_tensor_at (const vlm_gguf * g, int64_t i)
{
  if (i < 0 || i >= g->n_tensors)
    return NULL;
  return &g->tensors[i];
}

const vlm_gguf_tensor *
vlm_gguf_find_tensor (const vlm_gguf * g, const char *name)
{
  int64_t i = index_find (&g->tensor_index, tensor_name_at, g, name);
  return i < 0 ? NULL : &g->tensors[i];
}

int64_t
vlm_gguf_tensor_nelems (const vlm_gguf_tensor * t)
{
  return t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3];
}

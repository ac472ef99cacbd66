/* gst-vlm — GGUF writer. */
#include "gguf-writer.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GGUF_VERSION 3
#define MAX_NAME 64
#define IO_BUFFER (1 << 20)

typedef struct {
  char *name;
  vlm_type type;
  uint32_t n_dims;
  int64_t ne[VLM_GGUF_MAX_DIMS];
  uint64_t offset;              /* from the start of the data section */
  size_t nbytes;
} tensor_info;

/* A growable byte buffer. */
typedef struct {
  uint8_t *data;
  size_t len, cap;
} bytebuf;

typedef enum {
  STATE_DECLARING,
  STATE_WRITING,
  STATE_DONE,
  STATE_FAILED,
} writer_state;

struct vlm_gguf_writer {
  writer_state state;
  uint32_t alignment;

  /* metadata, already serialised; keys kept for duplicate checks */
  bytebuf kv;
  char **keys;
  int64_t n_kv, cap_kv;

  tensor_info *tensors;
  int64_t n_tensors, cap_tensors;
  uint64_t data_size;           /* data section size, aligned */

  /* output */
  char *path;
  FILE *fp;
  char *iobuf;
  int64_t cur;                  /* tensor being written */
  size_t cur_done;              /* its bytes written so far */
  vlm_gguf_writer_status fail_status;

  char err[256];
};

/* ------------------------------------------------------------------ */
/* Errors                                                              */
/* ------------------------------------------------------------------ */

static vlm_gguf_writer_status
fail (vlm_gguf_writer *w, vlm_gguf_writer_status s, const char *fmt, ...)
    __attribute__((format (printf, 3, 4)));

static vlm_gguf_writer_status
fail (vlm_gguf_writer *w, vlm_gguf_writer_status s, const char *fmt, ...)
{
  va_list ap;

  va_start (ap, fmt);
  vsnprintf (w->err, sizeof w->err, fmt, ap);
  va_end (ap);
  return s;
}

/* An error while writing: the file is abandoned. */
static vlm_gguf_writer_status
fail_output (vlm_gguf_writer *w, vlm_gguf_writer_status s)
{
  w->state = STATE_FAILED;
  w->fail_status = s;
  return s;
}

const char *
vlm_gguf_writer_error (const vlm_gguf_writer *w)
{
  return w ? w->err : "no writer";
}

const char *
vlm_gguf_writer_status_str (vlm_gguf_writer_status s)
{
  switch (s) {
    case VLM_GGUF_WRITER_OK:
      return "success";
    case VLM_GGUF_WRITER_ERR_IO:
      return "i/o error";
    case VLM_GGUF_WRITER_ERR_NOMEM:
      return "out of memory";
    case VLM_GGUF_WRITER_ERR_INVALID:
      return "invalid argument";
    case VLM_GGUF_WRITER_ERR_STATE:
      return "call out of order";
    case VLM_GGUF_WRITER_ERR_INCOMPLETE:
      return "tensor data incomplete";
  }
  return "unknown status";
}

/* ------------------------------------------------------------------ */
/* Byte buffer                                                         */
/* ------------------------------------------------------------------ */

static bool
buf_put (bytebuf *b, const void *p, size_t n)
{
  if (n > SIZE_MAX - b->len)
    return false;
  if (b->len + n > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n) {
      if (cap > SIZE_MAX / 2)
        return false;
      cap *= 2;
    }
    uint8_t *d = realloc (b->data, cap);
    if (d == NULL)
      return false;
    b->data = d;
    b->cap = cap;
  }
  if (n > 0)
    memcpy (b->data + b->len, p, n);
  b->len += n;
  return true;
}

static bool
buf_u32 (bytebuf *b, uint32_t v)
{
  return buf_put (b, &v, 4);
}

static bool
buf_u64 (bytebuf *b, uint64_t v)
{
  return buf_put (b, &v, 8);
}

/* A GGUF string: u64 length, then the bytes. */
static bool
buf_str (bytebuf *b, const void *s, uint64_t len)
{
  return buf_u64 (b, len) && buf_put (b, s, (size_t) len);
}

/* ------------------------------------------------------------------ */
/* Life cycle                                                          */
/* ------------------------------------------------------------------ */

vlm_gguf_writer *
vlm_gguf_writer_new (void)
{
  vlm_gguf_writer *w = calloc (1, sizeof *w);

  if (w == NULL)
    return NULL;
  w->alignment = VLM_GGUF_DEFAULT_ALIGNMENT;
  w->cur = -1;
  return w;
}

/* Closes and removes an unfinished output file. */
static void
abandon_file (vlm_gguf_writer *w)
{
  if (w->fp != NULL) {
    fclose (w->fp);
    w->fp = NULL;
    if (w->path != NULL)
      remove (w->path);
  }
}

void
vlm_gguf_writer_free (vlm_gguf_writer *w)
{
  if (w == NULL)
    return;
  abandon_file (w);
  for (int64_t i = 0; i < w->n_kv; i++)
    free (w->keys[i]);
  free (w->keys);
  for (int64_t i = 0; i < w->n_tensors; i++)
    free (w->tensors[i].name);
  free (w->tensors);
  free (w->kv.data);
  free (w->path);
  free (w->iobuf);
  free (w);
}

vlm_gguf_writer_status
vlm_gguf_writer_set_alignment (vlm_gguf_writer *w, uint32_t alignment)
{
  if (w == NULL)
    return VLM_GGUF_WRITER_ERR_INVALID;
  if (w->state != STATE_DECLARING || w->n_tensors > 0)
    return fail (w, VLM_GGUF_WRITER_ERR_STATE,
        "alignment must be set before any tensor is added");
  if (alignment < 8 || (alignment & (alignment - 1)) != 0)
    return fail (w, VLM_GGUF_WRITER_ERR_INVALID,
        "alignment %u is not a power of two >= 8", alignment);
  w->alignment = alignment;
  return VLM_GGUF_WRITER_OK;
}

int64_t
vlm_gguf_writer_n_kv (const vlm_gguf_writer *w)
{
  return w ? w->n_kv : 0;
}

int64_t
vlm_gguf_writer_n_tensors (const vlm_gguf_writer *w)
{
  return w ? w->n_tensors : 0;
}

/* ------------------------------------------------------------------ */
/* Metadata                                                            */
/* ------------------------------------------------------------------ */

/* Checks the state and key, records the key and serialises its name and
 * value type. The caller then serialises the value. */
static vlm_gguf_writer_status
kv_begin (vlm_gguf_writer *w, const char *key, vlm_gguf_value_type type)
{
  if (w == NULL)
    return VLM_GGUF_WRITER_ERR_INVALID;
  if (w->state != STATE_DECLARING)
    return fail (w, VLM_GGUF_WRITER_ERR_STATE,
        "metadata can only be added before begin");
  if (key == NULL || key[0] == '\0')
    return fail (w, VLM_GGUF_WRITER_ERR_INVALID, "empty metadata key");
  for (int64_t i = 0; i < w->n_kv; i++)
    if (strcmp (w->keys[i], key) == 0)
      return fail (w, VLM_GGUF_WRITER_ERR_INVALID,
          "duplicate metadata key '%s'", key);

  if (w->n_kv == w->cap_kv) {
    int64_t cap = w->cap_kv ? 2 * w->cap_kv : 32;
    char **k = realloc (w->keys, (size_t) cap * sizeof *k);
    if (k == NULL)
      return fail (w, VLM_GGUF_WRITER_ERR_NOMEM, "out of memory");
    w->keys = k;
    w->cap_kv = cap;
  }
  char *copy = strdup (key);
  if (copy == NULL)
    return fail (w, VLM_GGUF_WRITER_ERR_NOMEM, "out of memory");
  if (!buf_str (&w->kv, key, strlen (key)) || !buf_u32 (&w->kv, type)) {
    free (copy);
    return fail (w, VLM_GGUF_WRITER_ERR_NOMEM, "out of memory");
  }
  w->keys[w->n_kv++] = copy;
  return VLM_GGUF_WRITER_OK;
}

/* Serialises a value after kv_begin; on failure the entry is dropped. */
static vlm_gguf_writer_status
kv_end (vlm_gguf_writer *w, size_t mark, bool ok)
{
  if (ok)
    return VLM_GGUF_WRITER_OK;
  w->kv.len = mark;
  free (w->keys[--w->n_kv]);
  return fail (w, VLM_GGUF_WRITER_ERR_NOMEM, "out of memory");
}

static vlm_gguf_writer_status
add_scalar (vlm_gguf_writer *w, const char *key, vlm_gguf_value_type type,
    const void *v, size_t size)
{
  size_t mark = w ? w->kv.len : 0;
  vlm_gguf_writer_status s = kv_begin (w, key, type);

  if (s != VLM_GGUF_WRITER_OK)
    return s;
  return kv_end (w, mark, buf_put (&w->kv, v, size));
}

#define DEFINE_ADD(suffix, ctype, gtype)                                 \
  vlm_gguf_writer_status                                                 \
  vlm_gguf_writer_add_##suffix (vlm_gguf_writer *w, const char *key,     \
      ctype v)                                                           \
  {                                                                      \
    return add_scalar (w, key, gtype, &v, sizeof v);                     \
  }

DEFINE_ADD (u8, uint8_t, VLM_GGUF_UINT8)
DEFINE_ADD (i8, int8_t, VLM_GGUF_INT8)
DEFINE_ADD (u16, uint16_t, VLM_GGUF_UINT16)
DEFINE_ADD (i16, int16_t, VLM_GGUF_INT16)
DEFINE_ADD (u32, uint32_t, VLM_GGUF_UINT32)
DEFINE_ADD (i32, int32_t, VLM_GGUF_INT32)
DEFINE_ADD (u64, uint64_t, VLM_GGUF_UINT64)
DEFINE_ADD (i64, int64_t, VLM_GGUF_INT64)
DEFINE_ADD (f32, float, VLM_GGUF_FLOAT32)
DEFINE_ADD (f64, double, VLM_GGUF_FLOAT64)

vlm_gguf_writer_status
vlm_gguf_writer_add_bool (vlm_gguf_writer *w, const char *key, bool v)
{
  uint8_t b = v ? 1 : 0;
  return add_scalar (w, key, VLM_GGUF_BOOL, &b, 1);
}

vlm_gguf_writer_status
vlm_gguf_writer_add_str (vlm_gguf_writer *w, const char *key, const void *v,
    uint64_t len)
{
  size_t mark = w ? w->kv.len : 0;
  vlm_gguf_writer_status s;

  if (v == NULL && len > 0)
    return w ? fail (w, VLM_GGUF_WRITER_ERR_INVALID, "NULL string value")
        : VLM_GGUF_WRITER_ERR_INVALID;
  s = kv_begin (w, key, VLM_GGUF_STRING);
  if (s != VLM_GGUF_WRITER_OK)
    return s;
  return kv_end (w, mark, buf_str (&w->kv, v, len));
}

vlm_gguf_writer_status
vlm_gguf_writer_add_string (vlm_gguf_writer *w, const char *key,
    const char *v)
{
  if (v == NULL)
    return w ? fail (w, VLM_GGUF_WRITER_ERR_INVALID, "NULL string value")
        : VLM_GGUF_WRITER_ERR_INVALID;
  return vlm_gguf_writer_add_str (w, key, v, strlen (v));
}

/* Size of one numeric array element, 0 for STRING/ARRAY/unknown. */
static size_t
elem_size (vlm_gguf_value_type t)
{
  switch (t) {
    case VLM_GGUF_UINT8:
    case VLM_GGUF_INT8:
    case VLM_GGUF_BOOL:
      return 1;
    case VLM_GGUF_UINT16:
    case VLM_GGUF_INT16:
      return 2;
    case VLM_GGUF_UINT32:
    case VLM_GGUF_INT32:
    case VLM_GGUF_FLOAT32:
      return 4;
    case VLM_GGUF_UINT64:
    case VLM_GGUF_INT64:
    case VLM_GGUF_FLOAT64:
      return 8;
    default:
      return 0;
  }
}

vlm_gguf_writer_status
vlm_gguf_writer_add_array (vlm_gguf_writer *w, const char *key,
    vlm_gguf_value_type elem_type, const void *data, uint64_t n)
{
  size_t es = elem_size (elem_type), mark = w ? w->kv.len : 0;
  vlm_gguf_writer_status s;

  if (w == NULL)
    return VLM_GGUF_WRITER_ERR_INVALID;
  if (es == 0)
    return fail (w, VLM_GGUF_WRITER_ERR_INVALID,
        "array '%s': element type %d is not numeric", key ? key : "",
        (int) elem_type);
  if ((data == NULL && n > 0) || n > SIZE_MAX / es)
    return fail (w, VLM_GGUF_WRITER_ERR_INVALID, "array '%s': bad data",
        key ? key : "");
  s = kv_begin (w, key, VLM_GGUF_ARRAY);
  if (s != VLM_GGUF_WRITER_OK)
    return s;
  return kv_end (w, mark, buf_u32 (&w->kv, elem_type) && buf_u64 (&w->kv, n)
      && buf_put (&w->kv, data, (size_t) n * es));
}

/* Common part of the two string-array forms: each element through get. */
static vlm_gguf_writer_status
add_string_array (vlm_gguf_writer *w, const char *key, const void *strs,
    uint64_t n, bool (*put) (bytebuf *, const void *, uint64_t))
{
  size_t mark = w ? w->kv.len : 0;
  vlm_gguf_writer_status s;
  bool ok;

  if (w == NULL)
    return VLM_GGUF_WRITER_ERR_INVALID;
  if (strs == NULL && n > 0)
    return fail (w, VLM_GGUF_WRITER_ERR_INVALID, "array '%s': NULL strings",
        key ? key : "");
  s = kv_begin (w, key, VLM_GGUF_ARRAY);
  if (s != VLM_GGUF_WRITER_OK)
    return s;
  ok = buf_u32 (&w->kv, VLM_GGUF_STRING) && buf_u64 (&w->kv, n);
  for (uint64_t i = 0; ok && i < n; i++)
    ok = put (&w->kv, strs, i);
  return kv_end (w, mark, ok);
}

static bool
put_cstr (bytebuf *b, const void *strs, uint64_t i)
{
  const char *s = ((const char *const *) strs)[i];
  return s != NULL && buf_str (b, s, strlen (s));
}

static bool
put_gstr (bytebuf *b, const void *strs, uint64_t i)
{
  const vlm_gguf_str *s = &((const vlm_gguf_str *) strs)[i];
  return (s->ptr != NULL || s->len == 0) && buf_str (b, s->ptr, s->len);
}

vlm_gguf_writer_status
vlm_gguf_writer_add_array_string (vlm_gguf_writer *w, const char *key,
    const char *const *strs, uint64_t n)
{
  return add_string_array (w, key, strs, n, put_cstr);
}

vlm_gguf_writer_status
vlm_gguf_writer_add_array_str (vlm_gguf_writer *w, const char *key,
    const vlm_gguf_str *strs, uint64_t n)
{
  return add_string_array (w, key, strs, n, put_gstr);
}

/* ------------------------------------------------------------------ */
/* Tensors                                                             */
/* ------------------------------------------------------------------ */

static uint64_t
align_up (uint64_t v, uint64_t a)
{
  return (v + a - 1) / a * a;
}

/* Byte size of a tensor, or 0 when the shape is not valid for its type. */
static size_t
tensor_bytes (vlm_type type, uint32_t n_dims, const int64_t *ne)
{
  size_t row = vlm_type_row_bytes (type, ne[0]);
  uint64_t rows = 1;

  if (row == 0 || row == SIZE_MAX)
    return 0;
  for (uint32_t d = 1; d < n_dims; d++) {
    if (ne[d] <= 0 || rows > UINT64_MAX / (uint64_t) ne[d])
      return 0;
    rows *= (uint64_t) ne[d];
  }
  if (rows > SIZE_MAX / row)
    return 0;
  return (size_t) (rows * row);
}

vlm_gguf_writer_status
vlm_gguf_writer_add_tensor (vlm_gguf_writer *w, const char *name,
    vlm_type type, uint32_t n_dims, const int64_t *ne)
{
  size_t nbytes;

  if (w == NULL)
    return VLM_GGUF_WRITER_ERR_INVALID;
  if (w->state != STATE_DECLARING)
    return fail (w, VLM_GGUF_WRITER_ERR_STATE,
        "tensors can only be added before begin");
  if (name == NULL || name[0] == '\0' || strlen (name) >= MAX_NAME)
    return fail (w, VLM_GGUF_WRITER_ERR_INVALID,
        "tensor name empty or longer than %d bytes", MAX_NAME - 1);
  if (n_dims < 1 || n_dims > VLM_GGUF_MAX_DIMS || ne == NULL)
    return fail (w, VLM_GGUF_WRITER_ERR_INVALID,
        "tensor '%s': %u dimensions", name, n_dims);
  if (!vlm_type_is_known (type))
    return fail (w, VLM_GGUF_WRITER_ERR_INVALID,
        "tensor '%s': unknown type %d", name, (int) type);
  nbytes = tensor_bytes (type, n_dims, ne);
  if (nbytes == 0)
    return fail (w, VLM_GGUF_WRITER_ERR_INVALID,
        "tensor '%s': shape does not fit type %s", name,
        vlm_type_name (type));
  for (int64_t i = 0; i < w->n_tensors; i++)
    if (strcmp (w->tensors[i].name, name) == 0)
      return fail (w, VLM_GGUF_WRITER_ERR_INVALID,
          "duplicate tensor name '%s'", name);

  if (w->n_tensors == w->cap_tensors) {
    int64_t cap = w->cap_tensors ? 2 * w->cap_tensors : 64;
    tensor_info *t = realloc (w->tensors, (size_t) cap * sizeof *t);
    if (t == NULL)
      return fail (w, VLM_GGUF_WRITER_ERR_NOMEM, "out of memory");
    w->tensors = t;
    w->cap_tensors = cap;
  }

  tensor_info *t = &w->tensors[w->n_tensors];
  memset (t, 0, sizeof *t);
  t->name = strdup (name);
  if (t->name == NULL)
    return fail (w, VLM_GGUF_WRITER_ERR_NOMEM, "out of memory");
  t->type = type;
  t->n_dims = n_dims;
  for (uint32_t d = 0; d < VLM_GGUF_MAX_DIMS; d++)
    t->ne[d] = d < n_dims ? ne[d] : 1;
  t->offset = w->data_size;
  t->nbytes = nbytes;
  w->data_size = align_up (w->data_size + nbytes, w->alignment);
  w->n_tensors++;
  return VLM_GGUF_WRITER_OK;
}

size_t
vlm_gguf_writer_tensor_nbytes (const vlm_gguf_writer *w, int64_t i)
{
  if (w == NULL || i < 0 || i >= w->n_tensors)
    return 0;
  return w->tensors[i].nbytes;
}

/* ------------------------------------------------------------------ */
/* Output                                                              */
/* ------------------------------------------------------------------ */

static vlm_gguf_writer_status
put_file (vlm_gguf_writer *w, const void *p, size_t n)
{
  if (n > 0 && fwrite (p, 1, n, w->fp) != n) {
    fail (w, VLM_GGUF_WRITER_ERR_IO, "%s: write failed: %s", w->path,
        strerror (errno));
    return fail_output (w, VLM_GGUF_WRITER_ERR_IO);
  }
  return VLM_GGUF_WRITER_OK;
}

static vlm_gguf_writer_status
put_zeros (vlm_gguf_writer *w, size_t n)
{
  static const uint8_t zeros[64];

  while (n > 0) {
    size_t k = n < sizeof zeros ? n : sizeof zeros;
    vlm_gguf_writer_status s = put_file (w, zeros, k);
    if (s != VLM_GGUF_WRITER_OK)
      return s;
    n -= k;
  }
  return VLM_GGUF_WRITER_OK;
}

/* Serialises magic, counts, metadata and tensor infos. */
static bool
build_header (vlm_gguf_writer *w, bytebuf *h)
{
  bool ok = buf_u32 (h, VLM_GGUF_MAGIC) && buf_u32 (h, GGUF_VERSION)
      && buf_u64 (h, (uint64_t) w->n_tensors)
      && buf_u64 (h, (uint64_t) w->n_kv)
      && buf_put (h, w->kv.data, w->kv.len);

  for (int64_t i = 0; ok && i < w->n_tensors; i++) {
    const tensor_info *t = &w->tensors[i];
    ok = buf_str (h, t->name, strlen (t->name)) && buf_u32 (h, t->n_dims);
    for (uint32_t d = 0; ok && d < t->n_dims; d++)
      ok = buf_u64 (h, (uint64_t) t->ne[d]);
    ok = ok && buf_u32 (h, t->type) && buf_u64 (h, t->offset);
  }
  return ok;
}

/* Advances past tensors that are complete (including empty ones),
 * writing the padding after each. */
static vlm_gguf_writer_status
close_finished_tensors (vlm_gguf_writer *w)
{
  while (w->cur < w->n_tensors && w->cur_done == w->tensors[w->cur].nbytes) {
    const tensor_info *t = &w->tensors[w->cur];
    uint64_t end = t->offset + t->nbytes;
    vlm_gguf_writer_status s =
        put_zeros (w, (size_t) (align_up (end, w->alignment) - end));
    if (s != VLM_GGUF_WRITER_OK)
      return s;
    w->cur++;
    w->cur_done = 0;
  }
  return VLM_GGUF_WRITER_OK;
}

vlm_gguf_writer_status
vlm_gguf_writer_begin (vlm_gguf_writer *w, const char *path)
{
  bytebuf h = { 0 };
  vlm_gguf_writer_status s;

  if (w == NULL)
    return VLM_GGUF_WRITER_ERR_INVALID;
  if (w->state != STATE_DECLARING)
    return fail (w, VLM_GGUF_WRITER_ERR_STATE, "begin called twice");
  if (path == NULL)
    return fail (w, VLM_GGUF_WRITER_ERR_INVALID, "NULL path");
  if (w->alignment != VLM_GGUF_DEFAULT_ALIGNMENT) {
    s = vlm_gguf_writer_add_u32 (w, "general.alignment", w->alignment);
    if (s != VLM_GGUF_WRITER_OK)
      return s;
  }
  w->path = strdup (path);
  w->iobuf = malloc (IO_BUFFER);
  if (w->path == NULL || w->iobuf == NULL)
    return fail (w, VLM_GGUF_WRITER_ERR_NOMEM, "out of memory");

  w->fp = fopen (path, "wb");
  if (w->fp == NULL) {
    fail (w, VLM_GGUF_WRITER_ERR_IO, "%s: %s", path, strerror (errno));
    return fail_output (w, VLM_GGUF_WRITER_ERR_IO);
  }
  setvbuf (w->fp, w->iobuf, _IOFBF, IO_BUFFER);
  w->state = STATE_WRITING;

  if (!build_header (w, &h)) {
    free (h.data);
    fail (w, VLM_GGUF_WRITER_ERR_NOMEM, "out of memory");
    return fail_output (w, VLM_GGUF_WRITER_ERR_NOMEM);
  }
  s = put_file (w, h.data, h.len);
  if (s == VLM_GGUF_WRITER_OK)
    s = put_zeros (w, (size_t) (align_up (h.len, w->alignment) - h.len));
  free (h.data);
  if (s != VLM_GGUF_WRITER_OK)
    return s;

  w->cur = 0;
  w->cur_done = 0;
  return close_finished_tensors (w);
}

vlm_gguf_writer_status
vlm_gguf_writer_write_data (vlm_gguf_writer *w, const void *data,
    size_t size)
{
  const uint8_t *p = data;

  if (w == NULL)
    return VLM_GGUF_WRITER_ERR_INVALID;
  if (w->state == STATE_FAILED)
    return w->fail_status;
  if (w->state != STATE_WRITING)
    return fail (w, VLM_GGUF_WRITER_ERR_STATE,
        "write_data outside begin/finish");
  if (data == NULL && size > 0)
    return fail (w, VLM_GGUF_WRITER_ERR_INVALID, "NULL data");

  while (size > 0) {
    if (w->cur >= w->n_tensors) {
      fail (w, VLM_GGUF_WRITER_ERR_INVALID,
          "%zu bytes of data past the last tensor", size);
      return fail_output (w, VLM_GGUF_WRITER_ERR_INVALID);
    }
    size_t room = w->tensors[w->cur].nbytes - w->cur_done;
    size_t k = size < room ? size : room;
    vlm_gguf_writer_status s = put_file (w, p, k);
    if (s != VLM_GGUF_WRITER_OK)
      return s;
    w->cur_done += k;
    p += k;
    size -= k;
    s = close_finished_tensors (w);
    if (s != VLM_GGUF_WRITER_OK)
      return s;
  }
  return VLM_GGUF_WRITER_OK;
}

int64_t
vlm_gguf_writer_current_tensor (const vlm_gguf_writer *w)
{
  if (w == NULL || w->state == STATE_DECLARING)
    return -1;
  return w->cur;
}

vlm_gguf_writer_status
vlm_gguf_writer_finish (vlm_gguf_writer *w)
{
  if (w == NULL)
    return VLM_GGUF_WRITER_ERR_INVALID;
  if (w->state == STATE_FAILED) {
    abandon_file (w);
    return w->fail_status;
  }
  if (w->state != STATE_WRITING)
    return fail (w, VLM_GGUF_WRITER_ERR_STATE, "finish without begin");
  if (w->cur < w->n_tensors) {
    fail (w, VLM_GGUF_WRITER_ERR_INCOMPLETE,
        "tensor '%s' (and any after it) lacks data",
        w->tensors[w->cur].name);
    abandon_file (w);
    return fail_output (w, VLM_GGUF_WRITER_ERR_INCOMPLETE);
  }

  FILE *fp = w->fp;
  w->fp = NULL;
  if (fclose (fp) != 0) {
    fail (w, VLM_GGUF_WRITER_ERR_IO, "%s: close failed: %s", w->path,
        strerror (errno));
    remove (w->path);
    return fail_output (w, VLM_GGUF_WRITER_ERR_IO);
  }
  w->state = STATE_DONE;
  return VLM_GGUF_WRITER_OK;
}

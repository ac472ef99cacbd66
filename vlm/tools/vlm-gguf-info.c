/* vlm-gguf-info — print the metadata and tensor table of a GGUF file.
 *
 *   vlm-gguf-info [--arrays N] [--no-tensors] FILE
 *
 * Exit status: 0 on success, 1 when the file cannot be read, 2 on usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gguf.h"

typedef struct {
  const char *path;
  uint64_t array_items;   /* array elements shown per key */
  bool tensors;
} options;

/* ------------------------------------------------------------------ */
/* Values                                                              */
/* ------------------------------------------------------------------ */

/* Prints a string quoted, escaping control bytes, cut after `max` bytes. */
static void
print_str (vlm_gguf_str s, uint64_t max)
{
  putchar ('"');
  for (uint64_t i = 0; i < s.len && i < max; i++) {
    unsigned char ch = (unsigned char) s.ptr[i];
    if (ch == '"' || ch == '\\')
      printf ("\\%c", ch);
    else if (ch == '\n')
      fputs ("\\n", stdout);
    else if (ch < 0x20 || ch == 0x7f)
      printf ("\\x%02x", ch);
    else
      putchar (ch);
  }
  putchar ('"');
  if (s.len > max)
    printf ("... (%llu bytes)", (unsigned long long) s.len);
}

static void
print_array (const vlm_gguf_array * a, uint64_t max)
{
  printf ("[%s x %llu] [", vlm_gguf_value_type_name (a->type),
      (unsigned long long) a->n);
  for (uint64_t i = 0; i < a->n && i < max; i++) {
    if (i)
      fputs (", ", stdout);
    if (a->type == VLM_GGUF_STRING)
      print_str (a->strs[i], 64);
    else if (a->type == VLM_GGUF_FLOAT32 || a->type == VLM_GGUF_FLOAT64)
      printf ("%g", vlm_gguf_arr_f64 (a, i));
    else
      printf ("%lld", (long long) vlm_gguf_arr_i64 (a, i));
  }
  if (a->n > max)
    fputs (", ...", stdout);
  putchar (']');
}

static void
print_value (const vlm_gguf * g, int64_t i, uint64_t max)
{
  vlm_gguf_value_type t = vlm_gguf_kv_type (g, i);
  int64_t s;
  uint64_t u;
  double d;
  bool b;
  vlm_gguf_str str;
  vlm_gguf_array arr;

  if (t == VLM_GGUF_STRING && vlm_gguf_kv_str (g, i, &str) == VLM_GGUF_OK)
    print_str (str, 256);
  else if (t == VLM_GGUF_ARRAY && vlm_gguf_kv_array (g, i, &arr) == 0)
    print_array (&arr, max);
  else if (vlm_gguf_kv_bool (g, i, &b) == VLM_GGUF_OK)
    fputs (b ? "true" : "false", stdout);
  else if (vlm_gguf_kv_f64 (g, i, &d) == VLM_GGUF_OK)
    printf ("%.9g", d);
  else if (vlm_gguf_kv_u64 (g, i, &u) == VLM_GGUF_OK)
    printf ("%llu", (unsigned long long) u);
  else if (vlm_gguf_kv_i64 (g, i, &s) == VLM_GGUF_OK)
    printf ("%lld", (long long) s);
}

/* ------------------------------------------------------------------ */
/* Sections                                                            */
/* ------------------------------------------------------------------ */

static void
print_header (const vlm_gguf * g, const char *path)
{
  printf ("file:        %s\n", path);
  printf ("version:     %u\n", vlm_gguf_version (g));
  printf ("size:        %zu bytes\n", vlm_gguf_file_size (g));
  printf ("alignment:   %zu\n", vlm_gguf_alignment (g));
  printf ("data offset: %zu\n", vlm_gguf_data_offset (g));
  printf ("metadata:    %lld keys\n", (long long) vlm_gguf_n_kv (g));
  printf ("tensors:     %lld\n", (long long) vlm_gguf_n_tensors (g));
}

static void
print_metadata (const vlm_gguf * g, uint64_t max)
{
  printf ("\n%5s  %-6s  %-44s  %s\n", "#", "type", "key", "value");
  for (int64_t i = 0; i < vlm_gguf_n_kv (g); i++) {
    printf ("%5lld  %-6s  %-44s  ", (long long) i,
        vlm_gguf_value_type_name (vlm_gguf_kv_type (g, i)),
        vlm_gguf_key (g, i));
    print_value (g, i, max);
    putchar ('\n');
  }
}

static void
print_tensors (const vlm_gguf * g)
{
  int64_t total_elems = 0;
  size_t total_bytes = 0;
  printf ("\n%5s  %-40s  %-5s  %-26s  %12s  %12s\n", "#", "name", "type",
      "shape", "offset", "bytes");
  for (int64_t i = 0; i < vlm_gguf_n_tensors (g); i++) {
    const vlm_gguf_tensor *t = vlm_gguf_tensor_at (g, i);
    char shape[64];
    int n = 0;
    for (uint32_t d = 0; d < t->n_dims; d++)
      n += snprintf (shape + n, sizeof (shape) - n, "%s%lld",
          d ? " x " : "", (long long) t->ne[d]);
    printf ("%5lld  %-40s  %-5s  %-26s  %12llu  %12zu\n", (long long) i,
        t->name, vlm_type_name (t->type), shape,
        (unsigned long long) t->offset, t->nbytes);
    total_elems += vlm_gguf_tensor_nelems (t);
    total_bytes += t->nbytes;
  }
  printf ("\n%lld parameters, %zu bytes of tensor data (%.2f bits per "
      "weight)\n", (long long) total_elems, total_bytes,
      total_elems ? 8.0 * total_bytes / total_elems : 0.0);
}

/* ------------------------------------------------------------------ */
/* Main                                                                */
/* ------------------------------------------------------------------ */

static int
usage (FILE * f)
{
  fprintf (f, "usage: vlm-gguf-info [--arrays N] [--no-tensors] FILE\n"
      "  --arrays N     array elements shown per key (default 8)\n"
      "  --no-tensors   print the header and metadata only\n");
  return f == stderr ? 2 : 0;
}

static bool
parse_args (int argc, char **argv, options * o)
{
  *o = (options) { NULL, 8, true };
  for (int i = 1; i < argc; i++) {
    if (strcmp (argv[i], "--arrays") == 0 && i + 1 < argc) {
      char *end;
      o->array_items = strtoull (argv[++i], &end, 10);
      if (*end != '\0')
        return false;
    } else if (strcmp (argv[i], "--no-tensors") == 0) {
      o->tensors = false;
    } else if (argv[i][0] == '-' || o->path) {
      return false;
    } else {
      o->path = argv[i];
    }
  }
  return o->path != NULL;
}

int
main (int argc, char **argv)
{
  options o;
  if (argc == 2 && strcmp (argv[1], "--help") == 0)
    return usage (stdout);
  if (!parse_args (argc, argv, &o))
    return usage (stderr);

  char err[512];
  vlm_gguf_status st;
  vlm_gguf *g = vlm_gguf_open (o.path, &st, err, sizeof (err));
  if (g == NULL) {
    fprintf (stderr, "vlm-gguf-info: %s (%s)\n", err,
        vlm_gguf_status_str (st));
    return 1;
  }
  print_header (g, o.path);
  print_metadata (g, o.array_items);
  if (o.tensors)
    print_tensors (g);
  vlm_gguf_close (g);
  return 0;
}

/* Test helpers shared by the unit tests: files, the reference data dir,
 * temporary directories and float comparisons. Include after <cmocka.h>.
 * Everything is static inline, so a test pays only for what it uses. */
#ifndef VLM_TEST_UTIL_H
#define VLM_TEST_UTIL_H

#include <ftw.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ------------------------------------------------------------------ */
/* Files                                                               */
/* ------------------------------------------------------------------ */

/* Reads the whole of `path` into a NUL-terminated buffer; *len gets its
 * length (without the NUL). The caller frees. Fails the test, naming the
 * path, when the file cannot be read. */
static inline void *
tu_read_file (const char *path, size_t *len)
{
  FILE *f = fopen (path, "rb");
  if (f == NULL)
    fail_msg ("cannot open %s", path);
  if (fseek (f, 0, SEEK_END) != 0)
    fail_msg ("cannot seek in %s", path);
  long end = ftell (f);
  if (end < 0)
    fail_msg ("cannot size %s", path);
  /* fail_msg does not return, but the compiler does not know that */
  size_t n = end > 0 ? (size_t) end : 0;
  rewind (f);
  char *p = malloc (n + 1);
  assert_non_null (p);
  if (fread (p, 1, n, f) != n)
    fail_msg ("short read from %s", path);
  fclose (f);
  p[n] = '\0';
  *len = n;
  return p;
}

/* "$VLM_SHARED_DIR/rel" (the reference data; "../shared" when the
 * variable is not set), malloc'd: the caller frees. */
static inline char *
tu_shared_path (const char *rel)
{
  const char *dir = getenv ("VLM_SHARED_DIR");
  if (dir == NULL || *dir == '\0')
    dir = "../shared";
  size_t size = strlen (dir) + 1 + strlen (rel) + 1;
  char *p = malloc (size);
  assert_non_null (p);
  snprintf (p, size, "%s/%s", dir, rel);
  return p;
}

/* tu_read_file of tu_shared_path (rel): a reference file, whole. */
static inline void *
tu_read_shared (const char *rel, size_t *len)
{
  char *path = tu_shared_path (rel);
  void *data = tu_read_file (path, len);
  free (path);
  return data;
}

/* ------------------------------------------------------------------ */
/* Temporary directories                                               */
/* ------------------------------------------------------------------ */

/* Makes a fresh directory "$TMPDIR/prefix-XXXXXX" ("/tmp" when TMPDIR is
 * not set) with mkdtemp; its path goes into buf. Returns buf, or NULL when
 * it could not be made (for group setups, which return -1 then). */
static inline char *
tu_tmpdir_new (char *buf, size_t size, const char *prefix)
{
  const char *base = getenv ("TMPDIR");
  int n = snprintf (buf, size, "%s/%s-XXXXXX", base && *base ? base : "/tmp",
      prefix);
  if (n < 0 || (size_t) n >= size)
    return NULL;
  return mkdtemp (buf);
}

/* nftw callback of tu_tmpdir_remove: removes one entry. */
static inline int
tu_tmpdir_remove_entry (const char *path, const struct stat *sb, int flag,
    struct FTW *ftw)
{
  return remove (path);
}

/* Removes `dir` and everything below it (links are removed, not
 * followed). Returns 0 on success, -1 when something stayed. */
static inline int
tu_tmpdir_remove (const char *dir)
{
  return nftw (dir, tu_tmpdir_remove_entry, 16, FTW_DEPTH | FTW_PHYS) == 0
      ? 0 : -1;
}

/* ------------------------------------------------------------------ */
/* Float rows                                                          */
/* ------------------------------------------------------------------ */

/* max |a - b| / max |b| over n values (b the reference); the plain
 * max |a - b| when b is all zeros. */
static inline double
tu_rel_error (const float *a, const float *b, size_t n)
{
  double max_diff = 0, max_ref = 0;
  for (size_t i = 0; i < n; i++) {
    double d = fabs ((double) a[i] - b[i]);
    double r = fabs ((double) b[i]);
    max_diff = d > max_diff ? d : max_diff;
    max_ref = r > max_ref ? r : max_ref;
  }
  return max_ref > 0 ? max_diff / max_ref : max_diff;
}

/* Index of the largest of n values (the first one on ties). */
static inline int
tu_argmax (const float *x, int n)
{
  int best = 0;
  for (int i = 1; i < n; i++)
    if (x[i] > x[best])
      best = i;
  return best;
}

/* Whether n bytes at p are well-formed UTF-8 (no overlongs, surrogates,
 * or code points past U+10FFFF). */
static inline bool
tu_utf8_valid (const unsigned char *p, size_t n)
{
  size_t i = 0;

  while (i < n) {
    unsigned c = p[i], lo = 0x80, hi = 0xBF;
    size_t need;

    if (c < 0x80) {
      i++;
      continue;
    } else if (c >= 0xC2 && c <= 0xDF) {
      need = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
      need = 2;
      lo = c == 0xE0 ? 0xA0 : 0x80;
      hi = c == 0xED ? 0x9F : 0xBF;
    } else if (c >= 0xF0 && c <= 0xF4) {
      need = 3;
      lo = c == 0xF0 ? 0x90 : 0x80;
      hi = c == 0xF4 ? 0x8F : 0xBF;
    } else {
      return false;
    }
    for (size_t k = 1; k <= need; k++) {
      if (i + k >= n || p[i + k] < lo || p[i + k] > hi)
        return false;
      lo = 0x80;
      hi = 0xBF;
    }
    i += need + 1;
  }
  return true;
}

/* A random text of 1..max_pieces pieces (fewer when out would overflow),
 * drawn with an LCG from *seed (advanced); NUL-terminated in out. */
static inline size_t
tu_random_text (char *out, size_t cap, const char *const *pieces,
    size_t n_pieces, int max_pieces, uint32_t * seed)
{
  size_t len = 0;
  int n;

  *seed = *seed * 1664525u + 1013904223u;
  n = 1 + (int) ((*seed >> 16) % (uint32_t) max_pieces);
  for (int k = 0; k < n; k++) {
    const char *piece;
    size_t pl;

    *seed = *seed * 1664525u + 1013904223u;
    piece = pieces[(*seed >> 16) % n_pieces];
    pl = strlen (piece);
    if (len + pl < cap) {
      memcpy (out + len, piece, pl);
      len += pl;
    }
  }
  out[len] = '\0';
  return len;
}

#endif /* VLM_TEST_UTIL_H */

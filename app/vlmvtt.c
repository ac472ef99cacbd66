/* gst-vlm — WebVTT caption file writer. See vlmvtt.h.
 *
 * Each cue is built whole in memory, then written and flushed (a file
 * being written stays readable, and a full disk is reported by the cue
 * that hits it). The first write error sticks: later cues fail at once and
 * vlm_vtt_close () reports it.
 */
#include "vlmvtt.h"
#include "vlmtext.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NS_PER_MS 1000000ull

struct VlmVtt
{
  FILE *f;
  char *path;
  uint64_t n_cues;
  bool have_last;
  uint64_t last_start_ns;
  bool write_failed;            /* sticky: close () reports it */
  char *error;                  /* the last error message */
};

/* ------------------------------------------------------------------ */
/* Strings                                                              */
/* ------------------------------------------------------------------ */

typedef struct
{
  char *data;
  size_t len, cap;
  bool oom;
} Buf;

static void
buf_add (Buf * b, const char *s, size_t n)
{
  if (b->oom)
    return;
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n + 1)
      cap *= 2;
    char *d = realloc (b->data, cap);
    if (d == NULL) {
      b->oom = true;
      return;
    }
    b->data = d;
    b->cap = cap;
  }
  memcpy (b->data + b->len, s, n);
  b->len += n;
  b->data[b->len] = '\0';
}

static void
buf_str (Buf * b, const char *s)
{
  buf_add (b, s, strlen (s));
}

/* ------------------------------------------------------------------ */
/* Cue text                                                             */
/* ------------------------------------------------------------------ */

/* Appends one line of text (no line break in it) escaped: & < > as
 * entities (which also breaks "-->"), invalid UTF-8 as U+FFFD, other C0
 * controls and DEL as spaces. Blank lines (empty or only spaces, tabs and
 * other controls) are left out. */
static void
add_line (Buf * b, const unsigned char *p, size_t n)
{
  bool blank = true;
  for (size_t i = 0; i < n; i++)
    if (p[i] > ' ' && p[i] != 0x7F) {
      blank = false;
      break;
    }
  if (blank)
    return;
  size_t i = 0;
  while (i < n) {
    unsigned c = p[i];
    uint32_t cp;
    size_t l;
    if (vlm_text_utf8_next (p + i, n - i, &cp, &l) != VLM_UTF8_OK) {
      buf_str (b, "\xEF\xBF\xBD");
      i += l;
      continue;
    }
    if (c == '&')
      buf_str (b, "&amp;");
    else if (c == '<')
      buf_str (b, "&lt;");
    else if (c == '>')
      buf_str (b, "&gt;");
    else if ((c < 0x20 && c != '\t') || c == 0x7F)
      buf_str (b, " ");
    else
      buf_add (b, (const char *) p + i, l);
    i += l;
  }
  buf_str (b, "\n");
}

/* ------------------------------------------------------------------ */
/* API                                                                  */
/* ------------------------------------------------------------------ */

void
vlm_vtt_format_time (uint64_t ns, char *buf)
{
  uint64_t ms = ns / NS_PER_MS;
  uint64_t s = ms / 1000;
  uint64_t m = s / 60;
  uint64_t h = m / 60;
  snprintf (buf, 32, "%02llu:%02u:%02u.%03u", (unsigned long long) h,
      (unsigned) (m % 60), (unsigned) (s % 60), (unsigned) (ms % 1000));
}

static void
set_msg (VlmVtt * v, char *msg)
{
  free (v->error);
  v->error = msg;
}

static void
write_failed (VlmVtt * v, int err)
{
  v->write_failed = true;
  set_msg (v, vlm_text_printf ("cannot write %s: %s", v->path,
          strerror (err ? err : EIO)));
}

/* Writes b and flushes. */
static bool
write_flush (VlmVtt * v, const char *data, size_t len)
{
  errno = 0;
  if (fwrite (data, 1, len, v->f) != len || fflush (v->f) != 0) {
    write_failed (v, errno);
    return false;
  }
  return true;
}

static void
vtt_free (VlmVtt * v)
{
  free (v->path);
  free (v->error);
  free (v);
}

VlmVtt *
vlm_vtt_open (const char *path, char **error)
{
  if (error != NULL)
    *error = NULL;
  char *msg = NULL;
  VlmVtt *v = NULL;
  if (path == NULL || path[0] == '\0') {
    msg = vlm_text_printf ("WebVTT: no file name");
    goto fail;
  }
  v = calloc (1, sizeof *v);
  if (v == NULL || (v->path = strdup (path)) == NULL) {
    msg = vlm_text_printf ("WebVTT: out of memory for %s", path);
    goto fail;
  }
  v->f = fopen (path, "w");
  if (v->f == NULL) {
    msg = vlm_text_printf ("cannot create %s: %s", path, strerror (errno));
    goto fail;
  }
  static const char header[] = "WEBVTT\n\n";
  if (!write_flush (v, header, sizeof header - 1)) {
    msg = v->error;
    v->error = NULL;
    goto fail;
  }
  return v;

fail:
  if (v != NULL) {
    if (v->f != NULL)
      fclose (v->f);
    vtt_free (v);
  }
  if (error != NULL)
    *error = msg;
  else
    free (msg);
  return NULL;
}

bool
vlm_vtt_add_cue (VlmVtt * v, uint64_t start_ns, uint64_t end_ns,
    const char *text)
{
  if (v == NULL)
    return false;
  if (v->write_failed)
    return false;               /* the message of the failure stays */
  if (text == NULL) {
    set_msg (v, vlm_text_printf ("WebVTT %s: cue without text", v->path));
    return false;
  }
  if (v->have_last && start_ns < v->last_start_ns) {
    char a[32], b[32];
    vlm_vtt_format_time (start_ns, a);
    vlm_vtt_format_time (v->last_start_ns, b);
    set_msg (v, vlm_text_printf ("WebVTT %s: cue at %s starts before the "
            "previous one (%s)", v->path, a, b));
    return false;
  }
  /* times in whole ms as written: the end after the start there too */
  uint64_t start_ms = start_ns / NS_PER_MS;
  uint64_t end_ms = end_ns / NS_PER_MS;
  if (end_ns <= start_ns || end_ms <= start_ms)
    end_ms = start_ms + 1;

  Buf b = { 0 };
  char t0[32], t1[32], num[32];
  vlm_vtt_format_time (start_ms * NS_PER_MS, t0);
  vlm_vtt_format_time (end_ms * NS_PER_MS, t1);
  snprintf (num, sizeof num, "%llu\n", (unsigned long long) v->n_cues + 1);
  buf_str (&b, num);
  buf_str (&b, t0);
  buf_str (&b, " --> ");
  buf_str (&b, t1);
  buf_str (&b, "\n");
  /* lines: \n, \r\n and \r end one */
  const unsigned char *p = (const unsigned char *) text;
  size_t i = 0, n = strlen (text);
  while (i <= n) {
    size_t j = i;
    while (j < n && p[j] != '\n' && p[j] != '\r')
      j++;
    add_line (&b, p + i, j - i);
    if (j < n && p[j] == '\r' && j + 1 < n && p[j + 1] == '\n')
      j++;
    i = j + 1;
  }
  buf_str (&b, "\n");
  if (b.oom) {
    free (b.data);
    set_msg (v, vlm_text_printf ("WebVTT %s: out of memory", v->path));
    return false;
  }
  bool ok = write_flush (v, b.data, b.len);
  free (b.data);
  if (!ok)
    return false;
  v->n_cues++;
  v->have_last = true;
  v->last_start_ns = start_ns;
  return true;
}

const char *
vlm_vtt_error (VlmVtt * v)
{
  return v != NULL ? v->error : NULL;
}

bool
vlm_vtt_close (VlmVtt * v, char **error)
{
  if (error != NULL)
    *error = NULL;
  if (v == NULL)
    return true;
  bool ok = !v->write_failed;
  char *msg = NULL;
  if (!ok) {
    msg = v->error;
    v->error = NULL;
  }
  errno = 0;
  if (fflush (v->f) != 0 && ok) {
    ok = false;
    msg = vlm_text_printf ("cannot write %s: %s", v->path,
        strerror (errno ? errno : EIO));
  }
  errno = 0;
  if (fclose (v->f) != 0 && ok) {
    ok = false;
    msg = vlm_text_printf ("cannot close %s: %s", v->path,
        strerror (errno ? errno : EIO));
  }
  vtt_free (v);
  if (!ok && msg == NULL)
    msg = vlm_text_printf ("WebVTT: write failed");
  if (error != NULL)
    *error = msg;
  else
    free (msg);
  return ok;
}

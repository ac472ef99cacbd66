/* gst-vlm — small text helpers of the app's plain-C modules. */
#include "vlmtext.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

char *
vlm_text_printf (const char *fmt, ...)
{
  va_list ap;
  int n;
  char *p;

  va_start (ap, fmt);
  n = vsnprintf (NULL, 0, fmt, ap);
  va_end (ap);
  if (n < 0 || (p = malloc ((size_t) n + 1)) == NULL)
    return NULL;
  va_start (ap, fmt);
  vsnprintf (p, (size_t) n + 1, fmt, ap);
  va_end (ap);
  return p;
}

VlmUtf8
vlm_text_utf8_next (const unsigned char *p, size_t n, uint32_t * cp,
    size_t *len)
{
  unsigned c = p[0], lo = 0x80, hi = 0xBF;
  size_t need;
  uint32_t v;

  if (c < 0x80) {
    *cp = c;
    *len = 1;
    return VLM_UTF8_OK;
  }
  if (c >= 0xC2 && c <= 0xDF) {
    need = 1;
    v = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    need = 2;
    v = c & 0x0F;
    if (c == 0xE0)
      lo = 0xA0;                /* overlong */
    else if (c == 0xED)
      hi = 0x9F;                /* surrogates */
  } else if (c >= 0xF0 && c <= 0xF4) {
    need = 3;
    v = c & 0x07;
    if (c == 0xF0)
      lo = 0x90;                /* overlong */
    else if (c == 0xF4)
      hi = 0x8F;                /* past U+10FFFF */
  } else {
    *len = 1;
    return VLM_UTF8_BAD;
  }
  for (size_t i = 1; i <= need; i++) {
    if (i >= n) {
      *len = i;
      return VLM_UTF8_TRUNC;
    }
    if (p[i] < lo || p[i] > hi) {
      *len = i;
      return VLM_UTF8_BAD;
    }
    lo = 0x80;
    hi = 0xBF;
    v = (v << 6) | (p[i] & 0x3F);
  }
  *cp = v;
  *len = need + 1;
  return VLM_UTF8_OK;
}

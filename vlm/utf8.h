/* gst-vlm — small UTF-8 helpers (internal, header-only).
 *
 * Strict decoding per RFC 3629: no overlong forms, no surrogates, nothing
 * above U+10FFFF. Everything here is pure and thread-safe.
 */
#ifndef VLM_UTF8_H
#define VLM_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* The replacement character U+FFFD, encoded. */
#define VLM_UTF8_REPLACEMENT "\xef\xbf\xbd"
#define VLM_UTF8_REPLACEMENT_LEN 3

/* Result of vlm_utf8_decode:
 *   > 0  a valid sequence of that many bytes; *cp holds the code point;
 *   = 0  the bytes are a valid but incomplete start (more input needed);
 *   < 0  invalid: -N bytes form the maximal ill-formed prefix (N >= 1),
 *        to be replaced by one U+FFFD. */
static inline int
vlm_utf8_decode (const uint8_t *s, size_t n, uint32_t *cp)
{
  uint8_t b0 = s[0];
  int len;
  uint32_t c;
  uint8_t lo = 0x80, hi = 0xbf;

  if (b0 < 0x80) {
    *cp = b0;
    return 1;
  }
  if (b0 >= 0xc2 && b0 <= 0xdf) {
    len = 2;
    c = b0 & 0x1f;
  } else if (b0 >= 0xe0 && b0 <= 0xef) {
    len = 3;
    c = b0 & 0x0f;
    if (b0 == 0xe0)
      lo = 0xa0;                /* no overlongs */
    else if (b0 == 0xed)
      hi = 0x9f;                /* no surrogates */
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    len = 4;
    c = b0 & 0x07;
    if (b0 == 0xf0)
      lo = 0x90;                /* no overlongs */
    else if (b0 == 0xf4)
      hi = 0x8f;                /* nothing past U+10FFFF */
  } else {
    return -1;                  /* stray continuation or invalid lead */
  }

  for (int i = 1; i < len; i++) {
    if ((size_t) i >= n)
      return 0;
    uint8_t b = s[i];
    if (b < lo || b > hi)
      return -i;
    lo = 0x80;
    hi = 0xbf;
    c = (c << 6) | (b & 0x3f);
  }
  *cp = c;
  return len;
}

/* Length of the sequence at s[0..n): the valid sequence length, or 1 for
 * an invalid or truncated byte (it then stands alone). */
static inline size_t
vlm_utf8_char_len (const uint8_t *s, size_t n)
{
  uint32_t cp;
  int r = vlm_utf8_decode (s, n, &cp);
  return r > 0 ? (size_t) r : 1;
}

/* Encodes `cp` (<= U+10FFFF) into out[4]; returns the byte count. */
static inline int
vlm_utf8_encode (uint32_t cp, char *out)
{
  if (cp < 0x80) {
    out[0] = (char) cp;
    return 1;
  }
  if (cp < 0x800) {
    out[0] = (char) (0xc0 | (cp >> 6));
    out[1] = (char) (0x80 | (cp & 0x3f));
    return 2;
  }
  if (cp < 0x10000) {
    out[0] = (char) (0xe0 | (cp >> 12));
    out[1] = (char) (0x80 | ((cp >> 6) & 0x3f));
    out[2] = (char) (0x80 | (cp & 0x3f));
    return 3;
  }
  out[0] = (char) (0xf0 | (cp >> 18));
  out[1] = (char) (0x80 | ((cp >> 12) & 0x3f));
  out[2] = (char) (0x80 | ((cp >> 6) & 0x3f));
  out[3] = (char) (0x80 | (cp & 0x3f));
  return 4;
}

#endif /* VLM_UTF8_H */

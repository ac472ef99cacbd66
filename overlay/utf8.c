/* gst-vlm — caption overlay: UTF-8 decoding for layout.
 *
 * Strict RFC 3629 decoding (no overlongs, no surrogates, nothing above
 * U+10FFFF). Each maximal ill-formed subsequence becomes one U+FFFD, as
 * Unicode recommends (W3C/WHATWG "replacement" behaviour), so a caption
 * cut in the middle of a character shows one replacement glyph.
 */
#include "overlay-private.h"

/* ------------------------------------------------------------------ */
/* One sequence                                                        */
/* ------------------------------------------------------------------ */

/* Length of the sequence at s (1..4) with *cp set, or the negative length
 * of its maximal ill-formed prefix (a U+FFFD). */
static int
decode_one (const uint8_t *s, size_t n, uint32_t *cp)
{
  uint8_t b0 = s[0];
  uint8_t lo = 0x80, hi = 0xbf;
  int len;
  uint32_t c;

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
    lo = b0 == 0xe0 ? 0xa0 : 0x80;      /* no overlongs */
    hi = b0 == 0xed ? 0x9f : 0xbf;      /* no surrogates */
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    len = 4;
    c = b0 & 0x07;
    lo = b0 == 0xf0 ? 0x90 : 0x80;      /* no overlongs */
    hi = b0 == 0xf4 ? 0x8f : 0xbf;      /* nothing past U+10FFFF */
  } else {
    return -1;                          /* stray continuation, bad lead */
  }

  for (int i = 1; i < len; i++) {
    if ((size_t) i >= n || s[i] < lo || s[i] > hi)
      return -i;                        /* truncated or broken */
    c = (c << 6) | (s[i] & 0x3f);
    lo = 0x80;
    hi = 0xbf;
  }
  *cp = c;
  return len;
}

/* ------------------------------------------------------------------ */
/* Control characters                                                  */
/* ------------------------------------------------------------------ */

/* What layout sees for cp: itself, a substitute, or 0 (dropped). */
static uint32_t
map_control (uint32_t cp)
{
  if (cp == '\n' || cp == 0x2028 || cp == 0x2029)
    return OV_CP_NEWLINE;
  if (cp == '\t')
    return ' ';
  if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0))
    return 0;
  /* invisible format characters: nothing to draw, no replacement box */
  if ((cp >= 0x200b && cp <= 0x200f) || (cp >= 0x202a && cp <= 0x202e) ||
      (cp >= 0x2060 && cp <= 0x2064) || (cp >= 0xfe00 && cp <= 0xfe0f) ||
      cp == 0xfeff || (cp >= 0xe0000 && cp <= 0xe01ef))
    return 0;
  return cp;
}

/* ------------------------------------------------------------------ */
/* Public helpers                                                      */
/* ------------------------------------------------------------------ */

size_t
ov_utf8_decode (const char *s, size_t n, uint32_t *out)
{
  const uint8_t *p = (const uint8_t *) s;
  size_t i = 0, k = 0;

  while (i < n) {
    uint32_t cp = OV_CP_REPLACEMENT;
    int len = decode_one (p + i, n - i, &cp);
    if (len < 0) {
      cp = OV_CP_REPLACEMENT;
      len = -len;
    }
    i += (size_t) len;
    cp = map_control (cp);
    if (cp != 0)
      out[k++] = cp;
  }
  return k;
}

size_t
ov_utf8_tail (const char *s, size_t n, size_t max)
{
  size_t i;

  if (n <= max)
    return 0;
  i = n - max;
  /* skip continuation bytes (at most 3 belong to a cut character) */
  for (int k = 0; k < 3 && i < n && ((uint8_t) s[i] & 0xc0) == 0x80; k++)
    i++;
  return i;
}

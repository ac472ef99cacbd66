/* gst-vlm — Unicode character properties (letters, numbers, space). */
#include <stddef.h>

#include "unicode.h"

typedef struct {
  uint32_t first;
  uint32_t last;
  uint8_t flags;
} uc_range;

/* uc_latin1_flags[256] and uc_ranges[], generated at build time. */
#include "unicode-tables.h"

#define N_RANGES (sizeof (uc_ranges) / sizeof (uc_ranges[0]))

/* ------------------------------------------------------------------ */
/* Lookup                                                              */
/* ------------------------------------------------------------------ */

uint32_t
vlm_unicode_flags (uint32_t cp)
{
  size_t lo = 0, hi = N_RANGES;

  if (cp < 256)
    return uc_latin1_flags[cp];

  /* Binary search for the range holding cp. */
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (cp < uc_ranges[mid].first)
      hi = mid;
    else if (cp > uc_ranges[mid].last)
      lo = mid + 1;
    else
      return uc_ranges[mid].flags;
  }
  return 0;
}

/* gst-vlm — caption overlay: glyph items and line wrapping.
 *
 * The text becomes a run of items (one per code point: glyph index,
 * advance, kerning with the previous one), then greedy word wrap splits
 * it into lines no wider than the panel allows: a line breaks at its
 * last space, a word longer than a line breaks between glyphs (never
 * before a zero-width mark, which belongs to the glyph before it), and
 * '\n' always breaks. Spaces at line ends are trimmed.
 *
 * No shaping beyond kerning: one code point draws one glyph, left to
 * right. Captions in Latin, Greek and Cyrillic (what DejaVu Sans covers)
 * come out right; complex scripts would need HarfBuzz.
 */
#include "overlay-private.h"

#include <stdlib.h>
#include <string.h>

/* Longest tail of a caption that is laid out (newest text is kept). */
#define MAX_TEXT_BYTES 65536

/* ------------------------------------------------------------------ */
/* Buffers                                                             */
/* ------------------------------------------------------------------ */

/* Makes *buf hold at least n elements of `size` bytes. */
static bool
reserve (void **buf, size_t *cap, size_t n, size_t size)
{
  void *p;

  if (n <= *cap)
    return true;
  if (n < 2 * *cap)
    n = 2 * *cap;
  p = realloc (*buf, n * size);
  if (!p)
    return false;
  *buf = p;
  *cap = n;
  return true;
}

void
ov_layout_free (ov_layout *l)
{
  free (l->cps);
  free (l->items);
  free (l->lines);
  memset (l, 0, sizeof *l);
}

/* ------------------------------------------------------------------ */
/* Items                                                               */
/* ------------------------------------------------------------------ */

/* Spaces that allow a line break (not U+00A0, U+2007, U+202F). */
static bool
is_break_space (uint32_t cp)
{
  return cp == ' ' || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a &&
      cp != 0x2007) || cp == 0x205f || cp == 0x3000;
}

/* Fills l->items from l->cps[n]. */
static vlm_overlay_status
build_items (ov_layout *l, ov_font *f, size_t n)
{
  uint32_t prev_index = 0;

  if (!reserve ((void **) &l->items, &l->cap_items, n, sizeof *l->items))
    return VLM_OVERLAY_ERR_NOMEM;
  for (size_t i = 0; i < n; i++) {
    ov_item *it = &l->items[i];
    const ov_glyph *g;

    memset (it, 0, sizeof *it);
    it->cp = l->cps[i];
    if (it->cp == OV_CP_NEWLINE) {
      it->kind = OV_ITEM_NEWLINE;
      prev_index = 0;
      continue;
    }
    g = ov_font_glyph (f, it->cp);
    if (!g)
      return VLM_OVERLAY_ERR_NOMEM;
    it->index = g->index;
    it->advance_26 = g->advance_26;
    it->kern_26 = ov_font_kerning (f, prev_index, g->index);
    if (is_break_space (it->cp))
      it->kind = OV_ITEM_SPACE;
    else if (g->advance_26 == 0)
      it->kind = OV_ITEM_MARK;
    else
      it->kind = OV_ITEM_GLYPH;
    prev_index = g->index;
  }
  l->n_items = n;
  return VLM_OVERLAY_OK;
}

/* ------------------------------------------------------------------ */
/* Wrapping                                                            */
/* ------------------------------------------------------------------ */

static int
skip_spaces (const ov_layout *l, int i)
{
  while (i < (int) l->n_items && l->items[i].kind == OV_ITEM_SPACE)
    i++;
  return i;
}

/* Width of items [start, end), kerning inside the line only. */
static int32_t
measure (const ov_layout *l, int start, int end)
{
  int64_t w = 0;

  for (int i = start; i < end; i++)
    w += l->items[i].advance_26 + (i > start ? l->items[i].kern_26 : 0);
  return (int32_t) (w < 0 ? 0 : w > INT32_MAX ? INT32_MAX : w);
}

/* Appends line [start, end) with trailing spaces trimmed. */
static bool
push_line (ov_layout *l, int start, int end)
{
  ov_line *line;

  while (end > start && l->items[end - 1].kind == OV_ITEM_SPACE)
    end--;
  if (!reserve ((void **) &l->lines, &l->cap_lines, l->n_lines + 1,
          sizeof *l->lines))
    return false;
  line = &l->lines[l->n_lines++];
  line->start = start;
  line->end = end;
  line->width_26 = measure (l, start, end);
  if (line->width_26 > l->max_width_26)
    l->max_width_26 = line->width_26;
  return true;
}

/* Index of the first item past a line starting at `start`: a newline, a
 * glyph that would overflow, or the end; *last_space is the last space
 * seen before it (-1 if none). */
static int
scan_line (const ov_layout *l, int start, int32_t max_w, int *last_space)
{
  int64_t pen = 0;
  int i;

  *last_space = -1;
  for (i = start; i < (int) l->n_items; i++) {
    const ov_item *it = &l->items[i];
    int32_t w = it->advance_26 + (i > start ? it->kern_26 : 0);

    if (it->kind == OV_ITEM_NEWLINE)
      break;
    if (it->kind == OV_ITEM_SPACE)
      *last_space = i;
    else if (pen + w > max_w && i > start && it->kind != OV_ITEM_MARK)
      break;
    pen += w;
  }
  return i;
}

/* Splits the items into lines; drops empty lines at the end. */
static vlm_overlay_status
wrap (ov_layout *l, int32_t max_w)
{
  int n = (int) l->n_items;
  int start = skip_spaces (l, 0);

  l->n_lines = 0;
  l->max_width_26 = 0;
  while (start < n) {
    int last_space, end, next;
    int i = scan_line (l, start, max_w, &last_space);

    if (i >= n || l->items[i].kind == OV_ITEM_NEWLINE) {
      end = i;
      next = i + 1;                     /* past the newline */
    } else if (last_space > start) {
      end = last_space;                 /* break at the last space */
      next = last_space + 1;
    } else {
      end = next = i;                   /* a word longer than the line */
    }
    if (!push_line (l, start, end))
      return VLM_OVERLAY_ERR_NOMEM;
    start = skip_spaces (l, next);
  }
  while (l->n_lines > 0 &&
      l->lines[l->n_lines - 1].start == l->lines[l->n_lines - 1].end)
    l->n_lines--;
  return VLM_OVERLAY_OK;
}

/* ------------------------------------------------------------------ */
/* Entry point                                                         */
/* ------------------------------------------------------------------ */

vlm_overlay_status
ov_layout_build (ov_layout *l, ov_font *f, const char *text, size_t len,
    int32_t max_width_26)
{
  size_t from = ov_utf8_tail (text, len, MAX_TEXT_BYTES);
  size_t n;
  vlm_overlay_status s;

  l->n_items = 0;
  l->n_lines = 0;
  l->max_width_26 = 0;
  if (len == from)
    return VLM_OVERLAY_OK;
  if (!reserve ((void **) &l->cps, &l->cap_cps, len - from, sizeof *l->cps))
    return VLM_OVERLAY_ERR_NOMEM;
  n = ov_utf8_decode (text + from, len - from, l->cps);
  s = build_items (l, f, n);
  if (s == VLM_OVERLAY_OK)
    s = wrap (l, max_width_26);
  return s;
}

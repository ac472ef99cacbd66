/* gst-vlm — caption overlay: rendering the panel.
 *
 * The panel is drawn in three layers, composited with the premultiplied
 * "over" operator in 8-bit integer arithmetic:
 *   1. the background: a rounded rectangle, anti-aliased corners;
 *   2. the effect: the glyphs' stroked borders (outline) or the glyphs
 *      moved down-right (shadow), in the effect colour;
 *   3. the glyphs in the text colour.
 * Glyph coverage is first gathered in two A8 masks of the panel's size
 * (overlapping glyphs take the larger coverage), then one pass over the
 * panel composites all layers.
 */
#include "overlay-private.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* Themes                                                              */
/* ------------------------------------------------------------------ */

static const ov_colors themes[VLM_OVERLAY_N_THEMES] = {
  [VLM_OVERLAY_THEME_DARK] = {
    {255, 255, 255, 255}, {0, 0, 0, 179}, {0, 0, 0, 255} },
  [VLM_OVERLAY_THEME_HIGH_CONTRAST] = {
    {255, 255, 0, 255}, {0, 0, 0, 255}, {0, 0, 0, 255} },
  [VLM_OVERLAY_THEME_LIGHT] = {
    {0, 0, 0, 255}, {255, 255, 255, 217}, {255, 255, 255, 255} },
  [VLM_OVERLAY_THEME_CLEAR] = {
    {255, 255, 255, 255}, {0, 0, 0, 0}, {0, 0, 0, 255} },
};

ov_colors
ov_theme_colors (vlm_overlay_theme theme)
{
  if ((unsigned) theme >= VLM_OVERLAY_N_THEMES)
    theme = VLM_OVERLAY_THEME_DARK;
  return themes[theme];
}

/* Straight RGBA to premultiplied. */
static void
premultiply (const uint8_t c[4], uint8_t out[4])
{
  for (int i = 0; i < 3; i++)
    out[i] = (uint8_t) ov_div255 (c[i] * (unsigned) c[3]);
  out[3] = c[3];
}

/* ------------------------------------------------------------------ */
/* Buffers                                                             */
/* ------------------------------------------------------------------ */

void
ov_image_free (ov_image *img)
{
  free (img->rgba);
  free (img->text_mask);
  free (img->effect_mask);
  memset (img, 0, sizeof *img);
}

/* Makes room for a w x h panel and clears both masks. */
static bool
build_image (ov_image *img, int w, int h)
{
  size_t n = (size_t) w * (size_t) h;

  if (n > img->cap) {
    uint8_t *rgba = malloc (n * 4);
    uint8_t *tm = malloc (n), *em = malloc (n);
    if (!rgba || !tm || !em) {
      free (rgba);
      free (tm);
      free (em);
      return false;
    }
    free (img->rgba);
    free (img->text_mask);
    free (img->effect_mask);
    img->rgba = rgba;
    img->text_mask = tm;
    img->effect_mask = em;
    img->cap = n;
  }
  img->w = w;
  img->h = h;
  memset (img->text_mask, 0, n);
  memset (img->effect_mask, 0, n);
  return true;
}

/* ------------------------------------------------------------------ */
/* Glyph masks                                                         */
/* ------------------------------------------------------------------ */

/* Max-combines bitmap b with its pen position at (x, y) into the mask. */
static void
blit_mask (uint8_t *mask, int mw, int mh, const ov_bitmap *b, int x, int y)
{
  int x0 = x + b->left, y0 = y - b->top;
  int sx = x0 < 0 ? -x0 : 0, sy = y0 < 0 ? -y0 : 0;
  int ex = x0 + b->w > mw ? mw - x0 : b->w;
  int ey = y0 + b->h > mh ? mh - y0 : b->h;

  for (int r = sy; r < ey; r++) {
    const uint8_t *s = b->buf + (size_t) r * (size_t) b->w;
    uint8_t *d = mask + (size_t) (y0 + r) * (size_t) mw + x0;
    for (int c = sx; c < ex; c++)
      d[c] = s[c] > d[c] ? s[c] : d[c];
  }
}

/* Draws one line's glyphs (fill, and border for the outline) with its
 * baseline at row `baseline`, centred in the text area. */
static vlm_overlay_status
draw_line (ov_image *img, ov_font *f, const ov_layout *l,
    const ov_line *line, int text_w, int pad, int baseline, bool border)
{
  int64_t pen = ((int64_t) pad << 6) +
      (((int64_t) text_w << 6) - line->width_26) / 2;

  for (int i = line->start; i < line->end; i++) {
    const ov_item *it = &l->items[i];
    const ov_glyph *g;
    int x;

    if (i > line->start)
      pen += it->kern_26;
    g = ov_font_glyph (f, it->cp);
    if (!g)
      return VLM_OVERLAY_ERR_NOMEM;
    x = (int) ((pen + 32) >> 6);
    if (g->fill.buf)
      blit_mask (img->text_mask, img->w, img->h, &g->fill, x, baseline);
    if (border && g->border.buf)
      blit_mask (img->effect_mask, img->w, img->h, &g->border, x, baseline);
    pen += it->advance_26;
  }
  return VLM_OVERLAY_OK;
}

/* ------------------------------------------------------------------ */
/* Compositing                                                         */
/* ------------------------------------------------------------------ */

/* Coverage (0..255) of the pixel (x, y) of a quarter disc of radius r
 * centred at (r, r): 1 inside, 0 outside, linear over one pixel. */
static uint8_t
corner_coverage (int r, int x, int y)
{
  double dx = r - (x + 0.5), dy = r - (y + 0.5);
  double c = r - sqrt (dx * dx + dy * dy) + 0.5;
  return (uint8_t) lrint (255.0 * (c < 0 ? 0 : c > 1 ? 1 : c));
}

/* px = src * cov over px, all premultiplied. */
static inline void
over (uint8_t *px, const uint8_t src[4], unsigned cov)
{
  unsigned a = ov_div255 (src[3] * cov), ia = 255 - a;
  for (int c = 0; c < 4; c++)
    px[c] = (uint8_t) (ov_div255 (src[c] * cov) + ov_div255 (px[c] * ia));
}

/* Fills row y with the background; in the corner bands the outer
 * columns take the corner table's coverage (mirrored per corner). */
static void
background_row (uint8_t *row, int w, int h, int y, const uint8_t bg[4],
    const uint8_t *corner, int r)
{
  int cy = y < r ? y : y >= h - r ? h - 1 - y : -1;

  for (int x = 0; x < w; x++)
    memcpy (row + 4 * x, bg, 4);
  if (cy < 0)
    return;
  for (int x = 0; x < r; x++) {
    unsigned cov = corner[cy * r + x];
    for (int c = 0; c < 4; c++) {
      row[4 * x + c] = (uint8_t) ov_div255 (bg[c] * cov);
      row[4 * (w - 1 - x) + c] = (uint8_t) ov_div255 (bg[c] * cov);
    }
  }
}

/* The effect mask row for panel row y: its byte i covers panel column
 * from + i (the shadow is the text mask moved down-right); NULL when the
 * row has no effect. */
static const uint8_t *
effect_row (const ov_image *img, const ov_draw *d, int y, int *from)
{
  *from = 0;
  if (d->effect == VLM_OVERLAY_EFFECT_OUTLINE)
    return img->effect_mask + (size_t) y * (size_t) img->w;
  if (d->effect != VLM_OVERLAY_EFFECT_SHADOW || y < d->shadow)
    return NULL;
  *from = d->shadow;
  return img->text_mask + (size_t) (y - d->shadow) * (size_t) img->w;
}

/* Fills img->rgba: background, then effect and text where they cover. */
static void
composite (ov_image *img, const ov_draw *d, const uint8_t *corner, int r)
{
  uint8_t bg[4], fx[4], tx[4];

  premultiply (d->colors.background, bg);
  premultiply (d->colors.effect, fx);
  premultiply (d->colors.text, tx);
  for (int y = 0; y < img->h; y++) {
    uint8_t *row = img->rgba + (size_t) y * (size_t) img->w * 4;
    const uint8_t *tm = img->text_mask + (size_t) y * (size_t) img->w;
    int from;
    const uint8_t *em = effect_row (img, d, y, &from);

    background_row (row, img->w, img->h, y, bg, corner, r);
    for (int x = em ? from : img->w; x < img->w; x++)
      if (em[x - from])
        over (row + 4 * x, fx, em[x - from]);
    for (int x = 0; x < img->w; x++)
      if (tm[x])
        over (row + 4 * x, tx, tm[x]);
  }
}

/* ------------------------------------------------------------------ */
/* Entry point                                                         */
/* ------------------------------------------------------------------ */

vlm_overlay_status
ov_render (ov_image *img, ov_font *f, const ov_layout *l, const ov_draw *d)
{
  int32_t text_w_26 = 0;
  int text_w, w, h, r;
  uint8_t *corner;
  bool border = d->effect == VLM_OVERLAY_EFFECT_OUTLINE;

  if (d->n <= 0) {
    img->w = img->h = 0;
    return VLM_OVERLAY_OK;
  }
  for (int k = 0; k < d->n; k++)
    if (l->lines[d->first + k].width_26 > text_w_26)
      text_w_26 = l->lines[d->first + k].width_26;
  text_w = (text_w_26 + 63) >> 6;
  w = text_w + 2 * d->pad;
  h = d->n * f->line_height + 2 * d->pad;
  if (!build_image (img, w, h))
    return VLM_OVERLAY_ERR_NOMEM;

  for (int k = 0; k < d->n; k++) {
    int baseline = d->pad + f->ascender + k * f->line_height;
    vlm_overlay_status s = draw_line (img, f, l, &l->lines[d->first + k],
        text_w, d->pad, baseline, border);
    if (s != VLM_OVERLAY_OK)
      return s;
  }

  /* corner table: radius at most half the smaller side */
  r = ov_clampi (d->radius, 0, (w < h ? w : h) / 2);
  corner = malloc ((size_t) (r > 0 ? r * r : 1));
  if (!corner)
    return VLM_OVERLAY_ERR_NOMEM;
  for (int y = 0; y < r; y++)
    for (int x = 0; x < r; x++)
      corner[y * r + x] = corner_coverage (r, x, y);
  composite (img, d, corner, r);
  free (corner);
  return VLM_OVERLAY_OK;
}

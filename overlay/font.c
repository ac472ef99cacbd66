/* gst-vlm — caption overlay: font look-up, FreeType face, glyph cache.
 *
 * Glyphs are loaded unhinted (FT_LOAD_NO_HINTING) and rendered with the
 * grey-scale rasteriser: the output then depends only on the outlines and
 * the rasteriser, not on the (auto)hinter, which keeps golden images
 * stable. Each context has its own FT_Library, so contexts never share
 * FreeType state. The cache maps glyph indices to coverage bitmaps (the
 * fill and, for the outline effect, the stroked border).
 */
#include "overlay-private.h"

#include <fontconfig/fontconfig.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include FT_GLYPH_H

/* Default family, and its file when fontconfig finds nothing. */
#define DEFAULT_FAMILY "DejaVu Sans"
#define DEFAULT_FILE "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"

/* Glyph cache: hash slots, flushed when 3/4 full or above a byte budget. */
#define N_SLOTS 4096
#define CACHE_BUDGET (32u << 20)

/* fontconfig keeps global state; look-ups are serialised. */
static pthread_mutex_t fc_lock = PTHREAD_MUTEX_INITIALIZER;

void
ov_set_error (char *err, size_t err_size, const char *fmt, ...)
{
  va_list ap;

  if (!err || err_size == 0)
    return;
  va_start (ap, fmt);
  vsnprintf (err, err_size, fmt, ap);
  va_end (ap);
}

/* ------------------------------------------------------------------ */
/* Font look-up                                                        */
/* ------------------------------------------------------------------ */

/* File of the best match for a fontconfig pattern, malloc'd, or NULL. */
static char *
match_pattern (const char *pattern)
{
  FcConfig *cfg;
  FcPattern *pat, *match = NULL;
  FcResult res;
  FcChar8 *file = NULL;
  char *path = NULL;

  pthread_mutex_lock (&fc_lock);
  cfg = FcInitLoadConfigAndFonts ();
  pat = FcNameParse ((const FcChar8 *) pattern);
  if (cfg && pat) {
    FcConfigSubstitute (cfg, pat, FcMatchPattern);
    FcDefaultSubstitute (pat);
    match = FcFontMatch (cfg, pat, &res);
  }
  if (match && FcPatternGetString (match, FC_FILE, 0, &file) ==
      FcResultMatch)
    path = strdup ((const char *) file);
  if (match)
    FcPatternDestroy (match);
  if (pat)
    FcPatternDestroy (pat);
  if (cfg)
    FcConfigDestroy (cfg);
  pthread_mutex_unlock (&fc_lock);
  return path;
}

vlm_overlay_status
ov_font_resolve (const char *spec, char **path, char *err, size_t err_size)
{
  bool is_default = !spec || !spec[0];

  *path = NULL;
  if (!is_default && strchr (spec, '/')) {
    if (access (spec, R_OK) != 0) {
      ov_set_error (err, err_size, "font file '%s' cannot be read", spec);
      return VLM_OVERLAY_ERR_FONT;
    }
    *path = strdup (spec);
    return *path ? VLM_OVERLAY_OK : VLM_OVERLAY_ERR_NOMEM;
  }

  *path = match_pattern (is_default ? DEFAULT_FAMILY : spec);
  if (!*path && is_default && access (DEFAULT_FILE, R_OK) == 0)
    *path = strdup (DEFAULT_FILE);
  if (!*path) {
    ov_set_error (err, err_size, "no font matches '%s'",
        is_default ? DEFAULT_FAMILY : spec);
    return VLM_OVERLAY_ERR_FONT;
  }
  return VLM_OVERLAY_OK;
}

/* ------------------------------------------------------------------ */
/* Face                                                                */
/* ------------------------------------------------------------------ */

/* Glyph shown for characters the font lacks: U+FFFD, else '?', else
 * .notdef. */
static uint32_t
find_fallback (FT_Face face)
{
  uint32_t index = FT_Get_Char_Index (face, OV_CP_REPLACEMENT);
  if (index == 0)
    index = FT_Get_Char_Index (face, '?');
  return index;
}

vlm_overlay_status
ov_font_open (ov_font *f, const char *path, char *err, size_t err_size)
{
  FT_Error e;

  memset (f, 0, sizeof *f);
  e = FT_Init_FreeType (&f->lib);
  if (!e)
    e = FT_New_Face (f->lib, path, 0, &f->face);
  if (!e && !FT_IS_SCALABLE (f->face))
    e = FT_Err_Invalid_File_Format;
  if (!e)
    e = FT_Select_Charmap (f->face, FT_ENCODING_UNICODE);
  if (!e)
    e = FT_Stroker_New (f->lib, &f->stroker);
  if (!e && !(f->path = strdup (path)))
    e = FT_Err_Out_Of_Memory;
  if (e) {
    ov_set_error (err, err_size, "cannot open font '%s' (FreeType error "
        "%d)", path, (int) e);
    ov_font_close (f);
    return e == FT_Err_Out_Of_Memory ? VLM_OVERLAY_ERR_NOMEM :
        VLM_OVERLAY_ERR_FONT;
  }
  f->has_kerning = FT_HAS_KERNING (f->face);
  f->fallback_index = find_fallback (f->face);
  return VLM_OVERLAY_OK;
}

/* ------------------------------------------------------------------ */
/* Glyph cache                                                         */
/* ------------------------------------------------------------------ */

static void
free_glyph (ov_glyph *g)
{
  free (g->fill.buf);
  free (g->border.buf);
  memset (g, 0, sizeof *g);
  g->key = OV_EMPTY_SLOT;
}

/* Empties every slot (the table itself stays). */
static void
flush_cache (ov_font *f)
{
  for (size_t i = 0; f->slots && i < f->n_slots; i++)
    if (f->slots[i].key != OV_EMPTY_SLOT)
      free_glyph (&f->slots[i]);
  f->n_used = 0;
}

void
ov_font_close (ov_font *f)
{
  flush_cache (f);
  free (f->slots);
  if (f->stroker)
    FT_Stroker_Done (f->stroker);
  if (f->face)
    FT_Done_Face (f->face);
  if (f->lib)
    FT_Done_FreeType (f->lib);
  free (f->path);
  memset (f, 0, sizeof *f);
}

vlm_overlay_status
ov_font_set_size (ov_font *f, int px, int border_26)
{
  const FT_Size_Metrics *m;

  if (px == f->px && border_26 == f->border_26)
    return VLM_OVERLAY_OK;
  if (!f->slots) {
    f->slots = malloc (N_SLOTS * sizeof *f->slots);
    if (!f->slots)
      return VLM_OVERLAY_ERR_NOMEM;
    f->n_slots = N_SLOTS;
    for (size_t i = 0; i < N_SLOTS; i++) {
      memset (&f->slots[i], 0, sizeof f->slots[i]);
      f->slots[i].key = OV_EMPTY_SLOT;
    }
  }
  flush_cache (f);
  if (FT_Set_Pixel_Sizes (f->face, 0, (FT_UInt) px))
    return VLM_OVERLAY_ERR_FONT;
  f->px = px;
  f->border_26 = border_26;
  FT_Stroker_Set (f->stroker, border_26, FT_STROKER_LINECAP_ROUND,
      FT_STROKER_LINEJOIN_ROUND, 0);

  m = &f->face->size->metrics;
  f->ascender = (int) ((m->ascender + 63) >> 6);
  f->descender = -(int) ((-m->descender + 63) >> 6);
  f->line_height = (int) ((m->height + 32) >> 6);
  if (f->line_height < f->ascender - f->descender)
    f->line_height = f->ascender - f->descender;
  return VLM_OVERLAY_OK;
}

/* Copies a rendered FT_Bitmap (8-bit grey) into b; false on no memory. */
static bool
copy_bitmap (ov_bitmap *b, const FT_Bitmap *bm, int left, int top)
{
  b->w = (int) bm->width;
  b->h = (int) bm->rows;
  b->left = left;
  b->top = top;
  b->buf = NULL;
  if (b->w == 0 || b->h == 0 || bm->pixel_mode != FT_PIXEL_MODE_GRAY) {
    b->w = b->h = 0;
    return true;
  }
  b->buf = malloc ((size_t) b->w * (size_t) b->h);
  if (!b->buf)
    return false;
  for (int y = 0; y < b->h; y++) {
    const uint8_t *row = bm->pitch >= 0 ?
        bm->buffer + (size_t) y * (size_t) bm->pitch :
        bm->buffer + (size_t) (b->h - 1 - y) * (size_t) -bm->pitch;
    memcpy (b->buf + (size_t) y * (size_t) b->w, row, (size_t) b->w);
  }
  return true;
}

/* Strokes the outline in the glyph slot and renders its outer border. */
static bool
render_border (ov_font *f, ov_bitmap *b)
{
  FT_Glyph glyph;
  FT_BitmapGlyph bg;
  bool ok = false;

  memset (b, 0, sizeof *b);
  if (FT_Get_Glyph (f->face->glyph, &glyph))
    return true;                        /* no outline: no border */
  if (!FT_Glyph_StrokeBorder (&glyph, f->stroker, 0, 1) &&
      !FT_Glyph_To_Bitmap (&glyph, FT_RENDER_MODE_NORMAL, NULL, 1)) {
    bg = (FT_BitmapGlyph) glyph;
    ok = copy_bitmap (b, &bg->bitmap, bg->left, bg->top);
  } else {
    ok = true;                          /* unstrokable: no border */
  }
  FT_Done_Glyph (glyph);
  return ok;
}

/* Loads and renders glyph `index` into g; false when out of memory. A
 * glyph FreeType cannot load is kept as an empty one of zero advance. */
static bool
load_glyph (ov_font *f, uint32_t index, ov_glyph *g)
{
  FT_GlyphSlot slot = f->face->glyph;

  memset (g, 0, sizeof *g);
  g->key = index;
  g->index = index;
  if (FT_Load_Glyph (f->face, index, FT_LOAD_NO_HINTING | FT_LOAD_NO_BITMAP))
    return true;
  g->advance_26 = (int32_t) slot->advance.x;
  if (f->border_26 > 0 && slot->format == FT_GLYPH_FORMAT_OUTLINE &&
      !render_border (f, &g->border))
    return false;
  if (FT_Render_Glyph (slot, FT_RENDER_MODE_NORMAL))
    return true;
  if (!copy_bitmap (&g->fill, &slot->bitmap, slot->bitmap_left,
          slot->bitmap_top)) {
    free (g->border.buf);
    g->border.buf = NULL;
    return false;
  }
  return true;
}

static size_t
cache_bytes (const ov_font *f)
{
  size_t n = 0;
  for (size_t i = 0; i < f->n_slots; i++)
    if (f->slots[i].key != OV_EMPTY_SLOT)
      n += (size_t) f->slots[i].fill.w * (size_t) f->slots[i].fill.h +
          (size_t) f->slots[i].border.w * (size_t) f->slots[i].border.h;
  return n;
}

/* Slot of `index`: the one holding it, or the empty one to fill. */
static ov_glyph *
find_slot (ov_font *f, uint32_t index)
{
  size_t mask = f->n_slots - 1;
  size_t i = (index * 2654435761u) & mask;

  while (f->slots[i].key != OV_EMPTY_SLOT && f->slots[i].key != index)
    i = (i + 1) & mask;
  return &f->slots[i];
}

const ov_glyph *
ov_font_glyph (ov_font *f, uint32_t cp)
{
  uint32_t index = FT_Get_Char_Index (f->face, cp);
  ov_glyph *g;

  if (index == 0)
    index = f->fallback_index;
  g = find_slot (f, index);
  if (g->key == index)
    return g;

  /* a miss: make room first (a big glyph set or huge sizes) */
  if (f->n_used + 1 > f->n_slots * 3 / 4 ||
      (f->n_used % 64 == 63 && cache_bytes (f) > CACHE_BUDGET)) {
    flush_cache (f);
    g = find_slot (f, index);
  }
  if (!load_glyph (f, index, g)) {
    free_glyph (g);
    return NULL;
  }
  f->n_used++;
  return g;
}

int32_t
ov_font_kerning (ov_font *f, uint32_t left, uint32_t right)
{
  FT_Vector delta;

  if (!f->has_kerning || left == 0 || right == 0)
    return 0;
  if (FT_Get_Kerning (f->face, left, right, FT_KERNING_UNFITTED, &delta))
    return 0;
  return (int32_t) delta.x;
}

/* gst-vlm — caption overlay: internal interfaces between its parts.
 *
 *   utf8.c    bytes -> code points (invalid input -> U+FFFD, controls)
 *   font.c    fontconfig look-up, FreeType face, glyph cache, kerning
 *   layout.c  code points -> glyph items -> wrapped lines
 *   render.c  lines -> premultiplied RGBA panel (background, effect, text)
 *   blend.c   panel -> RGBA/BGRA/RGBx/BGRx/RGB/I420/NV12 frames
 *   overlay.c public API, parameters, the render cache
 *
 * Lengths in 26.6 fixed point (1/64 pixel) are named *_26 or say so.
 */
#ifndef VLM_OVERLAY_PRIVATE_H
#define VLM_OVERLAY_PRIVATE_H

#include "overlay.h"

#include <ft2build.h>
#include FT_FREETYPE_H
#include FT_STROKER_H

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */
/* ------------------------------------------------------------------ */

/* x / 255 rounded to nearest, exact for 0 <= x <= 65535. */
static inline unsigned
ov_div255 (unsigned x)
{
  x += 128;
  return (x + (x >> 8)) >> 8;
}

static inline int
ov_clampi (int v, int lo, int hi)
{
  return v < lo ? lo : v > hi ? hi : v;
}

/* Formats the message into err[err_size] (if err is non-NULL). */
void ov_set_error (char *err, size_t err_size, const char *fmt, ...)
    __attribute__((format (printf, 3, 4)));

/* ------------------------------------------------------------------ */
/* UTF-8 (utf8.c)                                                      */
/* ------------------------------------------------------------------ */

/* Code points with a meaning for layout. */
#define OV_CP_NEWLINE 0x0a
#define OV_CP_REPLACEMENT 0xfffd

/* Decodes s[n] into out[] (room for n code points, the most it can take).
 * Each maximal ill-formed subsequence becomes one U+FFFD; '\n', U+2028 and
 * U+2029 become '\n'; '\t' becomes ' '; every other C0/C1 control, DEL
 * and the invisible format characters (zero-width spaces and joiners,
 * direction marks, variation selectors, tags, U+FEFF) are dropped. Returns the number of code points. */
size_t ov_utf8_decode (const char *s, size_t n, uint32_t *out);

/* Offset of the first byte of the last `max` bytes of s[n], moved forward
 * to a character start (0 when n <= max). */
size_t ov_utf8_tail (const char *s, size_t n, size_t max);

/* ------------------------------------------------------------------ */
/* Font and glyph cache (font.c)                                       */
/* ------------------------------------------------------------------ */

/* An 8-bit coverage image, `top` rows above and `left` columns right of
 * the pen position. */
typedef struct {
  int w, h, left, top;
  uint8_t *buf;               /* w * h bytes, NULL when empty */
} ov_bitmap;

typedef struct {
  uint32_t key;               /* glyph index; OV_EMPTY_SLOT: unused */
  uint32_t index;             /* glyph index in the face */
  int32_t advance_26;
  ov_bitmap fill;
  ov_bitmap border;           /* outline effect only */
} ov_glyph;

#define OV_EMPTY_SLOT 0xffffffffu

typedef struct {
  FT_Library lib;
  FT_Face face;
  FT_Stroker stroker;
  char *path;
  int px;                     /* em size in pixels, 0 before set_size */
  int border_26;              /* stroke radius, 0 = no border bitmaps */
  bool has_kerning;
  int ascender, descender;    /* pixels, descender <= 0 */
  int line_height;            /* pixels */
  uint32_t fallback_index;    /* glyph for missing characters */
  ov_glyph *slots;            /* open-addressing hash on cp */
  size_t n_slots, n_used;
} ov_font;

/* Turns a font spec (NULL/"" default, path, or fontconfig pattern) into a
 * file path (malloc'd). Serialised by a process-wide lock. */
vlm_overlay_status ov_font_resolve (const char *spec, char **path,
    char *err, size_t err_size);

/* Opens the font file: a FreeType library of its own, the face, a
 * stroker. On error nothing stays allocated. */
vlm_overlay_status ov_font_open (ov_font *f, const char *path, char *err,
    size_t err_size);
void ov_font_close (ov_font *f);

/* Sets the pixel size and stroke radius (26.6; 0: no border bitmaps);
 * flushes the glyph cache when either changes. */
vlm_overlay_status ov_font_set_size (ov_font *f, int px, int border_26);

/* The cached glyph of a code point (rendered on first use, cached by
 * glyph index); a character the font lacks gets the fallback glyph. NULL only when out of memory.
 * The pointer is valid until the next ov_font_glyph or set_size. */
const ov_glyph *ov_font_glyph (ov_font *f, uint32_t cp);

/* Kerning between two glyph indices in 26.6 (0 without a kern table). */
int32_t ov_font_kerning (ov_font *f, uint32_t left, uint32_t right);

/* ------------------------------------------------------------------ */
/* Layout (layout.c)                                                   */
/* ------------------------------------------------------------------ */

typedef enum {
  OV_ITEM_GLYPH = 0,
  OV_ITEM_SPACE,              /* a break opportunity, trimmed at ends */
  OV_ITEM_MARK,               /* zero advance: stays with what precedes */
  OV_ITEM_NEWLINE,
} ov_item_kind;

typedef struct {
  uint32_t cp;
  uint32_t index;
  int32_t advance_26;
  int32_t kern_26;            /* with the previous item (same line only) */
  uint8_t kind;
} ov_item;

typedef struct {
  int start, end;             /* items [start, end) */
  int32_t width_26;
} ov_line;

typedef struct {
  uint32_t *cps;
  size_t cap_cps;
  ov_item *items;
  size_t n_items, cap_items;
  ov_line *lines;
  size_t n_lines, cap_lines;
  int32_t max_width_26;       /* of the lines, after wrapping */
} ov_layout;

/* Decodes, maps to glyphs and wraps text[len] to max_width_26. Reuses
 * the layout's buffers. Returns _OK or _NOMEM. */
vlm_overlay_status ov_layout_build (ov_layout *l, ov_font *f,
    const char *text, size_t len, int32_t max_width_26);
void ov_layout_free (ov_layout *l);

/* ------------------------------------------------------------------ */
/* Panel rendering (render.c)                                          */
/* ------------------------------------------------------------------ */

/* Straight (not premultiplied) RGBA colours of a theme. */
typedef struct {
  uint8_t text[4], background[4], effect[4];
} ov_colors;

/* The colours of a theme (DARK for an unknown one). */
ov_colors ov_theme_colors (vlm_overlay_theme theme);

/* The rendered panel and its scratch masks. */
typedef struct {
  uint8_t *rgba;              /* premultiplied, stride w * 4 */
  int w, h;
  size_t cap;                 /* pixels allocated */
  uint8_t *text_mask, *effect_mask;
} ov_image;

/* How to draw lines [first, first + n) of a layout. */
typedef struct {
  int first, n;
  int pad;                    /* pixels around the text */
  int radius;                 /* corner radius, pixels */
  int shadow;                 /* shadow offset, pixels (SHADOW effect) */
  vlm_overlay_effect effect;
  ov_colors colors;
} ov_draw;

/* Sizes img for the lines and renders them. Returns _OK or _NOMEM. */
vlm_overlay_status ov_render (ov_image *img, ov_font *f,
    const ov_layout *l, const ov_draw *d);
void ov_image_free (ov_image *img);

/* ------------------------------------------------------------------ */
/* Blending (blend.c)                                                  */
/* ------------------------------------------------------------------ */

/* Conversions of the panel made on first use, kept while the panel
 * (serial), the placement and the frame size stay. */
typedef struct {
  uint64_t serial;            /* panel these were made from, 0 = none */
  /* BGRA-ordered copy of the panel */
  uint8_t *bgra;
  size_t cap_bgra;
  bool bgra_valid;
  /* one panel row scaled by the opacity */
  uint8_t *row;
  size_t cap_row;
  /* premultiplied Y and A of the clipped rectangle, chroma blocks */
  int frame_w, frame_h, x, y;
  bool yuv_valid;
  int bx0, by0, bw, bh;       /* chroma blocks touched */
  uint8_t *ya;                /* planes Y, A of the clipped rectangle */
  uint8_t *uva;               /* planes Cb, Cr, A of bw x bh blocks */
  size_t cap_ya, cap_uva;
} ov_blend_cache;

/* The premultiplied RGBA panel to blend. */
typedef struct {
  const uint8_t *rgba;
  int w, h, stride;
  uint64_t serial;
} ov_source;

/* Blends src at (x, y) into frame with opacity 1..255. Returns _OK,
 * _INVALID_ARG (bad frame) or _NOMEM. */
vlm_overlay_status ov_blend (ov_blend_cache *c, const ov_source *src,
    const vlm_overlay_frame *frame, int x, int y, unsigned opacity);

/* Checks a frame's format, size, planes and strides. */
bool ov_frame_valid (const vlm_overlay_frame *frame);
void ov_blend_cache_free (ov_blend_cache *c);

#endif /* VLM_OVERLAY_PRIVATE_H */

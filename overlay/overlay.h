/* gst-vlm — caption overlay: text layout and blending on frame buffers.
 *
 * A vlm_overlay turns a UTF-8 caption into a "panel": a rounded,
 * semi-transparent box with the caption word-wrapped inside, rendered once
 * into a premultiplied RGBA image and cached. Blending the cached panel
 * into a video frame is the per-frame fast path:
 *
 *   vlm_overlay_params p = vlm_overlay_params_default ();
 *   p.theme = VLM_OVERLAY_THEME_HIGH_CONTRAST;
 *   vlm_overlay *ov = vlm_overlay_new (p, &status, err, sizeof err);
 *   for (each frame) {
 *     vlm_overlay_frame f;
 *     vlm_overlay_frame_wrap (&f, VLM_OVERLAY_FORMAT_NV12, w, h, data, size);
 *     vlm_overlay_render (ov, caption, w, h);     (cached when unchanged)
 *     vlm_overlay_blend (ov, &f, vlm_overlay_fade_opacity (t, hold, fade));
 *   }
 *   vlm_overlay_free (ov);
 *
 * No GStreamer inside: frames are plain planes with strides. Glyphs come
 * from FreeType (unhinted, so the output does not depend on the hinter),
 * the font file from fontconfig. Errors are status codes with a message;
 * nothing here aborts the process, whatever the text or the frame size.
 */
#ifndef VLM_OVERLAY_H
#define VLM_OVERLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Status codes: 0 is success, errors are negative. */
typedef enum {
  VLM_OVERLAY_OK = 0,
  VLM_OVERLAY_ERR_INVALID_ARG = -1, /* NULL or out-of-range argument */
  VLM_OVERLAY_ERR_FONT = -2,        /* no font found, or FreeType failed */
  VLM_OVERLAY_ERR_NOMEM = -3,       /* allocation failed */
  VLM_OVERLAY_ERR_NO_PANEL = -4,    /* blend before any render */
} vlm_overlay_status;

/* Short English description of a status. Static string, thread-safe. */
const char *vlm_overlay_status_str (vlm_overlay_status s);

/* ------------------------------------------------------------------ */
/* Parameters                                                          */
/* ------------------------------------------------------------------ */

/* Where the panel sits; it is always centred horizontally. */
typedef enum {
  VLM_OVERLAY_POSITION_BOTTOM = 0,
  VLM_OVERLAY_POSITION_TOP,
  VLM_OVERLAY_POSITION_CENTER,
} vlm_overlay_position;

/* Colour themes (text / background / outline-or-shadow colour). */
typedef enum {
  VLM_OVERLAY_THEME_DARK = 0,       /* white on 70 % black, black outline */
  VLM_OVERLAY_THEME_HIGH_CONTRAST,  /* yellow on opaque black */
  VLM_OVERLAY_THEME_LIGHT,          /* black on 85 % white, white outline */
  VLM_OVERLAY_THEME_CLEAR,          /* white, no background, black outline */
  VLM_OVERLAY_N_THEMES
} vlm_overlay_theme;

/* Contrast effect around the glyphs. */
typedef enum {
  VLM_OVERLAY_EFFECT_OUTLINE = 0,   /* stroked border of ~1/16 em */
  VLM_OVERLAY_EFFECT_SHADOW,        /* copy offset down-right by ~1/16 em */
  VLM_OVERLAY_EFFECT_NONE,
} vlm_overlay_effect;

/* Everything that changes the look of a panel. Sizes are relative so a
 * caption looks the same at any resolution. The timing properties of the
 * element (hold-time, fade-time, enabled) are not here: they only decide
 * the opacity given to vlm_overlay_blend (see vlm_overlay_fade_opacity). */
typedef struct {
  const char *font;           /* NULL or "": default sans ("DejaVu Sans");
                                 a path to a font file (contains '/'); or
                                 a fontconfig pattern ("DejaVu Sans:bold").
                                 Copied by the context. */
  double font_size;           /* em size as a fraction of the frame height,
                                 (0, 1]; default 0.05; the pixel size is
                                 clamped to [6, 400] */
  vlm_overlay_position position;  /* default BOTTOM */
  vlm_overlay_theme theme;    /* default DARK */
  vlm_overlay_effect effect;  /* default OUTLINE */
  int max_lines;              /* 1..64, default 2: longer captions keep
                                 their newest (last) lines */
  double margin;              /* gap between panel and frame edges, as a
                                 fraction of the frame height, [0, 0.4];
                                 default 0.03 */
  double padding;             /* inside the panel, in em, [0, 4]; 0.35 */
  double corner_radius;       /* in em, [0, 2]; default 0.3 */
} vlm_overlay_params;

/* The defaults listed above. Thread-safe. */
vlm_overlay_params vlm_overlay_params_default (void);

/* ------------------------------------------------------------------ */
/* Context                                                             */
/* ------------------------------------------------------------------ */

typedef struct vlm_overlay vlm_overlay;

/* Resolves and opens the font. Returns NULL on error with *status (if
 * non-NULL) and a message in err[err_size] (if non-NULL).
 * Ownership: free with vlm_overlay_free. Thread safety: reentrant (font
 * look-ups are serialised internally); each context is used by one thread
 * at a time, distinct contexts are independent. */
vlm_overlay *vlm_overlay_new (vlm_overlay_params params,
    vlm_overlay_status *status, char *err, size_t err_size);

/* Frees the context, its font and caches. NULL is allowed. */
void vlm_overlay_free (vlm_overlay *ov);

/* Replaces the parameters (a new font is opened only if `font` changed).
 * The next vlm_overlay_render renders again. On error the old parameters
 * stay. Returns VLM_OVERLAY_OK, _INVALID_ARG or _FONT. One thread at a
 * time per context. */
vlm_overlay_status vlm_overlay_set_params (vlm_overlay *ov,
    vlm_overlay_params params);

/* Current parameters; `font` points into the context (valid until the
 * next vlm_overlay_set_params or vlm_overlay_free). */
vlm_overlay_params vlm_overlay_get_params (const vlm_overlay *ov);

/* The font file in use (resolved by fontconfig). Owned by the context. */
const char *vlm_overlay_font_path (const vlm_overlay *ov);

/* Message of the last error on ov ("" if none). Owned by the context,
 * valid until the next call on it. */
const char *vlm_overlay_last_error (const vlm_overlay *ov);

/* ------------------------------------------------------------------ */
/* Rendering the panel (slow path, cached)                             */
/* ------------------------------------------------------------------ */

/* Lays out `text` (UTF-8; NULL means "") for a frame_width x frame_height
 * frame and renders the panel. Nothing is done when text, parameters and
 * frame size equal those of the previous call (the cache hit costs one
 * string compare). Invalid UTF-8 becomes U+FFFD, '\n' breaks the line,
 * '\t' is a space, other control characters are dropped, characters the
 * font lacks are drawn as its replacement glyph. Only the last 64 KiB of a
 * longer text are laid out. Empty or blank text gives an empty panel
 * (blending it does nothing).
 * Returns VLM_OVERLAY_OK, _INVALID_ARG (frame size < 1 or > 16384),
 * _NOMEM. One thread at a time per context. */
vlm_overlay_status vlm_overlay_render (vlm_overlay *ov, const char *text,
    int frame_width, int frame_height);

/* Read-only view of the cached panel. */
typedef struct {
  int x, y;                   /* top-left corner in the frame (may be
                                 negative when the panel is larger) */
  int width, height;          /* 0 x 0 for an empty caption */
  int stride;                 /* bytes per row of rgba */
  const uint8_t *rgba;        /* premultiplied R, G, B, A bytes */
  int n_lines;                /* lines shown */
  int n_lines_total;          /* lines of the whole caption */
  int font_px;                /* pixel size used */
  uint64_t serial;            /* changes each time the panel is rendered
                                 again (cache misses) */
} vlm_overlay_panel;

/* Fills *panel with the current panel (all zero before the first render).
 * The pointers stay valid until the next render, set_params or free. */
void vlm_overlay_get_panel (const vlm_overlay *ov, vlm_overlay_panel *panel);

/* ------------------------------------------------------------------ */
/* Blending into frames (fast path)                                    */
/* ------------------------------------------------------------------ */

/* Pixel formats, named as in GStreamer (byte order in memory). YUV is
 * BT.601 limited range (Y 16..235, Cb/Cr 16..240); I420 and NV12 have
 * ceil(w/2) x ceil(h/2) chroma samples. */
typedef enum {
  VLM_OVERLAY_FORMAT_RGBA = 0,
  VLM_OVERLAY_FORMAT_BGRA,
  VLM_OVERLAY_FORMAT_RGBx,
  VLM_OVERLAY_FORMAT_BGRx,
  VLM_OVERLAY_FORMAT_RGB,
  VLM_OVERLAY_FORMAT_I420,
  VLM_OVERLAY_FORMAT_NV12,
  VLM_OVERLAY_N_FORMATS
} vlm_overlay_format;

/* A frame: planes and their strides in bytes (packed formats use plane 0;
 * I420 Y, U, V; NV12 Y, UV). Not owned. */
typedef struct {
  vlm_overlay_format format;
  int width, height;
  uint8_t *data[3];
  int stride[3];
} vlm_overlay_frame;

/* Bytes of a tightly packed frame (strides w*bpp, chroma ceil(w/2)), or 0
 * for an invalid format or size. Thread-safe. */
size_t vlm_overlay_frame_size (vlm_overlay_format format, int width,
    int height);

/* Describes a tightly packed frame in `data` (at least
 * vlm_overlay_frame_size bytes, `size`). Returns _INVALID_ARG if it does
 * not fit. Thread-safe. */
vlm_overlay_status vlm_overlay_frame_wrap (vlm_overlay_frame *frame,
    vlm_overlay_format format, int width, int height, uint8_t *data,
    size_t size);

/* Blends the cached panel into `frame` at the panel's position, with a
 * global opacity in [0, 1] (clamped; 0 does nothing). Only the panel's
 * rectangle, clipped to the frame, is read and written. Colour channels
 * get  panel + frame * (1 - panel alpha); an alpha channel gets the same
 * "over" (the x byte of RGBx/BGRx likewise). For YUV the panel is
 * converted once (cached per position and frame size) and chroma blended
 * per 2x2 block with the block's mean alpha.
 * Returns VLM_OVERLAY_OK, _INVALID_ARG (bad frame), _NO_PANEL (no render
 * yet). One thread at a time per context. */
vlm_overlay_status vlm_overlay_blend (vlm_overlay *ov,
    const vlm_overlay_frame *frame, float opacity);

/* As vlm_overlay_blend with the panel's top-left corner at (x, y). */
vlm_overlay_status vlm_overlay_blend_at (vlm_overlay *ov,
    const vlm_overlay_frame *frame, int x, int y, float opacity);

/* vlm_overlay_render for the frame's size, then vlm_overlay_blend. */
vlm_overlay_status vlm_overlay_draw (vlm_overlay *ov, const char *text,
    const vlm_overlay_frame *frame, float opacity);

/* ------------------------------------------------------------------ */
/* Fading                                                              */
/* ------------------------------------------------------------------ */

/* Opacity of a caption `elapsed_s` seconds after it last changed: 1 up to
 * hold_s, then falling linearly to 0 over fade_s (fade_s <= 0: at once).
 * hold_s < 0 means forever. Thread-safe. */
float vlm_overlay_fade_opacity (double elapsed_s, double hold_s,
    double fade_s);

#ifdef __cplusplus
}
#endif

#endif /* VLM_OVERLAY_H */

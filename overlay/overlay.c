/* gst-vlm — caption overlay: public API, parameters, render cache.
 *
 * The context keeps the last rendered panel with its key (text, frame
 * size; a parameter change clears the key). vlm_overlay_render compares
 * the key and returns at once on a hit, so an element can call it on
 * every frame and pay for layout and rasterisation only when the caption
 * changes.
 */
#include "overlay-private.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Bounds of the pixel size (legibility below, memory above). */
#define MIN_FONT_PX 6
#define MAX_FONT_PX 400
#define MAX_LINES 64

struct vlm_overlay {
  vlm_overlay_params params;  /* params.font points to font_spec */
  char *font_spec;            /* NULL for the default */
  ov_font font;
  ov_layout layout;
  ov_image image;
  ov_blend_cache blend;

  /* key of the cached panel */
  bool have_key;
  char *text;
  size_t text_len, text_cap;
  int frame_w, frame_h;

  vlm_overlay_panel panel;
  bool have_panel;
  uint64_t serial;
  char err[256];
};

/* ------------------------------------------------------------------ */
/* Status and parameters                                               */
/* ------------------------------------------------------------------ */

const char *
vlm_overlay_status_str (vlm_overlay_status s)
{
  switch (s) {
    case VLM_OVERLAY_OK:
      return "ok";
    case VLM_OVERLAY_ERR_INVALID_ARG:
      return "invalid argument";
    case VLM_OVERLAY_ERR_FONT:
      return "font error";
    case VLM_OVERLAY_ERR_NOMEM:
      return "out of memory";
    case VLM_OVERLAY_ERR_NO_PANEL:
      return "nothing rendered yet";
  }
  return "unknown status";
}

vlm_overlay_params
vlm_overlay_params_default (void)
{
  vlm_overlay_params p = {
    .font = NULL,
    .font_size = 0.05,
    .position = VLM_OVERLAY_POSITION_BOTTOM,
    .theme = VLM_OVERLAY_THEME_DARK,
    .effect = VLM_OVERLAY_EFFECT_OUTLINE,
    .max_lines = 2,
    .margin = 0.03,
    .padding = 0.35,
    .corner_radius = 0.3,
  };
  return p;
}

/* x in [lo, hi] (false for NaN). */
static bool
in_range (double x, double lo, double hi)
{
  return x >= lo && x <= hi;
}

static bool
valid_params (const vlm_overlay_params *p, char *err, size_t err_size)
{
  const char *bad = NULL;

  if (!(p->font_size > 0 && p->font_size <= 1))
    bad = "font_size";
  else if ((unsigned) p->position > VLM_OVERLAY_POSITION_CENTER)
    bad = "position";
  else if ((unsigned) p->theme >= VLM_OVERLAY_N_THEMES)
    bad = "theme";
  else if ((unsigned) p->effect > VLM_OVERLAY_EFFECT_NONE)
    bad = "effect";
  else if (p->max_lines < 1 || p->max_lines > MAX_LINES)
    bad = "max_lines";
  else if (!in_range (p->margin, 0, 0.4))
    bad = "margin";
  else if (!in_range (p->padding, 0, 4))
    bad = "padding";
  else if (!in_range (p->corner_radius, 0, 2))
    bad = "corner_radius";
  if (bad)
    ov_set_error (err, err_size, "parameter %s out of range", bad);
  return bad == NULL;
}

/* Equal font specs (NULL and "" are both the default). */
static bool
same_font (const char *a, const char *b)
{
  if (!a || !a[0] || !b || !b[0])
    return (!a || !a[0]) && (!b || !b[0]);
  return strcmp (a, b) == 0;
}

/* Forgets the cached panel: the next render draws again. */
static void
invalidate (vlm_overlay *ov)
{
  ov->have_key = false;
  ov->have_panel = false;
  memset (&ov->panel, 0, sizeof ov->panel);
}

/* ------------------------------------------------------------------ */
/* Construction                                                        */
/* ------------------------------------------------------------------ */

/* Resolves and opens the font of spec into *font. */
static vlm_overlay_status
build_font (ov_font *font, const char *spec, char *err, size_t err_size)
{
  char *path = NULL;
  vlm_overlay_status s = ov_font_resolve (spec, &path, err, err_size);

  if (s == VLM_OVERLAY_OK)
    s = ov_font_open (font, path, err, err_size);
  free (path);
  return s;
}

/* Copy of a font spec (NULL for the default); false when out of memory. */
static bool
copy_spec (const char *spec, char **out)
{
  *out = NULL;
  if (!spec || !spec[0])
    return true;
  *out = strdup (spec);
  return *out != NULL;
}

vlm_overlay *
vlm_overlay_new (vlm_overlay_params params, vlm_overlay_status *status,
    char *err, size_t err_size)
{
  vlm_overlay *ov;
  vlm_overlay_status s = VLM_OVERLAY_OK;

  ov_set_error (err, err_size, "%s", "");
  if (!valid_params (&params, err, err_size)) {
    s = VLM_OVERLAY_ERR_INVALID_ARG;
    goto out;
  }
  ov = calloc (1, sizeof *ov);
  if (!ov || !copy_spec (params.font, &ov->font_spec)) {
    free (ov);
    ov_set_error (err, err_size, "out of memory");
    s = VLM_OVERLAY_ERR_NOMEM;
    goto out;
  }
  s = build_font (&ov->font, ov->font_spec, err, err_size);
  if (s != VLM_OVERLAY_OK) {
    free (ov->font_spec);
    free (ov);
    goto out;
  }
  ov->params = params;
  ov->params.font = ov->font_spec;
  if (status)
    *status = s;
  return ov;

out:
  if (status)
    *status = s;
  return NULL;
}

void
vlm_overlay_free (vlm_overlay *ov)
{
  if (!ov)
    return;
  ov_font_close (&ov->font);
  ov_layout_free (&ov->layout);
  ov_image_free (&ov->image);
  ov_blend_cache_free (&ov->blend);
  free (ov->font_spec);
  free (ov->text);
  free (ov);
}

vlm_overlay_status
vlm_overlay_set_params (vlm_overlay *ov, vlm_overlay_params params)
{
  char *spec;
  ov_font font;
  vlm_overlay_status s;

  if (!ov)
    return VLM_OVERLAY_ERR_INVALID_ARG;
  if (!valid_params (&params, ov->err, sizeof ov->err))
    return VLM_OVERLAY_ERR_INVALID_ARG;
  if (!same_font (params.font, ov->font_spec)) {
    if (!copy_spec (params.font, &spec))
      return VLM_OVERLAY_ERR_NOMEM;
    s = build_font (&font, spec, ov->err, sizeof ov->err);
    if (s != VLM_OVERLAY_OK) {
      free (spec);
      return s;
    }
    ov_font_close (&ov->font);
    ov->font = font;
    free (ov->font_spec);
    ov->font_spec = spec;
  }
  ov->params = params;
  ov->params.font = ov->font_spec;
  invalidate (ov);
  return VLM_OVERLAY_OK;
}

vlm_overlay_params
vlm_overlay_get_params (const vlm_overlay *ov)
{
  return ov ? ov->params : vlm_overlay_params_default ();
}

const char *
vlm_overlay_font_path (const vlm_overlay *ov)
{
  return ov && ov->font.path ? ov->font.path : "";
}

const char *
vlm_overlay_last_error (const vlm_overlay *ov)
{
  return ov ? ov->err : "";
}

/* ------------------------------------------------------------------ */
/* Rendering                                                           */
/* ------------------------------------------------------------------ */

/* Pixel sizes derived from the parameters for a frame height. */
typedef struct {
  int px, border_26, shadow, pad, radius, margin;
} geometry;

static geometry
build_geometry (const vlm_overlay_params *p, int frame_h)
{
  geometry g;
  int effect_px;

  g.px = ov_clampi ((int) lrint (p->font_size * frame_h), MIN_FONT_PX,
      MAX_FONT_PX);
  /* outline radius and shadow offset: 1/16 em, at least one pixel */
  g.border_26 = p->effect == VLM_OVERLAY_EFFECT_OUTLINE ?
      (g.px * 64 / 16 > 64 ? g.px * 64 / 16 : 64) : 0;
  g.shadow = p->effect == VLM_OVERLAY_EFFECT_SHADOW ?
      (g.px / 16 > 1 ? g.px / 16 : 1) : 0;
  effect_px = (g.border_26 + 63) / 64 + g.shadow;
  g.pad = (int) lrint (p->padding * g.px);
  if (g.pad < effect_px)
    g.pad = effect_px;                  /* room for outline or shadow */
  g.radius = (int) lrint (p->corner_radius * g.px);
  g.margin = (int) lrint (p->margin * frame_h);
  return g;
}

/* Panel position for the frame (centred horizontally). */
static void
place_panel (vlm_overlay *ov, const geometry *g, int fw, int fh)
{
  vlm_overlay_panel *p = &ov->panel;

  p->x = (fw - p->width) / 2;
  switch (ov->params.position) {
    case VLM_OVERLAY_POSITION_TOP:
      p->y = g->margin;
      break;
    case VLM_OVERLAY_POSITION_CENTER:
      p->y = (fh - p->height) / 2;
      break;
    default:
      p->y = fh - g->margin - p->height;
      break;
  }
}

/* Remembers text and frame size as the key of the panel. */
static bool
store_key (vlm_overlay *ov, const char *text, size_t len, int fw, int fh)
{
  if (len + 1 > ov->text_cap) {
    char *t = realloc (ov->text, len + 1);
    if (!t)
      return false;
    ov->text = t;
    ov->text_cap = len + 1;
  }
  memcpy (ov->text, text, len + 1);
  ov->text_len = len;
  ov->frame_w = fw;
  ov->frame_h = fh;
  ov->have_key = true;
  return true;
}

/* Lays out and draws text for a fw x fh frame into ov->panel. */
static vlm_overlay_status
render_panel (vlm_overlay *ov, const char *text, size_t len, int fw, int fh)
{
  geometry g = build_geometry (&ov->params, fh);
  int max_w = fw - 2 * g.margin - 2 * g.pad;
  ov_draw d;
  vlm_overlay_status s;

  if (max_w < g.px)
    max_w = g.px;                       /* tiny frames: at least an em */
  s = ov_font_set_size (&ov->font, g.px, g.border_26);
  if (s == VLM_OVERLAY_OK)
    s = ov_layout_build (&ov->layout, &ov->font, text, len,
        (int32_t) max_w * 64);
  if (s != VLM_OVERLAY_OK)
    return s;

  memset (&d, 0, sizeof d);
  d.n = (int) ov->layout.n_lines < ov->params.max_lines ?
      (int) ov->layout.n_lines : ov->params.max_lines;
  d.first = (int) ov->layout.n_lines - d.n;   /* the newest lines */
  d.pad = g.pad;
  d.radius = g.radius;
  d.shadow = g.shadow;
  d.effect = ov->params.effect;
  d.colors = ov_theme_colors (ov->params.theme);
  s = ov_render (&ov->image, &ov->font, &ov->layout, &d);
  if (s != VLM_OVERLAY_OK)
    return s;

  ov->panel.width = ov->image.w;
  ov->panel.height = ov->image.h;
  ov->panel.stride = ov->image.w * 4;
  ov->panel.rgba = ov->image.w > 0 ? ov->image.rgba : NULL;
  ov->panel.n_lines = d.n;
  ov->panel.n_lines_total = (int) ov->layout.n_lines;
  ov->panel.font_px = g.px;
  ov->panel.serial = ++ov->serial;
  place_panel (ov, &g, fw, fh);
  return VLM_OVERLAY_OK;
}

vlm_overlay_status
vlm_overlay_render (vlm_overlay *ov, const char *text, int frame_width,
    int frame_height)
{
  size_t len;
  vlm_overlay_status s;

  if (!ov)
    return VLM_OVERLAY_ERR_INVALID_ARG;
  if (frame_width < 1 || frame_height < 1 || frame_width > 16384 ||
      frame_height > 16384) {
    ov_set_error (ov->err, sizeof ov->err, "frame size %dx%d out of range",
        frame_width, frame_height);
    return VLM_OVERLAY_ERR_INVALID_ARG;
  }
  text = text ? text : "";
  len = strlen (text);
  if (ov->have_key && ov->frame_w == frame_width &&
      ov->frame_h == frame_height && ov->text_len == len &&
      memcmp (ov->text, text, len) == 0)
    return VLM_OVERLAY_OK;              /* cache hit */

  invalidate (ov);
  s = render_panel (ov, text, len, frame_width, frame_height);
  if (s == VLM_OVERLAY_OK && !store_key (ov, text, len, frame_width,
          frame_height))
    s = VLM_OVERLAY_ERR_NOMEM;
  if (s != VLM_OVERLAY_OK) {
    invalidate (ov);
    ov_set_error (ov->err, sizeof ov->err, "rendering failed: %s",
        vlm_overlay_status_str (s));
    return s;
  }
  ov->have_panel = true;
  return VLM_OVERLAY_OK;
}

void
vlm_overlay_get_panel (const vlm_overlay *ov, vlm_overlay_panel *panel)
{
  if (!panel)
    return;
  if (ov && ov->have_panel)
    *panel = ov->panel;
  else
    memset (panel, 0, sizeof *panel);
}

/* ------------------------------------------------------------------ */
/* Blending                                                            */
/* ------------------------------------------------------------------ */

/* Opacity in [0, 1] as 0..255. */
static unsigned
opacity_byte (float opacity)
{
  if (!(opacity > 0))
    return 0;
  if (opacity >= 1)
    return 255;
  return (unsigned) lrintf (opacity * 255.0f);
}

vlm_overlay_status
vlm_overlay_blend_at (vlm_overlay *ov, const vlm_overlay_frame *frame,
    int x, int y, float opacity)
{
  ov_source src;
  vlm_overlay_status s;

  if (!ov)
    return VLM_OVERLAY_ERR_INVALID_ARG;
  if (!ov_frame_valid (frame)) {
    ov_set_error (ov->err, sizeof ov->err, "invalid frame");
    return VLM_OVERLAY_ERR_INVALID_ARG;
  }
  if (!ov->have_panel) {
    ov_set_error (ov->err, sizeof ov->err, "nothing rendered yet");
    return VLM_OVERLAY_ERR_NO_PANEL;
  }
  src.rgba = ov->panel.rgba;
  src.w = ov->panel.width;
  src.h = ov->panel.height;
  src.stride = ov->panel.stride;
  src.serial = ov->panel.serial;
  s = ov_blend (&ov->blend, &src, frame, x, y, opacity_byte (opacity));
  if (s != VLM_OVERLAY_OK)
    ov_set_error (ov->err, sizeof ov->err, "blending failed: %s",
        vlm_overlay_status_str (s));
  return s;
}

vlm_overlay_status
vlm_overlay_blend (vlm_overlay *ov, const vlm_overlay_frame *frame,
    float opacity)
{
  if (!ov)
    return VLM_OVERLAY_ERR_INVALID_ARG;
  return vlm_overlay_blend_at (ov, frame, ov->panel.x, ov->panel.y,
      opacity);
}

vlm_overlay_status
vlm_overlay_draw (vlm_overlay *ov, const char *text,
    const vlm_overlay_frame *frame, float opacity)
{
  vlm_overlay_status s;

  if (!ov || !ov_frame_valid (frame))
    return VLM_OVERLAY_ERR_INVALID_ARG;
  s = vlm_overlay_render (ov, text, frame->width, frame->height);
  if (s != VLM_OVERLAY_OK)
    return s;
  return vlm_overlay_blend (ov, frame, opacity);
}

/* ------------------------------------------------------------------ */
/* Fading                                                              */
/* ------------------------------------------------------------------ */

float
vlm_overlay_fade_opacity (double elapsed_s, double hold_s, double fade_s)
{
  double t;

  if (hold_s < 0 || !(elapsed_s > hold_s))
    return 1.0f;                        /* holding (NaN elapsed too) */
  if (!(fade_s > 0))
    return 0.0f;
  t = 1.0 - (elapsed_s - hold_s) / fade_s;
  return (float) (t < 0 ? 0 : t > 1 ? 1 : t);
}

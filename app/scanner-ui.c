/* gst-vlm — vlm-scanner: the window. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "scanner-ui.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef HAVE_PNG
#include <png.h>
#endif

#define STATUS_LINES 2
#define NOTICE_LINES 3
#define FIT_TRIES 10

/* ------------------------------------------------------------------ */
/* Text panels                                                         */
/* ------------------------------------------------------------------ */

static bool
panel_open (ScannerPanel * p, vlm_overlay_position position, char *err,
    size_t err_size)
{
  vlm_overlay_params params = vlm_overlay_params_default ();

  memset (p, 0, sizeof *p);
  params.theme = VLM_OVERLAY_THEME_HIGH_CONTRAST;
  params.position = position;
  p->ov = vlm_overlay_new (params, NULL, err, err_size);
  return p->ov != NULL;
}

static void
panel_close (ScannerPanel * p)
{
  vlm_overlay_free (p->ov);
  if (p->texture)
    SDL_DestroyTexture (p->texture);
  free (p->text);
  memset (p, 0, sizeof *p);
}

static int
count_lines (const char *text)
{
  int n = 1;

  for (const char *s = text; *s; s++)
    n += *s == '\n';
  return n;
}

/* Renders text for a frame_w x frame_h frame at the largest font size up
 * to size (fraction of frame_h) that shows it in max_lines lines. */
static void
panel_layout (ScannerPanel * p, const char *text, int frame_w, int frame_h,
    double size, int max_lines)
{
  vlm_overlay_params params = vlm_overlay_get_params (p->ov);
  vlm_overlay_panel panel;

  params.font = NULL;           /* keep the font: no new look-up */
  params.max_lines = max_lines;
  params.margin = 0.0;
  params.padding = 0.25;
  for (int i = 0; i < FIT_TRIES; i++, size *= 0.88) {
    params.font_size = size;
    if (vlm_overlay_set_params (p->ov, params) != VLM_OVERLAY_OK
        || vlm_overlay_render (p->ov, text, frame_w, frame_h)
        != VLM_OVERLAY_OK)
      return;
    vlm_overlay_get_panel (p->ov, &panel);
    if (panel.n_lines_total <= max_lines && panel.width <= frame_w
        && panel.height <= frame_h)
      return;
  }
}

/* The panel as a straight-alpha RGBA texture (the renderer's blending). */
static void
panel_upload (ScannerPanel * p, SDL_Renderer * r)
{
  vlm_overlay_panel panel;
  Uint8 *px;

  if (p->texture)
    SDL_DestroyTexture (p->texture);
  p->texture = NULL;
  vlm_overlay_get_panel (p->ov, &panel);
  if (panel.width <= 0 || panel.height <= 0)
    return;
  px = malloc ((size_t) panel.width * (size_t) panel.height * 4);
  if (px == NULL)
    return;
  for (int y = 0; y < panel.height; y++)
    for (int x = 0; x < panel.width; x++) {
      const uint8_t *s = panel.rgba + (size_t) y * (size_t) panel.stride
          + (size_t) x * 4;
      Uint8 *d = px + ((size_t) y * (size_t) panel.width + (size_t) x) * 4;
      int a = s[3];

      for (int c = 0; c < 3; c++)
        d[c] = a ? (Uint8) SDL_min (255, s[c] * 255 / a) : 0;
      d[3] = (Uint8) a;
    }
  p->texture = SDL_CreateTexture (r, SDL_PIXELFORMAT_RGBA32,
      SDL_TEXTUREACCESS_STATIC, panel.width, panel.height);
  if (p->texture) {
    SDL_UpdateTexture (p->texture, NULL, px, panel.width * 4);
    SDL_SetTextureBlendMode (p->texture, SDL_BLENDMODE_BLEND);
  }
  free (px);
  p->rect.x = panel.x;
  p->rect.y = panel.y;
  p->rect.w = panel.width;
  p->rect.h = panel.height;
}

/* Lays out and uploads again only when the text or the frame changed. */
static void
panel_update (ScannerPanel * p, SDL_Renderer * r, const char *text,
    int frame_w, int frame_h, double size, int max_lines)
{
  if (p->text && strcmp (p->text, text) == 0 && p->frame_w == frame_w
      && p->frame_h == frame_h)
    return;
  free (p->text);
  p->text = strdup (text);
  p->frame_w = frame_w;
  p->frame_h = frame_h;
  panel_layout (p, text, frame_w, frame_h, size, max_lines);
  panel_upload (p, r);
}

/* Draws the panel with its frame's top-left corner at (x0, y0). */
static void
panel_draw (ScannerPanel * p, SDL_Renderer * r, int x0, int y0)
{
  SDL_Rect dst = p->rect;

  if (p->texture == NULL)
    return;
  dst.x += x0;
  dst.y += y0;
  SDL_RenderCopy (r, p->texture, NULL, &dst);
}

/* ------------------------------------------------------------------ */
/* Window                                                              */
/* ------------------------------------------------------------------ */

bool
scanner_ui_open (ScannerUi * ui, int width, int height, bool fullscreen,
    char *err, size_t err_size)
{
  Uint32 flags = SDL_WINDOW_RESIZABLE | SDL_WINDOW_ALLOW_HIGHDPI;

  memset (ui, 0, sizeof *ui);
  /* smooth scaling of the video and its caption */
  SDL_SetHint (SDL_HINT_RENDER_SCALE_QUALITY, "linear");
  if (fullscreen)
    flags |= SDL_WINDOW_FULLSCREEN_DESKTOP;
  ui->window = SDL_CreateWindow ("vlm-scanner", SDL_WINDOWPOS_CENTERED,
      SDL_WINDOWPOS_CENTERED, width, height, flags);
  if (ui->window == NULL) {
    snprintf (err, err_size, "cannot open a window: %s", SDL_GetError ());
    return false;
  }
  ui->renderer = SDL_CreateRenderer (ui->window, -1, SDL_RENDERER_ACCELERATED);
  if (ui->renderer == NULL)
    ui->renderer = SDL_CreateRenderer (ui->window, -1,
        SDL_RENDERER_SOFTWARE);
  if (ui->renderer == NULL) {
    snprintf (err, err_size, "cannot draw in the window: %s",
        SDL_GetError ());
    return false;
  }
  return panel_open (&ui->status, VLM_OVERLAY_POSITION_CENTER, err, err_size)
      && panel_open (&ui->help, VLM_OVERLAY_POSITION_CENTER, err, err_size)
      && panel_open (&ui->notice, VLM_OVERLAY_POSITION_TOP, err, err_size);
}

void
scanner_ui_close (ScannerUi * ui)
{
  panel_close (&ui->status);
  panel_close (&ui->help);
  panel_close (&ui->notice);
  if (ui->video)
    SDL_DestroyTexture (ui->video);
  if (ui->renderer)
    SDL_DestroyRenderer (ui->renderer);
  if (ui->window)
    SDL_DestroyWindow (ui->window);
  memset (ui, 0, sizeof *ui);
}

/* ------------------------------------------------------------------ */
/* Drawing                                                             */
/* ------------------------------------------------------------------ */

/* The status strip: a sixth of the window, at least 56 px. */
static void
layout (ScannerUi * ui)
{
  int w, h, strip;

  SDL_GetRendererOutputSize (ui->renderer, &w, &h);
  strip = SDL_clamp (h / 6, 56, h / 2);
  ui->status_rect.x = 0;
  ui->status_rect.y = h - strip;
  ui->status_rect.w = w;
  ui->status_rect.h = strip;
  ui->video_rect.x = 0;
  ui->video_rect.y = 0;
  ui->video_rect.w = w;
  ui->video_rect.h = h - strip;
}

/* The newest frame into the video texture (same size: reused). */
static void
upload_frame (ScannerUi * ui, ScannerApp * app)
{
  if (app->frame == NULL || !app->frame_new)
    return;
  if (ui->video == NULL || ui->video_w != app->frame_w
      || ui->video_h != app->frame_h) {
    if (ui->video)
      SDL_DestroyTexture (ui->video);
    ui->video = SDL_CreateTexture (ui->renderer, SDL_PIXELFORMAT_RGBA32,
        SDL_TEXTUREACCESS_STREAMING, app->frame_w, app->frame_h);
    ui->video_w = app->frame_w;
    ui->video_h = app->frame_h;
  }
  if (ui->video)
    SDL_UpdateTexture (ui->video, NULL, app->frame, app->frame_w * 4);
  app->frame_new = false;
}

/* The video, scaled to fit the video area, centred. */
static void
draw_video (ScannerUi * ui)
{
  SDL_Rect area = ui->video_rect, dst;
  double scale;

  if (ui->video == NULL || ui->video_w <= 0 || ui->video_h <= 0)
    return;
  scale = SDL_min ((double) area.w / ui->video_w,
      (double) area.h / ui->video_h);
  dst.w = (int) (ui->video_w * scale);
  dst.h = (int) (ui->video_h * scale);
  dst.x = area.x + (area.w - dst.w) / 2;
  dst.y = area.y + (area.h - dst.h) / 2;
  SDL_RenderCopy (ui->renderer, ui->video, NULL, &dst);
}

static void
draw_status (ScannerUi * ui, ScannerApp * app)
{
  SDL_Rect s = ui->status_rect;

  scanner_app_status_text (app, ui->status_text, sizeof ui->status_text);
  SDL_SetRenderDrawColor (ui->renderer, 0, 0, 0, 255);
  SDL_RenderFillRect (ui->renderer, &s);
  /* a thin grey rule between the video and the status */
  SDL_SetRenderDrawColor (ui->renderer, 128, 128, 128, 255);
  SDL_RenderDrawLine (ui->renderer, s.x, s.y, s.x + s.w - 1, s.y);
  panel_update (&ui->status, ui->renderer, ui->status_text, s.w, s.h, 0.34,
      STATUS_LINES);
  panel_draw (&ui->status, ui->renderer, s.x, s.y);
}

/* Help (centred, over the video) or else the notice (at the top). */
static void
draw_info (ScannerUi * ui, ScannerApp * app)
{
  SDL_Rect v = ui->video_rect;

  if (app->help) {
    panel_update (&ui->help, ui->renderer, app->help_text, v.w, v.h, 0.06,
        count_lines (app->help_text));
    panel_draw (&ui->help, ui->renderer, v.x, v.y);
  } else if (app->notice) {
    panel_update (&ui->notice, ui->renderer, app->notice, v.w, v.h, 0.07,
        NOTICE_LINES);
    panel_draw (&ui->notice, ui->renderer, v.x, v.y);
  }
}

void
scanner_ui_draw (ScannerUi * ui, ScannerApp * app)
{
  layout (ui);
  upload_frame (ui, app);
  SDL_SetRenderDrawColor (ui->renderer, 0, 0, 0, 255);
  SDL_RenderClear (ui->renderer);
  draw_video (ui);
  draw_info (ui, app);
  draw_status (ui, app);
}

void
scanner_ui_present (ScannerUi * ui)
{
  SDL_RenderPresent (ui->renderer);
}

/* ------------------------------------------------------------------ */
/* Screenshot                                                          */
/* ------------------------------------------------------------------ */

bool
scanner_ui_save_png (ScannerUi * ui, const char *path, char *err,
    size_t err_size)
{
#ifdef HAVE_PNG
  png_image image;
  int w, h;
  Uint8 *px;
  bool ok;

  SDL_GetRendererOutputSize (ui->renderer, &w, &h);
  px = malloc ((size_t) w * (size_t) h * 4);
  if (px == NULL) {
    snprintf (err, err_size, "out of memory");
    return false;
  }
  if (SDL_RenderReadPixels (ui->renderer, NULL, SDL_PIXELFORMAT_RGBA32, px,
          w * 4) != 0) {
    snprintf (err, err_size, "cannot read the window: %s", SDL_GetError ());
    free (px);
    return false;
  }
  /* the window is opaque, whatever the read-back alpha */
  for (size_t i = 0; i < (size_t) w * (size_t) h; i++)
    px[i * 4 + 3] = 255;
  memset (&image, 0, sizeof image);
  image.version = PNG_IMAGE_VERSION;
  image.width = (png_uint_32) w;
  image.height = (png_uint_32) h;
  image.format = PNG_FORMAT_RGBA;
  ok = png_image_write_to_file (&image, path, 0, px, w * 4, NULL) != 0;
  if (!ok)
    snprintf (err, err_size, "cannot write %s: %s", path, image.message);
  png_image_free (&image);
  free (px);
  return ok;
#else
  snprintf (err, err_size, "cannot write %s: built without libpng", path);
  return false;
#endif
}

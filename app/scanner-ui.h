/* gst-vlm — vlm-scanner: the window.
 *
 *   +--------------------------------------------+
 *   |   video (letterboxed), caption drawn in it |
 *   |   by vlmoverlay; help or a notice on top   |
 *   +--------------------------------------------+
 *   |  status: two lines, yellow on black, big   |
 *   +--------------------------------------------+
 *
 * Text is laid out and rendered with the project's FreeType caption
 * renderer (overlay/overlay.h) into RGBA panels, uploaded as SDL textures
 * only when the text or the window size changes; the font size shrinks
 * until the text fits.
 *
 * Main thread only.
 */
#ifndef SCANNER_UI_H
#define SCANNER_UI_H

#include <stdbool.h>
#include <stddef.h>
#include <SDL.h>

#include "overlay.h"
#include "scanner-app.h"

/* One text panel and its texture. */
typedef struct {
  vlm_overlay *ov;
  SDL_Texture *texture;
  SDL_Rect rect;                /* in the frame it was laid out for */
  char *text;                   /* what the texture shows */
  int frame_w, frame_h;         /* the frame it was laid out for */
} ScannerPanel;

typedef struct {
  SDL_Window *window;
  SDL_Renderer *renderer;
  SDL_Texture *video;
  int video_w, video_h;
  SDL_Rect video_rect;          /* last layout: where the video went */
  SDL_Rect status_rect;         /* and the status strip */
  ScannerPanel status;
  ScannerPanel help;
  ScannerPanel notice;
  char status_text[512];
} ScannerUi;

/* Opens a window of width x height (fullscreen on the desktop when asked)
 * with a renderer, and the fonts. False with a message in err. */
bool scanner_ui_open (ScannerUi * ui, int width, int height,
    bool fullscreen, char *err, size_t err_size);

/* Draws the app's state into the back buffer (not presented yet). */
void scanner_ui_draw (ScannerUi * ui, ScannerApp * app);

/* Saves the back buffer as a PNG. False with a message in err. */
bool scanner_ui_save_png (ScannerUi * ui, const char *path, char *err,
    size_t err_size);

void scanner_ui_present (ScannerUi * ui);

/* Closes the window; fine on one that failed to open. */
void scanner_ui_close (ScannerUi * ui);

#endif /* SCANNER_UI_H */

/* vlm-bench-overlay — per-frame cost of the caption overlay.
 *
 *   vlm-bench-overlay [-n FRAMES] [-f FONT]
 *
 * For 1280x720 and 1920x1080 frames in RGBA and NV12, with a caption that
 * wraps to two lines, it times one frame of the element's work:
 * vlm_overlay_render (a cache hit when the text is unchanged) followed by
 * vlm_overlay_blend. "unchanged" keeps the caption, "fading" also blends
 * at opacity 0.5, "changing" gives every frame a new caption (layout and
 * rasterisation each time). Figures are mean milliseconds per frame.
 */
#include "overlay.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char caption[] =
    "A person in a red jacket is crossing the street at a zebra "
    "crossing; two cars are waiting at the light, a bus stop is on the "
    "left.";

static double
now_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Mean ms per frame of render + blend over n frames. */
static double
time_frames (vlm_overlay *ov, vlm_overlay_frame *f, int n, bool change,
    float opacity)
{
  char text[sizeof caption + 32];
  double t0 = now_ms ();

  for (int i = 0; i < n; i++) {
    if (change)
      snprintf (text, sizeof text, "%s %d", caption, i);
    else
      snprintf (text, sizeof text, "%s", caption);
    if (vlm_overlay_render (ov, text, f->width, f->height) != VLM_OVERLAY_OK
        || vlm_overlay_blend (ov, f, opacity) != VLM_OVERLAY_OK) {
      fprintf (stderr, "overlay failed: %s\n", vlm_overlay_last_error (ov));
      exit (1);
    }
  }
  return (now_ms () - t0) / n;
}

static void
bench (vlm_overlay *ov, vlm_overlay_format fmt, const char *name, int w,
    int h, int n)
{
  size_t size = vlm_overlay_frame_size (fmt, w, h);
  uint8_t *data = malloc (size);
  vlm_overlay_frame f;
  vlm_overlay_panel p;
  double same, fade, change;

  if (!data || vlm_overlay_frame_wrap (&f, fmt, w, h, data, size)) {
    fprintf (stderr, "cannot allocate a %dx%d frame\n", w, h);
    exit (1);
  }
  memset (data, 100, size);
  time_frames (ov, &f, 3, false, 1.0f);           /* warm-up */
  same = time_frames (ov, &f, n, false, 1.0f);
  fade = time_frames (ov, &f, n, false, 0.5f);
  change = time_frames (ov, &f, n / 4 > 0 ? n / 4 : 1, true, 1.0f);
  vlm_overlay_get_panel (ov, &p);
  printf ("%4dx%-4d %-5s panel %4dx%-3d %d lines  unchanged %7.3f ms  "
      "fading %7.3f ms  changing %7.3f ms\n", w, h, name, p.width, p.height,
      p.n_lines, same, fade, change);
  free (data);
}

int
main (int argc, char **argv)
{
  vlm_overlay_params params = vlm_overlay_params_default ();
  vlm_overlay_status status;
  vlm_overlay *ov;
  char err[256];
  int n = 400;

  for (int i = 1; i < argc; i++) {
    if (!strcmp (argv[i], "-n") && i + 1 < argc)
      n = atoi (argv[++i]);
    else if (!strcmp (argv[i], "-f") && i + 1 < argc)
      params.font = argv[++i];
    else {
      fprintf (stderr, "usage: %s [-n FRAMES] [-f FONT]\n", argv[0]);
      return 2;
    }
  }
  if (n < 1)
    n = 1;
  ov = vlm_overlay_new (params, &status, err, sizeof err);
  if (!ov) {
    fprintf (stderr, "vlm_overlay_new: %s\n", err);
    return 1;
  }
  printf ("font %s, %d frames per figure, render + blend per frame\n",
      vlm_overlay_font_path (ov), n);
  bench (ov, VLM_OVERLAY_FORMAT_RGBA, "RGBA", 1280, 720, n);
  bench (ov, VLM_OVERLAY_FORMAT_NV12, "NV12", 1280, 720, n);
  bench (ov, VLM_OVERLAY_FORMAT_RGBA, "RGBA", 1920, 1080, n);
  bench (ov, VLM_OVERLAY_FORMAT_NV12, "NV12", 1920, 1080, n);
  vlm_overlay_free (ov);
  return 0;
}

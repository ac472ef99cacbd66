/* gst-vlm — vlm-scanner's window under Xvfb: the app plays a clip made by
 * the test (a grey gradient) with the tiny model and saves a screenshot
 * after the first caption; the test checks the pixels: the video is there
 * (not uniform), the caption panel that vlmoverlay draws (opaque black
 * with yellow text, theme high-contrast) sits in the lower part of the
 * video, and the status strip below the video has yellow text on black.
 * Speech goes to SDL's "disk" audio driver: the test finds it there.
 *
 * The screenshot stays in the build dir: tests/scanner-screenshot.png.
 * Xvfb is started by the test on a display it picks (-displayfd).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <png.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include "scanner-test-util.h"
#include "xvfb-util.h"

#define WIN_W 1280
#define WIN_H 800

static char tmp_dir[4096];
static gchar *model, *mmproj, *clip, *shot;
static gchar *display;

/* ------------------------------------------------------------------ */
/* Xvfb                                                                */
/* ------------------------------------------------------------------ */

/* Starts Xvfb; DISPLAY=:N for the app's environment. */
static int
xvfb_start (void)
{
  char d[32];

  if (tu_xvfb_start (d, sizeof d) != 0)
    return -1;
  display = g_strdup_printf ("DISPLAY=%s", d);
  return 0;
}

/* ------------------------------------------------------------------ */
/* Fixtures                                                            */
/* ------------------------------------------------------------------ */

static int
group_setup (void **state)
{
  gchar *d = g_dir_make_tmp ("test-scanner-window-XXXXXX", NULL);
  const char *build = g_getenv ("VLM_BUILD_DIR");

  if (d == NULL)
    return -1;
  g_strlcpy (tmp_dir, d, sizeof tmp_dir);
  g_free (d);
  clip = g_build_filename (tmp_dir, "clip.webm", NULL);
  shot = g_build_filename (build ? build : ".", "tests",
      "scanner-screenshot.png", NULL);
  g_unlink (shot);
  if (st_make_model (tmp_dir, &model, &mmproj) != 0
      || st_make_clip (tmp_dir, clip, 100, 10, "gradient") != 0)
    return -1;
  return xvfb_start ();
}

static int
group_teardown (void **state)
{
  tu_xvfb_stop ();
  tu_tmpdir_remove (tmp_dir);
  g_free (model);
  g_free (mmproj);
  g_free (clip);
  g_free (shot);
  g_free (display);
  return 0;
}

/* ------------------------------------------------------------------ */
/* Pixels                                                              */
/* ------------------------------------------------------------------ */

typedef struct {
  int w, h;
  uint8_t *px;                  /* RGBA */
} Image;

static Image
load_png (const char *path)
{
  png_image img;
  Image out = { 0 };

  memset (&img, 0, sizeof img);
  img.version = PNG_IMAGE_VERSION;
  assert_true (png_image_begin_read_from_file (&img, path));
  img.format = PNG_FORMAT_RGBA;
  out.w = (int) img.width;
  out.h = (int) img.height;
  out.px = malloc (PNG_IMAGE_SIZE (img));
  assert_non_null (out.px);
  assert_true (png_image_finish_read (&img, NULL, out.px, 0, NULL));
  return out;
}

static const uint8_t *
at (const Image * im, int x, int y)
{
  return im->px + ((size_t) y * (size_t) im->w + (size_t) x) * 4;
}

static bool
is_black (const uint8_t * p)
{
  return p[0] < 40 && p[1] < 40 && p[2] < 40;
}

/* The yellow of the high-contrast theme (text on the black panel). */
static bool
is_yellow (const uint8_t * p)
{
  return p[0] > 180 && p[1] > 160 && p[2] < 100;
}

/* The grey rule between the video and the status strip: its row. */
static int
find_rule (const Image * im)
{
  for (int y = im->h - 1; y > 0; y--) {
    const uint8_t *p = at (im, 2, y);

    if (p[0] == 128 && p[1] == 128 && p[2] == 128)
      return y;
  }
  return -1;
}

/* The video's columns: non-black along its middle row. */
static void
find_video_columns (const Image * im, int mid_y, int *x0, int *x1)
{
  *x0 = -1;
  *x1 = -1;
  for (int x = 0; x < im->w; x++)
    if (!is_black (at (im, x, mid_y))) {
      if (*x0 < 0)
        *x0 = x;
      *x1 = x;
    }
}

/* Standard deviation of the luma in a rectangle. */
static double
luma_stddev (const Image * im, int x0, int y0, int x1, int y1)
{
  double sum = 0, sum2 = 0;
  long n = 0;

  for (int y = y0; y < y1; y++)
    for (int x = x0; x < x1; x++) {
      const uint8_t *p = at (im, x, y);
      double l = 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2];

      sum += l;
      sum2 += l * l;
      n++;
    }
  return n ? sqrt (sum2 / n - (sum / n) * (sum / n)) : 0.0;
}

/* Samples of a raw S16 file louder than 500. */
static int
loud_samples (const char *path)
{
  gchar *data = NULL;
  gsize len = 0;
  int n = 0;

  if (!g_file_get_contents (path, &data, &len, NULL))
    return 0;
  for (gsize i = 0; i + 1 < len; i += 2) {
    int16_t v = (int16_t) ((uint8_t) data[i] | ((uint8_t) data[i + 1] << 8));

    n += v > 500 || v < -500;
  }
  g_free (data);
  return n;
}

/* ------------------------------------------------------------------ */
/* The test                                                            */
/* ------------------------------------------------------------------ */

static void
test_screenshot_shows_video_caption_and_status (void **state)
{
  const char *argv[] = { st_scanner (), "--input", clip, "--model", model,
    "--mmproj", mmproj, "--set", "model.max-tokens=12", "--set",
    "describe.rate=2/1", "--screenshot", shot, "--quit-after-screenshot",
    NULL
  };
  /* speech on, into SDL's "disk" audio device: a file of S16 samples */
  gchar *audio = g_build_filename (tmp_dir, "audio.raw", NULL);
  gchar *audio_env = g_strdup_printf ("SDL_DISKAUDIOFILE=%s", audio);
  const char *env[] = { display, "SDL_AUDIODRIVER=disk", audio_env, NULL };
  StRun r = st_run (tmp_dir, argv, env);
  Image im;
  int rule, x0, x1, panel_rows = 0, yellow = 0, status_yellow = 0;

  if (r.status != 0)
    fprintf (stderr, "stdout:\n%s\nstderr:\n%s\n", r.out, r.err);
  assert_int_equal (r.status, 0);
  /* the first caption was printed too */
  assert_non_null (strstr (r.out, "] "));
  im = load_png (shot);
  assert_int_equal (im.w, WIN_W);
  assert_int_equal (im.h, WIN_H);

  rule = find_rule (&im);
  assert_true (rule > WIN_H / 2 && rule < WIN_H - 40);
  find_video_columns (&im, rule / 2, &x0, &x1);
  assert_true (x0 >= 0 && x1 - x0 > WIN_W / 3);

  /* the video: a gradient, far from uniform */
  assert_true (luma_stddev (&im, x0, 0, x1, rule) > 20.0);

  /* the caption panel: rows of the video's lower half mostly black (the
   * gradient is light there), with yellow text in them */
  for (int y = rule / 2; y < rule; y++) {
    int black = 0, yel = 0;

    for (int x = x0; x <= x1; x++) {
      black += is_black (at (&im, x, y));
      yel += is_yellow (at (&im, x, y));
    }
    if (black * 2 > x1 - x0) {
      panel_rows++;
      yellow += yel;
    }
  }
  assert_true (panel_rows >= 20);
  assert_true (yellow >= 50);

  /* the status strip: yellow text on black */
  for (int y = rule + 1; y < WIN_H; y++)
    for (int x = 0; x < WIN_W; x++)
      status_yellow += is_yellow (at (&im, x, y));
  assert_true (status_yellow >= 200);
  assert_true (is_black (at (&im, 2, WIN_H - 2)));

  /* and the announcements were spoken: audio that is not silence */
  assert_true (loud_samples (audio) >= 100);

  fprintf (stderr, "screenshot: %s\n", shot);
  free (im.px);
  st_run_clear (&r);
  g_free (audio);
  g_free (audio_env);
}

/* No display: a clear error, exit 1. */
static void
test_no_display_is_an_error (void **state)
{
  const char *argv[] = { st_scanner (), "--test-pattern", "--model", model,
    "--mmproj", mmproj, "--no-speech", NULL
  };
  const char *env[] = { "DISPLAY=:9999", "WAYLAND_DISPLAY=", NULL };
  StRun r = st_run (tmp_dir, argv, env);

  assert_int_equal (r.status, 1);
  assert_non_null (strstr (r.err, "vlm-scanner: "));
  st_run_clear (&r);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_screenshot_shows_video_caption_and_status),
    cmocka_unit_test (test_no_display_is_an_error),
  };

  return cmocka_run_group_tests (tests, group_setup, group_teardown);
}

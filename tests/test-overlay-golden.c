/* Golden-image tests of the caption overlay: a known caption on a known
 * frame in each pixel format must match the stored image in
 * tests/data/overlay/, and a caption drawn into I420 / NV12 must look like
 * the same caption drawn into RGBA (PSNR bound).
 *
 * Determinism: the font is the file of fonts-dejavu-core (not fontconfig's
 * choice), glyphs are unhinted, the background is computed.
 *
 * Tolerance: a golden image matches when at most 0.1 % of its samples
 * differ by more than 2 and the mean absolute difference is at most 0.25.
 * On the system that made them (Debian 12, FreeType 2.12.1, DejaVu 2.37)
 * the match is exact; the slack lets a FreeType or font update move a few
 * anti-aliased edge pixels, while a wrong glyph, colour, line break or
 * position changes far more than 0.1 % of the samples.
 *
 * VLM_OVERLAY_REGEN=1 rewrites the golden images (look at them first);
 * every run also leaves its images, with RGB previews of the YUV ones, in
 * $VLM_BUILD_DIR/overlay-golden-out/.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <png.h>

#include "overlay-util.h"

/* Golden tolerance (see above). */
#define MAX_BIG_FRACTION 0.001
#define BIG_DIFF 2
#define MAX_MEAN_DIFF 0.25

/* YUV vs RGBA: PSNR bounds in dB (see compare_yuv_rgba). Measured on the
 * three themes: vs the RGBA result 24.5..38.4 (panel, RGB; yellow on
 * black is the worst: 4:2:0 cannot hold its chroma edges), luma
 * 37.0..49.1; vs the RGBA result through 4:2:0, 49.8..70.6. */
#define MIN_PSNR_YUV_VS_RGBA 22.0
#define MIN_PSNR_YUV_VS_IDEAL 45.0
#define MIN_PSNR_LUMA 35.0

static const char caption[] = "A person in a red jacket crosses the "
    "street near a bus stop; caf\xc3\xa9, na\xc3\xafve, 12 \xe2\x82\xac "
    "\xe2\x9c\x93 \xe4\xb8\xad";

typedef struct {
  const char *name;
  vlm_overlay_format format;
  int w, h;
  vlm_overlay_theme theme;
  vlm_overlay_effect effect;
  vlm_overlay_position position;
} golden_case;

static const golden_case cases[] = {
  { "rgba", VLM_OVERLAY_FORMAT_RGBA, 240, 135, VLM_OVERLAY_THEME_DARK,
    VLM_OVERLAY_EFFECT_OUTLINE, VLM_OVERLAY_POSITION_BOTTOM },
  { "bgra", VLM_OVERLAY_FORMAT_BGRA, 240, 135,
    VLM_OVERLAY_THEME_HIGH_CONTRAST, VLM_OVERLAY_EFFECT_NONE,
    VLM_OVERLAY_POSITION_TOP },
  { "rgbx", VLM_OVERLAY_FORMAT_RGBx, 240, 135, VLM_OVERLAY_THEME_LIGHT,
    VLM_OVERLAY_EFFECT_SHADOW, VLM_OVERLAY_POSITION_CENTER },
  { "bgrx", VLM_OVERLAY_FORMAT_BGRx, 240, 135, VLM_OVERLAY_THEME_CLEAR,
    VLM_OVERLAY_EFFECT_OUTLINE, VLM_OVERLAY_POSITION_BOTTOM },
  { "rgb", VLM_OVERLAY_FORMAT_RGB, 241, 135, VLM_OVERLAY_THEME_DARK,
    VLM_OVERLAY_EFFECT_SHADOW, VLM_OVERLAY_POSITION_BOTTOM },
  { "i420", VLM_OVERLAY_FORMAT_I420, 241, 137,
    VLM_OVERLAY_THEME_HIGH_CONTRAST, VLM_OVERLAY_EFFECT_OUTLINE,
    VLM_OVERLAY_POSITION_BOTTOM },
  { "nv12", VLM_OVERLAY_FORMAT_NV12, 239, 137, VLM_OVERLAY_THEME_DARK,
    VLM_OVERLAY_EFFECT_OUTLINE, VLM_OVERLAY_POSITION_CENTER },
};

/* ------------------------------------------------------------------ */
/* Files                                                               */
/* ------------------------------------------------------------------ */

static void
path_in (char *buf, size_t size, const char *env, const char *fallback,
    const char *sub, const char *file)
{
  const char *root = getenv (env);
  snprintf (buf, size, "%s/%s", root ? root : fallback, sub);
  mkdir (buf, 0755);
  snprintf (buf, size, "%s/%s/%s", root ? root : fallback, sub, file);
}

static void
write_png (const char *path, const uint8_t *pixels, int w, int h,
    int channels)
{
  png_image p;

  memset (&p, 0, sizeof p);
  p.version = PNG_IMAGE_VERSION;
  p.width = (png_uint_32) w;
  p.height = (png_uint_32) h;
  p.format = channels == 1 ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB;
  if (!png_image_write_to_file (&p, path, 0, pixels, 0, NULL))
    fail_msg ("cannot write %s: %s", path, p.message);
}

/* Reads a PNG as `channels` channels of w x h; NULL if missing. */
static uint8_t *
read_png (const char *path, int w, int h, int channels)
{
  png_image p;
  uint8_t *pixels;

  memset (&p, 0, sizeof p);
  p.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_file (&p, path))
    return NULL;
  p.format = channels == 1 ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB;
  if ((int) p.width != w || (int) p.height != h) {
    png_image_free (&p);
    fail_msg ("%s is %ux%u, want %dx%d", path, p.width, p.height, w, h);
  }
  pixels = malloc (PNG_IMAGE_SIZE (p));
  if (!png_image_finish_read (&p, NULL, pixels, 0, NULL))
    fail_msg ("cannot read %s: %s", path, p.message);
  return pixels;
}

/* ------------------------------------------------------------------ */
/* Frames as images                                                    */
/* ------------------------------------------------------------------ */

/* The stored image of a frame: RGB for packed formats; for YUV the raw
 * planes as grey, Y on top (padded to an even width), then U | V (I420)
 * or the interleaved UV rows (NV12). Sets *iw, *ih, *channels. */
static uint8_t *
frame_image (const vlm_overlay_frame *f, int *iw, int *ih, int *channels)
{
  int cw = (f->width + 1) / 2, ch = (f->height + 1) / 2;
  uint8_t *img;

  if (!is_yuv (f->format)) {
    *iw = f->width;
    *ih = f->height;
    *channels = 3;
    img = malloc ((size_t) f->width * f->height * 3);
    frame_to_rgb (f, img);
    return img;
  }
  *iw = 2 * cw;
  *ih = f->height + ch;
  *channels = 1;
  img = calloc ((size_t) *iw * *ih, 1);
  for (int y = 0; y < f->height; y++)
    memcpy (img + (size_t) y * *iw, yuv_at (f, 0, 0, y), f->width);
  for (int y = 0; y < ch; y++)
    for (int x = 0; x < cw; x++) {
      uint8_t *row = img + (size_t) (f->height + y) * *iw;
      if (f->format == VLM_OVERLAY_FORMAT_NV12) {
        row[2 * x] = *yuv_at (f, 1, x, y);
        row[2 * x + 1] = *yuv_at (f, 2, x, y);
      } else {
        row[x] = *yuv_at (f, 1, x, y);
        row[cw + x] = *yuv_at (f, 2, x, y);
      }
    }
  return img;
}

/* ------------------------------------------------------------------ */
/* Drawing                                                             */
/* ------------------------------------------------------------------ */

static vlm_overlay *
new_overlay (vlm_overlay_theme theme, vlm_overlay_effect effect,
    vlm_overlay_position position, double font_size)
{
  vlm_overlay_params p = vlm_overlay_params_default ();
  char err[256];
  vlm_overlay *ov;

  p.font = TEST_FONT;
  p.font_size = font_size;
  p.theme = theme;
  p.effect = effect;
  p.position = position;
  ov = vlm_overlay_new (p, NULL, err, sizeof err);
  if (!ov)
    fail_msg ("vlm_overlay_new: %s", err);
  return ov;
}

/* Draws `text` on the pattern in a fresh frame. */
static void
draw_frame (test_frame *t, vlm_overlay *ov, vlm_overlay_format fmt, int w,
    int h, const char *text)
{
  uint8_t *rgb = malloc ((size_t) w * h * 3);

  test_frame_init (t, fmt, w, h);
  fill_pattern (rgb, w, h);
  frame_from_rgb (&t->f, rgb);
  free (rgb);
  assert_int_equal (vlm_overlay_draw (ov, text, &t->f, 1.0f),
      VLM_OVERLAY_OK);
  assert_true (test_frame_guards_ok (t));
}

/* ------------------------------------------------------------------ */
/* Golden images                                                       */
/* ------------------------------------------------------------------ */

/* Compares with the tolerance above; prints the figures. */
static void
compare_golden (const char *name, const uint8_t *got, const uint8_t *want,
    size_t n)
{
  size_t big = 0;
  int max = 0;
  double sum = 0;

  for (size_t i = 0; i < n; i++) {
    int d = abs ((int) got[i] - (int) want[i]);
    big += d > BIG_DIFF;
    max = d > max ? d : max;
    sum += d;
  }
  printf ("  %-5s %zu samples: max diff %d, %zu over %d, mean %.4f\n",
      name, n, max, big, BIG_DIFF, sum / n);
  assert_true ((double) big <= MAX_BIG_FRACTION * n);
  assert_true (sum / n <= MAX_MEAN_DIFF);
}

static void
run_golden (const golden_case *c)
{
  vlm_overlay *ov = new_overlay (c->theme, c->effect, c->position, 0.12);
  char out[1024], gold[1024], file[64];
  int iw, ih, channels;
  test_frame t;
  uint8_t *img, *want;

  draw_frame (&t, ov, c->format, c->w, c->h, caption);
  img = frame_image (&t.f, &iw, &ih, &channels);

  snprintf (file, sizeof file, "%s.png", c->name);
  path_in (out, sizeof out, "VLM_BUILD_DIR", "/tmp", "overlay-golden-out",
      file);
  write_png (out, img, iw, ih, channels);
  if (is_yuv (c->format)) {
    uint8_t *rgb = malloc ((size_t) c->w * c->h * 3);
    frame_to_rgb (&t.f, rgb);
    snprintf (file, sizeof file, "%s-preview.png", c->name);
    path_in (out, sizeof out, "VLM_BUILD_DIR", "/tmp", "overlay-golden-out",
        file);
    write_png (out, rgb, c->w, c->h, 3);
    free (rgb);
  }

  snprintf (file, sizeof file, "%s.png", c->name);
  path_in (gold, sizeof gold, "VLM_TEST_DATA", "tests/data", "overlay",
      file);
  if (getenv ("VLM_OVERLAY_REGEN"))
    write_png (gold, img, iw, ih, channels);
  want = read_png (gold, iw, ih, channels);
  if (!want)
    fail_msg ("golden image %s missing", gold);
  compare_golden (c->name, img, want, (size_t) iw * ih * channels);

  free (want);
  free (img);
  test_frame_free (&t);
  vlm_overlay_free (ov);
}

static void
test_golden_images (void **state)
{
  if (access (TEST_FONT, R_OK) != 0)
    skip ();
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    run_golden (&cases[i]);
}

/* ------------------------------------------------------------------ */
/* YUV looks like RGBA                                                 */
/* ------------------------------------------------------------------ */

/* The same caption into RGBA and into a YUV frame, both read back as RGB:
 * PSNR over the panel's rectangle and over the frame. 4:2:0 itself loses
 * colour detail at glyph edges (worst for yellow on black), so the YUV
 * result is also compared with the RGBA result sent through the reference
 * 4:2:0 conversion: that is what a perfect YUV blend would give. */
static void
compare_yuv_rgba (vlm_overlay_theme theme, vlm_overlay_format fmt, int w,
    int h)
{
  vlm_overlay *ov = new_overlay (theme, VLM_OVERLAY_EFFECT_OUTLINE,
      VLM_OVERLAY_POSITION_BOTTOM, 0.08);
  size_t n = (size_t) w * h * 3;
  uint8_t *a = malloc (n), *b = malloc (n), *c = malloc (n);
  test_frame t, ref;
  vlm_overlay_panel p;
  double panel_db, frame_db, luma_db, ideal_db, ideal_frame_db;

  draw_frame (&t, ov, VLM_OVERLAY_FORMAT_RGBA, w, h, caption);
  frame_to_rgb (&t.f, a);
  test_frame_free (&t);
  draw_frame (&t, ov, fmt, w, h, caption);
  frame_to_rgb (&t.f, b);
  vlm_overlay_get_panel (ov, &p);
  panel_db = psnr_rect (a, b, w, h, p.x, p.y, p.width, p.height);
  frame_db = psnr_rect (a, b, w, h, 0, 0, w, h);
  luma_db = psnr_luma_rect (a, b, w, h, p.x, p.y, p.width, p.height);

  /* the RGBA result through the reference 4:2:0 conversion */
  test_frame_init (&ref, fmt, w, h);
  frame_from_rgb (&ref.f, a);
  frame_to_rgb (&ref.f, c);
  ideal_db = psnr_rect (c, b, w, h, p.x, p.y, p.width, p.height);
  ideal_frame_db = psnr_rect (c, b, w, h, 0, 0, w, h);
  printf ("  %s theme %d %dx%d: vs RGBA panel %.2f dB (luma %.2f dB), "
      "frame %.2f dB; vs RGBA->4:2:0 panel %.2f dB, frame %.2f dB\n",
      fmt == VLM_OVERLAY_FORMAT_I420 ? "I420" : "NV12", (int) theme, w, h,
      panel_db, luma_db, frame_db, ideal_db, ideal_frame_db);
  assert_true (panel_db >= MIN_PSNR_YUV_VS_RGBA);
  assert_true (luma_db >= MIN_PSNR_LUMA);
  assert_true (frame_db >= MIN_PSNR_YUV_VS_RGBA);
  assert_true (ideal_db >= MIN_PSNR_YUV_VS_IDEAL);
  assert_true (ideal_frame_db >= MIN_PSNR_YUV_VS_IDEAL);

  test_frame_free (&ref);
  test_frame_free (&t);
  free (a);
  free (b);
  free (c);
  vlm_overlay_free (ov);
}

static void
test_yuv_matches_rgba (void **state)
{
  const vlm_overlay_theme themes[] = { VLM_OVERLAY_THEME_DARK,
    VLM_OVERLAY_THEME_HIGH_CONTRAST, VLM_OVERLAY_THEME_LIGHT };

  if (access (TEST_FONT, R_OK) != 0)
    skip ();
  for (size_t i = 0; i < 3; i++) {
    compare_yuv_rgba (themes[i], VLM_OVERLAY_FORMAT_I420, 320, 180);
    compare_yuv_rgba (themes[i], VLM_OVERLAY_FORMAT_NV12, 321, 181);
  }
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_golden_images),
    cmocka_unit_test (test_yuv_matches_rgba),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}

/* Tests of the caption overlay library (overlay/): UTF-8 decoding,
 * layout and wrapping, the render cache, blending arithmetic in every
 * format, clipping, robustness against hostile text and tiny frames. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "overlay-private.h"
#include "overlay-util.h"

static const char sample[] = "A person crossing the street with a dog.";

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

static vlm_overlay_params
test_params (void)
{
  vlm_overlay_params p = vlm_overlay_params_default ();
  p.font = TEST_FONT;
  return p;
}

static vlm_overlay *
new_overlay (vlm_overlay_params p)
{
  char err[256];
  vlm_overlay_status s;
  vlm_overlay *ov = vlm_overlay_new (p, &s, err, sizeof err);
  if (!ov)
    fail_msg ("vlm_overlay_new: %s", err);
  assert_int_equal (s, VLM_OVERLAY_OK);
  return ov;
}

/* Decodes s (with its length) and compares with the expected code points. */
static void
check_decode (const char *s, size_t n, const uint32_t *want, size_t n_want)
{
  uint32_t out[64];
  size_t k;

  assert_true (n <= 64);
  k = ov_utf8_decode (s, n, out);
  assert_int_equal (k, n_want);
  for (size_t i = 0; i < k; i++)
    assert_int_equal (out[i], want[i]);
}

static const vlm_overlay_format all_formats[] = {
  VLM_OVERLAY_FORMAT_RGBA, VLM_OVERLAY_FORMAT_BGRA, VLM_OVERLAY_FORMAT_RGBx,
  VLM_OVERLAY_FORMAT_BGRx, VLM_OVERLAY_FORMAT_RGB, VLM_OVERLAY_FORMAT_I420,
  VLM_OVERLAY_FORMAT_NV12,
};
#define N_FORMATS (sizeof all_formats / sizeof all_formats[0])

/* A frame of format fmt holding the background pattern. */
static void
pattern_frame (test_frame *t, vlm_overlay_format fmt, int w, int h)
{
  uint8_t *rgb = malloc ((size_t) w * h * 3);
  test_frame_init (t, fmt, w, h);
  fill_pattern (rgb, w, h);
  frame_from_rgb (&t->f, rgb);
  free (rgb);
}

/* ------------------------------------------------------------------ */
/* UTF-8                                                               */
/* ------------------------------------------------------------------ */

static void
test_utf8_valid (void **state)
{
  const uint32_t want[] = { 'a', 0xe9, 0x20ac, 0x1f600, 'z' };
  check_decode ("a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80z", 11, want, 5);
}

static void
test_utf8_invalid (void **state)
{
  const uint32_t fffd = OV_CP_REPLACEMENT;
  const uint32_t bad_lead[] = { fffd, '(' };
  const uint32_t truncated[] = { fffd };
  const uint32_t cut4[] = { fffd, 'A' };
  const uint32_t overlong[] = { fffd, fffd };
  const uint32_t surrogate[] = { fffd, fffd, fffd };
  const uint32_t stray[] = { 'a', fffd, fffd, 'b' };
  const uint32_t above[] = { fffd, fffd, fffd, fffd };

  check_decode ("\xc3\x28", 2, bad_lead, 2);
  check_decode ("\xe2\x82", 2, truncated, 1);
  check_decode ("\xf0\x9f\x98" "A", 4, cut4, 2);
  check_decode ("\xc0\xaf", 2, overlong, 2);
  check_decode ("\xed\xa0\x80", 3, surrogate, 3);
  check_decode ("a\x80\xbf" "b", 4, stray, 4);
  check_decode ("\xf4\x90\x80\x80", 4, above, 4);
}

static void
test_utf8_controls (void **state)
{
  /* \n kept, \t a space, \r BEL DEL C1 ZWSP VS16 BOM dropped, U+2028 \n */
  const uint32_t want[] = { 'a', '\n', 'b', ' ', 'c', 'd', '\n', 'e' };
  const char s[] = "a\nb\tc\r\a\x7f\xc2\x85\xe2\x80\x8b\xef\xb8\x8f"
      "\xef\xbb\xbf" "d\xe2\x80\xa8" "e";
  check_decode (s, sizeof s - 1, want, 8);
}

static void
test_utf8_tail (void **state)
{
  const char s[] = "ab\xe2\x82\xac" "cd";   /* a b EUR c d: 7 bytes */

  assert_int_equal (ov_utf8_tail (s, 7, 10), 0);
  assert_int_equal (ov_utf8_tail (s, 7, 5), 2);     /* at the EUR lead */
  assert_int_equal (ov_utf8_tail (s, 7, 4), 5);     /* skips its tail */
  assert_int_equal (ov_utf8_tail (s, 7, 3), 5);
}

/* ------------------------------------------------------------------ */
/* Parameters and construction                                         */
/* ------------------------------------------------------------------ */

static void
test_params_validation (void **state)
{
  vlm_overlay_params p;
  vlm_overlay_status s = VLM_OVERLAY_OK;
  char err[256] = "";

  p = test_params ();
  p.font_size = 0;
  assert_null (vlm_overlay_new (p, &s, err, sizeof err));
  assert_int_equal (s, VLM_OVERLAY_ERR_INVALID_ARG);
  assert_non_null (strstr (err, "font_size"));

  p = test_params ();
  p.font_size = NAN;
  assert_null (vlm_overlay_new (p, &s, NULL, 0));
  p = test_params ();
  p.max_lines = 0;
  assert_null (vlm_overlay_new (p, &s, NULL, 0));
  p.max_lines = 65;
  assert_null (vlm_overlay_new (p, &s, NULL, 0));
  p = test_params ();
  p.theme = VLM_OVERLAY_N_THEMES;
  assert_null (vlm_overlay_new (p, &s, NULL, 0));
  p = test_params ();
  p.margin = -0.1;
  assert_null (vlm_overlay_new (p, &s, NULL, 0));
  assert_int_equal (s, VLM_OVERLAY_ERR_INVALID_ARG);
}

static void
test_font_resolution (void **state)
{
  vlm_overlay_params p = vlm_overlay_params_default ();
  vlm_overlay_status s;
  vlm_overlay *ov;
  const char *path;

  /* default: DejaVu Sans found by fontconfig */
  ov = new_overlay (p);
  path = vlm_overlay_font_path (ov);
  assert_non_null (strstr (path, "DejaVuSans"));
  assert_string_equal (vlm_overlay_get_params (ov).font ?
      vlm_overlay_get_params (ov).font : "", "");

  /* a family name, then a bad file: the old font stays */
  p.font = "DejaVu Serif";
  assert_int_equal (vlm_overlay_set_params (ov, p), VLM_OVERLAY_OK);
  assert_non_null (strstr (vlm_overlay_font_path (ov), "DejaVuSerif"));
  p.font = "/nonexistent/font.ttf";
  assert_int_equal (vlm_overlay_set_params (ov, p), VLM_OVERLAY_ERR_FONT);
  assert_non_null (strstr (vlm_overlay_last_error (ov), "nonexistent"));
  assert_non_null (strstr (vlm_overlay_font_path (ov), "DejaVuSerif"));
  assert_string_equal (vlm_overlay_get_params (ov).font, "DejaVu Serif");
  vlm_overlay_free (ov);

  /* a file that is not a font */
  p.font = "/etc/hostname";
  assert_null (vlm_overlay_new (p, &s, NULL, 0));
  assert_int_equal (s, VLM_OVERLAY_ERR_FONT);
  vlm_overlay_free (NULL);
}

static void
test_status_strings (void **state)
{
  assert_string_equal (vlm_overlay_status_str (VLM_OVERLAY_OK), "ok");
  assert_string_equal (vlm_overlay_status_str (VLM_OVERLAY_ERR_FONT),
      "font error");
  assert_string_equal (vlm_overlay_status_str ((vlm_overlay_status) 42),
      "unknown status");
}

/* ------------------------------------------------------------------ */
/* Layout                                                              */
/* ------------------------------------------------------------------ */

/* A font at 20 px for layout tests. */
static void
open_font (ov_font *f)
{
  char err[256];
  assert_int_equal (ov_font_open (f, TEST_FONT, err, sizeof err),
      VLM_OVERLAY_OK);
  assert_int_equal (ov_font_set_size (f, 20, 0), VLM_OVERLAY_OK);
}

/* Text of line k of a layout, ASCII only, into buf. */
static const char *
line_text (const ov_layout *l, int k, char *buf, size_t size)
{
  size_t n = 0;
  for (int i = l->lines[k].start; i < l->lines[k].end && n + 1 < size; i++)
    buf[n++] = (char) l->items[i].cp;
  buf[n] = 0;
  return buf;
}

static void
test_wrap_words (void **state)
{
  ov_font f;
  ov_layout l = { 0 };
  char buf[64];
  const char *text = "  aaa bbb   ccc\n\nddd  ";
  int32_t aaa_bbb;

  open_font (&f);
  /* measure "aaa bbb" alone, then wrap to exactly that width */
  assert_int_equal (ov_layout_build (&l, &f, "aaa bbb", 7, 1 << 30),
      VLM_OVERLAY_OK);
  aaa_bbb = l.lines[0].width_26;
  assert_int_equal (ov_layout_build (&l, &f, text, strlen (text), aaa_bbb),
      VLM_OVERLAY_OK);
  assert_int_equal (l.n_lines, 4);
  assert_string_equal (line_text (&l, 0, buf, sizeof buf), "aaa bbb");
  assert_string_equal (line_text (&l, 1, buf, sizeof buf), "ccc");
  assert_string_equal (line_text (&l, 2, buf, sizeof buf), "");
  assert_string_equal (line_text (&l, 3, buf, sizeof buf), "ddd");
  for (size_t k = 0; k < l.n_lines; k++)
    assert_true (l.lines[k].width_26 <= aaa_bbb);

  /* one pixel less: "bbb" moves down */
  assert_int_equal (ov_layout_build (&l, &f, text, strlen (text),
          aaa_bbb - 64), VLM_OVERLAY_OK);
  assert_string_equal (line_text (&l, 0, buf, sizeof buf), "aaa");
  assert_string_equal (line_text (&l, 1, buf, sizeof buf), "bbb");

  /* blank text: no lines */
  assert_int_equal (ov_layout_build (&l, &f, " \t\n \n", 5, 1000),
      VLM_OVERLAY_OK);
  assert_int_equal (l.n_lines, 0);
  ov_layout_free (&l);
  ov_font_close (&f);
}

static void
test_wrap_long_word_and_marks (void **state)
{
  ov_font f;
  ov_layout l = { 0 };
  /* "e" + combining acute, ten times, no spaces */
  char text[64] = "";

  for (int i = 0; i < 10; i++)
    strcat (text, "e\xcc\x81");
  open_font (&f);
  assert_int_equal (ov_layout_build (&l, &f, text, strlen (text), 3 * 64 *
          12), VLM_OVERLAY_OK);
  assert_true (l.n_lines >= 3);
  for (size_t k = 0; k < l.n_lines; k++) {
    assert_true (l.lines[k].end > l.lines[k].start);
    /* a line never starts with the mark: it stays with its base */
    assert_int_equal (l.items[l.lines[k].start].cp, 'e');
    assert_int_not_equal (l.items[l.lines[k].start].kind, OV_ITEM_MARK);
    assert_true (l.lines[k].width_26 <= 3 * 64 * 12);
  }
  assert_int_equal (l.items[1].kind, OV_ITEM_MARK);

  /* narrower than one glyph: still one glyph per line, no endless loop */
  assert_int_equal (ov_layout_build (&l, &f, "abc", 3, 1), VLM_OVERLAY_OK);
  assert_int_equal (l.n_lines, 3);
  ov_layout_free (&l);
  ov_font_close (&f);
}

static void
test_missing_glyph_and_kerning (void **state)
{
  ov_font f;
  const ov_glyph *g;
  uint32_t fffd_index;

  open_font (&f);
  fffd_index = FT_Get_Char_Index (f.face, OV_CP_REPLACEMENT);
  assert_int_not_equal (fffd_index, 0);
  g = ov_font_glyph (&f, 0x4e2d);               /* CJK: not in DejaVu */
  assert_non_null (g);
  assert_int_equal (g->index, fffd_index);
  assert_true (g->advance_26 > 0);
  assert_non_null (g->fill.buf);
  /* kerning: at most a fraction of an em either way, 0 for index 0 */
  assert_int_equal (ov_font_kerning (&f, 0, 5), 0);
  assert_true (abs (ov_font_kerning (&f, FT_Get_Char_Index (f.face, 'A'),
              FT_Get_Char_Index (f.face, 'V'))) < 20 * 64 / 2);
  ov_font_close (&f);
}

/* ------------------------------------------------------------------ */
/* Render cache and panel                                              */
/* ------------------------------------------------------------------ */

static void
test_render_cache (void **state)
{
  vlm_overlay *ov = new_overlay (test_params ());
  vlm_overlay_params p = test_params ();
  vlm_overlay_panel a, b;

  vlm_overlay_get_panel (ov, &a);
  assert_int_equal (a.width, 0);
  assert_int_equal (vlm_overlay_render (ov, sample, 640, 360),
      VLM_OVERLAY_OK);
  vlm_overlay_get_panel (ov, &a);
  assert_true (a.width > 0 && a.height > 0);
  assert_int_equal (a.font_px, 18);             /* 0.05 * 360 */

  /* same text, same size: the same panel */
  assert_int_equal (vlm_overlay_render (ov, sample, 640, 360),
      VLM_OVERLAY_OK);
  vlm_overlay_get_panel (ov, &b);
  assert_int_equal (a.serial, b.serial);
  /* other text, size or parameters: rendered again */
  vlm_overlay_render (ov, "Something else.", 640, 360);
  vlm_overlay_get_panel (ov, &b);
  assert_true (b.serial != a.serial);
  a = b;
  vlm_overlay_render (ov, "Something else.", 640, 480);
  vlm_overlay_get_panel (ov, &b);
  assert_true (b.serial != a.serial);
  a = b;
  p.theme = VLM_OVERLAY_THEME_HIGH_CONTRAST;
  assert_int_equal (vlm_overlay_set_params (ov, p), VLM_OVERLAY_OK);
  vlm_overlay_render (ov, "Something else.", 640, 480);
  vlm_overlay_get_panel (ov, &b);
  assert_true (b.serial != a.serial);

  /* bad sizes */
  assert_int_equal (vlm_overlay_render (ov, sample, 0, 10),
      VLM_OVERLAY_ERR_INVALID_ARG);
  assert_int_equal (vlm_overlay_render (ov, sample, 10, 20000),
      VLM_OVERLAY_ERR_INVALID_ARG);
  assert_int_equal (vlm_overlay_render (NULL, sample, 10, 10),
      VLM_OVERLAY_ERR_INVALID_ARG);
  vlm_overlay_free (ov);
}

static void
test_panel_geometry (void **state)
{
  vlm_overlay_params p = test_params ();
  vlm_overlay *ov;
  vlm_overlay_panel a;
  const int W = 640, H = 360, margin = 11;      /* 0.03 * 360 */

  p.max_lines = 3;
  ov = new_overlay (p);
  vlm_overlay_render (ov, sample, W, H);
  vlm_overlay_get_panel (ov, &a);
  assert_int_equal (a.n_lines, 1);
  assert_int_equal (a.x, (W - a.width) / 2);
  assert_int_equal (a.y + a.height, H - margin);

  p.position = VLM_OVERLAY_POSITION_TOP;
  vlm_overlay_set_params (ov, p);
  vlm_overlay_render (ov, sample, W, H);
  vlm_overlay_get_panel (ov, &a);
  assert_int_equal (a.y, margin);

  p.position = VLM_OVERLAY_POSITION_CENTER;
  vlm_overlay_set_params (ov, p);
  vlm_overlay_render (ov, sample, W, H);
  vlm_overlay_get_panel (ov, &a);
  assert_int_equal (a.y, (H - a.height) / 2);

  /* premultiplied: no colour above alpha; corners transparent */
  for (int i = 0; i < a.width * a.height; i++)
    for (int c = 0; c < 3; c++)
      assert_true (a.rgba[4 * i + c] <= a.rgba[4 * i + 3]);
  assert_int_equal (a.rgba[3], 0);
  vlm_overlay_free (ov);
}

static void
test_max_lines_keeps_newest (void **state)
{
  vlm_overlay_params p = test_params ();
  vlm_overlay *ov, *ov2;
  vlm_overlay_panel a, b;

  p.max_lines = 2;
  ov = new_overlay (p);
  ov2 = new_overlay (p);
  vlm_overlay_render (ov, "first line\nsecond line\nthird\nfourth, newest",
      640, 360);
  vlm_overlay_render (ov2, "third\nfourth, newest", 640, 360);
  vlm_overlay_get_panel (ov, &a);
  vlm_overlay_get_panel (ov2, &b);
  assert_int_equal (a.n_lines, 2);
  assert_int_equal (a.n_lines_total, 4);
  assert_int_equal (a.width, b.width);
  assert_int_equal (a.height, b.height);
  assert_memory_equal (a.rgba, b.rgba, (size_t) a.stride * a.height);
  vlm_overlay_free (ov);
  vlm_overlay_free (ov2);
}

static void
test_high_contrast_colours (void **state)
{
  vlm_overlay_params p = test_params ();
  vlm_overlay *ov;
  vlm_overlay_panel a;
  int yellow = 0, other = 0;

  p.theme = VLM_OVERLAY_THEME_HIGH_CONTRAST;
  p.corner_radius = 0;
  ov = new_overlay (p);
  vlm_overlay_render (ov, "HIGH CONTRAST", 1280, 720);
  vlm_overlay_get_panel (ov, &a);
  for (int i = 0; i < a.width * a.height; i++) {
    const uint8_t *px = a.rgba + 4 * i;
    assert_int_equal (px[3], 255);              /* opaque everywhere */
    assert_int_equal (px[0], px[1]);            /* yellow or black shades */
    assert_int_equal (px[2], 0);
    if (px[0] == 255)
      yellow++;
    else if (px[0] != 0)
      other++;
  }
  assert_true (yellow > 200);
  assert_true (other < yellow);                 /* anti-aliased edges */
  vlm_overlay_free (ov);
}

/* ------------------------------------------------------------------ */
/* Blending                                                            */
/* ------------------------------------------------------------------ */

/* The RGBA blend equals  panel + frame * (255 - alpha) / 255  exactly,
 * and nothing outside the panel's rectangle changes. */
static void
test_blend_rgba_exact (void **state)
{
  vlm_overlay *ov = new_overlay (test_params ());
  test_frame before, t;
  vlm_overlay_panel p;
  const int W = 320, H = 180;

  pattern_frame (&before, VLM_OVERLAY_FORMAT_RGBA, W, H);
  pattern_frame (&t, VLM_OVERLAY_FORMAT_RGBA, W, H);
  assert_int_equal (vlm_overlay_draw (ov, sample, &t.f, 1.0f),
      VLM_OVERLAY_OK);
  vlm_overlay_get_panel (ov, &p);
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++) {
      const uint8_t *d = t.f.data[0] + (size_t) y * t.f.stride[0] + 4 * x;
      const uint8_t *o = before.f.data[0] + (size_t) y * t.f.stride[0] +
          4 * x;
      int px = x - p.x, py = y - p.y;
      if (px < 0 || py < 0 || px >= p.width || py >= p.height) {
        assert_memory_equal (d, o, 4);
        continue;
      }
      const uint8_t *s = p.rgba + (size_t) py * p.stride + 4 * px;
      for (int c = 0; c < 4; c++)
        assert_int_equal (d[c], s[c] + (o[c] * (255 - s[3]) + 127) / 255);
    }
  assert_true (test_frame_guards_ok (&t));
  test_frame_free (&before);
  test_frame_free (&t);
  vlm_overlay_free (ov);
}

/* Every packed format gives the same colours as RGBA; I420 and NV12 the
 * same planes. */
static void
test_blend_formats_agree (void **state)
{
  vlm_overlay *ov = new_overlay (test_params ());
  const int W = 161, H = 91;
  uint8_t *ref = malloc ((size_t) W * H * 3), *rgb = malloc ((size_t) W * H
      * 3);
  test_frame t, i420, nv12;

  pattern_frame (&t, VLM_OVERLAY_FORMAT_RGBA, W, H);
  assert_int_equal (vlm_overlay_draw (ov, sample, &t.f, 0.8f),
      VLM_OVERLAY_OK);
  frame_to_rgb (&t.f, ref);
  test_frame_free (&t);
  for (size_t k = 1; k < 5; k++) {
    pattern_frame (&t, all_formats[k], W, H);
    assert_int_equal (vlm_overlay_draw (ov, sample, &t.f, 0.8f),
        VLM_OVERLAY_OK);
    frame_to_rgb (&t.f, rgb);
    assert_memory_equal (rgb, ref, (size_t) W * H * 3);
    assert_true (test_frame_guards_ok (&t));
    test_frame_free (&t);
  }

  pattern_frame (&i420, VLM_OVERLAY_FORMAT_I420, W, H);
  pattern_frame (&nv12, VLM_OVERLAY_FORMAT_NV12, W, H);
  vlm_overlay_draw (ov, sample, &i420.f, 0.8f);
  vlm_overlay_draw (ov, sample, &nv12.f, 0.8f);
  frame_to_rgb (&i420.f, ref);
  frame_to_rgb (&nv12.f, rgb);
  assert_memory_equal (rgb, ref, (size_t) W * H * 3);
  assert_true (test_frame_guards_ok (&i420) && test_frame_guards_ok (&nv12));
  test_frame_free (&i420);
  test_frame_free (&nv12);
  free (ref);
  free (rgb);
  vlm_overlay_free (ov);
}

/* YUV blending touches only the luma of the panel's rectangle and the
 * chroma blocks it overlaps. */
static void
test_blend_yuv_rectangle (void **state)
{
  vlm_overlay *ov = new_overlay (test_params ());
  vlm_overlay_panel p;
  test_frame before, t;
  const int W = 203, H = 117;

  for (int fmt = VLM_OVERLAY_FORMAT_I420; fmt <= VLM_OVERLAY_FORMAT_NV12;
      fmt++) {
    pattern_frame (&before, fmt, W, H);
    pattern_frame (&t, fmt, W, H);
    vlm_overlay_render (ov, sample, W, H);
    vlm_overlay_get_panel (ov, &p);
    /* an odd position: blocks half covered on every side */
    assert_int_equal (vlm_overlay_blend_at (ov, &t.f, 7, 9, 1.0f),
        VLM_OVERLAY_OK);
    for (int y = 0; y < H; y++)
      for (int x = 0; x < W; x++) {
        bool in = x >= 7 && x < 7 + p.width && y >= 9 && y < 9 + p.height;
        if (!in)
          assert_int_equal (*yuv_at (&t.f, 0, x, y),
              *yuv_at (&before.f, 0, x, y));
      }
    for (int by = 0; by < (H + 1) / 2; by++)
      for (int bx = 0; bx < (W + 1) / 2; bx++) {
        bool in = 2 * bx + 1 >= 7 && 2 * bx < 7 + p.width &&
            2 * by + 1 >= 9 && 2 * by < 9 + p.height;
        for (int k = 1; k < 3 && !in; k++)
          assert_int_equal (*yuv_at (&t.f, k, bx, by),
              *yuv_at (&before.f, k, bx, by));
      }
    assert_true (test_frame_guards_ok (&t));
    test_frame_free (&before);
    test_frame_free (&t);
  }
  vlm_overlay_free (ov);
}

/* Largest red value inside the panel's rectangle of an RGBA frame. */
static int
max_red (const vlm_overlay_frame *f, const vlm_overlay_panel *p)
{
  int max = 0;
  for (int y = p->y; y < p->y + p->height; y++)
    for (int x = p->x; x < p->x + p->width; x++) {
      int v = f->data[0][(size_t) y * f->stride[0] + 4 * x];
      max = v > max ? v : max;
    }
  return max;
}

static void
test_blend_opacity (void **state)
{
  vlm_overlay *ov = new_overlay (test_params ());
  test_frame before, t;
  vlm_overlay_panel p;
  const int W = 320, H = 180;
  int full;

  for (size_t k = 0; k < N_FORMATS; k++) {
    pattern_frame (&before, all_formats[k], W, H);
    pattern_frame (&t, all_formats[k], W, H);
    assert_int_equal (vlm_overlay_draw (ov, sample, &t.f, 0.0f),
        VLM_OVERLAY_OK);
    assert_memory_equal (t.mem, before.mem, t.size + 2 * GUARD);
    assert_int_equal (vlm_overlay_draw (ov, sample, &t.f, 0.5f),
        VLM_OVERLAY_OK);
    assert_memory_not_equal (t.mem, before.mem, t.size + 2 * GUARD);
    test_frame_free (&before);
    test_frame_free (&t);
  }
  /* half opacity over black: half as bright as full opacity */
  test_frame_init (&t, VLM_OVERLAY_FORMAT_RGBA, W, H);
  memset (t.f.data[0], 0, t.size);
  vlm_overlay_draw (ov, "I", &t.f, 1.0f);
  vlm_overlay_get_panel (ov, &p);
  full = max_red (&t.f, &p);
  memset (t.f.data[0], 0, t.size);
  vlm_overlay_draw (ov, "I", &t.f, 0.5f);
  assert_true (full > 64);
  assert_in_range (max_red (&t.f, &p), full / 2 - 1, full / 2 + 2);
  test_frame_free (&t);
  vlm_overlay_free (ov);
}

static void
test_fade_opacity (void **state)
{
  assert_true (vlm_overlay_fade_opacity (0, 3, 1) == 1.0f);
  assert_true (vlm_overlay_fade_opacity (3, 3, 1) == 1.0f);
  assert_true (fabsf (vlm_overlay_fade_opacity (3.25, 3, 1) - 0.75f) <
      1e-6f);
  assert_true (vlm_overlay_fade_opacity (4, 3, 1) == 0.0f);
  assert_true (vlm_overlay_fade_opacity (100, 3, 1) == 0.0f);
  assert_true (vlm_overlay_fade_opacity (3.1, 3, 0) == 0.0f);
  assert_true (vlm_overlay_fade_opacity (1e9, -1, 1) == 1.0f);
  assert_true (vlm_overlay_fade_opacity (NAN, 3, 1) == 1.0f);
  assert_true (vlm_overlay_fade_opacity (-5, 3, 1) == 1.0f);
}

static void
test_blend_errors (void **state)
{
  vlm_overlay *ov = new_overlay (test_params ());
  test_frame t;
  vlm_overlay_frame bad;
  uint8_t small[8];

  test_frame_init (&t, VLM_OVERLAY_FORMAT_NV12, 64, 48);
  assert_int_equal (vlm_overlay_blend (ov, &t.f, 1.0f),
      VLM_OVERLAY_ERR_NO_PANEL);
  vlm_overlay_render (ov, sample, 64, 48);
  bad = t.f;
  bad.data[1] = NULL;
  assert_int_equal (vlm_overlay_blend (ov, &bad, 1.0f),
      VLM_OVERLAY_ERR_INVALID_ARG);
  bad = t.f;
  bad.stride[0] = 63;
  assert_int_equal (vlm_overlay_blend (ov, &bad, 1.0f),
      VLM_OVERLAY_ERR_INVALID_ARG);
  bad.format = VLM_OVERLAY_N_FORMATS;
  assert_int_equal (vlm_overlay_blend (ov, &bad, 1.0f),
      VLM_OVERLAY_ERR_INVALID_ARG);
  assert_int_equal (vlm_overlay_blend (ov, NULL, 1.0f),
      VLM_OVERLAY_ERR_INVALID_ARG);
  assert_int_equal (vlm_overlay_frame_wrap (&bad, VLM_OVERLAY_FORMAT_RGBA,
          2, 2, small, sizeof small), VLM_OVERLAY_ERR_INVALID_ARG);
  assert_int_equal (vlm_overlay_frame_size (VLM_OVERLAY_FORMAT_I420, 3, 3),
      9 + 2 * 4);
  assert_int_equal (vlm_overlay_frame_size (VLM_OVERLAY_FORMAT_RGB, 0, 3),
      0);
  /* far away or partly outside: clipped, nothing written out of bounds */
  assert_int_equal (vlm_overlay_blend_at (ov, &t.f, -100000, 5, 1.0f),
      VLM_OVERLAY_OK);
  assert_int_equal (vlm_overlay_blend_at (ov, &t.f, 2147483000, 2147483000,
          1.0f), VLM_OVERLAY_OK);
  assert_int_equal (vlm_overlay_blend_at (ov, &t.f, -30, -30, 1.0f),
      VLM_OVERLAY_OK);
  assert_int_equal (vlm_overlay_blend_at (ov, &t.f, 50, 40, 1.0f),
      VLM_OVERLAY_OK);
  assert_true (test_frame_guards_ok (&t));
  test_frame_free (&t);
  vlm_overlay_free (ov);
}

/* ------------------------------------------------------------------ */
/* Robustness                                                          */
/* ------------------------------------------------------------------ */

/* Text and frame size do not matter: every format, guards intact. */
static void
draw_everywhere (vlm_overlay *ov, const char *text, int w, int h)
{
  for (size_t k = 0; k < N_FORMATS; k++) {
    test_frame t;
    pattern_frame (&t, all_formats[k], w, h);
    assert_int_equal (vlm_overlay_draw (ov, text, &t.f, 1.0f),
        VLM_OVERLAY_OK);
    assert_int_equal (vlm_overlay_draw (ov, text, &t.f, 0.3f),
        VLM_OVERLAY_OK);
    assert_true (test_frame_guards_ok (&t));
    test_frame_free (&t);
  }
}

static void
test_tiny_and_odd_frames (void **state)
{
  vlm_overlay *ov = new_overlay (test_params ());
  const int sizes[][2] = { {1, 1}, {2, 1}, {1, 2}, {3, 3}, {64, 48},
    {65, 49}, {33, 17}, {7, 300}, {300, 7} };
  vlm_overlay_panel p;

  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    draw_everywhere (ov, sample, sizes[i][0], sizes[i][1]);
    vlm_overlay_get_panel (ov, &p);
    assert_true (p.n_lines >= 1 && p.n_lines <= 2);
    assert_true (p.font_px >= 6);
  }
  vlm_overlay_free (ov);
}

static void
test_hostile_text (void **state)
{
  vlm_overlay *ov = new_overlay (test_params ());
  vlm_overlay_panel p;
  const char *texts[] = {
    "", " ", "\n\n\n", "\t\r\a\x1b[31m", "\xff\xfe\xfd", "\xc3",
    "e\xcc\x81\xcc\x82\xcc\x83\xcc\x84\xcc\x85\xcc\x86\xcc\x87",
    "\xcc\x81 starts with a mark",
    ("\xe4\xb8\xad\xe6\x96\x87 \xd8\xa7\xd9\x84\xd8\xb9\xd8\xb1\xd8\xa8\xd9"
        "\x8a\xd8\xa9 \xf0\x9f\x98\x80 \xe0\xa4\xb9\xe0\xa4\xbf"),
    "caf\xc3\xa9 na\xc3\xafve \xe2\x82\xac 12 \xce\xb1\xce\xb2 \xd0\x96",
  };

  for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
    draw_everywhere (ov, texts[i], 160, 90);
  assert_int_equal (vlm_overlay_render (ov, NULL, 64, 48), VLM_OVERLAY_OK);
  vlm_overlay_get_panel (ov, &p);
  assert_int_equal (p.width, 0);
  assert_int_equal (p.n_lines, 0);
  vlm_overlay_free (ov);
}

static void
test_huge_caption (void **state)
{
  vlm_overlay *ov = new_overlay (test_params ());
  vlm_overlay_panel p;
  char *text = malloc (10001);

  /* 10 000 characters of words, ending with a known last word */
  for (int i = 0; i < 10000; i++)
    text[i] = (i % 7 == 6) ? ' ' : (char) ('a' + i % 26);
  memcpy (text + 10000 - 4, " END", 4);
  text[10000] = 0;
  draw_everywhere (ov, text, 1280, 720);
  vlm_overlay_get_panel (ov, &p);
  assert_int_equal (p.n_lines, 2);
  assert_true (p.n_lines_total > 50);
  assert_true (p.width <= 1280);
  draw_everywhere (ov, text, 64, 48);
  vlm_overlay_get_panel (ov, &p);
  assert_int_equal (p.n_lines, 2);

  /* 10 000 random bytes, then random strings of every size */
  srand (7);
  for (int i = 0; i < 10000; i++)
    text[i] = (char) (1 + rand () % 255);
  draw_everywhere (ov, text, 320, 240);
  for (int r = 0; r < 200; r++) {
    int n = rand () % 200;
    for (int i = 0; i < n; i++)
      text[i] = (char) (1 + rand () % 255);
    text[n] = 0;
    assert_int_equal (vlm_overlay_render (ov, text, 1 + rand () % 400,
            1 + rand () % 300), VLM_OVERLAY_OK);
  }
  free (text);
  vlm_overlay_free (ov);
}

/* ------------------------------------------------------------------ */
/* Threads                                                             */
/* ------------------------------------------------------------------ */

typedef struct {
  uint8_t *rgba;
  size_t size;
} thread_result;

static void *
render_thread (void *arg)
{
  thread_result *r = arg;
  vlm_overlay *ov = vlm_overlay_new (test_params (), NULL, NULL, 0);
  vlm_overlay_panel p;

  for (int i = 0; i < 20; i++)
    vlm_overlay_render (ov, i % 2 ? sample : "Other caption.", 640, 360);
  vlm_overlay_get_panel (ov, &p);
  r->size = (size_t) p.stride * p.height;
  r->rgba = malloc (r->size);
  memcpy (r->rgba, p.rgba, r->size);
  vlm_overlay_free (ov);
  return NULL;
}

/* Contexts on different threads are independent and give equal panels. */
static void
test_threads (void **state)
{
  pthread_t th[3];
  thread_result r[3];

  for (int i = 0; i < 3; i++)
    assert_int_equal (pthread_create (&th[i], NULL, render_thread, &r[i]), 0);
  for (int i = 0; i < 3; i++)
    pthread_join (th[i], NULL);
  for (int i = 1; i < 3; i++) {
    assert_int_equal (r[i].size, r[0].size);
    assert_memory_equal (r[i].rgba, r[0].rgba, r[0].size);
  }
  for (int i = 0; i < 3; i++)
    free (r[i].rgba);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_utf8_valid),
    cmocka_unit_test (test_utf8_invalid),
    cmocka_unit_test (test_utf8_controls),
    cmocka_unit_test (test_utf8_tail),
    cmocka_unit_test (test_params_validation),
    cmocka_unit_test (test_font_resolution),
    cmocka_unit_test (test_status_strings),
    cmocka_unit_test (test_wrap_words),
    cmocka_unit_test (test_wrap_long_word_and_marks),
    cmocka_unit_test (test_missing_glyph_and_kerning),
    cmocka_unit_test (test_render_cache),
    cmocka_unit_test (test_panel_geometry),
    cmocka_unit_test (test_max_lines_keeps_newest),
    cmocka_unit_test (test_high_contrast_colours),
    cmocka_unit_test (test_blend_rgba_exact),
    cmocka_unit_test (test_blend_formats_agree),
    cmocka_unit_test (test_blend_yuv_rectangle),
    cmocka_unit_test (test_blend_opacity),
    cmocka_unit_test (test_fade_opacity),
    cmocka_unit_test (test_blend_errors),
    cmocka_unit_test (test_tiny_and_odd_frames),
    cmocka_unit_test (test_hostile_text),
    cmocka_unit_test (test_huge_caption),
    cmocka_unit_test (test_threads),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}

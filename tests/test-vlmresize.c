/* gst-vlm — tests of vlmresize and of the shared GPU resize code
 * (elements/vlmglresize.c).
 *
 *   test-vlmresize          GL tests: a private Xvfb, Mesa; not under
 *                           valgrind (suite novalgrind)
 *   test-vlmresize --no-gl  geometry, taps, shader source, the element's
 *                           properties and its error without any display
 *                           (also under valgrind)
 *
 * The GL output is compared with the CPU path of vlmdescribe
 * (vlm_frame_convert) on the same RGBA pictures; every comparison prints
 * its mean and max absolute error (8-bit levels).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <gst/gst.h>
#include <gst/video/video.h>
#include <gst/gl/gstglfuncs.h>

#include "gl-test-util.h"
#include "vlmframe.h"
#include "vlmglresize.h"

/* Tolerances on smooth pictures (8-bit levels). Against the documented
 * filter in double precision (gl_test_exact_convert): rounding plus the
 * GPU's 8-bit bilinear weights (measured on llvmpipe: mean <= 0.3, max 1).
 * Against the CPU path, GstVideoConverter's fixed-point taps add their own
 * error: measured mean <= 0.5, max <= 3 at the sizes of check_mode; at
 * some scales (1920 -> 384 is exactly 5x) GstVideoConverter itself strays
 * by up to 8 levels from the exact filter, so those get TOL_CPU_ODD. */
#define TOL_EXACT_MEAN 0.5
#define TOL_EXACT_MAX 2
#define TOL_MEAN 0.75
#define TOL_MAX 4
#define TOL_CPU_ODD_MEAN 5.0
#define TOL_CPU_ODD_MAX 10

/* ------------------------------------------------------------------ */
/* Plain C: geometry, taps, shader source                              */
/* ------------------------------------------------------------------ */

/* The rows of a CPU letterbox of a solid non-grey picture that are bars. */
static void
cpu_bars (int w, int h, int par_n, int par_d, int size, int *first_row,
    int *last_row, int *first_col, int *last_col)
{
  guint8 *img = g_malloc ((gsize) w * h * 4);
  guint8 *out;

  for (gsize i = 0; i < (gsize) w * h; i++) {
    img[4 * i] = 200;
    img[4 * i + 1] = 30;
    img[4 * i + 2] = 60;
    img[4 * i + 3] = 255;
  }
  out = gl_test_cpu_convert (img, w, h, par_n, par_d, VLM_RESIZE_LETTERBOX,
      size);
  assert_non_null (out);
  *first_row = *first_col = size;
  *last_row = *last_col = -1;
  for (int y = 0; y < size; y++)
    for (int x = 0; x < size; x++) {
      const guint8 *p = out + ((gsize) y * size + x) * 3;
      if (p[0] != 0x7f || p[1] != 0x7f || p[2] != 0x7f) {
        *first_row = MIN (*first_row, y);
        *last_row = MAX (*last_row, y);
        *first_col = MIN (*first_col, x);
        *last_col = MAX (*last_col, x);
      }
    }
  g_free (out);
  g_free (img);
}

static void
test_geometry_letterbox_matches_cpu_path (void **state)
{
  static const int cases[][5] = {
    /* w, h, par_n, par_d, size */
    {1920, 1080, 1, 1, 336}, {1280, 720, 1, 1, 336}, {640, 480, 1, 1, 336},
    {480, 640, 1, 1, 336}, {200, 100, 1, 1, 336}, {720, 576, 16, 15, 336},
    {1000, 999, 1, 1, 224}, {333, 1000, 1, 1, 128},
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    const int *c = cases[i];
    VlmResizeGeometry g;
    int r0, r1, c0, c1;

    vlm_resize_geometry (c[0], c[1], c[2], c[3], c[4], c[4],
        VLM_RESIZE_LETTERBOX, &g);
    cpu_bars (c[0], c[1], c[2], c[3], c[4], &r0, &r1, &c0, &c1);
    /* the picture covers exactly the destination rectangle */
    assert_int_equal (g.dst_y, r0);
    assert_int_equal (g.dst_y + g.dst_h - 1, r1);
    assert_int_equal (g.dst_x, c0);
    assert_int_equal (g.dst_x + g.dst_w - 1, c1);
    assert_int_equal (g.src_w, c[0]);
    assert_int_equal (g.src_h, c[1]);
  }
}

static void
test_geometry_crop_and_stretch (void **state)
{
  VlmResizeGeometry g;

  vlm_resize_geometry (1920, 1080, 1, 1, 336, 336, VLM_RESIZE_CROP, &g);
  assert_int_equal (g.src_x, 420);
  assert_int_equal (g.src_w, 1080);
  assert_int_equal (g.src_y, 0);
  assert_int_equal (g.src_h, 1080);
  assert_int_equal (g.dst_w, 336);
  assert_int_equal (g.dst_h, 336);

  vlm_resize_geometry (480, 640, 1, 1, 336, 336, VLM_RESIZE_CROP, &g);
  assert_int_equal (g.src_x, 0);
  assert_int_equal (g.src_y, 80);
  assert_int_equal (g.src_h, 480);

  /* anamorphic: 720x576 at 16/15 shows 768 wide; its square is 540 px */
  vlm_resize_geometry (720, 576, 16, 15, 336, 336, VLM_RESIZE_CROP, &g);
  assert_int_equal (g.src_w, 540);
  assert_int_equal (g.src_x, 90);

  /* a non-square output: 4:3 out of 16:9 */
  vlm_resize_geometry (1920, 1080, 1, 1, 320, 240, VLM_RESIZE_CROP, &g);
  assert_int_equal (g.src_w, 1440);
  assert_int_equal (g.src_x, 240);
  vlm_resize_geometry (1920, 1080, 1, 1, 320, 240, VLM_RESIZE_LETTERBOX, &g);
  assert_int_equal (g.dst_w, 320);
  assert_int_equal (g.dst_h, 180);
  assert_int_equal (g.dst_y, 30);

  vlm_resize_geometry (1920, 1080, 1, 1, 336, 336, VLM_RESIZE_STRETCH, &g);
  assert_int_equal (g.src_w, 1920);
  assert_int_equal (g.dst_h, 336);
}

static void
test_taps_follow_scale (void **state)
{
  VlmResizeTaps t;

  vlm_resize_taps (1920, 336, &t);      /* 5.71x down: 12 taps */
  assert_int_equal (t.taps, 12);
  assert_true (fabs (t.slope - 1.0 / 6) < 1e-12);
  assert_int_equal (t.first, 5);
  vlm_resize_taps (1080, 336, &t);      /* 3.21x down */
  assert_int_equal (t.taps, 7);
  assert_int_equal (t.first, 3);
  vlm_resize_taps (672, 336, &t);       /* exactly 2x: 4 taps */
  assert_int_equal (t.taps, 4);
  vlm_resize_taps (336, 336, &t);       /* 1:1 and upscales: bilinear */
  assert_int_equal (t.taps, 2);
  assert_true (t.slope == 1.0);
  assert_int_equal (t.first, 0);
  vlm_resize_taps (200, 336, &t);
  assert_int_equal (t.taps, 2);
  vlm_resize_taps (1, 336, &t);         /* one texel */
  assert_int_equal (t.taps, 1);
  assert_true (t.corr == 0.0);
  vlm_resize_taps (100000, 10, &t);     /* GstVideoResampler's limit */
  assert_int_equal (t.taps, 128);
}

static void
test_shader_source_has_constant_loops (void **state)
{
  gchar *src = vlm_gl_resize_fragment_source (6, 4);

  assert_non_null (strstr (src, "#define PAIRS_X 6\n"));
  assert_non_null (strstr (src, "#define PAIRS_Y 4\n"));
  assert_non_null (strstr (src, "k < PAIRS_X"));
  assert_non_null (strstr (src, "gl_FragColor"));
  g_free (src);
}

/* ------------------------------------------------------------------ */
/* The element without GL                                              */
/* ------------------------------------------------------------------ */

static void
test_element_properties (void **state)
{
  GstElement *e = gst_element_factory_make ("vlmresize", NULL);
  GstPad *pad;
  GstCaps *caps;
  gint size, mode;
  guint pad_color;

  assert_non_null (e);
  g_object_get (e, "size", &size, "resize-mode", &mode, "pad-color",
      &pad_color, NULL);
  assert_int_equal (size, 336);
  assert_int_equal (mode, VLM_RESIZE_LETTERBOX);
  assert_int_equal (pad_color, 0xff7f7f7fu);
  gst_util_set_object_arg (G_OBJECT (e), "resize-mode", "crop");
  g_object_get (e, "resize-mode", &mode, NULL);
  assert_int_equal (mode, VLM_RESIZE_CROP);

  pad = gst_element_get_static_pad (e, "sink");
  caps = gst_pad_get_pad_template_caps (pad);
  assert_true (gst_caps_features_contains (gst_caps_get_features (caps, 0),
          GST_CAPS_FEATURE_MEMORY_GL_MEMORY));
  gst_caps_unref (caps);
  gst_object_unref (pad);
  gst_object_unref (e);
}

/* vlmdescribe's templates take GL memory too; system memory comes first */
static void
test_vlmdescribe_templates_take_gl (void **state)
{
  GstElement *e = gst_element_factory_make ("vlmdescribe", NULL);
  GstPad *pad = gst_element_get_static_pad (e, "sink");
  GstCaps *caps = gst_pad_get_pad_template_caps (pad);
  gboolean gl = FALSE;

  assert_false (gst_caps_features_contains (gst_caps_get_features (caps, 0),
          GST_CAPS_FEATURE_MEMORY_GL_MEMORY));
  for (guint i = 0; i < gst_caps_get_size (caps); i++)
    gl |= gst_caps_features_contains (gst_caps_get_features (caps, i),
        GST_CAPS_FEATURE_MEMORY_GL_MEMORY);
  assert_true (gl);
  gst_caps_unref (caps);
  gst_object_unref (pad);
  gst_object_unref (e);
}

/* Without any display the element refuses to start with a message that
 * says what is missing, before the source finds out. */
static void
test_no_gl_clear_error (void **state)
{
  GstElement *pipe;
  GstBus *bus;
  GstMessage *m;
  GError *err = NULL;
  gchar *dbg = NULL;
  gchar *display = g_strdup (getenv ("DISPLAY"));
  gchar *wayland = g_strdup (getenv ("WAYLAND_DISPLAY"));

  unsetenv ("DISPLAY");
  unsetenv ("WAYLAND_DISPLAY");
  pipe = gst_parse_launch ("videotestsrc num-buffers=1 ! glupload ! "
      "vlmresize name=r ! fakesink", NULL);
  assert_non_null (pipe);
  gst_element_set_state (pipe, GST_STATE_PAUSED);
  bus = gst_element_get_bus (pipe);
  m = gst_bus_timed_pop_filtered (bus, 60 * GST_SECOND, GST_MESSAGE_ERROR);
  assert_non_null (m);
  gst_message_parse_error (m, &err, &dbg);
  printf ("no GL: %s: %s\n", GST_OBJECT_NAME (GST_MESSAGE_SRC (m)),
      err->message);
  assert_string_equal (GST_OBJECT_NAME (GST_MESSAGE_SRC (m)), "r");
  assert_non_null (strstr (err->message, "needs OpenGL"));
  g_clear_error (&err);
  g_free (dbg);
  gst_message_unref (m);
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (pipe);
  if (display)
    setenv ("DISPLAY", display, 1);
  if (wayland)
    setenv ("WAYLAND_DISPLAY", wayland, 1);
  g_free (display);
  g_free (wayland);
}

/* ------------------------------------------------------------------ */
/* GL                                                                  */
/* ------------------------------------------------------------------ */

static void
sample_size (GstSample * s, int *w, int *h)
{
  GstStructure *st = gst_caps_get_structure (gst_sample_get_caps (s), 0);

  gst_structure_get_int (st, "width", w);
  gst_structure_get_int (st, "height", h);
}

static GstSample *
run (const char *middle, const guint8 * rgba, int w, int h, int par_n,
    int par_d)
{
  gchar *error = NULL;
  GstSample *s = gl_test_run_once (middle, rgba, w, h, par_n, par_d, &error);

  if (s == NULL)
    fail_msg ("%s: %s", middle, error);
  return s;
}

static void
test_caps_default_size (void **state)
{
  guint8 *img = gl_test_smooth_image (640, 480, 1);
  GstSample *s = run ("vlmresize", img, 640, 480, 1, 1);
  GstStructure *st = gst_caps_get_structure (gst_sample_get_caps (s), 0);
  gint w, h, n, d;

  sample_size (s, &w, &h);
  assert_int_equal (w, 336);
  assert_int_equal (h, 336);
  assert_true (gst_structure_get_fraction (st, "pixel-aspect-ratio", &n, &d));
  assert_int_equal (n, 1);
  assert_int_equal (d, 1);
  assert_string_equal (gst_structure_get_string (st, "format"), "RGBA");
  gst_sample_unref (s);
  g_free (img);
}

static void
test_caps_size_property (void **state)
{
  guint8 *img = gl_test_smooth_image (640, 480, 1);
  GstSample *s = run ("vlmresize size=224", img, 640, 480, 1, 1);
  gint w, h;

  sample_size (s, &w, &h);
  assert_int_equal (w, 224);
  assert_int_equal (h, 224);
  gst_sample_unref (s);
  g_free (img);
}

static void
test_caps_downstream_size_wins (void **state)
{
  guint8 *img = gl_test_smooth_image (640, 480, 1);
  GstSample *s = run ("vlmresize size=224 ! "
      "video/x-raw(memory:GLMemory),width=448,height=448", img, 640, 480, 1,
      1);
  gint w, h;

  sample_size (s, &w, &h);
  assert_int_equal (w, 448);
  assert_int_equal (h, 448);
  gst_sample_unref (s);
  /* not square either */
  s = run ("vlmresize ! video/x-raw(memory:GLMemory),width=320,height=240",
      img, 640, 480, 1, 1);
  sample_size (s, &w, &h);
  assert_int_equal (w, 320);
  assert_int_equal (h, 240);
  gst_sample_unref (s);
  g_free (img);
}

/* GL output (RGBA size^2 from gldownload) against the CPU path (mean,
 * max) and against the exact filter (emean, emax). */
static void
compare_with_cpu (const guint8 * img, int w, int h, int par_n, int par_d,
    VlmResizeMode mode, int size, double *mean, int *max, double *emean,
    int *emax)
{
  static const char *modes[] = { "letterbox", "crop", "stretch" };
  gchar *middle = g_strdup_printf ("vlmresize size=%d resize-mode=%s", size,
      modes[mode]);
  GstSample *s = run (middle, img, w, h, par_n, par_d);
  guint8 *cpu = gl_test_cpu_convert (img, w, h, par_n, par_d, mode, size);
  guint8 *exact = gl_test_exact_convert (img, w, h, par_n, par_d, mode, size,
      VLM_RESIZE_PAD_ARGB);
  GstMapInfo map;
  gint ow, oh;

  sample_size (s, &ow, &oh);
  assert_int_equal (ow, size);
  assert_int_equal (oh, size);
  assert_non_null (cpu);
  assert_true (gst_buffer_map (gst_sample_get_buffer (s), &map, GST_MAP_READ));
  gl_test_compare (cpu, map.data, 4, size * 4, size, size, mean, max);
  gl_test_compare (exact, map.data, 4, size * 4, size, size, emean, emax);
  gst_buffer_unmap (gst_sample_get_buffer (s), &map);
  gst_sample_unref (s);
  g_free (cpu);
  g_free (exact);
  g_free (middle);
}

static const int sizes[][4] = {
  /* w, h, par_n, par_d */
  {1920, 1080, 1, 1}, {1280, 720, 1, 1}, {640, 480, 1, 1}, {480, 640, 1, 1},
  {336, 336, 1, 1}, {200, 100, 1, 1}, {720, 576, 16, 15},
};

static void
check_mode_matches_cpu (VlmResizeMode mode)
{
  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++) {
    const int *c = sizes[i];
    guint8 *img = gl_test_smooth_image (c[0], c[1], (int) i);
    double mean, emean;
    int max, emax;

    compare_with_cpu (img, c[0], c[1], c[2], c[3], mode, 336, &mean, &max,
        &emean, &emax);
    printf ("%-9s %4dx%-4d par %2d/%-2d -> 336: vs CPU path mean abs err "
        "%.3f, max %d; vs exact filter %.3f, max %d\n",
        mode == VLM_RESIZE_LETTERBOX ? "letterbox" : "crop", c[0], c[1], c[2],
        c[3], mean, max, emean, emax);
    assert_true (mean <= TOL_MEAN);
    assert_true (max <= TOL_MAX);
    assert_true (emean <= TOL_EXACT_MEAN);
    assert_true (emax <= TOL_EXACT_MAX);
    g_free (img);
  }
}

static void
test_letterbox_matches_cpu_path (void **state)
{
  check_mode_matches_cpu (VLM_RESIZE_LETTERBOX);
}

static void
test_crop_matches_cpu_path (void **state)
{
  check_mode_matches_cpu (VLM_RESIZE_CROP);
}

static void
test_other_model_sizes_match_cpu_path (void **state)
{
  guint8 *img = gl_test_smooth_image (1920, 1080, 7);
  static const int model_sizes[] = { 224, 384, 512, 128 };

  for (guint i = 0; i < G_N_ELEMENTS (model_sizes); i++) {
    double mean, emean;
    int max, emax;

    compare_with_cpu (img, 1920, 1080, 1, 1, VLM_RESIZE_LETTERBOX,
        model_sizes[i], &mean, &max, &emean, &emax);
    printf ("letterbox 1920x1080 -> %d: vs CPU path mean abs err %.3f, "
        "max %d; vs exact filter %.3f, max %d\n", model_sizes[i], mean, max,
        emean, emax);
    assert_true (mean <= TOL_CPU_ODD_MEAN);
    assert_true (max <= TOL_CPU_ODD_MAX);
    assert_true (emean <= TOL_EXACT_MEAN);
    assert_true (emax <= TOL_EXACT_MAX);
  }
  g_free (img);
}

/* Bars: exactly where the CPU path puts them, in the pad colour. */
static void
test_letterbox_bars_and_pad_color (void **state)
{
  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++) {
    const int *c = sizes[i];
    guint8 *img = g_malloc ((gsize) c[0] * c[1] * 4);
    GstSample *s;
    GstMapInfo map;
    int r0, r1, c0, c1;

    for (gsize k = 0; k < (gsize) c[0] * c[1]; k++) {
      img[4 * k] = 200;
      img[4 * k + 1] = 30;
      img[4 * k + 2] = 60;
      img[4 * k + 3] = 255;
    }
    cpu_bars (c[0], c[1], c[2], c[3], 336, &r0, &r1, &c0, &c1);
    s = run ("vlmresize pad-color=0xff102030", img, c[0], c[1], c[2], c[3]);
    assert_true (gst_buffer_map (gst_sample_get_buffer (s), &map,
            GST_MAP_READ));
    for (int y = 0; y < 336; y++)
      for (int x = 0; x < 336; x++) {
        const guint8 *p = map.data + ((gsize) y * 336 + x) * 4;
        gboolean bar = y < r0 || y > r1 || x < c0 || x > c1;

        if (bar) {
          assert_int_equal (p[0], 0x10);
          assert_int_equal (p[1], 0x20);
          assert_int_equal (p[2], 0x30);
        } else {
          assert_true (abs (p[0] - 200) <= 1);
          assert_true (abs (p[1] - 30) <= 1);
          assert_true (abs (p[2] - 60) <= 1);
        }
      }
    gst_buffer_unmap (gst_sample_get_buffer (s), &map);
    gst_sample_unref (s);
    g_free (img);
  }
}

/* A 1-pixel checkerboard downscaled 5.7x must come out flat grey (the
 * tent covers every texel under a pixel); a 2x2-tap bilinear scaler
 * would show moire of full contrast. Also reports the difference from
 * the CPU path on this sharpest content. */
static void
test_no_aliasing_on_strong_downscale (void **state)
{
  guint8 *img = gl_test_checker_image (1920, 1080);
  GstSample *s = run ("vlmresize resize-mode=crop", img, 1920, 1080, 1, 1);
  guint8 *cpu = gl_test_cpu_convert (img, 1920, 1080, 1, 1, VLM_RESIZE_CROP,
      336);
  GstMapInfo map;
  int lo = 255, hi = 0, max;
  double mean;

  assert_true (gst_buffer_map (gst_sample_get_buffer (s), &map, GST_MAP_READ));
  for (gsize k = 0; k < 336 * 336; k++) {
    lo = MIN (lo, map.data[4 * k]);
    hi = MAX (hi, map.data[4 * k]);
  }
  gl_test_compare (cpu, map.data, 4, 336 * 4, 336, 336, &mean, &max);
  printf ("checkerboard 1920x1080 crop -> 336: GL range %d..%d, vs CPU "
      "mean abs err %.3f, max %d\n", lo, hi, mean, max);
  assert_true (lo >= 120 && hi <= 135);
  assert_true (mean <= TOL_MEAN);
  assert_true (max <= TOL_MAX);
  gst_buffer_unmap (gst_sample_get_buffer (s), &map);
  gst_sample_unref (s);
  g_free (cpu);
  g_free (img);
}

/* Which GL the tests ran on; with GST_GL_API=gles2 (vlmresize-gles) it
 * must be OpenGL ES. */
static void
test_reports_gl_api (void **state)
{
  GstElement *pipe = gst_parse_launch ("videotestsrc num-buffers=1 ! "
      "glupload ! vlmresize name=r ! fakesink", NULL);
  GstElement *r = gst_bin_get_by_name (GST_BIN (pipe), "r");
  GstGLContext *ctx = NULL;
  const char *want = getenv ("GST_GL_API");
  gchar *api;

  assert_int_equal (gst_element_set_state (pipe, GST_STATE_PAUSED),
      GST_STATE_CHANGE_ASYNC);
  assert_int_equal (gst_element_get_state (pipe, NULL, NULL,
          60 * GST_SECOND), GST_STATE_CHANGE_SUCCESS);
  g_object_get (r, "context", &ctx, NULL);
  assert_non_null (ctx);
  api = gst_gl_api_to_string (gst_gl_context_get_gl_api (ctx));
  {
    gint maj = 0, min = 0;

    gst_gl_context_get_gl_version (ctx, &maj, &min);
    printf ("GL API %s %d.%d (%s)\n", api, maj, min,
        G_OBJECT_TYPE_NAME (ctx));
  }
  if (want && strcmp (want, "gles2") == 0)
    assert_true (gst_gl_context_get_gl_api (ctx) & GST_GL_API_GLES2);
  g_free (api);
  gst_object_unref (ctx);
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (r);
  gst_object_unref (pipe);
}

typedef struct {
  int pairs;
  gboolean ok;
  gchar *log;
} Compile;

/* GL thread: the shader as GLSL ES 1.00 (#version 100) on an ES context,
 * the way a GLES2-only GPU gets it; else with the context's version. */
static void
compile_cb (GstGLContext * ctx, gpointer data)
{
  Compile *c = data;
  gboolean es = (gst_gl_context_get_gl_api (ctx) & GST_GL_API_GLES2) != 0;
  gchar *body = vlm_gl_resize_fragment_source (c->pairs, c->pairs);
  gchar *src = g_strconcat ("precision mediump float;\n", body, NULL);
  GError *err = NULL;
  GstGLShader *sh = gst_gl_shader_new_link_with_stages (ctx, &err,
      gst_glsl_stage_new_default_vertex (ctx),
      gst_glsl_stage_new_with_string (ctx, GL_FRAGMENT_SHADER,
          es ? GST_GLSL_VERSION_100 : GST_GLSL_VERSION_NONE,
          es ? GST_GLSL_PROFILE_ES : (GST_GLSL_PROFILE_ES |
              GST_GLSL_PROFILE_COMPATIBILITY), src), NULL);

  c->ok = sh != NULL;
  c->log = err ? g_strdup (err->message) : NULL;
  g_clear_error (&err);
  gst_clear_object (&sh);
  g_free (src);
  g_free (body);
}

static void
test_shader_compiles_as_glsl_es_100 (void **state)
{
  GstElement *pipe = gst_parse_launch ("videotestsrc num-buffers=1 ! "
      "glupload ! vlmresize name=r ! fakesink", NULL);
  GstElement *r = gst_bin_get_by_name (GST_BIN (pipe), "r");
  GstGLContext *ctx = NULL;
  static const int pairs[] = { 1, 6, 64 };

  gst_element_set_state (pipe, GST_STATE_PAUSED);
  assert_int_equal (gst_element_get_state (pipe, NULL, NULL,
          60 * GST_SECOND), GST_STATE_CHANGE_SUCCESS);
  g_object_get (r, "context", &ctx, NULL);
  assert_non_null (ctx);
  for (guint i = 0; i < G_N_ELEMENTS (pairs); i++) {
    Compile c = { pairs[i], FALSE, NULL };

    gst_gl_context_thread_add (ctx, compile_cb, &c);
    if (!c.ok)
      fail_msg ("%d x %d fetches: %s", pairs[i], pairs[i], c.log);
    g_free (c.log);
  }
  gst_object_unref (ctx);
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (r);
  gst_object_unref (pipe);
}

/* Same size in and out, square pixels: the frame passes as it is. */
static void
test_same_size_is_exact (void **state)
{
  guint8 *img = gl_test_smooth_image (336, 336, 3);
  GstSample *s = run ("vlmresize", img, 336, 336, 1, 1);
  GstMapInfo map;

  assert_true (gst_buffer_map (gst_sample_get_buffer (s), &map, GST_MAP_READ));
  assert_memory_equal (map.data, img, 336 * 336 * 4);
  gst_buffer_unmap (gst_sample_get_buffer (s), &map);
  gst_sample_unref (s);
  g_free (img);
}

/* ------------------------------------------------------------------ */

static int
nogl_setup (void **state)
{
  unsetenv ("DISPLAY");
  unsetenv ("WAYLAND_DISPLAY");
  gst_init (NULL, NULL);
  return 0;
}

static int
gl_setup (void **state)
{
  if (!gl_test_start_xvfb ())
    return -1;
  gst_init (NULL, NULL);
  return 0;
}

static int
teardown (void **state)
{
  gst_deinit ();
  gl_test_stop_xvfb ();
  return 0;
}

int
main (int argc, char **argv)
{
  const struct CMUnitTest nogl_tests[] = {
    cmocka_unit_test (test_geometry_letterbox_matches_cpu_path),
    cmocka_unit_test (test_geometry_crop_and_stretch),
    cmocka_unit_test (test_taps_follow_scale),
    cmocka_unit_test (test_shader_source_has_constant_loops),
    cmocka_unit_test (test_element_properties),
    cmocka_unit_test (test_vlmdescribe_templates_take_gl),
    cmocka_unit_test (test_no_gl_clear_error),
  };
  const struct CMUnitTest gl_tests[] = {
    cmocka_unit_test (test_reports_gl_api),
    cmocka_unit_test (test_shader_compiles_as_glsl_es_100),
    cmocka_unit_test (test_caps_default_size),
    cmocka_unit_test (test_caps_size_property),
    cmocka_unit_test (test_caps_downstream_size_wins),
    cmocka_unit_test (test_letterbox_matches_cpu_path),
    cmocka_unit_test (test_crop_matches_cpu_path),
    cmocka_unit_test (test_other_model_sizes_match_cpu_path),
    cmocka_unit_test (test_letterbox_bars_and_pad_color),
    cmocka_unit_test (test_no_aliasing_on_strong_downscale),
    cmocka_unit_test (test_same_size_is_exact),
  };

  if (argc > 1 && strcmp (argv[1], "--no-gl") == 0)
    return cmocka_run_group_tests_name ("vlmresize-nogl", nogl_tests,
        nogl_setup, teardown);
  return cmocka_run_group_tests_name ("vlmresize", gl_tests, gl_setup,
      teardown);
}

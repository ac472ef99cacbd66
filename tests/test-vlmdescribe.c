/* gst-vlm — tests of the vlmdescribe element, the caption meta and the
 * frame converter, with the tiny generated models.
 *
 * The element comes from the plugin found through GST_PLUGIN_PATH (set by
 * tests/meson.build to the build's elements/ dir, with a private
 * registry). Every wait is bounded (WAIT_S); no sleeps.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <gst/gst.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <valgrind/valgrind.h>

#include "gstvlmcaptionmeta.h"
#include "vlmframe.h"
#include "model-util.h"
#include "test-util.h"

#define WAIT_S 60               /* generous: the valgrind run is slow */
#define W 64
#define H 48

static char tmp_dir[4096];
static char text_path[4200], mmproj_path[4200];
static char mlp_mmproj_path[4200];
static char small_text_path[4200], small_mmproj_path[4200];

/* ------------------------------------------------------------------ */
/* Fixtures                                                            */
/* ------------------------------------------------------------------ */

static int
group_setup (void **state)
{
  const char *base = getenv ("TMPDIR");

  gst_init (NULL, NULL);
  snprintf (tmp_dir, sizeof tmp_dir, "%s/test-vlmdescribe-XXXXXX",
      base && *base ? base : "/tmp");
  if (mkdtemp (tmp_dir) == NULL)
    return -1;
  if (tu_make_model ("tiny-ldpv2", tmp_dir, text_path, mmproj_path, 4200) != 0)
    return -1;
  if (tu_make_model ("tiny-mlp", tmp_dir, NULL, mlp_mmproj_path, 4200) != 0)
    return -1;
  /* 128 px SigLIP tower: the cheapest to encode, for the cycles test */
  if (tu_make_model ("tiny-idefics3", tmp_dir, small_text_path,
          small_mmproj_path, 4200) != 0)
    return -1;
  return 0;
}

static int
group_teardown (void **state)
{
  tu_tmpdir_remove (tmp_dir);
  gst_deinit ();
  return 0;
}

/* Caption collector fed by the "caption" signal (worker thread). */
typedef struct {
  gchar *text;
  gboolean final;
  guint64 id, pts, latency;
} Cap;

typedef struct {
  GMutex lock;
  GCond cond;
  GArray *caps;                 /* Cap */
  guint n_final;
} Collector;

static void
on_caption (GstElement * e, const gchar * text, gboolean final, guint64 id,
    guint64 pts, guint64 latency, Collector * c)
{
  Cap cap = { g_strdup (text), final, id, pts, latency };

  g_mutex_lock (&c->lock);
  g_array_append_val (c->caps, cap);
  if (final)
    c->n_final++;
  g_cond_broadcast (&c->cond);
  g_mutex_unlock (&c->lock);
}

static void
cap_clear (Cap * c)
{
  g_free (c->text);
}

static Collector *
collector_new (GstElement * e)
{
  Collector *c = g_new0 (Collector, 1);

  g_mutex_init (&c->lock);
  g_cond_init (&c->cond);
  c->caps = g_array_new (FALSE, TRUE, sizeof (Cap));
  g_array_set_clear_func (c->caps, (GDestroyNotify) cap_clear);
  g_signal_connect (e, "caption", G_CALLBACK (on_caption), c);
  return c;
}

static void
collector_free (Collector * c)
{
  g_array_unref (c->caps);
  g_mutex_clear (&c->lock);
  g_cond_clear (&c->cond);
  g_free (c);
}

/* Waits until n final captions came; returns whether they did. */
static gboolean
wait_finals (Collector * c, guint n)
{
  gint64 end = g_get_monotonic_time () + WAIT_S * G_TIME_SPAN_SECOND;
  gboolean ok;

  g_mutex_lock (&c->lock);
  while (c->n_final < n)
    if (!g_cond_wait_until (&c->cond, &c->lock, end))
      break;
  ok = c->n_final >= n;
  g_mutex_unlock (&c->lock);
  return ok;
}

/* The i-th final caption (copy of the struct; text stays owned). */
static Cap
final_cap (Collector * c, guint i)
{
  Cap r = { 0 };

  g_mutex_lock (&c->lock);
  for (guint k = 0, n = 0; k < c->caps->len; k++) {
    Cap *x = &g_array_index (c->caps, Cap, k);
    if (x->final && n++ == i) {
      r = *x;
      break;
    }
  }
  g_mutex_unlock (&c->lock);
  return r;
}

/* Pops bus messages until an element message `name` (or an error when
 * name is NULL) arrives; NULL on timeout. Other messages are dropped. */
static GstMessage *
wait_message (GstBus * bus, const char *name)
{
  gint64 end = g_get_monotonic_time () + WAIT_S * G_TIME_SPAN_SECOND;

  for (;;) {
    gint64 left = end - g_get_monotonic_time ();
    GstMessage *m;

    if (left <= 0)
      return NULL;
    m = gst_bus_timed_pop (bus, left * GST_USECOND);
    if (m == NULL)
      return NULL;
    if (name == NULL && GST_MESSAGE_TYPE (m) == GST_MESSAGE_ERROR)
      return m;
    if (name && GST_MESSAGE_TYPE (m) == GST_MESSAGE_ELEMENT
        && gst_structure_has_name (gst_message_get_structure (m), name))
      return m;
    gst_message_unref (m);
  }
}

/* Waits for an element message `name` whose string field `field` is
 * `value`. */
static gboolean
wait_message_with (GstBus * bus, const char *name, const char *field,
    const char *value)
{
  for (;;) {
    GstMessage *m = wait_message (bus, name);
    gboolean hit;

    if (m == NULL)
      return FALSE;
    hit = !g_strcmp0 (gst_structure_get_string (gst_message_get_structure (m),
            field), value);
    gst_message_unref (m);
    if (hit)
      return TRUE;
  }
}

typedef struct {
  GstHarness *h;
  GstElement *e;
  GstBus *bus;
  Collector *c;
} Fixture;

/* A harness around a vlmdescribe with the tiny model; extra properties
 * as name, value pairs ending with NULL. Waits for the model unless
 * wait_ready is FALSE. */
static Fixture
fixture_new (gboolean wait_ready, const char *first, ...)
{
  Fixture f;
  va_list ap;
  GstCaps *caps;

  f.e = gst_element_factory_make ("vlmdescribe", NULL);
  assert_non_null (f.e);
  g_object_set (f.e, "model", text_path, "mmproj", mmproj_path,
      "temperature", 0.0, "scene-change-threshold", 0.0,
      "max-tokens", 16, "worker-nice", 0, "threads", 1,
      "thermal-root", tmp_dir, NULL);
  va_start (ap, first);
  if (first)
    g_object_set_valist (G_OBJECT (f.e), first, ap);
  va_end (ap);
  f.bus = gst_bus_new ();
  gst_element_set_bus (f.e, f.bus);
  f.c = collector_new (f.e);

  f.h = gst_harness_new_with_element (f.e, "sink", "src");
  caps = gst_caps_new_simple ("video/x-raw", "format", G_TYPE_STRING, "RGB",
      "width", G_TYPE_INT, W, "height", G_TYPE_INT, H, "framerate",
      GST_TYPE_FRACTION, 10, 1, NULL);
  gst_harness_set_src_caps (f.h, caps);
  gst_harness_play (f.h);
  if (wait_ready)
    assert_true (wait_message_with (f.bus, "vlm-model", "state", "ready"));
  return f;
}

static void
fixture_free (Fixture * f)
{
  gst_harness_teardown (f->h);
  gst_element_set_bus (f->e, NULL);
  collector_free (f->c);
  gst_bus_set_flushing (f->bus, TRUE);
  gst_object_unref (f->bus);
  gst_object_unref (f->e);
}

/* An RGB W x H frame: a sawtooth gradient shifted by `seed` (different
 * seeds differ in their block means too). */
static GstBuffer *
frame (int seed, GstClockTime pts)
{
  GstBuffer *b = gst_buffer_new_allocate (NULL, W * H * 3, NULL);
  GstMapInfo map;

  gst_buffer_map (b, &map, GST_MAP_WRITE);
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++)
      for (int c = 0; c < 3; c++)
        map.data[(y * W + x) * 3 + c] =
            (guint8) (x * 4 + y * 2 + seed * 50 + c * 30);
  gst_buffer_unmap (b, &map);
  GST_BUFFER_PTS (b) = pts;
  GST_BUFFER_DURATION (b) = GST_SECOND / 10;
  return b;
}

static guint64
stat_u64 (GstElement * e, const char *field)
{
  GstStructure *s;
  guint64 v = 0;

  g_object_get (e, "stats", &s, NULL);
  gst_structure_get_uint64 (s, field, &v);
  gst_structure_free (s);
  return v;
}

static gint
stat_int (GstElement * e, const char *field)
{
  GstStructure *s;
  gint v = 0;

  g_object_get (e, "stats", &s, NULL);
  gst_structure_get_int (s, field, &v);
  gst_structure_free (s);
  return v;
}

/* Pushes a frame and drops what comes out. */
static void
push_frame (Fixture * f, int seed, GstClockTime pts)
{
  assert_int_equal (gst_harness_push (f->h, frame (seed, pts)), GST_FLOW_OK);
  gst_buffer_unref (gst_harness_pull (f->h));
}

/* ------------------------------------------------------------------ */
/* Plugin                                                              */
/* ------------------------------------------------------------------ */

static void
test_plugin_registers_element (void **state)
{
  GstElementFactory *fac = gst_element_factory_find ("vlmdescribe");
  GstElement *e;
  GstPad *p;
  gint n, d;

  assert_non_null (fac);
  assert_string_equal (gst_plugin_feature_get_plugin_name
      (GST_PLUGIN_FEATURE (fac)), "vlm");
  e = gst_element_factory_create (fac, NULL);
  p = gst_element_get_static_pad (e, "text_src");
  assert_non_null (p);
  {
    GValue v = G_VALUE_INIT;
    g_value_init (&v, GST_TYPE_FRACTION);
    g_object_get_property (G_OBJECT (e), "max-rate", &v);
    n = gst_value_get_fraction_numerator (&v);
    d = gst_value_get_fraction_denominator (&v);
    g_value_unset (&v);
  }
  assert_int_equal (n, 1);
  assert_int_equal (d, 3);
  gst_object_unref (p);
  gst_object_unref (e);
  gst_object_unref (fac);
}

/* ------------------------------------------------------------------ */
/* Frame converter                                                     */
/* ------------------------------------------------------------------ */

/* A solid frame of (r, g, b) in `fmt` at w x h converts to that colour
 * (within rounding) in the centre of the model image. */
static void
check_solid (GstVideoFormat fmt, int w, int h, VlmResizeMode mode,
    guint8 r, guint8 g, guint8 b, guint8 * out, int size)
{
  GstVideoInfo info, rgb_info;
  GstBuffer *src = NULL;
  GstVideoFrame in, rgbf;
  GstVideoConverter *to_fmt;
  GstBuffer *rgbb;
  VlmFrameConverter *c = vlm_frame_converter_new ();

  /* make the frame by converting a solid RGB one */
  gst_video_info_set_format (&rgb_info, GST_VIDEO_FORMAT_RGB, w, h);
  gst_video_info_set_format (&info, fmt, w, h);
  rgbb = gst_buffer_new_allocate (NULL, rgb_info.size, NULL);
  gst_video_frame_map (&rgbf, &rgb_info, rgbb, GST_MAP_WRITE);
  for (int y = 0; y < h; y++) {
    guint8 *row = (guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&rgbf, 0)
        + y * GST_VIDEO_FRAME_PLANE_STRIDE (&rgbf, 0);
    for (int x = 0; x < w; x++) {
      row[3 * x] = r;
      row[3 * x + 1] = g;
      row[3 * x + 2] = b;
    }
  }
  src = gst_buffer_new_allocate (NULL, info.size, NULL);
  gst_video_frame_map (&in, &info, src, GST_MAP_WRITE);
  to_fmt = gst_video_converter_new (&rgb_info, &info, NULL);
  gst_video_converter_frame (to_fmt, &rgbf, &in);
  gst_video_converter_free (to_fmt);
  gst_video_frame_unmap (&rgbf);
  gst_buffer_unref (rgbb);
  gst_video_frame_unmap (&in);

  gst_video_frame_map (&in, &info, src, GST_MAP_READ);
  assert_true (vlm_frame_convert (c, &in, mode, size, out));
  gst_video_frame_unmap (&in);
  gst_buffer_unref (src);
  vlm_frame_converter_free (c);

  {
    const guint8 *p = out + ((size / 2) * size + size / 2) * 3;
    assert_true (abs (p[0] - r) <= 6);
    assert_true (abs (p[1] - g) <= 6);
    assert_true (abs (p[2] - b) <= 6);
  }
}

static void
test_convert_formats (void **state)
{
  static const GstVideoFormat fmts[] = {
    GST_VIDEO_FORMAT_RGB, GST_VIDEO_FORMAT_RGBA, GST_VIDEO_FORMAT_BGRA,
    GST_VIDEO_FORMAT_RGBx, GST_VIDEO_FORMAT_BGRx, GST_VIDEO_FORMAT_I420,
    GST_VIDEO_FORMAT_NV12, GST_VIDEO_FORMAT_YUY2,
  };
  guint8 *out = g_malloc (336 * 336 * 3);

  for (guint i = 0; i < G_N_ELEMENTS (fmts); i++)
    check_solid (fmts[i], 640, 360, VLM_RESIZE_LETTERBOX, 200, 40, 90, out,
        336);
  g_free (out);
}

static void
test_convert_letterbox_has_bars_crop_has_none (void **state)
{
  guint8 *out = g_malloc (336 * 336 * 3);

  /* 16:9 letterboxed: grey rows at the top */
  check_solid (GST_VIDEO_FORMAT_RGB, 640, 360, VLM_RESIZE_LETTERBOX, 200, 40,
      90, out, 336);
  assert_int_equal (out[0], 0x7f);
  assert_int_equal (out[1], 0x7f);
  /* centre-cropped: the frame's colour up to the corner */
  check_solid (GST_VIDEO_FORMAT_RGB, 640, 360, VLM_RESIZE_CROP, 200, 40, 90,
      out, 336);
  assert_true (abs (out[0] - 200) <= 6);
  assert_true (abs (out[2] - 90) <= 6);
  g_free (out);
}

/* ------------------------------------------------------------------ */
/* Element                                                             */
/* ------------------------------------------------------------------ */

static void
test_passthrough_bit_exact (void **state)
{
  Fixture f = fixture_new (TRUE, "max-rate", 0, 1, NULL);
  GstBuffer *in, *out, *ref;
  GstMapInfo a, b;

  /* before any caption: the very same buffer */
  in = frame (1, 0);
  ref = gst_buffer_ref (in);
  gst_buffer_ref (in);          /* keep it */
  gst_buffer_unref (ref);
  assert_int_equal (gst_harness_push (f.h, in), GST_FLOW_OK);
  out = gst_harness_pull (f.h);
  assert_ptr_equal (gst_buffer_peek_memory (out, 0),
      gst_buffer_peek_memory (in, 0));
  gst_buffer_map (in, &a, GST_MAP_READ);
  gst_buffer_map (out, &b, GST_MAP_READ);
  assert_int_equal (a.size, b.size);
  assert_memory_equal (a.data, b.data, a.size);
  gst_buffer_unmap (in, &a);
  gst_buffer_unmap (out, &b);
  gst_buffer_unref (out);
  assert_true (wait_finals (f.c, 1));

  /* with a caption, on a buffer we still hold: a new GstBuffer with the
   * meta, the same memory, the same bytes; ours stays without meta */
  {
    GstBuffer *in2 = frame (2, GST_SECOND);

    gst_buffer_ref (in2);
    assert_int_equal (gst_harness_push (f.h, in2), GST_FLOW_OK);
    out = gst_harness_pull (f.h);
    assert_ptr_equal (gst_buffer_peek_memory (out, 0),
        gst_buffer_peek_memory (in2, 0));
    assert_non_null (gst_buffer_get_vlm_caption_meta (out));
    assert_null (gst_buffer_get_vlm_caption_meta (in2));
    gst_buffer_map (in2, &a, GST_MAP_READ);
    gst_buffer_map (out, &b, GST_MAP_READ);
    assert_memory_equal (a.data, b.data, a.size);
    gst_buffer_unmap (in2, &a);
    gst_buffer_unmap (out, &b);
    assert_int_equal (GST_BUFFER_PTS (out), GST_SECOND);
    gst_buffer_unref (out);
    gst_buffer_unref (in2);
  }
  gst_buffer_unref (in);
  fixture_free (&f);
}

static void
test_outputs_consistent (void **state)
{
  Fixture f = fixture_new (TRUE, "max-rate", 0, 1, NULL);
  GstHarness *ht = gst_harness_new_with_element (f.e, NULL, "text_src");
  GstMessage *m;
  const GstStructure *s;
  guint64 id = 0, pts = 0;
  gboolean final = FALSE;
  Cap fc;
  GstBuffer *tb, *out;
  GstVlmCaptionMeta *meta;
  GstMapInfo map;

  push_frame (&f, 3, 2 * GST_SECOND);
  assert_true (wait_finals (f.c, 1));
  fc = final_cap (f.c, 0);
  assert_int_equal (fc.id, 1);
  assert_int_equal (fc.pts, 2 * GST_SECOND);
  assert_true (strlen (fc.text) > 0);

  /* message: the final vlm-caption has the same text, id, pts */
  do {
    m = wait_message (f.bus, "vlm-caption");
    assert_non_null (m);
    s = gst_message_get_structure (m);
    gst_structure_get (s, "final", G_TYPE_BOOLEAN, &final, "id",
        G_TYPE_UINT64, &id, "pts", G_TYPE_UINT64, &pts, NULL);
    if (final)
      assert_string_equal (gst_structure_get_string (s, "text"), fc.text);
    gst_message_unref (m);
  } while (!final);
  assert_int_equal (id, 1);
  assert_int_equal (pts, 2 * GST_SECOND);

  /* text pad: the final text stamped with the frame's PTS */
  do {
    tb = gst_harness_pull (ht);
    assert_non_null (tb);
  } while (gst_buffer_get_size (tb) == 0 && (gst_buffer_unref (tb), 1));
  assert_int_equal (GST_BUFFER_PTS (tb), 2 * GST_SECOND);
  gst_buffer_map (tb, &map, GST_MAP_READ);
  assert_int_equal (map.size, strlen (fc.text));
  assert_memory_equal (map.data, fc.text, map.size);
  gst_buffer_unmap (tb, &map);
  gst_buffer_unref (tb);

  /* meta: on the next video buffer */
  assert_int_equal (gst_harness_push (f.h, frame (4, 2 * GST_SECOND +
              GST_SECOND / 10)), GST_FLOW_OK);
  out = gst_harness_pull (f.h);
  meta = gst_buffer_get_vlm_caption_meta (out);
  assert_non_null (meta);
  assert_true (meta->final);
  assert_int_equal (meta->id, 1);
  assert_int_equal (meta->pts, 2 * GST_SECOND);
  assert_string_equal (meta->text, fc.text);
  assert_true (meta->latency > 0);
  gst_buffer_unref (out);

  gst_harness_teardown (ht);
  fixture_free (&f);
}

static void
test_throttle_by_timestamps (void **state)
{
  /* 2 captions per second of stream time; frames every 100 ms for 3 s */
  Fixture f = fixture_new (TRUE, "max-rate", 2, 1, NULL);
  guint expected = 0;

  for (int i = 0; i < 30; i++) {
    guint64 before = stat_u64 (f.e, "offered");

    push_frame (&f, i, i * GST_SECOND / 10);
    if (stat_u64 (f.e, "offered") > before)
      assert_true (wait_finals (f.c, ++expected));
  }
  assert_int_equal (expected, 6);
  for (guint i = 0; i < 6; i++)
    assert_int_equal (final_cap (f.c, i).pts, i * GST_SECOND / 2);
  assert_int_equal (stat_u64 (f.e, "throttled"), 24);
  fixture_free (&f);
}

static void
test_prompt_change_applies_to_next_caption (void **state)
{
  Fixture f = fixture_new (TRUE, "max-rate", 0, 1, "prompt", "Hi.", NULL);
  gint n1, n2;

  push_frame (&f, 1, 0);
  assert_true (wait_finals (f.c, 1));
  n1 = stat_int (f.e, "engine-n-prompt");
  g_object_set (f.e, "prompt", "Please describe every object in this "
      "picture, its colour, its position and what it is used for.", NULL);
  push_frame (&f, 2, GST_SECOND);
  assert_true (wait_finals (f.c, 2));
  n2 = stat_int (f.e, "engine-n-prompt");
  assert_true (n2 > n1 + 10);
  fixture_free (&f);
}

static void
write_temp (const char *zone_dir, int millideg)
{
  gchar *p = g_build_filename (zone_dir, "temp", NULL);
  gchar *v = g_strdup_printf ("%d\n", millideg);

  assert_true (g_file_set_contents (p, v, -1, NULL));
  g_free (p);
  g_free (v);
}

static void
test_thermal_pause_and_resume (void **state)
{
  gchar *root = g_build_filename (tmp_dir, "thermal", NULL);
  gchar *zone = g_build_filename (root, "thermal_zone0", NULL);
  gchar *type = g_build_filename (zone, "type", NULL);
  Fixture f;
  guint64 offered;

  g_mkdir_with_parents (zone, 0755);
  g_file_set_contents (type, "cpu-thermal\n", -1, NULL);
  write_temp (zone, 50000);

  f = fixture_new (TRUE, "max-rate", 0, 1, "thermal-root", root,
      "throttle-temp", 70.0, "cooldown-temp", 85.0, "resume-temp", 75.0,
      NULL);
  push_frame (&f, 1, 0);
  assert_true (wait_message_with (f.bus, "vlm-thermal", "state", "normal"));
  assert_true (wait_finals (f.c, 1));

  /* hot: paused, the frame is not described */
  write_temp (zone, 90000);
  push_frame (&f, 2, GST_SECOND);
  assert_true (wait_message_with (f.bus, "vlm-thermal", "state", "paused"));
  assert_true (wait_message_with (f.bus, "vlm-skip", "reason", "thermal"));
  /* while paused, frames before the next sensor poll are not offered */
  offered = stat_u64 (f.e, "offered");
  push_frame (&f, 3, GST_SECOND + GST_SECOND / 2);
  assert_int_equal (stat_u64 (f.e, "offered"), offered);

  /* cooler but above resume-temp: still paused (hysteresis) */
  write_temp (zone, 80000);
  push_frame (&f, 4, 2 * GST_SECOND);
  assert_true (wait_message_with (f.bus, "vlm-skip", "reason", "thermal"));

  /* below resume and throttle: normal, described again */
  write_temp (zone, 60000);
  push_frame (&f, 5, 3 * GST_SECOND);
  assert_true (wait_message_with (f.bus, "vlm-thermal", "state", "normal"));
  assert_true (wait_finals (f.c, 2));
  assert_int_equal (final_cap (f.c, 1).pts, 3 * GST_SECOND);
  assert_int_equal (stat_u64 (f.e, "captions"), 2);
  fixture_free (&f);
  g_free (type);
  g_free (zone);
  g_free (root);
}

static void
test_thermal_throttled_factor (void **state)
{
  gchar *root = g_build_filename (tmp_dir, "thermal2", NULL);
  gchar *zone = g_build_filename (root, "thermal_zone0", NULL);
  gchar *type = g_build_filename (zone, "type", NULL);
  Fixture f;
  GstMessage *m;
  gdouble factor = -1;

  g_mkdir_with_parents (zone, 0755);
  g_file_set_contents (type, "x86_pkg_temp\n", -1, NULL);
  write_temp (zone, 80000);
  f = fixture_new (TRUE, "max-rate", 1, 1, "thermal-root", root, NULL);
  push_frame (&f, 1, 0);
  m = wait_message (f.bus, "vlm-thermal");
  assert_non_null (m);
  assert_string_equal (gst_structure_get_string (gst_message_get_structure
          (m), "state"), "throttled");
  gst_structure_get_double (gst_message_get_structure (m), "factor", &factor);
  gst_message_unref (m);
  assert_true (factor > 0.0 && factor < 1.0);
  assert_true (wait_finals (f.c, 1));
  /* 1 s later a frame is not due at the reduced rate (only a sensor
   * poll); 1/factor s later it is */
  push_frame (&f, 2, GST_SECOND);
  push_frame (&f, 3, (GstClockTime) (GST_SECOND / factor) + GST_SECOND / 10);
  assert_true (wait_finals (f.c, 2));
  assert_int_equal (final_cap (f.c, 1).pts,
      (GstClockTime) (GST_SECOND / factor) + GST_SECOND / 10);
  fixture_free (&f);
  g_free (type);
  g_free (zone);
  g_free (root);
}

static void
test_no_sensor_one_warning (void **state)
{
  gchar *root = g_build_filename (tmp_dir, "nothermal", NULL);
  Fixture f;
  GstMessage *m;
  guint warnings = 0;

  g_mkdir_with_parents (root, 0755);
  f = fixture_new (FALSE, "max-rate", 0, 1, "thermal-root", root, NULL);
  /* the warning comes before "ready" */
  for (;;) {
    m = gst_bus_timed_pop (f.bus, WAIT_S * GST_SECOND);
    assert_non_null (m);
    if (GST_MESSAGE_TYPE (m) == GST_MESSAGE_WARNING)
      warnings++;
    if (GST_MESSAGE_TYPE (m) == GST_MESSAGE_ELEMENT
        && !g_strcmp0 (gst_structure_get_string (gst_message_get_structure
                (m), "state"), "ready")) {
      gst_message_unref (m);
      break;
    }
    gst_message_unref (m);
  }
  push_frame (&f, 1, 0);
  push_frame (&f, 2, GST_SECOND);
  assert_true (wait_finals (f.c, 1));
  while ((m = gst_bus_pop_filtered (f.bus, GST_MESSAGE_WARNING))) {
    warnings++;
    gst_message_unref (m);
  }
  assert_int_equal (warnings, 1);
  fixture_free (&f);
  g_free (root);
}

static void
test_static_scene_skipped (void **state)
{
  Fixture f = fixture_new (TRUE, "max-rate", 0, 1,
      "scene-change-threshold", 0.05, NULL);

  push_frame (&f, 1, 0);
  assert_true (wait_finals (f.c, 1));
  push_frame (&f, 1, GST_SECOND);       /* same picture */
  assert_true (wait_message_with (f.bus, "vlm-skip", "reason",
          "static-scene"));
  assert_int_equal (stat_u64 (f.e, "skipped-static"), 1);
  push_frame (&f, 40, 2 * GST_SECOND);  /* another picture */
  assert_true (wait_finals (f.c, 2));
  assert_int_equal (final_cap (f.c, 1).pts, 2 * GST_SECOND);
  fixture_free (&f);
}

static void
test_not_continuous_describes_on_request_only (void **state)
{
  Fixture f = fixture_new (TRUE, "max-rate", 0, 1, "continuous", FALSE,
      NULL);

  for (int i = 0; i < 5; i++)
    push_frame (&f, i, i * GST_SECOND / 10);
  assert_int_equal (stat_u64 (f.e, "offered"), 0);
  g_signal_emit_by_name (f.e, "describe-now");
  push_frame (&f, 7, GST_SECOND);
  assert_true (wait_finals (f.c, 1));
  assert_int_equal (final_cap (f.c, 0).pts, GST_SECOND);
  for (int i = 0; i < 5; i++)
    push_frame (&f, 10 + i, 2 * GST_SECOND + i * GST_SECOND / 10);
  /* one request, one frame */
  assert_int_equal (stat_u64 (f.e, "offered"), 1);
  assert_int_equal (stat_u64 (f.e, "described"), 1);
  fixture_free (&f);
}

static void
test_describe_now_overrides_rate_and_scene (void **state)
{
  Fixture f = fixture_new (TRUE, "max-rate", 1, 100,
      "scene-change-threshold", 0.05, NULL);

  push_frame (&f, 1, 0);
  assert_true (wait_finals (f.c, 1));
  push_frame (&f, 1, GST_SECOND);       /* throttled by the rate */
  assert_int_equal (stat_u64 (f.e, "offered"), 1);
  g_signal_emit_by_name (f.e, "describe-now");
  push_frame (&f, 1, 2 * GST_SECOND);   /* same picture, forced */
  assert_true (wait_finals (f.c, 2));
  assert_int_equal (final_cap (f.c, 1).pts, 2 * GST_SECOND);
  assert_int_equal (stat_u64 (f.e, "skipped-static"), 0);
  fixture_free (&f);
}

/* drop-frames=FALSE: frames pushed as fast as possible (a file) wait for
 * the model, from before it is loaded on: every due frame is described. */
static void
test_no_drop_describes_every_due_frame (void **state)
{
  Fixture f = fixture_new (FALSE, "max-rate", 2, 1, "drop-frames", FALSE,
      NULL);

  for (int i = 0; i < 30; i++)
    push_frame (&f, i, i * GST_SECOND / 10);
  assert_true (wait_finals (f.c, 6));
  for (guint i = 0; i < 6; i++)
    assert_int_equal (final_cap (f.c, i).pts, i * GST_SECOND / 2);
  assert_int_equal (stat_u64 (f.e, "described"), 6);
  assert_int_equal (stat_u64 (f.e, "throttled"), 24);
  fixture_free (&f);
}

typedef struct {
  Fixture *f;
  gint done;                    /* atomic: the push returned */
} PushJob;

static gpointer
push_second (gpointer data)
{
  PushJob *j = data;

  gst_harness_push (j->f->h, frame (2, GST_SECOND));
  g_atomic_int_set (&j->done, 1);
  return NULL;
}

/* A streaming thread waiting for the busy model is released by a flush. */
static void
test_no_drop_wait_ends_on_flush (void **state)
{
  Fixture f = fixture_new (TRUE, "max-rate", 0, 1, "drop-frames", FALSE,
      "max-tokens", 4096, "post-messages", TRUE, NULL);
  PushJob j = { &f, 0 };
  GstMessage *m;
  GThread *t;

  gst_harness_set_drop_buffers (f.h, TRUE);
  assert_int_equal (gst_harness_push (f.h, frame (1, 0)), GST_FLOW_OK);
  /* inference has started when the first piece is out */
  m = wait_message (f.bus, "vlm-caption");
  assert_non_null (m);
  gst_message_unref (m);
  t = g_thread_new ("push", push_second, &j);
  g_usleep (G_USEC_PER_SEC / 5);
  assert_int_equal (g_atomic_int_get (&j.done), 0);     /* it waits */
  assert_true (gst_harness_push_event (f.h, gst_event_new_flush_start ()));
  g_thread_join (t);
  assert_int_equal (g_atomic_int_get (&j.done), 1);
  assert_true (gst_harness_push_event (f.h, gst_event_new_flush_stop (TRUE)));
  assert_int_equal (stat_u64 (f.e, "described"), 1);
  fixture_free (&f);
}

static void
test_eos_drains_caption_in_flight (void **state)
{
  Fixture f = fixture_new (TRUE, "max-rate", 0, 1, "drain-on-eos", TRUE,
      NULL);
  GstHarness *ht = gst_harness_new_with_element (f.e, NULL, "text_src");
  GstEvent *ev;
  gboolean got_eos = FALSE;

  push_frame (&f, 1, 0);
  assert_true (gst_harness_push_event (f.h, gst_event_new_eos ()));
  /* EOS left the element after the caption was complete */
  g_mutex_lock (&f.c->lock);
  assert_int_equal (f.c->n_final, 1);
  g_mutex_unlock (&f.c->lock);
  while ((ev = gst_harness_try_pull_event (ht))) {
    got_eos |= GST_EVENT_TYPE (ev) == GST_EVENT_EOS;
    gst_event_unref (ev);
  }
  /* text_src: EOS pushed by the worker, after the text */
  if (!got_eos) {
    for (int i = 0; i < 100 && !got_eos; i++) {
      ev = gst_harness_pull_event (ht);
      assert_non_null (ev);
      got_eos = GST_EVENT_TYPE (ev) == GST_EVENT_EOS;
      gst_event_unref (ev);
    }
  }
  assert_true (got_eos);
  gst_harness_teardown (ht);
  fixture_free (&f);
}

static void
test_flush_aborts_fast (void **state)
{
  Fixture f = fixture_new (TRUE, "max-rate", 0, 1, "max-tokens", 4096,
      "post-messages", TRUE, NULL);
  gint64 t0;
  GstBuffer *out;
  GstMessage *m;

  push_frame (&f, 1, 0);
  /* inference has started when the first piece is out */
  m = wait_message (f.bus, "vlm-caption");
  assert_non_null (m);
  gst_message_unref (m);
  t0 = g_get_monotonic_time ();
  assert_true (gst_harness_push_event (f.h, gst_event_new_flush_start ()));
  assert_true (gst_harness_push_event (f.h, gst_event_new_flush_stop (TRUE)));
  /* well under 100 ms (20 times that under valgrind) */
  assert_true (g_get_monotonic_time () - t0
      < 100 * 1000 * (RUNNING_ON_VALGRIND ? 20 : 1));
  /* after the flush the old caption is gone from the video */
  gst_harness_set_src_caps (f.h, gst_caps_new_simple ("video/x-raw",
          "format", G_TYPE_STRING, "RGB", "width", G_TYPE_INT, W,
          "height", G_TYPE_INT, H, "framerate", GST_TYPE_FRACTION, 10, 1,
          NULL));
  {
    GstSegment seg;
    gst_segment_init (&seg, GST_FORMAT_TIME);
    assert_true (gst_harness_push_event (f.h, gst_event_new_segment (&seg)));
  }
  assert_int_equal (gst_harness_push (f.h, frame (2, 0)), GST_FLOW_OK);
  out = gst_harness_pull (f.h);
  assert_null (gst_buffer_get_vlm_caption_meta (out));
  gst_buffer_unref (out);
  fixture_free (&f);
}

/* ------------------------------------------------------------------ */
/* Errors                                                              */
/* ------------------------------------------------------------------ */

/* Starts a pipeline with the given vlmdescribe properties and returns
 * the error message posted (NULL if none within WAIT_S). */
static GstMessage *
error_of (const char *props)
{
  gchar *desc = g_strdup_printf ("videotestsrc is-live=true ! "
      "video/x-raw,width=64,height=48 ! vlmdescribe %s ! fakesink", props);
  GstElement *p = gst_parse_launch (desc, NULL);
  GstBus *bus = gst_element_get_bus (p);
  GstMessage *m;

  g_free (desc);
  gst_element_set_state (p, GST_STATE_PLAYING);
  m = gst_bus_timed_pop_filtered (bus, WAIT_S * GST_SECOND,
      GST_MESSAGE_ERROR);
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (p);
  return m;
}

static void
assert_error (GstMessage * m, const char *user, const char *debug)
{
  GError *e = NULL;
  gchar *dbg = NULL;

  assert_non_null (m);
  gst_message_parse_error (m, &e, &dbg);
  if (strstr (e->message, user) == NULL)
    fail_msg ("user message \"%s\" lacks \"%s\"", e->message, user);
  if (debug && (dbg == NULL || strstr (dbg, debug) == NULL))
    fail_msg ("debug \"%s\" lacks \"%s\"", dbg, debug);
  g_error_free (e);
  g_free (dbg);
  gst_message_unref (m);
}

static void
test_error_missing_file (void **state)
{
  gchar *props = g_strdup_printf ("model=%s/nope.gguf mmproj=%s", tmp_dir,
      mmproj_path);

  assert_error (error_of (props), "Could not read the model files",
      "vlm_model_load() failed");
  g_free (props);
}

static void
test_error_not_gguf (void **state)
{
  gchar *bad = g_build_filename (tmp_dir, "bad.gguf", NULL);
  gchar *props;

  g_file_set_contents (bad, "this is not a model at all, just some text "
      "that is long enough", -1, NULL);
  props = g_strdup_printf ("model=%s mmproj=%s", bad, mmproj_path);
  assert_error (error_of (props), "not a GGUF model", "vlm_model_load()");
  g_free (props);
  g_free (bad);
}

static void
test_error_mismatch (void **state)
{
  gchar *props = g_strdup_printf ("model=%s mmproj=%s", text_path,
      mlp_mmproj_path);

  assert_error (error_of (props), "does not belong to the text model",
      "vlm_model_load() failed");
  g_free (props);
}

static void
test_error_no_model_property (void **state)
{
  assert_error (error_of (""), "No model given", NULL);
}

static void
test_error_absent_device (void **state)
{
  gchar *props = g_strdup_printf ("model=%s mmproj=%s device=gpu",
      text_path, mmproj_path);

  assert_error (error_of (props), "runs on the CPU only", "device=gpu");
  g_free (props);
}

/* ------------------------------------------------------------------ */
/* Life cycle                                                          */
/* ------------------------------------------------------------------ */

static void
test_playing_null_cycles_during_inference (void **state)
{
  /* random weights: a caption may be all unprintable tokens, which
   * posts nothing until it ends; under valgrind that must come soon */
  gchar *desc = g_strdup_printf ("videotestsrc is-live=true pattern=ball ! "
      "video/x-raw,width=64,height=48,framerate=30/1 ! vlmdescribe "
      "model=%s mmproj=%s max-rate=0/1 max-tokens=%d threads=1 "
      "scene-change-threshold=0 worker-nice=0 thermal-root=%s ! fakesink",
      small_text_path, small_mmproj_path, RUNNING_ON_VALGRIND ? 24 : 512,
      tmp_dir);
  GstElement *p = gst_parse_launch (desc, NULL);
  GstBus *bus = gst_element_get_bus (p);
  /* 200 cycles natively and under ASan; under valgrind (CI runs this
   * test a second time there) each cycle costs seconds, so 20 cycles
   * show the same per-cycle leaks and errors in reasonable time */
  int cycles = RUNNING_ON_VALGRIND ? 20 : 200;

  assert_non_null (p);
  for (int i = 0; i < cycles; i++) {
    GstMessage *m;

    assert_int_not_equal (gst_element_set_state (p, GST_STATE_PLAYING),
        GST_STATE_CHANGE_FAILURE);
    /* a piece of a caption: inference is running */
    m = wait_message (bus, "vlm-caption");
    assert_non_null (m);
    gst_message_unref (m);
    assert_int_equal (gst_element_set_state (p, GST_STATE_NULL),
        GST_STATE_CHANGE_SUCCESS);
    gst_bus_set_flushing (bus, TRUE);
    gst_bus_set_flushing (bus, FALSE);
  }
  gst_object_unref (bus);
  gst_object_unref (p);
  g_free (desc);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_plugin_registers_element),
    cmocka_unit_test (test_convert_formats),
    cmocka_unit_test (test_convert_letterbox_has_bars_crop_has_none),
    cmocka_unit_test (test_passthrough_bit_exact),
    cmocka_unit_test (test_outputs_consistent),
    cmocka_unit_test (test_throttle_by_timestamps),
    cmocka_unit_test (test_prompt_change_applies_to_next_caption),
    cmocka_unit_test (test_thermal_pause_and_resume),
    cmocka_unit_test (test_thermal_throttled_factor),
    cmocka_unit_test (test_no_sensor_one_warning),
    cmocka_unit_test (test_static_scene_skipped),
    cmocka_unit_test (test_not_continuous_describes_on_request_only),
    cmocka_unit_test (test_describe_now_overrides_rate_and_scene),
    cmocka_unit_test (test_no_drop_describes_every_due_frame),
    cmocka_unit_test (test_no_drop_wait_ends_on_flush),
    cmocka_unit_test (test_eos_drains_caption_in_flight),
    cmocka_unit_test (test_flush_aborts_fast),
    cmocka_unit_test (test_error_missing_file),
    cmocka_unit_test (test_error_not_gguf),
    cmocka_unit_test (test_error_mismatch),
    cmocka_unit_test (test_error_no_model_property),
    cmocka_unit_test (test_error_absent_device),
    cmocka_unit_test (test_playing_null_cycles_during_inference),
  };

  if (getenv ("VLM_TEST_FILTER"))
    cmocka_set_test_filter (getenv ("VLM_TEST_FILTER"));
  return cmocka_run_group_tests (tests, group_setup, group_teardown);
}

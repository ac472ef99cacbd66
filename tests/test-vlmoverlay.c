/* gst-vlm — tests of the vlmoverlay element.
 *
 * The element comes from the plugin found through GST_PLUGIN_PATH (set by
 * tests/meson.build to the build's elements/ dir, with a private
 * registry). Expected frames are drawn by the overlay library itself
 * (vlm_overlay_draw with the same parameters on a copy of the input), so
 * a test compares whole frames byte for byte. Frames are pushed through a
 * GstHarness on the test's thread: no waits, no sleeps.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <gst/gst.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>
#include <stdio.h>
#include <string.h>

#include "gstvlmcaptionmeta.h"
#include "overlay.h"

#define W 160
#define H 120
#define MS (GST_MSECOND)

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

static vlm_overlay_format
to_ov_format (GstVideoFormat f)
{
  switch (f) {
    case GST_VIDEO_FORMAT_RGBA:
      return VLM_OVERLAY_FORMAT_RGBA;
    case GST_VIDEO_FORMAT_BGRA:
      return VLM_OVERLAY_FORMAT_BGRA;
    case GST_VIDEO_FORMAT_RGBx:
      return VLM_OVERLAY_FORMAT_RGBx;
    case GST_VIDEO_FORMAT_BGRx:
      return VLM_OVERLAY_FORMAT_BGRx;
    case GST_VIDEO_FORMAT_RGB:
      return VLM_OVERLAY_FORMAT_RGB;
    case GST_VIDEO_FORMAT_I420:
      return VLM_OVERLAY_FORMAT_I420;
    case GST_VIDEO_FORMAT_NV12:
      return VLM_OVERLAY_FORMAT_NV12;
    default:
      fail_msg ("format %s", gst_video_format_to_string (f));
      return VLM_OVERLAY_N_FORMATS;
  }
}

/* A harness around a new vlmoverlay with raw video caps. */
static GstHarness *
make_harness (const char *format, int w, int h, GstVideoInfo * info)
{
  GstHarness *hr = gst_harness_new ("vlmoverlay");
  gchar *caps = g_strdup_printf ("video/x-raw,format=%s,width=%d,height=%d,"
      "framerate=10/1", format, w, h);

  assert_non_null (hr);
  gst_harness_set_src_caps_str (hr, caps);
  if (info) {
    GstCaps *c = gst_caps_from_string (caps);

    assert_true (gst_video_info_from_caps (info, c));
    gst_caps_unref (c);
  }
  g_free (caps);
  return hr;
}

/* A frame with a deterministic pattern (different per seed). */
static GstBuffer *
make_frame (const GstVideoInfo * info, GstClockTime pts, guint seed)
{
  GstBuffer *buf = gst_buffer_new_allocate (NULL, info->size, NULL);
  GstMapInfo map;

  assert_true (gst_buffer_map (buf, &map, GST_MAP_WRITE));
  for (gsize i = 0; i < map.size; i++)
    map.data[i] = (guint8) ((i * 7 + (i / 97) * 13 + seed * 31) & 0xff);
  gst_buffer_unmap (buf, &map);
  GST_BUFFER_PTS (buf) = pts;
  GST_BUFFER_DURATION (buf) = 100 * MS;
  return buf;
}

static GstBuffer *
with_meta (GstBuffer * buf, const char *text, gboolean final, guint64 id)
{
  gst_buffer_add_vlm_caption_meta (buf, text, final, id, 0, 0);
  return buf;
}

/* A copy of `in` with `text` drawn by the library (params p, opacity). */
static GstBuffer *
reference (GstBuffer * in, const GstVideoInfo * info, const char *text,
    vlm_overlay_params p, float opacity, vlm_overlay_panel * panel_out)
{
  GstBuffer *out = gst_buffer_copy_deep (in);
  GstVideoFrame vf;
  vlm_overlay_frame f;
  vlm_overlay *ov;
  char err[256];

  ov = vlm_overlay_new (p, NULL, err, sizeof err);
  assert_non_null (ov);
  assert_true (gst_video_frame_map (&vf, info, out, GST_MAP_READWRITE));
  memset (&f, 0, sizeof f);
  f.format = to_ov_format (GST_VIDEO_INFO_FORMAT (info));
  f.width = GST_VIDEO_INFO_WIDTH (info);
  f.height = GST_VIDEO_INFO_HEIGHT (info);
  for (guint i = 0; i < GST_VIDEO_FRAME_N_PLANES (&vf); i++) {
    f.data[i] = GST_VIDEO_FRAME_PLANE_DATA (&vf, i);
    f.stride[i] = GST_VIDEO_FRAME_PLANE_STRIDE (&vf, i);
  }
  assert_int_equal (vlm_overlay_draw (ov, text, &f, opacity), VLM_OVERLAY_OK);
  if (panel_out)
    vlm_overlay_get_panel (ov, panel_out);
  gst_video_frame_unmap (&vf);
  vlm_overlay_free (ov);
  return out;
}

static gboolean
same_bytes (GstBuffer * a, GstBuffer * b)
{
  GstMapInfo ma, mb;
  gboolean same;

  assert_true (gst_buffer_map (a, &ma, GST_MAP_READ));
  assert_true (gst_buffer_map (b, &mb, GST_MAP_READ));
  same = ma.size == mb.size && memcmp (ma.data, mb.data, ma.size) == 0;
  gst_buffer_unmap (b, &mb);
  gst_buffer_unmap (a, &ma);
  return same;
}

/* Pushes `in` (keeping a deep copy of it in *copy) and pulls the output. */
static GstBuffer *
push_pull (GstHarness * hr, GstBuffer * in, GstBuffer ** copy)
{
  GstBuffer *out;

  *copy = gst_buffer_copy_deep (in);
  assert_int_equal (gst_harness_push (hr, in), GST_FLOW_OK);
  out = gst_harness_try_pull (hr);
  assert_non_null (out);
  return out;
}

/* Pushes a frame and checks the output is `text` drawn at `opacity`
 * (opacity 0 or text NULL: the input unchanged). */
static void
check_frame (GstHarness * hr, const GstVideoInfo * info, GstBuffer * in,
    const char *text, vlm_overlay_params p, float opacity)
{
  GstBuffer *copy, *out, *ref;

  out = push_pull (hr, in, &copy);
  if (text == NULL || opacity <= 0.0f)
    ref = gst_buffer_ref (copy);
  else
    ref = reference (copy, info, text, p, opacity, NULL);
  if (!same_bytes (out, ref))
    fail_msg ("frame at %" GST_TIME_FORMAT ": expected \"%s\" at opacity %g",
        GST_TIME_ARGS (GST_BUFFER_PTS (out)), text ? text : "(none)",
        (double) opacity);
  gst_buffer_unref (ref);
  gst_buffer_unref (copy);
  gst_buffer_unref (out);
}

static guint64
stat (GstHarness * hr, const char *field)
{
  GstStructure *s = NULL;
  guint64 v = 0;

  g_object_get (hr->element, "stats", &s, NULL);
  assert_non_null (s);
  assert_true (gst_structure_get_uint64 (s, field, &v));
  gst_structure_free (s);
  return v;
}

static const char *const FORMATS[] = {
  "RGBA", "BGRA", "RGBx", "BGRx", "RGB", "I420", "NV12",
};

/* ------------------------------------------------------------------ */
/* Properties                                                          */
/* ------------------------------------------------------------------ */

static void
test_property_defaults (void **state)
{
  GstElement *e = gst_element_factory_make ("vlmoverlay", NULL);
  vlm_overlay_params d = vlm_overlay_params_default ();
  gchar *font = (gchar *) "x";
  gdouble font_size, margin, hold, fade;
  gint max_lines, position, theme, effect;
  gboolean enabled;

  assert_non_null (e);
  g_object_get (e, "font", &font, "font-size", &font_size, "margin", &margin,
      "hold-time", &hold, "fade-time", &fade, "max-lines", &max_lines,
      "position", &position, "theme", &theme, "effect", &effect,
      "enabled", &enabled, NULL);
  assert_null (font);
  assert_true (font_size == d.font_size);
  assert_true (margin == d.margin);
  assert_int_equal (max_lines, d.max_lines);
  assert_int_equal (position, VLM_OVERLAY_POSITION_BOTTOM);
  assert_int_equal (theme, VLM_OVERLAY_THEME_DARK);
  assert_int_equal (effect, VLM_OVERLAY_EFFECT_OUTLINE);
  assert_true (hold == 5.0);
  assert_true (fade == 1.0);
  assert_true (enabled);
  gst_object_unref (e);
}

static void
test_property_blurbs_and_nicks (void **state)
{
  static const char *const props[] = {
    "position", "font", "font-size", "theme", "max-lines", "hold-time",
    "fade-time", "margin", "enabled", "effect",
  };
  static const char *const nicks[][2] = {
    {"position", "top"}, {"position", "bottom"}, {"position", "center"},
    {"theme", "dark"}, {"theme", "high-contrast"}, {"theme", "light"},
    {"theme", "clear"}, {"effect", "outline"}, {"effect", "shadow"},
    {"effect", "none"},
  };
  GstElement *e = gst_element_factory_make ("vlmoverlay", NULL);
  GObjectClass *klass = G_OBJECT_GET_CLASS (e);

  for (guint i = 0; i < G_N_ELEMENTS (props); i++) {
    GParamSpec *ps = g_object_class_find_property (klass, props[i]);

    assert_non_null (ps);
    if (strstr (g_param_spec_get_blurb (ps), "default") == NULL)
      fail_msg ("%s: blurb without its default", props[i]);
  }
  for (guint i = 0; i < G_N_ELEMENTS (nicks); i++) {
    GParamSpec *ps = g_object_class_find_property (klass, nicks[i][0]);
    GEnumClass *ec;
    gint v;

    assert_true (G_IS_PARAM_SPEC_ENUM (ps));
    ec = G_PARAM_SPEC_ENUM (ps)->enum_class;
    assert_non_null (g_enum_get_value_by_nick (ec, nicks[i][1]));
    gst_util_set_object_arg (G_OBJECT (e), nicks[i][0], nicks[i][1]);
    g_object_get (e, nicks[i][0], &v, NULL);
    assert_int_equal (v, g_enum_get_value_by_nick (ec, nicks[i][1])->value);
  }
  gst_object_unref (e);
}

/* ------------------------------------------------------------------ */
/* Drawing the meta caption                                            */
/* ------------------------------------------------------------------ */

static void
test_meta_caption_drawn (void **state)
{
  GstVideoInfo info;
  GstHarness *hr = make_harness ("RGBA", W, H, &info);
  GstBuffer *in = with_meta (make_frame (&info, 0, 1), "A red door", TRUE, 1);
  GstBuffer *copy, *out, *ref;

  out = push_pull (hr, in, &copy);
  ref = reference (copy, &info, "A red door", vlm_overlay_params_default (),
      1.0f, NULL);
  assert_false (same_bytes (out, copy));        /* something was drawn */
  assert_true (same_bytes (out, ref));  /* and it is the caption */
  gst_buffer_unref (ref);
  gst_buffer_unref (copy);
  gst_buffer_unref (out);
  gst_harness_teardown (hr);
}

static void
test_changes_only_inside_panel (void **state)
{
  GstVideoInfo info;
  GstHarness *hr = make_harness ("RGBA", W, H, &info);
  GstBuffer *in = with_meta (make_frame (&info, 0, 2), "Stairs ahead", TRUE,
      1);
  GstBuffer *copy, *out, *ref;
  GstMapInfo mo, mc;
  vlm_overlay_panel pn;
  guint changed_inside = 0;

  out = push_pull (hr, in, &copy);
  ref = reference (copy, &info, "Stairs ahead", vlm_overlay_params_default (),
      1.0f, &pn);
  assert_true (pn.width > 0 && pn.height > 0);
  assert_true (gst_buffer_map (out, &mo, GST_MAP_READ));
  assert_true (gst_buffer_map (copy, &mc, GST_MAP_READ));
  for (int y = 0; y < H; y++) {
    for (int x = 0; x < W; x++) {
      gsize o = (gsize) y * GST_VIDEO_INFO_PLANE_STRIDE (&info, 0) + x * 4;
      gboolean inside = x >= pn.x && x < pn.x + pn.width && y >= pn.y &&
          y < pn.y + pn.height;
      gboolean differs = memcmp (mo.data + o, mc.data + o, 4) != 0;

      if (differs && !inside)
        fail_msg ("pixel %d,%d outside the panel changed", x, y);
      changed_inside += differs;
    }
  }
  assert_true (changed_inside > 0);
  gst_buffer_unmap (copy, &mc);
  gst_buffer_unmap (out, &mo);
  gst_buffer_unref (ref);
  gst_buffer_unref (copy);
  gst_buffer_unref (out);
  gst_harness_teardown (hr);
}

static void
test_formats_negotiate_and_draw (void **state)
{
  for (guint i = 0; i < G_N_ELEMENTS (FORMATS); i++) {
    GstVideoInfo info;
    GstHarness *hr = make_harness (FORMATS[i], W, H, &info);
    GstBuffer *in = with_meta (make_frame (&info, 0, i), "Crossing", TRUE, 1);
    GstBuffer *copy, *out, *ref;
    GstCaps *caps;

    out = push_pull (hr, in, &copy);
    caps = gst_pad_get_current_caps (hr->sinkpad);
    assert_non_null (caps);
    assert_string_equal (gst_structure_get_string (gst_caps_get_structure
            (caps, 0), "format"), FORMATS[i]);
    gst_caps_unref (caps);
    ref = reference (copy, &info, "Crossing", vlm_overlay_params_default (),
        1.0f, NULL);
    if (same_bytes (out, copy) || !same_bytes (out, ref))
      fail_msg ("%s: caption not drawn as the library draws it", FORMATS[i]);
    gst_buffer_unref (ref);
    gst_buffer_unref (copy);
    gst_buffer_unref (out);
    gst_harness_teardown (hr);
  }
}

static void
test_odd_and_small_sizes (void **state)
{
  static const int sizes[][2] = {
    {1, 1}, {2, 2}, {3, 5}, {7, 3}, {33, 17}, {64, 48}, {65, 49},
  };
  static const char *const fmts[] = { "RGB", "RGBA", "I420", "NV12" };

  for (guint s = 0; s < G_N_ELEMENTS (sizes); s++) {
    for (guint i = 0; i < G_N_ELEMENTS (fmts); i++) {
      GstVideoInfo info;
      GstHarness *hr = make_harness (fmts[i], sizes[s][0], sizes[s][1],
          &info);
      GstBuffer *in = with_meta (make_frame (&info, 0, s), "Tiny frame",
          TRUE, 1);

      check_frame (hr, &info, in, "Tiny frame", vlm_overlay_params_default (),
          1.0f);
      gst_harness_teardown (hr);
    }
  }
}

/* ------------------------------------------------------------------ */
/* Streaming reveal, hold and fade                                     */
/* ------------------------------------------------------------------ */

static void
test_partial_caption_grows (void **state)
{
  static const char *const steps[] = {
    "A", "A dog", "A dog sleeps", "A dog sleeps on the sofa",
  };
  GstVideoInfo info;
  GstHarness *hr = make_harness ("RGBA", W, H, &info);
  vlm_overlay_params p = vlm_overlay_params_default ();

  for (guint i = 0; i < G_N_ELEMENTS (steps); i++)
    check_frame (hr, &info, with_meta (make_frame (&info, i * 100 * MS, i),
            steps[i], FALSE, 1), steps[i], p, 1.0f);
  gst_harness_teardown (hr);
}

static void
test_partial_caption_not_faded (void **state)
{
  GstVideoInfo info;
  GstHarness *hr = make_harness ("RGBA", W, H, &info);
  vlm_overlay_params p = vlm_overlay_params_default ();

  g_object_set (hr->element, "hold-time", 0.0, "fade-time", 0.0, NULL);
  check_frame (hr, &info, with_meta (make_frame (&info, 0, 1), "Walking",
          FALSE, 1), "Walking", p, 1.0f);
  /* 10 s later, still streaming (meta present, not final): still shown */
  check_frame (hr, &info, with_meta (make_frame (&info, 10 * GST_SECOND, 2),
          "Walking", FALSE, 1), "Walking", p, 1.0f);
  gst_harness_teardown (hr);
}

static void
test_final_caption_holds_then_fades (void **state)
{
  /* hold 1 s, fade 1 s; the caption arrives at 0 s, then buffers come
   * without a meta */
  static const struct {
    GstClockTime pts;
    float opacity;
  } seq[] = {
    {500 * MS, 1.0f}, {1000 * MS, 1.0f}, {1250 * MS, 0.75f},
    {1500 * MS, 0.5f}, {1750 * MS, 0.25f}, {2000 * MS, 0.0f},
    {3000 * MS, 0.0f},
  };
  GstVideoInfo info;
  GstHarness *hr = make_harness ("RGBA", W, H, &info);
  vlm_overlay_params p = vlm_overlay_params_default ();

  g_object_set (hr->element, "hold-time", 1.0, "fade-time", 1.0, NULL);
  check_frame (hr, &info, with_meta (make_frame (&info, 0, 0), "Bus stop",
          TRUE, 1), "Bus stop", p, 1.0f);
  for (guint i = 0; i < G_N_ELEMENTS (seq); i++)
    check_frame (hr, &info, make_frame (&info, seq[i].pts, i + 1),
        "Bus stop", p, seq[i].opacity);
  gst_harness_teardown (hr);
}

static void
test_final_caption_timed_from_when_final (void **state)
{
  /* the same final meta on every buffer (as vlmdescribe sends it) fades
   * from the first buffer where it was final, not from each buffer */
  GstVideoInfo info;
  GstHarness *hr = make_harness ("RGBA", W, H, &info);
  vlm_overlay_params p = vlm_overlay_params_default ();

  g_object_set (hr->element, "hold-time", 1.0, "fade-time", 1.0, NULL);
  check_frame (hr, &info, with_meta (make_frame (&info, 0, 0), "A cup",
          FALSE, 7), "A cup", p, 1.0f);
  check_frame (hr, &info, with_meta (make_frame (&info, 500 * MS, 1),
          "A cup", TRUE, 7), "A cup", p, 1.0f);
  check_frame (hr, &info, with_meta (make_frame (&info, 2000 * MS, 2),
          "A cup", TRUE, 7), "A cup", p, 0.5f);
  check_frame (hr, &info, with_meta (make_frame (&info, 2500 * MS, 3),
          "A cup", TRUE, 7), "A cup", p, 0.0f);
  gst_harness_teardown (hr);
}

static void
test_new_caption_replaces_fading_one (void **state)
{
  GstVideoInfo info;
  GstHarness *hr = make_harness ("RGBA", W, H, &info);
  vlm_overlay_params p = vlm_overlay_params_default ();

  g_object_set (hr->element, "hold-time", 1.0, "fade-time", 1.0, NULL);
  check_frame (hr, &info, with_meta (make_frame (&info, 0, 0), "Old text",
          TRUE, 1), "Old text", p, 1.0f);
  check_frame (hr, &info, make_frame (&info, 1500 * MS, 1), "Old text", p,
      0.5f);
  check_frame (hr, &info, with_meta (make_frame (&info, 1600 * MS, 2),
          "New", FALSE, 2), "New", p, 1.0f);
  gst_harness_teardown (hr);
}

static void
test_no_caption_is_untouched (void **state)
{
  GstVideoInfo info;
  GstHarness *hr = make_harness ("NV12", W, H, &info);

  check_frame (hr, &info, make_frame (&info, 0, 3), NULL,
      vlm_overlay_params_default (), 0.0f);
  assert_int_equal (stat (hr, "drawn"), 0);
  gst_harness_teardown (hr);
}

/* ------------------------------------------------------------------ */
/* text_sink                                                           */
/* ------------------------------------------------------------------ */

static GstBuffer *
text_buffer (const char *text, GstClockTime pts, GstClockTime dur)
{
  GstBuffer *b = gst_buffer_new_memdup (text, strlen (text));

  GST_BUFFER_PTS (b) = pts;
  GST_BUFFER_DURATION (b) = dur;
  return b;
}

static void
test_text_sink_window (void **state)
{
  GstVideoInfo info;
  GstHarness *hr = make_harness ("I420", W, H, &info);
  GstHarness *th = gst_harness_new_with_element (hr->element, "text_sink",
      NULL);
  vlm_overlay_params p = vlm_overlay_params_default ();

  gst_harness_set_src_caps_str (th, "text/x-raw,format=utf8");
  assert_int_equal (gst_harness_push (th, text_buffer ("Subtitle one\n",
              GST_SECOND, GST_SECOND)), GST_FLOW_OK);
  /* video frames are 100 ms long: [0.5, 0.6) is before the window,
   * [1.0, 1.1) and [1.5, 1.6) inside, [2.0, 2.1) after */
  check_frame (hr, &info, make_frame (&info, 500 * MS, 0), NULL, p, 0.0f);
  check_frame (hr, &info, make_frame (&info, 1000 * MS, 1), "Subtitle one",
      p, 1.0f);
  check_frame (hr, &info, make_frame (&info, 1500 * MS, 2), "Subtitle one",
      p, 1.0f);
  check_frame (hr, &info, make_frame (&info, 2000 * MS, 3), NULL, p, 0.0f);
  gst_harness_teardown (th);
  gst_harness_teardown (hr);
}

static void
test_text_sink_untimed_fades (void **state)
{
  GstVideoInfo info;
  GstHarness *hr = make_harness ("RGBA", W, H, &info);
  GstHarness *th = gst_harness_new_with_element (hr->element, "text_sink",
      NULL);
  vlm_overlay_params p = vlm_overlay_params_default ();

  g_object_set (hr->element, "hold-time", 1.0, "fade-time", 1.0, NULL);
  gst_harness_set_src_caps_str (th, "text/x-raw,format=utf8");
  assert_int_equal (gst_harness_push (th, text_buffer ("Door open", 0,
              GST_CLOCK_TIME_NONE)), GST_FLOW_OK);
  check_frame (hr, &info, make_frame (&info, 0, 0), "Door open", p, 1.0f);
  check_frame (hr, &info, make_frame (&info, 1500 * MS, 1), "Door open", p,
      0.5f);
  check_frame (hr, &info, make_frame (&info, 2500 * MS, 2), NULL, p, 0.0f);
  gst_harness_teardown (th);
  gst_harness_teardown (hr);
}

static void
test_text_sink_wins_over_meta (void **state)
{
  GstVideoInfo info;
  GstHarness *hr = make_harness ("RGBA", W, H, &info);
  GstHarness *th = gst_harness_new_with_element (hr->element, "text_sink",
      NULL);
  vlm_overlay_params p = vlm_overlay_params_default ();

  gst_harness_set_src_caps_str (th, "text/x-raw,format=utf8");
  assert_int_equal (gst_harness_push (th, text_buffer ("From text_sink", 0,
              GST_SECOND)), GST_FLOW_OK);
  check_frame (hr, &info, with_meta (make_frame (&info, 0, 0), "From meta",
          FALSE, 1), "From text_sink", p, 1.0f);
  /* after the text's window the meta caption shows again */
  check_frame (hr, &info, with_meta (make_frame (&info, 1000 * MS, 1),
          "From meta", FALSE, 1), "From meta", p, 1.0f);
  gst_harness_teardown (th);
  gst_harness_teardown (hr);
}

static void
test_text_sink_queue_is_bounded (void **state)
{
  GstVideoInfo info;
  GstHarness *hr = make_harness ("RGBA", W, H, &info);
  GstHarness *th = gst_harness_new_with_element (hr->element, "text_sink",
      NULL);

  /* 40 texts far ahead of the video: the pad never blocks, the queue
   * keeps the newest 32 */
  gst_harness_set_src_caps_str (th, "text/x-raw,format=utf8");
  for (guint i = 0; i < 40; i++)
    assert_int_equal (gst_harness_push (th, text_buffer ("Later",
                (100 + i) * GST_SECOND, GST_SECOND)), GST_FLOW_OK);
  assert_int_equal (stat (hr, "text-dropped"), 8);
  gst_harness_teardown (th);
  gst_harness_teardown (hr);
}

/* ------------------------------------------------------------------ */
/* enabled, caching, property changes                                  */
/* ------------------------------------------------------------------ */

static void
test_disabled_is_bit_exact_passthrough (void **state)
{
  GstVideoInfo info;
  GstHarness *hr = make_harness ("RGBA", W, H, &info);
  GstBuffer *in, *copy, *out;

  g_object_set (hr->element, "enabled", FALSE, NULL);
  in = with_meta (make_frame (&info, 0, 5), "Not drawn", TRUE, 1);
  out = push_pull (hr, in, &copy);
  assert_ptr_equal (out, in);   /* the same buffer */
  assert_true (same_bytes (out, copy));
  gst_buffer_unref (copy);
  gst_buffer_unref (out);
  gst_harness_teardown (hr);
}

static void
test_reenabled_draws (void **state)
{
  GstVideoInfo info;
  GstHarness *hr = make_harness ("RGBA", W, H, &info);
  vlm_overlay_params p = vlm_overlay_params_default ();

  g_object_set (hr->element, "enabled", FALSE, NULL);
  check_frame (hr, &info, with_meta (make_frame (&info, 0, 0), "Later",
          TRUE, 1), NULL, p, 0.0f);
  g_object_set (hr->element, "enabled", TRUE, NULL);
  /* the caption state followed the stream while disabled: held from 0 */
  check_frame (hr, &info, make_frame (&info, 100 * MS, 1), "Later", p, 1.0f);
  gst_harness_teardown (hr);
}

static void
test_unchanged_caption_not_rerendered (void **state)
{
  GstVideoInfo info;
  GstHarness *hr = make_harness ("NV12", W, H, &info);

  for (guint i = 0; i < 5; i++)
    gst_buffer_unref (gst_harness_push_and_pull (hr,
            with_meta (make_frame (&info, i * 100 * MS, i), "Same text",
                TRUE, 1)));
  assert_int_equal (stat (hr, "drawn"), 5);
  assert_int_equal (stat (hr, "renders"), 1);
  gst_buffer_unref (gst_harness_push_and_pull (hr,
          with_meta (make_frame (&info, 500 * MS, 9), "Other text", TRUE,
              2)));
  assert_int_equal (stat (hr, "renders"), 2);
  gst_harness_teardown (hr);
}

static void
test_property_change_rerenders (void **state)
{
  GstVideoInfo info;
  GstHarness *hr = make_harness ("RGBA", W, H, &info);
  vlm_overlay_params p = vlm_overlay_params_default ();

  check_frame (hr, &info, with_meta (make_frame (&info, 0, 0), "Theme",
          TRUE, 1), "Theme", p, 1.0f);
  gst_util_set_object_arg (G_OBJECT (hr->element), "theme", "high-contrast");
  gst_util_set_object_arg (G_OBJECT (hr->element), "position", "top");
  g_object_set (hr->element, "max-lines", 3, "margin", 0.1, "font-size",
      0.1, NULL);
  p.theme = VLM_OVERLAY_THEME_HIGH_CONTRAST;
  p.position = VLM_OVERLAY_POSITION_TOP;
  p.max_lines = 3;
  p.margin = 0.1;
  p.font_size = 0.1;
  check_frame (hr, &info, make_frame (&info, 100 * MS, 1), "Theme", p, 1.0f);
  assert_int_equal (stat (hr, "renders"), 2);
  gst_harness_teardown (hr);
}

static void
test_property_change_while_disabled_applies (void **state)
{
  GstVideoInfo info;
  GstHarness *hr = make_harness ("RGBA", W, H, &info);
  vlm_overlay_params p = vlm_overlay_params_default ();

  g_object_set (hr->element, "enabled", FALSE, NULL);
  check_frame (hr, &info, with_meta (make_frame (&info, 0, 0), "Look",
          TRUE, 1), NULL, p, 0.0f);
  gst_util_set_object_arg (G_OBJECT (hr->element), "theme", "light");
  check_frame (hr, &info, make_frame (&info, 100 * MS, 1), NULL, p, 0.0f);
  g_object_set (hr->element, "enabled", TRUE, NULL);
  p.theme = VLM_OVERLAY_THEME_LIGHT;
  check_frame (hr, &info, make_frame (&info, 200 * MS, 2), "Look", p, 1.0f);
  gst_harness_teardown (hr);
}

/* ------------------------------------------------------------------ */
/* Hostile input                                                       */
/* ------------------------------------------------------------------ */

static void
test_invalid_utf8_caption (void **state)
{
  static const char bad[] = "caf\xc3 \xff\xfe ok \xe2\x82 \xed\xa0\x80 end";
  GstVideoInfo info;
  GstHarness *hr = make_harness ("BGRx", W, H, &info);

  check_frame (hr, &info, with_meta (make_frame (&info, 0, 0), bad, FALSE,
          1), bad, vlm_overlay_params_default (), 1.0f);
  gst_harness_teardown (hr);
}

static void
test_long_caption (void **state)
{
  GString *s = g_string_new (NULL);
  GstVideoInfo info;
  GstHarness *hr = make_harness ("I420", W, H, &info);

  while (s->len < 10000)
    g_string_append (s, "word ");
  g_string_truncate (s, 10000);
  check_frame (hr, &info, with_meta (make_frame (&info, 0, 0), s->str, TRUE,
          1), s->str, vlm_overlay_params_default (), 1.0f);
  g_string_free (s, TRUE);
  gst_harness_teardown (hr);
}

static void
test_missing_font_is_an_error (void **state)
{
  GstElement *e = gst_element_factory_make ("vlmoverlay", NULL);
  GstBus *bus = gst_bus_new ();
  GstMessage *msg;
  GError *err = NULL;

  gst_element_set_bus (e, bus);
  g_object_set (e, "font", "/nonexistent/dir/NoSuchFont.ttf", NULL);
  assert_int_equal (gst_element_set_state (e, GST_STATE_PAUSED),
      GST_STATE_CHANGE_FAILURE);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  assert_non_null (msg);
  gst_message_parse_error (msg, &err, NULL);
  assert_true (g_error_matches (err, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_NOT_FOUND));
  assert_non_null (strstr (err->message, "font"));
  g_error_free (err);
  gst_message_unref (msg);
  gst_element_set_state (e, GST_STATE_NULL);
  gst_element_set_bus (e, NULL);
  gst_object_unref (bus);
  gst_object_unref (e);
}

/* ------------------------------------------------------------------ */

static int
group_setup (void **state)
{
  GstElementFactory *f;

  gst_init (NULL, NULL);
  f = gst_element_factory_find ("vlmoverlay");
  if (f == NULL)
    return -1;
  gst_object_unref (f);
  return 0;
}

static int
group_teardown (void **state)
{
  gst_deinit ();
  return 0;
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_property_defaults),
    cmocka_unit_test (test_property_blurbs_and_nicks),
    cmocka_unit_test (test_meta_caption_drawn),
    cmocka_unit_test (test_changes_only_inside_panel),
    cmocka_unit_test (test_formats_negotiate_and_draw),
    cmocka_unit_test (test_odd_and_small_sizes),
    cmocka_unit_test (test_partial_caption_grows),
    cmocka_unit_test (test_partial_caption_not_faded),
    cmocka_unit_test (test_final_caption_holds_then_fades),
    cmocka_unit_test (test_final_caption_timed_from_when_final),
    cmocka_unit_test (test_new_caption_replaces_fading_one),
    cmocka_unit_test (test_no_caption_is_untouched),
    cmocka_unit_test (test_text_sink_window),
    cmocka_unit_test (test_text_sink_untimed_fades),
    cmocka_unit_test (test_text_sink_wins_over_meta),
    cmocka_unit_test (test_text_sink_queue_is_bounded),
    cmocka_unit_test (test_disabled_is_bit_exact_passthrough),
    cmocka_unit_test (test_reenabled_draws),
    cmocka_unit_test (test_unchanged_caption_not_rerendered),
    cmocka_unit_test (test_property_change_rerenders),
    cmocka_unit_test (test_property_change_while_disabled_applies),
    cmocka_unit_test (test_invalid_utf8_caption),
    cmocka_unit_test (test_long_caption),
    cmocka_unit_test (test_missing_font_is_an_error),
  };

  return cmocka_run_group_tests (tests, group_setup, group_teardown);
}

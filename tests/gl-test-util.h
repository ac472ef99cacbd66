/* gst-vlm — helpers of the GL tests (test-vlmresize.c,
 * test-vlmdescribe-gl.c): a private Xvfb server, test pictures, GL
 * pipelines with one frame, image comparison. Header-only; include once.
 *
 * GL runs on Mesa (llvmpipe) through an Xvfb the test starts itself:
 * `Xvfb -displayfd` picks a free display number and reports it when it
 * accepts connections; the server dies with the test (PR_SET_PDEATHSIG)
 * and is stopped at teardown. VLM_TEST_DISPLAY=:N uses a running server
 * instead.
 */
#ifndef GL_TEST_UTIL_H
#define GL_TEST_UTIL_H

#include <gst/gst.h>
#include <gst/video/video.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vlmframe.h"
#include "xvfb-util.h"
#include "vlmglresize.h"

/* Starts Xvfb and sets DISPLAY (VLM_TEST_DISPLAY=:N: that server
 * instead); FALSE (with a message) if it cannot. */
G_GNUC_UNUSED static gboolean
gl_test_start_xvfb (void)
{
  const char *given = getenv ("VLM_TEST_DISPLAY");
  char display[32];

  if (given && *given) {
    setenv ("DISPLAY", given, 1);
    return TRUE;
  }
  if (tu_xvfb_start (display, sizeof display) != 0)
    return FALSE;
  setenv ("DISPLAY", display, 1);
  unsetenv ("WAYLAND_DISPLAY");
  return TRUE;
}

G_GNUC_UNUSED static void
gl_test_stop_xvfb (void)
{
  tu_xvfb_stop ();
}

/* A photo-like RGBA picture: smooth gradients and soft blobs, different
 * per seed, nothing sharper than a few pixels at 1080p (where both
 * filters are well defined). */
G_GNUC_UNUSED static guint8 *
gl_test_smooth_image (int w, int h, int seed)
{
  guint8 *p = g_malloc ((gsize) w * h * 4);
  double s = seed * 0.7;

  for (int y = 0; y < h; y++) {
    double v = (y + 0.5) / h;
    for (int x = 0; x < w; x++) {
      double u = (x + 0.5) / w;
      guint8 *px = p + ((gsize) y * w + x) * 4;

      for (int c = 0; c < 3; c++) {
        double f = 110.0 + 70.0 * u - 40.0 * v
            + 45.0 * sin (6.2832 * (1.3 * u + 0.4 * c + s))
            * cos (6.2832 * (0.9 * v - 0.2 * c))
            + 30.0 * exp (-((u - 0.3 - 0.1 * c) * (u - 0.3 - 0.1 * c)
                + (v - 0.6) * (v - 0.6)) * 40.0)
            + 18.0 * sin (6.2832 * (4.0 * u + 3.0 * v + s + c));
        px[c] = (guint8) CLAMP (lround (f), 0, 255);
      }
      px[3] = 255;
    }
  }
  return p;
}

/* A 1-pixel black and white checkerboard: the worst case for aliasing. */
G_GNUC_UNUSED static guint8 *
gl_test_checker_image (int w, int h)
{
  guint8 *p = g_malloc ((gsize) w * h * 4);

  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      guint8 v = ((x + y) & 1) ? 255 : 0;
      guint8 *px = p + ((gsize) y * w + x) * 4;
      px[0] = px[1] = px[2] = v;
      px[3] = 255;
    }
  return p;
}

G_GNUC_UNUSED static GstCaps *
gl_test_rgba_caps (int w, int h, int par_n, int par_d)
{
  return gst_caps_new_simple ("video/x-raw", "format", G_TYPE_STRING, "RGBA",
      "width", G_TYPE_INT, w, "height", G_TYPE_INT, h,
      "framerate", GST_TYPE_FRACTION, 30, 1,
      "pixel-aspect-ratio", GST_TYPE_FRACTION, par_n, par_d, NULL);
}

G_GNUC_UNUSED static GstBuffer *
gl_test_buffer (const guint8 * rgba, int w, int h, GstClockTime pts)
{
  GstBuffer *b = gst_buffer_new_memdup (rgba, (gsize) w * h * 4);

  GST_BUFFER_PTS (b) = pts;
  GST_BUFFER_DURATION (b) = GST_SECOND / 30;
  return b;
}

/* The CPU path of vlmdescribe on an RGBA picture: packed RGB size^2. */
G_GNUC_UNUSED static guint8 *
gl_test_cpu_convert (const guint8 * rgba, int w, int h, int par_n, int par_d,
    VlmResizeMode mode, int size)
{
  GstVideoInfo info;
  GstVideoFrame frame;
  GstBuffer *b = gl_test_buffer (rgba, w, h, 0);
  VlmFrameConverter *c = vlm_frame_converter_new ();
  guint8 *out = g_malloc ((gsize) size * size * 3);

  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_RGBA, w, h);
  GST_VIDEO_INFO_PAR_N (&info) = par_n;
  GST_VIDEO_INFO_PAR_D (&info) = par_d;
  if (!gst_video_frame_map (&frame, &info, b, GST_MAP_READ)
      || !vlm_frame_convert (c, &frame, mode, size, out)) {
    g_free (out);
    out = NULL;
  } else {
    gst_video_frame_unmap (&frame);
  }
  gst_buffer_unref (b);
  vlm_frame_converter_free (c);
  return out;
}

/* Mean and max absolute difference over the RGB channels of a packed RGB
 * image and an image of pixel stride bpp (3 or 4) and row stride. */
G_GNUC_UNUSED static void
gl_test_compare (const guint8 * rgb, const guint8 * other, int bpp,
    int stride, int w, int h, double *mean, int *max)
{
  double sum = 0;
  int mx = 0;

  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      for (int c = 0; c < 3; c++) {
        int d = abs (rgb[((gsize) y * w + x) * 3 + c]
            - other[(gsize) y * stride + (gsize) x * bpp + c]);
        sum += d;
        mx = MAX (mx, d);
      }
  *mean = sum / ((double) w * h * 3);
  *max = mx;
}

/* Runs `appsrc ! glupload ! MIDDLE ! gldownload ! appsink` on one RGBA
 * frame and returns the output sample, or NULL with *error set. */
G_GNUC_UNUSED static GstSample *
gl_test_run_once (const char *middle, const guint8 * rgba, int w, int h,
    int par_n, int par_d, gchar ** error)
{
  gchar *desc = g_strdup_printf ("appsrc name=src format=time ! glupload ! "
      "%s ! gldownload ! appsink name=sink sync=false", middle);
  GError *err = NULL;
  GstElement *pipe = gst_parse_launch (desc, &err);
  GstElement *src, *sink;
  GstSample *sample = NULL;
  GstFlowReturn fr;
  GstBus *bus;

  g_free (desc);
  if (pipe == NULL) {
    *error = g_strdup (err ? err->message : "parse error");
    g_clear_error (&err);
    return NULL;
  }
  src = gst_bin_get_by_name (GST_BIN (pipe), "src");
  sink = gst_bin_get_by_name (GST_BIN (pipe), "sink");
  {
    GstCaps *caps = gl_test_rgba_caps (w, h, par_n, par_d);

    g_object_set (src, "caps", caps, NULL);
    gst_caps_unref (caps);
  }
  gst_element_set_state (pipe, GST_STATE_PLAYING);
  {
    GstBuffer *b = gl_test_buffer (rgba, w, h, 0);

    /* the action signal does not take the buffer */
    g_signal_emit_by_name (src, "push-buffer", b, &fr);
    gst_buffer_unref (b);
  }
  g_signal_emit_by_name (src, "end-of-stream", &fr);
  g_signal_emit_by_name (sink, "try-pull-sample", 60 * GST_SECOND, &sample);
  if (sample == NULL) {
    GstMessage *m;

    bus = gst_element_get_bus (pipe);
    m = gst_bus_timed_pop_filtered (bus, 0, GST_MESSAGE_ERROR);
    if (m) {
      GError *e = NULL;
      gchar *dbg = NULL;

      gst_message_parse_error (m, &e, &dbg);
      *error = g_strdup_printf ("%s (%s)", e->message, dbg ? dbg : "");
      g_clear_error (&e);
      g_free (dbg);
      gst_message_unref (m);
    } else {
      *error = g_strdup ("no output sample");
    }
    gst_object_unref (bus);
  }
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (src);
  gst_object_unref (sink);
  gst_object_unref (pipe);
  return sample;
}

/* The documented filter (vlmglresize.h) in double precision: the model
 * image of an RGBA picture as packed RGB, rounded, bars in pad (RGB). An
 * independent reference for the shader; GstVideoConverter's fixed-point
 * taps stray from it by a few levels at some scales (e.g. exactly 5x). */
G_GNUC_UNUSED static guint8 *
gl_test_exact_convert (const guint8 * rgba, int w, int h, int par_n,
    int par_d, VlmResizeMode mode, int size, guint32 pad_rgb)
{
  guint8 *out = g_malloc ((gsize) size * size * 3);
  VlmResizeGeometry g;
  VlmResizeTaps tx, ty;

  vlm_resize_geometry (w, h, par_n, par_d, size, size, mode, &g);
  vlm_resize_taps (g.src_w, g.dst_w, &tx);
  vlm_resize_taps (g.src_h, g.dst_h, &ty);
  for (int oy = 0; oy < size; oy++)
    for (int ox = 0; ox < size; ox++) {
      guint8 *o = out + ((gsize) oy * size + ox) * 3;
      double x, y, swx = 0, swy = 0, acc[3] = { 0, 0, 0 };
      int xi, yi;

      if (ox < g.dst_x || oy < g.dst_y || ox >= g.dst_x + g.dst_w
          || oy >= g.dst_y + g.dst_h) {
        o[0] = (pad_rgb >> 16) & 0xff;
        o[1] = (pad_rgb >> 8) & 0xff;
        o[2] = pad_rgb & 0xff;
        continue;
      }
      x = (ox - g.dst_x + 0.5) * g.src_w / g.dst_w - tx.corr;
      y = (oy - g.dst_y + 0.5) * g.src_h / g.dst_h - ty.corr;
      x = CLAMP (x, 0, g.src_w - 1);
      y = CLAMP (y, 0, g.src_h - 1);
      xi = (int) floor (x - tx.first);
      yi = (int) floor (y - ty.first);
      for (int l = 0; l < tx.taps; l++)
        swx += MAX (0.0, 1.0 - fabs (x - (xi + l)) * tx.slope);
      for (int m = 0; m < ty.taps; m++)
        swy += MAX (0.0, 1.0 - fabs (y - (yi + m)) * ty.slope);
      for (int m = 0; m < ty.taps; m++) {
        double wy = MAX (0.0, 1.0 - fabs (y - (yi + m)) * ty.slope);
        int py = CLAMP (yi + m, 0, g.src_h - 1) + g.src_y;

        for (int l = 0; l < tx.taps; l++) {
          double wx = MAX (0.0, 1.0 - fabs (x - (xi + l)) * tx.slope);
          int px = CLAMP (xi + l, 0, g.src_w - 1) + g.src_x;
          const guint8 *p = rgba + ((gsize) py * w + px) * 4;

          for (int c = 0; c < 3; c++)
            acc[c] += wx * wy * p[c];
        }
      }
      for (int c = 0; c < 3; c++)
        o[c] = (guint8) CLAMP (lround (acc[c] / (swx * swy)), 0, 255);
    }
  return out;
}

#endif /* GL_TEST_UTIL_H */

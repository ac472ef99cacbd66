/* gst-vlm — tests of vlmdescribe's GL path, with the tiny generated model.
 *
 *   test-vlmdescribe-gl          GL video (glupload ! vlmdescribe !
 *                                gldownload) on a private Xvfb: captions,
 *                                the GL memory passes untouched, only the
 *                                model image is read back, and that image
 *                                equals the CPU path's (suite novalgrind)
 *   test-vlmdescribe-gl --no-gl  system-memory video without any display
 *                                works as before (also under valgrind)
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <gst/gst.h>
#include <gst/gl/gl.h>
#include <gst/video/video.h>
#include <glib/gstdio.h>

#include "gl-test-util.h"
#include "model-util.h"
#include "test-util.h"
#include "vlmframe.h"

#define WAIT_S 120
#define SIZE 336                /* tiny-ldpv2's image size */
#define N_FRAMES 8
#define FPS 30

/* as test-vlmresize.c: smooth pictures, GL against the CPU path */
#define TOL_MEAN 0.75
#define TOL_MAX 4

static char tmp_dir[4096];
static char text_path[4200], mmproj_path[4200];

static int
gen_model (void)
{
  if (tu_tmpdir_new (tmp_dir, sizeof tmp_dir, "test-vlmdescribe-gl") == NULL)
    return -1;
  return tu_make_model ("tiny-ldpv2", tmp_dir, text_path, mmproj_path,
      sizeof text_path);
}

/* ------------------------------------------------------------------ */
/* A pipeline run                                                      */
/* ------------------------------------------------------------------ */

typedef struct {
  GMutex lock;
  GCond cond;
  guint n_final;
  GHashTable *in_mem;           /* PTS -> GstMemory * seen at the sink pad */
  guint n_out, n_same, n_gl_out;
} Watch;

static void
on_caption (GstElement * e, const gchar * text, gboolean final, guint64 id,
    guint64 pts, guint64 latency, Watch * w)
{
  g_mutex_lock (&w->lock);
  if (final)
    w->n_final++;
  g_cond_broadcast (&w->cond);
  g_mutex_unlock (&w->lock);
}

static GstPadProbeReturn
probe_in (GstPad * pad, GstPadProbeInfo * info, Watch * w)
{
  GstBuffer *b = GST_PAD_PROBE_INFO_BUFFER (info);

  g_mutex_lock (&w->lock);
  g_hash_table_insert (w->in_mem, GUINT_TO_POINTER (GST_BUFFER_PTS (b) + 1),
      gst_buffer_peek_memory (b, 0));
  g_mutex_unlock (&w->lock);
  return GST_PAD_PROBE_OK;
}

static GstPadProbeReturn
probe_out (GstPad * pad, GstPadProbeInfo * info, Watch * w)
{
  GstBuffer *b = GST_PAD_PROBE_INFO_BUFFER (info);
  GstMemory *m = gst_buffer_peek_memory (b, 0);

  g_mutex_lock (&w->lock);
  w->n_out++;
  if (g_hash_table_lookup (w->in_mem,
          GUINT_TO_POINTER (GST_BUFFER_PTS (b) + 1)) == m)
    w->n_same++;
  if (gst_is_gl_memory (m))
    w->n_gl_out++;
  g_mutex_unlock (&w->lock);
  return GST_PAD_PROBE_OK;
}

typedef struct {
  Watch w;
  GstStructure *stats;
  GstSample *last_image;
} Result;

/* Pushes N_FRAMES w x h smooth RGBA frames (seed = frame number) through
 * `appsrc ! UPLOAD vlmdescribe PROPS ! DOWNLOAD fakesink`, waits for a
 * caption and for EOS. */
static void
run_describe (const char *upload, const char *download, const char *props,
    int w, int h, Result * res)
{
  gchar *desc = g_strdup_printf ("appsrc name=src format=time ! %s "
      "vlmdescribe name=d model=\"%s\" mmproj=\"%s\" max-rate=0/1 "
      "temperature=0 max-tokens=4 threads=1 worker-nice=0 "
      "scene-change-threshold=0 thermal-root=\"%s\" %s ! %s "
      "fakesink sync=false", upload, text_path, mmproj_path, tmp_dir,
      props, download);
  GError *err = NULL;
  GstElement *pipe = gst_parse_launch (desc, &err);
  GstElement *src, *d;
  GstPad *sinkpad, *srcpad;
  GstCaps *caps;
  GstBus *bus;
  GstMessage *m;
  GstFlowReturn fr;
  gint64 end;

  if (pipe == NULL)
    fail_msg ("%s: %s", desc, err->message);
  g_free (desc);
  memset (res, 0, sizeof *res);
  g_mutex_init (&res->w.lock);
  g_cond_init (&res->w.cond);
  res->w.in_mem = g_hash_table_new (NULL, NULL);

  src = gst_bin_get_by_name (GST_BIN (pipe), "src");
  d = gst_bin_get_by_name (GST_BIN (pipe), "d");
  caps = gl_test_rgba_caps (w, h, 1, 1);
  g_object_set (src, "caps", caps, NULL);
  gst_caps_unref (caps);
  g_signal_connect (d, "caption", G_CALLBACK (on_caption), &res->w);
  sinkpad = gst_element_get_static_pad (d, "sink");
  srcpad = gst_element_get_static_pad (d, "src");
  gst_pad_add_probe (sinkpad, GST_PAD_PROBE_TYPE_BUFFER,
      (GstPadProbeCallback) probe_in, &res->w, NULL);
  gst_pad_add_probe (srcpad, GST_PAD_PROBE_TYPE_BUFFER,
      (GstPadProbeCallback) probe_out, &res->w, NULL);

  bus = gst_element_get_bus (pipe);
  gst_element_set_state (pipe, GST_STATE_PLAYING);
  /* frames are offered once the model is ready */
  for (;;) {
    m = gst_bus_timed_pop_filtered (bus, WAIT_S * GST_SECOND,
        GST_MESSAGE_ELEMENT | GST_MESSAGE_ERROR);
    assert_non_null (m);
    if (GST_MESSAGE_TYPE (m) == GST_MESSAGE_ERROR) {
      GError *e = NULL;

      gst_message_parse_error (m, &e, NULL);
      fail_msg ("error: %s", e->message);
    }
    if (gst_structure_has_name (gst_message_get_structure (m), "vlm-model")
        && !g_strcmp0 (gst_structure_get_string (gst_message_get_structure
                (m), "state"), "ready")) {
      gst_message_unref (m);
      break;
    }
    gst_message_unref (m);
  }
  for (int i = 0; i < N_FRAMES; i++) {
    guint8 *img = gl_test_smooth_image (w, h, i);
    GstBuffer *b = gl_test_buffer (img, w, h,
        gst_util_uint64_scale_int (i, GST_SECOND, FPS));

    /* the action signal does not take the buffer */
    g_signal_emit_by_name (src, "push-buffer", b, &fr);
    gst_buffer_unref (b);
    g_free (img);
  }
  end = g_get_monotonic_time () + WAIT_S * G_TIME_SPAN_SECOND;
  g_mutex_lock (&res->w.lock);
  while (res->w.n_final < 1)
    if (!g_cond_wait_until (&res->w.cond, &res->w.lock, end))
      break;
  g_mutex_unlock (&res->w.lock);
  assert_true (res->w.n_final >= 1);
  g_signal_emit_by_name (src, "end-of-stream", &fr);
  m = gst_bus_timed_pop_filtered (bus, WAIT_S * GST_SECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  assert_non_null (m);
  assert_int_equal (GST_MESSAGE_TYPE (m), GST_MESSAGE_EOS);
  gst_message_unref (m);

  g_object_get (d, "stats", &res->stats, "last-image", &res->last_image,
      NULL);
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (sinkpad);
  gst_object_unref (srcpad);
  gst_object_unref (bus);
  gst_object_unref (src);
  gst_object_unref (d);
  gst_object_unref (pipe);
}

static void
result_clear (Result * res)
{
  g_hash_table_unref (res->w.in_mem);
  g_mutex_clear (&res->w.lock);
  g_cond_clear (&res->w.cond);
  if (res->stats)
    gst_structure_free (res->stats);
  if (res->last_image)
    gst_sample_unref (res->last_image);
}

static guint64
stat_u64 (Result * res, const char *field)
{
  guint64 v = G_MAXUINT64;

  assert_true (gst_structure_get_uint64 (res->stats, field, &v));
  return v;
}

/* The model's image (last-image) against the CPU path on the described
 * frame (found by its PTS). */
static void
check_image (Result * res, int w, int h, VlmResizeMode mode, double tol_mean,
    int tol_max, const char *what)
{
  GstBuffer *b;
  GstMapInfo map;
  guint8 *img, *cpu;
  int seed, max;
  double mean, cmean;
  int cmax;
  gdouble conv_ms;

  assert_non_null (res->last_image);
  b = gst_sample_get_buffer (res->last_image);
  seed = (int) gst_util_uint64_scale_round (GST_BUFFER_PTS (b), FPS,
      GST_SECOND);
  assert_true (seed >= 0 && seed < N_FRAMES);
  img = gl_test_smooth_image (w, h, seed);
  cpu = gl_test_cpu_convert (img, w, h, 1, 1, mode, SIZE);
  assert_true (gst_buffer_map (b, &map, GST_MAP_READ));
  assert_int_equal (map.size, SIZE * SIZE * 3);
  gl_test_compare (cpu, map.data, 3, SIZE * 3, SIZE, SIZE, &mean, &max);
  {
    guint8 *exact = gl_test_exact_convert (img, w, h, 1, 1, mode, SIZE,
        VLM_RESIZE_PAD_ARGB);
    gl_test_compare (exact, map.data, 3, SIZE * 3, SIZE, SIZE, &cmean,
        &cmax);
    g_free (exact);
  }
  gst_structure_get_double (res->stats, "convert-ms-last", &conv_ms);
  printf ("%s %dx%d -> %d (frame %d): vs CPU path mean abs err %.3f, "
      "max %d; vs exact filter %.3f, max %d; convert %.2f ms (worker); "
      "streaming thread %.1f us mean, %.1f us max per frame; "
      "gl-frames %" G_GUINT64_FORMAT ", cpu-frames %" G_GUINT64_FORMAT
      ", download-bytes-last %" G_GUINT64_FORMAT "\n", what, w, h, SIZE,
      seed, mean, max, cmean, cmax, conv_ms,
      stat_u64 (res, "submit-ns-mean") / 1e3,
      stat_u64 (res, "submit-ns-max") / 1e3, stat_u64 (res, "gl-frames"),
      stat_u64 (res, "cpu-frames"), stat_u64 (res, "download-bytes-last"));
  assert_true (mean <= tol_mean);
  assert_true (max <= tol_max);
  gst_buffer_unmap (b, &map);
  g_free (cpu);
  g_free (img);
}

/* ------------------------------------------------------------------ */
/* GL                                                                  */
/* ------------------------------------------------------------------ */

static void
check_gl_run (Result * res)
{
  guint64 gl = stat_u64 (res, "gl-frames");

  /* every frame left with the GL memory it came with */
  assert_int_equal (res->w.n_out, N_FRAMES);
  assert_int_equal (res->w.n_same, N_FRAMES);
  assert_int_equal (res->w.n_gl_out, N_FRAMES);
  /* converted on the GPU only; exactly the model image came back */
  assert_true (gl >= 1);
  assert_int_equal (stat_u64 (res, "cpu-frames"), 0);
  assert_int_equal (stat_u64 (res, "download-bytes-last"), SIZE * SIZE * 4);
  assert_int_equal (stat_u64 (res, "download-bytes-total"),
      gl * SIZE * SIZE * 4);
}

static void
test_gl_letterbox_720p (void **state)
{
  Result res;

  run_describe ("glupload !", "gldownload !", "", 1280, 720, &res);
  check_gl_run (&res);
  check_image (&res, 1280, 720, VLM_RESIZE_LETTERBOX, TOL_MEAN, TOL_MAX,
      "GL letterbox");
  result_clear (&res);
}

static void
test_gl_crop_1080p (void **state)
{
  Result res;

  run_describe ("glupload !", "gldownload !", "resize-mode=crop", 1920,
      1080, &res);
  check_gl_run (&res);
  check_image (&res, 1920, 1080, VLM_RESIZE_CROP, TOL_MEAN, TOL_MAX,
      "GL crop");
  result_clear (&res);
}

static void
test_gl_letterbox_portrait (void **state)
{
  Result res;

  run_describe ("glupload !", "gldownload !", "", 480, 640, &res);
  check_gl_run (&res);
  check_image (&res, 480, 640, VLM_RESIZE_LETTERBOX, TOL_MEAN, TOL_MAX,
      "GL letterbox");
  result_clear (&res);
}

/* GL upstream, but system-memory caps into vlmdescribe (gldownload to
 * video/x-raw; without the caps filter gldownload would pass the GL
 * memory on and vlmdescribe would take it): the CPU path. gldownload
 * leaves the pixels in its GL memory until mapped, so every converted
 * frame is copied whole from the GPU, which the stats show; this is what
 * the GL path avoids. */
static void
test_gl_upstream_system_memory_caps (void **state)
{
  Result res;
  guint64 cpu;

  run_describe ("glupload ! gldownload ! video/x-raw !", "", "", 640, 480,
      &res);
  cpu = stat_u64 (&res, "cpu-frames");
  assert_int_equal (stat_u64 (&res, "gl-frames"), 0);
  assert_true (cpu >= 1);
  assert_int_equal (stat_u64 (&res, "download-bytes-last"), 640 * 480 * 4);
  assert_int_equal (stat_u64 (&res, "download-bytes-total"),
      cpu * 640 * 480 * 4);
  check_image (&res, 640, 480, VLM_RESIZE_LETTERBOX, 0.0, 0,
      "CPU after gldownload");
  result_clear (&res);
}

/* ------------------------------------------------------------------ */
/* Without GL                                                          */
/* ------------------------------------------------------------------ */

/* No display at all: system-memory video is described as before, on the
 * CPU, and the model gets exactly vlm_frame_convert's image. */
static void
test_no_display_cpu_path_unchanged (void **state)
{
  Result res;

  assert_null (getenv ("DISPLAY"));
  run_describe ("", "", "", 640, 360, &res);
  assert_int_equal (res.w.n_out, N_FRAMES);
  assert_int_equal (res.w.n_same, N_FRAMES);
  assert_int_equal (res.w.n_gl_out, 0);
  assert_int_equal (stat_u64 (&res, "gl-frames"), 0);
  assert_true (stat_u64 (&res, "cpu-frames") >= 1);
  assert_int_equal (stat_u64 (&res, "download-bytes-total"), 0);
  check_image (&res, 640, 360, VLM_RESIZE_LETTERBOX, 0.0, 0, "no display");
  result_clear (&res);
}

/* ------------------------------------------------------------------ */

static int
nogl_setup (void **state)
{
  unsetenv ("DISPLAY");
  unsetenv ("WAYLAND_DISPLAY");
  gst_init (NULL, NULL);
  return gen_model ();
}

static int
gl_setup (void **state)
{
  if (!gl_test_start_xvfb ())
    return -1;
  gst_init (NULL, NULL);
  return gen_model ();
}

static int
teardown (void **state)
{
  tu_tmpdir_remove (tmp_dir);
  gst_deinit ();
  gl_test_stop_xvfb ();
  return 0;
}

int
main (int argc, char **argv)
{
  const struct CMUnitTest nogl_tests[] = {
    cmocka_unit_test (test_no_display_cpu_path_unchanged),
  };
  const struct CMUnitTest gl_tests[] = {
    cmocka_unit_test (test_gl_letterbox_720p),
    cmocka_unit_test (test_gl_crop_1080p),
    cmocka_unit_test (test_gl_letterbox_portrait),
    cmocka_unit_test (test_gl_upstream_system_memory_caps),
  };

  if (argc > 1 && strcmp (argv[1], "--no-gl") == 0)
    return cmocka_run_group_tests_name ("vlmdescribe-nogl", nogl_tests,
        nogl_setup, teardown);
  return cmocka_run_group_tests_name ("vlmdescribe-gl", gl_tests, gl_setup,
      teardown);
}

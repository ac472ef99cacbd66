/* gst-vlm — tests of the vlmcamerasrc element.
 *
 * There is no camera on the test machines and no way to make one, so the
 * tests check what does not need one: the probes (libcamera, and V4L2 on
 * an empty or fake device directory) and their error messages, the mode
 * negotiation and the stall watchdog with sources injected through
 * source-description, and the property ranges. Tests that assume no
 * camera skip when libcamera sees one. Every wait is bounded (WAIT_S).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <gst/gst.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>

#define WAIT_S 60               /* generous: the valgrind run is slow */
#define APPSRC_DESC "appsrc name=feed is-live=true format=time " \
  "caps=video/x-raw,format=RGBA,width=64,height=48,framerate=30/1"

static gchar *empty_dir;

/* ------------------------------------------------------------------ */
/* Fixtures and helpers                                                */
/* ------------------------------------------------------------------ */

static int
group_setup (void **state)
{
  gst_init (NULL, NULL);
  empty_dir = g_dir_make_tmp ("test-camerasrc-XXXXXX", NULL);
  return empty_dir ? 0 : -1;
}

static int
group_teardown (void **state)
{
  g_rmdir (empty_dir);
  g_free (empty_dir);
  gst_deinit ();
  return 0;
}

static gboolean
libcamera_sees_camera (void)
{
  GstDeviceProvider *p =
      gst_device_provider_factory_get_by_name ("libcameraprovider");
  GList *devices;
  gboolean some;

  if (p == NULL)
    return FALSE;
  devices = gst_device_provider_get_devices (p);
  some = devices != NULL;
  g_list_free_full (devices, gst_object_unref);
  gst_object_unref (p);
  return some;
}

/* "vlmcamerasrc name=cam ! fakesink name=sink". */
static GstElement *
make_pipeline (GstElement ** cam)
{
  GstElement *pipe = gst_pipeline_new (NULL);
  GstElement *sink = gst_element_factory_make ("fakesink", "sink");

  *cam = gst_element_factory_make ("vlmcamerasrc", "cam");
  assert_non_null (*cam);
  gst_bin_add_many (GST_BIN (pipe), *cam, sink, NULL);
  assert_true (gst_element_link (*cam, sink));
  return pipe;
}

static void
free_pipeline (GstElement * pipe)
{
  assert_int_equal (gst_element_set_state (pipe, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  gst_object_unref (pipe);
}

/* The next message of type (ERROR, EOS, ...) within seconds, or NULL. */
static GstMessage *
wait_message (GstElement * pipe, GstMessageType types, gdouble seconds)
{
  GstBus *bus = gst_element_get_bus (pipe);
  GstMessage *m = gst_bus_timed_pop_filtered (bus,
      (GstClockTime) (seconds * GST_SECOND), types);

  gst_object_unref (bus);
  return m;
}

/* Brings the pipeline to READY; the error posted when that fails (NULL
 * when it works). */
static GError *
ready_error (GstElement * pipe)
{
  GstStateChangeReturn ret = gst_element_set_state (pipe, GST_STATE_READY);
  GstMessage *m;
  GError *e = NULL;

  if (ret != GST_STATE_CHANGE_FAILURE)
    return NULL;
  m = wait_message (pipe, GST_MESSAGE_ERROR, 0);
  assert_non_null (m);
  gst_message_parse_error (m, &e, NULL);
  gst_message_unref (m);
  return e;
}

/* Caps and frames seen by the fakesink. */
typedef struct {
  GMutex lock;
  GCond cond;
  guint frames;
  GstCaps *caps;
} Watch;

static GstPadProbeReturn
watch_probe (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  Watch *w = data;

  g_mutex_lock (&w->lock);
  w->frames++;
  if (w->caps == NULL)
    w->caps = gst_pad_get_current_caps (pad);
  g_cond_broadcast (&w->cond);
  g_mutex_unlock (&w->lock);
  return GST_PAD_PROBE_OK;
}

static Watch *
watch_sink (GstElement * pipe)
{
  Watch *w = g_new0 (Watch, 1);
  GstElement *sink = gst_bin_get_by_name (GST_BIN (pipe), "sink");
  GstPad *pad = gst_element_get_static_pad (sink, "sink");

  g_mutex_init (&w->lock);
  g_cond_init (&w->cond);
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, watch_probe, w, NULL);
  gst_object_unref (pad);
  gst_object_unref (sink);
  return w;
}

/* Waits for n frames; their caps (a new reference), or NULL. */
static GstCaps *
wait_frames (Watch * w, guint n)
{
  gint64 end = g_get_monotonic_time () + WAIT_S * G_TIME_SPAN_SECOND;
  GstCaps *caps = NULL;

  g_mutex_lock (&w->lock);
  while (w->frames < n)
    if (!g_cond_wait_until (&w->cond, &w->lock, end))
      break;
  if (w->frames >= n && w->caps)
    caps = gst_caps_ref (w->caps);
  g_mutex_unlock (&w->lock);
  return caps;
}

static void
watch_free (Watch * w)
{
  gst_clear_caps (&w->caps);
  g_mutex_clear (&w->lock);
  g_cond_clear (&w->cond);
  g_free (w);
}

/* Plays "source-description ! vlmcamerasrc-mode ! fakesink" with the
 * wanted mode and returns the caps of the first frame. */
static GstCaps *
negotiated_caps (const gchar * description, gint width, gint height,
    gint fps_n, gint fps_d)
{
  GstElement *cam, *pipe = make_pipeline (&cam);
  Watch *w = watch_sink (pipe);
  GstCaps *caps;

  g_object_set (cam, "source-description", description, "width", width,
      "height", height, "framerate", fps_n, fps_d, NULL);
  assert_int_not_equal (gst_element_set_state (pipe, GST_STATE_PLAYING),
      GST_STATE_CHANGE_FAILURE);
  caps = wait_frames (w, 1);
  assert_non_null (caps);
  free_pipeline (pipe);
  watch_free (w);
  return caps;
}

static void
assert_mode (GstCaps * caps, gint width, gint height, gint fps_n, gint fps_d)
{
  GstStructure *s = gst_caps_get_structure (caps, 0);
  gint w = 0, h = 0, n = 0, d = 0;

  assert_true (gst_structure_get_int (s, "width", &w));
  assert_true (gst_structure_get_int (s, "height", &h));
  assert_true (gst_structure_get_fraction (s, "framerate", &n, &d));
  assert_int_equal (w, width);
  assert_int_equal (h, height);
  assert_int_equal (n, fps_n);
  assert_int_equal (d, fps_d);
}

/* Whether a thread of this process is named name (Linux). */
static gboolean
thread_named (const gchar * name)
{
  GDir *d = g_dir_open ("/proc/self/task", 0, NULL);
  const gchar *tid;
  gboolean found = FALSE;

  assert_non_null (d);
  while (!found && (tid = g_dir_read_name (d)) != NULL) {
    gchar *path = g_strdup_printf ("/proc/self/task/%s/comm", tid);
    gchar *comm = NULL;

    if (g_file_get_contents (path, &comm, NULL, NULL))
      found = strcmp (g_strstrip (comm), name) == 0;
    g_free (comm);
    g_free (path);
  }
  g_dir_close (d);
  return found;
}

/* Whether a thread named name runs, waiting for a new thread to name
 * itself (bounded polling: nothing to wait on). */
static gboolean
thread_running (const gchar * name)
{
  gint64 end = g_get_monotonic_time () + 5 * G_TIME_SPAN_SECOND;

  while (!thread_named (name) && g_get_monotonic_time () < end)
    g_usleep (10 * G_TIME_SPAN_MILLISECOND);
  return thread_named (name);
}

/* ------------------------------------------------------------------ */
/* Registration and properties                                         */
/* ------------------------------------------------------------------ */

static void
test_registered_with_defaults (void **state)
{
  GstElement *cam = gst_element_factory_make ("vlmcamerasrc", NULL);
  gchar *camera = NULL, *dir = NULL, *desc = NULL, *active = NULL;
  gint w = 0, h = 0, n = 0, d = 0;
  guint stall = 0;

  assert_non_null (cam);
  g_object_get (cam, "camera", &camera, "width", &w, "height", &h,
      "framerate", &n, &d, "stall-timeout", &stall, "device-dir", &dir,
      "source-description", &desc, "active-backend", &active, NULL);
  assert_null (camera);
  assert_int_equal (w, 1280);
  assert_int_equal (h, 720);
  assert_int_equal (n, 30);
  assert_int_equal (d, 1);
  assert_int_equal (stall, 5);
  assert_string_equal (dir, "/dev");
  assert_null (desc);
  assert_null (active);
  g_free (dir);
  gst_object_unref (cam);
}

static void
test_property_ranges (void **state)
{
  GstElement *cam = gst_element_factory_make ("vlmcamerasrc", NULL);
  GObjectClass *k = G_OBJECT_GET_CLASS (cam);
  GParamSpecInt *w = G_PARAM_SPEC_INT (g_object_class_find_property (k,
          "width"));
  GParamSpecUInt *stall = G_PARAM_SPEC_UINT (g_object_class_find_property (k,
          "stall-timeout"));
  GstParamSpecFraction *fps =
      GST_PARAM_SPEC_FRACTION (g_object_class_find_property (k, "framerate"));
  GParamSpec *active = g_object_class_find_property (k, "active-camera");

  assert_int_equal (w->minimum, 1);
  assert_int_equal (w->maximum, 16384);
  assert_int_equal (stall->minimum, 0);
  assert_int_equal (stall->maximum, 3600);
  assert_int_equal (fps->min_num, 1);
  assert_int_equal (fps->min_den, 1000);
  assert_int_equal (fps->max_num, 1000);
  assert_int_equal (fps->max_den, 1);
  assert_false (active->flags & G_PARAM_WRITABLE);
  gst_object_unref (cam);
}

/* ------------------------------------------------------------------ */
/* No camera                                                           */
/* ------------------------------------------------------------------ */

static void
test_no_camera_says_what_was_tried (void **state)
{
  GstElement *cam, *pipe;
  GError *e;
  gchar *expected;

  if (libcamera_sees_camera ())
    skip ();
  pipe = make_pipeline (&cam);
  g_object_set (cam, "device-dir", empty_dir, NULL);
  e = ready_error (pipe);
  assert_non_null (e);
  assert_true (g_error_matches (e, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_NOT_FOUND));
  expected = g_strdup_printf ("No camera found (libcamera: no camera; V4L2: "
      "no capture device in %s).", empty_dir);
  assert_string_equal (e->message, expected);
  g_free (expected);
  g_error_free (e);
  free_pipeline (pipe);
}

static void
test_v4l2_backend_skips_libcamera (void **state)
{
  GstElement *cam, *pipe = make_pipeline (&cam);
  GError *e;
  gchar *expected;

  g_object_set (cam, "device-dir", empty_dir, NULL);
  gst_util_set_object_arg (G_OBJECT (cam), "backend", "v4l2");
  e = ready_error (pipe);
  assert_non_null (e);
  expected = g_strdup_printf ("No camera found (V4L2: no capture device in "
      "%s).", empty_dir);
  assert_string_equal (e->message, expected);
  g_free (expected);
  g_error_free (e);
  free_pipeline (pipe);
}

static void
test_libcamera_backend_skips_v4l2 (void **state)
{
  GstElement *cam, *pipe;
  GError *e;

  if (libcamera_sees_camera ())
    skip ();
  pipe = make_pipeline (&cam);
  gst_util_set_object_arg (G_OBJECT (cam), "backend", "libcamera");
  e = ready_error (pipe);
  assert_non_null (e);
  assert_string_equal (e->message, "No camera found (libcamera: no camera).");
  g_error_free (e);
  free_pipeline (pipe);
}

static void
test_v4l2_skips_nodes_that_are_not_devices (void **state)
{
  gchar *dir = g_dir_make_tmp ("test-camerasrc-XXXXXX", NULL);
  gchar *fake = g_build_filename (dir, "video0", NULL);
  gchar *other = g_build_filename (dir, "vbi0", NULL);
  GstElement *cam, *pipe = make_pipeline (&cam);
  GError *e;
  gchar *expected;

  assert_true (g_file_set_contents (fake, "", 0, NULL));
  assert_true (g_file_set_contents (other, "", 0, NULL));
  g_object_set (cam, "device-dir", dir, NULL);
  gst_util_set_object_arg (G_OBJECT (cam), "backend", "v4l2");
  e = ready_error (pipe);
  assert_non_null (e);
  expected = g_strdup_printf ("No camera found (V4L2: no capture device in "
      "%s (video0: not a device)).", dir);
  assert_string_equal (e->message, expected);

  g_free (expected);
  g_error_free (e);
  free_pipeline (pipe);
  g_unlink (fake);
  g_unlink (other);
  g_rmdir (dir);
  g_free (fake);
  g_free (other);
  g_free (dir);
}

static void
test_device_path_not_a_device (void **state)
{
  GstElement *cam, *pipe = make_pipeline (&cam);
  GError *e;

  /* a path goes to V4L2 only; /dev/null is a device, but not V4L2 */
  g_object_set (cam, "camera", "/dev/null", NULL);
  e = ready_error (pipe);
  assert_non_null (e);
  assert_string_equal (e->message, "Camera \"/dev/null\" not found (V4L2: "
      "/dev/null: not a V4L2 device).");
  g_error_free (e);
  free_pipeline (pipe);
}

static void
test_named_camera_not_found (void **state)
{
  GstElement *cam, *pipe;
  GError *e;
  gchar *expected;

  if (libcamera_sees_camera ())
    skip ();
  pipe = make_pipeline (&cam);
  g_object_set (cam, "camera", "Front Camera", "device-dir", empty_dir, NULL);
  e = ready_error (pipe);
  assert_non_null (e);
  expected = g_strdup_printf ("Camera \"Front Camera\" not found (libcamera: "
      "no camera; V4L2: no capture device in %s).", empty_dir);
  assert_string_equal (e->message, expected);
  g_free (expected);
  g_error_free (e);
  free_pipeline (pipe);
}

static void
test_bad_source_description (void **state)
{
  GstElement *cam, *pipe = make_pipeline (&cam);
  GError *e;

  g_object_set (cam, "source-description", "nosuchelement", NULL);
  e = ready_error (pipe);
  assert_non_null (e);
  assert_true (g_error_matches (e, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_SETTINGS));
  assert_non_null (strstr (e->message, "nosuchelement"));
  g_error_free (e);
  free_pipeline (pipe);
}

/* ------------------------------------------------------------------ */
/* Mode                                                                */
/* ------------------------------------------------------------------ */

static void
test_mode_wanted_when_offered (void **state)
{
  GstCaps *caps = negotiated_caps ("videotestsrc is-live=true", 320, 240,
      10, 1);

  assert_mode (caps, 320, 240, 10, 1);
  gst_caps_unref (caps);
}

static void
test_mode_negotiated_down_to_what_camera_has (void **state)
{
  GstCaps *caps = negotiated_caps ("videotestsrc is-live=true ! capsfilter "
      "caps=video/x-raw,width=640,height=480,framerate=15/1", 1280, 720, 30, 1);

  assert_mode (caps, 640, 480, 15, 1);
  gst_caps_unref (caps);
}

/* (A source made by a description fixes its own preference order: only
 * single-mode sources test what vlmcamerasrc itself chooses. v4l2src and
 * libcamerasrc follow the order of vlmcamerasrc's preference list.) */
static void
test_mode_wanted_size_at_other_rate (void **state)
{
  GstCaps *caps = negotiated_caps ("videotestsrc is-live=true ! capsfilter "
      "caps=video/x-raw,width=320,height=240,framerate=10/1", 320, 240, 30, 1);

  assert_mode (caps, 320, 240, 10, 1);
  gst_caps_unref (caps);
}

static void
test_mode_larger_camera_not_scaled (void **state)
{
  GstCaps *caps = negotiated_caps ("videotestsrc is-live=true ! capsfilter "
      "caps=video/x-raw,width=1920,height=1080,framerate=25/1", 1280, 720, 30,
      1);

  assert_mode (caps, 1920, 1080, 25, 1);
  gst_caps_unref (caps);
}

/* A webcam that gives the wanted mode only as Motion JPEG: decoded. */
static void
test_mode_mjpeg_camera_is_decoded (void **state)
{
  GstCaps *caps = negotiated_caps ("videotestsrc is-live=true ! capsfilter "
      "caps=video/x-raw,width=320,height=240,framerate=30/1 ! jpegenc",
      320, 240, 30, 1);

  assert_true (gst_structure_has_name (gst_caps_get_structure (caps, 0),
          "video/x-raw"));
  assert_mode (caps, 320, 240, 30, 1);
  gst_caps_unref (caps);
}

static void
test_active_backend_and_reopen (void **state)
{
  GstElement *cam, *pipe = make_pipeline (&cam);
  gchar *backend = NULL;

  g_object_set (cam, "source-description", "videotestsrc is-live=true",
      NULL);
  for (gint i = 0; i < 2; i++) {
    assert_int_equal (gst_element_set_state (pipe, GST_STATE_READY),
        GST_STATE_CHANGE_SUCCESS);
    g_object_get (cam, "active-backend", &backend, NULL);
    assert_string_equal (backend, "description");
    g_free (backend);
    assert_int_equal (gst_element_set_state (pipe, GST_STATE_NULL),
        GST_STATE_CHANGE_SUCCESS);
    g_object_get (cam, "active-backend", &backend, NULL);
    assert_null (backend);
  }
  gst_object_unref (pipe);
}

/* ------------------------------------------------------------------ */
/* Stall watchdog                                                      */
/* ------------------------------------------------------------------ */

static void
push_frame (GstElement * feed, GstClockTime pts)
{
  GstBuffer *buf = gst_buffer_new_allocate (NULL, 64 * 48 * 4, NULL);
  GstFlowReturn ret;

  gst_buffer_memset (buf, 0, 0x80, 64 * 48 * 4);
  GST_BUFFER_PTS (buf) = pts;
  GST_BUFFER_DURATION (buf) = GST_SECOND / 30;
  g_signal_emit_by_name (feed, "push-buffer", buf, &ret);
  gst_buffer_unref (buf);
  assert_int_equal (ret, GST_FLOW_OK);
}

static void
test_stall_posts_error (void **state)
{
  GstElement *cam, *feed, *pipe = make_pipeline (&cam);
  Watch *w = watch_sink (pipe);
  GstMessage *m;
  GError *e = NULL;
  gchar *debug = NULL;
  gint64 last;

  g_object_set (cam, "source-description", APPSRC_DESC, "stall-timeout", 1,
      NULL);
  assert_int_not_equal (gst_element_set_state (pipe, GST_STATE_PLAYING),
      GST_STATE_CHANGE_FAILURE);
  feed = gst_bin_get_by_name (GST_BIN (pipe), "feed");
  assert_non_null (feed);
  push_frame (feed, 0);
  push_frame (feed, GST_SECOND / 30);
  gst_caps_unref (wait_frames (w, 2));
  last = g_get_monotonic_time ();

  m = wait_message (pipe, GST_MESSAGE_ERROR, WAIT_S);
  assert_non_null (m);
  assert_true (g_get_monotonic_time () - last >= 900 * G_TIME_SPAN_MILLISECOND);
  gst_message_parse_error (m, &e, &debug);
  assert_true (g_error_matches (e, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_READ));
  assert_string_equal (e->message, "The camera stopped sending frames.");
  assert_non_null (strstr (debug, "stall-timeout"));

  g_error_free (e);
  g_free (debug);
  gst_message_unref (m);
  gst_object_unref (feed);
  free_pipeline (pipe);
  watch_free (w);
}

static void
test_no_stall_while_frames_flow (void **state)
{
  GstElement *cam, *pipe = make_pipeline (&cam);
  Watch *w = watch_sink (pipe);
  GstMessage *m;

  g_object_set (cam, "source-description", "videotestsrc is-live=true "
      "pattern=black", "width", 64, "height", 48, "stall-timeout", 1, NULL);
  assert_int_not_equal (gst_element_set_state (pipe, GST_STATE_PLAYING),
      GST_STATE_CHANGE_FAILURE);
  gst_caps_unref (wait_frames (w, 1));
  m = wait_message (pipe, GST_MESSAGE_ERROR, 2.5);
  assert_null (m);
  free_pipeline (pipe);
  watch_free (w);
}

static void
test_eos_is_not_a_stall (void **state)
{
  GstElement *cam, *pipe = make_pipeline (&cam);
  GstMessage *m;

  g_object_set (cam, "source-description", "videotestsrc is-live=true "
      "num-buffers=3", "width", 64, "height", 48, "stall-timeout", 1, NULL);
  assert_int_not_equal (gst_element_set_state (pipe, GST_STATE_PLAYING),
      GST_STATE_CHANGE_FAILURE);
  m = wait_message (pipe, GST_MESSAGE_ERROR | GST_MESSAGE_EOS, WAIT_S);
  assert_non_null (m);
  assert_int_equal (GST_MESSAGE_TYPE (m), GST_MESSAGE_EOS);
  gst_message_unref (m);
  m = wait_message (pipe, GST_MESSAGE_ERROR, 1.5);
  assert_null (m);
  free_pipeline (pipe);
}

static void
test_stall_timeout_zero_is_off (void **state)
{
  GstElement *cam, *pipe = make_pipeline (&cam);
  GstMessage *m;

  g_object_set (cam, "source-description", APPSRC_DESC, "stall-timeout", 0,
      NULL);
  assert_int_not_equal (gst_element_set_state (pipe, GST_STATE_PLAYING),
      GST_STATE_CHANGE_FAILURE);
  m = wait_message (pipe, GST_MESSAGE_ERROR, 1.5);
  assert_null (m);
  free_pipeline (pipe);
}

static void
test_watchdog_ends_with_playing (void **state)
{
  GstElement *cam, *pipe = make_pipeline (&cam);

  /* stall-timeout 0: the watchdog thread runs, but never fires */
  g_object_set (cam, "source-description", APPSRC_DESC, "stall-timeout", 0,
      NULL);
  assert_false (thread_named ("vlmcamera-watch"));
  assert_int_not_equal (gst_element_set_state (pipe, GST_STATE_PLAYING),
      GST_STATE_CHANGE_FAILURE);
  assert_true (thread_running ("vlmcamera-watch"));
  assert_int_not_equal (gst_element_set_state (pipe, GST_STATE_PAUSED),
      GST_STATE_CHANGE_FAILURE);
  /* joined before the state change returned */
  assert_false (thread_named ("vlmcamera-watch"));
  free_pipeline (pipe);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_registered_with_defaults),
    cmocka_unit_test (test_property_ranges),
    cmocka_unit_test (test_no_camera_says_what_was_tried),
    cmocka_unit_test (test_v4l2_backend_skips_libcamera),
    cmocka_unit_test (test_libcamera_backend_skips_v4l2),
    cmocka_unit_test (test_v4l2_skips_nodes_that_are_not_devices),
    cmocka_unit_test (test_device_path_not_a_device),
    cmocka_unit_test (test_named_camera_not_found),
    cmocka_unit_test (test_bad_source_description),
    cmocka_unit_test (test_mode_wanted_when_offered),
    cmocka_unit_test (test_mode_negotiated_down_to_what_camera_has),
    cmocka_unit_test (test_mode_wanted_size_at_other_rate),
    cmocka_unit_test (test_mode_larger_camera_not_scaled),
    cmocka_unit_test (test_mode_mjpeg_camera_is_decoded),
    cmocka_unit_test (test_active_backend_and_reopen),
    cmocka_unit_test (test_stall_posts_error),
    cmocka_unit_test (test_no_stall_while_frames_flow),
    cmocka_unit_test (test_eos_is_not_a_stall),
    cmocka_unit_test (test_stall_timeout_zero_is_off),
    cmocka_unit_test (test_watchdog_ends_with_playing),
  };

  return cmocka_run_group_tests (tests, group_setup, group_teardown);
}

/* gst-vlm — tests of the pipeline library (pipeline/vlmpipeline.c) with
 * the tiny generated model, the test source and a short clip the test
 * makes with GStreamer (VP8 in WebM).
 *
 * The plugin comes from GST_PLUGIN_PATH (the build's elements/ dir, set by
 * tests/meson.build). Callbacks are collected under a lock; every wait is
 * bounded (WAIT_S).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <gst/gst.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vlmpipeline.h"
#include "model-util.h"
#include "test-util.h"
#include "xvfb-util.h"

#define WAIT_S 120              /* generous: the valgrind run is slow */
#define W 160
#define H 120
#define CLIP_FRAMES 30

static gchar *tmp_dir;
static gchar *text_path, *mmproj_path, *clip_path;

/* ------------------------------------------------------------------ */
/* Fixtures                                                            */
/* ------------------------------------------------------------------ */

static int
make_model (void)
{
  char text[4200], mmproj[4200];

  if (tu_make_model ("tiny-ldpv2", tmp_dir, text, mmproj, sizeof text) != 0)
    return -1;
  text_path = g_strdup (text);
  mmproj_path = g_strdup (mmproj);
  return 0;
}

/* A 1 s clip, CLIP_FRAMES frames of W x H at 30 fps. */
static int
make_clip (void)
{
  gchar *desc;
  GstElement *pipe;
  GstBus *bus;
  GstMessage *m;
  int ret = -1;

  clip_path = g_build_filename (tmp_dir, "clip.webm", NULL);
  desc = g_strdup_printf ("videotestsrc num-buffers=%d pattern=ball ! "
      "video/x-raw,width=%d,height=%d,framerate=30/1 ! vp8enc deadline=1 ! "
      "webmmux ! filesink location=\"%s\"", CLIP_FRAMES, W, H, clip_path);
  pipe = gst_parse_launch (desc, NULL);
  g_free (desc);
  if (pipe == NULL)
    return -1;
  gst_element_set_state (pipe, GST_STATE_PLAYING);
  bus = gst_element_get_bus (pipe);
  m = gst_bus_timed_pop_filtered (bus, WAIT_S * GST_SECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  if (m && GST_MESSAGE_TYPE (m) == GST_MESSAGE_EOS)
    ret = 0;
  gst_clear_message (&m);
  gst_object_unref (bus);
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (pipe);
  return ret;
}

static int
group_setup (void **state)
{
  gst_init (NULL, NULL);
  tmp_dir = g_dir_make_tmp ("test-pipeline-XXXXXX", NULL);
  if (tmp_dir == NULL || make_model () != 0 || make_clip () != 0)
    return -1;
  return 0;
}

static int
group_teardown (void **state)
{
  tu_tmpdir_remove (tmp_dir);
  g_free (tmp_dir);
  g_free (text_path);
  g_free (mmproj_path);
  g_free (clip_path);
  gst_deinit ();
  return 0;
}

/* ------------------------------------------------------------------ */
/* Callback collector                                                  */
/* ------------------------------------------------------------------ */

typedef struct {
  gchar *text;
  gboolean final;
  guint64 id;
  GstClockTime pts;
} Caption;

typedef struct {
  GMutex lock;
  GCond cond;
  GArray *captions;             /* Caption */
  guint n_final;
  gboolean model_ready;
  gboolean ready_before_caption;
  gchar *error;
  gchar *warnings;
  gboolean eos;
  guint finals_at_eos;
  GArray *frame_pts;            /* GstClockTime */
  gint frame_w, frame_h, frame_stride;
  gchar *thermal_state;
  gdouble thermal_temp;
  gboolean stopped;             /* set once vlm_pipeline_stop returned */
  guint after_stop;             /* callbacks seen after that */
} Collector;

static void
caption_clear (Caption * c)
{
  g_free (c->text);
}

static Collector *
collector_new (void)
{
  Collector *c = g_new0 (Collector, 1);

  g_mutex_init (&c->lock);
  g_cond_init (&c->cond);
  c->captions = g_array_new (FALSE, TRUE, sizeof (Caption));
  g_array_set_clear_func (c->captions, (GDestroyNotify) caption_clear);
  c->frame_pts = g_array_new (FALSE, FALSE, sizeof (GstClockTime));
  c->warnings = g_strdup ("");
  return c;
}

static void
collector_free (Collector * c)
{
  g_array_unref (c->captions);
  g_array_unref (c->frame_pts);
  g_free (c->error);
  g_free (c->warnings);
  g_free (c->thermal_state);
  g_mutex_clear (&c->lock);
  g_cond_clear (&c->cond);
  g_free (c);
}

/* Every callback starts with this (lock held after). */
static void
enter (Collector * c)
{
  g_mutex_lock (&c->lock);
  if (c->stopped)
    c->after_stop++;
}

static void
leave (Collector * c)
{
  g_cond_broadcast (&c->cond);
  g_mutex_unlock (&c->lock);
}

static void
on_caption (const gchar * text, gboolean final, guint64 id, GstClockTime pts,
    gpointer data)
{
  Collector *c = data;
  Caption cap = { g_strdup (text), final, id, pts };

  enter (c);
  if (c->captions->len == 0)
    c->ready_before_caption = c->model_ready;
  g_array_append_val (c->captions, cap);
  c->n_final += final;
  leave (c);
}

static void
on_model (const gchar * state, gdouble progress, gpointer data)
{
  Collector *c = data;

  enter (c);
  if (g_strcmp0 (state, "ready") == 0)
    c->model_ready = TRUE;
  leave (c);
}

static void
on_thermal (const gchar * state, gdouble temp, gpointer data)
{
  Collector *c = data;

  enter (c);
  g_free (c->thermal_state);
  c->thermal_state = g_strdup (state);
  c->thermal_temp = temp;
  leave (c);
}

static void
on_error (const gchar * message, const gchar * debug, gpointer data)
{
  Collector *c = data;

  enter (c);
  if (c->error == NULL)
    c->error = g_strdup (message);
  leave (c);
}

static void
on_warning (const gchar * message, const gchar * debug, gpointer data)
{
  Collector *c = data;
  gchar *all;

  enter (c);
  all = g_strconcat (c->warnings, message, "\n", NULL);
  g_free (c->warnings);
  c->warnings = all;
  leave (c);
}

static void
on_eos (gpointer data)
{
  Collector *c = data;

  enter (c);
  c->eos = TRUE;
  c->finals_at_eos = c->n_final;
  leave (c);
}

static void
on_frame (const guint8 * rgba, gint width, gint height, gint stride,
    GstClockTime pts, gpointer data)
{
  Collector *c = data;

  enter (c);
  g_array_append_val (c->frame_pts, pts);
  c->frame_w = width;
  c->frame_h = height;
  c->frame_stride = stride;
  leave (c);
}

static VlmPipelineCallbacks
callbacks_for (Collector * c)
{
  VlmPipelineCallbacks cb = {
    .on_caption = on_caption, .on_model = on_model, .on_thermal = on_thermal,
    .on_error = on_error, .on_eos = on_eos, .on_frame = on_frame,
    .on_warning = on_warning, .user_data = c,
  };

  return cb;
}

typedef gboolean (*Condition) (Collector * c);

/* Waits until cond holds (or an error came); returns whether it holds. */
static gboolean
wait_for (Collector * c, Condition cond, gdouble seconds)
{
  gint64 end = g_get_monotonic_time () + (gint64) (seconds * 1e6);
  gboolean ok;

  g_mutex_lock (&c->lock);
  while (!cond (c) && c->error == NULL)
    if (!g_cond_wait_until (&c->cond, &c->lock, end))
      break;
  ok = cond (c);
  g_mutex_unlock (&c->lock);
  return ok;
}

static gboolean
got_eos (Collector * c)
{
  return c->eos;
}

static gboolean
got_ready (Collector * c)
{
  return c->model_ready;
}

static gboolean
got_final (Collector * c)
{
  return c->n_final >= 1;
}

static gboolean
got_frames (Collector * c)
{
  return c->frame_pts->len >= 3;
}

static gboolean
got_thermal (Collector * c)
{
  return c->thermal_state != NULL;
}

static gboolean
never (Collector * c)
{
  return FALSE;
}

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

/* The tiny model, short captions, small frames, a source of kind. */
static VlmConfig *
test_config (VlmSourceKind kind)
{
  VlmConfig *c = vlm_config_new ();

  c->model = g_strdup (text_path);
  c->mmproj = g_strdup (mmproj_path);
  c->max_tokens = 4;
  c->threads = 2;
  c->width = W;
  c->height = H;
  c->source = kind;
  c->scene_change = 0.0;
  /* the CPU path, whatever the display; the GL tests set gl */
  c->gl = VLM_GL_OFF;
  if (kind == VLM_SOURCE_URI)
    c->uri = g_strdup (clip_path);
  return c;
}

static VlmPipelineOptions
options (VlmSinkKind sink, gboolean sync)
{
  VlmPipelineOptions o = vlm_pipeline_options_default ();

  o.sink = sink;
  o.sync = sync;
  return o;
}

/* vlm_pipeline_new that must fail; its error. */
static GError *
new_error (const VlmConfig * config)
{
  VlmPipelineOptions o = vlm_pipeline_options_default ();
  GError *err = NULL;
  VlmPipeline *p = vlm_pipeline_new (config, &o, NULL, &err);

  assert_null (p);
  assert_non_null (err);
  return err;
}

static VlmPipeline *
start (const VlmConfig * config, const VlmPipelineOptions * o, Collector * c)
{
  VlmPipelineCallbacks cb = callbacks_for (c);
  GError *err = NULL;
  VlmPipeline *p = vlm_pipeline_new (config, o, &cb, &err);

  if (p == NULL)
    fail_msg ("vlm_pipeline_new: %s", err->message);
  if (!vlm_pipeline_start (p, &err))
    fail_msg ("vlm_pipeline_start: %s", err->message);
  return p;
}

static void
stop (VlmPipeline * p, Collector * c)
{
  vlm_pipeline_stop (p);
  g_mutex_lock (&c->lock);
  c->stopped = TRUE;
  g_mutex_unlock (&c->lock);
}

/* Plays the clip to its end (sync off, frames to on_frame). */
static void
play_clip (Collector * c)
{
  VlmConfig *config = test_config (VLM_SOURCE_URI);
  VlmPipelineOptions o = options (VLM_SINK_APP, FALSE);
  VlmPipeline *p = start (config, &o, c);

  assert_true (wait_for (c, got_eos, WAIT_S));
  assert_null (c->error);
  stop (p, c);
  vlm_pipeline_free (p);
  vlm_config_free (config);
}

/* Whether a camera is there (then the no-camera tests skip). */
static gboolean
have_camera (void)
{
  GstElement *cam = gst_element_factory_make ("vlmcamerasrc", NULL);
  GstStateChangeReturn ret;

  assert_non_null (cam);
  ret = gst_element_set_state (cam, GST_STATE_READY);
  gst_element_set_state (cam, GST_STATE_NULL);
  gst_object_unref (cam);
  return ret != GST_STATE_CHANGE_FAILURE;
}

/* ------------------------------------------------------------------ */
/* Files                                                               */
/* ------------------------------------------------------------------ */

static void
test_file_captions_describe_real_frames (void **state)
{
  Collector *c = collector_new ();

  play_clip (c);
  assert_true (c->n_final >= 1);
  assert_true (c->ready_before_caption);
  assert_int_equal (c->frame_pts->len, CLIP_FRAMES);
  for (guint i = 0; i < c->captions->len; i++) {
    Caption *cap = &g_array_index (c->captions, Caption, i);
    gboolean real = FALSE;

    assert_true (cap->id >= 1);
    for (guint k = 0; k < c->frame_pts->len; k++)
      real |= g_array_index (c->frame_pts, GstClockTime, k) == cap->pts;
    if (!real)
      fail_msg ("caption %u pts %" GST_TIME_FORMAT " is no frame's", i,
          GST_TIME_ARGS (cap->pts));
  }
  collector_free (c);
}

static void
test_file_eos_after_captions (void **state)
{
  Collector *c = collector_new ();

  play_clip (c);
  assert_true (c->eos);
  assert_true (c->finals_at_eos >= 1);
  assert_int_equal (c->finals_at_eos, c->n_final);
  collector_free (c);
}

/* Played as fast as it decodes, the file is still narrated all through:
 * one caption per max-rate interval of its stream time (1 s at 30 fps,
 * 4 captions a second: PTS 0, 8/30, 16/30, 24/30 s). */
static void
test_file_narrated_every_interval (void **state)
{
  Collector *c = collector_new ();
  VlmConfig *config = test_config (VLM_SOURCE_URI);
  VlmPipelineOptions o = options (VLM_SINK_NONE, FALSE);
  GstClockTime last = 0;
  VlmPipeline *p;

  config->rate_n = 4;
  config->rate_d = 1;
  p = start (config, &o, c);
  assert_true (wait_for (c, got_eos, WAIT_S));
  assert_int_equal (c->n_final, 4);
  for (guint i = 0, k = 0; i < c->captions->len; i++) {
    Caption *cap = &g_array_index (c->captions, Caption, i);

    /* the first frame at or past each quarter second after the last */
    if (cap->final) {
      if (k > 0) {
        assert_true (cap->pts >= last + GST_SECOND / 4);
        assert_true (cap->pts < last + GST_SECOND / 4 + GST_SECOND / 30);
      }
      last = cap->pts;
      k++;
    }
  }
  stop (p, c);
  vlm_pipeline_free (p);
  vlm_config_free (config);
  collector_free (c);
}

static void
test_app_sink_gets_rgba_frames (void **state)
{
  Collector *c = collector_new ();

  play_clip (c);
  assert_int_equal (c->frame_w, W);
  assert_int_equal (c->frame_h, H);
  assert_true (c->frame_stride >= W * 4);
  collector_free (c);
}

static void
test_missing_file_is_an_error (void **state)
{
  VlmConfig *config = test_config (VLM_SOURCE_URI);
  GError *err;

  g_free (config->uri);
  config->uri = g_strdup ("/nonexistent/dir/clip.webm");
  err = new_error (config);
  assert_true (g_error_matches (err, VLM_PIPELINE_ERROR,
          VLM_PIPELINE_ERROR_NO_SOURCE));
  assert_string_equal (err->message, "[source] uri: the video file "
      "\"/nonexistent/dir/clip.webm\" does not exist.");
  g_error_free (err);
  vlm_config_free (config);
}

static void
test_missing_file_uri_is_an_error (void **state)
{
  VlmConfig *config = test_config (VLM_SOURCE_URI);
  GError *err;

  g_free (config->uri);
  config->uri = g_strdup ("file:///nonexistent/clip.webm");
  err = new_error (config);
  assert_true (g_error_matches (err, VLM_PIPELINE_ERROR,
          VLM_PIPELINE_ERROR_NO_SOURCE));
  assert_non_null (strstr (err->message, "/nonexistent/clip.webm"));
  g_error_free (err);
  vlm_config_free (config);
}

static void
test_file_graph (void **state)
{
  VlmConfig *config = test_config (VLM_SOURCE_URI);
  VlmPipelineOptions o = options (VLM_SINK_APP, FALSE);
  VlmPipeline *p = vlm_pipeline_new (config, &o, NULL, NULL);

  assert_non_null (p);
  assert_string_equal (vlm_pipeline_describe_graph (p), "uridecodebin ! "
      "videoconvert ! vlmdescribe ! videoconvert ! vlmoverlay ! appsink");
  vlm_pipeline_free (p);
  vlm_config_free (config);
}

/* ------------------------------------------------------------------ */
/* Model, GL, camera                                                   */
/* ------------------------------------------------------------------ */

static void
test_model_not_set_names_key (void **state)
{
  VlmConfig *config = test_config (VLM_SOURCE_TEST);
  GError *err;

  g_clear_pointer (&config->model, g_free);
  err = new_error (config);
  assert_true (g_error_matches (err, VLM_PIPELINE_ERROR,
          VLM_PIPELINE_ERROR_NO_MODEL));
  assert_non_null (strstr (err->message, "[model] text"));
  g_error_free (err);
  vlm_config_free (config);
}

static void
test_bad_mmproj_path_names_key (void **state)
{
  VlmConfig *config = test_config (VLM_SOURCE_TEST);
  GError *err;

  g_free (config->mmproj);
  config->mmproj = g_strdup ("/nonexistent/mmproj.gguf");
  err = new_error (config);
  assert_true (g_error_matches (err, VLM_PIPELINE_ERROR,
          VLM_PIPELINE_ERROR_NO_MODEL));
  assert_string_equal (err->message, "[model] mmproj: the vision projector "
      "file \"/nonexistent/mmproj.gguf\" does not exist.");
  g_error_free (err);
  vlm_config_free (config);
}

static void
test_gl_on_without_display (void **state)
{
  VlmConfig *config = test_config (VLM_SOURCE_TEST);
  gchar *display = g_strdup (g_getenv ("DISPLAY"));
  gchar *wayland = g_strdup (g_getenv ("WAYLAND_DISPLAY"));
  GError *err;

  g_unsetenv ("DISPLAY");
  g_unsetenv ("WAYLAND_DISPLAY");
  config->gl = VLM_GL_ON;
  err = new_error (config);
  assert_true (g_error_matches (err, VLM_PIPELINE_ERROR,
          VLM_PIPELINE_ERROR_NO_GL));
  assert_true (g_str_has_prefix (err->message, "[describe] gl = on, but the "
          "GL path cannot be used: "));

  if (display)
    g_setenv ("DISPLAY", display, TRUE);
  if (wayland)
    g_setenv ("WAYLAND_DISPLAY", wayland, TRUE);
  g_free (display);
  g_free (wayland);
  g_error_free (err);
  vlm_config_free (config);
}

static void
test_gl_auto_without_gl_is_cpu_path (void **state)
{
  VlmConfig *config = test_config (VLM_SOURCE_TEST);
  gchar *display = g_strdup (g_getenv ("DISPLAY"));
  gchar *wayland = g_strdup (g_getenv ("WAYLAND_DISPLAY"));
  VlmPipeline *p;

  g_unsetenv ("DISPLAY");
  g_unsetenv ("WAYLAND_DISPLAY");
  config->gl = VLM_GL_AUTO;
  p = vlm_pipeline_new (config, NULL, NULL, NULL);
  assert_non_null (p);
  assert_false (vlm_pipeline_uses_gl (p));
  assert_string_equal (vlm_pipeline_describe_graph (p), "videotestsrc ! "
      "capsfilter ! videoconvert ! vlmdescribe ! videoconvert ! vlmoverlay ! "
      "fakesink");
  if (display)
    g_setenv ("DISPLAY", display, TRUE);
  if (wayland)
    g_setenv ("WAYLAND_DISPLAY", wayland, TRUE);
  g_free (display);
  g_free (wayland);
  vlm_pipeline_free (p);
  vlm_config_free (config);
}

/* The GL path, on the private Xvfb of `test-pipeline --gl`. */
static void
test_gl_path_describes_file (void **state)
{
  VlmPipelineOptions o = options (VLM_SINK_APP, FALSE);
  VlmPipelineCallbacks cb;
  VlmConfig *config;
  Collector *c;
  GError *err = NULL;
  VlmPipeline *p;

  config = test_config (VLM_SOURCE_URI);
  c = collector_new ();
  cb = callbacks_for (c);
  config->gl = VLM_GL_ON;
  p = vlm_pipeline_new (config, &o, &cb, &err);
  if (p == NULL)
    fail_msg ("%s", err->message);
  assert_true (vlm_pipeline_uses_gl (p));
  assert_string_equal (vlm_pipeline_describe_graph (p), "uridecodebin ! "
      "glupload ! glcolorconvert ! vlmdescribe ! gldownload ! videoconvert ! "
      "vlmoverlay ! appsink");
  assert_true (vlm_pipeline_start (p, &err));
  assert_true (wait_for (c, got_eos, WAIT_S));
  assert_null (c->error);
  assert_true (c->n_final >= 1);
  assert_int_equal (c->frame_pts->len, CLIP_FRAMES);
  stop (p, c);
  vlm_pipeline_free (p);
  vlm_config_free (config);
  collector_free (c);
}

static void
test_no_camera_is_an_error (void **state)
{
  VlmConfig *config;
  GError *err;

  if (have_camera ())
    skip ();
  config = test_config (VLM_SOURCE_CAMERA);
  err = new_error (config);
  assert_true (g_error_matches (err, VLM_PIPELINE_ERROR,
          VLM_PIPELINE_ERROR_NO_CAMERA));
  assert_true (g_str_has_prefix (err->message, "No camera found (libcamera: "
          "no camera; V4L2: no capture device in /dev"));
  g_error_free (err);
  vlm_config_free (config);
}

static void
test_no_camera_falls_back_to_test_pattern (void **state)
{
  VlmPipelineOptions o = options (VLM_SINK_APP, TRUE);
  VlmConfig *config;
  Collector *c;
  VlmPipeline *p;

  if (have_camera ())
    skip ();
  config = test_config (VLM_SOURCE_CAMERA);
  c = collector_new ();
  config->fallback_test = TRUE;
  p = start (config, &o, c);
  assert_true (g_str_has_prefix (vlm_pipeline_describe_graph (p),
          "videotestsrc ! "));
  assert_true (wait_for (c, got_frames, WAIT_S));
  stop (p, c);
  assert_non_null (strstr (c->warnings, "No camera found"));
  assert_non_null (strstr (c->warnings, "Showing a test pattern instead"));
  vlm_pipeline_free (p);
  vlm_config_free (config);
  collector_free (c);
}

/* ------------------------------------------------------------------ */
/* Running and controls                                                */
/* ------------------------------------------------------------------ */

/* The nick of an enum property's value. */
static gchar *
enum_nick (GObject * obj, const gchar * name)
{
  GParamSpec *pspec = g_object_class_find_property (G_OBJECT_GET_CLASS (obj),
      name);
  GValue v = G_VALUE_INIT;
  GEnumClass *k;
  GEnumValue *ev;
  gchar *nick;

  g_value_init (&v, pspec->value_type);
  g_object_get_property (obj, name, &v);
  k = g_type_class_ref (pspec->value_type);
  ev = g_enum_get_value (k, g_value_get_enum (&v));
  nick = g_strdup (ev ? ev->value_nick : NULL);
  g_type_class_unref (k);
  g_value_unset (&v);
  return nick;
}

static void
test_config_reaches_elements (void **state)
{
  VlmConfig *config = test_config (VLM_SOURCE_TEST);
  VlmPipeline *p;
  GstElement *d, *o;
  gchar *prompt = NULL, *theme = NULL;
  gint n = 0, den = 0, tokens = 0;
  gdouble size = 0;

  assert_true (vlm_config_set (config, "prompts.default=text", NULL));
  assert_true (vlm_config_set (config, "describe.rate=2/5", NULL));
  assert_true (vlm_config_set (config, "overlay.theme=light", NULL));
  assert_true (vlm_config_set (config, "overlay.font-size=0.1", NULL));
  p = vlm_pipeline_new (config, NULL, NULL, NULL);
  assert_non_null (p);
  d = gst_bin_get_by_name (GST_BIN (vlm_pipeline_get_element (p)),
      "describe");
  o = gst_bin_get_by_name (GST_BIN (vlm_pipeline_get_element (p)),
      "overlay");
  g_object_get (d, "prompt", &prompt, "max-rate", &n, &den, "max-tokens",
      &tokens, NULL);
  g_object_get (o, "font-size", &size, NULL);
  theme = enum_nick (G_OBJECT (o), "theme");
  assert_string_equal (theme, "light");
  assert_string_equal (prompt, "Read the text in this image.");
  assert_int_equal (n, 2);
  assert_int_equal (den, 5);
  assert_int_equal (tokens, 4);
  assert_true (fabs (size - 0.1) < 1e-9);
  g_free (prompt);
  g_free (theme);
  gst_object_unref (d);
  gst_object_unref (o);
  vlm_pipeline_free (p);
  vlm_config_free (config);
}

static void
test_set_prompt_changes_question (void **state)
{
  VlmConfig *config = test_config (VLM_SOURCE_TEST);
  VlmPipeline *p = vlm_pipeline_new (config, NULL, NULL, NULL);
  GstElement *d;
  gchar *prompt = NULL;

  assert_non_null (p);
  vlm_pipeline_set_prompt (p, "Is there a door?");
  d = gst_bin_get_by_name (GST_BIN (vlm_pipeline_get_element (p)),
      "describe");
  g_object_get (d, "prompt", &prompt, NULL);
  assert_string_equal (prompt, "Is there a door?");
  g_free (prompt);
  gst_object_unref (d);
  vlm_pipeline_free (p);
  vlm_config_free (config);
}

static void
test_no_callback_after_stop (void **state)
{
  VlmConfig *config = test_config (VLM_SOURCE_TEST);
  VlmPipelineOptions o = options (VLM_SINK_APP, TRUE);
  Collector *c = collector_new ();
  VlmPipeline *p = start (config, &o, c);

  assert_true (wait_for (c, got_frames, WAIT_S));
  stop (p, c);
  /* a while for anything late to show up */
  assert_false (wait_for (c, never, 0.5));
  assert_int_equal (c->after_stop, 0);
  vlm_pipeline_stop (p);
  vlm_pipeline_free (p);
  vlm_config_free (config);
  collector_free (c);
}

static void
test_describe_now_gives_one_caption (void **state)
{
  VlmPipelineOptions o = options (VLM_SINK_NONE, TRUE);
  GstElement *d = gst_element_factory_make ("vlmdescribe", NULL);
  gboolean has_action = g_signal_lookup ("describe-now",
      G_OBJECT_TYPE (d)) != 0;
  VlmConfig *config;
  Collector *c;
  VlmPipeline *p;

  gst_object_unref (d);
  if (!has_action)
    skip ();

  config = test_config (VLM_SOURCE_TEST);
  c = collector_new ();
  config->continuous = FALSE;
  config->rate_n = 30;
  p = start (config, &o, c);
  assert_true (wait_for (c, got_ready, WAIT_S));
  /* not continuous: nothing without a request */
  assert_false (wait_for (c, got_final, 1.0));
  vlm_pipeline_describe_now (p);
  assert_true (wait_for (c, got_final, WAIT_S));
  /* and nothing more after it */
  assert_false (wait_for (c, never, 1.5));
  assert_int_equal (c->n_final, 1);
  assert_null (c->error);
  stop (p, c);
  vlm_pipeline_free (p);
  vlm_config_free (config);
  collector_free (c);
}

static void
test_thermal_cooldown_reported (void **state)
{
  VlmConfig *config = test_config (VLM_SOURCE_TEST);
  VlmPipelineOptions o = options (VLM_SINK_NONE, TRUE);
  Collector *c = collector_new ();
  gchar *zone = g_build_filename (tmp_dir, "temp", NULL);
  VlmPipeline *p;

  /* a sensor file at 90 degrees: above cooldown (85) */
  assert_true (g_file_set_contents (zone, "90000\n", -1, NULL));
  config->thermal_zone = g_strdup (zone);
  p = start (config, &o, c);
  assert_true (wait_for (c, got_thermal, WAIT_S));
  stop (p, c);
  assert_string_equal (c->thermal_state, "cooldown");
  assert_true (fabs (c->thermal_temp - 90.0) < 1e-6);
  vlm_pipeline_free (p);
  vlm_config_free (config);
  collector_free (c);
  g_unlink (zone);
  g_free (zone);
}

/* --gl: the GL tests, with a private X server (not under valgrind) */
static int
gl_group_setup (void **state)
{
  char display[32];

  if (tu_xvfb_start (display, sizeof display) != 0)
    return -1;
  g_setenv ("DISPLAY", display, TRUE);
  g_unsetenv ("WAYLAND_DISPLAY");
  return group_setup (state);
}

static int
gl_group_teardown (void **state)
{
  int r = group_teardown (state);

  tu_xvfb_stop ();
  return r;
}

int
main (int argc, char **argv)
{
  const struct CMUnitTest gl_tests[] = {
    cmocka_unit_test (test_gl_path_describes_file),
  };
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_file_captions_describe_real_frames),
    cmocka_unit_test (test_file_eos_after_captions),
    cmocka_unit_test (test_file_narrated_every_interval),
    cmocka_unit_test (test_app_sink_gets_rgba_frames),
    cmocka_unit_test (test_missing_file_is_an_error),
    cmocka_unit_test (test_missing_file_uri_is_an_error),
    cmocka_unit_test (test_file_graph),
    cmocka_unit_test (test_model_not_set_names_key),
    cmocka_unit_test (test_bad_mmproj_path_names_key),
    cmocka_unit_test (test_gl_on_without_display),
    cmocka_unit_test (test_gl_auto_without_gl_is_cpu_path),
    cmocka_unit_test (test_no_camera_is_an_error),
    cmocka_unit_test (test_no_camera_falls_back_to_test_pattern),
    cmocka_unit_test (test_config_reaches_elements),
    cmocka_unit_test (test_set_prompt_changes_question),
    cmocka_unit_test (test_no_callback_after_stop),
    cmocka_unit_test (test_describe_now_gives_one_caption),
    cmocka_unit_test (test_thermal_cooldown_reported),
  };

  if (argc > 1 && strcmp (argv[1], "--gl") == 0)
    return cmocka_run_group_tests (gl_tests, gl_group_setup,
        gl_group_teardown);
  return cmocka_run_group_tests (tests, group_setup, group_teardown);
}

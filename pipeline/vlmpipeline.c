/* gst-vlm — the scene-narration pipeline, built from a VlmConfig. See
 * vlmpipeline.h.
 * Copyright (C) 2025 gst-vlm authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Callbacks: a bus sync handler takes the messages the caller cares about
 * (errors, warnings, EOS, vlm-caption, vlm-model, vlm-thermal) and hands
 * them in order to a dispatcher thread of the pipeline, which calls the
 * callbacks; frames come from appsink's streaming thread. So no callback
 * runs on the caller's thread, even for messages posted during
 * vlm_pipeline_start(). Every callback runs with cb_lock held for reading
 * and only while `active`; vlm_pipeline_stop() clears `active` with
 * cb_lock held for writing, which waits for a callback in progress: none
 * runs after it.
 *
 * Lock order: cb_lock, then lock (a leaf: nothing is called with it held
 * but gst_pad_remove_probe).
 */
#include "vlmpipeline.h"

#include <gst/app/gstappsink.h>
#include <gst/video/video.h>
#include <math.h>
#include <string.h>

#ifdef HAVE_GST_GL
#include <gst/gl/gl.h>
#endif

GST_DEBUG_CATEGORY_STATIC (vlm_pipeline_debug);
#define GST_CAT_DEFAULT vlm_pipeline_debug

G_DEFINE_QUARK (vlm-pipeline-error-quark, vlm_pipeline_error);

#define GL_MEMORY_FEATURE "memory:GLMemory"

struct VlmPipeline {
  GstElement *pipeline;
  GstElement *describe;         /* vlmdescribe */
  GstElement *link_target;      /* what a uridecodebin video pad links to */
  VlmPipelineCallbacks cb;
  VlmPipelineOptions opts;
  gboolean uses_gl;
  gboolean wait_for_model;      /* file sources: no frame before the model */
  gchar *graph;
  gchar *notice;                /* a warning for on_warning at start */

  GRWLock cb_lock;              /* read: a callback runs; write: stop */
  gboolean active;              /* callbacks may run (cb_lock) */

  GAsyncQueue *queue;           /* GstMessage for the dispatcher */
  GThread *dispatcher;

  GMutex lock;                  /* leaf: the fields below */
  gulong block_id;              /* the probe holding frames for the model */
  GstPad *block_pad;
  gchar *first_error;           /* for vlm_pipeline_start's err */
};

/* Tells the dispatcher to end (never a real message). */
static gint dispatcher_stop_marker;

VlmPipelineOptions
vlm_pipeline_options_default (void)
{
  VlmPipelineOptions o = { VLM_SINK_NONE, TRUE, TRUE };

  return o;
}

/* ------------------------------------------------------------------ */
/* Checks before building                                              */
/* ------------------------------------------------------------------ */

static void
debug_init (void)
{
  static gsize done = 0;

  if (g_once_init_enter (&done)) {
    GST_DEBUG_CATEGORY_INIT (vlm_pipeline_debug, "vlmpipeline", 0,
        "gst-vlm pipeline assembly");
    g_once_init_leave (&done, 1);
  }
}

/* The model file of [model] key exists. */
static gboolean
check_model_file (const gchar * key, const gchar * what, const gchar * path,
    GError ** err)
{
  if (path == NULL) {
    g_set_error (err, VLM_PIPELINE_ERROR, VLM_PIPELINE_ERROR_NO_MODEL,
        "No model configured: [model] %s (the %s GGUF file) is not set.",
        key, what);
    return FALSE;
  }
  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR)) {
    g_set_error (err, VLM_PIPELINE_ERROR, VLM_PIPELINE_ERROR_NO_MODEL,
        "[model] %s: the %s file \"%s\" does not exist.", key, what, path);
    return FALSE;
  }
  return TRUE;
}

/* The URI of [source] uri (a path or a URI); a local file must exist. */
static gchar *
resolve_uri (const gchar * value, GError ** err)
{
  gchar *path = NULL, *uri = NULL;

  if (value == NULL) {
    g_set_error (err, VLM_PIPELINE_ERROR, VLM_PIPELINE_ERROR_NO_SOURCE,
        "[source] uri: no file or URI is set (kind = uri).");
    return NULL;
  }
  if (gst_uri_is_valid (value)) {
    if (!gst_uri_has_protocol (value, "file"))
      return g_strdup (value);
    path = g_filename_from_uri (value, NULL, NULL);
  } else {
    path = g_strdup (value);
  }

  if (path == NULL || !g_file_test (path, G_FILE_TEST_IS_REGULAR))
    g_set_error (err, VLM_PIPELINE_ERROR, VLM_PIPELINE_ERROR_NO_SOURCE,
        "[source] uri: the video file \"%s\" does not exist.",
        path ? path : value);
  else
    uri = gst_filename_to_uri (path, NULL);
  g_free (path);
  return uri;
}

/* Whether vlmdescribe's sink pad template takes GL memory. */
static gboolean
describe_takes_gl (void)
{
  GstElementFactory *f = gst_element_factory_find ("vlmdescribe");
  gboolean gl = FALSE;

  if (f == NULL)
    return FALSE;
  for (const GList * l = gst_element_factory_get_static_pad_templates (f);
      l; l = l->next) {
    GstStaticPadTemplate *t = l->data;
    GstCaps *caps;

    if (t->direction != GST_PAD_SINK)
      continue;
    caps = gst_static_caps_get (&t->static_caps);
    for (guint i = 0; i < gst_caps_get_size (caps); i++) {
      GstCapsFeatures *feat = gst_caps_get_features (caps, i);

      if (feat && gst_caps_features_contains (feat, GL_MEMORY_FEATURE))
        gl = TRUE;
    }
    gst_caps_unref (caps);
  }
  gst_object_unref (f);
  return gl;
}

/* Whether a GL context can be made on the display of the session. */
static gboolean
gl_context_works (gchar ** why)
{
#ifdef HAVE_GST_GL
  GstGLDisplay *display;
  GstGLContext *context = NULL;
  GError *e = NULL;
  gboolean ok;

  if (!g_getenv ("DISPLAY") && !g_getenv ("WAYLAND_DISPLAY")) {
    *why = g_strdup ("there is no display (DISPLAY and WAYLAND_DISPLAY are "
        "not set)");
    return FALSE;
  }
  display = gst_gl_display_new ();
  /* gst_gl_display_create_context wants the display's object lock */
  GST_OBJECT_LOCK (display);
  ok = gst_gl_display_create_context (display, NULL, &context, &e);
  GST_OBJECT_UNLOCK (display);
  if (!ok)
    *why = g_strdup_printf ("no GL context could be made: %s",
        e ? e->message : "unknown error");
  g_clear_error (&e);
  g_clear_object (&context);
  gst_object_unref (display);
  return ok;
#else
  *why = g_strdup ("this build has no GStreamer GL support");
  return FALSE;
#endif
}

/* Whether the GL path can be built; why not in *why. */
static gboolean
gl_usable (gchar ** why)
{
  GstElementFactory *f = gst_element_factory_find ("glupload");

  if (f == NULL) {
    *why = g_strdup ("the GStreamer GL elements are not installed "
        "(gstreamer1.0-gl)");
    return FALSE;
  }
  gst_object_unref (f);
  if (!describe_takes_gl ()) {
    *why = g_strdup ("this vlmdescribe does not take GL memory");
    return FALSE;
  }
  return gl_context_works (why);
}

/* ------------------------------------------------------------------ */
/* Building                                                            */
/* ------------------------------------------------------------------ */

/* The pipeline under construction. */
typedef struct {
  VlmPipeline *p;
  GstElement *last;             /* links to the next element; NULL: none */
  gboolean dynamic;             /* the source links on pad-added */
  GString *graph;
} Builder;

static const gchar *
package_of (const gchar * factory)
{
  static const struct {
    const gchar *factory, *package;
  } packages[] = {
    {"vlmcamerasrc", "the vlm plugin of gst-vlm: install it or set "
          "GST_PLUGIN_PATH to its build/elements"},
    {"vlmdescribe", "the vlm plugin of gst-vlm: install it or set "
          "GST_PLUGIN_PATH to its build/elements"},
    {"vlmoverlay", "the vlm plugin of gst-vlm, built with the overlay "
          "library (freetype2, fontconfig)"},
    {"autovideosink", "gstreamer1.0-plugins-good"},
    {"glupload", "gstreamer1.0-gl"},
    {"glcolorconvert", "gstreamer1.0-gl"},
    {"gldownload", "gstreamer1.0-gl"},
    {"fakesink", "libgstreamer1.0-0"},
  };

  for (guint i = 0; i < G_N_ELEMENTS (packages); i++)
    if (strcmp (packages[i].factory, factory) == 0)
      return packages[i].package;
  return "gstreamer1.0-plugins-base";
}

/* Makes factory as name and adds it to the pipeline, linked after the
 * last element (or as the target of the dynamic source). */
static GstElement *
builder_add (Builder * b, const gchar * factory, const gchar * name,
    GError ** err)
{
  GstElement *e = gst_element_factory_make (factory, name);

  if (e == NULL) {
    g_set_error (err, VLM_PIPELINE_ERROR, VLM_PIPELINE_ERROR_MISSING_ELEMENT,
        "The GStreamer element \"%s\" is missing (%s).", factory,
        package_of (factory));
    return NULL;
  }
  gst_bin_add (GST_BIN (b->p->pipeline), e);
  if (b->last && !gst_element_link (b->last, e)) {
    g_set_error (err, VLM_PIPELINE_ERROR, VLM_PIPELINE_ERROR_STATE,
        "Could not link %s to %s.", GST_OBJECT_NAME (b->last), factory);
    return NULL;
  }
  if (b->last == NULL && b->dynamic) {
    b->p->link_target = e;
    b->dynamic = FALSE;
  }
  g_string_append_printf (b->graph, "%s%s", b->graph->len ? " ! " : "",
      factory);
  b->last = e;
  return e;
}

/* A test pattern at the wanted mode: videotestsrc ! capsfilter. */
static gboolean
add_test_source (Builder * b, const VlmConfig * c, gboolean ball,
    GError ** err)
{
  GstElement *src = builder_add (b, "videotestsrc", "source", err);
  GstElement *filter;
  GstCaps *caps;

  if (src == NULL)
    return FALSE;
  g_object_set (src, "is-live", TRUE, NULL);
  if (ball)
    gst_util_set_object_arg (G_OBJECT (src), "pattern", "ball");

  filter = builder_add (b, "capsfilter", "mode", err);
  if (filter == NULL)
    return FALSE;
  caps = gst_caps_new_simple ("video/x-raw", "width", G_TYPE_INT, c->width,
      "height", G_TYPE_INT, c->height, "framerate", GST_TYPE_FRACTION,
      c->fps_n, c->fps_d, NULL);
  g_object_set (filter, "caps", caps, NULL);
  gst_caps_unref (caps);
  return TRUE;
}

/* The error message the camera posted when it failed to open. */
static gchar *
pop_error_text (GstElement * pipeline)
{
  GstBus *bus = gst_element_get_bus (pipeline);
  GstMessage *msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  GError *e = NULL;
  gchar *text;

  if (msg)
    gst_message_parse_error (msg, &e, NULL);
  text = g_strdup (e ? e->message : "The camera could not be opened.");
  g_clear_error (&e);
  gst_clear_message (&msg);
  /* the rest (state changes) is of no interest */
  gst_bus_set_flushing (bus, TRUE);
  gst_bus_set_flushing (bus, FALSE);
  gst_object_unref (bus);
  return text;
}

/* vlmcamerasrc, opened now (READY) so that a missing camera is known
 * before the pipeline starts; a test pattern when there is none and
 * [source] fallback = test. */
static gboolean
add_camera (Builder * b, const VlmConfig * c, GError ** err)
{
  GstElement *cam = builder_add (b, "vlmcamerasrc", "source", err);
  gchar *why;

  if (cam == NULL)
    return FALSE;
  g_object_set (cam, "camera", c->camera, "width", c->width,
      "height", c->height, "framerate", c->fps_n, c->fps_d, NULL);
  if (gst_element_set_state (cam, GST_STATE_READY) != GST_STATE_CHANGE_FAILURE)
    return TRUE;

  why = pop_error_text (b->p->pipeline);
  gst_element_set_state (cam, GST_STATE_NULL);
  gst_bin_remove (GST_BIN (b->p->pipeline), cam);
  b->last = NULL;
  g_string_truncate (b->graph, 0);

  if (!c->fallback_test) {
    g_set_error (err, VLM_PIPELINE_ERROR, VLM_PIPELINE_ERROR_NO_CAMERA, "%s",
        why);
    g_free (why);
    return FALSE;
  }
  b->p->notice = g_strdup_printf ("%s Showing a test pattern instead "
      "([source] fallback = test).", why);
  GST_WARNING ("%s", b->p->notice);
  g_free (why);
  return add_test_source (b, c, TRUE, err);
}

/* uridecodebin's video pad links to the first element after it. */
static void
on_pad_added (GstElement * decoder, GstPad * pad, gpointer data)
{
  VlmPipeline *p = data;
  GstCaps *caps = gst_pad_get_current_caps (pad);
  GstPad *sink;

  if (caps == NULL)
    caps = gst_pad_query_caps (pad, NULL);
  if (!g_str_has_prefix (gst_structure_get_name (gst_caps_get_structure
              (caps, 0)), "video/")) {
    gst_caps_unref (caps);
    return;
  }
  gst_caps_unref (caps);

  sink = gst_element_get_static_pad (p->link_target, "sink");
  if (!gst_pad_is_linked (sink)
      && GST_PAD_LINK_FAILED (gst_pad_link (pad, sink)))
    GST_ELEMENT_ERROR (decoder, CORE, NEGOTIATION,
        ("The video of the file cannot be shown."),
        ("gst_pad_link() failed: %s:%s to %s", GST_DEBUG_PAD_NAME (pad),
            GST_OBJECT_NAME (p->link_target)));
  gst_object_unref (sink);
}

/* A file has no video when no pad got linked. */
static void
on_no_more_pads (GstElement * decoder, gpointer data)
{
  VlmPipeline *p = data;
  GstPad *sink = gst_element_get_static_pad (p->link_target, "sink");

  if (!gst_pad_is_linked (sink))
    GST_ELEMENT_ERROR (decoder, STREAM, WRONG_TYPE,
        ("The file has no video."),
        ("uridecodebin exposed no video/ pad"));
  gst_object_unref (sink);
}

static gboolean
add_uri_source (Builder * b, const gchar * uri, GError ** err)
{
  GstElement *dec = builder_add (b, "uridecodebin", "source", err);
  GstCaps *caps;

  if (dec == NULL)
    return FALSE;
  caps = gst_caps_from_string ("video/x-raw(ANY)");
  g_object_set (dec, "uri", uri, "caps", caps, "expose-all-streams", FALSE,
      NULL);
  gst_caps_unref (caps);
  g_signal_connect (dec, "pad-added", G_CALLBACK (on_pad_added), b->p);
  g_signal_connect (dec, "no-more-pads", G_CALLBACK (on_no_more_pads), b->p);
  b->last = NULL;
  b->dynamic = TRUE;
  b->p->wait_for_model = TRUE;
  return TRUE;
}

static gboolean
add_source (Builder * b, const VlmConfig * c, GError ** err)
{
  gchar *uri;
  gboolean ok;

  switch (c->source) {
    case VLM_SOURCE_CAMERA:
      return add_camera (b, c, err);
    case VLM_SOURCE_URI:
      uri = resolve_uri (c->uri, err);
      ok = uri && add_uri_source (b, uri, err);
      g_free (uri);
      return ok;
    case VLM_SOURCE_TEST:
    default:
      return add_test_source (b, c, FALSE, err);
  }
}

static gboolean
has_property (GstElement * e, const gchar * name)
{
  return g_object_class_find_property (G_OBJECT_GET_CLASS (e), name) != NULL;
}

static const gchar *
current_prompt (const VlmConfig * c)
{
  if (c->n_presets <= 0)
    return NULL;
  return c->presets[CLAMP (c->preset, 0, c->n_presets - 1)].prompt;
}

static void
configure_describe (GstElement * d, const VlmConfig * c)
{
  g_object_set (d, "model", c->model, "mmproj", c->mmproj,
      "max-rate", c->rate_n, c->rate_d, "max-tokens", c->max_tokens,
      "temperature", c->temperature, "threads", c->threads,
      "scene-change-threshold", c->scene_change,
      "thermal-zone", c->thermal_zone, "throttle-temp", c->throttle_temp,
      "cooldown-temp", c->cooldown_temp, "resume-temp", c->resume_temp, NULL);
  if (current_prompt (c))
    g_object_set (d, "prompt", current_prompt (c), NULL);
  if (c->resize_mode)
    gst_util_set_object_arg (G_OBJECT (d), "resize-mode", c->resize_mode);
  if (has_property (d, "continuous"))
    g_object_set (d, "continuous", c->continuous, NULL);
  else if (!c->continuous)
    GST_WARNING ("this vlmdescribe has no \"continuous\" property: it "
        "describes continuously");
}

/* [glupload ! glcolorconvert !] or [videoconvert !] vlmdescribe
 * [! gldownload] ! videoconvert [! vlmoverlay] */
static gboolean
add_processing (Builder * b, const VlmConfig * c, GError ** err)
{
  VlmPipeline *p = b->p;
  GstElement *overlay;
  gboolean ok;

  if (p->uses_gl)
    ok = builder_add (b, "glupload", "upload", err)
        && builder_add (b, "glcolorconvert", "glconvert", err);
  else
    ok = builder_add (b, "videoconvert", "convert", err) != NULL;
  if (!ok)
    return FALSE;

  p->describe = builder_add (b, "vlmdescribe", "describe", err);
  if (p->describe == NULL)
    return FALSE;
  configure_describe (p->describe, c);
  /* a file played as fast as it decodes: due frames wait for the model
   * instead of being dropped, so the whole file is narrated */
  if (p->wait_for_model && !p->opts.sync
      && has_property (p->describe, "drop-frames"))
    g_object_set (p->describe, "drop-frames", FALSE, NULL);

  if (p->uses_gl && !builder_add (b, "gldownload", "download", err))
    return FALSE;
  if (!builder_add (b, "videoconvert", "overlay-convert", err))
    return FALSE;
  if (!p->opts.overlay)
    return TRUE;

  overlay = builder_add (b, "vlmoverlay", "overlay", err);
  if (overlay == NULL)
    return FALSE;
  gst_util_set_object_arg (G_OBJECT (overlay), "theme", c->theme);
  gst_util_set_object_arg (G_OBJECT (overlay), "position", c->position);
  g_object_set (overlay, "font-size", c->font_size, NULL);
  return TRUE;
}

/* appsink's streaming thread: one frame to on_frame. */
static GstFlowReturn
on_new_sample (GstAppSink * sink, gpointer data)
{
  VlmPipeline *p = data;
  GstSample *sample = gst_app_sink_pull_sample (sink);
  GstVideoInfo info;
  GstVideoFrame frame;

  if (sample == NULL)
    return GST_FLOW_OK;
  if (gst_video_info_from_caps (&info, gst_sample_get_caps (sample))
      && gst_video_frame_map (&frame, &info, gst_sample_get_buffer (sample),
          GST_MAP_READ)) {
    /* cb_lock (read) only; the callback takes nothing of ours */
    g_rw_lock_reader_lock (&p->cb_lock);
    if (p->active && p->cb.on_frame)
      p->cb.on_frame (GST_VIDEO_FRAME_PLANE_DATA (&frame, 0),
          GST_VIDEO_FRAME_WIDTH (&frame), GST_VIDEO_FRAME_HEIGHT (&frame),
          GST_VIDEO_FRAME_PLANE_STRIDE (&frame, 0),
          GST_BUFFER_PTS (frame.buffer), p->cb.user_data);
    g_rw_lock_reader_unlock (&p->cb_lock);
    gst_video_frame_unmap (&frame);
  }
  gst_sample_unref (sample);
  return GST_FLOW_OK;
}

static gboolean
add_sink (Builder * b, GError ** err)
{
  VlmPipeline *p = b->p;
  GstAppSinkCallbacks callbacks = { NULL };
  GstElement *sink;
  GstCaps *caps;

  switch (p->opts.sink) {
    case VLM_SINK_APP:
      sink = builder_add (b, "appsink", "sink", err);
      if (sink == NULL)
        return FALSE;
      caps = gst_caps_new_simple ("video/x-raw", "format", G_TYPE_STRING,
          "RGBA", NULL);
      g_object_set (sink, "caps", caps, "max-buffers", 1, "drop", TRUE,
          "enable-last-sample", FALSE, NULL);
      gst_caps_unref (caps);
      callbacks.new_sample = on_new_sample;
      gst_app_sink_set_callbacks (GST_APP_SINK (sink), &callbacks, p, NULL);
      break;
    case VLM_SINK_AUTO:
      sink = builder_add (b, "autovideosink", "sink", err);
      break;
    case VLM_SINK_NONE:
    default:
      sink = builder_add (b, "fakesink", "sink", err);
      break;
  }
  if (sink == NULL)
    return FALSE;
  if (has_property (sink, "sync"))
    g_object_set (sink, "sync", p->opts.sync, NULL);
  return TRUE;
}

/* Chooses the CPU or the GL path per [describe] gl. */
static gboolean
choose_gl (VlmPipeline * p, VlmGlMode mode, GError ** err)
{
  gchar *why = NULL;

  p->uses_gl = FALSE;
  if (mode == VLM_GL_OFF)
    return TRUE;
  p->uses_gl = gl_usable (&why);
  if (!p->uses_gl && mode == VLM_GL_ON) {
    g_set_error (err, VLM_PIPELINE_ERROR, VLM_PIPELINE_ERROR_NO_GL,
        "[describe] gl = on, but the GL path cannot be used: %s.", why);
    g_free (why);
    return FALSE;
  }
  if (!p->uses_gl)
    GST_INFO ("gl = auto: the CPU path, as %s", why);
  g_free (why);
  return TRUE;
}

VlmPipeline *
vlm_pipeline_new (const VlmConfig * config,
    const VlmPipelineOptions * options, const VlmPipelineCallbacks * callbacks,
    GError ** err)
{
  VlmPipeline *p;
  Builder b = { NULL };
  gboolean ok;

  g_return_val_if_fail (config != NULL, NULL);
  debug_init ();

  p = g_new0 (VlmPipeline, 1);
  g_rw_lock_init (&p->cb_lock);
  g_mutex_init (&p->lock);
  p->queue = g_async_queue_new ();
  p->opts = options ? *options : vlm_pipeline_options_default ();
  if (callbacks)
    p->cb = *callbacks;
  p->pipeline = gst_object_ref_sink (gst_pipeline_new ("vlm-pipeline"));

  b.p = p;
  b.graph = g_string_new (NULL);
  ok = check_model_file ("text", "text model", config->model, err)
      && check_model_file ("mmproj", "vision projector", config->mmproj, err)
      && choose_gl (p, config->gl, err)
      && add_source (&b, config, err)
      && add_processing (&b, config, err)
      && add_sink (&b, err);
  p->graph = g_string_free (b.graph, FALSE);
  if (!ok) {
    vlm_pipeline_free (p);
    return NULL;
  }
  GST_INFO ("built: %s", p->graph);
  return p;
}

/* ------------------------------------------------------------------ */
/* Messages and callbacks                                              */
/* ------------------------------------------------------------------ */

/* Lets frames through to vlmdescribe (model ready, error or stop). Any
 * thread. */
static void
release_frames (VlmPipeline * p)
{
  /* lock (leaf), then the pad's lock in gst_pad_remove_probe */
  g_mutex_lock (&p->lock);
  if (p->block_id) {
    gst_pad_remove_probe (p->block_pad, p->block_id);
    p->block_id = 0;
  }
  gst_clear_object (&p->block_pad);
  g_mutex_unlock (&p->lock);
}

static GstPadProbeReturn
hold_frame (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  return GST_PAD_PROBE_OK;
}

/* A file source: its frames wait before the describe chain until the
 * model is ready, so that the first ones are described too. */
static void
hold_frames (VlmPipeline * p)
{
  /* lock (leaf), then the pad's lock in gst_pad_add_probe */
  g_mutex_lock (&p->lock);
  p->block_pad = gst_element_get_static_pad (p->link_target, "sink");
  p->block_id = gst_pad_add_probe (p->block_pad, GST_PAD_PROBE_TYPE_BLOCK |
      GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST, hold_frame,
      NULL, NULL);
  g_mutex_unlock (&p->lock);
}

static gboolean
is_model_ready (GstMessage * msg)
{
  const GstStructure *s = gst_message_get_structure (msg);

  return s && gst_structure_has_name (s, "vlm-model")
      && g_strcmp0 (gst_structure_get_string (s, "state"), "ready") == 0;
}

static gboolean
is_wanted (GstMessage * msg)
{
  const GstStructure *s;

  switch (GST_MESSAGE_TYPE (msg)) {
    case GST_MESSAGE_ERROR:
    case GST_MESSAGE_WARNING:
    case GST_MESSAGE_EOS:
      return TRUE;
    case GST_MESSAGE_ELEMENT:
      s = gst_message_get_structure (msg);
      return s && (gst_structure_has_name (s, "vlm-caption")
          || gst_structure_has_name (s, "vlm-model")
          || gst_structure_has_name (s, "vlm-thermal"));
    default:
      return FALSE;
  }
}

static void
note_first_error (VlmPipeline * p, GstMessage * msg)
{
  GError *e = NULL;

  gst_message_parse_error (msg, &e, NULL);
  /* lock (leaf) */
  g_mutex_lock (&p->lock);
  if (p->first_error == NULL)
    p->first_error = g_strdup (e->message);
  g_mutex_unlock (&p->lock);
  g_error_free (e);
}

/* Bus sync handler (any thread): wanted messages to the dispatcher. A
 * handler that returns GST_BUS_DROP owns the message: it is unreffed or
 * handed to the dispatcher's queue. */
static GstBusSyncReply
bus_sync (GstBus * bus, GstMessage * msg, gpointer data)
{
  VlmPipeline *p = data;

  if (!is_wanted (msg)) {
    gst_message_unref (msg);
    return GST_BUS_DROP;
  }
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    note_first_error (p, msg);
    release_frames (p);
  } else if (is_model_ready (msg)) {
    release_frames (p);
  }
  g_async_queue_push (p->queue, msg);
  return GST_BUS_DROP;
}

/* vlm-thermal states as the API names them. */
static const gchar *
thermal_state_name (const gchar * element_state)
{
  if (g_strcmp0 (element_state, "paused") == 0)
    return "cooldown";
  if (g_strcmp0 (element_state, "no-sensor") == 0)
    return "unavailable";
  return element_state ? element_state : "unavailable";
}

static void
dispatch_element (VlmPipeline * p, const GstStructure * s)
{
  const VlmPipelineCallbacks *cb = &p->cb;
  gboolean final = FALSE;
  guint64 id = 0, pts = GST_CLOCK_TIME_NONE;
  gdouble value = NAN;

  if (gst_structure_has_name (s, "vlm-caption") && cb->on_caption) {
    gst_structure_get_boolean (s, "final", &final);
    gst_structure_get_uint64 (s, "id", &id);
    gst_structure_get_uint64 (s, "pts", &pts);
    cb->on_caption (gst_structure_get_string (s, "text"), final, id, pts,
        cb->user_data);
  } else if (gst_structure_has_name (s, "vlm-model") && cb->on_model) {
    gst_structure_get_double (s, "progress", &value);
    cb->on_model (gst_structure_get_string (s, "state"), value,
        cb->user_data);
  } else if (gst_structure_has_name (s, "vlm-thermal") && cb->on_thermal) {
    gst_structure_get_double (s, "temperature", &value);
    cb->on_thermal (thermal_state_name (gst_structure_get_string (s,
                "state")), value, cb->user_data);
  }
}

static void
dispatch (VlmPipeline * p, GstMessage * msg)
{
  const VlmPipelineCallbacks *cb = &p->cb;
  GError *e = NULL;
  gchar *debug = NULL;

  switch (GST_MESSAGE_TYPE (msg)) {
    case GST_MESSAGE_ELEMENT:
      dispatch_element (p, gst_message_get_structure (msg));
      break;
    case GST_MESSAGE_ERROR:
      gst_message_parse_error (msg, &e, &debug);
      if (cb->on_error)
        cb->on_error (e->message, debug, cb->user_data);
      break;
    case GST_MESSAGE_WARNING:
      gst_message_parse_warning (msg, &e, &debug);
      if (cb->on_warning)
        cb->on_warning (e->message, debug, cb->user_data);
      break;
    case GST_MESSAGE_EOS:
      if (cb->on_eos)
        cb->on_eos (cb->user_data);
      break;
    default:
      break;
  }
  g_clear_error (&e);
  g_free (debug);
}

/* Dispatcher thread: calls the callbacks in message order. */
static gpointer
dispatcher_run (gpointer data)
{
  VlmPipeline *p = data;

  for (;;) {
    gpointer item = g_async_queue_pop (p->queue);

    if (item == &dispatcher_stop_marker)
      break;
    /* cb_lock (read) only, for the callback's duration */
    g_rw_lock_reader_lock (&p->cb_lock);
    if (p->active)
      dispatch (p, item);
    g_rw_lock_reader_unlock (&p->cb_lock);
    gst_message_unref (item);
  }
  return NULL;
}

/* The camera fallback notice, as a warning through the dispatcher. */
static void
queue_notice (VlmPipeline * p)
{
  GError *e;

  if (p->notice == NULL)
    return;
  e = g_error_new_literal (GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_FOUND,
      p->notice);
  g_async_queue_push (p->queue, gst_message_new_warning (GST_OBJECT
          (p->pipeline), e, "vlmcamerasrc found no camera"));
  g_error_free (e);
}

/* ------------------------------------------------------------------ */
/* Running                                                             */
/* ------------------------------------------------------------------ */

gboolean
vlm_pipeline_start (VlmPipeline * p, GError ** err)
{
  GstBus *bus;
  gchar *why;

  g_return_val_if_fail (p != NULL, FALSE);
  if (p->dispatcher)
    return TRUE;

  /* lock, then cb_lock: taken one after the other, never nested */
  g_mutex_lock (&p->lock);
  g_clear_pointer (&p->first_error, g_free);
  g_mutex_unlock (&p->lock);

  g_rw_lock_writer_lock (&p->cb_lock);
  p->active = TRUE;
  g_rw_lock_writer_unlock (&p->cb_lock);
  p->dispatcher = g_thread_new ("vlm-callbacks", dispatcher_run, p);
  queue_notice (p);

  bus = gst_element_get_bus (p->pipeline);
  gst_bus_set_flushing (bus, FALSE);
  gst_bus_set_sync_handler (bus, bus_sync, p, NULL);
  gst_object_unref (bus);

  if (p->wait_for_model)
    hold_frames (p);
  if (gst_element_set_state (p->pipeline, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE)
    return TRUE;

  /* lock (leaf) */
  g_mutex_lock (&p->lock);
  why = g_strdup (p->first_error ? p->first_error :
      "The pipeline refused to start.");
  g_mutex_unlock (&p->lock);
  g_set_error (err, VLM_PIPELINE_ERROR, VLM_PIPELINE_ERROR_STATE, "%s", why);
  g_free (why);
  vlm_pipeline_stop (p);
  return FALSE;
}

/* Ends the dispatcher; messages not yet dispatched are dropped. */
static void
stop_dispatcher (VlmPipeline * p)
{
  gpointer item;

  if (p->dispatcher) {
    g_async_queue_push (p->queue, &dispatcher_stop_marker);
    g_thread_join (p->dispatcher);
    p->dispatcher = NULL;
  }
  while ((item = g_async_queue_try_pop (p->queue)) != NULL)
    if (item != &dispatcher_stop_marker)
      gst_message_unref (item);
}

void
vlm_pipeline_stop (VlmPipeline * p)
{
  GstBus *bus;

  if (p == NULL)
    return;

  /* cb_lock (write) alone: waits for a callback in progress; none starts
   * after this */
  g_rw_lock_writer_lock (&p->cb_lock);
  p->active = FALSE;
  g_rw_lock_writer_unlock (&p->cb_lock);

  release_frames (p);
  if (p->pipeline)
    gst_element_set_state (p->pipeline, GST_STATE_NULL);

  if (p->pipeline) {
    bus = gst_element_get_bus (p->pipeline);
    gst_bus_set_sync_handler (bus, NULL, NULL, NULL);
    gst_bus_set_flushing (bus, TRUE);
    gst_object_unref (bus);
  }
  stop_dispatcher (p);
}

void
vlm_pipeline_free (VlmPipeline * p)
{
  if (p == NULL)
    return;
  vlm_pipeline_stop (p);
  gst_clear_object (&p->pipeline);
  g_async_queue_unref (p->queue);
  g_rw_lock_clear (&p->cb_lock);
  g_mutex_clear (&p->lock);
  g_free (p->first_error);
  g_free (p->graph);
  g_free (p->notice);
  g_free (p);
}

/* ------------------------------------------------------------------ */
/* Controls                                                            */
/* ------------------------------------------------------------------ */

void
vlm_pipeline_describe_now (VlmPipeline * p)
{
  g_return_if_fail (p != NULL);

  if (g_signal_lookup ("describe-now", G_OBJECT_TYPE (p->describe)) == 0) {
    GST_WARNING ("this vlmdescribe has no \"describe-now\" action");
    return;
  }
  g_signal_emit_by_name (p->describe, "describe-now");
}

void
vlm_pipeline_set_continuous (VlmPipeline * p, gboolean continuous)
{
  g_return_if_fail (p != NULL);

  if (!has_property (p->describe, "continuous")) {
    GST_WARNING ("this vlmdescribe has no \"continuous\" property");
    return;
  }
  g_object_set (p->describe, "continuous", continuous, NULL);
}

void
vlm_pipeline_set_prompt (VlmPipeline * p, const gchar * prompt)
{
  g_return_if_fail (p != NULL && prompt != NULL);

  g_object_set (p->describe, "prompt", prompt, NULL);
}

gboolean
vlm_pipeline_uses_gl (VlmPipeline * p)
{
  g_return_val_if_fail (p != NULL, FALSE);

  return p->uses_gl;
}

const gchar *
vlm_pipeline_describe_graph (VlmPipeline * p)
{
  g_return_val_if_fail (p != NULL, NULL);

  return p->graph;
}

GstElement *
vlm_pipeline_get_element (VlmPipeline * p)
{
  g_return_val_if_fail (p != NULL, NULL);

  return p->pipeline;
}

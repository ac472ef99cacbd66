/* gst-vlm — the scene-narration pipeline, built from a VlmConfig.
 *
 *   source (vlmcamerasrc | uridecodebin | videotestsrc)
 *     -> [glupload ! vlmdescribe (GL path) ! gldownload] or [videoconvert ! vlmdescribe]
 *     -> vlmoverlay -> sink (frames to the app, autovideosink, or none)
 *
 * Bus messages (captions, model progress, thermal states, errors, EOS) and
 * video frames reach the caller through the callbacks of
 * VlmPipelineCallbacks, so the app never touches GStreamer directly.
 *
 *   VlmPipeline *p = vlm_pipeline_new (config, &opts, &cb, &err);
 *   if (!p || !vlm_pipeline_start (p, &err)) { report (err->message); ... }
 *   ...
 *   vlm_pipeline_free (p);      // stops it
 *
 * Threads: every callback is called from a GStreamer thread (the bus sync
 * handler or a streaming thread), never from the thread that created the
 * pipeline; callbacks must be quick, must not block and must not call
 * vlm_pipeline_stop() or vlm_pipeline_free(). Pass the data on (an SDL app
 * with SDL_PushEvent, a GLib app with g_idle_add). The control functions
 * (describe_now, set_continuous, set_prompt) may be called from any thread.
 */
#ifndef VLM_PIPELINE_H
#define VLM_PIPELINE_H

#include <gst/gst.h>
#include "vlmconfig.h"

G_BEGIN_DECLS

#define VLM_PIPELINE_ERROR (vlm_pipeline_error_quark ())
GQuark vlm_pipeline_error_quark (void);

typedef enum {
  VLM_PIPELINE_ERROR_MISSING_ELEMENT, /* a GStreamer plugin is not installed */
  VLM_PIPELINE_ERROR_NO_CAMERA,       /* no camera found (message says what was tried) */
  VLM_PIPELINE_ERROR_NO_MODEL,        /* model/mmproj not configured or missing */
  VLM_PIPELINE_ERROR_NO_GL,           /* gl = on, but no GL context could be made */
  VLM_PIPELINE_ERROR_STATE,           /* the pipeline refused to start */
  /* Added: kind = uri, but the file does not exist or no uri is set. */
  VLM_PIPELINE_ERROR_NO_SOURCE,
} VlmPipelineError;

typedef enum {
  VLM_SINK_NONE = 0,    /* headless: frames are dropped after the overlay */
  VLM_SINK_APP,         /* frames with the overlay drawn, RGBA, to on_frame */
  VLM_SINK_AUTO,        /* autovideosink (a window of GStreamer's) */
} VlmSinkKind;

typedef struct {
  VlmSinkKind sink;
  /* TRUE: play at the stream's frame rate (live view); FALSE: as fast as
   * the pipeline goes (files in headless mode; captions still come from
   * the frames they describe). */
  gboolean sync;
  /* Draw captions onto the video with vlmoverlay. */
  gboolean overlay;
} VlmPipelineOptions;

/* Defaults: VLM_SINK_NONE, sync TRUE, overlay TRUE. */
VlmPipelineOptions vlm_pipeline_options_default (void);

typedef struct {
  /* A caption as it streams (final FALSE) and once complete (final TRUE).
   * id numbers captions from 1 (the same for a caption's partial and final
   * texts); pts is the PTS (ns) of the frame it describes. */
  void (*on_caption) (const gchar * text, gboolean final, guint64 id,
      GstClockTime pts, gpointer user_data);
  /* Model loading: state "loading" (progress 0..1) then "ready"
   * (progress 1). */
  void (*on_model) (const gchar * state, gdouble progress,
      gpointer user_data);
  /* Thermal state change: state "normal" | "throttled" | "cooldown" |
   * "unavailable"; temp_c in degrees Celsius (NAN when unknown). */
  void (*on_thermal) (const gchar * state, gdouble temp_c,
      gpointer user_data);
  /* A fatal error (the pipeline stops): user-readable message, and a
   * debug text for logs (may be NULL). */
  void (*on_error) (const gchar * message, const gchar * debug,
      gpointer user_data);
  /* End of stream (files). */
  void (*on_eos) (gpointer user_data);
  /* VLM_SINK_APP only: one video frame, RGBA, rows of stride bytes, valid
   * during the call only. */
  void (*on_frame) (const guint8 * rgba, gint width, gint height,
      gint stride, GstClockTime pts, gpointer user_data);
  gpointer user_data;
  /* Added (may stay NULL): a problem that does not stop the pipeline, e.g.
   * "No camera found (...). Showing a test pattern instead ([source]
   * fallback = test)." right after start, or a warning of an element. */
  void (*on_warning) (const gchar * message, const gchar * debug,
      gpointer user_data);
} VlmPipelineCallbacks;

typedef struct VlmPipeline VlmPipeline;

/* Builds the pipeline (does not start it). config and callbacks are
 * copied (config values read now). Returns NULL with err set when an
 * element is missing, no camera is found (and no fallback is configured),
 * the model files are not configured or do not exist, or gl = on and GL is
 * unavailable, or (kind = uri) the file does not exist (NO_SOURCE).
 * The camera is looked for now (vlmcamerasrc goes to READY). */
VlmPipeline *vlm_pipeline_new (const VlmConfig * config,
    const VlmPipelineOptions * options, const VlmPipelineCallbacks * callbacks,
    GError ** err);

/* Starts playing (the model loads in the background: on_model reports).
 * FALSE with err set when the pipeline cannot start (on_error may report
 * the same error). A live source (camera, test) shows frames while the
 * model loads; the frames of a file wait until the model is ready, so
 * that the first ones are described too. Callbacks are called from a
 * dispatcher thread of the pipeline (bus messages, in order) and from
 * appsink's streaming thread (on_frame). */
gboolean vlm_pipeline_start (VlmPipeline * p, GError ** err);

/* Stops the pipeline (NULL state); no callback runs after it returns.
 * Idempotent. */
void vlm_pipeline_stop (VlmPipeline * p);

/* Stops and frees; NULL is fine. */
void vlm_pipeline_free (VlmPipeline * p);

/* Describes the next frame now, whatever the rate and scene-change
 * settings (still not while the thermal state is cool-down). */
void vlm_pipeline_describe_now (VlmPipeline * p);

/* Continuous narration on (captions at the configured rate) or off
 * (captions on vlm_pipeline_describe_now only). */
void vlm_pipeline_set_continuous (VlmPipeline * p, gboolean continuous);

/* The question asked from the next caption on. */
void vlm_pipeline_set_prompt (VlmPipeline * p, const gchar * prompt);

/* TRUE when frames reach vlmdescribe as GL memory (GPU resize path). */
gboolean vlm_pipeline_uses_gl (VlmPipeline * p);

/* A gst-launch-like description of what was built (for logs and --verbose),
 * e.g. "vlmcamerasrc ! videoconvert ! vlmdescribe ! vlmoverlay ! appsink".
 * Owned by p. */
const gchar *vlm_pipeline_describe_graph (VlmPipeline * p);

/* The GstPipeline (borrowed reference), for tests and advanced use. Its
 * elements are named: "source" (vlmcamerasrc, uridecodebin or
 * videotestsrc), "describe" (vlmdescribe), "overlay" (vlmoverlay, when
 * options->overlay), "sink". */
GstElement *vlm_pipeline_get_element (VlmPipeline * p);

G_END_DECLS

#endif /* VLM_PIPELINE_H */

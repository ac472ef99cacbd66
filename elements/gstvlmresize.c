/* gst-vlm — vlmresize element.
 * Copyright (C) 2025 gst-vlm authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/**
 * SECTION:element-vlmresize
 * @title: vlmresize
 *
 * Resizes OpenGL video (RGBA textures) to a vision model's square input
 * image on the GPU, in one shader pass: letterboxed (the whole frame,
 * aspect kept, bars of #GstVlmResize:pad-color), centre-cropped or
 * stretched. The output is #GstVlmResize:size pixels square unless
 * downstream caps fix a width and height; its pixel aspect ratio is 1/1.
 *
 * The filter follows the scale factor: every output pixel is a tent
 * (triangle) weighted mean of the source texels under it, ceil (2 x
 * scale) taps per axis (a 1080p frame to 336 px: 12 x 12 texels, read
 * with 36 bilinear fetches), so strong downscales do not alias; when
 * upscaling it is plain bilinear. Geometry and filter are those of the
 * CPU path of vlmdescribe (GstVideoConverter's "linear" resampler), so
 * both give the same image within rounding.
 *
 * vlmdescribe uses the same GL code on GL input by itself; vlmresize is
 * for pipelines that need the small image as a stream (another analyser,
 * an appsink, a preview of what the model sees).
 *
 * The element needs OpenGL or OpenGL ES: without a display (X11,
 * Wayland) or EGL device it fails to start with an error saying so.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 videotestsrc ! video/x-raw,width=1920,height=1080 ! \
 *     glupload ! vlmresize ! gldownload ! videoconvert ! autovideosink
 * ]| Shows the 336x336 letterboxed image a model would see.
 * |[
 * gst-launch-1.0 v4l2src ! glupload ! glcolorconvert ! \
 *     vlmresize resize-mode=crop ! "video/x-raw(memory:GLMemory),width=384,height=384" ! \
 *     gldownload ! appsink
 * ]| Centre crops of 384x384 for an application.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstvlmresize.h"
#include "gstvlmdescribe.h"
#include "vlmglresize.h"

#include <gst/video/video.h>

GST_DEBUG_CATEGORY_STATIC (gst_vlm_resize_debug);
#define GST_CAT_DEFAULT gst_vlm_resize_debug

enum {
  PROP_0,
  PROP_SIZE,
  PROP_RESIZE_MODE,
  PROP_PAD_COLOR,
};

#define DEFAULT_PROP_SIZE 336
#define DEFAULT_PROP_RESIZE_MODE VLM_RESIZE_LETTERBOX
#define DEFAULT_PROP_PAD_COLOR VLM_RESIZE_PAD_ARGB

#define GL_CAPS \
  "video/x-raw(" GST_CAPS_FEATURE_MEMORY_GL_MEMORY "), " \
  "format = (string) RGBA, " \
  "width = " GST_VIDEO_SIZE_RANGE ", " \
  "height = " GST_VIDEO_SIZE_RANGE ", " \
  "framerate = " GST_VIDEO_FPS_RANGE ", " \
  "texture-target = (string) 2D"

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS (GL_CAPS));

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS (GL_CAPS));

struct _GstVlmResize {
  GstGLFilter parent;

  /* properties, GST_OBJECT_LOCK */
  gint size;
  VlmResizeMode mode;
  guint pad_color;

  /* GL thread */
  VlmGLResize *gl;
};

#define gst_vlm_resize_parent_class parent_class
G_DEFINE_TYPE_WITH_CODE (GstVlmResize, gst_vlm_resize, GST_TYPE_GL_FILTER,
    GST_DEBUG_CATEGORY_INIT (gst_vlm_resize_debug, "vlmresize", 0,
        "vlmresize: GPU resize to a model's input image"));
GST_ELEMENT_REGISTER_DEFINE (vlmresize, "vlmresize", GST_RANK_NONE,
    GST_TYPE_VLM_RESIZE);

static void gst_vlm_resize_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec);
static void gst_vlm_resize_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec);
static GstStateChangeReturn gst_vlm_resize_change_state (GstElement * element,
    GstStateChange transition);
static GstCaps *gst_vlm_resize_fixate_caps (GstBaseTransform * trans,
    GstPadDirection direction, GstCaps * caps, GstCaps * othercaps);
static gboolean gst_vlm_resize_gl_start (GstGLBaseFilter * base);
static void gst_vlm_resize_gl_stop (GstGLBaseFilter * base);
static GstCaps *gst_vlm_resize_transform_internal_caps (GstGLFilter * filter,
    GstPadDirection direction, GstCaps * caps, GstCaps * filter_caps);
static gboolean gst_vlm_resize_filter_texture (GstGLFilter * filter,
    GstGLMemory * in, GstGLMemory * out);

static void
gst_vlm_resize_class_init (GstVlmResizeClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);
  GstGLBaseFilterClass *base_class = GST_GL_BASE_FILTER_CLASS (klass);
  GstGLFilterClass *filter_class = GST_GL_FILTER_CLASS (klass);

  gobject_class->set_property = gst_vlm_resize_set_property;
  gobject_class->get_property = gst_vlm_resize_get_property;

  g_object_class_install_property (gobject_class, PROP_SIZE,
      g_param_spec_int ("size", "Size",
          "Width and height of the output image in pixels when downstream "
          "caps do not set them (the model's input size): 1 to 8192, "
          "default 336", 1, 8192, DEFAULT_PROP_SIZE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_RESIZE_MODE,
      g_param_spec_enum ("resize-mode", "Resize mode",
          "How the frame is fitted to the output: letterbox (whole frame, "
          "aspect kept, bars of pad-color), crop (centre, aspect kept, "
          "sides cut) or stretch; default letterbox",
          GST_TYPE_VLM_RESIZE_MODE, DEFAULT_PROP_RESIZE_MODE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_PAD_COLOR,
      g_param_spec_uint ("pad-color", "Pad colour",
          "Colour of the letterbox bars as 0xAARRGGBB (alpha, red, green, "
          "blue, 8 bits each): 0 to 0xffffffff, default 0xff7f7f7f (the "
          "grey of vlmdescribe's CPU path)", 0, G_MAXUINT32,
          DEFAULT_PROP_PAD_COLOR,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class,
      "Model input resize (OpenGL)", "Filter/Converter/Video/Scaler",
      "Resizes GL video to a vision model's input image on the GPU: "
      "letterbox or centre crop, anti-aliased, one shader pass. Example: "
      "gst-launch-1.0 videotestsrc ! glupload ! vlmresize ! gldownload ! "
      "videoconvert ! autovideosink", "gst-vlm authors");

  element_class->change_state = GST_DEBUG_FUNCPTR (gst_vlm_resize_change_state);

  trans_class->passthrough_on_same_caps = TRUE;
  trans_class->fixate_caps = GST_DEBUG_FUNCPTR (gst_vlm_resize_fixate_caps);

  base_class->supported_gl_api =
      GST_GL_API_OPENGL | GST_GL_API_OPENGL3 | GST_GL_API_GLES2;
  base_class->gl_start = GST_DEBUG_FUNCPTR (gst_vlm_resize_gl_start);
  base_class->gl_stop = GST_DEBUG_FUNCPTR (gst_vlm_resize_gl_stop);

  filter_class->transform_internal_caps =
      GST_DEBUG_FUNCPTR (gst_vlm_resize_transform_internal_caps);
  filter_class->filter_texture =
      GST_DEBUG_FUNCPTR (gst_vlm_resize_filter_texture);
}

static void
gst_vlm_resize_init (GstVlmResize * self)
{
  self->size = DEFAULT_PROP_SIZE;
  self->mode = DEFAULT_PROP_RESIZE_MODE;
  self->pad_color = DEFAULT_PROP_PAD_COLOR;
}

static void
gst_vlm_resize_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstVlmResize *self = GST_VLM_RESIZE (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_SIZE:
      self->size = g_value_get_int (value);
      break;
    case PROP_RESIZE_MODE:
      self->mode = g_value_get_enum (value);
      break;
    case PROP_PAD_COLOR:
      self->pad_color = g_value_get_uint (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_vlm_resize_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  GstVlmResize *self = GST_VLM_RESIZE (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_SIZE:
      g_value_set_int (value, self->size);
      break;
    case PROP_RESIZE_MODE:
      g_value_set_enum (value, self->mode);
      break;
    case PROP_PAD_COLOR:
      g_value_set_uint (value, self->pad_color);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

/* Finds or makes the GL context before data flows, in the order
 * GstGLBaseFilter does at the first allocation query (a neighbour's,
 * one on the display, a new one sharing with the application's), so
 * that a machine without GL gets this element's error instead of a
 * "not negotiated" from the source. The base class keeps the context
 * and drops it at stop. */
static gboolean
ensure_gl_context (GstVlmResize * self)
{
  GstGLBaseFilter *base = GST_GL_BASE_FILTER (self);
  GstGLDisplay *display;
  GstGLContext *other = NULL, *context = NULL;
  GError *err = NULL;

  if (base->context)
    return TRUE;
  if (base->display == NULL)
    goto no_display;
  if (gst_gl_query_local_gl_context (GST_ELEMENT (self), GST_PAD_SRC,
          &base->context)
      || gst_gl_query_local_gl_context (GST_ELEMENT (self), GST_PAD_SINK,
          &base->context))
    return TRUE;

  /* only asks for the application's context: the display is known */
  display = gst_object_ref (base->display);
  gst_gl_ensure_element_data (self, &display, &other);

  GST_OBJECT_LOCK (display);
  do {
    gst_clear_object (&context);
    context = gst_gl_display_get_gl_context_for_thread (display, NULL);
    if (context == NULL
        && !gst_gl_display_create_context (display, other, &context, &err)) {
      GST_OBJECT_UNLOCK (display);
      goto no_context;
    }
  } while (!gst_gl_display_add_context (display, context));
  GST_OBJECT_UNLOCK (display);

  base->context = context;
  gst_object_unref (display);
  gst_clear_object (&other);
  GST_INFO_OBJECT (self, "GL context %" GST_PTR_FORMAT, context);
  return TRUE;

  /* ERRORS */
no_display:
  {
    GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND,
        ("vlmresize needs OpenGL or OpenGL ES, but no GL display could be "
            "opened. Run it in a graphical session (X11 or Wayland) or under "
            "Xvfb; without GL, resize on the CPU (vlmdescribe does so by "
            "itself)."), ("gst_gl_ensure_element_data() found no display"));
    return FALSE;
  }
no_context:
  {
    GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND,
        ("vlmresize needs OpenGL or OpenGL ES, but no GL context could be "
            "created (%s). Run it in a graphical session (X11 or Wayland) or "
            "under Xvfb; without GL, resize on the CPU (vlmdescribe does so "
            "by itself).", err ? err->message : "unknown error"),
        ("gst_gl_display_create_context() failed on %" GST_PTR_FORMAT
            ": %s", display, err ? err->message : "?"));
    g_clear_error (&err);
    gst_object_unref (display);
    gst_clear_object (&other);
    return FALSE;
  }
}

static GstStateChangeReturn
gst_vlm_resize_change_state (GstElement * element, GstStateChange transition)
{
  GstVlmResize *self = GST_VLM_RESIZE (element);

  /* the display comes at NULL->READY (base class); the context before
   * the pads activate */
  if (transition == GST_STATE_CHANGE_READY_TO_PAUSED
      && !ensure_gl_context (self))
    return GST_STATE_CHANGE_FAILURE;

  return GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);
}

/* Any size on the other side; the output's pixels are square. */
static GstCaps *
gst_vlm_resize_transform_internal_caps (GstGLFilter * filter,
    GstPadDirection direction, GstCaps * caps, GstCaps * filter_caps)
{
  GstCaps *res = gst_caps_new_empty ();

  for (guint i = 0; i < gst_caps_get_size (caps); i++) {
    GstStructure *s = gst_structure_copy (gst_caps_get_structure (caps, i));
    GstCapsFeatures *f = gst_caps_get_features (caps, i);

    gst_structure_set (s, "width", GST_TYPE_INT_RANGE, 1, G_MAXINT,
        "height", GST_TYPE_INT_RANGE, 1, G_MAXINT, NULL);
    if (direction == GST_PAD_SINK)
      gst_structure_set (s, "pixel-aspect-ratio", GST_TYPE_FRACTION, 1, 1,
          NULL);
    else
      gst_structure_set (s, "pixel-aspect-ratio", GST_TYPE_FRACTION_RANGE,
          1, G_MAXINT, G_MAXINT, 1, NULL);
    res = gst_caps_merge_structure_full (res, s,
        f ? gst_caps_features_copy (f) : NULL);
  }
  GST_DEBUG_OBJECT (filter, "%s %" GST_PTR_FORMAT " -> %" GST_PTR_FORMAT,
      direction == GST_PAD_SINK ? "sink" : "src", caps, res);
  return res;
}

/* Output size: what downstream fixed, else the size property. */
static GstCaps *
gst_vlm_resize_fixate_caps (GstBaseTransform * trans,
    GstPadDirection direction, GstCaps * caps, GstCaps * othercaps)
{
  GstVlmResize *self = GST_VLM_RESIZE (trans);
  GstStructure *s;
  gint size;

  othercaps = gst_caps_truncate (othercaps);
  if (direction == GST_PAD_SRC)
    return gst_caps_fixate (othercaps);

  GST_OBJECT_LOCK (self);
  size = self->size;
  GST_OBJECT_UNLOCK (self);

  othercaps = gst_caps_make_writable (othercaps);
  s = gst_caps_get_structure (othercaps, 0);
  gst_structure_fixate_field_nearest_int (s, "width", size);
  gst_structure_fixate_field_nearest_int (s, "height", size);
  if (gst_structure_has_field (s, "pixel-aspect-ratio"))
    gst_structure_fixate_field_nearest_fraction (s, "pixel-aspect-ratio", 1,
        1);
  else
    gst_structure_set (s, "pixel-aspect-ratio", GST_TYPE_FRACTION, 1, 1,
        NULL);
  {
    const GstStructure *in = gst_caps_get_structure (caps, 0);
    gint n, d;

    if (gst_structure_get_fraction (in, "framerate", &n, &d))
      gst_structure_fixate_field_nearest_fraction (s, "framerate", n, d);
  }
  othercaps = gst_caps_fixate (othercaps);
  GST_DEBUG_OBJECT (self, "fixated to %" GST_PTR_FORMAT, othercaps);
  return othercaps;
}

static gboolean
gst_vlm_resize_gl_start (GstGLBaseFilter * base)
{
  GstVlmResize *self = GST_VLM_RESIZE (base);

  self->gl = vlm_gl_resize_new (base->context);
  return GST_GL_BASE_FILTER_CLASS (parent_class)->gl_start (base);
}

static void
gst_vlm_resize_gl_stop (GstGLBaseFilter * base)
{
  GstVlmResize *self = GST_VLM_RESIZE (base);

  vlm_gl_resize_free (self->gl);
  self->gl = NULL;
  GST_GL_BASE_FILTER_CLASS (parent_class)->gl_stop (base);
}

typedef struct {
  GstVlmResize *self;
  GstGLMemory *in, *out;
  VlmResizeMode mode;
  guint32 pad;
  gboolean ok;
  GError *error;
} Render;

static void
render_gl (GstGLContext * context, gpointer data)
{
  Render *r = data;

  r->ok = vlm_gl_resize_render (r->self->gl, r->in,
      &GST_GL_FILTER (r->self)->in_info, r->out, r->mode, r->pad, &r->error);
}

static gboolean
gst_vlm_resize_filter_texture (GstGLFilter * filter, GstGLMemory * in,
    GstGLMemory * out)
{
  GstVlmResize *self = GST_VLM_RESIZE (filter);
  Render r = { self, in, out, 0, 0, FALSE, NULL };

  GST_OBJECT_LOCK (self);
  r.mode = self->mode;
  r.pad = self->pad_color;
  GST_OBJECT_UNLOCK (self);

  /* runs at once when called on the GL thread already */
  gst_gl_context_thread_add (GST_GL_BASE_FILTER (self)->context, render_gl,
      &r);
  if (!r.ok)
    goto render_failed;
  return TRUE;

  /* ERRORS */
render_failed:
  {
    GST_ELEMENT_ERROR (self, RESOURCE, FAILED,
        ("Could not resize the video on the GPU."),
        ("vlm_gl_resize_render() failed: %s",
            r.error ? r.error->message : "unknown error"));
    g_clear_error (&r.error);
    return FALSE;
  }
}

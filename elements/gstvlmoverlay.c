/* gst-vlm — vlmoverlay element.
 * Copyright (C) 2025 gst-vlm authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/**
 * SECTION:element-vlmoverlay
 * @title: vlmoverlay
 *
 * Draws the caption of a scene-narration stream onto the video, large and
 * high in contrast, for low-vision users (and for sighted helpers of blind
 * users). The caption comes from the #GstVlmCaptionMeta that vlmdescribe
 * puts on every video buffer, or from any text source linked to the
 * optional `text_sink` pad (`text/x-raw, format=utf8`, as for textoverlay).
 *
 * Streaming reveal: a partial caption (meta with final=FALSE) is drawn as
 * it grows, fully opaque. A final caption stays for #GstVlmOverlay:hold-time
 * seconds, then fades out over #GstVlmOverlay:fade-time seconds; a new
 * caption replaces it at once. A caption that stops coming with the video
 * (buffers without a meta) is held and faded the same way from its last
 * change. All timing is measured on the running time of the video buffers
 * (their PTS), never on the wall clock.
 *
 * A `text_sink` buffer is shown on the video frames that overlap its
 * [PTS, PTS + duration) window, fully opaque; one without a duration is
 * treated as a final caption (held, then faded) until the next text. While a
 * `text_sink` caption covers a frame it is drawn instead of the meta's.
 * The `text_sink` pad never blocks: texts wait in a short queue until the
 * video reaches them.
 *
 * The caption is laid out and rendered into a panel image only when the
 * text, a look property or the frame size changes; every other frame is a
 * cached blend of that panel (see the `stats` property: `renders`). With
 * #GstVlmOverlay:enabled set to %FALSE the element is in passthrough: the
 * video leaves bit-exact and untouched.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 v4l2src ! videoconvert ! vlmdescribe model=text.gguf \
 *     mmproj=mmproj.gguf ! vlmoverlay theme=high-contrast ! videoconvert ! \
 *     autovideosink
 * ]| Shows the camera with its narration, streaming, in yellow on black.
 * |[
 * gst-launch-1.0 v4l2src ! videoconvert ! vlmdescribe name=d \
 *     model=text.gguf mmproj=mmproj.gguf ! vlmoverlay name=o position=top \
 *     font-size=0.08 ! videoconvert ! autovideosink \
 *     d.text_src ! queue leaky=downstream ! o.text_sink
 * ]| The same through the `text_sink` pad, in large letters at the top.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstvlmoverlay.h"
#include "gstvlmcaptionmeta.h"
#include "overlay.h"

#include <gst/video/video.h>
#include <string.h>

GST_DEBUG_CATEGORY_STATIC (gst_vlm_overlay_debug);
#define GST_CAT_DEFAULT gst_vlm_overlay_debug

/* Same values as vlm_overlay_position / _theme / _effect. */
typedef enum {
  GST_VLM_OVERLAY_POSITION_BOTTOM = VLM_OVERLAY_POSITION_BOTTOM,
  GST_VLM_OVERLAY_POSITION_TOP = VLM_OVERLAY_POSITION_TOP,
  GST_VLM_OVERLAY_POSITION_CENTER = VLM_OVERLAY_POSITION_CENTER,
} GstVlmOverlayPosition;

typedef enum {
  GST_VLM_OVERLAY_THEME_DARK = VLM_OVERLAY_THEME_DARK,
  GST_VLM_OVERLAY_THEME_HIGH_CONTRAST = VLM_OVERLAY_THEME_HIGH_CONTRAST,
  GST_VLM_OVERLAY_THEME_LIGHT = VLM_OVERLAY_THEME_LIGHT,
  GST_VLM_OVERLAY_THEME_CLEAR = VLM_OVERLAY_THEME_CLEAR,
} GstVlmOverlayTheme;

typedef enum {
  GST_VLM_OVERLAY_EFFECT_OUTLINE = VLM_OVERLAY_EFFECT_OUTLINE,
  GST_VLM_OVERLAY_EFFECT_SHADOW = VLM_OVERLAY_EFFECT_SHADOW,
  GST_VLM_OVERLAY_EFFECT_NONE = VLM_OVERLAY_EFFECT_NONE,
} GstVlmOverlayEffect;

enum {
  PROP_0,
  PROP_ENABLED,
  PROP_POSITION,
  PROP_FONT,
  PROP_FONT_SIZE,
  PROP_THEME,
  PROP_EFFECT,
  PROP_MAX_LINES,
  PROP_MARGIN,
  PROP_HOLD_TIME,
  PROP_FADE_TIME,
  PROP_STATS,
};

#define DEFAULT_PROP_ENABLED TRUE
#define DEFAULT_PROP_POSITION GST_VLM_OVERLAY_POSITION_BOTTOM
#define DEFAULT_PROP_FONT NULL
#define DEFAULT_PROP_FONT_SIZE 0.05
#define DEFAULT_PROP_THEME GST_VLM_OVERLAY_THEME_DARK
#define DEFAULT_PROP_EFFECT GST_VLM_OVERLAY_EFFECT_OUTLINE
#define DEFAULT_PROP_MAX_LINES 2
#define DEFAULT_PROP_MARGIN 0.03
#define DEFAULT_PROP_HOLD_TIME 5.0
#define DEFAULT_PROP_FADE_TIME 1.0

/* Most texts waiting on text_sink for the video to reach them; beyond
 * this the oldest is dropped (the pad never blocks). */
#define MAX_TEXT_QUEUE 32

#define VIDEO_FORMATS "{ RGBA, BGRA, RGBx, BGRx, RGB, I420, NV12 }"

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS,
    GST_STATIC_CAPS (GST_VIDEO_CAPS_MAKE (VIDEO_FORMATS)));

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS,
    GST_STATIC_CAPS (GST_VIDEO_CAPS_MAKE (VIDEO_FORMATS)));

static GstStaticPadTemplate text_sink_template =
GST_STATIC_PAD_TEMPLATE ("text_sink", GST_PAD_SINK, GST_PAD_ALWAYS,
    GST_STATIC_CAPS ("text/x-raw, format=(string)utf8"));

/* A text from text_sink: immutable once queued except `start`, which is
 * resolved (under text_lock) by the first frame that sees an untimed text.
 * Atomically reference-counted (g_atomic_rc_box) so the streaming thread
 * uses it outside the lock. */
typedef struct {
  gchar *text;
  GstClockTime start;           /* running time; NONE: from the next frame */
  GstClockTime end;             /* running time; NONE: held, then faded */
} TextItem;

struct _GstVlmOverlay {
  GstVideoFilter parent;

  GstPad *text_sinkpad;

  /* Properties and statistics. Protected by GST_OBJECT_LOCK, which is
   * never held together with text_lock (take one, copy, release). */
  gboolean enabled;
  GstVlmOverlayPosition position;
  gchar *font;
  gdouble font_size;
  GstVlmOverlayTheme theme;
  GstVlmOverlayEffect effect;
  gint max_lines;
  gdouble margin;
  gdouble hold_time;
  gdouble fade_time;
  guint params_cookie;          /* bumped when a look property changes */
  guint64 n_frames, n_drawn, n_renders, n_text_dropped;

  /* text_sink state. Protected by text_lock, a leaf lock: nothing else is
   * taken while it is held and nothing is pushed, posted or rendered. */
  GMutex text_lock;
  GQueue text_queue;            /* TextItem *, in arrival order */
  GstSegment text_segment;
  gboolean text_flushing;

  /* Streaming thread only (and start/stop, while it does not run). */
  vlm_overlay *ov;
  gchar *caption;               /* latest caption from the meta, or NULL */
  guint64 caption_id;
  gboolean caption_final;
  GstClockTime caption_changed; /* running time it last changed */
  GstClockTime last_time;       /* running time of the last timed frame */
  guint64 last_serial;          /* panel serial after the last render */
  guint applied_cookie;         /* params_cookie the context has */
  gboolean warned_render;
};

#define gst_vlm_overlay_parent_class parent_class
G_DEFINE_TYPE_WITH_CODE (GstVlmOverlay, gst_vlm_overlay,
    GST_TYPE_VIDEO_FILTER,
    GST_DEBUG_CATEGORY_INIT (gst_vlm_overlay_debug, "vlmoverlay", 0,
        "vlmoverlay: caption overlay"));
GST_ELEMENT_REGISTER_DEFINE (vlmoverlay, "vlmoverlay", GST_RANK_NONE,
    GST_TYPE_VLM_OVERLAY);

static void gst_vlm_overlay_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec);
static void gst_vlm_overlay_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec);
static void gst_vlm_overlay_finalize (GObject * object);
static gboolean gst_vlm_overlay_start (GstBaseTransform * trans);
static gboolean gst_vlm_overlay_stop (GstBaseTransform * trans);
static gboolean gst_vlm_overlay_sink_event (GstBaseTransform * trans,
    GstEvent * event);
static gboolean gst_vlm_overlay_set_info (GstVideoFilter * filter,
    GstCaps * incaps, GstVideoInfo * in_info, GstCaps * outcaps,
    GstVideoInfo * out_info);
static GstFlowReturn gst_vlm_overlay_transform_frame_ip (GstVideoFilter *
    filter, GstVideoFrame * frame);
static GstFlowReturn gst_vlm_overlay_text_chain (GstPad * pad,
    GstObject * parent, GstBuffer * buffer);
static gboolean gst_vlm_overlay_text_event (GstPad * pad, GstObject * parent,
    GstEvent * event);

#define GST_TYPE_VLM_OVERLAY_POSITION (gst_vlm_overlay_position_get_type ())
static GType
gst_vlm_overlay_position_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_VLM_OVERLAY_POSITION_BOTTOM, "Bottom of the frame", "bottom"},
    {GST_VLM_OVERLAY_POSITION_TOP, "Top of the frame", "top"},
    {GST_VLM_OVERLAY_POSITION_CENTER, "Centre of the frame", "center"},
    {0, NULL, NULL},
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstVlmOverlayPosition", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

#define GST_TYPE_VLM_OVERLAY_THEME (gst_vlm_overlay_theme_get_type ())
static GType
gst_vlm_overlay_theme_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_VLM_OVERLAY_THEME_DARK, "White text on 70 % black, black outline",
        "dark"},
    {GST_VLM_OVERLAY_THEME_HIGH_CONTRAST, "Yellow text on opaque black",
        "high-contrast"},
    {GST_VLM_OVERLAY_THEME_LIGHT, "Black text on 85 % white, white outline",
        "light"},
    {GST_VLM_OVERLAY_THEME_CLEAR, "White text, no background, black outline",
        "clear"},
    {0, NULL, NULL},
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstVlmOverlayTheme", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

#define GST_TYPE_VLM_OVERLAY_EFFECT (gst_vlm_overlay_effect_get_type ())
static GType
gst_vlm_overlay_effect_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_VLM_OVERLAY_EFFECT_OUTLINE, "Outline around the glyphs", "outline"},
    {GST_VLM_OVERLAY_EFFECT_SHADOW, "Drop shadow down-right", "shadow"},
    {GST_VLM_OVERLAY_EFFECT_NONE, "No outline or shadow", "none"},
    {0, NULL, NULL},
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstVlmOverlayEffect", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

static void
gst_vlm_overlay_class_init (GstVlmOverlayClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);
  GstVideoFilterClass *filter_class = GST_VIDEO_FILTER_CLASS (klass);
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
      GST_PARAM_MUTABLE_PLAYING;

  gobject_class->set_property = gst_vlm_overlay_set_property;
  gobject_class->get_property = gst_vlm_overlay_get_property;
  gobject_class->finalize = gst_vlm_overlay_finalize;

  g_object_class_install_property (gobject_class, PROP_ENABLED,
      g_param_spec_boolean ("enabled", "Enabled",
          "Draw the caption (TRUE) or pass the video through untouched, "
          "bit-exact (FALSE); default TRUE", DEFAULT_PROP_ENABLED, rw));
  g_object_class_install_property (gobject_class, PROP_POSITION,
      g_param_spec_enum ("position", "Position",
          "Where the caption panel sits, centred horizontally: bottom, top "
          "or center; default bottom", GST_TYPE_VLM_OVERLAY_POSITION,
          DEFAULT_PROP_POSITION, rw));
  g_object_class_install_property (gobject_class, PROP_FONT,
      g_param_spec_string ("font", "Font",
          "Font: a fontconfig pattern (\"DejaVu Sans:bold\") or the path of "
          "a font file; NULL or empty = DejaVu Sans (default NULL); a font "
          "file that cannot be opened is an error at start",
          DEFAULT_PROP_FONT, rw));
  g_object_class_install_property (gobject_class, PROP_FONT_SIZE,
      g_param_spec_double ("font-size", "Font size",
          "Em size as a fraction of the frame height, 0.001 to 1 (pixel "
          "size clamped to 6..400 px); default 0.05", 0.001, 1.0,
          DEFAULT_PROP_FONT_SIZE, rw));
  g_object_class_install_property (gobject_class, PROP_THEME,
      g_param_spec_enum ("theme", "Theme",
          "Colours of text and panel: dark, high-contrast (yellow on black), "
          "light or clear; default dark", GST_TYPE_VLM_OVERLAY_THEME,
          DEFAULT_PROP_THEME, rw));
  g_object_class_install_property (gobject_class, PROP_EFFECT,
      g_param_spec_enum ("effect", "Effect",
          "Contrast effect around the glyphs: outline, shadow or none; "
          "default outline", GST_TYPE_VLM_OVERLAY_EFFECT,
          DEFAULT_PROP_EFFECT, rw));
  g_object_class_install_property (gobject_class, PROP_MAX_LINES,
      g_param_spec_int ("max-lines", "Maximum lines",
          "Most text lines shown, 1 to 64 (lines); a longer caption shows "
          "its newest lines; default 2", 1, 64, DEFAULT_PROP_MAX_LINES, rw));
  g_object_class_install_property (gobject_class, PROP_MARGIN,
      g_param_spec_double ("margin", "Margin",
          "Gap between the panel and the frame edges as a fraction of the "
          "frame height, 0 to 0.4; default 0.03", 0.0, 0.4,
          DEFAULT_PROP_MARGIN, rw));
  g_object_class_install_property (gobject_class, PROP_HOLD_TIME,
      g_param_spec_double ("hold-time", "Hold time",
          "Seconds (of stream running time) a final caption stays fully "
          "visible before it fades, -1 to 3600; negative = forever; "
          "default 5", -1.0, 3600.0, DEFAULT_PROP_HOLD_TIME, rw));
  g_object_class_install_property (gobject_class, PROP_FADE_TIME,
      g_param_spec_double ("fade-time", "Fade time",
          "Seconds (of stream running time) a caption takes to fade out "
          "after hold-time, 0 to 60; 0 = disappears at once; default 1",
          0.0, 60.0, DEFAULT_PROP_FADE_TIME, rw));
  g_object_class_install_property (gobject_class, PROP_STATS,
      g_param_spec_boxed ("stats", "Statistics",
          "Counters since the element started: frames (video buffers), "
          "drawn (frames with a caption blended), renders (caption layouts "
          "and renders: cache misses), text-dropped (text_sink buffers "
          "dropped from a full queue)", GST_TYPE_STRUCTURE,
          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_add_static_pad_template (element_class,
      &text_sink_template);
  gst_element_class_set_static_metadata (element_class,
      "Caption overlay", "Filter/Editor/Video",
      "Draws the streaming scene caption (GstVlmCaptionMeta or text_sink) "
      "onto the video, held and faded on stream time",
      "gst-vlm authors");

  trans_class->start = GST_DEBUG_FUNCPTR (gst_vlm_overlay_start);
  trans_class->stop = GST_DEBUG_FUNCPTR (gst_vlm_overlay_stop);
  trans_class->sink_event = GST_DEBUG_FUNCPTR (gst_vlm_overlay_sink_event);
  filter_class->set_info = GST_DEBUG_FUNCPTR (gst_vlm_overlay_set_info);
  filter_class->transform_frame_ip =
      GST_DEBUG_FUNCPTR (gst_vlm_overlay_transform_frame_ip);

  gst_type_mark_as_plugin_api (GST_TYPE_VLM_OVERLAY_POSITION, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_VLM_OVERLAY_THEME, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_VLM_OVERLAY_EFFECT, 0);
}

static void
gst_vlm_overlay_init (GstVlmOverlay * self)
{
  self->text_sinkpad =
      gst_pad_new_from_static_template (&text_sink_template, "text_sink");
  gst_pad_set_chain_function (self->text_sinkpad,
      GST_DEBUG_FUNCPTR (gst_vlm_overlay_text_chain));
  gst_pad_set_event_function (self->text_sinkpad,
      GST_DEBUG_FUNCPTR (gst_vlm_overlay_text_event));
  gst_element_add_pad (GST_ELEMENT (self), self->text_sinkpad);

  self->enabled = DEFAULT_PROP_ENABLED;
  self->position = DEFAULT_PROP_POSITION;
  self->font = g_strdup (DEFAULT_PROP_FONT);
  self->font_size = DEFAULT_PROP_FONT_SIZE;
  self->theme = DEFAULT_PROP_THEME;
  self->effect = DEFAULT_PROP_EFFECT;
  self->max_lines = DEFAULT_PROP_MAX_LINES;
  self->margin = DEFAULT_PROP_MARGIN;
  self->hold_time = DEFAULT_PROP_HOLD_TIME;
  self->fade_time = DEFAULT_PROP_FADE_TIME;

  g_mutex_init (&self->text_lock);
  g_queue_init (&self->text_queue);
  gst_segment_init (&self->text_segment, GST_FORMAT_TIME);

  self->caption_changed = GST_CLOCK_TIME_NONE;
  self->last_time = GST_CLOCK_TIME_NONE;
}

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

static void
text_item_clear (gpointer data)
{
  TextItem *item = data;

  g_free (item->text);
}

static void
text_item_unref (gpointer data)
{
  g_atomic_rc_box_release_full (data, text_item_clear);
}

/* text_lock held by the caller. */
static void
gst_vlm_overlay_clear_texts_locked (GstVlmOverlay * self)
{
  g_queue_clear_full (&self->text_queue, text_item_unref);
}

/* GST_OBJECT_LOCK held by the caller. */
static vlm_overlay_params
gst_vlm_overlay_params_locked (GstVlmOverlay * self)
{
  vlm_overlay_params p = vlm_overlay_params_default ();

  /* `font` is copied by vlm_overlay_new / _set_params. */
  p.font = self->font;
  p.font_size = self->font_size;
  p.position = (vlm_overlay_position) self->position;
  p.theme = (vlm_overlay_theme) self->theme;
  p.effect = (vlm_overlay_effect) self->effect;
  p.max_lines = self->max_lines;
  p.margin = self->margin;
  return p;
}

/* Streaming thread. */
static void
gst_vlm_overlay_reset_caption (GstVlmOverlay * self)
{
  g_clear_pointer (&self->caption, g_free);
  self->caption_id = 0;
  self->caption_final = FALSE;
  self->caption_changed = GST_CLOCK_TIME_NONE;
  self->last_time = GST_CLOCK_TIME_NONE;
}

static GstStructure *
gst_vlm_overlay_make_stats (GstVlmOverlay * self)
{
  GstStructure *s;

  /* GST_OBJECT_LOCK alone (never with text_lock) */
  GST_OBJECT_LOCK (self);
  s = gst_structure_new ("application/x-vlm-overlay-stats",
      "frames", G_TYPE_UINT64, self->n_frames,
      "drawn", G_TYPE_UINT64, self->n_drawn,
      "renders", G_TYPE_UINT64, self->n_renders,
      "text-dropped", G_TYPE_UINT64, self->n_text_dropped, NULL);
  GST_OBJECT_UNLOCK (self);
  return s;
}

/* ------------------------------------------------------------------ */
/* GObject                                                             */
/* ------------------------------------------------------------------ */

static void
gst_vlm_overlay_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstVlmOverlay *self = GST_VLM_OVERLAY (object);

  if (prop_id == PROP_ENABLED) {
    gboolean enabled = g_value_get_boolean (value);

    /* GST_OBJECT_LOCK alone; released before set_passthrough takes it */
    GST_OBJECT_LOCK (self);
    self->enabled = enabled;
    GST_OBJECT_UNLOCK (self);
    /* takes the object lock itself */
    gst_base_transform_set_passthrough (GST_BASE_TRANSFORM (self), !enabled);
    return;
  }

  /* GST_OBJECT_LOCK alone (never with text_lock) */
  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_POSITION:
      self->position = g_value_get_enum (value);
      break;
    case PROP_FONT:
      g_free (self->font);
      self->font = g_value_dup_string (value);
      break;
    case PROP_FONT_SIZE:
      self->font_size = g_value_get_double (value);
      break;
    case PROP_THEME:
      self->theme = g_value_get_enum (value);
      break;
    case PROP_EFFECT:
      self->effect = g_value_get_enum (value);
      break;
    case PROP_MAX_LINES:
      self->max_lines = g_value_get_int (value);
      break;
    case PROP_MARGIN:
      self->margin = g_value_get_double (value);
      break;
    case PROP_HOLD_TIME:
      self->hold_time = g_value_get_double (value);
      break;
    case PROP_FADE_TIME:
      self->fade_time = g_value_get_double (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  if (prop_id != PROP_HOLD_TIME && prop_id != PROP_FADE_TIME)
    self->params_cookie++;
  GST_OBJECT_UNLOCK (self);
}

static void
gst_vlm_overlay_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstVlmOverlay *self = GST_VLM_OVERLAY (object);

  if (prop_id == PROP_STATS) {
    /* takes the object lock itself */
    g_value_take_boxed (value, gst_vlm_overlay_make_stats (self));
    return;
  }

  /* GST_OBJECT_LOCK alone (never with text_lock) */
  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_ENABLED:
      g_value_set_boolean (value, self->enabled);
      break;
    case PROP_POSITION:
      g_value_set_enum (value, self->position);
      break;
    case PROP_FONT:
      g_value_set_string (value, self->font);
      break;
    case PROP_FONT_SIZE:
      g_value_set_double (value, self->font_size);
      break;
    case PROP_THEME:
      g_value_set_enum (value, self->theme);
      break;
    case PROP_EFFECT:
      g_value_set_enum (value, self->effect);
      break;
    case PROP_MAX_LINES:
      g_value_set_int (value, self->max_lines);
      break;
    case PROP_MARGIN:
      g_value_set_double (value, self->margin);
      break;
    case PROP_HOLD_TIME:
      g_value_set_double (value, self->hold_time);
      break;
    case PROP_FADE_TIME:
      g_value_set_double (value, self->fade_time);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_vlm_overlay_finalize (GObject * object)
{
  GstVlmOverlay *self = GST_VLM_OVERLAY (object);

  gst_vlm_overlay_clear_texts_locked (self);
  g_mutex_clear (&self->text_lock);
  g_clear_pointer (&self->ov, vlm_overlay_free);
  g_free (self->caption);
  g_free (self->font);

  G_OBJECT_CLASS (parent_class)->finalize (object);
}

/* ------------------------------------------------------------------ */
/* GstBaseTransform / GstVideoFilter                                   */
/* ------------------------------------------------------------------ */

static gboolean
gst_vlm_overlay_start (GstBaseTransform * trans)
{
  GstVlmOverlay *self = GST_VLM_OVERLAY (trans);
  vlm_overlay_params params;
  vlm_overlay_status status = VLM_OVERLAY_OK;
  gchar err[512] = "";
  gchar *font;
  gboolean enabled;

  /* Opens the font here, on the state-change thread, not while
   * streaming. GST_OBJECT_LOCK alone: copy the properties. */
  GST_OBJECT_LOCK (self);
  params = gst_vlm_overlay_params_locked (self);
  font = g_strdup (self->font);
  params.font = font;
  enabled = self->enabled;
  self->applied_cookie = self->params_cookie;
  self->n_frames = self->n_drawn = self->n_renders = 0;
  self->n_text_dropped = 0;
  GST_OBJECT_UNLOCK (self);

  gst_base_transform_set_passthrough (trans, !enabled);

  g_clear_pointer (&self->ov, vlm_overlay_free);
  self->ov = vlm_overlay_new (params, &status, err, sizeof err);
  if (self->ov == NULL)
    goto no_overlay;
  GST_INFO_OBJECT (self, "font %s", vlm_overlay_font_path (self->ov));
  g_free (font);

  gst_vlm_overlay_reset_caption (self);
  self->last_serial = 0;
  self->warned_render = FALSE;

  /* text_lock (leaf), after the object lock was released */
  g_mutex_lock (&self->text_lock);
  gst_vlm_overlay_clear_texts_locked (self);
  gst_segment_init (&self->text_segment, GST_FORMAT_TIME);
  self->text_flushing = FALSE;
  g_mutex_unlock (&self->text_lock);

  return TRUE;

  /* ERRORS */
no_overlay:
  {
    if (status == VLM_OVERLAY_ERR_FONT) {
      GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND,
          ("Could not find or open the font \"%s\".",
              font && *font ? font : "DejaVu Sans"),
          ("vlm_overlay_new() failed: %s (%s)",
              vlm_overlay_status_str (status), err));
    } else {
      GST_ELEMENT_ERROR (self, LIBRARY, INIT,
          ("Could not set up the caption overlay."),
          ("vlm_overlay_new() failed: %s (%s)",
              vlm_overlay_status_str (status), err));
    }
    g_free (font);
    return FALSE;
  }
}

static gboolean
gst_vlm_overlay_stop (GstBaseTransform * trans)
{
  GstVlmOverlay *self = GST_VLM_OVERLAY (trans);

  g_clear_pointer (&self->ov, vlm_overlay_free);
  gst_vlm_overlay_reset_caption (self);

  /* text_lock (leaf); the streaming thread is stopped */
  g_mutex_lock (&self->text_lock);
  gst_vlm_overlay_clear_texts_locked (self);
  g_mutex_unlock (&self->text_lock);

  return TRUE;
}

static gboolean
gst_vlm_overlay_set_info (GstVideoFilter * filter, GstCaps * incaps,
    GstVideoInfo * in_info, GstCaps * outcaps, GstVideoInfo * out_info)
{
  GST_DEBUG_OBJECT (filter, "caps %" GST_PTR_FORMAT, incaps);
  /* Nothing to configure: the panel follows the frame size by itself. */
  return TRUE;
}

static gboolean
gst_vlm_overlay_sink_event (GstBaseTransform * trans, GstEvent * event)
{
  GstVlmOverlay *self = GST_VLM_OVERLAY (trans);

  /* Serialized: runs on the streaming thread, between buffers. */
  if (GST_EVENT_TYPE (event) == GST_EVENT_FLUSH_STOP)
    gst_vlm_overlay_reset_caption (self);

  return GST_BASE_TRANSFORM_CLASS (parent_class)->sink_event (trans, event);
}

static vlm_overlay_format
gst_vlm_overlay_format (GstVideoFormat format)
{
  switch (format) {
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
      return VLM_OVERLAY_N_FORMATS;
  }
}

/* Takes the newest caption meta of `buf` into the caption state; `now` is
 * the frame's running time. Returns FALSE when the buffer has none.
 * Streaming thread. */
static gboolean
gst_vlm_overlay_take_meta (GstVlmOverlay * self, GstBuffer * buf,
    GstClockTime now)
{
  GstVlmCaptionMeta *meta = NULL;
  GstMeta *m;
  gpointer iter = NULL;
  const gchar *text;

  while ((m = gst_buffer_iterate_meta_filtered (buf, &iter,
              GST_VLM_CAPTION_META_API_TYPE))) {
    GstVlmCaptionMeta *cm = (GstVlmCaptionMeta *) m;

    if (meta == NULL || cm->id >= meta->id)
      meta = cm;
  }
  if (meta == NULL)
    return FALSE;

  text = meta->text ? meta->text : "";
  if (self->caption == NULL || meta->id != self->caption_id ||
      (!meta->final) != (!self->caption_final) ||
      strcmp (text, self->caption) != 0) {
    g_free (self->caption);
    self->caption = g_strdup (text);
    self->caption_id = meta->id;
    self->caption_final = meta->final;
    self->caption_changed = now;
    GST_LOG_OBJECT (self, "caption %" G_GUINT64_FORMAT " (%s) at %"
        GST_TIME_FORMAT ": %s", meta->id, meta->final ? "final" : "partial",
        GST_TIME_ARGS (now), self->caption);
  }
  return TRUE;
}

/* Opacity of a caption that changed at `since`, at time `now`. */
static gfloat
gst_vlm_overlay_fade (GstClockTime now, GstClockTime since, gdouble hold,
    gdouble fade)
{
  gdouble elapsed = 0.0;

  if (GST_CLOCK_TIME_IS_VALID (now) && GST_CLOCK_TIME_IS_VALID (since) &&
      now > since)
    elapsed = (gdouble) (now - since) / GST_SECOND;
  return vlm_overlay_fade_opacity (elapsed, hold, fade);
}

/* The text_sink caption for the frame [start, end), referenced, or NULL.
 * Drops texts whose window has passed or that a later one replaced.
 * Streaming thread; takes text_lock (leaf). */
static TextItem *
gst_vlm_overlay_pick_text (GstVlmOverlay * self, GstClockTime start,
    GstClockTime end)
{
  TextItem *pick = NULL;
  GList *l, *next;

  /* text_lock (leaf): nothing else taken while held */
  g_mutex_lock (&self->text_lock);
  for (l = self->text_queue.head; l != NULL; l = next) {
    TextItem *item = l->data;

    next = l->next;
    if (!GST_CLOCK_TIME_IS_VALID (item->start))
      item->start = start;
    if (GST_CLOCK_TIME_IS_VALID (item->end) && item->end <= start) {
      /* its window has passed */
      text_item_unref (item);
      g_queue_delete_link (&self->text_queue, l);
    } else if (item->start < end) {
      pick = item;
    }
  }
  /* texts queued before the pick are replaced by it */
  while (pick != NULL && self->text_queue.head->data != pick)
    text_item_unref (g_queue_pop_head (&self->text_queue));
  if (pick != NULL)
    g_atomic_rc_box_acquire (pick);
  g_mutex_unlock (&self->text_lock);

  return pick;
}

static GstFlowReturn
gst_vlm_overlay_transform_frame_ip (GstVideoFilter * filter,
    GstVideoFrame * frame)
{
  GstVlmOverlay *self = GST_VLM_OVERLAY (filter);
  GstBaseTransform *trans = GST_BASE_TRANSFORM (filter);
  GstBuffer *buf = frame->buffer;
  vlm_overlay_params params;
  vlm_overlay_frame vf;
  vlm_overlay_status st;
  vlm_overlay_panel panel;
  GstClockTime now, end;
  TextItem *item;
  const gchar *text = NULL;
  gchar *font = NULL;
  gdouble hold, fade;
  gfloat opacity = 0.0f;
  guint cookie;
  gboolean enabled, params_changed, has_meta, rendered = FALSE;

  /* 1. settings: GST_OBJECT_LOCK, copy, release */
  GST_OBJECT_LOCK (self);
  enabled = self->enabled;
  hold = self->hold_time;
  fade = self->fade_time;
  cookie = self->params_cookie;
  params_changed = cookie != self->applied_cookie;
  params = gst_vlm_overlay_params_locked (self);
  if (params_changed)
    params.font = font = g_strdup (self->font);
  self->n_frames++;
  GST_OBJECT_UNLOCK (self);

  /* 2. stream time of the frame */
  now = gst_segment_to_running_time (&trans->segment, GST_FORMAT_TIME,
      GST_BUFFER_PTS (buf));
  if (GST_CLOCK_TIME_IS_VALID (now))
    self->last_time = now;
  else
    now = self->last_time;
  end = GST_CLOCK_TIME_NONE;
  if (GST_CLOCK_TIME_IS_VALID (now))
    end = now + (GST_BUFFER_DURATION_IS_VALID (buf) &&
        GST_BUFFER_DURATION (buf) > 0 ? GST_BUFFER_DURATION (buf) : 1);

  /* 3. the caption state follows the stream even when not drawing */
  has_meta = gst_vlm_overlay_take_meta (self, buf, now);
  item = NULL;
  if (GST_CLOCK_TIME_IS_VALID (now))
    item = gst_vlm_overlay_pick_text (self, now, end);

  if (!enabled || gst_base_transform_is_passthrough (trans) || !self->ov)
    goto done;

  /* applied while enabled only; a change while disabled waits */
  if (params_changed) {
    self->applied_cookie = cookie;
    st = vlm_overlay_set_params (self->ov, params);
    if (st != VLM_OVERLAY_OK)
      goto bad_params;
  }

  /* 4. which caption, how opaque */
  if (item != NULL) {
    text = item->text;
    opacity = GST_CLOCK_TIME_IS_VALID (item->end) ? 1.0f :
        gst_vlm_overlay_fade (now, item->start, hold, fade);
  } else if (self->caption != NULL) {
    text = self->caption;
    opacity = (has_meta && !self->caption_final) ? 1.0f :
        gst_vlm_overlay_fade (now, self->caption_changed, hold, fade);
  }
  if (text == NULL || *text == '\0' || opacity <= 0.0f)
    goto done;

  /* 5. render (cached unless text, look or size changed), then blend */
  vf.format = gst_vlm_overlay_format (GST_VIDEO_FRAME_FORMAT (frame));
  vf.width = GST_VIDEO_FRAME_WIDTH (frame);
  vf.height = GST_VIDEO_FRAME_HEIGHT (frame);
  for (guint i = 0; i < 3; i++) {
    gboolean has = i < GST_VIDEO_FRAME_N_PLANES (frame);

    vf.data[i] = has ? GST_VIDEO_FRAME_PLANE_DATA (frame, i) : NULL;
    vf.stride[i] = has ? GST_VIDEO_FRAME_PLANE_STRIDE (frame, i) : 0;
  }

  st = vlm_overlay_render (self->ov, text, vf.width, vf.height);
  if (st != VLM_OVERLAY_OK)
    goto render_failed;
  vlm_overlay_get_panel (self->ov, &panel);
  if (panel.serial != self->last_serial) {
    self->last_serial = panel.serial;
    rendered = TRUE;
    GST_DEBUG_OBJECT (self, "rendered %d line(s) of %d, %dx%d px at %d,%d",
        panel.n_lines, panel.n_lines_total, panel.width, panel.height,
        panel.x, panel.y);
  }
  st = vlm_overlay_blend (self->ov, &vf, opacity);
  if (st != VLM_OVERLAY_OK)
    goto render_failed;

  /* GST_OBJECT_LOCK alone: counters */
  GST_OBJECT_LOCK (self);
  self->n_drawn++;
  if (rendered)
    self->n_renders++;
  GST_OBJECT_UNLOCK (self);

done:
  if (item != NULL)
    text_item_unref (item);
  g_free (font);
  return GST_FLOW_OK;

  /* ERRORS */
bad_params:
  {
    /* the old look stays; the video goes on */
    GST_ELEMENT_WARNING (self, RESOURCE, NOT_FOUND,
        ("Could not apply the new caption style (font \"%s\"); keeping the "
            "previous one.", font && *font ? font : "DejaVu Sans"),
        ("vlm_overlay_set_params() failed: %s (%s)",
            vlm_overlay_status_str (st), vlm_overlay_last_error (self->ov)));
    goto done;
  }
render_failed:
  {
    /* the video goes on without the caption; warn once per start */
    if (!self->warned_render) {
      self->warned_render = TRUE;
      GST_ELEMENT_WARNING (self, STREAM, FAILED,
          ("Could not draw the caption on a %dx%d frame.", vf.width,
              vf.height), ("vlm_overlay_render/blend() failed: %s (%s)",
              vlm_overlay_status_str (st), vlm_overlay_last_error (self->ov)));
    }
    goto done;
  }
}

/* ------------------------------------------------------------------ */
/* text_sink                                                           */
/* ------------------------------------------------------------------ */

static GstFlowReturn
gst_vlm_overlay_text_chain (GstPad * pad, GstObject * parent,
    GstBuffer * buffer)
{
  GstVlmOverlay *self = GST_VLM_OVERLAY (parent);
  GstClockTime pts = GST_BUFFER_PTS (buffer);
  GstClockTime dur = GST_BUFFER_DURATION (buffer);
  guint64 cstart, cstop;
  GstMapInfo map;
  TextItem *item;
  gsize len;
  guint n_dropped = 0;

  if (!gst_buffer_map (buffer, &map, GST_MAP_READ))
    goto map_failed;
  item = g_atomic_rc_box_new0 (TextItem);
  len = map.size;
  /* a trailing line break would give an empty last line */
  while (len > 0 && (map.data[len - 1] == '\n' || map.data[len - 1] == '\r'))
    len--;
  item->text = g_strndup ((const gchar *) map.data, len);
  item->start = item->end = GST_CLOCK_TIME_NONE;
  gst_buffer_unmap (buffer, &map);

  /* text_lock (leaf): segment, queue */
  g_mutex_lock (&self->text_lock);
  if (self->text_flushing) {
    g_mutex_unlock (&self->text_lock);
    text_item_unref (item);
    gst_buffer_unref (buffer);
    return GST_FLOW_FLUSHING;
  }
  if (GST_CLOCK_TIME_IS_VALID (pts)) {
    cstop = GST_CLOCK_TIME_IS_VALID (dur) ? pts + dur : GST_CLOCK_TIME_NONE;
    if (!gst_segment_clip (&self->text_segment, GST_FORMAT_TIME, pts, cstop,
            &cstart, &cstop)) {
      g_mutex_unlock (&self->text_lock);
      GST_DEBUG_OBJECT (self, "text outside the segment, dropped");
      text_item_unref (item);
      gst_buffer_unref (buffer);
      return GST_FLOW_OK;
    }
    item->start = gst_segment_to_running_time (&self->text_segment,
        GST_FORMAT_TIME, cstart);
    if (GST_CLOCK_TIME_IS_VALID (dur))
      item->end = gst_segment_to_running_time (&self->text_segment,
          GST_FORMAT_TIME, cstop);
  }
  g_queue_push_tail (&self->text_queue, item);
  while (self->text_queue.length > MAX_TEXT_QUEUE) {
    text_item_unref (g_queue_pop_head (&self->text_queue));
    n_dropped++;
  }
  g_mutex_unlock (&self->text_lock);

  GST_LOG_OBJECT (self, "text %" GST_TIME_FORMAT " + %" GST_TIME_FORMAT,
      GST_TIME_ARGS (pts), GST_TIME_ARGS (dur));
  if (n_dropped > 0) {
    GST_WARNING_OBJECT (self, "text queue full (video behind): dropped %u",
        n_dropped);
    /* GST_OBJECT_LOCK alone, after text_lock was released */
    GST_OBJECT_LOCK (self);
    self->n_text_dropped += n_dropped;
    GST_OBJECT_UNLOCK (self);
  }
  gst_buffer_unref (buffer);
  return GST_FLOW_OK;

  /* ERRORS */
map_failed:
  {
    GST_ELEMENT_ERROR (self, STREAM, FAILED,
        ("A text buffer could not be read."), ("gst_buffer_map() failed"));
    gst_buffer_unref (buffer);
    return GST_FLOW_ERROR;
  }
}

static gboolean
gst_vlm_overlay_text_event (GstPad * pad, GstObject * parent,
    GstEvent * event)
{
  GstVlmOverlay *self = GST_VLM_OVERLAY (parent);
  gboolean ret = TRUE;

  GST_LOG_OBJECT (pad, "%" GST_PTR_FORMAT, event);

  /* text_lock (leaf) in each case; the events stay here, as with
   * textoverlay */
  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_SEGMENT:{
      const GstSegment *segment;

      gst_event_parse_segment (event, &segment);
      if (segment->format == GST_FORMAT_TIME) {
        g_mutex_lock (&self->text_lock);
        gst_segment_copy_into (segment, &self->text_segment);
        g_mutex_unlock (&self->text_lock);
      } else {
        GST_ELEMENT_WARNING (self, STREAM, FORMAT,
            ("The text stream is not timed; its captions are ignored."),
            ("text_sink segment in %s format, TIME needed",
                gst_format_get_name (segment->format)));
        ret = FALSE;
      }
      break;
    }
    case GST_EVENT_FLUSH_START:
      g_mutex_lock (&self->text_lock);
      self->text_flushing = TRUE;
      gst_vlm_overlay_clear_texts_locked (self);
      g_mutex_unlock (&self->text_lock);
      break;
    case GST_EVENT_FLUSH_STOP:
      g_mutex_lock (&self->text_lock);
      self->text_flushing = FALSE;
      gst_segment_init (&self->text_segment, GST_FORMAT_TIME);
      g_mutex_unlock (&self->text_lock);
      break;
    case GST_EVENT_EOS:
      /* the last text stays until its window ends or it fades */
    case GST_EVENT_CAPS:
    case GST_EVENT_STREAM_START:
    case GST_EVENT_GAP:
    default:
      break;
  }
  gst_event_unref (event);
  return ret;
}

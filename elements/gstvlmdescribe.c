/* gst-vlm — vlmdescribe element.
 * Copyright (C) 2025 gst-vlm authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/**
 * SECTION:element-vlmdescribe
 * @title: vlmdescribe
 *
 * Describes what the camera sees with a small vision-language model (VLM)
 * running on the device, for blind and low-vision users. The video passes
 * through untouched (same buffers, same memory); every buffer leaving the
 * element carries the latest caption as a #GstVlmCaptionMeta.
 *
 * Inference never runs on the streaming thread. A worker thread loads the
 * model after the element starts (the pipeline reaches PLAYING at once and
 * frames pass while it loads) and describes the most recent frame offered
 * to it through a single-frame slot: newer frames replace older ones,
 * nothing queues up. How often a frame is offered is limited by
 * #GstVlmDescribe:max-rate (measured on buffer timestamps), by the device
 * temperature (thermal-* properties) and by #GstVlmDescribe:scene-change-threshold.
 * With #GstVlmDescribe:continuous set to %FALSE no frame is described
 * until the `describe-now` action signal asks for one; that signal also
 * forces the next frame in continuous mode, past the rate limit and the
 * scene-change test (the "describe now" button of an app).
 * #GstVlmDescribe:drop-frames set to %FALSE is for files played as fast as
 * they decode: instead of dropping, the streaming thread then waits for
 * the model (its loading, then each due frame), so a file gets a caption
 * for every max-rate interval of its stream time.
 *
 * Each caption comes out, partial (as tokens stream) and final, through:
 * the meta on every following video buffer; element messages `vlm-caption`
 * (fields text, final, id, pts, latency) when #GstVlmDescribe:post-messages
 * is on; the #GstVlmDescribe::caption signal (emitted from the worker
 * thread); and the always pad `text_src` with `text/x-raw,format=utf8`
 * buffers stamped with the described frame's PTS (final captions, and
 * partial ones with #GstVlmDescribe:partial-text). The worker pushes on
 * `text_src`: put a `queue leaky=downstream` behind it when what follows
 * may block (textoverlay waits for video time to pass a text's end).
 *
 * On OpenGL video (`video/x-raw(memory:GLMemory)`, RGBA 2D textures, e.g.
 * after `glupload`) the model image is made on the GPU: the worker thread
 * renders the due frame's texture into a model-size square in one shader
 * pass (the same code and filter as the `vlmresize` element, matching the
 * CPU path within rounding) in the GL context that owns the texture, and
 * reads back only that small image (size x size x 4 bytes, 451584 for
 * 336 px). The GL frames pass through untouched; nothing runs on the GL
 * thread for frames that are not described. The `stats` fields gl-frames,
 * cpu-frames and download-bytes-last/-total show which path ran and what
 * was copied to the CPU; #GstVlmDescribe:last-image is the image the model
 * got.
 *
 * Other element messages: `vlm-model` (state loading/ready, progress,
 * model facts), `vlm-thermal` (state, temperature, factor, zone) on every
 * thermal state change, `vlm-skip` (pts, reason static-scene/thermal).
 *
 * Buffers that are not writable get the meta on a new #GstBuffer that
 * shares the memory of the original (gst_buffer_make_writable copies the
 * buffer structure and metas, never the pixels). The frame held for the
 * worker is a reference too, so an in-place writer downstream copies that
 * one frame's memory.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 videotestsrc is-live=true ! videoconvert ! \
 *     vlmdescribe model=text.gguf mmproj=mmproj.gguf name=d ! fakesink \
 *     d.text_src ! queue leaky=downstream ! fdsink
 * ]| Prints each final caption on stdout.
 * |[
 * gst-launch-1.0 -m v4l2src ! videoconvert ! vlmdescribe model=text.gguf \
 *     mmproj=mmproj.gguf max-rate=1/5 ! autovideosink
 * ]| Shows the camera and posts a vlm-caption message every 5 s at most.
 * |[
 * gst-launch-1.0 -m v4l2src ! glupload ! glcolorconvert ! \
 *     vlmdescribe model=text.gguf mmproj=mmproj.gguf ! glimagesink
 * ]| The same on the GPU: no full frame is ever copied to the CPU.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstvlmdescribe.h"
#include "gstvlmcaptionmeta.h"
#include "vlmframe.h"
#include "vlmthermal.h"
#include "vlm.h"

#include <gst/video/video.h>
#ifdef HAVE_GL
#include <gst/gl/gl.h>
#include "vlmglresize.h"
#endif
#include <math.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

GST_DEBUG_CATEGORY_STATIC (gst_vlm_describe_debug);
#define GST_CAT_DEFAULT gst_vlm_describe_debug

typedef enum {
  GST_VLM_DEVICE_AUTO = 0,
  GST_VLM_DEVICE_CPU,
  GST_VLM_DEVICE_GPU,
  GST_VLM_DEVICE_NPU,
} GstVlmDevice;

enum {
  PROP_0,
  PROP_MODEL,
  PROP_MMPROJ,
  PROP_PROMPT,
  PROP_MAX_RATE,
  PROP_MAX_TOKENS,
  PROP_TEMPERATURE,
  PROP_SEED,
  PROP_THREADS,
  PROP_DEVICE,
  PROP_SCENE_CHANGE_THRESHOLD,
  PROP_RESIZE_MODE,
  PROP_POST_MESSAGES,
  PROP_PARTIAL_TEXT,
  PROP_DRAIN_ON_EOS,
  PROP_THERMAL_ZONE,
  PROP_THERMAL_ROOT,
  PROP_THROTTLE_TEMP,
  PROP_COOLDOWN_TEMP,
  PROP_RESUME_TEMP,
  PROP_WORKER_NICE,
  PROP_CONTINUOUS,
  PROP_DROP_FRAMES,
  PROP_STATS,
  PROP_LAST_IMAGE,
};

enum {
  SIGNAL_CAPTION,
  SIGNAL_DESCRIBE_NOW,
  LAST_SIGNAL,
};

#define DEFAULT_PROP_MODEL NULL
#define DEFAULT_PROP_MMPROJ NULL
#define DEFAULT_PROP_PROMPT \
  "Describe the scene in front of me in one or two short sentences."
#define DEFAULT_PROP_MAX_RATE_N 1
#define DEFAULT_PROP_MAX_RATE_D 3
#define DEFAULT_PROP_MAX_TOKENS 64
#define DEFAULT_PROP_TEMPERATURE 0.2
#define DEFAULT_PROP_SEED 0
#define DEFAULT_PROP_THREADS 0
#define DEFAULT_PROP_DEVICE GST_VLM_DEVICE_AUTO
#define DEFAULT_PROP_SCENE_CHANGE_THRESHOLD 0.02
#define DEFAULT_PROP_RESIZE_MODE VLM_RESIZE_LETTERBOX
#define DEFAULT_PROP_POST_MESSAGES TRUE
#define DEFAULT_PROP_PARTIAL_TEXT FALSE
#define DEFAULT_PROP_DRAIN_ON_EOS TRUE
#define DEFAULT_PROP_THERMAL_ZONE NULL
#define DEFAULT_PROP_THERMAL_ROOT NULL
#define DEFAULT_PROP_THROTTLE_TEMP 70.0
#define DEFAULT_PROP_COOLDOWN_TEMP 85.0
#define DEFAULT_PROP_RESUME_TEMP 75.0
#define DEFAULT_PROP_WORKER_NICE 10
#define DEFAULT_PROP_CONTINUOUS TRUE
#define DEFAULT_PROP_DROP_FRAMES TRUE

/* The worker reads the thermal sensor at most once per second of stream
 * time (on the frame it is offered then). */
#define THERMAL_POLL_INTERVAL GST_SECOND
/* Shortest time a final caption stays on text_src past the current video
 * position. */
#define MIN_TEXT_HOLD (2 * GST_SECOND)

#define VIDEO_FORMATS "{ RGB, BGR, RGBA, BGRA, ARGB, ABGR, RGBx, BGRx, " \
  "xRGB, xBGR, I420, YV12, NV12, NV21, YUY2, UYVY, GRAY8 }"

/* GL video: RGBA 2D textures (glupload, glcolorconvert give them); system
 * memory first, so that plain pipelines negotiate as without GL. */
#ifdef HAVE_GL
#define GL_VIDEO_CAPS "; " GST_VIDEO_CAPS_MAKE_WITH_FEATURES \
  (GST_CAPS_FEATURE_MEMORY_GL_MEMORY, "RGBA") ", texture-target = (string) 2D"
#else
#define GL_VIDEO_CAPS ""
#endif

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS,
    GST_STATIC_CAPS (GST_VIDEO_CAPS_MAKE (VIDEO_FORMATS) GL_VIDEO_CAPS));

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS,
    GST_STATIC_CAPS (GST_VIDEO_CAPS_MAKE (VIDEO_FORMATS) GL_VIDEO_CAPS));

static GstStaticPadTemplate text_src_template =
GST_STATIC_PAD_TEMPLATE ("text_src", GST_PAD_SRC, GST_PAD_ALWAYS,
    GST_STATIC_CAPS ("text/x-raw, format=(string)utf8"));

/* A caption as published to the streaming thread (for the meta): an
 * immutable, atomically reference-counted snapshot. */
typedef struct {
  gchar *text;
  gboolean final;
  guint64 id;
  GstClockTime pts;
  GstClockTime latency;
} Caption;

struct _GstVlmDescribe {
  GstBaseTransform parent;

  GstPad *text_srcpad;

  /* Properties. Protected by GST_OBJECT_LOCK, which is never held
   * together with self->lock (take one, copy, release). */
  gchar *model_path;
  gchar *mmproj_path;
  gchar *prompt;
  gint rate_n, rate_d;
  gint max_tokens;
  gdouble temperature;
  guint64 seed;
  gint threads;
  GstVlmDevice device;
  gdouble scene_threshold;
  VlmResizeMode resize_mode;
  gboolean post_messages;
  gboolean partial_text;
  gboolean drain_on_eos;
  gchar *thermal_zone;
  gchar *thermal_root;
  gdouble throttle_temp, cooldown_temp, resume_temp;
  gint worker_nice;
  gboolean continuous;
  gboolean drop_frames;
  guint ctx_cookie;             /* bumped when a context parameter changes */

  /* Worker and frame slot. Protected by self->lock, a leaf lock: nothing
   * else is taken while it is held, and it is never held while pushing,
   * posting, emitting or calling into the engine, except vlm_abort and
   * vlm_abort_clear (atomic stores). Waits on self->cond. */
  GMutex lock;
  GCond cond;
  GThread *worker;
  gboolean stopping;            /* PAUSED->READY: the worker exits */
  gboolean flushing;            /* between FLUSH_START and FLUSH_STOP */
  gboolean eos;                 /* EOS seen: no more frames offered */
  gboolean loading;             /* the worker loads the model */
  gboolean ready;               /* model loaded: frames are offered */
  gboolean busy;                /* the worker works on a taken frame */
  guint flush_seq;              /* bumped at each FLUSH_START */
  vlm_context *ctx;             /* for vlm_abort; owned by the worker, which
                                   clears this before freeing it */
  GstBuffer *slot;              /* the latest frame offered, or NULL */
  gboolean slot_forced;         /* describe the slot's frame whatever the
                                   rate and scene (describe-now) */
  gboolean describe_requested;  /* describe-now: force the next frame */
  GstVideoInfo slot_info;
  gboolean slot_gl;             /* the slot's frame is GL memory */
  gint64 slot_arrival_us;       /* monotonic time the frame arrived */
  GstVideoInfo in_info;         /* negotiated input */
  gboolean have_info;
  gboolean in_gl;               /* negotiated caps are GLMemory */
  GstClockTime last_considered; /* PTS of the last frame described or
                                   skipped as static; NONE after a flush */
  GstClockTime next_poll;       /* PTS from which the sensor is due */
  gboolean thermal_active;
  gboolean thermal_paused;
  gdouble thermal_factor;
  gboolean reset_scene;         /* forget the last described image */
  GstClockTime last_seen_pts;
  Caption *latest;              /* for the meta, NULL until the first */
  guint64 next_id;
  GQueue text_events;           /* serialized events for text_src, pushed
                                   by the worker (the only pusher there) */
  /* statistics */
  guint64 n_frames, n_offered, n_throttled, n_described, n_captions,
      n_aborted, n_skipped_static, n_skipped_thermal;
  guint64 submit_ns_sum, submit_ns_max, n_submit;
  gdouble convert_ms_last, convert_ms_max;
  gdouble first_token_ms_last, final_ms_last;
  vlm_stats engine_stats;
  guint64 n_gl_frames, n_cpu_frames;    /* frames converted on GPU / CPU */
  guint64 download_bytes_last, download_bytes_total;
  GstSample *last_image;        /* the model's last input image */

#ifdef HAVE_GL
  /* GL display and contexts of the surroundings (GstGLBaseFilter's
   * handling), GST_OBJECT_LOCK. Frames are rendered in the context that
   * owns their texture. */
  GstGLDisplay *gl_display;
  GstGLContext *gl_other_context;       /* the application's */
  GstGLContext *gl_context;             /* upstream's, once known */
#endif
};

/* Per-caption state of the worker while vlm_describe runs. */
typedef struct {
  GstVlmDescribe *self;
  guint64 id;
  GstClockTime pts;
  gint64 arrival_us;
  GString *text;
  gboolean first;
  gboolean post_messages;
  gboolean partial_text;
  GstClockTime hold;
} DescribeRun;

static guint gst_vlm_describe_signals[LAST_SIGNAL];

#define gst_vlm_describe_parent_class parent_class
G_DEFINE_TYPE_WITH_CODE (GstVlmDescribe, gst_vlm_describe,
    GST_TYPE_BASE_TRANSFORM,
    GST_DEBUG_CATEGORY_INIT (gst_vlm_describe_debug, "vlmdescribe", 0,
        "vlmdescribe: scene description with a vision-language model"));
GST_ELEMENT_REGISTER_DEFINE (vlmdescribe, "vlmdescribe", GST_RANK_NONE,
    GST_TYPE_VLM_DESCRIBE);

static void gst_vlm_describe_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec);
static void gst_vlm_describe_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec);
static void gst_vlm_describe_finalize (GObject * object);
static GstStateChangeReturn gst_vlm_describe_change_state (GstElement *
    element, GstStateChange transition);
static gboolean gst_vlm_describe_start (GstBaseTransform * trans);
static gboolean gst_vlm_describe_stop (GstBaseTransform * trans);
static gboolean gst_vlm_describe_set_caps (GstBaseTransform * trans,
    GstCaps * incaps, GstCaps * outcaps);
static gboolean gst_vlm_describe_sink_event (GstBaseTransform * trans,
    GstEvent * event);
static gboolean gst_vlm_describe_query (GstBaseTransform * trans,
    GstPadDirection direction, GstQuery * query);
static void gst_vlm_describe_set_context (GstElement * element,
    GstContext * context);
static GstFlowReturn gst_vlm_describe_prepare_output_buffer (GstBaseTransform
    * trans, GstBuffer * inbuf, GstBuffer ** outbuf);
static GstFlowReturn gst_vlm_describe_transform_ip (GstBaseTransform * trans,
    GstBuffer * buf);
static gpointer gst_vlm_describe_worker (gpointer data);
static void gst_vlm_describe_describe_now (GstVlmDescribe * self);

#define GST_TYPE_VLM_DEVICE (gst_vlm_device_get_type ())
static GType
gst_vlm_device_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_VLM_DEVICE_AUTO, "The best device present (here: the CPU)", "auto"},
    {GST_VLM_DEVICE_CPU, "CPU", "cpu"},
    {GST_VLM_DEVICE_GPU, "GPU (not in this build)", "gpu"},
    {GST_VLM_DEVICE_NPU, "NPU (not in this build)", "npu"},
    {0, NULL, NULL},
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstVlmDevice", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

GType
gst_vlm_resize_mode_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {VLM_RESIZE_LETTERBOX, "Whole frame, aspect kept, grey bars",
        "letterbox"},
    {VLM_RESIZE_CROP, "Centre square, aspect kept, sides cut", "crop"},
    {VLM_RESIZE_STRETCH, "Whole frame, stretched to a square", "stretch"},
    {0, NULL, NULL},
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstVlmResizeMode", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

static void
gst_vlm_describe_class_init (GstVlmDescribeClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS;

  gobject_class->set_property = gst_vlm_describe_set_property;
  gobject_class->get_property = gst_vlm_describe_get_property;
  gobject_class->finalize = gst_vlm_describe_finalize;

  g_object_class_install_property (gobject_class, PROP_MODEL,
      g_param_spec_string ("model", "Text model",
          "Path of the text model GGUF file (llama architecture); read when "
          "the element starts", DEFAULT_PROP_MODEL,
          rw | GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_MMPROJ,
      g_param_spec_string ("mmproj", "Vision projector",
          "Path of the vision projector (mmproj) GGUF file that belongs to "
          "the text model; read when the element starts", DEFAULT_PROP_MMPROJ,
          rw | GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_PROMPT,
      g_param_spec_string ("prompt", "Prompt",
          "Question asked about each frame; a change applies to the next "
          "caption", DEFAULT_PROP_PROMPT, rw | GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_MAX_RATE,
      gst_param_spec_fraction ("max-rate", "Maximum caption rate",
          "Most captions started per second of stream time (buffer "
          "timestamps); 0/1 = as fast as the model goes", 0, 1, 1000, 1,
          DEFAULT_PROP_MAX_RATE_N, DEFAULT_PROP_MAX_RATE_D,
          rw | GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_MAX_TOKENS,
      g_param_spec_int ("max-tokens", "Maximum tokens",
          "Most tokens generated per caption (tokens)", 1, 4096,
          DEFAULT_PROP_MAX_TOKENS, rw | GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_TEMPERATURE,
      g_param_spec_double ("temperature", "Temperature",
          "Sampling temperature (0 = greedy, always the likeliest token)",
          0.0, 2.0, DEFAULT_PROP_TEMPERATURE, rw | GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_SEED,
      g_param_spec_uint64 ("seed", "Seed",
          "Seed of the sampler's random numbers", 0, G_MAXUINT64,
          DEFAULT_PROP_SEED, rw | GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_THREADS,
      g_param_spec_int ("threads", "Threads",
          "Inference threads (0 = one per online CPU)", 0, 256,
          DEFAULT_PROP_THREADS, rw | GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_DEVICE,
      g_param_spec_enum ("device", "Device",
          "Where inference runs; this build has the CPU only: gpu and npu "
          "fail to start with an error", GST_TYPE_VLM_DEVICE,
          DEFAULT_PROP_DEVICE, rw | GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_SCENE_CHANGE_THRESHOLD,
      g_param_spec_double ("scene-change-threshold", "Scene change threshold",
          "Skip a frame whose mean luma difference from the last described "
          "frame (fraction of full scale, on a 16x16 grid) is below this; "
          "0 = describe every due frame", 0.0, 1.0,
          DEFAULT_PROP_SCENE_CHANGE_THRESHOLD,
          rw | GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_RESIZE_MODE,
      g_param_spec_enum ("resize-mode", "Resize mode",
          "How a frame is fitted to the model's square input image",
          GST_TYPE_VLM_RESIZE_MODE, DEFAULT_PROP_RESIZE_MODE,
          rw | GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_POST_MESSAGES,
      g_param_spec_boolean ("post-messages", "Post messages",
          "Post vlm-caption (partial and final) and vlm-skip element "
          "messages", DEFAULT_PROP_POST_MESSAGES,
          rw | GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_PARTIAL_TEXT,
      g_param_spec_boolean ("partial-text", "Partial text",
          "Also push partial captions (as tokens stream) on text_src; "
          "final captions are always pushed", DEFAULT_PROP_PARTIAL_TEXT,
          rw | GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_DRAIN_ON_EOS,
      g_param_spec_boolean ("drain-on-eos", "Drain on EOS",
          "At EOS wait for the caption in flight (TRUE) or cancel it (FALSE)",
          DEFAULT_PROP_DRAIN_ON_EOS, rw | GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_THERMAL_ZONE,
      g_param_spec_string ("thermal-zone", "Thermal zone",
          "Sensor: zone type (x86_pkg_temp), zone directory (thermal_zone3) "
          "or path of a temp file; NULL = the hottest CPU-like zone",
          DEFAULT_PROP_THERMAL_ZONE, rw | GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_THERMAL_ROOT,
      g_param_spec_string ("thermal-root", "Thermal sysfs root",
          "Directory holding the thermal_zoneN directories; NULL = "
          "/sys/class/thermal (other values for tests)",
          DEFAULT_PROP_THERMAL_ROOT, rw | GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_THROTTLE_TEMP,
      g_param_spec_double ("throttle-temp", "Throttle temperature",
          "From this temperature (degrees Celsius) the caption rate falls "
          "smoothly", -100.0, 200.0, DEFAULT_PROP_THROTTLE_TEMP,
          rw | GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_COOLDOWN_TEMP,
      g_param_spec_double ("cooldown-temp", "Cool-down temperature",
          "At this temperature (degrees Celsius) inference pauses until the "
          "sensor falls below resume-temp; must exceed throttle-temp",
          -100.0, 200.0, DEFAULT_PROP_COOLDOWN_TEMP,
          rw | GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_RESUME_TEMP,
      g_param_spec_double ("resume-temp", "Resume temperature",
          "After a cool-down pause inference resumes below this temperature "
          "(degrees Celsius); must be below cooldown-temp", -100.0, 200.0,
          DEFAULT_PROP_RESUME_TEMP, rw | GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_WORKER_NICE,
      g_param_spec_int ("worker-nice", "Worker niceness",
          "CPU niceness of the inference threads (0 = like the pipeline, "
          "19 = lowest), so that the video keeps its frame rate", 0, 19,
          DEFAULT_PROP_WORKER_NICE, rw | GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_CONTINUOUS,
      g_param_spec_boolean ("continuous", "Continuous narration",
          "Caption frames at max-rate (TRUE) or only when asked with the "
          "describe-now action signal (FALSE)", DEFAULT_PROP_CONTINUOUS,
          rw | GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_DROP_FRAMES,
      g_param_spec_boolean ("drop-frames", "Drop frames",
          "TRUE (live sources): a frame that is due while the model is busy "
          "replaces the one waiting, frames never wait; FALSE (files "
          "played as fast as possible): the streaming thread waits for the "
          "model to load and to take each due frame, so every due frame is "
          "described and the pipeline runs at the model's pace",
          DEFAULT_PROP_DROP_FRAMES, rw | GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_STATS,
      g_param_spec_boxed ("stats", "Statistics",
          "Counters (frames, offered, throttled, described, captions, "
          "aborted, skipped-static, skipped-thermal), submit-ns-mean/max "
          "(streaming-thread cost of a frame, ns), convert-ms-last/max, "
          "first-token-ms-last, final-ms-last (from frame arrival), the "
          "frames converted on the GPU and the CPU (gl-frames, cpu-frames), "
          "the bytes copied from GPU to CPU memory (download-bytes-last: of "
          "the last converted frame, download-bytes-total) and the "
          "engine's figures of the last caption", GST_TYPE_STRUCTURE,
          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_LAST_IMAGE,
      g_param_spec_boxed ("last-image", "Last model image",
          "The image the model got for the last described frame: packed "
          "RGB, the model's input size square (e.g. 336 x 336 pixels), "
          "stamped with the frame's PTS; NULL before the first caption. "
          "For checks and debugging (what did the model see?)",
          GST_TYPE_SAMPLE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  /**
   * GstVlmDescribe::caption:
   * @self: the element
   * @text: the caption so far
   * @final: whether it is complete
   * @id: caption number (from 1)
   * @pts: PTS of the described frame
   * @latency: nanoseconds from the frame's arrival to this text
   *
   * Emitted from the worker thread for each partial and final caption.
   */
  gst_vlm_describe_signals[SIGNAL_CAPTION] =
      g_signal_new ("caption", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
      0, NULL, NULL, NULL, G_TYPE_NONE, 5, G_TYPE_STRING, G_TYPE_BOOLEAN,
      G_TYPE_UINT64, G_TYPE_UINT64, G_TYPE_UINT64);

  /**
   * GstVlmDescribe::describe-now:
   * @describe: the element
   *
   * Action signal: describes the next frame whatever #GstVlmDescribe:max-rate,
   * #GstVlmDescribe:continuous and the scene-change threshold say (not
   * during a thermal cool-down pause). A caption in progress is finished
   * first. Asked before the model is ready, it applies to the first frame
   * after. Callable from any thread.
   */
  gst_vlm_describe_signals[SIGNAL_DESCRIBE_NOW] =
      g_signal_new_class_handler ("describe-now", G_TYPE_FROM_CLASS (klass),
      G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION,
      G_CALLBACK (gst_vlm_describe_describe_now), NULL, NULL, NULL,
      G_TYPE_NONE, 0);

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_add_static_pad_template (element_class,
      &text_src_template);
  gst_element_class_set_static_metadata (element_class,
      "Scene description with a vision-language model",
      "Filter/Analyzer/Video",
      "Describes the video's scene with an on-device VLM: captions as "
      "buffer meta, messages, a signal and a text pad; the video passes "
      "untouched. Example: gst-launch-1.0 -m videotestsrc is-live=true ! "
      "vlmdescribe model=text.gguf mmproj=mmproj.gguf ! autovideosink",
      "gst-vlm authors");

  element_class->change_state =
      GST_DEBUG_FUNCPTR (gst_vlm_describe_change_state);
  element_class->set_context =
      GST_DEBUG_FUNCPTR (gst_vlm_describe_set_context);

  trans_class->passthrough_on_same_caps = FALSE;
  trans_class->transform_ip_on_passthrough = TRUE;
  trans_class->start = GST_DEBUG_FUNCPTR (gst_vlm_describe_start);
  trans_class->stop = GST_DEBUG_FUNCPTR (gst_vlm_describe_stop);
  trans_class->set_caps = GST_DEBUG_FUNCPTR (gst_vlm_describe_set_caps);
  trans_class->sink_event = GST_DEBUG_FUNCPTR (gst_vlm_describe_sink_event);
  trans_class->query = GST_DEBUG_FUNCPTR (gst_vlm_describe_query);
  trans_class->prepare_output_buffer =
      GST_DEBUG_FUNCPTR (gst_vlm_describe_prepare_output_buffer);
  trans_class->transform_ip = GST_DEBUG_FUNCPTR (gst_vlm_describe_transform_ip);

  gst_type_mark_as_plugin_api (GST_TYPE_VLM_DEVICE, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_VLM_RESIZE_MODE, 0);
}

static void
gst_vlm_describe_init (GstVlmDescribe * self)
{
  GstBaseTransform *trans = GST_BASE_TRANSFORM (self);

  gst_base_transform_set_in_place (trans, TRUE);
  gst_base_transform_set_passthrough (trans, TRUE);

  self->text_srcpad =
      gst_pad_new_from_static_template (&text_src_template, "text_src");
  gst_pad_use_fixed_caps (self->text_srcpad);
  gst_element_add_pad (GST_ELEMENT (self), self->text_srcpad);

  self->model_path = g_strdup (DEFAULT_PROP_MODEL);
  self->mmproj_path = g_strdup (DEFAULT_PROP_MMPROJ);
  self->prompt = g_strdup (DEFAULT_PROP_PROMPT);
  self->rate_n = DEFAULT_PROP_MAX_RATE_N;
  self->rate_d = DEFAULT_PROP_MAX_RATE_D;
  self->max_tokens = DEFAULT_PROP_MAX_TOKENS;
  self->temperature = DEFAULT_PROP_TEMPERATURE;
  self->seed = DEFAULT_PROP_SEED;
  self->threads = DEFAULT_PROP_THREADS;
  self->device = DEFAULT_PROP_DEVICE;
  self->scene_threshold = DEFAULT_PROP_SCENE_CHANGE_THRESHOLD;
  self->resize_mode = DEFAULT_PROP_RESIZE_MODE;
  self->post_messages = DEFAULT_PROP_POST_MESSAGES;
  self->partial_text = DEFAULT_PROP_PARTIAL_TEXT;
  self->drain_on_eos = DEFAULT_PROP_DRAIN_ON_EOS;
  self->thermal_zone = g_strdup (DEFAULT_PROP_THERMAL_ZONE);
  self->thermal_root = g_strdup (DEFAULT_PROP_THERMAL_ROOT);
  self->throttle_temp = DEFAULT_PROP_THROTTLE_TEMP;
  self->cooldown_temp = DEFAULT_PROP_COOLDOWN_TEMP;
  self->resume_temp = DEFAULT_PROP_RESUME_TEMP;
  self->worker_nice = DEFAULT_PROP_WORKER_NICE;
  self->continuous = DEFAULT_PROP_CONTINUOUS;
  self->drop_frames = DEFAULT_PROP_DROP_FRAMES;

  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  g_queue_init (&self->text_events);
  self->last_considered = GST_CLOCK_TIME_NONE;
  self->next_poll = GST_CLOCK_TIME_NONE;
  self->last_seen_pts = GST_CLOCK_TIME_NONE;
  self->thermal_factor = 1.0;
}

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

static void
caption_clear (Caption * c)
{
  g_free (c->text);
}

static Caption *
caption_new (const gchar * text, gboolean final, guint64 id,
    GstClockTime pts, GstClockTime latency)
{
  Caption *c = g_atomic_rc_box_new0 (Caption);

  c->text = g_strdup (text);
  c->final = final;
  c->id = id;
  c->pts = pts;
  c->latency = latency;
  return c;
}

static void
caption_unref (Caption * c)
{
  if (c)
    g_atomic_rc_box_release_full (c, (GDestroyNotify) caption_clear);
}

static guint64
now_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (guint64) ts.tv_sec * 1000000000u + (guint64) ts.tv_nsec;
}

/* Interval between captions at rate n/d scaled by factor; 0 = no limit,
 * NONE = never (factor 0). */
static GstClockTime
caption_interval (gint n, gint d, gdouble factor)
{
  if (n <= 0)
    return 0;
  if (factor <= 0.0)
    return GST_CLOCK_TIME_NONE;
  return (GstClockTime) ((gdouble) gst_util_uint64_scale_int (GST_SECOND, d,
          n) / MIN (factor, 1.0));
}

/* Whether a frame at pts is due for a caption. self->lock held. */
static gboolean
frame_due_locked (GstVlmDescribe * self, GstClockTime pts, gint n, gint d)
{
  GstClockTime interval;

  if (self->thermal_paused)
    return FALSE;
  if (!GST_CLOCK_TIME_IS_VALID (pts)
      || !GST_CLOCK_TIME_IS_VALID (self->last_considered))
    return TRUE;
  interval = caption_interval (n, d, self->thermal_factor);
  if (!GST_CLOCK_TIME_IS_VALID (interval))
    return FALSE;
  return pts >= self->last_considered + interval;
}

/* Empties the frame slot. self->lock held; returns the buffer (to
 * unref outside the lock). With forced NULL the frame is dropped, and a
 * describe-now request it carried waits for the next frame; else
 * *forced tells whether it was forced. */
static GstBuffer *
take_slot_locked (GstVlmDescribe * self, gboolean * forced)
{
  GstBuffer *b = self->slot;

  if (forced != NULL)
    *forced = self->slot_forced;
  else if (self->slot_forced)
    self->describe_requested = TRUE;
  self->slot = NULL;
  self->slot_forced = FALSE;
  return b;
}

/* drop-frames = FALSE: waits while the model loads and, for a frame that
 * is due, until the worker is free to take it. self->lock held; wakes on
 * the worker's broadcasts, a flush and a stop. */
static void
wait_for_worker_locked (GstVlmDescribe * self, GstClockTime pts, gint n,
    gint d, gboolean continuous)
{
  while (!self->flushing && !self->stopping && !self->eos) {
    gboolean due;

    if (!self->loading) {
      if (!self->ready)
        return;
      due = self->describe_requested
          || (continuous && frame_due_locked (self, pts, n, d));
      if (!due || (!self->busy && self->slot == NULL))
        return;
    }
    g_cond_wait (&self->cond, &self->lock);
  }
}

/* Queues a serialized event for text_src (takes it) and wakes the
 * worker, which pushes it. */
static void
queue_text_event (GstVlmDescribe * self, GstEvent * event)
{
  g_mutex_lock (&self->lock);
  g_queue_push_tail (&self->text_events, event);
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
}

/* Worker: pushes the queued text_src events. Takes self->lock briefly
 * for each event, pushes without it. */
static void
push_text_events (GstVlmDescribe * self)
{
  for (;;) {
    GstEvent *ev;

    g_mutex_lock (&self->lock);
    ev = g_queue_pop_head (&self->text_events);
    g_mutex_unlock (&self->lock);
    if (ev == NULL)
      break;
    GST_DEBUG_OBJECT (self, "text_src: %" GST_PTR_FORMAT, ev);
    gst_pad_push_event (self->text_srcpad, ev);
  }
}

static void
post_element_message (GstVlmDescribe * self, GstStructure * s)
{
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self), s));
}

/* ------------------------------------------------------------------ */
/* Properties                                                          */
/* ------------------------------------------------------------------ */

static GstStructure *
make_stats (GstVlmDescribe * self)
{
  GstStructure *s;

  g_mutex_lock (&self->lock);
  s = gst_structure_new ("vlm-stats",
      "frames", G_TYPE_UINT64, self->n_frames,
      "offered", G_TYPE_UINT64, self->n_offered,
      "throttled", G_TYPE_UINT64, self->n_throttled,
      "described", G_TYPE_UINT64, self->n_described,
      "captions", G_TYPE_UINT64, self->n_captions,
      "aborted", G_TYPE_UINT64, self->n_aborted,
      "skipped-static", G_TYPE_UINT64, self->n_skipped_static,
      "skipped-thermal", G_TYPE_UINT64, self->n_skipped_thermal,
      "submit-ns-mean", G_TYPE_UINT64,
      self->n_submit ? self->submit_ns_sum / self->n_submit : 0,
      "submit-ns-max", G_TYPE_UINT64, self->submit_ns_max,
      "convert-ms-last", G_TYPE_DOUBLE, self->convert_ms_last,
      "convert-ms-max", G_TYPE_DOUBLE, self->convert_ms_max,
      "first-token-ms-last", G_TYPE_DOUBLE, self->first_token_ms_last,
      "final-ms-last", G_TYPE_DOUBLE, self->final_ms_last,
      "engine-encode-ms", G_TYPE_DOUBLE, self->engine_stats.encode_ms,
      "engine-prefill-ms", G_TYPE_DOUBLE, self->engine_stats.prefill_ms,
      "engine-decode-ms", G_TYPE_DOUBLE, self->engine_stats.decode_ms,
      "engine-first-token-ms", G_TYPE_DOUBLE,
      self->engine_stats.first_token_ms,
      "engine-n-prompt", G_TYPE_INT, self->engine_stats.n_prompt,
      "engine-n-prompt-reused", G_TYPE_INT, self->engine_stats.n_prompt_reused,
      "engine-n-generated", G_TYPE_INT, self->engine_stats.n_generated,
      "gl-frames", G_TYPE_UINT64, self->n_gl_frames,
      "cpu-frames", G_TYPE_UINT64, self->n_cpu_frames,
      "download-bytes-last", G_TYPE_UINT64, self->download_bytes_last,
      "download-bytes-total", G_TYPE_UINT64, self->download_bytes_total, NULL);
  g_mutex_unlock (&self->lock);
  return s;
}

static void
gst_vlm_describe_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstVlmDescribe *self = GST_VLM_DESCRIBE (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_MODEL:
      g_free (self->model_path);
      self->model_path = g_value_dup_string (value);
      break;
    case PROP_MMPROJ:
      g_free (self->mmproj_path);
      self->mmproj_path = g_value_dup_string (value);
      break;
    case PROP_PROMPT:
      g_free (self->prompt);
      self->prompt = g_value_dup_string (value);
      if (self->prompt == NULL)
        self->prompt = g_strdup (DEFAULT_PROP_PROMPT);
      break;
    case PROP_MAX_RATE:
      self->rate_n = gst_value_get_fraction_numerator (value);
      self->rate_d = gst_value_get_fraction_denominator (value);
      break;
    case PROP_MAX_TOKENS:
      self->max_tokens = g_value_get_int (value);
      self->ctx_cookie++;
      break;
    case PROP_TEMPERATURE:
      self->temperature = g_value_get_double (value);
      self->ctx_cookie++;
      break;
    case PROP_SEED:
      self->seed = g_value_get_uint64 (value);
      self->ctx_cookie++;
      break;
    case PROP_THREADS:
      self->threads = g_value_get_int (value);
      self->ctx_cookie++;
      break;
    case PROP_DEVICE:
      self->device = g_value_get_enum (value);
      break;
    case PROP_SCENE_CHANGE_THRESHOLD:
      self->scene_threshold = g_value_get_double (value);
      break;
    case PROP_RESIZE_MODE:
      self->resize_mode = g_value_get_enum (value);
      break;
    case PROP_POST_MESSAGES:
      self->post_messages = g_value_get_boolean (value);
      break;
    case PROP_PARTIAL_TEXT:
      self->partial_text = g_value_get_boolean (value);
      break;
    case PROP_DRAIN_ON_EOS:
      self->drain_on_eos = g_value_get_boolean (value);
      break;
    case PROP_THERMAL_ZONE:
      g_free (self->thermal_zone);
      self->thermal_zone = g_value_dup_string (value);
      break;
    case PROP_THERMAL_ROOT:
      g_free (self->thermal_root);
      self->thermal_root = g_value_dup_string (value);
      break;
    case PROP_THROTTLE_TEMP:
      self->throttle_temp = g_value_get_double (value);
      break;
    case PROP_COOLDOWN_TEMP:
      self->cooldown_temp = g_value_get_double (value);
      break;
    case PROP_RESUME_TEMP:
      self->resume_temp = g_value_get_double (value);
      break;
    case PROP_WORKER_NICE:
      self->worker_nice = g_value_get_int (value);
      break;
    case PROP_CONTINUOUS:
      self->continuous = g_value_get_boolean (value);
      break;
    case PROP_DROP_FRAMES:
      self->drop_frames = g_value_get_boolean (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_vlm_describe_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstVlmDescribe *self = GST_VLM_DESCRIBE (object);

  if (prop_id == PROP_STATS) {
    /* self->lock, not the object lock */
    g_value_take_boxed (value, make_stats (self));
    return;
  }
  if (prop_id == PROP_LAST_IMAGE) {
    g_mutex_lock (&self->lock);
    g_value_set_boxed (value, self->last_image);
    g_mutex_unlock (&self->lock);
    return;
  }

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_MODEL:
      g_value_set_string (value, self->model_path);
      break;
    case PROP_MMPROJ:
      g_value_set_string (value, self->mmproj_path);
      break;
    case PROP_PROMPT:
      g_value_set_string (value, self->prompt);
      break;
    case PROP_MAX_RATE:
      gst_value_set_fraction (value, self->rate_n, self->rate_d);
      break;
    case PROP_MAX_TOKENS:
      g_value_set_int (value, self->max_tokens);
      break;
    case PROP_TEMPERATURE:
      g_value_set_double (value, self->temperature);
      break;
    case PROP_SEED:
      g_value_set_uint64 (value, self->seed);
      break;
    case PROP_THREADS:
      g_value_set_int (value, self->threads);
      break;
    case PROP_DEVICE:
      g_value_set_enum (value, self->device);
      break;
    case PROP_SCENE_CHANGE_THRESHOLD:
      g_value_set_double (value, self->scene_threshold);
      break;
    case PROP_RESIZE_MODE:
      g_value_set_enum (value, self->resize_mode);
      break;
    case PROP_POST_MESSAGES:
      g_value_set_boolean (value, self->post_messages);
      break;
    case PROP_PARTIAL_TEXT:
      g_value_set_boolean (value, self->partial_text);
      break;
    case PROP_DRAIN_ON_EOS:
      g_value_set_boolean (value, self->drain_on_eos);
      break;
    case PROP_THERMAL_ZONE:
      g_value_set_string (value, self->thermal_zone);
      break;
    case PROP_THERMAL_ROOT:
      g_value_set_string (value, self->thermal_root);
      break;
    case PROP_THROTTLE_TEMP:
      g_value_set_double (value, self->throttle_temp);
      break;
    case PROP_COOLDOWN_TEMP:
      g_value_set_double (value, self->cooldown_temp);
      break;
    case PROP_RESUME_TEMP:
      g_value_set_double (value, self->resume_temp);
      break;
    case PROP_WORKER_NICE:
      g_value_set_int (value, self->worker_nice);
      break;
    case PROP_CONTINUOUS:
      g_value_set_boolean (value, self->continuous);
      break;
    case PROP_DROP_FRAMES:
      g_value_set_boolean (value, self->drop_frames);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_vlm_describe_finalize (GObject * object)
{
  GstVlmDescribe *self = GST_VLM_DESCRIBE (object);

  g_free (self->model_path);
  g_free (self->mmproj_path);
  g_free (self->prompt);
  g_free (self->thermal_zone);
  g_free (self->thermal_root);
  caption_unref (self->latest);
  gst_clear_buffer (&self->slot);
  if (self->last_image)
    gst_sample_unref (self->last_image);
#ifdef HAVE_GL
  gst_clear_object (&self->gl_display);
  gst_clear_object (&self->gl_other_context);
  gst_clear_object (&self->gl_context);
#endif
  g_queue_clear_full (&self->text_events, (GDestroyNotify) gst_event_unref);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);

  G_OBJECT_CLASS (parent_class)->finalize (object);
}

/* ------------------------------------------------------------------ */
/* State changes                                                       */
/* ------------------------------------------------------------------ */

static GstStateChangeReturn
gst_vlm_describe_change_state (GstElement * element, GstStateChange transition)
{
  GstVlmDescribe *self = GST_VLM_DESCRIBE (element);
  GstStateChangeReturn ret;

  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY) {
    /* Before the pads deactivate (which waits for the streaming thread):
     * release the streaming thread from any wait of ours and stop the
     * inference in flight within one transformer layer. */
    g_mutex_lock (&self->lock);
    self->stopping = TRUE;
    if (self->ctx)
      vlm_abort (self->ctx);
    g_cond_broadcast (&self->cond);
    g_mutex_unlock (&self->lock);
  }

  ret = GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);

#ifdef HAVE_GL
  if (transition == GST_STATE_CHANGE_READY_TO_NULL) {
    GstGLDisplay *display;
    GstGLContext *other, *context;

    GST_OBJECT_LOCK (self);
    display = g_steal_pointer (&self->gl_display);
    other = g_steal_pointer (&self->gl_other_context);
    context = g_steal_pointer (&self->gl_context);
    GST_OBJECT_UNLOCK (self);
    gst_clear_object (&display);
    gst_clear_object (&other);
    gst_clear_object (&context);
  }
#endif
  return ret;
}

static gboolean
gst_vlm_describe_start (GstBaseTransform * trans)
{
  GstVlmDescribe *self = GST_VLM_DESCRIBE (trans);
  GstVlmDevice device;
  gboolean have_paths;
  gdouble throttle, cooldown, resume;
  GError *err = NULL;

  GST_OBJECT_LOCK (self);
  device = self->device;
  have_paths = self->model_path && *self->model_path
      && self->mmproj_path && *self->mmproj_path;
  throttle = self->throttle_temp;
  cooldown = self->cooldown_temp;
  resume = self->resume_temp;
  GST_OBJECT_UNLOCK (self);

  if (device == GST_VLM_DEVICE_GPU || device == GST_VLM_DEVICE_NPU)
    goto no_device;
  if (!have_paths)
    goto no_model;
  if (!(throttle < cooldown && resume < cooldown))
    goto bad_temps;

  g_mutex_lock (&self->lock);
  self->stopping = FALSE;
  self->flushing = FALSE;
  self->eos = FALSE;
  self->loading = TRUE;
  self->ready = FALSE;
  self->busy = FALSE;
  self->last_considered = GST_CLOCK_TIME_NONE;
  self->next_poll = GST_CLOCK_TIME_NONE;
  self->last_seen_pts = GST_CLOCK_TIME_NONE;
  self->thermal_active = FALSE;
  self->thermal_paused = FALSE;
  self->thermal_factor = 1.0;
  self->reset_scene = TRUE;
  self->have_info = FALSE;
  self->next_id = 0;
  self->n_frames = self->n_offered = self->n_throttled = 0;
  self->n_described = self->n_captions = self->n_aborted = 0;
  self->n_skipped_static = self->n_skipped_thermal = 0;
  self->submit_ns_sum = self->submit_ns_max = self->n_submit = 0;
  self->convert_ms_last = self->convert_ms_max = 0;
  self->first_token_ms_last = self->final_ms_last = 0;
  memset (&self->engine_stats, 0, sizeof self->engine_stats);
  self->n_gl_frames = self->n_cpu_frames = 0;
  self->download_bytes_last = self->download_bytes_total = 0;
  if (self->last_image)
    gst_sample_unref (self->last_image);
  self->last_image = NULL;
  g_mutex_unlock (&self->lock);

  self->worker = g_thread_try_new ("vlmdescribe", gst_vlm_describe_worker,
      self, &err);
  if (self->worker == NULL)
    goto no_thread;
  return TRUE;

  /* ERRORS */
no_device:
  {
    const gchar *name = device == GST_VLM_DEVICE_GPU ? "gpu" : "npu";

    GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND,
        ("The %s device was asked for, but this build of vlmdescribe runs "
            "on the CPU only. Use device=cpu or device=auto.", name),
        ("start(): device=%s: no %s backend compiled in", name, name));
    return FALSE;
  }
no_model:
  {
    GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND,
        ("No model given: set the \"model\" (text model GGUF) and \"mmproj\" "
            "(vision projector GGUF) properties."),
        ("start(): model or mmproj property empty"));
    return FALSE;
  }
bad_temps:
  {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("The thermal settings are inconsistent: throttle-temp and "
            "resume-temp must be below cooldown-temp."),
        ("start(): throttle %.1f, cooldown %.1f, resume %.1f", throttle,
            cooldown, resume));
    return FALSE;
  }
no_thread:
  {
    GST_ELEMENT_ERROR (self, RESOURCE, FAILED,
        ("Could not start the description thread."),
        ("g_thread_try_new() failed: %s", err->message));
    g_clear_error (&err);
    return FALSE;
  }
}

static gboolean
gst_vlm_describe_stop (GstBaseTransform * trans)
{
  GstVlmDescribe *self = GST_VLM_DESCRIBE (trans);
  GstBuffer *old;

  g_mutex_lock (&self->lock);
  self->stopping = TRUE;
  if (self->ctx)
    vlm_abort (self->ctx);
  old = take_slot_locked (self, NULL);
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
  gst_clear_buffer (&old);

  if (self->worker) {
    g_thread_join (self->worker);
    self->worker = NULL;
  }

  g_mutex_lock (&self->lock);
  self->ready = FALSE;
  self->loading = FALSE;
  caption_unref (self->latest);
  self->latest = NULL;
  g_queue_clear_full (&self->text_events, (GDestroyNotify) gst_event_unref);
  g_mutex_unlock (&self->lock);
  return TRUE;
}

/* ------------------------------------------------------------------ */
/* Streaming thread                                                    */
/* ------------------------------------------------------------------ */

#ifdef HAVE_GL
/* The GL display of the surroundings (or the application's) and
 * upstream's context, as GstGLBaseFilter finds them; for context queries
 * of other elements. Streaming thread, on GL caps. */
static void
gl_find_context (GstVlmDescribe * self)
{
  GstGLContext *context;

  /* As in GstGLBaseFilter: the neighbours' answers arrive through
   * set_context, which fills these very fields. */
  if (!gst_gl_ensure_element_data (self, &self->gl_display,
          &self->gl_other_context))
    GST_DEBUG_OBJECT (self, "no GL display from the surroundings");

  GST_OBJECT_LOCK (self);
  context = self->gl_context ? gst_object_ref (self->gl_context) : NULL;
  GST_OBJECT_UNLOCK (self);
  if (context == NULL
      && !gst_gl_query_local_gl_context (GST_ELEMENT (self), GST_PAD_SINK,
          &context))
    GST_DEBUG_OBJECT (self, "upstream has no GL context yet; frames are "
        "rendered in their texture's context");
  GST_OBJECT_LOCK (self);
  gst_object_replace ((GstObject **) & self->gl_context, (GstObject *) context);
  GST_OBJECT_UNLOCK (self);
  gst_clear_object (&context);
}
#endif

static gboolean
gst_vlm_describe_set_caps (GstBaseTransform * trans, GstCaps * incaps,
    GstCaps * outcaps)
{
  GstVlmDescribe *self = GST_VLM_DESCRIBE (trans);
  GstVideoInfo info;
  gboolean gl = FALSE;

  if (!gst_video_info_from_caps (&info, incaps))
    goto bad_caps;

#ifdef HAVE_GL
  {
    GstCapsFeatures *f = gst_caps_get_features (incaps, 0);

    gl = f && gst_caps_features_contains (f,
        GST_CAPS_FEATURE_MEMORY_GL_MEMORY);
  }
  if (gl)
    gl_find_context (self);
#endif
  GST_DEBUG_OBJECT (self, "%s input %" GST_PTR_FORMAT,
      gl ? "GL" : "system memory", incaps);

  g_mutex_lock (&self->lock);
  self->in_info = info;
  self->in_gl = gl;
  self->have_info = TRUE;
  g_mutex_unlock (&self->lock);
  return TRUE;

  /* ERRORS */
bad_caps:
  {
    GST_ELEMENT_ERROR (self, STREAM, FORMAT,
        ("The video format is not supported."),
        ("gst_video_info_from_caps() failed for %" GST_PTR_FORMAT, incaps));
    return FALSE;
  }
}

static gboolean
gst_vlm_describe_sink_event (GstBaseTransform * trans, GstEvent * event)
{
  GstVlmDescribe *self = GST_VLM_DESCRIBE (trans);

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_STREAM_START:{
      gchar *sid = gst_pad_create_stream_id (self->text_srcpad,
          GST_ELEMENT (self), "text");
      GstEvent *ss = gst_event_new_stream_start (sid);
      guint group;

      if (gst_event_parse_group_id (event, &group))
        gst_event_set_group_id (ss, group);
      g_free (sid);
      queue_text_event (self, ss);
      queue_text_event (self, gst_event_new_caps (gst_static_pad_template_get_caps
              (&text_src_template)));
      break;
    }
    case GST_EVENT_SEGMENT:{
      const GstSegment *seg;

      gst_event_parse_segment (event, &seg);
      if (seg->format == GST_FORMAT_TIME) {
        queue_text_event (self, gst_event_new_segment (seg));
        /* lets a text sink preroll before the first caption */
        queue_text_event (self, gst_event_new_gap (seg->start,
                GST_CLOCK_TIME_NONE));
      }
      break;
    }
    case GST_EVENT_FLUSH_START:{
      GstBuffer *old;

      /* not serialized: may come while the streaming thread waits */
      g_mutex_lock (&self->lock);
      self->flushing = TRUE;
      self->flush_seq++;
      old = take_slot_locked (self, NULL);
      if (self->busy && self->ctx)
        vlm_abort (self->ctx);
      g_cond_broadcast (&self->cond);
      g_mutex_unlock (&self->lock);
      gst_clear_buffer (&old);
      /* unblocks a worker stuck downstream of text_src */
      gst_pad_push_event (self->text_srcpad, gst_event_ref (event));
      break;
    }
    case GST_EVENT_FLUSH_STOP:{
      g_mutex_lock (&self->lock);
      /* the aborted inference returns within one layer */
      while (self->busy && !self->stopping)
        g_cond_wait (&self->cond, &self->lock);
      self->flushing = FALSE;
      self->eos = FALSE;
      self->last_considered = GST_CLOCK_TIME_NONE;
      self->next_poll = GST_CLOCK_TIME_NONE;
      self->last_seen_pts = GST_CLOCK_TIME_NONE;
      self->reset_scene = TRUE;
      caption_unref (self->latest);
      self->latest = NULL;
      g_queue_push_tail (&self->text_events, gst_event_ref (event));
      g_cond_broadcast (&self->cond);
      g_mutex_unlock (&self->lock);
      break;
    }
    case GST_EVENT_EOS:{
      gboolean drain;
      GstBuffer *old = NULL;

      GST_OBJECT_LOCK (self);
      drain = self->drain_on_eos;
      GST_OBJECT_UNLOCK (self);

      g_mutex_lock (&self->lock);
      self->eos = TRUE;
      if (!drain) {
        old = take_slot_locked (self, NULL);
        if (self->busy && self->ctx)
          vlm_abort (self->ctx);
      }
      GST_DEBUG_OBJECT (self, "EOS: %s", drain ? "draining" : "cancelling");
      while (!self->stopping && !self->flushing
          && (self->loading || self->busy || (self->slot && self->ready)))
        g_cond_wait (&self->cond, &self->lock);
      g_queue_push_tail (&self->text_events, gst_event_ref (event));
      g_cond_broadcast (&self->cond);
      g_mutex_unlock (&self->lock);
      gst_clear_buffer (&old);
      break;
    }
    default:
      break;
  }

  return GST_BASE_TRANSFORM_CLASS (parent_class)->sink_event (trans, event);
}

/* GL context queries are answered like GstGLBaseFilter does (display,
 * application and local context), others go on. */
static gboolean
gst_vlm_describe_query (GstBaseTransform * trans, GstPadDirection direction,
    GstQuery * query)
{
#ifdef HAVE_GL
  GstVlmDescribe *self = GST_VLM_DESCRIBE (trans);

  if (GST_QUERY_TYPE (query) == GST_QUERY_CONTEXT) {
    GstGLDisplay *display;
    GstGLContext *other, *context;
    gboolean handled;

    GST_OBJECT_LOCK (self);
    display = self->gl_display ? gst_object_ref (self->gl_display) : NULL;
    other = self->gl_other_context ?
        gst_object_ref (self->gl_other_context) : NULL;
    context = self->gl_context ? gst_object_ref (self->gl_context) : NULL;
    GST_OBJECT_UNLOCK (self);
    handled = gst_gl_handle_context_query (GST_ELEMENT (self), query,
        display, context, other);
    gst_clear_object (&display);
    gst_clear_object (&other);
    gst_clear_object (&context);
    if (handled)
      return TRUE;
  }
#endif
  return GST_BASE_TRANSFORM_CLASS (parent_class)->query (trans, direction,
      query);
}

/* A GL display or application context set on the pipeline. */
static void
gst_vlm_describe_set_context (GstElement * element, GstContext * context)
{
#ifdef HAVE_GL
  GstVlmDescribe *self = GST_VLM_DESCRIBE (element);
  GstGLDisplay *display;
  GstGLContext *other;

  GST_OBJECT_LOCK (self);
  display = g_steal_pointer (&self->gl_display);
  other = g_steal_pointer (&self->gl_other_context);
  GST_OBJECT_UNLOCK (self);
  gst_gl_handle_set_context (element, context, &display, &other);
  GST_OBJECT_LOCK (self);
  gst_object_replace ((GstObject **) & self->gl_display, (GstObject *) display);
  gst_object_replace ((GstObject **) & self->gl_other_context,
      (GstObject *) other);
  GST_OBJECT_UNLOCK (self);
  gst_clear_object (&display);
  gst_clear_object (&other);
#endif
  GST_ELEMENT_CLASS (parent_class)->set_context (element, context);
}

/* Passthrough: the buffer leaves as it came; only a caption meta is
 * added. A buffer that is not writable is replaced by a shallow copy
 * (new GstBuffer, same GstMemory: no pixel is copied). */
static GstFlowReturn
gst_vlm_describe_prepare_output_buffer (GstBaseTransform * trans,
    GstBuffer * inbuf, GstBuffer ** outbuf)
{
  GstVlmDescribe *self = GST_VLM_DESCRIBE (trans);
  Caption *cap = NULL;

  g_mutex_lock (&self->lock);
  if (self->latest)
    cap = g_atomic_rc_box_acquire (self->latest);
  g_mutex_unlock (&self->lock);

  if (cap == NULL) {
    *outbuf = inbuf;
    return GST_FLOW_OK;
  }

  if (gst_buffer_is_writable (inbuf))
    *outbuf = inbuf;
  else
    *outbuf = gst_buffer_make_writable (gst_buffer_ref (inbuf));
  gst_buffer_add_vlm_caption_meta (*outbuf, cap->text, cap->final, cap->id,
      cap->pts, cap->latency);
  caption_unref (cap);
  return GST_FLOW_OK;
}

/* Offers the frame to the worker when it is due: costs a reference and a
 * few comparisons under self->lock, never a pixel copy. */
static GstFlowReturn
gst_vlm_describe_transform_ip (GstBaseTransform * trans, GstBuffer * buf)
{
  GstVlmDescribe *self = GST_VLM_DESCRIBE (trans);
  GstClockTime pts = GST_BUFFER_PTS (buf);
  guint64 t0 = now_ns (), dt;
  GstBuffer *old = NULL;
  gint n, d;
  gboolean continuous, drop;

  GST_OBJECT_LOCK (self);
  n = self->rate_n;
  d = self->rate_d;
  continuous = self->continuous;
  drop = self->drop_frames;
  GST_OBJECT_UNLOCK (self);

  g_mutex_lock (&self->lock);
  self->n_frames++;
  self->last_seen_pts = pts;
  if (!drop)
    wait_for_worker_locked (self, pts, n, d, continuous);
  if (self->ready && self->have_info && !self->flushing && !self->stopping
      && !self->eos) {
    gboolean forced = self->describe_requested;
    gboolean due = forced || (continuous && frame_due_locked (self, pts, n, d));
    gboolean poll = self->thermal_active && (!GST_CLOCK_TIME_IS_VALID (pts)
        || !GST_CLOCK_TIME_IS_VALID (self->next_poll)
        || pts >= self->next_poll);

    if (due || poll) {
      old = self->slot;
      self->slot = gst_buffer_ref (buf);
      self->slot_info = self->in_info;
      self->slot_gl = self->in_gl;
      self->slot_arrival_us = g_get_monotonic_time ();
      /* a forced frame stays forced when a newer one replaces it */
      self->slot_forced = self->slot_forced || forced;
      self->describe_requested = FALSE;
      self->n_offered++;
      g_cond_broadcast (&self->cond);
    } else {
      self->n_throttled++;
    }
  }
  dt = now_ns () - t0;
  self->submit_ns_sum += dt;
  self->submit_ns_max = MAX (self->submit_ns_max, dt);
  self->n_submit++;
  g_mutex_unlock (&self->lock);

  /* the older frame, never described: released outside the lock */
  gst_clear_buffer (&old);
  return GST_FLOW_OK;
}

/* describe-now: the next frame offered is described whatever the rate,
 * the continuous setting and the scene say. */
static void
gst_vlm_describe_describe_now (GstVlmDescribe * self)
{
  g_mutex_lock (&self->lock);
  self->describe_requested = TRUE;
  g_mutex_unlock (&self->lock);
  GST_DEBUG_OBJECT (self, "describe-now requested");
}

/* ------------------------------------------------------------------ */
/* Worker thread                                                       */
/* ------------------------------------------------------------------ */

typedef struct {
  GstVlmDescribe *self;
  gint last_tenth;
} LoadProgress;

static bool
load_progress (float progress, void *user_data)
{
  LoadProgress *lp = user_data;
  GstVlmDescribe *self = lp->self;
  gint tenth = (gint) (progress * 10.0f);
  gboolean stop;

  if (tenth > lp->last_tenth) {
    lp->last_tenth = tenth;
    post_element_message (self, gst_structure_new ("vlm-model",
            "state", G_TYPE_STRING, "loading",
            "progress", G_TYPE_DOUBLE, (gdouble) progress, NULL));
  }
  g_mutex_lock (&self->lock);
  stop = self->stopping;
  g_mutex_unlock (&self->lock);
  return !stop;
}

static void
post_load_error (GstVlmDescribe * self, vlm_status st, const gchar * text,
    const gchar * mmproj, const gchar * err)
{
  switch (st) {
    case VLM_ERR_IO:
      GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ,
          ("Could not read the model files \"%s\" and \"%s\".", text, mmproj),
          ("vlm_model_load() failed: %s", err));
      break;
    case VLM_ERR_FORMAT:
      GST_ELEMENT_ERROR (self, RESOURCE, READ,
          ("A model file is damaged or is not a GGUF model (\"%s\", \"%s\").",
              text, mmproj), ("vlm_model_load() failed: %s", err));
      break;
    case VLM_ERR_UNSUPPORTED:
      GST_ELEMENT_ERROR (self, RESOURCE, FAILED,
          ("This model is not supported by vlmdescribe (\"%s\", \"%s\").",
              text, mmproj), ("vlm_model_load() failed: %s", err));
      break;
    case VLM_ERR_MODEL:
      GST_ELEMENT_ERROR (self, RESOURCE, READ,
          ("A model file is incomplete or damaged (\"%s\", \"%s\").", text,
              mmproj), ("vlm_model_load() failed: %s", err));
      break;
    case VLM_ERR_MISMATCH:
      GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
          ("The vision projector \"%s\" does not belong to the text model "
              "\"%s\".", mmproj, text), ("vlm_model_load() failed: %s", err));
      break;
    case VLM_ERR_NOMEM:
      GST_ELEMENT_ERROR (self, RESOURCE, NO_SPACE_LEFT,
          ("Not enough memory to load the model \"%s\".", text),
          ("vlm_model_load() failed: %s", err));
      break;
    default:
      GST_ELEMENT_ERROR (self, RESOURCE, FAILED,
          ("Could not load the model \"%s\" with projector \"%s\".", text,
              mmproj), ("vlm_model_load() failed (%s): %s",
              vlm_status_str (st), err));
      break;
  }
}

/* Creates a context with the current properties. Worker only. */
static vlm_context *
make_context (GstVlmDescribe * self, vlm_model * model, guint * cookie)
{
  vlm_context_params cp = vlm_context_params_default ();
  vlm_status st = VLM_OK;
  char err[512] = "";
  vlm_context *ctx;

  GST_OBJECT_LOCK (self);
  cp.n_threads = self->threads;
  cp.n_predict = self->max_tokens;
  cp.temperature = (float) self->temperature;
  cp.seed = self->seed;
  *cookie = self->ctx_cookie;
  GST_OBJECT_UNLOCK (self);

  ctx = vlm_context_new (model, cp, &st, err, sizeof err);
  if (ctx == NULL)
    GST_ELEMENT_ERROR (self, RESOURCE, FAILED,
        ("Could not set up the model for describing (out of memory?)."),
        ("vlm_context_new() failed (%s): %s", vlm_status_str (st), err));
  return ctx;
}

/* Publishes ctx for vlm_abort (NULL unpublishes). */
static void
publish_context (GstVlmDescribe * self, vlm_context * ctx)
{
  g_mutex_lock (&self->lock);
  self->ctx = ctx;
  g_mutex_unlock (&self->lock);
}

static GstClockTime
text_hold (gint n, gint d)
{
  GstClockTime interval = caption_interval (n, d, 1.0);

  return MAX (interval, MIN_TEXT_HOLD);
}

/* Publishes a caption through the four outputs. Worker only; no lock
 * held on entry. */
static void
emit_caption (DescribeRun * run, gboolean final)
{
  GstVlmDescribe *self = run->self;
  GstClockTime latency = (GstClockTime) (g_get_monotonic_time () -
      run->arrival_us) * GST_USECOND;
  Caption *cap = caption_new (run->text->str, final, run->id, run->pts,
      latency);
  Caption *old;
  GstClockTime seen;

  g_mutex_lock (&self->lock);
  old = self->latest;
  self->latest = cap;
  seen = self->last_seen_pts;
  if (run->first) {
    self->first_token_ms_last = latency / 1e6;
  }
  if (final) {
    self->n_captions++;
    self->final_ms_last = latency / 1e6;
  }
  g_mutex_unlock (&self->lock);
  caption_unref (old);

  GST_LOG_OBJECT (self, "caption %" G_GUINT64_FORMAT " %s: %s", run->id,
      final ? "final" : "partial", run->text->str);

  if (run->post_messages)
    post_element_message (self, gst_structure_new ("vlm-caption",
            "text", G_TYPE_STRING, run->text->str,
            "final", G_TYPE_BOOLEAN, final,
            "id", G_TYPE_UINT64, run->id,
            "pts", G_TYPE_UINT64, run->pts,
            "latency", G_TYPE_UINT64, latency, NULL));

  g_signal_emit (self, gst_vlm_describe_signals[SIGNAL_CAPTION], 0,
      run->text->str, final, run->id, (guint64) run->pts, (guint64) latency);

  if (final || run->partial_text) {
    /* an empty caption (the model ended at once) is an empty buffer */
    GstBuffer *tb = run->text->len > 0 ?
        gst_buffer_new_memdup (run->text->str, run->text->len) :
        gst_buffer_new ();
    GstFlowReturn ret;

    GST_BUFFER_PTS (tb) = run->pts;
    /* shown from the described frame until hold past the video now */
    if (GST_CLOCK_TIME_IS_VALID (run->pts)) {
      GstClockTime end = run->hold;

      if (GST_CLOCK_TIME_IS_VALID (seen) && seen > run->pts)
        end += seen - run->pts;
      GST_BUFFER_DURATION (tb) = end;
    }
    push_text_events (self);
    ret = gst_pad_push (self->text_srcpad, tb);
    GST_LOG_OBJECT (self, "text_src push: %s", gst_flow_get_name (ret));
  }
}

static bool
on_token (const char *piece, size_t len, void *user_data)
{
  DescribeRun *run = user_data;

  g_string_append_len (run->text, piece, (gssize) len);
  emit_caption (run, FALSE);
  run->first = FALSE;
  return true;
}

typedef struct {
  VlmThermal *thermal;
  VlmThermalState state;
} ThermalState;

static void
post_thermal (GstVlmDescribe * self, VlmThermalState state, gdouble temp,
    gdouble factor, const gchar * zone)
{
  post_element_message (self, gst_structure_new ("vlm-thermal",
          "state", G_TYPE_STRING, vlm_thermal_state_name (state),
          "temperature", G_TYPE_DOUBLE, temp,
          "factor", G_TYPE_DOUBLE, factor,
          "zone", G_TYPE_STRING, zone ? zone : "", NULL));
}

/* Reads the sensor (worker). */
static void
thermal_poll (GstVlmDescribe * self, ThermalState * ts, GstClockTime pts)
{
  gdouble temp = NAN, factor = 1.0;
  VlmThermalState st;

  if (ts->thermal == NULL)
    return;
  st = vlm_thermal_update (ts->thermal, &temp, &factor);

  g_mutex_lock (&self->lock);
  if (st == VLM_THERMAL_NO_SENSOR) {
    self->thermal_active = FALSE;
    self->thermal_paused = FALSE;
    self->thermal_factor = 1.0;
  } else {
    self->thermal_paused = st == VLM_THERMAL_PAUSED;
    self->thermal_factor = factor;
    self->next_poll = GST_CLOCK_TIME_IS_VALID (pts) ?
        pts + THERMAL_POLL_INTERVAL : GST_CLOCK_TIME_NONE;
  }
  g_mutex_unlock (&self->lock);

  if (st != ts->state) {
    GST_INFO_OBJECT (self, "thermal: %s, %.1f C, factor %.2f",
        vlm_thermal_state_name (st), temp, factor);
    post_thermal (self, st, temp, factor, vlm_thermal_zone (ts->thermal));
    ts->state = st;
  }
  if (st == VLM_THERMAL_NO_SENSOR) {
    GST_ELEMENT_WARNING (self, RESOURCE, READ,
        ("The temperature sensor stopped working: no thermal protection."),
        ("vlm_thermal_update(): no sensor"));
    vlm_thermal_free (ts->thermal);
    ts->thermal = NULL;
  }
}

static void
thermal_init (GstVlmDescribe * self, ThermalState * ts)
{
  VlmThermalParams p = vlm_thermal_params_default ();
  gchar *zone, *root;

  GST_OBJECT_LOCK (self);
  zone = g_strdup (self->thermal_zone);
  root = g_strdup (self->thermal_root);
  p.throttle_temp = self->throttle_temp;
  p.cooldown_temp = self->cooldown_temp;
  p.resume_temp = self->resume_temp;
  GST_OBJECT_UNLOCK (self);
  p.zone = zone;
  p.sysfs_root = root;

  ts->state = VLM_THERMAL_NO_SENSOR;
  ts->thermal = vlm_thermal_new (&p);
  if (ts->thermal && vlm_thermal_zone (ts->thermal) == NULL) {
    vlm_thermal_free (ts->thermal);
    ts->thermal = NULL;
  }
  if (ts->thermal == NULL) {
    GST_ELEMENT_WARNING (self, RESOURCE, NOT_FOUND,
        ("No temperature sensor found: captions run without thermal "
            "protection."),
        ("vlm_thermal_new(): no zone %s under %s", zone ? zone : "(auto)",
            root ? root : "/sys/class/thermal"));
    /* the state too, for status displays */
    post_thermal (self, VLM_THERMAL_NO_SENSOR, NAN, 1.0, NULL);
  } else {
    GST_INFO_OBJECT (self, "thermal zone %s", vlm_thermal_zone (ts->thermal));
    g_mutex_lock (&self->lock);
    self->thermal_active = TRUE;
    g_mutex_unlock (&self->lock);
  }
  g_free (zone);
  g_free (root);
}

typedef struct {
  vlm_model *model;
  vlm_context *ctx;
  guint cookie;
  int size;
  guint8 *rgb;
  guint8 *prev_rgb;
  gboolean have_prev;
  VlmFrameConverter *conv;
  ThermalState thermal;
#ifdef HAVE_GL
  VlmGLResize *gl;              /* GPU converter, in its texture's context */
  gboolean gl_failed;           /* GPU failed once: CPU from then on */
#endif
} Worker;

#ifdef HAVE_GL
typedef struct {
  Worker *w;
  GstBuffer *buf;
  const GstVideoInfo *info;
  VlmResizeMode mode;
  gboolean ok;
  GError *error;
} GLConvert;

/* GL thread: waits for upstream's rendering into the texture, renders the
 * model image and reads it back into w->rgb. */
static void
gl_convert_cb (GstGLContext * context, gpointer data)
{
  GLConvert *c = data;
  GstGLSyncMeta *sync = gst_buffer_get_gl_sync_meta (c->buf);
  GstVideoFrame frame;

  if (sync)
    gst_gl_sync_meta_wait (sync, context);
  if (!gst_video_frame_map (&frame, c->info, c->buf,
          GST_MAP_READ | GST_MAP_GL)) {
    g_set_error (&c->error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_READ,
        "gst_video_frame_map (GST_MAP_GL) failed");
    return;
  }
  if (c->w->gl == NULL)
    c->w->gl = vlm_gl_resize_new (context);
  c->ok = vlm_gl_resize_read_rgb (c->w->gl,
      GST_GL_MEMORY_CAST (frame.map[0].memory), c->info, c->w->size, c->mode,
      c->w->rgb, &c->error);
  gst_video_frame_unmap (&frame);
}

static void
gl_free_cb (GstGLContext * context, gpointer data)
{
  vlm_gl_resize_free (data);
}

static void
gl_helper_free (Worker * w)
{
  GstGLContext *context;

  if (w->gl == NULL)
    return;
  context = gst_object_ref (vlm_gl_resize_get_context (w->gl));
  gst_gl_context_thread_add (context, gl_free_cb, w->gl);
  gst_object_unref (context);
  w->gl = NULL;
}

/* Makes the model image of a GL frame on the GPU, in the GL context that
 * owns its texture (a call on that context's thread, which the worker
 * waits for: ~1 small render and a size x size x 4 readback). FALSE sends
 * the frame to the CPU path; after a GPU failure (warned once) all later
 * frames go there. Worker. */
static gboolean
gl_convert (GstVlmDescribe * self, Worker * w, GstBuffer * buf,
    const GstVideoInfo * info, VlmResizeMode mode)
{
  GstMemory *mem;
  GstGLContext *context;
  GLConvert c = { w, buf, info, mode, FALSE, NULL };

  if (w->gl_failed)
    return FALSE;
  mem = gst_buffer_n_memory (buf) > 0 ? gst_buffer_peek_memory (buf, 0) : NULL;
  if (mem == NULL || !gst_is_gl_memory (mem))
    return FALSE;
  context = GST_GL_BASE_MEMORY_CAST (mem)->context;
  if (w->gl && vlm_gl_resize_get_context (w->gl) != context)
    gl_helper_free (w);
  gst_gl_context_thread_add (context, gl_convert_cb, &c);
  if (!c.ok)
    goto gl_failed;
  return TRUE;

  /* ERRORS */
gl_failed:
  {
    GST_ELEMENT_WARNING (self, RESOURCE, FAILED,
        ("Could not make the model image on the GPU: using the CPU, which "
            "copies whole frames from the GPU (slower)."),
        ("vlm_gl_resize_read_rgb() failed: %s",
            c.error ? c.error->message : "unknown error"));
    g_clear_error (&c.error);
    w->gl_failed = TRUE;
    return FALSE;
  }
}
#endif

/* Bytes a CPU map of buf copies from GPU memory (all of it for GL
 * memory, nothing for system memory). */
static guint64
cpu_download_bytes (GstBuffer * buf, const GstVideoInfo * info)
{
#ifdef HAVE_GL
  if (gst_buffer_n_memory (buf) > 0
      && gst_is_gl_memory (gst_buffer_peek_memory (buf, 0)))
    return GST_VIDEO_INFO_SIZE (info);
#endif
  return 0;
}

/* Publishes the model's input image for the last-image property. */
static void
set_last_image (GstVlmDescribe * self, const guint8 * rgb, int size,
    GstClockTime pts)
{
  GstBuffer *b = gst_buffer_new_memdup (rgb, (gsize) size * size * 3);
  gsize offset[GST_VIDEO_MAX_PLANES] = { 0 };
  gint stride[GST_VIDEO_MAX_PLANES] = { size * 3 };
  GstCaps *caps = gst_caps_new_simple ("video/x-raw",
      "format", G_TYPE_STRING, "RGB", "width", G_TYPE_INT, size,
      "height", G_TYPE_INT, size, NULL);
  GstSample *sample, *old;

  GST_BUFFER_PTS (b) = pts;
  gst_buffer_add_video_meta_full (b, GST_VIDEO_FRAME_FLAG_NONE,
      GST_VIDEO_FORMAT_RGB, size, size, 1, offset, stride);
  sample = gst_sample_new (b, caps, NULL, NULL);
  gst_buffer_unref (b);
  gst_caps_unref (caps);

  g_mutex_lock (&self->lock);
  old = self->last_image;
  self->last_image = sample;
  g_mutex_unlock (&self->lock);
  if (old)
    gst_sample_unref (old);
}

static void
post_skip (GstVlmDescribe * self, GstClockTime pts, const gchar * reason,
    gboolean post)
{
  if (post)
    post_element_message (self, gst_structure_new ("vlm-skip",
            "pts", G_TYPE_UINT64, (guint64) pts,
            "reason", G_TYPE_STRING, reason, NULL));
}

/* Works on one frame taken from the slot. */
static void
process_frame (GstVlmDescribe * self, Worker * w, GstBuffer * buf,
    const GstVideoInfo * info, gboolean gl, gint64 arrival_us, guint seq,
    gboolean forced)
{
  GstClockTime pts = GST_BUFFER_PTS (buf);
  gint n, d;
  gdouble threshold;
  VlmResizeMode mode;
  gboolean post, partial, due, paused, reset, continuous;
  gchar *prompt;
  guint cookie;
  GstVideoFrame frame;
  guint64 t0, download;
  gdouble conv_ms;
  gboolean on_gpu = FALSE;
  DescribeRun run;
  vlm_status st;

  thermal_poll (self, &w->thermal, pts);

  GST_OBJECT_LOCK (self);
  n = self->rate_n;
  d = self->rate_d;
  threshold = self->scene_threshold;
  mode = self->resize_mode;
  post = self->post_messages;
  partial = self->partial_text;
  prompt = g_strdup (self->prompt);
  cookie = self->ctx_cookie;
  continuous = self->continuous;
  GST_OBJECT_UNLOCK (self);

  g_mutex_lock (&self->lock);
  paused = self->thermal_paused;
  /* a forced frame is due unless a cool-down pause holds inference */
  if (forced)
    due = !paused;
  else
    due = continuous && frame_due_locked (self, pts, n, d);
  if (due)
    self->last_considered = pts;
  else if (paused)
    self->n_skipped_thermal++;
  reset = self->reset_scene;
  self->reset_scene = FALSE;
  g_mutex_unlock (&self->lock);

  if (reset)
    w->have_prev = FALSE;
  if (!due) {
    if (paused)
      post_skip (self, pts, "thermal", post);
    goto done;
  }

  if (cookie != w->cookie) {
    vlm_context *ctx;

    GST_DEBUG_OBJECT (self, "context parameters changed: new context");
    publish_context (self, NULL);
    vlm_context_free (w->ctx);
    w->ctx = NULL;
    ctx = make_context (self, w->model, &w->cookie);
    if (ctx == NULL) {
      /* the error is posted; stop offering frames */
      g_mutex_lock (&self->lock);
      self->ready = FALSE;
      g_mutex_unlock (&self->lock);
      goto done;
    }
    w->ctx = ctx;
    publish_context (self, ctx);
  }

  t0 = now_ns ();
#ifdef HAVE_GL
  on_gpu = gl && gl_convert (self, w, buf, info, mode);
#endif
  if (on_gpu) {
    download = (guint64) w->size * w->size * 4;
  } else {
    download = cpu_download_bytes (buf, info);
    if (!gst_video_frame_map (&frame, info, buf, GST_MAP_READ))
      goto map_failed;
    if (!vlm_frame_convert (w->conv, &frame, mode, w->size, w->rgb)) {
      gst_video_frame_unmap (&frame);
      goto convert_failed;
    }
    gst_video_frame_unmap (&frame);
  }
  conv_ms = (now_ns () - t0) / 1e6;

  g_mutex_lock (&self->lock);
  self->convert_ms_last = conv_ms;
  self->convert_ms_max = MAX (self->convert_ms_max, conv_ms);
  if (on_gpu)
    self->n_gl_frames++;
  else
    self->n_cpu_frames++;
  self->download_bytes_last = download;
  self->download_bytes_total += download;
  g_mutex_unlock (&self->lock);

  if (threshold > 0.0 && w->have_prev && !forced) {
    gdouble diff = vlm_frame_difference (w->rgb, w->prev_rgb, w->size);

    GST_LOG_OBJECT (self, "scene difference %.4f (threshold %.4f)", diff,
        threshold);
    if (diff < threshold) {
      g_mutex_lock (&self->lock);
      self->n_skipped_static++;
      g_mutex_unlock (&self->lock);
      post_skip (self, pts, "static-scene", post);
      goto done;
    }
  }
  memcpy (w->prev_rgb, w->rgb, (gsize) w->size * w->size * 3);
  w->have_prev = TRUE;
  set_last_image (self, w->rgb, w->size, pts);

  run.self = self;
  run.pts = pts;
  run.arrival_us = arrival_us;
  run.text = g_string_new (NULL);
  run.first = TRUE;
  run.post_messages = post;
  run.partial_text = partial;
  run.hold = text_hold (n, d);

  g_mutex_lock (&self->lock);
  run.id = ++self->next_id;
  self->n_described++;
  g_mutex_unlock (&self->lock);

  st = vlm_describe (w->ctx, w->rgb, w->size, w->size, (size_t) w->size * 3,
      prompt, on_token, &run);

  g_mutex_lock (&self->lock);
  self->engine_stats = vlm_get_stats (w->ctx);
  if (st == VLM_ERR_ABORTED || seq != self->flush_seq || self->stopping) {
    self->n_aborted++;
    st = VLM_ERR_ABORTED;
  }
  g_mutex_unlock (&self->lock);

  if (st == VLM_OK) {
    emit_caption (&run, TRUE);
  } else if (st != VLM_ERR_ABORTED) {
    GST_ELEMENT_WARNING (self, RESOURCE, FAILED,
        ("Could not describe the frame: %s.", vlm_status_str (st)),
        ("vlm_describe() failed: %s", vlm_last_error (w->ctx)));
  } else {
    GST_DEBUG_OBJECT (self, "caption %" G_GUINT64_FORMAT " aborted", run.id);
  }
  g_string_free (run.text, TRUE);

done:
  g_free (prompt);
  return;

  /* ERRORS */
map_failed:
  {
    GST_ELEMENT_WARNING (self, STREAM, FAILED,
        ("A video frame could not be read."),
        ("gst_video_frame_map() failed"));
    goto done;
  }
convert_failed:
  {
    GST_ELEMENT_WARNING (self, STREAM, FORMAT,
        ("A video frame could not be converted for the model."),
        ("vlm_frame_convert() failed for %s %dx%d",
            gst_video_format_to_string (GST_VIDEO_INFO_FORMAT (info)),
            GST_VIDEO_INFO_WIDTH (info), GST_VIDEO_INFO_HEIGHT (info)));
    goto done;
  }
}

static void
set_worker_nice (GstVlmDescribe * self)
{
  gint nice;

  GST_OBJECT_LOCK (self);
  nice = self->worker_nice;
  GST_OBJECT_UNLOCK (self);
  /* Linux niceness is per thread and inherited by the threads this one
   * creates (the engine's pool): only inference runs at this priority. */
  if (nice > 0 && setpriority (PRIO_PROCESS, (id_t) gettid (), nice) != 0)
    GST_WARNING_OBJECT (self, "setpriority(%d) failed", nice);
}

static gpointer
gst_vlm_describe_worker (gpointer data)
{
  GstVlmDescribe *self = data;
  Worker w = { 0 };
  vlm_model_params mp = vlm_model_params_default ();
  LoadProgress lp = { self, -1 };
  gchar *text_path, *mmproj_path;
  vlm_status st = VLM_OK;
  char err[512] = "";
  gint64 t0 = g_get_monotonic_time ();

  set_worker_nice (self);

  GST_OBJECT_LOCK (self);
  text_path = g_strdup (self->model_path);
  mmproj_path = g_strdup (self->mmproj_path);
  GST_OBJECT_UNLOCK (self);

  mp.text_path = text_path;
  mp.mmproj_path = mmproj_path;
  mp.progress = load_progress;
  mp.progress_user_data = &lp;
  w.model = vlm_model_load (mp, &st, err, sizeof err);
  if (w.model == NULL) {
    if (st != VLM_ERR_CANCELLED)
      post_load_error (self, st, text_path, mmproj_path, err);
    goto loaded;
  }
  w.ctx = make_context (self, w.model, &w.cookie);
  if (w.ctx == NULL)
    goto loaded;

  w.size = vlm_model_image_size (w.model);
  w.rgb = g_malloc ((gsize) w.size * w.size * 3);
  w.prev_rgb = g_malloc ((gsize) w.size * w.size * 3);
  w.conv = vlm_frame_converter_new ();
  thermal_init (self, &w.thermal);

loaded:
  g_mutex_lock (&self->lock);
  self->loading = FALSE;
  self->ctx = w.ctx;
  self->ready = w.ctx != NULL && !self->stopping;
  g_cond_broadcast (&self->cond);
  if (self->ready) {
    /* posted once frames are taken, so "ready" means ready */
    g_mutex_unlock (&self->lock);
    post_element_message (self, gst_structure_new ("vlm-model",
            "state", G_TYPE_STRING, "ready",
            "progress", G_TYPE_DOUBLE, 1.0,
            "name", G_TYPE_STRING, vlm_model_name (w.model),
            "projector", G_TYPE_STRING, vlm_model_projector (w.model),
            "image-size", G_TYPE_INT, w.size,
            "load-ms", G_TYPE_DOUBLE,
            (g_get_monotonic_time () - t0) / 1000.0, NULL));
    GST_INFO_OBJECT (self, "model %s ready (%s, %d px)",
        vlm_model_name (w.model), vlm_model_projector (w.model), w.size);
    g_mutex_lock (&self->lock);
  }

  while (!self->stopping) {
    GstBuffer *buf;
    GstVideoInfo info;
    gint64 arrival;
    guint seq;
    gboolean forced, gl;

    if (!g_queue_is_empty (&self->text_events)) {
      g_mutex_unlock (&self->lock);
      push_text_events (self);
      g_mutex_lock (&self->lock);
      continue;
    }
    if (!self->ready || self->slot == NULL || self->flushing) {
      g_cond_wait (&self->cond, &self->lock);
      continue;
    }
    buf = take_slot_locked (self, &forced);
    info = self->slot_info;
    gl = self->slot_gl;
    arrival = self->slot_arrival_us;
    seq = self->flush_seq;
    self->busy = TRUE;
    /* an abort from now on stops this frame's describe */
    if (self->ctx)
      vlm_abort_clear (self->ctx);
    g_mutex_unlock (&self->lock);

    process_frame (self, &w, buf, &info, gl, arrival, seq, forced);
    gst_buffer_unref (buf);

    g_mutex_lock (&self->lock);
    self->busy = FALSE;
    g_cond_broadcast (&self->cond);
  }
  self->ready = FALSE;
  self->ctx = NULL;
  g_mutex_unlock (&self->lock);

  vlm_context_free (w.ctx);
  vlm_model_free (w.model);
  vlm_frame_converter_free (w.conv);
#ifdef HAVE_GL
  gl_helper_free (&w);
#endif
  vlm_thermal_free (w.thermal.thermal);
  g_free (w.rgb);
  g_free (w.prev_rgb);
  g_free (text_path);
  g_free (mmproj_path);
  return NULL;
}

/* gst-vlm — vlmcamerasrc element.
 * Copyright (C) 2025 gst-vlm authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/**
 * SECTION:element-vlmcamerasrc
 * @title: vlmcamerasrc
 *
 * A camera source that picks the camera the way a user expects. When the
 * element goes from NULL to READY it asks libcamera (through the device
 * provider of the `libcamerasrc` plugin) for its cameras and uses the
 * first one with `libcamerasrc`; when libcamera sees no camera it looks for
 * V4L2 video capture devices (`videoN` in #GstVlmCameraSrc:device-dir,
 * lowest number first) and uses the first one with `v4l2src`. V4L2 nodes
 * that do not capture video (metadata, output and memory-to-memory nodes
 * of camera ISPs and codecs) are skipped. #GstVlmCameraSrc:camera picks a
 * camera by name (libcamera camera id or V4L2 card name: the same name, or
 * else the first one containing it, ignoring case) or by device path
 * (`/dev/video2`, V4L2 only); #GstVlmCameraSrc:backend restricts the search
 * to one of the two.
 *
 * The wanted mode (#GstVlmCameraSrc:width, #GstVlmCameraSrc:height,
 * #GstVlmCameraSrc:framerate) is a preference, not a demand: the camera
 * delivers that size and rate when it can, else that size at any rate,
 * else the largest size up to it at up to that rate, else whatever it
 * offers. When the camera has a better match for that mode in Motion JPEG
 * than in raw video (USB webcams often give 720p at 30 fps only as MJPEG),
 * it takes the MJPEG and decodes it (`jpegdec`). The frames then pass a
 * `videoconvert` and a `videoscale`, which work only when downstream asks
 * for a format or size the camera does not give. The source pad has raw
 * video in system memory.
 *
 * When no camera is found, or the wanted one is not there, the NULL to
 * READY state change fails with a #GST_RESOURCE_ERROR_NOT_FOUND error whose
 * message says what was tried ("No camera found (libcamera: no camera;
 * V4L2: no capture device in /dev)."). A camera that disappears while
 * playing gives an error too: `v4l2src` fails on the vanished device, and
 * when frames stop coming for #GstVlmCameraSrc:stall-timeout seconds while
 * PLAYING (libcamera may just stop delivering) the element posts the error
 * "The camera stopped sending frames.". The watchdog is a thread that runs
 * only while the element is PLAYING.
 *
 * #GstVlmCameraSrc:source-description replaces the probed camera by a
 * gst-launch description (tests, debugging, a camera that needs a special
 * pipeline); the wanted mode, the conversion and the watchdog stay.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 vlmcamerasrc ! videoconvert ! autovideosink
 * ]| Shows the first camera at 1280x720 and 30 frames per second, or the
 * closest mode it has.
 * |[
 * gst-launch-1.0 vlmcamerasrc camera=/dev/video2 width=640 height=480 \
 *     framerate=15/1 ! videoconvert ! vlmdescribe model=text.gguf \
 *     mmproj=mmproj.gguf ! vlmoverlay ! videoconvert ! autovideosink
 * ]| Describes what the V4L2 camera /dev/video2 sees.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstvlmcamerasrc.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/videodev2.h>

GST_DEBUG_CATEGORY_STATIC (gst_vlm_camera_src_debug);
#define GST_CAT_DEFAULT gst_vlm_camera_src_debug

typedef enum {
  GST_VLM_CAMERA_BACKEND_AUTO = 0,
  GST_VLM_CAMERA_BACKEND_LIBCAMERA,
  GST_VLM_CAMERA_BACKEND_V4L2,
} GstVlmCameraBackend;

enum {
  PROP_0,
  PROP_CAMERA,
  PROP_BACKEND,
  PROP_WIDTH,
  PROP_HEIGHT,
  PROP_FRAMERATE,
  PROP_STALL_TIMEOUT,
  PROP_DEVICE_DIR,
  PROP_SOURCE_DESCRIPTION,
  PROP_ACTIVE_BACKEND,
  PROP_ACTIVE_CAMERA,
};

#define DEFAULT_PROP_CAMERA NULL
#define DEFAULT_PROP_BACKEND GST_VLM_CAMERA_BACKEND_AUTO
#define DEFAULT_PROP_WIDTH 1280
#define DEFAULT_PROP_HEIGHT 720
#define DEFAULT_PROP_FRAMERATE_N 30
#define DEFAULT_PROP_FRAMERATE_D 1
#define DEFAULT_PROP_STALL_TIMEOUT 5
#define DEFAULT_PROP_DEVICE_DIR "/dev"
#define DEFAULT_PROP_SOURCE_DESCRIPTION NULL

#define MAX_SIZE 16384
#define MAX_STALL_TIMEOUT 3600

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS ("video/x-raw"));

/* The properties read when the camera is opened (a copy). */
typedef struct {
  gchar *camera;
  GstVlmCameraBackend backend;
  gint width, height, fps_n, fps_d;
  gchar *device_dir;
  gchar *description;
} Settings;

struct _GstVlmCameraSrc {
  GstBin parent;

  GstPad *srcpad;               /* ghost pad, targets the last child */

  /* Properties. Protected by GST_OBJECT_LOCK, which is never held together
   * with self->lock (take one, copy, release). stall_timeout is atomic. */
  gchar *camera;
  GstVlmCameraBackend backend;
  gint width, height, fps_n, fps_d;
  gint stall_timeout;
  gchar *device_dir;
  gchar *description;
  gchar *active_backend;
  gchar *active_camera;

  /* Stall watchdog. Protected by self->lock, a leaf lock; the watchdog
   * thread waits on self->cond. */
  GMutex lock;
  GCond cond;
  GThread *watchdog;
  gboolean watchdog_stop;
  gint64 last_frame_us;         /* monotonic time of the last frame */
  gboolean eos;                 /* the source ended: not a stall */
};

#define gst_vlm_camera_src_parent_class parent_class
G_DEFINE_TYPE_WITH_CODE (GstVlmCameraSrc, gst_vlm_camera_src, GST_TYPE_BIN,
    GST_DEBUG_CATEGORY_INIT (gst_vlm_camera_src_debug, "vlmcamerasrc", 0,
        "vlmcamerasrc: libcamera or V4L2 camera"));
GST_ELEMENT_REGISTER_DEFINE (vlmcamerasrc, "vlmcamerasrc", GST_RANK_NONE,
    GST_TYPE_VLM_CAMERA_SRC);

static void gst_vlm_camera_src_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec);
static void gst_vlm_camera_src_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec);
static void gst_vlm_camera_src_finalize (GObject * object);
static GstStateChangeReturn gst_vlm_camera_src_change_state (GstElement *
    element, GstStateChange transition);

#define GST_TYPE_VLM_CAMERA_BACKEND (gst_vlm_camera_backend_get_type ())
static GType
gst_vlm_camera_backend_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_VLM_CAMERA_BACKEND_AUTO, "libcamera when it sees a camera, else V4L2",
        "auto"},
    {GST_VLM_CAMERA_BACKEND_LIBCAMERA, "libcamera only (libcamerasrc)",
        "libcamera"},
    {GST_VLM_CAMERA_BACKEND_V4L2, "V4L2 only (v4l2src)", "v4l2"},
    {0, NULL, NULL},
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstVlmCameraBackend", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

static void
gst_vlm_camera_src_class_init (GstVlmCameraSrcClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS;
  const GParamFlags ro = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS;

  gobject_class->set_property = gst_vlm_camera_src_set_property;
  gobject_class->get_property = gst_vlm_camera_src_get_property;
  gobject_class->finalize = gst_vlm_camera_src_finalize;

  g_object_class_install_property (gobject_class, PROP_CAMERA,
      g_param_spec_string ("camera", "Camera",
          "The camera: a libcamera camera id or V4L2 card name (the same "
          "name, else the first containing it, ignoring case) or a V4L2 "
          "device path (/dev/videoN); NULL = the first camera (default "
          "NULL); read from NULL to READY", DEFAULT_PROP_CAMERA,
          rw | GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_BACKEND,
      g_param_spec_enum ("backend", "Backend",
          "Where cameras are looked for: auto (libcamera, then V4L2), "
          "libcamera or v4l2; default auto", GST_TYPE_VLM_CAMERA_BACKEND,
          DEFAULT_PROP_BACKEND, rw | GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_WIDTH,
      g_param_spec_int ("width", "Width",
          "Wanted frame width in pixels, 1 to 16384 (the camera's closest "
          "mode is taken when it has not this one); default 1280", 1,
          MAX_SIZE, DEFAULT_PROP_WIDTH, rw | GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_HEIGHT,
      g_param_spec_int ("height", "Height",
          "Wanted frame height in pixels, 1 to 16384 (the camera's closest "
          "mode is taken when it has not this one); default 720", 1,
          MAX_SIZE, DEFAULT_PROP_HEIGHT, rw | GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_FRAMERATE,
      gst_param_spec_fraction ("framerate", "Frame rate",
          "Wanted frames per second, 1/1000 to 1000/1 (the camera's closest "
          "rate is taken when it has not this one); default 30/1", 1, 1000,
          1000, 1, DEFAULT_PROP_FRAMERATE_N, DEFAULT_PROP_FRAMERATE_D,
          rw | GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_STALL_TIMEOUT,
      g_param_spec_uint ("stall-timeout", "Stall timeout",
          "Seconds without a frame while PLAYING after which the element "
          "posts the error \"The camera stopped sending frames.\", 0 to "
          "3600; 0 = never; default 5", 0, MAX_STALL_TIMEOUT,
          DEFAULT_PROP_STALL_TIMEOUT, rw | GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_DEVICE_DIR,
      g_param_spec_string ("device-dir", "Device directory",
          "Directory searched for V4L2 videoN device nodes; default /dev "
          "(other values for tests)", DEFAULT_PROP_DEVICE_DIR,
          rw | GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_SOURCE_DESCRIPTION,
      g_param_spec_string ("source-description", "Source description",
          "For tests and debugging: a gst-launch description of a source "
          "bin (its unlinked source pad is used) that replaces the probed "
          "camera, e.g. \"videotestsrc is-live=true\"; NULL = probe the "
          "cameras (default NULL)", DEFAULT_PROP_SOURCE_DESCRIPTION,
          rw | GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_ACTIVE_BACKEND,
      g_param_spec_string ("active-backend", "Active backend",
          "The backend of the camera in use: libcamera, v4l2 or description "
          "(source-description); NULL while the element is in NULL state",
          NULL, ro));
  g_object_class_install_property (gobject_class, PROP_ACTIVE_CAMERA,
      g_param_spec_string ("active-camera", "Active camera",
          "The camera in use: libcamera camera id, V4L2 card name and "
          "device path (\"HD Webcam (/dev/video0)\") or the source "
          "description; NULL while the element is in NULL state", NULL, ro));

  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class,
      "Camera source (libcamera or V4L2)", "Source/Video",
      "The first or the named camera through libcamera when it sees one, "
      "otherwise V4L2, in the closest mode to the wanted one; errors "
      "instead of hangs when there is no camera or it stops sending frames",
      "gst-vlm authors");

  element_class->change_state =
      GST_DEBUG_FUNCPTR (gst_vlm_camera_src_change_state);

  gst_type_mark_as_plugin_api (GST_TYPE_VLM_CAMERA_BACKEND, 0);
}

static void
gst_vlm_camera_src_init (GstVlmCameraSrc * self)
{
  GstPadTemplate *templ = gst_static_pad_template_get (&src_template);

  self->srcpad = gst_ghost_pad_new_no_target_from_template ("src", templ);
  gst_object_unref (templ);
  gst_element_add_pad (GST_ELEMENT (self), self->srcpad);

  self->camera = g_strdup (DEFAULT_PROP_CAMERA);
  self->backend = DEFAULT_PROP_BACKEND;
  self->width = DEFAULT_PROP_WIDTH;
  self->height = DEFAULT_PROP_HEIGHT;
  self->fps_n = DEFAULT_PROP_FRAMERATE_N;
  self->fps_d = DEFAULT_PROP_FRAMERATE_D;
  self->stall_timeout = DEFAULT_PROP_STALL_TIMEOUT;
  self->device_dir = g_strdup (DEFAULT_PROP_DEVICE_DIR);
  self->description = g_strdup (DEFAULT_PROP_SOURCE_DESCRIPTION);

  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);

  /* a source element, also while it has no children (NULL state) */
  GST_OBJECT_FLAG_SET (self, GST_ELEMENT_FLAG_SOURCE);
}

/* ------------------------------------------------------------------ */
/* Properties                                                          */
/* ------------------------------------------------------------------ */

static void
gst_vlm_camera_src_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstVlmCameraSrc *self = GST_VLM_CAMERA_SRC (object);

  if (prop_id == PROP_STALL_TIMEOUT) {
    g_atomic_int_set (&self->stall_timeout, (gint) g_value_get_uint (value));
    /* the watchdog picks up the new timeout; self->lock alone (leaf) */
    g_mutex_lock (&self->lock);
    g_cond_broadcast (&self->cond);
    g_mutex_unlock (&self->lock);
    return;
  }

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_CAMERA:
      g_free (self->camera);
      self->camera = g_value_dup_string (value);
      break;
    case PROP_BACKEND:
      self->backend = g_value_get_enum (value);
      break;
    case PROP_WIDTH:
      self->width = g_value_get_int (value);
      break;
    case PROP_HEIGHT:
      self->height = g_value_get_int (value);
      break;
    case PROP_FRAMERATE:
      self->fps_n = gst_value_get_fraction_numerator (value);
      self->fps_d = gst_value_get_fraction_denominator (value);
      break;
    case PROP_DEVICE_DIR:
      g_free (self->device_dir);
      self->device_dir = g_value_dup_string (value);
      break;
    case PROP_SOURCE_DESCRIPTION:
      g_free (self->description);
      self->description = g_value_dup_string (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_vlm_camera_src_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstVlmCameraSrc *self = GST_VLM_CAMERA_SRC (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_CAMERA:
      g_value_set_string (value, self->camera);
      break;
    case PROP_BACKEND:
      g_value_set_enum (value, self->backend);
      break;
    case PROP_WIDTH:
      g_value_set_int (value, self->width);
      break;
    case PROP_HEIGHT:
      g_value_set_int (value, self->height);
      break;
    case PROP_FRAMERATE:
      gst_value_set_fraction (value, self->fps_n, self->fps_d);
      break;
    case PROP_STALL_TIMEOUT:
      g_value_set_uint (value, (guint) g_atomic_int_get (&self->stall_timeout));
      break;
    case PROP_DEVICE_DIR:
      g_value_set_string (value, self->device_dir);
      break;
    case PROP_SOURCE_DESCRIPTION:
      g_value_set_string (value, self->description);
      break;
    case PROP_ACTIVE_BACKEND:
      g_value_set_string (value, self->active_backend);
      break;
    case PROP_ACTIVE_CAMERA:
      g_value_set_string (value, self->active_camera);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_vlm_camera_src_finalize (GObject * object)
{
  GstVlmCameraSrc *self = GST_VLM_CAMERA_SRC (object);

  g_free (self->camera);
  g_free (self->device_dir);
  g_free (self->description);
  g_free (self->active_backend);
  g_free (self->active_camera);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);

  G_OBJECT_CLASS (parent_class)->finalize (object);
}

/* ------------------------------------------------------------------ */
/* Camera probes                                                       */
/* ------------------------------------------------------------------ */

static void
settings_read (GstVlmCameraSrc * self, Settings * s)
{
  GST_OBJECT_LOCK (self);
  s->camera = g_strdup (self->camera);
  s->backend = self->backend;
  s->width = self->width;
  s->height = self->height;
  s->fps_n = self->fps_n;
  s->fps_d = self->fps_d;
  s->device_dir = g_strdup (self->device_dir ? self->device_dir : "/dev");
  s->description = g_strdup (self->description);
  GST_OBJECT_UNLOCK (self);

  /* an empty name means no name */
  if (s->camera && s->camera[0] == '\0')
    g_clear_pointer (&s->camera, g_free);
}

static void
settings_clear (Settings * s)
{
  g_free (s->camera);
  g_free (s->device_dir);
  g_free (s->description);
}

static gboolean
is_device_path (const gchar * camera)
{
  return camera != NULL && camera[0] == '/';
}

/* The index in names of the wanted camera: any when want is NULL, else
 * the same name, else the first containing it (case ignored); -1 = none. */
static gint
pick_camera (GPtrArray * names, const gchar * want)
{
  gchar *w;
  gint found = -1;

  if (names->len == 0)
    return -1;
  if (want == NULL)
    return 0;
  for (guint i = 0; i < names->len; i++)
    if (g_strcmp0 (names->pdata[i], want) == 0)
      return (gint) i;

  w = g_utf8_casefold (want, -1);
  for (guint i = 0; i < names->len && found < 0; i++) {
    gchar *n = g_utf8_casefold (names->pdata[i], -1);

    if (strstr (n, w) != NULL)
      found = (gint) i;
    g_free (n);
  }
  g_free (w);
  return found;
}

/* Appends "what" to the report of what was tried, "; "-separated. */
static void
tried_append (GString * tried, const gchar * format, ...)
    G_GNUC_PRINTF (2, 3);

static void
tried_append (GString * tried, const gchar * format, ...)
{
  va_list ap;

  if (tried->len > 0)
    g_string_append (tried, "; ");
  va_start (ap, format);
  g_string_append_vprintf (tried, format, ap);
  va_end (ap);
}

/* "a, b, c" of the names, for messages. */
static gchar *
join_names (GPtrArray * names)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < names->len; i++)
    g_string_append_printf (s, "%s%s", i ? ", " : "",
        (const gchar *) names->pdata[i]);
  return g_string_free (s, FALSE);
}

/* The libcamera camera wanted, as a libcamerasrc (floating), or NULL with
 * the reason appended to tried. */
static GstElement *
probe_libcamera (const gchar * want, gchar ** name, GString * tried)
{
  GstDeviceProvider *provider;
  GList *devices;
  GPtrArray *names;
  GstElement *source = NULL;
  gint i;

  if (is_device_path (want)) {
    tried_append (tried, "libcamera: takes a camera name, not a device "
        "path");
    return NULL;
  }
  provider = gst_device_provider_factory_get_by_name ("libcameraprovider");
  if (provider == NULL) {
    tried_append (tried, "libcamera: not installed (gstreamer1.0-libcamera)");
    return NULL;
  }

  devices = gst_device_provider_get_devices (provider);
  names = g_ptr_array_new_with_free_func (g_free);
  for (GList * l = devices; l; l = l->next)
    g_ptr_array_add (names, gst_device_get_display_name (l->data));

  i = pick_camera (names, want);
  if (i >= 0) {
    source = gst_device_create_element (g_list_nth_data (devices, i),
        "source");
    *name = g_strdup (names->pdata[i]);
  } else if (names->len == 0) {
    tried_append (tried, "libcamera: no camera");
  } else {
    gchar *all = join_names (names);

    tried_append (tried, "libcamera: no camera named \"%s\" (found: %s)",
        want, all);
    g_free (all);
  }

  g_ptr_array_unref (names);
  g_list_free_full (devices, gst_object_unref);
  gst_object_unref (provider);
  return source;
}

/* Whether path is a V4L2 video capture device; its card name in *card, or
 * why not in *why. */
static gboolean
v4l2_capture_card (const gchar * path, gchar ** card, gchar ** why)
{
  struct v4l2_capability cap;
  struct stat st;
  guint32 caps;
  int fd, ok;

  if (stat (path, &st) != 0) {
    *why = g_strdup (g_strerror (errno));
    return FALSE;
  }
  if (!S_ISCHR (st.st_mode)) {
    *why = g_strdup ("not a device");
    return FALSE;
  }
  fd = open (path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    *why = g_strdup (errno == EACCES ?
        "permission denied (is the user in the video group?)" :
        g_strerror (errno));
    return FALSE;
  }
  memset (&cap, 0, sizeof cap);
  ok = ioctl (fd, VIDIOC_QUERYCAP, &cap);
  close (fd);
  if (ok != 0) {
    *why = g_strdup ("not a V4L2 device");
    return FALSE;
  }

  caps = (cap.capabilities & V4L2_CAP_DEVICE_CAPS) ?
      cap.device_caps : cap.capabilities;
  if (!(caps & (V4L2_CAP_VIDEO_CAPTURE | V4L2_CAP_VIDEO_CAPTURE_MPLANE))) {
    *why = g_strdup ("no video capture (a metadata or output node)");
    return FALSE;
  }
  if (caps & (V4L2_CAP_VIDEO_M2M | V4L2_CAP_VIDEO_M2M_MPLANE |
          V4L2_CAP_VIDEO_OUTPUT | V4L2_CAP_VIDEO_OUTPUT_MPLANE)) {
    *why = g_strdup ("a memory-to-memory device (codec or converter)");
    return FALSE;
  }
  *card = g_strndup ((const gchar *) cap.card, sizeof cap.card);
  return TRUE;
}

/* N of a "videoN" file name, or -1. */
static gint
video_node_number (const gchar * name)
{
  const gchar *p;

  if (!g_str_has_prefix (name, "video") || name[5] == '\0')
    return -1;
  for (p = name + 5; *p; p++)
    if (!g_ascii_isdigit (*p))
      return -1;
  return (gint) g_ascii_strtoll (name + 5, NULL, 10);
}

static gint
compare_ints (gconstpointer a, gconstpointer b)
{
  gint x = *(const gint *) a, y = *(const gint *) b;

  return (x > y) - (x < y);
}

/* The videoN paths in dir, lowest N first; NULL when dir cannot be read
 * (reason in *why). */
static GPtrArray *
list_video_nodes (const gchar * dir, gchar ** why)
{
  GError *err = NULL;
  GDir *d = g_dir_open (dir, 0, &err);
  GArray *numbers;
  GPtrArray *paths;
  const gchar *name;

  if (d == NULL) {
    *why = g_strdup (err->message);
    g_error_free (err);
    return NULL;
  }
  numbers = g_array_new (FALSE, FALSE, sizeof (gint));
  while ((name = g_dir_read_name (d)) != NULL) {
    gint n = video_node_number (name);

    if (n >= 0)
      g_array_append_val (numbers, n);
  }
  g_dir_close (d);

  g_array_sort (numbers, compare_ints);
  paths = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < numbers->len; i++)
    g_ptr_array_add (paths, g_strdup_printf ("%s/video%d", dir,
            g_array_index (numbers, gint, i)));
  g_array_unref (numbers);
  return paths;
}

/* The V4L2 capture devices in dir: their paths and card names; the nodes
 * skipped, with why, in skipped. FALSE when dir cannot be read (why in
 * skipped). */
static gboolean
list_capture_devices (const gchar * dir, GPtrArray * paths, GPtrArray * cards,
    GString * skipped)
{
  gchar *why = NULL;
  GPtrArray *nodes = list_video_nodes (dir, &why);

  if (nodes == NULL) {
    g_string_append (skipped, why);
    g_free (why);
    return FALSE;
  }
  for (guint i = 0; i < nodes->len; i++) {
    const gchar *path = nodes->pdata[i];
    gchar *card = NULL;

    if (v4l2_capture_card (path, &card, &why)) {
      g_ptr_array_add (paths, g_strdup (path));
      g_ptr_array_add (cards, card);
    } else {
      gchar *base = g_path_get_basename (path);

      g_string_append_printf (skipped, "%s%s: %s", skipped->len ? ", " : "",
          base, why);
      g_free (base);
      g_free (why);
    }
  }
  g_ptr_array_unref (nodes);
  return TRUE;
}

/* The path of the wanted V4L2 capture device and its card name in *card,
 * or NULL with the reason appended to tried. */
static gchar *
find_v4l2_device (const gchar * want, const gchar * dir, gchar ** card,
    GString * tried)
{
  GPtrArray *paths, *cards;
  GString *skipped;
  gchar *path = NULL, *why = NULL;
  gint i;

  /* a device path is taken as it is */
  if (is_device_path (want)) {
    if (v4l2_capture_card (want, card, &why))
      return g_strdup (want);
    tried_append (tried, "V4L2: %s: %s", want, why);
    g_free (why);
    return NULL;
  }

  paths = g_ptr_array_new_with_free_func (g_free);
  cards = g_ptr_array_new_with_free_func (g_free);
  skipped = g_string_new (NULL);
  if (!list_capture_devices (dir, paths, cards, skipped)) {
    tried_append (tried, "V4L2: cannot read %s: %s", dir, skipped->str);
  } else if ((i = pick_camera (cards, want)) >= 0) {
    path = g_strdup (paths->pdata[i]);
    *card = g_strdup (cards->pdata[i]);
  } else if (cards->len == 0) {
    tried_append (tried, "V4L2: no capture device in %s%s%s%s", dir,
        skipped->len ? " (" : "", skipped->str, skipped->len ? ")" : "");
  } else {
    gchar *all = join_names (cards);

    tried_append (tried, "V4L2: no capture device named \"%s\" in %s "
        "(found: %s)", want, dir, all);
    g_free (all);
  }
  g_string_free (skipped, TRUE);
  g_ptr_array_unref (cards);
  g_ptr_array_unref (paths);
  return path;
}

/* The V4L2 camera wanted, as a v4l2src (floating), or NULL with the reason
 * appended to tried. */
static GstElement *
probe_v4l2 (const gchar * want, const gchar * dir, gchar ** name,
    GString * tried)
{
  gchar *card = NULL;
  gchar *path = find_v4l2_device (want, dir, &card, tried);
  GstElement *source;

  if (path == NULL)
    return NULL;
  source = gst_element_factory_make ("v4l2src", "source");
  if (source == NULL) {
    tried_append (tried, "V4L2: found %s, but v4l2src is not installed "
        "(gstreamer1.0-plugins-good)", path);
  } else {
    g_object_set (source, "device", path, NULL);
    *name = g_strdup_printf ("%s (%s)", card, path);
  }
  g_free (card);
  g_free (path);
  return source;
}

/* The camera source the settings ask for (floating), or NULL after posting
 * the error. *backend is set to the backend that found it. */
static GstElement *
open_probed_camera (GstVlmCameraSrc * self, const Settings * s,
    const gchar ** backend, gchar ** name)
{
  GString *tried = g_string_new (NULL);
  GstElement *source = NULL;
  gboolean try_libcamera = s->backend == GST_VLM_CAMERA_BACKEND_LIBCAMERA ||
      (s->backend == GST_VLM_CAMERA_BACKEND_AUTO &&
      !is_device_path (s->camera));

  if (try_libcamera) {
    *backend = "libcamera";
    source = probe_libcamera (s->camera, name, tried);
  }
  if (source == NULL && s->backend != GST_VLM_CAMERA_BACKEND_LIBCAMERA) {
    *backend = "v4l2";
    source = probe_v4l2 (s->camera, s->device_dir, name, tried);
  }
  if (source == NULL)
    goto not_found;

  g_string_free (tried, TRUE);
  return source;

  /* ERRORS */
not_found:
  {
    if (s->camera)
      GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND,
          ("Camera \"%s\" not found (%s).", s->camera, tried->str),
          ("gst_device_provider_get_devices() and VIDIOC_QUERYCAP found no "
              "camera named \"%s\": %s", s->camera, tried->str));
    else
      GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND,
          ("No camera found (%s).", tried->str),
          ("gst_device_provider_get_devices() and VIDIOC_QUERYCAP found no "
              "camera: %s", tried->str));
    g_string_free (tried, TRUE);
    return NULL;
  }
}

/* The source bin of a source-description (floating), or NULL after
 * posting the error. */
static GstElement *
open_description (GstVlmCameraSrc * self, const gchar * description)
{
  GError *err = NULL;
  GstElement *bin;
  GstPad *pad;

  bin = gst_parse_bin_from_description_full (description, TRUE, NULL,
      GST_PARSE_FLAG_FATAL_ERRORS, &err);
  if (bin == NULL)
    goto parse_failed;
  pad = gst_element_get_static_pad (bin, "src");
  if (pad == NULL)
    goto no_pad;
  gst_object_unref (pad);
  gst_object_set_name (GST_OBJECT (bin), "source");
  return bin;

  /* ERRORS */
parse_failed:
  {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("Invalid source-description \"%s\": %s", description,
            err ? err->message : "unknown error"),
        ("gst_parse_bin_from_description_full() failed"));
    g_clear_error (&err);
    return NULL;
  }
no_pad:
  {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("The source-description \"%s\" has no unlinked source pad.",
            description), ("gst_element_get_static_pad(\"src\") failed"));
    gst_object_unref (gst_object_ref_sink (bin));
    return NULL;
  }
}

/* Drops a floating element that was never added. */
static void
discard_element (GstElement * e)
{
  if (e)
    gst_object_unref (gst_object_ref_sink (e));
}

/* The wanted mode as a preference list of `media` (video/x-raw or
 * image/jpeg): that size at that rate, that size at any rate, up to that
 * size at up to that rate, anything. */
static GstCaps *
mode_caps (const Settings * s, const gchar * media)
{
  GstCaps *caps = gst_caps_new_empty ();

  gst_caps_append_structure (caps, gst_structure_new (media,
          "width", G_TYPE_INT, s->width, "height", G_TYPE_INT, s->height,
          "framerate", GST_TYPE_FRACTION, s->fps_n, s->fps_d, NULL));
  gst_caps_append_structure (caps, gst_structure_new (media,
          "width", G_TYPE_INT, s->width, "height", G_TYPE_INT, s->height,
          NULL));
  gst_caps_append_structure (caps, gst_structure_new (media,
          "width", GST_TYPE_INT_RANGE, 1, s->width,
          "height", GST_TYPE_INT_RANGE, 1, s->height,
          "framerate", GST_TYPE_FRACTION_RANGE, 0, 1, s->fps_n, s->fps_d,
          NULL));
  gst_caps_append_structure (caps, gst_structure_new_empty (media));
  return caps;
}

/* The first preference of `wanted` that `offered` has (0 = the wanted
 * mode), or G_MAXUINT when none. */
static guint
best_preference (GstCaps * offered, GstCaps * wanted)
{
  for (guint i = 0; i < gst_caps_get_size (wanted); i++) {
    GstCaps *one = gst_caps_copy_nth (wanted, i);
    gboolean hit = gst_caps_can_intersect (offered, one);

    gst_caps_unref (one);
    if (hit)
      return i;
  }
  return G_MAXUINT;
}

/* Whether to take the camera's Motion JPEG rather than its raw video: when
 * MJPEG has a better match for the wanted mode (USB webcams often give 720p
 * at 30 fps only as MJPEG). Asks the source, opened in READY, what it
 * offers; state-change thread. */
static gboolean
prefer_mjpeg (GstElement * source, const Settings * s)
{
  GstPad *pad = gst_element_get_static_pad (source, "src");
  GstCaps *offered, *raw, *jpeg;
  gboolean mjpeg = FALSE;

  if (pad == NULL)
    return FALSE;
  if (gst_element_set_state (source, GST_STATE_READY) !=
      GST_STATE_CHANGE_FAILURE) {
    offered = gst_pad_query_caps (pad, NULL);
    raw = mode_caps (s, "video/x-raw");
    jpeg = mode_caps (s, "image/jpeg");
    mjpeg = best_preference (offered, jpeg) < best_preference (offered, raw);
    gst_caps_unref (offered);
    gst_caps_unref (raw);
    gst_caps_unref (jpeg);
  }
  gst_element_set_state (source, GST_STATE_NULL);
  gst_object_unref (pad);
  return mjpeg;
}

static GstPadProbeReturn frame_probe (GstPad * pad, GstPadProbeInfo * info,
    gpointer user_data);

/* Adds source ! capsfilter (wanted mode) [! jpegdec] ! videoconvert !
 * videoscale and targets the ghost pad at the end. Takes source. FALSE
 * after posting the error; the caller then removes what was added. */
static gboolean
build_chain (GstVlmCameraSrc * self, GstElement * source, const Settings * s)
{
  gboolean mjpeg = prefer_mjpeg (source, s);
  GstElement *filter = gst_element_factory_make ("capsfilter", "mode");
  GstElement *decode = mjpeg ? gst_element_factory_make ("jpegdec", "decode")
      : NULL;
  GstElement *convert = gst_element_factory_make ("videoconvert", "convert");
  GstElement *scale = gst_element_factory_make ("videoscale", "scale");
  GstCaps *caps;
  GstPad *pad;

  if (filter == NULL || (mjpeg && decode == NULL) || convert == NULL
      || scale == NULL)
    goto missing_element;

  GST_INFO_OBJECT (self, "camera output: %s", mjpeg ? "Motion JPEG" : "raw");
  caps = mode_caps (s, mjpeg ? "image/jpeg" : "video/x-raw");
  g_object_set (filter, "caps", caps, NULL);
  gst_caps_unref (caps);

  gst_bin_add_many (GST_BIN (self), source, filter, convert, scale, NULL);
  if (decode != NULL) {
    gst_bin_add (GST_BIN (self), decode);
    if (!gst_element_link_many (source, filter, decode, convert, NULL))
      goto link_failed;
  } else if (!gst_element_link_many (source, filter, convert, NULL)) {
    goto link_failed;
  }
  if (!gst_element_link (convert, scale))
    goto link_failed;

  /* every frame and EOS from the camera feeds the stall watchdog */
  pad = gst_element_get_static_pad (filter, "sink");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER |
      GST_PAD_PROBE_TYPE_BUFFER_LIST | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM |
      GST_PAD_PROBE_TYPE_EVENT_FLUSH, frame_probe, self, NULL);
  gst_object_unref (pad);

  pad = gst_element_get_static_pad (scale, "src");
  gst_ghost_pad_set_target (GST_GHOST_PAD (self->srcpad), pad);
  gst_object_unref (pad);
  return TRUE;

  /* ERRORS */
missing_element:
  {
    GST_ELEMENT_ERROR (self, CORE, MISSING_PLUGIN,
        ("The GStreamer elements capsfilter, videoconvert, videoscale "
            "(gstreamer1.0-plugins-base) and, for Motion JPEG cameras, "
            "jpegdec (gstreamer1.0-plugins-good) are needed."),
        ("gst_element_factory_make() failed"));
    discard_element (source);
    discard_element (filter);
    discard_element (decode);
    discard_element (convert);
    discard_element (scale);
    return FALSE;
  }
link_failed:
  {
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION,
        ("The camera source does not give raw video."),
        ("gst_element_link_many() failed: %s ! capsfilter%s ! "
            "videoconvert ! videoscale", GST_OBJECT_NAME (source),
            mjpeg ? " ! jpegdec" : ""));
    return FALSE;
  }
}

/* Removes every child and forgets the camera. State-change thread. */
static void
close_camera (GstVlmCameraSrc * self)
{
  GList *children = NULL;

  gst_ghost_pad_set_target (GST_GHOST_PAD (self->srcpad), NULL);

  GST_OBJECT_LOCK (self);
  for (GList * l = GST_BIN_CHILDREN (self); l; l = l->next)
    children = g_list_prepend (children, gst_object_ref (l->data));
  GST_OBJECT_UNLOCK (self);
  for (GList * l = children; l; l = l->next) {
    gst_element_set_state (l->data, GST_STATE_NULL);
    gst_bin_remove (GST_BIN (self), l->data);
  }
  g_list_free_full (children, gst_object_unref);

  GST_OBJECT_LOCK (self);
  g_clear_pointer (&self->active_backend, g_free);
  g_clear_pointer (&self->active_camera, g_free);
  GST_OBJECT_UNLOCK (self);

  /* self->lock after the object lock is released, never nested */
  g_mutex_lock (&self->lock);
  self->eos = FALSE;
  g_mutex_unlock (&self->lock);
}

/* Finds the camera and builds the children. FALSE after posting the
 * error. State-change thread. */
static gboolean
open_camera (GstVlmCameraSrc * self)
{
  Settings s;
  GstElement *source;
  const gchar *backend = "description";
  gchar *name = NULL;
  gboolean ok;

  settings_read (self, &s);
  if (s.description) {
    source = open_description (self, s.description);
    name = g_strdup (s.description);
  } else {
    source = open_probed_camera (self, &s, &backend, &name);
  }
  ok = source != NULL && build_chain (self, source, &s);

  if (ok) {
    GST_INFO_OBJECT (self, "camera %s (%s), wanted %dx%d at %d/%d fps", name,
        backend, s.width, s.height, s.fps_n, s.fps_d);
    GST_OBJECT_LOCK (self);
    g_free (self->active_backend);
    self->active_backend = g_strdup (backend);
    g_free (self->active_camera);
    self->active_camera = g_strdup (name);
    GST_OBJECT_UNLOCK (self);
    g_object_notify (G_OBJECT (self), "active-backend");
    g_object_notify (G_OBJECT (self), "active-camera");
  } else {
    close_camera (self);
  }
  g_free (name);
  settings_clear (&s);
  return ok;
}

/* ------------------------------------------------------------------ */
/* Stall watchdog                                                      */
/* ------------------------------------------------------------------ */

/* Streaming thread: notes each frame and the end of the stream. */
static GstPadProbeReturn
frame_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  GstVlmCameraSrc *self = user_data;
  gboolean frame = TRUE, ended = FALSE, restarted = FALSE;

  if (GST_IS_EVENT (GST_PAD_PROBE_INFO_DATA (info))) {
    GstEventType type = GST_EVENT_TYPE (GST_PAD_PROBE_INFO_EVENT (info));

    frame = FALSE;
    ended = type == GST_EVENT_EOS;
    restarted = type == GST_EVENT_STREAM_START || type == GST_EVENT_FLUSH_STOP;
  }
  if (!frame && !ended && !restarted)
    return GST_PAD_PROBE_OK;

  /* self->lock alone (leaf) */
  g_mutex_lock (&self->lock);
  if (ended || restarted) {
    self->eos = ended;
    g_cond_broadcast (&self->cond);
  }
  if (frame || restarted)
    self->last_frame_us = g_get_monotonic_time ();
  g_mutex_unlock (&self->lock);
  return GST_PAD_PROBE_OK;
}

static void
post_stalled (GstVlmCameraSrc * self, gint timeout)
{
  gchar *camera;

  /* the object lock alone: the watchdog released self->lock */
  GST_OBJECT_LOCK (self);
  camera = g_strdup (self->active_camera);
  GST_OBJECT_UNLOCK (self);

  GST_ELEMENT_ERROR (self, RESOURCE, READ,
      ("The camera stopped sending frames."),
      ("no buffer from %s on the capsfilter sink pad for %d s "
          "(stall-timeout)", camera ? camera : "the camera", timeout));
  g_free (camera);
}

/* Watchdog thread: posts the stall error once when no frame came for
 * stall-timeout seconds, then ends; ends too when told to stop. */
static gpointer
watchdog_run (gpointer data)
{
  GstVlmCameraSrc *self = data;
  gboolean stalled = FALSE;
  gint timeout = 0;

  /* self->lock alone (leaf), released while waiting */
  g_mutex_lock (&self->lock);
  while (!self->watchdog_stop && !stalled) {
    gint64 deadline;

    timeout = g_atomic_int_get (&self->stall_timeout);
    deadline = self->last_frame_us + timeout * G_TIME_SPAN_SECOND;
    if (timeout == 0 || self->eos)
      g_cond_wait (&self->cond, &self->lock);
    else if (g_get_monotonic_time () >= deadline)
      stalled = TRUE;
    else
      g_cond_wait_until (&self->cond, &self->lock, deadline);
  }
  g_mutex_unlock (&self->lock);

  if (stalled)
    post_stalled (self, timeout);
  return NULL;
}

/* PAUSED to PLAYING: the time without frames counts from now. */
static void
watchdog_start (GstVlmCameraSrc * self)
{
  /* self->lock alone (leaf) */
  g_mutex_lock (&self->lock);
  self->watchdog_stop = FALSE;
  self->last_frame_us = g_get_monotonic_time ();
  g_mutex_unlock (&self->lock);

  self->watchdog = g_thread_new ("vlmcamera-watch", watchdog_run, self);
}

/* PLAYING to PAUSED: ends the watchdog thread and waits for it, unless
 * this is that thread (an application that stops the pipeline from a
 * bus sync handler of the stall error). */
static void
watchdog_stop (GstVlmCameraSrc * self)
{
  GThread *thread = self->watchdog;

  if (thread == NULL)
    return;
  self->watchdog = NULL;

  /* self->lock alone (leaf), released before the join */
  g_mutex_lock (&self->lock);
  self->watchdog_stop = TRUE;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);

  if (thread == g_thread_self ())
    g_thread_unref (thread);
  else
    g_thread_join (thread);
}

/* ------------------------------------------------------------------ */
/* GstElement                                                          */
/* ------------------------------------------------------------------ */

static GstStateChangeReturn
gst_vlm_camera_src_change_state (GstElement * element,
    GstStateChange transition)
{
  GstVlmCameraSrc *self = GST_VLM_CAMERA_SRC (element);
  GstStateChangeReturn ret;

  switch (transition) {
    case GST_STATE_CHANGE_NULL_TO_READY:
      if (!open_camera (self))
        return GST_STATE_CHANGE_FAILURE;
      break;
    case GST_STATE_CHANGE_PLAYING_TO_PAUSED:
      watchdog_stop (self);
      break;
    default:
      break;
  }

  ret = GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);
  if (ret == GST_STATE_CHANGE_FAILURE) {
    if (transition == GST_STATE_CHANGE_NULL_TO_READY)
      close_camera (self);
    return ret;
  }

  switch (transition) {
    case GST_STATE_CHANGE_PAUSED_TO_PLAYING:
      watchdog_start (self);
      break;
    case GST_STATE_CHANGE_READY_TO_NULL:
      close_camera (self);
      break;
    default:
      break;
  }
  return ret;
}

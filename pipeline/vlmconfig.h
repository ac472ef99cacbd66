/* gst-vlm — scanner configuration: key file, defaults, command-line overrides.
 *
 * The configuration of the scene-narration pipeline and the scanner app,
 * read from a GLib key file, by default
 * $XDG_CONFIG_HOME/gst-vlm/scanner.conf (~/.config/gst-vlm/scanner.conf):
 *
 *   [model]
 *   text = /path/MobileVLM_V2-1.7B-Q4_K_M.gguf     ; model=... of vlmdescribe
 *   mmproj = /path/mmproj-model-f16.gguf
 *   threads = 0                ; 0 = one per online CPU
 *   max-tokens = 64
 *   temperature = 0.2
 *
 *   [source]
 *   kind = camera              ; camera | uri | test
 *   camera =                   ; name or /dev/videoN; empty = first camera
 *   uri =                      ; file path or URI (kind = uri)
 *   width = 1280
 *   height = 720
 *   framerate = 30/1
 *   fallback = none            ; none | test: no camera -> test pattern
 *
 *   [describe]
 *   rate = 1/3                 ; captions per second at most (continuous)
 *   continuous = true          ; false: only on "describe now"
 *   scene-change = 0.02        ; 0..1, 0 = describe every due frame
 *   resize-mode = letterbox    ; letterbox | crop
 *   gl = auto                  ; auto | on | off (GPU resize path)
 *
 *   [prompts]                  ; presets, in this order, cycled by the app
 *   scene = Describe the scene in front of me in one or two short sentences.
 *   text = Read the text in this image.
 *   ahead = What is directly in front of me? Mention obstacles.
 *   default = scene
 *
 *   [thermal]
 *   zone =                     ; empty = hottest CPU-like zone
 *   throttle = 70              ; degrees Celsius
 *   cooldown = 85
 *   resume = 75
 *
 *   [overlay]
 *   theme = high-contrast      ; dark | high-contrast | light | clear
 *   position = bottom          ; bottom | top | center
 *   font-size = 0.06           ; fraction of the frame height
 *
 *   [speech]
 *   enabled = true
 *   voice = en
 *   rate = 175                 ; words per minute, 80..450
 *
 * Unknown groups or keys and bad values are errors that name the file,
 * line, group and key ("scanner.conf:12: [describe] rate: '1/0' is not a
 * fraction > 0"), so a typo never silently falls back to a default.
 *
 * Syntax (as GKeyFile, plus comments after values): lines starting with
 * '#' or ';' are comments, and so is the rest of a line from a '#' or ';'
 * that follows a blank (as in the example above); an empty value ("key =")
 * is "not set" for the optional strings (text, mmproj, camera, uri, zone).
 * Escapes in values: \s (space), \t, \n, \r, \\, \; and \#. A key may
 * appear once per file. Booleans: true/false, yes/no, 1/0; names of enums
 * (kind, fallback, resize-mode, gl, theme, position) ignore case.
 * resize-mode also takes "stretch" (as vlmdescribe). Ranges: threads
 * 0..256, width and height 1..16384, framerate 1/1000..1000/1, rate
 * > 0 and <= 1000/1, temperatures -100..200 with throttle < cooldown and
 * resume < cooldown, font-size 0.001..1.
 * In [prompts], "default" names the default preset (the first when not
 * given); the other keys (letters, digits, '-', '_') are presets.
 *
 * Thread safety: a VlmConfig is plain data; functions that change one must
 * not run concurrently with others on the same config.
 */
#ifndef VLM_CONFIG_H
#define VLM_CONFIG_H

#include <glib.h>

G_BEGIN_DECLS

#define VLM_CONFIG_ERROR (vlm_config_error_quark ())
GQuark vlm_config_error_quark (void);

typedef enum {
  VLM_CONFIG_ERROR_IO,          /* file cannot be read */
  VLM_CONFIG_ERROR_PARSE,       /* not a key file (syntax), with line */
  VLM_CONFIG_ERROR_KEY,         /* unknown group or key, with line */
  VLM_CONFIG_ERROR_VALUE,       /* bad value, with line, group and key */
} VlmConfigError;

typedef enum {
  VLM_SOURCE_CAMERA = 0,        /* vlmcamerasrc (libcamera, else V4L2) */
  VLM_SOURCE_URI,               /* a file or URI (uridecodebin) */
  VLM_SOURCE_TEST,              /* videotestsrc */
} VlmSourceKind;

typedef enum {
  VLM_GL_AUTO = 0,              /* GL resize when a GL context can be made */
  VLM_GL_ON,                    /* GL or an error */
  VLM_GL_OFF,                   /* CPU path */
} VlmGlMode;

typedef struct {
  gchar *name;                  /* key in [prompts], e.g. "scene" */
  gchar *prompt;                /* the question asked */
} VlmPromptPreset;

typedef struct {
  /* [model] */
  gchar *model;                 /* text GGUF; NULL = none configured */
  gchar *mmproj;                /* projector GGUF; NULL = none configured */
  gint threads;                 /* 0 = one per online CPU */
  gint max_tokens;              /* 1..4096 */
  gdouble temperature;          /* 0..2 */

  /* [source] */
  VlmSourceKind source;
  gchar *camera;                /* NULL = first camera */
  gchar *uri;                   /* file path or URI; NULL unless set */
  gint width, height;           /* wanted camera mode (pixels) */
  gint fps_n, fps_d;            /* wanted camera frame rate */
  gboolean fallback_test;       /* no camera -> test pattern */

  /* [describe] */
  gint rate_n, rate_d;          /* captions per second at most */
  gboolean continuous;          /* FALSE: describe on request only */
  gdouble scene_change;         /* 0..1 */
  gchar *resize_mode;           /* "letterbox" | "crop" */
  VlmGlMode gl;

  /* [prompts] */
  VlmPromptPreset *presets;     /* n_presets >= 1, in file order */
  gint n_presets;
  gint preset;                  /* index of the default preset */

  /* [thermal] */
  gchar *thermal_zone;          /* NULL = automatic */
  gdouble throttle_temp, cooldown_temp, resume_temp;

  /* [overlay] */
  gchar *theme;                 /* vlmoverlay theme nick */
  gchar *position;              /* vlmoverlay position nick */
  gdouble font_size;            /* fraction of the frame height */

  /* [speech] */
  gboolean speech;
  gchar *voice;                 /* espeak-ng voice name */
  gint speech_rate;             /* words per minute, 80..450 */
} VlmConfig;

/* A new config holding the defaults above (three prompt presets: scene,
 * text, ahead). Free with vlm_config_free(). Never NULL. */
VlmConfig *vlm_config_new (void);

void vlm_config_free (VlmConfig * config);

/* The default file: $XDG_CONFIG_HOME/gst-vlm/scanner.conf (newly
 * allocated, g_free it). The file need not exist. */
gchar *vlm_config_default_path (void);

/* Reads a key file over the values in config. Keys absent from the file
 * keep their values; a [prompts] group replaces the presets. On error
 * returns FALSE with err set (message: "PATH:LINE: [group] key: what") and
 * leaves config unchanged. */
gboolean vlm_config_load_file (VlmConfig * config, const gchar * path,
    GError ** err);

/* Same as vlm_config_load_file() on text in memory; name stands for the
 * path in messages. */
gboolean vlm_config_load_data (VlmConfig * config, const gchar * data,
    gsize len, const gchar * name, GError ** err);

/* Sets one value as if read from the file, for command-line overrides:
 * "group.key=value" (e.g. "describe.rate=1/2"). On error returns FALSE
 * with err set ("--set describe.rate: ...") and config unchanged.
 * "prompts.NAME=..." replaces or adds one preset (the others stay);
 * "prompts.default=NAME" picks the default preset. */
gboolean vlm_config_set (VlmConfig * config, const gchar * assignment,
    GError ** err);

/* The configuration as key-file text (every key, with the values in
 * config), e.g. for `vlm-scanner --print-config`. g_free the result. */
gchar *vlm_config_to_data (const VlmConfig * config);

/* Added: a deep copy of config; free with vlm_config_free(). */
VlmConfig *vlm_config_copy (const VlmConfig * config);

/* Added: whether a and b hold the same values (presets, their order and
 * the default preset included). */
gboolean vlm_config_equal (const VlmConfig * a, const VlmConfig * b);

G_END_DECLS

#endif /* VLM_CONFIG_H */

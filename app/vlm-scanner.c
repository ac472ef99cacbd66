/* gst-vlm — vlm-scanner: scene narration for blind and low-vision people.
 *
 * Shows the camera (or a file, or a test pattern) with the caption that
 * the on-device VLM streams over it, and speaks each caption. Keyboard and
 * gamepad controls (scanner-controls.c); --headless prints the captions
 * and writes WebVTT instead.
 *
 * Init, loop, cleanup around one Scanner struct. The pipeline's callbacks
 * (GStreamer threads) reach the loop only through SDL events
 * (scanner-events.c); speech audio goes from the speech thread straight to
 * SDL's audio queue (scanner-audio.c).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <SDL.h>
#include <gst/gst.h>

#include "scanner-app.h"
#include "scanner-audio.h"
#include "scanner-cues.h"
#include "scanner-events.h"
#include "scanner-options.h"
#include "scanner-ui.h"
#include "vlmpipeline.h"
#include "vlmvtt.h"
#if HAVE_SPEECH
#include "vlmspeech.h"
#endif

#define WINDOW_W 1280
#define WINDOW_H 800
#define SPEECH_RATE_HZ 22050            /* espeak-ng's output rate */
#define CUE_HOLD (4 * SCANNER_CUES_SECOND)
#define SCREENSHOT_FRAMES 5             /* frames after the caption */

typedef struct {
  ScannerOptions opts;
  VlmConfig *config;
  ScannerFeed feed;
  ScannerApp app;
  bool app_ready;
  VlmPipeline *pipeline;
#if HAVE_SPEECH
  VlmSpeech *speech;
#endif
  ScannerAudio audio;
  ScannerUi ui;
  bool window;                  /* ui is open */
  VlmVtt *vtt;
  ScannerCues cues;
  bool vtt_failed;
  unsigned frames_after_caption;
  bool screenshot_done;
  int exit_code;
} Scanner;

static void
die_msg (const char *what, const char *detail)
{
  fprintf (stderr, "vlm-scanner: %s%s%s\n", what, detail ? ": " : "",
      detail ? detail : "");
}

/* ==================================================================== */
/* Pipeline and speech behind the app's ops                             */
/* ==================================================================== */

static void
pipe_describe_now (void *ctx)
{
  vlm_pipeline_describe_now (ctx);
}

static void
pipe_set_continuous (void *ctx, bool continuous)
{
  vlm_pipeline_set_continuous (ctx, continuous);
}

static void
pipe_set_prompt (void *ctx, const char *prompt)
{
  vlm_pipeline_set_prompt (ctx, prompt);
}

#if HAVE_SPEECH
static void
speech_caption (void *ctx, uint64_t id, const char *text, bool final)
{
  vlm_speech_caption (ctx, id, text, final);
}

static void
speech_say (void *ctx, const char *text)
{
  vlm_speech_say (ctx, text);
}

static int
speech_set_rate (void *ctx, int rate)
{
  return vlm_speech_set_rate (ctx, rate);
}

static void
speech_set_muted (void *ctx, bool muted)
{
  vlm_speech_set_muted (ctx, muted);
}

/* Speech thread: PCM to SDL's queue (SDL_QueueAudio is thread-safe). */
static void
speech_audio (const int16_t * pcm, size_t n, int rate, void *user_data)
{
  scanner_audio_play (user_data, pcm, n, rate);
}

static void
speech_flush (void *user_data)
{
  scanner_audio_flush (user_data);
}

/* Audio device and espeak-ng; on failure speech is off, the app runs. */
static void
speech_start (Scanner * s)
{
  VlmSpeechParams sp = vlm_speech_params_default ();
  char err[512], *msg = NULL;

  if (SDL_InitSubSystem (SDL_INIT_AUDIO) != 0) {
    die_msg ("speech off: no audio", SDL_GetError ());
    return;
  }
  if (!scanner_audio_open (&s->audio, SPEECH_RATE_HZ, err, sizeof err)) {
    die_msg ("speech off", err);
    return;
  }
  sp.voice = s->config->voice;
  sp.rate = s->config->speech_rate;
  sp.on_audio = speech_audio;
  sp.on_flush = speech_flush;
  sp.user_data = &s->audio;
  s->speech = vlm_speech_new (sp, &msg);
  if (s->speech == NULL) {
    die_msg ("speech off", msg ? msg : "espeak-ng failed");
    free (msg);
    scanner_audio_close (&s->audio);
    return;
  }
  if (s->opts.verbose)
    fprintf (stderr, "vlm-scanner: speech: voice %s, %d words per minute, "
        "audio out through %s\n", sp.voice ? sp.voice : "default", sp.rate,
        SDL_GetCurrentAudioDriver ());
}

static ScannerSpeechOps
speech_ops (Scanner * s)
{
  ScannerSpeechOps ops = { 0 };

  if (s->speech) {
    ops.caption = speech_caption;
    ops.say = speech_say;
    ops.set_rate = speech_set_rate;
    ops.set_muted = speech_set_muted;
    ops.ctx = s->speech;
  }
  return ops;
}
#else
static void
speech_start (Scanner * s)
{
  die_msg ("speech off", "built without espeak-ng");
}

static ScannerSpeechOps
speech_ops (Scanner * s)
{
  ScannerSpeechOps ops = { 0 };
  return ops;
}
#endif

/* ==================================================================== */
/* Captions out: stdout and WebVTT                                      */
/* ==================================================================== */

static bool
write_cue (uint64_t start, uint64_t end, const char *text, void *user_data)
{
  Scanner *s = user_data;

  if (vlm_vtt_add_cue (s->vtt, start, end, text))
    return true;
  die_msg ("cannot write the captions", vlm_vtt_error (s->vtt));
  return false;
}

/* "[00:00:03.000] text" on one line; the cue of the previous caption. */
static void
on_final (const char *text, uint64_t id, uint64_t pts, void *user_data)
{
  Scanner *s = user_data;
  char when[32];

  if (pts == UINT64_MAX)
    snprintf (when, sizeof when, "--:--:--.---");
  else
    vlm_vtt_format_time (pts, when);
  printf ("[%s] ", when);
  for (const char *c = text; *c; c++)
    putchar (*c == '\n' || *c == '\r' ? ' ' : *c);
  putchar ('\n');
  fflush (stdout);
  if (s->vtt && !scanner_cues_add (&s->cues, pts, text, write_cue, s))
    s->vtt_failed = true;
}

/* The clip's length, for the last cue (unknown for live sources); asked
 * before the pipeline stops. */
static uint64_t
clip_end (Scanner * s)
{
  gint64 duration = -1;
  GstElement *pipe = s->pipeline ? vlm_pipeline_get_element (s->pipeline) :
      NULL;

  if (s->app.eos && pipe
      && gst_element_query_duration (pipe, GST_FORMAT_TIME, &duration)
      && duration > 0)
    return (uint64_t) duration;
  return SCANNER_CUES_NONE;
}

static bool
vtt_open (Scanner * s)
{
  char *msg = NULL;

  if (s->opts.output == NULL)
    return true;
  s->vtt = vlm_vtt_open (s->opts.output, &msg);
  if (s->vtt == NULL) {
    die_msg (msg ? msg : "cannot write the captions file", NULL);
    free (msg);
    return false;
  }
  scanner_cues_init (&s->cues, CUE_HOLD);
  return true;
}

/* Last cue, then the file; a failed write is a runtime error. */
static void
vtt_close (Scanner * s, uint64_t end)
{
  char *msg = NULL;

  if (s->vtt == NULL)
    return;
  if (!scanner_cues_finish (&s->cues, end, write_cue, s))
    s->vtt_failed = true;
  scanner_cues_clear (&s->cues);
  if (!vlm_vtt_close (s->vtt, &msg)) {
    die_msg (msg ? msg : "cannot write the captions file", NULL);
    s->vtt_failed = true;
  }
  free (msg);
  s->vtt = NULL;
}

/* ==================================================================== */
/* Init                                                                 */
/* ==================================================================== */

/* A local input file must exist (a URI is the pipeline's business). */
static bool
input_exists (const VlmConfig * c)
{
  gchar *path;
  bool ok;

  if (c->source != VLM_SOURCE_URI)
    return true;
  if (c->uri == NULL) {
    die_msg ("no input: use --input FILE_OR_URI or [source] uri", NULL);
    return false;
  }
  if (strstr (c->uri, "://") && !g_str_has_prefix (c->uri, "file://"))
    return true;
  path = g_str_has_prefix (c->uri, "file://") ?
      g_filename_from_uri (c->uri, NULL, NULL) : g_strdup (c->uri);
  ok = path && g_file_test (path, G_FILE_TEST_IS_REGULAR);
  if (!ok)
    fprintf (stderr, "vlm-scanner: input '%s': no such file\n", c->uri);
  g_free (path);
  return ok;
}

/* Cameras GStreamer can see (libcamera, V4L2, PipeWire providers). */
static int
list_cameras (void)
{
  GstDeviceMonitor *mon = gst_device_monitor_new ();
  GList *devices, *l;
  int n = 0;

  gst_device_monitor_add_filter (mon, "Video/Source", NULL);
  devices = gst_device_monitor_get_devices (mon);
  for (l = devices; l; l = l->next, n++) {
    gchar *name = gst_device_get_display_name (l->data);
    GstStructure *props = gst_device_get_properties (l->data);
    const gchar *path = props ? gst_structure_get_string (props,
        "device.path") : NULL;

    printf ("%s%s%s\n", name, path ? "\t" : "", path ? path : "");
    g_free (name);
    if (props)
      gst_structure_free (props);
  }
  g_list_free_full (devices, gst_object_unref);
  gst_object_unref (mon);
  if (n == 0)
    fprintf (stderr, "vlm-scanner: no camera found\n");
  return n > 0 ? SCANNER_EXIT_OK : SCANNER_EXIT_RUNTIME;
}

/* Options and configuration; returns -1 to go on, else an exit code. */
static int
init_config (Scanner * s, int argc, char **argv)
{
  char err[512];
  GError *error = NULL;

  if (scanner_options_parse (&s->opts, argc, argv, err, sizeof err) != 0) {
    fprintf (stderr, "vlm-scanner: %s\nTry 'vlm-scanner --help'.\n", err);
    return SCANNER_EXIT_USAGE;
  }
  if (s->opts.help) {
    fputs (scanner_options_usage (), stdout);
    return SCANNER_EXIT_OK;
  }
  s->config = scanner_options_config (&s->opts, &error);
  if (s->config == NULL) {
    die_msg (error->message, NULL);
    g_error_free (error);
    return SCANNER_EXIT_USAGE;
  }
  if (s->opts.print_config) {
    gchar *text = vlm_config_to_data (s->config);

    fputs (text, stdout);
    g_free (text);
    return SCANNER_EXIT_OK;
  }
  if (s->opts.list_cameras)
    return list_cameras ();
  if (!input_exists (s->config))
    return SCANNER_EXIT_USAGE;
  /* headless: narrate continuously, no one is there to ask */
  if (s->opts.headless)
    s->config->continuous = TRUE;
  return -1;
}

/* SDL falls back to its invisible "offscreen" driver when no display
 * answers: only an explicit SDL_VIDEODRIVER may choose that. */
static bool
real_display (void)
{
  const char *driver = SDL_GetCurrentVideoDriver ();

  if (getenv ("SDL_VIDEODRIVER"))
    return true;
  return driver && strcmp (driver, "offscreen") != 0
      && strcmp (driver, "dummy") != 0;
}

static bool
init_sdl (Scanner * s)
{
  Uint32 flags = SDL_INIT_EVENTS;

  if (!s->opts.headless)
    flags |= SDL_INIT_VIDEO | SDL_INIT_GAMECONTROLLER;
  SDL_SetHint (SDL_HINT_JOYSTICK_ALLOW_BACKGROUND_EVENTS, "1");
  if (SDL_Init (flags) != 0) {
    die_msg (s->opts.headless ? "cannot start" : "cannot open the display",
        SDL_GetError ());
    return false;
  }
  if (!s->opts.headless && !real_display ()) {
    die_msg ("no display (set DISPLAY or WAYLAND_DISPLAY, or use --headless)",
        NULL);
    return false;
  }
  if (!scanner_events_init ()) {
    die_msg ("cannot register events", SDL_GetError ());
    return false;
  }
  return true;
}

static void
init_app (Scanner * s)
{
  ScannerPipelineOps pops = { pipe_describe_now, pipe_set_continuous,
    pipe_set_prompt, NULL
  };
  ScannerSpeechOps sops = speech_ops (s);

  scanner_app_init (&s->app, s->config, &pops, &sops, &s->feed);
  s->app.on_final = on_final;
  s->app.on_final_data = s;
  s->app.max_finals = s->opts.max_captions;
  s->app_ready = true;
}

static void
hint_model (void)
{
  gchar *path = vlm_config_default_path ();

  fprintf (stderr, "vlm-scanner: give --model TEXT.gguf --mmproj MMPROJ.gguf,"
      " or set [model] text and mmproj in %s\n", path);
  g_free (path);
}

static bool
init_pipeline (Scanner * s)
{
  VlmPipelineOptions po = vlm_pipeline_options_default ();
  VlmPipelineCallbacks cb = scanner_events_callbacks (&s->feed);
  GError *error = NULL;

  po.sink = s->opts.headless ? VLM_SINK_NONE : VLM_SINK_APP;
  /* files in headless mode: as fast as they decode */
  po.sync = !(s->opts.headless && s->config->source == VLM_SOURCE_URI
      && !s->opts.realtime);
  po.overlay = TRUE;
  if (s->opts.headless)
    cb.on_frame = NULL;
  s->pipeline = vlm_pipeline_new (s->config, &po, &cb, &error);
  if (s->pipeline == NULL) {
    die_msg (error ? error->message : "cannot build the pipeline", NULL);
    if (g_error_matches (error, VLM_PIPELINE_ERROR,
            VLM_PIPELINE_ERROR_NO_MODEL))
      hint_model ();
    g_clear_error (&error);
    return false;
  }
  s->app.pipeline.ctx = s->pipeline;
  if (s->opts.verbose)
    fprintf (stderr, "vlm-scanner: pipeline: %s\n",
        vlm_pipeline_describe_graph (s->pipeline));
  return true;
}

static bool
start_pipeline (Scanner * s)
{
  GError *error = NULL;

  if (vlm_pipeline_start (s->pipeline, &error))
    return true;
  die_msg (error ? error->message : "the pipeline did not start", NULL);
  g_clear_error (&error);
  return false;
}

static void
log_window (ScannerUi * ui)
{
  SDL_RendererInfo info;

  if (SDL_GetRendererInfo (ui->renderer, &info) != 0)
    info.name = "?";
  fprintf (stderr, "vlm-scanner: window: %s, renderer %s\n",
      SDL_GetCurrentVideoDriver (), info.name);
}

/* Returns -1 when everything is up, else an exit code. */
static int
init (Scanner * s, int argc, char **argv)
{
  char err[512];
  int rc = init_config (s, argc, argv);

  if (rc >= 0)
    return rc;
  if (!vtt_open (s))
    return SCANNER_EXIT_USAGE;
  if (!init_sdl (s))
    return SCANNER_EXIT_RUNTIME;
  if (!s->opts.headless) {
    if (!scanner_ui_open (&s->ui, WINDOW_W, WINDOW_H, s->opts.fullscreen, err,
            sizeof err)) {
      die_msg (err, NULL);
      return SCANNER_EXIT_RUNTIME;
    }
    s->window = true;
    if (s->opts.verbose)
      log_window (&s->ui);
    if (s->config->speech)
      speech_start (s);
  }
  init_app (s);
  if (!init_pipeline (s) || !start_pipeline (s))
    return SCANNER_EXIT_RUNTIME;
  return -1;
}

/* ==================================================================== */
/* Loop                                                                 */
/* ==================================================================== */

/* --verbose: what the pipeline reports, one line each. */
static void
log_msg (const ScannerMsg * m)
{
  switch (m->kind) {
    case SCANNER_MSG_CAPTION:
      if (m->final)             /* partials: too many to log */
        fprintf (stderr, "vlm-scanner: caption %" PRIu64 ": %s\n", m->id,
            m->text);
      break;
    case SCANNER_MSG_MODEL:
      fprintf (stderr, "vlm-scanner: model %s %.0f%%\n", m->text,
          m->value * 100.0);
      break;
    case SCANNER_MSG_THERMAL:
      fprintf (stderr, "vlm-scanner: thermal %s %.1f C\n", m->text, m->value);
      break;
    case SCANNER_MSG_EOS:
      fprintf (stderr, "vlm-scanner: end of stream\n");
      break;
    default:
      break;
  }
}

static void
handle_event (Scanner * s, const SDL_Event * ev)
{
  ScannerMsg *m = scanner_events_msg (ev);

  if (m && m->kind == SCANNER_MSG_WARNING)
    fprintf (stderr, "vlm-scanner: %s\n", m->text ? m->text : "warning");
  else if (m && s->opts.verbose)
    log_msg (m);
  scanner_app_handle_event (&s->app, ev);
}

/* --screenshot: a few frames after the first final caption, so the
 * overlay has drawn it. */
static void
maybe_screenshot (Scanner * s)
{
  char err[512];

  if (s->opts.screenshot == NULL || s->screenshot_done
      || s->app.n_finals == 0 || ++s->frames_after_caption < SCREENSHOT_FRAMES)
    return;
  s->screenshot_done = true;
  if (!scanner_ui_save_png (&s->ui, s->opts.screenshot, err, sizeof err)) {
    die_msg (err, NULL);
    s->exit_code = SCANNER_EXIT_RUNTIME;
    s->app.quit = true;
    return;
  }
  fprintf (stderr, "vlm-scanner: saved %s\n", s->opts.screenshot);
  if (s->opts.quit_after_screenshot)
    s->app.quit = true;
}

static void
draw (Scanner * s)
{
  bool new_frame = s->app.frame_new;

  if (!s->window || !s->app.dirty)
    return;
  scanner_ui_draw (&s->ui, &s->app);
  if (new_frame)
    maybe_screenshot (s);
  scanner_ui_present (&s->ui);
  s->app.dirty = false;
}

static void
loop (Scanner * s)
{
  SDL_Event ev;

  while (!s->app.quit) {
    if (SDL_WaitEventTimeout (&ev, 50)) {
      handle_event (s, &ev);
      while (!s->app.quit && SDL_PollEvent (&ev))
        handle_event (s, &ev);
    }
    scanner_app_tick (&s->app, SDL_GetTicks ());
    draw (s);
  }
}

/* ==================================================================== */
/* Cleanup                                                              */
/* ==================================================================== */

/* Exit status from how the loop ended. */
static int
outcome (Scanner * s)
{
  if (s->app.error) {
    die_msg (s->app.error, NULL);
    if (s->opts.verbose && s->app.error_debug)
      fprintf (stderr, "vlm-scanner: debug: %s\n", s->app.error_debug);
    return SCANNER_EXIT_RUNTIME;
  }
  if (s->exit_code != 0 || s->vtt_failed)
    return SCANNER_EXIT_RUNTIME;
  if (s->opts.screenshot && !s->screenshot_done && s->app.eos) {
    die_msg ("no caption before the end of the stream: no screenshot", NULL);
    return SCANNER_EXIT_RUNTIME;
  }
  return SCANNER_EXIT_OK;
}

static void
cleanup (Scanner * s)
{
  uint64_t end = s->vtt ? clip_end (s) : SCANNER_CUES_NONE;

  if (s->pipeline)
    vlm_pipeline_stop (s->pipeline);
  vtt_close (s, end);
  vlm_pipeline_free (s->pipeline);
#if HAVE_SPEECH
  vlm_speech_free (s->speech);
#endif
  scanner_audio_close (&s->audio);
  scanner_events_drain ();
  if (s->window)
    scanner_ui_close (&s->ui);
  if (s->app_ready)
    scanner_app_clear (&s->app);
  SDL_Quit ();
  if (s->config)
    vlm_config_free (s->config);
  scanner_options_clear (&s->opts);
}

int
main (int argc, char **argv)
{
  static Scanner s;
  int rc;

  gst_init (NULL, NULL);
  rc = init (&s, argc, argv);
  if (rc < 0) {
    loop (&s);
    rc = outcome (&s);
  }
  cleanup (&s);
  return rc;
}

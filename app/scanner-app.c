/* gst-vlm — vlm-scanner: the app's state and what events do to it. */
#include "scanner-app.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* Set-up                                                              */
/* ------------------------------------------------------------------ */

static char *
xstrdup (const char *s)
{
  char *d = strdup (s ? s : "");

  if (d == NULL)
    abort ();                   /* out of memory at start-up */
  return d;
}

static void
copy_presets (ScannerApp * app, const VlmConfig * config)
{
  int n = config->n_presets > 0 ? config->n_presets : 1;

  app->preset_names = calloc ((size_t) n, sizeof (char *));
  app->preset_prompts = calloc ((size_t) n, sizeof (char *));
  if (app->preset_names == NULL || app->preset_prompts == NULL)
    abort ();
  for (int i = 0; i < n; i++) {
    const VlmPromptPreset *p = i < config->n_presets ? &config->presets[i] :
        NULL;

    app->preset_names[i] = xstrdup (p ? p->name : "scene");
    app->preset_prompts[i] = xstrdup (p ? p->prompt :
        "Describe the scene in front of me.");
  }
  app->n_presets = n;
  app->preset = config->preset >= 0 && config->preset < n ? config->preset : 0;
}

static void
make_help (ScannerApp * app)
{
  size_t n = scanner_controls_help_text (NULL, 0) + 1;

  app->help_text = malloc (n);
  if (app->help_text == NULL)
    abort ();
  scanner_controls_help_text (app->help_text, n);
  n = scanner_controls_help_speech (NULL, 0) + 1;
  app->help_speech = malloc (n);
  if (app->help_speech == NULL)
    abort ();
  scanner_controls_help_speech (app->help_speech, n);
}

void
scanner_app_init (ScannerApp * app, const VlmConfig * config,
    const ScannerPipelineOps * pipeline, const ScannerSpeechOps * speech,
    ScannerFeed * feed)
{
  memset (app, 0, sizeof *app);
  scanner_controls_init (&app->controls);
  if (pipeline)
    app->pipeline = *pipeline;
  if (speech && speech->say)
    app->speech = *speech;
  app->feed = feed;
  copy_presets (app, config);
  app->continuous = config->continuous;
  app->rate = SDL_clamp (config->speech_rate, SCANNER_RATE_MIN,
      SCANNER_RATE_MAX);
  app->temp_c = NAN;
  app->last_final_pts = UINT64_MAX;
  app->fps_since = SDL_GetTicks ();
  app->dirty = true;
  make_help (app);
}

void
scanner_app_clear (ScannerApp * app)
{
  for (int i = 0; i < SCANNER_MAX_PADS; i++)
    if (app->pads[i])
      SDL_GameControllerClose (app->pads[i]);
  for (int i = 0; i < app->n_presets; i++) {
    free (app->preset_names[i]);
    free (app->preset_prompts[i]);
  }
  free (app->preset_names);
  free (app->preset_prompts);
  free (app->help_text);
  free (app->help_speech);
  free (app->notice);
  free (app->caption);
  free (app->last_final);
  free (app->error);
  free (app->error_debug);
  free (app->frame);
  memset (app, 0, sizeof *app);
}

bool
scanner_app_has_speech (const ScannerApp * app)
{
  return app->speech.say != NULL;
}

const char *
scanner_app_prompt (const ScannerApp * app)
{
  return app->preset_prompts[app->preset];
}

/* ------------------------------------------------------------------ */
/* Feedback: notices on screen, the same words spoken                  */
/* ------------------------------------------------------------------ */

static void
set_notice (ScannerApp * app, const char *text)
{
  free (app->notice);
  app->notice = xstrdup (text);
  app->notice_until = SDL_GetTicks () + SCANNER_NOTICE_MS;
  app->dirty = true;
}

static void
say (ScannerApp * app, const char *text)
{
  if (scanner_app_has_speech (app) && !app->muted)
    app->speech.say (app->speech.ctx, text);
}

void
scanner_app_announce (ScannerApp * app, const char *text)
{
  set_notice (app, text);
  say (app, text);
}

/* ------------------------------------------------------------------ */
/* Actions                                                             */
/* ------------------------------------------------------------------ */

static void
describe_now (ScannerApp * app)
{
  if (app->pipeline.describe_now)
    app->pipeline.describe_now (app->pipeline.ctx);
  app->caption_state = SCANNER_CAPTION_DESCRIBING;
  scanner_app_announce (app, "Describing.");
}

static void
toggle_continuous (ScannerApp * app)
{
  app->continuous = !app->continuous;
  if (app->pipeline.set_continuous)
    app->pipeline.set_continuous (app->pipeline.ctx, app->continuous);
  scanner_app_announce (app, app->continuous ?
      "Continuous narration on." : "Continuous narration off.");
}

static void
step_preset (ScannerApp * app, int step)
{
  char text[1024];

  app->preset = (app->preset + step + app->n_presets) % app->n_presets;
  if (app->pipeline.set_prompt)
    app->pipeline.set_prompt (app->pipeline.ctx, scanner_app_prompt (app));
  snprintf (text, sizeof text, "%s: %s", app->preset_names[app->preset],
      scanner_app_prompt (app));
  scanner_app_announce (app, text);
}

static void
repeat_caption (ScannerApp * app)
{
  if (app->last_final == NULL) {
    scanner_app_announce (app, "No caption yet.");
    return;
  }
  /* shown again on screen too: the overlay may have faded it */
  set_notice (app, app->last_final);
  say (app, app->last_final);
}

static bool
need_speech (ScannerApp * app)
{
  if (scanner_app_has_speech (app))
    return true;
  set_notice (app, "Speech is off.");
  return false;
}

static void
step_rate (ScannerApp * app, int step)
{
  char text[64];
  int want;

  if (!need_speech (app))
    return;
  want = SDL_clamp (app->rate + step, SCANNER_RATE_MIN, SCANNER_RATE_MAX);
  app->rate = app->speech.set_rate ?
      app->speech.set_rate (app->speech.ctx, want) : want;
  snprintf (text, sizeof text, "Speech rate %d%s.", app->rate,
      app->rate == SCANNER_RATE_MAX ? ", fastest" :
      app->rate == SCANNER_RATE_MIN ? ", slowest" : "");
  scanner_app_announce (app, text);
}

static void
toggle_mute (ScannerApp * app)
{
  if (!need_speech (app))
    return;
  app->muted = !app->muted;
  if (app->speech.set_muted)
    app->speech.set_muted (app->speech.ctx, app->muted);
  scanner_app_announce (app, app->muted ? "Speech muted." : "Speech on.");
}

static void
show_help (ScannerApp * app, bool show)
{
  app->help = show;
  app->dirty = true;
  if (show)
    say (app, app->help_speech);
  else
    say (app, "Help closed.");
}

void
scanner_app_apply (ScannerApp * app, ScannerAction action)
{
  switch (action) {
    case SCANNER_ACTION_DESCRIBE:
      describe_now (app);
      break;
    case SCANNER_ACTION_CONTINUOUS:
      toggle_continuous (app);
      break;
    case SCANNER_ACTION_PRESET_NEXT:
      step_preset (app, 1);
      break;
    case SCANNER_ACTION_PRESET_PREV:
      step_preset (app, -1);
      break;
    case SCANNER_ACTION_REPEAT:
      repeat_caption (app);
      break;
    case SCANNER_ACTION_RATE_UP:
      step_rate (app, SCANNER_RATE_STEP);
      break;
    case SCANNER_ACTION_RATE_DOWN:
      step_rate (app, -SCANNER_RATE_STEP);
      break;
    case SCANNER_ACTION_MUTE:
      toggle_mute (app);
      break;
    case SCANNER_ACTION_HELP:
      show_help (app, !app->help);
      break;
    case SCANNER_ACTION_BACK:
      if (app->help)
        show_help (app, false);
      else
        scanner_app_announce (app, "Hold B for one second to quit.");
      break;
    case SCANNER_ACTION_ESCAPE:
      if (app->help)
        show_help (app, false);
      else
        app->quit = true;
      break;
    case SCANNER_ACTION_QUIT:
      app->quit = true;
      break;
    case SCANNER_ACTION_NONE:
    case SCANNER_N_ACTIONS:
      break;
  }
}

/* ------------------------------------------------------------------ */
/* Pipeline messages                                                   */
/* ------------------------------------------------------------------ */

static bool
is_blank (const char *s)
{
  while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
    s++;
  return *s == '\0';
}

/* A final caption is counted, kept and passed on once, unless blank. */
static void
on_caption (ScannerApp * app, ScannerMsg * m)
{
  bool new_final = m->final && !(app->caption_state == SCANNER_CAPTION_DONE
      && app->caption_id == m->id);

  if (m->id != app->caption_id || !m->final)
    app->caption_state = SCANNER_CAPTION_DESCRIBING;
  app->caption_id = m->id;
  free (app->caption);
  app->caption = xstrdup (m->text);
  if (scanner_app_has_speech (app) && app->speech.caption)
    app->speech.caption (app->speech.ctx, m->id, m->text, m->final);
  app->dirty = true;
  if (new_final && is_blank (m->text)) {
    app->caption_state = app->n_finals ? SCANNER_CAPTION_DONE :
        SCANNER_CAPTION_IDLE;
    return;
  }
  if (!new_final)
    return;
  app->caption_state = SCANNER_CAPTION_DONE;
  free (app->last_final);
  app->last_final = xstrdup (m->text);
  app->last_final_pts = m->pts;
  app->n_finals++;
  if (app->on_final)
    app->on_final (m->text, m->id, m->pts, app->on_final_data);
  if (app->max_finals > 0 && app->n_finals >= app->max_finals)
    app->quit = true;
}

static void
on_model (ScannerApp * app, ScannerMsg * m)
{
  bool was_ready = strcmp (app->model_state, "ready") == 0;
  bool was_loading = strcmp (app->model_state, "loading") == 0;

  snprintf (app->model_state, sizeof app->model_state, "%s", m->text);
  app->model_progress = SDL_clamp (m->value, 0.0, 1.0);
  app->dirty = true;
  if (strcmp (m->text, "ready") == 0 && !was_ready)
    scanner_app_announce (app, "Ready. H or Start for help.");
  else if (strcmp (m->text, "loading") == 0 && !was_loading)
    scanner_app_announce (app, "Loading the model.");
}

static void
on_thermal (ScannerApp * app, ScannerMsg * m)
{
  bool changed = strcmp (app->thermal, m->text) != 0;
  bool first = app->thermal[0] == '\0';

  snprintf (app->thermal, sizeof app->thermal, "%s", m->text);
  app->temp_c = m->value;
  app->dirty = true;
  if (!changed)
    return;
  if (strcmp (m->text, "cooldown") == 0)
    scanner_app_announce (app, "The device is hot: pausing to cool down.");
  else if (strcmp (m->text, "throttled") == 0)
    scanner_app_announce (app, "The device is warm: describing less often.");
  else if (strcmp (m->text, "normal") == 0 && !first)
    scanner_app_announce (app, "Cooled down.");
}

static void
on_error (ScannerApp * app, ScannerMsg * m)
{
  if (app->error == NULL) {
    app->error = xstrdup (m->text);
    app->error_debug = m->debug ? xstrdup (m->debug) : NULL;
  }
  app->exit_code = 1;
  app->quit = true;
}

/* Takes the frame's pixels; counts frames for the fps figure. */
static void
on_frame (ScannerApp * app, ScannerMsg * m)
{
  if (app->feed)
    SDL_AtomicSet (&app->feed->frame_pending, 0);
  free (app->frame);
  app->frame = m->pixels;
  m->pixels = NULL;
  app->frame_w = m->width;
  app->frame_h = m->height;
  app->frame_pts = m->pts;
  app->frame_new = true;
  app->n_frames++;
  app->fps_frames++;
  app->dirty = true;
}

static void
on_msg (ScannerApp * app, ScannerMsg * m)
{
  switch (m->kind) {
    case SCANNER_MSG_CAPTION:
      on_caption (app, m);
      break;
    case SCANNER_MSG_MODEL:
      on_model (app, m);
      break;
    case SCANNER_MSG_THERMAL:
      on_thermal (app, m);
      break;
    case SCANNER_MSG_ERROR:
      on_error (app, m);
      break;
    case SCANNER_MSG_WARNING:
      /* e.g. "No camera found ... Showing a test pattern instead" */
      if (m->text && *m->text)
        scanner_app_announce (app, m->text);
      break;
    case SCANNER_MSG_EOS:
      app->eos = true;
      app->quit = true;
      break;
    case SCANNER_MSG_FRAME:
      on_frame (app, m);
      break;
    case SCANNER_N_MSGS:
      break;
  }
}

/* ------------------------------------------------------------------ */
/* Gamepads                                                            */
/* ------------------------------------------------------------------ */

static void
pad_added (ScannerApp * app, int device_index)
{
  char text[256];
  const char *name;

  for (int i = 0; i < SCANNER_MAX_PADS; i++) {
    if (app->pads[i])
      continue;
    app->pads[i] = SDL_GameControllerOpen (device_index);
    if (app->pads[i] == NULL)
      return;
    name = SDL_GameControllerName (app->pads[i]);
    snprintf (text, sizeof text, "Gamepad connected: %s.",
        name ? name : "unknown");
    scanner_app_announce (app, text);
    return;
  }
}

static void
pad_removed (ScannerApp * app, SDL_JoystickID id)
{
  for (int i = 0; i < SCANNER_MAX_PADS; i++) {
    SDL_Joystick *js = app->pads[i] ?
        SDL_GameControllerGetJoystick (app->pads[i]) : NULL;

    if (js && SDL_JoystickInstanceID (js) == id) {
      SDL_GameControllerClose (app->pads[i]);
      app->pads[i] = NULL;
      scanner_app_announce (app, "Gamepad disconnected.");
    }
  }
}

/* ------------------------------------------------------------------ */
/* The loop's handler                                                  */
/* ------------------------------------------------------------------ */

void
scanner_app_handle_event (ScannerApp * app, const SDL_Event * event)
{
  ScannerMsg *m = scanner_events_msg (event);

  if (m) {
    on_msg (app, m);
    scanner_msg_free (m);
    return;
  }
  if (event->type == SDL_WINDOWEVENT)
    app->dirty = true;
  else if (event->type == SDL_CONTROLLERDEVICEADDED)
    pad_added (app, event->cdevice.which);
  else if (event->type == SDL_CONTROLLERDEVICEREMOVED)
    pad_removed (app, event->cdevice.which);
  scanner_app_apply (app, scanner_controls_map_event (&app->controls, event));
}

void
scanner_app_tick (ScannerApp * app, Uint32 now_ms)
{
  Uint32 span = now_ms - app->fps_since;

  scanner_app_apply (app, scanner_controls_tick (&app->controls, now_ms));
  if (app->notice && (Sint32) (now_ms - app->notice_until) >= 0) {
    free (app->notice);
    app->notice = NULL;
    app->dirty = true;
  }
  if (span >= 500) {
    double fps = app->fps_frames * 1000.0 / span;

    if (fabs (fps - app->fps) >= 0.5)
      app->dirty = true;
    app->fps = fps;
    app->fps_frames = 0;
    app->fps_since = now_ms;
  }
}

/* ------------------------------------------------------------------ */
/* Status line                                                         */
/* ------------------------------------------------------------------ */

static void
model_text (const ScannerApp * app, char *buf, size_t size)
{
  if (strcmp (app->model_state, "ready") == 0)
    snprintf (buf, size, "Model ready");
  else if (strcmp (app->model_state, "loading") == 0)
    snprintf (buf, size, "Loading model %d%%",
        (int) (app->model_progress * 100.0 + 0.5));
  else
    snprintf (buf, size, "Starting");
}

static void
caption_text (const ScannerApp * app, char *buf, size_t size)
{
  if (app->caption_state == SCANNER_CAPTION_DESCRIBING)
    snprintf (buf, size, "Describing");
  else if (app->caption_state == SCANNER_CAPTION_DONE)
    snprintf (buf, size, "Caption %u", app->n_finals);
  else
    snprintf (buf, size, "Idle");
}

static void
speech_text (const ScannerApp * app, char *buf, size_t size)
{
  if (!scanner_app_has_speech (app))
    snprintf (buf, size, "Speech off");
  else if (app->muted)
    snprintf (buf, size, "Speech muted");
  else
    snprintf (buf, size, "Speech %d wpm", app->rate);
}

static void
thermal_text (const ScannerApp * app, char *buf, size_t size)
{
  const char *state = app->thermal[0] ? app->thermal : "unknown";

  if (strcmp (state, "cooldown") == 0)
    state = "cooling down";
  else if (strcmp (state, "unavailable") == 0)
    state = "no sensor";
  if (isnan (app->temp_c))
    snprintf (buf, size, "Thermal %s", state);
  else
    snprintf (buf, size, "Thermal %s %.0f\xc2\xb0" "C", state, app->temp_c);
}

size_t
scanner_app_status_text (const ScannerApp * app, char *buf, size_t size)
{
  char model[64], caption[64], speech[64], thermal[64];
  int n;

  model_text (app, model, sizeof model);
  caption_text (app, caption, sizeof caption);
  speech_text (app, speech, sizeof speech);
  thermal_text (app, thermal, sizeof thermal);
  n = snprintf (buf, size, "%s  |  %s  |  Continuous %s  |  Preset: %s\n"
      "%s  |  %s  |  %.0f fps", model, caption, app->continuous ? "on" : "off",
      app->preset_names[app->preset], speech, thermal, app->fps);
  return n > 0 ? (size_t) n : 0;
}

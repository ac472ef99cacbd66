/* gst-vlm — tests of vlm-scanner's logic: the controls (keyboard and
 * gamepad events, pushed through SDL's queue as the app gets them), what
 * each action does to the state and to the pipeline and speech (recorded
 * by fakes), pipeline messages, the option parser and the timing of the
 * WebVTT cues. No window, no device: SDL's event subsystem only.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <SDL.h>

#include "scanner-app.h"
#include "scanner-controls.h"
#include "scanner-cues.h"
#include "scanner-events.h"
#include "scanner-options.h"

/* ------------------------------------------------------------------ */
/* Recorders standing in for the pipeline and the speech engine        */
/* ------------------------------------------------------------------ */

typedef struct {
  int describe_calls;
  int continuous_calls;
  bool continuous;
  int prompt_calls;
  char prompt[512];
  int caption_calls;
  uint64_t caption_id;
  bool caption_final;
  char caption[512];
  int say_calls;
  char said[4096];
  int rate_calls;
  int rate;
  int mute_calls;
  bool muted;
} Rec;

static void
rec_describe (void *ctx)
{
  ((Rec *) ctx)->describe_calls++;
}

static void
rec_continuous (void *ctx, bool on)
{
  Rec *r = ctx;

  r->continuous_calls++;
  r->continuous = on;
}

static void
rec_prompt (void *ctx, const char *prompt)
{
  Rec *r = ctx;

  r->prompt_calls++;
  snprintf (r->prompt, sizeof r->prompt, "%s", prompt);
}

static void
rec_caption (void *ctx, uint64_t id, const char *text, bool final)
{
  Rec *r = ctx;

  r->caption_calls++;
  r->caption_id = id;
  r->caption_final = final;
  snprintf (r->caption, sizeof r->caption, "%s", text);
}

static void
rec_say (void *ctx, const char *text)
{
  Rec *r = ctx;

  r->say_calls++;
  snprintf (r->said, sizeof r->said, "%s", text);
}

/* Clamps like vlm_speech_set_rate. */
static int
rec_rate (void *ctx, int rate)
{
  Rec *r = ctx;

  r->rate_calls++;
  r->rate = rate < 80 ? 80 : rate > 450 ? 450 : rate;
  return r->rate;
}

static void
rec_mute (void *ctx, bool muted)
{
  Rec *r = ctx;

  r->mute_calls++;
  r->muted = muted;
}

/* ------------------------------------------------------------------ */
/* Fixture: an app on the default config, with or without speech       */
/* ------------------------------------------------------------------ */

typedef struct {
  VlmConfig *config;
  ScannerFeed feed;
  ScannerApp app;
  Rec rec;
} Fx;

static Fx *
fx_new (bool speech)
{
  Fx *fx = calloc (1, sizeof *fx);
  ScannerPipelineOps pops = { rec_describe, rec_continuous, rec_prompt, NULL };
  ScannerSpeechOps sops = { rec_caption, rec_say, rec_rate, rec_mute, NULL };

  assert_non_null (fx);
  pops.ctx = &fx->rec;
  sops.ctx = &fx->rec;
  fx->config = vlm_config_new ();
  scanner_app_init (&fx->app, fx->config, &pops, speech ? &sops : NULL,
      &fx->feed);
  return fx;
}

static int
setup (void **state)
{
  SDL_FlushEvents (SDL_FIRSTEVENT, SDL_LASTEVENT);
  *state = fx_new (true);
  return 0;
}

static int
setup_no_speech (void **state)
{
  SDL_FlushEvents (SDL_FIRSTEVENT, SDL_LASTEVENT);
  *state = fx_new (false);
  return 0;
}

static int
teardown (void **state)
{
  Fx *fx = *state;

  scanner_events_drain ();
  scanner_app_clear (&fx->app);
  vlm_config_free (fx->config);
  free (fx);
  return 0;
}

/* Everything queued goes through the app's handler, as in the loop. */
static void
pump (Fx * fx)
{
  SDL_Event ev;

  while (SDL_PollEvent (&ev))
    scanner_app_handle_event (&fx->app, &ev);
}

static void
push_key (SDL_Keycode key)
{
  SDL_Event ev;

  memset (&ev, 0, sizeof ev);
  ev.type = SDL_KEYDOWN;
  ev.key.state = SDL_PRESSED;
  ev.key.keysym.sym = key;
  assert_int_equal (SDL_PushEvent (&ev), 1);
}

static void
push_button (SDL_GameControllerButton button, bool down)
{
  SDL_Event ev;

  memset (&ev, 0, sizeof ev);
  ev.type = down ? SDL_CONTROLLERBUTTONDOWN : SDL_CONTROLLERBUTTONUP;
  ev.cbutton.button = (Uint8) button;
  ev.cbutton.state = down ? SDL_PRESSED : SDL_RELEASED;
  assert_int_equal (SDL_PushEvent (&ev), 1);
}

static void
key (Fx * fx, SDL_Keycode k)
{
  push_key (k);
  pump (fx);
}

/* A press and release. */
static void
button (Fx * fx, SDL_GameControllerButton b)
{
  push_button (b, true);
  push_button (b, false);
  pump (fx);
}

/* A final caption as the pipeline sends it (through the callback). */
static void
final_caption (Fx * fx, uint64_t id, const char *text, uint64_t pts)
{
  scanner_events_on_caption (text, TRUE, id, pts, &fx->feed);
  pump (fx);
}

/* ------------------------------------------------------------------ */
/* Mapping                                                             */
/* ------------------------------------------------------------------ */

static ScannerAction
map_key (SDL_Keycode k)
{
  ScannerControls c;
  SDL_Event ev;

  scanner_controls_init (&c);
  memset (&ev, 0, sizeof ev);
  ev.type = SDL_KEYDOWN;
  ev.key.keysym.sym = k;
  return scanner_controls_map_event (&c, &ev);
}

static ScannerAction
map_button (SDL_GameControllerButton b)
{
  ScannerControls c;
  SDL_Event ev;

  scanner_controls_init (&c);
  memset (&ev, 0, sizeof ev);
  ev.type = SDL_CONTROLLERBUTTONDOWN;
  ev.cbutton.button = (Uint8) b;
  return scanner_controls_map_event (&c, &ev);
}

static void
test_keys_map_to_actions (void **state)
{
  static const struct {
    SDL_Keycode key;
    ScannerAction action;
  } table[] = {
    {SDLK_SPACE, SCANNER_ACTION_DESCRIBE},
    {SDLK_RETURN, SCANNER_ACTION_DESCRIBE},
    {SDLK_KP_ENTER, SCANNER_ACTION_DESCRIBE},
    {SDLK_c, SCANNER_ACTION_CONTINUOUS},
    {SDLK_RIGHT, SCANNER_ACTION_PRESET_NEXT},
    {SDLK_LEFT, SCANNER_ACTION_PRESET_PREV},
    {SDLK_r, SCANNER_ACTION_REPEAT},
    {SDLK_PLUS, SCANNER_ACTION_RATE_UP},
    {SDLK_EQUALS, SCANNER_ACTION_RATE_UP},
    {SDLK_KP_PLUS, SCANNER_ACTION_RATE_UP},
    {SDLK_UP, SCANNER_ACTION_RATE_UP},
    {SDLK_MINUS, SCANNER_ACTION_RATE_DOWN},
    {SDLK_KP_MINUS, SCANNER_ACTION_RATE_DOWN},
    {SDLK_DOWN, SCANNER_ACTION_RATE_DOWN},
    {SDLK_m, SCANNER_ACTION_MUTE},
    {SDLK_h, SCANNER_ACTION_HELP},
    {SDLK_F1, SCANNER_ACTION_HELP},
    {SDLK_ESCAPE, SCANNER_ACTION_ESCAPE},
    {SDLK_q, SCANNER_ACTION_QUIT},
    {SDLK_z, SCANNER_ACTION_NONE},
  };

  for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
    assert_int_equal (map_key (table[i].key), table[i].action);
}

static void
test_buttons_map_to_actions (void **state)
{
  static const struct {
    SDL_GameControllerButton button;
    ScannerAction action;
  } table[] = {
    {SDL_CONTROLLER_BUTTON_A, SCANNER_ACTION_DESCRIBE},
    {SDL_CONTROLLER_BUTTON_Y, SCANNER_ACTION_CONTINUOUS},
    {SDL_CONTROLLER_BUTTON_DPAD_RIGHT, SCANNER_ACTION_PRESET_NEXT},
    {SDL_CONTROLLER_BUTTON_RIGHTSHOULDER, SCANNER_ACTION_PRESET_NEXT},
    {SDL_CONTROLLER_BUTTON_DPAD_LEFT, SCANNER_ACTION_PRESET_PREV},
    {SDL_CONTROLLER_BUTTON_LEFTSHOULDER, SCANNER_ACTION_PRESET_PREV},
    {SDL_CONTROLLER_BUTTON_X, SCANNER_ACTION_REPEAT},
    {SDL_CONTROLLER_BUTTON_DPAD_UP, SCANNER_ACTION_RATE_UP},
    {SDL_CONTROLLER_BUTTON_DPAD_DOWN, SCANNER_ACTION_RATE_DOWN},
    {SDL_CONTROLLER_BUTTON_BACK, SCANNER_ACTION_MUTE},
    {SDL_CONTROLLER_BUTTON_START, SCANNER_ACTION_HELP},
    {SDL_CONTROLLER_BUTTON_GUIDE, SCANNER_ACTION_QUIT},
    /* B acts on release (short) or when held (quit) */
    {SDL_CONTROLLER_BUTTON_B, SCANNER_ACTION_NONE},
  };

  for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
    assert_int_equal (map_button (table[i].button), table[i].action);
}

static void
test_key_repeat_is_ignored (void **state)
{
  ScannerControls c;
  SDL_Event ev;

  scanner_controls_init (&c);
  memset (&ev, 0, sizeof ev);
  ev.type = SDL_KEYDOWN;
  ev.key.keysym.sym = SDLK_SPACE;
  ev.key.repeat = 1;
  assert_int_equal (scanner_controls_map_event (&c, &ev),
      SCANNER_ACTION_NONE);
}

static void
test_help_lists_every_control (void **state)
{
  char text[4096], speech[4096];

  assert_true (scanner_controls_help_text (text, sizeof text) < sizeof text);
  assert_true (scanner_controls_help_speech (speech, sizeof speech)
      < sizeof speech);
  for (const char *const *w = (const char *const[]) {
        "Space", "A:", "C  /  Y", "D-pad right", "LB", "R  /  X", "D-pad up",
        "D-pad down", "M  /  Back", "F1", "Start", "Esc", "Guide", "hold B",
        NULL}; *w; w++)
    assert_non_null (strstr (text, *w));
  assert_non_null (strstr (speech, "Space or Enter, or gamepad A: describe "
          "now."));
}

/* ------------------------------------------------------------------ */
/* Actions, driven by pushed keyboard and gamepad events               */
/* ------------------------------------------------------------------ */

static void
test_describe_now_asks_the_pipeline (void **state)
{
  Fx *fx = *state;

  key (fx, SDLK_SPACE);
  assert_int_equal (fx->rec.describe_calls, 1);
  assert_int_equal (fx->app.caption_state, SCANNER_CAPTION_DESCRIBING);
  key (fx, SDLK_RETURN);
  button (fx, SDL_CONTROLLER_BUTTON_A);
  assert_int_equal (fx->rec.describe_calls, 3);
}

static void
test_continuous_toggles_and_reaches_pipeline (void **state)
{
  Fx *fx = *state;

  assert_true (fx->app.continuous);     /* the config's default */
  key (fx, SDLK_c);
  assert_false (fx->app.continuous);
  assert_int_equal (fx->rec.continuous_calls, 1);
  assert_false (fx->rec.continuous);
  button (fx, SDL_CONTROLLER_BUTTON_Y);
  assert_true (fx->app.continuous);
  assert_true (fx->rec.continuous);
  assert_non_null (strstr (fx->rec.said, "Continuous narration on"));
}

static void
test_preset_keys_cycle_prompts (void **state)
{
  Fx *fx = *state;
  const VlmConfig *c = fx->config;

  assert_true (c->n_presets >= 3);
  assert_int_equal (fx->app.preset, c->preset);
  key (fx, SDLK_RIGHT);
  assert_int_equal (fx->app.preset, (c->preset + 1) % c->n_presets);
  assert_string_equal (fx->rec.prompt, c->presets[fx->app.preset].prompt);
  key (fx, SDLK_LEFT);
  key (fx, SDLK_LEFT);
  /* wraps around */
  assert_int_equal (fx->app.preset,
      (c->preset - 1 + c->n_presets) % c->n_presets);
  assert_string_equal (fx->rec.prompt, c->presets[fx->app.preset].prompt);
  assert_int_equal (fx->rec.prompt_calls, 3);
  /* the preset's name and question are announced */
  assert_non_null (strstr (fx->rec.said, c->presets[fx->app.preset].name));
}

static void
test_preset_buttons_cycle_prompts (void **state)
{
  Fx *fx = *state;
  int start = fx->app.preset, n = fx->app.n_presets;

  button (fx, SDL_CONTROLLER_BUTTON_DPAD_RIGHT);
  button (fx, SDL_CONTROLLER_BUTTON_RIGHTSHOULDER);
  assert_int_equal (fx->app.preset, (start + 2) % n);
  button (fx, SDL_CONTROLLER_BUTTON_LEFTSHOULDER);
  assert_int_equal (fx->app.preset, (start + 1) % n);
  button (fx, SDL_CONTROLLER_BUTTON_DPAD_LEFT);
  assert_int_equal (fx->app.preset, start);
  assert_string_equal (fx->rec.prompt, scanner_app_prompt (&fx->app));
  assert_int_equal (fx->rec.prompt_calls, 4);
}

static void
test_repeat_says_the_last_caption (void **state)
{
  Fx *fx = *state;

  final_caption (fx, 1, "A red door.", 0);
  final_caption (fx, 2, "A ball on the floor.", 100000000);
  key (fx, SDLK_r);
  assert_string_equal (fx->rec.said, "A ball on the floor.");
  fx->rec.said[0] = '\0';
  button (fx, SDL_CONTROLLER_BUTTON_X);
  assert_string_equal (fx->rec.said, "A ball on the floor.");
  /* and shown again */
  assert_string_equal (fx->app.notice, "A ball on the floor.");
}

static void
test_repeat_without_caption_says_so (void **state)
{
  Fx *fx = *state;

  key (fx, SDLK_r);
  assert_string_equal (fx->rec.said, "No caption yet.");
}

static void
test_rate_up_clamps_at_fastest (void **state)
{
  Fx *fx = *state;

  assert_int_equal (fx->app.rate, 175);
  key (fx, SDLK_PLUS);
  assert_int_equal (fx->app.rate, 200);
  assert_int_equal (fx->rec.rate, 200);
  for (int i = 0; i < 20; i++)
    button (fx, SDL_CONTROLLER_BUTTON_DPAD_UP);
  key (fx, SDLK_UP);
  assert_int_equal (fx->app.rate, SCANNER_RATE_MAX);
  assert_int_equal (fx->rec.rate, SCANNER_RATE_MAX);
  assert_non_null (strstr (fx->rec.said, "fastest"));
}

static void
test_rate_down_clamps_at_slowest (void **state)
{
  Fx *fx = *state;

  key (fx, SDLK_MINUS);
  assert_int_equal (fx->app.rate, 150);
  for (int i = 0; i < 20; i++)
    button (fx, SDL_CONTROLLER_BUTTON_DPAD_DOWN);
  key (fx, SDLK_DOWN);
  assert_int_equal (fx->app.rate, SCANNER_RATE_MIN);
  assert_int_equal (fx->rec.rate, SCANNER_RATE_MIN);
  assert_non_null (strstr (fx->rec.said, "slowest"));
}

static void
test_mute_toggles_speech (void **state)
{
  Fx *fx = *state;

  key (fx, SDLK_m);
  assert_true (fx->app.muted);
  assert_true (fx->rec.muted);
  button (fx, SDL_CONTROLLER_BUTTON_BACK);
  assert_false (fx->app.muted);
  assert_false (fx->rec.muted);
  assert_int_equal (fx->rec.mute_calls, 2);
}

static void
test_muted_repeat_is_silent (void **state)
{
  Fx *fx = *state;
  int says;

  final_caption (fx, 1, "A red door.", 0);
  key (fx, SDLK_m);
  says = fx->rec.say_calls;
  key (fx, SDLK_r);
  assert_int_equal (fx->rec.say_calls, says);
  assert_string_equal (fx->app.notice, "A red door.");
}

static void
test_help_is_shown_and_spoken (void **state)
{
  Fx *fx = *state;

  key (fx, SDLK_h);
  assert_true (fx->app.help);
  assert_non_null (strstr (fx->rec.said, "Controls."));
  key (fx, SDLK_ESCAPE);        /* closes the help, does not quit */
  assert_false (fx->app.help);
  assert_false (fx->app.quit);
  key (fx, SDLK_F1);
  assert_true (fx->app.help);
  key (fx, SDLK_F1);
  assert_false (fx->app.help);
  button (fx, SDL_CONTROLLER_BUTTON_START);
  assert_true (fx->app.help);
  button (fx, SDL_CONTROLLER_BUTTON_B);         /* short B closes it */
  assert_false (fx->app.help);
  assert_false (fx->app.quit);
}

static void
test_quit_key (void **state)
{
  Fx *fx = *state;

  key (fx, SDLK_q);
  assert_true (fx->app.quit);
  assert_int_equal (fx->app.exit_code, 0);
}

static void
test_escape_quits_without_help (void **state)
{
  Fx *fx = *state;

  key (fx, SDLK_ESCAPE);
  assert_true (fx->app.quit);
}

static void
test_guide_button_quits (void **state)
{
  Fx *fx = *state;

  button (fx, SDL_CONTROLLER_BUTTON_GUIDE);
  assert_true (fx->app.quit);
}

static void
test_window_close_quits (void **state)
{
  Fx *fx = *state;
  SDL_Event ev;

  memset (&ev, 0, sizeof ev);
  ev.type = SDL_QUIT;
  SDL_PushEvent (&ev);
  pump (fx);
  assert_true (fx->app.quit);
}

static void
test_holding_b_quits (void **state)
{
  Fx *fx = *state;
  Uint32 down;

  push_button (SDL_CONTROLLER_BUTTON_B, true);
  pump (fx);
  down = fx->app.controls.b_down_at;
  scanner_app_tick (&fx->app, down + SCANNER_QUIT_HOLD_MS - 1);
  assert_false (fx->app.quit);
  scanner_app_tick (&fx->app, down + SCANNER_QUIT_HOLD_MS);
  assert_true (fx->app.quit);
}

static void
test_short_b_does_not_quit (void **state)
{
  Fx *fx = *state;

  button (fx, SDL_CONTROLLER_BUTTON_B);
  scanner_app_tick (&fx->app, SDL_GetTicks () + 5000);
  assert_false (fx->app.quit);
  assert_non_null (strstr (fx->rec.said, "Hold B"));
}

/* A virtual gamepad: SDL's own controller events, not pushed ones. */
static void
test_virtual_gamepad_describes (void **state)
{
  Fx *fx = *state;
  int index;
  SDL_Joystick *js;

  if (SDL_InitSubSystem (SDL_INIT_GAMECONTROLLER) != 0)
    skip ();
  index = SDL_JoystickAttachVirtual (SDL_JOYSTICK_TYPE_GAMECONTROLLER, 6,
      SDL_CONTROLLER_BUTTON_MAX, 0);
  assert_true (index >= 0);
  pump (fx);                    /* the app opens it */
  assert_non_null (fx->app.pads[0]);
  assert_non_null (strstr (fx->app.notice, "Gamepad connected"));
  js = SDL_GameControllerGetJoystick (fx->app.pads[0]);
  assert_int_equal (SDL_JoystickSetVirtualButton (js,
          SDL_CONTROLLER_BUTTON_A, SDL_PRESSED), 0);
  SDL_JoystickUpdate ();
  pump (fx);
  assert_int_equal (fx->rec.describe_calls, 1);
  SDL_JoystickSetVirtualButton (js, SDL_CONTROLLER_BUTTON_A, SDL_RELEASED);
  SDL_JoystickUpdate ();
  pump (fx);
  assert_int_equal (SDL_JoystickDetachVirtual (index), 0);
  pump (fx);                    /* the app closes it */
  assert_null (fx->app.pads[0]);
  SDL_QuitSubSystem (SDL_INIT_GAMECONTROLLER);
}

static void
test_no_speech_rate_and_mute_say_off (void **state)
{
  Fx *fx = *state;

  key (fx, SDLK_PLUS);
  assert_int_equal (fx->app.rate, 175);
  assert_string_equal (fx->app.notice, "Speech is off.");
  key (fx, SDLK_m);
  assert_false (fx->app.muted);
}

/* ------------------------------------------------------------------ */
/* Pipeline messages                                                   */
/* ------------------------------------------------------------------ */

static void
count_final (const char *text, uint64_t id, uint64_t pts, void *data)
{
  (*(int *) data)++;
}

static void
test_captions_reach_speech (void **state)
{
  Fx *fx = *state;

  scanner_events_on_caption ("A red", FALSE, 7, 300000000, &fx->feed);
  pump (fx);
  assert_int_equal (fx->rec.caption_calls, 1);
  assert_false (fx->rec.caption_final);
  assert_int_equal (fx->app.caption_state, SCANNER_CAPTION_DESCRIBING);
  assert_int_equal (fx->app.n_finals, 0);
  final_caption (fx, 7, "A red door.", 300000000);
  assert_int_equal (fx->rec.caption_calls, 2);
  assert_true (fx->rec.caption_final);
  assert_int_equal (fx->rec.caption_id, 7);
  assert_string_equal (fx->rec.caption, "A red door.");
  assert_string_equal (fx->app.last_final, "A red door.");
  assert_int_equal (fx->app.last_final_pts, 300000000);
  assert_int_equal (fx->app.n_finals, 1);
}

static void
test_same_final_counts_once (void **state)
{
  Fx *fx = *state;

  final_caption (fx, 3, "A door.", 0);
  final_caption (fx, 3, "A door.", 0);
  assert_int_equal (fx->app.n_finals, 1);
}

static void
test_blank_final_is_not_a_caption (void **state)
{
  Fx *fx = *state;
  int finals_seen = 0;

  fx->app.on_final = count_final;
  fx->app.on_final_data = &finals_seen;
  final_caption (fx, 1, " \n", 0);
  assert_int_equal (fx->app.n_finals, 0);
  assert_int_equal (finals_seen, 0);
  assert_null (fx->app.last_final);
  final_caption (fx, 2, "A door.", 0);
  assert_int_equal (finals_seen, 1);
}

static void
test_max_captions_quits (void **state)
{
  Fx *fx = *state;

  fx->app.max_finals = 2;
  final_caption (fx, 1, "One.", 0);
  assert_false (fx->app.quit);
  final_caption (fx, 2, "Two.", 100000000);
  assert_true (fx->app.quit);
  assert_int_equal (fx->app.exit_code, 0);
}

static void
test_error_quits_with_status_1 (void **state)
{
  Fx *fx = *state;

  scanner_events_on_error ("Could not open the camera.", "v4l2: busy",
      &fx->feed);
  pump (fx);
  assert_true (fx->app.quit);
  assert_int_equal (fx->app.exit_code, 1);
  assert_string_equal (fx->app.error, "Could not open the camera.");
  assert_string_equal (fx->app.error_debug, "v4l2: busy");
}

static void
test_eos_quits_with_status_0 (void **state)
{
  Fx *fx = *state;

  scanner_events_on_eos (&fx->feed);
  pump (fx);
  assert_true (fx->app.eos);
  assert_true (fx->app.quit);
  assert_int_equal (fx->app.exit_code, 0);
}

static void
test_warning_is_announced (void **state)
{
  Fx *fx = *state;

  scanner_events_on_warning ("No camera found. Showing a test pattern "
      "instead.", NULL, &fx->feed);
  pump (fx);
  assert_false (fx->app.quit);
  assert_non_null (strstr (fx->app.notice, "test pattern"));
  assert_non_null (strstr (fx->rec.said, "test pattern"));
}

static void
test_status_line_shows_state (void **state)
{
  Fx *fx = *state;
  char text[512];

  scanner_app_status_text (&fx->app, text, sizeof text);
  assert_non_null (strstr (text, "Starting"));
  assert_non_null (strstr (text, "Idle"));
  assert_non_null (strstr (text, "Continuous on"));
  assert_non_null (strstr (text, "Speech 175 wpm"));
  scanner_events_on_model ("loading", 0.5, &fx->feed);
  scanner_events_on_thermal ("throttled", 71.4, &fx->feed);
  pump (fx);
  scanner_app_status_text (&fx->app, text, sizeof text);
  assert_non_null (strstr (text, "Loading model 50%"));
  assert_non_null (strstr (text, "Thermal throttled 71"));
  scanner_events_on_model ("ready", 1.0, &fx->feed);
  pump (fx);
  final_caption (fx, 1, "A door.", 0);
  key (fx, SDLK_RIGHT);
  key (fx, SDLK_m);
  scanner_app_status_text (&fx->app, text, sizeof text);
  assert_non_null (strstr (text, "Model ready"));
  assert_non_null (strstr (text, "Caption 1"));
  assert_non_null (strstr (text, "Speech muted"));
  assert_non_null (strstr (text, fx->app.preset_names[fx->app.preset]));
}

static void
test_frames_are_copied_and_dropped_while_pending (void **state)
{
  Fx *fx = *state;
  /* 2 x 2 RGBA with 4 bytes of padding per row */
  uint8_t px[2 * 12];

  for (size_t i = 0; i < sizeof px; i++)
    px[i] = (uint8_t) i;
  scanner_events_on_frame (px, 2, 2, 12, 40000000, &fx->feed);
  scanner_events_on_frame (px, 2, 2, 12, 80000000, &fx->feed);
  assert_int_equal (SDL_AtomicGet (&fx->feed.frames_dropped), 1);
  pump (fx);
  assert_int_equal (fx->app.n_frames, 1);
  assert_int_equal (fx->app.frame_w, 2);
  assert_int_equal (fx->app.frame_pts, 40000000);
  assert_true (fx->app.frame_new);
  assert_memory_equal (fx->app.frame, px, 8);
  assert_memory_equal (fx->app.frame + 8, px + 12, 8);
  /* the next frame gets through again */
  assert_int_equal (SDL_AtomicGet (&fx->feed.frame_pending), 0);
  scanner_events_on_frame (px, 2, 2, 12, 120000000, &fx->feed);
  pump (fx);
  assert_int_equal (fx->app.n_frames, 2);
}

/* ------------------------------------------------------------------ */
/* Options                                                             */
/* ------------------------------------------------------------------ */

static int
parse (ScannerOptions * o, char *err, size_t size, ...)
{
  char *argv[32];
  int argc = 0;
  va_list ap;

  argv[argc++] = (char *) "vlm-scanner";
  va_start (ap, size);
  for (char *a; (a = va_arg (ap, char *)) != NULL && argc < 31;)
    argv[argc++] = a;
  va_end (ap);
  argv[argc] = NULL;
  return scanner_options_parse (o, argc, argv, err, size);
}

static void
test_options_parse_all (void **state)
{
  ScannerOptions o;
  char err[256];

  assert_int_equal (parse (&o, err, sizeof err, "--headless", "--input",
          "clip.webm", "--output=out.vtt", "--set", "describe.rate=1/2",
          "--set=speech.rate=200", "--model", "m.gguf", "--mmproj", "p.gguf",
          "--no-speech", "--max-captions", "3", "--verbose", NULL), 0);
  assert_true (o.headless);
  assert_string_equal (o.input, "clip.webm");
  assert_string_equal (o.output, "out.vtt");
  assert_int_equal (o.n_sets, 2);
  assert_string_equal (o.sets[1], "speech.rate=200");
  assert_string_equal (o.model, "m.gguf");
  assert_true (o.no_speech);
  assert_int_equal (o.max_captions, 3);
  assert_true (o.verbose);
  scanner_options_clear (&o);
}

static void
test_options_bad_values_exit_2 (void **state)
{
  static const char *bad[][3] = {
    {"--bogus", NULL, NULL},
    {"--input", NULL, NULL},            /* needs a value */
    {"--max-captions", "0", NULL},
    {"--max-captions", "x", NULL},
    {"--set", "norate", NULL},
    {"--headless=1", NULL, NULL},
    {"--quit-after-screenshot", NULL, NULL},
    {"--test-pattern", "--camera", "/dev/video0"},
    {"--input", "", NULL},
    {"stray", NULL, NULL},
  };

  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    ScannerOptions o;
    char err[256];

    assert_int_equal (parse (&o, err, sizeof err, bad[i][0], bad[i][1],
            bad[i][2], NULL), SCANNER_EXIT_USAGE);
    assert_true (strlen (err) > 0);
    scanner_options_clear (&o);
  }
}

static void
test_options_screenshot_needs_window (void **state)
{
  ScannerOptions o;
  char err[256];

  assert_int_equal (parse (&o, err, sizeof err, "--headless", "--screenshot",
          "a.png", NULL), SCANNER_EXIT_USAGE);
  assert_non_null (strstr (err, "--screenshot"));
  scanner_options_clear (&o);
}

static void
test_options_make_the_config (void **state)
{
  ScannerOptions o;
  char err[256];
  GError *error = NULL;
  VlmConfig *c;

  assert_int_equal (parse (&o, err, sizeof err, "--config", "/nonexistent/x",
          NULL), 0);
  c = scanner_options_config (&o, &error);
  assert_null (c);              /* a named file must exist */
  assert_non_null (error);
  g_clear_error (&error);
  scanner_options_clear (&o);

  assert_int_equal (parse (&o, err, sizeof err, "--set", "speech.rate=200",
          "--input", "/tmp/clip.webm", "--model", "m.gguf", "--no-speech",
          NULL), 0);
  g_setenv ("XDG_CONFIG_HOME", "/nonexistent", TRUE);
  c = scanner_options_config (&o, &error);
  assert_non_null (c);
  assert_int_equal (c->speech_rate, 200);
  assert_int_equal (c->source, VLM_SOURCE_URI);
  assert_string_equal (c->uri, "/tmp/clip.webm");
  assert_string_equal (c->model, "m.gguf");
  assert_false (c->speech);
  vlm_config_free (c);
  scanner_options_clear (&o);
}

static void
test_options_bad_set_is_an_error (void **state)
{
  ScannerOptions o;
  char err[256];
  GError *error = NULL;

  assert_int_equal (parse (&o, err, sizeof err, "--set", "describe.rate=1/0",
          NULL), 0);
  g_setenv ("XDG_CONFIG_HOME", "/nonexistent", TRUE);
  assert_null (scanner_options_config (&o, &error));
  assert_non_null (error);
  assert_non_null (strstr (error->message, "rate"));
  g_clear_error (&error);
  scanner_options_clear (&o);
}

/* ------------------------------------------------------------------ */
/* WebVTT cue timing                                                   */
/* ------------------------------------------------------------------ */

#define S SCANNER_CUES_SECOND

typedef struct {
  int n;
  uint64_t start[8], end[8];
  char text[8][64];
} Cues;

static bool
collect (uint64_t start, uint64_t end, const char *text, void *data)
{
  Cues *c = data;

  assert_true (c->n < 8);
  c->start[c->n] = start;
  c->end[c->n] = end;
  snprintf (c->text[c->n], sizeof c->text[0], "%s", text);
  c->n++;
  return true;
}

static void
test_cue_ends_at_next_start (void **state)
{
  ScannerCues q;
  Cues out = { 0 };

  scanner_cues_init (&q, 4 * S);
  scanner_cues_add (&q, 1 * S, "one", collect, &out);
  assert_int_equal (out.n, 0);  /* waits for its end */
  scanner_cues_add (&q, 3 * S, "two", collect, &out);
  assert_int_equal (out.n, 1);
  assert_int_equal (out.start[0], 1 * S);
  assert_int_equal (out.end[0], 3 * S);
  assert_string_equal (out.text[0], "one");
  scanner_cues_clear (&q);
}

static void
test_cue_holds_at_most_hold_time (void **state)
{
  ScannerCues q;
  Cues out = { 0 };

  scanner_cues_init (&q, 4 * S);
  scanner_cues_add (&q, 1 * S, "one", collect, &out);
  scanner_cues_add (&q, 10 * S, "two", collect, &out);
  assert_int_equal (out.end[0], 5 * S);
  scanner_cues_finish (&q, SCANNER_CUES_NONE, collect, &out);
  assert_int_equal (out.n, 2);
  assert_int_equal (out.end[1], 14 * S);
  scanner_cues_clear (&q);
}

static void
test_last_cue_capped_at_clip_end (void **state)
{
  ScannerCues q;
  Cues out = { 0 };

  scanner_cues_init (&q, 4 * S);
  scanner_cues_add (&q, 2 * S, "one", collect, &out);
  scanner_cues_finish (&q, 3 * S, collect, &out);
  assert_int_equal (out.n, 1);
  assert_int_equal (out.start[0], 2 * S);
  assert_int_equal (out.end[0], 3 * S);
  /* nothing pending: finishing again emits nothing */
  scanner_cues_finish (&q, 3 * S, collect, &out);
  assert_int_equal (out.n, 1);
  scanner_cues_clear (&q);
}

static void
test_cue_never_goes_back (void **state)
{
  ScannerCues q;
  Cues out = { 0 };

  scanner_cues_init (&q, 4 * S);
  scanner_cues_add (&q, 2 * S, "one", collect, &out);
  scanner_cues_add (&q, 1 * S, "two", collect, &out);
  scanner_cues_add (&q, SCANNER_CUES_NONE, "no time", collect, &out);
  scanner_cues_finish (&q, SCANNER_CUES_NONE, collect, &out);
  assert_int_equal (out.n, 2);
  assert_int_equal (out.start[1], 2 * S);
  assert_true (out.end[0] >= out.start[0]);
  assert_string_equal (out.text[1], "two");
  scanner_cues_clear (&q);
}

/* ------------------------------------------------------------------ */

int
main (void)
{
#define T(f) cmocka_unit_test_setup_teardown (f, setup, teardown)
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_keys_map_to_actions),
    cmocka_unit_test (test_buttons_map_to_actions),
    cmocka_unit_test (test_key_repeat_is_ignored),
    cmocka_unit_test (test_help_lists_every_control),
    T (test_describe_now_asks_the_pipeline),
    T (test_continuous_toggles_and_reaches_pipeline),
    T (test_preset_keys_cycle_prompts),
    T (test_preset_buttons_cycle_prompts),
    T (test_repeat_says_the_last_caption),
    T (test_repeat_without_caption_says_so),
    T (test_rate_up_clamps_at_fastest),
    T (test_rate_down_clamps_at_slowest),
    T (test_mute_toggles_speech),
    T (test_muted_repeat_is_silent),
    T (test_help_is_shown_and_spoken),
    T (test_quit_key),
    T (test_escape_quits_without_help),
    T (test_guide_button_quits),
    T (test_window_close_quits),
    T (test_holding_b_quits),
    T (test_short_b_does_not_quit),
    T (test_virtual_gamepad_describes),
    cmocka_unit_test_setup_teardown (test_no_speech_rate_and_mute_say_off,
        setup_no_speech, teardown),
    T (test_captions_reach_speech),
    T (test_same_final_counts_once),
    T (test_blank_final_is_not_a_caption),
    T (test_max_captions_quits),
    T (test_error_quits_with_status_1),
    T (test_eos_quits_with_status_0),
    T (test_warning_is_announced),
    T (test_status_line_shows_state),
    T (test_frames_are_copied_and_dropped_while_pending),
    cmocka_unit_test (test_options_parse_all),
    cmocka_unit_test (test_options_bad_values_exit_2),
    cmocka_unit_test (test_options_screenshot_needs_window),
    cmocka_unit_test (test_options_make_the_config),
    cmocka_unit_test (test_options_bad_set_is_an_error),
    cmocka_unit_test (test_cue_ends_at_next_start),
    cmocka_unit_test (test_cue_holds_at_most_hold_time),
    cmocka_unit_test (test_last_cue_capped_at_clip_end),
    cmocka_unit_test (test_cue_never_goes_back),
  };
  int rc;

  /* the event queue only: no window, no audio */
  SDL_SetHint (SDL_HINT_NO_SIGNAL_HANDLERS, "1");
  if (SDL_Init (SDL_INIT_EVENTS) != 0 || !scanner_events_init ()) {
    fprintf (stderr, "SDL: %s\n", SDL_GetError ());
    return 1;
  }
  rc = cmocka_run_group_tests (tests, NULL, NULL);
  SDL_Quit ();
  return rc;
}

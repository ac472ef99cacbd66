/* gst-vlm — vlm-scanner controls: keyboard and gamepad events -> actions. */
#include "scanner-controls.h"

#include <stdio.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* The controls table                                                  */
/* ------------------------------------------------------------------ */

#define MAX_KEYS 4
#define MAX_BUTTONS 2
#define NO_BUTTON SDL_CONTROLLER_BUTTON_INVALID

typedef struct {
  ScannerAction action;
  SDL_Keycode keys[MAX_KEYS];           /* 0-terminated */
  SDL_GameControllerButton buttons[MAX_BUTTONS];  /* NO_BUTTON-terminated */
  const char *keys_label;               /* for the screen */
  const char *pad_label;
  const char *keys_spoken;              /* for speech */
  const char *pad_spoken;
  const char *what;
} Control;

/* Gamepad B is not in the table's buttons: a short press is BACK, a long
 * one QUIT (see scanner_controls_map_event and _tick). */
static const Control controls[] = {
  {SCANNER_ACTION_DESCRIBE, {SDLK_SPACE, SDLK_RETURN, SDLK_KP_ENTER},
        {SDL_CONTROLLER_BUTTON_A, NO_BUTTON},
      "Space, Enter", "A", "Space or Enter", "A", "describe now"},
  {SCANNER_ACTION_CONTINUOUS, {SDLK_c},
        {SDL_CONTROLLER_BUTTON_Y, NO_BUTTON},
      "C", "Y", "C", "Y", "continuous narration on or off"},
  {SCANNER_ACTION_PRESET_NEXT, {SDLK_RIGHT},
        {SDL_CONTROLLER_BUTTON_DPAD_RIGHT, SDL_CONTROLLER_BUTTON_RIGHTSHOULDER},
      "Right", "D-pad right, RB", "Right arrow", "D-pad right or right bumper",
      "next question preset"},
  {SCANNER_ACTION_PRESET_PREV, {SDLK_LEFT},
        {SDL_CONTROLLER_BUTTON_DPAD_LEFT, SDL_CONTROLLER_BUTTON_LEFTSHOULDER},
      "Left", "D-pad left, LB", "Left arrow", "D-pad left or left bumper",
      "previous question preset"},
  {SCANNER_ACTION_REPEAT, {SDLK_r},
        {SDL_CONTROLLER_BUTTON_X, NO_BUTTON},
      "R", "X", "R", "X", "repeat the last caption"},
  {SCANNER_ACTION_RATE_UP, {SDLK_PLUS, SDLK_EQUALS, SDLK_KP_PLUS, SDLK_UP},
        {SDL_CONTROLLER_BUTTON_DPAD_UP, NO_BUTTON},
      "+, Up", "D-pad up", "Plus or Up arrow", "D-pad up", "speak faster"},
  {SCANNER_ACTION_RATE_DOWN, {SDLK_MINUS, SDLK_KP_MINUS, SDLK_DOWN},
        {SDL_CONTROLLER_BUTTON_DPAD_DOWN, NO_BUTTON},
      "-, Down", "D-pad down", "Minus or Down arrow", "D-pad down",
      "speak slower"},
  {SCANNER_ACTION_MUTE, {SDLK_m},
        {SDL_CONTROLLER_BUTTON_BACK, NO_BUTTON},
      "M", "Back", "M", "Back", "mute or unmute speech"},
  {SCANNER_ACTION_HELP, {SDLK_h, SDLK_F1},
        {SDL_CONTROLLER_BUTTON_START, NO_BUTTON},
      "H, F1", "Start", "H or F1", "Start", "this help"},
  {SCANNER_ACTION_ESCAPE, {SDLK_ESCAPE},
        {NO_BUTTON},
      "Esc", "B", "Escape", "B", "close the help (Esc: else quit)"},
  {SCANNER_ACTION_QUIT, {SDLK_q},
        {SDL_CONTROLLER_BUTTON_GUIDE, NO_BUTTON},
      "Q", "hold B, Guide", "Q", "hold B for one second, or Guide", "quit"},
};

#define N_CONTROLS (sizeof controls / sizeof controls[0])

/* ------------------------------------------------------------------ */
/* Mapping                                                             */
/* ------------------------------------------------------------------ */

void
scanner_controls_init (ScannerControls * c)
{
  memset (c, 0, sizeof *c);
}

static ScannerAction
action_of_key (SDL_Keycode key)
{
  for (size_t i = 0; i < N_CONTROLS; i++)
    for (int k = 0; k < MAX_KEYS && controls[i].keys[k] != 0; k++)
      if (controls[i].keys[k] == key)
        return controls[i].action;
  return SCANNER_ACTION_NONE;
}

static ScannerAction
action_of_button (int button)
{
  for (size_t i = 0; i < N_CONTROLS; i++)
    for (int b = 0; b < MAX_BUTTONS && controls[i].buttons[b] != NO_BUTTON;
        b++)
      if ((int) controls[i].buttons[b] == button)
        return controls[i].action;
  return SCANNER_ACTION_NONE;
}

/* B: remember when it went down; released early, it is BACK. */
static ScannerAction
button_b (ScannerControls * c, const SDL_ControllerButtonEvent * e)
{
  bool was_down = c->b_down, quit_sent = c->b_quit_sent;

  if (e->type == SDL_CONTROLLERBUTTONDOWN) {
    if (!was_down) {
      c->b_down = true;
      c->b_down_at = e->timestamp;
      c->b_quit_sent = false;
    }
    return SCANNER_ACTION_NONE;
  }
  c->b_down = false;
  c->b_quit_sent = false;
  return was_down && !quit_sent ? SCANNER_ACTION_BACK : SCANNER_ACTION_NONE;
}

ScannerAction
scanner_controls_map_event (ScannerControls * c, const SDL_Event * event)
{
  switch (event->type) {
    case SDL_KEYDOWN:
      if (event->key.repeat)
        return SCANNER_ACTION_NONE;
      return action_of_key (event->key.keysym.sym);
    case SDL_CONTROLLERBUTTONDOWN:
    case SDL_CONTROLLERBUTTONUP:
      if (event->cbutton.button == SDL_CONTROLLER_BUTTON_B)
        return button_b (c, &event->cbutton);
      if (event->type == SDL_CONTROLLERBUTTONUP)
        return SCANNER_ACTION_NONE;
      return action_of_button (event->cbutton.button);
    case SDL_QUIT:
      return SCANNER_ACTION_QUIT;
    default:
      return SCANNER_ACTION_NONE;
  }
}

ScannerAction
scanner_controls_tick (ScannerControls * c, Uint32 now_ms)
{
  if (c->b_down && !c->b_quit_sent
      && now_ms - c->b_down_at >= SCANNER_QUIT_HOLD_MS) {
    c->b_quit_sent = true;
    return SCANNER_ACTION_QUIT;
  }
  return SCANNER_ACTION_NONE;
}

/* ------------------------------------------------------------------ */
/* Names and help                                                      */
/* ------------------------------------------------------------------ */

const char *
scanner_action_name (ScannerAction action)
{
  static const char *names[SCANNER_N_ACTIONS] = {
    "none", "describe now", "continuous narration", "next preset",
    "previous preset", "repeat", "speak faster", "speak slower", "mute",
    "help", "back", "escape", "quit",
  };

  if ((int) action < 0 || action >= SCANNER_N_ACTIONS)
    return "?";
  return names[action];
}

/* Appends to buf like snprintf at offset *len (which grows regardless). */
static void
append (char *buf, size_t size, size_t *len, const char *a, const char *b,
    const char *c)
{
  size_t left = *len < size ? size - *len : 0;
  int n = snprintf (left ? buf + *len : NULL, left, "%s%s%s", a, b, c);

  if (n > 0)
    *len += (size_t) n;
}

static size_t
help (char *buf, size_t size, bool spoken)
{
  size_t len = 0;

  if (size > 0)
    buf[0] = '\0';
  append (buf, size, &len, spoken ? "Controls. " : "Controls (keyboard / gamepad)\n",
      "", "");
  for (size_t i = 0; i < N_CONTROLS; i++) {
    const Control *r = &controls[i];

    if (spoken) {
      append (buf, size, &len, r->keys_spoken, ", or gamepad ", r->pad_spoken);
      append (buf, size, &len, ": ", r->what, ". ");
    } else {
      append (buf, size, &len, r->keys_label, "  /  ", r->pad_label);
      append (buf, size, &len, ":  ", r->what, i + 1 < N_CONTROLS ? "\n" : "");
    }
  }
  return len;
}

size_t
scanner_controls_help_text (char *buf, size_t size)
{
  return help (buf, size, false);
}

size_t
scanner_controls_help_speech (char *buf, size_t size)
{
  return help (buf, size, true);
}

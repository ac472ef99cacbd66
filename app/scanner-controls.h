/* gst-vlm — vlm-scanner controls: keyboard and gamepad events -> actions.
 *
 * One table lists every control: its action, its keys, its gamepad
 * buttons and the words that describe it. The mapping, the on-screen help
 * and the spoken help all come from that table, so they cannot disagree.
 *
 *   ScannerControls c;
 *   scanner_controls_init (&c);
 *   ScannerAction a = scanner_controls_map_event (&c, &event);
 *   a = scanner_controls_tick (&c, SDL_GetTicks ());   // "hold B" to quit
 *
 * Plain logic on SDL_Event values: no window, no device, no thread.
 */
#ifndef SCANNER_CONTROLS_H
#define SCANNER_CONTROLS_H

#include <stdbool.h>
#include <stddef.h>
#include <SDL.h>

typedef enum {
  SCANNER_ACTION_NONE = 0,
  SCANNER_ACTION_DESCRIBE,      /* describe the scene now */
  SCANNER_ACTION_CONTINUOUS,    /* continuous narration on/off */
  SCANNER_ACTION_PRESET_NEXT,   /* next prompt preset */
  SCANNER_ACTION_PRESET_PREV,   /* previous prompt preset */
  SCANNER_ACTION_REPEAT,        /* speak the last caption again */
  SCANNER_ACTION_RATE_UP,       /* speak faster */
  SCANNER_ACTION_RATE_DOWN,     /* speak slower */
  SCANNER_ACTION_MUTE,          /* speech muted/unmuted */
  SCANNER_ACTION_HELP,          /* help shown/hidden (and spoken) */
  SCANNER_ACTION_BACK,          /* gamepad B: close help ("hold to quit") */
  SCANNER_ACTION_ESCAPE,        /* Esc: close help, else quit */
  SCANNER_ACTION_QUIT,          /* quit the app */
  SCANNER_N_ACTIONS
} ScannerAction;

/* How long gamepad B must be held to quit (ms). */
#define SCANNER_QUIT_HOLD_MS 1000

typedef struct {
  bool b_down;                  /* gamepad B is held */
  Uint32 b_down_at;             /* since (SDL ticks, ms) */
  bool b_quit_sent;             /* the hold already gave QUIT */
} ScannerControls;

void scanner_controls_init (ScannerControls * c);

/* The action of one SDL event (key or gamepad button down, window close),
 * SCANNER_ACTION_NONE for any other event and for key auto-repeat. */
ScannerAction scanner_controls_map_event (ScannerControls * c,
    const SDL_Event * event);

/* Time passing: QUIT once gamepad B has been held SCANNER_QUIT_HOLD_MS,
 * else NONE. now_ms is on the clock of the events' timestamps. */
ScannerAction scanner_controls_tick (ScannerControls * c, Uint32 now_ms);

/* Short English name of an action ("describe now"). */
const char *scanner_action_name (ScannerAction action);

/* The controls as lines "keys | gamepad: what", for the help screen;
 * fills buf (always NUL-terminated), returns the length it needed. */
size_t scanner_controls_help_text (char *buf, size_t size);

/* The same as sentences for speech ("Space or Enter, or A: describe now."). */
size_t scanner_controls_help_speech (char *buf, size_t size);

#endif /* SCANNER_CONTROLS_H */

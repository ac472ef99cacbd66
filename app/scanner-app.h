/* gst-vlm — vlm-scanner: the app's state and what events do to it.
 *
 * One ScannerApp holds everything the main loop knows: the controls, the
 * prompt presets, narration and speech settings, what the pipeline last
 * reported and the newest video frame. scanner_app_handle_event() is the
 * loop's event handler: input events become actions, pipeline messages
 * (scanner-events.h) update the state. The pipeline and the speech engine
 * sit behind two small tables of functions (ScannerPipelineOps,
 * ScannerSpeechOps), so the app drives the real ones and the tests drive
 * recorders.
 *
 * Main thread only.
 */
#ifndef SCANNER_APP_H
#define SCANNER_APP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <SDL.h>

#include "scanner-controls.h"
#include "scanner-events.h"
#include "vlmconfig.h"

#define SCANNER_RATE_STEP 25            /* words per minute per press */
#define SCANNER_RATE_MIN 80
#define SCANNER_RATE_MAX 450
#define SCANNER_NOTICE_MS 3000          /* how long a notice stays */
#define SCANNER_MAX_PADS 4              /* gamepads used at once */

/* The pipeline's controls (vlm_pipeline_* in the app). */
typedef struct {
  void (*describe_now) (void *ctx);
  void (*set_continuous) (void *ctx, bool continuous);
  void (*set_prompt) (void *ctx, const char *prompt);
  void *ctx;
} ScannerPipelineOps;

/* The speech engine (vlm_speech_* in the app); say == NULL: no speech. */
typedef struct {
  void (*caption) (void *ctx, uint64_t id, const char *text, bool final);
  void (*say) (void *ctx, const char *text);
  int (*set_rate) (void *ctx, int rate);      /* returns the rate in effect */
  void (*set_muted) (void *ctx, bool muted);
  void *ctx;
} ScannerSpeechOps;

/* Called for each final caption (headless printing, WebVTT). */
typedef void (*ScannerFinalFn) (const char *text, uint64_t id, uint64_t pts,
    void *user_data);

typedef enum {
  SCANNER_CAPTION_IDLE = 0,     /* nothing asked yet */
  SCANNER_CAPTION_DESCRIBING,   /* asked, or a caption is streaming */
  SCANNER_CAPTION_DONE,         /* the last caption is final */
} ScannerCaptionState;

typedef struct {
  /* controls and what they change */
  ScannerControls controls;
  SDL_GameController *pads[SCANNER_MAX_PADS];   /* opened as they come */
  ScannerPipelineOps pipeline;
  ScannerSpeechOps speech;
  char **preset_names;          /* from the config, n_presets >= 1 */
  char **preset_prompts;
  int n_presets;
  int preset;
  bool continuous;
  int rate;                     /* words per minute */
  bool muted;
  bool help;                    /* help shown */
  char *help_text;              /* for the screen */
  char *help_speech;            /* for speech */
  char *notice;                 /* a short message, shown for a while */
  Uint32 notice_until;

  /* what the pipeline reported */
  char model_state[16];         /* "" (not yet), "loading", "ready" */
  double model_progress;        /* 0..1 */
  ScannerCaptionState caption_state;
  uint64_t caption_id;          /* id of the newest caption */
  char *caption;                /* its text so far */
  char *last_final;             /* the newest final caption */
  uint64_t last_final_pts;
  unsigned n_finals;
  char thermal[16];             /* "" (not yet), "normal", ... */
  double temp_c;                /* NAN: unknown */
  char *error;                  /* fatal pipeline error */
  char *error_debug;
  bool eos;

  /* video */
  ScannerFeed *feed;            /* the frame flag shared with on_frame */
  uint8_t *frame;               /* RGBA, width * 4 per row */
  int frame_w, frame_h;
  uint64_t frame_pts;
  bool frame_new;               /* not drawn yet */
  unsigned n_frames;
  Uint32 fps_since;             /* fps counting window */
  unsigned fps_frames;
  double fps;

  /* the loop */
  bool quit;
  int exit_code;                /* 0 ok, 1 runtime error */
  bool dirty;                   /* the window needs drawing */
  unsigned max_finals;          /* quit after this many final captions; 0 = no */
  ScannerFinalFn on_final;
  void *on_final_data;
} ScannerApp;

/* From the config: presets, default preset, continuous, speech rate.
 * speech may be NULL (no speech). Free with scanner_app_clear(). */
void scanner_app_init (ScannerApp * app, const VlmConfig * config,
    const ScannerPipelineOps * pipeline, const ScannerSpeechOps * speech,
    ScannerFeed * feed);

void scanner_app_clear (ScannerApp * app);

/* True when speech ops are present. */
bool scanner_app_has_speech (const ScannerApp * app);

/* The loop's event handler: input, gamepads coming and going (opened and
 * closed here), pipeline messages (freed here). */
void scanner_app_handle_event (ScannerApp * app, const SDL_Event * event);

/* Does what an action does. */
void scanner_app_apply (ScannerApp * app, ScannerAction action);

/* Time passing (hold-B quit, notice expiry, fps); now on SDL_GetTicks. */
void scanner_app_tick (ScannerApp * app, Uint32 now_ms);

/* Shows text for a while and speaks it (when speech is on). */
void scanner_app_announce (ScannerApp * app, const char *text);

/* The status line, two lines of text ("Model ready | Caption 3 | ...").
 * Returns the length it needed (snprintf-like). */
size_t scanner_app_status_text (const ScannerApp * app, char *buf,
    size_t size);

/* The prompt of the current preset. */
const char *scanner_app_prompt (const ScannerApp * app);

#endif /* SCANNER_APP_H */

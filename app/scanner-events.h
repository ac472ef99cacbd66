/* gst-vlm — vlm-scanner: pipeline callbacks -> SDL events.
 *
 * The pipeline calls back from GStreamer threads. Each callback copies
 * what it got into a ScannerMsg and posts it with SDL_PushEvent; the main
 * loop takes it from the event (scanner_events_msg), uses it and frees it
 * (scanner_msg_free). Nothing else crosses threads.
 *
 * Video frames: at most one frame event is in the queue at a time (the
 * ScannerFeed's flag); frames arriving while one waits are dropped, so a
 * slow main loop shows fewer frames instead of falling behind.
 */
#ifndef SCANNER_EVENTS_H
#define SCANNER_EVENTS_H

#include <stdbool.h>
#include <stdint.h>
#include <SDL.h>

#include "vlmpipeline.h"

typedef enum {
  SCANNER_MSG_CAPTION = 0,      /* text, final, id, pts */
  SCANNER_MSG_MODEL,            /* text = state, value = progress */
  SCANNER_MSG_THERMAL,          /* text = state, value = degrees C or NAN */
  SCANNER_MSG_ERROR,            /* text = message, debug */
  SCANNER_MSG_WARNING,          /* text = message, debug */
  SCANNER_MSG_EOS,
  SCANNER_MSG_FRAME,            /* pixels (RGBA, width * 4 per row), pts */
  SCANNER_N_MSGS
} ScannerMsgKind;

typedef struct {
  ScannerMsgKind kind;
  char *text;
  char *debug;
  bool final;
  uint64_t id;
  uint64_t pts;                 /* ns; UINT64_MAX = unknown */
  double value;
  uint8_t *pixels;
  int width, height;
} ScannerMsg;

/* Shared by the streaming threads and the main loop (atomics only). */
typedef struct {
  SDL_atomic_t frame_pending;   /* a frame event is in the queue */
  SDL_atomic_t frames_dropped;
} ScannerFeed;

/* Registers the event types (once; SDL's event subsystem must be up).
 * False when SDL has no user event types left. */
bool scanner_events_init (void);

/* The ScannerMsg of one of our events, else NULL. The loop owns it. */
ScannerMsg *scanner_events_msg (const SDL_Event * event);

/* Posts msg (taking it; freed when it cannot be posted). */
bool scanner_events_push (ScannerMsg * msg);

void scanner_msg_free (ScannerMsg * msg);

/* Frees every message still in SDL's queue (at exit, after the pipeline
 * has stopped). */
void scanner_events_drain (void);

/* Callbacks that post the messages above; user_data is feed. */
VlmPipelineCallbacks scanner_events_callbacks (ScannerFeed * feed);

/* The callbacks themselves, for tests. */
void scanner_events_on_caption (const gchar * text, gboolean final,
    guint64 id, GstClockTime pts, gpointer user_data);
void scanner_events_on_model (const gchar * state, gdouble progress,
    gpointer user_data);
void scanner_events_on_thermal (const gchar * state, gdouble temp_c,
    gpointer user_data);
void scanner_events_on_error (const gchar * message, const gchar * debug,
    gpointer user_data);
void scanner_events_on_warning (const gchar * message, const gchar * debug,
    gpointer user_data);
void scanner_events_on_eos (gpointer user_data);
void scanner_events_on_frame (const guint8 * rgba, gint width, gint height,
    gint stride, GstClockTime pts, gpointer user_data);

#endif /* SCANNER_EVENTS_H */

/* gst-vlm — vlm-scanner: pipeline callbacks -> SDL events. */
#include "scanner-events.h"

#include <stdlib.h>
#include <string.h>

static Uint32 event_base = (Uint32) - 1;

/* ------------------------------------------------------------------ */
/* Event types                                                         */
/* ------------------------------------------------------------------ */

bool
scanner_events_init (void)
{
  if (event_base != (Uint32) - 1)
    return true;
  event_base = SDL_RegisterEvents (SCANNER_N_MSGS);
  return event_base != (Uint32) - 1;
}

ScannerMsg *
scanner_events_msg (const SDL_Event * event)
{
  if (event_base == (Uint32) - 1 || event->type < event_base
      || event->type >= event_base + SCANNER_N_MSGS)
    return NULL;
  return event->user.data1;
}

void
scanner_msg_free (ScannerMsg * msg)
{
  if (msg == NULL)
    return;
  free (msg->text);
  free (msg->debug);
  free (msg->pixels);
  free (msg);
}

bool
scanner_events_push (ScannerMsg * msg)
{
  SDL_Event ev;

  memset (&ev, 0, sizeof ev);
  ev.type = event_base + msg->kind;
  ev.user.code = (Sint32) msg->kind;
  ev.user.data1 = msg;
  if (event_base == (Uint32) - 1 || SDL_PushEvent (&ev) != 1) {
    scanner_msg_free (msg);
    return false;
  }
  return true;
}

void
scanner_events_drain (void)
{
  SDL_Event ev;

  if (event_base == (Uint32) - 1)
    return;
  SDL_PumpEvents ();
  while (SDL_PeepEvents (&ev, 1, SDL_GETEVENT, event_base,
          event_base + SCANNER_N_MSGS - 1) == 1)
    scanner_msg_free (ev.user.data1);
}

/* ------------------------------------------------------------------ */
/* Callbacks (GStreamer threads)                                       */
/* ------------------------------------------------------------------ */

static char *
dup_or_null (const char *s)
{
  return s ? strdup (s) : NULL;
}

static ScannerMsg *
msg_new (ScannerMsgKind kind, const char *text)
{
  ScannerMsg *m = calloc (1, sizeof *m);

  if (m == NULL)
    return NULL;
  m->kind = kind;
  m->pts = UINT64_MAX;
  m->text = dup_or_null (text);
  if (text && m->text == NULL) {
    free (m);
    return NULL;
  }
  return m;
}

void
scanner_events_on_caption (const gchar * text, gboolean final, guint64 id,
    GstClockTime pts, gpointer user_data)
{
  ScannerMsg *m = msg_new (SCANNER_MSG_CAPTION, text ? text : "");

  if (m == NULL)
    return;
  m->final = final;
  m->id = id;
  m->pts = GST_CLOCK_TIME_IS_VALID (pts) ? pts : UINT64_MAX;
  scanner_events_push (m);
}

void
scanner_events_on_model (const gchar * state, gdouble progress,
    gpointer user_data)
{
  ScannerMsg *m = msg_new (SCANNER_MSG_MODEL, state ? state : "");

  if (m == NULL)
    return;
  m->value = progress;
  scanner_events_push (m);
}

void
scanner_events_on_thermal (const gchar * state, gdouble temp_c,
    gpointer user_data)
{
  ScannerMsg *m = msg_new (SCANNER_MSG_THERMAL, state ? state : "");

  if (m == NULL)
    return;
  m->value = temp_c;
  scanner_events_push (m);
}

void
scanner_events_on_error (const gchar * message, const gchar * debug,
    gpointer user_data)
{
  ScannerMsg *m = msg_new (SCANNER_MSG_ERROR,
      message ? message : "pipeline error");

  if (m == NULL)
    return;
  m->debug = dup_or_null (debug);
  scanner_events_push (m);
}

void
scanner_events_on_warning (const gchar * message, const gchar * debug,
    gpointer user_data)
{
  ScannerMsg *m = msg_new (SCANNER_MSG_WARNING, message ? message : "");

  if (m == NULL)
    return;
  m->debug = dup_or_null (debug);
  scanner_events_push (m);
}

void
scanner_events_on_eos (gpointer user_data)
{
  ScannerMsg *m = msg_new (SCANNER_MSG_EOS, NULL);

  if (m)
    scanner_events_push (m);
}

/* A copy with tight rows, unless one is still waiting in the queue. */
void
scanner_events_on_frame (const guint8 * rgba, gint width, gint height,
    gint stride, GstClockTime pts, gpointer user_data)
{
  ScannerFeed *feed = user_data;
  size_t row = (size_t) width * 4;
  ScannerMsg *m;

  if (rgba == NULL || width <= 0 || height <= 0 || stride < (gint) row)
    return;
  if (!SDL_AtomicCAS (&feed->frame_pending, 0, 1)) {
    SDL_AtomicAdd (&feed->frames_dropped, 1);
    return;
  }
  m = msg_new (SCANNER_MSG_FRAME, NULL);
  if (m)
    m->pixels = malloc (row * (size_t) height);
  if (m == NULL || m->pixels == NULL) {
    scanner_msg_free (m);
    SDL_AtomicSet (&feed->frame_pending, 0);
    return;
  }
  for (int y = 0; y < height; y++)
    memcpy (m->pixels + row * (size_t) y, rgba + (size_t) stride * (size_t) y,
        row);
  m->width = width;
  m->height = height;
  m->pts = GST_CLOCK_TIME_IS_VALID (pts) ? pts : UINT64_MAX;
  if (!scanner_events_push (m))
    SDL_AtomicSet (&feed->frame_pending, 0);
}

VlmPipelineCallbacks
scanner_events_callbacks (ScannerFeed * feed)
{
  VlmPipelineCallbacks cb;

  memset (&cb, 0, sizeof cb);
  cb.on_caption = scanner_events_on_caption;
  cb.on_model = scanner_events_on_model;
  cb.on_thermal = scanner_events_on_thermal;
  cb.on_error = scanner_events_on_error;
  cb.on_warning = scanner_events_on_warning;
  cb.on_eos = scanner_events_on_eos;
  cb.on_frame = scanner_events_on_frame;
  cb.user_data = feed;
  return cb;
}

/* gst-vlm — vlm-scanner: the timing of WebVTT cues from final captions. */
#include "scanner-cues.h"

#include <stdlib.h>
#include <string.h>

void
scanner_cues_init (ScannerCues * c, uint64_t hold_ns)
{
  memset (c, 0, sizeof *c);
  c->hold = hold_ns > 0 ? hold_ns : 1;
}

/* start + hold without overflow. */
static uint64_t
held_end (const ScannerCues * c)
{
  return c->start > UINT64_MAX - c->hold ? UINT64_MAX : c->start + c->hold;
}

/* Emits the pending cue ending at end (never before its start). */
static bool
emit_pending (ScannerCues * c, uint64_t end, ScannerCueEmit emit,
    void *user_data)
{
  bool ok;

  if (!c->pending)
    return true;
  if (end < c->start)
    end = c->start;
  ok = emit (c->start, end, c->text, user_data);
  c->n_emitted++;
  free (c->text);
  c->text = NULL;
  c->pending = false;
  return ok;
}

bool
scanner_cues_add (ScannerCues * c, uint64_t start_ns, const char *text,
    ScannerCueEmit emit, void *user_data)
{
  bool ok = true;
  char *copy;

  if (start_ns == SCANNER_CUES_NONE)
    return true;
  copy = strdup (text ? text : "");
  if (copy == NULL)
    return false;
  if (c->pending) {
    uint64_t end = held_end (c);

    if (start_ns < c->start)
      start_ns = c->start;
    ok = emit_pending (c, start_ns < end ? start_ns : end, emit, user_data);
  }
  c->pending = true;
  c->start = start_ns;
  c->text = copy;
  return ok;
}

bool
scanner_cues_finish (ScannerCues * c, uint64_t clip_end_ns,
    ScannerCueEmit emit, void *user_data)
{
  uint64_t end = held_end (c);

  /* emit_pending raises an end before the start to the start */
  if (clip_end_ns != SCANNER_CUES_NONE && clip_end_ns < end)
    end = clip_end_ns;
  return emit_pending (c, end, emit, user_data);
}

void
scanner_cues_clear (ScannerCues * c)
{
  free (c->text);
  c->text = NULL;
  c->pending = false;
}

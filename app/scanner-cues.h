/* gst-vlm — vlm-scanner: the timing of WebVTT cues from final captions.
 *
 * A caption describes one frame; its cue starts at that frame's PTS and
 * lasts until the next caption starts, or for a hold time, whichever comes
 * first; the last one ends at the clip's end at the latest:
 *
 *   ScannerCues c;
 *   scanner_cues_init (&c, 4 * SCANNER_CUES_SECOND);
 *   scanner_cues_add (&c, pts, "A red door.", emit, out);  // emits the previous
 *   scanner_cues_finish (&c, duration, emit, out);         // emits the last
 *   scanner_cues_clear (&c);
 *
 * Plain logic: emit() writes the cue (vlm_vtt_add_cue in the app).
 */
#ifndef SCANNER_CUES_H
#define SCANNER_CUES_H

#include <stdbool.h>
#include <stdint.h>

#define SCANNER_CUES_SECOND 1000000000ull
#define SCANNER_CUES_NONE UINT64_MAX      /* unknown time */

/* Writes one cue [start, end) (ns); false on failure. */
typedef bool (*ScannerCueEmit) (uint64_t start, uint64_t end,
    const char *text, void *user_data);

typedef struct {
  uint64_t hold;                /* longest cue (ns) */
  bool pending;                 /* a cue waits for its end */
  uint64_t start;
  char *text;
  unsigned n_emitted;
} ScannerCues;

void scanner_cues_init (ScannerCues * c, uint64_t hold_ns);

/* A final caption for the frame at start_ns (SCANNER_CUES_NONE: ignored,
 * returns true). A start before the previous cue's is raised to it (cues
 * must not go back in time). Emits the previous cue; returns what emit
 * returned (true when there was none). */
bool scanner_cues_add (ScannerCues * c, uint64_t start_ns, const char *text,
    ScannerCueEmit emit, void *user_data);

/* The end of the clip (ns; SCANNER_CUES_NONE when unknown): emits the
 * last cue, ending at start + hold, but not after clip_end_ns. */
bool scanner_cues_finish (ScannerCues * c, uint64_t clip_end_ns,
    ScannerCueEmit emit, void *user_data);

void scanner_cues_clear (ScannerCues * c);

#endif /* SCANNER_CUES_H */

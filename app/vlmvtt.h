/* gst-vlm — WebVTT caption file writer.
 *
 *   VlmVtt *v = vlm_vtt_open ("captions.vtt", &error);
 *   vlm_vtt_add_cue (v, 0, 3 * VLM_VTT_SECOND, "A kitchen table.");
 *   vlm_vtt_close (v, &error);
 *
 * Writes "WEBVTT", a blank line, then one numbered cue per caption:
 * "HH:MM:SS.mmm --> HH:MM:SS.mmm" and the text with &, < and > escaped,
 * blank lines removed (a blank line would end the cue) and "-->" broken.
 * Invalid UTF-8 is replaced by U+FFFD, other control characters than tab
 * by spaces. A text of nothing but blank lines gives a cue without text
 * lines (valid WebVTT). Each cue is written and flushed when added.
 *
 * Thread safety: one thread at a time per VlmVtt.
 */
#ifndef VLM_VTT_H
#define VLM_VTT_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VLM_VTT_SECOND 1000000000ull   /* times are in nanoseconds */

typedef struct VlmVtt VlmVtt;

/* Creates (truncates) path and writes the header. NULL on failure with
 * *error set to a message naming the path (free() it). */
VlmVtt *vlm_vtt_open (const char *path, char **error);

/* Appends a cue [start, end) (ns). end is raised to start + 1 ms when not
 * after start; a start before the previous cue's start is an error.
 * Returns false with the reason in vlm_vtt_error() on failure. */
bool vlm_vtt_add_cue (VlmVtt * v, uint64_t start_ns, uint64_t end_ns,
    const char *text);

/* The last error message, or NULL. Owned by v. */
const char *vlm_vtt_error (VlmVtt * v);

/* Flushes, closes and frees. Returns false with *error set (free() it) when
 * a write failed at any point; NULL v is fine (returns true). */
bool vlm_vtt_close (VlmVtt * v, char **error);

/* "HH:MM:SS.mmm" of ns (hours may exceed 99); buf holds >= 32 bytes. */
void vlm_vtt_format_time (uint64_t ns, char *buf);

#ifdef __cplusplus
}
#endif

#endif /* VLM_VTT_H */

/* gst-vlm — speaks captions with espeak-ng, sentence by sentence.
 *
 * A caption streams in token by token. Each sentence is spoken as soon as
 * it is complete, so the first words are heard long before the caption is
 * finished; a new caption interrupts the one being spoken; a final caption
 * identical to the last one spoken is not spoken again.
 *
 *   VlmSpeechParams sp = vlm_speech_params_default ();
 *   sp.on_audio = play_pcm;  sp.on_flush = drop_queued_pcm;  sp.user_data = app;
 *   VlmSpeech *s = vlm_speech_new (sp, &error);
 *   vlm_speech_caption (s, id, "A red door. A ca", FALSE);   // speaks "A red door."
 *   vlm_speech_caption (s, id, "A red door. A cat sits.", TRUE); // then "A cat sits."
 *   vlm_speech_free (s);
 *
 * Synthesis runs on the object's own thread: no call blocks on espeak-ng.
 * Audio leaves through on_audio as 16-bit mono PCM (the caller plays it:
 * SDL audio in the app, a buffer in tests).
 *
 * Thread safety: all functions may be called from any thread, but
 * vlm_speech_free() not concurrently with the others. Callbacks run on the
 * speech thread and must not call back into the VlmSpeech.
 */
#ifndef VLM_SPEECH_H
#define VLM_SPEECH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VLM_SPEECH_RATE_MIN 80     /* words per minute */
#define VLM_SPEECH_RATE_MAX 450
#define VLM_SPEECH_RATE_DEFAULT 175

typedef struct VlmSpeech VlmSpeech;

typedef struct {
  const char *voice;        /* espeak-ng voice name; default "en" */
  int rate;                 /* words per minute, clamped to MIN..MAX; default 175 */
  int volume;               /* 0..200; default 100 */
  const char *data_path;    /* espeak-ng data directory; NULL = the system's */
  /* PCM out: n_samples mono S16 samples at sample_rate Hz, in order.
   * Required. */
  void (*on_audio) (const int16_t * pcm, size_t n_samples, int sample_rate,
      void *user_data);
  /* Audio already handed to on_audio must be dropped now (a new caption
   * interrupts, stop, mute). Optional. */
  void (*on_flush) (void *user_data);
  /* A sentence starts being synthesised (for logs and tests). Optional. */
  void (*on_sentence) (const char *sentence, void *user_data);
  void *user_data;
} VlmSpeechParams;

VlmSpeechParams vlm_speech_params_default (void);

/* Starts espeak-ng and the speech thread. NULL on failure with *error set
 * to a message (free() it) when error is not NULL: espeak-ng data or voice
 * not found, no on_audio. Params strings are copied. */
VlmSpeech *vlm_speech_new (VlmSpeechParams params, char **error);

/* Stops speaking, joins the thread, frees. NULL is fine. */
void vlm_speech_free (VlmSpeech * s);

/* The caption `id` so far (whole text, not a delta). Queues every newly
 * completed sentence (ended by . ! ? or a newline, followed by a space or
 * the end of a final text); with final true also the rest. A different id
 * than the caption being spoken interrupts it (flush) first. Invalid
 * UTF-8 is replaced, never crashes. */
void vlm_speech_caption (VlmSpeech * s, uint64_t id, const char *text,
    bool final);

/* Speaks text now, interrupting (the "repeat last caption" control);
 * spoken even when identical to the last caption. */
void vlm_speech_say (VlmSpeech * s, const char *text);

/* Stops speaking and drops what is queued. */
void vlm_speech_stop (VlmSpeech * s);

/* Words per minute (clamped), from the next sentence on; returns the rate
 * now in effect. */
int vlm_speech_set_rate (VlmSpeech * s, int rate);
int vlm_speech_get_rate (VlmSpeech * s);

/* Muted: stops speaking and ignores captions until unmuted. */
void vlm_speech_set_muted (VlmSpeech * s, bool muted);
bool vlm_speech_get_muted (VlmSpeech * s);

/* True while a sentence is queued or being synthesised. */
bool vlm_speech_busy (VlmSpeech * s);

#ifdef __cplusplus
}
#endif

#endif /* VLM_SPEECH_H */

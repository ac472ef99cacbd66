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
   * interrupts, stop, mute). Called only when on_audio was called since
   * the last on_flush. Optional. */
  void (*on_flush) (void *user_data);
  /* A sentence starts being synthesised (for logs and tests). Optional. */
  void (*on_sentence) (const char *sentence, void *user_data);
  void *user_data;
} VlmSpeechParams;

VlmSpeechParams vlm_speech_params_default (void);

/* Starts espeak-ng and the speech thread. NULL on failure with *error set
 * to a message (free() it) when error is not NULL: espeak-ng data or voice
 * not found, no on_audio. Params strings are copied. voice NULL or "" is
 * "en"; volume is clamped to 0..200. espeak-ng is one per process: all
 * VlmSpeech objects of a process must use the same data_path (the first
 * one's), and synthesise one sentence at a time between them. */
VlmSpeech *vlm_speech_new (VlmSpeechParams params, char **error);

/* Stops speaking, joins the thread, frees. NULL is fine. espeak-ng itself
 * stays loaded until the process exits (espeak-ng 1.51 deadlocks when it is
 * terminated a second time), ready for the next vlm_speech_new(). */
void vlm_speech_free (VlmSpeech * s);

/* The caption `id` so far (whole text, not a delta). Queues every newly
 * completed sentence (ended by . ! ? or a newline, followed by a space or
 * the end of a final text); with final true also the rest. A different id
 * than the caption being spoken interrupts it (flush) first. Invalid
 * UTF-8 is replaced, never crashes.
 *
 * In detail:
 * - Text: invalid UTF-8 and control characters read as spaces; each run
 *   of white space is one space; sentences without a letter or digit
 *   ("...", "") are skipped.
 * - Sentence ends: a line break, or . ! ? … (optionally followed by closing
 *   quotes or brackets) followed by white space. A period is not an end
 *   when a non-space follows ("3.5 metres", "example.com"), when it closes
 *   a one-letter abbreviation after another period ("e.g.", "U.S.",
 *   "p.m."), or when the next word starts with a lower-case letter
 *   ("etc. and"); for the same reason a partial text ending in ". " waits
 *   for the next word. There is no abbreviation list: "Dr. Smith" splits
 *   after "Dr.".
 * - Interrupt: a new id interrupts the caption being spoken (queue dropped,
 *   synthesis aborted, on_flush) when its first sentence is ready to be
 *   queued, not before: the old caption goes on until the new one has
 *   something to say. A caption with nothing to say never interrupts.
 * - Repeats: a new caption whose text so far is a prefix of the last final
 *   caption spoken is held back (nothing queued, nothing interrupted) until
 *   it diverges — then it is spoken from its start — or is final: identical
 *   text (white space aside) is not spoken at all and does not interrupt; a
 *   shorter final text is spoken. So a scene described again word for word
 *   stays silent, at the cost of a caption that starts like the previous
 *   one being heard only from the update where it differs.
 * - Updates of a caption cut by say, stop or mute are ignored. After the
 *   final text of an id, the same text again is ignored; a different text
 *   with that id is taken as a new caption (ids restarting with a new
 *   pipeline) — a late partial of it is then held back by the repeat rule.
 * - While muted, captions are ignored and not remembered; muting also
 *   forgets the last caption (the first one after unmuting is spoken even
 *   if it is a repeat).
 * - A text that changes before the part already queued (not an append) is
 *   spoken again from its start. */
void vlm_speech_caption (VlmSpeech * s, uint64_t id, const char *text,
    bool final);

/* Speaks text now, interrupting (the "repeat last caption" control);
 * spoken even when identical to the last caption. The caption being
 * streamed is cut (its later updates are not spoken). Ignored while
 * muted. */
void vlm_speech_say (VlmSpeech * s, const char *text);

/* Stops speaking and drops what is queued; the caption being streamed is
 * cut (its later updates are not spoken). */
void vlm_speech_stop (VlmSpeech * s);

/* Words per minute (clamped), from the next sentence on; returns the rate
 * now in effect. */
int vlm_speech_set_rate (VlmSpeech * s, int rate);
int vlm_speech_get_rate (VlmSpeech * s);

/* Muted: stops speaking and ignores captions until unmuted. */
void vlm_speech_set_muted (VlmSpeech * s, bool muted);
bool vlm_speech_get_muted (VlmSpeech * s);

/* True while a sentence is queued or being synthesised (or an on_flush is
 * still to be called). */
bool vlm_speech_busy (VlmSpeech * s);

/* Added for tests and logs: the sentences vlm_speech_caption() would queue
 * for `text` taken alone (same normalisation and sentence ends; with final
 * false the unfinished rest is left out). Calls fn (may be NULL) for each,
 * in order, with a string valid during the call; returns how many. Needs
 * no VlmSpeech and no espeak-ng. */
size_t vlm_speech_split (const char *text, bool final,
    void (*fn) (const char *sentence, void *user_data), void *user_data);

#ifdef __cplusplus
}
#endif

#endif /* VLM_SPEECH_H */

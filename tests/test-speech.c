/* Unit tests of vlmspeech (app/vlmspeech.c): captions spoken sentence by
 * sentence with espeak-ng, for real (short sentences: the test also runs
 * under valgrind, where synthesis is ~30x slower and waits are longer).
 *
 * A recorder collects the PCM, the on_sentence and on_flush calls with
 * their times. Its "gate" makes on_audio block like a full playback queue,
 * which holds the speech thread in the middle of a sentence: interrupts are
 * then tested without races against a synthesis that is ~50x real time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#if defined(HAVE_VALGRIND_H) && HAVE_VALGRIND_H
#include <valgrind/valgrind.h>
#endif

#include "test-util.h"
#include "vlmspeech.h"

/* ------------------------------------------------------------------ */
/* Helpers                                                              */
/* ------------------------------------------------------------------ */

static int64_t
now_ns (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void
sleep_ms (int ms)
{
  struct timespec ts = { ms / 1000, (long) (ms % 1000) * 1000000 };
  nanosleep (&ts, NULL);
}

/* Slow-down of the machine the test runs on: 30 under valgrind. */
static int
slow_factor (void)
{
#ifdef RUNNING_ON_VALGRIND
  if (RUNNING_ON_VALGRIND)
    return 30;
#endif
  const char *e = getenv ("VLM_TEST_SLOW");
  if (e != NULL && atoi (e) > 1)
    return atoi (e);
  return 1;
}

/* ------------------------------------------------------------------ */
/* Recorder                                                             */
/* ------------------------------------------------------------------ */

#define MAX_SENTENCES 32

typedef struct
{
  pthread_mutex_t lock;
  pthread_cond_t cond;
  int16_t *pcm;
  size_t n_samples, cap;
  int sample_rate;
  int audio_calls;
  int64_t first_audio_ns;       /* 0: none yet */
  int flushes;
  size_t samples_at_flush;      /* n_samples at the last on_flush */
  int audio_calls_at_flush;     /* audio_calls at the last on_flush */
  int n_sentences;
  char *sentences[MAX_SENTENCES];
  int64_t sentence_ns[MAX_SENTENCES];
  bool gate_closed;             /* on_audio blocks while set */
  bool in_gate;                 /* on_audio is blocked now */
} Rec;

static void
rec_init (Rec * r)
{
  memset (r, 0, sizeof *r);
  pthread_mutex_init (&r->lock, NULL);
  pthread_cond_init (&r->cond, NULL);
}

/* Forgets what was recorded (the speech object must be idle). */
static void
rec_reset (Rec * r)
{
  pthread_mutex_lock (&r->lock);
  r->n_samples = 0;
  r->audio_calls = 0;
  r->first_audio_ns = 0;
  r->flushes = 0;
  r->samples_at_flush = 0;
  r->audio_calls_at_flush = 0;
  for (int i = 0; i < r->n_sentences; i++)
    free (r->sentences[i]);
  r->n_sentences = 0;
  pthread_mutex_unlock (&r->lock);
}

static void
rec_clear (Rec * r)
{
  rec_reset (r);
  free (r->pcm);
  pthread_cond_destroy (&r->cond);
  pthread_mutex_destroy (&r->lock);
}

static void
on_audio (const int16_t * pcm, size_t n, int rate, void *user_data)
{
  Rec *r = user_data;
  pthread_mutex_lock (&r->lock);
  while (r->gate_closed) {
    r->in_gate = true;
    pthread_cond_broadcast (&r->cond);
    pthread_cond_wait (&r->cond, &r->lock);
  }
  r->in_gate = false;
  if (r->n_samples + n > r->cap) {
    size_t cap = r->cap ? r->cap : 65536;
    while (cap < r->n_samples + n)
      cap *= 2;
    int16_t *p = realloc (r->pcm, cap * sizeof *p);
    assert_non_null (p);
    r->pcm = p;
    r->cap = cap;
  }
  memcpy (r->pcm + r->n_samples, pcm, n * sizeof *pcm);
  r->n_samples += n;
  r->sample_rate = rate;
  if (r->first_audio_ns == 0)
    r->first_audio_ns = now_ns ();
  r->audio_calls++;
  pthread_cond_broadcast (&r->cond);
  pthread_mutex_unlock (&r->lock);
}

static void
on_flush (void *user_data)
{
  Rec *r = user_data;
  pthread_mutex_lock (&r->lock);
  r->flushes++;
  r->samples_at_flush = r->n_samples;
  r->audio_calls_at_flush = r->audio_calls;
  pthread_cond_broadcast (&r->cond);
  pthread_mutex_unlock (&r->lock);
}

static void
on_sentence (const char *sentence, void *user_data)
{
  Rec *r = user_data;
  pthread_mutex_lock (&r->lock);
  if (r->n_sentences < MAX_SENTENCES) {
    r->sentences[r->n_sentences] = strdup (sentence);
    r->sentence_ns[r->n_sentences] = now_ns ();
    r->n_sentences++;
  }
  pthread_cond_broadcast (&r->cond);
  pthread_mutex_unlock (&r->lock);
}

static void
rec_set_gate (Rec * r, bool closed)
{
  pthread_mutex_lock (&r->lock);
  r->gate_closed = closed;
  pthread_cond_broadcast (&r->cond);
  pthread_mutex_unlock (&r->lock);
}

/* Waits until on_audio is blocked at the closed gate. */
static void
rec_wait_in_gate (Rec * r)
{
  int64_t deadline = now_ns () + (int64_t) 5000000000 * slow_factor ();
  pthread_mutex_lock (&r->lock);
  while (!r->in_gate) {
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    ts.tv_nsec += 10000000;
    if (ts.tv_nsec >= 1000000000) {
      ts.tv_sec++;
      ts.tv_nsec -= 1000000000;
    }
    pthread_cond_timedwait (&r->cond, &r->lock, &ts);
    if (now_ns () > deadline) {
      pthread_mutex_unlock (&r->lock);
      fail_msg ("no audio reached the gate");
    }
  }
  pthread_mutex_unlock (&r->lock);
}

/* Waits until audio has arrived; returns the time of its first sample. */
static int64_t
rec_wait_audio (Rec * r)
{
  int64_t deadline = now_ns () + (int64_t) 5000000000 * slow_factor ();
  for (;;) {
    pthread_mutex_lock (&r->lock);
    int64_t t = r->first_audio_ns;
    pthread_mutex_unlock (&r->lock);
    if (t != 0)
      return t;
    if (now_ns () > deadline)
      fail_msg ("no audio");
    sleep_ms (1);
  }
}

static VlmSpeech *
speech_new (Rec * r)
{
  VlmSpeechParams p = vlm_speech_params_default ();
  p.on_audio = on_audio;
  p.on_flush = on_flush;
  p.on_sentence = on_sentence;
  p.user_data = r;
  char *error = NULL;
  VlmSpeech *s = vlm_speech_new (p, &error);
  if (s == NULL)
    fail_msg ("vlm_speech_new: %s", error ? error : "(no message)");
  assert_null (error);
  return s;
}

/* Waits until nothing is queued or synthesised, then a little more (a
 * wrongly queued sentence would show by then). */
static void
wait_idle (VlmSpeech * s)
{
  int64_t deadline = now_ns () + (int64_t) 10000000000 * slow_factor ();
  while (vlm_speech_busy (s)) {
    if (now_ns () > deadline)
      fail_msg ("speech still busy");
    sleep_ms (2);
  }
  sleep_ms (20);
  assert_false (vlm_speech_busy (s));
}

static void
assert_sentences (Rec * r, const char *const *expected, int n)
{
  pthread_mutex_lock (&r->lock);
  int got = r->n_sentences;
  for (int i = 0; i < got; i++)
    print_message ("  sentence %d: \"%s\"\n", i, r->sentences[i]);
  pthread_mutex_unlock (&r->lock);
  assert_int_equal (got, n);
  for (int i = 0; i < n; i++)
    assert_string_equal (r->sentences[i], expected[i]);
}

static double
rms (const int16_t * pcm, size_t n)
{
  double sum = 0;
  for (size_t i = 0; i < n; i++)
    sum += (double) pcm[i] * pcm[i];
  return n ? sqrt (sum / (double) n) : 0;
}

/* ------------------------------------------------------------------ */
/* Construction                                                         */
/* ------------------------------------------------------------------ */

static void
test_params_default (void **state)
{
  (void) state;
  VlmSpeechParams p = vlm_speech_params_default ();
  assert_string_equal (p.voice, "en");
  assert_int_equal (p.rate, VLM_SPEECH_RATE_DEFAULT);
  assert_int_equal (p.volume, 100);
  assert_null (p.data_path);
  assert_null (p.on_audio);
  assert_null (p.on_flush);
  assert_null (p.on_sentence);
}

static void
test_new_needs_on_audio (void **state)
{
  (void) state;
  VlmSpeechParams p = vlm_speech_params_default ();
  char *error = NULL;
  assert_null (vlm_speech_new (p, &error));
  assert_non_null (error);
  assert_non_null (strstr (error, "on_audio"));
  free (error);
  /* error may be NULL */
  assert_null (vlm_speech_new (p, NULL));
}

static void
test_new_unknown_voice (void **state)
{
  (void) state;
  Rec r;
  rec_init (&r);
  VlmSpeechParams p = vlm_speech_params_default ();
  p.on_audio = on_audio;
  p.user_data = &r;
  p.voice = "xx-no-such-voice";
  char *error = NULL;
  assert_null (vlm_speech_new (p, &error));
  assert_non_null (error);
  assert_non_null (strstr (error, "xx-no-such-voice"));
  free (error);
  /* and a known voice still works after it */
  p.voice = "en";
  VlmSpeech *s = vlm_speech_new (p, &error);
  assert_non_null (s);
  vlm_speech_say (s, "Ok.");
  wait_idle (s);
  assert_true (r.n_samples > 0);
  vlm_speech_free (s);
  rec_clear (&r);
}

static void
test_new_bad_data_path (void **state)
{
  (void) state;
  Rec r;
  rec_init (&r);
  VlmSpeechParams p = vlm_speech_params_default ();
  p.on_audio = on_audio;
  p.user_data = &r;
  p.data_path = "/nonexistent/espeak-ng-data";
  char *error = NULL;
  assert_null (vlm_speech_new (p, &error));
  assert_non_null (error);
  assert_non_null (strstr (error, "/nonexistent/espeak-ng-data"));
  free (error);
  rec_clear (&r);
}

static void
test_free_null (void **state)
{
  (void) state;
  vlm_speech_free (NULL);
  assert_false (vlm_speech_busy (NULL));
}

/* ------------------------------------------------------------------ */
/* Audio                                                                */
/* ------------------------------------------------------------------ */

/* A caption comes out as audible speech of a plausible length. */
static void
test_audio_non_silent (void **state)
{
  (void) state;
  Rec r;
  rec_init (&r);
  VlmSpeech *s = speech_new (&r);
  vlm_speech_caption (s, 1, "The cat sleeps.", true);
  wait_idle (s);
  assert_true (r.sample_rate >= 8000 && r.sample_rate <= 48000);
  double seconds = (double) r.n_samples / r.sample_rate;
  double level = rms (r.pcm, r.n_samples);
  print_message ("  %zu samples at %d Hz: %.2f s, RMS %.0f\n", r.n_samples,
      r.sample_rate, seconds, level);
  /* 3 words at 175 words per minute: ~1 s, with a pause at the end */
  double nominal = 3 * 60.0 / VLM_SPEECH_RATE_DEFAULT;
  assert_true (seconds > 0.4 * nominal);
  assert_true (seconds < 2.5 * nominal + 0.5);
  assert_true (level > 300);
  vlm_speech_free (s);
  rec_clear (&r);
}

/* The first sentence of a streaming caption is spoken before the caption
 * is final; the sentences come in order. */
static void
test_streaming_first_sentence_early (void **state)
{
  (void) state;
  Rec r;
  rec_init (&r);
  VlmSpeech *s = speech_new (&r);
  int64_t t_partial = now_ns ();
  vlm_speech_caption (s, 7, "The door is open. A pers", false);
  int64_t t_audio = rec_wait_audio (&r);
  int64_t t_final = now_ns ();
  vlm_speech_caption (s, 7,
      "The door is open. A person is standing next to it.", true);
  wait_idle (s);
  size_t lead = 0;
  while (lead < r.n_samples && abs (r.pcm[lead]) < 300)
    lead++;
  print_message ("  first audio %.2f ms after the partial caption; the "
      "voice starts %.0f ms into it\n", (double) (t_audio - t_partial) / 1e6,
      1000.0 * (double) lead / r.sample_rate);
  assert_true (t_audio < t_final);
  assert_true (r.sentence_ns[0] < t_final);
  static const char *const expected[] = {
    "The door is open.", "A person is standing next to it."
  };
  assert_sentences (&r, expected, 2);
  assert_int_equal (r.flushes, 0);
  vlm_speech_free (s);
  rec_clear (&r);
}

/* Integration of the splitter: "3.5" stays in its sentence. */
static void
test_caption_sentences_in_order (void **state)
{
  (void) state;
  Rec r;
  rec_init (&r);
  VlmSpeech *s = speech_new (&r);
  vlm_speech_caption (s, 1, "It is 3.5 metres away.", false);
  vlm_speech_caption (s, 1, "It is 3.5 metres away. Turn", false);
  vlm_speech_caption (s, 1, "It is 3.5 metres away. Turn left.", true);
  wait_idle (s);
  static const char *const expected[] = {
    "It is 3.5 metres away.", "Turn left."
  };
  assert_sentences (&r, expected, 2);
  vlm_speech_free (s);
  rec_clear (&r);
}

/* A caption repeated word for word (new id) is not spoken again, neither
 * its partial sentences nor its final text, and does not interrupt. */
static void
test_repeat_not_spoken (void **state)
{
  (void) state;
  Rec r;
  rec_init (&r);
  VlmSpeech *s = speech_new (&r);
  vlm_speech_caption (s, 1, "A cat sits. It sleeps.", true);
  wait_idle (s);
  assert_int_equal (r.n_sentences, 2);
  rec_reset (&r);
  vlm_speech_caption (s, 2, "A cat", false);
  vlm_speech_caption (s, 2, "A cat sits. It", false);
  vlm_speech_caption (s, 2, "A cat sits.  It sleeps.", false);
  vlm_speech_caption (s, 2, "A cat sits. It sleeps.", true);
  wait_idle (s);
  assert_int_equal (r.n_sentences, 0);
  assert_int_equal (r.n_samples, 0);
  assert_int_equal (r.flushes, 0);
  vlm_speech_free (s);
  rec_clear (&r);
}

/* A new caption that starts like the last one is held back, then spoken
 * from its start once it differs. */
static void
test_repeat_prefix_then_diverges (void **state)
{
  (void) state;
  Rec r;
  rec_init (&r);
  VlmSpeech *s = speech_new (&r);
  vlm_speech_caption (s, 1, "A cat. A dog.", true);
  wait_idle (s);
  rec_reset (&r);
  vlm_speech_caption (s, 2, "A cat. A", false);
  wait_idle (s);
  assert_int_equal (r.n_sentences, 0);
  vlm_speech_caption (s, 2, "A cat. A bird", false);
  vlm_speech_caption (s, 2, "A cat. A bird.", true);
  wait_idle (s);
  static const char *const expected[] = { "A cat.", "A bird." };
  assert_sentences (&r, expected, 2);
  vlm_speech_free (s);
  rec_clear (&r);
}

/* A final caption shorter than the last one (its prefix) is spoken. */
static void
test_shorter_final_spoken (void **state)
{
  (void) state;
  Rec r;
  rec_init (&r);
  VlmSpeech *s = speech_new (&r);
  vlm_speech_caption (s, 1, "A cat. A dog.", true);
  wait_idle (s);
  rec_reset (&r);
  vlm_speech_caption (s, 2, "A cat.", false);
  wait_idle (s);
  assert_int_equal (r.n_sentences, 0);
  vlm_speech_caption (s, 2, "A cat.", true);
  wait_idle (s);
  static const char *const expected[] = { "A cat." };
  assert_sentences (&r, expected, 1);
  vlm_speech_free (s);
  rec_clear (&r);
}

/* After the final text of an id: the same text again (a duplicate
 * delivery) and a late partial are silent; a different final text with the
 * same id (ids restarting) is spoken. */
static void
test_same_id_after_final (void **state)
{
  (void) state;
  Rec r;
  rec_init (&r);
  VlmSpeech *s = speech_new (&r);
  vlm_speech_caption (s, 5, "A cat.", true);
  wait_idle (s);
  assert_int_equal (r.n_sentences, 1);
  rec_reset (&r);
  vlm_speech_caption (s, 5, "A cat.", true);
  vlm_speech_caption (s, 5, "A ca", false);
  wait_idle (s);
  assert_int_equal (r.n_sentences, 0);
  assert_int_equal (r.flushes, 0);
  vlm_speech_caption (s, 5, "A dog.", true);
  wait_idle (s);
  static const char *const expected[] = { "A dog." };
  assert_sentences (&r, expected, 1);
  vlm_speech_free (s);
  rec_clear (&r);
}

/* A new caption interrupts the one being spoken: on_flush, the rest of the
 * old queue dropped, and the caller does not wait for the synthesis. */
static void
test_new_caption_interrupts (void **state)
{
  (void) state;
  Rec r;
  rec_init (&r);
  VlmSpeech *s = speech_new (&r);
  rec_set_gate (&r, true);
  vlm_speech_caption (s, 1, "One. Two. Three.", true);
  rec_wait_in_gate (&r);        /* speaking "One." */
  assert_true (vlm_speech_busy (s));
  int64_t t0 = now_ns ();
  vlm_speech_caption (s, 2, "Red.", true);
  int64_t call_ns = now_ns () - t0;
  rec_set_gate (&r, false);
  wait_idle (s);
  assert_true (call_ns < 100000000 * (int64_t) slow_factor ());
  static const char *const expected[] = { "One.", "Red." };
  assert_sentences (&r, expected, 2);
  assert_int_equal (r.flushes, 1);
  /* "One." was cut: the chunk held at the gate was its last */
  assert_int_equal (r.audio_calls_at_flush, 1);
  /* after the flush: the audio of "Red." */
  assert_true (r.n_samples > r.samples_at_flush);
  vlm_speech_free (s);
  rec_clear (&r);
}

/* busy while a sentence is being synthesised, not after. */
static void
test_busy (void **state)
{
  (void) state;
  Rec r;
  rec_init (&r);
  VlmSpeech *s = speech_new (&r);
  assert_false (vlm_speech_busy (s));
  rec_set_gate (&r, true);
  vlm_speech_caption (s, 1, "Busy.", true);
  assert_true (vlm_speech_busy (s));    /* queued or in the gate */
  rec_wait_in_gate (&r);
  assert_true (vlm_speech_busy (s));
  rec_set_gate (&r, false);
  wait_idle (s);
  assert_false (vlm_speech_busy (s));
  vlm_speech_free (s);
  rec_clear (&r);
}

/* ------------------------------------------------------------------ */
/* Rate                                                                 */
/* ------------------------------------------------------------------ */

static size_t
samples_of (VlmSpeech * s, Rec * r, const char *text)
{
  rec_reset (r);
  vlm_speech_say (s, text);
  wait_idle (s);
  return r->n_samples;
}

/* A faster rate makes shorter audio of the same sentence. */
static void
test_rate_faster_is_shorter (void **state)
{
  (void) state;
  Rec r;
  rec_init (&r);
  VlmSpeech *s = speech_new (&r);
  assert_int_equal (vlm_speech_set_rate (s, 100), 100);
  size_t slow = samples_of (s, &r, "The door is open.");
  assert_int_equal (vlm_speech_set_rate (s, 400), 400);
  size_t fast = samples_of (s, &r, "The door is open.");
  print_message ("  100 wpm: %zu samples, 400 wpm: %zu samples\n", slow, fast);
  assert_true (fast > 0);
  assert_true (fast < slow * 6 / 10);
  vlm_speech_free (s);
  rec_clear (&r);
}

static void
test_rate_clamped (void **state)
{
  (void) state;
  Rec r;
  rec_init (&r);
  VlmSpeechParams p = vlm_speech_params_default ();
  p.on_audio = on_audio;
  p.user_data = &r;
  p.rate = 5;
  VlmSpeech *s = vlm_speech_new (p, NULL);
  assert_non_null (s);
  assert_int_equal (vlm_speech_get_rate (s), VLM_SPEECH_RATE_MIN);
  assert_int_equal (vlm_speech_set_rate (s, 1000), VLM_SPEECH_RATE_MAX);
  assert_int_equal (vlm_speech_get_rate (s), VLM_SPEECH_RATE_MAX);
  assert_int_equal (vlm_speech_set_rate (s, -3), VLM_SPEECH_RATE_MIN);
  assert_int_equal (vlm_speech_set_rate (s, 200), 200);
  assert_int_equal (vlm_speech_get_rate (s), 200);
  vlm_speech_free (s);
  rec_clear (&r);
}

/* ------------------------------------------------------------------ */
/* Mute, stop, say                                                      */
/* ------------------------------------------------------------------ */

/* Mute stops the sentence being spoken and ignores captions (and say)
 * until unmuted. */
static void
test_mute (void **state)
{
  (void) state;
  Rec r;
  rec_init (&r);
  VlmSpeech *s = speech_new (&r);
  assert_false (vlm_speech_get_muted (s));
  rec_set_gate (&r, true);
  vlm_speech_caption (s, 1, "One. Two.", true);
  rec_wait_in_gate (&r);
  vlm_speech_set_muted (s, true);
  assert_true (vlm_speech_get_muted (s));
  rec_set_gate (&r, false);
  wait_idle (s);
  static const char *const one[] = { "One." };
  assert_sentences (&r, one, 1);
  assert_int_equal (r.flushes, 1);
  rec_reset (&r);
  vlm_speech_caption (s, 2, "Red.", true);
  vlm_speech_say (s, "Blue.");
  wait_idle (s);
  assert_int_equal (r.n_sentences, 0);
  assert_int_equal (r.n_samples, 0);
  vlm_speech_set_muted (s, false);
  assert_false (vlm_speech_get_muted (s));
  vlm_speech_caption (s, 3, "Green.", true);
  wait_idle (s);
  static const char *const green[] = { "Green." };
  assert_sentences (&r, green, 1);
  vlm_speech_free (s);
  rec_clear (&r);
}

/* stop drops the queue and flushes; later updates of that caption are
 * ignored. */
static void
test_stop (void **state)
{
  (void) state;
  Rec r;
  rec_init (&r);
  VlmSpeech *s = speech_new (&r);
  rec_set_gate (&r, true);
  vlm_speech_caption (s, 1, "One. Two.", false);
  rec_wait_in_gate (&r);
  vlm_speech_stop (s);
  rec_set_gate (&r, false);
  wait_idle (s);
  vlm_speech_caption (s, 1, "One. Two. Three.", true);
  wait_idle (s);
  static const char *const one[] = { "One." };
  assert_sentences (&r, one, 1);
  assert_int_equal (r.flushes, 1);
  vlm_speech_free (s);
  rec_clear (&r);
}

/* say speaks a text even when it repeats the last caption. */
static void
test_say_speaks_repeat (void **state)
{
  (void) state;
  Rec r;
  rec_init (&r);
  VlmSpeech *s = speech_new (&r);
  vlm_speech_caption (s, 1, "A cat.", true);
  wait_idle (s);
  vlm_speech_caption (s, 2, "A cat.", true);
  wait_idle (s);
  assert_int_equal (r.n_sentences, 1);
  rec_reset (&r);
  vlm_speech_say (s, "A cat.");
  wait_idle (s);
  static const char *const expected[] = { "A cat." };
  assert_sentences (&r, expected, 1);
  assert_true (r.n_samples > 0);
  vlm_speech_free (s);
  rec_clear (&r);
}

/* free while a sentence is being spoken: the rest is dropped, it returns. */
static void *
open_gate_later (void *data)
{
  sleep_ms (30);
  rec_set_gate (data, false);
  return NULL;
}

static void
test_free_while_speaking (void **state)
{
  (void) state;
  Rec r;
  rec_init (&r);
  VlmSpeech *s = speech_new (&r);
  rec_set_gate (&r, true);
  vlm_speech_caption (s, 1, "One. Two. Three.", true);
  rec_wait_in_gate (&r);
  pthread_t t;
  assert_int_equal (pthread_create (&t, NULL, open_gate_later, &r), 0);
  vlm_speech_free (s);
  pthread_join (t, NULL);
  assert_int_equal (r.n_sentences, 1);
  assert_int_equal (r.audio_calls, 1);  /* "One." cut after its first chunk */
  rec_clear (&r);
}

/* Two objects in one process (espeak-ng is process-global) both speak. */
static void
test_two_objects (void **state)
{
  (void) state;
  Rec a, b;
  rec_init (&a);
  rec_init (&b);
  VlmSpeech *sa = speech_new (&a);
  VlmSpeech *sb = speech_new (&b);
  vlm_speech_caption (sa, 1, "Left. Door.", true);
  vlm_speech_caption (sb, 1, "Right. Wall.", true);
  wait_idle (sa);
  wait_idle (sb);
  static const char *const ea[] = { "Left.", "Door." };
  static const char *const eb[] = { "Right.", "Wall." };
  assert_sentences (&a, ea, 2);
  assert_sentences (&b, eb, 2);
  assert_true (a.n_samples > 0 && b.n_samples > 0);
  vlm_speech_free (sa);
  vlm_speech_free (sb);
  rec_clear (&a);
  rec_clear (&b);
}

/* ------------------------------------------------------------------ */
/* Bad text                                                             */
/* ------------------------------------------------------------------ */

/* Empty, blank, punctuation-only and invalid UTF-8 captions do not crash
 * and say nothing; invalid bytes inside text are dropped. */
static void
test_invalid_and_empty (void **state)
{
  (void) state;
  Rec r;
  rec_init (&r);
  VlmSpeech *s = speech_new (&r);
  vlm_speech_caption (s, 1, "", false);
  vlm_speech_caption (s, 1, "", true);
  vlm_speech_caption (s, 2, "   \n\t  ", true);
  vlm_speech_caption (s, 3, "\xff\xfe\xc3", true);
  vlm_speech_caption (s, 4, "... !", true);
  vlm_speech_caption (s, 5, NULL, true);        /* read as "" */
  vlm_speech_say (s, "");
  wait_idle (s);
  assert_int_equal (r.n_sentences, 0);
  /* a sequence cut at the end of a partial, completed by the final */
  vlm_speech_caption (s, 6, "A \xc3( cat\xed\xa0\x80. A dog\xe2\x80", false);
  vlm_speech_caption (s, 6, "A \xc3( cat\xed\xa0\x80. A dog\xe2\x80\xa6",
      true);
  wait_idle (s);
  assert_int_equal (r.n_sentences, 2);
  for (int i = 0; i < r.n_sentences; i++)
    assert_true (tu_utf8_valid ((const unsigned char *) r.sentences[i],
            strlen (r.sentences[i])));
  assert_string_equal (r.sentences[0], "A ( cat .");
  assert_string_equal (r.sentences[1], "A dog\xe2\x80\xa6");
  vlm_speech_free (s);
  rec_clear (&r);
}

/* ------------------------------------------------------------------ */
/* Sentence splitting (no synthesis)                                    */
/* ------------------------------------------------------------------ */

typedef struct
{
  int n;
  char *s[16];
} Split;

static void
split_cb (const char *sentence, void *user_data)
{
  Split *sp = user_data;
  assert_true (sp->n < 16);
  sp->s[sp->n++] = strdup (sentence);
}

/* expected: NULL-terminated */
static void
check_split (const char *text, bool final, const char *const *expected)
{
  Split sp = { 0 };
  size_t n = vlm_speech_split (text, final, split_cb, &sp);
  int want = 0;
  while (expected[want] != NULL)
    want++;
  if ((int) n != want || sp.n != want) {
    for (int i = 0; i < sp.n; i++)
      print_message ("  got \"%s\"\n", sp.s[i]);
    fail_msg ("\"%s\" (final %d): %zu sentences, want %d", text, final, n,
        want);
  }
  for (int i = 0; i < want; i++) {
    assert_string_equal (sp.s[i], expected[i]);
    free (sp.s[i]);
  }
}

#define SPLIT(text, final, ...) \
  do { \
    static const char *const e_[] = { __VA_ARGS__, NULL }; \
    check_split (text, final, e_); \
  } while (0)
#define SPLIT_NONE(text, final) \
  do { \
    static const char *const e_[] = { NULL }; \
    check_split (text, final, e_); \
  } while (0)

static void
test_split_numbers (void **state)
{
  (void) state;
  SPLIT ("It is 3.5 metres away.", true, "It is 3.5 metres away.");
  SPLIT ("Version 2.0.1 is out. Yes.", true, "Version 2.0.1 is out.", "Yes.");
  SPLIT ("Open!Now", true, "Open!Now");
  SPLIT ("See example.com now.", true, "See example.com now.");
}

static void
test_split_abbreviations (void **state)
{
  (void) state;
  /* one-letter abbreviations between periods and a lower-case next word
   * keep the sentence; there is no abbreviation list ("Dr." splits) */
  SPLIT ("Use tools, e.g. a brush. Then stop.", true,
      "Use tools, e.g. a brush.", "Then stop.");
  SPLIT ("It opens at 5 p.m. Today.", true, "It opens at 5 p.m. Today.");
  SPLIT ("Cups, plates, etc. and a jug.", true,
      "Cups, plates, etc. and a jug.");
  SPLIT ("Dr. Smith is here.", true, "Dr.", "Smith is here.");
}

static void
test_split_ellipsis_and_marks (void **state)
{
  (void) state;
  SPLIT ("Wait\xe2\x80\xa6 The door opens.", true, "Wait\xe2\x80\xa6",
      "The door opens.");
  SPLIT ("Hmm... The door.", true, "Hmm...", "The door.");
  SPLIT ("Is it open? Yes! Go.", true, "Is it open?", "Yes!", "Go.");
  SPLIT ("He said \"stop.\" Then left.", true, "He said \"stop.\"",
      "Then left.");
}

static void
test_split_newlines_and_space (void **state)
{
  (void) state;
  SPLIT ("Line one\nLine two", true, "Line one", "Line two");
  SPLIT ("A cat.  \r\n\n  A dog.", true, "A cat.", "A dog.");
  SPLIT ("  lots   of\t\tspace  ", true, "lots of space");
  SPLIT_NONE ("", true);
  SPLIT_NONE ("  ... . !  ", true);
}

static void
test_split_partial (void **state)
{
  (void) state;
  SPLIT ("The door is open. A pers", false, "The door is open.");
  SPLIT ("Is it open? ", false, "Is it open?");
  SPLIT ("First line\nSecond", false, "First line");
  /* ". " at the end: the next word decides */
  SPLIT_NONE ("The door is open. ", false);
  SPLIT_NONE ("The door is open.", false);
  SPLIT_NONE ("It is 3.", false);
  SPLIT ("The door is open.", true, "The door is open.");
}

/* Property: the sentences split from any prefix of a text (a partial
 * caption) are the first sentences of the whole text (its final caption),
 * and all are valid UTF-8; pseudo-random texts with abbreviations, numbers,
 * line breaks and invalid bytes. */
static void
free_split (Split * sp)
{
  for (int i = 0; i < sp->n; i++)
    free (sp->s[i]);
  sp->n = 0;
}

static void
test_split_streaming_consistent (void **state)
{
  (void) state;
  static const char *const pieces[] = {
    "A", "cat", "e.g.", "3.5", " ", " ", "\n", ". ", "! ", "? ", ".",
    "\xe2\x80\xa6 ", "\"", "Dr. ", "etc. and ", "\xff", "\xc3\xa9",
    "\xe2\x80", "\t\r\n", "it", "U.S. ", "x", "...", "\xf0\x9f\x98\x80",
    "!", "?", "\xe2\x80\xa6", ")", "\xe2\x80\x9d",
  };
  const size_t n_pieces = sizeof pieces / sizeof pieces[0];
  uint32_t seed = 7;
  for (int round = 0; round < 300; round++) {
    char text[256];
    size_t len = tu_random_text (text, sizeof text, pieces, n_pieces, 20,
        &seed);
    Split whole = { 0 };
    vlm_speech_split (text, true, split_cb, &whole);
    for (int i = 0; i < whole.n; i++)
      assert_true (tu_utf8_valid ((const unsigned char *) whole.s[i],
              strlen (whole.s[i])));
    for (size_t cut = 0; cut <= len; cut++) {
      char prefix[256];
      memcpy (prefix, text, cut);
      prefix[cut] = '\0';
      Split part = { 0 };
      vlm_speech_split (prefix, false, split_cb, &part);
      if (part.n > whole.n)
        fail_msg ("prefix %zu of \"%s\": more sentences than the whole",
            cut, text);
      for (int i = 0; i < part.n; i++) {
        if (strcmp (part.s[i], whole.s[i]) != 0)
          fail_msg ("prefix %zu of \"%s\": \"%s\" but \"%s\" at the end",
              cut, text, part.s[i], whole.s[i]);
      }
      free_split (&part);
    }
    free_split (&whole);
  }
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_params_default),
    cmocka_unit_test (test_new_needs_on_audio),
    cmocka_unit_test (test_new_unknown_voice),
    cmocka_unit_test (test_new_bad_data_path),
    cmocka_unit_test (test_free_null),
    cmocka_unit_test (test_audio_non_silent),
    cmocka_unit_test (test_streaming_first_sentence_early),
    cmocka_unit_test (test_caption_sentences_in_order),
    cmocka_unit_test (test_repeat_not_spoken),
    cmocka_unit_test (test_repeat_prefix_then_diverges),
    cmocka_unit_test (test_shorter_final_spoken),
    cmocka_unit_test (test_same_id_after_final),
    cmocka_unit_test (test_new_caption_interrupts),
    cmocka_unit_test (test_busy),
    cmocka_unit_test (test_rate_faster_is_shorter),
    cmocka_unit_test (test_rate_clamped),
    cmocka_unit_test (test_mute),
    cmocka_unit_test (test_stop),
    cmocka_unit_test (test_say_speaks_repeat),
    cmocka_unit_test (test_free_while_speaking),
    cmocka_unit_test (test_two_objects),
    cmocka_unit_test (test_invalid_and_empty),
    cmocka_unit_test (test_split_numbers),
    cmocka_unit_test (test_split_abbreviations),
    cmocka_unit_test (test_split_ellipsis_and_marks),
    cmocka_unit_test (test_split_newlines_and_space),
    cmocka_unit_test (test_split_partial),
    cmocka_unit_test (test_split_streaming_consistent),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}

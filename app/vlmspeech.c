/* gst-vlm — speaks captions with espeak-ng, sentence by sentence.
 *
 * Structure:
 *   - text: UTF-8 clean-up and whitespace normalisation (normalize ()),
 *     sentence ends (sentence_end ()), the repeat policy (caption state in
 *     VlmSpeech, see vlm_speech_caption () in the header);
 *   - one speech thread per VlmSpeech with a queue of sentences;
 *   - espeak-ng, a process-global library: started once per process and
 *     used by one synthesis at a time (g_espeak_lock).
 *
 * Interruption: every interrupt (new caption, say, stop, mute, free) bumps
 * s->generation under s->lock and empties the queue. The speech thread
 * notes the generation of the sentence it pops; the synth callback, run
 * inside espeak_ng_Synthesize () every ~20 ms of audio, compares it with
 * the current one and returns 1 (abort) when it is stale. The speech
 * thread then calls on_flush before it pops the next sentence, so on_flush
 * always comes after the last on_audio of the interrupted speech and before
 * the first of the new one.
 *
 * espeak-ng 1.51 (Debian 12) cannot be terminated twice in a process:
 * espeak_ng_Terminate () after a second espeak_ng_Initialize () deadlocks
 * in its fifo thread. So espeak-ng is initialised on the first
 * vlm_speech_new () and left running until the process exits (its tables
 * stay "still reachable" for valgrind).
 */
#include "vlmspeech.h"
#include "vlmtext.h"

#include <errno.h>
#include <espeak-ng/espeak_ng.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Milliseconds of audio per synth callback: the granularity of on_audio
 * and of an interrupt. */
#define SYNTH_BUFFER_MS 20

/* ------------------------------------------------------------------ */
/* Small helpers                                                        */
/* ------------------------------------------------------------------ */

static void
set_error (char **error, char *msg)
{
  if (error != NULL)
    *error = msg;
  else
    free (msg);
}

static char *
str_dup_or_null (const char *s)
{
  return s != NULL ? strdup (s) : NULL;
}

static int
clamp_int (int v, int lo, int hi)
{
  return v < lo ? lo : v > hi ? hi : v;
}

/* ------------------------------------------------------------------ */
/* Normalisation and sentence splitting                                 */
/* ------------------------------------------------------------------ */

enum { WS_NONE, WS_SPACE, WS_NEWLINE };

/* 0: not white space; WS_SPACE; WS_NEWLINE. Controls count as spaces. */
static int
ws_class (uint32_t cp)
{
  switch (cp) {
    case '\n':
    case '\r':
    case '\v':
    case '\f':
    case 0x85:                 /* NEL */
    case 0x2028:               /* line separator */
    case 0x2029:               /* paragraph separator */
      return WS_NEWLINE;
    default:
      break;
  }
  if (cp <= 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F) || cp == 0xA0
      || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x202F
      || cp == 0x205F || cp == 0x3000 || cp == 0xFEFF)
    return WS_SPACE;
  return WS_NONE;
}

/* The text as spoken: invalid UTF-8 and control characters read as white
 * space, each run of white space one ' ' (or '\n' when it holds a line
 * break), none at the start. The end keeps one white-space character when
 * !final (it tells that the last word is complete) and none when final; a
 * sequence cut by the end of a partial text is left out (the next update
 * completes it). Returns a malloc'd string (NULL on OOM), *len its length. */
static char *
normalize (const char *text, bool final, size_t *len)
{
  const unsigned char *p = (const unsigned char *) (text ? text : "");
  size_t n = strlen ((const char *) p);
  char *out = malloc (n + 2);
  if (out == NULL)
    return NULL;
  size_t o = 0;
  int pending = WS_NONE;
  size_t i = 0;
  while (i < n) {
    uint32_t cp = 0;
    size_t l = 1;
    VlmUtf8 r = vlm_text_utf8_next (p + i, n - i, &cp, &l);
    if (r == VLM_UTF8_TRUNC && !final)
      break;
    int ws = r == VLM_UTF8_OK ? ws_class (cp) : WS_SPACE;
    if (ws != WS_NONE) {
      if (ws > pending)
        pending = ws;
    } else {
      if (pending != WS_NONE && o > 0)
        out[o++] = pending == WS_NEWLINE ? '\n' : ' ';
      pending = WS_NONE;
      memcpy (out + o, p + i, l);
      o += l;
    }
    i += l;
  }
  if (!final && pending != WS_NONE && o > 0)
    out[o++] = pending == WS_NEWLINE ? '\n' : ' ';
  out[o] = '\0';
  *len = o;
  return out;
}

static bool
is_ws (char c)
{
  return c == ' ' || c == '\n';
}

/* The UTF-8 character at t[pos] when it may close a sentence after its
 * terminator (quotes, brackets): its length; else 0. */
static size_t
closer_len (const char *t, size_t len, size_t pos)
{
  if (pos >= len)
    return 0;
  char c = t[pos];
  if (c == '"' || c == '\'' || c == ')' || c == ']' || c == '}')
    return 1;
  if (len - pos >= 3 && memcmp (t + pos, "\xE2\x80\x9D", 3) == 0)      /* ” */
    return 3;
  if (len - pos >= 3 && memcmp (t + pos, "\xE2\x80\x99", 3) == 0)      /* ’ */
    return 3;
  if (len - pos >= 2 && memcmp (t + pos, "\xC2\xBB", 2) == 0)  /* » */
    return 2;
  return 0;
}

static bool
is_ascii_letter (char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Finds the first sentence end in normalised text t[pos..len). A sentence
 * ends at a line break, or at . ! ? or … (with closing quotes or brackets
 * after it) followed by white space. A period does not end it when
 *   - the next character is not white space ("3.5", "example.com");
 *   - it closes a one-letter abbreviation that follows another period
 *     ("e.g.", "i.e.", "U.S.", "p.m.");
 *   - the next word starts with a lower-case ASCII letter ("etc. and").
 * For a partial text, a period followed by white space at the very end is
 * undecided (the next word tells). "Dr. Smith" does split: there is no
 * abbreviation list.
 * Returns true with *end (exclusive) and *next (the start of the next
 * sentence). */
static bool
sentence_end (const char *t, size_t len, size_t pos, bool final,
    size_t *end, size_t *next)
{
  for (size_t i = pos; i < len; i++) {
    char c = t[i];
    if (c == '\n') {
      *end = i;
      *next = i + 1;
      return true;
    }
    bool period;
    size_t tl;
    if (c == '!' || c == '?') {
      period = false;
      tl = 1;
    } else if (c == '.') {
      period = true;
      tl = 1;
    } else if (len - i >= 3 && memcmp (t + i, "\xE2\x80\xA6", 3) == 0) {
      period = true;            /* … */
      tl = 3;
    } else {
      continue;
    }
    size_t j = i + tl;
    size_t cl;
    while ((cl = closer_len (t, len, j)) > 0)
      j += cl;
    if (j >= len || !is_ws (t[j]))
      continue;                 /* "3.5", or the end of the text */
    if (period && c == '.') {
      /* "e.g." : a letter between two periods */
      if (i >= 2 && is_ascii_letter (t[i - 1]) && t[i - 2] == '.')
        continue;
    }
    if (period && t[j] == ' ') {
      if (j + 1 >= len) {
        if (!final)
          return false;         /* undecided until the next word */
      } else if (t[j + 1] >= 'a' && t[j + 1] <= 'z') {
        continue;               /* "etc. and" */
      }
    }
    *end = j;
    *next = j + 1;
    return true;
  }
  return false;
}

/* Something espeak-ng would say: a letter, digit or non-ASCII character
 * other than punctuation we know of. */
static bool
speakable (const char *t, size_t len)
{
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char) t[i];
    if ((c >= '0' && c <= '9') || is_ascii_letter ((char) c))
      return true;
    if (c >= 0x80) {
      uint32_t cp = 0;
      size_t l = 1;
      if (vlm_text_utf8_next ((const unsigned char *) t + i, len - i, &cp, &l) == VLM_UTF8_OK
          && !(cp >= 0x2000 && cp <= 0x206F) && cp != 0xA0 && cp != 0xAB
          && cp != 0xBB && cp != 0xBF && cp != 0xA1 && cp != 0xFFFD)
        return true;
      i += l - 1;
    }
  }
  return false;
}

/* A malloc'd copy of t[a..b) for speaking: line breaks as spaces, trimmed.
 * NULL when there is nothing to say (or on OOM). */
static char *
sentence_copy (const char *t, size_t a, size_t b)
{
  while (a < b && is_ws (t[a]))
    a++;
  while (b > a && is_ws (t[b - 1]))
    b--;
  if (!speakable (t + a, b - a))
    return NULL;
  char *s = malloc (b - a + 1);
  if (s == NULL)
    return NULL;
  for (size_t i = a; i < b; i++)
    s[i - a] = t[i] == '\n' ? ' ' : t[i];
  s[b - a] = '\0';
  return s;
}

/* a (alen bytes) is a prefix of b, a line break matching a space. */
static bool
text_is_prefix (const char *a, size_t alen, const char *b, size_t blen)
{
  if (alen > blen)
    return false;
  for (size_t i = 0; i < alen; i++)
    if (a[i] != b[i] && !(is_ws (a[i]) && is_ws (b[i])))
      return false;
  return true;
}

static size_t
trim_end_len (const char *t, size_t len)
{
  while (len > 0 && is_ws (t[len - 1]))
    len--;
  return len;
}

/* ------------------------------------------------------------------ */
/* espeak-ng, process-wide                                              */
/* ------------------------------------------------------------------ */

typedef struct
{
  VlmSpeech *s;
  uint64_t generation;          /* of the sentence being synthesised */
} SynthJob;

/* Lock order: g_espeak_lock, then a VlmSpeech's lock (the speech thread
 * takes g_espeak_lock for a synthesis and may take nothing else inside;
 * callers of the API take only s->lock; vlm_speech_new takes
 * g_espeak_lock alone). Guards all the g_ variables and every espeak-ng
 * call: one synthesis at a time in the process. */
static pthread_mutex_t g_espeak_lock = PTHREAD_MUTEX_INITIALIZER;
static bool g_started;          /* espeak-ng initialised (for good) */
static char *g_data_path;       /* what it was initialised with; NULL: system */
static int g_sample_rate;
static char *g_voice;           /* the voice espeak-ng has now; NULL: unknown */
static SynthJob *g_job;         /* the synthesis in progress */

/* ------------------------------------------------------------------ */
/* The object                                                           */
/* ------------------------------------------------------------------ */

typedef struct Sentence
{
  struct Sentence *next;
  char text[];
} Sentence;

struct VlmSpeech
{
  VlmSpeechParams params;       /* voice and data_path point to copies */
  char *voice;
  char *data_path;
  pthread_t thread;
  bool thread_started;

  /* Lock order: g_espeak_lock before lock (see there). Guards everything
   * below it but `generation` (atomic) and `dirty` (speech thread only).
   * Never held while calling out (espeak-ng or a callback). */
  pthread_mutex_t lock;
  pthread_cond_t cond;          /* the speech thread waits on it for work */
  Sentence *head, *tail;        /* the queue */
  bool synthesising;            /* a popped sentence is being spoken */
  bool flush_pending;           /* an interrupt: on_flush before the next */
  bool quit;
  bool muted;
  int rate;
  int volume;

  /* The caption being followed (see vlm_speech_caption in the header). */
  bool cur_valid;
  uint64_t cur_id;
  bool cur_started;             /* first sentence queued: it interrupted */
  bool cur_done;                /* final seen, or cut by say/stop/mute */
  bool cur_final;               /* final seen */
  char *cur_text;               /* normalised text of the last update
                                 * started or final (NULL: none) */
  size_t cur_pos;               /* bytes of cur_text already queued */
  char *last_final;             /* normalised text of the last final caption
                                 * spoken (NULL: none) */
  size_t last_final_len;

  _Atomic uint64_t generation;  /* bumped (under lock) by every interrupt */
  bool dirty;                   /* speech thread: on_audio since on_flush */
};

/* The synth callback: runs inside espeak_ng_Synthesize () on the speech
 * thread of g_job->s, with g_espeak_lock held. */
static int
synth_callback (short *wav, int n_samples, espeak_EVENT * events)
{
  (void) events;
  SynthJob *job = g_job;
  if (job == NULL)
    return 1;
  VlmSpeech *s = job->s;
  if (atomic_load (&s->generation) != job->generation)
    return 1;                   /* interrupted: abort this synthesis */
  if (wav != NULL && n_samples > 0) {
    s->dirty = true;
    s->params.on_audio ((const int16_t *) wav, (size_t) n_samples,
        g_sample_rate, s->params.user_data);
  }
  return 0;
}

/* A data directory espeak-ng can use: it holds phontab, or an
 * espeak-ng-data directory that does. */
static bool
data_path_ok (const char *path)
{
  char *a = vlm_text_printf ("%s/phontab", path);
  char *b = vlm_text_printf ("%s/espeak-ng-data/phontab", path);
  bool ok = (a != NULL && access (a, R_OK) == 0)
      || (b != NULL && access (b, R_OK) == 0);
  free (a);
  free (b);
  return ok;
}

static bool
same_path (const char *a, const char *b)
{
  if (a == NULL || b == NULL)
    return a == b;
  return strcmp (a, b) == 0;
}

/* Starts espeak-ng if needed and checks the voice. With g_espeak_lock. */
static bool
espeak_start_locked (const char *data_path, const char *voice, char **error)
{
  char msg[256];
  if (!g_started) {
    espeak_ng_InitializePath (data_path);
    espeak_ng_ERROR_CONTEXT ctx = NULL;
    espeak_ng_STATUS st = espeak_ng_Initialize (&ctx);
    if (st != ENS_OK) {
      espeak_ng_GetStatusCodeMessage (st, msg, sizeof msg);
      espeak_ng_ClearErrorContext (&ctx);
      set_error (error, vlm_text_printf ("espeak-ng: cannot start with the data "
              "in %s: %s", data_path ? data_path : "the system's data path",
              msg));
      return false;
    }
    st = espeak_ng_InitializeOutput (ENOUTPUT_MODE_SYNCHRONOUS,
        SYNTH_BUFFER_MS, NULL);
    if (st != ENS_OK) {
      espeak_ng_GetStatusCodeMessage (st, msg, sizeof msg);
      set_error (error, vlm_text_printf ("espeak-ng: no synchronous output: %s",
              msg));
      return false;
    }
    espeak_SetSynthCallback (synth_callback);
    g_sample_rate = espeak_ng_GetSampleRate ();
    g_data_path = str_dup_or_null (data_path);
    g_started = true;
  } else if (!same_path (g_data_path, data_path)) {
    set_error (error, vlm_text_printf ("espeak-ng already runs with the data in "
            "%s in this process; it cannot also use %s",
            g_data_path ? g_data_path : "the system's data path",
            data_path ? data_path : "the system's data path"));
    return false;
  }

  free (g_voice);
  g_voice = NULL;
  espeak_ng_STATUS st = espeak_ng_SetVoiceByName (voice);
  if (st != ENS_OK) {
    espeak_ng_GetStatusCodeMessage (st, msg, sizeof msg);
    set_error (error, vlm_text_printf ("espeak-ng: voice \"%s\" not found (%s)",
            voice, msg));
    return false;
  }
  g_voice = strdup (voice);
  return true;
}

/* ------------------------------------------------------------------ */
/* Queue (all with s->lock)                                             */
/* ------------------------------------------------------------------ */

static void
queue_clear_locked (VlmSpeech * s)
{
  Sentence *q = s->head;
  while (q != NULL) {
    Sentence *next = q->next;
    free (q);
    q = next;
  }
  s->head = s->tail = NULL;
}

/* Takes a malloc'd sentence from sentence_copy (NULL: nothing to say). */
static bool
queue_push_locked (VlmSpeech * s, char *text)
{
  if (text == NULL)
    return false;
  size_t n = strlen (text);
  Sentence *q = malloc (sizeof *q + n + 1);
  if (q == NULL) {
    free (text);
    return false;
  }
  q->next = NULL;
  memcpy (q->text, text, n + 1);
  free (text);
  if (s->tail != NULL)
    s->tail->next = q;
  else
    s->head = q;
  s->tail = q;
  pthread_cond_signal (&s->cond);
  return true;
}

/* Drops what is queued, aborts the synthesis in progress and has the
 * speech thread call on_flush. */
static void
interrupt_locked (VlmSpeech * s)
{
  atomic_fetch_add (&s->generation, 1);
  queue_clear_locked (s);
  s->flush_pending = true;
  pthread_cond_signal (&s->cond);
}

/* Ends the caption being followed: its later updates are ignored. */
static void
caption_cut_locked (VlmSpeech * s)
{
  if (s->cur_valid)
    s->cur_done = true;
}

/* ------------------------------------------------------------------ */
/* Speech thread                                                        */
/* ------------------------------------------------------------------ */

static void
speak (VlmSpeech * s, const char *text, uint64_t generation, int rate,
    int volume)
{
  pthread_mutex_lock (&g_espeak_lock);
  if (atomic_load (&s->generation) != generation) {
    pthread_mutex_unlock (&g_espeak_lock);
    return;                     /* interrupted while waiting for espeak-ng */
  }
  if (g_voice == NULL || strcmp (g_voice, s->voice) != 0) {
    free (g_voice);
    g_voice = NULL;
    if (espeak_ng_SetVoiceByName (s->voice) == ENS_OK)
      g_voice = strdup (s->voice);
  }
  espeak_ng_SetParameter (espeakRATE, rate, 0);
  espeak_ng_SetParameter (espeakVOLUME, volume, 0);
  if (s->params.on_sentence != NULL)
    s->params.on_sentence (text, s->params.user_data);
  SynthJob job = {.s = s,.generation = generation };
  g_job = &job;
  espeak_ng_Synthesize (text, strlen (text) + 1, 0, POS_CHARACTER, 0,
      espeakCHARS_UTF8 | espeakENDPAUSE, NULL, NULL);
  g_job = NULL;
  pthread_mutex_unlock (&g_espeak_lock);
}

static void *
speech_thread (void *data)
{
  VlmSpeech *s = data;
  pthread_mutex_lock (&s->lock);
  for (;;) {
    while (!s->quit && !s->flush_pending && s->head == NULL)
      pthread_cond_wait (&s->cond, &s->lock);
    if (s->quit)
      break;
    if (s->flush_pending) {
      s->flush_pending = false;
      if (s->dirty && s->params.on_flush != NULL) {
        pthread_mutex_unlock (&s->lock);
        s->params.on_flush (s->params.user_data);
        pthread_mutex_lock (&s->lock);
      }
      s->dirty = false;
      continue;
    }
    Sentence *q = s->head;
    s->head = q->next;
    if (s->head == NULL)
      s->tail = NULL;
    uint64_t generation = atomic_load (&s->generation);
    int rate = s->rate, volume = s->volume;
    s->synthesising = true;
    pthread_mutex_unlock (&s->lock);

    speak (s, q->text, generation, rate, volume);
    free (q);

    pthread_mutex_lock (&s->lock);
    s->synthesising = false;
  }
  pthread_mutex_unlock (&s->lock);
  return NULL;
}

/* ------------------------------------------------------------------ */
/* API                                                                  */
/* ------------------------------------------------------------------ */

VlmSpeechParams
vlm_speech_params_default (void)
{
  VlmSpeechParams p;
  memset (&p, 0, sizeof p);
  p.voice = "en";
  p.rate = VLM_SPEECH_RATE_DEFAULT;
  p.volume = 100;
  return p;
}

VlmSpeech *
vlm_speech_new (VlmSpeechParams params, char **error)
{
  if (error != NULL)
    *error = NULL;
  if (params.on_audio == NULL) {
    set_error (error, vlm_text_printf ("vlm_speech_new: no on_audio callback "
            "(the PCM would go nowhere)"));
    return NULL;
  }
  const char *voice = params.voice != NULL && params.voice[0] != '\0'
      ? params.voice : "en";
  if (params.data_path != NULL && !data_path_ok (params.data_path)) {
    set_error (error, vlm_text_printf ("espeak-ng data not found in %s (no "
            "phontab there nor in %s/espeak-ng-data)", params.data_path,
            params.data_path));
    return NULL;
  }

  VlmSpeech *s = calloc (1, sizeof *s);
  if (s == NULL) {
    set_error (error, vlm_text_printf ("vlm_speech_new: out of memory"));
    return NULL;
  }
  pthread_mutex_init (&s->lock, NULL);
  pthread_cond_init (&s->cond, NULL);
  atomic_init (&s->generation, 0);
  s->params = params;
  s->voice = strdup (voice);
  s->data_path = str_dup_or_null (params.data_path);
  if (s->voice == NULL || (params.data_path != NULL && s->data_path == NULL)) {
    set_error (error, vlm_text_printf ("vlm_speech_new: out of memory"));
    vlm_speech_free (s);
    return NULL;
  }
  s->params.voice = s->voice;
  s->params.data_path = s->data_path;
  s->rate = clamp_int (params.rate, VLM_SPEECH_RATE_MIN, VLM_SPEECH_RATE_MAX);
  s->volume = clamp_int (params.volume, 0, 200);

  pthread_mutex_lock (&g_espeak_lock);
  bool ok = espeak_start_locked (s->data_path, s->voice, error);
  pthread_mutex_unlock (&g_espeak_lock);
  if (!ok) {
    vlm_speech_free (s);
    return NULL;
  }

  int err = pthread_create (&s->thread, NULL, speech_thread, s);
  if (err != 0) {
    set_error (error, vlm_text_printf ("vlm_speech_new: no speech thread: %s",
            strerror (err)));
    vlm_speech_free (s);
    return NULL;
  }
  s->thread_started = true;
  return s;
}

void
vlm_speech_free (VlmSpeech * s)
{
  if (s == NULL)
    return;
  if (s->thread_started) {
    pthread_mutex_lock (&s->lock);
    s->quit = true;
    atomic_fetch_add (&s->generation, 1);
    queue_clear_locked (s);
    pthread_cond_signal (&s->cond);
    pthread_mutex_unlock (&s->lock);
    pthread_join (s->thread, NULL);
  }
  queue_clear_locked (s);
  pthread_cond_destroy (&s->cond);
  pthread_mutex_destroy (&s->lock);
  free (s->cur_text);
  free (s->last_final);
  free (s->voice);
  free (s->data_path);
  free (s);
}

/* Queues the sentences of the normalised text t[pos..len) that are
 * complete (all of it when final); returns the new position. *queued is
 * set when a sentence was queued. When `interrupt_first` and a sentence is
 * about to be queued, interrupts first (once). */
static size_t
queue_sentences_locked (VlmSpeech * s, const char *t, size_t len,
    size_t pos, bool final, bool *queued, bool interrupt_first)
{
  size_t end, next;
  while (sentence_end (t, len, pos, final, &end, &next)) {
    char *sentence = sentence_copy (t, pos, end);
    if (sentence != NULL) {
      if (interrupt_first && !*queued)
        interrupt_locked (s);
      *queued |= queue_push_locked (s, sentence);
    }
    pos = next;
  }
  if (final && pos < len) {
    char *sentence = sentence_copy (t, pos, len);
    if (sentence != NULL) {
      if (interrupt_first && !*queued)
        interrupt_locked (s);
      *queued |= queue_push_locked (s, sentence);
    }
    pos = len;
  }
  return pos;
}

void
vlm_speech_caption (VlmSpeech * s, uint64_t id, const char *text, bool final)
{
  if (s == NULL)
    return;
  size_t len = 0;
  char *t = normalize (text, final, &len);
  if (t == NULL)
    return;

  pthread_mutex_lock (&s->lock);
  if (s->muted)
    goto out;

  bool fresh = !s->cur_valid || id != s->cur_id;
  if (!fresh && s->cur_final) {
    /* After its final text, the same text again is a duplicate; another
     * one is a new caption reusing the id (a restarted pipeline), or a
     * late partial, which the repeat rule below holds back for good. */
    size_t tl = trim_end_len (t, len);
    if (s->cur_text != NULL && tl == strlen (s->cur_text)
        && text_is_prefix (t, tl, s->cur_text, tl))
      goto out;
    fresh = true;
  }
  if (fresh) {
    /* a new caption: follow it from its start */
    s->cur_valid = true;
    s->cur_id = id;
    s->cur_started = false;
    s->cur_done = false;
    s->cur_final = false;
    s->cur_pos = 0;
    free (s->cur_text);
    s->cur_text = NULL;
  }
  if (s->cur_done)
    goto out;

  if (!s->cur_started) {
    if (s->last_final != NULL) {
      size_t tl = trim_end_len (t, len);
      if (text_is_prefix (t, tl, s->last_final, s->last_final_len)) {
        if (final && tl == s->last_final_len) {
          s->cur_done = true;   /* a repeat of the last caption: silent */
          s->cur_final = true;
          free (s->cur_text);
          s->cur_text = t;
          t = NULL;
          goto out;
        }
        if (!final)
          goto out;             /* may still be a repeat: hold it back */
      }
    }
    bool queued = false;
    size_t pos = queue_sentences_locked (s, t, len, 0, final, &queued, true);
    if (queued) {
      s->cur_started = true;
      s->cur_pos = pos;
    }
  } else {
    if (s->cur_text == NULL || s->cur_pos > len
        || !text_is_prefix (s->cur_text, s->cur_pos, t, len)) {
      /* The caption was rewritten before what was already spoken: speak
       * it again from its start. */
      s->cur_pos = 0;
      bool queued = false;
      s->cur_pos = queue_sentences_locked (s, t, len, 0, final, &queued,
          true);
    } else {
      bool queued = false;
      s->cur_pos = queue_sentences_locked (s, t, len, s->cur_pos, final,
          &queued, false);
    }
  }

  if (final) {
    s->cur_done = true;
    s->cur_final = true;
    if (s->cur_started) {
      char *copy = strdup (t);
      if (copy != NULL) {
        free (s->last_final);
        s->last_final = copy;
        s->last_final_len = len;
      }
    }
    free (s->cur_text);
    s->cur_text = t;
    t = NULL;
  } else if (s->cur_started) {
    free (s->cur_text);
    s->cur_text = t;
    t = NULL;
  }
out:
  pthread_mutex_unlock (&s->lock);
  free (t);
}

void
vlm_speech_say (VlmSpeech * s, const char *text)
{
  if (s == NULL)
    return;
  size_t len = 0;
  char *t = normalize (text, true, &len);
  if (t == NULL)
    return;
  pthread_mutex_lock (&s->lock);
  if (!s->muted) {
    interrupt_locked (s);
    caption_cut_locked (s);
    bool queued = false;
    queue_sentences_locked (s, t, len, 0, true, &queued, false);
  }
  pthread_mutex_unlock (&s->lock);
  free (t);
}

void
vlm_speech_stop (VlmSpeech * s)
{
  if (s == NULL)
    return;
  pthread_mutex_lock (&s->lock);
  interrupt_locked (s);
  caption_cut_locked (s);
  pthread_mutex_unlock (&s->lock);
}

int
vlm_speech_set_rate (VlmSpeech * s, int rate)
{
  rate = clamp_int (rate, VLM_SPEECH_RATE_MIN, VLM_SPEECH_RATE_MAX);
  if (s == NULL)
    return rate;
  pthread_mutex_lock (&s->lock);
  s->rate = rate;
  pthread_mutex_unlock (&s->lock);
  return rate;
}

int
vlm_speech_get_rate (VlmSpeech * s)
{
  if (s == NULL)
    return VLM_SPEECH_RATE_DEFAULT;
  pthread_mutex_lock (&s->lock);
  int rate = s->rate;
  pthread_mutex_unlock (&s->lock);
  return rate;
}

void
vlm_speech_set_muted (VlmSpeech * s, bool muted)
{
  if (s == NULL)
    return;
  pthread_mutex_lock (&s->lock);
  if (muted && !s->muted) {
    interrupt_locked (s);
    caption_cut_locked (s);
    /* what was said before muting is not a reason to stay silent after */
    free (s->last_final);
    s->last_final = NULL;
    s->last_final_len = 0;
  }
  s->muted = muted;
  pthread_mutex_unlock (&s->lock);
}

bool
vlm_speech_get_muted (VlmSpeech * s)
{
  if (s == NULL)
    return false;
  pthread_mutex_lock (&s->lock);
  bool muted = s->muted;
  pthread_mutex_unlock (&s->lock);
  return muted;
}

bool
vlm_speech_busy (VlmSpeech * s)
{
  if (s == NULL)
    return false;
  pthread_mutex_lock (&s->lock);
  bool busy = s->head != NULL || s->synthesising || s->flush_pending;
  pthread_mutex_unlock (&s->lock);
  return busy;
}

size_t
vlm_speech_split (const char *text, bool final,
    void (*fn) (const char *sentence, void *user_data), void *user_data)
{
  size_t len = 0;
  char *t = normalize (text, final, &len);
  if (t == NULL)
    return 0;
  size_t count = 0, pos = 0, end, next;
  for (;;) {
    bool found = sentence_end (t, len, pos, final, &end, &next);
    if (!found) {
      if (!final || pos >= len)
        break;
      end = next = len;
    }
    char *sentence = sentence_copy (t, pos, end);
    if (sentence != NULL) {
      count++;
      if (fn != NULL)
        fn (sentence, user_data);
      free (sentence);
    }
    pos = next;
  }
  free (t);
  return count;
}

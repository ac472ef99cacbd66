/* gst-vlm — vlm-scanner: speech audio out through SDL. */
#include "scanner-audio.h"

#include <stdio.h>
#include <string.h>

bool
scanner_audio_open (ScannerAudio * a, int rate, char *err, size_t err_size)
{
  SDL_AudioSpec want, have;

  memset (a, 0, sizeof *a);
  memset (&want, 0, sizeof want);
  want.freq = rate;
  want.format = AUDIO_S16SYS;
  want.channels = 1;
  want.samples = 1024;
  a->lock = SDL_CreateMutex ();
  if (a->lock == NULL) {
    snprintf (err, err_size, "%s", SDL_GetError ());
    return false;
  }
  a->device = SDL_OpenAudioDevice (NULL, 0, &want, &have, 0);
  if (a->device == 0) {
    snprintf (err, err_size, "no audio output: %s", SDL_GetError ());
    SDL_DestroyMutex (a->lock);
    a->lock = NULL;
    return false;
  }
  a->rate = rate;
  SDL_PauseAudioDevice (a->device, 0);
  return true;
}

/* A converter from rate to the device's rate (lock held). */
static bool
ensure_converter (ScannerAudio * a, int rate)
{
  if (a->cvt && a->cvt_rate == rate)
    return true;
  if (a->cvt)
    SDL_FreeAudioStream (a->cvt);
  a->cvt = SDL_NewAudioStream (AUDIO_S16SYS, 1, rate, AUDIO_S16SYS, 1,
      a->rate);
  a->cvt_rate = rate;
  return a->cvt != NULL;
}

/* Moves what the converter has ready to the device (lock held). */
static void
drain_converter (ScannerAudio * a)
{
  Uint8 buf[8192];
  int n;

  while ((n = SDL_AudioStreamGet (a->cvt, buf, sizeof buf)) > 0)
    SDL_QueueAudio (a->device, buf, (Uint32) n);
}

void
scanner_audio_play (ScannerAudio * a, const int16_t * pcm, size_t n,
    int sample_rate)
{
  Uint32 bytes = (Uint32) (n * sizeof (int16_t));

  if (a->device == 0 || pcm == NULL || n == 0 || sample_rate <= 0)
    return;
  if (sample_rate == a->rate) {
    SDL_QueueAudio (a->device, pcm, bytes);
    return;
  }
  SDL_LockMutex (a->lock);
  if (ensure_converter (a, sample_rate)
      && SDL_AudioStreamPut (a->cvt, pcm, (int) bytes) == 0)
    drain_converter (a);
  SDL_UnlockMutex (a->lock);
}

void
scanner_audio_flush (ScannerAudio * a)
{
  if (a->device == 0)
    return;
  SDL_LockMutex (a->lock);
  if (a->cvt)
    SDL_AudioStreamClear (a->cvt);
  SDL_ClearQueuedAudio (a->device);
  SDL_UnlockMutex (a->lock);
}

void
scanner_audio_close (ScannerAudio * a)
{
  if (a->device)
    SDL_CloseAudioDevice (a->device);
  if (a->cvt)
    SDL_FreeAudioStream (a->cvt);
  if (a->lock)
    SDL_DestroyMutex (a->lock);
  memset (a, 0, sizeof *a);
}

/* gst-vlm — vlm-scanner: speech audio out through SDL.
 *
 *   ScannerAudio a;
 *   if (!scanner_audio_open (&a, 22050, err, sizeof err)) -> speech off
 *   scanner_audio_play (&a, pcm, n, rate);   // any thread (speech thread)
 *   scanner_audio_flush (&a);                // any thread: drop what is queued
 *   scanner_audio_close (&a);                // main thread, speech stopped
 *
 * Mono S16 PCM is queued on the device with SDL_QueueAudio; PCM at another
 * rate than the device's goes through an SDL_AudioStream first. SDL's
 * audio subsystem must be initialised.
 */
#ifndef SCANNER_AUDIO_H
#define SCANNER_AUDIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <SDL.h>

typedef struct {
  SDL_AudioDeviceID device;     /* 0: closed */
  int rate;                     /* the device's sample rate */
  SDL_mutex *lock;              /* guards cvt (speech thread vs. flush) */
  SDL_AudioStream *cvt;         /* PCM at cvt_rate -> rate */
  int cvt_rate;
} ScannerAudio;

/* Opens the default output device, mono S16 at rate Hz (SDL converts if
 * the hardware differs), and starts it. False with a message in err. */
bool scanner_audio_open (ScannerAudio * a, int rate, char *err,
    size_t err_size);

/* Queues n mono samples at sample_rate Hz. */
void scanner_audio_play (ScannerAudio * a, const int16_t * pcm, size_t n,
    int sample_rate);

/* Drops everything queued. */
void scanner_audio_flush (ScannerAudio * a);

/* Closes the device; fine on a closed one. */
void scanner_audio_close (ScannerAudio * a);

#endif /* SCANNER_AUDIO_H */

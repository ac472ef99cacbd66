/* vlm-bench-clip — time the vision encoder of an mmproj GGUF.
 *
 *   vlm-bench-clip MMPROJ.gguf [THREADS [RUNS [WIDTH HEIGHT]]]
 *
 * Encodes a synthetic picture (default: the model's input size, so no
 * resize) RUNS times with THREADS threads and prints the load time and
 * the best and mean encode times. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "clip.h"
#include "gguf.h"
#include "threadpool.h"

static double
now_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Gradients and a checker pattern. */
static uint8_t *
make_image (int w, int h)
{
  uint8_t *img = malloc ((size_t) w * h * 3);

  for (int y = 0; img != NULL && y < h; y++)
    for (int x = 0; x < w; x++) {
      uint8_t *px = img + ((size_t) y * w + x) * 3;
      px[0] = (uint8_t) (x * 255 / w);
      px[1] = (uint8_t) (y * 255 / h);
      px[2] = ((x / 8 + y / 8) & 1) ? 220 : 30;
    }
  return img;
}

int
main (int argc, char **argv)
{
  char err[512] = "";
  vlm_gguf_status gs;
  vlm_status st;
  int threads = argc > 2 ? atoi (argv[2]) : 0;
  int runs = argc > 3 ? atoi (argv[3]) : 3;

  if (argc < 2) {
    fprintf (stderr, "usage: %s MMPROJ.gguf [THREADS [RUNS [W H]]]\n",
        argv[0]);
    return 2;
  }
  double t0 = now_ms ();
  vlm_gguf *g = vlm_gguf_open (argv[1], &gs, err, sizeof err);
  vlm_clip *clip = g ? vlm_clip_load (g, &st, err, sizeof err) : NULL;
  if (clip == NULL) {
    fprintf (stderr, "%s: %s\n", argv[1], err);
    vlm_gguf_close (g);
    return 1;
  }
  double t_load = now_ms () - t0;
  int side = vlm_clip_image_size (clip);
  int w = argc > 5 ? atoi (argv[4]) : side, h = argc > 5 ? atoi (argv[5]) : side;
  vlm_pool *pool = vlm_pool_new (threads);
  uint8_t *img = make_image (w, h);
  float *out = malloc (sizeof (float) * vlm_clip_n_tokens (clip)
      * vlm_clip_n_embd (clip));
  double best = 0, sum = 0;
  int rc = 0;

  if (pool == NULL || img == NULL || out == NULL || runs < 1) {
    fprintf (stderr, "setup failed\n");
    rc = 1;
    goto done;
  }
  printf ("%s: projector %s, input %d, %d tokens x %d, load %.1f ms, "
      "%d threads, image %dx%d, %s arithmetic\n", argv[1],
      vlm_clip_projector (clip), side, vlm_clip_n_tokens (clip),
      vlm_clip_n_embd (clip), t_load, vlm_pool_n_threads (pool), w, h,
      vlm_clip_uses_reference_arith (clip) ? "reference" : "fast");
  for (int i = 0; i < runs; i++) {
    double t = now_ms ();
    st = vlm_clip_encode (clip, pool, img, w, h, (size_t) w * 3, out, NULL);
    t = now_ms () - t;
    if (st != VLM_OK) {
      fprintf (stderr, "encode failed: %d\n", (int) st);
      rc = 1;
      goto done;
    }
    printf ("run %d: %.1f ms\n", i, t);
    best = i == 0 || t < best ? t : best;
    sum += t;
  }
  printf ("encode: best %.1f ms, mean %.1f ms\n", best, sum / runs);

done:
  free (out);
  free (img);
  vlm_pool_free (pool);
  vlm_clip_free (clip);
  vlm_gguf_close (g);
  return rc;
}

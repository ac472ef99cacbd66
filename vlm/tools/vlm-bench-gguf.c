/* vlm-bench-gguf — how long opening (mapping and validating) a GGUF takes.
 *
 *   vlm-bench-gguf FILE [REPEATS]
 *
 * Prints the best and mean wall time of vlm_gguf_open + vlm_gguf_close and
 * the resident memory the open handle adds (tensor data stays on disk
 * until touched, so this is the metadata index only).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gguf.h"

static double
now_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Resident set size in KiB, from /proc/self/statm (0 if unavailable). */
static long
rss_kib (void)
{
  long pages = 0, resident = 0;
  FILE *f = fopen ("/proc/self/statm", "r");
  if (f == NULL)
    return 0;
  if (fscanf (f, "%ld %ld", &pages, &resident) != 2)
    resident = 0;
  fclose (f);
  return resident * 4;
}

int
main (int argc, char **argv)
{
  if (argc < 2 || argc > 3 || strcmp (argv[1], "--help") == 0) {
    fprintf (stderr, "usage: vlm-bench-gguf FILE [REPEATS]\n");
    return 2;
  }
  int repeats = argc == 3 ? atoi (argv[2]) : 20;
  if (repeats < 1)
    repeats = 1;

  double best = 1e30, total = 0;
  long rss_open = 0, rss_before = rss_kib ();
  size_t size = 0;
  int64_t n_tensors = 0, n_kv = 0;
  for (int i = 0; i < repeats; i++) {
    char err[512];
    double t0 = now_ms ();
    vlm_gguf *g = vlm_gguf_open (argv[1], NULL, err, sizeof (err));
    double t1 = now_ms ();
    if (g == NULL) {
      fprintf (stderr, "vlm-bench-gguf: %s\n", err);
      return 1;
    }
    size = vlm_gguf_file_size (g);
    n_tensors = vlm_gguf_n_tensors (g);
    n_kv = vlm_gguf_n_kv (g);
    rss_open = rss_kib ();
    vlm_gguf_close (g);
    best = t1 - t0 < best ? t1 - t0 : best;
    total += t1 - t0;
  }
  printf ("file: %s (%.1f MB, %lld keys, %lld tensors)\n", argv[1],
      size / 1e6, (long long) n_kv, (long long) n_tensors);
  printf ("open: best %.3f ms, mean %.3f ms over %d runs\n", best,
      total / repeats, repeats);
  printf ("rss added while open: %ld KiB\n", rss_open - rss_before);
  return 0;
}

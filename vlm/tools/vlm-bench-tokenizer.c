/* gst-vlm — vlm-bench-tokenizer: tokenizer throughput.
 *
 * Usage: vlm-bench-tokenizer [SHARED_DIR] [MEGABYTES]
 *
 * For each reference vocab (SPM llama, SPM phi-3, BPE gpt-2) builds about
 * MEGABYTES (default 4) of mixed text by repeating the vocab's test
 * strings (SHARED_DIR/tokenizer/NAME.gguf.inp, SHARED_DIR defaulting to
 * $VLM_SHARED_DIR or ../shared), tokenizes it in 4 KiB chunks and as one
 * piece, and prints MB/s (1 MB = 10^6 bytes of input text).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tokenizer.h"

#include "file-io.h"

#define CHUNK 4096

static double
now_s (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec + (double) ts.tv_nsec * 1e-9;
}

/* Repeats the test strings (separator lines replaced by newlines) up to
 * `target` bytes. */
static char *
make_corpus (const char *inp, size_t inp_len, size_t target, size_t *len)
{
  const char *sep = "\n__ggml_vocab_test__\n";
  char *text = malloc (target + inp_len + 1);
  size_t n = 0;

  if (text == NULL)
    return NULL;
  while (n < target) {
    const char *p = inp, *end = inp + inp_len;
    while (p < end) {
      const char *s = strstr (p, sep);
      size_t k = s ? (size_t) (s - p) : (size_t) (end - p);
      memcpy (text + n, p, k);
      n += k;
      text[n++] = '\n';
      p = s ? s + strlen (sep) : end;
    }
  }
  *len = n;
  return text;
}

/* Tokenizes text[len] in pieces of `chunk` bytes; returns MB/s and the
 * token count in *n_tok. */
static double
run (const vlm_vocab *vocab, const char *text, size_t len, size_t chunk,
    vlm_token *ids, int32_t n_max, long long *n_tok)
{
  double t0 = now_s ();

  *n_tok = 0;
  for (size_t off = 0; off < len; off += chunk) {
    size_t k = len - off < chunk ? len - off : chunk;
    int32_t n = vlm_tokenize (vocab, text + off, k, false, true, ids, n_max);
    if (n < 0)
      return -1.0;
    *n_tok += n;
  }
  return (double) len / 1e6 / (now_s () - t0);
}

static int
bench_one (const char *dir, const char *name, size_t target)
{
  char path[4096], err[512];
  size_t inp_len = 0, len = 0;

  snprintf (path, sizeof (path), "%s/tokenizer/%s.gguf", dir, name);
  vlm_vocab *vocab = vlm_vocab_load_file (path, NULL, err, sizeof (err));
  snprintf (path, sizeof (path), "%s/tokenizer/%s.gguf.inp", dir, name);
  char *inp = vlm_tool_read_file (path, &inp_len);
  if (vocab == NULL || inp == NULL) {
    fprintf (stderr, "cannot load %s\n", vocab ? path : err);
    vlm_vocab_free (vocab);
    free (inp);
    return 1;
  }
  char *text = make_corpus (inp, inp_len, target, &len);
  vlm_token *ids = malloc ((len + 16) * sizeof (*ids));
  long long n_tok;
  int rc = 1;
  if (text != NULL && ids != NULL) {
    double chunked = run (vocab, text, len, CHUNK, ids, (int32_t) len + 16,
        &n_tok);
    double whole = run (vocab, text, len, len, ids, (int32_t) len + 16,
        &n_tok);
    printf ("%-22s %s  %6.2f MB  %9lld tokens  %7.2f MB/s (4 KiB chunks)"
        "  %7.2f MB/s (one call)\n", name,
        vlm_vocab_get_kind (vocab) == VLM_VOCAB_SPM ? "SPM" : "BPE",
        (double) len / 1e6, n_tok, chunked, whole);
    rc = chunked > 0 && whole > 0 ? 0 : 1;
  }
  free (ids);
  free (text);
  free (inp);
  vlm_vocab_free (vocab);
  return rc;
}

int
main (int argc, char **argv)
{
  const char *dir = getenv ("VLM_SHARED_DIR");
  double mb = 4.0;

  if (argc > 1)
    dir = argv[1];
  if (dir == NULL)
    dir = "../shared";
  if (argc > 2)
    mb = atof (argv[2]);
  if (mb <= 0 || mb > 512) {
    fprintf (stderr, "usage: %s [SHARED_DIR] [MEGABYTES (0..512]]\n",
        argv[0]);
    return 2;
  }
  size_t target = (size_t) (mb * 1e6);
  int rc = bench_one (dir, "ggml-vocab-llama-spm", target);
  rc |= bench_one (dir, "ggml-vocab-phi-3", target);
  rc |= bench_one (dir, "ggml-vocab-gpt-2", target);
  return rc;
}

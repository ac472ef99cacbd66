/* gst-vlm tests — the small generated models of the element, pipeline and
 * app tests (vlm/model-gen.h), with the real LLaMA vocabulary of
 * $VLM_SHARED_DIR/tokenizer when it is there (else the built-in one). */
#ifndef VLM_MODEL_UTIL_H
#define VLM_MODEL_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "model-gen.h"

/* Writes the preset's text and mmproj GGUF files (seed 1) into dir; their
 * paths go to text and mmproj (each cap bytes; either may be NULL).
 * Returns 0, or -1 with the reason on stderr. */
static inline int
tu_make_model (const char *preset, const char *dir, char *text, char *mmproj,
    size_t cap)
{
  char err[512], vocab[4096];
  const char *shared = getenv ("VLM_SHARED_DIR");
  vlm_gen_params p = vlm_gen_default_params ();
  vlm_gen_result r;

  snprintf (vocab, sizeof vocab, "%s/tokenizer/ggml-vocab-llama-spm.gguf",
      shared ? shared : "../shared");
  p.preset = preset;
  p.seed = 1;
  p.out_dir = dir;
  p.vocab_path = access (vocab, R_OK) == 0 ? vocab : NULL;
  p.n_threads = 2;
  if (vlm_gen_make_model (&p, &r, err, sizeof err) != VLM_GEN_OK) {
    fprintf (stderr, "generating %s: %s\n", preset, err);
    return -1;
  }
  if (text)
    snprintf (text, cap, "%s", r.text_path);
  if (mmproj)
    snprintf (mmproj, cap, "%s", r.mmproj_path);
  return 0;
}

#endif /* VLM_MODEL_UTIL_H */

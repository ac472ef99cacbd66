/* gst-vlm — random-weight test model generator.
 *
 * Writes a pair of GGUF files shaped like a real VLM: a llama-architecture
 * text model and a CLIP-style vision tower with its projector ("mmproj"),
 * following the key names, tensor names, shapes and types of the files in
 * shared/golden. The weights are deterministic pseudo-random numbers,
 * scaled so activations stay finite through every layer: the same
 * parameters give the same bytes on every run and machine.
 *
 * Presets are data (see vlm_gen_preset_name): small ones for tests and
 * shape-true replicas of real models for memory and speed work.
 *
 * Thread safety: vlm_gen_make_model is reentrant (it may use worker
 * threads internally); two calls must not write the same files.
 */
#ifndef VLM_MODEL_GEN_H
#define VLM_MODEL_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Status codes: 0 is success, errors are negative. */
typedef enum {
  VLM_GEN_OK = 0,
  VLM_GEN_ERR_PRESET = -1,  /* unknown preset name */
  VLM_GEN_ERR_ARG = -2,     /* other bad parameter (NULL, bad type, ...) */
  VLM_GEN_ERR_VOCAB = -3,   /* vocabulary file unreadable or unsuitable */
  VLM_GEN_ERR_IO = -4,      /* output directory or file not writable */
  VLM_GEN_ERR_NOMEM = -5,   /* allocation or thread creation failed */
} vlm_gen_status;

/* Storage type of the text model's 2-D matrices. Norms stay F32 and the
 * mmproj stays F16/F32 whatever is chosen. */
typedef enum {
  VLM_GEN_TYPE_Q8_0 = 0,    /* default, like the golden files */
  VLM_GEN_TYPE_F16,
  VLM_GEN_TYPE_Q4_0,
  VLM_GEN_TYPE_Q4_K,        /* a Q4_K_M mix: Q4_K, with Q6_K for attn_v,
                               ffn_down and the output matrix; rows not a
                               multiple of 256 fall back to Q8_0 */
} vlm_gen_type;

typedef struct {
  const char *preset;       /* preset name, required */
  uint64_t seed;            /* PRNG seed */
  const char *out_dir;      /* created (one level) if missing, required */
  const char *vocab_path;   /* GGUF whose tokenizer.* keys are copied;
                               NULL: built-in byte-level vocabulary */
  vlm_gen_type type;
  int n_threads;            /* worker threads; <= 0: online CPUs */
} vlm_gen_params;

/* What was written. Paths are NUL-terminated. */
typedef struct {
  char text_path[4096];
  char mmproj_path[4096];
  int64_t n_vocab;
  uint64_t text_bytes;
  uint64_t mmproj_bytes;
} vlm_gen_result;

/* Defaults: no preset, seed 0, no out_dir, built-in vocabulary, Q8_0,
 * automatic thread count. */
vlm_gen_params vlm_gen_default_params (void);

/* Presets, by index < vlm_gen_n_presets (). Names and descriptions are
 * static strings; out-of-range indices give NULL. */
size_t vlm_gen_n_presets (void);
const char *vlm_gen_preset_name (size_t i);
const char *vlm_gen_preset_description (size_t i);

/* Parses "f16", "q8_0", "q4_0" or "q4_k" (case-insensitive). Returns false
 * and leaves *out untouched for anything else. */
bool vlm_gen_type_from_string (const char *s, vlm_gen_type *out);
/* Lower-case name as accepted above; "unknown" for a bad value. */
const char *vlm_gen_type_name (vlm_gen_type t);

/* Human-readable name of a status code. Static string. */
const char *vlm_gen_status_str (vlm_gen_status s);

/* Generates <out_dir>/<preset>-text-<type>.gguf and
 * <out_dir>/<preset>-mmproj-f16.gguf, replacing existing files. On
 * success fills *result (if non-NULL). On error returns the status and a
 * message in err[err_size] (if non-NULL); files partly written are
 * removed.
 * Ownership: nothing is retained; params strings are only read during
 * the call. */
vlm_gen_status vlm_gen_make_model (const vlm_gen_params *params,
    vlm_gen_result *result, char *err, size_t err_size);

#ifdef __cplusplus
}
#endif

#endif /* VLM_MODEL_GEN_H */

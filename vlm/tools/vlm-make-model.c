/* vlm-make-model — write a random-weight VLM (text GGUF + mmproj GGUF).
 *
 *   vlm-make-model --preset NAME --seed N --out-dir DIR
 *                  [--vocab VOCAB.gguf] [--type f16|q8_0|q4_0|q4_k]
 *                  [--threads N]
 *
 * Exit status: 0 on success, 1 when generation fails, 2 on usage.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model-gen.h"

static void
usage (FILE *out)
{
  fputs ("usage: vlm-make-model --preset NAME --seed N --out-dir DIR\n"
      "                      [--vocab VOCAB.gguf] [--type TYPE] [--threads N]\n"
      "\n"
      "Writes DIR/NAME-text-TYPE.gguf (llama decoder) and\n"
      "DIR/NAME-mmproj-f16.gguf (vision tower + projector) with\n"
      "deterministic random weights: the same arguments give the same bytes.\n"
      "\n"
      "  --preset NAME    model shape (see below)\n"
      "  --seed N         PRNG seed (unsigned 64-bit)\n"
      "  --out-dir DIR    output directory (created if missing)\n"
      "  --vocab FILE     copy all tokenizer.* keys of this GGUF; the text\n"
      "                   model's vocabulary size becomes its token count\n"
      "                   (default: built-in byte-level BPE vocabulary padded\n"
      "                   to the preset's size)\n"
      "  --type TYPE      text matrices: q8_0 (default), f16, q4_0, or q4_k\n"
      "                   (Q4_K_M mix: Q4_K, Q6_K for attn_v, ffn_down and the\n"
      "                   output matrix). Rows that are not a multiple of the\n"
      "                   block size fall back: to Q8_0 for q4_k (rows not a\n"
      "                   multiple of 256), to F16 for q8_0/q4_0 (rows not a\n"
      "                   multiple of 32). Norms stay F32; the mmproj is\n"
      "                   always F16 matrices + F32 vectors.\n"
      "  --threads N      worker threads (default: online CPUs)\n"
      "\npresets:\n", out);
  for (size_t i = 0; i < vlm_gen_n_presets (); i++)
    fprintf (out, "  %-18s %s\n", vlm_gen_preset_name (i),
        vlm_gen_preset_description (i));
}

/* Parses a whole unsigned decimal number. */
static bool
parse_u64 (const char *s, uint64_t *out)
{
  char *end;
  unsigned long long v;

  if (s == NULL || *s == '\0' || *s == '-')
    return false;
  errno = 0;
  v = strtoull (s, &end, 10);
  if (errno != 0 || *end != '\0')
    return false;
  *out = v;
  return true;
}

static double
now_s (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec + (double) ts.tv_nsec * 1e-9;
}

/* Parses argv into *p. Returns 0, or the exit status to leave with. */
static int
parse_args (int argc, char **argv, vlm_gen_params *p)
{
  bool have_seed = false;

  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;

    if (strcmp (a, "-h") == 0 || strcmp (a, "--help") == 0) {
      usage (stdout);
      return -1;
    }
    if (v == NULL) {
      fprintf (stderr, "vlm-make-model: %s: missing value or unknown "
          "option\n", a);
      return 2;
    }
    i++;
    if (strcmp (a, "--preset") == 0) {
      p->preset = v;
    } else if (strcmp (a, "--out-dir") == 0) {
      p->out_dir = v;
    } else if (strcmp (a, "--vocab") == 0) {
      p->vocab_path = v;
    } else if (strcmp (a, "--seed") == 0) {
      if (!parse_u64 (v, &p->seed)) {
        fprintf (stderr, "vlm-make-model: bad seed '%s'\n", v);
        return 2;
      }
      have_seed = true;
    } else if (strcmp (a, "--type") == 0) {
      if (!vlm_gen_type_from_string (v, &p->type)) {
        fprintf (stderr, "vlm-make-model: unknown type '%s' (use f16, "
            "q8_0, q4_0 or q4_k)\n", v);
        return 2;
      }
    } else if (strcmp (a, "--threads") == 0) {
      uint64_t n;
      if (!parse_u64 (v, &n) || n < 1 || n > 1024) {
        fprintf (stderr, "vlm-make-model: bad thread count '%s'\n", v);
        return 2;
      }
      p->n_threads = (int) n;
    } else {
      fprintf (stderr, "vlm-make-model: unknown option %s\n", a);
      return 2;
    }
  }
  if (p->preset == NULL || p->out_dir == NULL || !have_seed) {
    fputs ("vlm-make-model: --preset, --seed and --out-dir are required\n\n",
        stderr);
    usage (stderr);
    return 2;
  }
  return 0;
}

int
main (int argc, char **argv)
{
  vlm_gen_params p = vlm_gen_default_params ();
  vlm_gen_result r;
  char err[512];
  int rc = parse_args (argc, argv, &p);

  if (rc != 0)
    return rc < 0 ? 0 : rc;

  double t0 = now_s ();
  vlm_gen_status st = vlm_gen_make_model (&p, &r, err, sizeof err);
  if (st != VLM_GEN_OK) {
    fprintf (stderr, "vlm-make-model: %s\n", err[0] ? err
        : vlm_gen_status_str (st));
    return st == VLM_GEN_ERR_PRESET ? 2 : 1;
  }
  printf ("%s  %llu bytes (vocab %lld)\n%s  %llu bytes\n%.2f s\n",
      r.text_path, (unsigned long long) r.text_bytes, (long long) r.n_vocab,
      r.mmproj_path, (unsigned long long) r.mmproj_bytes, now_s () - t0);
  return 0;
}

/* vlm-describe — describe one image with a VLM, from the command line.
 *
 *   vlm-describe --model TEXT.gguf --mmproj MMPROJ.gguf --image FILE
 *                --prompt TEXT [options]
 *
 * The answer streams to stdout; diagnostics go to stderr.
 * Exit status: 0 success, 1 failure, 2 usage error.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image-io.h"
#include "vlm.h"

typedef struct {
  const char *model;
  const char *mmproj;
  const char *image;
  const char *prompt;
  int raw_w, raw_h;
  vlm_context_params ctx;
  vlm_vision_arith arith;
  const char *dump_embd;
  const char *dump_logits;
  bool print_tokens;
  bool stats;
} options;

typedef struct {
  FILE *logits;
  FILE *embd;
  bool print_tokens;
  bool write_failed;
} dumps;

/* ------------------------------------------------------------------ */
/* Arguments                                                           */
/* ------------------------------------------------------------------ */

static void
usage (FILE * f)
{
  fputs ("usage: vlm-describe --model TEXT.gguf --mmproj MMPROJ.gguf "
      "--image FILE --prompt TEXT [options]\n"
      "  --image FILE            PNG or JPEG (or packed RGB with --raw)\n"
      "  --raw WxH               the image file is W*H*3 bytes of RGB\n"
      "  --prompt TEXT           the question (default: describe the scene)\n"
      "  --no-template           use the prompt as given; it must contain "
      "<__media__>\n"
      "  --template NAME         vicuna | chatml | smolvlm (default: from "
      "the model)\n"
      "  --n-predict N           max tokens to generate (default 64)\n"
      "  --temp T                temperature, 0 = greedy (default 0.2)\n"
      "  --top-k N --top-p P --min-p P --repeat-penalty P\n"
      "  --seed S                sampler seed (default 0)\n"
      "  --threads N             threads (default: all CPUs)\n"
      "  --ctx-size N            KV cache positions (default min(2048, "
      "model))\n"
      "  --vision-arith MODE     auto | fast | reference: the vision "
      "encoder's\n"
      "                          arithmetic (reference: the reference "
      "runtime's,\n"
      "                          bit for bit, slow; auto: reference for "
      "tiny towers)\n"
      "  --dump-image-embd FILE  write the projector output (float32 rows)\n"
      "  --dump-logits FILE      write the logits after the prompt and each "
      "token (float32 rows)\n"
      "  --print-tokens          print the prompt chunks to stderr\n"
      "  --stats                 print timings to stderr\n", f);
}

static bool
parse_size (const char *s, int *w, int *h)
{
  return sscanf (s, "%dx%d", w, h) == 2 && *w > 0 && *h > 0;
}

/* Parses one option with a value; false on an unknown option. */
static bool
parse_value (options * o, const char *opt, const char *v)
{
  vlm_context_params *c = &o->ctx;
  if (!strcmp (opt, "--model")) o->model = v;
  else if (!strcmp (opt, "--mmproj")) o->mmproj = v;
  else if (!strcmp (opt, "--image")) o->image = v;
  else if (!strcmp (opt, "--prompt")) o->prompt = v;
  else if (!strcmp (opt, "--raw")) return parse_size (v, &o->raw_w, &o->raw_h);
  else if (!strcmp (opt, "--template")) c->chat_template = v;
  else if (!strcmp (opt, "--n-predict")) c->n_predict = atoi (v);
  else if (!strcmp (opt, "--temp")) c->temperature = (float) atof (v);
  else if (!strcmp (opt, "--top-k")) c->top_k = atoi (v);
  else if (!strcmp (opt, "--top-p")) c->top_p = (float) atof (v);
  else if (!strcmp (opt, "--min-p")) c->min_p = (float) atof (v);
  else if (!strcmp (opt, "--repeat-penalty"))
    c->repeat_penalty = (float) atof (v);
  else if (!strcmp (opt, "--seed")) c->seed = strtoull (v, NULL, 10);
  else if (!strcmp (opt, "--threads")) c->n_threads = atoi (v);
  else if (!strcmp (opt, "--ctx-size")) c->n_ctx = atoi (v);
  else if (!strcmp (opt, "--vision-arith")) {
    if (!strcmp (v, "auto")) o->arith = VLM_VISION_ARITH_AUTO;
    else if (!strcmp (v, "fast")) o->arith = VLM_VISION_ARITH_FAST;
    else if (!strcmp (v, "reference")) o->arith = VLM_VISION_ARITH_REFERENCE;
    else return false;
  }
  else if (!strcmp (opt, "--dump-image-embd")) o->dump_embd = v;
  else if (!strcmp (opt, "--dump-logits")) o->dump_logits = v;
  else return false;
  return true;
}

static bool
parse_args (int argc, char **argv, options * o)
{
  *o = (options) { 0 };
  o->ctx = vlm_context_params_default ();
  o->prompt = "Describe the scene in front of me.";
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp (a, "--no-template"))
      o->ctx.chat_template = "none";
    else if (!strcmp (a, "--print-tokens"))
      o->print_tokens = true;
    else if (!strcmp (a, "--stats"))
      o->stats = true;
    else if (i + 1 >= argc || !parse_value (o, a, argv[i + 1])) {
      fprintf (stderr, "vlm-describe: bad option or value: %s\n", a);
      return false;
    } else
      i++;
  }
  if (!o->model || !o->mmproj || !o->image) {
    fprintf (stderr, "vlm-describe: --model, --mmproj and --image are "
        "required\n");
    return false;
  }
  return true;
}

/* ------------------------------------------------------------------ */
/* Debug hooks                                                         */
/* ------------------------------------------------------------------ */

static void
on_tokens (const int32_t * ids, int n, bool is_image, void *ud)
{
  dumps *d = ud;
  if (!d->print_tokens)
    return;
  if (is_image) {
    fprintf (stderr, "image %d\n", n);
    return;
  }
  fputs ("text", stderr);
  for (int i = 0; i < n; i++)
    fprintf (stderr, " %d", ids[i]);
  fputc ('\n', stderr);
}

static void
on_embd (const float *embd, int n_tokens, int n_embd, void *ud)
{
  dumps *d = ud;
  if (d->embd && fwrite (embd, sizeof (float), (size_t) n_tokens * n_embd,
          d->embd) != (size_t) n_tokens * n_embd)
    d->write_failed = true;
}

static void
on_logits (const float *logits, int n_vocab, void *ud)
{
  dumps *d = ud;
  if (d->logits && fwrite (logits, sizeof (float), n_vocab, d->logits)
      != (size_t) n_vocab)
    d->write_failed = true;
}

static bool
on_piece (const char *piece, size_t len, void *ud)
{
  (void) ud;
  fwrite (piece, 1, len, stdout);
  fflush (stdout);
  return true;
}

static FILE *
open_dump (const char *path)
{
  if (path == NULL)
    return NULL;
  FILE *f = fopen (path, "wb");
  if (f == NULL)
    perror (path);
  return f;
}

/* ------------------------------------------------------------------ */
/* Main                                                                */
/* ------------------------------------------------------------------ */

static void
print_stats (const vlm_context * ctx)
{
  vlm_stats s = vlm_get_stats (ctx);
  fprintf (stderr, "\nencode: %.1f ms\n"
      "prefill: %d positions (%d reused) in %.1f ms, %.1f tok/s\n"
      "decode: %d tokens in %.1f ms, %.2f tok/s\n"
      "first token: %.1f ms\n", s.encode_ms, s.n_prompt, s.n_prompt_reused,
      s.prefill_ms, s.prefill_tok_s, s.n_generated, s.decode_ms,
      s.decode_tok_s, s.first_token_ms);
}

static int
run (const options * o, const vlm_image * img, dumps * d)
{
  char err[1024];
  vlm_status st;
  vlm_model_params mp = vlm_model_params_default ();
  mp.text_path = o->model;
  mp.mmproj_path = o->mmproj;
  mp.vision_arith = o->arith;
  vlm_model *model = vlm_model_load (mp, &st, err, sizeof (err));
  if (model == NULL) {
    fprintf (stderr, "vlm-describe: %s\n", err);
    return 1;
  }
  vlm_context_params cp = o->ctx;
  cp.on_prompt_tokens = on_tokens;
  cp.on_image_embd = on_embd;
  cp.on_logits = on_logits;
  cp.debug_user_data = d;
  vlm_context *ctx = vlm_context_new (model, cp, &st, err, sizeof (err));
  if (ctx == NULL) {
    fprintf (stderr, "vlm-describe: %s\n", err);
    vlm_model_free (model);
    return 1;
  }
  st = vlm_describe (ctx, img->rgb, img->width, img->height,
      (size_t) img->width * 3, o->prompt, on_piece, NULL);
  fputc ('\n', stdout);
  if (st != VLM_OK)
    fprintf (stderr, "vlm-describe: %s\n", vlm_last_error (ctx));
  else if (o->stats)
    print_stats (ctx);
  vlm_context_free (ctx);
  vlm_model_free (model);
  return st == VLM_OK ? 0 : 1;
}

int
main (int argc, char **argv)
{
  options o;
  if (argc == 2 && !strcmp (argv[1], "--help")) {
    usage (stdout);
    return 0;
  }
  if (!parse_args (argc, argv, &o)) {
    usage (stderr);
    return 2;
  }

  char err[512];
  vlm_image img = { 0 };
  int rc = o.raw_w ? vlm_image_load_raw (o.image, o.raw_w, o.raw_h, &img,
      err, sizeof (err)) : vlm_image_load (o.image, &img, err, sizeof (err));
  if (rc != 0) {
    fprintf (stderr, "vlm-describe: %s\n", err);
    return 1;
  }

  dumps d = { open_dump (o.dump_logits), open_dump (o.dump_embd),
    o.print_tokens, false };
  if ((o.dump_logits && !d.logits) || (o.dump_embd && !d.embd))
    rc = 1;
  else
    rc = run (&o, &img, &d);
  if (d.logits && fclose (d.logits) != 0)
    d.write_failed = true;
  if (d.embd && fclose (d.embd) != 0)
    d.write_failed = true;
  if (d.write_failed) {
    fprintf (stderr, "vlm-describe: writing a dump file failed\n");
    rc = 1;
  }
  free (img.rgb);
  return rc;
}

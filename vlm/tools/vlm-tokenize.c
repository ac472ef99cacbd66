/* gst-vlm — vlm-tokenize: print the token ids of a text.
 *
 * Usage: vlm-tokenize --model FILE.gguf [--no-bos] [--no-special] TEXT
 *
 * Prints the ids on one line, space-separated. --no-bos leaves out the
 * BOS/EOS the vocab would add; --no-special tokenizes special token texts
 * as plain text. Exit status: 0 on success, 1 on a load or tokenization
 * error, 2 on a usage error.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer.h"

static int
usage (const char *argv0)
{
  fprintf (stderr, "usage: %s --model FILE.gguf [--no-bos] [--no-special] "
      "TEXT\n", argv0);
  return 2;
}

/* Tokenizes and prints; returns the exit status. */
static int
print_tokens (const vlm_vocab *vocab, const char *text, bool add_special,
    bool parse_special)
{
  size_t len = strlen (text);
  int32_t n = vlm_tokenize (vocab, text, len, add_special, parse_special,
      NULL, 0);

  if (n == VLM_TOK_ERROR) {
    fprintf (stderr, "vlm-tokenize: tokenization failed\n");
    return 1;
  }
  int32_t need = n < 0 ? -n : n;
  vlm_token *ids = malloc (((size_t) need + 1) * sizeof (*ids));
  if (ids == NULL) {
    fprintf (stderr, "vlm-tokenize: out of memory\n");
    return 1;
  }
  n = vlm_tokenize (vocab, text, len, add_special, parse_special, ids,
      need);
  for (int32_t i = 0; i < n; i++)
    printf ("%s%d", i ? " " : "", ids[i]);
  printf ("\n");
  free (ids);
  return n >= 0 ? 0 : 1;
}

int
main (int argc, char **argv)
{
  const char *model = NULL, *text = NULL;
  bool add_special = true, parse_special = true;

  for (int i = 1; i < argc; i++) {
    if (strcmp (argv[i], "--model") == 0 && i + 1 < argc)
      model = argv[++i];
    else if (strcmp (argv[i], "--no-bos") == 0)
      add_special = false;
    else if (strcmp (argv[i], "--no-special") == 0)
      parse_special = false;
    else if (strcmp (argv[i], "--") == 0 && i + 2 == argc)
      text = argv[++i];
    else if (argv[i][0] == '-' && argv[i][1] == '-')
      return usage (argv[0]);
    else if (text == NULL)
      text = argv[i];
    else
      return usage (argv[0]);
  }
  if (model == NULL || text == NULL)
    return usage (argv[0]);

  char err[512];
  vlm_tok_status st;
  vlm_vocab *vocab = vlm_vocab_load_file (model, &st, err, sizeof (err));
  if (vocab == NULL) {
    fprintf (stderr, "vlm-tokenize: %s (%s)\n", err,
        vlm_tok_status_str (st));
    return 1;
  }
  int rc = print_tokens (vocab, text, add_special, parse_special);
  vlm_vocab_free (vocab);
  return rc;
}

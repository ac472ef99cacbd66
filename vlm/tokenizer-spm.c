/* gst-vlm — SentencePiece-style tokenizer ("llama" vocabs).
 *
 * The fragment is escaped (spaces become U+2581, optionally one prefixed),
 * cut into UTF-8 characters, and adjacent symbols are merged greedily:
 * always the pair whose concatenation is the vocab token with the highest
 * score, leftmost first on ties. A final symbol that is not a token is
 * written as its bytes through the <0xXX> byte tokens.
 */
#include <stdlib.h>
#include <string.h>

#include "tokenizer-private.h"
#include "utf8.h"

#define SPACE_ESCAPE "\xe2\x96\x81"   /* U+2581 LOWER ONE EIGHTH BLOCK */
#define SPACE_ESCAPE_LEN 3

typedef struct {
  const vlm_vocab *vocab;
  const char *text;       /* escaped text */
  vlm__symbol *sym;
  vlm__heap heap;
} spm_state;

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

/* Writes the escaped form of text[len] to out; returns its length. */
static size_t
escape_spaces (const char *text, size_t len, bool space_prefix, char *out)
{
  size_t n = 0;

  if (space_prefix) {
    memcpy (out, SPACE_ESCAPE, SPACE_ESCAPE_LEN);
    n = SPACE_ESCAPE_LEN;
  }
  for (size_t i = 0; i < len; i++) {
    if (text[i] == ' ') {
      memcpy (out + n, SPACE_ESCAPE, SPACE_ESCAPE_LEN);
      n += SPACE_ESCAPE_LEN;
    } else {
      out[n++] = text[i];
    }
  }
  return n;
}

/* Queues the merge of symbols left and right if it makes a token. */
static bool
try_add_bigram (spm_state *s, int32_t left, int32_t right)
{
  if (left < 0 || right < 0)
    return true;
  const vlm__symbol *l = &s->sym[left], *r = &s->sym[right];
  uint32_t size = l->n + r->n;
  /* Adjacent symbols are contiguous in the text. */
  vlm_token t = vlm__find_plain (s->vocab, s->text + l->start, size);
  if (t == VLM_TOKEN_NULL)
    return true;
  vlm__bigram b = { s->vocab->tokens[t].score, left, right, size };
  return vlm__heap_push (&s->heap, b);
}

/* Writes the tokens of one final symbol. */
static void
emit_symbol (const spm_state *s, const vlm__symbol *sym, vlm__tok_out *out)
{
  const char *p = s->text + sym->start;
  vlm_token t = vlm__find_plain (s->vocab, p, sym->n);

  if (t != VLM_TOKEN_NULL) {
    vlm__out_push (out, t);
    return;
  }
  for (uint32_t i = 0; i < sym->n; i++)
    vlm__out_push_byte (s->vocab, out, (uint8_t) p[i]);
}

/* ------------------------------------------------------------------ */
/* Merging                                                             */
/* ------------------------------------------------------------------ */

/* Merges the symbols first..last (a closed list) as far as possible. */
static bool
merge_segment (spm_state *s, int32_t first, int32_t last)
{
  vlm__bigram b;

  s->heap.n = 0;
  for (int32_t i = first; i < last; i++)
    if (!try_add_bigram (s, i, i + 1))
      return false;

  while (vlm__heap_pop (&s->heap, &b)) {
    vlm__symbol *l = &s->sym[b.left], *r = &s->sym[b.right];
    /* Stale: one side was merged away or grew since it was queued. */
    if (l->n == 0 || r->n == 0 || l->n + r->n != b.size)
      continue;
    l->n += r->n;
    r->n = 0;
    l->next = r->next;
    if (r->next >= 0)
      s->sym[r->next].prev = b.left;
    if (!try_add_bigram (s, l->prev, b.left)
        || !try_add_bigram (s, b.left, l->next))
      return false;
  }
  return true;
}

static bool
is_space_symbol (const spm_state *s, int32_t i)
{
  return s->sym[i].n == SPACE_ESCAPE_LEN
      && memcmp (s->text + s->sym[i].start, SPACE_ESCAPE,
      SPACE_ESCAPE_LEN) == 0;
}

/* Where no vocab token has U+2581 right after another character, no
 * merge can cross the start of a space run: such runs start segments
 * that are merged independently (same result, much smaller queues). */
static int32_t
segment_end (const spm_state *s, int32_t first, int32_t n_sym)
{
  int32_t i = first + 1;

  if (!s->vocab->spm_split_at_space)
    return n_sym - 1;
  while (i < n_sym && !(is_space_symbol (s, i) && !is_space_symbol (s, i - 1)))
    i++;
  return i - 1;
}

bool
vlm__spm_tokenize (const vlm_vocab *v, const char *text, size_t len,
    bool space_prefix, vlm__tok_out *out)
{
  spm_state s = { v, NULL, NULL, { 0 } };
  bool ok = false;
  int32_t n_sym = 0;

  if (len == 0 && !space_prefix)
    return true;
  /* Escaping at most triples the size; one symbol per byte at most. */
  size_t cap = SPACE_ESCAPE_LEN * (len + 1);
  char *esc = malloc (cap);
  if (esc == NULL)
    goto done;
  s.text = esc;
  size_t n = escape_spaces (text, len, space_prefix, esc);
  if ((s.sym = malloc (n * sizeof (*s.sym))) == NULL)
    goto done;

  /* One symbol per UTF-8 character (an invalid byte stands alone). */
  for (size_t i = 0; i < n; n_sym++) {
    size_t cl = vlm_utf8_char_len ((const uint8_t *) esc + i, n - i);
    s.sym[n_sym] = (vlm__symbol) { (uint32_t) i, (uint32_t) cl, n_sym - 1,
      n_sym + 1, VLM_TOKEN_NULL };
    i += cl;
  }

  for (int32_t first = 0; first < n_sym;) {
    int32_t last = segment_end (&s, first, n_sym);
    s.sym[first].prev = -1;
    s.sym[last].next = -1;
    if (!merge_segment (&s, first, last))
      goto done;
    for (int32_t i = first; i != -1; i = s.sym[i].next)
      emit_symbol (&s, &s.sym[i], out);
    first = last + 1;
  }
  ok = true;

done:
  free (esc);
  free (s.sym);
  free (s.heap.v);
  return ok;
}

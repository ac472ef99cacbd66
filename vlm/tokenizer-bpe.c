/* gst-vlm — byte-level BPE tokenizer ("gpt2" vocabs).
 *
 * The fragment is first cut into words by the GPT-2 pre-tokenizer, whose
 * regex is evaluated by hand on code points:
 *   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+
 *   |\s+(?!\S)|\s+
 * Each word's bytes start as one symbol each (the token of the byte's
 * mapped code point); the adjacent pair with the lowest merge rank is
 * merged until no listed merge applies, leftmost first on ties.
 *
 * Bytes that are not valid UTF-8 count as one code point each, of no
 * category (like punctuation), and keep their own byte value.
 */
#include <stdlib.h>
#include <string.h>

#include "tokenizer-private.h"
#include "unicode.h"
#include "utf8.h"

/* Extra flag: a code point exists at this index (not past the end). */
#define CP_PRESENT 0x80

/* ------------------------------------------------------------------ */
/* GPT-2 byte <-> code point mapping                                   */
/* ------------------------------------------------------------------ */

/* Printable bytes ('!'..'~', U+00A1..U+00AC, U+00AE..U+00FF) map to
 * themselves; the 68 others, in byte order, to U+0100 upwards. */
uint32_t
vlm__bpe_byte_to_cp (uint8_t b)
{
  if (b <= 0x20)
    return 0x100 + b;                   /* 0x00..0x20 -> U+0100..U+0120 */
  if (b >= 0x7f && b <= 0xa0)
    return 0x121 + (b - 0x7f);          /* 0x7F..0xA0 -> U+0121..U+0142 */
  if (b == 0xad)
    return 0x143;
  return b;
}

int
vlm__bpe_cp_to_byte (uint32_t cp)
{
  if (cp < 0x100)
    return (cp <= 0x20 || (cp >= 0x7f && cp <= 0xa0) || cp == 0xad)
        ? -1 : (int) cp;
  if (cp <= 0x120)
    return (int) (cp - 0x100);
  if (cp <= 0x142)
    return (int) (cp - 0x121 + 0x7f);
  if (cp == 0x143)
    return 0xad;
  return -1;
}

/* ------------------------------------------------------------------ */
/* Pre-tokenizer                                                       */
/* ------------------------------------------------------------------ */

typedef struct {
  uint32_t *cp;     /* code points (invalid bytes: 0xFFFFFFFF) */
  uint8_t *flags;   /* VLM_UC_* | CP_PRESENT */
  uint32_t *off;    /* byte offset of each code point, n + 1 entries */
  uint32_t n;
} cp_text;

static bool
decode_text (const char *text, size_t len, cp_text *t)
{
  t->cp = malloc (len * sizeof (*t->cp));
  t->flags = malloc (len);
  t->off = malloc ((len + 1) * sizeof (*t->off));
  if (t->cp == NULL || t->flags == NULL || t->off == NULL)
    return false;

  uint32_t n = 0;
  for (size_t i = 0; i < len; n++) {
    uint32_t cp;
    int r = vlm_utf8_decode ((const uint8_t *) text + i, len - i, &cp);
    t->off[n] = (uint32_t) i;
    if (r > 0) {
      t->cp[n] = cp;
      t->flags[n] = (uint8_t) (vlm_unicode_flags (cp) | CP_PRESENT);
      i += (size_t) r;
    } else {
      t->cp[n] = UINT32_MAX;
      t->flags[n] = CP_PRESENT;
      i++;
    }
  }
  t->off[n] = (uint32_t) len;
  t->n = n;
  return true;
}

static uint8_t
flags_at (const cp_text *t, uint32_t i)
{
  return i < t->n ? t->flags[i] : 0;
}

static bool
is_other (uint8_t f)
{
  return (f & CP_PRESENT)
      && !(f & (VLM_UC_LETTER | VLM_UC_NUMBER | VLM_UC_WHITESPACE));
}

/* Length in code points of an English contraction at i ('s 't 're 've
 * 'm 'll 'd, lower case only), or 0. */
static uint32_t
contraction_len (const cp_text *t, uint32_t i)
{
  if (t->cp[i] != '\'' || i + 1 >= t->n)
    return 0;
  uint32_t c1 = t->cp[i + 1];
  if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd')
    return 2;
  if (i + 2 >= t->n)
    return 0;
  uint32_t c2 = t->cp[i + 2];
  if ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e')
      || (c1 == 'l' && c2 == 'l'))
    return 3;
  return 0;
}

/* Length in code points of the word starting at code point i. */
static uint32_t
word_len (const cp_text *t, uint32_t i)
{
  uint32_t k = contraction_len (t, i);
  if (k > 0)
    return k;

  /* " ?X+" for X = letters, numbers, others: one optional leading space. */
  uint32_t lead = t->cp[i] == ' ' ? 1 : 0;
  uint8_t f = flags_at (t, i + lead);
  uint32_t j = i + lead;
  if (f & VLM_UC_LETTER) {
    while (flags_at (t, j) & VLM_UC_LETTER)
      j++;
    return j - i;
  }
  if (f & VLM_UC_NUMBER) {
    while (flags_at (t, j) & VLM_UC_NUMBER)
      j++;
    return j - i;
  }
  if (is_other (f)) {
    while (is_other (flags_at (t, j)))
      j++;
    return j - i;
  }

  /* "\s+(?!\S)": a run of spaces leaves its last one to the next word;
   * "\s+": otherwise (run of one, or at the end) take it all. */
  uint32_t ws = 0;
  while (flags_at (t, i + ws) & VLM_UC_WHITESPACE)
    ws++;
  if (ws > 1 && i + ws < t->n)
    return ws - 1;
  return ws > 0 ? ws : 1;
}

/* ------------------------------------------------------------------ */
/* Merging one word                                                    */
/* ------------------------------------------------------------------ */

typedef struct {
  const vlm_vocab *vocab;
  vlm__symbol *sym;
  vlm__heap heap;
} bpe_state;

/* Queues the merge of symbols left and right if the vocab lists one. */
static bool
try_add_bigram (bpe_state *s, int32_t left, int32_t right)
{
  int32_t rank;
  vlm_token result;

  if (left < 0 || right < 0)
    return true;
  const vlm__symbol *l = &s->sym[left], *r = &s->sym[right];
  if (l->id == VLM_TOKEN_NULL || r->id == VLM_TOKEN_NULL
      || !vlm__bpe_merge_find (s->vocab, l->id, r->id, &rank, &result))
    return true;
  vlm__bigram b = { -(double) rank, left, right, l->n + r->n };
  return vlm__heap_push (&s->heap, b);
}

static bool
merge_word (bpe_state *s, const uint8_t *w, uint32_t n, vlm__tok_out *out)
{
  vlm__bigram b;
  int32_t rank;

  s->heap.n = 0;
  for (uint32_t i = 0; i < n; i++)
    s->sym[i] = (vlm__symbol) { i, 1, (int32_t) i - 1,
      i + 1 < n ? (int32_t) i + 1 : -1, s->vocab->byte_token[w[i]] };
  for (uint32_t i = 0; i + 1 < n; i++)
    if (!try_add_bigram (s, (int32_t) i, (int32_t) i + 1))
      return false;

  while (vlm__heap_pop (&s->heap, &b)) {
    vlm__symbol *l = &s->sym[b.left], *r = &s->sym[b.right];
    /* Stale: one side was merged away or grew since it was queued. */
    if (l->n == 0 || r->n == 0 || l->n + r->n != b.size)
      continue;
    vlm__bpe_merge_find (s->vocab, l->id, r->id, &rank, &l->id);
    l->n += r->n;
    r->n = 0;
    l->next = r->next;
    if (r->next >= 0)
      s->sym[r->next].prev = b.left;
    if (!try_add_bigram (s, l->prev, b.left)
        || !try_add_bigram (s, b.left, l->next))
      return false;
  }

  for (int32_t i = 0; i != -1; i = s->sym[i].next) {
    const vlm__symbol *sym = &s->sym[i];
    if (sym->id != VLM_TOKEN_NULL) {
      vlm__out_push (out, sym->id);
      continue;
    }
    for (uint32_t k = 0; k < sym->n; k++)
      vlm__out_push_byte (s->vocab, out, w[sym->start + k]);
  }
  return true;
}

/* ------------------------------------------------------------------ */
/* Entry point                                                         */
/* ------------------------------------------------------------------ */

bool
vlm__bpe_tokenize (const vlm_vocab *v, const char *text, size_t len,
    vlm__tok_out *out)
{
  cp_text t = { 0 };
  bpe_state s = { v, NULL, { 0 } };
  bool ok = false;

  if (len == 0)
    return true;
  if (!decode_text (text, len, &t)
      || (s.sym = malloc (len * sizeof (*s.sym))) == NULL)
    goto done;

  for (uint32_t i = 0; i < t.n;) {
    uint32_t k = word_len (&t, i);
    const uint8_t *w = (const uint8_t *) text + t.off[i];
    uint32_t nb = t.off[i + k] - t.off[i];
    if (nb == 1)
      vlm__out_push_byte (v, out, w[0]);
    else if (!merge_word (&s, w, nb, out))
      goto done;
    i += k;
  }
  ok = true;

done:
  free (t.cp);
  free (t.flags);
  free (t.off);
  free (s.sym);
  free (s.heap.v);
  return ok;
}

/* gst-vlm — tokenizer: vocab loading, special tokens, detokenization.
 *
 * The per-family merge algorithms live in tokenizer-spm.c and
 * tokenizer-bpe.c; this file holds everything they share.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer-private.h"
#include "utf8.h"

/* Longest accepted input: keeps every count below INT32_MAX. */
#define MAX_TEXT_LEN ((size_t) INT32_MAX / 4)

/* ------------------------------------------------------------------ */
/* Hashing                                                             */
/* ------------------------------------------------------------------ */

/* FNV-1a, 32 bits: short keys, good enough spread for open addressing. */
static uint32_t
hash_bytes (const char *s, size_t len)
{
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < len; i++) {
    h ^= (uint8_t) s[i];
    h *= 16777619u;
  }
  return h;
}

static uint32_t
hash_pair (uint64_t key)
{
  key ^= key >> 33;
  key *= 0xff51afd7ed558ccdull;
  key ^= key >> 33;
  return (uint32_t) key;
}

/* Smallest power of two >= 2 * n (at least 16). */
static uint32_t
table_size (uint64_t n)
{
  uint32_t size = 16;
  while (size < 2 * n)
    size *= 2;
  return size;
}

/* ------------------------------------------------------------------ */
/* Text -> id map                                                      */
/* ------------------------------------------------------------------ */

static const char *
tok_text (const vlm_vocab *v, vlm_token id)
{
  return v->text_pool + v->tokens[id].text_off;
}

/* Inserts token `id`; a later token with the same text replaces it. */
static void
map_insert (vlm_vocab *v, vlm_token id)
{
  const vlm__tok_entry *e = &v->tokens[id];
  uint32_t h = hash_bytes (tok_text (v, id), e->text_len);
  uint32_t i = h & v->map_mask;

  for (;; i = (i + 1) & v->map_mask) {
    vlm__str_slot *s = &v->map[i];
    if (s->id < 0 || (s->hash == h
            && v->tokens[s->id].text_len == e->text_len
            && memcmp (tok_text (v, s->id), tok_text (v, id),
                e->text_len) == 0)) {
      s->hash = h;
      s->id = id;
      return;
    }
  }
}

vlm_token
vlm_vocab_find (const vlm_vocab *v, const char *text, size_t len)
{
  uint32_t h = hash_bytes (text, len);
  uint32_t i = h & v->map_mask;

  for (;; i = (i + 1) & v->map_mask) {
    const vlm__str_slot *s = &v->map[i];
    if (s->id < 0)
      return VLM_TOKEN_NULL;
    if (s->hash == h && v->tokens[s->id].text_len == len
        && memcmp (tok_text (v, s->id), text, len) == 0)
      return s->id;
  }
}

/* ------------------------------------------------------------------ */
/* (left, right) -> merge map (BPE)                                    */
/* ------------------------------------------------------------------ */

static uint64_t
pair_key (vlm_token left, vlm_token right)
{
  return ((uint64_t) (uint32_t) left << 32) | (uint32_t) right;
}

/* Inserts a merge unless the pair is already there (lower rank wins). */
static void
merge_insert (vlm_vocab *v, vlm_token left, vlm_token right, int32_t rank,
    vlm_token result)
{
  uint64_t key = pair_key (left, right);
  uint32_t i = hash_pair (key) & v->merges_mask;

  for (;; i = (i + 1) & v->merges_mask) {
    vlm__pair_slot *s = &v->merges[i];
    if (s->key == key)
      return;
    if (s->key == VLM__PAIR_EMPTY) {
      s->key = key;
      s->rank = rank;
      s->result = result;
      return;
    }
  }
}

bool
vlm__bpe_merge_find (const vlm_vocab *v, vlm_token left, vlm_token right,
    int32_t *rank, vlm_token *result)
{
  uint64_t key = pair_key (left, right);
  uint32_t i;

  if (v->merges == NULL)
    return false;
  for (i = hash_pair (key) & v->merges_mask;; i = (i + 1) & v->merges_mask) {
    const vlm__pair_slot *s = &v->merges[i];
    if (s->key == VLM__PAIR_EMPTY)
      return false;
    if (s->key == key) {
      *rank = s->rank;
      *result = s->result;
      return true;
    }
  }
}

/* ------------------------------------------------------------------ */
/* Bigram priority queue (binary max-heap)                             */
/* ------------------------------------------------------------------ */

/* true when a must pop before b. */
static bool
bigram_before (const vlm__bigram *a, const vlm__bigram *b)
{
  return a->prio > b->prio || (a->prio == b->prio && a->left < b->left);
}

bool
vlm__heap_push (vlm__heap *h, vlm__bigram b)
{
  if (h->n == h->cap) {
    size_t cap = h->cap ? h->cap * 2 : 64;
    vlm__bigram *nv = realloc (h->v, cap * sizeof (*nv));
    if (nv == NULL)
      return false;
    h->v = nv;
    h->cap = cap;
  }
  size_t i = h->n++;
  while (i > 0) {
    size_t parent = (i - 1) / 2;
    if (!bigram_before (&b, &h->v[parent]))
      break;
    h->v[i] = h->v[parent];
    i = parent;
  }
  h->v[i] = b;
  return true;
}

bool
vlm__heap_pop (vlm__heap *h, vlm__bigram *b)
{
  if (h->n == 0)
    return false;
  *b = h->v[0];
  vlm__bigram last = h->v[--h->n];
  size_t i = 0;
  for (;;) {
    size_t c = 2 * i + 1;
    if (c >= h->n)
      break;
    if (c + 1 < h->n && bigram_before (&h->v[c + 1], &h->v[c]))
      c++;
    if (!bigram_before (&h->v[c], &last))
      break;
    h->v[i] = h->v[c];
    i = c;
  }
  if (h->n > 0)
    h->v[i] = last;
  return true;
}

/* ------------------------------------------------------------------ */
/* Loading: errors                                                     */
/* ------------------------------------------------------------------ */

typedef struct {
  vlm_tok_status status;
  char *msg;
  size_t msg_size;
} load_err;

static bool fail (load_err *e, vlm_tok_status st, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

/* Records the first error; always returns false. */
static bool
fail (load_err *e, vlm_tok_status st, const char *fmt, ...)
{
  va_list ap;

  if (e->status != VLM_TOK_OK)
    return false;
  e->status = st;
  if (e->msg != NULL && e->msg_size > 0) {
    va_start (ap, fmt);
    vsnprintf (e->msg, e->msg_size, fmt, ap);
    va_end (ap);
  }
  return false;
}

const char *
vlm_tok_status_str (vlm_tok_status s)
{
  switch (s) {
    case VLM_TOK_OK:
      return "success";
    case VLM_TOK_ERR_IO:
      return "cannot open GGUF file";
    case VLM_TOK_ERR_MISSING:
      return "missing tokenizer metadata";
    case VLM_TOK_ERR_UNSUPPORTED:
      return "unsupported tokenizer model";
    case VLM_TOK_ERR_CORRUPT:
      return "inconsistent tokenizer metadata";
    case VLM_TOK_ERR_NOMEM:
      return "out of memory";
  }
  return "unknown status";
}

/* ------------------------------------------------------------------ */
/* Loading: token table                                                */
/* ------------------------------------------------------------------ */

/* Reads a per-token numeric array; absent is fine (*arr->n set to 0). */
static bool
get_token_array (const vlm_gguf *g, const char *key, int64_t n,
    bool want_float, vlm_gguf_array *arr, load_err *e)
{
  vlm_gguf_status st = vlm_gguf_get_array (g, key, arr);

  if (st == VLM_GGUF_ERR_NOT_FOUND) {
    arr->n = 0;
    return true;
  }
  bool is_float = st == VLM_GGUF_OK && (arr->type == VLM_GGUF_FLOAT32
      || arr->type == VLM_GGUF_FLOAT64);
  bool is_int = st == VLM_GGUF_OK && arr->type != VLM_GGUF_STRING
      && arr->type != VLM_GGUF_BOOL && !is_float;
  if (st != VLM_GGUF_OK || (want_float ? !is_float : !is_int))
    return fail (e, VLM_TOK_ERR_CORRUPT, "%s: not a %s array", key,
        want_float ? "float" : "integer");
  if ((int64_t) arr->n != n)
    return fail (e, VLM_TOK_ERR_CORRUPT,
        "%s has %llu entries for %lld tokens", key,
        (unsigned long long) arr->n, (long long) n);
  return true;
}

/* Copies token texts, scores and types into the vocab. */
static bool
load_tokens (vlm_vocab *v, const vlm_gguf *g, load_err *e)
{
  vlm_gguf_array toks, scores, types;
  uint64_t pool = 0;

  if (vlm_gguf_get_array (g, "tokenizer.ggml.tokens", &toks) != VLM_GGUF_OK)
    return fail (e, VLM_TOK_ERR_MISSING, "tokenizer.ggml.tokens is missing");
  if (toks.type != VLM_GGUF_STRING || toks.n == 0 || toks.n > INT32_MAX / 2)
    return fail (e, VLM_TOK_ERR_CORRUPT,
        "tokenizer.ggml.tokens: not a non-empty string array");
  v->n_tokens = (int32_t) toks.n;
  if (!get_token_array (g, "tokenizer.ggml.scores", v->n_tokens, true,
          &scores, e)
      || !get_token_array (g, "tokenizer.ggml.token_type", v->n_tokens,
          false, &types, e))
    return false;

  for (int32_t i = 0; i < v->n_tokens; i++)
    pool += toks.strs[i].len + 1;
  if (pool > UINT32_MAX / 2)
    return fail (e, VLM_TOK_ERR_CORRUPT, "token texts too large");
  v->tokens = calloc ((size_t) toks.n, sizeof (*v->tokens));
  v->text_pool = malloc (pool);
  if (v->tokens == NULL || v->text_pool == NULL)
    return fail (e, VLM_TOK_ERR_NOMEM, "out of memory for %d tokens",
        v->n_tokens);

  uint32_t off = 0;
  for (int32_t i = 0; i < v->n_tokens; i++) {
    vlm__tok_entry *t = &v->tokens[i];
    t->text_off = off;
    t->text_len = (uint32_t) toks.strs[i].len;
    memcpy (v->text_pool + off, toks.strs[i].ptr, t->text_len);
    v->text_pool[off + t->text_len] = '\0';
    off += t->text_len + 1;
    t->score = scores.n ? vlm_gguf_arr_f32 (&scores, (uint64_t) i) : 0.0f;
    int64_t ty = types.n ? vlm_gguf_arr_i64 (&types, (uint64_t) i)
        : VLM_TOKEN_TYPE_NORMAL;
    t->type = (ty >= 0 && ty <= VLM_TOKEN_TYPE_BYTE) ? (uint8_t) ty
        : VLM_TOKEN_TYPE_UNDEFINED;
  }
  return true;
}

static bool
build_token_map (vlm_vocab *v, load_err *e)
{
  uint32_t size = table_size ((uint64_t) v->n_tokens);

  v->map = malloc (size * sizeof (*v->map));
  if (v->map == NULL)
    return fail (e, VLM_TOK_ERR_NOMEM, "out of memory for the token map");
  v->map_mask = size - 1;
  for (uint32_t i = 0; i < size; i++)
    v->map[i].id = -1;
  for (int32_t i = 0; i < v->n_tokens; i++)
    map_insert (v, i);
  return true;
}

/* ------------------------------------------------------------------ */
/* Loading: special ids and flags                                      */
/* ------------------------------------------------------------------ */

/* Reads an optional token id key; keeps *id when absent. */
static bool
get_id (vlm_vocab *v, const vlm_gguf *g, const char *key, vlm_token *id,
    load_err *e)
{
  int64_t val;
  vlm_gguf_status st = vlm_gguf_get_i64 (g, key, &val);

  if (st == VLM_GGUF_ERR_NOT_FOUND)
    return true;
  if (st != VLM_GGUF_OK)
    return fail (e, VLM_TOK_ERR_CORRUPT, "%s: not an integer", key);
  if (val == -1) {
    *id = VLM_TOKEN_NULL;
    return true;
  }
  if (val < 0 || val >= v->n_tokens)
    return fail (e, VLM_TOK_ERR_CORRUPT, "%s = %lld is not a token id (%d "
        "tokens)", key, (long long) val, v->n_tokens);
  *id = (vlm_token) val;
  return true;
}

/* Reads an optional bool key; keeps *flag when absent. */
static bool
get_flag (const vlm_gguf *g, const char *key, bool *flag, load_err *e)
{
  vlm_gguf_status st = vlm_gguf_get_bool (g, key, flag);

  if (st == VLM_GGUF_OK || st == VLM_GGUF_ERR_NOT_FOUND)
    return true;
  return fail (e, VLM_TOK_ERR_CORRUPT, "%s: not a bool", key);
}

static bool
load_specials (vlm_vocab *v, const vlm_gguf *g, load_err *e)
{
  /* Defaults when the keys are absent: SentencePiece conventions. */
  bool spm = v->kind == VLM_VOCAB_SPM;
  v->bos = spm ? 1 : VLM_TOKEN_NULL;
  v->eos = spm ? 2 : VLM_TOKEN_NULL;
  v->unk = spm ? 0 : VLM_TOKEN_NULL;
  v->pad = v->eot = v->eom = VLM_TOKEN_NULL;
  if (v->n_tokens < 3)
    v->bos = v->eos = v->unk = VLM_TOKEN_NULL;
  v->add_bos = spm;
  v->add_eos = false;
  v->add_space_prefix = spm;

  return get_id (v, g, "tokenizer.ggml.bos_token_id", &v->bos, e)
      && get_id (v, g, "tokenizer.ggml.eos_token_id", &v->eos, e)
      && get_id (v, g, "tokenizer.ggml.unknown_token_id", &v->unk, e)
      && get_id (v, g, "tokenizer.ggml.padding_token_id", &v->pad, e)
      && get_id (v, g, "tokenizer.ggml.eot_token_id", &v->eot, e)
      && get_id (v, g, "tokenizer.ggml.eom_token_id", &v->eom, e)
      && get_flag (g, "tokenizer.ggml.add_bos_token", &v->add_bos, e)
      && get_flag (g, "tokenizer.ggml.add_eos_token", &v->add_eos, e)
      && get_flag (g, "tokenizer.ggml.add_space_prefix",
          &v->add_space_prefix, e);
}

/* Control token texts that conventionally end a generated turn. */
static const char *const eog_texts[] = {
  "<|endoftext|>", "<|im_end|>", "<|end|>", "<|eot_id|>", "<|eom_id|>",
  "<end_of_turn>", "<|end_of_text|>", "<EOT>",
};

static void
mark_eog (vlm_vocab *v)
{
  vlm_token ids[] = { v->eos, v->eot, v->eom };

  for (size_t i = 0; i < sizeof (ids) / sizeof (ids[0]); i++)
    if (ids[i] != VLM_TOKEN_NULL)
      v->tokens[ids[i]].eog = true;
  for (size_t i = 0; i < sizeof (eog_texts) / sizeof (eog_texts[0]); i++) {
    vlm_token t = vlm_vocab_find (v, eog_texts[i], strlen (eog_texts[i]));
    if (t != VLM_TOKEN_NULL && v->tokens[t].type == VLM_TOKEN_TYPE_CONTROL)
      v->tokens[t].eog = true;
  }
}

static bool
collect_specials (vlm_vocab *v, load_err *e)
{
  int32_t n = 0;

  for (int32_t i = 0; i < v->n_tokens; i++)
    n += (v->tokens[i].type == VLM_TOKEN_TYPE_CONTROL
        || v->tokens[i].type == VLM_TOKEN_TYPE_USER_DEFINED)
        && v->tokens[i].text_len > 0;
  if (n == 0)
    return true;
  v->specials = malloc ((size_t) n * sizeof (*v->specials));
  if (v->specials == NULL)
    return fail (e, VLM_TOK_ERR_NOMEM, "out of memory");
  for (int32_t i = 0; i < v->n_tokens; i++)
    if ((v->tokens[i].type == VLM_TOKEN_TYPE_CONTROL
            || v->tokens[i].type == VLM_TOKEN_TYPE_USER_DEFINED)
        && v->tokens[i].text_len > 0)
      v->specials[v->n_specials++] = i;
  /* Longer texts first; stable, so equal lengths stay in id order. */
  for (int32_t i = 1; i < n; i++) {
    vlm_token t = v->specials[i];
    int32_t j = i;
    while (j > 0 && v->tokens[v->specials[j - 1]].text_len
        < v->tokens[t].text_len) {
      v->specials[j] = v->specials[j - 1];
      j--;
    }
    v->specials[j] = t;
  }
  return true;
}

/* ------------------------------------------------------------------ */
/* Loading: byte tokens and detokenized pieces                         */
/* ------------------------------------------------------------------ */

static void
find_byte_tokens (vlm_vocab *v)
{
  char buf[8];

  for (int b = 0; b < 256; b++) {
    int n;
    if (v->kind == VLM_VOCAB_SPM)
      n = snprintf (buf, sizeof (buf), "<0x%02X>", b);
    else
      n = vlm_utf8_encode (vlm__bpe_byte_to_cp ((uint8_t) b), buf);
    v->byte_token[b] = vlm_vocab_find (v, buf, (size_t) n);
  }
}

/* "<0xXX>" -> XX, or -1. */
static int
parse_byte_token (const char *s, uint32_t len)
{
  unsigned val;
  char tail;

  if (len != 6 || sscanf (s, "<0x%2x%c", &val, &tail) != 2 || tail != '>')
    return -1;
  return (int) val;
}

/* SPM piece: U+2581 becomes a space. Returns the length written. */
static uint32_t
spm_unescape (const char *s, uint32_t len, char *out)
{
  uint32_t n = 0;

  for (uint32_t i = 0; i < len;) {
    if (i + 3 <= len && memcmp (s + i, "\xe2\x96\x81", 3) == 0) {
      out[n++] = ' ';
      i += 3;
    } else {
      out[n++] = s[i++];
    }
  }
  return n;
}

/* BPE piece: mapped code points become their bytes; anything else is
 * copied unchanged. Returns the length written. */
static uint32_t
bpe_unmap (const char *s, uint32_t len, char *out)
{
  uint32_t n = 0;

  for (uint32_t i = 0; i < len;) {
    uint32_t cp;
    int r = vlm_utf8_decode ((const uint8_t *) s + i, len - i, &cp);
    int b = r > 0 ? vlm__bpe_cp_to_byte (cp) : -1;
    if (b >= 0) {
      out[n++] = (char) b;
      i += (uint32_t) r;
    } else {
      uint32_t k = r > 0 ? (uint32_t) r : (r < 0 ? (uint32_t) -r : len - i);
      memcpy (out + n, s + i, k);
      n += k;
      i += k;
    }
  }
  return n;
}

/* Writes the piece of token `id` at out; returns its length. */
static uint32_t
make_piece (vlm_vocab *v, vlm_token id, char *out)
{
  vlm__tok_entry *t = &v->tokens[id];
  const char *s = tok_text (v, id);
  int byte;

  switch (t->type) {
    case VLM_TOKEN_TYPE_NORMAL:
      if (v->kind == VLM_VOCAB_SPM)
        return spm_unescape (s, t->text_len, out);
      return bpe_unmap (s, t->text_len, out);
    case VLM_TOKEN_TYPE_BYTE:
      byte = parse_byte_token (s, t->text_len);
      if (byte >= 0) {
        out[0] = (char) byte;
        return 1;
      }
      break;
    case VLM_TOKEN_TYPE_CONTROL:
    case VLM_TOKEN_TYPE_UNKNOWN:
      t->special_piece = true;
      break;
    case VLM_TOKEN_TYPE_USER_DEFINED:
      break;
    default:
      return 0;                 /* unused / undefined: render nothing */
  }
  memcpy (out, s, t->text_len);
  return t->text_len;
}

static bool
build_pieces (vlm_vocab *v, load_err *e)
{
  vlm__tok_entry *last = &v->tokens[v->n_tokens - 1];
  uint32_t off = 0;

  /* A piece is never longer than its text: the text pool size fits. */
  v->piece_pool = malloc ((size_t) last->text_off + last->text_len + 1);
  if (v->piece_pool == NULL)
    return fail (e, VLM_TOK_ERR_NOMEM, "out of memory for pieces");
  for (int32_t i = 0; i < v->n_tokens; i++) {
    v->tokens[i].piece_off = off;
    v->tokens[i].piece_len = make_piece (v, i, v->piece_pool + off);
    off += v->tokens[i].piece_len;
  }
  return true;
}

/* Sets spm_split_at_space: true unless a token has U+2581 after another
 * character (UTF-8 self-synchronises: the 3 bytes before tell). */
static void
check_space_split (vlm_vocab *v)
{
  v->spm_split_at_space = v->kind == VLM_VOCAB_SPM;
  for (int32_t i = 0; i < v->n_tokens && v->spm_split_at_space; i++) {
    const char *s = tok_text (v, i);
    uint32_t len = v->tokens[i].text_len;
    for (uint32_t k = 1; k + 3 <= len; k++)
      if (memcmp (s + k, "\xe2\x96\x81", 3) == 0
          && (k < 3 || memcmp (s + k - 3, "\xe2\x96\x81", 3) != 0)) {
        v->spm_split_at_space = false;
        break;
      }
  }
}

/* ------------------------------------------------------------------ */
/* Loading: BPE merges                                                 */
/* ------------------------------------------------------------------ */

vlm_token
vlm__find_plain (const vlm_vocab *v, const char *text, size_t len)
{
  vlm_token t = vlm_vocab_find (v, text, len);
  if (t != VLM_TOKEN_NULL && (v->tokens[t].type == VLM_TOKEN_TYPE_CONTROL
          || v->tokens[t].type == VLM_TOKEN_TYPE_UNKNOWN))
    return VLM_TOKEN_NULL;
  return t;
}

/* Each merge "LEFT RIGHT" (split at the first space after the first
 * byte) becomes (id LEFT, id RIGHT) -> (rank, id LEFTRIGHT). Merges whose
 * halves are not tokens can never apply and are dropped. */
static bool
load_merges (vlm_vocab *v, const vlm_gguf *g, load_err *e)
{
  vlm_gguf_array arr;
  char *cat = NULL;
  size_t cat_cap = 0;

  if (vlm_gguf_get_array (g, "tokenizer.ggml.merges", &arr) != VLM_GGUF_OK)
    return fail (e, VLM_TOK_ERR_MISSING, "tokenizer.ggml.merges is missing "
        "(required by the gpt2 tokenizer)");
  if (arr.type != VLM_GGUF_STRING || arr.n > INT32_MAX / 4)
    return fail (e, VLM_TOK_ERR_CORRUPT, "tokenizer.ggml.merges: not a "
        "string array");
  uint32_t size = table_size (arr.n);
  v->merges = malloc (size * sizeof (*v->merges));
  if (v->merges == NULL)
    return fail (e, VLM_TOK_ERR_NOMEM, "out of memory for merges");
  v->merges_mask = size - 1;
  for (uint32_t i = 0; i < size; i++)
    v->merges[i].key = VLM__PAIR_EMPTY;

  for (uint64_t i = 0; i < arr.n; i++) {
    const vlm_gguf_str *m = &arr.strs[i];
    const char *sp = m->len > 1 ? memchr (m->ptr + 1, ' ', m->len - 1) : NULL;
    if (sp == NULL) {
      free (cat);
      return fail (e, VLM_TOK_ERR_CORRUPT, "merge %llu has no space",
          (unsigned long long) i);
    }
    size_t ll = (size_t) (sp - m->ptr), rl = m->len - ll - 1;
    if (m->len > cat_cap) {
      char *nc = realloc (cat, m->len);
      if (nc == NULL) {
        free (cat);
        return fail (e, VLM_TOK_ERR_NOMEM, "out of memory for merges");
      }
      cat = nc;
      cat_cap = m->len;
    }
    vlm_token left = vlm__find_plain (v, m->ptr, ll);
    vlm_token right = vlm__find_plain (v, sp + 1, rl);
    if (left == VLM_TOKEN_NULL || right == VLM_TOKEN_NULL)
      continue;
    memcpy (cat, m->ptr, ll);
    memcpy (cat + ll, sp + 1, rl);
    merge_insert (v, left, right, (int32_t) i,
        vlm__find_plain (v, cat, ll + rl));
  }
  free (cat);
  return true;
}

/* ------------------------------------------------------------------ */
/* Loading: entry points                                               */
/* ------------------------------------------------------------------ */

static bool
load_all (vlm_vocab *v, const vlm_gguf *g, load_err *e)
{
  const char *model;

  if (vlm_gguf_get_string (g, "tokenizer.ggml.model", &model) != VLM_GGUF_OK)
    return fail (e, VLM_TOK_ERR_MISSING, "tokenizer.ggml.model is missing");
  if (strcmp (model, "llama") == 0)
    v->kind = VLM_VOCAB_SPM;
  else if (strcmp (model, "gpt2") == 0)
    v->kind = VLM_VOCAB_BPE;
  else
    return fail (e, VLM_TOK_ERR_UNSUPPORTED, "unknown tokenizer model "
        "'%s' (supported: llama, gpt2)", model);

  if (!load_tokens (v, g, e) || !build_token_map (v, e)
      || !load_specials (v, g, e))
    return false;
  find_byte_tokens (v);
  check_space_split (v);
  if (!build_pieces (v, e) || !collect_specials (v, e))
    return false;
  if (v->kind == VLM_VOCAB_BPE && !load_merges (v, g, e))
    return false;
  mark_eog (v);
  return true;
}

vlm_vocab *
vlm_vocab_load (const vlm_gguf *g, vlm_tok_status *status, char *err,
    size_t err_size)
{
  load_err e = { VLM_TOK_OK, err, err_size };
  vlm_vocab *v = NULL;

  if (err != NULL && err_size > 0)
    err[0] = '\0';
  if (g == NULL)
    fail (&e, VLM_TOK_ERR_MISSING, "no GGUF handle");
  else if ((v = calloc (1, sizeof (*v))) == NULL)
    fail (&e, VLM_TOK_ERR_NOMEM, "out of memory");
  else if (!load_all (v, g, &e)) {
    vlm_vocab_free (v);
    v = NULL;
  }
  if (status != NULL)
    *status = e.status;
  return v;
}

vlm_vocab *
vlm_vocab_load_file (const char *path, vlm_tok_status *status, char *err,
    size_t err_size)
{
  vlm_gguf_status gst;
  char gerr[256];
  vlm_gguf *g = vlm_gguf_open (path, &gst, gerr, sizeof (gerr));

  if (g == NULL) {
    if (err != NULL && err_size > 0)
      snprintf (err, err_size, "%s", gerr);
    if (status != NULL)
      *status = VLM_TOK_ERR_IO;
    return NULL;
  }
  vlm_vocab *v = vlm_vocab_load (g, status, err, err_size);
  vlm_gguf_close (g);
  return v;
}

void
vlm_vocab_free (vlm_vocab *v)
{
  if (v == NULL)
    return;
  free (v->tokens);
  free (v->text_pool);
  free (v->piece_pool);
  free (v->map);
  free (v->merges);
  free (v->specials);
  free (v);
}

/* ------------------------------------------------------------------ */
/* Accessors                                                           */
/* ------------------------------------------------------------------ */

static bool
valid_id (const vlm_vocab *v, vlm_token t)
{
  return v != NULL && t >= 0 && t < v->n_tokens;
}

vlm_vocab_kind
vlm_vocab_get_kind (const vlm_vocab *v)
{
  return v->kind;
}

int32_t
vlm_vocab_n_tokens (const vlm_vocab *v)
{
  return v->n_tokens;
}

vlm_token
vlm_vocab_bos (const vlm_vocab *v)
{
  return v->bos;
}

vlm_token
vlm_vocab_eos (const vlm_vocab *v)
{
  return v->eos;
}

vlm_token
vlm_vocab_unk (const vlm_vocab *v)
{
  return v->unk;
}

vlm_token
vlm_vocab_pad (const vlm_vocab *v)
{
  return v->pad;
}

bool
vlm_vocab_add_bos (const vlm_vocab *v)
{
  return v->add_bos;
}

bool
vlm_vocab_add_eos (const vlm_vocab *v)
{
  return v->add_eos;
}

bool
vlm_vocab_add_space_prefix (const vlm_vocab *v)
{
  return v->kind == VLM_VOCAB_SPM && v->add_space_prefix;
}

const char *
vlm_vocab_token_text (const vlm_vocab *v, vlm_token t, size_t *len)
{
  if (!valid_id (v, t))
    return NULL;
  if (len != NULL)
    *len = v->tokens[t].text_len;
  return tok_text (v, t);
}

vlm_token_type
vlm_vocab_token_type (const vlm_vocab *v, vlm_token t)
{
  return valid_id (v, t) ? (vlm_token_type) v->tokens[t].type
      : VLM_TOKEN_TYPE_UNDEFINED;
}

float
vlm_vocab_token_score (const vlm_vocab *v, vlm_token t)
{
  return valid_id (v, t) ? v->tokens[t].score : 0.0f;
}

bool
vlm_vocab_is_eog (const vlm_vocab *v, vlm_token t)
{
  return valid_id (v, t) && v->tokens[t].eog;
}

/* ------------------------------------------------------------------ */
/* Tokenization: special-token partition                               */
/* ------------------------------------------------------------------ */

/* A span of the input: raw text (tok == VLM_TOKEN_NULL) or a token. */
typedef struct {
  size_t start;
  size_t len;
  vlm_token tok;
} fragment;

typedef struct {
  fragment *v;
  size_t n;
  size_t cap;
} frag_list;

static bool
frag_push (frag_list *l, size_t start, size_t len, vlm_token tok)
{
  if (tok == VLM_TOKEN_NULL && len == 0)
    return true;
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 16;
    fragment *nv = realloc (l->v, cap * sizeof (*nv));
    if (nv == NULL)
      return false;
    l->v = nv;
    l->cap = cap;
  }
  l->v[l->n++] = (fragment) { start, len, tok };
  return true;
}

/* Splits the text fragments of `in` at every occurrence of token `t`
 * into `out` (cleared first). */
static bool
split_at_special (const vlm_vocab *v, const char *text, vlm_token t,
    const frag_list *in, frag_list *out)
{
  const char *needle = tok_text (v, t);
  size_t nl = v->tokens[t].text_len;

  out->n = 0;
  for (size_t i = 0; i < in->n; i++) {
    fragment f = in->v[i];
    size_t pos = f.start, end = f.start + f.len;
    if (f.tok != VLM_TOKEN_NULL || f.len < nl) {
      if (!frag_push (out, f.start, f.len, f.tok))
        return false;
      continue;
    }
    const char *hit;
    while ((hit = memmem (text + pos, end - pos, needle, nl)) != NULL) {
      size_t at = (size_t) (hit - text);
      if (!frag_push (out, pos, at - pos, VLM_TOKEN_NULL)
          || !frag_push (out, at, nl, t))
        return false;
      pos = at + nl;
    }
    if (!frag_push (out, pos, end - pos, VLM_TOKEN_NULL))
      return false;
  }
  return true;
}

/* Fills *res with the fragments of text[len]: longer special texts are
 * carved out first, so they win over shorter ones they contain. */
static bool
partition (const vlm_vocab *v, const char *text, size_t len,
    bool parse_special, frag_list *res)
{
  frag_list tmp = { 0 };

  if (!frag_push (res, 0, len, VLM_TOKEN_NULL))
    return false;
  if (!parse_special)
    return true;
  for (int32_t i = 0; i < v->n_specials; i++) {
    if (!split_at_special (v, text, v->specials[i], res, &tmp)) {
      free (tmp.v);
      return false;
    }
    frag_list swap = *res;
    *res = tmp;
    tmp = swap;
  }
  free (tmp.v);
  return true;
}

/* ------------------------------------------------------------------ */
/* Tokenization: entry point                                           */
/* ------------------------------------------------------------------ */

int32_t
vlm_tokenize (const vlm_vocab *v, const char *text, size_t len,
    bool add_special, bool parse_special, vlm_token *out, int32_t n_max)
{
  vlm__tok_out o = { out, n_max, 0 };
  frag_list frags = { 0 };
  bool ok, prev_special = true;

  if (v == NULL || (text == NULL && len > 0) || n_max < 0
      || (n_max > 0 && out == NULL) || len > MAX_TEXT_LEN)
    return VLM_TOK_ERROR;

  if (add_special && v->add_bos && v->bos != VLM_TOKEN_NULL)
    vlm__out_push (&o, v->bos);
  ok = partition (v, text, len, parse_special, &frags);
  for (size_t i = 0; ok && i < frags.n; i++) {
    const fragment *f = &frags.v[i];
    if (f->tok != VLM_TOKEN_NULL) {
      vlm__out_push (&o, f->tok);
      prev_special = true;
      continue;
    }
    if (v->kind == VLM_VOCAB_SPM)
      ok = vlm__spm_tokenize (v, text + f->start, f->len,
          v->add_space_prefix && prev_special, &o);
    else
      ok = vlm__bpe_tokenize (v, text + f->start, f->len, &o);
    prev_special = false;
  }
  if (add_special && v->add_eos && v->eos != VLM_TOKEN_NULL)
    vlm__out_push (&o, v->eos);
  free (frags.v);

  if (!ok || o.n > INT32_MAX)
    return VLM_TOK_ERROR;
  return o.n <= n_max ? (int32_t) o.n : (int32_t) -o.n;
}

/* ------------------------------------------------------------------ */
/* Detokenization                                                      */
/* ------------------------------------------------------------------ */

/* The piece of a valid token under `flags` (strip not applied). */
static const char *
piece_of (const vlm_vocab *v, vlm_token t, int flags, uint32_t *len)
{
  const vlm__tok_entry *e = &v->tokens[t];

  if (e->special_piece && !(flags & VLM_PIECE_SPECIAL)) {
    *len = 0;
    return "";
  }
  *len = e->piece_len;
  return v->piece_pool + e->piece_off;
}

/* Applies VLM_PIECE_STRIP_LEADING_SPACE to a piece. */
static const char *
strip_space (const char *p, uint32_t *len)
{
  if (*len > 0 && p[0] == ' ') {
    (*len)--;
    return p + 1;
  }
  return p;
}

int32_t
vlm_token_to_piece (const vlm_vocab *v, vlm_token t, char *buf,
    int32_t size, int flags)
{
  uint32_t n;

  if (!valid_id (v, t) || size < 0 || (size > 0 && buf == NULL))
    return VLM_TOK_ERROR;
  const char *p = piece_of (v, t, flags, &n);
  if (flags & VLM_PIECE_STRIP_LEADING_SPACE)
    p = strip_space (p, &n);
  memcpy (buf, p, n <= (uint32_t) size ? n : (uint32_t) size);
  return n <= (uint32_t) size ? (int32_t) n : -(int32_t) n;
}

int32_t
vlm_detokenize (const vlm_vocab *v, const vlm_token *tokens, int32_t n,
    char *buf, int32_t size, int flags)
{
  bool strip = (flags & VLM_PIECE_STRIP_LEADING_SPACE) != 0;
  int64_t total = 0;

  if (v == NULL || n < 0 || (n > 0 && tokens == NULL) || size < 0
      || (size > 0 && buf == NULL))
    return VLM_TOK_ERROR;
  for (int32_t i = 0; i < n; i++) {
    uint32_t len;
    if (!valid_id (v, tokens[i]))
      return VLM_TOK_ERROR;
    const char *p = piece_of (v, tokens[i], flags, &len);
    if (strip && len > 0) {
      p = strip_space (p, &len);
      strip = false;
    }
    if (total < size)
      memcpy (buf + total, p, (size_t) (size - total) < len
          ? (size_t) (size - total) : len);
    total += len;
    if (total > INT32_MAX)
      return VLM_TOK_ERROR;
  }
  return total <= size ? (int32_t) total : (int32_t) -total;
}

/* ------------------------------------------------------------------ */
/* Streaming detokenizer                                               */
/* ------------------------------------------------------------------ */

struct vlm_detok {
  const vlm_vocab *vocab;
  int flags;
  bool started;         /* a non-empty piece went through */
  uint8_t pending[4];   /* start of an incomplete UTF-8 character */
  size_t n_pending;
  char *in;             /* pending bytes + the new piece */
  size_t in_cap;
  char *out;            /* text handed back, NUL-terminated */
  size_t out_cap;
};

vlm_detok *
vlm_detok_new (const vlm_vocab *vocab, int flags)
{
  vlm_detok *d;

  if (vocab == NULL || (d = calloc (1, sizeof (*d))) == NULL)
    return NULL;
  d->vocab = vocab;
  d->flags = flags;
  return d;
}

void
vlm_detok_free (vlm_detok *d)
{
  if (d == NULL)
    return;
  free (d->in);
  free (d->out);
  free (d);
}

static bool
grow (char **buf, size_t *cap, size_t need)
{
  if (need <= *cap)
    return true;
  size_t nc = *cap ? *cap : 64;
  while (nc < need)
    nc *= 2;
  char *nb = realloc (*buf, nc);
  if (nb == NULL)
    return false;
  *buf = nb;
  *cap = nc;
  return true;
}

/* Moves the complete characters of in[n] to d->out (invalid sequences as
 * U+FFFD) and keeps a trailing incomplete one in d->pending. */
static size_t
emit_valid (vlm_detok *d, const uint8_t *in, size_t n)
{
  size_t i = 0, o = 0;

  d->n_pending = 0;
  while (i < n) {
    uint32_t cp;
    int r = vlm_utf8_decode (in + i, n - i, &cp);
    if (r > 0) {
      memcpy (d->out + o, in + i, (size_t) r);
      o += (size_t) r;
      i += (size_t) r;
    } else if (r == 0) {
      d->n_pending = n - i;     /* < 4 bytes, a valid prefix */
      memcpy (d->pending, in + i, d->n_pending);
      break;
    } else {
      memcpy (d->out + o, VLM_UTF8_REPLACEMENT, VLM_UTF8_REPLACEMENT_LEN);
      o += VLM_UTF8_REPLACEMENT_LEN;
      i += (size_t) -r;
    }
  }
  d->out[o] = '\0';
  return o;
}

const char *
vlm_detok_push (vlm_detok *d, vlm_token token, size_t *len)
{
  uint32_t n;

  if (d == NULL || !valid_id (d->vocab, token))
    return NULL;
  const char *p = piece_of (d->vocab, token, d->flags, &n);
  if (!d->started && n > 0) {
    if (d->flags & VLM_PIECE_STRIP_LEADING_SPACE)
      p = strip_space (p, &n);
    d->started = true;
  }

  /* Worst case every input byte becomes a 3-byte U+FFFD. */
  size_t total = d->n_pending + n;
  if (!grow (&d->in, &d->in_cap, total + 1)
      || !grow (&d->out, &d->out_cap, 3 * total + 1))
    return NULL;
  memcpy (d->in, d->pending, d->n_pending);
  memcpy (d->in + d->n_pending, p, n);
  size_t o = emit_valid (d, (const uint8_t *) d->in, total);
  if (len != NULL)
    *len = o;
  return d->out;
}

const char *
vlm_detok_flush (vlm_detok *d, size_t *len)
{
  size_t o = 0;

  if (d == NULL || !grow (&d->out, &d->out_cap, 4))
    return NULL;
  if (d->n_pending > 0) {
    memcpy (d->out, VLM_UTF8_REPLACEMENT, VLM_UTF8_REPLACEMENT_LEN);
    o = VLM_UTF8_REPLACEMENT_LEN;
  }
  d->out[o] = '\0';
  d->n_pending = 0;
  d->started = false;
  if (len != NULL)
    *len = o;
  return d->out;
}

/* gst-vlm — tokenizer internals shared by tokenizer*.c. Not installed. */
#ifndef VLM_TOKENIZER_PRIVATE_H
#define VLM_TOKENIZER_PRIVATE_H

#include "tokenizer.h"

/* ------------------------------------------------------------------ */
/* Vocab                                                               */
/* ------------------------------------------------------------------ */

typedef struct {
  uint32_t text_off;  /* raw text in vocab->text_pool, NUL-terminated */
  uint32_t text_len;
  uint32_t piece_off; /* detokenized bytes in vocab->piece_pool */
  uint32_t piece_len;
  float score;
  uint8_t type;       /* vlm_token_type */
  bool special_piece; /* piece only rendered with VLM_PIECE_SPECIAL */
  bool eog;
} vlm__tok_entry;

/* Slot of the text -> id hash map; id < 0 marks an empty slot. */
typedef struct {
  uint32_t hash;
  int32_t id;
} vlm__str_slot;

/* Slot of the (left id, right id) -> merge hash map (BPE). */
typedef struct {
  uint64_t key;       /* VLM__PAIR_EMPTY when unused */
  int32_t rank;
  vlm_token result;   /* id of the merged text, VLM_TOKEN_NULL if none */
} vlm__pair_slot;

#define VLM__PAIR_EMPTY UINT64_MAX

struct vlm_vocab {
  vlm_vocab_kind kind;
  int32_t n_tokens;
  vlm__tok_entry *tokens;
  char *text_pool;
  char *piece_pool;

  vlm__str_slot *map;        /* token text -> id */
  uint32_t map_mask;
  vlm__pair_slot *merges;    /* BPE only */
  uint32_t merges_mask;

  vlm_token bos, eos, unk, pad, eot, eom;
  bool add_bos, add_eos, add_space_prefix;
  /* SPM: no token has U+2581 right after another character, so merges
   * never cross the start of a run of spaces. */
  bool spm_split_at_space;

  /* SPM: the <0xXX> token of each byte; BPE: the token of the byte's
   * mapped code point. VLM_TOKEN_NULL where the vocab has none. */
  vlm_token byte_token[256];

  /* CONTROL and USER_DEFINED tokens, longest text first. */
  vlm_token *specials;
  int32_t n_specials;
};

/* ------------------------------------------------------------------ */
/* Output accumulator: counts past the end of the caller's buffer      */
/* ------------------------------------------------------------------ */

typedef struct {
  vlm_token *out;
  int64_t n_max;
  int64_t n;
} vlm__tok_out;

static inline void
vlm__out_push (vlm__tok_out *o, vlm_token t)
{
  if (o->n < o->n_max)
    o->out[o->n] = t;
  o->n++;
}

/* Emits byte `b` through its byte token, else the unknown token. */
static inline void
vlm__out_push_byte (const vlm_vocab *v, vlm__tok_out *o, uint8_t b)
{
  vlm_token t = v->byte_token[b];
  if (t == VLM_TOKEN_NULL)
    t = v->unk;
  if (t != VLM_TOKEN_NULL)
    vlm__out_push (o, t);
}

/* ------------------------------------------------------------------ */
/* Symbols and the bigram priority queue (SPM and BPE)                 */
/* ------------------------------------------------------------------ */

/* A run of bytes of the text being merged, in a doubly linked list. */
typedef struct {
  uint32_t start;
  uint32_t n;         /* 0 once merged into its left neighbour */
  int32_t prev;
  int32_t next;
  vlm_token id;       /* BPE: current token id (or VLM_TOKEN_NULL) */
} vlm__symbol;

/* A candidate merge of symbols left and right (adjacent when queued).
 * Higher prio pops first, then the leftmost. `size` is the byte length
 * of the pair when queued: a mismatch later means the entry is stale. */
typedef struct {
  double prio;
  int32_t left;
  int32_t right;
  uint32_t size;
} vlm__bigram;

typedef struct {
  vlm__bigram *v;
  size_t n;
  size_t cap;
} vlm__heap;

/* Returns false when out of memory. */
bool vlm__heap_push (vlm__heap *h, vlm__bigram b);
/* Removes the top into *b; false when empty. */
bool vlm__heap_pop (vlm__heap *h, vlm__bigram *b);

/* Token of text[len] that ordinary text may produce, or VLM_TOKEN_NULL:
 * CONTROL and UNKNOWN tokens only come from special parsing. */
vlm_token vlm__find_plain (const vlm_vocab *v, const char *text, size_t len);

/* ------------------------------------------------------------------ */
/* Per-family tokenizers of one text fragment (no special tokens)      */
/* ------------------------------------------------------------------ */

/* Both return false when out of memory. */
bool vlm__spm_tokenize (const vlm_vocab *v, const char *text, size_t len,
    bool space_prefix, vlm__tok_out *out);
bool vlm__bpe_tokenize (const vlm_vocab *v, const char *text, size_t len,
    vlm__tok_out *out);

/* Merge of (left, right) in a BPE vocab: rank and result id, or false. */
bool vlm__bpe_merge_find (const vlm_vocab *v, vlm_token left,
    vlm_token right, int32_t *rank, vlm_token *result);

/* GPT-2 byte <-> code point mapping. */
uint32_t vlm__bpe_byte_to_cp (uint8_t b);
/* The byte of a mapped code point, or -1. */
int vlm__bpe_cp_to_byte (uint32_t cp);

#endif /* VLM_TOKENIZER_PRIVATE_H */

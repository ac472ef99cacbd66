/* gst-vlm — text tokenizers read from GGUF metadata.
 *
 * Two families are supported, chosen by `tokenizer.ggml.model`:
 *   "llama"  SentencePiece-style: score-driven bigram merging over UTF-8
 *            characters, spaces written as U+2581, a space prefixed to
 *            each text fragment that starts the prompt or follows a
 *            special token (unless tokenizer.ggml.add_space_prefix is
 *            false), and <0xXX> byte tokens for anything not in the vocab.
 *   "gpt2"   byte-level BPE: GPT-2 pre-tokenizer regex on code points,
 *            bytes mapped to printable code points, merges applied by rank.
 * Any other model name is refused with VLM_TOK_ERR_UNSUPPORTED.
 *
 * Token types follow the GGUF convention (vlm_token_type). With special
 * parsing on, the text of any CONTROL or USER_DEFINED token written in
 * the input becomes that token (longer token texts are matched first);
 * with it off, such text is tokenized like any other text.
 *
 * Size convention: functions that fill a caller buffer return the number
 * of elements written (>= 0); when the buffer is too small they return
 * -N, where N is the size needed, and the buffer holds the first elements
 * only. VLM_TOK_ERROR (INT32_MIN) reports invalid arguments, input too
 * long or out of memory.
 *
 * Thread safety: a vlm_vocab is immutable after loading; any number of
 * threads may tokenize and detokenize with the same vocab concurrently.
 * A vlm_detok is a small stateful object for one stream: use it from one
 * thread at a time.
 */
#ifndef VLM_TOKENIZER_H
#define VLM_TOKENIZER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gguf.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef int32_t vlm_token;

/* "No such token" (e.g. a vocab without a padding token). */
#define VLM_TOKEN_NULL ((vlm_token) -1)

/* Error value of the int32_t returning functions, see "Size convention". */
#define VLM_TOK_ERROR INT32_MIN

typedef struct vlm_vocab vlm_vocab;
typedef struct vlm_detok vlm_detok;

/* Load status codes: 0 is success, errors are negative. */
typedef enum {
  VLM_TOK_OK = 0,
  VLM_TOK_ERR_IO = -1,          /* the GGUF file could not be opened */
  VLM_TOK_ERR_MISSING = -2,     /* a required tokenizer key is absent */
  VLM_TOK_ERR_UNSUPPORTED = -3, /* tokenizer.ggml.model is not known */
  VLM_TOK_ERR_CORRUPT = -4,     /* inconsistent metadata (sizes, ids...) */
  VLM_TOK_ERR_NOMEM = -5,       /* allocation failed */
} vlm_tok_status;

/* Tokenizer family. */
typedef enum {
  VLM_VOCAB_SPM = 1, /* tokenizer.ggml.model = "llama" */
  VLM_VOCAB_BPE = 2, /* tokenizer.ggml.model = "gpt2" */
} vlm_vocab_kind;

/* Token types, numbered as in tokenizer.ggml.token_type. */
typedef enum {
  VLM_TOKEN_TYPE_UNDEFINED = 0,
  VLM_TOKEN_TYPE_NORMAL = 1,
  VLM_TOKEN_TYPE_UNKNOWN = 2,
  VLM_TOKEN_TYPE_CONTROL = 3,
  VLM_TOKEN_TYPE_USER_DEFINED = 4,
  VLM_TOKEN_TYPE_UNUSED = 5,
  VLM_TOKEN_TYPE_BYTE = 6,
} vlm_token_type;

/* Flags of vlm_token_to_piece, vlm_detokenize and vlm_detok_new. */
enum {
  /* Render CONTROL and UNKNOWN tokens as their text (else: nothing). */
  VLM_PIECE_SPECIAL = 1 << 0,
  /* Drop one leading space of the (first non-empty) piece: undoes the
   * space an SPM vocab prefixes to the prompt. */
  VLM_PIECE_STRIP_LEADING_SPACE = 1 << 1,
};

/* ------------------------------------------------------------------ */
/* Loading                                                             */
/* ------------------------------------------------------------------ */

/* Builds a vocab from the tokenizer.ggml.* metadata of an open GGUF.
 * Everything needed is copied: the vocab may outlive `g`.
 * Returns NULL on error, with *status set (if non-NULL) and a message in
 * err[err_size] (if non-NULL).
 * Ownership: the caller owns the result; free it with vlm_vocab_free.
 * Thread safety: reentrant; `g` is only read. */
vlm_vocab *vlm_vocab_load (const vlm_gguf *g, vlm_tok_status *status,
    char *err, size_t err_size);

/* Opens `path`, loads its vocab and closes the file again. Errors as
 * vlm_vocab_load (a file that can not be opened is VLM_TOK_ERR_IO).
 * Ownership and thread safety as vlm_vocab_load. */
vlm_vocab *vlm_vocab_load_file (const char *path, vlm_tok_status *status,
    char *err, size_t err_size);

/* Frees a vocab; NULL is allowed. No other thread may still use it, and
 * detokenizers created on it must be freed first. */
void vlm_vocab_free (vlm_vocab *vocab);

/* Human-readable name of a status code. Static string; thread-safe. */
const char *vlm_tok_status_str (vlm_tok_status s);

/* ------------------------------------------------------------------ */
/* Accessors (all thread-safe, O(1) unless noted)                      */
/* ------------------------------------------------------------------ */

/* `vocab` must not be NULL. Returned strings are owned by the vocab and
 * live as long as it does. */

vlm_vocab_kind vlm_vocab_get_kind (const vlm_vocab *vocab);
int32_t vlm_vocab_n_tokens (const vlm_vocab *vocab);
/* Special ids; VLM_TOKEN_NULL when the vocab has none. */
vlm_token vlm_vocab_bos (const vlm_vocab *vocab);
vlm_token vlm_vocab_eos (const vlm_vocab *vocab);
vlm_token vlm_vocab_unk (const vlm_vocab *vocab);
vlm_token vlm_vocab_pad (const vlm_vocab *vocab);
/* Whether vlm_tokenize adds BOS / EOS when asked to add specials. */
bool vlm_vocab_add_bos (const vlm_vocab *vocab);
bool vlm_vocab_add_eos (const vlm_vocab *vocab);
/* Whether SPM tokenization prefixes a space to text fragments. */
bool vlm_vocab_add_space_prefix (const vlm_vocab *vocab);

/* The raw vocab text of `token` (as stored: U+2581 for spaces in SPM,
 * byte-mapped code points in BPE), NUL-terminated, length in *len if
 * non-NULL. NULL for an id out of range. Owned by the vocab. */
const char *vlm_vocab_token_text (const vlm_vocab *vocab, vlm_token token,
    size_t *len);
/* Type of `token`; VLM_TOKEN_TYPE_UNDEFINED for an id out of range. */
vlm_token_type vlm_vocab_token_type (const vlm_vocab *vocab,
    vlm_token token);
/* SentencePiece score of `token` (0 when the vocab has no scores). */
float vlm_vocab_token_score (const vlm_vocab *vocab, vlm_token token);
/* true for tokens that end generation: EOS, EOT, EOM and control tokens
 * conventionally used that way (<|endoftext|>, <|im_end|>, <|end|>, ...). */
bool vlm_vocab_is_eog (const vlm_vocab *vocab, vlm_token token);
/* Id of the token whose raw text is exactly text[len], or VLM_TOKEN_NULL.
 * O(len) on average. */
vlm_token vlm_vocab_find (const vlm_vocab *vocab, const char *text,
    size_t len);

/* ------------------------------------------------------------------ */
/* Tokenization                                                        */
/* ------------------------------------------------------------------ */

/* Tokenizes text[len] (any bytes: invalid UTF-8 is tokenized byte by
 * byte through byte tokens, or the unknown token when there is none).
 * add_special: prepend BOS / append EOS where the vocab asks for them.
 * parse_special: turn CONTROL / USER_DEFINED token texts into their ids.
 * Writes up to n_max ids to out (out may be NULL when n_max is 0).
 * Returns the number of ids; -N when n_max is too small (N needed);
 * VLM_TOK_ERROR on invalid arguments, len > INT32_MAX / 4, or no memory.
 * Thread safety: reentrant; the vocab is only read. */
int32_t vlm_tokenize (const vlm_vocab *vocab, const char *text, size_t len,
    bool add_special, bool parse_special, vlm_token *out, int32_t n_max);

/* ------------------------------------------------------------------ */
/* Detokenization                                                      */
/* ------------------------------------------------------------------ */

/* Writes the bytes of one token into buf[size] (not NUL-terminated).
 * SPM: U+2581 becomes a space, <0xXX> the byte XX. BPE: byte-mapped code
 * points become their bytes. USER_DEFINED tokens give their raw text;
 * CONTROL and UNKNOWN give nothing unless flags has VLM_PIECE_SPECIAL.
 * VLM_PIECE_STRIP_LEADING_SPACE drops one leading space.
 * The bytes may be a fragment of a UTF-8 character (byte tokens, BPE).
 * Returns the byte count, -N when size is too small, VLM_TOK_ERROR for an
 * id out of range. Thread safety: reentrant. */
int32_t vlm_token_to_piece (const vlm_vocab *vocab, vlm_token token,
    char *buf, int32_t size, int flags);

/* Concatenates the pieces of tokens[n] into buf[size] (raw bytes, not
 * NUL-terminated). VLM_PIECE_STRIP_LEADING_SPACE applies to the first
 * non-empty piece only. Returns as vlm_token_to_piece. Reentrant. */
int32_t vlm_detokenize (const vlm_vocab *vocab, const vlm_token *tokens,
    int32_t n, char *buf, int32_t size, int flags);

/* Streaming detokenizer for generated tokens: it only ever returns whole,
 * valid UTF-8. Bytes of a character split over several tokens are held
 * back until the character is complete; an invalid sequence comes out as
 * U+FFFD; vlm_detok_flush turns a trailing incomplete one into U+FFFD.
 * `flags` as vlm_token_to_piece; the strip flag affects the first
 * non-empty piece of the stream.
 * Ownership: the caller owns the result (free with vlm_detok_free); the
 * vocab must outlive it. Returns NULL when out of memory. */
vlm_detok *vlm_detok_new (const vlm_vocab *vocab, int flags);

/* Feeds one token. Returns the text that is now complete, NUL-terminated
 * (possibly ""), length in *len if non-NULL. The string belongs to `d`
 * and stays valid until the next call on `d`. Returns NULL (and nothing
 * is consumed) for an id out of range or when out of memory.
 * Thread safety: one thread at a time per vlm_detok. */
const char *vlm_detok_push (vlm_detok *d, vlm_token token, size_t *len);

/* Ends the stream: returns what is still held back (U+FFFD for an
 * incomplete character, else "") and resets `d` for a new stream.
 * Same ownership and thread rules as vlm_detok_push. */
const char *vlm_detok_flush (vlm_detok *d, size_t *len);

/* Frees `d`; NULL is allowed. */
void vlm_detok_free (vlm_detok *d);

#ifdef __cplusplus
}
#endif

#endif /* VLM_TOKENIZER_H */

/* Tests of the tokenizers: reference vocabs, special tokens, detokenizing,
 * streaming, bad input, golden prompts and the command-line tool. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "test-util.h"

#include "tokenizer.h"
#include "gguf-bytes.h"
#include "unicode.h"

#define SEP "\n__ggml_vocab_test__\n"
#define MAX_IDS 4096

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

static const char *
shared_dir (void)
{
  const char *d = getenv ("VLM_SHARED_DIR");
  return d ? d : "../shared";
}

static vlm_vocab *
load_vocab (const char *rel)
{
  char path[4096], err[256];
  vlm_tok_status st;
  snprintf (path, sizeof (path), "%s/%s", shared_dir (), rel);
  vlm_vocab *v = vlm_vocab_load_file (path, &st, err, sizeof (err));
  if (v == NULL)
    fail_msg ("%s: %s", path, err);
  assert_int_equal (st, VLM_TOK_OK);
  return v;
}

static vlm_vocab *
load_ref (const char *name)
{
  char rel[256];
  snprintf (rel, sizeof (rel), "tokenizer/ggml-vocab-%s.gguf", name);
  return load_vocab (rel);
}

/* Tokenizes a NUL-terminated string into ids[MAX_IDS]; returns count. */
static int32_t
tok (const vlm_vocab *v, const char *s, bool add_special, bool parse_special,
    vlm_token *ids)
{
  int32_t n = vlm_tokenize (v, s, strlen (s), add_special, parse_special,
      ids, MAX_IDS);
  assert_true (n >= 0);
  return n;
}

/* Parses "a b c" into ids; returns the count. */
static int32_t
parse_ids (const char *line, size_t len, vlm_token *ids)
{
  int32_t n = 0;
  const char *p = line, *end = line + len;
  while (p < end) {
    char *q;
    long val = strtol (p, &q, 10);
    if (q == p)
      break;
    assert_true (n < MAX_IDS);
    ids[n++] = (vlm_token) val;
    p = q;
  }
  return n;
}

static void
assert_ids (const vlm_token *got, int32_t n_got, const vlm_token *exp,
    int32_t n_exp, const char *what)
{
  if (n_got == n_exp && memcmp (got, exp, (size_t) n_got * sizeof (*got)) == 0)
    return;
  print_error ("%s:\n  got %d ids:", what, n_got);
  for (int32_t i = 0; i < n_got; i++)
    print_error (" %d", got[i]);
  print_error ("\n  expected %d ids:", n_exp);
  for (int32_t i = 0; i < n_exp; i++)
    print_error (" %d", exp[i]);
  print_error ("\n");
  fail ();
}

/* ------------------------------------------------------------------ */
/* Reference vocabularies: every test string, exact ids                */
/* ------------------------------------------------------------------ */

/* Runs fn on each (string, expected line) pair of a reference vocab;
 * returns the number of cases. */
typedef void (*case_fn) (const vlm_vocab *v, const char *text, size_t len,
    const char *exp, size_t exp_len);

static int
for_each_case (const char *name, case_fn fn)
{
  char rel[256];
  size_t inp_len, out_len;
  int n = 0;

  vlm_vocab *v = load_ref (name);
  snprintf (rel, sizeof (rel), "tokenizer/ggml-vocab-%s.gguf.inp", name);
  char *inp = tu_read_shared (rel, &inp_len);
  snprintf (rel, sizeof (rel), "tokenizer/ggml-vocab-%s.gguf.out", name);
  char *out = tu_read_shared (rel, &out_len);

  char *p = inp, *line = out;
  char *s;
  while ((s = strstr (p, SEP)) != NULL) {
    char *nl = strchr (line, '\n');
    assert_non_null (nl);
    fn (v, p, (size_t) (s - p), line, (size_t) (nl - line));
    p = s + strlen (SEP);
    line = nl + 1;
    n++;
  }
  free (inp);
  free (out);
  vlm_vocab_free (v);
  return n;
}

static void
check_case (const vlm_vocab *v, const char *text, size_t len,
    const char *exp_line, size_t exp_len)
{
  vlm_token got[MAX_IDS], exp[MAX_IDS];
  char what[128];

  int32_t n = vlm_tokenize (v, text, len, false, false, got, MAX_IDS);
  int32_t ne = parse_ids (exp_line, exp_len, exp);
  snprintf (what, sizeof (what), "text \"%.60s\"", text);
  assert_ids (got, n, exp, ne, what);
}

static void
test_spm_llama_cases (void **state)
{
  assert_int_equal (for_each_case ("llama-spm", check_case), 46);
}

static void
test_spm_phi3_cases (void **state)
{
  assert_int_equal (for_each_case ("phi-3", check_case), 46);
}

static void
test_bpe_gpt2_cases (void **state)
{
  assert_int_equal (for_each_case ("gpt-2", check_case), 46);
}

/* ------------------------------------------------------------------ */
/* Detokenization round trip of every test string                      */
/* ------------------------------------------------------------------ */

static void
check_round_trip (const vlm_vocab *v, const char *text, size_t len,
    const char *exp_line, size_t exp_len)
{
  vlm_token ids[MAX_IDS];
  char buf[8192];

  int32_t n = vlm_tokenize (v, text, len, true, false, ids, MAX_IDS);
  assert_true (n >= 0);
  int flags = vlm_vocab_add_space_prefix (v)
      ? VLM_PIECE_STRIP_LEADING_SPACE : 0;
  int32_t m = vlm_detokenize (v, ids, n, buf, sizeof (buf), flags);
  if (m != (int32_t) len || memcmp (buf, text, len) != 0)
    fail_msg ("round trip of \"%.60s\" gave \"%.*s\"", text, m, buf);

  /* The streaming detokenizer gives the same text (inputs are valid). */
  vlm_detok *d = vlm_detok_new (v, flags);
  size_t off = 0, k;
  assert_non_null (d);
  for (int32_t i = 0; i < n; i++) {
    const char *s = vlm_detok_push (d, ids[i], &k);
    assert_non_null (s);
    assert_true (off + k <= sizeof (buf));
    memcpy (buf + off, s, k);
    off += k;
  }
  assert_non_null (vlm_detok_flush (d, &k));
  assert_int_equal (k, 0);
  vlm_detok_free (d);
  assert_int_equal (off, len);
  assert_memory_equal (buf, text, len);
}

static void
test_detok_round_trip (void **state)
{
  assert_int_equal (for_each_case ("llama-spm", check_round_trip), 46);
  assert_int_equal (for_each_case ("phi-3", check_round_trip), 46);
  assert_int_equal (for_each_case ("gpt-2", check_round_trip), 46);
}

/* ------------------------------------------------------------------ */
/* BOS / EOS and special-token parsing                                 */
/* ------------------------------------------------------------------ */

static void
test_bos_added (void **state)
{
  vlm_token ids[MAX_IDS];
  vlm_vocab *spm = load_ref ("llama-spm");
  vlm_vocab *bpe = load_ref ("gpt-2");

  /* SPM adds BOS (add_bos_token = true), not EOS. */
  assert_true (vlm_vocab_add_bos (spm));
  assert_false (vlm_vocab_add_eos (spm));
  int32_t n = tok (spm, "Hello world", true, false, ids);
  assert_int_equal (n, 3);
  assert_int_equal (ids[0], 1);
  assert_int_equal (ids[1], 15043);
  assert_int_equal (ids[2], 3186);
  /* An empty text with specials is just BOS. */
  assert_int_equal (tok (spm, "", true, false, ids), 1);
  assert_int_equal (ids[0], vlm_vocab_bos (spm));
  assert_int_equal (tok (spm, "", false, false, ids), 0);

  /* GPT-2 has no add_bos_token key: nothing is added. */
  assert_false (vlm_vocab_add_bos (bpe));
  assert_int_equal (tok (bpe, "Hello world", true, false, ids), 2);
  assert_int_equal (ids[0], 15496);
  assert_int_equal (ids[1], 995);

  vlm_vocab_free (spm);
  vlm_vocab_free (bpe);
}

static void
test_special_parsing (void **state)
{
  vlm_token ids[MAX_IDS];
  vlm_vocab *phi = load_ref ("phi-3");
  vlm_vocab *bpe = load_ref ("gpt-2");
  int32_t n;

  /* On: control (<|user|>, <|end|>) and user-defined (</s>) texts become
   * their ids; SPM puts a space prefix after each special token. */
  n = tok (phi, "<|user|>hi<|end|></s>", false, true, ids);
  assert_int_equal (n, 4);
  assert_int_equal (ids[0], 32010);
  assert_int_equal (ids[1], 7251);        /* "▁hi" */
  assert_int_equal (ids[2], 32007);
  assert_int_equal (ids[3], 2);

  /* Off: the same text is plain text, no special id appears. */
  n = tok (phi, "<|user|>hi<|end|></s>", false, false, ids);
  assert_true (n > 4);
  for (int32_t i = 0; i < n; i++)
    assert_true (ids[i] < 32000 && ids[i] != 2);

  /* BPE: <|endoftext|> on / off. */
  n = tok (bpe, "a<|endoftext|>b", false, true, ids);
  assert_int_equal (n, 3);
  assert_int_equal (ids[0], 64);
  assert_int_equal (ids[1], 50256);
  assert_int_equal (ids[2], 65);
  n = tok (bpe, "a<|endoftext|>b", false, false, ids);
  assert_true (n > 3);
  for (int32_t i = 0; i < n; i++)
    assert_int_not_equal (ids[i], 50256);

  vlm_vocab_free (phi);
  vlm_vocab_free (bpe);
}

static void
test_buffer_too_small (void **state)
{
  vlm_token ids[4];
  vlm_vocab *v = load_ref ("llama-spm");
  const char *s = "Hello world, this is a longer text";

  int32_t need = vlm_tokenize (v, s, strlen (s), true, false, NULL, 0);
  assert_true (need < -4);
  assert_int_equal (vlm_tokenize (v, s, strlen (s), true, false, ids, 4),
      need);
  assert_int_equal (ids[0], 1);
  assert_int_equal (vlm_tokenize (NULL, s, 1, true, false, ids, 4),
      VLM_TOK_ERROR);
  assert_int_equal (vlm_tokenize (v, s, 1, true, false, NULL, 4),
      VLM_TOK_ERROR);
  vlm_vocab_free (v);
}

/* ------------------------------------------------------------------ */
/* Pieces, accessors                                                   */
/* ------------------------------------------------------------------ */

static void
assert_piece (const vlm_vocab *v, vlm_token t, int flags, const char *exp)
{
  char buf[64];
  int32_t n = vlm_token_to_piece (v, t, buf, sizeof (buf), flags);
  assert_int_equal (n, (int32_t) strlen (exp));
  assert_memory_equal (buf, exp, (size_t) n);
}

static void
test_token_to_piece (void **state)
{
  vlm_vocab *spm = load_ref ("llama-spm");
  vlm_vocab *bpe = load_ref ("gpt-2");
  char buf[4];

  assert_piece (spm, 15043, 0, " Hello");
  assert_piece (spm, 15043, VLM_PIECE_STRIP_LEADING_SPACE, "Hello");
  assert_piece (spm, 13, 0, "\n");                 /* <0x0A> */
  assert_piece (spm, 1, 0, "");                    /* <s>, control */
  assert_piece (spm, 1, VLM_PIECE_SPECIAL, "<s>");
  assert_int_equal (vlm_token_to_piece (spm, 15043, buf, 4, 0), -6);
  assert_int_equal (vlm_token_to_piece (spm, 32000, buf, 4, 0),
      VLM_TOK_ERROR);

  assert_piece (bpe, 995, 0, " world");            /* "Ġworld" */
  assert_piece (bpe, 198, 0, "\n");                /* "Ċ" */
  assert_piece (bpe, 50256, 0, "");
  assert_piece (bpe, 50256, VLM_PIECE_SPECIAL, "<|endoftext|>");

  vlm_vocab_free (spm);
  vlm_vocab_free (bpe);
}

static void
test_accessors (void **state)
{
  vlm_vocab *phi = load_ref ("phi-3");
  vlm_vocab *bpe = load_ref ("gpt-2");
  size_t len;

  assert_int_equal (vlm_vocab_get_kind (phi), VLM_VOCAB_SPM);
  assert_int_equal (vlm_vocab_n_tokens (phi), 32064);
  assert_int_equal (vlm_vocab_bos (phi), 1);
  assert_int_equal (vlm_vocab_eos (phi), 32000);
  assert_int_equal (vlm_vocab_unk (phi), 0);
  assert_int_equal (vlm_vocab_pad (phi), 32000);
  assert_true (vlm_vocab_is_eog (phi, 32000));
  assert_true (vlm_vocab_is_eog (phi, 32007));    /* <|end|> */
  assert_false (vlm_vocab_is_eog (phi, 1));
  assert_string_equal (vlm_vocab_token_text (phi, 32010, &len), "<|user|>");
  assert_int_equal (len, 8);
  assert_null (vlm_vocab_token_text (phi, 32064, NULL));
  assert_int_equal (vlm_vocab_token_type (phi, 32010),
      VLM_TOKEN_TYPE_CONTROL);
  assert_int_equal (vlm_vocab_token_type (phi, 2),
      VLM_TOKEN_TYPE_USER_DEFINED);
  assert_int_equal (vlm_vocab_token_type (phi, 3), VLM_TOKEN_TYPE_BYTE);
  assert_int_equal (vlm_vocab_find (phi, "<|end|>", 7), 32007);
  assert_int_equal (vlm_vocab_find (phi, "no-such-token", 13),
      VLM_TOKEN_NULL);
  assert_true (vlm_vocab_token_score (phi, 1000) != 0.0f);

  assert_int_equal (vlm_vocab_get_kind (bpe), VLM_VOCAB_BPE);
  assert_int_equal (vlm_vocab_n_tokens (bpe), 50257);
  assert_int_equal (vlm_vocab_eos (bpe), 50256);
  assert_int_equal (vlm_vocab_pad (bpe), VLM_TOKEN_NULL);
  assert_true (vlm_vocab_is_eog (bpe, 50256));
  assert_false (vlm_vocab_add_space_prefix (bpe));

  vlm_vocab_free (phi);
  vlm_vocab_free (bpe);
}

/* ------------------------------------------------------------------ */
/* Streaming detokenizer                                               */
/* ------------------------------------------------------------------ */

/* Pushes ids and checks each step's output. */
static void
push_expect (vlm_detok *d, vlm_token t, const char *exp)
{
  size_t len;
  const char *s = vlm_detok_push (d, t, &len);
  assert_non_null (s);
  assert_int_equal (len, strlen (exp));
  assert_string_equal (s, exp);
}

static void
test_stream_multitoken_char (void **state)
{
  vlm_token ids[MAX_IDS];
  vlm_vocab *spm = load_ref ("llama-spm");
  vlm_vocab *bpe = load_ref ("gpt-2");
  const char *llama = "\xf0\x9f\xa6\x99";   /* U+1F999, 4 byte tokens */

  /* SPM: byte-fallback tokens of one emoji. */
  int32_t n = tok (spm, llama, false, false, ids);
  assert_int_equal (n, 5);                  /* "▁" + 4 bytes */
  vlm_detok *d = vlm_detok_new (spm, VLM_PIECE_STRIP_LEADING_SPACE);
  assert_non_null (d);
  push_expect (d, ids[0], "");              /* the stripped prefix */
  push_expect (d, ids[1], "");
  push_expect (d, ids[2], "");
  push_expect (d, ids[3], "");
  push_expect (d, ids[4], llama);
  vlm_detok_free (d);

  /* BPE: the same character split over several byte-level tokens. */
  n = tok (bpe, "a\xf0\x9f\xa6\x99", false, false, ids);
  assert_true (n >= 3);
  d = vlm_detok_new (bpe, 0);
  assert_non_null (d);
  push_expect (d, ids[0], "a");
  for (int32_t i = 1; i < n - 1; i++)
    push_expect (d, ids[i], "");
  push_expect (d, ids[n - 1], llama);
  assert_null (vlm_detok_push (d, -1, NULL));
  vlm_detok_free (d);

  vlm_vocab_free (spm);
  vlm_vocab_free (bpe);
}

static void
test_stream_invalid_utf8 (void **state)
{
  vlm_vocab *spm = load_ref ("llama-spm");
  vlm_token byte0 = 3;                      /* <0x00> */
  vlm_detok *d = vlm_detok_new (spm, 0);
  size_t len;

  assert_non_null (d);
  /* A lone continuation byte: U+FFFD at once. */
  push_expect (d, byte0 + 0x80, "\xef\xbf\xbd");
  /* Two bytes of a 3-byte character, then ASCII: one U+FFFD, then 'A'. */
  push_expect (d, byte0 + 0xe2, "");
  push_expect (d, byte0 + 0x82, "");
  push_expect (d, byte0 + 'A', "\xef\xbf\xbd" "A");
  /* 0xFF is never valid. */
  push_expect (d, byte0 + 0xff, "\xef\xbf\xbd");
  /* An incomplete character at the end comes out of the flush. */
  push_expect (d, byte0 + 0xc3, "");
  const char *s = vlm_detok_flush (d, &len);
  assert_string_equal (s, "\xef\xbf\xbd");
  assert_int_equal (len, 3);
  /* After a flush the stream is clean. */
  push_expect (d, byte0 + 0xc3, "");
  push_expect (d, byte0 + 0xa9, "\xc3\xa9");
  s = vlm_detok_flush (d, &len);
  assert_int_equal (len, 0);
  vlm_detok_free (d);
  vlm_vocab_free (spm);
}

/* ------------------------------------------------------------------ */
/* Invalid UTF-8 input                                                 */
/* ------------------------------------------------------------------ */

static void
test_invalid_utf8_input (void **state)
{
  static const char bad[] = "a\xff" "b\xc3(\xe2\x82" " \x80\xf0\x9f\xa6";
  size_t len = sizeof (bad) - 1;
  vlm_token ids[MAX_IDS];
  char buf[256];
  const char *names[] = { "llama-spm", "gpt-2" };

  for (size_t k = 0; k < 2; k++) {
    vlm_vocab *v = load_ref (names[k]);
    int32_t n = vlm_tokenize (v, bad, len, false, false, ids, MAX_IDS);
    assert_true (n > 0);
    for (int32_t i = 0; i < n; i++)
      assert_true (ids[i] >= 0 && ids[i] < vlm_vocab_n_tokens (v));
    /* Bad bytes go through byte tokens: the exact bytes come back. */
    int flags = vlm_vocab_add_space_prefix (v)
        ? VLM_PIECE_STRIP_LEADING_SPACE : 0;
    int32_t m = vlm_detokenize (v, ids, n, buf, sizeof (buf), flags);
    assert_int_equal (m, (int32_t) len);
    assert_memory_equal (buf, bad, len);
    vlm_vocab_free (v);
  }

  /* SPM: 0xFF is the byte token <0xFF> (3 + 0xFF). */
  vlm_vocab *v = load_ref ("llama-spm");
  int32_t n = tok (v, "\xff", false, false, ids);
  assert_int_equal (n, 2);
  assert_int_equal (ids[0], 29871);
  assert_int_equal (ids[1], 3 + 0xff);
  vlm_vocab_free (v);
}

/* ------------------------------------------------------------------ */
/* Golden prompts: chunks as the reference tokenized them              */
/* ------------------------------------------------------------------ */

static void
check_golden (const char *dir, const char *model)
{
  char rel[256];
  size_t plen, clen;
  vlm_token got[MAX_IDS], exp[MAX_IDS];
  const char *marker = "<__media__>";

  snprintf (rel, sizeof (rel), "golden/%s/%s", dir, model);
  vlm_vocab *v = load_vocab (rel);
  snprintf (rel, sizeof (rel), "golden/%s/prompt.txt", dir);
  char *prompt = tu_read_shared (rel, &plen);
  snprintf (rel, sizeof (rel), "golden/%s/ref.chunks.txt", dir);
  char *chunks = tu_read_shared (rel, &clen);

  const char *p = prompt, *line = chunks;
  int n_chunks = 0;
  for (;;) {
    const char *m = strstr (p, marker);
    size_t len = m ? (size_t) (m - p) : strlen (p);
    /* The next "text ..." line of the reference. */
    while (strncmp (line, "text ", 5) != 0) {
      line = strchr (line, '\n');
      assert_non_null (line);
      line++;
    }
    const char *nl = strchr (line, '\n');
    size_t ll = nl ? (size_t) (nl - line) : strlen (line);
    int32_t ne = parse_ids (line + 5, ll - 5, exp);
    int32_t n = vlm_tokenize (v, p, len, n_chunks == 0, true, got, MAX_IDS);
    assert_ids (got, n, exp, ne, dir);
    n_chunks++;
    line += ll;
    if (m == NULL)
      break;
    p = m + strlen (marker);
  }
  assert_int_equal (n_chunks, 2);
  free (prompt);
  free (chunks);
  vlm_vocab_free (v);
}

static void
test_golden_chunks (void **state)
{
  check_golden ("ldpv2-spm", "tinyldp-text-q8_0.gguf");
  check_golden ("mlp-bpe", "tinymlp-text-q8_0.gguf");
}

/* ------------------------------------------------------------------ */
/* Load errors: hand-made GGUF files                                   */
/* ------------------------------------------------------------------ */

/* A GGUF v3 holding tokenizer.ggml.model = model (unless NULL) and a
 * 3-token list. */
static gguf_bytes
make_gguf (const char *model)
{
  gguf_bytes b = { 0 };
  put_header (&b, 3, 0, model ? 2 : 1);
  if (model)
    kv_str (&b, "tokenizer.ggml.model", model);
  put_str (&b, "tokenizer.ggml.tokens");
  put_u32 (&b, VLM_GGUF_ARRAY);
  put_u32 (&b, VLM_GGUF_STRING);
  put_u64 (&b, 3);
  put_str (&b, "a");
  put_str (&b, "b");
  put_str (&b, "ab");
  return b;
}

/* Loads the vocab of an in-memory GGUF; returns its status. */
static vlm_tok_status
load_status (const char *model, char *err, size_t err_size)
{
  gguf_bytes b = make_gguf (model);
  vlm_gguf_status gst;
  vlm_gguf *g = vlm_gguf_open_memory (b.p, b.n, &gst, NULL, 0);
  vlm_tok_status st;
  assert_non_null (g);
  vlm_vocab *v = vlm_vocab_load (g, &st, err, err_size);
  vlm_gguf_close (g);
  free (b.p);
  if (st == VLM_TOK_OK) {
    /* A minimal vocab must tokenize: "ab" merges with its score 0. */
    vlm_token ids[8];
    assert_non_null (v);
    assert_int_equal (vlm_tokenize (v, "ab", 2, false, false, ids, 8) > 0,
        true);
  } else {
    assert_null (v);
  }
  vlm_vocab_free (v);
  return st;
}

static void
test_unknown_model_error (void **state)
{
  char err[256];

  assert_int_equal (load_status ("bert", err, sizeof (err)),
      VLM_TOK_ERR_UNSUPPORTED);
  assert_non_null (strstr (err, "bert"));
  assert_int_equal (load_status (NULL, err, sizeof (err)),
      VLM_TOK_ERR_MISSING);
  assert_non_null (strstr (err, "tokenizer.ggml.model"));
  /* gpt2 needs merges. */
  assert_int_equal (load_status ("gpt2", err, sizeof (err)),
      VLM_TOK_ERR_MISSING);
  assert_non_null (strstr (err, "merges"));
  /* A minimal llama vocab loads (no scores, no types, default ids). */
  assert_int_equal (load_status ("llama", err, sizeof (err)), VLM_TOK_OK);

  /* Missing file. */
  vlm_tok_status st;
  assert_null (vlm_vocab_load_file ("/nonexistent/x.gguf", &st, err,
          sizeof (err)));
  assert_int_equal (st, VLM_TOK_ERR_IO);
  assert_non_null (strstr (err, "/nonexistent/x.gguf"));
}

/* ------------------------------------------------------------------ */
/* Unicode tables                                                      */
/* ------------------------------------------------------------------ */

static void
test_unicode_flags (void **state)
{
  assert_int_equal (vlm_unicode_flags ('a'), VLM_UC_LETTER);
  assert_int_equal (vlm_unicode_flags ('7'), VLM_UC_NUMBER);
  assert_int_equal (vlm_unicode_flags (' '), VLM_UC_WHITESPACE);
  assert_int_equal (vlm_unicode_flags ('\t'), VLM_UC_WHITESPACE);
  assert_int_equal (vlm_unicode_flags ('!'), 0);
  assert_int_equal (vlm_unicode_flags (0x00e9), VLM_UC_LETTER);   /* é */
  assert_int_equal (vlm_unicode_flags (0x4e2d), VLM_UC_LETTER);   /* 中 */
  assert_int_equal (vlm_unicode_flags (0x9fa5), VLM_UC_LETTER);   /* CJK */
  assert_int_equal (vlm_unicode_flags (0xac00), VLM_UC_LETTER);   /* 가 */
  assert_int_equal (vlm_unicode_flags (0x1780), VLM_UC_LETTER);   /* Khmer */
  assert_int_equal (vlm_unicode_flags (0x17b6), 0);      /* Khmer sign Mc */
  assert_int_equal (vlm_unicode_flags (0x0663), VLM_UC_NUMBER);   /* ٣ */
  assert_int_equal (vlm_unicode_flags (0x2167), VLM_UC_NUMBER);   /* Ⅷ */
  assert_int_equal (vlm_unicode_flags (0x3000), VLM_UC_WHITESPACE);
  assert_int_equal (vlm_unicode_flags (0x00a0), VLM_UC_WHITESPACE);
  assert_int_equal (vlm_unicode_flags (0x200b), 0);      /* ZWSP: Cf */
  assert_int_equal (vlm_unicode_flags (0x1f999), 0);     /* emoji */
  assert_int_equal (vlm_unicode_flags (0x20000), VLM_UC_LETTER);  /* Ext B */
  assert_int_equal (vlm_unicode_flags (0x10ffff), 0);
  assert_int_equal (vlm_unicode_flags (0x110000), 0);
}

/* ------------------------------------------------------------------ */
/* Command-line tool                                                   */
/* ------------------------------------------------------------------ */

/* Runs vlm-tokenize with `args`; returns the exit status, stdout in out. */
static int
run_cli (const char *args, char *out, size_t out_size)
{
  const char *build = getenv ("VLM_BUILD_DIR");
  char cmd[8192];
  snprintf (cmd, sizeof (cmd), "'%s/vlm/vlm-tokenize' %s 2>/dev/null",
      build ? build : "..", args);
  FILE *p = popen (cmd, "r");
  assert_non_null (p);
  size_t n = fread (out, 1, out_size - 1, p);
  out[n] = '\0';
  int st = pclose (p);
  return WIFEXITED (st) ? WEXITSTATUS (st) : -1;
}

static void
test_cli (void **state)
{
  char args[4096], out[4096];

  snprintf (args, sizeof (args), "--model '%s/tokenizer/"
      "ggml-vocab-llama-spm.gguf' 'Hello world'", shared_dir ());
  assert_int_equal (run_cli (args, out, sizeof (out)), 0);
  assert_string_equal (out, "1 15043 3186\n");

  snprintf (args, sizeof (args), "--model '%s/tokenizer/"
      "ggml-vocab-llama-spm.gguf' --no-bos 'Hello world'", shared_dir ());
  assert_int_equal (run_cli (args, out, sizeof (out)), 0);
  assert_string_equal (out, "15043 3186\n");

  snprintf (args, sizeof (args), "--model '%s/tokenizer/"
      "ggml-vocab-gpt-2.gguf' --no-special 'a<|endoftext|>'", shared_dir ());
  assert_int_equal (run_cli (args, out, sizeof (out)), 0);
  assert_null (strstr (out, "50256"));

  /* Missing file and a file that is not GGUF: non-zero exit. */
  assert_int_equal (run_cli ("--model /nonexistent.gguf hi", out,
          sizeof (out)), 1);
  snprintf (args, sizeof (args), "--model '%s/tokenizer/README.md' hi",
      shared_dir ());
  assert_int_equal (run_cli (args, out, sizeof (out)), 1);
  assert_int_equal (run_cli ("hi", out, sizeof (out)), 2);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_spm_llama_cases),
    cmocka_unit_test (test_spm_phi3_cases),
    cmocka_unit_test (test_bpe_gpt2_cases),
    cmocka_unit_test (test_detok_round_trip),
    cmocka_unit_test (test_bos_added),
    cmocka_unit_test (test_special_parsing),
    cmocka_unit_test (test_buffer_too_small),
    cmocka_unit_test (test_token_to_piece),
    cmocka_unit_test (test_accessors),
    cmocka_unit_test (test_stream_multitoken_char),
    cmocka_unit_test (test_stream_invalid_utf8),
    cmocka_unit_test (test_invalid_utf8_input),
    cmocka_unit_test (test_golden_chunks),
    cmocka_unit_test (test_unknown_model_error),
    cmocka_unit_test (test_unicode_flags),
    cmocka_unit_test (test_cli),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}

/* Tests of the chat templates: rendering and choice from metadata. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "chat.h"
#include "gguf-bytes.h"

static void
test_chatml_matches_golden_prompt (void **state)
{
  /* the prompt of ../shared/golden/mlp-bpe, rendered from its question */
  char *s = vlm_chat_apply (VLM_CHAT_CHATML, "What is in front of me?");
  assert_string_equal (s, "<|im_start|>user\n<__media__>What is in front "
      "of me?<|im_end|>\n<|im_start|>assistant\n");
  free (s);
}

static void
test_vicuna_layout (void **state)
{
  char *s = vlm_chat_apply (VLM_CHAT_VICUNA, "Describe the scene.");
  const char *tail = " USER: <__media__>\nDescribe the scene. ASSISTANT:";
  assert_true (strlen (s) > strlen (tail));
  assert_string_equal (s + strlen (s) - strlen (tail), tail);
  free (s);
}

static void
test_smolvlm_layout (void **state)
{
  char *s = vlm_chat_apply (VLM_CHAT_SMOLVLM, "What is this?");
  assert_string_equal (s, "<|im_start|>User:<__media__>What is this?"
      "<end_of_utterance>\nAssistant:");
  free (s);
}

static void
test_none_keeps_prompt (void **state)
{
  char *s = vlm_chat_apply (VLM_CHAT_NONE, "a <__media__> b");
  assert_string_equal (s, "a <__media__> b");
  free (s);
}

static void
test_names (void **state)
{
  vlm_chat_template t;
  assert_true (vlm_chat_from_name ("smolvlm", &t));
  assert_int_equal (t, VLM_CHAT_SMOLVLM);
  assert_string_equal (vlm_chat_name (VLM_CHAT_VICUNA), "vicuna");
  assert_false (vlm_chat_from_name ("jinja", &t));
  assert_false (vlm_chat_from_name (NULL, &t));
}

/* A GGUF holding only the given string keys (name, tmpl optional). */
static vlm_gguf *
meta_named (gguf_bytes * b, const char *model, const char *tmpl,
    const char *name)
{
  *b = (gguf_bytes) { 0 };
  put_header (b, 3, 0, 1 + (tmpl != NULL) + (name != NULL));
  kv_str (b, "tokenizer.ggml.model", model);
  if (tmpl)
    kv_str (b, "tokenizer.chat_template", tmpl);
  if (name)
    kv_str (b, "general.name", name);
  vlm_gguf *g = vlm_gguf_open_memory (b->p, b->n, NULL, NULL, 0);
  assert_non_null (g);
  return g;
}

static vlm_gguf *
meta (gguf_bytes * b, const char *model, const char *tmpl)
{
  return meta_named (b, model, tmpl, NULL);
}

static void
test_detect (void **state)
{
  gguf_bytes b;
  vlm_gguf *g = meta (&b, "llama", NULL);
  assert_int_equal (vlm_chat_detect (g, "ldpv2"), VLM_CHAT_VICUNA);
  assert_int_equal (vlm_chat_detect (g, "idefics3"), VLM_CHAT_SMOLVLM);
  vlm_gguf_close (g);
  free (b.p);
  g = meta (&b, "gpt2", NULL);
  assert_int_equal (vlm_chat_detect (g, "mlp"), VLM_CHAT_CHATML);
  vlm_gguf_close (g);
  free (b.p);
  g = meta (&b, "gpt2", "{% for m in messages %}<|im_start|>User:{{ m }}"
      "<end_of_utterance>{% endfor %}");
  assert_int_equal (vlm_chat_detect (g, "mlp"), VLM_CHAT_SMOLVLM);
  vlm_gguf_close (g);
  free (b.p);
  g = meta (&b, "llama", "{{ '<|im_start|>' + role }}");
  assert_int_equal (vlm_chat_detect (g, "ldpv2"), VLM_CHAT_CHATML);
  vlm_gguf_close (g);
  free (b.p);
}

static void
test_detect_by_name (void **state)
{
  gguf_bytes b;
  vlm_gguf *g = meta_named (&b, "gpt2", NULL, "SmolVLM-256M-Instruct");
  assert_int_equal (vlm_chat_detect (g, "mlp"), VLM_CHAT_SMOLVLM);
  vlm_gguf_close (g);
  free (b.p);
  g = meta_named (&b, "gpt2", NULL, "llava-v1.5-7b");
  assert_int_equal (vlm_chat_detect (g, "mlp"), VLM_CHAT_VICUNA);
  vlm_gguf_close (g);
  free (b.p);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_chatml_matches_golden_prompt),
    cmocka_unit_test (test_vicuna_layout),
    cmocka_unit_test (test_smolvlm_layout),
    cmocka_unit_test (test_none_keeps_prompt),
    cmocka_unit_test (test_names),
    cmocka_unit_test (test_detect),
    cmocka_unit_test (test_detect_by_name),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}

/* gst-vlm — chat templates. */
#include "chat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Prompt text before and after the question, per template. */
typedef struct {
  const char *name;
  const char *before;
  const char *after;
} template_text;

static const template_text templates[] = {
  [VLM_CHAT_NONE] = { "none", "", "" },
  [VLM_CHAT_VICUNA] = { "vicuna",
    "A chat between a curious user and an artificial intelligence "
        "assistant. The assistant gives helpful, detailed, and polite "
        "answers to the user's questions. USER: " VLM_IMAGE_MARKER "\n",
    " ASSISTANT:" },
  [VLM_CHAT_CHATML] = { "chatml",
    "<|im_start|>user\n" VLM_IMAGE_MARKER, "<|im_end|>\n<|im_start|>assistant\n" },
  [VLM_CHAT_SMOLVLM] = { "smolvlm",
    "<|im_start|>User:" VLM_IMAGE_MARKER, "<end_of_utterance>\nAssistant:" },
};

#define N_TEMPLATES (sizeof (templates) / sizeof (templates[0]))

bool
vlm_chat_from_name (const char *name, vlm_chat_template * out)
{
  for (size_t i = 0; name && i < N_TEMPLATES; i++) {
    if (strcmp (name, templates[i].name) == 0) {
      *out = (vlm_chat_template) i;
      return true;
    }
  }
  return false;
}

const char *
vlm_chat_name (vlm_chat_template t)
{
  return (size_t) t < N_TEMPLATES ? templates[t].name : "unknown";
}

vlm_chat_template
vlm_chat_detect (const vlm_gguf * text, const char *projector)
{
  const char *tmpl = NULL, *model = NULL;
  if (vlm_gguf_get_string (text, "tokenizer.chat_template", &tmpl) == 0) {
    if (strstr (tmpl, "<end_of_utterance>") || strstr (tmpl, "User:"))
      return VLM_CHAT_SMOLVLM;
    if (strstr (tmpl, "<|im_start|>"))
      return VLM_CHAT_CHATML;
    if (strstr (tmpl, "USER:") || strstr (tmpl, "ASSISTANT:"))
      return VLM_CHAT_VICUNA;
  }
  if (projector && strcmp (projector, "idefics3") == 0)
    return VLM_CHAT_SMOLVLM;
  const char *name = NULL;
  if (vlm_gguf_get_string (text, "general.name", &name) == 0) {
    if (strcasestr (name, "smolvlm"))
      return VLM_CHAT_SMOLVLM;
    if (strcasestr (name, "llava") || strcasestr (name, "mobilevlm"))
      return VLM_CHAT_VICUNA;
  }
  if (vlm_gguf_get_string (text, "tokenizer.ggml.model", &model) == 0
      && strcmp (model, "gpt2") == 0)
    return VLM_CHAT_CHATML;
  return VLM_CHAT_VICUNA;
}

char *
vlm_chat_apply (vlm_chat_template t, const char *question)
{
  if ((size_t) t >= N_TEMPLATES)
    t = VLM_CHAT_NONE;
  const template_text *tt = &templates[t];
  if (question == NULL)
    question = "";
  size_t n = strlen (tt->before) + strlen (question) + strlen (tt->after) + 1;
  char *s = malloc (n);
  if (s)
    snprintf (s, n, "%s%s%s", tt->before, question, tt->after);
  return s;
}

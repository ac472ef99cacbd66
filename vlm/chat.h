/* gst-vlm — chat templates of the supported model families.
 *
 * A template turns the user's question into the full prompt text with the
 * image marker VLM_IMAGE_MARKER where the image embeddings go:
 *   vicuna   (LLaVA-1.5, MobileVLM):
 *            "<system> USER: <__media__>\n<question> ASSISTANT:"
 *   chatml   "<|im_start|>user\n<__media__><question><|im_end|>\n"
 *            "<|im_start|>assistant\n"
 *   smolvlm  (SmolVLM / idefics3):
 *            "<|im_start|>User:<__media__><question><end_of_utterance>\n"
 *            "Assistant:"
 *   none     the question is used as given and must hold the marker.
 * Everything here is pure and thread-safe.
 */
#ifndef VLM_CHAT_H
#define VLM_CHAT_H

#include <stdbool.h>
#include <stddef.h>

#include "gguf.h"

#define VLM_IMAGE_MARKER "<__media__>"

typedef enum {
  VLM_CHAT_NONE = 0,
  VLM_CHAT_VICUNA,
  VLM_CHAT_CHATML,
  VLM_CHAT_SMOLVLM,
} vlm_chat_template;

/* Template by name ("none", "vicuna", "chatml", "smolvlm"); false for an
 * unknown name. */
bool vlm_chat_from_name (const char *name, vlm_chat_template *out);

/* Name of a template (static string). */
const char *vlm_chat_name (vlm_chat_template t);

/* Picks the template of a model: from `tokenizer.chat_template` in the
 * text model's metadata when it has one we recognise, else from the
 * projector type ("idefics3" -> smolvlm), general.name (SmolVLM ->
 * smolvlm, LLaVA / MobileVLM -> vicuna) and the tokenizer family
 * ("llama" SentencePiece -> vicuna, "gpt2" BPE -> chatml). */
vlm_chat_template vlm_chat_detect (const vlm_gguf *text, const char *projector);

/* Writes the prompt of `question` in template t into a new NUL-terminated
 * string (caller frees). NULL when out of memory. */
char *vlm_chat_apply (vlm_chat_template t, const char *question);

#endif /* VLM_CHAT_H */

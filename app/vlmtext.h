/* gst-vlm — small text helpers shared by the app's plain-C modules
 * (speech, WebVTT): formatted allocation and a strict UTF-8 decoder.
 *
 * Thread safety: pure functions, callable from any thread.
 */
#ifndef VLM_TEXT_H
#define VLM_TEXT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* printf into a new malloc()ed string; NULL when out of memory. */
char *vlm_text_printf (const char *fmt, ...)
    __attribute__ ((format (printf, 1, 2)));

typedef enum {
  VLM_UTF8_OK,          /* a code point */
  VLM_UTF8_BAD,         /* not UTF-8 */
  VLM_UTF8_TRUNC,       /* a valid start cut short by the end of the text */
} VlmUtf8;

/* Decodes the sequence at p (n > 0 bytes left). VLM_UTF8_OK: the code
 * point in *cp, *len bytes. Otherwise *len is the maximal invalid subpart
 * (what one U+FFFD replaces) and *cp is untouched. Overlongs, surrogates
 * and code points past U+10FFFF are invalid. */
VlmUtf8 vlm_text_utf8_next (const unsigned char *p, size_t n, uint32_t * cp,
    size_t *len);

#ifdef __cplusplus
}
#endif

#endif /* VLM_TEXT_H */

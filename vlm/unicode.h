/* gst-vlm — Unicode character properties needed by the tokenizers.
 *
 * Letter (general category L*), number (N*) and White_Space, for every
 * code point, from tables generated at build time out of the Unicode
 * Character Database (see tools/gen-unicode-tables.c).
 *
 * Thread safety: pure functions over constant tables.
 */
#ifndef VLM_UNICODE_H
#define VLM_UNICODE_H

#include <stdint.h>

#define VLM_UC_LETTER 0x01
#define VLM_UC_NUMBER 0x02
#define VLM_UC_WHITESPACE 0x04

/* The VLM_UC_* flags of code point `cp`; 0 for anything else, including
 * unassigned code points and values above U+10FFFF. */
uint32_t vlm_unicode_flags (uint32_t cp);

#endif /* VLM_UNICODE_H */

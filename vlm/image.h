/* gst-vlm — image preprocessing for the vision tower: resizing RGB8.
 *
 * Images are packed 8-bit RGB, row-major, `stride` bytes per row. The
 * resampler is separable, with the Keys cubic kernel (a = -0.5) widened
 * by the reduction factor when shrinking, so that every source pixel
 * contributes (the "antialiased bicubic" of PIL, which the reference
 * image processors of CLIP, LLaVA and SmolVLM use). Results are rounded
 * to 8 bits, as those processors do before normalising.
 *
 * Thread safety: reentrant; nothing is kept between calls.
 */
#ifndef VLM_IMAGE_H
#define VLM_IMAGE_H

#include <stddef.h>
#include <stdint.h>

/* How a w x h image is brought to a square. */
typedef enum {
  /* Centred on a square of side max(w, h) filled with the background
   * colour (LLaVA's "pad to square"), then resized: no distortion. */
  VLM_IMAGE_FIT_PAD,
  /* Resized to the square directly: the aspect ratio is not kept. */
  VLM_IMAGE_FIT_STRETCH,
} vlm_image_fit;

/* Resizes `src` (w x h, w and h >= 1, stride >= 3 w) into dst, a packed
 * size x size RGB8 image (stride 3 size). `bg` is the padding colour for
 * VLM_IMAGE_FIT_PAD (ignored otherwise). Returns 0, or -1 when scratch
 * memory cannot be allocated or an argument is out of range (dst is then
 * untouched). Ownership: nothing is retained. */
int vlm_image_resize_rgb8 (const uint8_t *src, int w, int h, size_t stride,
    int size, vlm_image_fit fit, const uint8_t bg[3], uint8_t *dst);

#endif /* VLM_IMAGE_H */

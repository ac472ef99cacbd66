/* gst-vlm tools — reading images into packed RGB8.
 *
 * PNG (libpng) and JPEG (libjpeg) are recognised by their signature;
 * raw packed RGB needs its size. Support for each format is optional at
 * build time (HAVE_PNG, HAVE_JPEG). Reentrant.
 */
#ifndef VLM_IMAGE_IO_H
#define VLM_IMAGE_IO_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
  uint8_t *rgb;       /* width * height * 3 bytes, rows packed */
  int width;
  int height;
} vlm_image;

/* Reads a PNG or JPEG file. Returns 0, or -1 with a message in err. The
 * caller frees image->rgb with free(). */
int vlm_image_load (const char *path, vlm_image *image, char *err,
    size_t err_size);

/* Reads width * height * 3 bytes of packed RGB; the file must be exactly
 * that long. Returns 0 or -1 with a message. */
int vlm_image_load_raw (const char *path, int width, int height,
    vlm_image *image, char *err, size_t err_size);

#endif /* VLM_IMAGE_IO_H */

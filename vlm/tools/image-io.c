/* gst-vlm tools — PNG, JPEG and raw RGB readers. */
#include "config.h"
#include "image-io.h"

#include <errno.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef HAVE_PNG
#include <png.h>
#endif
#ifdef HAVE_JPEG
#include <jpeglib.h>
#endif

/* Largest side accepted: keeps width * height * 3 far from overflow. */
#define MAX_SIDE 32768

/* "PATH: WHAT" into err; returns -1. */
static int
fail (char *err, size_t n, const char *path, const char *what)
{
  snprintf (err, n, "%s: %s", path, what);
  return -1;
}

/* ------------------------------------------------------------------ */
/* PNG                                                                 */
/* ------------------------------------------------------------------ */

static int
load_png (const char *path, vlm_image * img, char *err, size_t n)
{
#ifdef HAVE_PNG
  png_image p;
  memset (&p, 0, sizeof (p));
  p.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_file (&p, path))
    return fail (err, n, path, p.message);
  if (p.width > MAX_SIDE || p.height > MAX_SIDE) {
    png_image_free (&p);
    return fail (err, n, path, "image too large");
  }
  p.format = PNG_FORMAT_RGB;
  img->rgb = malloc (PNG_IMAGE_SIZE (p));
  if (img->rgb == NULL) {
    png_image_free (&p);
    return fail (err, n, path, "out of memory");
  }
  if (!png_image_finish_read (&p, NULL, img->rgb, 0, NULL)) {
    free (img->rgb);
    img->rgb = NULL;
    return fail (err, n, path, p.message);
  }
  img->width = (int) p.width;
  img->height = (int) p.height;
  return 0;
#else
  (void) img;
  return fail (err, n, path, "built without PNG support");
#endif
}

/* ------------------------------------------------------------------ */
/* JPEG                                                                */
/* ------------------------------------------------------------------ */

#ifdef HAVE_JPEG
typedef struct {
  struct jpeg_error_mgr mgr;
  jmp_buf jump;
  char msg[JMSG_LENGTH_MAX];
} jpeg_err;

/* libjpeg calls this instead of exit(): jump back with the message. */
static void
jpeg_error_exit (j_common_ptr cinfo)
{
  jpeg_err *e = (jpeg_err *) cinfo->err;
  (*cinfo->err->format_message) (cinfo, e->msg);
  longjmp (e->jump, 1);
}

static int
read_jpeg (FILE * f, struct jpeg_decompress_struct *c, vlm_image * img)
{
  jpeg_stdio_src (c, f);
  jpeg_read_header (c, TRUE);
  c->out_color_space = JCS_RGB;
  jpeg_start_decompress (c);
  if (c->output_width > MAX_SIDE || c->output_height > MAX_SIDE
      || c->output_components != 3)
    return -1;
  size_t row = (size_t) c->output_width * 3;
  img->rgb = malloc (row * c->output_height);
  if (img->rgb == NULL)
    return -1;
  while (c->output_scanline < c->output_height) {
    JSAMPROW r = img->rgb + row * c->output_scanline;
    jpeg_read_scanlines (c, &r, 1);
  }
  jpeg_finish_decompress (c);
  img->width = (int) c->output_width;
  img->height = (int) c->output_height;
  return 0;
}
#endif

static int
load_jpeg (const char *path, vlm_image * img, char *err, size_t n)
{
#ifdef HAVE_JPEG
  FILE *f = fopen (path, "rb");
  if (f == NULL)
    return fail (err, n, path, strerror (errno));
  struct jpeg_decompress_struct c;
  jpeg_err e;
  c.err = jpeg_std_error (&e.mgr);
  e.mgr.error_exit = jpeg_error_exit;
  e.msg[0] = '\0';
  img->rgb = NULL;
  int rc = -1;
  if (setjmp (e.jump) == 0) {
    jpeg_create_decompress (&c);
    rc = read_jpeg (f, &c, img);
    if (rc != 0)
      snprintf (e.msg, sizeof (e.msg), "unsupported or too large JPEG");
  }
  jpeg_destroy_decompress (&c);
  fclose (f);
  if (rc != 0) {
    free (img->rgb);
    img->rgb = NULL;
    return fail (err, n, path, e.msg);
  }
  return 0;
#else
  (void) img;
  return fail (err, n, path, "built without JPEG support");
#endif
}

/* ------------------------------------------------------------------ */
/* Entry points                                                        */
/* ------------------------------------------------------------------ */

int
vlm_image_load (const char *path, vlm_image * img, char *err, size_t n)
{
  unsigned char sig[8] = { 0 };
  FILE *f = fopen (path, "rb");
  if (f == NULL)
    return fail (err, n, path, strerror (errno));
  size_t got = fread (sig, 1, sizeof (sig), f);
  fclose (f);
  if (got >= 8 && memcmp (sig, "\x89PNG\r\n\x1a\n", 8) == 0)
    return load_png (path, img, err, n);
  if (got >= 3 && sig[0] == 0xff && sig[1] == 0xd8 && sig[2] == 0xff)
    return load_jpeg (path, img, err, n);
  return fail (err, n, path,
      "not a PNG or JPEG file (use --raw WxH for packed RGB)");
}

int
vlm_image_load_raw (const char *path, int w, int h, vlm_image * img,
    char *err, size_t n)
{
  if (w < 1 || h < 1 || w > MAX_SIDE || h > MAX_SIDE)
    return fail (err, n, path, "invalid raw image size");
  FILE *f = fopen (path, "rb");
  if (f == NULL)
    return fail (err, n, path, strerror (errno));
  size_t size = (size_t) w * h * 3;
  img->rgb = malloc (size + 1);
  size_t got = img->rgb ? fread (img->rgb, 1, size + 1, f) : 0;
  fclose (f);
  if (got != size) {
    free (img->rgb);
    img->rgb = NULL;
    return fail (err, n, path,
        "file size does not match --raw WxH (W*H*3 bytes of RGB)");
  }
  img->width = w;
  img->height = h;
  return 0;
}

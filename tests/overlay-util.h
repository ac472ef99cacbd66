/* Helpers of the overlay tests: frames with guard bytes, a background
 * pattern, reference BT.601 limited-range conversions (written from the
 * standard's equations, independent of overlay/blend.c), PSNR.
 * Header-only: each test program includes it once. */
#ifndef OVERLAY_UTIL_H
#define OVERLAY_UTIL_H

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "overlay.h"

/* DejaVu Sans of the Debian package fonts-dejavu-core: the tests name the
 * file so that their images do not depend on fontconfig's choice. */
#define TEST_FONT "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"

/* Guard bytes before and after every frame buffer. */
#define GUARD 64
#define GUARD_BYTE 0xa5

/* A frame in a malloc'd buffer with guard bytes around it. */
typedef struct {
  vlm_overlay_frame f;
  uint8_t *mem;
  size_t size;
} test_frame;

static inline void
test_frame_init (test_frame *t, vlm_overlay_format fmt, int w, int h)
{
  t->size = vlm_overlay_frame_size (fmt, w, h);
  t->mem = malloc (t->size + 2 * GUARD);
  memset (t->mem, GUARD_BYTE, t->size + 2 * GUARD);
  vlm_overlay_frame_wrap (&t->f, fmt, w, h, t->mem + GUARD, t->size);
}

/* True when no guard byte was touched. */
static inline bool
test_frame_guards_ok (const test_frame *t)
{
  for (size_t i = 0; i < GUARD; i++)
    if (t->mem[i] != GUARD_BYTE || t->mem[GUARD + t->size + i] != GUARD_BYTE)
      return false;
  return true;
}

static inline void
test_frame_free (test_frame *t)
{
  free (t->mem);
  t->mem = NULL;
}

static inline bool
is_yuv (vlm_overlay_format fmt)
{
  return fmt == VLM_OVERLAY_FORMAT_I420 || fmt == VLM_OVERLAY_FORMAT_NV12;
}

/* ------------------------------------------------------------------ */
/* Background pattern                                                  */
/* ------------------------------------------------------------------ */

/* Opaque RGB pattern: horizontal red ramp, vertical green ramp, blue
 * checker of 8-pixel squares. rgb has w * h * 3 bytes. */
static inline void
fill_pattern (uint8_t *rgb, int w, int h)
{
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      uint8_t *p = rgb + ((size_t) y * w + x) * 3;
      p[0] = (uint8_t) (w > 1 ? x * 255 / (w - 1) : 128);
      p[1] = (uint8_t) (h > 1 ? y * 255 / (h - 1) : 128);
      p[2] = ((x / 8 + y / 8) & 1) ? 200 : 60;
    }
}

/* ------------------------------------------------------------------ */
/* Reference conversions (BT.601, limited range)                       */
/* ------------------------------------------------------------------ */

static inline uint8_t
clamp_byte (double v)
{
  return (uint8_t) (v < 0 ? 0 : v > 255 ? 255 : lrint (v));
}

static inline void
rgb_to_yuv (const uint8_t *p, double *y, double *u, double *v)
{
  *y = 16 + (65.481 * p[0] + 128.553 * p[1] + 24.966 * p[2]) / 255;
  *u = 128 + (-37.797 * p[0] - 74.203 * p[1] + 112.0 * p[2]) / 255;
  *v = 128 + (112.0 * p[0] - 93.786 * p[1] - 18.214 * p[2]) / 255;
}

/* Sample of plane k (0 Y, 1 U, 2 V) at (x, y) (chroma coordinates for
 * k > 0) of an I420 or NV12 frame. */
static inline uint8_t *
yuv_at (const vlm_overlay_frame *f, int k, int x, int y)
{
  if (k == 0)
    return f->data[0] + (size_t) y * f->stride[0] + x;
  if (f->format == VLM_OVERLAY_FORMAT_NV12)
    return f->data[1] + (size_t) y * f->stride[1] + 2 * x + (k - 1);
  return f->data[k] + (size_t) y * f->stride[k] + x;
}

/* Writes packed RGB (w x h, opaque) into a frame of any format; chroma is
 * the mean over each 2x2 block's existing pixels. */
static inline void
frame_from_rgb (const vlm_overlay_frame *f, const uint8_t *rgb)
{
  int w = f->width, h = f->height;

  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      const uint8_t *p = rgb + ((size_t) y * w + x) * 3;
      uint8_t *d = f->data[0] + (size_t) y * f->stride[0];
      double yy, u, v;
      switch (f->format) {
        case VLM_OVERLAY_FORMAT_RGBA: case VLM_OVERLAY_FORMAT_RGBx:
          d += 4 * x;
          d[0] = p[0]; d[1] = p[1]; d[2] = p[2]; d[3] = 255;
          break;
        case VLM_OVERLAY_FORMAT_BGRA: case VLM_OVERLAY_FORMAT_BGRx:
          d += 4 * x;
          d[0] = p[2]; d[1] = p[1]; d[2] = p[0]; d[3] = 255;
          break;
        case VLM_OVERLAY_FORMAT_RGB:
          memcpy (d + 3 * x, p, 3);
          break;
        default:
          rgb_to_yuv (p, &yy, &u, &v);
          *yuv_at (f, 0, x, y) = clamp_byte (yy);
          break;
      }
    }
  if (!is_yuv (f->format))
    return;
  for (int by = 0; by < (h + 1) / 2; by++)
    for (int bx = 0; bx < (w + 1) / 2; bx++) {
      double su = 0, sv = 0, yy, u, v;
      int n = 0;
      for (int y = 2 * by; y < 2 * by + 2 && y < h; y++)
        for (int x = 2 * bx; x < 2 * bx + 2 && x < w; x++) {
          rgb_to_yuv (rgb + ((size_t) y * w + x) * 3, &yy, &u, &v);
          su += u;
          sv += v;
          n++;
        }
      *yuv_at (f, 1, bx, by) = clamp_byte (su / n);
      *yuv_at (f, 2, bx, by) = clamp_byte (sv / n);
    }
}

/* Reads any frame back as packed RGB (chroma repeated over its block). */
static inline void
frame_to_rgb (const vlm_overlay_frame *f, uint8_t *rgb)
{
  for (int y = 0; y < f->height; y++)
    for (int x = 0; x < f->width; x++) {
      uint8_t *p = rgb + ((size_t) y * f->width + x) * 3;
      const uint8_t *s = f->data[0] + (size_t) y * f->stride[0];
      double yy, u, v;
      switch (f->format) {
        case VLM_OVERLAY_FORMAT_RGBA: case VLM_OVERLAY_FORMAT_RGBx:
          memcpy (p, s + 4 * x, 3);
          break;
        case VLM_OVERLAY_FORMAT_BGRA: case VLM_OVERLAY_FORMAT_BGRx:
          p[0] = s[4 * x + 2]; p[1] = s[4 * x + 1]; p[2] = s[4 * x];
          break;
        case VLM_OVERLAY_FORMAT_RGB:
          memcpy (p, s + 3 * x, 3);
          break;
        default:
          yy = 1.164383 * (*yuv_at (f, 0, x, y) - 16);
          u = *yuv_at (f, 1, x / 2, y / 2) - 128.0;
          v = *yuv_at (f, 2, x / 2, y / 2) - 128.0;
          p[0] = clamp_byte (yy + 1.596027 * v);
          p[1] = clamp_byte (yy - 0.391762 * u - 0.812968 * v);
          p[2] = clamp_byte (yy + 2.017232 * u);
          break;
      }
    }
}

/* PSNR in dB of two packed RGB images over the rectangle [x0, x0 + rw) x
 * [y0, y0 + rh) (clipped to the image); 99 when identical. */
static inline double
psnr_rect (const uint8_t *a, const uint8_t *b, int w, int h, int x0, int y0,
    int rw, int rh)
{
  double se = 0;
  size_t n = 0;

  for (int y = y0 < 0 ? 0 : y0; y < y0 + rh && y < h; y++)
    for (int x = x0 < 0 ? 0 : x0; x < x0 + rw && x < w; x++)
      for (int c = 0; c < 3; c++) {
        double d = (double) a[((size_t) y * w + x) * 3 + c] -
            b[((size_t) y * w + x) * 3 + c];
        se += d * d;
        n++;
      }
  if (n == 0 || se == 0)
    return 99.0;
  return 10.0 * log10 (255.0 * 255.0 / (se / n));
}

/* PSNR in dB of the BT.601 luma of two packed RGB images over a
 * rectangle (as psnr_rect). */
static inline double
psnr_luma_rect (const uint8_t *a, const uint8_t *b, int w, int h, int x0,
    int y0, int rw, int rh)
{
  double se = 0, ya, yb, u, v;
  size_t n = 0;

  for (int y = y0 < 0 ? 0 : y0; y < y0 + rh && y < h; y++)
    for (int x = x0 < 0 ? 0 : x0; x < x0 + rw && x < w; x++) {
      rgb_to_yuv (a + ((size_t) y * w + x) * 3, &ya, &u, &v);
      rgb_to_yuv (b + ((size_t) y * w + x) * 3, &yb, &u, &v);
      se += (ya - yb) * (ya - yb);
      n++;
    }
  if (n == 0 || se == 0)
    return 99.0;
  return 10.0 * log10 (255.0 * 255.0 / (se / n));
}

#endif /* OVERLAY_UTIL_H */

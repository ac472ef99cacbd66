/* gst-vlm — image preprocessing: separable antialiased bicubic resize.
 *
 * The source is seen as a "virtual" image: for padding, a square canvas
 * with the real image centred on it; for stretching, the image itself.
 * Each axis gets a table of taps (first source index, count, weights)
 * computed once; a horizontal pass turns every real source row into a
 * row of `size` output columns, then a vertical pass mixes those rows,
 * reading the background colour for canvas rows outside the image.
 */
#include "image.h"

#include <math.h>
#include <stdlib.h>

/* ------------------------------------------------------------------ */
/* Filter tables                                                       */
/* ------------------------------------------------------------------ */

/* Keys cubic convolution kernel with a = -0.5, support [-2, 2]. */
static double
cubic_kernel (double x)
{
  const double a = -0.5;

  x = fabs (x);
  if (x < 1.0)
    return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0;
  if (x < 2.0)
    return (((x - 5.0) * x + 8.0) * x - 4.0) * a;
  return 0.0;
}

/* Taps of one axis: output i reads count[i] source samples from
 * first[i] on, with weights w[i * max_taps ...]. */
typedef struct {
  int max_taps;
  int *first;
  int *count;
  float *w;
} axis_filter;

static void
free_axis (axis_filter * f)
{
  free (f->first);
  free (f->count);
  free (f->w);
}

static int
build_axis (axis_filter * f, int in, int out)
{
  double scale = (double) in / out;
  double fscale = scale > 1.0 ? scale : 1.0;
  double support = 2.0 * fscale;

  f->max_taps = (int) ceil (support) * 2 + 1;
  f->first = malloc (sizeof (int) * out);
  f->count = malloc (sizeof (int) * out);
  f->w = calloc ((size_t) out * f->max_taps, sizeof (float));
  if (f->first == NULL || f->count == NULL || f->w == NULL) {
    free_axis (f);
    return -1;
  }
  for (int i = 0; i < out; i++) {
    double center = (i + 0.5) * scale;
    int lo = (int) floor (center - support + 0.5);
    int hi = (int) floor (center + support + 0.5);
    float *w = f->w + (size_t) i * f->max_taps;
    double sum = 0.0;

    lo = lo < 0 ? 0 : lo;
    hi = hi > in ? in : hi;
    if (hi - lo > f->max_taps)
      hi = lo + f->max_taps;
    f->first[i] = lo;
    f->count[i] = hi - lo;
    for (int t = 0; t < hi - lo; t++) {
      double v = cubic_kernel ((lo + t - center + 0.5) / fscale);
      w[t] = (float) v;
      sum += v;
    }
    for (int t = 0; sum != 0.0 && t < hi - lo; t++)
      w[t] = (float) (w[t] / sum);
  }
  return 0;
}

/* ------------------------------------------------------------------ */
/* Passes                                                              */
/* ------------------------------------------------------------------ */

/* Where the real image lies on the virtual canvas. */
typedef struct {
  const uint8_t *src;
  int w, h;
  size_t stride;
  int off_x, off_y;
  float bg[3];
  int size;
} resize_job;

/* Source row y (real) through the horizontal taps into out[size * 3]. */
static void
resize_row (const resize_job * j, const axis_filter * fx, int y, float *out)
{
  const uint8_t *row = j->src + (size_t) y * j->stride;

  for (int ox = 0; ox < j->size; ox++) {
    const float *w = fx->w + (size_t) ox * fx->max_taps;
    float acc[3] = { 0.0f, 0.0f, 0.0f };

    for (int t = 0; t < fx->count[ox]; t++) {
      int x = fx->first[ox] + t - j->off_x;
      const uint8_t *px = x >= 0 && x < j->w ? row + (size_t) x * 3 : NULL;
      for (int c = 0; c < 3; c++)
        acc[c] += w[t] * (px != NULL ? px[c] : j->bg[c]);
    }
    for (int c = 0; c < 3; c++)
      out[ox * 3 + c] = acc[c];
  }
}

static uint8_t
to_u8 (float v)
{
  v = floorf (v + 0.5f);
  return v < 0.0f ? 0 : v > 255.0f ? 255 : (uint8_t) v;
}

/* Mixes the horizontally resized rows `rows` (h of them) into dst. */
static void
resize_columns (const resize_job * j, const axis_filter * fy,
    const float *rows, const float *bg_row, float *acc, uint8_t *dst)
{
  size_t n = (size_t) j->size * 3;

  for (int oy = 0; oy < j->size; oy++) {
    const float *w = fy->w + (size_t) oy * fy->max_taps;

    for (size_t i = 0; i < n; i++)
      acc[i] = 0.0f;
    for (int t = 0; t < fy->count[oy]; t++) {
      int y = fy->first[oy] + t - j->off_y;
      const float *r = y >= 0 && y < j->h ? rows + (size_t) y * n : bg_row;
      for (size_t i = 0; i < n; i++)
        acc[i] += w[t] * r[i];
    }
    for (size_t i = 0; i < n; i++)
      dst[(size_t) oy * n + i] = to_u8 (acc[i]);
  }
}

/* ------------------------------------------------------------------ */
/* Entry point                                                         */
/* ------------------------------------------------------------------ */

int
vlm_image_resize_rgb8 (const uint8_t *src, int w, int h, size_t stride,
    int size, vlm_image_fit fit, const uint8_t bg[3], uint8_t *dst)
{
  resize_job j = { src, w, h, stride, 0, 0, { 0, 0, 0 }, size };
  axis_filter fx = { 0 }, fy = { 0 };
  int vw = w, vh = h, ret = -1;
  size_t n = (size_t) size * 3;
  float *rows = NULL, *bg_row = NULL, *acc = NULL;

  if (src == NULL || dst == NULL || w < 1 || h < 1 || size < 1
      || stride / 3 < (size_t) w)
    return -1;
  if (fit == VLM_IMAGE_FIT_PAD) {
    vw = vh = w > h ? w : h;
    j.off_x = (vw - w) / 2;
    j.off_y = (vh - h) / 2;
    for (int c = 0; c < 3; c++)
      j.bg[c] = bg ? bg[c] : 0.0f;
  }

  rows = malloc (sizeof (float) * n * h);
  bg_row = malloc (sizeof (float) * n);
  acc = malloc (sizeof (float) * n);
  if (rows == NULL || bg_row == NULL || acc == NULL
      || build_axis (&fx, vw, size) != 0)
    goto out;
  if (build_axis (&fy, vh, size) != 0) {
    free_axis (&fx);
    goto out;
  }

  for (size_t i = 0; i < n; i++)
    bg_row[i] = j.bg[i % 3];
  for (int y = 0; y < h; y++)
    resize_row (&j, &fx, y, rows + (size_t) y * n);
  resize_columns (&j, &fy, rows, bg_row, acc, dst);
  free_axis (&fx);
  free_axis (&fy);
  ret = 0;

out:
  free (rows);
  free (bg_row);
  free (acc);
  return ret;
}

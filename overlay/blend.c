/* gst-vlm — caption overlay: blending the panel into frames.
 *
 * The panel is premultiplied, so every sample of the clipped rectangle
 * becomes  panel + frame * (255 - panel alpha) / 255  (rounded). The row
 * loops are plain byte loops without branches that the compiler can
 * vectorise; a global opacity below 255 takes a second set of loops that
 * scale the panel first.
 *
 * YUV frames (BT.601 limited range: Y 16..235, Cb/Cr 16..240) use a copy
 * of the panel converted once per panel and placement: premultiplied Y
 * and alpha for each covered pixel, and for each touched 2x2 chroma block
 * the mean premultiplied Cb, Cr and the mean alpha over the block's
 * pixels that exist in the frame (one or two at an odd right or bottom
 * edge; pixels outside the panel count with alpha 0). Blending the block
 * with these means gives the mean of the four full-resolution results.
 */
#include "overlay-private.h"

#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* Frames                                                              */
/* ------------------------------------------------------------------ */

#define MAX_SIDE 16384

/* Bytes per pixel of the packed formats (0 for YUV). */
static int
packed_bpp (vlm_overlay_format format)
{
  switch (format) {
    case VLM_OVERLAY_FORMAT_RGBA:
    case VLM_OVERLAY_FORMAT_BGRA:
    case VLM_OVERLAY_FORMAT_RGBx:
    case VLM_OVERLAY_FORMAT_BGRx:
      return 4;
    case VLM_OVERLAY_FORMAT_RGB:
      return 3;
    default:
      return 0;
  }
}

bool
ov_frame_valid (const vlm_overlay_frame *f)
{
  int cw;

  if (!f || (unsigned) f->format >= VLM_OVERLAY_N_FORMATS ||
      f->width < 1 || f->height < 1 || f->width > MAX_SIDE ||
      f->height > MAX_SIDE || !f->data[0])
    return false;
  cw = (f->width + 1) / 2;
  switch (f->format) {
    case VLM_OVERLAY_FORMAT_I420:
      return f->stride[0] >= f->width && f->data[1] && f->data[2] &&
          f->stride[1] >= cw && f->stride[2] >= cw;
    case VLM_OVERLAY_FORMAT_NV12:
      return f->stride[0] >= f->width && f->data[1] &&
          f->stride[1] >= 2 * cw;
    default:
      return f->stride[0] >= f->width * packed_bpp (f->format);
  }
}

size_t
vlm_overlay_frame_size (vlm_overlay_format format, int width, int height)
{
  size_t w = (size_t) width, h = (size_t) height;
  size_t cw = (w + 1) / 2, ch = (h + 1) / 2;

  if (width < 1 || height < 1 || width > MAX_SIDE || height > MAX_SIDE ||
      (unsigned) format >= VLM_OVERLAY_N_FORMATS)
    return 0;
  if (format == VLM_OVERLAY_FORMAT_I420 || format == VLM_OVERLAY_FORMAT_NV12)
    return w * h + 2 * cw * ch;
  return w * h * (size_t) packed_bpp (format);
}

vlm_overlay_status
vlm_overlay_frame_wrap (vlm_overlay_frame *f, vlm_overlay_format format,
    int width, int height, uint8_t *data, size_t size)
{
  size_t need = vlm_overlay_frame_size (format, width, height);
  int cw = (width + 1) / 2, ch = (height + 1) / 2;

  if (!f || !data || need == 0 || size < need)
    return VLM_OVERLAY_ERR_INVALID_ARG;
  memset (f, 0, sizeof *f);
  f->format = format;
  f->width = width;
  f->height = height;
  f->data[0] = data;
  if (format == VLM_OVERLAY_FORMAT_I420) {
    f->stride[0] = width;
    f->stride[1] = f->stride[2] = cw;
    f->data[1] = data + (size_t) width * (size_t) height;
    f->data[2] = f->data[1] + (size_t) cw * (size_t) ch;
  } else if (format == VLM_OVERLAY_FORMAT_NV12) {
    f->stride[0] = width;
    f->stride[1] = 2 * cw;
    f->data[1] = data + (size_t) width * (size_t) height;
  } else {
    f->stride[0] = width * packed_bpp (format);
  }
  return VLM_OVERLAY_OK;
}

/* ------------------------------------------------------------------ */
/* Row loops                                                           */
/* ------------------------------------------------------------------ */

/* 4 bytes per pixel, alpha in byte 3 of the source, opacity 255. */
static void
row_over4 (uint8_t *restrict d, const uint8_t *restrict s, int n)
{
  for (int i = 0; i < 4 * n; i += 4) {
    unsigned ia = 255u - s[i + 3];
    d[i + 0] = (uint8_t) (s[i + 0] + ov_div255 (d[i + 0] * ia));
    d[i + 1] = (uint8_t) (s[i + 1] + ov_div255 (d[i + 1] * ia));
    d[i + 2] = (uint8_t) (s[i + 2] + ov_div255 (d[i + 2] * ia));
    d[i + 3] = (uint8_t) (s[i + 3] + ov_div255 (d[i + 3] * ia));
  }
}

/* Scales n bytes by op / 255 (a panel row for a global opacity). */
static void
row_scale (uint8_t *restrict d, const uint8_t *restrict s, int n,
    unsigned op)
{
  for (int i = 0; i < n; i++)
    d[i] = (uint8_t) ov_div255 (s[i] * op);
}

/* RGB destination from an RGBA source. */
static void
row_over3 (uint8_t *restrict d, const uint8_t *restrict s, int n)
{
  for (int i = 0; i < n; i++) {
    unsigned ia = 255u - s[4 * i + 3];
    d[3 * i + 0] = (uint8_t) (s[4 * i + 0] + ov_div255 (d[3 * i + 0] * ia));
    d[3 * i + 1] = (uint8_t) (s[4 * i + 1] + ov_div255 (d[3 * i + 1] * ia));
    d[3 * i + 2] = (uint8_t) (s[4 * i + 2] + ov_div255 (d[3 * i + 2] * ia));
  }
}

/* One plane sample per pixel: premultiplied value v with alpha a. */
static void
row_over1 (uint8_t *restrict d, const uint8_t *restrict v,
    const uint8_t *restrict a, int n, unsigned op)
{
  if (op == 255) {
    for (int i = 0; i < n; i++)
      d[i] = (uint8_t) (v[i] + ov_div255 (d[i] * (255u - a[i])));
    return;
  }
  for (int i = 0; i < n; i++)
    d[i] = (uint8_t) (ov_div255 (v[i] * op) +
        ov_div255 (d[i] * (255u - ov_div255 (a[i] * op))));
}

/* Interleaved chroma (NV12): u, v premultiplied with alpha a. */
static void
row_over_uv (uint8_t *restrict d, const uint8_t *restrict u,
    const uint8_t *restrict v, const uint8_t *restrict a, int n,
    unsigned op)
{
  for (int i = 0; i < n; i++) {
    unsigned aa = ov_div255 (a[i] * op), ia = 255u - aa;
    d[2 * i] = (uint8_t) (ov_div255 (u[i] * op) + ov_div255 (d[2 * i] * ia));
    d[2 * i + 1] = (uint8_t) (ov_div255 (v[i] * op) +
        ov_div255 (d[2 * i + 1] * ia));
  }
}

/* ------------------------------------------------------------------ */
/* Clipping                                                            */
/* ------------------------------------------------------------------ */

typedef struct {
  int x0, y0, w, h;           /* rectangle in the frame */
  int sx, sy;                 /* its top-left in the panel */
} clip_rect;

/* The part of a w x h panel at (x, y) inside the frame; false if none. */
static bool
clip (const vlm_overlay_frame *f, int x, int y, int w, int h, clip_rect *c)
{
  int64_t x0 = x < 0 ? 0 : x, y0 = y < 0 ? 0 : y;
  int64_t x1 = (int64_t) x + w, y1 = (int64_t) y + h;

  if (x1 > f->width)
    x1 = f->width;
  if (y1 > f->height)
    y1 = f->height;
  if (x0 >= x1 || y0 >= y1)
    return false;
  c->x0 = (int) x0;
  c->y0 = (int) y0;
  c->w = (int) (x1 - x0);
  c->h = (int) (y1 - y0);
  c->sx = (int) (x0 - x);
  c->sy = (int) (y0 - y);
  return true;
}

/* ------------------------------------------------------------------ */
/* Packed formats                                                      */
/* ------------------------------------------------------------------ */

/* The panel with R and B swapped (BGRA, BGRx frames), made once. */
static const uint8_t *
build_bgra (ov_blend_cache *c, const ov_source *src)
{
  size_t n = (size_t) src->w * (size_t) src->h * 4;

  if (c->bgra_valid)
    return c->bgra;
  if (n > c->cap_bgra) {
    uint8_t *p = realloc (c->bgra, n);
    if (!p)
      return NULL;
    c->bgra = p;
    c->cap_bgra = n;
  }
  for (int y = 0; y < src->h; y++) {
    const uint8_t *s = src->rgba + (size_t) y * (size_t) src->stride;
    uint8_t *d = c->bgra + (size_t) y * (size_t) src->w * 4;
    for (int x = 0; x < 4 * src->w; x += 4) {
      d[x + 0] = s[x + 2];
      d[x + 1] = s[x + 1];
      d[x + 2] = s[x + 0];
      d[x + 3] = s[x + 3];
    }
  }
  c->bgra_valid = true;
  return c->bgra;
}

/* Makes room for one scaled panel row of n bytes. */
static uint8_t *
build_row (ov_blend_cache *c, size_t n)
{
  if (n > c->cap_row) {
    uint8_t *p = realloc (c->row, n);
    if (!p)
      return NULL;
    c->row = p;
    c->cap_row = n;
  }
  return c->row;
}

static vlm_overlay_status
blend_packed (ov_blend_cache *c, const ov_source *src,
    const vlm_overlay_frame *f, const clip_rect *r, unsigned op)
{
  const uint8_t *panel = src->rgba;
  int pstride = src->stride, bpp = packed_bpp (f->format);
  uint8_t *scaled = NULL;

  if (f->format == VLM_OVERLAY_FORMAT_BGRA ||
      f->format == VLM_OVERLAY_FORMAT_BGRx) {
    if (!(panel = build_bgra (c, src)))
      return VLM_OVERLAY_ERR_NOMEM;
    pstride = src->w * 4;
  }
  if (op != 255 && !(scaled = build_row (c, (size_t) r->w * 4)))
    return VLM_OVERLAY_ERR_NOMEM;
  for (int y = 0; y < r->h; y++) {
    uint8_t *d = f->data[0] + (size_t) (r->y0 + y) * (size_t) f->stride[0] +
        (size_t) r->x0 * (size_t) bpp;
    const uint8_t *s = panel + (size_t) (r->sy + y) * (size_t) pstride +
        (size_t) r->sx * 4;
    if (scaled) {
      row_scale (scaled, s, 4 * r->w, op);   /* fading: panel * opacity */
      s = scaled;
    }
    if (bpp == 3)
      row_over3 (d, s, r->w);
    else
      row_over4 (d, s, r->w);
  }
  return VLM_OVERLAY_OK;
}

/* ------------------------------------------------------------------ */
/* YUV: converting the panel                                           */
/* ------------------------------------------------------------------ */

/* BT.601 limited range from full-range premultiplied R', G', B' with
 * alpha a: the offsets (16, 128) scale with alpha too. */
static float
premul_y (const uint8_t *p)
{
  return 16.0f / 255.0f * p[3] + 0.256788f * p[0] + 0.504129f * p[1] +
      0.097906f * p[2];
}

static float
premul_u (const uint8_t *p)
{
  return 128.0f / 255.0f * p[3] - 0.148223f * p[0] - 0.290993f * p[1] +
      0.439216f * p[2];
}

static float
premul_v (const uint8_t *p)
{
  return 128.0f / 255.0f * p[3] + 0.439216f * p[0] - 0.367788f * p[1] -
      0.071427f * p[2];
}

/* v rounded and kept in [0, a] (the premultiplied invariant). */
static uint8_t
to_byte (float v, unsigned a)
{
  int i = (int) (v + 0.5f);
  return (uint8_t) ov_clampi (i, 0, (int) a);
}

/* Reserves the Y/A and chroma planes of the cache. */
static bool
reserve_yuv (ov_blend_cache *c, size_t n_ya, size_t n_uva)
{
  if (n_ya > c->cap_ya) {
    uint8_t *p = realloc (c->ya, n_ya);
    if (!p)
      return false;
    c->ya = p;
    c->cap_ya = n_ya;
  }
  if (n_uva > c->cap_uva) {
    uint8_t *p = realloc (c->uva, n_uva);
    if (!p)
      return false;
    c->uva = p;
    c->cap_uva = n_uva;
  }
  return true;
}

/* Premultiplied Y (first plane) and alpha (second) of the clipped part. */
static void
convert_luma (ov_blend_cache *c, const ov_source *src, const clip_rect *r)
{
  size_t n = (size_t) r->w * (size_t) r->h;

  for (int y = 0; y < r->h; y++) {
    const uint8_t *s = src->rgba + (size_t) (r->sy + y) * (size_t) src->stride
        + (size_t) r->sx * 4;
    uint8_t *yp = c->ya + (size_t) y * (size_t) r->w, *ap = yp + n;
    for (int x = 0; x < r->w; x++) {
      yp[x] = to_byte (premul_y (s + 4 * x), s[4 * x + 3]);
      ap[x] = s[4 * x + 3];
    }
  }
}

/* Mean premultiplied Cb, Cr and alpha of chroma block (bx, by) of the
 * frame, the panel's top-left corner at (px, py). */
static void
convert_block (const ov_source *src, const vlm_overlay_frame *f,
    const clip_rect *r, int px, int py, int bx, int by, uint8_t out[3])
{
  float u = 0, v = 0, a = 0;
  int n = 0;

  for (int dy = 0; dy < 2; dy++)
    for (int dx = 0; dx < 2; dx++) {
      int fx = 2 * bx + dx, fy = 2 * by + dy;
      const uint8_t *s;
      if (fx >= f->width || fy >= f->height)
        continue;                       /* beyond an odd edge */
      n++;
      if (fx < r->x0 || fx >= r->x0 + r->w || fy < r->y0 ||
          fy >= r->y0 + r->h)
        continue;                       /* not under the panel */
      s = src->rgba + (size_t) (fy - py) * (size_t) src->stride +
          (size_t) (fx - px) * 4;
      u += premul_u (s);
      v += premul_v (s);
      a += s[3];
    }
  out[2] = (uint8_t) (int) (a / (float) n + 0.5f);
  out[0] = to_byte (u / (float) n, out[2]);
  out[1] = to_byte (v / (float) n, out[2]);
}

/* The same for a block whose four pixels are all under the panel, top
 * left at panel pixel s (the common case, without the checks). */
static void
convert_inner_block (const uint8_t *s, int stride, uint8_t out[3])
{
  const uint8_t *p[4] = { s, s + 4, s + stride, s + stride + 4 };
  float u = 0, v = 0, a = 0;

  for (int k = 0; k < 4; k++) {
    u += premul_u (p[k]);
    v += premul_v (p[k]);
    a += p[k][3];
  }
  out[2] = (uint8_t) (int) (a / 4.0f + 0.5f);
  out[0] = to_byte (u / 4.0f, out[2]);
  out[1] = to_byte (v / 4.0f, out[2]);
}

/* Whether all four pixels of block (bx, by) are under the clipped panel
 * (then they are inside the frame too). */
static bool
block_inside (const clip_rect *r, int bx, int by)
{
  return 2 * bx >= r->x0 && 2 * bx + 2 <= r->x0 + r->w &&
      2 * by >= r->y0 && 2 * by + 2 <= r->y0 + r->h;
}

/* Converts the panel for this frame size and placement, once. */
static vlm_overlay_status
build_yuv (ov_blend_cache *c, const ov_source *src,
    const vlm_overlay_frame *f, const clip_rect *r, int x, int y)
{
  int bx0 = r->x0 / 2, by0 = r->y0 / 2;
  int bw = (r->x0 + r->w - 1) / 2 - bx0 + 1;
  int bh = (r->y0 + r->h - 1) / 2 - by0 + 1;
  size_t nb = (size_t) bw * (size_t) bh;

  if (c->yuv_valid && c->frame_w == f->width && c->frame_h == f->height &&
      c->x == x && c->y == y)
    return VLM_OVERLAY_OK;
  if (!reserve_yuv (c, 2 * (size_t) r->w * (size_t) r->h, 3 * nb))
    return VLM_OVERLAY_ERR_NOMEM;
  convert_luma (c, src, r);
  for (int by = 0; by < bh; by++)
    for (int bx = 0; bx < bw; bx++) {
      int fbx = bx0 + bx, fby = by0 + by;
      uint8_t out[3];
      if (block_inside (r, fbx, fby))
        convert_inner_block (src->rgba + (size_t) (2 * fby - y) *
            (size_t) src->stride + (size_t) (2 * fbx - x) * 4, src->stride,
            out);
      else
        convert_block (src, f, r, x, y, fbx, fby, out);
      /* three planes: Cb, Cr, alpha */
      for (int k = 0; k < 3; k++)
        c->uva[k * nb + (size_t) by * (size_t) bw + bx] = out[k];
    }
  c->frame_w = f->width;
  c->frame_h = f->height;
  c->x = x;
  c->y = y;
  c->bx0 = bx0;
  c->by0 = by0;
  c->bw = bw;
  c->bh = bh;
  c->yuv_valid = true;
  return VLM_OVERLAY_OK;
}

/* ------------------------------------------------------------------ */
/* YUV: blending                                                       */
/* ------------------------------------------------------------------ */

static vlm_overlay_status
blend_yuv (ov_blend_cache *c, const ov_source *src,
    const vlm_overlay_frame *f, const clip_rect *r, int x, int y,
    unsigned op)
{
  vlm_overlay_status s = build_yuv (c, src, f, r, x, y);
  size_t n = (size_t) r->w * (size_t) r->h, nb = (size_t) c->bw *
      (size_t) c->bh;

  if (s != VLM_OVERLAY_OK)
    return s;
  for (int j = 0; j < r->h; j++) {
    const uint8_t *yp = c->ya + (size_t) j * (size_t) r->w;
    row_over1 (f->data[0] + (size_t) (r->y0 + j) * (size_t) f->stride[0] +
        r->x0, yp, yp + n, r->w, op);
  }
  for (int j = 0; j < c->bh; j++) {
    const uint8_t *u = c->uva + (size_t) j * (size_t) c->bw;
    const uint8_t *v = u + nb, *a = u + 2 * nb;
    size_t row = (size_t) (c->by0 + j);
    if (f->format == VLM_OVERLAY_FORMAT_NV12) {
      row_over_uv (f->data[1] + row * (size_t) f->stride[1] +
          2 * (size_t) c->bx0, u, v, a, c->bw, op);
    } else {
      row_over1 (f->data[1] + row * (size_t) f->stride[1] + c->bx0, u, a,
          c->bw, op);
      row_over1 (f->data[2] + row * (size_t) f->stride[2] + c->bx0, v, a,
          c->bw, op);
    }
  }
  return VLM_OVERLAY_OK;
}

/* ------------------------------------------------------------------ */
/* Entry points                                                        */
/* ------------------------------------------------------------------ */

vlm_overlay_status
ov_blend (ov_blend_cache *c, const ov_source *src,
    const vlm_overlay_frame *f, int x, int y, unsigned op)
{
  clip_rect r;

  if (!ov_frame_valid (f))
    return VLM_OVERLAY_ERR_INVALID_ARG;
  if (c->serial != src->serial) {
    c->serial = src->serial;            /* a new panel: conversions stale */
    c->bgra_valid = false;
    c->yuv_valid = false;
  }
  if (src->w <= 0 || src->h <= 0 || op == 0 ||
      !clip (f, x, y, src->w, src->h, &r))
    return VLM_OVERLAY_OK;
  if (packed_bpp (f->format))
    return blend_packed (c, src, f, &r, op);
  return blend_yuv (c, src, f, &r, x, y, op);
}

void
ov_blend_cache_free (ov_blend_cache *c)
{
  free (c->bgra);
  free (c->row);
  free (c->ya);
  free (c->uva);
  memset (c, 0, sizeof *c);
}

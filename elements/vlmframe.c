/* gst-vlm — raw video frame to model input image (see vlmframe.h). */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "vlmframe.h"

#include <math.h>
#include <string.h>

struct VlmFrameConverter {
  GstVideoConverter *conv;
  GstVideoInfo in_info;       /* input of conv */
  VlmResizeMode mode;
  int size;
  GstVideoInfo out_info;
};

VlmFrameConverter *
vlm_frame_converter_new (void)
{
  return g_new0 (VlmFrameConverter, 1);
}

void
vlm_frame_converter_free (VlmFrameConverter * c)
{
  if (c == NULL)
    return;
  if (c->conv)
    gst_video_converter_free (c->conv);
  g_free (c);
}

void
vlm_resize_geometry (int in_w, int in_h, int par_n, int par_d, int out_w,
    int out_h, VlmResizeMode mode, VlmResizeGeometry * g)
{
  double dw, dh;

  par_n = MAX (par_n, 1);
  par_d = MAX (par_d, 1);
  /* display width in units of pixel heights */
  dw = (double) in_w * par_n / par_d;
  dh = in_h;

  g->src_x = g->src_y = 0;
  g->src_w = in_w;
  g->src_h = in_h;
  g->dst_x = g->dst_y = 0;
  g->dst_w = out_w;
  g->dst_h = out_h;

  if (mode == VLM_RESIZE_LETTERBOX) {
    if (out_w == out_h) {
      int size = out_w;

      if (dw >= dh) {
        g->dst_h = MAX (1, (int) lround (size * dh / dw));
        g->dst_y = (size - g->dst_h) / 2;
      } else {
        g->dst_w = MAX (1, (int) lround (size * dw / dh));
        g->dst_x = (size - g->dst_w) / 2;
      }
    } else if (dw * out_h >= dh * out_w) {
      g->dst_h = CLAMP ((int) lround (out_w * dh / dw), 1, out_h);
      g->dst_y = (out_h - g->dst_h) / 2;
    } else {
      g->dst_w = CLAMP ((int) lround (out_h * dw / dh), 1, out_w);
      g->dst_x = (out_w - g->dst_w) / 2;
    }
  } else if (mode == VLM_RESIZE_CROP) {
    if (out_w == out_h) {
      if (dw >= dh) {
        g->src_w = MAX (1, (int) lround (dh * par_d / par_n));
        g->src_w = MIN (g->src_w, in_w);
        g->src_x = (in_w - g->src_w) / 2;
      } else {
        g->src_h = MAX (1, (int) lround (dw));
        g->src_h = MIN (g->src_h, in_h);
        g->src_y = (in_h - g->src_h) / 2;
      }
    } else if (dw * out_h >= dh * out_w) {
      g->src_w = CLAMP ((int) lround (dh * out_w / out_h * par_d / par_n), 1,
          in_w);
      g->src_x = (in_w - g->src_w) / 2;
    } else {
      g->src_h = CLAMP ((int) lround (dw * out_h / out_w), 1, in_h);
      g->src_y = (in_h - g->src_h) / 2;
    }
  }
}

static gboolean
same_input (const GstVideoInfo * a, const GstVideoInfo * b)
{
  return GST_VIDEO_INFO_FORMAT (a) == GST_VIDEO_INFO_FORMAT (b) &&
      GST_VIDEO_INFO_WIDTH (a) == GST_VIDEO_INFO_WIDTH (b) &&
      GST_VIDEO_INFO_HEIGHT (a) == GST_VIDEO_INFO_HEIGHT (b) &&
      a->colorimetry.matrix == b->colorimetry.matrix &&
      a->colorimetry.range == b->colorimetry.range &&
      GST_VIDEO_INFO_PAR_N (a) == GST_VIDEO_INFO_PAR_N (b) &&
      GST_VIDEO_INFO_PAR_D (a) == GST_VIDEO_INFO_PAR_D (b);
}

static gboolean
ensure_converter (VlmFrameConverter * c, const GstVideoInfo * in,
    VlmResizeMode mode, int size)
{
  VlmResizeGeometry g;
  GstStructure *opts;

  if (c->conv && c->mode == mode && c->size == size
      && same_input (&c->in_info, in))
    return TRUE;
  if (c->conv)
    gst_video_converter_free (c->conv);
  c->conv = NULL;

  vlm_resize_geometry (GST_VIDEO_INFO_WIDTH (in), GST_VIDEO_INFO_HEIGHT (in),
      GST_VIDEO_INFO_PAR_N (in), GST_VIDEO_INFO_PAR_D (in), size, size, mode,
      &g);

  gst_video_info_set_format (&c->out_info, GST_VIDEO_FORMAT_RGB, size, size);
  /* the converter wants these equal; they mean nothing for one image */
  GST_VIDEO_INFO_FPS_N (&c->out_info) = GST_VIDEO_INFO_FPS_N (in);
  GST_VIDEO_INFO_FPS_D (&c->out_info) = GST_VIDEO_INFO_FPS_D (in);
  GST_VIDEO_INFO_INTERLACE_MODE (&c->out_info) =
      GST_VIDEO_INFO_INTERLACE_MODE (in);
  opts = gst_structure_new ("vlm-frame",
      GST_VIDEO_CONVERTER_OPT_SRC_X, G_TYPE_INT, g.src_x,
      GST_VIDEO_CONVERTER_OPT_SRC_Y, G_TYPE_INT, g.src_y,
      GST_VIDEO_CONVERTER_OPT_SRC_WIDTH, G_TYPE_INT, g.src_w,
      GST_VIDEO_CONVERTER_OPT_SRC_HEIGHT, G_TYPE_INT, g.src_h,
      GST_VIDEO_CONVERTER_OPT_DEST_X, G_TYPE_INT, g.dst_x,
      GST_VIDEO_CONVERTER_OPT_DEST_Y, G_TYPE_INT, g.dst_y,
      GST_VIDEO_CONVERTER_OPT_DEST_WIDTH, G_TYPE_INT, g.dst_w,
      GST_VIDEO_CONVERTER_OPT_DEST_HEIGHT, G_TYPE_INT, g.dst_h,
      GST_VIDEO_CONVERTER_OPT_FILL_BORDER, G_TYPE_BOOLEAN, TRUE,
      GST_VIDEO_CONVERTER_OPT_BORDER_ARGB, G_TYPE_UINT, 0xff7f7f7fu,
      GST_VIDEO_CONVERTER_OPT_RESAMPLER_METHOD,
      GST_TYPE_VIDEO_RESAMPLER_METHOD, GST_VIDEO_RESAMPLER_METHOD_LINEAR,
      GST_VIDEO_CONVERTER_OPT_DITHER_METHOD, GST_TYPE_VIDEO_DITHER_METHOD,
      GST_VIDEO_DITHER_NONE, NULL);
  c->conv = gst_video_converter_new (in, &c->out_info, opts);
  if (c->conv == NULL)
    return FALSE;
  c->in_info = *in;
  c->mode = mode;
  c->size = size;
  return TRUE;
}

gboolean
vlm_frame_convert (VlmFrameConverter * c, const GstVideoFrame * frame,
    VlmResizeMode mode, int size, guint8 * rgb)
{
  GstVideoFrame out;
  GstBuffer *buf;
  gsize n = (gsize) size * size * 3;
  gboolean ok;

  g_return_val_if_fail (c != NULL && frame != NULL && rgb != NULL, FALSE);
  g_return_val_if_fail (size > 0, FALSE);

  if (!ensure_converter (c, &frame->info, mode, size))
    return FALSE;

  /* RGB rows of a size x size image: GstVideoInfo pads rows to 4 bytes;
   * 3 size is a multiple of 4 for every size multiple of 4 (model sizes
   * are). Otherwise convert into scratch and repack. */
  if (GST_VIDEO_INFO_PLANE_STRIDE (&c->out_info, 0) == size * 3) {
    buf = gst_buffer_new_wrapped_full (0, rgb, n, 0, n, NULL, NULL);
    ok = gst_video_frame_map (&out, &c->out_info, buf, GST_MAP_WRITE);
    if (ok) {
      gst_video_converter_frame (c->conv, frame, &out);
      gst_video_frame_unmap (&out);
    }
    gst_buffer_unref (buf);
  } else {
    buf = gst_buffer_new_allocate (NULL, GST_VIDEO_INFO_SIZE (&c->out_info),
        NULL);
    ok = buf && gst_video_frame_map (&out, &c->out_info, buf, GST_MAP_WRITE);
    if (ok) {
      const guint8 *p = GST_VIDEO_FRAME_PLANE_DATA (&out, 0);
      int stride = GST_VIDEO_FRAME_PLANE_STRIDE (&out, 0);

      gst_video_converter_frame (c->conv, frame, &out);
      for (int y = 0; y < size; y++)
        memcpy (rgb + (gsize) y * size * 3, p + (gsize) y * stride,
            (gsize) size * 3);
      gst_video_frame_unmap (&out);
    }
    if (buf)
      gst_buffer_unref (buf);
  }
  return ok;
}

#define GRID 16

static void
block_luma (const guint8 * img, int size, double out[GRID * GRID])
{
  for (int by = 0; by < GRID; by++) {
    int y0 = by * size / GRID, y1 = (by + 1) * size / GRID;
    for (int bx = 0; bx < GRID; bx++) {
      int x0 = bx * size / GRID, x1 = (bx + 1) * size / GRID;
      double sum = 0;
      int n = 0;
      for (int y = y0; y < y1; y++) {
        const guint8 *p = img + ((gsize) y * size + x0) * 3;
        for (int x = x0; x < x1; x++, p += 3, n++)
          sum += 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2];
      }
      out[by * GRID + bx] = n ? sum / n : 0;
    }
  }
}

double
vlm_frame_difference (const guint8 * a, const guint8 * b, int size)
{
  double la[GRID * GRID], lb[GRID * GRID], d = 0;

  if (size < GRID)
    return 1.0;
  block_luma (a, size, la);
  block_luma (b, size, lb);
  for (int i = 0; i < GRID * GRID; i++)
    d += fabs (la[i] - lb[i]);
  return d / (GRID * GRID * 255.0);
}

/* gst-vlm — GPU path from a video texture to the model's input image.
 * Copyright (C) 2025 gst-vlm authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * One fragment-shader pass that resamples an RGBA texture (any size, any
 * pixel aspect ratio) into the model's input image, letterboxed (bars of a
 * pad colour), centre-cropped or stretched, exactly like the CPU path of
 * vlmframe.h: same rectangles (vlm_resize_geometry of vlmframe.h), same filter.
 *
 * The filter is the "linear" resampler of GstVideoConverter, which the
 * CPU path uses: per axis a tent (triangle) over the source texels whose
 * half-width follows the scale factor, so that every source texel under
 * an output pixel contributes (no aliasing on strong downscales):
 *   taps  = ceil (2 * in / out) texels (2 when upscaling: plain bilinear),
 *   slope = 2 / taps, weight(d) = max (0, 1 - |d| * slope),
 *   centre x = (j + 0.5) * in / out - 0.5, clamped to [0, in - 1],
 *   window  = taps texels from floor (x - (taps - 1) / 2), texels past the
 *             edges of the source rectangle repeat the edge texel,
 *   weights normalised per axis.
 * The 2D filter is separable; the shader covers two taps per axis, a 2x2
 * texel block, with one bilinear texture fetch placed between the two
 * texels in proportion to their weights, so a 1080p -> 336 letterbox
 * (12 taps per axis) costs 6 x 6 = 36 fetches per output pixel. The tap
 * count is baked into the shader (GLSL ES 1.00 loops need constant
 * bounds), which is rebuilt when it changes (i.e. on a new input size).
 *
 * The shaders are GLSL ES 1.00 (GLES2) and run through GstGLSLStage's
 * version handling on desktop GL (compatibility or core). They use highp
 * where the GPU has it; on GPUs whose fragment shaders are mediump only
 * (Mali-400 class), texture coordinates of inputs wider than ~2048 px
 * lose precision.
 *
 * Threads: vlm_resize_taps is a plain function.
 * Everything taking a VlmGLResize runs on the GL thread of its context
 * (gst_gl_context_thread_add), including vlm_gl_resize_new and _free.
 */
#ifndef VLM_GL_RESIZE_H
#define VLM_GL_RESIZE_H

#include <gst/gl/gl.h>
#include <gst/video/video.h>

#include "vlmframe.h"

G_BEGIN_DECLS

/* The filter of one axis resampling in_size texels to out_size pixels
 * (GstVideoResampler's linear method; see above). */
typedef struct {
  int taps;                     /* texels per output pixel, 1..128 */
  double slope;                 /* tent: weight = max (0, 1 - |d| slope) */
  int first;                    /* window starts at floor (x - first) */
  double corr;                  /* x = (j + 0.5) in / out - corr */
} VlmResizeTaps;

void vlm_resize_taps (int in_size, int out_size, VlmResizeTaps * t);

/* The fragment shader's GLSL ES 1.00 source (without precision header)
 * for pairs_x x pairs_y bilinear fetches per output pixel. g_free it. */
gchar *vlm_gl_resize_fragment_source (int pairs_x, int pairs_y);

typedef struct VlmGLResize VlmGLResize;

/* GL thread of context. Never fails (GL objects are made when first
 * needed); free with vlm_gl_resize_free on the same thread. */
VlmGLResize *vlm_gl_resize_new (GstGLContext * context);
void vlm_gl_resize_free (VlmGLResize * r);
GstGLContext *vlm_gl_resize_get_context (VlmGLResize * r);

/* Renders in (a 2D RGBA texture holding an in_info-sized picture) into
 * out (2D RGBA, any size) in one pass. pad_argb is 0xAARRGGBB. FALSE with
 * error set when a GL object could not be made (shader compile, FBO). */
gboolean vlm_gl_resize_render (VlmGLResize * r, GstGLMemory * in,
    const GstVideoInfo * in_info, GstGLMemory * out, VlmResizeMode mode,
    guint32 pad_argb, GError ** error);

/* Renders in into the helper's own size x size RGBA texture, reads that
 * back (glReadPixels, size * size * 4 bytes: the only pixels that reach
 * the CPU) and packs it to RGB8 rows of 3 size bytes in rgb. Letterbox
 * bars are grey 0x7f7f7f like vlm_frame_convert's. */
gboolean vlm_gl_resize_read_rgb (VlmGLResize * r, GstGLMemory * in,
    const GstVideoInfo * in_info, int size, VlmResizeMode mode, guint8 * rgb,
    GError ** error);

/* The pad colour of vlm_frame_convert's letterbox bars (0xAARRGGBB). */
#define VLM_RESIZE_PAD_ARGB 0xff7f7f7fu

G_END_DECLS

#endif /* VLM_GL_RESIZE_H */

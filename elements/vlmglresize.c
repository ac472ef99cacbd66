/* gst-vlm — GPU path from a video texture to the model's input image
 * (see vlmglresize.h).
 * Copyright (C) 2025 gst-vlm authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "vlmglresize.h"

#include <gst/gl/gstglfuncs.h>
#include <math.h>
#include <string.h>

GST_DEBUG_CATEGORY_STATIC (vlm_gl_resize_debug);
#define GST_CAT_DEFAULT vlm_gl_resize_debug

/* GstVideoResampler's limit (DEFAULT_OPT_MAX_TAPS) */
#define MAX_TAPS 128

/* ------------------------------------------------------------------ */
/* Geometry and filter (plain C)                                       */
/* ------------------------------------------------------------------ */

void
vlm_resize_taps (int in_size, int out_size, VlmResizeTaps * t)
{
  /* the operations of gst_video_resampler_init for the linear method
   * (envelope 1, sharpness 1, n_taps 0 = automatic) */
  double scale = in_size / (double) out_size;
  double fx = scale > 1.0 ? 1.0 / scale : 1.0;
  int taps = (int) CLAMP (ceil (2.0 * 1.0 / fx), 0, MAX_TAPS);

  t->slope = 2.0 * 1.0 / taps;
  if (taps > in_size)
    taps = in_size;
  t->taps = MAX (taps, 1);
  t->first = (t->taps - 1) / 2;
  t->corr = t->taps == 1 ? 0.0 : 0.5;
}

/* One axis: for output pixel j of the destination rectangle, the source
 * position x (texels from the source rectangle's start) and, for each
 * pair k of taps, a fetch position between texels p0 = clamp (xi + 2k)
 * and p1 = clamp (xi + 2k + 1) with weight w0 + w1. The tap pairs are
 * kept in a local array (indexing by a loop index is allowed in GLSL ES
 * 1.00). Division by the sum of weights normalises the axis. */
static const gchar frag_body[] =
    "varying vec2 v_texcoord;\n"
    "uniform sampler2D tex;\n"
    "uniform vec2 u_tex_size;   /* texture size, texels */\n"
    "uniform vec4 u_src;        /* source rectangle x, y, w, h, texels */\n"
    "uniform vec4 u_dst;        /* destination rectangle, output pixels */\n"
    "uniform vec2 u_out_size;   /* output size, pixels */\n"
    "uniform vec2 u_taps;       /* taps per axis */\n"
    "uniform vec2 u_slope;      /* tent slope per axis */\n"
    "uniform vec2 u_first;      /* window start offset per axis */\n"
    "uniform vec2 u_corr;       /* centre correction per axis */\n"
    "uniform vec4 u_pad;        /* pad colour, RGBA */\n"
    "\n"
    "float tent (float d, float slope)\n"
    "{\n"
    "  return max (0.0, 1.0 - abs (d) * slope);\n"
    "}\n"
    "\n"
    "void main ()\n"
    "{\n"
    "  vec2 j = floor (v_texcoord * u_out_size) - u_dst.xy;\n"
    "  vec2 x, xi, hi;\n"
    "  vec2 fx[PAIRS_X];\n"
    "  vec2 fy[PAIRS_Y];\n"
    "  float sx = 0.0, sy = 0.0;\n"
    "  vec4 acc = vec4 (0.0);\n"
    "\n"
    "  if (j.x < 0.0 || j.y < 0.0 || j.x >= u_dst.z || j.y >= u_dst.w) {\n"
    "    gl_FragColor = u_pad;\n"
    "    return;\n"
    "  }\n"
    "  hi = u_src.zw - 1.0;\n"
    "  x = clamp ((j + 0.5) * u_src.zw / u_dst.zw - u_corr, vec2 (0.0), hi);\n"
    "  xi = floor (x - u_first);\n"
    "  for (int k = 0; k < PAIRS_X; k++) {\n"
    "    float l = xi.x + 2.0 * float (k);\n"
    "    float w0 = l - xi.x < u_taps.x ? tent (x.x - l, u_slope.x) : 0.0;\n"
    "    float w1 = l + 1.0 - xi.x < u_taps.x ?\n"
    "        tent (x.x - l - 1.0, u_slope.x) : 0.0;\n"
    "    float p0 = clamp (l, 0.0, hi.x);\n"
    "    float p1 = clamp (l + 1.0, 0.0, hi.x);\n"
    "    float w = w0 + w1;\n"
    "    float p = p0 + (w > 0.0 ? (p1 - p0) * w1 / w : 0.0);\n"
    "    fx[k] = vec2 ((u_src.x + p + 0.5) / u_tex_size.x, w);\n"
    "    sx += w;\n"
    "  }\n"
    "  for (int k = 0; k < PAIRS_Y; k++) {\n"
    "    float l = xi.y + 2.0 * float (k);\n"
    "    float w0 = l - xi.y < u_taps.y ? tent (x.y - l, u_slope.y) : 0.0;\n"
    "    float w1 = l + 1.0 - xi.y < u_taps.y ?\n"
    "        tent (x.y - l - 1.0, u_slope.y) : 0.0;\n"
    "    float p0 = clamp (l, 0.0, hi.y);\n"
    "    float p1 = clamp (l + 1.0, 0.0, hi.y);\n"
    "    float w = w0 + w1;\n"
    "    float p = p0 + (w > 0.0 ? (p1 - p0) * w1 / w : 0.0);\n"
    "    fy[k] = vec2 ((u_src.y + p + 0.5) / u_tex_size.y, w);\n"
    "    sy += w;\n"
    "  }\n"
    "  for (int m = 0; m < PAIRS_Y; m++) {\n"
    "    vec4 row = vec4 (0.0);\n"
    "    for (int k = 0; k < PAIRS_X; k++)\n"
    "      row += fx[k].y * texture2D (tex, vec2 (fx[k].x, fy[m].x));\n"
    "    acc += fy[m].y * row;\n"
    "  }\n"
    "  gl_FragColor = acc / (sx * sy);\n"
    "}\n";

gchar *
vlm_gl_resize_fragment_source (int pairs_x, int pairs_y)
{
  return g_strdup_printf ("#define PAIRS_X %d\n#define PAIRS_Y %d\n%s",
      MAX (pairs_x, 1), MAX (pairs_y, 1), frag_body);
}

/* ------------------------------------------------------------------ */
/* GL (GL thread only)                                                 */
/* ------------------------------------------------------------------ */

struct VlmGLResize {
  GstGLContext *context;
  GstGLFramebuffer *fbo;
  GstGLShader *shader;
  int pairs_x, pairs_y;         /* of shader */
  GLuint vao, vbo;
  /* read_rgb */
  GstGLMemory *target;          /* size x size RGBA */
  int target_size;
  guint8 *rgba;
};

/* x, y, z, s, t: a triangle strip over the viewport. Texture row 0 is the
 * first row in memory (top of the picture); it is drawn at y = -1, the
 * framebuffer's row 0, so nothing is flipped. */
static const GLfloat quad[] = {
  -1.0f, -1.0f, 0.0f, 0.0f, 0.0f,
  1.0f, -1.0f, 0.0f, 1.0f, 0.0f,
  -1.0f, 1.0f, 0.0f, 0.0f, 1.0f,
  1.0f, 1.0f, 0.0f, 1.0f, 1.0f,
};

VlmGLResize *
vlm_gl_resize_new (GstGLContext * context)
{
  VlmGLResize *r;

  if (vlm_gl_resize_debug == NULL)
    GST_DEBUG_CATEGORY_INIT (vlm_gl_resize_debug, "vlmglresize", 0,
        "vlmglresize: GPU resize to the model's input");
  g_return_val_if_fail (GST_IS_GL_CONTEXT (context), NULL);

  r = g_new0 (VlmGLResize, 1);
  r->context = gst_object_ref (context);
  return r;
}

void
vlm_gl_resize_free (VlmGLResize * r)
{
  const GstGLFuncs *gl;

  if (r == NULL)
    return;
  gl = r->context->gl_vtable;
  if (r->vao)
    gl->DeleteVertexArrays (1, &r->vao);
  if (r->vbo)
    gl->DeleteBuffers (1, &r->vbo);
  if (r->target)
    gst_memory_unref (GST_MEMORY_CAST (r->target));
  gst_clear_object (&r->shader);
  gst_clear_object (&r->fbo);
  gst_object_unref (r->context);
  g_free (r->rgba);
  g_free (r);
}

GstGLContext *
vlm_gl_resize_get_context (VlmGLResize * r)
{
  return r->context;
}

static gboolean
ensure_shader (VlmGLResize * r, int pairs_x, int pairs_y, GError ** error)
{
  const gchar *precision;
  gchar *body, *src;
  GstGLSLStage *vert, *frag;
  GstGLShader *shader;

  if (r->shader && r->pairs_x == pairs_x && r->pairs_y == pairs_y)
    return TRUE;
  gst_clear_object (&r->shader);

  precision = gst_gl_shader_string_get_highest_precision (r->context,
      GST_GLSL_VERSION_NONE, GST_GLSL_PROFILE_ES | GST_GLSL_PROFILE_COMPATIBILITY);
  body = vlm_gl_resize_fragment_source (pairs_x, pairs_y);
  src = g_strconcat (precision, body, NULL);
  g_free (body);

  vert = gst_glsl_stage_new_default_vertex (r->context);
  frag = gst_glsl_stage_new_with_string (r->context, GL_FRAGMENT_SHADER,
      GST_GLSL_VERSION_NONE,
      GST_GLSL_PROFILE_ES | GST_GLSL_PROFILE_COMPATIBILITY, src);
  g_free (src);
  /* takes the stages, also on failure */
  shader = gst_gl_shader_new_link_with_stages (r->context, error, vert, frag,
      NULL);
  if (shader == NULL)
    return FALSE;

  GST_DEBUG ("shader for %d x %d fetches per pixel", pairs_x, pairs_y);
  r->shader = shader;
  r->pairs_x = pairs_x;
  r->pairs_y = pairs_y;
  return TRUE;
}

typedef struct {
  VlmGLResize *r;
  GstGLMemory *in;
  const GstVideoInfo *in_info;
  int out_w, out_h;
  VlmResizeMode mode;
  guint32 pad_argb;
  guint8 *readback;             /* glReadPixels destination, or NULL */
} Draw;

static gboolean
draw_cb (gpointer data)
{
  Draw *d = data;
  VlmGLResize *r = d->r;
  const GstGLFuncs *gl = r->context->gl_vtable;
  GstGLShader *sh = r->shader;
  VlmResizeGeometry g;
  VlmResizeTaps tx, ty;
  gint pos, tc;

  vlm_resize_geometry (GST_VIDEO_INFO_WIDTH (d->in_info),
      GST_VIDEO_INFO_HEIGHT (d->in_info), GST_VIDEO_INFO_PAR_N (d->in_info),
      GST_VIDEO_INFO_PAR_D (d->in_info), d->out_w, d->out_h, d->mode, &g);
  vlm_resize_taps (g.src_w, g.dst_w, &tx);
  vlm_resize_taps (g.src_h, g.dst_h, &ty);

  gst_gl_shader_use (sh);
  gl->ActiveTexture (GL_TEXTURE0);
  gl->BindTexture (GL_TEXTURE_2D, gst_gl_memory_get_texture_id (d->in));
  gl->TexParameteri (GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_LINEAR);
  gl->TexParameteri (GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_LINEAR);
  gl->TexParameteri (GL_TEXTURE_2D, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE);
  gl->TexParameteri (GL_TEXTURE_2D, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE);

  gst_gl_shader_set_uniform_1i (sh, "tex", 0);
  gst_gl_shader_set_uniform_2f (sh, "u_tex_size",
      (gfloat) gst_gl_memory_get_texture_width (d->in),
      (gfloat) gst_gl_memory_get_texture_height (d->in));
  gst_gl_shader_set_uniform_4f (sh, "u_src", (gfloat) g.src_x,
      (gfloat) g.src_y, (gfloat) g.src_w, (gfloat) g.src_h);
  gst_gl_shader_set_uniform_4f (sh, "u_dst", (gfloat) g.dst_x,
      (gfloat) g.dst_y, (gfloat) g.dst_w, (gfloat) g.dst_h);
  gst_gl_shader_set_uniform_2f (sh, "u_out_size", (gfloat) d->out_w,
      (gfloat) d->out_h);
  gst_gl_shader_set_uniform_2f (sh, "u_taps", (gfloat) tx.taps,
      (gfloat) ty.taps);
  gst_gl_shader_set_uniform_2f (sh, "u_slope", (gfloat) tx.slope,
      (gfloat) ty.slope);
  gst_gl_shader_set_uniform_2f (sh, "u_first", (gfloat) tx.first,
      (gfloat) ty.first);
  gst_gl_shader_set_uniform_2f (sh, "u_corr", (gfloat) tx.corr,
      (gfloat) ty.corr);
  gst_gl_shader_set_uniform_4f (sh, "u_pad",
      ((d->pad_argb >> 16) & 0xff) / 255.0f,
      ((d->pad_argb >> 8) & 0xff) / 255.0f, (d->pad_argb & 0xff) / 255.0f,
      ((d->pad_argb >> 24) & 0xff) / 255.0f);

  if (r->vbo == 0) {
    if (gl->GenVertexArrays)
      gl->GenVertexArrays (1, &r->vao);
    gl->GenBuffers (1, &r->vbo);
    gl->BindBuffer (GL_ARRAY_BUFFER, r->vbo);
    gl->BufferData (GL_ARRAY_BUFFER, sizeof quad, quad, GL_STATIC_DRAW);
  }
  if (r->vao)
    gl->BindVertexArray (r->vao);
  gl->BindBuffer (GL_ARRAY_BUFFER, r->vbo);
  pos = gst_gl_shader_get_attribute_location (sh, "a_position");
  tc = gst_gl_shader_get_attribute_location (sh, "a_texcoord");
  gl->VertexAttribPointer (pos, 3, GL_FLOAT, GL_FALSE, 5 * sizeof (GLfloat),
      (void *) 0);
  gl->VertexAttribPointer (tc, 2, GL_FLOAT, GL_FALSE, 5 * sizeof (GLfloat),
      (void *) (3 * sizeof (GLfloat)));
  gl->EnableVertexAttribArray (pos);
  gl->EnableVertexAttribArray (tc);

  gl->DrawArrays (GL_TRIANGLE_STRIP, 0, 4);

  gl->DisableVertexAttribArray (pos);
  gl->DisableVertexAttribArray (tc);
  gl->BindBuffer (GL_ARRAY_BUFFER, 0);
  if (r->vao)
    gl->BindVertexArray (0);
  gl->BindTexture (GL_TEXTURE_2D, 0);
  gst_gl_context_clear_shader (r->context);

  if (d->readback) {
    gl->PixelStorei (GL_PACK_ALIGNMENT, 4);
    gl->ReadPixels (0, 0, d->out_w, d->out_h, GL_RGBA, GL_UNSIGNED_BYTE,
        d->readback);
  }
  return TRUE;
}

static gboolean
render (VlmGLResize * r, GstGLMemory * in, const GstVideoInfo * in_info,
    GstGLMemory * out, VlmResizeMode mode, guint32 pad_argb,
    guint8 * readback, GError ** error)
{
  int out_w = gst_gl_memory_get_texture_width (out);
  int out_h = gst_gl_memory_get_texture_height (out);
  VlmResizeGeometry g;
  VlmResizeTaps tx, ty;
  Draw d = { r, in, in_info, out_w, out_h, mode, pad_argb, readback };

  g_return_val_if_fail (gst_gl_context_get_current () == r->context, FALSE);

  vlm_resize_geometry (GST_VIDEO_INFO_WIDTH (in_info),
      GST_VIDEO_INFO_HEIGHT (in_info), GST_VIDEO_INFO_PAR_N (in_info),
      GST_VIDEO_INFO_PAR_D (in_info), out_w, out_h, mode, &g);
  vlm_resize_taps (g.src_w, g.dst_w, &tx);
  vlm_resize_taps (g.src_h, g.dst_h, &ty);
  if (!ensure_shader (r, (tx.taps + 1) / 2, (ty.taps + 1) / 2, error))
    return FALSE;

  if (r->fbo == NULL)
    r->fbo = gst_gl_framebuffer_new (r->context);
  if (!gst_gl_framebuffer_draw_to_texture (r->fbo, out, draw_cb, &d)) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_FAILED,
        "gst_gl_framebuffer_draw_to_texture() failed (incomplete "
        "framebuffer for a %dx%d RGBA texture)", out_w, out_h);
    return FALSE;
  }
  return TRUE;
}

gboolean
vlm_gl_resize_render (VlmGLResize * r, GstGLMemory * in,
    const GstVideoInfo * in_info, GstGLMemory * out, VlmResizeMode mode,
    guint32 pad_argb, GError ** error)
{
  return render (r, in, in_info, out, mode, pad_argb, NULL, error);
}

static gboolean
ensure_target (VlmGLResize * r, int size, GError ** error)
{
  GstGLMemoryAllocator *alloc;
  GstGLVideoAllocationParams *params;
  GstVideoInfo info;

  if (r->target && r->target_size == size)
    return TRUE;
  if (r->target)
    gst_memory_unref (GST_MEMORY_CAST (r->target));
  r->target = NULL;

  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_RGBA, size, size);
  alloc = gst_gl_memory_allocator_get_default (r->context);
  params = gst_gl_video_allocation_params_new (r->context, NULL, &info, 0,
      NULL, GST_GL_TEXTURE_TARGET_2D, GST_GL_RGBA8);
  r->target = (GstGLMemory *) gst_gl_base_memory_alloc
      (GST_GL_BASE_MEMORY_ALLOCATOR (alloc), (GstGLAllocationParams *) params);
  gst_gl_allocation_params_free ((GstGLAllocationParams *) params);
  gst_object_unref (alloc);
  if (r->target == NULL) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NO_SPACE_LEFT,
        "gst_gl_base_memory_alloc() failed for a %dx%d RGBA texture", size,
        size);
    return FALSE;
  }
  r->target_size = size;
  g_free (r->rgba);
  r->rgba = g_malloc ((gsize) size * size * 4);
  return TRUE;
}

gboolean
vlm_gl_resize_read_rgb (VlmGLResize * r, GstGLMemory * in,
    const GstVideoInfo * in_info, int size, VlmResizeMode mode, guint8 * rgb,
    GError ** error)
{
  gsize n = (gsize) size * size;

  g_return_val_if_fail (size > 0 && rgb != NULL, FALSE);
  if (!ensure_target (r, size, error))
    return FALSE;
  if (!render (r, in, in_info, r->target, mode, VLM_RESIZE_PAD_ARGB, r->rgba,
          error))
    return FALSE;
  for (gsize i = 0; i < n; i++) {
    rgb[3 * i] = r->rgba[4 * i];
    rgb[3 * i + 1] = r->rgba[4 * i + 1];
    rgb[3 * i + 2] = r->rgba[4 * i + 2];
  }
  return TRUE;
}

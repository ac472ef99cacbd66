/* gst-vlm — vlm-bench-glresize: cost of making the model's input image
 * from a camera-size frame, GPU path against CPU path.
 *
 *   vlm-bench-glresize [--width 1920] [--height 1080] [--size 336]
 *       [--mode letterbox|crop] [--frames 50]
 *
 * Needs a GL display (a desktop session, or Xvfb: `xvfb-run -a
 * build/elements/vlm-bench-glresize`). Per frame, on the same picture:
 *
 *   gpu-path     what vlmdescribe does with GL video: one shader pass from
 *                the frame's texture into a size x size texture and
 *                glReadPixels of that (size * size * 4 bytes to the CPU),
 *                through gst_gl_context_thread_add like the element
 *   gpu-render   the shader pass alone, finished with glFinish (what
 *                vlmresize costs per frame, without the readback)
 *   cpu-from-gl  what the CPU path would cost on GL video: read the whole
 *                texture back (width * height * 4 bytes), then
 *                vlm_frame_convert
 *   cpu-rgba, cpu-nv12, cpu-i420
 *                the CPU path on system-memory frames (nothing to copy
 *                from a GPU): vlm_frame_convert alone
 *
 * Prints min, median, mean and max ms per frame, the bytes copied to the
 * CPU per frame and the GL renderer. Timings on a software renderer
 * (llvmpipe) say little about a handheld's GPU; bytes do.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/gl/gl.h>
#include <gst/gl/gstglfuncs.h>
#include <gst/video/video.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vlmframe.h"
#include "vlmglresize.h"

typedef struct {
  GstGLContext *ctx;
  VlmGLResize *gl;
  GstGLMemory *tex;             /* the frame, width x height RGBA */
  GstGLMemory *out;             /* size x size RGBA for gpu-render */
  GstVideoInfo info;
  VlmResizeMode mode;
  int size;
  guint8 *rgb;                  /* size x size RGB */
  guint8 *frame_rgba;           /* width x height RGBA, CPU copy */
  gboolean ok;
  gchar renderer[256];
} Bench;

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return (x > y) - (x < y);
}

static void
report (const char *what, double *ms, int n, guint64 bytes)
{
  double sum = 0;

  qsort (ms, (size_t) n, sizeof *ms, cmp_double);
  for (int i = 0; i < n; i++)
    sum += ms[i];
  printf ("%-12s min %7.2f  median %7.2f  mean %7.2f  max %7.2f ms   "
      "%9" G_GUINT64_FORMAT " bytes to CPU per frame\n", what, ms[0],
      ms[n / 2], sum / n, ms[n - 1], bytes);
}

static guint8 *
test_picture (int w, int h)
{
  guint8 *p = g_malloc ((gsize) w * h * 4);

  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      guint8 *px = p + ((gsize) y * w + x) * 4;
      double u = (double) x / w, v = (double) y / h;

      px[0] = (guint8) (127 + 100 * sin (6.28 * (3 * u + v)));
      px[1] = (guint8) (127 + 100 * cos (6.28 * (2 * v - u)));
      px[2] = (guint8) (255 * u * v);
      px[3] = 255;
    }
  return p;
}

static GstGLMemory *
alloc_texture (GstGLContext * ctx, int w, int h)
{
  GstGLMemoryAllocator *alloc = gst_gl_memory_allocator_get_default (ctx);
  GstVideoInfo info;
  GstGLVideoAllocationParams *params;
  GstGLMemory *mem;

  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_RGBA, w, h);
  params = gst_gl_video_allocation_params_new (ctx, NULL, &info, 0, NULL,
      GST_GL_TEXTURE_TARGET_2D, GST_GL_RGBA8);
  mem = (GstGLMemory *) gst_gl_base_memory_alloc
      (GST_GL_BASE_MEMORY_ALLOCATOR (alloc), (GstGLAllocationParams *) params);
  gst_gl_allocation_params_free ((GstGLAllocationParams *) params);
  gst_object_unref (alloc);
  return mem;
}

/* GL thread: textures, helper, the picture uploaded. */
static void
gl_setup (GstGLContext * ctx, gpointer data)
{
  Bench *b = data;
  const GstGLFuncs *gl = ctx->gl_vtable;
  GstMapInfo map;
  int w = GST_VIDEO_INFO_WIDTH (&b->info), h = GST_VIDEO_INFO_HEIGHT (&b->info);

  b->tex = alloc_texture (ctx, w, h);
  b->out = alloc_texture (ctx, b->size, b->size);
  if (b->tex == NULL || b->out == NULL)
    return;
  /* CPU write, then a GL map: uploads it */
  gst_memory_map (GST_MEMORY_CAST (b->tex), &map, GST_MAP_WRITE);
  memcpy (map.data, b->frame_rgba, (gsize) w * h * 4);
  gst_memory_unmap (GST_MEMORY_CAST (b->tex), &map);
  gst_memory_map (GST_MEMORY_CAST (b->tex), &map, GST_MAP_READ | GST_MAP_GL);
  gst_memory_unmap (GST_MEMORY_CAST (b->tex), &map);
  b->gl = vlm_gl_resize_new (ctx);
  g_snprintf (b->renderer, sizeof b->renderer, "%s, %s",
      (const char *) gl->GetString (GL_RENDERER),
      (const char *) gl->GetString (GL_VERSION));
  b->ok = TRUE;
}

static void
gl_teardown (GstGLContext * ctx, gpointer data)
{
  Bench *b = data;

  vlm_gl_resize_free (b->gl);
  if (b->tex)
    gst_memory_unref (GST_MEMORY_CAST (b->tex));
  if (b->out)
    gst_memory_unref (GST_MEMORY_CAST (b->out));
}

static void
gl_path (GstGLContext * ctx, gpointer data)
{
  Bench *b = data;
  GError *err = NULL;

  b->ok = vlm_gl_resize_read_rgb (b->gl, b->tex, &b->info, b->size, b->mode,
      b->rgb, &err);
  if (err)
    fprintf (stderr, "vlm_gl_resize_read_rgb: %s\n", err->message);
  g_clear_error (&err);
}

static void
gl_render (GstGLContext * ctx, gpointer data)
{
  Bench *b = data;
  GError *err = NULL;

  b->ok = vlm_gl_resize_render (b->gl, b->tex, &b->info, b->out, b->mode,
      VLM_RESIZE_PAD_ARGB, &err);
  ctx->gl_vtable->Finish ();
  g_clear_error (&err);
}

static void
gl_download (GstGLContext * ctx, gpointer data)
{
  Bench *b = data;

  b->ok = gst_gl_memory_read_pixels (b->tex, b->frame_rgba);
}

static double
now_ms (void)
{
  return g_get_monotonic_time () / 1000.0;
}

/* The CPU path on a system-memory frame of format fmt (converted once
 * from the RGBA picture). */
static void
bench_cpu (Bench * b, GstVideoFormat fmt, const char *name, int frames)
{
  int w = GST_VIDEO_INFO_WIDTH (&b->info), h = GST_VIDEO_INFO_HEIGHT (&b->info);
  GstVideoInfo rgba_info, info;
  GstBuffer *src, *buf;
  GstVideoFrame in, out;
  GstVideoConverter *conv;
  VlmFrameConverter *c = vlm_frame_converter_new ();
  double *ms = g_new (double, frames);

  gst_video_info_set_format (&rgba_info, GST_VIDEO_FORMAT_RGBA, w, h);
  gst_video_info_set_format (&info, fmt, w, h);
  src = gst_buffer_new_memdup (b->frame_rgba, (gsize) w * h * 4);
  buf = gst_buffer_new_allocate (NULL, info.size, NULL);
  gst_video_frame_map (&in, &rgba_info, src, GST_MAP_READ);
  gst_video_frame_map (&out, &info, buf, GST_MAP_WRITE);
  conv = gst_video_converter_new (&rgba_info, &info, NULL);
  gst_video_converter_frame (conv, &in, &out);
  gst_video_converter_free (conv);
  gst_video_frame_unmap (&out);
  gst_video_frame_unmap (&in);

  for (int i = 0; i < frames; i++) {
    double t0 = now_ms ();

    gst_video_frame_map (&in, &info, buf, GST_MAP_READ);
    vlm_frame_convert (c, &in, b->mode, b->size, b->rgb);
    gst_video_frame_unmap (&in);
    ms[i] = now_ms () - t0;
  }
  report (name, ms, frames, 0);
  vlm_frame_converter_free (c);
  gst_buffer_unref (src);
  gst_buffer_unref (buf);
  g_free (ms);
}

int
main (int argc, char **argv)
{
  int width = 1920, height = 1080, size = 336, frames = 50;
  const char *mode = "letterbox";
  Bench b = { 0 };
  GstGLDisplay *display;
  GError *err = NULL;
  double *ms, first;
  gsize frame_bytes;

  gst_init (&argc, &argv);
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

    if (!strcmp (a, "--width") && v)
      width = atoi (argv[++i]);
    else if (!strcmp (a, "--height") && v)
      height = atoi (argv[++i]);
    else if (!strcmp (a, "--size") && v)
      size = atoi (argv[++i]);
    else if (!strcmp (a, "--frames") && v)
      frames = atoi (argv[++i]);
    else if (!strcmp (a, "--mode") && v)
      mode = argv[++i];
    else {
      fprintf (stderr, "usage: %s [--width W] [--height H] [--size S] "
          "[--mode letterbox|crop] [--frames N]\n", argv[0]);
      return 2;
    }
  }
  if (width < 1 || height < 1 || size < 1 || frames < 1)
    return 2;

  b.mode = !strcmp (mode, "crop") ? VLM_RESIZE_CROP : VLM_RESIZE_LETTERBOX;
  b.size = size;
  gst_video_info_set_format (&b.info, GST_VIDEO_FORMAT_RGBA, width, height);
  b.rgb = g_malloc ((gsize) size * size * 3);
  b.frame_rgba = test_picture (width, height);
  frame_bytes = (gsize) width * height * 4;
  ms = g_new (double, frames);

  display = gst_gl_display_new ();
  if (!gst_gl_display_create_context (display, NULL, &b.ctx, &err)) {
    fprintf (stderr, "no GL context: %s (run under a desktop session or "
        "xvfb-run -a)\n", err ? err->message : "?");
    return 1;
  }
  gst_gl_context_thread_add (b.ctx, gl_setup, &b);
  if (!b.ok) {
    fprintf (stderr, "GL set-up failed\n");
    return 1;
  }
  printf ("%dx%d RGBA -> %d x %d %s, %d frames; GL: %s\n", width, height,
      size, size, mode, frames, b.renderer);

  {
    double t0 = now_ms ();

    gst_gl_context_thread_add (b.ctx, gl_path, &b);
    first = now_ms () - t0;
  }
  if (!b.ok)
    return 1;
  printf ("%-12s %.2f ms (shader compile, targets)\n", "first-frame", first);

  for (int i = 0; i < frames; i++) {
    double t0 = now_ms ();

    gst_gl_context_thread_add (b.ctx, gl_path, &b);
    ms[i] = now_ms () - t0;
  }
  report ("gpu-path", ms, frames, (guint64) size * size * 4);

  for (int i = 0; i < frames; i++) {
    double t0 = now_ms ();

    gst_gl_context_thread_add (b.ctx, gl_render, &b);
    ms[i] = now_ms () - t0;
  }
  report ("gpu-render", ms, frames, 0);

  {
    VlmFrameConverter *c = vlm_frame_converter_new ();
    GstBuffer *buf = gst_buffer_new_wrapped_full (0, b.frame_rgba,
        frame_bytes, 0, frame_bytes, NULL, NULL);
    double dl = 0;

    for (int i = 0; i < frames; i++) {
      double t0 = now_ms (), t1;
      GstVideoFrame f;

      gst_gl_context_thread_add (b.ctx, gl_download, &b);
      t1 = now_ms ();
      dl += t1 - t0;
      gst_video_frame_map (&f, &b.info, buf, GST_MAP_READ);
      vlm_frame_convert (c, &f, b.mode, b.size, b.rgb);
      gst_video_frame_unmap (&f);
      ms[i] = now_ms () - t0;
    }
    report ("cpu-from-gl", ms, frames, frame_bytes);
    printf ("%-12s of which the download: mean %.2f ms\n", "", dl / frames);
    gst_buffer_unref (buf);
    vlm_frame_converter_free (c);
  }

  bench_cpu (&b, GST_VIDEO_FORMAT_RGBA, "cpu-rgba", frames);
  bench_cpu (&b, GST_VIDEO_FORMAT_NV12, "cpu-nv12", frames);
  bench_cpu (&b, GST_VIDEO_FORMAT_I420, "cpu-i420", frames);

  gst_gl_context_thread_add (b.ctx, gl_teardown, &b);
  gst_object_unref (b.ctx);
  gst_object_unref (display);
  g_free (b.rgb);
  g_free (b.frame_rgba);
  g_free (ms);
  return 0;
}

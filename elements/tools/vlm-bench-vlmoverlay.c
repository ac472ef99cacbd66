/* gst-vlm — vlm-bench-vlmoverlay: per-frame cost of the vlmoverlay element.
 *
 *   videotestsrc num-buffers=N ! video/x-raw,format=F,width=W,height=H ! \
 *       vlmoverlay ! fakesink
 *
 * A probe on vlmoverlay's sink pad puts a caption meta on each buffer and
 * takes the time; a probe on its src pad takes the time again: the
 * difference is the element's own work on that frame (the buffer is pushed
 * synchronously through it). Three cases per size and format:
 *   static     the same final caption on every frame (cached blit)
 *   streaming  the caption grows by a word every frame (render + blend)
 *   disabled   enabled=false (passthrough)
 * Needs GST_PLUGIN_PATH to hold the plugin (build/elements).
 *
 *   vlm-bench-vlmoverlay [frames]        (default 200)
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/gst.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gstvlmcaptionmeta.h"

typedef enum { CASE_STATIC, CASE_STREAMING, CASE_DISABLED } BenchCase;

static const char CAPTION[] =
    "A person walks a brown dog across the street, next to a red car "
    "parked by the curb; a bus stop is on the left.";

typedef struct {
  BenchCase c;
  guint n;                      /* frames seen */
  guint64 t_in;                 /* ns, at the sink probe */
  guint64 *ns;                  /* per-frame cost */
  guint max;
} Bench;

static guint64
now_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (guint64) ts.tv_sec * 1000000000u + (guint64) ts.tv_nsec;
}

static GstPadProbeReturn
sink_probe (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  Bench *b = data;
  GstBuffer *buf = gst_buffer_make_writable (GST_PAD_PROBE_INFO_BUFFER (info));
  gchar *text;

  if (b->c == CASE_STREAMING) {
    /* one more word per frame, cycling through the caption */
    const gchar *p = CAPTION;
    guint words = b->n % 24 + 1;

    while (words > 0 && (p = strchr (p + 1, ' ')) != NULL)
      words--;
    text = g_strndup (CAPTION, p ? (gsize) (p - CAPTION) : strlen (CAPTION));
    gst_buffer_add_vlm_caption_meta (buf, text, FALSE, b->n / 24 + 1, 0, 0);
    g_free (text);
  } else {
    gst_buffer_add_vlm_caption_meta (buf, CAPTION, TRUE, 1, 0, 0);
  }
  GST_PAD_PROBE_INFO_DATA (info) = buf;
  b->t_in = now_ns ();
  return GST_PAD_PROBE_OK;
}

static GstPadProbeReturn
src_probe (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  Bench *b = data;
  guint64 t = now_ns ();

  if (b->n < b->max)
    b->ns[b->n] = t - b->t_in;
  b->n++;
  return GST_PAD_PROBE_OK;
}

static int
cmp_u64 (const void *a, const void *b)
{
  guint64 x = *(const guint64 *) a, y = *(const guint64 *) b;

  return x < y ? -1 : x > y;
}

static int
run (const char *format, int w, int h, BenchCase c, guint frames,
    double *mean_ms, double *median_ms)
{
  gchar *desc = g_strdup_printf ("videotestsrc num-buffers=%u pattern=smpte "
      "! video/x-raw,format=%s,width=%d,height=%d,framerate=30/1 ! "
      "vlmoverlay name=o hold-time=-1 enabled=%s ! fakesink sync=false",
      frames, format, w, h, c == CASE_DISABLED ? "false" : "true");
  GError *err = NULL;
  GstElement *pipe = gst_parse_launch (desc, &err);
  GstElement *o;
  GstPad *sink, *src;
  GstBus *bus;
  GstMessage *msg;
  Bench b = { c, 0, 0, NULL, frames };
  guint64 sum = 0;
  int ret = -1;

  g_free (desc);
  if (pipe == NULL) {
    fprintf (stderr, "pipeline: %s\n", err ? err->message : "?");
    g_clear_error (&err);
    return -1;
  }
  b.ns = g_new0 (guint64, frames);
  o = gst_bin_get_by_name (GST_BIN (pipe), "o");
  sink = gst_element_get_static_pad (o, "sink");
  src = gst_element_get_static_pad (o, "src");
  gst_pad_add_probe (sink, GST_PAD_PROBE_TYPE_BUFFER, sink_probe, &b, NULL);
  gst_pad_add_probe (src, GST_PAD_PROBE_TYPE_BUFFER, src_probe, &b, NULL);

  gst_element_set_state (pipe, GST_STATE_PLAYING);
  bus = gst_element_get_bus (pipe);
  msg = gst_bus_timed_pop_filtered (bus, GST_CLOCK_TIME_NONE,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    gst_message_parse_error (msg, &err, NULL);
    fprintf (stderr, "error: %s\n", err->message);
    g_clear_error (&err);
  } else if (b.n > 0) {
    guint n = MIN (b.n, frames);

    /* the first frame renders in every case but disabled: leave it out */
    for (guint i = 1; i < n; i++)
      sum += b.ns[i];
    qsort (b.ns + 1, n - 1, sizeof (guint64), cmp_u64);
    *mean_ms = n > 1 ? sum / 1e6 / (n - 1) : 0;
    *median_ms = n > 1 ? b.ns[1 + (n - 1) / 2] / 1e6 : 0;
    ret = 0;
  }
  gst_message_unref (msg);
  gst_object_unref (bus);
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (src);
  gst_object_unref (sink);
  gst_object_unref (o);
  gst_object_unref (pipe);
  g_free (b.ns);
  return ret;
}

int
main (int argc, char **argv)
{
  static const struct {
    int w, h;
  } sizes[] = { {1280, 720}, {1920, 1080} };
  static const char *const formats[] = { "RGBA", "NV12" };
  static const char *const cases[] = { "static", "streaming", "disabled" };
  guint frames = argc > 1 ? (guint) atoi (argv[1]) : 200;

  gst_init (&argc, &argv);
  if (frames < 2)
    frames = 2;

  printf ("vlmoverlay per-frame cost, %u frames each (first left out), "
      "ms: mean / median\n", frames);
  printf ("%-10s %-5s %-20s %-20s %-20s\n", "size", "fmt", cases[0],
      cases[1], cases[2]);
  for (guint s = 0; s < G_N_ELEMENTS (sizes); s++) {
    for (guint f = 0; f < G_N_ELEMENTS (formats); f++) {
      gchar size[32];

      g_snprintf (size, sizeof size, "%dx%d", sizes[s].w, sizes[s].h);
      printf ("%-10s %-5s", size, formats[f]);
      for (guint c = 0; c < G_N_ELEMENTS (cases); c++) {
        double mean = 0, median = 0;
        gchar cell[32];

        if (run (formats[f], sizes[s].w, sizes[s].h, (BenchCase) c, frames,
                &mean, &median) != 0)
          return 1;
        g_snprintf (cell, sizeof cell, "%.3f / %.3f", mean, median);
        printf (" %-20s", cell);
        fflush (stdout);
      }
      printf ("\n");
    }
  }
  gst_deinit ();
  return 0;
}

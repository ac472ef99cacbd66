/* gst-vlm — vlm-bench-pipeline: a camera-like pipeline with vlmdescribe.
 *
 *   vlm-bench-pipeline --model TEXT.gguf --mmproj MMPROJ.gguf [--seconds 120]
 *       [--width 1280 --height 720 --fps 30] [--threads N] [--max-rate N/D]
 *
 * Runs `videotestsrc is-live=true ! WxH@fps ! vlmdescribe ! fakesink
 * sync=true` and prints: display frames rendered, dropped and late (> 1/2
 * frame behind the clock, past the pipeline's latency), captions per minute, frame-to-first-token and
 * frame-to-final-caption latencies (min/mean/max), the element's
 * streaming-thread cost per frame and its conversion time, and the
 * engine's figures of the last caption. Needs GST_PLUGIN_PATH to hold
 * the plugin (build/elements).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/gst.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CAPTIONS 4096

typedef struct {
  GstClockTime frame_ns;        /* 1 / fps */
  GstElement *pipe;
  GstClockTime latency;         /* the pipeline's (live source) latency */
  guint64 rendered, late;
  GstClockTimeDiff max_late;
  /* per caption id: first partial and final latency (ns) */
  guint64 first_ns[MAX_CAPTIONS];
  guint64 final_ns[MAX_CAPTIONS];
  guint n_final;
  gdouble ready_ms;
} Bench;

static void
on_handoff (GstElement * sink, GstBuffer * buf, GstPad * pad, gpointer data)
{
  Bench *b = data;
  GstClock *clock = gst_element_get_clock (sink);
  GstSegment *seg;
  GstEvent *ev;
  GstClockTime rt, now;

  b->rendered++;
  if (clock == NULL)
    return;
  if (!GST_CLOCK_TIME_IS_VALID (b->latency)) {
    GstQuery *q = gst_query_new_latency ();
    GstClockTime min = 0;

    if (gst_element_query (b->pipe, q))
      gst_query_parse_latency (q, NULL, &min, NULL);
    gst_query_unref (q);
    b->latency = min;
  }
  ev = gst_pad_get_sticky_event (pad, GST_EVENT_SEGMENT, 0);
  if (ev) {
    const GstSegment *s;

    gst_event_parse_segment (ev, &s);
    seg = gst_segment_copy (s);
    rt = gst_segment_to_running_time (seg, GST_FORMAT_TIME,
        GST_BUFFER_PTS (buf));
    now = gst_clock_get_time (clock) - gst_element_get_base_time (sink);
    if (GST_CLOCK_TIME_IS_VALID (rt)) {
      /* a live pipeline renders at running time + its latency */
      GstClockTime lat = b->latency;
      GstClockTimeDiff late = GST_CLOCK_DIFF (rt + (GST_CLOCK_TIME_IS_VALID
              (lat) ? lat : 0), now);

      b->max_late = MAX (b->max_late, late);
      if (late > (GstClockTimeDiff) (b->frame_ns / 2))
        b->late++;
    }
    gst_segment_free (seg);
    gst_event_unref (ev);
  }
  gst_object_unref (clock);
}

static void
stat3 (const guint64 * v, guint n, const char *what)
{
  guint64 mn = G_MAXUINT64, mx = 0, sum = 0;
  guint k = 0;

  for (guint i = 0; i < n; i++) {
    if (v[i] == 0)
      continue;
    mn = MIN (mn, v[i]);
    mx = MAX (mx, v[i]);
    sum += v[i];
    k++;
  }
  if (k == 0)
    printf ("%-28s n/a\n", what);
  else
    printf ("%-28s min %.0f  mean %.0f  max %.0f ms (%u captions)\n", what,
        mn / 1e6, sum / 1e6 / k, mx / 1e6, k);
}

int
main (int argc, char **argv)
{
  const char *model = NULL, *mmproj = NULL, *rate = "1/3";
  int seconds = 120, width = 1280, height = 720, fps = 30, threads = 0;
  Bench *b = g_new0 (Bench, 1);
  GstElement *pipe, *sink, *d;
  GstBus *bus;
  GError *err = NULL;
  gchar *desc;
  gint64 t_end;
  GstStructure *st = NULL;
  guint64 dropped = 0;
  int ret = 0;

  gst_init (&argc, &argv);
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

    if (!strcmp (a, "--model") && v)
      model = argv[++i];
    else if (!strcmp (a, "--mmproj") && v)
      mmproj = argv[++i];
    else if (!strcmp (a, "--seconds") && v)
      seconds = atoi (argv[++i]);
    else if (!strcmp (a, "--width") && v)
      width = atoi (argv[++i]);
    else if (!strcmp (a, "--height") && v)
      height = atoi (argv[++i]);
    else if (!strcmp (a, "--fps") && v)
      fps = atoi (argv[++i]);
    else if (!strcmp (a, "--threads") && v)
      threads = atoi (argv[++i]);
    else if (!strcmp (a, "--max-rate") && v)
      rate = argv[++i];
    else {
      fprintf (stderr, "usage: %s --model TEXT.gguf --mmproj MMPROJ.gguf "
          "[--seconds N] [--width W --height H --fps F] [--threads N] "
          "[--max-rate N/D]\n", argv[0]);
      return 2;
    }
  }
  if (!model || !mmproj) {
    fprintf (stderr, "vlm-bench-pipeline: --model and --mmproj are needed\n");
    return 2;
  }
  b->frame_ns = GST_SECOND / fps;

  desc = g_strdup_printf ("videotestsrc is-live=true ! "
      "video/x-raw,format=I420,width=%d,height=%d,framerate=%d/1 ! "
      "vlmdescribe name=d model=\"%s\" mmproj=\"%s\" threads=%d "
      "max-rate=%s scene-change-threshold=0 ! "
      "fakesink name=sink sync=true qos=true max-lateness=%" G_GUINT64_FORMAT
      " signal-handoffs=true", width, height, fps, model, mmproj, threads,
      rate, (guint64) b->frame_ns);
  pipe = gst_parse_launch (desc, &err);
  g_free (desc);
  if (pipe == NULL) {
    fprintf (stderr, "vlm-bench-pipeline: %s\n", err->message);
    return 1;
  }
  b->pipe = pipe;
  b->latency = GST_CLOCK_TIME_NONE;
  sink = gst_bin_get_by_name (GST_BIN (pipe), "sink");
  d = gst_bin_get_by_name (GST_BIN (pipe), "d");
  g_signal_connect (sink, "handoff", G_CALLBACK (on_handoff), b);
  bus = gst_element_get_bus (pipe);

  gst_element_set_state (pipe, GST_STATE_PLAYING);
  t_end = g_get_monotonic_time () + (gint64) seconds * G_USEC_PER_SEC;
  for (;;) {
    gint64 left = t_end - g_get_monotonic_time ();
    GstMessage *m;
    const GstStructure *s;

    if (left <= 0)
      break;
    m = gst_bus_timed_pop (bus, left * GST_USECOND);
    if (m == NULL)
      break;
    s = gst_message_get_structure (m);
    if (GST_MESSAGE_TYPE (m) == GST_MESSAGE_ERROR) {
      GError *e;
      gchar *dbg;

      gst_message_parse_error (m, &e, &dbg);
      fprintf (stderr, "error: %s\n%s\n", e->message, dbg ? dbg : "");
      g_error_free (e);
      g_free (dbg);
      ret = 1;
      gst_message_unref (m);
      break;
    }
    if (GST_MESSAGE_TYPE (m) == GST_MESSAGE_ELEMENT && s
        && gst_structure_has_name (s, "vlm-caption")) {
      guint64 id = 0, lat = 0;
      gboolean final = FALSE;

      gst_structure_get (s, "id", G_TYPE_UINT64, &id, "latency",
          G_TYPE_UINT64, &lat, "final", G_TYPE_BOOLEAN, &final, NULL);
      if (id < MAX_CAPTIONS) {
        if (b->first_ns[id] == 0)
          b->first_ns[id] = lat;
        if (final) {
          b->final_ns[id] = lat;
          b->n_final++;
          printf ("caption %" G_GUINT64_FORMAT " (%.1f s): %.60s\n", id,
              lat / 1e9, gst_structure_get_string (s, "text"));
          fflush (stdout);
        }
      }
    } else if (GST_MESSAGE_TYPE (m) == GST_MESSAGE_ELEMENT && s
        && gst_structure_has_name (s, "vlm-model")
        && !g_strcmp0 (gst_structure_get_string (s, "state"), "ready")) {
      gst_structure_get_double (s, "load-ms", &b->ready_ms);
    }
    gst_message_unref (m);
  }

  g_object_get (d, "stats", &st, NULL);
  {
    GstStructure *ss = NULL;

    g_object_get (sink, "stats", &ss, NULL);
    if (ss) {
      gst_structure_get_uint64 (ss, "dropped", &dropped);
      gst_structure_free (ss);
    }
  }
  gst_element_set_state (pipe, GST_STATE_NULL);

  /* only final captions whose first token is known count for latency */
  for (guint i = 0; i < MAX_CAPTIONS; i++)
    if (b->final_ns[i] == 0)
      b->first_ns[i] = 0;

  printf ("\n== vlmdescribe pipeline, %dx%d@%d, %d s ==\n", width, height,
      fps, seconds);
  printf ("%-28s %.0f ms\n", "model load (async)", b->ready_ms);
  printf ("%-28s %" G_GUINT64_FORMAT "\n", "display frames rendered",
      b->rendered);
  printf ("%-28s %" G_GUINT64_FORMAT "\n", "dropped (sink QoS)", dropped);
  printf ("%-28s %" G_GUINT64_FORMAT " (max %.1f ms behind)\n",
      "late (> 1/2 frame)", b->late, b->max_late / 1e6);
  printf ("%-28s %u (%.2f per minute)\n", "final captions", b->n_final,
      b->n_final * 60.0 / seconds);
  stat3 (b->first_ns, MAX_CAPTIONS, "frame -> first token");
  stat3 (b->final_ns, MAX_CAPTIONS, "frame -> final caption");
  if (st) {
    guint64 sm = 0, sx = 0;
    gdouble cm = 0, e_enc = 0, e_pre = 0, e_dec = 0, e_ft = 0;
    gint reused = 0, nprompt = 0, ngen = 0;

    gst_structure_get (st, "submit-ns-mean", G_TYPE_UINT64, &sm,
        "submit-ns-max", G_TYPE_UINT64, &sx,
        "convert-ms-max", G_TYPE_DOUBLE, &cm,
        "engine-encode-ms", G_TYPE_DOUBLE, &e_enc,
        "engine-prefill-ms", G_TYPE_DOUBLE, &e_pre,
        "engine-decode-ms", G_TYPE_DOUBLE, &e_dec,
        "engine-first-token-ms", G_TYPE_DOUBLE, &e_ft,
        "engine-n-prompt", G_TYPE_INT, &nprompt,
        "engine-n-prompt-reused", G_TYPE_INT, &reused,
        "engine-n-generated", G_TYPE_INT, &ngen, NULL);
    printf ("%-28s mean %" G_GUINT64_FORMAT " ns, max %" G_GUINT64_FORMAT
        " ns\n", "streaming-thread cost/frame", sm, sx);
    printf ("%-28s max %.2f ms (worker)\n", "frame -> model image", cm);
    printf ("%-28s encode %.0f ms, prefill %.0f ms (%d of %d positions "
        "reused), decode %.0f ms (%d tokens), first token %.0f ms\n",
        "engine, last caption", e_enc, e_pre, reused, nprompt, e_dec, ngen,
        e_ft);
    gst_structure_free (st);
  }

  gst_object_unref (bus);
  gst_object_unref (sink);
  gst_object_unref (d);
  gst_object_unref (pipe);
  g_free (b);
  return ret;
}

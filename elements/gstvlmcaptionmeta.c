/* gst-vlm — caption metadata (see gstvlmcaptionmeta.h). */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstvlmcaptionmeta.h"

GType
gst_vlm_caption_meta_api_get_type (void)
{
  static GType type = 0;
  /* No tags: the caption is about the scene, not about the pixels, so it
   * survives conversion, scaling and copies. */
  static const gchar *tags[] = { NULL };

  if (g_once_init_enter (&type)) {
    GType t = gst_meta_api_type_register ("GstVlmCaptionMetaAPI", tags);
    g_once_init_leave (&type, t);
  }
  return type;
}

static gboolean
gst_vlm_caption_meta_init (GstMeta * meta, gpointer params, GstBuffer * buffer)
{
  GstVlmCaptionMeta *m = (GstVlmCaptionMeta *) meta;

  m->text = NULL;
  m->final = FALSE;
  m->id = 0;
  m->pts = GST_CLOCK_TIME_NONE;
  m->latency = GST_CLOCK_TIME_NONE;
  return TRUE;
}

static void
gst_vlm_caption_meta_free (GstMeta * meta, GstBuffer * buffer)
{
  GstVlmCaptionMeta *m = (GstVlmCaptionMeta *) meta;

  g_free (m->text);
  m->text = NULL;
}

static gboolean
gst_vlm_caption_meta_transform (GstBuffer * dest, GstMeta * meta,
    GstBuffer * buffer, GQuark type, gpointer data)
{
  GstVlmCaptionMeta *m = (GstVlmCaptionMeta *) meta;

  /* Copies, sub-buffers and any other transform keep the caption. */
  return gst_buffer_add_vlm_caption_meta (dest, m->text, m->final, m->id,
      m->pts, m->latency) != NULL;
}

const GstMetaInfo *
gst_vlm_caption_meta_get_info (void)
{
  static const GstMetaInfo *info = NULL;

  if (g_once_init_enter ((GstMetaInfo **) & info)) {
    const GstMetaInfo *mi =
        gst_meta_register (GST_VLM_CAPTION_META_API_TYPE, "GstVlmCaptionMeta",
        sizeof (GstVlmCaptionMeta), gst_vlm_caption_meta_init,
        gst_vlm_caption_meta_free, gst_vlm_caption_meta_transform);
    g_once_init_leave ((GstMetaInfo **) & info, (GstMetaInfo *) mi);
  }
  return info;
}

GstVlmCaptionMeta *
gst_buffer_add_vlm_caption_meta (GstBuffer * buffer, const gchar * text,
    gboolean final, guint64 id, GstClockTime pts, GstClockTime latency)
{
  GstVlmCaptionMeta *m;

  g_return_val_if_fail (GST_IS_BUFFER (buffer), NULL);
  g_return_val_if_fail (gst_buffer_is_writable (buffer), NULL);

  m = (GstVlmCaptionMeta *) gst_buffer_add_meta (buffer,
      GST_VLM_CAPTION_META_INFO, NULL);
  if (m == NULL)
    return NULL;
  m->text = g_strdup (text ? text : "");
  m->final = final;
  m->id = id;
  m->pts = pts;
  m->latency = latency;
  return m;
}

/* gst-vlm — caption metadata attached to video buffers by vlmdescribe.
 *
 * Lives in its own small shared library, libgstvlmmeta-1.0.so, so that the
 * plugin, the overlay, the app and the tests all use one registration of
 * the meta API type (a static copy in each would register it twice).
 *
 *   GstVlmCaptionMeta *m = gst_buffer_get_vlm_caption_meta (buf);
 *   if (m && m->final)
 *     speak (m->text);
 *
 * Thread safety: the functions are thread-safe; a meta belongs to its
 * buffer (read it while you hold the buffer).
 */
#ifndef GST_VLM_CAPTION_META_H
#define GST_VLM_CAPTION_META_H

#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_VLM_CAPTION_META_API_TYPE (gst_vlm_caption_meta_api_get_type ())
#define GST_VLM_CAPTION_META_INFO (gst_vlm_caption_meta_get_info ())

typedef struct _GstVlmCaptionMeta GstVlmCaptionMeta;

/**
 * GstVlmCaptionMeta:
 * @meta: parent #GstMeta
 * @text: the caption so far (UTF-8, NUL-terminated, owned by the meta)
 * @final: %TRUE when the caption is complete, %FALSE while it streams
 * @id: caption number, from 1, the same for the partial and final texts
 *     of one caption
 * @pts: PTS of the video frame the caption describes
 * @latency: nanoseconds from that frame's arrival in vlmdescribe to this
 *     text (monotonic clock)
 */
struct _GstVlmCaptionMeta {
  GstMeta meta;

  gchar *text;
  gboolean final;
  guint64 id;
  GstClockTime pts;
  GstClockTime latency;
};

GType gst_vlm_caption_meta_api_get_type (void);
const GstMetaInfo *gst_vlm_caption_meta_get_info (void);

/* Adds a caption meta to a writable buffer; text is copied. */
GstVlmCaptionMeta *gst_buffer_add_vlm_caption_meta (GstBuffer * buffer,
    const gchar * text, gboolean final, guint64 id, GstClockTime pts,
    GstClockTime latency);

/* The first caption meta of the buffer, or NULL. */
#define gst_buffer_get_vlm_caption_meta(b) \
  ((GstVlmCaptionMeta *) gst_buffer_get_meta ((b), GST_VLM_CAPTION_META_API_TYPE))

G_END_DECLS

#endif /* GST_VLM_CAPTION_META_H */

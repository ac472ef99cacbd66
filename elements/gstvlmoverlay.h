/* gst-vlm — vlmoverlay: draws the streaming caption of a video stream
 * (caption meta or text_sink) onto the video. */
#ifndef GST_VLM_OVERLAY_H
#define GST_VLM_OVERLAY_H

#include <gst/gst.h>
#include <gst/video/gstvideofilter.h>

G_BEGIN_DECLS

#define GST_TYPE_VLM_OVERLAY (gst_vlm_overlay_get_type ())
G_DECLARE_FINAL_TYPE (GstVlmOverlay, gst_vlm_overlay, GST, VLM_OVERLAY,
    GstVideoFilter);

GST_ELEMENT_REGISTER_DECLARE (vlmoverlay);

G_END_DECLS

#endif /* GST_VLM_OVERLAY_H */

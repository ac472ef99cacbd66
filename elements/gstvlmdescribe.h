/* gst-vlm — vlmdescribe: describes the scene of a video stream with a
 * vision-language model, without touching the video. */
#ifndef GST_VLM_DESCRIBE_H
#define GST_VLM_DESCRIBE_H

#include <gst/gst.h>
#include <gst/base/gstbasetransform.h>

G_BEGIN_DECLS

#define GST_TYPE_VLM_DESCRIBE (gst_vlm_describe_get_type ())
G_DECLARE_FINAL_TYPE (GstVlmDescribe, gst_vlm_describe, GST, VLM_DESCRIBE,
    GstBaseTransform);

GST_ELEMENT_REGISTER_DECLARE (vlmdescribe);

/* The resize-mode enum (VlmResizeMode of vlmframe.h), shared with
 * vlmresize. */
#define GST_TYPE_VLM_RESIZE_MODE (gst_vlm_resize_mode_get_type ())
GType gst_vlm_resize_mode_get_type (void);

G_END_DECLS

#endif /* GST_VLM_DESCRIBE_H */

/* gst-vlm — vlmresize: resizes GL video to a model's input image on the
 * GPU (letterbox or centre crop, one anti-aliased shader pass). */
#ifndef GST_VLM_RESIZE_H
#define GST_VLM_RESIZE_H

#include <gst/gst.h>
#include <gst/gl/gl.h>

G_BEGIN_DECLS

#define GST_TYPE_VLM_RESIZE (gst_vlm_resize_get_type ())
G_DECLARE_FINAL_TYPE (GstVlmResize, gst_vlm_resize, GST, VLM_RESIZE,
    GstGLFilter);

GST_ELEMENT_REGISTER_DECLARE (vlmresize);

G_END_DECLS

#endif /* GST_VLM_RESIZE_H */

/* gst-vlm — vlmcamerasrc: the first (or the named) camera, through
 * libcamera when it sees one, otherwise V4L2. */
#ifndef GST_VLM_CAMERA_SRC_H
#define GST_VLM_CAMERA_SRC_H

#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_VLM_CAMERA_SRC (gst_vlm_camera_src_get_type ())
G_DECLARE_FINAL_TYPE (GstVlmCameraSrc, gst_vlm_camera_src, GST,
    VLM_CAMERA_SRC, GstBin);

GST_ELEMENT_REGISTER_DECLARE (vlmcamerasrc);

G_END_DECLS

#endif /* GST_VLM_CAMERA_SRC_H */

/* gst-vlm — CPU path from a raw video frame to the model's input image.
 *
 * Converts any raw format GstVideo knows (RGB, RGBA/BGRA/RGBx/BGRx, I420,
 * NV12, YUY2, ...) at any size into a packed RGB8 square of the model's
 * input size in one pass (colour conversion and resampling together, with
 * GstVideoConverter), letterboxed, centre-cropped or stretched.
 *
 * Thread safety: a VlmFrameConverter is used by one thread at a time. It
 * caches its GstVideoConverter between calls with the same input format,
 * size and mode.
 */
#ifndef VLM_FRAME_H
#define VLM_FRAME_H

#include <gst/video/video.h>

G_BEGIN_DECLS

typedef enum {
  VLM_RESIZE_LETTERBOX = 0,   /* whole frame, aspect kept, grey bars */
  VLM_RESIZE_CROP,            /* centre square, aspect kept, sides cut */
  VLM_RESIZE_STRETCH,         /* whole frame, aspect not kept */
} VlmResizeMode;

/* Where the picture goes: the source rectangle (input pixels) is resampled
 * into the destination rectangle (output pixels); output pixels outside
 * the destination rectangle get the pad colour. */
typedef struct {
  int src_x, src_y, src_w, src_h;
  int dst_x, dst_y, dst_w, dst_h;
} VlmResizeGeometry;

/* The rectangles for an in_w x in_h input of pixel aspect ratio
 * par_n/par_d fitted into out_w x out_h with mode. vlm_frame_convert and the GL
 * path (vlmglresize.h) both use it, so their bars and crops agree. */
void vlm_resize_geometry (int in_w, int in_h, int par_n, int par_d,
    int out_w, int out_h, VlmResizeMode mode, VlmResizeGeometry * g);

typedef struct VlmFrameConverter VlmFrameConverter;

VlmFrameConverter *vlm_frame_converter_new (void);
void vlm_frame_converter_free (VlmFrameConverter * c);

/* Converts frame (mapped for reading) into rgb, a packed size x size RGB8
 * image with rows of 3 size bytes. Returns FALSE when the format cannot be
 * converted (rgb is then untouched). */
gboolean vlm_frame_convert (VlmFrameConverter * c, const GstVideoFrame * frame,
    VlmResizeMode mode, int size, guint8 * rgb);

/* Mean absolute difference in [0, 1] of two packed size x size RGB8
 * images, on a 16 x 16 grid of block luma means (insensitive to sensor
 * noise, sensitive to anything that moves or changes the light). */
double vlm_frame_difference (const guint8 * a, const guint8 * b, int size);

G_END_DECLS

#endif /* VLM_FRAME_H */

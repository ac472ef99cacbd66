/* gst-vlm — vision tower (CLIP / SigLIP ViT) and projectors of an mmproj.
 *
 * Turns one RGB image into the embeddings the text model reads in place
 * of the image marker: n_tokens rows of n_embd floats.
 *
 * Tower: patch embedding (a p x p convolution with stride p, done as one
 * matrix product over the unfolded patches), patch bias, class embedding
 * when the file has one, learned position embeddings, pre-LN when
 * present, then pre-norm transformer layers (LN1, bidirectional
 * multi-head attention scaled by 1/sqrt(head_dim), residual, LN2,
 * ffn_up, GELU (tanh form) / quick-GELU / SiLU as clip.use_gelu and
 * clip.use_silu say, ffn_down, residual).
 * Class token, exactly as the reference runtime computes it (and as its
 * golden outputs require): the class embedding is placed after the
 * n_patches patch rows, position embedding row i is added to sequence
 * row i (so patch i gets row i and the class token the last one), and
 * the projector reads every sequence row but the first: patches
 * 1..n_patches-1, then the class token. (Original CLIP puts the class
 * token first and drops it; the reference runtime's numbers differ.)
 * Feature layer, as the reference runtime does for these projectors:
 *   mlp, ldpv2  the last stored layer is not run (features of the
 *               second-to-last layer), then post-LN when present;
 *   idefics3    every layer runs, then post-LN.
 * Projectors:
 *   mlp         linear, GELU, linear: one embedding per patch;
 *   ldpv2       linear, GELU, linear, 2x2 average pooling over the patch
 *               grid, plus a 3x3 depthwise convolution (peg, padding 1,
 *               bias) of the pooled grid added back: (grid/2)^2 tokens;
 *   idefics3    pixel shuffle by clip.vision.projector.scale_factor s
 *               (each s x s block of patches becomes one row of
 *               s*s*n_embd, sub-rows outer, sub-columns inner), then
 *               mm.model.fc: (grid/s)^2 tokens.
 *
 * Image input: packed RGB8 of any size. An image already image_size x
 * image_size is used as is. Any other is resized to image_size x
 * image_size with an antialiased bicubic filter (see image.h), after
 *   mlp, ldpv2  centring it on a square of the image mean colour (LLaVA's
 *               pad-to-square; no distortion),
 *   idefics3    nothing: it is stretched, as SmolVLM's processor does for
 *               its global view (this engine encodes that one view only,
 *               without the processor's extra tiles).
 * Pixels are then scaled to [0, 1] and normalised with
 * clip.vision.image_mean / image_std.
 *
 * Arithmetic follows the reference runtime's CPU backend (binary16
 * rounding of patches, of the activations of F16 weights, GELU tables,
 * flash attention over F16 K/V; see clip.c). VLM_CLIP_MATCH=<mask> in
 * the environment turns single points off, for investigations only.
 *
 * Weights are used from the GGUF mapping, never copied. Matrices may be
 * any type vlm_matmul supports (the position embedding too); norms,
 * biases and the class embedding must be F32. Everything is validated
 * when loading, so encoding cannot fail on the model.
 *
 * Thread safety: a vlm_clip is immutable after load; any number of
 * threads may encode with it at once, each with its own pool.
 */
#ifndef VLM_CLIP_H
#define VLM_CLIP_H

#include <stddef.h>
#include <stdint.h>

#include "abort.h"
#include "gguf.h"
#include "threadpool.h"
#include "vlm.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vlm_clip vlm_clip;

/* Validates and loads the vision tower and projector of an mmproj GGUF.
 * `g` must outlive the clip (weights point into its mapping). On error
 * returns NULL with *status (if non-NULL) set to
 *   VLM_ERR_UNSUPPORTED  general.architecture is not "clip", unknown
 *                        projector type, no vision encoder, or a tensor
 *                        of a type the engine cannot use;
 *   VLM_ERR_MODEL        missing key or tensor, wrong tensor shape
 *                        (expected and found shapes in the message),
 *                        inconsistent or absurd hyper-parameters;
 *   VLM_ERR_NOMEM;
 *   VLM_ERR_INVALID_ARG  g is NULL;
 * and a message in err[err_size] (if non-NULL).
 * Ownership: the caller frees the result with vlm_clip_free. Reentrant. */
vlm_clip *vlm_clip_load (const vlm_gguf *g, vlm_status *status, char *err,
    size_t err_size);

/* NULL is allowed. No encode may be running on it. */
void vlm_clip_free (vlm_clip *clip);

/* Side of the square model input in pixels, e.g. 336. */
int vlm_clip_image_size (const vlm_clip *clip);
/* Embeddings per image: 144 (ldpv2 at 336/14), 256 (mlp at 224/14),
 * 64 (idefics3 at 512/16 with scale 4). */
int vlm_clip_n_tokens (const vlm_clip *clip);
/* Width of each embedding (the text model's n_embd). */
int vlm_clip_n_embd (const vlm_clip *clip);
/* "mlp", "ldpv2" or "idefics3". Static string. */
const char *vlm_clip_projector (const vlm_clip *clip);

/* Arithmetic of the encoder (see vlm_vision_arith in vlm.h): 0 auto,
 * 1 fast, 2 reference. Set before encoding; not thread-safe against a
 * concurrent vlm_clip_encode. Unknown values mean auto. */
void vlm_clip_set_arith (vlm_clip *clip, int mode);
/* Whether an encode with the current setting uses the reference
 * arithmetic; with the setting auto, VLM_VISION_ARITH=auto|fast|
 * reference in the environment decides first. Thread-safe. */
bool vlm_clip_uses_reference_arith (const vlm_clip *clip);

/* Encodes one packed RGB8 image (`stride` bytes per row, width and
 * height >= 1, resized as described above) into
 * out[n_tokens * n_embd]. `pool` may be NULL (one thread). Checks
 * `abort` (may be NULL) before the attention and the MLP of every
 * transformer layer.
 * Returns VLM_OK, VLM_ERR_INVALID_ARG (NULL pointer, size < 1, stride
 * < 3 * width), VLM_ERR_NOMEM or VLM_ERR_ABORTED (out is then
 * undefined). Scratch memory is allocated once per call. */
vlm_status vlm_clip_encode (const vlm_clip *clip, vlm_pool *pool,
    const uint8_t *rgb, int width, int height, size_t stride, float *out,
    const vlm_abort_check *abort);

#ifdef __cplusplus
}
#endif

#endif /* VLM_CLIP_H */

/* vlm-golden-probe — what a golden case says about the reference's
 * vision-tower arithmetic.
 *
 *   vlm-golden-probe DIR        (a ../shared/golden/<case> folder)
 *
 * Runs the CLIP tower and projector of the case in double precision
 * (plain loops, independent of vlm/clip.c), optionally rounding to
 * binary16 where the reference runtime's CPU backend does, and prints:
 *
 *   1. the relative error of the exact tower against ref.image_embd.f32;
 *   2. a rounding-point test: for a rounding point P, with B the output
 *      without P and O the output with it, the coefficient
 *      c = <ref - B, O - B> / |O - B|^2 is ~1 when the reference rounds
 *      at P (same inputs, same rounding) and ~0 when it does not. The
 *      test is run against a synthetic reference (our output with every
 *      binary16 point on) to show that it detects a rounding, then
 *      against the real one;
 *   3. for the mlp projector (mm.2 is square): the reference's GELU
 *      outputs recovered by solving mm.2, and how many of them in [1, 3]
 *      are outputs of the binary16 tanh-GELU table (9.5 % of the binary16
 *      values there are not);
 *   4. the logits error of the golden text model decoding the exact
 *      embeddings, against ref.logits.f32;
 *   5. the engine's own encoders against the reference: the fast
 *      arithmetic and the reference arithmetic (vlm/clip.c), which
 *      should be bit-identical, and the logits of the latter.
 * Points 1-4 are how the reference arithmetic was found (the patch sums'
 * binary16 lanes here are the main loop only; the engine also folds
 * them in binary16, see vlm/clip.c).
 */
#include <dirent.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clip.h"
#include "file-io.h"
#include "gguf.h"
#include "llama.h"
#include "quant.h"
#include "threadpool.h"

/* Binary16 rounding points of the tower. */
enum {
  R_PIXELS = 1,                 /* normalised pixels (im2col F16) */
  R_ACT0 = 2,                   /* input of layer 0's Q, K, V products */
  R_ACT = 4,                    /* input of every other F16-weight product */
  R_GELU = 8,                   /* GELU through the binary16 table */
  R_KV = 16,                    /* K and V cast to F16 for attention */
  R_ALL = 31,
  R_CONV128 = 32                /* patch sums in 128 binary16 accumulators */
};

typedef struct {
  const vlm_gguf *g;
  int size, patch, embd, ff, layers, heads;
  float eps;
  bool ldp;
  unsigned char *image;
  int n_out, out_dim;           /* projector output rows x width */
} tower;

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

static float
h16 (float x)
{
  return vlm_fp16_to_fp32 (vlm_fp32_to_fp16 (x));
}

/* The main loop of the reference's binary16 ggml_vec_dot_f16 (32-lane
 * vectors, 8 loads per step of 256): element e goes to accumulator
 * e % 128, a chain of binary16 fused multiply-adds; here the accumulators
 * and the elements past the last whole 256 are then summed exactly (the
 * reference folds the accumulators in binary16: vlm/clip.c). */
static double
dot_conv128 (const float *x, const float *y, int n)
{
  float acc[128] = { 0 };
  int main_n = n / 256 * 256;
  double s = 0;
  for (int e = 0; e < main_n; e++)
    acc[e % 128] = vlm_round_f16_d ((double) x[e] * y[e] + acc[e % 128]);
  for (int l = 0; l < 128; l++)
    s += acc[l];
  for (int e = main_n; e < n; e++)
    s += (double) x[e] * y[e];
  return s;
}

static float
gelu (float x)
{
  const float a = 0.044715f, s = 0.79788456080286535587989211986876f;
  return 0.5f * x * (1.0f + tanhf (s * x * (1.0f + a * x * x)));
}

static float
gelu_table (float x)
{
  return x <= -10.0f ? 0.0f : x >= 10.0f ? x : h16 (gelu (h16 (x)));
}

/* A tensor as floats (dequantised); exits when missing. */
static float *
tensor (const tower *t, const char *name, int64_t *n)
{
  const vlm_gguf_tensor *gt = vlm_gguf_find_tensor (t->g, name);
  if (gt == NULL) {
    fprintf (stderr, "vlm-golden-probe: no tensor %s\n", name);
    exit (1);
  }
  int64_t ne = vlm_gguf_tensor_nelems (gt);
  float *o = malloc ((size_t) ne * sizeof (float));
  if (vlm_dequantize_row (gt->type, gt->data, o, ne) == 0) {
    fprintf (stderr, "vlm-golden-probe: tensor %s has an unhandled type\n",
        name);
    exit (1);
  }
  if (n != NULL)
    *n = ne;
  return o;
}

static float *
layer_tensor (const tower *t, int l, const char *what)
{
  char name[128];
  snprintf (name, sizeof name, "v.blk.%d.%s", l, what);
  return tensor (t, name, NULL);
}

/* The file of DIR whose name contains `part` and ends in `suffix`. */
static char *
find_file (const char *dir, const char *part, const char *suffix)
{
  DIR *d = opendir (dir);
  struct dirent *e;
  char *found = NULL;
  while (d != NULL && (e = readdir (d)) != NULL) {
    size_t n = strlen (e->d_name), s = strlen (suffix);
    if (found == NULL && strstr (e->d_name, part) && n >= s
        && strcmp (e->d_name + n - s, suffix) == 0) {
      found = malloc (strlen (dir) + n + 2);
      sprintf (found, "%s/%s", dir, e->d_name);
    }
  }
  if (d != NULL)
    closedir (d);
  return found;
}

/* ------------------------------------------------------------------ */
/* Tower in double precision                                           */
/* ------------------------------------------------------------------ */

/* y[r][o] = b[o] + sum_i W[o][i] x[r][i], x rounded to binary16 if asked */
static void
linear (const float *x, int rows, int in, const float *w, const float *b,
    int out, bool round, float *y)
{
  for (int r = 0; r < rows; r++)
    for (int o = 0; o < out; o++) {
      double s = 0;
      for (int i = 0; i < in; i++) {
        float a = x[(size_t) r * in + i];
        s += (double) (round ? h16 (a) : a) * w[(size_t) o * in + i];
      }
      y[(size_t) r * out + o] = (float) s + (b ? b[o] : 0.0f);
    }
}

static void
layer_norm (const float *x, int rows, int n, const float *w, const float *b,
    float eps, float *y)
{
  for (int r = 0; r < rows; r++) {
    const float *v = x + (size_t) r * n;
    double m = 0, q = 0;
    for (int i = 0; i < n; i++)
      m += v[i];
    m /= n;
    for (int i = 0; i < n; i++)
      q += (v[i] - m) * (v[i] - m);
    double s = 1.0 / sqrt (q / n + eps);
    for (int i = 0; i < n; i++)
      y[(size_t) r * n + i] = (float) ((v[i] - m) * s) * w[i] + b[i];
  }
}

static void
attention (const float *q, const float *k, const float *v, int n, int e,
    int heads, float *out)
{
  int dh = e / heads;
  double *sc = malloc ((size_t) n * sizeof (double));
  for (int h = 0; h < heads; h++)
    for (int i = 0; i < n; i++) {
      double mx = -INFINITY, sum = 0;
      for (int j = 0; j < n; j++) {
        double s = 0;
        for (int d = 0; d < dh; d++)
          s += (double) q[(size_t) i * e + h * dh + d]
              * k[(size_t) j * e + h * dh + d];
        sc[j] = s / sqrt ((double) dh);
        mx = sc[j] > mx ? sc[j] : mx;
      }
      for (int j = 0; j < n; j++)
        sum += sc[j] = exp (sc[j] - mx);
      for (int d = 0; d < dh; d++) {
        double s = 0;
        for (int j = 0; j < n; j++)
          s += sc[j] * v[(size_t) j * e + h * dh + d];
        out[(size_t) i * e + h * dh + d] = (float) (s / sum);
      }
    }
  free (sc);
}

/* Patch embedding, class token (after the patches), positions, pre-LN. */
static float *
embed (const tower *t, int flags, int n_pos)
{
  int g = t->size / t->patch, e = t->embd, p = t->patch, s = t->size;
  float *kern = tensor (t, "v.patch_embd.weight", NULL);
  float *bias = tensor (t, "v.patch_embd.bias", NULL);
  float *cls = tensor (t, "v.class_embd", NULL);
  float *pos = tensor (t, "v.position_embd.weight", NULL);
  float *x = malloc ((size_t) n_pos * e * sizeof (float));

  int kn = 3 * p * p;
  float *xv = malloc ((size_t) kn * sizeof (float));
  for (int tok = 0; tok < g * g; tok++)
    for (int o = 0; o < e; o++) {
      for (int c = 0; c < 3; c++)
        for (int ky = 0; ky < p; ky++)
          for (int kx = 0; kx < p; kx++) {
            size_t px = ((size_t) ((tok / g) * p + ky) * s
                + (tok % g) * p + kx) * 3 + c;
            float v = (t->image[px] / 255.0f - 0.5f) / 0.5f;
            xv[(c * p + ky) * p + kx] = (flags & R_PIXELS) ? h16 (v) : v;
          }
      const float *kr = kern + (size_t) o * kn;
      double acc = 0;
      if (flags & R_CONV128)
        acc = dot_conv128 (xv, kr, kn);
      else
        for (int i = 0; i < kn; i++)
          acc += (double) xv[i] * kr[i];
      x[(size_t) tok * e + o] = (float) acc + bias[o];
    }
  free (xv);
  memcpy (x + (size_t) g * g * e, cls, (size_t) e * sizeof (float));
  for (size_t i = 0; i < (size_t) n_pos * e; i++)
    x[i] += pos[i];
  float *w = tensor (t, "v.pre_ln.weight", NULL);
  float *b = tensor (t, "v.pre_ln.bias", NULL);
  layer_norm (x, n_pos, e, w, b, t->eps, x);
  free (kern); free (bias); free (cls); free (pos); free (w); free (b);
  return x;
}

static void
run_layer (const tower *t, int l, int flags, float *x, int n)
{
  int e = t->embd, ff = t->ff;
  size_t ne = (size_t) n * e;
  float *h = malloc (ne * 4), *q = malloc (ne * 4), *k = malloc (ne * 4),
      *v = malloc (ne * 4), *a = malloc (ne * 4),
      *u = malloc ((size_t) n * ff * 4);
  const char *names[] = { "ln1.weight", "ln1.bias", "attn_q.weight",
    "attn_q.bias", "attn_k.weight", "attn_k.bias", "attn_v.weight",
    "attn_v.bias", "attn_out.weight", "attn_out.bias", "ln2.weight",
    "ln2.bias", "ffn_up.weight", "ffn_up.bias", "ffn_down.weight",
    "ffn_down.bias" };
  float *p[16];
  for (int i = 0; i < 16; i++)
    p[i] = layer_tensor (t, l, names[i]);
  bool r0 = (flags & (l == 0 ? R_ACT0 : R_ACT)) != 0;
  bool r = (flags & R_ACT) != 0;

  layer_norm (x, n, e, p[0], p[1], t->eps, h);
  linear (h, n, e, p[2], p[3], e, r0, q);
  linear (h, n, e, p[4], p[5], e, r0, k);
  linear (h, n, e, p[6], p[7], e, r0, v);
  if (flags & R_KV)
    for (size_t i = 0; i < ne; i++) {
      k[i] = h16 (k[i]);
      v[i] = h16 (v[i]);
    }
  attention (q, k, v, n, e, t->heads, a);
  linear (a, n, e, p[8], p[9], e, r, h);
  for (size_t i = 0; i < ne; i++)
    x[i] += h[i];
  layer_norm (x, n, e, p[10], p[11], t->eps, h);
  linear (h, n, e, p[12], p[13], ff, r, u);
  for (size_t i = 0; i < (size_t) n * ff; i++)
    u[i] = (flags & R_GELU) ? gelu_table (u[i]) : gelu (u[i]);
  linear (u, n, ff, p[14], p[15], e, r, h);
  for (size_t i = 0; i < ne; i++)
    x[i] += h[i];
  for (int i = 0; i < 16; i++)
    free (p[i]);
  free (h); free (q); free (k); free (v); free (a); free (u);
}

/* mlp: linear, GELU, linear. ldpv2: the same, 2x2 average pooling, then
 * a 3x3 depthwise convolution with bias added back to its input. */
static float *
project (const tower *t, const float *x, int flags, float **gelu_in)
{
  int g = t->size / t->patch, np = g * g, e = t->embd, pe = t->out_dim;
  bool r = (flags & R_ACT) != 0;
  const char *w0 = t->ldp ? "mm.model.mlp.0.weight" : "mm.0.weight";
  const char *b0 = t->ldp ? "mm.model.mlp.0.bias" : "mm.0.bias";
  const char *w2 = t->ldp ? "mm.model.mlp.2.weight" : "mm.2.weight";
  const char *b2 = t->ldp ? "mm.model.mlp.2.bias" : "mm.2.bias";
  float *tw0 = tensor (t, w0, NULL), *tb0 = tensor (t, b0, NULL);
  float *tw2 = tensor (t, w2, NULL), *tb2 = tensor (t, b2, NULL);
  float *m0 = malloc ((size_t) np * pe * 4);
  float *m2 = malloc ((size_t) np * pe * 4);

  linear (x, np, e, tw0, tb0, pe, r, m0);
  if (gelu_in != NULL) {
    *gelu_in = malloc ((size_t) np * pe * 4);
    memcpy (*gelu_in, m0, (size_t) np * pe * 4);
  }
  for (size_t i = 0; i < (size_t) np * pe; i++)
    m0[i] = (flags & R_GELU) ? gelu_table (m0[i]) : gelu (m0[i]);
  linear (m0, np, pe, tw2, tb2, pe, r, m2);
  free (tw0); free (tb0); free (tw2); free (tb2); free (m0);
  if (!t->ldp)
    return m2;

  int h = g / 2;
  float *pool = malloc ((size_t) h * h * pe * 4);
  float *out = malloc ((size_t) h * h * pe * 4);
  float *pw = tensor (t, "mm.model.peg.0.weight", NULL);
  float *pb = tensor (t, "mm.model.peg.0.bias", NULL);
  for (int c = 0; c < pe; c++)
    for (int oy = 0; oy < h; oy++)
      for (int ox = 0; ox < h; ox++) {
        float s = 0;
        for (int k = 0; k < 4; k++)
          s += m2[((size_t) (2 * oy + k / 2) * g + 2 * ox + k % 2) * pe + c];
        pool[((size_t) oy * h + ox) * pe + c] = s / 4;
      }
  for (int c = 0; c < pe; c++)
    for (int oy = 0; oy < h; oy++)
      for (int ox = 0; ox < h; ox++) {
        double s = 0;
        for (int k = 0; k < 9; k++) {
          int iy = oy + k / 3 - 1, ix = ox + k % 3 - 1;
          if (iy >= 0 && iy < h && ix >= 0 && ix < h)
            s += (double) pool[((size_t) iy * h + ix) * pe + c] * pw[c * 9 + k];
        }
        size_t o = ((size_t) oy * h + ox) * pe + c;
        out[o] = ((float) s + pb[c]) + pool[o];
      }
  free (m2); free (pool); free (pw); free (pb);
  return out;
}

/* The projector output for a set of rounding points. The projector reads
 * tower rows 1.. (patches 1.. and the class token), as the reference. */
static float *
run_tower (const tower *t, int flags, float **gelu_in)
{
  int g = t->size / t->patch, n = g * g + 1;
  float *x = embed (t, flags, n);
  for (int l = 0; l + 1 < t->layers; l++)
    run_layer (t, l, flags, x, n);
  float *out = project (t, x + t->embd, flags, gelu_in);
  free (x);
  return out;
}

/* ------------------------------------------------------------------ */
/* Comparisons                                                         */
/* ------------------------------------------------------------------ */

/* Largest per-row max|a - b| / max|b| and the rms of the per-row
 * |a - b| / |b|. */
static void
rel_error (const float *a, const float *b, int rows, int cols, double *mx,
    double *rms)
{
  double worst = 0, sum = 0;
  for (int r = 0; r < rows; r++) {
    double md = 0, mb = 0, sd = 0, sb = 0;
    for (int c = 0; c < cols; c++) {
      double d = fabs (a[r * cols + c] - b[r * cols + c]);
      md = d > md ? d : md;
      mb = fabs (b[r * cols + c]) > mb ? fabs (b[r * cols + c]) : mb;
      sd += d * d;
      sb += (double) b[r * cols + c] * b[r * cols + c];
    }
    worst = md / mb > worst ? md / mb : worst;
    sum += sd / sb;
  }
  *mx = worst;
  *rms = sqrt (sum / rows);
}

/* c = <ref - base, with - base> / |with - base|^2 */
static double
coefficient (const float *ref, const float *base, const float *with, size_t n)
{
  double ro = 0, oo = 0;
  for (size_t i = 0; i < n; i++) {
    double o = with[i] - base[i];
    ro += (ref[i] - base[i]) * o;
    oo += o * o;
  }
  return ro / oo;
}

static void
rounding_tests (const tower *t, const float *ref, const float *exact)
{
  size_t n = (size_t) t->n_out * t->out_dim;
  float *pix = run_tower (t, R_PIXELS, NULL);
  float *pix_act0 = run_tower (t, R_PIXELS | R_ACT0, NULL);
  float *synthetic = run_tower (t, R_ALL, NULL);
  float *conv128 = run_tower (t, R_PIXELS | R_CONV128, NULL);
  double mx, rms;

  rel_error (exact, ref, t->n_out, t->out_dim, &mx, &rms);
  printf ("exact tower vs reference: max %.3g, rms %.3g relative per row\n",
      mx, rms);
  rel_error (synthetic, ref, t->n_out, t->out_dim, &mx, &rms);
  printf ("all binary16 points vs reference: max %.3g, rms %.3g\n", mx, rms);
  printf ("rounding point          synthetic ref   real ref\n");
  printf ("pixels to binary16      %+8.3f        %+8.3f\n",
      coefficient (synthetic, exact, pix, n), coefficient (ref, exact, pix, n));
  printf ("layer-0 QKV input       %+8.3f        %+8.3f\n",
      coefficient (synthetic, pix, pix_act0, n),
      coefficient (ref, pix, pix_act0, n));
  printf ("patch sums in binary16  %8s        %+8.3f   (128 binary16 "
      "lanes, main loop only)\n", "", coefficient (ref, pix, conv128, n));
  rel_error (conv128, ref, t->n_out, t->out_dim, &mx, &rms);
  printf ("pixels + binary16 patch sums vs reference: max %.3g, rms %.3g\n",
      mx, rms);
  free (pix); free (pix_act0); free (synthetic); free (conv128);
}

/* Solves A x = b (n x n, row-major, A copied) by Gaussian elimination
 * with partial pivoting. */
static void
solve (const double *a0, const double *b0, double *x, int n)
{
  double *a = malloc ((size_t) n * n * 8), *b = malloc ((size_t) n * 8);
  memcpy (a, a0, (size_t) n * n * 8);
  memcpy (b, b0, (size_t) n * 8);
  for (int c = 0; c < n; c++) {
    int p = c;
    for (int r = c + 1; r < n; r++)
      if (fabs (a[r * n + c]) > fabs (a[p * n + c]))
        p = r;
    for (int k = 0; k < n; k++) {
      double s = a[c * n + k];
      a[c * n + k] = a[p * n + k];
      a[p * n + k] = s;
    }
    double s = b[c];
    b[c] = b[p];
    b[p] = s;
    for (int r = c + 1; r < n; r++) {
      double f = a[r * n + c] / a[c * n + c];
      for (int k = c; k < n; k++)
        a[r * n + k] -= f * a[c * n + k];
      b[r] -= f * b[c];
    }
  }
  for (int c = n - 1; c >= 0; c--) {
    double s = b[c];
    for (int k = c + 1; k < n; k++)
      s -= a[c * n + k] * x[k];
    x[c] = s / a[c * n + c];
  }
  free (a);
  free (b);
}

/* mlp only: the reference's GELU outputs from ref = W2 g + b2. */
static void
gelu_table_test (const tower *t, const float *ref)
{
  int pe = t->out_dim;
  float *w2 = tensor (t, "mm.2.weight", NULL);
  float *b2 = tensor (t, "mm.2.bias", NULL);
  double *a = malloc ((size_t) pe * pe * 8), *rhs = malloc ((size_t) pe * 8),
      *g = malloc ((size_t) pe * 8);
  static unsigned char image[65536];
  int in_range = 0, outputs = 0, f16_in_range = 0, f16_outputs = 0;

  for (int h = 0; h < 65536; h++) {
    float v = vlm_fp16_to_fp32 ((uint16_t) h);
    if (!isnan (v))
      image[vlm_fp32_to_fp16 (gelu (v))] = 1;
  }
  for (int h = 0; h < 65536; h++) {
    float v = vlm_fp16_to_fp32 ((uint16_t) h);
    if (v >= 1.0f && v <= 3.0f) {
      f16_in_range++;
      f16_outputs += image[h];
    }
  }
  for (int i = 0; i < pe * pe; i++)
    a[i] = w2[i];
  for (int r = 0; r < t->n_out; r++) {
    for (int c = 0; c < pe; c++)
      rhs[c] = ref[r * pe + c] - b2[c];
    solve (a, rhs, g, pe);
    for (int c = 0; c < pe; c++)
      if (g[c] >= 1.0 && g[c] <= 3.0) {
        in_range++;
        outputs += image[vlm_fp32_to_fp16 ((float) g[c])];
      }
  }
  printf ("GELU outputs recovered from mm.2 in [1, 3]: %d, of which %d are "
      "binary16 tanh-GELU table outputs (%.1f %% of binary16 values there "
      "are)\n", in_range, outputs, 100.0 * f16_outputs / f16_in_range);
  free (w2); free (b2); free (a); free (rhs); free (g);
}

/* Decodes ref.chunks.txt with `embd` for the image and feeds back the
 * reference's greedy tokens; prints the per-row logits error. */
static void
logits_test (const char *dir, const float *embd, const char *label)
{
  char *text = find_file (dir, "-text-", ".gguf"), path[1024];
  vlm_gguf *g = text ? vlm_gguf_open (text, NULL, NULL, 0) : NULL;
  vlm_llama *m = g ? vlm_llama_load (g, NULL, NULL, 0) : NULL;
  snprintf (path, sizeof path, "%s/ref.chunks.txt", dir);
  char *chunks = vlm_tool_read_file (path, NULL);
  snprintf (path, sizeof path, "%s/ref.logits.f32", dir);
  float *ref = vlm_tool_read_file (path, NULL);
  snprintf (path, sizeof path, "%s/ref.greedy.txt", dir);
  char *greedy = vlm_tool_read_file (path, NULL);
  if (m == NULL || chunks == NULL || ref == NULL || greedy == NULL) {
    fprintf (stderr, "vlm-golden-probe: cannot load the text model or the "
        "reference files in %s\n", dir);
    exit (1);
  }
  int ne = vlm_llama_n_embd (m), nv = vlm_llama_n_vocab (m);
  vlm_pool *pool = vlm_pool_new (2);
  vlm_kv_cache *kv = vlm_kv_cache_new (m, 1024);
  float *logits = malloc ((size_t) nv * sizeof (float));
  int32_t ids[1024];
  size_t used = 0;

  for (char *l = strtok (chunks, "\n"); l != NULL; l = strtok (NULL, "\n")) {
    if (strncmp (l, "image ", 6) == 0) {
      int k = atoi (l + 6);
      vlm_llama_decode (m, kv, pool, NULL, embd + used * ne, k, logits, NULL);
      used += (size_t) k;
      continue;
    }
    int k = 0;
    char *p = l + 5, *end;
    for (long v = strtol (p, &end, 10); end != p && k < 1024;
        p = end, v = strtol (p, &end, 10))
      ids[k++] = (int32_t) v;
    vlm_llama_decode (m, kv, pool, ids, NULL, k, logits, NULL);
  }
  printf ("logits with %s embeddings, per row:", label);
  double worst = 0;
  char *gl = greedy;
  for (int step = 0; step < 8; step++) {
    int id = 0;
    float logit, margin;
    sscanf (gl, "%d %f margin %f", &id, &logit, &margin);
    gl = strchr (gl, '\n') + 1;
    double md = 0, mr = 0;
    int arg = 0;
    for (int i = 0; i < nv; i++) {
      double d = fabs (logits[i] - ref[step * nv + i]);
      md = d > md ? d : md;
      mr = fabs (ref[step * nv + i]) > mr ? fabs (ref[step * nv + i]) : mr;
      arg = logits[i] > logits[arg] ? i : arg;
    }
    worst = md / mr > worst ? md / mr : worst;
    printf (" %.3g%s", md / mr, arg != id && margin > 0.05f ? "(argmax!)" : "");
    int32_t tok = id;
    if (step < 7)
      vlm_llama_decode (m, kv, pool, &tok, NULL, 1, logits, NULL);
  }
  printf ("; max %.3g\n", worst);
  free (logits);
  vlm_kv_cache_free (kv);
  vlm_pool_free (pool);
  vlm_llama_free (m);
  vlm_gguf_close (g);
  free (text); free (chunks); free (ref); free (greedy);
}

/* ------------------------------------------------------------------ */
/* Main                                                                */
/* ------------------------------------------------------------------ */

/* The engine's encoder in both arithmetics against the reference. */
static void
engine_test (const tower *t, const char *dir, const float *ref)
{
  vlm_status st;
  char err[256];
  vlm_clip *clip = vlm_clip_load (t->g, &st, err, sizeof err);
  if (clip == NULL) {
    printf ("engine: %s\n", err);
    return;
  }
  size_t n = (size_t) t->n_out * t->out_dim;
  float *out = malloc (n * sizeof (float));
  const char *names[] = { "fast", "reference" };
  for (int mode = 1; mode <= 2; mode++) {
    vlm_clip_set_arith (clip, mode);
    if (vlm_clip_encode (clip, NULL, t->image, t->size, t->size,
            (size_t) t->size * 3, out, NULL) != VLM_OK)
      continue;
    double mx, rms;
    rel_error (out, ref, t->n_out, t->out_dim, &mx, &rms);
    printf ("engine, %s arithmetic: max %.3g, rms %.3g%s\n", names[mode - 1],
        mx, rms, memcmp (out, ref, n * sizeof (float)) == 0
        ? " (bit-identical)" : "");
    if (mode == 2)
      logits_test (dir, out, "the engine's reference-arithmetic");
  }
  free (out);
  vlm_clip_free (clip);
}

static bool
get_u32 (const vlm_gguf *g, const char *key, int *out)
{
  uint32_t v;
  if (vlm_gguf_get_u32 (g, key, &v) != VLM_GGUF_OK)
    return false;
  *out = (int) v;
  return true;
}

int
main (int argc, char **argv)
{
  if (argc != 2) {
    fprintf (stderr, "usage: %s GOLDEN_CASE_DIR\n", argv[0]);
    return 2;
  }
  const char *dir = argv[1];
  char *mmproj = find_file (dir, "-mmproj-", ".gguf");
  tower t = { 0 };
  t.g = mmproj ? vlm_gguf_open (mmproj, NULL, NULL, 0) : NULL;
  const char *proj = NULL;
  if (t.g == NULL || !get_u32 (t.g, "clip.vision.image_size", &t.size)
      || !get_u32 (t.g, "clip.vision.patch_size", &t.patch)
      || !get_u32 (t.g, "clip.vision.embedding_length", &t.embd)
      || !get_u32 (t.g, "clip.vision.feed_forward_length", &t.ff)
      || !get_u32 (t.g, "clip.vision.block_count", &t.layers)
      || !get_u32 (t.g, "clip.vision.attention.head_count", &t.heads)
      || vlm_gguf_get_f32 (t.g, "clip.vision.attention.layer_norm_epsilon",
          &t.eps) != VLM_GGUF_OK
      || vlm_gguf_get_string (t.g, "clip.projector_type", &proj)
      != VLM_GGUF_OK) {
    fprintf (stderr, "vlm-golden-probe: no readable *-mmproj-*.gguf in %s\n",
        dir);
    return 1;
  }
  t.ldp = strcmp (proj, "ldpv2") == 0;
  if (!t.ldp && strcmp (proj, "mlp") != 0) {
    fprintf (stderr, "vlm-golden-probe: projector %s not handled\n", proj);
    return 1;
  }
  char path[1024];
  size_t len;
  snprintf (path, sizeof path, "%s/image-%dx%d.rgb", dir, t.size, t.size);
  t.image = vlm_tool_read_file (path, &len);
  snprintf (path, sizeof path, "%s/ref.image_embd.f32", dir);
  size_t ref_len;
  float *ref = vlm_tool_read_file (path, &ref_len);
  int64_t n0;
  free (tensor (&t, t.ldp ? "mm.model.mlp.0.weight" : "mm.0.weight", &n0));
  t.out_dim = (int) (n0 / t.embd);
  int g = t.size / t.patch;
  t.n_out = t.ldp ? (g / 2) * (g / 2) : g * g;
  if (t.image == NULL || len != (size_t) t.size * t.size * 3 || ref == NULL
      || ref_len != (size_t) t.n_out * t.out_dim * sizeof (float)) {
    fprintf (stderr, "vlm-golden-probe: image or ref.image_embd.f32 missing "
        "or of the wrong size in %s\n", dir);
    return 1;
  }

  printf ("%s: %s projector, %d layers used of %d, width %d\n", dir, proj,
      t.layers - 1, t.layers, t.embd);
  float *exact = run_tower (&t, 0, NULL);
  rounding_tests (&t, ref, exact);
  if (!t.ldp)
    gelu_table_test (&t, ref);
  logits_test (dir, ref, "the reference's");
  logits_test (dir, exact, "exact (double)");
  engine_test (&t, dir, ref);
  free (exact);
  free (ref);
  free (t.image);
  vlm_gguf_close ((vlm_gguf *) t.g);
  free (mmproj);
  return 0;
}

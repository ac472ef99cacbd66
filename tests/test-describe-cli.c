/* Tests of the vlm-describe command line: the golden run with its dumps,
 * PNG / JPEG input, and errors with their exit codes. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "test-util.h"

#ifdef HAVE_PNG
#include <png.h>
#endif
#ifdef HAVE_JPEG
#include <jpeglib.h>
#endif

#define GOLDEN "ldpv2-spm"

static char tmpdir[256];

/* Path of golden/GOLDEN/<file> under $VLM_SHARED_DIR; the caller frees. */
static char *
golden (const char *file)
{
  char rel[512];
  snprintf (rel, sizeof rel, "golden/" GOLDEN "/%s", file);
  return tu_shared_path (rel);
}

static char *
tmp (const char *file)
{
  size_t size = strlen (tmpdir) + 1 + strlen (file) + 1;
  char *p = malloc (size);
  snprintf (p, size, "%s/%s", tmpdir, file);
  return p;
}

/* Runs vlm-describe with argv (NULL-terminated, without argv[0]);
 * stdout and stderr go to files in tmpdir. Returns the exit status. */
static int
run_cli (const char *const *args)
{
  char exe[1024];
  const char *build = getenv ("VLM_BUILD_DIR");
  snprintf (exe, sizeof (exe), "%s/vlm/vlm-describe", build ? build : ".");
  const char *argv[40] = { exe };
  int n = 1;
  for (; args[n - 1] && n < 39; n++)
    argv[n] = args[n - 1];
  argv[n] = NULL;
  pid_t pid = fork ();
  assert_true (pid >= 0);
  if (pid == 0) {
    char *out = tmp ("stdout"), *err = tmp ("stderr");
    if (!freopen (out, "w", stdout) || !freopen (err, "w", stderr))
      _exit (127);
    execv (exe, (char *const *) argv);
    _exit (127);
  }
  int status;
  waitpid (pid, &status, 0);
  return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

static bool
stderr_has (const char *needle)
{
  size_t n;
  char *path = tmp ("stderr");
  char *s = tu_read_file (path, &n);
  bool found = strstr (s, needle) != NULL;
  free (s);
  free (path);
  return found;
}

/* ------------------------------------------------------------------ */
/* Tests                                                               */
/* ------------------------------------------------------------------ */

static void
test_golden_run_and_dumps (void **state)
{
  size_t n;
  char *text = golden ("tinyldp-text-q8_0.gguf");
  char *mmproj = golden ("tinyldp-mmproj-f16.gguf");
  char *image = golden ("image-336x336.rgb");
  char *prompt_path = golden ("prompt.txt");
  char *prompt = tu_read_file (prompt_path, &n);
  char *logits = tmp ("logits.f32"), *embd = tmp ("embd.f32");
  const char *args[] = { "--model", text, "--mmproj", mmproj, "--image",
    image, "--raw", "336x336", "--prompt", prompt, "--no-template",
    "--temp", "0", "--n-predict", "8", "--threads", "2", "--dump-logits",
    logits, "--dump-image-embd", embd, "--print-tokens", NULL };
  assert_int_equal (run_cli (args), 0);

  /* the prompt chunks, as the reference printed them */
  char *ref_chunks_path = golden ("ref.chunks.txt");
  char *chunks = tu_read_file (ref_chunks_path, &n);
  assert_true (stderr_has (chunks));

  size_t n_ours, n_ref;
  float *ours = tu_read_file (logits, &n_ours);
  char *ref_path = golden ("ref.logits.f32");
  float *ref = tu_read_file (ref_path, &n_ref);
  assert_int_equal (n_ours, n_ref);
  size_t n_vocab = n_ref / sizeof (float) / 8;
  /* the rows must be the reference's rows: same greedy token where the
   * reference's margin is clear, and values within 1e-2 */
  char *greedy_path = golden ("ref.greedy.txt");
  char *greedy = tu_read_file (greedy_path, &n);
  const char *line = greedy;
  for (int r = 0; r < 8; r++) {
    const float *row = ours + r * n_vocab;
    int best = tu_argmax (row, (int) n_vocab);
    int ref_id;
    float logit, margin;
    assert_int_equal (sscanf (line, "%d %f margin %f", &ref_id, &logit,
            &margin), 3);
    if (margin > 0.05f)
      assert_int_equal (best, ref_id);
    assert_true (tu_rel_error (row, ref + r * n_vocab, n_vocab) < 1e-2);
    line = strchr (line, '\n') + 1;
  }
  free (greedy);
  free (greedy_path);
  free (ours);
  free (ref);
  free (ref_path);

  ours = tu_read_file (embd, &n_ours);
  ref_path = golden ("ref.image_embd.f32");
  ref = tu_read_file (ref_path, &n_ref);
  assert_int_equal (n_ours, n_ref);
  assert_memory_equal (ours, ref, n_ref);
  free (ours);
  free (ref);
  free (ref_path);
  free (chunks);
  free (ref_chunks_path);
  free (text);
  free (mmproj);
  free (image);
  free (prompt);
  free (prompt_path);
  free (logits);
  free (embd);
}

#ifdef HAVE_PNG
static void
write_png (const char *path, const uint8_t * rgb, int w, int h)
{
  png_image p;
  memset (&p, 0, sizeof (p));
  p.version = PNG_IMAGE_VERSION;
  p.width = w;
  p.height = h;
  p.format = PNG_FORMAT_RGB;
  assert_true (png_image_write_to_file (&p, path, 0, rgb, 0, NULL));
}
#endif

#ifdef HAVE_JPEG
static void
write_jpeg (const char *path, const uint8_t * rgb, int w, int h)
{
  struct jpeg_compress_struct c;
  struct jpeg_error_mgr e;
  FILE *f = fopen (path, "wb");
  assert_non_null (f);
  c.err = jpeg_std_error (&e);
  jpeg_create_compress (&c);
  jpeg_stdio_dest (&c, f);
  c.image_width = w;
  c.image_height = h;
  c.input_components = 3;
  c.in_color_space = JCS_RGB;
  jpeg_set_defaults (&c);
  jpeg_start_compress (&c, TRUE);
  while (c.next_scanline < c.image_height) {
    JSAMPROW row = (JSAMPROW) rgb + c.next_scanline * w * 3;
    jpeg_write_scanlines (&c, &row, 1);
  }
  jpeg_finish_compress (&c);
  jpeg_destroy_compress (&c);
  fclose (f);
}
#endif

/* A PNG and a JPEG of another size than the model's are accepted. */
static void
test_png_and_jpeg_input (void **state)
{
#if defined(HAVE_PNG) && defined(HAVE_JPEG)
  int w = 120, h = 90;
  uint8_t *rgb = malloc (w * h * 3);
  for (int i = 0; i < w * h * 3; i++)
    rgb[i] = (uint8_t) (i * 7);
  char *png = tmp ("in.png"), *jpg = tmp ("in.jpg");
  write_png (png, rgb, w, h);
  write_jpeg (jpg, rgb, w, h);
  char *text = golden ("tinyldp-text-q8_0.gguf");
  char *mmproj = golden ("tinyldp-mmproj-f16.gguf");
  const char *a1[] = { "--model", text, "--mmproj", mmproj, "--image", png,
    "--n-predict", "2", "--stats", NULL };
  assert_int_equal (run_cli (a1), 0);
  assert_true (stderr_has ("decode: 2 tokens"));
  const char *a2[] = { "--model", text, "--mmproj", mmproj, "--image", jpg,
    "--n-predict", "2", NULL };
  assert_int_equal (run_cli (a2), 0);
  free (rgb);
  free (png);
  free (jpg);
  free (text);
  free (mmproj);
#else
  fail_msg ("vlm-describe was built without PNG or JPEG support");
#endif
}

static void
test_errors_and_exit_codes (void **state)
{
  char *text = golden ("tinyldp-text-q8_0.gguf");
  char *mmproj = golden ("tinyldp-mmproj-f16.gguf");
  char *image = golden ("image-336x336.rgb");
  const char *no_model[] = { "--mmproj", mmproj, "--image", image, NULL };
  assert_int_equal (run_cli (no_model), 2);
  assert_true (stderr_has ("required"));
  const char *missing[] = { "--model", "/nonexistent.gguf", "--mmproj",
    mmproj, "--image", image, "--raw", "336x336", NULL };
  assert_int_equal (run_cli (missing), 1);
  assert_true (stderr_has ("/nonexistent.gguf"));
  /* a raw file read as PNG/JPEG */
  const char *not_png[] = { "--model", text, "--mmproj", mmproj, "--image",
    image, NULL };
  assert_int_equal (run_cli (not_png), 1);
  assert_true (stderr_has ("not a PNG or JPEG"));
  const char *bad_size[] = { "--model", text, "--mmproj", mmproj, "--image",
    image, "--raw", "100x100", NULL };
  assert_int_equal (run_cli (bad_size), 1);
  assert_true (stderr_has ("does not match"));
  free (text);
  free (mmproj);
  free (image);
}

/* --vision-arith fast gives other (close) embeddings than the default;
 * an unknown mode is a usage error. */
static void
test_vision_arith_option (void **state)
{
  char *text = golden ("tinyldp-text-q8_0.gguf");
  char *mmproj = golden ("tinyldp-mmproj-f16.gguf");
  char *image = golden ("image-336x336.rgb");
  char *ref_path = golden ("ref.image_embd.f32");
  char *embd = tmp ("fast-embd.f32");
  const char *fast[] = { "--model", text, "--mmproj", mmproj, "--image",
    image, "--raw", "336x336", "--n-predict", "1", "--vision-arith", "fast",
    "--dump-image-embd", embd, NULL };
  assert_int_equal (run_cli (fast), 0);
  size_t n_ours, n_ref;
  float *ours = tu_read_file (embd, &n_ours);
  float *ref = tu_read_file (ref_path, &n_ref);
  assert_int_equal (n_ours, n_ref);
  assert_true (memcmp (ours, ref, n_ref) != 0);
  assert_true (tu_rel_error (ours, ref, n_ref / sizeof (float)) < 3e-3);
  const char *bad[] = { "--model", text, "--mmproj", mmproj, "--image",
    image, "--raw", "336x336", "--vision-arith", "exact", NULL };
  assert_int_equal (run_cli (bad), 2);
  assert_true (stderr_has ("--vision-arith"));
  free (ours);
  free (ref);
  free (embd);
  free (ref_path);
  free (text);
  free (mmproj);
  free (image);
}

static int
setup (void **state)
{
  return tu_tmpdir_new (tmpdir, sizeof (tmpdir), "vlm-cli") ? 0 : -1;
}

static int
teardown (void **state)
{
  return tu_tmpdir_remove (tmpdir);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_golden_run_and_dumps),
    cmocka_unit_test (test_png_and_jpeg_input),
    cmocka_unit_test (test_errors_and_exit_codes),
    cmocka_unit_test (test_vision_arith_option),
  };
  return cmocka_run_group_tests (tests, setup, teardown);
}

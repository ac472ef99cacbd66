/* gst-vlm — vlm-scanner end to end, headless: a clip made by the test,
 * the tiny generated model, captions on stdout and in a WebVTT file that
 * the test validates; bad inputs; the missing camera and its fallback.
 * The app runs as a child process (tests/scanner-test-util.h).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>

#include "scanner-test-util.h"

#define FPS 10
#define N_FRAMES 30                     /* 3 s */
#define FRAME_MS (1000 / FPS)
#define CLIP_MS (N_FRAMES * FRAME_MS)
#define HOLD_MS 4000                    /* the app's cue hold time */

static char tmp_dir[4096];
static gchar *model, *mmproj, *clip;

static int
group_setup (void **state)
{
  gchar *d = g_dir_make_tmp ("test-scanner-headless-XXXXXX", NULL);

  if (d == NULL)
    return -1;
  g_strlcpy (tmp_dir, d, sizeof tmp_dir);
  g_free (d);
  clip = g_build_filename (tmp_dir, "clip.webm", NULL);
  if (st_make_model (tmp_dir, &model, &mmproj) != 0)
    return -1;
  return st_make_clip (tmp_dir, clip, N_FRAMES, FPS, "ball") == 0 ? 0 : -1;
}

static int
group_teardown (void **state)
{
  tu_tmpdir_remove (tmp_dir);
  g_free (model);
  g_free (mmproj);
  g_free (clip);
  return 0;
}

/* ------------------------------------------------------------------ */
/* A WebVTT validator                                                  */
/* ------------------------------------------------------------------ */

typedef struct {
  long start_ms, end_ms;
  gchar *text;
} Cue;

/* "HH:MM:SS.mmm" (hours two digits or more) or "MM:SS.mmm"; -1 if not. */
static long
parse_time (const char *s, const char **end)
{
  long f[3] = { 0, 0, 0 }, ms;
  int n = 0;
  char *e;

  for (;;) {
    if (!g_ascii_isdigit (*s))
      return -1;
    f[n++] = strtol (s, &e, 10);
    if ((e - s) < 2 || n > 3)
      return -1;
    s = e;
    if (*s != ':')
      break;
    s++;
  }
  if (*s != '.' || n < 2 || !g_ascii_isdigit (s[1]) || !g_ascii_isdigit (s[2])
      || !g_ascii_isdigit (s[3]) || g_ascii_isdigit (s[4]))
    return -1;
  ms = strtol (s + 1, NULL, 10);
  if ((n == 3 && (f[1] > 59 || f[2] > 59)) || (n == 2 && f[1] > 59))
    return -1;
  *end = s + 4;
  return (n == 3 ? f[0] * 3600 + f[1] * 60 + f[2] : f[0] * 60 + f[1]) * 1000
      + ms;
}

/* Parses a WebVTT file strictly enough for our writer: header, blank
 * line, cues of [id] timing payload..., separated by blank lines; every
 * cue ends after it starts, starts never go back, payloads hold no
 * "-->". Fails the test otherwise. Returns the cues. */
static GArray *
validate_vtt (const char *path)
{
  gchar *data = NULL, **lines;
  GArray *cues = g_array_new (FALSE, TRUE, sizeof (Cue));
  int i = 0;
  long last_start = -1;

  assert_true (g_file_get_contents (path, &data, NULL, NULL));
  lines = g_strsplit (data, "\n", -1);
  assert_true (g_str_has_prefix (lines[0], "WEBVTT"));
  assert_true (lines[0][6] == '\0' || lines[0][6] == ' '
      || lines[0][6] == '\t');
  /* the header block ends at the first blank line */
  for (i = 1; lines[i] && lines[i][0] != '\0';)
    i++;
  while (lines[i]) {
    Cue cue = { 0 };
    const char *s;
    GString *text;

    while (lines[i] && lines[i][0] == '\0')
      i++;
    if (lines[i] == NULL)
      break;
    text = g_string_new (NULL);
    if (strstr (lines[i], "-->") == NULL)
      i++;                      /* cue identifier */
    assert_non_null (lines[i]);
    cue.start_ms = parse_time (lines[i], &s);
    assert_true (cue.start_ms >= 0);
    assert_true (g_str_has_prefix (s, " --> "));
    cue.end_ms = parse_time (s + 5, &s);
    assert_true (cue.end_ms > cue.start_ms);
    assert_true (cue.start_ms >= last_start);
    last_start = cue.start_ms;
    for (i++; lines[i] && lines[i][0] != '\0'; i++) {
      assert_null (strstr (lines[i], "-->"));
      g_string_append (text, lines[i]);
    }
    cue.text = g_string_free (text, FALSE);
    g_array_append_val (cues, cue);
  }
  g_strfreev (lines);
  g_free (data);
  return cues;
}

static void
free_cues (GArray * cues)
{
  for (guint i = 0; i < cues->len; i++)
    g_free (g_array_index (cues, Cue, i).text);
  g_array_free (cues, TRUE);
}

/* ------------------------------------------------------------------ */
/* Running the app                                                     */
/* ------------------------------------------------------------------ */

/* vlm-scanner --headless with the model and args (NULL-terminated). */
static StRun
scanner (const char *first, ...)
{
  const char *argv[40];
  int n = 0;
  va_list ap;

  argv[n++] = st_scanner ();
  argv[n++] = "--headless";
  argv[n++] = "--model";
  argv[n++] = model;
  argv[n++] = "--mmproj";
  argv[n++] = mmproj;
  argv[n++] = "--set";
  argv[n++] = "model.max-tokens=12";
  va_start (ap, first);
  for (const char *a = first; a && n < 39; a = va_arg (ap, const char *))
    argv[n++] = a;
  va_end (ap);
  argv[n] = NULL;
  return st_run (tmp_dir, argv, NULL);
}

/* The "[HH:MM:SS.mmm] text" lines of stdout, as times in ms. */
static GArray *
printed_times (const char *out)
{
  GArray *t = g_array_new (FALSE, FALSE, sizeof (long));
  gchar **lines = g_strsplit (out, "\n", -1);

  for (int i = 0; lines[i]; i++) {
    const char *end;
    long ms;

    if (lines[i][0] != '[')
      continue;
    ms = parse_time (lines[i] + 1, &end);
    assert_true (ms >= 0);
    assert_true (g_str_has_prefix (end, "] "));
    g_array_append_val (t, ms);
  }
  g_strfreev (lines);
  return t;
}

/* ------------------------------------------------------------------ */
/* Tests                                                               */
/* ------------------------------------------------------------------ */

static void
test_headless_clip_gives_vtt (void **state)
{
  gchar *vtt = g_build_filename (tmp_dir, "captions.vtt", NULL);
  StRun r = scanner ("--input", clip, "--output", vtt, "--set",
      "describe.rate=4/1", "--set", "describe.scene-change=0", NULL);
  GArray *cues, *times;

  if (r.status != 0)
    fprintf (stderr, "stdout:\n%s\nstderr:\n%s\n", r.out, r.err);
  assert_int_equal (r.status, 0);
  cues = validate_vtt (vtt);
  times = printed_times (r.out);
  assert_true (cues->len >= 1);
  /* one printed line per cue, at the cue's start */
  assert_int_equal (times->len, cues->len);
  for (guint i = 0; i < cues->len; i++) {
    Cue *c = &g_array_index (cues, Cue, i);
    long next = i + 1 < cues->len ? g_array_index (cues, Cue, i + 1).start_ms :
        CLIP_MS;

    assert_int_equal (g_array_index (times, long, i), c->start_ms);
    /* the PTS of a real frame: a multiple of the frame duration (1 ms) */
    assert_true (c->start_ms % FRAME_MS <= 1
        || c->start_ms % FRAME_MS >= FRAME_MS - 1);
    assert_true (c->start_ms < CLIP_MS);
    /* until the next cue or the hold time, not past the clip */
    assert_int_equal (c->end_ms, MIN (next, c->start_ms + HOLD_MS));
  }
  free_cues (cues);
  g_array_free (times, TRUE);
  st_run_clear (&r);
  g_free (vtt);
}

static void
test_headless_missing_file_is_an_error (void **state)
{
  StRun r = scanner ("--input", "/nonexistent/clip.webm", NULL);

  assert_int_not_equal (r.status, 0);
  assert_non_null (strstr (r.err, "/nonexistent/clip.webm"));
  assert_non_null (strstr (r.err, "no such file"));
  assert_string_equal (r.out, "");
  st_run_clear (&r);
}

static void
test_headless_not_a_video_is_an_error (void **state)
{
  gchar *path = g_build_filename (tmp_dir, "notes.webm", NULL);
  StRun r;

  assert_true (g_file_set_contents (path, "not a video\n", -1, NULL));
  r = scanner ("--input", path, NULL);
  assert_int_equal (r.status, 1);
  assert_non_null (strstr (r.err, "vlm-scanner: "));
  st_run_clear (&r);
  g_free (path);
}

static void
test_headless_unwritable_output_exits_2 (void **state)
{
  StRun r = scanner ("--input", clip, "--output", "/nonexistent/dir/c.vtt",
      NULL);

  assert_int_equal (r.status, 2);
  assert_non_null (strstr (r.err, "/nonexistent/dir/c.vtt"));
  st_run_clear (&r);
}

static void
test_bad_option_exits_2 (void **state)
{
  StRun r = scanner ("--bogus", NULL);

  assert_int_equal (r.status, 2);
  assert_non_null (strstr (r.err, "--bogus"));
  st_run_clear (&r);
}

static void
test_bad_setting_exits_2 (void **state)
{
  StRun r = scanner ("--set", "describe.rate=1/0", NULL);

  assert_int_equal (r.status, 2);
  assert_non_null (strstr (r.err, "rate"));
  st_run_clear (&r);
}

static void
test_print_config_shows_overrides (void **state)
{
  StRun r = scanner ("--set", "speech.rate=211", "--print-config", NULL);

  assert_int_equal (r.status, 0);
  assert_non_null (strstr (r.out, "[speech]"));
  assert_non_null (strstr (r.out, "211"));
  st_run_clear (&r);
}

static void
test_help_exits_0 (void **state)
{
  const char *argv[] = { st_scanner (), "--help", NULL };
  StRun r = st_run (tmp_dir, argv, NULL);

  assert_int_equal (r.status, 0);
  assert_non_null (strstr (r.out, "--headless"));
  assert_non_null (strstr (r.out, "--screenshot"));
  st_run_clear (&r);
}

/* main.sh asks this before it opens the camera window. */
static void
test_list_cameras_without_camera (void **state)
{
  const char *argv[] = { st_scanner (), "--list-cameras", NULL };
  StRun r = st_run (tmp_dir, argv, NULL);

  if (r.status == 0)
    skip ();                    /* a machine with a camera */
  assert_int_equal (r.status, 1);
  assert_non_null (strstr (r.err, "no camera"));
  st_run_clear (&r);
}

/* The app itself under memcheck (the harness alone is what the valgrind
 * test setup wraps): no error, no leak, on the whole headless run. */
static void
test_headless_app_is_clean_under_valgrind (void **state)
{
  gchar *valgrind = g_find_program_in_path ("valgrind");
  gchar *vtt = g_build_filename (tmp_dir, "vg.vtt", NULL);
  const char *data = g_getenv ("VLM_TEST_DATA");
  gchar *supp = g_strdup_printf ("--suppressions=%s/../gst.supp",
      data ? data : ".");
  const char *argv[] = { "valgrind", "--quiet", "--error-exitcode=99",
    "--leak-check=full", "--errors-for-leak-kinds=definite,indirect",
    "--show-leak-kinds=definite,indirect", supp, st_scanner (),
    "--headless", "--input", clip, "--output", vtt, "--model", model,
    "--mmproj", mmproj, "--set", "model.max-tokens=8", NULL
  };
  StRun r;

  if (valgrind == NULL)
    skip ();
  r = st_run (tmp_dir, argv, NULL);
  if (r.status != 0)
    fprintf (stderr, "%s\n", r.err);
  assert_int_equal (r.status, 0);
  assert_non_null (strstr (r.out, "] "));
  st_run_clear (&r);
  g_free (valgrind);
  g_free (supp);
  g_free (vtt);
}

/* This machine has no camera: the pipeline's message, exit != 0. */
static void
test_no_camera_is_an_error (void **state)
{
  StRun r = scanner ("--set", "source.kind=camera", NULL);

  if (r.status == 0)
    skip ();                    /* a machine with a camera */
  assert_int_equal (r.status, 1);
  /* the pipeline's message, saying what was tried */
  assert_non_null (strstr (r.err, "vlm-scanner: "));
  assert_non_null (strcasestr (r.err, "no camera"));
  assert_null (strstr (r.err, "missing"));
  st_run_clear (&r);
}

static void
test_no_camera_falls_back_to_test_pattern (void **state)
{
  StRun r = scanner ("--set", "source.kind=camera", "--set",
      "source.fallback=test", "--max-captions", "1", NULL);
  GArray *times;

  if (r.status != 0)
    fprintf (stderr, "stdout:\n%s\nstderr:\n%s\n", r.out, r.err);
  assert_int_equal (r.status, 0);
  assert_non_null (strstr (r.err, "test pattern"));
  times = printed_times (r.out);
  assert_int_equal (times->len, 1);
  g_array_free (times, TRUE);
  st_run_clear (&r);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_headless_clip_gives_vtt),
    cmocka_unit_test (test_headless_missing_file_is_an_error),
    cmocka_unit_test (test_headless_not_a_video_is_an_error),
    cmocka_unit_test (test_headless_unwritable_output_exits_2),
    cmocka_unit_test (test_bad_option_exits_2),
    cmocka_unit_test (test_bad_setting_exits_2),
    cmocka_unit_test (test_print_config_shows_overrides),
    cmocka_unit_test (test_help_exits_0),
    cmocka_unit_test (test_list_cameras_without_camera),
    cmocka_unit_test (test_headless_app_is_clean_under_valgrind),
    cmocka_unit_test (test_no_camera_is_an_error),
    cmocka_unit_test (test_no_camera_falls_back_to_test_pattern),
  };

  return cmocka_run_group_tests (tests, group_setup, group_teardown);
}

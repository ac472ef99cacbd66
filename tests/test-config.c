/* gst-vlm — tests of the scanner configuration (pipeline/vlmconfig.c):
 * defaults, a full file, each kind of error with its line, command-line
 * overrides, the round trip through vlm_config_to_data and the default
 * path.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vlmconfig.h"

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

/* Loads text as "t.conf" into a new config; NULL and *err on error. */
static VlmConfig *
load (const gchar * text, GError ** err)
{
  VlmConfig *c = vlm_config_new ();

  if (!vlm_config_load_data (c, text, strlen (text), "t.conf", err)) {
    vlm_config_free (c);
    return NULL;
  }
  return c;
}

/* Asserts that text fails to load with code and exactly message. */
static void
assert_load_error (const gchar * text, VlmConfigError code,
    const gchar * message)
{
  GError *err = NULL;
  VlmConfig *c = load (text, &err);

  assert_null (c);
  assert_non_null (err);
  assert_true (g_error_matches (err, VLM_CONFIG_ERROR, code));
  assert_string_equal (err->message, message);
  g_error_free (err);
}

/* The documented example of vlmconfig.h, comments after values included. */
static const gchar *example =
    "[model]\n"
    "text = /m/MobileVLM_V2-1.7B-Q4_K_M.gguf     ; model=... of vlmdescribe\n"
    "mmproj = /m/mmproj-model-f16.gguf\n"
    "threads = 0                ; 0 = one per online CPU\n"
    "max-tokens = 64\n"
    "temperature = 0.2\n"
    "\n"
    "[source]\n"
    "kind = camera              ; camera | uri | test\n"
    "camera =                   ; name or /dev/videoN; empty = first camera\n"
    "uri =                      ; file path or URI (kind = uri)\n"
    "width = 1280\n"
    "height = 720\n"
    "framerate = 30/1\n"
    "fallback = none            ; none | test: no camera -> test pattern\n"
    "\n"
    "[describe]\n"
    "rate = 1/3                 ; captions per second at most (continuous)\n"
    "continuous = true          ; false: only on \"describe now\"\n"
    "scene-change = 0.02        ; 0..1, 0 = describe every due frame\n"
    "resize-mode = letterbox    ; letterbox | crop\n"
    "gl = auto                  ; auto | on | off (GPU resize path)\n"
    "\n"
    "[prompts]                  ; presets, in this order, cycled by the app\n"
    "scene = Describe the scene in front of me in one or two short "
    "sentences.\n"
    "text = Read the text in this image.\n"
    "ahead = What is directly in front of me? Mention obstacles.\n"
    "default = scene\n"
    "\n"
    "[thermal]\n"
    "zone =                     ; empty = hottest CPU-like zone\n"
    "throttle = 70              ; degrees Celsius\n"
    "cooldown = 85\n"
    "resume = 75\n"
    "\n"
    "[overlay]\n"
    "theme = high-contrast      ; dark | high-contrast | light | clear\n"
    "position = bottom          ; bottom | top | center\n"
    "font-size = 0.06           ; fraction of the frame height\n"
    "\n"
    "[speech]\n"
    "enabled = true\n"
    "voice = en\n"
    "rate = 175                 ; words per minute, 80..450\n";

/* ------------------------------------------------------------------ */
/* Defaults and a full file                                            */
/* ------------------------------------------------------------------ */

static void
test_defaults (void **state)
{
  VlmConfig *c = vlm_config_new ();

  assert_null (c->model);
  assert_null (c->mmproj);
  assert_int_equal (c->threads, 0);
  assert_int_equal (c->max_tokens, 64);
  assert_true (c->temperature == 0.2);
  assert_int_equal (c->source, VLM_SOURCE_CAMERA);
  assert_null (c->camera);
  assert_null (c->uri);
  assert_int_equal (c->width, 1280);
  assert_int_equal (c->height, 720);
  assert_int_equal (c->fps_n, 30);
  assert_int_equal (c->fps_d, 1);
  assert_false (c->fallback_test);
  assert_int_equal (c->rate_n, 1);
  assert_int_equal (c->rate_d, 3);
  assert_true (c->continuous);
  assert_true (c->scene_change == 0.02);
  assert_string_equal (c->resize_mode, "letterbox");
  assert_int_equal (c->gl, VLM_GL_AUTO);
  assert_int_equal (c->n_presets, 3);
  assert_string_equal (c->presets[0].name, "scene");
  assert_string_equal (c->presets[1].name, "text");
  assert_string_equal (c->presets[2].name, "ahead");
  assert_int_equal (c->preset, 0);
  assert_null (c->thermal_zone);
  assert_true (c->throttle_temp == 70.0);
  assert_true (c->cooldown_temp == 85.0);
  assert_true (c->resume_temp == 75.0);
  assert_string_equal (c->theme, "high-contrast");
  assert_string_equal (c->position, "bottom");
  assert_true (c->font_size == 0.06);
  assert_true (c->speech);
  assert_string_equal (c->voice, "en");
  assert_int_equal (c->speech_rate, 175);
  vlm_config_free (c);
}

static void
test_documented_example_equals_defaults_but_model (void **state)
{
  GError *err = NULL;
  VlmConfig *c = load (example, &err);
  VlmConfig *d = vlm_config_new ();

  assert_null (err);
  assert_non_null (c);
  assert_string_equal (c->model, "/m/MobileVLM_V2-1.7B-Q4_K_M.gguf");
  assert_string_equal (c->mmproj, "/m/mmproj-model-f16.gguf");
  d->model = g_strdup (c->model);
  d->mmproj = g_strdup (c->mmproj);
  assert_true (vlm_config_equal (c, d));
  vlm_config_free (c);
  vlm_config_free (d);
}

static void
test_full_file (void **state)
{
  const gchar *text =
      "# every key, none at its default\n"
      "[model]\ntext = /a/t.gguf\nmmproj = /a/p.gguf\nthreads = 3\n"
      "max-tokens = 32\ntemperature = 0\n"
      "[source]\nkind = uri\ncamera = USB Camera\nuri = /v/clip.webm\n"
      "width = 640\nheight = 480\nframerate = 15/2\nfallback = test\n"
      "[describe]\nrate = 2\ncontinuous = no\nscene-change = 0.5\n"
      "resize-mode = crop\ngl = off\n"
      "[prompts]\nfirst = One?\nsecond = Two?\ndefault = second\n"
      "[thermal]\nzone = x86_pkg_temp\nthrottle = 60.5\ncooldown = 80\n"
      "resume = 65\n"
      "[overlay]\ntheme = light\nposition = top\nfont-size = 0.1\n"
      "[speech]\nenabled = 0\nvoice = de\nrate = 300\n";
  GError *err = NULL;
  VlmConfig *c = load (text, &err);

  assert_null (err);
  assert_string_equal (c->model, "/a/t.gguf");
  assert_string_equal (c->mmproj, "/a/p.gguf");
  assert_int_equal (c->threads, 3);
  assert_int_equal (c->max_tokens, 32);
  assert_true (c->temperature == 0.0);
  assert_int_equal (c->source, VLM_SOURCE_URI);
  assert_string_equal (c->camera, "USB Camera");
  assert_string_equal (c->uri, "/v/clip.webm");
  assert_int_equal (c->width, 640);
  assert_int_equal (c->height, 480);
  assert_int_equal (c->fps_n, 15);
  assert_int_equal (c->fps_d, 2);
  assert_true (c->fallback_test);
  assert_int_equal (c->rate_n, 2);
  assert_int_equal (c->rate_d, 1);
  assert_false (c->continuous);
  assert_true (c->scene_change == 0.5);
  assert_string_equal (c->resize_mode, "crop");
  assert_int_equal (c->gl, VLM_GL_OFF);
  assert_int_equal (c->n_presets, 2);
  assert_string_equal (c->presets[0].name, "first");
  assert_string_equal (c->presets[0].prompt, "One?");
  assert_string_equal (c->presets[1].name, "second");
  assert_int_equal (c->preset, 1);
  assert_string_equal (c->thermal_zone, "x86_pkg_temp");
  assert_true (c->throttle_temp == 60.5);
  assert_true (c->cooldown_temp == 80.0);
  assert_true (c->resume_temp == 65.0);
  assert_string_equal (c->theme, "light");
  assert_string_equal (c->position, "top");
  assert_true (c->font_size == 0.1);
  assert_false (c->speech);
  assert_string_equal (c->voice, "de");
  assert_int_equal (c->speech_rate, 300);
  vlm_config_free (c);
}

static void
test_absent_keys_keep_values (void **state)
{
  VlmConfig *c = vlm_config_new ();
  GError *err = NULL;
  const gchar *a = "[model]\nmax-tokens = 10\n";
  const gchar *b = "[describe]\ngl = on\n";

  assert_true (vlm_config_load_data (c, a, strlen (a), "a", &err));
  assert_true (vlm_config_load_data (c, b, strlen (b), "b", &err));
  assert_int_equal (c->max_tokens, 10);
  assert_int_equal (c->gl, VLM_GL_ON);
  assert_int_equal (c->n_presets, 3);
  vlm_config_free (c);
}

static void
test_booleans_and_names_ignore_case (void **state)
{
  VlmConfig *c = load ("[describe]\ncontinuous = YES\ngl = On\n"
      "[speech]\nenabled = False\n", NULL);

  assert_non_null (c);
  assert_true (c->continuous);
  assert_int_equal (c->gl, VLM_GL_ON);
  assert_false (c->speech);
  vlm_config_free (c);
}

static void
test_escapes_and_comments (void **state)
{
  VlmConfig *c = load ("; a comment\n# another\n[prompts]\n"
      "p = \\sA \\; B \\# C\\\\D#E ; a comment\n", NULL);

  assert_non_null (c);
  assert_int_equal (c->n_presets, 1);
  assert_string_equal (c->presets[0].prompt, " A ; B # C\\D#E");
  vlm_config_free (c);
}

static void
test_empty_optional_is_null (void **state)
{
  VlmConfig *c = vlm_config_new ();
  const gchar *text = "[model]\ntext =\n[source]\ncamera =   ; none\n";

  c->model = g_strdup ("/x");
  c->camera = g_strdup ("cam");
  assert_true (vlm_config_load_data (c, text, strlen (text), "t", NULL));
  assert_null (c->model);
  assert_null (c->camera);
  vlm_config_free (c);
}

static void
test_prompts_group_replaces_presets (void **state)
{
  VlmConfig *c = load ("[prompts]\nonly = Just this?\n", NULL);

  assert_non_null (c);
  assert_int_equal (c->n_presets, 1);
  assert_string_equal (c->presets[0].name, "only");
  assert_int_equal (c->preset, 0);
  vlm_config_free (c);
}

/* ------------------------------------------------------------------ */
/* Errors, with their lines                                            */
/* ------------------------------------------------------------------ */

static void
test_error_unknown_group (void **state)
{
  assert_load_error ("[model]\nthreads = 2\n\n[modle]\n",
      VLM_CONFIG_ERROR_KEY, "t.conf:4: [modle]: unknown group (groups: "
      "model, source, describe, prompts, thermal, overlay, speech)");
}

static void
test_error_unknown_key (void **state)
{
  assert_load_error ("[describe]\nrate = 1/2\nrat = 1/2\n",
      VLM_CONFIG_ERROR_KEY, "t.conf:3: [describe] rat: unknown key (keys: "
      "rate, continuous, scene-change, resize-mode, gl)");
}

static void
test_error_syntax (void **state)
{
  assert_load_error ("[model]\n\nthreads 2\n", VLM_CONFIG_ERROR_PARSE,
      "t.conf:3: expected '[group]' or 'key = value'");
}

static void
test_error_key_before_group (void **state)
{
  assert_load_error ("# top\nthreads = 2\n", VLM_CONFIG_ERROR_PARSE,
      "t.conf:2: 'key = value' before any [group]");
}

static void
test_error_bad_fraction (void **state)
{
  assert_load_error ("[model]\n[source]\n[describe]\nrate = 1/0\n",
      VLM_CONFIG_ERROR_VALUE,
      "t.conf:4: [describe] rate: '1/0' is not a fraction > 0");
}

static void
test_error_fraction_out_of_range (void **state)
{
  assert_load_error ("[source]\nframerate = 2000/1\n", VLM_CONFIG_ERROR_VALUE,
      "t.conf:2: [source] framerate: '2000/1' is out of range "
      "(1/1000..1000/1)");
}

static void
test_error_int_range (void **state)
{
  assert_load_error ("[model]\nmax-tokens = 5000\n", VLM_CONFIG_ERROR_VALUE,
      "t.conf:2: [model] max-tokens: '5000' is out of range (1..4096)");
}

static void
test_error_not_a_number (void **state)
{
  assert_load_error ("[speech]\nrate = fast\n", VLM_CONFIG_ERROR_VALUE,
      "t.conf:2: [speech] rate: 'fast' is not a whole number");
  assert_load_error ("[model]\ntemperature = 0.2x\n", VLM_CONFIG_ERROR_VALUE,
      "t.conf:2: [model] temperature: '0.2x' is not a number");
}

static void
test_error_double_range (void **state)
{
  assert_load_error ("[describe]\nscene-change = 1.5\n",
      VLM_CONFIG_ERROR_VALUE,
      "t.conf:2: [describe] scene-change: '1.5' is out of range (0..1)");
}

static void
test_error_bad_boolean (void **state)
{
  assert_load_error ("[speech]\nenabled = maybe\n", VLM_CONFIG_ERROR_VALUE,
      "t.conf:2: [speech] enabled: 'maybe' is not a boolean "
      "(true, false, yes, no, 1, 0)");
}

static void
test_error_bad_enum (void **state)
{
  assert_load_error ("[overlay]\nposition = left\n", VLM_CONFIG_ERROR_VALUE,
      "t.conf:2: [overlay] position: 'left' is not one of: bottom, top, "
      "center");
}

static void
test_error_throttle_not_below_cooldown (void **state)
{
  assert_load_error ("[thermal]\nthrottle = 90\n", VLM_CONFIG_ERROR_VALUE,
      "t.conf:2: [thermal] throttle: 90 must be below cooldown (85)");
}

static void
test_error_cooldown_blamed_when_later (void **state)
{
  assert_load_error ("[thermal]\nresume = 60\nthrottle = 65\ncooldown = 50\n",
      VLM_CONFIG_ERROR_VALUE,
      "t.conf:4: [thermal] cooldown: 50 must be above throttle (65)");
}

static void
test_error_resume_not_below_cooldown (void **state)
{
  assert_load_error ("[thermal]\n\nresume = 85\n", VLM_CONFIG_ERROR_VALUE,
      "t.conf:3: [thermal] resume: 85 must be below cooldown (85)");
}

static void
test_error_duplicate_key (void **state)
{
  assert_load_error ("[model]\nthreads = 1\n[source]\n[model]\nthreads = 2\n",
      VLM_CONFIG_ERROR_KEY,
      "t.conf:5: [model] threads: set twice (first on line 2)");
}

static void
test_error_default_preset_unknown (void **state)
{
  assert_load_error ("[prompts]\na = A?\ndefault = b\n",
      VLM_CONFIG_ERROR_VALUE,
      "t.conf:3: [prompts] default: 'b' is not a preset (presets: a)");
}

static void
test_error_bad_escape (void **state)
{
  assert_load_error ("[speech]\nvoice = e\\qn\n", VLM_CONFIG_ERROR_PARSE,
      "t.conf:2: [speech] voice: unknown escape '\\q' "
      "(use \\s \\t \\n \\r \\\\ \\; \\#)");
}

static void
test_error_not_utf8 (void **state)
{
  assert_load_error ("[prompts]\na = ok\nb = \xff\n", VLM_CONFIG_ERROR_PARSE,
      "t.conf:3: not UTF-8 text");
}

static void
test_error_leaves_config_unchanged (void **state)
{
  VlmConfig *c = vlm_config_new ();
  VlmConfig *before = vlm_config_new ();
  const gchar *text = "[model]\nmax-tokens = 8\n[prompts]\nx = X?\n"
      "[speech]\nrate = 1\n";
  GError *err = NULL;

  assert_false (vlm_config_load_data (c, text, strlen (text), "t", &err));
  assert_non_null (err);
  assert_true (vlm_config_equal (c, before));
  g_error_free (err);
  vlm_config_free (c);
  vlm_config_free (before);
}

/* ------------------------------------------------------------------ */
/* Files                                                               */
/* ------------------------------------------------------------------ */

static void
test_load_file (void **state)
{
  gchar *path = NULL;
  gint fd = g_file_open_tmp ("test-config-XXXXXX.conf", &path, NULL);
  VlmConfig *c = vlm_config_new ();
  GError *err = NULL;
  const gchar *text = "[overlay]\n\ntheme = dark\nposition = nowhere\n";
  gchar *expected;

  assert_true (fd >= 0);
  close (fd);
  assert_true (g_file_set_contents (path, text, -1, NULL));
  assert_false (vlm_config_load_file (c, path, &err));
  expected = g_strdup_printf ("%s:4: [overlay] position: 'nowhere' is not "
      "one of: bottom, top, center", path);
  assert_string_equal (err->message, expected);
  g_clear_error (&err);

  assert_true (g_file_set_contents (path, "[overlay]\ntheme = dark\n", -1,
          NULL));
  assert_true (vlm_config_load_file (c, path, &err));
  assert_string_equal (c->theme, "dark");

  g_unlink (path);
  g_free (expected);
  g_free (path);
  vlm_config_free (c);
}

static void
test_load_missing_file (void **state)
{
  VlmConfig *c = vlm_config_new ();
  GError *err = NULL;

  assert_false (vlm_config_load_file (c, "/nonexistent/scanner.conf", &err));
  assert_true (g_error_matches (err, VLM_CONFIG_ERROR, VLM_CONFIG_ERROR_IO));
  assert_true (g_str_has_prefix (err->message, "/nonexistent/scanner.conf: "));
  g_error_free (err);
  vlm_config_free (c);
}

static void
test_default_path_follows_xdg (void **state)
{
  gchar *old = g_strdup (g_getenv ("XDG_CONFIG_HOME"));
  gchar *path, *home;

  g_setenv ("XDG_CONFIG_HOME", "/tmp/xdg-test", TRUE);
  path = vlm_config_default_path ();
  assert_string_equal (path, "/tmp/xdg-test/gst-vlm/scanner.conf");
  g_free (path);

  /* relative: invalid, ignored */
  g_setenv ("XDG_CONFIG_HOME", "relative/dir", TRUE);
  path = vlm_config_default_path ();
  home = g_build_filename (g_get_home_dir (), ".config", "gst-vlm",
      "scanner.conf", NULL);
  assert_string_equal (path, home);
  g_free (path);
  g_free (home);

  if (old)
    g_setenv ("XDG_CONFIG_HOME", old, TRUE);
  else
    g_unsetenv ("XDG_CONFIG_HOME");
  g_free (old);
}

/* ------------------------------------------------------------------ */
/* Command-line overrides                                              */
/* ------------------------------------------------------------------ */

static void
test_set_overrides_one_value (void **state)
{
  VlmConfig *c = vlm_config_new ();
  GError *err = NULL;

  assert_true (vlm_config_set (c, "describe.rate=1/2", &err));
  assert_true (vlm_config_set (c, "source.kind = test", &err));
  assert_true (vlm_config_set (c, "model.text=/x/y z.gguf", &err));
  assert_null (err);
  assert_int_equal (c->rate_n, 1);
  assert_int_equal (c->rate_d, 2);
  assert_int_equal (c->source, VLM_SOURCE_TEST);
  assert_string_equal (c->model, "/x/y z.gguf");
  vlm_config_free (c);
}

static void
test_set_prompt_adds_and_selects (void **state)
{
  VlmConfig *c = vlm_config_new ();

  assert_true (vlm_config_set (c, "prompts.colour=What colour is it?", NULL));
  assert_true (vlm_config_set (c, "prompts.default=colour", NULL));
  assert_int_equal (c->n_presets, 4);
  assert_string_equal (c->presets[3].prompt, "What colour is it?");
  assert_int_equal (c->preset, 3);
  vlm_config_free (c);
}

static void
test_set_errors (void **state)
{
  VlmConfig *c = vlm_config_new ();
  VlmConfig *before = vlm_config_new ();
  GError *err = NULL;

  assert_false (vlm_config_set (c, "describe.rate=1/0", &err));
  assert_string_equal (err->message,
      "--set describe.rate: '1/0' is not a fraction > 0");
  g_clear_error (&err);

  assert_false (vlm_config_set (c, "describe.rat=1", &err));
  assert_true (g_error_matches (err, VLM_CONFIG_ERROR, VLM_CONFIG_ERROR_KEY));
  assert_true (g_str_has_prefix (err->message,
          "--set describe.rat: unknown key"));
  g_clear_error (&err);

  assert_false (vlm_config_set (c, "nogroup=1", &err));
  assert_string_equal (err->message,
      "--set nogroup=1: expected group.key=value");
  g_clear_error (&err);

  assert_false (vlm_config_set (c, "thermal.cooldown=60", &err));
  assert_string_equal (err->message,
      "--set thermal.cooldown: 60 must be above throttle (70)");
  g_clear_error (&err);

  assert_true (vlm_config_equal (c, before));
  vlm_config_free (c);
  vlm_config_free (before);
}

/* ------------------------------------------------------------------ */
/* Round trip                                                          */
/* ------------------------------------------------------------------ */

static void
assert_round_trip (const VlmConfig * c)
{
  gchar *text = vlm_config_to_data (c);
  VlmConfig *back = vlm_config_new ();
  GError *err = NULL;

  if (!vlm_config_load_data (back, text, strlen (text), "round", &err))
    fail_msg ("%s\n%s", err->message, text);
  assert_true (vlm_config_equal (c, back));
  vlm_config_free (back);
  g_free (text);
}

static void
test_round_trip_defaults (void **state)
{
  VlmConfig *c = vlm_config_new ();

  assert_round_trip (c);
  vlm_config_free (c);
}

static void
test_round_trip_everything_changed (void **state)
{
  VlmConfig *c = vlm_config_new ();
  const gchar *sets[] = {
    "model.text=/m/a b.gguf", "model.mmproj=/m/p.gguf", "model.threads=4",
    "model.temperature=0.1", "source.kind=uri", "source.uri=file:///v/x.webm",
    "source.camera=Cam #2", "source.framerate=30000/1001",
    "source.fallback=test", "describe.rate=2/7", "describe.continuous=false",
    "describe.scene-change=0.333", "describe.resize-mode=stretch",
    "describe.gl=on", "thermal.zone=thermal_zone3", "thermal.cooldown=95.25",
    "thermal.throttle=71.1", "overlay.font-size=0.123456789",
    "speech.enabled=no", "speech.rate=80", "overlay.theme=clear",
    "prompts.odd= spaces; semi # hash \\ slash ",
    "prompts.default=odd",
  };

  for (guint i = 0; i < G_N_ELEMENTS (sets); i++) {
    GError *err = NULL;

    if (!vlm_config_set (c, sets[i], &err))
      fail_msg ("%s: %s", sets[i], err->message);
  }
  /* a prompt with blanks at both ends and a line break */
  g_free (c->presets[1].prompt);
  c->presets[1].prompt = g_strdup (" two\nlines\t");
  assert_round_trip (c);
  vlm_config_free (c);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_defaults),
    cmocka_unit_test (test_documented_example_equals_defaults_but_model),
    cmocka_unit_test (test_full_file),
    cmocka_unit_test (test_absent_keys_keep_values),
    cmocka_unit_test (test_booleans_and_names_ignore_case),
    cmocka_unit_test (test_escapes_and_comments),
    cmocka_unit_test (test_empty_optional_is_null),
    cmocka_unit_test (test_prompts_group_replaces_presets),
    cmocka_unit_test (test_error_unknown_group),
    cmocka_unit_test (test_error_unknown_key),
    cmocka_unit_test (test_error_syntax),
    cmocka_unit_test (test_error_key_before_group),
    cmocka_unit_test (test_error_bad_fraction),
    cmocka_unit_test (test_error_fraction_out_of_range),
    cmocka_unit_test (test_error_int_range),
    cmocka_unit_test (test_error_not_a_number),
    cmocka_unit_test (test_error_double_range),
    cmocka_unit_test (test_error_bad_boolean),
    cmocka_unit_test (test_error_bad_enum),
    cmocka_unit_test (test_error_throttle_not_below_cooldown),
    cmocka_unit_test (test_error_cooldown_blamed_when_later),
    cmocka_unit_test (test_error_resume_not_below_cooldown),
    cmocka_unit_test (test_error_duplicate_key),
    cmocka_unit_test (test_error_default_preset_unknown),
    cmocka_unit_test (test_error_bad_escape),
    cmocka_unit_test (test_error_not_utf8),
    cmocka_unit_test (test_error_leaves_config_unchanged),
    cmocka_unit_test (test_load_file),
    cmocka_unit_test (test_load_missing_file),
    cmocka_unit_test (test_default_path_follows_xdg),
    cmocka_unit_test (test_set_overrides_one_value),
    cmocka_unit_test (test_set_prompt_adds_and_selects),
    cmocka_unit_test (test_set_errors),
    cmocka_unit_test (test_round_trip_defaults),
    cmocka_unit_test (test_round_trip_everything_changed),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}

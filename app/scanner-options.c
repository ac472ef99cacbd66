/* gst-vlm — vlm-scanner: command-line options and the configuration they
 * make. */
#include "scanner-options.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* Usage                                                               */
/* ------------------------------------------------------------------ */

static const char usage[] =
    "Usage: vlm-scanner [OPTION...]\n"
    "Describes what is in front of the camera with an on-device VLM, shows\n"
    "the caption over the video and speaks it.\n"
    "\n"
    "  --config FILE          configuration file (default:\n"
    "                         $XDG_CONFIG_HOME/gst-vlm/scanner.conf)\n"
    "  --set GROUP.KEY=VALUE  override one setting (repeatable), e.g.\n"
    "                         --set describe.rate=1/2\n"
    "  --model TEXT.gguf      text model (as [model] text)\n"
    "  --mmproj MMPROJ.gguf   vision projector (as [model] mmproj)\n"
    "  --input FILE_OR_URI    describe a video file or URI, not the camera\n"
    "  --camera NAME          the camera to use (name or /dev/videoN)\n"
    "  --test-pattern         a test pattern instead of the camera\n"
    "  --list-cameras         list the cameras found; exit 1 when none\n"
    "  --headless             no window, no speech: print the captions\n"
    "                         (\"[00:00:03.000] text\"); files run as fast as\n"
    "                         they decode, exit at their end\n"
    "  --realtime             play files at their frame rate, as a camera\n"
    "                         (headless: more captions per clip)\n"
    "  --output FILE.vtt      also write the captions as WebVTT\n"
    "  --max-captions N       quit after N final captions\n"
    "  --no-speech            do not speak\n"
    "  --fullscreen           fill the screen\n"
    "  --screenshot FILE.png  save the window after the first caption\n"
    "  --quit-after-screenshot  then quit\n"
    "  --print-config         print the configuration and exit\n"
    "  --verbose              print the pipeline and every event\n"
    "  --help                 this text\n"
    "\n"
    "Exit status: 0 ok, 1 runtime error (camera, model, pipeline),\n"
    "2 bad options or configuration.\n";

const char *
scanner_options_usage (void)
{
  return usage;
}

/* ------------------------------------------------------------------ */
/* Parsing                                                             */
/* ------------------------------------------------------------------ */

typedef enum { FLAG, VALUE } Kind;

typedef struct {
  const char *name;
  Kind kind;
} Option;

static const Option options[] = {
  {"--config", VALUE}, {"--set", VALUE}, {"--model", VALUE},
  {"--mmproj", VALUE}, {"--input", VALUE}, {"--camera", VALUE},
  {"--test-pattern", FLAG}, {"--list-cameras", FLAG}, {"--headless", FLAG},
  {"--output", VALUE}, {"--max-captions", VALUE}, {"--no-speech", FLAG},
  {"--screenshot", VALUE}, {"--quit-after-screenshot", FLAG},
  {"--fullscreen", FLAG}, {"--realtime", FLAG},
  {"--print-config", FLAG}, {"--verbose", FLAG}, {"--help", FLAG},
  {"-h", FLAG},
};

static int
fail (char *err, size_t size, const char *fmt, ...)
    __attribute__((format (printf, 3, 4)));

static int
fail (char *err, size_t size, const char *fmt, ...)
{
  va_list ap;

  va_start (ap, fmt);
  vsnprintf (err, size, fmt, ap);
  va_end (ap);
  return SCANNER_EXIT_USAGE;
}

static const Option *
find_option (const char *arg, size_t len)
{
  for (size_t i = 0; i < sizeof options / sizeof options[0]; i++)
    if (strlen (options[i].name) == len
        && strncmp (options[i].name, arg, len) == 0)
      return &options[i];
  return NULL;
}

/* Replaces *slot by a copy of value. */
static void
set_string (char **slot, const char *value)
{
  free (*slot);
  *slot = strdup (value);
}

static int
parse_count (const char *value, unsigned *out, char *err, size_t size)
{
  char *end;
  unsigned long v;

  errno = 0;
  v = strtoul (value, &end, 10);
  if (errno || end == value || *end || value[0] == '-' || v == 0
      || v > 1000000)
    return fail (err, size, "--max-captions: '%s' is not a number from 1 "
        "to 1000000", value);
  *out = (unsigned) v;
  return 0;
}

static int
add_set (ScannerOptions * o, const char *value, char *err, size_t size)
{
  char **sets;

  if (strchr (value, '=') == NULL || strchr (value, '.') == NULL)
    return fail (err, size, "--set: '%s' is not GROUP.KEY=VALUE", value);
  sets = realloc (o->sets, sizeof (char *) * (size_t) (o->n_sets + 1));
  if (sets == NULL)
    return fail (err, size, "out of memory");
  o->sets = sets;
  o->sets[o->n_sets] = strdup (value);
  o->n_sets++;
  return 0;
}

/* Stores one option's value. */
static int
store_value (ScannerOptions * o, const char *name, const char *value,
    char *err, size_t size)
{
  if (value[0] == '\0' && strcmp (name, "--camera") != 0)
    return fail (err, size, "%s: empty value", name);
  if (strcmp (name, "--set") == 0)
    return add_set (o, value, err, size);
  if (strcmp (name, "--max-captions") == 0)
    return parse_count (value, &o->max_captions, err, size);
  set_string (strcmp (name, "--config") == 0 ? &o->config_path :
      strcmp (name, "--model") == 0 ? &o->model :
      strcmp (name, "--mmproj") == 0 ? &o->mmproj :
      strcmp (name, "--input") == 0 ? &o->input :
      strcmp (name, "--camera") == 0 ? &o->camera :
      strcmp (name, "--output") == 0 ? &o->output : &o->screenshot, value);
  return 0;
}

static void
store_flag (ScannerOptions * o, const char *name)
{
  bool *flag = strcmp (name, "--test-pattern") == 0 ? &o->test_pattern :
      strcmp (name, "--list-cameras") == 0 ? &o->list_cameras :
      strcmp (name, "--headless") == 0 ? &o->headless :
      strcmp (name, "--no-speech") == 0 ? &o->no_speech :
      strcmp (name, "--quit-after-screenshot") == 0 ?
      &o->quit_after_screenshot :
      strcmp (name, "--print-config") == 0 ? &o->print_config :
      strcmp (name, "--fullscreen") == 0 ? &o->fullscreen :
      strcmp (name, "--realtime") == 0 ? &o->realtime :
      strcmp (name, "--verbose") == 0 ? &o->verbose : &o->help;

  *flag = true;
}

/* Options that do not go together. */
static int
check (const ScannerOptions * o, char *err, size_t size)
{
  int sources = (o->input != NULL) + (o->camera != NULL) + o->test_pattern;

  if (sources > 1)
    return fail (err, size, "--input, --camera and --test-pattern exclude "
        "each other");
  if (o->screenshot && o->headless)
    return fail (err, size, "--screenshot needs the window: not with "
        "--headless");
  if (o->quit_after_screenshot && o->screenshot == NULL)
    return fail (err, size, "--quit-after-screenshot needs --screenshot");
  return 0;
}

int
scanner_options_parse (ScannerOptions * o, int argc, char **argv, char *err,
    size_t err_size)
{
  memset (o, 0, sizeof *o);
  err[0] = '\0';
  for (int i = 1; i < argc; i++) {
    const char *arg = argv[i], *eq = strchr (arg, '=');
    size_t len = eq && strncmp (arg, "--", 2) == 0 ? (size_t) (eq - arg) :
        strlen (arg);
    const Option *opt = find_option (arg, len);
    int rc;

    if (opt == NULL)
      return fail (err, err_size, "%s '%s'", arg[0] == '-' ?
          "unknown option" : "unexpected argument", arg);
    if (opt->kind == FLAG) {
      if (arg[len] == '=')
        return fail (err, err_size, "%s takes no value", opt->name);
      store_flag (o, opt->name);
      continue;
    }
    if (arg[len] != '=' && i + 1 >= argc)
      return fail (err, err_size, "%s needs a value", opt->name);
    rc = store_value (o, opt->name, arg[len] == '=' ? arg + len + 1 :
        argv[++i], err, err_size);
    if (rc != 0)
      return rc;
  }
  return check (o, err, err_size);
}

void
scanner_options_clear (ScannerOptions * o)
{
  for (int i = 0; i < o->n_sets; i++)
    free (o->sets[i]);
  free (o->sets);
  free (o->config_path);
  free (o->model);
  free (o->mmproj);
  free (o->input);
  free (o->camera);
  free (o->output);
  free (o->screenshot);
  memset (o, 0, sizeof *o);
}

/* ------------------------------------------------------------------ */
/* The configuration                                                   */
/* ------------------------------------------------------------------ */

static void
replace (gchar ** slot, const char *value)
{
  g_free (*slot);
  *slot = value && *value ? g_strdup (value) : NULL;
}

/* The dedicated options, over the file and the --set values. */
static void
apply_options (const ScannerOptions * o, VlmConfig * c)
{
  if (o->model)
    replace (&c->model, o->model);
  if (o->mmproj)
    replace (&c->mmproj, o->mmproj);
  if (o->input) {
    c->source = VLM_SOURCE_URI;
    replace (&c->uri, o->input);
  }
  if (o->camera) {
    c->source = VLM_SOURCE_CAMERA;
    replace (&c->camera, o->camera);
  }
  if (o->test_pattern)
    c->source = VLM_SOURCE_TEST;
  if (o->no_speech)
    c->speech = FALSE;
}

static gboolean
load_file (const ScannerOptions * o, VlmConfig * c, GError ** err)
{
  gchar *path = o->config_path ? g_strdup (o->config_path) :
      vlm_config_default_path ();
  gboolean ok = TRUE;

  /* the default file need not exist; a named one must */
  if (o->config_path || g_file_test (path, G_FILE_TEST_EXISTS))
    ok = vlm_config_load_file (c, path, err);
  g_free (path);
  return ok;
}

VlmConfig *
scanner_options_config (const ScannerOptions * o, GError ** err)
{
  VlmConfig *c = vlm_config_new ();

  if (!load_file (o, c, err))
    goto fail;
  for (int i = 0; i < o->n_sets; i++)
    if (!vlm_config_set (c, o->sets[i], err))
      goto fail;
  apply_options (o, c);
  return c;

fail:
  vlm_config_free (c);
  return NULL;
}

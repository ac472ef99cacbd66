/* gst-vlm — scanner configuration: key file, defaults, command-line
 * overrides. See vlmconfig.h.
 * Copyright (C) 2025 gst-vlm authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The key file is read by a small reader of our own rather than GKeyFile,
 * so that every error names its line, and so that the comments after
 * values in the documented example (" ; 0 = one per online CPU") work:
 * a ';' or '#' after a blank starts a comment. Escapes: \s (space),
 * \t, \n, \r, \\, \; and \#.
 */
#include "vlmconfig.h"

#include <math.h>
#include <string.h>

G_DEFINE_QUARK (vlm-config-error-quark, vlm_config_error);

/* ------------------------------------------------------------------ */
/* The keys                                                            */
/* ------------------------------------------------------------------ */

typedef enum {
  KEY_OPTIONAL,                 /* string; empty = NULL */
  KEY_STRING,                   /* string, not empty */
  KEY_INT,
  KEY_DOUBLE,
  KEY_BOOL,
  KEY_FRACTION,                 /* two gint fields, n/d > 0 */
  KEY_ENUM,                     /* gint field: index in names */
  KEY_NICK,                     /* string field: one of names */
} KeyType;

typedef struct {
  const gchar *group;
  const gchar *key;
  KeyType type;
  gsize offset;                 /* field in VlmConfig */
  gsize offset_d;               /* KEY_FRACTION: the denominator */
  gdouble min, max;             /* numbers: the accepted range */
  const gchar *const *names;    /* KEY_ENUM, KEY_NICK */
} KeyDesc;

static const gchar *const source_kinds[] = { "camera", "uri", "test", NULL };
static const gchar *const fallbacks[] = { "none", "test", NULL };
static const gchar *const gl_modes[] = { "auto", "on", "off", NULL };
static const gchar *const resize_modes[] =
    { "letterbox", "crop", "stretch", NULL };
static const gchar *const themes[] =
    { "dark", "high-contrast", "light", "clear", NULL };
static const gchar *const positions[] = { "bottom", "top", "center", NULL };

#define OFF(field) G_STRUCT_OFFSET (VlmConfig, field)
#define K_OPTIONAL(g, k, f) {g, k, KEY_OPTIONAL, OFF (f), 0, 0, 0, NULL}
#define K_STRING(g, k, f) {g, k, KEY_STRING, OFF (f), 0, 0, 0, NULL}
#define K_INT(g, k, f, lo, hi) {g, k, KEY_INT, OFF (f), 0, lo, hi, NULL}
#define K_DOUBLE(g, k, f, lo, hi) {g, k, KEY_DOUBLE, OFF (f), 0, lo, hi, NULL}
#define K_BOOL(g, k, f) {g, k, KEY_BOOL, OFF (f), 0, 0, 0, NULL}
#define K_FRACTION(g, k, n, d, lo, hi) \
  {g, k, KEY_FRACTION, OFF (n), OFF (d), lo, hi, NULL}
#define K_ENUM(g, k, f, names) {g, k, KEY_ENUM, OFF (f), 0, 0, 0, names}
#define K_NICK(g, k, f, names) {g, k, KEY_NICK, OFF (f), 0, 0, 0, names}

/* Every key but those of [prompts], in file order. */
static const KeyDesc keys[] = {
  K_OPTIONAL ("model", "text", model),
  K_OPTIONAL ("model", "mmproj", mmproj),
  K_INT ("model", "threads", threads, 0, 256),
  K_INT ("model", "max-tokens", max_tokens, 1, 4096),
  K_DOUBLE ("model", "temperature", temperature, 0.0, 2.0),
  K_ENUM ("source", "kind", source, source_kinds),
  K_OPTIONAL ("source", "camera", camera),
  K_OPTIONAL ("source", "uri", uri),
  K_INT ("source", "width", width, 1, 16384),
  K_INT ("source", "height", height, 1, 16384),
  K_FRACTION ("source", "framerate", fps_n, fps_d, 0.001, 1000.0),
  K_ENUM ("source", "fallback", fallback_test, fallbacks),
  K_FRACTION ("describe", "rate", rate_n, rate_d, 0.0, 1000.0),
  K_BOOL ("describe", "continuous", continuous),
  K_DOUBLE ("describe", "scene-change", scene_change, 0.0, 1.0),
  K_NICK ("describe", "resize-mode", resize_mode, resize_modes),
  K_ENUM ("describe", "gl", gl, gl_modes),
  K_OPTIONAL ("thermal", "zone", thermal_zone),
  K_DOUBLE ("thermal", "throttle", throttle_temp, -100.0, 200.0),
  K_DOUBLE ("thermal", "cooldown", cooldown_temp, -100.0, 200.0),
  K_DOUBLE ("thermal", "resume", resume_temp, -100.0, 200.0),
  K_NICK ("overlay", "theme", theme, themes),
  K_NICK ("overlay", "position", position, positions),
  K_DOUBLE ("overlay", "font-size", font_size, 0.001, 1.0),
  K_BOOL ("speech", "enabled", speech),
  K_STRING ("speech", "voice", voice),
  K_INT ("speech", "rate", speech_rate, 80, 450),
};

static const gchar *const groups[] = { "model", "source", "describe",
  "prompts", "thermal", "overlay", "speech", NULL
};

#define PROMPTS "prompts"
#define DEFAULT_PRESET_KEY "default"

/* ------------------------------------------------------------------ */
/* Errors                                                              */
/* ------------------------------------------------------------------ */

/* Where a value comes from: a file line, or a --set (cli). */
typedef struct {
  const gchar *name;
  gint line;
  gboolean cli;
} Where;

/* Sets err to "NAME:LINE: [group] key: what", "--set group.key: what", or
 * without group and key "NAME:LINE: what". */
static void
fail (GError ** err, VlmConfigError code, const Where * w,
    const gchar * group, const gchar * key, const gchar * format, ...)
    G_GNUC_PRINTF (6, 7);

static void
fail (GError ** err, VlmConfigError code, const Where * w,
    const gchar * group, const gchar * key, const gchar * format, ...)
{
  va_list ap;
  gchar *what, *at;

  va_start (ap, format);
  what = g_strdup_vprintf (format, ap);
  va_end (ap);

  if (w->cli)
    at = g_strdup_printf ("--set %s%s%s", group, key ? "." : "",
        key ? key : "");
  else if (group && key)
    at = g_strdup_printf ("%s:%d: [%s] %s", w->name, w->line, group, key);
  else if (group)
    at = g_strdup_printf ("%s:%d: [%s]", w->name, w->line, group);
  else
    at = g_strdup_printf ("%s:%d", w->name, w->line);

  g_set_error (err, VLM_CONFIG_ERROR, code, "%s: %s", at, what);
  g_free (at);
  g_free (what);
}

static gchar *
join_names (const gchar * const *names)
{
  return g_strjoinv (", ", (gchar **) names);
}

/* ------------------------------------------------------------------ */
/* Config life cycle                                                   */
/* ------------------------------------------------------------------ */

static void
add_preset (VlmConfig * c, const gchar * name, const gchar * prompt)
{
  c->presets = g_renew (VlmPromptPreset, c->presets, c->n_presets + 1);
  c->presets[c->n_presets].name = g_strdup (name);
  c->presets[c->n_presets].prompt = g_strdup (prompt);
  c->n_presets++;
}

static void
clear_presets (VlmConfig * c)
{
  for (gint i = 0; i < c->n_presets; i++) {
    g_free (c->presets[i].name);
    g_free (c->presets[i].prompt);
  }
  g_clear_pointer (&c->presets, g_free);
  c->n_presets = 0;
  c->preset = 0;
}

static gint
find_preset (const VlmConfig * c, const gchar * name)
{
  for (gint i = 0; i < c->n_presets; i++)
    if (strcmp (c->presets[i].name, name) == 0)
      return i;
  return -1;
}

VlmConfig *
vlm_config_new (void)
{
  VlmConfig *c = g_new0 (VlmConfig, 1);

  c->threads = 0;
  c->max_tokens = 64;
  c->temperature = 0.2;

  c->source = VLM_SOURCE_CAMERA;
  c->width = 1280;
  c->height = 720;
  c->fps_n = 30;
  c->fps_d = 1;
  c->fallback_test = FALSE;

  c->rate_n = 1;
  c->rate_d = 3;
  c->continuous = TRUE;
  c->scene_change = 0.02;
  c->resize_mode = g_strdup ("letterbox");
  c->gl = VLM_GL_AUTO;

  add_preset (c, "scene",
      "Describe the scene in front of me in one or two short sentences.");
  add_preset (c, "text", "Read the text in this image.");
  add_preset (c, "ahead",
      "What is directly in front of me? Mention obstacles.");
  c->preset = 0;

  c->throttle_temp = 70.0;
  c->cooldown_temp = 85.0;
  c->resume_temp = 75.0;

  c->theme = g_strdup ("high-contrast");
  c->position = g_strdup ("bottom");
  c->font_size = 0.06;

  c->speech = TRUE;
  c->voice = g_strdup ("en");
  c->speech_rate = 175;
  return c;
}

/* The string fields, for copy and free. */
static const gsize string_fields[] = {
  OFF (model), OFF (mmproj), OFF (camera), OFF (uri), OFF (resize_mode),
  OFF (thermal_zone), OFF (theme), OFF (position), OFF (voice),
};

/* Frees what c owns (not c). */
static void
config_clear (VlmConfig * c)
{
  for (guint i = 0; i < G_N_ELEMENTS (string_fields); i++)
    g_free (G_STRUCT_MEMBER (gchar *, c, string_fields[i]));
  clear_presets (c);
}

void
vlm_config_free (VlmConfig * config)
{
  if (config == NULL)
    return;
  config_clear (config);
  g_free (config);
}

VlmConfig *
vlm_config_copy (const VlmConfig * config)
{
  VlmConfig *c = g_new (VlmConfig, 1);

  *c = *config;
  for (guint i = 0; i < G_N_ELEMENTS (string_fields); i++) {
    gchar **s = &G_STRUCT_MEMBER (gchar *, c, string_fields[i]);

    *s = g_strdup (*s);
  }
  c->presets = NULL;
  c->n_presets = 0;
  for (gint i = 0; i < config->n_presets; i++)
    add_preset (c, config->presets[i].name, config->presets[i].prompt);
  return c;
}

/* Moves the values of from into config and frees from. */
static void
config_take (VlmConfig * config, VlmConfig * from)
{
  config_clear (config);
  *config = *from;
  g_free (from);
}

gchar *
vlm_config_default_path (void)
{
  const gchar *xdg = g_getenv ("XDG_CONFIG_HOME");

  /* a relative XDG_CONFIG_HOME is invalid and ignored (XDG spec) */
  if (xdg && g_path_is_absolute (xdg))
    return g_build_filename (xdg, "gst-vlm", "scanner.conf", NULL);
  return g_build_filename (g_get_home_dir (), ".config", "gst-vlm",
      "scanner.conf", NULL);
}

/* ------------------------------------------------------------------ */
/* Values                                                              */
/* ------------------------------------------------------------------ */

static gboolean
parse_int (const gchar * s, gint64 * out)
{
  return g_ascii_string_to_signed (s, 10, G_MININT64, G_MAXINT64, out, NULL);
}

static gboolean
parse_double (const gchar * s, gdouble * out)
{
  gchar *end = NULL;

  if (*s == '\0')
    return FALSE;
  *out = g_ascii_strtod (s, &end);
  return end && *end == '\0' && isfinite (*out);
}

/* "N/D" or "N" with N, D > 0. */
static gboolean
parse_fraction (const gchar * s, gint * n, gint * d)
{
  gchar **parts = g_strsplit (s, "/", 3);
  guint64 vn = 0, vd = 1;
  gboolean ok;

  ok = g_strv_length (parts) <= 2 && parts[0] != NULL
      && g_ascii_string_to_unsigned (parts[0], 10, 1, G_MAXINT, &vn, NULL)
      && (parts[1] == NULL
      || g_ascii_string_to_unsigned (parts[1], 10, 1, G_MAXINT, &vd, NULL));
  g_strfreev (parts);
  *n = (gint) vn;
  *d = (gint) vd;
  return ok;
}

static gboolean
parse_bool (const gchar * s, gboolean * out)
{
  static const gchar *const yes[] = { "true", "yes", "1", NULL };
  static const gchar *const no[] = { "false", "no", "0", NULL };

  for (gint i = 0; yes[i]; i++) {
    if (g_ascii_strcasecmp (s, yes[i]) == 0) {
      *out = TRUE;
      return TRUE;
    }
    if (g_ascii_strcasecmp (s, no[i]) == 0) {
      *out = FALSE;
      return TRUE;
    }
  }
  return FALSE;
}

static gint
parse_name (const gchar * s, const gchar * const *names)
{
  for (gint i = 0; names[i]; i++)
    if (g_ascii_strcasecmp (s, names[i]) == 0)
      return i;
  return -1;
}

/* A fraction bound as text: "1/1000", "1000/1". */
static gchar *
bound_text (gdouble v)
{
  if (v < 1.0)
    return g_strdup_printf ("1/%d", (gint) lround (1.0 / v));
  return g_strdup_printf ("%d/1", (gint) v);
}

static gboolean
set_fraction (VlmConfig * c, const KeyDesc * k, const gchar * v,
    const Where * w, GError ** err)
{
  gint n, d;
  gdouble q;
  gchar *lo, *hi;

  if (!parse_fraction (v, &n, &d)) {
    fail (err, VLM_CONFIG_ERROR_VALUE, w, k->group, k->key,
        "'%s' is not a fraction > 0", v);
    return FALSE;
  }
  q = (gdouble) n / d;
  if (q < k->min || q > k->max) {
    lo = bound_text (k->min);
    hi = bound_text (k->max);
    fail (err, VLM_CONFIG_ERROR_VALUE, w, k->group, k->key,
        "'%s' is out of range (%s..%s)", v, k->min > 0 ? lo : "0", hi);
    g_free (lo);
    g_free (hi);
    return FALSE;
  }
  G_STRUCT_MEMBER (gint, c, k->offset) = n;
  G_STRUCT_MEMBER (gint, c, k->offset_d) = d;
  return TRUE;
}

static gboolean
set_number (VlmConfig * c, const KeyDesc * k, const gchar * v,
    const Where * w, GError ** err)
{
  gint64 i = 0;
  gdouble x = 0;
  gboolean is_int = k->type == KEY_INT;

  if (is_int ? !parse_int (v, &i) : !parse_double (v, &x)) {
    fail (err, VLM_CONFIG_ERROR_VALUE, w, k->group, k->key,
        "'%s' is not a %s", v, is_int ? "whole number" : "number");
    return FALSE;
  }
  if (is_int)
    x = (gdouble) i;
  if (x < k->min || x > k->max) {
    fail (err, VLM_CONFIG_ERROR_VALUE, w, k->group, k->key,
        "'%s' is out of range (%g..%g)", v, k->min, k->max);
    return FALSE;
  }
  if (is_int)
    G_STRUCT_MEMBER (gint, c, k->offset) = (gint) i;
  else
    G_STRUCT_MEMBER (gdouble, c, k->offset) = x;
  return TRUE;
}

static gboolean
set_choice (VlmConfig * c, const KeyDesc * k, const gchar * v,
    const Where * w, GError ** err)
{
  gint i = parse_name (v, k->names);
  gchar *all;

  if (i < 0) {
    all = join_names (k->names);
    fail (err, VLM_CONFIG_ERROR_VALUE, w, k->group, k->key,
        "'%s' is not one of: %s", v, all);
    g_free (all);
    return FALSE;
  }
  if (k->type == KEY_ENUM) {
    G_STRUCT_MEMBER (gint, c, k->offset) = i;
  } else {
    gchar **s = &G_STRUCT_MEMBER (gchar *, c, k->offset);

    g_free (*s);
    *s = g_strdup (k->names[i]);
  }
  return TRUE;
}

/* Sets the field of key k from the text v. */
static gboolean
set_value (VlmConfig * c, const KeyDesc * k, const gchar * v,
    const Where * w, GError ** err)
{
  gchar **s = &G_STRUCT_MEMBER (gchar *, c, k->offset);
  gboolean b;

  switch (k->type) {
    case KEY_OPTIONAL:
    case KEY_STRING:
      if (k->type == KEY_STRING && *v == '\0') {
        fail (err, VLM_CONFIG_ERROR_VALUE, w, k->group, k->key,
            "must not be empty");
        return FALSE;
      }
      g_free (*s);
      *s = *v ? g_strdup (v) : NULL;
      return TRUE;
    case KEY_INT:
    case KEY_DOUBLE:
      return set_number (c, k, v, w, err);
    case KEY_BOOL:
      if (!parse_bool (v, &b)) {
        fail (err, VLM_CONFIG_ERROR_VALUE, w, k->group, k->key,
            "'%s' is not a boolean (true, false, yes, no, 1, 0)", v);
        return FALSE;
      }
      G_STRUCT_MEMBER (gboolean, c, k->offset) = b;
      return TRUE;
    case KEY_FRACTION:
      return set_fraction (c, k, v, w, err);
    case KEY_ENUM:
    case KEY_NICK:
      return set_choice (c, k, v, w, err);
  }
  g_return_val_if_reached (FALSE);
}

static const KeyDesc *
find_key (const gchar * group, const gchar * key)
{
  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    if (strcmp (keys[i].group, group) == 0 && strcmp (keys[i].key, key) == 0)
      return &keys[i];
  return NULL;
}

static gboolean
is_group (const gchar * group)
{
  return g_strv_contains (groups, group);
}

/* "a, b, c": the keys of group, for the unknown-key message. */
static gchar *
group_keys (const gchar * group)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    if (strcmp (keys[i].group, group) == 0)
      g_string_append_printf (s, "%s%s", s->len ? ", " : "", keys[i].key);
  return g_string_free (s, FALSE);
}

static gboolean
valid_preset_name (const gchar * name)
{
  if (*name == '\0')
    return FALSE;
  for (const gchar * p = name; *p; p++)
    if (!g_ascii_isalnum (*p) && *p != '-' && *p != '_')
      return FALSE;
  return TRUE;
}

/* A [prompts] key: a preset (added, or replaced when the name exists) or
 * "default", whose name is resolved by the caller (*default_name). */
static gboolean
set_prompt_key (VlmConfig * c, const gchar * key, const gchar * v,
    const Where * w, gchar ** default_name, GError ** err)
{
  gint i;

  if (strcmp (key, DEFAULT_PRESET_KEY) == 0) {
    g_free (*default_name);
    *default_name = g_strdup (v);
    return TRUE;
  }
  if (!valid_preset_name (key)) {
    fail (err, VLM_CONFIG_ERROR_KEY, w, PROMPTS, key,
        "a preset name has only letters, digits, '-' and '_'");
    return FALSE;
  }
  if (*v == '\0') {
    fail (err, VLM_CONFIG_ERROR_VALUE, w, PROMPTS, key, "empty prompt");
    return FALSE;
  }
  i = find_preset (c, key);
  if (i < 0) {
    add_preset (c, key, v);
  } else {
    g_free (c->presets[i].prompt);
    c->presets[i].prompt = g_strdup (v);
  }
  return TRUE;
}

static gboolean
resolve_default_preset (VlmConfig * c, const gchar * name, const Where * w,
    GError ** err)
{
  gint i = find_preset (c, name);

  if (i < 0) {
    GString *all = g_string_new (NULL);

    for (gint k = 0; k < c->n_presets; k++)
      g_string_append_printf (all, "%s%s", k ? ", " : "", c->presets[k].name);
    fail (err, VLM_CONFIG_ERROR_VALUE, w, PROMPTS, DEFAULT_PRESET_KEY,
        "'%s' is not a preset (presets: %s)", name, all->str);
    g_string_free (all, TRUE);
    return FALSE;
  }
  c->preset = i;
  return TRUE;
}

/* Lines where thermal keys were set (0 = not in this input). */
typedef struct {
  gint throttle, cooldown, resume;
} ThermalLines;

static void
note_thermal_line (ThermalLines * tl, const gchar * group, const gchar * key,
    gint line)
{
  if (strcmp (group, "thermal") != 0)
    return;
  if (strcmp (key, "throttle") == 0)
    tl->throttle = line;
  else if (strcmp (key, "cooldown") == 0)
    tl->cooldown = line;
  else if (strcmp (key, "resume") == 0)
    tl->resume = line;
}

/* throttle < cooldown and resume < cooldown; the error is put on the later
 * of the two lines involved (the one that made the pair wrong). */
static gboolean
check_thermal (const VlmConfig * c, const ThermalLines * tl,
    const gchar * name, gboolean cli, GError ** err)
{
  struct {
    const gchar *key;
    gdouble value;
    gint line;
  } lower[] = {
    {"throttle", c->throttle_temp, tl->throttle},
    {"resume", c->resume_temp, tl->resume},
  };

  for (guint i = 0; i < G_N_ELEMENTS (lower); i++) {
    Where w = { name, MAX (lower[i].line, tl->cooldown), cli };
    gboolean blame_cooldown = tl->cooldown > lower[i].line;

    if (lower[i].value < c->cooldown_temp)
      continue;
    if (blame_cooldown)
      fail (err, VLM_CONFIG_ERROR_VALUE, &w, "thermal", "cooldown",
          "%g must be above %s (%g)", c->cooldown_temp, lower[i].key,
          lower[i].value);
    else
      fail (err, VLM_CONFIG_ERROR_VALUE, &w, "thermal", lower[i].key,
          "%g must be below cooldown (%g)", lower[i].value,
          c->cooldown_temp);
    return FALSE;
  }
  return TRUE;
}

/* ------------------------------------------------------------------ */
/* Reading                                                             */
/* ------------------------------------------------------------------ */

/* The reader's state over one input. */
typedef struct {
  VlmConfig *c;                 /* the working copy */
  const gchar *name;
  gchar *group;                 /* current group, NULL before the first */
  gboolean prompts_seen;
  gchar *default_name;          /* [prompts] default, resolved at the end */
  gint default_line;
  GHashTable *seen;             /* "group\nkey" -> line, for duplicates */
  ThermalLines thermal;
  gboolean cli;                 /* one --set, not a file */
} Reader;

static gboolean
is_blank (gchar ch)
{
  return ch == ' ' || ch == '\t';
}

/* The value text of raw without its comment and outer blanks, escapes
 * undone; NULL with *bad set to the bad escape. */
static gchar *
unescape_value (const gchar * raw, gchar * bad)
{
  GString *out = g_string_new (NULL);
  const gchar *start, *p;
  gsize keep = 0;

  for (start = raw; is_blank (*start); start++);
  for (p = start; *p; p++) {
    if ((*p == ';' || *p == '#') && (p == start || is_blank (p[-1])))
      break;
    if (*p != '\\') {
      g_string_append_c (out, *p);
      if (!is_blank (*p))
        keep = out->len;
      continue;
    }
    switch (*++p) {
      case 's': g_string_append_c (out, ' '); break;
      case 't': g_string_append_c (out, '\t'); break;
      case 'n': g_string_append_c (out, '\n'); break;
      case 'r': g_string_append_c (out, '\r'); break;
      case '\\': case ';': case '#': g_string_append_c (out, *p); break;
      default:
        *bad = *p;
        g_string_free (out, TRUE);
        return NULL;
    }
    keep = out->len;
  }
  g_string_truncate (out, keep);
  return g_string_free (out, FALSE);
}

/* "[group]" with an optional comment after it. */
static gboolean
read_group_line (Reader * r, const gchar * line, const Where * w,
    GError ** err)
{
  const gchar *close = strchr (line, ']');
  const gchar *p;
  gchar *group;

  if (close == NULL)
    goto bad_line;
  for (p = close + 1; is_blank (*p); p++);
  if (*p != '\0' && *p != ';' && *p != '#')
    goto bad_line;

  group = g_strstrip (g_strndup (line + 1, close - line - 1));
  if (!is_group (group)) {
    gchar *all = join_names (groups);

    fail (err, VLM_CONFIG_ERROR_KEY, w, group, NULL,
        "unknown group (groups: %s)", all);
    g_free (all);
    g_free (group);
    return FALSE;
  }
  /* a [prompts] group replaces the presets */
  if (strcmp (group, PROMPTS) == 0 && !r->prompts_seen) {
    clear_presets (r->c);
    r->prompts_seen = TRUE;
  }
  g_free (r->group);
  r->group = group;
  return TRUE;

bad_line:
  fail (err, VLM_CONFIG_ERROR_PARSE, w, NULL, NULL,
      "expected '[group]' or 'key = value'");
  return FALSE;
}

/* Sets group.key = value from line w (or --set). */
static gboolean
set_key (Reader * r, const gchar * group, const gchar * key,
    const gchar * value, const Where * w, GError ** err)
{
  const KeyDesc *k;
  gchar *known;

  note_thermal_line (&r->thermal, group, key, w->line);
  if (strcmp (group, PROMPTS) == 0) {
    if (strcmp (key, DEFAULT_PRESET_KEY) == 0)
      r->default_line = w->line;
    return set_prompt_key (r->c, key, value, w, &r->default_name, err);
  }
  k = find_key (group, key);
  if (k != NULL)
    return set_value (r->c, k, value, w, err);

  known = group_keys (group);
  fail (err, VLM_CONFIG_ERROR_KEY, w, group, key, "unknown key (keys: %s)",
      known);
  g_free (known);
  return FALSE;
}

/* "key = value" with an optional comment. */
static gboolean
read_key_line (Reader * r, const gchar * line, const Where * w,
    GError ** err)
{
  const gchar *eq = strchr (line, '=');
  gchar *key, *value, *id;
  gchar bad = 0;
  gpointer first;
  gboolean ok = FALSE;

  if (eq == NULL || eq == line) {
    fail (err, VLM_CONFIG_ERROR_PARSE, w, NULL, NULL,
        "expected '[group]' or 'key = value'");
    return FALSE;
  }
  if (r->group == NULL) {
    fail (err, VLM_CONFIG_ERROR_PARSE, w, NULL, NULL,
        "'key = value' before any [group]");
    return FALSE;
  }

  key = g_strstrip (g_strndup (line, eq - line));
  value = unescape_value (eq + 1, &bad);
  id = g_strconcat (r->group, "\n", key, NULL);
  first = g_hash_table_lookup (r->seen, id);
  if (value == NULL)
    fail (err, VLM_CONFIG_ERROR_PARSE, w, r->group, key,
        "unknown escape '\\%c' (use \\s \\t \\n \\r \\\\ \\; \\#)",
        bad ? bad : ' ');
  else if (first != NULL)
    fail (err, VLM_CONFIG_ERROR_KEY, w, r->group, key,
        "set twice (first on line %d)", GPOINTER_TO_INT (first));
  else
    ok = set_key (r, r->group, key, value, w, err);

  if (ok)
    g_hash_table_insert (r->seen, id, GINT_TO_POINTER (w->line));
  else
    g_free (id);
  g_free (key);
  g_free (value);
  return ok;
}

static gboolean
read_line (Reader * r, gchar * line, const Where * w, GError ** err)
{
  g_strstrip (line);
  if (line[0] == '\0' || line[0] == '#' || line[0] == ';')
    return TRUE;
  if (line[0] == '[')
    return read_group_line (r, line, w, err);
  return read_key_line (r, line, w, err);
}

/* The checks that need the whole input. */
static gboolean
reader_finish (Reader * r, GError ** err)
{
  Where w = { r->name, r->default_line, r->cli };

  if (r->prompts_seen && r->c->n_presets == 0) {
    w.line = r->default_line ? r->default_line : 1;
    fail (err, VLM_CONFIG_ERROR_VALUE, &w, PROMPTS, NULL,
        "needs at least one preset (name = prompt)");
    return FALSE;
  }
  if (r->default_name
      && !resolve_default_preset (r->c, r->default_name, &w, err))
    return FALSE;
  if (r->prompts_seen && r->default_name == NULL)
    r->c->preset = 0;
  return check_thermal (r->c, &r->thermal, r->name, r->cli, err);
}

static void
reader_init (Reader * r, const VlmConfig * config, const gchar * name)
{
  memset (r, 0, sizeof *r);
  r->c = vlm_config_copy (config);
  r->name = name;
  r->seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
}

/* Frees the reader; its working copy goes into config when ok. */
static void
reader_finish_into (Reader * r, VlmConfig * config, gboolean ok)
{
  if (ok)
    config_take (config, r->c);
  else
    vlm_config_free (r->c);
  g_free (r->group);
  g_free (r->default_name);
  g_hash_table_unref (r->seen);
}

/* The line number (from 1) of the first invalid UTF-8 byte, 0 if valid. */
static gint
invalid_utf8_line (const gchar * data, gsize len)
{
  const gchar *end;
  gint line = 1;

  if (g_utf8_validate_len (data, len, &end))
    return 0;
  for (const gchar * p = data; p < end; p++)
    line += *p == '\n';
  return line;
}

gboolean
vlm_config_load_data (VlmConfig * config, const gchar * data, gsize len,
    const gchar * name, GError ** err)
{
  Reader r;
  gchar *text;
  gchar **lines;
  gboolean ok = TRUE;
  Where w = { name ? name : "(config)", invalid_utf8_line (data, len),
    FALSE
  };

  g_return_val_if_fail (config != NULL && (data != NULL || len == 0), FALSE);

  if (w.line > 0) {
    fail (err, VLM_CONFIG_ERROR_PARSE, &w, NULL, NULL, "not UTF-8 text");
    return FALSE;
  }
  /* a UTF-8 byte order mark is not part of the first line */
  if (len >= 3 && memcmp (data, "\xef\xbb\xbf", 3) == 0) {
    data += 3;
    len -= 3;
  }

  reader_init (&r, config, w.name);
  text = g_strndup (data, len);
  lines = g_strsplit (text, "\n", -1);
  for (gint i = 0; ok && lines[i]; i++) {
    w.line = i + 1;
    ok = read_line (&r, lines[i], &w, err);
  }
  ok = ok && reader_finish (&r, err);
  reader_finish_into (&r, config, ok);
  g_strfreev (lines);
  g_free (text);
  return ok;
}

gboolean
vlm_config_load_file (VlmConfig * config, const gchar * path, GError ** err)
{
  GError *io = NULL;
  gchar *data = NULL;
  gsize len = 0;
  gboolean ok;

  g_return_val_if_fail (config != NULL && path != NULL, FALSE);

  if (!g_file_get_contents (path, &data, &len, &io)) {
    g_set_error (err, VLM_CONFIG_ERROR, VLM_CONFIG_ERROR_IO, "%s: %s", path,
        io->message);
    g_error_free (io);
    return FALSE;
  }
  ok = vlm_config_load_data (config, data, len, path, err);
  g_free (data);
  return ok;
}

gboolean
vlm_config_set (VlmConfig * config, const gchar * assignment, GError ** err)
{
  Reader r;
  const gchar *eq, *dot;
  gchar *group, *key, *value;
  /* line 1: the --set is the latest value of its key */
  Where w = { "--set", 1, TRUE };
  gboolean ok;

  g_return_val_if_fail (config != NULL && assignment != NULL, FALSE);

  eq = strchr (assignment, '=');
  dot = eq ? memchr (assignment, '.', eq - assignment) : NULL;
  if (dot == NULL || dot == assignment || dot + 1 == eq) {
    g_set_error (err, VLM_CONFIG_ERROR, VLM_CONFIG_ERROR_PARSE,
        "--set %s: expected group.key=value", assignment);
    return FALSE;
  }
  group = g_strstrip (g_strndup (assignment, dot - assignment));
  key = g_strstrip (g_strndup (dot + 1, eq - dot - 1));
  value = g_strstrip (g_strdup (eq + 1));

  reader_init (&r, config, w.name);
  r.cli = TRUE;
  if (!is_group (group)) {
    gchar *all = join_names (groups);

    fail (err, VLM_CONFIG_ERROR_KEY, &w, group, NULL,
        "unknown group (groups: %s)", all);
    g_free (all);
    ok = FALSE;
  } else {
    ok = set_key (&r, group, key, value, &w, err) && reader_finish (&r, err);
  }
  reader_finish_into (&r, config, ok);
  g_free (group);
  g_free (key);
  g_free (value);
  return ok;
}

/* ------------------------------------------------------------------ */
/* Writing                                                             */
/* ------------------------------------------------------------------ */

/* A value as the reader reads it back: escapes for outer blanks,
 * backslashes, comment characters and line breaks. */
static void
append_escaped (GString * out, const gchar * v)
{
  gsize len = strlen (v);

  for (gsize i = 0; i < len; i++) {
    gchar ch = v[i];
    gboolean outer = i == 0 || i == len - 1;

    if (ch == ' ' && outer)
      g_string_append (out, "\\s");
    else if (ch == '\t')
      g_string_append (out, "\\t");
    else if (ch == '\n')
      g_string_append (out, "\\n");
    else if (ch == '\r')
      g_string_append (out, "\\r");
    else if (ch == '\\' || ch == ';' || ch == '#')
      g_string_append_printf (out, "\\%c", ch);
    else
      g_string_append_c (out, ch);
  }
}

/* The shortest text that reads back as exactly x. */
static void
append_double (GString * out, gdouble x)
{
  gchar buf[G_ASCII_DTOSTR_BUF_SIZE];

  for (gint digits = 6; digits <= 17; digits++) {
    gchar format[8];

    g_snprintf (format, sizeof format, "%%.%dg", digits);
    g_ascii_formatd (buf, sizeof buf, format, x);
    if (g_ascii_strtod (buf, NULL) == x)
      break;
  }
  g_string_append (out, buf);
}

static void
append_value (GString * out, const VlmConfig * c, const KeyDesc * k)
{
  const gchar *s;

  switch (k->type) {
    case KEY_OPTIONAL:
    case KEY_STRING:
    case KEY_NICK:
      s = G_STRUCT_MEMBER (const gchar *, c, k->offset);
      append_escaped (out, s ? s : "");
      break;
    case KEY_INT:
      g_string_append_printf (out, "%d", G_STRUCT_MEMBER (gint, c, k->offset));
      break;
    case KEY_DOUBLE:
      append_double (out, G_STRUCT_MEMBER (gdouble, c, k->offset));
      break;
    case KEY_BOOL:
      g_string_append (out, G_STRUCT_MEMBER (gboolean, c, k->offset) ?
          "true" : "false");
      break;
    case KEY_FRACTION:
      g_string_append_printf (out, "%d/%d", G_STRUCT_MEMBER (gint, c,
              k->offset), G_STRUCT_MEMBER (gint, c, k->offset_d));
      break;
    case KEY_ENUM:
      g_string_append (out, k->names[G_STRUCT_MEMBER (gint, c, k->offset)]);
      break;
  }
}

static void
append_prompts (GString * out, const VlmConfig * c)
{
  g_string_append (out, "\n[" PROMPTS "]\n");
  for (gint i = 0; i < c->n_presets; i++) {
    g_string_append_printf (out, "%s = ", c->presets[i].name);
    append_escaped (out, c->presets[i].prompt);
    g_string_append_c (out, '\n');
  }
  if (c->n_presets > 0)
    g_string_append_printf (out, DEFAULT_PRESET_KEY " = %s\n",
        c->presets[CLAMP (c->preset, 0, c->n_presets - 1)].name);
}

gchar *
vlm_config_to_data (const VlmConfig * config)
{
  GString *out = g_string_new ("# gst-vlm scanner configuration\n");

  g_return_val_if_fail (config != NULL, NULL);

  for (gint g = 0; groups[g]; g++) {
    if (strcmp (groups[g], PROMPTS) == 0) {
      append_prompts (out, config);
      continue;
    }
    g_string_append_printf (out, "\n[%s]\n", groups[g]);
    for (guint i = 0; i < G_N_ELEMENTS (keys); i++) {
      if (strcmp (keys[i].group, groups[g]) != 0)
        continue;
      g_string_append_printf (out, "%s = ", keys[i].key);
      append_value (out, config, &keys[i]);
      /* no blank after '=' for an empty value */
      if (out->str[out->len - 1] == ' ')
        g_string_truncate (out, out->len - 1);
      g_string_append_c (out, '\n');
    }
  }
  return g_string_free (out, FALSE);
}

/* ------------------------------------------------------------------ */
/* Comparing                                                           */
/* ------------------------------------------------------------------ */

gboolean
vlm_config_equal (const VlmConfig * a, const VlmConfig * b)
{
  g_return_val_if_fail (a != NULL && b != NULL, FALSE);

  if (a->n_presets != b->n_presets || a->preset != b->preset)
    return FALSE;
  for (gint i = 0; i < a->n_presets; i++)
    if (g_strcmp0 (a->presets[i].name, b->presets[i].name) != 0
        || g_strcmp0 (a->presets[i].prompt, b->presets[i].prompt) != 0)
      return FALSE;
  for (guint i = 0; i < G_N_ELEMENTS (string_fields); i++)
    if (g_strcmp0 (G_STRUCT_MEMBER (gchar *, a, string_fields[i]),
            G_STRUCT_MEMBER (gchar *, b, string_fields[i])) != 0)
      return FALSE;

  return a->threads == b->threads && a->max_tokens == b->max_tokens
      && a->temperature == b->temperature && a->source == b->source
      && a->width == b->width && a->height == b->height
      && a->fps_n == b->fps_n && a->fps_d == b->fps_d
      && !a->fallback_test == !b->fallback_test
      && a->rate_n == b->rate_n && a->rate_d == b->rate_d
      && !a->continuous == !b->continuous
      && a->scene_change == b->scene_change && a->gl == b->gl
      && a->throttle_temp == b->throttle_temp
      && a->cooldown_temp == b->cooldown_temp
      && a->resume_temp == b->resume_temp && a->font_size == b->font_size
      && !a->speech == !b->speech && a->speech_rate == b->speech_rate;
}

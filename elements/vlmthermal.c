/* gst-vlm — thermal cool-down policy (no GStreamer inside). */
#include "vlmthermal.h"

#include <ctype.h>
#include <dirent.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define DEFAULT_ROOT "/sys/class/thermal"

struct VlmThermal {
  VlmThermalParams params;
  char *root;               /* owned copies of the params' strings */
  char *zone_spec;
  char *temp_path;          /* the sensor in use, NULL without one */
  VlmThermalState state;
};

VlmThermalParams
vlm_thermal_params_default (void)
{
  return (VlmThermalParams) { NULL, NULL, 70.0, 85.0, 75.0 };
}

const char *
vlm_thermal_state_name (VlmThermalState s)
{
  switch (s) {
    case VLM_THERMAL_NORMAL: return "normal";
    case VLM_THERMAL_THROTTLED: return "throttled";
    case VLM_THERMAL_PAUSED: return "paused";
    default: return "no-sensor";
  }
}

/* ------------------------------------------------------------------ */
/* sysfs                                                               */
/* ------------------------------------------------------------------ */

/* First line of a small file without the newline; false if unreadable. */
static bool
read_line (const char *path, char *buf, size_t size)
{
  FILE *f = fopen (path, "r");
  if (f == NULL)
    return false;
  bool ok = fgets (buf, (int) size, f) != NULL;
  fclose (f);
  if (ok)
    buf[strcspn (buf, "\n")] = '\0';
  return ok;
}

/* Temperature in degrees C from a millidegree file; NaN if unreadable. */
static double
read_temp (const char *path)
{
  char buf[64], *end;
  if (path == NULL || !read_line (path, buf, sizeof (buf)))
    return NAN;
  long v = strtol (buf, &end, 10);
  if (end == buf || (*end != '\0' && !isspace ((unsigned char) *end)))
    return NAN;
  return v / 1000.0;
}

static char *
join (const char *a, const char *b, const char *c)
{
  size_t n = strlen (a) + strlen (b) + strlen (c) + 3;
  char *s = malloc (n);
  if (s)
    snprintf (s, n, "%s/%s%s%s", a, b, *c ? "/" : "", c);
  return s;
}

static bool
is_cpu_like (const char *type)
{
  static const char *words[] = { "cpu", "pkg", "soc", "core", "k10temp",
    "acpitz", "x86" };
  for (size_t i = 0; i < sizeof (words) / sizeof (words[0]); i++)
    if (strcasestr (type, words[i]))
      return true;
  return false;
}

/* Chooses a zone under root: the one matching spec (type or directory
 * name), or with spec NULL the hottest CPU-like zone (else the hottest). */
static char *
find_zone (const char *root, const char *spec)
{
  DIR *d = opendir (root);
  if (d == NULL)
    return NULL;
  char *best = NULL;
  double best_temp = -INFINITY;
  bool best_cpu = false;
  for (struct dirent *e; (e = readdir (d)) != NULL;) {
    if (strncmp (e->d_name, "thermal_zone", 12) != 0)
      continue;
    char *type_path = join (root, e->d_name, "type");
    char *temp_path = join (root, e->d_name, "temp");
    char type[128] = "";
    if (type_path)
      read_line (type_path, type, sizeof (type));
    double t = read_temp (temp_path);
    bool match = spec ? (strcmp (spec, type) == 0
        || strcmp (spec, e->d_name) == 0) : !isnan (t);
    bool cpu = spec == NULL && is_cpu_like (type);
    bool better = match && (best == NULL || (cpu && !best_cpu)
        || (cpu == best_cpu && t > best_temp));
    if (better && temp_path) {
      free (best);
      best = temp_path;
      temp_path = NULL;
      best_temp = t;
      best_cpu = cpu;
    }
    free (type_path);
    free (temp_path);
    if (spec && best)
      break;
  }
  closedir (d);
  return best;
}

/* A spec with a '/' is a path: a temp file or a zone directory. */
static char *
resolve_path (const char *spec)
{
  struct stat st;
  if (stat (spec, &st) != 0)
    return NULL;
  if (S_ISDIR (st.st_mode))
    return join (spec, "temp", "");
  return strdup (spec);
}

/* ------------------------------------------------------------------ */
/* Public functions                                                    */
/* ------------------------------------------------------------------ */

VlmThermal *
vlm_thermal_new (const VlmThermalParams * params)
{
  VlmThermalParams p = params ? *params : vlm_thermal_params_default ();
  if (!(p.throttle_temp < p.cooldown_temp)
      || !(p.resume_temp < p.cooldown_temp))
    return NULL;
  VlmThermal *t = calloc (1, sizeof (VlmThermal));
  if (t == NULL)
    return NULL;
  t->root = strdup (p.sysfs_root ? p.sysfs_root : DEFAULT_ROOT);
  t->zone_spec = p.zone ? strdup (p.zone) : NULL;
  if (t->root == NULL || (p.zone && t->zone_spec == NULL)) {
    vlm_thermal_free (t);
    return NULL;
  }
  t->params = p;
  t->params.sysfs_root = t->root;
  t->params.zone = t->zone_spec;
  if (t->zone_spec && strchr (t->zone_spec, '/'))
    t->temp_path = resolve_path (t->zone_spec);
  else
    t->temp_path = find_zone (t->root, t->zone_spec);
  t->state = isnan (read_temp (t->temp_path)) ? VLM_THERMAL_NO_SENSOR
      : VLM_THERMAL_NORMAL;
  return t;
}

void
vlm_thermal_free (VlmThermal * t)
{
  if (t == NULL)
    return;
  free (t->root);
  free (t->zone_spec);
  free (t->temp_path);
  free (t);
}

/* The policy: new state and rate factor for a temperature. */
static VlmThermalState
apply_policy (const VlmThermalParams * p, VlmThermalState prev, double c,
    double *factor)
{
  if (c >= p->cooldown_temp
      || (prev == VLM_THERMAL_PAUSED && c >= p->resume_temp)) {
    *factor = 0.0;
    return VLM_THERMAL_PAUSED;
  }
  if (c < p->throttle_temp) {
    *factor = 1.0;
    return VLM_THERMAL_NORMAL;
  }
  /* linear from 1 at throttle_temp down to 0 at cooldown_temp */
  *factor = 1.0 - (c - p->throttle_temp)
      / (p->cooldown_temp - p->throttle_temp);
  return VLM_THERMAL_THROTTLED;
}

VlmThermalState
vlm_thermal_update (VlmThermal * t, double *temp_c, double *factor)
{
  double c = read_temp (t->temp_path), f = 1.0;
  if (isnan (c))
    t->state = VLM_THERMAL_NO_SENSOR;
  else
    t->state = apply_policy (&t->params, t->state, c, &f);
  if (temp_c)
    *temp_c = c;
  if (factor)
    *factor = f;
  return t->state;
}

VlmThermalState
vlm_thermal_state (const VlmThermal * t)
{
  return t->state;
}

const char *
vlm_thermal_zone (const VlmThermal * t)
{
  return t->state == VLM_THERMAL_NO_SENSOR ? NULL : t->temp_path;
}

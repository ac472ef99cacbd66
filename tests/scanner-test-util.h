/* gst-vlm — helpers of the vlm-scanner end-to-end tests: running the app
 * (and gst-launch-1.0, which makes a clip) as child processes, each
 * bounded by a time limit. Include after <cmocka.h>; static functions
 * only. Needs GLib.
 *
 * Environment (tests/meson.build): VLM_SCANNER (the app), VLM_BUILD_DIR
 * (the build tree), VLM_SHARED_DIR (the tokenizer vocabulary).
 */
#ifndef SCANNER_TEST_UTIL_H
#define SCANNER_TEST_UTIL_H

#include <glib.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "model-util.h"
#include "test-util.h"

#define ST_LIMIT_S "90"         /* no child runs longer (coreutils timeout) */

typedef struct {
  int status;                   /* exit status; 124 = timed out */
  gchar *out, *err;
} StRun;

static void
st_run_clear (StRun * r)
{
  g_free (r->out);
  g_free (r->err);
  memset (r, 0, sizeof *r);
}

/* Runs argv (NULL-terminated) under `timeout`, with extra environment
 * "NAME=VALUE" strings (NULL-terminated, may be NULL), in a fresh config
 * home so the user's scanner.conf never leaks in. */
static StRun
st_run (const char *config_home, const char *const *argv,
    const char *const *env_extra)
{
  StRun r = { 0 };
  GPtrArray *args = g_ptr_array_new ();
  gchar **env = g_get_environ ();
  GError *error = NULL;
  int wait_status = 0;

  g_ptr_array_add (args, (gpointer) "timeout");
  g_ptr_array_add (args, (gpointer) "-k");
  g_ptr_array_add (args, (gpointer) "5");
  g_ptr_array_add (args, (gpointer) ST_LIMIT_S);
  for (int i = 0; argv[i]; i++)
    g_ptr_array_add (args, (gpointer) argv[i]);
  g_ptr_array_add (args, NULL);
  env = g_environ_setenv (env, "XDG_CONFIG_HOME", config_home, TRUE);
  for (int i = 0; env_extra && env_extra[i]; i++) {
    gchar **kv = g_strsplit (env_extra[i], "=", 2);

    env = g_environ_setenv (env, kv[0], kv[1] ? kv[1] : "", TRUE);
    g_strfreev (kv);
  }
  if (!g_spawn_sync (NULL, (gchar **) args->pdata, env, G_SPAWN_SEARCH_PATH,
          NULL, NULL, &r.out, &r.err, &wait_status, &error))
    fail_msg ("cannot run %s: %s", argv[0], error->message);
  r.status = WIFEXITED (wait_status) ? WEXITSTATUS (wait_status) : 128;
  g_ptr_array_free (args, TRUE);
  g_strfreev (env);
  return r;
}

/* The app, from the build. */
static const char *
st_scanner (void)
{
  const char *p = g_getenv ("VLM_SCANNER");

  if (p == NULL)
    fail_msg ("VLM_SCANNER is not set (run through meson test)");
  return p;
}

/* The tiny generated model in dir (text, mmproj paths: g_free them). */
static int
st_make_model (const char *dir, gchar ** text, gchar ** mmproj)
{
  char t[4200], m[4200];

  if (tu_make_model ("tiny-ldpv2", dir, t, m, sizeof t) != 0)
    return -1;
  *text = g_strdup (t);
  *mmproj = g_strdup (m);
  return 0;
}

/* A VP8/WebM clip of n frames at fps, 320x240, of a videotestsrc
 * pattern ("ball", "gradient", ...). */
static int
st_make_clip (const char *dir, const char *path, int n, int fps,
    const char *pattern)
{
  gchar *pat = g_strdup_printf ("pattern=%s", pattern);
  gchar *buffers = g_strdup_printf ("num-buffers=%d", n);
  gchar *caps = g_strdup_printf ("video/x-raw,width=320,height=240,"
      "framerate=%d/1", fps);
  gchar *loc = g_strdup_printf ("location=%s", path);
  const char *argv[] = { "gst-launch-1.0", "-q", "videotestsrc", buffers,
    pat, "!", caps, "!", "vp8enc", "deadline=1", "!", "webmmux",
    "!", "filesink", loc, NULL
  };
  StRun r = st_run (dir, argv, NULL);
  int rc = r.status;

  if (rc != 0)
    fprintf (stderr, "gst-launch-1.0: %s%s\n", r.out, r.err);
  st_run_clear (&r);
  g_free (pat);
  g_free (buffers);
  g_free (caps);
  g_free (loc);
  return rc;
}

#endif /* SCANNER_TEST_UTIL_H */

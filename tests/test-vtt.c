/* Unit tests of the WebVTT writer (app/vlmvtt.c): format, escaping, cue
 * order, times, invalid UTF-8, write errors, and a small WebVTT validator
 * that reads the files back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "test-util.h"
#include "vlmvtt.h"

#define S VLM_VTT_SECOND
#define MS (VLM_VTT_SECOND / 1000)

static char tmpdir[256];

static int
group_setup (void **state)
{
  (void) state;
  return tu_tmpdir_new (tmpdir, sizeof tmpdir, "test-vtt") ? 0 : -1;
}

static int
group_teardown (void **state)
{
  (void) state;
  return tu_tmpdir_remove (tmpdir);
}

/* "$tmpdir/name" in a static buffer */
static const char *
tmp_path (const char *name)
{
  static char buf[512];
  snprintf (buf, sizeof buf, "%s/%s", tmpdir, name);
  return buf;
}

static char *
read_back (const char *path)
{
  size_t len;
  return tu_read_file (path, &len);
}

/* ------------------------------------------------------------------ */
/* A WebVTT validator (the subset the writer produces, strictly)         */
/* ------------------------------------------------------------------ */

static uint64_t
group_u64 (const char *line, regmatch_t m)
{
  return strtoull (line + m.rm_so, NULL, 10);
}

/* Checks `text` as a WebVTT file as the writer makes it: "WEBVTT", a blank
 * line, then cues "N" (1, 2, ...), a timing line, zero or more non-blank
 * payload lines (valid UTF-8, no "-->", no raw < >, & only in &amp; &lt;
 * &gt;, no control characters but tab), each cue followed by one blank
 * line. Start times never decrease; each end is after its start.
 * Returns the number of cues, or -1 with the reason in why. */
static int
vtt_validate (const char *text, char *why, size_t why_size)
{
  regex_t re;
  int rc = regcomp (&re, "^([0-9]{2,}):([0-5][0-9]):([0-5][0-9])\\.([0-9]{3})"
      " --> ([0-9]{2,}):([0-5][0-9]):([0-5][0-9])\\.([0-9]{3})$",
      REG_EXTENDED);
  assert_int_equal (rc, 0);
  int n_cues = -1;
  size_t n = strlen (text);
  const char *p = text;
  const char *end = text + n;
#define BAD(...) do { snprintf (why, why_size, __VA_ARGS__); goto out; } while (0)
  if (n < 8 || strncmp (p, "WEBVTT\n\n", 8) != 0)
    BAD ("no \"WEBVTT\" line and blank line at the start");
  if (!tu_utf8_valid ((const unsigned char *) text, n))
    BAD ("invalid UTF-8");
  p += 8;
  int count = 0;
  uint64_t last_start = 0;
  char line[4096];
  while (p < end) {
    /* read lines of one block */
    int k = 0;
    for (;;) {
      const char *nl = memchr (p, '\n', (size_t) (end - p));
      if (nl == NULL)
        BAD ("cue %d: last line without line break", count + 1);
      size_t l = (size_t) (nl - p);
      if (l >= sizeof line)
        BAD ("cue %d: line too long", count + 1);
      memcpy (line, p, l);
      line[l] = '\0';
      p = nl + 1;
      if (l == 0)
        break;                  /* the blank line ending the cue */
      if (memchr (line, '\r', l) != NULL)
        BAD ("cue %d: carriage return", count + 1);
      if (k == 0) {
        char want[32];
        snprintf (want, sizeof want, "%d", count + 1);
        if (strcmp (line, want) != 0)
          BAD ("cue %d: identifier \"%.80s\"", count + 1, line);
      } else if (k == 1) {
        regmatch_t m[9];
        if (regexec (&re, line, 9, m, 0) != 0)
          BAD ("cue %d: bad timing line \"%.80s\"", count + 1, line);
        uint64_t a = ((group_u64 (line, m[1]) * 60 + group_u64 (line, m[2]))
            * 60 + group_u64 (line, m[3])) * 1000 + group_u64 (line, m[4]);
        uint64_t b = ((group_u64 (line, m[5]) * 60 + group_u64 (line, m[6]))
            * 60 + group_u64 (line, m[7])) * 1000 + group_u64 (line, m[8]);
        if (b <= a)
          BAD ("cue %d: end not after start", count + 1);
        if (a < last_start)
          BAD ("cue %d: starts before the previous cue", count + 1);
        last_start = a;
      } else {
        if (strstr (line, "-->") != NULL)
          BAD ("cue %d: \"-->\" in the text", count + 1);
        if (strchr (line, '<') || strchr (line, '>'))
          BAD ("cue %d: raw < or > in the text", count + 1);
        for (const char *q = line; *q; q++) {
          if (*q == '&' && strncmp (q, "&amp;", 5) && strncmp (q, "&lt;", 4)
              && strncmp (q, "&gt;", 4))
            BAD ("cue %d: bare &", count + 1);
          if (((unsigned char) *q < 0x20 && *q != '\t') || *q == 0x7F)
            BAD ("cue %d: control character", count + 1);
        }
        bool blank = true;
        for (const char *q = line; *q; q++)
          if (*q != ' ' && *q != '\t')
            blank = false;
        if (blank)
          BAD ("cue %d: blank line inside", count + 1);
      }
      k++;
    }
    if (k < 2)
      BAD ("cue %d: no timing line (extra blank line?)", count + 1);
    count++;
  }
  n_cues = count;
out:
#undef BAD
  regfree (&re);
  return n_cues;
}

static int
validate_file (const char *path)
{
  char *text = read_back (path);
  char why[256] = "";
  int n = vtt_validate (text, why, sizeof why);
  if (n < 0)
    print_message ("invalid WebVTT %s: %s\n---\n%s---\n", path, why, text);
  free (text);
  return n;
}

/* The validator itself rejects what it must. */
static void
test_validator_rejects (void **state)
{
  (void) state;
  char why[256];
  assert_int_equal (vtt_validate ("WEBVTT\n\n", why, sizeof why), 0);
  assert_int_equal (vtt_validate ("WEBVTT\n\n1\n00:00:00.000 --> "
          "00:00:01.000\nhi\n\n", why, sizeof why), 1);
  static const char *const bad[] = {
    "",
    "WEBVTT\n",
    "1\n00:00:00.000 --> 00:00:01.000\nhi\n\n",
    "WEBVTT\n\n1\n00:00:00.000 --> 00:00:01.000\nhi\n",
    "WEBVTT\n\n2\n00:00:00.000 --> 00:00:01.000\nhi\n\n",
    "WEBVTT\n\n1\n0:00:00.000 --> 00:00:01.000\nhi\n\n",
    "WEBVTT\n\n1\n00:00:00,000 --> 00:00:01.000\nhi\n\n",
    "WEBVTT\n\n1\n00:60:00.000 --> 00:61:01.000\nhi\n\n",
    "WEBVTT\n\n1\n00:00:01.000 --> 00:00:01.000\nhi\n\n",
    "WEBVTT\n\n1\n00:00:00.000 --> 00:00:01.000\na --> b\n\n",
    "WEBVTT\n\n1\n00:00:00.000 --> 00:00:01.000\na <b>\n\n",
    "WEBVTT\n\n1\n00:00:00.000 --> 00:00:01.000\na & b\n\n",
    "WEBVTT\n\n1\n00:00:00.000 --> 00:00:01.000\na\xff\n\n",
    "WEBVTT\n\n1\n00:00:00.000 --> 00:00:01.000\na\n\n\n",
    "WEBVTT\n\n1\n00:00:02.000 --> 00:00:03.000\na\n\n"
        "2\n00:00:01.000 --> 00:00:03.000\nb\n\n",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    if (vtt_validate (bad[i], why, sizeof why) >= 0)
      fail_msg ("validator accepted bad file %zu", i);
  }
}

/* ------------------------------------------------------------------ */
/* Times                                                                */
/* ------------------------------------------------------------------ */

static void
check_time (uint64_t ns, const char *want)
{
  char buf[32];
  memset (buf, 'x', sizeof buf);
  vlm_vtt_format_time (ns, buf);
  assert_string_equal (buf, want);
}

static void
test_format_time (void **state)
{
  (void) state;
  check_time (0, "00:00:00.000");
  check_time (999999, "00:00:00.000");  /* ms rounded down */
  check_time (1999999, "00:00:00.001");
  check_time (59 * S + 999 * MS + 999999, "00:00:59.999");
  check_time (60 * S, "00:01:00.000");
  check_time (3723 * S + 456 * MS + 789, "01:02:03.456");
  check_time (99 * 3600 * S + 59 * 60 * S + 59 * S, "99:59:59.000");
  check_time (100 * 3600 * S, "100:00:00.000");
  check_time (12345 * 3600 * S + 7 * MS, "12345:00:00.007");
  char buf[32];
  vlm_vtt_format_time (UINT64_MAX, buf);
  assert_string_equal (buf, "5124095:34:33.709");
}

/* ------------------------------------------------------------------ */
/* Files                                                                */
/* ------------------------------------------------------------------ */

static void
test_basic_file (void **state)
{
  (void) state;
  const char *path = tmp_path ("basic.vtt");
  char *error = NULL;
  VlmVtt *v = vlm_vtt_open (path, &error);
  assert_non_null (v);
  assert_null (error);
  assert_null (vlm_vtt_error (v));
  assert_true (vlm_vtt_add_cue (v, 0, 3 * S, "A kitchen table."));
  assert_true (vlm_vtt_add_cue (v, 3 * S + 250 * MS, 7 * S,
          "Two chairs.\nA window."));
  assert_true (vlm_vtt_close (v, &error));
  assert_null (error);
  char *text = read_back (path);
  assert_string_equal (text,
      "WEBVTT\n\n"
      "1\n00:00:00.000 --> 00:00:03.000\nA kitchen table.\n\n"
      "2\n00:00:03.250 --> 00:00:07.000\nTwo chairs.\nA window.\n\n");
  free (text);
  assert_int_equal (validate_file (path), 2);
}

static void
test_empty_file (void **state)
{
  (void) state;
  const char *path = tmp_path ("empty.vtt");
  VlmVtt *v = vlm_vtt_open (path, NULL);
  assert_non_null (v);
  assert_true (vlm_vtt_close (v, NULL));
  char *text = read_back (path);
  assert_string_equal (text, "WEBVTT\n\n");
  free (text);
}

/* The file is written as cues come (a crash loses nothing written). */
static void
test_written_per_cue (void **state)
{
  (void) state;
  const char *path = tmp_path ("live.vtt");
  VlmVtt *v = vlm_vtt_open (path, NULL);
  assert_non_null (v);
  assert_true (vlm_vtt_add_cue (v, S, 2 * S, "Now."));
  char *text = read_back (path);
  assert_string_equal (text, "WEBVTT\n\n1\n00:00:01.000 --> 00:00:02.000\n"
      "Now.\n\n");
  free (text);
  assert_true (vlm_vtt_close (v, NULL));
}

static char *
one_cue_text (const char *name, const char *text)
{
  const char *path = tmp_path (name);
  VlmVtt *v = vlm_vtt_open (path, NULL);
  assert_non_null (v);
  assert_true (vlm_vtt_add_cue (v, 0, S, text));
  assert_true (vlm_vtt_close (v, NULL));
  assert_int_equal (validate_file (path), 1);
  char *all = read_back (path);
  static const char head[] = "WEBVTT\n\n1\n00:00:00.000 --> 00:00:01.000\n";
  assert_int_equal (strncmp (all, head, sizeof head - 1), 0);
  char *payload = strdup (all + sizeof head - 1);
  free (all);
  return payload;
}

static void
test_escaping (void **state)
{
  (void) state;
  char *t = one_cue_text ("escape.vtt", "a < b & c > d");
  assert_string_equal (t, "a &lt; b &amp; c &gt; d\n\n");
  free (t);
  t = one_cue_text ("arrow.vtt", "left --> right");
  assert_string_equal (t, "left --&gt; right\n\n");
  free (t);
  t = one_cue_text ("entity.vtt", "&amp; <b>bold</b>");
  assert_string_equal (t, "&amp;amp; &lt;b&gt;bold&lt;/b&gt;\n\n");
  free (t);
}

static void
test_blank_lines_removed (void **state)
{
  (void) state;
  char *t = one_cue_text ("blank.vtt",
      "\nline one\n\nline two\r\n\r\n  \t \nline three\rline four\n\n");
  assert_string_equal (t, "line one\nline two\nline three\nline four\n\n");
  free (t);
  /* nothing but blank lines: a cue without text (valid WebVTT) */
  t = one_cue_text ("allblank.vtt", "\n \r\n\t\n");
  assert_string_equal (t, "\n");
  free (t);
}

static void
test_invalid_utf8 (void **state)
{
  (void) state;
  /* a stray byte, an overlong '/', a surrogate, a cut sequence at the end;
   * valid multi-byte text stays */
  char *t = one_cue_text ("utf8.vtt",
      "a\xff" "b \xc0\xaf \xed\xa0\x80 caf\xc3\xa9 \xe2\x82");
  assert_string_equal (t, "a\xef\xbf\xbd" "b \xef\xbf\xbd\xef\xbf\xbd "
      "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd caf\xc3\xa9 \xef\xbf\xbd\n\n");
  free (t);
}

/* A cue starting before the previous one is refused (and written nowhere);
 * the file goes on. Equal starts are fine. */
static void
test_order_error (void **state)
{
  (void) state;
  const char *path = tmp_path ("order.vtt");
  VlmVtt *v = vlm_vtt_open (path, NULL);
  assert_non_null (v);
  assert_true (vlm_vtt_add_cue (v, 5 * S, 6 * S, "First."));
  assert_false (vlm_vtt_add_cue (v, 3 * S, 4 * S, "Earlier."));
  assert_non_null (vlm_vtt_error (v));
  assert_non_null (strstr (vlm_vtt_error (v), "00:00:03.000"));
  assert_true (vlm_vtt_add_cue (v, 5 * S, 7 * S, "Same start."));
  assert_true (vlm_vtt_close (v, NULL));    /* not a write error */
  char *text = read_back (path);
  assert_null (strstr (text, "Earlier"));
  assert_non_null (strstr (text, "\n2\n00:00:05.000 --> 00:00:07.000\n"
          "Same start.\n"));
  free (text);
  assert_int_equal (validate_file (path), 2);
}

/* An end not after the start becomes start + 1 ms. */
static void
test_end_raised (void **state)
{
  (void) state;
  const char *path = tmp_path ("end.vtt");
  VlmVtt *v = vlm_vtt_open (path, NULL);
  assert_non_null (v);
  assert_true (vlm_vtt_add_cue (v, 2 * S, 1 * S, "Before."));
  assert_true (vlm_vtt_add_cue (v, 3 * S, 3 * S, "Same."));
  /* after the start in ns, the same once rounded down to ms */
  assert_true (vlm_vtt_add_cue (v, 4 * S + 100, 4 * S + 900, "Sub-ms."));
  assert_true (vlm_vtt_close (v, NULL));
  char *text = read_back (path);
  assert_non_null (strstr (text, "00:00:02.000 --> 00:00:02.001\n"));
  assert_non_null (strstr (text, "00:00:03.000 --> 00:00:03.001\n"));
  assert_non_null (strstr (text, "00:00:04.000 --> 00:00:04.001\n"));
  free (text);
  assert_int_equal (validate_file (path), 3);
}

static void
test_long_times (void **state)
{
  (void) state;
  const char *path = tmp_path ("long.vtt");
  VlmVtt *v = vlm_vtt_open (path, NULL);
  assert_non_null (v);
  assert_true (vlm_vtt_add_cue (v, 99 * 3600 * S + 3599 * S,
          100 * 3600 * S + 1 * S, "Late."));
  assert_true (vlm_vtt_add_cue (v, 123 * 3600 * S, 123 * 3600 * S + S,
          "Later."));
  assert_true (vlm_vtt_close (v, NULL));
  char *text = read_back (path);
  assert_non_null (strstr (text, "99:59:59.000 --> 100:00:01.000\n"));
  assert_non_null (strstr (text, "123:00:00.000 --> 123:00:01.000\n"));
  free (text);
  assert_int_equal (validate_file (path), 2);
}

static void
test_errors_of_arguments (void **state)
{
  (void) state;
  char *error = NULL;
  assert_true (vlm_vtt_close (NULL, &error));
  assert_null (error);
  assert_null (vlm_vtt_error (NULL));
  assert_false (vlm_vtt_add_cue (NULL, 0, S, "x"));
  const char *path = tmp_path ("null.vtt");
  VlmVtt *v = vlm_vtt_open (path, NULL);
  assert_non_null (v);
  assert_false (vlm_vtt_add_cue (v, 0, S, NULL));
  assert_non_null (vlm_vtt_error (v));
  assert_true (vlm_vtt_close (v, NULL));
}

/* ------------------------------------------------------------------ */
/* Write errors                                                         */
/* ------------------------------------------------------------------ */

static void
test_open_error (void **state)
{
  (void) state;
  char path[600];
  snprintf (path, sizeof path, "%s/no-such-dir/x.vtt", tmpdir);
  char *error = NULL;
  assert_null (vlm_vtt_open (path, &error));
  assert_non_null (error);
  assert_non_null (strstr (error, path));
  free (error);
  assert_null (vlm_vtt_open (path, NULL));
}

/* /dev/full: the header cannot be written, open says so. */
static void
test_dev_full (void **state)
{
  (void) state;
  if (access ("/dev/full", W_OK) != 0)
    skip ();
  char *error = NULL;
  VlmVtt *v = vlm_vtt_open ("/dev/full", &error);
  assert_null (v);
  assert_non_null (error);
  assert_non_null (strstr (error, "/dev/full"));
  assert_non_null (strstr (error, strerror (ENOSPC)));
  free (error);
}

/* A write failing in the middle (file size limit): the cue that hits it
 * fails, so do later ones, and close reports it. */
static void
test_write_error_mid_file (void **state)
{
  (void) state;
  const char *path = tmp_path ("limit.vtt");
  VlmVtt *v = vlm_vtt_open (path, NULL);
  assert_non_null (v);
  struct rlimit old;
  assert_int_equal (getrlimit (RLIMIT_FSIZE, &old), 0);
  void (*old_handler) (int) = signal (SIGXFSZ, SIG_IGN);
  struct rlimit lim = old;
  lim.rlim_cur = 200;
  assert_int_equal (setrlimit (RLIMIT_FSIZE, &lim), 0);
  int ok = 0;
  bool failed = false;
  for (int i = 0; i < 20 && !failed; i++) {
    if (vlm_vtt_add_cue (v, (uint64_t) i * S, (uint64_t) (i + 1) * S,
            "A caption of some forty bytes in length."))
      ok++;
    else
      failed = true;
  }
  bool later = vlm_vtt_add_cue (v, 30 * S, 31 * S, "After.");
  char *error = NULL;
  bool closed = vlm_vtt_close (v, &error);
  setrlimit (RLIMIT_FSIZE, &old);
  signal (SIGXFSZ, old_handler);
  assert_true (failed);
  assert_true (ok >= 1 && ok < 5);
  assert_false (later);
  assert_false (closed);
  assert_non_null (error);
  assert_non_null (strstr (error, path));
  print_message ("  %s\n", error);
  free (error);
}

/* ------------------------------------------------------------------ */
/* Random text                                                          */
/* ------------------------------------------------------------------ */

/* Many cues of random bytes (line breaks, "-->", markup, invalid UTF-8)
 * make a valid file. */
static void
test_random_text_valid (void **state)
{
  (void) state;
  static const char *const pieces[] = {
    "a", "B", " ", "\n", "\n\n", "\r\n", "\r", "-->", "--", ">", "<", "&",
    "&amp;", "\t", "\xff", "\xc3", "\xc3\xa9", "\xe2\x80\xa6", "\xf0\x9f\x98\x80",
    "\xed\xa0\x80", "\x01", "\x7f", "1", "WEBVTT", "00:00:01.000 --> x", ".",
  };
  const size_t n_pieces = sizeof pieces / sizeof pieces[0];
  const char *path = tmp_path ("random.vtt");
  VlmVtt *v = vlm_vtt_open (path, NULL);
  assert_non_null (v);
  uint32_t seed = 12345;
  uint64_t t = 0;
  int cues = 0;
  for (int i = 0; i < 300; i++) {
    char text[512];

    tu_random_text (text, sizeof text, pieces, n_pieces, 24, &seed);
    seed = seed * 1664525u + 1013904223u;
    t += (seed >> 16) % 3 == 0 ? 0 : (uint64_t) ((seed >> 8) % 5000) * MS;
    if (i == 150)
      t += 100 * 3600 * S;      /* past 99 hours */
    uint64_t end = t + (uint64_t) ((seed >> 4) % 3000) * MS;
    assert_true (vlm_vtt_add_cue (v, t, end, text));
    cues++;
  }
  assert_true (vlm_vtt_close (v, NULL));
  assert_int_equal (validate_file (path), cues);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_validator_rejects),
    cmocka_unit_test (test_format_time),
    cmocka_unit_test (test_basic_file),
    cmocka_unit_test (test_empty_file),
    cmocka_unit_test (test_written_per_cue),
    cmocka_unit_test (test_escaping),
    cmocka_unit_test (test_blank_lines_removed),
    cmocka_unit_test (test_invalid_utf8),
    cmocka_unit_test (test_order_error),
    cmocka_unit_test (test_end_raised),
    cmocka_unit_test (test_long_times),
    cmocka_unit_test (test_errors_of_arguments),
    cmocka_unit_test (test_open_error),
    cmocka_unit_test (test_dev_full),
    cmocka_unit_test (test_write_error_mid_file),
    cmocka_unit_test (test_random_text_valid),
  };
  return cmocka_run_group_tests (tests, group_setup, group_teardown);
}

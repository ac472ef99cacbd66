/* Tests of the thermal policy on a fake sysfs tree. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "test-util.h"

#include "vlmthermal.h"

static char root[256];

/* ------------------------------------------------------------------ */
/* Fake sysfs                                                          */
/* ------------------------------------------------------------------ */

static void
write_file (const char *zone, const char *file, const char *text)
{
  char path[512];
  snprintf (path, sizeof (path), "%s/%s", root, zone);
  mkdir (path, 0755);
  snprintf (path, sizeof (path), "%s/%s/%s", root, zone, file);
  FILE *f = fopen (path, "w");
  assert_non_null (f);
  fputs (text, f);
  fclose (f);
}

static void
set_zone (const char *zone, const char *type, double celsius)
{
  char buf[32];
  write_file (zone, "type", type);
  snprintf (buf, sizeof (buf), "%ld\n", (long) (celsius * 1000));
  write_file (zone, "temp", buf);
}

static int
setup (void **state)
{
  if (tu_tmpdir_new (root, sizeof (root), "vlm-thermal") == NULL)
    return -1;
  set_zone ("thermal_zone0", "acpitz\n", 45);
  set_zone ("thermal_zone1", "x86_pkg_temp\n", 60);
  set_zone ("thermal_zone2", "iwlwifi_1\n", 80);
  return 0;
}

static int
teardown (void **state)
{
  return tu_tmpdir_remove (root);
}

static VlmThermal *
open_zone (const char *zone)
{
  VlmThermalParams p = vlm_thermal_params_default ();
  p.sysfs_root = root;
  p.zone = zone;
  VlmThermal *t = vlm_thermal_new (&p);
  assert_non_null (t);
  return t;
}

/* ------------------------------------------------------------------ */
/* Zone choice                                                         */
/* ------------------------------------------------------------------ */

static void
test_auto_picks_hottest_cpu_zone (void **state)
{
  /* the Wi-Fi zone is hotter, but the package zone is the CPU */
  VlmThermal *t = open_zone (NULL);
  assert_non_null (strstr (vlm_thermal_zone (t), "thermal_zone1/temp"));
  double c;
  assert_int_equal (vlm_thermal_update (t, &c, NULL), VLM_THERMAL_NORMAL);
  assert_float_equal (c, 60.0, 1e-9);
  vlm_thermal_free (t);
}

static void
test_zone_by_type_dir_and_path (void **state)
{
  VlmThermal *t = open_zone ("iwlwifi_1");
  assert_non_null (strstr (vlm_thermal_zone (t), "thermal_zone2"));
  vlm_thermal_free (t);
  t = open_zone ("thermal_zone0");
  assert_non_null (strstr (vlm_thermal_zone (t), "thermal_zone0"));
  vlm_thermal_free (t);
  char path[512];
  snprintf (path, sizeof (path), "%s/thermal_zone2", root);
  t = open_zone (path);
  double c;
  vlm_thermal_update (t, &c, NULL);
  assert_float_equal (c, 80.0, 1e-9);
  vlm_thermal_free (t);
}

static void
test_missing_sensor (void **state)
{
  VlmThermalParams p = vlm_thermal_params_default ();
  p.sysfs_root = "/nonexistent/thermal";
  VlmThermal *t = vlm_thermal_new (&p);
  assert_non_null (t);
  double c, f;
  assert_int_equal (vlm_thermal_update (t, &c, &f), VLM_THERMAL_NO_SENSOR);
  assert_true (isnan (c));
  assert_float_equal (f, 1.0, 0);
  assert_null (vlm_thermal_zone (t));
  vlm_thermal_free (t);
  t = open_zone ("no_such_zone");
  assert_int_equal (vlm_thermal_state (t), VLM_THERMAL_NO_SENSOR);
  vlm_thermal_free (t);
}

static void
test_bad_params_rejected (void **state)
{
  VlmThermalParams p = vlm_thermal_params_default ();
  p.resume_temp = 90;
  assert_null (vlm_thermal_new (&p));
  p = vlm_thermal_params_default ();
  p.throttle_temp = 85;
  assert_null (vlm_thermal_new (&p));
}

/* ------------------------------------------------------------------ */
/* Policy                                                              */
/* ------------------------------------------------------------------ */

static VlmThermalState
at (VlmThermal * t, double celsius, double *factor)
{
  set_zone ("thermal_zone1", "x86_pkg_temp\n", celsius);
  return vlm_thermal_update (t, NULL, factor);
}

static void
test_throttle_is_smooth (void **state)
{
  VlmThermal *t = open_zone (NULL);
  double f, prev = 1.0;
  assert_int_equal (at (t, 69.9, &f), VLM_THERMAL_NORMAL);
  assert_float_equal (f, 1.0, 0);
  for (double c = 70; c < 85; c += 1.5) {
    assert_int_equal (at (t, c, &f), VLM_THERMAL_THROTTLED);
    assert_true (f <= prev && f > 0);
    prev = f;
  }
  assert_int_equal (at (t, 77.5, &f), VLM_THERMAL_THROTTLED);
  assert_float_equal (f, 0.5, 1e-9);
  vlm_thermal_free (t);
}

static void
test_pause_with_hysteresis (void **state)
{
  VlmThermal *t = open_zone (NULL);
  double f;
  assert_int_equal (at (t, 85, &f), VLM_THERMAL_PAUSED);
  assert_float_equal (f, 0.0, 0);
  /* cooling, but not below resume_temp yet: still paused */
  assert_int_equal (at (t, 80, &f), VLM_THERMAL_PAUSED);
  assert_int_equal (at (t, 75, &f), VLM_THERMAL_PAUSED);
  assert_int_equal (at (t, 74.9, &f), VLM_THERMAL_THROTTLED);
  assert_true (f > 0);
  assert_int_equal (at (t, 60, &f), VLM_THERMAL_NORMAL);
  vlm_thermal_free (t);
}

static void
test_sensor_vanishes_and_garbage (void **state)
{
  VlmThermal *t = open_zone (NULL);
  assert_int_equal (at (t, 60, NULL), VLM_THERMAL_NORMAL);
  write_file ("thermal_zone1", "temp", "not a number\n");
  double f;
  assert_int_equal (vlm_thermal_update (t, NULL, &f), VLM_THERMAL_NO_SENSOR);
  assert_float_equal (f, 1.0, 0);
  char path[512];
  snprintf (path, sizeof (path), "%s/thermal_zone1/temp", root);
  unlink (path);
  assert_int_equal (vlm_thermal_update (t, NULL, NULL),
      VLM_THERMAL_NO_SENSOR);
  assert_null (vlm_thermal_zone (t));
  /* it comes back */
  assert_int_equal (at (t, 72, NULL), VLM_THERMAL_THROTTLED);
  vlm_thermal_free (t);
}

static void
test_state_names (void **state)
{
  assert_string_equal (vlm_thermal_state_name (VLM_THERMAL_PAUSED), "paused");
  assert_string_equal (vlm_thermal_state_name (VLM_THERMAL_NO_SENSOR),
      "no-sensor");
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_auto_picks_hottest_cpu_zone, setup,
        teardown),
    cmocka_unit_test_setup_teardown (test_zone_by_type_dir_and_path, setup,
        teardown),
    cmocka_unit_test_setup_teardown (test_missing_sensor, setup, teardown),
    cmocka_unit_test (test_bad_params_rejected),
    cmocka_unit_test_setup_teardown (test_throttle_is_smooth, setup,
        teardown),
    cmocka_unit_test_setup_teardown (test_pause_with_hysteresis, setup,
        teardown),
    cmocka_unit_test_setup_teardown (test_sensor_vanishes_and_garbage, setup,
        teardown),
    cmocka_unit_test (test_state_names),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}

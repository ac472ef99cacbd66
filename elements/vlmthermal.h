/* gst-vlm — thermal cool-down policy for handhelds (no GStreamer inside).
 *
 * Reads a zone of the kernel's thermal sysfs
 * (ROOT/thermal_zoneN/{type,temp}, temp in millidegrees Celsius) and turns
 * its temperature into a rate factor for the describer:
 *   temp <  throttle_temp                 NORMAL     factor 1
 *   throttle_temp <= temp < cooldown_temp THROTTLED  factor falls smoothly
 *                                                    from 1 towards 0
 *   temp >= cooldown_temp                 PAUSED     factor 0, and it stays
 *                                                    PAUSED until temp <
 *                                                    resume_temp (hysteresis)
 * With no usable sensor the state is NO_SENSOR and the factor 1.
 *
 * Thread safety: a VlmThermal is used by one thread at a time.
 */
#ifndef VLM_THERMAL_H
#define VLM_THERMAL_H

#include <stdbool.h>

typedef struct VlmThermal VlmThermal;

typedef enum {
  VLM_THERMAL_NO_SENSOR = 0,
  VLM_THERMAL_NORMAL,
  VLM_THERMAL_THROTTLED,
  VLM_THERMAL_PAUSED,
} VlmThermalState;

typedef struct {
  const char *sysfs_root;   /* NULL: "/sys/class/thermal" */
  const char *zone;         /* zone type name ("x86_pkg_temp"), zone
                               directory name ("thermal_zone3") or path to
                               a temp file; NULL: the hottest CPU-like zone
                               (type containing cpu, pkg, soc, core,
                               k10temp, acpitz; else the hottest zone) */
  double throttle_temp;     /* degrees C */
  double cooldown_temp;     /* degrees C, > throttle_temp */
  double resume_temp;       /* degrees C, < cooldown_temp */
} VlmThermalParams;

/* Defaults: sysfs root and zone automatic, throttle 70, cool-down 85,
 * resume 75 degrees C. */
VlmThermalParams vlm_thermal_params_default (void);

/* Finds the zone. Never fails for a missing sensor (the state is then
 * NO_SENSOR and vlm_thermal_zone() is NULL); returns NULL only when out of
 * memory or the temperatures are not ordered (resume < cooldown,
 * throttle < cooldown). The strings in params are copied.
 * Ownership: free with vlm_thermal_free. */
VlmThermal *vlm_thermal_new (const VlmThermalParams *params);
void vlm_thermal_free (VlmThermal *t);

/* Reads the sensor now and applies the policy. Returns the new state;
 * *temp_c (if non-NULL) gets the temperature (NaN without a sensor) and
 * *factor (if non-NULL) the rate factor in [0, 1]. A sensor that stops
 * being readable turns the state to NO_SENSOR. */
VlmThermalState vlm_thermal_update (VlmThermal *t, double *temp_c,
    double *factor);

/* Last state, without reading the sensor. */
VlmThermalState vlm_thermal_state (const VlmThermal *t);

/* Path of the temp file in use, or NULL without a sensor. */
const char *vlm_thermal_zone (const VlmThermal *t);

/* "normal", "throttled", "paused", "no-sensor". */
const char *vlm_thermal_state_name (VlmThermalState s);

#endif /* VLM_THERMAL_H */

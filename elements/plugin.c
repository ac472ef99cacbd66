/* gst-vlm — the `vlm` plugin: registers the project's elements. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/gst.h>

#include "gstvlmcamerasrc.h"
#include "gstvlmdescribe.h"
#ifdef HAVE_VLMOVERLAY
#include "gstvlmoverlay.h"
#endif
#ifdef HAVE_GL
#include "gstvlmresize.h"
#endif

static gboolean
plugin_init (GstPlugin * plugin)
{
  gboolean ret = FALSE;

  ret |= GST_ELEMENT_REGISTER (vlmcamerasrc, plugin);
  ret |= GST_ELEMENT_REGISTER (vlmdescribe, plugin);
#ifdef HAVE_VLMOVERLAY
  ret |= GST_ELEMENT_REGISTER (vlmoverlay, plugin);
#endif
#ifdef HAVE_GL
  ret |= GST_ELEMENT_REGISTER (vlmresize, plugin);
#endif

  return ret;
}

GST_PLUGIN_DEFINE (GST_VERSION_MAJOR, GST_VERSION_MINOR, vlm,
    "Offline scene description with a vision-language model",
    plugin_init, VERSION, GST_LICENSE, GST_PACKAGE_NAME, GST_PACKAGE_ORIGIN)

/* gst-vlm — vlm-scanner: command-line options and the configuration they
 * make.
 *
 *   ScannerOptions o;
 *   if (scanner_options_parse (&o, argc, argv, err, sizeof err) != 0) -> exit 2
 *   VlmConfig *c = scanner_options_config (&o, &error);   // NULL -> exit 2
 *
 * The configuration is built in this order, later wins: the defaults, the
 * config file (--config FILE, else the default file when it exists), each
 * --set in order, then --model, --mmproj, --input, --camera,
 * --test-pattern.
 */
#ifndef SCANNER_OPTIONS_H
#define SCANNER_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>

#include "vlmconfig.h"

#define SCANNER_EXIT_OK 0
#define SCANNER_EXIT_RUNTIME 1          /* the pipeline or a device failed */
#define SCANNER_EXIT_USAGE 2            /* bad options or configuration */

typedef struct {
  char *config_path;            /* --config */
  char **sets;                  /* --set, in order */
  int n_sets;
  char *model, *mmproj;         /* --model, --mmproj */
  char *input;                  /* --input FILE_OR_URI */
  char *camera;                 /* --camera NAME */
  bool test_pattern;            /* --test-pattern */
  bool headless;                /* --headless */
  char *output;                 /* --output captions.vtt */
  bool no_speech;               /* --no-speech */
  bool fullscreen;              /* --fullscreen */
  bool realtime;                /* --realtime: files at their frame rate */
  bool print_config;            /* --print-config */
  char *screenshot;             /* --screenshot FILE.png */
  bool quit_after_screenshot;   /* --quit-after-screenshot */
  unsigned max_captions;        /* --max-captions N; 0 = no limit */
  bool list_cameras;            /* --list-cameras */
  bool verbose;                 /* --verbose */
  bool help;                    /* --help */
} ScannerOptions;

/* Parses argv (argv[0] is the program). Returns 0, or SCANNER_EXIT_USAGE
 * with a message in err. Accepts "--opt VALUE" and "--opt=VALUE". Free
 * with scanner_options_clear() in both cases. */
int scanner_options_parse (ScannerOptions * o, int argc, char **argv,
    char *err, size_t err_size);

void scanner_options_clear (ScannerOptions * o);

/* The configuration of the options (see above). NULL with err set on a
 * bad file, --set or value. */
VlmConfig *scanner_options_config (const ScannerOptions * o, GError ** err);

/* The --help text. */
const char *scanner_options_usage (void);

#endif /* SCANNER_OPTIONS_H */

/* Runs the fuzz target once per file named on the command line (a
 * directory stands for the files in it): the seed corpus and every crash
 * reproducer become an ordinary regression test, built with the normal
 * compiler (no libFuzzer needed). */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput (const uint8_t * data, size_t size);

static int
replay_file (const char *path)
{
  FILE *f = fopen (path, "rb");
  if (f == NULL) {
    perror (path);
    return 1;
  }
  uint8_t *data = NULL;
  size_t n = 0, cap = 0, got;
  do {
    if (n == cap) {
      cap = cap ? cap * 2 : 4096;
      uint8_t *p = realloc (data, cap);
      if (p == NULL) {
        free (data);
        fclose (f);
        return 1;
      }
      data = p;
    }
    got = fread (data + n, 1, cap - n, f);
    n += got;
  } while (got > 0);
  fclose (f);
  LLVMFuzzerTestOneInput (data, n);
  free (data);
  return 0;
}

static int n_replayed;

static int
replay_path (const char *path)
{
  struct stat st;
  if (stat (path, &st) != 0) {
    perror (path);
    return 1;
  }
  if (!S_ISDIR (st.st_mode)) {
    n_replayed++;
    return replay_file (path);
  }
  DIR *d = opendir (path);
  if (d == NULL) {
    perror (path);
    return 1;
  }
  int failed = 0;
  for (struct dirent *e; (e = readdir (d)) != NULL;) {
    if (e->d_name[0] == '.')
      continue;
    char sub[4096];
    snprintf (sub, sizeof (sub), "%s/%s", path, e->d_name);
    failed |= replay_path (sub);
  }
  closedir (d);
  return failed;
}

int
main (int argc, char **argv)
{
  int failed = 0;
  for (int i = 1; i < argc; i++)
    failed |= replay_path (argv[i]);
  printf ("replayed %d inputs\n", n_replayed);
  return failed || n_replayed == 0;
}

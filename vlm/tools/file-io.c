/* gst-vlm — whole-file reading for the command-line tools. */
#include "file-io.h"

#include <stdio.h>
#include <stdlib.h>

void *
vlm_tool_read_file (const char *path, size_t *len)
{
  FILE *f = fopen (path, "rb");
  char *data = NULL;
  long size;

  if (f == NULL)
    return NULL;
  if (fseek (f, 0, SEEK_END) == 0 && (size = ftell (f)) >= 0
      && fseek (f, 0, SEEK_SET) == 0
      && (data = malloc ((size_t) size + 1)) != NULL) {
    if (fread (data, 1, (size_t) size, f) == (size_t) size) {
      data[size] = '\0';
      if (len != NULL)
        *len = (size_t) size;
    } else {
      free (data);
      data = NULL;
    }
  }
  fclose (f);
  return data;
}

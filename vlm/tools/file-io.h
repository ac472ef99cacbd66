/* gst-vlm — whole-file reading for the command-line tools. */
#ifndef VLM_TOOLS_FILE_IO_H
#define VLM_TOOLS_FILE_IO_H

#include <stddef.h>

/* Reads the whole file at `path` into a malloc()ed buffer with a NUL byte
 * after the data, its length in *len (if non-NULL). NULL when the file
 * cannot be opened or read completely, or memory runs out. */
void *vlm_tool_read_file (const char *path, size_t *len);

#endif /* VLM_TOOLS_FILE_IO_H */

/* gst-vlm — cooperative cancellation inside the engine.
 *
 * Long computations (vision encode, decoder forward) check this between
 * transformer layers and stop early when it says so. */
#ifndef VLM_ABORT_H
#define VLM_ABORT_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
  bool (*fn) (void *user_data);   /* true: stop now */
  void *user_data;
} vlm_abort_check;

/* true when `a` is set and its function asks to stop. Cheap; reentrant. */
static inline bool
vlm_should_abort (const vlm_abort_check *a)
{
  return a != NULL && a->fn != NULL && a->fn (a->user_data);
}

#endif /* VLM_ABORT_H */

/* gst-vlm — a persistent pool of worker threads for data-parallel work.
 *
 * Threads are created once by vlm_pool_new and sleep between jobs; a job
 * is one function run as `nth` slices in parallel, the calling thread
 * taking slice 0. No thread is created per call.
 *
 * Thread safety: one job at a time per pool. vlm_pool_run must not be
 * called concurrently on the same pool, nor from inside a job.
 */
#ifndef VLM_THREADPOOL_H
#define VLM_THREADPOOL_H

#include <stdbool.h>

typedef struct vlm_pool vlm_pool;

/* One slice of a job: `ith` in [0, nth). */
typedef void (*vlm_pool_fn) (void *user_data, int ith, int nth);

/* Starts a pool that runs jobs on `n_threads` threads in total, the
 * caller included (n_threads - 1 workers are created; n_threads <= 0
 * picks the number of online CPUs). Returns NULL when threads cannot be
 * created. Ownership: free with vlm_pool_free. Reentrant. */
vlm_pool *vlm_pool_new (int n_threads);

/* Stops and joins the workers. NULL is allowed. No job may be running. */
void vlm_pool_free (vlm_pool *pool);

/* Number of slices a job is split into (1 for a NULL pool). */
int vlm_pool_n_threads (const vlm_pool *pool);

/* Runs fn(user_data, ith, nth) for every ith in [0, nth) and returns when
 * all slices are done (a full barrier: writes of every slice are visible
 * to the caller afterwards). A NULL pool runs fn(user_data, 0, 1). */
void vlm_pool_run (vlm_pool *pool, vlm_pool_fn fn, void *user_data);

#endif /* VLM_THREADPOOL_H */

/* gst-vlm — persistent thread pool (reference version: mutex + condvar).
 *
 * Lock order: pool->lock only; no other lock is taken while holding it.
 */
#include "threadpool.h"

#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

struct vlm_pool {
  int n_threads;
  pthread_t *workers;
  pthread_mutex_t lock;
  pthread_cond_t wake;      /* a new job or stop */
  pthread_cond_t done;      /* the last slice of a job finished */
  vlm_pool_fn fn;
  void *user_data;
  unsigned generation;      /* bumped per job */
  int pending;              /* worker slices not finished yet */
  bool stop;
};

typedef struct {
  vlm_pool *pool;
  int ith;
} worker_arg;

static void *
worker_main (void *p)
{
  worker_arg *a = p;
  vlm_pool *pool = a->pool;
  int ith = a->ith;
  free (a);
  unsigned seen = 0;
  pthread_mutex_lock (&pool->lock);
  for (;;) {
    while (!pool->stop && pool->generation == seen)
      pthread_cond_wait (&pool->wake, &pool->lock);
    if (pool->stop)
      break;
    seen = pool->generation;
    vlm_pool_fn fn = pool->fn;
    void *ud = pool->user_data;
    pthread_mutex_unlock (&pool->lock);
    fn (ud, ith, pool->n_threads);
    pthread_mutex_lock (&pool->lock);
    if (--pool->pending == 0)
      pthread_cond_signal (&pool->done);
  }
  pthread_mutex_unlock (&pool->lock);
  return NULL;
}

vlm_pool *
vlm_pool_new (int n_threads)
{
  if (n_threads <= 0) {
    long n = sysconf (_SC_NPROCESSORS_ONLN);
    n_threads = n > 0 ? (int) n : 1;
  }
  vlm_pool *pool = calloc (1, sizeof (vlm_pool));
  if (pool == NULL)
    return NULL;
  pool->n_threads = n_threads;
  pthread_mutex_init (&pool->lock, NULL);
  pthread_cond_init (&pool->wake, NULL);
  pthread_cond_init (&pool->done, NULL);
  pool->workers = calloc (n_threads, sizeof (pthread_t));
  if (pool->workers == NULL) {
    vlm_pool_free (pool);
    return NULL;
  }
  for (int i = 1; i < n_threads; i++) {
    worker_arg *a = malloc (sizeof (worker_arg));
    if (a == NULL) {
      pool->n_threads = i;
      vlm_pool_free (pool);
      return NULL;
    }
    *a = (worker_arg) { pool, i };
    if (pthread_create (&pool->workers[i], NULL, worker_main, a) != 0) {
      free (a);
      pool->n_threads = i;
      vlm_pool_free (pool);
      return NULL;
    }
  }
  return pool;
}

void
vlm_pool_free (vlm_pool * pool)
{
  if (pool == NULL)
    return;
  pthread_mutex_lock (&pool->lock);
  pool->stop = true;
  pthread_cond_broadcast (&pool->wake);
  pthread_mutex_unlock (&pool->lock);
  for (int i = 1; i < pool->n_threads && pool->workers; i++)
    pthread_join (pool->workers[i], NULL);
  pthread_cond_destroy (&pool->wake);
  pthread_cond_destroy (&pool->done);
  pthread_mutex_destroy (&pool->lock);
  free (pool->workers);
  free (pool);
}

int
vlm_pool_n_threads (const vlm_pool * pool)
{
  return pool ? pool->n_threads : 1;
}

void
vlm_pool_run (vlm_pool * pool, vlm_pool_fn fn, void *user_data)
{
  if (pool == NULL || pool->n_threads == 1) {
    fn (user_data, 0, 1);
    return;
  }
  pthread_mutex_lock (&pool->lock);
  pool->fn = fn;
  pool->user_data = user_data;
  pool->pending = pool->n_threads - 1;
  pool->generation++;
  pthread_cond_broadcast (&pool->wake);
  pthread_mutex_unlock (&pool->lock);

  fn (user_data, 0, pool->n_threads);

  pthread_mutex_lock (&pool->lock);
  while (pool->pending > 0)
    pthread_cond_wait (&pool->done, &pool->lock);
  pthread_mutex_unlock (&pool->lock);
}

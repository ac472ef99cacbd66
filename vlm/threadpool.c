/* gst-vlm — persistent thread pool with spin-then-sleep workers.
 *
 * A job is published by storing fn/user_data and then bumping
 * `generation` with release order; workers that see the new generation
 * (acquire) run their slice and count `pending` down. Both sides first
 * spin for a bounded time (SPIN_NS) with a CPU pause hint, then sleep on
 * a futex, so back-to-back jobs cost a few hundred nanoseconds while an
 * idle pool burns no CPU.
 *
 * Lost wake-ups are excluded by a Dekker pair of sequentially consistent
 * operations: a sleeper announces itself (`sleepers`, `caller_sleeps`)
 * and re-reads the word it waits on; the waker changes that word and
 * then reads the announcement. At least one of them sees the other, and
 * the futex itself re-checks the value in the kernel.
 *
 * Slicing is fixed: worker thread i always runs slice i, the caller
 * slice 0.
 */
#include "threadpool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#if defined(__linux__)
#include <linux/futex.h>
#include <sys/syscall.h>
#endif

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

/* How long a thread spins on a word before it sleeps. */
#define SPIN_NS 50000

#define CACHE_LINE 64

struct vlm_pool {
  /* written by the caller per job, read by workers */
  _Alignas (CACHE_LINE) atomic_uint generation;
  atomic_int sleepers;          /* workers (about to be) asleep */
  vlm_pool_fn fn;
  void *user_data;
  atomic_bool stop;
  /* written by workers */
  _Alignas (CACHE_LINE) atomic_int pending;
  atomic_bool caller_sleeps;
  /* constant after creation */
  _Alignas (CACHE_LINE) int n_threads;
  int n_started;                /* workers created (n_threads - 1) */
  pthread_t *workers;
};

typedef struct {
  vlm_pool *pool;
  int ith;
} worker_arg;

/* ------------------------------------------------------------------ */
/* Waiting primitives                                                  */
/* ------------------------------------------------------------------ */

static inline void
cpu_relax (void)
{
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause ();
#elif defined(__aarch64__)
  __asm__ __volatile__ ("yield" ::: "memory");
#endif
}

static int64_t
now_ns (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Sleeps while *word == val (spurious returns are fine). */
static void
word_wait (void *word, int val)
{
#if defined(__linux__)
  syscall (SYS_futex, word, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
#else
  (void) word;
  (void) val;
  struct timespec ts = { 0, 50000 };
  nanosleep (&ts, NULL);
#endif
}

/* Wakes every thread sleeping in word_wait on `word`. */
static void
word_wake_all (void *word)
{
#if defined(__linux__)
  syscall (SYS_futex, word, FUTEX_WAKE_PRIVATE, INT32_MAX, NULL, NULL, 0);
#else
  (void) word;
#endif
}

/* Spins until the generation differs from `seen`; false on time-out. */
static bool
spin_for_job (vlm_pool *pool, unsigned seen)
{
  int64_t deadline = 0;

  for (unsigned i = 1;; i++) {
    if (atomic_load_explicit (&pool->generation, memory_order_acquire)
        != seen)
      return true;
    cpu_relax ();
    if ((i & 255) == 0) {
      int64_t t = now_ns ();
      if (deadline == 0)
        deadline = t + SPIN_NS;
      else if (t > deadline)
        return false;
    }
  }
}

/* Returns the generation of the next job (or of the stop request). */
static unsigned
wait_for_job (vlm_pool *pool, unsigned seen)
{
  while (!spin_for_job (pool, seen)) {
    atomic_fetch_add (&pool->sleepers, 1);
    if (atomic_load (&pool->generation) == seen)
      word_wait (&pool->generation, (int) seen);
    atomic_fetch_sub (&pool->sleepers, 1);
  }
  return atomic_load_explicit (&pool->generation, memory_order_acquire);
}

/* ------------------------------------------------------------------ */
/* Workers                                                             */
/* ------------------------------------------------------------------ */

static void *
worker_main (void *p)
{
  worker_arg *a = p;
  vlm_pool *pool = a->pool;
  int ith = a->ith;
  unsigned seen = 0;

  free (a);
  for (;;) {
    seen = wait_for_job (pool, seen);
    if (atomic_load_explicit (&pool->stop, memory_order_acquire))
      break;
    pool->fn (pool->user_data, ith, pool->n_threads);
    /* the last one out wakes a sleeping caller */
    if (atomic_fetch_sub (&pool->pending, 1) == 1
        && atomic_load (&pool->caller_sleeps))
      word_wake_all (&pool->pending);
  }
  return NULL;
}

/* Publishes a new generation and wakes sleeping workers. */
static void
publish (vlm_pool *pool)
{
  atomic_fetch_add (&pool->generation, 1);
  if (atomic_load (&pool->sleepers) > 0)
    word_wake_all (&pool->generation);
}

/* Waits until every worker slice of the current job has finished. */
static void
wait_done (vlm_pool *pool)
{
  int64_t deadline = 0;

  for (unsigned i = 1;
      atomic_load_explicit (&pool->pending, memory_order_acquire) != 0; i++) {
    cpu_relax ();
    if ((i & 255) != 0)
      continue;
    int64_t t = now_ns ();
    if (deadline == 0) {
      deadline = t + SPIN_NS;
      continue;
    }
    if (t < deadline)
      continue;
    atomic_store (&pool->caller_sleeps, true);
    int v = atomic_load (&pool->pending);
    if (v != 0)
      word_wait (&pool->pending, v);
    atomic_store (&pool->caller_sleeps, false);
  }
}

/* ------------------------------------------------------------------ */
/* Public API                                                          */
/* ------------------------------------------------------------------ */

vlm_pool *
vlm_pool_new (int n_threads)
{
  if (n_threads <= 0) {
    long n = sysconf (_SC_NPROCESSORS_ONLN);
    n_threads = n > 0 ? (int) n : 1;
  }
  vlm_pool *pool = aligned_alloc (CACHE_LINE,
      (sizeof (vlm_pool) + CACHE_LINE - 1) / CACHE_LINE * CACHE_LINE);
  if (pool == NULL)
    return NULL;
  atomic_init (&pool->generation, 0);
  atomic_init (&pool->sleepers, 0);
  atomic_init (&pool->stop, false);
  atomic_init (&pool->pending, 0);
  atomic_init (&pool->caller_sleeps, false);
  pool->fn = NULL;
  pool->user_data = NULL;
  pool->n_threads = n_threads;
  pool->n_started = 0;
  pool->workers = calloc ((size_t) n_threads, sizeof (pthread_t));
  if (pool->workers == NULL) {
    free (pool);
    return NULL;
  }
  for (int i = 1; i < n_threads; i++) {
    worker_arg *a = malloc (sizeof (worker_arg));
    if (a == NULL) {
      vlm_pool_free (pool);
      return NULL;
    }
    *a = (worker_arg) { pool, i };
    if (pthread_create (&pool->workers[i], NULL, worker_main, a) != 0) {
      free (a);
      vlm_pool_free (pool);
      return NULL;
    }
    pool->n_started = i;
  }
  return pool;
}

void
vlm_pool_free (vlm_pool *pool)
{
  if (pool == NULL)
    return;
  atomic_store_explicit (&pool->stop, true, memory_order_release);
  publish (pool);
  for (int i = 1; i <= pool->n_started; i++)
    pthread_join (pool->workers[i], NULL);
  free (pool->workers);
  free (pool);
}

int
vlm_pool_n_threads (const vlm_pool *pool)
{
  return pool ? pool->n_threads : 1;
}

void
vlm_pool_run (vlm_pool *pool, vlm_pool_fn fn, void *user_data)
{
  if (pool == NULL || pool->n_threads == 1) {
    fn (user_data, 0, 1);
    return;
  }
  pool->fn = fn;
  pool->user_data = user_data;
  atomic_store_explicit (&pool->pending, pool->n_threads - 1,
      memory_order_relaxed);
  publish (pool);
  fn (user_data, 0, pool->n_threads);
  wait_done (pool);
}

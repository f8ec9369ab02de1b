#include "rnnkit_kernels.h"
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>

// Two threads on one sequence: the caller and one helper thread kept for the whole process,
// which sleeps on a condition variable between jobs (it never spins while idle). Inside a job the
// two meet once per time step at a spin barrier, far cheaper than waking a thread per step.

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static int started = 0, busy = 0;
static _Atomic(rnnkit_part_function) pending_function = 0;
static void *pending_context = 0;
static _Atomic int helper_done = 1;

// About 30 µs of pauses (a time step at batch 1 is a few µs): past that the other thread is
// probably not running (a loaded machine), and this one gives its core away.
enum { SPINS_BEFORE_YIELDING = 1000 };

static inline void relax(void) {
#if defined(__x86_64__)
    __builtin_ia32_pause();
#endif
}

// After a job the helper watches for the next one for about 150 µs before it sleeps: the next
// layer of the same prediction comes within microseconds, and waking a sleeping thread on
// another core costs tens of microseconds on a virtual machine.
enum { LINGERING_SPINS = 5000 };

static void *helper_main(void *unused) {
    (void)unused;
    for (;;) {
        for (long spins = 0; spins < LINGERING_SPINS && !atomic_load_explicit(&pending_function, memory_order_acquire);
             spins++)
            relax();
        pthread_mutex_lock(&lock);
        while (!atomic_load_explicit(&pending_function, memory_order_relaxed)) pthread_cond_wait(&wake, &lock);
        rnnkit_part_function function = atomic_load_explicit(&pending_function, memory_order_relaxed);
        void *context = pending_context;
        atomic_store_explicit(&pending_function, 0, memory_order_relaxed);
        pthread_mutex_unlock(&lock);
        function(context, 1);
        atomic_store_explicit(&helper_done, 1, memory_order_release);
    }
    return 0;
}

// Spins, then yields the core: on a loaded machine the other thread may not be running.
static void wait_until_done(void) {
    for (long spins = 0; !atomic_load_explicit(&helper_done, memory_order_acquire); spins++) {
        if (spins < SPINS_BEFORE_YIELDING) relax();
        else sched_yield();
    }
}

int rnnkit_run_pair(rnnkit_part_function function, void *context) {
    pthread_mutex_lock(&lock);
    if (busy) {  // another pair is running (nested, or another thread's): the caller runs alone
        pthread_mutex_unlock(&lock);
        return 0;
    }
    if (!started) {
        pthread_t thread;
        pthread_attr_t attributes;
        pthread_attr_init(&attributes);
        pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
        pthread_attr_setstacksize(&attributes, 8 << 20);
        int failed = pthread_create(&thread, &attributes, helper_main, 0);
        pthread_attr_destroy(&attributes);
        if (failed) {
            pthread_mutex_unlock(&lock);
            return 0;
        }
        started = 1;
    }
    busy = 1;
    atomic_store_explicit(&helper_done, 0, memory_order_relaxed);
    pending_context = context;
    atomic_store_explicit(&pending_function, function, memory_order_release);
    pthread_cond_signal(&wake);
    pthread_mutex_unlock(&lock);
    function(context, 0);
    wait_until_done();
    pthread_mutex_lock(&lock);
    busy = 0;
    pthread_mutex_unlock(&lock);
    return 1;
}

// Each party counts the barriers it has reached on a cache line of its own, which only it
// writes, and waits until every other count has caught up: one line travels each way per meeting,
// where a shared counter bounced between the cores on every arrival and every spin.
struct party_count {
    _Alignas(64) _Atomic long passed;
};

struct rnnkit_barrier {
    long parties;
    struct party_count *counts;
};

rnnkit_barrier *rnnkit_barrier_create(long parties) {
    rnnkit_barrier *barrier = malloc(sizeof *barrier);
    struct party_count *counts = aligned_alloc(64, (size_t)parties * sizeof *counts);
    if (!barrier || !counts) abort();
    for (long part = 0; part < parties; part++) atomic_init(&counts[part].passed, 0);
    barrier->parties = parties;
    barrier->counts = counts;
    return barrier;
}

void rnnkit_barrier_destroy(rnnkit_barrier *barrier) {
    free(barrier->counts);
    free(barrier);
}

void rnnkit_barrier_wait(rnnkit_barrier *barrier, long part) {
    long reached = atomic_load_explicit(&barrier->counts[part].passed, memory_order_relaxed) + 1;
    atomic_store_explicit(&barrier->counts[part].passed, reached, memory_order_release);
    for (long other = 0; other < barrier->parties; other++) {
        if (other == part) continue;
        for (long spins = 0; atomic_load_explicit(&barrier->counts[other].passed, memory_order_acquire) < reached;
             spins++) {
            if (spins < SPINS_BEFORE_YIELDING) relax();
            else sched_yield();
        }
    }
}

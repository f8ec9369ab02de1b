/* The host's sustained read rate from one cache level into registers: each thread sums its own
 * buffer of KIB kibibytes with the widest vectors the compiler targets, over and over, and the best
 * of TRIALS timed trials counts (all threads start each trial together). A buffer bigger than L1
 * and well inside L2 (512 KiB) gives the L2 -> register rate that bounds a batch-1 recurrent step,
 * which streams the whole recurrent kernel from L2; one that fits L1 (16 KiB) gives L1's, for
 * contrast. The sums are live (stored where the compiler cannot see them unused) and floating-point
 * addition is not reassociated without -ffast-math, so every byte is loaded on every pass.
 * run_peers.py compiles it with `cc -O2 -march=native` (AVX-512 on a host that has it) and runs it to
 * state the batch-1 floor of reference_lstm.
 * Usage: cache_read_rate THREADS KIB; prints "GB/s (1e9 bytes/s, all threads together), vector bits". */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#if defined(__AVX512F__)
#define VECTOR_BYTES 64
#elif defined(__AVX__)
#define VECTOR_BYTES 32
#else
#define VECTOR_BYTES 16
#endif
typedef float vec __attribute__((vector_size(VECTOR_BYTES)));

/* 8 independent sums: more than add latency x throughput (3 x 2 on Zen 4), so the loads limit. */
#define SUMS 8
#define TRIALS 40
#define TRIAL_BYTES (256L << 20)  /* per thread: a few ms, short enough for some trial to go undisturbed */

static long buffer_vectors;        /* per thread, a multiple of SUMS */
static int threads;
static pthread_barrier_t barrier;
static double best_seconds = 1e30;
static volatile float sink;        /* keeps the sums live */

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static float sum_passes(const vec *data, long passes) {
    vec s0 = {0}, s1 = {0}, s2 = {0}, s3 = {0}, s4 = {0}, s5 = {0}, s6 = {0}, s7 = {0};
    for (long pass = 0; pass < passes; pass++) {
        __asm__ volatile("" : "+r"(data) : : "memory");  /* each pass reads the buffer anew */
        for (long i = 0; i < buffer_vectors; i += SUMS) {
            s0 += data[i]; s1 += data[i + 1]; s2 += data[i + 2]; s3 += data[i + 3];
            s4 += data[i + 4]; s5 += data[i + 5]; s6 += data[i + 6]; s7 += data[i + 7];
        }
    }
    vec s = ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7));
    float total = 0;
    for (int lane = 0; lane < VECTOR_BYTES / 4; lane++) total += s[lane];
    return total;
}

static void *run(void *argument) {
    long id = (long)argument;
    vec *data = aligned_alloc(64, buffer_vectors * sizeof(vec));
    if (!data) { perror("cache_read_rate"); exit(1); }
    float *values = (float *)data;
    for (long i = 0; i < buffer_vectors * (VECTOR_BYTES / 4); i++) values[i] = (float)(i % 7) * 0.25f;
    long passes = TRIAL_BYTES / (buffer_vectors * (long)sizeof(vec));
    if (passes < 1) passes = 1;
    float total = sum_passes(data, 1);  /* warm-up: brings the buffer into the cache */
    for (int trial = 0; trial < TRIALS; trial++) {
        double start = 0;
        pthread_barrier_wait(&barrier);
        if (id == 0) start = now();
        total += sum_passes(data, passes);
        pthread_barrier_wait(&barrier);
        if (id == 0) {
            double seconds = now() - start;
            if (seconds < best_seconds) best_seconds = seconds;
        }
    }
    sink = total;
    free(data);
    return (void *)passes;
}

int main(int argc, char **argv) {
    threads = argc > 1 ? atoi(argv[1]) : 1;
    long kib = argc > 2 ? atol(argv[2]) : 512;
    if (threads < 1 || threads > 64 || kib < 1 || kib > (1L << 20)) {
        fprintf(stderr, "usage: cache_read_rate THREADS(1-64) KIB(1-1048576)\n");
        return 2;
    }
    buffer_vectors = (kib << 10) / (long)sizeof(vec) / SUMS * SUMS;
    if (buffer_vectors < SUMS) buffer_vectors = SUMS;
    pthread_barrier_init(&barrier, NULL, threads);
    pthread_t workers[64];
    void *passes = NULL;
    for (long t = 0; t < threads; t++) pthread_create(&workers[t], NULL, run, (void *)t);
    for (long t = 0; t < threads; t++) pthread_join(workers[t], t == 0 ? &passes : NULL);
    double bytes = (double)threads * (long)passes * buffer_vectors * sizeof(vec);
    printf("%.1f %d\n", bytes / best_seconds / 1e9, VECTOR_BYTES * 8);
    return 0;
}

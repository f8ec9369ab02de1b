/* The host's float32 multiply-add ceiling: each thread runs independent AVX-512 (or AVX2) FMA
 * chains on registers only, so no memory traffic limits it. scoring.py compiles and runs it to put
 * a scoring rate in proportion. Usage: fma_peak THREADS; prints GFLOP/s. */
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define CHAINS 12            /* independent accumulators: more than FMA latency x throughput */
#define ROUNDS 100000000L

#ifdef __AVX512F__
typedef __m512 vec;
#define LANES 16
#define SPLAT _mm512_set1_ps
#define FMA _mm512_fmadd_ps
#define SUM _mm512_reduce_add_ps
#else
typedef __m256 vec;
#define LANES 8
#define SPLAT _mm256_set1_ps
#define FMA _mm256_fmadd_ps
static float SUM(vec v) { float f[8]; _mm256_storeu_ps(f, v); return f[0] + f[7]; }
#endif

static void *run(void *result) {
    vec acc[CHAINS];
    for (int i = 0; i < CHAINS; i++) acc[i] = SPLAT(1.0f + i * 1e-7f);
    vec scale = SPLAT(0.9999999f), shift = SPLAT(1e-7f);
    __asm__ volatile("" : "+v"(scale), "+v"(shift));  /* unknown to the compiler: clang folds the loop otherwise */
    for (long n = 0; n < ROUNDS; n++)
        for (int i = 0; i < CHAINS; i++) acc[i] = FMA(acc[i], scale, shift);
    float sum = 0;
    for (int i = 0; i < CHAINS; i++) sum += SUM(acc[i]);
    *(float *)result = sum;  /* keeps the chains live */
    return NULL;
}

int main(int argc, char **argv) {
    int threads = argc > 1 ? atoi(argv[1]) : 1;
    if (threads < 1 || threads > 64) return 2;
    pthread_t workers[64];
    float results[64];
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (int t = 0; t < threads; t++) pthread_create(&workers[t], NULL, run, &results[t]);
    for (int t = 0; t < threads; t++) pthread_join(workers[t], NULL);
    clock_gettime(CLOCK_MONOTONIC, &end);
    double seconds = (end.tv_sec - start.tv_sec) + (end.tv_nsec - start.tv_nsec) * 1e-9;
    printf("%.1f\n", 2.0 * ROUNDS * CHAINS * LANES * threads / seconds / 1e9);
    return 0;
}

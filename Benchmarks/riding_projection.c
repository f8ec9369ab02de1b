/* What riding the input projection along the recurrent product (rnnkit_gemv_riding) gains at
 * batch 1, on this host, for one LSTM layer on one thread; run by hand.
 *
 * At batch 1 a recurrent layer used to project all T inputs first (x·kernel, a product that keeps
 * the multiply units busy), then at each step multiply h by the whole recurrent kernel, a read of
 * every weight from L2 that leaves the multiply units mostly idle. RNNKit now projects each block
 * of R steps during the steps of the block before, a share of its panels riding along each step's
 * recurrent product. Both loops below use RNNKit's kernels (rnnkit_gemm_packed, rnnkit_gemv_riding,
 * rnnkit_lstm_step), alternating direction as RNNKit does; the probe stops unless both give the
 * same bits. Shapes: the reference model's two LSTM(256) layers and the attention model's
 * LSTM(128), T = 100; best of 200 runs each, alternated. The riding path exists on AVX-512 only.
 * A second table times one step's products alone (`kernel_alone`): how much of the riding
 * multiply-adds' own time riding hides, for recurrent kernels that L2 holds and one as large as L2.
 *
 * Build and run from the repository's top:
 *   clang -O2 -ISources/CRNNKitKernels/include -ISources/CRNNKitKernels \
 *     Benchmarks/riding_projection.c Sources/CRNNKitKernels/rnnkit_gemm.c \
 *     Sources/CRNNKitKernels/rnnkit_kernels.c -lm -o /tmp/riding_projection && /tmp/riding_projection */
#include "rnnkit_kernels.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { PANEL = 16, STEPS = 100, RUNS = 200 };


static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static float *floats(long count) {
    float *p = aligned_alloc(64, (size_t)((count * 4 + 63) / 64 * 64));
    if (!p) { perror("riding_projection"); exit(2); }
    return p;
}

/* One LSTM layer: F features, U units, width 4U, kernel and recurrent kernel packed. */
typedef struct {
    long features, units, width;
    float *kernel, *recurrent, *bias, *input;  /* packed [F, 4U], packed [U, 4U], [4U], [T, F] */
} layer;

static layer make_layer(long features, long units) {
    layer l = {features, units, 4 * units, 0, 0, 0, 0};
    float *w = floats(features * l.width), *u = floats(units * l.width);
    for (long i = 0; i < features * l.width; i++) w[i] = (float)((i * 7919) % 2001 - 1000) / (8000.0f * 1.0f);
    for (long i = 0; i < units * l.width; i++) u[i] = (float)((i * 104729) % 2001 - 1000) / 16000.0f;
    l.kernel = floats(rnnkit_packed_count(features, l.width));
    l.recurrent = floats(rnnkit_packed_count(units, l.width));
    rnnkit_pack(features, l.width, w, l.width, l.kernel, features * PANEL);
    rnnkit_pack(units, l.width, u, l.width, l.recurrent, units * PANEL);
    l.bias = floats(l.width);
    for (long i = 0; i < l.width; i++) l.bias[i] = (float)(i % 11) / 50.0f - 0.1f;
    l.input = floats(STEPS * features);
    for (long i = 0; i < STEPS * features; i++) l.input[i] = (float)((i * 31) % 201 - 100) / 100.0f;
    free(w);
    free(u);
    return l;
}

/* RNNKit's batch-1 loop before: the whole projection, then one recurrent product and step per time. */
static void sequential(const layer *l, float *gates, float *h, float *c) {
    rnnkit_gemm_packed(STEPS, l->width, l->features, l->input, l->features, l->kernel, l->features * PANEL, l->bias,
                       gates, l->width, 0);
    for (long t = 0; t < STEPS; t++) {
        float *step = gates + t * l->width;
        rnnkit_gemm_packed(1, l->width, l->units, h, l->units, l->recurrent, l->units * PANEL, 0, step, l->width,
                           RNNKIT_GEMM_ACCUMULATE | (t % 2 ? RNNKIT_GEMM_BACKWARD : 0));
        rnnkit_lstm_step(1, l->units, 0, l->units, step, h, c, 0);
    }
}

/* The same loop as RNNKit runs it now: the first block of 1 to R steps projected on its own, then
 * each block of R steps' projection riding along the block before it (rnnkit_gemv_riding). */
static void riding(const layer *l, float *gates, float *h, float *c, float *riding_input) {
    long rows = rnnkit_riding_rows(), panels = (l->width + PANEL - 1) / PANEL;
    long first = (STEPS - 1) % rows + 1;
    rnnkit_gemm_packed(first, l->width, l->features, l->input, l->features, l->kernel, l->features * PANEL, l->bias,
                       gates, l->width, 0);
    for (long t = 0; t < STEPS; t++) {
        float *step = gates + t * l->width;
        long start = t < first ? 0 : first + (t - first) / rows * rows, length = t < first ? first : rows;
        long next = start + length, share = t - start;
        int flags = RNNKIT_GEMM_ACCUMULATE | (t % 2 ? RNNKIT_GEMM_BACKWARD : 0);
        if (next < STEPS) {
            if (share == 0)  /* the next block's inputs, k-major */
                for (long i = 0; i < rows; i++)
                    for (long r = 0; r < l->features; r++)
                        riding_input[r * rows + i] = l->input[(next + i) * l->features + r];
            rnnkit_riding_projection ride = {l->width, l->features, riding_input, l->kernel, l->features * PANEL,
                                             l->bias, gates + next * l->width, l->width, share * panels / length,
                                             (share + 1) * panels / length};
            rnnkit_gemv_riding(l->width, l->units, h, l->recurrent, l->units * PANEL, 0, step, flags, &ride);
        } else {
            rnnkit_gemm_packed(1, l->width, l->units, h, l->units, l->recurrent, l->units * PANEL, 0, step, l->width,
                               flags);
        }
        rnnkit_lstm_step(1, l->units, 0, l->units, step, h, c, 0);
    }
}

/* One step's products alone, over and over, for a recurrent kernel of `k` rows by 1024 columns
 * (4 KB a row): the recurrent product alone, the same with an eighth of a riding
 * projection of `k` rows along, and that eighth as a product of its own (8 rows by 8 panels). The
 * share of the riding multiply-adds' own time that riding hides is 1 - (riding - alone) / apart:
 * it shows whether the loads leave the multiply units' time free, from a kernel that L2 holds
 * (k = 64: 256 KB) to one as large as L2 (k = 256: 1 MB). Best of 30 trials, microseconds. */
static void kernel_alone(long k) {
    const long n = 1024, panels = n / PANEL;
    float *recurrent = floats(rnnkit_packed_count(k, n)), *kernel = floats(rnnkit_packed_count(k, n));
    float *h = floats(k), *c = floats(n), *a = floats(RNNKIT_RIDING_ROWS * k), *out = floats(RNNKIT_RIDING_ROWS * n);
    float *rows = floats(RNNKIT_RIDING_ROWS * k), *apart = floats(RNNKIT_RIDING_ROWS * n);  /* row-major, for apart */
    for (long i = 0; i < rnnkit_packed_count(k, n); i++) recurrent[i] = kernel[i] = (float)(i % 13) / 100.0f;
    for (long i = 0; i < k; i++) h[i] = (float)(i % 7) / 10.0f;
    for (long i = 0; i < RNNKIT_RIDING_ROWS * k; i++) a[i] = rows[i] = (float)(i % 5) / 10.0f;
    long repeats = 20000000 / (k * n) + 1;
    double best[3] = {1e30, 1e30, 1e30};
    for (int trial = 0; trial < 30; trial++) {
        for (int variant = 0; variant < 3; variant++) {
            double start = now();
            for (long r = 0; r < repeats; r++) {
                int flags = r % 2 ? RNNKIT_GEMM_BACKWARD : 0;
                long share = r % RNNKIT_RIDING_ROWS, first = share * panels / RNNKIT_RIDING_ROWS;
                long last = (share + 1) * panels / RNNKIT_RIDING_ROWS;
                rnnkit_riding_projection ride = {n, k, a, kernel, k * PANEL, 0, out, n, first, last};
                if (variant == 0) rnnkit_gemm_packed(1, n, k, h, k, recurrent, k * PANEL, 0, c, n, flags);
                else if (variant == 1) rnnkit_gemv_riding(n, k, h, recurrent, k * PANEL, 0, c, flags, &ride);
                else  /* the same share as a product of its own */
                    rnnkit_gemm_packed(RNNKIT_RIDING_ROWS, (last - first) * PANEL, k, rows, k, kernel + first * k * PANEL,
                                       k * PANEL, 0, apart, n, 0);
            }
            double seconds = (now() - start) / repeats;
            if (seconds < best[variant]) best[variant] = seconds;
        }
    }
    printf("| %ld | %ld | %.2f | %.2f | %.2f | %.0f%% |\n", k, k * n * 4 / 1024, best[0] * 1e6, best[1] * 1e6,
           best[2] * 1e6, 100 * (1 - (best[1] - best[0]) / best[2]));
    free(recurrent); free(kernel); free(h); free(c); free(a); free(out); free(rows); free(apart);
}

int main(void) {
    const long shapes[][2] = {{64, 256}, {256, 256}, {64, 128}};  /* features, units */
    if (rnnkit_riding_rows() == 0) {
        fprintf(stderr, "riding_projection: this kernel path (%d) has no riding projection\n", rnnkit_kernel_path());
        return 2;
    }
    printf("kernel path %d (2 = avx512), T = %d, one thread, %ld riding rows; best of %d runs, ms\n",
           rnnkit_kernel_path(), STEPS, rnnkit_riding_rows(), RUNS);
    printf("| features | units | projection first | riding along | riding / first |\n|---:|---:|---:|---:|---:|\n");
    for (unsigned s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        layer l = make_layer(shapes[s][0], shapes[s][1]);
        float *gates = floats(STEPS * l.width), *h = floats(l.units), *c = floats(l.units), *expected = floats(l.units);
        float *riding_input = floats(RNNKIT_RIDING_ROWS * l.features);
        double best[2] = {1e30, 1e30};
        for (int run = 0; run < RUNS; run++) {
            for (int variant = 0; variant < 2; variant++) {
                memset(h, 0, (size_t)l.units * 4);
                memset(c, 0, (size_t)l.units * 4);
                double start = now();
                if (variant == 0) sequential(&l, gates, h, c);
                else riding(&l, gates, h, c, riding_input);
                double seconds = now() - start;
                if (seconds < best[variant]) best[variant] = seconds;
                if (variant == 0) memcpy(expected, h, (size_t)l.units * 4);
                else if (memcmp(expected, h, (size_t)l.units * 4)) {
                    fprintf(stderr, "riding_projection: riding differs from projecting first\n");
                    return 1;
                }
            }
        }
        printf("| %ld | %ld | %.3f | %.3f | %.2f |\n", l.features, l.units, best[0] * 1e3, best[1] * 1e3, best[1] / best[0]);
    }
    printf("\nOne step's products alone, 1024 columns, best of 30 trials, us; hidden: the share of the riding\n"
           "multiply-adds' own time (apart) that riding hides\n");
    printf("| rows k | kernel KB | recurrent alone | with riding | riding share apart | hidden |\n"
           "|---:|---:|---:|---:|---:|---:|\n");
    for (long k = 64; k <= 256; k += 64) kernel_alone(k);
    return 0;
}

/* Would fusing the input projection into the recurrent product speed up batch 1? A probe, run by
 * hand, for the batch-1 limit in README.md.
 *
 * At batch 1 a recurrent layer first projects all T inputs at once (x·kernel, a product that keeps
 * the multiply units busy), then at each step multiplies h by the whole recurrent kernel, a read of
 * every weight from L2 that leaves the multiply units mostly idle. The idea tried here: project
 * the next FR steps' inputs inside the recurrent product of the current steps, one tile of FR rows
 * by 16 columns riding along each group of 4 recurrent panels, so that the multiply units work
 * while the loads wait.
 *
 * `sequential` is RNNKit's own loop for one LSTM layer, one thread, with its kernels
 * (rnnkit_gemm_packed for the projection and the recurrent product, alternating direction,
 * rnnkit_lstm_step). `fused` is the same loop with the projection moved into the recurrent product;
 * every sum runs in the same order, and the probe stops unless both give the same bits. Shapes:
 * the reference model's two LSTM(256) layers and the attention model's LSTM(128), T = 100; best of
 * 200 runs each, alternated.
 *
 * Build and run from the repository's top (clang, for the vector extensions):
 *   clang -O2 -march=native -ISources/CRNNKitKernels/include -ISources/CRNNKitKernels \
 *     Benchmarks/fused_projection.c Sources/CRNNKitKernels/rnnkit_gemm.c \
 *     Sources/CRNNKitKernels/rnnkit_kernels.c -lm -o /tmp/fused_projection && /tmp/fused_projection */
#include "rnnkit_kernels.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#pragma clang diagnostic ignored "-Wpsabi"
typedef float v16 __attribute__((vector_size(64), aligned(4)));
enum { PANEL = 16, GROUP = 4, STEPS = 100, RUNS = 200 };

static v16 load16(const float *p) { v16 v; memcpy(&v, p, sizeof v); return v; }
static v16 splat(float x) { return (v16){x, x, x, x, x, x, x, x, x, x, x, x, x, x, x, x}; }
static v16 madd(v16 sum, v16 x, v16 b) { return __builtin_elementwise_fma(x, b, sum); }

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static float *floats(long count) {
    float *p = aligned_alloc(64, (size_t)((count * 4 + 63) / 64 * 64));
    if (!p) { perror("fused_projection"); exit(2); }
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

/* RNNKit's batch-1 loop: the whole projection, then one recurrent product and step per time. */
static void sequential(const layer *l, float *gates, float *h, float *c) {
    rnnkit_gemm_packed(STEPS, l->width, l->features, l->input, l->features, l->kernel, l->features * PANEL, l->bias,
                       gates, l->width, 0);
    for (long t = 0; t < STEPS; t++) {
        float *step = gates + t * l->width;
        rnnkit_gemm_packed(1, l->width, l->units, h, l->units, l->recurrent, l->units * PANEL, 0, step, l->width,
                           RNNKIT_GEMM_ACCUMULATE | (t % 2 ? RNNKIT_GEMM_BACKWARD : 0));
        rnnkit_lstm_step(1, l->units, 0, l->units, step, h, c);
    }
}

/* Adds h·(4 recurrent panels from `group`) to the step's gates and, over the first F rows of the
 * same loop, computes FR rows of the projection for one panel: bias + a·kernel. */
#define FUSED_GROUP(FR)                                                                                         \
    static void fused_group_##FR(const layer *l, const float *h, long group, float *step, long panel,          \
                                 const float *a, float *out) {                                                  \
        long k = l->units, stride = k * PANEL;                                                                  \
        const float *q = l->recurrent + group * GROUP * stride, *w = l->kernel + panel * l->features * PANEL;   \
        v16 s0 = splat(0), s1 = s0, s2 = s0, s3 = s0, p[FR];                                                    \
        for (int i = 0; i < FR; i++) p[i] = load16(l->bias + panel * PANEL);                                    \
        long r = 0;                                                                                             \
        for (; r < l->features && r < k; r++) {                                                                 \
            v16 x = splat(h[r]), b = load16(w + r * PANEL);                                                     \
            const float *u = q + r * PANEL;                                                                     \
            s0 = madd(s0, x, load16(u)); s1 = madd(s1, x, load16(u + stride));                                  \
            s2 = madd(s2, x, load16(u + 2 * stride)); s3 = madd(s3, x, load16(u + 3 * stride));                 \
            _Pragma("clang loop unroll(full)") for (int i = 0; i < FR; i++)                                    \
                p[i] = madd(p[i], splat(a[i * l->features + r]), b);                                            \
        }                                                                                                       \
        for (; r < k; r++) {                                                                                    \
            v16 x = splat(h[r]);                                                                                \
            const float *u = q + r * PANEL;                                                                     \
            s0 = madd(s0, x, load16(u)); s1 = madd(s1, x, load16(u + stride));                                  \
            s2 = madd(s2, x, load16(u + 2 * stride)); s3 = madd(s3, x, load16(u + 3 * stride));                 \
        }                                                                                                       \
        for (; r < l->features; r++) {                                                                          \
            v16 b = load16(w + r * PANEL);                                                                      \
            for (int i = 0; i < FR; i++) p[i] = madd(p[i], splat(a[i * l->features + r]), b);                   \
        }                                                                                                       \
        v16 sums[GROUP] = {s0, s1, s2, s3};                                                                     \
        for (int j = 0; j < GROUP; j++) {                                                                       \
            float *g = step + (group * GROUP + j) * PANEL;                                                      \
            v16 v = load16(g) + sums[j];                                                                        \
            memcpy(g, &v, sizeof v);                                                                            \
        }                                                                                                       \
        for (int i = 0; i < FR; i++) memcpy(out + i * l->width + panel * PANEL, &p[i], sizeof p[i]);           \
    }
FUSED_GROUP(6)
FUSED_GROUP(8)
FUSED_GROUP(12)

typedef void (*fused_group_function)(const layer *, const float *, long, float *, long, const float *, float *);

/* The same loop with the projection of steps [t + FR, t + 2FR) spread over steps [t, t + FR). */
static void fused(const layer *l, long rows, fused_group_function group_function, float *gates, float *h, float *c) {
    long panels = l->width / PANEL, groups = panels / GROUP;
    rnnkit_gemm_packed(rows, l->width, l->features, l->input, l->features, l->kernel, l->features * PANEL, l->bias,
                       gates, l->width, 0);
    for (long t = 0; t < STEPS; t++) {
        float *step = gates + t * l->width;
        long next = (t / rows + 1) * rows, into_chunk = t % rows;
        int rides = next + rows <= STEPS;  /* a whole chunk follows: it rides along */
        if (!rides && next < STEPS && into_chunk == 0)  /* the last, partial chunk: on its own */
            rnnkit_gemm_packed(STEPS - next, l->width, l->features, l->input + next * l->features, l->features,
                               l->kernel, l->features * PANEL, l->bias, gates + next * l->width, l->width, 0);
        long first = into_chunk * panels / rows, last = (into_chunk + 1) * panels / rows;
        for (long index = 0; index < groups; index++) {
            long group = t % 2 ? groups - 1 - index : index, panel = first + index;
            if (rides && panel < last) {
                group_function(l, h, group, step, panel, l->input + next * l->features, gates + next * l->width);
            } else {
                rnnkit_gemm_packed(1, GROUP * PANEL, l->units, h, l->units, l->recurrent + group * GROUP * l->units * PANEL,
                                   l->units * PANEL, 0, step + group * GROUP * PANEL, l->width, RNNKIT_GEMM_ACCUMULATE);
            }
        }
        rnnkit_lstm_step(1, l->units, 0, l->units, step, h, c);
    }
}

int main(void) {
    const long shapes[][2] = {{64, 256}, {256, 256}, {64, 128}};  /* features, units */
    const struct { long rows; fused_group_function function; } tiles[] = {
        {6, fused_group_6}, {8, fused_group_8}, {12, fused_group_12}};
    printf("kernel path %d (2 = avx512, 1 = avx2, 0 = portable), T = %d, one thread; best of %d runs, ms\n",
           rnnkit_kernel_path(), STEPS, RUNS);
    printf("| features | units | sequential (RNNKit) | fused, 6 rows | fused, 8 rows | fused, 12 rows |\n");
    printf("|---:|---:|---:|---:|---:|---:|\n");
    for (unsigned s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        layer l = make_layer(shapes[s][0], shapes[s][1]);
        float *gates = floats(STEPS * l.width), *h = floats(l.units), *c = floats(l.units);
        float *expected = floats(l.units);
        double best[4] = {1e30, 1e30, 1e30, 1e30};
        for (int run = 0; run < RUNS; run++) {
            for (int variant = 0; variant < 4; variant++) {
                memset(h, 0, (size_t)l.units * 4);
                memset(c, 0, (size_t)l.units * 4);
                double start = now();
                if (variant == 0) sequential(&l, gates, h, c);
                else fused(&l, tiles[variant - 1].rows, tiles[variant - 1].function, gates, h, c);
                double seconds = now() - start;
                if (seconds < best[variant]) best[variant] = seconds;
                if (variant == 0) memcpy(expected, h, (size_t)l.units * 4);
                else if (memcmp(expected, h, (size_t)l.units * 4)) {
                    fprintf(stderr, "fused_projection: fused (%ld rows) differs from sequential\n", tiles[variant - 1].rows);
                    return 1;
                }
            }
        }
        printf("| %ld | %ld | %.3f | %.3f | %.3f | %.3f |\n", l.features, l.units, best[0] * 1e3, best[1] * 1e3,
               best[2] * 1e3, best[3] * 1e3);
    }
    return 0;
}

#include "rnnkit_kernels.h"
#include "cpu.h"
#include <string.h>

// A matrix product against a right-hand matrix packed once, at load time, into panels of 16
// columns stored row after row (k × 16 floats each, the last panel zero-padded): the recurrent
// kernels are multiplied by every time step, and a general-purpose sgemm would repack them on
// every call.
//
// One source for every path: the register blocks are written with a 16-float vector type, which
// is one zmm register on the AVX-512 path, two ymm on AVX2 and four xmm on the portable one; each
// path only picks how many rows and panels a block holds (its accumulators fill the registers
// it has). Every product is added by `madd`, a fused multiply-add on every path: the hardware's on
// AVX2 and AVX-512, libm's `fmaf` on the baseline, slower but with the same single rounding, so
// that all three paths give the same numbers as each other (and as the FMA-using kernels that
// computed Keras's outputs).

enum { PANEL = 16, ROWS_PER_CHUNK = 96, MAX_ROWS = 12 };

// The always-inlined helpers pass v16 by value only inside one path's function.
#pragma clang diagnostic ignored "-Wpsabi"

typedef float v16 __attribute__((vector_size(64), aligned(4)));

long rnnkit_packed_count(long k, long n) {
    return k * ((n + PANEL - 1) / PANEL) * PANEL;
}

void rnnkit_pack(long k, long n, const float *b, long ldb, float *packed, long panel_stride) {
    for (long column = 0; column < n; column += PANEL, packed += panel_stride) {
        long width = n - column < PANEL ? n - column : PANEL;
        for (long row = 0; row < k; row++) {
            memcpy(packed + row * PANEL, b + row * ldb + column, (size_t)width * sizeof(float));
            memset(packed + row * PANEL + width, 0, (size_t)(PANEL - width) * sizeof(float));
        }
    }
}

void rnnkit_pack_transposed(long k, long n, const float *bt, long ldbt, float *packed, long panel_stride) {
    for (long column = 0; column < n; column += PANEL, packed += panel_stride) {
        long width = n - column < PANEL ? n - column : PANEL;
        for (long row = 0; row < k; row++) {
            for (long j = 0; j < width; j++) packed[row * PANEL + j] = bt[(column + j) * ldbt + row];
            memset(packed + row * PANEL + width, 0, (size_t)(PANEL - width) * sizeof(float));
        }
    }
}

RNNKIT_INLINE v16 load16(const float *p) {
    v16 v;
    memcpy(&v, p, sizeof v);
    return v;
}

// sum + x·b with one rounding.
RNNKIT_INLINE v16 madd(v16 sum, v16 x, v16 b) { return __builtin_elementwise_fma(x, b, sum); }

RNNKIT_INLINE v16 splat(float x) { return (v16){x, x, x, x, x, x, x, x, x, x, x, x, x, x, x, x}; }

// The 16 values of `bias` at a panel's columns, of which only `width` exist; zeros without bias.
RNNKIT_INLINE v16 panel_bias(const float *bias, long width) {
    if (!bias) return splat(0);
    if (width == PANEL) return load16(bias);
    float values[PANEL] = {0};
    memcpy(values, bias, (size_t)width * sizeof(float));
    return load16(values);
}

// Writes (or adds) a row's 16-wide results, of which only `width` columns exist.
RNNKIT_INLINE void store16(float *c, v16 v, long width, int accumulate) {
    if (width == PANEL) {
        if (accumulate) v += load16(c);
        memcpy(c, &v, sizeof v);
    } else {
        float values[PANEL];
        memcpy(values, &v, sizeof v);
        for (long j = 0; j < width; j++) c[j] = accumulate ? c[j] + values[j] : values[j];
    }
}

// `rows` rows of a against `panels` (1 or 2) adjacent panels starting at column `column`: one
// accumulator per row and panel, starting from the bias, one load per panel and one broadcast
// per row for each k. Inlined with constant `rows` and `panels`, so that the accumulators live
// in registers.
RNNKIT_INLINE void block(const long rows, const long panels, long n, long column, long k, const float *a, long lda,
                         const float *panel, long stride, const float *bias, float *c, long ldc, int accumulate) {
    v16 sums[MAX_ROWS][2];
    long width0 = n - column < PANEL ? n - column : PANEL, width1 = n - column - PANEL < PANEL ? n - column - PANEL : PANEL;
    v16 start0 = panel_bias(bias ? bias + column : 0, width0);
    v16 start1 = panels > 1 ? panel_bias(bias ? bias + column + PANEL : 0, width1) : start0;
    for (long i = 0; i < rows; i++) {
        sums[i][0] = start0;
        if (panels > 1) sums[i][1] = start1;
    }
    const float *second = panel + stride;
    for (long r = 0; r < k; r++) {
        v16 b0 = load16(panel + r * PANEL), b1 = panels > 1 ? load16(second + r * PANEL) : b0;
        for (long i = 0; i < rows; i++) {
            v16 x = splat(a[i * lda + r]);
            sums[i][0] = madd(sums[i][0], x, b0);
            if (panels > 1) sums[i][1] = madd(sums[i][1], x, b1);
        }
    }
    for (long i = 0; i < rows; i++) {
        store16(c + i * ldc + column, sums[i][0], width0, accumulate);
        if (panels > 1) store16(c + i * ldc + column + PANEL, sums[i][1], width1, accumulate);
    }
}

// One row of a against `count` panels at once (batch 1 is all this): independent accumulators
// keep the multiply units busy where a single panel would wait on its dependency chain. With
// `riders` rows, the same pass over k also computes panel `ride_panel` of a riding projection
// (rnnkit_gemv_riding), whose multiply-adds keep the units busy while the loads wait on L2.
RNNKIT_INLINE void row_block(const long count, const long riders, long n, long column, long k, const float *a,
                             const float *panel, long stride, const float *bias, float *c, int accumulate,
                             const rnnkit_riding_projection *ride, long ride_panel) {
    v16 sums[8], tile[RNNKIT_RIDING_ROWS];
    sums[0] = splat(0);  // read below even without panels (count 0: the riding panel alone)
    for (long p = 0; p < count; p++) {
        long start = column + p * PANEL;
        sums[p] = panel_bias(bias ? bias + start : 0, n - start < PANEL ? n - start : PANEL);
    }
    long ride_column = ride_panel * PANEL, ride_width = 0, ride_k = 0;
    const float *ride_kernel = 0;
    if (riders) {
        ride_width = ride->n - ride_column < PANEL ? ride->n - ride_column : PANEL;
        ride_k = ride->k;
        ride_kernel = ride->packed + ride_panel * ride->panel_stride;
        v16 start = panel_bias(ride->bias ? ride->bias + ride_column : 0, ride_width);
        for (long i = 0; i < riders; i++) tile[i] = start;
    }
    // Written out: a loop over the panels here is compiled as one chain after another.
    v16 s0 = sums[0], s1 = sums[count > 1 ? 1 : 0], s2 = sums[count > 2 ? 2 : 0], s3 = sums[count > 3 ? 3 : 0];
    v16 s4 = sums[count > 4 ? 4 : 0], s5 = sums[count > 5 ? 5 : 0], s6 = sums[count > 6 ? 6 : 0];
    v16 s7 = sums[count > 7 ? 7 : 0];
#define ROW_TERMS(r)                                                        \
    do {                                                                    \
        v16 x = splat(a[r]);                                                \
        const float *q = panel + (r) * PANEL;                               \
        if (count > 0) s0 = madd(s0, x, load16(q));                         \
        if (count > 1) s1 = madd(s1, x, load16(q + stride));                \
        if (count > 2) s2 = madd(s2, x, load16(q + 2 * stride));            \
        if (count > 3) s3 = madd(s3, x, load16(q + 3 * stride));            \
        if (count > 4) s4 = madd(s4, x, load16(q + 4 * stride));            \
        if (count > 5) s5 = madd(s5, x, load16(q + 5 * stride));            \
        if (count > 6) s6 = madd(s6, x, load16(q + 6 * stride));            \
        if (count > 7) s7 = madd(s7, x, load16(q + 7 * stride));            \
    } while (0)
#define RIDER_TERMS(r)                                                                  \
    do {                                                                                \
        v16 b = load16(ride_kernel + (r) * PANEL);                                      \
        for (long i = 0; i < riders; i++) tile[i] = madd(tile[i], splat(ride->a[(r) * riders + i]), b); \
    } while (0)
    long both = riders && ride_k < k ? ride_k : k, r = 0;
    for (; r < both; r++) {
        ROW_TERMS(r);
        if (riders) RIDER_TERMS(r);
    }
    for (; r < k; r++) ROW_TERMS(r);
    for (r = both; r < ride_k; r++) RIDER_TERMS(r);
#undef ROW_TERMS
#undef RIDER_TERMS
    sums[0] = s0;
    if (count > 1) sums[1] = s1;
    if (count > 2) sums[2] = s2;
    if (count > 3) sums[3] = s3;
    if (count > 4) sums[4] = s4;
    if (count > 5) sums[5] = s5;
    if (count > 6) sums[6] = s6;
    if (count > 7) sums[7] = s7;
    for (long p = 0; p < count; p++) {
        long start = column + p * PANEL;
        store16(c + start, sums[p], n - start < PANEL ? n - start : PANEL, accumulate);
    }
    for (long i = 0; i < riders; i++) store16(ride->out + i * ride->ldo + ride_column, tile[i], ride_width, 0);
}

// The product of one row: groups of `row_panels` panels, then the last ones one by one;
// backward, the other way. With `riders`, the riding projection's panels go along with the
// first groups, one each, and any left over on their own.
RNNKIT_INLINE void gemv_body(const long row_panels, const long riders, long n, long k, const float *a,
                             const float *packed, long stride, const float *bias, float *c, int flags,
                             const rnnkit_riding_projection *ride) {
    int accumulate = flags & RNNKIT_GEMM_ACCUMULATE, backward = flags & RNNKIT_GEMM_BACKWARD;
    long panels = (n + PANEL - 1) / PANEL, groups = panels / row_panels, items = groups + panels % row_panels;
    long ride_panel = riders ? ride->first_panel : 0, ride_end = riders ? ride->last_panel : 0;
    for (long index = 0; index < items; index++) {
        long item = backward ? items - 1 - index : index;
        long p = item < groups ? item * row_panels : groups * row_panels + item - groups;
        const float *first = packed + p * stride;
        if (item < groups) {
            if (ride_panel < ride_end)
                row_block(row_panels, riders, n, p * PANEL, k, a, first, stride, bias, c, accumulate, ride, ride_panel++);
            else
                row_block(row_panels, 0, n, p * PANEL, k, a, first, stride, bias, c, accumulate, 0, 0);
        } else {
            if (ride_panel < ride_end)
                row_block(1, riders, n, p * PANEL, k, a, first, stride, bias, c, accumulate, ride, ride_panel++);
            else
                row_block(1, 0, n, p * PANEL, k, a, first, stride, bias, c, accumulate, 0, 0);
        }
    }
    for (; ride_panel < ride_end; ride_panel++) row_block(0, riders, n, 0, 0, a, packed, stride, 0, c, 0, ride, ride_panel);
}

#define ROW_CASE(size) \
    case size: if (size <= max_rows) block(size, panels_now, n, column, k, rows, lda, panel, stride, bias, target, ldc, accumulate); break;

// The product on one path: blocks of at most `max_rows` rows × `max_panels` panels, one row
// against `row_panels` panels at once.
RNNKIT_INLINE void gemm_body(const long max_rows, const long max_panels, const long row_panels, long m, long n, long k,
                             const float *a, long lda, const float *packed, long stride, const float *bias, float *c,
                             long ldc, int flags) {
    if (m == 1) return gemv_body(row_panels, 0, n, k, a, packed, stride, bias, c, flags, 0);
    int accumulate = flags & RNNKIT_GEMM_ACCUMULATE, backward = flags & RNNKIT_GEMM_BACKWARD;
    long panels = (n + PANEL - 1) / PANEL;
    // Chunks of rows small enough to stay in cache while every panel passes over them.
    long groups = (panels + max_panels - 1) / max_panels;
    for (long first = 0; first < m; first += ROWS_PER_CHUNK) {
        long last = m - first < ROWS_PER_CHUNK ? m : first + ROWS_PER_CHUNK;
        for (long index = 0; index < groups; index++) {
            long p = (backward ? groups - 1 - index : index) * max_panels;
            const long panels_now_count = panels - p < max_panels ? panels - p : max_panels;
            const float *panel = packed + p * stride;
            long column = p * PANEL;
            // Blocks of equal size (within one row), each its own inlined kernel.
            long blocks = (last - first + max_rows - 1) / max_rows;
            for (long i = first; i < last; blocks--) {
                long size = (last - i + blocks - 1) / blocks;
                const float *rows = a + i * lda;
                float *target = c + i * ldc;
                if (panels_now_count == max_panels) {
                    const long panels_now = max_panels;
                    switch (size) {
                    ROW_CASE(1) ROW_CASE(2) ROW_CASE(3) ROW_CASE(4) ROW_CASE(5) ROW_CASE(6)
                    ROW_CASE(7) ROW_CASE(8) ROW_CASE(9) ROW_CASE(10) ROW_CASE(11) ROW_CASE(12)
                    default: break;
                    }
                } else {
                    const long panels_now = 1;
                    switch (size) {
                    ROW_CASE(1) ROW_CASE(2) ROW_CASE(3) ROW_CASE(4) ROW_CASE(5) ROW_CASE(6)
                    ROW_CASE(7) ROW_CASE(8) ROW_CASE(9) ROW_CASE(10) ROW_CASE(11) ROW_CASE(12)
                    default: break;
                    }
                }
                i += size;
            }
        }
    }
}

#define GEMM_PARAMETERS (long m, long n, long k, const float *a, long lda, const float *packed, long stride, \
                         const float *bias, float *c, long ldc, int flags)
#define GEMM_ARGUMENTS m, n, k, a, lda, packed, stride, bias, c, ldc, flags

// Calls prefix_avx512, prefix_avx2 or prefix_portable, by the kernel path in force.
#if defined(__x86_64__)
#define ON_KERNEL_PATH(prefix, arguments)                                 \
    switch (rnnkit_kernel_path()) {                                       \
    case RNNKIT_KERNEL_AVX512: prefix##_avx512 arguments; break;          \
    case RNNKIT_KERNEL_AVX2: prefix##_avx2 arguments; break;              \
    default: prefix##_portable arguments; break;                          \
    }
#else
#define ON_KERNEL_PATH(prefix, arguments) prefix##_portable arguments
#endif

// Registers: AVX-512 has 32 of 16 floats (12 rows × 2 panels = 24 accumulators), AVX2 16 of 8
// floats (6 rows × 1 panel = 12), the portable SSE baseline 16 of 4 floats (2 rows × 1 panel = 8).
#if defined(__x86_64__)
RNNKIT_AVX512 static void gemm_avx512 GEMM_PARAMETERS { gemm_body(12, 2, 4, GEMM_ARGUMENTS); }
RNNKIT_AVX2 static void gemm_avx2 GEMM_PARAMETERS { gemm_body(6, 1, 4, GEMM_ARGUMENTS); }
#endif
static void gemm_portable GEMM_PARAMETERS { gemm_body(2, 1, 2, GEMM_ARGUMENTS); }

long rnnkit_riding_rows(void) {
#if defined(__x86_64__)
    if (rnnkit_kernel_path() == RNNKIT_KERNEL_AVX512) return RNNKIT_RIDING_ROWS;
#endif
    return 0;
}

// Every path computes the same riding projection, so that every path gives the same numbers;
// only AVX-512 has the registers for it (4 recurrent and 8 riding accumulators), the others spill.
#define RIDING_PARAMETERS (long n, long k, const float *a, const float *packed, long stride, const float *bias, \
                           float *c, int flags, const rnnkit_riding_projection *ride)
#define RIDING_ARGUMENTS n, k, a, packed, stride, bias, c, flags, ride
#if defined(__x86_64__)
RNNKIT_AVX512 static void gemv_riding_avx512 RIDING_PARAMETERS { gemv_body(4, RNNKIT_RIDING_ROWS, RIDING_ARGUMENTS); }
RNNKIT_AVX2 static void gemv_riding_avx2 RIDING_PARAMETERS { gemv_body(4, RNNKIT_RIDING_ROWS, RIDING_ARGUMENTS); }
#endif
static void gemv_riding_portable RIDING_PARAMETERS { gemv_body(2, RNNKIT_RIDING_ROWS, RIDING_ARGUMENTS); }

void rnnkit_gemv_riding RIDING_PARAMETERS {
    if (n <= 0) return;
    ON_KERNEL_PATH(gemv_riding, (RIDING_ARGUMENTS));
}

void rnnkit_gemm_packed GEMM_PARAMETERS {
    if (m <= 0 || n <= 0) return;
    ON_KERNEL_PATH(gemm, (GEMM_ARGUMENTS));
}

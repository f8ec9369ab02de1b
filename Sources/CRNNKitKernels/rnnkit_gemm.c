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

// One row of a against `count` panels at once: independent accumulators keep the multiply
// units busy where a single panel would wait on its dependency chain (batch 1 is all this).
RNNKIT_INLINE void row_block(const long count, long n, long column, long k, const float *a, const float *panel,
                             long stride, const float *bias, float *c, int accumulate) {
    v16 sums[8];
    for (long p = 0; p < count; p++) {
        long start = column + p * PANEL;
        sums[p] = panel_bias(bias ? bias + start : 0, n - start < PANEL ? n - start : PANEL);
    }
    // Written out: a loop over the panels here is compiled as one chain after another.
    v16 s0 = sums[0], s1 = sums[count > 1 ? 1 : 0], s2 = sums[count > 2 ? 2 : 0], s3 = sums[count > 3 ? 3 : 0];
    v16 s4 = sums[count > 4 ? 4 : 0], s5 = sums[count > 5 ? 5 : 0], s6 = sums[count > 6 ? 6 : 0];
    v16 s7 = sums[count > 7 ? 7 : 0];
    for (long r = 0; r < k; r++) {
        v16 x = splat(a[r]);
        const float *q = panel + r * PANEL;
        s0 = madd(s0, x, load16(q));
        if (count > 1) s1 = madd(s1, x, load16(q + stride));
        if (count > 2) s2 = madd(s2, x, load16(q + 2 * stride));
        if (count > 3) s3 = madd(s3, x, load16(q + 3 * stride));
        if (count > 4) s4 = madd(s4, x, load16(q + 4 * stride));
        if (count > 5) s5 = madd(s5, x, load16(q + 5 * stride));
        if (count > 6) s6 = madd(s6, x, load16(q + 6 * stride));
        if (count > 7) s7 = madd(s7, x, load16(q + 7 * stride));
    }
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
}

#define ROW_CASE(size) \
    case size: if (size <= max_rows) block(size, panels_now, n, column, k, rows, lda, panel, stride, bias, target, ldc, accumulate); break;

// The product on one path: blocks of at most `max_rows` rows × `max_panels` panels, one row
// against `row_panels` panels at once.
RNNKIT_INLINE void gemm_body(const long max_rows, const long max_panels, const long row_panels, long m, long n, long k,
                             const float *a, long lda, const float *packed, long stride, const float *bias, float *c,
                             long ldc, int flags) {
    int accumulate = flags & RNNKIT_GEMM_ACCUMULATE, backward = flags & RNNKIT_GEMM_BACKWARD;
    long panels = (n + PANEL - 1) / PANEL;
    if (m == 1) {
        // Groups of `row_panels` panels, then the last ones one by one; backward, the other way.
        long groups = panels / row_panels, items = groups + panels % row_panels;
        for (long index = 0; index < items; index++) {
            long item = backward ? items - 1 - index : index;
            if (item < groups) {
                long p = item * row_panels;
                row_block(row_panels, n, p * PANEL, k, a, packed + p * stride, stride, bias, c, accumulate);
            } else {
                long p = groups * row_panels + item - groups;
                row_block(1, n, p * PANEL, k, a, packed + p * stride, stride, bias, c, accumulate);
            }
        }
        return;
    }
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

// Registers: AVX-512 has 32 of 16 floats (12 rows × 2 panels = 24 accumulators), AVX2 16 of 8
// floats (6 rows × 1 panel = 12), the portable SSE baseline 16 of 4 floats (2 rows × 1 panel = 8).
#if defined(__x86_64__)
RNNKIT_AVX512 static void gemm_avx512 GEMM_PARAMETERS { gemm_body(12, 2, 4, GEMM_ARGUMENTS); }
RNNKIT_AVX2 static void gemm_avx2 GEMM_PARAMETERS { gemm_body(6, 1, 4, GEMM_ARGUMENTS); }
#endif
static void gemm_portable GEMM_PARAMETERS { gemm_body(2, 1, 2, GEMM_ARGUMENTS); }

void rnnkit_gemm_packed GEMM_PARAMETERS {
    if (m <= 0 || n <= 0) return;
#if defined(__x86_64__)
    switch (rnnkit_kernel_path()) {
    case RNNKIT_KERNEL_AVX512: gemm_avx512(GEMM_ARGUMENTS); return;
    case RNNKIT_KERNEL_AVX2: gemm_avx2(GEMM_ARGUMENTS); return;
    default: break;
    }
#endif
    gemm_portable(GEMM_ARGUMENTS);
}

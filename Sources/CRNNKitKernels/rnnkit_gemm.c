#include "rnnkit_kernels.h"
#include "cpu.h"
#include <string.h>

// A matrix product against a right-hand matrix packed once, at load time, into panels of 16
// columns stored row after row (k × 16 floats each, the last panel zero-padded): the recurrent
// kernels are multiplied by every time step, and a general-purpose sgemm would repack them on
// every call. On x86 with AVX2 and FMA a register-blocked kernel (up to 6 rows × 16 columns of
// accumulators) runs; elsewhere a plain loop over the same layout.

enum { PANEL = 16, ROWS_PER_BLOCK = 6, ROWS_PER_CHUNK = 96 };

long rnnkit_packed_count(long k, long n) {
    return k * ((n + PANEL - 1) / PANEL) * PANEL;
}

void rnnkit_pack(long k, long n, const float *b, long ldb, float *packed) {
    for (long column = 0; column < n; column += PANEL) {
        long width = n - column < PANEL ? n - column : PANEL;
        for (long row = 0; row < k; row++, packed += PANEL) {
            memcpy(packed, b + row * ldb + column, (size_t)width * sizeof(float));
            memset(packed + width, 0, (size_t)(PANEL - width) * sizeof(float));
        }
    }
}

// Writes (or adds) a row block's 16-wide results, of which only `width` columns exist.
static inline void store_row(float *c, const float *values, long width, int accumulate) {
    for (long j = 0; j < width; j++) c[j] = accumulate ? c[j] + values[j] : values[j];
}

static void gemm_portable(long m, long n, long k, const float *a, long lda, const float *packed,
                          const float *bias, float *c, long ldc, int accumulate) {
    for (long column = 0; column < n; column += PANEL) {
        const float *panel = packed + (column / PANEL) * k * PANEL;
        long width = n - column < PANEL ? n - column : PANEL;
        for (long i = 0; i < m; i++) {
            float sums[PANEL] = {0};
            if (bias) memcpy(sums, bias + column, (size_t)width * sizeof(float));
            for (long r = 0; r < k; r++) {
                float x = a[i * lda + r];
                for (long j = 0; j < PANEL; j++) sums[j] += x * panel[r * PANEL + j];
            }
            store_row(c + i * ldc + column, sums, width, accumulate);
        }
    }
}

#if defined(__x86_64__)
// The 16 values of `bias` at a panel's columns, of which only `width` exist; zeros without bias.
RNNKIT_AVX2 static inline void panel_bias(const float *bias, long width, __m256 *low, __m256 *high) {
    float values[PANEL] = {0};
    if (bias) memcpy(values, bias, (size_t)width * sizeof(float));
    *low = _mm256_loadu_ps(values);
    *high = _mm256_loadu_ps(values + 8);
}

RNNKIT_AVX2 static inline void store_avx2(float *c, __m256 low, __m256 high, long width, int accumulate) {
    if (width == PANEL) {
        if (accumulate) {
            low = _mm256_add_ps(low, _mm256_loadu_ps(c));
            high = _mm256_add_ps(high, _mm256_loadu_ps(c + 8));
        }
        _mm256_storeu_ps(c, low);
        _mm256_storeu_ps(c + 8, high);
    } else {
        float values[PANEL];
        _mm256_storeu_ps(values, low);
        _mm256_storeu_ps(values + 8, high);
        store_row(c, values, width, accumulate);
    }
}

// `rows` (at most six) rows of a against one panel: two accumulators per row, starting from the
// panel's bias (or zero), two panel loads and a broadcast per row for each k. Inlined with a
// constant `rows`, so that the accumulators live in registers.
RNNKIT_INLINE RNNKIT_AVX2 void block_avx2(const long rows, long k, const float *a, long lda, const float *panel,
                                         __m256 start_low, __m256 start_high, float *c, long ldc, long width,
                                         int accumulate) {
    __m256 low[ROWS_PER_BLOCK], high[ROWS_PER_BLOCK];
    for (long i = 0; i < rows; i++) {
        low[i] = start_low;
        high[i] = start_high;
    }
    for (long r = 0; r < k; r++, panel += PANEL) {
        __m256 b0 = _mm256_loadu_ps(panel), b1 = _mm256_loadu_ps(panel + 8);
        for (long i = 0; i < rows; i++) {
            __m256 x = _mm256_broadcast_ss(a + i * lda + r);
            low[i] = _mm256_fmadd_ps(x, b0, low[i]);
            high[i] = _mm256_fmadd_ps(x, b1, high[i]);
        }
    }
    for (long i = 0; i < rows; i++) store_avx2(c + i * ldc, low[i], high[i], width, accumulate);
}

// One row of a against four panels at once: eight independent accumulators keep the FMA units
// busy where a single panel would wait on its two dependency chains (batch 1 is all this).
RNNKIT_AVX2 static void row_avx2(long n, long k, const float *a, const float *packed, const float *bias, float *c,
                                 int accumulate) {
    long panels = (n + PANEL - 1) / PANEL, p = 0;
    for (; p + 4 <= panels; p += 4) {
        const float *q0 = packed + p * k * PANEL, *q1 = q0 + k * PANEL, *q2 = q1 + k * PANEL, *q3 = q2 + k * PANEL;
        long column = p * PANEL;
        __m256 s00, s01, s10, s11, s20, s21, s30, s31;
        panel_bias(bias ? bias + column : 0, n - column < PANEL ? n - column : PANEL, &s00, &s01);
        panel_bias(bias ? bias + column + 16 : 0, n - column - 16 < PANEL ? n - column - 16 : PANEL, &s10, &s11);
        panel_bias(bias ? bias + column + 32 : 0, n - column - 32 < PANEL ? n - column - 32 : PANEL, &s20, &s21);
        panel_bias(bias ? bias + column + 48 : 0, n - column - 48 < PANEL ? n - column - 48 : PANEL, &s30, &s31);
        for (long r = 0; r < k; r++) {
            __m256 x = _mm256_broadcast_ss(a + r);
            long o = r * PANEL;
            s00 = _mm256_fmadd_ps(x, _mm256_loadu_ps(q0 + o), s00); s01 = _mm256_fmadd_ps(x, _mm256_loadu_ps(q0 + o + 8), s01);
            s10 = _mm256_fmadd_ps(x, _mm256_loadu_ps(q1 + o), s10); s11 = _mm256_fmadd_ps(x, _mm256_loadu_ps(q1 + o + 8), s11);
            s20 = _mm256_fmadd_ps(x, _mm256_loadu_ps(q2 + o), s20); s21 = _mm256_fmadd_ps(x, _mm256_loadu_ps(q2 + o + 8), s21);
            s30 = _mm256_fmadd_ps(x, _mm256_loadu_ps(q3 + o), s30); s31 = _mm256_fmadd_ps(x, _mm256_loadu_ps(q3 + o + 8), s31);
        }
        store_avx2(c + column, s00, s01, n - column < PANEL ? n - column : PANEL, accumulate);
        store_avx2(c + column + 16, s10, s11, n - column - 16 < PANEL ? n - column - 16 : PANEL, accumulate);
        store_avx2(c + column + 32, s20, s21, n - column - 32 < PANEL ? n - column - 32 : PANEL, accumulate);
        store_avx2(c + column + 48, s30, s31, n - column - 48 < PANEL ? n - column - 48 : PANEL, accumulate);
    }
    for (; p < panels; p++) {
        long column = p * PANEL, width = n - column < PANEL ? n - column : PANEL;
        __m256 low, high;
        panel_bias(bias ? bias + column : 0, width, &low, &high);
        block_avx2(1, k, a, 0, packed + p * k * PANEL, low, high, c + column, 0, width, accumulate);
    }
}

RNNKIT_AVX2 static void gemm_avx2(long m, long n, long k, const float *a, long lda, const float *packed,
                                  const float *bias, float *c, long ldc, int accumulate) {
    if (m == 1) {
        row_avx2(n, k, a, packed, bias, c, accumulate);
        return;
    }
    long panels = (n + PANEL - 1) / PANEL;
    // Chunks of rows small enough to stay in cache while every panel passes over them.
    for (long first = 0; first < m; first += ROWS_PER_CHUNK) {
        long last = m - first < ROWS_PER_CHUNK ? m : first + ROWS_PER_CHUNK;
        for (long p = 0; p < panels; p++) {
            const float *panel = packed + p * k * PANEL;
            long column = p * PANEL, width = n - column < PANEL ? n - column : PANEL;
            __m256 low, high;
            panel_bias(bias ? bias + column : 0, width, &low, &high);
            long i = first;
            for (; i + ROWS_PER_BLOCK <= last; i += ROWS_PER_BLOCK) {
                block_avx2(ROWS_PER_BLOCK, k, a + i * lda, lda, panel, low, high, c + i * ldc + column, ldc, width,
                           accumulate);
            }
            const float *rest = a + i * lda;
            float *target = c + i * ldc + column;
            switch (last - i) {  // the last rows, fewer than a block: each count its own inlined kernel
            case 5: block_avx2(5, k, rest, lda, panel, low, high, target, ldc, width, accumulate); break;
            case 4: block_avx2(4, k, rest, lda, panel, low, high, target, ldc, width, accumulate); break;
            case 3: block_avx2(3, k, rest, lda, panel, low, high, target, ldc, width, accumulate); break;
            case 2: block_avx2(2, k, rest, lda, panel, low, high, target, ldc, width, accumulate); break;
            case 1: block_avx2(1, k, rest, lda, panel, low, high, target, ldc, width, accumulate); break;
            default: break;
            }
        }
    }
}
#endif

void rnnkit_gemm_packed(long m, long n, long k, const float *a, long lda, const float *packed,
                        const float *bias, float *c, long ldc, int accumulate) {
#if defined(__x86_64__)
    if (rnnkit_has_avx2_fma()) {
        gemm_avx2(m, n, k, a, lda, packed, bias, c, ldc, accumulate);
        return;
    }
#endif
    gemm_portable(m, n, k, a, lda, packed, bias, c, ldc, accumulate);
}

#include "rnnkit_kernels.h"
#include <string.h>

// A matrix product against a right-hand matrix packed once, at load time, into panels of 16
// columns stored row after row (k × 16 floats each, the last panel zero-padded): the recurrent
// kernels are multiplied by every time step, and a general-purpose sgemm would repack them on
// every call. On x86 with AVX2 and FMA a register-blocked kernel (6 rows × 16 columns of
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
                          float *c, long ldc, int accumulate) {
    for (long column = 0; column < n; column += PANEL) {
        const float *panel = packed + (column / PANEL) * k * PANEL;
        long width = n - column < PANEL ? n - column : PANEL;
        for (long i = 0; i < m; i++) {
            float sums[PANEL] = {0};
            for (long r = 0; r < k; r++) {
                float x = a[i * lda + r];
                for (long j = 0; j < PANEL; j++) sums[j] += x * panel[r * PANEL + j];
            }
            store_row(c + i * ldc + column, sums, width, accumulate);
        }
    }
}

#if defined(__x86_64__)
#include <immintrin.h>
#define AVX2 __attribute__((target("avx2,fma")))

AVX2 static inline void store_avx2(float *c, __m256 low, __m256 high, long width, int accumulate) {
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

// Six rows of a against one panel: 12 accumulators, two panel loads and six broadcasts per k.
AVX2 static void block6_avx2(long k, const float *a, long lda, const float *panel, float *c, long ldc,
                             long width, int accumulate) {
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
    __m256 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
    const float *a0 = a, *a1 = a + lda, *a2 = a + 2 * lda, *a3 = a + 3 * lda, *a4 = a + 4 * lda, *a5 = a + 5 * lda;
    for (long r = 0; r < k; r++, panel += PANEL) {
        __m256 b0 = _mm256_loadu_ps(panel), b1 = _mm256_loadu_ps(panel + 8), x;
        x = _mm256_broadcast_ss(a0 + r); c00 = _mm256_fmadd_ps(x, b0, c00); c01 = _mm256_fmadd_ps(x, b1, c01);
        x = _mm256_broadcast_ss(a1 + r); c10 = _mm256_fmadd_ps(x, b0, c10); c11 = _mm256_fmadd_ps(x, b1, c11);
        x = _mm256_broadcast_ss(a2 + r); c20 = _mm256_fmadd_ps(x, b0, c20); c21 = _mm256_fmadd_ps(x, b1, c21);
        x = _mm256_broadcast_ss(a3 + r); c30 = _mm256_fmadd_ps(x, b0, c30); c31 = _mm256_fmadd_ps(x, b1, c31);
        x = _mm256_broadcast_ss(a4 + r); c40 = _mm256_fmadd_ps(x, b0, c40); c41 = _mm256_fmadd_ps(x, b1, c41);
        x = _mm256_broadcast_ss(a5 + r); c50 = _mm256_fmadd_ps(x, b0, c50); c51 = _mm256_fmadd_ps(x, b1, c51);
    }
    store_avx2(c, c00, c01, width, accumulate);
    store_avx2(c + ldc, c10, c11, width, accumulate);
    store_avx2(c + 2 * ldc, c20, c21, width, accumulate);
    store_avx2(c + 3 * ldc, c30, c31, width, accumulate);
    store_avx2(c + 4 * ldc, c40, c41, width, accumulate);
    store_avx2(c + 5 * ldc, c50, c51, width, accumulate);
}

// One row of a against four panels at once: eight independent accumulators keep the FMA units
// busy where a single panel would wait on its two dependency chains (batch 1 is all this).
AVX2 static void row_avx2(long n, long k, const float *a, const float *packed, float *c, int accumulate) {
    long panels = (n + PANEL - 1) / PANEL, p = 0;
    for (; p + 4 <= panels; p += 4) {
        const float *q0 = packed + p * k * PANEL, *q1 = q0 + k * PANEL, *q2 = q1 + k * PANEL, *q3 = q2 + k * PANEL;
        __m256 s00 = _mm256_setzero_ps(), s01 = s00, s10 = s00, s11 = s00, s20 = s00, s21 = s00, s30 = s00, s31 = s00;
        for (long r = 0; r < k; r++) {
            __m256 x = _mm256_broadcast_ss(a + r);
            long o = r * PANEL;
            s00 = _mm256_fmadd_ps(x, _mm256_loadu_ps(q0 + o), s00); s01 = _mm256_fmadd_ps(x, _mm256_loadu_ps(q0 + o + 8), s01);
            s10 = _mm256_fmadd_ps(x, _mm256_loadu_ps(q1 + o), s10); s11 = _mm256_fmadd_ps(x, _mm256_loadu_ps(q1 + o + 8), s11);
            s20 = _mm256_fmadd_ps(x, _mm256_loadu_ps(q2 + o), s20); s21 = _mm256_fmadd_ps(x, _mm256_loadu_ps(q2 + o + 8), s21);
            s30 = _mm256_fmadd_ps(x, _mm256_loadu_ps(q3 + o), s30); s31 = _mm256_fmadd_ps(x, _mm256_loadu_ps(q3 + o + 8), s31);
        }
        long column = p * PANEL;
        store_avx2(c + column, s00, s01, n - column < PANEL ? n - column : PANEL, accumulate);
        store_avx2(c + column + 16, s10, s11, n - column - 16 < PANEL ? n - column - 16 : PANEL, accumulate);
        store_avx2(c + column + 32, s20, s21, n - column - 32 < PANEL ? n - column - 32 : PANEL, accumulate);
        store_avx2(c + column + 48, s30, s31, n - column - 48 < PANEL ? n - column - 48 : PANEL, accumulate);
    }
    for (; p < panels; p++) {
        const float *q = packed + p * k * PANEL;
        __m256 low = _mm256_setzero_ps(), high = low;
        for (long r = 0; r < k; r++) {
            __m256 x = _mm256_broadcast_ss(a + r);
            low = _mm256_fmadd_ps(x, _mm256_loadu_ps(q + r * PANEL), low);
            high = _mm256_fmadd_ps(x, _mm256_loadu_ps(q + r * PANEL + 8), high);
        }
        long column = p * PANEL;
        store_avx2(c + column, low, high, n - column < PANEL ? n - column : PANEL, accumulate);
    }
}

AVX2 static void gemm_avx2(long m, long n, long k, const float *a, long lda, const float *packed,
                           float *c, long ldc, int accumulate) {
    long panels = (n + PANEL - 1) / PANEL;
    // Chunks of rows small enough to stay in cache while every panel passes over them.
    for (long first = 0; first < m; first += ROWS_PER_CHUNK) {
        long last = m - first < ROWS_PER_CHUNK ? m : first + ROWS_PER_CHUNK;
        for (long p = 0; p < panels; p++) {
            const float *panel = packed + p * k * PANEL;
            long column = p * PANEL, width = n - column < PANEL ? n - column : PANEL;
            long i = first;
            for (; i + ROWS_PER_BLOCK <= last; i += ROWS_PER_BLOCK) {
                block6_avx2(k, a + i * lda, lda, panel, c + i * ldc + column, ldc, width, accumulate);
            }
            for (; i < last; i++) {
                __m256 low = _mm256_setzero_ps(), high = low;
                for (long r = 0; r < k; r++) {
                    __m256 x = _mm256_broadcast_ss(a + i * lda + r);
                    low = _mm256_fmadd_ps(x, _mm256_loadu_ps(panel + r * PANEL), low);
                    high = _mm256_fmadd_ps(x, _mm256_loadu_ps(panel + r * PANEL + 8), high);
                }
                store_avx2(c + i * ldc + column, low, high, width, accumulate);
            }
        }
    }
}

static int has_avx2_fma(void) {
    static int answer = -1;  // a benign race: every thread computes the same value
    if (answer < 0) answer = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    return answer;
}
#endif

void rnnkit_gemm_packed(long m, long n, long k, const float *a, long lda, const float *packed,
                        float *c, long ldc, int accumulate) {
#if defined(__x86_64__)
    if (has_avx2_fma()) {
        if (m == 1) row_avx2(n, k, a, packed, c, accumulate);
        else gemm_avx2(m, n, k, a, lda, packed, c, ldc, accumulate);
        return;
    }
#endif
    gemm_portable(m, n, k, a, lda, packed, c, ldc, accumulate);
}

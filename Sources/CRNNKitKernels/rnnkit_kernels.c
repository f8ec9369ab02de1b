#include "rnnkit_kernels.h"
#include "cpu.h"
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

// The element-wise work of the time loop. Every body below is branch-free, so that clang
// vectorises it; cpu.h compiles each three times (AVX-512, AVX2/FMA and baseline) and picks one
// at run time.

int rnnkit_best_kernel_path(void) {
#if defined(__x86_64__)
    // __builtin_cpu_supports also checks that the operating system saves the wide registers.
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bw")
        && __builtin_cpu_supports("avx512dq"))
        return RNNKIT_KERNEL_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return RNNKIT_KERNEL_AVX2;
#endif
    return RNNKIT_KERNEL_PORTABLE;
}

static _Atomic int kernel_path = -1;

int rnnkit_kernel_path(void) {
    int path = atomic_load_explicit(&kernel_path, memory_order_relaxed);
    if (path >= 0) return path;
    path = rnnkit_best_kernel_path();
    const char *requested = getenv("RNNKIT_KERNEL");
    if (requested) {
        int wanted = !strcmp(requested, "portable") ? RNNKIT_KERNEL_PORTABLE
            : !strcmp(requested, "avx2") ? RNNKIT_KERNEL_AVX2
            : !strcmp(requested, "avx512") ? RNNKIT_KERNEL_AVX512 : path;
        if (wanted < path) path = wanted;
    }
    int expected = -1;  // a first setting made meanwhile wins
    if (!atomic_compare_exchange_strong(&kernel_path, &expected, path)) path = expected;
    return path;
}

int rnnkit_set_kernel_path(int path) {
    int best = rnnkit_best_kernel_path();
    if (path > best) path = best;
    if (path < 0) path = RNNKIT_KERNEL_PORTABLE;
    atomic_store_explicit(&kernel_path, path, memory_order_relaxed);
    return path;
}

// tanh(x) ≈ x·P(x²)/Q(x²) on [-8, 8], and ±tanh(8) beyond (1 − tanh(8) = 2.3e-7). One
// division and no exponent-bit tricks: about 40% cheaper than going through exp. The minimax
// coefficients are RNNKit's own, fitted by Tools/fit_tanh.py: max error 1.7e-8 in exact
// arithmetic, 3.5e-7 with float32 rounding.
RNNKIT_INLINE float tanh_approx(float x) {
    x = x < -8.0f ? -8.0f : (x > 8.0f ? 8.0f : x);
    float u = x * x;
    float p = 2.302651873e-11f;
    p = p * u - 1.451723284e-08f;
    p = p * u + 9.815597416e-06f;
    p = p * u + 2.978818260e-03f;
    p = p * u + 1.297258623e-01f;
    p = p * u + 9.999999130e-01f;
    float q = 2.362389868e-04f;
    q = q * u + 2.399885856e-02f;
    q = q * u + 4.630588389e-01f;
    q = q * u + 1.0f;
    return x * p / q;
}

// σ(x) = (1 + tanh(x/2)) / 2.
RNNKIT_INLINE float sigmoid_approx(float x) { return 0.5f * tanh_approx(0.5f * x) + 0.5f; }

RNNKIT_INLINE void sigmoid_body(float *restrict values, long count) {
    for (long i = 0; i < count; i++) values[i] = sigmoid_approx(values[i]);
}
RNNKIT_DISPATCH(rnnkit_sigmoid, sigmoid_body, (float *values, long count), (values, count))

RNNKIT_INLINE void tanh_body(float *restrict values, long count) {
    for (long i = 0; i < count; i++) values[i] = tanh_approx(values[i]);
}
RNNKIT_DISPATCH(rnnkit_tanh, tanh_body, (float *values, long count), (values, count))

RNNKIT_INLINE void lstm_step_body(long batch, long units, long first, long count, const float *restrict gates,
                                  float *restrict h, float *restrict c) {
    for (long row = 0; row < batch; row++, gates += 4 * units, h += units, c += units) {
        for (long u = first; u < first + count; u++) {
            float input = sigmoid_approx(gates[u]), forget = sigmoid_approx(gates[units + u]);
            float candidate = tanh_approx(gates[2 * units + u]), output = sigmoid_approx(gates[3 * units + u]);
            float cell = forget * c[u] + input * candidate;
            c[u] = cell;
            h[u] = output * tanh_approx(cell);
        }
    }
}
RNNKIT_DISPATCH(rnnkit_lstm_step, lstm_step_body,
                (long batch, long units, long first, long count, const float *gates, float *h, float *c),
                (batch, units, first, count, gates, h, c))

// h_out may be h: each unit reads its own state before writing it, so the loop is safe to
// vectorise either way.
RNNKIT_INLINE void gru_step_body(long batch, long units, long first, long count, const float *input,
                                 const float *recurrent, const float *h, float *h_out) {
    for (long row = 0; row < batch; row++, input += 3 * units, recurrent += 3 * units, h += units, h_out += units) {
#pragma clang loop vectorize(assume_safety)
        for (long u = first; u < first + count; u++) {
            float update = sigmoid_approx(input[u] + recurrent[u]);
            float reset = sigmoid_approx(input[units + u] + recurrent[units + u]);
            float candidate = tanh_approx(input[2 * units + u] + reset * recurrent[2 * units + u]);
            h_out[u] = update * h[u] + (1.0f - update) * candidate;
        }
    }
}
RNNKIT_DISPATCH(rnnkit_gru_step, gru_step_body,
                (long batch, long units, long first, long count, const float *input, const float *recurrent,
                 const float *h, float *h_out),
                (batch, units, first, count, input, recurrent, h, h_out))

// Blocks of 1024 values are tested with a vectorisable reduction (an exponent of all ones is NaN
// or infinity); only a block that has one is searched value by value.
RNNKIT_INLINE long first_nonfinite_body(const float *values, long count) {
    enum { BLOCK = 1024 };
    for (long start = 0; start < count; start += BLOCK) {
        long end = count - start < BLOCK ? count : start + BLOCK;
        unsigned int found = 0;
        for (long i = start; i < end; i++) {
            unsigned int bits;
            memcpy(&bits, values + i, sizeof bits);
            found |= (bits & 0x7f800000u) == 0x7f800000u;
        }
        if (!found) continue;
        for (long i = start; i < end; i++) {
            unsigned int bits;
            memcpy(&bits, values + i, sizeof bits);
            if ((bits & 0x7f800000u) == 0x7f800000u) return i;
        }
    }
    return -1;
}

long rnnkit_first_nonfinite(const float *values, long count) {
    return first_nonfinite_body(values, count);
}

// e^x = 2^n · e^r with n = round(x / ln 2) and |r| ≤ ln 2 / 2, e^r by its Taylor series to r^7
// (truncation below 1e-8 relative; within 2 ulp of libm with float rounding). ln 2 is split
// (Cody and Waite) so that n · ln2_high is exact, and 2^n is applied as two normal powers of
// two, since n reaches 128 just below the overflow. Where e^x is subnormal (x below -87.34) the
// result is 0: softmax's hidden steps, 1e9 below the others, come out as exact zeros. Above
// 88.72 it is infinite, as e^x overflows; NaN stays NaN.
RNNKIT_INLINE float exp_approx(float x) {
    const float lowest = -87.3365448f, highest = 88.7228394f;  // ln FLT_MIN, ln FLT_MAX
    float clamped = x < lowest ? lowest : (x > highest ? highest : x);
    float n = __builtin_rintf(clamped * 1.44269504088896341f);
    float r = clamped - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    float p = 1.0f / 5040;
    p = p * r + 1.0f / 720;
    p = p * r + 1.0f / 120;
    p = p * r + 1.0f / 24;
    p = p * r + 1.0f / 6;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    int half = (int)n >> 1, rest = (int)n - half;
    int bits_half = (half + 127) << 23, bits_rest = (rest + 127) << 23;
    float scale_half, scale_rest;
    memcpy(&scale_half, &bits_half, sizeof scale_half);
    memcpy(&scale_rest, &bits_rest, sizeof scale_rest);
    float y = x < lowest ? 0.0f : (x > highest ? __builtin_inff() : p * scale_half * scale_rest);
    return x != x ? x : y;
}

// Largest and sum in 16 independent lanes, summed at the end: the compiler vectorises the lanes
// (a single running sum would be a chain of additions), and every path adds in the same order.
enum { LANES = 16 };

RNNKIT_INLINE float largest_of(const float *restrict values, long length) {
    float lanes[LANES];
    for (long l = 0; l < LANES; l++) lanes[l] = values[0];
    long j = 0;
    for (; j + LANES <= length; j += LANES)
        for (long l = 0; l < LANES; l++) lanes[l] = values[j + l] > lanes[l] ? values[j + l] : lanes[l];
    for (; j < length; j++) lanes[0] = values[j] > lanes[0] ? values[j] : lanes[0];
    float largest = lanes[0];
    for (long l = 1; l < LANES; l++) largest = lanes[l] > largest ? lanes[l] : largest;
    return largest;
}

RNNKIT_INLINE float sum_of(const float *restrict values, long length) {
    float lanes[LANES] = {0};
    long j = 0;
    for (; j + LANES <= length; j += LANES)
        for (long l = 0; l < LANES; l++) lanes[l] += values[j + l];
    for (; j < length; j++) lanes[0] += values[j];
    float total = 0;
    for (long l = 0; l < LANES; l++) total += lanes[l];
    return total;
}

RNNKIT_INLINE void softmax_body(float *restrict values, long rows, long length) {
    for (long row = 0; row < rows; row++, values += length) {
        if (length <= 0) return;
        float largest = largest_of(values, length);
        for (long j = 0; j < length; j++) values[j] = exp_approx(values[j] - largest);
        float total = sum_of(values, length);
        for (long j = 0; j < length; j++) values[j] /= total;
    }
}
RNNKIT_DISPATCH(rnnkit_softmax, softmax_body, (float *values, long rows, long length), (values, rows, length))

RNNKIT_INLINE void exp_body(float *restrict values, long count) {
    for (long i = 0; i < count; i++) values[i] = exp_approx(values[i]);
}
RNNKIT_DISPATCH(rnnkit_exp, exp_body, (float *values, long count), (values, count))

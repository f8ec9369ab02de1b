#include "rnnkit_kernels.h"
#include "cpu.h"
#include <stdint.h>
#include <string.h>

// The element-wise work of the time loop. Every body below is branch-free, so that clang
// vectorises it; cpu.h compiles each twice (AVX2/FMA and baseline) and picks one at run time.

// exp(x) by Cephes's method: x = n·ln2 + r, a degree-6 polynomial for e^r, and 2^n built in the
// exponent bits.
RNNKIT_INLINE float exp_approx(float x) {
    x = x < -87.3f ? -87.3f : (x > 88.3f ? 88.3f : x);
    // Adding 1.5·2^23 rounds x·log2(e) to the nearest integer, left in the low mantissa bits.
    float shifted = x * 1.44269504088896341f + 12582912.0f;
    float n = shifted - 12582912.0f;
    float r = x - n * 0.693359375f + n * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    float y = p * (r * r) + r + 1.0f;
    int32_t bits;
    memcpy(&bits, &shifted, sizeof bits);
    bits = (bits - 0x4B400000 + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return y * scale;
}

RNNKIT_INLINE float sigmoid_approx(float x) { return 1.0f / (1.0f + exp_approx(-x)); }

RNNKIT_INLINE float tanh_approx(float x) {
    x = x < -9.0f ? -9.0f : (x > 9.0f ? 9.0f : x);  // tanh is ±1 in float32 beyond 9
    return 1.0f - 2.0f / (exp_approx(2.0f * x) + 1.0f);
}

RNNKIT_INLINE void sigmoid_body(float *restrict values, long count) {
    for (long i = 0; i < count; i++) values[i] = sigmoid_approx(values[i]);
}
RNNKIT_DISPATCH(rnnkit_sigmoid, sigmoid_body, (float *values, long count), (values, count))

RNNKIT_INLINE void tanh_body(float *restrict values, long count) {
    for (long i = 0; i < count; i++) values[i] = tanh_approx(values[i]);
}
RNNKIT_DISPATCH(rnnkit_tanh, tanh_body, (float *values, long count), (values, count))

RNNKIT_INLINE void lstm_step_body(long batch, long units, const float *restrict gates, float *restrict h,
                                  float *restrict c) {
    for (long row = 0; row < batch; row++, gates += 4 * units, h += units, c += units) {
        for (long u = 0; u < units; u++) {
            float input = sigmoid_approx(gates[u]), forget = sigmoid_approx(gates[units + u]);
            float candidate = tanh_approx(gates[2 * units + u]), output = sigmoid_approx(gates[3 * units + u]);
            float cell = forget * c[u] + input * candidate;
            c[u] = cell;
            h[u] = output * tanh_approx(cell);
        }
    }
}
RNNKIT_DISPATCH(rnnkit_lstm_step, lstm_step_body,
                (long batch, long units, const float *gates, float *h, float *c), (batch, units, gates, h, c))

RNNKIT_INLINE void gru_step_body(long batch, long units, const float *restrict input,
                                 const float *restrict recurrent, float *restrict h) {
    for (long row = 0; row < batch; row++, input += 3 * units, recurrent += 3 * units, h += units) {
        for (long u = 0; u < units; u++) {
            float update = sigmoid_approx(input[u] + recurrent[u]);
            float reset = sigmoid_approx(input[units + u] + recurrent[units + u]);
            float candidate = tanh_approx(input[2 * units + u] + reset * recurrent[2 * units + u]);
            h[u] = update * h[u] + (1.0f - update) * candidate;
        }
    }
}
RNNKIT_DISPATCH(rnnkit_gru_step, gru_step_body,
                (long batch, long units, const float *input, const float *recurrent, float *h),
                (batch, units, input, recurrent, h))

#include "rnnkit_kernels.h"
#include <stdint.h>
#include <string.h>

// exp(x) by Cephes's method: x = n·ln2 + r, a degree-6 polynomial for e^r, and 2^n built in the
// exponent bits. Branch-free so that the loops below vectorise.
static inline float rnnkit_exp(float x) {
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

void rnnkit_sigmoid(float *values, long count) {
    for (long i = 0; i < count; i++) values[i] = 1.0f / (1.0f + rnnkit_exp(-values[i]));
}

void rnnkit_tanh(float *values, long count) {
    for (long i = 0; i < count; i++) {
        float x = values[i];
        x = x < -9.0f ? -9.0f : (x > 9.0f ? 9.0f : x);  // tanh is ±1 in float32 beyond 9
        values[i] = 1.0f - 2.0f / (rnnkit_exp(2.0f * x) + 1.0f);
    }
}

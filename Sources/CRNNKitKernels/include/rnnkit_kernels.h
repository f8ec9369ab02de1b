// Element-wise kernels for the recurrent cells' gates, in C so that clang vectorises them
// (Swift's generic SIMD types do not compile to tight vector code here).
#ifndef RNNKIT_KERNELS_H
#define RNNKIT_KERNELS_H

/// values[i] = 1 / (1 + exp(-values[i])), within about 1e-7 of libm.
void rnnkit_sigmoid(float *values, long count);
/// values[i] = tanh(values[i]), within about 1e-7 of libm.
void rnnkit_tanh(float *values, long count);

#endif

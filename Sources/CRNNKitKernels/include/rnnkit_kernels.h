// Kernels of the recurrent time loop, in C so that clang vectorises them (Swift's generic SIMD
// types do not compile to tight vector code here): the gates' element-wise activations, and the
// product with a recurrent kernel packed once at load time.
#ifndef RNNKIT_KERNELS_H
#define RNNKIT_KERNELS_H

/// values[i] = 1 / (1 + exp(-values[i])), within about 1e-7 of libm.
void rnnkit_sigmoid(float *values, long count);
/// values[i] = tanh(values[i]), within about 1e-7 of libm.
void rnnkit_tanh(float *values, long count);

/// Floats that `rnnkit_pack` writes for a [k, n] matrix: n rounded up to panels of 16 columns.
long rnnkit_packed_count(long k, long n);
/// Packs the row-major [k, n] matrix b (row stride ldb) into panels for `rnnkit_gemm_packed`.
void rnnkit_pack(long k, long n, const float *b, long ldb, float *packed);
/// c[m, n] = (accumulate ? c : 0) + a[m, k] · b, with b packed by `rnnkit_pack`; a and c are
/// row-major with row strides lda and ldc.
void rnnkit_gemm_packed(long m, long n, long k, const float *a, long lda, const float *packed,
                        float *c, long ldc, int accumulate);

#endif

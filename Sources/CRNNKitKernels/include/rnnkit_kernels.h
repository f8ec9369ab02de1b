// Kernels of the recurrent time loop, in C so that clang vectorises them (Swift's generic SIMD
// types do not compile to tight vector code here): the gates' element-wise activations, the
// fused cell steps, and the product with a kernel packed once per predictor. Each picks its
// AVX2/FMA or baseline variant at run time.
#ifndef RNNKIT_KERNELS_H
#define RNNKIT_KERNELS_H

/// values[i] = 1 / (1 + exp(-values[i])), within 4e-7 of libm.
void rnnkit_sigmoid(float *values, long count);
/// values[i] = tanh(values[i]), within 4e-7 of libm.
void rnnkit_tanh(float *values, long count);

/// One LSTM step with Keras's default activations (sigmoid gates, tanh) for `batch` rows:
/// gates [batch, 4·units] holds the pre-activations of i, f, c, o (input and recurrent parts
/// summed, biases added); updates h and c [batch, units] in place.
void rnnkit_lstm_step(long batch, long units, const float *gates, float *h, float *c);
/// One GRU step (reset_after, sigmoid gates, tanh) for `batch` rows: input = x·kernel + input
/// bias and recurrent = h·recurrent_kernel + recurrent bias, both [batch, 3·units] in blocks
/// z, r, h; updates h [batch, units] in place.
void rnnkit_gru_step(long batch, long units, const float *input, const float *recurrent, float *h);

/// The index of the first NaN or infinite value, or -1 when all are finite.
long rnnkit_first_nonfinite(const float *values, long count);

/// Floats that `rnnkit_pack` writes for a [k, n] matrix: n rounded up to panels of 16 columns.
long rnnkit_packed_count(long k, long n);
/// Packs the row-major [k, n] matrix b (row stride ldb) into panels for `rnnkit_gemm_packed`.
void rnnkit_pack(long k, long n, const float *b, long ldb, float *packed);
/// c[m, n] = (accumulate ? c : 0) + bias + a[m, k] · b, with b packed by `rnnkit_pack` and the
/// bias [n] broadcast over rows (none when NULL); a and c are row-major with row strides lda
/// and ldc. Each sum starts from the bias and adds the products in order of k.
void rnnkit_gemm_packed(long m, long n, long k, const float *a, long lda, const float *packed,
                        const float *bias, float *c, long ldc, int accumulate);

#endif

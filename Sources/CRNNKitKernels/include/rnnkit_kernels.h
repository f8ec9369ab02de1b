// Kernels of the recurrent time loop, in C so that clang vectorises them (Swift's generic SIMD
// types do not compile to tight vector code here): the gates' element-wise activations, the
// fused cell steps, and the product with a kernel packed once per predictor. Each picks its
// AVX-512, AVX2/FMA or baseline variant at run time (rnnkit_kernel_path).
#ifndef RNNKIT_KERNELS_H
#define RNNKIT_KERNELS_H

/// Raises glibc's mmap and trim thresholds so freed layer outputs are reused (process-wide).
void rnnkit_reuse_freed_memory(void);

/// The instruction sets a kernel variant may use.
enum { RNNKIT_KERNEL_PORTABLE = 0, RNNKIT_KERNEL_AVX2 = 1, RNNKIT_KERNEL_AVX512 = 2 };
/// The best path this CPU (and its operating system) can run.
int rnnkit_best_kernel_path(void);
/// The path the kernels run: the best one, or a lower one named by the environment variable
/// RNNKIT_KERNEL (portable, avx2, avx512) when the process first asks, or by rnnkit_set_kernel_path.
int rnnkit_kernel_path(void);
/// Forces `path` (at most the best one); returns the path now in force.
int rnnkit_set_kernel_path(int path);

/// values[i] = 1 / (1 + exp(-values[i])), within 4e-7 of libm.
void rnnkit_sigmoid(float *values, long count);
/// values[i] = tanh(values[i]), within 4e-7 of libm.
void rnnkit_tanh(float *values, long count);

/// One LSTM step with Keras's default activations (sigmoid gates, tanh) for `batch` rows:
/// gates [batch, 4·units] holds the pre-activations of i, f, c, o (input and recurrent parts
/// summed, biases added); updates h and c [batch, units] in place.
/// Only the units [first, first + count) are computed (the other columns are not touched), so that
/// two threads can each run a share of the units. Within 1e-6·(1 + |c|) of the exact equations.
/// `huge_states`: whether some state may lie beyond 2^96 (see `rnnkit_has_huge_state`), which the
/// step then scales; the other states give the same numbers either way.
void rnnkit_lstm_step(long batch, long units, long first, long count, const float *gates, float *h, float *c,
                      int huge_states);
/// One GRU step (reset_after, sigmoid gates, tanh) for `batch` rows: input = x·kernel + input
/// bias and recurrent = h·recurrent_kernel + recurrent bias, both [batch, 3·units] in blocks
/// z, r, h; h_out = z·h + (1 − z)·candidate, h [batch, units] (h_out may be h). Only the units
/// [first, first + count). Within 1e-6·(1 + |recurrent's h block|) of the exact equations (the
/// reset gate's rounding is scaled by it). `huge_states` as for `rnnkit_lstm_step`.
void rnnkit_gru_step(long batch, long units, long first, long count, const float *input, const float *recurrent,
                     const float *h, float *h_out, int huge_states);
/// Whether one of the states is beyond 2^96 (or infinite or NaN): the fused steps' common
/// denominators would overflow from about 2e31 on without scaling it. A state grows by at most 1
/// a step (|c'| ≤ |c| + 1, |h'| ≤ max(|h|, 1)), so the states a sequence starts from decide.
int rnnkit_has_huge_state(const float *states, long count);

/// The index of the first NaN or infinite value, or -1 when all are finite.
long rnnkit_first_nonfinite(const float *values, long count);

/// Floats that `rnnkit_pack` writes for a [k, n] matrix: n rounded up to panels of 16 columns.
long rnnkit_packed_count(long k, long n);
/// Packs the row-major [k, n] matrix b (row stride ldb) into panels for `rnnkit_gemm_packed`:
/// panel p holds columns 16p..16p+15, row after row (k × 16 floats, zero-padded).
/// `panel_stride` is the floats from one panel to the next: 16·k, or more to pack b as the first
/// rows of a taller matrix (packed then points at its first row of the first panel).
void rnnkit_pack(long k, long n, const float *b, long ldb, float *packed, long panel_stride);
/// Packs the transpose of bt [n, k] (row stride ldbt) like `rnnkit_pack` packs a [k, n] matrix.
void rnnkit_pack_transposed(long k, long n, const float *bt, long ldbt, float *packed, long panel_stride);
/// Flags of `rnnkit_gemm_packed`.
enum {
    /// Add to what c holds instead of overwriting it.
    RNNKIT_GEMM_ACCUMULATE = 1,
    /// Go over the panels from the last to the first (the same numbers): a matrix a little larger
    /// than the cache, multiplied forward and backward in turn, starts each pass on the part the
    /// previous pass left in the cache.
    RNNKIT_GEMM_BACKWARD = 2,
};
/// c[m, n] = (accumulate ? c : 0) + bias + a[m, k] · b, with b packed by `rnnkit_pack` and the
/// bias [n] broadcast over rows (none when NULL); a and c are row-major with row strides lda
/// and ldc. `panel_stride` is the floats from one panel to the next (16·k for a whole packed
/// matrix; more for a block of rows of a taller one, whose `packed` starts at its first row, or at a
/// later panel for a block of columns). Each sum starts from the bias and adds the products in
/// order of k, so any split of rows or columns gives the same numbers on one path.
void rnnkit_gemm_packed(long m, long n, long k, const float *a, long lda, const float *packed, long panel_stride,
                        const float *bias, float *c, long ldc, int flags);

/// The rows of a projection that rides along a batch-1 recurrent product (`rnnkit_gemv_riding`).
enum { RNNKIT_RIDING_ROWS = 8 };
/// The panels [first_panel, last_panel) of out[RNNKIT_RIDING_ROWS, n] = bias + a · b, with b [k, n]
/// packed by `rnnkit_pack` and a given k-major: a[r · RNNKIT_RIDING_ROWS + i] is row i's value r
/// (so that the rows' values at r are adjacent).
typedef struct {
    long n, k;
    const float *a;
    const float *packed;
    long panel_stride;
    const float *bias;  // [n], or NULL
    float *out;
    long ldo;
    long first_panel, last_panel;
} rnnkit_riding_projection;
/// RNNKIT_RIDING_ROWS where riding pays on this kernel path (AVX-512), 0 where
/// `rnnkit_gemv_riding` would only give the same numbers more slowly than the two products apart.
long rnnkit_riding_rows(void);
/// rnnkit_gemm_packed with m = 1 (one row a), and `ride`'s panels as well: a batch-1 time step
/// reads the whole recurrent kernel from L2 and leaves the multiply units mostly idle, so the input
/// projection of later steps, computed in the same pass, comes almost free. The same numbers as
/// the two products apart (each sum from its bias, in order of k), on every path.
void rnnkit_gemv_riding(long n, long k, const float *a, const float *packed, long panel_stride, const float *bias,
                        float *c, int flags, const rnnkit_riding_projection *ride);

/// A part of a job that two threads share: `part` is 0 on the calling thread, 1 on the helper.
typedef void (*rnnkit_part_function)(void *context, long part);
/// Runs function(context, 0) here and function(context, 1) on a helper thread that the process
/// keeps (asleep between jobs), and returns 1 when both returned. Returns 0 at once, running
/// nothing, when the helper is taken (a pair is running, possibly this thread's own).
int rnnkit_run_pair(rnnkit_part_function function, void *context);

/// A barrier for `parties` threads that spins (then yields) instead of sleeping: one per time
/// step of a sequence that two threads share.
typedef struct rnnkit_barrier rnnkit_barrier;
rnnkit_barrier *rnnkit_barrier_create(long parties);
/// Waits until every party (numbered 0 to parties − 1) has called this as often as `part` has.
void rnnkit_barrier_wait(rnnkit_barrier *barrier, long part);
void rnnkit_barrier_destroy(rnnkit_barrier *barrier);

/// values[i] = e^values[i], within 2 ulp of libm; 0 where e^x is subnormal (below -87.34),
/// infinite where it overflows.
void rnnkit_exp(float *values, long count);
/// The softmax of each of `rows` rows of `length` values, in place: e^(x − the row's largest)
/// over their sum (exp as rnnkit_exp).
void rnnkit_softmax(float *values, long rows, long length);

/// Asks the caches for `rows` rows of `bytes` bytes, `stride` bytes apart from `first` (to be
/// written when `for_writing`): rows strided far apart that a later step reads or writes, which
/// the hardware's prefetchers do not see coming.
void rnnkit_prefetch_rows(const void *first, long rows, long stride, long bytes, int for_writing);

#endif

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

// tanh(x) ≈ x·P(x²)/Q(x²) on [-8, 8], and ±tanh(8) beyond (1 − tanh(8) = 2.3e-7). No
// exponent-bit tricks: about 40% cheaper than going through exp. The minimax coefficients are
// RNNKit's own, fitted by Tools/fit_tanh.py: max error 1.7e-8 in exact arithmetic, 3.5e-7 with
// float32 rounding.
//
// The activations hand out their fraction's parts rather than its value, so that a cell step
// can put the fractions of its gates over one denominator and divide twice per unit instead of
// once per gate (the fused steps below).
typedef struct {
    float x;  // the clamped input
    float p;  // s·P(s²x²)
    float q;  // k·Q(s²x²): Q lies in [1, 192) on the clamped range
} tanh_fraction;

// tanh(s·x) = k·x·p/q, for s and k powers of two: (s·x)·P((s·x)²) = x·(s·P(s²x²)), so s and
// k are folded into the coefficients, each scaled by a power of two, which is exact (the parts
// are those of tanh at s·x, bit for bit). Each clamp is its own comparison, so that it compiles
// to one min or max, and a NaN input stays NaN.
RNNKIT_INLINE tanh_fraction tanh_parts(float x, float s, float k) {
    const float limit = 8.0f / s;
    x = x > limit ? limit : x;
    x = x < -limit ? -limit : x;
    const float u = x * x, s2 = s * s;
    float p = 2.302651873e-11f * (s * s2 * s2 * s2 * s2 * s2);
    p = p * u - 1.451723284e-08f * (s * s2 * s2 * s2 * s2);
    p = p * u + 9.815597416e-06f * (s * s2 * s2 * s2);
    p = p * u + 2.978818260e-03f * (s * s2 * s2);
    p = p * u + 1.297258623e-01f * (s * s2);
    p = p * u + 9.999999130e-01f * s;
    float q = 2.362389868e-04f * (k * s2 * s2 * s2);
    q = q * u + 2.399885856e-02f * (k * s2 * s2);
    q = q * u + 4.630588389e-01f * (k * s2);
    q = q * u + k;
    return (tanh_fraction){x, p, q};
}

// tanh(x) = n/q with n = x·p (|n| < q).
RNNKIT_INLINE tanh_fraction tanh_fraction_of(float x) { return tanh_parts(x, 1.0f, 1.0f); }
RNNKIT_INLINE float tanh_numerator(tanh_fraction t) { return t.x * t.p; }

// σ(x) = (1 + tanh(x/2)) / 2 = (q + x·p) / (2q) with the parts of tanh(x/2). The numerator
// n = q + x·p lies in [0, 2q]; where q and x·p nearly cancel (x ≪ 0) it keeps an error of a
// few units of q's last place, which the division by 2q brings below 1e-7.
RNNKIT_INLINE tanh_fraction sigmoid_fraction_of(float x) { return tanh_parts(x, 0.5f, 1.0f); }
RNNKIT_INLINE float sigmoid_numerator(tanh_fraction t) { return t.x * t.p + t.q; }
// 1 − σ(x) = σ(−x) = (q − x·p) / (2q).
RNNKIT_INLINE float sigmoid_complement_numerator(tanh_fraction t) { return t.q - t.x * t.p; }

RNNKIT_INLINE float tanh_approx(float x) {
    tanh_fraction t = tanh_fraction_of(x);
    return tanh_numerator(t) / t.q;
}
RNNKIT_INLINE float sigmoid_approx(float x) {
    tanh_fraction t = sigmoid_fraction_of(x);
    return sigmoid_numerator(t) / (t.q + t.q);
}

// Runs `body` for each i in [first, first + count), vectorised: the indices up to the last whole
// multiple of 32 two vectors at a time (the second vector's independent work fills the gaps in
// the first one's chains of dependent multiply-adds: the LSTM step runs 10-20% faster), the rest
// one vector at a time, so that a share of 16 units still runs at AVX-512's full width rather
// than in a narrow epilogue. Each body touches only its own index i (h_out may be h in the GRU
// step: a unit reads its state before writing it), so the loops are safe to vectorise.
#define FOR_EACH_INDEX(i, first, count, body)                                           \
    do {                                                                                \
        const long split_ = (first) + ((count) & ~31L), end_ = (first) + (count);       \
        _Pragma("clang loop vectorize(assume_safety) interleave_count(2)")              \
        for (long i = (first); i < split_; i++) body;                                   \
        _Pragma("clang loop vectorize(assume_safety)")                                  \
        for (long i = split_; i < end_; i++) body;                                      \
    } while (0)

RNNKIT_INLINE void sigmoid_body(float *restrict values, long count) {
    FOR_EACH_INDEX(i, 0, count, values[i] = sigmoid_approx(values[i]));
}
RNNKIT_DISPATCH(rnnkit_sigmoid, sigmoid_body, (float *values, long count), (values, count))

RNNKIT_INLINE void tanh_body(float *restrict values, long count) {
    FOR_EACH_INDEX(i, 0, count, values[i] = tanh_approx(values[i]));
}
RNNKIT_DISPATCH(rnnkit_tanh, tanh_body, (float *values, long count), (values, count))

// Over common denominators: with i = n_i/(2q_i), f = n_f/(2q_f) and the candidate g = n_g/q_g,
//   c' = f·c + i·g = (n_f·c·q_i·q_g + n_i·n_g·q_f) / (2·q_f·q_i·q_g),
// and with o = n_o/(2q_o) and tanh(c') = 2·n_c/q_c (k = 2 doubles q_c, which absorbs o's 2),
//   h' = o·tanh(c') = n_o·n_c / (q_o·q_c):
// two divisions per unit instead of five. Every Q lies in [1, 192) and every |n| ≤ 2Q, so the
// denominators stay within [1, 1.4e7] and the numerators below 1.4e7·(1 + |c|), which overflows
// for a cell state above about 2e31 (a huge initial state) where f·c + i·g does not. A sequence
// that starts from such a state takes the `scaled` variant: a huge state is scaled down by 2^-64
// for the sum and the cell back up, exact powers of two, so that the other states keep the same
// bits. Products and divisions keep float's relative precision, and the one sum adds the same
// two terms as f·c + i·g.
typedef struct {
    float down, up;
} state_scale;
RNNKIT_INLINE state_scale state_scale_of(const int scaled, float state) {
    int huge = scaled && __builtin_fabsf(state) > 0x1p96f;
    return (state_scale){huge ? 0x1p-64f : 1.0f, huge ? 0x1p64f : 1.0f};
}
int rnnkit_has_huge_state(const float *states, long count) {
    unsigned int found = 0;
    for (long i = 0; i < count; i++) {
        unsigned int bits;
        memcpy(&bits, states + i, sizeof bits);
        found |= (bits & 0x7fffffffu) > 0x6f800000u;  // 2^96
    }
    return found != 0;
}
RNNKIT_INLINE void lstm_unit(const int scaled, long units, long u, const float *restrict gates, float *restrict h,
                             float *restrict c) {
    tanh_fraction input = sigmoid_fraction_of(gates[u]), forget = sigmoid_fraction_of(gates[units + u]);
    tanh_fraction candidate = tanh_fraction_of(gates[2 * units + u]);
    tanh_fraction output = sigmoid_fraction_of(gates[3 * units + u]);
    state_scale scale = state_scale_of(scaled, c[u]);
    float input_candidate_q = input.q * candidate.q;
    float kept = sigmoid_numerator(forget) * (c[u] * scale.down) * input_candidate_q;
    float cell = (kept + sigmoid_numerator(input) * tanh_numerator(candidate) * forget.q * scale.down)
        / (2.0f * forget.q * input_candidate_q) * scale.up;
    c[u] = cell;
    tanh_fraction activated = tanh_parts(cell, 1.0f, 2.0f);
    h[u] = sigmoid_numerator(output) * tanh_numerator(activated) / (output.q * activated.q);
}
RNNKIT_INLINE void lstm_step_body(long batch, long units, long first, long count, const float *restrict gates,
                                  float *restrict h, float *restrict c, int huge_states) {
    for (long row = 0; row < batch; row++, gates += 4 * units, h += units, c += units) {
        if (huge_states)
            FOR_EACH_INDEX(u, first, count, lstm_unit(1, units, u, gates, h, c));
        else
            FOR_EACH_INDEX(u, first, count, lstm_unit(0, units, u, gates, h, c));
    }
}
RNNKIT_DISPATCH(rnnkit_lstm_step, lstm_step_body,
                (long batch, long units, long first, long count, const float *gates, float *h, float *c,
                 int huge_states),
                (batch, units, first, count, gates, h, c, huge_states))

// The reset gate's value enters the candidate's input, so it takes its own division. With
// z = n_z/(2q_z), 1 − z = m_z/(2q_z) and the candidate n_c/q_c,
//   h' = z·h + (1 − z)·candidate = (n_z·h·q_c + m_z·n_c) / (2·q_z·q_c):
// two divisions per unit instead of three (the ranges of the LSTM step, with |h| for |c|, and
// the same scaling of a huge state).
RNNKIT_INLINE void gru_unit(const int scaled, long units, long u, const float *input, const float *recurrent,
                            const float *h, float *h_out) {
    tanh_fraction update = sigmoid_fraction_of(input[u] + recurrent[u]);
    float reset = sigmoid_approx(input[units + u] + recurrent[units + u]);
    tanh_fraction candidate = tanh_fraction_of(input[2 * units + u] + reset * recurrent[2 * units + u]);
    state_scale scale = state_scale_of(scaled, h[u]);
    float kept = sigmoid_numerator(update) * (h[u] * scale.down) * candidate.q;
    h_out[u] = (kept + sigmoid_complement_numerator(update) * tanh_numerator(candidate) * scale.down)
        / (2.0f * update.q * candidate.q) * scale.up;
}
RNNKIT_INLINE void gru_step_body(long batch, long units, long first, long count, const float *input,
                                 const float *recurrent, const float *h, float *h_out, int huge_states) {
    for (long row = 0; row < batch; row++, input += 3 * units, recurrent += 3 * units, h += units, h_out += units) {
        if (huge_states)
            FOR_EACH_INDEX(u, first, count, gru_unit(1, units, u, input, recurrent, h, h_out));
        else
            FOR_EACH_INDEX(u, first, count, gru_unit(0, units, u, input, recurrent, h, h_out));
    }
}
RNNKIT_DISPATCH(rnnkit_gru_step, gru_step_body,
                (long batch, long units, long first, long count, const float *input, const float *recurrent,
                 const float *h, float *h_out, int huge_states),
                (batch, units, first, count, input, recurrent, h, h_out, huge_states))

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

void rnnkit_prefetch_rows(const void *first, long rows, long stride, long bytes, int for_writing) {
    const char *row = first;
    for (long r = 0; r < rows; r++, row += stride) {
        for (long offset = 0; offset < bytes; offset += 64) {
            if (for_writing) __builtin_prefetch(row + offset, 1, 2);
            else __builtin_prefetch(row + offset, 0, 2);
        }
    }
}

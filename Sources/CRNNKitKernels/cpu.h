// Picking the AVX2/FMA variant of a kernel at run time, so that one binary runs everywhere and
// uses the wide units where they exist. Private to CRNNKitKernels.
#ifndef RNNKIT_CPU_H
#define RNNKIT_CPU_H

#define RNNKIT_INLINE static inline __attribute__((always_inline))

#if defined(__x86_64__)
#include <immintrin.h>
#define RNNKIT_AVX2 __attribute__((target("avx2,fma")))

RNNKIT_INLINE int rnnkit_has_avx2_fma(void) {
    static int answer = -1;  // a benign race: every thread computes the same value
    if (answer < 0) answer = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    return answer;
}

// Defines `name` (with `parameters`) to run `body_name(arguments)`, compiled twice from the same
// source: once for AVX2/FMA (picked when the CPU has them) and once for the baseline.
#define RNNKIT_DISPATCH(name, body_name, parameters, arguments) \
    RNNKIT_AVX2 static void name##_avx2 parameters { body_name arguments; } \
    static void name##_baseline parameters { body_name arguments; } \
    void name parameters { \
        if (rnnkit_has_avx2_fma()) name##_avx2 arguments; \
        else name##_baseline arguments; \
    }
#else
#define RNNKIT_DISPATCH(name, body_name, parameters, arguments) \
    void name parameters { body_name arguments; }
#endif

#endif

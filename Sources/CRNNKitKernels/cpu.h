// Picking a kernel's variant at run time, so that one binary runs everywhere and uses the wide
// units where they exist: AVX-512 (F, VL, BW, DQ), AVX2 with FMA, or the portable baseline.
// Every variant is compiled from the same source (an always-inlined body, compiled once per
// target attribute), so the paths cannot drift apart. Private to CRNNKitKernels.
#ifndef RNNKIT_CPU_H
#define RNNKIT_CPU_H

#include "rnnkit_kernels.h"

#define RNNKIT_INLINE static inline __attribute__((always_inline))

#if defined(__x86_64__)
#define RNNKIT_AVX2 __attribute__((target("avx2,fma")))
#define RNNKIT_AVX512 __attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,avx2,fma")))

// Defines `name` (with `parameters`) to run `body_name(arguments)`, compiled three times from the
// same source and picked by rnnkit_kernel_path().
#define RNNKIT_DISPATCH(name, body_name, parameters, arguments) \
    RNNKIT_AVX512 static void name##_avx512 parameters { body_name arguments; } \
    RNNKIT_AVX2 static void name##_avx2 parameters { body_name arguments; } \
    static void name##_baseline parameters { body_name arguments; } \
    void name parameters { \
        switch (rnnkit_kernel_path()) { \
        case RNNKIT_KERNEL_AVX512: name##_avx512 arguments; break; \
        case RNNKIT_KERNEL_AVX2: name##_avx2 arguments; break; \
        default: name##_baseline arguments; break; \
        } \
    }
#else
#define RNNKIT_DISPATCH(name, body_name, parameters, arguments) \
    void name parameters { body_name arguments; }
#endif

#endif

internal import CRNNKitKernels

/// The instruction set the runtime's kernels (the packed matrix product, the fused cell steps,
/// tanh and sigmoid) run on in this process: the best this CPU has, picked at run time, or a
/// lower one named by the environment variable `RNNKIT_KERNEL` (`portable`, `avx2` or
/// `avx512`) when the process starts. Every path gives Keras's outputs within 1e-5.
public enum KernelPath: String, Sendable {
    /// Baseline code for any CPU (SSE2 on x86-64).
    case portable
    /// AVX2 with FMA.
    case avx2
    /// AVX-512 (F, VL, BW, DQ).
    case avx512

    /// The path predictions run on.
    public static var current: KernelPath { KernelPath(code: rnnkit_kernel_path()) }

    /// The paths this CPU can run, lowest first.
    static var available: [KernelPath] {
        [.portable, .avx2, .avx512].filter { $0.code <= rnnkit_best_kernel_path() }
    }

    /// Makes the kernels run on `path` (at most the best available) from now on, for every
    /// thread: for tests that run each path in turn.
    static func force(_ path: KernelPath) {
        _ = rnnkit_set_kernel_path(path.code)
    }

    private init(code: Int32) {
        self = code >= Int32(RNNKIT_KERNEL_AVX512) ? .avx512 : code >= Int32(RNNKIT_KERNEL_AVX2) ? .avx2 : .portable
    }

    private var code: Int32 {
        switch self {
        case .portable: Int32(RNNKIT_KERNEL_PORTABLE)
        case .avx2: Int32(RNNKIT_KERNEL_AVX2)
        case .avx512: Int32(RNNKIT_KERNEL_AVX512)
        }
    }
}

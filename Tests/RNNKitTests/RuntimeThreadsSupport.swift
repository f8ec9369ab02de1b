import XCTest
@testable import RNNKit

extension XCTestCase {
    /// Lets the runtime split even tiny work among threads, until the test ends (then one thread
    /// and the default work per thread again).
    func splitAnyWork() {
        let defaultWork = RNNKitRuntime.multiplyAddsPerThread
        RNNKitRuntime.multiplyAddsPerThread = 1
        addTeardownBlock {
            RNNKitRuntime.multiplyAddsPerThread = defaultWork
            RNNKitRuntime.setThreadCount(1)
        }
    }

    /// Runs `body` once per kernel path this CPU can run (portable, AVX2, AVX-512), forced, then
    /// goes back to the process's path.
    func onEveryKernelPath(_ body: (KernelPath) throws -> Void) rethrows {
        let original = KernelPath.current
        defer { KernelPath.force(original) }
        for path in KernelPath.available {
            KernelPath.force(path)
            XCTAssertEqual(KernelPath.current, path)
            try body(path)
        }
    }
}

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
}

import Foundation
import RNNKit
import RNNKitTestSupport
import XCTest

/// `rnnkit bench --json` names the kernel path that ran and the CPU; `RNNKIT_KERNEL` forces a
/// lower path in the process it is given to.
final class KernelPathCLITests: XCTestCase {
    private func benchJSON() throws -> [String: Any] {
        let run = try RNNKitBinary.run(["bench", FixtureFiles.path("simple_rnn/keras3.h5"), "--json"], besides: Self.self)
        XCTAssertEqual(run.status, 0, run.stderr)
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
    }

    func testBenchNamesTheKernelPathAndTheCPU() throws {
        let own = KernelPath.current  // this process's path is settled before the variable is set
        let inherited = ProcessInfo.processInfo.environment["RNNKIT_KERNEL"]
        defer {
            if let inherited { setenv("RNNKIT_KERNEL", inherited, 1) } else { unsetenv("RNNKIT_KERNEL") }
        }
        unsetenv("RNNKIT_KERNEL")
        let best = try benchJSON()
        let bestPath = try XCTUnwrap(KernelPath(rawValue: best["kernel"] as? String ?? ""))
        if inherited == nil { XCTAssertEqual(bestPath, own) }  // the same CPU, no variable: the best path
        XCTAssertFalse((best["cpu"] as? String ?? "").isEmpty)
        XCTAssertGreaterThan(best["predictor_peak_added_bytes"] as? Int ?? 0, 0)
        setenv("RNNKIT_KERNEL", "portable", 1)
        XCTAssertEqual(try benchJSON()["kernel"] as? String, "portable")
        XCTAssertEqual(KernelPath.current, own)
    }
}

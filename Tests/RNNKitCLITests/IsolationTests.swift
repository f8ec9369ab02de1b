import Foundation
@testable import rnnkit
import RNNKitTestSupport
import XCTest

/// How the parent names a child's death: the file's fault while it is being read, RNNKit's after.
final class IsolationTests: XCTestCase {
    func testACrashAfterReadingIsAnInternalError() {
        let during = Isolation.crashMessage(for: "m.h5", signal: SIGSEGV, readingDone: false, output: Data(), seconds: 4)
        XCTAssertEqual(during, "m.h5: corrupt file: reading it crashed the decoder (signal 11)")
        let after = Isolation.crashMessage(for: "m.h5", signal: SIGSEGV, readingDone: true, output: Data(), seconds: 4)
        XCTAssertEqual(after, "m.h5: internal error in rnnkit after reading this file (signal 11), please report it")
        let slow = Isolation.crashMessage(for: "m.h5", signal: SIGALRM, readingDone: false, output: Data(), seconds: 4)
        XCTAssertEqual(slow, "m.h5: corrupt file: reading it did not finish within 4 s")
        let trap = Isolation.crashMessage(for: "m.h5", signal: SIGILL, readingDone: true,
                                          output: Data("x\nFatal error: Index out of range\n".utf8), seconds: 4)
        XCTAssertEqual(trap, "m.h5: internal error in rnnkit while handling this file, please report it: "
                       + "Fatal error: Index out of range")
    }

    /// The child's marker never reaches the user: a normal run's standard error is clean.
    func testTheReadingMarkerIsNotShown() throws {
        let run = try RNNKitBinary.run(["validate", FixtureFiles.path("malformed/nan_weight.h5")], besides: Self.self)
        XCTAssertEqual(run.status, 1)
        XCTAssertFalse(run.stderr.contains("model files read"), run.stderr)
        XCTAssertFalse(run.stdout.contains("model files read"), run.stdout)
    }
}

import Foundation
@testable import RNNKitTestSupport
import XCTest

/// The one runner of the CLI tests drains stdout and stderr together, so that a child writing a
/// lot to one of them while the other is being waited on cannot deadlock a test, and it stops a
/// child that does not finish.
final class ChildProcessTests: XCTestCase {
    func testAChattyChildCannotDeadlockTheRunner() throws {
        // Far more than a pipe holds (64 KiB), on stderr first, then on stdout.
        let run = try ChildProcess.run("/bin/sh", ["-c", "head -c 1000000 /dev/zero | tr '\\0' e >&2; "
                                                      + "head -c 700000 /dev/zero | tr '\\0' o; exit 3"],
                                       environment: [:], timeout: 20)
        XCTAssertFalse(run.timedOut, run.outcome)
        XCTAssertEqual(run.status, 3)
        XCTAssertEqual(run.stderr.count, 1_000_000)
        XCTAssertEqual(run.stdout.count, 700_000)
        XCTAssertTrue(run.stderr.allSatisfy { $0 == "e" } && run.stdout.allSatisfy { $0 == "o" })
    }

    func testAChildThatDoesNotFinishIsKilled() throws {
        let run = try ChildProcess.run("/bin/sleep", ["30"], environment: [:], timeout: 0.5)
        XCTAssertTrue(run.timedOut)
        XCTAssertEqual(run.signal, SIGKILL)
        XCTAssertLessThan(run.seconds, 10)
    }

    func testEnvironmentIsPassed() throws {
        let run = try ChildProcess.run("/bin/sh", ["-c", "echo \"$RNNKIT_TEST_VALUE\""],
                                       environment: ["RNNKIT_TEST_VALUE": "seen"], timeout: 10)
        XCTAssertEqual(run.stdout, "seen\n")
    }
}

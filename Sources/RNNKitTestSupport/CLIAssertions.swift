import Foundation
import XCTest

/// Checks of an `rnnkit` run shared by the CLI tests.

/// Exit 0 and nothing on stderr.
public func assertSucceeded(_ run: RNNKitBinary.Run, _ label: String,
                            file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(run.status, 0, "\(label): \(run.outcome)", file: file, line: line)
    XCTAssertEqual(run.stderr, "", label, file: file, line: line)
}

/// A failure as the CLI promises it: one of the `expected` exit statuses, and either (`validate`
/// on an invalid model: exit 1) problems on stdout with stderr empty, or exactly one line on
/// stderr starting with `rnnkit: error: ` and one of `files`; never an HDF5 diagnostics dump.
public func assertCleanFailure(_ run: RNNKitBinary.Run, expected: Set<Int32>, naming files: [String], _ label: String,
                               file: StaticString = #filePath, line: UInt = #line) {
    let what = "\(label): \(run.outcome)"
    XCTAssertTrue(expected.contains(run.status), "\(what); expected exit \(expected.sorted())", file: file, line: line)
    let lines = run.stderr.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.isEmpty }
    if !(run.status == 1 && lines.isEmpty && !run.stdout.isEmpty) {
        XCTAssertEqual(lines.count, 1, "\(what): stderr is not one line", file: file, line: line)
    }
    XCTAssertTrue(run.stderr.isEmpty || run.stderr.hasSuffix("\n"), "\(what): stderr does not end its line",
                  file: file, line: line)
    XCTAssertFalse(run.stderr.contains("HDF5-DIAG"), "\(what): HDF5 diagnostics printed", file: file, line: line)
    guard !lines.isEmpty else { return }
    let named = files.contains { run.stderr.hasPrefix("rnnkit: error: \($0)") }
    XCTAssertTrue(named, "\(what): stderr does not start with the file's name", file: file, line: line)
}

/// Under a second (or `seconds`) of processor time, under 256 MiB of resident memory. Processor
/// time, not the wall clock, so that a busy test machine does not fail the check; hangs are
/// caught by the run's timeout.
public func assertQuickAndSmall(_ run: RNNKitBinary.Run, _ label: String, within seconds: TimeInterval = 1,
                                file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertFalse(run.timedOut, "\(label): timed out", file: file, line: line)
    XCTAssertLessThan(run.processorSeconds, seconds, "\(label): took \(run.processorSeconds) s of processor time",
                      file: file, line: line)
    XCTAssertLessThan(run.maxResidentKiB, 256 * 1024, "\(label): used \(run.maxResidentKiB) KiB", file: file, line: line)
}

import Foundation
import XCTest

extension XCTestCase {
    /// A fresh temporary directory, removed when the test ends, whether it passed or not.
    public func makeTemporaryDirectory() throws -> URL {
        let url = try FixtureFiles.temporaryDirectory()
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }
}

extension XCTestCase {
    /// Points TMPDIR (which the .keras reader's temporary folders go under) at a fresh folder of
    /// this test's own until the test ends, so that what it finds there is its own and not
    /// another process's (test runs of other checkouts share the system's temporary folder).
    @discardableResult
    public func useOwnTemporaryFolder() throws -> URL {
        let folder = try makeTemporaryDirectory()
        let saved = ProcessInfo.processInfo.environment["TMPDIR"]
        setenv("TMPDIR", folder.path, 1)
        addTeardownBlock {
            if let saved { setenv("TMPDIR", saved, 1) } else { unsetenv("TMPDIR") }
        }
        return folder
    }
}

/// A test case whose tests each get a fresh temporary folder, `directory`, removed when the test
/// ends.
open class TemporaryFolderTestCase: XCTestCase {
    /// This test's folder.
    public private(set) var directory: URL!

    open override func setUpWithError() throws {
        try super.setUpWithError()
        directory = try makeTemporaryDirectory()
    }

    /// The path of `name` inside `directory`.
    public func temporary(_ name: String) -> String {
        directory.appendingPathComponent(name).path
    }
}

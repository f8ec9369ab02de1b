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

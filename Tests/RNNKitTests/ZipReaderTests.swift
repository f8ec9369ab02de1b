import Foundation
import XCTest
@testable import RNNKit
import RNNKitTestSupport

final class ZipReaderTests: XCTestCase {
    /// What `ZipWriter` writes, `ZipReader` reads back: the names in order and the bytes.
    func testWrittenEntriesReadBack() throws {
        let path = try makeTemporaryDirectory().appendingPathComponent("a.zip").path
        let entries = [(name: "one.txt", contents: Data("first".utf8)), (name: "dir/two.bin", contents: Data([0, 1, 2]))]
        try ZipWriter.write(entries: entries, to: path)

        let zip = try ZipReader(path: path)
        XCTAssertEqual(try zip.signature(), .zip)
        try zip.readDirectory(limits: .default)
        XCTAssertEqual(zip.entries.map(\.name), entries.map(\.name))
        for (entry, expected) in zip.entries.enumerated().map({ ($0.element, entries[$0.offset].contents) }) {
            var contents = Data()
            try zip.stream(entry, maxBytes: 100, maxCompressionRatio: 1) { contents.append($0) }
            XCTAssertEqual(contents, expected, entry.name)
        }
    }

    /// Telling an `.npz` file from a `.keras` archive reads the directory through the bounded
    /// reader, so a name ZIPFoundation alone would take (here one with a `..` component) makes
    /// the file no `.npz`; reading it then fails with the reader's reason.
    func testNPZDetectionUsesTheBoundedReader() throws {
        let directory = try makeTemporaryDirectory()
        let array = NPYFormat.encode(NamedTensor(name: "x", tensor: Tensor(shape: [1], scalars: [1])))
        let plain = directory.appendingPathComponent("plain.npz").path
        try ZipWriter.write(entries: [("x.npy", array)], to: plain)
        XCTAssertTrue(NPZModel.isNPZ(plain))

        let escaping = directory.appendingPathComponent("escaping.npz").path
        try ZipWriter.write(entries: [("../x.npy", array)], to: escaping)
        XCTAssertFalse(NPZModel.isNPZ(escaping))
        XCTAssertThrowsError(try Model.load(contentsOf: escaping)) { error in
            XCTAssertTrue("\(error)".contains("unsafe entry name"), "\(error)")
        }
    }
}

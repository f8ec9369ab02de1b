import Foundation
import XCTest
@testable import RNNKit
import RNNKitTestSupport

final class ZipReaderTests: XCTestCase {
    /// What `ZipWriter` writes, `ZipReader` (and ZIPFoundation, which it asks to agree) reads
    /// back: the names in order, the bytes and the CRC-32s; from memory and from a file.
    func testWrittenEntriesReadBack() throws {
        let directory = try makeTemporaryDirectory()
        let source = directory.appendingPathComponent("source.bin")
        try Data((0..<5000).map { UInt8(truncatingIfNeeded: $0 * 7) }).write(to: source)
        let entries = [(name: "one.txt", contents: Data("first".utf8)), (name: "dir/two.bin", contents: Data([0, 1, 2])),
                       (name: "naïve.txt", contents: Data())]
        let path = directory.appendingPathComponent("a.zip").path
        try writeZip(entries, addingFile: source.path, to: path)
        try assertReadsBack(path, entries + [(name: "source.bin", contents: try Data(contentsOf: source))])
    }

    /// Past 4 GiB an archive needs ZIP64 fields: sizes in the local and directory records, the
    /// local header's offset, and the end records. A writer whose limit is a few bytes writes all
    /// of them for small entries, and the readers take them.
    func testZIP64RecordsReadBack() throws {
        let directory = try makeTemporaryDirectory()
        let source = directory.appendingPathComponent("source.bin")
        try Data(repeating: 9, count: 300).write(to: source)
        let entries = [(name: "small", contents: Data([1, 2])), (name: "large.bin", contents: Data(repeating: 5, count: 100))]
        let path = directory.appendingPathComponent("zip64.zip").path
        try writeZip(entries, addingFile: source.path, to: path, zip64Limit: 4)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        XCTAssertNotNil(bytes.range(of: Data([0x50, 0x4B, 0x06, 0x06])), "no ZIP64 end record")
        XCTAssertNotNil(bytes.range(of: Data([0x50, 0x4B, 0x06, 0x07])), "no ZIP64 locator")
        try assertReadsBack(path, entries + [(name: "source.bin", contents: try Data(contentsOf: source))])
    }

    /// `entries`, then the file `file` (when given) under its own name, stored in a new archive.
    private func writeZip(_ entries: [(name: String, contents: Data)], addingFile file: String? = nil, to path: String,
                          zip64Limit: UInt64 = 0xFFFF_FFFF) throws {
        try FileSink.write(to: path) { sink in
            var writer = ZipWriter(sink: sink, zip64Limit: zip64Limit)
            for (name, contents) in entries { try writer.addStored(name, contents) }
            if let file { try writer.addStored((file as NSString).lastPathComponent, from: try ReadableFile(path: file)) }
            try writer.finish()
        }
    }

    private func assertReadsBack(_ path: String, _ entries: [(name: String, contents: Data)],
                                 file: StaticString = #filePath, line: UInt = #line) throws {
        let zip = try ZipReader(path: path)
        XCTAssertEqual(try zip.signature(), .zip, file: file, line: line)
        try zip.readDirectory(limits: .default)
        XCTAssertEqual(zip.entries.map(\.name), entries.map(\.name), file: file, line: line)
        for (entry, expected) in zip.entries.enumerated().map({ ($0.element, entries[$0.offset].contents) }) {
            var contents = Data()
            try zip.stream(entry, maxBytes: 1 << 20, maxCompressionRatio: 1) { contents.append($0) }
            XCTAssertEqual(contents, expected, entry.name, file: file, line: line)
        }
    }

    /// Telling an `.npz` file from a `.keras` archive reads the directory through the bounded
    /// reader, so a name ZIPFoundation alone would take (here one with a `..` component) makes
    /// the file no `.npz`; reading it then fails with the reader's reason.
    func testNPZDetectionUsesTheBoundedReader() throws {
        let directory = try makeTemporaryDirectory()
        let array = NPYFormat.encode(NamedTensor(name: "x", tensor: Tensor(shape: [1], scalars: [1])))
        let plain = directory.appendingPathComponent("plain.npz").path
        try writeZip([("x.npy", array)], to: plain)
        XCTAssertTrue(NPZModel.isNPZ(plain))

        let escaping = directory.appendingPathComponent("escaping.npz").path
        try writeZip([("../x.npy", array)], to: escaping)
        XCTAssertFalse(NPZModel.isNPZ(escaping))
        XCTAssertThrowsError(try Model.load(contentsOf: escaping)) { error in
            XCTAssertTrue("\(error)".contains("unsafe entry name"), "\(error)")
        }
    }
}

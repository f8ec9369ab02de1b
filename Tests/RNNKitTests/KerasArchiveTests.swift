import Foundation
import RNNKitTestSupport
import XCTest
import ZIPFoundation
@testable import RNNKit

final class KerasArchiveTests: XCTestCase {
    private var workDir: URL!

    private let config = #"{"module": "keras", "class_name": "Sequential", "config": {"name": "seq", "layers": []}}"#
    private let metadata = #"{"keras_version": "3.15.1", "date_saved": "2026-11-23@08:54:25"}"#
    private lazy var weights: Data = {
        // Not a real HDF5 file, just bytes with some structure (and every byte value).
        var bytes = [UInt8]("\u{89}HDF\r\n\u{1a}\n".utf8)
        for i in 0..<70_000 { bytes.append(UInt8(truncatingIfNeeded: i &* 31 &+ i >> 8)) }
        return Data(bytes)
    }()

    override func setUpWithError() throws {
        workDir = try makeTemporaryDirectory()
        // Leftover checks look at the temporary folder: this test's own, not the shared one.
        try useOwnTemporaryFolder()
    }

    // MARK: - Building archives

    private typealias Member = (name: String, data: Data, method: CompressionMethod)

    private func makeZip(_ name: String, _ members: [Member]) throws -> String {
        let url = workDir.appendingPathComponent(name)
        let archive = try Archive(url: url, accessMode: .create)
        for member in members {
            try archive.addEntry(with: member.name, type: .file, uncompressedSize: Int64(member.data.count),
                                 compressionMethod: member.method) { position, size in
                member.data.subdata(in: Int(position)..<(Int(position) + size))
            }
        }
        return url.path
    }

    private func standardMembers(_ method: CompressionMethod = .none) -> [Member] {
        [("metadata.json", Data(metadata.utf8), method),
         ("config.json", Data(config.utf8), method),
         ("model.weights.h5", weights, method)]
    }

    /// The central-directory record of `entry` in `bytes`, as an offset.
    private func centralRecord(of entry: String, in bytes: [UInt8]) throws -> Int {
        let name = Array(entry.utf8)
        var i = 0
        while i + 46 <= bytes.count {
            if bytes[i] == 0x50, bytes[i + 1] == 0x4B, bytes[i + 2] == 1, bytes[i + 3] == 2 {
                let length = Int(bytes[i + 28]) | Int(bytes[i + 29]) << 8
                if Array(bytes[(i + 46)..<min(bytes.count, i + 46 + length)]) == name { return i }
            }
            i += 1
        }
        throw XCTSkip("no central record for \(entry)")
    }

    /// A hand-made ZIP of stored entries, for layouts ZIPFoundation does not write for small files:
    /// ZIP64 sizes in extra fields, a ZIP64 end record, data descriptors.
    private func handMadeZip(_ name: String, _ members: [(String, Data)], zip64: Bool = false,
                             dataDescriptor: Bool = false) throws -> String {
        var out = [UInt8](), directory = [UInt8]()
        func u16(_ v: Int, _ to: inout [UInt8]) { to += [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF)] }
        func u32(_ v: UInt32, _ to: inout [UInt8]) { for k in 0..<4 { to.append(UInt8(v >> (8 * UInt32(k)) & 0xFF)) } }
        func u64(_ v: UInt64, _ to: inout [UInt8]) { for k in 0..<8 { to.append(UInt8(v >> (8 * UInt64(k)) & 0xFF)) } }
        for (entryName, data) in members {
            let nameBytes = Array(entryName.utf8)
            let crc = data.withUnsafeBytes { ZipReader.crc32(0, $0) }
            let size = UInt32(data.count), offset = UInt32(out.count)
            let flags = 0x0800 | (dataDescriptor ? 0x0008 : 0)
            var extra = [UInt8]()
            if zip64 { u16(1, &extra); u16(16, &extra); u64(UInt64(size), &extra); u64(UInt64(size), &extra) }
            // Local header.
            u32(0x0403_4B50, &out); u16(zip64 ? 45 : 20, &out); u16(flags, &out); u16(0, &out)
            u16(0, &out); u16(0x21, &out)
            u32(dataDescriptor ? 0 : crc, &out)
            let lfhSize: UInt32 = dataDescriptor ? 0 : (zip64 ? 0xFFFF_FFFF : size)
            u32(lfhSize, &out); u32(lfhSize, &out)
            u16(nameBytes.count, &out); u16(extra.count, &out); out += nameBytes; out += extra
            out += [UInt8](data)
            if dataDescriptor { u32(0x0807_4B50, &out); u32(crc, &out); u32(size, &out); u32(size, &out) }
            // Central directory record.
            let cdSize: UInt32 = zip64 ? 0xFFFF_FFFF : size
            u32(0x0201_4B50, &directory); u16(0x0300 | 45, &directory); u16(zip64 ? 45 : 20, &directory)
            u16(flags, &directory); u16(0, &directory); u16(0, &directory); u16(0x21, &directory)
            u32(crc, &directory); u32(cdSize, &directory); u32(cdSize, &directory)
            u16(nameBytes.count, &directory); u16(extra.count, &directory); u16(0, &directory)
            u16(0, &directory); u16(0, &directory); u32(0o100644 << 16, &directory); u32(offset, &directory)
            directory += nameBytes; directory += extra
        }
        let cdOffset = out.count
        out += directory
        if zip64 {
            let recordOffset = out.count
            u32(0x0606_4B50, &out); u64(44, &out); u16(45, &out); u16(45, &out); u32(0, &out); u32(0, &out)
            u64(UInt64(members.count), &out); u64(UInt64(members.count), &out)
            u64(UInt64(directory.count), &out); u64(UInt64(cdOffset), &out)
            u32(0x0706_4B50, &out); u32(0, &out); u64(UInt64(recordOffset), &out); u32(1, &out)
        }
        u32(0x0605_4B50, &out); u16(0, &out); u16(0, &out)
        u16(zip64 ? 0xFFFF : members.count, &out); u16(zip64 ? 0xFFFF : members.count, &out)
        u32(zip64 ? 0xFFFF_FFFF : UInt32(directory.count), &out); u32(zip64 ? 0xFFFF_FFFF : UInt32(cdOffset), &out)
        u16(0, &out)
        let url = workDir.appendingPathComponent(name)
        try Data(out).write(to: url)
        return url.path
    }

    private func patch32(_ bytes: inout [UInt8], at offset: Int, _ value: UInt32) {
        for k in 0..<4 { bytes[offset + k] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(k))) }
    }

    private func read32(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[offset + $1]) << (8 * UInt32($1)) }
    }

    private func assertError(_ path: String, kind: RNNKitError.Kind, contains fragment: String,
                             location: String? = nil, limits: ReadLimits = .default,
                             file: StaticString = #filePath, line: UInt = #line) {
        let before = temporaryFiles()
        XCTAssertThrowsError(try KerasArchive.read(path, limits: limits), file: file, line: line) { error in
            guard let error = error as? RNNKitError else {
                return XCTFail("not an RNNKitError: \(error)", file: file, line: line)
            }
            XCTAssertEqual(error.kind, kind, "\(error)", file: file, line: line)
            XCTAssertEqual(error.file, path, file: file, line: line)
            XCTAssertTrue(error.description.contains(path), "\(error)", file: file, line: line)
            XCTAssertTrue(error.description.lowercased().contains(fragment.lowercased()),
                          "'\(error)' should mention '\(fragment)'", file: file, line: line)
            XCTAssertFalse(error.description.contains("\n"), file: file, line: line)
            if let location {
                XCTAssertEqual(error.location, location, file: file, line: line)
                XCTAssertTrue(error.description.contains(location), "\(error)", file: file, line: line)
            }
        }
        XCTAssertEqual(temporaryFiles().subtracting(before), [], "reading wrote a temporary file",
                       file: file, line: line)
    }

    /// Everything in this test's own temporary folder: reading an archive must add nothing.
    private func temporaryFiles() -> Set<String> {
        Set((try? FileManager.default.contentsOfDirectory(atPath: NSTemporaryDirectory())) ?? [])
    }

    // MARK: - Good archives

    func testGoodStoredArchive() throws {
        let path = try makeZip("good.keras", standardMembers() + [("assets/vocab.txt", Data("a\nb\n".utf8), .none)])
        let before = temporaryFiles()
        let archive = try KerasArchive.read(path)
        XCTAssertEqual(archive.path, path)
        XCTAssertEqual(archive.configJSON, config)
        XCTAssertEqual(archive.metadataJSON, metadata)
        XCTAssertEqual(Data(archive.weights.bytes), weights)
        XCTAssertEqual(temporaryFiles(), before, "nothing is extracted to disk")
    }

    func testGoodDeflatedArchiveWithoutMetadata() throws {
        let path = try makeZip("deflated.keras", Array(standardMembers(.deflate).dropFirst()))
        let archive = try KerasArchive.read(path)
        XCTAssertEqual(archive.configJSON, config)
        XCTAssertNil(archive.metadataJSON)
        XCTAssertEqual(Data(archive.weights.bytes), weights)
    }

    /// HDF5 reads the weights in place; a file that is not HDF5 is named as the archive.
    func testWeightsOpenInPlace() throws {
        let real = try KerasArchive.read(FixtureFiles.path("seq2seq/keras3.keras")).weightsFile()
        XCTAssertTrue(real.root.hasChild("layers"))
        let fake = try KerasArchive.read(try makeZip("fake.keras", standardMembers()))
        XCTAssertThrowsError(try fake.weightsFile()) { error in
            XCTAssertEqual((error as? RNNKitError)?.kind, .unreadable, "\(error)")
        }
    }

    /// The real Keras 3 fixtures in the repository, when present.
    func testFixtureArchives() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Fixtures")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
        let paths = names.sorted().map { root.appendingPathComponent("\($0)/keras3.keras").path }
            .filter { FileManager.default.fileExists(atPath: $0) }
        guard !paths.isEmpty else { throw XCTSkip("no fixtures") }
        for path in paths {
            let archive = try KerasArchive.read(path)
            let config = try JSONSerialization.jsonObject(with: Data(archive.configJSON.utf8)) as? [String: Any]
            XCTAssertNotNil(config?["class_name"], path)
            XCTAssertTrue(archive.metadataJSON?.contains("keras_version") ?? false, path)
            XCTAssertEqual(Array(archive.weights.bytes.prefix(8)), [0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A], path)
        }
        let flipped = root.appendingPathComponent("malformed/bitflipped.keras").path
        if FileManager.default.fileExists(atPath: flipped) {
            assertError(flipped, kind: .unreadable, contains: "CRC-32", location: "model.weights.h5")
        }
    }

    func testHandMadeLayouts() throws {
        let members = standardMembers().map { ($0.name, $0.data) }
        for (zip64, descriptor) in [(false, false), (true, false), (false, true), (true, true)] {
            let path = try handMadeZip("hand-\(zip64)-\(descriptor).keras", members, zip64: zip64,
                                       dataDescriptor: descriptor)
            let archive = try KerasArchive.read(path)
            XCTAssertEqual(archive.configJSON, config, "zip64 \(zip64), descriptor \(descriptor)")
            XCTAssertEqual(archive.metadataJSON, metadata)
            XCTAssertEqual(Data(archive.weights.bytes), weights)
        }
    }

    // MARK: - Not a Keras archive

    func testNotAZip() throws {
        let path = workDir.appendingPathComponent("text.keras").path
        try Data("hello, this is not a zip file".utf8).write(to: URL(fileURLWithPath: path))
        assertError(path, kind: .unreadable, contains: "not a ZIP archive")

        let empty = workDir.appendingPathComponent("empty.keras").path
        try Data().write(to: URL(fileURLWithPath: empty))
        assertError(empty, kind: .unreadable, contains: "not a ZIP archive")

        assertError(workDir.path, kind: .unreadable, contains: "not a regular file")
        assertError(workDir.appendingPathComponent("missing.keras").path, kind: .unreadable, contains: "cannot open")
    }

    func testMissingConfig() throws {
        let path = try makeZip("noconfig.keras", [("model.weights.h5", weights, .none)])
        assertError(path, kind: .unreadable, contains: "not a Keras archive: no config.json")
    }

    func testMissingWeights() throws {
        let path = try makeZip("noweights.keras", Array(standardMembers().prefix(2)))
        assertError(path, kind: .invalidModel, contains: "no model.weights.h5")
    }

    func testDuplicateKnownEntryRefused() throws {
        let path = try makeZip("dup.keras", standardMembers() + [("config.json", Data("{}".utf8), .none)])
        assertError(path, kind: .unreadable, contains: "ambiguous", location: "config.json")
    }

    // MARK: - Unsafe names

    func testParentDirectoryEntryRefused() throws {
        let path = try makeZip("dotdot.keras", standardMembers() + [("../evil", Data("x".utf8), .none)])
        assertError(path, kind: .unreadable, contains: "'..'", location: "../evil")
        let nested = try makeZip("nested.keras", [("assets/../../evil", Data("x".utf8), .none)] + standardMembers())
        assertError(nested, kind: .unreadable, contains: "'..'", location: "assets/../../evil")
        let windows = try makeZip("backslash.keras", standardMembers() + [("assets\\..\\evil", Data(), .none)])
        assertError(windows, kind: .unreadable, contains: "'..'", location: "assets\\..\\evil")
    }

    func testAbsoluteEntryRefused() throws {
        let path = try makeZip("abs.keras", standardMembers() + [("/abs", Data("x".utf8), .none)])
        assertError(path, kind: .unreadable, contains: "absolute", location: "/abs")
        let drive = try makeZip("drive.keras", standardMembers() + [("C:/evil", Data("x".utf8), .none)])
        assertError(drive, kind: .unreadable, contains: "absolute", location: "C:/evil")
    }

    // MARK: - Bombs and limits

    func testZipBombRefusedBeforeInflating() throws {
        let zeros = Data(count: 50_000_000)
        let path = try makeZip("bomb.keras", Array(standardMembers().prefix(2)) + [("model.weights.h5", zeros, .deflate)])
        let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as! NSNumber
        XCTAssertLessThan(size.intValue, 250_000, "test archive should be highly compressed")
        let start = Date()
        assertError(path, kind: .unreadable, contains: "zip bomb", location: "model.weights.h5")
        XCTAssertLessThan(Date().timeIntervalSince(start), 1.0, "refusal should not need inflating")
    }

    func testBombWithLyingHeaderStopsAtDeclaredSize() throws {
        // 4 MB of zeros, but the directory claims 100 000 bytes (ratio well under 200).
        let path = try makeZip("liar.keras", Array(standardMembers().prefix(2))
                                + [("model.weights.h5", Data(count: 4_000_000), .deflate)])
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let record = try centralRecord(of: "model.weights.h5", in: bytes)
        XCTAssertGreaterThanOrEqual(UInt64(read32(bytes, at: record + 20)) * 200, 100_000, "ratio must pass")
        patch32(&bytes, at: record + 24, 100_000)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        assertError(path, kind: .unreadable, contains: "more than its declared", location: "model.weights.h5")
    }

    func testEntryAndTotalAndJSONLimits() throws {
        let path = try makeZip("limits.keras", standardMembers() + [("assets/big.bin", Data(count: 200_000), .deflate)])
        var limits = ReadLimits.default
        limits.maxBytes = 1000
        assertError(path, kind: .unreadable, contains: "too large", location: "model.weights.h5", limits: limits)

        limits = .default
        limits.maxTotalBytes = 150_000  // the asset alone declares 200 000
        assertError(path, kind: .unreadable, contains: "in total", limits: limits)

        limits = .default
        limits.maxJSONBytes = 20
        assertError(path, kind: .unreadable, contains: "too large", limits: limits)

        limits = .default
        limits.maxEntries = 3
        assertError(path, kind: .unreadable, contains: "too many entries", limits: limits)

        XCTAssertNoThrow(try KerasArchive.read(path))
    }

    // MARK: - Corruption

    func testCorruptStoredEntryFailsCRC() throws {
        let path = try makeZip("corrupt.keras", standardMembers())
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let marker = Array(weights.prefix(8))
        guard let start = (0...(bytes.count - 8)).first(where: { Array(bytes[$0..<($0 + 8)]) == marker }) else {
            return XCTFail("weights not found in archive")
        }
        bytes[start + 30_000] ^= 0x01
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        assertError(path, kind: .unreadable, contains: "CRC-32 mismatch", location: "model.weights.h5")
    }

    func testCorruptDeflatedEntry() throws {
        let path = try makeZip("corrupt-deflate.keras", standardMembers(.deflate))
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let record = try centralRecord(of: "model.weights.h5", in: bytes)
        let header = Int(read32(bytes, at: record + 42))
        let dataStart = header + 30 + Int(bytes[header + 26]) + Int(bytes[header + 28])
        let compressed = Int(read32(bytes, at: record + 20))
        bytes[dataStart + compressed / 2] ^= 0x55
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        // Depending on where the flip lands, inflate fails or the CRC does not match.
        assertError(path, kind: .unreadable, contains: "corrupt entry", location: "model.weights.h5")
    }

    func testTruncatedArchive() throws {
        let path = try makeZip("whole.keras", standardMembers())
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        for cut in [bytes.count / 2, bytes.count - 10, 30] {
            let truncated = workDir.appendingPathComponent("truncated-\(cut).keras").path
            try bytes.prefix(cut).write(to: URL(fileURLWithPath: truncated))
            assertError(truncated, kind: .unreadable, contains: "truncated")
        }
    }

    func testTruncatedDeflateStreamWithIntactDirectory() throws {
        // The directory claims fewer compressed bytes than the stream needs: must fail, not hang.
        let path = try makeZip("short.keras", standardMembers(.deflate))
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let record = try centralRecord(of: "model.weights.h5", in: bytes)
        patch32(&bytes, at: record + 20, read32(bytes, at: record + 20) / 2)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        assertError(path, kind: .unreadable, contains: "end before the deflate stream", location: "model.weights.h5")
    }

    func testDirectoryPointingOutsideFile() throws {
        let path = try makeZip("outside.keras", standardMembers())
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let record = try centralRecord(of: "model.weights.h5", in: bytes)
        patch32(&bytes, at: record + 42, 0x7FFF_0000)  // local header offset
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        assertError(path, kind: .unreadable, contains: "outside the file", location: "model.weights.h5")
    }
}

import Foundation
import RNNKitTestSupport
import XCTest
import ZIPFoundation
@testable import RNNKit

final class TensorFileTests: XCTestCase {
    private var workDir: URL!

    override func setUpWithError() throws {
        workDir = try makeTemporaryDirectory()
    }

    // MARK: - Helpers

    private func path(_ name: String) -> String { workDir.appendingPathComponent(name).path }

    @discardableResult
    private func put(_ name: String, _ bytes: [UInt8]) throws -> String {
        let file = path(name)
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        return file
    }

    @discardableResult
    private func put(_ name: String, text: String) throws -> String { try put(name, Array(text.utf8)) }

    private func bytes(_ file: String) throws -> [UInt8] { Array(try Data(contentsOf: URL(fileURLWithPath: file))) }

    private func folderContents() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: workDir.path).sorted()
    }

    /// Little-endian bytes of integers.
    private func le<T: FixedWidthInteger>(_ values: [T]) -> [UInt8] {
        values.flatMap { value in withUnsafeBytes(of: value.littleEndian) { Array($0) } }
    }

    /// An .npy file with the given header dict text, padded as NumPy pads it.
    private func npy(dict: String, _ data: [UInt8], version: UInt8 = 1) -> [UInt8] {
        var header = Array(dict.utf8)
        let prefix = version == 1 ? 10 : 12
        while (prefix + header.count + 1) % 64 != 0 { header.append(0x20) }
        header.append(0x0A)
        var out: [UInt8] = [0x93] + Array("NUMPY".utf8) + [version, 0]
        out += version == 1 ? le([UInt16(header.count)]) : le([UInt32(header.count)])
        return out + header + data
    }

    private func npy(_ descr: String, _ shape: String, _ data: [UInt8], fortran: Bool = false,
                     version: UInt8 = 1) -> [UInt8] {
        npy(dict: "{'descr': '\(descr)', 'fortran_order': \(fortran ? "True" : "False"), 'shape': \(shape), }",
            data, version: version)
    }

    /// Asserts that `body` throws an RNNKitError of `kind` whose one-line description contains
    /// every string in `contains`; returns it.
    @discardableResult
    private func assertError(_ kind: RNNKitError.Kind, _ contains: [String], file: StaticString = #filePath,
                             line: UInt = #line, _ body: () throws -> Void) -> RNNKitError? {
        do {
            try body()
            XCTFail("no error; expected one containing \(contains)", file: file, line: line)
            return nil
        } catch let error as RNNKitError {
            XCTAssertEqual(error.kind, kind, "\(error)", file: file, line: line)
            XCTAssertFalse(error.description.contains("\n"), file: file, line: line)
            for part in contains {
                XCTAssertTrue(error.description.contains(part), "'\(error)' lacks '\(part)'", file: file, line: line)
            }
            return error
        } catch {
            XCTFail("not an RNNKitError: \(error)", file: file, line: line)
            return nil
        }
    }

    private func read(_ name: String, window: Int? = nil, limits: ReadLimits = .default) throws -> [NamedTensor] {
        try TensorFile.read(path(name), csvWindow: window, limits: limits)
    }

    private func sampleTensor() -> Tensor {
        var values: [Float] = [0, -0.0, 1, -1, .pi, Float(bitPattern: 1), -3.4028235e38, .infinity, -.infinity,
                               Float(bitPattern: 0x7FC0_1234), 0.1, 16_777_216]
        while values.count < 24 { values.append(Float(values.count) * 0.37 - 4) }
        return Tensor(shape: [2, 3, 4], scalars: values)
    }

    private func assertBitEqual(_ a: Tensor, _ b: Tensor, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.shape, b.shape, file: file, line: line)
        XCTAssertEqual(a.scalars.map(\.bitPattern), b.scalars.map(\.bitPattern), file: file, line: line)
    }

    // MARK: - .npy

    func testNPYRoundTripIsBitExactAndLaidOutLikeNumPy() throws {
        let tensor = sampleTensor()
        let file = path("a.npy")
        try TensorFile.write([NamedTensor(name: "x", tensor: tensor)], to: file)
        let raw = try bytes(file)
        XCTAssertEqual(Array(raw[0..<8]), [0x93] + Array("NUMPY".utf8) + [1, 0])
        let headerLength = Int(raw[8]) | Int(raw[9]) << 8
        let dataStart = 10 + headerLength
        XCTAssertEqual(dataStart % 64, 0)
        XCTAssertEqual(raw[dataStart - 1], 0x0A)
        let header = String(decoding: raw[10..<dataStart], as: UTF8.self)
        XCTAssertTrue(header.hasPrefix("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3, 4), }"), header)
        XCTAssertEqual(raw.count, dataStart + 24 * 4)

        let back = try TensorFile.read(file)
        XCTAssertEqual(back.count, 1)
        XCTAssertEqual(back[0].name, "input_0")
        XCTAssertEqual(back[0].elementType, .float32)
        assertBitEqual(back[0].tensor, tensor)

        // Scalar, 1-D and empty shapes.
        for shape in [[], [5], [0, 3], [1, 1, 1, 1]] {
            let t = Tensor(shape: shape, scalars: (0..<Tensor.checkedElementCount(shape)!).map { Float($0) / 3 })
            try TensorFile.write([NamedTensor(name: "t", tensor: t)], to: file)
            assertBitEqual(try TensorFile.read(file)[0].tensor, t)
        }
        let scalarHeader = String(decoding: try bytes(file)[10..<128], as: UTF8.self)
        XCTAssertTrue(scalarHeader.contains("'shape': (1, 1, 1, 1)"))
        try TensorFile.write([NamedTensor(name: "t", tensor: Tensor(shape: [7], scalars: .init(repeating: 1, count: 7)))],
                             to: file)
        XCTAssertTrue(String(decoding: try bytes(file)[10..<64], as: UTF8.self).contains("'shape': (7,)"))
    }

    func testNumPyFixturesReadAndRewriteByteForByte() throws {
        let floats = FixtureFiles.path("simple_rnn/input_0.npy")
        let ids = FixtureFiles.path("embedding_mask/input_0.npy")
        try XCTSkipUnless(FileManager.default.fileExists(atPath: floats) && FileManager.default.fileExists(atPath: ids),
                          "fixtures not present")
        let x = try TensorFile.read(floats)
        XCTAssertEqual(x.count, 1)
        XCTAssertEqual(x[0].elementType, .float32)
        XCTAssertEqual(x[0].tensor.rank, 3)
        XCTAssertEqual(Array(x[0].tensor.shape.dropFirst()), [4, 5])
        XCTAssertTrue(x[0].tensor.scalars.allSatisfy { $0 >= -1 && $0 <= 1 })
        // np.save and TensorFile.write produce the same bytes for a C-order float32 array.
        let copy = path("copy.npy")
        try TensorFile.write(x, to: copy)
        XCTAssertEqual(try bytes(copy), try bytes(floats))

        let tokens = try TensorFile.read(ids)
        XCTAssertEqual(tokens[0].elementType, .int32)
        XCTAssertTrue(tokens[0].elementType.isInteger)
        XCTAssertEqual(tokens[0].tensor.rank, 2)
        XCTAssertTrue(tokens[0].tensor.scalars.allSatisfy { $0 >= 0 && $0.rounded() == $0 })
        XCTAssertFalse(tokens[0].roundedIntegers)
    }

    func testEverySupportedDtypeReads() throws {
        let cases: [(String, [UInt8], [Float], TensorElementType)] = [
            ("<f4", le([Float(1.5).bitPattern, Float(-2).bitPattern, Float(0.1).bitPattern]), [1.5, -2, 0.1], .float32),
            ("<f8", le([Double(1.5).bitPattern, Double(-2).bitPattern, Double(0.1).bitPattern]), [1.5, -2, 0.1], .float64),
            ("<f2", le([UInt16(0x3C00), 0xC000, 0x7BFF]), [1, -2, 65504], .float16),
            ("|i1", le([Int8(-128), 0, 127]), [-128, 0, 127], .int8),
            ("<i2", le([Int16(-32768), 7, 32767]), [-32768, 7, 32767], .int16),
            ("<i4", le([Int32(-5), 0, 1_000_000]), [-5, 0, 1_000_000], .int32),
            ("<i8", le([Int64(-5), 3, 16_777_216]), [-5, 3, 16_777_216], .int64),
            ("|u1", [0, 200, 255], [0, 200, 255], .uint8),
            ("<u1", [1, 2, 3], [1, 2, 3], .uint8),
            ("<u2", le([UInt16(0), 1, 65535]), [0, 1, 65535], .uint16),
            ("<u4", le([UInt32(0), 9, 4_000_000]), [0, 9, 4_000_000], .uint32),
            ("<u8", le([UInt64(0), 9, 12345]), [0, 9, 12345], .uint64),
            ("|b1", [0, 1, 1], [0, 1, 1], .bool),
        ]
        for (descr, data, expected, type) in cases {
            try put("d.npy", npy(descr, "(3,)", data))
            let result = try read("d.npy")[0]
            XCTAssertEqual(result.elementType, type, descr)
            XCTAssertEqual(result.tensor.shape, [3], descr)
            XCTAssertEqual(result.tensor.scalars, expected, descr)
            XCTAssertFalse(result.roundedIntegers, descr)
            XCTAssertEqual(type.numpyDescr.dropFirst(), descr.dropFirst(), descr)
        }
        // Half-precision specials: subnormal, zero signs, infinities, NaN.
        XCTAssertEqual(Float(halfBitPattern: 0x0001), 0x1p-24)
        XCTAssertEqual(Float(halfBitPattern: 0x03FF), 1023 * 0x1p-24)
        XCTAssertEqual(Float(halfBitPattern: 0x8000).bitPattern, (-0.0 as Float).bitPattern)
        XCTAssertEqual(Float(halfBitPattern: 0x7C00), .infinity)
        XCTAssertEqual(Float(halfBitPattern: 0xFC00), -.infinity)
        XCTAssertTrue(Float(halfBitPattern: 0x7E00).isNaN)
        XCTAssertEqual(Float(halfBitPattern: 0x3555), 0.333251953125)

        // Integers float32 cannot hold exactly are flagged.
        try put("big.npy", npy("<i8", "(2,)", le([Int64(16_777_217), 1])))
        let big = try read("big.npy")[0]
        XCTAssertTrue(big.roundedIntegers)
        XCTAssertEqual(big.tensor.scalars, [16_777_216, 1])
        try put("bigu.npy", npy("<u8", "(1,)", le([UInt64.max])))
        XCTAssertTrue(try read("bigu.npy")[0].roundedIntegers)
    }

    func testHeaderVariantsNumPyMayWrite() throws {
        let data = le([Float(1).bitPattern, Float(2).bitPattern])
        let variants = [
            "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }",
            "{'shape': (2,), 'fortran_order': False, 'descr': '<f4'}",
            "{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": ( 2 , ) }",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (2L,), }",  // Python 2
            "{u'descr': u'<f4', u'fortran_order': False, u'shape': (1, 2)}",
            "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 1), }",  // same layout as C order
        ]
        for dict in variants {
            try put("v.npy", npy(dict: dict, data))
            XCTAssertEqual(try read("v.npy")[0].tensor.scalars, [1, 2], dict)
        }
        for version: UInt8 in [2, 3] {
            try put("v.npy", npy("<f4", "(2,)", data, version: version))
            XCTAssertEqual(try read("v.npy")[0].tensor.scalars, [1, 2])
        }
        // A scalar array.
        try put("s.npy", npy("<f8", "()", le([Double(2.5).bitPattern])))
        let scalar = try read("s.npy")[0].tensor
        XCTAssertEqual(scalar.shape, [])
        XCTAssertEqual(scalar.scalars, [2.5])
    }

    func testDecoderAcceptsAnyChunking() throws {
        let file = npy("<i2", "(2, 3)", le([Int16(1), -2, 3, -4, 5, 300]))
        for chunk in [1, 3, 7, 64, 65, 1000] {
            var decoder = NPYDecoder(totalBytes: UInt64(file.count), limits: .default, file: "x.npy", location: nil)
            for start in stride(from: 0, to: file.count, by: chunk) {
                try file[start..<min(file.count, start + chunk)].withUnsafeBytes { try decoder.feed($0) }
            }
            let result = try decoder.finish(name: "x")
            XCTAssertEqual(result.tensor.shape, [2, 3])
            XCTAssertEqual(result.tensor.scalars, [1, -2, 3, -4, 5, 300], "chunk \(chunk)")
        }
    }

    func testUnsupportedNPYFilesAreRefused() throws {
        let four = le([Float(1).bitPattern, Float(2).bitPattern, Float(3).bitPattern, Float(4).bitPattern,
                       Float(5).bitPattern, Float(6).bitPattern])
        let refusals: [(String, [UInt8], [String])] = [
            ("be.npy", npy(">f4", "(2, 3)", four), ["big-endian", "'>f4'"]),
            ("be8.npy", npy(">i8", "(3,)", four), ["big-endian"]),
            ("fortran.npy", npy("<f4", "(2, 3)", four, fortran: true), ["Fortran-order"]),
            ("object.npy", npy("|O", "(2,)", le([UInt64(0), 0])), ["object arrays"]),
            ("struct.npy", npy(dict: "{'descr': [('a', '<f4'), ('b', '<i4')], 'fortran_order': False, 'shape': (3,), }",
                               four), ["structured"]),
            ("str.npy", npy("<U3", "(2,)", four), ["string dtype"]),
            ("complex.npy", npy("<c8", "(3,)", four), ["complex"]),
            ("f16.npy", npy("<f16", "(1,)", Array(four[0..<16])), ["unsupported dtype '<f16'"]),
            ("magic.npy", Array("PK\u{3}\u{4}not numpy at all, not at all".utf8), ["not a NumPy .npy file"]),
            ("short.npy", [0x93, 0x4E], ["truncated .npy file"]),
            ("text.npy", Array("1,2".utf8), ["not a NumPy .npy file"]),
            ("empty.npy", [], ["empty file"]),
            ("version.npy", [0x93] + Array("NUMPY".utf8) + [4, 0] + le([UInt16(0)]), ["version 4.0"]),
            ("truncated.npy", npy("<f4", "(2, 3)", Array(four.dropLast(3))), ["truncated", "(2, 3)", "24 bytes", "21"]),
            ("trailing.npy", npy("<f4", "(5,)", four), ["4 unexpected bytes"]),
            ("truncheader.npy", Array(npy("<f4", "(6,)", four).prefix(40)), ["truncated .npy file"]),
            ("keys.npy", npy(dict: "{'descr': '<f4', 'shape': (6,), }", four), ["'fortran_order'"]),
            ("extra.npy", npy(dict: "{'descr': '<f4', 'fortran_order': False, 'shape': (6,), 'x': 1}", four),
             ["unexpected key 'x'"]),
            ("twice.npy", npy(dict: "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (6,)}", four),
             ["appears twice"]),
            ("notuple.npy", npy("<f4", "(6)", four), ["'shape' is not a tuple"]),
            ("negative.npy", npy("<f4", "(-6,)", four), ["negative dimension"]),
            ("float.npy", npy("<f4", "(6.0,)", four), ["not an integer"]),
            ("garbage.npy", npy(dict: "{'descr': '<f4', 'fortran_order': False, 'shape': (6,), } junk", four),
             ["unexpected text after the dict"]),
            ("call.npy", npy(dict: "{'descr': eval('<f4'), 'fortran_order': False, 'shape': (6,)}", four),
             ["malformed .npy header"]),
            ("deep.npy", npy(dict: "{'descr': " + String(repeating: "[", count: 100), four), ["nesting too deep"]),
            ("hugeint.npy", npy("<f4", "(99999999999999999999999,)", four), ["integer too large"]),
        ]
        for (name, content, parts) in refusals {
            try put(name, content)
            let error = assertError(.unreadable, [path(name)] + parts) { _ = try read(name) }
            XCTAssertEqual(error?.file, path(name), name)
        }
    }

    func testHugeDeclaredShapesAreRefusedBeforeAllocating() throws {
        // Overflowing element count.
        try put("overflow.npy", npy("<f4", "(4294967296, 4294967296, 16)", [0, 0, 0, 0]))
        assertError(.unreadable, ["impossibly large"]) { _ = try read("overflow.npy") }
        // 2^40 elements that would fit Int but are not in the file: refused as truncated, instantly.
        try put("huge.npy", npy("<f8", "(1099511627776,)", [0, 0, 0, 0, 0, 0, 0, 0]))
        assertError(.unreadable, ["truncated", "8796093022208 bytes"]) { _ = try read("huge.npy") }
        // A declared header beyond the 1 MiB limit (version 2.0 length field).
        try put("header.npy", [0x93] + Array("NUMPY".utf8) + [2, 0] + le([UInt32(2 << 20)]) + Array("{".utf8))
        assertError(.unreadable, ["header of 2097152 bytes"]) { _ = try read("header.npy") }
        // Rank above the limit.
        try put("rank.npy", npy("<f4", "(" + String(repeating: "1, ", count: 65) + ")", le([UInt32(0)])))
        assertError(.unreadable, ["rank 65"]) { _ = try read("rank.npy") }
        // File size above the array limit.
        try put("limit.npy", npy("<f4", "(6,)", [UInt8](repeating: 0, count: 24)))
        assertError(.unreadable, ["too large"]) { _ = try read("limit.npy", limits: ReadLimits(maxBytes: 64)) }
    }

    func testNonRegularFilesAreRefused() throws {
        try FileManager.default.createDirectory(atPath: path("dir.npy"), withIntermediateDirectories: false)
        assertError(.unreadable, ["not a regular file"]) { _ = try read("dir.npy") }
        assertError(.unreadable, ["cannot open"]) { _ = try read("missing.npy") }
    }

    // MARK: - .npz

    func testNPZRoundTripWritesStoredEntriesInOrder() throws {
        let a = sampleTensor()
        let b = Tensor(shape: [3], scalars: [7, 8, 9])
        let c = Tensor(shape: [], scalars: [0.5])
        let file = path("out.npz")
        try TensorFile.write([NamedTensor(name: "output_1", tensor: a), NamedTensor(name: "b/nested", tensor: b),
                              NamedTensor(name: "zz", tensor: c)], to: file)
        let archive = try Archive(url: URL(fileURLWithPath: file), accessMode: .read)
        let entries = Array(archive)
        XCTAssertEqual(entries.map(\.path), ["output_1.npy", "b/nested.npy", "zz.npy"])
        XCTAssertTrue(entries.allSatisfy { $0.compressedSize == $0.uncompressedSize })

        let back = try TensorFile.read(file)
        XCTAssertEqual(back.map(\.name), ["output_1", "b/nested", "zz"])
        assertBitEqual(back[0].tensor, a)
        assertBitEqual(back[1].tensor, b)
        assertBitEqual(back[2].tensor, c)
        XCTAssertTrue(back.allSatisfy { $0.elementType == .float32 })

        // Each entry is exactly what write(to: .npy) produces.
        try TensorFile.write([NamedTensor(name: "b", tensor: b)], to: path("b.npy"))
        var entryBytes = Data()
        _ = try archive.extract(entries[1], skipCRC32: false) { entryBytes.append($0) }
        XCTAssertEqual(Array(entryBytes), try bytes(path("b.npy")))

        // An empty list writes an empty archive, which reads back empty.
        try TensorFile.write([], to: file)
        XCTAssertEqual(try TensorFile.read(file), [])
    }

    @discardableResult
    private func makeZip(_ name: String, _ members: [(String, [UInt8])], method: CompressionMethod) throws -> String {
        let url = workDir.appendingPathComponent(name)
        let archive = try Archive(url: url, accessMode: .create)
        for (entry, content) in members {
            let data = Data(content)
            try archive.addEntry(with: entry, type: .file, uncompressedSize: Int64(data.count),
                                 compressionMethod: method) { position, size in
                data.subdata(in: Int(position)..<(Int(position) + size))
            }
        }
        return url.path
    }

    func testDeflatedNPZReads() throws {
        let ids = (0..<600).map { Int32($0 % 17) }
        let floats = (0..<300).map { Double($0) * 0.25 }
        let file = try makeZip("c.npz", [
            ("tokens.npy", npy("<i4", "(2, 300)", le(ids))),
            ("x.npy", npy("<f8", "(3, 10, 10)", le(floats.map(\.bitPattern)))),
        ], method: .deflate)
        let archive = try Archive(url: URL(fileURLWithPath: file), accessMode: .read)
        XCTAssertTrue(archive.allSatisfy { $0.compressedSize < $0.uncompressedSize })

        let result = try TensorFile.read(file)
        XCTAssertEqual(result.map(\.name), ["tokens", "x"])
        XCTAssertEqual(result[0].elementType, .int32)
        XCTAssertEqual(result[0].tensor.shape, [2, 300])
        XCTAssertEqual(result[0].tensor.scalars, ids.map(Float.init))
        XCTAssertEqual(result[1].elementType, .float64)
        XCTAssertEqual(result[1].tensor.shape, [3, 10, 10])
        XCTAssertEqual(result[1].tensor.scalars, floats.map(Float.init))
    }

    func testBadNPZFilesAreRefused() throws {
        let good = npy("<f4", "(1,)", le([Float(1).bitPattern]))
        try makeZip("other.npz", [("a.npy", good), ("notes.txt", Array("hi".utf8))], method: .none)
        assertError(.unreadable, ["other.npz", "notes.txt", "not an .npy entry"]) { _ = try read("other.npz") }

        try makeZip("dotdot.npz", [("../evil.npy", good)], method: .none)
        assertError(.unreadable, ["'..'"]) { _ = try read("dotdot.npz") }

        try makeZip("absolute.npz", [("/etc/evil.npy", good)], method: .none)
        assertError(.unreadable, ["absolute"]) { _ = try read("absolute.npz") }

        try makeZip("dup.npz", [("a.npy", good), ("a.npy", good)], method: .none)
        assertError(.unreadable, ["two entries"]) { _ = try read("dup.npz") }

        try makeZip("badentry.npz", [("a.npy", good), ("b.npy", npy(">f4", "(1,)", [0, 0, 0, 0]))], method: .deflate)
        assertError(.unreadable, ["badentry.npz: b.npy:", "big-endian"]) { _ = try read("badentry.npz") }

        try put("single.npz", good)
        assertError(.unreadable, ["single .npy array"]) { _ = try read("single.npz") }
        try put("text.npz", text: "hello, world")
        assertError(.unreadable, ["not a ZIP file"]) { _ = try read("text.npz") }

        // Entry size limit, checked against the declared size before inflating anything.
        let zeros = npy("<f4", "(100000,)", [UInt8](repeating: 0, count: 400_000))
        try makeZip("bomb.npz", [("z.npy", zeros)], method: .deflate)
        XCTAssertEqual(try read("bomb.npz")[0].tensor.count, 100_000)
        assertError(.unreadable, ["entry too large"]) {
            _ = try read("bomb.npz", limits: ReadLimits(maxBytes: 100_000, maxTotalBytes: 4 << 30))
        }
        assertError(.unreadable, ["zip bomb"]) {
            _ = try read("bomb.npz", limits: ReadLimits(maxNPZCompressionRatio: 10))
        }

        // A declared size that lies: patch the central directory and local header to claim fewer bytes.
        var raw = try bytes(try makeZip("lie.npz", [("z.npy", zeros)], method: .deflate))
        let declared = le([UInt32(zeros.count)])
        let smaller = le([UInt32(zeros.count - 4000)])
        var patched = 0
        var i = 0
        while i + 4 <= raw.count {
            if Array(raw[i..<(i + 4)]) == declared {
                raw.replaceSubrange(i..<(i + 4), with: smaller)
                patched += 1
            }
            i += 1
        }
        XCTAssertGreaterThanOrEqual(patched, 2)
        try put("lie.npz", raw)
        assertError(.unreadable, ["lie.npz"]) { _ = try read("lie.npz") }
    }

    func testNPZWriteRefusesUnusableNames() throws {
        let t = NamedTensor(name: "x", tensor: Tensor(shape: [1], scalars: [1]))
        for bad in ["", "/abs", "a/../b", "..", "C:x"] {
            var named = t
            named.name = bad
            assertError(.badUsage, ["cannot name an .npz entry"]) { try TensorFile.write([named], to: path("n.npz")) }
        }
        assertError(.badUsage, ["two arrays are named 'x'"]) { try TensorFile.write([t, t], to: path("n.npz")) }
        XCTAssertEqual(try folderContents(), [])
    }

    // MARK: - .csv

    func testCSVWithHeaderQuotesAndLineEndings() throws {
        try put("h.csv", text: "\u{FEFF}time, \"value, x\" ,z\r\n1,2.5,-3\r\n\r\n \"4\" , 5e-1 ,6\r\n7,.5,+9\n")
        let result = try read("h.csv")[0]
        XCTAssertEqual(result.name, "input_0")
        XCTAssertEqual(result.tensor.shape, [1, 3, 3])
        XCTAssertEqual(result.tensor.scalars, [1, 2.5, -3, 4, 0.5, 6, 7, 0.5, 9])
        XCTAssertEqual(result.elementType, .float32)

        try put("n.csv", text: "1,2\n3,4")
        let ints = try read("n.csv")[0]
        XCTAssertEqual(ints.tensor.shape, [1, 2, 2])
        XCTAssertEqual(ints.tensor.scalars, [1, 2, 3, 4])
        XCTAssertEqual(ints.elementType, .int64)

        try put("single.csv", text: "x\r0.25\rnan\r-inf\r")
        let single = try read("single.csv")[0].tensor
        XCTAssertEqual(single.shape, [1, 3, 1])
        XCTAssertEqual(single.scalars[0], 0.25)
        XCTAssertTrue(single.scalars[1].isNaN)
        XCTAssertEqual(single.scalars[2], -.infinity)

        try put("big.csv", text: "16777217\n1")
        XCTAssertTrue(try read("big.csv")[0].roundedIntegers)
        try put("big2.csv", text: "16777216\n1")
        XCTAssertFalse(try read("big2.csv")[0].roundedIntegers)
    }

    func testNumberParsingMatchesFloatInit() throws {
        // The fast path (small mantissa, small power of ten) must round exactly like Float(String).
        var generator = SeededGenerator(seed: 20_261_130)
        var texts = ["0", "-0", "1", "16777216", "16777217", "0.1", "-.5", "5.", "1e10", "1e-10", "9.999999e-11",
                     "3.4028235e38", "1.17549435e-38", "1.4e-45", "123456789", "0.000001", "2.5E+3", "00012.50"]
        for _ in 0..<20_000 {
            let digits = String(UInt64.random(in: 0...99_999_999, using: &generator))
            let point = Int.random(in: 0...digits.count, using: &generator)
            var text = String(digits.prefix(point)) + "." + String(digits.dropFirst(point))
            if Bool.random(using: &generator) { text += "e\(Int.random(in: -14...14, using: &generator))" }
            if Bool.random(using: &generator) { text = "-" + text }
            texts.append(text)
        }
        for text in texts {
            let parsed = CSVFormat.parseNumber(text)
            XCTAssertEqual(parsed?.value?.bitPattern, Float(text)?.bitPattern, "\(text) (texts made with \(generator))")
        }
        for bad in ["", "-", ".", "e5", "1e", "1e+", "1.2.3", "0x10", "1_000", " 1", "1 ", "--1", "nanx", "1,5"] {
            XCTAssertNil(CSVFormat.parseNumber(bad), bad)
        }
    }

    func testCSVWindows() throws {
        try put("w.csv", text: "a,b\n1,10\n2,20\n3,30\n4,40\n5,50\n")
        let windows = try read("w.csv", window: 3)[0].tensor
        XCTAssertEqual(windows.shape, [3, 3, 2])
        XCTAssertEqual(windows.scalars, [1, 10, 2, 20, 3, 30,
                                         2, 20, 3, 30, 4, 40,
                                         3, 30, 4, 40, 5, 50])
        XCTAssertEqual(try read("w.csv", window: 5)[0].tensor.shape, [1, 5, 2])
        XCTAssertEqual(try read("w.csv", window: 1)[0].tensor.shape, [5, 1, 2])
        assertError(.badUsage, ["window length 6", "5 data rows"]) { _ = try read("w.csv", window: 6) }
        assertError(.badUsage, ["at least 1"]) { _ = try read("w.csv", window: 0) }
        assertError(.badUsage, ["too large", "more than 64 bytes"]) {
            _ = try read("w.csv", window: 3, limits: ReadLimits(maxBytes: 64))
        }
        try put("w.npy", npy("<f4", "()", [0, 0, 0, 0]))
        assertError(.badUsage, ["only to .csv"]) { _ = try read("w.npy", window: 2) }
    }

    func testBadCSVFilesNameTheLine() throws {
        try put("ragged.csv", text: "a,b,c\n1,2,3\n4,5\n")
        let error = assertError(.unreadable, ["ragged.csv: line 3:", "2 fields", "line 1 has 3"]) {
            _ = try read("ragged.csv")
        }
        XCTAssertEqual(error?.location, "line 3")
        let badTexts: [(file: String, text: String, expected: [String])] = [
            ("ragged2.csv", "1,2\n\n3,4,5\n", ["line 3:", "ragged"]),
            ("word.csv", "1,2\n3,abc\n", ["line 2:", "field 2 is not a number: 'abc'"]),
            ("hex.csv", "1\n0x10\n", ["not a number"]),
            ("emptyfield.csv", "1,,3\n", ["line 1:", "empty field 2"]),
            ("quote.csv", "1,\"2\n3,4\n", ["line 1:", "unterminated"]),
            ("afterquote.csv", "1,\"2\"x\n", ["after the closing quote"]),
            ("range.csv", "1e39\n", ["float32 range"]),
            ("headeronly.csv", "a,b\n", ["no data rows after the header"]),
            ("nothing.csv", "\n\n", ["no data rows"]),
        ]
        for (file, text, expected) in badTexts {
            try put(file, text: text)
            assertError(.unreadable, expected) { _ = try read(file) }
        }
        try put("binary.csv", [0x31, 0x00, 0x32])
        assertError(.unreadable, ["not a CSV text file"]) { _ = try read("binary.csv") }
        try put("latin1.csv", [0x31, 0x0A, 0xE9])
        assertError(.unreadable, ["not UTF-8"]) { _ = try read("latin1.csv") }
    }

    // MARK: - .json

    func testJSONNestedArrayAndObjectForms() throws {
        try put("a.json", text: "[[[1, 2.5], [3, 4]], [[5, 6], [7, -8e-1]]]")
        let one = try read("a.json")
        XCTAssertEqual(one.count, 1)
        XCTAssertEqual(one[0].name, "input_0")
        XCTAssertEqual(one[0].tensor.shape, [2, 2, 2])
        XCTAssertEqual(one[0].tensor.scalars, [1, 2.5, 3, 4, 5, 6, 7, -0.8])
        XCTAssertEqual(one[0].elementType, .float32)

        try put("o.json", text: #"{"tokens": [[3, 1, 0]], "features": [[[0.5], [NaN], [-Infinity]]], "s": 2}"#)
        let many = try read("o.json")
        XCTAssertEqual(many.map(\.name), ["tokens", "features", "s"])
        XCTAssertEqual(many[0].tensor.shape, [1, 3])
        XCTAssertEqual(many[0].elementType, .int64)
        XCTAssertEqual(many[1].tensor.shape, [1, 3, 1])
        XCTAssertTrue(many[1].tensor.scalars[1].isNaN)
        XCTAssertEqual(many[1].tensor.scalars[2], -.infinity)
        XCTAssertEqual(many[2].tensor.shape, [])
        XCTAssertEqual(many[2].tensor.scalars, [2])

        try put("e.json", text: "[[], []]")
        XCTAssertEqual(try read("e.json")[0].tensor.shape, [2, 0])
    }

    func testBadJSONNamesThePointer() throws {
        try put("r.json", text: "[[1, 2], [3]]")
        let error = assertError(.unreadable, ["r.json: /1:", "ragged", "1 elements", "has 2"]) { _ = try read("r.json") }
        XCTAssertEqual(error?.location, "/1")
        try put("r2.json", text: #"{"a/b": [[1, 2], [3, [4]]]}"#)
        assertError(.unreadable, ["/a~1b/1/1:", "expected a number"]) { _ = try read("r2.json") }
        try put("r3.json", text: "[[1, 2], 3]")
        assertError(.unreadable, ["/1:", "expected an array of 2 elements"]) { _ = try read("r3.json") }
        try put("s.json", text: #"[1, "2"]"#)
        assertError(.unreadable, ["/1:", "found a string"]) { _ = try read("s.json") }
        try put("n.json", text: #"[1, null]"#)
        assertError(.unreadable, ["/1:", "null"]) { _ = try read("n.json") }
        try put("top.json", text: #""text""#)
        assertError(.unreadable, ["found a string"]) { _ = try read("top.json") }
        try put("range.json", text: "[1e39]")
        assertError(.unreadable, ["/0:", "float32 range"]) { _ = try read("range.json") }
        try put("syntax.json", text: "[1, 2")
        assertError(.unreadable, ["syntax.json", "invalid JSON"]) { _ = try read("syntax.json") }
        try put("deep.json", text: String(repeating: "[", count: 100) + String(repeating: "]", count: 100))
        assertError(.unreadable, ["deep.json", "too deep"]) { _ = try read("deep.json") }
        try put("big.json", text: "[1, 2, 3]")
        assertError(.unreadable, ["too large"]) { _ = try read("big.json", limits: ReadLimits(maxJSONBytes: 4)) }
    }

    func testJSONValueAndJSONWrite() throws {
        let outputs = [NamedTensor(name: "output_0", tensor: Tensor(shape: [2, 2], scalars: [1, 0.1, -2.5, .nan])),
                       NamedTensor(name: "output_1", tensor: Tensor(shape: [], scalars: [3]))]
        XCTAssertEqual(JSONWriter.string(TensorFile.jsonValue(outputs)),
                       #"{"output_0":[[1.0,0.1],[-2.5,NaN]],"output_1":3.0}"#)
        let file = path("out.json")
        let tensors = [NamedTensor(name: "y", tensor: sampleTensor())]
        try TensorFile.write(tensors, to: file)
        let back = try TensorFile.read(file)
        XCTAssertEqual(back.map(\.name), ["y"])
        assertBitEqual(back[0].tensor, sampleTensor().withCanonicalNaN())
    }

    // MARK: - Writing

    func testUnknownExtensionsAreBadUsage() throws {
        try put("x.txt", text: "1")
        assertError(.badUsage, ["x.txt", "'.txt'", ".npy, .npz, .csv, .json"]) { _ = try read("x.txt") }
        assertError(.badUsage, ["no extension"]) { _ = try read("noext") }
        let t = NamedTensor(name: "x", tensor: Tensor(shape: [1], scalars: [1]))
        assertError(.badUsage, ["'.txt'", ".npy, .npz, .json, .csv, .ndjson, .jsonl"]) {
            try TensorFile.write([t], to: path("y.txt"))
        }
        // CSV and NDJSON are written one sample per line.
        try TensorFile.write([NamedTensor(name: "x", tensor: Tensor(shape: [2, 2], scalars: [1, 2, 3, 4]))],
                             to: path("x.csv"))
        XCTAssertEqual(try String(contentsOfFile: path("x.csv"), encoding: .utf8), "x_0,x_1\n1.0,2.0\n3.0,4.0\n")
        try TensorFile.write([t], to: path("x.jsonl"))
        XCTAssertEqual(try String(contentsOfFile: path("x.jsonl"), encoding: .utf8), "{\"x\":1.0}\n")
        // Extensions are matched without regard to case.
        try TensorFile.write([t], to: path("UP.NPY"))
        XCTAssertEqual(try read("UP.NPY")[0].tensor.scalars, [1])
    }

    func testAtomicWriteKeepsThePreviousFileOnFailure() throws {
        let file = path("keep.npy")
        let first = NamedTensor(name: "a", tensor: Tensor(shape: [2], scalars: [1, 2]))
        try TensorFile.write([first], to: file)
        let before = try bytes(file)
        chmod(file, 0o640)

        // Two tensors cannot go to an .npy file.
        assertError(.badUsage, ["exactly one array", "not 2"]) { try TensorFile.write([first, first], to: file) }
        XCTAssertEqual(try bytes(file), before)
        XCTAssertEqual(try folderContents(), ["keep.npy"])

        // A failure after the temporary file exists: the target is a directory, so rename fails.
        try FileManager.default.createDirectory(atPath: path("dir.npz"), withIntermediateDirectories: false)
        try put("dir.npz/inside", text: "x")
        assertError(.badUsage, ["dir.npz", "cannot replace"]) { try TensorFile.write([first], to: path("dir.npz")) }
        XCTAssertEqual(try folderContents(), ["dir.npz", "keep.npy"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: path("dir.npz")), ["inside"])

        // A folder that does not exist.
        assertError(.badUsage, ["cannot create a temporary file"]) {
            try TensorFile.write([first], to: path("missing/x.npy"))
        }

        // A successful write replaces the file and keeps its permission bits.
        let second = NamedTensor(name: "a", tensor: Tensor(shape: [3], scalars: [4, 5, 6]))
        try TensorFile.write([second], to: file)
        XCTAssertEqual(try TensorFile.read(file)[0].tensor.scalars, [4, 5, 6])
        let mode = try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int
        XCTAssertEqual(mode, 0o640)
        XCTAssertEqual(try folderContents(), ["dir.npz", "keep.npy"])

        // A relative path in the current directory works too.
        let saved = FileManager.default.currentDirectoryPath
        XCTAssertTrue(FileManager.default.changeCurrentDirectoryPath(workDir.path))
        defer { _ = FileManager.default.changeCurrentDirectoryPath(saved) }
        try TensorFile.write([second], to: "relative.json")
        XCTAssertEqual(try TensorFile.read("relative.json")[0].tensor.scalars, [4, 5, 6])
    }
}

private extension Tensor {
    /// NaN payloads do not survive JSON text; compare with the canonical quiet NaN.
    func withCanonicalNaN() -> Tensor {
        Tensor(shape: shape, scalars: scalars.map { $0.isNaN ? Float.nan : $0 })
    }
}

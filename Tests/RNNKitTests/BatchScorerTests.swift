import Foundation
@testable import RNNKit
import RNNKitTestSupport
import XCTest
import ZIPFoundation

/// Streaming scoring gives the outputs of one whole-input run, whatever the batch and the
/// pieces the files are read in; bad lines are named, and skipped on request.
final class BatchScorerTests: TemporaryFolderTestCase {
    private let model = FixtureFiles.path("simple_rnn/keras3.keras")  // input (None, 4, 5)

    /// A CSV series of `rows` rows of 5 features, with a header.
    private func series(_ rows: Int, seed: UInt64 = 1) throws -> String {
        var generator = SeededGenerator(seed: seed)
        var text = "a,b,c,d,e\n"
        for _ in 0..<rows {
            text += (0..<5).map { _ in String(Float.random(in: -2...2, using: &generator)) }.joined(separator: ",") + "\n"
        }
        let path = temporary("series-\(rows).csv")
        try text.write(toFile: path, atomically: false, encoding: .utf8)
        return path
    }

    /// Every batch of `source`, concatenated: records and the first array's scalars.
    private func drain(_ source: ScoringSource, batch: Int) throws -> (records: [ScoringRecord], scalars: [Float]) {
        var records: [ScoringRecord] = [], scalars: [Float] = []
        while let next = try source.next(batch) {
            records += next.records
            scalars += next.arrays.first?.tensor.scalars ?? []
        }
        return (records, scalars)
    }

    func testCSVWindowsOverlapAcrossPiecesAndBatchesAsInAWholeRead() throws {
        let path = try series(300)
        let whole = try CSVFormat.read(path, window: 24, limits: .default)
        for (piece, batch) in [(64, 1), (100, 7), (1 << 10, 256), (256 << 10, 5)] {
            let source = try CSVSource(file: path, layout: .timeSteps, window: 24, skipping: false, limits: .default,
                                       pieceSize: piece)
            let (records, scalars) = try drain(source, batch: batch)
            XCTAssertEqual(records.count, 277, "piece \(piece), batch \(batch)")
            XCTAssertEqual(scalars, whole.tensor.scalars, "piece \(piece), batch \(batch)")
        }
    }

    func testNPYIsReadABatchAtATimeAsWhole() throws {
        var generator = SeededGenerator(seed: 5)
        let tensor = Tensor(shape: [50, 4, 5], scalars: (0..<1000).map { _ in Float.random(in: -1...1, using: &generator) })
        let path = temporary("x.npy")
        try TensorFile.write([NamedTensor(name: "x", tensor: tensor)], to: path)
        for batch in [1, 7, 50, 64] {
            let (records, scalars) = try drain(try NPYSource(npy: path, limits: .default), batch: batch)
            XCTAssertEqual(records.count, 50, "batch \(batch)")
            XCTAssertEqual(scalars, tensor.scalars, "batch \(batch)")
        }
        try Data([0x93, 0x4E, 0x55]).write(to: URL(fileURLWithPath: temporary("short.npy")))
        XCTAssertThrowsError(try NPYSource(npy: temporary("short.npy"), limits: .default)) {
            XCTAssertEqual(($0 as? RNNKitError)?.kind, .unreadable)
        }
    }

    /// An `.npz` of stored arrays is read a batch of rows at a time, every array in step, with its
    /// CRC-32 checked; a deflated one is left to the whole-file reader.
    func testStoredNPZIsReadABatchAtATimeAsWhole() throws {
        var generator = SeededGenerator(seed: 6)
        let x = Tensor(shape: [50, 4, 5], scalars: (0..<1000).map { _ in Float.random(in: -1...1, using: &generator) })
        let y = Tensor(shape: [50, 3], scalars: (0..<150).map { _ in Float.random(in: -1...1, using: &generator) })
        let path = temporary("xy.npz")
        try TensorFile.write([NamedTensor(name: "x", tensor: x), NamedTensor(name: "y", tensor: y)], to: path)
        for batch in [1, 7, 50, 64] {
            let source = try XCTUnwrap(try NPYSource(npz: path, limits: .default))
            var xs: [Float] = [], ys: [Float] = []
            while let next = try source.next(batch) {
                XCTAssertEqual(next.arrays.map(\.name), ["x", "y"])
                XCTAssertTrue(next.named)
                xs += next.arrays[0].tensor.scalars
                ys += next.arrays[1].tensor.scalars
            }
            XCTAssertEqual(xs, x.scalars, "batch \(batch)")
            XCTAssertEqual(ys, y.scalars, "batch \(batch)")
            XCTAssertEqual(source.fractionRead, 1)
        }

        // The last scalar of y, changed in place: found by the CRC-32 once the entry is read.
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let last = try XCTUnwrap(bytes.range(of: withUnsafeBytes(of: y.scalars.last!.bitPattern.littleEndian) { Data($0) })).lowerBound
        bytes[last] ^= 0x01
        let damaged = temporary("damaged.npz")
        try bytes.write(to: URL(fileURLWithPath: damaged))
        XCTAssertThrowsError(try {
            // The damage is found at the latest once the entry's last byte is read.
            let source = try NPYSource(npz: damaged, limits: .default)
            while try source?.next(16) != nil {}
        }()) { error in
            XCTAssertEqual((error as? RNNKitError)?.kind, .unreadable)
            XCTAssertEqual((error as? RNNKitError)?.location, "y.npy")
            XCTAssertTrue("\(error)".contains("CRC-32"), "\(error)")
        }

        let compressed = temporary("compressed.npz")
        let archive = try Archive(url: URL(fileURLWithPath: compressed), accessMode: .create)
        let entry = NPYFormat.encode(NamedTensor(name: "x", tensor: x))
        try archive.addEntry(with: "x.npy", type: .file, uncompressedSize: Int64(entry.count),
                             compressionMethod: .deflate) { position, size in
            entry.subdata(in: Int(position)..<(Int(position) + size))
        }
        XCTAssertNil(try NPYSource(npz: compressed, limits: .default))
    }

    func testScoredOutputsEqualOneWholePredictionByteForByte() throws {
        let path = try series(200)
        let predictor = try Predictor(contentsOf: model)
        let whole = try predictor.predict(PredictionInputs.read([path], for: predictor, csvWindow: 4))
        let expected = temporary("whole.npy")
        try TensorFile.write([NamedTensor(name: "output_0", tensor: whole[0])], to: expected)
        for batch in [1, 13, 14, 256] {
            var options = BatchScorer.Options()
            options.window = 4
            options.batchSize = batch
            let output = temporary("scored-\(batch).npy")
            let result = try BatchScorer(predictor, options: options).score([path], as: .npy, to: .file(output))
            XCTAssertEqual(result.rows, 197)
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: output)),
                           try Data(contentsOf: URL(fileURLWithPath: expected)), "batch \(batch)")
        }
    }

    func testABadCSVRowIsNamedOrSkippedAndNoWindowSpansIt() throws {
        let path = temporary("bad.csv")
        let rows = (0..<10).map { row in (0..<5).map { "\(row).\($0)" }.joined(separator: ",") }
        var lines = rows
        lines[5] = "1,2,oops,4,5"
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: false, encoding: .utf8)
        let stopping = try CSVSource(file: path, layout: .timeSteps, window: 3, skipping: false, limits: .default)
        XCTAssertThrowsError(try drain(stopping, batch: 4)) { error in
            XCTAssertEqual("\(error)", "\(path): line 6: field 3 is not a number: 'oops'")
        }
        let skipping = try CSVSource(file: path, layout: .timeSteps, window: 3, skipping: true, limits: .default,
                                     pieceSize: 16)
        let (records, scalars) = try drain(skipping, batch: 4)
        // Windows at rows 0-2 (3 of them before the bad row), the error, then rows 6-9 (2 windows).
        let kinds = records.map { record -> String in
            if case .error(let line, _) = record { return "error \(line)" }
            return "sample"
        }
        XCTAssertEqual(kinds, ["sample", "sample", "sample", "error 6", "sample", "sample"])
        XCTAssertEqual(scalars.count, 5 * 3 * 5)
        XCTAssertEqual(Array(scalars.suffix(15)), [7, 8, 9].flatMap { row in (0..<5).map { Float("\(row).\($0)")! } })
    }

    func testNDJSONLinesStackAndBadLinesAreNamedOrSkipped() throws {
        let predictor = try Predictor(contentsOf: model)
        let inputs = try PredictionInputs.read([FixtureFiles.path("simple_rnn/input_0.npy")], for: predictor)[0]
        let sample = (0..<3).map { batch in
            "[" + (0..<4).map { step in
                "[" + (0..<5).map { String(inputs.scalars[batch * 20 + step * 5 + $0]) }.joined(separator: ",") + "]"
            }.joined(separator: ",") + "]"
        }
        let path = temporary("seqs.ndjson")
        try ([sample[0], "", "[1, 2", sample[1], "{\"input_layer\": [[1]]}", sample[2]].joined(separator: "\n") + "\n")
            .write(toFile: path, atomically: false, encoding: .utf8)

        var options = BatchScorer.Options()
        XCTAssertThrowsError(try BatchScorer(predictor, options: options).score([path], as: .ndjson,
                                                                                 to: .file(temporary("out.ndjson")))) {
            XCTAssertEqual("\($0)", "\(path): line 3: invalid JSON at column 6: unexpected end of data")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: temporary("out.ndjson")))

        options.onError = .skip
        options.batchSize = 2
        var skipped: [String] = []
        let output = temporary("skipped.ndjson")
        let result = try BatchScorer(predictor, options: options).score([path], as: .ndjson, to: .file(output),
                                                                         skipped: { skipped.append("\($0)") })
        XCTAssertEqual(result.rows, 3)
        XCTAssertEqual(result.skipped, 2)
        XCTAssertEqual(skipped.count, 2)
        let lines = try String(contentsOfFile: output, encoding: .utf8).split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 5)
        XCTAssertEqual(lines[1], #"{"line":3,"error":"invalid JSON at column 6: unexpected end of data"}"#)
        XCTAssertEqual(lines[3], #"{"line":5,"error":"input 'input_layer' expects a sample of shape (4, 5), got (1, 1)"}"#)
        let expected = try predictor.predict([inputs])[0].scalars
        let scored = try [lines[0], lines[2], lines[4]].map { line -> Float in
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: [Double]]
            return Float(object["output_0"]![0])
        }
        assertClose([Tensor(shape: [3], scalars: scored)], [Tensor(shape: [3], scalars: expected)], "NDJSON outputs")
    }

    func testEveryOutputFormatStreamsTheWholeRunsValues() throws {
        let path = try series(50)
        let predictor = try Predictor(contentsOf: model)
        let whole = try predictor.predict(PredictionInputs.read([path], for: predictor, csvWindow: 4))
        let named = [NamedTensor(name: "output_0", tensor: whole[0])]
        var options = BatchScorer.Options()
        options.window = 4
        options.batchSize = 8
        for format in TensorFile.OutputFormat.allCases {
            let expected = temporary("whole.\(format.rawValue)"), output = temporary("scored.\(format.rawValue)")
            try TensorFile.write(named, as: format, to: .file(expected))
            try BatchScorer(predictor, options: options).score([path], as: format, to: .file(output))
            if format == .npz {
                // A zip entry holds the time it was written: compare the arrays, bit for bit.
                let (scored, reference) = (try TensorFile.readNPZ(output), try TensorFile.readNPZ(expected))
                XCTAssertEqual(scored.map(\.name), reference.map(\.name))
                XCTAssertEqual(scored.map(\.tensor.shape), reference.map(\.tensor.shape))
                XCTAssertEqual(scored.map { $0.tensor.scalars.map(\.bitPattern) },
                               reference.map { $0.tensor.scalars.map(\.bitPattern) })
            } else {
                XCTAssertEqual(try String(contentsOfFile: output, encoding: .isoLatin1),
                               try String(contentsOfFile: expected, encoding: .isoLatin1), format.rawValue)
            }
        }
    }
}

import CHDF5
import Foundation
import RNNKitTestSupport
import XCTest
import ZIPFoundation

@testable import RNNKit

/// A regression corpus of broken model files, made at test time from the fixtures by
/// deterministic mutations: truncations, bit flips, damaged ZIP entries, attributes and datasets
/// of the wrong type, swapped weights and edited configs.
///
/// For every file `Model.load` must either succeed or throw an `RNNKitError` whose description is
/// one line naming the file; a loaded model with errors must be refused by `Predictor`, and a
/// valid one must predict or refuse with an `RNNKitError`. Nothing else may escape. Beyond that,
/// each mutant does what its mutation calls for (`MutantExpectation`, in
/// RNNKitTestSupport/CorpusMutations.swift, which makes the mutants): one that changes nothing
/// the maths reads must predict Keras's outputs within 1e-5, one that loses part of the model
/// (a truncation) must be refused.
///
/// A few mutants crash libhdf5 itself (see `isolationOnly`): they cannot run in this process and
/// are checked through the CLI in RNNKitCLITests/RegressionCorpusCLITests.swift instead.
///
/// Set `RNNKIT_CORPUS_DUMP=<folder>` to write every mutant there (with a `manifest.tsv`: name,
/// model, weights) instead of loading it, e.g. to screen them in child processes with
/// `Fuzz/screen-corpus.sh <folder>` after a library change.
final class RegressionCorpusTests: XCTestCase {
    /// Fixtures mutated: Sequential (compiled, with optimizer weights), Functional with two inputs
    /// and `initial_state`, two outputs with Bidirectional, and integer token ids with masking.
    static let fixtures = ["simple_rnn", "seq2seq", "bidirectional_none", "embedding_mask"]

    /// Mutants that crash libhdf5 1.10.8 itself: a segfault in `H5HG_read` reading a
    /// variable-length string attribute whose global-heap reference is damaged, and one in
    /// `H5HL_protect` (a damaged local heap). No Swift code can catch them, so they are left out
    /// here; the same bytes are in Fixtures/regressions/ and go through the CLI, which must run
    /// the reading in a child process to survive them.
    static let isolationOnly: Set<String> = [
        "embedding_mask/tfkeras.h5 flip@4570.7",         // regressions/hdf5-global-heap-embedding_mask-tfkeras.h5
        "bidirectional_none/tfkeras.h5 smashFF@14664",   // regressions/hdf5-local-heap-bidirectional_none-tfkeras.h5
    ]

    private static var totals = Tally()

    private var workDirectory: URL!

    override func setUpWithError() throws {
        workDirectory = try makeTemporaryDirectory()
    }

    override class func tearDown() {
        if totals.files > 0 {
            print("regression corpus: \(totals.summary) in \(String(format: "%.1f", totals.seconds)) s")
        }
        super.tearDown()
    }

    // MARK: - The corpus, by family

    func testTruncatedFiles() throws {
        try run("truncation") { corpus in
            for base in CorpusMutations.baseFiles(of: Self.fixtures) {
                let bytes = try base.bytes()
                var rng = SeededGenerator(seed: "truncate " + base.name)
                // Every prefix of the headers of binary formats (HDF5 superblock, ZIP local header);
                // JSON is cut at spread offsets only (prefixes are all the same syntax error).
                var offsets = base.mutatedFile.hasSuffix(".json") ? [0, 1] : Set(0..<min(64, bytes.count))
                if bytes.count > 64 {
                    for k in 0..<40 {
                        let low = 64 + (bytes.count - 64) * k / 40
                        let high = 64 + (bytes.count - 64) * (k + 1) / 40
                        offsets.insert(high > low ? Int(rng.next(below: UInt64(high - low))) + low : low)
                    }
                    offsets.insert(bytes.count - 1)
                }
                for offset in offsets.sorted() {
                    try corpus.check(base.with(Array(bytes[..<offset]), "truncated@\(offset)", in: corpus.directory))
                }
            }
        }
    }

    func testBitFlippedFiles() throws {
        try run("bit flip") { corpus in
            for base in CorpusMutations.baseFiles(of: Self.fixtures) {
                let bytes = try base.bytes()
                var rng = SeededGenerator(seed: "flip " + base.name)
                for _ in 0..<60 {
                    let position = Int(rng.next(below: UInt64(bytes.count)))
                    let bit = Int(rng.next(below: 8))
                    var copy = bytes
                    copy[position] ^= UInt8(1 << bit)
                    try corpus.check(base.with(copy, "flip@\(position).\(bit)", in: corpus.directory))
                }
                // A few multi-byte smashes: 8 bytes of 0xFF or 0x00 at seeded places.
                for index in 0..<6 {
                    let position = Int(rng.next(below: UInt64(max(1, bytes.count - 8))))
                    var copy = bytes
                    for k in position..<min(bytes.count, position + 8) { copy[k] = index % 2 == 0 ? 0xFF : 0x00 }
                    try corpus.check(base.with(copy, "smash\(index % 2 == 0 ? "FF" : "00")@\(position)", in: corpus.directory))
                }
            }
        }
    }

    func testCorruptedKerasArchives() throws {
        let tally = try run("zip") { corpus in
            for fixture in Self.fixtures {
                let base = BaseFile(fixture: fixture, model: "keras3.keras", weights: nil, mutated: .model)
                let bytes = try base.bytes()
                let zip = try ZipLayout(bytes)
                for entry in zip.entries {
                    for (label, copy) in zip.mutations(of: entry, in: bytes) {
                        try corpus.check(base.with(copy, "\(entry.name) \(label)", in: corpus.directory))
                    }
                    // The entry's content damaged behind a correct CRC-32, so that it reaches the parsers.
                    let content = Array(bytes[entry.dataOffset..<(entry.dataOffset + entry.size)])
                    var rng = SeededGenerator(seed: "zip content " + fixture + entry.name)
                    for round in 0..<8 where !content.isEmpty {
                        var damaged = content
                        let start = Int(rng.next(below: UInt64(damaged.count)))
                        for k in start..<min(damaged.count, start + 1 + round) { damaged[k] ^= UInt8(1 + rng.next(below: 255)) }
                        try corpus.check(base.with(zip.replacingContent(of: entry, with: damaged, in: bytes),
                                                   "\(entry.name) content@\(start)+\(round + 1) crc-fixed", in: corpus.directory))
                    }
                }
                for (label, copy) in try CorpusMutations.archiveLevelMutations(of: bytes, zip: zip, in: workDirectory) {
                    try corpus.check(base.with(copy, label, in: corpus.directory))
                }
            }
        }
        // At least the archive rebuilt deflated and the one without metadata.json, for each fixture.
        if !tally.isEmpty { XCTAssertGreaterThanOrEqual(tally.matchedKeras, 2 * Self.fixtures.count) }
    }

    func testWrongAttributeAndDatasetTypes() throws {
        try run("hdf5 types") { corpus in
            for base in CorpusMutations.baseFiles(of: Self.fixtures) where base.mutatedPath.hasSuffix(".h5") || base.mutatedPath.hasSuffix(".keras") {
                for edit in try CorpusMutations.hdf5Edits(for: base, in: workDirectory) {
                    try corpus.check(base.editingHDF5(edit.label, in: workDirectory, edit.apply))
                }
            }
        }
    }

    func testSwappedWeights() throws {
        try run("swapped weights") { corpus in
            for base in CorpusMutations.baseFiles(of: Self.fixtures) where base.mutatedPath.hasSuffix(".h5") || base.mutatedPath.hasSuffix(".keras") {
                let datasets = try base.datasetPaths(in: workDirectory)
                guard datasets.count >= 2 else { continue }
                var rng = SeededGenerator(seed: "swap " + base.name)
                var pairs: [(String, String)] = []
                // Neighbours (kernel and recurrent kernel of one cell, often), the first with the
                // last (across layers), and a few seeded pairs.
                for index in stride(from: 0, to: datasets.count - 1, by: 2) { pairs.append((datasets[index], datasets[index + 1])) }
                pairs.append((datasets[0], datasets[datasets.count - 1]))
                for _ in 0..<4 {
                    let a = Int(rng.next(below: UInt64(datasets.count))), b = Int(rng.next(below: UInt64(datasets.count)))
                    if a != b { pairs.append((datasets[a], datasets[b])) }
                }
                for (first, second) in pairs {
                    try corpus.check(base.editingHDF5("swap \(first) <> \(second)", in: workDirectory) { file in
                        try H5Edit.swapLinks(file, first, second)
                    })
                }
                // Whole layer groups exchanged.
                let groups = Set(datasets.map { ($0 as NSString).deletingLastPathComponent }).sorted()
                if groups.count >= 2 {
                    try corpus.check(base.editingHDF5("swap \(groups[0]) <> \(groups[groups.count - 1])", in: workDirectory) { file in
                        try H5Edit.swapLinks(file, groups[0], groups[groups.count - 1])
                    })
                }
            }
        }
    }

    func testEditedConfigs() throws {
        try run("config edits") { corpus in
            for fixture in Self.fixtures {
                let forms: [BaseFile] = [
                    BaseFile(fixture: fixture, model: "keras3.json", weights: "keras3.weights.h5", mutated: .model),
                    BaseFile(fixture: fixture, model: "tfkeras.json", weights: "tfkeras_weights.h5", mutated: .model),
                    BaseFile(fixture: fixture, model: "keras3.keras", weights: nil, mutated: .model),
                    BaseFile(fixture: fixture, model: "keras3.h5", weights: nil, mutated: .model),
                    BaseFile(fixture: fixture, model: "tfkeras.h5", weights: nil, mutated: .model),
                ]
                for form in forms {
                    let original = try form.configText()
                    for (label, text) in try ConfigEdits.all(of: original) {
                        try corpus.check(form.withConfig(text, label, in: workDirectory))
                    }
                }
            }
        }
    }

    /// RNNKit JSON models (architecture and weights in one file) with damaged weights and text.
    func testEditedRNNKitJSON() throws {
        let tally = try run("rnnkit json") { corpus in
            for fixture in Self.fixtures {
                let model = try Model.load(contentsOf: FixtureFiles.path("\(fixture)/keras3.keras"))
                let text = JSONWriter.string(try RNNKitJSON.write(model, layout: .keras))
                let base = BaseFile(fixture: fixture, model: "rnnkit.json", weights: nil, mutated: .model,
                                    override: Array(text.utf8))
                try corpus.check(base.with(Array(text.utf8), "unchanged", in: corpus.directory))
                for (label, edited) in try ConfigEdits.all(of: text) {
                    try corpus.check(base.with(Array(edited.utf8), label, in: corpus.directory))
                }
                var rng = SeededGenerator(seed: "rnnkit json " + fixture)
                let bytes = Array(text.utf8)
                for _ in 0..<30 {
                    let position = Int(rng.next(below: UInt64(bytes.count)))
                    var copy = bytes
                    copy[position] = [UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "e"), UInt8(ascii: "]"),
                                      UInt8(ascii: "\""), 0xFF, 0x00, UInt8(ascii: "n")][Int(rng.next(below: 8))]
                    try corpus.check(base.with(copy, "byte@\(position)=\(copy[position])", in: corpus.directory))
                }
            }
        }
        // The unchanged file of each fixture.
        if !tally.isEmpty { XCTAssertGreaterThanOrEqual(tally.matchedKeras, Self.fixtures.count) }
    }

    // MARK: - Bugs once found, one test each

    /// Names read from a file (layer names, `weight_names` entries) may hold control characters;
    /// every `Problem` and every error must still print as one line (`rnnkit validate` prints one
    /// problem per line, and errors go to stderr as one line).
    func testNamesFromTheFileStayOnOneLine() throws {
        let path = FixtureFiles.path("regressions/newline-in-layer-name.json")
        let model = try Model.load(contentsOf: path, weights: FixtureFiles.path("simple_rnn/tfkeras_weights.h5"))
        XCTAssertFalse(model.errors.isEmpty)
        for problem in model.problems {
            XCTAssertFalse(problem.description.contains("\n"), problem.description.debugDescription)
        }
        XCTAssertThrowsError(try Predictor(model)) { error in
            let text = (error as? RNNKitError)?.description ?? "\(error)"
            XCTAssertFalse(text.contains("\n"), text.debugDescription)
        }
        let error = RNNKitError(.invalidModel, "bad\nthing", file: "a\nb.h5", location: "/x\ry\u{1B}[31m")
        XCTAssertFalse(error.description.contains(where: { $0.unicodeScalars.contains { $0.properties.generalCategory == .control } }),
                       error.description.debugDescription)
        let problem = Problem(.error, "/layers/a\nb", "weight 'a\nb' is listed but missing")
        XCTAssertFalse(problem.description.contains("\n"), problem.description.debugDescription)
    }

    // MARK: - Running

    /// Runs one family of mutants; returns what they did (nothing when dumping them).
    @discardableResult
    private func run(_ family: String, _ body: (inout Corpus) throws -> Void) throws -> Tally {
        var corpus = Corpus(test: self, family: family, directory: workDirectory)
        // So that other processes' files cannot be mistaken for leftovers of a reader.
        let temporary = try useOwnTemporaryFolder().path
        let start = Date()
        try body(&corpus)
        corpus.tally.seconds = Date().timeIntervalSince(start)
        if corpus.dumping {
            print("regression corpus (\(family)): dumped \(corpus.tally.files) files to \(corpus.dumpDirectory!)")
            return Tally()
        }
        print("regression corpus (\(family)): \(corpus.tally.summary) in "
              + String(format: "%.1f s; slowest %.2f s: %@", corpus.tally.seconds, corpus.slowest.seconds,
                       corpus.slowest.name))
        Self.totals.add(corpus.tally)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: temporary), [],
                       "a reader left a temporary file behind")
        return corpus.tally
    }
}

// MARK: - One corpus run

private struct Tally {
    var files = 0, unreadable = 0, invalid = 0, valid = 0, predicted = 0, skipped = 0
    /// Mutants that change nothing the maths reads, found to predict Keras's outputs.
    var matchedKeras = 0
    var seconds: TimeInterval = 0

    /// Nothing was checked (the mutants were dumped instead).
    var isEmpty: Bool { files == 0 }

    var summary: String {
        "\(files) files, \(unreadable) unreadable, \(invalid) invalid, \(valid) valid (\(predicted) predicted, "
            + "\(matchedKeras) with Keras's outputs)" + (skipped > 0 ? ", \(skipped) left to the CLI tests" : "")
    }

    mutating func add(_ other: Tally) {
        files += other.files; unreadable += other.unreadable; invalid += other.invalid
        valid += other.valid; predicted += other.predicted; skipped += other.skipped
        matchedKeras += other.matchedKeras
        seconds += other.seconds
    }
}

private struct Corpus {
    let test: XCTestCase
    let family: String
    let directory: URL
    var tally = Tally()
    var slowest: (name: String, seconds: TimeInterval) = ("", 0)
    let dumpDirectory: String? = ProcessInfo.processInfo.environment["RNNKIT_CORPUS_DUMP"]
    var dumping: Bool { dumpDirectory != nil }

    init(test: XCTestCase, family: String, directory: URL) {
        self.test = test
        self.family = family
        self.directory = directory
    }

    mutating func check(_ mutant: Mutant?) throws {
        guard let mutant else { return }
        defer {
            // Only the mutant's own files; the other file of a pair is a fixture.
            for path in [mutant.model, mutant.weights].compactMap({ $0 }) where path.hasPrefix(directory.path + "/") {
                try? FileManager.default.removeItem(atPath: path)
            }
        }
        tally.files += 1
        if let dumpDirectory {
            try dump(mutant, to: dumpDirectory)
            return
        }
        if RegressionCorpusTests.isolationOnly.contains(mutant.name) {
            tally.skipped += 1
            return
        }
        let start = Date()
        defer {
            let seconds = Date().timeIntervalSince(start)
            if seconds > slowest.seconds { slowest = (mutant.name, seconds) }
            // A hang detector, not a speed check: a busy machine may be slow, but not this slow.
            XCTAssertLessThan(seconds, 10, "\(mutant.name) took \(seconds) s")
        }
        let model: Model
        do {
            model = try Model.load(contentsOf: mutant.model, weights: mutant.weights)
        } catch let error as RNNKitError {
            tally.unreadable += 1
            checkOneLine(error, mutant, "load")
            XCTAssertNotEqual(mutant.expectation, .kerasOutputs, "\(mutant.name): changes no maths but was refused: \(error)")
            return
        } catch {
            XCTFail("\(mutant.name): Model.load threw \(type(of: error)), not RNNKitError: \(error)")
            return
        }
        for problem in model.problems where problem.description.contains("\n") {
            XCTFail("\(mutant.name): a problem spans several lines: \(problem.description.debugDescription)")
        }
        if !model.errors.isEmpty {
            tally.invalid += 1
            XCTAssertNotEqual(mutant.expectation, .kerasOutputs,
                              "\(mutant.name): changes no maths but has errors: \(model.errors)")
            do {
                _ = try Predictor(model)
                XCTFail("\(mutant.name): Predictor accepted a model with \(model.errors.count) error(s)")
            } catch let error as RNNKitError {
                XCTAssertEqual(error.kind, .invalidModel, "\(mutant.name): \(error)")
                XCTAssertFalse(error.description.contains("\n"), "\(mutant.name): \(error.description.debugDescription)")
            } catch {
                XCTFail("\(mutant.name): Predictor threw \(type(of: error)): \(error)")
            }
            return
        }
        tally.valid += 1
        XCTAssertNotEqual(mutant.expectation, .refusal, "\(mutant.name): loses part of the model but loaded as valid")
        do {
            let predictor = try Predictor(model)
            let data = try mutant.inputs.flatMap { try TensorFile.read($0) }
            let inputs = try PredictionInputs.arrange(data, for: predictor.inputSpecs)
            let outputs = try predictor.predict(inputs)
            XCTAssertEqual(outputs.count, model.outputs.count, mutant.name)
            tally.predicted += 1
            if [.kerasOutputs, .kerasOutputsOrRefusal].contains(mutant.expectation) {
                assertClose(outputs, try mutant.kerasOutputs(), "\(mutant.name) changes no maths")
                tally.matchedKeras += 1
            }
        } catch let error as RNNKitError {
            XCTAssertFalse(error.description.contains("\n"), "\(mutant.name): \(error.description.debugDescription)")
            XCTAssertNotEqual(mutant.expectation, .kerasOutputs, "\(mutant.name): changes no maths but: \(error)")
        } catch {
            XCTFail("\(mutant.name): prediction threw \(type(of: error)): \(error)")
        }
    }

    private func checkOneLine(_ error: RNNKitError, _ mutant: Mutant, _ step: String) {
        let text = error.description
        XCTAssertFalse(text.contains("\n") || text.contains("\r"),
                      "\(mutant.name): \(step): \(text.debugDescription)")
        let namesFile = text.hasPrefix(mutant.model + ": ") || mutant.weights.map { text.hasPrefix($0 + ": ") } == true
        XCTAssertTrue(namesFile, "\(mutant.name): \(step): the error does not start with the file: \(text)")
        XCTAssertFalse(text.contains("rnnkit-keras-"), "\(mutant.name): names the temporary copy: \(text)")
    }

    private func dump(_ mutant: Mutant, to folder: String) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let index = String(format: "%05d", tally.files)
        let safeFamily = family.replacingOccurrences(of: " ", with: "_")
        func copy(_ path: String) throws -> String {
            guard path.hasPrefix(directory.path) else { return path }  // an unchanged fixture
            let target = "\(folder)/\(safeFamily)-\(index)-\((path as NSString).lastPathComponent)"
            try? FileManager.default.removeItem(atPath: target)
            try FileManager.default.copyItem(atPath: path, toPath: target)
            return target
        }
        let model = try copy(mutant.model)
        let weights = try mutant.weights.map(copy) ?? ""
        let line = [mutant.name, model, weights].map { $0.replacingOccurrences(of: "\t", with: " ") }
            .joined(separator: "\t") + "\n"
        let manifest = folder + "/manifest.tsv"
        if !FileManager.default.fileExists(atPath: manifest) { _ = FileManager.default.createFile(atPath: manifest, contents: nil) }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: manifest))
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(line.utf8))
    }
}

import CHDF5
import Foundation
// The engine reads and edits HDF5 and ZIP files through RNNKit's internal readers (HDF5Group,
// Keras3WeightsH5, ZipReader.crc32): it builds in debug, as `swift build` and `swift test`
// do, not with `-c release` (nor do the test targets, which import RNNKit the same way).
@testable import RNNKit
import ZIPFoundation

// The regression corpus's mutation engine: broken model files made from the fixtures by
// deterministic mutations (truncations, bit flips, damaged ZIP entries, attributes and datasets
// of the wrong type, swapped weights, edited configs), each labelled with what it must do.
// RegressionCorpusTests runs them in process, RegressionCorpusCLITests through the binary.

/// What a mutant must do, from what its mutation changes.
public enum MutantExpectation: Equatable, Sendable {
    /// Changes nothing the maths reads (the archive rebuilt, metadata.json missing, the file
    /// unchanged): must load without errors and predict Keras's outputs within 1e-5.
    case kerasOutputs
    /// Changes nothing the maths reads but may be refused (metadata that is not JSON, an extra
    /// dataset, a hard-link cycle): refused, or Keras's outputs within 1e-5, never other numbers.
    case kerasOutputsOrRefusal
    /// Loses part of the model (a truncation, a missing weights entry, an unsafe archive): must
    /// be refused (unreadable, or loaded with errors).
    case refusal
    /// Changes the maths or its data (a bit flip, swapped weights, edited units): may be refused
    /// or predict other numbers, but must do so cleanly.
    case anything

    /// The expectation of a mutation, from its label.
    public init(_ label: String) {
        let refused = ["truncated@", "json minus last byte", "no model.weights.h5", "no config.json", "weights empty",
                       "weights not HDF5", "path traversal", "absolute entry", "weights named ../", "zip bomb weights",
                       "zip bomb declaring", "data flipped, crc stale"]
        let neutral = ["rebuilt deflated", "no metadata.json", "unchanged"]
        let neutralOrRefused = ["metadata not JSON", "= extra dataset", "hard-link cycle", "zip bomb asset"]
        if refused.contains(where: label.contains) {
            self = .refusal
        } else if neutral.contains(label) {
            self = .kerasOutputs
        } else if neutralOrRefused.contains(where: label.contains) {
            self = .kerasOutputsOrRefusal
        } else {
            self = .anything
        }
    }
}

/// A mutant on disk: the model file and, for architecture JSON, its weights file; the fixture
/// (and which Keras wrote it) whose inputs and outputs go with it.
public struct Mutant {
    public var name: String
    public var model: String
    public var weights: String?
    public var inputs: [String]
    public var fixture: String
    public var writer: String
    public var expectation: MutantExpectation

    /// Keras's outputs for the mutant's fixture and writer.
    public func kerasOutputs() throws -> [Tensor] {
        try FixtureFiles.kerasOutputs(of: fixture, writer: writer)
    }
}

public enum CorpusMutations {
    /// Every file of `fixtures` that the byte-level mutations damage: each model file, and each
    /// architecture JSON's weights file.
    public static func baseFiles(of fixtures: [String]) -> [BaseFile] {
        fixtures.flatMap { fixture in
            [BaseFile(fixture: fixture, model: "keras3.keras", weights: nil, mutated: .model),
             BaseFile(fixture: fixture, model: "keras3.h5", weights: nil, mutated: .model),
             BaseFile(fixture: fixture, model: "tfkeras.h5", weights: nil, mutated: .model),
             BaseFile(fixture: fixture, model: "keras3.json", weights: "keras3.weights.h5", mutated: .model),
             BaseFile(fixture: fixture, model: "keras3.json", weights: "keras3.weights.h5", mutated: .weights),
             BaseFile(fixture: fixture, model: "tfkeras.json", weights: "tfkeras_weights.h5", mutated: .model),
             BaseFile(fixture: fixture, model: "tfkeras.json", weights: "tfkeras_weights.h5", mutated: .weights)]
        }
    }

    /// Damage to a whole .keras archive: end-of-central-directory records that lie, and archives
    /// rebuilt with ZIPFoundation (in `directory`) with extra, missing, duplicate or unsafe
    /// entries, and zip bombs.
    public static func archiveLevelMutations(of bytes: [UInt8], zip: ZipLayout, in directory: URL) throws -> [(String, [UInt8])] {
        var result: [(String, [UInt8])] = []
        let eocd = zip.eocdOffset
        func patched(_ label: String, _ edit: (inout [UInt8]) -> Void) {
            var copy = bytes
            edit(&copy)
            result.append((label, copy))
        }
        patched("eocd count+1") { Bytes.put16(&$0, eocd + 8, Bytes.u16($0, eocd + 8) + 1); Bytes.put16(&$0, eocd + 10, Bytes.u16($0, eocd + 10) + 1) }
        patched("eocd count=0") { Bytes.put16(&$0, eocd + 8, 0); Bytes.put16(&$0, eocd + 10, 0) }
        patched("eocd count=65535") { Bytes.put16(&$0, eocd + 8, 0xFFFF); Bytes.put16(&$0, eocd + 10, 0xFFFF) }
        patched("eocd cd-size+1") { Bytes.put32(&$0, eocd + 12, Bytes.u32($0, eocd + 12) &+ 1) }
        patched("eocd cd-size=max") { Bytes.put32(&$0, eocd + 12, 0xFFFF_FFFF) }
        patched("eocd cd-offset-1") { Bytes.put32(&$0, eocd + 16, Bytes.u32($0, eocd + 16) &- 1) }
        patched("eocd cd-offset=0") { bytes in Bytes.put32(&bytes, eocd + 16, 0) }
        patched("eocd cd-offset=max") { Bytes.put32(&$0, eocd + 16, 0xFFFF_FFFF) }
        patched("eocd comment-length=65535") { Bytes.put16(&$0, eocd + 20, 0xFFFF) }
        patched("eocd disk=1") { Bytes.put16(&$0, eocd + 4, 1) }
        patched("zip64 locator before eocd") {
            var locator: [UInt8] = [0x50, 0x4B, 0x06, 0x07, 0, 0, 0, 0]
            locator += [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F, 1, 0, 0, 0]
            $0.insert(contentsOf: locator, at: eocd)
        }
        patched("second eocd in comment") {
            let record = Array($0[eocd...])
            Bytes.put16(&$0, eocd + 20, UInt16(record.count))
            $0 += record
        }

        // Archives rebuilt with ZIPFoundation: extra, missing and duplicate entries, unsafe names,
        // and a zip bomb.
        let contents = zip.entries.map { ($0.name, Data(bytes[$0.dataOffset..<($0.dataOffset + $0.size)])) }
        func rebuilt(_ label: String, _ members: [(String, Data, CompressionMethod)]) throws {
            let url = directory.appendingPathComponent("rebuilt.zip")
            try? FileManager.default.removeItem(at: url)
            let archive = try Archive(url: url, accessMode: .create)
            for (name, data, method) in members {
                try archive.addEntry(with: name, type: .file, uncompressedSize: Int64(data.count),
                                     compressionMethod: method) { position, size in
                    data.subdata(in: Int(position)..<(Int(position) + size))
                }
            }
            result.append((label, [UInt8](try Data(contentsOf: url))))
        }
        let stored = contents.map { ($0.0, $0.1, CompressionMethod.none) }
        try rebuilt("rebuilt deflated", contents.map { ($0.0, $0.1, CompressionMethod.deflate) })
        try rebuilt("path traversal ../evil", stored + [("../evil", Data("x".utf8), .none)])
        try rebuilt("path traversal assets/../../evil", stored + [("assets/../../evil", Data("x".utf8), .none)])
        try rebuilt("absolute entry /tmp/evil", stored + [("/tmp/evil", Data("x".utf8), .none)])
        try rebuilt("weights named ../model.weights.h5", stored.map { ($0.0 == KerasArchive.weightsEntry ? "../model.weights.h5" : $0.0, $0.1, $0.2) })
        try rebuilt("duplicate config.json", stored + [("config.json", Data("{}".utf8), .none)])
        try rebuilt("no metadata.json", stored.filter { $0.0 != KerasArchive.metadataEntry })
        try rebuilt("no config.json", stored.filter { $0.0 != KerasArchive.configEntry })
        try rebuilt("no model.weights.h5", stored.filter { $0.0 != KerasArchive.weightsEntry })
        try rebuilt("metadata not JSON", stored.map { ($0.0, $0.0 == KerasArchive.metadataEntry ? Data("\u{1}\u{2}".utf8) : $0.1, $0.2) })
        try rebuilt("config not UTF-8", stored.map { ($0.0, $0.0 == KerasArchive.configEntry ? Data([0xFF, 0xFE, 0x7B]) : $0.1, $0.2) })
        try rebuilt("weights empty", stored.map { ($0.0, $0.0 == KerasArchive.weightsEntry ? Data() : $0.1, $0.2) })
        try rebuilt("weights not HDF5", stored.map { ($0.0, $0.0 == KerasArchive.weightsEntry ? Data("{}".utf8) : $0.1, $0.2) })
        // Zip bombs: 1 GiB of zeros in a 1 MB deflate stream (ratio 1032:1), refused before
        // inflating; the same with sizes that lie so that the ratio passes, stopped while inflating.
        let gigabyte = 1 + 258 * 4_161_000
        let bomb = HandMadeZip.deflate(gigabyte)
        let members = contents.filter { $0.0 != KerasArchive.weightsEntry }.map { HandMadeZip.Member(name: $0.0, stored: [UInt8]($0.1)) }
        result.append(("zip bomb weights", HandMadeZip.zip(members + [HandMadeZip.Member(name: KerasArchive.weightsEntry, deflated: bomb, size: gigabyte)])))
        result.append(("zip bomb asset", HandMadeZip.zip(members + [
            HandMadeZip.Member(name: KerasArchive.weightsEntry, stored: [UInt8](contents.first { $0.0 == KerasArchive.weightsEntry }!.1)),
            HandMadeZip.Member(name: "assets/zeros", deflated: bomb, size: gigabyte)])))
        let small = HandMadeZip.deflate(1 + 258 * 40_000)
        result.append(("zip bomb declaring 100x its compressed size", HandMadeZip.zip(members + [
            HandMadeZip.Member(name: KerasArchive.weightsEntry, deflated: small, size: small.count * 100)])))
        return result
    }

    public struct HDF5Edit {
        public var label: String
        public var apply: (hid_t) throws -> Void
    }

    /// Attributes and datasets replaced by ones of the wrong type, links that lead elsewhere.
    public static func hdf5Edits(for base: BaseFile, in workDirectory: URL) throws -> [HDF5Edit] {
        var edits: [HDF5Edit] = []
        let file = try base.hdf5Copy(in: workDirectory)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let (attributes, datasets) = try HDF5Group.withOpenCopy(file) { root in
            (try H5Edit.attributePaths(root), try Keras3WeightsH5.datasets(below: root))
        }
        let replacements: [(String, H5Edit.Value)] = [
            ("int", .int64s([42], scalar: true)), ("float array", .doubles([1, 2, 3])),
            ("empty float array", .doubles([])), ("two strings", .strings(["dense", "dense"])),
            ("empty string", .string("")), ("fixed string", .fixedString("dense")),
            ("garbage string", .string("\u{1}not\nthere//..")), ("invalid UTF-8", .fixedBytes([0xFF, 0xFE, 0x41])),
        ]
        for (object, name) in attributes {
            edits.append(HDF5Edit(label: "delete attribute \(object)@\(name)") { try H5Edit.deleteAttribute($0, object, name) })
            for (label, value) in replacements {
                edits.append(HDF5Edit(label: "attribute \(object)@\(name) = \(label)") {
                    try H5Edit.setAttribute($0, object, name, value)
                })
            }
        }
        if let firstDataset = datasets.first {
            let others = datasets.dropFirst().first ?? firstDataset
            let datasetReplacements: [(String, (hid_t) throws -> Void)] = [
                ("int32", { try H5Edit.replaceDataset($0, firstDataset, .int32) }),
                ("float64", { try H5Edit.replaceDataset($0, firstDataset, .float64) }),
                ("string", { try H5Edit.replaceDataset($0, firstDataset, .string) }),
                ("scalar", { try H5Edit.replaceDataset($0, firstDataset, .scalar) }),
                ("empty", { try H5Edit.replaceDataset($0, firstDataset, .empty) }),
                ("null dataspace", { try H5Edit.replaceDataset($0, firstDataset, .null) }),
                ("huge declared shape", { try H5Edit.replaceDataset($0, firstDataset, .hugeChunked) }),
                ("group", { try H5Edit.replaceDataset($0, firstDataset, .group) }),
                ("soft link", { try H5Edit.replaceWithLink($0, firstDataset, soft: others) }),
                ("external link", { try H5Edit.replaceWithLink($0, firstDataset, externalFile: "/etc/passwd") }),
                ("self soft link", { try H5Edit.replaceWithLink($0, firstDataset, soft: firstDataset) }),
                ("deleted", { try H5Edit.delete($0, firstDataset) }),
                ("extra dataset", { try H5Edit.replaceDataset($0, firstDataset + "_extra", .float64) }),
            ]
            for (label, apply) in datasetReplacements {
                edits.append(HDF5Edit(label: "dataset \(firstDataset) = \(label)", apply: apply))
            }
            // A group that contains itself (a hard-link cycle) beside the weights.
            let parent = (firstDataset as NSString).deletingLastPathComponent
            edits.append(HDF5Edit(label: "hard-link cycle in \(parent)") { try H5Edit.hardLink($0, parent, at: parent + "/loop") })
        }
        return edits
    }
}

// MARK: - Base files

/// One fixture file to mutate, with the file that goes with it.
public struct BaseFile {
    public enum Part: Sendable { case model, weights }
    public var fixture: String
    public var model: String
    public var weights: String?
    public var mutated: Part
    /// Bytes to use instead of the fixture file (for models made at test time).
    public var override: [UInt8]? = nil

    public init(fixture: String, model: String, weights: String?, mutated: Part, override: [UInt8]? = nil) {
        self.fixture = fixture
        self.model = model
        self.weights = weights
        self.mutated = mutated
        self.override = override
    }

    public var mutatedFile: String { mutated == .model ? model : weights! }
    public var mutatedPath: String { FixtureFiles.path("\(fixture)/\(mutatedFile)") }
    public var name: String { "\(fixture)/\(mutatedFile)" + (weights != nil && mutated == .model ? "+\(weights!)" : "") }

    public func bytes() throws -> [UInt8] {
        if let override { return override }
        return [UInt8](try Data(contentsOf: URL(fileURLWithPath: mutatedPath)))
    }

    /// Which Keras wrote the file: its outputs are the ones the mutant must keep, if any.
    public var writer: String { model.hasPrefix("tfkeras") ? "tfkeras" : "keras3" }

    public var inputs: [String] {
        (0..<4).map { FixtureFiles.path("\(fixture)/input_\($0).npy") }
            .filter { FileManager.default.fileExists(atPath: $0) }
    }

    /// A mutant holding `bytes` in place of the mutated file, written into `directory`.
    public func with(_ bytes: [UInt8], _ label: String, in directory: URL) throws -> Mutant {
        let path = directory.appendingPathComponent("mutant-" + mutatedFile).path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let fixtureWeights = weights.map { FixtureFiles.path("\(fixture)/\($0)") }
        switch mutated {
        case .model:
            return Mutant(name: "\(name) \(label)", model: path, weights: fixtureWeights, inputs: inputs, fixture: fixture,
                          writer: writer, expectation: MutantExpectation(label))
        case .weights:
            return Mutant(name: "\(name) \(label)", model: FixtureFiles.path("\(fixture)/\(model)"), weights: path,
                          inputs: inputs, fixture: fixture, writer: writer, expectation: MutantExpectation(label))
        }
    }

    // MARK: HDF5 inside

    /// A writable copy of the HDF5 file this base mutates (for a .keras archive, its model.weights.h5).
    public func hdf5Copy(in directory: URL) throws -> String {
        let path = directory.appendingPathComponent("edit-\(UUID().uuidString).h5").path
        if mutatedFile.hasSuffix(".keras") {
            let bytes = try bytes()
            let zip = try ZipLayout(bytes)
            guard let entry = zip.entries.first(where: { $0.name == KerasArchive.weightsEntry }) else {
                throw RNNKitError(.badUsage, "no weights entry", file: mutatedPath)
            }
            try Data(bytes[entry.dataOffset..<(entry.dataOffset + entry.size)]).write(to: URL(fileURLWithPath: path))
        } else {
            try Data(try bytes()).write(to: URL(fileURLWithPath: path))
        }
        return path
    }

    /// A mutant whose HDF5 file (or the archive's model.weights.h5) went through `edit`.
    public func editingHDF5(_ label: String, in directory: URL, _ edit: (hid_t) throws -> Void) throws -> Mutant? {
        let copy = try hdf5Copy(in: directory)
        defer { try? FileManager.default.removeItem(atPath: copy) }
        do {
            try H5Edit.withWritable(copy, edit)
        } catch is H5Edit.NotApplicable {
            return nil
        }
        let edited = [UInt8](try Data(contentsOf: URL(fileURLWithPath: copy)))
        if mutatedFile.hasSuffix(".keras") {
            let bytes = try bytes()
            return try with(try ZipLayout.rebuilding(bytes, replacing: KerasArchive.weightsEntry, with: edited,
                                                     in: directory), label, in: directory)
        }
        return try with(edited, label, in: directory)
    }

    /// Dataset paths of the HDF5 file this base mutates, in file order.
    public func datasetPaths(in directory: URL) throws -> [String] {
        let copy = try hdf5Copy(in: directory)
        defer { try? FileManager.default.removeItem(atPath: copy) }
        return try HDF5Group.withOpenCopy(copy) { try Keras3WeightsH5.datasets(below: $0) }
    }

    // MARK: Configs

    /// The model's config as JSON text: the JSON file, the archive's config.json, or the
    /// `model_config` attribute.
    public func configText() throws -> String {
        let path = FixtureFiles.path("\(fixture)/\(model)")
        if model.hasSuffix(".json") { return try String(contentsOfFile: path, encoding: .utf8) }
        if model.hasSuffix(".keras") {
            let bytes = try bytes()
            let zip = try ZipLayout(bytes)
            let entry = zip.entries.first { $0.name == KerasArchive.configEntry }!
            return String(decoding: bytes[entry.dataOffset..<(entry.dataOffset + entry.size)], as: UTF8.self)
        }
        return try HDF5File.open(path).root.stringAttribute("model_config")
    }

    /// A mutant whose config is `text`.
    public func withConfig(_ text: String, _ label: String, in directory: URL) throws -> Mutant? {
        if model.hasSuffix(".json") { return try with(Array(text.utf8), label, in: directory) }
        if model.hasSuffix(".keras") {
            return try with(try ZipLayout.rebuilding(try bytes(), replacing: KerasArchive.configEntry,
                                                     with: Array(text.utf8), in: directory), label, in: directory)
        }
        let copy = try hdf5Copy(in: directory)
        defer { try? FileManager.default.removeItem(atPath: copy) }
        try H5Edit.withWritable(copy) { file in
            // Keep the original's type: tf_keras writes vlen ASCII, Keras 3 vlen UTF-8.
            try H5Edit.setAttribute(file, "/", "model_config", .string(text), keepingCharacterSet: true)
        }
        return try with([UInt8](try Data(contentsOf: URL(fileURLWithPath: copy))), label, in: directory)
    }
}

extension HDF5Group {
    /// Runs `body` with the root of a read-only open `path`, closed before returning.
    static func withOpenCopy<R>(_ path: String, _ body: (HDF5Group) throws -> R) throws -> R {
        try body(try HDF5File.open(path).root)
    }
}

// MARK: - Config edits

/// Edits of a Keras (or RNNKit) JSON config, by meaning: units, class names, removed layers,
/// dangling and cyclic references, shapes, types, nesting and truncation.
public enum ConfigEdits {
    public static func all(of text: String) throws -> [(String, String)] {
        let json = try JSONParser.parse(text)
        var edits: [(String, String)] = []
        func add(_ label: String, _ value: JSONValue?) {
            if let value { edits.append((label, JSONWriter.string(value))) }
        }

        // Units and other numbers of the first layer that has them.
        for (key, values) in [("units", ["0", "-1", "4", "1099511627776", "1e308", "18446744073709551615", "3.5"]),
                              ("input_dim", ["0", "1099511627776"]), ("output_dim", ["0", "100000000"])] {
            if let path = json.paths(toKey: key).first {
                for value in values { add("\(key)=\(value)", json.replacing(path, with: .number(value))) }
                add("\(key)=\"3\"", json.replacing(path, with: .string("3")))
                add("\(key)=null", json.replacing(path, with: .null))
            }
        }
        let layersPath = json.paths(toKey: "layers").first
        let layers = layersPath.flatMap { json.value(at: $0)?.arrayValue } ?? []
        let layerNames = Set(json.paths(toKey: "name").compactMap { json.value(at: $0)?.stringValue })
        if let layersPath, !layers.isEmpty {
            // Class names.
            let last = layersPath + [.index(layers.count - 1)]
            add("last class=FancyDense", json.replacing(last + [.key("class_name")], with: "FancyDense"))
            add("last class=42", json.replacing(last + [.key("class_name")], with: 42))
            add("last class=LSTM", json.replacing(last + [.key("class_name")], with: "LSTM"))
            add("first class=Bidirectional", json.replacing(layersPath + [.index(0), .key("class_name")], with: "Bidirectional"))
            add("last class removed", json.replacing(last + [.key("class_name")], with: nil))
            add("last config removed", json.replacing(last + [.key("config")], with: nil))
            add("last config=[]", json.replacing(last + [.key("config")], with: []))
            // Layers removed, duplicated, reordered.
            for index in [0, layers.count / 2, layers.count - 1] {
                var copy = layers
                copy.remove(at: index)
                add("layer \(index) removed", json.replacing(layersPath, with: .array(copy)))
            }
            add("layers reversed", json.replacing(layersPath, with: .array(layers.reversed())))
            add("last layer twice", json.replacing(layersPath, with: .array(layers + [layers[layers.count - 1]])))
            add("layers=[]", json.replacing(layersPath, with: []))
            add("layers={}", json.replacing(layersPath, with: .object(JSONObject())))
            add("layers=null", json.replacing(layersPath, with: .null))
            if layers.count >= 2, let firstName = json.value(at: layersPath + [.index(0), .key("config"), .key("name")]) {
                add("duplicate layer name",
                    json.replacing(layersPath + [.index(layers.count - 1), .key("config"), .key("name")], with: firstName))
            }
            add("layer name with newline and slash",
                json.replacing(last + [.key("config"), .key("name")], with: "a\nb/../c"))
        }
        // References: inbound nodes, inputs and outputs pointing nowhere or making a cycle.
        let references = json.paths(where: { path, value in
            path.contains(where: { [.key("inbound_nodes"), .key("input_layers"), .key("output_layers"), .key("inputs"), .key("outputs")].contains($0) })
                && value.stringValue.map(layerNames.contains) == true
        })
        if let first = references.first {
            add("reference nowhere", json.replacing(first, with: "no_such_layer"))
        }
        if let lastReference = references.last {
            add("last reference nowhere", json.replacing(lastReference, with: "no_such_layer"))
        }
        for path in references where path.contains(.key("inbound_nodes")) {
            // The first inbound reference points at the last layer: a cycle (or a self loop).
            if let lastName = layers.last.flatMap({ $0["config"]?["name"] }) {
                add("cycle", json.replacing(path, with: lastName))
            }
            break
        }
        let numbers = json.paths(where: { path, value in
            path.contains(.key("inbound_nodes")) || path.contains(.key("keras_history")) ? value.intValue != nil : false
        })
        if let first = numbers.first {
            add("node index 7", json.replacing(first, with: 7))
            add("node index -1", json.replacing(first, with: -1))
        }
        // The last layer called on nothing (tf_keras and Keras 3 spellings of an empty call).
        if let layersPath, !layers.isEmpty, layers[layers.count - 1]["inbound_nodes"] != nil {
            let inbound = layersPath + [.index(layers.count - 1), .key("inbound_nodes")]
            add("last called on nothing [[]]", json.replacing(inbound, with: [[]]))
            add("last called on nothing args=[]", json.replacing(inbound, with: [["args": [], "kwargs": .object(JSONObject())]]))
        }
        for key in ["inbound_nodes", "input_layers", "output_layers"] {
            if let path = json.paths(toKey: key).last {
                add("\(key)=[]", json.replacing(path, with: []))
                add("\(key)=\"x\"", json.replacing(path, with: "x"))
                add("\(key)=[[[[[]]]]]", json.replacing(path, with: [[[[[]]]]]))
            }
        }
        // Shapes and types.
        for key in ["batch_shape", "batch_input_shape", "shape"] {
            for path in json.paths(toKey: key).prefix(1) {
                add("\(key)=[null,-5,4]", json.replacing(path, with: [nil, -5, 4]))
                add("\(key)=[null,2^40,3]", json.replacing(path, with: [nil, 1_099_511_627_776, 3]))
                add("\(key)=[]", json.replacing(path, with: []))
                add("\(key)=[null,null,null,null,null,null]", json.replacing(path, with: [nil, nil, nil, nil, nil, nil]))
                add("\(key)=\"x\"", json.replacing(path, with: "x"))
            }
        }
        let settings: [(String, JSONValue?)] = [("dtype", "string"), ("activation", "no_such_activation"),
                             ("recurrent_activation", 7), ("return_sequences", "yes"), ("go_backwards", true),
                             ("merge_mode", "max"), ("mask_zero", "true"), ("reset_after", nil as JSONValue?),
                             ("use_bias", false), ("return_state", true), ("stateful", true), ("unroll", true)]
        for (key, value) in settings {
            for path in json.paths(toKey: key).prefix(1) {
                add("\(key)=\(value.map { JSONWriter.string($0) } ?? "removed")", json.replacing(path, with: value))
            }
        }
        // Weights in RNNKit JSON: shapes and values.
        for path in json.paths(toKey: "shape").dropFirst().prefix(2) {
            add("weight shape [999999999,999999999]", json.replacing(path, with: [999_999_999, 999_999_999]))
        }
        for path in json.paths(toKey: "data").prefix(1) {
            add("weight data=[]", json.replacing(path, with: []))
            add("weight data=\"AAAA\"", json.replacing(path, with: "AAAA"))
        }
        // Top level.
        add("class_name=Model", json.replacing([.key("class_name")], with: "Model"))
        add("class_name=Sequentia", json.replacing([.key("class_name")], with: "Sequentia"))
        add("config=null", json.replacing([.key("config")], with: .null))
        add("top level array", .array([json]))
        var deep: JSONValue = 1
        for _ in 0..<300 { deep = [deep] }
        add("300-deep extra key", json.replacing([.key("extra")], with: deep))

        // Text edits.
        for fraction in [0.1, 0.5, 0.9] {
            let cut = Int(Double(text.utf8.count) * fraction)
            edits.append(("json truncated@\(cut)", String(decoding: Array(text.utf8)[..<cut], as: UTF8.self)))
        }
        edits.append(("json minus last byte", String(text.dropLast())))
        edits.append(("json plus garbage", text + " }"))
        edits.append(("json twice", text + text))
        edits.append(("json with NUL", text.replacingOccurrences(of: "\"name\"", with: "\"na\u{0}me\"")))
        edits.append(("empty", ""))
        edits.append(("bare 0", "0"))
        return edits
    }
}

enum PathStep: Equatable {
    case key(String), index(Int)
}

extension JSONValue {
    func value(at path: [PathStep]) -> JSONValue? {
        var current: JSONValue? = self
        for step in path {
            switch step {
            case .key(let key): current = current?[key]
            case .index(let index):
                guard let array = current?.arrayValue, array.indices.contains(index) else { return nil }
                current = array[index]
            }
        }
        return current
    }

    /// The document with the value at `path` replaced (removed from its object when nil).
    func replacing(_ path: [PathStep], with value: JSONValue?) -> JSONValue? {
        guard let step = path.first else { return value }
        let rest = Array(path.dropFirst())
        switch (self, step) {
        case (.object(var object), .key(let key)):
            if rest.isEmpty {
                object[key] = value
            } else {
                guard let child = object[key], let replaced = child.replacing(rest, with: value) else { return nil }
                object[key] = replaced
            }
            return .object(object)
        case (.array(var array), .index(let index)) where array.indices.contains(index):
            guard let replaced = array[index].replacing(rest, with: value) else {
                array.remove(at: index)
                return .array(array)
            }
            array[index] = replaced
            return .array(array)
        default:
            return nil
        }
    }

    /// Paths of every value (in document order) for which `predicate` holds.
    func paths(where predicate: ([PathStep], JSONValue) -> Bool) -> [[PathStep]] {
        var found: [[PathStep]] = []
        func walk(_ value: JSONValue, _ path: [PathStep]) {
            if predicate(path, value) { found.append(path) }
            switch value {
            case .object(let object):
                for (key, child) in object.entries { walk(child, path + [.key(key)]) }
            case .array(let array):
                for (index, child) in array.enumerated() { walk(child, path + [.index(index)]) }
            default: break
            }
        }
        walk(self, [])
        return found
    }

    func paths(toKey key: String) -> [[PathStep]] {
        paths(where: { path, _ in path.last == .key(key) })
    }
}

// MARK: - ZIP layout

/// The entries of a ZIP file as they lie in it, for surgical damage.
public struct ZipLayout {
    public struct Entry {
        public var name: String
        public var centralOffset: Int
        public var localOffset: Int
        public var dataOffset: Int
        public var size: Int
        public var method: UInt16
    }

    public var entries: [Entry] = []
    public var eocdOffset: Int

    public init(_ bytes: [UInt8]) throws {
        guard let eocd = (0...(bytes.count - 22)).reversed().first(where: {
            bytes[$0] == 0x50 && bytes[$0 + 1] == 0x4B && bytes[$0 + 2] == 5 && bytes[$0 + 3] == 6
        }) else { throw RNNKitError(.unreadable, "no EOCD") }
        eocdOffset = eocd
        var position = Int(Bytes.u32(bytes, eocd + 16))
        for _ in 0..<Int(Bytes.u16(bytes, eocd + 10)) {
            let nameLength = Int(Bytes.u16(bytes, position + 28))
            let local = Int(Bytes.u32(bytes, position + 42))
            let data = local + 30 + Int(Bytes.u16(bytes, local + 26)) + Int(Bytes.u16(bytes, local + 28))
            entries.append(Entry(
                name: String(decoding: bytes[(position + 46)..<(position + 46 + nameLength)], as: UTF8.self),
                centralOffset: position, localOffset: local, dataOffset: data,
                size: Int(Bytes.u32(bytes, position + 20)), method: Bytes.u16(bytes, position + 10)))
            position += 46 + nameLength + Int(Bytes.u16(bytes, position + 30)) + Int(Bytes.u16(bytes, position + 32))
        }
    }

    /// Header damage for one entry: sizes, offsets, methods, flags, names and CRCs that lie.
    public func mutations(of entry: Entry, in bytes: [UInt8]) -> [(String, [UInt8])] {
        var result: [(String, [UInt8])] = []
        func patched(_ label: String, _ edit: (inout [UInt8]) -> Void) {
            var copy = bytes
            edit(&copy)
            result.append((label, copy))
        }
        let local = entry.localOffset, central = entry.centralOffset
        for (field, localAt, centralAt) in [("crc", 14, 16), ("compressed", 18, 20), ("uncompressed", 22, 24)] {
            for (label, change) in [("+1", { (v: UInt32) in v &+ 1 }), ("-1", { $0 &- 1 }), ("=0", { _ in 0 }),
                                    ("=max", { _ in 0xFFFF_FFFF }), ("x1000", { $0 &* 1000 })] {
                patched("local \(field)\(label)") { Bytes.put32(&$0, local + localAt, change(Bytes.u32($0, local + localAt))) }
                patched("central \(field)\(label)") { Bytes.put32(&$0, central + centralAt, change(Bytes.u32($0, central + centralAt))) }
            }
        }
        patched("both uncompressed+compressed x1000") {
            for at in [local + 18, local + 22, central + 20, central + 24] { Bytes.put32(&$0, at, Bytes.u32($0, at) &* 1000) }
        }
        for method: UInt16 in [8, 12, 99] where method != entry.method {
            patched("method=\(method)") { Bytes.put16(&$0, local + 8, method); Bytes.put16(&$0, central + 10, method) }
        }
        patched("central method=8 only") { Bytes.put16(&$0, central + 10, 8) }
        patched("encrypted flag") { Bytes.put16(&$0, local + 6, 1); Bytes.put16(&$0, central + 8, 1) }
        patched("data descriptor flag") { Bytes.put16(&$0, local + 6, 8); Bytes.put16(&$0, central + 8, 8) }
        patched("local offset+1") { Bytes.put32(&$0, central + 42, Bytes.u32($0, central + 42) &+ 1) }
        patched("local offset=max") { Bytes.put32(&$0, central + 42, 0xFFFF_FFFF) }
        patched("local name length+1") { Bytes.put16(&$0, local + 26, Bytes.u16($0, local + 26) &+ 1) }
        patched("local extra length=65535") { Bytes.put16(&$0, local + 28, 0xFFFF) }
        patched("central name length+1") { Bytes.put16(&$0, central + 28, Bytes.u16($0, central + 28) &+ 1) }
        patched("central extra length=65535") { Bytes.put16(&$0, central + 30, 0xFFFF) }
        patched("central name changed") { $0[central + 46] ^= 0x20 }
        patched("local signature broken") { $0[local] = 0 }
        patched("central signature broken") { $0[central] = 0 }
        patched("symlink attributes") {
            Bytes.put16(&$0, central + 4, 0x031E)
            Bytes.put32(&$0, central + 38, 0o120777 << 16)
        }
        if entry.size > 0 {
            patched("data flipped, crc stale") {
                // Four distinct bytes from the middle (a byte flipped twice would be no change at all).
                for k in 0..<min(4, entry.size - entry.size / 2) { $0[entry.dataOffset + entry.size / 2 + k] ^= 0x5A }
            }
        }
        return result
    }

    /// `bytes` with the data of a stored `entry` replaced by `content` of the same length, and the
    /// CRC-32 in both headers updated to match.
    public func replacingContent(of entry: Entry, with content: [UInt8], in bytes: [UInt8]) -> [UInt8] {
        precondition(content.count == entry.size && entry.method == 0)
        var copy = bytes
        copy.replaceSubrange(entry.dataOffset..<(entry.dataOffset + entry.size), with: content)
        let crc = content.withUnsafeBytes { ZipReader.crc32(0, $0) }
        Bytes.put32(&copy, entry.localOffset + 14, crc)
        Bytes.put32(&copy, entry.centralOffset + 16, crc)
        return copy
    }

    /// The archive rebuilt (stored entries, same order) with the content of entry `name` replaced.
    public static func rebuilding(_ bytes: [UInt8], replacing name: String, with content: [UInt8], in directory: URL) throws -> [UInt8] {
        let layout = try ZipLayout(bytes)
        return HandMadeZip.zip(layout.entries.map { entry in
            HandMadeZip.Member(name: entry.name, stored: entry.name == name
                            ? content : Array(bytes[entry.dataOffset..<(entry.dataOffset + entry.size)]))
        })
    }
}

enum Bytes {
    static func u16(_ bytes: [UInt8], _ at: Int) -> UInt16 { UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8 }
    static func u32(_ bytes: [UInt8], _ at: Int) -> UInt32 { UInt32(u16(bytes, at)) | UInt32(u16(bytes, at + 2)) << 16 }
    static func put16(_ bytes: inout [UInt8], _ at: Int, _ value: UInt16) {
        bytes[at] = UInt8(value & 0xFF); bytes[at + 1] = UInt8(value >> 8)
    }
    static func put32(_ bytes: inout [UInt8], _ at: Int, _ value: UInt32) {
        put16(&bytes, at, UInt16(value & 0xFFFF)); put16(&bytes, at + 2, UInt16(value >> 16))
    }
}

// MARK: - HDF5 surgery

/// Direct libhdf5 edits of a copy of a fixture, for files no Keras writer makes.
public enum H5Edit {
    public struct NotApplicable: Error {}
    struct Failed: Error, CustomStringConvertible { var description: String }

    enum Value {
        case string(String), strings([String]), fixedString(String), fixedBytes([UInt8])
        case int64s([Int64], scalar: Bool), doubles([Double])
    }

    enum DatasetKind { case int32, float64, string, scalar, empty, null, hugeChunked, group }

    static func check<T: BinaryInteger>(_ status: T, _ what: String) throws -> T {
        guard status >= 0 else { throw Failed(description: "HDF5 edit failed: \(what)") }
        return status
    }

    static func withWritable(_ path: String, _ body: (hid_t) throws -> Void) throws {
        try HDF5Library.locked {
            let file = try check(H5Fopen(path, rnnkit_H5F_ACC_RDWR(), rnnkit_H5P_DEFAULT()), "open \(path)")
            defer { H5Fclose(file) }
            try body(file)
            _ = try check(H5Fflush(file, H5F_SCOPE_GLOBAL), "flush")
        }
    }

    /// (object path, attribute name) of every attribute on the root and on groups, in file order.
    static func attributePaths(_ root: HDF5Group) throws -> [(String, String)] {
        var found: [(String, String)] = []
        func walk(_ group: HDF5Group) throws {
            for name in try group.attributeNames() { found.append((group.path, name)) }
            for child in try group.childNames() where try group.kind(of: child) == .group {
                try walk(try group.group(child))
            }
        }
        try walk(root)
        // Keep the run bounded: the first place each attribute name appears (model_config,
        // keras_version, layer_names of /model_weights, weight_names of the first layer, ...).
        var seen = Set<String>()
        let firsts = found.filter { seen.insert($0.1).inserted }
        let important = ["model_config", "layer_names", "weight_names", "keras_version"]
        return firsts.filter { important.contains($0.1) } + firsts.filter { !important.contains($0.1) }.prefix(2)
    }

    static func deleteAttribute(_ file: hid_t, _ object: String, _ name: String) throws {
        let id = try check(H5Oopen(file, object, rnnkit_H5P_DEFAULT()), "open \(object)")
        defer { H5Oclose(id) }
        _ = try check(H5Adelete(id, name), "delete \(name)")
    }

    static func setAttribute(_ file: hid_t, _ object: String, _ name: String, _ value: Value,
                             keepingCharacterSet: Bool = false) throws {
        let id = try check(H5Oopen(file, object, rnnkit_H5P_DEFAULT()), "open \(object)")
        defer { H5Oclose(id) }
        var characterSet = H5T_CSET_UTF8
        if H5Aexists(id, name) > 0 {
            if keepingCharacterSet {
                let attribute = H5Aopen(id, name, rnnkit_H5P_DEFAULT())
                let type = H5Aget_type(attribute)
                characterSet = H5Tget_cset(type)
                H5Tclose(type)
                H5Aclose(attribute)
            }
            _ = try check(H5Adelete(id, name), "delete \(name)")
        }
        func create(_ type: hid_t, _ dimensions: [hsize_t]?, _ write: (hid_t) -> herr_t) throws {
            let space = dimensions.map { H5Screate_simple(Int32($0.count), $0, nil) } ?? H5Screate(H5S_SCALAR)
            defer { H5Sclose(space) }
            let attribute = try check(H5Acreate2(id, name, type, space, rnnkit_H5P_DEFAULT(), rnnkit_H5P_DEFAULT()), "create \(name)")
            defer { H5Aclose(attribute) }
            _ = try check(write(attribute), "write \(name)")
        }
        func stringType(variable: Bool, size: Int = 0) -> hid_t {
            let type = H5Tcopy(rnnkit_H5T_C_S1())
            H5Tset_size(type, variable ? rnnkit_H5T_VARIABLE() : max(1, size))
            H5Tset_cset(type, characterSet)
            return type
        }
        switch value {
        case .string(let text):
            let type = stringType(variable: true)
            defer { H5Tclose(type) }
            try create(type, nil) { attribute in
                let copy = strdup(text)
                defer { free(copy) }
                var pointer = UnsafePointer(copy)
                return H5Awrite(attribute, type, &pointer)
            }
        case .strings(let texts):
            let type = stringType(variable: true)
            defer { H5Tclose(type) }
            try create(type, [hsize_t(texts.count)]) { attribute in
                let copies = texts.map { strdup($0) }
                defer { copies.forEach { free($0) } }
                return copies.withUnsafeBytes { H5Awrite(attribute, type, $0.baseAddress) }
            }
        case .fixedString(let text):
            try setFixed(Array(text.utf8))
        case .fixedBytes(let bytes):
            try setFixed(bytes)
        case .int64s(let values, let scalar):
            try create(rnnkit_H5T_NATIVE_INT64(), scalar ? nil : [hsize_t(values.count)]) { attribute in
                values.withUnsafeBytes { H5Awrite(attribute, rnnkit_H5T_NATIVE_INT64(), $0.baseAddress) }
            }
        case .doubles(let values):
            try create(rnnkit_H5T_NATIVE_DOUBLE(), [hsize_t(values.count)]) { attribute in
                values.withUnsafeBytes { H5Awrite(attribute, rnnkit_H5T_NATIVE_DOUBLE(), $0.baseAddress) }
            }
        }
        func setFixed(_ bytes: [UInt8]) throws {
            let type = stringType(variable: false, size: bytes.count)
            defer { H5Tclose(type) }
            try create(type, nil) { attribute in
                (bytes.isEmpty ? [0] : bytes).withUnsafeBytes { H5Awrite(attribute, type, $0.baseAddress) }
            }
        }
    }

    /// Exchanges the objects at two paths (datasets or groups), through a temporary name.
    public static func swapLinks(_ file: hid_t, _ first: String, _ second: String) throws {
        guard first != second, !second.hasPrefix(first + "/"), !first.hasPrefix(second + "/") else { throw NotApplicable() }
        let temporary = "/__rnnkit_swap__"
        _ = try check(H5Lmove(file, first, file, temporary, rnnkit_H5P_DEFAULT(), rnnkit_H5P_DEFAULT()), "move \(first)")
        _ = try check(H5Lmove(file, second, file, first, rnnkit_H5P_DEFAULT(), rnnkit_H5P_DEFAULT()), "move \(second)")
        _ = try check(H5Lmove(file, temporary, file, second, rnnkit_H5P_DEFAULT(), rnnkit_H5P_DEFAULT()), "move back")
    }

    static func delete(_ file: hid_t, _ path: String) throws {
        _ = try check(H5Ldelete(file, path, rnnkit_H5P_DEFAULT()), "delete \(path)")
    }

    static func replaceDataset(_ file: hid_t, _ path: String, _ kind: DatasetKind) throws {
        var dimensions: [hsize_t] = [3, 2]
        if H5Lexists(file, path, rnnkit_H5P_DEFAULT()) > 0 {
            let dataset = H5Dopen2(file, path, rnnkit_H5P_DEFAULT())
            if dataset >= 0 {
                let space = H5Dget_space(dataset)
                let rank = Int(H5Sget_simple_extent_ndims(space))
                if rank > 0 {
                    dimensions = [hsize_t](repeating: 0, count: rank)
                    H5Sget_simple_extent_dims(space, &dimensions, nil)
                }
                H5Sclose(space)
                H5Dclose(dataset)
            }
            try delete(file, path)
        }
        let count = Int(dimensions.reduce(1, *))
        func make(_ type: hid_t, _ space: hid_t, properties: hid_t = rnnkit_H5P_DEFAULT(), _ data: UnsafeRawPointer?) throws {
            defer { H5Sclose(space) }
            let dataset = try check(H5Dcreate2(file, path, type, space, rnnkit_H5P_DEFAULT(), properties, rnnkit_H5P_DEFAULT()), "create \(path)")
            defer { H5Dclose(dataset) }
            if let data { _ = try check(H5Dwrite(dataset, type, rnnkit_H5S_ALL(), rnnkit_H5S_ALL(), rnnkit_H5P_DEFAULT(), data), "write \(path)") }
        }
        switch kind {
        case .int32:
            let values = (0..<count).map { Int32($0 % 7) - 3 }
            try values.withUnsafeBytes { try make(rnnkit_H5T_STD_I32LE(), H5Screate_simple(Int32(dimensions.count), dimensions, nil), $0.baseAddress) }
        case .float64:
            let values = (0..<count).map { Double($0) / 10 }
            try values.withUnsafeBytes { try make(rnnkit_H5T_NATIVE_DOUBLE(), H5Screate_simple(Int32(dimensions.count), dimensions, nil), $0.baseAddress) }
        case .string:
            let type = H5Tcopy(rnnkit_H5T_C_S1())
            defer { H5Tclose(type) }
            H5Tset_size(type, 4)
            let values = [UInt8](repeating: 0x41, count: 4 * count)
            try values.withUnsafeBytes { try make(type, H5Screate_simple(Int32(dimensions.count), dimensions, nil), $0.baseAddress) }
        case .scalar:
            var value: Float = 1
            try make(rnnkit_H5T_NATIVE_FLOAT(), H5Screate(H5S_SCALAR), &value)
        case .empty:
            var zero: [hsize_t] = [0]
            try make(rnnkit_H5T_NATIVE_FLOAT(), H5Screate_simple(1, &zero, nil), nil)
        case .null:
            try make(rnnkit_H5T_NATIVE_FLOAT(), H5Screate(H5S_NULL), nil)
        case .hugeChunked:
            // Declares 2^40 × 2^20 floats, stores nothing: a "shape bomb".
            var huge: [hsize_t] = [1 << 40, 1 << 20]
            var chunk: [hsize_t] = [16, 16]
            let properties = H5Pcreate(rnnkit_H5P_DATASET_CREATE())
            defer { H5Pclose(properties) }
            H5Pset_chunk(properties, 2, &chunk)
            try make(rnnkit_H5T_NATIVE_FLOAT(), H5Screate_simple(2, &huge, nil), properties: properties, nil)
        case .group:
            let group = try check(H5Gcreate2(file, path, rnnkit_H5P_DEFAULT(), rnnkit_H5P_DEFAULT(), rnnkit_H5P_DEFAULT()), "create group \(path)")
            H5Gclose(group)
        }
    }

    static func replaceWithLink(_ file: hid_t, _ path: String, soft target: String) throws {
        try delete(file, path)
        _ = try check(H5Lcreate_soft(target, file, path, rnnkit_H5P_DEFAULT(), rnnkit_H5P_DEFAULT()), "soft link \(path)")
    }

    static func replaceWithLink(_ file: hid_t, _ path: String, externalFile: String) throws {
        try delete(file, path)
        _ = try check(H5Lcreate_external(externalFile, "/data", file, path, rnnkit_H5P_DEFAULT(), rnnkit_H5P_DEFAULT()), "external link \(path)")
    }

    static func hardLink(_ file: hid_t, _ target: String, at path: String) throws {
        _ = try check(H5Lcreate_hard(file, target, file, path, rnnkit_H5P_DEFAULT(), rnnkit_H5P_DEFAULT()), "hard link \(path)")
    }
}

// MARK: - Hand-made archives and zip bombs

/// ZIP archives written byte by byte: stored entries, and deflate streams of zeros at the
/// format's best ratio (1032:1) for zip bombs, built in microseconds where deflating a gigabyte
/// would take minutes in a debug build.
public enum HandMadeZip {
    public struct Member {
        public var name: String
        public var method: Int
        public var data: [UInt8]
        public var size: Int
        public var crc: UInt32

        public init(name: String, stored bytes: [UInt8]) {
            self.name = name
            method = 0
            data = bytes
            size = bytes.count
            crc = bytes.withUnsafeBytes { ZipReader.crc32(0, $0) }
        }

        /// A deflated entry declaring `size` bytes; its CRC-32 is that of `size` zeros when the
        /// stream really holds that many, garbage otherwise.
        public init(name: String, deflated stream: [UInt8], size: Int) {
            self.name = name
            method = 8
            data = stream
            self.size = size
            crc = HandMadeZip.crcOfZeros(size)
        }
    }

    public static func zip(_ members: [Member]) -> [UInt8] {
        var out = [UInt8](), central = [UInt8]()
        func u16(_ v: Int, _ to: inout [UInt8]) { to += [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF)] }
        func u32(_ v: Int, _ to: inout [UInt8]) { for k in 0..<4 { to.append(UInt8(v >> (8 * k) & 0xFF)) } }
        for member in members {
            let name = Array(member.name.utf8)
            let offset = out.count
            u32(0x0403_4B50, &out); u16(20, &out); u16(0, &out); u16(member.method, &out); u16(0, &out); u16(0x21, &out)
            u32(Int(member.crc), &out); u32(member.data.count, &out); u32(member.size, &out); u16(name.count, &out); u16(0, &out)
            out += name + member.data
            u32(0x0201_4B50, &central); u16(0x0314, &central); u16(20, &central); u16(0, &central); u16(member.method, &central)
            u16(0, &central); u16(0x21, &central); u32(Int(member.crc), &central); u32(member.data.count, &central)
            u32(member.size, &central); u16(name.count, &central); u16(0, &central); u16(0, &central); u16(0, &central)
            u16(0, &central); u32(0o100644 << 16, &central); u32(offset, &central)
            central += name
        }
        let centralOffset = out.count
        out += central
        u32(0x0605_4B50, &out); u16(0, &out); u16(0, &out); u16(members.count, &out); u16(members.count, &out)
        u32(central.count, &out); u32(centralOffset, &out); u16(0, &out)
        return out
    }

    /// A raw deflate stream of `count` zeros (count = 1 + 258·k): one dynamic-Huffman block whose
    /// only codes are literal 0, end of block, length 258 and distance 1, so that every 258 zeros
    /// after the first cost two zero bits.
    public static func deflate(_ count: Int) -> [UInt8] {
        precondition(count >= 1 && (count - 1) % 258 == 0)
        var bits: [UInt8] = []
        func field(_ value: Int, _ width: Int) { for k in 0..<width { bits.append(UInt8((value >> k) & 1)) } }
        func code(_ value: Int, _ width: Int) { for k in stride(from: width - 1, through: 0, by: -1) { bits.append(UInt8((value >> k) & 1)) } }
        field(1, 1); field(2, 2); field(29, 5); field(0, 5); field(14, 4)
        for length in [0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 2] { field(length, 3) }
        func zeroRun(_ run: Int) { code(0b0, 1); field(run - 11, 7) }
        code(0b11, 2); zeroRun(138); zeroRun(117); code(0b11, 2); zeroRun(28); code(0b10, 2); code(0b10, 2)
        code(0b10, 2)
        var bytes: [UInt8] = []
        func flush() {
            while bits.count >= 8 {
                bytes.append((0..<8).reduce(UInt8(0)) { $0 | bits[$1] << UInt8($1) })
                bits.removeFirst(8)
            }
        }
        flush()
        var zeros = 2 * ((count - 1) / 258)
        while zeros > 0 && !bits.isEmpty { bits.append(0); zeros -= 1; flush() }
        bytes += [UInt8](repeating: 0, count: zeros / 8)
        for _ in 0..<(zeros % 8) { bits.append(0) }
        code(0b11, 2)
        flush()
        if !bits.isEmpty { bytes.append(bits.enumerated().reduce(UInt8(0)) { $0 | $1.element << UInt8($1.offset) }) }
        return bytes
    }

    /// CRC-32 of `count` zero bytes by squaring the zero-byte operator (zlib's crc32_combine method).
    public static func crcOfZeros(_ count: Int) -> UInt32 {
        func times(_ matrix: [UInt32], _ vector: UInt32) -> UInt32 {
            var sum: UInt32 = 0, v = vector, i = 0
            while v != 0 { if v & 1 != 0 { sum ^= matrix[i] }; v >>= 1; i += 1 }
            return sum
        }
        func square(_ matrix: [UInt32]) -> [UInt32] { matrix.map { times(matrix, $0) } }
        var op = [UInt32](repeating: 0, count: 32)
        op[0] = 0xEDB8_8320
        for n in 1..<32 { op[n] = 1 << (n - 1) }
        for _ in 0..<3 { op = square(op) }
        var crc: UInt32 = 0xFFFF_FFFF, n = count
        while n > 0 {
            if n & 1 != 0 { crc = times(op, crc) }
            op = square(op)
            n >>= 1
        }
        return crc ^ 0xFFFF_FFFF
    }
}

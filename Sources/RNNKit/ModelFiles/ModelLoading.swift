import Foundation

/// The file kinds RNNKit reads, recognised by their content, never their name.
public enum ModelFileKind: String, Sendable {
    /// Keras legacy HDF5 (full model, or weights only).
    case hdf5
    /// Keras 3 `.keras` zip archive.
    case kerasArchive = "keras"
    /// JSON: a Keras architecture (`model.to_json()`) or an RNNKit model.
    case json
    /// safetensors with RNNKit's model metadata.
    case safetensors
    /// NumPy .npz with RNNKit's `__rnnkit_model__` entry.
    case npz
    /// An ONNX model (a ModelProto), which `summary` and `validate` read (``ONNXModelInfo``);
    /// RNNKit does not run it.
    case onnx

    /// Reads the first bytes of `path` to tell its kind.
    public static func detect(_ path: String) throws -> ModelFileKind {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            let exists = FileManager.default.fileExists(atPath: path)
            throw RNNKitError(.unreadable, exists ? "cannot open file" : "no such file", file: path)
        }
        defer { try? handle.close() }
        let head = [UInt8]((try? handle.read(upToCount: 512)) ?? Data())
        let size = Int((try? handle.seekToEnd()) ?? 0)
        // First: a safetensors header length could otherwise start with '{' and pass for JSON.
        if SafetensorsFile.looksLikeSafetensors(head, fileSize: size) { return .safetensors }
        if head.starts(with: [0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A]) { return .hdf5 }
        if head.starts(with: [0x50, 0x4B, 0x03, 0x04]) { return NPZModel.isNPZ(path) ? .npz : .kerasArchive }
        if let first = head.first(where: { ![0x20, 0x09, 0x0A, 0x0D, 0xEF, 0xBB, 0xBF].contains($0) }),
           first == UInt8(ascii: "{") {
            return .json
        }
        if ONNXModelInfo.looksLikeONNX(head) { return .onnx }
        if head.isEmpty { throw RNNKitError(.unreadable, "empty file", file: path) }
        throw RNNKitError(.unreadable,
                          "unrecognized file format (expected HDF5, a .keras archive, JSON, safetensors or .npz)",
                          file: path)
    }
}

extension Model {
    /// Reads a model file of any supported kind, with its weights from `weightsPath` when the
    /// model file holds only an architecture.
    ///
    /// Unreadable files throw. A readable model comes back with every inconsistency found (bad
    /// configs, missing or misshaped weights, NaN, graph errors) in `problems`; call
    /// `checked()` before running it.
    public static func load(contentsOf path: String, weights weightsPath: String? = nil,
                            limits: ReadLimits = .default) throws -> Model {
        do {
            var model: Model
            switch try ModelFileKind.detect(path) {
            case .hdf5:
                try refuseSeparateWeights(weightsPath, for: path)
                let file = try HDF5File.open(path)
                let root = file.root
                model = try LegacyKerasH5.readArchitecture(file)
                try attachWeights(&model, fromLegacy: root.hasChild("model_weights")
                                    ? root.group("model_weights") : nil)
            case .kerasArchive:
                try refuseSeparateWeights(weightsPath, for: path)
                model = try KerasArchiveModel.read(KerasArchive.read(path, limits: limits))
            case .safetensors:
                try refuseSeparateWeights(weightsPath, for: path)
                model = try SafetensorsModel.read(path)
            case .npz:
                try refuseSeparateWeights(weightsPath, for: path)
                model = try NPZModel.read(path, limits: limits)
            case .onnx:
                throw RNNKitError(.badUsage, "an ONNX model: RNNKit runs and converts Keras models; "
                                  + "`rnnkit summary` and `rnnkit validate` read ONNX files", file: path)
            case .json:
                let text = try readText(path, limit: limits.maxBytes)
                let json: JSONValue
                do {
                    json = try JSONParser.parse(text, maxTreeBytes: limits.maxBytes)
                } catch let error as RNNKitError {
                    throw error.inFile(path)
                }
                if RNNKitJSON.isRNNKitModel(json) {
                    try refuseSeparateWeights(weightsPath, for: path)
                    model = try RNNKitJSON.read(json, source: path)
                } else {
                    model = try KerasModelConfig.parse(json, kerasVersion: nil, source: path)
                    guard let weightsPath else {
                        throw RNNKitError(.badUsage,
                                          "this architecture JSON has no weights: give them with --weights",
                                          file: path)
                    }
                    try attachWeights(&model, fromFile: weightsPath)
                    model.source = "\(path) + \(weightsPath)"
                }
            }
            model.problems += WeightBinding.checkValues(model)
            return model
        } catch let error as RNNKitError {
            throw error.inFile(path)
        }
    }

    /// The model itself when its problems hold no error; otherwise throws the first error
    /// (saying how many more there are), so that only a valid model runs.
    public func checked() throws -> Model {
        try refuseErrors(file: source)
        return self
    }

    /// Throws the first error among the problems, if any, saying how many more there are;
    /// `refusal` ("cannot write a model with errors") leads the message.
    func refuseErrors(_ refusal: String? = nil, file: String) throws {
        guard let first = errors.first else { return }
        let more = errors.count > 1 ? " (and \(errors.count - 1) more problem(s))" : ""
        throw RNNKitError(.invalidModel, (refusal.map { $0 + ": " } ?? "") + first.message + more,
                          file: file, location: first.location)
    }

    /// Files that hold their own weights take no --weights.
    private static func refuseSeparateWeights(_ weightsPath: String?, for path: String) throws {
        if weightsPath != nil {
            throw RNNKitError(.badUsage, "this file holds its own weights; --weights is for architecture JSON",
                              file: path)
        }
    }

    /// Resolves the graph, then binds weights from a legacy weights group.
    static func attachWeights(_ model: inout Model, fromLegacy group: HDF5Group?) throws {
        let specs = analyze(&model)
        guard let group, LegacyKerasH5.holdsWeights(group) else {
            if specs.values.contains(where: { !$0.isEmpty }) {
                model.problems.append(Problem(.error, "/model_weights", "the file holds no model weights"))
            }
            return
        }
        try LegacyKerasH5.bindWeights(from: group, to: &model, specs: specs)
    }

    /// Binds weights from a separate weights file: legacy `save_weights` HDF5, Keras 3
    /// `.weights.h5`, or a full-model `.h5` (whose `/model_weights` Keras also accepts).
    static func attachWeights(_ model: inout Model, fromFile path: String) throws {
        guard try ModelFileKind.detect(path) == .hdf5 else {
            throw RNNKitError(.unreadable, "weights file must be HDF5 (.h5 or .weights.h5)", file: path)
        }
        do {
            let file = try HDF5File.open(path)
            let root = file.root
            if LegacyKerasH5.holdsWeights(root) {
                try attachWeights(&model, fromLegacy: root)
            } else if root.hasChild("model_weights") {
                try attachWeights(&model, fromLegacy: root.group("model_weights"))
            } else if Keras3WeightsH5.holdsWeights(root) {
                let specs = analyze(&model)
                try Keras3WeightsH5.bindWeights(from: root, to: &model, specs: specs)
            } else {
                throw RNNKitError(.unreadable, "not a Keras weights file (no layer_names, model_weights or layers)",
                                  file: path, location: "/")
            }
        } catch let error as RNNKitError {
            throw error.inFile(path)
        }
    }

    /// Checks the graph, records its problems, and returns every layer's weight specs.
    @discardableResult
    static func analyze(_ model: inout Model) -> [Int: [WeightSpec]] {
        let analysis = GraphAnalysis(model)
        model.problems += analysis.problems
        return WeightBinding.specs(of: model, analysis)
    }
}

/// Reads a whole file, refusing one larger than `limit` bytes before reading it.
func readBytes(_ path: String, limit: Int) throws -> Data {
    let attributes = try? FileManager.default.attributesOfItem(atPath: path)
    if let size = attributes?[.size] as? Int, size > limit {
        throw RNNKitError(.unreadable, "file is \(size) bytes, above the limit \(limit)", file: path)
            .lifted(by: .byteLimit(limit))
    }
    guard let data = FileManager.default.contents(atPath: path) else {
        throw RNNKitError(.unreadable, "cannot read file", file: path)
    }
    return data
}

/// Reads a UTF-8 text file, refusing one larger than `limit` bytes before reading it.
func readText(_ path: String, limit: Int) throws -> String {
    let data = try readBytes(path, limit: limit)
    guard let text = String(data: data, encoding: .utf8) else {
        throw RNNKitError(.unreadable, "file is not UTF-8 text", file: path)
    }
    return text
}

import Foundation

/// A complete model in a safetensors file: the weights as F32 tensors named
/// `<layer name>.<tensor>` in one weight layout (layouts.md), and `__metadata__` holding
/// `"format": "rnnkit"`, `"layout"` and `"model"`, the RNNKit JSON model without its weights
/// (as a string: safetensors metadata values are strings).
///
/// Without that metadata a safetensors file is weights only, and `read` refuses it.
enum SafetensorsModel {
    /// Reads a model. Unreadable files, and files without RNNKit metadata
    /// (`RNNKitError(.badUsage)`, "weights only: no RNNKit model metadata"), throw; missing,
    /// unexpected and misshaped tensors are in the model's `problems`, located by tensor name.
    static func read(_ path: String) throws -> Model {
        let (tensors, metadata) = try SafetensorsFile.readTensors(path)
        guard metadata["format"] == RNNKitJSON.formatName, let text = metadata["model"] else {
            throw RNNKitError(.badUsage, TensorModelFile.weightsOnlyMessage, file: path)
        }
        var layout = WeightLayout.keras
        if let name = metadata["layout"] {
            guard let known = WeightLayout(rawValue: name) else {
                throw RNNKitError(.invalidModel, "unknown layout '\(oneLine(name))' (expected "
                    + WeightLayout.allCases.map(\.rawValue).joined(separator: ", ") + ")",
                    file: path, location: "\(SafetensorsFile.metadataKey).layout")
            }
            layout = known
        }
        return try TensorModelFile.model(json: Array(text.utf8), at: "\(SafetensorsFile.metadataKey).model",
                                         tensors: tensors, defaultLayout: layout, path: path)
    }

    /// Writes `model` with its weights in `layout` to `path` exactly (the caller makes the write
    /// atomic). Refuses (`RNNKitError(.invalidModel)`) a model with errors, and a layer the
    /// layout cannot express, with the reason.
    static func write(_ model: Model, layout: WeightLayout, to path: String) throws {
        let (json, tensors) = try TensorModelFile.export(model, layout: layout, to: path)
        let metadata = ["format": RNNKitJSON.formatName, "layout": layout.rawValue, "model": json]
        try SafetensorsFile.write(Dictionary(uniqueKeysWithValues: tensors.map { ($0.name, $0.tensor) }),
                                  metadata: metadata, to: path)
    }

    /// Whether `path` is a safetensors file (by its first bytes), with or without RNNKit metadata.
    static func isSafetensors(_ path: String) -> Bool {
        guard let file = try? ReadableFile(path: path), file.size >= 10 else { return false }
        var head = [UInt8](repeating: 0, count: 9)
        guard (try? head.withUnsafeMutableBytes({ try file.read(into: $0, at: 0) })) != nil else { return false }
        return SafetensorsFile.looksLikeSafetensors(head, fileSize: Int(clamping: file.size))
    }
}

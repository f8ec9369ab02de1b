import Foundation

/// A complete model in a NumPy `.npz` archive: the weights as float32 arrays named
/// `<layer name>.<tensor>` in one weight layout (layouts.md), and an extra entry
/// `__rnnkit_model__`, a 1-D uint8 array holding the RNNKit JSON model without its weights
/// (UTF-8), each layer's `layout` inside it. `np.load("m.npz")["lstm.kernel"]` gives a weight;
/// `bytes(np.load("m.npz")["__rnnkit_model__"]).decode()` the architecture.
///
/// Without that entry an `.npz` archive is weights only, and `read` refuses it.
enum NPZModel {
    /// The name of the entry (without `.npy`) that holds the model JSON.
    static let modelEntry = "__rnnkit_model__"

    /// Reads a model. Unreadable archives, and archives without `__rnnkit_model__`
    /// (`RNNKitError(.badUsage)`, "weights only: no RNNKit model metadata"), throw; missing,
    /// unexpected and misshaped tensors are in the model's `problems`, located by tensor name.
    static func read(_ path: String, limits: ReadLimits = .default) throws -> Model {
        let arrays = try TensorFile.readNPZ(path, limits: limits)
        var tensors: [String: Tensor] = [:]
        var json: [UInt8]?
        for array in arrays {
            if array.name == modelEntry {
                guard array.elementType == .uint8, array.tensor.rank == 1 else {
                    throw RNNKitError(.unreadable, "the model entry must be a 1-D uint8 array of JSON text, found "
                        + "\(array.elementType.rawValue) of shape \(formatShape(array.tensor.shape))",
                        file: path, location: modelEntry)
                }
                json = array.tensor.scalars.map { UInt8($0) }
                continue
            }
            guard [.float16, .float32, .float64].contains(array.elementType) else {
                throw RNNKitError(.unreadable, "a weight must be a float array (float16, float32 or float64), "
                    + "found \(array.elementType.rawValue)", file: path, location: array.name)
            }
            tensors[array.name] = array.tensor
        }
        guard let json else {
            throw RNNKitError(.badUsage, TensorModelFile.weightsOnlyMessage, file: path)
        }
        return try TensorModelFile.model(json: json, at: modelEntry, tensors: tensors, defaultLayout: .keras,
                                         path: path)
    }

    /// Writes `model` with its weights in `layout` to `path` exactly (the caller makes the write
    /// atomic): `__rnnkit_model__.npy` first, then one stored `<name>.npy` float32 entry per
    /// tensor, layers in model order. Refuses (`RNNKitError(.invalidModel)`) a model with
    /// errors, and a layer the layout cannot express, with the reason.
    static func write(_ model: Model, layout: WeightLayout, to path: String) throws {
        let (json, tensors) = try TensorModelFile.export(model, layout: layout, to: path)
        let text = Array(json.utf8)
        let modelArray = NamedTensor(name: modelEntry, tensor: Tensor(shape: [text.count], scalars: text.map(Float.init)),
                                     elementType: .uint8)
        let arrays = [modelArray] + tensors.map { NamedTensor(name: $0.name, tensor: $0.tensor) }
        try NPZFormat.checkNames(arrays, path: path)
        try FileSink.write(to: path) { sink in try NPZFormat.write(arrays, to: sink) }
    }

    /// Whether `path` is a ZIP archive with a `__rnnkit_model__.npy` entry. Reads only the
    /// archive's directory; false for anything unreadable.
    static func isNPZModel(_ path: String) -> Bool {
        entryNames(path)?.contains(modelEntry + ".npy") ?? false
    }

    /// Whether `path` is a ZIP archive whose entries are all `<name>.npy` arrays (at least one):
    /// an `.npz` archive, with or without `__rnnkit_model__`.
    static func isNPZ(_ path: String) -> Bool {
        guard let names = entryNames(path), !names.isEmpty else { return false }
        return names.allSatisfy { $0.hasSuffix(".npy") && $0.count > 4 }
    }

    /// The entry names of a ZIP archive, or nil when `path` is not a regular file starting with a
    /// ZIP local header whose directory `ZipReader` accepts. The entry and size limits are left
    /// to the read that follows, which knows the caller's; the directory itself stays bounded.
    private static func entryNames(_ path: String) -> [String]? {
        guard let zip = try? ZipReader(path: path), (try? zip.signature()) == .zip,
              (try? zip.readDirectory(limits: ReadLimits(maxTotalBytes: .max, maxEntries: .max))) != nil
        else { return nil }
        return zip.entries.map(\.name)
    }
}

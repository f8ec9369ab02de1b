import Foundation
import ZIPFoundation

/// A complete model in a NumPy `.npz` archive: the weights as float32 arrays named
/// `<layer name>.<tensor>` in one weight layout (layouts.md), and an extra entry
/// `__rnnkit_model__`, a 1-D uint8 array holding the RNNKit JSON model without its weights
/// (UTF-8), each layer's `layout` inside it. `np.load("m.npz")["lstm.kernel"]` gives a weight;
/// `bytes(np.load("m.npz")["__rnnkit_model__"]).decode()` the architecture.
///
/// Without that entry an `.npz` archive is weights only, and `read` refuses it.
public enum NPZModel {
    /// The name of the entry (without `.npy`) that holds the model JSON.
    public static let modelEntry = "__rnnkit_model__"

    /// Reads a model. Unreadable archives, and archives without `__rnnkit_model__`
    /// (`RNNKitError(.badUsage)`, "weights only: no RNNKit model metadata"), throw; missing,
    /// unexpected and misshaped tensors are in the model's `problems`, located by tensor name.
    ///
    /// The archive is read by `TensorFile.read`, which chooses the reader by extension: the
    /// path must end in `.npz`.
    public static func read(_ path: String) throws -> Model {
        guard (path as NSString).pathExtension.lowercased() == "npz" else {
            throw RNNKitError(.badUsage, "an npz model file must be named *.npz", file: path)
        }
        let arrays = try TensorFile.read(path)
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
    public static func write(_ model: Model, layout: WeightLayout, to path: String) throws {
        let (json, tensors) = try TensorModelFile.export(model, layout: layout, to: path)
        for (name, _) in tensors {
            if name.contains("/") || name.contains("\\") || name.utf8.contains(0) {
                throw RNNKitError(.invalidModel, "tensor name '\(SafetensorsFile.printable(name))' cannot name an "
                    + ".npz entry (it contains '/', '\\' or NUL)", file: path, location: name)
            }
        }
        let text = Array(json.utf8)
        var entries = [(name: modelEntry, bytes: npy(descr: "|u1", shape: [text.count], data: Data(text)))]
        for (name, tensor) in tensors {
            var data = Data(capacity: tensor.count * 4)
            for scalar in tensor.scalars {
                withUnsafeBytes(of: scalar.bitPattern.littleEndian) { data.append(contentsOf: $0) }
            }
            entries.append((name, npy(descr: "<f4", shape: tensor.shape, data: data)))
        }
        let archive = try zip(entries, path: path)
        try DirectFileWriter.write(to: path) { sink in try sink.write(archive) }
    }

    /// A ZIP archive of stored `<name>.npy` entries, in order, built in memory.
    static func zip(_ entries: [(name: String, bytes: Data)], path: String) throws -> Data {
        do {
            let archive = try Archive(data: Data(), accessMode: .create)
            for entry in entries {
                let bytes = entry.bytes
                try archive.addEntry(with: entry.name + ".npy", type: .file, uncompressedSize: Int64(bytes.count),
                                     compressionMethod: .none) { position, size in
                    bytes.subdata(in: Int(position)..<(Int(position) + size))
                }
            }
            guard let data = archive.data else {
                throw RNNKitError(.badUsage, "cannot build the .npz archive in memory", file: path)
            }
            return data
        } catch let error as RNNKitError {
            throw error
        } catch {
            throw RNNKitError(.badUsage, "cannot build the .npz archive: \(error)", file: path)
        }
    }

    /// Whether `path` is a ZIP archive with a `__rnnkit_model__.npy` entry. Reads only the
    /// archive's directory; false for anything unreadable.
    public static func isNPZModel(_ path: String) -> Bool {
        entryNames(path)?.contains(modelEntry + ".npy") ?? false
    }

    /// Whether `path` is a ZIP archive whose entries are all `<name>.npy` arrays (at least one):
    /// an `.npz` archive, with or without `__rnnkit_model__`.
    public static func isNPZ(_ path: String) -> Bool {
        guard let names = entryNames(path), !names.isEmpty else { return false }
        return names.allSatisfy { $0.hasSuffix(".npy") && $0.count > 4 }
    }

    /// The entry names of a ZIP archive, or nil when `path` is not a readable regular file
    /// starting with a ZIP local header.
    private static func entryNames(_ path: String) -> [String]? {
        guard let file = try? ReadableFile(path: path), file.size >= 4 else { return nil }
        var head = [UInt8](repeating: 0, count: 4)
        guard (try? head.withUnsafeMutableBytes({ try file.read(into: $0, at: 0) })) != nil,
              head == [0x50, 0x4B, 0x03, 0x04],
              let archive = try? Archive(url: URL(fileURLWithPath: path), accessMode: .read, pathEncoding: nil)
        else { return nil }
        return archive.map(\.path)
    }

    /// An `.npy` file (format 1.0, or 2.0 for a header above 64 KiB) of C-order `data`.
    static func npy(descr: String, shape: [Int], data: Data) -> Data {
        let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var header = Array("{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shapeText), }".utf8)
        let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]
        let version: UInt8 = header.count + 1 + 64 > Int(UInt16.max) ? 2 : 1
        let prefix = magic.count + 2 + (version == 1 ? 2 : 4)
        header += [UInt8](repeating: 0x20, count: 64 - (prefix + header.count + 1) % 64)
        header.append(0x0A)
        var out = Data(magic + [version, 0])
        let length = UInt32(header.count)
        out.append(contentsOf: (0..<(version == 1 ? 2 : 4)).map { UInt8(truncatingIfNeeded: length >> (8 * $0)) })
        out.append(contentsOf: header)
        out.append(data)
        return out
    }
}

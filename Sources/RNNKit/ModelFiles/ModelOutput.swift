import Foundation

/// The file kinds RNNKit writes, chosen by the output's extension.
public enum ModelOutputFormat: String, CaseIterable, Sendable {
    /// Keras legacy full-model HDF5, loadable by Keras 3 and tf_keras.
    case h5
    /// Keras 3 archive.
    case keras
    /// RNNKit's JSON model (Schemas/rnnkit-model.schema.json), weights in any layout.
    case json
    /// Weights named per layouts.md, with the architecture as metadata.
    case safetensors
    case npz

    /// The format named by `path`'s extension; throws for any other extension.
    public init(path: String) throws {
        let name = path.lowercased()
        guard let format = ModelOutputFormat.allCases.first(where: { name.hasSuffix("." + $0.rawValue) }) else {
            let known = ModelOutputFormat.allCases.map { "." + $0.rawValue }.joined(separator: ", ")
            throw RNNKitError(.badUsage, "cannot tell the output format from the name; use one of \(known)",
                              file: path)
        }
        self = format
    }

    /// Keras files always hold the keras layout; the tensor formats hold any.
    public var takesAnyLayout: Bool { self != .h5 && self != .keras }
}

extension Model {
    /// Writes the model to `path` in the format its extension names, atomically. Refuses a
    /// model with errors, an existing file unless `replacing`, and any of `inputs` as output.
    public func write(to path: String, layout: WeightLayout = .keras, replacing: Bool = false,
                      inputs: [String] = []) throws {
        let format = try ModelOutputFormat(path: path)
        guard layout == .keras || format.takesAnyLayout else {
            throw RNNKitError(.badUsage, "a .\(format.rawValue) file holds Keras's own layout; "
                              + "the \(layout.rawValue) layout is for .json, .safetensors and .npz", file: path)
        }
        _ = try checked()
        try AtomicFile.write(to: path, replacing: replacing, protecting: inputs + [source]) { temporary in
            switch format {
            case .json:
                try JSONWriter.string(RNNKitJSON.write(self, layout: layout), pretty: true)
                    .write(toFile: temporary, atomically: false, encoding: .utf8)
            case .h5: try LegacyKerasH5.write(self, to: temporary)
            case .keras: try KerasArchiveModel.write(self, to: temporary)
            case .safetensors: try SafetensorsModel.write(self, layout: layout, to: temporary)
            case .npz: try NPZModel.write(self, layout: layout, to: temporary)
            }
        }
    }
}

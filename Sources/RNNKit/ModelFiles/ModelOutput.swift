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
    /// An ONNX model: standard operators, weights as initializers (README, "Exporting to ONNX").
    case onnx

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
    public var takesAnyLayout: Bool {
        switch self {
        case .h5, .keras, .onnx: false
        case .json, .safetensors, .npz: true
        }
    }
}

extension Model {
    /// The ONNX opsets ``write(to:layout:replacing:inputs:opset:externalData:)`` writes to a `.onnx` file.
    public static let onnxOpsets = ONNXExport.supportedOpsets
    /// The ONNX opset written when none is asked for.
    public static let defaultONNXOpset = ONNXExport.defaultOpset

    /// Writes the model to `path` in the format its extension names, atomically. Refuses a
    /// model with errors, an existing file unless `replacing`, and any of `inputs` as output.
    /// `opset` is for `.onnx` files only (default ``defaultONNXOpset``); an ONNX file holds the
    /// operators' own weight layout, so `layout` stays keras (or names onnx) there.
    ///
    /// An ONNX model whose weights pass 2 GB (protobuf's limit), or any with `externalData`,
    /// keeps its weight tensors in `<path>.data` beside it (ONNX's external data, which ONNX
    /// Runtime and `onnx.load` read), written first, under the same rules.
    public func write(to path: String, layout: WeightLayout = .keras, replacing: Bool = false,
                      inputs: [String] = [], opset: Int? = nil, externalData: Bool = false) throws {
        let format = try ModelOutputFormat(path: path)
        if opset != nil && format != .onnx {
            throw RNNKitError(.badUsage, "--opset is for .onnx files", file: path)
        }
        if externalData && format != .onnx {
            throw RNNKitError(.badUsage, "external data is for .onnx files", file: path)
        }
        if let opset, !ONNXExport.supportedOpsets.contains(opset) {
            throw RNNKitError(.badUsage, "opset \(opset) is not one RNNKit writes: use "
                              + "\(ONNXExport.supportedOpsets.lowerBound) to \(ONNXExport.supportedOpsets.upperBound)")
        }
        if format == .onnx && layout != .keras && layout != .onnx {
            throw RNNKitError(.badUsage, "a .onnx file holds the ONNX operators' own layout; "
                              + "the \(layout.rawValue) layout is for .json, .safetensors and .npz", file: path)
        }
        guard layout == .keras || format.takesAnyLayout || format == .onnx else {
            throw RNNKitError(.badUsage, "a .\(format.rawValue) file holds Keras's own layout; "
                              + "the \(layout.rawValue) layout is for .json, .safetensors and .npz", file: path)
        }
        _ = try checked()
        // An ONNX refusal names the layer in the model's file, before any output is created.
        let dataPath = path + ".data"
        let onnx = try format == .onnx ? exportingErrors(from: source) {
            try ONNXExport.files(self, opset: opset ?? ONNXExport.defaultOpset,
                                 dataLocation: (dataPath as NSString).lastPathComponent, external: externalData)
        } : nil
        if let pieces = onnx?.externalData, !pieces.isEmpty {
            // The model's own refusal (an existing file, an input) comes before its data is written.
            try AtomicFile.checkPolicy(for: path, replacing: replacing, protecting: inputs + [source])
            try AtomicFile.write(to: dataPath, replacing: replacing, protecting: inputs + [source]) { sink in
                var end = 0
                for (offset, bytes) in pieces {
                    try sink.write([UInt8](repeating: 0, count: offset - end))
                    try sink.write(bytes)
                    end = offset + bytes.count
                }
            }
        }
        try AtomicFile.write(to: path, replacing: replacing, protecting: inputs + [source]) { temporary in
            switch format {
            case .json:
                try JSONWriter.string(RNNKitJSON.write(self, layout: layout), pretty: true)
                    .write(toFile: temporary, atomically: false, encoding: .utf8)
            case .h5: try LegacyKerasH5.write(self, to: temporary)
            case .keras: try KerasArchiveModel.write(self, to: temporary)
            case .safetensors: try SafetensorsModel.write(self, layout: layout, to: temporary)
            case .npz: try NPZModel.write(self, layout: layout, to: temporary)
            case .onnx: try onnx?.model.write(to: URL(fileURLWithPath: temporary))
            }
        }
    }
}

/// Runs `body`, attributing an RNNKitError without a file to `file`.
private func exportingErrors<T>(from file: String, _ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch var error as RNNKitError where error.file == nil {
        error.file = file
        throw error
    }
}

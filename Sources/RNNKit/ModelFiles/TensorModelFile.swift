import Foundation

/// What the tensor-file model formats (safetensors, npz) share: the RNNKit JSON model without
/// its weights beside tensors named `<layer name>.<tensor>` (layouts.md, "Metadata that makes a
/// tensor file a complete model").
enum TensorModelFile {
    /// The message of the error thrown for a tensor file without RNNKit model metadata.
    static let weightsOnlyMessage = "weights only: no RNNKit model metadata"

    /// The model's JSON text without weights and its tensors in `layout`, for writing to `path`.
    /// Refuses a model with errors, and what the layout cannot express, naming `path`.
    static func export(_ model: Model, layout: WeightLayout, to path: String) throws
        -> (json: String, tensors: [(name: String, tensor: Tensor)]) {
        try model.refuseErrors("cannot write a model with errors", file: path)
        do {
            let (json, tensors) = try RNNKitJSON.writeWithoutWeights(model, layout: layout)
            return (JSONWriter.string(json), tensors)
        } catch let error as RNNKitError {
            throw RNNKitError(error.kind, error.message, file: path, location: error.location)
        }
    }

    /// Reads the model JSON (`text`, found at `location` in the file) with its tensors.
    static func model(json bytes: [UInt8], at location: String, tensors: [String: Tensor],
                      defaultLayout: WeightLayout, path: String) throws -> Model {
        let json: JSONValue
        do {
            json = try JSONParser.parse(bytes: bytes)
        } catch let error as RNNKitError {
            throw RNNKitError(.unreadable, "the RNNKit model is not JSON: \(error.message)",
                              file: path, location: location + (error.location ?? ""))
        }
        guard RNNKitJSON.isRNNKitModel(json) else {
            throw RNNKitError(.unreadable, "the model JSON is not an RNNKit model (no \"format\": \"rnnkit\")",
                              file: path, location: location)
        }
        return try RNNKitJSON.read(json, tensors: tensors, defaultLayout: defaultLayout, source: path)
    }
}

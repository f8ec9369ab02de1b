import RNNKit

/// `rnnkit serve`'s request bodies: `RequestJSON.parse` and `PredictRequest.decode` against a
/// one-input float model, a two-input model and a token-id model, with and without the
/// any-length time axis of sessions. Built from Sources/RNNKitServer/Codec (compiled into this
/// binary, without the HTTP server). Promises: only `ServeError` 400 escapes, with a one-line
/// message; a decoded request fits its signature; its tensors written back as a response parse
/// again; the LSTM fixture runs a decoded one-input request or refuses with an `RNNKitError`.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let body = UnsafeBufferPointer(start: data, count: size)
    for (index, inputs) in ServeFuzz.signatures.enumerated() {
        let anyLength = size % 2 == 1
        do {
            let request = try PredictRequest.decode(body, inputs: inputs, anyLength: anyLength)
            precondition(request.inputs.count == inputs.count, "decoded \(request.inputs.count) inputs")
            for (tensor, signature) in zip(request.inputs, inputs) {
                precondition(tensor.rank == signature.shape?.count, "rank \(tensor.rank) for \(signature)")
                precondition(tensor.shape[0] == request.batchSize, "batch sizes differ")
            }
            let written = PredictResponse.encode(request.inputs, names: inputs.map(\.name), format: request.format)
            do {
                _ = try RequestJSON.parse(written)
            } catch {
                fatalError("a response does not parse: \(error): \(String(decoding: written, as: UTF8.self))")
            }
            if index == 0 && request.batchSize <= 8 && request.inputs[0].shape[1] <= 64 {
                Fuzz.expectingRNNKitErrors("Predictor.predict") { _ = try ServeFuzz.predictor.predict(request.inputs) }
            }
        } catch {
            // Typed throws: decode can only throw ServeError.
            precondition(error.status == 400, "status \(error.status) for a request body: \(error)")
            Fuzz.checkLine(error.message, "PredictRequest.decode")
        }
    }
    return 0
}

enum ServeFuzz {
    static let signatures: [[TensorSignature]] = [
        [TensorSignature(name: "input_layer", dataType: .float, shape: [nil, 5, 3])],
        [TensorSignature(name: "a", dataType: .float, shape: [nil, 2]),
         TensorSignature(name: "b", dataType: .float, shape: [nil, nil, 3])],
        [TensorSignature(name: "tokens", dataType: .int32, shape: [nil, 6])],
    ]

    static let predictor: Predictor = {
        do {
            return try Predictor(Model.load(contentsOf: Fuzz.fixtures + "/lstm_sequences/keras3.h5"))
        } catch {
            fatalError("cannot load the LSTM fixture: \(error)")
        }
    }()
}

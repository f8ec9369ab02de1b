@testable import RNNKit

/// JSON: json-c through `JSONParser`, RNNKit JSON models (`RNNKitJSON.read`), and Keras
/// architecture JSON with a fixture's weights (Keras 3 or legacy layout, Sequential or
/// Functional, chosen by the input's size).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    Fuzz.expectingRNNKitErrors("JSONParser") {
        let json = try JSONParser.parse(bytes: bytes)
        if RNNKitJSON.isRNNKitModel(json) {
            Fuzz.exercise(try RNNKitJSON.read(json, source: "fuzz.json"))
        }
        _ = JSONWriter.string(json)
    }
    let weights = ["simple_rnn/keras3.weights.h5", "simple_rnn/tfkeras_weights.h5",
                   "seq2seq/keras3.weights.h5", "seq2seq/tfkeras_weights.h5"][size % 4]
    Fuzz.load(Fuzz.write(data, size, as: "model.json"), weights: Fuzz.fixtures + "/" + weights)
    return 0
}

@testable import RNNKit

/// Keras 3 `.keras` archives: the ZIP reader, config.json, metadata.json and model.weights.h5.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    Fuzz.load(Fuzz.write(data, size, as: "model.keras"))
    return 0
}

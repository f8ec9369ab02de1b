@testable import RNNKit

/// Legacy Keras HDF5: a full-model `.h5` (odd sizes) or, for even sizes, the weights file of an
/// architecture JSON (simple_rnn's tf_keras or Keras 3 architecture, by the last byte).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let path = Fuzz.write(data, size, as: "model.h5")
    if size % 2 == 1 || size == 0 {
        Fuzz.load(path)
    } else {
        let architecture = data[size - 1] % 2 == 0 ? "simple_rnn/tfkeras.json" : "simple_rnn/keras3.json"
        Fuzz.load(Fuzz.fixtures + "/" + architecture, weights: path)
    }
    return 0
}

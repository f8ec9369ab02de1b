@testable import RNNKit

/// The data readers of `rnnkit predict`: `TensorFile.read` with the extension the content looks
/// like (NumPy magic → .npy, ZIP → .npz, `[`/`{` → .json, anything else → .csv, also with a
/// window of 3 rows), and `.npy`/`.npz` read 3 rows at a time as `rnnkit predict` streams them.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let head = Array(UnsafeBufferPointer(start: data, count: min(size, 8)))
    let first = head.first(where: { ![0x20, 0x09, 0x0A, 0x0D].contains($0) })
    let kind: String
    if head.starts(with: [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]) { kind = "npy" }
    else if head.starts(with: [0x50, 0x4B]) { kind = "npz" }
    else if first == UInt8(ascii: "[") || first == UInt8(ascii: "{") { kind = "json" }
    else { kind = "csv" }
    let path = Fuzz.write(data, size, as: "input." + kind)
    Fuzz.expectingRNNKitErrors("TensorFile.read(.\(kind))") {
        let arrays = try TensorFile.read(path)
        for array in arrays {
            precondition(array.tensor.scalars.count == array.tensor.shape.reduce(1, *), "shape and data disagree")
            // Names are data and may hold anything json-c accepts (raw tabs and line breaks in a
            // .json key too); messages show them through `oneLine`, which the one-line check on
            // every thrown error covers.
        }
        // Written back out, as predict writes its outputs.
        if !arrays.isEmpty {
            let names = Set(arrays.map(\.name))
            if names.count == arrays.count { _ = TensorFile.jsonValue(arrays) }
        }
    }
    if kind == "csv" {
        Fuzz.expectingRNNKitErrors("TensorFile.read(.csv, window: 3)") { _ = try TensorFile.read(path, csvWindow: 3) }
    }
    // The streaming readers of `rnnkit predict`, 3 rows at a time.
    if kind == "npy" || kind == "npz" {
        Fuzz.expectingRNNKitErrors("NPYSource(.\(kind)).next(3)") {
            let source = try kind == "npy" ? NPYSource(npy: path, limits: .default) : NPYSource(npz: path, limits: .default)
            while let batch = try source?.next(3) {
                for array in batch.arrays {
                    precondition(array.tensor.scalars.count == array.tensor.shape.reduce(1, *), "shape and data disagree")
                }
            }
        }
    }
    return 0
}

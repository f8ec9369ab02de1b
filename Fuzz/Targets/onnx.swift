import Foundation
@testable import RNNKit

/// ONNX: `ModelFileKind.detect` and `ONNXModelInfo` (swift-protobuf's decoder of ModelProto,
/// then the graph checks and the summary table) on the input as a `.onnx` file.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let path = Fuzz.write(data, size, as: "model.onnx")
    Fuzz.expectingRNNKitErrors("ONNXModelInfo") {
        _ = try? ModelFileKind.detect(path)
        let info = try ONNXModelInfo.read(contentsOf: path)
        for problem in info.problems { Fuzz.checkLine(problem.description, "problem") }
        _ = info.table
    }
    return 0
}

import ArgumentParser
import RNNKit

extension ModelArguments {
    /// The ONNX model's description when the model file is an ONNX model (read under the same
    /// bounds as any model file), nil for the Keras and RNNKit formats.
    func loadONNX() throws -> ONNXModelInfo? {
        guard try ModelFileKind.detect(model) == .onnx else { return nil }
        if weights != nil {
            throw RNNKitError(.badUsage, "this file holds its own weights; --weights is for architecture JSON", file: model)
        }
        return try Isolation.withReadingBounds(for: self) {
            try ONNXModelInfo.read(contentsOf: model, limits: limits)
        }
    }
}

/// `summary --json` of an ONNX model.
struct ONNXSummaryReport: Encodable {
    struct Port: Encodable {
        var name: String
        var dtype: String
        var shape: [String]
    }

    var format = "onnx"
    var irVersion: Int
    var opsets: [String: Int]
    var producer: String
    var inputs: [Port]
    var outputs: [Port]
    var operators: [String: Int]
    var initializers: Int
    var parameters: Int

    init(_ info: ONNXModelInfo) {
        func port(_ port: ONNXModelInfo.Port) -> Port { Port(name: port.name, dtype: port.elementType, shape: port.dimensions) }
        irVersion = info.irVersion
        opsets = info.opsets
        producer = info.producer
        inputs = info.inputs.map(port)
        outputs = info.outputs.map(port)
        operators = info.operatorCounts
        initializers = info.initializerCount
        parameters = info.parameterCount
    }

    enum CodingKeys: String, CodingKey {
        case format, irVersion = "ir_version", opsets, producer, inputs, outputs, operators, initializers, parameters
    }
}

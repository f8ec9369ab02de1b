import Foundation
import SwiftProtobuf

/// Writes a model as an ONNX `ModelProto`: the model's inputs and outputs under their Keras names,
/// the batch (and any other axis Keras leaves as None) dynamic, the weights as initializers named
/// as in the onnx layout of docs/layouts.md (`<layer>.W`, `<layer>.kernel`...), recurrent layers
/// as ONNX's own RNN, LSTM and GRU operators and every other layer as standard operators.
///
/// Keras masks are ONNX values (ONNXMasks.swift). Where the recurrent operators cannot compute
/// Keras (a masked input, an activation they lack, a cell stack, ConvLSTM), the layer is a Scan
/// of Keras's cell (ONNXScan.swift). What has no exact form is refused with the reason, never
/// approximated. Every layer kind passes through
/// `ONNXGraphBuilder.emit`, an exhaustive switch; a kind with no ONNX form goes to
/// `ONNXExport.noONNXForm`, the one place that refuses a kind by name.
enum ONNXExport {
    /// The opset written when none is asked for.
    static let defaultOpset = 17
    /// The opsets RNNKit writes: from 14 (the recurrent operators' `layout` attribute) to 21.
    static let supportedOpsets = 14...21

    /// The IR version that goes with an opset (onnx/docs/Versioning.md).
    static func irVersion(forOpset opset: Int) -> Int64 {
        switch opset {
        case ...14: 7
        case 15...18: 8
        case 19...20: 9
        default: 10
        }
    }

    /// The serialized ModelProto of `model`, which must be free of errors.
    static func serialized(_ model: Model, opset: Int = defaultOpset) throws -> Data {
        try modelProto(model, opset: opset).serializedData()
    }

    static func modelProto(_ model: Model, opset: Int = defaultOpset) throws -> Onnx_ModelProto {
        guard supportedOpsets.contains(opset) else {
            throw RNNKitError(.badUsage, "opset \(opset) is not one RNNKit writes: use "
                              + "\(supportedOpsets.lowerBound) to \(supportedOpsets.upperBound)")
        }
        var builder = ONNXGraphBuilder(model: model, opset: opset)
        let graph = try builder.build()
        var proto = Onnx_ModelProto()
        proto.irVersion = irVersion(forOpset: opset)
        proto.producerName = "rnnkit"
        proto.producerVersion = Versions.rnnkit
        var domain = Onnx_OperatorSetIdProto()
        domain.domain = ""
        domain.version = Int64(opset)
        proto.opsetImport = [domain]
        proto.graph = graph
        return proto
    }

    /// The refusal of a layer kind that has no ONNX form in this exporter (the one place that
    /// refuses a kind by its class name).
    static func noONNXForm(_ kind: LayerKind, layer: String) -> RNNKitError {
        RNNKitError(.invalidModel, "ONNX export has no form for \(kind.className) layers yet", location: layer)
    }

    /// A refusal of one layer, with the reason.
    static func refusal(_ layer: String, _ className: String, _ reason: String) -> RNNKitError {
        RNNKitError(.invalidModel, "cannot export \(className) to ONNX exactly: \(reason)", location: layer)
    }
}

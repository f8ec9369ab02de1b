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

    /// A protobuf message cannot pass 2 GiB: past this many bytes of weights, they go to a file
    /// beside the model (ONNX's external data), as onnx.save and PyTorch's exporter do.
    static let inlineWeightLimit = 2_000_000_000
    /// Each external tensor starts at a multiple of this, so a runtime can map it in place.
    static let externalAlignment = 4096

    /// An ONNX model's bytes and the tensor data of its external data file.
    struct Files {
        var model: Data
        /// Where each float tensor's bytes go in the data file, in file order; empty when every
        /// weight is in the model.
        var externalData: [(offset: Int, bytes: Data)]
    }

    /// `model` as ONNX, its weights beside it in the file `dataLocation` (a name relative to the
    /// model's folder) when they pass `inlineLimit` bytes, or always with `external`.
    static func files(_ model: Model, opset: Int = defaultOpset, dataLocation: String, external: Bool,
                      inlineLimit: Int = inlineWeightLimit) throws -> Files {
        var proto = try modelProto(model, opset: opset)
        let weightBytes = proto.graph.initializer.reduce(0) { $0 + $1.rawData.count }
        guard external || weightBytes > inlineLimit else { return Files(model: try proto.serializedData(), externalData: []) }
        var pieces: [(offset: Int, bytes: Data)] = [], end = 0
        // The float tensors (weights, float constants) move; int64 shapes and axes stay, since
        // shape inference (onnx.checker's, ORT's) reads them from the model itself.
        let float = Int32(Onnx_TensorProto.DataType.float.rawValue)
        for index in proto.graph.initializer.indices
        where proto.graph.initializer[index].dataType == float && !proto.graph.initializer[index].rawData.isEmpty {
            let bytes = proto.graph.initializer[index].rawData
            let offset = (end + externalAlignment - 1) / externalAlignment * externalAlignment
            pieces.append((offset, bytes))
            end = offset + bytes.count
            proto.graph.initializer[index].rawData = Data()
            proto.graph.initializer[index].dataLocation = .external
            proto.graph.initializer[index].externalData = [("location", dataLocation), ("offset", "\(offset)"),
                                                           ("length", "\(bytes.count)")].map { key, value in
                var entry = Onnx_StringStringEntryProto()
                entry.key = key
                entry.value = value
                return entry
            }
        }
        return Files(model: try proto.serializedData(), externalData: pieces)
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

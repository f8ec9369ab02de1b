import RNNKit

/// A model loaded once and shared by every request: its predictor, its signature and its batcher.
public final class ServedModel: Sendable {
    public let name: String
    /// TF Serving addresses models by version; RNNKit serves one file per name, as version 1.
    public let version: Int
    public let predictor: Predictor
    public let inputs: [TensorSignature]
    public let outputs: [TensorSignature]
    let batcher: Batcher

    init(name: String, predictor: Predictor, configuration: ServerConfiguration, metrics: ServerMetrics) {
        self.name = name
        version = 1
        self.predictor = predictor
        inputs = TensorSignature.inputs(of: predictor)
        outputs = TensorSignature.outputs(of: predictor.model)
        batcher = Batcher(predictor: predictor, windowMicroseconds: configuration.batchWindowMicroseconds,
                          maxRows: configuration.maxBatch, threads: configuration.threads,
                          onBatch: { [metrics, name] rows in metrics.recordBatch(model: name, rows: rows) })
    }

    /// `GET /v1/models/NAME`: GetModelStatusResponse as TF Serving writes it.
    var statusJSON: [UInt8] {
        var text = JSONText()
        text.append("{\"model_version_status\":[{\"version\":")
        text.appendString(String(version))
        text.append(",\"state\":\"AVAILABLE\",\"status\":{\"error_code\":\"OK\",\"error_message\":\"\"}}]}")
        return text.bytes
    }

    /// `GET /v1/models/NAME/metadata`: GetModelMetadataResponse with the serving_default
    /// signature_def; sizes are strings (int64 in protobuf's JSON), -1 for any size.
    var metadataJSON: [UInt8] {
        var text = JSONText()
        text.append("{\"model_spec\":{\"name\":")
        text.appendString(name)
        text.append(",\"signature_name\":\"\",\"version\":")
        text.appendString(String(version))
        text.append("},\"metadata\":{\"signature_def\":{\"signature_def\":{\"serving_default\":{\"inputs\":")
        appendTensorInfos(inputs, to: &text)
        text.append(",\"outputs\":")
        appendTensorInfos(outputs, to: &text)
        text.append(",\"method_name\":\"tensorflow/serving/predict\",\"defaults\":{}}}}}}")
        return text.bytes
    }

    private func appendTensorInfos(_ signatures: [TensorSignature], to text: inout JSONText) {
        text.append("{")
        for (position, signature) in signatures.enumerated() {
            if position > 0 { text.append(",") }
            text.appendString(signature.name)
            text.append(":{\"dtype\":")
            text.appendString(signature.dataType.rawValue)
            text.append(",\"tensor_shape\":{\"dim\":[")
            for (axis, size) in (signature.shape ?? []).enumerated() {
                if axis > 0 { text.append(",") }
                text.append("{\"size\":")
                text.appendString(String(size ?? -1))
                text.append(",\"name\":\"\"}")
            }
            text.append("],\"unknown_rank\":")
            text.append(signature.shape == nil ? "true" : "false")
            text.append("},\"name\":")
            text.appendString(signature.name + ":0")
            text.append("}")
        }
        text.append("}")
    }
}

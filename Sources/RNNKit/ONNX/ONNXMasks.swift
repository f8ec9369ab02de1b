/// Keras masks as ONNX values: [batch, time] bool, true where a step is kept. They start where
/// the runtime's do (Masking, Embedding with mask_zero, an explicit `mask=`), ride along
/// `ONNXValue.mask` through the layers that pass them on, and are read by the recurrent Scans
/// (ONNXScan.swift) and the masked GlobalAveragePooling1D.
extension ONNXGraphBuilder {
    /// Embedding(mask_zero): a step is kept where its id is not 0. Compared as floats, which
    /// keeps every nonzero integer nonzero.
    mutating func nonZeroMask(_ ids: ONNXValue) -> String {
        let values = ids.elementType == .float ? ids.name : asFloat(ids.name)
        return node("Not", [node("Equal", [values, scalar(0)])])
    }

    /// The masks of several inputs combined as the runtime's merge layers combine them
    /// (`combinedMask`): a step is kept only where every masked input keeps it.
    mutating func combinedMask(_ inputs: [ONNXValue]) -> String? {
        let masks = inputs.compactMap(\.mask)
        guard let first = masks.first else { return nil }
        return masks.dropFirst().reduce(first) { node("And", [$0, $1]) }
    }

    /// A mask given to a call explicitly (`mask=`, Keras 3's operation nodes): nonzero is kept,
    /// as the runtime reads it; a boolean model input is one already.
    mutating func explicitMask(_ value: ONNXValue) -> String {
        guard value.elementType != .bool else { return value.name }
        return node("Cast", [value.name], attributes: [.int("to", Int64(Onnx_TensorProto.DataType.bool.rawValue))])
    }

    /// GlobalAveragePooling1D over a masked [B, T, F] input: Keras averages only the kept steps,
    /// sum(x·m) / sum(m) over time (NaN for a row with none, as the runtime's 0/0).
    mutating func maskedAverage(_ x: String, mask: String, keepDims: Bool) -> ONNXValue {
        let weights = node("Unsqueeze", [asFloat(mask), ints([-1])])
        let keep = ONNXAttribute.int("keepdims", keepDims ? 1 : 0)
        let total = node("ReduceSum", [node("Mul", [x, weights]), ints([1])], attributes: [keep])
        let count = node("ReduceSum", [weights, ints([1])], attributes: [keep])
        return ONNXValue(name: node("Div", [total, count]))
    }
}

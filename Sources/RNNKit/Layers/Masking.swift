/// Keras `Masking`: passes its input through and masks every time step whose features all
/// equal `mask_value`, so that recurrent layers skip it.
public struct Masking: LayerDefinition {
    public static let className = "Masking"
    public var maskValue: Float

    public init(config: KerasConfig) throws {
        maskValue = Float(try config.double("mask_value", default: 0))
    }

    public func outputShapes(for inputs: [Shape]) throws -> [Shape] {
        let shape = try ShapeCheck.single(inputs, Self.className)
        try ShapeCheck.rank(shape, 3, Self.className)
        return [shape]
    }

    public func kerasConfig() -> JSONObject { JSONObject([("mask_value", .float(maskValue))]) }

    /// A step is masked when all its features equal `mask_value`; masked steps output zeros.
    public func forward(_ inputs: [LayerValue], weights: [String: Tensor]) throws -> [LayerValue] {
        var tensor = inputs[0].tensor
        let features = tensor.shape[2]
        var mask = [Bool](repeating: false, count: tensor.rowCount)
        for step in mask.indices {
            let range = step * features..<(step + 1) * features
            mask[step] = tensor.scalars[range].contains { $0 != maskValue }
            if !mask[step] { tensor.scalars.replaceSubrange(range, with: repeatElement(0, count: features)) }
        }
        return [LayerValue(tensor, mask: mask)]
    }
}

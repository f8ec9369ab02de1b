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
}

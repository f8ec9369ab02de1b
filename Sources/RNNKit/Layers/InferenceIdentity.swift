/// Layers that only act in training (Dropout, SpatialDropout1D, GaussianNoise): identity at
/// inference. Their shared shape rule and config live here, one type per Keras class.
public protocol InferenceIdentityLayer: LayerDefinition {
    static var parameterKey: String { get }
    var parameter: Double { get }
    init(parameter: Double)
}

extension InferenceIdentityLayer {
    public init(config: KerasConfig) throws {
        self.init(parameter: try config.double(Self.parameterKey, default: 0))
    }

    public func outputShapes(for inputs: [Shape]) throws -> [Shape] {
        [try ShapeCheck.single(inputs, Self.className)]
    }

    public func kerasConfig() -> JSONObject { JSONObject([(Self.parameterKey, .double(parameter))]) }

    public func forward(_ inputs: [LayerValue], weights: [String: Tensor]) throws -> [LayerValue] { inputs }
}

public struct Dropout: InferenceIdentityLayer {
    public static let className = "Dropout"
    public static let parameterKey = "rate"
    public var parameter: Double
    public init(parameter: Double) { self.parameter = parameter }
}

public struct SpatialDropout1D: InferenceIdentityLayer {
    public static let className = "SpatialDropout1D"
    public static let parameterKey = "rate"
    public var parameter: Double
    public init(parameter: Double) { self.parameter = parameter }
}

public struct GaussianNoise: InferenceIdentityLayer {
    public static let className = "GaussianNoise"
    public static let parameterKey = "stddev"
    public var parameter: Double
    public init(parameter: Double) { self.parameter = parameter }
}

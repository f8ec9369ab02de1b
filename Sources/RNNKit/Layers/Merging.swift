/// Keras `Concatenate` along `axis` (default the last).
public struct Concatenate: LayerDefinition {
    public static let className = "Concatenate"
    public var axis: Int

    public init(config: KerasConfig) throws { axis = try config.int("axis", default: -1) }

    public func outputShapes(for inputs: [Shape]) throws -> [Shape] {
        guard inputs.count >= 2, let rank = inputs.first?.count else {
            throw RNNKitError(.invalidModel, "Concatenate takes at least 2 inputs, got \(inputs.count)")
        }
        let resolved = axis < 0 ? rank + axis : axis
        guard resolved >= 1, resolved < rank, inputs.allSatisfy({ $0.count == rank }) else {
            throw RNNKitError(.invalidModel, "Concatenate axis \(axis) does not fit inputs \(inputs.map(formatShape))")
        }
        var output = inputs[0]
        for shape in inputs.dropFirst() {
            for index in 1..<rank where index != resolved && !dimensionsAgree(output[index], shape[index]) {
                throw RNNKitError(.invalidModel,
                                  "Concatenate inputs disagree outside axis \(axis): \(inputs.map(formatShape))")
            }
            if let sum = output[resolved], let add = shape[resolved] {
                output[resolved] = sum + add
            } else {
                output[resolved] = nil
            }
        }
        return [output]
    }

    public func kerasConfig() -> JSONObject { JSONObject([("axis", .int(axis))]) }
}

/// Keras `Add`: element-wise sum of inputs of one shape.
public struct Add: LayerDefinition {
    public static let className = "Add"

    public init(config: KerasConfig) throws {}

    public func outputShapes(for inputs: [Shape]) throws -> [Shape] {
        guard inputs.count >= 2 else {
            throw RNNKitError(.invalidModel, "Add takes at least 2 inputs, got \(inputs.count)")
        }
        var output = inputs[0]
        for shape in inputs.dropFirst() {
            guard shape.count == output.count, zip(shape, output).allSatisfy(dimensionsAgree) else {
                throw RNNKitError(.invalidModel, "Add inputs have different shapes: \(inputs.map(formatShape))")
            }
            output = zip(output, shape).map { $0 ?? $1 }
        }
        return [output]
    }

    public func kerasConfig() -> JSONObject { JSONObject() }
}

/// Two dimensions agree when equal or when either is unknown until run time.
func dimensionsAgree(_ a: Int?, _ b: Int?) -> Bool {
    a == nil || b == nil || a == b
}

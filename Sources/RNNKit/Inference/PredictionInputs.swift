/// Matching arrays read from data files to a model's inputs, with their element types checked.
public enum PredictionInputs {
    /// Arrays named after the model's inputs go to those inputs; otherwise they are taken in
    /// order. Token-id inputs take integer arrays only; other inputs any numeric array.
    public static func arrange(_ arrays: [NamedTensor], for specs: [Predictor.InputSpec]) throws -> [Tensor] {
        let names = Set(arrays.map(\.name))
        let byName = specs.allSatisfy { names.contains($0.name) } && arrays.count == specs.count
        guard arrays.count == specs.count else {
            throw RNNKitError(.badUsage, "the model takes \(specs.count) input(s) "
                              + "(\(specs.map(\.name).joined(separator: ", "))), got \(arrays.count) array(s)")
        }
        return try specs.enumerated().map { position, spec in
            let array = byName ? arrays.first { $0.name == spec.name }! : arrays[position]
            if spec.takesTokenIDs && !array.elementType.isInteger {
                throw RNNKitError(.badUsage,
                                  "input '\(spec.name)' takes integer token ids, got \(array.elementType.rawValue) data")
            }
            return array.tensor
        }
    }
}

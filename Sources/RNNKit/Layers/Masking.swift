/// Keras `Masking`: passes its input through and masks every time step whose features all
/// equal `mask_value`, so that recurrent layers skip it.
struct Masking: Equatable, Sendable {
    var maskValue: Float

    /// A step is masked when all its features equal `mask_value`; masked steps output zeros.
    func forward(_ input: LayerValue) -> LayerValue {
        var tensor = input.tensor
        let features = tensor.shape[2]
        var mask = [Bool](repeating: false, count: tensor.rowCount)
        for step in mask.indices {
            let range = step * features..<(step + 1) * features
            mask[step] = tensor.scalars[range].contains { $0 != maskValue }
            if !mask[step] { tensor.scalars.replaceSubrange(range, with: repeatElement(0, count: features)) }
        }
        return LayerValue(tensor, mask: mask)
    }
}

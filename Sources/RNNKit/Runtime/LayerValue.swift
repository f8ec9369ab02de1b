/// A tensor flowing between layers at inference, with the Keras mask that rides along with it:
/// `mask[b * T + t]` is false where time step t of batch row b is padding.
struct LayerValue: Sendable {
    var tensor: Tensor
    var mask: [Bool]?

    init(_ tensor: Tensor, mask: [Bool]? = nil) {
        self.tensor = tensor
        self.mask = mask
    }
}

/// Masks of several inputs combined as Keras's merge layers do: a step is kept only where
/// every input keeps it.
func combinedMask(_ values: [LayerValue]) -> [Bool]? {
    let masks = values.compactMap(\.mask)
    guard var combined = masks.first else { return nil }
    for mask in masks.dropFirst() where mask.count == combined.count {
        for index in combined.indices { combined[index] = combined[index] && mask[index] }
    }
    return combined
}

extension Tensor {
    /// The number of rows when the last axis is taken as the row width.
    var rowCount: Int { shape.last.map { $0 == 0 ? 0 : count / $0 } ?? 1 }
}

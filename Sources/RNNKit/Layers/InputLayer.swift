/// Keras `InputLayer`: declares a model input's shape (batch included) and dtype.
struct InputLayer: Equatable, Sendable {
    var batchShape: Shape
    /// "float32" or an integer type for token ids.
    var dtype: String = "float32"

    var takesTokenIDs: Bool { dtype.hasPrefix("int") || dtype.hasPrefix("uint") }
}

/// A tensor shape as Keras reports it: `nil` for an unknown dimension (the batch, or a time
/// axis declared as `None`).
public typealias Shape = [Int?]

/// The largest size RNNKit accepts for one dimension read from a file. Real recurrent models
/// are far below it; anything above is a corrupt or hostile file, refused before allocation.
let maximumDimension = 1 << 24

extension Array where Element == Int? {
    /// The concrete dimensions, or nil when any is unknown.
    var concrete: [Int]? {
        var result: [Int] = []
        for dimension in self {
            guard let dimension else { return nil }
            result.append(dimension)
        }
        return result
    }
}

/// A shape as JSON, as Keras writes it: `[null, 4, 5]`.
func shapeJSON(_ shape: Shape) -> JSONValue {
    .array(shape.map { $0.map(JSONValue.int) ?? .null })
}

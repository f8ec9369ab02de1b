import Synchronization

/// What one layer call derives from its bound weights before any maths: its recurrent cells'
/// weights (kernels packed, biases split) or Dense's packed kernel and bias. A predictor keeps
/// one per call, so that only its first prediction looks the weights up by name and in the
/// packed-matrix cache; the rest find them made (a prediction of a small model is a couple of
/// microseconds). Predictions on several threads may make them at once: each uses what it
/// made, and one of them is kept.
final class PreparedWeights: Sendable {
    private enum Form: Sendable {
        case cells([CellWeights])
        case affine(AffineWeights)
    }

    private let form = Mutex<Form?>(nil)

    /// The weights of the layer's cells, in order, made by `make` the first time.
    func cells(_ make: () throws -> [CellWeights]) rethrows -> [CellWeights] {
        if case .cells(let cells) = form.withLock({ $0 }) { return cells }
        let cells = try make()
        form.withLock { $0 = .cells(cells) }
        return cells
    }

    /// Dense's packed kernel and bias, made by `make` the first time.
    func affine(_ make: () throws -> AffineWeights) rethrows -> AffineWeights {
        if case .affine(let affine) = form.withLock({ $0 }) { return affine }
        let affine = try make()
        form.withLock { $0 = .affine(affine) }
        return affine
    }
}

/// A kernel [I, N] packed for the product, and its bias [N] (nil without one).
struct AffineWeights: Sendable {
    var kernel: PackedMatrix
    var bias: [Float]?
}

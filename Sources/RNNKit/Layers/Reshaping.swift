/// Keras `RepeatVector`: [B, F] to [B, n, F], the same vector at every step.
struct RepeatVector: Equatable, Sendable {
    var count: Int

    func outputShapes(for inputs: [Shape]) throws -> [Shape] {
        let shape = try ShapeCheck.rank(ShapeCheck.single(inputs, "RepeatVector"), 2, "RepeatVector")
        return [[shape[0], count, shape[1]]]
    }

    func forward(_ value: LayerValue) -> LayerValue {
        let input = value.tensor
        let batch = input.shape[0], features = input.shape[1]
        var scalars: [Float] = []
        scalars.reserveCapacity(batch * count * features)
        for row in 0..<batch {
            let vector = input.scalars[row * features..<(row + 1) * features]
            for _ in 0..<count { scalars += vector }
        }
        return LayerValue(Tensor(shape: [batch, count, features], scalars: scalars))
    }
}

/// Keras `Flatten` (channels_last): [B, d1, d2, ...] to [B, d1·d2·...]; the dimensions must be known.
enum Flatten {
    static func outputShapes(for inputs: [Shape]) throws -> [Shape] {
        let shape = try ShapeCheck.single(inputs, "Flatten")
        guard shape.count >= 2, let inner = Array(shape.dropFirst()).concrete,
              let size = Tensor.checkedElementCount(inner), size <= maximumDimension
        else {
            throw RNNKitError(.invalidModel, "Flatten needs known dimensions, got \(formatShape(shape))")
        }
        return [[shape[0], size]]
    }

    static func forward(_ value: LayerValue) -> LayerValue {
        let input = value.tensor
        let batch = input.shape[0]
        return LayerValue(input.reshaped([batch, batch == 0 ? 0 : input.count / batch]))
    }
}

/// Keras `Reshape`: [B, ...] to [B] + target_shape, one dimension of which may be -1 (inferred).
/// The mask is dropped, as Keras 3 does.
struct Reshape: Equatable, Sendable {
    var targetShape: [Int]

    func outputShapes(for inputs: [Shape]) throws -> [Shape] {
        let shape = try ShapeCheck.single(inputs, "Reshape")
        guard let inner = Array(shape.dropFirst()).concrete, let size = Tensor.checkedElementCount(inner) else {
            // An unknown input size leaves the inferred dimension unknown.
            return [[shape.first ?? nil] + targetShape.map { $0 < 0 ? nil : $0 }]
        }
        return [[shape.first ?? nil] + (try resolved(size: size, input: shape))]
    }

    /// The target shape with its -1 filled in for `size` values per sample.
    func resolved(size: Int, input: Shape) throws -> [Int] {
        let known = targetShape.filter { $0 >= 0 }.reduce(1, *)
        var result = targetShape
        if let inferred = targetShape.firstIndex(of: -1) {
            guard known > 0, size % known == 0 else {
                throw RNNKitError(.invalidModel, "Reshape cannot fit \(formatShape(input)) into \(formatShape(targetShape))")
            }
            result[inferred] = size / known
        } else if known != size {
            throw RNNKitError(.invalidModel, "Reshape cannot fit \(formatShape(input)) into \(formatShape(targetShape))")
        }
        return result
    }

    func forward(_ value: LayerValue) throws -> LayerValue {
        let input = value.tensor
        let batch = input.shape[0], size = input.shape.dropFirst().reduce(1, *)
        return LayerValue(input.reshaped([batch] + (try resolved(size: size, input: input.shape))))
    }
}

/// Keras `Permute`: reorders the non-batch axes; `dims` counts them from 1. The mask is dropped,
/// as Keras 3 does.
struct Permute: Equatable, Sendable {
    var dims: [Int]

    func outputShapes(for inputs: [Shape]) throws -> [Shape] {
        let shape = try ShapeCheck.single(inputs, "Permute")
        guard shape.count == dims.count + 1 else {
            throw RNNKitError(.invalidModel, "Permute \(dims) does not fit input shape \(formatShape(shape))")
        }
        return [[shape[0]] + dims.map { shape[$0] }]
    }

    func forward(_ value: LayerValue) -> LayerValue {
        LayerValue(value.tensor.permutingAxes([0] + dims))
    }
}

/// The time-axis reshapers of Keras ([B, T, C] to [B, T', C]; [B, C, T] to [B, C, T'] for a
/// channels_first `ZeroPadding1D`): `ZeroPadding1D`
/// adds zero steps before and after, `Cropping1D` removes steps at both ends, `UpSampling1D`
/// repeats each step `size` times. Masks are dropped, as Keras 3 does.
struct TimeResampling: Equatable, Sendable {
    enum Operation: Equatable, Sendable {
        case zeroPadding(before: Int, after: Int)
        case cropping(before: Int, after: Int)
        case upSampling(size: Int)
    }

    var operation: Operation
    /// Where the steps are: axis 1 ([B, T, C]) or, with channels_first (ZeroPadding1D in Keras 3),
    /// axis 2 ([B, C, T]).
    var dataFormat: DataFormat = .channelsLast

    var className: String {
        switch operation {
        case .zeroPadding: "ZeroPadding1D"
        case .cropping: "Cropping1D"
        case .upSampling: "UpSampling1D"
        }
    }

    /// The output steps for `steps` input steps.
    func outputLength(_ steps: Int) -> Int {
        switch operation {
        case .zeroPadding(let before, let after): steps + before + after
        case .cropping(let before, let after): steps - before - after
        case .upSampling(let size): steps * size
        }
    }

    func outputShapes(for inputs: [Shape]) throws -> [Shape] {
        let given = try ShapeCheck.rank(ShapeCheck.single(inputs, className), 3, className)
        let shape = dataFormat.channelsLast(given)
        guard let steps = shape[1] else { return [given] }
        let length = outputLength(steps)
        guard length > 0, length <= maximumDimension else {
            throw RNNKitError(.invalidModel, "\(className) gives \(length) steps for input shape \(formatShape(given))")
        }
        return [dataFormat.fromChannelsLast([shape[0], length, shape[2]])]
    }

    /// The input step that output step `t` copies, or nil for a zero step.
    private func source(_ t: Int) -> Int? {
        switch operation {
        case .zeroPadding(let before, _): t - before
        case .cropping(let before, _): t + before
        case .upSampling(let size): t / size
        }
    }

    func forward(_ value: LayerValue) throws -> LayerValue {
        let input = dataFormat.channelsLast(value.tensor)
        let batch = input.shape[0], steps = input.shape[1], channels = input.shape[2]
        let length = outputLength(steps)
        guard length >= 0 else {
            throw RNNKitError(.badUsage, "\(className): \(steps) step(s) are too few")
        }
        var scalars = [Float](repeating: 0, count: batch * length * channels)
        for b in 0..<batch {
            for t in 0..<length {
                guard let step = source(t), step >= 0, step < steps else { continue }
                let from = (b * steps + step) * channels, to = (b * length + t) * channels
                for c in 0..<channels { scalars[to + c] = input.scalars[from + c] }
            }
        }
        return LayerValue(dataFormat.fromChannelsLast(Tensor(shape: [batch, length, channels], scalars: scalars)))
    }
}

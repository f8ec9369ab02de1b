import Foundation

/// Timing a model's predictions on random inputs, for `rnnkit bench` and the peer comparison in
/// Benchmarks/. Medians, not means: these machines are shared.
public enum Benchmark {
    public struct Result: Sendable {
        public var medianMilliseconds: Double
        public var minimumMilliseconds: Double
        public var maximumMilliseconds: Double
        /// Floating-point operations per prediction (multiply-adds count two).
        public var flops: Double
        public var runs: Int
        public var peakResidentBytes: Int

        public var gigaflopsPerSecond: Double { flops / (medianMilliseconds * 1e6) }
    }

    /// Warms up, then times predictions until at least `minimumRuns` ran and `minimumSeconds` passed.
    public static func run(_ predictor: Predictor, batch: Int, steps: Int, minimumRuns: Int = 10,
                           minimumSeconds: Double = 1, maximumRuns: Int = 10_000) throws -> Result {
        let inputs = try randomInputs(for: predictor, batch: batch, steps: steps)
        for _ in 0..<3 { _ = try predictor.predict(inputs) }
        var times: [Double] = []
        let start = DispatchTime.now().uptimeNanoseconds
        while times.count < maximumRuns
            && (times.count < minimumRuns || Double(DispatchTime.now().uptimeNanoseconds - start) < minimumSeconds * 1e9) {
            let before = DispatchTime.now().uptimeNanoseconds
            _ = try predictor.predict(inputs)
            times.append(Double(DispatchTime.now().uptimeNanoseconds - before) / 1e6)
        }
        times.sort()
        return Result(medianMilliseconds: times[times.count / 2], minimumMilliseconds: times[0],
                      maximumMilliseconds: times[times.count - 1],
                      flops: try flops(of: predictor.model, batch: batch, steps: steps),
                      runs: times.count, peakResidentBytes: peakResidentBytes())
    }

    /// Uniform random inputs of the model's input shapes with `steps` time steps (where the
    /// time axis is free), token ids for Embedding inputs.
    public static func randomInputs(for predictor: Predictor, batch: Int, steps: Int) throws -> [Tensor] {
        let vocabulary = predictor.model.layers.compactMap { ($0.definition as? Embedding)?.inputDim }.min() ?? 2
        var generator = SystemRandomNumberGenerator()
        return try predictor.inputSpecs.map { spec in
            let shape = try concreteShape(spec.shape, batch: batch, steps: steps, input: spec.name)
            let count = shape.reduce(1, *)
            let scalars: [Float] = spec.takesTokenIDs
                ? (0..<count).map { _ in Float(Int.random(in: 0..<vocabulary, using: &generator)) }
                : (0..<count).map { _ in Float.random(in: -1...1, using: &generator) }
            return Tensor(shape: shape, scalars: scalars)
        }
    }

    /// Floating-point operations of one prediction: the multiplies of recurrent and dense layers.
    public static func flops(of model: Model, batch: Int, steps: Int) throws -> Double {
        var concrete = model
        for index in concrete.layers.indices {
            guard let input = concrete.layers[index].definition as? InputLayer else { continue }
            let shape = try concreteShape(input.batchShape, batch: batch, steps: steps, input: concrete.layers[index].name)
            concrete.layers[index].definition = InputLayer(batchShape: shape, dtype: input.dtype)
        }
        let analysis = GraphAnalysis(concrete)
        var total = 0.0
        for (index, layer) in concrete.layers.enumerated() {
            guard let shapes = analysis.inputShapes(ofLayer: index, in: concrete), let input = shapes.first?.concrete
            else { continue }
            let rows = Double(input.dropLast().reduce(1, *))
            func recurrentFlops(_ layer: any RecurrentLayerDefinition) -> Double {
                let inputDim = Double(input.last ?? 0), units = Double(layer.options.units)
                return 2 * rows * (inputDim + units) * Double(type(of: layer).gateCount) * units
            }
            switch layer.definition {
            case let recurrent as any RecurrentLayerDefinition: total += recurrentFlops(recurrent)
            case let wrapper as Bidirectional: total += recurrentFlops(wrapper.forward) + recurrentFlops(wrapper.backward)
            case let dense as Dense: total += 2 * rows * Double(input.last ?? 0) * Double(dense.units)
            case let wrapper as TimeDistributed: total += 2 * rows * Double(input.last ?? 0) * Double(wrapper.inner.units)
            default: break
            }
        }
        return total
    }

    static func concreteShape(_ shape: Shape, batch: Int, steps: Int, input: String) throws -> [Int] {
        try shape.enumerated().map { axis, dimension in
            if axis == 0 { return batch }
            if let dimension { return dimension }  // a fixed length wins over `steps`
            guard axis == 1 else {
                throw RNNKitError(.badUsage, "input '\(input)' has an unknown dimension \(axis)")
            }
            return steps
        }
    }

    static func peakResidentBytes() -> Int {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return usage.ru_maxrss * 1024
    }
}

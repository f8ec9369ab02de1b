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

    /// What opening a model costs, next to reading its files' bytes.
    public struct Loading: Sendable {
        /// Reading every file whole into freshly allocated memory (the page cache warm, as for
        /// the load).
        public var readMilliseconds: Double
        /// Loading the model from the same files.
        public var loadMilliseconds: Double
        /// The most memory the load added at any moment, over what the process held before
        /// (nil where the kernel cannot reset its peak counter).
        public var peakAddedBytes: Int?
        /// The model's weights as float32.
        public var weightBytes: Int
    }

    /// Times `load` (which opens `files`) against reading the same files' bytes, `repetitions`
    /// times each, and reports the medians and the largest peak; returns the model too, so that
    /// it need not be loaded again.
    public static func measureLoading(of files: [String], repetitions: Int = 3, _ load: () throws -> Model) throws
        -> (model: Model, loading: Loading) {
        func readAll() throws {
            for file in files {
                let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: file))
                defer { try? handle.close() }
                let size = Int(try handle.seekToEnd())
                let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(size, 1), alignment: 64)
                defer { buffer.deallocate() }
                var done = 0
                while done < size {
                    let count = pread(handle.fileDescriptor, buffer.baseAddress! + done, size - done, off_t(done))
                    guard count > 0 else { break }
                    done += count
                }
            }
        }
        func milliseconds(since start: UInt64) -> Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6 }
        try readAll()  // warms the page cache for both measurements
        var reads: [Double] = [], loads: [Double] = [], peaks: [Int] = []
        var model: Model?
        for _ in 0..<max(1, repetitions) {
            model = nil  // freed before the next load is measured
            let readStart = DispatchTime.now().uptimeNanoseconds
            try readAll()
            reads.append(milliseconds(since: readStart))
            let baseline = ProcessMemory.resetPeak() ? ProcessMemory.value(of: "VmRSS") : nil
            let loadStart = DispatchTime.now().uptimeNanoseconds
            model = try load()
            loads.append(milliseconds(since: loadStart))
            if let baseline, let peak = ProcessMemory.value(of: "VmHWM") { peaks.append(max(0, peak - baseline)) }
        }
        let loaded = model!
        let weightBytes = loaded.layers.reduce(0) { total, layer in
            total + layer.weights.values.reduce(0) { $0 + $1.scalars.count * MemoryLayout<Float>.size }
        }
        return (loaded, Loading(readMilliseconds: reads.sorted()[reads.count / 2],
                                loadMilliseconds: loads.sorted()[loads.count / 2],
                                peakAddedBytes: peaks.max(), weightBytes: weightBytes))
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
        let vocabulary = predictor.model.layers.compactMap { layer -> Int? in
            guard case .embedding(let embedding)? = layer.kind else { return nil }
            return embedding.inputDim
        }.min() ?? 2
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
            guard let input = concrete.layers[index].kind?.inputLayer else { continue }
            let shape = try concreteShape(input.batchShape, batch: batch, steps: steps, input: concrete.layers[index].name)
            concrete.layers[index].kind = .input(InputLayer(batchShape: shape, dtype: input.dtype))
        }
        let analysis = GraphAnalysis(concrete)
        var total = 0.0
        for (index, layer) in concrete.layers.enumerated() {
            guard let shapes = analysis.inputShapes(ofLayer: index, in: concrete), let input = shapes.first?.concrete
            else { continue }
            let rows = Double(input.dropLast().reduce(1, *))
            func recurrentFlops(_ layer: RecurrentLayer) -> Double {
                let inputDim = Double(input.last ?? 0), units = Double(layer.options.units)
                return 2 * rows * (inputDim + units) * Double(layer.cell.gateCount) * units
            }
            switch layer.kind {
            case .recurrent(let recurrent)?: total += recurrentFlops(recurrent)
            case .bidirectional(let wrapper)?: total += recurrentFlops(wrapper.forward) + recurrentFlops(wrapper.backward)
            case .dense(let dense)?: total += 2 * rows * Double(input.last ?? 0) * Double(dense.units)
            case .timeDistributed(let wrapper)?: total += 2 * rows * Double(input.last ?? 0) * Double(wrapper.inner.units)
            case .input?, .embedding?, .masking?, .dropout?, .spatialDropout1D?, .gaussianNoise?, .activation?,
                 .repeatVector?, .flatten?, .concatenate?, .add?, .globalAveragePooling1D?, .globalMaxPooling1D?, nil:
                break
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

    /// Linux's accounting of this process's memory, in /proc/self.
    enum ProcessMemory {
        /// Resets the peak resident size (VmHWM) to the current one; false where unsupported.
        static func resetPeak() -> Bool {
            (try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)) != nil
        }

        /// A `Vm…` line of /proc/self/status, in bytes.
        static func value(of key: String) -> Int? {
            guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
                  let line = status.split(separator: "\n").first(where: { $0.hasPrefix(key + ":") }),
                  let kilobytes = Int(line.split(separator: " ").dropFirst().first ?? "")
            else { return nil }
            return kilobytes * 1024
        }
    }

    static func peakResidentBytes() -> Int {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return usage.ru_maxrss * 1024
    }
}

import Foundation
import RNNKit

/// Timing a model's predictions on random inputs, for `rnnkit bench` and the peer comparison in
/// Benchmarks/ (through `rnnkit bench --json`). Medians, not means: these machines are shared.
enum Benchmark {
    struct Result: Sendable {
        var medianMilliseconds: Double
        var minimumMilliseconds: Double
        var maximumMilliseconds: Double
        /// Floating-point operations per prediction (multiply-adds count two).
        var flops: Double
        var runs: Int
        var peakResidentBytes: Int

        var gigaflopsPerSecond: Double { flops / (medianMilliseconds * 1e6) }
    }

    /// What opening a model costs, next to reading its files' bytes.
    struct Loading: Sendable {
        /// Reading every file whole into freshly allocated memory (the page cache warm, as for
        /// the load).
        var readMilliseconds: Double
        /// Loading the model from the same files.
        var loadMilliseconds: Double
        /// The most memory the load added at any moment, over what the process held before
        /// (nil where the kernel cannot reset its peak counter).
        var peakAddedBytes: Int?
        /// The model's weights as float32.
        var weightBytes: Int
    }

    /// Times `load` (which opens `files`) against reading the same files' bytes, `repetitions`
    /// times each, and reports the medians and the largest peak; returns the model too, so that
    /// it need not be loaded again.
    static func measureLoading(of files: [String], repetitions: Int = 3, _ load: () throws -> Model) throws
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

    /// Runs `body` and returns the most memory the process held meanwhile over what it held
    /// before (nil where the kernel cannot reset its peak counter).
    static func measurePeak<Result>(_ body: () throws -> Result) rethrows -> (Result, Int?) {
        let baseline = ProcessMemory.resetPeak() ? ProcessMemory.value(of: "VmRSS") : nil
        let result = try body()
        guard let baseline, let peak = ProcessMemory.value(of: "VmHWM") else { return (result, nil) }
        return (result, max(0, peak - baseline))
    }

    /// The CPU's model name (/proc/cpuinfo), with its family and model numbers where known.
    static func cpuModel() -> String {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return "unknown" }
        var fields: [String: String] = [:]  // the first processor's
        for line in text.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let key = line[..<colon].trimmingCharacters(in: .whitespaces)
            if fields[key] == nil { fields[key] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces) }
        }
        let name = fields["model name"] ?? "unknown"
        guard let family = fields["cpu family"], let model = fields["model"] else { return name }
        return "\(name) (family \(family), model \(model))"
    }

    /// Warms up, then times predictions until at least `minimumRuns` ran and `minimumSeconds` passed.
    static func run(_ predictor: Predictor, batch: Int, steps: Int, minimumRuns: Int = 10,
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
                      flops: try predictor.flops(batch: batch, steps: steps),
                      runs: times.count, peakResidentBytes: peakResidentBytes())
    }

    /// One layer call's median time over several predictions.
    struct LayerTime: Encodable, Sendable {
        var name: String, className: String, medianMs: Double

        enum CodingKeys: String, CodingKey { case name, className = "class_name", medianMs = "median_ms" }
    }

    /// The median time of each layer call over `runs` predictions (after the timed runs, so warm).
    static func layerTimes(_ predictor: Predictor, batch: Int, steps: Int, runs: Int = 10) throws -> [LayerTime] {
        let inputs = try randomInputs(for: predictor, batch: batch, steps: steps)
        let samples = try (0..<runs).map { _ in try predictor.layerTimes(inputs) }
        return samples[0].indices.map { index in
            let times = samples.map { $0[index].milliseconds }.sorted()
            return LayerTime(name: samples[0][index].layer, className: samples[0][index].className,
                             medianMs: times[times.count / 2])
        }
    }

    /// Uniform random inputs of the model's input shapes with `steps` time steps (where the
    /// time axis is free), token ids for Embedding inputs.
    static func randomInputs(for predictor: Predictor, batch: Int, steps: Int) throws -> [Tensor] {
        let vocabulary = predictor.tokenIDLimit ?? 2
        var generator = SystemRandomNumberGenerator()
        return try predictor.inputSpecs.map { spec in
            let shape = try spec.concreteShape(batch: batch, steps: steps)
            let count = shape.reduce(1, *)
            let scalars: [Float] = spec.takesTokenIDs
                ? (0..<count).map { _ in Float(Int.random(in: 0..<vocabulary, using: &generator)) }
                : (0..<count).map { _ in Float.random(in: -1...1, using: &generator) }
            return Tensor(shape: shape, scalars: scalars)
        }
    }

    static func peakResidentBytes() -> Int {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return usage.ru_maxrss * 1024
    }
}

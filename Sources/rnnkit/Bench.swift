import ArgumentParser
import RNNKit

extension RNNKitCommand {
    struct Bench: ParsableCommand, ReadsModelFiles {
        static let configuration = CommandConfiguration(
            abstract: "Time predictions on random inputs: median, min and max ms, GFLOP/s, peak memory; and the load.",
            discussion: "Compare with other runtimes in the same run: see Benchmarks/README.md.")

        @OptionGroup var model: ModelArguments

        // Unconditional, so that a negative count is reported as such, not as a missing value.
        @Option(parsing: .unconditional, help: "Batch size.")
        var batch = 1

        @Option(parsing: .unconditional, help: "Time steps (where the model's time axis is free).")
        var steps = 100

        @Option(parsing: .unconditional, help: "Threads; a recurrent layer's batch rows are split among them.")
        var threads = 1

        @Flag(help: "Also time each layer call (medians of 10 predictions): where the time goes.")
        var layers = false

        @Flag(help: "Print JSON.")
        var json = false

        func validate() throws {
            try requirePositive(batch, option: "--batch", counting: "sequences")
            try requirePositive(steps, option: "--steps", counting: "steps")
            try requirePositive(threads, option: "--threads", counting: "threads")
        }

        func run() throws {
            Predictor.threadCount = threads
            let (loaded, loading) = try Benchmark.measureLoading(of: model.files) { try model.load() }
            let predictor = try Predictor(loaded)
            let (result, predictorPeak) = try Benchmark.measurePeak {
                try Benchmark.run(predictor, batch: batch, steps: steps)
            }
            let layerTimes = layers ? try Benchmark.layerTimes(predictor, batch: batch, steps: steps) : nil
            if json {
                try printJSON(Report(
                    medianMs: result.medianMilliseconds, minMs: result.minimumMilliseconds,
                    maxMs: result.maximumMilliseconds, gflops: result.gigaflopsPerSecond, batch: batch, steps: steps,
                    threads: threads, kernel: KernelPath.current.rawValue, cpu: Benchmark.cpuModel(),
                    peakRssBytes: result.peakResidentBytes, predictorPeakAddedBytes: predictorPeak, runs: result.runs,
                    loadMs: loading.loadMilliseconds, readMs: loading.readMilliseconds,
                    loadPeakAddedBytes: loading.peakAddedBytes, weightBytes: loading.weightBytes, layers: layerTimes))
            } else {
                let mebibyte = 1_048_576
                print("""
                    median \(result.medianMilliseconds) ms (min \(result.minimumMilliseconds), \
                    max \(result.maximumMilliseconds)) over \(result.runs) runs; \
                    \(result.gigaflopsPerSecond) GFLOP/s; peak RSS \(result.peakResidentBytes / mebibyte) MiB; \
                    \(KernelPath.current.rawValue) kernels on \(Benchmark.cpuModel()); the predictor added at most \
                    \(predictorPeak.map { "\($0 / mebibyte) MiB" } ?? "unknown")
                    load \(loading.loadMilliseconds) ms (reading the files: \(loading.readMilliseconds) ms); \
                    peak memory added by the load \(loading.peakAddedBytes.map { "\($0 / mebibyte) MiB" } ?? "unknown") \
                    for \(loading.weightBytes / mebibyte) MiB of weights
                    """)
                let total = layerTimes?.reduce(0) { $0 + $1.medianMs } ?? 0
                for time in layerTimes ?? [] {
                    print("  \(time.name) (\(time.className)): \(time.medianMs) ms, "
                          + String(format: "%.1f%%", total > 0 ? 100 * time.medianMs / total : 0))
                }
            }
        }

        /// `bench --json`; keys in snake case, an unknown peak as null.
        struct Report: Encodable {
            var medianMs: Double, minMs: Double, maxMs: Double, gflops: Double
            var batch: Int, steps: Int, threads: Int
            /// The kernel path that ran and the host's CPU model, so that results name both.
            var kernel: String, cpu: String
            var peakRssBytes: Int, predictorPeakAddedBytes: Int?, runs: Int
            var loadMs: Double, readMs: Double, loadPeakAddedBytes: Int?, weightBytes: Int
            /// With `--layers`.
            var layers: [Benchmark.LayerTime]?

            enum CodingKeys: String, CodingKey {
                case medianMs = "median_ms", minMs = "min_ms", maxMs = "max_ms", gflops, batch, steps, threads
                case kernel, cpu, peakRssBytes = "peak_rss_bytes"
                case predictorPeakAddedBytes = "predictor_peak_added_bytes", runs
                case loadMs = "load_ms", readMs = "read_ms", loadPeakAddedBytes = "load_peak_added_bytes"
                case weightBytes = "weight_bytes", layers
            }

            // Written by hand only so that an unknown peak is null rather than left out.
            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encode(medianMs, forKey: .medianMs)
                try container.encode(minMs, forKey: .minMs)
                try container.encode(maxMs, forKey: .maxMs)
                try container.encode(gflops, forKey: .gflops)
                try container.encode(batch, forKey: .batch)
                try container.encode(steps, forKey: .steps)
                try container.encode(threads, forKey: .threads)
                try container.encode(kernel, forKey: .kernel)
                try container.encode(cpu, forKey: .cpu)
                try container.encode(peakRssBytes, forKey: .peakRssBytes)
                try container.encode(predictorPeakAddedBytes, forKey: .predictorPeakAddedBytes)
                try container.encode(runs, forKey: .runs)
                try container.encode(loadMs, forKey: .loadMs)
                try container.encode(readMs, forKey: .readMs)
                try container.encode(loadPeakAddedBytes, forKey: .loadPeakAddedBytes)
                try container.encode(weightBytes, forKey: .weightBytes)
                try container.encodeIfPresent(layers, forKey: .layers)
            }
        }
    }
}

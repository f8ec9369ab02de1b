import ArgumentParser
import RNNKit

extension RNNKitCommand {
    struct Bench: ParsableCommand, ReadsModelFiles {
        static let configuration = CommandConfiguration(
            abstract: "Time predictions on random inputs: median, min and max ms, GFLOP/s, peak memory; and the load.",
            discussion: "Compare with other runtimes in the same run: see Benchmarks/README.md.")

        @OptionGroup var model: ModelArguments
        var modelArguments: ModelArguments { model }

        @Option(help: "Batch size.")
        var batch = 1

        @Option(help: "Time steps (where the model's time axis is free).")
        var steps = 100

        @Option(help: "Threads; a recurrent layer's batch rows are split among them.")
        var threads = 1

        @Flag(help: "Print JSON.")
        var json = false

        func validate() throws {
            guard batch >= 1, steps >= 1, threads >= 1 else {
                throw ValidationError("--batch, --steps and --threads must be at least 1")
            }
        }

        func run() throws {
            Predictor.threadCount = threads
            let (loaded, loading) = try Benchmark.measureLoading(of: model.files) { try model.load() }
            let (result, predictorPeak) = try Benchmark.measurePeak {
                try Benchmark.run(try Predictor(loaded), batch: batch, steps: steps)
            }
            if json {
                printJSON(["median_ms": .double(result.medianMilliseconds), "min_ms": .double(result.minimumMilliseconds),
                           "kernel": .string(KernelPath.current.rawValue), "cpu": .string(Benchmark.cpuModel()),
                           "predictor_peak_added_bytes": predictorPeak.map { .int($0) } ?? .null,
                           "max_ms": .double(result.maximumMilliseconds), "gflops": .double(result.gigaflopsPerSecond),
                           "batch": .int(batch), "steps": .int(steps), "threads": .int(threads),
                           "peak_rss_bytes": .int(result.peakResidentBytes), "runs": .int(result.runs),
                           "load_ms": .double(loading.loadMilliseconds), "read_ms": .double(loading.readMilliseconds),
                           "load_peak_added_bytes": loading.peakAddedBytes.map { .int($0) } ?? .null,
                           "weight_bytes": .int(loading.weightBytes)])
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
            }
        }
    }
}

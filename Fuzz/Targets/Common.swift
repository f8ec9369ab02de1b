import Foundation
@testable import RNNKit

// Shared by every fuzz target (each binary is this file plus one target file).
//
// A target writes the input to a file in a private folder, reads it with RNNKit and checks the
// promises of the issue "hostile and broken model files never crash, hang or lose data":
// - only `RNNKitError` is ever thrown;
// - its description is one line (set RNNKIT_FUZZ_ALLOW_MULTILINE=1 to skip this check);
// - a model with errors is refused by `Predictor`; a valid one predicts on small inputs or
//   refuses with an `RNNKitError`.
// Crashes, hangs (-timeout) and runaway memory (-rss_limit_mb) are libFuzzer's to report.

enum Fuzz {
    /// A private folder for this process's input files.
    static let folder: String = {
        var template = Array((NSTemporaryDirectory() + "/rnnkit-fuzz-XXXXXX").utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        guard let made else { fatalError("cannot create a temporary folder") }
        return String(cString: made)
    }()

    static let checkOneLine = ProcessInfo.processInfo.environment["RNNKIT_FUZZ_ALLOW_MULTILINE"] == nil

    /// The repository's Fixtures folder (for weights files that go with an architecture).
    static let fixtures: String = {
        if let override = ProcessInfo.processInfo.environment["RNNKIT_FIXTURES"] { return override }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Fixtures").path
    }()

    /// Writes the input to `name` in the private folder and returns its path.
    static func write(_ data: UnsafePointer<UInt8>, _ size: Int, as name: String) -> String {
        let path = folder + "/" + name
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { fatalError("cannot write \(path)") }
        var done = 0
        while done < size {
            let n = Foundation.write(fd, data + done, size - done)
            guard n > 0 else { fatalError("cannot write \(path)") }
            done += n
        }
        close(fd)
        return path
    }

    /// Runs `body`, which may throw only `RNNKitError`s with one-line descriptions.
    static func expectingRNNKitErrors(_ what: String, _ body: () throws -> Void) {
        do {
            try body()
        } catch let error as RNNKitError {
            checkLine(error.description, what)
        } catch {
            fatalError("\(what) threw \(type(of: error)), not RNNKitError: \(error)")
        }
    }

    static func checkLine(_ text: String, _ what: String) {
        if checkOneLine && (text.contains("\n") || text.contains("\r")) {
            fatalError("\(what): not one line: \(text.debugDescription)")
        }
    }

    /// The checks every loaded model goes through.
    static func exercise(_ model: Model) {
        for problem in model.problems { checkLine(problem.description, "problem") }
        if !model.errors.isEmpty {
            do {
                _ = try Predictor(model)
                fatalError("Predictor accepted a model with \(model.errors.count) error(s)")
            } catch let error as RNNKitError {
                checkLine(error.description, "Predictor")
            } catch {
                fatalError("Predictor threw \(type(of: error)): \(error)")
            }
            return
        }
        _ = ModelSummary(model)
        expectingRNNKitErrors("predict") {
            let predictor = try Predictor(model)
            // Small inputs: unknown dimensions become 2, and nothing larger than 4096 elements.
            var inputs: [Tensor] = []
            for spec in predictor.inputSpecs {
                let shape = spec.shape.map { $0 ?? 2 }
                let count = shape.reduce(1) { $0.multipliedReportingOverflow(by: max($1, 0)).overflow ? Int.max : $0 * max($1, 0) }
                guard count <= 4096 else { return }
                inputs.append(Tensor(shape: shape, scalars: (0..<count).map { Float($0 % 5) }))
            }
            _ = try predictor.predict(inputs)
        }
    }

    /// Model.load on `path` (with `weights`), then `exercise`.
    static func load(_ path: String, weights: String? = nil) {
        expectingRNNKitErrors("Model.load") {
            exercise(try Model.load(contentsOf: path, weights: weights))
        }
    }
}

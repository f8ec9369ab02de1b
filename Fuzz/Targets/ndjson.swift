import Foundation
@testable import RNNKit

/// The streaming readers of `rnnkit predict`: NDJSON line by line (stopping at the first bad line,
/// and skipping bad lines), the CSV reader that streams windows across small pieces, and the
/// whole scorer on the simple_rnn fixture with bad lines skipped. Checks: only one-line
/// `RNNKitError`s; every record is a sample or an error naming a line; batches hold the data of
/// their samples; the skipping CSV reader never makes more windows than the stopping one could.
private let predictor: Predictor? = try? Predictor(contentsOf: Fuzz.fixtures + "/simple_rnn/keras3.keras")

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let path = Fuzz.write(data, size, as: "input.ndjson")
    let csv = Fuzz.write(data, size, as: "input.csv")
    var limits = ReadLimits.default
    limits.maxJSONBytes = 1 << 16
    limits.maxCSVBytes = 1 << 12
    for skipping in [false, true] {
        Fuzz.expectingRNNKitErrors("NDJSONSource(skipping: \(skipping))") {
            let source = try NDJSONSource(file: path, skipping: skipping, limits: limits, check: { _ in })
            while let batch = try source.next(3) {
                check(batch)
            }
        }
        Fuzz.expectingRNNKitErrors("CSVSource(window: 3, skipping: \(skipping))") {
            let source = try CSVSource(file: csv, layout: .timeSteps, window: 3, skipping: skipping, limits: limits,
                                       pieceSize: 7)
            while let batch = try source.next(4) {
                check(batch)
            }
        }
    }
    if let predictor {
        var options = BatchScorer.Options()
        options.onError = .skip
        options.limits = limits
        Fuzz.expectingRNNKitErrors("BatchScorer.score(.ndjson)") {
            let scorer = try BatchScorer(predictor, options: options)
            try scorer.score([path], as: .ndjson, to: .file(Fuzz.folder + "/out.ndjson"), replacing: true)
        }
    }
    return 0
}

/// A batch's arrays hold exactly its samples, and its errors name a line.
private func check(_ batch: SourceBatch) {
    precondition(!batch.records.isEmpty, "an empty batch instead of the end")
    for array in batch.arrays {
        precondition(array.tensor.shape.first == batch.sampleCount, "the arrays do not hold the batch's samples")
        precondition(array.tensor.scalars.count == array.tensor.shape.reduce(1, *), "shape and data disagree")
    }
    for case .error(let line, let error) in batch.records {
        precondition(line >= 1, "an error record without a line: \(error)")
        Fuzz.checkLine(error.description, "error record")
    }
}

import Foundation
import RNNKit

/// Dynamic batching for one model: predictions that arrive within `window` of the first one
/// waiting (or until `maxRows` rows wait) are stacked along the batch axis, run as one batch on
/// a worker thread, and split back. Only requests whose inputs agree beyond the batch axis (the
/// same sequence length) go into one batch.
///
/// Workers are plain threads, not tasks: a prediction is seconds of CPU at worst, and Swift's
/// cooperative pool and the event loops must stay free to read and answer requests meanwhile.
final class Batcher: @unchecked Sendable {
    struct Job {
        var inputs: [Tensor]
        var rows: Int
        /// The inputs' shapes without their batch axis: jobs batch together only when equal.
        var key: [[Int]]
        var arrival: DispatchTime
        var continuation: CheckedContinuation<[Tensor], any Error>
    }

    let predictor: Predictor
    let window: DispatchTimeInterval
    let windowNanoseconds: UInt64
    let maxRows: Int
    /// Called with the number of rows of every batch run (the batch-size histogram).
    let onBatch: @Sendable (Int) -> Void
    /// Guards `pending` and `stopped`; workers wait on it.
    private let condition = NSCondition()
    private var pending: [Job] = []
    private var stopped = false
    private var workers: [Thread] = []

    init(predictor: Predictor, windowMicroseconds: Int, maxRows: Int, threads: Int,
         onBatch: @escaping @Sendable (Int) -> Void) {
        self.predictor = predictor
        self.windowNanoseconds = UInt64(max(0, windowMicroseconds)) * 1000
        self.window = .microseconds(max(0, windowMicroseconds))
        self.maxRows = max(1, maxRows)
        self.onBatch = onBatch
        for index in 0..<max(1, threads) {
            // The thread keeps the batcher alive until `stop()`.
            let worker = Thread { self.work() }
            worker.name = "rnnkit-batcher-\(index)"
            workers.append(worker)
            worker.start()
        }
    }

    /// Lets the workers finish what is queued, then end. Later predictions fail.
    func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
    }

    /// Runs `inputs` (checked against the model's inputs) in the next batch.
    func predict(_ inputs: [Tensor]) async throws -> [Tensor] {
        let rows = inputs.first?.shape.first ?? 0
        let key = inputs.map { Array($0.shape.dropFirst()) }
        return try await withCheckedThrowingContinuation { continuation in
            condition.lock()
            if stopped {
                condition.unlock()
                continuation.resume(throwing: ServeError(status: 503, "the server is shutting down"))
                return
            }
            pending.append(Job(inputs: inputs, rows: rows, key: key, arrival: .now(), continuation: continuation))
            condition.signal()
            condition.unlock()
        }
    }

    private func work() {
        condition.lock()
        while true {
            while pending.isEmpty && !stopped { condition.wait() }
            if pending.isEmpty && stopped { break }
            // Wait for more rows until the oldest request has waited a whole window.
            let deadline = pending[0].arrival + window
            while !stopped && !pending.isEmpty && pendingRows(like: pending[0].key) < maxRows {
                // Read the clock once: the deadline may pass between two readings.
                let now = DispatchTime.now().uptimeNanoseconds, end = deadline.uptimeNanoseconds
                guard now < end else { break }
                _ = condition.wait(until: Date(timeIntervalSinceNow: Double(end - now) / 1e9))
            }
            if pending.isEmpty { continue }
            let batch = takeBatch()
            condition.unlock()
            run(batch)
            condition.lock()
        }
        condition.unlock()
    }

    private func pendingRows(like key: [[Int]]) -> Int {
        pending.reduce(0) { $0 + ($1.key == key ? $1.rows : 0) }
    }

    /// The oldest job and those after it of the same shape, up to `maxRows` rows (a job larger
    /// than that runs alone).
    private func takeBatch() -> [Job] {
        let key = pending[0].key
        var batch: [Job] = [], rows = 0, kept: [Job] = []
        for job in pending {
            if job.key == key && (batch.isEmpty || rows + job.rows <= maxRows) {
                batch.append(job)
                rows += job.rows
            } else {
                kept.append(job)
            }
        }
        pending = kept
        return batch
    }

    private func run(_ batch: [Job]) {
        let rows = batch.reduce(0) { $0 + $1.rows }
        onBatch(rows)
        if batch.count == 1 {
            let job = batch[0]
            job.continuation.resume(with: Result { try predictor.predict(job.inputs) })
            return
        }
        do {
            let stacked = (0..<batch[0].inputs.count).map { input in
                var scalars: [Float] = []
                scalars.reserveCapacity(batch.reduce(0) { $0 + $1.inputs[input].count })
                for job in batch { scalars.append(contentsOf: job.inputs[input].scalars) }
                return Tensor(shape: [rows] + batch[0].key[input], scalars: scalars)
            }
            let outputs = try predictor.predict(stacked)
            guard outputs.allSatisfy({ $0.shape.first == rows }) else {
                throw ServeError(status: 500, "a model output has no batch axis; cannot split a batch")
            }
            var start = 0
            for job in batch {
                let parts = outputs.map { output in
                    let rowSize = output.count / rows
                    let scalars = Array(output.scalars[start * rowSize..<(start + job.rows) * rowSize])
                    return Tensor(shape: [job.rows] + output.shape.dropFirst(), scalars: scalars)
                }
                job.continuation.resume(returning: parts)
                start += job.rows
            }
        } catch {
            // One request's bad values (a token id beyond the vocabulary) must not fail the
            // others: run each alone, so that the error goes to the request that caused it.
            for job in batch {
                job.continuation.resume(with: Result { try predictor.predict(job.inputs) })
            }
        }
    }
}

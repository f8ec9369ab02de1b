import Foundation

/// Scores data files of any size through a model, a batch of samples at a time, with memory
/// bounded by the batch, the model and the runtime rather than by the input.
///
/// Inputs are read, cut into windows (CSV with ``Options/window``), run and written in batches
/// of ``Options/batchSize`` samples, on three threads (reading, computing, writing), and the
/// outputs equal those of one ``Predictor/predict(_:)`` over the whole input. CSV and NDJSON
/// (`.ndjson`, `.jsonl`, `-` for standard input) and `.npy` are streamed; `.npz` and `.json` inputs
/// are read whole (within ``ReadLimits``) and served in batches. Outputs stream as well: CSV and
/// NDJSON line by line, `.npy` with its header fixed up at the end, `.npz` and `.json` written at
/// the end; a file is written atomically, so a failed run leaves none.
///
/// Arrays are bound to the model's inputs by ``PredictionInputs``' rules. A bad CSV row or NDJSON
/// line is an error naming its line; with ``ErrorPolicy/skip`` it is reported instead (NDJSON
/// output gets a line `{"line": N, "error": "..."}` in its place) and scoring goes on.
public final class BatchScorer {
    /// What a bad CSV row or NDJSON line does.
    public enum ErrorPolicy: String, CaseIterable, Sendable {
        /// Stop with the error; no output file is left.
        case stop
        /// Report it and go on with the next line.
        case skip
    }

    /// How inputs are read and batched.
    public struct Options: Sendable {
        /// Samples per batch (at least 1).
        public var batchSize = 256
        /// Cut a CSV series into overlapping windows of this many rows (see ``PredictionInputs``).
        public var window: Int?
        /// What a bad CSV row or NDJSON line does.
        public var onError = ErrorPolicy.stop
        /// Refuse NaN and infinite outputs in JSON, NDJSON and CSV rather than writing them
        /// (JSON as `null`).
        public var refuseNonFinite = false
        /// Bounds on what is read: an NDJSON line at most `maxJSONBytes`, a CSV record at most
        /// `maxCSVBytes`, a file read whole as `TensorFile.read` bounds it.
        public var limits = ReadLimits.default

        /// The defaults: batches of 256, no window, stop at the first error.
        public init() {}
    }

    /// How far a run is: samples written and skipped, seconds since it started, and the part of
    /// the input read when known (0...1).
    public struct Progress: Sendable, Equatable {
        /// Samples whose outputs were written.
        public var rows = 0
        /// Lines skipped for errors (``ErrorPolicy/skip``).
        public var skipped = 0
        /// Output values that are NaN or infinite.
        public var nonFinite = 0
        /// Seconds since the run started.
        public var seconds = 0.0
        /// The part of the first input read, when its size is known.
        public var fractionRead: Double?
    }

    /// The predictor it runs.
    public let predictor: Predictor
    /// Its options.
    public let options: Options

    /// A scorer for `predictor`; refuses a batch size below 1.
    public init(_ predictor: Predictor, options: Options = Options()) throws {
        guard options.batchSize >= 1 else {
            throw RNNKitError(.badUsage, "the batch size must be at least 1, not \(options.batchSize)")
        }
        self.predictor = predictor
        self.options = options
    }

    /// Scores `inputs` (data files; `-` is NDJSON on standard input) and writes the outputs,
    /// `output_0`, `output_1`, ..., in `format` to `destination`, with `write`'s output policy
    /// (`replacing`, `protecting`). `progress` is called after each batch is written, on the
    /// writing thread; `skipped` with each error skipped. Returns the final progress.
    @discardableResult
    public func score(_ inputs: [String], as format: TensorFile.OutputFormat, to destination: TensorFile.Destination,
                      replacing: Bool = false, protecting: [String] = [],
                      progress: ((Progress) -> Void)? = nil,
                      skipped: ((RNNKitError) -> Void)? = nil) throws -> Progress {
        switch destination {
        case .file(let path):
            var result = Progress()
            try AtomicFile.write(to: path, replacing: replacing, protecting: protecting) { sink in
                result = try run(inputs, format: format, sink: sink, name: path, progress: progress, skipped: skipped)
            }
            return result
        case .standardOutput:
            let name = "standard output"
            var result = Progress()
            try FileSink.writeToStandardOutput(named: name) { sink in
                result = try run(inputs, format: format, sink: sink, name: name, progress: progress, skipped: skipped)
            }
            return result
        }
    }

    // MARK: - Reading

    func sources(_ inputs: [String]) throws -> [ScoringSource] {
        guard !inputs.isEmpty else { throw RNNKitError(.badUsage, "no input files") }
        let skipping = options.onError == .skip
        if skipping && inputs.count > 1 {
            throw RNNKitError(.badUsage, "skipping bad lines applies to one input file, not \(inputs.count)")
        }
        let specs = predictor.inputSpecs
        var sources: [ScoringSource] = []
        var usedWindow = false
        for (position, path) in inputs.enumerated() {
            let kind: TensorFile.Kind = path == "-" ? .ndjson : try TensorFile.kind(of: path, writing: false)
            let limits = options.limits
            switch kind {
            case .csv:
                let layout = CSVFormat.Layout(feeding: specs.indices.contains(position) ? specs[position] : nil)
                if layout == .timeSteps && options.window == nil {
                    // One sequence: the whole file is one sample.
                    let array = try CSVFormat.read(path, window: nil, layout: layout, limits: limits)
                    sources.append(try WholeFileSource(file: path, arrays: [array], named: false))
                } else {
                    usedWindow = usedWindow || options.window != nil
                    sources.append(try CSVSource(file: path, layout: layout, window: options.window,
                                                 skipping: skipping, limits: limits))
                }
            case .ndjson:
                sources.append(try NDJSONSource(file: path, skipping: skipping, limits: limits,
                                                check: { [predictor] in
                    try Self.check($0, file: path == "-" ? "standard input" : path, for: predictor)
                }))
            case .json:
                let (arrays, named) = try JSONTensorFormat.readNamingArrays(path, limits: limits)
                sources.append(try WholeFileSource(file: path, arrays: arrays, named: named))
            case .npz:
                sources.append(try NPYSource(npz: path, limits: limits)
                    ?? WholeFileSource(file: path, arrays: try NPZFormat.read(path, limits: limits), named: true))
            case .npy:
                sources.append(try NPYSource(npy: path, limits: limits))
            }
        }
        if options.window != nil && !usedWindow {
            throw RNNKitError(.badUsage, "a window length applies only to .csv files", file: inputs.first)
        }
        return sources
    }

    /// Refuses a sample whose arrays do not fit the model inputs they go to, naming its line.
    static func check(_ sample: NDJSONFormat.Sample, file: String, for predictor: Predictor) throws {
        let specs = predictor.inputSpecs
        for (index, array) in sample.arrays.enumerated() {
            let spec = sample.named ? specs.first { $0.name == array.name } : specs.indices.contains(index) ? specs[index] : nil
            guard let spec else { continue }  // the binding names what is wrong
            let expected = Array(spec.shape.dropFirst())
            let shape = array.tensor.shape
            guard shape.count == expected.count, zip(expected, shape).allSatisfy({ $0 == nil || $0 == $1 }) else {
                throw RNNKitError(.badUsage, "input '\(spec.name)' expects a sample of shape "
                    + "\(formatShape(expected)), got \(formatShape(shape.map { $0 }))", file: file,
                    location: "line \(sample.line)")
            }
            if spec.takesTokenIDs {
                var batched = array
                batched.tensor = array.tensor.reshaped([1] + shape)
                do {
                    try PredictionInputs.checkTokenIDs(.init(file: file, name: nil, array: batched), for: spec,
                                                       vocabulary: PredictionInputs.vocabularySize(of: spec.name, in: predictor.model))
                } catch var error as RNNKitError {
                    error.location = "line \(sample.line), " + (error.location ?? "")
                    throw error
                }
            }
        }
    }

    /// `array` with its last sample repeated `count` more times.
    static func padded(_ array: NamedTensor, by count: Int) -> NamedTensor {
        guard count > 0, let rows = array.tensor.shape.first, rows > 0 else { return array }
        var padded = array
        let size = array.tensor.count / rows
        let last = array.tensor.scalars[((rows - 1) * size)...]
        for _ in 0..<count { padded.tensor.scalars.append(contentsOf: last) }
        padded.tensor = Tensor(shape: [rows + count] + array.tensor.shape.dropFirst(), scalars: padded.tensor.scalars)
        return padded
    }

    /// The next batch of every source, aligned: the same records from each.
    static func nextBatch(_ sources: [ScoringSource], size: Int) throws -> [SourceBatch]? {
        guard let first = try sources[0].next(size) else {
            for source in sources.dropFirst() where try source.next(1) != nil {
                throw RNNKitError(.badUsage, "\(source.file) has more samples than \(sources[0].file)")
            }
            return nil
        }
        var batches = [first]
        for source in sources.dropFirst() {
            guard let batch = try source.next(first.records.count), batch.records.count == first.records.count else {
                throw RNNKitError(.badUsage, "\(source.file) has fewer samples than \(sources[0].file), or samples "
                    + "of other lengths")
            }
            batches.append(batch)
        }
        return batches
    }

    // MARK: - Running

    private func run(_ inputs: [String], format: TensorFile.OutputFormat, sink: FileSink, name: String,
                     progress: ((Progress) -> Void)?, skipped: ((RNNKitError) -> Void)?) throws -> Progress {
        let sources = try sources(inputs)
        let empty = sources.compactMap { source in
            source.emptyArrays.map { PredictionInputs.Source(file: source.file, arrays: $0.arrays, namesArrays: $0.named) }
        }
        if empty.count == sources.count {
            // Batches of 0 sequences: outputs of 0 rows, as a whole prediction gives them.
            let bound = try PredictionInputs.bind(empty, for: predictor)
            let outputs = try predictor.predict(bound).enumerated().map { NamedTensor(name: "output_\($0)", tensor: $1) }
            try TensorFile.writer(for: outputs, as: format, nonFinite: .null, path: name)(sink)
            return Progress()
        }
        // A recurrent layer sums in another order for batches below this size; every batch but a
        // lone first one is made at least this large, so each sample's outputs are bit for bit those
        // of one whole-input run.
        let minimumRows = RecurrentLoop.stackedMinimumRows
        let batchSize = max(options.batchSize, minimumRows)
        var batchesRun = 0
        let started = Date()
        let failure = FirstError()
        let read = BoundedChannel<[SourceBatch]>(capacity: 2)
        let computed = BoundedChannel<[RowWriter.Row]>(capacity: 2)
        let box = ProgressBox()
        let done = DispatchGroup()

        let reader = Thread {
            defer { read.close(); done.leave() }
            do {
                while !failure.happened, let batches = try Self.nextBatch(sources, size: batchSize) {
                    if !read.send(batches) { return }
                }
            } catch { failure.record(error) }
        }
        let writer = Thread { [options] in
            defer { done.leave() }
            do {
                var rows = try RowWriter(format: format, nonFinite: .null, path: name, seekable: sink.isSeekable)
                let json = format == .json || format == .ndjson
                while let batch = computed.receive() {
                    var nonFinite = 0
                    for case .outputs(let outputs) in batch {
                        nonFinite += outputs.reduce(0) { $0 + $1.tensor.scalars.count { !$0.isFinite } }
                        box.value.rows += 1
                    }
                    box.value.nonFinite += nonFinite
                    if nonFinite > 0 && json && options.refuseNonFinite {
                        throw RNNKitError(.badUsage, "\(box.value.nonFinite) output value(s) are NaN or infinite, "
                            + "which JSON has no number for; refused by --strict (.npy and .npz keep them)", file: name)
                    }
                    box.value.skipped += batch.count { if case .error = $0 { true } else { false } }
                    try rows.write(batch, to: sink)
                    box.value.seconds = Date().timeIntervalSince(started)
                    box.value.fractionRead = sources[0].fractionRead
                    progress?(box.value)
                }
                if !failure.happened { try rows.finish(sink) }
            } catch {
                failure.record(error)
                read.close()
                // Let the computing thread go on to the end of the input quickly.
                while computed.receive() != nil {}
            }
        }
        done.enter()
        done.enter()
        reader.start()
        writer.start()
        do {
            while let batches = read.receive() {
                if failure.happened { continue }
                var outputs: [[NamedTensor]] = []
                let samples = batches[0].sampleCount
                if samples > 0 {
                    let padding = batchesRun > 0 ? max(0, minimumRows - samples) : 0
                    batchesRun += 1
                    let bound = try PredictionInputs.bind(
                        zip(sources, batches).map {
                            PredictionInputs.Source(file: $0.file, arrays: $1.arrays.map { Self.padded($0, by: padding) },
                                                    namesArrays: $1.named)
                        },
                        for: predictor)
                    let results = try predictor.predict(bound).enumerated().map {
                        NamedTensor(name: "output_\($0)", tensor: $1)
                    }
                    outputs = RowWriter.rows(of: results).prefix(samples).map {
                        guard case .outputs(let named) = $0 else { return [] }
                        return named
                    }
                }
                var next = outputs.makeIterator()
                let rows: [RowWriter.Row] = batches[0].records.map { record in
                    switch record {
                    case .sample: return .outputs(next.next()!)
                    case .error(let line, let error):
                        skipped?(error)
                        return .error(line: line, message: error.message)
                    }
                }
                if !computed.send(rows) { break }
            }
        } catch {
            failure.record(error)
            read.close()
        }
        computed.close()
        done.wait()
        if let error = failure.error { throw error }
        return box.value
    }
}

/// The progress of a run, kept by the writing thread and read once it has ended.
final class ProgressBox: @unchecked Sendable {
    var value = BatchScorer.Progress()
}

/// The first error of several threads.
final class FirstError: @unchecked Sendable {
    private let lock = NSLock()
    private var first: Error?

    func record(_ error: Error) {
        lock.lock()
        if first == nil { first = error }
        lock.unlock()
    }

    var error: Error? {
        lock.lock()
        defer { lock.unlock() }
        return first
    }

    var happened: Bool { error != nil }
}

/// A queue of at most `capacity` elements between two threads; `close` ends it (receivers get
/// what is left, then nil; senders get false).
final class BoundedChannel<Element>: @unchecked Sendable {
    private let condition = NSCondition()
    private var items: [Element] = []
    private let capacity: Int
    private var closed = false

    init(capacity: Int) { self.capacity = capacity }

    func send(_ element: Element) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while items.count >= capacity && !closed { condition.wait() }
        guard !closed else { return false }
        items.append(element)
        condition.broadcast()
        return true
    }

    func receive() -> Element? {
        condition.lock()
        defer { condition.unlock() }
        while items.isEmpty && !closed { condition.wait() }
        guard !items.isEmpty else { return nil }
        condition.broadcast()
        return items.removeFirst()
    }

    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }
}

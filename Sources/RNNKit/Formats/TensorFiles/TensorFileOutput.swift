import Foundation

/// How JSON output writes NaN and the infinities, for which strict JSON (RFC 8259) has no token.
enum NonFiniteJSON: Sendable, Equatable {
    /// `null`, which every strict parser reads; which non-finite value it was is lost.
    case null
    /// `NaN`, `Infinity` and `-Infinity`, as Python's `json` writes and reads them: lossless, but
    /// refused by strict parsers.
    case pythonLiterals

    func json(for value: Float) -> JSONValue {
        self == .null && !value.isFinite ? .null : .float(value)
    }
}

extension TensorFile {
    /// The formats `write` produces.
    public enum OutputFormat: String, CaseIterable, Sendable {
        case npy, npz, json
        /// One line per sample: the sample's values, all outputs flattened, after a header line
        /// naming the columns (`output_0`, or `output_0_0`, `output_0_1`, ... for several values).
        case csv
        /// One JSON object per sample and line: `{"output_0": ..., ...}` (`.ndjson`, `.jsonl`).
        case ndjson

        /// The format named by `path`'s extension (case-insensitive).
        public init(path: String) throws {
            let kind = try TensorFile.kind(of: path, writing: true)
            guard let format = OutputFormat(rawValue: kind.rawValue) else {
                preconditionFailure("kind(of:writing:) returns only writable kinds")
            }
            self = format
        }
    }

    /// Where `write` puts its output.
    public enum Destination: Sendable, Equatable {
        /// A file, written atomically (see `write(_:to:)`).
        case file(String)
        /// The process's standard output, written as it is produced.
        case standardOutput
    }

    /// Writes `tensors` in `format`. NaN and the infinities go into JSON as `null`, so that strict
    /// parsers read it; `.npy` and `.npz` keep them.
    ///
    /// A file is written as `write(_:to:)` does, with an output policy: an existing file is
    /// replaced only when `replacing`, and none of `inputs` ever, whatever path names it (the same
    /// device and inode). Refusals are `.badUsage` errors whose `liftedBy` tells a caller's
    /// setting from the ones no setting lifts.
    public static func write(_ tensors: [NamedTensor], as format: OutputFormat, to destination: Destination,
                             replacing: Bool = false, protecting inputs: [String] = []) throws {
        switch destination {
        case .file(let path):
            let body = try writer(for: tensors, as: format, nonFinite: .null, path: path)
            try AtomicFile.write(to: path, replacing: replacing, protecting: inputs, body)
        case .standardOutput:
            let name = "standard output"
            try FileSink.writeToStandardOutput(named: name, try writer(for: tensors, as: format, nonFinite: .null,
                                                                         path: name))
        }
    }

    /// Checks `write`'s output policy for the file `path` without writing anything, so that a
    /// caller can refuse before long work rather than after it.
    public static func checkDestination(_ path: String, replacing: Bool, protecting inputs: [String]) throws {
        try AtomicFile.checkPolicy(for: path, replacing: replacing, protecting: inputs)
    }

    /// How many of the tensors' values are NaN or infinite.
    public static func nonFiniteCount(_ tensors: [NamedTensor]) -> Int {
        tensors.reduce(0) { count, named in count + named.tensor.scalars.lazy.filter { !$0.isFinite }.count }
    }

    /// Checks that `tensors` fit `format` and returns what writes them; `path` names the
    /// destination in errors.
    static func writer(for tensors: [NamedTensor], as format: OutputFormat, nonFinite: NonFiniteJSON,
                       path: String) throws -> (FileSink) throws -> Void {
        switch format {
        case .npy:
            guard tensors.count == 1 else {
                throw RNNKitError(.badUsage, "an .npy file holds exactly one array, not \(tensors.count) "
                    + "(write .npz or .json for several)", file: path)
            }
            let tensor = tensors[0].tensor
            return { sink in
                try sink.write(NPYFormat.header(shape: tensor.shape))
                try sink.writeLittleEndian(tensor.scalars)
            }
        case .npz:
            try NPZFormat.checkNames(tensors, path: path)
            return { sink in try NPZFormat.write(tensors, to: sink) }
        case .json:
            try checkUniqueNames(tensors, path: path)
            let text = JSONWriter.string(jsonValue(tensors, nonFinite: nonFinite)) + "\n"
            return { sink in try sink.write(Data(text.utf8)) }
        case .csv, .ndjson:
            try checkUniqueNames(tensors, path: path)
            var writer = try RowWriter(format: format, nonFinite: nonFinite, path: path)
            return { sink in
                try writer.write(RowWriter.rows(of: tensors), to: sink)
                try writer.finish(sink)
            }
        }
    }
}

/// Writes outputs sample by sample, as they are computed, in any output format: `.npy` with its
/// header fixed up at the end, CSV and NDJSON line by line; `.npz` and `.json` keep the samples
/// and are written whole by `finish` (the file itself is made atomic by the caller).
struct RowWriter {
    /// One sample's outputs, or the record of an input that could not be scored.
    enum Row {
        case outputs([NamedTensor])
        case error(line: Int, message: String)
    }

    let format: TensorFile.OutputFormat
    let nonFinite: NonFiniteJSON
    let path: String
    private var rowShapes: [[Int]]?
    private var names: [String] = []
    private var rows = 0
    private var bytesWritten = 0
    private var kept: [[Float]] = []

    /// Whether the header of an `.npy` can be fixed up at the end (not on a pipe).
    let seekable: Bool

    init(format: TensorFile.OutputFormat, nonFinite: NonFiniteJSON, path: String, seekable: Bool = true) throws {
        self.format = format
        self.seekable = seekable
        self.nonFinite = nonFinite
        self.path = path
    }

    /// The samples of whole output tensors (each without its batch axis).
    static func rows(of tensors: [NamedTensor]) -> [Row] {
        let count = tensors.first?.tensor.shape.first ?? 0
        return (0..<count).map { index in
            .outputs(tensors.map { named in
                let shape = Array(named.tensor.shape.dropFirst())
                let size = shape.reduce(1, *)
                return NamedTensor(name: named.name,
                                   tensor: Tensor(shape: shape, scalars: Array(named.tensor.scalars[(index * size)..<((index + 1) * size)])))
            })
        }
    }

    /// Writes (or keeps) `rows`, in order.
    mutating func write(_ batch: [Row], to sink: FileSink) throws {
        var text = ""
        for row in batch {
            switch row {
            case .error(let line, let message):
                if format == .ndjson { text += NDJSONFormat.errorLine(line: line, message: message) }
            case .outputs(let outputs):
                let shapes = outputs.map(\.tensor.shape)
                if let rowShapes {
                    guard shapes == rowShapes else {
                        throw RNNKitError(.badUsage, "the outputs' shapes changed from sample to sample "
                            + "(\(rowShapes) then \(shapes)); write .ndjson or .json", file: path)
                    }
                } else {
                    rowShapes = shapes
                    names = outputs.map(\.name)
                    try start(sink, outputs: outputs)
                }
                rows += 1
                switch format {
                case .ndjson:
                    text += NDJSONFormat.line(outputs, nonFinite: nonFinite)
                case .csv:
                    text += outputs.flatMap { $0.tensor.scalars.map { csvText($0) } }.joined(separator: ",") + "\n"
                case .npy where seekable:
                    try sink.writeLittleEndian(outputs[0].tensor.scalars)
                case .npy, .npz, .json:
                    kept.append(outputs.flatMap(\.tensor.scalars))
                }
            }
        }
        if !text.isEmpty { try sink.write(Data(text.utf8)) }
    }

    private func csvText(_ value: Float) -> String {
        value.isNaN ? "nan" : value == .infinity ? "inf" : value == -.infinity ? "-inf" : value.description
    }

    private mutating func start(_ sink: FileSink, outputs: [NamedTensor]) throws {
        switch format {
        case .npy:
            guard outputs.count == 1 else {
                throw RNNKitError(.badUsage, "an .npy file holds exactly one array, not \(outputs.count) "
                    + "(write .npz, .json, .csv or .ndjson for several)", file: path)
            }
            if seekable { try sink.write(NPYFormat.header(shape: [0] + outputs[0].tensor.shape)) }
        case .csv:
            let header = outputs.flatMap { output in
                output.tensor.count == 1 ? [output.name] : (0..<output.tensor.count).map { "\(output.name)_\($0)" }
            }
            try sink.write(Data((header.joined(separator: ",") + "\n").utf8))
        case .npz, .json, .ndjson:
            break
        }
    }

    /// Completes the file: the `.npy` header with the final row count, the whole `.npz` or `.json`.
    mutating func finish(_ sink: FileSink) throws {
        guard let rowShapes else {
            if format == .ndjson { return }
            throw RNNKitError(.badUsage, "no outputs to write: every sample failed", file: path)
        }
        switch format {
        case .npy where seekable:
            try sink.write(NPYFormat.header(shape: [rows] + rowShapes[0]), at: 0)
        case .npy, .npz, .json:
            let tensors = rowShapes.indices.map { index -> NamedTensor in
                let offset = rowShapes[..<index].reduce(0) { $0 + $1.reduce(1, *) }
                let size = rowShapes[index].reduce(1, *)
                var scalars: [Float] = []
                scalars.reserveCapacity(rows * size)
                for row in kept { scalars.append(contentsOf: row[offset..<(offset + size)]) }
                return NamedTensor(name: names[index], tensor: Tensor(shape: [rows] + rowShapes[index], scalars: scalars))
            }
            kept = []
            try TensorFile.writer(for: tensors, as: format, nonFinite: nonFinite, path: path)(sink)
        case .csv, .ndjson:
            break
        }
    }
}

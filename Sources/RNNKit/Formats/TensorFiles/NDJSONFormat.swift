import Foundation

/// Newline-delimited JSON (`.ndjson`, `.jsonl`): one sample per line, for pipes and data lakes.
///
/// In: each non-blank line is one sample without its batch axis, a nested array of numbers (one
/// unnamed array) or an object of them named after model inputs, as in JSON data files. Lines end
/// with `\n` (a `\r` before it is allowed). Out: one line per sample, `{"output_0": ..., ...}`, or
/// for a sample that could not be read, `{"line": N, "error": "..."}`. Errors name `line N`.
enum NDJSONFormat {
    /// One sample read from a line: its arrays (without the batch axis) and whether they are named.
    struct Sample {
        var line: Int
        var arrays: [NamedTensor]
        var named: Bool
    }

    /// Reads lines from a `SequentialInput`, each at most `maxLineBytes` long.
    struct LineReader {
        let input: SequentialInput
        let maxLineBytes: Int
        private(set) var line = 0

        init(_ input: SequentialInput, maxLineBytes: Int) {
            self.input = input
            self.maxLineBytes = maxLineBytes
        }

        /// The next non-blank line and its number, or nil at the end; a line longer than the
        /// bound is an error (`skippable` true: the reader has moved past it).
        mutating func next() throws -> (line: Int, bytes: ArraySlice<UInt8>)? {
            while true {
                var scanned = 0
                var newline: Int?
                while true {
                    let buffer = input.buffer, start = input.start
                    if let found = buffer[(start + scanned)...].firstIndex(of: 0x0A) {
                        newline = found
                        break
                    }
                    scanned = input.pending
                    if scanned > maxLineBytes {
                        line += 1
                        let tooLong = line
                        try skipPastNewline()
                        throw RNNKitError(.unreadable, "line longer than \(maxLineBytes) bytes", file: input.name,
                                          location: "line \(tooLong)").lifted(by: .byteLimit(maxLineBytes))
                    }
                    if !(try input.fill()) { break }
                }
                let start = input.start
                let end = newline ?? input.buffer.count
                if newline == nil && end == start { return nil }
                line += 1
                var bytes = input.buffer[start..<end]
                input.consume(end - start + (newline == nil ? 0 : 1))
                if bytes.last == 0x0D { bytes = bytes.dropLast() }
                if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
                return (line, bytes)
            }
        }

        private func skipPastNewline() throws {
            while true {
                if let found = input.buffer[input.start...].firstIndex(of: 0x0A) {
                    input.consume(found - input.start + 1)
                    return
                }
                input.consume(input.pending)
                if !(try input.fill()) { return }
            }
        }
    }

    /// The sample on line `line` of `path`.
    static func sample(_ bytes: ArraySlice<UInt8>, line: Int, path: String, limits: ReadLimits) throws -> Sample {
        let location = "line \(line)"
        let root: JSONValue
        do {
            root = try JSONParser.parse(bytes: Array(bytes), maxDepth: JSONTensorFormat.parserDepth(limits),
                                        maxTreeBytes: limits.maxBytes)
        } catch var error as RNNKitError {
            error.message = error.message.replacingOccurrences(of: "invalid JSON at line 1, column",
                                                               with: "invalid JSON at column")
            error.location = location + (error.location.map { ", \($0)" } ?? "")
            throw error.inFile(path)
        }
        func tensor(_ value: JSONValue, name: String, pointer: String) throws -> NamedTensor {
            do {
                return try JSONTensorFormat.tensor(value, name: name, pointer: pointer, path: path, limits: limits)
            } catch var error as RNNKitError {
                error.location = location + ", " + (error.location ?? "/")
                throw error
            }
        }
        switch root {
        case .array, .number:
            return Sample(line: line, arrays: [try tensor(root, name: TensorFile.defaultName, pointer: "")], named: false)
        case .object(let object):
            var seen = Set<String>()
            let arrays = try object.entries.map { entry in
                guard seen.insert(entry.key).inserted else {
                    throw RNNKitError(.unreadable, "the key '\(entry.key)' is given twice", file: path, location: location)
                }
                return try tensor(entry.value, name: entry.key, pointer: "/" + JSONTensorFormat.escape(entry.key))
            }
            return Sample(line: line, arrays: arrays, named: true)
        default:
            throw RNNKitError(.unreadable, "expected a nested array of numbers, or an object of them; found "
                + JSONTensorFormat.describe(root), file: path, location: location)
        }
    }

    /// Stacks samples of equal names and shapes into arrays with a batch axis.
    static func stack(_ samples: [Sample]) -> [NamedTensor] {
        guard let first = samples.first else { return [] }
        return first.arrays.indices.map { index in
            let shape = first.arrays[index].tensor.shape
            var scalars: [Float] = []
            scalars.reserveCapacity(samples.count * first.arrays[index].tensor.count)
            var integers = true, rounded = false
            for sample in samples {
                let array = sample.arrays[index]
                scalars.append(contentsOf: array.tensor.scalars)
                if array.elementType != .int64 { integers = false }
                if array.roundedIntegers { rounded = true }
            }
            return NamedTensor(name: first.arrays[index].name, tensor: Tensor(shape: [samples.count] + shape, scalars: scalars),
                               elementType: integers ? .int64 : .float32, roundedIntegers: rounded)
        }
    }

    /// Whether `sample` can be stacked with `other` (same names and shapes).
    static func stacks(_ sample: Sample, with other: Sample) -> Bool {
        sample.named == other.named && sample.arrays.count == other.arrays.count
            && zip(sample.arrays, other.arrays).allSatisfy { $0.name == $1.name && $0.tensor.shape == $1.tensor.shape }
    }

    /// Every sample of the file `path` (or standard input for `-`), stacked; they must all stack.
    static func read(_ path: String, limits: ReadLimits) throws -> (arrays: [NamedTensor], named: Bool) {
        var reader = LineReader(try SequentialInput(path: path), maxLineBytes: limits.maxJSONBytes)
        var samples: [Sample] = []
        var bytes = 0
        while let (line, text) = try reader.next() {
            let sample = try sample(text, line: line, path: path, limits: limits)
            if let first = samples.first, !stacks(sample, with: first) {
                throw RNNKitError(.badUsage, "this sample's names or shapes differ from line \(first.line)'s",
                                  file: path, location: "line \(line)")
            }
            bytes += sample.arrays.reduce(0) { $0 + $1.tensor.count * 4 }
            if bytes > limits.maxBytes {
                throw RNNKitError(.badUsage, "the samples take more than \(limits.maxBytes) bytes", file: path,
                                  location: "line \(line)").lifted(by: .byteLimit(limits.maxBytes))
            }
            samples.append(sample)
        }
        guard let first = samples.first else {
            throw RNNKitError(.unreadable, "no samples (every line is blank)", file: path)
        }
        return (stack(samples), first.named)
    }

    // MARK: - Writing

    /// The line for one sample's outputs (each without the batch axis), ending with `\n`.
    static func line(_ outputs: [NamedTensor], nonFinite: NonFiniteJSON) -> String {
        JSONWriter.string(TensorFile.jsonValue(outputs, nonFinite: nonFinite)) + "\n"
    }

    /// The line recording that line `line` of the input could not be scored.
    static func errorLine(line: Int, message: String) -> String {
        JSONWriter.string(.object(JSONObject([(key: "line", value: .int(line)), (key: "error", value: .string(message))])))
            + "\n"
    }
}

import Foundation

/// One sample of a batch read for scoring: a sample, or an input the reader could not use.
enum ScoringRecord {
    case sample
    case error(line: Int, RNNKitError)
}

/// The next samples of one data file: their records in order and the arrays (batch axis first)
/// holding the `.sample` records' data.
struct SourceBatch {
    var records: [ScoringRecord]
    var arrays: [NamedTensor]
    var named: Bool

    var sampleCount: Int { records.count { if case .sample = $0 { true } else { false } } }
}

/// A data file read a batch at a time for `BatchScorer`.
protocol ScoringSource: AnyObject {
    var file: String { get }
    /// How much of the file was read, 0...1, when known.
    var fractionRead: Double? { get }
    /// At most `count` records (fewer only at the end, or where samples stop stacking); nil at the end.
    func next(_ count: Int) throws -> SourceBatch?
    /// For a file read whole that holds no sample: its arrays (a batch of 0 still has outputs of
    /// 0 rows, as a whole prediction gives them).
    var emptyArrays: (arrays: [NamedTensor], named: Bool)? { get }
}

extension ScoringSource {
    var emptyArrays: (arrays: [NamedTensor], named: Bool)? { nil }
}

/// A file read whole (`.npy`, `.npz`, `.json`, a CSV that is one sequence), served in slices.
final class WholeFileSource: ScoringSource {
    let file: String
    private let arrays: [NamedTensor]
    private let named: Bool
    private var offset = 0
    private let count: Int

    init(file: String, arrays: [NamedTensor], named: Bool) throws {
        self.file = file
        self.arrays = arrays
        self.named = named
        let counts = Set(arrays.map { $0.tensor.shape.first ?? 1 })
        guard counts.count <= 1 else {
            throw RNNKitError(.badUsage, "the arrays disagree on the batch size: \(arrays.map { $0.tensor.shape.first ?? 1 })",
                              file: file)
        }
        count = counts.first ?? 0
    }

    var fractionRead: Double? { count == 0 ? 1 : Double(offset) / Double(count) }

    var emptyArrays: (arrays: [NamedTensor], named: Bool)? { count == 0 ? (arrays, named) : nil }

    func next(_ limit: Int) throws -> SourceBatch? {
        guard offset < count else { return nil }
        let taken = min(limit, count - offset)
        let slices = arrays.map { array -> NamedTensor in
            var slice = array
            let rest = Array(array.tensor.shape.dropFirst())
            let size = rest.reduce(1, *)
            slice.tensor = Tensor(shape: [taken] + rest,
                                  scalars: Array(array.tensor.scalars[(offset * size)..<((offset + taken) * size)]))
            return slice
        }
        offset += taken
        return SourceBatch(records: Array(repeating: .sample, count: taken), arrays: slices, named: named)
    }
}

/// The rows of one `.npy` array lying in a byte range of a file (a whole `.npy` file, or a stored
/// entry of an `.npz` archive), read a batch of rows at a time: memory holds one batch, whatever
/// the array's size. An archive entry's CRC-32 is checked when its last byte has been read.
final class NPYRows {
    let name: String
    private let file: String
    private let location: String?
    private let reader: ReadableFile
    private let range: Range<UInt64>
    private var decoder: NPYDecoder
    private var offset: UInt64
    private var rowsServed = 0
    private let pieceSize = 1 << 20
    /// Told the CRC-32 of the whole range once it is read (an archive entry's check).
    private let checkCRC: ((UInt32) throws -> Void)?
    private var crc: UInt32 = 0

    init(_ reader: ReadableFile, range: Range<UInt64>, name: String, location: String? = nil,
         checkCRC: ((UInt32) throws -> Void)? = nil, limits: ReadLimits) throws {
        self.reader = reader
        self.range = range
        self.name = name
        self.location = location
        self.checkCRC = checkCRC
        file = reader.path
        offset = range.lowerBound
        decoder = NPYDecoder(totalBytes: UInt64(range.count), limits: limits, file: file, location: location,
                             streaming: true)
        // The header first: it says the shape, and checks the data's length against the range's.
        while decoder.parsedHeader == nil && offset < range.upperBound {
            try feedPiece(upTo: 4096)
        }
        guard let header = decoder.parsedHeader, !header.shape.isEmpty else {
            if decoder.parsedHeader != nil {
                throw RNNKitError(.badUsage, "a 0-dimensional array has no batch axis", file: file, location: location)
            }
            _ = try decoder.finish(name: name)  // the reason it is unreadable
            throw RNNKitError(.unreadable, "truncated .npy file: the header is incomplete", file: file, location: location)
        }
    }

    private func feedPiece(upTo size: Int) throws {
        let count = Int(min(UInt64(size), range.upperBound - offset))
        var bytes = [UInt8](repeating: 0, count: count)
        try bytes.withUnsafeMutableBytes { try reader.read(into: $0, at: offset) }
        offset += UInt64(count)
        try bytes.withUnsafeBytes { piece in
            if let checkCRC {
                crc = ZipReader.crc32(crc, piece)
                if offset == range.upperBound { try checkCRC(crc) }
            }
            try decoder.feed(piece)
        }
    }

    var fractionRead: Double { range.isEmpty ? 1 : Double(offset - range.lowerBound) / Double(range.count) }

    var rows: Int { decoder.parsedHeader!.shape[0] }
    var rowShape: [Int] { Array(decoder.parsedHeader!.shape.dropFirst()) }
    var elementType: TensorElementType { decoder.parsedHeader!.elementType }

    /// The next `count` rows (at most the rows left).
    func take(_ count: Int) throws -> NamedTensor {
        let taken = min(count, rows - rowsServed)
        let needed = taken * rowShape.reduce(1, *)
        while decoder.pendingCount < needed && offset < range.upperBound {
            try feedPiece(upTo: max(pieceSize, (needed - decoder.pendingCount) * elementType.itemSize))
        }
        guard decoder.pendingCount >= needed else {
            throw RNNKitError(.unreadable, "the file ended early (was it changed while being read?)",
                              file: file, location: location)
        }
        rowsServed += taken
        return NamedTensor(name: name, tensor: Tensor(shape: [taken] + rowShape, scalars: decoder.take(needed)),
                           elementType: elementType, roundedIntegers: decoder.hasRoundedIntegers)
    }

    var rowsLeft: Int { rows - rowsServed }

    /// The array with no rows: what a file of 0 samples still gives the model.
    var empty: NamedTensor {
        NamedTensor(name: name, tensor: Tensor(shape: [0] + rowShape, scalars: []), elementType: elementType)
    }
}

/// `.npy` files, and `.npz` archives whose arrays are all stored (`np.savez`), read a batch of
/// rows at a time; every array of an archive gives the same rows of each batch.
final class NPYSource: ScoringSource {
    let file: String
    private let arrays: [NPYRows]
    private let named: Bool

    /// An `.npy` file.
    init(npy file: String, limits: ReadLimits) throws {
        self.file = file
        let reader = try ReadableFile(path: file)
        arrays = [try NPYRows(reader, range: 0..<reader.size, name: TensorFile.defaultName, limits: limits)]
        named = false
    }

    /// An `.npz` archive whose arrays are stored; nil when one is deflated (`np.savez_compressed`),
    /// which is read whole instead.
    init?(npz file: String, limits: ReadLimits) throws {
        self.file = file
        guard let (zip, entries) = try NPZFormat.entries(file, limits: limits), !entries.isEmpty else { return nil }
        var arrays: [NPYRows] = []
        for (entry, name) in entries {
            guard let range = try zip.storedData(of: entry) else { return nil }
            arrays.append(try NPYRows(zip.file, range: range, name: name, location: entry.displayName,
                                      checkCRC: { try zip.checkComplete(entry, produced: entry.uncompressedSize, crc: $0) },
                                      limits: limits))
        }
        let rows = Set(arrays.map(\.rows))
        guard rows.count == 1 else {
            throw RNNKitError(.badUsage, "the arrays disagree on the batch size: \(arrays.map(\.rows))", file: file)
        }
        self.arrays = arrays
        named = true
    }

    var fractionRead: Double? { arrays.map(\.fractionRead).reduce(0, +) / Double(arrays.count) }

    func next(_ count: Int) throws -> SourceBatch? {
        guard let first = arrays.first, first.rowsLeft > 0 else { return nil }
        let taken = min(count, first.rowsLeft)
        return SourceBatch(records: Array(repeating: .sample, count: taken),
                           arrays: try arrays.map { try $0.take(taken) }, named: named)
    }

    var emptyArrays: (arrays: [NamedTensor], named: Bool)? {
        arrays.first?.rows == 0 ? (arrays.map(\.empty), named) : nil
    }
}

/// A CSV file read piece by piece: its rows (or windows of rows) as samples. Windows overlap
/// across pieces as in a whole read; with `skipping`, a bad row becomes an error record and no
/// window spans it.
final class CSVSource: ScoringSource {
    let file: String
    private let input: SequentialInput
    private let layout: CSVFormat.Layout
    private let window: Int?
    private let skipping: Bool
    private let limits: ReadLimits
    private var table = CSVFormat.Table()
    private var line = 1
    /// Rows parsed and not yet behind every window: rows `firstRow...` of the file's data rows.
    private var rows: [Float] = []
    private var firstRow = 0
    private var nextStart = 0
    /// Bad rows, in order: the rows before each are good; windows after it start at `row`.
    private var breaks: [(row: Int, line: Int, error: RNNKitError)] = []
    private var samplesMade = 0

    init(file: String, layout: CSVFormat.Layout, window: Int?, skipping: Bool, limits: ReadLimits,
         pieceSize: Int = 256 << 10) throws {
        if let window, window < 1 {
            throw RNNKitError(.badUsage, "the window length must be at least 1, not \(window)", file: file)
        }
        self.file = file
        input = try SequentialInput(path: file, pieceSize: pieceSize)
        self.layout = layout
        self.window = window
        self.skipping = skipping
        self.limits = limits
    }

    var fractionRead: Double? { input.fractionDone }

    private var length: Int { window ?? 1 }

    /// Parses the next piece of whole records; false at the end of the file. A record longer
    /// than `maxCSVBytes` is refused, so that a file without line breaks is not held whole.
    private func parsePiece() throws -> Bool {
        var cut: Int?
        while true {
            let buffer = input.buffer
            var inQuotes = false
            var recordStart = input.start
            var recordLine = line
            var index = input.start
            func checkLength(_ end: Int) throws {
                if end - recordStart > limits.maxCSVBytes {
                    throw RNNKitError(.unreadable, "a record longer than \(limits.maxCSVBytes) bytes", file: file,
                                      location: "line \(recordLine)").lifted(by: .byteLimit(limits.maxCSVBytes))
                }
            }
            while index < buffer.count {
                let byte = buffer[index]
                if byte == 0x22 { inQuotes.toggle() }
                // A \r last in the buffer may be followed by \n: it ends a record once more is read.
                let lineEnd = byte == 0x0A || (byte == 0x0D && (index + 1 < buffer.count ? buffer[index + 1] != 0x0A
                                                                : input.atEnd))
                if lineEnd && !inQuotes {
                    try checkLength(index + 1)
                    cut = index + 1
                    recordStart = index + 1
                    recordLine += 1
                }
                index += 1
            }
            try checkLength(buffer.count)
            if cut != nil { break }
            if input.atEnd {
                if input.pending > 0 { cut = buffer.count }
                break
            }
            try input.fill()
        }
        guard let cut else { return false }
        let start = input.start
        let piece = input.buffer[start..<cut]
        guard !piece.contains(0) else {
            throw RNNKitError(.unreadable, "not a CSV text file (it contains NUL bytes)", file: file)
        }
        guard String(validating: piece, as: UTF8.self) != nil else {
            throw RNNKitError(.unreadable, "not a CSV text file (not UTF-8)", file: file)
        }
        let rowsBefore = table.rows
        let onBad: ((RNNKitError, Int) throws -> Void)? = skipping ? { [unowned self] error, rowsBefore in
            let badLine = Int(error.location?.dropFirst(5) ?? "") ?? 0
            breaks.append((row: rowsBefore, line: badLine, error: error))
        } : nil
        line = try piece.withUnsafeBufferPointer {
            try CSVFormat.parse($0, path: file, into: &table, firstLine: line, onBadRecord: onBad)
        }
        input.consume(cut - start)
        if table.rows > rowsBefore || !table.values.isEmpty {
            rows.append(contentsOf: table.values)
            table.values.removeAll(keepingCapacity: true)
        }
        return true
    }

    func next(_ count: Int) throws -> SourceBatch? {
        var records: [ScoringRecord] = []
        var starts: [Int] = []
        while records.count < count {
            let limit = breaks.first?.row ?? table.rows
            if nextStart + length <= limit {
                starts.append(nextStart)
                records.append(.sample)
                nextStart += 1
            } else if let bad = breaks.first {
                records.append(.error(line: bad.line, bad.error))
                nextStart = max(nextStart, bad.row)
                breaks.removeFirst()
            } else if !(try parsePiece()) {
                break
            }
        }
        if records.isEmpty {
            guard samplesMade == 0 && breaks.isEmpty else { return nil }
            guard table.rows > 0 else {
                throw RNNKitError(.unreadable, "no data rows" + (table.hasHeader ? " after the header" : ""), file: file)
            }
            throw RNNKitError(.badUsage, "the window length \(length) is longer than the \(table.rows) data rows",
                              file: file)
        }
        let columns = table.columns
        if layout == .sequences && window != nil && columns != 1 {
            throw RNNKitError(.badUsage, "windows for an input of rank 2 (such as token ids) are cut from one "
                + "series, one value per row; this file has \(columns) columns", file: file)
        }
        let stride = length * columns
        var scalars: [Float] = []
        scalars.reserveCapacity(starts.count * stride)
        for start in starts {
            let offset = (start - firstRow) * columns
            scalars.append(contentsOf: rows[offset..<(offset + stride)])
        }
        samplesMade += starts.count
        // Rows before the next window are no longer needed.
        let drop = max(0, min(nextStart, table.rows) - firstRow)
        if drop > 0 {
            rows.removeSubrange(0..<(drop * columns))
            firstRow += drop
        }
        let shape: [Int]
        switch layout {
        case .timeSteps: shape = [starts.count, length, columns]
        case .sequences: shape = window == nil ? [starts.count, columns] : [starts.count, length]
        }
        let array = NamedTensor(name: TensorFile.defaultName, tensor: Tensor(shape: shape, scalars: scalars),
                                elementType: table.allIntegers ? .int64 : .float32,
                                roundedIntegers: table.roundedIntegers)
        return SourceBatch(records: records, arrays: [array], named: false)
    }
}

/// An NDJSON file (or standard input) read line by line: one sample per line.
final class NDJSONSource: ScoringSource {
    let file: String
    private var reader: NDJSONFormat.LineReader
    private let skipping: Bool
    private let limits: ReadLimits
    private let check: (NDJSONFormat.Sample) throws -> Void
    /// A sample read that did not stack with the previous batch, served first next time.
    private var held: NDJSONFormat.Sample?

    init(file: String, skipping: Bool, limits: ReadLimits, check: @escaping (NDJSONFormat.Sample) throws -> Void) throws {
        let input = try SequentialInput(path: file, pieceSize: 64 << 10)
        self.file = input.name
        reader = NDJSONFormat.LineReader(input, maxLineBytes: limits.maxJSONBytes)
        self.skipping = skipping
        self.limits = limits
        self.check = check
    }

    var fractionRead: Double? { reader.input.fractionDone }

    func next(_ count: Int) throws -> SourceBatch? {
        var records: [ScoringRecord] = []
        var samples: [NDJSONFormat.Sample] = []
        if let held {
            samples.append(held)
            records.append(.sample)
            self.held = nil
        }
        while records.count < count {
            let sample: NDJSONFormat.Sample
            do {
                guard let (line, bytes) = try reader.next() else { break }
                sample = try NDJSONFormat.sample(bytes, line: line, path: file, limits: limits)
                try check(sample)
            } catch let error as RNNKitError where skipping && error.location?.hasPrefix("line ") == true {
                let digits = error.location!.dropFirst(5).prefix { $0.isNumber }
                records.append(.error(line: Int(digits) ?? 0, error))
                continue
            }
            if let first = samples.first, !NDJSONFormat.stacks(sample, with: first) {
                held = sample  // served in the next batch, stacked with its like
                break
            }
            samples.append(sample)
            records.append(.sample)
        }
        if records.isEmpty { return nil }
        return SourceBatch(records: records, arrays: NDJSONFormat.stack(samples), named: samples.first?.named ?? false)
    }
}

import Foundation

/// The safetensors format of Hugging Face: an 8-byte little-endian `u64` header length `N`, `N`
/// bytes of UTF-8 JSON header, then the byte buffer that holds every tensor's data.
///
/// ```json
/// {"__metadata__": {"format": "rnnkit"},
///  "lstm.kernel": {"dtype": "F32", "shape": [3, 16], "data_offsets": [0, 192]}, ...}
/// ```
///
/// Reading follows the rules of the reference (Rust) implementation, and refuses anything
/// else with a one-line `RNNKitError(.unreadable)` naming the file (and the tensor, where
/// there is one): `N` at most 100 MB and within the file; the header a JSON object (padded with
/// trailing spaces or not) without duplicate keys; each tensor `{"dtype", "shape",
/// "data_offsets": [begin, end]}` with `shape × itemsize` (overflow-checked) equal to
/// `end − begin`; the offsets, sorted, tiling the byte buffer exactly from 0 to its end (no gap,
/// no overlap, no trailing bytes); `__metadata__` an object of strings. Dtypes F32, F16, BF16
/// and F64 are read (converted to float32); the others are refused. Before the header is
/// parsed, a scan bounds what parsing builds: nesting 3 deep, 64 items per list (a shape's
/// rank), a million keys. Memory is then bounded by the file's own size.
///
/// Writing produces what the reference implementation writes for float32 tensors: F32
/// little-endian, tensors sorted by name and packed in that order, `__metadata__` first, the
/// header padded with spaces to a multiple of 8 bytes.
enum SafetensorsFile {
    /// The largest header length accepted (as the reference implementation: 100 MB).
    static let maxHeaderBytes = 100_000_000
    /// The header key of the string-to-string metadata.
    static let metadataKey = "__metadata__"

    /// Every tensor of a safetensors file, converted to float32, and its `__metadata__`
    /// (empty when the file has none).
    static func readTensors(_ path: String) throws -> (tensors: [String: Tensor], metadata: [String: String]) {
        let file = try ReadableFile(path: path)
        let header = try readHeader(file)
        var tensors: [String: Tensor] = [:]
        for entry in header.entries {
            tensors[entry.name] = try readTensor(entry, dataStart: header.dataStart, from: file)
        }
        return (tensors, header.metadata)
    }

    /// Writes `tensors` as F32 and `metadata` to `path` exactly (created or truncated; the
    /// caller makes the write atomic if it wants to).
    ///
    /// Throws `RNNKitError(.badUsage)` for names the format cannot carry (`__metadata__`, names
    /// with a NUL character) and for write errors.
    static func write(_ tensors: [String: Tensor], metadata: [String: String], to path: String) throws {
        let names = tensors.keys.sorted()
        for name in names {
            guard name != metadataKey else {
                throw RNNKitError(.badUsage, "a tensor cannot be named '\(metadataKey)' in a safetensors file", file: path)
            }
            guard !name.utf8.contains(0) else {
                throw RNNKitError(.badUsage, "tensor name '\(oneLine(name))' contains a NUL character", file: path)
            }
        }
        for key in metadata.keys where key.utf8.contains(0) {
            throw RNNKitError(.badUsage, "metadata key '\(oneLine(key))' contains a NUL character", file: path)
        }

        var entries: [(key: String, value: JSONValue)] = []
        if !metadata.isEmpty {
            let values = metadata.keys.sorted().map { (key: $0, value: JSONValue.string(metadata[$0]!)) }
            entries.append((metadataKey, .object(JSONObject(values))))
        }
        var offset = 0
        for name in names {
            let tensor = tensors[name]!
            let (bytes, overflow) = tensor.scalars.count.multipliedReportingOverflow(by: 4)
            guard !overflow, offset <= Int.max - bytes else {
                throw RNNKitError(.badUsage, "the tensors are too large for one file", file: path)
            }
            entries.append((name, .object(JSONObject([
                ("dtype", .string(DType.f32.rawValue)),
                ("shape", .array(tensor.shape.map(JSONValue.int))),
                ("data_offsets", .array([.int(offset), .int(offset + bytes)])),
            ]))))
            offset += bytes
        }
        var header = Array(JSONWriter.string(.object(JSONObject(entries))).utf8)
        header += [UInt8](repeating: 0x20, count: (8 - header.count % 8) % 8)
        guard header.count <= maxHeaderBytes else {
            throw RNNKitError(.badUsage, "the safetensors header would take \(header.count) bytes, above the limit "
                + "\(maxHeaderBytes) that readers accept", file: path)
        }

        try FileSink.write(to: path) { sink in
            let length = UInt64(header.count)
            try sink.write((0..<8).map { UInt8(truncatingIfNeeded: length >> (8 * $0)) })
            try sink.write(header)
            for name in names {
                try sink.writeLittleEndian(tensors[name]!.scalars)
            }
        }
    }

    /// Whether a file starting with `firstBytes` (at least 9 of them) and `fileSize` bytes long
    /// looks like safetensors: a header length from 2 to 100 MB that fits the file, and a
    /// header starting with '{'. JSON, HDF5 and ZIP files never pass: their first 8 bytes make
    /// a length far above the limit.
    static func looksLikeSafetensors(_ firstBytes: [UInt8], fileSize: Int) -> Bool {
        guard firstBytes.count >= 9, fileSize >= 10 else { return false }
        let length = LittleEndianBytes(firstBytes, base: 0).u64(0)
        return length >= 2 && length <= UInt64(maxHeaderBytes) && length <= UInt64(fileSize - 8)
            && firstBytes[8] == UInt8(ascii: "{")
    }
}

// MARK: - Header

extension SafetensorsFile {
    /// The element types of the format. RNNKit reads the floating-point ones (`isReadable`).
    enum DType: String {
        case f32 = "F32", f16 = "F16", bf16 = "BF16", f64 = "F64"
        case bool = "BOOL", u8 = "U8", i8 = "I8", u16 = "U16", i16 = "I16", u32 = "U32", i32 = "I32"
        case u64 = "U64", i64 = "I64", f8e5m2 = "F8_E5M2", f8e4m3 = "F8_E4M3", f8e8m0 = "F8_E8M0"
        case c64 = "C64", f4 = "F4", f6e2m3 = "F6_E2M3", f6e3m2 = "F6_E3M2"

        var isReadable: Bool { [.f32, .f16, .bf16, .f64].contains(self) }

        var itemSize: Int {
            switch self {
            case .f64, .u64, .i64, .c64: 8
            case .f32, .u32, .i32: 4
            case .f16, .bf16, .u16, .i16: 2
            default: 1
            }
        }
    }

    /// One tensor as the header describes it; offsets relative to the byte buffer.
    struct Entry {
        var name: String
        var dtype: DType
        var shape: [Int]
        var begin: Int
        var end: Int
    }

    struct Header {
        /// In data order.
        var entries: [Entry]
        var metadata: [String: String]
        /// File offset of the byte buffer: 8 + N.
        var dataStart: UInt64
    }

    /// Makes the error of a header check: its message, and the tensor or key it is about.
    typealias HeaderFailure = (_ message: String, _ location: String?) -> RNNKitError

    /// Reads and checks the header against the file: everything but the data itself.
    static func readHeader(_ file: ReadableFile) throws -> Header {
        let failure: HeaderFailure = { message, location in
            RNNKitError(.unreadable, message, file: file.path, location: location.map(oneLine))
        }
        let headerBytes = try readHeaderBytes(file, failure: failure)
        // The scan bounds what the parser will build, so it comes first.
        try checkStrict(headerBytes, failure: failure)
        let root = try parseHeader(headerBytes, failure: failure)
        let (entries, metadata) = try entriesAndMetadata(root, failure: failure)
        let dataStart = 8 + UInt64(headerBytes.count)
        let inDataOrder = try tiling(entries, bufferSize: file.size - dataStart, failure: failure)
        return Header(entries: inDataOrder, metadata: metadata, dataStart: dataStart)
    }

    /// The `N` header bytes after the 8-byte length, once `N` is within the limit and the file.
    private static func readHeaderBytes(_ file: ReadableFile, failure: HeaderFailure) throws -> [UInt8] {
        guard file.size >= 8 else {
            throw failure("truncated: \(file.size) byte(s), but a safetensors file starts with an 8-byte header length",
                          nil)
        }
        var lengthBytes = [UInt8](repeating: 0, count: 8)
        try lengthBytes.withUnsafeMutableBytes { try file.read(into: $0, at: 0) }
        let length = LittleEndianBytes(lengthBytes, base: 0).u64(0)
        guard length <= UInt64(maxHeaderBytes) else {
            throw failure("header length \(length) is above the limit of \(maxHeaderBytes) bytes", nil)
        }
        guard length <= file.size - 8 else {
            throw failure("truncated: the header length is \(length) bytes, but only \(file.size - 8) byte(s) "
                + "follow it", nil)
        }
        var headerBytes = [UInt8](repeating: 0, count: Int(length))
        try headerBytes.withUnsafeMutableBytes { try file.read(into: $0, at: 8) }
        return headerBytes
    }

    /// The header as a JSON object.
    private static func parseHeader(_ bytes: [UInt8], failure: HeaderFailure) throws -> JSONObject {
        let json: JSONValue
        do {
            json = try JSONParser.parse(bytes: bytes, maxDepth: maxNesting + 1)
        } catch let error as RNNKitError {
            throw failure("the header is not JSON: \(error.message)", error.location)
        }
        guard let root = json.objectValue else { throw failure("the header is not a JSON object", nil) }
        return root
    }

    /// Each tensor's description, checked on its own, and the `__metadata__` strings.
    private static func entriesAndMetadata(_ root: JSONObject, failure: HeaderFailure) throws
        -> (entries: [Entry], metadata: [String: String]) {
        var entries: [Entry] = []
        var metadata: [String: String] = [:]
        for (name, value) in root.entries {
            guard name == metadataKey else {
                entries.append(try entry(name, value, failure: failure))
                continue
            }
            if value.isNull { continue }
            guard let object = value.objectValue else {
                throw failure("'\(metadataKey)' is not an object of strings", metadataKey)
            }
            for (key, item) in object.entries {
                guard let string = item.stringValue else {
                    throw failure("metadata value '\(oneLine(key))' is not a string", metadataKey)
                }
                metadata[key] = string
            }
        }
        return (entries, metadata)
    }

    /// `entries` in data order, once their offsets, sorted, tile the `bufferSize`-byte buffer:
    /// no gap, no overlap, nothing after, and each takes the bytes its shape and dtype need.
    private static func tiling(_ entries: [Entry], bufferSize: UInt64, failure: HeaderFailure) throws -> [Entry] {
        let sorted = entries.sorted { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        var position = 0
        var previous: String?
        for entry in sorted {
            if entry.begin > position {
                let after = previous.map { "the previous tensor '\(oneLine($0))' ends at byte \(position)" }
                    ?? "the byte buffer starts at 0"
                throw failure("gap in the byte buffer: data_offsets begin at byte \(entry.begin), but \(after)",
                              entry.name)
            }
            if entry.begin < position {
                throw failure("data_offsets [\(entry.begin), \(entry.end)] overlap the previous tensor "
                    + "'\(oneLine(previous ?? ""))', which ends at byte \(position)", entry.name)
            }
            try checkByteCount(entry, failure: failure)
            position = entry.end
            previous = entry.name
        }
        if UInt64(position) > bufferSize {
            throw failure("truncated: the tensors take \(position) byte(s) of data, but the file holds only "
                + "\(bufferSize)", nil)
        }
        if UInt64(position) < bufferSize {
            throw failure("\(bufferSize - UInt64(position)) trailing byte(s) after the tensors' data, "
                + "which ends at byte \(position) of the \(bufferSize)-byte buffer", nil)
        }
        return sorted
    }

    /// Requires `shape × itemsize` (overflow-checked) to equal the bytes `data_offsets` hold.
    private static func checkByteCount(_ entry: Entry, failure: HeaderFailure) throws {
        let shape = formatShape(entry.shape), dtype = entry.dtype.rawValue
        guard let count = Tensor.checkedElementCount(entry.shape) else {
            throw failure("shape \(shape) holds too many elements", entry.name)
        }
        let (bytes, overflow) = count.multipliedReportingOverflow(by: entry.dtype.itemSize)
        guard !overflow else {
            throw failure("shape \(shape) of \(dtype) is too many bytes", entry.name)
        }
        guard bytes == entry.end - entry.begin else {
            throw failure("shape \(shape) of \(dtype) takes \(bytes) byte(s), "
                + "but data_offsets [\(entry.begin), \(entry.end)] hold \(entry.end - entry.begin)", entry.name)
        }
    }

    /// One tensor's description, checked on its own.
    private static func entry(_ name: String, _ value: JSONValue,
                              failure: HeaderFailure) throws -> Entry {
        guard let object = value.objectValue else {
            throw failure("a tensor is an object {\"dtype\", \"shape\", \"data_offsets\"}", name)
        }
        for key in object.keys where !["dtype", "shape", "data_offsets"].contains(key) {
            throw failure("unknown key '\(oneLine(key))' (expected dtype, shape, data_offsets)", name)
        }
        guard let dtypeName = object["dtype"]?.stringValue else { throw failure("no 'dtype' string", name) }
        guard let dtype = DType(rawValue: dtypeName) else {
            throw failure("unknown dtype '\(oneLine(dtypeName))'", name)
        }
        guard dtype.isReadable else {
            throw failure("dtype \(dtype.rawValue) is not supported: RNNKit reads F32, F16, BF16 and F64 tensors", name)
        }
        func integer(_ value: JSONValue) -> Int? {
            guard case .number(let text) = value, let number = UInt64(text), number <= UInt64(Int.max) else {
                return nil
            }
            return Int(number)
        }
        guard let dimensions = object["shape"]?.arrayValue else { throw failure("no 'shape' list", name) }
        var shape: [Int] = []
        for dimension in dimensions {
            guard let size = integer(dimension) else {
                throw failure("'shape' holds something other than non-negative integers", name)
            }
            shape.append(size)
        }
        guard let offsets = object["data_offsets"]?.arrayValue, offsets.count == 2,
              let begin = integer(offsets[0]), let end = integer(offsets[1]) else {
            throw failure("'data_offsets' is not a list of two non-negative integers [begin, end]", name)
        }
        guard begin <= end else {
            throw failure("data_offsets [\(begin), \(end)] end before they begin", name)
        }
        return Entry(name: name, dtype: dtype, shape: shape, begin: begin, end: end)
    }

    /// Lists and objects nest at most this deep in a header: the top-level object, a tensor,
    /// its shape.
    static let maxNesting = 3
    /// Most items in one list (the rank of a shape; NumPy's own limit is 64).
    static let maxListItems = 64
    /// Most keys in the whole header: a bound on what parsing it builds, far above real files.
    static let maxKeys = 1_000_000

    /// Scans the header before it is parsed. Refuses what would make parsing expensive (nesting,
    /// lists or key counts beyond any real header), what json-c lets through in its non-strict
    /// mode but JSON (and the reference reader) does not (comments, single-quoted strings,
    /// unquoted keys, trailing commas), and duplicate keys, which json-c would silently merge.
    /// Syntax errors it does not see are the parser's to report.
    static func checkStrict(_ bytes: [UInt8], failure: @escaping HeaderFailure) throws {
        var scan = StrictScan(bytes: bytes, failure: failure)
        try scan.run()
    }

    /// The one pass of `checkStrict` over the header bytes. It skips strings, and keeps for each
    /// open list or object what it has seen, which is all the checks need.
    private struct StrictScan {
        struct Level {
            var isObject: Bool
            var keys: Set<String> = []
            var expectsKey = false
            var lastKey: String?
            /// The key this object is the value of, for messages.
            var name: String?
            var items = 0
        }
        static let quote = UInt8(ascii: "\""), comma = UInt8(ascii: ","), openList = UInt8(ascii: "[")
        static let closeList = UInt8(ascii: "]"), openObject = UInt8(ascii: "{"), closeObject = UInt8(ascii: "}")

        let bytes: [UInt8]
        let failure: HeaderFailure
        var stack: [Level] = []
        var keyCount = 0
        /// The last byte outside strings and whitespace ('"' after a string).
        var previous: UInt8 = 0

        init(bytes: [UInt8], failure: @escaping HeaderFailure) {
            self.bytes = bytes
            self.failure = failure
        }

        func fail(_ message: String) -> RNNKitError { failure("the header is not JSON: " + message, nil) }

        mutating func run() throws {
            var index = 0
            while index < bytes.count {
                let byte = bytes[index]
                if byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D {
                    index += 1
                    continue
                }
                try countListItem(startingWith: byte)
                if let top = stack.last, top.isObject, top.expectsKey, byte != Self.quote, byte != Self.closeObject {
                    throw fail("object keys must be double-quoted strings")
                }
                switch byte {
                case Self.quote:
                    index = try skipString(at: index)
                case Self.openObject, Self.openList:
                    try open(byte)
                case Self.closeObject, Self.closeList:
                    if previous == Self.comma { throw fail("trailing comma before '\(Character(Unicode.Scalar(byte)))'") }
                    _ = stack.popLast()
                case Self.comma:
                    if let top = stack.last, top.isObject { stack[stack.count - 1].expectsKey = true }
                case UInt8(ascii: "'"):
                    throw fail("single-quoted strings are not JSON")
                case UInt8(ascii: "/"), UInt8(ascii: "#"):
                    throw fail("comments are not JSON")
                default:
                    break
                }
                previous = byte
                index += 1
            }
        }

        /// Counts a value that starts in a list, within `maxListItems`.
        mutating func countListItem(startingWith byte: UInt8) throws {
            guard let top = stack.last, !top.isObject, byte != Self.closeList,
                  previous == Self.openList || previous == Self.comma else { return }
            stack[stack.count - 1].items += 1
            if stack[stack.count - 1].items > maxListItems {
                throw failure("a list of more than \(maxListItems) items (shapes have at most \(maxListItems) dimensions)",
                              top.name)
            }
        }

        /// Skips the string that starts at `index` and returns the index of its closing quote. A
        /// string where a key is expected is recorded as the object's key, unique within it, and
        /// counted within `maxKeys`.
        mutating func skipString(at index: Int) throws -> Int {
            var end = index + 1
            var escaped = false
            while end < bytes.count, bytes[end] != Self.quote {
                if bytes[end] == UInt8(ascii: "\\") { escaped = true; end += 1 }
                end += 1
            }
            guard end < bytes.count else { throw fail("unterminated string") }
            guard let top = stack.last, top.isObject, top.expectsKey else { return end }
            let raw = Array(bytes[index...end])
            let key = escaped
                ? ((try? JSONParser.parse(bytes: raw))?.stringValue ?? "")
                : String(decoding: raw.dropFirst().dropLast(), as: UTF8.self)
            guard stack[stack.count - 1].keys.insert(key).inserted else {
                if stack.count == 1 { throw failure("duplicate tensor name in the header", key) }
                throw failure("duplicate key '\(oneLine(key))' in the header", top.name)
            }
            stack[stack.count - 1].expectsKey = false
            stack[stack.count - 1].lastKey = key
            keyCount += 1
            if keyCount > maxKeys { throw fail("more than \(maxKeys) keys") }
            return end
        }

        /// Opens a list or an object, within `maxNesting`.
        mutating func open(_ byte: UInt8) throws {
            let name = stack.last.flatMap { $0.isObject ? $0.lastKey : $0.name }
            guard stack.count < maxNesting else {
                throw failure("lists and objects nested more than \(maxNesting) deep", name)
            }
            stack.append(Level(isObject: byte == Self.openObject, expectsKey: byte == Self.openObject, name: name))
        }
    }
}

// MARK: - Data

extension SafetensorsFile {
    static func readTensor(_ entry: Entry, dataStart: UInt64, from file: ReadableFile) throws -> Tensor {
        let count = entry.shape.reduce(1, *)  // checked by readHeader
        let offset = dataStart + UInt64(entry.begin)
        let scalars: [Float]
        switch entry.dtype {
        case .f32:
            var values = [Float](repeating: 0, count: count)
            try values.withUnsafeMutableBytes { try file.read(into: $0, at: offset) }
            if UInt32(littleEndian: 1) != 1 {
                values = values.map { Float(bitPattern: UInt32(littleEndian: $0.bitPattern)) }
            }
            scalars = values
        case .f64:
            var values = [UInt64](repeating: 0, count: count)
            try values.withUnsafeMutableBytes { try file.read(into: $0, at: offset) }
            scalars = values.map { Float(Double(bitPattern: UInt64(littleEndian: $0))) }
        case .f16, .bf16:
            var values = [UInt16](repeating: 0, count: count)
            try values.withUnsafeMutableBytes { try file.read(into: $0, at: offset) }
            scalars = entry.dtype == .f16
                ? values.map { Float(halfBitPattern: UInt16(littleEndian: $0)) }
                : values.map { Float(bitPattern: UInt32(UInt16(littleEndian: $0)) << 16) }
        default:
            preconditionFailure("refused by readHeader")
        }
        return Tensor(shape: entry.shape, scalars: scalars)
    }
}

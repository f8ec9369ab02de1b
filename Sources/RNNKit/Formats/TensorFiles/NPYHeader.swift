/// The header of a NumPy `.npy` array: the Python dict literal
/// `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 4, 5), }`, parsed by a small recursive
/// descent parser for the few Python literals NumPy writes (no `eval`, no regular expressions).
struct NPYHeader: Equatable {
    var elementType: TensorElementType
    var shape: [Int]

    /// A Python literal value as it may appear in a header.
    indirect enum Literal: Equatable {
        case string(String)
        case int(Int)
        case bool(Bool)
        case none
        case tuple([Literal])
        case list([Literal])
        case dict([(String, Literal)])

        static func == (lhs: Literal, rhs: Literal) -> Bool {
            switch (lhs, rhs) {
            case let (.string(a), .string(b)): return a == b
            case let (.int(a), .int(b)): return a == b
            case let (.bool(a), .bool(b)): return a == b
            case (.none, .none): return true
            case let (.tuple(a), .tuple(b)), let (.list(a), .list(b)): return a == b
            case let (.dict(a), .dict(b)):
                return a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
            default: return false
            }
        }
    }

    /// Failures carry only a message; the caller adds the file and entry.
    struct Failure: Error { let message: String }

    /// Parses and checks header text (the bytes after the length field). `maxRank` bounds the shape.
    static func parse(_ bytes: [UInt8], utf8: Bool, maxRank: Int) throws -> NPYHeader {
        var parser = LiteralParser(bytes: bytes, utf8: utf8)
        let value = try parser.parseTopLevel()
        guard case .dict(let entries) = value else {
            throw Failure(message: "malformed .npy header: not a Python dict")
        }
        var descr: Literal?, fortran: Literal?, shape: Literal?
        for (key, entry) in entries {
            switch key {
            case "descr" where descr == nil: descr = entry
            case "fortran_order" where fortran == nil: fortran = entry
            case "shape" where shape == nil: shape = entry
            case "descr", "fortran_order", "shape":
                throw Failure(message: "malformed .npy header: key '\(key)' appears twice")
            default:
                throw Failure(message: "malformed .npy header: unexpected key '\(oneLine(key))'")
            }
        }
        guard let descr, let fortran, let shape else {
            throw Failure(message: "malformed .npy header: it needs the keys 'descr', 'fortran_order' and 'shape'")
        }

        // shape: a tuple of non-negative ints.
        guard case .tuple(let dimensions) = shape else {
            throw Failure(message: "malformed .npy header: 'shape' is not a tuple")
        }
        var dims: [Int] = []
        for dimension in dimensions {
            guard case .int(let size) = dimension else {
                throw Failure(message: "malformed .npy header: 'shape' holds something other than integers")
            }
            guard size >= 0 else {
                throw Failure(message: "malformed .npy header: negative dimension \(size) in 'shape'")
            }
            dims.append(size)
        }
        guard dims.count <= maxRank else {
            throw Failure(message: "array of rank \(dims.count): at most \(maxRank) dimensions are supported")
        }

        // descr: a simple type string; a list means a structured dtype.
        let elementType: TensorElementType
        switch descr {
        case .string(let text): elementType = try parseDescr(text)
        case .list: throw Failure(message: "structured (record) dtypes are not supported")
        default: throw Failure(message: "malformed .npy header: 'descr' is not a string")
        }

        // fortran_order: column-major data is refused unless its layout equals row-major (at most
        // one dimension larger than 1).
        guard case .bool(let isFortran) = fortran else {
            throw Failure(message: "malformed .npy header: 'fortran_order' is not True or False")
        }
        if isFortran && dims.filter({ $0 > 1 }).count > 1 {
            throw Failure(message: "Fortran-order (column-major) arrays are not supported; "
                + "save a C-order array, e.g. np.save(path, np.ascontiguousarray(a))")
        }
        return NPYHeader(elementType: elementType, shape: dims)
    }

    /// Maps a NumPy type string (`<f4`, `|u1`, `>i8`, `|O`, …) to a supported element type.
    static func parseDescr(_ text: String) throws -> TensorElementType {
        let shown = oneLine(text)
        var chars = Substring(text)
        var order: Character = "="
        if let first = chars.first, "<>|=".contains(first) {
            order = first
            chars = chars.dropFirst()
        }
        guard let kind = chars.first else {
            throw Failure(message: "malformed .npy header: empty 'descr'")
        }
        let sizeText = chars.dropFirst()
        let size = sizeText.isEmpty ? nil : Int(sizeText)
        let supported: TensorElementType?
        switch (kind, size) {
        case ("f", 2): supported = .float16
        case ("f", 4): supported = .float32
        case ("f", 8): supported = .float64
        case ("i", 1): supported = .int8
        case ("i", 2): supported = .int16
        case ("i", 4): supported = .int32
        case ("i", 8): supported = .int64
        case ("u", 1): supported = .uint8
        case ("u", 2): supported = .uint16
        case ("u", 4): supported = .uint32
        case ("u", 8): supported = .uint64
        case ("b", 1), ("?", nil): supported = .bool
        case ("O", _):
            throw Failure(message: "object arrays (pickled Python objects) are not supported")
        case ("V", _):
            throw Failure(message: "structured or void dtype '\(shown)' is not supported")
        case ("U", _), ("S", _), ("a", _):
            throw Failure(message: "string dtype '\(shown)' is not supported; arrays must be numeric")
        case ("c", _):
            throw Failure(message: "complex dtype '\(shown)' is not supported")
        case ("M", _), ("m", _):
            throw Failure(message: "date/time dtype '\(shown)' is not supported")
        default:
            supported = nil
        }
        guard let type = supported else {
            throw Failure(message: "unsupported dtype '\(shown)' (supported: <f2 <f4 <f8 |i1 <i2 <i4 <i8 "
                + "|u1 <u2 <u4 <u8 |b1)")
        }
        if type.itemSize > 1 {
            if order == ">" {
                throw Failure(message: "big-endian dtype '\(shown)' is not supported; "
                    + "convert with a.astype(a.dtype.newbyteorder('<'))")
            }
            if order == "|" {
                throw Failure(message: "malformed .npy header: dtype '\(shown)' has no byte order")
            }
            #if _endian(big)
            if order == "=" {
                throw Failure(message: "native-order dtype '\(shown)' from an unknown host is not supported")
            }
            #endif
        }
        return type
    }
}

/// Parses the Python literals of a NumPy header. Recursion is bounded by `maxDepth`.
private struct LiteralParser {
    let bytes: [UInt8]
    let utf8: Bool
    var position = 0
    var depth = 0
    static let maxDepth = 32

    init(bytes: [UInt8], utf8: Bool) {
        self.bytes = bytes
        self.utf8 = utf8
    }

    typealias Failure = NPYHeader.Failure

    private func fail(_ what: String) -> Failure {
        Failure(message: "malformed .npy header: \(what) at byte \(position) of the header")
    }

    mutating func parseTopLevel() throws -> NPYHeader.Literal {
        skipSpace()
        let value = try parseValue()
        skipSpace()
        // NumPy pads with spaces and ends with '\n'; old writers may have padded with NULs.
        while position < bytes.count, bytes[position] == 0 { position += 1 }
        guard position == bytes.count else { throw fail("unexpected text after the dict") }
        return value
    }

    private mutating func skipSpace() {
        while position < bytes.count, [0x20, 0x09, 0x0A, 0x0D, 0x0B, 0x0C].contains(bytes[position]) {
            position += 1
        }
    }

    private var current: UInt8? { position < bytes.count ? bytes[position] : nil }

    private mutating func expect(_ byte: UInt8) throws {
        skipSpace()
        guard current == byte else { throw fail("expected '\(Character(Unicode.Scalar(byte)))'") }
        position += 1
    }

    private mutating func parseValue() throws -> NPYHeader.Literal {
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maxDepth else { throw fail("nesting too deep") }
        skipSpace()
        guard let byte = current else { throw fail("unexpected end") }
        switch byte {
        case UInt8(ascii: "{"):
            position += 1
            var entries: [(String, NPYHeader.Literal)] = []
            while true {
                skipSpace()
                if current == UInt8(ascii: "}") { position += 1; return .dict(entries) }
                guard case .string(let key) = try parseValue() else { throw fail("dict key is not a string") }
                try expect(UInt8(ascii: ":"))
                entries.append((key, try parseValue()))
                skipSpace()
                if current == UInt8(ascii: ",") { position += 1; continue }
                try expect(UInt8(ascii: "}"))
                return .dict(entries)
            }
        case UInt8(ascii: "("):
            position += 1
            skipSpace()
            if current == UInt8(ascii: ")") { position += 1; return .tuple([]) }
            let first = try parseValue()
            skipSpace()
            // `(5)` is a parenthesised 5 in Python, not a tuple.
            if current == UInt8(ascii: ")") { position += 1; return first }
            var elements = [first]
            try expect(UInt8(ascii: ","))
            while true {
                skipSpace()
                if current == UInt8(ascii: ")") { position += 1; return .tuple(elements) }
                elements.append(try parseValue())
                skipSpace()
                if current == UInt8(ascii: ",") { position += 1; continue }
                try expect(UInt8(ascii: ")"))
                return .tuple(elements)
            }
        case UInt8(ascii: "["):
            position += 1
            var elements: [NPYHeader.Literal] = []
            while true {
                skipSpace()
                if current == UInt8(ascii: "]") { position += 1; return .list(elements) }
                elements.append(try parseValue())
                skipSpace()
                if current == UInt8(ascii: ",") { position += 1; continue }
                try expect(UInt8(ascii: "]"))
                return .list(elements)
            }
        case UInt8(ascii: "'"), UInt8(ascii: "\""):
            return .string(try parseString())
        case UInt8(ascii: "u") where position + 1 < bytes.count
            && (bytes[position + 1] == UInt8(ascii: "'") || bytes[position + 1] == UInt8(ascii: "\"")):
            position += 1  // Python 2 unicode literal
            return .string(try parseString())
        case UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return .int(try parseInt())
        default:
            let start = position
            while let c = current, isIdentifierByte(c) { position += 1 }
            switch String(decoding: bytes[start..<position], as: UTF8.self) {
            case "True": return .bool(true)
            case "False": return .bool(false)
            case "None": return .none
            default:
                position = start
                // Version 1 and 2 headers are Latin-1, where a byte is its own scalar.
                throw fail("unexpected character '\(oneLine(String(Unicode.Scalar(byte))))'")
            }
        }
    }

    private func isIdentifierByte(_ c: UInt8) -> Bool {
        (0x41...0x5A).contains(c) || (0x61...0x7A).contains(c) || (0x30...0x39).contains(c) || c == 0x5F
    }

    private mutating func parseString() throws -> String {
        let quote = bytes[position]
        position += 1
        var content: [UInt8] = []
        while true {
            guard let c = current else { throw fail("unterminated string") }
            position += 1
            if c == quote { break }
            if c == 0x0A { throw fail("newline inside a string") }
            if c == UInt8(ascii: "\\") {
                guard let escaped = current else { throw fail("unterminated string") }
                position += 1
                switch escaped {
                case UInt8(ascii: "n"): content.append(0x0A)
                case UInt8(ascii: "t"): content.append(0x09)
                case UInt8(ascii: "r"): content.append(0x0D)
                case UInt8(ascii: "0"): content.append(0)
                default: content.append(escaped)  // \\ \' \" and anything else taken literally
                }
                continue
            }
            content.append(c)
        }
        if utf8 {
            guard let text = String(validating: content, as: UTF8.self) else { throw fail("invalid UTF-8 in a string") }
            return text
        }
        // Versions 1.0 and 2.0 headers are Latin-1.
        return String(String.UnicodeScalarView(content.map { Unicode.Scalar($0) }))
    }

    private mutating func parseInt() throws -> Int {
        var negative = false
        if current == UInt8(ascii: "-") || current == UInt8(ascii: "+") {
            negative = current == UInt8(ascii: "-")
            position += 1
            skipSpace()
        }
        var value = 0
        var digits = 0
        while let c = current, (0x30...0x39).contains(c) {
            let (times, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times.addingReportingOverflow(Int(c - 0x30))
            guard !o1, !o2 else { throw fail("integer too large") }
            value = sum
            digits += 1
            position += 1
        }
        guard digits > 0 else { throw fail("expected digits") }
        // Python 2 long integers: 3L.
        if current == UInt8(ascii: "L") || current == UInt8(ascii: "l") { position += 1 }
        if let c = current, isIdentifierByte(c) || c == UInt8(ascii: ".") {
            throw fail("not an integer")
        }
        return negative ? -value : value
    }
}

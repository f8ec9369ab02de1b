import Foundation

/// A JSON value of a request body, parsed by `RequestJSON.parse`: the server's own small parser,
/// because request bodies come from strangers (it is the libFuzzer target `serve_request`) and
/// because predictions are mostly numbers, which it reads without making a String for each.
/// Not `indirect`: lists keep their elements inline in arrays, so a number allocates nothing, and
/// a list of numbers only (most of a predict body) is kept as `numbers`, 9 bytes a number.
public enum RequestJSON: Equatable, Sendable {
    case null
    case bool(Bool)
    /// `isInteger`: written without fraction or exponent and within Int64, as TF Serving's
    /// parser (rapidjson) tells integers from decimals.
    case number(Double, isInteger: Bool)
    case string(String)
    /// A list with at least one element that is not a number (and the empty list).
    case array([RequestJSON])
    /// A list of numbers only: the same as `.array` of `.number`s, in less memory.
    case numbers(NumberList)
    /// Members in the order written; a repeated key keeps its first value when looked up.
    case object([(key: String, value: RequestJSON)])

    public struct NumberList: Equatable, Sendable {
        public var values: [Double] = []
        /// `isInteger` of each value, as in `.number`.
        public var integers: [Bool] = []

        public var count: Int { values.count }

        public static func == (lhs: NumberList, rhs: NumberList) -> Bool {
            lhs.integers == rhs.integers
                && zip(lhs.values, rhs.values).allSatisfy { $0 == $1 || ($0.isNaN && $1.isNaN) }
        }
    }

    /// The elements of a list (`.array` or `.numbers`), nil for anything else.
    public var elements: [RequestJSON]? {
        switch self {
        case .array(let items): return items
        case .numbers(let list): return zip(list.values, list.integers).map { .number($0, isInteger: $1) }
        default: return nil
        }
    }

    public static func == (lhs: RequestJSON, rhs: RequestJSON) -> Bool {
        switch (lhs, rhs) {
        case let (.numbers(a), .numbers(b)): return a == b
        case (.numbers, .array), (.array, .numbers): return lhs.elements! == rhs.elements!
        case (.null, .null): return true
        case let (.bool(a), .bool(b)): return a == b
        case let (.number(a, ai), .number(b, bi)): return (a == b || (a.isNaN && b.isNaN)) && ai == bi
        case let (.string(a), .string(b)): return a == b
        case let (.array(a), .array(b)): return a == b
        case let (.object(a), .object(b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        default: return false
        }
    }

    /// The first member named `key` of an object.
    public subscript(key: String) -> RequestJSON? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.key == key }?.value
    }

    /// JSON's name for the value's type, as TF Serving's messages name it.
    public var typeName: String {
        switch self {
        case .null: return "Null"
        case .bool(let value): return value ? "True" : "False"
        case .number: return "Number"
        case .string: return "String"
        case .array, .numbers: return "Array"
        case .object: return "Object"
        }
    }

    /// A short rendering for error messages: at most about 60 characters of it.
    public var excerpt: String {
        let text: String
        switch self {
        case .null: text = "null"
        case .bool(let value): text = value ? "true" : "false"
        // An integer literal near 2^63 rounds to a Double that Int64 cannot hold.
        case .number(let value, let isInteger): text = isInteger && abs(value) < 9e18 ? String(Int64(value)) : "\(value)"
        case .string(let value): text = Self.quoted(value.count > 40 ? value.prefix(40) + "..." : value)
        case .array, .numbers:
            let items = (self.elements ?? []).prefix(5)
            text = "[" + items.prefix(4).map(\.excerpt).joined(separator: ",") + (items.count > 4 ? ",...]" : "]")
        case .object(let members): text = "{" + members.prefix(3).map { Self.quoted($0.key) + ":" + $0.value.excerpt }.joined(separator: ",") + (members.count > 3 ? ",...}" : "}")
        }
        return text.count > 64 ? String(text.prefix(61)) + "..." : text
    }

    /// A string as JSON writes it, escapes included, so that a message stays on one line.
    static func quoted(_ value: String) -> String {
        var text = JSONText()
        text.appendString(value)
        return String(decoding: text.bytes, as: UTF8.self)
    }
}

/// A body that is not JSON, with the byte offset where reading stopped.
public struct RequestJSONError: Error, Equatable, CustomStringConvertible {
    public var reason: String
    public var offset: Int
    public var description: String { "JSON Parse error: \(reason) at offset: \(offset)" }
}

extension RequestJSON {
    /// Deeper nesting than this is refused: a tensor has a handful of dimensions, and a
    /// recursive parser must not be driven into the stack's end.
    public static let maximumDepth = 64

    /// Parses one JSON document (RFC 8259, plus TF Serving's `NaN`, `Infinity` and `-Infinity`).
    /// What it allocates is proportional to the body's length (at most 24 bytes per 2 bytes of
    /// body, for a list of one-digit numbers), whatever the body says.
    public static func parse<Bytes: Collection<UInt8>>(_ body: Bytes) throws(RequestJSONError) -> RequestJSON {
        // A NUL after the text lets the number reader (strtod) stop at the body's end.
        var bytes = [UInt8]()
        bytes.reserveCapacity(body.count + 1)
        bytes.append(contentsOf: body)
        bytes.append(0)
        return try bytes.withUnsafeBufferPointer { buffer throws(RequestJSONError) in
            var parser = RequestJSONParser(bytes: buffer, end: buffer.count - 1)
            if parser.end == 0 { throw RequestJSONError(reason: "The document is empty.", offset: 0) }
            let value = try parser.value(depth: 0)
            parser.skipWhitespace()
            guard parser.position == parser.end else {
                throw RequestJSONError(reason: "The document root must not be followed by other values.",
                                       offset: parser.position)
            }
            return value
        }
    }
}

private struct RequestJSONParser {
    let bytes: UnsafeBufferPointer<UInt8>
    /// Index of the NUL that follows the text.
    let end: Int
    var position = 0

    init(bytes: UnsafeBufferPointer<UInt8>, end: Int) {
        self.bytes = bytes
        self.end = end
    }

    func fail(_ reason: String, at offset: Int? = nil) -> RequestJSONError {
        RequestJSONError(reason: reason, offset: offset ?? position)
    }

    mutating func skipWhitespace() {
        while position < end {
            switch bytes[position] {
            case 0x20, 0x09, 0x0A, 0x0D: position += 1
            default: return
            }
        }
    }

    mutating func value(depth: Int) throws(RequestJSONError) -> RequestJSON {
        guard depth < RequestJSON.maximumDepth else {
            throw fail("Nesting deeper than \(RequestJSON.maximumDepth) levels.")
        }
        skipWhitespace()
        guard position < end else { throw fail("Invalid value.") }
        switch bytes[position] {
        case UInt8(ascii: "{"): return try object(depth: depth)
        case UInt8(ascii: "["): return try array(depth: depth)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "N"): try literal("NaN"); return .number(.nan, isInteger: false)
        case UInt8(ascii: "I"): try literal("Infinity"); return .number(.infinity, isInteger: false)
        case UInt8(ascii: "-") where position + 1 < end && bytes[position + 1] == UInt8(ascii: "I"):
            position += 1
            try literal("Infinity")
            return .number(-.infinity, isInteger: false)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
        default: throw fail("Invalid value.")
        }
    }

    mutating func literal(_ word: StaticString) throws(RequestJSONError) {
        let start = position
        let count = word.utf8CodeUnitCount
        guard end - position >= count else { throw fail("Invalid value.", at: start) }
        for index in 0..<count where bytes[position + index] != word.utf8Start[index] {
            throw fail("Invalid value.", at: start)
        }
        position += count
    }

    mutating func object(depth: Int) throws(RequestJSONError) -> RequestJSON {
        position += 1
        var members: [(key: String, value: RequestJSON)] = []
        skipWhitespace()
        if position < end && bytes[position] == UInt8(ascii: "}") {
            position += 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard position < end, bytes[position] == UInt8(ascii: "\"") else {
                throw fail("Missing a name for object member.")
            }
            let key = try string()
            skipWhitespace()
            guard position < end, bytes[position] == UInt8(ascii: ":") else {
                throw fail("Missing a colon after a name of object member.")
            }
            position += 1
            members.append((key, try value(depth: depth + 1)))
            skipWhitespace()
            guard position < end else { throw fail("Missing a comma or '}' after an object member.") }
            if bytes[position] == UInt8(ascii: ",") {
                position += 1
            } else if bytes[position] == UInt8(ascii: "}") {
                position += 1
                return .object(members)
            } else {
                throw fail("Missing a comma or '}' after an object member.")
            }
        }
    }

    mutating func array(depth: Int) throws(RequestJSONError) -> RequestJSON {
        position += 1
        var items: [RequestJSON] = []
        // Numbers gather here while every element so far is a number.
        var numbers: RequestJSON.NumberList? = RequestJSON.NumberList()
        skipWhitespace()
        if position < end && bytes[position] == UInt8(ascii: "]") {
            position += 1
            return .array(items)
        }
        while true {
            let item = try value(depth: depth + 1)
            if case .number(let number, let isInteger) = item, numbers != nil {
                numbers!.values.append(number)
                numbers!.integers.append(isInteger)
            } else {
                if let gathered = numbers {
                    items = RequestJSON.numbers(gathered).elements!
                    numbers = nil
                }
                items.append(item)
            }
            skipWhitespace()
            guard position < end else { throw fail("Missing a comma or ']' after an array element.") }
            if bytes[position] == UInt8(ascii: ",") {
                position += 1
            } else if bytes[position] == UInt8(ascii: "]") {
                position += 1
                return numbers.map(RequestJSON.numbers) ?? .array(items)
            } else {
                throw fail("Missing a comma or ']' after an array element.")
            }
        }
    }

    /// Reads a number whose text follows JSON's grammar exactly (no hex, no leading '+', no
    /// bare '.'), then converts it: small integers directly, everything else with strtod.
    mutating func number() throws(RequestJSONError) -> RequestJSON {
        let start = position
        func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
        var negative = false
        if bytes[position] == UInt8(ascii: "-") { negative = true; position += 1 }
        guard position < end, isDigit(bytes[position]) else { throw fail("Invalid value.", at: start) }
        var integer: UInt64 = 0
        var integerOverflow = false
        if bytes[position] == UInt8(ascii: "0") {
            position += 1
        } else {
            while position < end && isDigit(bytes[position]) {
                let (times10, overflow1) = integer.multipliedReportingOverflow(by: 10)
                let (sum, overflow2) = times10.addingReportingOverflow(UInt64(bytes[position] - UInt8(ascii: "0")))
                integerOverflow = integerOverflow || overflow1 || overflow2
                integer = sum
                position += 1
            }
        }
        var isInteger = true
        if position < end && bytes[position] == UInt8(ascii: ".") {
            isInteger = false
            position += 1
            guard position < end, isDigit(bytes[position]) else { throw fail("Missing fraction part in number.") }
            while position < end && isDigit(bytes[position]) { position += 1 }
        }
        if position < end && (bytes[position] == UInt8(ascii: "e") || bytes[position] == UInt8(ascii: "E")) {
            isInteger = false
            position += 1
            if position < end && (bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-")) {
                position += 1
            }
            guard position < end, isDigit(bytes[position]) else { throw fail("Missing exponent in number.") }
            while position < end && isDigit(bytes[position]) { position += 1 }
        }
        // Integers that fit Int64 are exact in the fast path; 2^53 and beyond round like strtod.
        if isInteger && !integerOverflow && integer <= (negative ? UInt64(Int64.max) + 1 : UInt64(Int64.max)) {
            let value = negative ? -Double(integer) : Double(integer)
            return .number(value, isInteger: true)
        }
        let base = bytes.baseAddress! + start
        let length = position - start
        let (value, consumed) = base.withMemoryRebound(to: CChar.self, capacity: length + 1) { text in
            var stop: UnsafeMutablePointer<CChar>?
            let value = strtod(text, &stop)
            return (value, stop.map { UnsafePointer($0) - text } ?? 0)
        }
        guard consumed == length else { throw fail("Invalid value.", at: start) }
        return .number(value, isInteger: false)
    }

    mutating func string() throws(RequestJSONError) -> String {
        let start = position
        position += 1
        var utf8 = [UInt8]()
        while true {
            guard position < end else { throw fail("Missing a closing quotation mark in string.", at: start) }
            let byte = bytes[position]
            switch byte {
            case UInt8(ascii: "\""):
                position += 1
                return String(decoding: utf8, as: UTF8.self)
            case UInt8(ascii: "\\"):
                position += 1
                guard position < end else { throw fail("Invalid escape character in string.") }
                let escaped = bytes[position]
                position += 1
                switch escaped {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(escaped)
                case UInt8(ascii: "b"): utf8.append(0x08)
                case UInt8(ascii: "f"): utf8.append(0x0C)
                case UInt8(ascii: "n"): utf8.append(0x0A)
                case UInt8(ascii: "r"): utf8.append(0x0D)
                case UInt8(ascii: "t"): utf8.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xD800...0xDBFF).contains(scalar) {
                        guard end - position >= 2, bytes[position] == UInt8(ascii: "\\"),
                              bytes[position + 1] == UInt8(ascii: "u")
                        else { throw fail("The surrogate pair in string is invalid.") }
                        position += 2
                        let low = try hex4()
                        guard (0xDC00...0xDFFF).contains(low) else { throw fail("The surrogate pair in string is invalid.") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00...0xDFFF).contains(scalar) {
                        throw fail("The surrogate pair in string is invalid.")
                    }
                    guard let unicode = Unicode.Scalar(scalar) else { throw fail("Invalid \\u escape in string.") }
                    UTF8.encode(unicode) { utf8.append($0) }
                default:
                    throw fail("Invalid escape character in string.", at: position - 1)
                }
            case 0..<0x20:
                throw fail("Invalid encoding in string.")
            default:
                utf8.append(byte)
                position += 1
            }
        }
    }

    mutating func hex4() throws(RequestJSONError) -> UInt32 {
        guard end - position >= 4 else { throw fail("Incorrect hex digit after \\u escape in string.") }
        var scalar: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[position]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw fail("Incorrect hex digit after \\u escape in string.")
            }
            scalar = scalar << 4 | UInt32(digit)
            position += 1
        }
        return scalar
    }
}

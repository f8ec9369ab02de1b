import Foundation
internal import CJSONC

/// Parses JSON text into `JSONValue` with json-c.
///
/// json-c runs in its default, non-strict mode because Keras (through Python's `json`) writes
/// `NaN`, `Infinity` and `-Infinity`, which strict JSON forbids; these become the numbers "nan",
/// "inf" and "-inf". The non-strict mode also lets through a few other extensions (comments,
/// single-quoted strings, a trailing comma). Numbers keep their text exactly as written.
enum JSONParser {
    /// The loaded json-c's version, from `json_c_version()`.
    static var libraryVersion: String { String(cString: json_c_version()) }

    /// Deeper nesting than this is refused outright: json-c reserves memory for `maxDepth` levels
    /// up front, and the conversion to `JSONValue` recurses once per level.
    static let depthLimit = 10_000

    /// Parses `text`, which must be one JSON value, optionally surrounded by whitespace.
    ///
    /// Values may nest `maxDepth` levels deep, the top-level value being level 1 (as json-c counts:
    /// in `[[1]]` the 1 is on level 3); deeper nesting is an error, not a crash.
    ///
    /// A text whose values would take more than `maxTreeBytes` once parsed (at
    /// `ReadLimits.jsonBytesPerValue` each) is refused before any is: `ReadLimits.maxBytes`, the
    /// largest piece held in memory.
    static func parse(_ text: String, maxDepth: Int = 256,
                      maxTreeBytes: Int = ReadLimits.default.maxBytes) throws -> JSONValue {
        // A Swift string is valid UTF-8 already.
        try parse(utf8: Array(text.utf8), maxDepth: maxDepth, validating: false, maxTreeBytes: maxTreeBytes)
    }

    /// Parses UTF-8 bytes as `parse(_:maxDepth:maxTreeBytes:)` does; invalid UTF-8 is an error.
    static func parse(bytes: [UInt8], maxDepth: Int = 256,
                      maxTreeBytes: Int = ReadLimits.default.maxBytes) throws -> JSONValue {
        try parse(utf8: bytes, maxDepth: maxDepth, validating: true, maxTreeBytes: maxTreeBytes)
    }

    private static func parse(utf8 bytes: [UInt8], maxDepth: Int, validating: Bool,
                              maxTreeBytes: Int) throws -> JSONValue {
        guard (1...depthLimit).contains(maxDepth) else {
            throw RNNKitError(.badUsage, "JSON nesting limit \(maxDepth) is outside 1...\(depthLimit)")
        }
        guard bytes.count < Int32.max else {
            throw RNNKitError(.unreadable, "JSON text of \(bytes.count) bytes is too large")
        }
        let values = mostValues(in: bytes)
        let bytesPerValue = ReadLimits.jsonBytesPerValue
        guard values <= maxTreeBytes / bytesPerValue else {
            throw RNNKitError(.unreadable, "JSON text of up to \(values) values, which would take about "
                + "\(values * bytesPerValue) bytes parsed; the limit is \(maxTreeBytes)")
                .lifted(by: .byteLimit(maxTreeBytes))
        }
        guard let tokener = json_tokener_new_ex(Int32(maxDepth)) else {
            throw RNNKitError(.unreadable, "cannot start the JSON parser: out of memory")
        }
        defer { json_tokener_free(tokener) }
        if validating {
            json_tokener_set_flags(tokener, JSON_TOKENER_VALIDATE_UTF8)
        }

        // json-c cannot tell whether a number at the very end is complete ("12" may go on as
        // "123") and waits for more input; a NUL after the text ends it.
        let terminated = bytes + [0]
        let root = terminated.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { characters in
                json_tokener_parse_ex(tokener, characters.baseAddress, Int32(characters.count))
            }
        }
        defer { json_object_put(root) }

        let status = json_tokener_get_error(tokener)
        let end = json_tokener_get_parse_end(tokener)
        guard status == json_tokener_success else {
            throw syntaxError(in: bytes, at: end, String(cString: json_tokener_error_desc(status)))
        }
        if let extra = bytes[min(end, bytes.count)...].firstIndex(where: { !isWhitespace($0) }) {
            throw syntaxError(in: bytes, at: extra, "unexpected text after the JSON value")
        }
        return try value(of: root)
    }

    /// At least the number of values `bytes` holds, counted without parsing: each value but a
    /// container's first follows a comma, and each container adds one, so commas, opening
    /// brackets and braces outside double-quoted strings, plus one. (Comments and single-quoted
    /// strings, which json-c also takes, only raise the count.)
    private static func mostValues(in bytes: [UInt8]) -> Int {
        var count = 1, inString = false, escaped = false
        for byte in bytes {
            if inString {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
            } else {
                switch byte {
                case UInt8(ascii: ","), UInt8(ascii: "["), UInt8(ascii: "{"): count += 1
                case UInt8(ascii: "\""): inString = true
                default: break
                }
            }
        }
        return count
    }

    /// Converts a json-c object; nil is json-c's JSON null.
    private static func value(of object: OpaquePointer?) throws -> JSONValue {
        guard let object else { return .null }
        switch json_object_get_type(object) {
        case json_type_boolean:
            return .bool(json_object_get_boolean(object) != 0)
        case json_type_int:
            // json-c stores integers as int64 or uint64 and clamps anything beyond to these
            // bounds, so they may not be what the text said.
            let text = String(cString: json_object_get_string(object))
            guard text != String(Int64.min), text != String(UInt64.max) else {
                throw RNNKitError(.unreadable, "integer out of range: integers must lie strictly between -2^63 and 2^64-1")
            }
            return .number(text)
        case json_type_double:
            // json-c keeps the text of a parsed double and prints it back unchanged.
            return .number(numberText(String(cString: json_object_get_string(object))))
        case json_type_string:
            let length = Int(json_object_get_string_len(object))
            let bytes = UnsafeRawBufferPointer(start: json_object_get_string(object), count: length)
            return .string(String(decoding: bytes, as: UTF8.self))
        case json_type_array:
            let count = json_object_array_length(object)
            var elements: [JSONValue] = []
            elements.reserveCapacity(count)
            for index in 0..<count {
                do {
                    elements.append(try value(of: json_object_array_get_idx(object, index)))
                } catch let error as RNNKitError {
                    throw error.below("\(index)")
                }
            }
            return .array(elements)
        case json_type_object:
            // json-c keeps an object's keys in insertion (document) order.
            var entries: [(key: String, value: JSONValue)] = []
            var iterator = json_object_iter_begin(object)
            var end = json_object_iter_end(object)
            while json_object_iter_equal(&iterator, &end) == 0 {
                let key = String(cString: json_object_iter_peek_name(&iterator))
                do {
                    entries.append((key, try value(of: json_object_iter_peek_value(&iterator))))
                } catch let error as RNNKitError {
                    throw error.below(key)
                }
                json_object_iter_next(&iterator)
            }
            return .object(JSONObject(entries))
        default:
            // json_type_null; json-c normally represents null as a nil object, handled above.
            return .null
        }
    }

    /// The text of a parsed double, with json-c's spellings of the non-numbers (`NaN`, `Infinity`,
    /// `-Infinity`, also accepted in other cases) normalised to Swift's "nan", "inf", "-inf".
    private static func numberText(_ text: String) -> String {
        guard text.drop(while: { $0 == "-" }).first?.isLetter == true, let number = Double(text) else {
            return text
        }
        if number.isNaN { return "nan" }
        return number < 0 ? "-inf" : "inf"
    }

    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }

    /// "invalid JSON at line L, column C: …" for the byte at `offset`; columns count characters.
    private static func syntaxError(in bytes: [UInt8], at offset: Int, _ description: String) -> RNNKitError {
        let before = bytes.prefix(offset)
        let line = 1 + before.count(where: { $0 == 0x0A })
        let lineStart = before.lastIndex(of: 0x0A).map { $0 + 1 } ?? 0
        // UTF-8 continuation bytes (10xxxxxx) do not start a character.
        let column = 1 + before[lineStart...].count(where: { $0 & 0xC0 != 0x80 })
        return RNNKitError(.unreadable, "invalid JSON at line \(line), column \(column): \(description)")
    }
}

private extension RNNKitError {
    /// The same error one level further down: `key` is prefixed to its JSON pointer.
    func below(_ key: String) -> RNNKitError {
        var copy = self
        let escaped = key.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1")
        copy.location = "/" + escaped + (location ?? "")
        return copy
    }
}

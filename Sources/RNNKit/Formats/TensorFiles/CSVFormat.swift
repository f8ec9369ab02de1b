import Foundation

/// Numeric CSV: one time step per row, one feature per column.
///
/// Fields are separated by commas; records end with `\n`, `\r\n` or `\r`. A field may be quoted
/// (`"1.5"`, with `""` for a quote inside); spaces and tabs around fields are ignored; blank lines
/// are skipped; a UTF-8 byte order mark is allowed. The first record is a header, and skipped,
/// when none of its fields is a number. Numbers are decimal (`-1`, `2.5`, `.5`, `1e-3`) or `nan`,
/// `inf`, `infinity` (any case, optionally signed); each is rounded once to float32.
enum CSVFormat {
    static func read(_ path: String, window: Int?, limits: TensorFileLimits) throws -> NamedTensor {
        if let window, window < 1 {
            throw RNNKitError(.badUsage, "the window length must be at least 1, not \(window)", file: path)
        }
        let file = try ReadableFile(path: path)
        let bytes = try file.readAll(maxBytes: limits.maxCSVBytes, what: "CSV")
        guard !bytes.contains(0) else {
            throw RNNKitError(.unreadable, "not a CSV text file (it contains NUL bytes)", file: path)
        }
        guard String(validating: bytes, as: UTF8.self) != nil else {
            throw RNNKitError(.unreadable, "not a CSV text file (not UTF-8)", file: path)
        }
        var table = try parse(bytes, path: path)
        guard table.rows > 0 else {
            throw RNNKitError(.unreadable, "no data rows" + (table.hasHeader ? " after the header" : ""), file: path)
        }

        let rows = table.rows, columns = table.columns
        let elementType: TensorElementType = table.allIntegers ? .int64 : .float32
        guard let window else {
            return NamedTensor(name: TensorFile.defaultName,
                               tensor: Tensor(shape: [1, rows, columns], scalars: table.values),
                               elementType: elementType, roundedIntegers: table.roundedIntegers)
        }
        guard window <= rows else {
            throw RNNKitError(.badUsage, "the window length \(window) is longer than the \(rows) data rows", file: path)
        }
        let count = rows - window + 1
        let shape = [count, window, columns]
        guard let elements = Tensor.checkedElementCount(shape),
              case let (bytesNeeded, overflow) = elements.multipliedReportingOverflow(by: 4), !overflow,
              bytesNeeded <= limits.maxArrayBytes else {
            throw RNNKitError(.badUsage, "too large: \(count) windows of \(window) rows would take more than "
                + "\(limits.maxArrayBytes) bytes", file: path)
        }
        var scalars: [Float] = []
        scalars.reserveCapacity(elements)
        let stride = window * columns
        for start in 0..<count {
            scalars.append(contentsOf: table.values[(start * columns)..<(start * columns + stride)])
        }
        table.values = []
        return NamedTensor(name: TensorFile.defaultName, tensor: Tensor(shape: shape, scalars: scalars),
                           elementType: elementType, roundedIntegers: table.roundedIntegers)
    }

    struct Table {
        var values: [Float] = []
        var rows = 0
        var columns = 0
        var hasHeader = false
        var allIntegers = true
        var roundedIntegers = false
    }

    static func parse(_ bytes: [UInt8], path: String) throws -> Table {
        var table = Table()
        var position = 0
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { position = 3 }
        var line = 1
        var columnsLine = 0
        var sawFirst = false
        var fields: [[UInt8]] = []

        func error(_ message: String, _ at: Int) -> RNNKitError {
            RNNKitError(.unreadable, message, file: path, location: "line \(at)")
        }
        let comma = UInt8(ascii: ","), quote = UInt8(ascii: "\""), cr: UInt8 = 0x0D, lf: UInt8 = 0x0A
        func isBlank(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 }

        while position < bytes.count {
            // One record.
            let recordLine = line
            fields.removeAll(keepingCapacity: true)
            var endOfRecord = false
            while !endOfRecord {
                while position < bytes.count, isBlank(bytes[position]) { position += 1 }
                var field: [UInt8] = []
                if position < bytes.count, bytes[position] == quote {
                    position += 1
                    while true {
                        guard position < bytes.count else {
                            throw error("unterminated quoted field", recordLine)
                        }
                        let c = bytes[position]
                        position += 1
                        if c == quote {
                            if position < bytes.count, bytes[position] == quote {
                                field.append(quote)
                                position += 1
                                continue
                            }
                            break
                        }
                        if c == lf || (c == cr && (position >= bytes.count || bytes[position] != lf)) { line += 1 }
                        field.append(c)
                    }
                    while position < bytes.count, isBlank(bytes[position]) { position += 1 }
                    if position < bytes.count, ![comma, cr, lf].contains(bytes[position]) {
                        throw error("text after the closing quote of field \(fields.count + 1)", recordLine)
                    }
                } else {
                    while position < bytes.count, ![comma, cr, lf].contains(bytes[position]) {
                        field.append(bytes[position])
                        position += 1
                    }
                    while let last = field.last, isBlank(last) { field.removeLast() }
                }
                fields.append(field)
                if position >= bytes.count {
                    endOfRecord = true
                } else if bytes[position] == comma {
                    position += 1
                } else {  // \n, \r\n or \r
                    if bytes[position] == cr, position + 1 < bytes.count, bytes[position + 1] == lf { position += 1 }
                    position += 1
                    line += 1
                    endOfRecord = true
                }
            }
            if fields.count == 1 && fields[0].isEmpty { continue }  // blank line

            let numbers = fields.map(parseNumber)
            if !sawFirst {
                sawFirst = true
                table.columns = fields.count
                columnsLine = recordLine
                if numbers.allSatisfy({ $0 == nil }) && fields.contains(where: { !$0.isEmpty }) {
                    table.hasHeader = true
                    continue
                }
            } else if fields.count != table.columns {
                throw error("ragged row: \(fields.count) fields, but line \(columnsLine) has \(table.columns)",
                            recordLine)
            }
            for (index, number) in numbers.enumerated() {
                guard let number else {
                    let text = String(decoding: fields[index], as: UTF8.self)
                    if text.isEmpty { throw error("empty field \(index + 1)", recordLine) }
                    throw error("field \(index + 1) is not a number: '\(TensorFile.printable(String(text.prefix(40))))'",
                                recordLine)
                }
                guard let value = number.value else {
                    throw error("field \(index + 1) is out of the float32 range", recordLine)
                }
                table.values.append(value)
                if !number.isInteger { table.allIntegers = false }
                if number.isInteger && !number.exactInteger { table.roundedIntegers = true }
            }
            table.rows += 1
        }
        return table
    }

    /// A parsed number: `value` is nil when a finite literal overflows float32.
    struct Number: Equatable {
        var value: Float?
        var isInteger: Bool
        /// For integer literals: whether float32 holds the value exactly.
        var exactInteger: Bool
    }

    /// Parses one field as a decimal number, `nan`, `inf` or `infinity`; nil if it is not one.
    static func parseNumber(_ field: [UInt8]) -> Number? {
        parseNumber(field[...])
    }

    static func parseNumber(_ field: ArraySlice<UInt8>) -> Number? {
        var body = field
        var negative = false
        if let first = body.first, first == UInt8(ascii: "+") || first == UInt8(ascii: "-") {
            negative = first == UInt8(ascii: "-")
            body = body.dropFirst()
        }
        guard let first = body.first else { return nil }
        if !(0x30...0x39).contains(first) && first != UInt8(ascii: ".") {
            switch String(decoding: body, as: UTF8.self).lowercased() {
            case "nan": return Number(value: .nan, isInteger: false, exactInteger: false)
            case "inf", "infinity":
                return Number(value: negative ? -.infinity : .infinity, isInteger: false, exactInteger: false)
            default: return nil
            }
        }
        // digits [. digits] | . digits, then [e [+-] digits]
        var i = body.startIndex
        func digits() -> Int {
            let start = i
            while i < body.endIndex, (0x30...0x39).contains(body[i]) { i += 1 }
            return i - start
        }
        var count = digits()
        var isInteger = true
        if i < body.endIndex, body[i] == UInt8(ascii: ".") {
            i += 1
            count += digits()
            isInteger = false
        }
        guard count > 0 else { return nil }
        if i < body.endIndex, body[i] == UInt8(ascii: "e") || body[i] == UInt8(ascii: "E") {
            i += 1
            if i < body.endIndex, body[i] == UInt8(ascii: "+") || body[i] == UInt8(ascii: "-") { i += 1 }
            guard digits() > 0 else { return nil }
            isInteger = false
        }
        guard i == body.endIndex else { return nil }
        let text = String(decoding: field, as: UTF8.self)
        guard let value = Float(text) else { return nil }
        guard value.isFinite else { return Number(value: nil, isInteger: isInteger, exactInteger: false) }
        var exact = true
        if isInteger {
            // Below 2^24 every integer is exact; above, compare with the exact integer when it fits.
            if abs(value) >= 16_777_216 { exact = Int64(text).map { Float(exactly: $0) != nil } ?? false }
        }
        return Number(value: value, isInteger: isInteger, exactInteger: exact)
    }
}

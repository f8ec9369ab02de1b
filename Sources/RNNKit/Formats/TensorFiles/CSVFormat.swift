import Foundation

/// Numeric CSV: one time step per row, one feature per column.
///
/// Fields are separated by commas; records end with `\n`, `\r\n` or `\r`. A field may be quoted
/// (`"1.5"`, with `""` for a quote inside); spaces and tabs around fields are ignored; blank lines
/// are skipped; a UTF-8 byte order mark is allowed. The first record is a header, and skipped,
/// when none of its fields is a number. Numbers are decimal (`-1`, `2.5`, `.5`, `1e-3`) or `nan`,
/// `inf`, `infinity` (any case, optionally signed); each is rounded once to float32.
enum CSVFormat {
    /// How the rows of a CSV file become a tensor.
    enum Layout {
        /// Rows are the time steps of one sequence, columns its features: shape `[1, rows, columns]`;
        /// windows of `W` rows: `[rows - W + 1, W, columns]`. For inputs of rank 3 (batch, steps, features).
        case timeSteps
        /// Rows are sequences (or samples), columns their steps: shape `[rows, columns]`; windows of
        /// `W` values cut from one column: `[rows - W + 1, W]`. For inputs of rank 2, such as token ids.
        case sequences

        /// The layout for the model input a CSV file feeds (nil when it feeds none): by the
        /// input's rank, rows are sequences for rank 2, time steps otherwise.
        init(feeding input: Predictor.InputSpec?) {
            self = input?.shape.count == 2 ? .sequences : .timeSteps
        }
    }

    static func read(_ path: String, window: Int?, layout: Layout = .timeSteps,
                     limits: ReadLimits) throws -> NamedTensor {
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
            let shape = layout == .timeSteps ? [1, rows, columns] : [rows, columns]
            return NamedTensor(name: TensorFile.defaultName, tensor: Tensor(shape: shape, scalars: table.values),
                               elementType: elementType, roundedIntegers: table.roundedIntegers)
        }
        if layout == .sequences && columns != 1 {
            throw RNNKitError(.badUsage, "windows for an input of rank 2 (such as token ids) are cut from one "
                + "series, one value per row; this file has \(columns) columns", file: path)
        }
        guard window <= rows else {
            throw RNNKitError(.badUsage, "the window length \(window) is longer than the \(rows) data rows", file: path)
        }
        let count = rows - window + 1
        // A one-column series for a rank-2 input gives windows without a feature axis.
        let shape = layout == .timeSteps ? [count, window, columns] : [count, window]
        guard let elements = Tensor.checkedElementCount(shape),
              case let (bytesNeeded, overflow) = elements.multipliedReportingOverflow(by: 4), !overflow,
              bytesNeeded <= limits.maxBytes else {
            throw RNNKitError(.badUsage, "too large: \(count) windows of \(window) rows would take more than "
                + "\(limits.maxBytes) bytes", file: path).lifted(by: .byteLimit(limits.maxBytes))
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
        /// Whether the first record (the header or the first row) was seen, and its line.
        var sawFirst = false
        var columnsLine = 0
    }

    /// One field of a record: its content range (inside the quotes, if quoted) and whether the
    /// content has doubled quotes (`""`), which no number can contain.
    private struct Field {
        var start: Int
        var end: Int
        var escaped = false
        var isEmpty: Bool { start == end }
    }

    static func parse(_ bytes: [UInt8], path: String) throws -> Table {
        var table = Table()
        _ = try bytes.withUnsafeBufferPointer { try parse($0, path: path, into: &table, firstLine: 1) }
        return table
    }

    /// Parses the records of `bytes`, whose first line is line `firstLine` of the file, adding
    /// their rows to `table` (which carries the header and column count from earlier pieces).
    /// A bad record throws; with `onBadRecord` it is passed the error and the rows read before
    /// it, and parsing goes on with the next record. Returns the line after the last.
    static func parse(_ bytes: UnsafeBufferPointer<UInt8>, path: String, into table: inout Table, firstLine: Int,
                      onBadRecord: ((RNNKitError, _ rowsBefore: Int) throws -> Void)? = nil) throws -> Int {
        let count = bytes.count
        var position = firstLine == 1 && bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        var line = firstLine
        var fields: [Field] = []

        func error(_ message: String, _ at: Int) -> RNNKitError {
            RNNKitError(.unreadable, message, file: path, location: "line \(at)")
        }
        func text(_ field: Field) -> String {
            let raw = String(decoding: UnsafeBufferPointer(rebasing: bytes[field.start..<field.end]), as: UTF8.self)
            return field.escaped ? raw.replacingOccurrences(of: "\"\"", with: "\"") : raw
        }
        func number(_ field: Field) -> Number? {
            field.escaped ? nil : parseNumber(UnsafeBufferPointer(rebasing: bytes[field.start..<field.end]))
        }
        let comma = UInt8(ascii: ","), quote = UInt8(ascii: "\""), cr: UInt8 = 0x0D, lf: UInt8 = 0x0A
        @inline(__always) func isBlank(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 }
        @inline(__always) func endsField(_ c: UInt8) -> Bool { c == comma || c == lf || c == cr }

        while position < count {
          let recordLine = line
          let valuesBefore = table.values.count
          var recordEnded = false
          do {
            // One record.
            fields.removeAll(keepingCapacity: true)
            var endOfRecord = false
            while !endOfRecord {
                while position < count, isBlank(bytes[position]) { position += 1 }
                var field = Field(start: position, end: position)
                if position < count, bytes[position] == quote {
                    position += 1
                    field.start = position
                    while true {
                        guard position < count else { throw error("unterminated quoted field", recordLine) }
                        let c = bytes[position]
                        if c == quote {
                            if position + 1 < count, bytes[position + 1] == quote {
                                field.escaped = true
                                position += 2
                                continue
                            }
                            field.end = position
                            position += 1
                            break
                        }
                        position += 1
                        if c == lf || (c == cr && (position >= count || bytes[position] != lf)) { line += 1 }
                    }
                    while position < count, isBlank(bytes[position]) { position += 1 }
                    if position < count, !endsField(bytes[position]) {
                        throw error("text after the closing quote of field \(fields.count + 1)", recordLine)
                    }
                } else {
                    while position < count, !endsField(bytes[position]) { position += 1 }
                    field.end = position
                    while field.end > field.start, isBlank(bytes[field.end - 1]) { field.end -= 1 }
                }
                fields.append(field)
                if position >= count {
                    endOfRecord = true
                } else if bytes[position] == comma {
                    position += 1
                } else {  // \n, \r\n or \r
                    if bytes[position] == cr, position + 1 < count, bytes[position + 1] == lf { position += 1 }
                    position += 1
                    line += 1
                    endOfRecord = true
                }
            }
            recordEnded = true
            if fields.count == 1 && fields[0].isEmpty { continue }  // blank line

            if !table.sawFirst {
                table.sawFirst = true
                table.columns = fields.count
                table.columnsLine = recordLine
                if fields.allSatisfy({ number($0) == nil }) && fields.contains(where: { !$0.isEmpty }) {
                    table.hasHeader = true
                    continue
                }
            } else if fields.count != table.columns {
                throw error("ragged row: \(fields.count) fields, but line \(table.columnsLine) has \(table.columns)",
                            recordLine)
            }
            for (index, field) in fields.enumerated() {
                guard let parsed = number(field) else {
                    if field.isEmpty { throw error("empty field \(index + 1)", recordLine) }
                    // Control characters are escaped when the error is printed (a tab as \t).
                    let shown = String(text(field).prefix(40))
                    let separator = shown.contains("\t") ? " (fields are separated by commas, not tabs)"
                        : shown.contains(";") ? " (fields are separated by commas, not semicolons)" : ""
                    throw error("field \(index + 1) is not a number: '\(shown)'\(separator)", recordLine)
                }
                guard let value = parsed.value else {
                    throw error("field \(index + 1) is out of the float32 range", recordLine)
                }
                table.values.append(value)
                if !parsed.isInteger { table.allIntegers = false }
                if parsed.isInteger && !parsed.exactInteger { table.roundedIntegers = true }
            }
            table.rows += 1
          } catch let error as RNNKitError {
            guard let onBadRecord, error.location == "line \(recordLine)" else { throw error }
            table.values.removeSubrange(valuesBefore...)
            // Skip the rest of the record.
            while !recordEnded, position < count, bytes[position] != lf, bytes[position] != cr { position += 1 }
            if !recordEnded, position < count {
                if bytes[position] == cr, position + 1 < count, bytes[position + 1] == lf { position += 1 }
                position += 1
            }
            if !recordEnded { line = recordLine + 1 }
            try onBadRecord(error, table.rows)
          }
        }
        return line
    }

    /// A parsed number: `value` is nil when a finite literal overflows float32.
    struct Number: Equatable {
        var value: Float?
        var isInteger: Bool
        /// For integer literals: whether float32 holds the value exactly.
        var exactInteger: Bool
    }

    /// Parses one field as a decimal number, `nan`, `inf` or `infinity`; nil if it is not one.
    static func parseNumber(_ text: String) -> Number? {
        var text = text
        return text.withUTF8 { parseNumber($0) }
    }

    private static let powersOfTen: [Float] = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10]

    static func parseNumber(_ field: UnsafeBufferPointer<UInt8>) -> Number? {
        var i = 0
        let end = field.count
        var negative = false
        if i < end, field[i] == UInt8(ascii: "+") || field[i] == UInt8(ascii: "-") {
            negative = field[i] == UInt8(ascii: "-")
            i += 1
        }
        guard i < end else { return nil }
        @inline(__always) func isDigit(_ c: UInt8) -> Bool { c &- 0x30 < 10 }
        if !isDigit(field[i]) && field[i] != UInt8(ascii: ".") {
            switch String(decoding: UnsafeBufferPointer(rebasing: field[i...]), as: UTF8.self).lowercased() {
            case "nan": return Number(value: .nan, isInteger: false, exactInteger: false)
            case "inf", "infinity":
                return Number(value: negative ? -.infinity : .infinity, isInteger: false, exactInteger: false)
            default: return nil
            }
        }
        // digits [. digits] | . digits, then [e [+-] digits]. The digits are also accumulated for
        // the exact fast path below (the mantissa saturates; then the slow path is taken).
        var digits = 0
        var mantissa: UInt64 = 0
        var exponent = 0
        while i < end, isDigit(field[i]) {
            mantissa = mantissa < 1 << 56 ? mantissa * 10 + UInt64(field[i] &- 0x30) : .max
            i += 1
            digits += 1
        }
        var isInteger = true
        if i < end, field[i] == UInt8(ascii: ".") {
            i += 1
            isInteger = false
            while i < end, isDigit(field[i]) {
                mantissa = mantissa < 1 << 56 ? mantissa * 10 + UInt64(field[i] &- 0x30) : .max
                exponent -= 1
                i += 1
                digits += 1
            }
        }
        guard digits > 0 else { return nil }
        if i < end, field[i] == UInt8(ascii: "e") || field[i] == UInt8(ascii: "E") {
            i += 1
            isInteger = false
            var exponentNegative = false
            if i < end, field[i] == UInt8(ascii: "+") || field[i] == UInt8(ascii: "-") {
                exponentNegative = field[i] == UInt8(ascii: "-")
                i += 1
            }
            var exponentDigits = 0
            var written = 0
            while i < end, isDigit(field[i]) {
                written = min(written * 10 + Int(field[i] &- 0x30), 100_000)
                i += 1
                exponentDigits += 1
            }
            guard exponentDigits > 0 else { return nil }
            exponent += exponentNegative ? -written : written
        }
        guard i == end else { return nil }
        // Exact fast path (Clinger): a mantissa below 2^24 and a power of ten up to 10^10 are both
        // exact in float32, so one multiplication or division rounds correctly, as strtof would.
        if mantissa <= 1 << 24 && (-10...10).contains(exponent) {
            let m = Float(mantissa)
            let magnitude = exponent >= 0 ? m * powersOfTen[exponent] : m / powersOfTen[-exponent]
            return Number(value: negative ? -magnitude : magnitude, isInteger: isInteger, exactInteger: true)
        }
        let text = String(decoding: field, as: UTF8.self)
        guard let value = Float(text) else { return nil }
        guard value.isFinite else { return Number(value: nil, isInteger: isInteger, exactInteger: false) }
        var exact = true
        if isInteger && abs(value) >= 16_777_216 {
            // Above 2^24 not every integer is a float; compare with the exact integer when it fits.
            exact = Int64(text).map { Float(exactly: $0) != nil } ?? false
        }
        return Number(value: value, isInteger: isInteger, exactInteger: exact)
    }
}

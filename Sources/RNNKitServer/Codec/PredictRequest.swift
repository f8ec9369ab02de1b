import RNNKit

/// A `:predict` body decoded into one tensor per model input, following TF Serving's JSON rules
/// (json_tensor.cc): `{"instances": [...]}` (row format: one entry per batch row, objects keyed
/// by input name when the model has several inputs, equal shapes throughout) or
/// `{"inputs": ...}` (columnar: one tensor, or an object of tensors, batch dimension included),
/// and an optional `"signature_name"` that must be `serving_default`.
public struct PredictRequest: Sendable {
    public enum Format: Sendable {
        /// `instances` in, `predictions` out.
        case row
        /// `inputs` in, `outputs` out.
        case columnar
    }

    public var format: Format
    /// In model input order, each with the batch dimension first.
    public var inputs: [Tensor]

    public var batchSize: Int { inputs.first?.shape.first ?? 0 }

    public static let signatureName = "serving_default"

    /// Decodes and checks a body against the model's inputs: element types (DT_INT32 inputs
    /// take integers only), ranks, known dimensions and one batch size. `anyLength` lets the time
    /// axis (axis 1) differ from the model's, for a session's chunks of steps.
    public static func decode<Bytes: Collection<UInt8>>(
        _ body: Bytes, inputs signatures: [TensorSignature], anyLength: Bool = false
    ) throws(ServeError) -> PredictRequest {
        let document: RequestJSON
        do {
            document = try RequestJSON.parse(body)
        } catch {
            throw .badRequest(error.description)
        }
        // Numbers cannot outnumber half the body's bytes (a digit and a separator each).
        let scalarBound = body.count / 2 + 1
        return try decode(document, inputs: signatures, anyLength: anyLength, scalarBound: scalarBound)
    }

    static func decode(_ document: RequestJSON, inputs signatures: [TensorSignature], anyLength: Bool,
                       scalarBound: Int) throws(ServeError) -> PredictRequest {
        guard case .object = document else {
            throw .badRequest("JSON Value: \(document.excerpt) Is not object")
        }
        if let signature = document["signature_name"] {
            guard case .string(let name) = signature else {
                throw .badRequest("'signature_name' key must be a string value, got \(signature.typeName)")
            }
            guard name.isEmpty || name == signatureName else {
                throw .badRequest("Serving signature name: \(signature.excerpt) not found in signature def "
                                  + "(this model has \"\(signatureName)\")")
            }
        }
        let instances = document["instances"], columns = document["inputs"]
        var builders = signatures.map { TensorBuilder(signature: $0, scalarBound: scalarBound) }
        let format: Format
        switch (instances, columns) {
        case (.some, .some):
            throw .badRequest("Not formatted correctly: expecting only one of 'inputs' or 'instances' keys to exist")
        case (nil, nil):
            throw .badRequest("Missing 'inputs' or 'instances' key")
        case (.some(let instances), nil):
            format = .row
            try decodeRows(instances, into: &builders)
        case (nil, .some(let columns)):
            format = .columnar
            try decodeColumns(columns, into: &builders)
        }
        let tensors = try builders.map { builder throws(ServeError) in try builder.tensor(anyLength: anyLength) }
        if let first = tensors.first, let other = tensors.firstIndex(where: { $0.shape[0] != first.shape[0] }) {
            throw .badRequest("inputs disagree on the batch size: '\(signatures[0].name)' has \(first.shape[0]) "
                              + "row(s), '\(signatures[other].name)' has \(tensors[other].shape[0])")
        }
        return PredictRequest(format: format, inputs: tensors)
    }

    private static func decodeRows(_ instances: RequestJSON, into builders: inout [TensorBuilder]) throws(ServeError) {
        if case .numbers(let list) = instances {
            // Rows that are single numbers, taken one at a time: no value is made per number.
            guard builders.count == 1 else {
                throw plainRowsError(builders)
            }
            for (index, (number, isInteger)) in zip(list.values, list.integers).enumerated() {
                try builders[0].addRow(.number(number, isInteger: isInteger), index: index)
            }
            return
        }
        guard case .array(let rows) = instances else {
            throw .badRequest("Expecting 'instances' to be a list/array, got \(instances.typeName)")
        }
        guard let first = rows.first else { throw .badRequest("No values in 'instances' array") }
        let namedRows: Bool
        if case .object = first { namedRows = true } else { namedRows = false }
        if !namedRows && builders.count > 1 {
            throw plainRowsError(builders)
        }
        for (index, row) in rows.enumerated() {
            if namedRows {
                guard case .object(let members) = row else {
                    throw .badRequest("Expecting object but got \(row.typeName) at item \(index) of 'instances' list")
                }
                let names = builders.map(\.signature.name)
                guard members.count == names.count, Set(members.map(\.key)) == Set(names) else {
                    throw .badRequest("Failed to process element: \(index) of 'instances' list. JSON object: "
                                      + "\(row.excerpt) must only have keys: \(names.sorted().joined(separator: ","))")
                }
                for member in members {
                    let position = names.firstIndex(of: member.key)!
                    try builders[position].addRow(member.value, index: index)
                }
            } else {
                if case .object = row {
                    throw .badRequest("Expecting value/list but got object at item \(index) of 'instances' list")
                }
                try builders[0].addRow(row, index: index)
            }
        }
    }

    private static func plainRowsError(_ builders: [TensorBuilder]) -> ServeError {
        .badRequest("instances is a plain list, but expecting list of objects as multiple input tensors required ("
                    + builders.map(\.signature.name).joined(separator: ", ") + ")")
    }

    private static func decodeColumns(_ columns: RequestJSON, into builders: inout [TensorBuilder]) throws(ServeError) {
        guard case .object = columns else {
            guard builders.count == 1 else {
                throw .badRequest("inputs is a plain value/list, but expecting an object as multiple input tensors "
                                  + "required (\(builders.map(\.signature.name).joined(separator: ", ")))")
            }
            try builders[0].setWhole(columns)
            return
        }
        for position in builders.indices {
            let name = builders[position].signature.name
            guard let column = columns[name] else {
                throw .badRequest("Missing named input: \(name) in 'inputs' object.")
            }
            try builders[position].setWhole(column)
        }
    }
}

/// Gathers one input's scalars from JSON lists, checking that they form a dense tensor of
/// the input's element type.
struct TensorBuilder {
    let signature: TensorSignature
    /// Most scalars the body can hold: no reservation goes beyond it.
    let scalarBound: Int
    /// Shape of one row (row format) or of the whole tensor (columnar).
    private var itemShape: [Int]?
    private var rows = 0
    private var scalars: [Float] = []
    private var columnar = false

    init(signature: TensorSignature, scalarBound: Int) {
        self.signature = signature
        self.scalarBound = scalarBound
    }

    mutating func addRow(_ value: RequestJSON, index: Int) throws(ServeError) {
        let shape = Self.shape(of: value)
        if let itemShape, itemShape != shape {
            throw .badRequest("input '\(signature.name)': element \(index) of 'instances' has shape "
                              + "\(Self.describe(shape)), element 0 has \(Self.describe(itemShape))")
        }
        if itemShape == nil {
            itemShape = shape
            reserve(rowsOf: shape)
        }
        try fill(value, shape: shape, level: 0)
        rows += 1
    }

    mutating func setWhole(_ value: RequestJSON) throws(ServeError) {
        let shape = Self.shape(of: value)
        columnar = true
        itemShape = shape
        reserve(rowsOf: shape)
        try fill(value, shape: shape, level: 0)
    }

    private mutating func reserve(rowsOf shape: [Int]) {
        let count = Tensor.checkedElementCount(shape) ?? scalarBound
        scalars.reserveCapacity(min(count, scalarBound))
    }

    func tensor(anyLength: Bool) throws(ServeError) -> Tensor {
        let shape = columnar ? itemShape ?? [] : [rows] + (itemShape ?? [])
        if let expected = signature.shape {
            let fits = shape.count == expected.count && zip(expected, shape).enumerated().allSatisfy { axis, pair in
                pair.0 == nil || pair.0 == pair.1 || (anyLength && axis == 1)
            }
            guard fits else {
                throw .badRequest("input '\(signature.name)' expects shape \(formatShape(expected))"
                                  + (anyLength ? " (any number of steps)" : "") + ", got \(formatShape(shape))")
            }
        }
        guard shape.count >= 1, shape.allSatisfy({ $0 > 0 }) else {
            throw .badRequest("input '\(signature.name)' is empty: shape \(formatShape(shape))")
        }
        return Tensor(shape: shape, scalars: scalars)
    }

    /// Lengths of the first list at each level: the shape the whole value must have.
    static func shape(of value: RequestJSON) -> [Int] {
        var shape: [Int] = []
        var current = value
        while true {
            if case .numbers(let list) = current {
                shape.append(list.count)
                break
            }
            guard case .array(let items) = current else { break }
            shape.append(items.count)
            guard let first = items.first else { break }
            current = first
        }
        return shape
    }

    static func describe(_ shape: [Int]) -> String {
        "[" + shape.map(String.init).joined(separator: ",") + "]"
    }

    private mutating func fill(_ value: RequestJSON, shape: [Int], level: Int) throws(ServeError) {
        switch value {
        case .numbers(let list):
            // The common case, a list of numbers, read without making a value per number.
            guard level + 1 == shape.count, list.count == shape[level] else {
                try fill(.array(value.elements!), shape: shape, level: level)
                return
            }
            for (number, isInteger) in zip(list.values, list.integers) {
                scalars.append(try scalar(number, isInteger: isInteger, RequestJSON.number(number, isInteger: isInteger)))
            }
        case .array(let items):
            guard level < shape.count else {
                throw .badRequest("input '\(signature.name)': a list at nesting level \(level + 1) where a "
                                  + "\(signature.dataType.rawValue) value was expected (tensor of rank \(shape.count))")
            }
            guard items.count == shape[level] else {
                throw .badRequest("input '\(signature.name)': a list of \(items.count) at level \(level + 1) where "
                                  + "\(shape[level]) were expected (lists must be rectangular)")
            }
            for item in items { try fill(item, shape: shape, level: level + 1) }
        default:
            guard level == shape.count else {
                throw .badRequest("input '\(signature.name)': the value \(value.excerpt) at nesting level \(level + 1) "
                                  + "where a list of \(shape[level]) was expected")
            }
            guard case .number(let number, let isInteger) = value else {
                throw .badRequest("input '\(signature.name)' expects \(signature.dataType.rawValue) values, got "
                                  + "\(value.typeName) \(value.excerpt)")
            }
            scalars.append(try scalar(number, isInteger: isInteger, value))
        }
    }

    /// One number of the input's type; `value` is the number as JSON, for messages.
    @inline(__always)
    private func scalar(_ number: Double, isInteger: Bool, _ value: @autoclosure () -> RequestJSON) throws(ServeError) -> Float {
        switch signature.dataType {
        case .int32:
            guard isInteger, number >= Double(Int32.min), number <= Double(Int32.max) else {
                throw .badRequest("input '\(signature.name)' expects DT_INT32 values (integer token ids), got "
                                  + "\(value().excerpt)")
            }
            // Token ids travel as float32, exact below 2^24 (the runtime refuses ids beyond the vocabulary).
            guard abs(number) <= 16_777_216 else {
                throw .badRequest("input '\(signature.name)': token id \(value().excerpt) is beyond 2^24")
            }
            return Float(number)
        case .float:
            // As TF Serving: integers above 2^24 and decimals beyond float's range lose precision.
            if number.isFinite {
                if isInteger ? abs(number) > 16_777_215 : abs(number) > Double(Float.greatestFiniteMagnitude) {
                    throw .badRequest("input '\(signature.name)': cannot convert JSON value \(value().excerpt) to "
                                      + "float without loss of precision")
                }
            }
            return Float(number)
        }
    }
}

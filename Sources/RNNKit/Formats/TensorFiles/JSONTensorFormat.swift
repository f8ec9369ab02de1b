import Foundation

/// JSON data files: a nested array of numbers (one tensor, `input_0`) or an object whose values
/// are nested arrays (one tensor per key, in key order). `NaN`, `Infinity` and `-Infinity` are
/// accepted as Python's `json` writes them; `null` is refused (it may stand for any value, or
/// none). Errors name the JSON pointer of the offending value.
enum JSONTensorFormat {
    static func read(_ path: String, limits: ReadLimits) throws -> [NamedTensor] {
        try readNamingArrays(path, limits: limits).arrays
    }

    /// The arrays, and whether the file names them (an object) or holds one unnamed array.
    static func readNamingArrays(_ path: String, limits: ReadLimits) throws
        -> (arrays: [NamedTensor], named: Bool) {
        let file = try ReadableFile(path: path)
        let bytes = try file.readAll(maxBytes: limits.maxJSONBytes, what: "JSON")
        let root: JSONValue
        do {
            root = try JSONParser.parse(bytes: bytes, maxDepth: parserDepth(limits), maxTreeBytes: limits.maxBytes)
        } catch let error as RNNKitError {
            throw error.inFile(path)
        }
        switch root {
        case .array, .number:
            return ([try tensor(root, name: TensorFile.defaultName, pointer: "", path: path, limits: limits)], false)
        case .object(let object):
            return (try object.entries.map { entry in
                try tensor(entry.value, name: entry.key, pointer: "/" + escape(entry.key), path: path, limits: limits)
            }, true)
        default:
            throw RNNKitError(.unreadable, "expected a nested array of numbers, or an object of them; found "
                + describe(root), file: path, location: "/")
        }
    }

    /// How deep a data file's JSON may nest: an object, then one level per dimension, then the number.
    static func parserDepth(_ limits: ReadLimits) -> Int {
        min(JSONParser.depthLimit, max(1, limits.maxRank) + 2)
    }

    /// Converts a nested array (or a single number) whose JSON pointer is `pointer`.
    static func tensor(_ value: JSONValue, name: String, pointer: String, path: String,
                       limits: ReadLimits) throws -> NamedTensor {
        // The shape is read along the first elements; every other element must agree with it.
        var shape: [Int] = []
        var probe = value
        while case .array(let elements) = probe {
            shape.append(elements.count)
            guard let first = elements.first else { break }
            probe = first
        }
        guard shape.count <= limits.maxRank else {
            throw RNNKitError(.unreadable, "array of rank \(shape.count): at most \(limits.maxRank) dimensions "
                + "are supported", file: path, location: pointer.isEmpty ? "/" : pointer)
        }
        guard let count = Tensor.checkedElementCount(shape) else {
            throw RNNKitError(.unreadable, "array too large", file: path, location: pointer.isEmpty ? "/" : pointer)
        }
        var scalars: [Float] = []
        scalars.reserveCapacity(count)
        var allIntegers = true
        var rounded = false
        var indices: [Int] = []

        func error(_ message: String) -> RNNKitError {
            let location = pointer + indices.map { "/\($0)" }.joined()
            return RNNKitError(.unreadable, message, file: path, location: location.isEmpty ? "/" : location)
        }
        func walk(_ value: JSONValue) throws {
            let depth = indices.count
            if depth == shape.count {
                guard case .number(let text) = value else {
                    throw error(shape.isEmpty ? "expected a number or a nested array of numbers, found "
                        + describe(value) : "ragged array: expected a number here, found \(describe(value))")
                }
                guard let number = CSVFormat.parseNumber(text) else {
                    throw error("not a number: \(oneLine(String(text.prefix(40))))")
                }
                guard let float = number.value else { throw error("number out of the float32 range: \(text.prefix(40))") }
                scalars.append(float)
                if !number.isInteger { allIntegers = false }
                if number.isInteger && !number.exactInteger { rounded = true }
                return
            }
            guard case .array(let elements) = value else {
                throw error("ragged array: expected an array of \(shape[depth]) elements here, found \(describe(value))")
            }
            guard elements.count == shape[depth] else {
                throw error("ragged array: \(elements.count) elements here, but the first array at this depth has "
                    + "\(shape[depth])")
            }
            for (index, element) in elements.enumerated() {
                indices.append(index)
                try walk(element)
                indices.removeLast()
            }
        }
        try walk(value)
        return NamedTensor(name: name, tensor: Tensor(shape: shape, scalars: scalars),
                           elementType: allIntegers && count > 0 ? .int64 : .float32, roundedIntegers: rounded)
    }

    static func describe(_ value: JSONValue) -> String {
        switch value {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number: return "a number"
        case .string: return "a string"
        case .array(let elements): return "an array of \(elements.count) elements"
        case .object: return "an object"
        }
    }

    /// A JSON pointer reference token (RFC 6901).
    static func escape(_ key: String) -> String {
        key.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1")
    }
}

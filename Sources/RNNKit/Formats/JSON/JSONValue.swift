/// A parsed JSON document, independent of the C parser that produced it.
///
/// Numbers keep their literal text so that integers of any size and float32 weights survive a
/// read/write cycle exactly; objects keep their key order, so written files read like the input.
enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case number(String)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    static func int(_ value: Int) -> JSONValue { .number(String(value)) }
    /// A float32 as the shortest decimal text that reads back to the same bits.
    static func float(_ value: Float) -> JSONValue { .number(value.description) }
    static func double(_ value: Double) -> JSONValue { .number(value.description) }

    subscript(key: String) -> JSONValue? {
        if case .object(let object) = self { return object[key] }
        return nil
    }

    var stringValue: String? { if case .string(let s) = self { return s }; return nil }
    var boolValue: Bool? { if case .bool(let b) = self { return b }; return nil }
    var arrayValue: [JSONValue]? { if case .array(let a) = self { return a }; return nil }
    var objectValue: JSONObject? { if case .object(let o) = self { return o }; return nil }
    var isNull: Bool { self == .null }

    /// The number as an exact integer, or nil when it is not one (or does not fit `Int`).
    var intValue: Int? {
        guard case .number(let text) = self else { return nil }
        if let exact = Int(text) { return exact }
        // Keras writes some integers as 4.0; accept integral doubles within range.
        if let double = Double(text), double.rounded() == double, abs(double) < 9.0e15 {
            return Int(double)
        }
        return nil
    }

    var doubleValue: Double? {
        guard case .number(let text) = self else { return nil }
        return Double(text)
    }

    /// The number rounded once, from its text, to float32.
    var floatValue: Float? {
        guard case .number(let text) = self else { return nil }
        return Float(text)
    }
}

/// A JSON object with its keys in document order.
struct JSONObject: Equatable, Sendable {
    private(set) var entries: [(key: String, value: JSONValue)]

    init(_ entries: [(key: String, value: JSONValue)] = []) {
        self.entries = entries
    }

    var keys: [String] { entries.map(\.key) }

    subscript(key: String) -> JSONValue? {
        get { entries.first(where: { $0.key == key })?.value }
        set {
            if let index = entries.firstIndex(where: { $0.key == key }) {
                if let newValue { entries[index].value = newValue } else { entries.remove(at: index) }
            } else if let newValue {
                entries.append((key, newValue))
            }
        }
    }

    static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        lhs.entries.count == rhs.entries.count
            && zip(lhs.entries, rhs.entries).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral,
    ExpressibleByIntegerLiteral
{
    init(stringLiteral value: String) { self = .string(value) }
    init(booleanLiteral value: Bool) { self = .bool(value) }
    init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(JSONObject(elements.map { (key: $0.0, value: $0.1) }))
    }
    init(nilLiteral: ()) { self = .null }
    init(integerLiteral value: Int) { self = .int(value) }
}

extension JSONValue {
    /// The JSON type, for messages: "a string", "an object"...
    var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "a list"
        case .object: "an object"
        }
    }
}

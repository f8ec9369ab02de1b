/// A Keras `config` object being decoded, with the JSON pointer of where it sits in its file,
/// so that every error names the exact place (`/config/layers/2/config/units`).
struct KerasConfig: Sendable {
    let object: JSONObject
    let pointer: String
    /// The major version of the Keras that wrote the file (2 or 3); it changes hard_sigmoid.
    let kerasMajorVersion: Int

    init(object: JSONObject, pointer: String, kerasMajorVersion: Int) {
        self.object = object
        self.pointer = pointer
        self.kerasMajorVersion = kerasMajorVersion
    }

    func path(_ key: String) -> String { pointer + "/" + key }

    func error(_ key: String, _ message: String) -> RNNKitError {
        RNNKitError(.invalidModel, message, location: path(key))
    }

    func has(_ key: String) -> Bool {
        if let value = object[key] { return !value.isNull }
        return false
    }

    func value(_ key: String) -> JSONValue? { object[key] }

    func int(_ key: String, default defaultValue: Int? = nil) throws -> Int {
        guard let value = object[key], !value.isNull else {
            if let defaultValue { return defaultValue }
            throw error(key, "missing '\(key)'")
        }
        guard let int = value.intValue else { throw error(key, "'\(key)' is not an integer") }
        return int
    }

    /// A size such as `units`: positive and within `maximumDimension`, so that a corrupt file
    /// can never make RNNKit allocate by its word.
    func dimension(_ key: String, default defaultValue: Int? = nil) throws -> Int {
        if case .number(let text)? = object[key], Int(text) == nil, Double(text).map({ $0 > 1e15 }) == true {
            throw error(key, "'\(key)' is \(text), above the limit \(maximumDimension)")
        }
        let size = try int(key, default: defaultValue)
        guard size > 0 else { throw error(key, "'\(key)' must be positive, got \(size)") }
        guard size <= maximumDimension else {
            throw error(key, "'\(key)' is \(size), above the limit \(maximumDimension)")
        }
        return size
    }

    /// Sizes along `count` axes such as `kernel_size` or `strides`: one positive integer for
    /// every axis, or a list of `count` of them, as Keras writes tuples (`[3]`, `[3, 3]`).
    func sizes(_ key: String, count: Int, default defaultValue: Int? = nil) throws -> [Int] {
        guard case .array(let items)? = object[key] else {
            return Array(repeating: try dimension(key, default: defaultValue), count: count)
        }
        guard items.count == count else {
            throw error(key, "'\(key)' must hold \(count == 1 ? "one size" : "\(count) sizes"), got \(items.count)")
        }
        return try items.map { item in
            try KerasConfig(object: JSONObject([(key, item)]), pointer: pointer, kerasMajorVersion: kerasMajorVersion)
                .dimension(key)
        }
    }

    /// A 1D size: `sizes` along one axis.
    func size1D(_ key: String, default defaultValue: Int? = nil) throws -> Int {
        try sizes(key, count: 1, default: defaultValue)[0]
    }

    /// A string among `allowed`, or an error listing them.
    func choice<T: RawRepresentable>(_ key: String, default defaultValue: T, allowed: [T]) throws -> T
    where T.RawValue == String {
        let name = try string(key, default: defaultValue.rawValue)
        guard let value = T(rawValue: name.lowercased()), allowed.contains(where: { $0.rawValue == value.rawValue }) else {
            throw error(key, "invalid \(key) '\(name)', expected one of " + allowed.map(\.rawValue).joined(separator: ", "))
        }
        return value
    }

    func bool(_ key: String, default defaultValue: Bool) throws -> Bool {
        guard let value = object[key], !value.isNull else { return defaultValue }
        guard let bool = value.boolValue else { throw error(key, "'\(key)' is not a boolean") }
        return bool
    }

    func double(_ key: String, default defaultValue: Double) throws -> Double {
        guard let value = object[key], !value.isNull else { return defaultValue }
        guard let double = value.doubleValue else { throw error(key, "'\(key)' is not a number") }
        return double
    }

    func string(_ key: String, default defaultValue: String? = nil) throws -> String {
        guard let value = object[key], !value.isNull else {
            if let defaultValue { return defaultValue }
            throw error(key, "missing '\(key)'")
        }
        guard let string = value.stringValue else { throw error(key, "'\(key)' is not a string") }
        return string
    }

    /// An activation, given by name or (Keras 3) as a serialized function object.
    /// Why the Keras 3 activations RNNKit does not run are refused, by config name.
    private static let activationRefusals = [
        "glu": "it halves the last axis, which Keras's layers leave out of their output shapes",
        "threshold": "Keras itself cannot call it by name (threshold and default_value have no defaults)",
    ]

    func activation(_ key: String, default defaultName: String) throws -> Activation {
        var name = defaultName
        switch object[key] {
        case nil, .null?: break
        case .string(let given)?: name = given
        case .object(let serialized)?:
            guard let given = serialized["config"]?.stringValue ?? serialized["class_name"]?.stringValue else {
                throw error(key, "'\(key)' is not an activation name")
            }
            name = given
        default: throw error(key, "'\(key)' is not an activation name")
        }
        guard let activation = Activation(kerasName: name, kerasMajorVersion: kerasMajorVersion) else {
            throw error(key, "unsupported activation '\(name)'" + (Self.activationRefusals[name].map { ": " + $0 } ?? ""))
        }
        return activation
    }

    /// The object under `key` as a config of its own (a Keras 3 DTypePolicy, say); nil when absent.
    func nested(_ key: String) throws -> KerasConfig? {
        guard let value = object[key], !value.isNull else { return nil }
        guard let nested = value.objectValue else { throw error(key, "'\(key)' is not an object") }
        return KerasConfig(object: nested, pointer: path(key), kerasMajorVersion: kerasMajorVersion)
    }

    /// Refuses a `data_format` other than channels_last, the only one RNNKit's layers compute.
    func requireChannelsLast(_ className: String) throws {
        let format = try string("data_format", default: "channels_last")
        guard format == "channels_last" else {
            throw error("data_format", "\(className) with data_format '\(format)' is not supported")
        }
    }

    /// `data_format`, channels_last when absent or null.
    func dataFormat() throws -> DataFormat {
        try choice("data_format", default: DataFormat.channelsLast, allowed: [.channelsLast, .channelsFirst])
    }

    /// A nested `{"class_name", "config"}` object, e.g. the layer inside Bidirectional.
    func nestedLayer(_ key: String) throws -> (className: String, config: KerasConfig)? {
        guard let value = object[key], !value.isNull else { return nil }
        guard let nested = value.objectValue,
              let className = nested["class_name"]?.stringValue,
              let config = nested["config"]?.objectValue
        else { throw error(key, "'\(key)' is not a layer object") }
        return (className, KerasConfig(object: config, pointer: path(key) + "/config",
                                       kerasMajorVersion: kerasMajorVersion))
    }

    /// A shape list such as `batch_shape`: `null` stays unknown, negatives are refused.
    func shape(_ key: String) throws -> Shape? {
        guard let value = object[key], !value.isNull else { return nil }
        guard let items = value.arrayValue else { throw error(key, "'\(key)' is not a list") }
        return try items.enumerated().map { index, item in
            if item.isNull { return nil }
            guard let dimension = item.intValue else {
                throw error(key + "/\(index)", "dimension is not an integer")
            }
            guard dimension >= 0 else {
                throw error(key + "/\(index)", "negative dimension \(dimension)")
            }
            guard dimension <= maximumDimension else {
                throw error(key + "/\(index)", "dimension \(dimension) is above the limit \(maximumDimension)")
            }
            return dimension
        }
    }
}

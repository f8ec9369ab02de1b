import Foundation

/// The element type an array had in its source file, before it was converted to float32.
///
/// Every array is carried as a float32 `Tensor`; integers (token ids) convert exactly below 2^24.
/// The source type is kept so that a caller can tell token ids from features and warn about
/// lossy conversions.
enum TensorElementType: String, Sendable, CaseIterable {
    case float16, float32, float64
    case int8, int16, int32, int64
    case uint8, uint16, uint32, uint64
    case bool

    /// Bytes per element in a NumPy file.
    var itemSize: Int {
        switch self {
        case .int8, .uint8, .bool: return 1
        case .float16, .int16, .uint16: return 2
        case .float32, .int32, .uint32: return 4
        case .float64, .int64, .uint64: return 8
        }
    }

    /// True for the signed and unsigned integer types (not bool, not the floating-point types).
    var isInteger: Bool {
        switch self {
        case .int8, .int16, .int32, .int64, .uint8, .uint16, .uint32, .uint64: return true
        case .float16, .float32, .float64, .bool: return false
        }
    }

    /// The NumPy type string for little-endian data: `<f4`, `|u1`, `|b1`, …
    var numpyDescr: String {
        switch self {
        case .float16: return "<f2"
        case .float32: return "<f4"
        case .float64: return "<f8"
        case .int8: return "|i1"
        case .int16: return "<i2"
        case .int32: return "<i4"
        case .int64: return "<i8"
        case .uint8: return "|u1"
        case .uint16: return "<u2"
        case .uint32: return "<u4"
        case .uint64: return "<u8"
        case .bool: return "|b1"
        }
    }
}

/// One array of a data file, converted to float32, with its name and source element type.
public struct NamedTensor: Sendable, Equatable {
    /// The array's name: the key in an `.npz` archive or a JSON object; `input_0` for a file that
    /// holds a single unnamed array (`.npy`, `.csv`, a JSON array).
    public var name: String
    /// The values, as float32.
    public var tensor: Tensor
    /// The element type in the source file. For CSV and JSON text it is `.int64` when every number
    /// is written as an integer (`12`, `-3`), otherwise `.float32` (the text is rounded once to float32).
    var elementType: TensorElementType
    /// True when the source held integers that float32 cannot represent exactly (magnitude above
    /// 2^24), so that some values were rounded. Always false for floating-point sources.
    var roundedIntegers: Bool

    /// A float32 array named `name`, as a prediction's outputs are written.
    public init(name: String, tensor: Tensor) {
        self.init(name: name, tensor: tensor, elementType: .float32)
    }

    init(name: String, tensor: Tensor, elementType: TensorElementType, roundedIntegers: Bool = false) {
        self.name = name
        self.tensor = tensor
        self.elementType = elementType
        self.roundedIntegers = roundedIntegers
    }
}

/// Reads and writes the data files of `rnnkit predict`: NumPy `.npy` and `.npz`, CSV and JSON.
///
/// All errors are one-line `RNNKitError`s naming the file and, where there is one, the place in
/// it (the `.npz` entry, `line N` of a CSV file, the JSON pointer of a JSON value).
public enum TensorFile {
    /// The file kinds, chosen by extension (case-insensitive).
    enum Kind: String { case npy, npz, csv, json, ndjson }

    static let readableExtensions = ".npy, .npz, .csv, .json, .ndjson, .jsonl"
    static let writableExtensions = ".npy, .npz, .json, .csv, .ndjson, .jsonl"
    /// The name of the array in a file that holds one unnamed array.
    static let defaultName = "input_0"

    static func kind(of path: String, writing: Bool) throws -> Kind {
        let ext = (path as NSString).pathExtension.lowercased()
        if let kind = Kind(rawValue: ext == "jsonl" ? "ndjson" : ext) { return kind }
        let what = ext.isEmpty ? "no extension" : "unsupported extension '.\(ext)'"
        let supported = writing ? writableExtensions : readableExtensions
        throw RNNKitError(.badUsage, "\(what): data files must end in \(supported)", file: path)
    }

    /// Reads every array in a data file; the kind is chosen by extension and its content checked.
    ///
    /// - `.npy`: one array (`<f4 <f8 <f2 <i1/2/4/8 <u1/2/4/8 |b1`, little-endian, C order), named `input_0`.
    /// - `.npz`: the `<name>.npy` entries of the archive (stored or deflated), in archive order.
    /// - `.csv`: rows are time steps, columns features; an optional header row of names is skipped.
    ///   Shape `[1, rows, columns]`, or with `csvWindow: W` the `rows - W + 1` overlapping windows of
    ///   `W` rows, shape `[rows - W + 1, W, columns]`.
    /// - `.json`: a nested array of numbers (named `input_0`) or an object `{name: nested array}`.
    /// - `.ndjson`, `.jsonl`: one sample per line (as a `.json` file, without the batch axis),
    ///   stacked into arrays with a batch axis; `-` reads standard input.
    public static func read(_ path: String, csvWindow: Int? = nil,
                            limits: ReadLimits = .default) throws -> [NamedTensor] {
        let kind = try kind(of: path, writing: false)
        if csvWindow != nil && kind != .csv {
            throw RNNKitError(.badUsage, "a window length applies only to .csv files", file: path)
        }
        switch kind {
        case .npy: return [try NPYFormat.readFile(path, limits: limits)]
        case .npz: return try NPZFormat.read(path, limits: limits)
        case .csv: return [try CSVFormat.read(path, window: csvWindow, limits: limits)]
        case .json: return try JSONTensorFormat.read(path, limits: limits)
        case .ndjson: return try NDJSONFormat.read(path, limits: limits).arrays
        }
    }

    /// Reads an `.npz` archive whatever its name (model files are recognised by content).
    static func readNPZ(_ path: String, limits: ReadLimits = .default) throws -> [NamedTensor] {
        try NPZFormat.read(path, limits: limits)
    }

    /// Writes tensors, the kind chosen by extension: `.npy` (exactly one tensor), `.npz` (entries
    /// `<name>.npy`, stored), `.json` (an object `{name: nested arrays}`). Arrays are written as
    /// float32 whatever their `elementType`.
    ///
    /// The write is atomic: the data goes to a new temporary file in the same folder (unique name,
    /// created with `O_EXCL`), is flushed with `fsync`, and is renamed over `path`. On any error the
    /// temporary file is removed and a previous file at `path` is left untouched. A file that is
    /// replaced keeps its permission bits.
    public static func write(_ tensors: [NamedTensor], to path: String) throws {
        let format = try OutputFormat(path: path)
        try AtomicFile.write(to: path, try writer(for: tensors, as: format, nonFinite: .pythonLiterals, path: path))
    }

    /// JSON for stdout: `{"output_0": nested arrays, ...}`, keys being the tensors' names in order,
    /// float32 values printed as the shortest text that reads back to the same bits (NaN and the
    /// infinities as `nonFinite` says). A rank-0 tensor is a plain number.
    static func jsonValue(_ tensors: [NamedTensor], nonFinite: NonFiniteJSON = .pythonLiterals) -> JSONValue {
        .object(JSONObject(tensors.map { (key: $0.name, value: nestedArrays($0.tensor, nonFinite: nonFinite)) }))
    }

    /// The scalars of `tensor` as nested JSON arrays.
    static func nestedArrays(_ tensor: Tensor, nonFinite: NonFiniteJSON) -> JSONValue {
        let shape = tensor.shape
        let scalars = tensor.scalars
        func build(_ axis: Int, _ offset: Int, _ stride: Int) -> JSONValue {
            if axis == shape.count { return nonFinite.json(for: scalars[offset]) }
            let inner = shape[axis] == 0 ? 0 : stride / shape[axis]
            return .array((0..<shape[axis]).map { build(axis + 1, offset + $0 * inner, inner) })
        }
        return build(0, 0, scalars.count)
    }

    static func checkUniqueNames(_ tensors: [NamedTensor], path: String) throws {
        var seen = Set<String>()
        for tensor in tensors where !seen.insert(tensor.name).inserted {
            throw RNNKitError(.badUsage, "two arrays are named '\(oneLine(tensor.name))'", file: path)
        }
    }
}

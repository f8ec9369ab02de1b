import Foundation
import SwiftProtobuf

/// What `rnnkit summary` and `rnnkit validate` tell about an ONNX model file (one RNNKit wrote,
/// or any other): its inputs and outputs, opsets, operator counts and weights, and what is
/// inconsistent in its graph. RNNKit does not run ONNX models.
public struct ONNXModelInfo: Sendable {
    /// A graph input or output: its name, element type (`float`, `int64`...) and dimensions
    /// (a number, a symbolic name such as `batch`, or `?`).
    public struct Port: Sendable, Equatable {
        /// The value's name in the graph.
        public var name: String
        /// `float`, `int64`...
        public var elementType: String
        /// A number, a symbolic name such as `batch`, or `?` per axis.
        public var dimensions: [String]
    }

    /// The file, for messages.
    public internal(set) var source: String
    /// The ONNX IR version the file declares.
    public internal(set) var irVersion: Int
    /// Operator set versions by domain (`ai.onnx` for the default domain).
    public internal(set) var opsets: [String: Int]
    /// Producer name and version, as the file gives them.
    public internal(set) var producer: String
    /// The graph's inputs (initializers excluded).
    public internal(set) var inputs: [Port]
    /// The graph's outputs.
    public internal(set) var outputs: [Port]
    /// How many nodes of each operator type the main graph holds.
    public internal(set) var operatorCounts: [String: Int]
    /// How many weight tensors the graph holds.
    public internal(set) var initializerCount: Int
    /// Elements in all initializers.
    public internal(set) var parameterCount: Int
    /// What is inconsistent: values used before any node makes them, outputs nothing makes,
    /// names made twice, initializers whose data does not fill their shape.
    public internal(set) var problems: [Problem]

    /// Reads `path`, refusing a file above `limits.maxBytes` before reading it. A file that is
    /// not a ModelProto throws `RNNKitError(.unreadable)`.
    public static func read(contentsOf path: String, limits: ReadLimits = .default) throws -> ONNXModelInfo {
        try ONNXModelInfo(bytes: readBytes(path, limit: limits.maxBytes), source: path)
    }

    /// Parses a serialized ModelProto (swift-protobuf, nesting at most 64 messages deep).
    init(bytes: Data, source: String) throws {
        var options = BinaryDecodingOptions()
        options.messageDepthLimit = 64
        let proto: Onnx_ModelProto
        do {
            proto = try Onnx_ModelProto(serializedBytes: bytes, options: options)
        } catch {
            throw RNNKitError(.unreadable, "not an ONNX model: the protobuf does not decode (\(error))", file: source)
        }
        self.source = source
        irVersion = Int(clamping: proto.irVersion)
        opsets = Dictionary(proto.opsetImport.map { ($0.domain.isEmpty ? "ai.onnx" : $0.domain, Int(clamping: $0.version)) },
                            uniquingKeysWith: max)
        producer = [proto.producerName, proto.producerVersion].filter { !$0.isEmpty }.joined(separator: " ")
        let graph = proto.graph
        inputs = graph.input.map(Self.port)
        outputs = graph.output.map(Self.port)
        operatorCounts = graph.node.reduce(into: [:]) { counts, node in counts[node.opType, default: 0] += 1 }
        initializerCount = graph.initializer.count
        parameterCount = graph.initializer.reduce(0) { total, tensor in
            total &+ (Self.elementCount(tensor.dims) ?? 0)
        }
        problems = Self.problems(proto, folder: (source as NSString).deletingLastPathComponent)
    }

    static func port(_ value: Onnx_ValueInfoProto) -> Port {
        let tensor = value.type.tensorType
        let type = Onnx_TensorProto.DataType(rawValue: Int(tensor.elemType)).map { "\($0)" } ?? "type \(tensor.elemType)"
        let dimensions = tensor.shape.dim.map { dim -> String in
            switch dim.value {
            case .dimValue(let size)?: String(size)
            case .dimParam(let name)?: name
            case nil: "?"
            }
        }
        return Port(name: value.name, elementType: type, dimensions: dimensions)
    }

    /// The product of `dims`, nil when negative or overflowing.
    static func elementCount(_ dims: [Int64]) -> Int? {
        var count = 1
        for dim in dims {
            guard dim >= 0, let size = Int(exactly: dim) else { return nil }
            let (product, overflow) = count.multipliedReportingOverflow(by: size)
            if overflow { return nil }
            count = product
        }
        return count
    }

    /// Bytes per element of the fixed-size tensor types, for checking raw_data.
    static func elementSize(_ type: Int32) -> Int? {
        switch Onnx_TensorProto.DataType(rawValue: Int(type)) {
        case .float?, .int32?, .uint32?: 4
        case .double?, .int64?, .uint64?: 8
        case .float16?, .bfloat16?, .int16?, .uint16?: 2
        case .int8?, .uint8?, .bool?: 1
        default: nil
        }
    }

    /// The main graph's consistency: the graph and the default opset are there, every node
    /// input is a graph input, an initializer or an earlier node's output, no name is made
    /// twice, every graph output is made, every initializer's data fills its shape (in the file
    /// beside the model, for external data, whose size is checked without reading it).
    static func problems(_ proto: Onnx_ModelProto, folder: String) -> [Problem] {
        var problems: [Problem] = []
        guard proto.hasGraph else { return [Problem(.error, "/graph", "the model has no graph")] }
        if !proto.opsetImport.contains(where: { $0.domain.isEmpty || $0.domain == "ai.onnx" }) {
            problems.append(Problem(.error, "/opset_import", "no opset for the default domain (ai.onnx)"))
        }
        let graph = proto.graph
        var known: Set<String> = []
        func define(_ name: String, at location: String) {
            if name.isEmpty { return }
            if !known.insert(name).inserted {
                problems.append(Problem(.error, location, "'\(name)' is defined more than once"))
            }
        }
        for input in graph.input { define(input.name, at: "input \(input.name)") }
        for tensor in graph.initializer {
            // An initializer may repeat a graph input of its name (a default value), as IR < 4 required.
            if !graph.input.contains(where: { $0.name == tensor.name }) {
                define(tensor.name, at: "initializer \(tensor.name)")
            }
            if tensor.dataLocation == .external {
                problems += externalDataProblems(tensor, folder: folder)
            } else if let count = elementCount(tensor.dims), let size = elementSize(tensor.dataType), tensor.hasRawData,
               tensor.rawData.count != count.multipliedReportingOverflow(by: size).partialValue {
                problems.append(Problem(.error, "initializer \(tensor.name)",
                                        "raw data of \(tensor.rawData.count) bytes does not fill shape \(tensor.dims)"))
            } else if elementCount(tensor.dims) == nil {
                problems.append(Problem(.error, "initializer \(tensor.name)", "invalid shape \(tensor.dims)"))
            }
        }
        for (index, node) in graph.node.enumerated() {
            let location = "node \(index) (\(node.opType)\(node.name.isEmpty ? "" : " " + node.name))"
            for input in node.input where !input.isEmpty && !known.contains(input) {
                problems.append(Problem(.error, location, "input '\(input)' is not made before this node"))
            }
            for output in node.output { define(output, at: location) }
        }
        for output in graph.output where !known.contains(output.name) {
            problems.append(Problem(.error, "output \(output.name)", "no node, input or initializer makes it"))
        }
        return problems
    }

    /// An external tensor's entries: a location relative to the model's folder and inside it
    /// (as ONNX requires), offset and length that are numbers, a length that fills the shape, and
    /// a file there long enough.
    static func externalDataProblems(_ tensor: Onnx_TensorProto, folder: String) -> [Problem] {
        let place = "initializer \(tensor.name)"
        let entries = Dictionary(tensor.externalData.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
        guard let location = entries["location"], !location.isEmpty, !location.hasPrefix("/"),
              !location.split(separator: "/").contains("..") else {
            return [Problem(.error, place, "external data needs a location relative to the model's folder, "
                            + "inside it; got '\(entries["location"] ?? "")'")]
        }
        let filled = elementCount(tensor.dims).flatMap { count in
            elementSize(tensor.dataType).map { count.multipliedReportingOverflow(by: $0).partialValue }
        }
        guard let offset = Int(entries["offset"] ?? "0"), offset >= 0,
              let length = entries["length"].map({ Int($0) }) ?? filled, length >= 0 else {
            return [Problem(.error, place, "external data offset and length must be numbers of bytes")]
        }
        if let filled, length != filled {
            return [Problem(.error, place, "external data of \(length) bytes does not fill shape \(tensor.dims)")]
        }
        let (sum, overflow) = offset.addingReportingOverflow(length)
        let end = overflow ? Int.max : sum
        var info = stat()
        guard stat(folder.isEmpty ? location : folder + "/" + location, &info) == 0,
              (info.st_mode & S_IFMT) == S_IFREG, Int(info.st_size) >= end else {
            return [Problem(.error, place, "external data file '\(location)' is missing or ends before byte \(end)")]
        }
        return []
    }

    /// `ModelFileKind.detect`'s test: a ModelProto starts with its ir_version (field 1) then,
    /// in any writer we know, another ModelProto field.
    static func looksLikeONNX(_ head: [UInt8]) -> Bool {
        guard head.count >= 3, head[0] == 0x08, (1...0x7F).contains(head[1]) else { return false }
        // Tags of fields 2 to 8 and 14 (producer_name ... opset_import, metadata_props).
        return [0x12, 0x1A, 0x22, 0x28, 0x32, 0x3A, 0x42, 0x72].contains(head[2])
    }

    /// The summary table: inputs, outputs, opsets, operator counts, weights.
    public var table: String {
        func describe(_ port: Port) -> String { " \(port.name)  \(port.elementType) [\(port.dimensions.joined(separator: ", "))]" }
        var lines = ["ONNX model: IR version \(irVersion), opsets "
                     + opsets.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
                     + (producer.isEmpty ? "" : ", produced by \(producer)")]
        lines.append("Inputs:")
        lines += inputs.map(describe)
        lines.append("Outputs:")
        lines += outputs.map(describe)
        lines.append("Operators (\(operatorCounts.values.reduce(0, +)) nodes):")
        lines += operatorCounts.sorted { $0.key < $1.key }.map { " \($0.key)  \($0.value)" }
        lines.append("Initializers: \(initializerCount), \(parameterCount) elements")
        return lines.joined(separator: "\n")
    }
}

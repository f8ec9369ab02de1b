import RNNKit

/// Writes predictions as TF Serving does (json_tensor.cc): row format `{"predictions": [...]}`,
/// one entry per batch row, an object keyed by output name when the model has several outputs;
/// columnar `{"outputs": tensor}` or `{"outputs": {name: tensor}}`. Floats are written in their
/// shortest round-tripping form, whole numbers with ".0", non-finite ones as NaN/Infinity.
public enum PredictResponse {
    public static func encode(_ outputs: [Tensor], names: [String], format: PredictRequest.Format) -> [UInt8] {
        var text = JSONText()
        // TF Serving's outputs come from a map; sorting by name makes the order reproducible.
        let named = zip(names, outputs).sorted { $0.0 < $1.0 }
        // One output is written bare; several as an object keyed by output name.
        func appendOutputs(_ appendTensor: (inout JSONText, Tensor) -> Void) {
            if named.count > 1 { text.append("{") }
            for (position, (name, tensor)) in named.enumerated() {
                if named.count > 1 {
                    if position > 0 { text.append(",") }
                    text.appendString(name)
                    text.append(":")
                }
                appendTensor(&text, tensor)
            }
            if named.count > 1 { text.append("}") }
        }
        switch format {
        case .row:
            text.append("{\"predictions\":[")
            for row in 0..<(outputs.first?.shape.first ?? 0) {
                if row > 0 { text.append(",") }
                appendOutputs { text, tensor in
                    let rowSize = tensor.shape.dropFirst().reduce(1, *)
                    text.appendTensor(tensor.scalars, shape: tensor.shape.dropFirst(), offset: row * rowSize)
                }
            }
            text.append("]}")
        case .columnar:
            text.append("{\"outputs\":")
            appendOutputs { text, tensor in text.appendTensor(tensor.scalars, shape: tensor.shape[...], offset: 0) }
            text.append("}")
        }
        return text.bytes
    }
}

/// JSON built up as UTF-8 bytes.
struct JSONText {
    var bytes: [UInt8] = []

    init() {
        bytes.reserveCapacity(256)
    }

    mutating func append(_ raw: StaticString) {
        bytes.append(contentsOf: UnsafeBufferPointer(start: raw.utf8Start, count: raw.utf8CodeUnitCount))
    }

    mutating func appendRaw(_ raw: String) {
        bytes.append(contentsOf: raw.utf8)
    }

    /// A JSON string, escaped.
    mutating func appendString(_ value: String) {
        bytes.append(UInt8(ascii: "\""))
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\""): append("\\\"")
            case UInt8(ascii: "\\"): append("\\\\")
            case 0x0A: append("\\n")
            case 0x0D: append("\\r")
            case 0x09: append("\\t")
            case 0..<0x20:
                let hex: [UInt8] = Array("0123456789abcdef".utf8)
                append("\\u00")
                bytes.append(hex[Int(byte >> 4)])
                bytes.append(hex[Int(byte & 15)])
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    mutating func appendFloat(_ value: Float) {
        if value.isNaN {
            append("NaN")
        } else if value.isInfinite {
            append(value < 0 ? "-Infinity" : "Infinity")
        } else {
            // Swift's description is the shortest text that reads back as the same float, and
            // writes whole numbers as "2.0", as TF Serving does.
            appendRaw(value.description)
        }
    }

    /// Nested lists of `shape` read from `scalars` at `offset` (a bare number for rank 0).
    mutating func appendTensor(_ scalars: [Float], shape: ArraySlice<Int>, offset: Int) {
        var cursor = offset
        appendLevel(scalars, shape: shape, cursor: &cursor)
    }

    private mutating func appendLevel(_ scalars: [Float], shape: ArraySlice<Int>, cursor: inout Int) {
        guard let count = shape.first else {
            appendFloat(scalars[cursor])
            cursor += 1
            return
        }
        bytes.append(UInt8(ascii: "["))
        for index in 0..<count {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            appendLevel(scalars, shape: shape.dropFirst(), cursor: &cursor)
        }
        bytes.append(UInt8(ascii: "]"))
    }
}

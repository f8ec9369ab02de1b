import Foundation
import RNNKit
import ZIPFoundation

/// Reads what `rnnkit predict` writes (.npy, .npz, JSON) without RNNKit's own readers, so that a
/// fault shared by RNNKit's writer and reader cannot cancel out in a test. Float32 only, as
/// `predict` writes.
public enum PredictionFiles {
    public struct Unreadable: Error, CustomStringConvertible {
        public var description: String
    }

    /// One .npy array: little-endian float32 in C order, format version 1, 2 or 3.
    public static func npy(_ bytes: [UInt8], name: String = "npy") throws -> Tensor {
        guard bytes.count >= 10, bytes[0] == 0x93, Array(bytes[1...5]) == Array("NUMPY".utf8) else {
            throw Unreadable(description: "\(name): not an .npy file")
        }
        let wide = bytes[6] >= 2
        let headerLength = wide ? (0..<4).reduce(0) { $0 | Int(bytes[8 + $1]) << (8 * $1) } : Int(bytes[8]) | Int(bytes[9]) << 8
        let start = (wide ? 12 : 10) + headerLength
        guard start <= bytes.count else { throw Unreadable(description: "\(name): header runs past the end") }
        let header = String(decoding: bytes[(wide ? 12 : 10)..<start], as: UTF8.self)
        guard header.contains("'descr': '<f4'"), header.contains("'fortran_order': False"),
              let open = header.range(of: "'shape': ("), let close = header[open.upperBound...].firstIndex(of: ")")
        else { throw Unreadable(description: "\(name): not a C-order float32 array: \(header)") }
        let shape = try header[open.upperBound..<close].split(separator: ",").map {
            guard let dimension = Int($0.trimmingCharacters(in: .whitespaces)) else {
                throw Unreadable(description: "\(name): shape \(header[open.upperBound..<close])")
            }
            return dimension
        }
        let count = shape.reduce(1, *)
        guard bytes.count - start == 4 * count else {
            throw Unreadable(description: "\(name): \(bytes.count - start) data bytes for shape \(shape)")
        }
        let scalars = (0..<count).map { index in
            Float(bitPattern: (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[start + 4 * index + $1]) << (8 * $1) })
        }
        return Tensor(shape: shape, scalars: scalars)
    }

    /// The arrays of an .npz file by name (the entry name without `.npy`).
    public static func npz(_ path: String) throws -> [String: Tensor] {
        let archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .read)
        var arrays: [String: Tensor] = [:]
        for entry in archive {
            var bytes: [UInt8] = []
            _ = try archive.extract(entry) { bytes += $0 }
            let name = entry.path.hasSuffix(".npy") ? String(entry.path.dropLast(4)) : entry.path
            arrays[name] = try npy(bytes, name: "\(path): \(entry.path)")
        }
        return arrays
    }

    /// The arrays of a JSON object of nested arrays of numbers by name; `null` (a non-finite
    /// value) is read as NaN, so that a comparison fails on it.
    public static func json(_ text: String) throws -> [String: Tensor] {
        guard let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
            throw Unreadable(description: "not a JSON object: \(text.prefix(100))")
        }
        return try object.mapValues { value in
            var shape: [Int] = [], scalars: [Float] = []
            func walk(_ value: Any, depth: Int) throws {
                if let array = value as? [Any] {
                    if shape.count == depth { shape.append(array.count) }
                    guard shape[depth] == array.count else { throw Unreadable(description: "ragged arrays") }
                    for element in array { try walk(element, depth: depth + 1) }
                } else if value is NSNull {
                    scalars.append(.nan)
                } else if let number = value as? NSNumber, depth == shape.count {
                    scalars.append(number.floatValue)
                } else {
                    throw Unreadable(description: "not a number: \(value)")
                }
            }
            try walk(value, depth: 0)
            return Tensor(shape: shape, scalars: scalars)
        }
    }

    /// `arrays` named output_0, output_1, ... in that order; fails on any other name.
    public static func outputs(_ arrays: [String: Tensor]) throws -> [Tensor] {
        let names = (0..<arrays.count).map { "output_\($0)" }
        guard Set(names) == Set(arrays.keys) else {
            throw Unreadable(description: "arrays named \(arrays.keys.sorted()), expected \(names)")
        }
        return names.map { arrays[$0]! }
    }
}

import Foundation

/// NumPy `.npy` files, format versions 1.0, 2.0 and 3.0.
///
/// Layout: the magic `\x93NUMPY`, major and minor version bytes, the header length (little-endian
/// `uint16` in 1.0, `uint32` in 2.0 and 3.0), the header (a Python dict literal, Latin-1 in 1.0 and
/// 2.0, UTF-8 in 3.0), then the raw data in C order.
enum NPYFormat {
    static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]  // \x93NUMPY
    /// NumPy aligns the start of the data to this many bytes.
    static let alignment = 64

    // MARK: - Reading

    static func readFile(_ path: String, limits: ReadLimits) throws -> NamedTensor {
        let file = try ReadableFile(path: path)
        guard file.size <= UInt64(max(0, limits.maxBytes)) else {
            throw RNNKitError(.unreadable, ".npy file too large: \(file.size) bytes, the limit is "
                + "\(limits.maxBytes)", file: path).lifted(by: .byteLimit(limits.maxBytes))
        }
        var decoder = NPYDecoder(totalBytes: file.size, limits: limits, file: path, location: nil)
        try file.stream { try decoder.feed($0) }
        return try decoder.finish(name: TensorFile.defaultName)
    }

    // MARK: - Writing

    /// The header NumPy's `np.save` writes for a C-order array of `shape` (float32, or the
    /// NumPy type `descr`): version 1.0 (2.0
    /// when the header needs more than 65535 bytes), keys sorted, spare spaces after the dict so the
    /// first axis can grow, padded with spaces to a multiple of 64 bytes and ended by '\n'.
    static func header(shape: [Int], descr: String = "<f4") -> [UInt8] {
        let shapeText: String
        switch shape.count {
        case 0: shapeText = "()"
        case 1: shapeText = "(\(shape[0]),)"
        default: shapeText = "(" + shape.map(String.init).joined(separator: ", ") + ")"
        }
        var dict = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shapeText), }"
        // np.save leaves room for the growth axis (the first, in C order) to reach 21 digits.
        if let first = shape.first {
            dict += String(repeating: " ", count: max(0, 21 - String(first).count))
        }
        var text = Array(dict.utf8)
        var version: UInt8 = 1
        var prefixLength = magic.count + 2 + 2
        if text.count + 1 + alignment > Int(UInt16.max) {
            version = 2
            prefixLength = magic.count + 2 + 4
        }
        let unpadded = prefixLength + text.count + 1
        let padding = alignment - unpadded % alignment  // 1...64, as NumPy computes it
        text += [UInt8](repeating: 0x20, count: padding)
        text.append(0x0A)
        var bytes = magic + [version, 0]
        let length = UInt32(text.count)
        bytes += [UInt8(length & 0xFF), UInt8(length >> 8 & 0xFF)]
        if version == 2 { bytes += [UInt8(length >> 16 & 0xFF), UInt8(length >> 24)] }
        return bytes + text
    }

    /// A whole `.npy` file for one array, in memory (for `.npz` entries): float32, or bytes
    /// for a uint8 array (such as the JSON text of an npz model).
    static func encode(_ array: NamedTensor) -> Data {
        let tensor = array.tensor
        if array.elementType == .uint8 {
            return Data(header(shape: tensor.shape, descr: "|u1")) + Data(tensor.scalars.map { UInt8($0) })
        }
        var data = Data(header(shape: tensor.shape))
        withLittleEndianBytes(of: tensor.scalars) { data.append(contentsOf: $0) }
        return data
    }
}

/// Decodes one `.npy` stream fed in chunks of any size, whose total length is known up front.
///
/// The header is parsed as soon as it is complete; then the data length implied by the shape and
/// dtype (computed with overflow checks) must equal the bytes that remain, before any memory is
/// reserved for the elements.
struct NPYDecoder {
    let totalBytes: UInt64
    let limits: ReadLimits
    let file: String
    let location: String?

    private var prefix: [UInt8] = []
    /// The length of magic + version + length field + header, once known.
    private var dataOffset: Int?
    private var header: NPYHeader?
    private var elementCount = 0
    private var expectedDataBytes: UInt64 = 0
    private var dataBytes: UInt64 = 0
    private var carry: [UInt8] = []
    private var scalars: [Float] = []
    private var roundedIntegers = false

    /// Whether the elements are taken out batch by batch (`take`): nothing is reserved for all.
    let streaming: Bool

    init(totalBytes: UInt64, limits: ReadLimits, file: String, location: String?, streaming: Bool = false) {
        self.streaming = streaming
        self.totalBytes = totalBytes
        self.limits = limits
        self.file = file
        self.location = location
    }

    private func error(_ message: String) -> RNNKitError {
        RNNKitError(.unreadable, message, file: file, location: location)
    }

    mutating func feed(_ chunk: UnsafeRawBufferPointer) throws {
        var rest = chunk[...]
        while header == nil && !rest.isEmpty {
            let needed = try prefixNeeded()
            let take = min(needed - prefix.count, rest.count)
            prefix += rest.prefix(take)
            rest = rest.dropFirst(take)
            if prefix.count == needed { try advancePrefix() }
        }
        if !rest.isEmpty { try consume(UnsafeRawBufferPointer(rebasing: rest)) }
    }

    /// How many prefix bytes the next parsing step needs.
    private func prefixNeeded() throws -> Int {
        if prefix.count < 8 { return 8 }
        if let dataOffset { return dataOffset }
        return prefix[6] == 1 ? 10 : 12
    }

    /// Checks what the prefix holds so far and moves to the next step.
    private mutating func advancePrefix() throws {
        if prefix.count == 8 {
            guard prefix.starts(with: NPYFormat.magic) else {
                throw error("not a NumPy .npy file (no \\x93NUMPY magic)")
            }
            let (major, minor) = (prefix[6], prefix[7])
            guard (1...3).contains(major), minor == 0 else {
                throw error("unsupported .npy format version \(major).\(minor) (supported: 1.0, 2.0, 3.0)")
            }
            return
        }
        if dataOffset == nil {
            var length = UInt64(prefix[8]) | UInt64(prefix[9]) << 8
            if prefix.count == 12 { length |= UInt64(prefix[10]) << 16 | UInt64(prefix[11]) << 24 }
            guard length <= UInt64(max(0, limits.maxNPYHeaderBytes)) else {
                throw error(".npy header of \(length) bytes is longer than the limit of \(limits.maxNPYHeaderBytes)")
            }
            let offset = UInt64(prefix.count) + length
            guard offset <= totalBytes else {
                throw error("truncated .npy file: the header needs \(offset) bytes, the file has \(totalBytes)")
            }
            dataOffset = Int(offset)
            if prefix.count < Int(offset) { return }
        }
        try parseHeader()
    }

    private mutating func parseHeader() throws {
        let start = prefix[6] == 1 ? 10 : 12
        let parsed: NPYHeader
        do {
            parsed = try NPYHeader.parse(Array(prefix[start...]), utf8: prefix[6] == 3, maxRank: limits.maxRank)
        } catch let failure as NPYHeader.Failure {
            throw error(failure.message)
        }
        let itemSize = parsed.elementType.itemSize
        let description = "shape \(formatShape(parsed.shape)) of \(parsed.elementType.rawValue)"
        guard let count = Tensor.checkedElementCount(parsed.shape),
              case let (bytes, overflow) = count.multipliedReportingOverflow(by: itemSize), !overflow else {
            throw error("the header declares an impossibly large array: \(description)")
        }
        let available = totalBytes - UInt64(prefix.count)
        if UInt64(bytes) > available {
            throw error("truncated .npy file: \(description) needs \(bytes) bytes of data, the file holds \(available)")
        }
        if UInt64(bytes) < available {
            throw error("\(available - UInt64(bytes)) unexpected bytes after the data of \(description)")
        }
        header = parsed
        elementCount = count
        expectedDataBytes = UInt64(bytes)
        if !streaming { scalars.reserveCapacity(count) }
        carry.reserveCapacity(itemSize)
    }

    private mutating func consume(_ data: UnsafeRawBufferPointer) throws {
        guard let header else { return }
        guard UInt64(data.count) <= expectedDataBytes - dataBytes else {
            throw error("more data than the header declares")
        }
        dataBytes += UInt64(data.count)
        let itemSize = header.elementType.itemSize
        var rest = data[...]
        if !carry.isEmpty {
            let take = min(itemSize - carry.count, rest.count)
            carry += rest.prefix(take)
            rest = rest.dropFirst(take)
            if carry.count == itemSize {
                carry.withUnsafeBytes { convert($0, header.elementType) }
                carry.removeAll(keepingCapacity: true)
            }
        }
        let whole = rest.count / itemSize * itemSize
        convert(UnsafeRawBufferPointer(rebasing: rest.prefix(whole)), header.elementType)
        carry += rest.dropFirst(whole)
    }

    /// Appends the elements in `bytes` (a whole number of items) to `scalars`.
    private mutating func convert(_ bytes: UnsafeRawBufferPointer, _ type: TensorElementType) {
        let n = bytes.count / type.itemSize
        guard n > 0 else { return }
        func each<T: FixedWidthInteger>(_: T.Type, _ body: (T) -> Float) {
            for i in 0..<n {
                let raw = bytes.loadUnaligned(fromByteOffset: i * MemoryLayout<T>.size, as: T.self)
                scalars.append(body(T(littleEndian: raw)))
            }
        }
        func integers<T: FixedWidthInteger>(_: T.Type) {
            var rounded = false
            each(T.self) { value in
                let float = Float(value)
                if UInt64(value.magnitude) > 1 << 24, T(exactly: float) != value { rounded = true }
                return float
            }
            if rounded { roundedIntegers = true }
        }
        switch type {
        case .float32:
            #if _endian(little)
            let start = scalars.count
            scalars.append(contentsOf: repeatElement(0, count: n))
            scalars.withUnsafeMutableBytes { target in
                target.baseAddress!.advanced(by: start * 4).copyMemory(from: bytes.baseAddress!, byteCount: n * 4)
            }
            #else
            each(UInt32.self) { Float(bitPattern: $0) }
            #endif
        case .float64: each(UInt64.self) { Float(Double(bitPattern: $0)) }
        case .float16: each(UInt16.self) { Float(halfBitPattern: $0) }
        case .int8: integers(Int8.self)
        case .int16: integers(Int16.self)
        case .int32: integers(Int32.self)
        case .int64: integers(Int64.self)
        case .uint8: integers(UInt8.self)
        case .uint16: integers(UInt16.self)
        case .uint32: integers(UInt32.self)
        case .uint64: integers(UInt64.self)
        case .bool: each(UInt8.self) { $0 == 0 ? 0 : 1 }
        }
    }

    /// The array's shape and element type, once the header is parsed.
    var parsedHeader: NPYHeader? { header }
    /// Elements decoded and not yet taken.
    var pendingCount: Int { scalars.count }
    /// Whether every byte of the data was fed.
    var complete: Bool { header != nil && dataBytes == expectedDataBytes && carry.isEmpty }
    var hasRoundedIntegers: Bool { roundedIntegers }

    /// The first `count` decoded elements, removed (streaming).
    mutating func take(_ count: Int) -> [Float] {
        let taken = Array(scalars.prefix(count))
        scalars.removeFirst(min(count, scalars.count))
        return taken
    }

    /// The tensor, once every byte has been fed.
    mutating func finish(name: String) throws -> NamedTensor {
        guard let header else {
            if totalBytes == 0 { throw error("empty file, not a NumPy .npy file") }
            throw error(prefix.count < 8 && !NPYFormat.magic.starts(with: prefix.prefix(6))
                ? "not a NumPy .npy file (no \\x93NUMPY magic)"
                : "truncated .npy file: the header is incomplete")
        }
        guard dataBytes == expectedDataBytes, carry.isEmpty, scalars.count == elementCount else {
            throw error("truncated .npy data: \(dataBytes) of \(expectedDataBytes) bytes")
        }
        let tensor = Tensor(shape: header.shape, scalars: scalars)
        scalars = []
        return NamedTensor(name: name, tensor: tensor, elementType: header.elementType,
                           roundedIntegers: roundedIntegers)
    }
}

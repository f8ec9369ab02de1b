import Foundation
internal import CLibDeflate
#if canImport(CZlib)
import CZlib  // ZIPFoundation's zlib module on Linux
#else
import zlib   // the SDK's zlib elsewhere
#endif

// zlib's `inflate` is shadowed by a member of the reader below; name it unambiguously.
private func zlibInflate(_ stream: UnsafeMutablePointer<z_stream>) -> Int32 { inflate(stream, Z_NO_FLUSH) }

// Reading the data of one entry: bounded by its declared sizes, inflated with zlib, checked by
// CRC-32 (libdeflate's: a 100 MB weights entry in 7 ms where zlib 1.2.13 takes 25).
extension ZipReader {
    /// Validates the local header of `entry` and returns the offset of its data.
    func dataOffset(of entry: ZipEntry) throws -> UInt64 {
        let header = try readBytes(at: entry.localHeaderOffset, count: 30, entry: entry)
        let h = LittleEndianBytes(header, base: 0)
        guard h.u32(0) == 0x0403_4B50 else {
            throw error("damaged ZIP archive: no local file header where the directory points", entry: entry)
        }
        let nameLength = Int(h.u16(26))
        let extraLength = Int(h.u16(28))
        let name = try readBytes(at: entry.localHeaderOffset + 30, count: nameLength, entry: entry)
        guard name == entry.nameBytes else {
            throw error("inconsistent ZIP archive: the local header names a different entry", entry: entry)
        }
        guard h.u16(8) == entry.method, (h.u16(6) & 0x0041) == (entry.flags & 0x0041) else {
            throw error("inconsistent ZIP archive: local header and central directory disagree", entry: entry)
        }
        let offset = entry.localHeaderOffset + 30 + UInt64(nameLength) + UInt64(extraLength)
        guard offset <= centralDirectoryOffset, entry.compressedSize <= centralDirectoryOffset - offset else {
            throw error("damaged ZIP archive: the entry's data runs into the central directory "
                + "(truncated or lying sizes)", entry: entry)
        }
        return offset
    }

    /// Streams the uncompressed bytes of `entry` to `consumer`, in chunks, and verifies them.
    ///
    /// Before reading anything it checks the declared size against `maxBytes` and, for deflated
    /// entries, against the compressed size × `maxCompressionRatio`. While inflating it counts
    /// the bytes produced and stops as soon as they exceed the declared size. At the end the count must
    /// equal the declared size and the CRC-32 must match.
    func stream(_ entry: ZipEntry, maxBytes: Int, maxCompressionRatio: Int,
                consumer: (Data) throws -> Void) throws {
        let start = try checkedDataStart(of: entry, maxBytes: maxBytes, maxCompressionRatio: maxCompressionRatio)
        var produced: UInt64 = 0
        var crc: UInt32 = 0
        if entry.method == Self.stored {
            try copyStored(entry, from: start, produced: &produced, crc: &crc, consumer: consumer)
        } else {
            try inflate(entry, from: start, declared: entry.uncompressedSize, produced: &produced, crc: &crc,
                        consumer: consumer)
        }
        try checkComplete(entry, produced: produced, crc: crc)
    }

    /// The uncompressed bytes of `entry` in one buffer, checked as `stream` checks them. A stored
    /// entry is mapped in place from the archive (no copy; pages are read as they are touched); a
    /// deflated one is inflated into memory allocated once its declared size has been accepted.
    func contents(of entry: ZipEntry, maxBytes: Int, maxCompressionRatio: Int) throws -> PinnedBytes {
        if entry.method == Self.stored {
            let start = try checkedDataStart(of: entry, maxBytes: maxBytes, maxCompressionRatio: maxCompressionRatio)
            let mapped = try file.map(at: start, count: Int(entry.uncompressedSize))
            try checkComplete(entry, produced: entry.uncompressedSize, crc: Self.crc32(0, mapped.bytes))
            return mapped
        }
        var pinned: PinnedBytes?
        var filled = 0
        try stream(entry, maxBytes: maxBytes, maxCompressionRatio: maxCompressionRatio) { chunk in
            let target = pinned ?? PinnedBytes(allocating: Int(entry.uncompressedSize))
            pinned = target
            // `stream` never hands over more than the declared size; this keeps the copy in bounds
            // even if that ever changed.
            guard chunk.count <= target.bytes.count - filled else {
                throw error("the entry is longer than its declared size", entry: entry)
            }
            chunk.copyBytes(to: UnsafeMutableRawBufferPointer(rebasing: target.filling[filled..<(filled + chunk.count)]))
            filled += chunk.count
        }
        return pinned ?? PinnedBytes(allocating: 0)
    }

    /// Where a stored entry's bytes lie in the archive, checked as far as it can be without reading
    /// them (the caller checks the CRC-32 as it reads); nil for a compressed entry.
    func storedData(of entry: ZipEntry) throws -> Range<UInt64>? {
        guard entry.method == Self.stored else { return nil }
        let start = try checkedDataStart(of: entry, maxBytes: .max, maxCompressionRatio: .max)
        return start..<(start + entry.uncompressedSize)
    }

    private static let stored: UInt16 = 0, deflated: UInt16 = 8

    /// Checks what can be checked before reading `entry`'s data (declared size, file type, method,
    /// compression ratio, local header) and returns the data's offset.
    private func checkedDataStart(of entry: ZipEntry, maxBytes: Int, maxCompressionRatio: Int) throws -> UInt64 {
        let declared = entry.uncompressedSize
        guard declared <= UInt64(max(0, maxBytes)) else {
            throw error("entry too large: declares \(declared) bytes uncompressed, the limit is \(maxBytes)",
                        entry: entry).lifted(by: .byteLimit(maxBytes))
        }
        if let type = entry.unixFileType, type != 0o100000 {
            throw error("entry is not a regular file (symlink or directory)", entry: entry)
        }
        let start = try dataOffset(of: entry)
        switch entry.method {
        case Self.stored:
            guard entry.compressedSize == declared else {
                throw error("damaged ZIP archive: stored entry with different compressed (\(entry.compressedSize)) "
                    + "and uncompressed (\(declared)) sizes", entry: entry)
            }
        case Self.deflated:
            let ratio = UInt64(max(0, maxCompressionRatio))
            let (allowed, overflow) = entry.compressedSize.multipliedReportingOverflow(by: ratio)
            guard overflow || declared <= allowed else {
                throw error("refusing to inflate a possible zip bomb: \(entry.compressedSize) compressed bytes "
                    + "declare \(declared) uncompressed, more than the \(maxCompressionRatio):1 ratio limit",
                    entry: entry)
            }
        default:
            throw error("unsupported compression method \(entry.method) (only stored and deflate)", entry: entry)
        }
        return start
    }

    /// The checks after the data: as many bytes as declared, and the CRC-32 the directory gives.
    func checkComplete(_ entry: ZipEntry, produced: UInt64, crc: UInt32) throws {
        guard produced == entry.uncompressedSize else {
            throw error("corrupt entry: \(produced) bytes of data, the directory declares \(entry.uncompressedSize)",
                        entry: entry)
        }
        guard crc == entry.crc32 else {
            throw error(String(format: "corrupt entry: CRC-32 mismatch (data 0x%08x, directory 0x%08x)",
                               crc, entry.crc32), entry: entry)
        }
    }

    /// Reads the stored bytes of `entry` (at `start`) in chunks of 1 MiB into one reused buffer.
    private func copyStored(_ entry: ZipEntry, from start: UInt64, produced: inout UInt64, crc: inout UInt32,
                            consumer: (Data) throws -> Void) throws {
        let declared = entry.uncompressedSize
        let chunkSize = 1 << 20
        var buffer = Data(count: Int(min(UInt64(chunkSize), declared)))
        while produced < declared {
            let n = Int(min(UInt64(chunkSize), declared - produced))
            try buffer.withUnsafeMutableBytes {
                try readFully(UnsafeMutableRawBufferPointer(rebasing: $0[0..<n]), at: start + produced, entry: entry)
            }
            let chunk = n == buffer.count ? buffer : buffer.prefix(n)
            // The checksum runs on another core while the consumer (a file write) takes the
            // same bytes: for a 100 MB weights entry that is a third of the extraction time.
            let checksum = ChunkChecksum(crc)
            let group = DispatchGroup()
            DispatchQueue.global().async(group: group) { checksum.add(chunk) }
            do {
                try consumer(chunk)
            } catch {
                group.wait()
                throw error
            }
            group.wait()
            crc = checksum.value
            produced += UInt64(n)
        }
    }

    /// Inflates the raw deflate stream of `entry` (compressed bytes at `start`), never reading past its
    /// compressed size and never producing more than `declared` bytes.
    private func inflate(_ entry: ZipEntry, from start: UInt64, declared: UInt64, produced: inout UInt64,
                         crc: inout UInt32, consumer: (Data) throws -> Void) throws {
        let inputSize = 1 << 16, outputSize = 1 << 18
        let input = UnsafeMutableRawBufferPointer.allocate(byteCount: inputSize, alignment: 16)
        defer { input.deallocate() }
        let output = UnsafeMutableRawBufferPointer.allocate(byteCount: outputSize, alignment: 16)
        defer { output.deallocate() }

        var stream = z_stream()
        guard inflateInit2_(&stream, -MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw error("cannot initialise zlib", entry: entry)
        }
        defer { inflateEnd(&stream) }

        let compressedSize = entry.compressedSize
        var consumed: UInt64 = 0
        while true {
            if stream.avail_in == 0 {
                guard consumed < compressedSize else {
                    throw error("corrupt entry: its \(compressedSize) compressed bytes end before the deflate "
                        + "stream does (truncated or damaged)", entry: entry)
                }
                let n = Int(min(UInt64(inputSize), compressedSize - consumed))
                try readFully(UnsafeMutableRawBufferPointer(rebasing: input[0..<n]), at: start + consumed,
                              entry: entry)
                consumed += UInt64(n)
                stream.next_in = input.baseAddress!.assumingMemoryBound(to: Bytef.self)
                stream.avail_in = uInt(n)
            }
            stream.next_out = output.baseAddress!.assumingMemoryBound(to: Bytef.self)
            stream.avail_out = uInt(outputSize)
            let status = zlibInflate(&stream)
            let made = outputSize - Int(stream.avail_out)
            switch status {
            case Z_OK, Z_STREAM_END:
                break
            case Z_BUF_ERROR where made > 0 || stream.avail_in == 0:
                break
            default:
                let reason = stream.msg.map { String(cString: $0) } ?? "zlib status \(status)"
                throw error("corrupt entry: cannot inflate (\(reason))", entry: entry)
            }
            if made > 0 {
                produced += UInt64(made)
                guard produced <= declared else {
                    throw error("refusing a zip bomb: the entry inflates to more than its declared "
                        + "\(declared) bytes", entry: entry)
                }
                let chunk = UnsafeRawBufferPointer(rebasing: output[0..<made])
                crc = Self.crc32(crc, chunk)
                try consumer(Data(chunk))
            }
            if status == Z_STREAM_END { return }
        }
    }

    /// A running CRC-32 that another thread advances while the caller waits on a group.
    private final class ChunkChecksum: @unchecked Sendable {
        private(set) var value: UInt32
        init(_ value: UInt32) { self.value = value }
        func add(_ chunk: Data) { value = chunk.withUnsafeBytes { ZipReader.crc32(value, $0) } }
    }

    /// ZIP's CRC-32 of `bytes`, continuing from `crc` (0 to start); any length.
    static func crc32(_ crc: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return crc }
        return libdeflate_crc32(crc, base, bytes.count)
    }
}

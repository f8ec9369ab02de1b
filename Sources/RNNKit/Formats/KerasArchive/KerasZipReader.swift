import Foundation
import ZIPFoundation
#if canImport(CZlib)
import CZlib  // ZIPFoundation's zlib module on Linux
#else
import zlib   // the SDK's zlib elsewhere
#endif

// zlib's `inflate` and `crc32` are shadowed by members of the reader below; name them unambiguously.
private func zlibInflate(_ stream: UnsafeMutablePointer<z_stream>) -> Int32 { inflate(stream, Z_NO_FLUSH) }
private func zlibCRC32(_ crc: uLong, _ bytes: UnsafePointer<Bytef>?, _ count: uInt) -> uLong {
    crc32(crc, bytes, count)
}

// A small, bounded reader for the ZIP container of a Keras 3 `.keras` archive.
//
// It parses the end-of-central-directory record and the central directory itself, with strict bounds
// on every offset and size (nothing it hands on can overflow or point outside the file), reads entry
// data through its own file descriptor, inflates with zlib directly and checks CRC-32 with zlib.
// ZIPFoundation's `Archive` is used as an independent second parse of the directory, which must agree.
//
// Why not `Archive.extract(_:bufferSize:skipCRC32:progress:consumer:)` / `Data.decompress`: in
// ZIPFoundation 0.9.20 on Linux, the inflate loop ignores the entry's compressed size, keeps reading
// the file past the entry, and spins forever (without calling the consumer, so it cannot be stopped)
// when the file ends inside a deflate stream; it also always tells zlib a whole buffer of input is
// available, whatever the provider returned. A crafted entry could hang the process.
//
// Everything here throws `RNNKitError`s that name the archive file and, where there is one, the entry.

/// One central-directory record, with ZIP64 sizes resolved.
struct KerasZipEntry {
    let index: Int
    let nameBytes: [UInt8]
    /// The entry name for messages and matching (UTF-8 or ASCII; other bytes are replaced).
    let name: String
    let flags: UInt16
    let method: UInt16
    let crc32: UInt32
    let compressedSize: UInt64
    let uncompressedSize: UInt64
    let localHeaderOffset: UInt64
    let versionMadeBy: UInt16
    let externalAttributes: UInt32

    var isEncrypted: Bool { flags & 0x0001 != 0 || flags & 0x0040 != 0 }
    var usesDataDescriptor: Bool { flags & 0x0008 != 0 }
    var isASCIIName: Bool { nameBytes.allSatisfy { $0 < 0x80 } }

    /// The Unix file type from the external attributes, when the archive was made on a Unix-like host.
    var unixFileType: UInt32? {
        let host = versionMadeBy >> 8
        guard host == 3 || host == 19 else { return nil }  // 3 = Unix, 19 = OS X
        let type = (externalAttributes >> 16) & 0o170000
        return type == 0 ? nil : type
    }

    /// A one-line, printable form of the name for error locations.
    var displayName: String { KerasZipReader.printable(name) }
}

/// The parsed directory of a ZIP file, and the open file to read entries from.
final class KerasZipReader {
    static let localHeaderSignature: [UInt8] = [0x50, 0x4B, 0x03, 0x04]
    static let emptyArchiveSignature: [UInt8] = [0x50, 0x4B, 0x05, 0x06]
    /// The central directory is read into memory whole; it must not be bigger than this.
    static let maxCentralDirectoryBytes: UInt64 = 64 << 20
    /// Any size or offset at or beyond this is refused, so sums of a few of them cannot overflow.
    static let maxSaneValue: UInt64 = 1 << 62

    private let file: ReadableFile
    var path: String { file.path }
    var fileSize: UInt64 { file.size }
    private(set) var entries: [KerasZipEntry] = []
    private(set) var centralDirectoryOffset: UInt64 = 0

    /// Opens `path` read-only. Fails for anything but a regular file.
    init(path: String) throws {
        file = try ReadableFile(path: path)
    }

    // MARK: - Raw reads

    func error(_ message: String, entry: KerasZipEntry? = nil,
               kind: RNNKitError.Kind = .unreadable) -> RNNKitError {
        RNNKitError(kind, message, file: path, location: entry?.displayName)
    }

    /// Reads exactly `count` bytes at `offset` into `buffer`, or throws a "truncated" error.
    private func readFully(_ buffer: UnsafeMutableRawBufferPointer, at offset: UInt64,
                           entry: KerasZipEntry?) throws {
        guard buffer.count > 0 else { return }
        guard offset <= fileSize, UInt64(buffer.count) <= fileSize - offset else {
            throw error("truncated ZIP archive: needs bytes \(offset)..<\(offset + UInt64(buffer.count)) "
                + "but the file has \(fileSize)", entry: entry)
        }
        do {
            try file.read(into: buffer, at: offset)
        } catch let failure as RNNKitError {
            throw error("truncated ZIP archive: \(failure.message)", entry: entry)
        }
    }

    func readBytes(at offset: UInt64, count: Int, entry: KerasZipEntry? = nil) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        try bytes.withUnsafeMutableBytes { try readFully($0, at: offset, entry: entry) }
        return bytes
    }

    // MARK: - Directory

    /// Reads the first four bytes: `.zip` for a local file header, `.empty` for an empty ZIP, or `.other`.
    enum Signature { case zip, empty, other }
    func signature() throws -> Signature {
        guard fileSize >= 4 else { return .other }
        let head = try readBytes(at: 0, count: 4)
        if head == Self.localHeaderSignature { return .zip }
        if head == Self.emptyArchiveSignature { return .empty }
        return .other
    }

    /// Parses the end-of-central-directory record (and ZIP64 record) and the central directory.
    func readDirectory(limits: ArchiveLimits) throws {
        // 1. The EOCD record: the last "PK\5\6" in the final 22 + 65535 bytes (as ZIPFoundation finds it).
        guard fileSize >= 22 else {
            throw error("truncated ZIP archive: no end of central directory record")
        }
        let tailLength = Int(min(fileSize, 22 + 0xFFFF))
        let tailStart = fileSize - UInt64(tailLength)
        let tail = try readBytes(at: tailStart, count: tailLength)
        var eocdIndex: Int?
        var i = tailLength - 22
        while i >= 0 {
            if tail[i] == 0x50 && tail[i + 1] == 0x4B && tail[i + 2] == 0x05 && tail[i + 3] == 0x06 {
                eocdIndex = i
                break
            }
            i -= 1
        }
        guard let eocdIndex else {
            throw error("truncated or damaged ZIP archive: no end of central directory record")
        }
        let eocdOffset = tailStart + UInt64(eocdIndex)
        let eocd = ByteView(tail, base: eocdIndex)
        let commentLength = UInt64(eocd.u16(20))
        guard eocdOffset + 22 + commentLength <= fileSize else {
            throw error("truncated ZIP archive: the archive comment runs past the end of the file")
        }
        var diskNumber = UInt32(eocd.u16(4))
        var cdDisk = UInt32(eocd.u16(6))
        var entriesOnDisk = UInt64(eocd.u16(8))
        var entryCount = UInt64(eocd.u16(10))
        var cdSize = UInt64(eocd.u32(12))
        var cdOffset = UInt64(eocd.u32(16))
        var directoryEnd = eocdOffset

        // 2. ZIP64: ZIPFoundation uses a ZIP64 record whenever a locator sits right before the EOCD and
        //    a record right before the locator; accept only that layout so both parsers agree.
        if eocdOffset >= 20 {
            let locator = try readBytes(at: eocdOffset - 20, count: 20)
            if locator[0..<4].elementsEqual([0x50, 0x4B, 0x06, 0x07]) {
                let lv = ByteView(locator, base: 0)
                guard eocdOffset >= 20 + 56 else {
                    throw error("damaged ZIP archive: ZIP64 locator without a ZIP64 end record")
                }
                let recordOffset = eocdOffset - 20 - 56
                let record = try readBytes(at: recordOffset, count: 56)
                let rv = ByteView(record, base: 0)
                guard rv.u32(0) == 0x0606_4B50, lv.u64(8) == recordOffset, lv.u32(4) == 0, lv.u32(16) <= 1 else {
                    throw error("damaged or unsupported ZIP archive: malformed ZIP64 end of central directory")
                }
                diskNumber = rv.u32(16)
                cdDisk = rv.u32(20)
                entriesOnDisk = rv.u64(24)
                entryCount = rv.u64(32)
                cdSize = rv.u64(40)
                cdOffset = rv.u64(48)
                directoryEnd = recordOffset
            }
        }

        guard diskNumber == 0, cdDisk == 0, entriesOnDisk == entryCount else {
            throw error("unsupported ZIP archive: spans several disks")
        }
        guard entryCount <= UInt64(max(0, limits.maxEntries)) else {
            throw error("too many entries: the archive declares \(entryCount), the limit is \(limits.maxEntries)")
        }
        guard cdOffset <= directoryEnd, cdSize <= directoryEnd - cdOffset else {
            throw error("truncated or damaged ZIP archive: the central directory lies outside the file")
        }
        guard cdSize <= Self.maxCentralDirectoryBytes else {
            throw error("central directory too large: \(cdSize) bytes, limit \(Self.maxCentralDirectoryBytes)")
        }
        guard entryCount <= cdSize / 46 else {
            throw error("damaged ZIP archive: \(entryCount) entries cannot fit in a \(cdSize)-byte central directory")
        }
        centralDirectoryOffset = cdOffset

        // 3. The central directory records.
        let cd = try readBytes(at: cdOffset, count: Int(cdSize))
        var position = 0
        var parsed: [KerasZipEntry] = []
        parsed.reserveCapacity(Int(entryCount))
        var totalDeclared: UInt64 = 0
        for index in 0..<Int(entryCount) {
            guard position + 46 <= cd.count, ByteView(cd, base: position).u32(0) == 0x0201_4B50 else {
                throw error("damaged ZIP archive: central directory record \(index) is missing or malformed")
            }
            let r = ByteView(cd, base: position)
            let nameLength = Int(r.u16(28))
            let extraLength = Int(r.u16(30))
            let commentLen = Int(r.u16(32))
            let recordEnd = position + 46 + nameLength + extraLength + commentLen
            guard recordEnd <= cd.count else {
                throw error("damaged ZIP archive: central directory record \(index) runs past the directory")
            }
            let nameBytes = Array(cd[(position + 46)..<(position + 46 + nameLength)])
            let extra = Array(cd[(position + 46 + nameLength)..<(position + 46 + nameLength + extraLength)])
            let flags = r.u16(8)
            let name = Self.decodeName(nameBytes)

            var uncompressed = UInt64(r.u32(24))
            var compressed = UInt64(r.u32(20))
            var offset = UInt64(r.u32(42))
            let needs = (uncompressed == 0xFFFF_FFFF, compressed == 0xFFFF_FFFF, offset == 0xFFFF_FFFF)
            if needs.0 || needs.1 || needs.2 {
                guard let zip64 = Self.zip64Fields(in: extra, uncompressed: needs.0, compressed: needs.1,
                                                   offset: needs.2) else {
                    throw RNNKitError(.unreadable, "damaged ZIP archive: missing or short ZIP64 extra field",
                                      file: path, location: Self.printable(name))
                }
                uncompressed = zip64.uncompressed ?? uncompressed
                compressed = zip64.compressed ?? compressed
                offset = zip64.offset ?? offset
            }
            let entry = KerasZipEntry(
                index: index, nameBytes: nameBytes, name: name, flags: flags, method: r.u16(10),
                crc32: r.u32(16), compressedSize: compressed, uncompressedSize: uncompressed,
                localHeaderOffset: offset, versionMadeBy: r.u16(4), externalAttributes: r.u32(38))

            try checkName(entry)
            guard !entry.isEncrypted else { throw error("encrypted entries are not supported", entry: entry) }
            guard compressed < Self.maxSaneValue, uncompressed < Self.maxSaneValue,
                  offset < cdOffset, compressed <= cdOffset - offset else {
                throw error("damaged ZIP archive: entry sizes or offset lie outside the file", entry: entry)
            }
            totalDeclared += uncompressed  // cannot overflow: each term < 2^62 and the sum is checked each time
            guard totalDeclared <= UInt64(max(0, limits.maxTotalBytes)) else {
                throw error("archive too large: entries declare more than \(limits.maxTotalBytes) bytes "
                    + "uncompressed in total", entry: entry).lifted(by: .byteLimit(limits.maxTotalBytes))
            }
            parsed.append(entry)
            position = recordEnd
        }
        entries = parsed
    }

    /// Refuses names that could escape a destination directory if anything ever extracted them.
    private func checkName(_ entry: KerasZipEntry) throws {
        let bytes = entry.nameBytes
        guard !bytes.isEmpty else { throw error("entry with an empty name", entry: entry) }
        guard !bytes.contains(0) else { throw error("unsafe entry name: contains a NUL byte", entry: entry) }
        let slash: UInt8 = 0x2F, backslash: UInt8 = 0x5C, colon: UInt8 = 0x3A
        if bytes[0] == slash || bytes[0] == backslash {
            throw error("unsafe entry name: absolute path", entry: entry)
        }
        if bytes.count >= 2, bytes[1] == colon,
           (0x41...0x5A).contains(bytes[0]) || (0x61...0x7A).contains(bytes[0]) {
            throw error("unsafe entry name: absolute path (drive letter)", entry: entry)
        }
        let components = bytes.split(omittingEmptySubsequences: false) { $0 == slash || $0 == backslash }
        if components.contains(where: { $0.elementsEqual([0x2E, 0x2E]) }) {
            throw error("unsafe entry name: contains a '..' component", entry: entry)
        }
    }

    // MARK: - Cross-check with ZIPFoundation

    /// Parses the directory again with ZIPFoundation and requires the same entries, in the same order,
    /// with the same sizes and checksums. Call after `readDirectory`, which has bounded every value
    /// ZIPFoundation will compute with.
    func crossCheckWithZIPFoundation() throws {
        let archive: Archive
        do {
            archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .read)
        } catch {
            throw self.error("unreadable ZIP archive (ZIPFoundation: \(error))")
        }
        var count = 0
        for zfEntry in archive {
            guard count < entries.count else { break }
            let mine = entries[count]
            count += 1
            if mine.isASCIIName && zfEntry.path != mine.name {
                throw error("inconsistent ZIP directory: entry \(mine.index) reads as "
                    + "'\(Self.printable(zfEntry.path))' through ZIPFoundation", entry: mine)
            }
            if !mine.usesDataDescriptor {
                guard zfEntry.compressedSize == mine.compressedSize,
                      zfEntry.uncompressedSize == mine.uncompressedSize,
                      zfEntry.checksum == mine.crc32 else {
                    throw error("inconsistent ZIP directory: sizes or checksum differ between parsers", entry: mine)
                }
            } else if zfEntry.checksum != 0 && zfEntry.checksum != mine.crc32 {
                throw error("inconsistent ZIP archive: the data descriptor's CRC-32 differs from the "
                    + "central directory's", entry: mine)
            }
        }
        guard count == entries.count else {
            throw error("damaged ZIP archive: ZIPFoundation could read only \(count) of \(entries.count) entries "
                + "(a local header is missing or malformed)")
        }
    }

    // MARK: - Entry data

    /// Validates the local header of `entry` and returns the offset of its data.
    func dataOffset(of entry: KerasZipEntry) throws -> UInt64 {
        let header = try readBytes(at: entry.localHeaderOffset, count: 30, entry: entry)
        let h = ByteView(header, base: 0)
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
    /// entries, against the compressed size × `limits.maxCompressionRatio`. While inflating it counts
    /// the bytes produced and stops as soon as they exceed the declared size. At the end the count must
    /// equal the declared size and the CRC-32 must match.
    func stream(_ entry: KerasZipEntry, maxBytes: Int, limits: ArchiveLimits,
                consumer: (Data) throws -> Void) throws {
        let declared = entry.uncompressedSize
        guard declared <= UInt64(max(0, maxBytes)) else {
            throw error("entry too large: declares \(declared) bytes uncompressed, the limit is \(maxBytes)",
                        entry: entry).lifted(by: .byteLimit(maxBytes))
        }
        if let type = entry.unixFileType, type != 0o100000 {
            throw error("entry is not a regular file (symlink or directory)", entry: entry)
        }
        let start = try dataOffset(of: entry)
        let chunkSize = 1 << 20
        var produced: UInt64 = 0
        var crc: CRC32 = 0

        switch entry.method {
        case 0:  // stored
            guard entry.compressedSize == declared else {
                throw error("damaged ZIP archive: stored entry with different compressed (\(entry.compressedSize)) "
                    + "and uncompressed (\(declared)) sizes", entry: entry)
            }
            var buffer = Data(count: Int(min(UInt64(chunkSize), declared)))  // one allocation, reused
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

        case 8:  // deflate
            let ratio = UInt64(max(0, limits.maxCompressionRatio))
            let (allowed, overflow) = entry.compressedSize.multipliedReportingOverflow(by: ratio)
            guard overflow || declared <= allowed else {
                throw error("refusing to inflate a possible zip bomb: \(entry.compressedSize) compressed bytes "
                    + "declare \(declared) uncompressed, more than the \(limits.maxCompressionRatio):1 ratio limit",
                    entry: entry)
            }
            try inflate(entry, from: start, declared: declared, produced: &produced, crc: &crc, consumer: consumer)

        default:
            throw error("unsupported compression method \(entry.method) (only stored and deflate)", entry: entry)
        }

        guard produced == declared else {
            throw error("corrupt entry: \(produced) bytes of data, the directory declares \(declared)", entry: entry)
        }
        guard crc == entry.crc32 else {
            throw error(String(format: "corrupt entry: CRC-32 mismatch (data 0x%08x, directory 0x%08x)",
                               crc, entry.crc32), entry: entry)
        }
    }

    /// Inflates the raw deflate stream of `entry` (compressed bytes at `start`), never reading past its
    /// compressed size and never producing more than `declared` bytes.
    private func inflate(_ entry: KerasZipEntry, from start: UInt64, declared: UInt64, produced: inout UInt64,
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
        private(set) var value: CRC32
        init(_ value: CRC32) { self.value = value }
        func add(_ chunk: Data) { value = chunk.withUnsafeBytes { KerasZipReader.crc32(value, $0) } }
    }

    static func crc32(_ crc: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return crc }
        return UInt32(zlibCRC32(uLong(crc), base.assumingMemoryBound(to: Bytef.self), uInt(bytes.count)))
    }

    // MARK: - Helpers

    private static func zip64Fields(in extra: [UInt8], uncompressed: Bool, compressed: Bool, offset: Bool)
        -> (uncompressed: UInt64?, compressed: UInt64?, offset: UInt64?)? {
        var p = 0
        while p + 4 <= extra.count {
            let v = ByteView(extra, base: p)
            let id = v.u16(0)
            let size = Int(v.u16(2))
            guard p + 4 + size <= extra.count else { return nil }
            if id == 0x0001 {
                // Present fields appear in this order, each 8 bytes, only if the 32-bit field is 0xFFFFFFFF.
                let wanted = [uncompressed, compressed, offset]
                var values: [UInt64?] = [nil, nil, nil]
                var q = p + 4
                for (k, want) in wanted.enumerated() where want {
                    guard q + 8 <= p + 4 + size else { return nil }
                    values[k] = ByteView(extra, base: q).u64(0)
                    q += 8
                }
                return (values[0], values[1], values[2])
            }
            p += 4 + size
        }
        return nil
    }

    static func decodeName(_ bytes: [UInt8]) -> String {
        if let text = String(validating: bytes, as: UTF8.self) { return text }
        // Not UTF-8 (CP437 or junk): keep ASCII, replace the rest. Such names never match a known entry.
        return String(decoding: bytes.map { $0 < 0x80 ? $0 : 0x3F }, as: UTF8.self)
    }

    /// The name with control characters replaced, so error descriptions stay on one line.
    static func printable(_ name: String) -> String {
        String(String.UnicodeScalarView(name.unicodeScalars.map {
            $0.properties.generalCategory == .control ? "?" : $0
        }))
    }
}

/// Little-endian reads from a byte array at a base offset. Callers check bounds first.
private struct ByteView {
    let bytes: [UInt8]
    let base: Int
    init(_ bytes: [UInt8], base: Int) { self.bytes = bytes; self.base = base }
    func u16(_ at: Int) -> UInt16 { UInt16(bytes[base + at]) | UInt16(bytes[base + at + 1]) << 8 }
    func u32(_ at: Int) -> UInt32 { UInt32(u16(at)) | UInt32(u16(at + 2)) << 16 }
    func u64(_ at: Int) -> UInt64 { UInt64(u32(at)) | UInt64(u32(at + 4)) << 32 }
}

import Foundation
import ZIPFoundation

// A small, bounded reader of ZIP archives: `.keras` archives and `.npz` files, and every other ZIP
// RNNKit opens, go through it.
//
// It parses the end-of-central-directory record and the central directory itself, with strict bounds
// on every offset and size (nothing it hands on can overflow or point outside the file), reads entry
// data through its own file descriptor, inflates with zlib directly and checks CRC-32 with zlib
// (ZipReader+EntryData.swift). ZIPFoundation's `Archive` is used as an independent second parse of
// the directory, which must agree.
//
// Why not `Archive.extract(_:bufferSize:skipCRC32:progress:consumer:)` / `Data.decompress`: in
// ZIPFoundation 0.9.20 on Linux, the inflate loop ignores the entry's compressed size, keeps reading
// the file past the entry, and spins forever (without calling the consumer, so it cannot be stopped)
// when the file ends inside a deflate stream; it also always tells zlib a whole buffer of input is
// available, whatever the provider returned. A crafted entry could hang the process.
//
// Everything here throws `RNNKitError`s that name the archive file and, where there is one, the entry.

/// The parsed directory of a ZIP file, and the open file to read entries from.
final class ZipReader {
    static let localHeaderSignature: [UInt8] = [0x50, 0x4B, 0x03, 0x04]
    /// The end-of-central-directory record's; an empty ZIP is only that record.
    static let endRecordSignature: [UInt8] = [0x50, 0x4B, 0x05, 0x06]
    /// The central directory is read into memory whole; it must not be bigger than this.
    static let maxCentralDirectoryBytes: UInt64 = 64 << 20
    /// Any size or offset at or beyond this is refused, so sums of a few of them cannot overflow.
    static let maxSaneValue: UInt64 = 1 << 62
    /// Bytes of an end-of-central-directory record without its comment.
    private static let endRecordSize = 22
    /// Bytes of a central-directory record without its name, extra field and comment.
    private static let directoryRecordSize = 46

    let file: ReadableFile
    var path: String { file.path }
    var fileSize: UInt64 { file.size }
    private(set) var entries: [ZipEntry] = []
    private(set) var centralDirectoryOffset: UInt64 = 0

    /// Opens `path` read-only. Fails for anything but a regular file.
    init(path: String) throws {
        file = try ReadableFile(path: path)
    }

    // MARK: - Raw reads

    func error(_ message: String, entry: ZipEntry? = nil,
               kind: RNNKitError.Kind = .unreadable) -> RNNKitError {
        RNNKitError(kind, message, file: path, location: entry?.displayName)
    }

    /// Reads exactly `count` bytes at `offset` into `buffer`, or throws a "truncated" error.
    func readFully(_ buffer: UnsafeMutableRawBufferPointer, at offset: UInt64, entry: ZipEntry?) throws {
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

    func readBytes(at offset: UInt64, count: Int, entry: ZipEntry? = nil) throws -> [UInt8] {
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
        if head == Self.endRecordSignature { return .empty }
        return .other
    }

    /// Where the central directory lies and what it declares, as the end records give it.
    private struct DirectoryBounds {
        var entryCount: UInt64
        var size: UInt64
        var offset: UInt64
        /// The directory must end by here: at the ZIP64 end record if there is one, else at the end record.
        var end: UInt64
        var spansDisks: Bool
    }

    /// Parses the end-of-central-directory record (and ZIP64 record) and the central directory,
    /// within `limits.maxEntries` and `limits.maxTotalBytes`, refuses unsafe entry names, and has
    /// ZIPFoundation parse the directory again to agree with it. Fills `entries`.
    func readDirectory(limits: ReadLimits) throws {
        let (endOffset, endRecord) = try findEndRecord()
        let bounds = try readZip64EndRecord(before: endOffset) ?? Self.bounds(of: endRecord, at: endOffset)
        try check(bounds, limits: limits)
        centralDirectoryOffset = bounds.offset
        entries = try readEntries(bounds, limits: limits)
        try crossCheckWithZIPFoundation()
    }

    /// The end-of-central-directory record: the last "PK\5\6" in the final 22 + 65535 bytes (as
    /// ZIPFoundation finds it), with its file offset.
    private func findEndRecord() throws -> (offset: UInt64, record: LittleEndianBytes) {
        guard fileSize >= UInt64(Self.endRecordSize) else {
            throw error("truncated ZIP archive: no end of central directory record")
        }
        let tailLength = Int(min(fileSize, UInt64(Self.endRecordSize + 0xFFFF)))
        let tailStart = fileSize - UInt64(tailLength)
        let tail = try readBytes(at: tailStart, count: tailLength)
        let candidates = stride(from: tailLength - Self.endRecordSize, through: 0, by: -1)
        guard let index = candidates.first(where: { tail[$0..<($0 + 4)].elementsEqual(Self.endRecordSignature) })
        else {
            throw error("truncated or damaged ZIP archive: no end of central directory record")
        }
        let offset = tailStart + UInt64(index)
        let record = LittleEndianBytes(tail, base: index)
        guard offset + UInt64(Self.endRecordSize) + UInt64(record.u16(20)) <= fileSize else {
            throw error("truncated ZIP archive: the archive comment runs past the end of the file")
        }
        return (offset, record)
    }

    /// The directory as the classic end record declares it.
    private static func bounds(of record: LittleEndianBytes, at offset: UInt64) -> DirectoryBounds {
        let entriesOnDisk = record.u16(8), entryCount = record.u16(10)
        return DirectoryBounds(
            entryCount: UInt64(entryCount), size: UInt64(record.u32(12)), offset: UInt64(record.u32(16)),
            end: offset, spansDisks: record.u16(4) != 0 || record.u16(6) != 0 || entriesOnDisk != entryCount)
    }

    /// The directory as a ZIP64 end record declares it, when there is one. ZIPFoundation uses a
    /// ZIP64 record whenever a locator sits right before the end record and a record right before
    /// the locator; only that layout is accepted, so that both parsers agree.
    private func readZip64EndRecord(before endOffset: UInt64) throws -> DirectoryBounds? {
        guard endOffset >= 20 else { return nil }
        let locatorBytes = try readBytes(at: endOffset - 20, count: 20)
        guard locatorBytes[0..<4].elementsEqual([0x50, 0x4B, 0x06, 0x07]) else { return nil }
        let locator = LittleEndianBytes(locatorBytes, base: 0)
        guard endOffset >= 20 + 56 else {
            throw error("damaged ZIP archive: ZIP64 locator without a ZIP64 end record")
        }
        let recordOffset = endOffset - 20 - 56
        let record = LittleEndianBytes(try readBytes(at: recordOffset, count: 56), base: 0)
        guard record.u32(0) == 0x0606_4B50, locator.u64(8) == recordOffset, locator.u32(4) == 0,
              locator.u32(16) <= 1 else {
            throw error("damaged or unsupported ZIP archive: malformed ZIP64 end of central directory")
        }
        return DirectoryBounds(
            entryCount: record.u64(32), size: record.u64(40), offset: record.u64(48), end: recordOffset,
            spansDisks: record.u32(16) != 0 || record.u32(20) != 0 || record.u64(24) != record.u64(32))
    }

    /// Refuses a directory that spans disks, declares too many entries, lies outside the file or
    /// is too big to read into memory.
    private func check(_ bounds: DirectoryBounds, limits: ReadLimits) throws {
        guard !bounds.spansDisks else {
            throw error("unsupported ZIP archive: spans several disks")
        }
        guard bounds.entryCount <= UInt64(max(0, limits.maxEntries)) else {
            throw error("too many entries: the archive declares \(bounds.entryCount), the limit is \(limits.maxEntries)")
        }
        guard bounds.offset <= bounds.end, bounds.size <= bounds.end - bounds.offset else {
            throw error("truncated or damaged ZIP archive: the central directory lies outside the file")
        }
        guard bounds.size <= Self.maxCentralDirectoryBytes else {
            throw error("central directory too large: \(bounds.size) bytes, limit \(Self.maxCentralDirectoryBytes)")
        }
        guard bounds.entryCount <= bounds.size / UInt64(Self.directoryRecordSize) else {
            throw error("damaged ZIP archive: \(bounds.entryCount) entries cannot fit in a "
                + "\(bounds.size)-byte central directory")
        }
    }

    /// The central-directory records, each checked, with the sum of their declared sizes bounded.
    private func readEntries(_ bounds: DirectoryBounds, limits: ReadLimits) throws -> [ZipEntry] {
        let directory = try readBytes(at: bounds.offset, count: Int(bounds.size))
        var position = 0
        var parsed: [ZipEntry] = []
        parsed.reserveCapacity(Int(bounds.entryCount))  // at most 64 MiB / 46, checked above
        var totalDeclared: UInt64 = 0
        for index in 0..<Int(bounds.entryCount) {
            let (entry, next) = try readEntry(index, in: directory, at: position)
            try checkName(entry)
            guard !entry.isEncrypted else { throw error("encrypted entries are not supported", entry: entry) }
            guard entry.compressedSize < Self.maxSaneValue, entry.uncompressedSize < Self.maxSaneValue,
                  entry.localHeaderOffset < bounds.offset,
                  entry.compressedSize <= bounds.offset - entry.localHeaderOffset else {
                throw error("damaged ZIP archive: entry sizes or offset lie outside the file", entry: entry)
            }
            totalDeclared += entry.uncompressedSize  // cannot overflow: each term < 2^62, the sum checked each time
            guard totalDeclared <= UInt64(max(0, limits.maxTotalBytes)) else {
                throw error("archive too large: entries declare more than \(limits.maxTotalBytes) bytes "
                    + "uncompressed in total", entry: entry).lifted(by: .byteLimit(limits.maxTotalBytes))
            }
            parsed.append(entry)
            position = next
        }
        return parsed
    }

    /// Central-directory record `index`, at `position` of `directory`, and the position after it.
    private func readEntry(_ index: Int, in directory: [UInt8], at position: Int) throws -> (ZipEntry, Int) {
        let fixedEnd = position + Self.directoryRecordSize
        guard fixedEnd <= directory.count, LittleEndianBytes(directory, base: position).u32(0) == 0x0201_4B50 else {
            throw error("damaged ZIP archive: central directory record \(index) is missing or malformed")
        }
        let record = LittleEndianBytes(directory, base: position)
        let nameEnd = fixedEnd + Int(record.u16(28))
        let extraEnd = nameEnd + Int(record.u16(30))
        let recordEnd = extraEnd + Int(record.u16(32))
        guard recordEnd <= directory.count else {
            throw error("damaged ZIP archive: central directory record \(index) runs past the directory")
        }
        let nameBytes = Array(directory[fixedEnd..<nameEnd])
        let name = ZipEntry.decodeName(nameBytes)

        var uncompressed = UInt64(record.u32(24))
        var compressed = UInt64(record.u32(20))
        var offset = UInt64(record.u32(42))
        let needs = (uncompressed == 0xFFFF_FFFF, compressed == 0xFFFF_FFFF, offset == 0xFFFF_FFFF)
        if needs.0 || needs.1 || needs.2 {
            guard let zip64 = Self.zip64Fields(in: Array(directory[nameEnd..<extraEnd]), uncompressed: needs.0,
                                               compressed: needs.1, offset: needs.2) else {
                throw RNNKitError(.unreadable, "damaged ZIP archive: missing or short ZIP64 extra field",
                                  file: path, location: oneLine(name))
            }
            uncompressed = zip64.uncompressed ?? uncompressed
            compressed = zip64.compressed ?? compressed
            offset = zip64.offset ?? offset
        }
        let entry = ZipEntry(
            index: index, nameBytes: nameBytes, name: name, flags: record.u16(8), method: record.u16(10),
            crc32: record.u32(16), compressedSize: compressed, uncompressedSize: uncompressed,
            localHeaderOffset: offset, versionMadeBy: record.u16(4), externalAttributes: record.u32(38))
        return (entry, recordEnd)
    }

    /// Refuses names that could escape a destination directory if anything ever extracted them.
    private func checkName(_ entry: ZipEntry) throws {
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

    /// The 64-bit values of a ZIP64 extra field (id 1) for the 32-bit fields that are 0xFFFFFFFF,
    /// or nil when the field is missing or too short.
    private static func zip64Fields(in extra: [UInt8], uncompressed: Bool, compressed: Bool, offset: Bool)
        -> (uncompressed: UInt64?, compressed: UInt64?, offset: UInt64?)? {
        var p = 0
        while p + 4 <= extra.count {
            let v = LittleEndianBytes(extra, base: p)
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
                    values[k] = LittleEndianBytes(extra, base: q).u64(0)
                    q += 8
                }
                return (values[0], values[1], values[2])
            }
            p += 4 + size
        }
        return nil
    }

    // MARK: - Cross-check with ZIPFoundation

    /// Parses the directory again with ZIPFoundation and requires the same entries, in the same order,
    /// with the same sizes and checksums. Runs after `entries` are read, which has bounded every value
    /// ZIPFoundation will compute with.
    private func crossCheckWithZIPFoundation() throws {
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
                    + "'\(oneLine(zfEntry.path))' through ZIPFoundation", entry: mine)
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
}

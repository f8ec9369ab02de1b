import Foundation

/// Writes a ZIP archive of stored (uncompressed) entries straight to a file, the way Keras writes
/// `.keras` archives and `np.savez` writes `.npz` files. Reading is `ZipReader`'s.
///
/// Each entry's CRC-32 (libdeflate's, `ZipReader.crc32`) is computed before its local header is
/// written, so an entry goes from memory or from another file to the archive without a second
/// copy of it in memory: a 100 MB weights file is read twice from the page cache instead of being
/// held two or three times over. Entries and offsets past 4 GiB get ZIP64 fields and records,
/// as Python's zipfile and ZIPFoundation read them.
struct ZipWriter {
    private let sink: FileSink
    /// Bytes written so far: the next local header's offset.
    private var offset: UInt64 = 0
    /// The central directory's records, written by `finish`.
    private var directory: [UInt8] = []
    private var entryCount = 0
    /// Sizes and offsets from which ZIP64 fields are used (ZIP's 32-bit limit; lower in tests).
    private let zip64Limit: UInt64
    /// The MS-DOS time and date every entry carries: when the archive was written.
    private let dosTime: UInt16, dosDate: UInt16

    init(sink: FileSink, date: Date = Date(), zip64Limit: UInt64 = 0xFFFF_FFFF) {
        self.sink = sink
        self.zip64Limit = zip64Limit
        (dosTime, dosDate) = Self.dosTimeAndDate(date)
    }

    /// Appends a stored entry named `name` holding `contents`.
    mutating func addStored(_ name: String, _ contents: Data) throws {
        try contents.withUnsafeBytes { bytes in
            try addStored(name, size: UInt64(bytes.count), crc: ZipReader.crc32(0, bytes)) { [sink] in
                try sink.write(bytes)
            }
        }
    }

    /// Appends a stored entry named `name` holding the whole of `file`, read in chunks: once for
    /// its CRC-32, once to copy it.
    mutating func addStored(_ name: String, from file: ReadableFile) throws {
        var crc: UInt32 = 0
        try file.stream { crc = ZipReader.crc32(crc, $0) }
        try addStored(name, size: file.size, crc: crc) { [sink] in try file.stream { try sink.write($0) } }
    }

    /// Writes the central directory and the end records; nothing may be added after.
    mutating func finish() throws {
        let directoryOffset = offset, directorySize = UInt64(directory.count)
        try sink.write(directory)
        offset += directorySize
        var end = ZipRecord()
        let count = UInt64(entryCount)
        if count >= 0xFFFF || directoryOffset >= zip64Limit || directorySize >= zip64Limit {
            let recordOffset = offset
            var record = ZipRecord()
            record.u32(0x0606_4B50)
            record.u64(44)  // the size of the rest of this record
            record.u16(Self.versionMadeBy(zip64: true))
            record.u16(Self.versionNeeded(zip64: true))
            record.u32(0)   // this disk
            record.u32(0)   // the disk where the directory starts
            record.u64(count)
            record.u64(count)
            record.u64(directorySize)
            record.u64(directoryOffset)
            record.u32(0x0706_4B50)  // the locator
            record.u32(0)
            record.u64(recordOffset)
            record.u32(1)   // disks in all
            try sink.write(record.bytes)
            offset += UInt64(record.bytes.count)
        }
        end.u32(0x0605_4B50)
        end.u16(0)
        end.u16(0)
        end.u16(UInt16(min(count, 0xFFFF)))
        end.u16(UInt16(min(count, 0xFFFF)))
        end.u32(UInt32(min(directorySize, 0xFFFF_FFFF)))
        end.u32(UInt32(min(directoryOffset, 0xFFFF_FFFF)))
        end.u16(0)  // no comment
        try sink.write(end.bytes)
    }

    // MARK: - Private

    /// The local header, the data `writeData` writes (`size` bytes) and the entry's directory record.
    private mutating func addStored(_ name: String, size: UInt64, crc: UInt32, writeData: () throws -> Void) throws {
        let nameBytes = Array(name.utf8)
        guard nameBytes.count <= Int(UInt16.max) else {
            throw RNNKitError(.badUsage, "entry name too long for a ZIP archive", file: sink.path, location: oneLine(name))
        }
        // Bit 11: the name is UTF-8 (only said when it is not plain ASCII, as Python's zipfile does).
        let flags: UInt16 = nameBytes.allSatisfy { $0 < 0x80 } ? 0 : 0x0800
        let localOffset = offset
        let largeSize = size >= zip64Limit, largeOffset = localOffset >= zip64Limit
        let zip64 = largeSize || largeOffset

        var local = ZipRecord()
        local.u32(0x0403_4B50)
        appendSharedFields(to: &local, zip64: zip64, flags: flags, crc: crc, size: largeSize ? nil : size)
        local.u16(UInt16(nameBytes.count))
        local.u16(largeSize ? 20 : 0)
        local.bytes += nameBytes
        if largeSize {
            local.u16(0x0001)  // ZIP64 extra field: both sizes
            local.u16(16)
            local.u64(size)
            local.u64(size)
        }
        try sink.write(local.bytes)
        try writeData()
        offset += UInt64(local.bytes.count) + size

        var extra = ZipRecord()
        if zip64 {
            let fields = (largeSize ? [size, size] : []) + (largeOffset ? [localOffset] : [])
            extra.u16(0x0001)
            extra.u16(UInt16(fields.count * 8))
            for field in fields { extra.u64(field) }
        }
        var record = ZipRecord()
        record.u32(0x0201_4B50)
        record.u16(Self.versionMadeBy(zip64: zip64))
        appendSharedFields(to: &record, zip64: zip64, flags: flags, crc: crc, size: largeSize ? nil : size)
        record.u16(UInt16(nameBytes.count))
        record.u16(UInt16(extra.bytes.count))
        record.u16(0)  // no comment
        record.u16(0)  // disk
        record.u16(0)  // internal attributes
        record.u32(0o100644 << 16)  // a regular file, rw-r--r--
        record.u32(largeOffset ? 0xFFFF_FFFF : UInt32(localOffset))
        record.bytes += nameBytes + extra.bytes
        directory += record.bytes
        entryCount += 1
    }

    /// The fields a local header and a directory record share, in the same order: the version
    /// needed, flags, method (stored), time, date, CRC-32, then the compressed and uncompressed
    /// sizes (equal, stored), or 0xFFFFFFFF for both when `size` is nil (in the ZIP64 extra field).
    private func appendSharedFields(to record: inout ZipRecord, zip64: Bool, flags: UInt16, crc: UInt32, size: UInt64?) {
        record.u16(Self.versionNeeded(zip64: zip64))
        record.u16(flags)
        record.u16(0)  // stored
        record.u16(dosTime)
        record.u16(dosDate)
        record.u32(crc)
        let size32 = size.map { UInt32($0) } ?? 0xFFFF_FFFF
        record.u32(size32)
        record.u32(size32)
    }

    /// Made on Unix (3), by the ZIP version the entry needs.
    private static func versionMadeBy(zip64: Bool) -> UInt16 { 3 << 8 | versionNeeded(zip64: zip64) }
    /// 2.0, or 4.5 for ZIP64.
    private static func versionNeeded(zip64: Bool) -> UInt16 { zip64 ? 45 : 20 }

    /// `date` in local time as MS-DOS packs it (2-second steps, years 1980 to 2107).
    private static func dosTimeAndDate(_ date: Date) -> (UInt16, UInt16) {
        let parts = Calendar.current.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        let year = min(max((parts.year ?? 1980) - 1980, 0), 127)
        let time = (parts.hour ?? 0) << 11 | (parts.minute ?? 0) << 5 | (parts.second ?? 0) / 2
        let day = year << 9 | (parts.month ?? 1) << 5 | (parts.day ?? 1)
        return (UInt16(time), UInt16(day))
    }
}

/// Little-endian fields appended one after the other: a ZIP header or record.
private struct ZipRecord {
    var bytes: [UInt8] = []
    mutating func u16(_ value: UInt16) { withUnsafeBytes(of: value.littleEndian) { bytes += $0 } }
    mutating func u32(_ value: UInt32) { withUnsafeBytes(of: value.littleEndian) { bytes += $0 } }
    mutating func u64(_ value: UInt64) { withUnsafeBytes(of: value.littleEndian) { bytes += $0 } }
}

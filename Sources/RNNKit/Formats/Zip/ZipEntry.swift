/// One central-directory record of a ZIP archive, with ZIP64 sizes resolved.
struct ZipEntry {
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
    var displayName: String { oneLine(name) }

    /// `bytes` as a name: UTF-8 when valid, otherwise (CP437 or junk) ASCII with the other bytes
    /// replaced, so that such a name never matches a known entry.
    static func decodeName(_ bytes: [UInt8]) -> String {
        if let text = String(validating: bytes, as: UTF8.self) { return text }
        return String(decoding: bytes.map { $0 < 0x80 ? $0 : 0x3F }, as: UTF8.self)
    }
}

import Foundation

/// NumPy `.npz` archives: a ZIP of `<name>.npy` entries, stored (`np.savez`) or deflated
/// (`np.savez_compressed`).
///
/// Reading goes through `ZipReader`, RNNKit's bounded ZIP reader: it checks the whole directory
/// first (entry count, declared sizes, names that are absolute or contain
/// `..`, agreement with ZIPFoundation's parse), then streams each entry with the declared size
/// enforced while inflating and the CRC-32 checked. Each entry's bytes go straight into an
/// `NPYDecoder`, so no entry is held in memory twice.
enum NPZFormat {
    static func read(_ path: String, limits: ReadLimits) throws -> [NamedTensor] {
        guard let (reader, entries) = try entries(path, limits: limits) else { return [] }
        var tensors: [NamedTensor] = []
        for (entry, name) in entries {
            var decoder = NPYDecoder(totalBytes: entry.uncompressedSize, limits: limits, file: path,
                                     location: entry.displayName)
            try reader.stream(entry, maxBytes: limits.maxBytes,
                              maxCompressionRatio: limits.maxNPZCompressionRatio) { chunk in
                try chunk.withUnsafeBytes { try decoder.feed($0) }
            }
            tensors.append(try decoder.finish(name: name))
        }
        return tensors
    }

    /// The archive's checked directory and its entries with their array names; nil for an empty
    /// file (no arrays). Names are checked first, so that an unusable archive fails before any data
    /// is read.
    static func entries(_ path: String, limits: ReadLimits) throws -> (ZipReader, [(ZipEntry, String)])? {
        let reader = try ZipReader(path: path)
        switch try reader.signature() {
        case .zip: break
        case .empty: return nil
        case .other:
            let head = try reader.fileSize >= 6 ? reader.readBytes(at: 0, count: 6) : []
            if head == NPYFormat.magic {
                throw RNNKitError(.unreadable, "not an .npz archive: this is a single .npy array "
                    + "(rename it to .npy)", file: path)
            }
            throw RNNKitError(.unreadable, "not an .npz archive (not a ZIP file)", file: path)
        }
        try reader.readDirectory(limits: limits)
        var entries: [(ZipEntry, String)] = []
        var seen = Set<String>()
        for entry in reader.entries {
            guard entry.name.hasSuffix(".npy"), entry.name.count > 4 else {
                throw reader.error("not an .npy entry: .npz archives hold only <name>.npy arrays", entry: entry)
            }
            let name = String(entry.name.dropLast(4))
            guard seen.insert(name).inserted else {
                throw reader.error("two entries hold the array '\(oneLine(name))'", entry: entry)
            }
            entries.append((entry, name))
        }
        return (reader, entries)
    }

    /// Refuses `tensors` whose names an `.npz` archive cannot hold as entry names that read back.
    static func checkNames(_ tensors: [NamedTensor], path: String) throws {
        try TensorFile.checkUniqueNames(tensors, path: path)
        for tensor in tensors { try checkEntryName(tensor.name, path: path) }
    }

    /// Writes an `.npz` archive holding `tensors` as stored `<name>.npy` entries, in order, to
    /// `sink` (one array's bytes in memory at a time). Callers check the names first
    /// (`checkNames`), before the file is made.
    static func write(_ tensors: [NamedTensor], to sink: FileSink) throws {
        var zip = ZipWriter(sink: sink)
        for tensor in tensors { try zip.addStored(tensor.name + ".npy", NPYFormat.encode(tensor)) }
        try zip.finish()
    }

    /// Refuses names that `read` would refuse: empty, absolute, with a `..` component or a NUL.
    static func checkEntryName(_ name: String, path: String) throws {
        let shown = oneLine(name)
        func refuse(_ why: String) -> RNNKitError {
            RNNKitError(.badUsage, "array name '\(shown)' cannot name an .npz entry: \(why)", file: path)
        }
        guard !name.isEmpty else { throw refuse("it is empty") }
        guard !name.utf8.contains(0) else { throw refuse("it contains a NUL character") }
        guard let first = name.first, first != "/", first != "\\" else { throw refuse("it is an absolute path") }
        let bytes = Array(name.utf8)
        if bytes.count >= 2, bytes[1] == UInt8(ascii: ":"),
           (0x41...0x5A).contains(bytes[0]) || (0x61...0x7A).contains(bytes[0]) {
            throw refuse("it starts with a drive letter")
        }
        let components = name.split(omittingEmptySubsequences: false) { $0 == "/" || $0 == "\\" }
        guard !components.contains("..") else { throw refuse("it contains a '..' component") }
        guard name.utf8.count + 4 <= Int(UInt16.max) else { throw refuse("it is too long") }
    }
}

import Foundation

/// The parts of a Keras 3 `.keras` archive (a ZIP of `config.json`, `metadata.json`,
/// `model.weights.h5` and optionally `assets/…`) that RNNKit needs, read into memory.
///
/// `model.weights.h5` is kept as bytes that HDF5 opens in place (`weightsFile()`): nothing is ever
/// extracted to disk, so there is no temporary file to clean up. A stored entry (Keras writes them
/// stored) is mapped from the archive rather than copied; a deflated one is inflated into memory.
///
/// **Safety.** Before anything is read the whole directory is checked: the file must start with
/// a ZIP local header; the entry count, the sum of all declared sizes, and each read entry's
/// declared size and (deflated) compression ratio must be within `ReadLimits`; no entry anywhere
/// may have an absolute name or a `..` component; encrypted entries are refused; ZIPFoundation's
/// independent parse of the directory must agree with RNNKit's. While inflating, the bytes produced
/// are counted and reading stops as soon as they exceed the declared size; the CRC-32 is always
/// checked. All failures are `RNNKitError`s naming the archive file and, where there is one, the entry.
struct KerasArchive: Sendable {
    static let configEntry = "config.json"
    static let metadataEntry = "metadata.json"
    static let weightsEntry = "model.weights.h5"

    /// The archive this was read from.
    let path: String
    /// `config.json`, as text.
    let configJSON: String
    /// `metadata.json`, as text, if the archive has one.
    let metadataJSON: String?
    /// The bytes of `model.weights.h5`.
    let weights: PinnedBytes

    /// `model.weights.h5`, opened in place; errors name the archive.
    func weightsFile() throws -> HDF5File {
        try HDF5File.open(image: weights, name: path)
    }

    /// Reads and checks the archive at `path`. See the type's documentation.
    static func read(_ path: String, limits: ReadLimits = .default) throws -> KerasArchive {
        let zip = try ZipReader(path: path)
        switch try zip.signature() {
        case .zip: break
        case .empty: throw RNNKitError(.unreadable, "not a Keras archive: no config.json (empty ZIP)", file: path)
        case .other: throw RNNKitError(.unreadable, "not a ZIP archive", file: path)
        }
        try zip.readDirectory(limits: limits)

        func find(_ name: String) throws -> ZipEntry? {
            let matches = zip.entries.filter { $0.name == name }
            if matches.count > 1 {
                throw RNNKitError(.unreadable, "ambiguous archive: \(matches.count) entries with this name",
                                  file: path, location: name)
            }
            return matches.first
        }
        guard let configEntry = try find(configEntry) else {
            throw RNNKitError(.unreadable, "not a Keras archive: no config.json", file: path)
        }
        let metadataEntry = try find(metadataEntry)
        guard let weightsEntry = try find(weightsEntry) else {
            var message = "no model.weights.h5 in the archive"
            if zip.entries.contains(where: { $0.name == "model.weights.npz" }) {
                message += " (it has model.weights.npz, which is not supported)"
            } else if zip.entries.contains(where: { $0.name.hasSuffix(".weights.json") }) {
                message += " (sharded weights are not supported)"
            }
            throw RNNKitError(.invalidModel, message, file: path)
        }

        let jsonLimit = min(limits.maxJSONBytes, limits.maxBytes)
        let configJSON = try readText(configEntry, from: zip, maxBytes: jsonLimit, limits: limits)
        let metadataJSON = try metadataEntry.map { try readText($0, from: zip, maxBytes: jsonLimit, limits: limits) }

        let weights = try zip.contents(of: weightsEntry, maxBytes: limits.maxBytes,
                                       maxCompressionRatio: limits.maxKerasCompressionRatio)
        return KerasArchive(path: path, configJSON: configJSON, metadataJSON: metadataJSON, weights: weights)
    }

    // MARK: - Private

    private static func readText(_ entry: ZipEntry, from zip: ZipReader, maxBytes: Int,
                                 limits: ReadLimits) throws -> String {
        let bytes = try zip.contents(of: entry, maxBytes: maxBytes, maxCompressionRatio: limits.maxKerasCompressionRatio)
        guard let text = String(validating: bytes.bytes, as: UTF8.self) else {
            throw zip.error("not UTF-8 text", entry: entry)
        }
        return text
    }
}

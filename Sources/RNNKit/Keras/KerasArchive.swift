import Foundation

/// The parts of a Keras 3 `.keras` archive (a ZIP of `config.json`, `metadata.json`,
/// `model.weights.h5` and optionally `assets/…`) that RNNKit needs.
///
/// The two JSON files are read into memory; `model.weights.h5` is extracted into a fresh private
/// directory (mode 0700, unique name from `mkdtemp`) as `model.weights.h5`, because the HDF5 library
/// needs a path. Nothing else in the archive is ever extracted, and no entry's own path is ever used
/// to build a destination.
///
/// **Cleanup.** A `KerasArchive` owns its temporary directory and removes it in `close()` or, at the
/// latest, when it is deallocated. The usual way to use one is the scoped form, which removes the
/// directory when `body` returns or throws:
///
///     let model = try KerasArchive.withContents(of: path) { archive in
///         try loadModel(config: archive.configJSON, weights: archive.weightsPath)
///     }
///
/// `open(_:limits:)` returns the owner directly, for callers that need a longer lifetime; they should
/// call `close()` when done with `weightsPath`. If `open` throws, nothing is left on disk.
///
/// **Safety.** Before anything is extracted the whole directory is checked: the file must start with
/// a ZIP local header; the entry count, the sum of all declared sizes, and each extracted entry's
/// declared size and (deflated) compression ratio must be within `ReadLimits`; no entry anywhere
/// may have an absolute name or a `..` component; encrypted entries are refused; ZIPFoundation's
/// independent parse of the directory must agree with RNNKit's. While inflating, the bytes produced
/// are counted and reading stops as soon as they exceed the declared size; the CRC-32 is always
/// checked. All failures are `RNNKitError`s naming the archive file and, where there is one, the entry.
final class KerasArchive: @unchecked Sendable {
    static let configEntry = "config.json"
    static let metadataEntry = "metadata.json"
    static let weightsEntry = "model.weights.h5"

    /// The archive this was read from.
    let path: String
    /// `config.json`, as text.
    let configJSON: String
    /// `metadata.json`, as text, if the archive has one.
    let metadataJSON: String?
    /// The extracted `model.weights.h5`: `<directory>/model.weights.h5`. Valid until `close()`.
    let weightsPath: String
    /// The private temporary directory holding `weightsPath`. Removed by `close()`.
    let directory: String

    private let lock = NSLock()
    private var closed = false

    private init(path: String, configJSON: String, metadataJSON: String?, directory: String) {
        self.path = path
        self.configJSON = configJSON
        self.metadataJSON = metadataJSON
        self.directory = directory
        self.weightsPath = directory + "/" + Self.weightsEntry
    }

    deinit { close() }

    /// Removes the temporary directory (and `weightsPath` with it). Safe to call more than once.
    func close() {
        lock.lock()
        defer { lock.unlock() }
        guard !closed else { return }
        closed = true
        Self.removeDirectory(directory)
    }

    /// Opens `path`, runs `body` with its contents, and removes the temporary directory afterwards,
    /// whether `body` returns or throws.
    static func withContents<R>(of path: String, limits: ReadLimits = .default,
                                       _ body: (KerasArchive) throws -> R) throws -> R {
        let archive = try open(path, limits: limits)
        defer { archive.close() }
        return try body(archive)
    }

    /// Reads and checks the archive at `path` and extracts `model.weights.h5`. The caller owns the
    /// result and should `close()` it (deinit does so too). See the type's documentation.
    static func open(_ path: String, limits: ReadLimits = .default) throws -> KerasArchive {
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

        let directory = try makePrivateDirectory(for: path)
        do {
            try extract(weightsEntry, from: zip, to: directory + "/" + Self.weightsEntry, limits: limits)
        } catch {
            removeDirectory(directory)
            throw error
        }
        return KerasArchive(path: path, configJSON: configJSON, metadataJSON: metadataJSON, directory: directory)
    }

    // MARK: - Private

    private static func readText(_ entry: ZipEntry, from zip: ZipReader, maxBytes: Int,
                                 limits: ReadLimits) throws -> String {
        var bytes = Data()
        // `stream` refuses anything declaring more than maxBytes before reading; only reserve what fits.
        bytes.reserveCapacity(Int(min(entry.uncompressedSize, UInt64(max(0, maxBytes)))))
        try zip.stream(entry, maxBytes: maxBytes, maxCompressionRatio: limits.maxKerasCompressionRatio) {
            bytes.append($0)
        }
        guard let text = String(data: bytes, encoding: .utf8) else {
            throw zip.error("not UTF-8 text", entry: entry)
        }
        return text
    }

    private static func extract(_ entry: ZipEntry, from zip: ZipReader, to destination: String,
                                limits: ReadLimits) throws {
        let fd = Foundation.open(destination, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw zip.error("cannot create temporary file \(destination): \(String(cString: strerror(errno)))",
                            entry: entry)
        }
        var isOpen = true
        defer { if isOpen { Foundation.close(fd) } }
        try zip.stream(entry, maxBytes: limits.maxBytes,
                       maxCompressionRatio: limits.maxKerasCompressionRatio) { chunk in
            try chunk.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) in
                var done = 0
                while done < buffer.count {
                    let n = write(fd, buffer.baseAddress! + done, buffer.count - done)
                    if n < 0 {
                        if errno == EINTR { continue }
                        throw zip.error("cannot write temporary file \(destination): "
                            + String(cString: strerror(errno)), entry: entry)
                    }
                    done += n
                }
            }
        }
        isOpen = false
        guard Foundation.close(fd) == 0 else {
            throw zip.error("cannot write temporary file \(destination): " + String(cString: strerror(errno)),
                            entry: entry)
        }
    }

    private static func makePrivateDirectory(for path: String) throws -> String {
        var base = NSTemporaryDirectory()
        while base.count > 1 && base.hasSuffix("/") { base.removeLast() }
        var template = Array((base + "/rnnkit-keras-XXXXXX").utf8CString)
        let made: String? = template.withUnsafeMutableBufferPointer { buffer in
            guard let result = mkdtemp(buffer.baseAddress!) else { return nil }
            return String(cString: result)
        }
        guard let directory = made else {
            throw RNNKitError(.unreadable, "cannot create a temporary directory in \(base): "
                + String(cString: strerror(errno)), file: path)
        }
        chmod(directory, 0o700)  // mkdtemp already uses 0700; make it explicit whatever the umask
        return directory
    }

    private static func removeDirectory(_ directory: String) {
        try? FileManager.default.removeItem(atPath: directory)
    }
}

import Foundation
import ZIPFoundation

/// Builds a ZIP archive of stored (uncompressed) entries in memory with ZIPFoundation, the way
/// Keras writes `.keras` archives and `np.savez` writes `.npz` files. Reading is `ZipReader`'s;
/// this is the only other place that uses ZIPFoundation.
struct ZipWriter {
    /// The file the archive is for, named in errors.
    let path: String
    private let archive: Archive

    /// An empty archive, to be written to `path`.
    init(for path: String) throws {
        self.path = path
        do {
            archive = try Archive(accessMode: .create)
        } catch {
            throw RNNKitError(.badUsage, "cannot build the ZIP archive: \(error)", file: path)
        }
    }

    /// Appends a stored entry named `name` holding `contents`.
    func addStored(_ name: String, _ contents: Data) throws {
        do {
            try archive.addEntry(with: name, type: .file, uncompressedSize: Int64(contents.count),
                                 compressionMethod: .none) { position, size in
                let start = Int(position)
                return contents.subdata(in: start..<min(start + size, contents.count))
            }
        } catch {
            throw RNNKitError(.badUsage, "cannot build the ZIP archive: \(error)", file: path, location: oneLine(name))
        }
    }

    /// The archive's bytes.
    func data() throws -> Data {
        guard let data = archive.data else {
            throw RNNKitError(.badUsage, "cannot build the ZIP archive in memory", file: path)
        }
        return data
    }

    /// Writes an archive of `entries`, stored, in order, to `path` (which may already exist:
    /// callers give a fresh temporary file).
    static func write(entries: [(name: String, contents: Data)], to path: String) throws {
        let writer = try ZipWriter(for: path)
        for (name, contents) in entries { try writer.addStored(name, contents) }
        let data = try writer.data()
        do {
            try data.write(to: URL(fileURLWithPath: path))
        } catch {
            throw RNNKitError(.badUsage, "cannot write: \(error.localizedDescription)", file: path)
        }
    }
}

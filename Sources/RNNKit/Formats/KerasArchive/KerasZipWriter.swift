import Foundation
import ZIPFoundation

/// Writes a ZIP of stored (uncompressed) entries, as Keras writes `.keras` archives, with
/// ZIPFoundation. The archive is built in memory and then written to the path, which may already
/// exist (callers give a fresh temporary file); reading stays with `KerasZipReader`.
enum KerasZipWriter {
    static func write(entries: [(name: String, contents: Data)], to path: String) throws {
        let data: Data
        do {
            let archive = try Archive(accessMode: .create)
            for (name, contents) in entries {
                try archive.addEntry(with: name, type: .file, uncompressedSize: Int64(contents.count),
                                     compressionMethod: .none) { position, size in
                    let start = Int(position)
                    return contents.subdata(in: start..<min(start + size, contents.count))
                }
            }
            guard let built = archive.data else {
                throw RNNKitError(.badUsage, "cannot build the ZIP archive in memory", file: path)
            }
            data = built
        } catch let error as RNNKitError {
            throw error
        } catch {
            throw RNNKitError(.badUsage, "cannot build the ZIP archive: \(error)", file: path)
        }
        do {
            try data.write(to: URL(fileURLWithPath: path))
        } catch {
            throw RNNKitError(.badUsage, "cannot write: \(error.localizedDescription)", file: path)
        }
    }
}

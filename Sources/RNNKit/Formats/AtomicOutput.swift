import Foundation

/// Writing an output file so that nobody ever sees half of it: the content goes to a unique
/// temporary file in the same folder, is flushed to disk, and is renamed over the target. On
/// any error the temporary file is removed and an existing target is left as it was.
enum AtomicOutput {
    /// Calls `body` with a temporary path to write, then renames it to `path`. Refuses to
    /// replace an existing file unless `replacing`, and never writes over one of `inputs`.
    static func write(to path: String, replacing: Bool, inputs: [String], _ body: (String) throws -> Void) throws {
        let target = URL(fileURLWithPath: path)
        for input in inputs where sameFile(input, path) {
            throw RNNKitError(.badUsage, "the output is the input file \(input); choose another name", file: path)
        }
        if FileManager.default.fileExists(atPath: path) && !replacing {
            throw RNNKitError(.badUsage, "already exists; use --force to replace it", file: path)
        }
        let folder = target.deletingLastPathComponent().path
        var template = Array("\(folder)/.\(target.lastPathComponent).rnnkit-XXXXXX".utf8CString)
        let descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard descriptor >= 0 else {
            throw RNNKitError(.unreadable, "cannot create a file in \(folder): \(String(cString: strerror(errno)))",
                              file: path)
        }
        Foundation.close(descriptor)
        let temporary = String(cString: template)
        do {
            try body(temporary)
            try flushToDisk(temporary)
            guard rename(temporary, path) == 0 else {
                throw RNNKitError(.unreadable, "cannot rename into place: \(String(cString: strerror(errno)))",
                                  file: path)
            }
        } catch {
            unlink(temporary)
            if let error = error as? RNNKitError, error.file == temporary {
                throw RNNKitError(error.kind, error.message, file: path, location: error.location)
            }
            throw error
        }
    }

    private static func flushToDisk(_ path: String) throws {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw RNNKitError(.unreadable, "cannot reopen the written file", file: path) }
        defer { Foundation.close(descriptor) }
        guard fsync(descriptor) == 0 else {
            throw RNNKitError(.unreadable, "cannot flush to disk: \(String(cString: strerror(errno)))", file: path)
        }
    }

    /// Whether two paths name the same file (same device and inode), whatever their spelling.
    static func sameFile(_ first: String, _ second: String) -> Bool {
        var a = stat(), b = stat()
        guard stat(first, &a) == 0, stat(second, &b) == 0 else { return false }
        return a.st_dev == b.st_dev && a.st_ino == b.st_ino
    }
}

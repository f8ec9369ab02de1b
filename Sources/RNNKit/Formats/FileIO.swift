import Foundation

/// A regular file opened read-only, with its size. Never blocks on a FIFO or device.
final class ReadableFile {
    let path: String
    let size: UInt64
    private let fd: Int32

    init(path: String) throws {
        self.path = path
        let fd = Foundation.open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else {
            throw RNNKitError(.unreadable, "cannot open: \(String(cString: strerror(errno)))", file: path)
        }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let message = String(cString: strerror(errno))
            Foundation.close(fd)
            throw RNNKitError(.unreadable, "cannot stat: \(message)", file: path)
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            Foundation.close(fd)
            throw RNNKitError(.unreadable, "not a regular file", file: path)
        }
        self.fd = fd
        self.size = UInt64(max(0, info.st_size))
    }

    deinit { Foundation.close(fd) }

    /// `count` bytes from `offset`, mapped read-only: the page cache's copy, read as it is touched.
    /// The range must lie inside the file, and the file must not shrink while it is mapped (the
    /// readers that map never write it; another process truncating it would fault the reader).
    func map(at offset: UInt64, count: Int) throws -> PinnedBytes {
        guard offset <= size, UInt64(count) <= size - offset else {
            throw RNNKitError(.unreadable, "the file ended early (was it changed while being read?)", file: path)
        }
        guard count > 0 else { return PinnedBytes(allocating: 0) }
        let page = UInt64(sysconf(Int32(_SC_PAGESIZE)))
        let start = offset - offset % page
        let length = Int(offset - start) + count
        guard let address = mmap(nil, length, PROT_READ, MAP_PRIVATE, fd, off_t(start)), address != MAP_FAILED else {
            throw RNNKitError(.unreadable, "cannot map: \(String(cString: strerror(errno)))", file: path)
        }
        let bytes = UnsafeRawBufferPointer(start: address + Int(offset - start), count: count)
        return PinnedBytes(mapped: bytes, unmap: { munmap(address, length) })
    }

    /// Fills `buffer` from `offset`; fails if the file ends first (it changed while being read).
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws {
        var done = 0
        while done < buffer.count {
            let n = pread(fd, buffer.baseAddress! + done, buffer.count - done, off_t(offset) + off_t(done))
            if n < 0 {
                if errno == EINTR { continue }
                throw RNNKitError(.unreadable, "read error: \(String(cString: strerror(errno)))", file: path)
            }
            if n == 0 {
                throw RNNKitError(.unreadable, "the file ended early (was it changed while being read?)", file: path)
            }
            done += n
        }
    }

    /// The whole file, which must not exceed `maxBytes`; `what` names the kind for the message.
    func readAll(maxBytes: Int, what: String) throws -> [UInt8] {
        guard size <= UInt64(max(0, maxBytes)) else {
            throw RNNKitError(.unreadable, "\(what) file too large: \(size) bytes, the limit is \(maxBytes)",
                              file: path).lifted(by: .byteLimit(maxBytes))
        }
        var bytes = [UInt8](repeating: 0, count: Int(size))
        try bytes.withUnsafeMutableBytes { try read(into: $0, at: 0) }
        return bytes
    }

    /// Streams the file to `consumer` in chunks of at most `chunkSize` bytes.
    func stream(chunkSize: Int = 1 << 20, _ consumer: (UnsafeRawBufferPointer) throws -> Void) throws {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 16)
        defer { buffer.deallocate() }
        var offset: UInt64 = 0
        while offset < size {
            let n = Int(min(UInt64(chunkSize), size - offset))
            let part = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<n])
            try read(into: part, at: offset)
            try consumer(UnsafeRawBufferPointer(part))
            offset += UInt64(n)
        }
    }
}

/// Bytes at one address for as long as this object lives: what a C library that reads a buffer in
/// place (HDF5 opening a file image) needs, and what a Swift array does not promise. Either memory
/// allocated for them or a read-only mapping of part of a file (`ReadableFile.map`).
final class PinnedBytes: @unchecked Sendable {
    let bytes: UnsafeRawBufferPointer
    private let release: () -> Void
    /// Whether the bytes are a file's pages mapped in (`FileReader.map`), not memory of their own.
    private let isMapped: Bool

    /// `count` bytes of fresh memory, to be filled through `filling`.
    init(allocating count: Int) {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: count, alignment: 64)
        bytes = UnsafeRawBufferPointer(buffer)
        release = { buffer.deallocate() }
        isMapped = false
    }

    fileprivate init(mapped bytes: UnsafeRawBufferPointer, unmap: @escaping () -> Void) {
        self.bytes = bytes
        release = unmap
        isMapped = true
    }

    /// Drops the mapped pages read so far from this process's resident memory (the page cache
    /// keeps them; a later read maps them back): a reader that copies its data out as it goes
    /// holds the file's pages and its copies at once otherwise. Nothing for allocated bytes.
    func releaseResidentPages() {
        guard isMapped, let start = bytes.baseAddress else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let first = Int(bitPattern: start) / page * page
        let end = Int(bitPattern: start) + bytes.count
        _ = madvise(UnsafeMutableRawPointer(bitPattern: first), end - first, MADV_DONTNEED)
    }

    /// The bytes, writable: only for memory this object allocated, while it is being filled.
    var filling: UnsafeMutableRawBufferPointer { UnsafeMutableRawBufferPointer(mutating: bytes) }

    deinit { release() }
}

/// Atomic replacement of a file: write a temporary file beside it, fsync, rename over it.
/// Bytes written to a file, retrying short writes; errors name the file.
final class FileSink {
    private let fd: Int32
    /// The file's name in errors.
    let path: String

    private init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
    }

    /// Lets `body` write to the process's standard output, named `name` in errors.
    static func writeToStandardOutput(named name: String, _ body: (FileSink) throws -> Void) throws {
        try body(FileSink(fd: STDOUT_FILENO, path: name))
    }

    /// Creates (or truncates) `path` and lets `body` write it.
    static func write(to path: String, _ body: (FileSink) throws -> Void) throws {
        let fd = Foundation.open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0o666)
        guard fd >= 0 else {
            throw RNNKitError(.badUsage, "cannot write: \(String(cString: strerror(errno)))", file: path)
        }
        var closed = false
        defer { if !closed { Foundation.close(fd) } }
        try body(FileSink(fd: fd, path: path))
        closed = true
        guard Foundation.close(fd) == 0 else {
            throw RNNKitError(.badUsage, "cannot write: \(String(cString: strerror(errno)))", file: path)
        }
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        var done = 0
        while done < bytes.count {
            let n = Foundation.write(fd, bytes.baseAddress! + done, bytes.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                throw RNNKitError(.badUsage, "cannot write: \(String(cString: strerror(errno)))", file: path)
            }
            done += n
        }
    }

    /// Overwrites bytes already written at `offset` (a header fixed up at the end); the next
    /// `write` still appends.
    func write(_ bytes: [UInt8], at offset: Int) throws {
        var done = 0
        try bytes.withUnsafeBytes { raw in
            while done < raw.count {
                let n = pwrite(fd, raw.baseAddress! + done, raw.count - done, off_t(offset + done))
                if n < 0 {
                    if errno == EINTR { continue }
                    throw RNNKitError(.badUsage, "cannot write: \(String(cString: strerror(errno)))", file: path)
                }
                done += n
            }
        }
    }

    /// Whether `write(_:at:)` works: a regular file, not a pipe or terminal.
    var isSeekable: Bool {
        var info = stat()
        return fstat(fd, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
    }

    func write(_ data: Data) throws { try data.withUnsafeBytes { try write($0) } }
    func write(_ bytes: [UInt8]) throws { try bytes.withUnsafeBytes { try write($0) } }

    /// float32 scalars, little-endian whatever the machine.
    func writeLittleEndian(_ scalars: [Float]) throws {
        try withLittleEndianBytes(of: scalars) { try write($0) }
    }
}

/// The bytes of `scalars` as float32 little-endian, as every format RNNKit writes stores them,
/// while `body` runs: the array's own storage on a little-endian machine, no copy.
func withLittleEndianBytes<Result>(of scalars: [Float], _ body: (UnsafeRawBufferPointer) throws -> Result)
    rethrows -> Result {
    #if _endian(little)
    try scalars.withUnsafeBytes(body)
    #else
    try scalars.map { $0.bitPattern.littleEndian }.withUnsafeBytes(body)
    #endif
}

enum AtomicFile {
    /// Creates a unique temporary file in the folder of `path`, lets `body` fill it, flushes it to
    /// disk and renames it over `path`. On any error the temporary file is removed and `path` is
    /// left as it was.
    static func write(to path: String, _ body: (FileSink) throws -> Void) throws {
        try write(to: path, byPath: { temporary in try FileSink.write(to: temporary, body) })
    }

    /// The same, for writers that open the file themselves (libhdf5, the zip writer): `body`
    /// writes the file at the temporary path it is given. Without `replacing`, the finished file
    /// is put in place only if nothing has appeared at `path` meanwhile.
    static func write(to path: String, replacing: Bool = true,
                      byPath body: (_ temporaryPath: String) throws -> Void) throws {
        let folder = (path as NSString).deletingLastPathComponent
        let base = (path as NSString).lastPathComponent
        guard !base.isEmpty, base != ".", base != ".." else {
            throw RNNKitError(.badUsage, "not a file name", file: path)
        }
        let (fd, temporary) = try createTemporary(folder: folder, base: base, target: path)
        // A replaced file keeps its permission bits; a new one gets 0666 less the umask.
        var existing = stat()
        if stat(path, &existing) == 0, (existing.st_mode & S_IFMT) == S_IFREG {
            _ = fchmod(fd, existing.st_mode & 0o777)
        }
        Foundation.close(fd)
        var renamed = false
        defer { if !renamed { unlink(temporary) } }
        do {
            try body(temporary)
        } catch var error as RNNKitError where error.file == temporary {
            // Name the file the user asked for, never the temporary one.
            error.file = path
            throw error
        }
        try flushToDisk(temporary, target: path)
        // A hard link fails if anything is at `path`, atomically, where a check made before
        // writing could be overtaken; the deferred unlink then removes the temporary name.
        let linked = !replacing && link(temporary, path) == 0
        if !linked {
            if !replacing && errno == EEXIST { throw alreadyExists(path) }
            // Replacing, or no hard links on this file system: rename, after the policy check.
            guard rename(temporary, path) == 0 else {
                throw RNNKitError(.badUsage, "cannot replace the file: \(String(cString: strerror(errno)))",
                                  file: path)
            }
            renamed = true
        }
        // Make the rename itself durable; failure here does not undo a completed write.
        let dirfd = Foundation.open(folder.isEmpty ? "." : folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dirfd >= 0 {
            _ = fsync(dirfd)
            Foundation.close(dirfd)
        }
    }

    /// Output policy for every file RNNKit writes on request (models, predictions): an existing
    /// file is replaced only when asked, and an input file never, whatever path spells it (the
    /// same device and inode: links and `./` spellings included).
    static func write(to path: String, replacing: Bool, protecting inputs: [String],
                      byPath body: (_ temporaryPath: String) throws -> Void) throws {
        try checkPolicy(for: path, replacing: replacing, protecting: inputs)
        try write(to: path, replacing: replacing, byPath: body)
    }

    /// The same policy, for writers that fill a `FileSink`.
    static func write(to path: String, replacing: Bool, protecting inputs: [String],
                      _ body: (FileSink) throws -> Void) throws {
        try checkPolicy(for: path, replacing: replacing, protecting: inputs)
        try write(to: path, replacing: replacing, byPath: { temporary in try FileSink.write(to: temporary, body) })
    }

    static func checkPolicy(for path: String, replacing: Bool, protecting inputs: [String]) throws {
        for input in inputs where sameFile(input, path) {
            throw RNNKitError(.badUsage, "the output is the input file \(input); choose another name", file: path)
        }
        // lstat: a dangling symbolic link is an existing entry too, which the rename would replace.
        var entry = stat()
        if lstat(path, &entry) == 0 && !replacing { throw alreadyExists(path) }
    }

    private static func alreadyExists(_ path: String) -> RNNKitError {
        RNNKitError(.badUsage, "already exists, and replacing it was not asked for", file: path).lifted(by: .replacing)
    }

    /// Whether two paths name the same file (same device and inode).
    static func sameFile(_ first: String, _ second: String) -> Bool {
        var a = stat(), b = stat()
        guard stat(first, &a) == 0, stat(second, &b) == 0 else { return false }
        return a.st_dev == b.st_dev && a.st_ino == b.st_ino
    }

    /// fsync through a fresh descriptor: the writer may have replaced the file it was given.
    private static func flushToDisk(_ temporary: String, target: String) throws {
        let fd = Foundation.open(temporary, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0, fsync(fd) == 0 else {
            let message = String(cString: strerror(errno))
            if fd >= 0 { Foundation.close(fd) }
            throw RNNKitError(.badUsage, "cannot write: \(message)", file: target)
        }
        Foundation.close(fd)
    }

    /// The prefix of every temporary file name, after a dot: `.<name>.rnnkit-tmp-<random>`.
    static let marker = ".rnnkit-tmp-"

    private static func createTemporary(folder: String, base: String, target: String) throws -> (Int32, String) {
        // Keep the temporary name well under NAME_MAX (255 bytes) whatever the target's length.
        var stem = base
        while stem.utf8.count > 100 { stem.removeLast() }
        let directory = folder.isEmpty ? "" : (folder.hasSuffix("/") ? folder : folder + "/")
        for _ in 0..<32 {
            let random = String(UInt64.random(in: 0...UInt64.max), radix: 16)
            let temporary = directory + "." + stem + marker + random
            let fd = Foundation.open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o666)
            if fd >= 0 { return (fd, temporary) }
            if errno != EEXIST {
                throw RNNKitError(.badUsage, "cannot create a temporary file in "
                    + "\(folder.isEmpty ? "." : folder): \(String(cString: strerror(errno)))", file: target)
            }
        }
        throw RNNKitError(.badUsage, "cannot create a unique temporary file in \(folder.isEmpty ? "." : folder)",
                          file: target)
    }
}

/// Little-endian reads from a byte array at a base offset. Callers check bounds first.
struct LittleEndianBytes {
    let bytes: [UInt8]
    let base: Int
    init(_ bytes: [UInt8], base: Int) { self.bytes = bytes; self.base = base }
    func u16(_ at: Int) -> UInt16 { UInt16(bytes[base + at]) | UInt16(bytes[base + at + 1]) << 8 }
    func u32(_ at: Int) -> UInt32 { UInt32(u16(at)) | UInt32(u16(at + 2)) << 16 }
    func u64(_ at: Int) -> UInt64 { UInt64(u32(at)) | UInt64(u32(at + 4)) << 32 }
}

/// A file (or standard input) read front to back in pieces, for readers that stream: the bytes not
/// yet consumed stay in `buffer[start...]`; `fill` appends the next piece. Reads a named file only
/// if it is a regular file; `-` is standard input (a pipe or a terminal too).
final class SequentialInput {
    /// The file, `standard input` for `-`, for messages.
    let name: String
    /// Bytes read and not yet consumed are `buffer[start..<buffer.count]`.
    private(set) var buffer: [UInt8] = []
    private(set) var start = 0
    /// Whether the end of the input was reached.
    private(set) var atEnd = false
    /// Bytes consumed so far, and the file's size (nil for standard input), for progress.
    private(set) var consumed: UInt64 = 0
    let size: UInt64?
    private let fd: Int32
    private let owned: Bool
    let pieceSize: Int

    init(path: String, pieceSize: Int = 1 << 20) throws {
        self.pieceSize = pieceSize
        if path == "-" {
            name = "standard input"
            fd = STDIN_FILENO
            owned = false
            size = nil
            return
        }
        name = path
        let file = Foundation.open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard file >= 0 else {
            throw RNNKitError(.unreadable, "cannot open: \(String(cString: strerror(errno)))", file: path)
        }
        var info = stat()
        guard fstat(file, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            Foundation.close(file)
            throw RNNKitError(.unreadable, "not a regular file", file: path)
        }
        fd = file
        owned = true
        size = UInt64(max(0, info.st_size))
    }

    deinit { if owned { Foundation.close(fd) } }

    /// The unconsumed bytes.
    var pending: Int { buffer.count - start }

    /// Reads the next piece; false at the end of the input.
    @discardableResult
    func fill() throws -> Bool {
        guard !atEnd else { return false }
        if start > 0 && start >= buffer.count / 2 {
            buffer.removeSubrange(0..<start)
            start = 0
        }
        let old = buffer.count
        buffer.append(contentsOf: repeatElement(0, count: pieceSize))
        while true {
            let n = buffer.withUnsafeMutableBytes { Foundation.read(fd, $0.baseAddress! + old, pieceSize) }
            if n < 0 {
                if errno == EINTR { continue }
                let message = String(cString: strerror(errno))
                buffer.removeSubrange(old...)
                throw RNNKitError(.unreadable, "read error: \(message)", file: name)
            }
            buffer.removeSubrange((old + n)...)
            if n == 0 { atEnd = true }
            return n > 0
        }
    }

    /// Marks `count` pending bytes as consumed.
    func consume(_ count: Int) {
        start += count
        consumed += UInt64(count)
    }

    /// How much of a named file was consumed, 0...1 (nil for standard input).
    var fractionDone: Double? {
        guard let size, size > 0 else { return nil }
        return min(1, Double(consumed) / Double(size))
    }
}

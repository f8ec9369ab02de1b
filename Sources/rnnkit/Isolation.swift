import Foundation
import RNNKit

/// Runs each command that reads untrusted files in a child process (this same binary, marked by
/// an environment variable), because libhdf5 itself can crash, loop forever or allocate without
/// bound on corrupt files. While the child reads the model it runs under a time limit and a
/// memory limit taken from the files' real sizes (`withReadingBounds`). A child that dies by a
/// signal becomes a clean one-line error and exit status 2; otherwise the child's status is
/// passed on. Its output streams are the parent's own.
enum Isolation {
    static let childMarker = "RNNKIT_ISOLATED_CHILD"
    /// Written by the child on its standard error once the model files are read, and removed
    /// by the parent: a crash after it is RNNKit's own fault, not the file's.
    static let readingDoneMarker = Data("\u{1}rnnkit: model files read\n".utf8)

    static var isChild: Bool { ProcessInfo.processInfo.environment[childMarker] != nil }

    /// Re-runs the current command line in a child and returns its exit status.
    static func runInChild(reading model: ModelArguments) -> Int32 {
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/proc/self/exe")
        child.arguments = Array(CommandLine.arguments.dropFirst())
        var environment = ProcessInfo.processInfo.environment
        environment[childMarker] = "1"
        // A crash is reported by the parent in one line, not by Swift's backtracer.
        environment["SWIFT_BACKTRACE"] = "enable=no"
        // The child's standard error is a pipe: it draws progress on the terminal only if ours is one.
        if isatty(STDERR_FILENO) == 1 { environment[ProgressBar.environmentKey] = "1" }
        child.environment = environment
        // Held back until the child ends: a dying child's runtime report is replaced by one line.
        let errors = Pipe()
        child.standardError = errors
        do {
            try child.run()
        } catch {
            printError("cannot start a worker process: \(error.localizedDescription)")
            return 2
        }
        var errorOutput = errors.fileHandleForReading.readDataToEndOfFile()
        child.waitUntilExit()
        var readingDone = false  // a command may read the files more than once (bench)
        while let marker = errorOutput.range(of: readingDoneMarker) {
            errorOutput.removeSubrange(marker)
            readingDone = true
        }
        guard child.terminationReason == .uncaughtSignal else {
            FileHandle.standardError.write(errorOutput)
            return child.terminationStatus
        }
        printError(crashMessage(for: model.model, signal: child.terminationStatus, readingDone: readingDone,
                                output: errorOutput, seconds: ReadingBounds(for: model).seconds))
        return 2
    }

    /// The one line that replaces a child's death by `signal`.
    static func crashMessage(for path: String, signal: Int32, readingDone: Bool, output: Data, seconds: Int) -> String {
        switch signal {
        case SIGALRM:
            return "\(path): corrupt file: reading it did not finish within \(seconds) s"
        case SIGILL, SIGTRAP:
            // A Swift runtime check failed: a bug in RNNKit, whatever the file holds.
            let report = String(decoding: output, as: UTF8.self).split(separator: "\n")
                .first { $0.contains("Fatal error") }.map { ": " + $0 } ?? ""
            return "\(path): internal error in rnnkit while handling this file, please report it\(report)"
        case _ where readingDone:
            return "\(path): internal error in rnnkit after reading this file (signal \(signal)), please report it"
        default:
            return "\(path): corrupt file: reading it crashed the decoder (signal \(signal))"
        }
    }

    /// Runs `read` (the reading of the model files) under `ReadingBounds`; lifted afterwards, so
    /// that running the model is not bounded. Outside a child, just runs `read`.
    static func withReadingBounds<Result>(for model: ModelArguments, _ read: () throws -> Result) throws -> Result {
        guard isChild else { return try read() }
        let bounds = ReadingBounds(for: model)
        var saved = rlimit()
        getrlimit(Int32(RLIMIT_AS.rawValue), &saved)
        var bounded = saved
        if let current = ProcessMemory.value(of: "VmSize").map(UInt64.init) {  // what RLIMIT_AS bounds
            bounded.rlim_cur = rlim_t(min(UInt64(saved.rlim_cur), current + bounds.memory))
        }
        setrlimit(Int32(RLIMIT_AS.rawValue), &bounded)
        alarm(UInt32(bounds.seconds))
        defer {
            alarm(0)
            setrlimit(Int32(RLIMIT_AS.rawValue), &saved)
        }
        let result = try read()
        FileHandle.standardError.write(readingDoneMarker)
        return result
    }
}

/// How long and how much memory reading the model files may take: generous for a real file of
/// that size, tiny for a 6 KiB file that tells libhdf5 to allocate gigabytes.
struct ReadingBounds {
    /// Whole seconds: 4, plus one per 10 MB of input.
    let seconds: Int
    /// Bytes of address space beyond what the process had before reading: 256 MiB plus 8 times
    /// the files' size (compression, and the copies a reader makes), at most twice --max-bytes
    /// beyond that base; plus, for a JSON file, the tree its values can make, at most --max-bytes
    /// (the parser checks it before parsing; a value is at least 2 bytes of text).
    let memory: UInt64

    init(for model: ModelArguments) {
        func size(_ path: String) -> UInt64 {
            let attributes = try? FileManager.default.attributesOfItem(atPath: path)
            return min((attributes?[.size] as? UInt64) ?? 0, 1 << 50)
        }
        let total = model.files.reduce(UInt64(0)) { $0 + size($1) }
        let json = model.files.filter { (try? ModelFileKind.detect($0)) == .json }.reduce(UInt64(0)) { $0 + size($1) }
        seconds = 4 + Int(total / 10_000_000)
        let maxBytes = min(UInt64(max(0, model.maxBytes.value)), 1 << 60)
        memory = 256 << 20 + min(total * 8, maxBytes * 2) + min(json / 2 * UInt64(ReadLimits.jsonBytesPerValue), maxBytes)
    }
}

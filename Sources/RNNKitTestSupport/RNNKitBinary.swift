import Foundation
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// The built `rnnkit` binary, run as a user would: the one way every CLI test runs it.
public enum RNNKitBinary {
    /// How a run ended, what it printed, and what it cost.
    public struct Run {
        /// The exit status; -1 when a signal ended the process.
        public var status: Int32
        /// The signal that killed the process, if one did.
        public var signal: Int32?
        public var stdout: String
        public var stderr: String
        public var seconds: TimeInterval
        /// User and system time of rnnkit and the worker processes it waited for.
        public var processorSeconds: TimeInterval
        public var maxResidentKiB: Int
        public var timedOut: Bool
        /// Killed for going over `memoryLimitKiB` of resident memory.
        public var memoryExceeded: Bool

        /// One line for failure messages: how it ended and the start of stderr.
        public var outcome: String {
            if timedOut { return "timed out after \(Int(seconds)) s" }
            if memoryExceeded { return "killed above the memory limit after \(String(format: "%.1f", seconds)) s" }
            if let signal { return "killed by signal \(signal); stderr: \(stderr.prefix(300))" }
            return "exit \(status); stderr: \(stderr.prefix(500))"
        }
    }

    /// Children using more resident memory than this (with their descendants) are killed.
    public static let memoryLimitKiB = 1 << 20

    /// The binary: it sits beside the test bundle of `testCase` (on Linux the bundle URL may be
    /// that folder itself).
    public static func path(besides testCase: AnyClass) -> String {
        var products = Bundle(for: testCase).bundleURL
        if products.pathExtension == "xctest" { products.deleteLastPathComponent() }
        return products.appendingPathComponent("rnnkit").path
    }

    /// Runs `rnnkit` with `arguments` (standard input empty) and `environment` added to this
    /// process's, in its own process group, killed with its descendants after `timeout` seconds
    /// or above `memoryLimitKiB`.
    public static func run(_ arguments: [String], besides testCase: AnyClass, environment: [String: String] = [:],
                           timeout: TimeInterval = 60) throws -> Run {
        try ChildProcess.run(path(besides: testCase), arguments, environment: environment, timeout: timeout)
    }
}

/// Spawning and watching one child process.
enum ChildProcess {
    /// Runs `executable`. Its stdout and stderr are two pipes drained together as data arrives
    /// (poll), so that a child filling one pipe while the parent waits on the other cannot
    /// deadlock; time, peak memory (wait4's rusage) and the exit are watched meanwhile.
    static func run(_ executable: String, _ arguments: [String], environment extra: [String: String],
                    timeout: TimeInterval) throws -> RNNKitBinary.Run {
        var outPipe: [Int32] = [-1, -1], errPipe: [Int32] = [-1, -1]
        guard pipe(&outPipe) == 0, pipe(&errPipe) == 0 else { throw NSError(domain: "pipe", code: Int(errno)) }
        // Only the duplicates on 1 and 2 reach the child (Glibc does not offer pipe2).
        for descriptor in outPipe + errPipe { _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        // No Swift backtracer: a crash should show as a signal, quickly.
        var environment = ProcessInfo.processInfo.environment.merging(extra) { $1 }
        environment["SWIFT_BACKTRACE"] = "enable=no"
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { envp.forEach { free($0) } }
        // Its own process group, so that a timeout or runaway allocation stops its workers too.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
        posix_spawnattr_setpgroup(&attributes, 0)

        let start = Date()
        var pid = pid_t()
        let spawned = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        close(outPipe[1])
        close(errPipe[1])
        defer {
            close(outPipe[0])
            close(errPipe[0])
        }
        guard spawned == 0 else {
            throw NSError(domain: "posix_spawn", code: Int(spawned), userInfo: [NSLocalizedDescriptionKey: "cannot run \(executable)"])
        }
        var output = PipeReader(outPipe[0]), errors = PipeReader(errPipe[0])
        var status: Int32 = 0, usage = rusage()
        var exited = false, timedOut = false, memoryExceeded = false
        var polls = 0
        var exitTime = Date.distantFuture
        // Until the child is gone and both pipes are at their end (or, should a descendant keep
        // them open, two seconds after the child's exit).
        while !exited || (!(output.done && errors.done) && Date().timeIntervalSince(exitTime) < 2) {
            PipeReader.drain(&output, &errors, waitingMilliseconds: 2)
            guard !exited else { continue }
            let waited = wait4(pid, &status, WNOHANG, &usage)
            if waited == pid || (waited < 0 && errno != EINTR) {
                exited = true
                exitTime = Date()
                continue
            }
            polls += 1
            if Date().timeIntervalSince(start) > timeout {
                timedOut = true
            } else if polls % 5 == 0, residentKiB(of: [pid] + descendants(of: pid)) > RNNKitBinary.memoryLimitKiB {
                // A runaway allocation is stopped before it can hurt the machine running the tests.
                memoryExceeded = true
            }
            if timedOut || memoryExceeded {
                // The workers (in process groups of their own) first: once their parent is gone
                // they can no longer be found.
                for process in descendants(of: pid).reversed() { kill(process, SIGKILL) }
                kill(pid, SIGKILL)
                _ = wait4(pid, &status, 0, &usage)
                exited = true
                exitTime = Date()
            }
        }
        // WIFEXITED / WTERMSIG by hand: Swift does not import the macros.
        let signal = status & 0x7F
        return RNNKitBinary.Run(
            status: signal == 0 ? (status >> 8) & 0xFF : -1, signal: signal == 0 ? nil : signal,
            stdout: String(decoding: output.data, as: UTF8.self), stderr: String(decoding: errors.data, as: UTF8.self),
            seconds: Date().timeIntervalSince(start),
            processorSeconds: [usage.ru_utime, usage.ru_stime].reduce(0) { $0 + Double($1.tv_sec) + Double($1.tv_usec) / 1e6 },
            maxResidentKiB: Int(usage.ru_maxrss), timedOut: timedOut, memoryExceeded: memoryExceeded)
    }

    /// What has come out of one pipe so far.
    private struct PipeReader {
        let descriptor: Int32
        var data: [UInt8] = []
        var done = false

        init(_ descriptor: Int32) { self.descriptor = descriptor }

        /// Waits up to `waitingMilliseconds` for either pipe to have data, then reads what is there.
        static func drain(_ first: inout PipeReader, _ second: inout PipeReader, waitingMilliseconds: Int32) {
            var descriptors = [first, second].map { pollfd(fd: $0.done ? -1 : $0.descriptor, events: Int16(POLLIN), revents: 0) }
            guard poll(&descriptors, 2, waitingMilliseconds) > 0 else { return }
            if descriptors[0].revents != 0 { first.read() }
            if descriptors[1].revents != 0 { second.read() }
        }

        private mutating func read() {
            var buffer = [UInt8](repeating: 0, count: 65536)
            let count = buffer.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            if count > 0 { data += buffer[..<count] } else if count == 0 || errno != EINTR { done = true }
        }
    }

    /// The processes below `root` (children first, then theirs), from /proc.
    private static func descendants(of root: pid_t) -> [pid_t] {
        var parents: [pid_t: pid_t] = [:]
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = pid_t(entry),
                  let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { continue }
            // After "pid (comm)": state ppid ...
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 1, let parent = pid_t(fields[1]) { parents[pid] = parent }
        }
        var found: [pid_t] = []
        var frontier = [root]
        while !frontier.isEmpty {
            let children = parents.filter { frontier.contains($0.value) }.map(\.key)
            found += children
            frontier = children
        }
        return found
    }

    /// The resident memory of `processes`, from /proc (0 for those that are gone).
    private static func residentKiB(of processes: [pid_t]) -> Int {
        let pageKiB = Int(sysconf(Int32(_SC_PAGESIZE))) / 1024
        return processes.reduce(0) { total, pid in
            guard let statm = try? String(contentsOfFile: "/proc/\(pid)/statm", encoding: .utf8) else { return total }
            let pages = statm.split(separator: " ")
            return total + (pages.count > 1 ? (Int(pages[1]) ?? 0) * pageKiB : 0)
        }
    }
}

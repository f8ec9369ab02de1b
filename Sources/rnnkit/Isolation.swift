import Foundation

/// Runs each command that reads untrusted files in a child process (this same binary, marked by
/// an environment variable), because libhdf5 itself can crash on corrupt files. A child that
/// dies by a signal becomes a clean one-line error and exit status 2; otherwise the child's
/// status is passed on. Its output streams are the parent's own.
enum Isolation {
    static let childMarker = "RNNKIT_ISOLATED_CHILD"

    static var isChild: Bool { ProcessInfo.processInfo.environment[childMarker] != nil }

    /// Re-runs the current command line in a child and returns its exit status.
    static func runInChild(naming file: String) -> Int32 {
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/proc/self/exe")
        child.arguments = Array(CommandLine.arguments.dropFirst())
        var environment = ProcessInfo.processInfo.environment
        environment[childMarker] = "1"
        // A crash is reported by the parent in one line, not by Swift's backtracer.
        environment["SWIFT_BACKTRACE"] = "enable=no"
        child.environment = environment
        do {
            try child.run()
        } catch {
            printError("cannot start a worker process: \(error.localizedDescription)")
            return 2
        }
        child.waitUntilExit()
        guard child.terminationReason == .uncaughtSignal else { return child.terminationStatus }
        printError("\(file): corrupt file: reading it crashed the decoder (signal \(child.terminationStatus))")
        return 2
    }
}

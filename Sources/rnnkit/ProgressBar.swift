import Foundation
import RNNKit

/// Scoring progress on the terminal: a bar (or a count of rows when the input's size is unknown),
/// rows/s and the time left, redrawn at most ten times a second, then a closing line. Shown only
/// when the user's standard error is a terminal: the isolated child's standard error is a pipe,
/// so the parent says so (`RNNKIT_PROGRESS_TTY`) and the child draws on the terminal itself.
final class ProgressBar {
    static let environmentKey = "RNNKIT_PROGRESS_TTY"
    private let terminal: FileHandle
    private var lastDraw = 0.0

    /// Nil when standard error is not a terminal.
    init?() {
        if Isolation.isChild {
            guard ProcessInfo.processInfo.environment[Self.environmentKey] == "1" else { return nil }
            let fd = open("/dev/tty", O_WRONLY | O_NOCTTY | O_CLOEXEC)
            guard fd >= 0 else { return nil }
            terminal = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        } else {
            guard isatty(STDERR_FILENO) == 1 else { return nil }
            terminal = FileHandle.standardError
        }
    }

    func update(_ progress: BatchScorer.Progress) {
        guard progress.seconds - lastDraw >= 0.1 else { return }
        lastDraw = progress.seconds
        let rate = progress.seconds > 0 ? Double(progress.rows) / progress.seconds : 0
        var line = "\r"
        if let fraction = progress.fractionRead {
            let width = 30, filled = Int(fraction * Double(width))
            line += "[" + String(repeating: "#", count: filled) + String(repeating: " ", count: width - filled) + "] "
            line += String(format: "%3.0f%% ", fraction * 100)
            if fraction > 0 {
                line += String(format: "ETA %.0f s, ", progress.seconds * (1 - fraction) / fraction)
            }
        }
        line += "\(progress.rows) rows, \(Int(rate)) rows/s"
        if progress.skipped > 0 { line += ", \(progress.skipped) skipped" }
        terminal.write(Data((line + "\u{1B}[K").utf8))
    }

    /// The closing line: rows, seconds and throughput.
    func finish(_ progress: BatchScorer.Progress) {
        let rate = progress.seconds > 0 ? Double(progress.rows) / progress.seconds : 0
        let skipped = progress.skipped > 0 ? ", \(progress.skipped) skipped" : ""
        terminal.write(Data(String(format: "\r\u{1B}[Kscored %d rows in %.2f s (%.0f rows/s)%@\n",
                                   progress.rows, progress.seconds, rate, skipped).utf8))
    }
}

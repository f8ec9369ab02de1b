import Foundation

/// Linux's accounting of this process's memory, in /proc/self: the isolated reader bounds its
/// address space by it, the benchmark measures the load's peak with it.
enum ProcessMemory {
    /// Resets the peak resident size (VmHWM) to the current one; false where unsupported.
    static func resetPeak() -> Bool {
        (try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)) != nil
    }

    /// A `Vm…` line of /proc/self/status (`VmSize`, `VmRSS`, `VmHWM`), in bytes.
    static func value(of key: String) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix(key + ":") }),
              let kilobytes = Int(line.split(separator: " ").dropFirst().first ?? "")
        else { return nil }
        return kilobytes * 1024
    }
}

import Foundation
internal import CHDF5

/// Reads HDF5's error stack, which the library fills when a call fails (and, with automatic
/// printing switched off, would otherwise never show).
enum HDF5ErrorStack {
    /// One line describing the current error stack, then clears it.
    ///
    /// Like h5py: the description pushed by the API function, then in parentheses the most specific
    /// one, pushed where the problem was found, e.g. "unable to open file (truncated file: eof =
    /// 1024, sblock->base_addr = 0, stored_eof = 2048)". Must run inside `HDF5Library.locked`,
    /// straight after the failing call, before another call resets the stack.
    static func takeDescription() -> String {
        var descriptions: [String] = []
        withUnsafeMutablePointer(to: &descriptions) { collected in
            // Upward: from the most specific entry to the API function.
            _ = H5Ewalk2(rnnkit_H5E_DEFAULT(), H5E_WALK_UPWARD, { _, entry, collected in
                if let text = entry?.pointee.desc, let collected {
                    collected.assumingMemoryBound(to: [String].self).pointee.append(String(cString: text))
                }
                return 0
            }, collected)
        }
        H5Eclear2(rnnkit_H5E_DEFAULT())

        guard let specific = descriptions.first, let api = descriptions.last else {
            return "HDF5 reported no details"
        }
        let line = api == specific ? api : "\(api) (\(specific))"
        return line.replacingOccurrences(of: "\n", with: " ")
    }
}

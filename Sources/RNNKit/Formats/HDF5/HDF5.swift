import Foundation
internal import CHDF5

// A small wrapper over the HDF5 C API: HDF5File and HDF5Group (in their own files) are the only
// types the rest of RNNKit sees; identifiers (`hid_t`) never leave this folder.

/// The gate every libhdf5 call goes through.
///
/// A libhdf5 built without thread safety corrupts its global state when two threads are inside it
/// at once, so every C call runs inside `locked`, whose lock is recursive because locked
/// operations call other locked helpers (and deinits run while a lock is held). A thread-safe
/// build (Debian's) keeps the error stack, and its automatic printing, per thread: `locked`
/// switches the printing off on whichever thread calls.
enum HDF5Library {
    private static let lock = NSRecursiveLock()

    /// Initialises the library, once, before any other call, with filter plugins switched off:
    /// shared libraries HDF5 would otherwise load from disk when a file names a filter it does not
    /// know. Model files use none (Keras writes no filters; gzip is built in), and a file should
    /// not decide which code runs. These calls fail only if the library cannot start at all, and
    /// then every later call fails too and is reported, so their status is not checked here.
    private static let initialized: Void = {
        H5open()
        H5PLset_loading_state(0)
    }()

    static func locked<Result>(_ body: () throws -> Result) rethrows -> Result {
        lock.lock()
        defer { lock.unlock() }
        initialized
        // No automatic error printing: HDF5 would dump its whole error stack to stderr on every
        // failure; RNNKit reports failures itself, as thrown errors (see `HDF5ErrorStack`).
        H5Eset_auto2(rnnkit_H5E_DEFAULT(), nil, nil)
        return try body()
    }

    /// The loaded libhdf5's version as `major.minor.release`, from `H5get_libversion`.
    static var version: String {
        var major: UInt32 = 0, minor: UInt32 = 0, release: UInt32 = 0
        guard locked({ H5get_libversion(&major, &minor, &release) }) >= 0 else { return "unknown" }
        return "\(major).\(minor).\(release)"
    }
}

/// Where HDF5 calls are being made, so that a failure can name the file and the object in it.
struct HDF5Site {
    let file: String
    /// The HDF5 object path (`/model_weights/dense`), or nil for the file as a whole.
    let location: String?

    /// Returns `status` when it is not negative; otherwise throws `.unreadable` with the HDF5
    /// error stack's description. `action` completes "cannot …", e.g. "open the dataset".
    @discardableResult
    func check<Status: BinaryInteger>(_ status: Status, _ action: @autoclosure () -> String) throws -> Status {
        guard status >= 0 else {
            throw error(.unreadable, "cannot \(action()): \(HDF5ErrorStack.takeDescription())")
        }
        return status
    }

    /// Checks `id` as `check` does, runs `body` with it, and closes it with `close` afterwards
    /// whether or not `body` throws. The scoped form for identifiers that live within one call.
    func withID<Result>(
        _ id: hid_t, _ action: @autoclosure () -> String, closedBy close: (hid_t) -> herr_t,
        _ body: (hid_t) throws -> Result
    ) throws -> Result {
        try check(id, action())
        defer { _ = close(id) }
        return try body(id)
    }

    func error(_ kind: RNNKitError.Kind, _ message: String) -> RNNKitError {
        RNNKitError(kind, message, file: file, location: location)
    }
}

enum HDF5Path {
    /// The object path of `relativePath` below the group at `groupPath`.
    static func join(_ groupPath: String, _ relativePath: String) -> String {
        groupPath == "/" ? "/" + relativePath : groupPath + "/" + relativePath
    }

    /// The link names along `relativePath`, or nil when it is not a plain relative path.
    ///
    /// Empty parts (a leading, doubled or trailing "/") and "." are refused, as keras's
    /// `safe_get_h5_group` does: every part must name one link in one group, so that each link can
    /// be checked before it is followed.
    static func components(_ relativePath: String) -> [String]? {
        let parts = relativePath.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard !parts.isEmpty, parts.allSatisfy({ !$0.isEmpty && $0 != "." }) else { return nil }
        return parts
    }
}

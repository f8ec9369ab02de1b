internal import CHDF5

/// An open HDF5 file. The file is closed when the last reference to it (including the
/// `HDF5Group`s taken from it, which keep it alive) goes away.
final class HDF5File {
    let path: String
    private let id: hid_t
    /// The bytes of a file opened in memory, which HDF5 reads in place until the file closes.
    private let image: PinnedBytes?
    /// The root group, open for as long as the file is, so that `root` cannot fail.
    private let rootID: hid_t

    /// Takes ownership of the open file `id` and opens its root group; if this throws, `id` has
    /// been closed.
    private init(path: String, id: hid_t, image: PinnedBytes? = nil) throws {
        let site = HDF5Site(file: path, location: nil)
        let rootID = H5Gopen2(id, "/", rnnkit_H5P_DEFAULT())
        guard rootID >= 0 else {
            let error = site.error(.unreadable, "cannot open the root group: \(HDF5ErrorStack.takeDescription())")
            H5Fclose(id)
            throw error
        }
        self.path = path
        self.id = id
        self.rootID = rootID
        self.image = image
    }

    deinit {
        HDF5Library.locked {
            H5Gclose(rootID)
            H5Fclose(id)
        }
    }

    /// Opens an existing file read-only.
    ///
    /// The HDF5 signature is checked first, so that any other kind of file is reported as
    /// "not an HDF5 file" rather than with HDF5's lower-level complaint.
    static func open(_ path: String) throws -> HDF5File {
        try HDF5Library.locked {
            let site = HDF5Site(file: path, location: nil)
            guard try site.check(H5Fis_hdf5(path), "read the file") > 0 else {
                throw site.error(.unreadable, "not an HDF5 file")
            }
            let id = try site.check(
                H5Fopen(path, rnnkit_H5F_ACC_RDONLY(), rnnkit_H5P_DEFAULT()), "open the file")
            return try HDF5File(path: path, id: id)
        }
    }

    /// Opens the HDF5 file whose bytes are `image`, read-only and in place (no copy); `name` names
    /// it in errors. `image` stays alive as long as the file does.
    static func open(image: PinnedBytes, name: String) throws -> HDF5File {
        try HDF5Library.locked {
            let site = HDF5Site(file: name, location: nil)
            guard image.bytes.starts(with: signature) else { throw site.error(.unreadable, "not an HDF5 file") }
            let id = try site.check(
                // Read-only: HDF5 never writes through this pointer.
                H5LTopen_file_image(UnsafeMutableRawPointer(mutating: image.bytes.baseAddress), image.bytes.count,
                                    rnnkit_H5LT_FILE_IMAGE_IN_PLACE()),
                "open the file")
            return try HDF5File(path: name, id: id, image: image)
        }
    }

    /// After `byteCount` bytes of a dataset are copied out of a mapped image: once 16 MB have been,
    /// the image's pages leave the resident memory, so that loading a `.keras` archive holds about
    /// the weights once, not the archive's pages too (at most one release per 16 MB read).
    func releaseImagePages(after byteCount: Int) {
        guard let image else { return }
        copiedSinceRelease += byteCount
        guard copiedSinceRelease >= 16 << 20 else { return }
        copiedSinceRelease = 0
        image.releaseResidentPages()
    }

    /// Dataset bytes copied out of the image since its pages were last released.
    private var copiedSinceRelease = 0

    /// The 8 bytes an HDF5 file starts with (when it has no user block, as Keras's never do).
    private static let signature: [UInt8] = [0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A]

    /// Creates a file for writing, replacing any file at `path`.
    ///
    /// Call `flush()` when done writing: a failure to write the data out is reported there, while
    /// closing (when the last reference goes) cannot report anything.
    static func create(_ path: String) throws -> HDF5File {
        try HDF5Library.locked {
            let site = HDF5Site(file: path, location: nil)
            let id = try site.check(
                H5Fcreate(path, rnnkit_H5F_ACC_TRUNC(), rnnkit_H5P_DEFAULT(), rnnkit_H5P_DEFAULT()),
                "create the file")
            return try HDF5File(path: path, id: id)
        }
    }

    /// The root group, "/".
    var root: HDF5Group {
        HDF5Library.locked {
            // Every HDF5Group closes its id once, so each one handed out gets its own reference.
            H5Iinc_ref(rootID)
            return HDF5Group(file: self, id: rootID, path: "/")
        }
    }

    /// Runs `body` with this file. The file closes when `body` returns, unless `body` kept a
    /// reference to it or to one of its groups.
    func withOpen<Result>(_ body: (HDF5File) throws -> Result) rethrows -> Result {
        try withExtendedLifetime(self) { try body(self) }
    }

    /// The file's size in bytes: the bound for every size a reader trusts from the file.
    ///
    /// HDF5 reports the larger of the bytes on disk and the end of the space the file's metadata
    /// claims; it refuses to open a file whose claimed end lies past the bytes on disk ("truncated
    /// file"), so for a file being read this is its size on disk.
    var fileSize: Int {
        get throws {
            try HDF5Library.locked {
                var size: hsize_t = 0
                try site(nil).check(H5Fget_filesize(id, &size), "get the file size")
                return Int(clamping: size)
            }
        }
    }

    /// Writes everything written so far out to disk.
    func flush() throws {
        try HDF5Library.locked {
            _ = try site(nil).check(H5Fflush(id, H5F_SCOPE_GLOBAL), "write the file")
        }
    }

    func site(_ location: String?) -> HDF5Site {
        HDF5Site(file: path, location: location)
    }
}

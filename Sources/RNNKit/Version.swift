internal import CHDF5
internal import CJSONC

/// The versions of RNNKit and of the C libraries it runs with. The libraries are asked at run
/// time, so these are the ones actually loaded, which may differ from the headers RNNKit was
/// built against.
public enum RNNKitVersion {
    /// RNNKit's own version.
    public static let rnnkit = "0.1.0"

    /// libhdf5's version as `major.minor.release`, from `H5get_libversion`.
    public static var hdf5: String {
        var major: UInt32 = 0, minor: UInt32 = 0, release: UInt32 = 0
        guard H5get_libversion(&major, &minor, &release) >= 0 else { return "unknown" }
        return "\(major).\(minor).\(release)"
    }

    /// json-c's version, from `json_c_version()`.
    public static var jsonC: String { String(cString: json_c_version()) }

    /// One line per component: "RNNKit 0.1.0", "HDF5 1.10.8", "json-c 0.16".
    public static var description: String {
        "RNNKit \(rnnkit)\nHDF5 \(hdf5)\njson-c \(jsonC)"
    }
}
